//! Merge: the receiving end of an exchange. Reads the channels of every upstream actor and
//! aligns barriers: once an input delivered barrier E, it is not read again until every input
//! delivered E; then E goes out once.

use std::future::poll_fn;
use std::task::Poll;

use async_stream::try_stream;

use super::{Execute, MessageStream};
use crate::stream::error::StreamError;
use crate::stream::exchange::Receiver;
use crate::stream::message::{Barrier, Message};

pub struct MergeExecutor {
    /// (upstream actor id, channel)
    pub inputs: Vec<(u32, Receiver)>,
}

impl Execute for MergeExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        let mut inputs = self.inputs;
        Box::pin(try_stream! {
            let n = inputs.len();
            if n == 0 {
                Err(StreamError::plan("merge without inputs"))?;
            }
            let mut blocked = vec![false; n];
            let mut blocked_count = 0usize;
            let mut pending_barrier: Option<Barrier> = None;
            let mut start = 0usize;
            loop {
                let (i, msg) = poll_fn(|cx| {
                    for k in 0..n {
                        let i = (start + k) % n;
                        if blocked[i] {
                            continue;
                        }
                        match inputs[i].1.poll_recv(cx) {
                            Poll::Ready(msg) => return Poll::Ready((i, msg)),
                            Poll::Pending => {}
                        }
                    }
                    Poll::Pending
                })
                .await;
                // Rotate the first input polled so no upstream starves the others.
                start = (i + 1) % n;
                let Some(msg) = msg else {
                    Err(StreamError::ChannelClosed(inputs[i].0))?;
                    unreachable!()
                };
                match msg {
                    Message::Chunk(c) => yield Message::Chunk(c),
                    Message::Barrier(b) => {
                        if let Some(p) = &pending_barrier {
                            if p.epoch != b.epoch {
                                Err(StreamError::Internal(format!(
                                    "misaligned barriers: {:?} and {:?}", p.epoch, b.epoch
                                )))?;
                            }
                        }
                        blocked[i] = true;
                        blocked_count += 1;
                        let stopped = b.stopped_actors();
                        pending_barrier = Some(b);
                        if blocked_count == n {
                            let barrier = pending_barrier.take().expect("barrier is pending");
                            blocked.iter_mut().for_each(|b| *b = false);
                            blocked_count = 0;
                            // Upstream actors the barrier stops send nothing more.
                            if !stopped.is_empty() {
                                inputs.retain(|(a, _)| !stopped.contains(a));
                                blocked = vec![false; inputs.len()];
                            }
                            let stop_all = inputs.is_empty();
                            yield Message::Barrier(barrier);
                            if stop_all {
                                break;
                            }
                        }
                    }
                }
            }
        })
    }
}
