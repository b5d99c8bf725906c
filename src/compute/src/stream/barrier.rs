//! The node's barrier manager: which actors must pass each barrier, and when they all did.
//!
//! Meta injects barrier E; the node passes it to its tables' change streams and to actors
//! without upstream, and it flows down every actor. Each actor reports E once it passed it on.
//! When every actor expected for E reported, E is collected: the node seals and syncs the
//! epoch in the store and answers meta.

use std::collections::{BTreeMap, HashMap, HashSet};

use parking_lot::Mutex;
use tokio::sync::{mpsc, oneshot};
use tributary_proto::stream_plan::BackfillProgress;

use super::message::{Barrier, Message};

/// Backfill progress of the node's stream scan actors, reported with each collected barrier.
#[derive(Default)]
pub struct BackfillProgressMap {
    inner: Mutex<HashMap<u32, (u64, bool)>>,
}

impl BackfillProgressMap {
    pub fn report(&self, actor_id: u32, rows: u64, done: bool) {
        self.inner.lock().insert(actor_id, (rows, done));
    }

    /// The current progress of every backfilling actor; actors done are reported once more
    /// and then forgotten.
    pub fn take_report(&self) -> Vec<BackfillProgress> {
        let mut inner = self.inner.lock();
        let out = inner.iter().map(|(a, (rows, done))| BackfillProgress { actor_id: *a, rows: *rows, done: *done }).collect();
        inner.retain(|_, (_, done)| !*done);
        out
    }

    pub fn remove(&self, actor_id: u32) {
        self.inner.lock().remove(&actor_id);
    }
}

struct PendingEpoch {
    remaining: HashSet<u32>,
    done: Option<oneshot::Sender<Result<(), String>>>,
}

#[derive(Default)]
struct State {
    /// Actors that have started (passed their first barrier) and not stopped.
    running: HashSet<u32>,
    /// Built actors waiting for the barrier that starts them.
    built: HashSet<u32>,
    /// Actors without upstream and the channel their barriers go to.
    barrier_inputs: HashMap<u32, mpsc::UnboundedSender<Message>>,
    pending: BTreeMap<u64, PendingEpoch>,
    /// An actor failed: every barrier fails until the job is dropped (recovery comes with the
    /// durable store).
    failures: HashMap<u32, String>,
}

#[derive(Default)]
pub struct LocalBarrierManager {
    state: Mutex<State>,
}

impl LocalBarrierManager {
    pub fn register_built(&self, actor_id: u32) {
        self.state.lock().built.insert(actor_id);
    }

    /// An actor without upstream gets its barriers through `tx`.
    pub fn register_barrier_input(&self, actor_id: u32, tx: mpsc::UnboundedSender<Message>) {
        self.state.lock().barrier_inputs.insert(actor_id, tx);
    }

    pub fn forget(&self, actor_id: u32) {
        let mut st = self.state.lock();
        st.built.remove(&actor_id);
        st.running.remove(&actor_id);
        st.barrier_inputs.remove(&actor_id);
        st.failures.remove(&actor_id);
    }

    /// Starts collecting `barrier`: the running actors plus those it starts must report it.
    /// Sends it to source-less actors. Returns a receiver that completes once collected.
    pub fn begin(&self, barrier: &Barrier) -> oneshot::Receiver<Result<(), String>> {
        let (tx, rx) = oneshot::channel();
        let mut st = self.state.lock();
        // Dropping a failed job is how a user gets out of the failure: its actors are gone.
        let stopped = barrier.stopped_actors();
        st.failures.retain(|a, _| !stopped.contains(a));
        if let Some((actor, e)) = st.failures.iter().next() {
            let _ = tx.send(Err(format!("actor {actor} failed: {e}")));
            return rx;
        }
        let starting: Vec<u32> = st.built.iter().copied().filter(|a| barrier.is_add_of(*a)).collect();
        for a in &starting {
            st.built.remove(a);
            st.running.insert(*a);
        }
        let remaining: HashSet<u32> = st.running.clone();
        let inputs: Vec<_> = st
            .barrier_inputs
            .iter()
            .filter(|(a, _)| remaining.contains(a))
            .map(|(a, tx)| (*a, tx.clone()))
            .collect();
        if remaining.is_empty() {
            let _ = tx.send(Ok(()));
        } else {
            st.pending.insert(barrier.epoch.prev, PendingEpoch { remaining, done: Some(tx) });
        }
        drop(st);
        for (_, input) in inputs {
            let _ = input.send(Message::Barrier(barrier.clone()));
        }
        rx
    }

    /// Actors that have not yet reported the barrier closing `epoch` (for diagnosing a stuck
    /// barrier).
    pub fn waiting_for(&self, epoch: u64) -> Vec<u32> {
        let st = self.state.lock();
        let mut v: Vec<u32> = st.pending.get(&epoch).map(|p| p.remaining.iter().copied().collect()).unwrap_or_default();
        v.sort_unstable();
        v
    }

    /// `actor_id` passed `barrier` on.
    pub fn collect(&self, actor_id: u32, barrier: &Barrier) {
        let mut st = self.state.lock();
        if barrier.is_stop(actor_id) {
            st.running.remove(&actor_id);
            st.barrier_inputs.remove(&actor_id);
        }
        let epoch = barrier.epoch.prev;
        if let Some(p) = st.pending.get_mut(&epoch) {
            p.remaining.remove(&actor_id);
            if p.remaining.is_empty() {
                if let Some(done) = st.pending.remove(&epoch).and_then(|mut p| p.done.take()) {
                    let _ = done.send(Ok(()));
                }
            }
        }
    }

    /// `actor_id` stopped with an error: pending and later barriers fail.
    pub fn fail(&self, actor_id: u32, error: String) {
        let mut st = self.state.lock();
        st.running.remove(&actor_id);
        st.barrier_inputs.remove(&actor_id);
        st.failures.insert(actor_id, error.clone());
        for (_, mut p) in std::mem::take(&mut st.pending) {
            if let Some(done) = p.done.take() {
                let _ = done.send(Err(format!("actor {actor_id} failed: {error}")));
            }
        }
    }
}
