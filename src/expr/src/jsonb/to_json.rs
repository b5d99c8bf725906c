//! SQL values → jsonb (`to_jsonb`, `jsonb_build_*`, `jsonb_agg`): one converter per Arrow type,
//! following how RisingWave/Postgres render each SQL type in JSON.

use std::fmt::Write as _;

use arrow::array::timezone::Tz;
use arrow::array::{Array, ArrayRef, AsArray, GenericListArray, OffsetSizeTrait, PrimitiveArray};
use arrow::datatypes::*;
use datafusion::common::{exec_err, Result};

use super::value::{parse, Number, Object, Value};

/// Converts every row of `array`; SQL NULL rows become `None`.
pub fn array_to_values(array: &ArrayRef) -> Result<Vec<Option<Value>>> {
    let n = array.len();
    let mut out: Vec<Option<Value>> = Vec::with_capacity(n);
    macro_rules! prim {
        ($t:ty, $f:expr) => {{
            let a = array.as_primitive::<$t>();
            for i in 0..n {
                out.push(if a.is_null(i) { None } else { Some($f(a, i)?) });
            }
        }};
    }
    macro_rules! int {
        ($t:ty) => {
            prim!($t, |a: &PrimitiveArray<$t>, i| -> Result<Value> {
                Ok(Value::Number(
                    Number::from_decimal_text(&a.value(i).to_string())
                        .unwrap_or_else(|| Number::from_i64(0)),
                ))
            })
        };
    }
    macro_rules! temporal {
        ($t:ty, $f:expr) => {
            prim!($t, |a: &PrimitiveArray<$t>, i| -> Result<Value> {
                Ok(Value::String($f(a, i)?))
            })
        };
    }
    match array.data_type() {
        DataType::Null => out.resize(n, None),
        DataType::Boolean => {
            let a = array.as_boolean();
            for i in 0..n {
                out.push(if a.is_null(i) {
                    None
                } else {
                    Some(Value::Bool(a.value(i)))
                });
            }
        }
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        DataType::Float16 => prim!(Float16Type, |a: &PrimitiveArray<Float16Type>,
                                                 i|
         -> Result<Value> {
            Ok(float_value(f32_to_f64(a.value(i).to_f32())))
        }),
        DataType::Float32 => prim!(Float32Type, |a: &PrimitiveArray<Float32Type>,
                                                 i|
         -> Result<Value> {
            Ok(float_value(f32_to_f64(a.value(i))))
        }),
        DataType::Float64 => prim!(Float64Type, |a: &PrimitiveArray<Float64Type>,
                                                 i|
         -> Result<Value> {
            Ok(float_value(a.value(i)))
        }),
        DataType::Decimal128(_, _) => {
            prim!(Decimal128Type, |a: &PrimitiveArray<Decimal128Type>,
                                   i|
             -> Result<Value> {
                Ok(decimal_value(&a.value_as_string(i)))
            })
        }
        DataType::Decimal256(_, _) => {
            prim!(Decimal256Type, |a: &PrimitiveArray<Decimal256Type>,
                                   i|
             -> Result<Value> {
                Ok(decimal_value(&a.value_as_string(i)))
            })
        }
        DataType::Utf8 => push_strings(&mut out, array.as_string::<i32>().iter()),
        DataType::Utf8View => push_strings(&mut out, array.as_string_view().iter()),
        // LargeUtf8 is jsonb already.
        DataType::LargeUtf8 => {
            for s in array.as_string::<i64>().iter() {
                out.push(match s {
                    None => None,
                    Some(s) => Some(parse(s).map_err(|e| {
                        datafusion::error::DataFusionError::Execution(e.to_string())
                    })?),
                });
            }
        }
        DataType::Binary => push_bytes(&mut out, array.as_binary::<i32>().iter()),
        DataType::LargeBinary => push_bytes(&mut out, array.as_binary::<i64>().iter()),
        DataType::BinaryView => push_bytes(&mut out, array.as_binary_view().iter()),
        DataType::Date32 => temporal!(Date32Type, |a: &PrimitiveArray<Date32Type>,
                                                   i|
         -> Result<String> {
            match a.value_as_date(i) {
                Some(d) => Ok(d.format("%Y-%m-%d").to_string()),
                None => exec_err!("date out of range"),
            }
        }),
        DataType::Date64 => temporal!(Date64Type, |a: &PrimitiveArray<Date64Type>,
                                                   i|
         -> Result<String> {
            match a.value_as_date(i) {
                Some(d) => Ok(d.format("%Y-%m-%d").to_string()),
                None => exec_err!("date out of range"),
            }
        }),
        DataType::Time32(TimeUnit::Second) => temporal!(Time32SecondType, time_text),
        DataType::Time32(TimeUnit::Millisecond) => temporal!(Time32MillisecondType, time_text),
        DataType::Time64(TimeUnit::Microsecond) => temporal!(Time64MicrosecondType, time_text),
        DataType::Time64(TimeUnit::Nanosecond) => temporal!(Time64NanosecondType, time_text),
        DataType::Timestamp(unit, tz) => {
            let tz: Option<Tz> = match tz {
                Some(tz) => Some(tz.parse()?),
                None => None,
            };
            match unit {
                TimeUnit::Second => timestamps::<TimestampSecondType>(array, tz, &mut out)?,
                TimeUnit::Millisecond => {
                    timestamps::<TimestampMillisecondType>(array, tz, &mut out)?
                }
                TimeUnit::Microsecond => {
                    timestamps::<TimestampMicrosecondType>(array, tz, &mut out)?
                }
                TimeUnit::Nanosecond => timestamps::<TimestampNanosecondType>(array, tz, &mut out)?,
            }
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            temporal!(IntervalMonthDayNanoType, |a: &PrimitiveArray<
                IntervalMonthDayNanoType,
            >,
                                                 i|
             -> Result<String> {
                let v = a.value(i);
                Ok(interval_text(v.months, v.days, v.nanoseconds))
            })
        }
        DataType::Interval(IntervalUnit::DayTime) => {
            temporal!(IntervalDayTimeType, |a: &PrimitiveArray<
                IntervalDayTimeType,
            >,
                                            i|
             -> Result<String> {
                let v = a.value(i);
                Ok(interval_text(
                    0,
                    v.days,
                    i64::from(v.milliseconds) * 1_000_000,
                ))
            })
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            temporal!(IntervalYearMonthType, |a: &PrimitiveArray<
                IntervalYearMonthType,
            >,
                                              i|
             -> Result<String> {
                Ok(interval_text(a.value(i), 0, 0))
            })
        }
        DataType::Duration(unit) => {
            let per_unit: i64 = match unit {
                TimeUnit::Second => 1_000_000_000,
                TimeUnit::Millisecond => 1_000_000,
                TimeUnit::Microsecond => 1_000,
                TimeUnit::Nanosecond => 1,
            };
            let ints = arrow::compute::cast(array, &DataType::Int64)?;
            let a = ints.as_primitive::<Int64Type>();
            for i in 0..n {
                out.push(if a.is_null(i) {
                    None
                } else {
                    Some(Value::String(interval_text(
                        0,
                        0,
                        a.value(i).saturating_mul(per_unit),
                    )))
                });
            }
        }
        DataType::List(_) => lists(array.as_list::<i32>(), &mut out)?,
        DataType::LargeList(_) => lists(array.as_list::<i64>(), &mut out)?,
        DataType::FixedSizeList(_, _) => {
            let a = array.as_fixed_size_list();
            for i in 0..n {
                out.push(if a.is_null(i) {
                    None
                } else {
                    Some(list_value(&a.value(i))?)
                });
            }
        }
        DataType::Struct(fields) => {
            let a = array.as_struct();
            let columns = a
                .columns()
                .iter()
                .map(array_to_values)
                .collect::<Result<Vec<_>>>()?;
            for i in 0..n {
                if a.is_null(i) {
                    out.push(None);
                    continue;
                }
                let entries = fields
                    .iter()
                    .zip(&columns)
                    .map(|(f, col)| (f.name().clone(), col[i].clone().unwrap_or(Value::Null)))
                    .collect();
                out.push(Some(Value::Object(Object::from_entries(entries))));
            }
        }
        DataType::Dictionary(_, value_type) => {
            let plain = arrow::compute::cast(array, value_type)?;
            return array_to_values(&plain);
        }
        other => return exec_err!("cannot convert type {other} to jsonb"),
    }
    Ok(out)
}

