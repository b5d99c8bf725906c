//! CREATE INDEX: a streaming job, like a materialized view, that keeps a copy of a table's (or
//! materialized view's) rows keyed by the index columns followed by the relation's primary key
//! and distributed by the first index column. Batch scans of the relation read it for
//! predicates on its leading columns (`planner::key_range`).

use std::collections::HashSet;

use datafusion::sql::sqlparser::ast::{BinaryOperator, CreateIndex, Expr, Ident, Query};
use datafusion::sql::sqlparser::parser::Parser;
use tributary_common::catalog::Table;
use tributary_proto::catalog::TableType;
use tributary_proto::meta::CreateMaterializedViewRequest;

use super::create_mv::{already_exists, creation_target, explain_rows, Target};
use super::parse::DISTRIBUTED_BY_OPTION;
use super::{FrontendEnv, StatementResult};
use crate::binder::{normalize_ident, resolve_table};
use crate::catalog::TableCatalog;
use crate::error::{FrontendError, Result};
use crate::session::Session;
use crate::stream::{plan_index, IndexLayout, StreamPlan};

/// A column an index stores.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexColumn {
    /// A column of the indexed relation (its index).
    Column(usize),
    /// An expression over the relation's columns (`CREATE INDEX ON t (lower(name))`).
    Expr(Box<Expr>),
}

/// What a CREATE INDEX statement asks for, checked against the indexed relation.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSpec {
    /// Columns of the index: key, included, then the relation's primary key columns not
    /// already there.
    pub columns: Vec<IndexColumn>,
    /// Positions in `columns` of the key columns, with their order (true = DESC).
    pub key: Vec<(usize, bool)>,
    /// Positions in `columns` of the distribution key.
    pub dist_key: Vec<usize>,
    /// Positions in `columns` of the relation's primary key.
    pub upstream_pk: Vec<usize>,
}

fn column_of(relation: &TableCatalog, ident: &Ident) -> Result<usize> {
    let name = normalize_ident(ident);
    relation
        .table
        .columns
        .iter()
        .position(|c| c.name == name && !c.hidden)
        .ok_or_else(|| FrontendError::sql("42703", format!("column \"{name}\" does not exist in \"{}\"", relation.table.name)))
}

fn distributed_by(create: &CreateIndex) -> Result<Option<Vec<Ident>>> {
    let mut out = None;
    for option in &create.with {
        match option {
            Expr::BinaryOp { left, op: BinaryOperator::Eq, right } if matches!(left.as_ref(), Expr::Identifier(i) if i.value == DISTRIBUTED_BY_OPTION) =>
            {
                let Expr::Tuple(items) = right.as_ref() else {
                    return Err(FrontendError::Internal("DISTRIBUTED BY lost its columns".into()));
                };
                let idents = items
                    .iter()
                    .map(|e| match e {
                        Expr::Identifier(i) => Ok(i.clone()),
                        _ => Err(FrontendError::Internal("DISTRIBUTED BY lost its columns".into())),
                    })
                    .collect::<Result<Vec<_>>>()?;
                out = Some(idents);
            }
            other => return Err(FrontendError::not_supported(format!("CREATE INDEX WITH ({other})"))),
        }
    }
    Ok(out)
}

