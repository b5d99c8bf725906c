//! Integration tests against a real `tributary playground` process.

mod cluster;
mod extended_protocol;
