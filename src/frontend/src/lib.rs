//! The stateless frontend: Postgres wire protocol, sessions, SQL binding and batch planning with
//! DataFusion. It keeps no state of its own: the catalog comes from meta's notification stream,
//! data from compute nodes.

pub mod binder;
pub mod catalog;
pub mod compute_client;
pub mod dialect;
pub mod error;
pub mod handler;
pub mod protocol;
pub mod planner;
pub mod server;
pub mod session;
pub mod stream;

pub use server::{start, FrontendHandle, FrontendOpts};
