//! SELECT (and EXPLAIN): planned and run by DataFusion over one committed epoch.

use std::ops::ControlFlow;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use datafusion::common::{ParamValues, ScalarValue};
use datafusion::dataframe::DataFrame;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, Query, SelectItem, SetExpr, Statement, Value,
    VisitMut, VisitorMut,
};

use super::{FrontendEnv, StatementResult};
use crate::error::{FrontendError, Result};
use crate::session::Session;

pub async fn handle_query(
    env: &FrontendEnv,
    session: &mut Session,
    stmt: Statement,
    params: Option<&ParamValues>,
) -> Result<StatementResult> {
    let is_explain = matches!(stmt, Statement::Explain { .. });
    let mut stmt = stmt;
    if !is_explain {
        apply_set_config(session, &mut stmt, params)?;
    }
    let names = match &mut stmt {
        Statement::Query(q) => prepare_output_names(q),
        _ => None,
    };
    let ctx = env.planning_context(session, false)?;
    let state = ctx.session_state();
    let plan = state.statement_to_plan(DfStatement::Statement(Box::new(stmt))).await?;
    let plan = tributary_expr::pg::rewrite_plan(plan)?;
    let plan = match params {
        Some(p) => plan.with_param_values(p.clone())?,
        None => plan,
    };
    let df = DataFrame::new(state, plan);
    // The analyzer (type coercion of UNION branches, Postgres casts) may change output types:
    // describe the rows from the plan that produces them.
    let task = Arc::new(df.task_ctx());
    let physical = df.create_physical_plan().await?;
    let schema: SchemaRef = physical.schema();
    let batches = datafusion::physical_plan::collect(physical, task).await?;
    let (schema, batches) = if is_explain { explain_rows(&batches)? } else { rename(schema, batches, names)? };
    let rows = batches.iter().map(|b| b.num_rows()).sum();
    Ok(StatementResult::Rows { schema, batches, tag: "SELECT".into(), rows_in_tag: Some(rows) })
}

/// `set_config(name, value, is_local)` changes a session variable while the query runs; the
/// session is not reachable from DataFusion's functions, so the calls (with constant arguments)
/// take effect here, before planning, and keep only their result to compute: the new value,
/// put in as the call's value argument. `is_local` settings last for the transaction, which is
/// the statement itself here.
pub fn apply_set_config(session: &mut Session, stmt: &mut Statement, params: Option<&ParamValues>) -> Result<()> {
    struct V<'a> {
        session: &'a mut Session,
        params: Option<&'a ParamValues>,
        error: Option<FrontendError>,
    }
    impl VisitorMut for V<'_> {
        type Break = ();
        fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            match set_config_call(self.session, expr, self.params) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    self.error = Some(e);
                    ControlFlow::Break(())
                }
            }
        }
    }
    let mut v = V { session, params, error: None };
    let _ = stmt.visit(&mut v);
    v.error.map_or(Ok(()), Err)
}

fn set_config_call(session: &mut Session, expr: &mut Expr, params: Option<&ParamValues>) -> Result<()> {
    let Expr::Function(f) = expr else { return Ok(()) };
    let is_set_config = f.name.0.last().and_then(|p| p.as_ident()).is_some_and(|i| i.value.eq_ignore_ascii_case("set_config"));
    let FunctionArguments::List(list) = &mut f.args else { return Ok(()) };
    if !is_set_config || list.args.len() != 3 {
        return Ok(());
    }
    let mut consts = Vec::with_capacity(3);
    for arg in &list.args {
        let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg else { return Ok(()) };
        consts.push(constant(e, params).ok_or_else(|| {
            FrontendError::not_supported("set_config with arguments other than constants and parameters")
        })?);
    }
    let name = consts[0].clone().ok_or_else(|| FrontendError::sql("22004", "SET requires parameter name"))?;
    let is_local = match consts[2].as_deref() {
        None => false,
        Some(b) => crate::session::parse_bool(b)
            .ok_or_else(|| FrontendError::sql("22P02", format!("invalid input syntax for type boolean: \"{b}\"")))?,
    };
    let value = match (&consts[1], is_local) {
        (None, true) => session.default_value(&name)?,
        (Some(v), true) => session.check(&name, v)?,
        (None, false) => {
            session.reset(&name)?;
            session.get(&name)?
        }
        (Some(v), false) => {
            session.set(&name, v)?;
            session.get(&name)?
        }
    };
    let literal = |v: Value| FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::value(v)));
    list.args = vec![
        literal(Value::SingleQuotedString(name)),
        literal(Value::SingleQuotedString(value)),
        literal(Value::Boolean(is_local)),
    ];
    Ok(())
}

