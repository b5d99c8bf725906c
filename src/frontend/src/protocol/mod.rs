//! The Postgres wire protocol (on top of the pgwire crate): startup, simple and extended query, cancel requests, mapping
//! of statement results and errors to protocol messages.

pub mod result;

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::ParamValues;
use datafusion::scalar::ScalarValue;
use futures::{stream, Sink};
use std::collections::HashMap;

use pgwire::api::auth::{
    finish_authentication, protocol_negotiation, save_startup_parameters_to_metadata, ServerParameterProvider,
    StartupHandler,
};
use pgwire::api::{ConnectionGuard, ConnectionHandle, PgWireConnectionState, PidSecretKeyGenerator, RandomPidSecretKeyGenerator};
use pgwire::api::cancel::{CancelHandler, DefaultCancelHandler};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{DescribePortalResponse, DescribeStatementResponse, FieldFormat, FieldInfo, QueryResponse, Response, Tag};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, ConnectionManager, PgWireServerHandlers, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use tokio::sync::Mutex;
use tributary_common::pg_value::{parse_binary, parse_text, FormatOptions};
use tributary_common::types::DataType;

use crate::error::{FrontendError, Result};
use crate::handler::describe::Described;
use crate::handler::{self, parse_statements, FrontendEnv, ParsedStatement, StatementResult};
use crate::session::Session;

pub struct Handlers {
    pub env: Arc<FrontendEnv>,
    pub connections: Arc<ConnectionManager>,
    pub cancel: Arc<DefaultCancelHandler>,
    pids: RandomPidSecretKeyGenerator,
}

impl Handlers {
    pub fn new(env: Arc<FrontendEnv>) -> Arc<Self> {
        let connections = Arc::new(ConnectionManager::new());
        let cancel = Arc::new(DefaultCancelHandler::new(connections.clone()));
        Arc::new(Handlers { env, connections, cancel, pids: RandomPidSecretKeyGenerator::default() })
    }
}

pub struct HandlerFactory(pub Arc<Handlers>);

impl PgWireServerHandlers for HandlerFactory {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.0.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.0.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.0.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.0.cancel.clone()
    }
}

fn error_info(e: &FrontendError) -> ErrorInfo {
    ErrorInfo::new("ERROR".to_string(), e.sqlstate().to_string(), e.message())
}

fn to_pgwire(e: FrontendError) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(&e)))
}

fn session_of<C: ClientInfo>(client: &C) -> PgWireResult<Arc<Mutex<Session>>> {
    client
        .session_extensions()
        .get::<Mutex<Session>>()
        .ok_or_else(|| PgWireError::ApiError("session not initialized".into()))
}

/// What the server reports at startup: RisingWave's Postgres version (clients such as psql pick
/// their catalog queries by it) and the session defaults.
struct ServerParameters;

impl ServerParameterProvider for ServerParameters {
    fn server_parameters<C: ClientInfo>(&self, client: &C) -> Option<HashMap<String, String>> {
        let mut p = HashMap::new();
        p.insert("server_version".into(), "13.14.0".into());
        p.insert("server_encoding".into(), "UTF8".into());
        p.insert("client_encoding".into(), "UTF8".into());
        p.insert("DateStyle".into(), "ISO, MDY".into());
        p.insert("IntervalStyle".into(), "postgres".into());
        p.insert("TimeZone".into(), "UTC".into());
        p.insert("integer_datetimes".into(), "on".into());
        p.insert("standard_conforming_strings".into(), "on".into());
        p.insert("is_superuser".into(), "on".into());
        p.insert("in_hot_standby".into(), "off".into());
        p.insert("default_transaction_read_only".into(), "off".into());
        if let Some(app) = client.metadata().get("application_name") {
            p.insert("application_name".into(), app.clone());
        }
        if let Some(user) = client.metadata().get("user") {
            p.insert("session_authorization".into(), user.clone());
        }
        Some(p)
    }
}

