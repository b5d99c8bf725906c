//! Projection: evaluates expressions on each chunk; ops pass through.

use arrow::array::{RecordBatch, RecordBatchOptions};
use futures::StreamExt;
use tributary_common::chunk::StreamChunk;

use super::{Execute, Executor, ExecutorInfo, MessageStream};
use crate::stream::expr::{eval, ExprRef};
use crate::stream::message::Message;

pub struct ProjectExecutor {
    pub input: Executor,
    pub exprs: Vec<ExprRef>,
    pub info: ExecutorInfo,
}

impl Execute for ProjectExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        let ProjectExecutor { input, exprs, info } = *self;
        input
            .execute()
            .map(move |msg| match msg? {
                Message::Chunk(chunk) => {
                    let columns = exprs.iter().map(|e| eval(e, &chunk.batch)).collect::<Result<Vec<_>, _>>()?;
                    let options = RecordBatchOptions::new().with_row_count(Some(chunk.batch.num_rows()));
                    let batch = RecordBatch::try_new_with_options(info.schema.clone(), columns, &options)?;
                    Ok(Message::Chunk(StreamChunk::new(chunk.ops, batch)?))
                }
                other => Ok(other),
            })
            .boxed()
    }
}
