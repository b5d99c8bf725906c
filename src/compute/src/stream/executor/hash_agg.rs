//! Hash aggregation (GROUP BY) and simple aggregation (no group keys: one row that always
//! exists, as in SQL), with retraction.
//!
//! Output: the group keys, then one column per call; stream key: the group keys.
//!
//! Per chunk, column at a time: the group keys of the whole chunk are encoded at once
//! (memcomparable bytes, the cache key), each row is resolved to a slot of the group cache
//! (groups not cached are read from the result table, or start empty), then every call updates
//! its states over the typed input arrays (see [`super::agg`]). Each group keeps a hidden row
//! count; a group whose count reaches 0 is deleted (simple aggregation keeps its row).
//!
//! On a barrier, every group changed in the epoch recomputes what needs its input table, and
//! its new result row is compared with the one emitted before: `Insert` for a new group,
//! `Delete` for a group gone, `UpdateDelete`+`UpdateInsert` for a change, nothing when equal.
//! The changed states are then written to the result table (group key → row count and every
//! call's state) and all tables commit. A new executor over the same state continues where the
//! old one committed.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{Field, Schema, SchemaRef};
use async_stream::try_stream;
use datafusion::common::{HashMap, ScalarValue};
use futures::StreamExt;
use tributary_common::chunk::{Op, StreamChunk};
use tributary_common::encoding::encode_key_columns;
use tributary_common::types::DataType;
use tributary_proto::stream_plan::{AggKind, HashAggNode, StateTableRef, StreamNode};

use super::agg::tables::{DistinctTable, InputTable};
use super::agg::{filter_rows, AggCall, CallState, Rows};
use super::{Execute, Executor, ExecutorInfo, MessageStream};
use crate::stream::builder::BuildContext;
use crate::stream::error::{StreamError, StreamResult};
use crate::stream::message::Message;
use crate::stream::row::{row_at, ChunkBuilder, OwnedRow, CHUNK_SIZE};
use crate::stream::state_table::StateTable;

/// Groups kept in memory between barriers; beyond it, only the groups of the last epoch stay.
const GROUP_CACHE_LIMIT: usize = 1 << 20;

/// Makes the state table a plan reference names, from its schema, pk, pk order and
/// distribution key.
pub type MakeStateTable<'a> =
    dyn FnMut(&Option<StateTableRef>, SchemaRef, Vec<usize>, Vec<bool>, Vec<usize>) -> StreamResult<StateTable> + 'a;

pub fn build(
    ctx: &BuildContext<'_>,
    _node: &StreamNode,
    n: &HashAggNode,
    info: ExecutorInfo,
    mut inputs: Vec<Executor>,
) -> StreamResult<Executor> {
    if inputs.len() != 1 {
        return Err(StreamError::plan("hash aggregation needs one input"));
    }
    let input = inputs.remove(0);
    let mut make = |r: &Option<StateTableRef>, schema, pk, desc, dist| ctx.state_table(r, schema, pk, desc, dist);
    let exec = HashAggExecutor::new(input, n, &info, &mut make)?;
    Ok(Executor::new(info, exec))
}

/// Which results of a group an output row carries.
#[derive(Debug, Clone, Copy)]
enum Emitted {
    /// The group's current results (`Group::prev` after the flush).
    Current,
    /// Results it replaced, by index in the flush's list.
    Replaced(usize),
}

/// A column of `t` from values (cast where a value's type differs, such as a NULL literal).
fn scalar_column(values: impl Iterator<Item = ScalarValue>, t: &arrow::datatypes::DataType) -> StreamResult<ArrayRef> {
    let mut values = values.peekable();
    if values.peek().is_none() {
        return Ok(arrow::array::new_empty_array(t));
    }
    let a = ScalarValue::iter_to_array(values)?;
    Ok(if a.data_type() == t { a } else { arrow::compute::cast(&a, t)? })
}

struct Group {
    /// Group key values.
    key: OwnedRow,
    /// Input rows of the group, net.
    row_count: i64,
    /// The calls' results last emitted; `None`: no row emitted (or it was deleted).
    prev: Option<OwnedRow>,
    /// Changed in the open epoch (listed in `AggCore::dirty`).
    dirty: bool,
}

pub struct HashAggExecutor {
    input: Executor,
    core: AggCore,
}

struct AggCore {
    group_keys: Vec<usize>,
    group_types: Vec<DataType>,
    calls: Vec<AggCall>,
    /// Per call: its input table, if its result needs the group's inputs.
    inputs: Vec<Option<InputTable>>,
    /// Per call: its DISTINCT counts.
    distinct: Vec<Option<DistinctTable>>,
    result: StateTable,
    schema: SchemaRef,
    /// Encoded group key → slot in `groups`/`states` (hash aggregation; simple aggregation
    /// has the one slot 0).
    map: HashMap<Vec<u8>, u32>,
    groups: Vec<Group>,
    /// `states[call][slot]`.
    states: Vec<Vec<CallState>>,
    dirty: Vec<u32>,
    /// Groups kept cached between barriers ([`GROUP_CACHE_LIMIT`]; lower in tests).
    cache_limit: usize,
    // Per-chunk scratch.
    key_bufs: Vec<Vec<u8>>,
    slots: Vec<u32>,
    signs: Vec<i64>,
}

impl HashAggExecutor {
    /// `make` builds the state tables the node names (the result table and the calls' tables).
    pub fn new(input: Executor, node: &HashAggNode, info: &ExecutorInfo, make: &mut MakeStateTable<'_>) -> StreamResult<Self> {
        let input_types = input.info.types.clone();
        let group_keys: Vec<usize> = node.group_keys.iter().map(|k| *k as usize).collect();
        let group_types = group_keys
            .iter()
            .map(|k| input_types.get(*k).cloned().ok_or_else(|| StreamError::plan(format!("group key {k} out of range"))))
            .collect::<StreamResult<Vec<_>>>()?;
        if info.types.len() != group_keys.len() + node.calls.len() {
            return Err(StreamError::plan(format!(
                "aggregation outputs {} columns for {} group keys and {} calls",
                info.types.len(),
                group_keys.len(),
                node.calls.len()
            )));
        }
        let calls = node.calls.iter().map(|c| AggCall::new(c, &input_types)).collect::<StreamResult<Vec<_>>>()?;
        let mut inputs = Vec::with_capacity(calls.len());
        let mut distinct = Vec::with_capacity(calls.len());
        for (i, call) in calls.iter().enumerate() {
            let tables = node.call_tables.get(i).cloned().unwrap_or_default();
            let has_table = tables.has_table && tables.table.as_ref().is_some_and(|t| t.local_id > 0);
            if call.needs_inputs(false) && !has_table {
                return Err(StreamError::plan(format!("{} without its input table", call.kind.as_str_name())));
            }
            inputs.push(if call.needs_inputs(has_table) {
                let mut mk = |schema, pk, desc, dist| make(&tables.table, schema, pk, desc, dist);
                Some(InputTable::new(call, &group_keys, &input_types, &input.info.stream_key, &mut mk)?)
            } else {
                None
            });
            distinct.push(if call.distinct {
                if !tables.has_distinct_table {
                    return Err(StreamError::plan("DISTINCT aggregate without its table"));
                }
                let mut mk = |schema, pk, desc, dist| make(&tables.distinct_table, schema, pk, desc, dist);
                Some(DistinctTable::new(call, &group_types, &mut mk)?)
            } else {
                None
            });
        }
        let mut result_types = group_types.clone();
        result_types.push(DataType::Int64);
        for c in &calls {
            result_types.extend(c.state_types());
        }
        let result_schema = Arc::new(Schema::new(
            result_types.iter().enumerate().map(|(i, t)| Field::new(format!("s{i}"), t.to_arrow(), true)).collect::<Vec<_>>(),
        ));
        let g = group_keys.len();
        // Distributed by all group keys: the vnodes of a hash exchange on the group keys. An
        // input already hashed on a subset of them (no exchange planned) still brings each group
        // to one actor, but its vnodes are not the state's; that matters once actors rescale,
        // when the plan will have to say the input's distribution key.
        let result = make(&node.result_table, result_schema, (0..g).collect(), vec![], (0..g).collect())?;
        let states = calls.iter().map(|_| Vec::new()).collect();
        Ok(HashAggExecutor {
            input,
            core: AggCore {
                group_keys,
                group_types,
                calls,
                inputs,
                distinct,
                result,
                schema: info.schema.clone(),
                map: HashMap::new(),
                groups: Vec::new(),
                states,
                dirty: Vec::new(),
                cache_limit: GROUP_CACHE_LIMIT,
                key_bufs: Vec::new(),
                slots: Vec::new(),
                signs: Vec::new(),
            },
        })
    }
}

