//! float4/float8 text: RisingWave's shortest round-trip rendering, Postgres' `%g` rendering for
//! `extra_float_digits <= 0`, and Postgres' float input.
//!
//! RisingWave prints floats with `ryu`, whose layout is plain notation while the decimal point
//! stays within 16 (float8) or 13 (float4) digits left of the first digit and 5 (6) zeros right
//! of it, where Postgres switches to an exponent beyond 15 (6) digits or below 1e-4.

use super::{invalid, syntax_error};
use crate::error::Result;
use crate::types::DataType;

pub(crate) fn write_f64(v: f64, extra_float_digits: i32, out: &mut String) {
    if write_special(v.is_nan(), v.is_infinite(), v.is_sign_negative(), out) {
        return;
    }
    if extra_float_digits > 0 {
        write_shortest(ryu::Buffer::new().format_finite(v), out);
    } else {
        write_g(v, (15 + extra_float_digits).max(1) as usize, out);
    }
}

pub(crate) fn write_f32(v: f32, extra_float_digits: i32, out: &mut String) {
    if write_special(v.is_nan(), v.is_infinite(), v.is_sign_negative(), out) {
        return;
    }
    if extra_float_digits > 0 {
        write_shortest(ryu::Buffer::new().format_finite(v), out);
    } else {
        write_g(f64::from(v), (6 + extra_float_digits).max(1) as usize, out);
    }
}

fn write_special(nan: bool, inf: bool, neg: bool, out: &mut String) -> bool {
    if nan {
        out.push_str("NaN");
    } else if inf {
        out.push_str(if neg { "-Infinity" } else { "Infinity" });
    } else {
        return false;
    }
    true
}

/// A JSON number that is not an integer, as RisingWave's jsonb prints it (`3.0`, `1e20`).
pub(crate) fn json_f64(v: f64) -> String {
    ryu::Buffer::new().format_finite(v).to_owned()
}

/// RisingWave's float text, which is ryu's shortest round-trip digits (not std's: the two differ
/// at rounding ties, e.g. float4 `-388827.12`) in ryu's layout, without a trailing `.0` and with
/// a C-style exponent (`1e+20`, `1e-07`).
fn write_shortest(ryu: &str, out: &mut String) {
    match ryu.split_once('e') {
        Some((mantissa, exp)) => {
            out.push_str(mantissa);
            write_exponent(exp.parse().unwrap_or(0), out);
        }
        None => out.push_str(ryu.strip_suffix(".0").unwrap_or(ryu)),
    }
}

/// C's `%.{precision}g`, as Postgres' float8out uses for `extra_float_digits <= 0`.
fn write_g(v: f64, precision: usize, out: &mut String) {
    let sci = format!("{:.*e}", precision - 1, v);
    let exp: i32 = sci.rsplit_once('e').and_then(|(_, e)| e.parse().ok()).unwrap_or(0);
    if exp < -4 || exp >= precision as i32 {
        let (mantissa, _) = sci.split_once('e').unwrap_or((&sci, ""));
        out.push_str(trim_fraction_zeros(mantissa));
        write_exponent(exp, out);
    } else {
        let fixed = format!("{:.*}", (precision as i32 - 1 - exp).max(0) as usize, v);
        out.push_str(trim_fraction_zeros(&fixed));
    }
}

fn trim_fraction_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// C's exponent style: sign always, at least two digits.
fn write_exponent(exp: i32, out: &mut String) {
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let abs = exp.unsigned_abs();
    if abs < 10 {
        out.push('0');
    }
    out.push_str(&abs.to_string());
}

/// Postgres float4in/float8in: surrounding whitespace, `NaN`, `[+-]Infinity`/`inf`, decimal and
/// exponent forms; values that overflow, or underflow to zero, are out of range.
pub(crate) fn parse_float(input: &str, ty: &DataType) -> Result<f64> {
    let s = input.trim_matches(|c: char| c.is_ascii_whitespace());
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    let neg = lower.starts_with('-');
    match unsigned {
        "nan" if lower.len() - unsigned.len() <= 1 => return Ok(f64::NAN),
        "inf" | "infinity" if lower.len() - unsigned.len() <= 1 => {
            return Ok(if neg { f64::NEG_INFINITY } else { f64::INFINITY });
        }
        _ => {}
    }
    // Rust's float grammar also takes these words; Postgres only takes the forms handled above.
    if unsigned.starts_with(['i', 'n']) || !s.bytes().all(|b| b.is_ascii_digit() || b".+-eE".contains(&b)) {
        return Err(syntax_error(ty, input));
    }
    let out_of_range = || invalid(format!("\"{input}\" is out of range for type {ty}"));
    let nonzero_mantissa = || s.split(['e', 'E']).next().is_some_and(|m| m.bytes().any(|b| (b'1'..=b'9').contains(&b)));
    if matches!(ty, DataType::Float32) {
        let v: f32 = s.parse().map_err(|_| syntax_error(ty, input))?;
        if v.is_infinite() || (v == 0.0 && nonzero_mantissa()) {
            return Err(out_of_range());
        }
        Ok(f64::from(v))
    } else {
        let v: f64 = s.parse().map_err(|_| syntax_error(ty, input))?;
        if v.is_infinite() || (v == 0.0 && nonzero_mantissa()) {
            return Err(out_of_range());
        }
        Ok(v)
    }
}