#[async_trait]
impl StartupHandler for Handlers {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let PgWireFrontendMessage::Startup(ref startup) = message else { return Ok(()) };
        protocol_negotiation(client, startup).await?;
        save_startup_parameters_to_metadata(client, startup);
        let user = client.metadata().get("user").cloned().unwrap_or_else(|| "root".to_string());
        let database = client.metadata().get("database").cloned().unwrap_or_else(|| user.clone());
        if self.env.observer.catalog().database(&database).is_none() {
            return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                "FATAL".to_string(),
                "3D000".to_string(),
                format!("database \"{database}\" does not exist"),
            ))));
        }
        // Cancel requests find the connection by its (pid, secret key).
        let (pid, secret) = self.pids.generate(client);
        client.set_pid_and_secret_key(pid, secret.clone());
        let (handle, guard) = self.connections.register(pid, secret);
        client.session_extensions().insert::<Arc<ConnectionHandle>>(handle);
        client.session_extensions().insert::<ConnectionGuard>(guard);

        let mut session = Session::new(database, user);
        if let Some(app) = client.metadata().get("application_name").cloned() {
            let _ = session.set("application_name", &app);
        }
        client.session_extensions().insert(Mutex::new(session));
        finish_authentication(client, &ServerParameters).await?;
        client.set_state(PgWireConnectionState::ReadyForQuery);
        Ok(())
    }
}

/// Runs one statement under the session's statement_timeout.
async fn run_statement(
    env: &FrontendEnv,
    session: &mut Session,
    stmt: ParsedStatement,
    params: Option<&ParamValues>,
) -> Result<StatementResult> {
    match session.statement_timeout() {
        Some(t) => match tokio::time::timeout(t, handler::execute(env, session, stmt, params)).await {
            Ok(r) => r,
            Err(_) => Err(FrontendError::sql("57014", "canceling statement due to statement timeout")),
        },
        None => handler::execute(env, session, stmt, params).await,
    }
}

fn format_options(session: &Session) -> FormatOptions {
    FormatOptions { timezone: session.time_zone(), extra_float_digits: session.extra_float_digits() }
}

fn into_response(result: StatementResult, session: &Session, formats: impl Fn(usize) -> FieldFormat) -> Result<Response> {
    match result {
        StatementResult::Command { tag, rows } => {
            let mut t = Tag::new(&tag);
            if let Some(n) = rows {
                t = t.with_rows(n);
            }
            Ok(Response::Execution(t))
        }
        StatementResult::Rows { schema, batches, tag, rows_in_tag: _ } => {
            let fields = Arc::new(result::field_infos(&schema, formats));
            let types = result::column_types(&schema);
            let rows = result::encode_rows(&batches, &fields, &types, &format_options(session))?;
            let mut resp = QueryResponse::new(fields, stream::iter(rows.into_iter().map(Ok)));
            resp.set_command_tag(&tag);
            Ok(Response::Query(resp))
        }
    }
}

#[async_trait]
impl SimpleQueryHandler for Handlers {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client)?;
        let mut session = session.lock().await;
        let stmts = match parse_statements(query) {
            Ok(s) => s,
            Err(e) => return Ok(vec![Response::Error(Box::new(error_info(&e)))]),
        };
        let mut responses = Vec::with_capacity(stmts.len());
        for stmt in stmts {
            let r = run_statement(&self.env, &mut session, stmt, None)
                .await
                .and_then(|r| into_response(r, &session, |_| FieldFormat::Text));
            match r {
                Ok(resp) => responses.push(resp),
                Err(e) => {
                    responses.push(Response::Error(Box::new(error_info(&e))));
                    break;
                }
            }
        }
        if responses.is_empty() {
            responses.push(Response::EmptyQuery);
        }
        Ok(responses)
    }
}

/// A statement of the extended protocol: its text and parse result (None = empty query).
#[derive(Clone, Debug)]
pub struct Prepared {
    pub sql: String,
    pub stmt: Option<ParsedStatement>,
}

pub struct Parser;

#[async_trait]
impl QueryParser for Parser {
    type Statement = Prepared;

    async fn parse_sql<C>(&self, _client: &C, sql: &str, _types: &[Option<Type>]) -> PgWireResult<Option<Prepared>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let mut stmts = parse_statements(sql).map_err(to_pgwire)?;
        if stmts.len() > 1 {
            return Err(to_pgwire(FrontendError::sql(
                "42601",
                "cannot insert multiple commands into a prepared statement",
            )));
        }
        Ok(Some(Prepared { sql: sql.to_string(), stmt: stmts.pop() }))
    }

    fn get_parameter_types(&self, _stmt: &Prepared) -> PgWireResult<Vec<Type>> {
        Ok(vec![])
    }

    fn get_result_schema(&self, _stmt: &Prepared, _format: Option<&Format>) -> PgWireResult<Vec<FieldInfo>> {
        Ok(vec![])
    }
}

