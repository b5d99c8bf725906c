//! The meta store: where the meta server keeps the catalog and cluster metadata.
//!
//! One trait, [`MetaStore`], and three backends chosen by URL in [`open_meta_store`]:
//!
//! | URL | backend | use |
//! | --- | --- | --- |
//! | `file://DIR` | [`FileMetaStore`] | the default: embedded in the meta process, durable in `DIR` |
//! | `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` | [`EtcdMetaStore`] | shared, replicated metadata |
//! | `memory://` | [`MemoryMetaStore`] | tests; nothing survives the process |
//!
//! `file://` takes everything after the scheme as a path: `file:///var/lib/tributary/meta` is
//! absolute, `file://data/meta` is relative to the working directory. For `etcd://`, every key
//! lives under PREFIX (default `/tributary/`; a trailing `/` is added when missing, and an empty
//! path or a lone `/` means the default), so several clusters can share one etcd.
//!
//! Semantics every backend keeps (the conformance suite in `conformance.rs` checks them):
//! - Keys and values are arbitrary bytes, keys are non-empty, and order is bytewise.
//! - A transaction is atomic and linearizable: its preconditions are evaluated against the
//!   state right before it, and either all its operations apply or none do.
//! - Limits are etcd's defaults ([`MAX_TXN_OPS`], [`MAX_TXN_BYTES`]) and a key may be written
//!   at most once per transaction (etcd rejects duplicates), enforced for every backend so
//!   that code developed against the file backend does not break when moved to etcd.

mod batch;
mod etcd;
mod file;
mod file_format;
mod memory;

#[cfg(test)]
mod conformance;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;

pub use batch::split_into_txns;
pub use etcd::{EtcdMetaStore, DEFAULT_ETCD_PREFIX};
pub use file::{FileMetaStore, FileMetaStoreOptions};
pub use memory::MemoryMetaStore;

/// Most operations (and, separately, preconditions) in one transaction: etcd's default
/// `--max-txn-ops`.
pub const MAX_TXN_OPS: usize = 128;

/// Most key and value bytes in one transaction, preconditions included. etcd refuses
/// requests over 1.5 MiB by default (`--max-request-bytes`); 1 MiB leaves room for the key
/// prefix and the request framing.
pub const MAX_TXN_BYTES: usize = 1 << 20;

pub type MetaStoreResult<T> = Result<T, MetaStoreError>;

#[derive(Debug, thiserror::Error)]
pub enum MetaStoreError {
    #[error("invalid meta store URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error("invalid meta store transaction: {0}")]
    InvalidTxn(String),

    #[error(
        "meta store directory {} is in use by another meta process (lock holder pid: {holder}); \
         stop that process or point this one at another directory",
        .dir.display()
    )]
    Locked { dir: PathBuf, holder: String },

    #[error("meta store I/O error: {context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("meta store file {} is corrupt: {reason}", .path.display())]
    Corrupt { path: PathBuf, reason: String },

    /// The backend could not be reached (connection refused, timeout, no leader). For a
    /// transaction the outcome is unknown: it may or may not have been applied.
    #[error("meta store unavailable: {context}")]
    Unavailable {
        context: String,
        #[source]
        source: etcd_client::Error,
    },

    #[error("meta store backend error: {context}")]
    Backend {
        context: String,
        #[source]
        source: etcd_client::Error,
    },

    /// A write failed in a way that leaves the on-disk state uncertain (e.g. a failed fsync).
    /// The store refuses all further calls; reopening it recovers from what is on disk.
    #[error("meta store stopped after an earlier write failure ({0}); restart the meta process")]
    Failed(String),

    #[error("meta store internal error: {0}")]
    Internal(String),
}

impl MetaStoreError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        MetaStoreError::Io {
            context: context.into(),
            source,
        }
    }
}

/// A write inside a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Put {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    /// Deleting an absent key is not an error.
    Delete {
        key: Vec<u8>,
    },
}

impl Operation {
    pub fn put(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Self {
        Operation::Put {
            key: key.into(),
            value: value.into(),
        }
    }

    pub fn delete(key: impl Into<Vec<u8>>) -> Self {
        Operation::Delete { key: key.into() }
    }

    pub fn key(&self) -> &[u8] {
        match self {
            Operation::Put { key, .. } | Operation::Delete { key } => key,
        }
    }
}

/// A condition on the current state that must hold for a transaction to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// The key exists and its value is exactly `value` (an absent key never matches).
    ValueEquals {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    KeyAbsent {
        key: Vec<u8>,
    },
    KeyExists {
        key: Vec<u8>,
    },
}

impl Precondition {
    pub fn value_equals(key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Self {
        Precondition::ValueEquals {
            key: key.into(),
            value: value.into(),
        }
    }

    pub fn key_absent(key: impl Into<Vec<u8>>) -> Self {
        Precondition::KeyAbsent { key: key.into() }
    }

    pub fn key_exists(key: impl Into<Vec<u8>>) -> Self {
        Precondition::KeyExists { key: key.into() }
    }

    pub fn key(&self) -> &[u8] {
        match self {
            Precondition::ValueEquals { key, .. }
            | Precondition::KeyAbsent { key }
            | Precondition::KeyExists { key } => key,
        }
    }
}

#[async_trait]
pub trait MetaStore: Send + Sync + 'static {
    async fn get(&self, key: &[u8]) -> MetaStoreResult<Option<Vec<u8>>>;

