//! Operators and special syntax planned the Postgres way: `||` between text and non-text or with
//! arrays, `&&` on arrays, `EXTRACT`, `OVERLAY`.

use arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{Expr, ExprSchemable};
use datafusion::sql::sqlparser::ast::BinaryOperator;

use super::types::*;

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

    fn plan_extract(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(super::datetime::extract().call(args)))
    }
}
