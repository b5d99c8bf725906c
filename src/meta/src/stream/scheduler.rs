//! Scheduling: turning a job's fragment graph into actors.
//!
//! Each fragment runs as N actors (1 for singleton fragments), each owning a contiguous share
//! of the vnodes. Every edge becomes a dispatcher on each upstream actor and a merge input on
//! each downstream actor; every StreamScan reads its upstream's change stream (a table's
//! pseudo actor or the upstream view's materializing actors), which the upstream starts sending
//! when the job's first barrier subscribes the scan actors to it.
//!
//! Fragment ids in the plan are the frontend's, local to the plan; meta renumbers them into
//! one id space, because an upstream's dispatchers are keyed by their downstream fragment and
//! two jobs reading the same table must not collide there.
//!
//! Pure: no I/O, so the mapping is unit-tested exhaustively.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use tributary_common::catalog::{table_source_actor_id, TABLE_SOURCE_ACTOR_BASE};
use tributary_common::encoding::{vnode_bitmap, vnode_owners, VNODE_COUNT};
use tributary_proto::stream_plan::stream_node::Body;
use tributary_proto::stream_plan::{
    DispatchStrategy, Dispatcher, DispatcherType, MergeUpstream, StreamActor, StreamFragment, StreamFragmentGraph,
    StreamNode, UpstreamSubscription,
};

use crate::error::MetaError;

/// How a StreamScan of the job reads one upstream relation.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub kind: UpstreamKind,
    /// The upstream's distribution key, in its full column order: the subscription hashes the
    /// change stream on it so each scan actor gets the vnodes it backfills. Empty for a
    /// singleton view (all rows in one vnode), which only singleton fragments may scan.
    pub dist_key: Vec<u32>,
}

#[derive(Debug, Clone)]
pub enum UpstreamKind {
    /// A table: its change stream is the pseudo actor `table_source_actor_id(id)`.
    Table,
    /// A materialized view (or index): the actors of its materializing fragment.
    MaterializedView { actor_ids: Vec<u32> },
}

pub struct ScheduleInput<'a> {
    pub job_id: u32,
    pub graph: &'a StreamFragmentGraph,
    pub worker_id: u32,
    /// Cores of the worker: the parallelism when the plan asks for the default.
    pub worker_parallelism: u32,
    /// Catalog id of the plan's state table 1, minus one.
    pub table_id_base: u32,
    /// The view's distribution key from its catalog entry: the Materialize operator must
    /// store rows by the same key that downstream jobs' subscriptions hash on.
    pub dist_key: &'a [u32],
    /// Every relation the plan's StreamScans read, by id.
    pub upstreams: &'a BTreeMap<u32, Upstream>,
    pub next_actor_id: u32,
    pub next_fragment_id: u32,
}

