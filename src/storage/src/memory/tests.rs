//! Unit tests of the memory store, and a property test against a model that replays every
//! write: whatever the interleaving of writes, seals, commits, pins and rollbacks, every read
//! at a readable epoch returns exactly the model's snapshot, and garbage collection never
//! changes what a pinned epoch reads.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::{full_range, prefix_range, range_is_empty, scan_all, StorageError};

fn b(s: &[u8]) -> Bytes {
    Bytes::copy_from_slice(s)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[tokio::test]
async fn reads_see_the_newest_version_at_or_below_their_epoch() {
    let store = MemoryStateStore::new();
    store
        .ingest_batch(vec![(b(b"k"), Some(b(b"1"))), (b(b"x"), Some(b(b"x")))], 1)
        .unwrap();
    store
        .ingest_batch(vec![(b(b"k"), Some(b(b"2")))], 3)
        .unwrap();
    store
        .ingest_batch(vec![(b(b"k"), None), (b(b"k"), Some(b(b"3")))], 5)
        .unwrap();
    store.ingest_batch(vec![(b(b"x"), None)], 5).unwrap();
    assert_eq!(store.get(b"k", 0).await.unwrap(), None);
    assert_eq!(store.get(b"k", 2).await.unwrap(), Some(b(b"1")));
    assert_eq!(store.get(b"k", 4).await.unwrap(), Some(b(b"2")));
    assert_eq!(store.get(b"k", 9).await.unwrap(), Some(b(b"3")));
    assert_eq!(store.get(b"x", 4).await.unwrap(), Some(b(b"x")));
    assert_eq!(store.get(b"x", 5).await.unwrap(), None);
    let all = scan_all(&store, full_range(), 5).await.unwrap();
    assert_eq!(all, vec![(b(b"k"), b(b"3"))]);
}

#[tokio::test]
async fn epoch_rules_are_enforced() {
    let store = MemoryStateStore::new();
    store
        .ingest_batch(vec![(b(b"k"), Some(b(b"1")))], 2)
        .unwrap();
    store.seal_epoch(2);
    assert!(matches!(
        store.ingest_batch(vec![(b(b"k"), None)], 2),
        Err(StorageError::EpochSealed {
            epoch: 2,
            sealed: 2
        })
    ));
    assert!(matches!(
        store.sync(3).await,
        Err(StorageError::EpochNotSealed { .. })
    ));
    store.sync(2).await.unwrap();
    store.seal_epoch(1);
    assert_eq!(store.sealed_epoch(), 2);

    store.commit_epoch(2);
    assert_eq!(store.committed_epoch(), 2);
    assert_eq!(store.safe_epoch(), 2);
    assert!(matches!(
        store.get(b"k", 1).await,
        Err(StorageError::EpochExpired { epoch: 1, safe: 2 })
    ));
    assert!(store.pin_epoch(1).is_err());
    assert!(store.iter(full_range(), 1).await.is_err());
    store.commit_epoch(1);
    assert_eq!(store.committed_epoch(), 2);
}

#[tokio::test]
async fn garbage_collection_respects_pins() {
    let store = MemoryStateStore::new();
    let mut pin = None;
    for epoch in 1..=3 {
        store
            .ingest_batch(vec![(b(b"k"), Some(b(&[epoch as u8])))], epoch)
            .unwrap();
        store
            .ingest_batch(vec![(b(b"gone"), (epoch == 1).then(|| b(b"v")))], epoch)
            .unwrap();
        store.commit_epoch(epoch);
        if epoch == 1 {
            pin = Some(store.pin_epoch(1).unwrap());
        }
    }
    // Epoch 1 is pinned through the commits of 2 and 3: every version stays.
    assert_eq!(store.safe_epoch(), 1);
    assert_eq!(store.get(b"k", 1).await.unwrap(), Some(b(&[1])));
    assert_eq!(store.get(b"gone", 1).await.unwrap(), Some(b(b"v")));
    assert_eq!(store.version_count(), 6);

    drop(pin);
    store.commit_epoch(4);
    assert_eq!(store.version_count(), 1);
    assert_eq!(store.get(b"k", 4).await.unwrap(), Some(b(&[3])));
}

#[tokio::test]
async fn iterators_resume_across_chunks_while_writes_and_commits_go_on() {
    let store = MemoryStateStore::with_iter_chunk(2);
    let keys: Vec<Bytes> = (0u8..16).map(|i| b(&[i])).collect();
    store
        .ingest_batch(
            keys.iter().map(|k| (k.clone(), Some(k.clone()))).collect(),
            1,
        )
        .unwrap();
    // A deleted run longer than one chunk's scan budget must be skipped, not end the scan.
    store
        .ingest_batch(keys[2..13].iter().map(|k| (k.clone(), None)).collect(), 2)
        .unwrap();
    store.commit_epoch(1);

    let mut iter = store.iter(full_range(), 2).await.unwrap();
    let mut seen = vec![iter.next().await.unwrap().unwrap().0];
    // Everything visible at epoch 2 would be collected by this commit without the iterator's pin.
    store
        .ingest_batch(keys.iter().map(|k| (k.clone(), None)).collect(), 3)
        .unwrap();
    store.commit_epoch(3);
    assert_eq!(store.safe_epoch(), 2);
    while let Some((k, _)) = iter.next().await.unwrap() {
        seen.push(k);
    }
    let expected: Vec<Bytes> = keys[..2].iter().chain(&keys[13..]).cloned().collect();
    assert_eq!(seen, expected);
    drop(iter);

    store.commit_epoch(4);
    assert_eq!(store.version_count(), 0);

    let mut iter = store
        .iter((Bound::Excluded(b(b"b")), Bound::Excluded(b(b"a"))), 4)
        .await
        .unwrap();
    assert!(iter.next().await.unwrap().is_none());
}

#[tokio::test]
async fn clear_uncommitted_rolls_back_to_the_committed_epoch() {
    let store = MemoryStateStore::new();
    store
        .ingest_batch(vec![(b(b"a"), Some(b(b"1")))], 1)
        .unwrap();
    store.commit_epoch(1);
    store
        .ingest_batch(vec![(b(b"a"), Some(b(b"2"))), (b(b"b"), Some(b(b"2")))], 2)
        .unwrap();
    store.seal_epoch(2);
    store.clear_uncommitted();
    assert_eq!(store.sealed_epoch(), 1);
    assert_eq!(store.get(b"a", 2).await.unwrap(), Some(b(b"1")));
    assert_eq!(store.get(b"b", 2).await.unwrap(), None);
    store
        .ingest_batch(vec![(b(b"b"), Some(b(b"again")))], 2)
        .unwrap();
    assert_eq!(store.get(b"b", 2).await.unwrap(), Some(b(b"again")));
}

#[tokio::test]
async fn delete_prefix_through_the_trait_object() {
    let store: Arc<dyn StateStore> = Arc::new(MemoryStateStore::new());
    let kvs = [&b"t1a"[..], b"t1b", b"t2a", b"t1"]
        .iter()
        .map(|k| (b(k), Some(b(b"v"))))
        .collect();
    store.ingest_batch(kvs, 1).unwrap();
    assert_eq!(store.delete_prefix(b"t1", 2).await.unwrap(), 3);
    let left = scan_all(store.as_ref(), full_range(), 2).await.unwrap();
    assert_eq!(left, vec![(b(b"t2a"), b(b"v"))]);
    assert_eq!(
        scan_all(store.as_ref(), full_range(), 1)
            .await
            .unwrap()
            .len(),
        4
    );
}

// ---- model-based property test ----

type Key = Vec<u8>;
type Write = (Key, Option<u8>);

#[derive(Debug, Clone)]
enum Op {
    Write(Vec<Write>),
    NextEpoch,
    /// Commits the sealed epoch minus `lag % 3`, so commits trail seals.
    Commit(u8),
    Pin(u8),
    Unpin(u8),
    Check {
        epoch: u8,
        from: Key,
        to: Key,
    },
    /// Scans a pinned or the committed epoch while writes and a commit happen mid-scan.
    ScanWhileWriting {
        pick: u8,
        writes: Vec<Write>,
    },
    DeletePrefix(Key),
    Rollback,
}

fn key() -> impl Strategy<Value = Key> {
    vec(prop_oneof![Just(0u8), Just(1), Just(0xFF)], 0..3)
}

fn writes() -> impl Strategy<Value = Vec<Write>> {
    vec((key(), proptest::option::weighted(0.7, any::<u8>())), 1..6)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => writes().prop_map(Op::Write),
        3 => Just(Op::NextEpoch),
        2 => any::<u8>().prop_map(Op::Commit),
        1 => any::<u8>().prop_map(Op::Pin),
        1 => any::<u8>().prop_map(Op::Unpin),
        2 => (any::<u8>(), key(), key()).prop_map(|(epoch, from, to)| Op::Check { epoch, from, to }),
        1 => (any::<u8>(), writes()).prop_map(|(pick, writes)| Op::ScanWhileWriting { pick, writes }),
        1 => key().prop_map(Op::DeletePrefix),
        1 => Just(Op::Rollback),
    ]
}

