//! Dynamic filter: `left.key <cmp> value`, where `value` is the one row of the right input (a
//! scalar subquery such as `SELECT max(v) FROM t2`, broadcast to every actor), which may change
//! at every epoch.
//!
//! During an epoch, left changes pass when they satisfy the comparison with the value as of the
//! last barrier; right changes are only collected. At the barrier, when the value changed, the
//! left rows whose outcome differs between the old and the new value are emitted (inserted or
//! deleted), read by a range scan of the left table between the two values, and then the
//! barrier goes out. A NULL (or missing) value lets nothing pass; NULL keys never pass.
//! Comparisons follow the memcomparable order of the key type (Postgres' order: NaN above
//! every number, strings bytewise).
//!
//! State: `left_table` holds the left rows keyed by (owner, key, stream key) and `right_table`
//! the value keyed by (owner). `owner` is a fixed number hashing to a vnode this actor owns:
//! the left input's distribution key is not in the plan, and the right value is the same in
//! every actor, so the rows are placed by the actor rather than by a column, and each actor's
//! range scans read its own rows only.

use std::ops::Bound;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, Int32Array, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use async_stream::try_stream;
use bytes::Bytes;
use datafusion::common::ScalarValue;
use futures::StreamExt;
use tributary_common::chunk::{Op, StreamChunk};
use tributary_common::encoding::{encode_key_columns, table_key, vnode_of_key};
use tributary_common::types::DataType;
use tributary_proto::stream_plan::DynamicFilterNode;
use tributary_storage::{prefix_range, range_is_empty, KeyRange};

use super::filter::filter_with;
use super::hash_join::{align_barriers, AlignedMessage};
use super::{Execute, Executor, ExecutorInfo, MessageStream};
use crate::stream::builder::BuildContext;
use crate::stream::error::{StreamError, StreamResult};
use crate::stream::message::Message;
use crate::stream::row::{rows_of, ChunkBuilder, OwnedRow};
use crate::stream::state_table::StateTable;

/// Left rows read per range-scan page.
const SCAN_PAGE: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Comparator {
    pub fn parse(s: &str) -> StreamResult<Self> {
        Ok(match s {
            "<" => Comparator::Lt,
            "<=" => Comparator::Le,
            ">" => Comparator::Gt,
            ">=" => Comparator::Ge,
            "=" => Comparator::Eq,
            "<>" | "!=" => Comparator::Ne,
            other => return Err(StreamError::plan(format!("dynamic filter: unknown comparator {other:?}"))),
        })
    }

    /// Whether `key <cmp> value`, both memcomparable encodings of non-NULL values.
    fn holds(self, key: &[u8], value: &[u8]) -> bool {
        let ord = key.cmp(value);
        match self {
            Comparator::Lt => ord.is_lt(),
            Comparator::Le => ord.is_le(),
            Comparator::Gt => ord.is_gt(),
            Comparator::Ge => ord.is_ge(),
            Comparator::Eq => ord.is_eq(),
            Comparator::Ne => ord.is_ne(),
        }
    }

    fn monotone(self) -> bool {
        !matches!(self, Comparator::Eq | Comparator::Ne)
    }
}

pub struct DynamicFilterExecutor {
    left: Executor,
    right: Executor,
    core: FilterCore,
}

struct FilterCore {
    key: usize,
    key_type: DataType,
    cmp: Comparator,
    /// (owner, left columns...), pk (owner, key, stream key).
    left_table: StateTable,
    /// (owner, value), pk (owner).
    right_table: StateTable,
    owner: i32,
    /// Storage key prefix of this actor's rows in the left table: table, vnode, owner.
    left_prefix: Vec<u8>,
    output_schema: SchemaRef,
}

fn encode_one(value: &ScalarValue, ty: &DataType) -> StreamResult<Vec<u8>> {
    let array = value.to_array_of_size(1)?;
    let target = ty.to_arrow();
    let array = if array.data_type() == &target { array } else { arrow::compute::cast(&array, &target)? };
    let mut out = vec![Vec::new()];
    encode_key_columns(&[array], std::slice::from_ref(ty), &[], &mut out)?;
    Ok(out.pop().unwrap_or_default())
}

