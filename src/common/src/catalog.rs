//! Catalog helpers over the protobuf catalog objects (`tributary_proto::catalog`), which are what
//! meta stores and frontends cache.

use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
pub use tributary_proto::catalog::{Catalog, Database, Schema as SchemaCatalog, Table};
pub use tributary_proto::common::ColumnDesc;

use crate::error::Result;
use crate::types::DataType;

pub const DEFAULT_DATABASE: &str = "dev";
pub const DEFAULT_SCHEMA: &str = "public";
/// Name of the hidden row id column of a table without a declared primary key.
pub const ROW_ID_COLUMN: &str = "_row_id";
/// Schemas every database has that users cannot drop or create objects in.
pub const SYSTEM_SCHEMAS: &[&str] = &["pg_catalog", "information_schema", "rw_catalog"];

pub type TableId = u32;

/// Typed view over a table's columns.
#[derive(Debug, Clone)]
pub struct TableSchema {
    pub types: Vec<DataType>,
    pub arrow: SchemaRef,
}

impl TableSchema {
    pub fn of(table: &Table) -> Result<Self> {
        let types = column_types(table)?;
        let fields: Vec<Field> = table
            .columns
            .iter()
            .zip(&types)
            .map(|(c, t)| Field::new(&c.name, t.to_arrow(), !c.not_null))
            .collect();
        Ok(TableSchema { types, arrow: Arc::new(Schema::new(fields)) })
    }
}

pub fn column_types(table: &Table) -> Result<Vec<DataType>> {
    table.columns.iter().map(column_type).collect()
}

pub fn column_type(c: &ColumnDesc) -> Result<DataType> {
    match &c.data_type {
        Some(t) => DataType::from_protobuf(t),
        None => Err(crate::CommonError::Encoding(format!("column {} has no type", c.name))),
    }
}

/// Actor ids at or above this are not actors but tables' change streams (see
/// [`table_source_actor_id`]); meta numbers real actors below it.
pub const TABLE_SOURCE_ACTOR_BASE: u32 = 0x8000_0000;

/// The pseudo actor a table's change stream comes from: streaming jobs reading the table have it
/// as their upstream, as if the table were an actor.
pub fn table_source_actor_id(table_id: TableId) -> u32 {
    TABLE_SOURCE_ACTOR_BASE | table_id
}
