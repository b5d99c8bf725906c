//! Parameter input for non-array types (text and binary), and the small scalar formats.

use std::sync::Arc;

use arrow::datatypes::IntervalMonthDayNano;
use datafusion::scalar::ScalarValue;

use super::numeric::{arrow_precision_scale, Numeric};
use super::{datetime, interval, invalid, syntax_error, FormatOptions};
use crate::error::{CommonError, Result};
use crate::types::{DataType, TIMESTAMPTZ_ARROW_TZ};

pub(crate) fn parse_text_scalar(s: &str, ty: &DataType, opts: &FormatOptions) -> Result<ScalarValue> {
    Ok(match ty {
        DataType::Boolean => ScalarValue::Boolean(Some(parse_bool(s)?)),
        DataType::Int16 => ScalarValue::Int16(Some(parse_int(s, ty)? as i16)),
        DataType::Int32 => ScalarValue::Int32(Some(parse_int(s, ty)? as i32)),
        DataType::Int64 => ScalarValue::Int64(Some(parse_int(s, ty)?)),
        DataType::Float32 => ScalarValue::Float32(Some(super::float::parse_float(s, ty)? as f32)),
        DataType::Float64 => ScalarValue::Float64(Some(super::float::parse_float(s, ty)?)),
        DataType::Decimal { .. } => decimal_scalar(&Numeric::parse(s, ty)?, ty)?,
        DataType::Varchar => {
            reject_nul(s.as_bytes())?;
            ScalarValue::Utf8(Some(s.to_owned()))
        }
        DataType::Jsonb => ScalarValue::LargeUtf8(Some(super::normalize_jsonb(s)?)),
        DataType::Bytea => ScalarValue::Binary(Some(parse_bytea(s)?)),
        DataType::Date => ScalarValue::Date32(Some(datetime::parse_date(s, &opts.timezone)?)),
        DataType::Time => ScalarValue::Time64Microsecond(Some(datetime::parse_time(s)?)),
        DataType::Timestamp => {
            ScalarValue::TimestampMicrosecond(Some(datetime::parse_timestamp(s, &opts.timezone)?), None)
        }
        DataType::Timestamptz => timestamptz_scalar(datetime::parse_timestamptz(s, &opts.timezone)?),
        DataType::Interval => interval_scalar(interval::parse_interval(s)?),
        DataType::List(elem) => return super::array::parse_text_array(s, elem, opts),
        DataType::Struct(_) => return super::record::parse_text_record(s, ty, opts),
    })
}

pub(crate) fn parse_binary_scalar(b: &[u8], ty: &DataType) -> Result<ScalarValue> {
    Ok(match ty {
        DataType::Boolean => ScalarValue::Boolean(Some(fixed::<1>(b, ty)?[0] != 0)),
        DataType::Int16 => ScalarValue::Int16(Some(read_int(b, ty)? as i16)),
        DataType::Int32 => ScalarValue::Int32(Some(read_int(b, ty)? as i32)),
        DataType::Int64 => ScalarValue::Int64(Some(read_int(b, ty)?)),
        DataType::Float32 => ScalarValue::Float32(Some(read_float(b, ty)? as f32)),
        DataType::Float64 => ScalarValue::Float64(Some(read_float(b, ty)?)),
        DataType::Decimal { .. } => decimal_scalar(&Numeric::read_binary(b)?, ty)?,
        DataType::Varchar => ScalarValue::Utf8(Some(utf8(b)?.to_owned())),
        DataType::Jsonb => {
            let (version, text) = b.split_first().ok_or_else(|| insufficient(ty))?;
            if *version != 1 {
                return Err(invalid(format!("unsupported jsonb version number {version}")));
            }
            ScalarValue::LargeUtf8(Some(super::normalize_jsonb(utf8(text)?)?))
        }
        DataType::Bytea => ScalarValue::Binary(Some(b.to_vec())),
        DataType::Date => {
            let days = i32::from_be_bytes(fixed::<4>(b, ty)?);
            ScalarValue::Date32(Some(datetime::read_date_binary(days)?))
        }
        DataType::Time => {
            let micros = i64::from_be_bytes(fixed::<8>(b, ty)?);
            ScalarValue::Time64Microsecond(Some(datetime::read_time_binary(micros)?))
        }
        DataType::Timestamp => {
            let micros = datetime::read_timestamp_binary(i64::from_be_bytes(fixed::<8>(b, ty)?))?;
            ScalarValue::TimestampMicrosecond(Some(micros), None)
        }
        DataType::Timestamptz => {
            timestamptz_scalar(datetime::read_timestamp_binary(i64::from_be_bytes(fixed::<8>(b, ty)?))?)
        }
        DataType::Interval => {
            let raw = fixed::<16>(b, ty)?;
            let micros = i64::from_be_bytes([raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7]]);
            let days = i32::from_be_bytes([raw[8], raw[9], raw[10], raw[11]]);
            let months = i32::from_be_bytes([raw[12], raw[13], raw[14], raw[15]]);
            interval_scalar(interval::read_interval_binary(micros, days, months)?)
        }
        DataType::List(elem) => return super::array::parse_binary_array(b, elem),
        DataType::Struct(_) => return Err(invalid(format!("binary input of {ty} values is not supported"))),
    })
}

