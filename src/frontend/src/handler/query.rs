//! SELECT (and EXPLAIN): planned and run by DataFusion over one committed epoch.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use datafusion::common::ParamValues;
use datafusion::dataframe::DataFrame;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Expr, Query, SelectItem, SetExpr, Statement};

use super::{FrontendEnv, StatementResult};
use crate::error::Result;
use crate::session::Session;

/// The zone DataFusion computes in; sessions render timestamptz in their own zone.
pub const DATAFUSION_TIME_ZONE: &str = "+00:00";

pub async fn handle_query(
    env: &FrontendEnv,
    session: &mut Session,
    stmt: Statement,
    params: Option<&ParamValues>,
) -> Result<StatementResult> {
    let is_explain = matches!(stmt, Statement::Explain { .. });
    let names = match &stmt {
        Statement::Query(q) => pg_column_names(q),
        _ => None,
    };
    let ctx = env.planning_context(session, false)?;
    let state = ctx.session_state(DATAFUSION_TIME_ZONE);
    let plan = state.statement_to_plan(DfStatement::Statement(Box::new(stmt))).await?;
    let plan = match params {
        Some(p) => plan.with_param_values(p.clone())?,
        None => plan,
    };
    let df = DataFrame::new(state, plan);
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    let (schema, batches) = if is_explain { explain_rows(&batches)? } else { rename(schema, batches, names)? };
    let rows = batches.iter().map(|b| b.num_rows()).sum();
    Ok(StatementResult::Rows { schema, batches, tag: "SELECT".into(), rows_in_tag: Some(rows) })
}

/// Output column names as Postgres gives them, where DataFusion's differ (`?column?` for
/// expressions, the function name for calls). `None` keeps DataFusion's names.
pub fn pg_column_names(q: &Query) -> Option<Vec<Option<String>>> {
    let mut body = q.body.as_ref();
    loop {
        match body {
            SetExpr::SetOperation { left, .. } => body = left.as_ref(),
            SetExpr::Query(q) => body = q.body.as_ref(),
            _ => break,
        }
    }
    let SetExpr::Select(select) = body else { return None };
    let mut names = Vec::with_capacity(select.projection.len());
    for item in &select.projection {
        match item {
            SelectItem::UnnamedExpr(e) => names.push(expr_name(e)),
            SelectItem::ExprWithAlias { .. } => names.push(None),
            _ => return None,
        }
    }
    Some(names)
}

fn expr_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => None,
        Expr::Nested(inner) => expr_name(inner),
        Expr::Cast { expr, .. } => match expr.as_ref() {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => None,
            _ => expr_name(expr),
        },
        Expr::Function(f) => {
            let name = f.name.0.last().map(|p| p.to_string().trim_matches('"').to_lowercase()).unwrap_or_default();
            Some(name)
        }
        Expr::Case { .. } => Some("case".into()),
        Expr::Exists { .. } => Some("exists".into()),
        Expr::Array(_) => Some("array".into()),
        _ => Some("?column?".into()),
    }
}

fn rename(
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    names: Option<Vec<Option<String>>>,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let Some(names) = names.filter(|n| n.len() == schema.fields().len() && n.iter().any(|x| x.is_some())) else {
        return Ok((schema, batches));
    };
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(names)
        .map(|(f, n)| match n {
            Some(n) => f.as_ref().clone().with_name(n),
            None => f.as_ref().clone(),
        })
        .collect();
    let new_schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let batches = batches
        .into_iter()
        .map(|b| b.with_schema(new_schema.clone()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((new_schema, batches))
}

/// EXPLAIN output as Postgres shows it: one text column `QUERY PLAN`.
fn explain_rows(batches: &[RecordBatch]) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let mut lines = Vec::new();
    for b in batches {
        let kinds = b.column(0).as_any().downcast_ref::<StringArray>();
        let plans = b.column(b.num_columns() - 1).as_any().downcast_ref::<StringArray>();
        if let (Some(kinds), Some(plans)) = (kinds, plans) {
            for i in 0..b.num_rows() {
                lines.push(format!("{}:", kinds.value(i)));
                lines.extend(plans.value(i).lines().map(|l| format!("  {l}")));
            }
        }
    }
    let schema = Arc::new(Schema::new(vec![Field::new("QUERY PLAN", ArrowType::Utf8, false)]));
    let col: ArrayRef = Arc::new(StringArray::from(lines));
    Ok((schema.clone(), vec![RecordBatch::try_new(schema, vec![col])?]))
}
