//! TEMPORARY: runs statements through the real handler against a running cluster.
use std::sync::Arc;

use crate::catalog::observer::MetaObserver;
use crate::compute_client::ComputeClientPool;
use crate::handler::{execute, parse_statements, FrontendEnv, ParsedStatement, StatementResult};
use crate::planner::base_session_state;
use crate::session::Session;

#[tokio::test]
#[ignore]
async fn live() {
    let meta = std::env::var("TRIBUTARY_META").unwrap();
    let sql = std::fs::read_to_string(std::env::var("LIVE_SQL").unwrap()).unwrap();
    let observer = MetaObserver::start(&meta, "127.0.0.1:1").await.unwrap();
    let env = FrontendEnv { observer, clients: Arc::new(ComputeClientPool::default()), base: Arc::new(base_session_state()) };
    let mut session = Session::new("dev".into(), "root".into());
    for chunk in sql.split("\n;;\n") {
        let stmts = match parse_statements(chunk) {
            Ok(s) => s,
            Err(e) => {
                println!("PARSE ERR {chunk}: {}", e.message());
                continue;
            }
        };
        for stmt in stmts {
            let stmt = match stmt {
                ParsedStatement::Sql(mut s) => {
                    super::rewrite_for_catalog(&mut s);
                    ParsedStatement::Sql(s)
                }
                other => other,
            };
            println!("----- {}", chunk.lines().next().unwrap_or(""));
            match execute(&env, &mut session, stmt, None).await {
                Ok(StatementResult::Rows { batches, .. }) => {
                    println!("{}", arrow::util::pretty::pretty_format_batches(&batches).unwrap())
                }
                Ok(StatementResult::Command { tag, .. }) => println!("{tag}"),
                Err(e) => println!("ERR {}", e.message()),
            }
        }
    }
}
