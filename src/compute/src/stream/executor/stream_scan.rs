//! Stream scan: a new job's view of an upstream table or materialized view — a snapshot of it
//! (backfill) followed by its changes, with no row lost or seen twice.
//!
//! The snapshot is read in key order (vnode, then pk) over the actor's vnodes, in batches,
//! between barriers; `pos` is the storage key of the last snapshot row emitted. Upstream changes
//! of an epoch are held until its barrier and then passed on only for keys at or before `pos`
//! (later keys come with a later snapshot read). After each barrier the snapshot is read again
//! at the epoch that barrier closed, from `pos` on, so it includes every change the scan dropped.
//! Barriers are never held back by the snapshot, so other jobs are not disturbed.

use std::ops::Bound;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch};
use arrow::datatypes::SchemaRef;
use async_stream::try_stream;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use tributary_common::chunk::StreamChunk;
use tributary_common::encoding::{encode_key_columns, table_key, table_vnode_prefix, vnode_of_key, VNODE_COUNT};
use tributary_common::types::DataType;

use super::filter::filter_with;
use super::{Execute, Executor, MessageStream};
use crate::stream::barrier::BackfillProgressMap;
use crate::stream::error::{StreamError, StreamResult};
use crate::stream::message::Message;
use crate::stream::row::batch_of;
use crate::stream::state_table::StateTable;

/// Snapshot rows read per batch.
const SNAPSHOT_BATCH: usize = 1024;

pub struct StreamScanExecutor {
    pub upstream: Executor,
    pub core: ScanCore,
}

pub struct ScanCore {
    pub actor_id: u32,
    /// Read-only view of the upstream's storage (its table id, columns, pk, dist key), limited
    /// to this actor's vnodes.
    pub snapshot: Arc<StateTable>,
    pub upstream_types: Vec<DataType>,
    pub upstream_pk: Vec<usize>,
    pub upstream_pk_desc: Vec<bool>,
    pub upstream_dist_key: Vec<usize>,
    pub output_indices: Vec<usize>,
    pub output_schema: SchemaRef,
    pub progress: Arc<BackfillProgressMap>,
}

enum Event {
    Upstream(Option<StreamResult<Message>>),
    Snapshot(StreamResult<(Vec<(Bytes, Bytes)>, bool)>),
}

type SnapshotRead = BoxFuture<'static, StreamResult<(Vec<(Bytes, Bytes)>, bool)>>;

impl ScanCore {
    fn project(&self, chunk: StreamChunk) -> StreamResult<StreamChunk> {
        let columns: Vec<ArrayRef> = self.output_indices.iter().map(|i| chunk.batch.column(*i).clone()).collect();
        let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(chunk.batch.num_rows()));
        let batch = RecordBatch::try_new_with_options(self.output_schema.clone(), columns, &options)?;
        Ok(StreamChunk::new(chunk.ops, batch)?)
    }

    /// Storage keys of the upstream rows in `batch`.
    fn keys_of(&self, batch: &RecordBatch) -> StreamResult<Vec<Vec<u8>>> {
        let rows = batch.num_rows();
        let vnodes: Vec<u16> = if self.upstream_dist_key.is_empty() {
            vec![0; rows]
        } else {
            let cols: Vec<ArrayRef> = self.upstream_dist_key.iter().map(|i| batch.column(*i).clone()).collect();
            let types: Vec<DataType> = self.upstream_dist_key.iter().map(|i| self.upstream_types[*i].clone()).collect();
            let mut keys = vec![Vec::new(); rows];
            encode_key_columns(&cols, &types, &[], &mut keys)?;
            keys.iter().map(|k| vnode_of_key(k)).collect()
        };
        let cols: Vec<ArrayRef> = self.upstream_pk.iter().map(|i| batch.column(*i).clone()).collect();
        let types: Vec<DataType> = self.upstream_pk.iter().map(|i| self.upstream_types[*i].clone()).collect();
        let mut pks = vec![Vec::new(); rows];
        encode_key_columns(&cols, &types, &self.upstream_pk_desc, &mut pks)?;
        Ok(pks.iter().zip(vnodes).map(|(pk, v)| table_key(self.snapshot.table_id(), v, pk)).collect())
    }

    /// The part of a buffered upstream chunk already covered by the snapshot (`key <= pos`).
    fn covered(&self, chunk: StreamChunk, pos: &Option<Vec<u8>>) -> StreamResult<Option<StreamChunk>> {
        let Some(pos) = pos else {
            return Ok(None);
        };
        let keys = self.keys_of(&chunk.batch)?;
        let keep = BooleanArray::from(keys.iter().map(|k| k.as_slice() <= pos.as_slice()).collect::<Vec<_>>());
        filter_with(chunk, &keep)
    }

    /// Starts reading the next snapshot batch after `pos` at `epoch`: (rows, whether the
    /// snapshot is exhausted).
    fn read_snapshot(&self, pos: Option<Vec<u8>>, epoch: u64) -> SnapshotRead {
        let table = self.snapshot.clone();
        let owned: Vec<u16> = (0..VNODE_COUNT as u16).filter(|v| table.owns_vnode(*v)).collect();
        async move {
            let mut out = Vec::new();
            let start_vnode = pos.as_ref().map(|p| u16::from_be_bytes([p[4], p[5]])).unwrap_or(0);
            for v in owned.into_iter().filter(|v| *v >= start_vnode) {
                let prefix = table_vnode_prefix(table.table_id(), v);
                let end = match v.checked_add(1) {
                    Some(next) if (next as usize) < VNODE_COUNT => {
                        Bound::Excluded(Bytes::copy_from_slice(&table_vnode_prefix(table.table_id(), next)))
                    }
                    _ => Bound::Excluded(Bytes::copy_from_slice(&(table.table_id() + 1).to_be_bytes())),
                };
                let start = match &pos {
                    Some(p) if p[..6] == prefix[..] => Bound::Excluded(Bytes::copy_from_slice(p)),
                    _ => Bound::Included(Bytes::copy_from_slice(&prefix)),
                };
                let kvs = table.scan_at((start, end), SNAPSHOT_BATCH - out.len(), epoch).await?;
                out.extend(kvs);
                if out.len() >= SNAPSHOT_BATCH {
                    return Ok((out, false));
                }
            }
            Ok((out, true))
        }
        .boxed()
    }
}

