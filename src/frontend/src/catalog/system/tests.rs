//! The system catalogs through the same planning path as a session's SELECT: statements are
//! parsed, rewritten and planned by DataFusion over a catalog provider that resolves names as
//! the planner's does (pg_catalog, then the search path); user tables are empty.

use std::sync::Arc;

use arrow::util::pretty::pretty_format_batches;
use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, CatalogProviderList, SchemaProvider};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::{MemTable, TableProvider};
use datafusion::error::Result as DfResult;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::sql::parser::Statement as DfStatement;
use tributary_common::catalog::{ColumnDesc, Database, SchemaCatalog, Table, SYSTEM_SCHEMAS};
use tributary_common::types::DataType;

use super::*;
use crate::handler::{parse_statements, ParsedStatement};
use crate::planner::SEARCH_PATH_SCHEMA;

const DB: u32 = 1000;
const PUBLIC: u32 = 1001;
const S2: u32 = 1002;
const T: u32 = 1003;
const U: u32 = 1004;
const W: u32 = 1005;

fn col(id: u32, name: &str, ty: DataType, not_null: bool, default: Option<&str>) -> ColumnDesc {
    ColumnDesc {
        column_id: id,
        name: name.into(),
        data_type: Some(ty.to_protobuf()),
        not_null,
        hidden: false,
        default_expr: default.map(String::from),
    }
}

fn snapshot() -> CatalogSnapshot {
    let mut c = CatalogSnapshot::default();
    c.databases.insert(DB, Database { id: DB, name: "dev".into() });
    c.databases.insert(2000, Database { id: 2000, name: "other".into() });
    c.schemas.insert(PUBLIC, SchemaCatalog { id: PUBLIC, database_id: DB, name: "public".into() });
    c.schemas.insert(S2, SchemaCatalog { id: S2, database_id: DB, name: "s2".into() });
    c.schemas.insert(2001, SchemaCatalog { id: 2001, database_id: 2000, name: "public".into() });
    let t = Table {
        id: T,
        database_id: DB,
        schema_id: PUBLIC,
        name: "t".into(),
        columns: vec![
            col(0, "a", DataType::Int32, true, None),
            col(1, "b", DataType::Varchar, false, Some("'x'")),
            col(2, "c", DataType::List(Box::new(DataType::Int32)), true, None),
            col(3, "d", DataType::Timestamptz, false, None),
            col(4, "e", DataType::Decimal { precision: Some(10), scale: Some(2) }, false, None),
        ],
        pk_indices: vec![0],
        definition: "CREATE TABLE t (...)".into(),
        ..Default::default()
    };
    let mut row_id = col(2, "_row_id", DataType::Int64, true, None);
    row_id.hidden = true;
    let u = Table {
        id: U,
        database_id: DB,
        schema_id: PUBLIC,
        name: "u".into(),
        columns: vec![col(0, "x", DataType::Int64, false, None), col(1, "y", DataType::Jsonb, false, None), row_id],
        pk_indices: vec![2],
        row_id_index: Some(2),
        ..Default::default()
    };
    let w = Table {
        id: W,
        database_id: DB,
        schema_id: S2,
        name: "w".into(),
        columns: vec![col(0, "k", DataType::Varchar, true, None), col(1, "v", DataType::Float64, false, None)],
        pk_indices: vec![0, 1],
        ..Default::default()
    };
    let other = Table { id: 2002, database_id: 2000, schema_id: 2001, name: "elsewhere".into(), ..Default::default() };
    for table in [t, u, w, other] {
        c.add_table(table).unwrap();
    }
    c
}

fn view(search_path: &[&str]) -> Arc<CatalogView> {
    let catalog = Arc::new(snapshot());
    let database = catalog.databases[&DB].clone();
    let path: Vec<String> = search_path.iter().map(|s| s.to_string()).collect();
    Arc::new(CatalogView {
        catalog,
        database,
        search_path: path.clone(),
        user: "root".into(),
        epoch: 42,
        settings: vec![
            ("search_path".into(), display_search_path(&path, "root")),
            ("timezone".into(), "Asia/Shanghai".into()),
        ],
    })
}

#[derive(Debug)]
struct Catalogs(Arc<CatalogView>);

impl CatalogProviderList for Catalogs {
    fn register_catalog(&self, _: String, _: Arc<dyn CatalogProvider>) -> Option<Arc<dyn CatalogProvider>> {
        None
    }
    fn catalog_names(&self) -> Vec<String> {
        vec![self.0.database.name.clone()]
    }
    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        (name == self.0.database.name).then(|| Arc::new(Schemas(self.0.clone())) as _)
    }
}

#[derive(Debug)]
struct Schemas(Arc<CatalogView>);

impl CatalogProvider for Schemas {
    fn schema_names(&self) -> Vec<String> {
        self.0.namespaces().into_iter().map(|n| n.name).collect()
    }
    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let path = if name == SEARCH_PATH_SCHEMA {
            None
        } else {
            self.0.namespace_by_name(name)?;
            Some(name.to_string())
        };
        Some(Arc::new(Tables(self.0.clone(), path)))
    }
}

#[derive(Debug)]
struct Tables(Arc<CatalogView>, Option<String>);

