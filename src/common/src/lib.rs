//! Types, values, encodings, catalog structs, config and errors shared by every Tributary role.

pub mod catalog;
pub mod chunk;
pub mod config;
pub mod encoding;
pub mod epoch;
pub mod pg_value;
pub mod error;
pub mod types;

pub use error::{CommonError, Result};
