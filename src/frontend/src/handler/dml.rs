//! INSERT, UPDATE and DELETE. The frontend computes the rows to write with DataFusion (reading
//! the committed epoch), then sends them as a chunk with ops to the compute node owning the table.
//! An INSERT whose primary key exists overwrites the row (RisingWave's semantics).

use std::sync::Arc;

use arrow::array::{new_null_array, Array, ArrayRef, RecordBatch};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType as ArrowType, Schema, SchemaRef};
use datafusion::common::ParamValues;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    Assignment, AssignmentTarget, Delete, FromTable, Insert, SelectItem, Statement, TableFactor, TableObject,
    TableWithJoins, Update,
};
use tributary_common::chunk::{Op, StreamChunk};
use tributary_common::pg_value::FormatOptions;
use tributary_proto::compute::WriteRequest;

use super::{FrontendEnv, StatementResult};
use crate::binder::{normalize_ident, object_name_parts, resolve_table};
use crate::catalog::TableCatalog;
use crate::error::{FrontendError, Result};
use crate::session::Session;

pub async fn handle_insert(
    env: &FrontendEnv,
    session: &mut Session,
    mut insert: Insert,
    params: Option<&ParamValues>,
) -> Result<StatementResult> {
    let returning = insert.returning.take();
    if insert.on.is_some() {
        return Err(FrontendError::not_supported("INSERT ... ON CONFLICT"));
    }
    let TableObject::TableName(name) = &insert.table else {
        return Err(FrontendError::not_supported("INSERT INTO a table function"));
    };
    let ctx = env.planning_context(session, false)?;
    let table = resolve_table(&ctx.catalog, &ctx.database, &ctx.search_path, name)?;
    writable(&table)?;
    if let Some(source) = insert.source.as_mut() {
        fill_defaults(&table, &insert.columns, source)?;
    }
    let opts = FormatOptions { timezone: session.time_zone(), extra_float_digits: session.extra_float_digits() };
    if let Some(rows) = super::literal_values::literal_rows(&table, &insert, params, &opts)? {
        return write_visible(env, session, &table, vec![rows], returning).await;
    }
    if let Some(source) = insert.source.as_mut() {
        super::query::prepare_output_names(source);
    }
    let state = ctx.session_state();
    let plan = state.statement_to_plan(DfStatement::Statement(Box::new(Statement::Insert(insert)))).await?;
    let plan = match params {
        Some(p) => plan.with_param_values(p.clone())?,
        None => plan,
    };
    let LogicalPlan::Dml(dml) = plan else {
        return Err(FrontendError::Internal("INSERT did not plan as DML".into()));
    };
    // DataFusion's INSERT input yields the visible columns in table order, defaults filled in.
    let visible = DataFrame::new(state, Arc::unwrap_or_clone(dml.input)).collect().await?;
    write_visible(env, session, &table, visible, returning).await
}

/// Inserts rows given as the table's visible columns (the row id is added).
async fn write_visible(
    env: &FrontendEnv,
    session: &mut Session,
    table: &TableCatalog,
    visible: Vec<RecordBatch>,
    returning: Option<Vec<SelectItem>>,
) -> Result<StatementResult> {
    let visible = conform(&visible, &visible_schema(table))?;
    let full = visible.iter().map(|b| to_table_row(table, b)).collect::<Result<Vec<_>>>()?;
    let count = write(env, table, full.iter().map(|b| (Op::Insert, b.clone())).collect()).await?;
    finish(env, session, "INSERT", count, table, returning, visible).await
}

