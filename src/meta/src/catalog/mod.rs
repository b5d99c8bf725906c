//! The catalog manager: databases, schemas and relations (tables, materialized views, views,
//! indexes) and functions, kept in memory and persisted in the meta store. Every change bumps the catalog
//! version and is broadcast to subscribers.

mod relations;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use prost::Message;
pub use relations::{dependencies, drop_order, is_streaming_job, is_stored, relation_type, type_noun, wrong_type_message};
use tributary_common::catalog::{DEFAULT_DATABASE, DEFAULT_SCHEMA, SYSTEM_SCHEMAS};
use tributary_proto::catalog::{Catalog, Database, Function, Schema, Table, TableType};

use crate::error::{MetaError, MetaResult};
use crate::store::{split_into_txns, MetaStore, Operation};

const DATABASE_PREFIX: &str = "catalog/database/";
const SCHEMA_PREFIX: &str = "catalog/schema/";
const TABLE_PREFIX: &str = "catalog/table/";
const FUNCTION_PREFIX: &str = "catalog/function/";
const NEXT_ID_KEY: &str = "catalog/next_id";

fn key(prefix: &str, id: u32) -> Vec<u8> {
    format!("{prefix}{id:010}").into_bytes()
}

#[derive(Default, Clone)]
pub struct CatalogState {
    pub databases: BTreeMap<u32, Database>,
    pub schemas: BTreeMap<u32, Schema>,
    /// Relations of every type.
    pub tables: BTreeMap<u32, Table>,
    pub functions: BTreeMap<u32, Function>,
    next_id: u32,
}

