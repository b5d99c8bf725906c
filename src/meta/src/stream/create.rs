//! CREATE MATERIALIZED VIEW (and CREATE INDEX): the life of a new streaming job.
//!
//! 1. Under the meta lock: validate, allocate ids, place and schedule the job, and reserve its
//!    name (the job is not in the catalog yet, so frontends do not see it).
//! 2. Without the lock (barriers need it): create the view's table on the compute node, build
//!    the actors, start them with an Add mutation on the next barrier — which also subscribes
//!    the scan actors to their upstreams' change streams — and wait until every StreamScan
//!    actor reported its backfill done in a committed barrier.
//! 3. Under the lock again: persist actors and catalog entry, notify frontends.
//!
//! Any failure undoes what compute nodes were told and releases the reservation; nothing of
//! the job stays persisted except the id counters, which only grow.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tributary_proto::catalog::{Table, TableType};
use tributary_proto::common::WorkerNode;
use tributary_proto::compute::{BuildActorsRequest, CreateTableRequest, DropActorsRequest};
use tributary_proto::meta::{CreateMaterializedViewRequest, DdlResponse, JobInfo, ListJobsResponse};
use tributary_proto::stream_plan::{mutation, AddMutation, Mutation, StopMutation, StreamFragmentGraph};

use super::scheduler::{schedule, scanned_relations, ScheduleInput, ScheduledJob, Upstream, UpstreamKind};
use super::{drop_tables_on, internal_table_ids};
use crate::barrier::BarrierHandle;
use crate::catalog::{is_stored, relation_type, type_noun};
use crate::error::{MetaError, MetaResult};
use crate::manager::{MetaContext, MetaState};

/// Creates the job and returns once it is backfilled and visible. The job runs in a task of
/// its own: a client that goes away must not cancel it half way, skipping its cleanup.
pub async fn create_materialized_view(
    ctx: Arc<MetaContext>,
    barrier: BarrierHandle,
    req: CreateMaterializedViewRequest,
) -> MetaResult<DdlResponse> {
    tokio::spawn(async move { create(&ctx, &barrier, req).await })
        .await
        .map_err(|e| MetaError::Internal(format!("materialized view creation task failed: {e}")))?
}

/// Jobs being created, for SHOW JOBS.
pub async fn list_jobs(ctx: &MetaContext) -> ListJobsResponse {
    let state = ctx.state.lock().await;
    let jobs = state
        .catalog
        .creating()
        .map(|t| JobInfo {
            id: t.id,
            name: t.name.clone(),
            definition: t.definition.clone(),
            backfilled_rows: ctx.backfill.rows(t.id),
        })
        .collect();
    ListJobsResponse { jobs }
}

/// A job scheduled and reserved, ready to build.
struct Prepared {
    table: Table,
    job: ScheduledJob,
    host: String,
}

async fn create(ctx: &MetaContext, barrier: &BarrierHandle, req: CreateMaterializedViewRequest) -> MetaResult<DdlResponse> {
    let table = req.table.ok_or_else(|| MetaError::InvalidInput("missing materialized view".into()))?;
    let graph = req.graph.ok_or_else(|| MetaError::InvalidInput("missing stream plan".into()))?;
    let prepared = {
        let mut state = ctx.state.lock().await;
        if let Some(existing) = state.catalog.relation_by_name(table.schema_id, &table.name) {
            if req.if_not_exists {
                if state.catalog.is_creating(existing.id) {
                    return Err(MetaError::ObjectInUse(format!("relation \"{}\" is being created", table.name)));
                }
                let id = existing.id;
                return Ok(DdlResponse { version: state.version(), id });
            }
        }
        prepare(&mut state, table, &graph).await?
    };
    let Prepared { table, job, host } = prepared;
    let job_id = table.id;
    tracing::info!(job_id, name = %table.name, actors = job.actors.len(), %host, "creating materialized view");
    let mut waiter = ctx.backfill.register(job_id, &job.scan_actor_ids);
    let mut injected = false;
    let result = async {
        let mut client = ctx.clients.stream_client(&host)?;
        let compute_err = |source| MetaError::Compute { addr: host.clone(), source };
        client.create_table(CreateTableRequest { table: Some(table.clone()) }).await.map_err(compute_err)?;
        client.build_actors(BuildActorsRequest { actors: job.actors.clone() }).await.map_err(compute_err)?;
        let add = AddMutation { actor_ids: actor_ids(&job), subscriptions: job.subscriptions.clone() };
        injected = true;
        let first_epoch = barrier.inject(Mutation { mutation: Some(mutation::Mutation::Add(add)) }).await?;
        waiter.wait(first_epoch).await?;
        let mut state = ctx.state.lock().await;
        state.fragments.add_job(job_id, job.actors.clone()).await?;
        let change = state.catalog.add_table(table.clone()).await?;
        Ok(state.notify_change(change))
    }
    .await;
    ctx.backfill.remove(job_id);
    match result {
        Ok(version) => {
            tracing::info!(job_id, "materialized view created");
            Ok(DdlResponse { version, id: job_id })
        }
        Err(e) => {
            tracing::warn!(job_id, error = %e, "creating materialized view failed; cleaning up");
            abort(ctx, barrier, &table, &job, &host, injected).await;
            Err(e)
        }
    }
}

fn actor_ids(job: &ScheduledJob) -> Vec<u32> {
    job.actors.iter().map(|a| a.actor_id).collect()
}