impl Execute for HashAggExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        let HashAggExecutor { input, mut core } = *self;
        Box::pin(try_stream! {
            let mut input = input.execute();
            let mut first = true;
            while let Some(msg) = input.next().await {
                match msg? {
                    Message::Chunk(chunk) => core.apply_chunk(&chunk).await?,
                    Message::Barrier(b) => {
                        for chunk in core.flush().await? {
                            yield Message::Chunk(chunk);
                        }
                        if first {
                            core.init_epoch(b.epoch.curr);
                        } else {
                            core.commit(b.epoch.curr)?;
                        }
                        yield Message::Barrier(b);
                        if first {
                            first = false;
                            if let Some(chunk) = core.start().await? {
                                yield Message::Chunk(chunk);
                            }
                        }
                    }
                }
            }
        })
    }
}

impl AggCore {
    fn simple(&self) -> bool {
        self.group_keys.is_empty()
    }

    fn tables_mut(&mut self) -> impl Iterator<Item = &mut StateTable> {
        std::iter::once(&mut self.result)
            .chain(self.inputs.iter_mut().flatten().map(|t| &mut t.table))
            .chain(self.distinct.iter_mut().flatten().map(|d| d.table_mut()))
    }

    fn init_epoch(&mut self, epoch: u64) {
        self.tables_mut().for_each(|t| t.init_epoch(epoch));
    }

    fn commit(&mut self, epoch: u64) -> StreamResult<()> {
        self.tables_mut().try_for_each(|t| t.commit(epoch))
    }

    /// After the first barrier: simple aggregation emits its row if it never did.
    async fn start(&mut self) -> StreamResult<Option<StreamChunk>> {
        if !self.simple() {
            return Ok(None);
        }
        if self.groups.is_empty() {
            self.load_group(Vec::new(), Vec::new()).await?;
        }
        if self.groups[0].prev.is_some() {
            return Ok(None);
        }
        let outputs = self.outputs(0)?;
        let mut builder = ChunkBuilder::new(self.schema.clone());
        builder.append(Op::Insert, outputs.clone())?;
        self.groups[0].prev = Some(outputs);
        self.mark_dirty(0);
        builder.take()
    }

    fn mark_dirty(&mut self, slot: u32) {
        let g = &mut self.groups[slot as usize];
        if !g.dirty {
            g.dirty = true;
            self.dirty.push(slot);
        }
    }

    /// The calls' results of a group.
    fn outputs(&self, slot: usize) -> StreamResult<OwnedRow> {
        self.calls.iter().zip(&self.states).map(|(c, s)| c.finish(&s[slot])).collect()
    }

    /// Reads a group's state from the result table (or starts it empty) into a new slot.
    async fn load_group(&mut self, encoded: Vec<u8>, key: OwnedRow) -> StreamResult<u32> {
        let g = self.group_keys.len();
        let stored = self.result.get(&key).await?;
        let slot = self.groups.len() as u32;
        let row_count = match &stored {
            Some(row) => {
                let row_count = match row.get(g) {
                    Some(ScalarValue::Int64(Some(n))) => *n,
                    _ => return Err(StreamError::Internal("corrupt aggregation row count".into())),
                };
                let mut at = g + 1;
                for (c, call) in self.calls.iter().enumerate() {
                    let width = call.state_types().len();
                    let cols = row.get(at..at + width).ok_or_else(|| StreamError::Internal("short aggregation state".into()))?;
                    self.states[c].push(call.decode_state(cols)?);
                    at += width;
                }
                row_count
            }
            None => {
                for (c, call) in self.calls.iter().enumerate() {
                    self.states[c].push(call.initial_state());
                }
                0
            }
        };
        self.groups.push(Group { key, row_count, prev: None, dirty: false });
        // A stored group's row was emitted (rows of empty groups are deleted, except simple
        // aggregation's, which always exists).
        if stored.is_some() {
            let outputs = self.outputs(slot as usize)?;
            self.groups[slot as usize].prev = Some(outputs);
        }
        if !self.simple() {
            self.map.insert(encoded, slot);
        }
        Ok(slot)
    }

    /// Resolves every row of a chunk to its group's slot (`self.slots`), loading groups not
    /// cached; `self.key_bufs[i]` holds row `i`'s encoded group key.
    async fn resolve_groups(&mut self, columns: &[ArrayRef], n: usize) -> StreamResult<()> {
        if self.key_bufs.len() < n {
            self.key_bufs.resize(n, Vec::new());
        }
        self.key_bufs[..n].iter_mut().for_each(Vec::clear);
        self.slots.clear();
        if self.simple() {
            if self.groups.is_empty() {
                self.load_group(Vec::new(), Vec::new()).await?;
            }
            self.slots.resize(n, 0);
            return Ok(());
        }
        let group_cols: Vec<ArrayRef> = self.group_keys.iter().map(|g| columns[*g].clone()).collect();
        encode_key_columns(&group_cols, &self.group_types, &[], &mut self.key_bufs[..n])?;
        let mut missing = Vec::new();
        for (i, key) in self.key_bufs[..n].iter().enumerate() {
            match self.map.get(key.as_slice()) {
                Some(s) => self.slots.push(*s),
                None => {
                    self.slots.push(u32::MAX);
                    missing.push(i);
                }
            }
        }
        for i in missing {
            let slot = match self.map.get(self.key_bufs[i].as_slice()) {
                Some(s) => *s,
                None => {
                    let key = row_at(&group_cols, i)?;
                    self.load_group(self.key_bufs[i].clone(), key).await?
                }
            };
            self.slots[i] = slot;
        }
        Ok(())
    }