/// Validates the statement against the indexed relation.
pub fn index_spec(create: &CreateIndex, relation: &TableCatalog) -> Result<IndexSpec> {
    if create.unique {
        return Err(FrontendError::not_supported("CREATE UNIQUE INDEX"));
    }
    if create.concurrently {
        return Err(FrontendError::not_supported("CREATE INDEX CONCURRENTLY"));
    }
    if let Some(using) = &create.using {
        return Err(FrontendError::not_supported(format!("CREATE INDEX USING {using}")));
    }
    if create.predicate.is_some() {
        return Err(FrontendError::not_supported("partial indexes (CREATE INDEX ... WHERE)"));
    }
    if create.nulls_distinct.is_some() || !create.index_options.is_empty() || !create.alter_options.is_empty() {
        return Err(FrontendError::not_supported("CREATE INDEX options"));
    }
    if create.columns.is_empty() {
        return Err(FrontendError::sql("42601", "an index needs at least one column"));
    }
    let mut columns: Vec<IndexColumn> = Vec::new();
    let mut key = Vec::new();
    for c in &create.columns {
        if c.operator_class.is_some() {
            return Err(FrontendError::not_supported("operator classes in CREATE INDEX"));
        }
        let mut expr = &c.column.expr;
        while let Expr::Nested(inner) = expr {
            expr = inner;
        }
        let column = match expr {
            Expr::Identifier(ident) => IndexColumn::Column(column_of(relation, ident)?),
            e => IndexColumn::Expr(Box::new(e.clone())),
        };
        // NULLS FIRST / LAST is accepted but the stored order keeps NULLs where the key
        // encoding puts them (last ascending, first descending): index scans look rows up by
        // key ranges and never return rows in index order, so no result depends on it.
        let desc = c.column.options.asc == Some(false);
        if columns.contains(&column) {
            // Repeating a key column orders by nothing new.
            continue;
        }
        key.push((columns.len(), desc));
        columns.push(column);
    }
    // RisingWave includes every column by default: the index then answers queries alone.
    let included: Vec<usize> = if create.include.is_empty() {
        relation.visible_columns().collect()
    } else {
        create.include.iter().map(|i| column_of(relation, i)).collect::<Result<_>>()?
    };
    for c in included {
        let c = IndexColumn::Column(c);
        if !columns.contains(&c) {
            columns.push(c);
        }
    }
    let mut upstream_pk = Vec::new();
    for &c in &relation.table.pk_indices {
        let c = IndexColumn::Column(c as usize);
        let pos = match columns.iter().position(|x| *x == c) {
            Some(p) => p,
            None => {
                columns.push(c);
                columns.len() - 1
            }
        };
        upstream_pk.push(pos);
    }
    let dist_key = match distributed_by(create)? {
        Some(idents) => {
            let mut dist = Vec::new();
            for i in &idents {
                let c = IndexColumn::Column(column_of(relation, i)?);
                let pos = key.iter().map(|(p, _)| *p).find(|p| columns[*p] == c).ok_or_else(|| {
                    FrontendError::sql(
                        "42P16",
                        format!("DISTRIBUTED BY column \"{}\" must be one of the index columns", normalize_ident(i)),
                    )
                })?;
                if !dist.contains(&pos) {
                    dist.push(pos);
                }
            }
            dist
        }
        None => vec![key[0].0],
    };
    Ok(IndexSpec { columns, key, dist_key, upstream_pk })
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `SELECT <the index's columns> FROM <relation>`.
fn index_query(relation: &TableCatalog, schema: &str, spec: &IndexSpec) -> Result<Query> {
    let cols: Vec<String> = spec
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            IndexColumn::Column(c) => quote(&relation.table.columns[*c].name),
            // Named for now; the index column is named after the planned expression.
            IndexColumn::Expr(e) => format!("({e}) AS \"_expr{i}\""),
        })
        .collect();
    let sql = format!("SELECT {} FROM {}.{}", cols.join(", "), quote(schema), quote(&relation.table.name));
    let mut stmts = Parser::parse_sql(&crate::dialect::TributaryDialect::new(), &sql).map_err(|e| FrontendError::Internal(e.to_string()))?;
    match stmts.pop() {
        Some(datafusion::sql::sqlparser::ast::Statement::Query(q)) => Ok(*q),
        _ => Err(FrontendError::Internal(format!("index query did not parse as a query: {sql}"))),
    }
}

fn index_name(create: &CreateIndex) -> Result<&datafusion::sql::sqlparser::ast::ObjectName> {
    // Postgres makes up a name; RisingWave requires one.
    create.name.as_ref().ok_or_else(|| FrontendError::not_supported("CREATE INDEX without a name"))
}

