//! Cuts a stream plan into fragments at its exchanges: the exchange's input starts a fragment
//! of its own, the downstream side reads it through a merge node, and an edge says how rows are
//! dispatched between them.

use tributary_proto::stream_plan::{
    stream_node::Body as PbBody, DispatchStrategy, DispatcherType, MergeNode, StreamFragment, StreamFragmentEdge,
    StreamFragmentGraph, StreamNode,
};

use super::plan::{Body, Distribution, Exchange, PlanNode};
use crate::error::Result;

#[derive(Default)]
struct Fragmenter {
    fragments: Vec<StreamFragment>,
    edges: Vec<StreamFragmentEdge>,
    next_id: u32,
}

/// The fragment graph of a plan rooted at its materialize node; the root fragment has id 1.
pub fn build_graph(root: &PlanNode, internal_table_count: u32, parallelism: u32) -> Result<StreamFragmentGraph> {
    let mut f = Fragmenter::default();
    f.fragment(root)?;
    f.fragments.sort_by_key(|fr| fr.fragment_id);
    Ok(StreamFragmentGraph { fragments: f.fragments, edges: f.edges, internal_table_count, parallelism })
}

impl Fragmenter {
    fn fragment(&mut self, root: &PlanNode) -> Result<u32> {
        self.next_id += 1;
        let id = self.next_id;
        let mut upstream_table_ids = Vec::new();
        let node = self.stream_node(root, id, &mut upstream_table_ids)?;
        let (singleton, dist_key) = match &root.dist {
            Distribution::Single => (true, vec![]),
            Distribution::Hash(k) | Distribution::UpstreamHash(k, _) => (false, k.iter().map(|c| *c as u32).collect()),
            Distribution::Any | Distribution::Broadcast => (false, vec![]),
        };
        self.fragments.push(StreamFragment { fragment_id: id, node: Some(node), singleton, dist_key, upstream_table_ids });
        Ok(id)
    }

    fn stream_node(&mut self, n: &PlanNode, fragment: u32, upstream_tables: &mut Vec<u32>) -> Result<StreamNode> {
        let fields = n.columns.iter().map(|c| c.field()).collect::<Result<Vec<_>>>()?;
        let stream_key = n.stream_key.iter().map(|k| *k as u32).collect();
        match &n.body {
            Body::Exchange(how) => {
                let upstream = self.fragment(&n.inputs[0])?;
                let (kind, dist_key) = match how {
                    Exchange::Hash(k) => (DispatcherType::Hash, k.iter().map(|c| *c as u32).collect()),
                    Exchange::Simple => (DispatcherType::Simple, vec![]),
                    Exchange::Broadcast => (DispatcherType::Broadcast, vec![]),
                    Exchange::NoShuffle => (DispatcherType::NoShuffle, vec![]),
                };
                self.edges.push(StreamFragmentEdge {
                    upstream_fragment_id: upstream,
                    downstream_fragment_id: fragment,
                    dispatch: Some(DispatchStrategy { r#type: kind as i32, dist_key }),
                });
                Ok(StreamNode {
                    operator_id: n.operator_id,
                    input: vec![],
                    fields,
                    stream_key,
                    identity: format!("StreamMerge {{ upstream_fragment: {upstream} }}"),
                    append_only: n.append_only,
                    body: Some(PbBody::Merge(MergeNode { upstream_fragment_id: upstream })),
                })
            }
            Body::Node(body) => {
                if let PbBody::StreamScan(s) = body {
                    upstream_tables.push(s.table_id);
                }
                let input = n
                    .inputs
                    .iter()
                    .map(|i| self.stream_node(i, fragment, upstream_tables))
                    .collect::<Result<Vec<_>>>()?;
                Ok(StreamNode {
                    operator_id: n.operator_id,
                    input,
                    fields,
                    stream_key,
                    identity: n.identity.to_string(),
                    append_only: n.append_only,
                    body: Some(body.clone()),
                })
            }
        }
    }
}
