//! Exchange between actors: bounded channels keyed by (upstream actor, downstream actor), and
//! dispatchers that route an actor's output rows to its downstream actors.
//!
//! Channels are local (both actors on this node). A channel is created by whichever side asks
//! first, so actors can be built in any order. Remote exchange (actors on other nodes) plugs in
//! behind [`ChannelRegistry`] with a gRPC stream per channel.

use std::collections::HashMap;

use arrow::array::{ArrayRef, UInt32Array};
use arrow::compute::take_record_batch;
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tributary_common::chunk::{Op, StreamChunk};
use tributary_common::encoding::{encode_key_columns, vnode_of_key};
use tributary_common::types::DataType;
use tributary_proto::stream_plan::{Dispatcher as PbDispatcher, DispatcherType};

use super::error::{StreamError, StreamResult};
use super::message::{Barrier, Message};

/// Messages buffered per channel before the sender waits (backpressure).
pub const CHANNEL_CAPACITY: usize = 16;

pub type Sender = mpsc::Sender<Message>;
pub type Receiver = mpsc::Receiver<Message>;

#[derive(Default)]
pub struct ChannelRegistry {
    channels: Mutex<HashMap<(u32, u32), (Option<Sender>, Option<Receiver>)>>,
}

impl ChannelRegistry {
    fn with_entry<T>(&self, up: u32, down: u32, f: impl FnOnce(&mut (Option<Sender>, Option<Receiver>)) -> T) -> T {
        let mut map = self.channels.lock();
        let entry = map.entry((up, down)).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
            (Some(tx), Some(rx))
        });
        let out = f(entry);
        if entry.0.is_none() && entry.1.is_none() {
            map.remove(&(up, down));
        }
        out
    }

    pub fn take_sender(&self, up: u32, down: u32) -> StreamResult<Sender> {
        self.with_entry(up, down, |e| e.0.take())
            .ok_or_else(|| StreamError::Internal(format!("sender {up}->{down} already taken")))
    }

    pub fn take_receiver(&self, up: u32, down: u32) -> StreamResult<Receiver> {
        self.with_entry(up, down, |e| e.1.take())
            .ok_or_else(|| StreamError::Internal(format!("receiver {up}->{down} already taken")))
    }

    /// Forgets channels of actors that were built but never started.
    pub fn remove_actor(&self, actor_id: u32) {
        self.channels.lock().retain(|(up, down), _| *up != actor_id && *down != actor_id);
    }
}

/// One of an actor's outputs: the actors of one downstream fragment and how rows reach them.
pub struct Dispatcher {
    kind: DispatcherType,
    dist_key: Vec<usize>,
    dist_types: Vec<DataType>,
    outputs: Vec<(u32, Sender)>,
    /// HASH: output index per vnode.
    vnode_to_output: Vec<usize>,
    pub downstream_fragment_id: u32,
    upstream_actor: u32,
}

impl Dispatcher {
    /// `types` are the upstream's output column types.
    pub fn new(pb: &PbDispatcher, upstream_actor: u32, types: &[DataType], channels: &ChannelRegistry) -> StreamResult<Self> {
        let kind = DispatcherType::try_from(pb.r#type).map_err(|_| StreamError::plan("unknown dispatcher type"))?;
        let dist_key: Vec<usize> = pb.dist_key.iter().map(|i| *i as usize).collect();
        let dist_types = dist_key
            .iter()
            .map(|i| types.get(*i).cloned().ok_or_else(|| StreamError::plan("dispatch key out of range")))
            .collect::<StreamResult<Vec<_>>>()?;
        let mut outputs = Vec::new();
        for a in &pb.downstream_actor_ids {
            outputs.push((*a, channels.take_sender(upstream_actor, *a)?));
        }
        let vnode_to_output = if kind == DispatcherType::Hash {
            pb.vnode_to_actor
                .iter()
                .map(|a| {
                    outputs.iter().position(|(id, _)| id == a).ok_or_else(|| StreamError::plan("vnode owner is not a downstream actor"))
                })
                .collect::<StreamResult<Vec<_>>>()?
        } else {
            Vec::new()
        };
        if kind == DispatcherType::Hash && vnode_to_output.len() != tributary_common::encoding::VNODE_COUNT {
            return Err(StreamError::plan("hash dispatcher needs an owner per vnode"));
        }
        if outputs.is_empty() {
            return Err(StreamError::plan("dispatcher without downstream actors"));
        }
        Ok(Dispatcher {
            kind,
            dist_key,
            dist_types,
            outputs,
            vnode_to_output,
            downstream_fragment_id: pb.downstream_fragment_id,
            upstream_actor,
        })
    }

    pub fn downstream_actors(&self) -> impl Iterator<Item = u32> + '_ {
        self.outputs.iter().map(|(a, _)| *a)
    }

