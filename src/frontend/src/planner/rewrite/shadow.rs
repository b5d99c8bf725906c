//! Tables of a subquery expression that shadow a table of an enclosing query get an alias of
//! their own.
//!
//! In `SELECT * FROM t WHERE v > ANY (SELECT v FROM t)` both relations are called `t`, and
//! DataFusion's decorrelation, which moves the comparison into the subquery as `t.v > t.v`,
//! can no longer tell them apart: it compares the inner table with itself and returns wrong
//! rows. Postgres binds a name to the innermost relation that has it, so renaming the inner
//! relation (and the qualified references bound to it) keeps the meaning and removes the
//! ambiguity.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Statement, TableAlias, TableFactor, TableWithJoins,
    VisitMut, VisitorMut,
};

/// Applies the rewrite to a statement.
pub fn alias_shadowing_tables(stmt: &mut Statement) {
    // New names must not be taken by anything the statement mentions.
    let text = stmt.to_string().to_lowercase();
    let mut v = Shadow {
        text,
        ..Shadow::default()
    };
    let _ = stmt.visit(&mut v);
}

/// A relation name one SELECT binds: `t` of `FROM s.t` (schema `s`) or an alias.
struct Binding {
    name: String,
    schema: Option<String>,
    renamed: Option<Ident>,
}

struct QueryFrame {
    /// A subquery expression (not a derived table or the statement's query).
    is_expr: bool,
    /// Its body is one SELECT, whose scope lasts to the end of the query (ORDER BY sees it).
    body_is_select: bool,
}

#[derive(Default)]
struct Shadow {
    text: String,
    scopes: Vec<Vec<Binding>>,
    queries: Vec<QueryFrame>,
    /// Subquery expressions seen whose query has not been entered yet.
    pending: usize,
    next: usize,
}

/// How a name compares: unquoted identifiers fold to lower case, as DataFusion folds them.
fn norm(id: &Ident) -> String {
    if id.quote_style.is_none() {
        id.value.to_lowercase()
    } else {
        id.value.clone()
    }
}

fn idents(name: &ObjectName) -> Option<Vec<&Ident>> {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(id) => Some(id),
            _ => None,
        })
        .collect()
}

/// The table factors of a FROM clause, nested joins included.
fn factors<'a>(from: &'a mut [TableWithJoins], out: &mut Vec<&'a mut TableFactor>) {
    for twj in from {
        let joins = twj.joins.iter_mut().map(|j| &mut j.relation);
        for f in std::iter::once(&mut twj.relation).chain(joins) {
            match f {
                TableFactor::NestedJoin {
                    table_with_joins,
                    alias: None,
                } => factors(std::slice::from_mut(table_with_joins.as_mut()), out),
                other => out.push(other),
            }
        }
    }
}

impl Shadow {
    fn visible(&self, name: &str) -> bool {
        self.scopes.iter().flatten().any(|b| b.name == name)
    }

    /// A quoted name no identifier of the statement uses.
    fn fresh(&mut self, name: &str) -> Ident {
        loop {
            self.next += 1;
            let candidate = format!("{name}__{}", self.next);
            if !self.text.contains(&candidate.to_lowercase()) {
                return Ident::with_quote('"', candidate);
            }
        }
    }

    /// The new name of the relation a qualifier (`t` or `s.t`) refers to, if it was renamed:
    /// the innermost binding of that name (and schema, when given) decides.
    fn resolve(&self, qualifier: &[&Ident]) -> Option<Ident> {
        let (schema, rel) = match qualifier {
            [rel] => (None, norm(rel)),
            [.., schema, rel] => (Some(norm(schema)), norm(rel)),
            [] => return None,
        };
        let binding = self.scopes.iter().rev().flat_map(|s| s.iter()).find(|b| {
            b.name == rel && (schema.is_none() || b.schema.is_none() || b.schema == schema)
        })?;
        binding.renamed.clone()
    }
}

impl VisitorMut for Shadow {
    type Break = ();

    fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
        let is_expr = self.pending > 0;
        if is_expr {
            self.pending -= 1;
        }
        self.queries.push(QueryFrame {
            is_expr,
            body_is_select: matches!(q.body.as_ref(), SetExpr::Select(_)),
        });
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _q: &mut Query) -> ControlFlow<()> {
        if self.queries.pop().is_some_and(|f| f.body_is_select) {
            self.scopes.pop();
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        let in_expr = self.queries.last().is_some_and(|f| f.is_expr);
        let mut scope: Vec<Binding> = Vec::new();
        let mut fs = Vec::new();
        factors(&mut select.from, &mut fs);
        for f in fs {
            let alias = match f {
                TableFactor::Table { alias, .. }
                | TableFactor::Derived { alias, .. }
                | TableFactor::UNNEST { alias, .. }
                | TableFactor::Function { alias, .. } => alias,
                _ => continue,
            };
            if let Some(a) = alias {
                // An alias that shadows an enclosing relation's name gets a name of its own.
                let name = norm(&a.name);
                let renamed = (in_expr && self.visible(&name)).then(|| self.fresh(&name));
                if let Some(new) = &renamed {
                    a.name = new.clone();
                }
                scope.push(Binding {
                    name,
                    schema: None,
                    renamed,
                });
                continue;
            }
            let TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } = f
            else {
                continue;
            };
            let Some(parts) = idents(name) else { continue };
            let Some(rel) = parts.last().map(|id| norm(id)) else {
                continue;
            };
            let schema = (parts.len() >= 2).then(|| norm(parts[parts.len() - 2]));
            let renamed = (in_expr && self.visible(&rel)).then(|| self.fresh(&rel));
            if let Some(new) = &renamed {
                *alias = Some(TableAlias {
                    explicit: true,
                    name: new.clone(),
                    columns: vec![],
                    at: None,
                });
            }
            scope.push(Binding {
                name: rel,
                schema,
                renamed,
            });
        }
        self.scopes.push(scope);
        for item in select.projection.iter_mut() {
            if let SelectItem::QualifiedWildcard(
                SelectItemQualifiedWildcardKind::ObjectName(name),
                _,
            ) = item
            {
                let new = idents(name).and_then(|parts| self.resolve(&parts));
                if let Some(new) = new {
                    *name = ObjectName::from(vec![new]);
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, _select: &mut Select) -> ControlFlow<()> {
        // A query whose body is this SELECT closes the scope after its ORDER BY.
        if !self.queries.last().is_some_and(|f| f.body_is_select) {
            self.scopes.pop();
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => self.pending += 1,
            // `t.col` or `s.t.col`: the qualifier names the innermost relation called `t`.
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let qualifier: Vec<&Ident> = parts[..parts.len() - 1].iter().collect();
                if let Some(new) = self.resolve(&qualifier) {
                    let col = parts.pop().expect("two parts at least");
                    *parts = vec![new, col];
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
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
        alias_shadowing_tables(&mut s);
        s.to_string()
    }

    #[test]
    fn renames_inner_relations_of_the_same_name() {
        assert_eq!(
            rewritten("SELECT * FROM t WHERE v > ANY (SELECT t.v FROM t WHERE t.k > 1)"),
            r#"SELECT * FROM t WHERE v > ANY(SELECT "t__1".v FROM t AS "t__1" WHERE "t__1".k > 1)"#
        );
        // A reference to the outer relation by another name stays.
        assert_eq!(
            rewritten("SELECT * FROM t AS o WHERE EXISTS (SELECT 1 FROM t WHERE t.k = o.k)"),
            "SELECT * FROM t AS o WHERE EXISTS (SELECT 1 FROM t WHERE t.k = o.k)"
        );
        assert_eq!(
            rewritten("SELECT * FROM s.t WHERE k IN (SELECT t.k FROM s.t JOIN u ON t.k = u.k)"),
            r#"SELECT * FROM s.t WHERE k IN (SELECT "t__1".k FROM s.t AS "t__1" JOIN u ON "t__1".k = u.k)"#
        );
        // Nested: each level gets its own name, and references bind to the innermost.
        assert_eq!(
            rewritten(
                "SELECT * FROM t WHERE EXISTS (SELECT 1 FROM t WHERE t.v IN (SELECT t.v FROM t))"
            ),
            r#"SELECT * FROM t WHERE EXISTS (SELECT 1 FROM t AS "t__1" WHERE "t__1".v IN (SELECT "t__2".v FROM t AS "t__2"))"#
        );
        // Derived tables and plain queries are left alone.
        assert_eq!(
            rewritten("SELECT * FROM t, (SELECT * FROM t) AS x"),
            "SELECT * FROM t, (SELECT * FROM t) AS x"
        );
    }

    #[test]
    fn schemas_aliases_order_by_and_taken_names() {
        // A schema-qualified reference binds to the relation of that schema.
        assert_eq!(
            rewritten("SELECT k FROM a.t WHERE EXISTS (SELECT 1 FROM b.t WHERE b.t.k = a.t.k)"),
            r#"SELECT k FROM a.t WHERE EXISTS (SELECT 1 FROM b.t AS "t__1" WHERE "t__1".k = a.t.k)"#
        );
        // The new name is one the statement does not use.
        assert_eq!(
            rewritten("SELECT t.k FROM t, t__1 WHERE EXISTS (SELECT 1 FROM t WHERE t.k < t__1.k)"),
            r#"SELECT t.k FROM t, t__1 WHERE EXISTS (SELECT 1 FROM t AS "t__2" WHERE "t__2".k < t__1.k)"#
        );
        // ORDER BY of the subquery sees its relations.
        assert_eq!(
            rewritten("SELECT k FROM t WHERE v = (SELECT t.v FROM t ORDER BY t.v DESC LIMIT 1)"),
            r#"SELECT k FROM t WHERE v = (SELECT "t__1".v FROM t AS "t__1" ORDER BY "t__1".v DESC LIMIT 1)"#
        );
        // An alias that shadows an enclosing name is renamed too.
        assert_eq!(
            rewritten("SELECT k FROM t WHERE v > ANY (SELECT t.v FROM u AS t)"),
            r#"SELECT k FROM t WHERE v > ANY(SELECT "t__1".v FROM u AS "t__1")"#
        );
        // Quoted names keep their case.
        assert_eq!(
            rewritten(r#"SELECT k FROM "T x" WHERE k > ANY (SELECT k FROM "T x")"#),
            r#"SELECT k FROM "T x" WHERE k > ANY(SELECT k FROM "T x" AS "T x__1")"#
        );
    }
}
