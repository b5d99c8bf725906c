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
