//! User-defined SQL functions, inlined at planning as RisingWave does: a call becomes the body
//! expression with each parameter replaced by the call's argument (cast to the parameter's
//! type), cast to the return type. Batch queries, views and materialized views then see plain
//! expressions; no function runs at execution time.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    CastKind, DataType as SqlType, Expr, Function as SqlFunction, FunctionArg, FunctionArgExpr, FunctionArguments, Ident,
    ObjectName, Query, Select, SelectItem, SetExpr, Statement, Value, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::parser::Parser;
use tributary_common::types::DataType;
use tributary_proto::catalog::Function;

use super::PlanningContext;
use crate::binder::{cast_type_sql, normalize_ident, split_name};
use crate::catalog::CatalogSnapshot;
use crate::error::{FrontendError, Result};

/// Calls nested deeper than this (a function whose body calls functions ...) are refused. The
/// catalog cannot hold cycles (a body only calls functions that existed before it), so this
/// only bounds the work.
const MAX_INLINE_DEPTH: u32 = 16;

/// Where function names resolve: the catalog, the current database and the search path.
pub struct FunctionScope<'a> {
    pub catalog: &'a CatalogSnapshot,
    pub database_id: u32,
    pub database_name: &'a str,
    pub search_path: &'a [String],
    /// Whether an unqualified name is a built-in function: built-ins come first, as pg_catalog
    /// comes first in Postgres' search path.
    pub is_builtin: &'a dyn Fn(&str) -> bool,
}

impl<'a> FunctionScope<'a> {
    pub fn of(ctx: &'a PlanningContext, is_builtin: &'a dyn Fn(&str) -> bool) -> Self {
        FunctionScope {
            catalog: &ctx.catalog,
            database_id: ctx.database.id,
            database_name: &ctx.database.name,
            search_path: &ctx.search_path,
            is_builtin,
        }
    }
}

/// Whether `name` is a scalar, aggregate or window function DataFusion knows.
pub fn builtin_checker(ctx: &PlanningContext) -> impl Fn(&str) -> bool + '_ {
    move |name: &str| {
        let state = &ctx.base;
        state.scalar_functions().contains_key(name)
            || state.aggregate_functions().contains_key(name)
            || state.window_functions().contains_key(name)
    }
}

/// Inlines every call of a user-defined function in `node`; returns the ids of the functions
/// used (the dependencies of a view or materialized view), in order of first use.
pub fn inline_functions<V: VisitMut>(scope: &FunctionScope<'_>, node: &mut V) -> Result<Vec<u32>> {
    if scope.catalog.functions.is_empty() {
        return Ok(Vec::new());
    }
    let mut inliner = Inliner { scope, used: Vec::new(), depth: 0, error: None };
    let _ = node.visit(&mut inliner);
    match inliner.error {
        Some(e) => Err(e),
        None => Ok(inliner.used),
    }
}

/// Inlines the functions of a planning context's statement part.
pub fn inline_in_context<V: VisitMut>(ctx: &PlanningContext, node: &mut V) -> Result<Vec<u32>> {
    let builtin = builtin_checker(ctx);
    inline_functions(&FunctionScope::of(ctx, &builtin), node)
}

struct Inliner<'s, 'a> {
    scope: &'s FunctionScope<'a>,
    used: Vec<u32>,
    depth: u32,
    error: Option<FrontendError>,
}

impl VisitorMut for Inliner<'_, '_> {
    type Break = ();

