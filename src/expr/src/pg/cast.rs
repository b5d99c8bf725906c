//! Casts with Postgres semantics where Arrow's differ: text input and output of every type,
//! rounding (not truncating) numeric/float to integer, session time zone for timestamptz, text
//! arrays. `pg_cast(value, NULL::target)` is the function; [`PgCastRule`] puts it in place of
//! the plan's casts that need it.

use std::sync::Arc;

use arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, BinaryBuilder, GenericListArray, Int16Array, Int32Array, Int64Array,
    StringBuilder,
};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{
    DataType, Decimal128Type, Float64Type, IntervalMonthDayNano, TimeUnit, TimestampMicrosecondType,
};
use chrono::{NaiveDate, NaiveTime, Timelike};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{BinaryExpr, Cast, Expr, ExprSchemable, LogicalPlan, Operator, ScalarUDF};
use datafusion::optimizer::AnalyzerRule;

use super::err::{cannot_cast, exec, out_of_range};
use super::func::func;
use super::parse::{self, ArrayLit};
use super::text::{Printer, Style};
use super::types::*;
use super::tz::{micros_to_naive, naive_to_micros, Zone};

const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Whether a cast from `from` to `to` must take Postgres' path instead of Arrow's.
pub(crate) fn needs_pg_cast(from: &DataType, to: &DataType) -> bool {
    if from == to {
        return false;
    }
    let text_in = is_string(from);
    if matches!(from, DataType::Date32) && (is_numeric(to) || matches!(to, DataType::Boolean)) {
        // Postgres has no such casts; Arrow would give the raw representation.
        return true;
    }
    match to {
        // Field by field, by position (Arrow's struct cast matches fields by name).
        DataType::Struct(_) if matches!(from, DataType::Struct(_)) => true,
        DataType::Struct(_) => text_in,
        _ if is_list(from) && is_list(to) => {
            let (Some(a), Some(b)) = (list_elem(from), list_elem(to)) else {
                return false;
            };
            needs_pg_cast(a, b) || list_dims(from) != list_dims(to)
        }
        _ if is_string(to) => {
            !(is_int(from)
                || is_string(from)
                || matches!(from, DataType::Null | DataType::LargeUtf8 | DataType::Date32))
        }
        DataType::Int16 | DataType::Int32 | DataType::Int64 => text_in || is_float(from) || is_decimal(from),
        DataType::Float32 => text_in || matches!(from, DataType::Float64),
        DataType::Float64 | DataType::Boolean | DataType::Binary => text_in,
        DataType::Decimal128(..) => text_in || is_float(from),
        DataType::Date32 => text_in || is_timestamptz(from),
        DataType::Time64(_) => text_in || is_timestamptz(from),
        DataType::Interval(_) => text_in,
        DataType::Timestamp(_, None) => text_in || is_timestamptz(from),
        DataType::Timestamp(_, Some(_)) => text_in || is_timestamp(from) || matches!(from, DataType::Date32),
        DataType::List(_) => text_in,
        _ => false,
    }
}

/// `int4(x)`, `float8(x)`...: the cast to a type called as a function.
fn cast_function(name: &'static str, to: DataType) -> ScalarUDF {
    let ret = to.clone();
    func(name)
        .stable()
        .coerce(move |t| {
            if t.len() != 1 {
                return Err(super::err::arg_count(name, t));
            }
            Ok(t.to_vec())
        })
        .returns_type(ret)
        .batch(move |args, ctx| cast_array(&args[0], &to, &ctx.time_zone()?))
}

pub(crate) fn cast_functions() -> Vec<ScalarUDF> {
    vec![
        cast_function("int2", DataType::Int16),
        cast_function("int4", DataType::Int32),
        cast_function("int8", DataType::Int64),
        cast_function("float4", DataType::Float32),
        cast_function("float8", DataType::Float64),
    ]
}

/// `pg_cast(value, NULL::target)`: casts `value` to the type of the second argument.
pub(crate) fn pg_cast_udf() -> ScalarUDF {
    func("pg_cast")
        .stable()
        .coerce(|t| {
            if t.len() != 2 {
                return Err(super::err::arg_count("pg_cast", t));
            }
            Ok(t.to_vec())
        })
        .returns(|t| Ok(t.get(1).cloned().unwrap_or(DataType::Null)))
        .batch(|args, ctx| cast_array(&args[0], ctx.ret, &ctx.time_zone()?))
}

