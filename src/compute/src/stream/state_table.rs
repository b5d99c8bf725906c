//! A state table: an operator's rows in the state store, keyed by some of their columns.
//!
//! Key: `table_id | vnode | memcomparable(pk columns)`, the vnode hashed from the distribution
//! key columns (so an actor's state is the union of its vnodes' key ranges); value: the value
//! encoding of the other columns. The same layout as user tables and materialized views, so a
//! batch scan reads any of them.
//!
//! Writes of the current epoch stay in a memory table that reads see; [`StateTable::commit`]
//! (called on each barrier) writes them to the store at the closing epoch.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use datafusion::common::ScalarValue;
use tributary_common::chunk::StreamChunk;
use tributary_common::encoding::{
    bitmap_has_vnode, decode_key, decode_value, encode_key_columns, encode_value_columns, table_key,
    table_vnode_prefix, vnode_of_key, ColumnBuilder, VNODE_COUNT, VNODE_PREFIX_LEN,
};
use tributary_common::types::DataType;
use tributary_storage::{prefix_range, StateStore};

use super::error::{StreamError, StreamResult};
use super::row::{columns_of, OwnedRow};

pub struct StateTable {
    store: Arc<dyn StateStore>,
    table_id: u32,
    schema: SchemaRef,
    types: Vec<DataType>,
    pk: Vec<usize>,
    pk_desc: Vec<bool>,
    /// Columns hashed to the vnode; empty: everything in vnode 0 (singleton state).
    dist_key: Vec<usize>,
    value_indices: Vec<usize>,
    /// Vnodes this actor owns (empty: all).
    vnodes: Vec<u8>,
    mem: BTreeMap<Bytes, Option<Bytes>>,
    /// The open epoch: writes go to it, reads see everything up to it.
    epoch: u64,
}

impl StateTable {
    /// `pk_desc` is empty (all ascending) or has a flag per pk column. The distribution key
    /// columns must be a prefix of the pk's columns (in any order) for prefix reads to find the
    /// vnode.
    pub fn new(
        store: Arc<dyn StateStore>,
        table_id: u32,
        schema: SchemaRef,
        pk: Vec<usize>,
        pk_desc: Vec<bool>,
        dist_key: Vec<usize>,
        vnodes: Vec<u8>,
    ) -> StreamResult<Self> {
        let types = schema
            .fields()
            .iter()
            .map(|f| DataType::from_arrow(f.data_type()))
            .collect::<Result<Vec<_>, _>>()?;
        if pk.iter().chain(&dist_key).any(|i| *i >= types.len()) {
            return Err(StreamError::plan(format!("state table {table_id}: key column out of range")));
        }
        let pk_desc = if pk_desc.is_empty() { vec![false; pk.len()] } else { pk_desc };
        let value_indices = (0..types.len()).filter(|i| !pk.contains(i)).collect();
        Ok(StateTable { store, table_id, schema, types, pk, pk_desc, dist_key, value_indices, vnodes, mem: BTreeMap::new(), epoch: 0 })
    }

