//! DROP of relations, schemas and databases: one path for all, because any of them may take
//! materialized views whose actors must stop before their state goes.
//!
//! 1. Under the meta lock: plan (dependents first; CASCADE rules, expected type) and mark the
//!    objects as being dropped, so no new job reads them meanwhile.
//! 2. Without the lock: stop the views' actors with a Stop mutation on the next barrier.
//! 3. Under the lock: drop the relations' and state tables' data on compute nodes, delete the
//!    catalog entries and actors, notify.
//!
//! A failure before the catalog changes leaves everything in place (a retry stops nothing
//! twice: compute nodes ignore actors they do not run).

use std::sync::Arc;

use tributary_proto::catalog::TableType;
use tributary_proto::stream_plan::{mutation, Mutation, StopMutation};

use super::{drop_tables_on, internal_table_ids};
use crate::barrier::BarrierHandle;
use crate::catalog::{is_stored, is_streaming_job, CatalogManager, DropPlan};
use crate::error::{MetaError, MetaResult};
use crate::manager::MetaContext;

/// DROP TABLE | MATERIALIZED VIEW | VIEW | INDEX of relation `id` (`expected`: what the
/// statement names; UNSPECIFIED accepts any kind). Returns the catalog version.
pub async fn drop_relation(
    ctx: Arc<MetaContext>,
    barrier: BarrierHandle,
    id: u32,
    cascade: bool,
    expected: TableType,
) -> MetaResult<u64> {
    run(ctx, barrier, move |c| c.plan_drop_relation(id, cascade, expected)).await
}

pub async fn drop_schema(
    ctx: Arc<MetaContext>,
    barrier: BarrierHandle,
    database_id: u32,
    name: String,
    cascade: bool,
) -> MetaResult<u64> {
    run(ctx, barrier, move |c| c.plan_drop_schema(database_id, &name, cascade)).await
}

pub async fn drop_database(ctx: Arc<MetaContext>, barrier: BarrierHandle, name: String) -> MetaResult<u64> {
    run(ctx, barrier, move |c| c.plan_drop_database(&name)).await
}

/// Runs the drop in a task of its own, so a client going away cannot leave objects marked as
/// being dropped.
async fn run(
    ctx: Arc<MetaContext>,
    barrier: BarrierHandle,
    plan: impl FnOnce(&CatalogManager) -> MetaResult<DropPlan> + Send + 'static,
) -> MetaResult<u64> {
    tokio::spawn(async move { execute(&ctx, &barrier, plan).await })
        .await
        .map_err(|e| MetaError::Internal(format!("drop task failed: {e}")))?
}

async fn execute(
    ctx: &MetaContext,
    barrier: &BarrierHandle,
    plan: impl FnOnce(&CatalogManager) -> MetaResult<DropPlan>,
) -> MetaResult<u64> {
    let (plan, stop) = {
        let mut state = ctx.state.lock().await;
        let plan = plan(&state.catalog)?;
        state.catalog.begin_drop(&plan)?;
        let mut stop = StopMutation::default();
        for t in plan.relations.iter().filter(|t| is_streaming_job(t)) {
            stop.job_ids.push(t.id);
            if let Some(actors) = state.fragments.actors(t.id) {
                stop.actor_ids.extend(actors.iter().map(|a| a.actor_id));
            }
        }
        (plan, stop)
    };
    let result = finish(ctx, barrier, &plan, stop).await;
    if result.is_err() {
        ctx.state.lock().await.catalog.abort_drop(&plan);
    }
    result
}

async fn finish(ctx: &MetaContext, barrier: &BarrierHandle, plan: &DropPlan, stop: StopMutation) -> MetaResult<u64> {
    let job_ids = stop.job_ids.clone();
    if !job_ids.is_empty() {
        barrier.inject(Mutation { mutation: Some(mutation::Mutation::Stop(stop)) }).await?;
    }
    let mut state = ctx.state.lock().await;
    // Dependents first, as planned: a table's data goes after the views reading it.
    for t in plan.relations.iter().filter(|t| is_stored(t)) {
        // A relation whose owner is gone has nothing to clean up on a live node.
        let Some(worker) = state.cluster.get(t.owner_worker_id).filter(|w| w.alive) else {
            continue;
        };
        let state_tables = if is_streaming_job(t) { internal_table_ids(t).collect() } else { Vec::new() };
        drop_tables_on(ctx, &worker.node.host, std::iter::once(t.id).chain(state_tables)).await?;
    }
    let change = state.catalog.finish_drop(plan).await?;
    let version = state.notify_change(change);
    // After the catalog: actors without a catalog entry are deleted at the next start anyway.
    if let Err(e) = state.fragments.remove_jobs(&job_ids).await {
        tracing::warn!(jobs = ?job_ids, error = %e, "cannot delete the actors of dropped jobs");
    }
    Ok(version)
}
