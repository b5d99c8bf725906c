//! CREATE/DROP of databases, schemas and tables: validated here, applied by meta, and answered
//! once this frontend's catalog shows the change.

use datafusion::common::DFSchema;
use datafusion::logical_expr::ExprSchemable;
use datafusion::sql::sqlparser::ast::{
    ColumnOption, CreateTable, CreateTableOptions, Expr, ObjectName, SchemaName, TableConstraint,
};
use tributary_common::catalog::{ColumnDesc, Table, ROW_ID_COLUMN, SYSTEM_SCHEMAS};
use tributary_common::types::DataType;
use tributary_proto::catalog::TableType;
use tributary_proto::meta::{
    CreateDatabaseRequest, CreateSchemaRequest, CreateTableRequest, DropDatabaseRequest, DropSchemaRequest,
};

use super::{FrontendEnv, StatementResult};
use crate::binder::{bind_data_type, creation_schema, normalize_ident, object_name_parts, split_name};
use crate::error::{FrontendError, Result};
use crate::session::Session;

pub async fn handle_create_table(env: &FrontendEnv, session: &mut Session, create: CreateTable) -> Result<StatementResult> {
    if create.or_replace || create.temporary || create.external {
        return Err(FrontendError::not_supported("CREATE OR REPLACE / TEMPORARY / EXTERNAL TABLE"));
    }
    if create.query.is_some() {
        return Err(FrontendError::not_supported("CREATE TABLE AS"));
    }
    if create.like.is_some() || create.clone.is_some() {
        return Err(FrontendError::not_supported("CREATE TABLE LIKE / CLONE"));
    }
    if !matches!(create.table_options, CreateTableOptions::None) {
        return Err(FrontendError::not_supported(format!(
            "table options {} (connectors come with sources)",
            create.table_options
        )));
    }
    let db = env.database(session)?;
    let catalog = env.observer.catalog();
    let (schema, name) = split_name(&create.name, &db.name)?;
    if schema.as_deref().is_some_and(|s| SYSTEM_SCHEMAS.contains(&s)) {
        return Err(FrontendError::sql("42501", format!("permission denied to create \"{}\"", create.name)));
    }
    let schema_id = creation_schema(&catalog, &db, &session.search_path(), schema)?;

    let mut columns: Vec<ColumnDesc> = Vec::new();
    let mut types: Vec<DataType> = Vec::new();
    let mut pk: Vec<String> = Vec::new();
    for def in &create.columns {
        let col_name = normalize_ident(&def.name);
        if columns.iter().any(|c| c.name == col_name) {
            return Err(FrontendError::sql("42701", format!("column \"{col_name}\" specified more than once")));
        }
        if col_name == ROW_ID_COLUMN {
            return Err(FrontendError::sql("42701", format!("column name \"{ROW_ID_COLUMN}\" is reserved")));
        }
        let ty = bind_data_type(&def.data_type)?;
        let mut col = ColumnDesc {
            column_id: columns.len() as u32,
            name: col_name.clone(),
            data_type: Some(ty.to_protobuf()),
            not_null: false,
            hidden: false,
            default_expr: None,
        };
        for opt in &def.options {
            match &opt.option {
                ColumnOption::Null => col.not_null = false,
                ColumnOption::NotNull => col.not_null = true,
                ColumnOption::Default(e) => {
                    validate_default(env, e, &ty, &col_name)?;
                    col.default_expr = Some(e.to_string());
                }
                ColumnOption::PrimaryKey(_) => {
                    if !pk.is_empty() {
                        return Err(multiple_pk(&name));
                    }
                    pk.push(col_name.clone());
                }
                ColumnOption::Comment(_) => {}
                other => return Err(FrontendError::not_supported(format!("column constraint {other}"))),
            }
        }
        columns.push(col);
        types.push(ty);
    }
    for c in &create.constraints {
        match c {
            TableConstraint::PrimaryKey(p) => {
                if !pk.is_empty() {
                    return Err(multiple_pk(&name));
                }
                for ic in &p.columns {
                    let col = match &ic.column.expr {
                        Expr::Identifier(i) => normalize_ident(i),
                        other => return Err(FrontendError::not_supported(format!("primary key expression {other}"))),
                    };
                    pk.push(col);
                }
            }
            other => return Err(FrontendError::not_supported(format!("table constraint {other}"))),
        }
    }
    if columns.is_empty() {
        return Err(FrontendError::not_supported("a table without columns"));
    }
    let mut pk_indices = Vec::new();
    for p in &pk {
        let idx = columns
            .iter()
            .position(|c| &c.name == p)
            .ok_or_else(|| FrontendError::sql("42703", format!("column \"{p}\" named in key does not exist")))?;
        if pk_indices.contains(&(idx as u32)) {
            return Err(FrontendError::sql("42701", format!("column \"{p}\" appears twice in primary key constraint")));
        }
        // A primary key implies NOT NULL, as in Postgres.
        columns[idx].not_null = true;
        pk_indices.push(idx as u32);
    }
    let mut row_id_index = None;
    if pk_indices.is_empty() {
        let idx = columns.len() as u32;
        columns.push(ColumnDesc {
            column_id: idx,
            name: ROW_ID_COLUMN.to_string(),
            data_type: Some(DataType::Int64.to_protobuf()),
            not_null: true,
            hidden: true,
            default_expr: None,
        });
        pk_indices.push(idx);
        row_id_index = Some(idx);
    }
    let table = Table {
        id: 0,
        database_id: db.id,
        schema_id,
        name,
        columns,
        pk_indices,
        row_id_index,
        definition: create.to_string(),
        table_type: TableType::Table as i32,
        ..Default::default()
    };
    let resp = env
        .observer
        .client
        .clone()
        .create_table(CreateTableRequest { table: Some(table), if_not_exists: create.if_not_exists })
        .await?
        .into_inner();
    env.observer.wait_version(resp.version).await?;
    Ok(StatementResult::command("CREATE TABLE"))
}

