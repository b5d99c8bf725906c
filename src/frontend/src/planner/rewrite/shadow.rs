//! Tables of a subquery expression that shadow a table of an enclosing query get an alias of
//! their own.
//!
//! In `SELECT * FROM t WHERE v > ANY (SELECT v FROM t)` both relations are called `t`, and
//! DataFusion's decorrelation, which moves the comparison into the subquery as `t.v > t.v`,
//! can no longer tell them apart: it compares the inner table with itself and returns wrong
//! rows. Postgres binds a name to the innermost relation that has it, so renaming the inner
//! relation (and the qualified references bound to it) keeps the meaning and removes the
//! ambiguity.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, TableAlias, TableFactor, TableWithJoins, VisitMut, VisitorMut,
};

/// Applies the rewrite to everything `node` contains.
pub fn alias_shadowing_tables<T: VisitMut>(node: &mut T) {
    let mut v = Shadow::default();
    let _ = node.visit(&mut v);
}

/// The names one SELECT binds, and the new names of those it renamed.
struct Scope {
    bound: Vec<String>,
    renamed: HashMap<String, Ident>,
}

#[derive(Default)]
struct Shadow {
    scopes: Vec<Scope>,
    /// Per query being visited: whether it is a subquery expression (not a derived table).
    queries: Vec<bool>,
    /// Subquery expressions seen whose query has not been entered yet.
    pending: usize,
    next: usize,
}

/// How a relation name compares: unquoted identifiers fold to lower case, as DataFusion folds
/// them.
fn norm(id: &Ident) -> String {
    if id.quote_style.is_none() {
        id.value.to_lowercase()
    } else {
        id.value.clone()
    }
}

fn last_ident(name: &ObjectName) -> Option<&Ident> {
    match name.0.last()? {
        ObjectNamePart::Identifier(id) => Some(id),
        _ => None,
    }
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
        self.scopes
            .iter()
            .any(|s| s.bound.iter().any(|b| b == name))
    }

    /// The new name of relation `name` as seen from the innermost scope, if it was renamed.
    fn resolve(&self, name: &str) -> Option<&Ident> {
        let scope = self
            .scopes
            .iter()
            .rev()
            .find(|s| s.bound.iter().any(|b| b == name))?;
        scope.renamed.get(name)
    }
}

impl VisitorMut for Shadow {
    type Break = ();

    fn pre_visit_query(&mut self, _q: &mut Query) -> ControlFlow<()> {
        let is_expr = self.pending > 0;
        if is_expr {
            self.pending -= 1;
        }
        self.queries.push(is_expr);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _q: &mut Query) -> ControlFlow<()> {
        self.queries.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        let in_expr = self.queries.last().copied().unwrap_or(false);
        let mut scope = Scope {
            bound: Vec::new(),
            renamed: HashMap::new(),
        };
        let mut fs = Vec::new();
        factors(&mut select.from, &mut fs);
        for f in fs {
            let name = match f {
                TableFactor::Table {
                    name,
                    alias: None,
                    args: None,
                    ..
                } => match last_ident(name) {
                    Some(id) => norm(id),
                    None => continue,
                },
                TableFactor::Table { alias: Some(a), .. }
                | TableFactor::Derived { alias: Some(a), .. }
                | TableFactor::UNNEST { alias: Some(a), .. }
                | TableFactor::Function { alias: Some(a), .. } => {
                    scope.bound.push(norm(&a.name));
                    continue;
                }
                _ => continue,
            };
            if in_expr && self.visible(&name) && !scope.renamed.contains_key(&name) {
                self.next += 1;
                let new = Ident::new(format!("{name}__{}", self.next));
                if let TableFactor::Table { alias, .. } = f {
                    *alias = Some(TableAlias {
                        explicit: true,
                        name: new.clone(),
                        columns: vec![],
                        at: None,
                    });
                }
                scope.renamed.insert(name.clone(), new);
            }
            scope.bound.push(name);
        }
        for item in select.projection.iter_mut() {
            if let SelectItem::QualifiedWildcard(
                SelectItemQualifiedWildcardKind::ObjectName(name),
                _,
            ) = item
            {
                if let Some(new) = last_ident(name).and_then(|id| scope.renamed.get(&norm(id))) {
                    *name = ObjectName::from(vec![new.clone()]);
                }
            }
        }
        self.scopes.push(scope);
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, _select: &mut Select) -> ControlFlow<()> {
        self.scopes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => self.pending += 1,
            // `t.col` (or `s.t.col`): the relation part names the innermost relation `t`.
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let rel = norm(&parts[parts.len() - 2]);
                if let Some(new) = self.resolve(&rel).cloned() {
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
        alias_shadowing_tables(&mut *s);
        s.to_string()
    }

    #[test]
    fn renames_inner_relations_of_the_same_name() {
        assert_eq!(
            rewritten("SELECT * FROM t WHERE v > ANY (SELECT t.v FROM t WHERE t.k > 1)"),
            "SELECT * FROM t WHERE v > ANY(SELECT t__1.v FROM t AS t__1 WHERE t__1.k > 1)"
        );
        // A reference to the outer relation by another name stays.
        assert_eq!(
            rewritten("SELECT * FROM t AS o WHERE EXISTS (SELECT 1 FROM t WHERE t.k = o.k)"),
            "SELECT * FROM t AS o WHERE EXISTS (SELECT 1 FROM t WHERE t.k = o.k)"
        );
        assert_eq!(
            rewritten("SELECT * FROM s.t WHERE k IN (SELECT t.k FROM s.t JOIN u ON t.k = u.k)"),
            "SELECT * FROM s.t WHERE k IN (SELECT t__1.k FROM s.t AS t__1 JOIN u ON t__1.k = u.k)"
        );
        // Nested: each level gets its own name, and references bind to the innermost.
        assert_eq!(
            rewritten("SELECT * FROM t WHERE EXISTS (SELECT 1 FROM t WHERE t.v IN (SELECT t.v FROM t))"),
            "SELECT * FROM t WHERE EXISTS (SELECT 1 FROM t AS t__1 WHERE t__1.v IN (SELECT t__2.v FROM t AS t__2))"
        );
        // Derived tables and plain queries are left alone.
        assert_eq!(
            rewritten("SELECT * FROM t, (SELECT * FROM t) AS x"),
            "SELECT * FROM t, (SELECT * FROM t) AS x"
        );
    }
}