impl CatalogState {
    pub fn to_protobuf(&self) -> Catalog {
        Catalog {
            databases: self.databases.values().cloned().collect(),
            schemas: self.schemas.values().cloned().collect(),
            tables: self.tables.values().cloned().collect(),
            functions: self.functions.values().cloned().collect(),
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

/// A change to apply: objects to write and to delete.
#[derive(Default)]
pub struct CatalogChange {
    pub put_databases: Vec<Database>,
    pub put_schemas: Vec<Schema>,
    pub put_tables: Vec<Table>,
    pub put_functions: Vec<Function>,
    pub delete_functions: Vec<Function>,
    pub delete_databases: Vec<Database>,
    pub delete_schemas: Vec<Schema>,
    /// Dependents before what they read.
    pub delete_tables: Vec<Table>,
}

/// What a DROP removes, validated against the catalog: relations with dependents first, then
/// schemas, then databases.
#[derive(Debug, Default, Clone)]
pub struct DropPlan {
    pub relations: Vec<Table>,
    /// Functions of a dropped schema or database (nothing reads them once `relations` are gone).
    pub functions: Vec<Function>,
    pub schemas: Vec<Schema>,
    pub databases: Vec<Database>,
}

impl DropPlan {
    fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.relations
            .iter()
            .map(|t| t.id)
            .chain(self.functions.iter().map(|f| f.id))
            .chain(self.schemas.iter().map(|s| s.id))
            .chain(self.databases.iter().map(|d| d.id))
    }
}

/// The in-memory side of one persisted operation, applied once its transaction committed.
enum Effect {
    None,
    PutDatabase(Database),
    PutSchema(Schema),
    PutTable(Table),
    DeleteDatabase(u32),
    DeleteSchema(u32),
    DeleteTable(u32),
    PutFunction(Function),
    DeleteFunction(u32),
}

pub struct CatalogManager {
    store: Arc<dyn MetaStore>,
    state: CatalogState,
    /// Relations whose streaming job is being created: their names are taken and nothing they
    /// read may be dropped, but they are neither persisted nor shown to frontends until the job
    /// finished its backfill.
    creating: BTreeMap<u32, Table>,
    /// Objects a DROP is removing while it waits for its barrier (ids are unique across
    /// databases, schemas and relations): nothing new may be created in or on them.
    dropping: BTreeSet<u32>,
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
        for (_, v) in store.scan_prefix(FUNCTION_PREFIX.as_bytes()).await? {
            let f = Function::decode(v.as_slice()).map_err(|e| MetaError::Corrupt(e.to_string()))?;
            state.functions.insert(f.id, f);
        }
        state.next_id = match store.get(NEXT_ID_KEY.as_bytes()).await? {
            Some(v) => {
                let b: [u8; 4] = v.as_slice().try_into().map_err(|_| MetaError::Corrupt("next id".into()))?;
                u32::from_be_bytes(b)
            }
            // Ids below 1000 are left for system objects of the frontend (pg_catalog, ...).
            None => 1000,
        };
        let mut mgr = CatalogManager { store, state, creating: BTreeMap::new(), dropping: BTreeSet::new() };
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

    /// Allocates `count` consecutive ids (a job's state tables) and returns the first. The
    /// counter is persisted at once so that ids a failed or interrupted job handed to compute
    /// nodes are never reused.
    pub async fn alloc_id_range(&mut self, count: u32) -> MetaResult<u32> {
        let first = self.state.next_id;
        let next = first
            .checked_add(count)
            .filter(|n| *n < tributary_common::catalog::TABLE_SOURCE_ACTOR_BASE)
            .ok_or_else(|| MetaError::InvalidInput("catalog ids exhausted".into()))?;
        self.store
            .txn(vec![], vec![Operation::Put { key: NEXT_ID_KEY.as_bytes().to_vec(), value: next.to_be_bytes().to_vec() }])
            .await?;
        self.state.next_id = next;
        Ok(first)
    }

    /// Persists `change` (and the id counter), then applies it in memory. Large changes are
    /// split into several transactions in the change's order (puts, then deletions with
    /// dependents first), so a failure half way leaves a consistent catalog.
    async fn commit(&mut self, change: &CatalogChange) -> MetaResult<()> {
        let mut items = vec![(
            Operation::Put { key: NEXT_ID_KEY.as_bytes().to_vec(), value: self.state.next_id.to_be_bytes().to_vec() },
            Effect::None,
        )];
        for d in &change.put_databases {
            items.push((Operation::Put { key: key(DATABASE_PREFIX, d.id), value: d.encode_to_vec() }, Effect::PutDatabase(d.clone())));
        }
        for s in &change.put_schemas {
            items.push((Operation::Put { key: key(SCHEMA_PREFIX, s.id), value: s.encode_to_vec() }, Effect::PutSchema(s.clone())));
        }
        for t in &change.put_tables {
            items.push((Operation::Put { key: key(TABLE_PREFIX, t.id), value: t.encode_to_vec() }, Effect::PutTable(t.clone())));
        }
        for f in &change.put_functions {
            items.push((Operation::Put { key: key(FUNCTION_PREFIX, f.id), value: f.encode_to_vec() }, Effect::PutFunction(f.clone())));
        }
        for f in &change.delete_functions {
            items.push((Operation::Delete { key: key(FUNCTION_PREFIX, f.id) }, Effect::DeleteFunction(f.id)));
        }
        for t in &change.delete_tables {
            items.push((Operation::Delete { key: key(TABLE_PREFIX, t.id) }, Effect::DeleteTable(t.id)));
        }
        for s in &change.delete_schemas {
            items.push((Operation::Delete { key: key(SCHEMA_PREFIX, s.id) }, Effect::DeleteSchema(s.id)));
        }
        for d in &change.delete_databases {
            items.push((Operation::Delete { key: key(DATABASE_PREFIX, d.id) }, Effect::DeleteDatabase(d.id)));
        }
        for batch in split_into_txns(items) {
            let (ops, effects): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
            self.store.txn(vec![], ops).await?;
            for effect in effects {
                self.apply(effect);
            }
        }
        Ok(())
    }

    fn apply(&mut self, effect: Effect) {
        match effect {
            Effect::None => {}
            Effect::PutDatabase(d) => {
                self.state.databases.insert(d.id, d);
            }
            Effect::PutSchema(s) => {
                self.state.schemas.insert(s.id, s);
            }
            Effect::PutTable(t) => {
                self.creating.remove(&t.id);
                self.state.tables.insert(t.id, t);
            }
            Effect::DeleteDatabase(id) => {
                self.state.databases.remove(&id);
            }
            Effect::DeleteSchema(id) => {
                self.state.schemas.remove(&id);
            }
            Effect::DeleteTable(id) => {
                self.state.tables.remove(&id);
            }
            Effect::PutFunction(f) => {
                self.state.functions.insert(f.id, f);
            }
            Effect::DeleteFunction(id) => {
                self.state.functions.remove(&id);
            }
        }
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

    pub async fn create_schema(&mut self, database_id: u32, name: &str) -> MetaResult<CatalogChange> {
        self.database(database_id)?;
        self.check_not_dropping(database_id, "database", "")?;
        if SYSTEM_SCHEMAS.contains(&name) || self.state.schema_by_name(database_id, name).is_some() {
            return Err(MetaError::AlreadyExists { kind: "schema", name: name.to_string() });
        }
        let schema = Schema { id: self.alloc_id(), database_id, name: name.to_string() };
        let change = CatalogChange { put_schemas: vec![schema], ..Default::default() };
        self.commit(&change).await?;
        Ok(change)
    }

    /// A relation of the catalog or one being created, by name.
    pub fn relation_by_name(&self, schema_id: u32, name: &str) -> Option<&Table> {
        self.state
            .table_by_name(schema_id, name)
            .or_else(|| self.creating.values().find(|t| t.schema_id == schema_id && t.name == name))
    }

    /// Whether the relation is being created (not yet visible).
    pub fn is_creating(&self, id: u32) -> bool {
        self.creating.contains_key(&id)
    }

    /// Validates a new relation of any type and assigns its id: its database and schema exist,
    /// its name is free, and what it reads exists and is not being dropped. The caller persists
    /// it with [`Self::add_table`] once compute nodes have set it up.
    pub fn prepare_table(&mut self, mut table: Table) -> MetaResult<Table> {
        self.database(table.database_id)?;
        if !self.state.schemas.contains_key(&table.schema_id) {
            return Err(MetaError::NotFound { kind: "schema", name: table.schema_id.to_string() });
        }
        self.check_not_dropping(table.database_id, "database", "")?;
        self.check_not_dropping(table.schema_id, "schema", "")?;
        if self.relation_by_name(table.schema_id, &table.name).is_some() {
            return Err(MetaError::AlreadyExists { kind: "relation", name: table.name.clone() });
        }
        for dep in dependencies(&table) {
            let Some(upstream) = self.state.tables.get(&dep) else {
                return Err(MetaError::NotFound { kind: "relation", name: dep.to_string() });
            };
            if self.dropping.contains(&dep) {
                return Err(MetaError::ObjectInUse(format!(
                    "{} \"{}\" is being dropped",
                    type_noun(relation_type(upstream)),
                    upstream.name
                )));
            }
        }
        for f in &table.dependent_functions {
            if !self.state.functions.contains_key(f) || self.dropping.contains(f) {
                return Err(MetaError::NotFound { kind: "function", name: f.to_string() });
            }
        }
        table.id = self.alloc_id();
        Ok(table)
    }

    /// Takes the name of a prepared relation while its job is created; see `creating`.
    pub fn reserve(&mut self, table: Table) {
        self.creating.insert(table.id, table);
    }

    /// Releases a reservation of a job that failed.
    pub fn unreserve(&mut self, id: u32) {
        self.creating.remove(&id);
    }

    /// Relations whose jobs are being created, in id order.
    pub fn creating(&self) -> impl Iterator<Item = &Table> {
        self.creating.values()
    }

    /// Persists a prepared relation (ending its reservation, if any).
    pub async fn add_table(&mut self, table: Table) -> MetaResult<CatalogChange> {
        if self.state.table_by_name(table.schema_id, &table.name).is_some() {
            return Err(MetaError::AlreadyExists { kind: "relation", name: table.name.clone() });
        }
        let change = CatalogChange { put_tables: vec![table], ..Default::default() };
        self.commit(&change).await?;
        Ok(change)
    }

    /// What `DROP TABLE | MATERIALIZED VIEW | VIEW | INDEX` of relation `id` removes.
    /// `expected` is what the statement names (UNSPECIFIED: any kind).
    pub fn plan_drop_relation(&self, id: u32, cascade: bool, expected: TableType) -> MetaResult<DropPlan> {
        let target = self
            .state
            .tables
            .get(&id)
            .ok_or_else(|| MetaError::NotFound { kind: "relation", name: id.to_string() })?;
        let actual = relation_type(target);
        let expected = if expected == TableType::Unspecified { actual } else { expected };
        if actual != expected {
            return Err(MetaError::WrongObjectType(wrong_type_message(&target.name, expected)));
        }
        let order = drop_order(&self.state.tables, &[id]);
        // Indexes go with the relation they index, as in Postgres and RisingWave: only other
        // dependents need CASCADE.
        let only_own_indexes = order.iter().filter(|d| **d != id).all(|d| {
            self.state.tables.get(d).is_some_and(|t| relation_type(t) == TableType::Index && t.index_on == id)
        });
        if !only_own_indexes && !cascade {
            return Err(MetaError::DependentObjects(format!(
                "cannot drop {} {} because other objects depend on it",
                type_noun(actual),
                target.name
            )));
        }
        let plan = DropPlan { relations: self.relations(&order), ..Default::default() };
        self.check_droppable(&plan)?;
        Ok(plan)
    }

    /// What `DROP SCHEMA` removes: with CASCADE its relations and everything reading them.
    pub fn plan_drop_schema(&self, database_id: u32, name: &str, cascade: bool) -> MetaResult<DropPlan> {
        let schema = self
            .state
            .schema_by_name(database_id, name)
            .cloned()
            .ok_or_else(|| MetaError::NotFound { kind: "schema", name: name.to_string() })?;
        let inside: Vec<u32> = self.state.tables.values().filter(|t| t.schema_id == schema.id).map(|t| t.id).collect();
        let in_creation = self.creating.values().any(|t| t.schema_id == schema.id);
        let functions: Vec<Function> = self.state.functions.values().filter(|f| f.schema_id == schema.id).cloned().collect();
        if (!inside.is_empty() || in_creation || !functions.is_empty()) && !cascade {
            return Err(MetaError::DependentObjects(format!(
                "cannot drop schema {name} because other objects depend on it"
            )));
        }
        let order = drop_order(&self.state.tables, &inside);
        let relations = self.relations(&order);
        self.check_function_users(&functions, &relations)?;
        let plan = DropPlan { relations, functions, schemas: vec![schema], ..Default::default() };
        self.check_droppable(&plan)?;
        Ok(plan)
    }

    /// What `DROP DATABASE` removes: everything in it (as in Postgres, no CASCADE needed).
    pub fn plan_drop_database(&self, name: &str) -> MetaResult<DropPlan> {
        let db = self
            .state
            .database_by_name(name)
            .cloned()
            .ok_or_else(|| MetaError::NotFound { kind: "database", name: name.to_string() })?;
        if name == DEFAULT_DATABASE {
            return Err(MetaError::InvalidInput(format!("cannot drop the default database \"{name}\"")));
        }
        let inside: Vec<u32> = self.state.tables.values().filter(|t| t.database_id == db.id).map(|t| t.id).collect();
        let order = drop_order(&self.state.tables, &inside);
        let plan = DropPlan {
            relations: self.relations(&order),
            functions: self.state.functions.values().filter(|f| f.database_id == db.id).cloned().collect(),
            schemas: self.state.schemas.values().filter(|s| s.database_id == db.id).cloned().collect(),
            databases: vec![db],
        };
        self.check_droppable(&plan)?;
        Ok(plan)
    }

    fn relations(&self, ids: &[u32]) -> Vec<Table> {
        ids.iter().filter_map(|id| self.state.tables.get(id).cloned()).collect()
    }

    /// A plan can go ahead unless another DROP is removing part of it or a job being created
    /// reads or lives in it (it would be left reading a dropped relation).
    fn check_droppable(&self, plan: &DropPlan) -> MetaResult<()> {
        for t in &plan.relations {
            self.check_not_dropping(t.id, type_noun(relation_type(t)), &t.name)?;
        }
        for s in &plan.schemas {
            self.check_not_dropping(s.id, "schema", &s.name)?;
        }
        for d in &plan.databases {
            self.check_not_dropping(d.id, "database", &d.name)?;
        }
        let ids: BTreeSet<u32> = plan.ids().collect();
        for job in self.creating.values() {
            let reads = dependencies(job).find(|d| ids.contains(d));
            if reads.is_some() || ids.contains(&job.schema_id) || ids.contains(&job.database_id) {
                let what = reads.and_then(|d| self.state.tables.get(&d)).map(|t| t.name.as_str()).unwrap_or("it");
                return Err(MetaError::ObjectInUse(format!(
                    "cannot drop {what} while {} {} that depends on it is being created",
                    type_noun(relation_type(job)),
                    job.name
                )));
            }
        }
        Ok(())
    }

    /// `name` may be empty: it is then looked up among databases and schemas.
    fn check_not_dropping(&self, id: u32, kind: &str, name: &str) -> MetaResult<()> {
        if !self.dropping.contains(&id) {
            return Ok(());
        }
        let name = match name {
            "" => self
                .state
                .databases
                .get(&id)
                .map(|d| d.name.as_str())
                .or_else(|| self.state.schemas.get(&id).map(|s| s.name.as_str()))
                .unwrap_or_default(),
            n => n,
        };
        Err(MetaError::ObjectInUse(format!("{kind} \"{name}\" is being dropped")))
    }

    /// Marks a validated plan as in progress (see `dropping`), re-checking it first: the caller
    /// may have released the meta lock since it planned.
    pub fn begin_drop(&mut self, plan: &DropPlan) -> MetaResult<()> {
        self.check_droppable(plan)?;
        self.dropping.extend(plan.ids());
        Ok(())
    }

    /// Ends a drop that failed: the objects stay.
    pub fn abort_drop(&mut self, plan: &DropPlan) {
        for id in plan.ids() {
            self.dropping.remove(&id);
        }
    }

    /// Deletes what `plan` names (dependents first) and ends the drop.
    pub async fn finish_drop(&mut self, plan: &DropPlan) -> MetaResult<CatalogChange> {
        let change = CatalogChange {
            delete_tables: plan.relations.clone(),
            delete_functions: plan.functions.clone(),
            delete_schemas: plan.schemas.clone(),
            delete_databases: plan.databases.clone(),
            ..Default::default()
        };
        let result = self.commit(&change).await;
        self.abort_drop(plan);
        result.map(|()| change)
    }

    /// Persists a new function: its schema exists and no function of its schema has the same name
    /// and argument types (functions overload on argument types, as in Postgres).
    pub async fn create_function(&mut self, mut function: Function) -> MetaResult<CatalogChange> {
        self.database(function.database_id)?;
        if !self.state.schemas.contains_key(&function.schema_id) {
            return Err(MetaError::NotFound { kind: "schema", name: function.schema_id.to_string() });
        }
        self.check_not_dropping(function.database_id, "database", "")?;
        self.check_not_dropping(function.schema_id, "schema", "")?;
        let same = self.state.functions.values().any(|f| {
            f.schema_id == function.schema_id && f.name == function.name && f.arg_types == function.arg_types
        });
        if same {
            return Err(MetaError::AlreadyExists { kind: "function", name: function.name.clone() });
        }
        function.id = self.alloc_id();
        let change = CatalogChange { put_functions: vec![function], ..Default::default() };
        self.commit(&change).await?;
        Ok(change)
    }

    /// Drops function `id` unless a relation (or a job being created) was planned with it.
    pub async fn drop_function(&mut self, id: u32) -> MetaResult<CatalogChange> {
        let function = self
            .state
            .functions
            .get(&id)
            .cloned()
            .ok_or_else(|| MetaError::NotFound { kind: "function", name: id.to_string() })?;
        self.check_function_users(std::slice::from_ref(&function), &[])?;
        let change = CatalogChange { delete_functions: vec![function], ..Default::default() };
        self.commit(&change).await?;
        Ok(change)
    }

    /// Functions can go only if every relation using them goes too (`dropped`).
    fn check_function_users(&self, functions: &[Function], dropped: &[Table]) -> MetaResult<()> {
        for f in functions {
            let user = self
                .state
                .tables
                .values()
                .filter(|t| !dropped.iter().any(|d| d.id == t.id))
                .chain(self.creating.values())
                .find(|t| t.dependent_functions.contains(&f.id));
            if let Some(t) = user {
                return Err(MetaError::DependentObjects(format!(
                    "cannot drop function {} because other objects depend on it: {} {} uses it",
                    f.name,
                    type_noun(relation_type(t)),
                    t.name
                )));
            }
        }
        Ok(())
    }

    /// Moves every stored relation whose owner is not in `live` to `to`. Until state is durable
    /// and shared on object storage, a relation's data lives only on its owner, so nothing
    /// moves with it; a materialized view's actors are not moved either (rebuilding them is
    /// recovery's job), so it stays empty on the new owner.
    pub async fn adopt_orphans(&mut self, live: &[u32], to: u32) -> MetaResult<CatalogChange> {
        let orphans: Vec<Table> = self
            .state
            .tables
            .values()
            .filter(|t| is_stored(t) && !live.contains(&t.owner_worker_id))
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

#[cfg(test)]
mod tests;
