//! Typed configuration of every role. Values come from defaults, then an optional TOML file,
//! then `TRIBUTARY_*` environment variables and command-line flags (handled by clap in `cmd`).

use serde::{Deserialize, Serialize};

use crate::error::{CommonError, Result};

pub const DEFAULT_BARRIER_INTERVAL_MS: u64 = 1000;
pub const DEFAULT_CHECKPOINT_FREQUENCY: u64 = 1;

/// Cluster-wide parameters owned by meta and changed by `ALTER SYSTEM SET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SystemParams {
    pub barrier_interval_ms: u64,
    pub checkpoint_frequency: u64,
}

impl Default for SystemParams {
    fn default() -> Self {
        SystemParams {
            barrier_interval_ms: DEFAULT_BARRIER_INTERVAL_MS,
            checkpoint_frequency: DEFAULT_CHECKPOINT_FREQUENCY,
        }
    }
}

impl SystemParams {
    pub const NAMES: &'static [&'static str] = &["barrier_interval_ms", "checkpoint_frequency"];

    /// Applies `name = value`, validating the value.
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let parse = |v: &str, min: u64, max: u64| -> Result<u64> {
            let n: u64 = v.trim().trim_matches('\'').parse().map_err(|_| {
                CommonError::InvalidInput(format!("invalid value for system parameter {name}: \"{v}\""))
            })?;
            if n < min || n > max {
                return Err(CommonError::InvalidInput(format!(
                    "system parameter {name} must be between {min} and {max}, got {n}"
                )));
            }
            Ok(n)
        };
        match name.to_ascii_lowercase().as_str() {
            "barrier_interval_ms" => self.barrier_interval_ms = parse(value, 1, 3_600_000)?,
            "checkpoint_frequency" => self.checkpoint_frequency = parse(value, 1, 1_000_000)?,
            _ => return Err(CommonError::InvalidInput(format!("unrecognized system parameter \"{name}\""))),
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<String> {
        match name.to_ascii_lowercase().as_str() {
            "barrier_interval_ms" => Some(self.barrier_interval_ms.to_string()),
            "checkpoint_frequency" => Some(self.checkpoint_frequency.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_validates() {
        let mut p = SystemParams::default();
        p.set("BARRIER_INTERVAL_MS", "100").unwrap();
        assert_eq!(p.barrier_interval_ms, 100);
        assert!(p.set("barrier_interval_ms", "0").is_err());
        assert!(p.set("barrier_interval_ms", "x").is_err());
        assert!(p.set("nope", "1").is_err());
        assert_eq!(p.get("checkpoint_frequency").as_deref(), Some("1"));
    }
}
