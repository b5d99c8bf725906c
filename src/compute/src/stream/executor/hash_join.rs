//! Hash join: equi-join of two streams (inner, left/right/full outer, left/right semi and anti),
//! with an optional non-equi condition, maintained incrementally and retraction-correct.
//!
//! State, per side: a state table of the side's rows keyed by (join key columns, then the
//! side's stream key), distributed by the join key (so an actor's rows are in the vnodes the
//! hash exchange in front of it sends it). A side whose rows' output depends on whether they
//! match (the preserved side of an outer join, the kept side of a semi/anti join) stores its
//! *degree* — the number of rows of the other side it matches — as an extra last column; the
//! plan's degree tables are not used. Lookups are prefix scans on the join key, cached in
//! memory per join key (write-through, so the cache always equals the table).
//!
//! A row of side S is matched against the other side's rows with the same join key for which
//! the condition (over left ++ right) is true; NULL join keys never match and are not stored
//! (they can never match later either, so their output follows from the row alone). Then:
//! - pairs (inner/outer joins) are inserted or deleted;
//! - a matched row of the other side whose degree goes 0 → 1 loses its NULL-padded row (outer),
//!   appears (semi) or disappears (anti); 1 → 0 does the reverse;
//! - the row itself, when it matches nothing, is emitted NULL-padded (outer) or as is (anti);
//!   when it matches something, as is (semi).
//!
//! Updates are processed as a delete and an insert, and come out as such.
//!
//! Both inputs are read by [`align_barriers`]: a side that delivered barrier E is not read until
//! the other delivered E too; then E goes out once (after both state tables committed).

use std::collections::HashMap;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;

use arrow::array::{Array, ArrayRef, BooleanArray};
use arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use async_stream::try_stream;
use datafusion::common::ScalarValue;
use futures::stream::BoxStream;
use futures::StreamExt;
use tributary_common::chunk::{Op, StreamChunk};
use tributary_common::encoding::{encode_key_columns, VNODE_PREFIX_LEN};
use tributary_common::types::DataType;
use tributary_proto::stream_plan::{HashJoinNode, JoinType};

use super::{Execute, Executor, ExecutorInfo, MessageStream};
use crate::stream::builder::{indices, BuildContext};
use crate::stream::error::{StreamError, StreamResult};
use crate::stream::expr::{decode_expr, eval, ExprRef};
use crate::stream::message::{Barrier, Message};
use crate::stream::row::{batch_of, null_row, project_row, rows_of, ChunkBuilder, OwnedRow};
use crate::stream::state_table::StateTable;

/// A message of two barrier-aligned inputs.
#[derive(Debug)]
pub enum AlignedMessage {
    Left(StreamChunk),
    Right(StreamChunk),
    /// Delivered by both inputs (or by the one still running).
    Barrier(Barrier),
}

/// Reads two inputs, aligning their barriers: once an input delivered barrier E it is not polled
/// again until the other delivered E; then E goes out once. Inputs are polled in turn, and a
/// message is taken from an input only when it is returned, so dropping the stream never loses
/// one. An input that ends no longer holds barriers back; the stream ends when both ended.
pub fn align_barriers(left: MessageStream, right: MessageStream) -> BoxStream<'static, StreamResult<AlignedMessage>> {
    Box::pin(try_stream! {
        let mut inputs = [left, right];
        let mut ended = [false; 2];
        let mut pending: [Option<Barrier>; 2] = [None, None];
        let mut start = 0usize;
        loop {
            let (i, msg) = poll_fn(|cx| {
                for k in 0..2 {
                    let i = (start + k) % 2;
                    if ended[i] || pending[i].is_some() {
                        continue;
                    }
                    if let Poll::Ready(m) = inputs[i].poll_next_unpin(cx) {
                        return Poll::Ready((i, m));
                    }
                }
                Poll::Pending
            })
            .await;
            // Start with the other input next time so neither starves the other.
            start = (i + 1) % 2;
            match msg {
                Some(msg) => match msg? {
                    Message::Chunk(c) => {
                        yield if i == 0 { AlignedMessage::Left(c) } else { AlignedMessage::Right(c) };
                    }
                    Message::Barrier(b) => {
                        if let Some(p) = &pending[1 - i] {
                            if p.epoch != b.epoch {
                                Err(StreamError::Internal(format!("misaligned barriers: {:?} and {:?}", p.epoch, b.epoch)))?;
                            }
                        }
                        pending[i] = Some(b);
                    }
                },
                None => ended[i] = true,
            }
            if ended[0] && ended[1] {
                break;
            }
            if (0..2).all(|j| ended[j] || pending[j].is_some()) {
                let (a, b) = (pending[0].take(), pending[1].take());
                if let Some(barrier) = a.or(b) {
                    yield AlignedMessage::Barrier(barrier);
                }
            }
        }
    })
}

/// Which rows a join type outputs.
#[derive(Debug, Clone, Copy, Default)]
struct Shape {
    /// Matched pairs (inner and outer joins).
    pairs: bool,
    /// Per side (0 left, 1 right): unmatched rows come out NULL-padded.
    outer: [bool; 2],
    /// Per side: rows come out (alone) while they match something.
    semi: [bool; 2],
    /// Per side: rows come out (alone) while they match nothing.
    anti: [bool; 2],
}

