//! SQL data types and their mapping to Arrow (how values are held in memory) and to Postgres
//! (how clients see them).
//!
//! Arrow mapping: `varchar` is `Utf8`, `jsonb` is `LargeUtf8` (normalized JSON text; the distinct
//! Arrow type keeps jsonb apart from text through every expression), unconstrained `numeric` is
//! `Decimal128(38, 10)` as DataFusion plans it, timestamps are microseconds, `timestamptz` carries
//! the `+00:00` zone (UTC instants), intervals are `MonthDayNano`.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{DataType as ArrowType, Field, IntervalUnit, TimeUnit};
use tributary_proto::common as pb;

use crate::error::{CommonError, Result};

pub const DEFAULT_DECIMAL_PRECISION: u8 = 38;
pub const DEFAULT_DECIMAL_SCALE: i8 = 10;
pub const TIMESTAMPTZ_ARROW_TZ: &str = "+00:00";

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataType {
    Boolean,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    /// `numeric(p, s)`; `None` means unconstrained.
    Decimal { precision: Option<u8>, scale: Option<i8> },
    Varchar,
    Bytea,
    Date,
    Time,
    Timestamp,
    Timestamptz,
    Interval,
    Jsonb,
    List(Box<DataType>),
    /// `struct<name type, ...>` (RisingWave's composite type): named fields in order.
    Struct(Vec<(String, DataType)>),
}

