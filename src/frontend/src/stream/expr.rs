//! Expressions of stream operators: DataFusion physical expressions over the operator's input,
//! shipped as datafusion-proto bytes, and how EXPLAIN prints them.

use datafusion::common::{Column as DfColumn, DFSchema};
use datafusion::scalar::ScalarValue;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::Expr;
use datafusion_proto::physical_plan::to_proto::serialize_physical_expr;
use datafusion_proto::physical_plan::DefaultPhysicalExtensionCodec;
use prost::Message;
use tributary_proto::stream_plan::Expr as PbExpr;

use super::plan::PlanNode;
use crate::error::{FrontendError, Result};

/// Compiles `expr` (over the logical columns `input` carries) for a compute node.
pub fn physical(state: &SessionState, expr: &Expr, schema: &DFSchema) -> Result<PbExpr> {
    let phys = state.create_physical_expr(expr.clone(), schema).map_err(|e| unsupported_expr(expr, e))?;
    let node = serialize_physical_expr(&phys, &DefaultPhysicalExtensionCodec {}).map_err(|e| unsupported_expr(expr, e))?;
    let time_zone = state.config().options().execution.time_zone.clone().unwrap_or_default();
    Ok(PbExpr { df_physical: node.encode_to_vec(), time_zone })
}

fn unsupported_expr(expr: &Expr, e: datafusion::error::DataFusionError) -> FrontendError {
    FrontendError::not_supported(format!("expression {} in a materialized view ({e})", display(expr)))
}

/// An expression as EXPLAIN prints it: SQL-like, casts as `::type`.
pub fn display(expr: &Expr) -> String {
    show(expr, &|c: &DfColumn| c.flat_name())
}

/// [`display`] with columns named as `input` shows them (hidden columns by what they hold).
pub fn display_over(expr: &Expr, input: &PlanNode) -> String {
    show(expr, &|c: &DfColumn| match input.position(c) {
        Ok(p) => input.columns[p].display.clone(),
        Err(_) => c.flat_name(),
    })
}

fn show(e: &Expr, name: &dyn Fn(&DfColumn) -> String) -> String {
    let nested = |e: &Expr| match e {
        Expr::BinaryExpr(_) | Expr::Between(_) | Expr::Like(_) => format!("({})", show(e, name)),
        _ => show(e, name),
    };
    let args = |a: &[Expr]| a.iter().map(|x| show(x, name)).collect::<Vec<_>>().join(", ");
    match e {
        Expr::Column(c) => name(c),
        Expr::Alias(a) => show(&a.expr, name),
        Expr::Literal(v, _) => match v {
            v if v.is_null() => "NULL".to_string(),
            ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => {
                format!("'{}'", s.replace('\'', "''"))
            }
            v => v.to_string(),
        },
        Expr::Cast(c) => format!("{}::{}", nested(&c.expr), type_name(c.field.data_type())),
        Expr::TryCast(c) => format!("{}::{}", nested(&c.expr), type_name(c.field.data_type())),
        Expr::BinaryExpr(b) => format!("{} {} {}", nested(&b.left), b.op, nested(&b.right)),
        Expr::Not(x) => format!("NOT {}", nested(x)),
        Expr::Negative(x) => format!("-{}", nested(x)),
        Expr::IsNull(x) => format!("{} IS NULL", nested(x)),
        Expr::IsNotNull(x) => format!("{} IS NOT NULL", nested(x)),
        Expr::IsTrue(x) => format!("{} IS TRUE", nested(x)),
        Expr::IsFalse(x) => format!("{} IS FALSE", nested(x)),
        Expr::ScalarFunction(f) => format!("{}({})", f.name(), args(&f.args)),
        Expr::AggregateFunction(f) => format!("{}({})", f.func.name(), args(&f.params.args)),
        Expr::InList(l) => format!(
            "{} {}IN ({})",
            nested(&l.expr),
            if l.negated { "NOT " } else { "" },
            args(&l.list)
        ),
        Expr::Between(b) => format!(
            "{} {}BETWEEN {} AND {}",
            nested(&b.expr),
            if b.negated { "NOT " } else { "" },
            nested(&b.low),
            nested(&b.high)
        ),
        Expr::Case(c) => {
            let mut s = "CASE".to_string();
            if let Some(x) = &c.expr {
                s.push_str(&format!(" {}", show(x, name)));
            }
            for (w, t) in &c.when_then_expr {
                s.push_str(&format!(" WHEN {} THEN {}", show(w, name), show(t, name)));
            }
            if let Some(x) = &c.else_expr {
                s.push_str(&format!(" ELSE {}", show(x, name)));
            }
            s.push_str(" END");
            s
        }
        other => other.human_display().to_string(),
    }
}

fn type_name(t: &arrow::datatypes::DataType) -> String {
    match tributary_common::types::DataType::from_arrow(t) {
        Ok(t) => t.to_string(),
        Err(_) => t.to_string(),
    }
}

/// A reference to output column `i` of `node`, as logical expressions of the parent write it.
pub fn column_ref(node: &PlanNode, i: usize) -> Expr {
    Expr::Column(node.columns[i].df_column())
}

/// The input column an expression is, if it is a bare (maybe aliased) column reference.
pub fn as_column(expr: &Expr) -> Option<&DfColumn> {
    match expr {
        Expr::Column(c) => Some(c),
        Expr::Alias(a) => as_column(&a.expr),
        _ => None,
    }
}

/// Strips aliases.
pub fn unalias(expr: &Expr) -> &Expr {
    match expr {
        Expr::Alias(a) => unalias(&a.expr),
        other => other,
    }
}