impl Tables {
    fn lookup(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        let schemas = match &self.1 {
            Some(s) => vec![s.clone()],
            None => self.0.search_namespaces().into_iter().map(|n| n.name).collect(),
        };
        for schema in schemas {
            if SYSTEM_SCHEMAS.contains(&schema.as_str()) {
                if let Some(t) = table_of_view(&self.0, &schema, name)? {
                    return Ok(Some(t));
                }
                continue;
            }
            let Some(sc) = self.0.catalog.schema(DB, &schema) else { continue };
            if let Some(t) = self.0.catalog.table(sc.id, name) {
                let fields: Vec<_> = t.visible_columns().map(|i| t.schema.arrow.field(i).clone()).collect();
                let schema = Arc::new(arrow::datatypes::Schema::new(fields));
                return Ok(Some(Arc::new(MemTable::try_new(schema, vec![vec![]])?)));
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl SchemaProvider for Tables {
    fn table_names(&self) -> Vec<String> {
        vec![]
    }
    async fn table(&self, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
        self.lookup(name)
    }
    fn table_exist(&self, name: &str) -> bool {
        matches!(self.lookup(name), Ok(Some(_)))
    }
}

fn state(view: Arc<CatalogView>) -> SessionState {
    let mut config = tributary_expr::session_config();
    {
        let options = config.options_mut();
        options.catalog.default_catalog = view.database.name.clone();
        options.catalog.default_schema = SEARCH_PATH_SCHEMA.to_string();
        options.catalog.create_default_catalog_and_schema = false;
    }
    let builder = SessionStateBuilder::new().with_config(config).with_default_features();
    let builder = install(tributary_expr::install(builder));
    install_session(builder, view.clone()).with_catalog_list(Arc::new(Catalogs(view))).build()
}

async fn try_query(view: &Arc<CatalogView>, sql: &str) -> crate::error::Result<String> {
    let mut stmts = parse_statements(sql)?;
    let Some(ParsedStatement::Sql(mut stmt)) = stmts.pop() else { panic!("not a query: {sql}") };
    rewrite_for_catalog(&mut stmt);
    let state = state(view.clone());
    let plan = state.statement_to_plan(DfStatement::Statement(stmt)).await?;
    let batches = DataFrame::new(state, plan).collect().await?;
    Ok(pretty_format_batches(&batches)?.to_string())
}

async fn query(sql: &str) -> String {
    query_in(&view(&["root", "public"]), sql).await
}

async fn query_in(view: &Arc<CatalogView>, sql: &str) -> String {
    match try_query(view, sql).await {
        Ok(s) => s,
        Err(e) => panic!("{sql}\nfailed: {}", e.message()),
    }
}

fn lines(s: &str) -> String {
    s.lines().map(|l| l.trim_end()).collect::<Vec<_>>().join("\n")
}

#[track_caller]
fn check(actual: &str, expected: &str) {
    let (a, e) = (lines(actual), lines(expected.trim()));
    assert_eq!(a, e, "\nactual:\n{a}\nexpected:\n{e}");
}

#[tokio::test]
async fn every_table_builds() {
    let v = view(&["public"]);
    for t in system_tables() {
        let sql = format!("SELECT * FROM {}.{}", t.schema, t.name);
        if let Err(e) = try_query(&v, &sql).await {
            panic!("{sql}: {}", e.message());
        }
    }
}

// Queries psql 15 sends to a 13.x server, captured with `psql -E`.

const PSQL_L: &str = r#"SELECT d.datname as "Name",
       pg_catalog.pg_get_userbyid(d.datdba) as "Owner",
       pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",
       d.datcollate as "Collate",
       d.datctype as "Ctype",
       NULL as "ICU Locale",
       'libc' AS "Locale Provider",
       pg_catalog.array_to_string(d.datacl, E'\n') AS "Access privileges"
FROM pg_catalog.pg_database d
ORDER BY 1;"#;

const PSQL_DN: &str = r#"SELECT n.nspname AS "Name",
  pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner"
FROM pg_catalog.pg_namespace n
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY 1;"#;

const PSQL_DN_PLUS: &str = r#"SELECT n.nspname AS "Name",
  pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner",
  pg_catalog.array_to_string(n.nspacl, E'\n') AS "Access privileges",
  pg_catalog.obj_description(n.oid, 'pg_namespace') AS "Description"
FROM pg_catalog.pg_namespace n
WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'
ORDER BY 1;"#;

fn psql_list(kinds: &str) -> String {
    format!(
        r#"SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ({kinds})
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;"#
    )
}

const PSQL_DT_PLUS: &str = r#"SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner",
  CASE c.relpersistence WHEN 'p' THEN 'permanent' WHEN 't' THEN 'temporary' WHEN 'u' THEN 'unlogged' END as "Persistence",
  am.amname as "Access method",
  pg_catalog.pg_size_pretty(pg_catalog.pg_table_size(c.oid)) as "Size",
  pg_catalog.obj_description(c.oid, 'pg_class') as "Description"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;"#;

const PSQL_DI: &str = r#"SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner",
  c2.relname as "Table"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
     LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
     LEFT JOIN pg_catalog.pg_class c2 ON i.indrelid = c2.oid
WHERE c.relkind IN ('i','I','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;"#;

const PSQL_DF: &str = r#"SELECT n.nspname as "Schema",
  p.proname as "Name",
  pg_catalog.pg_get_function_result(p.oid) as "Result data type",
  pg_catalog.pg_get_function_arguments(p.oid) as "Argument data types",
 CASE p.prokind
  WHEN 'a' THEN 'agg'
  WHEN 'w' THEN 'window'
  WHEN 'p' THEN 'proc'
  ELSE 'func'
 END as "Type"
FROM pg_catalog.pg_proc p
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE pg_catalog.pg_function_is_visible(p.oid)
      AND n.nspname <> 'pg_catalog'
      AND n.nspname <> 'information_schema'
ORDER BY 1, 2, 4;"#;

fn psql_describe_find(name: &str) -> String {
    format!(
        r#"SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname OPERATOR(pg_catalog.~) '^({name})$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 2, 3;"#
    )
}

/// The queries of `\d name` (`verbose`: `\d+`) after the lookup, for the table with `oid`.
fn psql_describe(oid: u32, verbose: bool) -> Vec<String> {
    let options = if verbose {
        "pg_catalog.array_to_string(c.reloptions || array(select 'toast.' || x from pg_catalog.unnest(tc.reloptions) x), ', ')\n"
    } else {
        "''"
    };
    let extra_columns = if verbose {
        ",\n  a.attstorage,\n  CASE WHEN a.attstattarget=-1 THEN NULL ELSE a.attstattarget END AS attstattarget,\n  pg_catalog.col_description(a.attrelid, a.attnum)"
    } else {
        ""
    };
    vec![
        format!(
            r#"SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, {options}, c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, c.relreplident, am.amname
FROM pg_catalog.pg_class c
 LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)
LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)
WHERE c.oid = '{oid}';"#
        ),
        format!(
            r#"SELECT a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod),
  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
   FROM pg_catalog.pg_attrdef d
   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
  a.attnotnull,
  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation,
  a.attidentity,
  a.attgenerated{extra_columns}
FROM pg_catalog.pg_attribute a
WHERE a.attrelid = '{oid}' AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;"#
        ),
        format!(
            r#"SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, i.indisvalid, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),
  pg_catalog.pg_get_constraintdef(con.oid, true), contype, condeferrable, condeferred, i.indisreplident, c2.reltablespace
FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
WHERE c.oid = '{oid}' AND c.oid = i.indrelid AND i.indexrelid = c2.oid
ORDER BY i.indisprimary DESC, c2.relname;"#
        ),
        format!(
            r#"SELECT pol.polname, pol.polpermissive,
  CASE WHEN pol.polroles = '{{0}}' THEN NULL ELSE pg_catalog.array_to_string(array(select rolname from pg_catalog.pg_roles where oid = any (pol.polroles) order by 1),',') END,
  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
  pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),
  CASE pol.polcmd
    WHEN 'r' THEN 'SELECT'
    WHEN 'a' THEN 'INSERT'
    WHEN 'w' THEN 'UPDATE'
    WHEN 'd' THEN 'DELETE'
    END AS cmd
FROM pg_catalog.pg_policy pol
WHERE pol.polrelid = '{oid}' ORDER BY 1;"#
        ),
        format!(
            r#"SELECT oid, stxrelid::pg_catalog.regclass, stxnamespace::pg_catalog.regnamespace AS nsp, stxname,
  (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(attname),', ')
   FROM pg_catalog.unnest(stxkeys) s(attnum)
   JOIN pg_catalog.pg_attribute a ON (stxrelid = a.attrelid AND
        a.attnum = s.attnum AND NOT attisdropped)) AS columns,
  'd' = any(stxkind) AS ndist_enabled,
  'f' = any(stxkind) AS deps_enabled,
  'm' = any(stxkind) AS mcv_enabled,
  stxstattarget
FROM pg_catalog.pg_statistic_ext
WHERE stxrelid = '{oid}'
ORDER BY 1;"#
        ),
        format!(
            r#"SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid
WHERE pr.prrelid = '{oid}'
UNION ALL
SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
WHERE p.puballtables AND pg_catalog.pg_relation_is_publishable('{oid}')
ORDER BY 1;"#
        ),
        format!(
            r#"SELECT c.oid::pg_catalog.regclass
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhparent AND i.inhrelid = '{oid}'
  AND c.relkind != 'p' AND c.relkind != 'I'
ORDER BY inhseqno;"#
        ),
        format!(
            r#"SELECT c.oid::pg_catalog.regclass, c.relkind, false AS inhdetachpending, pg_catalog.pg_get_expr(c.relpartbound, c.oid)
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhrelid AND i.inhparent = '{oid}'
ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', c.oid::pg_catalog.regclass::pg_catalog.text;"#
        ),
    ]
}

#[tokio::test]
async fn psql_list_databases() {
    check(
        &query(PSQL_L).await,
        r#"
+-------+-------+----------+---------+-------+------------+-----------------+-------------------+
| Name  | Owner | Encoding | Collate | Ctype | ICU Locale | Locale Provider | Access privileges |
+-------+-------+----------+---------+-------+------------+-----------------+-------------------+
| dev   | root  | UTF8     | C       | C     |            | libc            |                   |
| other | root  | UTF8     | C       | C     |            | libc            |                   |
+-------+-------+----------+---------+-------+------------+-----------------+-------------------+"#,
    );
}

#[tokio::test]
async fn psql_list_schemas() {
    let expected = r#"
+------------+-------+
| Name       | Owner |
+------------+-------+
| public     | root  |
| rw_catalog | root  |
| s2         | root  |
+------------+-------+"#;
    check(&query(PSQL_DN).await, expected);
    let plus = query(PSQL_DN_PLUS).await;
    assert!(plus.contains("| Access privileges | Description |"), "{plus}");
    assert_eq!(plus.lines().count(), 7, "{plus}");
}

#[tokio::test]
async fn psql_list_relations() {
    let tables = r#"
+--------+------+-------+-------+
| Schema | Name | Type  | Owner |
+--------+------+-------+-------+
| public | t    | table | root  |
| public | u    | table | root  |
+--------+------+-------+-------+"#;
    check(&query(&psql_list("'r','p',''")).await, tables);
    check(&query(&psql_list("'r','p','v','m','S','f',''")).await, tables);
    // s2 is on the path after public.
    let both = view(&["public", "s2"]);
    let out = query_in(&both, &psql_list("'r','p',''")).await;
    assert!(out.contains("| s2     | w    | table | root  |"), "{out}");
    check(
        &query(PSQL_DT_PLUS).await,
        r#"
+--------+------+-------+-------+-------------+---------------+---------+-------------+
| Schema | Name | Type  | Owner | Persistence | Access method | Size    | Description |
+--------+------+-------+-------+-------------+---------------+---------+-------------+
| public | t    | table | root  | permanent   |               | 0 bytes |             |
| public | u    | table | root  | permanent   |               | 0 bytes |             |
+--------+------+-------+-------+-------------+---------------+---------+-------------+"#,
    );
    check(
        &query(PSQL_DI).await,
        r#"
+--------+--------+-------+-------+-------+
| Schema | Name   | Type  | Owner | Table |
+--------+--------+-------+-------+-------+
| public | t_pkey | index | root  | t     |
+--------+--------+-------+-------+-------+"#,
    );
    check(&query(PSQL_DF).await, "++\n++");
}

#[tokio::test]
async fn psql_describe_table() {
    check(
        &query(&psql_describe_find("t")).await,
        r#"
+------+---------+---------+
| oid  | nspname | relname |
+------+---------+---------+
| 1003 | public  | t       |
+------+---------+---------+"#,
    );
    let q = psql_describe(T, false);
    let out = query(&q[0]).await;
    assert!(out.contains("| 0         | r       | true        | false       | false          | false          | false               | false      | false          |          | 0             |"), "{out}");
    let out = query(&q[1]).await;
    assert!(out.contains("| b       | character varying                   | 'x'                                                                                      | false      |              |             |              |"), "{out}");
    assert!(out.contains("| e       | numeric(10,2)"), "{out}");
    assert_eq!(row_count(&out), 5, "{out}");
    check(
        &query(&q[2]).await,
        r#"
+---------+--------------+-------------+----------------+------------+--------------------------------------------------------+---------------------------------------------+---------+---------------+-------------+----------------+---------------+
| relname | indisprimary | indisunique | indisclustered | indisvalid | pg_get_indexdef(i.indexrelid,Int64(0),Boolean(true))   | pg_get_constraintdef(con.oid,Boolean(true)) | contype | condeferrable | condeferred | indisreplident | reltablespace |
+---------+--------------+-------------+----------------+------------+--------------------------------------------------------+---------------------------------------------+---------+---------------+-------------+----------------+---------------+
| t_pkey  | true         | true        | false          | true       | CREATE UNIQUE INDEX t_pkey ON public.t USING btree (a) | PRIMARY KEY (a)                             | p       | false         | false       | false          | 0             |
+---------+--------------+-------------+----------------+------------+--------------------------------------------------------+---------------------------------------------+---------+---------------+-------------+----------------+---------------+"#,
    );
    // Policies, statistics, publications, inheritance, partitions: none.
    for sql in &q[3..] {
        assert_eq!(row_count(&query(sql).await), 0, "{sql}");
    }
    let q = psql_describe(T, true);
    assert_eq!(row_count(&query(&q[0]).await), 1);
    let out = query(&q[1]).await;
    assert!(out.contains("| x          |               |"), "{out}");
    assert!(out.contains("| e       | numeric(10,2)                       |                                                                                          | false      |              |             |              | m          |"), "{out}");
    // The hidden row id of u is not shown; u has no primary key index.
    let q = psql_describe(U, false);
    let out = query(&q[1]).await;
    assert_eq!(row_count(&out), 2, "{out}");
    assert!(!out.contains("_row_id"), "{out}");
    assert_eq!(row_count(&query(&q[2]).await), 0);
    // s2.w is not on the path: found by oid all the same, with a qualified index definition.
    let q = psql_describe(W, true);
    let out = query(&q[2]).await;
    assert!(out.contains("CREATE UNIQUE INDEX w_pkey ON s2.w USING btree (k, v) | PRIMARY KEY (k, v)"), "{out}");
    for sql in &q[3..] {
        assert_eq!(row_count(&query(sql).await), 0, "{sql}");
    }
}

/// Other psql 15 commands: (command, query, rows).
const PSQL_OTHER: &[(&str, &str, usize)] = &[
    (
        "\\l+",
        r#"SELECT d.datname as "Name",
       pg_catalog.pg_get_userbyid(d.datdba) as "Owner",
       pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",
       d.datcollate as "Collate",
       d.datctype as "Ctype",
       NULL as "ICU Locale",
       'libc' AS "Locale Provider",
       pg_catalog.array_to_string(d.datacl, E'\n') AS "Access privileges",
       CASE WHEN pg_catalog.has_database_privilege(d.datname, 'CONNECT')
            THEN pg_catalog.pg_size_pretty(pg_catalog.pg_database_size(d.datname))
            ELSE 'No Access'
       END as "Size",
       t.spcname as "Tablespace",
       pg_catalog.shobj_description(d.oid, 'pg_database') as "Description"
FROM pg_catalog.pg_database d
  JOIN pg_catalog.pg_tablespace t on d.dattablespace = t.oid
ORDER BY 1;"#,
        2,
    ),
    (
        "\\du",
        r#"SELECT r.rolname, r.rolsuper, r.rolinherit,
  r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
  r.rolconnlimit, r.rolvaliduntil,
  ARRAY(SELECT b.rolname
        FROM pg_catalog.pg_auth_members m
        JOIN pg_catalog.pg_roles b ON (m.roleid = b.oid)
        WHERE m.member = r.oid) as memberof
, r.rolreplication
, r.rolbypassrls
FROM pg_catalog.pg_roles r
WHERE r.rolname !~ '^pg_'
ORDER BY 1;"#,
        1,
    ),
    (
        "\\dx",
        r#"SELECT e.extname AS "Name", e.extversion AS "Version", n.nspname AS "Schema", c.description AS "Description"
FROM pg_catalog.pg_extension e LEFT JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace LEFT JOIN pg_catalog.pg_description c ON c.objoid = e.oid AND c.classoid = 'pg_catalog.pg_extension'::pg_catalog.regclass
ORDER BY 1;"#,
        0,
    ),
    (
        "\\dT",
        r#"SELECT n.nspname as "Schema",
  pg_catalog.format_type(t.oid, NULL) AS "Name",
  pg_catalog.obj_description(t.oid, 'pg_type') as "Description"
FROM pg_catalog.pg_type t
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE (t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid))
  AND NOT EXISTS(SELECT 1 FROM pg_catalog.pg_type el WHERE el.oid = t.typelem AND el.typarray = t.oid)
      AND n.nspname <> 'pg_catalog'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_type_is_visible(t.oid)
ORDER BY 1, 2;"#,
        0,
    ),
    (
        "\\d s2.*",
        r#"SELECT c.oid,
  n.nspname,
  c.relname
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname OPERATOR(pg_catalog.~) '^(s2)$' COLLATE pg_catalog.default
ORDER BY 2, 3;"#,
        2,
    ),
    (
        "\\dt t*",
        r#"SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','t','s','')
  AND c.relname OPERATOR(pg_catalog.~) '^(t.*)$' COLLATE pg_catalog.default
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;"#,
        1,
    ),
    (
        "\\dv",
        r#"SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;"#,
        0,
    ),
    (
        "\\ds",
        r#"SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('S','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;"#,
        0,
    ),
    (
        "\\dE",
        r#"SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('f','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;"#,
        0,
    ),
    (
        "\\dm",
        r#"SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('m','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;"#,
        0,
    ),
];

