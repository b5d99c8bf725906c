//! The meta server's state — catalog, cluster, system parameters, committed epoch — behind one
//! lock, so that every change and its notification get one version in one order.

use std::sync::Arc;

use prost::Message;
use tokio::sync::{broadcast, Mutex};
use tributary_common::config::SystemParams;
use tributary_proto::meta::{notification::Info, Notification, Operation as NotifyOp, Snapshot, SystemParams as PbSystemParams};

use crate::catalog::{is_streaming_job, CatalogChange, CatalogManager};
use crate::cluster::ClusterManager;
use crate::compute_client::ComputeClientPool;
use crate::error::{MetaError, MetaResult};
use crate::store::{MetaStore, Operation};
use crate::stream::backfill::BackfillTracker;
use crate::stream::fragment_store::FragmentStore;

const SYSTEM_PARAMS_KEY: &str = "system/params";
/// Notifications a slow subscriber may fall behind by before it is cut off (it then resubscribes
/// and gets a fresh snapshot).
const NOTIFICATION_BUFFER: usize = 4096;

pub struct MetaState {
    pub catalog: CatalogManager,
    pub cluster: ClusterManager,
    /// Actors of created streaming jobs.
    pub fragments: FragmentStore,
    pub params: SystemParams,
    pub committed_epoch: u64,
    version: u64,
    store: Arc<dyn MetaStore>,
    notifier: broadcast::Sender<Notification>,
}

pub type SharedState = Arc<Mutex<MetaState>>;

/// What every part of the meta server shares.
pub struct MetaContext {
    pub state: SharedState,
    pub clients: ComputeClientPool,
    /// Backfill progress of jobs being created, fed by the barrier manager; outside `state` so
    /// that progress flows without the meta lock.
    pub backfill: BackfillTracker,
    /// Watched by the barrier loop to pick up a new interval at once.
    pub params_tx: tokio::sync::watch::Sender<SystemParams>,
}

pub fn params_to_protobuf(p: &SystemParams) -> PbSystemParams {
    PbSystemParams { barrier_interval_ms: p.barrier_interval_ms, checkpoint_frequency: p.checkpoint_frequency }
}

impl MetaState {
    pub async fn load(store: Arc<dyn MetaStore>, initial_params: SystemParams) -> MetaResult<Self> {
        let catalog = CatalogManager::load(store.clone()).await?;
        let cluster = ClusterManager::load(store.clone()).await?;
        let mut fragments = FragmentStore::load(store.clone()).await?;
        fragments
            .retain_jobs(|id| catalog.state().tables.get(&id).is_some_and(is_streaming_job))
            .await?;
        let params = match store.get(SYSTEM_PARAMS_KEY.as_bytes()).await? {
            Some(v) => {
                let p = PbSystemParams::decode(v.as_slice()).map_err(|e| MetaError::Corrupt(e.to_string()))?;
                SystemParams { barrier_interval_ms: p.barrier_interval_ms, checkpoint_frequency: p.checkpoint_frequency }
            }
            None => initial_params,
        };
        let (notifier, _) = broadcast::channel(NOTIFICATION_BUFFER);
        Ok(MetaState { catalog, cluster, fragments, params, committed_epoch: 0, version: 1, store, notifier })
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn snapshot(&self) -> (Notification, broadcast::Receiver<Notification>) {
        let snapshot = Snapshot {
            catalog: Some(self.catalog.state().to_protobuf()),
            workers: self.cluster.nodes(),
            system_params: Some(params_to_protobuf(&self.params)),
            committed_epoch: self.committed_epoch,
        };
        let n = Notification {
            version: self.version,
            info: Some(Info::Snapshot(snapshot)),
            operation: NotifyOp::Update as i32,
        };
        (n, self.notifier.subscribe())
    }

    pub fn notify(&mut self, op: NotifyOp, info: Info) -> u64 {
        self.version += 1;
        // No subscriber is not an error: frontends come and go.
        let _ = self.notifier.send(Notification { version: self.version, info: Some(info), operation: op as i32 });
        self.version
    }

    /// Broadcasts a catalog change (deletions of children before parents, additions after).
    pub fn notify_change(&mut self, change: CatalogChange) -> u64 {
        let mut version = self.version;
        for t in change.delete_tables {
            version = self.notify(NotifyOp::Delete, Info::Table(t));
        }
        for f in change.delete_functions {
            version = self.notify(NotifyOp::Delete, Info::Function(f));
        }
        for s in change.delete_schemas {
            version = self.notify(NotifyOp::Delete, Info::Schema(s));
        }
        for d in change.delete_databases {
            version = self.notify(NotifyOp::Delete, Info::Database(d));
        }
        for d in change.put_databases {
            version = self.notify(NotifyOp::Add, Info::Database(d));
        }
        for s in change.put_schemas {
            version = self.notify(NotifyOp::Add, Info::Schema(s));
        }
        for f in change.put_functions {
            version = self.notify(NotifyOp::Add, Info::Function(f));
        }
        for t in change.put_tables {
            version = self.notify(NotifyOp::Add, Info::Table(t));
        }
        version
    }

    pub async fn set_param(&mut self, name: &str, value: &str) -> MetaResult<u64> {
        let mut params = self.params;
        params.set(name, value).map_err(|e| MetaError::InvalidInput(e.to_string()))?;
        self.store
            .txn(vec![], vec![Operation::Put {
                key: SYSTEM_PARAMS_KEY.as_bytes().to_vec(),
                value: params_to_protobuf(&params).encode_to_vec(),
            }])
            .await?;
        self.params = params;
        Ok(self.notify(NotifyOp::Update, Info::SystemParams(params_to_protobuf(&params))))
    }
}