/// The smallest non-negative number whose vnode this actor owns (0 for a singleton).
fn owner_of(table: &StateTable) -> StreamResult<(i32, u16)> {
    // With 256 vnodes a few hundred candidates find any owned vnode.
    for i in 0..(1 << 20) {
        let enc = encode_one(&ScalarValue::Int32(Some(i)), &DataType::Int32)?;
        let vnode = vnode_of_key(&enc);
        if table.owns_vnode(vnode) {
            return Ok((i, vnode));
        }
    }
    Err(StreamError::Internal("dynamic filter: the actor owns no vnode".into()))
}

/// Whether the non-NULL value `v` (encoded) lets a non-NULL `key` (encoded) through.
fn passes(cmp: Comparator, key: Option<&[u8]>, value: Option<&[u8]>) -> bool {
    match (key, value) {
        (Some(k), Some(v)) => cmp.holds(k, v),
        _ => false,
    }
}

impl DynamicFilterExecutor {
    /// `left_key` indexes the left input; the right input's first column is the value.
    /// `table(0 | 1, schema, pk, dist_key)` makes the left or the right state table.
    pub fn new(
        left: Executor,
        right: Executor,
        left_key: usize,
        cmp: Comparator,
        info: &ExecutorInfo,
        mut table: impl FnMut(usize, SchemaRef, Vec<usize>, Vec<usize>) -> StreamResult<StateTable>,
    ) -> StreamResult<Self> {
        let left_fields = left.schema().fields();
        if left_key >= left_fields.len() || right.schema().fields().is_empty() {
            return Err(StreamError::plan("dynamic filter: compared column out of range"));
        }
        if info.types.len() != left_fields.len() {
            return Err(StreamError::plan("dynamic filter: output columns differ from its left input"));
        }
        let key_field = &left_fields[left_key];
        let key_type = DataType::from_arrow(key_field.data_type())?;
        let owner_field = Field::new("_owner", ArrowType::Int32, true);
        let mut fields = vec![owner_field.clone()];
        fields.extend(left_fields.iter().map(|f| Field::new(f.name(), f.data_type().clone(), true)));
        let mut pk = vec![0, 1 + left_key];
        for k in &left.info.stream_key {
            if !pk.contains(&(1 + k)) {
                pk.push(1 + k);
            }
        }
        let left_table = table(0, Arc::new(Schema::new(fields)), pk, vec![0])?;
        let right_schema = Schema::new(vec![owner_field, Field::new("value", key_field.data_type().clone(), true)]);
        let right_table = table(1, Arc::new(right_schema), vec![0], vec![0])?;
        let (owner, vnode) = owner_of(&left_table)?;
        let left_prefix = table_key(left_table.table_id(), vnode, &encode_one(&ScalarValue::Int32(Some(owner)), &DataType::Int32)?);
        let core = FilterCore {
            key: left_key,
            key_type,
            cmp,
            left_table,
            right_table,
            owner,
            left_prefix,
            output_schema: info.schema.clone(),
        };
        Ok(DynamicFilterExecutor { left, right, core })
    }
}

impl FilterCore {
    fn owner_value(&self) -> ScalarValue {
        ScalarValue::Int32(Some(self.owner))
    }

    /// Encodings of the key column of `rows` (None: NULL).
    fn key_encodings(&self, column: &ArrayRef) -> StreamResult<Vec<Option<Vec<u8>>>> {
        let mut out = vec![Vec::new(); column.len()];
        encode_key_columns(std::slice::from_ref(column), std::slice::from_ref(&self.key_type), &[], &mut out)?;
        Ok(out.into_iter().enumerate().map(|(i, k)| (!column.is_null(i)).then_some(k)).collect())
    }

    /// The value encoded in the key type (None: NULL or no row).
    fn encode_value(&self, value: &Option<ScalarValue>) -> StreamResult<Option<Vec<u8>>> {
        match value {
            Some(v) if !v.is_null() => Ok(Some(encode_one(v, &self.key_type)?)),
            _ => Ok(None),
        }
    }

