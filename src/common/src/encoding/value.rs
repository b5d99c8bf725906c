//! Value encoding: the compact, not order-preserving form of a row's values in the state store.
//!
//! Row: `varint column count | null bitmap (bit set = NULL, one bit per column) | values of the
//! non-NULL columns in order`. The count lets a row written before `ADD COLUMN` decode under
//! the longer schema: the missing trailing columns read as NULL.
//!
//! Values: boolean as one byte; integers, date, time, timestamps as zigzag varints; decimals as a
//! zigzag varint of the unscaled i128; floats as 4/8 little-endian bytes (bit-exact, NaN payloads
//! and -0.0 kept); interval as three zigzag varints (months, days, nanoseconds); varchar, bytea
//! and jsonb as `varint length | bytes`; a list as `varint length | null bitmap | non-NULL
//! elements`, a struct as `null bitmap of its fields | non-NULL fields`, recursively.

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::IntervalMonthDayNano;

use super::buf::{
    bit_is_set, bitmap_len, check_bitmap_padding, corrupt, get_i128, get_i64, get_len, put_i128, put_i64,
    put_uvarint, take, take_array, take_u8,
};
use super::builder::ColumnBuilder;
use super::view::{ColumnView, Values};
use crate::error::{CommonError, Result};
use crate::types::DataType;

/// Appends the value encoding of row `i` of `columns` to `out[i]` for every row.
pub fn encode_value_columns(columns: &[ArrayRef], types: &[DataType], out: &mut [Vec<u8>]) -> Result<()> {
    if columns.len() != types.len() {
        return Err(CommonError::InvalidInput(format!("{} columns but {} types", columns.len(), types.len())));
    }
    let mut views = Vec::with_capacity(columns.len());
    for (c, (column, ty)) in columns.iter().zip(types).enumerate() {
        if column.len() != out.len() {
            return Err(CommonError::InvalidInput(format!(
                "column {c} has {} rows, expected {}",
                column.len(),
                out.len()
            )));
        }
        views.push(ColumnView::new(column.as_ref(), ty)?);
    }
    for (i, row) in out.iter_mut().enumerate() {
        put_uvarint(row, views.len() as u128);
        let start = row.len();
        row.resize(start + bitmap_len(views.len()), 0);
        for (c, view) in views.iter().enumerate() {
            if view.is_null(i) {
                row[start + c / 8] |= 1 << (c % 8);
            }
        }
    }
    // Column by column, so each column's type dispatch stays hot across its rows.
    for view in &views {
        for (i, row) in out.iter_mut().enumerate() {
            if !view.is_null(i) {
                encode_datum(view, i, row)?;
            }
        }
    }
    Ok(())
}

/// Decodes one row from `buf`, which must hold exactly one encoded row, appending one value to
/// every builder. On error the builders are left as they were.
pub fn decode_value(buf: &[u8], types: &[DataType], builders: &mut [ColumnBuilder]) -> Result<()> {
    if builders.len() != types.len() {
        return Err(CommonError::InvalidInput(format!("{} builders but {} types", builders.len(), types.len())));
    }
    if let Some((b, ty)) = builders.iter().zip(types).find(|(b, ty)| b.data_type() != *ty) {
        return Err(CommonError::InvalidInput(format!("builder of {} for a column of {ty}", b.data_type())));
    }
    let mut done = 0;
    let result = decode_row(buf, types, builders, &mut done);
    if result.is_err() {
        for b in &mut builders[..done] {
            b.truncate(b.len().saturating_sub(1));
        }
        // The failing column got no value, but a list may hold elements of a value never closed.
        if let Some(b) = builders.get_mut(done) {
            b.truncate(b.len());
        }
    }
    result
}

/// `done` counts the builders that already got this row's value.
fn decode_row(mut buf: &[u8], types: &[DataType], builders: &mut [ColumnBuilder], done: &mut usize) -> Result<()> {
    let n = get_len(&mut buf)?;
    if n > types.len() {
        return Err(corrupt(format_args!("row has {n} columns, the schema {}", types.len())));
    }
    let bitmap = take(&mut buf, bitmap_len(n))?;
    check_bitmap_padding(bitmap, n)?;
    for (c, (ty, b)) in types.iter().zip(builders.iter_mut()).enumerate() {
        if c >= n || bit_is_set(bitmap, c) {
            b.append_null();
        } else {
            decode_datum(&mut buf, ty, b)?;
        }
        *done += 1;
    }
    if !buf.is_empty() {
        return Err(corrupt(format_args!("{} bytes after the row", buf.len())));
    }
    Ok(())
}

fn put_bytes(out: &mut Vec<u8>, v: &[u8]) {
    put_uvarint(out, v.len() as u128);
    out.extend_from_slice(v);
}

