//! Rewrites of the SQL that catalog queries (psql's `\d` family, drivers, BI tools) use and
//! DataFusion does not plan, into equivalents it does:
//!
//! - `pg_catalog.f(...)` → `f(...)` (DataFusion does not resolve qualified function names), and
//!   `FROM pg_catalog.unnest(...)` → `FROM unnest(...)`.
//! - `a OPERATOR(pg_catalog.~) b` → `a ~ b`; `x COLLATE "C"` / `COLLATE pg_catalog.default` → `x`
//!   (text compares bytewise, which is the C collation every database has).
//! - Casts to the object-id types: `::oid` → `::integer` (oids are `Int32`), `::name` and
//!   `::"char"` → `::text`, `::regclass` / `::regtype` / `::regnamespace` / `::regrole` /
//!   `::regproc` → calls of the functions of the same name (text → oid, oid → name; followed by
//!   `::text`, the name either way), and `pg_catalog.`-qualified type names → the plain type.
//! - Bare `current_schema` and `current_role` → function calls.
//! - `ARRAY(SELECT e FROM unnest(arr) x)` → `array_transform(arr, x -> e)`; other
//!   `ARRAY(SELECT e FROM ...)` → `(SELECT array_agg(e ORDER BY ...) FROM ...)`.
//! - Correlated scalar subqueries over system tables, which DataFusion decorrelates only when
//!   aggregated and correlated by equalities alone: conditions on the outer row alone move to a
//!   `CASE WHEN` around the subquery, outer columns equated with inner ones are replaced by those
//!   in the other conditions, and a non-aggregated result is wrapped in `first_value`.
//! - Subqueries in the select list of a query over an always-empty system table (pg_policy,
//!   pg_statistic_ext, ...) become NULL: they are never evaluated, and some are lateral forms
//!   DataFusion cannot plan.
//! - `SELECT <constant> IN (subquery)` → an uncorrelated scalar subquery (DataFusion plans IN
//!   subqueries only in filters).
//! - Select items that end up with equal names (`SELECT NULL, NULL`, `x::regclass` named after
//!   `x` as in Postgres) get distinct aliases: Postgres allows equal names, DataFusion does not.
//!
//! Call [`rewrite_for_catalog`] on every parsed statement before it is planned.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    visit_expressions, visit_expressions_mut, ArrayElemTypeDef, BinaryOperator, CaseWhen, DataType as SqlType, Expr,
    Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArgumentList, FunctionArguments,
    GroupByExpr, Ident, LambdaFunction, LambdaFunctionParameter, LambdaSyntax, LimitClause, ObjectName, ObjectNamePart,
    OneOrManyWithParens, OrderBy, OrderByExpr, OrderByKind, Query, Select, SelectItem, SetExpr, Statement, TableFactor,
    UnaryOperator, Value, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::parser::Parser;

use super::{is_always_empty, is_system_relation};

/// Rewrites `stmt` in place (queries and DML only; DDL keeps its text). Constructs it does not
/// know are left for the planner to accept or reject.
pub fn rewrite_for_catalog(stmt: &mut Statement) {
    let applies = matches!(
        stmt,
        Statement::Query(_)
            | Statement::Explain { .. }
            | Statement::Insert(_)
            | Statement::Update(_)
            | Statement::Delete(_)
    );
    if applies {
        let _ = stmt.visit(&mut Rewriter);
    }
}

struct Rewriter;

impl VisitorMut for Rewriter {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let ordered_by = order_by_names(query);
        for select in selects(&mut query.body) {
            name_cast_columns(select, &ordered_by);
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        drop_subqueries_over_empty_table(select);
        rewrite_constant_in_subqueries(select);
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        name_duplicate_columns(select);
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        rewrite_table_function(factor);
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Some(new) = rewrite_expr(expr) {
            *expr = new;
        }
        ControlFlow::Continue(())
    }
}

fn ident_is(part: &ObjectNamePart, name: &str) -> bool {
    part.as_ident().is_some_and(|i| i.value.eq_ignore_ascii_case(name))
}

/// `pg_catalog.x` → `x`, as an object name.
fn strip_pg_catalog(name: &mut ObjectName) {
    if name.0.len() == 2 && ident_is(&name.0[0], "pg_catalog") {
        name.0.remove(0);
    }
}

fn call(name: &str, args: Vec<Expr>) -> Expr {
    call_with(name, args, vec![])
}

