//! Integration tests against a real `tributary playground` process.

mod cluster;
mod differential;
mod extended_protocol;