pub(crate) fn pg_cast_expr(e: Expr, to: &DataType) -> Result<Expr> {
    Ok(pg_cast_udf().call(vec![e, Expr::Literal(ScalarValue::try_from(to)?, None)]))
}

fn strict_options() -> CastOptions<'static> {
    CastOptions {
        safe: false,
        ..Default::default()
    }
}

/// Casts an array as Postgres would.
pub(crate) fn cast_array(arr: &ArrayRef, to: &DataType, zone: &Zone) -> Result<ArrayRef> {
    let from = arr.data_type();
    if from == to {
        return Ok(Arc::clone(arr));
    }
    if matches!(from, DataType::Null) {
        return Ok(new_null_array(to, arr.len()));
    }
    if !needs_pg_cast(from, to) {
        return Ok(cast_with_options(arr, to, &strict_options())?);
    }
    if is_list(from) && is_list(to) {
        return cast_list(arr, to, zone);
    }
    if let (DataType::Struct(_), DataType::Struct(_)) = (from, to) {
        return cast_struct(arr, to, zone);
    }
    if matches!(from, DataType::Date32) && (is_numeric(to) || matches!(to, DataType::Boolean)) {
        return Err(cannot_cast(from, to));
    }
    if matches!(from, DataType::Float64) && matches!(to, DataType::Float32) {
        // Postgres' float8 -> float4 rejects finite values out of real's range.
        let out = cast_with_options(arr, to, &strict_options())?;
        let (a, b) = (arr.as_primitive::<arrow::datatypes::Float64Type>(), out.as_primitive::<arrow::datatypes::Float32Type>());
        for i in 0..a.len() {
            if a.is_null(i) {
                continue;
            }
            let (x, y) = (a.value(i), b.value(i));
            if x.is_finite() && y.is_infinite() {
                return Err(exec("value out of range: overflow"));
            }
            if x != 0.0 && y == 0.0 {
                return Err(exec("value out of range: underflow"));
            }
        }
        return Ok(out);
    }
    if is_string(to) {
        let printer = Printer::new(*zone, Style::Cast);
        let mut b = StringBuilder::with_capacity(arr.len(), arr.len() * 8);
        for i in 0..arr.len() {
            match printer.text(arr.as_ref(), i)? {
                Some(s) => b.append_value(s),
                None => b.append_null(),
            }
        }
        let out: ArrayRef = Arc::new(b.finish());
        return Ok(if to == &DataType::Utf8 {
            out
        } else {
            cast_with_options(&out, to, &strict_options())?
        });
    }
    if is_string(from) {
        let strings = cast_with_options(arr, &DataType::Utf8, &strict_options())?;
        let strings = strings.as_string::<i32>();
        if to == &DataType::Binary {
            let mut b = BinaryBuilder::new();
            for v in strings.iter() {
                match v {
                    Some(s) => b.append_value(parse::parse_bytea(s)?),
                    None => b.append_null(),
                }
            }
            return Ok(Arc::new(b.finish()));
        }
        let vals = strings
            .iter()
            .map(|v| match v {
                Some(s) => parse_text(s, to, zone),
                None => ScalarValue::try_from(to),
            })
            .collect::<Result<Vec<_>>>()?;
        if vals.is_empty() {
            return Ok(new_null_array(to, 0));
        }
        return Ok(ScalarValue::iter_to_array(vals)?);
    }
    match (from, to) {
        (DataType::Decimal128(_, s), DataType::Int16 | DataType::Int32 | DataType::Int64) => {
            let s = *s;
            let a = arr.as_primitive::<Decimal128Type>();
            let rounded: Vec<Option<i128>> = a.iter().map(|v| v.map(|v| round_decimal_to_int(v, s))).collect();
            ints_from_i128(rounded, to)
        }
        (DataType::Float32 | DataType::Float64, DataType::Int16 | DataType::Int32 | DataType::Int64) => {
            let f = cast_with_options(arr, &DataType::Float64, &strict_options())?;
            let f = f.as_primitive::<Float64Type>();
            let mut out = Vec::with_capacity(f.len());
            for v in f.iter() {
                out.push(match v {
                    None => None,
                    Some(x) => {
                        let r = x.round_ties_even();
                        if !r.is_finite() || r < -1.8e19 || r > 1.8e19 {
                            return Err(out_of_range(int_name(to)));
                        }
                        Some(r as i128)
                    }
                });
            }
            ints_from_i128(out, to)
        }
        (DataType::Float32 | DataType::Float64, DataType::Decimal128(p, sc)) => {
            let f = cast_with_options(arr, &DataType::Float64, &strict_options())?;
            let f = f.as_primitive::<Float64Type>();
            let limit = 10f64.powi(*p as i32);
            let mut out = Vec::with_capacity(f.len());
            for v in f.iter() {
                out.push(match v {
                    None => None,
                    Some(x) if x.is_nan() || x.is_infinite() => return Err(parse::numeric_nan_unsupported()),
                    Some(x) => {
                        let scaled = (x * 10f64.powi(*sc as i32)).round();
                        if scaled.abs() >= limit {
                            return Err(exec("numeric out of range"));
                        }
                        Some(scaled as i128)
                    }
                });
            }
            Ok(Arc::new(
                arrow::array::Decimal128Array::from(out).with_precision_and_scale(*p, *sc)?,
            ))
        }
        (DataType::Timestamp(..), _) | (DataType::Date32, DataType::Timestamp(..)) => {
            let micros = cast_with_options(arr, &TIMESTAMP, &strict_options())?;
            let micros = micros.as_primitive::<TimestampMicrosecondType>();
            let from_tz = is_timestamptz(from);
            // Built in this crate's own units, then brought to the target's.
            let canonical = match to {
                DataType::Date32 => DataType::Date32,
                DataType::Time64(_) | DataType::Time32(_) => TIME,
                DataType::Timestamp(_, None) => TIMESTAMP,
                DataType::Timestamp(_, Some(tz)) => DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::clone(tz))),
                _ => return Err(cannot_cast(from, to)),
            };
            let vals = micros
                .iter()
                .map(|v| match v {
                    None => ScalarValue::try_from(&canonical),
                    Some(us) => {
                        let n = micros_to_naive(us).ok_or_else(|| out_of_range("timestamp"))?;
                        let local = if from_tz { zone.to_local(&n) } else { n };
                        Ok(match &canonical {
                            DataType::Date32 => ScalarValue::Date32(Some(date_to_days(&local.date()))),
                            DataType::Time64(_) => ScalarValue::Time64Microsecond(Some(time_to_micros(&local.time()))),
                            DataType::Timestamp(_, None) => {
                                ScalarValue::TimestampMicrosecond(Some(naive_to_micros(&local)), None)
                            }
                            DataType::Timestamp(_, Some(tz)) => {
                                let utc = if from_tz { n } else { zone.to_utc(&n) };
                                ScalarValue::TimestampMicrosecond(Some(naive_to_micros(&utc)), Some(Arc::clone(tz)))
                            }
                            _ => return Err(cannot_cast(from, to)),
                        })
                    }
                })
                .collect::<Result<Vec<_>>>()?;
            let out = if vals.is_empty() {
                new_null_array(&canonical, 0)
            } else {
                ScalarValue::iter_to_array(vals)?
            };
            Ok(if out.data_type() == to {
                out
            } else {
                cast_with_options(&out, to, &strict_options())?
            })
        }
        _ => Ok(cast_with_options(arr, to, &strict_options())?),
    }
}

