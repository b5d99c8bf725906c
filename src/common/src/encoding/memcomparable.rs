//! Memcomparable key encoding: comparing two encoded keys as byte strings gives the SQL order
//! of the rows, so the state store's sorted keys are sorted rows.
//!
//! Per column: a tag byte (`VALUE_TAG` < `NULL_TAG`, so NULLs sort last) then, for non-NULL:
//! - boolean: one byte 0/1;
//! - integers, date, time, timestamps, decimals (unscaled i128, fixed scale per column):
//!   big-endian with the sign bit flipped;
//! - floats: IEEE bits, negative values fully inverted and positive ones with the sign bit set;
//!   -0.0 is encoded as 0.0 and every NaN as one NaN that sorts above +inf, as Postgres orders
//!   them (so those two do not round-trip bit-exactly);
//! - interval: Postgres' comparison span (months as 30 days, days as 24 h) in nanoseconds as
//!   i128, then months, days and nanoseconds. Postgres treats `'1 mon'` and `'30 days'` as equal;
//!   here they sort next to each other but stay distinct keys, so the value decodes losslessly
//!   (this matches Arrow/DataFusion equality);
//! - varchar/bytea: groups of 8 bytes each followed by a marker byte: 0xFF when more groups
//!   follow, else 0xFF minus the zero padding of this last group. Self-delimiting, and a prefix
//!   sorts before its extensions. Strings compare bytewise (the C collation).
//!
//! - jsonb: its canonical text as a byte string, so keys are equal exactly when the values are
//!   and jsonb orders by that text (as DataFusion's batch ORDER BY does; Postgres' jsonb order
//!   differs);
//! - lists: each element's encoding (tag first), then `LIST_END`: element by element, a shorter
//!   list first, NULL elements last, as Postgres compares arrays;
//! - structs: the fields' encodings in order, as Postgres compares rows.
//!
//! A descending column has every byte of its encoding (tag included) inverted, which gives
//! Postgres' `DESC NULLS FIRST`.

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::IntervalMonthDayNano;

use super::buf::{corrupt, take_array, take_u8};
use super::builder::ColumnBuilder;
use super::view::{ColumnView, Values};
use crate::error::{CommonError, Result};
use crate::types::DataType;

const VALUE_TAG: u8 = 0x01;
const NULL_TAG: u8 = 0x02;
/// The marker of a full 8-byte group of a byte string that continues in the next group.
const GROUP_CONTINUES: u8 = 0xFF;
/// Closes a list's elements (each starts with its tag): below both tags, so a list sorts before
/// its extensions.
const LIST_END: u8 = 0x00;
const GROUP_SIZE: usize = 8;

const NANOS_PER_DAY: i128 = 86_400_000_000_000;
const DAYS_PER_MONTH: i128 = 30;

/// Appends the memcomparable encoding of row `i` of the given columns to `out[i]` for every
/// row. `descending` is empty (all ascending) or has one flag per column.
pub fn encode_key_columns(
    columns: &[ArrayRef],
    types: &[DataType],
    descending: &[bool],
    out: &mut [Vec<u8>],
) -> Result<()> {
    check_arity(types.len(), columns.len(), descending)?;
    for (c, (column, ty)) in columns.iter().zip(types).enumerate() {
        if column.len() != out.len() {
            return Err(CommonError::InvalidInput(format!(
                "key column {c} has {} rows, expected {}",
                column.len(),
                out.len()
            )));
        }
        let view = ColumnView::new(column.as_ref(), ty)?;
        let desc = descending.get(c).copied().unwrap_or(false);
        for (i, key) in out.iter_mut().enumerate() {
            let start = key.len();
            encode_datum(&view, i, key)?;
            if desc {
                key[start..].iter_mut().for_each(|b| *b = !*b);
            }
        }
    }
    Ok(())
}

/// Decodes one key (consuming it from `buf`) and appends its values to `builders`. On error
/// neither `buf` nor `builders` change.
pub fn decode_key(
    buf: &mut &[u8],
    types: &[DataType],
    descending: &[bool],
    builders: &mut [ColumnBuilder],
) -> Result<()> {
    check_arity(types.len(), builders.len(), descending)?;
    let mut cur = *buf;
    for (c, (ty, builder)) in types.iter().zip(builders.iter_mut()).enumerate() {
        let mask = if descending.get(c).copied().unwrap_or(false) { 0xFF } else { 0 };
        let result = if builder.data_type() == ty {
            decode_datum(&mut cur, ty, mask, builder)
        } else {
            Err(CommonError::InvalidInput(format!("builder of {} for key column of {ty}", builder.data_type())))
        };
        if let Err(e) = result {
            // Every earlier column got exactly one value; this one got none, though a list may
            // hold elements of its unfinished value, which truncating to its length drops.
            for b in &mut builders[..c] {
                b.truncate(b.len().saturating_sub(1));
            }
            let len = builders[c].len();
            builders[c].truncate(len);
            return Err(e);
        }
    }
    *buf = cur;
    Ok(())
}