impl Handlers {
    async fn describe(&self, session: &Session, stmt: &Prepared, client_types: &[Option<Type>]) -> Result<Described> {
        let Some(parsed) = &stmt.stmt else { return Ok(Described { params: vec![], schema: None }) };
        crate::handler::describe::describe(&self.env, session, parsed, client_types).await
    }

    fn decode_params(&self, session: &Session, portal: &Portal<Prepared>, types: &[DataType]) -> Result<Option<ParamValues>> {
        if portal.parameters.is_empty() {
            return Ok(None);
        }
        let opts = format_options(session);
        let mut values = Vec::with_capacity(portal.parameters.len());
        for (i, p) in portal.parameters.iter().enumerate() {
            let ty = portal
                .statement
                .parameter_types
                .get(i)
                .cloned()
                .flatten()
                .and_then(|t| crate::handler::describe::datatype_of_oid(t.oid()))
                .or_else(|| types.get(i).cloned())
                .unwrap_or(DataType::Varchar);
            let v = match p {
                None => tributary_common::pg_value::null_scalar(&ty).unwrap_or(ScalarValue::Null),
                Some(bytes) => match portal.parameter_format.format_for(i) {
                    FieldFormat::Text => {
                        let s = std::str::from_utf8(bytes)
                            .map_err(|_| FrontendError::sql("22021", "invalid byte sequence for encoding \"UTF8\""))?;
                        parse_text(s, &ty, &opts).map_err(|e| FrontendError::sql("22P02", e.to_string()))?
                    }
                    FieldFormat::Binary => {
                        parse_binary(bytes, &ty).map_err(|e| FrontendError::sql("22P03", e.to_string()))?
                    }
                },
            };
            values.push(v);
        }
        Ok(Some(ParamValues::from(values)))
    }
}

#[async_trait]
impl ExtendedQueryHandler for Handlers {
    type Statement = Prepared;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        Arc::new(Parser)
    }

    async fn do_describe_statement<C>(&self, client: &mut C, target: &StoredStatement<Prepared>) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client)?;
        let session = session.lock().await;
        let d = self.describe(&session, &target.statement, &target.parameter_types).await.map_err(to_pgwire)?;
        let n = d.params.len().max(target.parameter_types.len());
        let params = (0..n)
            .map(|i| {
                target
                    .parameter_types
                    .get(i)
                    .cloned()
                    .flatten()
                    .or_else(|| d.params.get(i).map(result::pg_type))
                    .unwrap_or(Type::UNKNOWN)
            })
            .collect();
        let fields = d.schema.map(|s| result::field_infos(&s, |_| FieldFormat::Text)).unwrap_or_default();
        Ok(DescribeStatementResponse::new(params, fields))
    }

    async fn do_describe_portal<C>(&self, client: &mut C, target: &Portal<Prepared>) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client)?;
        let session = session.lock().await;
        let d = self.describe(&session, &target.statement.statement, &target.statement.parameter_types).await.map_err(to_pgwire)?;
        let fields = d
            .schema
            .map(|s| result::field_infos(&s, |i| target.result_column_format.format_for(i)))
            .unwrap_or_default();
        Ok(DescribePortalResponse::new(fields))
    }

    async fn do_query<C>(&self, client: &mut C, portal: &Portal<Prepared>, _max_rows: usize) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Prepared>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = session_of(client)?;
        let mut session = session.lock().await;
        let Some(stmt) = portal.statement.statement.stmt.clone() else {
            return Ok(Response::EmptyQuery);
        };
        let run = async {
            let d = self.describe(&session, &portal.statement.statement, &portal.statement.parameter_types).await?;
            let params = self.decode_params(&session, portal, &d.params)?;
            let result = run_statement(&self.env, &mut session, stmt, params.as_ref()).await?;
            into_response(result, &session, |i| portal.result_column_format.format_for(i))
        };
        run.await.map_err(to_pgwire)
    }
}
