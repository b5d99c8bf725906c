//! Errors worded as Postgres words them, so that clients and tests matching on text see the same.

use arrow::datatypes::DataType;
use datafusion::common::DataFusionError;

use super::types::pg_type_name;

pub(crate) fn exec(msg: impl Into<String>) -> DataFusionError {
    DataFusionError::Execution(msg.into())
}

pub(crate) fn plan(msg: impl Into<String>) -> DataFusionError {
    DataFusionError::Plan(msg.into())
}

pub(crate) fn invalid_input(type_name: &str, input: &str) -> DataFusionError {
    exec(format!("invalid input syntax for type {type_name}: \"{input}\""))
}

pub(crate) fn out_of_range(type_name: &str) -> DataFusionError {
    exec(format!("{type_name} out of range"))
}

pub(crate) fn division_by_zero() -> DataFusionError {
    exec("division by zero")
}

pub(crate) fn arg_count(name: &str, types: &[DataType]) -> DataFusionError {
    no_function(name, types)
}

/// The error of a call no declaration of `name` accepts.
pub(crate) fn no_function(name: &str, types: &[DataType]) -> DataFusionError {
    let args: Vec<String> = types.iter().map(pg_type_name).collect();
    plan(format!(
        "function {name}({}) does not exist, unexpected arguments number or types",
        args.join(", ")
    ))
}

pub(crate) fn cannot_cast(from: &DataType, to: &DataType) -> DataFusionError {
    plan(format!(
        "cannot cast type \"{}\" to \"{}\"",
        pg_type_name(from),
        pg_type_name(to)
    ))
}
