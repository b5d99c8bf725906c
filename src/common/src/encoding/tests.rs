//! Property tests of the codecs: random columns of every type round-trip through each encoding,
//! key bytes sort like the values, and random or damaged bytes give errors, never panics.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int16Array, Int32Array, Int64Array, IntervalMonthDayNanoArray, LargeStringArray, ListArray, StringArray,
    Time64MicrosecondArray, TimestampMicrosecondArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType as ArrowType, IntervalMonthDayNano};
use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::types::{DataType, TIMESTAMPTZ_ARROW_TZ};

/// A SQL value as the tests generate and compare it. Dates, times and timestamps use the
/// integer variants, jsonb uses `Str`: the column's type says which.
#[derive(Clone, Debug)]
enum Val {
    Null,
    Bool(bool),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Dec(i128),
    Str(String),
    Bytes(Vec<u8>),
    Interval(i32, i32, i64),
    List(Vec<Val>),
    Struct(Vec<Val>),
}

fn key_types() -> Vec<DataType> {
    let mut types: Vec<DataType> = crate::types::scalar_types().into_iter().collect();
    types.push(DataType::Decimal { precision: Some(10), scale: Some(2) });
    types
}

/// Any type, including jsonb and lists nested up to two levels.
fn any_type() -> impl Strategy<Value = DataType> {
    let mut scalars = key_types();
    scalars.push(DataType::Jsonb);
    let inner = DataType::Struct(vec![("x".into(), DataType::Varchar), ("y".into(), DataType::Float64)]);
    scalars.push(DataType::Struct(vec![
        ("a".into(), DataType::Int32),
        ("b".into(), inner),
        ("c".into(), DataType::List(Box::new(DataType::Int16))),
    ]));
    (proptest::sample::select(scalars), 0..3usize).prop_map(|(mut ty, depth)| {
        for _ in 0..depth {
            ty = DataType::List(Box::new(ty));
        }
        ty
    })
}

fn float32() -> impl Strategy<Value = f32> {
    prop_oneof![
        any::<f32>(),
        Just(0.0),
        Just(-0.0),
        Just(f32::NAN),
        Just(-f32::NAN),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        -2.0f32..2.0,
    ]
}

fn float64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(0.0),
        Just(-0.0),
        Just(f64::NAN),
        Just(-f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        -2.0f64..2.0,
    ]
}

/// Values mix the full range with a small domain, so that the order tests see many ties.
fn val(ty: &DataType) -> BoxedStrategy<Val> {
    let value = match ty {
        DataType::Boolean => any::<bool>().prop_map(Val::Bool).boxed(),
        DataType::Int16 => prop_oneof![any::<i16>(), -2i16..2].prop_map(Val::I16).boxed(),
        DataType::Int32 | DataType::Date => prop_oneof![any::<i32>(), -2i32..2].prop_map(Val::I32).boxed(),
        DataType::Int64 | DataType::Time | DataType::Timestamp | DataType::Timestamptz => {
            prop_oneof![any::<i64>(), -2i64..2].prop_map(Val::I64).boxed()
        }
        DataType::Float32 => float32().prop_map(Val::F32).boxed(),
        DataType::Float64 => float64().prop_map(Val::F64).boxed(),
        DataType::Decimal { precision, .. } => {
            let max = 10i128.pow(u32::from(precision.unwrap_or(38))) - 1;
            prop_oneof![-max..=max, Just(max), Just(-max), -2i128..2].prop_map(Val::Dec).boxed()
        }
        DataType::Varchar | DataType::Jsonb => {
            prop_oneof![any::<String>(), "[ab\0]{0,10}", "[a-z]{7,9}"].prop_map(Val::Str).boxed()
        }
        DataType::Bytea => prop_oneof![vec(any::<u8>(), 0..20), vec(prop_oneof![Just(0u8), Just(255u8)], 0..17)]
            .prop_map(Val::Bytes)
            .boxed(),
        DataType::Interval => prop_oneof![
            (any::<i32>(), any::<i32>(), any::<i64>()),
            (-1i32..2, prop_oneof![Just(-30i32), Just(0), Just(30)], -1i64..2),
        ]
        .prop_map(|(m, d, n)| Val::Interval(m, d, n))
        .boxed(),
        DataType::List(elem) => vec(val(elem), 0..4).prop_map(Val::List).boxed(),
        DataType::Struct(fields) => fields.iter().map(|(_, t)| val(t)).collect::<Vec<_>>().prop_map(Val::Struct).boxed(),
    };
    prop_oneof![1 => Just(Val::Null), 4 => value].boxed()
}

