//! Postgres/RisingWave functions, operators and casts that DataFusion lacks or gets wrong.
//!
//! Everything is registered by [`install`]: scalar functions (overriding DataFusion's where
//! its results differ), aggregates, an expression planner for operators, and the analyzer rule
//! [`PgCastRule`] that gives casts Postgres semantics.

use std::sync::Arc;

use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::ScalarUDF;

mod agg;
pub mod exact;
mod array;
mod cast;
mod datetime;
mod err;
mod func;
mod math;
mod parse;
mod planner;
mod series;
mod string;
mod text;
mod types;
mod tz;
mod window_fn;

#[cfg(test)]
mod registry_tests {
    use datafusion::execution::FunctionRegistry;

    use super::*;

    /// Functions the planner and the cast rule put into plans must be resolvable by name:
    /// stream plans reach compute nodes as datafusion-proto, which names each function.
    #[test]
    fn planned_functions_are_registered() {
        let ctx = crate::new_context();
        for f in planned_functions() {
            assert!(ctx.udf(f.name()).is_ok(), "{} is planned but not registered", f.name());
        }
    }
}
#[cfg(test)]
mod sql_tests;
#[cfg(test)]
pub(crate) mod tests;

pub use cast::{rewrite_plan, PgCastRule};
pub use planner::PgExprPlanner;
pub use string::REGEXP_MATCHES_LIST;

/// Every scalar function of this module (later ones with a DataFusion name replace DataFusion's).
pub fn scalar_functions() -> Vec<ScalarUDF> {
    let mut v = vec![cast::pg_cast_udf()];
    v.extend(cast::cast_functions());
    v.extend(string::functions());
    v.extend(math::functions());
    v.extend(datetime::functions());
    v.extend(array::functions());
    v.extend(window_fn::functions());
    for f in planned_functions() {
        if !v.iter().any(|g| g.name() == f.name()) {
            v.push(f);
        }
    }
    v
}

/// The functions [`PgExprPlanner`] and [`PgCastRule`] call directly for operators and syntax
/// (`ts - ts`, `||`, `&&`, EXTRACT, AT TIME ZONE, ...).
fn planned_functions() -> Vec<ScalarUDF> {
    vec![
        cast::pg_cast_udf(),
        datetime::timezone(),
        datetime::timestamp_diff(),
        datetime::interval_span(),
        datetime::extract(),
        math::numeric_div(),
        string::similar_to(),
        string::textcat(),
        string::substr(),
        array::concat_operator(),
        array::overlap(),
    ]
}

pub fn install(mut builder: SessionStateBuilder) -> SessionStateBuilder {
    builder
        .scalar_functions()
        .get_or_insert_with(Vec::new)
        .extend(scalar_functions().into_iter().map(Arc::new));
    // Ahead of DataFusion's planners, which would otherwise claim `||` and EXTRACT first.
    builder
        .expr_planners()
        .get_or_insert_with(Vec::new)
        .insert(0, Arc::new(PgExprPlanner));
    builder
        .aggregate_functions()
        .get_or_insert_with(Vec::new)
        .extend(agg::functions().into_iter().map(Arc::new));
    let tables = builder.table_functions().get_or_insert_with(Default::default);
    tables.extend(series::table_functions());
    builder
        .analyzer_rules()
        .get_or_insert_with(Vec::new)
        .push(Arc::new(PgCastRule));
    builder
}