fn check_arity(types: usize, columns: usize, descending: &[bool]) -> Result<()> {
    if columns != types || !(descending.is_empty() || descending.len() == types) {
        return Err(CommonError::InvalidInput(format!(
            "{columns} key columns, {types} types and {} order flags",
            descending.len()
        )));
    }
    Ok(())
}

fn encode_datum(view: &ColumnView<'_>, i: usize, out: &mut Vec<u8>) -> Result<()> {
    if view.is_null(i) {
        out.push(NULL_TAG);
        return Ok(());
    }
    out.push(VALUE_TAG);
    match &view.values {
        Values::Boolean(a) => out.push(u8::from(a.value(i))),
        Values::Int16(v) => out.extend_from_slice(&((v[i] as u16) ^ (1 << 15)).to_be_bytes()),
        Values::Int32(v) => out.extend_from_slice(&((v[i] as u32) ^ (1 << 31)).to_be_bytes()),
        Values::Int64(v) => out.extend_from_slice(&((v[i] as u64) ^ (1 << 63)).to_be_bytes()),
        Values::Decimal(v) => out.extend_from_slice(&((v[i] as u128) ^ (1 << 127)).to_be_bytes()),
        Values::Float32(v) => out.extend_from_slice(&f32_key(v[i]).to_be_bytes()),
        Values::Float64(v) => out.extend_from_slice(&f64_key(v[i]).to_be_bytes()),
        Values::Interval(v) => encode_interval(v[i], out),
        Values::Utf8(a) => encode_bytes(a.value(i).as_bytes(), out),
        Values::Binary(a) => encode_bytes(a.value(i), out),
        Values::LargeUtf8(a) => encode_bytes(a.value(i).as_bytes(), out),
        Values::List { offsets, elements } => {
            let (Some(&start), Some(&end)) = (offsets.get(i), offsets.get(i + 1)) else {
                return Err(CommonError::InvalidInput(format!("list offsets miss row {i}")));
            };
            for j in start as usize..end as usize {
                encode_datum(elements, j, out)?;
            }
            out.push(LIST_END);
        }
        Values::Struct(fields) => {
            for f in fields {
                encode_datum(f, i, out)?;
            }
        }
    }
    Ok(())
}

fn f32_key(v: f32) -> u32 {
    let v = if v.is_nan() { f32::NAN } else if v == 0.0 { 0.0 } else { v };
    let bits = v.to_bits();
    if bits >> 31 == 1 { !bits } else { bits | (1 << 31) }
}

fn f64_key(v: f64) -> u64 {
    let v = if v.is_nan() { f64::NAN } else if v == 0.0 { 0.0 } else { v };
    let bits = v.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | (1 << 63) }
}

fn interval_span(v: IntervalMonthDayNano) -> i128 {
    (i128::from(v.months) * DAYS_PER_MONTH + i128::from(v.days)) * NANOS_PER_DAY + i128::from(v.nanoseconds)
}

fn encode_interval(v: IntervalMonthDayNano, out: &mut Vec<u8>) {
    out.extend_from_slice(&((interval_span(v) as u128) ^ (1 << 127)).to_be_bytes());
    out.extend_from_slice(&((v.months as u32) ^ (1 << 31)).to_be_bytes());
    out.extend_from_slice(&((v.days as u32) ^ (1 << 31)).to_be_bytes());
    out.extend_from_slice(&((v.nanoseconds as u64) ^ (1 << 63)).to_be_bytes());
}

fn encode_bytes(data: &[u8], out: &mut Vec<u8>) {
    let mut groups = data.chunks_exact(GROUP_SIZE);
    for group in &mut groups {
        out.extend_from_slice(group);
        out.push(GROUP_CONTINUES);
    }
    let rest = groups.remainder();
    let pad = GROUP_SIZE - rest.len();
    out.extend_from_slice(rest);
    out.resize(out.len() + pad, 0);
    out.push(GROUP_CONTINUES - pad as u8);
}

