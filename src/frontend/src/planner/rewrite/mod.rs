//! Rewrites of the parsed SQL (before DataFusion plans it) where Postgres and DataFusion read the
//! same text differently.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    AccessExpr, BinaryOperator, CastKind, DataType as SqlType, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident, Interval, LimitClause,
    ObjectName, ObjectNamePart, Query, Select, SelectItem, Statement, Subscript, TableAlias, TableAliasColumnDef,
    TableFactor, UnaryOperator, Value, ValueWithSpan, VisitMut, VisitorMut,
};
use tributary_common::pg_value::{parse_text, FormatOptions};
use tributary_common::types::DataType;
use tributary_expr::pg::REGEXP_MATCHES_LIST;

use crate::error::{FrontendError, Result};

mod shadow;

/// `FROM f(args) [AS a[(c)]]` for a scalar function `f`: Postgres reads it as a one-row table
/// whose one column is named `c`, else `a`, else `f`; here it becomes `(SELECT f(args) AS c) a`.
fn scalar_function_in_from(factor: &TableFactor) -> Option<TableFactor> {
    let TableFactor::Table { name, args: Some(args), alias, with_ordinality: false, .. } = factor else { return None };
    let [ObjectNamePart::Identifier(ident)] = name.0.as_slice() else { return None };
    let fname = crate::binder::normalize_ident(ident);
    if tributary_expr::is_table_function(&fname) {
        return None;
    }
    let column = match alias {
        Some(a) if !a.columns.is_empty() => a.columns[0].name.clone(),
        Some(a) => a.name.clone(),
        None => ident.clone(),
    };
    let mut call = call(&fname, args.args.clone());
    if let Expr::Function(f) = &mut call {
        f.name = name.clone();
    }
    let sql = format!("SELECT {call} AS {column}");
    let Ok(Statement::Query(subquery)) =
        datafusion::sql::sqlparser::parser::Parser::new(&crate::dialect::TributaryDialect::new()).try_with_sql(&sql).and_then(|mut p| p.parse_statement())
    else {
        return None;
    };
    let alias = TableAlias {
        explicit: true,
        name: alias.as_ref().map(|a| a.name.clone()).unwrap_or_else(|| ident.clone()),
        columns: vec![],
        at: None,
    };
    Some(TableFactor::Derived { lateral: false, subquery, alias: Some(alias), sample: None })
}

/// Applies every rewrite to a statement.
pub fn rewrite(stmt: &mut Statement) -> Result<()> {
    let mut v = PgRewriter { error: None };
    let _ = stmt.visit(&mut v);
    if let Some(e) = v.error {
        return Err(e);
    }
    shadow::alias_shadowing_tables(stmt);
    Ok(())
}

struct PgRewriter {
    error: Option<FrontendError>,
}

/// Set-returning functions with one output column: in Postgres `FROM f(...) AS x` names that
/// column `x` too.
const SINGLE_COLUMN_FUNCTIONS: &[&str] = &[
    "generate_series",
    "unnest",
    "generate_subscripts",
    "regexp_split_to_table",
    "range",
];

