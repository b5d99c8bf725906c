//! The MetaService gRPC server.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use tonic::{Request, Response, Status};
use tributary_proto::common::WorkerType;
use tributary_proto::catalog::TableType;
use tributary_proto::compute::CreateTableRequest as ComputeCreateTable;
use tributary_proto::meta::meta_service_server::MetaService;
use tributary_proto::meta::notification::Info;
use tributary_proto::meta::*;

use crate::barrier::BarrierHandle;
use crate::catalog::{is_stored, relation_type};
use crate::error::MetaError;
use crate::manager::{params_to_protobuf, MetaContext};
use crate::stream::{create, drop};

pub struct MetaServiceImpl {
    pub ctx: Arc<MetaContext>,
    pub barrier: BarrierHandle,
}

type NotificationStream = Pin<Box<dyn Stream<Item = Result<Notification, Status>> + Send>>;

#[tonic::async_trait]
impl MetaService for MetaServiceImpl {
    async fn register_worker(&self, req: Request<RegisterWorkerRequest>) -> Result<Response<RegisterWorkerResponse>, Status> {
        let req = req.into_inner();
        let worker_type = WorkerType::try_from(req.worker_type)
            .ok()
            .filter(|t| *t != WorkerType::Unspecified)
            .ok_or_else(|| Status::invalid_argument("unknown worker type"))?;
        let mut state = self.ctx.state.lock().await;
        let node = state.cluster.register(worker_type, &req.host, req.parallelism).await?;
        if worker_type == WorkerType::Compute {
            // Tables of compute nodes that are gone (e.g. a playground restarted on new ports)
            // move to this node.
            let live: Vec<u32> = state.cluster.live_compute_nodes().iter().map(|n| n.id).collect();
            let adopted = state.catalog.adopt_orphans(&live, node.id).await?;
            for t in adopted.put_tables {
                state.notify(Operation::Update, Info::Table(t));
            }
            // A compute node that comes back gets its tables and materialized views again
            // before it takes part in barriers. The views' actors are not rebuilt: that is
            // recovery (a later step), so a restarted node serves its views as they were
            // created, empty, and stops maintaining them.
            let owned: Vec<_> = state
                .catalog
                .state()
                .tables
                .values()
                .filter(|t| is_stored(t) && t.owner_worker_id == node.id)
                .cloned()
                .collect();
            let mut client = self.ctx.clients.stream_client(&node.host)?;
            for table in owned {
                client
                    .create_table(ComputeCreateTable { table: Some(table) })
                    .await
                    .map_err(|source| MetaError::Compute { addr: node.host.clone(), source })?;
            }
        }
        state.notify(Operation::Add, Info::Worker(node.clone()));
        tracing::info!(id = node.id, host = %node.host, kind = ?worker_type, "worker registered");
        Ok(Response::new(RegisterWorkerResponse { worker_id: node.id }))
    }

    async fn heartbeat(&self, req: Request<HeartbeatRequest>) -> Result<Response<HeartbeatResponse>, Status> {
        let known = self.ctx.state.lock().await.cluster.heartbeat(req.into_inner().worker_id);
        Ok(Response::new(HeartbeatResponse { known }))
    }

    type SubscribeStream = NotificationStream;

    async fn subscribe(&self, _req: Request<SubscribeRequest>) -> Result<Response<Self::SubscribeStream>, Status> {
        // Build the stream by hand: the snapshot first, then broadcasts until the subscriber lags.
        let (snapshot, rx) = self.ctx.state.lock().await.snapshot();
        let s = futures::stream::unfold((Some(snapshot), rx, false), |(first, mut rx, done)| async move {
            if done {
                return None;
            }
            if let Some(n) = first {
                return Some((Ok(n), (None, rx, false)));
            }
            match rx.recv().await {
                Ok(n) => Some((Ok(n), (None, rx, false))),
                Err(RecvError::Lagged(_)) => {
                    Some((Err(Status::data_loss("subscriber fell behind; subscribe again")), (None, rx, true)))
                }
                Err(RecvError::Closed) => None,
            }
        });
        Ok(Response::new(Box::pin(s)))
    }