fn call_with(name: &str, args: Vec<Expr>, clauses: Vec<FunctionArgumentClause>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args.into_iter().map(|a| FunctionArg::Unnamed(FunctionArgExpr::Expr(a))).collect(),
            clauses,
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

fn null() -> Expr {
    Expr::value(Value::Null)
}

/// What a cast to a Postgres type becomes.
enum CastTo {
    Type(SqlType),
    /// A call of this function (the reg* types).
    Func(&'static str),
}

fn reg_function(name: &str) -> Option<&'static str> {
    Some(match name {
        "regclass" => "regclass",
        "regtype" => "regtype",
        "regnamespace" => "regnamespace",
        "regrole" => "regrole",
        "regproc" | "regprocedure" => "regproc",
        _ => return None,
    })
}

/// The replacement of a cast's type, `None` when it stays as written.
fn map_type(t: &SqlType) -> Option<CastTo> {
    match t {
        SqlType::Regclass => Some(CastTo::Func("regclass")),
        SqlType::Custom(name, modifiers) => {
            let parts: Vec<&Ident> = name.0.iter().filter_map(|p| p.as_ident()).collect();
            let last = match parts.as_slice() {
                [one] => *one,
                [schema, one] if schema.value.eq_ignore_ascii_case("pg_catalog") => *one,
                _ => return None,
            };
            let lower = last.value.to_ascii_lowercase();
            if let Some(f) = reg_function(&lower) {
                return Some(CastTo::Func(f));
            }
            match lower.as_str() {
                "oid" | "xid" | "cid" | "regoper" | "regoperator" => return Some(CastTo::Type(SqlType::Int(None))),
                "name" | "char" | "bpchar" => return Some(CastTo::Type(SqlType::Text)),
                _ => {}
            }
            if parts.len() == 2 {
                // `pg_catalog.int4` → `int4`: reparse the bare name as a built-in type.
                let text = if modifiers.is_empty() {
                    last.value.clone()
                } else {
                    format!("{}({})", last.value, modifiers.join(", "))
                };
                let parsed = Parser::new(&crate::dialect::TributaryDialect::new()).try_with_sql(&text).ok()?.parse_data_type().ok()?;
                if matches!(&parsed, SqlType::Custom(..)) {
                    return None;
                }
                return Some(map_type(&parsed).unwrap_or(CastTo::Type(parsed)));
            }
            None
        }
        SqlType::Array(ArrayElemTypeDef::SquareBracket(inner, size)) => match map_type(inner)? {
            CastTo::Type(t) => Some(CastTo::Type(SqlType::Array(ArrayElemTypeDef::SquareBracket(Box::new(t), *size)))),
            CastTo::Func(_) => None,
        },
        _ => None,
    }
}

fn custom_operator(parts: &[String]) -> Option<BinaryOperator> {
    let symbol = match parts {
        [s] => s.as_str(),
        [schema, s] if schema.eq_ignore_ascii_case("pg_catalog") => s.as_str(),
        _ => return None,
    };
    Some(match symbol {
        "~" => BinaryOperator::PGRegexMatch,
        "~*" => BinaryOperator::PGRegexIMatch,
        "!~" => BinaryOperator::PGRegexNotMatch,
        "!~*" => BinaryOperator::PGRegexNotIMatch,
        "=" => BinaryOperator::Eq,
        "<>" | "!=" => BinaryOperator::NotEq,
        "<" => BinaryOperator::Lt,
        ">" => BinaryOperator::Gt,
        "<=" => BinaryOperator::LtEq,
        ">=" => BinaryOperator::GtEq,
        "||" => BinaryOperator::StringConcat,
        "+" => BinaryOperator::Plus,
        "-" => BinaryOperator::Minus,
        "*" => BinaryOperator::Multiply,
        "/" => BinaryOperator::Divide,
        "%" => BinaryOperator::Modulo,
        "@>" => BinaryOperator::AtArrow,
        "<@" => BinaryOperator::ArrowAt,
        "&&" => BinaryOperator::PGOverlap,
        _ => return None,
    })
}

fn like_operator(parts: &[String]) -> Option<(bool, bool)> {
    let symbol = match parts {
        [s] => s.as_str(),
        [schema, s] if schema.eq_ignore_ascii_case("pg_catalog") => s.as_str(),
        _ => return None,
    };
    // (negated, case-insensitive)
    Some(match symbol {
        "~~" => (false, false),
        "!~~" => (true, false),
        "~~*" => (false, true),
        "!~~*" => (true, true),
        _ => return None,
    })
}

fn is_text_type(t: &SqlType) -> bool {
    let t = match map_type(t) {
        Some(CastTo::Type(mapped)) => mapped,
        Some(CastTo::Func(_)) => return false,
        None => t.clone(),
    };
    matches!(t, SqlType::Text | SqlType::Varchar(_) | SqlType::CharacterVarying(_) | SqlType::String(_))
}

/// A one-argument call of a reg* function, as casts are rewritten to: (function, argument).
fn reg_call(e: &Expr) -> Option<(&'static str, &Expr)> {
    let Expr::Function(f) = e else { return None };
    let [part] = f.name.0.as_slice() else { return None };
    let name = reg_function(&part.as_ident()?.value)?;
    let FunctionArguments::List(list) = &f.args else { return None };
    match list.args.as_slice() {
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] => Some((name, arg)),
        _ => None,
    }
}

