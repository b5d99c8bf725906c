//! gRPC services of a compute node.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status};
use tributary_common::chunk::{batch_to_ipc, StreamChunk};
use tributary_proto::compute::batch_service_server::BatchService;
use tributary_proto::compute::dml_service_server::DmlService;
use tributary_proto::compute::stream_service_server::StreamService;
use tributary_proto::compute::*;

use crate::error::ComputeError;
use crate::stream::StreamManager;
use crate::table::{scan_table, TableManager};

#[derive(Clone)]
pub struct ComputeServices {
    pub tables: Arc<TableManager>,
    pub streams: Arc<StreamManager>,
}

#[tonic::async_trait]
impl StreamService for ComputeServices {
    async fn create_table(&self, req: Request<CreateTableRequest>) -> Result<Response<CreateTableResponse>, Status> {
        let table = req.into_inner().table.ok_or_else(|| Status::invalid_argument("missing table"))?;
        self.tables.create_table(&table)?;
        Ok(Response::new(CreateTableResponse {}))
    }

    async fn drop_table(&self, req: Request<DropTableRequest>) -> Result<Response<DropTableResponse>, Status> {
        self.tables.drop_table(req.into_inner().table_id).await?;
        Ok(Response::new(DropTableResponse {}))
    }

    async fn inject_barrier(&self, req: Request<InjectBarrierRequest>) -> Result<Response<BarrierCompleteResponse>, Status> {
        let req = req.into_inner();
        if req.curr_epoch <= req.prev_epoch {
            return Err(Status::invalid_argument("barrier epochs must increase"));
        }
        let backfill = self.streams.inject_barrier(req.prev_epoch, req.curr_epoch, req.mutation).await.map_err(ComputeError::from)?;
        Ok(Response::new(BarrierCompleteResponse { epoch: req.prev_epoch, backfill }))
    }

    async fn build_actors(&self, req: Request<BuildActorsRequest>) -> Result<Response<BuildActorsResponse>, Status> {
        self.streams.build_actors(&req.into_inner().actors).map_err(ComputeError::from)?;
        Ok(Response::new(BuildActorsResponse {}))
    }

    async fn drop_actors(&self, req: Request<DropActorsRequest>) -> Result<Response<DropActorsResponse>, Status> {
        self.streams.drop_actors(&req.into_inner().actor_ids);
        Ok(Response::new(DropActorsResponse {}))
    }

    async fn commit_epoch(&self, req: Request<CommitEpochRequest>) -> Result<Response<CommitEpochResponse>, Status> {
        self.tables.commit(req.into_inner().epoch)?;
        Ok(Response::new(CommitEpochResponse {}))
    }
}

#[tonic::async_trait]
impl DmlService for ComputeServices {
    async fn write(&self, req: Request<WriteRequest>) -> Result<Response<WriteResponse>, Status> {
        let req = req.into_inner();
        let chunk = req.chunk.ok_or_else(|| Status::invalid_argument("missing chunk"))?;
        let chunk = StreamChunk::from_protobuf(&chunk).map_err(ComputeError::from)?;
        let table = self.tables.table(req.table_id)?;
        let (rows, epoch) =
            table.write(chunk, &self.tables.row_ids(), self.tables.store(), self.tables.current_epoch()).await?;
        Ok(Response::new(WriteResponse { epoch, rows: rows as u64 }))
    }
}

type ScanStream = Pin<Box<dyn Stream<Item = Result<ScanResponse, Status>> + Send>>;

#[tonic::async_trait]
impl BatchService for ComputeServices {
    type ScanStream = ScanStream;

    async fn scan(&self, req: Request<ScanRequest>) -> Result<Response<Self::ScanStream>, Status> {
        let req = req.into_inner();
        let table = self.tables.table(req.table_id)?;
        let projection = req.projected.then(|| req.columns.iter().map(|c| *c as usize).collect());
        let (batch_tx, mut batch_rx) = mpsc::channel(4);
        let (resp_tx, resp_rx) = mpsc::channel::<Result<ScanResponse, Status>>(4);
        let store = self.tables.store().clone();
        let err_tx = resp_tx.clone();
        tokio::spawn(async move {
            if let Err(e) = scan_table(&store, &table, req.epoch, projection, &req.ranges, &batch_tx).await {
                let _ = err_tx.send(Err(e.into())).await;
            }
        });
        tokio::spawn(async move {
            while let Some(batch) = batch_rx.recv().await {
                let msg = batch_to_ipc(&batch).map(|batch| ScanResponse { batch }).map_err(|e| Status::internal(e.to_string()));
                if resp_tx.send(msg).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(resp_rx))))
    }
}
