//! The embedded backend: the whole key space in memory, made durable by a log in a directory.
//!
//! Files in the directory:
//! - `LOCK`: held with an exclusive `flock` while a store is open (it holds the owner's pid),
//!   so two meta processes cannot write the same directory.
//! - `snapshot`: the state as of the start of the current log; absent until the first
//!   compaction. Its header names the current log's generation `G`.
//! - `log-G`: one checksummed frame per committed transaction (see `file_format`), synced to
//!   disk before `txn` returns and before the change becomes visible to readers.
//!
//! Compaction, when the log outgrows both the configured threshold and the last snapshot:
//! write `snapshot.tmp` with generation G+1, sync it, rename it over `snapshot`, sync the
//! directory, start an empty `log-(G+1)` and delete `log-G`. A crash at any point leaves
//! either the old snapshot with `log-G` or the new snapshot (whose missing log is empty); on
//! open, logs older than the snapshot's generation are deleted as already folded in.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};

use super::file_format::{decode_snapshot, encode_snapshot, encode_txn_frame, replay_log};
use super::memory::MemState;
use super::{validate_txn, MetaStore, MetaStoreError, MetaStoreResult, Operation, Precondition};

const LOCK_FILE: &str = "LOCK";
const SNAPSHOT_FILE: &str = "snapshot";
const SNAPSHOT_TMP_FILE: &str = "snapshot.tmp";
const LOG_PREFIX: &str = "log-";

#[derive(Debug, Clone)]
pub struct FileMetaStoreOptions {
    /// Compact once the log holds at least this many bytes and more than the last snapshot
    /// (so rewriting the snapshot costs at most as much as the log it replaces).
    pub compact_log_bytes: u64,
}

impl Default for FileMetaStoreOptions {
    fn default() -> Self {
        FileMetaStoreOptions {
            compact_log_bytes: 16 << 20,
        }
    }
}

/// The `file://DIR` backend. Cheap to share: clones of the `Arc` from `open_meta_store`
/// share one store, and the directory lock is released when the last one is dropped.
pub struct FileMetaStore {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    options: FileMetaStoreOptions,
    /// Only ever holds committed, durable transactions.
    state: RwLock<MemState>,
    /// Serialises writers: precondition check, append, sync and apply happen under it.
    /// Lock order: `writer` before `state`.
    writer: Mutex<LogWriter>,
    /// Set when a write left the disk in an unknown state; every later call fails with it.
    failure: Mutex<Option<String>>,
    /// Never read: the open file holds the directory lock until the store is dropped.
    _lock: File,
}

struct LogWriter {
    file: File,
    generation: u64,
    len: u64,
    snapshot_len: u64,
    /// Log length at which to try compacting next; pushed back after a failed attempt so a
    /// full disk does not make every transaction retry a doomed compaction.
    compact_at: u64,
}

impl std::fmt::Debug for FileMetaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileMetaStore")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

impl FileMetaStore {
    /// Opens (creating if needed) the store in `dir`, recovering from a crash if the last
    /// write was torn. Blocking file I/O runs off the async runtime's worker threads.
    pub async fn open(
        dir: impl Into<PathBuf>,
        options: FileMetaStoreOptions,
    ) -> MetaStoreResult<Self> {
        let dir = dir.into();
        tokio::task::spawn_blocking(move || Self::open_blocking(&dir, options))
            .await
            .map_err(|e| MetaStoreError::Internal(format!("opening the file store: {e}")))?
    }

