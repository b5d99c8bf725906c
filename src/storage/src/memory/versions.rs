//! The versions of one key in the memory store.

use bytes::Bytes;

use crate::store::Epoch;

/// Oldest first; `None` is a tombstone. Usually one or two entries, so a vector beats a map.
#[derive(Debug, Default)]
pub(super) struct Versions(Vec<(Epoch, Option<Bytes>)>);

/// What garbage collection left of a key.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum GcOutcome {
    /// Nothing visible at or above the watermark: remove the key.
    Gone,
    /// One live version: nothing to collect until the key is written again.
    Settled,
    /// Older versions or a tombstone still needed by readers above the watermark.
    Pending,
}

impl Versions {
    /// A later write at the same epoch replaces the earlier one.
    pub(super) fn put(&mut self, epoch: Epoch, value: Option<Bytes>) {
        match self.0.binary_search_by_key(&epoch, |(e, _)| *e) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (epoch, value)),
        }
    }

    /// The version a reader at `epoch` sees: `Some(None)` is a tombstone.
    pub(super) fn visible(&self, epoch: Epoch) -> Option<&Option<Bytes>> {
        self.0
            .iter()
            .rev()
            .find(|(e, _)| *e <= epoch)
            .map(|(_, v)| v)
    }

    /// Whether garbage collection may have work here.
    pub(super) fn needs_gc(&self) -> bool {
        self.0.len() > 1 || self.0.iter().any(|(_, v)| v.is_none())
    }

    /// Drops versions that no reader at or above `watermark` sees: everything older than the
    /// newest version `<= watermark`, and that version too if it is a tombstone.
    pub(super) fn gc(&mut self, watermark: Epoch) -> GcOutcome {
        let visible_from = self.0.partition_point(|(e, _)| *e <= watermark);
        if visible_from > 0 {
            self.0.drain(..visible_from - 1);
            if self.0[0].1.is_none() {
                self.0.remove(0);
            }
        }
        match self.0.as_slice() {
            [] => GcOutcome::Gone,
            [(_, Some(_))] => GcOutcome::Settled,
            _ => GcOutcome::Pending,
        }
    }

    /// Drops versions above `epoch`; returns whether none is left.
    pub(super) fn truncate_after(&mut self, epoch: Epoch) -> bool {
        self.0.retain(|(e, _)| *e <= epoch);
        self.0.is_empty()
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &'static str) -> Option<Bytes> {
        Some(Bytes::from_static(s.as_bytes()))
    }

    #[test]
    fn visibility_and_gc() {
        let mut k = Versions::default();
        k.put(5, v("b"));
        k.put(2, v("a"));
        k.put(8, None);
        k.put(5, v("B"));
        assert_eq!(k.visible(1), None);
        assert_eq!(k.visible(4), Some(&v("a")));
        assert_eq!(k.visible(7), Some(&v("B")));
        assert_eq!(k.visible(9), Some(&None));

        assert_eq!(k.gc(6), GcOutcome::Pending);
        assert_eq!(k.len(), 2);
        assert_eq!(k.visible(6), Some(&v("B")));
        assert_eq!(k.gc(8), GcOutcome::Gone);
    }

    #[test]
    fn tombstone_below_live_version_goes_first() {
        let mut k = Versions::default();
        k.put(1, v("a"));
        k.put(2, None);
        k.put(3, v("c"));
        assert_eq!(k.gc(2), GcOutcome::Settled);
        assert_eq!(k.len(), 1);
        assert_eq!(k.visible(2), None);
        assert_eq!(k.visible(3), Some(&v("c")));
        assert_eq!(k.gc(3), GcOutcome::Settled);
    }
}