impl Shape {
    fn of(t: JoinType) -> StreamResult<Shape> {
        let mut s = Shape::default();
        match t {
            JoinType::Inner => s.pairs = true,
            JoinType::LeftOuter => (s.pairs, s.outer[0]) = (true, true),
            JoinType::RightOuter => (s.pairs, s.outer[1]) = (true, true),
            JoinType::FullOuter => (s.pairs, s.outer) = (true, [true, true]),
            JoinType::LeftSemi => s.semi[0] = true,
            JoinType::LeftAnti => s.anti[0] = true,
            JoinType::RightSemi => s.semi[1] = true,
            JoinType::RightAnti => s.anti[1] = true,
            JoinType::Unspecified => return Err(StreamError::plan("hash join without a join type")),
        }
        Ok(s)
    }

    /// Whether side `s` keeps a degree per row.
    fn degree(&self, s: usize) -> bool {
        self.outer[s] || self.semi[s] || self.anti[s]
    }

    /// The side semi/anti joins output (None: pairs).
    fn kept(&self) -> Option<usize> {
        (0..2).find(|s| self.semi[*s] || self.anti[*s])
    }
}

/// The rows of one join key: pk encoding → (row, degree).
type Entry = HashMap<Vec<u8>, (OwnedRow, i64)>;

/// Cached rows (plus one per cached key) per side before the cache is cut down to half.
const DEFAULT_CACHE_CAPACITY: usize = 1 << 17;

struct Side {
    table: StateTable,
    /// The input's column types (the state table has a degree column after them).
    types: Vec<DataType>,
    keys: Vec<usize>,
    key_types: Vec<DataType>,
    /// Join keys, then the stream key columns not among them.
    pk: Vec<usize>,
    degree: bool,
    nulls: OwnedRow,
    /// join key encoding → its rows, for the keys read since they were last evicted.
    cache: HashMap<Vec<u8>, Entry>,
    cache_cost: usize,
}

/// A row as its side's state table stores it: with its degree when the side keeps degrees.
fn stored(with_degree: bool, row: &[ScalarValue], degree: i64) -> OwnedRow {
    let mut r = row.to_vec();
    if with_degree {
        r.push(ScalarValue::Int64(Some(degree)));
    }
    r
}

impl Side {
    fn evict(&mut self, capacity: usize) {
        if self.cache_cost <= capacity {
            return;
        }
        let target = capacity / 2;
        let mut cost = self.cache_cost;
        self.cache.retain(|_, e| {
            if cost <= target {
                return true;
            }
            cost -= 1 + e.len();
            false
        });
        self.cache_cost = cost;
    }
}

/// What a hash join needs besides its inputs and state tables.
#[derive(Debug, Clone)]
pub struct HashJoinParams {
    pub join_type: JoinType,
    pub left_keys: Vec<usize>,
    pub right_keys: Vec<usize>,
    pub left_stream_key: Vec<usize>,
    pub right_stream_key: Vec<usize>,
    /// Over left ++ right columns.
    pub condition: Option<ExprRef>,
    /// Into left ++ right (semi/anti: into the kept side).
    pub output_indices: Vec<usize>,
}

pub struct HashJoinExecutor {
    left: Executor,
    right: Executor,
    core: JoinCore,
}

struct JoinCore {
    shape: Shape,
    sides: [Side; 2],
    condition: Option<ExprRef>,
    /// left ++ right columns, to evaluate the condition.
    both_schema: SchemaRef,
    output_indices: Vec<usize>,
    output_schema: SchemaRef,
    cache_capacity: usize,
}

fn types_of_schema(schema: &Schema) -> StreamResult<Vec<DataType>> {
    Ok(schema.fields().iter().map(|f| DataType::from_arrow(f.data_type())).collect::<Result<Vec<_>, _>>()?)
}

/// The state table layout of a side: its columns (nullable) and, with a degree, `_degree`.
fn side_schema(input: &Schema, degree: bool) -> SchemaRef {
    let mut fields: Vec<Field> = input.fields().iter().map(|f| Field::new(f.name(), f.data_type().clone(), true)).collect();
    if degree {
        fields.push(Field::new("_degree", ArrowType::Int64, true));
    }
    Arc::new(Schema::new(fields))
}

/// Memcomparable encodings of `cols` of every row.
fn encode(columns: &[ArrayRef], types: &[DataType], rows: usize) -> StreamResult<Vec<Vec<u8>>> {
    let mut out = vec![Vec::new(); rows];
    encode_key_columns(columns, types, &[], &mut out)?;
    Ok(out)
}

