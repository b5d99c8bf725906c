//! System catalogs: the `pg_catalog` and `information_schema` tables that psql, drivers and BI
//! tools query, computed from the catalog snapshot when a statement names them, and the
//! functions and casts those queries use.
//!
//! Object ids follow the catalog: a database's oid is its id, a schema's (namespace's) oid its
//! id, a table's oid its id. Meta hands out ids from 1000 up and leaves the ones below to us:
//! the system namespaces and relations live there. A table's primary key shows as an index and
//! a constraint (as in Postgres) whose oid is the table's id plus [`PK_OID_OFFSET`].
//!
//! Pieces:
//! - [`table`]: the system table a name resolves to (called by the planner's catalog provider).
//! - [`install`]: session-independent functions (`version()`, `format_type`, ...), into the base
//!   session state; [`install_session`]: functions that read the statement's catalog view
//!   (`current_schema()`, `pg_table_is_visible`, `::regclass`, ...), into each statement's state.
//! - [`rewrite_for_catalog`]: SQL that catalog queries use and DataFusion does not plan
//!   (`OPERATOR(pg_catalog.~)`, `COLLATE`, `::regclass`, `pg_catalog.`-qualified functions,
//!   `ARRAY(subquery)`, some correlated subqueries), rewritten before planning.

mod functions;
mod information_schema;
mod pg_catalog;
mod rewrite;
pub(crate) mod schema;
mod types;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use datafusion::datasource::TableProvider;
use datafusion::error::Result as DfResult;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use tributary_common::catalog::{ColumnDesc, Database, SchemaCatalog};
use tributary_common::types::DataType;
use tributary_proto::catalog::TableType;

pub use functions::{install, install_session, install_session_into};
pub use rewrite::rewrite_for_catalog;
use schema::SystemTable;

use super::{CatalogSnapshot, TableCatalog};
use crate::planner::PlanningContext;

pub const PG_CATALOG_OID: i32 = 11;
pub const INFORMATION_SCHEMA_OID: i32 = 13;
pub const RW_CATALOG_OID: i32 = 14;
/// The one role, `root`, has the oid of Postgres' bootstrap superuser.
pub const SUPERUSER_OID: i32 = 10;
pub const SUPERUSER: &str = "root";
pub const HEAP_AM_OID: i32 = 2;
pub const BTREE_AM_OID: i32 = 403;
/// System relations get oids from here on, in declaration order; below meta's first id (1000).
const SYSTEM_REL_OID_BASE: i64 = 100;
/// Added to a table's id to name its primary key index and constraint. Meta ids stay far below.
pub const PK_OID_OFFSET: i64 = 1 << 30;

/// The part of a statement's planning context the system catalogs read; separate from
/// [`PlanningContext`] so that it can be built without a running cluster.
#[derive(Debug, Clone)]
pub struct CatalogView {
    pub catalog: Arc<CatalogSnapshot>,
    pub database: Database,
    /// The session's search_path (without the implicit pg_catalog).
    pub search_path: Vec<String>,
    pub user: String,
    /// The epoch the statement reads at; it doubles as the transaction id.
    pub epoch: u64,
    /// The session settings the planning context knows (lower-case names); others show their
    /// defaults.
    pub settings: Vec<(String, String)>,
}

impl CatalogView {
    pub fn of(ctx: &PlanningContext) -> Self {
        let mut settings: Vec<(String, String)> =
            ctx.settings.iter().filter(|(n, _)| n != "search_path" && n != "timezone").cloned().collect();
        settings.push(("search_path".to_string(), display_search_path(&ctx.search_path, &ctx.user)));
        settings.push(("timezone".to_string(), ctx.time_zone.clone()));
        CatalogView {
            catalog: ctx.catalog.clone(),
            database: ctx.database.clone(),
            search_path: ctx.search_path.clone(),
            user: ctx.user.clone(),
            epoch: ctx.epoch,
            settings,
        }
    }

    /// A setting as `current_setting` shows it: the session's, else the server default.
    pub fn setting(&self, name: &str) -> Option<String> {
        let lower = name.to_ascii_lowercase();
        let lower = match lower.as_str() {
            "time zone" | "time_zone" => "timezone".to_string(),
            _ => lower,
        };
        if let Some((_, v)) = self.settings.iter().find(|(n, _)| *n == lower) {
            return Some(v.clone());
        }
        pg_catalog::SETTINGS.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(&lower)).map(|(_, v, _)| v.to_string())
    }
}

