//! Values: constant rows, emitted once after the first barrier; then only barriers (which come
//! straight from the node's barrier manager, as the fragment has no upstream).

use async_stream::try_stream;
use tributary_common::chunk::StreamChunk;
use arrow::array::RecordBatch;

use super::{Execute, MessageStream};
use crate::stream::message::Message;
use tokio::sync::mpsc;

pub struct ValuesExecutor {
    pub batch: RecordBatch,
    pub barriers: mpsc::UnboundedReceiver<Message>,
}

impl Execute for ValuesExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        let ValuesExecutor { batch, mut barriers } = *self;
        Box::pin(try_stream! {
            let mut emitted = false;
            while let Some(msg) = barriers.recv().await {
                yield msg;
                if !emitted {
                    emitted = true;
                    if batch.num_rows() > 0 {
                        yield Message::Chunk(StreamChunk::inserts(batch.clone()));
                    }
                }
            }
        })
    }
}