/// The statement as the catalog shows it (DISTRIBUTED BY back in RisingWave's syntax).
fn definition(create: &CreateIndex) -> String {
    let mut plain = create.clone();
    let dist = distributed_by(create).ok().flatten();
    plain.with.clear();
    match dist {
        Some(cols) => {
            let cols: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
            format!("{plain} DISTRIBUTED BY ({})", cols.join(", "))
        }
        None => plain.to_string(),
    }
}

struct Planned {
    relation: std::sync::Arc<TableCatalog>,
    target: Target,
    plan: StreamPlan,
    spec: IndexSpec,
}

async fn plan(env: &FrontendEnv, session: &Session, create: &CreateIndex) -> Result<Option<Planned>> {
    // Validates the name; whether it is taken is checked in the relation's schema below.
    let target = creation_target(env, session, index_name(create)?)?;
    let db = env.database(session)?;
    let catalog = env.observer.catalog();
    let relation = resolve_table(&catalog, &db, &session.search_path(), &create.table_name)?;
    match TableType::try_from(relation.table.table_type).unwrap_or(TableType::Table) {
        TableType::Table | TableType::Unspecified | TableType::MaterializedView => {}
        other => {
            let noun = if other == TableType::View { "view" } else { "index" };
            return Err(FrontendError::sql("42809", format!("cannot create index on {noun} \"{}\"", relation.table.name)));
        }
    }
    // An index lives in the schema of its relation, as in Postgres.
    if target.schema_id != relation.table.schema_id && create.name.as_ref().is_some_and(|n| n.0.len() > 1) {
        return Err(FrontendError::sql("42P16", "an index must be in the schema of the relation it indexes"));
    }
    let target = Target { schema_id: relation.table.schema_id, ..target };
    if catalog.table(target.schema_id, &target.name).is_some() {
        if create.if_not_exists {
            return Ok(None);
        }
        return Err(already_exists(&target.name));
    }
    let ctx = env.planning_context(session, true)?;
    let (spec, plan) = plan_index_of(&ctx, &relation, create, super::create_mv::parallelism(session)).await?;
    Ok(Some(Planned { relation, target, plan, spec }))
}

/// The stream plan of index `create` on `relation`; `ctx` must show hidden columns (a
/// table's `_row_id` is part of the index).
pub async fn plan_index_of(
    ctx: &std::sync::Arc<crate::planner::PlanningContext>,
    relation: &TableCatalog,
    create: &CreateIndex,
    parallelism: u32,
) -> Result<(IndexSpec, StreamPlan)> {
    let spec = index_spec(create, relation)?;
    let schema_name = ctx
        .catalog
        .schemas
        .get(&relation.table.schema_id)
        .map(|s| s.name.clone())
        .ok_or_else(|| FrontendError::Internal("the indexed relation has no schema".into()))?;
    let query = index_query(relation, &schema_name, &spec)?;
    let layout = IndexLayout { key: spec.key.clone(), upstream_pk: spec.upstream_pk.clone(), dist_key: spec.dist_key.clone() };
    let plan = plan_index(ctx, &query, &layout, parallelism).await?;
    Ok((spec, plan))
}

