//! float4/float8 text: RisingWave's shortest round-trip rendering, Postgres' `%g` rendering for
//! `extra_float_digits <= 0`, and Postgres' float input.

use super::{invalid, syntax_error};
use crate::error::Result;
use crate::types::DataType;

/// Where plain notation gives way to an exponent: RisingWave prints floats with `ryu`, which uses
/// plain notation while the position of the decimal point `kk` (value = 0.DIGITS * 10^kk) is in
/// `(min, max]`.
struct Layout {
    max_point: i32,
    min_point: i32,
}

const F64_LAYOUT: Layout = Layout { max_point: 16, min_point: -5 };
const F32_LAYOUT: Layout = Layout { max_point: 13, min_point: -6 };

pub(crate) fn write_f64(v: f64, extra_float_digits: i32, out: &mut String) {
    if write_special(v.is_nan(), v.is_infinite(), v.is_sign_negative(), out) {
        return;
    }
    if extra_float_digits > 0 {
        write_shortest(&format!("{v:e}"), &F64_LAYOUT, out);
    } else {
        write_g(v, (15 + extra_float_digits).max(1) as usize, out);
    }
}

pub(crate) fn write_f32(v: f32, extra_float_digits: i32, out: &mut String) {
    if write_special(v.is_nan(), v.is_infinite(), v.is_sign_negative(), out) {
        return;
    }
    if extra_float_digits > 0 {
        write_shortest(&format!("{v:e}"), &F32_LAYOUT, out);
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

/// Splits Rust's `{:e}` rendering (`-1.5e-5`) into sign, digits without point, and exponent.
fn split_sci(sci: &str) -> (bool, String, i32) {
    let (neg, rest) = match sci.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, sci),
    };
    let (mantissa, exp) = rest.split_once('e').unwrap_or((rest, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (neg, digits, exp.parse().unwrap_or(0))
}

fn write_shortest(sci: &str, layout: &Layout, out: &mut String) {
    let (neg, digits, exp) = split_sci(sci);
    if neg {
        out.push('-');
    }
    let len = digits.len() as i32;
    let point = exp + 1;
    if point >= len && point <= layout.max_point {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (point - len) as usize));
    } else if point > 0 && point <= layout.max_point {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    } else if point > layout.min_point && point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if len > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        write_exponent(exp, out);
    }
}

/// C's `%.{precision}g`, as Postgres' float8out uses for `extra_float_digits <= 0`.
fn write_g(v: f64, precision: usize, out: &mut String) {
    let sci = format!("{:.*e}", precision - 1, v);
    let (_, _, exp) = split_sci(&sci);
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
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { s }
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
