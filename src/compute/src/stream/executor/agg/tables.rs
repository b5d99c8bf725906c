//! The state tables of a call besides the aggregation's result table: its input rows, for
//! results that need every input of the group (min/max over retractable input, string_agg,
//! array_agg, first/last_value, jsonb aggregates), and its DISTINCT counts.

use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::common::{HashMap, ScalarValue};
use tributary_common::chunk::{Op, StreamChunk};
use tributary_common::encoding::encode_key_columns;
use tributary_common::types::DataType;
use tributary_proto::stream_plan::AggKind;

use super::{AggCall, Rows};
use crate::stream::error::{StreamError, StreamResult};
use crate::stream::row::{row_at, OwnedRow};
use crate::stream::state_table::StateTable;

/// Makes a state table from its schema, pk, pk order and distribution key.
pub type MakeTable<'a> = dyn FnMut(SchemaRef, Vec<usize>, Vec<bool>, Vec<usize>) -> StreamResult<StateTable> + 'a;

fn schema_of(types: &[DataType]) -> SchemaRef {
    Arc::new(Schema::new(
        types.iter().enumerate().map(|(i, t)| Field::new(format!("c{i}"), t.to_arrow(), true)).collect::<Vec<_>>(),
    ))
}

/// Where a column of an input table comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    Column(usize),
    /// Whether the input column is NULL: orders NULLs against the direction's default.
    IsNull(usize),
}

/// A call's input rows per group, in the order its result reads them: the result is computed
/// from a prefix scan of the group (min/max, first/last_value read one row).
///
/// Columns: the group keys; the ordering — min/max: the argument (descending for max);
/// otherwise the call's ORDER BY (reversed for last_value), with a NULL flag before a column
/// whose NULLS FIRST/LAST is not its direction's default; then the input's stream key, or with
/// DISTINCT the arguments (already deduplicated); then the arguments. The pk is everything up
/// to the arguments; the distribution key the group keys.
pub struct InputTable {
    pub table: StateTable,
    sources: Vec<Source>,
    /// Positions of the call's arguments in the table's rows.
    pub arg_pos: Vec<usize>,
}

impl InputTable {
    pub fn new(
        call: &AggCall,
        group_keys: &[usize],
        input_types: &[DataType],
        stream_key: &[usize],
        make: &mut MakeTable<'_>,
    ) -> StreamResult<Self> {
        let mut sources: Vec<Source> = group_keys.iter().map(|g| Source::Column(*g)).collect();
        let mut desc = vec![false; group_keys.len()];
        match call.kind {
            AggKind::Min | AggKind::Max => {
                sources.push(Source::Column(call.args[0]));
                desc.push(call.kind == AggKind::Max);
            }
            _ => {
                let reverse = call.kind == AggKind::LastValue;
                for o in &call.order_by {
                    let d = o.descending != reverse;
                    let nulls_first = o.nulls_first != reverse;
                    // The key encoding puts NULLs last ascending and first descending.
                    if nulls_first != d {
                        sources.push(Source::IsNull(o.column as usize));
                        desc.push(nulls_first);
                    }
                    sources.push(Source::Column(o.column as usize));
                    desc.push(d);
                }
            }
        }
        let unique: Vec<usize> = if call.distinct {
            call.args.clone()
        } else if stream_key.is_empty() {
            (0..input_types.len()).collect()
        } else {
            stream_key.to_vec()
        };
        for u in unique {
            sources.push(Source::Column(u));
            desc.push(false);
        }
        let pk_len = sources.len();
        let arg_pos = (0..call.args.len()).map(|k| pk_len + k).collect();
        sources.extend(call.args.iter().map(|a| Source::Column(*a)));
        let types: Vec<DataType> = sources
            .iter()
            .map(|s| match s {
                Source::Column(c) => input_types[*c].clone(),
                Source::IsNull(_) => DataType::Boolean,
            })
            .collect();
        let table = make(schema_of(&types), (0..pk_len).collect(), desc, (0..group_keys.len()).collect())?;
        Ok(InputTable { table, sources, arg_pos })
    }

    /// Writes `rows` of the input (puts for inserts, deletes for retractions), in order.
    pub fn write(&mut self, columns: &[ArrayRef], ops: &[Op], rows: &[u32]) -> StreamResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let indices = UInt32Array::from(rows.to_vec());
        let mut taken: HashMap<usize, ArrayRef> = HashMap::new();
        let mut out = Vec::with_capacity(self.sources.len());
        for s in &self.sources {
            let c = match s {
                Source::Column(c) | Source::IsNull(c) => *c,
            };
            let col = match taken.get(&c) {
                Some(a) => a.clone(),
                None => {
                    let a = arrow::compute::take(columns[c].as_ref(), &indices, None)?;
                    taken.insert(c, a.clone());
                    a
                }
            };
            out.push(match s {
                Source::Column(_) => col,
                Source::IsNull(_) => Arc::new(arrow::compute::is_null(col.as_ref())?) as ArrayRef,
            });
        }
        let options = RecordBatchOptions::new().with_row_count(Some(rows.len()));
        let batch = RecordBatch::try_new_with_options(self.table.schema().clone(), out, &options)?;
        let ops = rows.iter().map(|i| ops[*i as usize]).collect();
        self.table.write_chunk(&StreamChunk::new(ops, batch)?)
    }

    /// The first `limit` input rows of a group, in the table's order.
    pub async fn rows(&self, group: &[ScalarValue], limit: usize) -> StreamResult<Vec<OwnedRow>> {
        Ok(self.table.iter_prefix_limit(group, limit).await?.into_iter().map(|(_, r)| r).collect())
    }
}