    // A SELECT item that is just a call keeps the function's name as its column name, as in
    // Postgres (the inlined CAST would otherwise be `?column?`). Only a name no other item of
    // the list has: DataFusion refuses duplicate names in one projection.
    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        let names: Vec<Option<String>> = select.projection.iter().map(simple_name).collect();
        for (i, item) in select.projection.iter_mut().enumerate() {
            let SelectItem::UnnamedExpr(Expr::Function(call)) = item else { continue };
            let unique = names[i].as_ref().is_some_and(|n| names.iter().filter(|m| m.as_ref() == Some(n)).count() == 1);
            if !unique {
                continue;
            }
            match self.candidates(&call.name) {
                Ok(Some(found)) => {
                    let alias = Ident::with_quote('"', found[0].name.clone());
                    let expr = Expr::Function(call.clone());
                    *item = SelectItem::ExprWithAlias { expr, alias };
                }
                Ok(None) => {}
                Err(e) => {
                    self.error = Some(e);
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    }

    // Post-order: the arguments are inlined before the call that receives them.
    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let Expr::Function(call) = expr else { return ControlFlow::Continue(()) };
        match self.inline_call(call) {
            Ok(Some(inlined)) => {
                *expr = inlined;
                ControlFlow::Continue(())
            }
            Ok(None) => ControlFlow::Continue(()),
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }
}

impl Inliner<'_, '_> {
    fn inline_call(&mut self, call: &SqlFunction) -> Result<Option<Expr>> {
        let Some(candidates) = self.candidates(&call.name)? else { return Ok(None) };
        let name = call.name.to_string();
        let args = match &call.args {
            FunctionArguments::None => Vec::new(),
            FunctionArguments::List(list) => {
                if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
                    return Err(FrontendError::not_supported(format!("DISTINCT or clauses in a call of function {name}")));
                }
                list.args
                    .iter()
                    .map(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e.clone()),
                        _ => {
                            Err(FrontendError::not_supported(format!("named or wildcard arguments in a call of function {name}")))
                        }
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            FunctionArguments::Subquery(_) => {
                return Err(FrontendError::not_supported(format!("a subquery as the argument list of function {name}")))
            }
        };
        if call.filter.is_some() || call.over.is_some() || !call.within_group.is_empty() || call.null_treatment.is_some() {
            return Err(FrontendError::sql("42809", format!("{name} is not an aggregate or window function")));
        }
        let function = choose_overload(&name, &candidates, &args)?;
        if self.depth >= MAX_INLINE_DEPTH {
            return Err(FrontendError::sql("54001", format!("function {name} nests function calls too deeply")));
        }
        if !self.used.contains(&function.id) {
            self.used.push(function.id);
        }
        let mut body = inline_body(function, &args)?;
        // Functions the body calls are inlined in turn.
        self.depth += 1;
        let _ = body.visit(self);
        self.depth -= 1;
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let ret = function_type(function.return_type.as_ref(), &function.name)?;
        Ok(Some(cast(body, &ret)?))
    }

    /// The user functions `name` may call, or `None` when it names no user function (a
    /// built-in, or an unknown name DataFusion reports).
    fn candidates(&self, name: &ObjectName) -> Result<Option<Vec<Function>>> {
        let scope = self.scope;
        let Ok((schema, fname)) = split_name(name, scope.database_name) else { return Ok(None) };
        let schemas: Vec<String> = match schema {
            Some(s) => vec![s],
            None => {
                if (scope.is_builtin)(&fname) {
                    return Ok(None);
                }
                scope.search_path.to_vec()
            }
        };
        for s in &schemas {
            if let Some(sc) = scope.catalog.schema(scope.database_id, s) {
                let found = scope.catalog.functions_named(sc.id, &fname);
                if !found.is_empty() {
                    return Ok(Some(found.into_iter().cloned().collect()));
                }
            }
        }
        Ok(None)
    }
}

/// The column name a SELECT item gets without inlining, where it is a plain name.
fn simple_name(item: &SelectItem) -> Option<String> {
    match item {
        SelectItem::ExprWithAlias { alias, .. } => Some(normalize_ident(alias)),
        SelectItem::UnnamedExpr(Expr::Identifier(i)) => Some(normalize_ident(i)),
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => parts.last().map(normalize_ident),
        SelectItem::UnnamedExpr(Expr::Function(f)) => match f.name.0.last() {
            Some(datafusion::sql::sqlparser::ast::ObjectNamePart::Identifier(i)) => Some(normalize_ident(i)),
            _ => None,
        },
        _ => None,
    }
}

/// Picks the overload for a call: by argument count, then (when several remain) by the types of
/// arguments whose type shows in the SQL (literals and casts).
fn choose_overload<'f>(name: &str, candidates: &'f [Function], args: &[Expr]) -> Result<&'f Function> {
    let by_count: Vec<&Function> = candidates.iter().filter(|f| f.arg_types.len() == args.len()).collect();
    let no_match = || FrontendError::sql("42883", format!("function {name} with {} argument(s) does not exist", args.len()));
    match by_count.as_slice() {
        [] => Err(no_match()),
        [one] => Ok(one),
        several => {
            let known: Vec<Option<DataType>> = args.iter().map(apparent_type).collect();
            let fits = |f: &&&Function| {
                f.arg_types.iter().zip(&known).all(|(t, k)| match (k, DataType::from_protobuf(t)) {
                    (Some(k), Ok(t)) => *k == t,
                    (None, _) => true,
                    (_, Err(_)) => false,
                })
            };
            let matching: Vec<&&Function> = several.iter().filter(fits).collect();
            match matching.as_slice() {
                [one] => Ok(one),
                [] => Err(no_match()),
                _ => Err(FrontendError::sql("42725", format!("function {name} is not unique"))),
            }
        }
    }
}

/// The type of an argument when its SQL spells it out.
fn apparent_type(e: &Expr) -> Option<DataType> {
    match e {
        Expr::Cast { data_type, .. } => crate::binder::bind_data_type(data_type).ok(),
        Expr::Nested(inner) => apparent_type(inner),
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) if n.contains(['.', 'e', 'E']) => Some(DataType::Decimal { precision: None, scale: None }),
            Value::Number(n, _) => Some(if n.parse::<i32>().is_ok() { DataType::Int32 } else { DataType::Int64 }),
            Value::Boolean(_) => Some(DataType::Boolean),
            _ => None,
        },
        _ => None,
    }
}

