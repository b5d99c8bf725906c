//! Union: merges several executors of the same schema, aligning their barriers.

use futures::StreamExt;
use tokio::sync::mpsc;

use super::merge::MergeExecutor;
use super::{Execute, Executor, MessageStream};
use crate::stream::exchange::CHANNEL_CAPACITY;

pub struct UnionExecutor {
    pub inputs: Vec<Executor>,
}

impl Execute for UnionExecutor {
    /// Each input runs as its own task feeding a channel, and a merge aligns them: the same
    /// barrier alignment as an exchange, with the inputs progressing concurrently.
    fn execute(self: Box<Self>) -> MessageStream {
        let mut receivers = Vec::new();
        for (i, input) in self.inputs.into_iter().enumerate() {
            let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
            let mut stream = input.execute();
            let (err_tx, err_rx) = mpsc::channel(1);
            tokio::spawn(async move {
                while let Some(msg) = stream.next().await {
                    match msg {
                        Ok(m) => {
                            if tx.send(m).await.is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            let _ = err_tx.send(e).await;
                            return;
                        }
                    }
                }
            });
            receivers.push(((i as u32, rx), err_rx));
        }
        let (inputs, mut errors): (Vec<_>, Vec<_>) = receivers.into_iter().unzip();
        let merged = Box::new(MergeExecutor { inputs }).execute();
        // An input's error ends its channel; report the error rather than "channel closed".
        merged
            .then(move |msg| {
                let err = match &msg {
                    Err(_) => errors.iter_mut().find_map(|rx| rx.try_recv().ok()),
                    Ok(_) => None,
                };
                futures::future::ready(match err {
                    Some(e) => Err(e),
                    None => msg,
                })
            })
            .boxed()
    }
}
