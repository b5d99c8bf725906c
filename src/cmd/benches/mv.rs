//! Materialized-view benchmarks against a release `tributary playground` (run by `bench/mv`).
//!
//! Every scenario starts its own playground per run so that runs do not inherit each other's
//! state, and prints one line per figure: the median of the runs and the runs themselves. CPU is
//! the playground process's user+system time read from its process CPU clock
//! (`clock_getcpuclockid`), which has nanosecond resolution and, unlike the per-thread files in
//! /proc, still counts threads that have exited; /proc/<pid>/stat ticks (10 ms) are too coarse
//! for the millisecond figures below. The client runs on the same machine, but its CPU is not
//! counted.
//!
//! Sizes come from `MV_BENCH_*` environment variables (see `Config::from_env`); `MV_BENCH_ONLY`
//! picks scenarios (`multi,prepared,gen,join,fresh,incr`).

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio_postgres::{Client, NoTls};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Result<T> = std::result::Result<T, BoxError>;

const GROUP_BY_MV: &str =
    "CREATE MATERIALIZED VIEW mv AS SELECT k, count(*) AS c, sum(v) AS s FROM t GROUP BY k";

struct Config {
    runs: usize,
    keys: u64,
    multi_rows: u64,
    multi_batch: u64,
    prepared_rows: u64,
    pipeline: usize,
    gen_rows: u64,
    gen_batch: u64,
    join_rows: u64,
    join_customers: u64,
    fresh_samples: usize,
    fresh_gap_ms: u64,
    fresh_intervals: Vec<u64>,
    big_rows: u64,
    big_keys: u64,
    changed_rows: u64,
    idle_secs: u64,
    only: Option<Vec<String>>,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

impl Config {
    fn from_env() -> Config {
        let intervals =
            std::env::var("MV_BENCH_FRESH_INTERVALS").unwrap_or_else(|_| "1000,100".into());
        Config {
            runs: env_or("MV_BENCH_RUNS", 3),
            keys: env_or("MV_BENCH_KEYS", 10_000),
            multi_rows: env_or("MV_BENCH_MULTI_ROWS", 100_000),
            multi_batch: env_or("MV_BENCH_MULTI_BATCH", 1_000),
            prepared_rows: env_or("MV_BENCH_PREPARED_ROWS", 2_000),
            pipeline: env_or("MV_BENCH_PIPELINE", 64),
            gen_rows: env_or("MV_BENCH_GEN_ROWS", 3_000_000),
            gen_batch: env_or("MV_BENCH_GEN_BATCH", 500_000),
            join_rows: env_or("MV_BENCH_JOIN_ROWS", 1_000_000),
            join_customers: env_or("MV_BENCH_JOIN_CUSTOMERS", 10_000),
            fresh_samples: env_or("MV_BENCH_FRESH_SAMPLES", 200),
            fresh_gap_ms: env_or("MV_BENCH_FRESH_GAP_MS", 20),
            fresh_intervals: intervals
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse()
                        .expect("MV_BENCH_FRESH_INTERVALS: comma-separated milliseconds")
                })
                .collect(),
            big_rows: env_or("MV_BENCH_BIG_ROWS", 10_000_000),
            big_keys: env_or("MV_BENCH_BIG_KEYS", 10_000),
            changed_rows: env_or("MV_BENCH_CHANGED_ROWS", 1_000),
            idle_secs: env_or("MV_BENCH_IDLE_SECS", 5),
            only: std::env::var("MV_BENCH_ONLY")
                .ok()
                .map(|s| s.split(',').map(|p| p.trim().to_string()).collect()),
        }
    }

    fn wants(&self, scenario: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|s| s == scenario))
    }
}

// ---------------------------------------------------------------------------------------------
// CPU time of another process.

#[repr(C)]
struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

extern "C" {
    fn clock_getcpuclockid(pid: i32, clock_id: *mut i32) -> i32;
    fn clock_gettime(clock_id: i32, tp: *mut Timespec) -> i32;
}

