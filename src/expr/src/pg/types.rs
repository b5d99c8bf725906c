//! Postgres names and groupings of the Arrow types this crate meets.

use arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};
use std::sync::Arc;

/// The Postgres spelling of a type, as `pg_typeof` prints it. Every decimal is `numeric`.
pub(crate) fn pg_type_name(t: &DataType) -> String {
    match t {
        DataType::Null => "unknown".to_string(),
        DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..) => {
            "numeric".to_string()
        }
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            format!("{}[]", pg_type_name(f.data_type()))
        }
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields.iter().map(|f| format!("{} {}", f.name(), pg_type_name(f.data_type()))).collect::<Vec<_>>().join(", ")
        ),
        DataType::Boolean => "boolean".to_string(),
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => "smallint".to_string(),
        DataType::Int32 | DataType::UInt16 => "integer".to_string(),
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "bigint".to_string(),
        DataType::Float16 | DataType::Float32 => "real".to_string(),
        DataType::Float64 => "double precision".to_string(),
        DataType::Utf8 | DataType::Utf8View => "character varying".to_string(),
        DataType::LargeUtf8 => "jsonb".to_string(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "bytea".to_string(),
        DataType::Date32 | DataType::Date64 => "date".to_string(),
        DataType::Time32(_) | DataType::Time64(_) => "time without time zone".to_string(),
        DataType::Timestamp(_, None) => "timestamp without time zone".to_string(),
        DataType::Timestamp(_, Some(_)) => "timestamp with time zone".to_string(),
        DataType::Interval(_) | DataType::Duration(_) => "interval".to_string(),
        other => other.to_string(),
    }
}

pub(crate) fn is_int(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
    )
}

pub(crate) fn is_float(t: &DataType) -> bool {
    matches!(t, DataType::Float16 | DataType::Float32 | DataType::Float64)
}

pub(crate) fn is_decimal(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..)
    )
}

pub(crate) fn is_numeric(t: &DataType) -> bool {
    is_int(t) || is_float(t) || is_decimal(t)
}

pub(crate) fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View)
}

pub(crate) fn is_list(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)
    )
}

pub(crate) fn list_elem(t: &DataType) -> Option<&DataType> {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => Some(f.data_type()),
        _ => None,
    }
}

pub(crate) fn list_of(elem: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", elem, true)))
}

pub(crate) fn list_dims(t: &DataType) -> usize {
    match list_elem(t) {
        Some(e) => 1 + list_dims(e),
        None => 0,
    }
}

pub(crate) fn innermost(t: &DataType) -> &DataType {
    match list_elem(t) {
        Some(e) => innermost(e),
        None => t,
    }
}

pub(crate) const NUMERIC: DataType = DataType::Decimal128(38, 10);
pub(crate) const TIMESTAMP: DataType = DataType::Timestamp(TimeUnit::Microsecond, None);
pub(crate) const TIME: DataType = DataType::Time64(TimeUnit::Microsecond);
pub(crate) const INTERVAL: DataType = DataType::Interval(IntervalUnit::MonthDayNano);

pub(crate) fn timestamptz() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("+00:00")))
}

pub(crate) fn is_timestamptz(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(_, Some(_)))
}

pub(crate) fn is_timestamp(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(_, None))
}

/// Rank in Postgres' numeric promotion order (int2 < int4 < int8 < numeric < float4 < float8).
fn numeric_rank(t: &DataType) -> Option<u8> {
    Some(match t {
        DataType::Int8 | DataType::UInt8 | DataType::Int16 => 1,
        DataType::UInt16 | DataType::Int32 => 2,
        DataType::UInt32 | DataType::Int64 | DataType::UInt64 => 3,
        t if is_decimal(t) => 4,
        DataType::Float16 | DataType::Float32 => 5,
        DataType::Float64 => 6,
        _ => return None,
    })
}

/// The type two values meet at when they must become one type (array elements, union columns,
/// greatest/least), as RisingWave chooses it; `None` when they can't.
pub(crate) fn common_type(a: &DataType, b: &DataType) -> Option<DataType> {
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (DataType::Null, t) | (t, DataType::Null) => return Some(t.clone()),
        _ => {}
    }
    if let (Some(ra), Some(rb)) = (numeric_rank(a), numeric_rank(b)) {
        let hi = if ra >= rb { a } else { b };
        return Some(match numeric_rank(hi) {
            Some(1) => DataType::Int16,
            Some(2) => DataType::Int32,
            Some(3) => DataType::Int64,
            Some(4) => {
                if is_decimal(a) && is_decimal(b) {
                    decimal_union(a, b)
                } else {
                    NUMERIC
                }
            }
            Some(5) => DataType::Float32,
            _ => DataType::Float64,
        });
    }
    if let (Some(ea), Some(eb)) = (list_elem(a), list_elem(b)) {
        return common_type(ea, eb).map(list_of);
    }
    match (a, b) {
        (s, t) | (t, s) if is_string(s) => {
            // An untyped literal ('...') adopts the other side's type.
            let _ = s;
            Some(t.clone())
        }
        (DataType::Date32, t) | (t, DataType::Date32) if is_timestamp(t) || is_timestamptz(t) => Some(t.clone()),
        (DataType::Timestamp(_, None), DataType::Timestamp(_, Some(_))) => Some(timestamptz()),
        (DataType::Timestamp(_, Some(_)), DataType::Timestamp(_, None)) => Some(timestamptz()),
        (DataType::Timestamp(..), DataType::Timestamp(..)) => Some(timestamptz()),
        _ => None,
    }
}

fn decimal_union(a: &DataType, b: &DataType) -> DataType {
    match (a, b) {
        (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)) => {
            let s = (*s1).max(*s2);
            let int_digits = (*p1 as i16 - *s1 as i16).max(*p2 as i16 - *s2 as i16);
            let p = (int_digits + s as i16).clamp(1, 38) as u8;
            DataType::Decimal128(p, s)
        }
        _ => NUMERIC,
    }
}