    pub fn open_blocking(dir: &Path, options: FileMetaStoreOptions) -> MetaStoreResult<Self> {
        fs::create_dir_all(dir)
            .map_err(|e| MetaStoreError::io(format!("creating {}", dir.display()), e))?;
        let lock = lock_dir(dir)?;

        remove_if_exists(&dir.join(SNAPSHOT_TMP_FILE))?;
        let snapshot_path = dir.join(SNAPSHOT_FILE);
        let (generation, map, snapshot_len) = match read_if_exists(&snapshot_path)? {
            Some(bytes) => {
                let (generation, map) =
                    decode_snapshot(&bytes).map_err(|reason| MetaStoreError::Corrupt {
                        path: snapshot_path.clone(),
                        reason,
                    })?;
                (generation, map, bytes.len() as u64)
            }
            None => (0, Default::default(), 0),
        };
        let mut state = MemState::from_map(map);

        let mut dir_changed = false;
        for (log_generation, path) in list_logs(dir)? {
            if log_generation < generation {
                // Folded into the snapshot by a compaction that crashed before deleting it.
                remove_if_exists(&path)?;
                dir_changed = true;
            } else if log_generation > generation {
                return Err(MetaStoreError::Corrupt {
                    path,
                    reason: format!(
                        "log is newer than the snapshot (generation {generation}); \
                         the snapshot may have been deleted or replaced"
                    ),
                });
            }
        }

        let log_path = log_path(dir, generation);
        let log_exists = log_path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&log_path)
            .map_err(|e| MetaStoreError::io(format!("opening {}", log_path.display()), e))?;
        dir_changed |= !log_exists;
        let mut log = Vec::new();
        file.read_to_end(&mut log)
            .map_err(|e| MetaStoreError::io(format!("reading {}", log_path.display()), e))?;
        let replay =
            replay_log(&log, |ops| state.apply(ops)).map_err(|c| MetaStoreError::Corrupt {
                path: log_path.clone(),
                reason: format!("at offset {}: {}", c.offset, c.reason),
            })?;
        if let Some(reason) = replay.torn_tail {
            tracing::warn!(
                log = %log_path.display(),
                offset = replay.valid_len,
                dropped_bytes = log.len() - replay.valid_len,
                reason,
                recovered_transactions = replay.transactions,
                "meta store log ends in an incomplete record (a write cut short by a crash?); \
                 truncating it to the last complete transaction",
            );
            file.set_len(replay.valid_len as u64)
                .and_then(|()| file.sync_all())
                .map_err(|e| MetaStoreError::io(format!("truncating {}", log_path.display()), e))?;
        }
        file.seek(SeekFrom::Start(replay.valid_len as u64))
            .map_err(|e| MetaStoreError::io(format!("seeking {}", log_path.display()), e))?;
        if dir_changed {
            sync_dir(dir)?;
        }

        let len = replay.valid_len as u64;
        Ok(FileMetaStore {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                state: RwLock::new(state),
                writer: Mutex::new(LogWriter {
                    file,
                    generation,
                    len,
                    snapshot_len,
                    compact_at: compact_threshold(&options, snapshot_len),
                }),
                failure: Mutex::new(None),
                options,
                _lock: lock,
            }),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }
}

#[async_trait]
impl MetaStore for FileMetaStore {
    async fn get(&self, key: &[u8]) -> MetaStoreResult<Option<Vec<u8>>> {
        self.inner.check_failure()?;
        Ok(self.inner.state.read().get(key))
    }

    async fn scan_prefix(&self, prefix: &[u8]) -> MetaStoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.check_failure()?;
        Ok(self.inner.state.read().scan_prefix(prefix))
    }

    async fn txn(
        &self,
        preconditions: Vec<Precondition>,
        ops: Vec<Operation>,
    ) -> MetaStoreResult<bool> {
        validate_txn(&preconditions, &ops)?;
        let inner = self.inner.clone();
        // fsync blocks for milliseconds; keep it off the async worker threads.
        tokio::task::spawn_blocking(move || inner.commit(&preconditions, ops))
            .await
            .map_err(|e| MetaStoreError::Internal(format!("commit task failed: {e}")))?
    }
}

impl Inner {
    fn check_failure(&self) -> MetaStoreResult<()> {
        match &*self.failure.lock() {
            Some(reason) => Err(MetaStoreError::Failed(reason.clone())),
            None => Ok(()),
        }
    }

