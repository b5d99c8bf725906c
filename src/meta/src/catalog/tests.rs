//! Relations of every type in one name space, dependencies and cascading drops, against the
//! memory meta store.

use std::sync::Arc;

use tributary_proto::catalog::{Table, TableType};

use super::*;
use crate::store::MemoryMetaStore;

struct Fixture {
    store: Arc<MemoryMetaStore>,
    catalog: CatalogManager,
    db: u32,
    public: u32,
}

async fn fixture() -> Fixture {
    let store = Arc::new(MemoryMetaStore::new());
    let catalog = CatalogManager::load(store.clone()).await.expect("load");
    let db = catalog.state().database_by_name(DEFAULT_DATABASE).map(|d| d.id).expect("dev");
    let public = catalog.state().schema_by_name(db, DEFAULT_SCHEMA).map(|s| s.id).expect("public");
    Fixture { store, catalog, db, public }
}

impl Fixture {
    fn relation(&self, schema_id: u32, name: &str, ty: TableType, deps: &[u32]) -> Table {
        Table {
            database_id: self.db,
            schema_id,
            name: name.to_string(),
            table_type: ty as i32,
            dependent_relations: deps.to_vec(),
            ..Default::default()
        }
    }

    async fn create_in(&mut self, schema_id: u32, name: &str, ty: TableType, deps: &[u32]) -> MetaResult<u32> {
        let t = self.catalog.prepare_table(self.relation(schema_id, name, ty, deps))?;
        let id = t.id;
        self.catalog.add_table(t).await?;
        Ok(id)
    }

    async fn create(&mut self, name: &str, ty: TableType, deps: &[u32]) -> u32 {
        self.create_in(self.public, name, ty, deps).await.expect("create")
    }

    fn names(&self, plan: &DropPlan) -> Vec<String> {
        plan.relations.iter().map(|t| t.name.clone()).collect()
    }
}

#[tokio::test]
async fn names_are_shared_by_every_kind_of_relation() {
    let mut f = fixture().await;
    let t = f.create("t", TableType::Table, &[]).await;
    f.create("m", TableType::MaterializedView, &[t]).await;
    for ty in [TableType::Table, TableType::MaterializedView, TableType::View, TableType::Index] {
        for name in ["t", "m"] {
            let err = f.create_in(f.public, name, ty, &[]).await.err();
            assert!(
                matches!(&err, Some(MetaError::AlreadyExists { kind: "relation", name: n }) if n == name),
                "{err:?}"
            );
        }
    }
    let status = tonic::Status::from(MetaError::AlreadyExists { kind: "relation", name: "t".into() });
    assert_eq!(status.details(), b"42P07");
    assert_eq!(status.message(), "relation \"t\" already exists");
    // Missing dependencies are refused.
    let err = f.create_in(f.public, "v", TableType::View, &[12345]).await.err();
    assert!(matches!(err, Some(MetaError::NotFound { kind: "relation", .. })), "{err:?}");
}

#[tokio::test]
async fn drop_needs_cascade_when_others_depend() {
    let mut f = fixture().await;
    let t = f.create("t", TableType::Table, &[]).await;
    let m1 = f.create("m1", TableType::MaterializedView, &[t]).await;
    let m2 = f.create("m2", TableType::MaterializedView, &[m1, t]).await;
    let v = f.create("v", TableType::View, &[m2]).await;
    let other = f.create("other", TableType::Table, &[]).await;

    let err = f.catalog.plan_drop_relation(t, false, TableType::Table).expect_err("refused");
    assert_eq!(err.to_string(), "cannot drop table t because other objects depend on it");
    assert_eq!(tonic::Status::from(err).details(), b"2BP01");
    let err = f.catalog.plan_drop_relation(m1, false, TableType::MaterializedView).expect_err("refused");
    assert_eq!(err.to_string(), "cannot drop materialized view m1 because other objects depend on it");

    let plan = f.catalog.plan_drop_relation(t, true, TableType::Table).expect("cascade");
    assert_eq!(f.names(&plan), ["v", "m2", "m1", "t"]);
    let plan = f.catalog.plan_drop_relation(v, false, TableType::View).expect("leaf");
    assert_eq!(f.names(&plan), ["v"]);
    // No expected type: any kind.
    assert!(f.catalog.plan_drop_relation(other, false, TableType::Unspecified).is_ok());

    let plan = f.catalog.plan_drop_relation(t, true, TableType::Table).expect("cascade");
    f.catalog.begin_drop(&plan).expect("begin");
    let change = f.catalog.finish_drop(&plan).await.expect("drop");
    assert_eq!(change.delete_tables.len(), 4);
    assert_eq!(f.catalog.state().tables.keys().copied().collect::<Vec<_>>(), vec![other]);
    // What was persisted agrees.
    let reloaded = CatalogManager::load(f.store.clone()).await.expect("reload");
    assert_eq!(reloaded.state().tables.keys().copied().collect::<Vec<_>>(), vec![other]);
}