fn int_name(t: &DataType) -> &'static str {
    match t {
        DataType::Int16 => "smallint",
        DataType::Int32 => "integer",
        _ => "bigint",
    }
}

fn ints_from_i128(vals: Vec<Option<i128>>, to: &DataType) -> Result<ArrayRef> {
    let (min, max) = match to {
        DataType::Int16 => (i16::MIN as i128, i16::MAX as i128),
        DataType::Int32 => (i32::MIN as i128, i32::MAX as i128),
        _ => (i64::MIN as i128, i64::MAX as i128),
    };
    if vals.iter().flatten().any(|v| *v < min || *v > max) {
        return Err(out_of_range(int_name(to)));
    }
    Ok(match to {
        DataType::Int16 => Arc::new(vals.into_iter().map(|v| v.map(|v| v as i16)).collect::<Int16Array>()),
        DataType::Int32 => Arc::new(vals.into_iter().map(|v| v.map(|v| v as i32)).collect::<Int32Array>()),
        _ => Arc::new(vals.into_iter().map(|v| v.map(|v| v as i64)).collect::<Int64Array>()),
    })
}

/// Rounds a decimal (unscaled `v` at `scale`) to an integer, half away from zero.
pub(crate) fn round_decimal_to_int(v: i128, scale: i8) -> i128 {
    if scale <= 0 {
        return v.saturating_mul(10i128.saturating_pow((-scale) as u32));
    }
    let d = 10i128.pow(scale.min(38) as u32);
    let q = v / d;
    let r = (v % d).abs();
    if r * 2 >= d {
        q + v.signum()
    } else {
        q
    }
}