fn row_count(table: &str) -> usize {
    // Header, three borders; an empty result prints as two lines.
    table.lines().count().saturating_sub(4)
}

#[tokio::test]
async fn psql_other_commands() {
    for (command, sql, rows) in PSQL_OTHER {
        let out = query(sql).await;
        assert_eq!(row_count(&out), *rows, "{command}:\n{out}");
    }
    let out = query(PSQL_OTHER[0].1).await;
    assert!(out.contains("| dev   | root  | UTF8     | C       | C     |            | libc            |                   | 0 bytes | pg_default |"), "{out}");
    let out = query(PSQL_OTHER[1].1).await;
    assert!(out.contains("| root    | true     | true       | true          | true        | true        | -1           |               |          | true           | true         |"), "{out}");
}

#[tokio::test]
async fn session_functions() {
    check(
        &query("SELECT current_database(), current_user, session_user, current_schema, current_schemas(true), current_schemas(false)").await,
        r#"
+--------------------+----------------+----------------+------------------+--------------------------------+---------------------------------+
| current_database() | current_user() | session_user() | current_schema() | current_schemas(Boolean(true)) | current_schemas(Boolean(false)) |
+--------------------+----------------+----------------+------------------+--------------------------------+---------------------------------+
| dev                | root           | root           | public           | [pg_catalog, public]           | [public]                        |
+--------------------+----------------+----------------+------------------+--------------------------------+---------------------------------+"#,
    );
    check(
        &query("SELECT version() LIKE 'PostgreSQL 13.14-Tributary-%' AS v, txid_current() AS x, current_setting('server_version_num') AS n").await,
        r#"
+------+----+--------+
| v    | x  | n      |
+------+----+--------+
| true | 42 | 130014 |
+------+----+--------+"#,
    );
    check(
        &query("SELECT 't'::regclass, 'public.t'::regclass::oid, 1003::regclass, 1005::regclass, 's2.w'::regclass::oid, 'pg_class'::regclass::oid > 0 AS c").await,
        r#"
+----------+------+------------+------------+-------+------+
| regclass | oid  | regclass_1 | regclass_2 | oid_1 | c    |
+----------+------+------------+------------+-------+------+
| 1003     | 1003 | t          | s2.w       | 1005  | true |
+----------+------+------------+------------+-------+------+"#,
    );
    check(
        &query(
            "SELECT c.oid::regclass, c.oid::regclass::text AS name FROM pg_class c WHERE c.oid = 't_pkey'::regclass",
        )
        .await,
        r#"
+--------+--------+
| oid    | name   |
+--------+--------+
| t_pkey | t_pkey |
+--------+--------+"#,
    );
    check(
        &query("SELECT 'integer'::regtype::oid, 1007::regtype, 'public'::regnamespace::oid AS ns, 11::regnamespace, to_regclass('nope') AS a, to_regclass('u') AS b").await,
        r#"
+-----+-----------+------+--------------+---+------+
| oid | regtype   | ns   | regnamespace | a | b    |
+-----+-----------+------+--------------+---+------+
| 23  | integer[] | 1001 | pg_catalog   |   | 1004 |
+-----+-----------+------+--------------+---+------+"#,
    );
    check(
        &query("SELECT format_type(1043, 14) AS a, format_type(1700, -1) AS b, format_type(1, NULL) AS c, pg_get_userbyid(10) AS d, pg_get_userbyid(5) AS e").await,
        r#"
+-----------------------+---------+-----+------+-----------------+
| a                     | b       | c   | d    | e               |
+-----------------------+---------+-----+------+-----------------+
| character varying(10) | numeric | ??? | root | unknown (OID=5) |
+-----------------------+---------+-----+------+-----------------+"#,
    );
    check(
        &query("SELECT pg_table_is_visible(1003) AS a, pg_table_is_visible(1005) AS b, pg_table_is_visible('pg_class'::regclass) AS c, has_table_privilege('t', 'select') AS d, pg_size_pretty(pg_table_size('t'::regclass)) AS e").await,
        r#"
+------+-------+------+------+---------+
| a    | b     | c    | d    | e       |
+------+-------+------+------+---------+
| true | false | true | true | 0 bytes |
+------+-------+------+------+---------+"#,
    );
    // The search path decides visibility and the current schema.
    let v = view(&["s2", "public"]);
    check(
        &query_in(&v, "SELECT current_schema() AS s, 1005::regclass AS w, pg_table_is_visible(1005) AS visible").await,
        r#"
+----+---+---------+
| s  | w | visible |
+----+---+---------+
| s2 | w | true    |
+----+---+---------+"#,
    );
    check(
        &query("SELECT 't'::regclass::text, 's2.w'::regclass::text AS w, 'int4'::regtype::text AS i, 'varchar'::regtype::oid::int::text AS v, 1003::regclass::varchar AS n").await,
        r#"
+------+------+---------+------+---+
| text | w    | i       | v    | n |
+------+------+---------+------+---+
| t    | s2.w | integer | 1043 | t |
+------+------+---------+------+---+"#,
    );
    // As e2e_test/pgwire/system_functions.slt asks.
    check(
        &query("SELECT current_user, session_user, user, current_role, current_schema(), current_schema, current_database() = current_catalog AS same, current_database() IN (SELECT datname FROM pg_catalog.pg_database) AS listed").await,
        r#"
+----------------+----------------+--------+----------------+------------------+----------------+------+--------+
| current_user() | session_user() | user() | current_role() | current_schema() | current_schema | same | listed |
+----------------+----------------+--------+----------------+------------------+----------------+------+--------+
| root           | root           | root   | root           | public           | public         | true | true   |
+----------------+----------------+--------+----------------+------------------+----------------+------+--------+"#,
    );
    check(
        &query("SELECT current_setting('search_path') AS p, current_setting('TimeZone') AS z, current_setting('nope', true) AS n, current_setting('server_encoding') AS e").await,
        r#"
+-----------------+---------------+---+------+
| p               | z             | n | e    |
+-----------------+---------------+---+------+
| "$user", public | Asia/Shanghai |   | UTF8 |
+-----------------+---------------+---+------+"#,
    );
    let err = try_query(&view(&["public"]), "SELECT current_setting('nope')").await.map(|_| ()).unwrap_err();
    assert_eq!(err.message(), "unrecognized configuration parameter \"nope\"");
    let err = try_query(&view(&["public"]), "SELECT 'w'::regclass").await.map(|_| ()).unwrap_err();
    assert_eq!(err.message(), "relation \"w\" does not exist");
}