fn multiple_pk(table: &str) -> FrontendError {
    FrontendError::sql("42P16", format!("multiple primary keys for table \"{table}\" are not allowed"))
}

/// A DEFAULT must be a valid expression castable to the column type.
fn validate_default(env: &FrontendEnv, e: &Expr, ty: &DataType, column: &str) -> Result<()> {
    let empty = DFSchema::empty();
    let expr = env
        .base
        .create_logical_expr(&e.to_string(), &empty)
        .map_err(|err| FrontendError::sql("42804", format!("invalid DEFAULT for column \"{column}\": {}", FrontendError::from(err).message())))?;
    expr.cast_to(&ty.to_arrow(), &empty).map_err(|_| {
        FrontendError::sql("42804", format!("column \"{column}\" is of type {ty} but default expression is of another type"))
    })?;
    Ok(())
}

fn single_name(name: &ObjectName, what: &str) -> Result<String> {
    let parts = object_name_parts(name)?;
    match parts.as_slice() {
        [n] => Ok(n.clone()),
        _ => Err(FrontendError::sql("42601", format!("{what} name cannot be qualified: {name}"))),
    }
}

pub async fn handle_create_database(env: &FrontendEnv, _session: &mut Session, name: &ObjectName, if_not_exists: bool) -> Result<StatementResult> {
    let name = single_name(name, "database")?;
    let resp = env.observer.client.clone().create_database(CreateDatabaseRequest { name, if_not_exists }).await?.into_inner();
    env.observer.wait_version(resp.version).await?;
    Ok(StatementResult::command("CREATE DATABASE"))
}

pub async fn handle_drop_databases(env: &FrontendEnv, session: &mut Session, names: &[ObjectName], if_exists: bool) -> Result<StatementResult> {
    for name in names {
        let name = single_name(name, "database")?;
        if name == session.database {
            return Err(FrontendError::sql("55006", "cannot drop the currently open database"));
        }
        let resp = env.observer.client.clone().drop_database(DropDatabaseRequest { name, if_exists }).await?.into_inner();
        env.observer.wait_version(resp.version).await?;
    }
    Ok(StatementResult::command("DROP DATABASE"))
}

pub async fn handle_create_schema(env: &FrontendEnv, session: &mut Session, name: &SchemaName, if_not_exists: bool) -> Result<StatementResult> {
    let SchemaName::Simple(name) = name else {
        return Err(FrontendError::not_supported("CREATE SCHEMA ... AUTHORIZATION"));
    };
    let db = env.database(session)?;
    let (_, name) = split_name(name, &db.name)?;
    if SYSTEM_SCHEMAS.contains(&name.as_str()) || name.starts_with("pg_") {
        if if_not_exists && SYSTEM_SCHEMAS.contains(&name.as_str()) {
            return Ok(StatementResult::command("CREATE SCHEMA"));
        }
        return Err(FrontendError::sql("42939", format!("unacceptable schema name \"{name}\"")));
    }
    let resp = env
        .observer
        .client
        .clone()
        .create_schema(CreateSchemaRequest { database_id: db.id, name, if_not_exists })
        .await?
        .into_inner();
    env.observer.wait_version(resp.version).await?;
    Ok(StatementResult::command("CREATE SCHEMA"))
}

pub async fn handle_drop_schemas(
    env: &FrontendEnv,
    session: &mut Session,
    names: &[ObjectName],
    if_exists: bool,
    cascade: bool,
) -> Result<StatementResult> {
    let db = env.database(session)?;
    for name in names {
        let (_, name) = split_name(name, &db.name)?;
        if SYSTEM_SCHEMAS.contains(&name.as_str()) {
            return Err(FrontendError::sql("42501", format!("cannot drop schema {name} because it is required by the database system")));
        }
        let resp = env
            .observer
            .client
            .clone()
            .drop_schema(DropSchemaRequest { database_id: db.id, name, if_exists, cascade })
            .await?
            .into_inner();
        env.observer.wait_version(resp.version).await?;
    }
    Ok(StatementResult::command("DROP SCHEMA"))
}