    async fn apply_chunk(&mut self, chunk: &StreamChunk) -> StreamResult<()> {
        let n = chunk.batch.num_rows();
        if n == 0 {
            return Ok(());
        }
        let columns = chunk.batch.columns();
        self.signs.clear();
        self.signs.extend(chunk.ops.iter().map(|op| if op.is_insert() { 1i64 } else { -1 }));
        self.resolve_groups(columns, n).await?;
        for i in 0..n {
            let slot = self.slots[i];
            let g = &mut self.groups[slot as usize];
            g.row_count += self.signs[i];
            if !g.dirty {
                g.dirty = true;
                self.dirty.push(slot);
            }
        }
        for c in 0..self.calls.len() {
            let call = &self.calls[c];
            let filtered = call.filter.map(|f| filter_rows(columns[f].as_boolean(), Rows::All(n)));
            let deduped = match self.distinct[c].as_mut() {
                Some(d) => {
                    let rows = filtered.as_deref().map_or(Rows::All(n), Rows::Some);
                    let (groups, slots) = (&self.groups, &self.slots);
                    let key_of = |i: usize| groups[slots[i] as usize].key.clone();
                    Some(d.dedup(columns, &self.signs, &self.key_bufs, &key_of, rows).await?)
                }
                None => None,
            };
            let rows = match (&deduped, &filtered) {
                (Some(d), _) => Rows::Some(d),
                (None, Some(f)) => Rows::Some(f),
                (None, None) => Rows::All(n),
            };
            if let Some(t) = self.inputs[c].as_mut() {
                let mut selected = rows.to_vec();
                if call.skips_null_input() {
                    let a = &columns[call.args[0]];
                    selected.retain(|i| a.is_valid(*i as usize));
                }
                t.write(columns, &chunk.ops, &selected)?;
            }
            call.apply(&mut self.states[c], columns, &self.signs, &self.slots, rows, self.inputs[c].is_some())?;
        }
        Ok(())
    }

    /// Emits the changes of the epoch's groups and writes their states.
    async fn flush(&mut self) -> StreamResult<Vec<StreamChunk>> {
        let dirty = std::mem::take(&mut self.dirty);
        let simple = self.simple();
        // Output rows, built column-wise below: a group's current results or ones it replaced.
        let mut emits: Vec<(Op, u32, Emitted)> = Vec::new();
        let mut replaced: Vec<OwnedRow> = Vec::new();
        // Result table rows to put (true) or delete.
        let mut writes: Vec<(bool, u32)> = Vec::with_capacity(dirty.len());
        for &slot in &dirty {
            let s = slot as usize;
            self.groups[s].dirty = false;
            let row_count = self.groups[s].row_count;
            if row_count < 0 {
                return Err(StreamError::Internal("aggregation group retracted more rows than it had".into()));
            }
            for c in 0..self.calls.len() {
                let call = &self.calls[c];
                let state = &mut self.states[c][s];
                if row_count == 0 || AggCall::is_empty_state(state) {
                    *state = call.initial_state();
                    continue;
                }
                if let CallState::Value { stale: true, .. } = state {
                    let table = self.inputs[c].as_ref().ok_or_else(|| StreamError::Internal("stale result without inputs".into()))?;
                    let limit = match call.kind {
                        AggKind::Min | AggKind::Max | AggKind::FirstValue | AggKind::LastValue => 1,
                        _ => usize::MAX,
                    };
                    let rows = table.rows(&self.groups[s].key, limit).await?;
                    let v = call.result_of_rows(&rows, &table.arg_pos)?;
                    *state = CallState::Value { v, stale: false };
                }
            }
            let new = if simple || row_count > 0 { Some(self.outputs(s)?) } else { None };
            let g = &mut self.groups[s];
            match (g.prev.take(), new) {
                (None, None) => {}
                (None, Some(n)) => {
                    emits.push((Op::Insert, slot, Emitted::Current));
                    g.prev = Some(n);
                    writes.push((true, slot));
                }
                (Some(p), None) => {
                    emits.push((Op::Delete, slot, Emitted::Replaced(replaced.len())));
                    replaced.push(p);
                    writes.push((false, slot));
                }
                (Some(p), Some(n)) => {
                    if p != n {
                        emits.push((Op::UpdateDelete, slot, Emitted::Replaced(replaced.len())));
                        emits.push((Op::UpdateInsert, slot, Emitted::Current));
                        replaced.push(p);
                    }
                    g.prev = Some(n);
                    writes.push((true, slot));
                }
            }
        }
        self.write_states(&writes)?;
        for d in self.distinct.iter_mut().flatten() {
            d.flush()?;
        }
        let out = self.output_chunks(&emits, &replaced)?;
        if !simple && self.groups.len() > self.cache_limit {
            self.evict(&dirty);
        }
        Ok(out)
    }

    /// Writes (or deletes) the result table rows of the groups at the slots.
    fn write_states(&mut self, writes: &[(bool, u32)]) -> StreamResult<()> {
        if writes.is_empty() {
            return Ok(());
        }
        let slots: Vec<u32> = writes.iter().map(|(_, s)| *s).collect();
        let mut columns = Vec::with_capacity(self.result.schema().fields().len());
        for (j, t) in self.group_types.iter().enumerate() {
            columns.push(scalar_column(slots.iter().map(|s| self.groups[*s as usize].key[j].clone()), &t.to_arrow())?);
        }
        columns.push(Arc::new(Int64Array::from_iter_values(slots.iter().map(|s| self.groups[*s as usize].row_count))) as ArrayRef);
        for (call, states) in self.calls.iter().zip(&self.states) {
            columns.extend(call.state_columns(states, &slots)?);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(slots.len()));
        let batch = RecordBatch::try_new_with_options(self.result.schema().clone(), columns, &options)?;
        let ops = writes.iter().map(|(put, _)| if *put { Op::Insert } else { Op::Delete }).collect();
        self.result.write_chunk(&StreamChunk::new(ops, batch)?)
    }