pub async fn handle_update(
    env: &FrontendEnv,
    session: &mut Session,
    update: Update,
    params: Option<&ParamValues>,
) -> Result<StatementResult> {
    if update.from.is_some() {
        return Err(FrontendError::not_supported("UPDATE ... FROM"));
    }
    let (name, alias) = single_table(&update.table)?;
    let ctx = env.planning_context(session, true)?;
    let table = resolve_table(&ctx.catalog, &ctx.database, &ctx.search_path, &name)?;
    writable(&table)?;
    let n = table.table.columns.len();
    let (items, _) = update_items(&table, &update)?;
    let rows = select_rows(&ctx, &name, alias.as_deref(), &items, update.selection.as_ref(), params).await?;
    let rows = concat(&rows, &Arc::new(Schema::empty()))?;
    if rows.num_rows() == 0 {
        return finish(env, session, "UPDATE", 0, &table, update.returning, vec![]).await;
    }
    let schema = table.schema.arrow.clone();
    let old = rows.project(&(0..n).collect::<Vec<_>>())?;
    let new = rows.project(&(n..2 * n).collect::<Vec<_>>())?;
    let old = conform_one(&old, &schema)?;
    let new = conform_one(&new, &schema)?;
    check_not_null(&table, &new)?;
    let count = new.num_rows();
    // Deletes first: an update may move a row to a key another updated row leaves.
    write(env, &table, vec![(Op::UpdateDelete, old), (Op::UpdateInsert, new.clone())]).await?;
    let visible_new = new.project(&table.visible_columns().collect::<Vec<_>>())?;
    finish(env, session, "UPDATE", count, &table, update.returning, vec![visible_new]).await
}

pub async fn handle_delete(
    env: &FrontendEnv,
    session: &mut Session,
    delete: Delete,
    params: Option<&ParamValues>,
) -> Result<StatementResult> {
    if delete.using.is_some() {
        return Err(FrontendError::not_supported("DELETE ... USING"));
    }
    let from = match &delete.from {
        FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f) => f,
    };
    let [twj] = from.as_slice() else {
        return Err(FrontendError::not_supported("DELETE from several tables"));
    };
    let (name, alias) = single_table(twj)?;
    let ctx = env.planning_context(session, true)?;
    let table = resolve_table(&ctx.catalog, &ctx.database, &ctx.search_path, &name)?;
    writable(&table)?;
    let items: Vec<String> = table.table.columns.iter().map(|c| quote(&c.name)).collect();
    let rows = select_rows(&ctx, &name, alias.as_deref(), &items, delete.selection.as_ref(), params).await?;
    let old = concat(&rows, &table.schema.arrow)?;
    if old.num_rows() == 0 {
        return finish(env, session, "DELETE", 0, &table, delete.returning, vec![]).await;
    }
    let old = conform_one(&old, &table.schema.arrow)?;
    let count = old.num_rows();
    write(env, &table, vec![(Op::Delete, old.clone())]).await?;
    let visible_old = old.project(&table.visible_columns().collect::<Vec<_>>())?;
    finish(env, session, "DELETE", count, &table, delete.returning, vec![visible_old]).await
}

/// Only tables take writes: materialized views follow their query, views have no rows.
fn writable(table: &TableCatalog) -> Result<()> {
    use tributary_proto::catalog::TableType;
    let what = match super::drop::relation_kind(&table.table) {
        TableType::Table => return Ok(()),
        TableType::MaterializedView => "materialized view",
        TableType::View => "view",
        _ => "index",
    };
    Err(FrontendError::sql("42809", format!("cannot change {what} \"{}\"", table.table.name)))
}

/// Replaces `DEFAULT` in the rows of `INSERT ... VALUES` with the column's default (or NULL).
/// The table columns an INSERT's values go to, in order: the named ones, else every visible one.
pub(crate) fn insert_targets(table: &TableCatalog, columns: &[datafusion::sql::sqlparser::ast::ObjectName]) -> Result<Vec<usize>> {
    if columns.is_empty() {
        return Ok(table.visible_columns().collect());
    }
    let mut v = Vec::with_capacity(columns.len());
    for c in columns {
        let name = object_name_parts(c)?.pop().unwrap_or_default();
        let idx = table.table.columns.iter().position(|col| col.name == name && !col.hidden).ok_or_else(|| {
            FrontendError::sql("42703", format!("column \"{name}\" of relation \"{}\" does not exist", table.table.name))
        })?;
        v.push(idx);
    }
    Ok(v)
}