/// `mask` is 0xFF for a descending column: XOR-ing every byte read undoes the inversion.
fn decode_datum(buf: &mut &[u8], ty: &DataType, mask: u8, b: &mut ColumnBuilder) -> Result<()> {
    match take_u8(buf)? ^ mask {
        VALUE_TAG => {}
        NULL_TAG => {
            b.append_null();
            return Ok(());
        }
        tag => return Err(corrupt(format_args!("key tag {tag:#04x}"))),
    }
    match ty {
        DataType::Boolean => match take_array::<1>(buf, mask)? {
            [0] => b.append_bool(false),
            [1] => b.append_bool(true),
            [x] => Err(corrupt(format_args!("boolean byte {x:#04x}"))),
        },
        DataType::Int16 => b.append_i16((u16::from_be_bytes(take_array(buf, mask)?) ^ (1 << 15)) as i16),
        DataType::Int32 | DataType::Date => {
            b.append_i32((u32::from_be_bytes(take_array(buf, mask)?) ^ (1 << 31)) as i32)
        }
        DataType::Int64 | DataType::Time | DataType::Timestamp | DataType::Timestamptz => {
            b.append_i64((u64::from_be_bytes(take_array(buf, mask)?) ^ (1 << 63)) as i64)
        }
        DataType::Decimal { .. } => {
            b.append_decimal((u128::from_be_bytes(take_array(buf, mask)?) ^ (1 << 127)) as i128)
        }
        DataType::Float32 => {
            let bits = u32::from_be_bytes(take_array(buf, mask)?);
            let bits = if bits >> 31 == 1 { bits ^ (1 << 31) } else { !bits };
            b.append_f32(f32::from_bits(bits))
        }
        DataType::Float64 => {
            let bits = u64::from_be_bytes(take_array(buf, mask)?);
            let bits = if bits >> 63 == 1 { bits ^ (1 << 63) } else { !bits };
            b.append_f64(f64::from_bits(bits))
        }
        DataType::Interval => b.append_interval(decode_interval(buf, mask)?),
        DataType::Varchar => {
            let bytes = decode_bytes(buf, mask)?;
            let s = String::from_utf8(bytes).map_err(|_| corrupt("varchar key is not UTF-8"))?;
            b.append_str(&s)
        }
        DataType::Bytea => b.append_bytes(&decode_bytes(buf, mask)?),
        DataType::Jsonb => {
            let bytes = decode_bytes(buf, mask)?;
            let s = String::from_utf8(bytes).map_err(|_| corrupt("jsonb key is not UTF-8"))?;
            b.append_str(&s)
        }
        DataType::List(elem) => {
            let elements = b.list_values_mut()?;
            loop {
                match buf.first().map(|t| t ^ mask) {
                    Some(LIST_END) => {
                        *buf = &buf[1..];
                        break;
                    }
                    Some(_) => decode_datum(buf, elem, mask, elements)?,
                    None => return Err(corrupt("list key ends before its end marker")),
                }
            }
            b.append_list()
        }
        DataType::Struct(fields) => {
            let children = b.struct_fields_mut()?;
            for ((_, t), child) in fields.iter().zip(children.iter_mut()) {
                decode_datum(buf, t, mask, child)?;
            }
            b.append_struct()
        }
    }
}

fn decode_interval(buf: &mut &[u8], mask: u8) -> Result<IntervalMonthDayNano> {
    let span = (u128::from_be_bytes(take_array(buf, mask)?) ^ (1 << 127)) as i128;
    let months = (u32::from_be_bytes(take_array(buf, mask)?) ^ (1 << 31)) as i32;
    let days = (u32::from_be_bytes(take_array(buf, mask)?) ^ (1 << 31)) as i32;
    let nanos = (u64::from_be_bytes(take_array(buf, mask)?) ^ (1 << 63)) as i64;
    let v = IntervalMonthDayNano::new(months, days, nanos);
    if interval_span(v) != span {
        return Err(corrupt("interval span does not match its fields"));
    }
    Ok(v)
}

