use tributary_proto::stream_plan::{
    HashAggNode, MaterializeNode, MergeNode, StreamFragment, StreamFragmentEdge, StreamScanNode,
};

use super::*;

const JOB: u32 = 2000;
const TABLE: u32 = 1001;
const MV: u32 = 1500;
const SINGLETON_MV: u32 = 1600;
const WORKER: u32 = 3;

fn node(body: Body, input: Vec<StreamNode>) -> StreamNode {
    StreamNode { body: Some(body), input, ..Default::default() }
}

fn scan(table_id: u32) -> StreamNode {
    node(Body::StreamScan(StreamScanNode { table_id, ..Default::default() }), vec![])
}

fn merge(upstream_fragment_id: u32) -> StreamNode {
    node(Body::Merge(MergeNode { upstream_fragment_id }), vec![])
}

fn agg(input: StreamNode) -> StreamNode {
    node(Body::HashAgg(HashAggNode::default()), vec![input])
}

fn materialize(input: StreamNode) -> StreamNode {
    node(Body::Materialize(MaterializeNode { dist_key: vec![0], ..Default::default() }), vec![input])
}

fn fragment(fragment_id: u32, node: StreamNode, singleton: bool) -> StreamFragment {
    StreamFragment { fragment_id, node: Some(node), singleton, ..Default::default() }
}

