//! Views: a view's stored query is planned when a statement names it (in a context resolving
//! names through the view's schema first) and inlined into the statement's plan.

use std::sync::Arc;

use datafusion::catalog::view::ViewTable;
use datafusion::datasource::TableProvider;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::{col, LogicalPlanBuilder};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::Statement;

use super::PlanningContext;
use crate::catalog::TableCatalog;
use crate::handler::{parse_statements, ParsedStatement};

/// Views over views deeper than this are refused (the catalog has no cycles; this bounds the
/// work if it ever did).
const MAX_VIEW_DEPTH: u32 = 32;

pub async fn view_table(ctx: &Arc<PlanningContext>, view: &TableCatalog, schema: &str) -> DfResult<Arc<dyn TableProvider>> {
    let name = &view.table.name;
    if ctx.view_depth >= MAX_VIEW_DEPTH {
        return Err(DataFusionError::Plan(format!("view \"{name}\" nests views too deeply")));
    }
    let bad = |e: String| DataFusionError::Plan(format!("view \"{name}\" cannot be planned: {e}"));
    let mut stmts = parse_statements(&view.table.query).map_err(|e| bad(e.message()))?;
    let Some(ParsedStatement::Sql(stmt)) = stmts.pop() else { return Err(bad("not a query".into())) };
    let Statement::Query(mut query) = *stmt else { return Err(bad("not a query".into())) };
    let mut path = vec![schema.to_string()];
    path.extend(ctx.search_path.iter().filter(|s| *s != schema).cloned());
    let inner = ctx.for_view(path);
    // The stored query went through the statement rewrites when the view was created.
    crate::handler::query::prepare_output_names(&mut query);
    crate::planner::function::inline_in_context(&inner, &mut query).map_err(|e| bad(e.message()))?;
    let stmt = Statement::Query(query);
    let state = inner.session_state();
    let plan = state.statement_to_plan(DfStatement::Statement(Box::new(stmt))).await?;
    let plan = tributary_expr::pg::rewrite_plan(plan)?;
    // The view's columns carry the names it was created with.
    let fields = plan.schema().columns();
    if fields.len() != view.table.columns.len() {
        return Err(bad(format!("its query has {} columns, the view {}", fields.len(), view.table.columns.len())));
    }
    let exprs = fields.into_iter().zip(&view.table.columns).map(|(c, vc)| col(c).alias(&vc.name));
    let plan = LogicalPlanBuilder::from(plan).project(exprs)?.build()?;
    Ok(Arc::new(ViewTable::new(plan, Some(view.table.definition.clone()))))
}
