//! The barrier manager: every `barrier_interval_ms` (or at once when someone flushes) it starts a
//! new epoch on every compute node, which seals the previous epoch's writes, and then commits the
//! sealed epoch, making it the newest snapshot batch reads see.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tributary_common::epoch::next_epoch;
use tributary_proto::compute::{CommitEpochRequest, InjectBarrierRequest};
use tributary_proto::meta::notification::Info;
use tributary_proto::meta::Operation as NotifyOp;

use crate::error::{MetaError, MetaResult};
use crate::manager::MetaContext;

type FlushWaiter = oneshot::Sender<Result<u64, String>>;

#[derive(Clone)]
pub struct BarrierHandle {
    flush_tx: mpsc::UnboundedSender<FlushWaiter>,
}

impl BarrierHandle {
    /// Waits for a barrier that starts after this call, so every write acknowledged before the
    /// call is committed when it returns; returns the committed epoch.
    pub async fn flush(&self) -> MetaResult<u64> {
        let (tx, rx) = oneshot::channel();
        self.flush_tx.send(tx).map_err(|_| MetaError::Barrier("barrier manager stopped".into()))?;
        match rx.await {
            Ok(Ok(epoch)) => Ok(epoch),
            Ok(Err(e)) => Err(MetaError::Barrier(e)),
            Err(_) => Err(MetaError::Barrier("barrier manager stopped".into())),
        }
    }
}

pub fn start(ctx: Arc<MetaContext>) -> BarrierHandle {
    let (flush_tx, flush_rx) = mpsc::unbounded_channel();
    tokio::spawn(run(ctx, flush_rx));
    BarrierHandle { flush_tx }
}

async fn run(ctx: Arc<MetaContext>, mut flush_rx: mpsc::UnboundedReceiver<FlushWaiter>) {
    let mut params_rx = ctx.params_tx.subscribe();
    let mut prev_epoch = next_epoch(ctx.state.lock().await.committed_epoch);
    let mut last_start = Instant::now();
    let mut waiters: Vec<FlushWaiter> = Vec::new();
    loop {
        let interval = Duration::from_millis(params_rx.borrow().barrier_interval_ms.max(1));
        tokio::select! {
            _ = tokio::time::sleep_until(last_start + interval) => {}
            w = flush_rx.recv() => match w {
                Some(w) => waiters.push(w),
                None => return,
            },
            changed = params_rx.changed() => {
                if changed.is_err() {
                    return;
                }
                continue;
            }
        }
        while let Ok(w) = flush_rx.try_recv() {
            waiters.push(w);
        }
        last_start = Instant::now();
        let curr_epoch = next_epoch(prev_epoch);
        let result = barrier(&ctx, prev_epoch, curr_epoch).await;
        if let Err(e) = &result {
            tracing::warn!(epoch = prev_epoch, error = %e, "barrier failed");
        }
        // Nodes that sealed `prev_epoch` moved on to `curr_epoch` even if others failed; the
        // failed nodes seal their pending writes at a later epoch.
        prev_epoch = curr_epoch;
        for w in waiters.drain(..) {
            let _ = w.send(result.as_ref().map(|e| *e).map_err(|e| e.to_string()));
        }
    }
}

async fn barrier(ctx: &MetaContext, prev_epoch: u64, curr_epoch: u64) -> MetaResult<u64> {
    let nodes = ctx.state.lock().await.cluster.live_compute_nodes();
    let injects = nodes.iter().map(|n| async move {
        let mut client = ctx.clients.stream_client(&n.host)?;
        client
            .inject_barrier(InjectBarrierRequest { prev_epoch, curr_epoch })
            .await
            .map_err(|source| MetaError::Compute { addr: n.host.clone(), source })
    });
    for r in join_all(injects).await {
        r?;
    }
    let commits = nodes.iter().map(|n| async move {
        let mut client = ctx.clients.stream_client(&n.host)?;
        client
            .commit_epoch(CommitEpochRequest { epoch: prev_epoch })
            .await
            .map_err(|source| MetaError::Compute { addr: n.host.clone(), source })
    });
    for r in join_all(commits).await {
        r?;
    }
    let mut state = ctx.state.lock().await;
    state.committed_epoch = prev_epoch;
    state.notify(NotifyOp::Update, Info::CommittedEpoch(prev_epoch));
    Ok(prev_epoch)
}
