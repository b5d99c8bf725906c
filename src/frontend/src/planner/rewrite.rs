//! Rewrites of the parsed SQL (before DataFusion plans it) where Postgres and DataFusion read the
//! same text differently.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    DataType as SqlType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident,
    Interval, LimitClause, ObjectName, Query, Select, SelectItem, Statement, TableAliasColumnDef, TableFactor, Value,
    ValueWithSpan, VisitMut, VisitorMut,
};
use tributary_common::pg_value::{parse_text, FormatOptions};
use tributary_common::types::DataType;

use crate::error::{FrontendError, Result};

/// Applies every rewrite to a statement.
pub fn rewrite(stmt: &mut Statement) -> Result<()> {
    let mut v = PgRewriter { error: None };
    let _ = stmt.visit(&mut v);
    match v.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

struct PgRewriter {
    error: Option<FrontendError>,
}

/// Set-returning functions with one output column: in Postgres `FROM f(...) AS x` names that
/// column `x` too.
const SINGLE_COLUMN_FUNCTIONS: &[&str] =
    &["generate_series", "unnest", "generate_subscripts", "regexp_split_to_table", "range"];

impl VisitorMut for PgRewriter {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        // `FETCH FIRST n ROWS ONLY` is `LIMIT n`.
        if let Some(fetch) = &q.fetch {
            if !fetch.with_ties && !fetch.percent {
                let quantity = fetch.quantity.clone().unwrap_or_else(|| Expr::value(Value::Number("1".into(), false)));
                match &mut q.limit_clause {
                    Some(LimitClause::LimitOffset { limit: limit @ None, .. }) => *limit = Some(quantity),
                    None => {
                        q.limit_clause = Some(LimitClause::LimitOffset { limit: Some(quantity), offset: None, limit_by: vec![] })
                    }
                    _ => return ControlFlow::Continue(()),
                }
                q.fetch = None;
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        // A set-returning generate_series in a SELECT list yields rows, as in Postgres.
        for item in select.projection.iter_mut() {
            let e = match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
                _ => continue,
            };
            if let Expr::Function(f) = e {
                if f.name.to_string().eq_ignore_ascii_case("generate_series") {
                    let inner = e.clone();
                    *e = Expr::Function(Function {
                        name: ObjectName::from(vec![Ident::new("unnest")]),
                        uses_odbc_syntax: false,
                        parameters: FunctionArguments::None,
                        args: FunctionArguments::List(FunctionArgumentList {
                            duplicate_treatment: None,
                            args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(inner))],
                            clauses: vec![],
                        }),
                        filter: None,
                        null_treatment: None,
                        over: None,
                        within_group: vec![],
                    });
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, alias: Some(alias), args: Some(_), .. } = factor {
            let fname = name.to_string().to_lowercase();
            if alias.columns.is_empty() && SINGLE_COLUMN_FUNCTIONS.contains(&fname.as_str()) {
                alias.columns.push(TableAliasColumnDef { name: alias.name.clone(), data_type: None });
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        // `1e100::float8`: numeric literals are decimals here, too narrow for such values and
        // inexact once converted; read the digits as a float directly, as Postgres does.
        if let Expr::Cast { expr: inner, data_type, .. } = expr {
            let is_float = matches!(
                data_type,
                SqlType::Real | SqlType::Float4 | SqlType::Float8 | SqlType::Float64 | SqlType::Double(_)
                    | SqlType::DoublePrecision | SqlType::Float(_)
            );
            if is_float {
                if let Expr::Value(v) = inner.as_mut() {
                    if let Value::Number(n, _) = &v.value {
                        v.value = Value::SingleQuotedString(n.clone());
                    }
                }
            }
        }
        // Interval text as Postgres reads it ('1 day 02:00:00', '1 mon', '-1 year'), spelled
        // in units DataFusion understands.
        let text = match expr {
            Expr::Interval(Interval { value, leading_field: None, last_field: None, .. }) => string_literal(value),
            Expr::Cast { expr: inner, data_type: SqlType::Interval { .. }, .. } => string_literal(inner),
            _ => None,
        };
        if let Some(text) = text {
            match normalize_interval(&text) {
                Ok(n) => {
                    *expr = Expr::Interval(Interval {
                        value: Box::new(Expr::Value(ValueWithSpan::from(Value::SingleQuotedString(n)))),
                        leading_field: None,
                        leading_precision: None,
                        last_field: None,
                        fractional_seconds_precision: None,
                    })
                }
                Err(e) => {
                    self.error = Some(e);
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    }
}

fn string_literal(e: &Expr) -> Option<String> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// `'1 day 02:00:00'` → `'1 days 7200000000000 nanoseconds'` (months, days, nanoseconds kept apart
/// as Postgres does).
fn normalize_interval(text: &str) -> Result<String> {
    let v = parse_text(text, &DataType::Interval, &FormatOptions::default())
        .map_err(|e| FrontendError::sql("22007", e.to_string()))?;
    match v {
        datafusion::scalar::ScalarValue::IntervalMonthDayNano(Some(i)) => {
            Ok(format!("{} months {} days {} nanoseconds", i.months, i.days, i.nanoseconds))
        }
        other => Err(FrontendError::Internal(format!("interval parsed as {other:?}"))),
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::{parse_statements, ParsedStatement};

    fn rewritten(sql: &str) -> String {
        let ParsedStatement::Sql(mut s) = parse_statements(sql).unwrap().remove(0) else { panic!() };
        rewrite(&mut s).unwrap();
        s.to_string()
    }

    #[test]
    fn rewrites() {
        assert_eq!(
            rewritten("SELECT g FROM generate_series(1, 3) AS g"),
            "SELECT g FROM generate_series(1, 3) AS g (g)"
        );
        assert!(rewritten("SELECT INTERVAL '1 day 02:00:00'").contains("'0 months 1 days 7200000000000 nanoseconds'"));
        assert!(rewritten("SELECT '1 mon'::interval").contains("'1 months 0 days 0 nanoseconds'"));
        assert_eq!(rewritten("SELECT 1e100::float8"), "SELECT '1e100'::FLOAT8");
    }
}
