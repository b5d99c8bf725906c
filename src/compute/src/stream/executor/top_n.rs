//! Top-N: `ORDER BY ... LIMIT ... OFFSET`, globally (no group keys, one actor) or per group
//! (group top-N: `ROW_NUMBER`/`RANK`/`DENSE_RANK` over a partition with a filter on the rank,
//! the rank optionally emitted as an extra last column).
//!
//! State: every input row, in a state table keyed by (group keys, per order column a NULL flag
//! and the column in its direction, the rest of the input stream key), so a prefix scan of a
//! group reads its rows in order. The flag puts NULLs first or last as `ColumnOrder.nulls_first`
//! says, whatever the direction (the memcomparable encoding alone puts them last ascending and
//! first descending). See [`OrderedTable`], shared with the over-window executor.
//!
//! Per group a cache holds a prefix of the group's rows in order (every row with a key up to
//! the cache's last key), enough to decide the visible range; it is refilled by a prefix scan
//! when deletes shrink it too much. During an epoch input rows go to the table and the caches;
//! the first change of a group in the epoch records its visible rows. At the barrier every
//! changed group computes its new visible rows and emits the difference: `Delete` for rows
//! leaving, `UpdateDelete`+`UpdateInsert` for rows whose emitted rank changed, `Insert` for
//! rows entering.
//!
//! Visible rows, with `K = offset + limit` and rows numbered from 0 in order:
//! - plain LIMIT / ROW_NUMBER: positions `offset..K` (rank: position + 1);
//! - RANK (with ties): rows whose tie group starts at a position in `offset..K`;
//! - DENSE_RANK: rows of the tie groups numbered `offset..K`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::datatypes::{DataType as ArrowType, Field, Schema, SchemaRef};
use async_stream::try_stream;
use datafusion::common::ScalarValue;
use futures::StreamExt;
use tributary_common::chunk::{Op, StreamChunk};
use tributary_common::encoding::encode_key_columns;
use tributary_common::types::DataType;
use tributary_proto::stream_plan::{ColumnOrder, TopNNode, WindowFuncKind};

use super::{Execute, Executor, ExecutorInfo, MessageStream};
use crate::stream::builder::BuildContext;
use crate::stream::error::{StreamError, StreamResult};
use crate::stream::message::Message;
use crate::stream::row::{columns_of, rows_of, ChunkBuilder, OwnedRow};
use crate::stream::state_table::StateTable;

/// Groups whose caches stay in memory across barriers; beyond it the caches are dropped.
const GROUP_CACHE_LIMIT: usize = 1 << 16;

/// An encoded row key: group part `..group_len`, order part `..order_len`, then the rest of
/// the stream key. Keys of one group compare as the rows' order (stream key last).
#[derive(Debug, Clone)]
pub struct SortKey {
    pub bytes: Vec<u8>,
    pub group_len: usize,
    pub order_len: usize,
}

impl SortKey {
    pub fn group(&self) -> &[u8] {
        &self.bytes[..self.group_len]
    }

    pub fn order(&self) -> &[u8] {
        &self.bytes[..self.order_len]
    }
}

/// Input rows kept in a state table in (group, order, stream key) order. The table's rows are
/// the input row followed by one boolean NULL flag per order column.
pub struct OrderedTable {
    pub table: StateTable,
    pub n_input: usize,
    /// Input columns of the group (partition) keys.
    pub group: Vec<usize>,
    /// Order columns (those in the group keys or repeated are dropped: they order nothing).
    pub order: Vec<ColumnOrder>,
    schema: SchemaRef,
    pk: Vec<usize>,
    pk_desc: Vec<bool>,
    pk_types: Vec<DataType>,
    n_group: usize,
    n_order: usize,
}