/// The replacement of one expression (its children are already rewritten).
fn rewrite_expr(expr: &mut Expr) -> Option<Expr> {
    match expr {
        Expr::BinaryOp { left, op: BinaryOperator::PGCustomBinaryOperator(parts), right } => {
            if let Some(op) = custom_operator(parts) {
                return Some(Expr::BinaryOp { left: left.clone(), op, right: right.clone() });
            }
            let (negated, insensitive) = like_operator(parts)?;
            let (expr, pattern) = (left.clone(), right.clone());
            Some(if insensitive {
                Expr::ILike { negated, any: false, expr, pattern, escape_char: None }
            } else {
                Expr::Like { negated, any: false, expr, pattern, escape_char: None }
            })
        }
        Expr::Collate { expr, collation } => {
            let name = collation.0.last()?.as_ident()?.value.to_ascii_lowercase();
            matches!(name.as_str(), "default" | "c" | "posix" | "ucs_basic").then(|| (**expr).clone())
        }
        Expr::Cast { expr, data_type, .. } if is_text_type(data_type) && reg_call(expr).is_some() => {
            // `x::regclass::text` is the name, whether x is a name or an oid.
            let (f, arg) = reg_call(expr)?;
            Some(call(f, vec![arg.clone(), Expr::value(Value::Boolean(true))]))
        }
        Expr::Cast { kind, expr, data_type, array, format } => match map_type(data_type)? {
            CastTo::Func(f) => Some(call(f, vec![(**expr).clone()])),
            CastTo::Type(t) => Some(Expr::Cast {
                kind: kind.clone(),
                expr: expr.clone(),
                data_type: t,
                array: *array,
                format: format.clone(),
            }),
        },
        Expr::TypedString(ts) => match map_type(&ts.data_type)? {
            CastTo::Func(f) => Some(call(f, vec![Expr::Value(ts.value.clone())])),
            CastTo::Type(t) => Some(Expr::Cast {
                kind: datafusion::sql::sqlparser::ast::CastKind::DoubleColon,
                expr: Box::new(Expr::Value(ts.value.clone())),
                data_type: t,
                array: false,
                format: None,
            }),
        },
        Expr::Identifier(ident) if ident.quote_style.is_none() => match ident.value.to_ascii_lowercase().as_str() {
            "current_schema" => Some(call("current_schema", vec![])),
            "current_role" => Some(Expr::Function(Function {
                name: ObjectName::from(vec![Ident::new("current_role")]),
                uses_odbc_syntax: false,
                parameters: FunctionArguments::None,
                args: FunctionArguments::None,
                filter: None,
                null_treatment: None,
                over: None,
                within_group: vec![],
            })),
            _ => None,
        },
        Expr::Function(f) => {
            strip_pg_catalog(&mut f.name);
            let is_array = f.name.0.len() == 1 && ident_is(&f.name.0[0], "array");
            match &f.args {
                FunctionArguments::Subquery(q) if is_array => array_subquery(q),
                _ => None,
            }
        }
        Expr::Subquery(q) => decorrelate(q),
        _ => None,
    }
}

/// `FROM pg_catalog.f(...)` → `FROM f(...)`, and `unnest` into the UNNEST factor DataFusion knows.
fn rewrite_table_function(factor: &mut TableFactor) {
    let TableFactor::Table { name, alias, args: Some(args), .. } = factor else { return };
    strip_pg_catalog(name);
    if name.0.len() == 1 && ident_is(&name.0[0], "unnest") {
        let array_exprs = args
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.clone()),
                _ => None,
            })
            .collect::<Vec<_>>();
        if array_exprs.len() != args.args.len() {
            return;
        }
        *factor = TableFactor::UNNEST {
            alias: alias.clone(),
            array_exprs,
            with_offset: false,
            with_offset_alias: None,
            with_ordinality: false,
        };
    }
}

