//! The state store: MVCC key-value storage by epoch that stateful executors write to and
//! batch queries read from. [`StateStore`] is the interface; [`MemoryStateStore`] keeps
//! everything in memory (tests, playground); the LSM store on object storage implements the
//! same trait.

mod error;
mod key_range;
pub mod memory;
mod pin;
mod store;

pub use error::{StorageError, StorageResult};
pub use key_range::{full_range, prefix_range, range_is_empty, KeyRange};
pub use memory::MemoryStateStore;
pub use pin::{PinGuard, PinnedEpochs};
pub use store::{scan_all, BoxStateStoreIter, Epoch, StateStore, StateStoreIter};
