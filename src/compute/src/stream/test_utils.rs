//! Helpers for executor tests: inputs from message lists, epochs, and a model of a stream's
//! net contents to compare with recomputation.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::common::ScalarValue;
use futures::StreamExt;
use tributary_common::chunk::{Op, StreamChunk};
use tributary_common::types::DataType;
use tributary_storage::{MemoryStateStore, StateStore};

use super::executor::{info, Executor, StreamExecutor};
use super::message::{Barrier, Message};
use super::row::{chunk_of, rows_of, OwnedRow};

pub fn store() -> Arc<dyn StateStore> {
    Arc::new(MemoryStateStore::new())
}

pub fn schema(types: &[DataType]) -> SchemaRef {
    Arc::new(Schema::new(
        types.iter().enumerate().map(|(i, t)| Field::new(format!("c{i}"), t.to_arrow(), true)).collect::<Vec<_>>(),
    ))
}

/// Epoch number `n` as a real epoch value.
pub fn epoch(n: u64) -> u64 {
    n << 16
}

/// The barrier closing epoch `n` (prev) and opening `n + 1`.
pub fn barrier(n: u64) -> Message {
    Message::Barrier(Barrier::new(epoch(n), epoch(n + 1), None))
}

pub fn chunk(types: &[DataType], ops: Vec<Op>, rows: Vec<OwnedRow>) -> Message {
    Message::Chunk(chunk_of(ops, &rows, &schema(types)).expect("test chunk"))
}

/// An executor that yields `messages` and then ends.
pub fn input(types: &[DataType], stream_key: Vec<usize>, messages: Vec<Message>) -> Executor {
    let stream = futures::stream::iter(messages.into_iter().map(Ok)).boxed();
    Executor::new(info(schema(types), types.to_vec(), stream_key, "TestInput"), StreamExecutor(stream))
}

/// Runs an executor to its end and returns what it yielded.
pub async fn collect(exec: Executor) -> Vec<Message> {
    exec.execute().map(|m| m.expect("executor failed")).collect().await
}

/// The net multiset of rows a stream of chunks leaves (inserts minus deletes). Fails on a delete
/// of a row that is not there, which a consistent stream never does.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Model {
    pub rows: BTreeMap<String, (OwnedRow, i64)>,
}

impl Model {
    pub fn apply(&mut self, chunk: &StreamChunk) {
        for (op, row) in chunk.ops.iter().zip(rows_of(&chunk.batch).expect("rows")) {
            let key = format!("{row:?}");
            let e = self.rows.entry(key.clone()).or_insert((row, 0));
            e.1 += if op.is_insert() { 1 } else { -1 };
            assert!(e.1 >= 0, "delete of a missing row {key}");
            if e.1 == 0 {
                self.rows.remove(&key);
            }
        }
    }

    pub fn apply_all(&mut self, messages: &[Message]) {
        for m in messages {
            if let Message::Chunk(c) = m {
                self.apply(c);
            }
        }
    }

    /// Sorted rows, with multiplicity.
    pub fn sorted(&self) -> Vec<OwnedRow> {
        let mut out = Vec::new();
        for (row, n) in self.rows.values() {
            for _ in 0..*n {
                out.push(row.clone());
            }
        }
        out
    }
}

pub fn i32v(v: i32) -> ScalarValue {
    ScalarValue::Int32(Some(v))
}

pub fn i64v(v: i64) -> ScalarValue {
    ScalarValue::Int64(Some(v))
}

pub fn strv(v: &str) -> ScalarValue {
    ScalarValue::Utf8(Some(v.to_string()))
}

/// xorshift64*: a small deterministic generator for randomized executor tests.
pub struct TestRng(u64);

impl TestRng {
    pub fn seeded(seed: u64) -> Self {
        TestRng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) % n
    }
}

/// A random change of the row with key `id` in `live`, the net contents of an input: an insert
/// of `new` if there is no such row, else a delete or an update to `new` (one chance in two).
pub fn random_change<K: Ord, V: Clone>(rng: &mut TestRng, live: &mut BTreeMap<K, V>, id: K, new: V) -> Vec<(Op, V)> {
    match live.get(&id).cloned() {
        None => {
            live.insert(id, new.clone());
            vec![(Op::Insert, new)]
        }
        Some(old) if rng.below(2) == 0 => {
            live.remove(&id);
            vec![(Op::Delete, old)]
        }
        Some(old) => {
            live.insert(id, new.clone());
            vec![(Op::UpdateDelete, old), (Op::UpdateInsert, new)]
        }
    }
}