pub async fn handle_create_index(env: &FrontendEnv, session: &mut Session, create: CreateIndex) -> Result<StatementResult> {
    let Some(Planned { relation, target, plan, spec }) = plan(env, session, &create).await? else {
        return Ok(StatementResult::command("CREATE INDEX"));
    };
    let db = env.database(session)?;
    let mut columns = plan.columns;
    // Columns keep the indexed relation's names and hidden flags (a table's `_row_id`).
    for ((c, src), expr) in columns.iter_mut().zip(&spec.columns).zip(&plan.expr_names) {
        match *src {
            IndexColumn::Column(src) => {
                let from = &relation.table.columns[src];
                c.name = from.name.clone();
                c.hidden = from.hidden;
            }
            // Scans match the filters' expressions by this name (`planner::key_range`).
            IndexColumn::Expr(_) => {
                c.name = expr.clone().ok_or_else(|| FrontendError::Internal("an index expression has no name".into()))?;
            }
        }
    }
    let mut seen = HashSet::new();
    if let Some(dup) = columns.iter().find(|c| !seen.insert(c.name.clone())) {
        return Err(FrontendError::sql("42701", format!("index column \"{}\" specified more than once", dup.name)));
    }
    let pk_descending: Vec<bool> = plan.pk.iter().map(|c| spec.key.iter().any(|(p, desc)| *p == *c as usize && *desc)).collect();
    let table = Table {
        database_id: db.id,
        schema_id: target.schema_id,
        name: target.name,
        columns,
        pk_indices: plan.pk,
        definition: definition(&create),
        table_type: TableType::Index as i32,
        dependent_relations: plan.dependent_relations,
        index_on: relation.table.id,
        pk_descending,
        dist_key: plan.dist_key,
        ..Default::default()
    };
    let request =
        CreateMaterializedViewRequest { table: Some(table), graph: Some(plan.graph), if_not_exists: create.if_not_exists };
    let resp = env.observer.client.clone().create_materialized_view(request).await?.into_inner();
    env.observer.wait_version(resp.version).await?;
    Ok(StatementResult::command("CREATE INDEX"))
}

/// `EXPLAIN CREATE INDEX ...`: the stream plan.
pub async fn handle_explain(env: &FrontendEnv, session: &mut Session, create: CreateIndex) -> Result<StatementResult> {
    match plan(env, session, &create).await? {
        Some(p) => explain_rows(p.plan.explain()),
        None => Err(already_exists(&index_name(&create)?.to_string())),
    }
}

/// How `SHOW INDEXES` describes an index: key columns with their order, the other columns it
/// stores, and its distribution key (RisingWave's columns).
pub fn describe_index(index: &Table) -> Result<[String; 3]> {
    let parsed = super::parse::parse_statements(&index.definition)?;
    let create = match parsed.into_iter().next() {
        Some(super::ParsedStatement::Sql(s)) => match *s {
            datafusion::sql::sqlparser::ast::Statement::CreateIndex(c) => c,
            _ => return Err(FrontendError::Internal(format!("index {} has no CREATE INDEX definition", index.name))),
        },
        _ => return Err(FrontendError::Internal(format!("index {} has no CREATE INDEX definition", index.name))),
    };
    let mut key_names = Vec::new();
    let mut key = Vec::new();
    for c in &create.columns {
        let name = match &c.column.expr {
            Expr::Identifier(i) => normalize_ident(i),
            other => other.to_string(),
        };
        if key_names.contains(&name) {
            continue;
        }
        let order = if c.column.options.asc == Some(false) { "DESC" } else { "ASC" };
        key.push(format!("{name} {order}"));
        key_names.push(name);
    }
    let include: Vec<String> = if create.include.is_empty() {
        index.columns.iter().filter(|c| !c.hidden && !key_names.contains(&c.name)).map(|c| c.name.clone()).collect()
    } else {
        create.include.iter().map(normalize_ident).filter(|n| !key_names.contains(n)).collect()
    };
    let dist: Vec<String> =
        index.dist_key.iter().filter_map(|d| index.columns.get(*d as usize)).map(|c| c.name.clone()).collect();
    Ok([key.join(", "), include.join(", "), dist.join(", ")])
}

/// `SHOW INDEXES FROM relation`.
pub fn show_indexes(env: &FrontendEnv, session: &Session, relation: &str) -> Result<StatementResult> {
    let db = env.database(session)?;
    let catalog = env.observer.catalog();
    let name = datafusion::sql::sqlparser::ast::ObjectName::from(
        relation.split('.').map(|p| Ident::new(p.trim_matches('"'))).collect::<Vec<_>>(),
    );
    let on = resolve_table(&catalog, &db, &session.search_path(), &name)?;
    let mut indexes: Vec<&std::sync::Arc<TableCatalog>> = catalog
        .tables
        .values()
        .filter(|t| t.table.table_type == TableType::Index as i32 && t.table.index_on == on.table.id)
        .collect();
    indexes.sort_by(|a, b| a.table.name.cmp(&b.table.name));
    let mut rows = Vec::new();
    for i in indexes {
        let [key, include, dist] = describe_index(&i.table)?;
        rows.push(vec![Some(i.table.name.clone()), Some(on.table.name.clone()), Some(key), Some(include), Some(dist)]);
    }
    super::utility::text_rows(&["Name", "On", "Key", "Include", "Distributed By"], rows)
}