impl DataType {
    pub fn to_arrow(&self) -> ArrowType {
        match self {
            DataType::Boolean => ArrowType::Boolean,
            DataType::Int16 => ArrowType::Int16,
            DataType::Int32 => ArrowType::Int32,
            DataType::Int64 => ArrowType::Int64,
            DataType::Float32 => ArrowType::Float32,
            DataType::Float64 => ArrowType::Float64,
            DataType::Decimal { precision, scale } => ArrowType::Decimal128(
                precision.unwrap_or(DEFAULT_DECIMAL_PRECISION),
                scale.unwrap_or(if precision.is_some() { 0 } else { DEFAULT_DECIMAL_SCALE }),
            ),
            DataType::Varchar => ArrowType::Utf8,
            DataType::Bytea => ArrowType::Binary,
            DataType::Date => ArrowType::Date32,
            DataType::Time => ArrowType::Time64(TimeUnit::Microsecond),
            DataType::Timestamp => ArrowType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Timestamptz => {
                ArrowType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(TIMESTAMPTZ_ARROW_TZ)))
            }
            DataType::Interval => ArrowType::Interval(IntervalUnit::MonthDayNano),
            DataType::Jsonb => ArrowType::LargeUtf8,
            DataType::List(elem) => ArrowType::List(Arc::new(Field::new("item", elem.to_arrow(), true))),
            DataType::Struct(fields) => ArrowType::Struct(
                fields.iter().map(|(name, t)| Arc::new(Field::new(name, t.to_arrow(), true))).collect(),
            ),
        }
    }

    /// The SQL type of an Arrow type produced by a query. Arrow types with no exact SQL twin map
    /// to the closest one (unsigned integers widen, other string/binary flavours fold).
    pub fn from_arrow(t: &ArrowType) -> Result<DataType> {
        Ok(match t {
            ArrowType::Boolean => DataType::Boolean,
            ArrowType::Int8 | ArrowType::Int16 | ArrowType::UInt8 => DataType::Int16,
            ArrowType::Int32 | ArrowType::UInt16 => DataType::Int32,
            ArrowType::Int64 | ArrowType::UInt32 | ArrowType::UInt64 => DataType::Int64,
            ArrowType::Float16 | ArrowType::Float32 => DataType::Float32,
            ArrowType::Float64 => DataType::Float64,
            ArrowType::Decimal32(p, s)
            | ArrowType::Decimal64(p, s)
            | ArrowType::Decimal128(p, s)
            | ArrowType::Decimal256(p, s) => {
                if (*p, *s) == (DEFAULT_DECIMAL_PRECISION, DEFAULT_DECIMAL_SCALE) {
                    DataType::Decimal { precision: None, scale: None }
                } else {
                    DataType::Decimal { precision: Some(*p), scale: Some(*s) }
                }
            }
            ArrowType::Utf8 | ArrowType::Utf8View | ArrowType::Null => DataType::Varchar,
            ArrowType::LargeUtf8 => DataType::Jsonb,
            ArrowType::Binary | ArrowType::LargeBinary | ArrowType::BinaryView | ArrowType::FixedSizeBinary(_) => {
                DataType::Bytea
            }
            ArrowType::Date32 | ArrowType::Date64 => DataType::Date,
            ArrowType::Time32(_) | ArrowType::Time64(_) => DataType::Time,
            ArrowType::Timestamp(_, None) => DataType::Timestamp,
            ArrowType::Timestamp(_, Some(_)) => DataType::Timestamptz,
            ArrowType::Interval(_) | ArrowType::Duration(_) => DataType::Interval,
            ArrowType::List(f) | ArrowType::LargeList(f) | ArrowType::FixedSizeList(f, _) | ArrowType::ListView(f) => {
                DataType::List(Box::new(DataType::from_arrow(f.data_type())?))
            }
            ArrowType::Dictionary(_, v) => DataType::from_arrow(v)?,
            ArrowType::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|f| Ok((f.name().clone(), DataType::from_arrow(f.data_type())?)))
                    .collect::<Result<Vec<_>>>()?,
            ),
            other => return Err(CommonError::NotSupported(format!("type {other}"))),
        })
    }

    /// Postgres type OID, as sent in RowDescription.
    pub fn pg_oid(&self) -> u32 {
        match self {
            DataType::Boolean => 16,
            DataType::Int16 => 21,
            DataType::Int32 => 23,
            DataType::Int64 => 20,
            DataType::Float32 => 700,
            DataType::Float64 => 701,
            DataType::Decimal { .. } => 1700,
            DataType::Varchar => 1043,
            DataType::Bytea => 17,
            DataType::Date => 1082,
            DataType::Time => 1083,
            DataType::Timestamp => 1114,
            DataType::Timestamptz => 1184,
            DataType::Interval => 1186,
            DataType::Jsonb => 3802,
            // `record`, as Postgres describes a row value.
            DataType::Struct(_) => 2249,
            DataType::List(elem) => match elem.as_ref() {
                DataType::Boolean => 1000,
                DataType::Int16 => 1005,
                DataType::Int32 => 1007,
                DataType::Int64 => 1016,
                DataType::Float32 => 1021,
                DataType::Float64 => 1022,
                DataType::Decimal { .. } => 1231,
                DataType::Varchar => 1015,
                DataType::Bytea => 1001,
                DataType::Date => 1182,
                DataType::Time => 1183,
                DataType::Timestamp => 1115,
                DataType::Timestamptz => 1185,
                DataType::Interval => 1187,
                DataType::Jsonb => 3807,
                // `record[]`.
                DataType::Struct(_) => 2287,
                // Nested arrays are reported as their outermost array type, as Postgres does.
                DataType::List(_) => DataType::List(Box::new(elem.innermost().clone())).pg_oid(),
            },
        }
    }

    /// Postgres typlen: fixed byte width or -1 for variable length.
    pub fn pg_len(&self) -> i16 {
        match self {
            DataType::Boolean => 1,
            DataType::Int16 => 2,
            DataType::Int32 | DataType::Float32 | DataType::Date => 4,
            DataType::Int64 | DataType::Float64 | DataType::Time | DataType::Timestamp | DataType::Timestamptz => 8,
            DataType::Interval => 16,
            _ => -1,
        }
    }

    pub fn innermost(&self) -> &DataType {
        match self {
            DataType::List(e) => e.innermost(),
            other => other,
        }
    }

    pub fn to_protobuf(&self) -> pb::DataType {
        let (type_name, elem, precision, scale) = match self {
            DataType::Boolean => (pb::TypeName::Boolean, None, 0, 0),
            DataType::Int16 => (pb::TypeName::Int16, None, 0, 0),
            DataType::Int32 => (pb::TypeName::Int32, None, 0, 0),
            DataType::Int64 => (pb::TypeName::Int64, None, 0, 0),
            DataType::Float32 => (pb::TypeName::Float32, None, 0, 0),
            DataType::Float64 => (pb::TypeName::Float64, None, 0, 0),
            DataType::Decimal { precision, scale } => (
                pb::TypeName::Decimal,
                None,
                precision.map(|p| p as u32).unwrap_or(0),
                scale.map(|s| s as u32).unwrap_or(0),
            ),
            DataType::Varchar => (pb::TypeName::Varchar, None, 0, 0),
            DataType::Bytea => (pb::TypeName::Bytea, None, 0, 0),
            DataType::Date => (pb::TypeName::Date, None, 0, 0),
            DataType::Time => (pb::TypeName::Time, None, 0, 0),
            DataType::Timestamp => (pb::TypeName::Timestamp, None, 0, 0),
            DataType::Timestamptz => (pb::TypeName::Timestamptz, None, 0, 0),
            DataType::Interval => (pb::TypeName::Interval, None, 0, 0),
            DataType::Jsonb => (pb::TypeName::Jsonb, None, 0, 0),
            DataType::List(e) => (pb::TypeName::List, Some(Box::new(e.to_protobuf())), 0, 0),
            DataType::Struct(fields) => {
                let fields = fields
                    .iter()
                    .map(|(name, t)| pb::StructField { name: name.clone(), data_type: Some(t.to_protobuf()) })
                    .collect();
                return pb::DataType { type_name: pb::TypeName::Struct as i32, elem: None, precision: 0, scale: 0, fields };
            }
        };
        pb::DataType { type_name: type_name as i32, elem, precision, scale, fields: vec![] }
    }

    pub fn from_protobuf(p: &pb::DataType) -> Result<DataType> {
        let name = pb::TypeName::try_from(p.type_name)
            .map_err(|_| CommonError::Encoding(format!("unknown type code {}", p.type_name)))?;
        Ok(match name {
            pb::TypeName::Unspecified => return Err(CommonError::Encoding("unspecified data type".into())),
            pb::TypeName::Boolean => DataType::Boolean,
            pb::TypeName::Int16 => DataType::Int16,
            pb::TypeName::Int32 => DataType::Int32,
            pb::TypeName::Int64 => DataType::Int64,
            pb::TypeName::Float32 => DataType::Float32,
            pb::TypeName::Float64 => DataType::Float64,
            pb::TypeName::Decimal => {
                if p.precision == 0 {
                    DataType::Decimal { precision: None, scale: None }
                } else {
                    DataType::Decimal { precision: Some(p.precision as u8), scale: Some(p.scale as i8) }
                }
            }
            pb::TypeName::Varchar => DataType::Varchar,
            pb::TypeName::Bytea => DataType::Bytea,
            pb::TypeName::Date => DataType::Date,
            pb::TypeName::Time => DataType::Time,
            pb::TypeName::Timestamp => DataType::Timestamp,
            pb::TypeName::Timestamptz => DataType::Timestamptz,
            pb::TypeName::Interval => DataType::Interval,
            pb::TypeName::Jsonb => DataType::Jsonb,
            pb::TypeName::List => {
                let elem = p.elem.as_ref().ok_or_else(|| CommonError::Encoding("list without element type".into()))?;
                DataType::List(Box::new(DataType::from_protobuf(elem)?))
            }
            pb::TypeName::Struct => DataType::Struct(
                p.fields
                    .iter()
                    .map(|f| {
                        let t = f.data_type.as_ref().ok_or_else(|| CommonError::Encoding("struct field without type".into()))?;
                        Ok((f.name.clone(), DataType::from_protobuf(t)?))
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
        })
    }
}

/// One type of every scalar kind (numeric unconstrained): what code that must handle every
/// type (system catalogs, encodings and their tests) iterates over.
pub fn scalar_types() -> Vec<DataType> {
    vec![
        DataType::Boolean,
        DataType::Int16,
        DataType::Int32,
        DataType::Int64,
        DataType::Float32,
        DataType::Float64,
        DataType::Decimal { precision: None, scale: None },
        DataType::Varchar,
        DataType::Bytea,
        DataType::Date,
        DataType::Time,
        DataType::Timestamp,
        DataType::Timestamptz,
        DataType::Interval,
        DataType::Jsonb,
    ]
}

/// The Postgres spelling, as `DESCRIBE`, `format_type` and error messages show it.
impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::Boolean => write!(f, "boolean"),
            DataType::Int16 => write!(f, "smallint"),
            DataType::Int32 => write!(f, "integer"),
            DataType::Int64 => write!(f, "bigint"),
            DataType::Float32 => write!(f, "real"),
            DataType::Float64 => write!(f, "double precision"),
            DataType::Decimal { precision: Some(p), scale: Some(s) } => write!(f, "numeric({p},{s})"),
            DataType::Decimal { .. } => write!(f, "numeric"),
            DataType::Varchar => write!(f, "character varying"),
            DataType::Bytea => write!(f, "bytea"),
            DataType::Date => write!(f, "date"),
            DataType::Time => write!(f, "time without time zone"),
            DataType::Timestamp => write!(f, "timestamp without time zone"),
            DataType::Timestamptz => write!(f, "timestamp with time zone"),
            DataType::Interval => write!(f, "interval"),
            DataType::Jsonb => write!(f, "jsonb"),
            DataType::List(e) => write!(f, "{e}[]"),
            DataType::Struct(fields) => {
                write!(f, "struct<")?;
                for (i, (name, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{name} {t}")?;
                }
                write!(f, ">")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_types() -> Vec<DataType> {
        let mut scalars = scalar_types();
        scalars.push(DataType::Decimal { precision: Some(10), scale: Some(2) });
        let mut all = scalars.clone();
        all.extend(scalars.iter().cloned().map(|t| DataType::List(Box::new(t))));
        let s = DataType::Struct(vec![("a".into(), DataType::Int32), ("b".into(), DataType::List(Box::new(DataType::Varchar)))]);
        all.push(DataType::Struct(vec![("x".into(), s.clone()), ("y".into(), DataType::Jsonb)]));
        all.push(DataType::List(Box::new(s)));
        all
    }

    #[test]
    fn arrow_and_protobuf_round_trip() {
        for t in all_types() {
            assert_eq!(DataType::from_arrow(&t.to_arrow()).unwrap(), t, "arrow {t}");
            assert_eq!(DataType::from_protobuf(&t.to_protobuf()).unwrap(), t, "protobuf {t}");
        }
    }

    #[test]
    fn oids_are_distinct() {
        let mut oids: Vec<_> = all_types()
            .iter()
            .filter(|t| !matches!(t, DataType::Decimal { precision: Some(_), .. }))
            .filter(|t| !matches!(t, DataType::List(e) if matches!(**e, DataType::Decimal { precision: Some(_), .. })))
            .filter(|t| !matches!(t, DataType::Struct(_)) && !matches!(t, DataType::List(e) if matches!(**e, DataType::Struct(_))))
            .map(|t| t.pg_oid())
            .collect();
        let n = oids.len();
        oids.sort();
        oids.dedup();
        assert_eq!(oids.len(), n);
    }
}
