use arrow::array::Array;
use arrow::util::display::array_value_to_string;
use datafusion::prelude::SessionContext;
use proptest::prelude::*;

use super::value::{self, normalize, parse, parse_text_array, pg_numeric_text};
use crate::new_context;

/// Runs one statement: every cell, rows joined by `\n` and columns by ` | `, NULL as `NULL`;
/// or `ERROR: …`.
async fn run(ctx: &SessionContext, sql: &str) -> String {
    let result = async { ctx.sql(sql).await?.collect().await }.await;
    let batches = match result {
        Err(e) => return format!("ERROR: {e}"),
        Ok(b) => b,
    };
    let mut rows = Vec::new();
    for b in &batches {
        for r in 0..b.num_rows() {
            let cells: Vec<String> = b
                .columns()
                .iter()
                .map(|c| {
                    if c.is_null(r) {
                        "NULL".to_string()
                    } else {
                        array_value_to_string(c, r).unwrap_or_else(|e| format!("<{e}>"))
                    }
                })
                .collect();
            rows.push(cells.join(" | "));
        }
    }
    rows.join("\n")
}

/// Runs each `(sql, expected)` in `ctx` and reports every mismatch at once. An expectation
/// starting with `ERROR:` matches when the error message contains the rest.
async fn check_in(ctx: &SessionContext, cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (sql, expected) in cases {
        let got = run(ctx, sql).await;
        let ok = match expected.strip_prefix("ERROR:") {
            Some(msg) => got.starts_with("ERROR:") && got.contains(msg.trim()),
            None => got == *expected,
        };
        if !ok {
            failures.push(format!("{sql}\n  expected: {expected}\n  got:      {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn check(cases: &[(&str, &str)]) {
    check_in(&new_context(), cases).await
}

// ---- normalization ----

#[test]
fn normalizes_layout_and_key_order() {
    let cases = [
        (r#"{"b":1,"a":2}"#, r#"{"a": 2, "b": 1}"#),
        (r#"{"aa":1,"b":2,"a":3}"#, r#"{"a": 3, "b": 2, "aa": 1}"#),
        (r#"{"a":1,"a":2}"#, r#"{"a": 2}"#),
        (r#"{"B":1,"a":2,"":0}"#, r#"{"": 0, "B": 1, "a": 2}"#),
        (" \t\n[ 1 ,\r\n2,[ ],{ }] ", "[1, 2, [], {}]"),
        (
            r#"{"x":{"z":[true,false,null],"y":"s"}}"#,
            r#"{"x": {"y": "s", "z": [true, false, null]}}"#,
        ),
        ("null", "null"),
        ("\"\"", "\"\""),
    ];
    for (input, expected) in cases {
        assert_eq!(normalize(input).as_deref(), Ok(expected), "input {input}");
    }
}

#[test]
fn normalizes_numbers_risingwave_style() {
    let cases = [
        ("1", "1"),
        ("-1", "-1"),
        ("0", "0"),
        ("-0", "-0.0"),
        ("1.0", "1.0"),
        ("1.50", "1.5"),
        ("1e2", "100.0"),
        ("-1.5E-3", "-0.0015"),
        ("1e-7", "1e-7"),
        ("18446744073709551615", "18446744073709551615"),
        ("-9223372036854775808", "-9223372036854775808"),
        (
            "114514191981011451419198101145141919810",
            "1.1451419198101145e38",
        ),
        ("555555155555572055555781056", "5.5555515555557204e26"),
    ];
    for (input, expected) in cases {
        assert_eq!(normalize(input).as_deref(), Ok(expected), "input {input}");
    }
    assert!(normalize("1e400").is_err());
}

#[test]
fn postgres_numeric_text() {
    let cases = [
        ("1e2", "100"),
        ("1.0", "1.0"),
        ("1.50e1", "15.0"),
        ("1e-2", "0.01"),
        ("-0", "0"),
        ("-0.00", "0.00"),
        ("007.5", "7.5"),
        ("-12.345e-1", "-1.2345"),
        (
            "114514191981011451419198101145141919810",
            "114514191981011451419198101145141919810",
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(
            pg_numeric_text(input).as_deref(),
            Some(expected),
            "input {input}"
        );
    }
    assert_eq!(pg_numeric_text("1e999999"), None);
}

#[test]
fn normalizes_strings_and_escapes() {
    let cases = [
        (r#""\u00e9""#, "\"é\""),
        (r#""é""#, "\"é\""),
        (r#""\ud83d\ude00""#, "\"😀\""),
        (r#""a\"b\\c\/d""#, r#""a\"b\\c/d""#),
        (r#""\b\f\n\r\t""#, r#""\b\f\n\r\t""#),
        (r#""\u0001\u001F""#, r#""\u0001\u001f""#),
        (r#""\u0000""#, r#""\u0000""#),
        (r#"{"k\u0041":1}"#, r#"{"kA": 1}"#),
    ];
    for (input, expected) in cases {
        assert_eq!(normalize(input).as_deref(), Ok(expected), "input {input}");
    }
}

#[test]
fn rejects_invalid_json() {
    for input in [
        "",
        " ",
        "nope",
        "{",
        "[1,2",
        "[1,]",
        "{\"a\" 1}",
        "{\"a\":1,}",
        "{a:1}",
        "01",
        "1.",
        ".5",
        "-",
        "1e",
        "+1",
        "truex",
        "nul",
        "'a'",
        "\"abc",
        "\"a\nb\"",
        r#""\x""#,
        r#""\u12""#,
        r#""\ud83d""#,
        r#""\ude00""#,
        "[1] 2",
        "NaN",
        "Infinity",
    ] {
        let err = normalize(input).expect_err(input);
        assert!(
            err.to_string()
                .starts_with("invalid input syntax for type json"),
            "{input}: {err}"
        );
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = "[".repeat(100_000);
    assert!(normalize(&deep).is_err());
    let ok = format!("{}{}", "[".repeat(500), "]".repeat(500));
    assert_eq!(normalize(&ok).map(|s| s.len()), Ok(1000));
}

#[test]
fn parses_text_array_literals() {
    let s = |v: &[Option<&str>]| v.iter().map(|x| x.map(str::to_string)).collect::<Vec<_>>();
    assert_eq!(
        parse_text_array("{a,b,1}"),
        Ok(s(&[Some("a"), Some("b"), Some("1")]))
    );
    assert_eq!(parse_text_array("{}"), Ok(vec![]));
    assert_eq!(
        parse_text_array(r#"{"a b", c ,NULL,"NULL","x\"y"}"#),
        Ok(s(&[
            Some("a b"),
            Some("c"),
            None,
            Some("NULL"),
            Some("x\"y")
        ]))
    );
    assert!(parse_text_array("a,b").is_err());
    assert!(parse_text_array("{a,,b}").is_err());
    assert!(parse_text_array("{\"a}").is_err());
}

#[test]
fn pretty_layout() {
    let v = parse(r#"{"a":[1,{"b":2}],"c":{},"d":[]}"#).unwrap();
    assert_eq!(
        value::pretty(&v),
        "{\n    \"a\": [\n        1,\n        {\n            \"b\": 2\n        }\n    ],\n    \"c\": {},\n    \"d\": []\n}"
    );
    assert_eq!(value::pretty(&parse("1").unwrap()), "1");
}

/// JSON text built from an arbitrary value, with random insignificant whitespace.
fn json_text() -> impl Strategy<Value = String> {
    let ws = prop::sample::select(vec!["", " ", "\n", "\t ", "\r\n"]);
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        "-?(0|[1-9][0-9]{0,29})(\\.[0-9]{1,10})?([eE][+-]?[0-9]{1,2})?",
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
        "\"(\\\\u00[0-1][0-9a-fA-F]|[a-z]|\\\\n)*\"",
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        let ws = ws.clone();
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..6), ws.clone())
                .prop_map(|(items, w)| format!("[{w}{}{w}]", items.join(&format!("{w},{w}")))),
            (prop::collection::vec(("[a-c]{0,3}", inner), 0..6), ws).prop_map(|(entries, w)| {
                let body: Vec<String> = entries
                    .into_iter()
                    .map(|(k, v)| format!("\"{k}\"{w}:{w}{v}"))
                    .collect();
                format!("{{{w}{}{w}}}", body.join(","))
            }),
        ]
    })
}

proptest! {
    // Failures are reported in the test output; no regression files outside this module.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn normalization_is_idempotent(text in json_text()) {
        let once = normalize(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let twice = normalize(&once).map_err(|e| TestCaseError::fail(format!("{once}: {e}")))?;
        prop_assert_eq!(&once, &twice);
        prop_assert_eq!(parse(&once).ok(), parse(&text).ok());
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        if let Ok(once) = normalize(&text) {
            prop_assert_eq!(normalize(&once).ok(), Some(once));
        }
        let _ = parse_text_array(&text);
    }

    #[test]
    fn json_like_strings_never_panic(text in "[\\[\\]{}\",:0-9a-z.eE+\\- \\\\u]{0,40}") {
        if let Ok(once) = normalize(&text) {
            prop_assert_eq!(normalize(&once).ok(), Some(once));
        }
    }
}

// ---- SQL: casts ----

#[tokio::test]
async fn casts() {
    check(&[
        (r#"select '{"b":1, "a": [1,2.50,1e2]}'::jsonb"#, r#"{"a": [1, 2.5, 100.0], "b": 1}"#),
        (r#"select jsonb '{"b":1,"a":2}'"#, r#"{"a": 2, "b": 1}"#),
        (r#"select cast('[1,  2]' as jsonb), '"x"'::json"#, r#"[1, 2] | "x""#),
        ("select 'nope'::jsonb", "ERROR: invalid input syntax for type json"),
        ("select ''::jsonb", "ERROR: invalid input syntax for type json"),
        ("select NULL::jsonb", "NULL"),
        (r#"select '{"a":1}'::jsonb::text, '"s"'::jsonb::varchar"#, r#"{"a": 1} | "s""#),
        ("select ('1'::jsonb)::int", "1"),
        (r#"select ('"a"'::jsonb)::int"#, "ERROR: cannot cast jsonb string to type integer"),
        ("select ('null'::jsonb)::int", "ERROR: cannot cast jsonb null to type integer"),
        ("select ('{}'::jsonb)::bigint", "ERROR: cannot cast jsonb object to type bigint"),
        ("select ('1.5'::jsonb)::int as a, ('-2.5'::jsonb)::smallint as b, ('7'::jsonb)::bigint as c", "2 | -3 | 7"),
        ("select ('300000'::jsonb)::smallint", "ERROR: smallint out of range"),
        ("select ('1e20'::jsonb)::bigint", "ERROR: bigint out of range"),
        ("select ('true'::jsonb)::bool as a, ('false'::jsonb)::boolean as b", "true | false"),
        (r#"select ('"true"'::jsonb)::bool"#, "ERROR: cannot cast jsonb string to type boolean"),
        ("select ('2.5'::jsonb)::float8 as a, ('1.5'::jsonb)::real as b", "2.5 | 1.5"),
        ("select ('2.5'::jsonb)::decimal as a, ('1e2'::jsonb)::numeric(5,1) as b", "2.5000000000 | 100.0"),
        ("select '1e29'::jsonb::decimal", "ERROR: numeric field overflow"),
        ("select ('[1]'::jsonb)::decimal", "ERROR: cannot cast jsonb array to type numeric"),
        ("select 1::jsonb", "ERROR: cannot cast type bigint to jsonb"),
        ("select '1'::jsonb::date", "ERROR: cannot cast type jsonb to date"),
        ("select (NULL::jsonb)::int", "NULL"),
    ])
    .await;
}

#[tokio::test]
async fn table_columns_and_coercion() {
    let ctx = new_context();
    check_in(
        &ctx,
        &[
            ("create table t (id int, j jsonb, s varchar)", ""),
            (
                r#"insert into t values (1, '{"b":1,"a":{"c":[1,2]}}', '{"x" : 1}'), (2, '[1,"two",null]', 'not json'), (3, null, null), (4, '"str"', '1')"#,
                "4",
            ),
            ("select id, j from t order by id", "1 | {\"a\": {\"c\": [1, 2]}, \"b\": 1}\n2 | [1, \"two\", null]\n3 | NULL\n4 | \"str\""),
            (r#"select id from t where j = '{"a":{"c":[1,2]},"b":1}'"#, "1"),
            (r#"select id from t where j = '"str"'::jsonb"#, "4"),
            ("select id from t where j @> '[1]' order by id", "2"),
            ("select id, j ->> 'b', j -> 1 from t order by id", "1 | 1 | NULL\n2 | NULL | \"two\"\n3 | NULL | NULL\n4 | NULL | NULL"),
            ("select s::jsonb from t where id = 1", r#"{"x": 1}"#),
            ("select s::jsonb from t", "ERROR: invalid input syntax for type json"),
            ("select coalesce(j, '{}') from t where id = 3", "{}"),
            ("select count(*) from t group by j order by 1", "1\n1\n1\n1"),
            ("create table u (j jsonb)", ""),
            ("insert into u select s from t where id in (1, 4)", "2"),
            ("select j from u order by j", "1\n{\"x\": 1}"),
            ("insert into u values ('{bad')", "ERROR: invalid input syntax for type json"),
        ],
    )
    .await;
}

// ---- SQL: operators ----

#[tokio::test]
async fn access_operators() {
    check(&[
        (r#"select '{"a":1}'::jsonb -> 'a'"#, "1"),
        (r#"select '{"a":{"b":"x"}}'::jsonb -> 'a'"#, r#"{"b": "x"}"#),
        (r#"select '{"a":1}'::jsonb -> 'missing'"#, "NULL"),
        (r#"select '{"a":1}'::jsonb -> 0"#, "NULL"),
        ("select '[1,2,3]'::jsonb -> 0", "1"),
        ("select '[1,2,3]'::jsonb -> -1", "3"),
        ("select '[1,2,3]'::jsonb -> -3", "1"),
        ("select '[1,2,3]'::jsonb -> 3", "NULL"),
        ("select '[1,2,3]'::jsonb -> -4", "NULL"),
        ("select '[1,2,3]'::jsonb -> 'a'", "NULL"),
        ("select '1'::jsonb -> 0", "NULL"),
        (r#"select '{"a":[1,2,3]}'::jsonb -> 'a' -> 1"#, "2"),
        (r#"select '{"a":"x"}'::jsonb ->> 'a'"#, "x"),
        (r#"select '{"a":"x\"y"}'::jsonb ->> 'a'"#, "x\"y"),
        (r#"select '{"a":null}'::jsonb ->> 'a'"#, "NULL"),
        (r#"select '{"a":null}'::jsonb -> 'a'"#, "null"),
        (
            r#"select '{"a":[1,{"b":true}]}'::jsonb ->> 'a'"#,
            r#"[1, {"b": true}]"#,
        ),
        (
            r#"select '["a",2]'::jsonb ->> 0, '["a",2]'::jsonb ->> -1"#,
            "a | 2",
        ),
        (r#"select '{"a": 1}' -> 'a', '[5]' ->> 0"#, "1 | 5"),
        (
            r#"select NULL::jsonb -> 'a', '{"a":1}'::jsonb -> NULL::varchar"#,
            "NULL | NULL",
        ),
        (r#"select '{"a":{"b":[1,2]}}'::jsonb #> '{a,b,1}'"#, "2"),
        (
            r#"select '{"a":{"b":[1,"x"]}}'::jsonb #>> array['a','b','1']"#,
            "x",
        ),
        (r#"select '{"a":{"b":[1,"x"]}}'::jsonb #>> '{a,b,-1}'"#, "x"),
        (r#"select '{"a":1}'::jsonb #> '{}'"#, r#"{"a": 1}"#),
        (
            r#"select '{"a":1}'::jsonb #> '{b}', '[1]'::jsonb #> '{x}', '[1]'::jsonb #> '{5}'"#,
            "NULL | NULL | NULL",
        ),
        (r#"select '{"a":{"b":null}}'::jsonb #>> '{a,b}'"#, "NULL"),
        (
            r#"select '{"a":1}'::jsonb #> '{a'"#,
            "ERROR: malformed array literal",
        ),
    ])
    .await;
}

#[tokio::test]
async fn containment_and_existence() {
    check(&[
        (r#"select '{"a":1,"b":2}'::jsonb @> '{"a":1}'"#, "true"),
        (r#"select '{"a":1,"b":2}'::jsonb @> '{"a":2}'"#, "false"),
        (r#"select '{"a":1}'::jsonb <@ '{"a":1,"b":2}'::jsonb"#, "true"),
        (r#"select '{"a":{"b":[1,2,3]}}'::jsonb @> '{"a":{"b":[3,1]}}'"#, "true"),
        (r#"select '[1,2,[3]]'::jsonb @> '[[3]]', '[1,2,[3]]'::jsonb @> '[3]'"#, "true | false"),
        (r#"select '[1,2]'::jsonb @> '1', '1'::jsonb @> '[1]', '"a"'::jsonb @> '"a"'"#, "true | false | true"),
        (r#"select '{"a":1}'::jsonb @> '{"a":1.0}'"#, "true"),
        (r#"select '[{"a":1,"b":2}]'::jsonb @> '[{"a":1}]'"#, "true"),
        (r#"select jsonb_contains('{"a":1}', '{}'), jsonb_contained('{}', '{"a":1}')"#, "true | true"),
        (r#"select NULL::jsonb @> '{}'"#, "NULL"),
        (r#"select '{"a":1}'::jsonb ? 'a', '{"a":1}'::jsonb ? 'b'"#, "true | false"),
        (r#"select '["a","b"]'::jsonb ? 'b', '[1]'::jsonb ? '1', '"s"'::jsonb ? 's'"#, "true | false | true"),
        (r#"select '{"a":{"b":1}}'::jsonb ? 'b'"#, "false"),
        (r#"select '{"a":1}'::jsonb ?| array['x','a'], '{"a":1}'::jsonb ?| array['x']"#, "true | false"),
        (r#"select '{"a":1,"b":2}'::jsonb ?& array['a','b'], '{"a":1}'::jsonb ?& array['x','a']"#, "true | false"),
        (r#"select '{"a":1}'::jsonb ?| '{x,a}', '{"a":1}'::jsonb ?& '{}'"#, "true | true"),
        (r#"select jsonb_exists('{"a":1}', 'a'), jsonb_exists_any('{"a":1}', array['a']), jsonb_exists_all('{"a":1}', array['a','b'])"#, "true | true | false"),
        (r#"select '{"a":1}'::jsonb ? NULL::varchar"#, "NULL"),
    ])
    .await;
}

#[tokio::test]
async fn concat_and_delete() {
    check(&[
        (r#"select '{"a":1}'::jsonb || '{"b":2}'::jsonb"#, r#"{"a": 1, "b": 2}"#),
        (r#"select '{"a":1,"b":1}'::jsonb || '{"b":2}'"#, r#"{"a": 1, "b": 2}"#),
        ("select '[1]'::jsonb || '[2,3]'::jsonb", "[1, 2, 3]"),
        ("select '[1]'::jsonb || '2'::jsonb, '1'::jsonb || '[2]'::jsonb, '1'::jsonb || '2'::jsonb", "[1, 2] | [1, 2] | [1, 2]"),
        (r#"select '{"a":1}'::jsonb || '[2]'::jsonb"#, r#"[{"a": 1}, 2]"#),
        (r#"select '{"a":1}'::jsonb || 'x'"#, "ERROR: invalid input syntax for type json"),
        (r#"select '{"a":1}'::jsonb || NULL::jsonb"#, "NULL"),
        (r#"select '{"a":1}'::jsonb::text || 'x'"#, r#"{"a": 1}x"#),
        (r#"select '{"a":1,"b":2}'::jsonb - 'a', '{"a":1}'::jsonb - 'x'"#, r#"{"b": 2} | {"a": 1}"#),
        (r#"select '["a","b","a",1]'::jsonb - 'a'"#, r#"["b", 1]"#),
        ("select '[1,2,3]'::jsonb - 1, '[1,2,3]'::jsonb - -1, '[1,2,3]'::jsonb - 9", "[1, 3] | [1, 2] | [1, 2, 3]"),
        (r#"select '{"a":1,"b":2,"c":3}'::jsonb - array['a','c']"#, r#"{"b": 2}"#),
        (r#"select '{"a":1}'::jsonb - 0"#, "ERROR: cannot delete from object using integer index"),
        (r#"select '"a"'::jsonb - 'a'"#, "ERROR: cannot delete from scalar"),
        (r#"select '{"a":{"b":1,"c":2}}'::jsonb #- '{a,b}'"#, r#"{"a": {"c": 2}}"#),
        (r#"select '[1,[2,3]]'::jsonb #- '{1,-1}', '{"a":1}'::jsonb #- '{x,y}'"#, r#"[1, [2]] | {"a": 1}"#),
        (r#"select '1'::jsonb #- '{a}'"#, "ERROR: cannot delete path in scalar"),
    ])
    .await;
}

// ---- SQL: functions ----

#[tokio::test]
async fn inspection_functions() {
    check(&[
        (
            r#"select jsonb_typeof(x) from (values ('1'::jsonb), ('"s"'), ('[]'), ('{}'), ('true'), ('null'), (NULL)) t(x)"#,
            "number\nstring\narray\nobject\nboolean\nnull\nNULL",
        ),
        (r#"select jsonb_typeof('{"a":1}')"#, "object"),
        ("select jsonb_array_length('[1,[2,3],{}]'::jsonb), jsonb_array_length('[]'::jsonb)", "3 | 0"),
        ("select jsonb_array_length('{}'::jsonb)", "ERROR: cannot get array length of a non-array"),
        ("select jsonb_array_length('1'::jsonb)", "ERROR: cannot get array length of a scalar"),
        ("select jsonb_array_length(NULL)", "NULL"),
        (r#"select jsonb_extract_path('{"a":{"b":[1,2]}}'::jsonb, 'a', 'b', '0')"#, "1"),
        (r#"select jsonb_extract_path_text('{"a":{"b":"s"}}'::jsonb, 'a', 'b')"#, "s"),
        (r#"select jsonb_extract_path('{"a":1}'::jsonb, 'x'), jsonb_extract_path('{"a":1}'::jsonb, NULL)"#, "NULL | NULL"),
        (r#"select jsonb_extract_path('{"a":1}'::jsonb)"#, r#"{"a": 1}"#),
        (r#"select jsonb_pretty('{"a":[1,{"b":2}]}'::jsonb)"#, "{\n    \"a\": [\n        1,\n        {\n            \"b\": 2\n        }\n    ]\n}"),
        (r#"select jsonb_strip_nulls('{"a":null,"b":[null,{"c":null,"d":1}]}'::jsonb)"#, r#"{"b": [null, {"d": 1}]}"#),
        ("select jsonb_strip_nulls('null'::jsonb)", "null"),
        ("select jsonb_typeof(1)", "ERROR: does not accept an argument of type Int64"),
    ])
    .await;
}

#[tokio::test]
async fn construction_functions() {
    check(&[
        (r#"select jsonb_build_object('b', 1, 'a', 'x', 'c', null, 'd', 1.5, 'e', true)"#, r#"{"a": "x", "b": 1, "c": null, "d": 1.5, "e": true}"#),
        ("select jsonb_build_object()", "{}"),
        ("select jsonb_build_object('a', 1, 'a', 2)", r#"{"a": 2}"#),
        ("select jsonb_build_object(1, 2, true, 3)", r#"{"1": 2, "true": 3}"#),
        (r#"select jsonb_build_object('j', '{"x":1}'::jsonb, 'l', array[1,2])"#, r#"{"j": {"x": 1}, "l": [1, 2]}"#),
        ("select jsonb_build_object('a')", "ERROR: argument list must have even number of elements"),
        ("select jsonb_build_object(null, 1)", "ERROR: argument 1: key must not be null"),
        ("select jsonb_build_array(1, 'a', null, true, '[1]'::jsonb)", r#"[1, "a", null, true, [1]]"#),
        ("select jsonb_build_array()", "[]"),
        ("select to_jsonb(1) as a, to_jsonb('x') as b, to_jsonb(1.5) as c, to_jsonb(true) as d", r#"1 | "x" | 1.5 | true"#),
        ("select to_jsonb(null::int)", "NULL"),
        (r#"select to_jsonb('a"b'), to_jsonb('{"a":1}'::jsonb)"#, r#""a\"b" | {"a": 1}"#),
        ("select to_jsonb(array[1,2]), to_jsonb(array['a',null])", r#"[1, 2] | ["a", null]"#),
        ("select to_jsonb(named_struct('v', 1, 'k', 'x', 'n', null))", r#"{"k": "x", "n": null, "v": 1}"#),
        ("select to_jsonb(2::real) as a, to_jsonb(0.1::real) as b, to_jsonb(2.5::double) as c, to_jsonb(3::decimal) as d", "2.0 | 0.1 | 2.5 | 3.0"),
        ("select to_jsonb(cast('NaN' as double)), to_jsonb(cast('-inf' as double))", r#""NaN" | "-Infinity""#),
        (
            "select to_jsonb('2020-01-01'::date) as a, to_jsonb('2020-01-01 01:02:03.5'::timestamp) as b, to_jsonb('1 day 01:00:00'::interval) as c",
            r#""2020-01-01" | "2020-01-01T01:02:03.5" | "1 day 01:00:00""#,
        ),
        ("select to_jsonb('14 months 2 days'::interval)", r#""1 year 2 mons 2 days""#),
        ("select to_jsonb('2019-01-01 01:00:00+00'::timestamptz)", r#""2019-01-01T01:00:00+00:00""#),
        ("select to_jsonb('01:02:03.25'::time)", r#""01:02:03.25""#),
        ("select to_jsonb(x'6162'::bytea)", r#""\\x6162""#),
    ])
    .await;
}

#[tokio::test]
async fn jsonb_set_function() {
    check(&[
        (r#"select jsonb_set('{"a":[1,2]}'::jsonb, '{a,0}', '"x"'::jsonb)"#, r#"{"a": ["x", 2]}"#),
        (r#"select jsonb_set('{"a":1}'::jsonb, array['b'], '2'::jsonb)"#, r#"{"a": 1, "b": 2}"#),
        (r#"select jsonb_set('{"a":1}'::jsonb, array['b'], '2'::jsonb, false)"#, r#"{"a": 1}"#),
        (r#"select jsonb_set('{"a":1}', '{a}', '[2]')"#, r#"{"a": [2]}"#),
        ("select jsonb_set('[1,2]'::jsonb, '{5}', '3'), jsonb_set('[1,2]'::jsonb, '{-5}', '0'), jsonb_set('[1,2]', '{-1}', '9')", "[1, 2, 3] | [0, 1, 2] | [1, 9]"),
        (r#"select jsonb_set('{"a":{"b":1}}', '{a,c}', '2'), jsonb_set('{"a":1}', '{x,y}', '2')"#, r#"{"a": {"b": 1, "c": 2}} | {"a": 1}"#),
        ("select jsonb_set('1'::jsonb, '{a}', '2')", "ERROR: cannot set path in scalar"),
        ("select jsonb_set('[1]'::jsonb, '{x}', '2')", r#"ERROR: path element at position 1 is not an integer: "x""#),
        (r#"select jsonb_set('{"a":1}', array['a', NULL], '2')"#, "ERROR: path element at position 2 is null"),
        (r#"select jsonb_set('{"a":1}', array['b', NULL], '2')"#, r#"{"a": 1}"#),
        (r#"select jsonb_set('{"a":{}}', array['a', NULL], '2')"#, "ERROR: path element at position 2 is null"),
        (r#"select jsonb_set('{"a":1}', '{a}', NULL::jsonb)"#, "NULL"),
    ])
    .await;
}

#[tokio::test]
async fn set_returning_functions() {
    check(&[
        (r#"select jsonb_array_elements('[1,"a",{"b":2},null]'::jsonb)"#, "1\n\"a\"\n{\"b\": 2}\nnull"),
        (r#"select jsonb_array_elements_text('[1,"a",null,[2]]'::jsonb) as e"#, "1\na\nNULL\n[2]"),
        (r#"select jsonb_object_keys('{"bb":1,"a":2,"c":3}'::jsonb)"#, "a\nc\nbb"),
        (r#"select jsonb_each('{"b":1,"a":"x"}'::jsonb)"#, "{key: a, value: \"x\"}\n{key: b, value: 1}"),
        (r#"select jsonb_each_text('{"a":"x"}'::jsonb)"#, "{key: a, value: x}"),
        ("select jsonb_array_elements('[]'::jsonb)", ""),
        ("select jsonb_array_elements(NULL::jsonb)", ""),
        (r#"select jsonb_array_elements('{"a":1}'::jsonb)"#, "ERROR: cannot extract elements from an object"),
        ("select jsonb_array_elements('1'::jsonb)", "ERROR: cannot extract elements from a scalar"),
        ("select jsonb_object_keys('[1]'::jsonb)", "ERROR: cannot call jsonb_object_keys on an array"),
        ("select jsonb_each('1'::jsonb)", "ERROR: cannot deconstruct a scalar as an object"),
        (
            "select x, jsonb_array_elements('[1,2]'::jsonb) from (values (10),(20)) t(x) order by x desc",
            "20 | 1\n20 | 2\n10 | 1\n10 | 2",
        ),
        (
            r#"select v ->> 'a' from (select jsonb_array_elements('[{"a":1},{"a":"z"}]'::jsonb) as v) s"#,
            "1\nz",
        ),
        (r#"select jsonb_array_elements('[{"a":1}]'::jsonb) -> 'a'"#, "1"),
        (
            "select jsonb_array_elements('[1,2,3]'::jsonb), jsonb_array_elements_text('[\"a\"]'::jsonb)",
            "1 | a\n2 | NULL\n3 | NULL",
        ),
        ("select count(*) from (select jsonb_array_elements('[1,2,3]'::jsonb))", "3"),
        ("select 1 where jsonb_array_elements('[1]'::jsonb) = '1'", "ERROR: set-returning function jsonb_array_elements is not allowed here"),
        (r#"select * from jsonb_each('{"b":1,"a":"x"}')"#, "a | \"x\"\nb | 1"),
        (r#"select key, value from jsonb_each_text('{"a":"x","b":null}')"#, "a | x\nb | NULL"),
        ("select * from jsonb_array_elements('[1,[2]]')", "1\n[2]"),
        (r#"select * from jsonb_array_elements_text('["a"]')"#, "a"),
        (r#"select * from jsonb_object_keys('{"k":1}')"#, "k"),
        ("select * from jsonb_array_elements('[1')", "ERROR: invalid input syntax for type json"),
    ])
    .await;
}

// ---- SQL: aggregates (RisingWave e2e batch/aggregate/jsonb_agg.slt.part) ----

#[tokio::test]
async fn aggregates() {
    let ctx = new_context();
    check_in(
        &ctx,
        &[
            ("create table t(v1 boolean, v2 int, v3 varchar, v4 jsonb, v5 timestamp, v6 interval)", ""),
            (
                "insert into t values (null, null, null, null, null, null), \
                 (false, 1, 'ccc', 'null', '2019-01-01 01:00:00', '1 day'), \
                 (true, 2, 'bbb', 'false', '2020-01-01 02:00:00', '2 days'), \
                 (true, 3, 'aaa', '{}', '2021-01-01 03:00:00', '3 days')",
                "4",
            ),
            ("select jsonb_agg(v1 order by v1) from t", "[false, true, true, null]"),
            ("select jsonb_agg(v2::int2 order by v2) from t", "[1, 2, 3, null]"),
            ("select jsonb_agg(v2::int8 order by v2) from t", "[1, 2, 3, null]"),
            ("select jsonb_agg(v2::float4 order by v2) from t", "[1.0, 2.0, 3.0, null]"),
            ("select jsonb_agg(v2::float8 order by v2) from t", "[1.0, 2.0, 3.0, null]"),
            ("select jsonb_agg(v2::decimal order by v2) from t", "[1.0, 2.0, 3.0, null]"),
            ("select jsonb_agg(v3 order by v3) from t", r#"["aaa", "bbb", "ccc", null]"#),
            ("select jsonb_agg(v4 order by v4) from t", "[false, null, {}, null]"),
            ("select jsonb_agg(v5::date order by v5) from t", r#"["2019-01-01", "2020-01-01", "2021-01-01", null]"#),
            ("select jsonb_agg(v5::time order by v5) from t", r#"["01:00:00", "02:00:00", "03:00:00", null]"#),
            (
                "select jsonb_agg(v5::timestamp order by v5) from t",
                r#"["2019-01-01T01:00:00", "2020-01-01T02:00:00", "2021-01-01T03:00:00", null]"#,
            ),
            ("select jsonb_agg(v6 order by v6) from t", r#"["1 day", "2 days", "3 days", null]"#),
            ("select jsonb_agg(v2 order by v3 desc) from t", "[null, 1, 2, 3]"),
            ("select jsonb_agg(v2 order by v3) filter (where v3 >= 'bbb') from t", "[2, 1]"),
            ("select jsonb_agg(v2) filter (where v2 > 5) from t", "NULL"),
            ("select jsonb_agg(v2 order by v2) as a from t where v2 is not null group by v1 order by a", "[1]\n[2, 3]"),
            ("select jsonb_object_agg(v3, v1) from t", "ERROR: field name must not be null"),
            (
                "select jsonb_object_agg(v3, v1 order by v3) filter (where v3 is not null) from t",
                r#"{"aaa": true, "bbb": true, "ccc": false}"#,
            ),
            (
                "select jsonb_object_agg(v3, v2::int2 order by v3) filter (where v3 is not null) from t",
                r#"{"aaa": 3, "bbb": 2, "ccc": 1}"#,
            ),
            (
                "select jsonb_object_agg(v3, v2::float8 order by v3) filter (where v3 is not null) from t",
                r#"{"aaa": 3.0, "bbb": 2.0, "ccc": 1.0}"#,
            ),
            (
                "select jsonb_object_agg(v3, v2::decimal order by v3) filter (where v3 is not null) from t",
                r#"{"aaa": 3.0, "bbb": 2.0, "ccc": 1.0}"#,
            ),
            (
                "select jsonb_object_agg(v3, v3 order by v3) filter (where v3 is not null) from t",
                r#"{"aaa": "aaa", "bbb": "bbb", "ccc": "ccc"}"#,
            ),
            (
                "select jsonb_object_agg(v3, v4 order by v3) filter (where v3 is not null) from t",
                r#"{"aaa": {}, "bbb": false, "ccc": null}"#,
            ),
            (
                "select jsonb_object_agg(v3, v5::date order by v3) filter (where v3 is not null) from t",
                r#"{"aaa": "2021-01-01", "bbb": "2020-01-01", "ccc": "2019-01-01"}"#,
            ),
            (
                "select jsonb_object_agg(v3, v6 order by v3) filter (where v3 is not null) from t",
                r#"{"aaa": "3 days", "bbb": "2 days", "ccc": "1 day"}"#,
            ),
            ("select jsonb_object_agg(v2, v3 order by v2 desc) filter (where v2 < 3) from t", r#"{"1": "ccc", "2": "bbb"}"#),
            ("select jsonb_object_agg(v3, v2) from t where false", "NULL"),
            (
                "select jsonb_agg(v2) over (partition by v1 order by v2) from t where v3 is not null order by v2",
                "[1]\n[2]\n[2, 3]",
            ),
            (
                "select jsonb_object_agg(v3, v2) over (order by v2 rows between 1 preceding and current row) from t where v3 is not null order by v2",
                "{\"ccc\": 1}\n{\"bbb\": 2, \"ccc\": 1}\n{\"aaa\": 3, \"bbb\": 2}",
            ),
            ("select jsonb_agg(x) from (select jsonb_array_elements('[3,1,2]'::jsonb) as x)", "[3, 1, 2]"),
            // RisingWave e2e streaming/aggregate/jsonb_agg.slt: structs and arrays of structs.
            (
                "select jsonb_agg(s order by k) from (values (2, named_struct('key', 3, 'val', make_array(1, 2, 3))), (1, null)) t(k, s)",
                r#"[null, {"key": 3, "val": [1, 2, 3]}]"#,
            ),
            (
                "select jsonb_object_agg(k, s) from (values ('ccc', make_array(named_struct('key', 21, 'val', 'v21'))), ('bbb', null)) t(k, s)",
                r#"{"bbb": null, "ccc": [{"key": 21, "val": "v21"}]}"#,
            ),
        ],
    )
    .await;
}

/// RisingWave e2e batch/types/jsonb_issue_23376: big integers become doubles.
#[tokio::test]
async fn big_numbers_from_text_column() {
    let ctx = new_context();
    check_in(
        &ctx,
        &[
            ("create table t (v varchar)", ""),
            (
                r#"insert into t values ('{"":114514191981011451419198101145141919810}'), ('{"":1926081719260817192608171926081719260817}'), ('{"":555555155555572055555781056}')"#,
                "3",
            ),
            (
                "select v::jsonb as v from t order by 1",
                "{\"\": 1.1451419198101145e38}\n{\"\": 1.9260817192608173e39}\n{\"\": 5.5555515555557204e26}",
            ),
            (
                "select t1.v from (select v::jsonb as v from t) t1, (select v::jsonb as v from t) t2 where t1.v = t2.v order by 1",
                "{\"\": 1.1451419198101145e38}\n{\"\": 1.9260817192608173e39}\n{\"\": 5.5555515555557204e26}",
            ),
        ],
    )
    .await;
}

/// RisingWave e2e: jsonb in arithmetic is an error.
#[tokio::test]
async fn jsonb_is_not_a_number() {
    check(&[
        ("select NULL + '1'::jsonb", "ERROR:"),
        ("select '1'::jsonb + 1", "ERROR:"),
        (
            "select * from generate_series(0,3,1) as t(v) order by v limit '1'::jsonb",
            "ERROR:",
        ),
    ])
    .await;
}

#[tokio::test]
async fn mixing_with_text_and_other_functions() {
    check(&[
        (
            r#"select concat('a', '{"x":1}'::jsonb, 1)"#,
            r#"a{"x": 1}1"#,
        ),
        (
            r#"select coalesce(NULL::jsonb, '{"b":1, "a":2}')"#,
            r#"{"a": 2, "b": 1}"#,
        ),
        (
            r#"select case when true then '{"b":1,"a":2}' else '{}'::jsonb end"#,
            r#"{"a": 2, "b": 1}"#,
        ),
        (r#"select nullif('{"a":1}'::jsonb, '{ "a":1 }')"#, "NULL"),
        (
            r#"select array['{"b":1,"a":2}'::jsonb, '[1]']"#,
            r#"[{"a": 2, "b": 1}, [1]]"#,
        ),
        (
            r#"select array['{"b":1,"a":2}', NULL]::jsonb[]"#,
            r#"[{"a": 2, "b": 1}, ]"#,
        ),
        (
            r#"select array['nope']::jsonb[]"#,
            "ERROR: invalid input syntax for type json",
        ),
        (r#"select '{"a":1}'::jsonb || 'x'::varchar"#, r#"{"a": 1}x"#),
        (
            r#"select '{"b":1}'::jsonb union all select '{"a":  2}'"#,
            "{\"b\": 1}\n{\"a\": 2}",
        ),
        (r#"select '{"a":1}'::jsonb in ('{"a": 1}', '[]')"#, "true"),
    ])
    .await;
}
