//! The in-memory key space, used on its own for `memory://` and as the file backend's state.

use std::collections::BTreeMap;

use async_trait::async_trait;
use parking_lot::RwLock;

use super::{validate_txn, MetaStore, MetaStoreResult, Operation, Precondition};

/// A sorted key space with transaction semantics but no synchronisation of its own.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct MemState {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemState {
    pub(crate) fn from_map(map: BTreeMap<Vec<u8>, Vec<u8>>) -> Self {
        MemState { map }
    }

    pub(crate) fn map(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        &self.map
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.map.get(key).cloned()
    }

    pub(crate) fn scan_prefix(&self, prefix: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.map
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub(crate) fn check(&self, preconditions: &[Precondition]) -> bool {
        preconditions.iter().all(|p| match p {
            Precondition::ValueEquals { key, value } => self.map.get(key) == Some(value),
            Precondition::KeyAbsent { key } => !self.map.contains_key(key),
            Precondition::KeyExists { key } => self.map.contains_key(key),
        })
    }

    pub(crate) fn apply(&mut self, ops: Vec<Operation>) {
        for op in ops {
            match op {
                Operation::Put { key, value } => {
                    self.map.insert(key, value);
                }
                Operation::Delete { key } => {
                    self.map.remove(&key);
                }
            }
        }
    }
}

/// Keeps everything in process memory; for tests and playgrounds that need no restart.
#[derive(Debug, Default)]
pub struct MemoryMetaStore {
    state: RwLock<MemState>,
}

impl MemoryMetaStore {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl MetaStore for MemoryMetaStore {
    async fn get(&self, key: &[u8]) -> MetaStoreResult<Option<Vec<u8>>> {
        Ok(self.state.read().get(key))
    }

    async fn scan_prefix(&self, prefix: &[u8]) -> MetaStoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(self.state.read().scan_prefix(prefix))
    }

    async fn txn(
        &self,
        preconditions: Vec<Precondition>,
        ops: Vec<Operation>,
    ) -> MetaStoreResult<bool> {
        validate_txn(&preconditions, &ops)?;
        let mut state = self.state.write();
        if !state.check(&preconditions) {
            return Ok(false);
        }
        state.apply(ops);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_conformance() {
        super::super::conformance::conformance(Arc::new(MemoryMetaStore::new())).await;
    }

    #[tokio::test]
    async fn memory_url_opens_a_fresh_store() {
        let a = super::super::open_meta_store("memory://").await;
        let b = super::super::open_meta_store("memory://").await;
        let (Ok(a), Ok(b)) = (a, b) else {
            panic!("memory:// should open");
        };
        assert!(a.put(b"k", b"v").await.is_ok());
        assert_eq!(b.get(b"k").await.ok(), Some(None));
    }
}
