//! Frontend errors and their Postgres SQLSTATE codes.

use datafusion::error::DataFusionError;
use thiserror::Error;

pub type Result<T, E = FrontendError> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum FrontendError {
    /// SQL that does not parse (42601).
    #[error("{0}")]
    Syntax(String),
    /// A feature Tributary does not support (0A000).
    #[error("feature not supported: {0}")]
    NotSupported(String),
    /// Any error carrying its own SQLSTATE.
    #[error("{message}")]
    Sql { sqlstate: &'static str, message: String },
    #[error(transparent)]
    DataFusion(#[from] DataFusionError),
    #[error(transparent)]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("{0}")]
    Meta(String),
    #[error("{0}")]
    Internal(String),
}

impl FrontendError {
    pub fn sql(sqlstate: &'static str, message: impl Into<String>) -> Self {
        FrontendError::Sql { sqlstate, message: message.into() }
    }

    pub fn not_supported(what: impl Into<String>) -> Self {
        FrontendError::NotSupported(what.into())
    }

    pub fn undefined_table(name: impl std::fmt::Display) -> Self {
        Self::sql("42P01", format!("relation \"{name}\" does not exist"))
    }

    pub fn sqlstate(&self) -> &'static str {
        match self {
            FrontendError::Syntax(_) => "42601",
            FrontendError::NotSupported(_) => "0A000",
            FrontendError::Sql { sqlstate, .. } => sqlstate,
            FrontendError::DataFusion(e) => datafusion_sqlstate(e),
            FrontendError::Arrow(e) => runtime_sqlstate(&e.to_string().to_ascii_lowercase()),
            FrontendError::Meta(_) => "58000",
            FrontendError::Internal(_) => "XX000",
        }
    }

    /// The message shown to the user: DataFusion's wording is rephrased in Postgres' terms.
    pub fn message(&self) -> String {
        match self {
            FrontendError::DataFusion(e) => datafusion_message(e),
            other => other.to_string(),
        }
    }
}

impl From<tonic::Status> for FrontendError {
    fn from(s: tonic::Status) -> Self {
        let sqlstate = std::str::from_utf8(s.details()).ok().and_then(known_sqlstate);
        match sqlstate {
            Some(code) => FrontendError::Sql { sqlstate: code, message: s.message().to_string() },
            None if s.code() == tonic::Code::InvalidArgument => {
                let msg = s.message().to_string();
                if msg.contains("violates not-null constraint") {
                    FrontendError::sql("23502", msg)
                } else {
                    FrontendError::sql("22000", msg)
                }
            }
            None => FrontendError::Meta(s.message().to_string()),
        }
    }
}

/// Maps SQLSTATE strings from other roles back to static codes.
fn known_sqlstate(code: &str) -> Option<&'static str> {
    const CODES: &[&str] = &[
        "42P04", "42P06", "42P07", "3D000", "3F000", "42P01", "22023", "2BP01", "58000", "XX000", "23502", "22000",
        "42809", "0A000", "42701", "42601", "42704", "42P16", "55000", "55006", "53000", "42723", "42883",
    ];
    CODES.iter().find(|c| **c == code).copied()
}

fn root(e: &DataFusionError) -> &DataFusionError {
    match e {
        DataFusionError::Context(_, inner) => root(inner),
        DataFusionError::Diagnostic(_, inner) => root(inner),
        DataFusionError::Shared(inner) => root(inner),
        other => other,
    }
}

fn datafusion_sqlstate(e: &DataFusionError) -> &'static str {
    let e = root(e);
    let msg = e.to_string();
    let lower = msg.to_ascii_lowercase();
    if lower.contains("scalar subquery returned more than one row") {
        return "21000";
    }
    if lower.contains("does not support logical expression windowfunction") {
        return "42P20";
    }
    if undefined_operator_body(&msg).is_some() {
        return "42883";
    }
    if lower.contains("must be in group by or an aggregate function") || lower.contains("must appear in the group by clause") {
        return "42803";
    }
    if lower.contains("cannot create filter with non-boolean predicate") {
        return "42804";
    }
    match e {
        DataFusionError::SQL(..) => {
            if lower.contains("not supported") || lower.contains("unsupported") {
                "0A000"
            } else {
                "42601"
            }
        }
        DataFusionError::NotImplemented(_) => "0A000",
        DataFusionError::SchemaError(..) => {
            if lower.contains("no field named") || lower.contains("not found") {
                "42703"
            } else if lower.contains("ambiguous") {
                "42702"
            } else {
                "42P01"
            }
        }
        DataFusionError::Plan(_) if lower.contains("table") && lower.contains("not found") => "42P01",
        DataFusionError::Plan(_) if lower.contains("invalid function") || lower.contains("no function matches") => {
            "42883"
        }
        DataFusionError::Plan(_) if lower.contains("does not exist") && lower.contains("function") => "42883",
        DataFusionError::Plan(_) => {
            if lower.contains("cannot infer common") || lower.contains("coercion") || lower.contains("type") {
                "42804"
            } else {
                "42601"
            }
        }
        DataFusionError::ResourcesExhausted(_) => "53200",
        DataFusionError::ArrowError(..) | DataFusionError::Execution(_) | DataFusionError::External(_) => {
            runtime_sqlstate(&lower)
        }
        _ => match runtime_sqlstate(&lower) {
            "22000" => "XX000",
            code => code,
        },
    }
}

