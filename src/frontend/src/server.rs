//! Starting a frontend: follow meta, then accept Postgres connections.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::catalog::observer::MetaObserver;
use crate::compute_client::ComputeClientPool;
use crate::error::{FrontendError, Result};
use crate::handler::FrontendEnv;
use crate::planner::base_session_state;
use crate::protocol::{HandlerFactory, Handlers};

#[derive(Debug, Clone)]
pub struct FrontendOpts {
    pub meta_addr: String,
    /// Address the Postgres protocol listens on, e.g. `127.0.0.1:4566`.
    pub listen_addr: String,
}

pub struct FrontendHandle {
    pub addr: SocketAddr,
}

pub async fn start(opts: FrontendOpts) -> Result<FrontendHandle> {
    let listener = TcpListener::bind(&opts.listen_addr)
        .await
        .map_err(|e| FrontendError::Internal(format!("cannot listen on {}: {e}", opts.listen_addr)))?;
    let addr = listener.local_addr().map_err(|e| FrontendError::Internal(e.to_string()))?;
    let observer = MetaObserver::start(&opts.meta_addr, &addr.to_string()).await?;
    let env = Arc::new(FrontendEnv {
        observer,
        clients: Arc::new(ComputeClientPool::default()),
        base: Arc::new(base_session_state()),
    });
    let handlers = Handlers::new(env);
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((socket, _)) => {
                    let _ = socket.set_nodelay(true);
                    let factory = HandlerFactory(handlers.clone());
                    tokio::spawn(async move {
                        if let Err(e) = pgwire::tokio::process_socket(socket, None, factory).await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    });
    tracing::info!(%addr, "frontend started");
    Ok(FrontendHandle { addr })
}
