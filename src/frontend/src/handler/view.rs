//! CREATE VIEW: the query is planned now (to check it and learn its columns) and stored as
//! text; statements naming the view plan it again and inline it.

use datafusion::sql::sqlparser::ast::CreateView;
use tributary_common::catalog::{ColumnDesc, Table};
use tributary_proto::catalog::TableType;
use tributary_proto::meta::CreateViewRequest;

use super::create_mv::{already_exists, creation_target};
use super::{FrontendEnv, StatementResult};
use crate::binder::normalize_ident;
use crate::error::{FrontendError, Result};
use crate::session::Session;
use crate::stream::{logical_plan, plan::sql_type};

pub async fn handle_create_view(env: &FrontendEnv, session: &mut Session, create: CreateView) -> Result<StatementResult> {
    if create.or_replace || create.or_alter || create.temporary {
        return Err(FrontendError::not_supported("CREATE OR REPLACE / TEMPORARY VIEW"));
    }
    let target = creation_target(env, session, &create.name)?;
    if target.exists {
        if create.if_not_exists {
            return Ok(StatementResult::command("CREATE VIEW"));
        }
        return Err(already_exists(&target.name));
    }
    let ctx = env.planning_context(session, false)?;
    // The view keeps its query as written: functions are inlined again whenever it is planned,
    // and cannot be dropped while it exists.
    let mut query = create.query.clone();
    let functions = crate::planner::function::inline_in_context(&ctx, &mut query)?;
    let (_, plan, mut names) = logical_plan(&ctx, &query).await?;
    if create.columns.len() > names.len() {
        return Err(FrontendError::sql("42601", "CREATE VIEW specifies more column names than columns"));
    }
    for (n, def) in names.iter_mut().zip(&create.columns) {
        *n = normalize_ident(&def.name);
    }
    let mut columns = Vec::with_capacity(names.len());
    for (i, (name, field)) in names.iter().zip(plan.schema().fields()).enumerate() {
        if names[..i].contains(name) {
            return Err(FrontendError::sql("42701", format!("column \"{name}\" specified more than once")));
        }
        columns.push(ColumnDesc {
            column_id: i as u32,
            name: name.clone(),
            data_type: Some(sql_type(field.data_type())?.to_protobuf()),
            not_null: false,
            hidden: false,
            default_expr: None,
        });
    }
    let db = env.database(session)?;
    let view = Table {
        database_id: db.id,
        schema_id: target.schema_id,
        name: target.name,
        columns,
        definition: create.to_string(),
        table_type: TableType::View as i32,
        dependent_relations: ctx.references(),
        query: create.query.to_string(),
        dependent_functions: functions,
        ..Default::default()
    };
    let resp = env
        .observer
        .client
        .clone()
        .create_view(CreateViewRequest { view: Some(view), if_not_exists: create.if_not_exists })
        .await?
        .into_inner();
    env.observer.wait_version(resp.version).await?;
    Ok(StatementResult::command("CREATE VIEW"))
}
