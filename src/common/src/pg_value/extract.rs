//! Reads one row of any Arrow flavour as a [`Value`] of the requested SQL type.
//!
//! Common flavours are read directly; anything else is cast (one row only, so rendering a batch
//! stays linear) to the type's canonical Arrow type with a strict cast, so a value that does not
//! fit errors instead of silently turning into NULL.

use arrow::array::{Array, AsArray};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{
    DataType as ArrowType, Date32Type, Date64Type, Decimal128Type, Decimal256Type, Decimal32Type, Decimal64Type,
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType, Float16Type,
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, IntervalDayTimeType, IntervalMonthDayNanoType,
    IntervalUnit, IntervalYearMonthType, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
    Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};

use super::interval::Interval;
use super::numeric::Numeric;
use super::{datetime, Value};
use crate::error::{CommonError, Result};
use crate::types::DataType;

const NANOS_PER_DAY: i128 = 86_400_000_000_000;

/// When a text-typed column holds values of another type (planners sometimes label a column
/// varchar while the batch carries numbers or timestamps), the SQL type of those values, so they
/// render by their own rules rather than Arrow's.
pub(crate) fn foreign_type_for_text(array: &dyn Array, ty: &DataType) -> Option<DataType> {
    if !matches!(ty, DataType::Varchar | DataType::Jsonb) {
        return None;
    }
    let mut dt = array.data_type();
    while let ArrowType::Dictionary(_, v) = dt {
        dt = v;
    }
    match dt {
        ArrowType::Null
        | ArrowType::Utf8
        | ArrowType::LargeUtf8
        | ArrowType::Utf8View
        | ArrowType::Binary
        | ArrowType::LargeBinary
        | ArrowType::BinaryView
        | ArrowType::FixedSizeBinary(_) => None,
        other => DataType::from_arrow(other).ok().filter(|t| t != ty),
    }
}

pub(crate) fn extract(array: &dyn Array, row: usize, ty: &DataType) -> Result<Option<Value>> {
    extract_inner(array, row, ty, true)
}

fn extract_inner(array: &dyn Array, row: usize, ty: &DataType, may_cast: bool) -> Result<Option<Value>> {
    if row >= array.len() {
        return Err(CommonError::Encoding(format!("row {row} out of bounds for an array of {} rows", array.len())));
    }
    match array.data_type() {
        ArrowType::Null => return Ok(None),
        ArrowType::Dictionary(_, _) => {
            let dict = array.as_any_dictionary();
            let keys = dict.keys();
            if keys.is_null(row) {
                return Ok(None);
            }
            let index = int_at(keys, row)
                .and_then(|k| usize::try_from(k).ok())
                .ok_or_else(|| CommonError::Encoding("invalid dictionary key".into()))?;
            return extract_inner(dict.values().as_ref(), index, ty, may_cast);
        }
        ArrowType::RunEndEncoded(run_ends, _) => {
            let (values, index) = match run_ends.data_type() {
                ArrowType::Int16 => {
                    let a = array.as_run::<Int16Type>();
                    (a.values(), a.get_physical_index(row))
                }
                ArrowType::Int32 => {
                    let a = array.as_run::<Int32Type>();
                    (a.values(), a.get_physical_index(row))
                }
                _ => {
                    let a = array.as_run::<Int64Type>();
                    (a.values(), a.get_physical_index(row))
                }
            };
            return extract_inner(values.as_ref(), index, ty, may_cast);
        }
        _ => {}
    }
    if array.is_null(row) {
        return Ok(None);
    }
    if let Some(v) = direct(array, row, ty)? {
        return Ok(Some(v));
    }
    if !may_cast {
        return Err(CommonError::NotSupported(format!("reading Arrow {} as {ty}", array.data_type())));
    }
    let one = array.slice(row, 1);
    let opts = CastOptions { safe: false, ..Default::default() };
    let cast = cast_with_options(&one, &ty.to_arrow(), &opts)?;
    extract_inner(cast.as_ref(), 0, ty, false)
}