impl HashJoinExecutor {
    /// `table(side, schema, pk, dist_key)` makes the state table of side 0 (left) or 1 (right).
    pub fn new(
        left: Executor,
        right: Executor,
        params: HashJoinParams,
        info: &ExecutorInfo,
        mut table: impl FnMut(usize, SchemaRef, Vec<usize>, Vec<usize>) -> StreamResult<StateTable>,
    ) -> StreamResult<Self> {
        let shape = Shape::of(params.join_type)?;
        if params.left_keys.len() != params.right_keys.len() {
            return Err(StreamError::plan("hash join: left and right keys differ in number"));
        }
        let widths = [left.schema().fields().len(), right.schema().fields().len()];
        let out_width = match shape.kept() {
            Some(s) => widths[s],
            None => widths[0] + widths[1],
        };
        if params.output_indices.iter().any(|i| *i >= out_width) || params.output_indices.len() != info.types.len() {
            return Err(StreamError::plan("hash join: output columns do not match its inputs"));
        }
        let mut sides = Vec::with_capacity(2);
        for (s, (input, (keys, stream_key))) in [&left, &right]
            .into_iter()
            .zip([(&params.left_keys, &params.left_stream_key), (&params.right_keys, &params.right_stream_key)])
            .enumerate()
        {
            if keys.iter().chain(stream_key).any(|k| *k >= widths[s]) {
                return Err(StreamError::plan("hash join: key column out of range"));
            }
            let types = types_of_schema(input.schema())?;
            let mut pk = keys.clone();
            for k in stream_key {
                if !pk.contains(k) {
                    pk.push(*k);
                }
            }
            let degree = shape.degree(s);
            let t = table(s, side_schema(input.schema(), degree), pk.clone(), keys.clone())?;
            sides.push(Side {
                table: t,
                key_types: keys.iter().map(|k| types[*k].clone()).collect(),
                nulls: null_row(&types)?,
                types,
                keys: keys.clone(),
                pk,
                degree,
                cache: HashMap::new(),
                cache_cost: 0,
            });
        }
        let both_fields: Vec<Field> = left
            .schema()
            .fields()
            .iter()
            .chain(right.schema().fields().iter())
            .map(|f| Field::new(f.name(), f.data_type().clone(), true))
            .collect();
        let sides: [Side; 2] = sides.try_into().map_err(|_| StreamError::Internal("two sides".into()))?;
        let core = JoinCore {
            shape,
            sides,
            condition: params.condition,
            both_schema: Arc::new(Schema::new(both_fields)),
            output_indices: params.output_indices,
            output_schema: info.schema.clone(),
            cache_capacity: DEFAULT_CACHE_CAPACITY,
        };
        Ok(HashJoinExecutor { left, right, core })
    }

    /// Caps the join-key cache (tests use a tiny one to exercise reloading from the tables).
    pub fn with_cache_capacity(mut self, capacity: usize) -> Self {
        self.core.cache_capacity = capacity;
        self
    }
}

/// Output rows of one input chunk.
struct Output<'a> {
    builder: ChunkBuilder,
    chunks: Vec<StreamChunk>,
    indices: &'a [usize],
}

impl Output<'_> {
    fn push(&mut self, op: Op, full: &[ScalarValue]) -> StreamResult<()> {
        if let Some(c) = self.builder.append(op, project_row(full, self.indices))? {
            self.chunks.push(c);
        }
        Ok(())
    }

    fn finish(mut self) -> StreamResult<Vec<StreamChunk>> {
        if let Some(c) = self.builder.take()? {
            self.chunks.push(c);
        }
        Ok(self.chunks)
    }
}

/// Evaluates the join condition: rows where it is NULL do not match. (Not
/// `expr::eval_predicate`: arrow's `prep_null_mask_filter` panics on arrays without NULLs.)
fn condition_mask(cond: &ExprRef, batch: &arrow::array::RecordBatch) -> StreamResult<BooleanArray> {
    let array = eval(cond, batch)?;
    let bools = array
        .as_any()
        .downcast_ref::<BooleanArray>()
        .ok_or_else(|| StreamError::plan("hash join condition is not boolean"))?;
    Ok(match bools.nulls() {
        Some(nulls) if nulls.null_count() > 0 => BooleanArray::new(bools.values() & nulls.inner(), None),
        _ => BooleanArray::new(bools.values().clone(), None),
    })
}

/// left ++ right of a row of side `s` and a row of the other side.
fn concat(s: usize, mine: &[ScalarValue], other: &[ScalarValue]) -> OwnedRow {
    let (l, r) = if s == 0 { (mine, other) } else { (other, mine) };
    let mut row = Vec::with_capacity(l.len() + r.len());
    row.extend_from_slice(l);
    row.extend_from_slice(r);
    row
}

fn op_of(insert: bool) -> Op {
    if insert {
        Op::Insert
    } else {
        Op::Delete
    }
}

