//! CREATE FUNCTION ... LANGUAGE SQL and DROP FUNCTION. A SQL function's body is one scalar
//! expression; it is checked by planning it once here and inlined into every statement that
//! calls it (`planner::function`).

use datafusion::common::tree_node::TreeNode;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::sqlparser::ast::{
    ArgMode, CreateFunction, CreateFunctionBody, DataType as SqlType, DropFunction, Expr, FunctionDesc, FunctionReturnType,
    Query, Statement, Value,
};
use datafusion::sql::sqlparser::parser::Parser;
use tributary_common::catalog::SYSTEM_SCHEMAS;
use tributary_common::types::DataType;
use tributary_proto::catalog::Function;
use tributary_proto::meta::{CreateFunctionRequest, DropFunctionRequest};

use super::{FrontendEnv, StatementResult};
use crate::binder::{bind_data_type, creation_schema, normalize_ident, split_name};
use crate::error::{FrontendError, Result};
use crate::planner::function::{inline_in_context, parse_body, single_select_expr};
use crate::session::Session;

/// What a `CREATE FUNCTION` statement defines, checked for what Tributary supports.
#[derive(Debug, PartialEq)]
pub struct SqlFunctionDef {
    pub arg_names: Vec<String>,
    pub arg_types: Vec<DataType>,
    pub return_type: DataType,
    /// The body expression as SQL.
    pub body: String,
}

/// Validates the shape of a definition (not yet its body's meaning: that needs the catalog).
pub fn analyze(create: &CreateFunction) -> Result<SqlFunctionDef> {
    let name = create.name.to_string();
    if create.or_replace || create.or_alter || create.temporary {
        return Err(FrontendError::not_supported("CREATE OR REPLACE / TEMPORARY FUNCTION"));
    }
    let language = create.language.as_ref().map(normalize_ident).unwrap_or_else(|| "sql".into());
    if language != "sql" {
        return Err(FrontendError::not_supported(format!("functions in language {language} (only LANGUAGE SQL)")));
    }
    if create.using.is_some() || create.options.is_some() || create.remote_connection.is_some() || !create.set_params.is_empty() {
        return Err(FrontendError::not_supported(format!("options of function {name}")));
    }
    let return_type = match &create.return_type {
        Some(FunctionReturnType::DataType(SqlType::Table(_))) => {
            return Err(FrontendError::not_supported("table functions (RETURNS TABLE)"))
        }
        Some(FunctionReturnType::DataType(t)) => bind_data_type(t)?,
        Some(FunctionReturnType::SetOf(_)) => {
            return Err(FrontendError::not_supported("set-returning functions (RETURNS SETOF)"))
        }
        None => return Err(FrontendError::sql("42P13", format!("function {name} must declare its result type (RETURNS)"))),
    };
    let mut arg_names = Vec::new();
    let mut arg_types = Vec::new();
    for arg in create.args.iter().flatten() {
        if !matches!(arg.mode, None | Some(ArgMode::In)) {
            return Err(FrontendError::not_supported("OUT and INOUT parameters"));
        }
        if arg.default_expr.is_some() {
            return Err(FrontendError::not_supported("parameter defaults"));
        }
        let n = arg.name.as_ref().map(normalize_ident).unwrap_or_default();
        if !n.is_empty() && arg_names.contains(&n) {
            return Err(FrontendError::sql("42P13", format!("parameter name \"{n}\" used more than once")));
        }
        arg_names.push(n);
        arg_types.push(bind_data_type(&arg.data_type)?);
    }
    let not_scalar = || {
        FrontendError::not_supported(format!(
            "the body of function {name}: only a single scalar expression (SELECT expr without FROM, or RETURN expr)"
        ))
    };
    let body = match &create.function_body {
        Some(CreateFunctionBody::Return(e)) => e.to_string(),
        Some(CreateFunctionBody::AsBeforeOptions { body, link_symbol: None })
        | Some(CreateFunctionBody::AsAfterOptions(body)) => {
            let text = match body {
                Expr::Value(v) => match &v.value {
                    Value::SingleQuotedString(s) => s.clone(),
                    Value::DollarQuotedString(d) => d.value.clone(),
                    _ => return Err(not_scalar()),
                },
                _ => return Err(not_scalar()),
            };
            let mut stmts = Parser::new(&crate::dialect::TributaryDialect::new())
                .try_with_sql(&text)
                .and_then(|mut p| p.parse_statements())
                .map_err(|e| FrontendError::Syntax(format!("in the body of function {name}: {e}")))?;
            if stmts.len() != 1 {
                return Err(not_scalar());
            }
            single_select_expr(stmts.remove(0)).map_err(|()| not_scalar())?.to_string()
        }
        Some(_) => return Err(not_scalar()),
        None => return Err(FrontendError::sql("42P13", format!("function {name} has no body"))),
    };
    Ok(SqlFunctionDef { arg_names, arg_types, return_type, body })
}

