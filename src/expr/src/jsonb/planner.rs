//! SQL planning hooks: the `jsonb` type name, the jsonb operators, and the jsonb aggregates.

use std::sync::Arc;

use arrow::datatypes::{DataType, FieldRef};
use datafusion::common::datatype::DataTypeExt;
use datafusion::common::{exec_err, DFSchema, Result, ScalarValue};
use datafusion::functions_aggregate::array_agg::array_agg_udaf;
use datafusion::logical_expr::expr::{
    AggregateFunction, ScalarFunction, WindowFunction, WindowFunctionParams,
};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::planner::{
    ExprPlanner, PlannerResult, RawAggregateExpr, RawBinaryExpr, RawWindowExpr, TypePlanner,
};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, BinaryExpr, Cast, Expr, ExprSchemable, Operator,
    Signature, Volatility, WindowFunctionDefinition,
};
use datafusion::sql::sqlparser::ast::{self, BinaryOperator};

use super::udf::{udf, Kind};

/// `jsonb` (and `json`, which is stored the same way here) is `LargeUtf8`.
#[derive(Debug, Default)]
pub struct JsonbTypePlanner;

impl TypePlanner for JsonbTypePlanner {
    fn plan_type_field(&self, sql_type: &ast::DataType) -> Result<Option<FieldRef>> {
        match sql_type {
            ast::DataType::JSONB | ast::DataType::JSON => {
                Ok(Some(DataType::LargeUtf8.into_nullable_field_ref()))
            }
            _ => Ok(None),
        }
    }
}

#[derive(Debug, Default)]
pub struct JsonbExprPlanner;

fn call(kind: Kind, args: Vec<Expr>) -> Expr {
    Expr::ScalarFunction(ScalarFunction::new_udf(udf(kind), args))
}

fn is_text_literal(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Literal(ScalarValue::Utf8(_) | ScalarValue::Utf8View(_), _)
    )
}

fn is_list(t: &DataType) -> bool {
    matches!(
        t,
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
    )
}

