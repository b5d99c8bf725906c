//! From a protobuf actor to its executor tree.

use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use tokio::sync::mpsc;
use tributary_common::chunk::batch_from_ipc;
use tributary_common::types::DataType;
use tributary_proto::stream_plan::stream_node::Body;
use tributary_proto::stream_plan::{Field as PbField, StateTableRef, StreamActor, StreamNode};
use tributary_storage::StateStore;

use super::barrier::{BackfillProgressMap, LocalBarrierManager};
use super::error::{StreamError, StreamResult};
use super::exchange::ChannelRegistry;
use super::executor::filter::FilterExecutor;
use super::executor::materialize::MaterializeExecutor;
use super::executor::merge::MergeExecutor;
use super::executor::project::ProjectExecutor;
use super::executor::stream_scan::{ScanCore, StreamScanExecutor};
use super::executor::union::UnionExecutor;
use super::executor::values::ValuesExecutor;
use super::executor::{info, Executor, ExecutorInfo};
use super::expr::decode_expr;
use super::state_table::StateTable;

pub struct BuildContext<'a> {
    pub actor: &'a StreamActor,
    pub store: Arc<dyn StateStore>,
    pub channels: &'a ChannelRegistry,
    pub barriers: &'a LocalBarrierManager,
    pub progress: Arc<BackfillProgressMap>,
}

impl BuildContext<'_> {
    pub fn actor_id(&self) -> u32 {
        self.actor.actor_id
    }

    /// The catalog id of a plan's state table.
    pub fn table_id(&self, r: &Option<StateTableRef>) -> StreamResult<u32> {
        match r {
            Some(r) if r.local_id > 0 => Ok(self.actor.table_id_base + r.local_id),
            _ => Err(StreamError::plan("operator without its state table")),
        }
    }

    /// Vnodes of this actor (empty: all, a singleton).
    pub fn vnodes(&self) -> Vec<u8> {
        self.actor.vnode_bitmap.clone()
    }

    /// A state table of the plan with the given columns and keys.
    pub fn state_table(
        &self,
        r: &Option<StateTableRef>,
        schema: SchemaRef,
        pk: Vec<usize>,
        pk_desc: Vec<bool>,
        dist_key: Vec<usize>,
    ) -> StreamResult<StateTable> {
        StateTable::new(self.store.clone(), self.table_id(r)?, schema, pk, pk_desc, dist_key, self.vnodes())
    }
}

pub fn types_of(fields: &[PbField]) -> StreamResult<Vec<DataType>> {
    fields
        .iter()
        .map(|f| {
            let t = f.data_type.as_ref().ok_or_else(|| StreamError::plan(format!("field {} without a type", f.name)))?;
            Ok(DataType::from_protobuf(t)?)
        })
        .collect()
}

pub fn schema_of(fields: &[PbField]) -> StreamResult<(SchemaRef, Vec<DataType>)> {
    let types = types_of(fields)?;
    let schema = Schema::new(fields.iter().zip(&types).map(|(f, t)| Field::new(&f.name, t.to_arrow(), true)).collect::<Vec<_>>());
    Ok((Arc::new(schema), types))
}

pub fn node_info(node: &StreamNode) -> StreamResult<ExecutorInfo> {
    let (schema, types) = schema_of(&node.fields)?;
    let stream_key = node.stream_key.iter().map(|i| *i as usize).collect();
    Ok(info(schema, types, stream_key, node.identity.clone()))
}

pub fn indices(v: &[u32]) -> Vec<usize> {
    v.iter().map(|i| *i as usize).collect()
}