/// The text of a constant argument (`Some(None)` for NULL); `None` if it is not a constant.
fn constant(e: &Expr, params: Option<&ParamValues>) -> Option<Option<String>> {
    match e {
        Expr::Nested(inner) | Expr::Cast { expr: inner, .. } => constant(inner, params),
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s) | Value::Number(s, _) => Some(Some(s.clone())),
            Value::Boolean(b) => Some(Some(b.to_string())),
            Value::Null => Some(None),
            Value::Placeholder(id) => {
                let value = params?.get_placeholders_with_values(id).ok()?.value;
                match value {
                    v if v.is_null() => Some(None),
                    ScalarValue::Utf8(s) | ScalarValue::LargeUtf8(s) | ScalarValue::Utf8View(s) => Some(s),
                    other => Some(Some(other.to_string())),
                }
            }
            _ => None,
        },
        _ => None,
    }
}

/// Output column names as Postgres gives them, where DataFusion's differ (`?column?` for
/// expressions, the function name for calls). `None` keeps DataFusion's names.
///
/// DataFusion also refuses two output columns with the same name (`SELECT 1, 1`), which Postgres
/// allows: unaliased expressions of the top-level SELECTs get unique internal aliases here, and
/// the Postgres names are put back on the result.
pub fn prepare_output_names(q: &mut Query) -> Option<Vec<Option<String>>> {
    // CTEs with a column list rename their columns anyway: their SELECTs can take aliases too.
    if let Some(with) = &mut q.with {
        for cte in with.cte_tables.iter_mut().filter(|c| !c.alias.columns.is_empty()) {
            let mut ignored = Some(vec![]);
            alias_selects(cte.query.body.as_mut(), &mut ignored);
        }
    }
    let mut names = None;
    alias_selects(q.body.as_mut(), &mut names);
    names
}

fn alias_selects(body: &mut SetExpr, names: &mut Option<Vec<Option<String>>>) {
    match body {
        SetExpr::SetOperation { left, right, .. } => {
            alias_selects(left, names);
            let mut ignored = Some(vec![]);
            alias_selects(right, &mut ignored);
        }
        SetExpr::Query(q) => alias_selects(q.body.as_mut(), names),
        SetExpr::Select(select) => {
            let mut out = Vec::with_capacity(select.projection.len());
            let mut seen = std::collections::HashSet::new();
            let mut has_wildcard = false;
            for (i, item) in select.projection.iter_mut().enumerate() {
                match item {
                    SelectItem::UnnamedExpr(e) => {
                        let pg = expr_name(e);
                        let plain = column_name(e);
                        let unique = plain.as_ref().is_some_and(|n| seen.insert(n.clone()));
                        if pg.is_none() && unique {
                            out.push(None);
                            continue;
                        }
                        let name = pg.or(plain).unwrap_or_else(|| "?column?".into());
                        *item = SelectItem::ExprWithAlias {
                            expr: e.clone(),
                            alias: Ident::with_quote('"', format!("__tributary_col_{i}")),
                        };
                        out.push(Some(name));
                    }
                    SelectItem::ExprWithAlias { alias, .. } => {
                        seen.insert(crate::binder::normalize_ident(alias));
                        out.push(None);
                    }
                    _ => has_wildcard = true,
                }
            }
            if names.is_none() {
                *names = (!has_wildcard).then_some(out);
            }
        }
        _ => {}
    }
}

/// The name of a plain column reference.
fn column_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(crate::binder::normalize_ident(i)),
        Expr::CompoundIdentifier(parts) => parts.last().map(crate::binder::normalize_ident),
        _ => None,
    }
}

