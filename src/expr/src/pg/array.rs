//! Array functions with Postgres/RisingWave semantics: concatenation across element types and
//! dimensions, dimension queries, sorting with NULLs last, text conversion.

use std::sync::Arc;

use arrow::array::{new_empty_array, Array, ArrayRef, AsArray, ListArray};
use arrow::buffer::OffsetBuffer;
use arrow::compute::kernels::sort::SortOptions;
use arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

use super::err::{exec, no_function};
use super::func::func;
use super::text::{Printer, Style};
use super::types::*;

/// Elements of a list value; `None` for a NULL list.
pub(crate) fn elements(v: &ScalarValue) -> Option<ArrayRef> {
    match v {
        ScalarValue::List(l) if !l.is_empty() && !l.is_null(0) => Some(l.value(0)),
        ScalarValue::LargeList(l) if !l.is_empty() && !l.is_null(0) => Some(l.value(0)),
        ScalarValue::FixedSizeList(l) if !l.is_empty() && !l.is_null(0) => Some(l.value(0)),
        _ => None,
    }
}

/// A list value holding `values`.
pub(crate) fn list_value(values: ArrayRef) -> ScalarValue {
    let field = Arc::new(Field::new("item", values.data_type().clone(), true));
    let offsets = OffsetBuffer::from_lengths([values.len()]);
    ScalarValue::List(Arc::new(ListArray::new(field, offsets, values, None)))
}

/// Concatenates element arrays of one type.
fn concat_values(parts: &[ArrayRef], elem: &DataType) -> Result<ArrayRef> {
    if parts.is_empty() {
        return Ok(new_empty_array(elem));
    }
    let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    Ok(arrow::compute::concat(&refs)?)
}

/// Wraps one value (a list or a scalar) as a one-element array of its type.
fn single(v: &ScalarValue) -> Result<ArrayRef> {
    v.to_array_of_size(1)
}

/// The result type of combining an `a` and a `b` where at least one is an array: the array type
/// with more dimensions, with the common innermost type.
fn combined_type(name: &str, a: &DataType, b: &DataType) -> Result<DataType> {
    let (da, db) = (list_dims(a), list_dims(b));
    let ia = if matches!(a, DataType::Null) {
        &DataType::Null
    } else {
        innermost(a)
    };
    let ib = if matches!(b, DataType::Null) {
        &DataType::Null
    } else {
        innermost(b)
    };
    let inner = common_type(ia, ib).ok_or_else(|| no_function(name, &[a.clone(), b.clone()]))?;
    let inner = if matches!(inner, DataType::Null) {
        DataType::Utf8
    } else {
        inner
    };
    let dims = da.max(db).max(1);
    if da.abs_diff(db) > 1 && da != 0 && db != 0 {
        return Err(exec(format!(
            "cannot concatenate incompatible arrays: {} and {}",
            pg_type_name(a),
            pg_type_name(b)
        )));
    }
    let mut t = inner;
    for _ in 0..dims {
        t = list_of(t);
    }
    Ok(t)
}

/// The same dimensions as `t` with `inner` as innermost type (NULL stays NULL-typed).
fn with_inner(t: &DataType, inner: &DataType) -> DataType {
    match list_elem(t) {
        Some(e) => list_of(with_inner(e, inner)),
        None if matches!(t, DataType::Null) => DataType::Null,
        None => inner.clone(),
    }
}

fn coerce_pair(name: &'static str, t: &[DataType]) -> Result<Vec<DataType>> {
    if t.len() != 2 {
        return Err(no_function(name, t));
    }
    let r = combined_type(name, &t[0], &t[1])?;
    let inner = innermost(&r).clone();
    Ok(t.iter().map(|x| with_inner(x, &inner)).collect())
}