fn fill_defaults(
    table: &TableCatalog,
    columns: &[datafusion::sql::sqlparser::ast::ObjectName],
    source: &mut datafusion::sql::sqlparser::ast::Query,
) -> Result<()> {
    use datafusion::sql::sqlparser::ast::{Expr, SetExpr};
    let SetExpr::Values(values) = source.body.as_mut() else { return Ok(()) };
    let targets = insert_targets(table, columns)?;
    let dialect = crate::dialect::TributaryDialect::new();
    for row in values.rows.iter_mut() {
        for (pos, e) in row.iter_mut().enumerate() {
            let is_default = matches!(e, Expr::Identifier(i) if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("default"));
            if !is_default {
                continue;
            }
            let Some(col) = targets.get(pos).map(|i| &table.table.columns[*i]) else { continue };
            let sql = col.default_expr.clone().unwrap_or_else(|| "NULL".to_string());
            *e = datafusion::sql::sqlparser::parser::Parser::new(&dialect)
                .try_with_sql(&sql)
                .and_then(|mut p| p.parse_expr())
                .map_err(|err| FrontendError::Internal(format!("stored default of \"{}\" does not parse: {err}", col.name)))?;
        }
    }
    Ok(())
}

/// The SELECT list of an UPDATE: every column's old value, then its new value (cast to the
/// column type); and the types of parameters assigned directly (`SET c = $1`).
fn update_items(table: &TableCatalog, update: &Update) -> Result<(Vec<String>, Vec<(usize, tributary_common::types::DataType)>)> {
    let n = table.table.columns.len();
    let mut new_values: Vec<Option<String>> = vec![None; n];
    let mut param_types = Vec::new();
    for Assignment { target, value } in &update.assignments {
        let AssignmentTarget::ColumnName(col) = target else {
            return Err(FrontendError::not_supported("UPDATE of a column tuple"));
        };
        let parts = object_name_parts(col)?;
        let col_name = parts.last().cloned().unwrap_or_default();
        let idx = table.table.columns.iter().position(|c| c.name == col_name && !c.hidden).ok_or_else(|| {
            FrontendError::sql("42703", format!("column \"{col_name}\" of relation \"{}\" does not exist", table.table.name))
        })?;
        if new_values[idx].is_some() {
            return Err(FrontendError::sql("42601", format!("multiple assignments to same column \"{col_name}\"")));
        }
        if let datafusion::sql::sqlparser::ast::Expr::Value(v) = value {
            if let datafusion::sql::sqlparser::ast::Value::Placeholder(p) = &v.value {
                if let Some(k) = p.strip_prefix('$').and_then(|k| k.parse::<usize>().ok()) {
                    param_types.push((k, table.schema.types[idx].clone()));
                }
            }
        }
        new_values[idx] = Some(value.to_string());
    }
    let mut items: Vec<String> = (0..n).map(|i| format!("{} AS \"__old_{i}\"", quote(&table.table.columns[i].name))).collect();
    for (i, v) in new_values.iter().enumerate() {
        let expr = match v {
            Some(e) => format!("CAST(({e}) AS {})", sql_type(table, i)),
            None => quote(&table.table.columns[i].name),
        };
        items.push(format!("{expr} AS \"__new_{i}\""));
    }
    Ok((items, param_types))
}

