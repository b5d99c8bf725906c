//! Creating and dropping materialized views end to end, against a meta server on the memory
//! store and a fake compute node that records what meta asks of it and reports backfill
//! progress when the test lets it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};
use tributary_common::config::SystemParams;
use tributary_proto::catalog::{Table, TableType};
use tributary_proto::common::WorkerType;
use tributary_proto::compute::stream_service_server::{StreamService, StreamServiceServer};
use tributary_proto::compute::*;
use tributary_proto::meta::meta_service_client::MetaServiceClient;
use tributary_proto::meta::notification::Info;
use tributary_proto::meta::{
    CreateMaterializedViewRequest, CreateTableRequest as MetaCreateTable, CreateViewRequest, DropRelationRequest,
    ListJobsRequest, RegisterWorkerRequest, SubscribeRequest,
};
use tributary_proto::stream_plan::stream_node::Body;
use tributary_proto::stream_plan::{
    mutation, BackfillProgress, MaterializeNode, Mutation, StreamActor, StreamFragment, StreamFragmentGraph, StreamNode,
    StreamScanNode,
};

#[derive(Default)]
struct Fake {
    /// What meta asked, in order: "create 1001", "drop 1001", "build 3", "drop_actors 3".
    calls: Mutex<Vec<String>>,
    mutations: Mutex<Vec<Mutation>>,
    scan_actors: Mutex<Vec<u32>>,
    /// Backfill reports "rows so far" until released, then done.
    release: AtomicBool,
    fail_build: AtomicBool,
    barriers: AtomicU64,
}

#[derive(Clone)]
struct FakeCompute(Arc<Fake>);

fn has_scan(node: &StreamNode) -> bool {
    matches!(node.body, Some(Body::StreamScan(_))) || node.input.iter().any(has_scan)
}

#[tonic::async_trait]
impl StreamService for FakeCompute {
    async fn create_table(&self, r: Request<CreateTableRequest>) -> Result<Response<CreateTableResponse>, Status> {
        let id = r.into_inner().table.map(|t| t.id).unwrap_or_default();
        self.0.calls.lock().push(format!("create {id}"));
        Ok(Response::new(CreateTableResponse {}))
    }

    async fn drop_table(&self, r: Request<DropTableRequest>) -> Result<Response<DropTableResponse>, Status> {
        self.0.calls.lock().push(format!("drop {}", r.into_inner().table_id));
        Ok(Response::new(DropTableResponse {}))
    }

    async fn build_actors(&self, r: Request<BuildActorsRequest>) -> Result<Response<BuildActorsResponse>, Status> {
        let actors: Vec<StreamActor> = r.into_inner().actors;
        self.0.calls.lock().push(format!("build {}", actors.len()));
        if self.0.fail_build.load(Ordering::SeqCst) {
            return Err(Status::internal("cannot build"));
        }
        let scans = actors.iter().filter(|a| a.node.as_ref().is_some_and(has_scan)).map(|a| a.actor_id);
        self.0.scan_actors.lock().extend(scans);
        Ok(Response::new(BuildActorsResponse {}))
    }

    async fn drop_actors(&self, r: Request<DropActorsRequest>) -> Result<Response<DropActorsResponse>, Status> {
        self.0.calls.lock().push(format!("drop_actors {}", r.into_inner().actor_ids.len()));
        Ok(Response::new(DropActorsResponse {}))
    }

    async fn inject_barrier(&self, r: Request<InjectBarrierRequest>) -> Result<Response<BarrierCompleteResponse>, Status> {
        let r = r.into_inner();
        self.0.barriers.fetch_add(1, Ordering::SeqCst);
        if let Some(m) = r.mutation {
            if let Some(mutation::Mutation::Stop(stop)) = &m.mutation {
                self.0.scan_actors.lock().retain(|a| !stop.actor_ids.contains(a));
            }
            self.0.mutations.lock().push(m);
        }
        let done = self.0.release.load(Ordering::SeqCst);
        let backfill = self
            .0
            .scan_actors
            .lock()
            .iter()
            .map(|&actor_id| BackfillProgress { actor_id, rows: if done { 100 } else { 10 }, done })
            .collect();
        Ok(Response::new(BarrierCompleteResponse { epoch: r.prev_epoch, backfill }))
    }

    async fn commit_epoch(&self, _r: Request<CommitEpochRequest>) -> Result<Response<CommitEpochResponse>, Status> {
        Ok(Response::new(CommitEpochResponse {}))
    }
}

