//! The compute node: table writers fed by DML, barrier handling that seals each epoch's writes
//! into the state store, and batch scans of committed epochs.

pub mod error;
pub mod row_id;
pub mod rpc;
pub mod server;
pub mod stream;
pub mod table;

pub use server::{start, ComputeHandle, ComputeOpts};
