//! Messages between executors and actors.

use std::collections::HashSet;
use std::sync::Arc;

use tributary_common::chunk::StreamChunk;
use tributary_proto::stream_plan::{mutation, Dispatcher, Mutation};

/// The epoch a barrier closes (`prev`) and the one it opens (`curr`): data after the barrier
/// belongs to `curr`, and a stateful executor writes its changes since the previous barrier at
/// `prev` when it sees this barrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochPair {
    pub curr: u64,
    pub prev: u64,
}

#[derive(Debug, Clone)]
pub struct Barrier {
    pub epoch: EpochPair,
    pub mutation: Option<Arc<Mutation>>,
}

impl Barrier {
    pub fn new(prev: u64, curr: u64, mutation: Option<Arc<Mutation>>) -> Self {
        Barrier { epoch: EpochPair { curr, prev }, mutation }
    }

    /// Whether the barrier stops `actor_id` (the actor exits after passing it on).
    pub fn is_stop(&self, actor_id: u32) -> bool {
        matches!(self.mutation.as_deref(), Some(Mutation { mutation: Some(mutation::Mutation::Stop(s)) }) if s.actor_ids.contains(&actor_id))
    }

    /// Actors this barrier stops.
    pub fn stopped_actors(&self) -> HashSet<u32> {
        match self.mutation.as_deref() {
            Some(Mutation { mutation: Some(mutation::Mutation::Stop(s)) }) => s.actor_ids.iter().copied().collect(),
            _ => HashSet::new(),
        }
    }

    /// Whether the barrier starts `actor_id` (its first barrier).
    pub fn is_add_of(&self, actor_id: u32) -> bool {
        matches!(self.mutation.as_deref(), Some(Mutation { mutation: Some(mutation::Mutation::Add(a)) }) if a.actor_ids.contains(&actor_id))
    }

    /// Dispatchers that new downstream actors asked the relation `table_id` to add.
    pub fn subscriptions_to(&self, table_id: u32) -> Vec<Dispatcher> {
        match self.mutation.as_deref() {
            Some(Mutation { mutation: Some(mutation::Mutation::Add(a)) }) => a
                .subscriptions
                .iter()
                .filter(|s| s.upstream_table_id == table_id)
                .filter_map(|s| s.dispatcher.clone())
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Message {
    Chunk(StreamChunk),
    Barrier(Barrier),
}

impl Message {
    pub fn as_barrier(&self) -> Option<&Barrier> {
        match self {
            Message::Barrier(b) => Some(b),
            _ => None,
        }
    }
}
