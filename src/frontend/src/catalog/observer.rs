//! Follows meta: registers this frontend, keeps the catalog, workers, system parameters and the
//! committed epoch up to date from the notification stream, and resubscribes when it breaks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use tokio::sync::watch;
use tonic::transport::{Channel, Endpoint};
use tributary_common::config::SystemParams;
use tributary_proto::common::{WorkerNode, WorkerType};
use tributary_proto::meta::meta_service_client::MetaServiceClient;
use tributary_proto::meta::notification::Info;
use tributary_proto::meta::{HeartbeatRequest, Notification, Operation, RegisterWorkerRequest, SubscribeRequest};

use super::CatalogSnapshot;
use crate::error::{FrontendError, Result};

pub struct MetaObserver {
    pub client: MetaServiceClient<Channel>,
    catalog: RwLock<Arc<CatalogSnapshot>>,
    workers: RwLock<HashMap<u32, WorkerNode>>,
    params: RwLock<SystemParams>,
    committed_epoch: AtomicU64,
    version: watch::Sender<u64>,
}

impl MetaObserver {
    /// Connects to meta and returns once the first snapshot arrived.
    pub async fn start(meta_addr: &str, advertise: &str) -> Result<Arc<MetaObserver>> {
        let endpoint = Endpoint::from_shared(format!("http://{meta_addr}"))
            .map_err(|e| FrontendError::Meta(format!("bad meta address {meta_addr}: {e}")))?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true);
        let client = MetaServiceClient::new(endpoint.connect_lazy()).max_decoding_message_size(usize::MAX);
        let (version, _) = watch::channel(0);
        let observer = Arc::new(MetaObserver {
            client,
            catalog: RwLock::new(Arc::new(CatalogSnapshot::default())),
            workers: RwLock::new(HashMap::new()),
            params: RwLock::new(SystemParams::default()),
            committed_epoch: AtomicU64::new(0),
            version,
        });
        let worker_id = observer.register(advertise).await;
        let mut ready = observer.version.subscribe();
        tokio::spawn(observer.clone().follow());
        tokio::spawn(observer.clone().heartbeat(worker_id, advertise.to_string()));
        // The first snapshot sets a version above 0.
        ready
            .wait_for(|v| *v > 0)
            .await
            .map_err(|_| FrontendError::Meta("meta notification stream closed".into()))?;
        Ok(observer)
    }

    async fn register(&self, advertise: &str) -> u32 {
        let mut delay = Duration::from_millis(100);
        loop {
            let req = RegisterWorkerRequest { worker_type: WorkerType::Frontend as i32, host: advertise.to_string(), parallelism: 0 };
            match self.client.clone().register_worker(req).await {
                Ok(r) => return r.into_inner().worker_id,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot register with meta; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    async fn heartbeat(self: Arc<Self>, mut worker_id: u32, advertise: String) {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            if let Ok(r) = self.client.clone().heartbeat(HeartbeatRequest { worker_id }).await {
                if !r.into_inner().known {
                    worker_id = self.register(&advertise).await;
                }
            }
        }
    }

    async fn follow(self: Arc<Self>) {
        loop {
            match self.client.clone().subscribe(SubscribeRequest { worker_id: 0 }).await {
                Ok(resp) => {
                    let mut stream = resp.into_inner();
                    loop {
                        match stream.message().await {
                            Ok(Some(n)) => {
                                if let Err(e) = self.apply(n) {
                                    tracing::error!(error = %e, "bad notification from meta");
                                }
                            }
                            Ok(None) => break,
                            Err(e) => {
                                tracing::warn!(error = %e, "notification stream broke; resubscribing");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot subscribe to meta; retrying"),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn apply(&self, n: Notification) -> Result<()> {
        let Some(info) = n.info else { return Ok(()) };
        let delete = n.operation == Operation::Delete as i32;
        match info {
            Info::Snapshot(s) => {
                let mut snapshot = CatalogSnapshot::default();
                if let Some(c) = s.catalog {
                    for d in c.databases {
                        snapshot.databases.insert(d.id, d);
                    }
                    for sc in c.schemas {
                        snapshot.schemas.insert(sc.id, sc);
                    }
                    for t in c.tables {
                        snapshot.add_table(t)?;
                    }
                    for f in c.functions {
                        snapshot.functions.insert(f.id, f);
                    }
                }
                *self.catalog.write() = Arc::new(snapshot);
                *self.workers.write() = s.workers.into_iter().map(|w| (w.id, w)).collect();
                if let Some(p) = s.system_params {
                    *self.params.write() = SystemParams { barrier_interval_ms: p.barrier_interval_ms, checkpoint_frequency: p.checkpoint_frequency };
                }
                self.committed_epoch.fetch_max(s.committed_epoch, Ordering::AcqRel);
            }
            Info::Database(d) => self.update_catalog(|c| {
                if delete {
                    c.databases.remove(&d.id);
                } else {
                    c.databases.insert(d.id, d);
                }
                Ok(())
            })?,
            Info::Schema(s) => self.update_catalog(|c| {
                if delete {
                    c.schemas.remove(&s.id);
                } else {
                    c.schemas.insert(s.id, s);
                }
                Ok(())
            })?,
            Info::Table(t) => self.update_catalog(|c| {
                if delete {
                    c.tables.remove(&t.id);
                    Ok(())
                } else {
                    c.add_table(t)
                }
            })?,
            Info::Function(f) => self.update_catalog(|c| {
                if delete {
                    c.functions.remove(&f.id);
                } else {
                    c.functions.insert(f.id, f);
                }
                Ok(())
            })?,
            Info::Worker(w) => {
                if delete {
                    self.workers.write().remove(&w.id);
                } else {
                    self.workers.write().insert(w.id, w);
                }
            }
            Info::SystemParams(p) => {
                *self.params.write() = SystemParams { barrier_interval_ms: p.barrier_interval_ms, checkpoint_frequency: p.checkpoint_frequency };
            }
            Info::CommittedEpoch(e) => {
                self.committed_epoch.fetch_max(e, Ordering::AcqRel);
            }
        }
        self.version.send_replace(n.version);
        Ok(())
    }

    fn update_catalog(&self, f: impl FnOnce(&mut CatalogSnapshot) -> Result<()>) -> Result<()> {
        let mut guard = self.catalog.write();
        let mut next = (**guard).clone();
        f(&mut next)?;
        *guard = Arc::new(next);
        Ok(())
    }

    pub fn catalog(&self) -> Arc<CatalogSnapshot> {
        self.catalog.read().clone()
    }

    pub fn committed_epoch(&self) -> u64 {
        self.committed_epoch.load(Ordering::Acquire)
    }

    pub fn system_params(&self) -> SystemParams {
        *self.params.read()
    }

    pub fn worker(&self, id: u32) -> Option<WorkerNode> {
        self.workers.read().get(&id).cloned()
    }

    /// Waits until the local catalog includes meta's version `v` (after a DDL statement, so the
    /// next statement sees its effect).
    pub async fn wait_version(&self, v: u64) -> Result<()> {
        let mut rx = self.version.subscribe();
        tokio::time::timeout(Duration::from_secs(30), rx.wait_for(|cur| *cur >= v))
            .await
            .map_err(|_| FrontendError::Meta("timed out waiting for the catalog to update".into()))?
            .map_err(|_| FrontendError::Meta("meta notification stream closed".into()))?;
        Ok(())
    }
}
