//! Math functions: degree-based trigonometry (Postgres' exact-at-special-angles algorithms),
//! rounding that keeps numeric numeric, numeric scale functions, and integer helpers.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Datum, Float64Array};
use arrow::datatypes::{DataType, Float64Type};
use arrow::error::ArrowError;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::interval_arithmetic::Interval;
use datafusion::logical_expr::{
    ColumnarValue, Operator, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::err::{division_by_zero, exec, no_function, out_of_range};
use super::func::func;
use super::types::*;

const RADIANS_PER_DEGREE: f64 = 0.017_453_292_519_943_295;

fn sin_30() -> f64 {
    (30.0 * RADIANS_PER_DEGREE).sin()
}
fn one_minus_cos_60() -> f64 {
    1.0 - (60.0 * RADIANS_PER_DEGREE).cos()
}
fn sind_0_to_30(x: f64) -> f64 {
    ((x * RADIANS_PER_DEGREE).sin() / sin_30()) / 2.0
}
fn cosd_0_to_60(x: f64) -> f64 {
    1.0 - ((1.0 - (x * RADIANS_PER_DEGREE).cos()) / one_minus_cos_60()) / 2.0
}
fn sind_q1(x: f64) -> f64 {
    if x <= 30.0 {
        sind_0_to_30(x)
    } else {
        cosd_0_to_60(90.0 - x)
    }
}
fn cosd_q1(x: f64) -> f64 {
    if x <= 60.0 {
        cosd_0_to_60(x)
    } else {
        sind_0_to_30(90.0 - x)
    }
}

pub(crate) fn sind(x: f64) -> f64 {
    if !x.is_finite() {
        return f64::NAN;
    }
    let mut x = x % 360.0;
    let mut sign = 1.0;
    if x < 0.0 {
        x = -x;
        sign = -sign;
    }
    if x > 180.0 {
        x = 360.0 - x;
        sign = -sign;
    }
    if x > 90.0 {
        x = 180.0 - x;
    }
    sign * sind_q1(x)
}

pub(crate) fn cosd(x: f64) -> f64 {
    if !x.is_finite() {
        return f64::NAN;
    }
    let mut x = x % 360.0;
    let mut sign = 1.0;
    if x < 0.0 {
        x = -x;
    }
    if x > 180.0 {
        x = 360.0 - x;
    }
    if x > 90.0 {
        x = 180.0 - x;
        sign = -sign;
    }
    sign * cosd_q1(x)
}

/// Reduces to the first quadrant for tangent-like functions; returns (angle, sign).
fn reduce_tan(x: f64) -> (f64, f64) {
    let mut x = x % 360.0;
    let mut sign = 1.0;
    if x < 0.0 {
        x = -x;
        sign = -sign;
    }
    if x > 180.0 {
        x = 360.0 - x;
        sign = -sign;
    }
    if x > 90.0 {
        x = 180.0 - x;
        sign = -sign;
    }
    (x, sign)
}

pub(crate) fn tand(x: f64) -> f64 {
    if !x.is_finite() {
        return f64::NAN;
    }
    let (x, sign) = reduce_tan(x);
    let tan_45 = sind_q1(45.0) / cosd_q1(45.0);
    let r = sign * ((sind_q1(x) / cosd_q1(x)) / tan_45);
    // Never minus zero, as Postgres.
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

pub(crate) fn cotd(x: f64) -> f64 {
    if !x.is_finite() {
        return f64::NAN;
    }
    let (x, sign) = reduce_tan(x);
    let cot_45 = cosd_q1(45.0) / sind_q1(45.0);
    let r = sign * ((cosd_q1(x) / sind_q1(x)) / cot_45);
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

fn asind_q1(x: f64) -> f64 {
    if x <= 0.5 {
        (x.asin() / 0.5f64.asin()) * 30.0
    } else {
        90.0 - (x.acos() / 0.5f64.acos()) * 60.0
    }
}
fn acosd_q1(x: f64) -> f64 {
    if x <= 0.5 {
        90.0 - (x.asin() / 0.5f64.asin()) * 30.0
    } else {
        (x.acos() / 0.5f64.acos()) * 60.0
    }
}

pub(crate) fn asind(x: f64) -> f64 {
    if x.is_nan() || !(-1.0..=1.0).contains(&x) {
        return f64::NAN;
    }
    if x >= 0.0 {
        asind_q1(x)
    } else {
        -asind_q1(-x)
    }
}

pub(crate) fn acosd(x: f64) -> f64 {
    if x.is_nan() || !(-1.0..=1.0).contains(&x) {
        return f64::NAN;
    }
    if x >= 0.0 {
        acosd_q1(x)
    } else {
        90.0 + asind_q1(-x)
    }
}

pub(crate) fn atand(x: f64) -> f64 {
    (x.atan() / 1f64.atan()) * 45.0
}

pub(crate) fn atan2d(y: f64, x: f64) -> f64 {
    (y.atan2(x) / 1f64.atan()) * 45.0
}

fn coerce_f64(name: &'static str, n: usize) -> impl Fn(&[DataType]) -> Result<Vec<DataType>> {
    move |t: &[DataType]| {
        if t.len() != n
            || !t
                .iter()
                .all(|t| is_numeric(t) || is_string(t) || matches!(t, DataType::Null))
        {
            return Err(no_function(name, t));
        }
        Ok(vec![DataType::Float64; n])
    }
}

fn f64_array(a: &ArrayRef) -> &Float64Array {
    a.as_primitive::<Float64Type>()
}

fn unary_f64(name: &'static str, f: fn(f64) -> f64) -> ScalarUDF {
    func(name)
        .coerce(coerce_f64(name, 1))
        .returns_type(DataType::Float64)
        .batch(move |args, _| {
            let out: Float64Array = f64_array(&args[0]).unary(f);
            Ok(Arc::new(out) as ArrayRef)
        })
}

fn binary_f64(name: &'static str, f: fn(f64, f64) -> f64) -> ScalarUDF {
    func(name)
        .coerce(coerce_f64(name, 2))
        .returns_type(DataType::Float64)
        .batch(move |args, _| {
            let out: Float64Array = arrow::compute::binary(f64_array(&args[0]), f64_array(&args[1]), f)?;
            Ok(Arc::new(out) as ArrayRef)
        })
}

/// Number of fractional digits of an unscaled decimal as written (trailing zeros of the held
/// scale don't count for unconstrained numeric, which is held at scale 10).
fn decimal_scale(v: i128, p: u8, s: i8) -> i64 {
    if (p, s) != (38, 10) {
        return s.max(0) as i64;
    }
    min_scale(v, s)
}

fn min_scale(v: i128, s: i8) -> i64 {
    let mut s = s.max(0) as i64;
    let mut v = v;
    while s > 0 && v % 10 == 0 {
        v /= 10;
        s -= 1;
    }
    s
}

/// Rounds the unscaled `v` (at `scale`) to `digits` fractional digits, half away from zero.
pub(crate) fn round_decimal(v: i128, scale: i8, digits: i64) -> Option<i128> {
    let drop = scale as i64 - digits;
    if drop <= 0 {
        return Some(v);
    }
    if drop > 38 {
        return Some(0);
    }
    let d = 10i128.checked_pow(drop as u32)?;
    let q = v / d;
    let r = (v % d).abs();
    let q = if r.checked_mul(2)? >= d { q + v.signum() } else { q };
    q.checked_mul(d)
}

/// Moves an unscaled decimal from scale `from` to scale `to` (dropping digits only when exact).
pub(crate) fn rescale(v: i128, from: i8, to: i8) -> Option<i128> {
    if to >= from {
        v.checked_mul(10i128.checked_pow((to - from) as u32)?)
    } else {
        Some(v / 10i128.checked_pow((from - to) as u32)?)
    }
}

pub(crate) fn trunc_decimal(v: i128, scale: i8, digits: i64) -> Option<i128> {
    let drop = scale as i64 - digits;
    if drop <= 0 {
        return Some(v);
    }
    if drop > 38 {
        return Some(0);
    }
    let d = 10i128.checked_pow(drop as u32)?;
    (v / d).checked_mul(d)
}

fn decimal_floor_ceil(v: i128, scale: i8, ceil: bool) -> Option<i128> {
    if scale <= 0 {
        return Some(v);
    }
    let d = 10i128.checked_pow(scale as u32)?;
    let q = v.div_euclid(d);
    let exact = v.rem_euclid(d) == 0;
    let q = if ceil && !exact { q + 1 } else { q };
    q.checked_mul(d)
}

/// Argument types for functions over "numeric or float": integers go to numeric, as Postgres
/// resolves `round(4)` to `round(numeric)`.
fn numeric_or_float(t: &DataType) -> Option<DataType> {
    match t {
        t if is_decimal(t) => Some(t.clone()),
        t if is_int(t) => Some(NUMERIC),
        DataType::Float32 | DataType::Float64 => Some(DataType::Float64),
        // An unknown-typed literal ('4.5') is read as double precision.
        DataType::Utf8 | DataType::Null => Some(DataType::Float64),
        _ => None,
    }
}

/// round/trunc/ceil/floor, with an optional digit count for numeric.
fn rounding(name: &'static str, op: fn(i128, i8, i64) -> Option<i128>, fop: fn(f64) -> f64) -> ScalarUDF {
    func(name)
        .coerce(move |t| match t {
            [a] => Ok(vec![numeric_or_float(a).ok_or_else(|| no_function(name, t))?]),
            [a, b] if (is_int(b) || matches!(b, DataType::Null)) && name != "ceil" && name != "floor" => {
                let a = numeric_or_float(a).ok_or_else(|| no_function(name, t))?;
                if is_float(&a) && !is_float(&t[0]) && !is_string(&t[0]) {
                    return Err(no_function(name, t));
                }
                let a = if is_float(&a) { NUMERIC } else { a };
                // The digit count keeps its type so that a constant stays a constant (the return
                // type depends on it).
                Ok(vec![a, if is_int(b) { b.clone() } else { DataType::Int32 }])
            }
            _ => Err(no_function(name, t)),
        })
        .returns_scalars(|t, consts| {
            Ok(match &t[0] {
                DataType::Decimal128(_, s) => {
                    // The result has as many fractional digits as asked for, when that's known
                    // at planning time; it prints as Postgres prints `round(1.1987, 2)`: 1.20.
                    let digits = match (t.len(), consts.get(1)) {
                        (1, _) => Some(0),
                        (_, Some(Some(v))) => scalar_i64(v),
                        _ => None,
                    };
                    let scale = digits.map(|d| d.clamp(0, *s as i64) as i8).unwrap_or(*s);
                    DataType::Decimal128(38, scale)
                }
                other => other.clone(),
            })
        })
        .strict(move |a, ctx| match (&a[0], ctx.ret) {
            (ScalarValue::Float64(Some(x)), _) => Ok(ScalarValue::Float64(Some(fop(*x)))),
            (ScalarValue::Decimal128(Some(v), _, s), DataType::Decimal128(rp, rs)) => {
                let digits = a.get(1).and_then(scalar_i64).unwrap_or(0);
                let r = op(*v, *s, digits).ok_or_else(|| exec("numeric value out of range"))?;
                let r = rescale(r, *s, *rs).ok_or_else(|| exec("numeric value out of range"))?;
                if r != 0 && r.unsigned_abs() >= 10u128.pow(*rp as u32) {
                    return Err(exec("numeric value out of range"));
                }
                Ok(ScalarValue::Decimal128(Some(r), *rp, *rs))
            }
            (v, _) => Err(exec(format!("{name}: unexpected argument {v}"))),
        })
}

pub(crate) fn scalar_i64(v: &ScalarValue) -> Option<i64> {
    match v {
        ScalarValue::Int8(Some(x)) => Some(*x as i64),
        ScalarValue::Int16(Some(x)) => Some(*x as i64),
        ScalarValue::Int32(Some(x)) => Some(*x as i64),
        ScalarValue::Int64(Some(x)) => Some(*x),
        ScalarValue::UInt8(Some(x)) => Some(*x as i64),
        ScalarValue::UInt16(Some(x)) => Some(*x as i64),
        ScalarValue::UInt32(Some(x)) => Some(*x as i64),
        ScalarValue::UInt64(Some(x)) => i64::try_from(*x).ok(),
        _ => None,
    }
}

/// Square root of a decimal (unscaled `v` at `s`) at result scale `rs`, rounded; exact to the
/// last digit where the intermediate fits 128 bits, with fewer digits (zero-padded) beyond.
pub(crate) fn sqrt_decimal(v: i128, s: i8, rs: i8) -> Result<i128> {
    if v < 0 {
        return Err(exec("cannot take square root of a negative number"));
    }
    let v = v as u128;
    for k in (0..=rs as i32).rev() {
        let e = 2 * k - s as i32;
        let n = if e >= 0 {
            match 10u128.checked_pow(e as u32).and_then(|p| v.checked_mul(p)) {
                Some(n) if n < (1u128 << 126) => n,
                _ => continue,
            }
        } else {
            v / 10u128.pow((-e) as u32)
        };
        let r = n.isqrt();
        // Round to nearest: r + 1 is closer when n - r² > r (i.e. n >= r² + r + 1).
        let r = if n - r * r > r { r + 1 } else { r };
        let scaled = (r as i128)
            .checked_mul(10i128.pow((rs as i32 - k) as u32))
            .ok_or_else(|| exec("numeric value out of range"))?;
        return Ok(scaled);
    }
    Err(exec("numeric value out of range"))
}

/// Shared coercion of binary numeric functions: both to one type (ints to int64, decimals to
/// numeric, anything with a float to double).
fn coerce_common_numeric(name: &'static str, n: usize) -> impl Fn(&[DataType]) -> Result<Vec<DataType>> {
    move |t: &[DataType]| {
        if t.len() != n
            || !t
                .iter()
                .all(|t| is_numeric(t) || is_string(t) || matches!(t, DataType::Null))
        {
            return Err(no_function(name, t));
        }
        let target = if t.iter().any(is_float) {
            DataType::Float64
        } else if t.iter().any(is_decimal) {
            NUMERIC
        } else if t.iter().all(|t| is_int(t) || matches!(t, DataType::Null)) {
            DataType::Int64
        } else {
            NUMERIC
        };
        Ok(vec![target; n])
    }
}

fn mod_fn() -> ScalarUDF {
    func("mod")
        .coerce(coerce_common_numeric("mod", 2))
        .strict(|a, _| match (&a[0], &a[1]) {
            (ScalarValue::Int64(Some(x)), ScalarValue::Int64(Some(y))) => {
                if *y == 0 {
                    return Err(super::err::division_by_zero());
                }
                Ok(ScalarValue::Int64(Some(x.wrapping_rem(*y))))
            }
            (ScalarValue::Decimal128(Some(x), p, sc), ScalarValue::Decimal128(Some(y), _, _)) => {
                if *y == 0 {
                    return Err(super::err::division_by_zero());
                }
                Ok(ScalarValue::Decimal128(Some(x % y), *p, *sc))
            }
            (ScalarValue::Float64(Some(x)), ScalarValue::Float64(Some(y))) => {
                if *y == 0.0 {
                    return Err(super::err::division_by_zero());
                }
                Ok(ScalarValue::Float64(Some(x % y)))
            }
            _ => Ok(ScalarValue::Null),
        })
}

fn div_fn() -> ScalarUDF {
    func("div")
        .coerce(|t| {
            let c = coerce_common_numeric("div", 2)(t)?;
            Ok(if c[0] == DataType::Float64 { vec![NUMERIC; 2] } else { c })
        })
        .returns(|t| {
            Ok(if is_decimal(&t[0]) {
                DataType::Decimal128(38, 0)
            } else {
                t[0].clone()
            })
        })
        .strict(|a, _| match (&a[0], &a[1]) {
            (ScalarValue::Int64(Some(x)), ScalarValue::Int64(Some(y))) => {
                if *y == 0 {
                    return Err(super::err::division_by_zero());
                }
                Ok(ScalarValue::Int64(Some(
                    x.checked_div(*y).ok_or_else(|| super::err::out_of_range("bigint"))?,
                )))
            }
            (ScalarValue::Decimal128(Some(x), _, _), ScalarValue::Decimal128(Some(y), _, _)) => {
                if *y == 0 {
                    return Err(super::err::division_by_zero());
                }
                // Both have the same scale, so the quotient of the unscaled values is the answer.
                Ok(ScalarValue::Decimal128(Some(x / y), 38, 0))
            }
            _ => Ok(ScalarValue::Null),
        })
}

fn sign_fn() -> ScalarUDF {
    func("sign")
        .coerce(|t| match t {
            [a] => Ok(vec![numeric_or_float(a).ok_or_else(|| no_function("sign", t))?]),
            _ => Err(no_function("sign", t)),
        })
        .returns(|t| {
            Ok(if is_decimal(&t[0]) {
                DataType::Decimal128(38, 0)
            } else {
                t[0].clone()
            })
        })
        .strict(|a, _| match &a[0] {
            ScalarValue::Float64(Some(x)) => Ok(ScalarValue::Float64(Some(if *x > 0.0 {
                1.0
            } else if *x < 0.0 {
                -1.0
            } else {
                0.0
            }))),
            ScalarValue::Decimal128(Some(v), _, _) => Ok(ScalarValue::Decimal128(Some(v.signum()), 38, 0)),
            _ => Ok(ScalarValue::Null),
        })
}

fn width_bucket() -> ScalarUDF {
    func("width_bucket")
        .coerce(|t| {
            if t.len() != 4 {
                return Err(no_function("width_bucket", t));
            }
            Ok(vec![
                DataType::Float64,
                DataType::Float64,
                DataType::Float64,
                DataType::Int64,
            ])
        })
        .returns_type(DataType::Int64)
        .strict(|a, _| {
            let f = |v: &ScalarValue| match v {
                ScalarValue::Float64(Some(x)) => *x,
                _ => f64::NAN,
            };
            let (op, lo, hi) = (f(&a[0]), f(&a[1]), f(&a[2]));
            let count = scalar_i64(&a[3]).unwrap_or(0);
            if count <= 0 {
                return Err(exec("count must be greater than zero"));
            }
            if lo == hi {
                return Err(exec("lower bound cannot equal upper bound"));
            }
            if op.is_nan() || lo.is_nan() || hi.is_nan() || lo.is_infinite() || hi.is_infinite() {
                return Err(exec("operand, lower bound, and upper bound cannot be NaN or infinite"));
            }
            let c = count as f64;
            let b = if lo < hi {
                if op < lo {
                    0
                } else if op >= hi {
                    count
                        .checked_add(1)
                        .ok_or_else(|| super::err::out_of_range("integer"))?
                } else {
                    ((op - lo) / (hi - lo) * c).floor() as i64 + 1
                }
            } else if op > lo {
                0
            } else if op <= hi {
                count
                    .checked_add(1)
                    .ok_or_else(|| super::err::out_of_range("integer"))?
            } else {
                ((lo - op) / (lo - hi) * c).floor() as i64 + 1
            };
            Ok(ScalarValue::Int64(Some(b)))
        })
}

fn sqrt_fn() -> ScalarUDF {
    func("sqrt")
        .coerce(|t| match t {
            [a] if is_decimal(a) => Ok(vec![a.clone()]),
            [a] if is_numeric(a) || is_string(a) || matches!(a, DataType::Null) => Ok(vec![DataType::Float64]),
            _ => Err(no_function("sqrt", t)),
        })
        .returns(|t| {
            Ok(if is_decimal(&t[0]) {
                DataType::Decimal128(38, 16)
            } else {
                DataType::Float64
            })
        })
        .strict(|a, ctx| match (&a[0], ctx.ret) {
            (ScalarValue::Float64(Some(x)), _) => {
                if *x < 0.0 {
                    return Err(exec("cannot take square root of a negative number"));
                }
                Ok(ScalarValue::Float64(Some(x.sqrt())))
            }
            (ScalarValue::Decimal128(Some(v), _, s), DataType::Decimal128(rp, rs)) => {
                Ok(ScalarValue::Decimal128(Some(sqrt_decimal(*v, *s, *rs)?), *rp, *rs))
            }
            _ => Ok(ScalarValue::Null),
        })
}

/// `ln` / `log10` on double precision, with Postgres' errors for zero and negative arguments.
fn log_fn(name: &'static str, f: fn(f64) -> f64) -> ScalarUDF {
    func(name)
        .coerce(coerce_f64(name, 1))
        .returns_type(DataType::Float64)
        .strict(move |a, _| match &a[0] {
            ScalarValue::Float64(Some(x)) if *x == 0.0 => Err(exec("cannot take logarithm of zero")),
            ScalarValue::Float64(Some(x)) if *x < 0.0 => Err(exec("cannot take logarithm of a negative number")),
            ScalarValue::Float64(Some(x)) => Ok(ScalarValue::Float64(Some(f(*x)))),
            _ => Ok(ScalarValue::Null),
        })
}

/// Integer `+`, `-`, `*`, `/` failing on overflow as in Postgres ("integer out of range"):
/// DataFusion plans Arrow's wrapping operators. [`super::cast::rewrite_plan`] puts these in place
/// of the operators once both operands have one integer type. They are registered too, so that
/// plans shipped to compute nodes find them by name.
#[derive(Debug, PartialEq, Eq, Hash)]
struct IntArith {
    op: Operator,
    name: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for IntArith {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [a, b] if a == b && is_int(a) => Ok(arg_types.to_vec()),
            _ => Err(no_function(self.name, arg_types)),
        }
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types.first().cloned().unwrap_or(DataType::Int64))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use arrow::compute::kernels::numeric;
        let [a, b] = args.args.as_slice() else {
            return Err(no_function(self.name, &[]));
        };
        let (ad, bd): (Box<dyn Datum>, Box<dyn Datum>) = (datum(a)?, datum(b)?);
        let out = match self.op {
            Operator::Plus => numeric::add(ad.as_ref(), bd.as_ref()),
            Operator::Minus => numeric::sub(ad.as_ref(), bd.as_ref()),
            Operator::Multiply => numeric::mul(ad.as_ref(), bd.as_ref()),
            _ => numeric::div(ad.as_ref(), bd.as_ref()),
        };
        let out = out.map_err(|e| match e {
            ArrowError::ArithmeticOverflow(_) => out_of_range(&pg_type_name(args.return_field.data_type())),
            ArrowError::DivideByZero => division_by_zero(),
            e => e.into(),
        })?;
        Ok(if matches!((a, b), (ColumnarValue::Scalar(_), ColumnarValue::Scalar(_))) {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
    /// The operands' type, unbounded: `abs()` above asks for it to see whether it keeps order
    /// (the default, an untyped interval, makes that check fail).
    fn evaluate_bounds(&self, input: &[&Interval]) -> Result<Interval> {
        let t = input.iter().map(|i| i.data_type()).find(|t| !t.is_null()).unwrap_or(DataType::Null);
        Interval::make_unbounded(&t)
    }
}

fn datum(v: &ColumnarValue) -> Result<Box<dyn Datum>> {
    Ok(match v {
        ColumnarValue::Array(a) => Box::new(Arc::clone(a)),
        ColumnarValue::Scalar(s) => Box::new(s.to_scalar()?),
    })
}

pub(crate) fn int_arith(op: Operator) -> ScalarUDF {
    let name = match op {
        Operator::Plus => "pg_int_add",
        Operator::Minus => "pg_int_sub",
        Operator::Multiply => "pg_int_mul",
        _ => "pg_int_div",
    };
    ScalarUDF::new_from_impl(IntArith { op, name, signature: Signature::user_defined(Volatility::Immutable) })
}

/// `numeric / numeric` computed on 256-bit integers and rounded half away from zero, as Postgres
/// rounds. Arrow's decimal division scales the dividend up in 128 bits first, which overflows as
/// soon as the operands carry many fraction digits (sums of products, as in TPC-H Q8 and Q14)
/// even though the quotient fits. The result type is the one DataFusion gives the division, so
/// plans keep their schemas. [`super::cast::rewrite_plan`] puts this in place of `/` on two
/// Decimal128 operands; it is registered for plans shipped to compute nodes.
#[derive(Debug, PartialEq, Eq, Hash)]
struct NumericDiv {
    signature: Signature,
}

const NUMERIC_DIV: &str = "pg_numeric_div";

impl ScalarUDFImpl for NumericDiv {
    fn name(&self) -> &str {
        NUMERIC_DIV
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [DataType::Decimal128(..), DataType::Decimal128(..)] => Ok(arg_types.to_vec()),
            _ => Err(no_function(NUMERIC_DIV, arg_types)),
        }
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [l, r] => datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer::new(l, &Operator::Divide, r)
                .get_result_type(),
            _ => Err(no_function(NUMERIC_DIV, arg_types)),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use arrow::array::{Array, Decimal128Array};
        use arrow::datatypes::{i256, Decimal128Type};
        let (DataType::Decimal128(_, s1), DataType::Decimal128(_, s2), DataType::Decimal128(p, s)) =
            (args.args[0].data_type(), args.args[1].data_type(), args.return_field.data_type().clone())
        else {
            return Err(no_function(NUMERIC_DIV, &[]));
        };
        let scalars = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (l, r) = (arrays[0].as_primitive::<Decimal128Type>(), arrays[1].as_primitive::<Decimal128Type>());
        // quotient = l / 10^s1 / (r / 10^s2) * 10^s = l * 10^(s + s2 - s1) / r
        let shift = i32::from(s) + i32::from(s2) - i32::from(s1);
        let ten = i256::from_i128(10);
        let pow = |e: i32| ten.checked_pow(e.unsigned_abs()).ok_or_else(|| out_of_range("numeric"));
        let (num_scale, den_scale) = if shift >= 0 { (pow(shift)?, i256::ONE) } else { (i256::ONE, pow(-shift)?) };
        let limit = pow(i32::from(p))?;
        let mut out = Vec::with_capacity(l.len());
        for i in 0..l.len() {
            if l.is_null(i) || r.is_null(i) {
                out.push(None);
                continue;
            }
            let den = i256::from_i128(r.value(i)).checked_mul(den_scale).ok_or_else(|| out_of_range("numeric"))?;
            if den == i256::ZERO {
                return Err(division_by_zero());
            }
            let num = i256::from_i128(l.value(i)).checked_mul(num_scale).ok_or_else(|| out_of_range("numeric"))?;
            let q = super::exact::div_round(num, den).ok_or_else(|| out_of_range("numeric"))?;
            let fits = q < limit && q > limit.wrapping_neg();
            out.push(Some(q.to_i128().filter(|_| fits).ok_or_else(|| out_of_range("numeric"))?));
        }
        let array: ArrayRef = Arc::new(Decimal128Array::from(out).with_precision_and_scale(p, s)?);
        Ok(if scalars { ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?) } else { ColumnarValue::Array(array) })
    }
}

pub(crate) fn numeric_div() -> ScalarUDF {
    ScalarUDF::new_from_impl(NumericDiv { signature: Signature::user_defined(Volatility::Immutable) })
}

pub(crate) fn functions() -> Vec<ScalarUDF> {
    vec![
        numeric_div(),
        int_arith(Operator::Plus),
        int_arith(Operator::Minus),
        int_arith(Operator::Multiply),
        int_arith(Operator::Divide),
        log_fn("ln", f64::ln),
        log_fn("log10", f64::log10),
        sqrt_fn(),
        unary_f64("cbrt", f64::cbrt),
        mod_fn(),
        div_fn(),
        sign_fn(),
        width_bucket(),
        unary_f64("sind", sind),
        unary_f64("cosd", cosd),
        unary_f64("tand", tand),
        unary_f64("cotd", cotd),
        unary_f64("asind", asind),
        unary_f64("acosd", acosd),
        unary_f64("atand", atand),
        binary_f64("atan2d", atan2d),
        unary_f64("coth", |x| 1.0 / x.tanh()),
        unary_f64("cot", |x| 1.0 / x.tan()),
        unary_f64("degrees", |x| x.to_degrees()),
        unary_f64("radians", |x| x.to_radians()),
        rounding("round", round_decimal, |x| x.round_ties_even()),
        rounding("trunc", trunc_decimal, f64::trunc),
        rounding("ceil", |v, s, _| decimal_floor_ceil(v, s, true), f64::ceil).into_alias("ceiling"),
        rounding("floor", |v, s, _| decimal_floor_ceil(v, s, false), f64::floor),
        func("scale")
            .coerce(|t| match t {
                [a] if is_numeric(a) || is_string(a) || matches!(a, DataType::Null) => {
                    Ok(vec![if is_decimal(a) { a.clone() } else { NUMERIC }])
                }
                _ => Err(no_function("scale", t)),
            })
            .returns_type(DataType::Int32)
            .strict(|a, _| match &a[0] {
                ScalarValue::Decimal128(Some(v), p, s) => {
                    Ok(ScalarValue::Int32(Some(decimal_scale(*v, *p, *s) as i32)))
                }
                _ => Ok(ScalarValue::Null),
            }),
        func("min_scale")
            .coerce(|t| match t {
                [a] if is_numeric(a) || is_string(a) || matches!(a, DataType::Null) => {
                    Ok(vec![if is_decimal(a) { a.clone() } else { NUMERIC }])
                }
                _ => Err(no_function("min_scale", t)),
            })
            .returns_type(DataType::Int32)
            .strict(|a, _| match &a[0] {
                ScalarValue::Decimal128(Some(v), _, s) => Ok(ScalarValue::Int32(Some(min_scale(*v, *s) as i32))),
                _ => Ok(ScalarValue::Null),
            }),
        // Unconstrained numeric prints without trailing zeros, which is what trim_scale is for.
        func("trim_scale")
            .coerce(|t| match t {
                [a] if is_decimal(a) || is_int(a) || is_string(a) || matches!(a, DataType::Null) => Ok(vec![NUMERIC]),
                _ => Err(no_function("trim_scale", t)),
            })
            .returns_type(NUMERIC)
            .strict(|a, _| Ok(a[0].clone())),
    ]
}

trait IntoAlias {
    fn into_alias(self, a: &'static str) -> ScalarUDF;
}
impl IntoAlias for ScalarUDF {
    fn into_alias(self, a: &'static str) -> ScalarUDF {
        self.with_aliases([a])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degree_trig() {
        assert_eq!(sind(30.0), 0.5);
        assert_eq!(sind(0.0), 0.0);
        assert_eq!(cosd(60.0), 0.5);
        assert_eq!(tand(45.0), 1.0);
        assert_eq!(tand(90.0), f64::INFINITY);
        assert_eq!(tand(-90.0), f64::NEG_INFINITY);
        assert_eq!(tand(270.0), f64::NEG_INFINITY);
        assert_eq!(tand(-270.0), f64::INFINITY);
        assert_eq!(cotd(90.0), 0.0);
        assert_eq!(cotd(-90.0), 0.0);
        assert_eq!(atand(1.0), 45.0);
        assert_eq!(atand(10.0), 84.28940686250037);
        assert_eq!(atan2d(0.0, -1.0), 180.0);
        assert_eq!(asind(1.0), 90.0);
        assert_eq!(acosd(-1.0), 180.0);
        assert!(sind(f64::INFINITY).is_nan());
    }

    #[test]
    fn decimal_rounding() {
        assert_eq!(round_decimal(-55, 1, 0), Some(-60));
        assert_eq!(round_decimal(55, 1, 0), Some(60));
        assert_eq!(round_decimal(11987, 4, 2), Some(12000));
        assert_eq!(trunc_decimal(-57, 1, 0), Some(-50));
        assert_eq!(decimal_floor_ceil(-47, 1, false), Some(-50));
        assert_eq!(decimal_floor_ceil(47, 1, true), Some(50));
        assert_eq!(min_scale(84100, 4), 2);
        assert_eq!(
            sqrt_decimal(824_163_252_000_000, 10, 16).unwrap(),
            2_870_824_362_443_651_829
        );
        assert_eq!(sqrt_decimal(40_000, 2, 2).unwrap(), 2_000);
        assert!(sqrt_decimal(-1, 0, 2).is_err());
        assert!(sqrt_decimal(i128::MAX, 10, 16).is_ok());
    }
}