impl OrderedTable {
    /// `make(schema, pk, pk_desc, dist_key)` makes the state table.
    pub fn new(
        input_schema: &SchemaRef,
        input_stream_key: &[usize],
        group: Vec<usize>,
        order: &[ColumnOrder],
        make: impl FnOnce(SchemaRef, Vec<usize>, Vec<bool>, Vec<usize>) -> StreamResult<StateTable>,
    ) -> StreamResult<Self> {
        let n_input = input_schema.fields().len();
        if group.iter().chain(input_stream_key).copied().chain(order.iter().map(|o| o.column as usize)).any(|c| c >= n_input) {
            return Err(StreamError::plan("ordered state: column out of range"));
        }
        let mut effective: Vec<ColumnOrder> = Vec::new();
        for o in order {
            let c = o.column as usize;
            if !group.contains(&c) && !effective.iter().any(|e| e.column == o.column) {
                effective.push(*o);
            }
        }
        let mut fields: Vec<Field> = input_schema.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect();
        for (i, _) in effective.iter().enumerate() {
            fields.push(Field::new(format!("_null_flag_{i}"), ArrowType::Boolean, true));
        }
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let mut pk: Vec<usize> = group.clone();
        let mut pk_desc = vec![false; group.len()];
        for (i, o) in effective.iter().enumerate() {
            pk.push(n_input + i);
            pk_desc.push(false);
            pk.push(o.column as usize);
            pk_desc.push(o.descending);
        }
        let (n_group, n_order) = (group.len(), pk.len());
        let mut rest: Vec<usize> = input_stream_key.to_vec();
        if rest.is_empty() {
            // No stream key: the whole row identifies it.
            rest = (0..n_input).collect();
        }
        for k in rest {
            if !pk.contains(&k) {
                pk.push(k);
                pk_desc.push(false);
            }
        }
        let types: Vec<DataType> =
            schema.fields().iter().map(|f| DataType::from_arrow(f.data_type())).collect::<Result<_, _>>()?;
        let pk_types = pk.iter().map(|i| types[*i].clone()).collect();
        let table = make(schema.clone(), pk.clone(), pk_desc.clone(), group.clone())?;
        Ok(OrderedTable { table, n_input, group, order: effective, schema, pk, pk_desc, pk_types, n_group, n_order })
    }

    /// The stored row of an input row (flags appended).
    pub fn state_row(&self, mut row: OwnedRow) -> OwnedRow {
        for o in &self.order {
            let null = row[o.column as usize].is_null();
            row.push(ScalarValue::Boolean(Some(if o.nulls_first { !null } else { null })));
        }
        row
    }

