//! Planner tests: every `*.test` file under `tests/planner/` holds cases of a query and the
//! EXPLAIN of the materialized view over it, planned against the in-memory catalog below.
//! `UPDATE_PLANNER_TESTS=1 cargo test -p tributary-frontend --lib stream` rewrites the
//! expectations; review the diff.
//!
//! File format: a case starts with a line `== name`, then the SQL (a query, or a whole
//! `CREATE MATERIALIZED VIEW` or `CREATE INDEX` statement), then a line `----`, then the expected output up to
//! the next case. Errors show as `ERROR: <sqlstate> <message>`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::sql::sqlparser::ast::Statement;
use prost::Message;
use tributary_common::catalog::{ColumnDesc, Database, SchemaCatalog, Table};
use tributary_common::types::DataType;
use tributary_proto::catalog::TableType;

use crate::catalog::CatalogSnapshot;
use crate::compute_client::ComputeClientPool;
use crate::handler::{parse_statements, ParsedStatement};
use crate::planner::{base_session_state, PlanningContext};

const DB: u32 = 1000;
const PUBLIC: u32 = 1001;

fn col(id: u32, name: &str, ty: DataType) -> ColumnDesc {
    ColumnDesc { column_id: id, name: name.into(), data_type: Some(ty.to_protobuf()), not_null: false, hidden: false, default_expr: None }
}

fn table(id: u32, name: &str, columns: Vec<ColumnDesc>, pk: Vec<u32>) -> Table {
    Table {
        id,
        database_id: DB,
        schema_id: PUBLIC,
        name: name.into(),
        columns,
        pk_indices: pk,
        table_type: TableType::Table as i32,
        owner_worker_id: 1,
        ..Default::default()
    }
}

/// Tables: t (no primary key), t1 and t2 (keyed), arr (arrays); mv (a materialized view over
/// t), total (a singleton materialized view); v (a view over t1), vv (a view over v).
pub fn catalog() -> CatalogSnapshot {
    let mut c = CatalogSnapshot::default();
    c.databases.insert(DB, Database { id: DB, name: "dev".into() });
    c.schemas.insert(PUBLIC, SchemaCatalog { id: PUBLIC, database_id: DB, name: "public".into() });
    let mut row_id = col(3, "_row_id", DataType::Int64);
    row_id.hidden = true;
    let mut t = table(1002, "t", vec![col(0, "k", DataType::Int32), col(1, "v", DataType::Int32), col(2, "s", DataType::Varchar), row_id], vec![3]);
    t.row_id_index = Some(3);
    let t1 = table(1003, "t1", vec![col(0, "a", DataType::Int32), col(1, "b", DataType::Int32), col(2, "c", DataType::Varchar)], vec![0]);
    let t2 = table(1004, "t2", vec![col(0, "x", DataType::Int32), col(1, "y", DataType::Int32), col(2, "z", DataType::Varchar)], vec![0]);
    let arr = table(1005, "arr", vec![col(0, "id", DataType::Int32), col(1, "xs", DataType::List(Box::new(DataType::Int32)))], vec![0]);
    let mut mv = table(1006, "mv", vec![col(0, "k", DataType::Int32), col(1, "cnt", DataType::Int64)], vec![0]);
    mv.table_type = TableType::MaterializedView as i32;
    mv.dist_key = vec![0];
    mv.query = "SELECT k, count(*) AS cnt FROM t GROUP BY k".into();
    // A singleton materialized view (a global aggregate): every row in one vnode.
    let mut total = table(1008, "total", vec![col(0, "n", DataType::Int64)], vec![]);
    total.table_type = TableType::MaterializedView as i32;
    let mut v = table(1007, "v", vec![col(0, "a", DataType::Int32), col(1, "b", DataType::Int32)], vec![]);
    v.table_type = TableType::View as i32;
    v.query = "SELECT a, b FROM t1 WHERE b > 0".into();
    v.definition = "CREATE VIEW v AS SELECT a, b FROM t1 WHERE b > 0".into();
    // A view over the view, naming its columns.
    let mut vv = table(1009, "vv", vec![col(0, "id", DataType::Int32), col(1, "twice", DataType::Int32)], vec![]);
    vv.table_type = TableType::View as i32;
    vv.query = "SELECT a, b * 2 FROM v WHERE a > 1".into();
    for table in [t, t1, t2, arr, mv, v, total, vv] {
        c.add_table(table).expect("test table");
    }
    c
}

