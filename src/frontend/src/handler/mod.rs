//! Statement handlers: one module per kind of statement.

pub mod create_index;
pub mod create_mv;
pub mod ddl;
pub mod describe;
pub mod dml;
pub mod drop;
pub mod function;
pub mod literal_values;
pub mod parse;
pub mod query;
pub mod utility;
pub mod view;

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::ParamValues;
use datafusion::execution::session_state::SessionState;
use datafusion::sql::sqlparser::ast::{ObjectType, Statement};
use tributary_common::catalog::Database;

use crate::catalog::observer::MetaObserver;
use crate::compute_client::ComputeClientPool;
use crate::error::{FrontendError, Result};
use crate::planner::PlanningContext;
use crate::session::Session;
pub use parse::{parse_statements, ParsedStatement, UtilityStatement};

/// What every session of a frontend shares.
pub struct FrontendEnv {
    pub observer: Arc<MetaObserver>,
    pub clients: Arc<ComputeClientPool>,
    pub base: Arc<SessionState>,
}

/// The outcome of one statement.
pub enum StatementResult {
    /// Rows, with the command tag to end them with (`SELECT n`, or `INSERT 0 n` for RETURNING).
    Rows { schema: SchemaRef, batches: Vec<RecordBatch>, tag: String, rows_in_tag: Option<usize> },
    /// A command without rows: its tag (e.g. `CREATE_TABLE`) and the affected row count.
    Command { tag: String, rows: Option<usize> },
}

impl StatementResult {
    pub fn command(tag: &str) -> Self {
        StatementResult::Command { tag: tag.to_string(), rows: None }
    }
}

impl FrontendEnv {
    pub fn database(&self, session: &Session) -> Result<Database> {
        self.observer
            .catalog()
            .database(&session.database)
            .cloned()
            .ok_or_else(|| FrontendError::sql("3D000", format!("database \"{}\" does not exist", session.database)))
    }

    /// The epoch a statement of `session` reads at: the newest committed one, and never older
    /// than the session's own flushed writes.
    pub fn read_epoch(&self, session: &Session) -> u64 {
        self.observer.committed_epoch().max(session.min_epoch)
    }

    pub fn planning_context(&self, session: &Session, include_hidden: bool) -> Result<Arc<PlanningContext>> {
        Ok(Arc::new(PlanningContext {
            catalog: self.observer.catalog(),
            database: self.database(session)?,
            search_path: session.search_path(),
            epoch: self.read_epoch(session),
            include_hidden,
            observer: Some(self.observer.clone()),
            clients: self.clients.clone(),
            base: self.base.clone(),
            user: session.user.clone(),
            time_zone: session.time_zone().name().to_string(),
            settings: session.all().map(|(n, v)| (n.clone(), v.clone())).collect(),
            referenced: Default::default(),
            view_depth: 0,
        }))
    }

    /// Waits until every write acknowledged so far is committed; later reads of this session see it.
    pub async fn flush(&self, session: &mut Session) -> Result<()> {
        let resp = self.observer.client.clone().flush(tributary_proto::meta::FlushRequest {}).await?.into_inner();
        session.min_epoch = session.min_epoch.max(resp.committed_epoch);
        session.unflushed_writes = false;
        Ok(())
    }
}

/// Inlines calls of user-defined functions. CREATE [MATERIALIZED] VIEW inlines in its handler,
/// which records the functions as dependencies; CREATE FUNCTION keeps its body as written.
pub(crate) fn inline_functions(env: &FrontendEnv, session: &Session, stmt: &mut Statement) -> Result<()> {
    if env.observer.catalog().functions.is_empty()
        || matches!(stmt, Statement::CreateView(_) | Statement::CreateFunction(_))
        || matches!(stmt, Statement::Explain { statement, .. } if matches!(statement.as_ref(), Statement::CreateView(_)))
    {
        return Ok(());
    }
    let ctx = env.planning_context(session, false)?;
    crate::planner::function::inline_in_context(&ctx, stmt)?;
    Ok(())
}