#[derive(Debug)]
pub struct ScheduledJob {
    pub actors: Vec<StreamActor>,
    /// One per (upstream relation, scanning fragment).
    pub subscriptions: Vec<UpstreamSubscription>,
    /// Actors running a StreamScan or Values: each reports its backfill done.
    pub scan_actor_ids: Vec<u32>,
    pub next_actor_id: u32,
    pub next_fragment_id: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("the fragment graph is empty")]
    Empty,
    #[error("fragment {0} appears more than once")]
    DuplicateFragment(u32),
    #[error("fragment {0} has no operators")]
    MissingNode(u32),
    #[error("edge {up} -> {down} names an unknown fragment")]
    UnknownFragment { up: u32, down: u32 },
    #[error("edge {up} -> {down} appears more than once")]
    DuplicateEdge { up: u32, down: u32 },
    #[error("edge {up} -> {down} has no dispatcher type")]
    NoDispatcherType { up: u32, down: u32 },
    #[error("no-shuffle edge {up} -> {down} joins fragments of different parallelism ({n_up} and {n_down})")]
    NoShuffleParallelism { up: u32, down: u32, n_up: u32, n_down: u32 },
    #[error("simple edge {up} -> {down} needs a singleton downstream, which has {n_down} actors")]
    SimpleToMany { up: u32, down: u32, n_down: u32 },
    #[error("the fragment graph has a cycle")]
    Cycle,
    #[error("fragment {fragment} merges fragment {upstream} without an edge between them")]
    MergeWithoutEdge { fragment: u32, upstream: u32 },
    #[error("fragment {fragment} merges fragment {upstream} twice")]
    DuplicateMerge { fragment: u32, upstream: u32 },
    #[error("edge {up} -> {down} has no Merge operator in fragment {down}")]
    EdgeWithoutMerge { up: u32, down: u32 },
    #[error("expected one Materialize operator, found {0}")]
    MaterializeCount(usize),
    #[error("fragment {0}: upstream_table_ids do not match its StreamScan operators")]
    UpstreamTablesMismatch(u32),
    #[error("StreamScan of relation {0}, which is not an upstream of the job")]
    UnknownUpstream(u32),
    #[error("fragment {fragment} has {actors} actors but scans singleton materialized view {relation}")]
    SingletonUpstream { fragment: u32, relation: u32, actors: u32 },
    #[error("the Materialize operator's distribution key {materialize:?} differs from the view's {catalog:?}")]
    MaterializeDistKey { materialize: Vec<u32>, catalog: Vec<u32> },
    #[error("fragment {0} materializes the view on several actors without a distribution key")]
    MaterializeWithoutDistKey(u32),
    #[error("actor or fragment ids exhausted")]
    IdsExhausted,
}

impl From<ScheduleError> for MetaError {
    fn from(e: ScheduleError) -> Self {
        MetaError::InvalidPlan(e.to_string())
    }
}

fn visit<'a>(node: &'a StreamNode, f: &mut impl FnMut(&'a StreamNode)) {
    f(node);
    for input in &node.input {
        visit(input, f);
    }
}

fn visit_mut(node: &mut StreamNode, f: &mut impl FnMut(&mut StreamNode)) {
    f(node);
    for input in &mut node.input {
        visit_mut(input, f);
    }
}

/// Whether the tree materializes relation `table_id` (the root fragment of its job).
pub(crate) fn contains_materialize(node: &StreamNode, table_id: u32) -> bool {
    let mut found = false;
    visit(node, &mut |n| found |= matches!(&n.body, Some(Body::Materialize(m)) if m.table_id == table_id));
    found
}

fn scans_of(node: &StreamNode) -> Vec<u32> {
    let mut scans = Vec::new();
    visit(node, &mut |n| {
        if let Some(Body::StreamScan(s)) = &n.body {
            if !scans.contains(&s.table_id) {
                scans.push(s.table_id);
            }
        }
    });
    scans
}

fn has_values(node: &StreamNode) -> bool {
    let mut found = false;
    visit(node, &mut |n| found |= matches!(&n.body, Some(Body::Values(_))));
    found
}

/// Every relation the graph's StreamScans read.
pub fn scanned_relations(graph: &StreamFragmentGraph) -> BTreeSet<u32> {
    graph.fragments.iter().filter_map(|f| f.node.as_ref()).flat_map(scans_of).collect()
}

/// `vnode_owners` of `actors.len()` actors, as actor ids.
fn vnode_mapping(actors: &[u32]) -> Vec<u32> {
    vnode_owners(actors.len()).into_iter().filter_map(|i| actors.get(i).copied()).collect()
}

struct Edge<'a> {
    up: usize,
    down: usize,
    ty: DispatcherType,
    strategy: &'a DispatchStrategy,
}