/// The search path as SHOW prints it; the session only keeps it resolved, so the user's own
/// schema shows as `"$user"` again.
pub fn display_search_path(path: &[String], user: &str) -> String {
    path.iter().map(|s| if s == user { "\"$user\"".to_string() } else { quote_ident(s) }).collect::<Vec<_>>().join(", ")
}

/// The system table `schema.name`, if there is one.
pub fn table(ctx: &PlanningContext, schema: &str, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
    // Called first for every unqualified name, user tables included: stay cheap on a miss.
    let Some(t) = system_table(schema, name) else { return Ok(None) };
    Ok(Some(Arc::new(t.provider(&CatalogView::of(ctx))?)))
}

/// [`table`] over a [`CatalogView`].
pub fn table_of_view(view: &CatalogView, schema: &str, name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
    let Some(t) = system_table(schema, name) else { return Ok(None) };
    Ok(Some(Arc::new(t.provider(view)?)))
}

/// Adds the per-statement functions of `ctx` to a session state being built.
pub fn install_for(builder: SessionStateBuilder, ctx: &PlanningContext) -> SessionStateBuilder {
    install_session(builder, Arc::new(CatalogView::of(ctx)))
}

/// [`install_for`] into a built state.
pub fn install_into(state: &mut SessionState, ctx: &PlanningContext) -> datafusion::error::Result<()> {
    install_session_into(state, Arc::new(CatalogView::of(ctx)))
}

fn system_tables() -> impl Iterator<Item = &'static SystemTable> {
    pg_catalog::TABLES.iter().chain(information_schema::TABLES.iter())
}

fn system_table(schema: &str, name: &str) -> Option<&'static SystemTable> {
    system_tables().find(|t| t.name == name && t.schema == schema)
}

/// Whether `pg_catalog.name` never has rows (the rewrite may then drop subqueries evaluated
/// per row of it).
pub(crate) fn is_always_empty(name: &str) -> bool {
    system_table("pg_catalog", name).is_some_and(|t| t.rows.is_none())
}

pub(crate) fn is_system_relation(schema: Option<&str>, name: &str) -> bool {
    match schema {
        Some(s) => system_table(s, name).is_some(),
        None => system_table("pg_catalog", name).is_some(),
    }
}

/// A namespace (schema) as pg_namespace lists it.
#[derive(Debug, Clone)]
pub struct Namespace {
    pub oid: i32,
    pub name: String,
}

/// What a pg_class row describes.
#[derive(Clone)]
pub enum RelKind<'a> {
    Table(&'a Arc<TableCatalog>),
    /// The index behind a table's primary key.
    PrimaryKey(&'a Arc<TableCatalog>),
    System(&'static SystemTable),
}

#[derive(Clone)]
pub struct Relation<'a> {
    pub oid: i64,
    pub name: String,
    pub namespace: i32,
    pub schema: String,
    pub kind: RelKind<'a>,
}

impl Relation<'_> {
    pub fn relkind(&self) -> &'static str {
        match &self.kind {
            RelKind::Table(t) => match relation_kind(&t.table) {
                TableType::MaterializedView => "m",
                TableType::View => "v",
                TableType::Index => "i",
                _ => "r",
            },
            RelKind::PrimaryKey(_) => "i",
            RelKind::System(t) => t.kind.relkind(),
        }
    }
}

/// The kind of a catalog relation (UNSPECIFIED, from catalogs older than views, is a table).
pub fn relation_kind(t: &tributary_common::catalog::Table) -> TableType {
    match TableType::try_from(t.table_type) {
        Ok(TableType::Unspecified) | Err(_) => TableType::Table,
        Ok(k) => k,
    }
}

/// User relations of one kind in this database, by id.
pub fn relations_of_kind(v: &CatalogView, kind: TableType) -> Vec<(&Arc<TableCatalog>, String)> {
    v.tables()
        .into_iter()
        .filter(|t| relation_kind(&t.table) == kind)
        .filter_map(|t| Some((t, v.catalog.schemas.get(&t.table.schema_id)?.name.clone())))
        .collect()
}

/// A visible column of a user table, numbered from 1 as pg_attribute does.
pub struct Column<'a> {
    pub attnum: i16,
    pub desc: &'a ColumnDesc,
    pub ty: &'a DataType,
}

pub fn columns(t: &TableCatalog) -> Vec<Column<'_>> {
    t.visible_columns()
        .zip(1i16..)
        .filter_map(|(i, attnum)| Some(Column { attnum, desc: t.table.columns.get(i)?, ty: t.schema.types.get(i)? }))
        .collect()
}