    /// Stores a left chunk and returns the part that passes `value`.
    fn apply_left(&mut self, chunk: StreamChunk, value: &Option<Vec<u8>>) -> StreamResult<Option<StreamChunk>> {
        let n = chunk.batch.num_rows();
        let mut columns: Vec<ArrayRef> = vec![Arc::new(Int32Array::from(vec![self.owner; n]))];
        columns.extend(chunk.batch.columns().iter().cloned());
        let options = RecordBatchOptions::new().with_row_count(Some(n));
        let stored = RecordBatch::try_new_with_options(self.left_table.schema().clone(), columns, &options)?;
        self.left_table.write_chunk(&StreamChunk::new(chunk.ops.clone(), stored)?)?;

        let keys = self.key_encodings(chunk.batch.column(self.key))?;
        let keep = BooleanArray::from(keys.iter().map(|k| passes(self.cmp, k.as_deref(), value.as_deref())).collect::<Vec<_>>());
        let Some(passed) = filter_with(chunk, &keep)? else { return Ok(None) };
        let batch = RecordBatch::try_new_with_options(
            self.output_schema.clone(),
            passed.batch.columns().to_vec(),
            &RecordBatchOptions::new().with_row_count(Some(passed.batch.num_rows())),
        )?;
        Ok(Some(StreamChunk::new(passed.ops, batch)?))
    }

    /// Key ranges of this actor's left rows holding every row that passes `value`.
    fn pass_ranges(&self, value: &[u8]) -> Vec<KeyRange> {
        let all = prefix_range(&self.left_prefix);
        let mut at_prefix = self.left_prefix.clone();
        at_prefix.extend_from_slice(value);
        let at = prefix_range(&at_prefix);
        let after = |b: Bound<Bytes>| match b {
            Bound::Excluded(k) => Bound::Included(k),
            other => other,
        };
        let from = Bound::Included(Bytes::from(at_prefix.clone()));
        match self.cmp {
            Comparator::Eq => vec![at],
            Comparator::Ne => vec![all],
            Comparator::Lt => vec![(all.0, Bound::Excluded(Bytes::from(at_prefix)))],
            Comparator::Le => vec![(all.0, at.1)],
            Comparator::Gt => vec![(after(at.1), all.1)],
            Comparator::Ge => vec![(from, all.1)],
        }
    }

    /// Key ranges holding every left row whose outcome differs between `old` and `new`.
    fn delta_ranges(&self, old: &Option<Vec<u8>>, new: &Option<Vec<u8>>) -> Vec<KeyRange> {
        match (old, new) {
            (None, None) => vec![],
            (Some(v), None) | (None, Some(v)) => self.pass_ranges(v),
            (Some(_), Some(_)) if old == new => vec![],
            (Some(a), Some(b)) => {
                let with = |v: &[u8]| {
                    let mut p = self.left_prefix.clone();
                    p.extend_from_slice(v);
                    p
                };
                if self.cmp.monotone() {
                    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                    vec![(Bound::Included(Bytes::from(with(lo))), prefix_range(&with(hi)).1)]
                } else {
                    vec![prefix_range(&with(a)), prefix_range(&with(b))]
                }
            }
        }
    }

    /// The left rows entering or leaving the result when the value goes from `old` to `new`.
    async fn value_changed(&self, old: &Option<Vec<u8>>, new: &Option<Vec<u8>>) -> StreamResult<Vec<StreamChunk>> {
        let mut builder = ChunkBuilder::new(self.output_schema.clone());
        let mut out = Vec::new();
        for (start, end) in self.delta_ranges(old, new) {
            let mut start = start;
            loop {
                if range_is_empty(start.clone(), end.clone()) {
                    break;
                }
                let kvs = self.left_table.scan_range((start.clone(), end.clone()), SCAN_PAGE).await?;
                let exhausted = kvs.len() < SCAN_PAGE;
                if let Some((k, _)) = kvs.last() {
                    start = Bound::Excluded(k.clone());
                }
                let rows = self.left_table.decode_rows(&kvs)?;
                if !rows.is_empty() {
                    let keys = ScalarValue::iter_to_array(rows.iter().map(|r| r[1 + self.key].clone()))?;
                    let keys = if keys.data_type() == &self.key_type.to_arrow() {
                        keys
                    } else {
                        arrow::compute::cast(&keys, &self.key_type.to_arrow())?
                    };
                    for (row, key) in rows.into_iter().zip(self.key_encodings(&keys)?) {
                        let before = passes(self.cmp, key.as_deref(), old.as_deref());
                        let after = passes(self.cmp, key.as_deref(), new.as_deref());
                        let op = match (before, after) {
                            (true, false) => Op::Delete,
                            (false, true) => Op::Insert,
                            _ => continue,
                        };
                        let left_row: OwnedRow = row[1..].to_vec();
                        if let Some(c) = builder.append(op, left_row)? {
                            out.push(c);
                        }
                    }
                }
                if exhausted {
                    break;
                }
            }
        }
        if let Some(c) = builder.take()? {
            out.push(c);
        }
        Ok(out)
    }