/// Validates the request against the catalog, places and schedules the job, and reserves it.
async fn prepare(state: &mut MetaState, mut table: Table, graph: &StreamFragmentGraph) -> MetaResult<Prepared> {
    match table.table_type() {
        TableType::Unspecified => table.table_type = TableType::MaterializedView as i32,
        TableType::MaterializedView | TableType::Index => {}
        other => {
            return Err(MetaError::InvalidInput(format!(
                "CreateMaterializedView cannot create a {}",
                type_noun(other)
            )))
        }
    }
    // What the plan scans is a dependency whether or not the frontend listed it: dropping it
    // must not leave the view without input.
    let scanned = scanned_relations(graph);
    for &id in &scanned {
        if !table.dependent_relations.contains(&id) {
            table.dependent_relations.push(id);
        }
    }
    // Checks names and that every dependency exists and is not being dropped; assigns the id.
    let mut table = state.catalog.prepare_table(table)?;

    let mut upstreams = BTreeMap::new();
    let mut owners = BTreeSet::new();
    for &id in &scanned {
        let Some(upstream) = state.catalog.state().tables.get(&id) else {
            return Err(MetaError::NotFound { kind: "relation", name: id.to_string() });
        };
        let (kind, dist_key) = match relation_type(upstream) {
            // A table without its own distribution key is distributed by its primary key.
            TableType::Unspecified | TableType::Table => {
                let dist_key = if upstream.dist_key.is_empty() { &upstream.pk_indices } else { &upstream.dist_key };
                (UpstreamKind::Table, dist_key.clone())
            }
            // A view's key is exact; empty means a singleton view.
            TableType::MaterializedView | TableType::Index => {
                let actor_ids = state.fragments.materialize_actor_ids(id).ok_or_else(|| {
                    MetaError::Corrupt(format!("{} {} has no actors", type_noun(relation_type(upstream)), upstream.name))
                })?;
                (UpstreamKind::MaterializedView { actor_ids }, upstream.dist_key.clone())
            }
            TableType::View => {
                return Err(MetaError::InvalidPlan(format!("stream scan of view {}: views are expanded", upstream.name)))
            }
        };
        owners.insert(upstream.owner_worker_id);
        upstreams.insert(id, Upstream { kind, dist_key });
    }
    let worker = pick_worker(state, &owners)?;

    let internal_count = graph.internal_table_count;
    let internal_first = state.catalog.alloc_id_range(internal_count).await?;
    table.internal_table_first = internal_first;
    table.internal_table_count = internal_count;
    table.owner_worker_id = worker.id;

    let (next_actor_id, next_fragment_id) = state.fragments.next_ids();
    let job = schedule(&ScheduleInput {
        job_id: table.id,
        graph,
        worker_id: worker.id,
        worker_parallelism: worker.parallelism,
        table_id_base: internal_first.saturating_sub(1),
        dist_key: &table.dist_key,
        upstreams: &upstreams,
        next_actor_id,
        next_fragment_id,
    })?;
    state.fragments.advance_ids(job.next_actor_id, job.next_fragment_id).await?;
    state.catalog.reserve(table.clone());
    Ok(Prepared { table, job, host: worker.host })
}

/// All of a job's actors go on the node that owns its upstreams: exchanges between nodes
/// come later, and until then a scan must run where its upstream's change stream is. A job
/// with no upstream (constant rows) goes to the node that stores the fewest relations.
fn pick_worker(state: &MetaState, owners: &BTreeSet<u32>) -> MetaResult<WorkerNode> {
    let mut owners = owners.iter();
    match (owners.next(), owners.next()) {
        (None, _) => {
            let tables = &state.catalog.state().tables;
            state
                .cluster
                .live_compute_nodes()
                .into_iter()
                .min_by_key(|n| tables.values().filter(|t| is_stored(t) && t.owner_worker_id == n.id).count())
                .ok_or(MetaError::NoComputeNode)
        }
        (Some(&owner), None) => state
            .cluster
            .get(owner)
            .filter(|w| w.alive)
            .map(|w| w.node.clone())
            .ok_or(MetaError::NoComputeNode),
        (Some(_), Some(_)) => Err(MetaError::NotSupported(
            "materialized views over relations stored on different compute nodes are not supported yet".into(),
        )),
    }
}

/// Undoes a failed creation, best effort: every step is tried even if an earlier one failed
/// (the node may be gone, and then there is nothing left to undo on it).
async fn abort(ctx: &MetaContext, barrier: &BarrierHandle, table: &Table, job: &ScheduledJob, host: &str, injected: bool) {
    let job_id = table.id;
    let ids = actor_ids(job);
    // Once the Add barrier went out the actors may be running: stop them on a barrier so that
    // upstreams drop their subscriptions at a clean epoch.
    if injected {
        let stop = StopMutation { actor_ids: ids.clone(), job_ids: vec![job_id] };
        if let Err(e) = barrier.inject(Mutation { mutation: Some(mutation::Mutation::Stop(stop)) }).await {
            tracing::warn!(job_id, error = %e, "cannot stop the actors of a failed job");
        }
    }
    match ctx.clients.stream_client(host) {
        Ok(mut client) => {
            if let Err(e) = client.drop_actors(DropActorsRequest { actor_ids: ids }).await {
                tracing::warn!(job_id, error = %e, "cannot drop the actors of a failed job");
            }
        }
        Err(e) => tracing::warn!(job_id, error = %e, "cannot reach the node of a failed job"),
    }
    if let Err(e) = drop_tables_on(ctx, host, std::iter::once(job_id).chain(internal_table_ids(table))).await {
        tracing::warn!(job_id, error = %e, "cannot drop the tables of a failed job");
    }
    let mut state = ctx.state.lock().await;
    if let Err(e) = state.fragments.remove_jobs(&[job_id]).await {
        // Deleted at the next start: the catalog does not know the job.
        tracing::warn!(job_id, error = %e, "cannot delete the actors of a failed job");
    }
    state.catalog.unreserve(job_id);
}