pub fn schedule(input: &ScheduleInput) -> Result<ScheduledJob, ScheduleError> {
    let graph = input.graph;
    let fragments = &graph.fragments;
    if fragments.is_empty() {
        return Err(ScheduleError::Empty);
    }
    let mut index: HashMap<u32, usize> = HashMap::new();
    let mut nodes: Vec<&StreamNode> = Vec::with_capacity(fragments.len());
    for (i, f) in fragments.iter().enumerate() {
        if index.insert(f.fragment_id, i).is_some() {
            return Err(ScheduleError::DuplicateFragment(f.fragment_id));
        }
        nodes.push(f.node.as_ref().ok_or(ScheduleError::MissingNode(f.fragment_id))?);
    }

    // More actors than vnodes would own nothing.
    let requested = if graph.parallelism > 0 { graph.parallelism } else { input.worker_parallelism.max(1) };
    let default_parallelism = requested.min(VNODE_COUNT as u32);
    let parallelism: Vec<u32> = fragments.iter().map(|f| if f.singleton { 1 } else { default_parallelism }).collect();

    let fragment_count = u32::try_from(fragments.len()).map_err(|_| ScheduleError::IdsExhausted)?;
    let next_fragment_id = input.next_fragment_id.checked_add(fragment_count).ok_or(ScheduleError::IdsExhausted)?;
    let global: Vec<u32> = (input.next_fragment_id..next_fragment_id).collect();
    let mut next_actor_id = input.next_actor_id;
    let mut actor_ids: Vec<Vec<u32>> = Vec::with_capacity(fragments.len());
    for &n in &parallelism {
        let end = next_actor_id.checked_add(n).filter(|e| *e <= TABLE_SOURCE_ACTOR_BASE).ok_or(ScheduleError::IdsExhausted)?;
        actor_ids.push((next_actor_id..end).collect());
        next_actor_id = end;
    }

    let edges = validate_edges(graph, &index, &parallelism)?;
    check_acyclic(fragments.len(), &edges)?;

    // Per fragment: the fragments its Merge operators read and the relations it scans.
    let mut merges: Vec<Vec<usize>> = vec![Vec::new(); fragments.len()];
    let mut scans: Vec<Vec<u32>> = Vec::with_capacity(fragments.len());
    let mut materialize_count = 0;
    for (i, f) in fragments.iter().enumerate() {
        let (merged, materializes) = inspect_operators(f, i, nodes[i], &index, &edges, input.dist_key)?;
        merges[i] = merged;
        materialize_count += materializes;
        let scanned = scans_of(nodes[i]);
        let declared: BTreeSet<u32> = f.upstream_table_ids.iter().copied().collect();
        if !declared.is_empty() && declared != scanned.iter().copied().collect() {
            return Err(ScheduleError::UpstreamTablesMismatch(f.fragment_id));
        }
        for t in &scanned {
            match input.upstreams.get(t) {
                None => return Err(ScheduleError::UnknownUpstream(*t)),
                Some(u) if u.dist_key.is_empty() && parallelism[i] != 1 => {
                    return Err(ScheduleError::SingletonUpstream { fragment: f.fragment_id, relation: *t, actors: parallelism[i] });
                }
                Some(_) => {}
            }
        }
        scans.push(scanned);
    }
    if let Some(e) = edges.iter().find(|e| !merges[e.down].contains(&e.up)) {
        return Err(ScheduleError::EdgeWithoutMerge { up: fragments[e.up].fragment_id, down: fragments[e.down].fragment_id });
    }
    if materialize_count != 1 {
        return Err(ScheduleError::MaterializeCount(materialize_count));
    }

    let mut actors = Vec::new();
    let mut subscriptions = Vec::new();
    let mut scan_actor_ids = Vec::new();
    for (i, f) in fragments.iter().enumerate() {
        let mut node = nodes[i].clone();
        visit_mut(&mut node, &mut |n| match &mut n.body {
            Some(Body::Merge(m)) => {
                if let Some(&u) = index.get(&m.upstream_fragment_id) {
                    m.upstream_fragment_id = global[u];
                }
            }
            Some(Body::Materialize(m)) => m.table_id = input.job_id,
            _ => {}
        });
        let n = actor_ids[i].len();
        for (k, &actor_id) in actor_ids[i].iter().enumerate() {
            let dispatchers = edges
                .iter()
                .filter(|e| e.up == i)
                .map(|e| dispatcher(e, &actor_ids[e.down], k, global[e.down]))
                .collect();
            let mut upstreams: Vec<MergeUpstream> = merges[i]
                .iter()
                .map(|&u| {
                    let no_shuffle = edges.iter().any(|e| e.up == u && e.down == i && e.ty == DispatcherType::NoShuffle);
                    // Actor k of a no-shuffle edge hears only from upstream actor k; waiting
                    // for the others' barriers would block it forever.
                    let upstream_actor_ids = if no_shuffle {
                        actor_ids[u].get(k).copied().into_iter().collect()
                    } else {
                        actor_ids[u].clone()
                    };
                    MergeUpstream { upstream_fragment_id: global[u], upstream_actor_ids, upstream_table_id: 0 }
                })
                .collect();
            upstreams.extend(scans[i].iter().map(|&t| MergeUpstream {
                upstream_fragment_id: 0,
                upstream_actor_ids: match input.upstreams.get(&t).map(|u| &u.kind) {
                    Some(UpstreamKind::MaterializedView { actor_ids }) => actor_ids.clone(),
                    Some(UpstreamKind::Table) | None => vec![table_source_actor_id(t)],
                },
                upstream_table_id: t,
            }));
            actors.push(StreamActor {
                actor_id,
                fragment_id: global[i],
                job_id: input.job_id,
                node: Some(node.clone()),
                dispatchers,
                upstreams,
                vnode_bitmap: if f.singleton { Vec::new() } else { vnode_bitmap(k, n) },
                table_id_base: input.table_id_base,
                worker_id: input.worker_id,
            });
        }
        // Values actors emit their rows after the first barrier: like scans, the job is not
        // done before they report.
        if !scans[i].is_empty() || has_values(&nodes[i]) {
            scan_actor_ids.extend_from_slice(&actor_ids[i]);
        }
        for &t in &scans[i] {
            let dist_key = input.upstreams.get(&t).map(|u| u.dist_key.clone()).unwrap_or_default();
            subscriptions.push(UpstreamSubscription {
                upstream_table_id: t,
                dispatcher: Some(Dispatcher {
                    r#type: DispatcherType::Hash as i32,
                    dist_key,
                    downstream_actor_ids: actor_ids[i].clone(),
                    vnode_to_actor: vnode_mapping(&actor_ids[i]),
                    downstream_fragment_id: global[i],
                }),
            });
        }
    }
    Ok(ScheduledJob { actors, subscriptions, scan_actor_ids, next_actor_id, next_fragment_id })
}