    /// Stores the value (None: no row); `value` is in the key type.
    fn store_value(&mut self, value: &Option<ScalarValue>) -> StreamResult<()> {
        match value {
            Some(v) => self.right_table.insert(vec![self.owner_value(), v.clone()]),
            None => {
                // Deletes go by key; the value column is not read.
                let null = ScalarValue::try_from(&self.key_type.to_arrow())?;
                self.right_table.delete(vec![self.owner_value(), null])
            }
        }
    }

    fn cast_value(&self, v: &ScalarValue) -> StreamResult<ScalarValue> {
        let target = self.key_type.to_arrow();
        if v.data_type() == target {
            Ok(v.clone())
        } else {
            Ok(v.cast_to(&target)?)
        }
    }
}

impl Execute for DynamicFilterExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        let DynamicFilterExecutor { left, right, mut core } = *self;
        Box::pin(try_stream! {
            let mut input = align_barriers(left.execute(), right.execute());
            let mut first = true;
            // The right input's live rows (one, or none, at every barrier) and the value that
            // holds since the last barrier, encoded in the key type.
            let mut right_rows: Vec<ScalarValue> = Vec::new();
            let mut right_changed = false;
            let mut current: Option<Vec<u8>> = None;
            while let Some(msg) = input.next().await {
                match msg? {
                    AlignedMessage::Left(chunk) => {
                        if let Some(out) = core.apply_left(chunk, &current)? {
                            yield Message::Chunk(out);
                        }
                    }
                    AlignedMessage::Right(chunk) => {
                        for (op, row) in chunk.ops.iter().zip(rows_of(&chunk.batch)?) {
                            let v = core.cast_value(&row[0])?;
                            if op.is_insert() {
                                right_rows.push(v);
                            } else if let Some(p) = right_rows.iter().position(|r| *r == v) {
                                right_rows.remove(p);
                            } else {
                                Err(StreamError::Internal(format!("dynamic filter: delete of a missing right row {v}")))?;
                            }
                            right_changed = true;
                        }
                    }
                    AlignedMessage::Barrier(b) => {
                        if first {
                            core.left_table.init_epoch(b.epoch.curr);
                            core.right_table.init_epoch(b.epoch.curr);
                            // Recovery: the value stored at the last committed epoch.
                            if !right_changed {
                                if let Some(row) = core.right_table.get(&[core.owner_value()]).await? {
                                    let v = core.cast_value(&row[1])?;
                                    current = core.encode_value(&Some(v.clone()))?;
                                    right_rows = vec![v];
                                }
                            }
                        }
                        if right_changed {
                            if right_rows.len() > 1 {
                                Err(StreamError::Internal("more than one row returned by a subquery used as an expression".into()))?;
                            }
                            let value = right_rows.first().cloned();
                            let new = core.encode_value(&value)?;
                            for out in core.value_changed(&current, &new).await? {
                                yield Message::Chunk(out);
                            }
                            current = new;
                            core.store_value(&value)?;
                            right_changed = false;
                        }
                        if !first {
                            core.left_table.commit(b.epoch.curr)?;
                            core.right_table.commit(b.epoch.curr)?;
                        }
                        first = false;
                        yield Message::Barrier(b);
                    }
                }
            }
        })
    }
}

