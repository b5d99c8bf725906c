use arrow::array::Array;
use arrow::util::display::array_value_to_string;

use crate::new_context;

/// Runs a query and returns every cell, rows joined by `\n` and columns by ` | `, NULL as
/// `NULL`, or `ERROR: …`.
async fn q(sql: &str) -> String {
    let ctx = new_context();
    let result = async { ctx.sql(sql).await?.collect().await }.await;
    match result {
        Err(e) => format!("ERROR: {e}"),
        Ok(batches) => {
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
    }
}

async fn script(ctx: &datafusion::prelude::SessionContext, sql: &str) -> String {
    let result = async { ctx.sql(sql).await?.collect().await }.await;
    match result {
        Err(e) => format!("ERROR: {e}"),
        Ok(batches) => {
            let mut rows = Vec::new();
            for b in &batches {
                for r in 0..b.num_rows() {
                    let cells: Vec<String> = b
                        .columns()
                        .iter()
                        .map(|c| if c.is_null(r) { "NULL".to_string() } else { array_value_to_string(c, r).unwrap_or_else(|e| format!("<{e}>")) })
                        .collect();
                    rows.push(cells.join(" | "));
                }
            }
            rows.join("\n")
        }
    }
}

#[tokio::test]
async fn probe_e2e() {
    let ctx = new_context();
    let stmts = [
        "create table t(v1 boolean, v2 int, v3 varchar, v4 jsonb, v5 timestamp, v6 interval)",
        "insert into t values (null, null, null, null, null, null), (false, 1, 'ccc', 'null',  '2019-01-01 01:00:00', '1 day'), (true,  2, 'bbb', 'false', '2020-01-01 02:00:00', '2 days'), (true,  3, 'aaa', '{}',    '2021-01-01 03:00:00', '3 days')",
        "select * from t",
        "select jsonb_agg(v1 order by v1) from t",
        "select jsonb_agg(v2::int2 order by v2) from t",
        "select jsonb_agg(v2::float4 order by v2) from t",
        "select jsonb_agg(v2::decimal order by v2) from t",
        "select jsonb_agg(v3::bytea order by v3) from t",
        "select jsonb_agg(v4 order by v4) from t",
        "select jsonb_agg(v5::date order by v5) from t",
        "select jsonb_agg(v5::time order by v5) from t",
        "select jsonb_agg(v5::timestamp order by v5) from t",
        "select jsonb_agg(v5::timestamptz order by v5) from t",
        "select jsonb_agg(v6 order by v6) from t",
        "select jsonb_agg(t.* order by v2) from t",
        "select jsonb_agg(v2 order by v3 desc) from t",
        "select jsonb_agg(v2 order by v3) filter (where v3 >= 'bbb') from t",
        "select jsonb_object_agg(v3, v1) from t",
        "select jsonb_object_agg(v3, v1 order by v3) filter (where v3 is not null) from t",
        "select jsonb_object_agg(v3, v2::float8 order by v3) filter (where v3 is not null) from t",
        "select jsonb_object_agg(v3, v4 order by v3) filter (where v3 is not null) from t",
        "select jsonb_object_agg(v3, v5::timestamptz order by v3) filter (where v3 is not null) from t",
        "select jsonb_agg(distinct v1) from t",
        "select v4, v4 -> 'a', jsonb_typeof(v4) from t order by v3",
        "select v3, jsonb_array_elements(jsonb_build_array(v2, v3)) from t order by v3",
        "create table s (v varchar)",
        "insert into s values ('{\"\":114514191981011451419198101145141919810}'), ('{\"\":1926081719260817192608171926081719260817}'), ('{\"\":555555155555572055555781056}')",
        "select v::jsonb as v from s",
        "select a.v::jsonb from s a, s b where a.v::jsonb = b.v::jsonb",
        "select v4 from t where v4 = 'false'",
        "select v4 from t where v4 @> '{}'",
        "select count(*) from t group by v4 order by 1",
        "select null + '1'::jsonb",
        "select '1'::jsonb + 1",
        "select jsonb_agg(v2) over (order by v2) from t",
        "select array_agg(v3::bytea order by v3) from t",
        "select array_agg(v5::timestamptz) from t",
        "select jsonb_agg(v2) over (partition by v1 order by v2), jsonb_object_agg(v3, v2) over (order by v2 rows between 1 preceding and current row) from t where v3 is not null order by v2",
        r#"select jsonb_typeof(x), x from (values ('1'::jsonb), ('"s"'), ('[]'), ('{}'), ('true'), ('null')) t(x)"#,
        "select jsonb_array_length('{}'::jsonb)",
        "select jsonb_array_length('1'::jsonb)",
        "select jsonb_object_keys('[1]'::jsonb)",
        r#"select '{"a":[1,2,3]}'::jsonb -> 'a' -> 1, '{"a":[1,2,3]}'::jsonb -> 'a' ->> -1"#,
        r#"select '[{"a":1}]'::jsonb @> '[{"a":1}]', '[1,2]'::jsonb @> '1', '{"a":[1,2]}'::jsonb @> '{"a":[2]}', '1'::jsonb @> '[1]'"#,
        r#"select '[1,2]'::jsonb - -1, '"a"'::jsonb - 'a'"#,
        r#"select '{"a":1}'::jsonb - 0"#,
        r#"select '{"a":1,"b":2,"c":3}'::jsonb - array['a','c']"#,
        r#"select jsonb_set('[1,2]'::jsonb, '{5}', '3'), jsonb_set('[1,2]'::jsonb, '{-5}', '0'), jsonb_set('{"a":{"b":1}}', '{a,c}', '2')"#,
        "select jsonb_set('1'::jsonb, '{a}', '2')",
        "select jsonb_set('[1]'::jsonb, '{x}', '2')",
        r#"select '[1,2]'::jsonb #> '{x}', '{"a":1}'::jsonb #> '{}', '[[1]]'::jsonb #> '{0,0}'"#,
        "select jsonb_build_object('a')",
        "select jsonb_build_object(null, 1)",
        "select jsonb_build_object(1, 2, true, 3)",
        "select to_jsonb('NaN'::double precision), to_jsonb(0.1::real), to_jsonb(-0.0::double precision), to_jsonb(1e300::double precision)",
        "select '[1, 2'::jsonb",
        r#"select '{"a" 1}'::jsonb"#,
        "select '01'::jsonb",
        r#"select '"\ud83d\ude00"'::jsonb, '"\ud83d"'::jsonb"#,
        "select ''::jsonb",
        "select '  [ ]  '::jsonb, ' {} '::jsonb, '-0'::jsonb, '-1.5E-3'::jsonb, '1E400'::jsonb",
        "select ('300000'::jsonb)::smallint",
        "select ('null'::jsonb)::int",
        r#"select ('1.5'::jsonb)::real as a, ('"x"'::jsonb)::bool"#,
        "select '1'::jsonb::date",
        "explain select '{\"a\":1}'::jsonb -> 'a'",
    ];
    for sql in stmts {
        println!("{sql}\n  => {}", script(&ctx, sql).await.replace('\n', "\n     "));
    }
}

#[tokio::test]
async fn probe() {
    let queries = [
        r#"select '{"b":1, "a": [1,2.50,1e2]}'::jsonb"#,
        r#"select '{"a":1}'::jsonb -> 'a'"#,
        r#"select '[1,2,3]'::jsonb -> -1"#,
        r#"select '[1,2,3]'::jsonb -> 5"#,
        r#"select '{"a":"x"}'::jsonb ->> 'a'"#,
        r#"select '{"a":null}'::jsonb ->> 'a'"#,
        r#"select '{"a":{"b":[1,2]}}'::jsonb #> '{a,b,1}'"#,
        r#"select '{"a":{"b":[1,"x"]}}'::jsonb #>> array['a','b','1']"#,
        r#"select '{"a":1,"b":2}'::jsonb @> '{"a":1}'"#,
        r#"select '{"a":1}'::jsonb <@ '{"a":1,"b":2}'::jsonb"#,
        r#"select '{"a":1}'::jsonb ? 'a'"#,
        r#"select '{"a":1}'::jsonb ?| array['x','a']"#,
        r#"select '{"a":1}'::jsonb ?& array['x','a']"#,
        r#"select '{"a":1,"b":2}'::jsonb - 'a'"#,
        r#"select '[1,2,3]'::jsonb - 1"#,
        r#"select '{"a":1}'::jsonb || '{"b":2}'::jsonb"#,
        r#"select '{"a":1}'::jsonb || '{"b":2}'"#,
        r#"select '[1]'::jsonb || '2'::jsonb"#,
        r#"select '{"a":1}'::jsonb = '{ "a" : 1 }'::jsonb"#,
        r#"select ('1'::jsonb)::int"#,
        r#"select ('"a"'::jsonb)::int"#,
        r#"select ('1.5'::jsonb)::int, ('true'::jsonb)::bool, ('2.5'::jsonb)::float8, ('2.5'::jsonb)::decimal"#,
        r#"select '1e29'::jsonb::decimal"#,
        r#"select '{"a":1}'::jsonb::text"#,
        r#"select 'nope'::jsonb"#,
        r#"select jsonb_typeof('[1]'::jsonb), jsonb_array_length('[1,2]'::jsonb)"#,
        r#"select jsonb_build_object('a', 1, 'b', 'x', 'c', null, 'd', 1.5)"#,
        r#"select jsonb_build_array(1, 'a', null, true)"#,
        r#"select jsonb_build_object()"#,
        r#"select to_jsonb(1), to_jsonb('x'), to_jsonb(1.5), to_jsonb(true), to_jsonb(null::int)"#,
        r#"select jsonb_strip_nulls('{"a":null,"b":[null,{"c":null}]}'::jsonb)"#,
        r#"select jsonb_pretty('{"a":[1,{"b":2}],"c":{}}'::jsonb)"#,
        r#"select jsonb_set('{"a":[1,2]}'::jsonb, '{a,0}', '"x"'::jsonb)"#,
        r#"select jsonb_set('{"a":1}'::jsonb, array['b'], '2'::jsonb, false)"#,
        r#"select jsonb_extract_path('{"a":{"b":1}}'::jsonb, 'a', 'b'), jsonb_extract_path_text('{"a":{"b":"s"}}'::jsonb, 'a', 'b')"#,
        r#"select jsonb_array_elements('[1,"a",{"b":2}]'::jsonb)"#,
        r#"select jsonb_array_elements_text('[1,"a",null]'::jsonb) as e"#,
        r#"select jsonb_object_keys('{"b":1,"a":2}'::jsonb)"#,
        r#"select jsonb_each('{"b":1,"a":2}'::jsonb)"#,
        r#"select * from jsonb_each('{"b":1,"a":"x"}')"#,
        r#"select * from jsonb_array_elements('[1,2]')"#,
        r#"select jsonb_agg(x order by x desc) from (values (1),(2),(null)) t(x)"#,
        r#"select jsonb_object_agg(k, v) from (values ('a',1),('b',2)) t(k,v)"#,
        r#"select jsonb_object_agg(k, v) from (values ('a',1),(null,2)) t(k,v)"#,
        r#"select jsonb_agg(x) filter (where x > 1) from (values (1),(2),(3)) t(x)"#,
        r#"select v->>'a' from (select jsonb_array_elements('[{"a":1},{"a":2}]'::jsonb) as v) s"#,
        r#"select x, jsonb_array_elements('[1,2]'::jsonb) from (values (10),(20)) t(x) order by x desc"#,
        r#"select '{"a":1}'::jsonb #- '{a}'"#,
        r#"select '{"a": 1}' -> 'a'"#,
        r#"select '{"a":1}'::jsonb || 'x'"#,
        r#"select jsonb_agg(to_jsonb(x)) from (values (1.5::float4),(2::float8)) t(x)"#,
        r#"select to_jsonb(array[1,2]), to_jsonb(named_struct('k', 1, 'v', 'x'))"#,
        r#"select to_jsonb('2020-01-01'::date), to_jsonb('2020-01-01 01:02:03.5'::timestamp), to_jsonb('1 day 01:00:00'::interval)"#,
        r#"select 1::jsonb"#,
        r#"select '"\u00e9\n\u0001"'::jsonb"#,
        r#"select '{"aa":1,"b":2,"a":3,"a":4}'::jsonb"#,
        r#"select NULL::jsonb, jsonb_typeof(NULL)"#,
        r#"select jsonb_array_elements('{"a":1}'::jsonb)"#,
        r#"select 1 where jsonb_array_elements('[1]'::jsonb) = '1'"#,
        r#"select '{"": 114514191981011451419198101145141919810}'::jsonb"#,
    ];
    for sql in queries {
        println!("{sql}\n  => {}", q(sql).await.replace('\n', "\n     "));
    }
}
