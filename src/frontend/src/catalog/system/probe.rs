use arrow::util::pretty::pretty_format_batches;

async fn run(sql: &str) {
    let ctx = tributary_expr::new_context();
    ctx.sql("create table t (oid int, name varchar, l varchar[], b boolean, n int[]) as values (1, 'a', null, true, [1,2]), (2, 'b', ['x','y'], false, [3])").await.unwrap();
    ctx.sql("create table s (id int, tid int, v varchar) as values (10, 1, 'p'), (11, 2, 'q')").await.unwrap();
    let r = async {
        let df = ctx.sql(sql).await?;
        let b = df.collect().await?;
        datafusion::error::Result::Ok(pretty_format_batches(&b)?.to_string())
    }
    .await;
    match r {
        Ok(s) => println!("OK {sql}\n{s}"),
        Err(e) => println!("ERR {sql}\n  {e}"),
    }
}

#[tokio::test]
async fn probe() {
    for q in [
        "select * from t where oid = '1'",
        "select * from t where oid = '1' and oid > 0",
        "select name, (select v from s where s.tid = t.oid) from t",
        "select name, (select v from s where s.tid = t.oid and t.b) from t",
        "select name, (select max(v) from s where s.tid = t.oid and t.b) from t",
        "select name, (select max(v) from s where s.tid = t.oid and t.b and s.id <> t.oid) from t",
        "select array_to_string(l, E'\\n') from t",
        "select name from t where 'x' = any(l)",
        "select array_transform(l, x -> 'toast.' || x) from t",
        "select name from t where name = any(array['a','c'])",
        "select (select array_agg(v order by v) from s where s.tid = t.oid) from t",
        "select (select array_agg(v order by v) from s where s.id = any(t.n)) from t",
        "select name ~ '^(a)$' from t",
        "select * from t order by name = 'a', oid::text",
        "select pg_catalog.array_to_string(l, ',') from t",
        "select current_user",
        "select name from t where name !~ '^pg_'",
        "select 'a' as x union all select null order by 1",
        "select * from t, t t2, s left join t t3 on (tid = t3.oid) where t.oid = t2.oid",
        "select string_agg(x, ', ') from (values ('a'),('b')) v(x)",
        "select (select string_agg(v, ', ') from unnest(t.l) v) from t",
        "select array_transform(l, x -> upper(x)) from t",
    ] {
        run(q).await;
    }
}
