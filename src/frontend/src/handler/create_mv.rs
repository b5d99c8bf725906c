//! CREATE MATERIALIZED VIEW (and its EXPLAIN): the query is planned into a stream fragment
//! graph here; meta creates the job, backfills it and answers once its first epoch committed.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::sql::sqlparser::ast::{CreateView, ObjectName};
use tributary_common::catalog::{Table, SYSTEM_SCHEMAS};
use tributary_proto::catalog::TableType;
use tributary_proto::meta::CreateMaterializedViewRequest;

use super::{FrontendEnv, StatementResult};
use crate::binder::{creation_schema, normalize_ident, split_name};
use crate::error::{FrontendError, Result};
use crate::session::Session;
use crate::stream::{plan_materialized_view, StreamPlan};

/// Where a new relation goes, and whether one of that name is there already.
pub struct Target {
    pub schema_id: u32,
    pub name: String,
    pub exists: bool,
}

pub fn creation_target(env: &FrontendEnv, session: &Session, name: &ObjectName) -> Result<Target> {
    let db = env.database(session)?;
    let catalog = env.observer.catalog();
    let (schema, name) = split_name(name, &db.name)?;
    if schema.as_deref().is_some_and(|s| SYSTEM_SCHEMAS.contains(&s)) {
        return Err(FrontendError::sql("42501", format!("permission denied to create \"{name}\" in a system schema")));
    }
    let schema_id = creation_schema(&catalog, &db, &session.search_path(), schema)?;
    let exists = catalog.table(schema_id, &name).is_some();
    Ok(Target { schema_id, name, exists })
}

pub fn already_exists(name: &str) -> FrontendError {
    FrontendError::sql("42P07", format!("relation \"{name}\" already exists"))
}

/// `SET streaming_parallelism`: 0 lets meta choose.
pub(crate) fn parallelism(session: &Session) -> u32 {
    session.get("streaming_parallelism").ok().and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// The stream plan of the view and the user functions its query calls (inlined).
async fn plan(env: &FrontendEnv, session: &Session, create: &CreateView) -> Result<(StreamPlan, Vec<u32>)> {
    if create.or_replace || create.or_alter || create.temporary {
        return Err(FrontendError::not_supported("CREATE OR REPLACE / TEMPORARY MATERIALIZED VIEW"));
    }
    let ctx = env.planning_context(session, false)?;
    let mut query = create.query.clone();
    let functions = crate::planner::function::inline_in_context(&ctx, &mut query)?;
    let mut plan = plan_materialized_view(&ctx, &query, parallelism(session)).await?;
    rename_columns(&mut plan.columns, create)?;
    Ok((plan, functions))
}

/// `CREATE MATERIALIZED VIEW mv (a, b) AS ...` names the first columns.
fn rename_columns(columns: &mut [tributary_common::catalog::ColumnDesc], create: &CreateView) -> Result<()> {
    let visible = columns.iter().filter(|c| !c.hidden).count();
    if create.columns.len() > visible {
        return Err(FrontendError::sql("42601", "CREATE MATERIALIZED VIEW specifies more column names than columns"));
    }
    for (c, def) in columns.iter_mut().zip(&create.columns) {
        c.name = normalize_ident(&def.name);
    }
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(FrontendError::sql("42701", format!("column \"{n}\" specified more than once")));
        }
    }
    Ok(())
}

pub async fn handle_create_mv(env: &FrontendEnv, session: &mut Session, create: CreateView) -> Result<StatementResult> {
    let target = creation_target(env, session, &create.name)?;
    if target.exists {
        if create.if_not_exists {
            return Ok(StatementResult::command("CREATE MATERIALIZED VIEW"));
        }
        return Err(already_exists(&target.name));
    }
    let (plan, functions) = plan(env, session, &create).await?;
    let db = env.database(session)?;
    let table = Table {
        database_id: db.id,
        schema_id: target.schema_id,
        name: target.name,
        columns: plan.columns,
        pk_indices: plan.pk,
        definition: create.to_string(),
        table_type: TableType::MaterializedView as i32,
        dependent_relations: plan.dependent_relations,
        query: create.query.to_string(),
        dist_key: plan.dist_key,
        dependent_functions: functions,
        ..Default::default()
    };
    let request = CreateMaterializedViewRequest { table: Some(table), graph: Some(plan.graph), if_not_exists: create.if_not_exists };
    let resp = env.observer.client.clone().create_materialized_view(request).await?.into_inner();
    env.observer.wait_version(resp.version).await?;
    Ok(StatementResult::command("CREATE MATERIALIZED VIEW"))
}

/// `EXPLAIN CREATE MATERIALIZED VIEW ...`: the stream plan, one line per row.
pub async fn handle_explain(env: &FrontendEnv, session: &mut Session, create: CreateView) -> Result<StatementResult> {
    let (plan, _) = plan(env, session, &create).await?;
    explain_rows(plan.explain())
}

pub fn explain_rows(lines: Vec<String>) -> Result<StatementResult> {
    let schema = Arc::new(Schema::new(vec![Field::new("QUERY PLAN", ArrowType::Utf8, false)]));
    let n = lines.len();
    let col: ArrayRef = Arc::new(StringArray::from(lines));
    let batch = RecordBatch::try_new(schema.clone(), vec![col])?;
    Ok(StatementResult::Rows { schema, batches: vec![batch], tag: "EXPLAIN".into(), rows_in_tag: Some(n) })
}