fn timestamptz_scalar(micros: i64) -> ScalarValue {
    ScalarValue::TimestampMicrosecond(Some(micros), Some(Arc::from(TIMESTAMPTZ_ARROW_TZ)))
}

fn interval_scalar(iv: interval::Interval) -> ScalarValue {
    ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(iv.months, iv.days, iv.nanos)))
}

fn decimal_scalar(n: &Numeric, ty: &DataType) -> Result<ScalarValue> {
    let (precision, scale) = arrow_precision_scale(ty);
    Ok(ScalarValue::Decimal128(Some(n.to_decimal128(precision, scale)?), precision, scale))
}

fn insufficient(ty: &DataType) -> CommonError {
    invalid(format!("insufficient data left in message for type {ty}"))
}

/// Exactly `N` bytes, as the fixed-width recv functions require.
fn fixed<const N: usize>(b: &[u8], ty: &DataType) -> Result<[u8; N]> {
    if b.len() < N {
        return Err(insufficient(ty));
    }
    b.try_into().map_err(|_| invalid(format!("incorrect binary data format for type {ty}: {} bytes", b.len())))
}

fn utf8(b: &[u8]) -> Result<&str> {
    reject_nul(b)?;
    std::str::from_utf8(b).map_err(|e| {
        let at = e.valid_up_to();
        let bad: Vec<String> = b[at..].iter().take(e.error_len().unwrap_or(1)).map(|x| format!("0x{x:02x}")).collect();
        invalid(format!("invalid byte sequence for encoding \"UTF8\": {}", bad.join(" ")))
    })
}

/// Postgres text cannot hold NUL.
fn reject_nul(b: &[u8]) -> Result<()> {
    if b.contains(&0) {
        return Err(invalid("invalid byte sequence for encoding \"UTF8\": 0x00"));
    }
    Ok(())
}

/// Postgres boolin: trimmed, case-insensitive, any unambiguous prefix of true/false/yes/no, on/off
/// (at least two letters), 1/0.
pub(crate) fn parse_bool(input: &str) -> Result<bool> {
    let s = input.trim_matches(|c: char| c.is_ascii_whitespace()).to_ascii_lowercase();
    let prefix_of = |word: &str| !s.is_empty() && word.starts_with(s.as_str());
    let value = match s.as_bytes().first() {
        Some(b't') if prefix_of("true") => Some(true),
        Some(b'y') if prefix_of("yes") => Some(true),
        Some(b'f') if prefix_of("false") => Some(false),
        Some(b'n') if prefix_of("no") => Some(false),
        Some(b'o') if s.len() >= 2 && prefix_of("on") => Some(true),
        Some(b'o') if s.len() >= 2 && prefix_of("off") => Some(false),
        Some(b'1') if s.len() == 1 => Some(true),
        Some(b'0') if s.len() == 1 => Some(false),
        _ => None,
    };
    value.ok_or_else(|| syntax_error(&DataType::Boolean, input))
}

fn int_range(ty: &DataType) -> (i64, i64) {
    match ty {
        DataType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        DataType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        _ => (i64::MIN, i64::MAX),
    }
}