pub fn context() -> Arc<PlanningContext> {
    context_showing_hidden(false)
}

pub fn context_showing_hidden(include_hidden: bool) -> Arc<PlanningContext> {
    let catalog = Arc::new(catalog());
    let database = catalog.databases[&DB].clone();
    Arc::new(PlanningContext {
        catalog,
        database,
        search_path: vec!["public".into()],
        epoch: 0,
        include_hidden,
        observer: None,
        clients: Arc::new(ComputeClientPool::default()),
        base: Arc::new(base_session_state()),
        user: "root".into(),
        time_zone: "UTC".into(),
        settings: vec![],
        referenced: Default::default(),
        view_depth: 0,
    })
}

/// The EXPLAIN lines of `sql` planned as a materialized view, or its error.
pub async fn explain(sql: &str) -> String {
    match plan(sql).await {
        Ok(p) => p.explain().join("\n"),
        Err(e) => format!("ERROR: {} {}", e.sqlstate(), e.message()),
    }
}

pub async fn plan(sql: &str) -> crate::error::Result<super::StreamPlan> {
    let mut stmts = parse_statements(sql)?;
    let Some(ParsedStatement::Sql(mut stmt)) = stmts.pop() else { panic!("not SQL: {sql}") };
    crate::planner::rewrite::rewrite(&mut stmt)?;
    let query = match *stmt {
        Statement::Query(q) => q,
        Statement::CreateIndex(create) => {
            let ctx = context_showing_hidden(true);
            let db = ctx.database.clone();
            let relation = crate::binder::resolve_table(&ctx.catalog, &db, &ctx.search_path, &create.table_name)?;
            return crate::handler::create_index::plan_index_of(&ctx, &relation, &create, 0).await.map(|(_, p)| p);
        }
        Statement::CreateView(v) => v.query,
        other => panic!("not a query: {other}"),
    };
    super::plan_materialized_view(&context(), &query, 0).await
}

struct Case {
    name: String,
    sql: String,
    expected: String,
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut in_expected = false;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            cases.push(Case { name: name.trim().to_string(), sql: String::new(), expected: String::new() });
            in_expected = false;
        } else if line == "----" {
            in_expected = true;
        } else if let Some(c) = cases.last_mut() {
            let target = if in_expected { &mut c.expected } else { &mut c.sql };
            target.push_str(line);
            target.push('\n');
        }
    }
    cases
}

fn render(cases: &[Case]) -> String {
    let mut out = String::new();
    for c in cases {
        out.push_str(&format!("== {}\n{}\n----\n{}\n\n", c.name, c.sql.trim(), c.expected.trim()));
    }
    out
}

fn test_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/planner")
}

