//! Postgres wire values: renders Arrow values in the Postgres text and binary formats, and parses
//! the parameters clients send in Bind back into DataFusion scalars.
//!
//! Text rendering follows RisingWave where it differs from Postgres, because the compatibility
//! suites compare strings with what RisingWave prints:
//! - timestamptz prints in the session zone with a `+HH:MM` offset (`2021-01-01 08:00:00+08:00`);
//! - fractional seconds of time/timestamp/timestamptz print 3, 6 or 9 digits (`10:13:36.070`), the
//!   way chrono prints them, where Postgres would trim (`10:13:36.07`);
//! - floats print the shortest round-trip digits laid out the way `ryu` does (plain notation for
//!   decimal exponents in [-5, 16) for float8 and [-6, 13) for float4), with a Postgres-style
//!   exponent (`1e+20`, `1e-07`);
//! - BC dates put ` BC` at the very end (`0001-01-01 01:01:01+00:00 BC`).
//!
//! Everything else (intervals, arrays, bytea, numeric, the binary formats) is Postgres'.
//!
//! Arrays handed in may be of any Arrow flavour DataFusion produces: values are read by value,
//! guided by the SQL type, and converted to an internal `Value` first, so the renderers only deal
//! with one representation per SQL type.

mod array;
mod datetime;
mod extract;
mod float;
mod interval;
mod jsonb;
mod numeric;
mod record;
mod scalar;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use arrow::array::{new_empty_array, Array, ArrayRef, ListArray};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::Field;
use datafusion::scalar::ScalarValue;

pub use datetime::parse_timezone;
pub use jsonb::normalize_jsonb;
pub use record::{split_record, write_record_field};

use crate::error::{CommonError, Result};
use crate::types::DataType;
use interval::Interval;
use numeric::Numeric;

/// Session settings that change how values are rendered or read.
#[derive(Debug, Clone, PartialEq)]
pub struct FormatOptions {
    /// The session `TimeZone`: timestamptz values print in it, and timestamptz input without an
    /// explicit offset is read in it.
    pub timezone: chrono_tz::Tz,
    /// The session `extra_float_digits`: above 0 floats print the shortest round-trip digits,
    /// otherwise `%.{15+n}g` / `%.{6+n}g` as Postgres does.
    pub extra_float_digits: i32,
}

impl Default for FormatOptions {
    fn default() -> Self {
        FormatOptions { timezone: chrono_tz::UTC, extra_float_digits: 1 }
    }
}

/// One SQL value, normalized to the SQL type it was read as. Temporal values keep nanoseconds so
/// that Arrow arrays of finer units render without loss.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Bool(bool),
    /// Any integer; wide enough for UInt64 arrays. Binary output range-checks it against the type.
    Int(i128),
    Float32(f32),
    Float64(f64),
    Numeric(Numeric),
    Text(String),
    Bytes(Vec<u8>),
    /// Days since 1970-01-01.
    Date(i32),
    /// Nanoseconds since midnight (86_400_000_000_000 is Postgres' `24:00:00`).
    Time(i64),
    /// Nanoseconds since 1970-01-01 00:00:00, wall-clock.
    Timestamp(i128),
    /// Nanoseconds since the Unix epoch, an instant.
    Timestamptz(i128),
    Interval(Interval),
    List(Vec<Option<Value>>),
    /// One entry per field of the struct type.
    Struct(Vec<Option<Value>>),
}

/// Text format of row `row` of `array` whose SQL type is `ty`; `None` for NULL.
pub fn format_text(array: &dyn Array, row: usize, ty: &DataType, opts: &FormatOptions) -> Result<Option<String>> {
    if let Some(actual) = extract::foreign_type_for_text(array, ty) {
        return format_text(array, row, &actual, opts);
    }
    let mut out = String::new();
    match extract::extract(array, row, ty)? {
        None => return Ok(None),
        // Strings are already their own text; skip the copy on the hottest path.
        Some(Value::Text(s)) => return Ok(Some(s)),
        Some(value) => write_text(&value, ty, opts, &mut out)?,
    }
    Ok(Some(out))
}

/// Binary (Postgres send) format of row `row` of `array` whose SQL type is `ty`; `None` for NULL.
pub fn format_binary(array: &dyn Array, row: usize, ty: &DataType) -> Result<Option<Vec<u8>>> {
    if let Some(actual) = extract::foreign_type_for_text(array, ty) {
        // A text column whose values are of another type: send the text of those values.
        let text = format_text(array, row, &actual, &FormatOptions::default())?;
        return Ok(text.map(|t| match ty {
            DataType::Jsonb => jsonb_binary(&t),
            _ => t.into_bytes(),
        }));
    }
    let mut out = Vec::new();
    match extract::extract(array, row, ty)? {
        None => return Ok(None),
        Some(Value::Text(s)) if *ty != DataType::Jsonb => return Ok(Some(s.into_bytes())),
        Some(Value::Bytes(b)) => return Ok(Some(b)),
        Some(value) => write_binary(&value, ty, &mut out)?,
    }
    Ok(Some(out))
}

/// Text format of a scalar (e.g. a constant folded by the planner); `None` for NULL.
pub fn format_text_scalar(value: &ScalarValue, ty: &DataType, opts: &FormatOptions) -> Result<Option<String>> {
    let array = value.to_array().map_err(|e| CommonError::Encoding(e.to_string()))?;
    format_text(array.as_ref(), 0, ty, opts)
}

