//! The catalog manager: databases, schemas and tables, kept in memory and persisted in the meta
//! store. Every change bumps the catalog version and is broadcast to subscribers.

use std::collections::BTreeMap;
use std::sync::Arc;

use prost::Message;
use tributary_common::catalog::{DEFAULT_DATABASE, DEFAULT_SCHEMA, SYSTEM_SCHEMAS};
use tributary_proto::catalog::{Catalog, Database, Schema, Table};

use crate::error::{MetaError, MetaResult};
use crate::store::{MetaStore, Operation};

const DATABASE_PREFIX: &str = "catalog/database/";
const SCHEMA_PREFIX: &str = "catalog/schema/";
const TABLE_PREFIX: &str = "catalog/table/";
const NEXT_ID_KEY: &str = "catalog/next_id";

fn key(prefix: &str, id: u32) -> Vec<u8> {
    format!("{prefix}{id:010}").into_bytes()
}

#[derive(Default, Clone)]
pub struct CatalogState {
    pub databases: BTreeMap<u32, Database>,
    pub schemas: BTreeMap<u32, Schema>,
    pub tables: BTreeMap<u32, Table>,
    next_id: u32,
}

impl CatalogState {
    pub fn to_protobuf(&self) -> Catalog {
        Catalog {
            databases: self.databases.values().cloned().collect(),
            schemas: self.schemas.values().cloned().collect(),
            tables: self.tables.values().cloned().collect(),
        }
    }

    pub fn database_by_name(&self, name: &str) -> Option<&Database> {
        self.databases.values().find(|d| d.name == name)
    }

    pub fn schema_by_name(&self, database_id: u32, name: &str) -> Option<&Schema> {
        self.schemas.values().find(|s| s.database_id == database_id && s.name == name)
    }

    fn table_by_name(&self, schema_id: u32, name: &str) -> Option<&Table> {
        self.tables.values().find(|t| t.schema_id == schema_id && t.name == name)
    }
}

/// A change to apply atomically: objects to write and to delete.
#[derive(Default)]
pub struct CatalogChange {
    pub put_databases: Vec<Database>,
    pub put_schemas: Vec<Schema>,
    pub put_tables: Vec<Table>,
    pub delete_databases: Vec<Database>,
    pub delete_schemas: Vec<Schema>,
    pub delete_tables: Vec<Table>,
}

pub struct CatalogManager {
    store: Arc<dyn MetaStore>,
    state: CatalogState,
}

impl CatalogManager {
    /// Loads the catalog, creating database `dev` with schema `public` on first start.
    pub async fn load(store: Arc<dyn MetaStore>) -> MetaResult<Self> {
        let mut state = CatalogState::default();
        for (_, v) in store.scan_prefix(DATABASE_PREFIX.as_bytes()).await? {
            let d = Database::decode(v.as_slice()).map_err(|e| MetaError::Corrupt(e.to_string()))?;
            state.databases.insert(d.id, d);
        }
        for (_, v) in store.scan_prefix(SCHEMA_PREFIX.as_bytes()).await? {
            let s = Schema::decode(v.as_slice()).map_err(|e| MetaError::Corrupt(e.to_string()))?;
            state.schemas.insert(s.id, s);
        }
        for (_, v) in store.scan_prefix(TABLE_PREFIX.as_bytes()).await? {
            let t = Table::decode(v.as_slice()).map_err(|e| MetaError::Corrupt(e.to_string()))?;
            state.tables.insert(t.id, t);
        }
        state.next_id = match store.get(NEXT_ID_KEY.as_bytes()).await? {
            Some(v) => {
                let b: [u8; 4] = v.as_slice().try_into().map_err(|_| MetaError::Corrupt("next id".into()))?;
                u32::from_be_bytes(b)
            }
            // Ids below 1000 are left for system objects of the frontend (pg_catalog, ...).
            None => 1000,
        };
        let mut mgr = CatalogManager { store, state };
        if mgr.state.database_by_name(DEFAULT_DATABASE).is_none() {
            mgr.create_database(DEFAULT_DATABASE).await?;
        }
        Ok(mgr)
    }

