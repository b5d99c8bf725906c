//! Aggregates: DataFusion's, adjusted where Postgres differs (string_agg must yield varchar, as
//! `LargeUtf8` means jsonb here; `every` is bool_and; sum and avg take Postgres' result types),
//! and the variance family computed as Postgres does.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::datatypes::{
    i256, DataType, Decimal128Type, Decimal256Type, Field, FieldRef, Float64Type, Int32Type, Int64Type, UInt64Type,
};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::expr::AggregateFunctionParams;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, ReversedUDAF, Signature,
};

use super::exact::{div_round, sqrt_round};

/// An aggregate whose arguments and result take other types than the inner one gives them;
/// everything else is the inner one's.
#[derive(Debug)]
struct Retyped {
    inner: Arc<dyn AggregateUDFImpl>,
    /// Names the choice of types, for equality and hashing.
    tag: &'static str,
    signature: Signature,
    /// The argument types of a call (instead of the inner one's coercion). Applying it again to
    /// its own output changes nothing: type coercion may run more than once.
    coerce: Option<fn(&DataType) -> DataType>,
    /// The types the inner aggregate sees; arguments are cast to them on the way in.
    inner_arg: fn(&DataType) -> DataType,
    /// The result type for the (coerced) argument types; `None` keeps the inner one's.
    ret: fn(&[DataType]) -> Option<DataType>,
}

impl Retyped {
    fn new(
        inner: &AggregateUDF,
        tag: &'static str,
        coerce: Option<fn(&DataType) -> DataType>,
        inner_arg: fn(&DataType) -> DataType,
        ret: fn(&[DataType]) -> Option<DataType>,
    ) -> AggregateUDF {
        let inner = Arc::clone(inner.inner());
        let signature = match coerce {
            Some(_) => Signature::user_defined(datafusion::logical_expr::Volatility::Immutable),
            None => inner.signature().clone(),
        };
        AggregateUDF::new_from_shared_impl(Arc::new(Retyped { inner, tag, signature, coerce, inner_arg, ret }))
    }

    fn inner_fields(&self, fields: &[FieldRef]) -> Vec<FieldRef> {
        fields
            .iter()
            .map(|f| {
                let t = (self.inner_arg)(f.data_type());
                if &t == f.data_type() {
                    Arc::clone(f)
                } else {
                    Arc::new(f.as_ref().clone().with_data_type(t))
                }
            })
            .collect()
    }

    fn result_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match (self.ret)(arg_types) {
            Some(t) => Ok(t),
            None => self.inner.return_type(&arg_types.iter().map(self.inner_arg).collect::<Vec<_>>()),
        }
    }

    fn inner_args(&self, args: &AccumulatorArgs) -> Result<InnerArgs> {
        let expr_fields = self.inner_fields(args.expr_fields);
        Ok(InnerArgs { return_field: self.inner.return_field(&expr_fields)?, expr_fields })
    }

    /// The casts the accumulators apply to their input (`None` where the type is kept).
    fn input_casts(&self, args: &AccumulatorArgs) -> Vec<Option<DataType>> {
        args.expr_fields
            .iter()
            .map(|f| Some((self.inner_arg)(f.data_type())).filter(|t| t != f.data_type()))
            .collect()
    }
}

impl PartialEq for Retyped {
    fn eq(&self, other: &Self) -> bool {
        self.inner.name() == other.inner.name() && self.tag == other.tag
    }
}
impl Eq for Retyped {}
impl Hash for Retyped {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.name().hash(state);
        self.tag.hash(state);
    }
}