#[tokio::test]
async fn information_schema_views() {
    check(
        &query("SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2").await,
        r#"
+--------------+------------+------------+
| table_schema | table_name | table_type |
+--------------+------------+------------+
| public       | t          | BASE TABLE |
| public       | u          | BASE TABLE |
| s2           | w          | BASE TABLE |
+--------------+------------+------------+"#,
    );
    check(
        &query("SELECT table_name, column_name, ordinal_position, column_default, is_nullable, data_type, udt_name, numeric_precision, numeric_scale, datetime_precision FROM information_schema.columns WHERE table_schema IN ('public', 's2') ORDER BY table_name, ordinal_position").await,
        r#"
+------------+-------------+------------------+----------------+-------------+--------------------------+-------------+-------------------+---------------+--------------------+
| table_name | column_name | ordinal_position | column_default | is_nullable | data_type                | udt_name    | numeric_precision | numeric_scale | datetime_precision |
+------------+-------------+------------------+----------------+-------------+--------------------------+-------------+-------------------+---------------+--------------------+
| t          | a           | 1                |                | NO          | integer                  | int4        | 32                | 0             |                    |
| t          | b           | 2                | 'x'            | YES         | character varying        | varchar     |                   |               |                    |
| t          | c           | 3                |                | NO          | ARRAY                    | _int4       |                   |               |                    |
| t          | d           | 4                |                | YES         | timestamp with time zone | timestamptz |                   |               | 6                  |
| t          | e           | 5                |                | YES         | numeric                  | numeric     | 10                | 2             |                    |
| u          | x           | 1                |                | YES         | bigint                   | int8        | 64                | 0             |                    |
| u          | y           | 2                |                | YES         | jsonb                    | jsonb       |                   |               |                    |
| w          | k           | 1                |                | NO          | character varying        | varchar     |                   |               |                    |
| w          | v           | 2                |                | YES         | double precision         | float8      | 53                |               |                    |
+------------+-------------+------------------+----------------+-------------+--------------------------+-------------+-------------------+---------------+--------------------+"#,
    );
    check(
        &query("SELECT tc.table_schema, tc.table_name, tc.constraint_type, k.column_name, k.ordinal_position FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage k ON tc.constraint_name = k.constraint_name AND tc.table_schema = k.table_schema ORDER BY 1, 2, 5").await,
        r#"
+--------------+------------+-----------------+-------------+------------------+
| table_schema | table_name | constraint_type | column_name | ordinal_position |
+--------------+------------+-----------------+-------------+------------------+
| public       | t          | PRIMARY KEY     | a           | 1                |
| s2           | w          | PRIMARY KEY     | k           | 1                |
| s2           | w          | PRIMARY KEY     | v           | 2                |
+--------------+------------+-----------------+-------------+------------------+"#,
    );
    check(
        &query("SELECT schema_name FROM information_schema.schemata ORDER BY 1").await,
        r#"
+--------------------+
| schema_name        |
+--------------------+
| information_schema |
| pg_catalog         |
| public             |
| rw_catalog         |
| s2                 |
+--------------------+"#,
    );
    // Unqualified information_schema names need the schema on the path, as in Postgres.
    let out = query_in(&view(&["information_schema"]), "SELECT count(*) AS n FROM tables WHERE table_name = 't'").await;
    assert!(out.contains("| 1 |"), "{out}");
}