impl VisitorMut for PgRewriter {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        // `FETCH FIRST n ROWS ONLY` is `LIMIT n`.
        if let Some(fetch) = &q.fetch {
            if !fetch.with_ties && !fetch.percent {
                let quantity = fetch
                    .quantity
                    .clone()
                    .unwrap_or_else(|| Expr::value(Value::Number("1".into(), false)));
                match &mut q.limit_clause {
                    Some(LimitClause::LimitOffset {
                        limit: limit @ None,
                        ..
                    }) => *limit = Some(quantity),
                    None => {
                        q.limit_clause = Some(LimitClause::LimitOffset {
                            limit: Some(quantity),
                            offset: None,
                            limit_by: vec![],
                        })
                    }
                    _ => return ControlFlow::Continue(()),
                }
                q.fetch = None;
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        // Postgres names the column of a set-returning call after the function; the call itself
        // becomes an unnest (post_visit_expr), which DataFusion would name otherwise.
        for item in select.projection.iter_mut() {
            if let SelectItem::UnnamedExpr(e) = item {
                if is_regexp_matches(e) {
                    *item = SelectItem::ExprWithAlias {
                        expr: e.clone(),
                        alias: Ident::new("regexp_matches"),
                    };
                }
            }
        }
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
        // `FROM regexp_matches(s, p [, flags]) [AS x]`: the rows of an unnest of its list twin
        // (lateral references such as `FROM t, regexp_matches(t.s, p)` work as with unnest).
        if let TableFactor::Table {
            name,
            args: Some(args),
            alias,
            with_ordinality: false,
            ..
        } = factor
        {
            if is_regexp_matches_name(name) {
                let alias = alias.take().unwrap_or_else(|| TableAlias {
                    explicit: true,
                    name: Ident::new("regexp_matches"),
                    columns: vec![],
                    at: None,
                });
                *factor = TableFactor::UNNEST {
                    alias: Some(alias),
                    array_exprs: vec![call(REGEXP_MATCHES_LIST, std::mem::take(&mut args.args))],
                    with_offset: false,
                    with_offset_alias: None,
                    with_ordinality: false,
                };
            }
        }
        match time_window(factor) {
            Ok(Some(derived)) => *factor = derived,
            Ok(None) => {}
            Err(e) => {
                self.error = Some(e);
                return ControlFlow::Break(());
            }
        }
        if let Some(derived) = scalar_function_in_from(factor) {
            *factor = derived;
        }
        if let TableFactor::Table {
            name,
            alias: Some(alias),
            args: Some(_),
            ..
        } = factor
        {
            let fname = name.to_string().to_lowercase();
            if alias.columns.is_empty() && SINGLE_COLUMN_FUNCTIONS.contains(&fname.as_str()) {
                alias.columns.push(TableAliasColumnDef {
                    name: alias.name.clone(),
                    data_type: None,
                });
            }
        }
        // `unnest(a) AS x` (sqlparser's own UNNEST node) likewise names its column `x`.
        if let TableFactor::UNNEST {
            alias: Some(alias),
            array_exprs,
            with_ordinality: false,
            ..
        } = factor
        {
            if alias.columns.is_empty() && array_exprs.len() == 1 {
                alias.columns.push(TableAliasColumnDef {
                    name: alias.name.clone(),
                    data_type: None,
                });
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        // `regexp_matches(...)` returns a set of text[] rows: unnest a list of the matches (in a
        // SELECT list, nested in unnest too, as Postgres' ProjectSet evaluates it).
        if is_regexp_matches(expr) {
            if let Expr::Function(Function {
                args: FunctionArguments::List(list),
                ..
            }) = expr
            {
                let inner = call(REGEXP_MATCHES_LIST, std::mem::take(&mut list.args));
                *expr = call(
                    "unnest",
                    vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(inner))],
                );
                return ControlFlow::Continue(());
            }
        }
        // `unnest(unnest(x))` (what `unnest(regexp_matches(...))` becomes): the elements of the
        // inner lists in order, that is one unnest of `flatten(x)`, which materialized views run
        // (they have no recursive unnest).
        if let Some(inner) = unnest_arg(expr) {
            if let Some(innermost) = unnest_arg(inner) {
                let flat = call("flatten", vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(innermost.clone()))]);
                *expr = call("unnest", vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(flat))]);
                return ControlFlow::Continue(());
            }
        }
        // `a[2:]` and `a[:2]`: an open end of a slice is the array's end; DataFusion wants both
        // bounds, and clamps them to the array. `(s).f`: a struct field by name, which DataFusion
        // reads as `s['f']`.
        if let Expr::CompoundFieldAccess { access_chain, .. } = expr {
            for access in access_chain.iter_mut() {
                if let AccessExpr::Dot(Expr::Identifier(field)) = access {
                    let name = crate::binder::normalize_ident(field);
                    *access = AccessExpr::Subscript(Subscript::Index { index: Expr::value(Value::SingleQuotedString(name)) });
                    continue;
                }
                if let AccessExpr::Subscript(Subscript::Slice {
                    lower_bound,
                    upper_bound,
                    ..
                }) = access
                {
                    lower_bound
                        .get_or_insert_with(|| Expr::value(Value::Number("1".into(), false)));
                    upper_bound.get_or_insert_with(|| {
                        Expr::value(Value::Number(i32::MAX.to_string(), false))
                    });
                }
            }
        }
        if let Expr::UnaryOp { op, expr: inner } = expr {
            match op {
                // `~x` on integers: x # -1 flips every bit, and a smallint -1 leaves x's type as is.
                UnaryOperator::BitwiseNot => {
                    let minus_one = Expr::Cast {
                        kind: CastKind::DoubleColon,
                        expr: Box::new(Expr::UnaryOp {
                            op: UnaryOperator::Minus,
                            expr: Box::new(Expr::value(Value::Number("1".into(), false))),
                        }),
                        data_type: SqlType::SmallInt(None),
                        array: false,
                        format: None,
                    };
                    *expr = Expr::Nested(Box::new(Expr::BinaryOp {
                        left: inner.clone(),
                        op: BinaryOperator::PGBitwiseXor,
                        right: Box::new(minus_one),
                    }));
                    return ControlFlow::Continue(());
                }
                // `- INTERVAL '1 day 02:00:00'`: DataFusion negates a literal by prefixing its text
                // with `-`, which negates only the first field of the normalized text below.
                UnaryOperator::Minus => {
                    if let Expr::Interval(Interval {
                        value,
                        leading_field: None,
                        last_field: None,
                        ..
                    }) = inner.as_ref()
                    {
                        if let Some((m, d, n)) =
                            string_literal(value).as_deref().and_then(normalized_parts)
                        {
                            let negated = match (m.checked_neg(), d.checked_neg(), n.checked_neg())
                            {
                                (Some(m), Some(d), Some(n)) => interval_expr(m, d, n),
                                _ => {
                                    self.error =
                                        Some(FrontendError::sql("22008", "interval out of range"));
                                    return ControlFlow::Break(());
                                }
                            };
                            *expr = negated;
                            return ControlFlow::Continue(());
                        }
                    }
                }
                _ => {}
            }
        }
        // `1e100::float8`: numeric literals are decimals here, too narrow for such values and
        // inexact once converted; read the digits as a float directly, as Postgres does.
        if let Expr::Cast {
            expr: inner,
            data_type,
            ..
        } = expr
        {
            let is_float = matches!(
                data_type,
                SqlType::Real
                    | SqlType::Float4
                    | SqlType::Float8
                    | SqlType::Float64
                    | SqlType::Double(_)
                    | SqlType::DoublePrecision
                    | SqlType::Float(_)
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
            Expr::Interval(Interval {
                value,
                leading_field: None,
                last_field: None,
                ..
            }) => string_literal(value),
            Expr::Cast {
                expr: inner,
                data_type: SqlType::Interval { .. },
                ..
            } => string_literal(inner),
            _ => None,
        };
        if let Some(text) = text {
            match normalize_interval(&text) {
                Ok((m, d, n)) => *expr = interval_expr(m, d, n),
                Err(e) => {
                    self.error = Some(e);
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    }
}

fn is_regexp_matches_name(name: &ObjectName) -> bool {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| p.to_string().to_lowercase())
        .collect();
    matches!(parts.as_slice(), [f] | [_, f] if f == "regexp_matches")
        && (parts.len() == 1 || parts[0] == "pg_catalog")
}

fn is_regexp_matches(e: &Expr) -> bool {
    matches!(e, Expr::Function(f) if is_regexp_matches_name(&f.name) && matches!(f.args, FunctionArguments::List(_)))
}

/// A plain call `name(args)`.
/// The argument of a one-argument `unnest(...)` call.
fn unnest_arg(e: &Expr) -> Option<&Expr> {
    let Expr::Function(Function { name, args: FunctionArguments::List(list), over: None, .. }) = e else { return None };
    if !name.to_string().eq_ignore_ascii_case("unnest") {
        return None;
    }
    match list.args.as_slice() {
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] => Some(arg),
        _ => None,
    }
}

