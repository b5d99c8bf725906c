//! Over window: window functions over partitions (`partition_by`) ordered by `order_by` and
//! then the input stream key. Output: the input columns followed by one column per call.
//!
//! State: the input rows in an [`OrderedTable`] keyed by (partition, order with NULL flags,
//! stream key), as the top-N keeps them, so a prefix scan reads a partition in order.
//!
//! The first change of a partition in an epoch reads the partition as it was; at the barrier
//! every changed partition is read again, the window outputs of both versions are computed
//! from scratch, and the difference goes out: `Delete` for rows gone, `UpdateDelete` +
//! `UpdateInsert` for rows whose outputs changed, `Insert` for new rows. Correct for every
//! function and frame at the cost of reading and recomputing whole changed partitions.
//!
//! Functions: ROW_NUMBER, RANK, DENSE_RANK (peers: equal order values), LAG/LEAD (offset and an
//! optional default column), and aggregates (count, sum, sum0, avg, min, max, first_value,
//! last_value, bool_and, bool_or) over ROWS and RANGE frames: in a RANGE frame CURRENT ROW
//! extends to the row's peers, and an offset bound is a distance in the one ORDER BY column's
//! values (rows with a NULL there frame their NULL peers, as in Postgres).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use arrow::datatypes::{DataType as ArrowType, SchemaRef};
use async_stream::try_stream;
use arrow::datatypes::i256;
use datafusion::common::{DataFusionError, ScalarValue};
use futures::StreamExt;
use tributary_common::chunk::{Op, StreamChunk};
use tributary_expr::pg::exact::div_round;
use tributary_proto::stream_plan::window_frame_bound::Kind as BoundKind;
use tributary_proto::stream_plan::{AggKind, ColumnOrder, OverWindowNode, WindowFrame, WindowFuncKind, WindowFunction};

use super::top_n::{OrderedTable, SortKey};
use super::{Execute, Executor, ExecutorInfo, MessageStream};
use crate::stream::builder::BuildContext;
use crate::stream::error::{StreamError, StreamResult};
use crate::stream::expr::{decode_expr, eval};
use crate::stream::message::Message;
use crate::stream::row::{ChunkBuilder, OwnedRow};
use crate::stream::state_table::StateTable;

#[derive(Debug, Clone, PartialEq)]
enum Bound {
    UnboundedPreceding,
    Preceding(usize),
    CurrentRow,
    Following(usize),
    UnboundedFollowing,
    /// RANGE frames: rows whose order value is within this distance before (after) the row's.
    RangePreceding(ScalarValue),
    RangeFollowing(ScalarValue),
}

impl Bound {
    fn is_range_offset(&self) -> bool {
        matches!(self, Bound::RangePreceding(_) | Bound::RangeFollowing(_))
    }
}

#[derive(Debug, Clone)]
enum Func {
    RowNumber,
    Rank,
    DenseRank,
    /// Signed offset: negative looks back (LAG), positive ahead (LEAD).
    Shift { offset: i64, arg: usize, default: Option<usize> },
    /// `order`: the ORDER BY column and direction, for RANGE frames with offsets.
    Agg { kind: AggKind, arg: Option<usize>, start: Bound, end: Bound, rows: bool, order: Option<(usize, bool)> },
}

#[derive(Debug, Clone)]
struct Call {
    func: Func,
    return_type: ArrowType,
}

fn bound(b: &Option<tributary_proto::stream_plan::WindowFrameBound>, default: Bound) -> StreamResult<Bound> {
    let Some(b) = b else { return Ok(default) };
    let n = usize::try_from(b.offset).unwrap_or(usize::MAX / 4).min(usize::MAX / 4);
    let range = match &b.range_offset {
        Some(e) => {
            let empty = Arc::new(arrow::datatypes::Schema::empty());
            let batch = arrow::array::RecordBatch::try_new_with_options(
                empty.clone(),
                vec![],
                &arrow::array::RecordBatchOptions::new().with_row_count(Some(1)),
            )?;
            let value = eval(&decode_expr(e, &empty)?, &batch)?;
            let v = ScalarValue::try_from_array(&value, 0)?;
            if v.is_null() {
                return Err(StreamError::plan("a RANGE frame offset is NULL"));
            }
            Some(v)
        }
        None => None,
    };
    Ok(match (BoundKind::try_from(b.kind).unwrap_or(BoundKind::Unspecified), range) {
        (BoundKind::UnboundedPreceding, _) => Bound::UnboundedPreceding,
        (BoundKind::Preceding, Some(v)) => Bound::RangePreceding(v),
        (BoundKind::Preceding, None) => Bound::Preceding(n),
        (BoundKind::CurrentRow, _) => Bound::CurrentRow,
        (BoundKind::Following, Some(v)) => Bound::RangeFollowing(v),
        (BoundKind::Following, None) => Bound::Following(n),
        (BoundKind::UnboundedFollowing, _) => Bound::UnboundedFollowing,
        (BoundKind::Unspecified, _) => default,
    })
}