    pub async fn dispatch_chunk(&mut self, chunk: StreamChunk) -> StreamResult<()> {
        if chunk.batch.num_rows() == 0 {
            return Ok(());
        }
        match self.kind {
            DispatcherType::Hash if self.outputs.len() > 1 => {
                let per_output = self.split_by_vnode(&chunk)?;
                for (i, part) in per_output.into_iter().enumerate() {
                    if let Some(part) = part {
                        send(self.upstream_actor, &self.outputs[i], Message::Chunk(part)).await?;
                    }
                }
                Ok(())
            }
            DispatcherType::Broadcast => {
                for out in &self.outputs {
                    send(self.upstream_actor, out, Message::Chunk(chunk.clone())).await?;
                }
                Ok(())
            }
            _ => send(self.upstream_actor, &self.outputs[0], Message::Chunk(chunk)).await,
        }
    }

    /// Rows per output; an update pair whose halves hash to different outputs becomes a delete
    /// and an insert.
    fn split_by_vnode(&self, chunk: &StreamChunk) -> StreamResult<Vec<Option<StreamChunk>>> {
        let rows = chunk.batch.num_rows();
        let cols: Vec<ArrayRef> = self.dist_key.iter().map(|i| chunk.batch.column(*i).clone()).collect();
        let mut keys = vec![Vec::new(); rows];
        encode_key_columns(&cols, &self.dist_types, &[], &mut keys)?;
        let targets: Vec<usize> = keys.iter().map(|k| self.vnode_to_output[vnode_of_key(k) as usize]).collect();
        let mut indices: Vec<Vec<u32>> = vec![Vec::new(); self.outputs.len()];
        let mut ops: Vec<Vec<Op>> = vec![Vec::new(); self.outputs.len()];
        let mut i = 0;
        while i < rows {
            let op = chunk.ops[i];
            if op == Op::UpdateDelete && i + 1 < rows && targets[i] != targets[i + 1] {
                indices[targets[i]].push(i as u32);
                ops[targets[i]].push(Op::Delete);
                indices[targets[i + 1]].push(i as u32 + 1);
                ops[targets[i + 1]].push(Op::Insert);
                i += 2;
                continue;
            }
            indices[targets[i]].push(i as u32);
            ops[targets[i]].push(op);
            i += 1;
        }
        indices
            .into_iter()
            .zip(ops)
            .map(|(idx, ops)| {
                if idx.is_empty() {
                    return Ok(None);
                }
                let batch = take_record_batch(&chunk.batch, &UInt32Array::from(idx))?;
                Ok(Some(StreamChunk::new(ops, batch)?))
            })
            .collect()
    }

    /// Sends the barrier to every output, then drops the outputs to actors it stops.
    pub async fn dispatch_barrier(&mut self, barrier: &Barrier) -> StreamResult<()> {
        for out in &self.outputs {
            send(self.upstream_actor, out, Message::Barrier(barrier.clone())).await?;
        }
        let stopped = barrier.stopped_actors();
        if !stopped.is_empty() {
            self.outputs.retain(|(a, _)| !stopped.contains(a));
            // A hash dispatcher whose downstream is gone entirely is removed by the caller.
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }
}

/// A downstream actor that is gone (it failed, and the barrier manager reports that) must not
/// fail its upstream too: a table keeps taking writes while one job over it is broken.
async fn send(from: u32, out: &(u32, Sender), msg: Message) -> StreamResult<()> {
    let permit = loop {
        match tokio::time::timeout(SLOW_SEND_WARNING, out.1.reserve()).await {
            Ok(permit) => break permit,
            Err(_) => tracing::warn!(from, to = out.0, "downstream actor has not taken input for a while"),
        }
    };
    match permit {
        Ok(permit) => permit.send(msg),
        Err(_) => tracing::debug!(actor = out.0, "downstream actor is gone"),
    }
    Ok(())
}

/// How long a send may wait for a full channel before the wait is logged (backpressure that
/// lasts this long is worth knowing about).
const SLOW_SEND_WARNING: std::time::Duration = std::time::Duration::from_secs(10);

/// An actor's (or a table's) set of dispatchers, changed by mutations on barriers.
#[derive(Default)]
pub struct DispatcherSet {
    pub dispatchers: Vec<Dispatcher>,
}

impl DispatcherSet {
    pub async fn dispatch_chunk(&mut self, chunk: StreamChunk) -> StreamResult<()> {
        match self.dispatchers.len() {
            0 => Ok(()),
            1 => self.dispatchers[0].dispatch_chunk(chunk).await,
            _ => {
                for d in &mut self.dispatchers {
                    d.dispatch_chunk(chunk.clone()).await?;
                }
                Ok(())
            }
        }
    }

    /// Adds `new` (subscriptions of actors this barrier starts) before sending the barrier, so
    /// the new actors get it as their first message; removes stopped outputs after.
    pub async fn dispatch_barrier(&mut self, barrier: &Barrier, new: Vec<Dispatcher>) -> StreamResult<()> {
        self.dispatchers.extend(new);
        for d in &mut self.dispatchers {
            d.dispatch_barrier(barrier).await?;
        }
        self.dispatchers.retain(|d| !d.is_empty());
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.dispatchers.is_empty()
    }
}
