//! Set-returning jsonb functions (`jsonb_array_elements[_text]`, `jsonb_object_keys`,
//! `jsonb_each[_text]`).
//!
//! DataFusion has no set-returning scalar functions, only `unnest`. So:
//! - in a SELECT list, the analyzer rule [`rewrite_srf_projections`] replaces each call by a
//!   column of an `Unnest` of a list-valued twin (`__jsonb_array_elements_list`, …) computed
//!   in a projection below; the user-facing name stays as the column name;
//! - in FROM, table functions of the same names take constant arguments.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, LargeStringBuilder, ListArray, RecordBatch, StringBuilder, StructArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Fields, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{
    exec_err, plan_err, Column, DataFusionError, NullHandling, Result, ScalarValue, UnnestOptions,
};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, Projection};

use super::ops;
use super::udf::{udf, JsonbRows, JsonbUdf, Kind, SrfKind};
use super::value::{self, Value};

/// The rows one input value produces: `(key, value)`; `key` is unused for elements.
fn rows_of(kind: Kind, v: &Value) -> Result<Vec<(Option<String>, Option<String>)>> {
    let e = |m: String| DataFusionError::Execution(m);
    Ok(match kind {
        Kind::ElementsList => ops::elements(v)
            .map_err(e)?
            .iter()
            .map(|x| (None, Some(x.to_text())))
            .collect(),
        Kind::ElementsTextList => ops::elements(v)
            .map_err(e)?
            .iter()
            .map(|x| (None, x.to_sql_text()))
            .collect(),
        Kind::ObjectKeysList => ops::object_keys(v)
            .map_err(e)?
            .into_iter()
            .map(|k| (None, Some(k)))
            .collect(),
        Kind::EachList => ops::each(v)
            .map_err(e)?
            .into_iter()
            .map(|(k, x)| (Some(k), Some(x.to_text())))
            .collect(),
        Kind::EachTextList => ops::each(v)
            .map_err(e)?
            .into_iter()
            .map(|(k, x)| (Some(k), x.to_sql_text()))
            .collect(),
        _ => return exec_err!("{} is not a set-returning function", kind.name()),
    })
}

fn srf_kind(kind: Kind) -> Result<SrfKind> {
    Ok(match kind {
        Kind::ElementsList => SrfKind::Elements,
        Kind::ElementsTextList => SrfKind::ElementsText,
        Kind::ObjectKeysList => SrfKind::ObjectKeys,
        Kind::EachList => SrfKind::Each,
        Kind::EachTextList => SrfKind::EachText,
        _ => return exec_err!("{} is not a set-returning function", kind.name()),
    })
}

/// Builds the flat array of produced rows (the list's values, or a table's columns).
fn rows_array(srf: SrfKind, rows: &[(Option<String>, Option<String>)]) -> ArrayRef {
    let values: ArrayRef = match srf {
        SrfKind::Elements | SrfKind::Each => {
            let mut b = LargeStringBuilder::new();
            rows.iter().for_each(|(_, v)| b.append_option(v.as_deref()));
            Arc::new(b.finish())
        }
        _ => {
            let mut b = StringBuilder::new();
            rows.iter().for_each(|(_, v)| b.append_option(v.as_deref()));
            Arc::new(b.finish())
        }
    };
    match srf.row_type() {
        DataType::Struct(fields) => {
            let mut keys = StringBuilder::new();
            rows.iter()
                .for_each(|(k, _)| keys.append_option(k.as_deref()));
            Arc::new(StructArray::new(
                fields,
                vec![Arc::new(keys.finish()), values],
                None,
            ))
        }
        _ => values,
    }
}

pub(super) fn evaluate_list(kind: Kind, input: &JsonbRows, n: usize) -> Result<ArrayRef> {
    let srf = srf_kind(kind)?;
    let mut rows = Vec::new();
    let mut offsets = Vec::with_capacity(n + 1);
    let mut valid = Vec::with_capacity(n);
    offsets.push(0i32);
    for i in 0..n {
        match input.get(i)? {
            Some(v) => {
                rows.extend(rows_of(kind, &v)?);
                valid.push(true);
            }
            None => valid.push(false),
        }
        let end = i32::try_from(rows.len())
            .map_err(|_| DataFusionError::Execution("too many rows".into()))?;
        offsets.push(end);
    }
    let values = rows_array(srf, &rows);
    let field = Arc::new(Field::new_list_field(srf.row_type(), true));
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::new(offsets.into()),
        values,
        Some(NullBuffer::from(valid)),
    )?))
}

fn marker_kind(expr: &Expr) -> Option<SrfKind> {
    let Expr::ScalarFunction(f) = expr else {
        return None;
    };
    let any: &dyn std::any::Any = f.func.inner().as_ref();
    match any.downcast_ref::<JsonbUdf>()?.kind() {
        Kind::SrfMarker(s) => Some(s),
        _ => None,
    }
}

