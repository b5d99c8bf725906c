//! A table's writer: turns DML chunks into key-value changes of the current epoch.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::compute::{interleave, take};
use arrow::array::UInt32Array;

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch};
use bytes::Bytes;
use tributary_common::catalog::{table_source_actor_id, Table, TableSchema};
use tributary_common::chunk::Op;
use tributary_common::encoding::{decode_value, ColumnBuilder};
use tributary_proto::catalog::TableType;
use tributary_storage::StateStore;
use tributary_common::chunk::StreamChunk;
use tributary_common::encoding::{encode_key_columns, encode_value_columns, table_key, vnode_of_key};
use tributary_common::types::DataType;

use crate::error::{ComputeError, ComputeResult};
use crate::row_id::RowIdGenerator;
use crate::stream::exchange::{ChannelRegistry, Dispatcher, DispatcherSet};
use crate::stream::message::Barrier;

pub struct TableWriter {
    pub table_id: u32,
    pub schema: TableSchema,
    pub pk_indices: Vec<usize>,
    /// Descending flags of the key columns (materialized views ordered by their top-N key).
    pub pk_desc: Vec<bool>,
    /// Columns stored in the value: every column not in the key, in table order.
    pub value_indices: Vec<usize>,
    pub row_id_index: Option<usize>,
    /// Materialized views are written by their actors, never by DML.
    pub accepts_dml: bool,
    state: tokio::sync::Mutex<WriterState>,
}

/// What a write and a barrier change together, under one lock: a write lands in exactly one
/// epoch, and its changes reach subscribers before that epoch's barrier.
struct WriterState {
    /// Last write per key in the open epoch (None = delete).
    pending: BTreeMap<Bytes, Option<Bytes>>,
    /// The open epoch: writes now are committed with it.
    epoch: u64,
    /// Streaming jobs reading the table's changes.
    subscribers: DispatcherSet,
}

impl TableWriter {
    pub fn new(table: &Table) -> ComputeResult<Self> {
        let schema = TableSchema::of(table)?;
        let n = schema.types.len();
        let pk_indices: Vec<usize> = table.pk_indices.iter().map(|i| *i as usize).collect();
        let accepts_dml = matches!(TableType::try_from(table.table_type), Ok(TableType::Table | TableType::Unspecified));
        // A view with at most one row (a simple aggregate) has an empty key; a table never does.
        if (accepts_dml && pk_indices.is_empty()) || pk_indices.iter().any(|i| *i >= n) {
            return Err(ComputeError::InvalidRequest(format!("table {} has an invalid primary key", table.name)));
        }
        let value_indices = (0..n).filter(|i| !pk_indices.contains(i)).collect();
        let row_id_index = table.row_id_index.map(|i| i as usize);
        if row_id_index.is_some_and(|i| i >= n || schema.types[i] != DataType::Int64) {
            return Err(ComputeError::InvalidRequest(format!("table {} has an invalid row id column", table.name)));
        }
        Ok(TableWriter {
            table_id: table.id,
            schema,
            pk_desc: if table.pk_descending.len() == pk_indices.len() {
                table.pk_descending.clone()
            } else {
                vec![false; pk_indices.len()]
            },
            pk_indices,
            value_indices,
            row_id_index,
            accepts_dml,
            state: tokio::sync::Mutex::new(WriterState {
                pending: BTreeMap::new(),
                epoch: 0,
                subscribers: DispatcherSet::default(),
            }),
        })
    }

    pub fn pk_types(&self) -> Vec<DataType> {
        self.pk_indices.iter().map(|i| self.schema.types[*i].clone()).collect()
    }

    pub fn value_types(&self) -> Vec<DataType> {
        self.value_indices.iter().map(|i| self.schema.types[*i].clone()).collect()
    }