    fn fail(&self, reason: String) -> MetaStoreError {
        tracing::error!(dir = %self.dir.display(), %reason, "meta store stops accepting calls");
        *self.failure.lock() = Some(reason.clone());
        MetaStoreError::Failed(reason)
    }

    fn commit(&self, preconditions: &[Precondition], ops: Vec<Operation>) -> MetaStoreResult<bool> {
        let mut writer = self.writer.lock();
        self.check_failure()?;
        if !self.state.read().check(preconditions) {
            return Ok(false);
        }
        if ops.is_empty() {
            return Ok(true);
        }
        let frame = encode_txn_frame(&ops);
        if let Err(e) = writer
            .file
            .write_all(&frame)
            .and_then(|()| writer.file.sync_data())
        {
            // After a failed write or fsync the file may hold part of the record, and the
            // kernel may have dropped the dirty pages: appending more could bury the damage
            // mid-log. Stop here; reopening truncates a torn tail.
            return Err(self.fail(format!("appending to log-{}: {e}", writer.generation)));
        }
        writer.len += frame.len() as u64;
        self.state.write().apply(ops);
        if writer.len >= writer.compact_at {
            self.compact(&mut writer);
        }
        Ok(true)
    }

    /// Failures before the new snapshot is in place only postpone compaction; failures after
    /// it leave the directory in a state we must not append to, so they stop the store. The
    /// transaction that triggered compaction is committed either way.
    fn compact(&self, writer: &mut LogWriter) {
        let next_generation = writer.generation + 1;
        let snapshot = encode_snapshot(next_generation, self.state.read().map());
        let tmp = self.dir.join(SNAPSHOT_TMP_FILE);
        let staged = write_synced(&tmp, &snapshot)
            .and_then(|()| fs::rename(&tmp, self.dir.join(SNAPSHOT_FILE)));
        if let Err(e) = staged {
            tracing::warn!(
                dir = %self.dir.display(),
                error = %e,
                "meta store compaction failed; will retry after more writes",
            );
            let _ = fs::remove_file(&tmp);
            writer.compact_at = writer.len + compact_threshold(&self.options, writer.snapshot_len);
            return;
        }

        // The snapshot now says the log is `next_generation`: writes to the old log would be
        // ignored on reopen.
        let new_log_path = log_path(&self.dir, next_generation);
        let switched = sync_dir(&self.dir)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                let file = File::create(&new_log_path).map_err(|e| e.to_string())?;
                sync_dir(&self.dir).map_err(|e| e.to_string())?;
                Ok(file)
            });
        let file = match switched {
            Ok(file) => file,
            Err(e) => {
                self.fail(format!(
                    "starting log-{next_generation} after a snapshot: {e}"
                ));
                return;
            }
        };
        let old_log_path = log_path(&self.dir, writer.generation);
        let old_len = writer.len;
        *writer = LogWriter {
            file,
            generation: next_generation,
            len: 0,
            snapshot_len: snapshot.len() as u64,
            compact_at: compact_threshold(&self.options, snapshot.len() as u64),
        };
        if let Err(e) = fs::remove_file(&old_log_path) {
            // Harmless: the next open deletes logs older than the snapshot.
            tracing::warn!(log = %old_log_path.display(), error = %e, "could not delete an old meta store log");
        }
        tracing::info!(
            dir = %self.dir.display(),
            generation = next_generation,
            snapshot_bytes = snapshot.len(),
            replaced_log_bytes = old_len,
            "meta store compacted its log into a snapshot",
        );
    }
}

fn compact_threshold(options: &FileMetaStoreOptions, snapshot_len: u64) -> u64 {
    options.compact_log_bytes.max(snapshot_len).max(1)
}

fn log_path(dir: &Path, generation: u64) -> PathBuf {
    // Zero-padded so the files sort by generation in a directory listing.
    dir.join(format!("{LOG_PREFIX}{generation:020}"))
}

