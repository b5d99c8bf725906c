//! Tables on a compute node: each table's pending writes of the current epoch, sealed into the
//! state store at every barrier, and scans of a committed epoch.
//!
//! Key layout: `table_id | vnode | memcomparable(pk)`; value: value encoding of the non-key
//! columns (see `tributary_common::encoding`).

mod scan;
mod writer;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use tributary_common::catalog::Table;
use tributary_common::encoding::table_key_prefix;
use tributary_storage::{PinGuard, StateStore};

pub use scan::scan_table;
pub use writer::TableWriter;

use crate::error::{ComputeError, ComputeResult};
use crate::row_id::RowIdGenerator;
use crate::stream::exchange::ChannelRegistry;
use crate::stream::message::Barrier;

pub struct TableManager {
    store: Arc<dyn StateStore>,
    tables: RwLock<HashMap<u32, Arc<TableWriter>>>,
    /// Tombstones of dropped tables, written at the next barrier.
    dropped: Mutex<Vec<(Bytes, Option<Bytes>)>>,
    current_epoch: AtomicU64,
    row_ids: RwLock<Arc<RowIdGenerator>>,
    recent_pins: Mutex<VecDeque<(Instant, PinGuard)>>,
}

/// How long a committed epoch stays readable after newer ones are committed.
const EPOCH_RETENTION: Duration = Duration::from_secs(30);

impl TableManager {
    pub fn new(store: Arc<dyn StateStore>) -> Self {
        // Epoch 0 (nothing committed yet) is what a frontend reads at until it hears of a
        // commit: it stays readable like any committed epoch.
        let pins: VecDeque<(Instant, PinGuard)> = store.pin_epoch(0).map(|p| (Instant::now(), p)).into_iter().collect();
        TableManager {
            store,
            tables: RwLock::new(HashMap::new()),
            dropped: Mutex::new(Vec::new()),
            current_epoch: AtomicU64::new(0),
            row_ids: RwLock::new(Arc::new(RowIdGenerator::new(0))),
            recent_pins: Mutex::new(pins),
        }
    }

    pub fn store(&self) -> &Arc<dyn StateStore> {
        &self.store
    }

    /// Row ids embed the worker id, known once the node registered with meta.
    pub fn set_worker_id(&self, worker_id: u32) {
        *self.row_ids.write() = Arc::new(RowIdGenerator::new(worker_id));
    }

    pub fn row_ids(&self) -> Arc<RowIdGenerator> {
        self.row_ids.read().clone()
    }

    pub fn current_epoch(&self) -> u64 {
        self.current_epoch.load(Ordering::Acquire)
    }

    pub fn create_table(&self, table: &Table) -> ComputeResult<()> {
        let writer = TableWriter::new(table)?;
        // Re-creating an existing table (meta replays tables when a node re-registers) keeps
        // the writer and its pending writes.
        self.tables.write().entry(table.id).or_insert_with(|| Arc::new(writer));
        Ok(())
    }

    pub async fn drop_table(&self, table_id: u32) -> ComputeResult<()> {
        // Also for ids without a writer: the internal state tables of a dropped streaming job.
        self.tables.write().remove(&table_id);
        let prefix = table_key_prefix(table_id);
        let mut end = prefix;
        // Table ids stay below u32::MAX, so the increment cannot overflow.
        end[3] = end[3].wrapping_add(1);
        if end[3] == 0 {
            end = (u32::from_be_bytes(prefix).saturating_add(1)).to_be_bytes();
        }
        let range = (
            std::ops::Bound::Included(Bytes::copy_from_slice(&prefix)),
            std::ops::Bound::Excluded(Bytes::copy_from_slice(&end)),
        );
        let mut iter = self.store.iter(range, u64::MAX).await?;
        let mut tombstones = Vec::new();
        while let Some((k, _)) = iter.next().await? {
            tombstones.push((k, None));
        }
        self.dropped.lock().extend(tombstones);
        Ok(())
    }

    pub fn table(&self, table_id: u32) -> ComputeResult<Arc<TableWriter>> {
        self.tables.read().get(&table_id).cloned().ok_or(ComputeError::TableNotFound(table_id))
    }

    /// Closes the open epoch of every table at `barrier` (their writes go into the store at
    /// `barrier.epoch.prev`, subscribers get the barrier). Sealing is the caller's, once every
    /// actor passed the barrier too.
    pub async fn barrier(&self, barrier: &Barrier, channels: &ChannelRegistry) -> ComputeResult<()> {
        let writers: Vec<_> = self.tables.read().values().cloned().collect();
        let dropped = std::mem::take(&mut *self.dropped.lock());
        if !dropped.is_empty() {
            self.store.ingest_batch(dropped, barrier.epoch.prev)?;
        }
        for w in writers {
            w.barrier(barrier, &self.store, channels).await?;
        }
        self.current_epoch.store(barrier.epoch.curr, Ordering::Release);
        Ok(())
    }

    pub fn commit(&self, epoch: u64) -> ComputeResult<()> {
        self.store.commit_epoch(epoch);
        // A frontend picks a committed epoch and then scans at it a little later: keep recent
        // epochs readable for a while so such scans never find their epoch collected.
        let now = Instant::now();
        let mut pins = self.recent_pins.lock();
        pins.push_back((now, self.store.pin_epoch(epoch)?));
        while pins.len() > 1 && pins.front().is_some_and(|(t, _)| now.duration_since(*t) > EPOCH_RETENTION) {
            pins.pop_front();
        }
        Ok(())
    }
}
