//! The `jsonb` type: values are Arrow `LargeUtf8` holding normalized JSON text (the form
//! Postgres prints jsonb in), so that equality and grouping work on the text.
//!
//! Pieces, all put in place by [`install`]:
//! - [`planner::JsonbTypePlanner`]: SQL `jsonb`/`json` → `LargeUtf8`;
//! - [`analyzer::JsonbAnalyzerRule`]: `text::jsonb` parses and normalizes, `jsonb::int` etc.
//!   convert as Postgres does, set-returning functions in SELECT lists become `Unnest`s;
//! - [`planner::JsonbExprPlanner`]: the operators (`->`, `->>`, `#>`, `#>>`, `@>`, `<@`, `?`,
//!   `?|`, `?&`, `-`, `#-`, `||`) and the aggregates `jsonb_agg`, `jsonb_object_agg`;
//! - [`udf`]: the scalar functions; [`srf`]: the set-returning ones (also as table functions).

pub mod analyzer;
pub mod ops;
pub mod planner;
pub mod srf;
pub mod to_json;
pub mod udf;
pub mod value;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::catalog::TableFunction;
use datafusion::execution::session_state::SessionStateBuilder;

pub use value::{normalize, parse, ParseError, Value};

pub fn install(mut builder: SessionStateBuilder) -> SessionStateBuilder {
    let functions = builder.scalar_functions().get_or_insert_with(Vec::new);
    functions.extend(udf::all_udfs());
    for target in [
        DataType::Boolean,
        DataType::Int16,
        DataType::Int32,
        DataType::Int64,
        DataType::Float32,
        DataType::Float64,
    ] {
        functions.push(analyzer::cast_udf(target));
    }
    builder
        .aggregate_functions()
        .get_or_insert_with(Vec::new)
        .extend(planner::agg_udafs());
    let tables = builder
        .table_functions()
        .get_or_insert_with(Default::default);
    for kind in udf::SrfKind::ALL {
        let f = TableFunction::new(
            kind.name().to_string(),
            Arc::new(srf::JsonbTableFunction(kind)),
        );
        tables.insert(kind.name().to_string(), Arc::new(f));
    }
    // First, so that jsonb operands never reach the default planners (which would read `||`
    // and `@>` as string or array operators).
    builder
        .expr_planners()
        .get_or_insert_with(Vec::new)
        .insert(0, Arc::new(planner::JsonbExprPlanner));
    builder
        .with_type_planner(Arc::new(planner::JsonbTypePlanner))
        .with_analyzer_rule(Arc::new(analyzer::JsonbAnalyzerRule))
}