pub async fn handle_create_function(env: &FrontendEnv, session: &mut Session, create: CreateFunction) -> Result<StatementResult> {
    let def = analyze(&create)?;
    let db = env.database(session)?;
    let catalog = env.observer.catalog();
    let (schema, name) = split_name(&create.name, &db.name)?;
    if schema.as_deref().is_some_and(|s| SYSTEM_SCHEMAS.contains(&s)) {
        return Err(FrontendError::sql("42501", format!("permission denied to create function \"{name}\" in a system schema")));
    }
    let schema_id = creation_schema(&catalog, &db, &session.search_path(), schema)?;
    let exists = catalog.functions_named(schema_id, &name).iter().any(|f| {
        f.arg_types.iter().map(DataType::from_protobuf).collect::<std::result::Result<Vec<_>, _>>().ok().as_ref()
            == Some(&def.arg_types)
    });
    if exists {
        if create.if_not_exists {
            return Ok(StatementResult::command("CREATE FUNCTION"));
        }
        return Err(FrontendError::sql("42723", format!("function \"{name}\" already exists with same argument types")));
    }
    let function = Function {
        id: 0,
        database_id: db.id,
        schema_id,
        name,
        arg_names: def.arg_names,
        arg_types: def.arg_types.iter().map(DataType::to_protobuf).collect(),
        return_type: Some(def.return_type.to_protobuf()),
        language: "sql".into(),
        body: def.body,
        definition: create.to_string(),
    };
    check_body(env, session, &function).await?;
    let resp =
        env.observer.client.clone().create_function(CreateFunctionRequest { function: Some(function) }).await?.into_inner();
    env.observer.wait_version(resp.version).await?;
    Ok(StatementResult::command("CREATE FUNCTION"))
}

/// Plans `SELECT f(NULL::t1, ...)` with the new function in a scratch catalog: the body must
/// name only its parameters and convert to the return type.
async fn check_body(env: &FrontendEnv, session: &Session, function: &Function) -> Result<()> {
    let ctx = env.planning_context(session, false)?;
    let mut scratch = (*ctx.catalog).clone();
    // Any id the catalog does not use: the function exists only in this check.
    let scratch_id = u32::MAX;
    scratch.functions.insert(scratch_id, Function { id: scratch_id, ..function.clone() });
    let args: Vec<String> = function
        .arg_types
        .iter()
        .map(|t| DataType::from_protobuf(t).map(|t| format!("CAST(NULL AS {})", crate::binder::cast_type_sql(&t))))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| FrontendError::Internal(e.to_string()))?;
    let schema = ctx.catalog.schemas.get(&function.schema_id).map(|s| s.name.clone()).unwrap_or_default();
    let quote = |n: &str| format!("\"{}\"", n.replace('"', "\"\""));
    let call = format!("SELECT {}.{}({})", quote(&schema), quote(&function.name), args.join(", "));
    // The body is parsed as stored, to report its errors as such.
    parse_body(&function.body)?;
    let mut stmt = Parser::new(&crate::dialect::TributaryDialect::new())
        .try_with_sql(&call)
        .and_then(|mut p| p.parse_statement())
        .map_err(|e| FrontendError::Internal(format!("function check does not parse: {e}")))?;
    let checking = crate::planner::PlanningContext { catalog: std::sync::Arc::new(scratch), ..clone_context(&ctx) };
    inline_in_context(&checking, &mut stmt)?;
    let Statement::Query(query) = stmt else { return Err(FrontendError::Internal("function check is not a query".into())) };
    let query: Query = *query;
    let checking = std::sync::Arc::new(checking);
    let (_, plan, _) = crate::stream::logical_plan(&checking, &query)
        .await
        .map_err(|e| FrontendError::sql("42P13", format!("invalid body of function {}: {}", function.name, e.message())))?;
    // Inlined, an aggregate or window function in the body would aggregate the caller's rows;
    // in Postgres it sees the one row of the call. (Subqueries keep theirs to themselves.)
    let aggregates = plan.exists(|p| Ok(matches!(p, LogicalPlan::Aggregate(_) | LogicalPlan::Window(_))))?;
    if aggregates {
        return Err(FrontendError::not_supported(format!(
            "aggregate or window functions in the body of function {}",
            function.name
        )));
    }
    Ok(())
}

