//! The streaming engine of a compute node: actors running executor trees, connected by
//! exchange channels, driven by barriers from meta.
//!
//! - [`message`]: what flows between executors — chunks with ops, barriers (epochs and
//!   mutations), watermarks;
//! - [`executor`]: one file per operator; each turns its input streams into an output stream;
//! - [`state_table`]: an operator's keyed state over the [`StateStore`](tributary_storage::StateStore);
//! - [`exchange`]: channels between actors and the dispatchers that route rows to them;
//! - [`actor`], [`barrier`]: running actors and collecting barriers per epoch;
//! - [`builder`]: from the protobuf plan to executors; [`manager`]: what the RPCs call.

pub mod actor;
pub mod barrier;
pub mod builder;
pub mod error;
pub mod exchange;
pub mod executor;
pub mod expr;
pub mod manager;
pub mod message;
pub mod row;
pub mod state_table;
#[cfg(test)]
pub mod test_utils;
#[cfg(test)]
mod tests;

pub use error::{StreamError, StreamResult};
pub use executor::{Execute, Executor, ExecutorInfo, MessageStream};
pub use manager::StreamManager;
pub use message::{Barrier, EpochPair, Message};
