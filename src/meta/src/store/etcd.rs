//! The etcd backend: every key lives under a prefix (default [`DEFAULT_ETCD_PREFIX`]) and a
//! transaction is one etcd `Txn`.
//!
//! Connection handling is etcd-client's: requests are balanced over all endpoints and a broken
//! connection is re-established on the next request. On top of that, reads are retried a few
//! times on "unavailable" errors (they are idempotent), while transactions are not: a
//! transaction that fails with [`MetaStoreError::Unavailable`] may or may not have been
//! applied, and only the caller knows how to find out.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{Client, Compare, CompareOp, ConnectOptions, GetOptions, KvClient, Txn, TxnOp};

use super::{validate_txn, MetaStore, MetaStoreError, MetaStoreResult, Operation, Precondition};

pub const DEFAULT_ETCD_PREFIX: &str = "/tributary/";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);
const READ_ATTEMPTS: u32 = 4;
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);
/// Keys per range request when scanning; pages are read at one revision so the scan is still
/// a consistent snapshot.
const SCAN_PAGE: i64 = 256;
/// Values can be up to `MAX_TXN_BYTES`, so a full page can far exceed tonic's 4 MiB default.
const MAX_RESPONSE_BYTES: usize = (SCAN_PAGE as usize + 8) << 20;

#[derive(Clone)]
pub struct EtcdMetaStore {
    kv: KvClient,
    prefix: Vec<u8>,
    endpoints: Vec<String>,
}

impl std::fmt::Debug for EtcdMetaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdMetaStore")
            .field("endpoints", &self.endpoints)
            .field("prefix", &String::from_utf8_lossy(&self.prefix))
            .finish_non_exhaustive()
    }
}

impl EtcdMetaStore {
    /// Connects to `endpoints` (`HOST:PORT` each) and keeps all keys under `prefix`. Fails
    /// unless an endpoint answers within a few seconds, so a wrong address shows at startup.
    pub async fn connect(endpoints: &[String], prefix: &str) -> MetaStoreResult<Self> {
        let what = || format!("etcd at {}", endpoints.join(","));
        let options = ConnectOptions::new()
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_timeout(REQUEST_TIMEOUT)
            .with_keep_alive(KEEP_ALIVE_INTERVAL, KEEP_ALIVE_TIMEOUT)
            // A member cut off from the quorum then fails fast instead of stalling us.
            .with_require_leader(true);
        let client = Client::connect(endpoints, Some(options))
            .await
            .map_err(|e| classify(format!("connecting to {}", what()), e))?;
        let store = EtcdMetaStore {
            kv: client
                .kv_client()
                .max_decoding_message_size(MAX_RESPONSE_BYTES),
            prefix: prefix.as_bytes().to_vec(),
            endpoints: endpoints.to_vec(),
        };
        // The client connects lazily; ask for something to surface a bad address now.
        let mut kv = store.kv.clone();
        kv.get(
            store.prefix.clone(),
            Some(GetOptions::new().with_count_only()),
        )
        .await
        .map_err(|e| classify(format!("reaching {}", what()), e))?;
        Ok(store)
    }

    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    fn context(&self, what: &str) -> String {
        format!(
            "{what} on etcd at {} under {:?}",
            self.endpoints.join(","),
            String::from_utf8_lossy(&self.prefix)
        )
    }

    fn full_key(&self, key: &[u8]) -> Vec<u8> {
        let mut full = Vec::with_capacity(self.prefix.len() + key.len());
        full.extend_from_slice(&self.prefix);
        full.extend_from_slice(key);
        full
    }

    async fn retry_read<T, F, Fut>(&self, what: &str, mut attempt: F) -> MetaStoreResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, etcd_client::Error>>,
    {
        let mut delay = FIRST_RETRY_DELAY;
        let mut tries = 1;
        loop {
            match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) if tries < READ_ATTEMPTS && (is_unavailable(&e) || is_compacted(&e)) => {
                    tracing::debug!(error = %e, tries, "retrying meta store read: {what}");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    tries += 1;
                }
                Err(e) => return Err(classify(self.context(what), e)),
            }
        }
    }
}

