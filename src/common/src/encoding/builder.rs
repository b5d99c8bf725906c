//! [`ColumnBuilder`]: collects decoded values of one SQL type into an Arrow array of exactly
//! `DataType::to_arrow()`.
//!
//! It keeps its own buffers instead of wrapping Arrow's builders because the decoders need
//! [`ColumnBuilder::truncate`]: a row that fails to decode half-way is rolled back from every
//! column, so a corrupt row never leaves the builders with different lengths.

use std::sync::Arc;

use arrow::array::builder::{BooleanBufferBuilder, NullBufferBuilder};
use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array, Int16Array,
    Int32Array, Int64Array, IntervalMonthDayNanoArray, LargeStringArray, ListArray, StringArray, StructArray,
    Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow::buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{validate_decimal_precision_and_scale, DataType as ArrowType, Decimal128Type, IntervalMonthDayNano};
use arrow::datatypes::{FieldRef, Fields};

use crate::error::{CommonError, Result};
use crate::types::DataType;

/// Builds one column of a known SQL type. Typed `append_*` methods accept the physical value of
/// the column's type and return an error for any other type.
#[derive(Debug)]
pub struct ColumnBuilder {
    ty: DataType,
    nulls: NullBufferBuilder,
    data: Data,
}

#[derive(Debug)]
enum Data {
    Boolean(BooleanBufferBuilder),
    Int16(Vec<i16>),
    /// `Int32` and `Date` (days since the Unix epoch).
    Int32(Vec<i32>),
    /// `Int64`, `Time` and both timestamps (microseconds).
    Int64(Vec<i64>),
    Float32(Vec<f32>),
    Float64(Vec<f64>),
    Decimal(Vec<i128>),
    Interval(Vec<IntervalMonthDayNano>),
    /// `Varchar` and `Bytea`; `Jsonb` uses [`Data::LargeBytes`].
    Bytes(VarBytes<i32>),
    LargeBytes(VarBytes<i64>),
    List { field: FieldRef, offsets: Vec<i32>, child: Box<ColumnBuilder> },
    /// Every child has one value per struct value (a placeholder NULL under a NULL struct).
    Struct { fields: Fields, children: Vec<ColumnBuilder> },
}

#[derive(Debug)]
struct VarBytes<O> {
    offsets: Vec<O>,
    bytes: Vec<u8>,
}

impl<O: Copy + TryFrom<usize> + TryInto<usize> + Default> VarBytes<O> {
    fn new(capacity: usize) -> Self {
        let mut offsets = Vec::with_capacity(capacity + 1);
        offsets.push(O::default());
        Self { offsets, bytes: Vec::new() }
    }

    fn push(&mut self, value: &[u8]) -> Result<()> {
        let end = O::try_from(self.bytes.len() + value.len())
            .map_err(|_| CommonError::Encoding("column data exceeds the array offset range".into()))?;
        self.bytes.extend_from_slice(value);
        self.offsets.push(end);
        Ok(())
    }

    fn push_empty(&mut self) {
        let end = self.offsets.last().copied().unwrap_or_default();
        self.offsets.push(end);
    }

    fn truncate(&mut self, len: usize) {
        if let Some(end) = self.offsets.get(len) {
            let end = (*end).try_into().unwrap_or(0);
            self.bytes.truncate(end);
            self.offsets.truncate(len + 1);
        }
    }

    fn take(&mut self) -> (OffsetBuffer<O>, Buffer)
    where
        O: arrow::datatypes::ArrowNativeType,
    {
        let offsets = std::mem::replace(&mut self.offsets, vec![O::default()]);
        let bytes = std::mem::take(&mut self.bytes);
        (OffsetBuffer::new(ScalarBuffer::from(offsets)), Buffer::from_vec(bytes))
    }
}

