//! End-to-end tests of the node's streaming side: a table, a job reading it through a stream
//! scan into a materialized view, barriers injected as meta would.

use std::sync::Arc;

use datafusion::common::ScalarValue;
use tributary_common::catalog::{table_source_actor_id, Table};
use tributary_common::chunk::Op;
use tributary_common::types::DataType;
use tributary_proto::common::ColumnDesc;
use tributary_proto::stream_plan::stream_node::Body;
use tributary_proto::stream_plan::{
    mutation, AddMutation, ColumnOrder, Dispatcher as PbDispatcher, DispatcherType, Field, MaterializeNode,
    MergeUpstream, Mutation, StopMutation, StreamActor, StreamNode, StreamScanNode, UpstreamSubscription,
};

use super::manager::StreamManager;
use super::row::{chunk_of, OwnedRow};
use super::state_table::StateTable;
use super::test_utils::{epoch, schema, store};
use crate::row_id::RowIdGenerator;
use crate::table::TableManager;

const TABLE: u32 = 1001;
const VIEW: u32 = 1002;

fn types() -> Vec<DataType> {
    vec![DataType::Int32, DataType::Int64]
}

fn table() -> Table {
    let columns = ["k", "v"]
        .iter()
        .zip(types())
        .enumerate()
        .map(|(i, (n, t))| ColumnDesc { column_id: i as u32, name: n.to_string(), data_type: Some(t.to_protobuf()), ..Default::default() })
        .collect();
    Table { id: TABLE, name: "t".into(), columns, pk_indices: vec![0], ..Default::default() }
}

fn fields() -> Vec<Field> {
    ["k", "v"].iter().zip(types()).map(|(n, t)| Field { name: n.to_string(), data_type: Some(t.to_protobuf()) }).collect()
}