    pub fn state(&self) -> &CatalogState {
        &self.state
    }

    fn alloc_id(&mut self) -> u32 {
        let id = self.state.next_id;
        self.state.next_id += 1;
        id
    }

    /// Persists `change` (and the id counter) in one meta store transaction, then applies it.
    async fn commit(&mut self, change: &CatalogChange) -> MetaResult<()> {
        let mut ops = vec![Operation::Put {
            key: NEXT_ID_KEY.as_bytes().to_vec(),
            value: self.state.next_id.to_be_bytes().to_vec(),
        }];
        ops.extend(change.put_databases.iter().map(|d| Operation::Put { key: key(DATABASE_PREFIX, d.id), value: d.encode_to_vec() }));
        ops.extend(change.put_schemas.iter().map(|s| Operation::Put { key: key(SCHEMA_PREFIX, s.id), value: s.encode_to_vec() }));
        ops.extend(change.put_tables.iter().map(|t| Operation::Put { key: key(TABLE_PREFIX, t.id), value: t.encode_to_vec() }));
        ops.extend(change.delete_databases.iter().map(|d| Operation::Delete { key: key(DATABASE_PREFIX, d.id) }));
        ops.extend(change.delete_schemas.iter().map(|s| Operation::Delete { key: key(SCHEMA_PREFIX, s.id) }));
        ops.extend(change.delete_tables.iter().map(|t| Operation::Delete { key: key(TABLE_PREFIX, t.id) }));
        self.store.txn(vec![], ops).await?;
        for d in &change.put_databases {
            self.state.databases.insert(d.id, d.clone());
        }
        for s in &change.put_schemas {
            self.state.schemas.insert(s.id, s.clone());
        }
        for t in &change.put_tables {
            self.state.tables.insert(t.id, t.clone());
        }
        for d in &change.delete_databases {
            self.state.databases.remove(&d.id);
        }
        for s in &change.delete_schemas {
            self.state.schemas.remove(&s.id);
        }
        for t in &change.delete_tables {
            self.state.tables.remove(&t.id);
        }
        Ok(())
    }

    pub async fn create_database(&mut self, name: &str) -> MetaResult<CatalogChange> {
        if self.state.database_by_name(name).is_some() {
            return Err(MetaError::AlreadyExists { kind: "database", name: name.to_string() });
        }
        let db = Database { id: self.alloc_id(), name: name.to_string() };
        let schema = Schema { id: self.alloc_id(), database_id: db.id, name: DEFAULT_SCHEMA.to_string() };
        let change = CatalogChange { put_databases: vec![db], put_schemas: vec![schema], ..Default::default() };
        self.commit(&change).await?;
        Ok(change)
    }

    /// Drops a database with everything in it (as Postgres, DROP DATABASE needs no CASCADE).
    pub async fn drop_database(&mut self, name: &str) -> MetaResult<CatalogChange> {
        let db = self
            .state
            .database_by_name(name)
            .cloned()
            .ok_or_else(|| MetaError::NotFound { kind: "database", name: name.to_string() })?;
        if name == DEFAULT_DATABASE {
            return Err(MetaError::InvalidInput(format!("cannot drop the default database \"{name}\"")));
        }
        let change = CatalogChange {
            delete_tables: self.state.tables.values().filter(|t| t.database_id == db.id).cloned().collect(),
            delete_schemas: self.state.schemas.values().filter(|s| s.database_id == db.id).cloned().collect(),
            delete_databases: vec![db],
            ..Default::default()
        };
        self.commit(&change).await?;
        Ok(change)
    }