impl Execute for StreamScanExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        let StreamScanExecutor { upstream, core: me } = *self;
        Box::pin(try_stream! {
            let mut upstream = upstream.execute();

            // The first barrier subscribed us; the snapshot is the upstream as of its prev epoch.
            let first = match upstream.next().await {
                Some(msg) => msg?,
                None => Err(StreamError::Internal("upstream ended before the first barrier".into()))?,
            };
            let Message::Barrier(first) = first else {
                Err(StreamError::Internal("stream scan got data before its first barrier".into()))?;
                unreachable!()
            };
            let mut snapshot_epoch = first.epoch.prev;
            let mut rows_done = 0u64;
            me.progress.report(me.actor_id, 0, false);
            yield Message::Barrier(first);

            let mut pos: Option<Vec<u8>> = None;
            let mut buffered: Vec<StreamChunk> = Vec::new();
            let mut read = me.read_snapshot(None, snapshot_epoch);
            let mut done = false;
            while !done {
                // The select only picks the event: `yield` and `?` must stay outside its macro.
                let event = tokio::select! {
                    biased;
                    msg = upstream.next() => Event::Upstream(msg),
                    result = &mut read => Event::Snapshot(result),
                };
                match event {
                    Event::Upstream(msg) => {
                        let msg = match msg {
                            Some(m) => m?,
                            None => Err(StreamError::Internal("upstream ended during backfill".into()))?,
                        };
                        match msg {
                            Message::Chunk(c) => buffered.push(c),
                            Message::Barrier(b) => {
                                for c in std::mem::take(&mut buffered) {
                                    if let Some(c) = me.covered(c, &pos)? {
                                        yield Message::Chunk(me.project(c)?);
                                    }
                                }
                                me.progress.report(me.actor_id, rows_done, false);
                                snapshot_epoch = b.epoch.prev;
                                let stop = b.is_stop(me.actor_id);
                                yield Message::Barrier(b);
                                if stop {
                                    return;
                                }
                                read = me.read_snapshot(pos.clone(), snapshot_epoch);
                            }
                        }
                    }
                    Event::Snapshot(result) => {
                        let (kvs, exhausted) = result?;
                        if let Some((k, _)) = kvs.last() {
                            pos = Some(k.to_vec());
                        }
                        if !kvs.is_empty() {
                            rows_done += kvs.len() as u64;
                            let rows = me.snapshot.decode_rows(&kvs)?;
                            let projected: Vec<_> = rows.into_iter().map(|r| me.output_indices.iter().map(|i| r[*i].clone()).collect()).collect();
                            let batch = batch_of(&projected, &me.output_schema)?;
                            yield Message::Chunk(StreamChunk::inserts(batch));
                        }
                        if exhausted {
                            done = true;
                        } else {
                            read = me.read_snapshot(pos.clone(), snapshot_epoch);
                        }
                    }
                }
            }
            // The snapshot is exhausted: every key is covered from now on.
            for c in std::mem::take(&mut buffered) {
                yield Message::Chunk(me.project(c)?);
            }
            let mut reported_done = false;
            while let Some(msg) = upstream.next().await {
                match msg? {
                    Message::Chunk(c) => yield Message::Chunk(me.project(c)?),
                    Message::Barrier(b) => {
                        if !reported_done {
                            me.progress.report(me.actor_id, rows_done, true);
                            reported_done = true;
                        }
                        let stop = b.is_stop(me.actor_id);
                        yield Message::Barrier(b);
                        if stop {
                            return;
                        }
                    }
                }
            }
        })
    }
}