    /// The output rows, column-wise, in chunks of at most [`CHUNK_SIZE`] rows that keep update
    /// pairs together.
    fn output_chunks(&self, emits: &[(Op, u32, Emitted)], replaced: &[OwnedRow]) -> StreamResult<Vec<StreamChunk>> {
        let mut out = Vec::new();
        let mut start = 0;
        while start < emits.len() {
            let mut end = (start + CHUNK_SIZE).min(emits.len());
            if emits[end - 1].0 == Op::UpdateDelete && end < emits.len() {
                end += 1;
            }
            let part = &emits[start..end];
            let results = |e: &(Op, u32, Emitted)| -> &OwnedRow {
                match e.2 {
                    Emitted::Replaced(i) => &replaced[i],
                    Emitted::Current => self.groups[e.1 as usize].prev.as_ref().expect("an emitted group has results"),
                }
            };
            let g = self.group_keys.len();
            let mut columns = Vec::with_capacity(self.schema.fields().len());
            for (j, f) in self.schema.fields().iter().enumerate() {
                let values: Box<dyn Iterator<Item = ScalarValue>> = if j < g {
                    Box::new(part.iter().map(|e| self.groups[e.1 as usize].key[j].clone()))
                } else {
                    Box::new(part.iter().map(|e| results(e)[j - g].clone()))
                };
                columns.push(scalar_column(values, f.data_type())?);
            }
            let options = RecordBatchOptions::new().with_row_count(Some(part.len()));
            let batch = RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)?;
            out.push(StreamChunk::new(part.iter().map(|e| e.0).collect(), batch)?);
            start = end;
        }
        Ok(out)
    }

    /// Drops every cached group but `keep` (all clean: called after a flush).
    fn evict(&mut self, keep: &[u32]) {
        let mut new_slot = vec![u32::MAX; self.groups.len()];
        for (i, s) in keep.iter().enumerate() {
            new_slot[*s as usize] = i as u32;
        }
        let mut groups: Vec<Option<Group>> = std::mem::take(&mut self.groups).into_iter().map(Some).collect();
        self.groups = keep.iter().filter_map(|s| groups[*s as usize].take()).collect();
        for states in &mut self.states {
            let mut old: Vec<Option<CallState>> = std::mem::take(states).into_iter().map(Some).collect();
            *states = keep.iter().filter_map(|s| old[*s as usize].take()).collect();
        }
        self.map.retain(|_, slot| {
            let n = new_slot[*slot as usize];
            *slot = n;
            n != u32::MAX
        });
    }
}

#[cfg(test)]
mod tests {
    use arrow::datatypes::{DataType as ArrowType, Field};
    use futures::StreamExt;
    use datafusion::common::ScalarValue;
    use tributary_common::chunk::Op;
    use tributary_common::types::DataType;
    use tributary_proto::stream_plan::{AggCall as PbAggCall, AggKind, CallStateTable, ColumnOrder, HashAggNode, StateTableRef};
    use tributary_storage::StateStore;

    use super::HashAggExecutor;
    use crate::stream::executor::{info, Executor};
    use crate::stream::message::Message;
    use crate::stream::row::OwnedRow;
    use crate::stream::state_table::StateTable;
    use crate::stream::test_utils::{barrier, chunk, collect, input, schema, store, Model};
    use std::sync::Arc;

    /// Input: pk, k, v, s, b, d (a constant ',' delimiter).
    fn in_types() -> Vec<DataType> {
        vec![DataType::Int64, DataType::Int32, DataType::Int32, DataType::Varchar, DataType::Boolean, DataType::Varchar]
    }

    fn i32o(v: Option<i32>) -> ScalarValue {
        ScalarValue::Int32(v)
    }

    fn i64o(v: Option<i64>) -> ScalarValue {
        ScalarValue::Int64(v)
    }

    fn row(pk: i64, k: Option<i32>, v: Option<i32>, s: Option<&str>, b: Option<bool>) -> OwnedRow {
        vec![
            ScalarValue::Int64(Some(pk)),
            i32o(k),
            i32o(v),
            ScalarValue::Utf8(s.map(str::to_string)),
            ScalarValue::Boolean(b),
            ScalarValue::Utf8(Some(",".into())),
        ]
    }

    /// Rows (pk, k, v) with s = NULL and b = NULL.
    fn kv(pk: i64, k: i32, v: i32) -> OwnedRow {
        row(pk, Some(k), Some(v), None, None)
    }

    fn data(ops: Vec<Op>, rows: Vec<OwnedRow>) -> Message {
        chunk(&in_types(), ops, rows)
    }

    fn ins(rows: Vec<OwnedRow>) -> Message {
        data(vec![Op::Insert; rows.len()], rows)
    }

    fn del(rows: Vec<OwnedRow>) -> Message {
        data(vec![Op::Delete; rows.len()], rows)
    }

    fn upd(old: OwnedRow, new: OwnedRow) -> Message {
        data(vec![Op::UpdateDelete, Op::UpdateInsert], vec![old, new])
    }

    fn call(kind: AggKind, args: &[u32], ret: DataType) -> PbAggCall {
        PbAggCall { kind: kind as i32, args: args.to_vec(), return_type: Some(ret.to_protobuf()), ..Default::default() }
    }

    fn ordered(mut c: PbAggCall, order: &[(u32, bool)]) -> PbAggCall {
        c.order_by = order
            .iter()
            .map(|(col, desc)| ColumnOrder { column: *col, descending: *desc, nulls_first: *desc })
            .collect();
        c
    }

    fn distinct(mut c: PbAggCall) -> PbAggCall {
        c.distinct = true;
        c
    }

    fn filtered(mut c: PbAggCall, col: u32) -> PbAggCall {
        c.filter = Some(col);
        c
    }

    /// A node numbering its tables as the frontend does; `append_only`: min/max keep no inputs.
    fn node(group: &[u32], calls: Vec<PbAggCall>, append_only: bool) -> HashAggNode {
        let mut id = 1;
        let mut call_tables = Vec::new();
        for c in &calls {
            let kind = AggKind::try_from(c.kind).unwrap();
            let keeps = match kind {
                AggKind::Min | AggKind::Max => !append_only,
                AggKind::StringAgg | AggKind::ArrayAgg | AggKind::FirstValue | AggKind::LastValue | AggKind::JsonbAgg | AggKind::JsonbObjectAgg => true,
                AggKind::BitAnd | AggKind::BitOr => !append_only,
                _ => false,
            };
            let mut t = CallStateTable { has_table: keeps, has_distinct_table: c.distinct, ..Default::default() };
            if keeps {
                id += 1;
                t.table = Some(StateTableRef { local_id: id });
            }
            if c.distinct {
                id += 1;
                t.distinct_table = Some(StateTableRef { local_id: id });
            }
            call_tables.push(t);
        }
        HashAggNode { group_keys: group.to_vec(), calls, result_table: Some(StateTableRef { local_id: 1 }), call_tables }
    }

    fn ret_types(group: &[u32], calls: &[PbAggCall]) -> Vec<DataType> {
        let input = in_types();
        group
            .iter()
            .map(|g| input[*g as usize].clone())
            .chain(calls.iter().map(|c| DataType::from_protobuf(c.return_type.as_ref().unwrap()).unwrap()))
            .collect()
    }

    fn agg(store: &Arc<dyn StateStore>, node: &HashAggNode, messages: Vec<Message>) -> Executor {
        agg_with_cache(store, node, messages, super::GROUP_CACHE_LIMIT)
    }