#[tokio::test]
async fn planner_tests() {
    let update = std::env::var("UPDATE_PLANNER_TESTS").is_ok_and(|v| v == "1");
    let mut files: Vec<PathBuf> = std::fs::read_dir(test_dir())
        .expect("tests/planner")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no planner tests found");
    let mut failures = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read planner test");
        let mut cases = parse_cases(&text);
        for case in &mut cases {
            let actual = explain(case.sql.trim()).await;
            if actual.trim() != case.expected.trim() {
                if update {
                    case.expected = actual;
                } else {
                    failures.push(format!(
                        "{} / {}:\n{}\n--- expected\n{}\n--- actual\n{}\n",
                        file.display(),
                        case.name,
                        case.sql.trim(),
                        case.expected.trim(),
                        actual
                    ));
                }
            }
        }
        if update {
            std::fs::write(&file, render(&cases)).expect("write planner test");
        }
    }
    assert!(failures.is_empty(), "{} planner tests differ (UPDATE_PLANNER_TESTS=1 rewrites them):\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn graph_is_consistent() {
    let p = plan("SELECT t1.a, count(*) FROM t1 JOIN t2 ON t1.b = t2.y GROUP BY t1.a").await.expect("plan");
    let g = &p.graph;
    // Root fragment first; every edge joins known fragments; every merge has an edge.
    assert_eq!(g.fragments[0].fragment_id, 1);
    let ids: Vec<u32> = g.fragments.iter().map(|f| f.fragment_id).collect();
    for e in &g.edges {
        assert!(ids.contains(&e.upstream_fragment_id) && ids.contains(&e.downstream_fragment_id));
    }
    assert!(g.internal_table_count >= 4);
    // Operator ids are unique.
    let mut ops = Vec::new();
    fn walk(n: &tributary_proto::stream_plan::StreamNode, ops: &mut Vec<u32>) {
        ops.push(n.operator_id);
        n.input.iter().for_each(|i| walk(i, ops));
    }
    g.fragments.iter().filter_map(|f| f.node.as_ref()).for_each(|n| walk(n, &mut ops));
    let mut dedup = ops.clone();
    dedup.sort_unstable();
    dedup.dedup();
    assert_eq!(dedup.len(), ops.len());
    // The graph survives a protobuf round trip.
    let bytes = g.encode_to_vec();
    assert_eq!(tributary_proto::stream_plan::StreamFragmentGraph::decode(bytes.as_slice()).expect("decode"), *g);
    assert_eq!(p.dependent_relations, vec![1003, 1004]);
    assert_eq!(p.pk, vec![0]);
}

#[tokio::test]
async fn hidden_columns_and_names() {
    let p = plan("SELECT v + 1, s FROM t").await.expect("plan");
    let names: Vec<(&str, bool)> = p.columns.iter().map(|c| (c.name.as_str(), c.hidden)).collect();
    assert_eq!(names, vec![("?column?", false), ("s", false), ("_row_id", true)]);
    let e = plan("SELECT count(*), count(v) FROM t").await.expect_err("duplicate names");
    assert_eq!(e.sqlstate(), "42701");
}


#[test]
fn explain_create_materialized_view_parses() {
    let mut stmts = parse_statements("EXPLAIN CREATE MATERIALIZED VIEW m AS SELECT k FROM t").expect("parse");
    let Some(ParsedStatement::Sql(stmt)) = stmts.pop() else { panic!("not SQL") };
    let Statement::Explain { statement, .. } = *stmt else { panic!("not EXPLAIN") };
    assert!(matches!(*statement, Statement::CreateView(v) if v.materialized));
}

/// Materialized views and views show in the system catalogs with their own kinds.
#[test]
fn catalog_kinds() {
    use crate::catalog::system::CatalogView;
    let catalog = Arc::new(catalog());
    let view = CatalogView {
        database: catalog.databases[&DB].clone(),
        catalog,
        search_path: vec!["public".into()],
        user: "root".into(),
        epoch: 1,
        settings: vec![],
    };
    let kinds: Vec<(String, &str)> = view
        .relations()
        .into_iter()
        .filter(|r| r.schema == "public")
        .map(|r| (r.name.clone(), r.relkind()))
        .collect();
    assert!(kinds.contains(&("mv".to_string(), "m")));
    assert!(kinds.contains(&("v".to_string(), "v")));
    assert!(kinds.contains(&("t1".to_string(), "r")));
    assert!(kinds.contains(&("t1_pkey".to_string(), "i")));
    // A materialized view's key is no constraint: no index for it.
    assert!(!kinds.iter().any(|(n, _)| n == "mv_pkey"));
}

#[tokio::test]
async fn view_references_are_its_own() {
    let p = plan("SELECT a FROM v").await.expect("plan");
    // The view, not what it reads: dropping t1 is refused because of v, not of this view.
    assert_eq!(p.dependent_relations, vec![1007]);
}
