//! Operators and special syntax planned the Postgres way: `||` between text and non-text or with
//! arrays, `&&` on arrays, `EXTRACT`, `OVERLAY`.

use arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{Expr, ExprSchemable};
use datafusion::sql::sqlparser::ast::BinaryOperator;

use super::types::*;

fn cast(e: Expr, t: DataType) -> Expr {
    Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(e), t))
}

#[derive(Debug, Default)]
pub struct PgExprPlanner;

impl ExprPlanner for PgExprPlanner {
    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
        let RawBinaryExpr { op, left, right } = expr;
        match op {
            BinaryOperator::StringConcat => {
                let lt = left.get_type(schema)?;
                let rt = right.get_type(schema)?;
                // jsonb || jsonb belongs to the jsonb module.
                if matches!(lt, DataType::LargeUtf8) || matches!(rt, DataType::LargeUtf8) {
                    return Ok(PlannerResult::Original(RawBinaryExpr { op, left, right }));
                }
                if is_list(&lt) || is_list(&rt) {
                    return Ok(PlannerResult::Planned(
                        super::array::concat_operator().call(vec![left, right]),
                    ));
                }
                let texty = |t: &DataType| is_string(t) || matches!(t, DataType::Null);
                if (texty(&lt) || texty(&rt)) && !(texty(&lt) && texty(&rt)) {
                    return Ok(PlannerResult::Planned(super::string::textcat().call(vec![left, right])));
                }
            }
            BinaryOperator::Minus => {
                let lt = left.get_type(schema)?;
                let rt = right.get_type(schema)?;
                if matches!(lt, DataType::Timestamp(..)) && matches!(rt, DataType::Timestamp(..)) {
                    return Ok(PlannerResult::Planned(
                        super::datetime::timestamp_diff().call(vec![left, right]),
                    ));
                }
                // date - interval is a timestamp.
                if matches!(lt, DataType::Date32) && matches!(rt, DataType::Interval(_)) {
                    return Ok(PlannerResult::Original(RawBinaryExpr { op, left: cast(left, TIMESTAMP), right }));
                }
            }
            BinaryOperator::Plus => {
                let lt = left.get_type(schema)?;
                let rt = right.get_type(schema)?;
                // date + interval is a timestamp.
                if matches!(lt, DataType::Date32) && matches!(rt, DataType::Interval(_)) {
                    return Ok(PlannerResult::Original(RawBinaryExpr { op, left: cast(left, TIMESTAMP), right }));
                }
                if matches!(lt, DataType::Interval(_)) && matches!(rt, DataType::Date32) {
                    return Ok(PlannerResult::Original(RawBinaryExpr { op, left, right: cast(right, TIMESTAMP) }));
                }
            }
            BinaryOperator::Multiply | BinaryOperator::Divide => {
                let lt = left.get_type(schema)?;
                let rt = right.get_type(schema)?;
                let num = |t: &DataType| is_numeric(t) && !matches!(t, DataType::Interval(_));
                let divide = matches!(op, BinaryOperator::Divide);
                if matches!(lt, DataType::Interval(_)) && num(&rt) {
                    return Ok(PlannerResult::Planned(
                        super::datetime::interval_arith(divide).call(vec![left, cast(right, DataType::Float64)]),
                    ));
                }
                if !divide && num(&lt) && matches!(rt, DataType::Interval(_)) {
                    return Ok(PlannerResult::Planned(
                        super::datetime::interval_arith(false).call(vec![right, cast(left, DataType::Float64)]),
                    ));
                }
            }
            BinaryOperator::PGOverlap => {
                let lt = left.get_type(schema)?;
                let rt = right.get_type(schema)?;
                if is_list(&lt) && is_list(&rt) {
                    return Ok(PlannerResult::Planned(super::array::overlap().call(vec![left, right])));
                }
            }
            _ => {}
        }
        Ok(PlannerResult::Original(RawBinaryExpr { op, left, right }))
    }

    /// `SUBSTRING(x FROM a FOR b)` and `substr(x, a, b)` (parsed alike): text or bytea.
    fn plan_substring(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(super::string::substr().call(args)))
    }

    fn plan_extract(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(super::datetime::extract().call(args)))
    }
}