/// Parses a parameter sent by a client in text format into a scalar of `ty.to_arrow()`.
pub fn parse_text(s: &str, ty: &DataType, opts: &FormatOptions) -> Result<ScalarValue> {
    match ty {
        DataType::List(elem) => array::parse_text_array(s, elem, opts),
        DataType::Struct(_) => record::parse_text_record(s, ty, opts),
        _ => scalar::parse_text_scalar(s, ty, opts),
    }
}

/// Parses a parameter sent by a client in binary format into a scalar of `ty.to_arrow()`.
pub fn parse_binary(b: &[u8], ty: &DataType) -> Result<ScalarValue> {
    match ty {
        DataType::List(elem) => array::parse_binary_array(b, elem),
        _ => scalar::parse_binary_scalar(b, ty),
    }
}

/// The typed NULL of `ty.to_arrow()`, for NULL parameters.
pub fn null_scalar(ty: &DataType) -> Result<ScalarValue> {
    ScalarValue::try_from(&ty.to_arrow()).map_err(|e| CommonError::Encoding(e.to_string()))
}

/// Renders `value` (normalized to `ty`) in text format.
fn write_text(value: &Value, ty: &DataType, opts: &FormatOptions, out: &mut String) -> Result<()> {
    match value {
        Value::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float32(f) => float::write_f32(*f, opts.extra_float_digits, out),
        Value::Float64(f) => float::write_f64(*f, opts.extra_float_digits, out),
        Value::Numeric(n) => out.push_str(&numeric::for_type(n, ty).to_text()),
        Value::Text(s) => out.push_str(s),
        Value::Bytes(b) => scalar::write_bytea_hex(b, out),
        Value::Date(d) => datetime::write_date(*d, out)?,
        Value::Time(t) => datetime::write_time(*t, out)?,
        Value::Timestamp(ts) => datetime::write_timestamp(*ts, out)?,
        Value::Timestamptz(ts) => datetime::write_timestamptz(*ts, &opts.timezone, out)?,
        Value::Interval(iv) => interval::write_interval(iv, out),
        Value::List(items) => {
            let elem = list_elem(ty)?;
            array::write_text_array(items, elem, opts, out)?;
        }
        Value::Struct(items) => record::write_text_record(items, ty, opts, out)?,
    }
    Ok(())
}

/// Renders `value` (normalized to `ty`) in binary format.
fn write_binary(value: &Value, ty: &DataType, out: &mut Vec<u8>) -> Result<()> {
    match value {
        Value::Bool(b) => out.push(u8::from(*b)),
        Value::Int(i) => scalar::write_int_binary(*i, ty, out)?,
        Value::Float32(f) => out.extend_from_slice(&f.to_be_bytes()),
        Value::Float64(f) => out.extend_from_slice(&f.to_be_bytes()),
        Value::Numeric(n) => numeric::for_type(n, ty).write_binary(out),
        Value::Text(s) => match ty {
            DataType::Jsonb => out.extend_from_slice(&jsonb_binary(s)),
            _ => out.extend_from_slice(s.as_bytes()),
        },
        Value::Bytes(b) => out.extend_from_slice(b),
        Value::Date(d) => datetime::write_date_binary(*d, out)?,
        Value::Time(t) => out.extend_from_slice(&(t / 1000).to_be_bytes()),
        Value::Timestamp(ts) | Value::Timestamptz(ts) => datetime::write_timestamp_binary(*ts, out)?,
        Value::Interval(iv) => interval::write_interval_binary(iv, out),
        Value::List(items) => {
            let elem = list_elem(ty)?;
            array::write_binary_array(items, elem, out)?;
        }
        Value::Struct(items) => record::write_binary_record(items, ty, out)?,
    }
    Ok(())
}

/// jsonb's binary format is a version byte before the text.
fn jsonb_binary(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 1);
    out.push(1);
    out.extend_from_slice(text.as_bytes());
    out
}

fn list_elem(ty: &DataType) -> Result<&DataType> {
    match ty {
        DataType::List(elem) => Ok(elem),
        other => Err(CommonError::Encoding(format!("array value for non-array type {other}"))),
    }
}

/// A one-row list scalar of `elem_ty.to_arrow()` elements, shaped exactly like `to_arrow()`.
pub(crate) fn list_scalar(elems: Vec<ScalarValue>, elem_ty: &DataType) -> Result<ScalarValue> {
    let elem_arrow = elem_ty.to_arrow();
    let values: ArrayRef = if elems.is_empty() {
        new_empty_array(&elem_arrow)
    } else {
        ScalarValue::iter_to_array(elems).map_err(|e| CommonError::Encoding(e.to_string()))?
    };
    let values = if values.data_type() == &elem_arrow { values } else { arrow::compute::cast(&values, &elem_arrow)? };
    let field = Arc::new(Field::new("item", elem_arrow, true));
    let list = ListArray::try_new(field, OffsetBuffer::from_lengths([values.len()]), values, None)?;
    Ok(ScalarValue::List(Arc::new(list)))
}

/// The type name Postgres uses in input error messages.
pub(crate) fn input_type_name(ty: &DataType) -> String {
    match ty {
        DataType::Time => "time".into(),
        DataType::Timestamp => "timestamp".into(),
        DataType::Jsonb => "json".into(),
        other => other.to_string(),
    }
}

pub(crate) fn invalid(msg: impl Into<String>) -> CommonError {
    CommonError::InvalidInput(msg.into())
}

/// Postgres' `invalid input syntax for type integer: "abc"`.
pub(crate) fn syntax_error(ty: &DataType, input: &str) -> CommonError {
    invalid(format!("invalid input syntax for type {}: \"{input}\"", input_type_name(ty)))
}
