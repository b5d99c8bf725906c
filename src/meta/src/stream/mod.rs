//! Streaming jobs: materialized views (and indexes) as actors on compute nodes.
//!
//! - [`scheduler`]: a job's fragment graph → actors, dispatchers, upstream subscriptions.
//! - [`create`]: CREATE MATERIALIZED VIEW — schedule, build actors, start them with an Add
//!   mutation on a barrier, wait for backfill, persist.
//! - [`drop`]: DROP of any relation (and of schemas and databases), stopping the actors of
//!   the views it takes with a Stop mutation first.
//! - [`fragment_store`]: the persisted actors of created jobs.
//! - [`backfill`]: backfill progress reported with barriers.
//!
//! Rebuilding actors after a compute node or meta restart is recovery, a later step: for now
//! a restarted node gets its views' tables back (empty) but no actors.

pub mod backfill;
pub mod create;
pub mod drop;
pub mod fragment_store;
pub mod scheduler;

use tributary_proto::compute::stream_service_client::StreamServiceClient;
use tributary_proto::compute::DropTableRequest;
use tonic::transport::Channel;

use crate::error::{MetaError, MetaResult};
use crate::manager::MetaContext;

/// Drops tables (relations or state tables) on the compute node at `host`.
pub(crate) async fn drop_tables_on(ctx: &MetaContext, host: &str, table_ids: impl IntoIterator<Item = u32>) -> MetaResult<()> {
    let mut client: StreamServiceClient<Channel> = ctx.clients.stream_client(host)?;
    for table_id in table_ids {
        client
            .drop_table(DropTableRequest { table_id })
            .await
            .map_err(|source| MetaError::Compute { addr: host.to_string(), source })?;
    }
    Ok(())
}

/// The catalog ids of a job's state tables.
pub(crate) fn internal_table_ids(t: &tributary_proto::catalog::Table) -> impl Iterator<Item = u32> {
    let first = t.internal_table_first;
    (0..t.internal_table_count).filter_map(move |i| first.checked_add(i))
}

#[cfg(test)]
mod tests;