/// Attribute numbers of the primary key columns, when the table has a declared primary key
/// (not the hidden row id).
pub fn pk_attnums(t: &TableCatalog) -> Option<Vec<i16>> {
    if t.table.pk_indices.is_empty() {
        return None;
    }
    let cols = columns(t);
    t.table
        .pk_indices
        .iter()
        .map(|i| {
            let desc = t.table.columns.get(*i as usize)?;
            cols.iter().find(|c| std::ptr::eq(c.desc, desc)).map(|c| c.attnum)
        })
        .collect()
}

pub fn pk_name(t: &TableCatalog) -> String {
    format!("{}_pkey", t.table.name)
}

impl CatalogView {
    /// System schemas first, then the database's schemas by name.
    pub fn namespaces(&self) -> Vec<Namespace> {
        let mut v = vec![
            Namespace { oid: PG_CATALOG_OID, name: "pg_catalog".into() },
            Namespace { oid: INFORMATION_SCHEMA_OID, name: "information_schema".into() },
            Namespace { oid: RW_CATALOG_OID, name: "rw_catalog".into() },
        ];
        v.extend(self.user_schemas().into_iter().map(|s| Namespace { oid: s.id as i32, name: s.name.clone() }));
        v
    }

    fn user_schemas(&self) -> Vec<&SchemaCatalog> {
        self.catalog.schemas_of(self.database.id)
    }

    pub fn namespace_by_name(&self, name: &str) -> Option<Namespace> {
        self.namespaces().into_iter().find(|n| n.name == name)
    }

    pub fn namespace_by_oid(&self, oid: i64) -> Option<Namespace> {
        self.namespaces().into_iter().find(|n| i64::from(n.oid) == oid)
    }

    /// Namespaces searched for unqualified names, in order: pg_catalog, then the search_path's
    /// existing schemas (as the planner resolves names).
    pub fn search_namespaces(&self) -> Vec<Namespace> {
        let mut v = vec![Namespace { oid: PG_CATALOG_OID, name: "pg_catalog".into() }];
        for s in &self.search_path {
            if s == "pg_catalog" || v.iter().any(|n| &n.name == s) {
                continue;
            }
            if let Some(n) = self.namespace_by_name(s) {
                v.push(n);
            }
        }
        v
    }

    /// Tables of this database, by id.
    pub fn tables(&self) -> Vec<&Arc<TableCatalog>> {
        self.catalog.tables_of_database(self.database.id)
    }

    fn schema_name(&self, schema_id: u32) -> Option<String> {
        self.catalog.schemas.get(&schema_id).map(|s| s.name.clone())
    }

