//! The typed configuration of every role: defaults, then an optional TOML file (`--config`),
//! then `TRIBUTARY_*` environment variables and flags (clap applies both, flags win).

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    pub playground: PlaygroundSection,
    pub meta: MetaSection,
    pub compute: ComputeSection,
    pub frontend: FrontendSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlaygroundSection {
    pub data_dir: Option<PathBuf>,
    pub listen_addr: Option<String>,
    pub barrier_interval_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetaSection {
    pub listen: Option<String>,
    pub meta_store: Option<String>,
    pub state_store: Option<String>,
    pub barrier_interval_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComputeSection {
    pub meta: Option<String>,
    pub listen: Option<String>,
    pub advertise: Option<String>,
    pub parallelism: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FrontendSection {
    pub meta: Option<String>,
    pub listen_addr: Option<String>,
}

impl FileConfig {
    pub fn load(path: Option<&Path>) -> Result<FileConfig, String> {
        let Some(path) = path else { return Ok(FileConfig::default()) };
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("invalid config file {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_unknown_keys() {
        let c: FileConfig = toml::from_str("[meta]\nlisten = \"127.0.0.1:1\"\n[playground]\nbarrier_interval_ms = 100\n").unwrap();
        assert_eq!(c.meta.listen.as_deref(), Some("127.0.0.1:1"));
        assert_eq!(c.playground.barrier_interval_ms, Some(100));
        assert!(toml::from_str::<FileConfig>("[meta]\nlisen = 1\n").is_err());
    }
}