impl JoinCore {
    /// Applies a chunk of side `s` and returns the output it causes.
    async fn process(&mut self, s: usize, chunk: StreamChunk) -> StreamResult<Vec<StreamChunk>> {
        let o = 1 - s;
        let JoinCore { shape, sides, condition, both_schema, output_indices, output_schema, cache_capacity } = self;
        let shape = *shape;
        let (first, second) = sides.split_at_mut(1);
        let (me, other) = if s == 0 { (&mut first[0], &mut second[0]) } else { (&mut second[0], &mut first[0]) };

        let n = chunk.batch.num_rows();
        let columns = chunk.batch.columns();
        let rows = rows_of(&chunk.batch)?;
        // This side's own keys, and its join key in the other side's types (to look it up).
        let pick = |idx: &[usize]| idx.iter().map(|i| columns[*i].clone()).collect::<Vec<ArrayRef>>();
        let pk_types: Vec<DataType> = me.pk.iter().map(|i| me.types[*i].clone()).collect();
        let own_pk = encode(&pick(&me.pk), &pk_types, n)?;
        let own_key = encode(&pick(&me.keys), &me.key_types, n)?;
        let lookup_cols = me
            .keys
            .iter()
            .zip(&other.key_types)
            .map(|(k, t)| {
                let c = &columns[*k];
                let target = t.to_arrow();
                if c.data_type() == &target {
                    Ok(c.clone())
                } else {
                    Ok(arrow::compute::cast(c, &target)?)
                }
            })
            .collect::<StreamResult<Vec<ArrayRef>>>()?;
        let lookup = encode(&lookup_cols, &other.key_types, n)?;
        let null_key: Vec<bool> = (0..n).map(|i| lookup_cols.iter().any(|c| c.is_null(i))).collect();

        let mut out = Output { builder: ChunkBuilder::new(output_schema.clone()), chunks: Vec::new(), indices: &output_indices[..] };
        let mut my_writes: Vec<(bool, OwnedRow)> = Vec::new();
        let mut other_writes: Vec<(bool, OwnedRow)> = Vec::new();
        let kept = shape.kept();
        // The output row of a row of side `side` alone (semi/anti), or NULL-padded (outer).
        let alone = |side: usize, row: &[ScalarValue], nulls: &[ScalarValue]| -> OwnedRow {
            if kept.is_some() {
                row.to_vec()
            } else {
                concat(side, row, nulls)
            }
        };

        for i in 0..n {
            let insert = chunk.ops[i].is_insert();
            let row = &rows[i];
            let op = op_of(insert);

            let mut degree = 0i64;
            if !null_key[i] {
                if !other.cache.contains_key(&lookup[i]) {
                    let prefix = lookup_cols.iter().map(|c| ScalarValue::try_from_array(c, i)).collect::<Result<Vec<_>, _>>()?;
                    let loaded = other.table.iter_prefix_limit(&prefix, usize::MAX).await?;
                    let mut entry = Entry::with_capacity(loaded.len());
                    for (key, mut r) in loaded {
                        let d = if other.degree {
                            match r.pop() {
                                Some(ScalarValue::Int64(Some(d))) => d,
                                _ => 0,
                            }
                        } else {
                            0
                        };
                        entry.insert(key[VNODE_PREFIX_LEN..].to_vec(), (r, d));
                    }
                    other.cache_cost += 1 + entry.len();
                    other.cache.insert(lookup[i].clone(), entry);
                }
                let entry = other.cache.get_mut(&lookup[i]).expect("entry was loaded");
                let matched: Vec<Vec<u8>> = match condition {
                    None => entry.keys().cloned().collect(),
                    Some(cond) if !entry.is_empty() => {
                        let cands: Vec<(&Vec<u8>, &OwnedRow)> = entry.iter().map(|(k, (r, _))| (k, r)).collect();
                        let pairs: Vec<OwnedRow> = cands.iter().map(|(_, r)| concat(s, row, r)).collect();
                        let keep = condition_mask(cond, &batch_of(&pairs, both_schema)?)?;
                        cands.iter().enumerate().filter(|(j, _)| keep.value(*j)).map(|(_, (k, _))| (*k).clone()).collect()
                    }
                    Some(_) => Vec::new(),
                };
                degree = matched.len() as i64;
                for pk in &matched {
                    let (orow, odeg) = entry.get_mut(pk).expect("matched rows are cached");
                    let (before, after) = (*odeg, *odeg + if insert { 1 } else { -1 });
                    if other.degree {
                        *odeg = after;
                        other_writes.push((true, stored(true, orow, after)));
                        let becomes_matched = insert && before == 0;
                        let becomes_unmatched = !insert && after == 0;
                        if shape.outer[o] && becomes_matched {
                            out.push(Op::Delete, &concat(o, orow, &me.nulls))?;
                        }
                        if (shape.semi[o] && becomes_matched) || (shape.anti[o] && becomes_unmatched) {
                            out.push(Op::Insert, orow)?;
                        }
                        if (shape.semi[o] && becomes_unmatched) || (shape.anti[o] && becomes_matched) {
                            out.push(Op::Delete, orow)?;
                        }
                    }
                    if shape.pairs {
                        out.push(op, &concat(s, row, orow))?;
                    }
                    if other.degree && shape.outer[o] && !insert && after == 0 {
                        out.push(Op::Insert, &concat(o, orow, &me.nulls))?;
                    }
                }

                // The row's own state (rows with NULL keys never match, so they are not kept).
                if let Some(e) = me.cache.get_mut(&own_key[i]) {
                    if insert {
                        if e.insert(own_pk[i].clone(), (row.clone(), degree)).is_none() {
                            me.cache_cost += 1;
                        }
                    } else if e.remove(&own_pk[i]).is_some() {
                        me.cache_cost -= 1;
                    }
                }
                my_writes.push((insert, stored(me.degree, row, degree)));
            }

            if (shape.outer[s] || shape.anti[s]) && degree == 0 {
                out.push(op, &alone(s, row, &other.nulls))?;
            }
            if shape.semi[s] && degree > 0 {
                out.push(op, &alone(s, row, &other.nulls))?;
            }
        }
        me.table.write_rows(&my_writes)?;
        other.table.write_rows(&other_writes)?;
        me.evict(*cache_capacity);
        other.evict(*cache_capacity);
        out.finish()
    }
}

impl Execute for HashJoinExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        let HashJoinExecutor { left, right, mut core } = *self;
        Box::pin(try_stream! {
            let mut input = align_barriers(left.execute(), right.execute());
            let mut first = true;
            while let Some(msg) = input.next().await {
                match msg? {
                    AlignedMessage::Left(c) => {
                        for out in core.process(0, c).await? {
                            yield Message::Chunk(out);
                        }
                    }
                    AlignedMessage::Right(c) => {
                        for out in core.process(1, c).await? {
                            yield Message::Chunk(out);
                        }
                    }
                    AlignedMessage::Barrier(b) => {
                        for side in core.sides.iter_mut() {
                            if first {
                                side.table.init_epoch(b.epoch.curr);
                            } else {
                                side.table.commit(b.epoch.curr)?;
                            }
                        }
                        first = false;
                        yield Message::Barrier(b);
                    }
                }
            }
        })
    }
}

