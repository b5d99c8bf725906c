//! Project set: the select list with set-returning items (`unnest(array)`,
//! `generate_series(start, stop[, step])`). Each input row becomes as many rows as its longest
//! set item yields (shorter ones are padded with NULL, scalar items repeat; a row whose set
//! items all yield nothing, such as `unnest` of NULL or of an empty array, disappears).
//!
//! Output: a hidden ordinal (Int64, the row's position in its input row's expansion) followed
//! by the items in order; every output row has its input row's op, except that an
//! `UpdateDelete`/`UpdateInsert` pair becomes deletes then inserts (the expansions of the old
//! and new rows need not have the same length). Stateless.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType as ArrowType, SchemaRef};
use async_stream::try_stream;
use datafusion::common::ScalarValue;
use futures::StreamExt;
use tributary_common::chunk::{Op, StreamChunk};
use tributary_proto::stream_plan::project_set_item::Item as PbItem;
use tributary_proto::stream_plan::ProjectSetNode;

use super::{Execute, Executor, ExecutorInfo, MessageStream};
use crate::stream::error::{StreamError, StreamResult};
use crate::stream::expr::{decode_expr, eval, ExprRef};
use crate::stream::message::Message;
use crate::stream::row::{ChunkBuilder, OwnedRow};

pub enum SetItem {
    Scalar(ExprRef),
    Unnest(ExprRef),
    Series { start: ExprRef, stop: ExprRef, step: Option<ExprRef> },
}

pub struct ProjectSetExecutor {
    input: Executor,
    items: Vec<SetItem>,
    schema: SchemaRef,
}

/// An item's values for every row of a chunk.
enum Evaluated {
    Scalar(ArrayRef),
    Set(Vec<Vec<ScalarValue>>),
}

fn as_i64(v: &ScalarValue) -> StreamResult<Option<i64>> {
    if v.is_null() {
        return Ok(None);
    }
    match v.cast_to(&ArrowType::Int64)? {
        ScalarValue::Int64(x) => Ok(x),
        other => Err(StreamError::plan(format!("generate_series over {}", other.data_type()))),
    }
}

/// Elements of row `i` of a list array (none for NULL).
fn list_elements(array: &ArrayRef, i: usize) -> StreamResult<Vec<ScalarValue>> {
    if array.is_null(i) {
        return Ok(Vec::new());
    }
    let inner: ArrayRef = match array.data_type() {
        ArrowType::List(_) => array.as_list::<i32>().value(i),
        ArrowType::LargeList(_) => array.as_list::<i64>().value(i),
        ArrowType::FixedSizeList(..) => array.as_fixed_size_list().value(i),
        ArrowType::Null => return Ok(Vec::new()),
        other => return Err(StreamError::plan(format!("unnest of a non-array ({other})"))),
    };
    (0..inner.len()).map(|j| Ok(ScalarValue::try_from_array(&inner, j)?)).collect()
}

fn series(start: Option<i64>, stop: Option<i64>, step: Option<i64>) -> StreamResult<Vec<ScalarValue>> {
    let (Some(start), Some(stop), Some(step)) = (start, stop, step) else { return Ok(Vec::new()) };
    if step == 0 {
        return Err(StreamError::plan("step size cannot equal zero"));
    }
    let mut out = Vec::new();
    let mut v = start as i128;
    while (step > 0 && v <= stop as i128) || (step < 0 && v >= stop as i128) {
        out.push(ScalarValue::Int64(Some(v as i64)));
        v += step as i128;
    }
    Ok(out)
}

impl ProjectSetExecutor {
    pub fn new(input: Executor, items: Vec<SetItem>, info: &ExecutorInfo) -> StreamResult<Self> {
        if info.types.len() != items.len() + 1 {
            return Err(StreamError::plan("project set: output columns are not the ordinal and the items"));
        }
        Ok(ProjectSetExecutor { input, items, schema: info.schema.clone() })
    }

    fn evaluate(items: &[SetItem], chunk: &StreamChunk) -> StreamResult<Vec<Evaluated>> {
        let n = chunk.batch.num_rows();
        items
            .iter()
            .map(|item| {
                Ok(match item {
                    SetItem::Scalar(e) => Evaluated::Scalar(eval(e, &chunk.batch)?),
                    SetItem::Unnest(e) => {
                        let a = eval(e, &chunk.batch)?;
                        Evaluated::Set((0..n).map(|i| list_elements(&a, i)).collect::<StreamResult<_>>()?)
                    }
                    SetItem::Series { start, stop, step } => {
                        let start = eval(start, &chunk.batch)?;
                        let stop = eval(stop, &chunk.batch)?;
                        let step = step.as_ref().map(|s| eval(s, &chunk.batch)).transpose()?;
                        let at = |a: &ArrayRef, i: usize| -> StreamResult<Option<i64>> { as_i64(&ScalarValue::try_from_array(a, i)?) };
                        Evaluated::Set(
                            (0..n)
                                .map(|i| {
                                    let s = match &step {
                                        Some(a) => at(a, i)?,
                                        None => Some(1),
                                    };
                                    series(at(&start, i)?, at(&stop, i)?, s)
                                })
                                .collect::<StreamResult<_>>()?,
                        )
                    }
                })
            })
            .collect()
    }