    pub fn table_id(&self) -> u32 {
        self.table_id
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    pub fn pk_indices(&self) -> &[usize] {
        &self.pk
    }

    /// Sets the open epoch (the first barrier's `curr`).
    pub fn init_epoch(&mut self, epoch: u64) {
        self.epoch = epoch;
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Writes the epoch's changes to the store at the closing epoch and opens `next`.
    pub fn commit(&mut self, next: u64) -> StreamResult<()> {
        if !self.mem.is_empty() {
            let kvs: Vec<_> = std::mem::take(&mut self.mem).into_iter().collect();
            self.store.ingest_batch(kvs, self.epoch)?;
        }
        self.epoch = next;
        Ok(())
    }

    /// Whether this actor owns the vnode `row` hashes to.
    pub fn owns_vnode(&self, vnode: u16) -> bool {
        bitmap_has_vnode(&self.vnodes, vnode)
    }

    fn pk_types(&self) -> Vec<DataType> {
        self.pk.iter().map(|i| self.types[*i].clone()).collect()
    }

    fn value_types(&self) -> Vec<DataType> {
        self.value_indices.iter().map(|i| self.types[*i].clone()).collect()
    }

    /// Vnode of each row of `columns` (the table's full rows).
    fn vnodes_of(&self, columns: &[ArrayRef], rows: usize) -> StreamResult<Vec<u16>> {
        if self.dist_key.is_empty() {
            return Ok(vec![0; rows]);
        }
        let cols: Vec<ArrayRef> = self.dist_key.iter().map(|i| columns[*i].clone()).collect();
        let types: Vec<DataType> = self.dist_key.iter().map(|i| self.types[*i].clone()).collect();
        let mut keys = vec![Vec::new(); rows];
        encode_key_columns(&cols, &types, &[], &mut keys)?;
        Ok(keys.iter().map(|k| vnode_of_key(k)).collect())
    }

    /// Full keys and encoded values of the rows of `columns`.
    fn encode_rows(&self, columns: &[ArrayRef], rows: usize) -> StreamResult<(Vec<Bytes>, Vec<Bytes>)> {
        let vnodes = self.vnodes_of(columns, rows)?;
        let pk_cols: Vec<ArrayRef> = self.pk.iter().map(|i| columns[*i].clone()).collect();
        let mut pks = vec![Vec::new(); rows];
        encode_key_columns(&pk_cols, &self.pk_types(), &self.pk_desc, &mut pks)?;
        let value_cols: Vec<ArrayRef> = self.value_indices.iter().map(|i| columns[*i].clone()).collect();
        let mut values = vec![Vec::new(); rows];
        encode_value_columns(&value_cols, &self.value_types(), &mut values)?;
        let keys = pks.iter().zip(vnodes).map(|(pk, v)| Bytes::from(table_key(self.table_id, v, pk))).collect();
        Ok((keys, values.into_iter().map(Bytes::from).collect()))
    }

    /// Applies a chunk of full rows: inserts put, deletes remove by key.
    pub fn write_chunk(&mut self, chunk: &StreamChunk) -> StreamResult<()> {
        let (keys, values) = self.encode_rows(chunk.batch.columns(), chunk.batch.num_rows())?;
        for ((op, key), value) in chunk.ops.iter().zip(keys).zip(values) {
            self.mem.insert(key, op.is_insert().then_some(value));
        }
        Ok(())
    }

    /// Puts (`insert` true) or deletes full rows.
    pub fn write_rows(&mut self, rows: &[(bool, OwnedRow)]) -> StreamResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let owned: Vec<OwnedRow> = rows.iter().map(|(_, r)| r.clone()).collect();
        let columns = columns_of(&owned, &self.schema)?;
        let (keys, values) = self.encode_rows(&columns, owned.len())?;
        for (((insert, _), key), value) in rows.iter().zip(keys).zip(values) {
            self.mem.insert(key, insert.then_some(value));
        }
        Ok(())
    }

    pub fn insert(&mut self, row: OwnedRow) -> StreamResult<()> {
        self.write_rows(&[(true, row)])
    }

    pub fn delete(&mut self, row: OwnedRow) -> StreamResult<()> {
        self.write_rows(&[(false, row)])
    }

    /// Encodes values of the first `values.len()` pk columns (a pk prefix) and, when the prefix
    /// covers the distribution key, the vnode they hash to.
    fn encode_pk_prefix(&self, values: &[ScalarValue]) -> StreamResult<(Vec<u8>, Option<u16>)> {
        if values.len() > self.pk.len() {
            return Err(StreamError::Internal(format!("state table {}: key prefix too long", self.table_id)));
        }
        let n = values.len();
        let mut prefix = vec![Vec::new(); 1];
        if n > 0 {
            let cols: Vec<ArrayRef> = values.iter().map(|v| v.to_array_of_size(1)).collect::<Result<_, _>>()?;
            let cols = cols
                .into_iter()
                .zip(&self.pk[..n])
                .map(|(c, i)| cast_to(c, &self.types[*i]))
                .collect::<StreamResult<Vec<_>>>()?;
            encode_key_columns(&cols, &self.pk_types()[..n], &self.pk_desc[..n], &mut prefix)?;
        }
        let vnode = if self.dist_key.is_empty() {
            Some(0)
        } else if self.dist_key.iter().all(|d| self.pk[..n].contains(d)) {
            let cols: Vec<ArrayRef> = self
                .dist_key
                .iter()
                .map(|d| {
                    let pos = self.pk.iter().position(|p| p == d).unwrap_or_default();
                    values[pos].to_array_of_size(1).map_err(StreamError::from).and_then(|c| cast_to(c, &self.types[*d]))
                })
                .collect::<StreamResult<_>>()?;
            let types: Vec<DataType> = self.dist_key.iter().map(|i| self.types[*i].clone()).collect();
            let mut key = vec![Vec::new(); 1];
            encode_key_columns(&cols, &types, &[], &mut key)?;
            Some(vnode_of_key(&key[0]))
        } else {
            None
        };
        Ok((prefix.pop().unwrap_or_default(), vnode))
    }

    /// The row with primary key `pk` (values in pk order).
    pub async fn get(&self, pk: &[ScalarValue]) -> StreamResult<Option<OwnedRow>> {
        let (encoded, vnode) = self.encode_pk_prefix(pk)?;
        let vnode = vnode.ok_or_else(|| StreamError::Internal("point get without the distribution key".into()))?;
        let key = Bytes::from(table_key(self.table_id, vnode, &encoded));
        let value = match self.mem.get(&key) {
            Some(v) => v.clone(),
            None => self.store.get(&key, self.epoch).await?,
        };
        match value {
            Some(v) => Ok(Some(self.decode_rows(&[(key, v)])?.pop().unwrap_or_default())),
            None => Ok(None),
        }
    }

    /// Rows whose pk starts with `prefix`, in key order, as of the open epoch (memory table
    /// included). Without the distribution key in the prefix every owned vnode is read.
    pub async fn iter_prefix(&self, prefix: &[ScalarValue]) -> StreamResult<Vec<OwnedRow>> {
        Ok(self.iter_prefix_limit(prefix, usize::MAX).await?.into_iter().map(|(_, r)| r).collect())
    }

    /// Like [`iter_prefix`](Self::iter_prefix) with at most `limit` rows per vnode, with keys.
    pub async fn iter_prefix_limit(&self, prefix: &[ScalarValue], limit: usize) -> StreamResult<Vec<(Bytes, OwnedRow)>> {
        let (encoded, vnode) = self.encode_pk_prefix(prefix)?;
        let vnodes: Vec<u16> = match vnode {
            Some(v) => vec![v],
            None => (0..VNODE_COUNT as u16).filter(|v| self.owns_vnode(*v)).collect(),
        };
        let mut out = Vec::new();
        for v in vnodes {
            let mut start = table_vnode_prefix(self.table_id, v).to_vec();
            start.extend_from_slice(&encoded);
            let kvs = self.scan_range(prefix_range(&start), limit).await?;
            out.extend(kvs);
        }
        let (keys, kvs): (Vec<Bytes>, Vec<(Bytes, Bytes)>) = out.into_iter().map(|kv| (kv.0.clone(), kv)).unzip();
        let rows = self.decode_rows(&kvs)?;
        Ok(keys.into_iter().zip(rows).collect())
    }

    /// Live key-values of `range` (memory table merged over the store), at most `limit`.
    pub async fn scan_range(
        &self,
        range: (Bound<Bytes>, Bound<Bytes>),
        limit: usize,
    ) -> StreamResult<Vec<(Bytes, Bytes)>> {
        let mut merged: BTreeMap<Bytes, Option<Bytes>> = BTreeMap::new();
        // Store rows first, overridden by the memory table. Reading the store up to `limit`
        // live rows and the memory table whole keeps the result exact: memory deletes can only
        // remove rows, so read `limit` plus the number of memory deletes in range.
        let mem: Vec<(Bytes, Option<Bytes>)> =
            self.mem.range::<Bytes, _>((range.0.clone(), range.1.clone())).map(|(k, v)| (k.clone(), v.clone())).collect();
        let deletes = mem.iter().filter(|(_, v)| v.is_none()).count();
        let mut iter = self.store.iter(range, self.epoch).await?;
        let mut n = 0usize;
        while let Some((k, v)) = iter.next().await? {
            merged.insert(k, Some(v));
            n += 1;
            if n >= limit.saturating_add(deletes) {
                break;
            }
        }
        let last_store_key = merged.keys().next_back().cloned();
        let store_exhausted = n < limit.saturating_add(deletes);
        for (k, v) in mem {
            // Memory rows beyond the last store row read are only exact if the store range was
            // read to its end.
            if store_exhausted || last_store_key.as_ref().is_some_and(|l| &k <= l) {
                merged.insert(k, v);
            }
        }
        Ok(merged.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).take(limit).collect())
    }