/// The body expression with parameters replaced by the (cast) arguments.
fn inline_body(function: &Function, args: &[Expr]) -> Result<Expr> {
    let mut body = parse_body(&function.body)?;
    let mut typed = Vec::with_capacity(args.len());
    for (arg, t) in args.iter().zip(&function.arg_types) {
        typed.push(cast(arg.clone(), &function_type(Some(t), &function.name)?)?);
    }
    let mut subst = Substitute { names: &function.arg_names, args: &typed, error: None };
    let _ = body.visit(&mut subst);
    match subst.error {
        Some(e) => Err(e),
        None => Ok(body),
    }
}

/// Parses a stored body (an expression) with the statement rewrites applied.
pub fn parse_body(body: &str) -> Result<Expr> {
    let mut stmt = Parser::new(&crate::dialect::TributaryDialect::new())
        .try_with_sql(&format!("SELECT {body}"))
        .and_then(|mut p| p.parse_statement())
        .map_err(|e| FrontendError::Syntax(e.to_string()))?;
    super::rewrite::rewrite(&mut stmt)?;
    single_select_expr(stmt).map_err(|_| FrontendError::Internal(format!("stored function body is not an expression: {body}")))
}

/// The expression of `SELECT expr` (no FROM, no other clause); `Err(())` for anything else.
pub fn single_select_expr(stmt: Statement) -> std::result::Result<Expr, ()> {
    let Statement::Query(q) = stmt else { return Err(()) };
    let Query { body, with, order_by, limit_clause, fetch, locks, for_clause, settings, format_clause, pipe_operators, .. } = *q;
    if with.is_some()
        || order_by.is_some()
        || limit_clause.is_some()
        || fetch.is_some()
        || !locks.is_empty()
        || for_clause.is_some()
        || settings.is_some()
        || format_clause.is_some()
        || !pipe_operators.is_empty()
    {
        return Err(());
    }
    let SetExpr::Select(select) = *body else { return Err(()) };
    let plain = select.from.is_empty()
        && select.selection.is_none()
        && select.distinct.is_none()
        && select.top.is_none()
        && select.into.is_none()
        && select.lateral_views.is_empty()
        && select.having.is_none()
        && select.named_window.is_empty()
        && select.qualify.is_none()
        && match &select.group_by {
            datafusion::sql::sqlparser::ast::GroupByExpr::Expressions(e, m) => e.is_empty() && m.is_empty(),
            _ => false,
        };
    if !plain || select.projection.len() != 1 {
        return Err(());
    }
    match select.projection.into_iter().next() {
        Some(SelectItem::UnnamedExpr(e)) | Some(SelectItem::ExprWithAlias { expr: e, .. }) => Ok(e),
        _ => Err(()),
    }
}

struct Substitute<'a> {
    names: &'a [String],
    args: &'a [Expr],
    error: Option<FrontendError>,
}

impl VisitorMut for Substitute<'_> {
    type Break = ();

    // Post-order, so that the arguments put in are not searched for parameters again.
    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let replacement = match expr {
            Expr::Identifier(ident) => {
                let n = normalize_ident(ident);
                self.names.iter().position(|p| !p.is_empty() && *p == n).map(|i| self.args[i].clone())
            }
            Expr::Value(v) => match &v.value {
                Value::Placeholder(p) => match p.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
                    Some(n) if n >= 1 && n <= self.args.len() => Some(self.args[n - 1].clone()),
                    _ => {
                        self.error = Some(FrontendError::sql("42P02", format!("there is no parameter {p}")));
                        return ControlFlow::Break(());
                    }
                },
                _ => None,
            },
            _ => None,
        };
        if let Some(r) = replacement {
            *expr = r;
        }
        ControlFlow::Continue(())
    }
}

/// A catalog type of a function.
pub fn function_type(t: Option<&tributary_proto::common::DataType>, function: &str) -> Result<DataType> {
    t.ok_or_else(|| FrontendError::Internal(format!("function {function} has no type")))
        .and_then(|t| DataType::from_protobuf(t).map_err(|e| FrontendError::Internal(e.to_string())))
}

fn cast(e: Expr, t: &DataType) -> Result<Expr> {
    Ok(Expr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(Expr::Nested(Box::new(e))),
        data_type: sql_type(t)?,
        array: false,
        format: None,
    })
}

fn sql_type(t: &DataType) -> Result<SqlType> {
    Parser::new(&crate::dialect::TributaryDialect::new())
        .try_with_sql(&cast_type_sql(t))
        .and_then(|mut p| p.parse_data_type())
        .map_err(|e| FrontendError::Internal(format!("type {t} does not parse back: {e}")))
}

#[cfg(test)]
mod tests;