#[tokio::test]
async fn indexes_go_with_their_relation_without_cascade() {
    let mut f = fixture().await;
    let t = f.create("t", TableType::Table, &[]).await;
    let mut index = f.relation(f.public, "i", TableType::Index, &[t]);
    index.index_on = t;
    let index = f.catalog.prepare_table(index).expect("prepare");
    let i = index.id;
    f.catalog.add_table(index).await.expect("add");
    let plan = f.catalog.plan_drop_relation(t, false, TableType::Table).expect("indexes need no cascade");
    assert_eq!(f.names(&plan), ["i", "t"]);
    let plan = f.catalog.plan_drop_relation(i, false, TableType::Index).expect("index");
    assert_eq!(f.names(&plan), ["i"]);
    // Anything else depending on the table still needs CASCADE.
    f.create("m", TableType::MaterializedView, &[t]).await;
    let err = f.catalog.plan_drop_relation(t, false, TableType::Table).expect_err("refused");
    assert_eq!(err.to_string(), "cannot drop table t because other objects depend on it");
}

#[tokio::test]
async fn expected_type_must_match() {
    let mut f = fixture().await;
    let t = f.create("t", TableType::Unspecified, &[]).await;
    let m = f.create("m", TableType::MaterializedView, &[t]).await;
    let v = f.create("v", TableType::View, &[t]).await;
    // A table from before table types existed is a table.
    assert!(f.catalog.plan_drop_relation(t, true, TableType::Table).is_ok());
    let cases = [
        (t, TableType::MaterializedView, "\"t\" is not a materialized view"),
        (m, TableType::View, "\"m\" is not a view"),
        (v, TableType::MaterializedView, "\"v\" is not a materialized view"),
        (m, TableType::Table, "\"m\" is not a table"),
        (m, TableType::Index, "\"m\" is not an index"),
    ];
    for (id, expected, message) in cases {
        let err = f.catalog.plan_drop_relation(id, true, expected).expect_err("wrong type");
        assert_eq!(err.to_string(), message);
        assert_eq!(tonic::Status::from(err).details(), b"42809");
    }
}

