//! Uncorrelated scalar subqueries (`v > (SELECT max(v) FROM t2)`, `SELECT (SELECT count(*) ...)`)
//! become left joins with the one-row subquery before optimization: DataFusion runs them as
//! separate plans, which a stream cannot. A comparison with the joined value then plans as a
//! dynamic filter, anything else as a keyless join.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, JoinType};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{lit, Expr, Filter, LogicalPlan, LogicalPlanBuilder, Projection, Subquery};

use crate::error::Result;

/// Whether `plan` yields exactly one row: an aggregation without GROUP BY (under renames).
pub fn is_scalar(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Aggregate(a) => a.group_expr.is_empty(),
        LogicalPlan::Projection(p) => is_scalar(&p.input),
        LogicalPlan::SubqueryAlias(a) => is_scalar(&a.input),
        _ => false,
    }
}

pub fn scalar_subqueries_to_joins(plan: LogicalPlan) -> Result<LogicalPlan> {
    let mut count = 0;
    Ok(plan.transform_up_with_subqueries(|node| rewrite(node, &mut count))?.data)
}

fn rewrite(node: LogicalPlan, count: &mut usize) -> datafusion::error::Result<Transformed<LogicalPlan>> {
    let exprs: Vec<&Expr> = match &node {
        LogicalPlan::Filter(f) => vec![&f.predicate],
        LogicalPlan::Projection(p) => p.expr.iter().collect(),
        _ => return Ok(Transformed::no(node)),
    };
    let mut found: Vec<Subquery> = Vec::new();
    for e in exprs {
        e.apply(|x| {
            if let Expr::ScalarSubquery(s) = x {
                if s.outer_ref_columns.is_empty() && is_scalar(&s.subquery) && !found.contains(s) {
                    found.push(s.clone());
                }
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
    }
    if found.is_empty() {
        return Ok(Transformed::no(node));
    }
    let input = node.inputs()[0].clone();
    let mut joined = input.clone();
    let mut replacements: Vec<(Subquery, Expr)> = Vec::with_capacity(found.len());
    for s in found {
        *count += 1;
        let right = LogicalPlanBuilder::from(s.subquery.as_ref().clone()).alias(format!("__scalar_sq_{count}"))?.build()?;
        let (q, f) = right.schema().qualified_field(0);
        let value = Expr::Column(Column::new(q.cloned(), f.name()));
        // A keyless join needs a condition to be planned; `true` is the one that keeps all.
        joined = LogicalPlanBuilder::from(joined).join_on(right, JoinType::Left, Some(lit(true)))?.build()?;
        replacements.push((s, value));
    }
    let replace = |e: Expr| -> datafusion::error::Result<Expr> {
        Ok(e.transform_up(|x| {
            Ok(match &x {
                Expr::ScalarSubquery(s) => match replacements.iter().find(|(q, _)| q == s) {
                    Some((_, v)) => Transformed::yes(v.clone()),
                    None => Transformed::no(x),
                },
                _ => Transformed::no(x),
            })
        })?
        .data)
    };
    let names = NamePreserver::new(&node);
    let rewritten = match node {
        LogicalPlan::Filter(f) => {
            let filtered = LogicalPlan::Filter(Filter::try_new(replace(f.predicate)?, Arc::new(joined))?);
            // The filter's output stays its input's columns.
            let columns = input.schema().columns().into_iter().map(Expr::Column);
            LogicalPlanBuilder::from(filtered).project(columns)?.build()?
        }
        LogicalPlan::Projection(p) => {
            let exprs = p
                .expr
                .into_iter()
                .map(|e| {
                    let saved = names.save(&e);
                    Ok(saved.restore(replace(e)?))
                })
                .collect::<datafusion::error::Result<Vec<_>>>()?;
            LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(joined))?)
        }
        other => other,
    };
    Ok(Transformed::yes(rewritten))
}