/// Builds the executor tree of `node`.
pub fn build_node(ctx: &BuildContext<'_>, node: &StreamNode) -> StreamResult<Executor> {
    let body = node.body.as_ref().ok_or_else(|| StreamError::plan(format!("operator {} has no body", node.operator_id)))?;
    let info = node_info(node)?;
    // Leaves first: they have no inputs to build.
    match body {
        Body::Merge(m) => return build_merge(ctx, m.upstream_fragment_id, 0, info),
        Body::StreamScan(_) => return build_stream_scan(ctx, node, info),
        Body::Values(v) => {
            let batch = batch_from_ipc(&v.batch)?;
            let batch = arrow::array::RecordBatch::try_new(info.schema.clone(), batch.columns().to_vec())?;
            let (tx, rx) = mpsc::unbounded_channel();
            ctx.barriers.register_barrier_input(ctx.actor_id(), tx);
            let values = ValuesExecutor { batch, barriers: rx, actor_id: ctx.actor_id(), progress: ctx.progress.clone() };
            return Ok(Executor::new(info, values));
        }
        _ => {}
    }
    let mut inputs = node.input.iter().map(|n| build_node(ctx, n)).collect::<StreamResult<Vec<_>>>()?;
    let one_input = |inputs: &mut Vec<Executor>| -> StreamResult<Executor> {
        if inputs.len() != 1 {
            return Err(StreamError::plan(format!("operator {} needs one input", node.operator_id)));
        }
        Ok(inputs.remove(0))
    };
    Ok(match body {
        Body::Project(p) => {
            let input = one_input(&mut inputs)?;
            let exprs = p.exprs.iter().map(|e| decode_expr(e, input.schema())).collect::<StreamResult<Vec<_>>>()?;
            Executor::new(info.clone(), ProjectExecutor { input, exprs, info })
        }
        Body::Filter(f) => {
            let input = one_input(&mut inputs)?;
            let predicate = f.predicate.as_ref().ok_or_else(|| StreamError::plan("filter without predicate"))?;
            let predicate = decode_expr(predicate, input.schema())?;
            Executor::new(info, FilterExecutor { input, predicate })
        }
        Body::Materialize(m) => {
            let input = one_input(&mut inputs)?;
            let pk = m.pk.iter().map(|c| c.column as usize).collect();
            let pk_desc = m.pk.iter().map(|c| c.descending).collect();
            let table = StateTable::new(
                ctx.store.clone(),
                m.table_id,
                info.schema.clone(),
                pk,
                pk_desc,
                indices(&m.dist_key),
                ctx.vnodes(),
            )?;
            Executor::new(info, MaterializeExecutor { input, table })
        }
        Body::Union(_) => Executor::new(info, UnionExecutor { inputs }),
        other => super::executor::build_stateful(ctx, node, other, info, inputs)?,
    })
}

fn build_merge(ctx: &BuildContext<'_>, upstream_fragment_id: u32, upstream_table_id: u32, info: ExecutorInfo) -> StreamResult<Executor> {
    let up = ctx
        .actor
        .upstreams
        .iter()
        .find(|u| u.upstream_fragment_id == upstream_fragment_id && u.upstream_table_id == upstream_table_id)
        .ok_or_else(|| StreamError::plan(format!("actor {} has no upstream actors for its merge", ctx.actor_id())))?;
    let inputs = up
        .upstream_actor_ids
        .iter()
        .map(|a| Ok((*a, ctx.channels.take_receiver(*a, ctx.actor_id())?)))
        .collect::<StreamResult<Vec<_>>>()?;
    Ok(Executor::new(info, MergeExecutor { inputs }))
}

fn build_stream_scan(ctx: &BuildContext<'_>, node: &StreamNode, info: ExecutorInfo) -> StreamResult<Executor> {
    let Some(Body::StreamScan(scan)) = &node.body else { unreachable!("called for stream scans") };
    let (upstream_schema, upstream_types) = schema_of(&scan.upstream_fields)?;
    let upstream_info = super::executor::info(upstream_schema.clone(), upstream_types.clone(), indices(&scan.upstream_pk), "Upstream");
    let upstream = build_merge(ctx, 0, scan.table_id, upstream_info)?;
    let upstream_pk = indices(&scan.upstream_pk);
    let upstream_dist_key = indices(&scan.upstream_dist_key);
    let snapshot = StateTable::new(
        ctx.store.clone(),
        scan.table_id,
        upstream_schema,
        upstream_pk.clone(),
        scan.upstream_pk_descending.clone(),
        upstream_dist_key.clone(),
        ctx.vnodes(),
    )?;
    let output_indices = indices(&scan.output_indices);
    if output_indices.iter().any(|i| *i >= upstream_types.len()) || output_indices.len() != info.types.len() {
        return Err(StreamError::plan("stream scan outputs do not match the upstream"));
    }
    let core = ScanCore {
        actor_id: ctx.actor_id(),
        snapshot: Arc::new(snapshot),
        upstream_types,
        upstream_pk,
        upstream_pk_desc: scan.upstream_pk_descending.clone(),
        upstream_dist_key,
        output_indices,
        output_schema: info.schema.clone(),
        progress: ctx.progress.clone(),
    };
    Ok(Executor::new(info, StreamScanExecutor { upstream, core }))
}
