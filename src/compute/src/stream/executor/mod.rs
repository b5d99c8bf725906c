//! Executors: one file per operator. An executor owns its inputs and, when executed, becomes a
//! stream of [`Message`]s. Every executor keeps the stream-key rules: a key is never inserted
//! twice without a delete between, and an `UpdateDelete` carries the exact old row.

use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use futures::stream::BoxStream;
use tributary_common::types::DataType;

use super::error::StreamResult;
use super::message::Message;

pub mod agg;
pub mod dynamic_filter;
pub mod filter;
pub mod hash_agg;
pub mod hash_join;
pub mod materialize;
pub mod merge;
pub mod over_window;
pub mod project;
pub mod project_set;
pub mod stream_scan;
pub mod top_n;
pub mod union;
pub mod values;

pub type MessageStream = BoxStream<'static, StreamResult<Message>>;

pub trait Execute: Send + 'static {
    fn execute(self: Box<Self>) -> MessageStream;
}

/// What the operators above an executor need to know of its output.
#[derive(Debug, Clone)]
pub struct ExecutorInfo {
    pub schema: SchemaRef,
    pub types: Vec<DataType>,
    /// Columns that identify a row of the output.
    pub stream_key: Vec<usize>,
    pub identity: String,
}

pub struct Executor {
    pub info: ExecutorInfo,
    inner: Box<dyn Execute>,
}

impl Executor {
    pub fn new(info: ExecutorInfo, inner: impl Execute) -> Self {
        Executor { info, inner: Box::new(inner) }
    }

    pub fn execute(self) -> MessageStream {
        self.inner.execute()
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.info.schema
    }
}

/// An executor made from an existing stream (inputs of tests, merged channels).
pub struct StreamExecutor(pub MessageStream);

impl Execute for StreamExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        self.0
    }
}

pub fn info(schema: SchemaRef, types: Vec<DataType>, stream_key: Vec<usize>, identity: impl Into<String>) -> ExecutorInfo {
    ExecutorInfo { schema, types, stream_key, identity: identity.into() }
}

pub type ArcInfo = Arc<ExecutorInfo>;

/// Builds the operators with state or several inputs (one module each); the builder handles
/// the stateless ones and the leaves.
pub fn build_stateful(
    ctx: &super::builder::BuildContext<'_>,
    node: &tributary_proto::stream_plan::StreamNode,
    body: &tributary_proto::stream_plan::stream_node::Body,
    info: ExecutorInfo,
    inputs: Vec<Executor>,
) -> StreamResult<Executor> {
    use tributary_proto::stream_plan::stream_node::Body;
    match body {
        Body::HashAgg(n) => hash_agg::build(ctx, node, n, info, inputs),
        Body::HashJoin(n) => hash_join::build(ctx, n, info, inputs),
        Body::DynamicFilter(n) => dynamic_filter::build(ctx, n, info, inputs),
        Body::TopN(n) => top_n::build(ctx, n, info, inputs),
        Body::OverWindow(n) => over_window::build(ctx, n, info, inputs),
        Body::ProjectSet(n) => project_set::build(n, info, inputs),
        _ => Err(super::error::StreamError::NotSupported(format!(
            "operator {} ({}) in a streaming job",
            node.operator_id, node.identity
        ))),
    }
}