impl AggregateUDFImpl for Retyped {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }
    fn schema_name(&self, params: &AggregateFunctionParams) -> Result<String> {
        self.inner.schema_name(params)
    }
    fn display_name(&self, params: &AggregateFunctionParams) -> Result<String> {
        self.inner.display_name(params)
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.result_type(arg_types)
    }
    fn return_field(&self, arg_fields: &[FieldRef]) -> Result<FieldRef> {
        let f = self.inner.return_field(&self.inner_fields(arg_fields))?;
        let types: Vec<DataType> = arg_fields.iter().map(|f| f.data_type().clone()).collect();
        Ok(Arc::new(Field::new(f.name(), self.result_type(&types)?, f.is_nullable())))
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let inner_args = self.inner_args(&args)?;
        Ok(Box::new(RetypedAcc {
            inner: self.inner.accumulator(inner_args.as_args(&args))?,
            casts: self.input_casts(&args),
            ret: args.return_field.data_type().clone(),
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let input_fields = self.inner_fields(args.input_fields);
        let return_field = self.inner.return_field(&input_fields)?;
        self.inner.state_fields(StateFieldsArgs { return_field, input_fields: &input_fields, ..args })
    }
    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        match self.inner_args(&args) {
            Ok(a) => self.inner.groups_accumulator_supported(a.as_args(&args)),
            Err(_) => false,
        }
    }
    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        let inner_args = self.inner_args(&args)?;
        Ok(Box::new(RetypedGroups {
            inner: self.inner.create_groups_accumulator(inner_args.as_args(&args))?,
            casts: self.input_casts(&args),
            ret: args.return_field.data_type().clone(),
        }))
    }
    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let inner_args = self.inner_args(&args)?;
        Ok(Box::new(RetypedAcc {
            inner: self.inner.create_sliding_accumulator(inner_args.as_args(&args))?,
            casts: self.input_casts(&args),
            ret: args.return_field.data_type().clone(),
        }))
    }
    fn with_beneficial_ordering(self: Arc<Self>, beneficial: bool) -> Result<Option<Arc<dyn AggregateUDFImpl>>> {
        let inner = Arc::clone(&self.inner).with_beneficial_ordering(beneficial)?;
        Ok(inner.map(|inner| {
            Arc::new(Retyped { inner, signature: self.signature.clone(), ..*self }) as Arc<dyn AggregateUDFImpl>
        }))
    }
    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        self.inner.order_sensitivity()
    }
    fn reverse_expr(&self) -> ReversedUDAF {
        match self.inner.reverse_expr() {
            ReversedUDAF::Reversed(u) => ReversedUDAF::Reversed(Arc::new(AggregateUDF::new_from_shared_impl(
                Arc::new(Retyped { inner: Arc::clone(u.inner()), signature: self.signature.clone(), ..*self }),
            ))),
            other => other,
        }
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match self.coerce {
            Some(f) => Ok(arg_types.iter().map(f).collect()),
            None => self.inner.coerce_types(arg_types),
        }
    }
    fn is_nullable(&self) -> bool {
        self.inner.is_nullable()
    }
    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        ScalarValue::try_from(data_type)
    }
}

/// The accumulator arguments as the inner aggregate expects them (its own types).
struct InnerArgs {
    return_field: FieldRef,
    expr_fields: Vec<FieldRef>,
}

impl InnerArgs {
    fn as_args<'a>(&'a self, args: &AccumulatorArgs<'a>) -> AccumulatorArgs<'a> {
        AccumulatorArgs {
            return_field: Arc::clone(&self.return_field),
            schema: args.schema,
            ignore_nulls: args.ignore_nulls,
            order_bys: args.order_bys,
            is_reversed: args.is_reversed,
            name: args.name,
            is_distinct: args.is_distinct,
            exprs: args.exprs,
            expr_fields: &self.expr_fields,
        }
    }
}

/// Input arrays cast to the types the inner accumulator takes.
fn cast_inputs(values: &[ArrayRef], casts: &[Option<DataType>]) -> Result<Vec<ArrayRef>> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| match casts.get(i) {
            Some(Some(t)) => Ok(arrow::compute::cast(v, t)?),
            _ => Ok(Arc::clone(v)),
        })
        .collect()
}

#[derive(Debug)]
struct RetypedAcc {
    inner: Box<dyn Accumulator>,
    casts: Vec<Option<DataType>>,
    ret: DataType,
}

