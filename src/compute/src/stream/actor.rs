//! An actor: one instance of a fragment — an executor tree whose output goes to dispatchers —
//! running as a tokio task.

use std::sync::Arc;

use futures::StreamExt;
use tokio::task::JoinHandle;
use tributary_common::types::DataType;
use tributary_proto::stream_plan::StreamActor;

use super::barrier::LocalBarrierManager;
use super::error::StreamResult;
use super::exchange::{ChannelRegistry, Dispatcher, DispatcherSet};
use super::executor::Executor;
use super::message::Message;

pub struct Actor {
    pub actor_id: u32,
    /// The materialized view this actor stores, when its root is a Materialize: views created
    /// over that view subscribe to its changes here.
    pub materializes: Option<u32>,
    pub root: Executor,
    pub output_types: Vec<DataType>,
    pub dispatchers: DispatcherSet,
    pub channels: Arc<ChannelRegistry>,
    pub barriers: Arc<LocalBarrierManager>,
}

impl Actor {
    pub fn new(
        pb: &StreamActor,
        root: Executor,
        materializes: Option<u32>,
        channels: Arc<ChannelRegistry>,
        barriers: Arc<LocalBarrierManager>,
    ) -> StreamResult<Self> {
        let output_types = root.info.types.clone();
        let mut dispatchers = DispatcherSet::default();
        for d in &pb.dispatchers {
            dispatchers.dispatchers.push(Dispatcher::new(d, pb.actor_id, &output_types, &channels)?);
        }
        Ok(Actor { actor_id: pb.actor_id, materializes, root, output_types, dispatchers, channels, barriers })
    }

    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            let id = self.actor_id;
            let barriers = self.barriers.clone();
            if let Err(e) = self.run().await {
                tracing::error!(actor = id, error = %e, "actor failed");
                barriers.fail(id, e.to_string());
            }
        })
    }

    async fn run(mut self) -> StreamResult<()> {
        let mut stream = std::mem::replace(
            &mut self.root,
            Executor::new(
                super::executor::info(Arc::new(arrow::datatypes::Schema::empty()), vec![], vec![], "running"),
                super::executor::StreamExecutor(futures::stream::empty().boxed()),
            ),
        )
        .execute();
        while let Some(msg) = stream.next().await {
            match msg? {
                Message::Chunk(chunk) => self.dispatchers.dispatch_chunk(chunk).await?,
                Message::Barrier(barrier) => {
                    let new = match self.materializes {
                        Some(view) => barrier
                            .subscriptions_to(view)
                            .iter()
                            .map(|d| Dispatcher::new(d, self.actor_id, &self.output_types, &self.channels))
                            .collect::<StreamResult<Vec<_>>>()?,
                        None => Vec::new(),
                    };
                    self.dispatchers.dispatch_barrier(&barrier, new).await?;
                    self.barriers.collect(self.actor_id, &barrier);
                    if barrier.is_stop(self.actor_id) {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    }
}
