//! The meta server: catalog, meta store (embedded file or etcd), cluster membership, barrier and
//! epoch management, streaming jobs (materialized views: scheduling fragments into actors,
//! creating and dropping them on barriers), and the notification stream frontends follow.

pub mod barrier;
pub mod catalog;
pub mod cluster;
pub mod compute_client;
pub mod error;
pub mod manager;
pub mod rpc;
pub mod server;
pub mod store;
pub mod stream;

pub use server::{start, MetaHandle, MetaOpts};