impl Accumulator for RetypedAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.inner.update_batch(&cast_inputs(values, &self.casts)?)
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        let v = self.inner.evaluate()?;
        if v.is_null() {
            return ScalarValue::try_from(&self.ret);
        }
        v.cast_to(&self.ret)
    }
    fn size(&self) -> usize {
        self.inner.size()
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.inner.state()
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.inner.merge_batch(states)
    }
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.inner.retract_batch(&cast_inputs(values, &self.casts)?)
    }
    fn supports_retract_batch(&self) -> bool {
        self.inner.supports_retract_batch()
    }
}

struct RetypedGroups {
    inner: Box<dyn GroupsAccumulator>,
    casts: Vec<Option<DataType>>,
    ret: DataType,
}

impl GroupsAccumulator for RetypedGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let values = cast_inputs(values, &self.casts)?;
        self.inner.update_batch(&values, group_indices, opt_filter, total_num_groups)
    }
    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let a = self.inner.evaluate(emit_to)?;
        Ok(arrow::compute::cast(&a, &self.ret)?)
    }
    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        self.inner.state(emit_to)
    }
    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.inner.merge_batch(values, group_indices, total_num_groups)
    }
    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        self.inner.convert_to_state(&cast_inputs(values, &self.casts)?, opt_filter)
    }
    fn size(&self) -> usize {
        self.inner.size()
    }
}

/// `sum` as in Postgres: of smallint and integer a bigint, of bigint a numeric (which cannot
/// overflow), of floats a double.
fn sum_arg(t: &DataType) -> DataType {
    match t {
        DataType::Int8 | DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 => DataType::Int64,
        DataType::Int64 | DataType::UInt64 => DataType::Decimal128(38, 0),
        DataType::Float16 | DataType::Float32 => DataType::Float64,
        DataType::Null => DataType::Int32,
        other => other.clone(),
    }
}

/// DataFusion's sum adds smallint and integer as bigints.
fn sum_inner_arg(t: &DataType) -> DataType {
    match t {
        DataType::Int16 | DataType::Int32 => DataType::Int64,
        other => other.clone(),
    }
}

/// `avg` as in Postgres: of integers and numerics a numeric (computed with ten decimals, as
/// unconstrained numerics are held), of floats a double.
fn avg_arg(t: &DataType) -> DataType {
    match t {
        _ if super::types::is_int(t) => NUMERIC,
        DataType::Decimal128(p, s) if *s < NUMERIC_S && p - (*s as u8) <= NUMERIC_P - NUMERIC_S as u8 => NUMERIC,
        DataType::Float16 | DataType::Float32 | DataType::Null => DataType::Float64,
        other => other.clone(),
    }
}

fn avg_ret(args: &[DataType]) -> Option<DataType> {
    matches!(args.first(), Some(DataType::Decimal128(..))).then_some(NUMERIC)
}

pub(crate) fn functions() -> Vec<AggregateUDF> {
    use datafusion::functions_aggregate::{average::avg_udaf, string_agg::string_agg_udaf, sum::sum_udaf};
    vec![
        Retyped::new(&string_agg_udaf(), "varchar", None, DataType::clone, |_| Some(DataType::Utf8)),
        Retyped::new(&sum_udaf(), "pg", Some(sum_arg), sum_inner_arg, |_| None),
        Retyped::new(&avg_udaf(), "pg", Some(avg_arg), DataType::clone, avg_ret),
        datafusion::functions_aggregate::bool_and_or::bool_and_udaf()
            .as_ref()
            .clone()
            .with_aliases(["every"]),
        AggregateUDF::from(SpreadAgg::new(Spread::VarPop, "var_pop", &["var_population"])),
        AggregateUDF::from(SpreadAgg::new(Spread::VarSamp, "var_samp", &["var", "var_sample", "variance"])),
        AggregateUDF::from(SpreadAgg::new(Spread::StddevPop, "stddev_pop", &[])),
        AggregateUDF::from(SpreadAgg::new(Spread::StddevSamp, "stddev_samp", &["stddev"])),
    ]
}