    /// Keys of stored rows.
    pub fn keys(&self, rows: &[OwnedRow]) -> StreamResult<Vec<SortKey>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let columns = columns_of(rows, &self.schema)?;
        let mut out = vec![Vec::new(); rows.len()];
        let mut lens = Vec::with_capacity(2);
        for (from, to) in [(0, self.n_group), (self.n_group, self.n_order), (self.n_order, self.pk.len())] {
            if to > from {
                let cols: Vec<_> = self.pk[from..to].iter().map(|i| columns[*i].clone()).collect();
                encode_key_columns(&cols, &self.pk_types[from..to], &self.pk_desc[from..to], &mut out)?;
            }
            lens.push(out.iter().map(|k| k.len()).collect::<Vec<_>>());
        }
        Ok(out
            .into_iter()
            .enumerate()
            .map(|(i, bytes)| SortKey { bytes, group_len: lens[0][i], order_len: lens[1][i] })
            .collect())
    }

    /// The group key values of a stored (or input) row.
    pub fn group_values(&self, row: &OwnedRow) -> OwnedRow {
        self.group.iter().map(|i| row[*i].clone()).collect()
    }

    /// The first `limit` stored rows of a group, in order, with their keys.
    pub async fn load(&self, group: &[ScalarValue], limit: usize) -> StreamResult<Vec<(SortKey, OwnedRow)>> {
        let rows: Vec<OwnedRow> = self.table.iter_prefix_limit(group, limit).await?.into_iter().map(|(_, r)| r).collect();
        let keys = self.keys(&rows)?;
        Ok(keys.into_iter().zip(rows).collect())
    }

    /// The stored rows of a chunk with their keys and ops.
    pub fn prepare(&self, chunk: &StreamChunk) -> StreamResult<Vec<(Op, SortKey, OwnedRow)>> {
        let rows: Vec<OwnedRow> = rows_of(&chunk.batch)?.into_iter().map(|r| self.state_row(r)).collect();
        let keys = self.keys(&rows)?;
        Ok(chunk.ops.iter().copied().zip(keys).zip(rows).map(|((op, k), r)| (op, k, r)).collect())
    }

    /// Writes prepared rows to the table.
    pub fn write(&mut self, rows: &[(Op, SortKey, OwnedRow)]) -> StreamResult<()> {
        let writes: Vec<(bool, OwnedRow)> = rows.iter().map(|(op, _, r)| (op.is_insert(), r.clone())).collect();
        self.table.write_rows(&writes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RankKind {
    RowNumber,
    Rank,
    DenseRank,
}

/// A prefix of a group's rows in order: every row with a key up to the last cached one, or
/// the whole group when `complete`.
#[derive(Default)]
struct GroupCache {
    rows: BTreeMap<Vec<u8>, (usize, OwnedRow)>,
    complete: bool,
}

impl GroupCache {
    fn apply(&mut self, insert: bool, key: &SortKey, row: &OwnedRow) {
        if insert {
            let within = self.complete || self.rows.keys().next_back().is_some_and(|last| key.bytes < *last);
            if within {
                self.rows.insert(key.bytes.clone(), (key.order_len, row.clone()));
            }
        } else {
            self.rows.remove(&key.bytes);
        }
    }
}

struct Dirty {
    group: OwnedRow,
    /// Visible rows (output rows) at the start of the epoch, by key.
    old: BTreeMap<Vec<u8>, OwnedRow>,
}

struct TopNCore {
    state: OrderedTable,
    offset: usize,
    limit: usize,
    kind: RankKind,
    emit_rank: Option<ArrowType>,
    output_schema: SchemaRef,
    caches: HashMap<Vec<u8>, GroupCache>,
    dirty: HashMap<Vec<u8>, Dirty>,
}

pub struct TopNExecutor {
    input: Executor,
    core: TopNCore,
}

/// What a top-N node asks for, independent of protobuf.
pub struct TopNParams {
    pub order_by: Vec<ColumnOrder>,
    pub limit: u64,
    pub offset: u64,
    pub with_ties: bool,
    pub group_keys: Vec<usize>,
    pub emit_rank: bool,
    pub rank_kind: WindowFuncKind,
}

impl TopNExecutor {
    pub fn new(
        input: Executor,
        p: TopNParams,
        info: &ExecutorInfo,
        make: impl FnOnce(SchemaRef, Vec<usize>, Vec<bool>, Vec<usize>) -> StreamResult<StateTable>,
    ) -> StreamResult<Self> {
        let state = OrderedTable::new(input.schema(), &input.info.stream_key, p.group_keys, &p.order_by, make)?;
        let n_out = state.n_input + usize::from(p.emit_rank);
        if info.types.len() != n_out {
            return Err(StreamError::plan(format!("top-N: {} output columns, expected {n_out}", info.types.len())));
        }
        let kind = match p.rank_kind {
            WindowFuncKind::Rank => RankKind::Rank,
            WindowFuncKind::DenseRank => RankKind::DenseRank,
            _ if p.with_ties => RankKind::Rank,
            _ => RankKind::RowNumber,
        };
        let emit_rank = p.emit_rank.then(|| info.schema.field(n_out - 1).data_type().clone());
        let clamp = |v: u64| usize::try_from(v).unwrap_or(usize::MAX / 4).min(usize::MAX / 4);
        let core = TopNCore {
            state,
            offset: clamp(p.offset),
            limit: clamp(p.limit),
            kind,
            emit_rank,
            output_schema: info.schema.clone(),
            caches: HashMap::new(),
            dirty: HashMap::new(),
        };
        Ok(TopNExecutor { input, core })
    }
}

impl TopNCore {
    fn k(&self) -> usize {
        self.offset.saturating_add(self.limit)
    }

    /// The shortest prefix length of `rows` that decides the visible rows, if `rows` has one.
    fn needed_len(&self, rows: &BTreeMap<Vec<u8>, (usize, OwnedRow)>) -> Option<usize> {
        let k = self.k();
        if k == 0 {
            return Some(0);
        }
        match self.kind {
            RankKind::RowNumber => (rows.len() >= k).then_some(k),
            RankKind::Rank | RankKind::DenseRank => {
                let mut prev: Option<&[u8]> = None;
                let mut groups = 0usize;
                for (i, (key, (order_len, _))) in rows.iter().enumerate() {
                    let order = &key[..*order_len];
                    if prev != Some(order) {
                        // A new tie group closes the previous one.
                        let closed = match self.kind {
                            RankKind::Rank => i >= k,
                            _ => groups >= k,
                        };
                        if closed {
                            return Some(i + 1);
                        }
                        groups += 1;
                        prev = Some(order);
                    }
                }
                None
            }
        }
    }

    /// Visible output rows of a cache that decides them.
    fn visible(&self, cache: &GroupCache) -> StreamResult<BTreeMap<Vec<u8>, OwnedRow>> {
        let (offset, k) = (self.offset, self.k());
        let mut out = BTreeMap::new();
        let mut prev: Option<&[u8]> = None;
        let (mut start, mut group) = (0usize, 0usize);
        for (i, (key, (order_len, row))) in cache.rows.iter().enumerate() {
            let order = &key[..*order_len];
            if prev != Some(order) {
                if prev.is_some() {
                    group += 1;
                }
                start = i;
                prev = Some(order);
            }
            let pos = match self.kind {
                RankKind::RowNumber => i,
                RankKind::Rank => start,
                RankKind::DenseRank => group,
            };
            if pos >= k {
                break;
            }
            if pos < offset {
                continue;
            }
            let rank = match self.kind {
                RankKind::DenseRank => group + 1,
                _ => pos + 1,
            };
            let mut r: OwnedRow = row[..self.state.n_input].to_vec();
            if let Some(t) = &self.emit_rank {
                r.push(ScalarValue::Int64(Some(rank as i64)).cast_to(t)?);
            }
            out.insert(key.clone(), r);
        }
        Ok(out)
    }

    /// Makes the cache of `group_id` decide the visible rows, reading the table as needed.
    async fn ensure(&mut self, group_id: &[u8], group: &[ScalarValue]) -> StreamResult<()> {
        let (len, satisfied) = match self.caches.get(group_id) {
            Some(c) => (c.rows.len(), c.complete || self.needed_len(&c.rows).is_some()),
            None => (0, false),
        };
        if satisfied {
            return Ok(());
        }
        let first = if cfg!(test) { self.k() + 1 } else { self.k().saturating_mul(2).saturating_add(16) };
        let mut limit = first.max(len.saturating_mul(2)).max(1);
        loop {
            let rows = self.state.load(group, limit).await?;
            let complete = rows.len() < limit;
            let cache = GroupCache { complete, rows: rows.into_iter().map(|(k, r)| (k.bytes, (k.order_len, r))).collect() };
            let done = complete || self.needed_len(&cache.rows).is_some();
            self.caches.insert(group_id.to_vec(), cache);
            if done {
                return Ok(());
            }
            limit = limit.saturating_mul(2);
        }
    }

    async fn apply(&mut self, chunk: StreamChunk) -> StreamResult<()> {
        // Record the visible rows of groups changed for the first time this epoch, before the
        // chunk reaches the table.
        let rows = self.state.prepare(&chunk)?;
        for (_, key, row) in &rows {
            if !self.dirty.contains_key(key.group()) {
                let group = self.state.group_values(row);
                let gid = key.group().to_vec();
                self.ensure(&gid, &group).await?;
                let old = self.visible(&self.caches[&gid])?;
                self.dirty.insert(gid, Dirty { group, old });
            }
        }
        self.state.write(&rows)?;
        for (op, key, row) in &rows {
            let cache = self.caches.entry(key.group().to_vec()).or_default();
            cache.apply(op.is_insert(), key, row);
        }
        Ok(())
    }

    /// The changes of the epoch's changed groups.
    async fn flush(&mut self) -> StreamResult<Vec<StreamChunk>> {
        let mut builder = ChunkBuilder::new(self.output_schema.clone());
        let mut out = Vec::new();
        let dirty: Vec<(Vec<u8>, Dirty)> = self.dirty.drain().collect();
        for (gid, d) in dirty {
            self.ensure(&gid, &d.group).await?;
            let new = self.visible(&self.caches[&gid])?;
            let mut changes: Vec<(Op, OwnedRow)> = Vec::new();
            let mut inserts: Vec<(Op, OwnedRow)> = Vec::new();
            for (k, old_row) in &d.old {
                match new.get(k) {
                    None => changes.push((Op::Delete, old_row.clone())),
                    Some(n) if n != old_row => {
                        inserts.push((Op::UpdateDelete, old_row.clone()));
                        inserts.push((Op::UpdateInsert, n.clone()));
                    }
                    Some(_) => {}
                }
            }
            for (k, n) in &new {
                if !d.old.contains_key(k) {
                    inserts.push((Op::Insert, n.clone()));
                }
            }
            for (op, row) in changes.into_iter().chain(inserts) {
                if let Some(c) = builder.append(op, row)? {
                    out.push(c);
                }
            }
            // Keep the cache small: a prefix that still decides the visible rows.
            let needed = self.needed_len(&self.caches[&gid].rows);
            if let (Some(cache), Some(m)) = (self.caches.get_mut(&gid), needed) {
                // (Tests keep almost nothing beyond, to exercise refills.)
                let keep = m.saturating_add(if cfg!(test) { 1 } else { m.saturating_add(64) });
                if cache.rows.len() > keep {
                    let cut = cache.rows.keys().nth(keep).cloned().expect("long enough");
                    cache.rows.split_off(&cut);
                    cache.complete = false;
                }
            }
        }
        if self.caches.len() > GROUP_CACHE_LIMIT {
            self.caches.clear();
        }
        if let Some(c) = builder.take()? {
            out.push(c);
        }
        Ok(out)
    }
}

impl Execute for TopNExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        let TopNExecutor { input, mut core } = *self;
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

pub fn build(ctx: &BuildContext<'_>, n: &TopNNode, info: ExecutorInfo, mut inputs: Vec<Executor>) -> StreamResult<Executor> {
    if inputs.len() != 1 {
        return Err(StreamError::plan("top-N needs one input"));
    }
    let input = inputs.remove(0);
    let params = TopNParams {
        order_by: n.order_by.clone(),
        limit: n.limit,
        offset: n.offset,
        with_ties: n.with_ties,
        group_keys: n.group_keys.iter().map(|k| *k as usize).collect(),
        emit_rank: n.emit_rank,
        rank_kind: WindowFuncKind::try_from(n.rank_kind).unwrap_or(WindowFuncKind::Unspecified),
    };
    let exec = TopNExecutor::new(input, params, &info, |schema, pk, desc, dist| ctx.state_table(&n.state_table, schema, pk, desc, dist))?;
    Ok(Executor::new(info, exec))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tributary_storage::StateStore;

    use super::*;
    use crate::stream::executor::info;
    use crate::stream::test_utils::{barrier, chunk, collect, i32v, i64v, input, random_change, schema, store, Model, TestRng};

    /// Input: (id, g, v), stream key id.
    fn types() -> Vec<DataType> {
        vec![DataType::Int64, DataType::Int32, DataType::Int32]
    }

    fn row(id: i64, g: i32, v: Option<i32>) -> OwnedRow {
        vec![i64v(id), i32v(g), ScalarValue::Int32(v)]
    }

    fn msg(ops: &[(Op, OwnedRow)]) -> Message {
        chunk(&types(), ops.iter().map(|(o, _)| *o).collect(), ops.iter().map(|(_, r)| r.clone()).collect())
    }

    #[derive(Clone, Copy, Debug)]
    struct Conf {
        desc: bool,
        nulls_first: bool,
        limit: u64,
        offset: u64,
        grouped: bool,
        kind: WindowFuncKind,
    }

    fn make(c: Conf, st: &Arc<dyn StateStore>, messages: Vec<Message>) -> Executor {
        let t = types();
        let mut out_types = t.clone();
        let emit = c.kind != WindowFuncKind::Unspecified;
        if emit {
            out_types.push(DataType::Int64);
        }
        let key = if c.grouped { vec![0, 1] } else { vec![0] };
        let info = info(schema(&out_types), out_types.clone(), key, "TopN");
        let p = TopNParams {
            order_by: vec![ColumnOrder { column: 2, descending: c.desc, nulls_first: c.nulls_first }],
            limit: c.limit,
            offset: c.offset,
            with_ties: matches!(c.kind, WindowFuncKind::Rank | WindowFuncKind::DenseRank),
            group_keys: if c.grouped { vec![1] } else { vec![] },
            emit_rank: emit,
            rank_kind: c.kind,
        };
        let st = st.clone();
        let exec = TopNExecutor::new(input(&t, vec![0], messages), p, &info, |schema, pk, desc, dist| {
            StateTable::new(st, 77, schema, pk, desc, dist, vec![])
        })
        .unwrap();
        Executor::new(info, exec)
    }

    /// From scratch: the visible rows of `live` (id → row).
    fn expected(c: Conf, live: &BTreeMap<i64, OwnedRow>) -> Vec<String> {
        let mut groups: BTreeMap<i32, Vec<OwnedRow>> = BTreeMap::new();
        for r in live.values() {
            let g = if c.grouped { match r[1] { ScalarValue::Int32(Some(g)) => g, _ => 0 } } else { 0 };
            groups.entry(g).or_default().push(r.clone());
        }
        let v = |r: &OwnedRow| match r[2] {
            ScalarValue::Int32(v) => v,
            _ => None,
        };
        let id = |r: &OwnedRow| match r[0] {
            ScalarValue::Int64(Some(i)) => i,
            _ => 0,
        };
        // Sort rank of the order value: (null placement, value in direction).
        let okey = |r: &OwnedRow| -> (bool, i64) {
            match v(r) {
                None => (!c.nulls_first, 0),
                Some(x) => (c.nulls_first, if c.desc { -(x as i64) } else { x as i64 }),
            }
        };
        let k = (c.offset + c.limit) as usize;
        let mut out = Vec::new();
        for (_, mut rows) in groups {
            rows.sort_by_key(|r| (okey(r), id(r)));
            let (mut start, mut group) = (0, 0);
            for i in 0..rows.len() {
                if i > 0 && okey(&rows[i]) != okey(&rows[i - 1]) {
                    start = i;
                    group += 1;
                }
                let (pos, rank) = match c.kind {
                    WindowFuncKind::Rank => (start, start + 1),
                    WindowFuncKind::DenseRank => (group, group + 1),
                    _ => (i, i + 1),
                };
                if pos >= c.offset as usize && pos < k {
                    let mut r = rows[i].clone();
                    if c.kind != WindowFuncKind::Unspecified {
                        r.push(i64v(rank as i64));
                    }
                    out.push(format!("{r:?}"));
                }
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

    #[tokio::test]
    async fn global_limit_offset_exact() {
        let c = Conf { desc: false, nulls_first: false, limit: 2, offset: 1, grouped: false, kind: WindowFuncKind::Unspecified };
        let msgs = vec![
            barrier(0),
            msg(&[(Op::Insert, row(1, 0, Some(5))), (Op::Insert, row(2, 0, Some(3))), (Op::Insert, row(3, 0, None))]),
            barrier(1),
            msg(&[(Op::Insert, row(4, 0, Some(1)))]),
            barrier(2),
            msg(&[(Op::Delete, row(2, 0, Some(3)))]),
            barrier(3),
        ];
        let out = collect(make(c, &store(), msgs)).await;
        let mut epochs: Vec<Vec<(Op, OwnedRow)>> = vec![vec![]];
        for m in &out {
            match m {
                Message::Chunk(ch) => epochs.last_mut().unwrap().extend(ch.ops.iter().copied().zip(rows_of(&ch.batch).unwrap())),
                Message::Barrier(_) => epochs.push(vec![]),
            }
        }
        // Order: 3, 5, NULL; offset 1 limit 2 → 5, NULL.
        assert_eq!(epochs[1], vec![(Op::Insert, row(1, 0, Some(5))), (Op::Insert, row(3, 0, None))]);
        // 1, 3, 5, NULL → 3, 5.
        assert_eq!(epochs[2], vec![(Op::Delete, row(3, 0, None)), (Op::Insert, row(2, 0, Some(3)))]);
        // 1, 5, NULL → 5, NULL.
        assert_eq!(epochs[3], vec![(Op::Delete, row(2, 0, Some(3))), (Op::Insert, row(3, 0, None))]);
    }

    #[tokio::test]
    async fn group_rank_emits_rank_changes() {
        let c = Conf { desc: true, nulls_first: false, limit: 2, offset: 0, grouped: true, kind: WindowFuncKind::Rank };
        let msgs = vec![
            barrier(0),
            msg(&[(Op::Insert, row(1, 1, Some(5))), (Op::Insert, row(2, 1, Some(5))), (Op::Insert, row(3, 1, Some(4)))]),
            barrier(1),
            msg(&[(Op::Insert, row(4, 1, Some(9)))]),
            barrier(2),
        ];
        let out = collect(make(c, &store(), msgs)).await;
        let mut model = Model::default();
        model.apply_all(&out[..3]);
        let r = |id, v, rank| {
            let mut x = row(id, 1, Some(v));
            x.push(i64v(rank));
            format!("{x:?}")
        };
        assert_eq!(sorted(&model), vec![r(1, 5, 1), r(2, 5, 1)]);
        model.apply_all(&out[3..]);
        // 9 first; the two 5s tie at rank 2.
        assert_eq!(sorted(&model), vec![r(1, 5, 2), r(2, 5, 2), r(4, 9, 1)]);
    }

    #[tokio::test]
    async fn randomized_against_recomputation() {
        let mut confs = Vec::new();
        for (desc, nulls_first) in [(false, false), (false, true), (true, true), (true, false)] {
            for (limit, offset) in [(3, 0), (2, 2), (0, 1)] {
                confs.push(Conf { desc, nulls_first, limit, offset, grouped: false, kind: WindowFuncKind::Unspecified });
                for kind in [WindowFuncKind::RowNumber, WindowFuncKind::Rank, WindowFuncKind::DenseRank] {
                    confs.push(Conf { desc, nulls_first, limit, offset, grouped: true, kind });
                }
            }
        }
        for c in confs {
            for seed in 0..6u64 {
                let mut rng = TestRng::seeded(seed);
                let st = store();
                let mut live: BTreeMap<i64, OwnedRow> = BTreeMap::new();
                let mut model = Model::default();
                let mut epoch = 0u64;
                // Two executors over the same state: the second recovers from the table.
                for _phase in 0..2 {
                    let mut msgs = vec![barrier(epoch)];
                    let mut expect = Vec::new();
                    for _ in 0..12 {
                        let mut ops = Vec::new();
                        for _ in 0..rng.below(10) {
                            let id = rng.below(25) as i64;
                            let v = if rng.below(5) == 0 { None } else { Some(rng.below(6) as i32) };
                            let new = row(id, rng.below(3) as i32, v);
                            ops.extend(random_change(&mut rng, &mut live, id, new));
                        }
                        if !ops.is_empty() {
                            msgs.push(msg(&ops));
                        }
                        epoch += 1;
                        msgs.push(barrier(epoch));
                        expect.push(expected(c, &live));
                    }
                    let out = collect(make(c, &st, msgs)).await;
                    let mut n = 0;
                    for m in &out {
                        match m {
                            Message::Chunk(ch) => model.apply(ch),
                            Message::Barrier(_) => {
                                if n > 0 {
                                    assert_eq!(sorted(&model), expect[n - 1], "conf {c:?} seed {seed} barrier {n}");
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