    async fn create_database(&self, req: Request<CreateDatabaseRequest>) -> Result<Response<DdlResponse>, Status> {
        let req = req.into_inner();
        let mut state = self.ctx.state.lock().await;
        if let Some(db) = state.catalog.state().database_by_name(&req.name) {
            if req.if_not_exists {
                let id = db.id;
                return Ok(Response::new(DdlResponse { version: state.version(), id }));
            }
        }
        let change = state.catalog.create_database(&req.name).await?;
        let id = change.put_databases.first().map(|d| d.id).unwrap_or_default();
        let version = state.notify_change(change);
        Ok(Response::new(DdlResponse { version, id }))
    }

    async fn drop_database(&self, req: Request<DropDatabaseRequest>) -> Result<Response<DdlResponse>, Status> {
        let req = req.into_inner();
        let db_id = {
            let state = self.ctx.state.lock().await;
            match state.catalog.state().database_by_name(&req.name) {
                Some(db) => db.id,
                None if req.if_exists => return Ok(Response::new(DdlResponse { version: state.version(), id: 0 })),
                None => return Err(MetaError::NotFound { kind: "database", name: req.name }.into()),
            }
        };
        let version = drop::drop_database(self.ctx.clone(), self.barrier.clone(), req.name).await?;
        Ok(Response::new(DdlResponse { version, id: db_id }))
    }

    async fn create_schema(&self, req: Request<CreateSchemaRequest>) -> Result<Response<DdlResponse>, Status> {
        let req = req.into_inner();
        let mut state = self.ctx.state.lock().await;
        if let Some(s) = state.catalog.state().schema_by_name(req.database_id, &req.name) {
            if req.if_not_exists {
                let id = s.id;
                return Ok(Response::new(DdlResponse { version: state.version(), id }));
            }
        }
        let change = state.catalog.create_schema(req.database_id, &req.name).await?;
        let id = change.put_schemas.first().map(|s| s.id).unwrap_or_default();
        let version = state.notify_change(change);
        Ok(Response::new(DdlResponse { version, id }))
    }

    async fn drop_schema(&self, req: Request<DropSchemaRequest>) -> Result<Response<DdlResponse>, Status> {
        let req = req.into_inner();
        let schema_id = {
            let state = self.ctx.state.lock().await;
            match state.catalog.state().schema_by_name(req.database_id, &req.name) {
                Some(s) => s.id,
                None if req.if_exists => return Ok(Response::new(DdlResponse { version: state.version(), id: 0 })),
                None => return Err(MetaError::NotFound { kind: "schema", name: req.name }.into()),
            }
        };
        let version = drop::drop_schema(self.ctx.clone(), self.barrier.clone(), req.database_id, req.name, req.cascade).await?;
        Ok(Response::new(DdlResponse { version, id: schema_id }))
    }

    async fn create_table(&self, req: Request<CreateTableRequest>) -> Result<Response<DdlResponse>, Status> {
        let req = req.into_inner();
        let table = req.table.ok_or_else(|| Status::invalid_argument("missing table"))?;
        if relation_type(&table) != TableType::Table {
            return Err(Status::invalid_argument("CreateTable creates tables only"));
        }
        let mut state = self.ctx.state.lock().await;
        if let Some(existing) = state.catalog.table_exists_by_name(table.schema_id, &table.name) {
            if req.if_not_exists {
                let id = existing.id;
                return Ok(Response::new(DdlResponse { version: state.version(), id }));
            }
        }
        let mut table = state.catalog.prepare_table(table)?;
        // Place the table on the compute node that owns the fewest tables.
        let nodes = state.cluster.live_compute_nodes();
        let owner = nodes
            .iter()
            .min_by_key(|n| state.catalog.state().tables.values().filter(|t| t.owner_worker_id == n.id).count())
            .cloned()
            .ok_or(MetaError::NoComputeNode)?;
        table.owner_worker_id = owner.id;
        let mut client = self.ctx.clients.stream_client(&owner.host)?;
        client
            .create_table(ComputeCreateTable { table: Some(table.clone()) })
            .await
            .map_err(|source| MetaError::Compute { addr: owner.host.clone(), source })?;
        let id = table.id;
        let change = state.catalog.add_table(table).await?;
        let version = state.notify_change(change);
        Ok(Response::new(DdlResponse { version, id }))
    }

