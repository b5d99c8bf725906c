//! Aggregates: DataFusion's, adjusted where Postgres differs (string_agg must yield varchar, as
//! `LargeUtf8` means jsonb here; `every` is bool_and).

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::expr::AggregateFunctionParams;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::AggregateOrderSensitivity;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, ReversedUDAF, Signature,
};

/// An aggregate whose result is cast to another type; everything else is the inner one's.
#[derive(Debug)]
struct Retyped {
    inner: Arc<dyn AggregateUDFImpl>,
    ret: DataType,
}

impl PartialEq for Retyped {
    fn eq(&self, other: &Self) -> bool {
        self.inner.name() == other.inner.name() && self.ret == other.ret
    }
}
impl Eq for Retyped {}
impl Hash for Retyped {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.name().hash(state);
        self.ret.hash(state);
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
        self.inner.signature()
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.ret.clone())
    }
    fn return_field(&self, arg_fields: &[FieldRef]) -> Result<FieldRef> {
        let f = self.inner.return_field(arg_fields)?;
        Ok(Arc::new(Field::new(f.name(), self.ret.clone(), f.is_nullable())))
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let inner_args = self.inner_args(&args)?;
        Ok(Box::new(RetypedAcc {
            inner: self.inner.accumulator(inner_args.as_args(&args))?,
            ret: self.ret.clone(),
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let inner_ret = self.inner.return_field(args.input_fields)?;
        self.inner.state_fields(StateFieldsArgs {
            return_field: inner_ret,
            ..args
        })
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
            ret: self.ret.clone(),
        }))
    }
    fn create_sliding_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let inner_args = self.inner_args(&args)?;
        Ok(Box::new(RetypedAcc {
            inner: self.inner.create_sliding_accumulator(inner_args.as_args(&args))?,
            ret: self.ret.clone(),
        }))
    }
    fn with_beneficial_ordering(self: Arc<Self>, beneficial: bool) -> Result<Option<Arc<dyn AggregateUDFImpl>>> {
        let inner = Arc::clone(&self.inner).with_beneficial_ordering(beneficial)?;
        Ok(inner.map(|inner| {
            Arc::new(Retyped {
                inner,
                ret: self.ret.clone(),
            }) as Arc<dyn AggregateUDFImpl>
        }))
    }
    fn order_sensitivity(&self) -> AggregateOrderSensitivity {
        self.inner.order_sensitivity()
    }
    fn reverse_expr(&self) -> ReversedUDAF {
        match self.inner.reverse_expr() {
            ReversedUDAF::Reversed(u) => {
                ReversedUDAF::Reversed(Arc::new(AggregateUDF::new_from_shared_impl(Arc::new(Retyped {
                    inner: Arc::clone(u.inner()),
                    ret: self.ret.clone(),
                }))))
            }
            other => other,
        }
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }
    fn is_nullable(&self) -> bool {
        self.inner.is_nullable()
    }
    fn default_value(&self, data_type: &DataType) -> Result<ScalarValue> {
        ScalarValue::try_from(data_type)
    }
}

/// The accumulator arguments as the inner aggregate expects them (its own return type).
struct InnerArgs {
    return_field: FieldRef,
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
            expr_fields: args.expr_fields,
        }
    }
}

impl Retyped {
    fn inner_args(&self, args: &AccumulatorArgs) -> Result<InnerArgs> {
        Ok(InnerArgs {
            return_field: self.inner.return_field(args.expr_fields)?,
        })
    }
}

#[derive(Debug)]
struct RetypedAcc {
    inner: Box<dyn Accumulator>,
    ret: DataType,
}

impl Accumulator for RetypedAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.inner.update_batch(values)
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
        self.inner.retract_batch(values)
    }
    fn supports_retract_batch(&self) -> bool {
        self.inner.supports_retract_batch()
    }
}

struct RetypedGroups {
    inner: Box<dyn GroupsAccumulator>,
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
        self.inner
            .update_batch(values, group_indices, opt_filter, total_num_groups)
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
        self.inner.convert_to_state(values, opt_filter)
    }
    fn size(&self) -> usize {
        self.inner.size()
    }
}

pub(crate) fn functions() -> Vec<AggregateUDF> {
    let string_agg = datafusion::functions_aggregate::string_agg::string_agg_udaf();
    vec![
        AggregateUDF::new_from_shared_impl(Arc::new(Retyped {
            inner: Arc::clone(string_agg.inner()),
            ret: DataType::Utf8,
        })),
        datafusion::functions_aggregate::bool_and_or::bool_and_udaf()
            .as_ref()
            .clone()
            .with_aliases(["every"]),
    ]
}
