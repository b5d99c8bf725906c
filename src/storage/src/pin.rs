//! Pinned epochs: readers that must keep seeing an epoch's snapshot while garbage collection
//! moves on (a long scan, a batch query).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
        PinGuard {
            epoch,
            owner: self.clone(),
        }
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

/// Keeps recently superseded committed epochs readable for a while.
///
/// A frontend reads at the newest committed epoch it has been told about, and that news travels
/// through meta's notification stream after the compute node committed. Without a grace period
/// a read racing the next commit would find its epoch already collected. An epoch stays
/// readable until `retention` after the commit that superseded it.
#[derive(Debug)]
pub struct ReadRetention {
    retention: Duration,
    /// Committed epochs, oldest first, each with the time it was committed.
    committed: VecDeque<(Epoch, Instant)>,
}

impl ReadRetention {
    /// Epoch 0, the empty state before the first commit, counts as committed now: a frontend
    /// that has not heard of any commit yet reads at 0.
    pub fn new(retention: Duration) -> Self {
        Self { retention, committed: VecDeque::from([(0, Instant::now())]) }
    }

    /// Records the commit of `epoch` and returns the oldest epoch that must stay readable
    /// (garbage collection may drop what only older epochs see).
    pub fn commit(&mut self, epoch: Epoch, now: Instant) -> Epoch {
        if self.committed.back().is_none_or(|&(e, _)| e < epoch) {
            self.committed.push_back((epoch, now));
        }
        // The front epoch is readable while its successor was committed less than
        // `retention` ago.
        while self.committed.len() > 1 && now.duration_since(self.committed[1].1) >= self.retention
        {
            self.committed.pop_front();
        }
        self.committed.front().map_or(epoch, |&(e, _)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_keeps_superseded_epochs_for_a_while() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut r = ReadRetention::new(3 * s);
        // Epoch 0 stays readable until three seconds after the first commit.
        assert_eq!(r.commit(10, t0), 0);
        assert_eq!(r.commit(10, t0 + 3 * s), 10);
        let mut r = ReadRetention::new(3 * s);
        r.committed.clear();
        assert_eq!(r.commit(10, t0), 10);
        assert_eq!(r.commit(20, t0 + s), 10);
        assert_eq!(r.commit(30, t0 + 2 * s), 10);
        // 20 superseded 10 three seconds ago.
        assert_eq!(r.commit(40, t0 + 4 * s), 20);
        assert_eq!(r.commit(50, t0 + 10 * s), 40);
        // A repeated commit changes nothing.
        assert_eq!(r.commit(50, t0 + 10 * s), 40);
        let mut zero = ReadRetention::new(Duration::ZERO);
        let now = Instant::now();
        assert_eq!(zero.commit(1, now), 1);
        assert_eq!(zero.commit(2, now), 2);
    }

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