/// Every write in order; a snapshot replays those at or below its epoch, epoch by epoch.
#[derive(Default)]
struct Model {
    writes: Vec<(Epoch, Key, Option<u8>)>,
}

impl Model {
    fn snapshot(&self, epoch: Epoch) -> BTreeMap<Key, u8> {
        let mut visible: Vec<_> = self.writes.iter().filter(|(e, _, _)| *e <= epoch).collect();
        visible.sort_by_key(|(e, _, _)| *e);
        let mut snapshot = BTreeMap::new();
        for (_, k, v) in visible {
            match v {
                Some(v) => snapshot.insert(k.clone(), *v),
                None => snapshot.remove(k),
            };
        }
        snapshot
    }
}

fn as_bytes(snapshot: impl IntoIterator<Item = (Key, u8)>) -> Vec<(Bytes, Bytes)> {
    snapshot
        .into_iter()
        .map(|(k, v)| (b(&k), b(&[v])))
        .collect()
}

struct Harness {
    store: MemoryStateStore,
    model: Model,
    /// The epoch being written: always above `sealed`.
    current: Epoch,
    sealed: Epoch,
    committed: Epoch,
    pins: Vec<PinGuard>,
}

impl Harness {
    fn write(&mut self, writes: Vec<Write>) {
        let batch = writes
            .iter()
            .map(|(k, v)| (b(k), v.map(|v| b(&[v]))))
            .collect();
        self.store.ingest_batch(batch, self.current).unwrap();
        self.model
            .writes
            .extend(writes.into_iter().map(|(k, v)| (self.current, k, v)));
        if self.sealed > 0 {
            assert!(matches!(
                self.store
                    .ingest_batch(vec![(b(b"late"), None)], self.sealed),
                Err(StorageError::EpochSealed { .. })
            ));
        }
    }