#[tokio::test]
async fn schema_cascade_reaches_dependents_in_other_schemas() {
    let mut f = fixture().await;
    let s = f.catalog.create_schema(f.db, "s").await.expect("schema").put_schemas[0].id;
    let t = f.create_in(s, "t", TableType::Table, &[]).await.expect("t");
    let m = f.create("m", TableType::MaterializedView, &[t]).await;
    f.create("v", TableType::View, &[m]).await;
    let keep = f.create("keep", TableType::Table, &[]).await;

    let err = f.catalog.plan_drop_schema(f.db, "s", false).expect_err("refused");
    assert_eq!(err.to_string(), "cannot drop schema s because other objects depend on it");
    let plan = f.catalog.plan_drop_schema(f.db, "s", true).expect("cascade");
    assert_eq!(f.names(&plan), ["v", "m", "t"]);
    f.catalog.begin_drop(&plan).expect("begin");
    f.catalog.finish_drop(&plan).await.expect("drop");
    assert!(f.catalog.state().schema_by_name(f.db, "s").is_none());
    assert_eq!(f.catalog.state().tables.keys().copied().collect::<Vec<_>>(), vec![keep]);

    // DROP DATABASE takes everything, views and MVs included, in a safe order.
    let db = f.catalog.create_database("other").await.expect("db").put_databases[0].id;
    let other_public = f.catalog.state().schema_by_name(db, DEFAULT_SCHEMA).map(|s| s.id).expect("public");
    let mut t2 = f.relation(other_public, "t2", TableType::Table, &[]);
    t2.database_id = db;
    let t2 = f.catalog.prepare_table(t2).expect("t2");
    let t2_id = t2.id;
    f.catalog.add_table(t2).await.expect("t2");
    let mut m2 = f.relation(other_public, "m2", TableType::MaterializedView, &[t2_id]);
    m2.database_id = db;
    let m2 = f.catalog.prepare_table(m2).expect("m2");
    f.catalog.add_table(m2).await.expect("m2");
    let plan = f.catalog.plan_drop_database("other").expect("plan");
    assert_eq!(f.names(&plan), ["m2", "t2"]);
    assert_eq!(plan.schemas.len(), 1);
    f.catalog.begin_drop(&plan).expect("begin");
    f.catalog.finish_drop(&plan).await.expect("drop");
    assert!(f.catalog.state().database_by_name("other").is_none());
}

#[tokio::test]
async fn cascades_larger_than_one_transaction() {
    let mut f = fixture().await;
    let t = f.create("t", TableType::Table, &[]).await;
    for i in 0..300 {
        f.create(&format!("v{i}"), TableType::View, &[t]).await;
    }
    let plan = f.catalog.plan_drop_relation(t, true, TableType::Table).expect("cascade");
    assert_eq!(plan.relations.len(), 301);
    assert_eq!(plan.relations.last().map(|t| t.name.as_str()), Some("t"));
    f.catalog.begin_drop(&plan).expect("begin");
    f.catalog.finish_drop(&plan).await.expect("drop in several transactions");
    assert!(f.catalog.state().tables.is_empty());
    let reloaded = CatalogManager::load(f.store.clone()).await.expect("reload");
    assert!(reloaded.state().tables.is_empty());
}

#[tokio::test]
async fn jobs_being_created_and_drops_in_progress_block_each_other() {
    let mut f = fixture().await;
    let t = f.create("t", TableType::Table, &[]).await;
    let job = f.catalog.prepare_table(f.relation(f.public, "m", TableType::MaterializedView, &[t])).expect("prepare");
    let job_id = job.id;
    f.catalog.reserve(job);
    assert!(f.catalog.is_creating(job_id));
    assert_eq!(f.catalog.relation_by_name(f.public, "m").map(|t| t.id), Some(job_id));
    // The name is taken, and what the job reads cannot go.
    assert!(matches!(f.create_in(f.public, "m", TableType::View, &[]).await, Err(MetaError::AlreadyExists { .. })));
    let err = f.catalog.plan_drop_relation(t, true, TableType::Table).expect_err("in use");
    assert!(matches!(err, MetaError::ObjectInUse(_)), "{err:?}");
    assert_eq!(tonic::Status::from(err).details(), b"55006");
    assert!(matches!(f.catalog.plan_drop_schema(f.db, "public", true), Err(MetaError::ObjectInUse(_))));
    f.catalog.unreserve(job_id);
    assert!(f.catalog.creating().next().is_none());

    // A drop in progress: nothing new may read its relations, and it cannot start twice.
    let plan = f.catalog.plan_drop_relation(t, true, TableType::Table).expect("plan");
    f.catalog.begin_drop(&plan).expect("begin");
    let err = f.create_in(f.public, "m", TableType::MaterializedView, &[t]).await.err();
    assert!(matches!(err, Some(MetaError::ObjectInUse(_))), "{err:?}");
    assert!(matches!(f.catalog.begin_drop(&plan), Err(MetaError::ObjectInUse(_))));
    f.catalog.abort_drop(&plan);
    assert!(f.create_in(f.public, "m", TableType::MaterializedView, &[t]).await.is_ok());
}