/// Postgres int2in/int4in/int8in: surrounding whitespace, optional sign, decimal digits.
pub(crate) fn parse_int(input: &str, ty: &DataType) -> Result<i64> {
    let s = input.trim_matches(|c: char| c.is_ascii_whitespace());
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax_error(ty, input));
    }
    let out_of_range = || invalid(format!("value \"{input}\" is out of range for type {ty}"));
    let v: i64 = s.parse().map_err(|_| out_of_range())?;
    let (min, max) = int_range(ty);
    if v < min || v > max {
        return Err(out_of_range());
    }
    Ok(v)
}

/// Integers in 2, 4 or 8 bytes: Postgres insists on the exact width, but clients sometimes bind
/// an int4 where the server inferred int8, and the widths cannot be confused with each other.
fn read_int(b: &[u8], ty: &DataType) -> Result<i64> {
    let v = match b.len() {
        2 => i64::from(i16::from_be_bytes([b[0], b[1]])),
        4 => i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        8 => i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        n if n < 2 => return Err(insufficient(ty)),
        n => return Err(invalid(format!("incorrect binary data format for type {ty}: {n} bytes"))),
    };
    let (min, max) = int_range(ty);
    if v < min || v > max {
        return Err(invalid(format!("{ty} out of range")));
    }
    Ok(v)
}

/// float4 or float8 bytes for either float type, for the same reason as [`read_int`].
fn read_float(b: &[u8], ty: &DataType) -> Result<f64> {
    match b.len() {
        4 => Ok(f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]]))),
        8 => Ok(f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])),
        n if n < 4 => Err(insufficient(ty)),
        n => Err(invalid(format!("incorrect binary data format for type {ty}: {n} bytes"))),
    }
}

/// An integer in the width of `ty` (a wider Arrow array may hold values the type cannot).
pub(crate) fn write_int_binary(v: i128, ty: &DataType, out: &mut Vec<u8>) -> Result<()> {
    let out_of_range = || invalid(format!("{ty} out of range"));
    match ty {
        DataType::Int16 => out.extend_from_slice(&i16::try_from(v).map_err(|_| out_of_range())?.to_be_bytes()),
        DataType::Int32 => out.extend_from_slice(&i32::try_from(v).map_err(|_| out_of_range())?.to_be_bytes()),
        _ => out.extend_from_slice(&i64::try_from(v).map_err(|_| out_of_range())?.to_be_bytes()),
    }
    Ok(())
}

pub(crate) fn write_bytea_hex(b: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(2 + b.len() * 2);
    out.push_str("\\x");
    for byte in b {
        out.push(HEX[(byte >> 4) as usize] as char);
        out.push(HEX[(byte & 0xf) as usize] as char);
    }
}

/// Postgres byteain: `\x` hex (whitespace allowed between byte pairs), or the escape format
/// where `\\` is a backslash and `\nnn` an octal byte.
pub(crate) fn parse_bytea(s: &str) -> Result<Vec<u8>> {
    let b = s.as_bytes();
    if let Some(hex) = s.strip_prefix("\\x").or_else(|| s.strip_prefix("\\X")) {
        let mut out = Vec::with_capacity(hex.len() / 2);
        let mut chars = hex.chars().filter(|c| !c.is_ascii_whitespace());
        while let Some(hi) = chars.next() {
            let hi_v = hi.to_digit(16).ok_or_else(|| invalid(format!("invalid hexadecimal digit: \"{hi}\"")))?;
            let lo = chars.next().ok_or_else(|| invalid("invalid hexadecimal data: odd number of digits"))?;
            let lo_v = lo.to_digit(16).ok_or_else(|| invalid(format!("invalid hexadecimal digit: \"{lo}\"")))?;
            out.push((hi_v * 16 + lo_v) as u8);
        }
        return Ok(out);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
        } else if b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else if let Some(oct) = b
            .get(i + 1..i + 4)
            .filter(|o| (b'0'..=b'3').contains(&o[0]) && o[1..].iter().all(|c| (b'0'..=b'7').contains(c)))
        {
            out.push((oct[0] - b'0') * 64 + (oct[1] - b'0') * 8 + (oct[2] - b'0'));
            i += 4;
        } else {
            return Err(invalid("invalid input syntax for type bytea"));
        }
    }
    Ok(out)
}