fn push_strings<'a>(out: &mut Vec<Option<Value>>, it: impl Iterator<Item = Option<&'a str>>) {
    out.extend(it.map(|s| s.map(|s| Value::String(s.to_string()))));
}

/// bytea renders as its Postgres hex text (`\x616161`).
fn push_bytes<'a>(out: &mut Vec<Option<Value>>, it: impl Iterator<Item = Option<&'a [u8]>>) {
    out.extend(it.map(|b| {
        b.map(|b| {
            let mut s = String::with_capacity(2 + 2 * b.len());
            s.push_str("\\x");
            for byte in b {
                let _ = write!(s, "{byte:02x}");
            }
            Value::String(s)
        })
    }));
}

fn lists<O: OffsetSizeTrait>(a: &GenericListArray<O>, out: &mut Vec<Option<Value>>) -> Result<()> {
    for i in 0..a.len() {
        out.push(if a.is_null(i) {
            None
        } else {
            Some(list_value(&a.value(i))?)
        });
    }
    Ok(())
}

fn list_value(items: &ArrayRef) -> Result<Value> {
    Ok(Value::Array(
        array_to_values(items)?
            .into_iter()
            .map(|v| v.unwrap_or(Value::Null))
            .collect(),
    ))
}

/// real widens through its shortest text so that `0.1::real` stays `0.1`, not
/// `0.10000000149011612`.
fn f32_to_f64(v: f32) -> f64 {
    if !v.is_finite() {
        return f64::from(v);
    }
    let mut buf = ryu::Buffer::new();
    buf.format_finite(v).parse::<f64>().unwrap_or(f64::from(v))
}

