//! Table functions in a materialized view. With constant arguments (`generate_series(1, 3)`,
//! `range(1, 2)`) a table function is a fixed set of rows: it is read once at planning time and
//! becomes a VALUES node, which streaming runs like any VALUES.

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::datasource::source_as_provider;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::scalar::ScalarValue;

use crate::error::{FrontendError, Result};
use crate::planner::table::RemoteTable;

/// Rows a table function may produce to be inlined; a view is no place for a bigger constant.
const MAX_ROWS: usize = 100_000;

/// Replaces every scan of a table function in `plan` by the VALUES of its rows.
pub async fn inline_table_functions(state: &SessionState, plan: LogicalPlan) -> Result<LogicalPlan> {
    let mut scans: Vec<(Arc<dyn TableProvider>, LogicalPlan)> = Vec::new();
    plan.apply(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            // DataFusion names a table function's scan `name()`; system catalogs and other
            // in-memory tables are not fixed and stay unsupported.
            let table = scan.table_name.table();
            let is_function = scan.table_name.schema().is_none()
                && table.strip_suffix("()").is_some_and(|f| state.table_functions().contains_key(f));
            if let Ok(provider) = source_as_provider(&scan.source) {
                if is_function && provider.as_ref().downcast_ref::<RemoteTable>().is_none() {
                    scans.push((provider, node.clone()));
                }
            }
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    })?;
    if scans.is_empty() {
        return Ok(plan);
    }
    let mut replacements: Vec<(LogicalPlan, LogicalPlan)> = Vec::with_capacity(scans.len());
    for (provider, node) in scans {
        let LogicalPlan::TableScan(scan) = &node else { continue };
        let exec = provider.scan(state, scan.projection.as_ref(), &scan.filters, scan.fetch).await?;
        // Streamed and cut off past the limit: `generate_series(1, 1e12)` must not be collected.
        let mut stream = datafusion::physical_plan::execute_stream(exec, state.task_ctx())?;
        let mut batches = Vec::new();
        let mut rows = 0usize;
        while let Some(batch) = futures::StreamExt::next(&mut stream).await {
            let batch = batch?;
            rows += batch.num_rows();
            batches.push(batch);
            if rows > MAX_ROWS {
                break;
            }
        }
        if rows == 0 || rows > MAX_ROWS {
            let count = if rows > MAX_ROWS { format!("more than {MAX_ROWS} rows") } else { "no rows".to_string() };
            return Err(FrontendError::not_supported(format!(
                "reading {} in a materialized view ({count}; a table function's rows are inlined when there are 1 to {MAX_ROWS})",
                scan.table_name
            )));
        }
        let mut values: Vec<Vec<Expr>> = Vec::with_capacity(rows);
        for b in &batches {
            for i in 0..b.num_rows() {
                let row = b
                    .columns()
                    .iter()
                    .map(|c| ScalarValue::try_from_array(c, i).map(|v| Expr::Literal(v, None)))
                    .collect::<datafusion::common::Result<Vec<_>>>()?;
                values.push(row);
            }
        }
        // VALUES names its columns column1..N; the scan's qualified names come back on top.
        let schema = scan.projected_schema.clone();
        let exprs: Vec<Expr> = schema
            .iter()
            .enumerate()
            .map(|(i, (qualifier, field))| {
                Expr::Column(datafusion::common::Column::from_name(format!("column{}", i + 1)))
                    .alias_qualified(qualifier.cloned(), field.name())
            })
            .collect();
        let inlined = LogicalPlanBuilder::values(values)?.project(exprs)?.build()?;
        replacements.push((node.clone(), inlined));
    }
    let out = plan.transform_up(|node| {
        if let Some((_, with)) = replacements.iter().find(|(scan, _)| *scan == node) {
            return Ok(Transformed::yes(with.clone()));
        }
        Ok(Transformed::no(node))
    })?;
    Ok(out.data)
}