    /// Live key-values of `range` in the store as of `epoch` (the memory table is not read):
    /// snapshot reads of another job's table.
    pub async fn scan_at(
        &self,
        range: (Bound<Bytes>, Bound<Bytes>),
        limit: usize,
        epoch: u64,
    ) -> StreamResult<Vec<(Bytes, Bytes)>> {
        let mut iter = self.store.iter(range, epoch).await?;
        let mut out = Vec::new();
        while out.len() < limit {
            match iter.next().await? {
                Some(kv) => out.push(kv),
                None => break,
            }
        }
        Ok(out)
    }

    /// Decodes full rows from keys and values of this table.
    pub fn decode_rows(&self, kvs: &[(Bytes, Bytes)]) -> StreamResult<Vec<OwnedRow>> {
        let pk_types = self.pk_types();
        let value_types = self.value_types();
        let mut pk_builders =
            pk_types.iter().map(|t| ColumnBuilder::new(t, kvs.len())).collect::<Result<Vec<_>, _>>()?;
        let mut value_builders =
            value_types.iter().map(|t| ColumnBuilder::new(t, kvs.len())).collect::<Result<Vec<_>, _>>()?;
        for (k, v) in kvs {
            let mut pk = k.get(VNODE_PREFIX_LEN..).ok_or_else(|| StreamError::Internal("corrupt state key".into()))?;
            decode_key(&mut pk, &pk_types, &self.pk_desc, &mut pk_builders)?;
            decode_value(v, &value_types, &mut value_builders)?;
        }
        let mut columns: Vec<Option<ArrayRef>> = vec![None; self.types.len()];
        for (b, i) in pk_builders.iter_mut().zip(&self.pk) {
            columns[*i] = Some(b.finish());
        }
        for (b, i) in value_builders.iter_mut().zip(&self.value_indices) {
            columns[*i] = Some(b.finish());
        }
        let columns: Vec<ArrayRef> = columns.into_iter().map(|c| c.expect("every column is key or value")).collect();
        (0..kvs.len()).map(|r| super::row::row_at(&columns, r)).collect()
    }