/// Where a RANGE frame bound falls among a partition's order values.
#[derive(Clone, Copy)]
enum Side {
    /// The first row at or after the bound.
    Start,
    /// The last row at or before it.
    End,
}

/// The order column of a RANGE frame with offsets: the partition's values, in order, of the
/// rows where it is not NULL (`lo..hi`, NULLs sort all first or all last).
struct RangeAxis<'a> {
    values: Vec<&'a ScalarValue>,
    lo: usize,
    descending: bool,
}

impl<'a> RangeAxis<'a> {
    fn new(rows: &[&'a OwnedRow], column: usize, descending: bool) -> Self {
        let lo = rows.iter().position(|r| !r[column].is_null()).unwrap_or(rows.len());
        let hi = rows[lo..].iter().position(|r| r[column].is_null()).map_or(rows.len(), |p| lo + p);
        RangeAxis { values: rows[lo..hi].iter().map(|r| &r[column]).collect(), lo, descending }
    }

    /// The row index of bound `b` of the frame around order value `x` (not NULL), as `[s, e)`
    /// ends: for `Side::Start` the first index in the frame, for `Side::End` one past the last.
    fn index(&self, x: &ScalarValue, b: &Bound, side: Side) -> StreamResult<usize> {
        // Preceding means smaller values when ascending, larger when descending.
        let (offset, towards_smaller) = match b {
            Bound::RangePreceding(k) => (k, !self.descending),
            Bound::RangeFollowing(k) => (k, self.descending),
            _ => unreachable!("only offset bounds"),
        };
        // x - k or x + k; an overflow puts the bound beyond every value.
        let target = match if towards_smaller { x.sub_checked(offset) } else { x.add_checked(offset) } {
            Ok(t) => t,
            Err(DataFusionError::ArrowError(e, _)) if matches!(*e, arrow::error::ArrowError::ArithmeticOverflow(_)) => {
                let before_all = towards_smaller != self.descending;
                return Ok(self.lo + if before_all { 0 } else { self.values.len() });
            }
            Err(e) => return Err(e.into()),
        };
        let cmp = |v: &ScalarValue| v.partial_cmp(&target).unwrap_or(std::cmp::Ordering::Equal);
        // Values in frame order: "before" the target means outside a start bound.
        let pos = match (side, self.descending) {
            (Side::Start, false) => self.values.partition_point(|v| cmp(v).is_lt()),
            (Side::Start, true) => self.values.partition_point(|v| cmp(v).is_gt()),
            (Side::End, false) => self.values.partition_point(|v| cmp(v).is_le()),
            (Side::End, true) => self.values.partition_point(|v| cmp(v).is_ge()),
        };
        Ok(self.lo + pos)
    }
}

fn call_of(f: &WindowFunction, return_type: ArrowType, order_by: &[ColumnOrder]) -> StreamResult<Call> {
    let args: Vec<usize> = f.args.iter().map(|a| *a as usize).collect();
    let kind = WindowFuncKind::try_from(f.kind).unwrap_or(WindowFuncKind::Unspecified);
    let offset = i64::try_from(f.offset).unwrap_or(i64::MAX / 4);
    let func = match kind {
        WindowFuncKind::RowNumber => Func::RowNumber,
        WindowFuncKind::Rank => Func::Rank,
        WindowFuncKind::DenseRank => Func::DenseRank,
        WindowFuncKind::Lag | WindowFuncKind::Lead => {
            let arg = *args.first().ok_or_else(|| StreamError::plan("lag/lead without an argument"))?;
            Func::Shift { offset: if kind == WindowFuncKind::Lag { -offset } else { offset }, arg, default: args.get(1).copied() }
        }
        WindowFuncKind::Aggregate => {
            let agg = AggKind::try_from(f.agg).unwrap_or(AggKind::Unspecified);
            match agg {
                AggKind::Count
                | AggKind::Sum
                | AggKind::Sum0
                | AggKind::Avg
                | AggKind::Min
                | AggKind::Max
                | AggKind::FirstValue
                | AggKind::LastValue
                | AggKind::BoolAnd
                | AggKind::BoolOr => {}
                other => return Err(StreamError::plan(format!("window aggregate {other:?} is not supported"))),
            }
            if agg != AggKind::Count && args.is_empty() {
                return Err(StreamError::plan(format!("window aggregate {agg:?} without an argument")));
            }
            let (start, end, rows) = match &f.frame {
                Some(WindowFrame { rows, start, end }) => {
                    (bound(start, Bound::UnboundedPreceding)?, bound(end, Bound::CurrentRow)?, *rows)
                }
                None => (Bound::UnboundedPreceding, Bound::CurrentRow, false),
            };
            let order = match order_by {
                [o] => Some((o.column as usize, o.descending)),
                _ => None,
            };
            if (start.is_range_offset() || end.is_range_offset()) && order.is_none() {
                return Err(StreamError::plan("a RANGE frame with an offset needs exactly one ORDER BY column"));
            }
            Func::Agg { kind: agg, arg: args.first().copied(), start, end, rows, order }
        }
        WindowFuncKind::Unspecified => return Err(StreamError::plan("window function without a kind")),
    };
    Ok(Call { func, return_type })
}

fn cast(v: ScalarValue, t: &ArrowType) -> StreamResult<ScalarValue> {
    if &v.data_type() == t {
        Ok(v)
    } else {
        Ok(v.cast_to(t)?)
    }
}

fn is_float(t: &ArrowType) -> bool {
    matches!(t, ArrowType::Float16 | ArrowType::Float32 | ArrowType::Float64)
}

/// The window outputs of one partition's rows (in order) for one call.
fn compute_call(call: &Call, keys: &[&SortKey], rows: &[&OwnedRow]) -> StreamResult<Vec<ScalarValue>> {
    let n = rows.len();
    // Peer groups: start and end (inclusive) of each row's group, and group numbers.
    let mut peer_start = vec![0usize; n];
    let mut peer_group = vec![0usize; n];
    for i in 1..n {
        if keys[i].order() == keys[i - 1].order() {
            peer_start[i] = peer_start[i - 1];
            peer_group[i] = peer_group[i - 1];
        } else {
            peer_start[i] = i;
            peer_group[i] = peer_group[i - 1] + 1;
        }
    }
    let mut peer_end = vec![n.saturating_sub(1); n];
    for i in (0..n.saturating_sub(1)).rev() {
        peer_end[i] = if keys[i].order() == keys[i + 1].order() { peer_end[i + 1] } else { i };
    }
    let t = &call.return_type;
    let int = |v: usize| cast(ScalarValue::Int64(Some(v as i64)), t);
    match &call.func {
        Func::RowNumber => (0..n).map(|i| int(i + 1)).collect(),
        Func::Rank => (0..n).map(|i| int(peer_start[i] + 1)).collect(),
        Func::DenseRank => (0..n).map(|i| int(peer_group[i] + 1)).collect(),
        Func::Shift { offset, arg, default } => (0..n)
            .map(|i| {
                let j = i as i64 + offset;
                let v = if j >= 0 && (j as usize) < n {
                    rows[j as usize][*arg].clone()
                } else {
                    match default {
                        Some(d) => rows[i][*d].clone(),
                        None => ScalarValue::try_from(t)?,
                    }
                };
                cast(v, t)
            })
            .collect(),
        Func::Agg { kind, arg, start, end, rows: rows_frame, order } => {
            let axis = order.map(|(column, descending)| (column, RangeAxis::new(rows, column, descending)));
            // Frame of row i as [s, e) (empty when s >= e).
            let frame = |i: usize| -> StreamResult<(usize, usize)> {
                // A RANGE offset bound: NULL order values frame their peers only (Postgres).
                let range = |b: &Bound, side: Side| -> StreamResult<i64> {
                    let Some((column, axis)) = &axis else { return Ok(i as i64) };
                    let x = &rows[i][*column];
                    Ok(match (x.is_null(), side) {
                        (true, Side::Start) => peer_start[i] as i64,
                        (true, Side::End) => peer_end[i] as i64,
                        (false, Side::Start) => axis.index(x, b, side)? as i64,
                        (false, Side::End) => axis.index(x, b, side)? as i64 - 1,
                    })
                };
                let lo = match start {
                    Bound::UnboundedPreceding => 0i64,
                    Bound::Preceding(k) => i as i64 - *k as i64,
                    Bound::CurrentRow => (if *rows_frame { i } else { peer_start[i] }) as i64,
                    Bound::Following(k) => (i + k) as i64,
                    Bound::UnboundedFollowing => n as i64,
                    b @ (Bound::RangePreceding(_) | Bound::RangeFollowing(_)) => range(b, Side::Start)?,
                };
                let hi = match end {
                    Bound::UnboundedPreceding => -1i64,
                    Bound::Preceding(k) => i as i64 - *k as i64,
                    Bound::CurrentRow => (if *rows_frame { i } else { peer_end[i] }) as i64,
                    Bound::Following(k) => (i + k) as i64,
                    Bound::UnboundedFollowing => n as i64 - 1,
                    b @ (Bound::RangePreceding(_) | Bound::RangeFollowing(_)) => range(b, Side::End)?,
                };
                let s = lo.max(0) as usize;
                let e = (hi + 1).clamp(0, n as i64) as usize;
                Ok((s.min(n), e.max(s.min(n))))
            };
            let values: Vec<ScalarValue> = match arg {
                Some(a) => rows.iter().map(|r| r[*a].clone()).collect(),
                None => vec![ScalarValue::Boolean(Some(true)); n],
            };
            let null = ScalarValue::try_from(t)?;
            // Non-NULL counts as prefix sums.
            let mut counts = vec![0i64; n + 1];
            for i in 0..n {
                counts[i + 1] = counts[i] + i64::from(!values[i].is_null());
            }
            let sum_type = match kind {
                AggKind::Avg if matches!(t, ArrowType::Decimal128(..) | ArrowType::Decimal256(..)) => t.clone(),
                AggKind::Avg => ArrowType::Float64,
                _ => t.clone(),
            };
            // Exact prefix sums (integers, decimals); floats sum each frame afresh.
            let prefix: Option<Vec<ScalarValue>> = match kind {
                AggKind::Sum | AggKind::Sum0 | AggKind::Avg if !is_float(&sum_type) => {
                    let mut p = Vec::with_capacity(n + 1);
                    let mut acc = ScalarValue::new_zero(&sum_type)?;
                    p.push(acc.clone());
                    for v in &values {
                        if !v.is_null() {
                            acc = acc.add_checked(cast(v.clone(), &sum_type)?)?;
                        }
                        p.push(acc.clone());
                    }
                    Some(p)
                }
                _ => None,
            };
            let frame_sum = |s: usize, e: usize| -> StreamResult<ScalarValue> {
                match &prefix {
                    Some(p) => Ok(p[e].sub_checked(&p[s])?),
                    None => {
                        let mut acc = ScalarValue::new_zero(&sum_type)?;
                        for v in &values[s..e] {
                            if !v.is_null() {
                                acc = acc.add_checked(cast(v.clone(), &sum_type)?)?;
                            }
                        }
                        Ok(acc)
                    }
                }
            };
            let better = |a: &ScalarValue, b: &ScalarValue| -> bool {
                // Whether b replaces a as the min (max) so far.
                match a.partial_cmp(b) {
                    Some(o) => if *kind == AggKind::Min { o.is_gt() } else { o.is_lt() },
                    None => false,
                }
            };
            (0..n)
                .map(|i| {
                    let (s, e) = frame(i)?;
                    let count = if arg.is_none() { (e - s) as i64 } else { counts[e] - counts[s] };
                    let v = match kind {
                        AggKind::Count => ScalarValue::Int64(Some(count)),
                        AggKind::Sum0 => frame_sum(s, e)?,
                        AggKind::Sum if count == 0 => null.clone(),
                        AggKind::Sum => frame_sum(s, e)?,
                        AggKind::Avg if count == 0 => null.clone(),
                        AggKind::Avg => {
                            let sum = frame_sum(s, e)?;
                            if matches!(sum_type, ArrowType::Float64) {
                                let f = match sum {
                                    ScalarValue::Float64(Some(f)) => f,
                                    _ => 0.0,
                                };
                                ScalarValue::Float64(Some(f / count as f64))
                            } else if let ScalarValue::Decimal128(Some(v), p, sc) = sum {
                                // The sum has the result's scale: the quotient is exact, rounded
                                // half away from zero as the batch avg and Postgres round it.
                                let q = div_round(i256::from_i128(v), i256::from_i128(i128::from(count)))
                                    .and_then(|q| q.to_i128())
                                    .ok_or_else(|| DataFusionError::Execution("numeric out of range".into()))?;
                                ScalarValue::Decimal128(Some(q), p, sc)
                            } else {
                                let f = match sum.cast_to(&ArrowType::Float64)? {
                                    ScalarValue::Float64(Some(f)) => f,
                                    _ => 0.0,
                                };
                                ScalarValue::Float64(Some(f / count as f64))
                            }
                        }
                        AggKind::Min | AggKind::Max => {
                            let mut best: Option<&ScalarValue> = None;
                            for v in &values[s..e] {
                                if v.is_null() {
                                    continue;
                                }
                                if best.is_none_or(|b| better(b, v)) {
                                    best = Some(v);
                                }
                            }
                            best.cloned().unwrap_or_else(|| null.clone())
                        }
                        AggKind::BoolAnd | AggKind::BoolOr => {
                            let and = *kind == AggKind::BoolAnd;
                            let mut acc: Option<bool> = None;
                            for v in &values[s..e] {
                                if let ScalarValue::Boolean(Some(b)) = v {
                                    acc = Some(match acc {
                                        None => *b,
                                        Some(a) => if and { a && *b } else { a || *b },
                                    });
                                }
                            }
                            ScalarValue::Boolean(acc)
                        }
                        AggKind::FirstValue if s < e => values[s].clone(),
                        AggKind::LastValue if s < e => values[e - 1].clone(),
                        _ => null.clone(),
                    };
                    cast(v, t)
                })
                .collect()
        }
    }
}

struct Dirty {
    partition: OwnedRow,
    old: Vec<(SortKey, OwnedRow)>,
}

struct WindowCore {
    state: OrderedTable,
    calls: Vec<Call>,
    output_schema: SchemaRef,
    dirty: HashMap<Vec<u8>, Dirty>,
}

pub struct OverWindowExecutor {
    input: Executor,
    core: WindowCore,
}

impl OverWindowExecutor {
    pub fn new(
        input: Executor,
        partition_by: Vec<usize>,
        order_by: &[ColumnOrder],
        calls: &[WindowFunction],
        info: &ExecutorInfo,
        make: impl FnOnce(SchemaRef, Vec<usize>, Vec<bool>, Vec<usize>) -> StreamResult<StateTable>,
    ) -> StreamResult<Self> {
        let n_input = input.schema().fields().len();
        if info.types.len() != n_input + calls.len() {
            return Err(StreamError::plan("over window: output columns are not the input's plus one per call"));
        }
        let calls = calls
            .iter()
            .enumerate()
            .map(|(i, f)| call_of(f, info.schema.field(n_input + i).data_type().clone(), order_by))
            .collect::<StreamResult<Vec<_>>>()?;
        for c in &calls {
            let args: Vec<usize> = match &c.func {
                Func::Shift { arg, default, .. } => std::iter::once(*arg).chain(*default).collect(),
                Func::Agg { arg, .. } => arg.iter().copied().collect(),
                _ => vec![],
            };
            if args.iter().any(|a| *a >= n_input) {
                return Err(StreamError::plan("over window: argument column out of range"));
            }
        }
        let state = OrderedTable::new(input.schema(), &input.info.stream_key, partition_by, order_by, make)?;
        Ok(OverWindowExecutor { input, core: WindowCore { state, calls, output_schema: info.schema.clone(), dirty: HashMap::new() } })
    }
}

impl WindowCore {
    /// Output rows of a partition's stored rows, by key.
    fn outputs(&self, part: &[(SortKey, OwnedRow)]) -> StreamResult<BTreeMap<Vec<u8>, OwnedRow>> {
        let keys: Vec<&SortKey> = part.iter().map(|(k, _)| k).collect();
        let rows: Vec<&OwnedRow> = part.iter().map(|(_, r)| r).collect();
        let columns = self.calls.iter().map(|c| compute_call(c, &keys, &rows)).collect::<StreamResult<Vec<_>>>()?;
        let n_input = self.state.n_input;
        Ok(part
            .iter()
            .enumerate()
            .map(|(i, (k, r))| {
                let mut out: OwnedRow = r[..n_input].to_vec();
                out.extend(columns.iter().map(|c| c[i].clone()));
                (k.bytes.clone(), out)
            })
            .collect())
    }

