//! `tributary`: one binary for every role. `playground` runs meta, a compute node and a frontend
//! in one process; they still talk gRPC over loopback, exactly as separate processes do.

mod config;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use tributary_common::config::SystemParams;
use tributary_storage::{MemoryStateStore, StateStore};

use crate::config::FileConfig;

#[derive(Parser, Debug)]
#[command(name = "tributary", version, about = "Tributary: a distributed streaming SQL database")]
struct Cli {
    /// TOML file with a section per role ([playground], [meta], [compute], [frontend]); flags
    /// and TRIBUTARY_* environment variables override it.
    #[arg(long, global = true, env = "TRIBUTARY_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Meta, one compute node and one frontend in one process (talking gRPC over loopback).
    Playground(PlaygroundArgs),
    /// The meta server: catalog, barriers and checkpoints, cluster membership.
    Meta(MetaArgs),
    /// A compute node: runs operators and holds table state.
    Compute(ComputeArgs),
    /// A stateless frontend: serves the Postgres protocol.
    Frontend(FrontendArgs),
}

#[derive(Args, Debug)]
struct PlaygroundArgs {
    /// Directory for all data of the playground (metadata; state once it is durable).
    /// Default: ./tributary-data
    #[arg(long, env = "TRIBUTARY_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address of the Postgres protocol. Default: 127.0.0.1:4566
    #[arg(long, env = "TRIBUTARY_LISTEN_ADDR")]
    listen_addr: Option<String>,
    /// Milliseconds between barriers, i.e. how often writes become visible (a new cluster's
    /// setting; change it later with ALTER SYSTEM SET barrier_interval_ms). Default: 1000
    #[arg(long, env = "TRIBUTARY_BARRIER_INTERVAL_MS")]
    barrier_interval_ms: Option<u64>,
}

#[derive(Args, Debug)]
struct MetaArgs {
    /// gRPC address to listen on. Default: 127.0.0.1:5690
    #[arg(long, env = "TRIBUTARY_META_LISTEN")]
    listen: Option<String>,
    /// Where metadata lives: file://DIR (embedded) or etcd://HOST:PORT[,HOST:PORT].
    /// Default: file://./tributary-data/meta
    #[arg(long, env = "TRIBUTARY_META_STORE")]
    meta_store: Option<String>,
    /// Where table state lives: memory:// (the durable LSM store on file:// and s3:// is not
    /// available yet). Default: memory://
    #[arg(long, env = "TRIBUTARY_STATE_STORE")]
    state_store: Option<String>,
    /// Milliseconds between barriers for a new cluster. Default: 1000
    #[arg(long, env = "TRIBUTARY_BARRIER_INTERVAL_MS")]
    barrier_interval_ms: Option<u64>,
}

#[derive(Args, Debug)]
struct ComputeArgs {
    /// Address of the meta server. Default: 127.0.0.1:5690
    #[arg(long, env = "TRIBUTARY_META")]
    meta: Option<String>,
    /// gRPC address to listen on. Default: 127.0.0.1:5688
    #[arg(long, env = "TRIBUTARY_COMPUTE_LISTEN")]
    listen: Option<String>,
    /// Address other roles reach this node at. Default: the listen address
    #[arg(long, env = "TRIBUTARY_COMPUTE_ADVERTISE")]
    advertise: Option<String>,
    /// Parallelism offered for streaming jobs. Default: the number of cores
    #[arg(long, env = "TRIBUTARY_PARALLELISM")]
    parallelism: Option<u32>,
}

#[derive(Args, Debug)]
struct FrontendArgs {
    /// Address of the meta server. Default: 127.0.0.1:5690
    #[arg(long, env = "TRIBUTARY_META")]
    meta: Option<String>,
    /// Address of the Postgres protocol. Default: 127.0.0.1:4566
    #[arg(long, env = "TRIBUTARY_LISTEN_ADDR")]
    listen_addr: Option<String>,
}

const DEFAULT_META_ADDR: &str = "127.0.0.1:5690";
const DEFAULT_COMPUTE_ADDR: &str = "127.0.0.1:5688";
const DEFAULT_PG_ADDR: &str = "127.0.0.1:4566";

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn params(barrier_interval_ms: Option<u64>) -> Result<SystemParams, String> {
    let mut p = SystemParams::default();
    if let Some(ms) = barrier_interval_ms {
        p.set("barrier_interval_ms", &ms.to_string()).map_err(|e| e.to_string())?;
    }
    Ok(p)
}

