//! Filter: keeps the rows for which the predicate is true. An update pair whose halves fall on
//! different sides of the predicate becomes a lone delete or insert.

use arrow::array::BooleanArray;
use arrow::compute::filter_record_batch;
use futures::StreamExt;
use tributary_common::chunk::{Op, StreamChunk};

use super::{Execute, Executor, MessageStream};
use crate::stream::error::StreamResult;
use crate::stream::expr::{eval_predicate, ExprRef};
use crate::stream::message::Message;

pub struct FilterExecutor {
    pub input: Executor,
    pub predicate: ExprRef,
}

impl Execute for FilterExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        let FilterExecutor { input, predicate } = *self;
        input
            .execute()
            .filter_map(move |msg| {
                let out = match msg {
                    Ok(Message::Chunk(chunk)) => filter_chunk(&predicate, chunk).map(|c| c.map(Message::Chunk)).transpose(),
                    other => Some(other),
                };
                futures::future::ready(out)
            })
            .boxed()
    }
}

fn filter_chunk(predicate: &ExprRef, chunk: StreamChunk) -> StreamResult<Option<StreamChunk>> {
    let keep = eval_predicate(predicate, &chunk.batch)?;
    filter_with(chunk, &keep)
}

/// Keeps the rows of `chunk` marked in `keep`, fixing up split update pairs.
pub fn filter_with(chunk: StreamChunk, keep: &BooleanArray) -> StreamResult<Option<StreamChunk>> {
    if keep.true_count() == 0 {
        return Ok(None);
    }
    let mut ops = Vec::with_capacity(keep.true_count());
    let n = chunk.ops.len();
    for i in 0..n {
        if !keep.value(i) {
            continue;
        }
        let op = match chunk.ops[i] {
            Op::UpdateDelete if i + 1 >= n || !keep.value(i + 1) => Op::Delete,
            Op::UpdateInsert if i == 0 || !keep.value(i - 1) => Op::Insert,
            op => op,
        };
        ops.push(op);
    }
    if keep.true_count() == n {
        return Ok(Some(StreamChunk::new(ops, chunk.batch)?));
    }
    let batch = filter_record_batch(&chunk.batch, keep)?;
    Ok(Some(StreamChunk::new(ops, batch)?))
}