/// Builds a hash join from its plan node.
pub fn build(ctx: &BuildContext<'_>, n: &HashJoinNode, info: ExecutorInfo, inputs: Vec<Executor>) -> StreamResult<Executor> {
    let [left, right]: [Executor; 2] = inputs.try_into().map_err(|_| StreamError::plan("hash join needs two inputs"))?;
    let both = Schema::new(left.schema().fields().iter().chain(right.schema().fields().iter()).cloned().collect::<Vec<_>>());
    let condition = n.condition.as_ref().map(|c| decode_expr(c, &both)).transpose()?;
    let params = HashJoinParams {
        join_type: n.join_type(),
        left_keys: indices(&n.left_keys),
        right_keys: indices(&n.right_keys),
        left_stream_key: indices(&n.left_stream_key),
        right_stream_key: indices(&n.right_stream_key),
        condition,
        output_indices: indices(&n.output_indices),
    };
    let tables = [&n.left_table, &n.right_table];
    let exec = HashJoinExecutor::new(left, right, params, &info, |side, schema, pk, dist| {
        ctx.state_table(tables[side], schema, pk, vec![], dist)
    })?;
    Ok(Executor::new(info, exec))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use datafusion::logical_expr::Operator;
    use datafusion::physical_expr::expressions::{BinaryExpr, Column};
    use datafusion_proto::physical_plan::to_proto::serialize_physical_expr;
    use datafusion_proto::physical_plan::DefaultPhysicalExtensionCodec;
    use prost::Message as _;
    use tributary_proto::stream_plan::{Expr as PbExpr, StateTableRef, StreamActor};
    use tributary_storage::StateStore;

    use super::*;
    use crate::stream::barrier::{BackfillProgressMap, LocalBarrierManager};
    use crate::stream::exchange::ChannelRegistry;
    use crate::stream::executor::info;
    use crate::stream::test_utils::{barrier, chunk, collect, epoch, i64v, input, schema, store, Model, TestRng};

    /// Both sides: (id, k, v), stream key id, joined on k.
    fn types() -> Vec<DataType> {
        vec![DataType::Int64, DataType::Int32, DataType::Int32]
    }

    fn row(id: i64, k: Option<i32>, v: Option<i32>) -> OwnedRow {
        vec![i64v(id), ScalarValue::Int32(k), ScalarValue::Int32(v)]
    }

    fn rows_msg(ops: &[(Op, OwnedRow)]) -> Message {
        chunk(&types(), ops.iter().map(|(o, _)| *o).collect(), ops.iter().map(|(_, r)| r.clone()).collect())
    }

    fn both_schema() -> Schema {
        let s = schema(&types());
        Schema::new(s.fields().iter().chain(s.fields().iter()).cloned().collect::<Vec<_>>())
    }

    /// `left.v <= right.v`, through the plan's encoding.
    fn condition_pb() -> PbExpr {
        let e: ExprRef = Arc::new(BinaryExpr::new(Arc::new(Column::new("c2", 2)), Operator::LtEq, Arc::new(Column::new("c2", 5))));
        PbExpr { df_physical: serialize_physical_expr(&e, &DefaultPhysicalExtensionCodec {}).unwrap().encode_to_vec(), time_zone: String::new() }
    }

    #[derive(Debug, Clone, Copy)]
    struct Case {
        jt: JoinType,
        keyed: bool,
        cond: bool,
        cache: usize,
    }

    const ALL_TYPES: [JoinType; 8] = [
        JoinType::Inner,
        JoinType::LeftOuter,
        JoinType::RightOuter,
        JoinType::FullOuter,
        JoinType::LeftSemi,
        JoinType::LeftAnti,
        JoinType::RightSemi,
        JoinType::RightAnti,
    ];

    fn kept_side(jt: JoinType) -> Option<usize> {
        match jt {
            JoinType::LeftSemi | JoinType::LeftAnti => Some(0),
            JoinType::RightSemi | JoinType::RightAnti => Some(1),
            _ => None,
        }
    }

    fn out_types(jt: JoinType) -> Vec<DataType> {
        match kept_side(jt) {
            Some(_) => types(),
            None => [types(), types()].concat(),
        }
    }

    /// The join under test, with its state in `store` (tables 100 and 101).
    fn make(case: Case, store: &Arc<dyn StateStore>, left: Vec<Message>, right: Vec<Message>) -> Executor {
        let t = types();
        let left = input(&t, vec![0], left);
        let right = input(&t, vec![0], right);
        let out = out_types(case.jt);
        let info = info(schema(&out), out.clone(), vec![], "HashJoin");
        let keys = if case.keyed { vec![1] } else { vec![] };
        let params = HashJoinParams {
            join_type: case.jt,
            left_keys: keys.clone(),
            right_keys: keys,
            left_stream_key: vec![0],
            right_stream_key: vec![0],
            condition: case.cond.then(|| decode_expr(&condition_pb(), &both_schema()).unwrap()),
            output_indices: (0..out.len()).collect(),
        };
        let store = store.clone();
        let exec = HashJoinExecutor::new(left, right, params, &info, |side, schema, pk, dist| {
            StateTable::new(store.clone(), 100 + side as u32, schema, pk, vec![], dist, vec![])
        })
        .unwrap()
        .with_cache_capacity(case.cache);
        Executor::new(info, exec)
    }

    /// The join recomputed by nested loops over the net inputs, as sorted row strings.
    fn expected(case: Case, left: &[OwnedRow], right: &[OwnedRow]) -> Vec<String> {
        let matches = |l: &OwnedRow, r: &OwnedRow| {
            let key = !case.keyed || (!l[1].is_null() && !r[1].is_null() && l[1] == r[1]);
            let cond = !case.cond
                || matches!((&l[2], &r[2]), (ScalarValue::Int32(Some(a)), ScalarValue::Int32(Some(b))) if a <= b);
            key && cond
        };
        let nulls = null_row(&types()).unwrap();
        use JoinType::*;
        let jt = case.jt;
        let mut out: Vec<OwnedRow> = Vec::new();
        if matches!(jt, Inner | LeftOuter | RightOuter | FullOuter) {
            for l in left {
                for r in right {
                    if matches(l, r) {
                        out.push([l.clone(), r.clone()].concat());
                    }
                }
            }
        }
        for l in left {
            let n = right.iter().filter(|r| matches(l, r)).count();
            if matches!(jt, LeftOuter | FullOuter) && n == 0 {
                out.push([l.clone(), nulls.clone()].concat());
            }
            if (jt == LeftSemi && n > 0) || (jt == LeftAnti && n == 0) {
                out.push(l.clone());
            }
        }
        for r in right {
            let n = left.iter().filter(|l| matches(l, r)).count();
            if matches!(jt, RightOuter | FullOuter) && n == 0 {
                out.push([nulls.clone(), r.clone()].concat());
            }
            if (jt == RightSemi && n > 0) || (jt == RightAnti && n == 0) {
                out.push(r.clone());
            }
        }
        sorted(&out)
    }

    fn sorted(rows: &[OwnedRow]) -> Vec<String> {
        let mut v: Vec<String> = rows.iter().map(|r| format!("{r:?}")).collect();
        v.sort();
        v
    }

    /// Per epoch (after barrier n, n >= 1 for data): the output rows with their ops.
    fn by_epoch(out: &[Message]) -> Vec<Vec<(Op, OwnedRow)>> {
        let mut epochs = vec![Vec::new()];
        for m in out {
            match m {
                Message::Chunk(c) => {
                    epochs.last_mut().unwrap().extend(c.ops.iter().copied().zip(rows_of(&c.batch).unwrap()));
                }
                Message::Barrier(_) => epochs.push(Vec::new()),
            }
        }
        epochs
    }

    fn case(jt: JoinType) -> Case {
        Case { jt, keyed: true, cond: false, cache: DEFAULT_CACHE_CAPACITY }
    }

    fn nulls3() -> OwnedRow {
        vec![ScalarValue::Int64(None), ScalarValue::Int32(None), ScalarValue::Int32(None)]
    }

    #[tokio::test]
    async fn left_outer_pads_and_retracts() {
        let l1 = row(1, Some(1), Some(1));
        let r1 = row(10, Some(1), Some(5));
        let r2 = row(11, Some(1), Some(6));
        let left = vec![barrier(0), rows_msg(&[(Op::Insert, l1.clone())]), barrier(1), barrier(2), barrier(3), barrier(4)];
        let right = vec![
            barrier(0),
            barrier(1),
            rows_msg(&[(Op::Insert, r1.clone())]),
            barrier(2),
            rows_msg(&[(Op::Insert, r2.clone())]),
            barrier(3),
            rows_msg(&[(Op::Delete, r1.clone()), (Op::Delete, r2.clone())]),
            barrier(4),
        ];
        let out = collect(make(case(JoinType::LeftOuter), &store(), left, right)).await;
        let e = by_epoch(&out);
        let cat = |a: &OwnedRow, b: &OwnedRow| [a.clone(), b.clone()].concat();
        assert_eq!(e[1], vec![(Op::Insert, cat(&l1, &nulls3()))]);
        assert_eq!(e[2], vec![(Op::Delete, cat(&l1, &nulls3())), (Op::Insert, cat(&l1, &r1))]);
        assert_eq!(e[3], vec![(Op::Insert, cat(&l1, &r2))]);
        assert_eq!(e[4], vec![(Op::Delete, cat(&l1, &r1)), (Op::Delete, cat(&l1, &r2)), (Op::Insert, cat(&l1, &nulls3()))]);
    }

    #[tokio::test]
    async fn semi_and_anti_follow_the_degree() {
        let l1 = row(1, Some(7), Some(1));
        let r1 = row(10, Some(7), Some(5));
        let r2 = row(11, Some(7), Some(6));
        let left = vec![barrier(0), rows_msg(&[(Op::Insert, l1.clone())]), barrier(1), barrier(2), barrier(3), barrier(4)];
        let right = vec![
            barrier(0),
            barrier(1),
            rows_msg(&[(Op::Insert, r1.clone()), (Op::Insert, r2.clone())]),
            barrier(2),
            rows_msg(&[(Op::Delete, r1.clone())]),
            barrier(3),
            rows_msg(&[(Op::Delete, r2.clone())]),
            barrier(4),
        ];
        let semi = by_epoch(&collect(make(case(JoinType::LeftSemi), &store(), left.clone(), right.clone())).await);
        assert_eq!(semi[1], vec![]);
        assert_eq!(semi[2], vec![(Op::Insert, l1.clone())]);
        assert_eq!(semi[3], vec![]);
        assert_eq!(semi[4], vec![(Op::Delete, l1.clone())]);
        let anti = by_epoch(&collect(make(case(JoinType::LeftAnti), &store(), left.clone(), right.clone())).await);
        assert_eq!(anti[1], vec![(Op::Insert, l1.clone())]);
        assert_eq!(anti[2], vec![(Op::Delete, l1.clone())]);
        assert_eq!(anti[3], vec![]);
        assert_eq!(anti[4], vec![(Op::Insert, l1.clone())]);
        // The right side's view: right semi keeps r1 and r2 while l1 is there.
        let rsemi = by_epoch(&collect(make(case(JoinType::RightSemi), &store(), left, right)).await);
        assert_eq!(rsemi[2], vec![(Op::Insert, r1.clone()), (Op::Insert, r2.clone())]);
        assert_eq!(rsemi[3], vec![(Op::Delete, r1)]);
        assert_eq!(rsemi[4], vec![(Op::Delete, r2)]);
    }

    #[tokio::test]
    async fn null_keys_never_match() {
        let l1 = row(1, None, Some(1));
        let r1 = row(10, None, Some(5));
        let left = vec![barrier(0), rows_msg(&[(Op::Insert, l1.clone())]), barrier(1), rows_msg(&[(Op::Delete, l1.clone())]), barrier(2)];
        let right = vec![barrier(0), rows_msg(&[(Op::Insert, r1.clone())]), barrier(1), barrier(2)];
        for jt in ALL_TYPES {
            let c = case(jt);
            let out = collect(make(c, &store(), left.clone(), right.clone())).await;
            let e = by_epoch(&out);
            let mut model = Model::default();
            for m in out.iter().take_while(|m| m.as_barrier().is_none_or(|b| b.epoch.prev < epoch(1))) {
                if let Message::Chunk(ch) = m {
                    model.apply(ch);
                }
            }
            assert_eq!(sorted(&model.sorted()), expected(c, std::slice::from_ref(&l1), std::slice::from_ref(&r1)), "{jt:?}");
            // The left row's delete retracts whatever it produced.
            let retracted: Vec<_> = e[2].iter().map(|(op, r)| (*op == Op::Insert, r.clone())).collect();
            let produced: Vec<_> =
                e[1].iter().filter(|(_, r)| format!("{r:?}").contains("Int64(1)")).map(|(_, r)| (false, r.clone())).collect();
            assert_eq!(retracted, produced, "{jt:?}");
        }
    }

    #[tokio::test]
    async fn non_equi_condition_and_updates() {
        let c = Case { jt: JoinType::FullOuter, keyed: true, cond: true, cache: DEFAULT_CACHE_CAPACITY };
        let l1 = row(1, Some(1), Some(3));
        let l1b = row(1, Some(1), Some(9));
        let r1 = row(10, Some(1), Some(5));
        let r1b = row(10, Some(2), Some(5));
        let left = vec![
            barrier(0),
            rows_msg(&[(Op::Insert, l1.clone())]),
            barrier(1),
            rows_msg(&[(Op::UpdateDelete, l1.clone()), (Op::UpdateInsert, l1b.clone())]),
            barrier(2),
            rows_msg(&[(Op::UpdateDelete, l1b.clone()), (Op::UpdateInsert, l1.clone())]),
            barrier(3),
            barrier(4),
        ];
        let right = vec![
            barrier(0),
            rows_msg(&[(Op::Insert, r1.clone())]),
            barrier(1),
            barrier(2),
            barrier(3),
            rows_msg(&[(Op::UpdateDelete, r1.clone()), (Op::UpdateInsert, r1b.clone())]),
            barrier(4),
        ];
        let out = collect(make(c, &store(), left, right)).await;
        let cat = |a: &OwnedRow, b: &OwnedRow| [a.clone(), b.clone()].concat();
        let mut model = Model::default();
        let mut at = Vec::new();
        for m in &out {
            match m {
                Message::Chunk(ch) => model.apply(ch),
                Message::Barrier(_) => at.push(sorted(&model.sorted())),
            }
        }
        assert_eq!(at[1], sorted(&[cat(&l1, &r1)]));
        // 9 <= 5 is false: both come out padded.
        assert_eq!(at[2], sorted(&[cat(&l1b, &nulls3()), cat(&nulls3(), &r1)]));
        assert_eq!(at[3], sorted(&[cat(&l1, &r1)]));
        // The right row moves to key 2.
        assert_eq!(at[4], sorted(&[cat(&l1, &nulls3()), cat(&nulls3(), &r1b)]));
    }

    /// Random changes of the two sides over `epochs` epochs: the inputs, and the net rows of
    /// each side after every epoch.
    struct Workload {
        left: Vec<Message>,
        right: Vec<Message>,
        net: Vec<[Vec<OwnedRow>; 2]>,
    }

    fn workload(seed: u64, epochs: u64) -> Workload {
        let mut rng = TestRng::seeded(seed);
        let mut live: [BTreeMap<i64, OwnedRow>; 2] = [BTreeMap::new(), BTreeMap::new()];
        let mut next_id = 1i64;
        let mut msgs: [Vec<Message>; 2] = [vec![barrier(0)], vec![barrier(0)]];
        let mut net = vec![[Vec::new(), Vec::new()]];
        for e in 1..=epochs {
            for s in 0..2 {
                let chunks = rng.below(3);
                for _ in 0..chunks {
                    let mut ops: Vec<(Op, OwnedRow)> = Vec::new();
                    for _ in 0..1 + rng.below(4) {
                        let random_row = |rng: &mut TestRng, id: i64| {
                            let k = (rng.below(8) != 0).then(|| rng.below(4) as i32);
                            let v = (rng.below(10) != 0).then(|| rng.below(6) as i32);
                            row(id, k, v)
                        };
                        let action = rng.below(10);
                        if live[s].is_empty() || action < 5 {
                            let r = random_row(&mut rng, next_id);
                            next_id += 1;
                            live[s].insert(next_id - 1, r.clone());
                            ops.push((Op::Insert, r));
                        } else {
                            let id = *live[s].keys().nth(rng.below(live[s].len() as u64) as usize).unwrap();
                            let old = live[s].remove(&id).unwrap();
                            if action < 8 {
                                ops.push((Op::Delete, old));
                            } else {
                                let new = random_row(&mut rng, id);
                                live[s].insert(id, new.clone());
                                ops.push((Op::UpdateDelete, old));
                                ops.push((Op::UpdateInsert, new));
                            }
                        }
                    }
                    msgs[s].push(rows_msg(&ops));
                }
                msgs[s].push(barrier(e));
            }
            net.push([live[0].values().cloned().collect(), live[1].values().cloned().collect()]);
        }
        let [left, right] = msgs;
        Workload { left, right, net }
    }

    /// Checks the join's net output after every barrier against the recomputation.
    fn check(case: Case, w: &Workload, out: &[Message], seed: u64) {
        let mut model = Model::default();
        let mut barriers = 0;
        for m in out {
            match m {
                Message::Chunk(c) => model.apply(c),
                Message::Barrier(b) => {
                    let e = (b.epoch.prev >> 16) as usize;
                    let [l, r] = &w.net[e];
                    assert_eq!(sorted(&model.sorted()), expected(case, l, r), "{case:?}, seed {seed}, epoch {e}");
                    barriers += 1;
                }
            }
        }
        assert_eq!(barriers, w.net.len(), "{case:?}: every barrier comes out once");
    }

    #[tokio::test]
    async fn randomized_against_nested_loops() {
        for seed in 0..12u64 {
            let w = workload(seed, 12);
            for jt in ALL_TYPES {
                for (keyed, cond) in [(true, false), (true, true), (false, true)] {
                    for cache in [DEFAULT_CACHE_CAPACITY, 3] {
                        let case = Case { jt, keyed, cond, cache };
                        let out = collect(make(case, &store(), w.left.clone(), w.right.clone())).await;
                        check(case, &w, &out, seed);
                    }
                }
            }
        }
    }

    /// A new executor over the same store (recovery) continues from the stored state.
    #[tokio::test]
    async fn state_survives_a_restart() {
        for jt in ALL_TYPES {
            let case = Case { jt, keyed: true, cond: true, cache: DEFAULT_CACHE_CAPACITY };
            let w = workload(99, 10);
            // Run epochs 1..=5, then a fresh executor runs 6..=10 on the same store.
            let split = |msgs: &[Message]| {
                let cut = msgs.iter().position(|m| m.as_barrier().is_some_and(|b| b.epoch.prev == 5 << 16)).unwrap();
                (msgs[..=cut].to_vec(), msgs[cut..].to_vec())
            };
            let (l1, l2) = split(&w.left);
            let (r1, r2) = split(&w.right);
            let st = store();
            let mut out = collect(make(case, &st, l1, r1)).await;
            let second = collect(make(case, &st, l2, r2)).await;
            // The second run's first barrier only reopens the tables.
            out.extend(second.into_iter().skip(1));
            check(case, &w, &out, 99);
        }
    }

    #[tokio::test]
    async fn misaligned_barriers_fail() {
        let left = input(&types(), vec![0], vec![barrier(0), barrier(1)]);
        let right = input(&types(), vec![0], vec![barrier(0), barrier(2)]);
        let results: Vec<_> = align_barriers(left.execute(), right.execute()).collect().await;
        assert!(matches!(results[0], Ok(AlignedMessage::Barrier(_))));
        assert!(results.iter().any(|r| r.is_err()));
    }

    #[tokio::test]
    async fn builds_from_the_plan() {
        let st = store();
        let actor = StreamActor { actor_id: 1, table_id_base: 200, ..Default::default() };
        let channels = ChannelRegistry::default();
        let barriers = LocalBarrierManager::default();
        let ctx = BuildContext {
            actor: &actor,
            store: st.clone(),
            channels: &channels,
            barriers: &barriers,
            progress: Arc::new(BackfillProgressMap::default()),
        };
        let w = workload(7, 8);
        let t = types();
        let out = out_types(JoinType::LeftOuter);
        let node = HashJoinNode {
            join_type: JoinType::LeftOuter as i32,
            left_keys: vec![1],
            right_keys: vec![1],
            condition: Some(condition_pb()),
            left_table: Some(StateTableRef { local_id: 1 }),
            right_table: Some(StateTableRef { local_id: 2 }),
            left_degree_table: Some(StateTableRef { local_id: 3 }),
            right_degree_table: None,
            output_indices: (0..out.len() as u32).collect(),
            left_stream_key: vec![0],
            right_stream_key: vec![0],
        };
        let inputs = vec![input(&t, vec![0], w.left.clone()), input(&t, vec![0], w.right.clone())];
        let exec = build(&ctx, &node, info(schema(&out), out.clone(), vec![], "HashJoin"), inputs).unwrap();
        let result = collect(exec).await;
        check(Case { jt: JoinType::LeftOuter, keyed: true, cond: true, cache: 0 }, &w, &result, 7);
    }
}