    /// Deletes every row of the owned vnodes (a dropped operator's state).
    pub async fn clear(&mut self) -> StreamResult<()> {
        let owned: Vec<u16> = (0..VNODE_COUNT as u16).filter(|v| self.owns_vnode(*v)).collect();
        for v in owned {
            let prefix = table_vnode_prefix(self.table_id, v);
            for (k, _) in self.scan_range(prefix_range(&prefix), usize::MAX).await? {
                self.mem.insert(k, None);
            }
        }
        Ok(())
    }
}

/// Casts a single value's array to the column type (literals such as Int64 for an Int32 key).
fn cast_to(array: ArrayRef, ty: &DataType) -> StreamResult<ArrayRef> {
    let target = ty.to_arrow();
    if array.data_type() == &target {
        Ok(array)
    } else {
        Ok(arrow::compute::cast(&array, &target)?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{DataType as ArrowType, Field, Schema};
    use datafusion::common::ScalarValue;
    use tributary_storage::MemoryStateStore;

    use super::*;

    fn table(store: Arc<dyn StateStore>) -> StateTable {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", ArrowType::Int32, true),
            Field::new("s", ArrowType::Int64, true),
            Field::new("v", ArrowType::Utf8, true),
        ]));
        StateTable::new(store, 7, schema, vec![0, 1], vec![false, true], vec![0], vec![]).unwrap()
    }

    fn row(k: i32, s: i64, v: &str) -> OwnedRow {
        vec![ScalarValue::Int32(Some(k)), ScalarValue::Int64(Some(s)), ScalarValue::Utf8(Some(v.into()))]
    }

    #[tokio::test]
    async fn reads_merge_memory_over_store() {
        let store: Arc<dyn StateStore> = Arc::new(MemoryStateStore::new());
        let mut t = table(store.clone());
        t.init_epoch(1 << 16);
        t.insert(row(1, 1, "a")).unwrap();
        t.insert(row(1, 2, "b")).unwrap();
        t.insert(row(2, 1, "c")).unwrap();
        assert_eq!(t.get(&[ScalarValue::Int32(Some(1)), ScalarValue::Int64(Some(2))]).await.unwrap(), Some(row(1, 2, "b")));
        t.commit(2 << 16).unwrap();
        t.delete(row(1, 2, "b")).unwrap();
        t.insert(row(1, 3, "d")).unwrap();
        // Descending second key column: 3 before 1.
        let rows = t.iter_prefix(&[ScalarValue::Int32(Some(1))]).await.unwrap();
        assert_eq!(rows, vec![row(1, 3, "d"), row(1, 1, "a")]);
        let all = t.iter_prefix(&[]).await.unwrap();
        assert_eq!(all.len(), 3);
        let limited = t.iter_prefix_limit(&[ScalarValue::Int32(Some(1))], 1).await.unwrap();
        assert_eq!(limited.len(), 1);
        assert_eq!(limited[0].1, row(1, 3, "d"));
        t.commit(3 << 16).unwrap();
        let mut fresh = table(store);
        fresh.init_epoch(3 << 16);
        assert_eq!(fresh.iter_prefix(&[ScalarValue::Int32(Some(1))]).await.unwrap(), vec![row(1, 3, "d"), row(1, 1, "a")]);
    }
}
