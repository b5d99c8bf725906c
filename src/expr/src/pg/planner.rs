//! Operators and special syntax planned the Postgres way: `||` between text and non-text or with
//! arrays, `&&` on arrays, interval comparisons, `EXTRACT`, `OVERLAY`, the element type of
//! `ARRAY[...]`, and the `integer` type of integer literals in arithmetic.

use arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{Expr, ExprSchemable};
use datafusion::sql::sqlparser::ast::BinaryOperator;

use super::types::*;

fn cast(e: Expr, t: DataType) -> Expr {
    Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(e), t))
}

/// Numeric elements of different scales (integers count as scale 0): a Postgres numeric keeps
/// each value's own scale (`{1.5,2.25}`), a decimal array one scale for all (`{1.50,2.25}`).
/// Unconstrained numeric, which prints without trailing zeros, comes closest.
fn numeric_elements(exprs: Vec<Expr>, types: &[DataType]) -> Vec<Expr> {
    let scale = |t: &DataType| match t {
        DataType::Decimal128(p, s) if *s >= 0 && p - *s as u8 <= 28 => Some(Some(*s)),
        DataType::Int16 | DataType::Int32 | DataType::Int64 => Some(Some(0)),
        DataType::Null => Some(None),
        _ => None,
    };
    let Some(scales) = types.iter().map(scale).collect::<Option<Vec<_>>>() else { return exprs };
    let mut distinct: Vec<i8> = scales.into_iter().flatten().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 2 || !types.iter().any(is_decimal) {
        return exprs;
    }
    exprs
        .into_iter()
        .zip(types)
        .map(|(e, t)| if matches!(t, DataType::Null) { e } else { cast(e, NUMERIC) })
        .collect()
}

/// An integer literal within `integer`'s range (DataFusion types every integer literal `bigint`).
fn small_int_literal(e: &Expr) -> bool {
    matches!(e, Expr::Literal(ScalarValue::Int64(Some(v)), _) if i32::try_from(*v).is_ok())
}

/// Postgres types an integer literal `integer` when it fits, and arithmetic takes its result type
/// (and overflow) from its operands: `2147483647 + 1` overflows. A literal meeting another such
/// literal or an `integer`/`smallint` operand is made `integer`; next to a `bigint` (or anything
/// else) it stays as it is, which changes nothing.
fn int4_literals(left: Expr, right: Expr, schema: &DFSchema) -> Result<(Expr, Expr)> {
    let narrow = |e: &Expr| -> Result<bool> {
        Ok(small_int_literal(e) || matches!(e.get_type(schema)?, DataType::Int16 | DataType::Int32))
    };
    let (left_lit, right_lit) = (small_int_literal(&left), small_int_literal(&right));
    let (left_narrow, right_narrow) = (narrow(&left)?, narrow(&right)?);
    let left = if left_lit && right_narrow { cast(left, DataType::Int32) } else { left };
    let right = if right_lit && left_narrow { cast(right, DataType::Int32) } else { right };
    Ok((left, right))
}

#[derive(Debug, Default)]
pub struct PgExprPlanner;

impl ExprPlanner for PgExprPlanner {
    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
        let RawBinaryExpr { op, left, right } = expr;
        let arithmetic = matches!(
            op,
            BinaryOperator::Plus
                | BinaryOperator::Minus
                | BinaryOperator::Multiply
                | BinaryOperator::Divide
                | BinaryOperator::Modulo
        );
        let (left, right) = if arithmetic { int4_literals(left, right, schema)? } else { (left, right) };
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
            BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq => {
                let lt = left.get_type(schema)?;
                let rt = right.get_type(schema)?;
                let interval = |t: &DataType| matches!(t, DataType::Interval(_));
                let texty = |t: &DataType| is_string(t) || matches!(t, DataType::Null);
                if (interval(&lt) && (interval(&rt) || texty(&rt))) || (texty(&lt) && interval(&rt)) {
                    let span = |e: Expr| super::datetime::interval_span().call(vec![cast(e, INTERVAL)]);
                    return Ok(PlannerResult::Original(RawBinaryExpr { op, left: span(left), right: span(right) }));
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

    /// `ARRAY[...]` of numbers: integer literals that fit are `integer` (see [`int4_literals`]),
    /// numerics of different scales unconstrained (see [`numeric_elements`]), and float elements
    /// make every element float, as Postgres resolves
    /// numeric and float to the float (the preferred type of the category); DataFusion would
    /// pick a decimal, which neither holds `1e100` nor keeps a float's value.
    fn plan_array_literal(&self, exprs: Vec<Expr>, schema: &DFSchema) -> Result<PlannerResult<Vec<Expr>>> {
        let types = exprs.iter().map(|e| e.get_type(schema)).collect::<Result<Vec<_>>>()?;
        let narrow = exprs.iter().zip(&types).all(|(e, t)| {
            small_int_literal(e) || matches!(t, DataType::Int16 | DataType::Int32 | DataType::Null)
        });
        if narrow && exprs.iter().any(small_int_literal) {
            let exprs = exprs
                .into_iter()
                .map(|e| if small_int_literal(&e) { cast(e, DataType::Int32) } else { e })
                .collect();
            return Ok(PlannerResult::Original(exprs));
        }
        let float = if types.contains(&DataType::Float64) {
            DataType::Float64
        } else if types.iter().any(is_float) {
            DataType::Float32
        } else {
            return Ok(PlannerResult::Original(numeric_elements(exprs, &types)));
        };
        if !types.iter().any(|t| is_int(t) || is_decimal(t)) {
            return Ok(PlannerResult::Original(exprs));
        }
        let exprs = exprs
            .into_iter()
            .zip(types)
            .map(|(e, t)| match e {
                // A decimal literal's digits read as a float directly: converting the decimal
                // is inexact (1e100 would come out as 1.0000000000000002e100).
                Expr::Literal(ref v @ (ScalarValue::Decimal128(Some(_), ..) | ScalarValue::Decimal256(Some(_), ..)), _)
                    if float == DataType::Float64 =>
                {
                    match v.to_string().parse::<f64>() {
                        Ok(f) => Expr::Literal(ScalarValue::Float64(Some(f)), None),
                        Err(_) => cast(e, float.clone()),
                    }
                }
                e if is_int(&t) || is_decimal(&t) || is_float(&t) => cast(e, float.clone()),
                e => e,
            })
            .collect();
        Ok(PlannerResult::Original(exprs))
    }

    /// `SUBSTRING(x FROM a FOR b)` and `substr(x, a, b)` (parsed alike): text or bytea.
    fn plan_substring(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(super::string::substr().call(args)))
    }

    fn plan_extract(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(super::datetime::extract().call(args)))
    }
}