/// Parameter types of an UPDATE or DELETE, inferred by planning the SELECT it runs.
pub async fn param_types(env: &FrontendEnv, session: &Session, stmt: &Statement) -> Result<Vec<tributary_common::types::DataType>> {
    use tributary_common::types::DataType;
    let ctx = env.planning_context(session, true)?;
    let (name, alias, items, selection, known) = match stmt {
        Statement::Update(u) => {
            let (name, alias) = single_table(&u.table)?;
            let table = resolve_table(&ctx.catalog, &ctx.database, &ctx.search_path, &name)?;
            let (items, known) = update_items(&table, u)?;
            (name, alias, items, u.selection.clone(), known)
        }
        Statement::Delete(d) => {
            let from = match &d.from {
                FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f) => f,
            };
            let [twj] = from.as_slice() else { return Ok(vec![]) };
            let (name, alias) = single_table(twj)?;
            let table = resolve_table(&ctx.catalog, &ctx.database, &ctx.search_path, &name)?;
            let items = table.table.columns.iter().map(|c| quote(&c.name)).collect();
            (name, alias, items, d.selection.clone(), vec![])
        }
        _ => return Ok(vec![]),
    };
    let sql = select_sql(&name, alias.as_deref(), &items, selection.as_ref());
    let plan = plan_generated_sql(&ctx.session_state(), &sql).await?;
    let inferred = plan.get_parameter_types()?;
    let mut out = Vec::new();
    for i in 1..=inferred.len() {
        let t = known
            .iter()
            .find(|(k, _)| *k == i)
            .map(|(_, t)| t.clone())
            .or_else(|| inferred.get(&format!("${i}")).cloned().flatten().and_then(|t| DataType::from_arrow(&t).ok()))
            .unwrap_or(DataType::Varchar);
        out.push(t);
    }
    Ok(out)
}

fn single_table(t: &TableWithJoins) -> Result<(datafusion::sql::sqlparser::ast::ObjectName, Option<String>)> {
    if !t.joins.is_empty() {
        return Err(FrontendError::not_supported("DML over a join"));
    }
    match &t.relation {
        TableFactor::Table { name, alias, .. } => Ok((name.clone(), alias.as_ref().map(|a| normalize_ident(&a.name)))),
        _ => Err(FrontendError::not_supported("DML target that is not a table")),
    }
}

pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The SQL spelling of a column's type, for casts in generated SQL.
fn sql_type(table: &TableCatalog, i: usize) -> String {
    crate::binder::cast_type_sql(&table.schema.types[i])
}

async fn select_rows(
    ctx: &Arc<crate::planner::PlanningContext>,
    name: &datafusion::sql::sqlparser::ast::ObjectName,
    alias: Option<&str>,
    items: &[String],
    selection: Option<&datafusion::sql::sqlparser::ast::Expr>,
    params: Option<&ParamValues>,
) -> Result<Vec<RecordBatch>> {
    let sql = select_sql(name, alias, items, selection);
    let state = ctx.session_state();
    let plan = plan_generated_sql(&state, &sql).await?;
    let plan = tributary_expr::pg::rewrite_plan(plan)?;
    let plan = match params {
        Some(p) => plan.with_param_values(p.clone())?,
        None => plan,
    };
    Ok(DataFrame::new(state, plan).collect().await?)
}

/// Plans SQL generated from a DML statement's parts: parsed in our dialect (struct types in
/// casts) and rewritten as user queries are, since the user's expressions are in it.
async fn plan_generated_sql(state: &datafusion::execution::SessionState, sql: &str) -> Result<LogicalPlan> {
    let mut stmt = datafusion::sql::sqlparser::parser::Parser::new(&crate::dialect::TributaryDialect::new())
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statement())
        .map_err(|e| FrontendError::Syntax(e.to_string()))?;
    crate::planner::rewrite::rewrite(&mut stmt)?;
    Ok(state.statement_to_plan(DfStatement::Statement(Box::new(stmt))).await?)
}

fn select_sql(
    name: &datafusion::sql::sqlparser::ast::ObjectName,
    alias: Option<&str>,
    items: &[String],
    selection: Option<&datafusion::sql::sqlparser::ast::Expr>,
) -> String {
    let mut sql = format!("SELECT {} FROM {name}", items.join(", "));
    if let Some(a) = alias {
        sql.push_str(&format!(" AS {}", quote(a)));
    }
    if let Some(w) = selection {
        sql.push_str(&format!(" WHERE {w}"));
    }
    sql
}