/// The fragments fragment `i`'s Merge operators read (each over an edge, once) and how many
/// Materialize operators it has (storing by the catalog's distribution key).
fn inspect_operators(
    f: &StreamFragment,
    i: usize,
    node: &StreamNode,
    index: &HashMap<u32, usize>,
    edges: &[Edge],
    catalog_dist_key: &[u32],
) -> Result<(Vec<usize>, usize), ScheduleError> {
    let mut merges = Vec::new();
    let mut materializes = 0;
    let mut problems = Vec::new();
    visit(node, &mut |n| match &n.body {
        Some(Body::Merge(m)) => {
            let upstream = m.upstream_fragment_id;
            match index.get(&upstream).filter(|u| edges.iter().any(|e| e.up == **u && e.down == i)) {
                None => problems.push(ScheduleError::MergeWithoutEdge { fragment: f.fragment_id, upstream }),
                Some(u) if merges.contains(u) => {
                    problems.push(ScheduleError::DuplicateMerge { fragment: f.fragment_id, upstream })
                }
                Some(&u) => merges.push(u),
            }
        }
        Some(Body::Materialize(m)) => {
            materializes += 1;
            if m.dist_key != catalog_dist_key {
                problems.push(ScheduleError::MaterializeDistKey {
                    materialize: m.dist_key.clone(),
                    catalog: catalog_dist_key.to_vec(),
                });
            } else if m.dist_key.is_empty() && !f.singleton {
                problems.push(ScheduleError::MaterializeWithoutDistKey(f.fragment_id));
            }
        }
        _ => {}
    });
    match problems.into_iter().next() {
        Some(p) => Err(p),
        None => Ok((merges, materializes)),
    }
}

