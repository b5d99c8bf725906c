//! The [`StateStore`] trait.
//!
//! Life of an epoch `E` (see DESIGN.md, "Barriers, epochs, consistency"):
//! 1. executors write `E`'s changes with [`StateStore::ingest_batch`] and read their own
//!    uncommitted writes by reading at `E`;
//! 2. when every local actor passed barrier `E`, [`StateStore::seal_epoch`]`(E)`: no more writes
//!    at epochs `<= E`;
//! 3. [`StateStore::sync`]`(E)` makes everything up to `E` durable (the LSM store uploads SSTs);
//! 4. when every node synced, meta commits and the node calls [`StateStore::commit_epoch`]`(E)`:
//!    `E` becomes the newest snapshot batch readers may use, and versions that no reader at or
//!    above the safe epoch (min of committed and pinned epochs) can see are dropped.
//!
//! On failure, recovery calls [`StateStore::clear_uncommitted`] to return to the committed
//! epoch. The trait is object safe: executors hold an `Arc<dyn StateStore>`.

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::StorageResult;
use crate::key_range::{prefix_range, KeyRange};
use crate::pin::PinGuard;

pub type Epoch = u64;

/// Tombstones written per batch by [`StateStore::delete_prefix`]'s default implementation.
const DELETE_BATCH: usize = 1024;

#[async_trait]
pub trait StateStore: Send + Sync + 'static {
    /// Latest value of `key` with version epoch <= `epoch`, `None` if absent or deleted. Fails
    /// with `EpochExpired` if `epoch` is below the safe epoch (pin it to read old snapshots).
    async fn get(&self, key: &[u8], epoch: Epoch) -> StorageResult<Option<Bytes>>;

    /// Live keys in `range`, in key order, as of `epoch`. The iterator pins `epoch` for its
    /// lifetime, so commits while it runs do not change what it returns.
    async fn iter(&self, range: KeyRange, epoch: Epoch) -> StorageResult<BoxStateStoreIter>;

    /// Writes a batch at `epoch` (value `None` = delete). `epoch` must be above the sealed
    /// epoch. Within the batch, and across batches of one epoch, the last write of a key wins.
    fn ingest_batch(&self, kvs: Vec<(Bytes, Option<Bytes>)>, epoch: Epoch) -> StorageResult<()>;

    /// No more writes will arrive at epochs <= `epoch`. Never moves backwards.
    fn seal_epoch(&self, epoch: Epoch);

    /// Makes everything up to the sealed `epoch` durable. A no-op in memory; the LSM store
    /// uploads SSTs here (and will report them).
    async fn sync(&self, epoch: Epoch) -> StorageResult<()>;

    /// Marks `epoch` committed (also sealing it): the newest epoch readers may pin. Allows
    /// garbage collection of versions that no pinned reader and no reader at the committed
    /// epoch can see. Never moves backwards.
    fn commit_epoch(&self, epoch: Epoch);

    fn committed_epoch(&self) -> Epoch;

    /// Pins `epoch` for a long read: versions visible at it are kept until the guard drops.
    /// Fails with `EpochExpired` if `epoch` is already below the safe epoch.
    fn pin_epoch(&self, epoch: Epoch) -> StorageResult<PinGuard>;

    /// Drops every write at epochs above the committed epoch and reopens those epochs for
    /// writing (the sealed epoch goes back to the committed one). Recovery's rollback.
    fn clear_uncommitted(&self);

    /// Deletes every key starting with `prefix` at `epoch` (DROP TABLE, DROP of a vnode's
    /// state) and returns how many live keys it deleted. The default writes a tombstone per
    /// key; the LSM store can override it with a range tombstone.
    async fn delete_prefix(&self, prefix: &[u8], epoch: Epoch) -> StorageResult<usize> {
        let mut iter = self.iter(prefix_range(prefix), epoch).await?;
        let mut batch = Vec::new();
        let mut deleted = 0;
        while let Some((key, _)) = iter.next().await? {
            batch.push((key, None));
            if batch.len() == DELETE_BATCH {
                deleted += batch.len();
                self.ingest_batch(std::mem::take(&mut batch), epoch)?;
            }
        }
        deleted += batch.len();
        if !batch.is_empty() {
            self.ingest_batch(batch, epoch)?;
        }
        Ok(deleted)
    }
}

#[async_trait]
pub trait StateStoreIter: Send {
    /// The next live `(key, value)`, or `None` at the end of the range.
    async fn next(&mut self) -> StorageResult<Option<(Bytes, Bytes)>>;
}

pub type BoxStateStoreIter = Box<dyn StateStoreIter>;

/// Reads the whole `range` at `epoch` into memory: for tests and small system tables only.
pub async fn scan_all(
    store: &dyn StateStore,
    range: KeyRange,
    epoch: Epoch,
) -> StorageResult<Vec<(Bytes, Bytes)>> {
    let mut iter = store.iter(range, epoch).await?;
    let mut out = Vec::new();
    while let Some(kv) = iter.next().await? {
        out.push(kv);
    }
    Ok(out)
}