/// Which of Postgres' variance aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Spread {
    VarPop,
    VarSamp,
    StddevPop,
    StddevSamp,
}

impl Spread {
    fn sample(self) -> bool {
        matches!(self, Spread::VarSamp | Spread::StddevSamp)
    }
    fn sqrt(self) -> bool {
        matches!(self, Spread::StddevPop | Spread::StddevSamp)
    }
}

/// `var_pop`, `var_samp`/`variance`, `stddev_pop`, `stddev_samp`/`stddev` as Postgres computes
/// them: exactly (sums of x and x² as integers) for integer and numeric input, with a numeric
/// result; for floats see [`FloatSpread`] (DataFusion's Welford updates print
/// 3.9999999999999996 where Postgres prints 4).
#[derive(Debug, PartialEq, Eq, Hash)]
struct SpreadAgg {
    kind: Spread,
    name: &'static str,
    /// DataFusion's names for its own versions too, so that none of them stays reachable.
    aliases: Vec<String>,
    signature: Signature,
}

impl SpreadAgg {
    fn new(kind: Spread, name: &'static str, aliases: &[&str]) -> Self {
        SpreadAgg {
            kind,
            name,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            signature: Signature::user_defined(datafusion::logical_expr::Volatility::Immutable),
        }
    }
}

/// The exact path's result: unconstrained numeric.
const NUMERIC_P: u8 = 38;
const NUMERIC_S: i8 = 10;
const NUMERIC: DataType = DataType::Decimal128(NUMERIC_P, NUMERIC_S);

impl AggregateUDFImpl for SpreadAgg {
    fn name(&self) -> &str {
        self.name
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [t] = arg_types else {
            return Err(super::err::no_function(self.name, arg_types));
        };
        Ok(vec![match t {
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => DataType::Int64,
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => DataType::Int64,
            DataType::UInt64 => DataType::Decimal128(20, 0),
            DataType::Decimal128(..) => t.clone(),
            DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Null => DataType::Float64,
            DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal256(..) => DataType::Float64,
            _ => return Err(super::err::no_function(self.name, arg_types)),
        }])
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match arg_types.first() {
            Some(DataType::Int64 | DataType::Decimal128(..)) => NUMERIC,
            _ => DataType::Float64,
        })
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let input = args.input_fields[0].data_type().clone();
        let field = |suffix: &str, t: DataType| -> FieldRef {
            Arc::new(Field::new(datafusion::logical_expr::utils::format_state_name(args.name, suffix), t, true))
        };
        if args.is_distinct {
            let item = Arc::new(Field::new_list_field(input, true));
            return Ok(vec![field("distinct", DataType::List(item))]);
        }
        Ok(match input {
            DataType::Float64 => vec![
                field("count", DataType::UInt64),
                field("sum", DataType::Decimal256(76, 0)),
                field("sumsq", DataType::Decimal256(76, 0)),
                field("shift", DataType::Int32),
                field("sx", DataType::Float64),
                field("sxx", DataType::Float64),
                field("exact", DataType::Boolean),
            ],
            _ => vec![
                field("count", DataType::Int64),
                field("sum", DataType::Decimal256(76, 0)),
                field("sumsq", DataType::Decimal256(76, 0)),
            ],
        })
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let input = args.expr_fields[0].data_type().clone();
        let kind = self.kind;
        let make = move || -> Box<dyn Accumulator> {
            match &input {
                DataType::Float64 => Box::new(FloatSpread::new(kind)),
                DataType::Decimal128(_, s) => Box::new(ExactSpread::new(kind, *s)),
                _ => Box::new(ExactSpread::new(kind, 0)),
            }
        };
        if args.is_distinct {
            let input = args.expr_fields[0].data_type().clone();
            return Ok(Box::new(DistinctAcc { seen: Default::default(), input, make: Box::new(make) }));
        }
        Ok(make())
    }
    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        ScalarValue::try_from(data_type)
    }
}

