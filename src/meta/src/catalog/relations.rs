//! Kinds of relations and the dependencies between them.
//!
//! Tables, materialized views, views and indexes share one map and one name space per schema,
//! as in Postgres. A relation depends on what it reads (`dependent_relations`, and for an
//! index the relation it indexes); dropping a relation drops its dependents first.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tributary_proto::catalog::{Table, TableType};

/// The relation's kind; catalogs written before views existed have no type and hold tables.
pub fn relation_type(t: &Table) -> TableType {
    match t.table_type() {
        TableType::Unspecified => TableType::Table,
        other => other,
    }
}

/// Whether the relation is maintained by a streaming job (actors, state tables).
pub fn is_streaming_job(t: &Table) -> bool {
    matches!(relation_type(t), TableType::MaterializedView | TableType::Index)
}

/// Whether a compute node stores the relation's rows (everything but views).
pub fn is_stored(t: &Table) -> bool {
    relation_type(t) != TableType::View
}

/// The kind as SQL names it in messages ("cannot drop materialized view m ...").
pub fn type_noun(t: TableType) -> &'static str {
    match t {
        TableType::Unspecified | TableType::Table => "table",
        TableType::MaterializedView => "materialized view",
        TableType::View => "view",
        TableType::Index => "index",
    }
}

fn with_article(t: TableType) -> String {
    let noun = type_noun(t);
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {noun}")
    } else {
        format!("a {noun}")
    }
}

/// Postgres' wording when a statement names the wrong kind: `"v" is not a materialized view`.
pub fn wrong_type_message(name: &str, expected: TableType) -> String {
    format!("\"{name}\" is not {}", with_article(expected))
}

/// The relations `t` reads.
pub fn dependencies(t: &Table) -> impl Iterator<Item = u32> + '_ {
    let index_on = (relation_type(t) == TableType::Index && t.index_on != 0).then_some(t.index_on);
    t.dependent_relations.iter().copied().chain(index_on)
}

/// `roots` and every relation that depends on them, transitively, ordered so that each
/// relation comes after everything that depends on it: dropping in this order never leaves a
/// relation reading a dropped one, even if a multi-transaction drop stops half way.
pub fn drop_order(tables: &BTreeMap<u32, Table>, roots: &[u32]) -> Vec<u32> {
    let mut dependents: HashMap<u32, BTreeSet<u32>> = HashMap::new();
    for t in tables.values() {
        for d in dependencies(t) {
            dependents.entry(d).or_default().insert(t.id);
        }
    }
    // Iterative post-order over "is read by" edges: a relation is emitted once all its
    // dependents are. The catalog is acyclic (dependencies exist before their dependents).
    let mut order = Vec::new();
    let mut visited = BTreeSet::new();
    for &root in roots {
        if !tables.contains_key(&root) || !visited.insert(root) {
            continue;
        }
        let mut stack: Vec<(u32, Vec<u32>)> = vec![(root, dependents_of(&dependents, root))];
        while let Some((id, pending)) = stack.last_mut() {
            match pending.pop() {
                Some(next) => {
                    if tables.contains_key(&next) && visited.insert(next) {
                        let children = dependents_of(&dependents, next);
                        stack.push((next, children));
                    }
                }
                None => {
                    order.push(*id);
                    stack.pop();
                }
            }
        }
    }
    order
}

fn dependents_of(dependents: &HashMap<u32, BTreeSet<u32>>, id: u32) -> Vec<u32> {
    // Reversed so that `pop` visits dependents in id order: drops come out deterministic.
    dependents.get(&id).map(|s| s.iter().rev().copied().collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(id: u32, ty: TableType, deps: &[u32]) -> Table {
        Table {
            id,
            name: format!("r{id}"),
            table_type: ty as i32,
            dependent_relations: deps.to_vec(),
            ..Default::default()
        }
    }

    fn catalog(rels: Vec<Table>) -> BTreeMap<u32, Table> {
        rels.into_iter().map(|t| (t.id, t)).collect()
    }

    fn position(order: &[u32], id: u32) -> usize {
        order.iter().position(|&x| x == id).unwrap_or(usize::MAX)
    }

    #[test]
    fn dependents_come_before_what_they_read() {
        // t1 <- m2 <- m4, t1 <- m3 <- m4 (diamond), m4 <- v5, t6 unrelated, i7 indexes m2.
        let mut index = rel(7, TableType::Index, &[]);
        index.index_on = 2;
        let tables = catalog(vec![
            rel(1, TableType::Unspecified, &[]),
            rel(2, TableType::MaterializedView, &[1]),
            rel(3, TableType::MaterializedView, &[1]),
            rel(4, TableType::MaterializedView, &[2, 3]),
            rel(5, TableType::View, &[4]),
            rel(6, TableType::Table, &[]),
            index,
        ]);
        let order = drop_order(&tables, &[1]);
        assert_eq!(order.len(), 6, "{order:?}");
        assert!(!order.contains(&6));
        for t in tables.values() {
            if !order.contains(&t.id) {
                continue;
            }
            for d in dependencies(t) {
                assert!(position(&order, t.id) < position(&order, d), "{} before {d} in {order:?}", t.id);
            }
        }
        assert_eq!(order.last(), Some(&1));
        assert_eq!(drop_order(&tables, &[5]), vec![5]);
        assert_eq!(drop_order(&tables, &[6]), vec![6]);
        assert!(drop_order(&tables, &[99]).is_empty());
        // Several roots sharing dependents: each relation once.
        let both = drop_order(&tables, &[2, 3]);
        assert_eq!(both.len(), 5, "{both:?}");
    }

    #[test]
    fn kinds_and_messages() {
        assert_eq!(relation_type(&rel(1, TableType::Unspecified, &[])), TableType::Table);
        assert!(is_streaming_job(&rel(1, TableType::Index, &[])));
        assert!(!is_stored(&rel(1, TableType::View, &[])));
        assert_eq!(wrong_type_message("v", TableType::MaterializedView), "\"v\" is not a materialized view");
        assert_eq!(wrong_type_message("t", TableType::Index), "\"t\" is not an index");
    }
}