#[async_trait]
impl MetaStore for EtcdMetaStore {
    async fn get(&self, key: &[u8]) -> MetaStoreResult<Option<Vec<u8>>> {
        let full = self.full_key(key);
        let resp = self
            .retry_read("get", || {
                let mut kv = self.kv.clone();
                let full = full.clone();
                async move { kv.get(full, None).await }
            })
            .await?;
        let mut resp = resp;
        Ok(resp
            .take_kvs()
            .into_iter()
            .next()
            .map(|kv| kv.into_key_value().1))
    }

    async fn scan_prefix(&self, prefix: &[u8]) -> MetaStoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let full = self.full_key(prefix);
        let strip = self.prefix.len();
        let pairs = self
            .retry_read("scan", || scan_once(self.kv.clone(), full.clone()))
            .await?;
        Ok(pairs
            .into_iter()
            .map(|(mut k, v)| {
                k.drain(..strip);
                (k, v)
            })
            .collect())
    }

    async fn txn(
        &self,
        preconditions: Vec<Precondition>,
        ops: Vec<Operation>,
    ) -> MetaStoreResult<bool> {
        validate_txn(&preconditions, &ops)?;
        let compares: Vec<Compare> = preconditions
            .iter()
            .map(|p| match p {
                Precondition::ValueEquals { key, value } => {
                    Compare::value(self.full_key(key), CompareOp::Equal, value.clone())
                }
                // etcd compares an absent key's create_revision as 0.
                Precondition::KeyAbsent { key } => {
                    Compare::create_revision(self.full_key(key), CompareOp::Equal, 0)
                }
                Precondition::KeyExists { key } => {
                    Compare::create_revision(self.full_key(key), CompareOp::Greater, 0)
                }
            })
            .collect();
        let ops: Vec<TxnOp> = ops
            .into_iter()
            .map(|op| match op {
                Operation::Put { key, value } => TxnOp::put(self.full_key(&key), value, None),
                Operation::Delete { key } => TxnOp::delete(self.full_key(&key), None),
            })
            .collect();
        let resp = self
            .kv
            .clone()
            .txn(Txn::new().when(compares).and_then(ops))
            .await
            .map_err(|e| classify(self.context("txn"), e))?;
        Ok(resp.succeeded())
    }
}

/// One consistent scan: the first page fixes the revision the later pages read at.
async fn scan_once(
    mut kv: KvClient,
    prefix: Vec<u8>,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>, etcd_client::Error> {
    let end = prefix_end(&prefix);
    let mut start = prefix;
    let mut revision = 0;
    let mut out = Vec::new();
    loop {
        let options = GetOptions::new()
            .with_range(end.clone())
            .with_limit(SCAN_PAGE)
            .with_revision(revision);
        let mut resp = kv.get(start, Some(options)).await?;
        if revision == 0 {
            revision = resp.header().map_or(0, |h| h.revision());
        }
        let more = resp.more();
        out.extend(resp.take_kvs().into_iter().map(|kv| kv.into_key_value()));
        match out.last() {
            Some((last, _)) if more => {
                // The smallest key after `last`.
                start = last.clone();
                start.push(0);
            }
            _ => return Ok(out),
        }
    }
}

/// The end of the key range holding exactly the keys that start with `prefix`.
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // Every byte was 0xff: no finite end, and etcd reads "\0" as "to the end of the keyspace".
    vec![0]
}

fn is_unavailable(e: &etcd_client::Error) -> bool {
    match e {
        etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => true,
        etcd_client::Error::GRpcStatus(status) => matches!(
            status.code(),
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled
        ),
        _ => false,
    }
}

/// A scan's pinned revision was compacted away between pages; starting over fixes it.
fn is_compacted(e: &etcd_client::Error) -> bool {
    matches!(e, etcd_client::Error::GRpcStatus(s)
        if s.code() == tonic::Code::OutOfRange && s.message().contains("compacted"))
}

