//! SQL functions, operators and casts with Postgres semantics that DataFusion lacks, registered
//! into a DataFusion session (used by batch queries now and streaming expressions later).
//!
//! - [`pg`]: scalar and aggregate functions of Postgres/RisingWave (string, math, date/time, arrays).
//! - [`jsonb`]: the `jsonb` type (held as normalized JSON text in `LargeUtf8`), its operators and functions.


// See Cargo.toml: linked for its feature unification only.
use datafusion_proto as _;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

pub mod jsonb;
pub mod pg;
pub mod types;

/// DataFusion options that make SQL behave as in Postgres/RisingWave.
pub fn session_config() -> SessionConfig {
    let mut config = SessionConfig::new()
        .with_information_schema(false)
        .with_create_default_catalog_and_schema(true)
        .with_default_catalog_and_schema("dev", "public");
    let options = config.options_mut();
    options.sql_parser.dialect = datafusion::config::Dialect::PostgreSQL;
    // Varchar must stay `Utf8`: `LargeUtf8` means jsonb here (see tributary_common::types).
    options.sql_parser.map_string_types_to_utf8view = false;
    // Postgres types `1.5` as numeric, not double.
    options.sql_parser.parse_float_as_decimal = true;
    options.execution.time_zone = Some("+00:00".to_string());
    config
}

/// Adds every function, operator and type of this crate to a session being built.
pub fn install(builder: SessionStateBuilder) -> SessionStateBuilder {
    let builder = jsonb::install(pg::install(builder)).with_type_planner(std::sync::Arc::new(types::PgTypePlanner));
    drop_shadowed(builder)
}

/// Whether `name` is a set-returning function read in FROM as a table: DataFusion's
/// (`generate_series`, `range`, `unnest`), the jsonb ones and those the SQL rewrite turns into
/// table expressions. Any other function in FROM is a scalar function: one row, one column.
pub fn is_table_function(name: &str) -> bool {
    matches!(
        name,
        "generate_series" | "range" | "unnest" | "regexp_matches" | "regexp_split_to_table" | "generate_subscripts" | "tumble" | "hop"
    ) || jsonb::udf::SrfKind::ALL.iter().any(|k| k.name() == name)
}

/// Drops the functions that a later one replaces by name or alias. Otherwise a replaced
/// DataFusion function stays reachable under one of its aliases (`to_char` as `date_format`) and
/// `SessionStateBuilder::new_from_existing`, which registers the state's functions again in
/// hash order, may put it back under the replaced name.
fn drop_shadowed(mut builder: SessionStateBuilder) -> SessionStateBuilder {
    if let Some(fns) = builder.scalar_functions().as_mut() {
        let mut claimed = std::collections::HashSet::new();
        let mut keep = Vec::with_capacity(fns.len());
        for f in fns.drain(..).rev() {
            let names: Vec<String> = std::iter::once(f.name().to_string()).chain(f.aliases().iter().cloned()).collect();
            if names.iter().any(|n| claimed.contains(n)) {
                continue;
            }
            claimed.extend(names);
            keep.push(f);
        }
        keep.reverse();
        *fns = keep;
    }
    builder
}

/// A session with [`session_config`] and everything [`install`]ed; for tests and tools.
pub fn new_context() -> SessionContext {
    let builder = SessionStateBuilder::new().with_config(session_config()).with_default_features();
    SessionContext::new_with_state(install(builder).build())
}

/// Runs one query in a fresh [`new_context`] and returns its result as pretty-printed text.
#[doc(hidden)]
pub async fn run_for_test(sql: &str) -> datafusion::error::Result<String> {
    let ctx = new_context();
    let batches = ctx.sql(sql).await?.collect().await?;
    Ok(arrow::util::pretty::pretty_format_batches(&batches)?.to_string())
}