/// StreamScan(t) → Materialize(view), one actor.
fn view_actor(actor_id: u32) -> StreamActor {
    let scan = StreamNode {
        operator_id: 1,
        fields: fields(),
        stream_key: vec![0],
        identity: "StreamScan".into(),
        body: Some(Body::StreamScan(StreamScanNode {
            table_id: TABLE,
            upstream_fields: fields(),
            upstream_pk: vec![0],
            output_indices: vec![0, 1],
            upstream_dist_key: vec![0],
            ..Default::default()
        })),
        ..Default::default()
    };
    let mat = StreamNode {
        operator_id: 2,
        input: vec![scan],
        fields: fields(),
        stream_key: vec![0],
        identity: "Materialize".into(),
        body: Some(Body::Materialize(MaterializeNode {
            table_id: VIEW,
            pk: vec![ColumnOrder { column: 0, ..Default::default() }],
            dist_key: vec![0],
        })),
        ..Default::default()
    };
    StreamActor {
        actor_id,
        fragment_id: 1,
        job_id: VIEW,
        node: Some(mat),
        upstreams: vec![MergeUpstream {
            upstream_table_id: TABLE,
            upstream_actor_ids: vec![table_source_actor_id(TABLE)],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn add_mutation(actor_id: u32) -> Mutation {
    Mutation {
        mutation: Some(mutation::Mutation::Add(AddMutation {
            actor_ids: vec![actor_id],
            subscriptions: vec![UpstreamSubscription {
                upstream_table_id: TABLE,
                dispatcher: Some(PbDispatcher {
                    r#type: DispatcherType::Simple as i32,
                    downstream_actor_ids: vec![actor_id],
                    ..Default::default()
                }),
            }],
        })),
    }
}

fn k_of(r: &OwnedRow) -> i32 {
    match r[0] {
        ScalarValue::Int32(Some(k)) => k,
        _ => unreachable!("test rows have a key"),
    }
}

fn row(k: i32, v: i64) -> OwnedRow {
    vec![ScalarValue::Int32(Some(k)), ScalarValue::Int64(Some(v))]
}

async fn write(tables: &TableManager, ops: Vec<Op>, rows: Vec<OwnedRow>) {
    let chunk = chunk_of(ops, &rows, &schema(&types())).unwrap();
    let w = tables.table(TABLE).unwrap();
    w.write(chunk, &RowIdGenerator::new(1), tables.store(), tables.current_epoch()).await.unwrap();
}

async fn read_view(store: &Arc<dyn tributary_storage::StateStore>, at: u64) -> Vec<OwnedRow> {
    let mut t = StateTable::new(store.clone(), VIEW, schema(&types()), vec![0], vec![], vec![0], vec![]).unwrap();
    t.init_epoch(at);
    let mut rows = t.iter_prefix(&[]).await.unwrap();
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rows
}

#[tokio::test]
async fn view_backfills_and_follows_changes() {
    let store = store();
    let tables = Arc::new(TableManager::new(store.clone()));
    let streams = StreamManager::new(store.clone(), tables.clone());
    tables.create_table(&table()).unwrap();
    let mut model = std::collections::BTreeMap::new();
    let mut n = 1u64;
    let barrier = |n: u64| (epoch(n), epoch(n + 1));

    // Rows before the view exists: more than one snapshot batch.
    let rows: Vec<OwnedRow> = (0..3000).map(|k| row(k, k as i64)).collect();
    for r in &rows {
        model.insert(k_of(r), r.clone());
    }
    write(&tables, vec![Op::Insert; rows.len()], rows).await;
    let (p, c) = barrier(n);
    streams.inject_barrier(p, c, None).await.unwrap();
    n += 1;

    streams.build_actors(&[view_actor(1)]).unwrap();
    let (p, c) = barrier(n);
    streams.inject_barrier(p, c, Some(add_mutation(1))).await.unwrap();
    n += 1;

    // Changes while backfilling: overwrites, deletes and inserts all over the key space.
    let mut done = false;
    for round in 0..40 {
        let mut ops = Vec::new();
        let mut rows = Vec::new();
        for j in 0..50 {
            let k = ((round * 97 + j * 61) % 3500) as i32;
            if j % 5 == 0 {
                ops.push(Op::Delete);
                rows.push(row(k, 0));
                model.remove(&k);
            } else {
                ops.push(Op::Insert);
                rows.push(row(k, (round * 1000 + j) as i64));
                model.insert(k, row(k, (round * 1000 + j) as i64));
            }
        }
        write(&tables, ops, rows).await;
        let (p, c) = barrier(n);
        let progress = streams.inject_barrier(p, c, None).await.unwrap();
        n += 1;
        if progress.iter().any(|p| p.done) {
            done = true;
        }
        store.commit_epoch(p);
        let expected: Vec<OwnedRow> = model.values().cloned().collect();
        if done {
            assert_eq!(read_view(&store, p).await, expected, "round {round}");
        }
    }
    assert!(done, "backfill never finished");

    // Dropping the view stops its actor; the table keeps taking writes.
    let stop = Mutation { mutation: Some(mutation::Mutation::Stop(StopMutation { actor_ids: vec![1], job_ids: vec![VIEW] })) };
    let (p, c) = barrier(n);
    streams.inject_barrier(p, c, Some(stop)).await.unwrap();
    n += 1;
    write(&tables, vec![Op::Insert], vec![row(1, 1)]).await;
    let (p, c) = barrier(n);
    streams.inject_barrier(p, c, None).await.unwrap();
}

const VIEW2: u32 = 1003;

/// Actor `index` of 2 for VIEW, with half of the vnodes.
fn parallel_view_actor(actor_id: u32, index: usize) -> StreamActor {
    let mut a = view_actor(actor_id);
    a.vnode_bitmap = tributary_common::encoding::vnode_bitmap(index, 2);
    a
}

/// StreamScan(VIEW) → Materialize(VIEW2), one actor reading both VIEW actors.
fn view_on_view_actor(actor_id: u32, upstream: Vec<u32>) -> StreamActor {
    let mut a = view_actor(actor_id);
    a.job_id = VIEW2;
    let node = a.node.as_mut().unwrap();
    if let Some(Body::Materialize(m)) = &mut node.body {
        m.table_id = VIEW2;
        m.dist_key = vec![];
    }
    if let Some(Body::StreamScan(s)) = &mut node.input[0].body {
        s.table_id = VIEW;
    }
    a.upstreams = vec![MergeUpstream { upstream_table_id: VIEW, upstream_actor_ids: upstream, ..Default::default() }];
    a
}

async fn read(store: &Arc<dyn tributary_storage::StateStore>, table: u32, dist: Vec<usize>, at: u64) -> Vec<OwnedRow> {
    let mut t = StateTable::new(store.clone(), table, schema(&types()), vec![0], vec![], dist, vec![]).unwrap();
    t.init_epoch(at);
    let mut rows = t.iter_prefix(&[]).await.unwrap();
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rows
}

#[tokio::test]
async fn parallel_view_and_view_on_view() {
    let store = store();
    let tables = Arc::new(TableManager::new(store.clone()));
    let streams = StreamManager::new(store.clone(), tables.clone());
    tables.create_table(&table()).unwrap();
    let mut model = std::collections::BTreeMap::new();
    let mut n = 1u64;
    let mut next = || {
        n += 1;
        (epoch(n - 1), epoch(n))
    };

    let rows: Vec<OwnedRow> = (0..2000).map(|k| row(k, k as i64)).collect();
    for r in &rows {
        model.insert(k_of(r), r.clone());
    }
    write(&tables, vec![Op::Insert; rows.len()], rows).await;
    let (p, c) = next();
    streams.inject_barrier(p, c, None).await.unwrap();

    // Meta registers every MV with the node for batch scans; its writer must not take part in
    // the MV's subscriptions (its Materialize actors serve them).
    let mut view_catalog = table();
    view_catalog.id = VIEW;
    view_catalog.table_type = tributary_proto::catalog::TableType::MaterializedView as i32;
    tables.create_table(&view_catalog).unwrap();

    // VIEW with two actors, hash-subscribed to the table.
    streams.build_actors(&[parallel_view_actor(1, 0), parallel_view_actor(2, 1)]).unwrap();
    let owners = tributary_common::encoding::vnode_owners(2);
    let add = Mutation {
        mutation: Some(mutation::Mutation::Add(AddMutation {
            actor_ids: vec![1, 2],
            subscriptions: vec![UpstreamSubscription {
                upstream_table_id: TABLE,
                dispatcher: Some(PbDispatcher {
                    r#type: DispatcherType::Hash as i32,
                    dist_key: vec![0],
                    downstream_actor_ids: vec![1, 2],
                    vnode_to_actor: owners.iter().map(|o| *o as u32 + 1).collect(),
                    ..Default::default()
                }),
            }],
        })),
    };
    let (p, c) = next();
    streams.inject_barrier(p, c, Some(add)).await.unwrap();

    let mut view2_started = false;
    for round in 0..30 {
        let mut ops = Vec::new();
        let mut rows = Vec::new();
        for j in 0..40 {
            let k = ((round * 89 + j * 53) % 2400) as i32;
            if j % 4 == 0 {
                ops.push(Op::Delete);
                rows.push(row(k, 0));
                model.remove(&k);
            } else {
                ops.push(Op::Insert);
                rows.push(row(k, (round * 100 + j) as i64));
                model.insert(k, row(k, (round * 100 + j) as i64));
            }
        }
        write(&tables, ops, rows).await;
        let (p, c) = next();
        let mutation = if round == 3 {
            // VIEW2 over VIEW, created while VIEW is (maybe) still backfilling.
            streams.build_actors(&[view_on_view_actor(3, vec![1, 2])]).unwrap();
            view2_started = true;
            Some(Mutation {
                mutation: Some(mutation::Mutation::Add(AddMutation {
                    actor_ids: vec![3],
                    subscriptions: vec![UpstreamSubscription {
                        upstream_table_id: VIEW,
                        dispatcher: Some(PbDispatcher {
                            r#type: DispatcherType::Simple as i32,
                            downstream_actor_ids: vec![3],
                            ..Default::default()
                        }),
                    }],
                })),
            })
        } else {
            None
        };
        streams.inject_barrier(p, c, mutation).await.unwrap();
        store.commit_epoch(p);
    }
    assert!(view2_started);
    // A few quiet barriers let every backfill finish.
    for _ in 0..25 {
        let (p, c) = next();
        streams.inject_barrier(p, c, None).await.unwrap();
        store.commit_epoch(p);
    }
    let (p, _) = next();
    let expected: Vec<OwnedRow> = model.values().cloned().collect();
    assert_eq!(read(&store, VIEW, vec![0], p).await, expected);
    assert_eq!(read(&store, VIEW2, vec![], p).await, expected);
}