/// Float input: Σx and Σx² kept exactly, as integers scaled by a power of two, while they fit
/// in 256 bits; the result is then the exact variance rounded once, whatever the order the rows
/// arrive in (Postgres' own float algorithm, Youngs-Cramer, gives 4 for the variance of 2, 4, 4,
/// 4, 5, 5, 7, 9 in that order, but 4.000000000000001 in others, and rows come in storage order
/// here). Beyond that range, and for NaN and infinities, Postgres' Youngs-Cramer updates take
/// over (float8_accum / float8_combine).
#[derive(Debug)]
struct FloatSpread {
    kind: Spread,
    exact: Option<BinarySums>,
    /// Youngs-Cramer state: N, Σx and Σ(x - mean)², once `exact` is gone.
    n: f64,
    sx: f64,
    sxx: f64,
}

/// `sum` = Σx / 2^shift and `sumsq` = Σx² / 2^(2·shift), exactly; `shift` is unset until a
/// non-zero value arrives.
#[derive(Debug, Clone, Default)]
struct BinarySums {
    n: u64,
    sum: i256,
    sumsq: i256,
    shift: Option<i32>,
}

/// 2^k.
fn pow2(k: u32) -> Option<i256> {
    i256::from_i128(2).checked_pow(k)
}

/// The nearest f64 of a 256-bit integer (off by at most an ulp).
fn i256_to_f64(v: i256) -> f64 {
    let (low, high) = v.to_parts();
    high as f64 * 2f64.powi(128) + low as f64
}

/// x · 2^e, in steps that neither overflow nor underflow midway.
fn scale2(mut x: f64, mut e: i32) -> f64 {
    while e != 0 && x != 0.0 && x.is_finite() {
        let step = e.clamp(-1000, 1000);
        x *= 2f64.powi(step);
        e -= step;
    }
    x
}

/// A finite non-zero float as m · 2^e with m odd.
fn decompose(x: f64) -> (i128, i32) {
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    let (mut m, mut e) = if exp == 0 { (frac, -1074) } else { (frac | (1u64 << 52), exp - 1075) };
    let tz = m.trailing_zeros();
    m >>= tz;
    e += tz as i32;
    let m = i128::from(m);
    (if x < 0.0 { -m } else { m }, e)
}

impl BinarySums {
    /// The sums rescaled to the finer `shift`.
    fn at(&self, shift: i32) -> Option<(i256, i256)> {
        let d = u32::try_from(self.shift.map_or(0, |s| s - shift)).ok()?;
        Some((self.sum.checked_mul(pow2(d)?)?, self.sumsq.checked_mul(pow2(2 * d)?)?))
    }

    /// Adds (`sign` 1) or removes (-1) a finite value; `None` (and nothing changed) when the sums
    /// would leave 256 bits.
    fn add(&mut self, x: f64, sign: i32) -> Option<()> {
        let n = if sign > 0 { self.n + 1 } else { self.n.checked_sub(1)? };
        if x == 0.0 {
            self.n = n;
            return Some(());
        }
        let (m, e) = decompose(x);
        let shift = self.shift.map_or(e, |s| s.min(e));
        let (sum, sumsq) = self.at(shift)?;
        let v = i256::from_i128(m).checked_mul(pow2(u32::try_from(e - shift).ok()?)?)?;
        let sq = v.checked_mul(v)?;
        let (sum, sumsq) = if sign > 0 {
            (sum.checked_add(v)?, sumsq.checked_add(sq)?)
        } else {
            (sum.checked_sub(v)?, sumsq.checked_sub(sq)?)
        };
        *self = BinarySums { n, sum, sumsq, shift: Some(shift) };
        Some(())
    }

    fn merge(&mut self, other: &BinarySums) -> Option<()> {
        let shift = match (self.shift, other.shift) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let s = shift.unwrap_or(0);
        let (a, a2) = self.at(s)?;
        let (b, b2) = other.at(s)?;
        *self = BinarySums { n: self.n + other.n, sum: a.checked_add(b)?, sumsq: a2.checked_add(b2)?, shift };
        Some(())
    }