    async fn drop_table(&self, req: Request<DropTableRequest>) -> Result<Response<DdlResponse>, Status> {
        let id = req.into_inner().table_id;
        let version = drop::drop_relation(self.ctx.clone(), self.barrier.clone(), id, false, TableType::Table).await?;
        Ok(Response::new(DdlResponse { version, id }))
    }

    async fn create_materialized_view(
        &self,
        req: Request<CreateMaterializedViewRequest>,
    ) -> Result<Response<DdlResponse>, Status> {
        let resp = create::create_materialized_view(self.ctx.clone(), self.barrier.clone(), req.into_inner()).await?;
        Ok(Response::new(resp))
    }

    async fn create_view(&self, req: Request<CreateViewRequest>) -> Result<Response<DdlResponse>, Status> {
        let req = req.into_inner();
        let mut view = req.view.ok_or_else(|| Status::invalid_argument("missing view"))?;
        let mut state = self.ctx.state.lock().await;
        if let Some(existing) = state.catalog.relation_by_name(view.schema_id, &view.name) {
            if req.if_not_exists {
                let id = existing.id;
                return Ok(Response::new(DdlResponse { version: state.version(), id }));
            }
        }
        // A view is its query, expanded at planning: nothing runs or is stored for it.
        view.table_type = TableType::View as i32;
        view.owner_worker_id = 0;
        let view = state.catalog.prepare_table(view)?;
        let id = view.id;
        let change = state.catalog.add_table(view).await?;
        let version = state.notify_change(change);
        Ok(Response::new(DdlResponse { version, id }))
    }

    async fn drop_relation(&self, req: Request<DropRelationRequest>) -> Result<Response<DdlResponse>, Status> {
        let req = req.into_inner();
        let expected = TableType::try_from(req.expected_type).unwrap_or(TableType::Unspecified);
        let version = drop::drop_relation(self.ctx.clone(), self.barrier.clone(), req.id, req.cascade, expected).await?;
        Ok(Response::new(DdlResponse { version, id: req.id }))
    }

    async fn create_function(&self, req: Request<CreateFunctionRequest>) -> Result<Response<DdlResponse>, Status> {
        let function = req.into_inner().function.ok_or_else(|| Status::invalid_argument("missing function"))?;
        let mut state = self.ctx.state.lock().await;
        let change = state.catalog.create_function(function).await?;
        let id = change.put_functions.first().map(|f| f.id).unwrap_or_default();
        let version = state.notify_change(change);
        Ok(Response::new(DdlResponse { version, id }))
    }

    async fn drop_function(&self, req: Request<DropFunctionRequest>) -> Result<Response<DdlResponse>, Status> {
        let id = req.into_inner().id;
        let mut state = self.ctx.state.lock().await;
        // Functions own no state on compute nodes: no barrier is needed.
        let change = state.catalog.drop_function(id).await?;
        let version = state.notify_change(change);
        Ok(Response::new(DdlResponse { version, id }))
    }

    async fn list_jobs(&self, _req: Request<ListJobsRequest>) -> Result<Response<ListJobsResponse>, Status> {
        Ok(Response::new(create::list_jobs(&self.ctx).await))
    }

    async fn flush(&self, _req: Request<FlushRequest>) -> Result<Response<FlushResponse>, Status> {
        let committed_epoch = self.barrier.flush().await?;
        let version = self.ctx.state.lock().await.version();
        Ok(Response::new(FlushResponse { committed_epoch, version }))
    }

    async fn set_system_param(&self, req: Request<SetSystemParamRequest>) -> Result<Response<SetSystemParamResponse>, Status> {
        let req = req.into_inner();
        let mut state = self.ctx.state.lock().await;
        let version = state.set_param(&req.name, &req.value).await?;
        let params = state.params;
        // The barrier loop may have stopped; then there is nobody to tell.
        let _ = self.ctx.params_tx.send(params);
        Ok(Response::new(SetSystemParamResponse { params: Some(params_to_protobuf(&params)), version }))
    }
}