pub(crate) fn date_to_days(d: &NaiveDate) -> i32 {
    use chrono::Datelike;
    d.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE
}

pub(crate) fn days_to_date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(UNIX_EPOCH_DAYS_FROM_CE)?)
}

pub(crate) fn time_to_micros(t: &NaiveTime) -> i64 {
    t.num_seconds_from_midnight() as i64 * 1_000_000 + (t.nanosecond() / 1000) as i64
}

/// Reads one value of type `to` from its text.
pub(crate) fn parse_text(s: &str, to: &DataType, zone: &Zone) -> Result<ScalarValue> {
    Ok(match to {
        DataType::Utf8 => ScalarValue::Utf8(Some(s.to_string())),
        DataType::Utf8View => ScalarValue::Utf8View(Some(s.to_string())),
        DataType::Boolean => ScalarValue::Boolean(Some(parse::parse_bool(s)?)),
        DataType::Int16 => ScalarValue::Int16(Some(
            parse::parse_i64(s, "smallint", i16::MIN as i64, i16::MAX as i64)? as i16
        )),
        DataType::Int32 => ScalarValue::Int32(Some(
            parse::parse_i64(s, "integer", i32::MIN as i64, i32::MAX as i64)? as i32
        )),
        DataType::Int64 => ScalarValue::Int64(Some(parse::parse_i64(s, "bigint", i64::MIN, i64::MAX)?)),
        DataType::Float32 => ScalarValue::Float32(Some(parse::parse_f32(s)?)),
        DataType::Float64 => ScalarValue::Float64(Some(parse::parse_f64(s, "double precision")?)),
        DataType::Decimal128(p, sc) => ScalarValue::Decimal128(Some(parse::parse_decimal(s, *p, *sc)?), *p, *sc),
        DataType::Binary => ScalarValue::Binary(Some(parse::parse_bytea(s)?)),
        DataType::Date32 => ScalarValue::Date32(Some(date_to_days(&parse::parse_date(s)?))),
        DataType::Time64(unit) => {
            let us = time_to_micros(&parse::parse_time(s)?);
            match unit {
                TimeUnit::Nanosecond => ScalarValue::Time64Nanosecond(Some(us * 1000)),
                _ => ScalarValue::Time64Microsecond(Some(us)),
            }
        }
        DataType::Timestamp(unit, tz) => {
            let (dt, z) = parse::parse_datetime(
                s,
                if tz.is_some() {
                    "timestamp with time zone"
                } else {
                    "timestamp"
                },
            )?;
            let utc = match tz {
                Some(_) => z.as_ref().unwrap_or(zone).to_utc(&dt),
                None => dt,
            };
            timestamp_scalar(naive_to_micros(&utc), unit, tz.clone())?
        }
        DataType::Interval(_) => {
            let (months, days, nanoseconds) = parse::parse_interval(s)?;
            ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano {
                months,
                days,
                nanoseconds,
            }))
        }
        DataType::List(f) => {
            let items = parse::parse_array(s, &pg_type_name(to))?;
            list_from_lit(&items, f.data_type(), zone, &pg_type_name(to))?
        }
        DataType::Struct(fields) => {
            let texts = tributary_common::pg_value::split_record(s, fields.len()).map_err(|e| exec(e.to_string()))?;
            let mut columns = Vec::with_capacity(fields.len());
            for (text, f) in texts.iter().zip(fields.iter()) {
                let v = match text {
                    Some(t) => parse_text(t, f.data_type(), zone)?,
                    None => ScalarValue::try_from(f.data_type())?,
                };
                columns.push(v.to_array()?);
            }
            ScalarValue::Struct(Arc::new(arrow::array::StructArray::try_new(fields.clone(), columns, None)?))
        }
        other => {
            let v = ScalarValue::Utf8(Some(s.to_string()));
            v.cast_to(other)?
        }
    })
}

/// Casts a struct to another struct type of as many fields, field by field by position with
/// Postgres' casts (a row literal `(1, 'a')` gets its fields' names and types this way).
fn cast_struct(arr: &ArrayRef, to: &DataType, zone: &Zone) -> Result<ArrayRef> {
    let (from_st, DataType::Struct(to_fields)) = (arr.as_struct(), to) else {
        return Err(cannot_cast(arr.data_type(), to));
    };
    if from_st.num_columns() != to_fields.len() {
        return Err(exec(format!(
            "cannot cast type {} to {}: {} fields for {}",
            pg_type_name(arr.data_type()),
            pg_type_name(to),
            from_st.num_columns(),
            to_fields.len()
        )));
    }
    let columns =
        from_st.columns().iter().zip(to_fields.iter()).map(|(c, f)| cast_array(c, f.data_type(), zone)).collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(arrow::array::StructArray::try_new(to_fields.clone(), columns, from_st.nulls().cloned())?))
}

