//! The memory store's iterator: copies a bounded chunk of the range out under the read lock,
//! then serves it lock-free and resumes after the last key it looked at. Its pin keeps the
//! versions it reads alive between chunks.

use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::Inner;
use crate::error::StorageResult;
use crate::key_range::{range_is_empty, KeyRange};
use crate::pin::PinGuard;
use crate::store::StateStoreIter;

/// Keys looked at per chunk, as a multiple of the chunk size, so that long runs of deleted keys
/// cannot hold the lock for long either.
const SCAN_FACTOR: usize = 4;

pub(super) struct MemoryIter {
    inner: Arc<Inner>,
    /// Where the next chunk starts: the range start, then just after the last key looked at.
    next_start: Bound<Bytes>,
    end: Bound<Bytes>,
    buffer: VecDeque<(Bytes, Bytes)>,
    exhausted: bool,
    pin: PinGuard,
}

impl MemoryIter {
    pub(super) fn new(inner: Arc<Inner>, (start, end): KeyRange, pin: PinGuard) -> Self {
        Self {
            inner,
            next_start: start,
            end,
            buffer: VecDeque::new(),
            exhausted: false,
            pin,
        }
    }

    fn fill(&mut self) {
        if range_is_empty(self.next_start.as_ref(), self.end.as_ref()) {
            self.exhausted = true;
            return;
        }
        let chunk = self.inner.iter_chunk;
        let epoch = self.pin.epoch();
        let state = self.inner.state.read();
        let range = (
            self.next_start.as_ref().map(|k| k.as_ref()),
            self.end.as_ref().map(|k| k.as_ref()),
        );
        let mut looked_at = 0;
        for (key, versions) in state.keys.range::<[u8], _>(range) {
            looked_at += 1;
            if let Some(Some(value)) = versions.visible(epoch) {
                self.buffer.push_back((key.clone(), value.clone()));
            }
            if self.buffer.len() >= chunk || looked_at >= chunk * SCAN_FACTOR {
                self.next_start = Bound::Excluded(key.clone());
                return;
            }
        }
        self.exhausted = true;
    }
}

#[async_trait]
impl StateStoreIter for MemoryIter {
    async fn next(&mut self) -> StorageResult<Option<(Bytes, Bytes)>> {
        while self.buffer.is_empty() && !self.exhausted {
            self.fill();
        }
        Ok(self.buffer.pop_front())
    }
}
