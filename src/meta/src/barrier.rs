//! The barrier manager: every `barrier_interval_ms` (or at once when someone flushes or a DDL
//! command is waiting) it starts a new epoch on every compute node, which seals the previous
//! epoch's writes, and then commits the sealed epoch, making it the newest snapshot batch reads
//! see.
//!
//! DDL rides on barriers: a command (a `Mutation` that adds or stops actors) is carried by the
//! next barrier and takes effect at its epoch on every node. It is just the next barrier —
//! other pipelines keep flowing. The backfill progress compute nodes report with each
//! barrier is fed to [`crate::stream::backfill::BackfillTracker`] once the barrier committed.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tributary_common::epoch::next_epoch;
use tributary_proto::compute::{CommitEpochRequest, InjectBarrierRequest};
use tributary_proto::meta::notification::Info;
use tributary_proto::meta::Operation as NotifyOp;
use tributary_proto::stream_plan::Mutation;

use crate::error::{MetaError, MetaResult};
use crate::manager::MetaContext;

type Waiter = oneshot::Sender<Result<u64, String>>;

struct Command {
    mutation: Mutation,
    done: Waiter,
}

#[derive(Clone)]
pub struct BarrierHandle {
    flush_tx: mpsc::UnboundedSender<Waiter>,
    command_tx: mpsc::UnboundedSender<Command>,
}

fn stopped() -> MetaError {
    MetaError::Barrier("barrier manager stopped".into())
}

async fn wait(rx: oneshot::Receiver<Result<u64, String>>) -> MetaResult<u64> {
    match rx.await {
        Ok(Ok(epoch)) => Ok(epoch),
        Ok(Err(e)) => Err(MetaError::Barrier(e)),
        Err(_) => Err(stopped()),
    }
}

impl BarrierHandle {
    /// Waits for a barrier that starts after this call, so every write acknowledged before the
    /// call is committed when it returns; returns the committed epoch.
    pub async fn flush(&self) -> MetaResult<u64> {
        let (tx, rx) = oneshot::channel();
        self.flush_tx.send(tx).map_err(|_| stopped())?;
        wait(rx).await
    }

    /// Injects `mutation` with the next barrier (started at once, without waiting for the
    /// interval) on every compute node and returns that barrier's epoch (the `prev_epoch` it
    /// sealed) once it is committed everywhere. Commands queued together go out on
    /// consecutive barriers, one each, in the order they were sent.
    pub async fn inject(&self, mutation: Mutation) -> MetaResult<u64> {
        let (tx, rx) = oneshot::channel();
        self.command_tx.send(Command { mutation, done: tx }).map_err(|_| stopped())?;
        wait(rx).await
    }
}

pub fn start(ctx: Arc<MetaContext>) -> BarrierHandle {
    let (flush_tx, flush_rx) = mpsc::unbounded_channel();
    let (command_tx, command_rx) = mpsc::unbounded_channel();
    tokio::spawn(run(ctx, flush_rx, command_rx));
    BarrierHandle { flush_tx, command_tx }
}

async fn run(
    ctx: Arc<MetaContext>,
    mut flush_rx: mpsc::UnboundedReceiver<Waiter>,
    mut command_rx: mpsc::UnboundedReceiver<Command>,
) {
    let mut params_rx = ctx.params_tx.subscribe();
    let mut prev_epoch = next_epoch(ctx.state.lock().await.committed_epoch);
    let mut last_start = Instant::now();
    let mut waiters: Vec<Waiter> = Vec::new();
    let mut commands: VecDeque<Command> = VecDeque::new();
    loop {
        // A queued command is due at once; otherwise wait for the interval or a request.
        if commands.is_empty() {
            let interval = Duration::from_millis(params_rx.borrow().barrier_interval_ms.max(1));
            tokio::select! {
                _ = tokio::time::sleep_until(last_start + interval) => {}
                w = flush_rx.recv() => match w {
                    Some(w) => waiters.push(w),
                    None => return,
                },
                c = command_rx.recv() => match c {
                    Some(c) => commands.push_back(c),
                    None => return,
                },
                changed = params_rx.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    continue;
                }
            }
        }
        while let Ok(w) = flush_rx.try_recv() {
            waiters.push(w);
        }
        while let Ok(c) = command_rx.try_recv() {
            commands.push_back(c);
        }
        last_start = Instant::now();
        let curr_epoch = next_epoch(prev_epoch);
        let command = commands.pop_front();
        let result = barrier(&ctx, prev_epoch, curr_epoch, command.as_ref().map(|c| &c.mutation)).await;
        match &result {
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(epoch = prev_epoch, error = %e, "barrier failed");
                ctx.backfill.fail(prev_epoch, &e.to_string());
            }
        }
        // Nodes that sealed `prev_epoch` moved on to `curr_epoch` even if others failed; the
        // failed nodes seal their pending writes at a later epoch.
        prev_epoch = curr_epoch;
        let reply = result.map_err(|e| e.to_string());
        for w in waiters.drain(..) {
            let _ = w.send(reply.clone());
        }
        if let Some(c) = command {
            let _ = c.done.send(reply);
        }
    }
}

async fn barrier(ctx: &MetaContext, prev_epoch: u64, curr_epoch: u64, mutation: Option<&Mutation>) -> MetaResult<u64> {
    let nodes = ctx.state.lock().await.cluster.live_compute_nodes();
    // Every node gets the mutation: a node ignores actors it does not run, and the node that
    // owns an upstream table acts on the subscriptions naming it.
    let injects = nodes.iter().map(|n| async move {
        let mut client = ctx.clients.stream_client(&n.host)?;
        client
            .inject_barrier(InjectBarrierRequest { prev_epoch, curr_epoch, mutation: mutation.cloned() })
            .await
            .map(|r| r.into_inner())
            .map_err(|source| MetaError::Compute { addr: n.host.clone(), source })
    });
    let mut backfill = Vec::new();
    for r in join_all(injects).await {
        backfill.extend(r?.backfill);
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
    {
        let mut state = ctx.state.lock().await;
        state.committed_epoch = prev_epoch;
        state.notify(NotifyOp::Update, Info::CommittedEpoch(prev_epoch));
    }
    // After the epoch's notification: a job finishing on this report notifies its catalog
    // entry later, so a frontend that sees the new view also sees the epoch holding its rows.
    ctx.backfill.report(&backfill);
    Ok(prev_epoch)
}
