//! Cluster membership: workers register, heartbeat, and are found by their id.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use prost::Message;
use tributary_proto::common::{WorkerNode, WorkerType};

use crate::error::{MetaError, MetaResult};
use crate::store::{MetaStore, Operation};

const WORKER_PREFIX: &str = "cluster/worker/";
const NEXT_WORKER_ID_KEY: &str = "cluster/next_worker_id";

pub struct Worker {
    pub node: WorkerNode,
    /// Whether the worker registered with this meta process (compute nodes are remembered
    /// across meta restarts but are only reachable once they register again).
    pub alive: bool,
    pub last_heartbeat: Instant,
}

pub struct ClusterManager {
    store: Arc<dyn MetaStore>,
    workers: BTreeMap<u32, Worker>,
    next_id: u32,
}

impl ClusterManager {
    pub async fn load(store: Arc<dyn MetaStore>) -> MetaResult<Self> {
        let mut workers = BTreeMap::new();
        for (_, v) in store.scan_prefix(WORKER_PREFIX.as_bytes()).await? {
            let node = WorkerNode::decode(v.as_slice()).map_err(|e| MetaError::Corrupt(e.to_string()))?;
            workers.insert(node.id, Worker { node, alive: false, last_heartbeat: Instant::now() });
        }
        let next_id = match store.get(NEXT_WORKER_ID_KEY.as_bytes()).await? {
            Some(v) => u32::from_be_bytes(
                v.as_slice().try_into().map_err(|_| MetaError::Corrupt("next worker id".into()))?,
            ),
            None => 1,
        };
        Ok(ClusterManager { store, workers, next_id })
    }

    /// Registers a worker. A compute node coming back at the same address keeps its id, and with
    /// it the tables it owns.
    pub async fn register(&mut self, worker_type: WorkerType, host: &str, parallelism: u32) -> MetaResult<WorkerNode> {
        let existing = self
            .workers
            .values()
            .find(|w| w.node.worker_type == worker_type as i32 && w.node.host == host)
            .map(|w| w.node.id);
        let id = match existing {
            Some(id) => id,
            None => {
                let id = self.next_id;
                self.next_id += 1;
                id
            }
        };
        let node = WorkerNode { id, worker_type: worker_type as i32, host: host.to_string(), parallelism };
        if worker_type == WorkerType::Compute {
            self.store
                .txn(
                    vec![],
                    vec![
                        Operation::Put { key: format!("{WORKER_PREFIX}{id:010}").into_bytes(), value: node.encode_to_vec() },
                        Operation::Put {
                            key: NEXT_WORKER_ID_KEY.as_bytes().to_vec(),
                            value: self.next_id.to_be_bytes().to_vec(),
                        },
                    ],
                )
                .await?;
        }
        self.workers.insert(id, Worker { node: node.clone(), alive: true, last_heartbeat: Instant::now() });
        Ok(node)
    }

    pub fn heartbeat(&mut self, id: u32) -> bool {
        match self.workers.get_mut(&id) {
            Some(w) if w.alive => {
                w.last_heartbeat = Instant::now();
                true
            }
            _ => false,
        }
    }

    /// Forgets frontends that stopped heartbeating; they register again if they come back.
    pub fn expire_frontends(&mut self, timeout: std::time::Duration) {
        self.workers.retain(|_, w| {
            w.node.worker_type != WorkerType::Frontend as i32 || w.last_heartbeat.elapsed() < timeout
        });
    }

    pub fn get(&self, id: u32) -> Option<&Worker> {
        self.workers.get(&id)
    }

    pub fn live_compute_nodes(&self) -> Vec<WorkerNode> {
        self.workers
            .values()
            .filter(|w| w.alive && w.node.worker_type == WorkerType::Compute as i32)
            .map(|w| w.node.clone())
            .collect()
    }

    pub fn nodes(&self) -> Vec<WorkerNode> {
        self.workers.values().filter(|w| w.alive).map(|w| w.node.clone()).collect()
    }
}