/// Runs one parsed statement.
pub async fn execute(
    env: &FrontendEnv,
    session: &mut Session,
    stmt: ParsedStatement,
    params: Option<&ParamValues>,
) -> Result<StatementResult> {
    match stmt {
        ParsedStatement::Utility(u) => utility::handle(env, session, u).await,
        ParsedStatement::Sql(stmt) => execute_sql(env, session, *stmt, params).await,
    }
}

/// Whether an INSERT reads relations (and so must see the session's earlier writes): not when
/// its rows are VALUES without subqueries, which lets a stream of INSERTs run without waiting
/// for commits.
fn insert_reads(insert: &datafusion::sql::sqlparser::ast::Insert) -> bool {
    use datafusion::sql::sqlparser::ast::{Expr, SetExpr, Visit, Visitor};
    struct FindsSubquery;
    impl Visitor for FindsSubquery {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> std::ops::ControlFlow<()> {
            match e {
                Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => std::ops::ControlFlow::Break(()),
                _ => std::ops::ControlFlow::Continue(()),
            }
        }
    }
    match &insert.source {
        None => false,
        Some(q) => match q.body.as_ref() {
            SetExpr::Values(v) if q.with.is_none() => v.visit(&mut FindsSubquery).is_break(),
            _ => true,
        },
    }
}

async fn execute_sql(
    env: &FrontendEnv,
    session: &mut Session,
    mut stmt: Statement,
    params: Option<&ParamValues>,
) -> Result<StatementResult> {
    crate::planner::rewrite::rewrite(&mut stmt)?;
    inline_functions(env, session, &mut stmt)?;
    let reads = match &stmt {
        Statement::Query(_) | Statement::Explain { .. } | Statement::Update(_) | Statement::Delete(_) => true,
        Statement::Insert(insert) => insert_reads(insert),
        _ => false,
    };
    if reads && session.unflushed_writes {
        env.flush(session).await?;
    }
    match stmt {
        Statement::Explain { statement, .. } if matches!(statement.as_ref(), Statement::CreateView(v) if v.materialized) => {
            match *statement {
                Statement::CreateView(create) => create_mv::handle_explain(env, session, create).await,
                _ => Err(FrontendError::Internal("EXPLAIN of a materialized view lost its statement".into())),
            }
        }
        Statement::Explain { statement, .. } if matches!(statement.as_ref(), Statement::CreateIndex(_)) => match *statement {
            Statement::CreateIndex(create) => create_index::handle_explain(env, session, create).await,
            _ => Err(FrontendError::Internal("EXPLAIN of an index lost its statement".into())),
        },
        Statement::Query(_) | Statement::Explain { .. } => query::handle_query(env, session, stmt, params).await,
        Statement::CreateIndex(create) => create_index::handle_create_index(env, session, create).await,
        Statement::CreateView(create) if create.materialized => create_mv::handle_create_mv(env, session, create).await,
        Statement::CreateView(create) => view::handle_create_view(env, session, create).await,
        Statement::Insert(insert) => dml::handle_insert(env, session, insert, params).await,
        Statement::Update(update) => dml::handle_update(env, session, update, params).await,
        Statement::Delete(delete) => dml::handle_delete(env, session, delete, params).await,
        Statement::CreateFunction(create) => function::handle_create_function(env, session, create).await,
        Statement::DropFunction(drop) => function::handle_drop_function(env, session, drop).await,
        Statement::CreateTable(create) => ddl::handle_create_table(env, session, create).await,
        Statement::CreateDatabase { db_name, if_not_exists, .. } => {
            ddl::handle_create_database(env, session, &db_name, if_not_exists).await
        }
        Statement::CreateSchema { schema_name, if_not_exists, .. } => {
            ddl::handle_create_schema(env, session, &schema_name, if_not_exists).await
        }
        Statement::Drop { object_type, if_exists, names, cascade, .. } => match object_type {
            t if drop::handles(t) => drop::handle_drop_relations(env, session, t, &names, if_exists, cascade).await,
            ObjectType::Schema => ddl::handle_drop_schemas(env, session, &names, if_exists, cascade).await,
            ObjectType::Database => ddl::handle_drop_databases(env, session, &names, if_exists).await,
            other => Err(FrontendError::not_supported(format!("DROP {other}"))),
        },
        other => {
            let text = other.to_string();
            let head: String = text.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            Err(FrontendError::not_supported(head))
        }
    }
}