    async fn apply(&mut self, chunk: StreamChunk) -> StreamResult<()> {
        let rows = self.state.prepare(&chunk)?;
        for (_, key, row) in &rows {
            if !self.dirty.contains_key(key.group()) {
                let partition = self.state.group_values(row);
                let old = self.state.load(&partition, usize::MAX).await?;
                self.dirty.insert(key.group().to_vec(), Dirty { partition, old });
            }
        }
        self.state.write(&rows)
    }

    async fn flush(&mut self) -> StreamResult<Vec<StreamChunk>> {
        let mut builder = ChunkBuilder::new(self.output_schema.clone());
        let mut out = Vec::new();
        let dirty: Vec<Dirty> = self.dirty.drain().map(|(_, d)| d).collect();
        for d in dirty {
            let new_rows = self.state.load(&d.partition, usize::MAX).await?;
            let old = self.outputs(&d.old)?;
            let new = self.outputs(&new_rows)?;
            let mut later: Vec<(Op, OwnedRow)> = Vec::new();
            for (k, o) in &old {
                match new.get(k) {
                    None => {
                        if let Some(c) = builder.append(Op::Delete, o.clone())? {
                            out.push(c);
                        }
                    }
                    Some(n) if n != o => {
                        later.push((Op::UpdateDelete, o.clone()));
                        later.push((Op::UpdateInsert, n.clone()));
                    }
                    Some(_) => {}
                }
            }
            for (k, n) in &new {
                if !old.contains_key(k) {
                    later.push((Op::Insert, n.clone()));
                }
            }
            for (op, row) in later {
                if let Some(c) = builder.append(op, row)? {
                    out.push(c);
                }
            }
        }
        if let Some(c) = builder.take()? {
            out.push(c);
        }
        Ok(out)
    }
}

impl Execute for OverWindowExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        let OverWindowExecutor { input, mut core } = *self;
        Box::pin(try_stream! {
            let mut input = input.execute();
            let mut first = true;
            while let Some(msg) = input.next().await {
                match msg? {
                    Message::Chunk(chunk) => core.apply(chunk).await?,
                    Message::Barrier(b) => {
                        for c in core.flush().await? {
                            yield Message::Chunk(c);
                        }
                        if first {
                            core.state.table.init_epoch(b.epoch.curr);
                            first = false;
                        } else {
                            core.state.table.commit(b.epoch.curr)?;
                        }
                        yield Message::Barrier(b);
                    }
                }
            }
        })
    }
}

