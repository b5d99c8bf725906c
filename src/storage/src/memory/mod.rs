//! [`MemoryStateStore`]: every version of every key in an in-memory ordered map.

mod iter;
mod versions;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use parking_lot::RwLock;

use self::iter::MemoryIter;
use self::versions::{GcOutcome, Versions};
use crate::error::{StorageError, StorageResult};
use crate::key_range::KeyRange;
use crate::pin::{PinGuard, PinnedEpochs};
use crate::store::{BoxStateStoreIter, Epoch, StateStore};

/// Live keys an iterator copies out per lock acquisition: bounds how long a scan blocks writers.
const DEFAULT_ITER_CHUNK: usize = 1024;

/// Cheap to clone: clones share the data.
#[derive(Clone)]
pub struct MemoryStateStore {
    inner: Arc<Inner>,
}

struct Inner {
    state: RwLock<State>,
    /// Lock order: `state` before `pins` (pins are checked under `state` so that pinning and
    /// garbage collection cannot interleave).
    pins: Arc<PinnedEpochs>,
    iter_chunk: usize,
}

#[derive(Default)]
struct State {
    keys: BTreeMap<Bytes, Versions>,
    sealed: Epoch,
    committed: Epoch,
    /// Reads below it may miss collected versions; it only moves up.
    safe: Epoch,
    /// Keys that may hold versions to collect: only written keys gain versions, so collection
    /// visits these instead of the whole map.
    gc_candidates: BTreeSet<Bytes>,
}

impl State {
    fn check_readable(&self, epoch: Epoch) -> StorageResult<()> {
        if epoch < self.safe {
            return Err(StorageError::EpochExpired {
                epoch,
                safe: self.safe,
            });
        }
        Ok(())
    }

    fn collect_garbage(&mut self, watermark: Epoch) {
        let candidates = std::mem::take(&mut self.gc_candidates);
        for key in candidates {
            let Some(versions) = self.keys.get_mut(&key) else {
                continue;
            };
            match versions.gc(watermark) {
                GcOutcome::Gone => {
                    self.keys.remove(&key);
                }
                GcOutcome::Settled => {}
                GcOutcome::Pending => {
                    self.gc_candidates.insert(key);
                }
            }
        }
    }
}

impl Default for MemoryStateStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStateStore {
    pub fn new() -> Self {
        Self::with_iter_chunk(DEFAULT_ITER_CHUNK)
    }

    fn with_iter_chunk(iter_chunk: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: RwLock::new(State::default()),
                pins: PinnedEpochs::new(),
                iter_chunk: iter_chunk.max(1),
            }),
        }
    }

    /// The lowest epoch that can be read without a pin.
    pub fn safe_epoch(&self) -> Epoch {
        self.inner.state.read().safe
    }

    pub fn sealed_epoch(&self) -> Epoch {
        self.inner.state.read().sealed
    }

    /// Stored versions, tombstones included (to watch garbage collection).
    #[cfg(test)]
    fn version_count(&self) -> usize {
        self.inner
            .state
            .read()
            .keys
            .values()
            .map(Versions::len)
            .sum()
    }
}

#[async_trait]
impl StateStore for MemoryStateStore {
    async fn get(&self, key: &[u8], epoch: Epoch) -> StorageResult<Option<Bytes>> {
        let state = self.inner.state.read();
        state.check_readable(epoch)?;
        Ok(state
            .keys
            .get(key)
            .and_then(|v| v.visible(epoch))
            .cloned()
            .flatten())
    }

    async fn iter(&self, range: KeyRange, epoch: Epoch) -> StorageResult<BoxStateStoreIter> {
        let pin = self.pin_epoch(epoch)?;
        Ok(Box::new(MemoryIter::new(self.inner.clone(), range, pin)))
    }

    fn ingest_batch(&self, kvs: Vec<(Bytes, Option<Bytes>)>, epoch: Epoch) -> StorageResult<()> {
        let mut guard = self.inner.state.write();
        // Reborrowed so that `keys` and `gc_candidates` can be borrowed apart.
        let state = &mut *guard;
        if epoch <= state.sealed {
            return Err(StorageError::EpochSealed {
                epoch,
                sealed: state.sealed,
            });
        }
        for (key, value) in kvs {
            let versions = state.keys.entry(key.clone()).or_default();
            versions.put(epoch, value);
            if versions.needs_gc() {
                state.gc_candidates.insert(key);
            }
        }
        Ok(())
    }

    fn seal_epoch(&self, epoch: Epoch) {
        let mut state = self.inner.state.write();
        state.sealed = state.sealed.max(epoch);
    }

    async fn sync(&self, epoch: Epoch) -> StorageResult<()> {
        let sealed = self.inner.state.read().sealed;
        if epoch > sealed {
            return Err(StorageError::EpochNotSealed { epoch, sealed });
        }
        Ok(())
    }

    fn commit_epoch(&self, epoch: Epoch) {
        let mut state = self.inner.state.write();
        state.committed = state.committed.max(epoch);
        state.sealed = state.sealed.max(state.committed);
        let watermark = self.inner.pins.min_pinned().map_or(state.committed, |p| p.min(state.committed));
        // Versions only become garbage when the watermark passes a newer version of their key.
        if watermark > state.safe {
            state.safe = watermark;
            state.collect_garbage(watermark);
        }
    }

    fn committed_epoch(&self) -> Epoch {
        self.inner.state.read().committed
    }

    fn pin_epoch(&self, epoch: Epoch) -> StorageResult<PinGuard> {
        let state = self.inner.state.read();
        state.check_readable(epoch)?;
        Ok(self.inner.pins.pin(epoch))
    }

    fn clear_uncommitted(&self) {
        let mut state = self.inner.state.write();
        let committed = state.committed;
        state
            .keys
            .retain(|_, versions| !versions.truncate_after(committed));
        state.sealed = committed;
    }
}