    fn expand(schema: &SchemaRef, items: &[SetItem], chunk: &StreamChunk, builder: &mut ChunkBuilder) -> StreamResult<Vec<StreamChunk>> {
        let evaluated = Self::evaluate(items, chunk)?;
        let types: Vec<ArrowType> = schema.fields().iter().map(|f| f.data_type().clone()).collect();
        let has_set = evaluated.iter().any(|e| matches!(e, Evaluated::Set(_)));
        let mut out = Vec::new();
        for (i, op) in chunk.ops.iter().enumerate() {
            let op = if op.is_insert() { Op::Insert } else { Op::Delete };
            let count = if has_set {
                evaluated.iter().map(|e| if let Evaluated::Set(s) = e { s[i].len() } else { 0 }).max().unwrap_or(0)
            } else {
                1
            };
            for j in 0..count {
                let mut row: OwnedRow = Vec::with_capacity(types.len());
                row.push(ScalarValue::Int64(Some(j as i64)));
                for (c, e) in evaluated.iter().enumerate() {
                    let v = match e {
                        Evaluated::Scalar(a) => ScalarValue::try_from_array(a, i)?,
                        Evaluated::Set(s) => s[i].get(j).cloned().unwrap_or(ScalarValue::Null),
                    };
                    let t = &types[c + 1];
                    row.push(if &v.data_type() == t { v } else if v.is_null() { ScalarValue::try_from(t)? } else { v.cast_to(t)? });
                }
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

impl Execute for ProjectSetExecutor {
    fn execute(self: Box<Self>) -> MessageStream {
        let ProjectSetExecutor { input, items, schema } = *self;
        Box::pin(try_stream! {
            let mut input = input.execute();
            let mut builder = ChunkBuilder::new(schema.clone());
            while let Some(msg) = input.next().await {
                match msg? {
                    Message::Chunk(chunk) => {
                        for c in Self::expand(&schema, &items, &chunk, &mut builder)? {
                            yield Message::Chunk(c);
                        }
                    }
                    other => yield other,
                }
            }
        })
    }
}

pub fn build(n: &ProjectSetNode, info: ExecutorInfo, mut inputs: Vec<Executor>) -> StreamResult<Executor> {
    if inputs.len() != 1 {
        return Err(StreamError::plan("project set needs one input"));
    }
    let input = inputs.remove(0);
    let schema = input.schema().clone();
    let expr = |e: &Option<tributary_proto::stream_plan::Expr>| -> StreamResult<ExprRef> {
        decode_expr(e.as_ref().ok_or_else(|| StreamError::plan("project set: missing expression"))?, &schema)
    };
    let items = n
        .items
        .iter()
        .map(|item| {
            Ok(match &item.item {
                Some(PbItem::Scalar(e)) => SetItem::Scalar(decode_expr(e, &schema)?),
                Some(PbItem::Unnest(e)) => SetItem::Unnest(decode_expr(e, &schema)?),
                Some(PbItem::GenerateSeries(g)) => SetItem::Series {
                    start: expr(&g.start)?,
                    stop: expr(&g.stop)?,
                    step: g.step.as_ref().map(|s| decode_expr(s, &schema)).transpose()?,
                },
                None => return Err(StreamError::plan("project set: empty item")),
            })
        })
        .collect::<StreamResult<Vec<_>>>()?;
    let exec = ProjectSetExecutor::new(input, items, &info)?;
    Ok(Executor::new(info, exec))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, ListArray};
    use arrow::datatypes::Int64Type;
    use datafusion::physical_expr::expressions::{Column, Literal};
    use tributary_common::types::DataType;

    use super::*;
    use crate::stream::executor::info;
    use crate::stream::row::rows_of;
    use crate::stream::test_utils::{barrier, collect, i64v, input, random_change, Model, TestRng};

    fn list_input(rows: Vec<(Op, i64, Option<Vec<Option<i64>>>)>) -> Message {
        let ids = Int64Array::from(rows.iter().map(|r| r.1).collect::<Vec<_>>());
        let lists = ListArray::from_iter_primitive::<Int64Type, _, _>(rows.iter().map(|r| r.2.clone()));
        let schema = Arc::new(arrow::datatypes::Schema::new(vec![
            arrow::datatypes::Field::new("id", ArrowType::Int64, true),
            arrow::datatypes::Field::new("l", lists.data_type().clone(), true),
        ]));
        let batch = arrow::array::RecordBatch::try_new(schema, vec![Arc::new(ids), Arc::new(lists)]).unwrap();
        Message::Chunk(StreamChunk::new(rows.iter().map(|r| r.0).collect(), batch).unwrap())
    }

    fn make(messages: Vec<Message>) -> Executor {
        let list_type = DataType::from_arrow(&ArrowType::List(Arc::new(arrow::datatypes::Field::new("item", ArrowType::Int64, true)))).unwrap();
        let in_types = vec![DataType::Int64, list_type];
        let inp = input(&in_types, vec![0], messages);
        // Select list: id, unnest(l), generate_series(1, id).
        let items = vec![
            SetItem::Scalar(Arc::new(Column::new("c0", 0))),
            SetItem::Unnest(Arc::new(Column::new("c1", 1))),
            SetItem::Series {
                start: Arc::new(Literal::new(ScalarValue::Int64(Some(1)))),
                stop: Arc::new(Column::new("c0", 0)),
                step: None,
            },
        ];
        let out_types = vec![DataType::Int64, DataType::Int64, DataType::Int64, DataType::Int64];
        let info = info(crate::stream::test_utils::schema(&out_types), out_types, vec![0, 1], "ProjectSet");
        Executor::new(info.clone(), ProjectSetExecutor::new(inp, items, &info).unwrap())
    }

    fn r(ord: i64, id: i64, u: Option<i64>, s: Option<i64>) -> OwnedRow {
        vec![i64v(ord), i64v(id), ScalarValue::Int64(u), ScalarValue::Int64(s)]
    }

    #[tokio::test]
    async fn expands_and_pads() {
        let msgs = vec![
            barrier(0),
            list_input(vec![
                (Op::Insert, 1, Some(vec![Some(10), Some(20), None])),
                (Op::Insert, 2, None),
                (Op::Insert, 0, Some(vec![])),
            ]),
            barrier(1),
            list_input(vec![(Op::UpdateDelete, 1, Some(vec![Some(10), Some(20), None])), (Op::UpdateInsert, 1, Some(vec![Some(7)]))]),
            barrier(2),
        ];
        let out = collect(make(msgs)).await;
        let chunks: Vec<Vec<(Op, OwnedRow)>> = out
            .iter()
            .filter_map(|m| match m {
                Message::Chunk(c) => Some(c.ops.iter().copied().zip(rows_of(&c.batch).unwrap()).collect()),
                _ => None,
            })
            .collect();
        assert_eq!(
            chunks[0],
            vec![
                (Op::Insert, r(0, 1, Some(10), Some(1))),
                (Op::Insert, r(1, 1, Some(20), None)),
                (Op::Insert, r(2, 1, None, None)),
                // unnest(NULL) yields nothing; generate_series(1, 2) two rows.
                (Op::Insert, r(0, 2, None, Some(1))),
                (Op::Insert, r(1, 2, None, Some(2))),
            ]
        );
        assert_eq!(
            chunks[1],
            vec![
                (Op::Delete, r(0, 1, Some(10), Some(1))),
                (Op::Delete, r(1, 1, Some(20), None)),
                (Op::Delete, r(2, 1, None, None)),
                (Op::Insert, r(0, 1, Some(7), Some(1))),
            ]
        );
        let mut model = Model::default();
        model.apply_all(&out);
        assert_eq!(model.sorted().len(), 3);
    }

    /// Random inserts, updates and deletes: the net output is the expansion of the live rows.
    #[tokio::test]
    async fn randomized_against_recomputation() {
        for seed in 0..8u64 {
            let mut rng = TestRng::seeded(seed);
            let mut live: std::collections::BTreeMap<i64, Option<Vec<Option<i64>>>> = Default::default();
            let mut msgs = vec![barrier(0)];
            for e in 1..10 {
                let mut ops = Vec::new();
                for _ in 0..rng.below(6) {
                    let id = rng.below(5) as i64;
                    let l = if rng.below(4) == 0 { None } else { Some((0..rng.below(4)).map(|_| (rng.below(3) > 0).then(|| rng.below(9) as i64)).collect()) };
                    ops.extend(random_change(&mut rng, &mut live, id, l).into_iter().map(|(op, l)| (op, id, l)));
                }
                if !ops.is_empty() {
                    msgs.push(list_input(ops));
                }
                msgs.push(barrier(e));
            }
            let mut model = Model::default();
            model.apply_all(&collect(make(msgs)).await);
            let mut expect = Vec::new();
            for (id, l) in &live {
                let l = l.clone().unwrap_or_default();
                let n = l.len().max(*id as usize);
                for j in 0..n {
                    let s = (j < *id as usize).then_some(j as i64 + 1);
                    expect.push(format!("{:?}", r(j as i64, *id, l.get(j).copied().flatten(), s)));
                }
            }
            expect.sort();
            let mut got: Vec<String> = model.sorted().iter().map(|r| format!("{r:?}")).collect();
            got.sort();
            assert_eq!(got, expect, "seed {seed}");
        }
    }
}