fn classify(context: String, source: etcd_client::Error) -> MetaStoreError {
    if is_unavailable(&source) {
        MetaStoreError::Unavailable { context, source }
    } else {
        MetaStoreError::Backend { context, source }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Instant;

    use etcd_client::DeleteOptions;

    use super::super::conformance::conformance;
    use super::super::open_meta_store;
    use super::*;

    const ENV: &str = "TRIBUTARY_TEST_ETCD";

    /// Endpoints of the etcd to test against, or `None` (after saying so) to skip.
    fn test_etcd(test: &str) -> Option<Vec<String>> {
        match std::env::var(ENV) {
            Ok(v) if !v.trim().is_empty() => {
                Some(v.split(',').map(|e| e.trim().to_string()).collect())
            }
            _ => {
                println!("SKIPPED {test}: set {ENV}=HOST:PORT to run it against a real etcd");
                None
            }
        }
    }

    fn unique_prefix(name: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        format!("/tributary-test/{name}-{}-{nanos}/", std::process::id())
    }

    async fn connect(endpoints: &[String], prefix: &str) -> EtcdMetaStore {
        match EtcdMetaStore::connect(endpoints, prefix).await {
            Ok(s) => s,
            Err(e) => panic!("connecting to {endpoints:?}: {e}"),
        }
    }

    async fn remove_everything_under(store: &EtcdMetaStore) {
        let r = store
            .kv
            .clone()
            .delete(
                store.prefix.clone(),
                Some(DeleteOptions::new().with_prefix()),
            )
            .await;
        assert!(r.is_ok(), "cleanup: {r:?}");
    }

    #[test]
    fn prefix_end_covers_exactly_the_prefix() {
        assert_eq!(prefix_end(b"/a/"), b"/a0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"a\xff\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff"), vec![0]);
        assert_eq!(prefix_end(b""), vec![0]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn etcd_conformance() {
        let Some(endpoints) = test_etcd("etcd_conformance") else {
            return;
        };
        let store = connect(&endpoints, &unique_prefix("conformance")).await;
        conformance(Arc::new(store.clone())).await;
        remove_everything_under(&store).await;
    }

    #[tokio::test]
    async fn etcd_url_prefixes_keep_clusters_apart() {
        let Some(endpoints) = test_etcd("etcd_url_prefixes_keep_clusters_apart") else {
            return;
        };
        let base = unique_prefix("isolation");
        let url = |p: &str| format!("etcd://{}{base}{p}", endpoints.join(","));
        // Without the added trailing slash, prefix ".../a" would see ".../ab/...".
        let (Ok(a), Ok(ab)) = (
            open_meta_store(&url("a")).await,
            open_meta_store(&url("ab")).await,
        ) else {
            panic!("opening {} failed", url("a"));
        };
        assert!(a.put(b"k", b"from-a").await.is_ok());
        assert!(ab.put(b"k", b"from-ab").await.is_ok());
        assert_eq!(a.get(b"k").await.ok(), Some(Some(b"from-a".to_vec())));
        assert_eq!(
            a.scan_prefix(b"").await.ok(),
            Some(vec![(b"k".to_vec(), b"from-a".to_vec())])
        );
        assert_eq!(ab.scan_prefix(b"").await.ok().map(|v| v.len()), Some(1));
        // The keys are where the URL said, under "<prefix>/".
        let raw = connect(&endpoints, &base).await;
        let mut seen = raw.scan_prefix(b"").await.ok().unwrap_or_default();
        seen.sort();
        assert_eq!(
            seen,
            vec![
                (b"a/k".to_vec(), b"from-a".to_vec()),
                (b"ab/k".to_vec(), b"from-ab".to_vec())
            ]
        );
        remove_everything_under(&raw).await;
    }

    #[tokio::test]
    async fn unreachable_etcd_fails_at_open_with_unavailable() {
        // Nothing listens on port 1, so this needs no etcd and always runs.
        let started = Instant::now();
        let r = open_meta_store("etcd://127.0.0.1:1").await;
        assert!(
            matches!(r, Err(MetaStoreError::Unavailable { .. })),
            "{:?}",
            r.err()
        );
        assert!(started.elapsed() < CONNECT_TIMEOUT + REQUEST_TIMEOUT);
    }
}
