//! Starting a compute node: serve gRPC, register with meta, keep heartbeating.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt;
use tonic::transport::{Channel, Endpoint};
use tributary_proto::common::WorkerType;
use tributary_proto::compute::batch_service_server::BatchServiceServer;
use tributary_proto::compute::dml_service_server::DmlServiceServer;
use tributary_proto::compute::stream_service_server::StreamServiceServer;
use tributary_proto::meta::meta_service_client::MetaServiceClient;
use tributary_proto::meta::{HeartbeatRequest, RegisterWorkerRequest};
use tributary_storage::StateStore;

use crate::error::{ComputeError, ComputeResult};
use crate::rpc::ComputeServices;
use crate::stream::StreamManager;
use crate::table::TableManager;

#[derive(Debug, Clone)]
pub struct ComputeOpts {
    /// Address of the meta server, `host:port`.
    pub meta_addr: String,
    /// Address to listen on for gRPC (port 0 picks a free port).
    pub listen: String,
    /// Address other roles use to reach this node; defaults to the bound listen address.
    pub advertise: Option<String>,
    pub parallelism: u32,
}

pub struct ComputeHandle {
    pub addr: SocketAddr,
    pub worker_id: u32,
}

pub async fn start(opts: ComputeOpts, store: Arc<dyn StateStore>) -> ComputeResult<ComputeHandle> {
    let listener = TcpListener::bind(&opts.listen)
        .await
        .map_err(|e| ComputeError::Meta(format!("cannot listen on {}: {e}", opts.listen)))?;
    let addr = listener.local_addr().map_err(|e| ComputeError::Meta(e.to_string()))?;
    let advertise = opts.advertise.clone().unwrap_or_else(|| addr.to_string());

    let tables = Arc::new(TableManager::new(store.clone()));
    let streams = Arc::new(StreamManager::new(store, tables.clone()));
    let services = ComputeServices { tables: tables.clone(), streams };
    // Nagle's algorithm held the small frames of gRPC streams back until the peer's delayed ACK,
    // 40 ms per streamed scan; tonic sets TCP_NODELAY only on listeners it binds itself.
    let incoming = TcpListenerStream::new(listener).map(|c| c.inspect(|s| drop(s.set_nodelay(true))));
    tokio::spawn(async move {
        let r = tonic::transport::Server::builder()
            .add_service(StreamServiceServer::new(services.clone()).max_decoding_message_size(usize::MAX))
            .add_service(DmlServiceServer::new(services.clone()).max_decoding_message_size(usize::MAX))
            .add_service(BatchServiceServer::new(services).max_encoding_message_size(usize::MAX))
            .serve_with_incoming(incoming)
            .await;
        if let Err(e) = r {
            tracing::error!(error = %e, "compute gRPC server stopped");
        }
    });

    let meta = meta_client(&opts.meta_addr)?;
    let worker_id = register(&meta, &advertise, opts.parallelism).await;
    tables.set_worker_id(worker_id);
    tokio::spawn(heartbeat_loop(meta, tables, advertise.clone(), opts.parallelism, worker_id));
    tracing::info!(%addr, worker_id, "compute node started");
    Ok(ComputeHandle { addr, worker_id })
}

pub fn meta_client(addr: &str) -> ComputeResult<MetaServiceClient<Channel>> {
    let endpoint = Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| ComputeError::Meta(format!("bad meta address {addr}: {e}")))?
        .connect_timeout(Duration::from_secs(5));
    Ok(MetaServiceClient::new(endpoint.connect_lazy()))
}

/// Registers with meta, retrying until meta answers (it may start after us).
async fn register(meta: &MetaServiceClient<Channel>, host: &str, parallelism: u32) -> u32 {
    let mut delay = Duration::from_millis(100);
    loop {
        let req = RegisterWorkerRequest { worker_type: WorkerType::Compute as i32, host: host.to_string(), parallelism };
        match meta.clone().register_worker(req).await {
            Ok(resp) => return resp.into_inner().worker_id,
            Err(e) => {
                tracing::warn!(error = %e, "cannot register with meta; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

async fn heartbeat_loop(
    meta: MetaServiceClient<Channel>,
    tables: Arc<TableManager>,
    host: String,
    parallelism: u32,
    mut worker_id: u32,
) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        match meta.clone().heartbeat(HeartbeatRequest { worker_id }).await {
            Ok(resp) if !resp.get_ref().known => {
                // Meta restarted: register again so it gives us our tables back.
                worker_id = register(&meta, &host, parallelism).await;
                tables.set_worker_id(worker_id);
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "heartbeat failed"),
        }
    }
}