fn expr_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => None,
        Expr::Nested(inner) => expr_name(inner),
        Expr::Cast { expr, .. } => match expr.as_ref() {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => column_name(expr),
            _ => expr_name(expr),
        },
        Expr::Function(f) => {
            Some(f.name.0.last().map(|p| p.to_string().trim_matches('"').to_lowercase()).unwrap_or_default())
        }
        Expr::Case { .. } => Some("case".into()),
        Expr::Exists { .. } => Some("exists".into()),
        Expr::Array(_) => Some("array".into()),
        _ => Some("?column?".into()),
    }
}

fn rename(
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    names: Option<Vec<Option<String>>>,
) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let Some(names) = names.filter(|n| n.len() == schema.fields().len()) else {
        return Ok((schema, batches));
    };
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(names)
        .map(|(f, n)| match n {
            Some(n) => f.as_ref().clone().with_name(n),
            None => f.as_ref().clone(),
        })
        .collect();
    let new_schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let batches = batches
        .into_iter()
        .map(|b| {
            let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(b.num_rows()));
            RecordBatch::try_new_with_options(new_schema.clone(), b.columns().to_vec(), &options)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((new_schema, batches))
}

/// EXPLAIN output as Postgres shows it: one text column `QUERY PLAN`.
fn explain_rows(batches: &[RecordBatch]) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let mut lines = Vec::new();
    for b in batches {
        let kinds = b.column(0).as_any().downcast_ref::<StringArray>();
        let plans = b.column(b.num_columns() - 1).as_any().downcast_ref::<StringArray>();
        if let (Some(kinds), Some(plans)) = (kinds, plans) {
            for i in 0..b.num_rows() {
                lines.push(format!("{}:", kinds.value(i)));
                lines.extend(plans.value(i).lines().map(|l| format!("  {l}")));
            }
        }
    }
    let schema = Arc::new(Schema::new(vec![Field::new("QUERY PLAN", ArrowType::Utf8, false)]));
    let col: ArrayRef = Arc::new(StringArray::from(lines));
    Ok((schema.clone(), vec![RecordBatch::try_new(schema, vec![col])?]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::{parse_statements, ParsedStatement};

    fn set_config(session: &mut Session, sql: &str, params: Option<&ParamValues>) -> Result<String> {
        let ParsedStatement::Sql(mut stmt) = parse_statements(sql)?.remove(0) else { panic!("not sql") };
        apply_set_config(session, &mut stmt, params)?;
        Ok(stmt.to_string())
    }

    #[test]
    fn set_config_sets_the_session() {
        let mut s = Session::new("dev".into(), "root".into());
        let sql = set_config(&mut s, "SELECT set_config('application_name', 'app', false)", None).unwrap();
        assert_eq!(sql, "SELECT set_config('application_name', 'app', false)");
        assert_eq!(s.get("application_name").unwrap(), "app");
        // local: the statement's own transaction only
        let sql = set_config(&mut s, "SELECT pg_catalog.set_config('extra_float_digits', '2', true)", None).unwrap();
        assert_eq!(sql, "SELECT set_config('extra_float_digits', '2', true)");
        assert_eq!(s.get("extra_float_digits").unwrap(), "1");
        // NULL resets
        set_config(&mut s, "SELECT set_config('application_name', NULL, false)", None).unwrap();
        assert_eq!(s.get("application_name").unwrap(), "");
        let params = ParamValues::List(vec![
            ScalarValue::Utf8(Some("myapp.user_id".into())).into(),
            ScalarValue::Utf8(Some("42".into())).into(),
        ]);
        set_config(&mut s, "SELECT set_config($1, $2, false)", Some(&params)).unwrap();
        assert_eq!(s.get("myapp.user_id").unwrap(), "42");
        let e = set_config(&mut s, "SELECT set_config('timezone', 'Mars/Base', false)", None).unwrap_err();
        assert_eq!(e.sqlstate(), "22023");
        let e = set_config(&mut s, "SELECT set_config(name, 'x', false) FROM t", None).unwrap_err();
        assert_eq!(e.sqlstate(), "0A000");
        let e = set_config(&mut s, "SELECT set_config(NULL, 'x', false)", None).unwrap_err();
        assert_eq!(e.sqlstate(), "22004");
    }
}