static PLACEHOLDER_SEQ: AtomicUsize = AtomicUsize::new(0);

/// Rewrites one projection whose expressions call set-returning jsonb functions into
/// `Projection(original names) ← Unnest ← Projection(input columns + list twins)`.
pub(super) fn rewrite_srf_projection(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let has_srf = |e: &Expr| {
        e.exists(|sub| Ok(marker_kind(sub).is_some()))
            .unwrap_or(false)
    };
    if !matches!(&plan, LogicalPlan::Projection(p) if p.expr.iter().any(has_srf)) {
        return Ok(Transformed::no(plan));
    }
    let LogicalPlan::Projection(Projection {
        expr,
        input,
        schema,
        ..
    }) = plan
    else {
        return Ok(Transformed::no(plan));
    };
    let mut inner: Vec<Expr> = input
        .schema()
        .columns()
        .into_iter()
        .map(Expr::Column)
        .collect();
    let mut unnest_cols: Vec<Column> = Vec::new();
    let mut outer = Vec::with_capacity(expr.len());
    for (e, (qualifier, field)) in expr.into_iter().zip(schema.iter()) {
        let rewritten = e.transform_down(|sub| {
            let Some(srf) = marker_kind(&sub) else {
                return Ok(Transformed::no(sub));
            };
            let Expr::ScalarFunction(f) = sub else {
                return Ok(Transformed::no(sub));
            };
            if f.args.iter().any(has_srf) {
                return plan_err!("set-returning functions must appear at top level of FROM");
            }
            let name = format!(
                "__jsonb_srf_{}",
                PLACEHOLDER_SEQ.fetch_add(1, Ordering::Relaxed)
            );
            inner.push(
                Expr::ScalarFunction(ScalarFunction::new_udf(udf(srf.list_kind()), f.args))
                    .alias(&name),
            );
            let column = Column::from_name(name);
            unnest_cols.push(column.clone());
            Ok(Transformed::new(
                Expr::Column(column),
                true,
                TreeNodeRecursion::Jump,
            ))
        })?;
        // Keep the output column named exactly as before, so that plans above stay valid.
        outer.push(match rewritten.data {
            Expr::Alias(a) => Expr::Alias(a),
            other => other.alias_qualified(qualifier.cloned(), field.name()),
        });
    }
    let plan = LogicalPlanBuilder::from(Arc::unwrap_or_clone(input))
        .project(inner)?
        .unnest_columns_with_options(
            unnest_cols,
            UnnestOptions::new().with_null_handling(NullHandling::Drop),
        )?
        .project(outer)?
        .build()?;
    Ok(Transformed::yes(plan))
}

/// `SELECT * FROM jsonb_each('{"a": 1}')` and friends: constant arguments only.
#[derive(Debug)]
pub struct JsonbTableFunction(pub SrfKind);

impl JsonbTableFunction {
    fn schema(&self) -> Schema {
        match self.0.row_type() {
            DataType::Struct(fields) => Schema::new(fields),
            t => Schema::new(Fields::from(vec![Field::new(self.0.name(), t, true)])),
        }
    }
}

fn constant_text(expr: &Expr) -> Result<Option<String>> {
    match expr {
        Expr::Literal(v, _) => match v {
            ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s) => Ok(s.clone()),
            ScalarValue::Null => Ok(None),
            other => plan_err!("function does not accept an argument of type {}", other.data_type()),
        },
        Expr::Cast(c) => constant_text(&c.expr),
        Expr::TryCast(c) => constant_text(&c.expr),
        Expr::Alias(a) => constant_text(&a.expr),
        _ => plan_err!("set-returning jsonb functions in FROM take a constant argument; use them in the SELECT list for columns"),
    }
}

impl TableFunctionImpl for JsonbTableFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if exprs.len() != 1 {
            return plan_err!("function {} takes 1 argument", self.0.name());
        }
        let schema = Arc::new(self.schema());
        let rows = match constant_text(&exprs[0])? {
            None => Vec::new(),
            Some(text) => {
                let v = value::parse(&text).map_err(|e| DataFusionError::Plan(e.to_string()))?;
                rows_of(self.0.list_kind(), &v)?
            }
        };
        let columns: Vec<ArrayRef> = match rows_array(self.0, &rows) {
            a if matches!(a.data_type(), DataType::Struct(_)) => {
                let s = a
                    .as_any()
                    .downcast_ref::<StructArray>()
                    .map(|s| s.columns().to_vec());
                s.ok_or_else(|| DataFusionError::Internal("struct rows".into()))?
            }
            a => vec![a],
        };
        let batch = RecordBatch::try_new(Arc::clone(&schema), columns)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}