impl ExprPlanner for JsonbExprPlanner {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        let RawBinaryExpr { op, left, right } = expr;
        let lt = left.get_type(schema)?;
        let rt = right.get_type(schema)?;
        let lj = lt == DataType::LargeUtf8;
        let rj = rt == DataType::LargeUtf8;
        // An untyped string on the left of a jsonb-only operator is read as JSON, as Postgres
        // resolves `'{"a":1}' -> 'a'`.
        let left_json = lj || is_text_literal(&left);
        let kind = match op {
            BinaryOperator::Arrow if left_json => Some(Kind::Access),
            BinaryOperator::LongArrow if left_json => Some(Kind::AccessText),
            BinaryOperator::HashArrow if left_json => Some(Kind::PathGet),
            BinaryOperator::HashLongArrow if left_json => Some(Kind::PathGetText),
            BinaryOperator::Question if left_json => Some(Kind::Exists),
            BinaryOperator::QuestionPipe if left_json => Some(Kind::ExistsAny),
            BinaryOperator::QuestionAnd if left_json => Some(Kind::ExistsAll),
            BinaryOperator::HashMinus if left_json => Some(Kind::DeletePath),
            BinaryOperator::AtArrow if (lj || rj) && !is_list(&lt) && !is_list(&rt) => {
                Some(Kind::Contains)
            }
            BinaryOperator::ArrowAt if (lj || rj) && !is_list(&lt) && !is_list(&rt) => {
                Some(Kind::Contained)
            }
            BinaryOperator::Minus if lj => Some(Kind::Delete),
            BinaryOperator::StringConcat
                if (lj && (rj || is_text_literal(&right))) || (rj && is_text_literal(&left)) =>
            {
                Some(Kind::Concat)
            }
            _ => None,
        };
        if let Some(kind) = kind {
            return Ok(PlannerResult::Planned(call(kind, vec![left, right])));
        }
        let planned =
            if op == BinaryOperator::StringConcat && (lj || rj) && !is_list(&lt) && !is_list(&rt) {
                // jsonb || text is text concatenation of jsonb's text, as in Postgres.
                let as_text = |e: Expr, is_jsonb: bool| {
                    if is_jsonb {
                        Expr::Cast(Cast::new(Box::new(e), DataType::Utf8))
                    } else {
                        e
                    }
                };
                Some(Expr::BinaryExpr(BinaryExpr::new(
                    Box::new(as_text(left.clone(), lj)),
                    Operator::StringConcat,
                    Box::new(as_text(right.clone(), rj)),
                )))
            } else {
                None
            };
        match planned {
            Some(e) => Ok(PlannerResult::Planned(e)),
            None => Ok(PlannerResult::Original(RawBinaryExpr { op, left, right })),
        }
    }

    /// `jsonb_agg(x …)` is `array_agg(to_jsonb(x) …)` folded into one jsonb array, and
    /// `jsonb_object_agg(k, v …)` the same over `[k, v]` pairs: `array_agg` already implements
    /// ORDER BY, FILTER and DISTINCT across partial aggregation.
    fn plan_aggregate(&self, expr: RawAggregateExpr) -> Result<PlannerResult<RawAggregateExpr>> {
        let (item, finish) = match expr.func.name() {
            "jsonb_agg" if expr.args.len() == 1 => {
                (call(Kind::ToJsonb, expr.args.clone()), Kind::AggFinish)
            }
            "jsonb_object_agg" if expr.args.len() == 2 => {
                (call(Kind::Pair, expr.args.clone()), Kind::ObjectAggFinish)
            }
            _ => return Ok(PlannerResult::Original(expr)),
        };
        let RawAggregateExpr {
            distinct,
            filter,
            order_by,
            null_treatment,
            ..
        } = expr;
        let agg = Expr::AggregateFunction(AggregateFunction::new_udf(
            array_agg_udaf(),
            vec![item],
            distinct,
            filter,
            order_by,
            null_treatment,
        ));
        Ok(PlannerResult::Planned(call(finish, vec![agg])))
    }

    /// The window form of the same rewrite: `jsonb_agg(x) OVER (…)`.
    fn plan_window(&self, expr: RawWindowExpr) -> Result<PlannerResult<RawWindowExpr>> {
        let WindowFunctionDefinition::AggregateUDF(func) = &expr.func_def else {
            return Ok(PlannerResult::Original(expr));
        };
        let (item, finish) = match func.name() {
            "jsonb_agg" if expr.args.len() == 1 => {
                (call(Kind::ToJsonb, expr.args.clone()), Kind::AggFinish)
            }
            "jsonb_object_agg" if expr.args.len() == 2 => {
                (call(Kind::Pair, expr.args.clone()), Kind::ObjectAggFinish)
            }
            _ => return Ok(PlannerResult::Original(expr)),
        };
        let RawWindowExpr {
            partition_by,
            order_by,
            window_frame,
            filter,
            null_treatment,
            distinct,
            ..
        } = expr;
        let window = Expr::WindowFunction(Box::new(WindowFunction {
            fun: WindowFunctionDefinition::AggregateUDF(array_agg_udaf()),
            params: WindowFunctionParams {
                args: vec![item],
                partition_by,
                order_by,
                window_frame,
                filter,
                null_treatment,
                distinct,
            },
        }));
        Ok(PlannerResult::Planned(call(finish, vec![window])))
    }
}

/// Name holders for `jsonb_agg` and `jsonb_object_agg`, so that SQL resolves the names;
/// [`JsonbExprPlanner::plan_aggregate`] replaces every call before execution.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonbAggName {
    name: &'static str,
    signature: Signature,
}

pub fn agg_udafs() -> Vec<Arc<AggregateUDF>> {
    [("jsonb_agg", 1), ("jsonb_object_agg", 2)]
        .into_iter()
        .map(|(name, n)| {
            Arc::new(AggregateUDF::new_from_impl(JsonbAggName {
                name,
                signature: Signature::any(n, Volatility::Immutable),
            }))
        })
        .collect()
}

impl AggregateUDFImpl for JsonbAggName {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::LargeUtf8)
    }

    fn state_fields(&self, _args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![DataType::LargeUtf8.into_nullable_field_ref()])
    }

    fn accumulator(&self, _acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        exec_err!("{} must be planned through SQL", self.name)
    }
}
