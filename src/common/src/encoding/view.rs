//! [`ColumnView`]: an Arrow column downcast once, against its SQL type, so that the encoders'
//! per-row work is a plain slice index instead of a dynamic downcast.

use arrow::array::{Array, AsArray, BinaryArray, BooleanArray, LargeStringArray, StringArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{
    DataType as ArrowType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type,
    IntervalMonthDayNano, IntervalMonthDayNanoType, Time64MicrosecondType, TimeUnit, TimestampMicrosecondType,
};

use crate::error::{CommonError, Result};
use crate::types::DataType;

pub(crate) struct ColumnView<'a> {
    nulls: Option<&'a NullBuffer>,
    pub(crate) values: Values<'a>,
}

/// Grouped by physical representation: the SQL type is known to the caller.
pub(crate) enum Values<'a> {
    Boolean(&'a BooleanArray),
    Int16(&'a [i16]),
    Int32(&'a [i32]),
    Int64(&'a [i64]),
    Float32(&'a [f32]),
    Float64(&'a [f64]),
    Decimal(&'a [i128]),
    Interval(&'a [IntervalMonthDayNano]),
    Utf8(&'a StringArray),
    Binary(&'a BinaryArray),
    LargeUtf8(&'a LargeStringArray),
    /// `offsets` index into `elements`, which covers the whole child array.
    List { offsets: &'a [i32], elements: Box<ColumnView<'a>> },
    /// One view per field, indexed like the struct.
    Struct(Vec<ColumnView<'a>>),
}

impl<'a> ColumnView<'a> {
    /// Checks that `array` holds values of `ty` (timestamp zones and list field names may
    /// differ: they do not change the values).
    pub(crate) fn new(array: &'a dyn Array, ty: &DataType) -> Result<Self> {
        let dt = array.data_type();
        let matches = match (ty, dt) {
            (DataType::Boolean, ArrowType::Boolean)
            | (DataType::Int16, ArrowType::Int16)
            | (DataType::Int32, ArrowType::Int32)
            | (DataType::Int64, ArrowType::Int64)
            | (DataType::Float32, ArrowType::Float32)
            | (DataType::Float64, ArrowType::Float64)
            | (DataType::Varchar, ArrowType::Utf8)
            | (DataType::Bytea, ArrowType::Binary)
            | (DataType::Date, ArrowType::Date32)
            | (DataType::Time, ArrowType::Time64(TimeUnit::Microsecond))
            | (DataType::Timestamp, ArrowType::Timestamp(TimeUnit::Microsecond, None))
            | (DataType::Timestamptz, ArrowType::Timestamp(TimeUnit::Microsecond, Some(_)))
            | (DataType::Interval, ArrowType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano))
            | (DataType::Jsonb, ArrowType::LargeUtf8)
            | (DataType::List(_), ArrowType::List(_)) => true,
            (DataType::Struct(fields), ArrowType::Struct(arrow_fields)) => fields.len() == arrow_fields.len(),
            // Values are unscaled integers, so only an equal scale means equal values.
            (DataType::Decimal { .. }, ArrowType::Decimal128(_, s)) => {
                matches!(ty.to_arrow(), ArrowType::Decimal128(_, expected) if expected == *s)
            }
            _ => false,
        };
        if !matches {
            return Err(CommonError::Encoding(format!("column of Arrow type {dt} does not hold {ty} values")));
        }
        // The type check above makes every downcast succeed; the `_opt` forms keep a mistake in
        // it an error rather than a panic.
        let values = match ty {
            DataType::Boolean => array.as_boolean_opt().map(Values::Boolean),
            DataType::Int16 => array.as_primitive_opt::<Int16Type>().map(|a| Values::Int16(a.values())),
            DataType::Int32 => array.as_primitive_opt::<Int32Type>().map(|a| Values::Int32(a.values())),
            DataType::Date => array.as_primitive_opt::<Date32Type>().map(|a| Values::Int32(a.values())),
            DataType::Int64 => array.as_primitive_opt::<Int64Type>().map(|a| Values::Int64(a.values())),
            DataType::Time => array.as_primitive_opt::<Time64MicrosecondType>().map(|a| Values::Int64(a.values())),
            DataType::Timestamp | DataType::Timestamptz => {
                array.as_primitive_opt::<TimestampMicrosecondType>().map(|a| Values::Int64(a.values()))
            }
            DataType::Float32 => array.as_primitive_opt::<Float32Type>().map(|a| Values::Float32(a.values())),
            DataType::Float64 => array.as_primitive_opt::<Float64Type>().map(|a| Values::Float64(a.values())),
            DataType::Decimal { .. } => {
                array.as_primitive_opt::<Decimal128Type>().map(|a| Values::Decimal(a.values()))
            }
            DataType::Interval => {
                array.as_primitive_opt::<IntervalMonthDayNanoType>().map(|a| Values::Interval(a.values()))
            }
            DataType::Varchar => array.as_string_opt::<i32>().map(Values::Utf8),
            DataType::Bytea => array.as_binary_opt::<i32>().map(Values::Binary),
            DataType::Jsonb => array.as_string_opt::<i64>().map(Values::LargeUtf8),
            DataType::List(elem) => match array.as_list_opt::<i32>() {
                Some(list) => Some(Values::List {
                    offsets: list.value_offsets(),
                    elements: Box::new(ColumnView::new(list.values().as_ref(), elem)?),
                }),
                None => None,
            },
            DataType::Struct(fields) => match array.as_struct_opt() {
                Some(s) => Some(Values::Struct(
                    s.columns().iter().zip(fields).map(|(c, (_, t))| ColumnView::new(c.as_ref(), t)).collect::<Result<Vec<_>>>()?,
                )),
                None => None,
            },
        };
        let values = values.ok_or_else(|| CommonError::Encoding(format!("cannot read a {dt} column as {ty}")))?;
        Ok(Self { nulls: array.nulls(), values })
    }

    pub(crate) fn is_null(&self, i: usize) -> bool {
        self.nulls.is_some_and(|n| n.is_null(i))
    }
}