    fn agg_with_cache(store: &Arc<dyn StateStore>, node: &HashAggNode, messages: Vec<Message>, cache_limit: usize) -> Executor {
        let out = ret_types(&node.group_keys, &node.calls);
        let info = info(schema(&out), out, (0..node.group_keys.len()).collect(), "HashAgg");
        let store = store.clone();
        let mut make = |r: &Option<StateTableRef>, schema, pk, desc, dist| {
            StateTable::new(store.clone(), 100 + r.as_ref().unwrap().local_id, schema, pk, desc, dist, vec![])
        };
        let mut exec = HashAggExecutor::new(input(&in_types(), vec![0], messages), node, &info, &mut make).unwrap();
        exec.core.cache_limit = cache_limit;
        Executor::new(info, exec)
    }

    /// The net output after each barrier.
    fn snapshots(out: &[Message]) -> Vec<Vec<OwnedRow>> {
        let mut model = Model::default();
        let mut snaps = Vec::new();
        for m in out {
            match m {
                Message::Chunk(c) => model.apply(c),
                Message::Barrier(_) => snaps.push(model.sorted()),
            }
        }
        snaps
    }

    fn ops(out: &[Message]) -> Vec<Vec<Op>> {
        let mut all = vec![Vec::new()];
        for m in out {
            match m {
                Message::Chunk(c) => all.last_mut().unwrap().extend(c.ops.iter().copied()),
                Message::Barrier(_) => all.push(Vec::new()),
            }
        }
        all
    }

    async fn run(node: &HashAggNode, messages: Vec<Message>) -> Vec<Message> {
        collect(agg(&store(), node, messages)).await
    }

    /// Rows in the order of [`Model::sorted`].
    fn sorted(mut rows: Vec<OwnedRow>) -> Vec<OwnedRow> {
        rows.sort_by_key(|r| format!("{r:?}"));
        rows
    }

    #[tokio::test]
    async fn count_sum_avg_with_retractions() {
        let calls = vec![
            call(AggKind::Count, &[], DataType::Int64),
            call(AggKind::Count, &[2], DataType::Int64),
            call(AggKind::Sum, &[2], DataType::Int64),
            call(AggKind::Avg, &[2], DataType::Float64),
            call(AggKind::Sum0, &[2], DataType::Int64),
        ];
        let n = node(&[1], calls, false);
        let out = run(
            &n,
            vec![
                barrier(1),
                ins(vec![kv(1, 1, 10), kv(2, 1, 20), kv(3, 2, 5), row(4, Some(2), None, None, None)]),
                barrier(2),
                del(vec![kv(1, 1, 10)]),
                upd(kv(3, 2, 5), kv(3, 2, 7)),
                barrier(3),
                del(vec![kv(2, 1, 20)]),
                upd(row(4, Some(2), None, None, None), kv(4, 2, 1)),
                barrier(4),
            ],
        )
        .await;
        let s = snapshots(&out);
        let r = |k: i32, c: i64, cv: i64, sum: Option<i64>, avg: Option<f64>| {
            vec![i32o(Some(k)), i64o(Some(c)), i64o(Some(cv)), i64o(sum), ScalarValue::Float64(avg), i64o(Some(sum.unwrap_or(0)))]
        };
        assert_eq!(s[0], Vec::<OwnedRow>::new());
        assert_eq!(s[1], sorted(vec![r(1, 2, 2, Some(30), Some(15.0)), r(2, 2, 1, Some(5), Some(5.0))]));
        assert_eq!(s[2], sorted(vec![r(1, 1, 1, Some(20), Some(20.0)), r(2, 2, 1, Some(7), Some(7.0))]));
        assert_eq!(s[3], sorted(vec![r(2, 2, 2, Some(8), Some(4.0))]));
        let o = ops(&out);
        assert_eq!(o[1], vec![Op::Insert, Op::Insert]);
        assert_eq!(o[2], vec![Op::UpdateDelete, Op::UpdateInsert, Op::UpdateDelete, Op::UpdateInsert]);
        assert_eq!(o[3], vec![Op::Delete, Op::UpdateDelete, Op::UpdateInsert]);
    }

    fn numeric() -> DataType {
        DataType::Decimal { precision: None, scale: None }
    }

    fn dec(unscaled: i128) -> ScalarValue {
        ScalarValue::Decimal128(Some(unscaled), 38, 10)
    }

    fn text(v: Option<&str>) -> ScalarValue {
        ScalarValue::Utf8(v.map(str::to_string))
    }

    fn int_list(v: &[Option<i32>]) -> ScalarValue {
        let values: Vec<ScalarValue> = v.iter().map(|x| i32o(*x)).collect();
        ScalarValue::List(ScalarValue::new_list_nullable(&values, &ArrowType::Int32))
    }

    #[tokio::test]
    async fn min_max_recompute_after_retracting_the_extreme() {
        let calls = vec![
            call(AggKind::Min, &[2], DataType::Int32),
            call(AggKind::Max, &[2], DataType::Int32),
            call(AggKind::Max, &[3], DataType::Varchar),
        ];
        let n = node(&[1], calls, false);
        let r = |pk, v, s| row(pk, Some(1), Some(v), Some(s), None);
        let out = run(
            &n,
            vec![
                barrier(1),
                ins(vec![r(1, 1, "a"), r(2, 5, "c"), r(3, 9, "b"), row(4, Some(1), None, None, None)]),
                barrier(2),
                del(vec![r(3, 9, "b")]),
                barrier(3),
                // Insert and retract a new extreme in one epoch; retract the minimum.
                ins(vec![r(5, 0, "z")]),
                del(vec![r(5, 0, "z"), r(1, 1, "a")]),
                barrier(4),
                del(vec![r(2, 5, "c")]),
                barrier(5),
                del(vec![row(4, Some(1), None, None, None)]),
                barrier(6),
            ],
        )
        .await;
        let s = snapshots(&out);
        let g = |min: Option<i32>, max: Option<i32>, smax: Option<&str>| vec![vec![i32o(Some(1)), i32o(min), i32o(max), text(smax)]];
        assert_eq!(s[1], g(Some(1), Some(9), Some("c")));
        assert_eq!(s[2], g(Some(1), Some(5), Some("c")));
        assert_eq!(s[3], g(Some(5), Some(5), Some("c")));
        // Only the row with NULLs is left: the group exists with NULL extremes.
        assert_eq!(s[4], g(None, None, None));
        assert_eq!(s[5], Vec::<OwnedRow>::new());
    }

    #[tokio::test]
    async fn min_max_over_append_only_input_keep_only_the_value() {
        let calls = vec![call(AggKind::Min, &[2], DataType::Int32), call(AggKind::Max, &[2], DataType::Int32)];
        let n = node(&[1], calls, true);
        assert!(n.call_tables.iter().all(|t| !t.has_table));
        let out = run(&n, vec![barrier(1), ins(vec![kv(1, 1, 4), kv(2, 1, 2)]), barrier(2), ins(vec![kv(3, 1, 8)]), barrier(3)]).await;
        let s = snapshots(&out);
        assert_eq!(s[1], vec![vec![i32o(Some(1)), i32o(Some(2)), i32o(Some(4))]]);
        assert_eq!(s[2], vec![vec![i32o(Some(1)), i32o(Some(2)), i32o(Some(8))]]);
        // A retraction cannot be followed without the inputs: an error, not a wrong result.
        let exec = agg(&store(), &n, vec![barrier(1), ins(vec![kv(1, 1, 4)]), del(vec![kv(1, 1, 4)]), barrier(2)]);
        let results: Vec<_> = exec.execute().collect().await;
        assert!(results.iter().any(|r| r.is_err()));
    }