fn validate_edges<'a>(
    graph: &'a StreamFragmentGraph,
    index: &HashMap<u32, usize>,
    parallelism: &[u32],
) -> Result<Vec<Edge<'a>>, ScheduleError> {
    static DEFAULT_STRATEGY: DispatchStrategy = DispatchStrategy { r#type: 0, dist_key: Vec::new() };
    let mut seen = HashSet::new();
    let mut edges = Vec::with_capacity(graph.edges.len());
    for e in &graph.edges {
        let (up_id, down_id) = (e.upstream_fragment_id, e.downstream_fragment_id);
        let (Some(&up), Some(&down)) = (index.get(&up_id), index.get(&down_id)) else {
            return Err(ScheduleError::UnknownFragment { up: up_id, down: down_id });
        };
        if !seen.insert((up, down)) {
            return Err(ScheduleError::DuplicateEdge { up: up_id, down: down_id });
        }
        let strategy = e.dispatch.as_ref().unwrap_or(&DEFAULT_STRATEGY);
        let ty = DispatcherType::try_from(strategy.r#type)
            .ok()
            .filter(|t| *t != DispatcherType::Unspecified)
            .ok_or(ScheduleError::NoDispatcherType { up: up_id, down: down_id })?;
        let (n_up, n_down) = (parallelism[up], parallelism[down]);
        match ty {
            DispatcherType::NoShuffle if n_up != n_down => {
                return Err(ScheduleError::NoShuffleParallelism { up: up_id, down: down_id, n_up, n_down });
            }
            DispatcherType::Simple if n_down != 1 => {
                return Err(ScheduleError::SimpleToMany { up: up_id, down: down_id, n_down });
            }
            _ => {}
        }
        edges.push(Edge { up, down, ty, strategy });
    }
    Ok(edges)
}

fn check_acyclic(fragment_count: usize, edges: &[Edge]) -> Result<(), ScheduleError> {
    let mut in_degree = vec![0usize; fragment_count];
    for e in edges {
        in_degree[e.down] += 1;
    }
    let mut ready: Vec<usize> = (0..fragment_count).filter(|&i| in_degree[i] == 0).collect();
    let mut visited = 0;
    while let Some(i) = ready.pop() {
        visited += 1;
        for e in edges.iter().filter(|e| e.up == i) {
            in_degree[e.down] -= 1;
            if in_degree[e.down] == 0 {
                ready.push(e.down);
            }
        }
    }
    if visited == fragment_count {
        Ok(())
    } else {
        Err(ScheduleError::Cycle)
    }
}

/// The dispatcher upstream actor `k` uses for edge `e`, whose downstream actors are `down`.
fn dispatcher(e: &Edge, down: &[u32], k: usize, downstream_fragment_id: u32) -> Dispatcher {
    let (downstream_actor_ids, vnode_to_actor) = match e.ty {
        DispatcherType::Hash => (down.to_vec(), vnode_mapping(down)),
        DispatcherType::NoShuffle => (down.get(k).copied().into_iter().collect(), Vec::new()),
        DispatcherType::Simple => (down.first().copied().into_iter().collect(), Vec::new()),
        DispatcherType::Broadcast | DispatcherType::Unspecified => (down.to_vec(), Vec::new()),
    };
    Dispatcher {
        r#type: e.ty as i32,
        dist_key: e.strategy.dist_key.clone(),
        downstream_actor_ids,
        vnode_to_actor,
        downstream_fragment_id,
    }
}

#[cfg(test)]
mod tests;