    /// All pairs whose key starts with `prefix`, in key order, from one consistent snapshot.
    async fn scan_prefix(&self, prefix: &[u8]) -> MetaStoreResult<Vec<(Vec<u8>, Vec<u8>)>>;

    /// Applies all operations atomically if every precondition holds; returns `Ok(false)`
    /// (and changes nothing) when one does not. With no operations it just evaluates the
    /// preconditions. Operations apply in order, but a key may appear in at most one of them.
    async fn txn(
        &self,
        preconditions: Vec<Precondition>,
        ops: Vec<Operation>,
    ) -> MetaStoreResult<bool>;

    async fn put(&self, key: &[u8], value: &[u8]) -> MetaStoreResult<()> {
        self.txn(vec![], vec![Operation::put(key, value)]).await?;
        Ok(())
    }

    /// Deleting an absent key is not an error.
    async fn delete(&self, key: &[u8]) -> MetaStoreResult<()> {
        self.txn(vec![], vec![Operation::delete(key)]).await?;
        Ok(())
    }
}

/// A parsed meta store URL; see the module docs for the forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetaStoreUrl {
    Memory,
    File {
        dir: PathBuf,
    },
    Etcd {
        endpoints: Vec<String>,
        prefix: String,
    },
}

impl MetaStoreUrl {
    pub fn parse(url: &str) -> MetaStoreResult<Self> {
        let invalid = |reason: &str| MetaStoreError::InvalidUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        if let Some(rest) = url.strip_prefix("memory://") {
            if !rest.is_empty() {
                return Err(invalid("memory:// takes nothing after the scheme"));
            }
            Ok(MetaStoreUrl::Memory)
        } else if let Some(path) = url.strip_prefix("file://") {
            if path.is_empty() {
                return Err(invalid(
                    "missing directory, e.g. file:///var/lib/tributary/meta",
                ));
            }
            Ok(MetaStoreUrl::File {
                dir: PathBuf::from(path),
            })
        } else if let Some(rest) = url.strip_prefix("etcd://") {
            let (hosts, path) = match rest.find('/') {
                Some(slash) => rest.split_at(slash),
                None => (rest, ""),
            };
            let mut endpoints = Vec::new();
            for endpoint in hosts.split(',') {
                let endpoint = endpoint.trim();
                let port_ok = endpoint
                    .rsplit_once(':')
                    .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
                if !port_ok || endpoint.contains(char::is_whitespace) {
                    return Err(invalid(&format!(
                        "endpoint {endpoint:?} is not HOST:PORT (expected etcd://HOST:PORT[,HOST:PORT...][/PREFIX])"
                    )));
                }
                endpoints.push(endpoint.to_string());
            }
            if path.contains(['?', '#']) {
                return Err(invalid("query strings and fragments are not supported"));
            }
            let prefix = if path.is_empty() || path == "/" {
                DEFAULT_ETCD_PREFIX.to_string()
            } else if path.ends_with('/') {
                path.to_string()
            } else {
                // Without the slash, prefix `/a` would also cover another cluster's `/ab/...`.
                format!("{path}/")
            };
            Ok(MetaStoreUrl::Etcd { endpoints, prefix })
        } else {
            Err(invalid(
                "unknown scheme; expected file://, etcd:// or memory://",
            ))
        }
    }
}

/// Opens the backend named by `url` (see the module docs for the forms).
pub async fn open_meta_store(url: &str) -> MetaStoreResult<Arc<dyn MetaStore>> {
    Ok(match MetaStoreUrl::parse(url)? {
        MetaStoreUrl::Memory => Arc::new(MemoryMetaStore::new()),
        MetaStoreUrl::File { dir } => {
            Arc::new(FileMetaStore::open(dir, FileMetaStoreOptions::default()).await?)
        }
        MetaStoreUrl::Etcd { endpoints, prefix } => {
            Arc::new(EtcdMetaStore::connect(&endpoints, &prefix).await?)
        }
    })
}

