//! FLUSH, SET/SHOW/RESET, DESCRIBE, ALTER SYSTEM and transaction statements.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType as ArrowType, Field, Schema};
use datafusion::sql::sqlparser::parser::Parser;
use tributary_common::catalog::SYSTEM_SCHEMAS;
use tributary_common::config::SystemParams;
use tributary_proto::catalog::TableType;
use tributary_proto::meta::{ListJobsRequest, SetSystemParamRequest};

use super::drop::relation_kind;
use super::parse::UtilityStatement;
use super::{FrontendEnv, StatementResult};
use crate::binder::resolve_table;
use crate::error::{FrontendError, Result};
use crate::session::Session;

pub async fn handle(env: &FrontendEnv, session: &mut Session, stmt: UtilityStatement) -> Result<StatementResult> {
    match stmt {
        UtilityStatement::Flush => {
            env.flush(session).await?;
            Ok(StatementResult::command("FLUSH"))
        }
        UtilityStatement::Set { name, value } => {
            if name == "database" {
                return Err(FrontendError::not_supported("changing the database of a session; connect to it instead"));
            }
            if value.eq_ignore_ascii_case("default") {
                session.reset(&name)?;
            } else {
                session.set(&name, &value)?;
            }
            Ok(StatementResult::command("SET"))
        }
        UtilityStatement::Reset(name) => {
            session.reset(&name)?;
            Ok(StatementResult::command("RESET"))
        }
        UtilityStatement::Show(words) if words == ["jobs"] => show_jobs(env).await,
        UtilityStatement::Show(words) => show(env, session, &words),
        UtilityStatement::Describe(name) => describe(env, session, &name),
        UtilityStatement::AlterSystemSet { name, value } => {
            let resp = env
                .observer
                .client
                .clone()
                .set_system_param(SetSystemParamRequest { name, value })
                .await?
                .into_inner();
            env.observer.wait_version(resp.version).await?;
            Ok(StatementResult::command("ALTER_SYSTEM"))
        }
        // Each statement commits on its own; transaction blocks are accepted for drivers that
        // always open one, and read the same committed snapshot rules as single statements.
        UtilityStatement::Begin => Ok(StatementResult::command("BEGIN")),
        UtilityStatement::Commit => Ok(StatementResult::command("COMMIT")),
        UtilityStatement::Rollback => Ok(StatementResult::command("ROLLBACK")),
    }
}

/// A result of text columns.
pub fn text_rows(names: &[&str], rows: Vec<Vec<Option<String>>>) -> Result<StatementResult> {
    let schema = Arc::new(Schema::new(names.iter().map(|n| Field::new(*n, ArrowType::Utf8, true)).collect::<Vec<_>>()));
    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|i| Arc::new(StringArray::from(rows.iter().map(|r| r[i].clone()).collect::<Vec<_>>())) as ArrayRef)
        .collect();
    let n = rows.len();
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(StatementResult::Rows { schema, batches: vec![batch], tag: "SHOW".into(), rows_in_tag: Some(n) })
}

fn names(v: Vec<String>) -> Vec<Vec<Option<String>>> {
    v.into_iter().map(|n| vec![Some(n)]).collect()
}

fn show(env: &FrontendEnv, session: &Session, words: &[String]) -> Result<StatementResult> {
    // `SHOW ... LIKE 'pattern'` filters the names a listing shows.
    if let Some(pos) = words.iter().position(|w| w == "like") {
        let pattern = words.get(pos + 1).map(|p| p.trim_matches('\'').to_string()).unwrap_or_default();
        let StatementResult::Rows { schema, batches, tag, .. } = show(env, session, &words[..pos])? else {
            return Err(FrontendError::not_supported("SHOW ... LIKE here"));
        };
        return filter_like(schema, batches, tag, &pattern);
    }
    let catalog = env.observer.catalog();
    let w: Vec<&str> = words.iter().map(|s| s.as_str()).collect();
    match w.as_slice() {
        ["databases"] => {
            let mut v: Vec<String> = catalog.databases.values().map(|d| d.name.clone()).collect();
            v.sort();
            text_rows(&["Name"], names(v))
        }
        ["schemas"] => {
            let db = env.database(session)?;
            let mut v: Vec<String> = catalog.schemas_of(db.id).iter().map(|s| s.name.clone()).collect();
            v.extend(SYSTEM_SCHEMAS.iter().map(|s| s.to_string()));
            v.sort();
            text_rows(&["Name"], names(v))
        }
        ["tables"] | ["tables", "from", _] | ["tables", "in", _] => relations(env, session, &w[1..], TableType::Table),
        ["materialized", "views"] | ["materialized", "views", "from", _] | ["materialized", "views", "in", _] => {
            relations(env, session, &w[2..], TableType::MaterializedView)
        }
        ["views"] | ["views", "from", _] | ["views", "in", _] => relations(env, session, &w[1..], TableType::View),
        ["indexes" | "index", "from" | "in", rest @ ..] if !rest.is_empty() => {
            super::create_index::show_indexes(env, session, &rest.concat())
        }
        ["jobs"] => Err(FrontendError::not_supported("SHOW JOBS with LIKE")),
        ["all"] => {
            let rows = session.all().map(|(n, v)| vec![Some(n.clone()), Some(v.clone()), None]).collect();
            text_rows(&["Name", "Setting", "Description"], rows)
        }
        ["parameters"] => {
            let p = env.observer.system_params();
            let rows = SystemParams::NAMES
                .iter()
                .map(|n| vec![Some(n.to_string()), p.get(n), Some("true".to_string())])
                .collect();
            text_rows(&["Name", "Value", "Mutable"], rows)
        }
        ["time", "zone"] => text_rows(&["TimeZone"], vec![vec![Some(session.get("timezone")?)]]),
        ["transaction", "isolation", "level"] => text_rows(&["transaction_isolation"], vec![vec![Some(session.get("transaction_isolation")?)]]),
        [name] => {
            if let Some(v) = env.observer.system_params().get(name) {
                return text_rows(&[name], vec![vec![Some(v)]]);
            }
            text_rows(&[name], vec![vec![Some(session.get(name)?)]])
        }
        _ => Err(FrontendError::not_supported(format!("SHOW {}", words.join(" ")))),
    }
}