    /// n·Σx² - (Σx)², over 2^(2·shift).
    fn spread(&self) -> Option<i256> {
        let n = i256::from_i128(i128::from(self.n));
        n.checked_mul(self.sumsq)?.checked_sub(self.sum.checked_mul(self.sum)?)
    }

    /// The same data as a Youngs-Cramer state (N, Σx, Σ(x - mean)²).
    fn to_yc(&self) -> (f64, f64, f64) {
        if self.n == 0 {
            return (0.0, 0.0, 0.0);
        }
        let n = self.n as f64;
        let shift = self.shift.unwrap_or(0);
        let sx = scale2(i256_to_f64(self.sum), shift);
        let sxx = match self.spread() {
            Some(d) => scale2(i256_to_f64(d) / n, 2 * shift),
            None => (scale2(i256_to_f64(self.sumsq), 2 * shift) - sx * sx / n).max(0.0),
        };
        (n, sx, sxx)
    }
}

impl FloatSpread {
    fn new(kind: Spread) -> Self {
        FloatSpread { kind, exact: Some(BinarySums::default()), n: 0.0, sx: 0.0, sxx: 0.0 }
    }

    /// Leaves the exact sums for the Youngs-Cramer state.
    fn approximate(&mut self) {
        if let Some(sums) = self.exact.take() {
            (self.n, self.sx, self.sxx) = sums.to_yc();
        }
    }

    fn add(&mut self, x: f64) {
        if let Some(sums) = &mut self.exact {
            if x.is_finite() && sums.add(x, 1).is_some() {
                return;
            }
            self.approximate();
        }
        self.n += 1.0;
        self.sx += x;
        if self.n > 1.0 {
            let tmp = x * self.n - self.sx;
            self.sxx += tmp * tmp / (self.n * (self.n - 1.0));
        } else {
            // As Postgres: a NaN or infinite first input makes Sxx NaN.
            self.sxx = x * 0.0;
        }
    }

    /// The inverse of [`FloatSpread::add`], for sliding window frames.
    fn remove(&mut self, x: f64) {
        if let Some(sums) = &mut self.exact {
            if x.is_finite() && sums.add(x, -1).is_some() {
                return;
            }
            self.approximate();
        }
        if self.n <= 1.0 {
            (self.n, self.sx, self.sxx) = (0.0, 0.0, 0.0);
            return;
        }
        let tmp = x * self.n - self.sx;
        self.sxx -= tmp * tmp / (self.n * (self.n - 1.0));
        self.n -= 1.0;
        self.sx -= x;
        if self.sxx < 0.0 {
            self.sxx = 0.0;
        }
    }

    fn combine_yc(&mut self, (n2, sx2, sxx2): (f64, f64, f64)) {
        if n2 == 0.0 {
            return;
        }
        if self.n == 0.0 {
            (self.n, self.sx, self.sxx) = (n2, sx2, sxx2);
            return;
        }
        let n = self.n + n2;
        let tmp = self.sx / self.n - sx2 / n2;
        self.sxx += sxx2 + self.n * n2 * tmp * tmp / n;
        self.sx += sx2;
        self.n = n;
    }

    fn combine_exact(&mut self, other: &BinarySums) {
        if let Some(sums) = &mut self.exact {
            if sums.merge(other).is_some() {
                return;
            }
            self.approximate();
        }
        self.combine_yc(other.to_yc());
    }
}

