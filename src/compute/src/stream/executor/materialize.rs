//! Materialize: stores its input as a materialized view (keyed by the stream key) and passes
//! the changes on, so views over this view see exactly what was stored.

use async_stream::try_stream;
use futures::StreamExt;

use super::{Execute, Executor, MessageStream};
use crate::stream::message::Message;
use crate::stream::state_table::StateTable;

pub struct MaterializeExecutor {
    pub input: Executor,
    pub table: StateTable,
}

impl Execute for MaterializeExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        let MaterializeExecutor { input, mut table } = *self;
        Box::pin(try_stream! {
            let mut input = input.execute();
            let mut first = true;
            while let Some(msg) = input.next().await {
                match msg? {
                    Message::Chunk(chunk) => {
                        table.write_chunk(&chunk)?;
                        yield Message::Chunk(chunk);
                    }
                    Message::Barrier(b) => {
                        if first {
                            table.init_epoch(b.epoch.curr);
                            first = false;
                        } else {
                            table.commit(b.epoch.curr)?;
                        }
                        yield Message::Barrier(b);
                    }
                }
            }
        })
    }
}