/// Column-major: one `Vec<Val>` per type, all of `rows` length.
fn columns_of(types: Vec<DataType>, rows: std::ops::Range<usize>) -> impl Strategy<Value = (Vec<DataType>, Vec<Vec<Val>>)> {
    rows.prop_flat_map(move |n| {
        let cols: Vec<_> = types.iter().map(|t| vec(val(t), n)).collect();
        (Just(types.clone()), cols)
    })
}

fn to_array(ty: &DataType, vals: &[Val]) -> ArrayRef {
    macro_rules! prim {
        ($array:ty, $variant:ident) => {
            Arc::new(<$array>::from(
                vals.iter()
                    .map(|v| match v {
                        Val::$variant(x) => Some(x.clone()),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ))
        };
    }
    match ty {
        DataType::Boolean => prim!(BooleanArray, Bool),
        DataType::Int16 => prim!(Int16Array, I16),
        DataType::Int32 => prim!(Int32Array, I32),
        DataType::Date => prim!(Date32Array, I32),
        DataType::Int64 => prim!(Int64Array, I64),
        DataType::Time => prim!(Time64MicrosecondArray, I64),
        DataType::Timestamp => prim!(TimestampMicrosecondArray, I64),
        DataType::Timestamptz => {
            let a: ArrayRef = prim!(TimestampMicrosecondArray, I64);
            Arc::new(
                a.as_any()
                    .downcast_ref::<TimestampMicrosecondArray>()
                    .unwrap()
                    .clone()
                    .with_timezone(TIMESTAMPTZ_ARROW_TZ),
            )
        }
        DataType::Float32 => prim!(Float32Array, F32),
        DataType::Float64 => prim!(Float64Array, F64),
        DataType::Decimal { .. } => {
            let ArrowType::Decimal128(p, s) = ty.to_arrow() else { unreachable!() };
            let a: ArrayRef = prim!(Decimal128Array, Dec);
            Arc::new(
                a.as_any()
                    .downcast_ref::<Decimal128Array>()
                    .unwrap()
                    .clone()
                    .with_precision_and_scale(p, s)
                    .unwrap(),
            )
        }
        DataType::Interval => Arc::new(IntervalMonthDayNanoArray::from(
            vals.iter()
                .map(|v| match v {
                    Val::Interval(m, d, n) => Some(IntervalMonthDayNano::new(*m, *d, *n)),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        DataType::Varchar | DataType::Jsonb => {
            let strs: Vec<Option<&str>> = vals
                .iter()
                .map(|v| match v {
                    Val::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect();
            if *ty == DataType::Jsonb {
                Arc::new(LargeStringArray::from(strs))
            } else {
                Arc::new(StringArray::from(strs))
            }
        }
        DataType::Bytea => Arc::new(BinaryArray::from(
            vals.iter()
                .map(|v| match v {
                    Val::Bytes(b) => Some(b.as_slice()),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        DataType::List(elem) => {
            let ArrowType::List(field) = ty.to_arrow() else { unreachable!() };
            let mut children = Vec::new();
            let mut lens = Vec::new();
            for v in vals {
                match v {
                    Val::List(items) => {
                        lens.push(items.len());
                        children.extend(items.iter().cloned());
                    }
                    _ => lens.push(0),
                }
            }
            let valid = NullBuffer::from(vals.iter().map(|v| !matches!(v, Val::Null)).collect::<Vec<_>>());
            Arc::new(ListArray::new(field, OffsetBuffer::from_lengths(lens), to_array(elem, &children), Some(valid)))
        }
        DataType::Struct(members) => {
            let ArrowType::Struct(fields) = ty.to_arrow() else { unreachable!() };
            let columns = members
                .iter()
                .enumerate()
                .map(|(j, (_, t))| {
                    let children: Vec<Val> = vals
                        .iter()
                        .map(|v| match v {
                            Val::Struct(items) => items[j].clone(),
                            _ => Val::Null,
                        })
                        .collect();
                    to_array(t, &children)
                })
                .collect();
            let valid = NullBuffer::from(vals.iter().map(|v| !matches!(v, Val::Null)).collect::<Vec<_>>());
            Arc::new(arrow::array::StructArray::new(fields, columns, Some(valid)))
        }
    }
}

fn builders(types: &[DataType]) -> Vec<ColumnBuilder> {
    types.iter().map(|t| ColumnBuilder::new(t, 8).unwrap()).collect()
}

/// What a key decodes to: floats as Postgres equates them.
fn key_normalized(v: &Val) -> Val {
    match v {
        Val::F32(x) if x.is_nan() => Val::F32(f32::NAN),
        Val::F32(x) if *x == 0.0 => Val::F32(0.0),
        Val::F64(x) if x.is_nan() => Val::F64(f64::NAN),
        Val::F64(x) if *x == 0.0 => Val::F64(0.0),
        Val::List(items) => Val::List(items.iter().map(key_normalized).collect()),
        Val::Struct(items) => Val::Struct(items.iter().map(key_normalized).collect()),
        other => other.clone(),
    }
}

fn interval_order_key(m: i32, d: i32, n: i64) -> (i128, i32, i32, i64) {
    ((i128::from(m) * 30 + i128::from(d)) * 86_400_000_000_000 + i128::from(n), m, d, n)
}

/// SQL order, ascending with NULLs last.
fn cmp_val(a: &Val, b: &Val) -> Ordering {
    match (key_normalized(a), key_normalized(b)) {
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Null, _) => Ordering::Greater,
        (_, Val::Null) => Ordering::Less,
        (Val::Bool(x), Val::Bool(y)) => x.cmp(&y),
        (Val::I16(x), Val::I16(y)) => x.cmp(&y),
        (Val::I32(x), Val::I32(y)) => x.cmp(&y),
        (Val::I64(x), Val::I64(y)) => x.cmp(&y),
        (Val::F32(x), Val::F32(y)) => x.total_cmp(&y),
        (Val::F64(x), Val::F64(y)) => x.total_cmp(&y),
        (Val::Dec(x), Val::Dec(y)) => x.cmp(&y),
        (Val::Str(x), Val::Str(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Val::Bytes(x), Val::Bytes(y)) => x.cmp(&y),
        (Val::Interval(m1, d1, n1), Val::Interval(m2, d2, n2)) => {
            interval_order_key(m1, d1, n1).cmp(&interval_order_key(m2, d2, n2))
        }
        (Val::Struct(x), Val::Struct(y)) => {
            x.iter().zip(&y).map(|(a, b)| cmp_val(a, b)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
        }
        (Val::List(x), Val::List(y)) => {
            x.iter().zip(&y).map(|(a, b)| cmp_val(a, b)).find(|o| o.is_ne()).unwrap_or_else(|| x.len().cmp(&y.len()))
        }
        (x, y) => panic!("no order between {x:?} and {y:?}"),
    }
}

fn cmp_rows(cols: &[Vec<Val>], desc: &[bool], i: usize, j: usize) -> Ordering {
    for (c, col) in cols.iter().enumerate() {
        let o = cmp_val(&col[i], &col[j]);
        let o = if desc[c] { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn key_case() -> impl Strategy<Value = (Vec<DataType>, Vec<bool>, Vec<Vec<Val>>)> {
    vec((any_type(), any::<bool>()), 1..4).prop_flat_map(|cols| {
        let (types, desc): (Vec<_>, Vec<_>) = cols.into_iter().unzip();
        columns_of(types, 1..24).prop_map(move |(types, vals)| (types, desc.clone(), vals))
    })
}

fn value_case(rows: std::ops::Range<usize>) -> impl Strategy<Value = (Vec<DataType>, Vec<Vec<Val>>)> {
    vec(any_type(), 0..5).prop_flat_map(move |types| columns_of(types, rows.clone()))
}

fn encode_keys(cols: &[ArrayRef], types: &[DataType], desc: &[bool], rows: usize) -> Vec<Vec<u8>> {
    let mut keys = vec![Vec::new(); rows];
    encode_key_columns(cols, types, desc, &mut keys).unwrap();
    keys
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn value_encoding_round_trips_exactly((types, vals) in value_case(0..10), offset in 0usize..3) {
        let rows = vals.first().map_or(0, Vec::len);
        let offset = offset.min(rows);
        // A sliced input checks that array offsets are respected.
        let cols: Vec<ArrayRef> =
            types.iter().zip(&vals).map(|(t, v)| to_array(t, v).slice(offset, rows - offset)).collect();
        let mut encoded = vec![Vec::new(); rows - offset];
        encode_value_columns(&cols, &types, &mut encoded).unwrap();
        let mut bs = builders(&types);
        for row in &encoded {
            decode_value(row, &types, &mut bs).unwrap();
        }
        for (b, col) in bs.iter_mut().zip(&cols) {
            let got = b.finish();
            prop_assert_eq!(got.data_type(), &b.data_type().to_arrow());
            prop_assert_eq!(got.to_data(), col.to_data());
        }
    }

    #[test]
    fn key_encoding_round_trips((types, desc, vals) in key_case()) {
        let rows = vals[0].len();
        let cols: Vec<ArrayRef> = types.iter().zip(&vals).map(|(t, v)| to_array(t, v)).collect();
        let keys = encode_keys(&cols, &types, &desc, rows);
        let mut bs = builders(&types);
        for key in &keys {
            let mut buf = key.as_slice();
            decode_key(&mut buf, &types, &desc, &mut bs).unwrap();
            prop_assert!(buf.is_empty());
        }
        for ((b, ty), v) in bs.iter_mut().zip(&types).zip(&vals) {
            let expected = to_array(ty, &v.iter().map(key_normalized).collect::<Vec<_>>());
            prop_assert_eq!(b.finish().to_data(), expected.to_data());
        }
    }

    #[test]
    fn key_bytes_sort_like_values((types, desc, vals) in key_case(), all_ascending in any::<bool>()) {
        let rows = vals[0].len();
        let cols: Vec<ArrayRef> = types.iter().zip(&vals).map(|(t, v)| to_array(t, v)).collect();
        // An empty flag slice means all ascending.
        let (flags, desc) = if all_ascending { (vec![], vec![false; types.len()]) } else { (desc.clone(), desc) };
        let keys = encode_keys(&cols, &types, &flags, rows);
        for i in 0..rows {
            for j in 0..rows {
                prop_assert_eq!(
                    keys[i].cmp(&keys[j]),
                    cmp_rows(&vals, &desc, i, j),
                    "rows {:?} vs {:?}",
                    vals.iter().map(|c| &c[i]).collect::<Vec<_>>(),
                    vals.iter().map(|c| &c[j]).collect::<Vec<_>>()
                );
            }
        }
    }

    #[test]
    fn damaged_keys_fail_cleanly((types, desc, vals) in key_case(), noise in vec(any::<u8>(), 0..64), at in any::<usize>()) {
        let cols: Vec<ArrayRef> = types.iter().zip(&vals).map(|(t, v)| to_array(t, v)).collect();
        let key = encode_keys(&cols, &types, &desc, vals[0].len()).swap_remove(0);
        let mut bs = builders(&types);
        // Every strict prefix is missing bytes.
        for cut in 0..key.len() {
            let mut buf = &key[..cut];
            prop_assert!(decode_key(&mut buf, &types, &desc, &mut bs).is_err());
            prop_assert_eq!(buf.len(), cut);
        }
        prop_assert!(bs.iter().all(|b| b.is_empty()));
        // Flipped bytes and pure noise may decode to something else, but never panic or leave
        // the builders uneven.
        let mut flipped = key.clone();
        let at = at % flipped.len();
        flipped[at] ^= 0x5A;
        for input in [flipped, noise] {
            let mut buf = input.as_slice();
            let before: Vec<usize> = bs.iter().map(ColumnBuilder::len).collect();
            let ok = decode_key(&mut buf, &types, &desc, &mut bs).is_ok();
            let grew = usize::from(ok);
            prop_assert!(bs.iter().zip(&before).all(|(b, n)| b.len() == n + grew));
        }
    }

    #[test]
    fn damaged_values_fail_cleanly((types, vals) in value_case(1..4), noise in vec(any::<u8>(), 0..64), at in any::<usize>()) {
        // With no columns there is still one (empty) row to damage.
        let rows = vals.first().map_or(1, Vec::len);
        let cols: Vec<ArrayRef> = types.iter().zip(&vals).map(|(t, v)| to_array(t, v)).collect();
        let mut encoded = vec![Vec::new(); rows];
        encode_value_columns(&cols, &types, &mut encoded).unwrap();
        let mut bs = builders(&types);
        let row = encoded.swap_remove(0);
        for cut in 0..row.len() {
            prop_assert!(decode_value(&row[..cut], &types, &mut bs).is_err());
        }
        prop_assert!(bs.iter().all(|b| b.is_empty()));
        let mut flipped = row.clone();
        let at = at % flipped.len();
        flipped[at] ^= 0x5A;
        for input in [flipped, noise] {
            let before: Vec<usize> = bs.iter().map(ColumnBuilder::len).collect();
            let ok = decode_value(&input, &types, &mut bs).is_ok();
            let grew = usize::from(ok);
            prop_assert!(bs.iter().zip(&before).all(|(b, n)| b.len() == n + grew));
        }
        // Whatever was decoded still forms valid arrays of the right type.
        for b in &mut bs {
            let a = b.finish();
            prop_assert_eq!(a.data_type(), &b.data_type().to_arrow());
            prop_assert!(a.to_data().validate_full().is_ok());
        }
    }
}