fn state_store(url: &str) -> Result<Arc<dyn StateStore>, String> {
    match url {
        "memory://" | "memory" => Ok(Arc::new(MemoryStateStore::new())),
        other => Err(format!(
            "state store {other} is not supported yet: the durable LSM store (file://, s3://) is still being built; use memory://"
        )),
    }
}

fn parallelism() -> u32 {
    std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1)
}

async fn run(cli: Cli) -> Result<(), String> {
    let file = FileConfig::load(cli.config.as_deref())?;
    match cli.command {
        Command::Playground(a) => {
            let data_dir = a.data_dir.or(file.playground.data_dir).unwrap_or_else(|| PathBuf::from("tributary-data"));
            let listen_addr = a.listen_addr.or(file.playground.listen_addr).unwrap_or_else(|| DEFAULT_PG_ADDR.to_string());
            let params = params(a.barrier_interval_ms.or(file.playground.barrier_interval_ms))?;
            std::fs::create_dir_all(&data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
            let meta_dir = data_dir.join("meta");
            let meta = tributary_meta::start(tributary_meta::MetaOpts {
                listen: "127.0.0.1:0".into(),
                meta_store: format!("file://{}", meta_dir.display()),
                state_store: "memory://".into(),
                params,
            })
            .await
            .map_err(|e| e.to_string())?;
            let meta_addr = meta.addr.to_string();
            tributary_compute::start(
                tributary_compute::ComputeOpts {
                    meta_addr: meta_addr.clone(),
                    listen: "127.0.0.1:0".into(),
                    advertise: None,
                    parallelism: parallelism(),
                },
                state_store("memory://")?,
            )
            .await
            .map_err(|e| e.to_string())?;
            let fe = tributary_frontend::start(tributary_frontend::FrontendOpts { meta_addr, listen_addr })
                .await
                .map_err(|e| e.message())?;
            println!("tributary ready: psql -h {} -p {} -d dev -U root", fe.addr.ip(), fe.addr.port());
            wait_for_shutdown().await;
            Ok(())
        }
        Command::Meta(a) => {
            let listen = a.listen.or(file.meta.listen).unwrap_or_else(|| DEFAULT_META_ADDR.to_string());
            let meta_store = a.meta_store.or(file.meta.meta_store).unwrap_or_else(|| "file://./tributary-data/meta".to_string());
            let state_url = a.state_store.or(file.meta.state_store).unwrap_or_else(|| "memory://".to_string());
            state_store(&state_url)?;
            let params = params(a.barrier_interval_ms.or(file.meta.barrier_interval_ms))?;
            let meta = tributary_meta::start(tributary_meta::MetaOpts { listen, meta_store, state_store: state_url, params })
                .await
                .map_err(|e| e.to_string())?;
            eprintln!("meta listening on {}", meta.addr);
            wait_for_shutdown().await;
            Ok(())
        }
        Command::Compute(a) => {
            let opts = tributary_compute::ComputeOpts {
                meta_addr: a.meta.or(file.compute.meta).unwrap_or_else(|| DEFAULT_META_ADDR.to_string()),
                listen: a.listen.or(file.compute.listen).unwrap_or_else(|| DEFAULT_COMPUTE_ADDR.to_string()),
                advertise: a.advertise.or(file.compute.advertise),
                parallelism: a.parallelism.or(file.compute.parallelism).unwrap_or_else(parallelism),
            };
            let handle = tributary_compute::start(opts, state_store("memory://")?).await.map_err(|e| e.to_string())?;
            eprintln!("compute node {} listening on {}", handle.worker_id, handle.addr);
            wait_for_shutdown().await;
            Ok(())
        }
        Command::Frontend(a) => {
            let opts = tributary_frontend::FrontendOpts {
                meta_addr: a.meta.or(file.frontend.meta).unwrap_or_else(|| DEFAULT_META_ADDR.to_string()),
                listen_addr: a.listen_addr.or(file.frontend.listen_addr).unwrap_or_else(|| DEFAULT_PG_ADDR.to_string()),
            };
            let fe = tributary_frontend::start(opts).await.map_err(|e| e.message())?;
            eprintln!("frontend listening on {}", fe.addr);
            wait_for_shutdown().await;
            Ok(())
        }
    }
}

async fn wait_for_shutdown() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