/// Aggregate functions, to tell an aggregated subquery from one that returns a row per match.
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "array_agg",
    "string_agg",
    "bool_and",
    "bool_or",
    "every",
    "bit_and",
    "bit_or",
    "bit_xor",
    "first_value",
    "last_value",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "median",
    "approx_distinct",
    "percentile_cont",
    "percentile_disc",
    "mode",
    "corr",
    "covar_pop",
    "covar_samp",
];

fn has_aggregate(e: &Expr) -> bool {
    visit_expressions(e, |x| match x {
        Expr::Function(f)
            if f.over.is_none()
                && f.name
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .is_some_and(|i| AGGREGATES.contains(&i.value.to_ascii_lowercase().as_str())) =>
        {
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

fn has_subquery(e: &Expr) -> bool {
    visit_expressions(e, |x| match x {
        Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => ControlFlow::Break(()),
        Expr::Function(f) if matches!(f.args, FunctionArguments::Subquery(_)) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// A plain `SELECT <one item> FROM ...` without grouping or distinct, as (select, its item).
fn single_item_select(q: &Query) -> Option<(&Select, &Expr)> {
    if q.with.is_some() || q.fetch.is_some() {
        return None;
    }
    let SetExpr::Select(s) = q.body.as_ref() else { return None };
    if s.distinct.is_some()
        || s.having.is_some()
        || !matches!(&s.group_by, GroupByExpr::Expressions(g, m) if g.is_empty() && m.is_empty())
    {
        return None;
    }
    let [item] = s.projection.as_slice() else { return None };
    let e = match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
        _ => return None,
    };
    Some((s, e))
}

fn order_items(q: &Query, item: &Expr) -> Option<Vec<OrderByExpr>> {
    let Some(order) = &q.order_by else { return Some(vec![]) };
    let OrderByKind::Expressions(items) = &order.kind else { return None };
    let mut out = items.clone();
    for o in &mut out {
        // `ORDER BY 1` refers to the select item.
        if let Expr::Value(v) = &o.expr {
            if matches!(&v.value, Value::Number(n, _) if n == "1") {
                o.expr = item.clone();
            }
        }
    }
    Some(out)
}

/// `ARRAY(SELECT ...)`, which DataFusion would plan as an empty array.
fn array_subquery(q: &Query) -> Option<Expr> {
    if q.limit_clause.is_some() {
        return None;
    }
    let (s, item) = single_item_select(q)?;
    if has_aggregate(item) {
        return None;
    }
    if let Some(e) = array_over_unnest(q, s, item) {
        return Some(e);
    }
    let order = order_items(q, item)?;
    let mut sub = q.clone();
    sub.order_by = None;
    let SetExpr::Select(sel) = sub.body.as_mut() else { return None };
    let clauses = if order.is_empty() { vec![] } else { vec![FunctionArgumentClause::OrderBy(order)] };
    sel.projection = vec![SelectItem::UnnamedExpr(call_with("array_agg", vec![item.clone()], clauses))];
    let mut e = Expr::Subquery(Box::new(sub));
    Some(match &mut e {
        Expr::Subquery(q) => decorrelate(q).unwrap_or(e),
        _ => e,
    })
}

/// `ARRAY(SELECT f(x) FROM unnest(arr) x)` → `array_transform(arr, x -> f(x))`: the subquery is
/// lateral (arr comes from the outer row), which DataFusion does not plan.
fn array_over_unnest(q: &Query, s: &Select, item: &Expr) -> Option<Expr> {
    if q.order_by.is_some() || s.selection.is_some() {
        return None;
    }
    let [from] = s.from.as_slice() else { return None };
    if !from.joins.is_empty() {
        return None;
    }
    let TableFactor::UNNEST { alias, array_exprs, with_offset: false, with_ordinality: false, .. } = &from.relation
    else {
        return None;
    };
    let [arr] = array_exprs.as_slice() else { return None };
    let alias = alias.as_ref()?;
    let column = alias.columns.first().map(|c| c.name.value.clone()).unwrap_or_else(|| alias.name.value.clone());
    let param = Ident::new(column.clone());
    let mut body = item.clone();
    let _ = visit_expressions_mut(&mut body, |e| {
        let hit = match e {
            Expr::Identifier(i) => i.value == column,
            Expr::CompoundIdentifier(parts) => {
                parts.len() == 2 && parts[0].value == alias.name.value && parts[1].value == column
            }
            _ => false,
        };
        if hit {
            *e = Expr::Identifier(param.clone());
        }
        ControlFlow::<()>::Continue(())
    });
    if body == Expr::Identifier(param.clone()) {
        return Some(arr.clone());
    }
    let lambda = Expr::Lambda(LambdaFunction {
        params: OneOrManyWithParens::One(LambdaFunctionParameter { name: param, data_type: None }),
        body: Box::new(body),
        syntax: LambdaSyntax::Arrow,
    });
    Some(call("array_transform", vec![arr.clone(), lambda]))
}

fn conjuncts(e: &Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            conjuncts(left, out);
            conjuncts(right, out);
        }
        Expr::Nested(inner) => conjuncts(inner, out),
        other => out.push(other.clone()),
    }
}

/// Column references of an expression (not looking into nested subqueries): the qualifiers of
/// qualified ones, and whether there are unqualified ones.
fn references(e: &Expr) -> (HashSet<String>, bool) {
    let mut qualifiers = HashSet::new();
    let mut unqualified = false;
    let _ = visit_expressions(e, |x| {
        match x {
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                qualifiers.insert(parts[parts.len() - 2].value.clone());
            }
            Expr::Identifier(_) => unqualified = true,
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    (qualifiers, unqualified)
}

fn is_outer_column(e: &Expr, inner: &HashSet<String>) -> bool {
    matches!(e, Expr::CompoundIdentifier(parts) if parts.len() >= 2 && !inner.contains(&parts[parts.len() - 2].value))
}

/// Names a query's FROM clause binds (aliases, else table names), when every relation in it
/// is a system table.
fn system_scope(s: &Select) -> Option<HashSet<String>> {
    let mut names = HashSet::new();
    for twj in &s.from {
        for factor in std::iter::once(&twj.relation).chain(twj.joins.iter().map(|j| &j.relation)) {
            let TableFactor::Table { name, alias, args: None, .. } = factor else { return None };
            let parts: Vec<String> = name.0.iter().filter_map(|p| p.as_ident().map(|i| i.value.clone())).collect();
            let is_system = match parts.as_slice() {
                [t] => is_system_relation(None, t),
                [schema, t] => is_system_relation(Some(schema), t),
                _ => false,
            };
            if !is_system {
                return None;
            }
            names.insert(match alias {
                Some(a) => a.name.value.clone(),
                None => parts.last()?.clone(),
            });
        }
    }
    Some(names)
}

/// A correlated scalar subquery over system tables, reshaped for DataFusion's decorrelation.
fn decorrelate(q: &Query) -> Option<Expr> {
    let limit_one = match &q.limit_clause {
        None => false,
        Some(LimitClause::LimitOffset { limit: Some(Expr::Value(v)), offset: None, limit_by })
            if limit_by.is_empty() && matches!(&v.value, Value::Number(n, _) if n == "1") =>
        {
            true
        }
        Some(_) => return None,
    };
    let (s, item) = single_item_select(q)?;
    let inner = system_scope(s)?;
    let mut conds = Vec::new();
    if let Some(w) = &s.selection {
        conjuncts(w, &mut conds);
    }
    let mut guards = Vec::new();
    let mut kept = Vec::new();
    let mut substitutions: HashMap<String, Expr> = HashMap::new();
    let mut correlated = false;
    for c in conds {
        if has_subquery(&c) {
            kept.push(c);
            continue;
        }
        let (qualifiers, unqualified) = references(&c);
        let outer = qualifiers.iter().any(|q| !inner.contains(q));
        let inner_refs = unqualified || qualifiers.iter().any(|q| inner.contains(q));
        correlated |= outer;
        if outer && !inner_refs {
            guards.push(c);
            continue;
        }
        if let Expr::BinaryOp { left, op: BinaryOperator::Eq, right } = &c {
            for (o, i) in [(left, right), (right, left)] {
                let (iq, _) = references(i);
                if is_outer_column(o, &inner) && iq.iter().all(|q| inner.contains(q)) {
                    substitutions.insert(o.to_string(), (**i).clone());
                }
            }
        }
        kept.push(c);
    }
    if !correlated {
        return None;
    }
    // Other conditions on the outer columns bound by an equality read the inner side instead.
    let kept: Vec<Expr> = kept
        .into_iter()
        .map(|mut c| {
            let defines = matches!(&c, Expr::BinaryOp { left, op: BinaryOperator::Eq, right }
                if substitutions.contains_key(&left.to_string()) || substitutions.contains_key(&right.to_string()));
            if !defines {
                let _ = visit_expressions_mut(&mut c, |e| {
                    if let Some(replacement) = substitutions.get(&e.to_string()) {
                        if matches!(e, Expr::CompoundIdentifier(_)) {
                            *e = replacement.clone();
                        }
                    }
                    ControlFlow::<()>::Continue(())
                });
            }
            c
        })
        .collect();
    let mut sub = q.clone();
    let SetExpr::Select(sel) = sub.body.as_mut() else { return None };
    sel.selection = kept.into_iter().reduce(|a, b| Expr::BinaryOp {
        left: Box::new(a),
        op: BinaryOperator::And,
        right: Box::new(b),
    });
    if !has_aggregate(item) {
        let order = order_items(q, item)?;
        let clauses = if order.is_empty() { vec![] } else { vec![FunctionArgumentClause::OrderBy(order)] };
        let wrapped = call_with("first_value", vec![item.clone()], clauses);
        sel.projection = vec![match &sel.projection[0] {
            SelectItem::ExprWithAlias { alias, .. } => {
                SelectItem::ExprWithAlias { expr: wrapped, alias: alias.clone() }
            }
            _ => SelectItem::UnnamedExpr(wrapped),
        }];
        sub.order_by = None;
        sub.limit_clause = None;
    } else if limit_one {
        // An aggregate without GROUP BY returns one row anyway.
        sub.limit_clause = None;
    }
    let subquery = Expr::Subquery(Box::new(sub));
    let Some(guard) = guards.into_iter().reduce(|a, b| Expr::BinaryOp {
        left: Box::new(a),
        op: BinaryOperator::And,
        right: Box::new(b),
    }) else {
        return Some(subquery);
    };
    Some(Expr::Case {
        case_token: AttachedToken::empty(),
        end_token: AttachedToken::empty(),
        operand: None,
        conditions: vec![CaseWhen { condition: guard, result: subquery }],
        else_result: None,
    })
}

/// Postgres' output column name of an expression (its FigureColname) and how strongly it
/// holds: 2 for column and function names, which a cast keeps; 1 for type names and CASE.
fn figure_name(e: &Expr) -> Option<(Ident, u8)> {
    let named = |s: String| Ident::with_quote('"', s);
    match e {
        Expr::Identifier(i) => Some((i.clone(), 2)),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| (i.clone(), 2)),
        Expr::Nested(inner) => figure_name(inner),
        Expr::Function(f) => {
            f.name.0.last().and_then(|p| p.as_ident()).map(|i| (named(i.value.to_ascii_lowercase()), 2))
        }
        Expr::Cast { expr, data_type, .. } => match figure_name(expr) {
            Some((name, 2)) => Some((name, 2)),
            _ => {
                let name = match data_type {
                    SqlType::Custom(n, _) => n.0.last()?.as_ident()?.value.to_ascii_lowercase(),
                    SqlType::Regclass => "regclass".to_string(),
                    other => other.to_string().to_ascii_lowercase(),
                };
                Some((named(name), 1))
            }
        },
        Expr::Case { .. } => Some((named("case".to_string()), 1)),
        _ => None,
    }
}

fn pg_item_name(e: &Expr) -> Ident {
    figure_name(e).map(|(n, _)| n).unwrap_or_else(|| Ident::with_quote('"', "?column?"))
}

fn casts_to_function(e: &Expr) -> bool {
    match e {
        Expr::Cast { expr, data_type, .. } => {
            matches!(map_type(data_type), Some(CastTo::Func(_))) || casts_to_function(expr)
        }
        Expr::Nested(inner) => casts_to_function(inner),
        _ => false,
    }
}

/// Names already given by aliases in the select list.
fn alias_names(select: &Select) -> HashSet<String> {
    select
        .projection
        .iter()
        .filter_map(|i| match i {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
            _ => None,
        })
        .collect()
}

/// `name`, numbered if already taken (Postgres allows equal output names, DataFusion does not).
fn unique(name: Ident, taken: &mut HashSet<String>) -> Ident {
    let mut candidate = name.clone();
    let mut n = 1;
    while taken.contains(&candidate.value) {
        candidate = Ident::with_quote('"', format!("{}_{n}", name.value));
        n += 1;
    }
    taken.insert(candidate.value.clone());
    candidate
}

/// The SELECTs of a query body (through set operations).
fn selects(body: &mut SetExpr) -> Vec<&mut Select> {
    match body {
        SetExpr::Select(s) => vec![s.as_mut()],
        SetExpr::SetOperation { left, right, .. } => {
            let mut v = selects(left);
            v.extend(selects(right));
            v
        }
        _ => vec![],
    }
}

/// Last names of the columns the query's ORDER BY refers to.
fn order_by_names(q: &Query) -> HashSet<String> {
    let mut names = HashSet::new();
    if let Some(OrderBy { kind: OrderByKind::Expressions(items), .. }) = &q.order_by {
        for o in items {
            let _ = visit_expressions(&o.expr, |e| {
                match e {
                    Expr::Identifier(i) => {
                        names.insert(i.value.clone());
                    }
                    Expr::CompoundIdentifier(parts) => {
                        names.extend(parts.last().map(|i| i.value.clone()));
                    }
                    _ => {}
                }
                ControlFlow::<()>::Continue(())
            });
        }
    }
    names
}

/// `SELECT c.oid::regclass` is named `oid`, as in Postgres, not after the function it becomes.
/// Not when ORDER BY names a column so: DataFusion would then find that name ambiguous.
fn name_cast_columns(select: &mut Select, ordered_by: &HashSet<String>) {
    let mut taken = alias_names(select);
    for item in &mut select.projection {
        if let SelectItem::UnnamedExpr(e) = item {
            if casts_to_function(e) {
                let name = pg_item_name(e);
                if ordered_by.contains(&name.value) {
                    continue;
                }
                let alias = unique(name, &mut taken);
                *item = SelectItem::ExprWithAlias { expr: e.clone(), alias };
            }
        }
    }
}

fn has_column_reference(e: &Expr) -> bool {
    visit_expressions(e, |x| match x {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// `SELECT current_database() IN (SELECT datname FROM pg_database)`: DataFusion plans IN
/// subqueries only in filters. A constant on the left (no column) makes it an uncorrelated
/// scalar subquery, with the NULL rules of IN.
fn rewrite_constant_in_subqueries(select: &mut Select) {
    for item in &mut select.projection {
        let e = match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
            _ => continue,
        };
        let _ = visit_expressions_mut(e, |x| {
            if let Expr::InSubquery { expr, subquery, negated } = x {
                if !has_column_reference(expr) {
                    let sql = format!(
                        "(SELECT CASE WHEN bool_or(__in.c = {v}) THEN true WHEN count(*) = 0 THEN false \
                         WHEN bool_or(__in.c IS NULL) OR ({v}) IS NULL THEN NULL ELSE false END \
                         FROM ({subquery}) AS __in(c))",
                        v = expr
                    );
                    let parsed = Parser::new(&crate::dialect::TributaryDialect::new()).try_with_sql(&sql).and_then(|mut p| p.parse_expr());
                    if let Ok(scalar) = parsed {
                        *x = if *negated {
                            Expr::UnaryOp { op: UnaryOperator::Not, expr: Box::new(scalar) }
                        } else {
                            scalar
                        };
                    }
                }
            }
            ControlFlow::<()>::Continue(())
        });
    }
}

/// Repeated unnamed select items (`SELECT NULL, NULL`) get their Postgres name, numbered.
fn name_duplicate_columns(select: &mut Select) {
    let mut seen: HashSet<String> = HashSet::new();
    let mut taken = alias_names(select);
    for item in &mut select.projection {
        let SelectItem::UnnamedExpr(e) = item else { continue };
        // DataFusion names `current_user` and `current_user()` alike.
        let key = match &*e {
            Expr::Function(f) if matches!(f.args, FunctionArguments::None) => format!("{e}()"),
            other => other.to_string(),
        };
        if seen.insert(key) {
            // DataFusion drops an alias equal to a column's own name: keep names distinct.
            if matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
                taken.insert(pg_item_name(e).value);
            }
            continue;
        }
        let alias = unique(pg_item_name(e), &mut taken);
        *item = SelectItem::ExprWithAlias { expr: e.clone(), alias };
    }
}

/// Over an always-empty table, select-list subqueries are never evaluated: make them NULL.
fn drop_subqueries_over_empty_table(select: &mut Select) {
    let [from] = select.from.as_slice() else { return };
    if !from.joins.is_empty() {
        return;
    }
    let TableFactor::Table { name, args: None, .. } = &from.relation else { return };
    let parts: Vec<&str> = name.0.iter().filter_map(|p| p.as_ident().map(|i| i.value.as_str())).collect();
    let empty = match parts.as_slice() {
        [t] | ["pg_catalog", t] => is_always_empty(t),
        _ => false,
    };
    if !empty {
        return;
    }
    for item in &mut select.projection {
        match item {
            SelectItem::UnnamedExpr(e) if has_subquery(e) => {
                let alias = pg_item_name(e);
                *item = SelectItem::ExprWithAlias { expr: null(), alias };
            }
            SelectItem::ExprWithAlias { expr, .. } if has_subquery(expr) => *expr = null(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(sql: &str) -> String {
        let mut stmt = Parser::new(&crate::dialect::TributaryDialect::new()).try_with_sql(sql).unwrap().parse_statement().unwrap();
        rewrite_for_catalog(&mut stmt);
        stmt.to_string()
    }

    #[test]
    fn rewrites() {
        assert_eq!(
            rewrite("SELECT c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default FROM pg_class c"),
            "SELECT c.relname ~ '^(t)$' FROM pg_class c"
        );
        assert_eq!(rewrite("SELECT pg_catalog.format_type(1, 2)"), "SELECT format_type(1, 2)");
        assert_eq!(
            rewrite("SELECT c.oid::pg_catalog.regclass FROM pg_class c"),
            "SELECT regclass(c.oid) AS oid FROM pg_class c"
        );
        assert_eq!(rewrite("SELECT 't'::regclass::oid"), "SELECT regclass('t')::INT AS \"oid\"");
        assert_eq!(
            rewrite("SELECT x::pg_catalog.text, y::name, z::oid[] FROM t"),
            "SELECT x::TEXT, y::TEXT, z::INT[] FROM t"
        );
        assert_eq!(rewrite("SELECT current_schema, current_role"), "SELECT current_schema(), current_role");
        assert_eq!(
            rewrite("SELECT 't'::regclass::text, x::regtype::varchar AS n FROM t"),
            "SELECT regclass('t', true) AS \"text\", regtype(x, true) AS n FROM t"
        );
        assert_eq!(
            rewrite("SELECT array(select 'toast.' || x from pg_catalog.unnest(tc.reloptions) x) FROM pg_class tc"),
            "SELECT array_transform(tc.reloptions, x -> 'toast.' || x) FROM pg_class tc"
        );
        assert_eq!(
            rewrite("SELECT array(select rolname from pg_roles where oid > 5 order by 1)"),
            "SELECT (SELECT array_agg(rolname ORDER BY rolname) FROM pg_roles WHERE oid > 5)"
        );
        // DDL keeps its text.
        assert_eq!(rewrite("CREATE TABLE t (a INT DEFAULT 1::oid)"), "CREATE TABLE t (a INT DEFAULT 1::oid)");
    }

    #[test]
    fn correlated_subqueries() {
        let sql = "SELECT (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true) FROM pg_catalog.pg_attrdef d \
                   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef) FROM pg_attribute a";
        assert_eq!(
            rewrite(sql),
            "SELECT CASE WHEN a.atthasdef THEN (SELECT first_value(pg_get_expr(d.adbin, d.adrelid, true)) \
             FROM pg_catalog.pg_attrdef d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum) END FROM pg_attribute a"
        );
        let sql = "SELECT (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t \
                   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation \
                   FROM pg_attribute a";
        assert_eq!(
            rewrite(sql),
            "SELECT (SELECT first_value(c.collname) FROM pg_catalog.pg_collation c, pg_catalog.pg_type t \
             WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND c.oid <> t.typcollation) AS attcollation FROM pg_attribute a"
        );
        // Not over system tables: left to DataFusion.
        let sql = "SELECT (SELECT v FROM s WHERE s.k = t.k AND t.b) FROM t";
        assert_eq!(rewrite(sql), sql);
    }

    #[test]
    fn subqueries_over_empty_tables() {
        let sql = "SELECT oid, (SELECT string_agg(attname, ', ') FROM unnest(stxkeys) s(attnum)) AS columns \
                   FROM pg_catalog.pg_statistic_ext WHERE stxrelid = '1'";
        assert_eq!(rewrite(sql), "SELECT oid, NULL AS columns FROM pg_catalog.pg_statistic_ext WHERE stxrelid = '1'");
    }
}