/// The SQLSTATE of an error raised while evaluating data, from its message.
fn runtime_sqlstate(lower: &str) -> &'static str {
    if lower.contains("divide by zero") || lower.contains("division by zero") {
        "22012"
    } else if lower.contains("overflow")
        || lower.contains("out of range")
        || lower.contains("too large to store in a decimal")
        || int_cast_overflow(lower).is_some()
    {
        "22003"
    } else if lower.contains("cast error") || lower.contains("invalid input syntax") || lower.contains("cannot cast") {
        "22P02"
    } else {
        "22000"
    }
}

/// Arrow's "Can't cast value 32768 to type Int16": the Postgres type name of the target.
fn int_cast_overflow(msg: &str) -> Option<&'static str> {
    let lower = msg.to_ascii_lowercase();
    let i = lower.find("can't cast value ")?;
    let target = lower[i..].split(" to type ").nth(1)?;
    match target.trim() {
        "int16" => Some("smallint"),
        "int32" => Some("integer"),
        "int64" => Some("bigint"),
        _ => None,
    }
}

fn datafusion_message(e: &DataFusionError) -> String {
    let r = root(e);
    if let DataFusionError::SchemaError(se, _) = r {
        match se.as_ref() {
            datafusion::common::SchemaError::FieldNotFound { field, .. } => {
                return format!("column \"{}\" does not exist", field.name);
            }
            datafusion::common::SchemaError::AmbiguousReference { field } => {
                return format!("column reference \"{}\" is ambiguous", field.name);
            }
            _ => {}
        }
    }
    let msg = r.to_string();
    // DataFusion prefixes messages with the error kind ("Error during planning: ..."); users of
    // Postgres expect the bare message.
    let prefixes = [
        "Error during planning: ",
        "Execution error: ",
        "SQL error: ",
        "Schema error: ",
        "Arrow error: ",
        "This feature is not implemented: ",
        "Invalid argument error: ",
        "Compute error: ",
        "Cast error: ",
        "External error: ",
        "Optimizer rule 'type_coercion' failed\ncaused by\n",
    ];
    let mut out = msg.as_str();
    loop {
        let before = out;
        for p in prefixes {
            if let Some(rest) = out.strip_prefix(p) {
                out = rest;
            }
        }
        if before == out {
            break;
        }
    }
    let out = out.replace("Divide by zero error", "division by zero");
    if let Some(m) = postgres_wording(&out) {
        return m;
    }
    if let DataFusionError::NotImplemented(_) = r {
        return format!("feature not supported: {out}");
    }
    if let Some(table) = out.strip_prefix("table '").and_then(|s| s.strip_suffix("' not found")) {
        let name = table.rsplit('.').next().unwrap_or(table);
        return format!("relation \"{name}\" does not exist");
    }
    out
}

/// The "left op right" part of DataFusion's errors for operators without an implementation for
/// their operand types (Postgres: no such operator).
fn undefined_operator_body(msg: &str) -> Option<&str> {
    const PREFIXES: &[&str] = &[
        "Cannot coerce arithmetic expression ",
        "Cannot infer common argument type for comparison operation ",
        "Cannot infer common argument type for logical boolean operation ",
        "Cannot infer common argument type for regex operation ",
        "Cannot infer common type for bitwise operation ",
        "Cannot infer common argument type for operation ",
    ];
    let rest = PREFIXES.iter().find_map(|p| msg.find(p).map(|i| &msg[i + p.len()..]))?;
    Some(rest.strip_suffix(" to valid types").unwrap_or(rest))
}