fn visible_schema(table: &TableCatalog) -> SchemaRef {
    Arc::new(table.schema.arrow.project(&table.visible_columns().collect::<Vec<_>>()).unwrap_or_else(|_| Schema::empty()))
}

/// All rows in one batch; an empty batch of `empty_schema` when there are none.
fn concat(batches: &[RecordBatch], empty_schema: &SchemaRef) -> Result<RecordBatch> {
    match batches.first() {
        Some(first) => Ok(concat_batches(&first.schema(), batches)?),
        None => Ok(RecordBatch::new_empty(empty_schema.clone())),
    }
}

/// Casts each column to the exact Arrow type of the table and adopts the table's field names.
fn conform(batches: &[RecordBatch], schema: &SchemaRef) -> Result<Vec<RecordBatch>> {
    batches.iter().map(|b| conform_one(b, schema)).collect()
}

fn conform_one(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.num_columns() != schema.fields().len() {
        return Err(FrontendError::Internal(format!(
            "expected {} columns, got {}",
            schema.fields().len(),
            batch.num_columns()
        )));
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| cast_to(c, f.data_type()))
        .collect::<Result<Vec<_>>>()?;
    // Nullability is checked separately with a proper error (NOT NULL violation).
    let relaxed = Arc::new(Schema::new(
        schema.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect::<Vec<_>>(),
    ));
    let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(relaxed, columns, &options)?)
}

fn cast_to(c: &ArrayRef, t: &ArrowType) -> Result<ArrayRef> {
    if c.data_type() == t {
        return Ok(c.clone());
    }
    Ok(arrow::compute::cast(c, t)?)
}

/// Adds the hidden row id (NULL: the compute node assigns it) to a batch of visible columns.
fn to_table_row(table: &TableCatalog, visible: &RecordBatch) -> Result<RecordBatch> {
    check_not_null_visible(table, visible)?;
    let mut columns = Vec::with_capacity(table.table.columns.len());
    let mut vi = 0;
    for i in 0..table.table.columns.len() {
        if table.is_hidden(i) {
            columns.push(new_null_array(table.schema.arrow.field(i).data_type(), visible.num_rows()));
        } else {
            columns.push(visible.column(vi).clone());
            vi += 1;
        }
    }
    let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(visible.num_rows()));
    let relaxed = Arc::new(Schema::new(
        table.schema.arrow.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect::<Vec<_>>(),
    ));
    Ok(RecordBatch::try_new_with_options(relaxed, columns, &options)?)
}

fn check_not_null_visible(table: &TableCatalog, visible: &RecordBatch) -> Result<()> {
    for (vi, i) in table.visible_columns().enumerate() {
        let c = &table.table.columns[i];
        if c.not_null && visible.column(vi).null_count() > 0 {
            return Err(not_null_violation(&c.name, &table.table.name));
        }
    }
    Ok(())
}

fn check_not_null(table: &TableCatalog, full: &RecordBatch) -> Result<()> {
    for (i, c) in table.table.columns.iter().enumerate() {
        if c.not_null && !c.hidden && full.column(i).null_count() > 0 {
            return Err(not_null_violation(&c.name, &table.table.name));
        }
    }
    Ok(())
}

fn not_null_violation(column: &str, table: &str) -> FrontendError {
    FrontendError::sql("23502", format!("null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"))
}