#[tokio::test]
async fn catalog_tables() {
    check(
        &query("SELECT relname, relkind, relnatts, relhasindex, relam FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1").await,
        r#"
+---------+---------+----------+-------------+-------+
| relname | relkind | relnatts | relhasindex | relam |
+---------+---------+----------+-------------+-------+
| t       | r       | 5        | true        | 0     |
| t_pkey  | i       | 1        | false       | 403   |
| u       | r       | 2        | false       | 0     |
+---------+---------+----------+-------------+-------+"#,
    );
    // The hidden row id of u is not a column.
    check(
        &query("SELECT attrelid::regclass, attname, atttypid::regtype, attnum, attnotnull, atthasdef, atttypmod FROM pg_attribute WHERE attrelid IN ('t'::regclass, 'u'::regclass) ORDER BY 1, attnum").await,
        r#"
+----------+---------+--------------------------+--------+------------+-----------+-----------+
| attrelid | attname | atttypid                 | attnum | attnotnull | atthasdef | atttypmod |
+----------+---------+--------------------------+--------+------------+-----------+-----------+
| t        | a       | integer                  | 1      | true       | false     | -1        |
| t        | b       | character varying        | 2      | false      | true      | -1        |
| t        | c       | integer[]                | 3      | true       | false     | -1        |
| t        | d       | timestamp with time zone | 4      | false      | false     | -1        |
| t        | e       | numeric                  | 5      | false      | false     | 655366    |
| u        | x       | bigint                   | 1      | false      | false     | -1        |
| u        | y       | jsonb                    | 2      | false      | false     | -1        |
+----------+---------+--------------------------+--------+------------+-----------+-----------+"#,
    );
    check(
        &query("SELECT conname, contype, conrelid::regclass, conkey, pg_get_constraintdef(oid) AS def FROM pg_constraint ORDER BY 1").await,
        r#"
+---------+---------+----------+--------+--------------------+
| conname | contype | conrelid | conkey | def                |
+---------+---------+----------+--------+--------------------+
| t_pkey  | p       | t        | [1]    | PRIMARY KEY (a)    |
| w_pkey  | p       | s2.w     | [1, 2] | PRIMARY KEY (k, v) |
+---------+---------+----------+--------+--------------------+"#,
    );
    check(
        &query("SELECT oid, typname, typarray, typelem, typinput, typlen FROM pg_type WHERE typname IN ('int4', '_int4', 'varchar', 'jsonb') ORDER BY oid").await,
        r#"
+------+---------+----------+---------+-----------+--------+
| oid  | typname | typarray | typelem | typinput  | typlen |
+------+---------+----------+---------+-----------+--------+
| 23   | int4    | 1007     | 0       | int4in    | 4      |
| 1007 | _int4   | 0        | 23      | array_in  | -1     |
| 1043 | varchar | 1015     | 0       | varcharin | -1     |
| 3802 | jsonb   | 3807     | 0       | jsonbin   | -1     |
+------+---------+----------+---------+-----------+--------+"#,
    );
    check(
        &query(
            "SELECT schemaname, tablename, hasindexes FROM pg_tables WHERE schemaname <> 'pg_catalog' ORDER BY 1, 2",
        )
        .await,
        r#"
+------------+-----------+------------+
| schemaname | tablename | hasindexes |
+------------+-----------+------------+
| public     | t         | true       |
| public     | u         | false      |
| s2         | w         | true       |
+------------+-----------+------------+"#,
    );
    check(
        &query("SELECT indexname, indexdef FROM pg_indexes ORDER BY 1").await,
        r#"
+-----------+--------------------------------------------------------+
| indexname | indexdef                                               |
+-----------+--------------------------------------------------------+
| t_pkey    | CREATE UNIQUE INDEX t_pkey ON public.t USING btree (a) |
| w_pkey    | CREATE UNIQUE INDEX w_pkey ON s2.w USING btree (k, v)  |
+-----------+--------------------------------------------------------+"#,
    );
    // Other databases' objects stay out of this database's catalogs.
    let out = query("SELECT count(*) AS n FROM pg_class WHERE relname = 'elsewhere'").await;
    assert!(out.contains("| 0 |"), "{out}");
}