/// NaN and infinities have no JSON number; Postgres renders them as strings.
fn float_value(v: f64) -> Value {
    match Number::from_f64(v) {
        Some(n) => Value::Number(n),
        None if v.is_nan() => Value::String("NaN".into()),
        None if v > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

fn decimal_value(text: &str) -> Value {
    match Number::from_decimal_text(text) {
        Some(n) => Value::Number(n),
        None => Value::String(text.to_string()),
    }
}

fn push_fraction(s: &mut String, nanos: u32) {
    let micros = nanos / 1000;
    if micros != 0 {
        let frac = format!("{micros:06}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
}

fn time_text<T: ArrowTemporalType>(a: &PrimitiveArray<T>, i: usize) -> Result<String>
where
    i64: From<T::Native>,
{
    use chrono::Timelike;
    match a.value_as_time(i) {
        Some(t) => {
            let mut s = t.format("%H:%M:%S").to_string();
            push_fraction(&mut s, t.nanosecond());
            Ok(s)
        }
        None => exec_err!("time out of range"),
    }
}

fn timestamps<T: ArrowTimestampType>(
    array: &ArrayRef,
    tz: Option<Tz>,
    out: &mut Vec<Option<Value>>,
) -> Result<()> {
    use chrono::Timelike;
    let a = array.as_primitive::<T>();
    for i in 0..a.len() {
        if a.is_null(i) {
            out.push(None);
            continue;
        }
        let text = match tz {
            None => match a.value_as_datetime(i) {
                Some(dt) => {
                    let mut s = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
                    push_fraction(&mut s, dt.nanosecond());
                    s
                }
                None => return exec_err!("timestamp out of range"),
            },
            Some(tz) => match a.value_as_datetime_with_tz(i, tz) {
                Some(dt) => {
                    let mut s = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
                    push_fraction(&mut s, dt.nanosecond());
                    s.push_str(&dt.format("%:z").to_string());
                    s
                }
                None => return exec_err!("timestamp out of range"),
            },
        };
        out.push(Some(Value::String(text)));
    }
    Ok(())
}

/// Postgres' default interval output (`1 year 2 mons 3 days 04:05:06.5`).
pub fn interval_text(months: i32, days: i32, nanos: i64) -> String {
    let mut parts: Vec<String> = Vec::new();
    let plural = |n: i64, unit: &str| {
        if n == 1 || n == -1 {
            format!("{n} {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    let (years, mons) = (i64::from(months) / 12, i64::from(months) % 12);
    if years != 0 {
        parts.push(plural(years, "year"));
    }
    if mons != 0 {
        parts.push(plural(mons, "mon"));
    }
    if days != 0 {
        parts.push(plural(i64::from(days), "day"));
    }
    if nanos != 0 || parts.is_empty() {
        let negative = nanos < 0;
        let total_micros = nanos.unsigned_abs() / 1000;
        let secs = total_micros / 1_000_000;
        let micros = total_micros % 1_000_000;
        let mut s = format!(
            "{}{:02}:{:02}:{:02}",
            if negative { "-" } else { "" },
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        );
        if micros != 0 {
            let frac = format!("{micros:06}");
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
        parts.push(s);
    }
    parts.join(" ")
}