fn call(name: &str, args: Vec<FunctionArg>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args,
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// RisingWave's time windows in FROM, as derived tables over `t` adding `window_start` and
/// `window_end` (functions of `tributary_expr`'s `window_fn`):
/// `TUMBLE(t, ts, size [, offset])` → `(SELECT *, tumble_start(ts, size, offset) AS window_start,
/// ... + size AS window_end FROM t) AS t`; `HOP(t, ts, slide, size [, offset])` gives each row
/// once per window holding it, by unnesting `hop_window_starts(ts, slide, size, offset)`.
fn time_window(factor: &TableFactor) -> Result<Option<TableFactor>> {
    let TableFactor::Table {
        name,
        args: Some(args),
        alias,
        ..
    } = factor
    else {
        return Ok(None);
    };
    let fname = name.to_string().to_lowercase();
    let (min, max) = match fname.as_str() {
        "tumble" => (3, 4),
        "hop" => (4, 5),
        _ => return Ok(None),
    };
    let upper = fname.to_uppercase();
    let mut exprs = vec![];
    for a in &args.args {
        match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => exprs.push(e.to_string()),
            _ => {
                return Err(FrontendError::sql(
                    "42601",
                    format!("invalid argument of {upper}: {a}"),
                ))
            }
        }
    }
    if exprs.len() < min || exprs.len() > max {
        return Err(FrontendError::sql(
            "42883",
            format!(
                "function {upper} takes {min} or {max} arguments ({} given)",
                exprs.len()
            ),
        ));
    }
    // Window sizes given as literals are checked here: at run time a bad one would only turn
    // rows into NULLs.
    let sizes: &[(usize, &str)] = if fname == "tumble" {
        &[(2, "window size")]
    } else {
        &[(2, "slide"), (3, "window size")]
    };
    for (i, what) in sizes {
        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = &args.args[*i] {
            if let Some((m, d, n)) = literal_interval(e) {
                if m < 0 || d < 0 || n < 0 || (m, d, n) == (0, 0, 0) {
                    return Err(FrontendError::sql(
                        "22023",
                        format!("{upper}: {what} must be positive, not {e}"),
                    ));
                }
            }
        }
    }
    let table = &exprs[0];
    let alias_text = match alias {
        Some(a) if a.columns.is_empty() => a.name.to_string(),
        Some(a) => format!(
            "{} ({})",
            a.name,
            a.columns
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => match &args.args[0] {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::CompoundIdentifier(ids))) => {
                ids.last().map(|i| i.to_string()).unwrap_or_default()
            }
            _ => table.clone(),
        },
    };
    let time_col = &exprs[1];
    let subquery = if fname == "tumble" {
        let size = &exprs[2];
        let start = match exprs.get(3) {
            Some(offset) => format!("tumble_start({time_col}, {size}, {offset})"),
            None => format!("tumble_start({time_col}, {size})"),
        };
        format!("SELECT *, {start} AS window_start, {start} + {size} AS window_end FROM {table}")
    } else {
        let (slide, size) = (&exprs[2], &exprs[3]);
        let starts = match exprs.get(4) {
            Some(offset) => format!("hop_window_starts({time_col}, {slide}, {size}, {offset})"),
            None => format!("hop_window_starts({time_col}, {slide}, {size})"),
        };
        format!(
            "SELECT *, window_start + {size} AS window_end FROM (SELECT *, unnest({starts}) AS window_start FROM {table}) AS __hop"
        )
    };
    let sql = format!("SELECT * FROM ({subquery}) AS {alias_text}");
    let mut stmts = datafusion::sql::sqlparser::parser::Parser::parse_sql(
        &crate::dialect::TributaryDialect::new(),
        &sql,
    )
    .map_err(|e| FrontendError::sql("42601", format!("invalid {upper} call: {e}")))?;
    let Some(Statement::Query(q)) = stmts.pop() else {
        return Err(FrontendError::Internal(format!(
            "{upper} rewrite did not give a query"
        )));
    };
    let datafusion::sql::sqlparser::ast::SetExpr::Select(select) = *q.body else {
        return Err(FrontendError::Internal(format!(
            "{upper} rewrite did not give a SELECT"
        )));
    };
    let mut from = select.from;
    match from.pop() {
        Some(twj) => Ok(Some(twj.relation)),
        None => Err(FrontendError::Internal(format!(
            "{upper} rewrite lost its FROM"
        ))),
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

/// The fields of an interval literal (`INTERVAL '2' SECOND`, `INTERVAL '1 day'`, `'1h'::interval`).
fn literal_interval(e: &Expr) -> Option<(i32, i32, i64)> {
    let text = match e {
        Expr::Interval(Interval {
            value,
            leading_field,
            last_field: None,
            ..
        }) => {
            let v = string_literal(value)?;
            match leading_field {
                Some(f) => format!("{v} {f}"),
                None => v,
            }
        }
        Expr::Cast {
            expr: inner,
            data_type: SqlType::Interval { .. },
            ..
        } => string_literal(inner)?,
        _ => return None,
    };
    normalize_interval(&text).ok()
}

/// `'1 day 02:00:00'` → (0 months, 1 day, 7200000000000 nanoseconds): the fields stay apart as
/// in Postgres.
fn normalize_interval(text: &str) -> Result<(i32, i32, i64)> {
    let v = parse_text(text, &DataType::Interval, &FormatOptions::default())
        .map_err(|e| FrontendError::sql("22007", e.to_string()))?;
    match v {
        datafusion::scalar::ScalarValue::IntervalMonthDayNano(Some(i)) => {
            Ok((i.months, i.days, i.nanoseconds))
        }
        other => Err(FrontendError::Internal(format!(
            "interval parsed as {other:?}"
        ))),
    }
}

/// `INTERVAL '1 months 2 days 3 nanoseconds'`, in units DataFusion reads as they are.
fn interval_expr(months: i32, days: i32, nanos: i64) -> Expr {
    let text = format!("{months} months {days} days {nanos} nanoseconds");
    Expr::Interval(Interval {
        value: Box::new(Expr::Value(ValueWithSpan::from(Value::SingleQuotedString(
            text,
        )))),
        leading_field: None,
        leading_precision: None,
        last_field: None,
        fractional_seconds_precision: None,
    })
}

/// The fields of an [`interval_expr`] text.
fn normalized_parts(text: &str) -> Option<(i32, i32, i64)> {
    match text.split(' ').collect::<Vec<_>>().as_slice() {
        [m, "months", d, "days", n, "nanoseconds"] => {
            Some((m.parse().ok()?, d.parse().ok()?, n.parse().ok()?))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::{parse_statements, ParsedStatement};

    fn rewritten(sql: &str) -> String {
        let ParsedStatement::Sql(mut s) = parse_statements(sql).unwrap().remove(0) else {
            panic!()
        };
        rewrite(&mut s).unwrap();
        s.to_string()
    }

    #[test]
    fn window_sizes_must_be_positive() {
        let err = |sql: &str| {
            let ParsedStatement::Sql(mut s) = parse_statements(sql).unwrap().remove(0) else {
                panic!()
            };
            rewrite(&mut s).unwrap_err().to_string()
        };
        assert!(err("SELECT * FROM hop(t, ts, interval '0', interval '1')")
            .contains("HOP: slide must be positive"));
        assert!(err("SELECT * FROM hop(t, ts, interval '1', interval '-1')")
            .contains("HOP: window size must be positive"));
        assert!(err("SELECT * FROM tumble(t, ts, INTERVAL '-2' SECOND)")
            .contains("TUMBLE: window size must be positive"));
        rewritten("SELECT * FROM hop(t, ts, INTERVAL '2' SECOND, INTERVAL '10' SECOND)");
    }

    #[test]
    fn rewrites() {
        assert_eq!(
            rewritten("SELECT g FROM generate_series(1, 3) AS g"),
            "SELECT g FROM generate_series(1, 3) AS g (g)"
        );
        assert!(rewritten("SELECT INTERVAL '1 day 02:00:00'")
            .contains("'0 months 1 days 7200000000000 nanoseconds'"));
        assert!(rewritten("SELECT '1 mon'::interval").contains("'1 months 0 days 0 nanoseconds'"));
        assert_eq!(rewritten("SELECT 1e100::float8"), "SELECT '1e100'::FLOAT8");
        assert_eq!(
            rewritten("SELECT -INTERVAL '1 day 02:00:00'"),
            "SELECT INTERVAL '0 months -1 days -7200000000000 nanoseconds'"
        );
        assert_eq!(
            rewritten("SELECT ~v FROM t"),
            "SELECT (v # -1::SMALLINT) FROM t"
        );
        assert_eq!(
            rewritten("SELECT a[2:], a[:3] FROM t"),
            "SELECT a[2:2147483647], a[1:3] FROM t"
        );
        assert_eq!(
            rewritten(
                "SELECT regexp_matches(s, 'a(b)', 'g'), unnest(regexp_matches(s, 'c')) AS c FROM t"
            ),
            "SELECT unnest(__regexp_matches_list(s, 'a(b)', 'g')) AS regexp_matches, \
             unnest(flatten(__regexp_matches_list(s, 'c'))) AS c FROM t"
        );
        assert_eq!(rewritten("SELECT * FROM abs(-1)"), "SELECT * FROM (SELECT abs(-1) AS abs) AS abs");
        assert_eq!(rewritten("SELECT * FROM upper('a') AS x(y)"), "SELECT * FROM (SELECT upper('a') AS y) AS x");
        assert_eq!(rewritten("SELECT * FROM generate_series(1, 2)"), "SELECT * FROM generate_series(1, 2)");
        assert_eq!(
            rewritten("SELECT * FROM t, regexp_matches(t.s, 'x') AS m, pg_catalog.regexp_matches('a', 'b')"),
            "SELECT * FROM t, UNNEST(__regexp_matches_list(t.s, 'x')) AS m (m), \
             UNNEST(__regexp_matches_list('a', 'b')) AS regexp_matches (regexp_matches)"
        );
        assert_eq!(
            rewritten("SELECT x FROM t, unnest(t.a) AS x"),
            "SELECT x FROM t, UNNEST(t.a) AS x (x)"
        );
        assert_eq!(
            rewritten("SELECT window_start FROM TUMBLE(s.t, ts, INTERVAL '1' HOUR)"),
            "SELECT window_start FROM (SELECT *, tumble_start(ts, INTERVAL '1' HOUR) AS window_start, \
             tumble_start(ts, INTERVAL '1' HOUR) + INTERVAL '1' HOUR AS window_end FROM s.t) AS t"
        );
        assert_eq!(
            rewritten("SELECT * FROM hop(t, ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE, INTERVAL '1' SECOND) AS w"),
            "SELECT * FROM (SELECT *, window_start + INTERVAL '2' MINUTE AS window_end FROM (SELECT *, \
             unnest(hop_window_starts(ts, INTERVAL '1' MINUTE, INTERVAL '2' MINUTE, INTERVAL '1' SECOND)) AS window_start \
             FROM t) AS __hop) AS w"
        );
        assert!(parse_statements("SELECT * FROM tumble(t, ts)")
            .ok()
            .and_then(|mut v| match v.remove(0) {
                ParsedStatement::Sql(mut s) => rewrite(&mut s).err(),
                _ => None,
            })
            .is_some());
    }
}