/// A timestamp of the given unit from microseconds.
pub(crate) fn timestamp_scalar(us: i64, unit: &TimeUnit, tz: Option<Arc<str>>) -> Result<ScalarValue> {
    Ok(match unit {
        TimeUnit::Second => ScalarValue::TimestampSecond(Some(us.div_euclid(1_000_000)), tz),
        TimeUnit::Millisecond => ScalarValue::TimestampMillisecond(Some(us.div_euclid(1000)), tz),
        TimeUnit::Microsecond => ScalarValue::TimestampMicrosecond(Some(us), tz),
        TimeUnit::Nanosecond => {
            ScalarValue::TimestampNanosecond(Some(us.checked_mul(1000).ok_or_else(|| out_of_range("timestamp"))?), tz)
        }
    })
}

fn list_from_lit(items: &[ArrayLit], elem: &DataType, zone: &Zone, type_name: &str) -> Result<ScalarValue> {
    let mut vals = Vec::with_capacity(items.len());
    for it in items {
        vals.push(match (it, list_elem(elem)) {
            (ArrayLit::Elem(None), _) => ScalarValue::try_from(elem)?,
            (ArrayLit::Elem(Some(t)), None) => parse_text(t, elem, zone)?,
            (ArrayLit::Array(inner), Some(e)) => list_from_lit(inner, e, zone, type_name)?,
            _ => {
                return Err(exec(format!(
                    "malformed array literal for type {type_name}: dimensions don't match"
                )))
            }
        });
    }
    Ok(ScalarValue::List(ScalarValue::new_list_nullable(&vals, elem)))
}

fn cast_list(arr: &ArrayRef, to: &DataType, zone: &Zone) -> Result<ArrayRef> {
    let to_elem = list_elem(to).cloned().unwrap_or(DataType::Null);
    let to_field = match to {
        DataType::List(f) => Arc::clone(f),
        _ => return Err(cannot_cast(arr.data_type(), to)),
    };
    let list = match arr.data_type() {
        DataType::List(_) => arr.as_list::<i32>().clone(),
        _ => {
            let l = cast_with_options(
                arr,
                &list_of(list_elem(arr.data_type()).cloned().unwrap_or(DataType::Null)),
                &strict_options(),
            )?;
            l.as_list::<i32>().clone()
        }
    };
    let from_elem = list.values().data_type().clone();
    if list_dims(&from_elem) != list_dims(&to_elem) && !matches!(innermost(&from_elem), DataType::Null) {
        return Err(cannot_cast(arr.data_type(), to));
    }
    let values = cast_array(list.values(), &to_elem, zone)?;
    let out = GenericListArray::<i32>::try_new(to_field, list.offsets().clone(), values, list.nulls().cloned())?;
    Ok(Arc::new(out))
}

/// Puts `pg_cast` in place of each cast whose Postgres semantics Arrow lacks. Runs after type
/// coercion, so every cast (explicit or implicit) has known types.
#[derive(Debug, Default)]
pub struct PgCastRule;

impl AnalyzerRule for PgCastRule {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        rewrite_plan(plan)
    }
    fn name(&self) -> &str {
        "pg_cast"
    }
}

