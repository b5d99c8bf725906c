//! A table's writer: turns DML chunks into key-value changes of the current epoch.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch};
use bytes::Bytes;
use parking_lot::Mutex;
use tributary_common::catalog::{Table, TableSchema};
use tributary_common::chunk::StreamChunk;
use tributary_common::encoding::{encode_key_columns, encode_value_columns, table_key, vnode_of_key};
use tributary_common::types::DataType;

use crate::error::{ComputeError, ComputeResult};
use crate::row_id::RowIdGenerator;

pub struct TableWriter {
    pub table_id: u32,
    pub schema: TableSchema,
    pub pk_indices: Vec<usize>,
    /// Columns stored in the value: every column not in the key, in table order.
    pub value_indices: Vec<usize>,
    pub row_id_index: Option<usize>,
    /// Last write per key in the current epoch (None = delete).
    pending: Mutex<BTreeMap<Bytes, Option<Bytes>>>,
}

impl TableWriter {
    pub fn new(table: &Table) -> ComputeResult<Self> {
        let schema = TableSchema::of(table)?;
        let n = schema.types.len();
        let pk_indices: Vec<usize> = table.pk_indices.iter().map(|i| *i as usize).collect();
        if pk_indices.is_empty() || pk_indices.iter().any(|i| *i >= n) {
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
            pk_indices,
            value_indices,
            row_id_index,
            pending: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn pk_types(&self) -> Vec<DataType> {
        self.pk_indices.iter().map(|i| self.schema.types[*i].clone()).collect()
    }

    pub fn value_types(&self) -> Vec<DataType> {
        self.value_indices.iter().map(|i| self.schema.types[*i].clone()).collect()
    }

    /// Applies a chunk whose columns are the table's columns in order. Inserted rows with a NULL
    /// row id get a fresh one.
    pub fn write(&self, chunk: StreamChunk, row_ids: &RowIdGenerator) -> ComputeResult<usize> {
        let StreamChunk { ops, batch } = chunk;
        let columns = self.check_columns(&batch)?;
        let columns = self.fill_row_ids(columns, &ops, row_ids)?;
        let rows = batch.num_rows();

        let key_cols: Vec<ArrayRef> = self.pk_indices.iter().map(|i| columns[*i].clone()).collect();
        let mut keys = vec![Vec::new(); rows];
        encode_key_columns(&key_cols, &self.pk_types(), &[], &mut keys)?;
        let value_cols: Vec<ArrayRef> = self.value_indices.iter().map(|i| columns[*i].clone()).collect();
        let mut values = vec![Vec::new(); rows];
        encode_value_columns(&value_cols, &self.value_types(), &mut values)?;

        let mut pending = self.pending.lock();
        for ((op, pk), value) in ops.iter().zip(keys).zip(values) {
            let key = Bytes::from(table_key(self.table_id, vnode_of_key(&pk), &pk));
            if op.is_insert() {
                pending.insert(key, Some(Bytes::from(value)));
            } else {
                pending.insert(key, None);
            }
        }
        Ok(rows)
    }

    pub fn take_pending(&self) -> Vec<(Bytes, Option<Bytes>)> {
        std::mem::take(&mut *self.pending.lock()).into_iter().collect()
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
