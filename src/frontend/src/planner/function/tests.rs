use datafusion::sql::sqlparser::ast::Statement;
use datafusion::sql::sqlparser::parser::Parser;
use tributary_common::catalog::{Database, SchemaCatalog};
use tributary_common::types::DataType;
use tributary_proto::catalog::Function;

use super::{inline_functions, FunctionScope};
use crate::catalog::CatalogSnapshot;
use crate::error::Result;

const DB: u32 = 1;
const PUBLIC: u32 = 2;
const OTHER: u32 = 3;

fn function(id: u32, schema_id: u32, name: &str, args: &[(&str, DataType)], ret: DataType, body: &str) -> Function {
    Function {
        id,
        database_id: DB,
        schema_id,
        name: name.into(),
        arg_names: args.iter().map(|(n, _)| n.to_string()).collect(),
        arg_types: args.iter().map(|(_, t)| t.to_protobuf()).collect(),
        return_type: Some(ret.to_protobuf()),
        language: "sql".into(),
        body: body.into(),
        definition: String::new(),
    }
}

fn catalog() -> CatalogSnapshot {
    let mut c = CatalogSnapshot::default();
    c.databases.insert(DB, Database { id: DB, name: "dev".into() });
    c.schemas.insert(PUBLIC, SchemaCatalog { id: PUBLIC, database_id: DB, name: "public".into() });
    c.schemas.insert(OTHER, SchemaCatalog { id: OTHER, database_id: DB, name: "other".into() });
    let v = DataType::Varchar;
    let fns = [
        function(
            10,
            PUBLIC,
            "count_char",
            &[("s", v.clone()), ("c", v.clone())],
            DataType::Int32,
            "LENGTH(s) - LENGTH(REPLACE(s, c, ''))",
        ),
        function(11, PUBLIC, "add", &[("", DataType::Int32), ("", DataType::Int32)], DataType::Int32, "$1 + $2"),
        function(12, PUBLIC, "add", &[("", v.clone()), ("", v.clone())], v.clone(), "$1 || $2"),
        function(13, PUBLIC, "twice_add", &[("a", DataType::Int32)], DataType::Int64, "add(a, a)"),
        function(14, OTHER, "neg", &[("x", DataType::Int32)], DataType::Int32, "-x"),
        function(15, PUBLIC, "upper", &[("x", v.clone())], v, "x"),
    ];
    for f in fns {
        c.functions.insert(f.id, f);
    }
    c
}

fn inline(sql: &str) -> Result<(String, Vec<u32>)> {
    let catalog = catalog();
    let search_path = vec!["public".to_string()];
    let builtin = |n: &str| n == "upper" || n == "length";
    let scope = FunctionScope {
        catalog: &catalog,
        database_id: DB,
        database_name: "dev",
        search_path: &search_path,
        is_builtin: &builtin,
    };
    let mut stmt: Statement = Parser::new(&crate::dialect::TributaryDialect::new()).try_with_sql(sql).unwrap().parse_statement().unwrap();
    let used = inline_functions(&scope, &mut stmt)?;
    Ok((stmt.to_string(), used))
}

#[test]
fn named_parameters_are_replaced_by_cast_arguments() {
    let (sql, used) = inline("SELECT count_char(extra, 'c') AS n FROM bid").unwrap();
    assert_eq!(
        sql,
        "SELECT CAST((LENGTH(CAST((extra) AS VARCHAR)) - LENGTH(REPLACE(CAST((extra) AS VARCHAR), CAST(('c') AS VARCHAR), ''))) AS INTEGER) AS n FROM bid"
    );
    assert_eq!(used, vec![10]);
}

#[test]
fn positional_parameters_and_nested_calls() {
    let (sql, used) = inline("SELECT twice_add(x + 1) FROM t").unwrap();
    assert_eq!(
        sql,
        "SELECT CAST((CAST((CAST((CAST((x + 1) AS INTEGER)) AS INTEGER) + CAST((CAST((x + 1) AS INTEGER)) AS INTEGER)) AS INTEGER)) AS BIGINT) AS \"twice_add\" FROM t"
    );
    assert_eq!(used, vec![13, 11]);
}

#[test]
fn arguments_are_inlined_first_and_not_captured_by_parameter_names() {
    // The caller's column `s` must stay the caller's column.
    let (sql, _) = inline("SELECT count_char(s, c) FROM t").unwrap();
    assert!(sql.contains("LENGTH(CAST((s) AS VARCHAR))"), "{sql}");
    let (sql, used) = inline("SELECT add(add(1, 2), 3)").unwrap();
    assert_eq!(sql, "SELECT CAST((CAST((CAST((CAST((1) AS INTEGER) + CAST((2) AS INTEGER)) AS INTEGER)) AS INTEGER) + CAST((3) AS INTEGER)) AS INTEGER) AS \"add\"");
    assert_eq!(used, vec![11]);
}

#[test]
fn overloads_resolve_by_apparent_types() {
    let (sql, used) = inline("SELECT add('a'::varchar, 'b'::varchar)").unwrap();
    assert!(sql.contains("||"), "{sql}");
    assert_eq!(used, vec![12]);
    let err = inline("SELECT add(a, b) FROM t").unwrap_err();
    assert_eq!(err.sqlstate(), "42725");
    let err = inline("SELECT add(1)").unwrap_err();
    assert_eq!(err.sqlstate(), "42883");
}

#[test]
fn names_resolve_through_schemas_and_builtins_win() {
    // `neg` is not on the search path; qualified it is found.
    let (sql, used) = inline("SELECT neg(1)").unwrap();
    assert_eq!(sql, "SELECT neg(1)");
    assert!(used.is_empty());
    let (sql, used) = inline("SELECT other.neg(1)").unwrap();
    assert_eq!(sql, "SELECT CAST((-CAST((1) AS INTEGER)) AS INTEGER) AS \"neg\"");
    assert_eq!(used, vec![14]);
    // A user function named like a built-in does not shadow it unqualified.
    let (sql, used) = inline("SELECT upper('a')").unwrap();
    assert_eq!(sql, "SELECT upper('a')");
    assert!(used.is_empty());
    let (_, used) = inline("SELECT public.upper('a')").unwrap();
    assert_eq!(used, vec![15]);
}

#[test]
fn a_bare_call_names_its_column_after_the_function() {
    let (sql, _) = inline("SELECT add(1, 2), add(1, 2) + 1, add(1, 2) AS x").unwrap();
    assert!(sql.starts_with("SELECT CAST("), "{sql}");
    assert_eq!(sql.matches(" AS \"add\"").count(), 1, "{sql}");
    assert!(sql.ends_with(" AS x"), "{sql}");
    // Two items of one name would be refused by DataFusion: neither is named.
    let (sql, _) = inline("SELECT add(1, 2), add(3, 4)").unwrap();
    assert!(!sql.contains("AS \"add\""), "{sql}");
    let (sql, _) = inline("SELECT add(1, 2), 1 AS add").unwrap();
    assert!(!sql.contains("AS \"add\""), "{sql}");
}

#[test]
fn calls_inside_subqueries_and_dml_are_inlined() {
    let (sql, used) = inline("INSERT INTO t SELECT add(1, 2) WHERE EXISTS (SELECT count_char(s, 'x') FROM u)").unwrap();
    assert!(!sql.contains("add(") && !sql.contains("count_char("), "{sql}");
    assert_eq!(used, vec![11, 10]);
}

#[test]
fn aggregate_syntax_on_a_scalar_function_is_refused() {
    let err = inline("SELECT add(1, 2) OVER () FROM t").unwrap_err();
    assert_eq!(err.sqlstate(), "42809");
}