/// Reads the flavours handled without a cast; `Ok(None)` when `array` is not one of them.
fn direct(array: &dyn Array, row: usize, ty: &DataType) -> Result<Option<Value>> {
    let dt = array.data_type();
    Ok(match ty {
        DataType::Boolean => array.as_boolean_opt().map(|a| Value::Bool(a.value(row))),
        DataType::Int16 | DataType::Int32 | DataType::Int64 => int_at(array, row).map(Value::Int),
        DataType::Float32 => match dt {
            ArrowType::Float16 => Some(Value::Float32(array.as_primitive::<Float16Type>().value(row).to_f32())),
            ArrowType::Float32 => Some(Value::Float32(array.as_primitive::<Float32Type>().value(row))),
            ArrowType::Float64 => Some(Value::Float32(array.as_primitive::<Float64Type>().value(row) as f32)),
            _ => int_at(array, row).map(|i| Value::Float32(i as f32)),
        },
        DataType::Float64 => match dt {
            ArrowType::Float16 => Some(Value::Float64(array.as_primitive::<Float16Type>().value(row).to_f64())),
            ArrowType::Float32 => Some(Value::Float64(f64::from(array.as_primitive::<Float32Type>().value(row)))),
            ArrowType::Float64 => Some(Value::Float64(array.as_primitive::<Float64Type>().value(row))),
            _ => int_at(array, row).map(|i| Value::Float64(i as f64)),
        },
        DataType::Decimal { .. } => {
            let n = match dt {
                ArrowType::Decimal32(_, s) => {
                    Some(Numeric::from_unscaled(&array.as_primitive::<Decimal32Type>().value(row).to_string(), *s))
                }
                ArrowType::Decimal64(_, s) => {
                    Some(Numeric::from_unscaled(&array.as_primitive::<Decimal64Type>().value(row).to_string(), *s))
                }
                ArrowType::Decimal128(_, s) => {
                    Some(Numeric::from_unscaled(&array.as_primitive::<Decimal128Type>().value(row).to_string(), *s))
                }
                ArrowType::Decimal256(_, s) => {
                    Some(Numeric::from_unscaled(&array.as_primitive::<Decimal256Type>().value(row).to_string(), *s))
                }
                _ => int_at(array, row).map(|i| Numeric::from_unscaled(&i.to_string(), 0)),
            };
            n.map(Value::Numeric)
        }
        DataType::Varchar | DataType::Jsonb => match dt {
            ArrowType::Utf8 => Some(Value::Text(array.as_string::<i32>().value(row).to_owned())),
            ArrowType::LargeUtf8 => Some(Value::Text(array.as_string::<i64>().value(row).to_owned())),
            ArrowType::Utf8View => Some(Value::Text(array.as_string_view().value(row).to_owned())),
            _ => None,
        },
        DataType::Bytea => match dt {
            ArrowType::Binary => Some(array.as_binary::<i32>().value(row).to_vec()),
            ArrowType::LargeBinary => Some(array.as_binary::<i64>().value(row).to_vec()),
            ArrowType::BinaryView => Some(array.as_binary_view().value(row).to_vec()),
            ArrowType::FixedSizeBinary(_) => Some(array.as_fixed_size_binary().value(row).to_vec()),
            ArrowType::Utf8 => Some(array.as_string::<i32>().value(row).as_bytes().to_vec()),
            ArrowType::LargeUtf8 => Some(array.as_string::<i64>().value(row).as_bytes().to_vec()),
            ArrowType::Utf8View => Some(array.as_string_view().value(row).as_bytes().to_vec()),
            _ => None,
        }
        .map(Value::Bytes),
        DataType::Date => match dt {
            ArrowType::Date32 => Some(array.as_primitive::<Date32Type>().value(row)),
            ArrowType::Date64 => Some(days_of(i128::from(array.as_primitive::<Date64Type>().value(row)) * 1_000_000)?),
            ArrowType::Timestamp(_, _) => match timestamp_nanos(array, row) {
                Some(ns) => Some(days_of(local_nanos(array, ns)?)?),
                None => None,
            },
            _ => None,
        }
        .map(Value::Date),
        DataType::Time => match dt {
            ArrowType::Time32(TimeUnit::Second) => {
                Some(i64::from(array.as_primitive::<Time32SecondType>().value(row)) * 1_000_000_000)
            }
            ArrowType::Time32(TimeUnit::Millisecond) => {
                Some(i64::from(array.as_primitive::<Time32MillisecondType>().value(row)) * 1_000_000)
            }
            ArrowType::Time64(TimeUnit::Microsecond) => {
                array.as_primitive::<Time64MicrosecondType>().value(row).checked_mul(1000)
            }
            ArrowType::Time64(TimeUnit::Nanosecond) => Some(array.as_primitive::<Time64NanosecondType>().value(row)),
            ArrowType::Timestamp(_, _) => match timestamp_nanos(array, row) {
                Some(ns) => i64::try_from(local_nanos(array, ns)?.rem_euclid(NANOS_PER_DAY)).ok(),
                None => None,
            },
            _ => None,
        }
        .map(Value::Time),
        DataType::Timestamp => match dt {
            // An Arrow timestamp with a zone is an instant; as a wall-clock value it reads in that zone.
            ArrowType::Timestamp(_, _) => match timestamp_nanos(array, row) {
                Some(ns) => Some(local_nanos(array, ns)?),
                None => None,
            },
            _ => date_nanos(array, row),
        }
        .map(Value::Timestamp),
        // Wall-clock values read as UTC, matching the planner's casts to the `+00:00` zone.
        DataType::Timestamptz => match dt {
            ArrowType::Timestamp(_, _) => timestamp_nanos(array, row),
            _ => date_nanos(array, row),
        }
        .map(Value::Timestamptz),
        DataType::Interval => interval_at(array, row).map(Value::Interval),
        DataType::List(elem) => {
            let (values, start, len) = match dt {
                ArrowType::List(_) => {
                    let a = array.as_list::<i32>();
                    let offsets = a.value_offsets();
                    (a.values(), offsets[row] as usize, (offsets[row + 1] - offsets[row]) as usize)
                }
                ArrowType::LargeList(_) => {
                    let a = array.as_list::<i64>();
                    let offsets = a.value_offsets();
                    (a.values(), offsets[row] as usize, (offsets[row + 1] - offsets[row]) as usize)
                }
                ArrowType::FixedSizeList(_, n) => {
                    let a = array.as_fixed_size_list();
                    let n = *n as usize;
                    (a.values(), row * n, n)
                }
                ArrowType::ListView(_) => {
                    let a = array.as_list_view::<i32>();
                    (a.values(), a.value_offsets()[row] as usize, a.value_sizes()[row] as usize)
                }
                ArrowType::LargeListView(_) => {
                    let a = array.as_list_view::<i64>();
                    (a.values(), a.value_offsets()[row] as usize, a.value_sizes()[row] as usize)
                }
                _ => return Ok(None),
            };
            let mut items = Vec::with_capacity(len);
            for i in start..start + len {
                items.push(extract_inner(values.as_ref(), i, elem, true)?);
            }
            Some(Value::List(items))
        }
        DataType::Struct(fields) => match array.as_struct_opt() {
            Some(a) => {
                let items = a
                    .columns()
                    .iter()
                    .zip(fields)
                    .map(|(c, (_, t))| extract_inner(c.as_ref(), row, t, true))
                    .collect::<Result<Vec<_>>>()?;
                Some(Value::Struct(items))
            }
            None => return Ok(None),
        },
    })
}