/// What the Postgres JDBC driver sends for DatabaseMetaData.getTables and getColumns.
#[tokio::test]
async fn jdbc_metadata() {
    let tables = "SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME,  CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema'  WHEN true THEN CASE  WHEN n.nspname = 'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TABLE'   WHEN 'v' THEN 'SYSTEM VIEW'   WHEN 'i' THEN 'SYSTEM INDEX'   ELSE NULL   END  WHEN n.nspname = 'pg_toast' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TOAST TABLE'   WHEN 'i' THEN 'SYSTEM TOAST INDEX'   ELSE NULL   END  ELSE CASE c.relkind   WHEN 'r' THEN 'TEMPORARY TABLE'   WHEN 'p' THEN 'TEMPORARY TABLE'   WHEN 'i' THEN 'TEMPORARY INDEX'   WHEN 'S' THEN 'TEMPORARY SEQUENCE'   WHEN 'v' THEN 'TEMPORARY VIEW'   ELSE NULL   END  END  WHEN false THEN CASE c.relkind  WHEN 'r' THEN 'TABLE'  WHEN 'p' THEN 'PARTITIONED TABLE'  WHEN 'i' THEN 'INDEX'  WHEN 'S' THEN 'SEQUENCE'  WHEN 'v' THEN 'VIEW'  WHEN 'c' THEN 'TYPE'  WHEN 'f' THEN 'FOREIGN TABLE'  WHEN 'm' THEN 'MATERIALIZED VIEW'  ELSE NULL  END  ELSE NULL  END  AS TABLE_TYPE, d.description AS REMARKS,  '' as TYPE_CAT, '' as TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION  FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c  LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0  and d.classoid = 'pg_class'::regclass)  WHERE c.relnamespace = n.oid  AND n.nspname LIKE 'public' AND c.relname LIKE '%' AND (false  OR ( c.relkind IN ('r','p') AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ) )  ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME";
    let out = query(tables).await;
    assert_eq!(row_count(&out), 2, "{out}");
    assert!(out.contains("|           | public      | t          | TABLE      |"), "{out}");
    let columns = "SELECT * FROM (SELECT n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,nullif(a.attgenerated, '') as attgenerated,pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype  FROM pg_catalog.pg_namespace n  JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid)  JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid)  JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)  LEFT JOIN pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum)  LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)  LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class')  LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog')  WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped  AND n.nspname LIKE 'public' AND c.relname LIKE 't') c WHERE true  ORDER BY nspname,c.relname,attnum";
    let out = query(columns).await;
    assert_eq!(row_count(&out), 5, "{out}");
    assert!(out.contains("| public  | t       | b       | 1043     | false      | -1        | -1     | -1        | 2      |             |              | 'x'   |"), "{out}");
    let out = query(
        "SELECT typinput = 'array_in'::regproc AS is_array, typtype, typname FROM pg_catalog.pg_type WHERE oid = 1007",
    )
    .await;
    assert!(out.contains("| true     | b       | _int4   |"), "{out}");
}