    fn commit(&mut self, epoch: Epoch) {
        self.store.commit_epoch(epoch);
        self.committed = self.committed.max(epoch);
        self.sealed = self.sealed.max(self.committed);
        assert_eq!(self.store.committed_epoch(), self.committed);
    }

    /// Full scan, a range scan, a prefix scan and point gets at `epoch` against the model.
    async fn assert_reads(&self, epoch: Epoch, from: &Key, to: &Key) {
        let expected = self.model.snapshot(epoch);
        let all = scan_all(&self.store, full_range(), epoch).await.unwrap();
        assert_eq!(all, as_bytes(expected.clone()), "full scan at {epoch}");

        let range = (Bound::Included(b(from)), Bound::Excluded(b(to)));
        let in_range: BTreeMap<Key, u8> = if range_is_empty(range.0.as_ref(), range.1.as_ref()) {
            BTreeMap::new()
        } else {
            expected
                .range::<Key, _>((Bound::Included(from), Bound::Excluded(to)))
                .map(|(k, v)| (k.clone(), *v))
                .collect()
        };
        assert_eq!(
            scan_all(&self.store, range, epoch).await.unwrap(),
            as_bytes(in_range),
            "range at {epoch}"
        );

        let with_prefix = expected
            .iter()
            .filter(|(k, _)| k.starts_with(from))
            .map(|(k, v)| (k.clone(), *v));
        let got = scan_all(&self.store, prefix_range(from), epoch)
            .await
            .unwrap();
        assert_eq!(got, as_bytes(with_prefix), "prefix scan at {epoch}");

        for k in [from, to] {
            let got = self.store.get(k, epoch).await.unwrap();
            assert_eq!(
                got,
                expected.get(k).map(|v| b(&[*v])),
                "get {k:?} at {epoch}"
            );
        }
    }