/// Builds a dynamic filter from its plan node.
pub fn build(ctx: &BuildContext<'_>, n: &DynamicFilterNode, info: ExecutorInfo, inputs: Vec<Executor>) -> StreamResult<Executor> {
    let [left, right]: [Executor; 2] = inputs.try_into().map_err(|_| StreamError::plan("dynamic filter needs two inputs"))?;
    let cmp = Comparator::parse(&n.comparator)?;
    let tables = [&n.left_table, &n.right_table];
    let exec = DynamicFilterExecutor::new(left, right, n.left_key as usize, cmp, &info, |side, schema, pk, dist| {
        ctx.state_table(tables[side], schema, pk, vec![], dist)
    })?;
    Ok(Executor::new(info, exec))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tributary_common::encoding::vnode_bitmap;
    use tributary_storage::StateStore;

    use super::*;
    use crate::stream::executor::info;
    use crate::stream::test_utils::{barrier, chunk, collect, i64v, input, schema, store, Model, TestRng};

    /// Left: (id, v), stream key id, compared on v.
    fn left_types() -> Vec<DataType> {
        vec![DataType::Int64, DataType::Int32]
    }

    fn lrow(id: i64, v: Option<i32>) -> OwnedRow {
        vec![i64v(id), ScalarValue::Int32(v)]
    }

    fn lmsg(ops: &[(Op, OwnedRow)]) -> Message {
        chunk(&left_types(), ops.iter().map(|(o, _)| *o).collect(), ops.iter().map(|(_, r)| r.clone()).collect())
    }

    /// The right input: one Int64 column (cast to the Int32 key).
    fn rmsg(ops: &[(Op, Option<i64>)]) -> Message {
        chunk(
            &[DataType::Int64],
            ops.iter().map(|(o, _)| *o).collect(),
            ops.iter().map(|(_, v)| vec![ScalarValue::Int64(*v)]).collect(),
        )
    }

    fn make(cmp: Comparator, store: &Arc<dyn StateStore>, vnodes: Vec<u8>, left: Vec<Message>, right: Vec<Message>) -> Executor {
        let t = left_types();
        let left = input(&t, vec![0], left);
        let right = input(&[DataType::Int64], vec![], right);
        let info = info(schema(&t), t.clone(), vec![0], "DynamicFilter");
        let store = store.clone();
        let exec = DynamicFilterExecutor::new(left, right, 1, cmp, &info, |side, schema, pk, dist| {
            StateTable::new(store.clone(), 300 + side as u32, schema, pk, vec![], dist, vnodes.clone())
        })
        .unwrap();
        Executor::new(info, exec)
    }

    fn holds(cmp: Comparator, k: i32, v: i32) -> bool {
        match cmp {
            Comparator::Lt => k < v,
            Comparator::Le => k <= v,
            Comparator::Gt => k > v,
            Comparator::Ge => k >= v,
            Comparator::Eq => k == v,
            Comparator::Ne => k != v,
        }
    }

    fn expected(cmp: Comparator, left: &[OwnedRow], value: Option<i64>) -> Vec<String> {
        let mut out: Vec<String> = left
            .iter()
            .filter(|r| match (&r[1], value) {
                (ScalarValue::Int32(Some(k)), Some(v)) => holds(cmp, *k, v as i32),
                _ => false,
            })
            .map(|r| format!("{r:?}"))
            .collect();
        out.sort();
        out
    }

    fn sorted(model: &Model) -> Vec<String> {
        let mut v: Vec<String> = model.sorted().iter().map(|r| format!("{r:?}")).collect();
        v.sort();
        v
    }

    fn by_epoch(out: &[Message]) -> Vec<Vec<(Op, OwnedRow)>> {
        let mut epochs = vec![Vec::new()];
        for m in out {
            match m {
                Message::Chunk(c) => epochs.last_mut().unwrap().extend(c.ops.iter().copied().zip(rows_of(&c.batch).unwrap())),
                Message::Barrier(_) => epochs.push(Vec::new()),
            }
        }
        epochs
    }

    #[tokio::test]
    async fn rows_follow_the_value() {
        let (a, b, c, n) = (lrow(1, Some(2)), lrow(2, Some(5)), lrow(3, Some(8)), lrow(4, None));
        let left = vec![
            barrier(0),
            lmsg(&[(Op::Insert, a.clone()), (Op::Insert, b.clone()), (Op::Insert, c.clone()), (Op::Insert, n.clone())]),
            barrier(1),
            barrier(2),
            // Passes under the value 4 only after the update.
            lmsg(&[(Op::UpdateDelete, a.clone()), (Op::UpdateInsert, lrow(1, Some(6)))]),
            barrier(3),
            barrier(4),
            barrier(5),
            barrier(6),
        ];
        let right = vec![
            barrier(0),
            barrier(1),
            rmsg(&[(Op::Insert, Some(4))]),
            barrier(2),
            barrier(3),
            rmsg(&[(Op::UpdateDelete, Some(4)), (Op::UpdateInsert, Some(7))]),
            barrier(4),
            rmsg(&[(Op::UpdateDelete, Some(7)), (Op::UpdateInsert, None)]),
            barrier(5),
            rmsg(&[(Op::Delete, None)]),
            barrier(6),
        ];
        let e = by_epoch(&collect(make(Comparator::Gt, &store(), vec![], left, right)).await);
        // No value yet: nothing passes.
        assert_eq!(e[1], vec![]);
        // v > 4 at the barrier of epoch 2.
        assert_eq!(e[2], vec![(Op::Insert, b.clone()), (Op::Insert, c.clone())]);
        assert_eq!(e[3], vec![(Op::Insert, lrow(1, Some(6)))]);
        // 4 → 7: 5 and 6 leave.
        assert_eq!(e[4], vec![(Op::Delete, b.clone()), (Op::Delete, lrow(1, Some(6)))]);
        // NULL: everything leaves.
        assert_eq!(e[5], vec![(Op::Delete, c.clone())]);
        assert_eq!(e[6], vec![]);
    }

    /// Random left changes and values; after every barrier the output is the filter of the
    /// net left rows by the value of that epoch.
    #[tokio::test]
    async fn randomized_against_recomputation() {
        for cmp in [Comparator::Lt, Comparator::Le, Comparator::Gt, Comparator::Ge, Comparator::Eq, Comparator::Ne] {
            for seed in 0..10u64 {
                let mut rng = TestRng::seeded(seed);
                let mut live: BTreeMap<i64, OwnedRow> = BTreeMap::new();
                let mut value: Option<Option<i64>> = None;
                let mut next_id = 1;
                let (mut left, mut right) = (vec![barrier(0)], vec![barrier(0)]);
                let mut expect = vec![Vec::new()];
                for e in 1..=15u64 {
                    for _ in 0..rng.below(3) {
                        let mut ops = Vec::new();
                        for _ in 0..1 + rng.below(5) {
                            let v = (rng.below(8) != 0).then(|| rng.below(10) as i32);
                            let action = rng.below(10);
                            if live.is_empty() || action < 5 {
                                live.insert(next_id, lrow(next_id, v));
                                ops.push((Op::Insert, lrow(next_id, v)));
                                next_id += 1;
                            } else {
                                let id = *live.keys().nth(rng.below(live.len() as u64) as usize).unwrap();
                                let old = live.remove(&id).unwrap();
                                if action < 8 {
                                    ops.push((Op::Delete, old));
                                } else {
                                    live.insert(id, lrow(id, v));
                                    ops.push((Op::UpdateDelete, old));
                                    ops.push((Op::UpdateInsert, lrow(id, v)));
                                }
                            }
                        }
                        left.push(lmsg(&ops));
                    }
                    if rng.below(2) == 0 {
                        let new = (rng.below(6) != 0).then(|| rng.below(10) as i64);
                        let ops = match (value, rng.below(5) == 0) {
                            (Some(old), true) => {
                                value = None;
                                vec![(Op::Delete, old)]
                            }
                            (Some(old), false) => {
                                value = Some(new);
                                vec![(Op::UpdateDelete, old), (Op::UpdateInsert, new)]
                            }
                            (None, _) => {
                                value = Some(new);
                                vec![(Op::Insert, new)]
                            }
                        };
                        right.push(rmsg(&ops));
                    }
                    left.push(barrier(e));
                    right.push(barrier(e));
                    let rows: Vec<OwnedRow> = live.values().cloned().collect();
                    expect.push(expected(cmp, &rows, value.flatten()));
                }
                let out = collect(make(cmp, &store(), vec![], left, right)).await;
                let mut model = Model::default();
                let mut barriers = 0;
                for m in &out {
                    match m {
                        Message::Chunk(c) => model.apply(c),
                        Message::Barrier(b) => {
                            let e = (b.epoch.prev >> 16) as usize;
                            assert_eq!(sorted(&model), expect[e], "{cmp:?} seed {seed} epoch {e}");
                            barriers += 1;
                        }
                    }
                }
                assert_eq!(barriers, expect.len());
            }
        }
    }

    /// A new executor over the same store starts from the stored rows and value.
    #[tokio::test]
    async fn state_survives_a_restart() {
        let st = store();
        let rows: Vec<OwnedRow> = (0..10).map(|i| lrow(i, Some(i as i32))).collect();
        let ins: Vec<(Op, OwnedRow)> = rows.iter().map(|r| (Op::Insert, r.clone())).collect();
        let first = collect(make(
            Comparator::Le,
            &st,
            vec![],
            vec![barrier(0), lmsg(&ins), barrier(1), barrier(2)],
            vec![barrier(0), rmsg(&[(Op::Insert, Some(5))]), barrier(1), barrier(2)],
        ))
        .await;
        let mut model = Model::default();
        model.apply_all(&first);
        assert_eq!(sorted(&model), expected(Comparator::Le, &rows, Some(5)));
        let second = collect(make(
            Comparator::Le,
            &st,
            vec![],
            vec![barrier(2), barrier(3)],
            vec![barrier(2), rmsg(&[(Op::UpdateDelete, Some(5)), (Op::UpdateInsert, Some(2))]), barrier(3)],
        ))
        .await;
        model.apply_all(&second);
        assert_eq!(sorted(&model), expected(Comparator::Le, &rows, Some(2)));
    }

    /// Two actors on one store: each one's value changes emit its own rows only.
    #[tokio::test]
    async fn actors_keep_their_own_rows() {
        let st = store();
        let mut all = Model::default();
        let mut rows = Vec::new();
        for actor in 0..2usize {
            let mine: Vec<OwnedRow> = (0..20).filter(|i| i % 2 == actor as i64).map(|i| lrow(i, Some(i as i32))).collect();
            rows.extend(mine.clone());
            let ins: Vec<(Op, OwnedRow)> = mine.iter().map(|r| (Op::Insert, r.clone())).collect();
            let out = collect(make(
                Comparator::Ge,
                &st,
                vnode_bitmap(actor, 2),
                vec![barrier(0), lmsg(&ins), barrier(1), barrier(2), barrier(3)],
                vec![
                    barrier(0),
                    barrier(1),
                    rmsg(&[(Op::Insert, Some(12))]),
                    barrier(2),
                    rmsg(&[(Op::UpdateDelete, Some(12)), (Op::UpdateInsert, Some(3))]),
                    barrier(3),
                ],
            ))
            .await;
            let mut model = Model::default();
            model.apply_all(&out);
            assert_eq!(sorted(&model), expected(Comparator::Ge, &mine, Some(3)), "actor {actor}");
            all.apply_all(&out);
        }
        assert_eq!(sorted(&all), expected(Comparator::Ge, &rows, Some(3)));
    }

    #[tokio::test]
    async fn several_right_rows_fail() {
        let out: Vec<_> = make(
            Comparator::Eq,
            &store(),
            vec![],
            vec![barrier(0), barrier(1)],
            vec![barrier(0), rmsg(&[(Op::Insert, Some(1)), (Op::Insert, Some(2))]), barrier(1)],
        )
        .execute()
        .collect()
        .await;
        assert!(out.iter().any(|m| m.is_err()));
    }
}