async fn start_fake() -> (Arc<Fake>, SocketAddr) {
    let fake = Arc::new(Fake::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let service = StreamServiceServer::new(FakeCompute(fake.clone()));
    tokio::spawn(
        tonic::transport::Server::builder().add_service(service).serve_with_incoming(TcpListenerStream::new(listener)),
    );
    (fake, addr)
}

type Client = MetaServiceClient<tonic::transport::Channel>;

struct Cluster {
    fake: Arc<Fake>,
    client: Client,
    database_id: u32,
    schema_id: u32,
}

async fn cluster() -> Cluster {
    let (fake, compute_addr) = start_fake().await;
    let meta = crate::start(crate::MetaOpts {
        listen: "127.0.0.1:0".into(),
        meta_store: "memory://".into(),
        state_store: "memory://".into(),
        params: SystemParams { barrier_interval_ms: 20, ..Default::default() },
    })
    .await
    .expect("meta");
    let mut client = MetaServiceClient::connect(format!("http://{}", meta.addr)).await.expect("connect");
    client
        .register_worker(RegisterWorkerRequest {
            worker_type: WorkerType::Compute as i32,
            host: compute_addr.to_string(),
            parallelism: 2,
        })
        .await
        .expect("register");
    let mut stream = client.subscribe(SubscribeRequest { worker_id: 0 }).await.expect("subscribe").into_inner();
    let Some(Ok(first)) = futures::StreamExt::next(&mut stream).await else { panic!("no snapshot") };
    let Some(Info::Snapshot(snapshot)) = first.info else { panic!("not a snapshot") };
    let catalog = snapshot.catalog.unwrap_or_default();
    let (database_id, schema_id) = (catalog.databases[0].id, catalog.schemas[0].id);
    Cluster { fake, client, database_id, schema_id }
}

impl Cluster {
    fn relation(&self, name: &str, deps: &[u32]) -> Table {
        Table {
            database_id: self.database_id,
            schema_id: self.schema_id,
            name: name.into(),
            pk_indices: vec![0],
            dist_key: vec![0],
            dependent_relations: deps.to_vec(),
            ..Default::default()
        }
    }

    async fn create_table(&mut self, name: &str) -> u32 {
        let table = Table { table_type: TableType::Table as i32, ..self.relation(name, &[]) };
        let resp = self.client.create_table(MetaCreateTable { table: Some(table), if_not_exists: false }).await;
        resp.expect("create table").into_inner().id
    }

    fn create_mv(&self, name: &str, upstream: u32) -> tokio::task::JoinHandle<Result<u32, Status>> {
        let scan = StreamNode { body: Some(Body::StreamScan(StreamScanNode { table_id: upstream, ..Default::default() })), ..Default::default() };
        let root = StreamNode {
            body: Some(Body::Materialize(MaterializeNode { dist_key: vec![0], ..Default::default() })),
            input: vec![scan],
            ..Default::default()
        };
        let graph = StreamFragmentGraph {
            fragments: vec![StreamFragment { fragment_id: 1, node: Some(root), ..Default::default() }],
            internal_table_count: 1,
            ..Default::default()
        };
        let table = Table { table_type: TableType::MaterializedView as i32, ..self.relation(name, &[upstream]) };
        let mut client = self.client.clone();
        tokio::spawn(async move {
            let req = CreateMaterializedViewRequest { table: Some(table), graph: Some(graph), if_not_exists: false };
            client.create_materialized_view(req).await.map(|r| r.into_inner().id)
        })
    }

    async fn drop(&mut self, id: u32, cascade: bool, expected: TableType) -> Result<(), Status> {
        let req = DropRelationRequest { id, cascade, expected_type: expected as i32 };
        self.client.drop_relation(req).await.map(|_| ())
    }

    fn take_calls(&self) -> Vec<String> {
        std::mem::take(&mut *self.fake.calls.lock())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_backfill_and_drop_cascade() {
    let mut c = cluster().await;
    let t = c.create_table("t").await;
    c.take_calls();

    // The job shows in ListJobs while it backfills, and returns once the scans are done.
    let creating = c.create_mv("m", t);
    let job = loop {
        let jobs = c.client.list_jobs(ListJobsRequest {}).await.expect("list").into_inner().jobs;
        if let Some(job) = jobs.into_iter().find(|j| j.backfilled_rows > 0) {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!((job.name.as_str(), job.backfilled_rows), ("m", 20));
    assert!(!creating.is_finished());
    c.fake.release.store(true, Ordering::SeqCst);
    let m = tokio::time::timeout(Duration::from_secs(10), creating).await.expect("done").expect("join").expect("create");
    assert_eq!(m, job.id);
    assert!(c.client.list_jobs(ListJobsRequest {}).await.expect("list").into_inner().jobs.is_empty());
    assert_eq!(c.take_calls(), vec![format!("create {m}"), "build 2".to_string()]);
    let add = c.fake.mutations.lock().clone();
    let Some(mutation::Mutation::Add(add)) = add.first().and_then(|m| m.mutation.clone()) else { panic!("no add: {add:?}") };
    assert_eq!(add.actor_ids.len(), 2);
    assert_eq!(add.subscriptions.len(), 1);
    assert_eq!(add.subscriptions[0].upstream_table_id, t);

    // A second view reads the first one's actors.
    let m2 = c.create_mv("m2", m).await.expect("join").expect("create m2");
    let Some(mutation::Mutation::Add(add2)) = c.fake.mutations.lock().last().and_then(|m| m.mutation.clone()) else {
        panic!("no add")
    };
    assert_eq!(add2.subscriptions[0].upstream_table_id, m);
    assert_ne!(add2.subscriptions[0].dispatcher.as_ref().map(|d| d.downstream_fragment_id), Some(0));

    // Names are shared with views; a view on m2 depends on it.
    let view = Table { table_type: TableType::View as i32, ..c.relation("m", &[]) };
    let dup = c.client.create_view(CreateViewRequest { view: Some(view), if_not_exists: false }).await;
    assert_eq!(dup.err().map(|e| e.details().to_vec()), Some(b"42P07".to_vec()));
    let view = Table { table_type: TableType::View as i32, ..c.relation("v", &[m2]) };
    c.client.create_view(CreateViewRequest { view: Some(view), if_not_exists: false }).await.expect("view");
    c.take_calls();

    let err = c.drop(t, false, TableType::Table).await.expect_err("dependents");
    assert_eq!((err.message(), err.details()), ("cannot drop table t because other objects depend on it", &b"2BP01"[..]));
    let err = c.drop(m, true, TableType::View).await.expect_err("wrong type");
    assert_eq!((err.message(), err.details()), ("\"m\" is not a view", &b"42809"[..]));
    assert!(c.take_calls().is_empty());

    c.fake.mutations.lock().clear();
    c.drop(t, true, TableType::Table).await.expect("cascade");
    let stops = c.fake.mutations.lock().clone();
    let [Mutation { mutation: Some(mutation::Mutation::Stop(stop)) }] = stops.as_slice() else { panic!("{stops:?}") };
    assert_eq!(stop.actor_ids.len(), 4);
    assert_eq!(stop.job_ids, vec![m2, m]);
    // Dependents' data first; each view with its state table.
    let calls = c.take_calls();
    let position = |id: u32| calls.iter().position(|c| *c == format!("drop {id}")).unwrap_or(usize::MAX);
    assert_eq!(calls.len(), 5, "{calls:?}");
    assert!(position(m2) < position(m) && position(m) < position(t), "{calls:?}");

    // Everything is gone: the names are free again.
    let t = c.create_table("t").await;
    c.create_mv("m", t).await.expect("join").expect("create again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_creation_is_undone() {
    let mut c = cluster().await;
    let t = c.create_table("t").await;
    c.take_calls();
    c.fake.fail_build.store(true, Ordering::SeqCst);
    let err = c.create_mv("m", t).await.expect("join").expect_err("fails");
    assert!(err.message().contains("cannot build"), "{}", err.message());
    let calls = c.take_calls();
    // The view's table and its state table are dropped again, the actors too.
    assert_eq!(calls.len(), 5, "{calls:?}");
    assert!(calls.contains(&"drop_actors 2".to_string()), "{calls:?}");
    // No Add went out, so nothing had to stop.
    assert!(c.fake.mutations.lock().is_empty());
    assert!(c.client.list_jobs(ListJobsRequest {}).await.expect("list").into_inner().jobs.is_empty());

    c.fake.fail_build.store(false, Ordering::SeqCst);
    c.fake.release.store(true, Ordering::SeqCst);
    let m = c.create_mv("m", t).await.expect("join").expect("the name is free again");
    let add = c.fake.mutations.lock().clone();
    let Some(mutation::Mutation::Add(add)) = add.first().and_then(|m| m.mutation.clone()) else { panic!("no add") };
    assert_eq!(add.subscriptions[0].dispatcher.as_ref().map(|d| d.downstream_actor_ids.len()), Some(2));
    assert!(m > t);
}
