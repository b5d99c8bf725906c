//! Backfill progress of jobs being created.
//!
//! StreamScan actors report `BackfillProgress` with every completed barrier; the barrier
//! manager feeds the reports of each committed barrier here, and the job creating a
//! materialized view waits until every one of its scan actors reported done. Progress is only
//! counted once its barrier committed: "done" means the snapshot is readable in the view.

use std::collections::{BTreeSet, HashMap};

use parking_lot::Mutex;
use tokio::sync::watch;
use tributary_proto::stream_plan::BackfillProgress;

use crate::error::{MetaError, MetaResult};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Status {
    rows: u64,
    done: bool,
    /// The newest failed barrier (its epoch and why); failures before the job's first barrier
    /// are none of its business, see [`BackfillWaiter::wait`].
    failure: Option<(u64, String)>,
}

struct Job {
    pending: BTreeSet<u32>,
    rows: HashMap<u32, u64>,
    tx: watch::Sender<Status>,
}

impl Job {
    fn status(&self) -> Status {
        Status { rows: self.rows.values().sum(), done: self.pending.is_empty(), failure: self.tx.borrow().failure.clone() }
    }
}

/// Progress of every job being created, keyed by job id.
#[derive(Default)]
pub struct BackfillTracker {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    jobs: HashMap<u32, Job>,
    actor_to_job: HashMap<u32, u32>,
}

/// Waits for one job's backfill.
pub struct BackfillWaiter {
    job_id: u32,
    rx: watch::Receiver<Status>,
}

impl BackfillTracker {
    /// Starts tracking `job_id`, whose StreamScan actors are `scan_actor_ids` (none: the job is
    /// done as soon as its first barrier committed). Call before injecting the job's first
    /// barrier so that no report is missed.
    pub fn register(&self, job_id: u32, scan_actor_ids: &[u32]) -> BackfillWaiter {
        let mut inner = self.inner.lock();
        let pending: BTreeSet<u32> = scan_actor_ids.iter().copied().collect();
        for &a in &pending {
            inner.actor_to_job.insert(a, job_id);
        }
        let (tx, rx) = watch::channel(Status { rows: 0, done: pending.is_empty(), failure: None });
        inner.jobs.insert(job_id, Job { pending, rows: HashMap::new(), tx });
        BackfillWaiter { job_id, rx }
    }

    /// Stops tracking a job (created or failed).
    pub fn remove(&self, job_id: u32) {
        let mut inner = self.inner.lock();
        if let Some(job) = inner.jobs.remove(&job_id) {
            for a in job.pending.iter().chain(job.rows.keys()) {
                inner.actor_to_job.remove(a);
            }
        }
    }

    /// Feeds the backfill reports of a committed barrier.
    pub fn report(&self, progress: &[BackfillProgress]) {
        let mut inner = self.inner.lock();
        let mut touched = BTreeSet::new();
        for p in progress {
            // Reports of actors of jobs already created (or unknown) are ignored.
            let Some(&job_id) = inner.actor_to_job.get(&p.actor_id) else { continue };
            let Some(job) = inner.jobs.get_mut(&job_id) else { continue };
            job.rows.insert(p.actor_id, p.rows);
            if p.done {
                job.pending.remove(&p.actor_id);
            }
            touched.insert(job_id);
        }
        for job_id in touched {
            if let Some(job) = inner.jobs.get(&job_id) {
                job.tx.send_replace(job.status());
            }
        }
    }

    /// A barrier failed: jobs started before it may have lost actors, so their creation fails
    /// (there is no recovery yet that would rebuild them).
    pub fn fail(&self, epoch: u64, reason: &str) {
        let inner = self.inner.lock();
        for job in inner.jobs.values() {
            job.tx.send_modify(|s| s.failure = Some((epoch, reason.to_string())));
        }
    }

    /// Rows backfilled so far by a job's scan actors (0 for unknown jobs).
    pub fn rows(&self, job_id: u32) -> u64 {
        self.inner.lock().jobs.get(&job_id).map(|j| j.rows.values().sum()).unwrap_or(0)
    }
}

impl BackfillWaiter {
    /// Returns once every scan actor of the job reported done in a committed barrier; fails
    /// when a barrier after `first_epoch` (the job's first barrier) failed.
    pub async fn wait(&mut self, first_epoch: u64) -> MetaResult<()> {
        loop {
            {
                let status = self.rx.borrow_and_update();
                if let Some((epoch, reason)) = &status.failure {
                    if *epoch > first_epoch {
                        return Err(MetaError::Barrier(format!(
                            "backfill of job {} failed at epoch {epoch}: {reason}",
                            self.job_id
                        )));
                    }
                }
                if status.done {
                    return Ok(());
                }
            }
            if self.rx.changed().await.is_err() {
                return Err(MetaError::Barrier(format!("job {} is no longer tracked", self.job_id)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn progress(actor_id: u32, rows: u64, done: bool) -> BackfillProgress {
        BackfillProgress { actor_id, rows, done }
    }

    #[tokio::test]
    async fn done_when_every_scan_actor_reported_done() {
        let tracker = BackfillTracker::default();
        let mut waiter = tracker.register(7, &[1, 2]);
        tracker.report(&[progress(1, 10, false), progress(2, 5, true), progress(99, 1, true)]);
        assert_eq!(tracker.rows(7), 15);
        assert!(tokio::time::timeout(Duration::from_millis(20), waiter.wait(0)).await.is_err());
        tracker.report(&[progress(1, 30, true)]);
        assert_eq!(tracker.rows(7), 35);
        assert!(waiter.wait(0).await.is_ok());
        tracker.remove(7);
        assert_eq!(tracker.rows(7), 0);

        // No scan actors: done at once.
        let mut waiter = tracker.register(8, &[]);
        assert!(waiter.wait(0).await.is_ok());
    }

    #[tokio::test]
    async fn only_failures_after_the_first_barrier_count() {
        let tracker = BackfillTracker::default();
        let mut waiter = tracker.register(7, &[1]);
        tracker.fail(100, "node down");
        assert!(tokio::time::timeout(Duration::from_millis(20), waiter.wait(100)).await.is_err());
        tracker.fail(101, "node down");
        let err = waiter.wait(100).await.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("node down"), "{err}");
    }
}