#[tokio::test]
async fn id_ranges_are_contiguous_and_persisted() {
    let mut f = fixture().await;
    let first = f.catalog.alloc_id_range(5).await.expect("range");
    let next = f.create("t", TableType::Table, &[]).await;
    assert_eq!(next, first + 5);
    let reloaded = CatalogManager::load(f.store.clone()).await.expect("reload");
    assert_eq!(reloaded.state().next_id, next + 1);
}

#[tokio::test]
async fn orphans_move_but_views_have_no_owner() {
    let mut f = fixture().await;
    let t = f.create("t", TableType::Table, &[]).await;
    let v = f.create("v", TableType::View, &[t]).await;
    let change = f.catalog.adopt_orphans(&[], 7).await.expect("adopt");
    assert_eq!(change.put_tables.iter().map(|t| t.id).collect::<Vec<_>>(), vec![t]);
    assert_eq!(f.catalog.state().tables[&v].owner_worker_id, 0);
}

fn function(db: u32, schema_id: u32, name: &str, arg_types: &[tributary_proto::common::TypeName]) -> Function {
    Function {
        database_id: db,
        schema_id,
        name: name.to_string(),
        arg_types: arg_types
            .iter()
            .map(|t| tributary_proto::common::DataType { type_name: *t as i32, ..Default::default() })
            .collect(),
        language: "sql".into(),
        body: "1".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn functions_overload_persist_and_cannot_be_dropped_while_used() {
    use tributary_proto::common::TypeName;
    let mut f = fixture().await;
    let int = function(f.db, f.public, "fx", &[TypeName::Int32]);
    let id = f.catalog.create_function(int.clone()).await.expect("create").put_functions[0].id;
    // Same name and argument types: taken; other argument types: an overload.
    assert!(matches!(f.catalog.create_function(int).await, Err(MetaError::AlreadyExists { kind: "function", .. })));
    let text = f.catalog.create_function(function(f.db, f.public, "fx", &[TypeName::Varchar])).await.expect("overload");
    let text_id = text.put_functions[0].id;
    // A view using the function holds it.
    let t = f.create("t", TableType::Table, &[]).await;
    let mut view = f.relation(f.public, "v", TableType::View, &[t]);
    view.dependent_functions = vec![id];
    let view = f.catalog.prepare_table(view).expect("prepare");
    let view_id = view.id;
    f.catalog.add_table(view).await.expect("add view");
    assert!(matches!(f.catalog.drop_function(id).await, Err(MetaError::DependentObjects(_))));
    // A relation cannot be created on a function that does not exist.
    let mut bad = f.relation(f.public, "v2", TableType::View, &[t]);
    bad.dependent_functions = vec![999_999];
    assert!(f.catalog.prepare_table(bad).is_err());
    // Everything survives a reload from the store.
    let reloaded = CatalogManager::load(f.store.clone()).await.expect("reload");
    assert_eq!(reloaded.state().functions.len(), 2);
    let plan = f.catalog.plan_drop_relation(view_id, false, TableType::View).expect("plan");
    f.catalog.begin_drop(&plan).expect("begin");
    f.catalog.finish_drop(&plan).await.expect("drop view");
    f.catalog.drop_function(id).await.expect("drop function");
    f.catalog.drop_function(text_id).await.expect("drop overload");
    assert!(f.catalog.state().functions.is_empty());
    assert!(matches!(f.catalog.drop_function(id).await, Err(MetaError::NotFound { kind: "function", .. })));
}

#[tokio::test]
async fn drop_schema_removes_its_functions_only_with_cascade() {
    let mut f = fixture().await;
    let change = f.catalog.create_schema(f.db, "s").await.expect("schema");
    let s = change.put_schemas[0].id;
    f.catalog.create_function(function(f.db, s, "fs", &[])).await.expect("create");
    assert!(matches!(f.catalog.plan_drop_schema(f.db, "s", false), Err(MetaError::DependentObjects(_))));
    let plan = f.catalog.plan_drop_schema(f.db, "s", true).expect("cascade");
    assert_eq!(plan.functions.len(), 1);
    f.catalog.begin_drop(&plan).expect("begin");
    f.catalog.finish_drop(&plan).await.expect("drop");
    assert!(f.catalog.state().functions.is_empty());
}