#[tokio::test]
async fn plain_sql_forms() {
    // IN (subquery) with a constant on the left, in the select list, keeps IN's NULL rules.
    check(
        &query("SELECT 'dev' IN (SELECT datname FROM pg_database) AS a, 'x' IN (SELECT datname FROM pg_database) AS b, 'x' NOT IN (SELECT datname FROM pg_database) AS c, 'x' IN (SELECT NULL::varchar) AS d, NULL::varchar IN (SELECT datname FROM pg_database WHERE false) AS e").await,
        r#"
+------+-------+------+---+-------+
| a    | b     | c    | d | e     |
+------+-------+------+---+-------+
| true | false | true |   | false |
+------+-------+------+---+-------+"#,
    );
    // Equal output names, as Postgres allows.
    check(
        &query("SELECT NULL, NULL, x, x FROM (VALUES (1)) AS v(x)").await,
        r#"
+------+----------+---+-----+
| NULL | ?column? | x | x_1 |
+------+----------+---+-----+
|      |          | 1 | 1   |
+------+----------+---+-----+"#,
    );
    check(
        &query("SELECT array(SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY 1) AS names, x FROM pg_catalog.generate_series(1, 2) AS g(x)").await,
        r#"
+----------------+---+
| names          | x |
+----------------+---+
| [t, t_pkey, u] | 1 |
| [t, t_pkey, u] | 2 |
+----------------+---+"#,
    );
}