/// The value of any integer array, widened.
fn int_at(array: &dyn Array, row: usize) -> Option<i128> {
    Some(match array.data_type() {
        ArrowType::Int8 => array.as_primitive::<Int8Type>().value(row).into(),
        ArrowType::Int16 => array.as_primitive::<Int16Type>().value(row).into(),
        ArrowType::Int32 => array.as_primitive::<Int32Type>().value(row).into(),
        ArrowType::Int64 => array.as_primitive::<Int64Type>().value(row).into(),
        ArrowType::UInt8 => array.as_primitive::<UInt8Type>().value(row).into(),
        ArrowType::UInt16 => array.as_primitive::<UInt16Type>().value(row).into(),
        ArrowType::UInt32 => array.as_primitive::<UInt32Type>().value(row).into(),
        ArrowType::UInt64 => array.as_primitive::<UInt64Type>().value(row).into(),
        _ => return None,
    })
}

/// The stored value of a timestamp array of any unit, in nanoseconds since the epoch.
fn timestamp_nanos(array: &dyn Array, row: usize) -> Option<i128> {
    Some(match array.data_type() {
        ArrowType::Timestamp(TimeUnit::Second, _) => {
            i128::from(array.as_primitive::<TimestampSecondType>().value(row)) * 1_000_000_000
        }
        ArrowType::Timestamp(TimeUnit::Millisecond, _) => {
            i128::from(array.as_primitive::<TimestampMillisecondType>().value(row)) * 1_000_000
        }
        ArrowType::Timestamp(TimeUnit::Microsecond, _) => {
            i128::from(array.as_primitive::<TimestampMicrosecondType>().value(row)) * 1_000
        }
        ArrowType::Timestamp(TimeUnit::Nanosecond, _) => {
            i128::from(array.as_primitive::<TimestampNanosecondType>().value(row))
        }
        _ => return None,
    })
}

