//! Scans of a table at a committed epoch, decoded into Arrow batches.

use std::ops::Bound;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::Schema;
use bytes::Bytes;
use tokio::sync::mpsc;
use tributary_common::encoding::{decode_key, decode_value, table_key_prefix, table_vnode_prefix, ColumnBuilder, VNODE_COUNT};
use tributary_proto::compute::ScanRange;
use tributary_storage::{prefix_range, range_is_empty, KeyRange, StateStore};

use super::TableWriter;
use crate::error::{ComputeError, ComputeResult};

/// Bytes of `table_id | vnode` before the memcomparable key.
const KEY_PREFIX_LEN: usize = 6;
pub const SCAN_BATCH_ROWS: usize = 4096;

/// The store key ranges of `ranges` (bounds on the encoded pk) of table `table_id`, in key
/// order within each range; no ranges means the whole table.
pub fn store_ranges(table_id: u32, ranges: &[ScanRange]) -> ComputeResult<Vec<KeyRange>> {
    if ranges.is_empty() {
        let prefix = table_key_prefix(table_id);
        let end = (u32::from_be_bytes(prefix).saturating_add(1)).to_be_bytes();
        return Ok(vec![(Bound::Included(Bytes::copy_from_slice(&prefix)), Bound::Excluded(Bytes::copy_from_slice(&end)))]);
    }
    let mut out = Vec::new();
    for r in ranges {
        let vnodes: Vec<u16> = match r.vnode {
            Some(v) if (v as usize) < VNODE_COUNT => vec![v as u16],
            Some(v) => return Err(ComputeError::InvalidRequest(format!("vnode {v} out of range"))),
            None => (0..VNODE_COUNT as u16).collect(),
        };
        for v in vnodes {
            let prefix = table_vnode_prefix(table_id, v);
            let with = |pk: &[u8]| {
                let mut k = prefix.to_vec();
                k.extend_from_slice(pk);
                Bytes::from(k)
            };
            let start = Bound::Included(with(&r.start));
            let end = match &r.end {
                Some(e) => Bound::Excluded(with(e)),
                None => prefix_range(&prefix).1,
            };
            if !range_is_empty(start.as_ref(), end.as_ref()) {
                out.push((start, end));
            }
        }
    }
    Ok(out)
}

/// Scans the table at `epoch` (the key `ranges`, or all of it), sending batches of at most
/// [`SCAN_BATCH_ROWS`] rows holding the `projection` columns (all when None) into `out`. Stops
/// early when the receiver is gone (the query was cancelled).
pub async fn scan_table(
    store: &Arc<dyn StateStore>,
    table: &TableWriter,
    epoch: u64,
    projection: Option<Vec<usize>>,
    ranges: &[ScanRange],
    out: &mpsc::Sender<RecordBatch>,
) -> ComputeResult<()> {
    let n = table.schema.types.len();
    let projection = projection.unwrap_or_else(|| (0..n).collect());
    if let Some(bad) = projection.iter().find(|i| **i >= n) {
        return Err(ComputeError::InvalidRequest(format!("column index {bad} out of range")));
    }
    let key_ranges = store_ranges(table.table_id, ranges)?;
    let _pin = store.pin_epoch(epoch)?;

    let pk_types = table.pk_types();
    let value_types = table.value_types();
    let new_builders = |types: &[tributary_common::types::DataType]| -> ComputeResult<Vec<ColumnBuilder>> {
        Ok(types.iter().map(|t| ColumnBuilder::new(t, SCAN_BATCH_ROWS)).collect::<Result<Vec<_>, _>>()?)
    };
    let mut pk_builders = new_builders(&pk_types)?;
    let mut value_builders = new_builders(&value_types)?;
    let mut rows = 0usize;
    let out_schema = Arc::new(table.schema.arrow.project(&projection)?);

    let flush = |pk_builders: &mut Vec<ColumnBuilder>, value_builders: &mut Vec<ColumnBuilder>, rows: usize| {
        let mut columns: Vec<Option<ArrayRef>> = vec![None; n];
        for (mut b, i) in std::mem::replace(pk_builders, new_builders(&pk_types)?).into_iter().zip(&table.pk_indices) {
            columns[*i] = Some(b.finish());
        }
        for (mut b, i) in std::mem::replace(value_builders, new_builders(&value_types)?).into_iter().zip(&table.value_indices) {
            columns[*i] = Some(b.finish());
        }
        let projected: Vec<ArrayRef> = projection.iter().filter_map(|i| columns[*i].clone()).collect();
        let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
        Ok::<_, ComputeError>(RecordBatch::try_new_with_options(out_schema.clone() as Arc<Schema>, projected, &options)?)
    };

    for range in key_ranges {
        let mut iter = store.iter(range, epoch).await?;
        while let Some((key, value)) = iter.next().await? {
            let mut pk = key
                .get(KEY_PREFIX_LEN..)
                .ok_or_else(|| ComputeError::InvalidRequest(format!("corrupt key in table {}", table.table_id)))?;
            decode_key(&mut pk, &pk_types, &table.pk_desc, &mut pk_builders)?;
            decode_value(&value, &value_types, &mut value_builders)?;
            rows += 1;
            if rows == SCAN_BATCH_ROWS {
                let batch = flush(&mut pk_builders, &mut value_builders, rows)?;
                rows = 0;
                if out.send(batch).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
    if rows > 0 {
        let batch = flush(&mut pk_builders, &mut value_builders, rows)?;
        let _ = out.send(batch).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(r: &KeyRange) -> (Vec<u8>, Option<Vec<u8>>) {
        let start = match &r.0 {
            Bound::Included(b) => b.to_vec(),
            other => panic!("start {other:?}"),
        };
        let end = match &r.1 {
            Bound::Excluded(b) => Some(b.to_vec()),
            Bound::Unbounded => None,
            other => panic!("end {other:?}"),
        };
        (start, end)
    }

    #[test]
    fn ranges_per_vnode() {
        // No ranges: the whole table.
        let whole = store_ranges(7, &[]).unwrap();
        assert_eq!(whole.len(), 1);
        assert_eq!(bounds(&whole[0]), (vec![0, 0, 0, 7], Some(vec![0, 0, 0, 8])));

        // One vnode, both bounds.
        let one = store_ranges(7, &[ScanRange { vnode: Some(3), start: vec![1, 5], end: Some(vec![1, 6]) }]).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(bounds(&one[0]), (vec![0, 0, 0, 7, 0, 3, 1, 5], Some(vec![0, 0, 0, 7, 0, 3, 1, 6])));

        // Every vnode; an open end stops at the vnode's last key.
        let all = store_ranges(7, &[ScanRange { vnode: None, start: vec![1], end: None }]).unwrap();
        assert_eq!(all.len(), VNODE_COUNT);
        assert_eq!(bounds(&all[0]), (vec![0, 0, 0, 7, 0, 0, 1], Some(vec![0, 0, 0, 7, 0, 1])));
        assert_eq!(bounds(&all[255]), (vec![0, 0, 0, 7, 0, 255, 1], Some(vec![0, 0, 0, 7, 1])));

        // Empty ranges are dropped; vnodes past the last are refused.
        assert!(store_ranges(7, &[ScanRange { vnode: Some(0), start: vec![2], end: Some(vec![1]) }]).unwrap().is_empty());
        assert!(store_ranges(7, &[ScanRange { vnode: Some(256), start: vec![], end: None }]).is_err());
    }
}
