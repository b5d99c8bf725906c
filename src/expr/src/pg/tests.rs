//! Helpers for SQL-level tests: run a query in a fresh session and render rows as Postgres text.

use datafusion::common::Result;

use super::text::{Printer, Style};
use super::tz::Zone;

/// Runs `sql` and renders the result: one line per row, columns separated by a space, NULL as
/// `NULL`, each value in Postgres text form; the column types lead, in brackets.
pub(crate) async fn query(sql: &str) -> Result<String> {
    query_in_zone(sql, None).await
}

/// [`query`] in a session whose time zone is `zone` (timestamptz values still print in UTC).
pub(crate) async fn query_in_zone(sql: &str, zone: Option<&str>) -> Result<String> {
    use datafusion::execution::session_state::SessionStateBuilder;
    let mut config = crate::session_config();
    if let Some(z) = zone {
        config.options_mut().execution.time_zone = Some(z.to_string());
    }
    let builder = SessionStateBuilder::new().with_config(config).with_default_features();
    let ctx = datafusion::prelude::SessionContext::new_with_state(crate::install(builder).build());
    let df = ctx.sql(sql).await?;
    let batches = df.collect().await?;
    let p = Printer::new(Zone::utc(), Style::Output);
    let mut out = vec![];
    if let Some(b) = batches.first() {
        let types: Vec<String> = b.schema().fields().iter().map(|f| f.data_type().to_string()).collect();
        out.push(format!("[{}]", types.join(", ")));
    }
    for b in &batches {
        for r in 0..b.num_rows() {
            let mut cols = vec![];
            for c in b.columns() {
                cols.push(p.text(c.as_ref(), r)?.unwrap_or_else(|| "NULL".to_string()));
            }
            out.push(cols.join(" "));
        }
    }
    Ok(out.join("\n"))
}

/// The rows of `sql` without the type line.
pub(crate) async fn rows(sql: &str) -> Result<String> {
    let q = query(sql).await?;
    Ok(q.lines().skip(1).collect::<Vec<_>>().join("\n"))
}