/// User+system CPU time of process `pid` so far.
fn process_cpu(pid: u32) -> Duration {
    let mut clock = 0i32;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: both calls only write through the valid pointers passed to them.
    let ok = unsafe {
        clock_getcpuclockid(pid as i32, &mut clock) == 0 && clock_gettime(clock, &mut ts) == 0
    };
    if ok {
        return Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    }
    // Fallback: utime+stime ticks from /proc (fields 14 and 15, after the parenthesised name).
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/<pid>/stat");
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// Wall and CPU time of the playground over a measured span.
struct Span {
    pid: u32,
    wall: Instant,
    cpu: Duration,
}

impl Span {
    fn start(pid: u32) -> Span {
        Span {
            pid,
            wall: Instant::now(),
            cpu: process_cpu(pid),
        }
    }

    /// (wall seconds, CPU seconds) since start.
    fn stop(&self) -> (f64, f64) {
        let cpu = process_cpu(self.pid) - self.cpu;
        (self.wall.elapsed().as_secs_f64(), cpu.as_secs_f64())
    }
}

// ---------------------------------------------------------------------------------------------
// The playground.

struct Playground {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Playground {
    fn start() -> Result<Playground> {
        let bin = std::env::var("TRIBUTARY_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_tributary").to_string());
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(dir.path().join("playground.log"))?;
        let mut child = Command::new(bin)
            .args(["playground", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(["--listen-addr", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()?;
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        if !line.starts_with("tributary ready") {
            let _ = child.kill();
            let log =
                std::fs::read_to_string(dir.path().join("playground.log")).unwrap_or_default();
            return Err(format!("playground did not start: {line}\n{log}").into());
        }
        // Keep draining stdout so the playground never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while stdout.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Ok(Playground { child, port, dir })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn connect(&self) -> Result<Client> {
        connect(self.port).await
    }
}

async fn connect(port: u16) -> Result<Client> {
    let conf = format!("host=127.0.0.1 port={port} user=root dbname=dev");
    let (client, conn) = tokio_postgres::connect(&conf, NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

impl Drop for Playground {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = &self.dir;
    }
}

// ---------------------------------------------------------------------------------------------
// Reporting.

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn fmt_num(x: f64) -> String {
    if x >= 100.0 {
        // Thousands separators keep the rows/s figures readable.
        let s = format!("{:.0}", x);
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else {
        format!("{x:.2}")
    }
}

/// Collects the figures of one scenario over its runs.
#[derive(Default)]
struct Figures {
    order: Vec<String>,
    values: BTreeMap<String, (String, Vec<f64>)>,
}

impl Figures {
    fn add(&mut self, name: &str, unit: &str, value: f64) {
        if !self.values.contains_key(name) {
            self.order.push(name.to_string());
        }
        self.values
            .entry(name.to_string())
            .or_insert_with(|| (unit.to_string(), vec![]))
            .1
            .push(value);
    }

    fn print(&self, target: impl Fn(&str) -> Option<String>) {
        for name in &self.order {
            let (unit, vs) = &self.values[name];
            let runs: Vec<String> = vs.iter().map(|v| fmt_num(*v)).collect();
            let t = target(name).map(|t| format!("  ({t})")).unwrap_or_default();
            println!(
                "{name:<58} {:>14} {unit:<12} runs: {}{t}",
                fmt_num(median(vs)),
                runs.join(" / ")
            );
        }
        std::io::stdout().flush().unwrap();
    }
}

fn progress(msg: &str) {
    eprintln!("  .. {msg}");
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

async fn setup_group_by(client: &Client) -> Result<()> {
    client
        .batch_execute("CREATE TABLE t (k int, v int)")
        .await?;
    client.batch_execute(GROUP_BY_MV).await?;
    Ok(())
}

/// Checks that the MV saw `rows` input rows, so a figure never comes from a run that lost data.
async fn check_count(client: &Client, sql: &str, expect: u64) -> Result<()> {
    let row = client.query_one(sql, &[]).await?;
    let got: i64 = row.get(0);
    if got as u64 != expect {
        return Err(format!("{sql}: expected {expect}, got {got}").into());
    }
    Ok(())
}

const MV_ROWS: &str = "SELECT sum(c)::bigint FROM mv";

async fn multi_row_insert(cfg: &Config, f: &mut Figures) -> Result<()> {
    let pg = Playground::start()?;
    let client = pg.connect().await?;
    setup_group_by(&client).await?;
    // Statements are built before the clock starts: the client's formatting is not measured.
    let mut stmts = Vec::new();
    let mut i = 0u64;
    while i < cfg.multi_rows {
        let n = cfg.multi_batch.min(cfg.multi_rows - i);
        let mut sql = String::with_capacity(n as usize * 16 + 32);
        sql.push_str("INSERT INTO t VALUES ");
        for j in 0..n {
            let r = i + j;
            if j > 0 {
                sql.push(',');
            }
            sql.push_str(&format!("({},{})", r % cfg.keys, r));
        }
        stmts.push(sql);
        i += n;
    }
    let span = Span::start(pg.pid());
    for s in &stmts {
        client.batch_execute(s).await?;
    }
    client.batch_execute("FLUSH").await?;
    let (wall, cpu) = span.stop();
    check_count(&client, MV_ROWS, cfg.multi_rows).await?;
    let name = format!("multi-row INSERT ({}-row VALUES), pgwire", cfg.multi_batch);
    f.add(
        &format!("{name}: rows/s"),
        "rows/s",
        cfg.multi_rows as f64 / wall,
    );
    f.add(
        &format!("{name}: rows/CPU-s"),
        "rows/CPU-s",
        cfg.multi_rows as f64 / cpu,
    );
    Ok(())
}

async fn prepared_insert(cfg: &Config, f: &mut Figures) -> Result<()> {
    let pg = Playground::start()?;
    let client = Arc::new(pg.connect().await?);
    setup_group_by(&client).await?;
    let stmt = client.prepare("INSERT INTO t VALUES ($1, $2)").await?;
    let span = Span::start(pg.pid());
    // Up to `pipeline` executes in flight on the one connection: tokio-postgres pipelines the
    // Bind/Execute/Sync messages of concurrent requests.
    let mut inflight = VecDeque::new();
    for r in 0..cfg.prepared_rows {
        if inflight.len() >= cfg.pipeline {
            let h: tokio::task::JoinHandle<std::result::Result<u64, tokio_postgres::Error>> =
                inflight.pop_front().unwrap();
            h.await??;
        }
        let (c, s) = (client.clone(), stmt.clone());
        let (k, v) = ((r % cfg.keys) as i32, r as i32);
        inflight.push_back(tokio::spawn(async move { c.execute(&s, &[&k, &v]).await }));
    }
    for h in inflight {
        h.await??;
    }
    client.batch_execute("FLUSH").await?;
    let (wall, cpu) = span.stop();
    check_count(&client, MV_ROWS, cfg.prepared_rows).await?;
    let name = format!(
        "prepared INSERT (1 row/execute, pipeline {}), pgwire",
        cfg.pipeline
    );
    f.add(
        &format!("{name}: rows/s"),
        "rows/s",
        cfg.prepared_rows as f64 / wall,
    );
    f.add(
        &format!("{name}: rows/CPU-s"),
        "rows/CPU-s",
        cfg.prepared_rows as f64 / cpu,
    );
    Ok(())
}

/// `INSERT INTO <table> SELECT ... FROM generate_series(lo, hi)` in batches: the rows are made
/// inside the server, so no protocol cost per row.
async fn generate(
    client: &Client,
    rows: u64,
    batch: u64,
    select: impl Fn(u64, u64) -> String,
) -> Result<()> {
    let mut lo = 1u64;
    while lo <= rows {
        let hi = (lo + batch - 1).min(rows);
        client.batch_execute(&select(lo, hi)).await?;
        lo = hi + 1;
    }
    Ok(())
}

async fn generator_group_by(cfg: &Config, f: &mut Figures) -> Result<()> {
    let pg = Playground::start()?;
    let client = pg.connect().await?;
    setup_group_by(&client).await?;
    let keys = cfg.keys;
    let span = Span::start(pg.pid());
    generate(&client, cfg.gen_rows, cfg.gen_batch, |lo, hi| {
        format!("INSERT INTO t SELECT i % {keys}, i FROM generate_series({lo}, {hi}) AS s(i)")
    })
    .await?;
    client.batch_execute("FLUSH").await?;
    let (wall, cpu) = span.stop();
    check_count(&client, MV_ROWS, cfg.gen_rows).await?;
    let name = "generator -> GROUP BY MV (in-process)";
    f.add(
        &format!("{name}: rows/s"),
        "rows/s",
        cfg.gen_rows as f64 / wall,
    );
    f.add(
        &format!("{name}: rows/CPU-s"),
        "rows/CPU-s",
        cfg.gen_rows as f64 / cpu,
    );
    Ok(())
}

async fn generator_join(cfg: &Config, f: &mut Figures) -> Result<()> {
    let pg = Playground::start()?;
    let client = pg.connect().await?;
    client
        .batch_execute("CREATE TABLE customers (id int PRIMARY KEY, name varchar)")
        .await?;
    client
        .batch_execute("CREATE TABLE orders (id int, cust int, amount int)")
        .await?;
    client
        .batch_execute(&format!(
            "INSERT INTO customers SELECT i, 'customer ' || i FROM generate_series(0, {}) AS s(i)",
            cfg.join_customers - 1
        ))
        .await?;
    client.batch_execute("FLUSH").await?;
    client
        .batch_execute(
            "CREATE MATERIALIZED VIEW oj AS SELECT o.id, o.amount, c.name FROM orders o JOIN customers c ON o.cust = c.id",
        )
        .await?;
    let customers = cfg.join_customers;
    let span = Span::start(pg.pid());
    generate(&client, cfg.join_rows, cfg.gen_batch, |lo, hi| {
        format!("INSERT INTO orders SELECT i, i % {customers}, i FROM generate_series({lo}, {hi}) AS s(i)")
    })
    .await?;
    client.batch_execute("FLUSH").await?;
    let (wall, cpu) = span.stop();
    check_count(&client, "SELECT count(*) FROM oj", cfg.join_rows).await?;
    let name = "generator -> orders JOIN customers MV (in-process)";
    f.add(
        &format!("{name}: rows/s"),
        "rows/s",
        cfg.join_rows as f64 / wall,
    );
    f.add(
        &format!("{name}: rows/CPU-s"),
        "rows/CPU-s",
        cfg.join_rows as f64 / cpu,
    );
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Time from an acknowledged single-row INSERT to the row's group appearing in the MV, seen by
/// another session polling the MV every millisecond. Inserts are spaced by a random gap so that
/// they land at random points of the barrier interval (waiting for each row before the next
/// write would start every sample right after a commit and always measure a full interval);
/// several samples may be in flight at once.
async fn freshness(cfg: &Config, interval_ms: u64, f: &mut Figures) -> Result<()> {
    let pg = Playground::start()?;
    let writer = pg.connect().await?;
    let poller = pg.connect().await?;
    setup_group_by(&writer).await?;
    writer
        .batch_execute(&format!(
            "ALTER SYSTEM SET barrier_interval_ms = {interval_ms}"
        ))
        .await?;
    // Let the barrier loop pick up the new interval before sampling.
    tokio::time::sleep(Duration::from_millis(1500 + 2 * interval_ms)).await;
    writer.batch_execute("FLUSH").await?;

    const BASE: i32 = 1_000_000;
    let n = cfg.fresh_samples;
    let acked: Arc<std::sync::Mutex<Vec<Option<Instant>>>> =
        Arc::new(std::sync::Mutex::new(vec![None; n]));
    let gap = cfg.fresh_gap_ms;
    let acked_w = acked.clone();
    let pauses: Vec<u64> = {
        let mut rng = rand::rng();
        (0..n).map(|_| rng.random_range(0..=2 * gap)).collect()
    };
    // One connection per sample: a session with unflushed writes flushes before its next
    // INSERT (INSERT counts as a read), which would force a barrier and measure that instead.
    let port = pg.port;
    let write = tokio::spawn(async move {
        for (i, pause) in pauses.into_iter().enumerate() {
            let w = connect(port).await?;
            tokio::time::sleep(Duration::from_millis(pause)).await;
            w.batch_execute(&format!("INSERT INTO t VALUES ({}, 1)", BASE + i as i32))
                .await?;
            acked_w.lock().unwrap()[i] = Some(Instant::now());
        }
        Ok::<_, BoxError>(())
    });
    let mut visible: Vec<Option<Instant>> = vec![None; n];
    let mut low = 0usize; // every sample below `low` is visible
    let deadline =
        Instant::now() + Duration::from_millis(n as u64 * 2 * gap + 20 * interval_ms + 30_000);
    while low < n {
        if Instant::now() > deadline {
            return Err(format!("freshness: only {low} of {n} samples became visible").into());
        }
        let rows = poller
            .query(
                &format!("SELECT k FROM mv WHERE k >= {}", BASE + low as i32),
                &[],
            )
            .await?;
        let now = Instant::now();
        for r in rows {
            let i = (r.get::<_, i32>(0) - BASE) as usize;
            if i < n && visible[i].is_none() {
                visible[i] = Some(now);
            }
        }
        while low < n && visible[low].is_some() {
            low += 1;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    write.await??;
    let acked = acked.lock().unwrap();
    let mut lat: Vec<f64> = (0..n)
        .map(|i| {
            let a = acked[i].expect("every sample acknowledged");
            visible[i]
                .unwrap()
                .saturating_duration_since(a)
                .as_secs_f64()
                * 1000.0
        })
        .collect();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let name = format!("freshness at barrier_interval_ms={interval_ms}");
    f.add(&format!("{name}: p50"), "ms", percentile(&lat, 50.0));
    f.add(&format!("{name}: p99"), "ms", percentile(&lat, 99.0));
    Ok(())
}

/// CPU cost of applying `changed_rows` new rows to an aggregate MV over `big_rows` rows, net of
/// the playground's idle CPU (barriers) over the same wall time. One playground holds the big
/// MV; each run applies another batch of changed rows.
async fn incremental(cfg: &Config, f: &mut Figures) -> Result<()> {
    let pg = Playground::start()?;
    let client = pg.connect().await?;
    setup_group_by(&client).await?;
    let keys = cfg.big_keys;
    let load = Instant::now();
    progress(&format!(
        "loading {} rows into t ({} keys)",
        cfg.big_rows, keys
    ));
    generate(&client, cfg.big_rows, cfg.gen_batch, |lo, hi| {
        format!("INSERT INTO t SELECT i % {keys}, i FROM generate_series({lo}, {hi}) AS s(i)")
    })
    .await?;
    client.batch_execute("FLUSH").await?;
    progress(&format!("loaded in {:.1} s", load.elapsed().as_secs_f64()));
    check_count(&client, MV_ROWS, cfg.big_rows).await?;

    // The idle baseline: what the playground burns with nothing to do (barriers, heartbeats).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = Span::start(pg.pid());
    tokio::time::sleep(Duration::from_secs(cfg.idle_secs)).await;
    let (idle_wall, idle_cpu) = idle.stop();
    let idle_rate = idle_cpu / idle_wall;
    progress(&format!(
        "idle CPU {:.3} ms per wall second",
        idle_rate * 1000.0
    ));

    let mut rng = rand::rng();
    let mut expect = cfg.big_rows;
    for run in 0..cfg.runs {
        // Rows into existing groups, spread over the keys, built before the clock starts.
        let mut sql = String::from("INSERT INTO t VALUES ");
        for j in 0..cfg.changed_rows {
            if j > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "({},{})",
                rng.random_range(0..keys),
                run as u64 * 1_000_000 + j
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let span = Span::start(pg.pid());
        client.batch_execute(&sql).await?;
        let (w1, c1) = span.stop();
        client.batch_execute("FLUSH").await?;
        let (wall, cpu) = span.stop();
        expect += cfg.changed_rows;
        check_count(&client, MV_ROWS, expect).await?;
        let net = (cpu - idle_rate * wall).max(0.0) * 1000.0;
        let stmt = (c1 - idle_rate * w1).max(0.0) * 1000.0;
        let name = format!(
            "{} changed rows into a {}-row GROUP BY MV",
            cfg.changed_rows, cfg.big_rows
        );
        f.add(&format!("{name}: CPU (INSERT + FLUSH)"), "ms CPU", net);
        f.add(
            &format!("{name}: CPU of the INSERT statement"),
            "ms CPU",
            stmt,
        );
        f.add(
            &format!("{name}: CPU after the ack (FLUSH: MV + commit)"),
            "ms CPU",
            net - stmt,
        );
        f.add(
            &format!("{name}: wall (INSERT + FLUSH)"),
            "ms",
            wall * 1000.0,
        );
    }
    Ok(())
}

async fn run_scenario<'a, F, Fut>(cfg: &'a Config, title: &str, mut one: F) -> Result<Figures>
where
    F: FnMut(&'a Config, Figures) -> Fut,
    Fut: std::future::Future<Output = Result<Figures>>,
{
    eprintln!("== {title}");
    let mut figures = Figures::default();
    for run in 0..cfg.runs {
        let t = Instant::now();
        figures = one(cfg, figures).await?;
        progress(&format!(
            "run {} done in {:.1} s",
            run + 1,
            t.elapsed().as_secs_f64()
        ));
    }
    Ok(figures)
}

fn targets(name: &str) -> Option<String> {
    if name.starts_with("generator -> GROUP BY") && name.ends_with("rows/CPU-s") {
        Some("target >= 1,000,000".into())
    } else if let Some(rest) = name.strip_prefix("freshness at barrier_interval_ms=") {
        let ms: u64 = rest.split(':').next()?.parse().ok()?;
        name.ends_with("p99")
            .then(|| format!("target <= {} ms", ms + 50))
    } else if name.contains("changed rows into")
        && name.ends_with("(INSERT + FLUSH)")
        && !name.contains("wall")
    {
        Some("target < 2 ms".into())
    } else {
        None
    }
}

async fn main_async() -> Result<()> {
    let cfg = Config::from_env();
    println!(
        "# tributary materialized-view benchmarks: median of {} runs (runs in order after it)",
        cfg.runs
    );
    if cfg.wants("multi") {
        let f = run_scenario(&cfg, "multi-row INSERT", |c, mut f| async move {
            multi_row_insert(c, &mut f).await?;
            Ok(f)
        })
        .await?;
        f.print(targets);
    }
    if cfg.wants("prepared") {
        let f = run_scenario(&cfg, "prepared INSERT", |c, mut f| async move {
            prepared_insert(c, &mut f).await?;
            Ok(f)
        })
        .await?;
        f.print(targets);
    }
    if cfg.wants("gen") {
        let f = run_scenario(&cfg, "generator -> GROUP BY MV", |c, mut f| async move {
            generator_group_by(c, &mut f).await?;
            Ok(f)
        })
        .await?;
        f.print(targets);
    }
    if cfg.wants("join") {
        let f = run_scenario(&cfg, "generator -> join MV", |c, mut f| async move {
            generator_join(c, &mut f).await?;
            Ok(f)
        })
        .await?;
        f.print(targets);
    }
    if cfg.wants("fresh") {
        for &ms in &cfg.fresh_intervals {
            let f = run_scenario(
                &cfg,
                &format!("freshness at {ms} ms"),
                |c, mut f| async move {
                    freshness(c, ms, &mut f).await?;
                    Ok(f)
                },
            )
            .await?;
            f.print(targets);
        }
    }
    if cfg.wants("incr") {
        eprintln!("== incremental maintenance");
        let mut f = Figures::default();
        incremental(&cfg, &mut f).await?;
        f.print(targets);
    }
    Ok(())
}

fn main() {
    // `cargo bench` passes `--bench`; the bench takes no arguments of its own.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if let Err(e) = rt.block_on(main_async()) {
        eprintln!("mv bench failed: {e}");
        std::process::exit(1);
    }
}