/// Names of the relations of one kind in a schema (`FROM schema`, else the first schema of
/// the search path that exists).
fn relations(env: &FrontendEnv, session: &Session, from: &[&str], kind: TableType) -> Result<StatementResult> {
    let db = env.database(session)?;
    let catalog = env.observer.catalog();
    let schema = match from {
        [_, s] => s.to_string(),
        _ => session.search_path().into_iter().find(|s| catalog.schema(db.id, s).is_some()).unwrap_or_else(|| "public".into()),
    };
    let sc = catalog
        .schema(db.id, &schema)
        .ok_or_else(|| FrontendError::sql("3F000", format!("schema \"{schema}\" does not exist")))?;
    let v = catalog
        .tables_of_schema(sc.id)
        .iter()
        .filter(|t| relation_kind(&t.table) == kind)
        .map(|t| t.table.name.clone())
        .collect();
    text_rows(&["Name"], names(v))
}

/// Jobs meta is creating (materialized views backfilling), with their progress.
async fn show_jobs(env: &FrontendEnv) -> Result<StatementResult> {
    let jobs = env.observer.client.clone().list_jobs(ListJobsRequest {}).await?.into_inner().jobs;
    let rows = jobs
        .into_iter()
        .map(|j| vec![Some(j.id.to_string()), Some(j.definition), Some(format!("{} rows", j.backfilled_rows))])
        .collect();
    text_rows(&["Id", "Statement", "Progress"], rows)
}

fn describe(env: &FrontendEnv, session: &Session, name: &str) -> Result<StatementResult> {
    let dialect = crate::dialect::TributaryDialect::new();
    let object = Parser::new(&dialect)
        .try_with_sql(name)
        .and_then(|mut p| p.parse_object_name(false))
        .map_err(|e| FrontendError::Syntax(e.to_string()))?;
    let db = env.database(session)?;
    let catalog = env.observer.catalog();
    let table = resolve_table(&catalog, &db, &session.search_path(), &object)?;
    let mut rows = Vec::new();
    for (i, c) in table.table.columns.iter().enumerate() {
        let ty = if c.hidden { "serial".to_string() } else { table.schema.types[i].to_string() };
        rows.push(vec![Some(c.name.clone()), Some(ty), Some(c.hidden.to_string()), None]);
    }
    let pk = table
        .table
        .pk_indices
        .iter()
        .map(|i| table.table.columns[*i as usize].name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let dist = if table.table.dist_key.is_empty() {
        pk.clone()
    } else {
        table.table.dist_key.iter().filter_map(|i| table.table.columns.get(*i as usize).map(|c| c.name.clone())).collect::<Vec<_>>().join(", ")
    };
    rows.push(vec![Some("primary key".into()), Some(pk), None, None]);
    rows.push(vec![Some("distribution key".into()), Some(dist), None, None]);
    rows.push(vec![Some("table description".into()), Some(table.table.name.clone()), None, None]);
    text_rows(&["Name", "Type", "Is Hidden", "Description"], rows)
}

fn filter_like(
    schema: arrow::datatypes::SchemaRef,
    batches: Vec<RecordBatch>,
    tag: String,
    pattern: &str,
) -> Result<StatementResult> {
    let mut out = Vec::new();
    for b in batches {
        let names = b.column(0).as_any().downcast_ref::<StringArray>();
        let Some(names) = names else { continue };
        let mask: arrow::array::BooleanArray =
            (0..b.num_rows()).map(|i| Some(!names.is_null(i) && like(names.value(i), pattern))).collect();
        out.push(arrow::compute::filter_record_batch(&b, &mask)?);
    }
    let n = out.iter().map(|b| b.num_rows()).sum();
    Ok(StatementResult::Rows { schema, batches: out, tag, rows_in_tag: Some(n) })
}

/// SQL LIKE with `%` and `_` (backslash escapes the next character).
fn like(s: &str, pattern: &str) -> bool {
    fn go(s: &[char], p: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('%') => (0..=s.len()).any(|i| go(&s[i..], &p[1..])),
            Some('_') => !s.is_empty() && go(&s[1..], &p[1..]),
            Some('\\') if p.len() > 1 => s.first() == Some(&p[1]) && go(&s[1..], &p[2..]),
            Some(c) => s.first() == Some(c) && go(&s[1..], &p[1..]),
        }
    }
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    go(&s, &p)
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn like_patterns() {
        assert!(like("cat_show_public1", "cat_show_public%"));
        assert!(like("abc", "a_c"));
        assert!(!like("abc", "a_"));
        assert!(like("a%c", "a\\%c"));
        assert!(!like("abc", "a\\%c"));
    }
}