impl ColumnBuilder {
    /// Fails only for a decimal type whose precision/scale Arrow cannot represent.
    pub fn new(ty: &DataType, capacity: usize) -> Result<Self> {
        let data = match ty {
            DataType::Boolean => Data::Boolean(BooleanBufferBuilder::new(capacity)),
            DataType::Int16 => Data::Int16(Vec::with_capacity(capacity)),
            DataType::Int32 | DataType::Date => Data::Int32(Vec::with_capacity(capacity)),
            DataType::Int64 | DataType::Time | DataType::Timestamp | DataType::Timestamptz => {
                Data::Int64(Vec::with_capacity(capacity))
            }
            DataType::Float32 => Data::Float32(Vec::with_capacity(capacity)),
            DataType::Float64 => Data::Float64(Vec::with_capacity(capacity)),
            DataType::Decimal { .. } => {
                if let ArrowType::Decimal128(p, s) = ty.to_arrow() {
                    validate_decimal_precision_and_scale::<Decimal128Type>(p, s)?;
                }
                Data::Decimal(Vec::with_capacity(capacity))
            }
            DataType::Interval => Data::Interval(Vec::with_capacity(capacity)),
            DataType::Varchar | DataType::Bytea => Data::Bytes(VarBytes::new(capacity)),
            DataType::Jsonb => Data::LargeBytes(VarBytes::new(capacity)),
            DataType::List(elem) => {
                let ArrowType::List(field) = ty.to_arrow() else {
                    return Err(CommonError::Encoding(format!("{ty} does not map to an Arrow list")));
                };
                let mut offsets = Vec::with_capacity(capacity + 1);
                offsets.push(0);
                Data::List { field, offsets, child: Box::new(ColumnBuilder::new(elem, capacity)?) }
            }
            DataType::Struct(members) => {
                let ArrowType::Struct(fields) = ty.to_arrow() else {
                    return Err(CommonError::Encoding(format!("{ty} does not map to an Arrow struct")));
                };
                let children = members.iter().map(|(_, t)| ColumnBuilder::new(t, capacity)).collect::<Result<Vec<_>>>()?;
                Data::Struct { fields, children }
            }
        };
        Ok(Self { ty: ty.clone(), nulls: NullBufferBuilder::new(capacity), data })
    }

    pub fn data_type(&self) -> &DataType {
        &self.ty
    }

