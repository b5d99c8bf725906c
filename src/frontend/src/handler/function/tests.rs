use datafusion::sql::sqlparser::ast::{CreateFunction, Statement};
use datafusion::sql::sqlparser::parser::Parser;
use tributary_common::types::DataType;

use super::{analyze, SqlFunctionDef};
use crate::error::Result;

fn parse(sql: &str) -> CreateFunction {
    match Parser::new(&crate::dialect::TributaryDialect::new()).try_with_sql(sql).unwrap().parse_statement().unwrap() {
        Statement::CreateFunction(c) => c,
        other => panic!("not CREATE FUNCTION: {other}"),
    }
}

fn def(sql: &str) -> Result<SqlFunctionDef> {
    analyze(&parse(sql))
}

#[test]
fn the_three_body_forms() {
    let expected = SqlFunctionDef {
        arg_names: vec!["s".into(), "c".into()],
        arg_types: vec![DataType::Varchar, DataType::Varchar],
        return_type: DataType::Int32,
        body: "LENGTH(s) - LENGTH(REPLACE(s, c, ''))".into(),
    };
    let dollar = "CREATE FUNCTION count_char(s varchar, c varchar) RETURNS int LANGUAGE SQL AS $$SELECT LENGTH(s) - LENGTH(REPLACE(s, c, ''))$$";
    assert_eq!(def(dollar).unwrap(), expected);
    let quoted = "CREATE FUNCTION count_char(s varchar, c varchar) RETURNS int LANGUAGE SQL AS 'SELECT LENGTH(s) - LENGTH(REPLACE(s, c, ''''))'";
    assert_eq!(def(quoted).unwrap(), expected);
    let ret =
        "CREATE FUNCTION count_char(s varchar, c varchar) RETURNS int LANGUAGE SQL RETURN LENGTH(s) - LENGTH(REPLACE(s, c, ''))";
    assert_eq!(def(ret).unwrap(), expected);
}

#[test]
fn positional_parameters_have_empty_names() {
    let d = def("CREATE FUNCTION add(int, b bigint) RETURNS bigint AS 'select $1 + b'").unwrap();
    assert_eq!(d.arg_names, vec!["".to_string(), "b".to_string()]);
    assert_eq!(d.arg_types, vec![DataType::Int32, DataType::Int64]);
    assert_eq!(d.body, "$1 + b");
}

#[test]
fn unsupported_forms_are_0a000() {
    for sql in [
        "CREATE FUNCTION f(a int) RETURNS int LANGUAGE python AS $$return a$$",
        "CREATE FUNCTION f(a int) RETURNS int LANGUAGE javascript AS $$return a$$",
        "CREATE FUNCTION f(a int) RETURNS int AS $$SELECT a FROM t$$",
        "CREATE FUNCTION f(a int) RETURNS int AS $$SELECT a WHERE a > 1$$",
        "CREATE FUNCTION f(a int) RETURNS int AS $$SELECT a, a$$",
        "CREATE FUNCTION f(a int) RETURNS int AS $$SELECT 1; SELECT 2$$",
        "CREATE FUNCTION f(a int) RETURNS int AS $$INSERT INTO t VALUES (1)$$",
        "CREATE FUNCTION f(a int) RETURNS SETOF int AS $$SELECT a$$",
        "CREATE FUNCTION f(a int) RETURNS TABLE (x int) AS $$SELECT a$$",
        "CREATE OR REPLACE FUNCTION f(a int) RETURNS int AS $$SELECT a$$",
        "CREATE FUNCTION f(OUT a int) RETURNS int AS $$SELECT 1$$",
        "CREATE FUNCTION f(a int DEFAULT 1) RETURNS int AS $$SELECT a$$",
    ] {
        let err = def(sql).expect_err(sql);
        assert_eq!(err.sqlstate(), "0A000", "{sql}: {err}");
    }
}

#[test]
fn invalid_definitions() {
    let err = def("CREATE FUNCTION f(a int, a int) RETURNS int AS $$SELECT a$$").unwrap_err();
    assert_eq!(err.sqlstate(), "42P13");
    let err = def("CREATE FUNCTION f(a int) AS $$SELECT a$$").unwrap_err();
    assert_eq!(err.sqlstate(), "42P13");
    let err = def("CREATE FUNCTION f(a int) RETURNS int AS $$SELECT (a$$").unwrap_err();
    assert_eq!(err.sqlstate(), "42601");
}
