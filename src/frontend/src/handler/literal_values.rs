//! The fast path of `INSERT ... VALUES` whose rows hold only constants: literals, `-` numbers,
//! NULL and bind parameters. Their columns are built straight from the values, without planning
//! the statement in DataFusion (for a 1000-row VALUES, planning cost fifty times the write).
//!
//! Each value is read the way Postgres reads it into the column: a quoted literal has no type of
//! its own, so the column type's input function reads its text; a number goes into numeric
//! columns by its text; booleans into boolean columns. Anything else (an expression, a number for
//! a text column, a value that does not read, a column with a default) returns `None`, and the
//! statement takes the general path, which also words the errors. The exception is a quoted
//! literal for a struct column that is not a record: the general path cannot read quoted
//! records at all, so its input error is the statement's.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::Schema;
use datafusion::common::ParamValues;
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast::{Expr, Insert, SetExpr, UnaryOperator, Value};
use tributary_common::pg_value::{null_scalar, parse_text, FormatOptions};
use tributary_common::types::DataType;

use crate::catalog::TableCatalog;
use crate::error::{FrontendError, Result};

/// The visible columns of the rows `insert` writes (in table order, untyped NULL for columns the
/// statement does not name), when every value is a constant this path reads exactly as the
/// general path would.
pub fn literal_rows(
    table: &TableCatalog,
    insert: &Insert,
    params: Option<&ParamValues>,
    opts: &FormatOptions,
) -> Result<Option<RecordBatch>> {
    let Some(source) = insert.source.as_ref() else { return Ok(None) };
    if source.with.is_some()
        || source.order_by.is_some()
        || source.limit_clause.is_some()
        || source.fetch.is_some()
        || !source.locks.is_empty()
    {
        return Ok(None);
    }
    let SetExpr::Values(values) = source.body.as_ref() else { return Ok(None) };
    let visible: Vec<usize> = table.visible_columns().collect();
    // Target position → index into `visible`; a column named twice takes the general path.
    let Ok(columns) = super::dml::insert_targets(table, &insert.columns) else { return Ok(None) };
    let mut targets: Vec<usize> = Vec::with_capacity(columns.len());
    for c in columns {
        let Some(pos) = visible.iter().position(|i| *i == c) else { return Ok(None) };
        if targets.contains(&pos) {
            return Ok(None);
        }
        targets.push(pos);
    }
    // Columns left out take their default: only NULL is a constant here.
    for (pos, i) in visible.iter().enumerate() {
        if !targets.contains(&pos) && table.table.columns[*i].default_expr.is_some() {
            return Ok(None);
        }
    }
    if values.rows.iter().any(|r| r.len() != targets.len()) || values.rows.is_empty() {
        return Ok(None);
    }
    let rows = values.rows.len();
    let mut columns: Vec<Option<ArrayRef>> = vec![None; visible.len()];
    for (t, pos) in targets.iter().enumerate() {
        let ty = &table.schema.types[visible[*pos]];
        let mut scalars = Vec::with_capacity(rows);
        for row in &values.rows {
            let Some(v) = constant(&row[t], ty, params, opts)? else { return Ok(None) };
            scalars.push(v);
        }
        let Ok(array) = ScalarValue::iter_to_array(scalars) else { return Ok(None) };
        columns[*pos] = Some(array);
    }
    let schema = Arc::new(Schema::new(
        visible.iter().map(|i| table.schema.arrow.field(*i).clone().with_nullable(true)).collect::<Vec<_>>(),
    ));
    let columns = columns
        .into_iter()
        .zip(schema.fields())
        .map(|(c, f)| c.unwrap_or_else(|| arrow::array::new_null_array(f.data_type(), rows)))
        .collect::<Vec<_>>();
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(schema, columns, &options).ok())
}

/// One value for a column of type `ty`, or `None` when it is not a constant this path reads.
fn constant(e: &Expr, ty: &DataType, params: Option<&ParamValues>, opts: &FormatOptions) -> Result<Option<ScalarValue>> {
    if let (Expr::Value(v), DataType::Struct(_)) = (e, ty) {
        if let Value::SingleQuotedString(s) = &v.value {
            return parse_text(s, ty, opts).map(Some).map_err(|e| FrontendError::sql("22P02", e.to_string()));
        }
    }
    Ok(constant_value(e, ty, params, opts))
}

fn constant_value(e: &Expr, ty: &DataType, params: Option<&ParamValues>, opts: &FormatOptions) -> Option<ScalarValue> {
    let numeric_column = matches!(
        ty,
        DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::Float32 | DataType::Float64 | DataType::Decimal { .. }
    );
    let typed = |s: ScalarValue| cast_scalar(s, ty);
    match e {
        Expr::Value(v) => match &v.value {
            Value::Null => null_scalar(ty).ok(),
            Value::SingleQuotedString(s) | Value::DollarQuotedString(datafusion::sql::sqlparser::ast::DollarQuotedString { value: s, .. }) => {
                parse_text(s, ty, opts).ok()
            }
            Value::Number(n, false) if numeric_column => parse_text(n, ty, opts).ok(),
            Value::Boolean(b) if *ty == DataType::Boolean => Some(ScalarValue::Boolean(Some(*b))),
            Value::Placeholder(p) => {
                let k: usize = p.strip_prefix('$')?.parse().ok()?;
                match params? {
                    ParamValues::List(list) => typed(list.get(k.checked_sub(1)?)?.value.clone()),
                    ParamValues::Map(_) => None,
                }
            }
            _ => None,
        },
        Expr::UnaryOp { op: op @ (UnaryOperator::Minus | UnaryOperator::Plus), expr } if numeric_column => match expr.as_ref() {
            Expr::Value(v) => match &v.value {
                Value::Number(n, false) => {
                    let text = if *op == UnaryOperator::Minus { format!("-{n}") } else { n.clone() };
                    parse_text(&text, ty, opts).ok()
                }
                _ => None,
            },
            _ => None,
        },
        Expr::Nested(inner) => constant_value(inner, ty, params, opts),
        _ => None,
    }
}

/// A bind parameter converted to the column type the way the general path's cast does; NULL
/// parameters arrive typed or untyped.
fn cast_scalar(s: ScalarValue, ty: &DataType) -> Option<ScalarValue> {
    let target = ty.to_arrow();
    if s.data_type() == target {
        return Some(s);
    }
    if s.is_null() {
        return null_scalar(ty).ok();
    }
    // Only lossless, always-valid conversions; others take the general path.
    let widens = matches!(
        (s.data_type(), &target),
        (arrow::datatypes::DataType::Int16, arrow::datatypes::DataType::Int32 | arrow::datatypes::DataType::Int64)
            | (arrow::datatypes::DataType::Int32, arrow::datatypes::DataType::Int64)
            | (arrow::datatypes::DataType::Float32, arrow::datatypes::DataType::Float64)
    );
    if widens {
        s.cast_to(&target).ok()
    } else {
        None
    }
}