/// `a || b`, array_cat, array_append, array_prepend: one rule by dimensions.
fn combine(a: &ScalarValue, b: &ScalarValue, ret: &DataType) -> Result<ScalarValue> {
    let rd = list_dims(ret);
    let elem = list_elem(ret).cloned().unwrap_or(DataType::Null);
    let (ta, tb) = (a.data_type(), b.data_type());
    let part = |v: &ScalarValue, t: &DataType| -> Result<Option<ArrayRef>> {
        if list_dims(t) == rd {
            Ok(elements(v))
        } else if v.is_null() && list_dims(t) == 0 && matches!(t, DataType::Null) {
            Ok(None)
        } else {
            Ok(Some(single(v)?))
        }
    };
    let pa = part(a, &ta)?;
    let pb = part(b, &tb)?;
    if pa.is_none() && pb.is_none() {
        return ScalarValue::try_from(ret);
    }
    let parts: Vec<ArrayRef> = [pa, pb]
        .into_iter()
        .flatten()
        .map(|p| {
            if p.data_type() == &elem {
                Ok(p)
            } else {
                Ok(arrow::compute::cast(&p, &elem)?)
            }
        })
        .collect::<Result<_>>()?;
    Ok(list_value(concat_values(&parts, &elem)?))
}

pub(crate) fn concat_operator() -> ScalarUDF {
    func("pg_array_concat")
        .coerce(|t| coerce_pair("array_cat", t))
        .returns(|t| combined_type("array_cat", &t[0], &t[1]))
        .row(false, |a, ctx| combine(&a[0], &a[1], ctx.ret))
}

fn array_cat() -> ScalarUDF {
    func("array_cat")
        .alias("array_concat")
        .coerce(|t| {
            if t.len() == 2
                && (!is_list(&t[0]) && !matches!(t[0], DataType::Null)
                    || !is_list(&t[1]) && !matches!(t[1], DataType::Null))
            {
                return Err(no_function("array_cat", t));
            }
            coerce_pair("array_cat", t)
        })
        .returns(|t| combined_type("array_cat", &t[0], &t[1]))
        .row(false, |a, ctx| combine(&a[0], &a[1], ctx.ret))
}