    #[tokio::test]
    async fn ordered_aggregates_over_input_tables() {
        let calls = vec![
            ordered(call(AggKind::StringAgg, &[3, 5], DataType::Varchar), &[(2, true)]),
            ordered(call(AggKind::ArrayAgg, &[2], DataType::List(Box::new(DataType::Int32))), &[(0, false)]),
            ordered(call(AggKind::FirstValue, &[3], DataType::Varchar), &[(2, false)]),
            ordered(call(AggKind::LastValue, &[3], DataType::Varchar), &[(2, false)]),
            call(AggKind::StringAgg, &[3, 5], DataType::Varchar),
        ];
        let n = node(&[1], calls, false);
        let r = |pk, v: Option<i32>, s: Option<&str>| row(pk, Some(1), v, s, None);
        let out = run(
            &n,
            vec![
                barrier(1),
                ins(vec![r(1, Some(2), Some("b")), r(2, Some(1), Some("a")), r(3, Some(3), None), r(4, None, Some("n"))]),
                barrier(2),
                upd(r(2, Some(1), Some("a")), r(2, Some(5), Some("e"))),
                barrier(3),
                del(vec![r(1, Some(2), Some("b")), r(2, Some(5), Some("e")), r(3, Some(3), None), r(4, None, Some("n"))]),
                barrier(4),
            ],
        )
        .await;
        let s = snapshots(&out);
        // ORDER BY v DESC puts NULLs first (Postgres' default for DESC); string_agg skips
        // NULL values; array_agg keeps them.
        assert_eq!(
            s[1],
            vec![vec![
                i32o(Some(1)),
                text(Some("n,b,a")),
                int_list(&[Some(2), Some(1), Some(3), None]),
                text(Some("a")),
                text(Some("n")),
                text(Some("b,a,n")),
            ]]
        );
        assert_eq!(
            s[2],
            vec![vec![
                i32o(Some(1)),
                text(Some("n,e,b")),
                int_list(&[Some(2), Some(5), Some(3), None]),
                text(Some("b")),
                text(Some("n")),
                text(Some("b,e,n")),
            ]]
        );
        assert_eq!(s[3], Vec::<OwnedRow>::new());
        // The output columns have exactly the planned types.
        let chunk = out.iter().find_map(|m| if let Message::Chunk(c) = m { Some(c) } else { None }).unwrap();
        assert_eq!(chunk.batch.schema().field(2).data_type(), &DataType::List(Box::new(DataType::Int32)).to_arrow());
    }

    #[tokio::test]
    async fn bool_bit_and_variance() {
        let calls = vec![
            call(AggKind::BoolAnd, &[4], DataType::Boolean),
            call(AggKind::BoolOr, &[4], DataType::Boolean),
            call(AggKind::BitAnd, &[2], DataType::Int32),
            call(AggKind::BitOr, &[2], DataType::Int32),
            call(AggKind::VarSamp, &[2], numeric()),
            call(AggKind::StddevSamp, &[2], DataType::Float64),
            call(AggKind::VarPop, &[2], numeric()),
        ];
        let n = node(&[1], calls, false);
        let r = |pk, v, b| row(pk, Some(1), Some(v), None, Some(b));
        let out = run(
            &n,
            vec![
                barrier(1),
                ins(vec![r(1, 6, true), r(2, 7, true), r(3, 14, false)]),
                barrier(2),
                del(vec![r(3, 14, false)]),
                barrier(3),
                del(vec![r(2, 7, true)]),
                barrier(4),
            ],
        )
        .await;
        let s = snapshots(&out);
        let b = |v: Option<bool>| ScalarValue::Boolean(v);
        // 6, 7, 14: mean 9, Σ(x-mean)² = 9 + 4 + 25 = 38.
        assert_eq!(
            s[1],
            vec![vec![
                i32o(Some(1)),
                b(Some(false)),
                b(Some(true)),
                i32o(Some(6)),
                i32o(Some(15)),
                dec(190_000_000_000),
                ScalarValue::Float64(Some(19f64.sqrt())),
                dec(126_666_666_667),
            ]]
        );
        // 6, 7: Σ(x-mean)² = 0.5.
        assert_eq!(
            s[2],
            vec![vec![
                i32o(Some(1)),
                b(Some(true)),
                b(Some(true)),
                i32o(Some(6)),
                i32o(Some(7)),
                dec(5_000_000_000),
                ScalarValue::Float64(Some(0.5f64.sqrt())),
                dec(2_500_000_000),
            ]]
        );
        // One value: the sample variance is NULL.
        assert_eq!(
            s[3],
            vec![vec![i32o(Some(1)), b(Some(true)), b(Some(true)), i32o(Some(6)), i32o(Some(6)), ScalarValue::Decimal128(None, 38, 10), ScalarValue::Float64(None), dec(0)]]
        );
    }

    #[tokio::test]
    async fn simple_aggregation_emits_its_row_without_input() {
        let calls = vec![
            call(AggKind::Count, &[], DataType::Int64),
            call(AggKind::Sum, &[2], numeric()),
            call(AggKind::Max, &[2], DataType::Int32),
        ];
        let n = node(&[], calls, false);
        let st = store();
        let out1 = collect(agg(&st, &n, vec![barrier(1), barrier(2), ins(vec![kv(1, 1, 3), kv(2, 2, 4)]), barrier(3), del(vec![kv(1, 1, 3), kv(2, 2, 4)]), barrier(4)])).await;
        assert!(matches!(out1[0], Message::Barrier(_)));
        assert_eq!(ops(&out1), vec![vec![], vec![Op::Insert], vec![Op::UpdateDelete, Op::UpdateInsert], vec![Op::UpdateDelete, Op::UpdateInsert], vec![]]);
        let s = snapshots(&out1);
        let empty = vec![vec![i64o(Some(0)), ScalarValue::Decimal128(None, 38, 10), i32o(None)]];
        assert_eq!(s[1], empty);
        assert_eq!(s[2], vec![vec![i64o(Some(2)), dec(70_000_000_000), i32o(Some(4))]]);
        assert_eq!(s[3], empty);
        // Restarted over the same state, the row is not emitted again; changes continue from it.
        let out2 = collect(agg(&st, &n, vec![barrier(5), ins(vec![kv(3, 1, 1)]), barrier(6)])).await;
        assert_eq!(ops(&out2), vec![vec![], vec![Op::UpdateDelete, Op::UpdateInsert], vec![]]);
        let mut m = Model::default();
        m.apply_all(&out1);
        m.apply_all(&out2);
        assert_eq!(m.sorted(), vec![vec![i64o(Some(1)), dec(10_000_000_000), i32o(Some(1))]]);
    }

