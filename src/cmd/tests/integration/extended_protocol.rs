//! The extended query protocol through tokio-postgres: prepared statements, typed parameters,
//! binary results, errors with SQLSTATE.

use tokio_postgres::error::SqlState;

use crate::cluster::Playground;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_and_binary_values() {
    let pg = Playground::start();
    let client = pg.connect().await;
    client.batch_execute("SET RW_IMPLICIT_FLUSH TO true").await.unwrap();
    client
        .batch_execute(
            "CREATE TABLE ext (k int PRIMARY KEY, name varchar, score double precision, big bigint, \
             flag boolean, small smallint, d date, ts timestamp, amount numeric(10,2))",
        )
        .await
        .unwrap();

    let insert = client
        .prepare("INSERT INTO ext (k, name, score, big, flag, small) VALUES ($1, $2, $3, $4, $5, $6)")
        .await
        .unwrap();
    for i in 0..20i32 {
        let name = format!("n{i}");
        let score = i as f64 * 1.5;
        let big = i as i64 * 1_000_000_000_000;
        let flag = i % 2 == 0;
        let small = i as i16;
        let n = client.execute(&insert, &[&i, &name, &score, &big, &flag, &small]).await.unwrap();
        assert_eq!(n, 1);
    }

    let select = client.prepare("SELECT k, name, score, big, flag, small FROM ext WHERE k >= $1 ORDER BY k").await.unwrap();
    let rows = client.query(&select, &[&15i32]).await.unwrap();
    assert_eq!(rows.len(), 5);
    let first = &rows[0];
    assert_eq!(first.get::<_, i32>(0), 15);
    assert_eq!(first.get::<_, String>(1), "n15");
    assert_eq!(first.get::<_, f64>(2), 22.5);
    assert_eq!(first.get::<_, i64>(3), 15_000_000_000_000);
    assert!(!first.get::<_, bool>(4));
    assert_eq!(first.get::<_, i16>(5), 15);

    // A prepared statement runs again with other parameters (named statement reuse).
    let rows = client.query(&select, &[&19i32]).await.unwrap();
    assert_eq!(rows.len(), 1);

    // NULL parameters and NULL results.
    let upd = client.prepare("UPDATE ext SET name = $1 WHERE k = $2").await.unwrap();
    assert_eq!(client.execute(&upd, &[&None::<String>, &3i32]).await.unwrap(), 1);
    let row = client.query_one("SELECT name FROM ext WHERE k = 3", &[]).await.unwrap();
    assert_eq!(row.get::<_, Option<String>>(0), None);

    // Aggregates come back typed.
    let row = client.query_one("SELECT count(*), sum(big) FROM ext", &[]).await.unwrap();
    assert_eq!(row.get::<_, i64>(0), 20);

    // Errors carry their SQLSTATE.
    let err = client.query("SELECT * FROM missing_table", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNDEFINED_TABLE));
    let err = client.query("SELECT nope FROM ext", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::UNDEFINED_COLUMN));
    let err = client.batch_execute("SELEC 1").await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::SYNTAX_ERROR));
    let err = client.execute("INSERT INTO ext (k) VALUES (NULL)", &[]).await.unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::NOT_NULL_VIOLATION));

    // The session still works after errors.
    let row = client.query_one("SELECT 1 + 1", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 2);

    client.batch_execute("DROP TABLE ext").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_and_cancel() {
    let pg = Playground::start();
    let client = pg.connect().await;
    client.batch_execute("SET statement_timeout = 200").await.unwrap();
    let err = client
        .query("SELECT count(*) FROM generate_series(1, 10000000000)", &[])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::QUERY_CANCELED));
    client.batch_execute("SET statement_timeout = 0").await.unwrap();

    let token = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        token.cancel_query(tokio_postgres::NoTls).await
    });
    let err = client
        .query("SELECT count(*) FROM generate_series(1, 10000000000)", &[])
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(&SqlState::QUERY_CANCELED));
    canceller.await.unwrap().unwrap();
    let row = client.query_one("SELECT 42", &[]).await.unwrap();
    assert_eq!(row.get::<_, i64>(0), 42);
}
