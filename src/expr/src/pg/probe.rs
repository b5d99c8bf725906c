//! Scratch harness: runs each statement of $PG_PROBE (one per line) and prints its result.

#[tokio::test]
#[ignore]
async fn probe() {
    let Ok(path) = std::env::var("PG_PROBE") else { return };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    for line in text.lines() {
        let sql = line.trim();
        if sql.is_empty() || sql.starts_with("--") {
            continue;
        }
        match super::tests::query(sql).await {
            Ok(s) => println!(">>> {sql}\n{s}"),
            Err(e) => println!(">>> {sql}\nERROR: {e}"),
        }
    }
}
