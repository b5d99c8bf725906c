//! DataFusion catalog providers over the frontend's catalog snapshot.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema};
use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, CatalogProviderList, SchemaProvider};
use datafusion::common::DFSchema;
use datafusion::datasource::TableProvider;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::ExprSchemable;
use tributary_common::catalog::SYSTEM_SCHEMAS;
use tributary_common::types::DataType;
use tributary_proto::catalog::TableType;

use super::table::{IndexOf, RemoteTable};
use super::PlanningContext;
use crate::catalog::{system, TableCatalog};

/// The default schema DataFusion resolves unqualified names in: it searches pg_catalog and then
/// the session's search_path, as Postgres does. Its name cannot collide with a user schema.
pub const SEARCH_PATH_SCHEMA: &str = "$search_path";

pub struct CatalogList {
    pub ctx: Arc<PlanningContext>,
}

impl fmt::Debug for CatalogList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CatalogList")
    }
}

impl CatalogProviderList for CatalogList {

    fn register_catalog(&self, _name: String, _catalog: Arc<dyn CatalogProvider>) -> Option<Arc<dyn CatalogProvider>> {
        None
    }

    fn catalog_names(&self) -> Vec<String> {
        vec![self.ctx.database.name.clone()]
    }

    /// Only the session's database is reachable, as in Postgres.
    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        (name == self.ctx.database.name).then(|| Arc::new(DatabaseCatalog { ctx: self.ctx.clone() }) as _)
    }
}

struct DatabaseCatalog {
    ctx: Arc<PlanningContext>,
}

impl fmt::Debug for DatabaseCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseCatalog({})", self.ctx.database.name)
    }
}

impl CatalogProvider for DatabaseCatalog {

    fn schema_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.ctx.catalog.schemas_of(self.ctx.database.id).iter().map(|s| s.name.clone()).collect();
        names.extend(SYSTEM_SCHEMAS.iter().map(|s| s.to_string()));
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if name == SEARCH_PATH_SCHEMA {
            return Some(Arc::new(SchemaView { ctx: self.ctx.clone(), path: None }));
        }
        if SYSTEM_SCHEMAS.contains(&name) || self.ctx.catalog.schema(self.ctx.database.id, name).is_some() {
            return Some(Arc::new(SchemaView { ctx: self.ctx.clone(), path: Some(name.to_string()) }));
        }
        None
    }
}

/// One schema (`path = Some(name)`) or the search path (`None`).
struct SchemaView {
    ctx: Arc<PlanningContext>,
    path: Option<String>,
}

impl fmt::Debug for SchemaView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SchemaView({:?})", self.path)
    }
}

impl SchemaView {
    fn schemas(&self) -> Vec<String> {
        match &self.path {
            Some(s) => vec![s.clone()],
            None => {
                let mut v = vec!["pg_catalog".to_string()];
                v.extend(self.ctx.search_path.iter().filter(|s| *s != "pg_catalog").cloned());
                v
            }
        }
    }

    /// The relation `name` resolves to: a system table's provider or a catalog relation.
    fn find(&self, name: &str) -> DfResult<Option<Found>> {
        for schema in self.schemas() {
            if SYSTEM_SCHEMAS.contains(&schema.as_str()) {
                if let Some(t) = system::table(&self.ctx, &schema, name)? {
                    return Ok(Some(Found::System(t)));
                }
                continue;
            }
            let Some(sc) = self.ctx.catalog.schema(self.ctx.database.id, &schema) else { continue };
            if let Some(t) = self.ctx.catalog.table(sc.id, name) {
                return Ok(Some(Found::Relation(t.clone(), schema)));
            }
        }
        Ok(None)
    }

    async fn lookup(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        match self.find(name)? {
            None => Ok(None),
            Some(Found::System(t)) => Ok(Some(t)),
            Some(Found::Relation(t, schema)) => {
                self.ctx.record_reference(t.table.id);
                if t.table.table_type == TableType::View as i32 {
                    return super::view::view_table(&self.ctx, &t, &schema).await.map(Some);
                }
                Ok(Some(remote_table(&self.ctx, t)?))
            }
        }
    }
}

enum Found {
    System(Arc<dyn TableProvider>),
    /// A table, materialized view or view, and the schema it is in.
    Relation(Arc<TableCatalog>, String),
}

#[async_trait]
impl SchemaProvider for SchemaView {

    fn table_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for schema in self.schemas() {
            if let Some(sc) = self.ctx.catalog.schema(self.ctx.database.id, &schema) {
                names.extend(self.ctx.catalog.tables_of_schema(sc.id).iter().map(|t| t.table.name.clone()));
            }
        }
        names
    }

    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        self.lookup(name).await
    }

    fn table_exist(&self, name: &str) -> bool {
        matches!(self.find(name), Ok(Some(_)))
    }
}

/// The provider of a user table at the context's epoch.
pub fn remote_table(ctx: &PlanningContext, t: Arc<TableCatalog>) -> DfResult<Arc<dyn TableProvider>> {
    let columns: Vec<usize> = if ctx.include_hidden {
        (0..t.table.columns.len()).collect()
    } else {
        t.visible_columns().collect()
    };
    // NOT NULL is checked by the DML handlers with Postgres' error; DataFusion's own check would
    // answer with its wording.
    let fields: Vec<Field> = columns
        .iter()
        .map(|i| {
            let f = t.schema.arrow.field(*i).clone().with_nullable(true);
            match &t.schema.types[*i] {
                DataType::Decimal { scale: Some(s), .. } => f.with_metadata(
                    [(crate::protocol::result::NUMERIC_SCALE_METADATA.to_string(), s.to_string())].into(),
                ),
                _ => f,
            }
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let mut defaults = HashMap::new();
    let empty = DFSchema::empty();
    for i in &columns {
        let col = &t.table.columns[*i];
        if let Some(sql) = &col.default_expr {
            let expr = ctx
                .base
                .create_logical_expr(sql, &empty)
                .map_err(|e| DataFusionError::Plan(format!("invalid DEFAULT of column \"{}\": {e}", col.name)))?;
            let expr = expr.cast_to(t.schema.arrow.field(*i).data_type(), &empty)?;
            defaults.insert(col.name.clone(), expr);
        }
    }
    let addr_of = |worker: u32| ctx.observer.as_ref().and_then(|o| o.worker(worker)).map(|w| w.host);
    let compute_addr = addr_of(t.table.owner_worker_id);
    let mut indexes: Vec<IndexOf> = ctx
        .catalog
        .tables
        .values()
        .filter(|i| i.table.table_type == TableType::Index as i32 && i.table.index_on == t.table.id)
        .map(|i| IndexOf { index: i.clone(), compute_addr: addr_of(i.table.owner_worker_id) })
        .collect();
    // Ties between indexes go to the oldest, whatever the order of the catalog's map.
    indexes.sort_by_key(|i| i.index.table.id);
    Ok(Arc::new(RemoteTable {
        table: t,
        columns,
        schema,
        epoch: ctx.epoch,
        compute_addr,
        clients: ctx.clients.clone(),
        defaults,
        indexes,
    }))
}