fn encode_datum(view: &ColumnView<'_>, i: usize, out: &mut Vec<u8>) -> Result<()> {
    match &view.values {
        Values::Boolean(a) => out.push(u8::from(a.value(i))),
        Values::Int16(v) => put_i64(out, i64::from(v[i])),
        Values::Int32(v) => put_i64(out, i64::from(v[i])),
        Values::Int64(v) => put_i64(out, v[i]),
        Values::Decimal(v) => put_i128(out, v[i]),
        Values::Float32(v) => out.extend_from_slice(&v[i].to_le_bytes()),
        Values::Float64(v) => out.extend_from_slice(&v[i].to_le_bytes()),
        Values::Interval(v) => {
            put_i64(out, i64::from(v[i].months));
            put_i64(out, i64::from(v[i].days));
            put_i64(out, v[i].nanoseconds);
        }
        Values::Utf8(a) => put_bytes(out, a.value(i).as_bytes()),
        Values::Binary(a) => put_bytes(out, a.value(i)),
        Values::LargeUtf8(a) => put_bytes(out, a.value(i).as_bytes()),
        Values::List { offsets, elements } => {
            let (Some(&start), Some(&end)) = (offsets.get(i), offsets.get(i + 1)) else {
                return Err(CommonError::InvalidInput(format!("list offsets miss row {i}")));
            };
            let (start, end) = (start as usize, end as usize);
            let n = end.saturating_sub(start);
            put_uvarint(out, n as u128);
            let bitmap_at = out.len();
            out.resize(bitmap_at + bitmap_len(n), 0);
            for j in 0..n {
                if elements.is_null(start + j) {
                    out[bitmap_at + j / 8] |= 1 << (j % 8);
                }
            }
            for j in start..end {
                if !elements.is_null(j) {
                    encode_datum(elements, j, out)?;
                }
            }
        }
        Values::Struct(fields) => {
            let bitmap_at = out.len();
            out.resize(bitmap_at + bitmap_len(fields.len()), 0);
            for (j, f) in fields.iter().enumerate() {
                if f.is_null(i) {
                    out[bitmap_at + j / 8] |= 1 << (j % 8);
                }
            }
            for f in fields {
                if !f.is_null(i) {
                    encode_datum(f, i, out)?;
                }
            }
        }
    }
    Ok(())
}

fn get_narrow<T: TryFrom<i64>>(buf: &mut &[u8], what: &str) -> Result<T> {
    let v = get_i64(buf)?;
    T::try_from(v).map_err(|_| corrupt(format_args!("{what} {v} out of range")))
}

fn get_bytes<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8]> {
    let n = get_len(buf)?;
    take(buf, n)
}

fn get_str<'a>(buf: &mut &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(get_bytes(buf)?).map_err(|_| corrupt("string is not UTF-8"))
}

fn decode_datum(buf: &mut &[u8], ty: &DataType, b: &mut ColumnBuilder) -> Result<()> {
    match ty {
        DataType::Boolean => match take_u8(buf)? {
            0 => b.append_bool(false),
            1 => b.append_bool(true),
            x => Err(corrupt(format_args!("boolean byte {x:#04x}"))),
        },
        DataType::Int16 => b.append_i16(get_narrow(buf, "int16")?),
        DataType::Int32 | DataType::Date => b.append_i32(get_narrow(buf, "int32")?),
        DataType::Int64 | DataType::Time | DataType::Timestamp | DataType::Timestamptz => b.append_i64(get_i64(buf)?),
        DataType::Decimal { .. } => b.append_decimal(get_i128(buf)?),
        DataType::Float32 => b.append_f32(f32::from_le_bytes(take_array(buf, 0)?)),
        DataType::Float64 => b.append_f64(f64::from_le_bytes(take_array(buf, 0)?)),
        DataType::Interval => {
            let months = get_narrow(buf, "interval months")?;
            let days = get_narrow(buf, "interval days")?;
            let nanos = get_i64(buf)?;
            b.append_interval(IntervalMonthDayNano::new(months, days, nanos))
        }
        DataType::Varchar | DataType::Jsonb => b.append_str(get_str(buf)?),
        DataType::Bytea => b.append_bytes(get_bytes(buf)?),
        DataType::List(elem) => {
            let n = get_len(buf)?;
            // Taking the bitmap first also bounds `n` by the bytes actually present.
            let bitmap = take(buf, bitmap_len(n))?;
            check_bitmap_padding(bitmap, n)?;
            let elements = b.list_values_mut()?;
            for j in 0..n {
                if bit_is_set(bitmap, j) {
                    elements.append_null();
                } else {
                    decode_datum(buf, elem, elements)?;
                }
            }
            b.append_list()
        }
        DataType::Struct(fields) => {
            let bitmap = take(buf, bitmap_len(fields.len()))?;
            check_bitmap_padding(bitmap, fields.len())?;
            let children = b.struct_fields_mut()?;
            for (j, ((_, t), child)) in fields.iter().zip(children.iter_mut()).enumerate() {
                if bit_is_set(bitmap, j) {
                    child.append_null();
                } else {
                    decode_datum(buf, t, child)?;
                }
            }
            b.append_struct()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int32Array, StringArray};

    use super::*;

    #[test]
    fn rows_written_before_add_column_read_trailing_nulls() {
        let cols: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(vec![Some(-3)]))];
        let mut out = vec![Vec::new()];
        encode_value_columns(&cols, &[DataType::Int32], &mut out).unwrap();
        assert_eq!(out[0], vec![1, 0, 5]);

        let types = [DataType::Int32, DataType::Varchar];
        let mut builders: Vec<_> = types.iter().map(|t| ColumnBuilder::new(t, 1).unwrap()).collect();
        decode_value(&out[0], &types, &mut builders).unwrap();
        assert_eq!(builders[0].finish().to_data(), cols[0].to_data());
        assert_eq!(builders[1].finish().to_data(), StringArray::from(vec![None::<&str>]).to_data());
    }

    #[test]
    fn rejects_trailing_bytes_and_rolls_back() {
        let types = [DataType::Int32, DataType::Int32];
        let cols: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(vec![1])), Arc::new(Int32Array::from(vec![2]))];
        let mut out = vec![Vec::new()];
        encode_value_columns(&cols, &types, &mut out).unwrap();
        out[0].push(0);
        let mut builders: Vec<_> = types.iter().map(|t| ColumnBuilder::new(t, 1).unwrap()).collect();
        assert!(decode_value(&out[0], &types, &mut builders).is_err());
        assert!(builders.iter().all(|b| b.is_empty()));
    }
}
