//! The node's streaming side as the RPCs see it: build and drop actors, inject barriers.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::task::JoinHandle;
use tributary_proto::stream_plan::stream_node::Body;
use tributary_proto::stream_plan::{BackfillProgress, Mutation, StreamActor};
use tributary_storage::StateStore;

use super::actor::Actor;
use super::barrier::{BackfillProgressMap, LocalBarrierManager};
use super::builder::{build_node, BuildContext};
use super::error::{StreamError, StreamResult};
use super::exchange::ChannelRegistry;
use super::message::Barrier;
use crate::table::TableManager;

/// How long a barrier may take before the node logs which actors it still waits for.
const STUCK_BARRIER_WARNING: std::time::Duration = std::time::Duration::from_secs(10);

pub struct StreamManager {
    store: Arc<dyn StateStore>,
    tables: Arc<TableManager>,
    channels: Arc<ChannelRegistry>,
    barriers: Arc<LocalBarrierManager>,
    progress: Arc<BackfillProgressMap>,
    actors: Mutex<HashMap<u32, JoinHandle<()>>>,
    /// One barrier at a time: a node seals epochs in order.
    barrier_lock: tokio::sync::Mutex<()>,
}

impl StreamManager {
    pub fn new(store: Arc<dyn StateStore>, tables: Arc<TableManager>) -> Self {
        StreamManager {
            store,
            tables,
            channels: Arc::new(ChannelRegistry::default()),
            barriers: Arc::new(LocalBarrierManager::default()),
            progress: Arc::new(BackfillProgressMap::default()),
            actors: Mutex::new(HashMap::new()),
            barrier_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Builds and spawns actors; they wait for the barrier that starts them.
    pub fn build_actors(&self, actors: &[StreamActor]) -> StreamResult<()> {
        let mut built = Vec::new();
        for pb in actors {
            match self.build_actor(pb) {
                Ok(actor) => built.push(actor),
                Err(e) => {
                    for a in actors {
                        self.forget(a.actor_id);
                    }
                    return Err(e);
                }
            }
        }
        let mut handles = self.actors.lock();
        for actor in built {
            let id = actor.actor_id;
            self.barriers.register_built(id);
            handles.insert(id, actor.spawn());
        }
        Ok(())
    }

    fn build_actor(&self, pb: &StreamActor) -> StreamResult<Actor> {
        let node = pb.node.as_ref().ok_or_else(|| StreamError::plan(format!("actor {} has no plan", pb.actor_id)))?;
        let ctx = BuildContext {
            actor: pb,
            store: self.store.clone(),
            channels: &self.channels,
            barriers: &self.barriers,
            progress: self.progress.clone(),
        };
        tracing::debug!(actor = pb.actor_id, fragment = pb.fragment_id, job = pb.job_id, plan = %node.identity, upstreams = ?pb.upstreams, "building actor");
        let root = build_node(&ctx, node)?;
        let materializes = match &node.body {
            Some(Body::Materialize(m)) => Some(m.table_id),
            _ => None,
        };
        Actor::new(pb, root, materializes, self.channels.clone(), self.barriers.clone())
    }

    fn forget(&self, actor_id: u32) {
        self.channels.remove_actor(actor_id);
        self.barriers.forget(actor_id);
        self.progress.remove(actor_id);
        if let Some(h) = self.actors.lock().remove(&actor_id) {
            h.abort();
        }
    }

    /// Drops actors that never started (a job whose creation failed).
    pub fn drop_actors(&self, actor_ids: &[u32]) {
        for a in actor_ids {
            self.forget(*a);
        }
    }

    /// Passes a barrier through the node: tables' change streams, then every actor. Returns
    /// once every actor passed it and the closed epoch is sealed and synced, with the backfill
    /// progress of the node's stream scans.
    pub async fn inject_barrier(&self, prev: u64, curr: u64, mutation: Option<Mutation>) -> StreamResult<Vec<BackfillProgress>> {
        let _serial = self.barrier_lock.lock().await;
        let barrier = Barrier::new(prev, curr, mutation.filter(|m| m.mutation.is_some()).map(Arc::new));
        let collected = self.barriers.begin(&barrier);
        self.tables.barrier(&barrier, &self.channels).await.map_err(|e| StreamError::Internal(e.to_string()))?;
        let mut collected = collected;
        let result = loop {
            match tokio::time::timeout(STUCK_BARRIER_WARNING, &mut collected).await {
                Ok(r) => break r,
                Err(_) => tracing::warn!(epoch = prev, actors = ?self.barriers.waiting_for(prev), "barrier not collected yet"),
            }
        };
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(StreamError::Internal(e)),
            Err(_) => return Err(StreamError::Internal("barrier collection abandoned".into())),
        }
        for a in barrier.stopped_actors() {
            self.forget(a);
        }
        self.store.seal_epoch(prev);
        self.store.sync(prev).await?;
        Ok(self.progress.take_report())
    }
}