/// Rewrites casts in a plan (and its subqueries) to Postgres semantics; see [`PgCastRule`].
/// Integer arithmetic becomes the overflow-checking [`super::math::int_arith`] on the way.
/// `x AT TIME ZONE z` (planned by DataFusion as a cast to a nanosecond timestamp in zone `z`)
/// becomes `timezone(z, x)`, whose type differs, so schemas are recomputed.
pub fn rewrite_plan(plan: LogicalPlan) -> Result<LogicalPlan> {
    plan.transform_up_with_subqueries(|node| {
        let mut schemas: Vec<_> = node.inputs().iter().map(|i| Arc::clone(i.schema())).collect();
        schemas.push(Arc::clone(node.schema()));
        schemas.push(Arc::new(datafusion::common::DFSchema::empty()));
        // Rewritten expressions keep their output names: the nodes above refer to them by name
        // (`sum(x::int)` in an Aggregate under a Projection).
        let names = datafusion::logical_expr::expr_rewriter::NamePreserver::new(&node);
        let t = node.map_expressions(|e| {
            let saved = names.save(&e);
            e.transform_up(|e| match &e {
                Expr::Cast(Cast { expr, field }) => {
                    let to = field.data_type();
                    let from = schemas.iter().find_map(|s| expr.get_type(s.as_ref()).ok());
                    // DataFusion plans `x AT TIME ZONE 'z'` as a cast to a nanosecond timestamp
                    // in zone z; this crate's own timestamptz is zone +00:00, so any other zone
                    // marks an AT TIME ZONE.
                    if let (
                        Some(DataType::Timestamp(_, from_tz)),
                        DataType::Timestamp(TimeUnit::Nanosecond, Some(zone)),
                    ) = (&from, to)
                    {
                        if zone.as_ref() != "+00:00" {
                            let arg_type = if from_tz.is_some() { timestamptz() } else { TIMESTAMP };
                            // Calls made here skip type coercion, so the argument gets its type now.
                            let arg = Expr::Cast(Cast::new(expr.clone(), arg_type));
                            let zone_lit = Expr::Literal(ScalarValue::Utf8(Some(zone.to_string())), None);
                            return Ok(Transformed::yes(super::datetime::timezone().call(vec![zone_lit, arg])));
                        }
                    }
                    match from {
                        Some(from) if needs_pg_cast(&from, to) => {
                            Ok(Transformed::yes(pg_cast_expr(expr.as_ref().clone(), to)?))
                        }
                        _ => Ok(Transformed::no(e)),
                    }
                }
                Expr::BinaryExpr(BinaryExpr { left, op, right })
                    if matches!(op, Operator::Plus | Operator::Minus | Operator::Multiply | Operator::Divide) =>
                {
                    let lt = schemas.iter().find_map(|s| left.get_type(s.as_ref()).ok());
                    let rt = schemas.iter().find_map(|s| right.get_type(s.as_ref()).ok());
                    match (lt, rt) {
                        (Some(l), Some(r)) if l == r && matches!(l, DataType::Int16 | DataType::Int32 | DataType::Int64) => {
                            let call = super::math::int_arith(*op).call(vec![left.as_ref().clone(), right.as_ref().clone()]);
                            Ok(Transformed::yes(call))
                        }
                        (Some(DataType::Decimal128(..)), Some(DataType::Decimal128(..))) if *op == Operator::Divide => {
                            let call = super::math::numeric_div().call(vec![left.as_ref().clone(), right.as_ref().clone()]);
                            Ok(Transformed::yes(call))
                        }
                        _ => Ok(Transformed::no(e)),
                    }
                }
                Expr::Negative(inner) => {
                    let t = schemas.iter().find_map(|s| inner.get_type(s.as_ref()).ok());
                    match t {
                        Some(t @ (DataType::Int16 | DataType::Int32 | DataType::Int64)) => {
                            let zero = ScalarValue::new_zero(&t)?;
                            let call = super::math::int_arith(Operator::Minus)
                                .call(vec![Expr::Literal(zero, None), inner.as_ref().clone()]);
                            Ok(Transformed::yes(call))
                        }
                        _ => Ok(Transformed::no(e)),
                    }
                }
                Expr::SimilarTo(like) => {
                    let esc = like
                        .escape_char
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "\\".to_string());
                    let call = super::string::similar_to().call(vec![
                        like.expr.as_ref().clone(),
                        like.pattern.as_ref().clone(),
                        Expr::Literal(ScalarValue::Utf8(Some(esc)), None),
                    ]);
                    Ok(Transformed::yes(if like.negated {
                        Expr::Not(Box::new(call))
                    } else {
                        call
                    }))
                }
                _ => Ok(Transformed::no(e)),
            })
            .map(|t| t.update_data(|e| saved.restore(e)))
        })?;
        // A rewritten AT TIME ZONE below may have changed an input's schema, so schemas are
        // always recomputed.
        t.map_data(|p| p.recompute_schema())
    })
    .map(|t| t.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_to_timestamptz() {
        let arr: ArrayRef = Arc::new(arrow::array::Date32Array::from(vec![Some(18262), None]));
        let out = cast_array(&arr, &timestamptz(), &Zone::utc()).unwrap();
        assert_eq!(out.data_type(), &timestamptz());
        assert_eq!(
            out.as_primitive::<TimestampMicrosecondType>().value(0),
            1_577_836_800_000_000
        );
        assert!(out.is_null(1));
    }
}
