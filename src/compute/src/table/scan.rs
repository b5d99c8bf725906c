//! Scans of a table at a committed epoch, decoded into Arrow batches.

use std::ops::Bound;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::Schema;
use bytes::Bytes;
use tokio::sync::mpsc;
use tributary_common::encoding::{decode_key, decode_value, table_key_prefix, ColumnBuilder};
use tributary_storage::StateStore;

use super::TableWriter;
use crate::error::{ComputeError, ComputeResult};

/// Bytes of `table_id | vnode` before the memcomparable key.
const KEY_PREFIX_LEN: usize = 6;
pub const SCAN_BATCH_ROWS: usize = 4096;

/// Scans the whole table at `epoch`, sending batches of at most
/// [`SCAN_BATCH_ROWS`] rows holding the `projection` columns (all when None) into `out`. Stops
/// early when the receiver is gone (the query was cancelled).
pub async fn scan_table(
    store: &Arc<dyn StateStore>,
    table: &TableWriter,
    epoch: u64,
    projection: Option<Vec<usize>>,
    out: &mpsc::Sender<RecordBatch>,
) -> ComputeResult<()> {
    let n = table.schema.types.len();
    let projection = projection.unwrap_or_else(|| (0..n).collect());
    if let Some(bad) = projection.iter().find(|i| **i >= n) {
        return Err(ComputeError::InvalidRequest(format!("column index {bad} out of range")));
    }
    let prefix = table_key_prefix(table.table_id);
    let end = (u32::from_be_bytes(prefix).saturating_add(1)).to_be_bytes();
    let range = (Bound::Included(Bytes::copy_from_slice(&prefix)), Bound::Excluded(Bytes::copy_from_slice(&end)));
    let _pin = store.pin_epoch(epoch)?;
    let mut iter = store.iter(range, epoch).await?;

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
    if rows > 0 {
        let batch = flush(&mut pk_builders, &mut value_builders, rows)?;
        let _ = out.send(batch).await;
    }
    Ok(())
}