fn list_logs(dir: &Path) -> MetaStoreResult<Vec<(u64, PathBuf)>> {
    let context = || format!("listing {}", dir.display());
    let mut logs = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| MetaStoreError::io(context(), e))? {
        let entry = entry.map_err(|e| MetaStoreError::io(context(), e))?;
        let name = entry.file_name();
        let generation = name
            .to_str()
            .and_then(|n| n.strip_prefix(LOG_PREFIX))
            .and_then(|g| g.parse::<u64>().ok());
        if let Some(generation) = generation {
            logs.push((generation, entry.path()));
        }
    }
    logs.sort();
    Ok(logs)
}

fn lock_dir(dir: &Path) -> MetaStoreResult<File> {
    let path = dir.join(LOCK_FILE);
    let context = || format!("locking {}", path.display());
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| MetaStoreError::io(context(), e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(MetaStoreError::Locked {
                dir: dir.to_path_buf(),
                holder: if holder.is_empty() {
                    "unknown".to_string()
                } else {
                    holder.to_string()
                },
            });
        }
        Err(TryLockError::Error(e)) => return Err(MetaStoreError::io(context(), e)),
    }
    // Only informative (for the error above), so no fsync.
    file.set_len(0)
        .and_then(|()| file.write_all(format!("{}\n", std::process::id()).as_bytes()))
        .map_err(|e| MetaStoreError::io(context(), e))?;
    Ok(file)
}

fn read_if_exists(path: &Path) -> MetaStoreResult<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(MetaStoreError::io(format!("reading {}", path.display()), e)),
    }
}

fn remove_if_exists(path: &Path) -> MetaStoreResult<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(MetaStoreError::io(
            format!("removing {}", path.display()),
            e,
        )),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes creations, renames and deletions in `dir` durable.
fn sync_dir(dir: &Path) -> MetaStoreResult<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| MetaStoreError::io(format!("syncing directory {}", dir.display()), e))
}

#[cfg(test)]
mod tests {
    use super::super::conformance::conformance;
    use super::super::file_format::FRAME_HEADER_LEN;
    use super::super::open_meta_store;
    use super::*;

    fn small_compaction() -> FileMetaStoreOptions {
        FileMetaStoreOptions {
            compact_log_bytes: 4 << 10,
        }
    }

    async fn open(dir: &Path) -> FileMetaStore {
        match FileMetaStore::open(dir, FileMetaStoreOptions::default()).await {
            Ok(store) => store,
            Err(e) => panic!("opening {}: {e}", dir.display()),
        }
    }

    async fn put(store: &FileMetaStore, key: &str, value: &str) {
        let r = store.put(key.as_bytes(), value.as_bytes()).await;
        assert!(r.is_ok(), "put {key}: {r:?}");
    }

    async fn get(store: &FileMetaStore, key: &str) -> Option<String> {
        match store.get(key.as_bytes()).await {
            Ok(v) => v.map(|v| String::from_utf8_lossy(&v).into_owned()),
            Err(e) => panic!("get {key}: {e}"),
        }
    }

    async fn all(store: &FileMetaStore) -> Vec<(String, String)> {
        match store.scan_prefix(b"").await {
            Ok(kvs) => kvs
                .into_iter()
                .map(|(k, v)| {
                    (
                        String::from_utf8_lossy(&k).into_owned(),
                        String::from_utf8_lossy(&v).into_owned(),
                    )
                })
                .collect(),
            Err(e) => panic!("scan: {e}"),
        }
    }

    fn current_log(dir: &Path) -> PathBuf {
        match list_logs(dir) {
            Ok(logs) if logs.len() == 1 => logs[0].1.clone(),
            other => panic!("expected exactly one log in {}: {other:?}", dir.display()),
        }
    }