#[cfg(test)]
mod tests {
    use tributary_common::catalog::ColumnDesc;
    use tributary_common::types::DataType;

    use super::*;
    use crate::handler::parse::{parse_statements, ParsedStatement};

    fn relation() -> TableCatalog {
        let col = |id: u32, name: &str, hidden: bool| ColumnDesc {
            column_id: id,
            name: name.into(),
            data_type: Some(DataType::Int32.to_protobuf()),
            not_null: false,
            hidden,
            default_expr: None,
        };
        let table = Table {
            id: 1000,
            name: "t".into(),
            columns: vec![col(0, "a", false), col(1, "b", false), col(2, "c", false), col(3, "_row_id", true)],
            pk_indices: vec![3],
            ..Default::default()
        };
        let mut table = table;
        table.columns[3].data_type = Some(DataType::Int64.to_protobuf());
        let schema = tributary_common::catalog::TableSchema::of(&table).unwrap();
        TableCatalog { table, schema }
    }

    fn create(sql: &str) -> CreateIndex {
        match parse_statements(sql).unwrap().remove(0) {
            ParsedStatement::Sql(s) => match *s {
                datafusion::sql::sqlparser::ast::Statement::CreateIndex(c) => c,
                other => panic!("not CREATE INDEX: {other}"),
            },
            other => panic!("not SQL: {other:?}"),
        }
    }

    fn spec(sql: &str) -> Result<IndexSpec> {
        index_spec(&create(sql), &relation())
    }

    #[test]
    fn key_include_and_pk() {
        let cols = |s: &IndexSpec| -> Vec<usize> {
            s.columns.iter().map(|c| if let IndexColumn::Column(c) = c { *c } else { usize::MAX }).collect()
        };
        let s = spec("create index i on t (c desc, a)").unwrap();
        assert_eq!(cols(&s), vec![2, 0, 1, 3]);
        assert_eq!(s.key, vec![(0, true), (1, false)]);
        assert_eq!(s.dist_key, vec![0]);
        assert_eq!(s.upstream_pk, vec![3]);

        let s = spec("create index i on t (b) include (a) distributed by (b)").unwrap();
        assert_eq!(cols(&s), vec![1, 0, 3]);
        let s = spec("create index i on t (lower(b))").unwrap();
        assert_eq!(cols(&s), vec![usize::MAX, 0, 1, 2, 3]);
        let s = spec("create index i on t ((b))").unwrap();
        assert_eq!(cols(&s), vec![1, 0, 2, 3]);
        assert_eq!(s.dist_key, vec![0]);

        let s = spec("create index i on t (a, b) distributed by (b, a)").unwrap();
        assert_eq!(s.dist_key, vec![1, 0]);
    }

    #[test]
    fn errors() {
        let code = |sql: &str| spec(sql).unwrap_err().sqlstate();
        assert_eq!(code("create index i on t (x)"), "42703");
        assert_eq!(code("create index i on t (a) include (x)"), "42703");
        assert_eq!(code("create index i on t using hash (a)"), "0A000");
        assert_eq!(code("create index i on t (a) where a > 1"), "0A000");
        assert_eq!(code("create unique index i on t (a)"), "0A000");
        assert_eq!(code("create index i on t (a) distributed by (c)"), "42P16");
        assert_eq!(code("create index i on t (_row_id)"), "42703");
        assert!(spec("create index i on t (a desc nulls first)").is_ok());
        assert!(spec("create index i on t (a nulls first)").is_ok());
    }

    #[test]
    fn definition_keeps_distributed_by() {
        let c = create("create index i on t (a) distributed by (a)");
        assert_eq!(definition(&c), "CREATE INDEX i ON t(a) DISTRIBUTED BY (a)");
    }
}
