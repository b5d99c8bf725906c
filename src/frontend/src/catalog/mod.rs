//! The frontend's copy of the catalog, following meta's notification stream, and the system
//! catalogs (pg_catalog, information_schema) derived from it.

pub mod observer;
pub mod system;

use std::collections::HashMap;
use std::sync::Arc;

use tributary_common::catalog::{Database, SchemaCatalog, Table, TableSchema};
use tributary_proto::catalog::Function;

use crate::error::{FrontendError, Result};

/// A table with its decoded schema.
#[derive(Debug)]
pub struct TableCatalog {
    pub table: Table,
    pub schema: TableSchema,
}

impl TableCatalog {
    pub fn is_hidden(&self, column: usize) -> bool {
        self.table.columns.get(column).is_some_and(|c| c.hidden)
    }

    pub fn visible_columns(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.table.columns.len()).filter(|i| !self.is_hidden(*i))
    }
}

/// An immutable catalog version; replaced as a whole on every change (catalogs are small).
#[derive(Debug, Default, Clone)]
pub struct CatalogSnapshot {
    pub databases: HashMap<u32, Database>,
    pub schemas: HashMap<u32, SchemaCatalog>,
    pub tables: HashMap<u32, Arc<TableCatalog>>,
    /// User-defined (SQL) functions, inlined at planning.
    pub functions: HashMap<u32, Function>,
}

impl CatalogSnapshot {
    pub fn database(&self, name: &str) -> Option<&Database> {
        self.databases.values().find(|d| d.name == name)
    }

    pub fn schema(&self, database_id: u32, name: &str) -> Option<&SchemaCatalog> {
        self.schemas.values().find(|s| s.database_id == database_id && s.name == name)
    }

    pub fn schemas_of(&self, database_id: u32) -> Vec<&SchemaCatalog> {
        let mut v: Vec<_> = self.schemas.values().filter(|s| s.database_id == database_id).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    pub fn table(&self, schema_id: u32, name: &str) -> Option<&Arc<TableCatalog>> {
        self.tables.values().find(|t| t.table.schema_id == schema_id && t.table.name == name)
    }

    pub fn tables_of_schema(&self, schema_id: u32) -> Vec<&Arc<TableCatalog>> {
        let mut v: Vec<_> = self.tables.values().filter(|t| t.table.schema_id == schema_id).collect();
        v.sort_by(|a, b| a.table.name.cmp(&b.table.name));
        v
    }

    pub fn tables_of_database(&self, database_id: u32) -> Vec<&Arc<TableCatalog>> {
        let mut v: Vec<_> = self.tables.values().filter(|t| t.table.database_id == database_id).collect();
        v.sort_by_key(|t| t.table.id);
        v
    }

    /// The functions of a schema with this name (overloads differ in argument types), in id order.
    pub fn functions_named(&self, schema_id: u32, name: &str) -> Vec<&Function> {
        let mut v: Vec<_> = self.functions.values().filter(|f| f.schema_id == schema_id && f.name == name).collect();
        v.sort_by_key(|f| f.id);
        v
    }

    pub fn add_table(&mut self, table: Table) -> Result<()> {
        let schema = TableSchema::of(&table).map_err(|e| FrontendError::Internal(e.to_string()))?;
        self.tables.insert(table.id, Arc::new(TableCatalog { table, schema }));
        Ok(())
    }
}