    pub fn len(&self) -> usize {
        self.nulls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn append_null(&mut self) {
        match &mut self.data {
            Data::Boolean(v) => v.append(false),
            Data::Int16(v) => v.push(0),
            Data::Int32(v) => v.push(0),
            Data::Int64(v) => v.push(0),
            Data::Float32(v) => v.push(0.0),
            Data::Float64(v) => v.push(0.0),
            Data::Decimal(v) => v.push(0),
            Data::Interval(v) => v.push(IntervalMonthDayNano::ZERO),
            Data::Bytes(v) => v.push_empty(),
            Data::LargeBytes(v) => v.push_empty(),
            Data::List { offsets, .. } => {
                let end = offsets.last().copied().unwrap_or(0);
                offsets.push(end);
            }
            Data::Struct { children, .. } => children.iter_mut().for_each(ColumnBuilder::append_null),
        }
        self.nulls.append_null();
    }

    fn mismatch(&self, what: &str) -> CommonError {
        CommonError::Encoding(format!("cannot append {what} to a {} column", self.ty))
    }

    pub fn append_bool(&mut self, v: bool) -> Result<()> {
        let Data::Boolean(b) = &mut self.data else { return Err(self.mismatch("a boolean")) };
        b.append(v);
        self.nulls.append_non_null();
        Ok(())
    }

    pub fn append_i16(&mut self, v: i16) -> Result<()> {
        let Data::Int16(b) = &mut self.data else { return Err(self.mismatch("an int16")) };
        b.push(v);
        self.nulls.append_non_null();
        Ok(())
    }

    /// For `Int32` and `Date` (days since 1970-01-01).
    pub fn append_i32(&mut self, v: i32) -> Result<()> {
        let Data::Int32(b) = &mut self.data else { return Err(self.mismatch("an int32")) };
        b.push(v);
        self.nulls.append_non_null();
        Ok(())
    }

    /// For `Int64`, `Time` and the timestamps (microseconds).
    pub fn append_i64(&mut self, v: i64) -> Result<()> {
        let Data::Int64(b) = &mut self.data else { return Err(self.mismatch("an int64")) };
        b.push(v);
        self.nulls.append_non_null();
        Ok(())
    }

    pub fn append_f32(&mut self, v: f32) -> Result<()> {
        let Data::Float32(b) = &mut self.data else { return Err(self.mismatch("a float32")) };
        b.push(v);
        self.nulls.append_non_null();
        Ok(())
    }

    pub fn append_f64(&mut self, v: f64) -> Result<()> {
        let Data::Float64(b) = &mut self.data else { return Err(self.mismatch("a float64")) };
        b.push(v);
        self.nulls.append_non_null();
        Ok(())
    }

    /// The unscaled value at the column's scale.
    pub fn append_decimal(&mut self, v: i128) -> Result<()> {
        let Data::Decimal(b) = &mut self.data else { return Err(self.mismatch("a decimal")) };
        b.push(v);
        self.nulls.append_non_null();
        Ok(())
    }

    pub fn append_interval(&mut self, v: IntervalMonthDayNano) -> Result<()> {
        let Data::Interval(b) = &mut self.data else { return Err(self.mismatch("an interval")) };
        b.push(v);
        self.nulls.append_non_null();
        Ok(())
    }

    /// For `Varchar` and `Jsonb` (normalized JSON text).
    pub fn append_str(&mut self, v: &str) -> Result<()> {
        match (&self.ty, &mut self.data) {
            (DataType::Varchar, Data::Bytes(b)) => b.push(v.as_bytes())?,
            (DataType::Jsonb, Data::LargeBytes(b)) => b.push(v.as_bytes())?,
            _ => return Err(self.mismatch("a string")),
        }
        self.nulls.append_non_null();
        Ok(())
    }

    /// For `Bytea`.
    pub fn append_bytes(&mut self, v: &[u8]) -> Result<()> {
        match (&self.ty, &mut self.data) {
            (DataType::Bytea, Data::Bytes(b)) => b.push(v)?,
            _ => return Err(self.mismatch("bytes")),
        }
        self.nulls.append_non_null();
        Ok(())
    }

    /// The builder of a list column's elements. Append one list value's elements to it, then
    /// close the value with [`ColumnBuilder::append_list`].
    pub fn list_values_mut(&mut self) -> Result<&mut ColumnBuilder> {
        if !matches!(self.data, Data::List { .. }) {
            return Err(self.mismatch("list elements"));
        }
        match &mut self.data {
            Data::List { child, .. } => Ok(child),
            _ => Err(CommonError::Encoding("not a list builder".into())),
        }
    }

    /// Closes one non-null list value holding every element appended to
    /// [`ColumnBuilder::list_values_mut`] since the previous list value.
    pub fn append_list(&mut self) -> Result<()> {
        let Data::List { offsets, child, .. } = &mut self.data else { return Err(self.mismatch("a list")) };
        let end = i32::try_from(child.len())
            .map_err(|_| CommonError::Encoding("list elements exceed the array offset range".into()))?;
        offsets.push(end);
        self.nulls.append_non_null();
        Ok(())
    }

    /// The builders of a struct column's fields. Append one value to each, then close the struct
    /// value with [`ColumnBuilder::append_struct`].
    pub fn struct_fields_mut(&mut self) -> Result<&mut [ColumnBuilder]> {
        if !matches!(self.data, Data::Struct { .. }) {
            return Err(self.mismatch("struct fields"));
        }
        match &mut self.data {
            Data::Struct { children, .. } => Ok(children),
            _ => Err(CommonError::Encoding("not a struct builder".into())),
        }
    }

    /// Closes one non-null struct value whose fields were appended to
    /// [`ColumnBuilder::struct_fields_mut`].
    pub fn append_struct(&mut self) -> Result<()> {
        let len = self.len();
        let Data::Struct { children, .. } = &self.data else { return Err(self.mismatch("a struct")) };
        if children.iter().any(|c| c.len() != len + 1) {
            return Err(CommonError::Encoding("struct value without exactly one value per field".into()));
        }
        self.nulls.append_non_null();
        Ok(())
    }

    /// Drops every value from index `len` on. For lists (structs) this also drops elements
    /// (fields) appended after the last closed list (struct) value, so it undoes a half-decoded row even when `len` is
    /// the current length.
    pub fn truncate(&mut self, len: usize) {
        if len > self.len() {
            return;
        }
        match &mut self.data {
            Data::Boolean(v) => v.truncate(len),
            Data::Int16(v) => v.truncate(len),
            Data::Int32(v) => v.truncate(len),
            Data::Int64(v) => v.truncate(len),
            Data::Float32(v) => v.truncate(len),
            Data::Float64(v) => v.truncate(len),
            Data::Decimal(v) => v.truncate(len),
            Data::Interval(v) => v.truncate(len),
            Data::Bytes(v) => v.truncate(len),
            Data::LargeBytes(v) => v.truncate(len),
            Data::List { offsets, child, .. } => {
                offsets.truncate(len + 1);
                let end = offsets.last().copied().unwrap_or(0);
                child.truncate(usize::try_from(end).unwrap_or(0));
            }
            Data::Struct { children, .. } => children.iter_mut().for_each(|c| c.truncate(len)),
        }
        self.nulls.truncate(len);
    }

    /// Returns the values appended so far as an array of `data_type().to_arrow()` and leaves the
    /// builder empty, ready for the next batch.
    pub fn finish(&mut self) -> ArrayRef {
        let nulls = self.nulls.finish();
        // The constructors below only panic on broken internal invariants (lengths, offsets,
        // UTF-8 of values that entered as `&str`), never on decoded data.
        match &mut self.data {
            Data::Boolean(v) => Arc::new(BooleanArray::new(v.finish(), nulls)),
            Data::Int16(v) => Arc::new(Int16Array::new(std::mem::take(v).into(), nulls)),
            Data::Int32(v) => {
                let values = ScalarBuffer::from(std::mem::take(v));
                match self.ty {
                    DataType::Date => Arc::new(Date32Array::new(values, nulls)),
                    _ => Arc::new(Int32Array::new(values, nulls)),
                }
            }
            Data::Int64(v) => {
                let values = ScalarBuffer::from(std::mem::take(v));
                match self.ty {
                    DataType::Time => Arc::new(Time64MicrosecondArray::new(values, nulls)),
                    DataType::Timestamp => Arc::new(TimestampMicrosecondArray::new(values, nulls)),
                    DataType::Timestamptz => Arc::new(
                        TimestampMicrosecondArray::new(values, nulls)
                            .with_timezone(crate::types::TIMESTAMPTZ_ARROW_TZ),
                    ),
                    _ => Arc::new(Int64Array::new(values, nulls)),
                }
            }
            Data::Float32(v) => Arc::new(Float32Array::new(std::mem::take(v).into(), nulls)),
            Data::Float64(v) => Arc::new(Float64Array::new(std::mem::take(v).into(), nulls)),
            Data::Decimal(v) => {
                Arc::new(Decimal128Array::new(std::mem::take(v).into(), nulls).with_data_type(self.ty.to_arrow()))
            }
            Data::Interval(v) => Arc::new(IntervalMonthDayNanoArray::new(std::mem::take(v).into(), nulls)),
            Data::Bytes(v) => {
                let (offsets, bytes) = v.take();
                match self.ty {
                    DataType::Bytea => Arc::new(BinaryArray::new(offsets, bytes, nulls)),
                    _ => Arc::new(StringArray::new(offsets, bytes, nulls)),
                }
            }
            Data::LargeBytes(v) => {
                let (offsets, bytes) = v.take();
                Arc::new(LargeStringArray::new(offsets, bytes, nulls))
            }
            Data::List { field, offsets, child } => {
                let offsets = std::mem::replace(offsets, vec![0]);
                Arc::new(ListArray::new(
                    field.clone(),
                    OffsetBuffer::new(ScalarBuffer::from(offsets)),
                    child.finish(),
                    nulls,
                ))
            }
            Data::Struct { fields, children } => {
                let columns = children.iter_mut().map(ColumnBuilder::finish).collect();
                Arc::new(StructArray::new(fields.clone(), columns, nulls))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, ListBuilder, StringBuilder};

    use super::*;

    fn all_types() -> Vec<DataType> {
        vec![
            DataType::Boolean,
            DataType::Int16,
            DataType::Int32,
            DataType::Int64,
            DataType::Float32,
            DataType::Float64,
            DataType::Decimal { precision: None, scale: None },
            DataType::Decimal { precision: Some(10), scale: Some(2) },
            DataType::Varchar,
            DataType::Bytea,
            DataType::Date,
            DataType::Time,
            DataType::Timestamp,
            DataType::Timestamptz,
            DataType::Interval,
            DataType::Jsonb,
            DataType::List(Box::new(DataType::Timestamptz)),
            DataType::List(Box::new(DataType::List(Box::new(DataType::Decimal {
                precision: Some(5),
                scale: Some(1),
            })))),
        ]
    }

    #[test]
    fn finishes_to_the_exact_arrow_type() {
        for ty in all_types() {
            let mut b = ColumnBuilder::new(&ty, 4).unwrap();
            b.append_null();
            let a = b.finish();
            assert_eq!(a.data_type(), &ty.to_arrow(), "{ty}");
            assert_eq!(a.len(), 1);
            assert!(a.is_null(0));
            assert!(b.is_empty());
            // A second batch from the same builder starts from scratch.
            b.append_null();
            b.append_null();
            assert_eq!(b.finish().len(), 2);
        }
    }

    #[test]
    fn matches_arrow_builders() {
        let ty = DataType::List(Box::new(DataType::Varchar));
        let mut b = ColumnBuilder::new(&ty, 0).unwrap();
        let child = b.list_values_mut().unwrap();
        child.append_str("a").unwrap();
        child.append_null();
        b.append_list().unwrap();
        b.append_null();
        b.append_list().unwrap();
        let got = b.finish();

        let mut expected = ListBuilder::new(StringBuilder::new());
        expected.append_value([Some("a"), None]);
        expected.append_null();
        expected.append_value(Vec::<Option<&str>>::new());
        let expected = expected.finish();
        assert_eq!(got.to_data(), expected.to_data());
    }

    #[test]
    fn rejects_wrong_appends_and_bad_decimals() {
        let mut b = ColumnBuilder::new(&DataType::Varchar, 0).unwrap();
        assert!(b.append_i32(1).is_err());
        assert!(b.append_bytes(b"x").is_err());
        assert!(b.list_values_mut().is_err());
        assert!(b.is_empty());
        assert!(ColumnBuilder::new(&DataType::Decimal { precision: Some(0), scale: Some(0) }, 0).is_err());
        assert!(ColumnBuilder::new(&DataType::Decimal { precision: Some(60), scale: Some(0) }, 0).is_err());
    }

    #[test]
    fn truncate_rolls_back_nested_values() {
        let ty = DataType::List(Box::new(DataType::Varchar));
        let mut b = ColumnBuilder::new(&ty, 0).unwrap();
        b.list_values_mut().unwrap().append_str("keep").unwrap();
        b.append_list().unwrap();
        b.list_values_mut().unwrap().append_str("drop").unwrap();
        b.append_list().unwrap();
        // An element appended but never closed into a list value, as a failed decode leaves it.
        b.list_values_mut().unwrap().append_str("dangling").unwrap();
        b.truncate(2);
        assert_eq!(b.list_values_mut().unwrap().len(), 2);
        b.truncate(1);
        b.list_values_mut().unwrap().append_str("new").unwrap();
        b.append_list().unwrap();
        let got = b.finish();

        let mut expected = ListBuilder::new(StringBuilder::new());
        expected.append_value([Some("keep")]);
        expected.append_value([Some("new")]);
        assert_eq!(got.to_data(), expected.finish().to_data());
    }
}
