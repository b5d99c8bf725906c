//! Pinned epochs: readers that must keep seeing an epoch's snapshot while garbage collection
//! moves on (a long scan, a batch query).

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;

use crate::store::Epoch;

/// The epochs pinned in one store, with a count per epoch since readers share epochs.
#[derive(Debug, Default)]
pub struct PinnedEpochs {
    counts: Mutex<BTreeMap<Epoch, usize>>,
}

impl PinnedEpochs {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Callers check that `epoch` is still readable (not below the safe epoch) atomically with
    /// this call, i.e. under the lock that garbage collection takes.
    pub fn pin(self: &Arc<Self>, epoch: Epoch) -> PinGuard {
        *self.counts.lock().entry(epoch).or_default() += 1;
        PinGuard { epoch, owner: self.clone() }
    }

    pub fn min_pinned(&self) -> Option<Epoch> {
        self.counts.lock().keys().next().copied()
    }

    fn unpin(&self, epoch: Epoch) {
        let mut counts = self.counts.lock();
        if let Some(n) = counts.get_mut(&epoch) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&epoch);
            }
        }
    }
}

/// Keeps the versions visible at [`PinGuard::epoch`] alive until dropped.
#[derive(Debug)]
pub struct PinGuard {
    epoch: Epoch,
    owner: Arc<PinnedEpochs>,
}

impl PinGuard {
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        self.owner.unpin(self.epoch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_follows_guards() {
        let pins = PinnedEpochs::new();
        let a = pins.pin(5);
        let b = pins.pin(3);
        let c = pins.pin(3);
        assert_eq!(pins.min_pinned(), Some(3));
        drop(b);
        assert_eq!(pins.min_pinned(), Some(3));
        drop(c);
        assert_eq!(pins.min_pinned(), Some(5));
        assert_eq!(a.epoch(), 5);
        drop(a);
        assert_eq!(pins.min_pinned(), None);
    }
}
