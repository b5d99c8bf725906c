//! Values: constant rows, emitted once after the first barrier; then only barriers (which come
//! straight from the node's barrier manager, as the fragment has no upstream). The rows count
//! as the job's backfill: done is reported with the barrier after them, so CREATE returns once
//! they are committed.

use std::sync::Arc;

use arrow::array::RecordBatch;
use async_stream::try_stream;
use tokio::sync::mpsc;
use tributary_common::chunk::StreamChunk;

use super::{Execute, MessageStream};
use crate::stream::barrier::BackfillProgressMap;
use crate::stream::message::Message;

pub struct ValuesExecutor {
    pub batch: RecordBatch,
    pub barriers: mpsc::UnboundedReceiver<Message>,
    pub actor_id: u32,
    pub progress: Arc<BackfillProgressMap>,
}

impl Execute for ValuesExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        let ValuesExecutor { batch, mut barriers, actor_id, progress } = *self;
        Box::pin(try_stream! {
            let rows = batch.num_rows() as u64;
            let mut barriers_seen = 0u32;
            while let Some(msg) = barriers.recv().await {
                barriers_seen += 1;
                match barriers_seen {
                    1 => progress.report(actor_id, 0, false),
                    2 => progress.report(actor_id, rows, true),
                    _ => {}
                }
                yield msg;
                if barriers_seen == 1 && rows > 0 {
                    yield Message::Chunk(StreamChunk::inserts(batch.clone()));
                }
            }
        })
    }
}