fn clone_context(ctx: &crate::planner::PlanningContext) -> crate::planner::PlanningContext {
    crate::planner::PlanningContext {
        catalog: ctx.catalog.clone(),
        database: ctx.database.clone(),
        search_path: ctx.search_path.clone(),
        epoch: ctx.epoch,
        include_hidden: false,
        observer: ctx.observer.clone(),
        clients: ctx.clients.clone(),
        base: ctx.base.clone(),
        user: ctx.user.clone(),
        time_zone: ctx.time_zone.clone(),
        settings: ctx.settings.clone(),
        referenced: Default::default(),
        view_depth: ctx.view_depth,
    }
}

pub async fn handle_drop_function(env: &FrontendEnv, session: &mut Session, drop: DropFunction) -> Result<StatementResult> {
    if drop.drop_behavior == Some(datafusion::sql::sqlparser::ast::DropBehavior::Cascade) {
        return Err(FrontendError::not_supported("DROP FUNCTION ... CASCADE"));
    }
    for desc in &drop.func_desc {
        let Some(id) = resolve_for_drop(env, session, desc)? else {
            if drop.if_exists {
                continue;
            }
            return Err(FrontendError::sql("42883", format!("function {} does not exist", desc.name)));
        };
        let resp = env.observer.client.clone().drop_function(DropFunctionRequest { id }).await?.into_inner();
        env.observer.wait_version(resp.version).await?;
    }
    Ok(StatementResult::command("DROP FUNCTION"))
}

/// The function a DROP names: with an argument list, the overload with those types; without,
/// the only function of that name (as in Postgres, several overloads need the list).
fn resolve_for_drop(env: &FrontendEnv, session: &Session, desc: &FunctionDesc) -> Result<Option<u32>> {
    let db = env.database(session)?;
    let catalog = env.observer.catalog();
    let (schema, name) = split_name(&desc.name, &db.name)?;
    let schemas = match schema {
        Some(s) => vec![s],
        None => session.search_path(),
    };
    let types = match &desc.args {
        Some(args) => Some(
            args.iter()
                .filter(|a| !matches!(a.mode, Some(ArgMode::Out)))
                .map(|a| bind_data_type(&a.data_type))
                .collect::<Result<Vec<_>>>()?,
        ),
        None => None,
    };
    for s in schemas {
        let Some(sc) = catalog.schema(db.id, &s) else { continue };
        let found = catalog.functions_named(sc.id, &name);
        if found.is_empty() {
            continue;
        }
        let matching: Vec<_> = found
            .into_iter()
            .filter(|f| match &types {
                Some(types) => {
                    f.arg_types.iter().map(DataType::from_protobuf).collect::<std::result::Result<Vec<_>, _>>().ok().as_ref()
                        == Some(types)
                }
                None => true,
            })
            .collect();
        return match matching.as_slice() {
            [] => Ok(None),
            [f] => Ok(Some(f.id)),
            _ => Err(FrontendError::sql("42725", format!("function name \"{name}\" is not unique"))),
        };
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