fn decode_bytes(buf: &mut &[u8], mask: u8) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let group = take_array::<{ GROUP_SIZE + 1 }>(buf, mask)?;
        let (data, marker) = group.split_at(GROUP_SIZE);
        let marker = marker[0];
        if marker == GROUP_CONTINUES {
            out.extend_from_slice(data);
            continue;
        }
        let pad = usize::from(GROUP_CONTINUES - marker);
        if pad > GROUP_SIZE {
            return Err(corrupt(format_args!("byte string group marker {marker:#04x}")));
        }
        let (value, padding) = data.split_at(GROUP_SIZE - pad);
        if padding.iter().any(|&b| b != 0) {
            return Err(corrupt("byte string padding is not zero"));
        }
        out.extend_from_slice(value);
        return Ok(out);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{BinaryArray, Float64Array, Int32Array, ListArray, StringArray};
    use arrow::datatypes::Int32Type;

    use super::*;

    fn keys(columns: &[ArrayRef], types: &[DataType], desc: &[bool]) -> Vec<Vec<u8>> {
        let mut out = vec![Vec::new(); columns[0].len()];
        encode_key_columns(columns, types, desc, &mut out).unwrap();
        out
    }

    #[test]
    fn byte_strings_sort_by_prefix_and_delimit_themselves() {
        let values: Vec<&[u8]> =
            vec![b"", b"\0", b"a", b"a\0", b"abcdefgh", b"abcdefgh\0", b"abcdefghi", b"b", b"\xff\xff"];
        let col: ArrayRef = Arc::new(BinaryArray::from(values.clone()));
        let k = keys(&[col], &[DataType::Bytea], &[]);
        assert!(k.windows(2).all(|w| w[0] < w[1]), "{k:?}");
        assert_eq!(k[0].len(), 1 + 9);
        assert_eq!(k[4].len(), 1 + 18);
    }

    #[test]
    fn nulls_last_ascending_and_first_descending() {
        let col: ArrayRef = Arc::new(Int32Array::from(vec![Some(-5), None, Some(3)]));
        let asc = keys(std::slice::from_ref(&col), &[DataType::Int32], &[false]);
        assert!(asc[0] < asc[2] && asc[2] < asc[1]);
        let desc = keys(&[col], &[DataType::Int32], &[true]);
        assert!(desc[1] < desc[2] && desc[2] < desc[0]);
    }

    #[test]
    fn floats_follow_postgres_order() {
        let col: ArrayRef = Arc::new(Float64Array::from(vec![
            f64::NEG_INFINITY,
            -1.5,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ]));
        let k = keys(&[col], &[DataType::Float64], &[]);
        assert!(k[0] < k[1] && k[1] < k[2] && k[3] < k[4] && k[4] < k[5] && k[5] < k[6]);
        assert_eq!(k[2], k[3]);
        assert_eq!(k[6], k[7]);
    }

    #[test]
    fn decodes_several_keys_from_one_buffer() {
        let types = [DataType::Varchar, DataType::Int32];
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![Some("héllo wörld!"), None])),
            Arc::new(Int32Array::from(vec![None, Some(7)])),
        ];
        let k = keys(&cols, &types, &[true, false]);
        let joined = k.concat();
        let mut buf = joined.as_slice();
        let mut builders: Vec<_> = types.iter().map(|t| ColumnBuilder::new(t, 2).unwrap()).collect();
        decode_key(&mut buf, &types, &[true, false], &mut builders).unwrap();
        decode_key(&mut buf, &types, &[true, false], &mut builders).unwrap();
        assert!(buf.is_empty());
        let got: Vec<ArrayRef> = builders.iter_mut().map(|b| b.finish()).collect();
        assert_eq!(got[0].to_data(), cols[0].to_data());
        assert_eq!(got[1].to_data(), cols[1].to_data());
    }

    #[test]
    fn a_truncated_key_leaves_state_unchanged() {
        let types = [DataType::Int32, DataType::Int32];
        let col: ArrayRef = Arc::new(Int32Array::from(vec![1]));
        let k = keys(&[col.clone(), col], &types, &[]);
        let mut builders: Vec<_> = types.iter().map(|t| ColumnBuilder::new(t, 1).unwrap()).collect();
        let mut buf = &k[0][..k[0].len() - 1];
        assert!(decode_key(&mut buf, &types, &[], &mut builders).is_err());
        assert_eq!(buf.len(), k[0].len() - 1);
        assert!(builders.iter().all(|b| b.is_empty()));

        // A list cut before its end marker: the elements decoded so far are dropped too.
        let types = [DataType::Int32, DataType::List(Box::new(DataType::Int32))];
        let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1), Some(2)])]));
        let int: ArrayRef = Arc::new(Int32Array::from(vec![7]));
        let k = keys(&[int, list], &types, &[true, false]);
        let mut builders: Vec<_> = types.iter().map(|t| ColumnBuilder::new(t, 1).unwrap()).collect();
        let mut buf = &k[0][..k[0].len() - 1];
        assert!(decode_key(&mut buf, &types, &[true, false], &mut builders).is_err());
        let mut buf = &k[0][..];
        decode_key(&mut buf, &types, &[true, false], &mut builders).unwrap();
        assert!(buf.is_empty());
        let decoded = builders[1].finish();
        let decoded = arrow::array::AsArray::as_list::<i32>(decoded.as_ref());
        assert_eq!(decoded.len(), 1);
        assert_eq!(decoded.value(0).as_ref(), &Int32Array::from(vec![1, 2]) as &dyn arrow::array::Array);
    }
}