    /// Applies a chunk whose columns are the table's columns in order. Inserted rows with a NULL
    /// row id get a fresh one. Returns the rows written and the epoch they belong to.
    ///
    /// When streaming jobs read the table, the write also produces the table's changes: an
    /// insert over an existing key becomes an update of the stored row, a delete removes the
    /// stored row (whatever values the request carried), and a delete of a missing key is
    /// nothing.
    pub async fn write(
        &self,
        chunk: StreamChunk,
        row_ids: &RowIdGenerator,
        store: &Arc<dyn StateStore>,
        current_epoch: u64,
    ) -> ComputeResult<(usize, u64)> {
        if !self.accepts_dml {
            return Err(ComputeError::InvalidRequest(format!("relation {} is not a table", self.table_id)));
        }
        let StreamChunk { ops, batch } = chunk;
        let columns = self.check_columns(&batch)?;
        // Inserts that get a fresh row id cannot overwrite anything: no old value to look up.
        let fresh: Vec<bool> = match self.row_id_index {
            Some(r) => (0..batch.num_rows()).map(|i| ops[i].is_insert() && columns[r].is_null(i)).collect(),
            None => vec![false; batch.num_rows()],
        };
        let columns = self.fill_row_ids(columns, &ops, row_ids)?;
        let rows = batch.num_rows();

        let key_cols: Vec<ArrayRef> = self.pk_indices.iter().map(|i| columns[*i].clone()).collect();
        let mut keys = vec![Vec::new(); rows];
        encode_key_columns(&key_cols, &self.pk_types(), &[], &mut keys)?;
        let value_cols: Vec<ArrayRef> = self.value_indices.iter().map(|i| columns[*i].clone()).collect();
        let mut values = vec![Vec::new(); rows];
        encode_value_columns(&value_cols, &self.value_types(), &mut values)?;

        let mut state = self.state.lock().await;
        if state.epoch == 0 {
            state.epoch = current_epoch;
        }
        let subscribed = !state.subscribers.is_empty();
        let mut changes = ChangeBuilder::default();
        for (i, ((op, pk), value)) in ops.iter().zip(keys).zip(values).enumerate() {
            let key = Bytes::from(table_key(self.table_id, vnode_of_key(&pk), &pk));
            let new = op.is_insert().then(|| Bytes::from(value));
            if subscribed {
                let old = if fresh[i] {
                    None
                } else {
                    match state.pending.get(&key) {
                        Some(v) => v.clone(),
                        None => store.get(&key, u64::MAX).await?,
                    }
                };
                changes.push(i, old, new.is_some());
            }
            state.pending.insert(key, new);
        }
        if subscribed {
            if let Some(chunk) = changes.build(self, &columns)? {
                state.subscribers.dispatch_chunk(chunk).await.map_err(|e| ComputeError::Stream(e.to_string()))?;
            }
        }
        Ok((rows, state.epoch))
    }

    /// Closes the open epoch at `barrier`: stores its writes at `barrier.epoch.prev`, adds the
    /// subscriptions the barrier brings and passes the barrier to subscribers. The data is in
    /// the store before any subscriber sees the barrier, so a new job's backfill reading at
    /// `prev` finds it.
    pub async fn barrier(
        &self,
        barrier: &Barrier,
        store: &Arc<dyn StateStore>,
        channels: &ChannelRegistry,
    ) -> ComputeResult<()> {
        let mut state = self.state.lock().await;
        let kvs: Vec<_> = std::mem::take(&mut state.pending).into_iter().collect();
        if !kvs.is_empty() {
            store.ingest_batch(kvs, barrier.epoch.prev)?;
        }
        state.epoch = barrier.epoch.curr;
        if !self.accepts_dml {
            // A materialized view's changes come from its Materialize actors, which serve its
            // subscribers; this writer only describes it for batch scans.
            return Ok(());
        }
        let source = table_source_actor_id(self.table_id);
        let new = barrier
            .subscriptions_to(self.table_id)
            .iter()
            .map(|d| Dispatcher::new(d, source, &self.schema.types, channels))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ComputeError::Stream(e.to_string()))?;
        state.subscribers.dispatch_barrier(barrier, new).await.map_err(|e| ComputeError::Stream(e.to_string()))?;
        Ok(())
    }

    fn check_columns(&self, batch: &RecordBatch) -> ComputeResult<Vec<ArrayRef>> {
        let expected = &self.schema.arrow;
        if batch.num_columns() != expected.fields().len() {
            return Err(ComputeError::InvalidRequest(format!(
                "table {} has {} columns, the write has {}",
                self.table_id,
                expected.fields().len(),
                batch.num_columns()
            )));
        }
        let mut out = Vec::with_capacity(batch.num_columns());
        for (i, (col, field)) in batch.columns().iter().zip(expected.fields()).enumerate() {
            if col.data_type() != field.data_type() {
                return Err(ComputeError::InvalidRequest(format!(
                    "column {i} of table {} is {}, the write has {}",
                    self.table_id,
                    field.data_type(),
                    col.data_type()
                )));
            }
            if !field.is_nullable() && col.null_count() > 0 && Some(i) != self.row_id_index {
                return Err(ComputeError::InvalidRequest(format!(
                    "null value in column \"{}\" violates not-null constraint",
                    field.name()
                )));
            }
            out.push(col.clone());
        }
        Ok(out)
    }

    fn fill_row_ids(
        &self,
        mut columns: Vec<ArrayRef>,
        ops: &[tributary_common::chunk::Op],
        row_ids: &RowIdGenerator,
    ) -> ComputeResult<Vec<ArrayRef>> {
        let Some(idx) = self.row_id_index else {
            return Ok(columns);
        };
        let col = columns[idx]
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| ComputeError::InvalidRequest("row id column is not bigint".into()))?;
        let missing = (0..col.len()).filter(|r| col.is_null(*r)).count();
        if missing == 0 {
            return Ok(columns);
        }
        let mut fresh = row_ids.next_ids(missing).into_iter();
        let mut filled = Vec::with_capacity(col.len());
        for (r, op) in ops.iter().enumerate() {
            if col.is_null(r) {
                if !op.is_insert() {
                    return Err(ComputeError::InvalidRequest("delete without a row id".into()));
                }
                filled.push(fresh.next());
            } else {
                filled.push(Some(col.value(r)));
            }
        }
        columns[idx] = Arc::new(Int64Array::from(filled));
        Ok(columns)
    }
}