    fn table_relation<'a>(&self, t: &'a Arc<TableCatalog>) -> Option<Relation<'a>> {
        Some(Relation {
            oid: t.table.id.into(),
            name: t.table.name.clone(),
            namespace: t.table.schema_id as i32,
            schema: self.schema_name(t.table.schema_id)?,
            kind: RelKind::Table(t),
        })
    }

    fn pk_relation<'a>(&self, t: &'a Arc<TableCatalog>) -> Option<Relation<'a>> {
        // Only tables declare primary keys; a materialized view's key is not a constraint.
        if relation_kind(&t.table) != TableType::Table {
            return None;
        }
        pk_attnums(t)?;
        Some(Relation {
            oid: i64::from(t.table.id) + PK_OID_OFFSET,
            name: pk_name(t),
            namespace: t.table.schema_id as i32,
            schema: self.schema_name(t.table.schema_id)?,
            kind: RelKind::PrimaryKey(t),
        })
    }

    fn system_relation(i: usize, t: &'static SystemTable) -> Relation<'static> {
        let namespace = if t.schema == "pg_catalog" { PG_CATALOG_OID } else { INFORMATION_SCHEMA_OID };
        Relation {
            oid: SYSTEM_REL_OID_BASE + i as i64,
            name: t.name.to_string(),
            namespace,
            schema: t.schema.to_string(),
            kind: RelKind::System(t),
        }
    }

    /// Every relation of pg_class: system tables, user tables, primary key indexes.
    pub fn relations(&self) -> Vec<Relation<'_>> {
        let mut v: Vec<Relation<'_>> = system_tables().enumerate().map(|(i, t)| Self::system_relation(i, t)).collect();
        let tables = self.tables();
        v.extend(tables.iter().filter_map(|t| self.table_relation(t)));
        v.extend(tables.iter().filter_map(|t| self.pk_relation(t)));
        v
    }

    pub fn relation_by_oid(&self, oid: i64) -> Option<Relation<'_>> {
        if (SYSTEM_REL_OID_BASE..1000).contains(&oid) {
            let i = usize::try_from(oid - SYSTEM_REL_OID_BASE).ok()?;
            return system_tables().nth(i).map(|t| Self::system_relation(i, t));
        }
        let (id, pk) = if oid >= PK_OID_OFFSET { (oid - PK_OID_OFFSET, true) } else { (oid, false) };
        let t = self.catalog.tables.get(&u32::try_from(id).ok()?)?;
        if t.table.database_id != self.database.id {
            return None;
        }
        if pk {
            self.pk_relation(t)
        } else {
            self.table_relation(t)
        }
    }

    /// The user table with this oid.
    pub fn table_by_oid(&self, oid: i64) -> Option<&Arc<TableCatalog>> {
        match self.relation_by_oid(oid)?.kind {
            RelKind::Table(t) => Some(t),
            _ => None,
        }
    }

    fn relation_in(&self, ns: &Namespace, name: &str) -> Option<Relation<'_>> {
        if ns.oid == PG_CATALOG_OID || ns.oid == INFORMATION_SCHEMA_OID {
            return system_tables()
                .enumerate()
                .find(|(_, t)| t.schema == ns.name && t.name == name)
                .map(|(i, t)| Self::system_relation(i, t));
        }
        let schema_id = u32::try_from(ns.oid).ok()?;
        if let Some(t) = self.catalog.table(schema_id, name) {
            return self.table_relation(t);
        }
        let tables = self.catalog.tables_of_schema(schema_id);
        let t = tables.into_iter().find(|t| pk_name(t) == name)?;
        self.pk_relation(t)
    }

    /// Resolves a relation name as `'name'::regclass` does: qualified, or through the search path.
    pub fn resolve_relation(&self, schema: Option<&str>, name: &str) -> Option<Relation<'_>> {
        match schema {
            Some(s) => self.relation_in(&self.namespace_by_name(s)?, name),
            None => self.search_namespaces().iter().find_map(|ns| self.relation_in(ns, name)),
        }
    }

    /// Whether a relation is found by its bare name (`pg_table_is_visible`).
    pub fn is_visible(&self, oid: i64) -> bool {
        let Some(rel) = self.relation_by_oid(oid) else { return false };
        self.resolve_relation(None, &rel.name).is_some_and(|found| found.oid == rel.oid)
    }

    /// `oid::regclass` text: the name, schema-qualified when not visible.
    pub fn relation_display_name(&self, oid: i64) -> Option<String> {
        let rel = self.relation_by_oid(oid)?;
        Some(if self.is_visible(oid) {
            quote_ident(&rel.name)
        } else {
            format!("{}.{}", quote_ident(&rel.schema), quote_ident(&rel.name))
        })
    }

    /// The schema unqualified names are created in: the first existing schema of the path.
    pub fn current_schema(&self) -> Option<String> {
        self.search_path.iter().find(|s| self.namespace_by_name(s).is_some()).cloned()
    }
}

/// An identifier as Postgres prints it: quoted unless it is a plain lower-case name.
pub fn quote_ident(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain && !is_reserved(s) {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

fn is_reserved(s: &str) -> bool {
    const RESERVED: &[&str] = &[
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "current_catalog",
        "current_date",
        "current_role",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "from",
        "grant",
        "group",
        "having",
        "in",
        "initially",
        "intersect",
        "into",
        "lateral",
        "leading",
        "limit",
        "localtime",
        "localtimestamp",
        "not",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "placing",
        "primary",
        "references",
        "returning",
        "select",
        "session_user",
        "some",
        "symmetric",
        "table",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "when",
        "where",
        "window",
        "with",
    ];
    RESERVED.contains(&s)
}

/// Splits a possibly qualified, possibly quoted name (`public."My T"`) into its parts;
/// unquoted parts fold to lower case. `None` when malformed.
pub fn parse_qualified_name(s: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = s.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == '.' || c.is_whitespace() {
                    break;
                }
                part.push(c.to_ascii_lowercase());
                chars.next();
            }
            if part.is_empty() {
                return None;
            }
        }
        parts.push(part);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => return Some(parts),
            Some('.') => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some(_) => return None,
        }
    }
}