    fn tempdir() -> tempfile::TempDir {
        match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        }
    }

    /// Writes k1..k3 in three transactions and closes the store; returns the log and the
    /// offset where the third transaction's record starts.
    async fn three_transactions(dir: &Path) -> (PathBuf, u64) {
        let store = open(dir).await;
        put(&store, "k1", "v1").await;
        put(&store, "k2", "v2").await;
        let log = current_log(dir);
        let before_third = fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        put(&store, "k3", "v3").await;
        drop(store);
        (log, before_third)
    }

    fn append(path: &Path, bytes: &[u8]) {
        let r = OpenOptions::new()
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(bytes));
        assert!(r.is_ok(), "appending to {}: {r:?}", path.display());
    }

    fn set_len(path: &Path, len: u64) {
        let r = OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(len));
        assert!(r.is_ok(), "truncating {}: {r:?}", path.display());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn file_conformance() {
        let dir = tempdir();
        let store = match open_meta_store(&format!("file://{}", dir.path().display())).await {
            Ok(s) => s,
            Err(e) => panic!("open: {e}"),
        };
        conformance(store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn file_conformance_while_compacting_constantly() {
        let dir = tempdir();
        let store = FileMetaStore::open(
            dir.path(),
            FileMetaStoreOptions {
                compact_log_bytes: 1,
            },
        )
        .await;
        let Ok(store) = store else {
            panic!("open: {store:?}");
        };
        conformance(Arc::new(store)).await;
        // Everything that conformance left behind survives a reopen from snapshots alone.
        let before = {
            let s = open(dir.path()).await;
            all(&s).await
        };
        assert!(!before.is_empty());
    }

    #[tokio::test]
    async fn reopen_keeps_puts_and_deletes() {
        let dir = tempdir();
        {
            let store = open(dir.path()).await;
            put(&store, "a", "1").await;
            put(&store, "b", "2").await;
            put(&store, "a", "3").await;
            assert!(store.delete(b"b").await.is_ok());
            let applied = store
                .txn(
                    vec![Precondition::key_absent("c")],
                    vec![Operation::put("c", "4"), Operation::put("d", "")],
                )
                .await;
            assert_eq!(applied.ok(), Some(true));
            let rejected = store
                .txn(
                    vec![Precondition::key_absent("c")],
                    vec![Operation::put("e", "5")],
                )
                .await;
            assert_eq!(rejected.ok(), Some(false));
        }
        let store = open(dir.path()).await;
        assert_eq!(
            all(&store).await,
            vec![
                ("a".into(), "3".into()),
                ("c".into(), "4".into()),
                ("d".into(), "".into())
            ]
        );
    }

    #[tokio::test]
    async fn second_open_of_a_dir_is_refused_until_the_first_closes() {
        let dir = tempdir();
        let first = open(dir.path()).await;
        let second = FileMetaStore::open(dir.path(), FileMetaStoreOptions::default()).await;
        match second {
            Err(e @ MetaStoreError::Locked { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains(&std::process::id().to_string()), "{msg}");
                assert!(msg.contains("in use by another meta process"), "{msg}");
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        put(&first, "k", "v").await;
        drop(first);
        let again = open(dir.path()).await;
        assert_eq!(get(&again, "k").await.as_deref(), Some("v"));
    }

    #[tokio::test]
    async fn garbage_after_the_last_record_is_cut_off() {
        let dir = tempdir();
        let (log, _) = three_transactions(dir.path()).await;
        let good_len = fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        append(&log, b"\x07garbage that is not a record at all\xff\xfe");
        let store = open(dir.path()).await;
        assert_eq!(all(&store).await.len(), 3);
        assert_eq!(fs::metadata(&log).map(|m| m.len()).ok(), Some(good_len));
        // The store keeps working after recovery, and new records land where the garbage was.
        put(&store, "k4", "v4").await;
        drop(store);
        let store = open(dir.path()).await;
        assert_eq!(get(&store, "k4").await.as_deref(), Some("v4"));
        assert_eq!(all(&store).await.len(), 4);
    }

    #[tokio::test]
    async fn zeros_after_the_last_record_are_cut_off() {
        // What some filesystems show after a crash that extended the file but not its data.
        let dir = tempdir();
        let (log, _) = three_transactions(dir.path()).await;
        append(&log, &[0u8; 4096]);
        let store = open(dir.path()).await;
        assert_eq!(all(&store).await.len(), 3);
    }

    #[tokio::test]
    async fn record_cut_mid_write_recovers_the_earlier_transactions() {
        let dir = tempdir();
        let (log, third_at) = three_transactions(dir.path()).await;
        let full_len = fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        // Cut inside the header, right after it, and inside the payload.
        for cut in [
            third_at + 3,
            third_at + FRAME_HEADER_LEN as u64,
            full_len - 1,
        ] {
            let scratch = tempdir();
            for entry in fs::read_dir(dir.path()).into_iter().flatten().flatten() {
                if entry.file_name() != LOCK_FILE {
                    let copied = fs::copy(entry.path(), scratch.path().join(entry.file_name()));
                    assert!(copied.is_ok());
                }
            }
            let scratch_log = scratch.path().join(log.file_name().unwrap_or_default());
            set_len(&scratch_log, cut);
            let store = open(scratch.path()).await;
            assert_eq!(
                all(&store).await,
                vec![("k1".into(), "v1".into()), ("k2".into(), "v2".into())],
                "cut at {cut}"
            );
            assert_eq!(
                fs::metadata(&scratch_log).map(|m| m.len()).ok(),
                Some(third_at)
            );
        }
    }

    #[tokio::test]
    async fn damage_in_the_middle_of_the_log_is_an_error_not_silent_loss() {
        let dir = tempdir();
        let (log, _) = three_transactions(dir.path()).await;
        let mut bytes = fs::read(&log).unwrap_or_default();
        bytes[FRAME_HEADER_LEN + 3] ^= 0x40;
        assert!(fs::write(&log, &bytes).is_ok());
        match FileMetaStore::open(dir.path(), FileMetaStoreOptions::default()).await {
            Err(MetaStoreError::Corrupt { path, reason }) => {
                assert_eq!(path, log);
                assert!(reason.contains("intact record follows"), "{reason}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        // Nothing was truncated: an operator can still inspect or repair the file.
        assert_eq!(fs::read(&log).ok(), Some(bytes));
    }

    #[tokio::test]
    async fn corrupt_snapshot_is_an_error() {
        let dir = tempdir();
        {
            let store = FileMetaStore::open(dir.path(), small_compaction()).await;
            let Ok(store) = store else {
                panic!("open: {store:?}")
            };
            for i in 0..100 {
                let r = store
                    .put(format!("key{i:03}").as_bytes(), &[b'x'; 100])
                    .await;
                assert!(r.is_ok());
            }
        }
        let snapshot = dir.path().join(SNAPSHOT_FILE);
        let mut bytes = fs::read(&snapshot).unwrap_or_default();
        assert!(
            !bytes.is_empty(),
            "compaction should have written a snapshot"
        );
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x01;
        assert!(fs::write(&snapshot, &bytes).is_ok());
        let r = FileMetaStore::open(dir.path(), FileMetaStoreOptions::default()).await;
        assert!(matches!(r, Err(MetaStoreError::Corrupt { .. })), "{r:?}");
    }

    #[tokio::test]
    async fn compaction_keeps_data_and_replaces_the_log() {
        let dir = tempdir();
        let mut expected = std::collections::BTreeMap::new();
        {
            let store = FileMetaStore::open(dir.path(), small_compaction()).await;
            let Ok(store) = store else {
                panic!("open: {store:?}")
            };
            for i in 0..300u32 {
                let key = format!("key{:03}", i % 50);
                if i % 7 == 3 {
                    assert!(store.delete(key.as_bytes()).await.is_ok());
                    expected.remove(&key);
                } else {
                    let value = format!("value-{i}-{}", "p".repeat(60));
                    put(&store, &key, &value).await;
                    expected.insert(key, value);
                }
            }
            let generation = store.inner.writer.lock().generation;
            assert!(
                generation >= 2,
                "expected several compactions, got generation {generation}"
            );
            let log_len = store.inner.writer.lock().len;
            assert!(
                log_len < 8 << 10,
                "log should have been restarted, is {log_len} bytes"
            );
            assert_eq!(list_logs(dir.path()).map(|l| l.len()).ok(), Some(1));
            assert!(!dir.path().join(SNAPSHOT_TMP_FILE).exists());
            let expected: Vec<_> = expected.clone().into_iter().collect();
            assert_eq!(all(&store).await, expected);
        }
        let store = open(dir.path()).await;
        let expected: Vec<_> = expected.into_iter().collect();
        assert_eq!(all(&store).await, expected);
    }

    #[tokio::test]
    async fn leftovers_of_an_interrupted_compaction_are_ignored() {
        let dir = tempdir();
        let stale_log;
        {
            let store = FileMetaStore::open(dir.path(), small_compaction()).await;
            let Ok(store) = store else {
                panic!("open: {store:?}")
            };
            put(&store, "gone", "soon").await;
            stale_log = fs::read(current_log(dir.path())).unwrap_or_default();
            assert!(store.delete(b"gone").await.is_ok());
            for i in 0..100 {
                put(&store, &format!("k{i:03}"), &"v".repeat(100)).await;
            }
            assert!(store.inner.writer.lock().generation >= 1);
        }
        // A crash after the snapshot rename but before the old log was deleted leaves the old
        // log behind; a crash while writing the snapshot leaves a partial temp file.
        assert!(fs::write(log_path(dir.path(), 0), &stale_log).is_ok());
        assert!(fs::write(dir.path().join(SNAPSHOT_TMP_FILE), b"TBMSNAP1 half written").is_ok());
        let store = open(dir.path()).await;
        assert_eq!(
            get(&store, "gone").await,
            None,
            "a stale log must not be replayed"
        );
        assert_eq!(all(&store).await.len(), 100);
        assert!(!log_path(dir.path(), 0).exists());
        assert!(!dir.path().join(SNAPSHOT_TMP_FILE).exists());
    }

    #[tokio::test]
    async fn a_log_newer_than_the_snapshot_is_an_error() {
        let dir = tempdir();
        drop(open(dir.path()).await);
        assert!(fs::write(log_path(dir.path(), 5), b"").is_ok());
        let r = FileMetaStore::open(dir.path(), FileMetaStoreOptions::default()).await;
        assert!(matches!(r, Err(MetaStoreError::Corrupt { .. })), "{r:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_compare_and_swap_persists_every_increment() {
        let dir = tempdir();
        let store = FileMetaStore::open(dir.path(), small_compaction()).await;
        let Ok(store) = store else {
            panic!("open: {store:?}")
        };
        let store = Arc::new(store);
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut done = 0;
                while done < 25 {
                    let current = store.get(b"counter").await.ok().flatten();
                    let n: u64 = current
                        .as_deref()
                        .and_then(|v| std::str::from_utf8(v).ok())
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let pre = match current {
                        Some(v) => Precondition::value_equals("counter", v),
                        None => Precondition::key_absent("counter"),
                    };
                    let ops = vec![
                        Operation::put("counter", (n + 1).to_string()),
                        Operation::put(format!("seen/{:04}", n + 1), "x".repeat(50)),
                    ];
                    if store.txn(vec![pre], ops).await.ok() == Some(true) {
                        done += 1;
                    }
                }
            }));
        }
        for t in tasks {
            assert!(t.await.is_ok());
        }
        drop(store);
        let store = open(dir.path()).await;
        assert_eq!(get(&store, "counter").await.as_deref(), Some("100"));
        assert_eq!(
            store.scan_prefix(b"seen/").await.map(|s| s.len()).ok(),
            Some(100)
        );
    }
}