struct DistinctEntry {
    /// Group key and argument values: the table's pk.
    values: OwnedRow,
    count: i64,
    dirty: bool,
}

/// How many input rows of a group carry each distinct argument value: a call with DISTINCT
/// sees a value when its count goes from 0 to 1 and its retraction when it goes back to 0.
/// Columns: group keys, arguments, count; cached in memory by the encoded (group, value).
pub struct DistinctTable {
    table: StateTable,
    args: Vec<usize>,
    arg_types: Vec<DataType>,
    cache: HashMap<Vec<u8>, DistinctEntry>,
    dirty: Vec<Vec<u8>>,
}

/// Entries kept in a distinct cache between barriers.
const DISTINCT_CACHE_LIMIT: usize = 1 << 20;

impl DistinctTable {
    pub fn new(call: &AggCall, group_types: &[DataType], make: &mut MakeTable<'_>) -> StreamResult<Self> {
        let mut types = group_types.to_vec();
        types.extend(call.arg_types.iter().cloned());
        let pk_len = types.len();
        types.push(DataType::Int64);
        let table = make(schema_of(&types), (0..pk_len).collect(), vec![], (0..group_types.len()).collect())?;
        Ok(DistinctTable {
            table,
            args: call.args.clone(),
            arg_types: call.arg_types.clone(),
            cache: HashMap::new(),
            dirty: Vec::new(),
        })
    }

    pub fn table_mut(&mut self) -> &mut StateTable {
        &mut self.table
    }

    /// Counts the selected rows' values per group and returns the rows that change what the
    /// call sees: first occurrences of inserted values and last retractions.
    /// `group_bytes[i]`/`group_key(i)`: the encoded and plain group key of row `i`.
    pub async fn dedup(
        &mut self,
        columns: &[ArrayRef],
        signs: &[i64],
        group_bytes: &[Vec<u8>],
        group_key: &(dyn Fn(usize) -> OwnedRow + Sync),
        rows: Rows<'_>,
    ) -> StreamResult<Vec<u32>> {
        let n = signs.len();
        let arg_cols: Vec<ArrayRef> = self.args.iter().map(|a| columns[*a].clone()).collect();
        let mut arg_keys = vec![Vec::new(); n];
        encode_key_columns(&arg_cols, &self.arg_types, &[], &mut arg_keys)?;
        let mut keys: Vec<(usize, Vec<u8>)> = Vec::new();
        rows.for_each(|i| {
            let mut k = Vec::with_capacity(group_bytes[i].len() + arg_keys[i].len());
            k.extend_from_slice(&group_bytes[i]);
            k.extend_from_slice(&arg_keys[i]);
            keys.push((i, k));
        });
        for (i, k) in &keys {
            if self.cache.contains_key(k) {
                continue;
            }
            let mut values = group_key(*i);
            values.extend(row_at(&arg_cols, *i)?);
            let count = match self.table.get(&values).await? {
                Some(row) => match row.last() {
                    Some(ScalarValue::Int64(Some(c))) => *c,
                    _ => return Err(StreamError::Internal("corrupt distinct count".into())),
                },
                None => 0,
            };
            self.cache.insert(k.clone(), DistinctEntry { values, count, dirty: false });
        }
        let mut out = Vec::new();
        for (i, k) in keys {
            let e = self.cache.get_mut(&k).ok_or_else(|| StreamError::Internal("distinct entry not loaded".into()))?;
            let before = e.count;
            e.count += signs[i];
            if e.count < 0 {
                return Err(StreamError::Internal("retraction of a value the aggregation never saw".into()));
            }
            if (before == 0 && e.count == 1) || (before == 1 && e.count == 0) {
                out.push(i as u32);
            }
            if !e.dirty {
                e.dirty = true;
                self.dirty.push(k);
            }
        }
        Ok(out)
    }

    /// Writes the changed counts (deleting zeros) to the table.
    pub fn flush(&mut self) -> StreamResult<()> {
        let mut writes = Vec::with_capacity(self.dirty.len());
        for k in std::mem::take(&mut self.dirty) {
            let Some(e) = self.cache.get_mut(&k) else { continue };
            e.dirty = false;
            let mut row = e.values.clone();
            row.push(ScalarValue::Int64(Some(e.count)));
            writes.push((e.count > 0, row));
            if e.count == 0 {
                self.cache.remove(&k);
            }
        }
        self.table.write_rows(&writes)?;
        if self.cache.len() > DISTINCT_CACHE_LIMIT {
            self.cache.clear();
        }
        Ok(())
    }
}