pub fn build(ctx: &BuildContext<'_>, n: &OverWindowNode, info: ExecutorInfo, mut inputs: Vec<Executor>) -> StreamResult<Executor> {
    if inputs.len() != 1 {
        return Err(StreamError::plan("over window needs one input"));
    }
    let input = inputs.remove(0);
    let partition_by = n.partition_by.iter().map(|k| *k as usize).collect();
    let exec = OverWindowExecutor::new(input, partition_by, &n.order_by, &n.calls, &info, |schema, pk, desc, dist| {
        ctx.state_table(&n.state_table, schema, pk, desc, dist)
    })?;
    Ok(Executor::new(info, exec))
}


#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use tributary_common::types::DataType;
    use tributary_proto::stream_plan::WindowFrameBound;
    use tributary_storage::StateStore;

    use super::*;
    use crate::stream::executor::info;
    use crate::stream::row::rows_of;
    use crate::stream::test_utils::{barrier, chunk, collect, i32v, i64v, input, random_change, schema, store, Model, TestRng};

    /// Input: (id, g, v), stream key id; partition by g, order by v.
    fn types() -> Vec<DataType> {
        vec![DataType::Int64, DataType::Int32, DataType::Int32]
    }

    fn row(id: i64, g: i32, v: Option<i32>) -> OwnedRow {
        vec![i64v(id), i32v(g), ScalarValue::Int32(v)]
    }

    fn msg(ops: &[(Op, OwnedRow)]) -> Message {
        chunk(&types(), ops.iter().map(|(o, _)| *o).collect(), ops.iter().map(|(_, r)| r.clone()).collect())
    }

    fn b(kind: BoundKind, offset: u64) -> Option<WindowFrameBound> {
        Some(WindowFrameBound { kind: kind as i32, offset, range_offset: None })
    }

    fn agg(kind: AggKind, args: Vec<u32>, rows: bool, start: Option<WindowFrameBound>, end: Option<WindowFrameBound>) -> WindowFunction {
        WindowFunction { kind: WindowFuncKind::Aggregate as i32, agg: kind as i32, args, return_type: None, frame: Some(WindowFrame { rows, start, end }), offset: 0 }
    }

    fn func(kind: WindowFuncKind, args: Vec<u32>, offset: u64) -> WindowFunction {
        WindowFunction { kind: kind as i32, agg: 0, args, return_type: None, frame: None, offset }
    }

    /// The calls under test and their output types.
    fn calls() -> Vec<(WindowFunction, DataType)> {
        use BoundKind::*;
        vec![
            (func(WindowFuncKind::RowNumber, vec![], 0), DataType::Int64),
            (func(WindowFuncKind::Rank, vec![], 0), DataType::Int64),
            (func(WindowFuncKind::DenseRank, vec![], 0), DataType::Int64),
            (func(WindowFuncKind::Lag, vec![2], 1), DataType::Int32),
            (func(WindowFuncKind::Lead, vec![2, 1], 2), DataType::Int32),
            (agg(AggKind::Sum, vec![2], true, b(UnboundedPreceding, 0), b(CurrentRow, 0)), DataType::Int64),
            (agg(AggKind::Count, vec![2], true, b(Preceding, 1), b(Following, 1)), DataType::Int64),
            (agg(AggKind::Min, vec![2], true, b(Preceding, 2), b(CurrentRow, 0)), DataType::Int32),
            (agg(AggKind::Max, vec![2], true, b(CurrentRow, 0), b(UnboundedFollowing, 0)), DataType::Int32),
            (agg(AggKind::Avg, vec![2], false, b(UnboundedPreceding, 0), b(CurrentRow, 0)), DataType::Float64),
            (agg(AggKind::FirstValue, vec![2], true, b(Preceding, 1), b(Following, 1)), DataType::Int32),
            (agg(AggKind::LastValue, vec![2], true, b(UnboundedPreceding, 0), b(UnboundedFollowing, 0)), DataType::Int32),
            (agg(AggKind::Count, vec![], false, b(UnboundedPreceding, 0), b(CurrentRow, 0)), DataType::Int64),
        ]
    }

    fn make(desc: bool, nulls_first: bool, st: &Arc<dyn StateStore>, messages: Vec<Message>) -> Executor {
        let t = types();
        let cs = calls();
        let mut out_types = t.clone();
        out_types.extend(cs.iter().map(|(_, t)| t.clone()));
        let info = info(schema(&out_types), out_types.clone(), vec![0, 1], "OverWindow");
        let order = [ColumnOrder { column: 2, descending: desc, nulls_first }];
        let funcs: Vec<WindowFunction> = cs.into_iter().map(|(f, _)| f).collect();
        let st = st.clone();
        let exec = OverWindowExecutor::new(input(&t, vec![0], messages), vec![1], &order, &funcs, &info, |schema, pk, d, dist| {
            StateTable::new(st, 88, schema, pk, d, dist, vec![])
        })
        .unwrap();
        Executor::new(info, exec)
    }

    /// From scratch, naively.
    fn expected(desc: bool, nulls_first: bool, live: &BTreeMap<i64, OwnedRow>) -> Vec<String> {
        let v = |r: &OwnedRow| match r[2] {
            ScalarValue::Int32(v) => v,
            _ => None,
        };
        let okey = |r: &OwnedRow| -> (bool, i64) {
            match v(r) {
                None => (!nulls_first, 0),
                Some(x) => (nulls_first, if desc { -(x as i64) } else { x as i64 }),
            }
        };
        let mut parts: BTreeMap<String, Vec<OwnedRow>> = BTreeMap::new();
        for r in live.values() {
            parts.entry(format!("{:?}", r[1])).or_default().push(r.clone());
        }
        let mut out = Vec::new();
        for (_, mut rows) in parts {
            rows.sort_by_key(|r| (okey(r), r[0].clone().try_into().unwrap_or(0i64)));
            let n = rows.len();
            let vals: Vec<Option<i32>> = rows.iter().map(v).collect();
            for i in 0..n {
                let peer_start = (0..=i).find(|j| okey(&rows[*j]) == okey(&rows[i])).unwrap();
                let peer_end = (i..n).rev().find(|j| okey(&rows[*j]) == okey(&rows[i])).unwrap();
                let mut distinct: Vec<(bool, i64)> = rows[..=i].iter().map(okey).collect();
                distinct.dedup();
                let frame = |s: i64, e: i64| -> Vec<Option<i32>> {
                    let (s, e) = (s.max(0), e.min(n as i64 - 1));
                    if s > e { vec![] } else { vals[s as usize..=e as usize].to_vec() }
                };
                let nn = |f: &[Option<i32>]| f.iter().flatten().copied().collect::<Vec<i32>>();
                let i = i as i64;
                let mut r = rows[i as usize].clone();
                r.push(i64v(i + 1));
                r.push(i64v(peer_start as i64 + 1));
                r.push(i64v(distinct.len() as i64));
                r.push(ScalarValue::Int32(if i >= 1 { vals[i as usize - 1] } else { None }));
                r.push(ScalarValue::Int32(if i + 2 < n as i64 { vals[i as usize + 2] } else { Some(r[1].clone().try_into().unwrap_or(0)) }));
                let f = nn(&frame(0, i));
                r.push(ScalarValue::Int64((!f.is_empty()).then(|| f.iter().map(|x| *x as i64).sum())));
                r.push(i64v(nn(&frame(i - 1, i + 1)).len() as i64));
                r.push(ScalarValue::Int32(nn(&frame(i - 2, i)).into_iter().min()));
                r.push(ScalarValue::Int32(nn(&frame(i, n as i64)).into_iter().max()));
                let f = nn(&frame(0, peer_end as i64));
                r.push(ScalarValue::Float64((!f.is_empty()).then(|| f.iter().map(|x| *x as f64).sum::<f64>() / f.len() as f64)));
                let f = frame(i - 1, i + 1);
                r.push(ScalarValue::Int32(f.first().copied().flatten()));
                r.push(ScalarValue::Int32(vals[n - 1]));
                r.push(i64v(peer_end as i64 + 1));
                out.push(format!("{r:?}"));
            }
        }
        out.sort();
        out
    }

    fn sorted(model: &Model) -> Vec<String> {
        let mut v: Vec<String> = model.sorted().iter().map(|r| format!("{r:?}")).collect();
        v.sort();
        v
    }

    #[test]
    fn decimal_avg_is_exact() {
        // avg(bigint) OVER (...) on the value cast to numeric: 29356957 / 3 must round at the
        // 10th fraction digit, not carry a float's error.
        let t = ArrowType::Decimal128(38, 10);
        let f = agg(AggKind::Avg, vec![0], true, b(BoundKind::Preceding, 10), b(BoundKind::CurrentRow, 0));
        let call = call_of(&f, t, &[]).expect("call");
        let scale = 10i128.pow(10);
        let rows: Vec<OwnedRow> =
            [29356950i128, 4, 3, 100, -29357057].iter().map(|v| vec![ScalarValue::Decimal128(Some(v * scale), 38, 10)]).collect();
        let keys: Vec<SortKey> = (0..5u8).map(|i| SortKey { bytes: vec![i], group_len: 0, order_len: 1 }).collect();
        let out = compute_call(&call, &keys.iter().collect::<Vec<_>>(), &rows.iter().collect::<Vec<_>>()).expect("compute");
        let dec = |v: i128| ScalarValue::Decimal128(Some(v), 38, 10);
        assert_eq!(out[2], dec(97_856_523_333_333_333));
        assert_eq!(out[3], dec(73_392_642_500_000_000));
        // (29357057 - 29357057) / 5 = 0; half away from zero on the way there is exercised above.
        assert_eq!(out[4], dec(0));
    }

    #[tokio::test]
    async fn row_number_updates_exact() {
        let msgs = vec![
            barrier(0),
            msg(&[(Op::Insert, row(1, 0, Some(5))), (Op::Insert, row(2, 0, Some(3)))]),
            barrier(1),
            msg(&[(Op::Insert, row(3, 0, Some(1)))]),
            barrier(2),
        ];
        let out = collect(make(false, false, &store(), msgs)).await;
        let mut epochs: Vec<Vec<(Op, i64, i64)>> = vec![vec![]];
        for m in &out {
            match m {
                Message::Chunk(c) => epochs.last_mut().unwrap().extend(c.ops.iter().copied().zip(rows_of(&c.batch).unwrap()).map(|(op, r)| {
                    (op, r[0].clone().try_into().unwrap_or(-1i64), r[3].clone().try_into().unwrap_or(-1i64))
                })),
                Message::Barrier(_) => epochs.push(vec![]),
            }
        }
        assert_eq!(epochs[1], vec![(Op::Insert, 2, 1), (Op::Insert, 1, 2)]);
        // 1 goes first: the others' row numbers move.
        assert_eq!(
            epochs[2],
            vec![(Op::UpdateDelete, 2, 1), (Op::UpdateInsert, 2, 2), (Op::UpdateDelete, 1, 2), (Op::UpdateInsert, 1, 3), (Op::Insert, 3, 1)]
        );
    }

    #[tokio::test]
    async fn randomized_against_recomputation() {
        for (desc, nulls_first) in [(false, false), (false, true), (true, true), (true, false)] {
            for seed in 0..6u64 {
                let mut rng = TestRng::seeded(seed);
                let st = store();
                let mut live: BTreeMap<i64, OwnedRow> = BTreeMap::new();
                let mut model = Model::default();
                let mut epoch = 0u64;
                for _phase in 0..2 {
                    let mut msgs = vec![barrier(epoch)];
                    let mut expect = Vec::new();
                    for _ in 0..10 {
                        let mut ops = Vec::new();
                        for _ in 0..rng.below(8) {
                            let id = rng.below(20) as i64;
                            let v = if rng.below(5) == 0 { None } else { Some(rng.below(6) as i32) };
                            let new = row(id, rng.below(3) as i32, v);
                            ops.extend(random_change(&mut rng, &mut live, id, new));
                        }
                        if !ops.is_empty() {
                            msgs.push(msg(&ops));
                        }
                        epoch += 1;
                        msgs.push(barrier(epoch));
                        expect.push(expected(desc, nulls_first, &live));
                    }
                    let out = collect(make(desc, nulls_first, &st, msgs)).await;
                    let mut n = 0;
                    for m in &out {
                        match m {
                            Message::Chunk(ch) => model.apply(ch),
                            Message::Barrier(_) => {
                                if n > 0 {
                                    assert_eq!(sorted(&model), expect[n - 1], "desc {desc} nulls_first {nulls_first} seed {seed} barrier {n}");
                                }
                                n += 1;
                            }
                        }
                    }
                }
            }
        }
    }
}