fn edge(up: u32, down: u32, ty: DispatcherType, dist_key: &[u32]) -> StreamFragmentEdge {
    StreamFragmentEdge {
        upstream_fragment_id: up,
        downstream_fragment_id: down,
        dispatch: Some(DispatchStrategy { r#type: ty as i32, dist_key: dist_key.to_vec() }),
    }
}

fn graph(fragments: Vec<StreamFragment>, edges: Vec<StreamFragmentEdge>, parallelism: u32) -> StreamFragmentGraph {
    StreamFragmentGraph { fragments, edges, internal_table_count: 2, parallelism }
}

fn upstreams() -> BTreeMap<u32, Upstream> {
    BTreeMap::from([
        (TABLE, Upstream { kind: UpstreamKind::Table, dist_key: vec![0] }),
        (MV, Upstream { kind: UpstreamKind::MaterializedView { actor_ids: vec![7, 8] }, dist_key: vec![1, 2] }),
        (SINGLETON_MV, Upstream { kind: UpstreamKind::MaterializedView { actor_ids: vec![9] }, dist_key: vec![] }),
    ])
}

fn run(graph: &StreamFragmentGraph, worker_parallelism: u32) -> Result<ScheduledJob, ScheduleError> {
    let upstreams = upstreams();
    schedule(&ScheduleInput {
        job_id: JOB,
        graph,
        worker_id: WORKER,
        worker_parallelism,
        table_id_base: 2000,
        dist_key: &[0],
        upstreams: &upstreams,
        next_actor_id: 100,
        next_fragment_id: 50,
    })
}

fn actors_of(job: &ScheduledJob, fragment_id: u32) -> Vec<&StreamActor> {
    job.actors.iter().filter(|a| a.fragment_id == fragment_id).collect()
}

fn ids(actors: &[&StreamActor]) -> Vec<u32> {
    actors.iter().map(|a| a.actor_id).collect()
}

fn expected_mapping(actors: &[u32]) -> Vec<u32> {
    vnode_owners(actors.len()).into_iter().map(|i| actors[i]).collect()
}

fn merge_targets(node: &StreamNode) -> Vec<u32> {
    let mut out = Vec::new();
    visit(node, &mut |n| {
        if let Some(Body::Merge(m)) = &n.body {
            out.push(m.upstream_fragment_id);
        }
    });
    out
}

#[test]
fn one_fragment_over_a_table() {
    let g = graph(vec![fragment(1, materialize(scan(TABLE)), false)], vec![], 0);
    let job = run(&g, 4).expect("schedule");
    assert_eq!(ids(&job.actors.iter().collect::<Vec<_>>()), vec![100, 101, 102, 103]);
    assert_eq!((job.next_actor_id, job.next_fragment_id), (104, 51));
    for (k, a) in job.actors.iter().enumerate() {
        assert_eq!((a.fragment_id, a.job_id, a.worker_id, a.table_id_base), (50, JOB, WORKER, 2000));
        assert_eq!(a.vnode_bitmap, vnode_bitmap(k, 4));
        assert!(a.dispatchers.is_empty());
        assert_eq!(
            a.upstreams,
            vec![MergeUpstream {
                upstream_fragment_id: 0,
                upstream_actor_ids: vec![table_source_actor_id(TABLE)],
                upstream_table_id: TABLE,
            }]
        );
        let node = a.node.as_ref().expect("node");
        assert!(contains_materialize(node, JOB), "Materialize gets the job id");
    }
    assert_eq!(job.scan_actor_ids, vec![100, 101, 102, 103]);
    assert_eq!(job.subscriptions.len(), 1);
    let sub = &job.subscriptions[0];
    assert_eq!(sub.upstream_table_id, TABLE);
    let d = sub.dispatcher.as_ref().expect("dispatcher");
    assert_eq!(d.r#type, DispatcherType::Hash as i32);
    assert_eq!(d.dist_key, vec![0]);
    assert_eq!(d.downstream_actor_ids, vec![100, 101, 102, 103]);
    assert_eq!(d.vnode_to_actor, expected_mapping(&[100, 101, 102, 103]));
    assert_eq!(d.vnode_to_actor.len(), VNODE_COUNT);
    assert_eq!(d.downstream_fragment_id, 50);
}

#[test]
fn hash_edge_maps_every_vnode_to_its_owner() {
    let g = graph(
        vec![fragment(1, scan(TABLE), false), fragment(2, materialize(agg(merge(1))), false)],
        vec![edge(1, 2, DispatcherType::Hash, &[3])],
        3,
    );
    // The plan's parallelism wins over the worker's cores.
    let job = run(&g, 8).expect("schedule");
    let (up, down) = (actors_of(&job, 50), actors_of(&job, 51));
    assert_eq!((ids(&up), ids(&down)), (vec![100, 101, 102], vec![103, 104, 105]));
    for a in &up {
        assert_eq!(a.dispatchers.len(), 1);
        let d = &a.dispatchers[0];
        assert_eq!(d.r#type, DispatcherType::Hash as i32);
        assert_eq!(d.dist_key, vec![3]);
        assert_eq!(d.downstream_actor_ids, vec![103, 104, 105]);
        assert_eq!(d.vnode_to_actor, expected_mapping(&[103, 104, 105]));
        assert_eq!(d.downstream_fragment_id, 51);
    }
    for (k, a) in down.iter().enumerate() {
        assert_eq!(a.upstreams, vec![MergeUpstream { upstream_fragment_id: 50, upstream_actor_ids: vec![100, 101, 102], upstream_table_id: 0 }]);
        assert_eq!(a.vnode_bitmap, vnode_bitmap(k, 3));
        // The Merge operator names the renumbered fragment.
        assert_eq!(merge_targets(a.node.as_ref().expect("node")), vec![50]);
    }
    // Only the scanning fragment backfills.
    assert_eq!(job.scan_actor_ids, vec![100, 101, 102]);
    assert_eq!(job.subscriptions[0].dispatcher.as_ref().map(|d| d.downstream_fragment_id), Some(50));
}

#[test]
fn simple_edge_into_a_singleton() {
    let g = graph(
        vec![fragment(1, scan(TABLE), false), fragment(2, materialize(agg(merge(1))), true)],
        vec![edge(1, 2, DispatcherType::Simple, &[])],
        2,
    );
    let job = run(&g, 4).expect("schedule");
    let (up, down) = (actors_of(&job, 50), actors_of(&job, 51));
    assert_eq!(ids(&down), vec![102]);
    assert!(down[0].vnode_bitmap.is_empty(), "a singleton owns every vnode");
    for a in &up {
        assert_eq!(a.dispatchers[0].r#type, DispatcherType::Simple as i32);
        assert_eq!(a.dispatchers[0].downstream_actor_ids, vec![102]);
        assert!(a.dispatchers[0].vnode_to_actor.is_empty());
    }
    assert_eq!(down[0].upstreams[0].upstream_actor_ids, vec![100, 101]);

    let bad = graph(
        vec![fragment(1, scan(TABLE), false), fragment(2, materialize(merge(1)), false)],
        vec![edge(1, 2, DispatcherType::Simple, &[])],
        2,
    );
    assert_eq!(run(&bad, 4).err(), Some(ScheduleError::SimpleToMany { up: 1, down: 2, n_down: 2 }));
}

#[test]
fn broadcast_edge_reaches_every_downstream_actor() {
    let g = graph(
        vec![fragment(1, scan(TABLE), true), fragment(2, materialize(merge(1)), false)],
        vec![edge(1, 2, DispatcherType::Broadcast, &[])],
        2,
    );
    let job = run(&g, 4).expect("schedule");
    let up = actors_of(&job, 50);
    assert_eq!(ids(&up), vec![100]);
    assert_eq!(up[0].dispatchers[0].r#type, DispatcherType::Broadcast as i32);
    assert_eq!(up[0].dispatchers[0].downstream_actor_ids, vec![101, 102]);
    for a in actors_of(&job, 51) {
        assert_eq!(a.upstreams[0].upstream_actor_ids, vec![100]);
    }
}

#[test]
fn no_shuffle_edge_pairs_actors() {
    let g = graph(
        vec![fragment(1, scan(TABLE), false), fragment(2, materialize(merge(1)), false)],
        vec![edge(1, 2, DispatcherType::NoShuffle, &[0])],
        3,
    );
    let job = run(&g, 4).expect("schedule");
    let (up, down) = (actors_of(&job, 50), actors_of(&job, 51));
    for k in 0..3 {
        assert_eq!(up[k].dispatchers[0].r#type, DispatcherType::NoShuffle as i32);
        assert_eq!(up[k].dispatchers[0].downstream_actor_ids, vec![down[k].actor_id]);
        assert_eq!(down[k].upstreams[0].upstream_actor_ids, vec![up[k].actor_id]);
        assert_eq!(up[k].vnode_bitmap, down[k].vnode_bitmap);
    }

    let bad = graph(
        vec![fragment(1, scan(TABLE), false), fragment(2, materialize(merge(1)), true)],
        vec![edge(1, 2, DispatcherType::NoShuffle, &[])],
        3,
    );
    assert_eq!(run(&bad, 4).err(), Some(ScheduleError::NoShuffleParallelism { up: 1, down: 2, n_up: 3, n_down: 1 }));
}

#[test]
fn views_read_the_upstream_views_materializing_actors() {
    // A join of a table and a view, both scanned in one fragment; the view is also scanned in
    // a second fragment (a self-join): one subscription per (relation, fragment).
    let join = node(Body::HashJoin(Default::default()), vec![scan(TABLE), scan(MV)]);
    let g = graph(
        vec![fragment(1, join, false), fragment(2, scan(MV), false), fragment(3, materialize(merge(2)), false)],
        vec![edge(2, 3, DispatcherType::Hash, &[0])],
        2,
    );
    let mut g = g;
    g.fragments[0].upstream_table_ids = vec![MV, TABLE];
    // Fragment 1 feeds nothing, which the scheduler leaves to the planner; give it an edge.
    g.edges.push(edge(1, 3, DispatcherType::Hash, &[0]));
    g.fragments[2].node = Some(materialize(node(Body::HashJoin(Default::default()), vec![merge(1), merge(2)])));
    let job = run(&g, 4).expect("schedule");
    let first = actors_of(&job, 50);
    assert_eq!(
        first[0].upstreams,
        vec![
            MergeUpstream { upstream_fragment_id: 0, upstream_actor_ids: vec![table_source_actor_id(TABLE)], upstream_table_id: TABLE },
            MergeUpstream { upstream_fragment_id: 0, upstream_actor_ids: vec![7, 8], upstream_table_id: MV },
        ]
    );
    let subs: Vec<(u32, u32, Vec<u32>)> = job
        .subscriptions
        .iter()
        .map(|s| {
            let d = s.dispatcher.clone().unwrap_or_default();
            (s.upstream_table_id, d.downstream_fragment_id, d.dist_key)
        })
        .collect();
    assert_eq!(subs, vec![(TABLE, 50, vec![0]), (MV, 50, vec![1, 2]), (MV, 51, vec![1, 2])]);
    assert_eq!(job.scan_actor_ids, vec![100, 101, 102, 103]);
    let last = actors_of(&job, 52);
    assert_eq!(last[0].upstreams.iter().map(|u| u.upstream_fragment_id).collect::<Vec<_>>(), vec![50, 51]);
    assert_eq!(scanned_relations(&g), BTreeSet::from([TABLE, MV]));
}

#[test]
fn parallelism_defaults_and_limits() {
    let one = |parallelism, worker| {
        let g = graph(vec![fragment(1, materialize(scan(TABLE)), false)], vec![], parallelism);
        run(&g, worker).map(|j| j.actors.len())
    };
    assert_eq!(one(0, 0), Ok(1));
    assert_eq!(one(0, 6), Ok(6));
    assert_eq!(one(2, 6), Ok(2));
    assert_eq!(one(1000, 6), Ok(VNODE_COUNT));
    let g = graph(vec![fragment(1, materialize(scan(TABLE)), true)], vec![], 8);
    assert_eq!(run(&g, 8).map(|j| j.actors.len()), Ok(1));
}

#[test]
fn bad_plans_are_errors_not_panics() {
    let ok_up = || fragment(1, scan(TABLE), false);
    let cases: Vec<(StreamFragmentGraph, ScheduleError)> = vec![
        (graph(vec![], vec![], 0), ScheduleError::Empty),
        (graph(vec![ok_up(), fragment(1, materialize(scan(TABLE)), false)], vec![], 0), ScheduleError::DuplicateFragment(1)),
        (graph(vec![StreamFragment { fragment_id: 1, ..Default::default() }], vec![], 0), ScheduleError::MissingNode(1)),
        (
            graph(vec![ok_up(), fragment(2, materialize(merge(1)), false)], vec![edge(1, 9, DispatcherType::Hash, &[])], 0),
            ScheduleError::UnknownFragment { up: 1, down: 9 },
        ),
        (
            graph(
                vec![ok_up(), fragment(2, materialize(merge(1)), false)],
                vec![edge(1, 2, DispatcherType::Hash, &[]), edge(1, 2, DispatcherType::Hash, &[])],
                0,
            ),
            ScheduleError::DuplicateEdge { up: 1, down: 2 },
        ),
        (
            graph(vec![ok_up(), fragment(2, materialize(merge(1)), false)], vec![edge(1, 2, DispatcherType::Unspecified, &[])], 0),
            ScheduleError::NoDispatcherType { up: 1, down: 2 },
        ),
        (graph(vec![ok_up(), fragment(2, materialize(merge(1)), false)], vec![], 0), ScheduleError::MergeWithoutEdge { fragment: 2, upstream: 1 }),
        (
            graph(vec![ok_up(), fragment(2, materialize(scan(TABLE)), false)], vec![edge(1, 2, DispatcherType::Hash, &[])], 0),
            ScheduleError::EdgeWithoutMerge { up: 1, down: 2 },
        ),
        (
            graph(
                vec![ok_up(), fragment(2, materialize(node(Body::Union(Default::default()), vec![merge(1), merge(1)])), false)],
                vec![edge(1, 2, DispatcherType::Hash, &[])],
                0,
            ),
            ScheduleError::DuplicateMerge { fragment: 2, upstream: 1 },
        ),
        (graph(vec![ok_up()], vec![], 0), ScheduleError::MaterializeCount(0)),
        (
            graph(
                vec![fragment(1, materialize(merge(2)), false), fragment(2, merge(1), false)],
                vec![edge(1, 2, DispatcherType::Hash, &[]), edge(2, 1, DispatcherType::Hash, &[])],
                0,
            ),
            ScheduleError::Cycle,
        ),
        (graph(vec![fragment(1, materialize(scan(4242)), false)], vec![], 0), ScheduleError::UnknownUpstream(4242)),
        (
            graph(
                vec![StreamFragment { upstream_table_ids: vec![MV], ..fragment(1, materialize(scan(TABLE)), false) }],
                vec![],
                0,
            ),
            ScheduleError::UpstreamTablesMismatch(1),
        ),
    ];
    for (g, expected) in cases {
        assert_eq!(run(&g, 2).err(), Some(expected));
    }

    // A singleton view is scanned by singleton fragments only.
    let g = graph(vec![fragment(1, materialize(scan(SINGLETON_MV)), false)], vec![], 2);
    assert_eq!(run(&g, 2).err(), Some(ScheduleError::SingletonUpstream { fragment: 1, relation: SINGLETON_MV, actors: 2 }));
    let g = graph(vec![fragment(1, materialize(scan(SINGLETON_MV)), true)], vec![], 2);
    assert!(run(&g, 2).is_ok());
    // The Materialize operator stores by the catalog's distribution key; several actors need one.
    let wrong_key = node(Body::Materialize(MaterializeNode { dist_key: vec![1], ..Default::default() }), vec![scan(TABLE)]);
    let g = graph(vec![fragment(1, wrong_key, false)], vec![], 2);
    assert_eq!(run(&g, 2).err(), Some(ScheduleError::MaterializeDistKey { materialize: vec![1], catalog: vec![0] }));
    let known = upstreams();
    let no_key = node(Body::Materialize(MaterializeNode::default()), vec![scan(TABLE)]);
    for (singleton, ok) in [(false, false), (true, true)] {
        let g = graph(vec![fragment(1, no_key.clone(), singleton)], vec![], 2);
        let result = schedule(&ScheduleInput {
            job_id: JOB,
            graph: &g,
            worker_id: WORKER,
            worker_parallelism: 2,
            table_id_base: 0,
            dist_key: &[],
            upstreams: &known,
            next_actor_id: 1,
            next_fragment_id: 1,
        });
        assert_eq!(result.is_ok(), ok, "{:?}", result.err());
    }

    let g = graph(vec![fragment(1, materialize(scan(TABLE)), false)], vec![], 4);
    let exhausted = schedule(&ScheduleInput {
        job_id: JOB,
        graph: &g,
        worker_id: WORKER,
        worker_parallelism: 4,
        table_id_base: 0,
        dist_key: &[0],
        upstreams: &known,
        next_actor_id: TABLE_SOURCE_ACTOR_BASE - 3,
        next_fragment_id: 1,
    });
    assert_eq!(exhausted.err(), Some(ScheduleError::IdsExhausted));
}
