//! Starting the meta server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt;
use tributary_common::config::SystemParams;
use tributary_proto::meta::meta_service_server::MetaServiceServer;

use crate::barrier;
use crate::compute_client::ComputeClientPool;
use crate::error::{MetaError, MetaResult};
use crate::manager::{MetaContext, MetaState};
use crate::rpc::MetaServiceImpl;
use crate::store::open_meta_store;
use crate::stream::backfill::BackfillTracker;

#[derive(Debug, Clone)]
pub struct MetaOpts {
    /// Address to listen on for gRPC, e.g. `127.0.0.1:5690` (port 0 picks a free port).
    pub listen: String,
    /// `file://DIR`, `etcd://HOST:PORT[,HOST:PORT]` or `memory://`.
    pub meta_store: String,
    /// `memory://`, `file://DIR` or `s3://BUCKET/PREFIX`; the state store compute nodes use.
    pub state_store: String,
    /// System parameters for a new cluster (an existing cluster keeps its stored ones).
    pub params: SystemParams,
}

pub struct MetaHandle {
    pub addr: SocketAddr,
    pub join: tokio::task::JoinHandle<()>,
}

pub async fn start(opts: MetaOpts) -> MetaResult<MetaHandle> {
    let store = open_meta_store(&opts.meta_store).await.map_err(|e| MetaError::Startup(format!("cannot open meta store {}: {e}", opts.meta_store)))?;
    let state = MetaState::load(store, opts.params).await?;
    let (params_tx, _) = tokio::sync::watch::channel(state.params);
    let ctx = Arc::new(MetaContext {
        state: Arc::new(Mutex::new(state)),
        clients: ComputeClientPool::default(),
        backfill: BackfillTracker::default(),
        params_tx,
    });
    let barrier = barrier::start(ctx.clone());

    let expiry_ctx = ctx.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            expiry_ctx.state.lock().await.cluster.expire_frontends(Duration::from_secs(30));
        }
    });

    let listener = TcpListener::bind(&opts.listen).await.map_err(|e| MetaError::Startup(format!("cannot listen on {}: {e}", opts.listen)))?;
    let addr = listener.local_addr().map_err(|e| MetaError::Startup(e.to_string()))?;
    let service = MetaServiceServer::new(MetaServiceImpl { ctx, barrier })
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX);
    // Nagle's algorithm held the small frames of gRPC streams back until the peer's delayed ACK,
    // 40 ms per streamed scan; tonic sets TCP_NODELAY only on listeners it binds itself.
    let incoming = TcpListenerStream::new(listener).map(|c| c.inspect(|s| drop(s.set_nodelay(true))));
    let join = tokio::spawn(async move {
        if let Err(e) = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming)
            .await
        {
            tracing::error!(error = %e, "meta gRPC server stopped");
        }
    });
    tracing::info!(%addr, meta_store = %opts.meta_store, "meta server started");
    Ok(MetaHandle { addr, join })
}