    pub async fn create_schema(&mut self, database_id: u32, name: &str) -> MetaResult<CatalogChange> {
        self.database(database_id)?;
        if SYSTEM_SCHEMAS.contains(&name) || self.state.schema_by_name(database_id, name).is_some() {
            return Err(MetaError::AlreadyExists { kind: "schema", name: name.to_string() });
        }
        let schema = Schema { id: self.alloc_id(), database_id, name: name.to_string() };
        let change = CatalogChange { put_schemas: vec![schema], ..Default::default() };
        self.commit(&change).await?;
        Ok(change)
    }

    pub async fn drop_schema(&mut self, database_id: u32, name: &str, cascade: bool) -> MetaResult<CatalogChange> {
        let schema = self
            .state
            .schema_by_name(database_id, name)
            .cloned()
            .ok_or_else(|| MetaError::NotFound { kind: "schema", name: name.to_string() })?;
        let tables: Vec<Table> = self.state.tables.values().filter(|t| t.schema_id == schema.id).cloned().collect();
        if !tables.is_empty() && !cascade {
            return Err(MetaError::DependentObjects(format!(
                "cannot drop schema {name} because other objects depend on it (use DROP SCHEMA ... CASCADE)"
            )));
        }
        let change = CatalogChange { delete_schemas: vec![schema], delete_tables: tables, ..Default::default() };
        self.commit(&change).await?;
        Ok(change)
    }

    /// Validates and assigns an id to a new table; the caller persists it with [`Self::add_table`]
    /// once the owning compute node has set it up.
    pub fn prepare_table(&mut self, mut table: Table) -> MetaResult<Table> {
        self.database(table.database_id)?;
        if !self.state.schemas.contains_key(&table.schema_id) {
            return Err(MetaError::NotFound { kind: "schema", name: table.schema_id.to_string() });
        }
        if self.state.table_by_name(table.schema_id, &table.name).is_some() {
            return Err(MetaError::AlreadyExists { kind: "relation", name: table.name.clone() });
        }
        table.id = self.alloc_id();
        Ok(table)
    }

    pub async fn add_table(&mut self, table: Table) -> MetaResult<CatalogChange> {
        if self.state.table_by_name(table.schema_id, &table.name).is_some() {
            return Err(MetaError::AlreadyExists { kind: "relation", name: table.name.clone() });
        }
        let change = CatalogChange { put_tables: vec![table], ..Default::default() };
        self.commit(&change).await?;
        Ok(change)
    }

    pub async fn drop_table(&mut self, table_id: u32) -> MetaResult<CatalogChange> {
        let table = self
            .state
            .tables
            .get(&table_id)
            .cloned()
            .ok_or_else(|| MetaError::NotFound { kind: "table", name: table_id.to_string() })?;
        let change = CatalogChange { delete_tables: vec![table], ..Default::default() };
        self.commit(&change).await?;
        Ok(change)
    }

    /// Moves every table whose owner is not in `live` to `to`. Until state is durable and shared
    /// on object storage, a table's data lives only on its owner, so nothing moves with it.
    pub async fn adopt_orphans(&mut self, live: &[u32], to: u32) -> MetaResult<CatalogChange> {
        let orphans: Vec<Table> = self
            .state
            .tables
            .values()
            .filter(|t| !live.contains(&t.owner_worker_id))
            .map(|t| Table { owner_worker_id: to, ..t.clone() })
            .collect();
        let change = CatalogChange { put_tables: orphans, ..Default::default() };
        if !change.put_tables.is_empty() {
            self.commit(&change).await?;
        }
        Ok(change)
    }

    pub fn table_exists_by_name(&self, schema_id: u32, name: &str) -> Option<&Table> {
        self.state.table_by_name(schema_id, name)
    }

    fn database(&self, id: u32) -> MetaResult<&Database> {
        self.state
            .databases
            .get(&id)
            .ok_or_else(|| MetaError::NotFound { kind: "database", name: id.to_string() })
    }
}