/// Sends rows to the compute node owning the table; returns the number of rows written.
async fn write(env: &FrontendEnv, table: &TableCatalog, parts: Vec<(Op, RecordBatch)>) -> Result<usize> {
    let parts: Vec<_> = parts.into_iter().filter(|(_, b)| b.num_rows() > 0).collect();
    if parts.is_empty() {
        return Ok(0);
    }
    let worker = env
        .observer
        .worker(table.table.owner_worker_id)
        .ok_or_else(|| FrontendError::sql("58000", format!("the compute node of table \"{}\" is not available", table.table.name)))?;
    let mut client = env.clients.dml(&worker.host)?;
    let schema = parts[0].1.schema();
    let mut ops = Vec::new();
    for (op, b) in &parts {
        ops.extend(std::iter::repeat_n(*op, b.num_rows()));
    }
    let batches: Vec<RecordBatch> = parts.into_iter().map(|(_, b)| b).collect();
    let batch = concat_batches(&schema, &batches)?;
    let chunk = StreamChunk::new(ops, batch).map_err(|e| FrontendError::Internal(e.to_string()))?;
    let pb = chunk.to_protobuf().map_err(|e| FrontendError::Internal(e.to_string()))?;
    let resp = client.write(WriteRequest { table_id: table.table.id, chunk: Some(pb) }).await?.into_inner();
    Ok(resp.rows as usize)
}

async fn finish(
    env: &FrontendEnv,
    session: &mut Session,
    verb: &str,
    count: usize,
    table: &TableCatalog,
    returning: Option<Vec<SelectItem>>,
    rows: Vec<RecordBatch>,
) -> Result<StatementResult> {
    if session.implicit_flush() {
        env.flush(session).await?;
    } else if count > 0 {
        session.unflushed_writes = true;
    }
    let tag = if verb == "INSERT" { "INSERT 0".to_string() } else { verb.to_string() };
    match returning {
        None => Ok(StatementResult::Command { tag, rows: Some(count) }),
        Some(items) => {
            let (schema, batches) = returning_rows(env, table, &items, rows).await?;
            Ok(StatementResult::Rows { schema, batches, tag, rows_in_tag: Some(count) })
        }
    }
}

/// Evaluates a RETURNING list over the written rows (visible columns).
async fn returning_rows(
    env: &FrontendEnv,
    table: &TableCatalog,
    items: &[SelectItem],
    rows: Vec<RecordBatch>,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let schema = visible_schema(table);
    let rows = conform(&rows, &schema)?;
    let relaxed = rows.first().map(|b| b.schema()).unwrap_or_else(|| {
        Arc::new(Schema::new(schema.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect::<Vec<_>>()))
    });
    // A private catalog holding only the written rows under the table's name.
    let state = datafusion::execution::session_state::SessionStateBuilder::new_from_existing(env.base.as_ref().clone())
        .with_catalog_list(Arc::new(datafusion::catalog::MemoryCatalogProviderList::new()))
        .with_config(env.base.config().clone().with_create_default_catalog_and_schema(true))
        .build();
    let ctx = SessionContext::new_with_state(state);
    if ctx.catalog("dev").is_none() {
        let catalog = Arc::new(datafusion::catalog::MemoryCatalogProvider::new());
        datafusion::catalog::CatalogProvider::register_schema(catalog.as_ref(), "public", Arc::new(datafusion::catalog::MemorySchemaProvider::new()))?;
        ctx.register_catalog("dev", catalog);
    }
    let mem = MemTable::try_new(relaxed, vec![rows])?;
    ctx.register_table(datafusion::common::TableReference::bare(table.table.name.clone()), Arc::new(mem))?;
    let list = items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    let df = ctx.sql(&format!("SELECT {list} FROM {}", quote(&table.table.name))).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    Ok((schema, batches))
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}

/// The columns a RETURNING list produces for `table_name` (described before running).
pub async fn returning_schema(
    env: &FrontendEnv,
    session: &Session,
    table_name: &str,
    items: &[SelectItem],
) -> Result<SchemaRef> {
    let dialect = crate::dialect::TributaryDialect::new();
    let name = datafusion::sql::sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(table_name)
        .and_then(|mut p| p.parse_object_name(false))
        .map_err(|e| FrontendError::Syntax(e.to_string()))?;
    let ctx = env.planning_context(session, false)?;
    let table = resolve_table(&ctx.catalog, &ctx.database, &ctx.search_path, &name)?;
    let (schema, _) = returning_rows(env, &table, items, vec![]).await?;
    Ok(schema)
}