    async fn assert_pinned_reads(&self) {
        for pin in &self.pins {
            self.assert_reads(pin.epoch(), &vec![0], &vec![1]).await;
        }
    }

    async fn apply(&mut self, op: Op) {
        match op {
            Op::Write(writes) => self.write(writes),
            Op::NextEpoch => {
                self.store.seal_epoch(self.current);
                self.store.sync(self.current).await.unwrap();
                self.sealed = self.current;
                self.current += 1;
            }
            Op::Commit(lag) => {
                self.commit(self.sealed.saturating_sub(u64::from(lag % 3)));
                self.assert_pinned_reads().await;
            }
            Op::Pin(pick) => {
                let safe = self.store.safe_epoch();
                assert!(safe <= self.committed);
                let epoch = safe + u64::from(pick) % (self.committed - safe + 1);
                self.pins.push(self.store.pin_epoch(epoch).unwrap());
                if safe > 0 {
                    assert!(self.store.pin_epoch(safe - 1).is_err());
                }
            }
            Op::Unpin(pick) => {
                if !self.pins.is_empty() {
                    let i = usize::from(pick) % self.pins.len();
                    self.pins.swap_remove(i);
                }
            }
            Op::Check { epoch, from, to } => {
                let epoch = u64::from(epoch) % (self.current + 1);
                if epoch < self.store.safe_epoch() {
                    assert!(matches!(
                        self.store.get(&from, epoch).await,
                        Err(StorageError::EpochExpired { .. })
                    ));
                    assert!(self.store.iter(full_range(), epoch).await.is_err());
                } else {
                    self.assert_reads(epoch, &from, &to).await;
                }
                self.assert_reads(self.committed, &from, &to).await;
                self.assert_reads(self.current, &from, &to).await;
                self.assert_pinned_reads().await;
            }
            Op::ScanWhileWriting { pick, writes } => {
                let mut readable: Vec<Epoch> = self.pins.iter().map(PinGuard::epoch).collect();
                readable.push(self.committed);
                let epoch = readable[usize::from(pick) % readable.len()];
                let expected = as_bytes(self.model.snapshot(epoch));
                let mut iter = self.store.iter(full_range(), epoch).await.unwrap();
                let mut got: Vec<_> = iter.next().await.unwrap().into_iter().collect();
                self.write(writes);
                self.store.seal_epoch(self.current);
                self.commit(self.current);
                self.current += 1;
                while let Some(kv) = iter.next().await.unwrap() {
                    got.push(kv);
                }
                assert_eq!(got, expected, "scan at {epoch} across a commit");
            }
            Op::DeletePrefix(prefix) => {
                let doomed: Vec<Key> = self
                    .model
                    .snapshot(self.current)
                    .into_keys()
                    .filter(|k| k.starts_with(&prefix))
                    .collect();
                let deleted = self
                    .store
                    .delete_prefix(&prefix, self.current)
                    .await
                    .unwrap();
                assert_eq!(deleted, doomed.len());
                self.model
                    .writes
                    .extend(doomed.into_iter().map(|k| (self.current, k, None)));
            }
            Op::Rollback => {
                self.store.clear_uncommitted();
                let committed = self.committed;
                self.model.writes.retain(|(e, _, _)| *e <= committed);
                self.sealed = committed;
                self.current = committed + 1;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn matches_the_model(ops in vec(op(), 1..60), chunk in prop_oneof![Just(1usize), Just(2), Just(3), Just(1024)]) {
        runtime().block_on(async move {
            let mut h = Harness {
                store: MemoryStateStore::with_iter_chunk(chunk),
                model: Model::default(),
                current: 1,
                sealed: 0,
                committed: 0,
                pins: Vec::new(),
            };
            for op in ops {
                h.apply(op).await;
            }
            h.assert_pinned_reads().await;

            // With no reader left behind, committing everything leaves one version per live key.
            h.pins.clear();
            h.store.seal_epoch(h.current);
            h.commit(h.current);
            let live = h.model.snapshot(h.current);
            h.assert_reads(h.current, &vec![], &vec![0xFF]).await;
            assert_eq!(h.store.version_count(), live.len());
        });
    }
}