/// The change rows of one write: each is a row of the write (new values) or a stored row
/// (old values, with the same key as a row of the write).
#[derive(Default)]
struct ChangeBuilder {
    ops: Vec<Op>,
    /// Row of the write whose key (and, for new rows, values) the change has.
    rows: Vec<u32>,
    /// For old rows, the index of their stored value in `old_values`.
    old_slot: Vec<Option<usize>>,
    old_values: Vec<Bytes>,
}

impl ChangeBuilder {
    fn push(&mut self, row: usize, old: Option<Bytes>, insert: bool) {
        let row = row as u32;
        match (old, insert) {
            (Some(old), true) => {
                self.push_old(Op::UpdateDelete, row, old);
                self.ops.push(Op::UpdateInsert);
                self.rows.push(row);
                self.old_slot.push(None);
            }
            (None, true) => {
                self.ops.push(Op::Insert);
                self.rows.push(row);
                self.old_slot.push(None);
            }
            (Some(old), false) => self.push_old(Op::Delete, row, old),
            (None, false) => {}
        }
    }

    fn push_old(&mut self, op: Op, row: u32, old: Bytes) {
        self.ops.push(op);
        self.rows.push(row);
        self.old_slot.push(Some(self.old_values.len()));
        self.old_values.push(old);
    }

    fn build(self, table: &TableWriter, columns: &[ArrayRef]) -> ComputeResult<Option<StreamChunk>> {
        if self.ops.is_empty() {
            return Ok(None);
        }
        let value_types = table.value_types();
        let mut builders =
            value_types.iter().map(|t| ColumnBuilder::new(t, self.old_values.len())).collect::<Result<Vec<_>, _>>()?;
        for v in &self.old_values {
            decode_value(v, &value_types, &mut builders)?;
        }
        let old_columns: Vec<ArrayRef> = builders.iter_mut().map(|b| b.finish()).collect();
        let indices = UInt32Array::from(self.rows.clone());
        let mut out: Vec<Option<ArrayRef>> = vec![None; columns.len()];
        for i in &table.pk_indices {
            out[*i] = Some(take(columns[*i].as_ref(), &indices, None)?);
        }
        let picks: Vec<(usize, usize)> = self
            .rows
            .iter()
            .zip(&self.old_slot)
            .map(|(r, slot)| match slot {
                Some(s) => (1, *s),
                None => (0, *r as usize),
            })
            .collect();
        for (j, i) in table.value_indices.iter().enumerate() {
            out[*i] = Some(interleave(&[columns[*i].as_ref(), old_columns[j].as_ref()], &picks)?);
        }
        let out: Vec<ArrayRef> = out.into_iter().map(|c| c.expect("every column is key or value")).collect();
        let batch = RecordBatch::try_new(table.schema.arrow.clone(), out)?;
        Ok(Some(StreamChunk::new(self.ops, batch)?))
    }
}