/// `Utf8 - Int64` → `operator does not exist: character varying - bigint`. Arrow type names
/// contain spaces (`Decimal128(38, 10)`), so every split into "type op type" is tried.
fn undefined_operator_message(body: &str) -> String {
    let spaces: Vec<usize> = body.match_indices(' ').map(|(i, _)| i).collect();
    for (k, &i) in spaces.iter().enumerate() {
        for &j in &spaces[k + 1..] {
            if let (Some(l), Some(r)) = (pg_type_name(&body[..i]), pg_type_name(&body[j + 1..])) {
                return format!("operator does not exist: {l} {} {r}", &body[i + 1..j]);
            }
        }
    }
    format!("operator does not exist: {body}")
}

/// The Postgres name of an Arrow type as DataFusion prints it (`Int32` → `integer`).
fn pg_type_name(arrow_name: &str) -> Option<String> {
    use std::str::FromStr;
    let arrow = arrow::datatypes::DataType::from_str(arrow_name).ok()?;
    tributary_common::types::DataType::from_arrow(&arrow).ok().map(|t| t.to_string())
}

/// Postgres' wording of errors DataFusion words its own way.
fn postgres_wording(out: &str) -> Option<String> {
    if let Some(body) = undefined_operator_body(out) {
        return Some(undefined_operator_message(body));
    }
    if let Some(i) = out.find("must appear in the GROUP BY clause") {
        // `... column "t.x" must appear ...` or `HAVING clause references: x must appear ...`
        let head = out[..i].trim_end();
        let column = match head.strip_suffix('"').and_then(|h| h.rfind('"').map(|j| &h[j + 1..])) {
            Some(c) => c,
            None => head.rsplit(": ").next().unwrap_or(head),
        };
        return Some(format!("column \"{column}\" must appear in the GROUP BY clause or be used in an aggregate function"));
    }
    if let Some(rest) = out.strip_prefix("Cannot create filter with non-boolean predicate ") {
        let arrow_type = rest.rsplit(" returning ").next().unwrap_or_default();
        let pg = pg_type_name(arrow_type).unwrap_or_else(|| arrow_type.to_string());
        return Some(format!("argument of WHERE must be type boolean, not type {pg}"));
    }
    if let Some(rest) = out.strip_prefix("Inconsistent data length across values list: got ") {
        // "got X values in row R but expected Y"
        let nums: Vec<usize> = rest.split(|c: char| !c.is_ascii_digit()).filter_map(|t| t.parse().ok()).collect();
        // The first row sets the expected length, unless the list is checked against the target
        // columns of an INSERT: only a mismatch in row 0 can be about the target columns.
        return Some(match nums.as_slice() {
            [got, 0, expected, ..] if got > expected => "INSERT has more expressions than target columns".into(),
            [got, 0, expected, ..] if got < expected => "INSERT has more target columns than expressions".into(),
            _ => "VALUES lists must all be the same length".into(),
        });
    }
    if let Some(name) = int_cast_overflow(out) {
        return Some(format!("{name} out of range"));
    }
    // Integer kernels of Arrow/DataFusion: "Int32Array overflow on abs(-2147483648)".
    for (arrow, pg) in [("Int16Array overflow", "smallint"), ("Int32Array overflow", "integer"), ("Int64Array overflow", "bigint")] {
        if out.contains(arrow) {
            return Some(format!("{pg} out of range"));
        }
    }
    if out.contains("is too large to store in a Decimal") {
        return Some("numeric field overflow".into());
    }
    if out.starts_with("Column count doesn't match insert query") {
        return Some("INSERT has more expressions than target columns".into());
    }
    if let Some(rest) = out.strip_prefix("Invalid function '") {
        let name = rest.split('\'').next().unwrap_or(rest);
        return Some(format!("function {name} does not exist"));
    }
    if out.starts_with("LIMIT must be >=") {
        return Some("LIMIT must not be negative".into());
    }
    if out.starts_with("OFFSET must be >=") {
        return Some("OFFSET must not be negative".into());
    }
    if let Some(rest) = out.strip_prefix("Order by column out of bounds, specified: ") {
        let n = rest.split(',').next().unwrap_or(rest);
        return Some(format!("ORDER BY position {n} is not in select list"));
    }
    if let Some(kind) = out.strip_suffix(" queries have different number of columns") {
        return Some(format!("each {kind} query must have the same number of columns"));
    }
    if out.starts_with("Scalar subquery returned more than one row") {
        return Some("more than one row returned by a subquery used as an expression".into());
    }
    if out.starts_with("Physical plan does not support logical expression WindowFunction") {
        return Some("window functions are not allowed here".into());
    }
    if let Some(rest) = out.strip_prefix("Ambiguous reference to unqualified field ") {
        return Some(format!("column reference \"{rest}\" is ambiguous"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_column_message() {
        let e = FrontendError::DataFusion(DataFusionError::SchemaError(
            Box::new(datafusion::common::SchemaError::FieldNotFound {
                field: Box::new(datafusion::common::Column::new(Some("t"), "nope")),
                valid_fields: vec![datafusion::common::Column::new(Some("t"), "a")],
            }),
            Box::new(None),
        ));
        assert_eq!(e.sqlstate(), "42703");
        assert_eq!(e.message(), "column \"nope\" does not exist");
    }

    #[test]
    fn maps_datafusion_errors() {
        let e = FrontendError::DataFusion(DataFusionError::Plan("table 'dev.public.t' not found".into()));
        assert_eq!(e.sqlstate(), "42P01");
        assert_eq!(e.message(), "relation \"t\" does not exist");
        let e = FrontendError::DataFusion(DataFusionError::NotImplemented("x".into()));
        assert_eq!(e.sqlstate(), "0A000");
        let e = FrontendError::DataFusion(DataFusionError::ArrowError(
            Box::new(arrow::error::ArrowError::DivideByZero),
            None,
        ));
        assert_eq!(e.sqlstate(), "22012");
    }

    #[test]
    fn undefined_operators() {
        let e = FrontendError::DataFusion(DataFusionError::Plan(
            "Cannot coerce arithmetic expression Utf8 - Int64 to valid types".into(),
        ));
        assert_eq!(e.sqlstate(), "42883");
        assert_eq!(e.message(), "operator does not exist: character varying - bigint");
        let e = FrontendError::DataFusion(DataFusionError::Plan(
            "Cannot infer common type for bitwise operation Decimal128(38, 10) # Timestamp(µs)".into(),
        ));
        assert_eq!(e.sqlstate(), "42883");
        assert!(e.message().starts_with("operator does not exist: numeric # "), "{}", e.message());
    }

    #[test]
    fn grouping_and_filter_errors() {
        let e = FrontendError::DataFusion(DataFusionError::Plan(
            "Column in SELECT must be in GROUP BY or an aggregate function: While expanding wildcard, column \"t.id\" must appear in the GROUP BY clause or must be part of an aggregate function, currently only \"count(Int64(1))\" appears in the SELECT clause satisfies this requirement".into(),
        ));
        assert_eq!(e.sqlstate(), "42803");
        assert_eq!(e.message(), "column \"t.id\" must appear in the GROUP BY clause or be used in an aggregate function");
        let e = FrontendError::DataFusion(DataFusionError::Plan(
            "Cannot create filter with non-boolean predicate 't.id' returning Int32".into(),
        ));
        assert_eq!(e.sqlstate(), "42804");
        assert_eq!(e.message(), "argument of WHERE must be type boolean, not type integer");
    }

    #[test]
    fn overflow_errors() {
        let e = FrontendError::DataFusion(DataFusionError::ArrowError(
            Box::new(arrow::error::ArrowError::CastError("Can't cast value 32768 to type Int16".into())),
            None,
        ));
        assert_eq!(e.sqlstate(), "22003");
        assert_eq!(e.message(), "smallint out of range");
        let e = FrontendError::DataFusion(DataFusionError::ArrowError(
            Box::new(arrow::error::ArrowError::InvalidArgumentError(
                "12345.68 is too large to store in a Decimal128 of precision 5. Max is 999.99".into(),
            )),
            None,
        ));
        assert_eq!(e.sqlstate(), "22003");
        assert_eq!(e.message(), "numeric field overflow");
        let e = FrontendError::DataFusion(DataFusionError::Execution("Int32Array overflow on abs(-2147483648)".into()));
        assert_eq!(e.message(), "integer out of range");
        assert_eq!(e.sqlstate(), "22003");
    }

    #[test]
    fn values_lengths() {
        let msg = |got: usize, row: usize, expected: usize| {
            FrontendError::DataFusion(DataFusionError::Plan(format!(
                "Inconsistent data length across values list: got {got} values in row {row} but expected {expected}"
            )))
            .message()
        };
        assert_eq!(msg(1, 1, 2), "VALUES lists must all be the same length");
        assert_eq!(msg(3, 0, 2), "INSERT has more expressions than target columns");
        assert_eq!(msg(1, 0, 2), "INSERT has more target columns than expressions");
    }
}