    #[tokio::test]
    async fn distinct_and_filter() {
        let calls = vec![
            distinct(call(AggKind::Count, &[2], DataType::Int64)),
            distinct(call(AggKind::Sum, &[2], DataType::Int64)),
            distinct(call(AggKind::StringAgg, &[3, 5], DataType::Varchar)),
            filtered(call(AggKind::Count, &[], DataType::Int64), 4),
            filtered(call(AggKind::Sum, &[2], DataType::Int64), 4),
            filtered(call(AggKind::Max, &[2], DataType::Int32), 4),
            filtered(distinct(call(AggKind::Count, &[2], DataType::Int64)), 4),
        ];
        let n = node(&[1], calls, false);
        let r = |pk, v, s, b| row(pk, Some(1), Some(v), Some(s), b);
        let out = run(
            &n,
            vec![
                barrier(1),
                ins(vec![r(1, 5, "x", Some(true)), r(2, 5, "x", Some(false)), r(3, 7, "y", None), r(4, 7, "y", Some(true))]),
                barrier(2),
                del(vec![r(1, 5, "x", Some(true)), r(4, 7, "y", Some(true))]),
                barrier(3),
                del(vec![r(2, 5, "x", Some(false))]),
                barrier(4),
            ],
        )
        .await;
        let s = snapshots(&out);
        let g = |cd: i64, sd: i64, sa: &str, cf: i64, sf: Option<i64>, mf: Option<i32>, cdf: i64| {
            vec![vec![i32o(Some(1)), i64o(Some(cd)), i64o(Some(sd)), text(Some(sa)), i64o(Some(cf)), i64o(sf), i32o(mf), i64o(Some(cdf))]]
        };
        assert_eq!(s[1], g(2, 12, "x,y", 2, Some(12), Some(7), 2));
        assert_eq!(s[2], g(2, 12, "x,y", 0, None, None, 0));
        assert_eq!(s[3], g(1, 7, "y", 0, None, None, 0));
    }

    #[tokio::test]
    async fn groups_are_deleted_and_state_survives_a_restart() {
        let calls = vec![
            call(AggKind::Count, &[], DataType::Int64),
            call(AggKind::Sum, &[2], DataType::Int64),
            call(AggKind::Min, &[2], DataType::Int32),
            distinct(call(AggKind::Count, &[2], DataType::Int64)),
            ordered(call(AggKind::StringAgg, &[3, 5], DataType::Varchar), &[(0, false)]),
        ];
        let n = node(&[1], calls, false);
        let st = store();
        let r = |pk, k, v, s| row(pk, Some(k), Some(v), Some(s), None);
        let out1 = collect(agg(
            &st,
            &n,
            vec![barrier(1), ins(vec![r(1, 1, 3, "a"), r(2, 1, 4, "b"), r(3, 2, 4, "c")]), barrier(2), del(vec![r(1, 1, 3, "a"), r(2, 1, 4, "b")]), barrier(3)],
        ))
        .await;
        assert_eq!(ops(&out1)[2], vec![Op::Delete]);
        let out2 = collect(agg(
            &st,
            &n,
            vec![barrier(4), ins(vec![r(4, 2, 1, "d"), r(5, 1, 9, "e")]), barrier(5), del(vec![r(3, 2, 4, "c")]), barrier(6)],
        ))
        .await;
        let mut model = Model::default();
        model.apply_all(&out1);
        model.apply_all(&out2);
        let g = |k, c, sum, min, cd, s: &str| vec![i32o(Some(k)), i64o(Some(c)), i64o(Some(sum)), i32o(Some(min)), i64o(Some(cd)), text(Some(s))];
        assert_eq!(model.sorted(), sorted(vec![g(1, 1, 9, 9, 1, "e"), g(2, 1, 1, 1, 1, "d")]));
        // The restarted executor updated group 2 from its stored state and re-created group 1.
        assert_eq!(ops(&out2)[1], vec![Op::UpdateDelete, Op::UpdateInsert, Op::Insert]);
    }

