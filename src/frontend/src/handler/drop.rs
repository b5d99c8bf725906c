//! DROP TABLE / MATERIALIZED VIEW / VIEW / INDEX: the kind is checked here (Postgres' errors);
//! meta drops the relation, refusing while others depend on it unless CASCADE.

use datafusion::sql::sqlparser::ast::{ObjectName, ObjectType};
use tributary_proto::catalog::TableType;
use tributary_proto::meta::{DropRelationRequest, DropTableRequest};

use super::{FrontendEnv, StatementResult};
use crate::binder::{resolve_table, split_name};
use crate::error::{FrontendError, Result};
use crate::session::Session;

/// What a statement's object type drops, and how errors name it.
fn kind_of(object_type: ObjectType) -> Option<(TableType, &'static str)> {
    Some(match object_type {
        ObjectType::Table => (TableType::Table, "table"),
        ObjectType::MaterializedView => (TableType::MaterializedView, "materialized view"),
        ObjectType::View => (TableType::View, "view"),
        ObjectType::Index => (TableType::Index, "index"),
        _ => return None,
    })
}

pub use crate::catalog::system::relation_kind;

fn drop_hint(kind: TableType) -> &'static str {
    match kind {
        TableType::MaterializedView => "DROP MATERIALIZED VIEW",
        TableType::View => "DROP VIEW",
        TableType::Index => "DROP INDEX",
        _ => "DROP TABLE",
    }
}

pub fn handles(object_type: ObjectType) -> bool {
    kind_of(object_type).is_some()
}

pub async fn handle_drop_relations(
    env: &FrontendEnv,
    session: &mut Session,
    object_type: ObjectType,
    names: &[ObjectName],
    if_exists: bool,
    cascade: bool,
) -> Result<StatementResult> {
    let (expected, noun) = kind_of(object_type).ok_or_else(|| FrontendError::not_supported(format!("DROP {object_type}")))?;
    let db = env.database(session)?;
    for name in names {
        let catalog = env.observer.catalog();
        let relation = match resolve_table(&catalog, &db, &session.search_path(), name) {
            Ok(t) => t,
            Err(_) if if_exists => continue,
            Err(_) => {
                let (_, n) = split_name(name, &db.name)?;
                return Err(FrontendError::sql("42P01", format!("{noun} \"{n}\" does not exist")));
            }
        };
        let actual = relation_kind(&relation.table);
        if actual != expected {
            return Err(FrontendError::sql(
                "42809",
                format!("\"{}\" is not a{} {noun}; use {} to remove it", relation.table.name, if noun.starts_with(['a', 'e', 'i', 'o', 'u']) { "n" } else { "" }, drop_hint(actual)),
            ));
        }
        let request = DropRelationRequest { id: relation.table.id, cascade, expected_type: expected as i32 };
        let version = match env.observer.client.clone().drop_relation(request).await {
            Ok(r) => r.into_inner().version,
            // A meta without DropRelation (no such RPC: no SQLSTATE attached) still drops
            // tables the old way.
            Err(s) if s.code() == tonic::Code::Unimplemented && s.details().is_empty() && expected == TableType::Table => env
                .observer
                .client
                .clone()
                .drop_table(DropTableRequest { table_id: relation.table.id })
                .await?
                .into_inner()
                .version,
            Err(s) => return Err(s.into()),
        };
        env.observer.wait_version(version).await?;
    }
    Ok(StatementResult::command(drop_hint(expected)))
}