/// Wall-clock nanoseconds of a stored timestamp: shifted into the array's zone when it has one.
fn local_nanos(array: &dyn Array, ns: i128) -> Result<i128> {
    match array.data_type() {
        ArrowType::Timestamp(_, Some(tz)) => {
            let offset = datetime::arrow_zone_offset_secs(tz, ns)?;
            Ok(ns + i128::from(offset) * 1_000_000_000)
        }
        _ => Ok(ns),
    }
}

/// Midnight of a date array's value, in nanoseconds since the epoch.
fn date_nanos(array: &dyn Array, row: usize) -> Option<i128> {
    match array.data_type() {
        ArrowType::Date32 => Some(i128::from(array.as_primitive::<Date32Type>().value(row)) * NANOS_PER_DAY),
        ArrowType::Date64 => Some(i128::from(array.as_primitive::<Date64Type>().value(row)) * 1_000_000),
        _ => None,
    }
}

fn days_of(ns: i128) -> Result<i32> {
    i32::try_from(ns.div_euclid(NANOS_PER_DAY)).map_err(|_| CommonError::InvalidInput("date out of range".into()))
}

fn interval_at(array: &dyn Array, row: usize) -> Option<Interval> {
    Some(match array.data_type() {
        ArrowType::Interval(IntervalUnit::MonthDayNano) => {
            let v = array.as_primitive::<IntervalMonthDayNanoType>().value(row);
            Interval { months: v.months, days: v.days, nanos: v.nanoseconds }
        }
        ArrowType::Interval(IntervalUnit::YearMonth) => {
            Interval { months: array.as_primitive::<IntervalYearMonthType>().value(row), days: 0, nanos: 0 }
        }
        ArrowType::Interval(IntervalUnit::DayTime) => {
            let v = array.as_primitive::<IntervalDayTimeType>().value(row);
            Interval { months: 0, days: v.days, nanos: i64::from(v.milliseconds) * 1_000_000 }
        }
        ArrowType::Duration(unit) => {
            let nanos = match unit {
                TimeUnit::Second => i128::from(array.as_primitive::<DurationSecondType>().value(row)) * 1_000_000_000,
                TimeUnit::Millisecond => {
                    i128::from(array.as_primitive::<DurationMillisecondType>().value(row)) * 1_000_000
                }
                TimeUnit::Microsecond => i128::from(array.as_primitive::<DurationMicrosecondType>().value(row)) * 1000,
                TimeUnit::Nanosecond => i128::from(array.as_primitive::<DurationNanosecondType>().value(row)),
            };
            // Postgres' timestamp difference is justified into days and a time of the same sign
            // (`28 days 03:00:05`), and a duration is what DataFusion gives for it.
            let days = nanos / NANOS_PER_DAY;
            let rest = nanos - days * NANOS_PER_DAY;
            Interval { months: 0, days: i32::try_from(days).ok()?, nanos: i64::try_from(rest).ok()? }
        }
        _ => return None,
    })
}