/// Rejects what some backend would reject, so every backend accepts the same transactions.
pub(crate) fn validate_txn(
    preconditions: &[Precondition],
    ops: &[Operation],
) -> MetaStoreResult<()> {
    if ops.len() > MAX_TXN_OPS {
        return Err(MetaStoreError::InvalidTxn(format!(
            "{} operations; at most {MAX_TXN_OPS} are allowed",
            ops.len()
        )));
    }
    if preconditions.len() > MAX_TXN_OPS {
        return Err(MetaStoreError::InvalidTxn(format!(
            "{} preconditions; at most {MAX_TXN_OPS} are allowed",
            preconditions.len()
        )));
    }
    let mut bytes = 0usize;
    for p in preconditions {
        if p.key().is_empty() {
            return Err(MetaStoreError::InvalidTxn(
                "empty key in a precondition".into(),
            ));
        }
        bytes += p.key().len();
        if let Precondition::ValueEquals { value, .. } = p {
            bytes += value.len();
        }
    }
    let mut written = HashSet::with_capacity(ops.len());
    for op in ops {
        if op.key().is_empty() {
            return Err(MetaStoreError::InvalidTxn(
                "empty key in an operation".into(),
            ));
        }
        if !written.insert(op.key()) {
            return Err(MetaStoreError::InvalidTxn(format!(
                "key {:?} is written more than once",
                String::from_utf8_lossy(op.key())
            )));
        }
        bytes += op.key().len();
        if let Operation::Put { value, .. } = op {
            bytes += value.len();
        }
    }
    if bytes > MAX_TXN_BYTES {
        return Err(MetaStoreError::InvalidTxn(format!(
            "{bytes} bytes of keys and values; at most {MAX_TXN_BYTES} are allowed"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            MetaStoreUrl::parse("memory://").ok(),
            Some(MetaStoreUrl::Memory)
        );
        assert_eq!(
            MetaStoreUrl::parse("file:///var/lib/meta").ok(),
            Some(MetaStoreUrl::File {
                dir: PathBuf::from("/var/lib/meta")
            })
        );
        assert_eq!(
            MetaStoreUrl::parse("file://data/meta").ok(),
            Some(MetaStoreUrl::File {
                dir: PathBuf::from("data/meta")
            })
        );
        let etcd = |endpoints: &[&str], prefix: &str| MetaStoreUrl::Etcd {
            endpoints: endpoints.iter().map(|e| e.to_string()).collect(),
            prefix: prefix.to_string(),
        };
        assert_eq!(
            MetaStoreUrl::parse("etcd://127.0.0.1:2379").ok(),
            Some(etcd(&["127.0.0.1:2379"], "/tributary/"))
        );
        assert_eq!(
            MetaStoreUrl::parse("etcd://a:1,b:2/").ok(),
            Some(etcd(&["a:1", "b:2"], "/tributary/"))
        );
        assert_eq!(
            MetaStoreUrl::parse("etcd://a:1/prod/cluster1").ok(),
            Some(etcd(&["a:1"], "/prod/cluster1/"))
        );
        assert_eq!(
            MetaStoreUrl::parse("etcd://[::1]:2379/x/").ok(),
            Some(etcd(&["[::1]:2379"], "/x/"))
        );
        for bad in [
            "",
            "/tmp/meta",
            "memory://x",
            "file://",
            "etcd://",
            "etcd://host",
            "etcd://host:notaport",
            "etcd://a:1,,b:2",
            "etcd://a:1/p?x=1",
            "postgres://x",
        ] {
            assert!(
                matches!(
                    MetaStoreUrl::parse(bad),
                    Err(MetaStoreError::InvalidUrl { .. })
                ),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn validates_txns() {
        let ok = |p: &[Precondition], o: &[Operation]| validate_txn(p, o).is_ok();
        assert!(ok(&[], &[]));
        assert!(ok(
            &[Precondition::key_absent("a")],
            &[Operation::put("a", "1")]
        ));
        // Preconditions may repeat keys and name written keys; only writes must be unique.
        assert!(ok(
            &[
                Precondition::key_exists("a"),
                Precondition::value_equals("a", "1")
            ],
            &[Operation::put("a", "2"), Operation::delete("b")]
        ));
        assert!(!ok(
            &[],
            &[Operation::put("a", "1"), Operation::delete("a")]
        ));
        assert!(!ok(&[], &[Operation::put("", "1")]));
        assert!(!ok(&[Precondition::key_absent("")], &[]));
        let many: Vec<_> = (0..=MAX_TXN_OPS)
            .map(|i| Operation::delete(format!("k{i}")))
            .collect();
        assert!(!ok(&[], &many));
        assert!(ok(&[], &many[..MAX_TXN_OPS]));
        assert!(!ok(&[], &[Operation::put("a", vec![0u8; MAX_TXN_BYTES])]));
        assert!(ok(
            &[],
            &[Operation::put("a", vec![0u8; MAX_TXN_BYTES - 1])]
        ));
    }

    #[tokio::test]
    async fn open_rejects_bad_urls_before_touching_anything() {
        assert!(matches!(
            open_meta_store("s3://bucket").await,
            Err(MetaStoreError::InvalidUrl { .. })
        ));
    }
}
