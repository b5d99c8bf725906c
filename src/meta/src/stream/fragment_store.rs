//! The actors of every created streaming job, persisted so that a restarted meta knows what
//! runs where (recovery rebuilds them from here), plus the actor and fragment id counters.
//!
//! One key per actor (`stream/actor/<job>/<actor>`, a `StreamActor`), so no job is limited by
//! the size of one value; a job's actors may span several transactions. Actors are written
//! before their job's catalog entry and deleted after it, so the only partial state a crash
//! can leave is actors of a job the catalog does not know, which [`FragmentStore::retain_jobs`]
//! removes at startup.

use std::collections::BTreeMap;
use std::sync::Arc;

use prost::Message;
use tributary_proto::stream_plan::StreamActor;

use super::scheduler::contains_materialize;
use crate::error::{MetaError, MetaResult};
use crate::store::{split_into_txns, MetaStore, Operation};

const ACTOR_PREFIX: &str = "stream/actor/";
const NEXT_ACTOR_ID_KEY: &str = "stream/next_actor_id";
const NEXT_FRAGMENT_ID_KEY: &str = "stream/next_fragment_id";

fn actor_key(job_id: u32, actor_id: u32) -> Vec<u8> {
    format!("{ACTOR_PREFIX}{job_id:010}/{actor_id:010}").into_bytes()
}

fn job_prefix(job_id: u32) -> Vec<u8> {
    format!("{ACTOR_PREFIX}{job_id:010}/").into_bytes()
}

pub struct FragmentStore {
    store: Arc<dyn MetaStore>,
    jobs: BTreeMap<u32, Vec<StreamActor>>,
    next_actor_id: u32,
    next_fragment_id: u32,
}

async fn load_counter(store: &dyn MetaStore, key: &str) -> MetaResult<u32> {
    match store.get(key.as_bytes()).await? {
        Some(v) => {
            let b: [u8; 4] = v.as_slice().try_into().map_err(|_| MetaError::Corrupt(key.to_string()))?;
            Ok(u32::from_be_bytes(b))
        }
        None => Ok(1),
    }
}

impl FragmentStore {
    pub async fn load(store: Arc<dyn MetaStore>) -> MetaResult<Self> {
        let mut jobs: BTreeMap<u32, Vec<StreamActor>> = BTreeMap::new();
        for (_, v) in store.scan_prefix(ACTOR_PREFIX.as_bytes()).await? {
            let actor = StreamActor::decode(v.as_slice()).map_err(|e| MetaError::Corrupt(e.to_string()))?;
            jobs.entry(actor.job_id).or_default().push(actor);
        }
        let next_actor_id = load_counter(store.as_ref(), NEXT_ACTOR_ID_KEY).await?;
        let next_fragment_id = load_counter(store.as_ref(), NEXT_FRAGMENT_ID_KEY).await?;
        Ok(FragmentStore { store, jobs, next_actor_id, next_fragment_id })
    }

    /// The next free actor and fragment ids.
    pub fn next_ids(&self) -> (u32, u32) {
        (self.next_actor_id, self.next_fragment_id)
    }

    /// Persists the counters past ids a new job took. Done before the job's actors exist
    /// anywhere, so ids are never reused even if the job fails or meta restarts.
    pub async fn advance_ids(&mut self, next_actor_id: u32, next_fragment_id: u32) -> MetaResult<()> {
        self.store
            .txn(vec![], vec![
                Operation::put(NEXT_ACTOR_ID_KEY.as_bytes(), next_actor_id.to_be_bytes().to_vec()),
                Operation::put(NEXT_FRAGMENT_ID_KEY.as_bytes(), next_fragment_id.to_be_bytes().to_vec()),
            ])
            .await?;
        self.next_actor_id = next_actor_id;
        self.next_fragment_id = next_fragment_id;
        Ok(())
    }

    pub fn actors(&self, job_id: u32) -> Option<&[StreamActor]> {
        self.jobs.get(&job_id).map(Vec::as_slice)
    }