impl Accumulator for FloatSpread {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let a = values[0].as_primitive::<Float64Type>();
        for x in a.iter().flatten() {
            self.add(x);
        }
        Ok(())
    }
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let a = values[0].as_primitive::<Float64Type>();
        for x in a.iter().flatten() {
            self.remove(x);
        }
        Ok(())
    }
    fn supports_retract_batch(&self) -> bool {
        true
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let n = states[0].as_primitive::<UInt64Type>();
        let sum = states[1].as_primitive::<Decimal256Type>();
        let sumsq = states[2].as_primitive::<Decimal256Type>();
        let shift = states[3].as_primitive::<Int32Type>();
        let sx = states[4].as_primitive::<Float64Type>();
        let sxx = states[5].as_primitive::<Float64Type>();
        let exact = states[6].as_boolean();
        for i in 0..n.len() {
            if n.is_null(i) {
                continue;
            }
            if exact.value(i) {
                let sums = BinarySums {
                    n: n.value(i),
                    sum: sum.value(i),
                    sumsq: sumsq.value(i),
                    shift: (!shift.is_null(i)).then(|| shift.value(i)),
                };
                self.combine_exact(&sums);
            } else {
                self.approximate();
                self.combine_yc((n.value(i) as f64, sx.value(i), sxx.value(i)));
            }
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let d256 = |v: i256| ScalarValue::Decimal256(Some(v), 76, 0);
        Ok(match &self.exact {
            Some(s) => vec![
                ScalarValue::UInt64(Some(s.n)),
                d256(s.sum),
                d256(s.sumsq),
                ScalarValue::Int32(s.shift),
                ScalarValue::Float64(Some(0.0)),
                ScalarValue::Float64(Some(0.0)),
                ScalarValue::Boolean(Some(true)),
            ],
            None => vec![
                ScalarValue::UInt64(Some(self.n as u64)),
                d256(i256::ZERO),
                d256(i256::ZERO),
                ScalarValue::Int32(None),
                ScalarValue::Float64(Some(self.sx)),
                ScalarValue::Float64(Some(self.sxx)),
                ScalarValue::Boolean(Some(false)),
            ],
        })
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        let sqrt = self.kind.sqrt();
        let finish = |var: f64| ScalarValue::Float64(Some(if sqrt { var.sqrt() } else { var }));
        if let Some(sums) = &self.exact {
            let den = if self.kind.sample() { sums.n.saturating_sub(1) } else { sums.n };
            if den == 0 {
                return Ok(ScalarValue::Float64(None));
            }
            if let Some(d) = sums.spread() {
                let var = i256_to_f64(d) / (sums.n as f64 * den as f64);
                return Ok(finish(scale2(var, 2 * sums.shift.unwrap_or(0))));
            }
            self.approximate();
        }
        let den = if self.kind.sample() { self.n - 1.0 } else { self.n };
        if den <= 0.0 {
            return Ok(ScalarValue::Float64(None));
        }
        Ok(finish(self.sxx / den))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

/// Count, Σx and Σx² of integers or numerics (unscaled at `scale`), exactly.
#[derive(Debug)]
struct ExactSpread {
    kind: Spread,
    scale: i8,
    n: i64,
    sum: i256,
    sumsq: i256,
}

fn numeric_overflow() -> datafusion::common::DataFusionError {
    super::err::exec("value overflows numeric format")
}

impl ExactSpread {
    fn new(kind: Spread, scale: i8) -> Self {
        ExactSpread { kind, scale, n: 0, sum: i256::ZERO, sumsq: i256::ZERO }
    }

    fn add(&mut self, x: i128, sign: i64) -> Result<()> {
        let x = i256::from_i128(x);
        let sq = x.checked_mul(x).ok_or_else(numeric_overflow)?;
        if sign > 0 {
            self.sum = self.sum.checked_add(x).ok_or_else(numeric_overflow)?;
            self.sumsq = self.sumsq.checked_add(sq).ok_or_else(numeric_overflow)?;
        } else {
            self.sum = self.sum.checked_sub(x).ok_or_else(numeric_overflow)?;
            self.sumsq = self.sumsq.checked_sub(sq).ok_or_else(numeric_overflow)?;
        }
        self.n += sign;
        Ok(())
    }

    fn update(&mut self, values: &ArrayRef, sign: i64) -> Result<()> {
        match values.data_type() {
            DataType::Decimal128(..) => {
                for x in values.as_primitive::<Decimal128Type>().iter().flatten() {
                    self.add(x, sign)?;
                }
            }
            _ => {
                for x in values.as_primitive::<Int64Type>().iter().flatten() {
                    self.add(i128::from(x), sign)?;
                }
            }
        }
        Ok(())
    }
}

impl Accumulator for ExactSpread {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.update(&values[0], 1)
    }
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.update(&values[0], -1)
    }
    fn supports_retract_batch(&self) -> bool {
        true
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let n = states[0].as_primitive::<Int64Type>();
        let sum = states[1].as_primitive::<Decimal256Type>();
        let sumsq = states[2].as_primitive::<Decimal256Type>();
        for i in 0..n.len() {
            if n.is_null(i) {
                continue;
            }
            self.n += n.value(i);
            self.sum = self.sum.checked_add(sum.value(i)).ok_or_else(numeric_overflow)?;
            self.sumsq = self.sumsq.checked_add(sumsq.value(i)).ok_or_else(numeric_overflow)?;
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![
            ScalarValue::Int64(Some(self.n)),
            ScalarValue::Decimal256(Some(self.sum), 76, 0),
            ScalarValue::Decimal256(Some(self.sumsq), 76, 0),
        ])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        let null = ScalarValue::Decimal128(None, NUMERIC_P, NUMERIC_S);
        let min = if self.kind.sample() { 2 } else { 1 };
        if self.n < min {
            return Ok(null);
        }
        let n = i256::from_i128(i128::from(self.n));
        let m = if self.kind.sample() { i256::from_i128(i128::from(self.n - 1)) } else { n };
        let ten = i256::from_i128(10);
        let exact = || -> Option<i256> {
            // variance = (nΣx² - (Σx)²) / (n·m) / 10^(2·scale), wanted at NUMERIC_S digits (twice
            // that under the square root).
            let num = n.checked_mul(self.sumsq)?.checked_sub(self.sum.checked_mul(self.sum)?)?;
            let num = if num.is_negative() { i256::ZERO } else { num };
            let digits = i32::from(NUMERIC_S) * if self.kind.sqrt() { 2 } else { 1 };
            let shift = digits - 2 * i32::from(self.scale);
            let (a, b) = if shift >= 0 {
                (num.checked_mul(ten.checked_pow(shift as u32)?)?, n.checked_mul(m)?)
            } else {
                (num, n.checked_mul(m)?.checked_mul(ten.checked_pow((-shift) as u32)?)?)
            };
            if self.kind.sqrt() {
                sqrt_round(a, b)
            } else {
                div_round(a, b)
            }
        };
        let v = exact().and_then(|v| v.to_i128()).ok_or_else(numeric_overflow)?;
        if v.unsigned_abs() >= 10u128.pow(u32::from(NUMERIC_P)) {
            return Err(numeric_overflow());
        }
        Ok(ScalarValue::Decimal128(Some(v), NUMERIC_P, NUMERIC_S))
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self)
    }
}