    /// A small deterministic generator (xorshift) for the randomized test.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn chance(&mut self, percent: u64) -> bool {
            self.below(100) < percent
        }
    }

    #[derive(Clone, Debug)]
    struct In {
        pk: i64,
        k: Option<i32>,
        v: Option<i32>,
        s: Option<&'static str>,
        b: Option<bool>,
    }

    impl In {
        fn row(&self) -> OwnedRow {
            row(self.pk, self.k, self.v, self.s, self.b)
        }
    }

    fn random_in(rng: &mut Rng, pk: i64) -> In {
        const S: [&str; 4] = ["a", "b", "cc", "d"];
        In {
            pk,
            k: (!rng.chance(10)).then(|| rng.below(4) as i32),
            v: (!rng.chance(15)).then(|| rng.below(21) as i32 - 10),
            s: (!rng.chance(15)).then(|| S[rng.below(4) as usize]),
            b: (!rng.chance(15)).then(|| rng.chance(50)),
        }
    }

    fn random_calls() -> Vec<PbAggCall> {
        vec![
            call(AggKind::Count, &[], DataType::Int64),
            call(AggKind::Count, &[2], DataType::Int64),
            call(AggKind::Sum, &[2], DataType::Int64),
            call(AggKind::Min, &[2], DataType::Int32),
            call(AggKind::Max, &[2], DataType::Int32),
            distinct(call(AggKind::Count, &[2], DataType::Int64)),
            filtered(call(AggKind::Sum, &[2], DataType::Int64), 4),
            ordered(call(AggKind::StringAgg, &[3, 5], DataType::Varchar), &[(0, false)]),
            call(AggKind::Avg, &[2], DataType::Float64),
            ordered(call(AggKind::ArrayAgg, &[2], DataType::List(Box::new(DataType::Int32))), &[(0, false)]),
            call(AggKind::BoolOr, &[4], DataType::Boolean),
            call(AggKind::Max, &[3], DataType::Varchar),
            distinct(call(AggKind::Sum, &[2], DataType::Int64)),
            call(AggKind::Sum, &[2], numeric()),
        ]
    }

    /// `random_calls` recomputed from scratch over a group's rows (in pk order).
    fn expected_row(key: Option<Option<i32>>, rows: &[&In]) -> OwnedRow {
        let vs: Vec<i32> = rows.iter().filter_map(|r| r.v).collect();
        let sum = |v: &[i32]| (!v.is_empty()).then(|| v.iter().map(|x| i64::from(*x)).sum::<i64>());
        let mut distinct_v = vs.clone();
        distinct_v.sort();
        distinct_v.dedup();
        let filtered: Vec<i32> = rows.iter().filter(|r| r.b == Some(true)).filter_map(|r| r.v).collect();
        let strings: Vec<&str> = rows.iter().filter_map(|r| r.s).collect();
        let bools: Vec<bool> = rows.iter().filter_map(|r| r.b).collect();
        let mut out: OwnedRow = key.map(|k| vec![i32o(k)]).unwrap_or_default();
        out.extend([
            i64o(Some(rows.len() as i64)),
            i64o(Some(vs.len() as i64)),
            i64o(sum(&vs)),
            i32o(vs.iter().min().copied()),
            i32o(vs.iter().max().copied()),
            i64o(Some(distinct_v.len() as i64)),
            i64o(sum(&filtered)),
            text((!strings.is_empty()).then(|| strings.join(",")).as_deref()),
            ScalarValue::Float64(sum(&vs).map(|s| s as f64 / vs.len() as f64)),
            if rows.is_empty() {
                ScalarValue::try_from(&ArrowType::List(Arc::new(Field::new("item", ArrowType::Int32, true)))).unwrap()
            } else {
                int_list(&rows.iter().map(|r| r.v).collect::<Vec<_>>())
            },
            ScalarValue::Boolean((!bools.is_empty()).then(|| bools.iter().any(|b| *b))),
            text(strings.iter().max().copied()),
            i64o(sum(&distinct_v)),
            ScalarValue::Decimal128(sum(&vs).map(|s| i128::from(s) * 10_000_000_000), 38, 10),
        ]);
        out
    }

    fn expected(live: &std::collections::BTreeMap<i64, In>, simple: bool) -> Vec<OwnedRow> {
        if simple {
            let rows: Vec<&In> = live.values().collect();
            return vec![expected_row(None, &rows)];
        }
        let mut groups: std::collections::BTreeMap<Option<i32>, Vec<&In>> = Default::default();
        for r in live.values() {
            groups.entry(r.k).or_default().push(r);
        }
        sorted(groups.into_iter().map(|(k, rows)| expected_row(Some(k), &rows)).collect())
    }

    async fn randomized(seed: u64, simple: bool) {
        let mut rng = Rng(seed);
        let group: &[u32] = if simple { &[] } else { &[1] };
        let n = node(group, random_calls(), false);
        let st = store();
        let mut live: std::collections::BTreeMap<i64, In> = Default::default();
        let mut next_pk = 0i64;
        let mut epoch = 1u64;
        let mut model = Model::default();
        for segment in 0..4 {
            // Each segment is a new executor over the same state (a restart after a commit).
            let mut messages = vec![barrier(epoch)];
            let mut expect = vec![None];
            epoch += 1;
            for _ in 0..6 {
                for _ in 0..rng.below(4) {
                    let mut ops = Vec::new();
                    let mut rows = Vec::new();
                    for _ in 0..1 + rng.below(12) {
                        let pick = (!live.is_empty()).then(|| *live.keys().nth(rng.below(live.len() as u64) as usize).unwrap());
                        match (rng.below(10), pick) {
                            (0..=4, _) | (_, None) => {
                                next_pk += 1;
                                let r = random_in(&mut rng, next_pk);
                                ops.push(Op::Insert);
                                rows.push(r.row());
                                live.insert(next_pk, r);
                            }
                            (5..=6, Some(pk)) => {
                                let r = live.remove(&pk).unwrap();
                                ops.push(Op::Delete);
                                rows.push(r.row());
                            }
                            (_, Some(pk)) => {
                                let old = live[&pk].clone();
                                let mut new = random_in(&mut rng, pk);
                                if rng.chance(50) {
                                    new.k = old.k;
                                }
                                ops.extend([Op::UpdateDelete, Op::UpdateInsert]);
                                rows.extend([old.row(), new.row()]);
                                live.insert(pk, new);
                            }
                        }
                    }
                    messages.push(data(ops, rows));
                }
                messages.push(barrier(epoch));
                epoch += 1;
                expect.push(Some(expected(&live, simple)));
            }
            // Some runs cache two groups between barriers: most groups are read back from the state.
            let cache_limit = if seed % 4 == 3 { 2 } else { super::GROUP_CACHE_LIMIT };
            let out = collect(agg_with_cache(&st, &n, messages, cache_limit)).await;
            let mut barriers = 0;
            for m in &out {
                match m {
                    Message::Chunk(c) => model.apply(c),
                    Message::Barrier(_) => {
                        if let Some(e) = &expect[barriers] {
                            assert_eq!(&model.sorted(), e, "seed {seed}, segment {segment}, barrier {barriers}");
                        }
                        barriers += 1;
                    }
                }
            }
            assert_eq!(barriers, expect.len());
        }
    }

    #[tokio::test]
    async fn randomized_against_recomputation() {
        for seed in 1..=16u64 {
            randomized(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1, false).await;
            randomized(seed.wrapping_mul(0xD1B5_4A32_D192_ED03) | 1, true).await;
        }
    }

    /// Throughput of `SELECT k, count(*), sum(v) FROM t GROUP BY k` over 10k keys (run with
    /// `--release --ignored --nocapture`; not a timed test).
    #[tokio::test]
    #[ignore]
    async fn bench_count_sum_10k_keys() {
        use arrow::array::{Int32Array, Int64Array, RecordBatch};
        use tributary_common::chunk::StreamChunk;
        let types = vec![DataType::Int64, DataType::Int32, DataType::Int64];
        let sch = schema(&types);
        let rows_per_chunk = 1024usize;
        let chunks = 2000usize;
        let mut rng = Rng(42);
        let every: usize = std::env::var("BENCH_BARRIER_CHUNKS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
        let mut messages = vec![barrier(1)];
        for c in 0..chunks {
            let pk: Vec<i64> = (0..rows_per_chunk).map(|i| (c * rows_per_chunk + i) as i64).collect();
            let k: Vec<i32> = (0..rows_per_chunk).map(|_| rng.below(10_000) as i32).collect();
            let v: Vec<i64> = (0..rows_per_chunk).map(|_| rng.below(1000) as i64).collect();
            let batch = RecordBatch::try_new(
                sch.clone(),
                vec![Arc::new(Int64Array::from(pk)), Arc::new(Int32Array::from(k)), Arc::new(Int64Array::from(v))],
            )
            .unwrap();
            messages.push(Message::Chunk(StreamChunk::inserts(batch)));
            // A barrier per ~100k rows by default (ten times more often than at 1M rows/s and 1s
            // barriers); BENCH_BARRIER_CHUNKS changes it.
            if c % every == every - 1 {
                messages.push(barrier(2 + (c / every) as u64));
            }
        }
        let calls = vec![call(AggKind::Count, &[], DataType::Int64), call(AggKind::Sum, &[2], numeric())];
        let n = node(&[1], calls, false);
        let out_types = vec![DataType::Int32, DataType::Int64, numeric()];
        let info = info(schema(&out_types), out_types, vec![0], "HashAgg");
        let st = store();
        let mut make = |r: &Option<StateTableRef>, schema, pk, desc, dist| {
            StateTable::new(st.clone(), 100 + r.as_ref().unwrap().local_id, schema, pk, desc, dist, vec![])
        };
        let exec = HashAggExecutor::new(input(&types, vec![0], messages), &n, &info, &mut make).unwrap();
        let start = std::time::Instant::now();
        let out = collect(Executor::new(info, exec)).await;
        let secs = start.elapsed().as_secs_f64();
        let total = (rows_per_chunk * chunks) as f64;
        println!("{} rows in {secs:.3}s: {:.0} rows/s ({} output messages)", total, total / secs, out.len());
    }
}