    pub fn job_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.jobs.keys().copied()
    }

    /// The actors of the job's root fragment (the one materializing it): downstream jobs
    /// subscribe to their change streams.
    pub fn materialize_actor_ids(&self, job_id: u32) -> Option<Vec<u32>> {
        let actors = self.jobs.get(&job_id)?;
        let ids: Vec<u32> = actors
            .iter()
            .filter(|a| a.node.as_ref().is_some_and(|n| contains_materialize(n, job_id)))
            .map(|a| a.actor_id)
            .collect();
        (!ids.is_empty()).then_some(ids)
    }

    pub async fn add_job(&mut self, job_id: u32, actors: Vec<StreamActor>) -> MetaResult<()> {
        let items: Vec<(Operation, ())> =
            actors.iter().map(|a| (Operation::put(actor_key(job_id, a.actor_id), a.encode_to_vec()), ())).collect();
        for batch in split_into_txns(items) {
            self.store.txn(vec![], batch.into_iter().map(|(op, ())| op).collect()).await?;
        }
        self.jobs.insert(job_id, actors);
        Ok(())
    }

    pub async fn remove_jobs(&mut self, job_ids: &[u32]) -> MetaResult<()> {
        for &job_id in job_ids {
            let keys = self.store.scan_prefix(&job_prefix(job_id)).await?;
            let items: Vec<(Operation, ())> = keys.into_iter().map(|(k, _)| (Operation::delete(k), ())).collect();
            for batch in split_into_txns(items) {
                self.store.txn(vec![], batch.into_iter().map(|(op, ())| op).collect()).await?;
            }
            self.jobs.remove(&job_id);
        }
        Ok(())
    }

    /// Deletes the actors of jobs `keep` rejects: left over from a creation or drop that a
    /// crash interrupted.
    pub async fn retain_jobs(&mut self, keep: impl Fn(u32) -> bool) -> MetaResult<()> {
        let stale: Vec<u32> = self.jobs.keys().copied().filter(|id| !keep(*id)).collect();
        if !stale.is_empty() {
            tracing::info!(jobs = ?stale, "deleting actors of jobs the catalog does not know");
        }
        self.remove_jobs(&stale).await
    }
}

#[cfg(test)]
mod tests {
    use tributary_proto::stream_plan::stream_node::Body;
    use tributary_proto::stream_plan::{MaterializeNode, StreamNode};

    use super::*;
    use crate::store::MemoryMetaStore;

    fn actor(job_id: u32, actor_id: u32, materialize: bool) -> StreamActor {
        let body = materialize.then(|| Body::Materialize(MaterializeNode { table_id: job_id, ..Default::default() }));
        StreamActor { actor_id, job_id, node: Some(StreamNode { body, ..Default::default() }), ..Default::default() }
    }

    #[tokio::test]
    async fn jobs_survive_a_reload_and_stale_ones_go() {
        let store: Arc<dyn MetaStore> = Arc::new(MemoryMetaStore::new());
        let mut fragments = FragmentStore::load(store.clone()).await.expect("load");
        assert_eq!(fragments.next_ids(), (1, 1));
        fragments.advance_ids(301, 3).await.expect("ids");
        let many: Vec<StreamActor> = (1..=300).map(|i| actor(10, i, i > 290)).collect();
        fragments.add_job(10, many).await.expect("add");
        fragments.add_job(11, vec![actor(11, 300, true)]).await.expect("add");

        let mut reloaded = FragmentStore::load(store.clone()).await.expect("reload");
        assert_eq!(reloaded.next_ids(), (301, 3));
        assert_eq!(reloaded.actors(10).map(<[_]>::len), Some(300));
        assert_eq!(reloaded.materialize_actor_ids(10), Some((291..=300).collect()));
        reloaded.retain_jobs(|id| id == 11).await.expect("retain");
        assert_eq!(reloaded.job_ids().collect::<Vec<_>>(), vec![11]);
        let again = FragmentStore::load(store).await.expect("reload");
        assert_eq!(again.job_ids().collect::<Vec<_>>(), vec![11]);
        assert!(again.materialize_actor_ids(12).is_none());
    }
}