/// `agg(DISTINCT x)`: the distinct values, fed to a fresh accumulator at the end.
struct DistinctAcc {
    seen: std::collections::HashSet<ScalarValue>,
    input: DataType,
    make: Box<dyn Fn() -> Box<dyn Accumulator> + Send + Sync>,
}

impl std::fmt::Debug for DistinctAcc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DistinctAcc({} values)", self.seen.len())
    }
}

impl Accumulator for DistinctAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let a = &values[0];
        for i in 0..a.len() {
            if !a.is_null(i) {
                self.seen.insert(ScalarValue::try_from_array(a, i)?);
            }
        }
        Ok(())
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let lists = states[0].as_list::<i32>();
        for list in lists.iter().flatten() {
            self.update_batch(&[list])?;
        }
        Ok(())
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let values: Vec<ScalarValue> = self.seen.iter().cloned().collect();
        Ok(vec![ScalarValue::List(ScalarValue::new_list_nullable(&values, &self.input))])
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut acc = (self.make)();
        if !self.seen.is_empty() {
            let values: Vec<ScalarValue> = self.seen.iter().cloned().collect();
            acc.update_batch(&[ScalarValue::iter_to_array(values)?])?;
        }
        acc.evaluate()
    }
    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.seen.iter().map(|v| v.size()).sum::<usize>()
    }
}