fn array_append() -> ScalarUDF {
    func("array_append")
        .coerce(|t| {
            if t.len() != 2 || !(is_list(&t[0]) || matches!(t[0], DataType::Null)) {
                return Err(no_function("array_append", t));
            }
            coerce_pair("array_append", t)
        })
        .returns(|t| combined_type("array_append", &t[0], &t[1]))
        .row(false, |a, ctx| {
            // The element is always one element, even when NULL.
            let elem = list_elem(ctx.ret).cloned().unwrap_or(DataType::Null);
            let first = elements(&a[0])
                .map(Ok)
                .unwrap_or_else(|| Ok::<_, datafusion::common::DataFusionError>(new_empty_array(&elem)))?;
            let second = super::func::typed(a[1].clone(), &elem)?.to_array_of_size(1)?;
            let parts = [first, second]
                .into_iter()
                .map(|p| {
                    if p.data_type() == &elem {
                        Ok(p)
                    } else {
                        Ok(arrow::compute::cast(&p, &elem)?)
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(list_value(concat_values(&parts, &elem)?))
        })
}

fn array_prepend() -> ScalarUDF {
    func("array_prepend")
        .coerce(|t| {
            if t.len() != 2 || !(is_list(&t[1]) || matches!(t[1], DataType::Null)) {
                return Err(no_function("array_prepend", t));
            }
            coerce_pair("array_prepend", t)
        })
        .returns(|t| combined_type("array_prepend", &t[0], &t[1]))
        .row(false, |a, ctx| {
            let elem = list_elem(ctx.ret).cloned().unwrap_or(DataType::Null);
            let first = super::func::typed(a[0].clone(), &elem)?.to_array_of_size(1)?;
            let second = elements(&a[1])
                .map(Ok)
                .unwrap_or_else(|| Ok::<_, datafusion::common::DataFusionError>(new_empty_array(&elem)))?;
            let parts = [first, second]
                .into_iter()
                .map(|p| {
                    if p.data_type() == &elem {
                        Ok(p)
                    } else {
                        Ok(arrow::compute::cast(&p, &elem)?)
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(list_value(concat_values(&parts, &elem)?))
        })
}

fn require_list(name: &'static str, t: &[DataType], n: usize) -> Result<()> {
    if t.len() != n || !is_list(&t[0]) {
        return Err(no_function(name, t));
    }
    Ok(())
}

fn dim_arg(name: &'static str, t: &[DataType]) -> Result<DataType> {
    match &t[1] {
        t1 if is_int(t1) || is_string(t1) || matches!(t1, DataType::Null) => Ok(DataType::Int32),
        _ => Err(no_function(name, t)),
    }
}

fn array_ndims() -> ScalarUDF {
    func("array_ndims")
        .coerce(|t| {
            require_list("array_ndims", t, 1)?;
            Ok(t.to_vec())
        })
        .returns_type(DataType::Int32)
        .batch(|args, ctx| {
            // The dimensions are the type's, so a NULL array has them too.
            let n = list_dims(&ctx.arg_types[0]) as i32;
            Ok(Arc::new(arrow::array::Int32Array::from(vec![n; args[0].len()])) as ArrayRef)
        })
}

fn array_lower_upper(name: &'static str) -> ScalarUDF {
    func(name)
        .coerce(move |t| {
            require_list(name, t, 2)?;
            Ok(vec![t[0].clone(), dim_arg(name, t)?])
        })
        .returns_type(DataType::Int32)
        .strict(move |a, ctx| {
            let ScalarValue::Int32(Some(d)) = a[1] else {
                return Ok(ScalarValue::Null);
            };
            let dims = list_dims(&ctx.arg_types[0]) as i32;
            let Some(values) = elements(&a[0]) else {
                return Ok(ScalarValue::Null);
            };
            if d < 1 || d > dims || values.is_empty() {
                return Ok(ScalarValue::Null);
            }
            if name == "array_lower" {
                return Ok(ScalarValue::Int32(Some(1)));
            }
            if d > 1 {
                return Err(exec("array_upper: dimensions greater than 1 not supported"));
            }
            Ok(ScalarValue::Int32(Some(values.len() as i32)))
        })
}

fn array_length() -> ScalarUDF {
    func("array_length")
        .coerce(|t| {
            if t.is_empty() || t.len() > 2 || !is_list(&t[0]) {
                return Err(no_function("array_length", t));
            }
            let mut out = vec![t[0].clone()];
            if t.len() == 2 {
                out.push(dim_arg("array_length", t)?);
            }
            Ok(out)
        })
        .returns_type(DataType::Int32)
        .strict(|a, _| {
            let Some(values) = elements(&a[0]) else {
                return Ok(ScalarValue::Null);
            };
            let d = match a.get(1) {
                Some(ScalarValue::Int32(Some(d))) => *d,
                _ => 1,
            };
            if a.len() == 1 {
                return Ok(ScalarValue::Int32(Some(values.len() as i32)));
            }
            // Postgres: an empty array has no dimensions; the length of a missing one is NULL.
            if values.is_empty() || d < 1 {
                return Ok(ScalarValue::Null);
            }
            let mut cur = values;
            for _ in 1..d {
                match cur.data_type() {
                    DataType::List(_) => {
                        let l = cur.as_list::<i32>();
                        let Some(k) = (0..l.len()).find(|k| !l.is_null(*k)) else {
                            return Ok(ScalarValue::Null);
                        };
                        cur = l.value(k);
                    }
                    _ => return Ok(ScalarValue::Null),
                }
            }
            Ok(ScalarValue::Int32(Some(cur.len() as i32)))
        })
}

fn count_leaves(values: &ArrayRef) -> usize {
    match values.data_type() {
        DataType::List(_) => {
            let l = values.as_list::<i32>();
            (0..l.len())
                .filter(|k| !l.is_null(*k))
                .map(|k| count_leaves(&l.value(k)))
                .sum()
        }
        _ => values.len(),
    }
}

fn cardinality() -> ScalarUDF {
    func("cardinality")
        .coerce(|t| {
            require_list("cardinality", t, 1)?;
            Ok(t.to_vec())
        })
        .returns_type(DataType::Int32)
        .strict(|a, _| Ok(ScalarValue::Int32(elements(&a[0]).map(|v| count_leaves(&v) as i32))))
}

fn array_dims() -> ScalarUDF {
    func("array_dims")
        .coerce(|t| {
            require_list("array_dims", t, 1)?;
            Ok(t.to_vec())
        })
        .returns_type(DataType::Utf8)
        .strict(|a, _| {
            let Some(mut cur) = elements(&a[0]) else {
                return Ok(ScalarValue::Null);
            };
            if cur.is_empty() {
                return Ok(ScalarValue::Null);
            }
            let mut s = String::new();
            loop {
                s.push_str(&format!("[1:{}]", cur.len()));
                match cur.data_type() {
                    DataType::List(_) => {
                        let l = cur.as_list::<i32>();
                        match (0..l.len()).find(|k| !l.is_null(*k)) {
                            Some(k) if !l.value(k).is_empty() => cur = l.value(k),
                            _ => break,
                        }
                    }
                    _ => break,
                }
            }
            Ok(ScalarValue::Utf8(Some(s)))
        })
}

fn sorted(values: &ArrayRef, descending: bool) -> Result<ArrayRef> {
    let opts = SortOptions {
        descending,
        nulls_first: descending,
    };
    Ok(arrow::compute::sort(values, Some(opts))?)
}

fn array_sort() -> ScalarUDF {
    func("array_sort")
        .coerce(|t| {
            if t.is_empty() || t.len() > 3 || !is_list(&t[0]) {
                return Err(no_function("array_sort", t));
            }
            let mut out = vec![t[0].clone()];
            out.extend(std::iter::repeat_n(DataType::Utf8, t.len() - 1));
            Ok(out)
        })
        .row(false, |a, ctx| {
            let Some(values) = elements(&a[0]) else {
                return ScalarValue::try_from(ctx.ret);
            };
            let desc = matches!(a.get(1), Some(ScalarValue::Utf8(Some(d))) if d.eq_ignore_ascii_case("desc"));
            let mut opts = SortOptions {
                descending: desc,
                nulls_first: desc,
            };
            if let Some(ScalarValue::Utf8(Some(n))) = a.get(2) {
                opts.nulls_first = n.eq_ignore_ascii_case("nulls first");
            }
            Ok(list_value(arrow::compute::sort(&values, Some(opts))?))
        })
}

fn array_reverse() -> ScalarUDF {
    func("array_reverse")
        .coerce(|t| {
            require_list("array_reverse", t, 1)?;
            Ok(t.to_vec())
        })
        .strict(|a, _| {
            let Some(values) = elements(&a[0]) else {
                return Ok(ScalarValue::Null);
            };
            let idx: arrow::array::UInt32Array = (0..values.len() as u32).rev().map(Some).collect();
            Ok(list_value(arrow::compute::take(&values, &idx, None)?))
        })
}

fn array_distinct() -> ScalarUDF {
    func("array_distinct")
        .coerce(|t| {
            require_list("array_distinct", t, 1)?;
            Ok(t.to_vec())
        })
        .strict(|a, _| {
            let Some(values) = elements(&a[0]) else {
                return Ok(ScalarValue::Null);
            };
            let mut seen: Vec<ScalarValue> = vec![];
            let mut keep: Vec<u32> = vec![];
            for k in 0..values.len() {
                let v = ScalarValue::try_from_array(&values, k)?;
                if !seen.contains(&v) {
                    seen.push(v);
                    keep.push(k as u32);
                }
            }
            let idx = arrow::array::UInt32Array::from(keep);
            Ok(list_value(arrow::compute::take(&values, &idx, None)?))
        })
}

fn trim_array() -> ScalarUDF {
    func("trim_array")
        .coerce(|t| {
            require_list("trim_array", t, 2)?;
            Ok(vec![t[0].clone(), dim_arg("trim_array", t)?])
        })
        .strict(|a, _| {
            let Some(values) = elements(&a[0]) else {
                return Ok(ScalarValue::Null);
            };
            let ScalarValue::Int32(Some(n)) = a[1] else {
                return Ok(ScalarValue::Null);
            };
            if n < 0 || n as usize > values.len() {
                return Err(exec(format!(
                    "number of elements to trim must be between 0 and {}",
                    values.len()
                )));
            }
            Ok(list_value(values.slice(0, values.len() - n as usize)))
        })
}

fn min_max(name: &'static str, max: bool) -> ScalarUDF {
    func(name)
        .coerce(move |t| {
            require_list(name, t, 1)?;
            Ok(t.to_vec())
        })
        .returns(|t| Ok(list_elem(&t[0]).cloned().unwrap_or(DataType::Null)))
        .strict(move |a, ctx| {
            let Some(values) = elements(&a[0]) else {
                return ScalarValue::try_from(ctx.ret);
            };
            let s = sorted(&values, max)?;
            // Sorted with NULLs at the far end: the first non-NULL is the answer.
            for k in 0..s.len() {
                if !s.is_null(k) {
                    return ScalarValue::try_from_array(&s, k);
                }
            }
            ScalarValue::try_from(ctx.ret)
        })
}

fn array_sum() -> ScalarUDF {
    func("array_sum")
        .coerce(|t| {
            require_list("array_sum", t, 1)?;
            let e = list_elem(&t[0]).cloned().unwrap_or(DataType::Null);
            if !is_numeric(&e) && !matches!(e, DataType::Interval(_)) {
                return Err(no_function("array_sum", t));
            }
            Ok(t.to_vec())
        })
        .returns(|t| {
            Ok(match list_elem(&t[0]) {
                Some(DataType::Int16 | DataType::Int32) => DataType::Int64,
                Some(DataType::Int64) => NUMERIC,
                Some(DataType::Decimal128(_, s)) => DataType::Decimal128(38, *s),
                Some(DataType::Float32) => DataType::Float32,
                Some(other) => other.clone(),
                None => DataType::Null,
            })
        })
        .strict(|a, ctx| {
            let Some(values) = elements(&a[0]) else {
                return ScalarValue::try_from(ctx.ret);
            };
            let v = arrow::compute::cast(&values, ctx.ret)?;
            let mut acc: Option<ScalarValue> = None;
            for k in 0..v.len() {
                if v.is_null(k) {
                    continue;
                }
                let x = ScalarValue::try_from_array(&v, k)?;
                acc = Some(match acc {
                    None => x,
                    Some(s) => s.add_checked(&x)?,
                });
            }
            match acc {
                Some(s) => Ok(s),
                None => ScalarValue::try_from(ctx.ret),
            }
        })
}

fn flatten_texts(values: &ArrayRef, p: &Printer, out: &mut Vec<Option<String>>) -> Result<()> {
    match values.data_type() {
        DataType::List(_) => {
            let l = values.as_list::<i32>();
            for k in 0..l.len() {
                if !l.is_null(k) {
                    flatten_texts(&l.value(k), p, out)?;
                }
            }
        }
        _ => {
            for k in 0..values.len() {
                out.push(p.text(values.as_ref(), k)?);
            }
        }
    }
    Ok(())
}

fn array_to_string() -> ScalarUDF {
    func("array_to_string")
        .alias("array_join")
        .coerce(|t| {
            if t.len() < 2 || t.len() > 3 || !is_list(&t[0]) {
                return Err(no_function("array_to_string", t));
            }
            let mut out = vec![t[0].clone()];
            out.extend(std::iter::repeat_n(DataType::Utf8, t.len() - 1));
            Ok(out)
        })
        .returns_type(DataType::Utf8)
        .row(false, |a, ctx| {
            let (Some(values), ScalarValue::Utf8(Some(sep))) = (elements(&a[0]), &a[1]) else {
                return Ok(ScalarValue::Null);
            };
            let null_str = match a.get(2) {
                Some(ScalarValue::Utf8(Some(n))) => Some(n.as_str()),
                _ => None,
            };
            let p = Printer::new(ctx.time_zone()?, Style::Output);
            let mut texts = vec![];
            flatten_texts(&values, &p, &mut texts)?;
            let parts: Vec<&str> = texts.iter().filter_map(|t| t.as_deref().or(null_str)).collect();
            Ok(ScalarValue::Utf8(Some(parts.join(sep))))
        })
}

fn string_to_array() -> ScalarUDF {
    func("string_to_array")
        .alias("string_to_list")
        .coerce(|t| {
            if t.len() < 2 || t.len() > 3 {
                return Err(no_function("string_to_array", t));
            }
            Ok(vec![DataType::Utf8; t.len()])
        })
        .returns_type(list_of(DataType::Utf8))
        .row(false, |a, _| {
            let ScalarValue::Utf8(Some(s)) = &a[0] else {
                return Ok(ScalarValue::Null);
            };
            let null_str = match a.get(2) {
                Some(ScalarValue::Utf8(Some(n))) => Some(n.as_str()),
                _ => None,
            };
            let parts: Vec<&str> = if s.is_empty() {
                vec![]
            } else {
                match &a[1] {
                    ScalarValue::Utf8(Some(sep)) if sep.is_empty() => vec![s.as_str()],
                    ScalarValue::Utf8(Some(sep)) => s.split(sep.as_str()).collect(),
                    _ => s.char_indices().map(|(k, c)| &s[k..k + c.len_utf8()]).collect(),
                }
            };
            let vals: Vec<Option<&str>> = parts
                .into_iter()
                .map(|p| if Some(p) == null_str { None } else { Some(p) })
                .collect();
            Ok(list_value(Arc::new(arrow::array::StringArray::from(vals))))
        })
}

pub(crate) fn overlap() -> ScalarUDF {
    func("pg_array_overlap")
        .coerce(|t| coerce_pair("&&", t))
        .returns_type(DataType::Boolean)
        .strict(|a, _| {
            let (Some(x), Some(y)) = (elements(&a[0]), elements(&a[1])) else {
                return Ok(ScalarValue::Null);
            };
            for i in 0..x.len() {
                if x.is_null(i) {
                    continue;
                }
                let v = ScalarValue::try_from_array(&x, i)?;
                for j in 0..y.len() {
                    if !y.is_null(j) && ScalarValue::try_from_array(&y, j)? == v {
                        return Ok(ScalarValue::Boolean(Some(true)));
                    }
                }
            }
            Ok(ScalarValue::Boolean(Some(false)))
        })
}

/// `array_remove(a, x)` / `array_replace(a, x, y)`: every element equal to `x` (NULL matching
/// NULL) is dropped or becomes `y` (DataFusion's functions of these names touch the first one only).
fn array_remove_replace(name: &'static str) -> ScalarUDF {
    let n = if name == "array_remove" { 2 } else { 3 };
    func(name)
        .coerce(move |t| {
            require_list(name, t, n)?;
            let elem = list_elem(&t[0]).cloned().unwrap_or(DataType::Null);
            let mut out = vec![t[0].clone()];
            out.extend(std::iter::repeat_n(elem, n - 1));
            Ok(out)
        })
        .row(false, move |a, ctx| {
            let Some(values) = elements(&a[0]) else {
                return Ok(ScalarValue::Null);
            };
            let elem = values.data_type().clone();
            let target = super::func::typed(a[1].clone(), &elem)?;
            let mut out: Vec<ScalarValue> = Vec::with_capacity(values.len());
            for k in 0..values.len() {
                let v = ScalarValue::try_from_array(&values, k)?;
                if v == target || (v.is_null() && target.is_null()) {
                    if n == 3 {
                        out.push(super::func::typed(a[2].clone(), &elem)?);
                    }
                } else {
                    out.push(v);
                }
            }
            let _ = ctx;
            let arr = if out.is_empty() {
                new_empty_array(&elem)
            } else {
                ScalarValue::iter_to_array(out)?
            };
            Ok(list_value(arr))
        })
}

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![
        array_remove_replace("array_remove"),
        array_remove_replace("array_replace"),
        array_cat(),
        array_append(),
        array_prepend(),
        array_ndims(),
        array_lower_upper("array_lower"),
        array_lower_upper("array_upper"),
        array_length(),
        cardinality(),
        array_dims(),
        array_sort(),
        array_reverse(),
        array_distinct(),
        trim_array(),
        min_max("array_min", false),
        min_max("array_max", true),
        array_sum(),
        array_to_string(),
        string_to_array(),
    ]
}
