//! Window functions → over-window operators; a rank function with a filter on the rank →
//! group top-N.

use datafusion::common::DFSchema;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::expr::{WindowFunction, WindowFunctionParams};
use datafusion::logical_expr::utils::{conjunction, split_conjunction};
use datafusion::logical_expr::{
    Expr, Filter, LogicalPlan, Operator, SortExpr, Window, WindowFrame, WindowFrameBound, WindowFrameUnits,
    WindowFunctionDefinition,
};
use tributary_proto::stream_plan::window_frame_bound::Kind as BoundKind;
use tributary_proto::stream_plan::{
    stream_node::Body as PbBody, ColumnOrder, OverWindowNode, WindowFrame as PbFrame, WindowFrameBound as PbBound,
    WindowFuncKind, WindowFunction as PbWindowFunction,
};

use super::agg::{agg_kind, literal_i64};
use super::convert::Converter;
use super::expr::{as_column, display_over, physical, unalias};
use super::keys::{enforce, union_keys, Required};
use super::plan::{node, sql_type, Identity, PlanNode};
use super::top_n::{top_n, TopN};
use crate::error::{FrontendError, Result};

fn window_fn(e: &Expr) -> Result<(&WindowFunctionDefinition, &WindowFunctionParams)> {
    match unalias(e) {
        Expr::WindowFunction(w) => {
            let WindowFunction { fun, params } = w.as_ref();
            Ok((fun, params))
        }
        other => Err(FrontendError::not_supported(format!("window expression {other} in a materialized view"))),
    }
}

fn rank_kind(fun: &WindowFunctionDefinition) -> Option<WindowFuncKind> {
    match fun {
        WindowFunctionDefinition::WindowUDF(f) => match f.name() {
            "row_number" => Some(WindowFuncKind::RowNumber),
            "rank" => Some(WindowFuncKind::Rank),
            "dense_rank" => Some(WindowFuncKind::DenseRank),
            _ => None,
        },
        WindowFunctionDefinition::AggregateUDF(_) => None,
    }
}

pub fn over_window(cv: &mut Converter, w: &Window) -> Result<PlanNode> {
    let first = w.window_expr.first().ok_or_else(|| FrontendError::Internal("a window without functions".into()))?;
    let (_, p0) = window_fn(first)?;
    let (partition, order) = (p0.partition_by.clone(), p0.order_by.clone());
    let mut needed: Vec<Expr> = partition.clone();
    needed.extend(order.iter().map(|s| s.expr.clone()));
    for e in &w.window_expr {
        let (_, p) = window_fn(e)?;
        if p.partition_by != partition || p.order_by != order {
            return Err(FrontendError::not_supported("window functions over different windows in one operator"));
        }
        if p.filter.is_some() || p.distinct {
            return Err(FrontendError::not_supported("FILTER or DISTINCT in a window function of a materialized view"));
        }
        needed.extend(p.args.iter().cloned());
    }
    let input = cv.convert(&w.input)?;
    let (input, positions) = cv.append_exprs(input, &needed)?;
    let mut next = positions.into_iter();
    let partition_by: Vec<usize> = next.by_ref().take(partition.len()).collect();
    let order_by = column_orders(&order, next.by_ref().take(order.len()).collect());
    let in_logical = w.input.schema().fields().len();
    let mut calls = Vec::with_capacity(w.window_expr.len());
    let mut shown = Vec::with_capacity(w.window_expr.len());
    let mut columns = input.columns.clone();
    for (i, e) in w.window_expr.iter().enumerate() {
        let (fun, p) = window_fn(e)?;
        let args: Vec<usize> = next.by_ref().take(p.args.len()).collect();
        let return_type = sql_type(w.schema.field(in_logical + i).data_type())?;
        let mut call = PbWindowFunction {
            kind: WindowFuncKind::Aggregate as i32,
            agg: 0,
            args: args.iter().map(|a| *a as u32).collect(),
            return_type: Some(return_type.to_protobuf()),
            frame: Some(frame(cv.state, &p.window_frame)?),
            offset: 0,
        };
        let name = fun.name().to_string();
        match fun {
            WindowFunctionDefinition::WindowUDF(_) => match name.as_str() {
                "row_number" | "rank" | "dense_rank" => {
                    call.kind = rank_kind(fun).unwrap_or_default() as i32;
                    call.args.clear();
                }
                "lag" | "lead" => {
                    call.kind = if name == "lag" { WindowFuncKind::Lag } else { WindowFuncKind::Lead } as i32;
                    let offset = match p.args.get(1) {
                        Some(o) => literal_i64(o).filter(|n| *n >= 0).ok_or_else(|| {
                            FrontendError::not_supported(format!("{name} with a non-constant or negative offset"))
                        })?,
                        None => 1,
                    };
                    call.offset = offset as u64;
                    // The value, then the default (a third argument) as a column.
                    call.args = args.iter().enumerate().filter(|(j, _)| *j != 1).map(|(_, a)| *a as u32).collect();
                }
                "first_value" | "last_value" => {
                    call.agg = if name == "first_value" { tributary_proto::stream_plan::AggKind::FirstValue } else { tributary_proto::stream_plan::AggKind::LastValue } as i32;
                }
                other => return Err(FrontendError::not_supported(format!("window function {other} in a materialized view"))),
            },
            WindowFunctionDefinition::AggregateUDF(f) => {
                let kind = agg_kind(&f.name().to_lowercase())
                    .ok_or_else(|| FrontendError::not_supported(format!("window aggregate {} in a materialized view", f.name())))?;
                call.agg = kind as i32;
            }
        }
        let arg_names: Vec<String> = p.args.iter().map(|a| display_over(a, &input)).collect();
        let call_shown = format!("{name}({})", arg_names.join(", "));
        calls.push(call);
        let mut column = Converter::logical_column(&w.schema, in_logical + i)?;
        column.display = call_shown.clone();
        columns.push(column);
        shown.push(call_shown);
    }
    let req = if partition_by.is_empty() { Required::Single } else { Required::HashOn(partition_by.clone()) };
    let input = enforce(&mut cv.ids, input, req);
    let identity = Identity::new("StreamOverWindow")
        .attr("window_functions", Identity::list(&shown))
        .attr("partition_by", Identity::list(input.names(&partition_by)))
        .attr("order_by", Identity::list(show_orders(&input, &order_by)));
    let body = PbBody::OverWindow(OverWindowNode {
        partition_by: partition_by.iter().map(|k| *k as u32).collect(),
        order_by,
        calls,
        state_table: Some(cv.ids.state_table()),
    });
    // Partition keys join the stream key, as group keys of a group top-N do.
    let mut key = input.stream_key.clone();
    union_keys(&mut key, partition_by.iter().copied());
    let dist = input.dist.clone();
    Ok(node(&mut cv.ids, body, vec![input], columns, key, dist, false, identity))
}

fn column_orders(order: &[SortExpr], positions: Vec<usize>) -> Vec<ColumnOrder> {
    order
        .iter()
        .zip(positions)
        .map(|(s, p)| ColumnOrder { column: p as u32, descending: !s.asc, nulls_first: s.nulls_first })
        .collect()
}

fn show_orders(input: &PlanNode, order: &[ColumnOrder]) -> Vec<String> {
    order
        .iter()
        .map(|o| format!("{} {}", input.names(&[o.column as usize]).join(""), if o.descending { "DESC" } else { "ASC" }))
        .collect()
}

fn bound(state: &SessionState, b: &WindowFrameBound, rows: bool) -> Result<PbBound> {
    let with_offset = |kind: BoundKind, v: &datafusion::scalar::ScalarValue| -> Result<PbBound> {
        if !rows {
            // A literal: compiled against no columns, evaluated once on compute.
            let range_offset = physical(state, &Expr::Literal(v.clone(), None), &DFSchema::empty())?;
            return Ok(PbBound { kind: kind as i32, offset: 0, range_offset: Some(range_offset) });
        }
        let offset = literal_i64(&Expr::Literal(v.clone(), None))
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| FrontendError::not_supported(format!("frame offset {v}")))?;
        Ok(PbBound { kind: kind as i32, offset, range_offset: None })
    };
    let plain = |kind: BoundKind| PbBound { kind: kind as i32, offset: 0, range_offset: None };
    match b {
        WindowFrameBound::Preceding(v) if v.is_null() => Ok(plain(BoundKind::UnboundedPreceding)),
        WindowFrameBound::Preceding(v) => with_offset(BoundKind::Preceding, v),
        WindowFrameBound::CurrentRow => Ok(plain(BoundKind::CurrentRow)),
        WindowFrameBound::Following(v) if v.is_null() => Ok(plain(BoundKind::UnboundedFollowing)),
        WindowFrameBound::Following(v) => with_offset(BoundKind::Following, v),
    }
}

fn frame(state: &SessionState, f: &WindowFrame) -> Result<PbFrame> {
    let rows = match f.units {
        WindowFrameUnits::Rows => true,
        WindowFrameUnits::Range => false,
        WindowFrameUnits::Groups => return Err(FrontendError::not_supported("GROUPS frames in a materialized view")),
    };
    Ok(PbFrame { rows, start: Some(bound(state, &f.start_bound, rows)?), end: Some(bound(state, &f.end_bound, rows)?) })
}

/// `Filter(rank <= N AND ...)` over a window computing only a rank: a group top-N keeps the
/// first N ranks of every partition. `None` when the plan does not have that shape.
pub fn group_top_n(cv: &mut Converter, f: &Filter) -> Result<Option<PlanNode>> {
    // A projection of plain columns (pruning what the query does not use) may sit between.
    let (w, projection) = match f.input.as_ref() {
        LogicalPlan::Window(w) => (w, None),
        LogicalPlan::Projection(p) => match p.input.as_ref() {
            LogicalPlan::Window(w) if p.expr.iter().all(|e| as_column(e).is_some()) => (w, Some(p)),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    let [e] = w.window_expr.as_slice() else { return Ok(None) };
    let (fun, p) = window_fn(e)?;
    let Some(kind) = rank_kind(fun) else { return Ok(None) };
    let window_rank = w.schema.columns().pop().ok_or_else(|| FrontendError::Internal("window without output".into()))?;
    // The rank as the filter sees it.
    let rank_col = match projection {
        None => Some(window_rank),
        Some(proj) => proj.expr.iter().position(|e| as_column(e) == Some(&window_rank)).map(|i| proj.schema.columns()[i].clone()),
    };
    let Some(rank_col) = rank_col else { return Ok(None) };
    // Bounds on the rank: rank <= upper, rank > lower.
    let (mut upper, mut lower): (Option<i64>, i64) = (None, 0);
    let mut rest = Vec::new();
    for c in split_conjunction(&f.predicate) {
        match rank_bound(c, &rank_col) {
            Some((Operator::LtEq, n)) => upper = Some(upper.map_or(n, |u| u.min(n))),
            Some((Operator::Lt, n)) => upper = Some(upper.map_or(n - 1, |u| u.min(n - 1))),
            Some((Operator::Eq, n)) => {
                upper = Some(upper.map_or(n, |u| u.min(n)));
                lower = lower.max(n - 1);
            }
            Some((Operator::Gt, n)) => lower = lower.max(n),
            Some((Operator::GtEq, n)) => lower = lower.max(n - 1),
            _ => rest.push(c.clone()),
        }
    }
    let Some(upper) = upper else { return Ok(None) };
    let input = cv.convert(&w.input)?;
    let mut needed: Vec<Expr> = p.partition_by.clone();
    needed.extend(p.order_by.iter().map(|s| s.expr.clone()));
    let (input, positions) = cv.append_exprs(input, &needed)?;
    let group_keys: Vec<usize> = positions[..p.partition_by.len()].to_vec();
    let mut order_by = column_orders(&p.order_by, positions[p.partition_by.len()..].to_vec());
    if order_by.is_empty() {
        order_by = input.stream_key.iter().map(|k| ColumnOrder { column: *k as u32, descending: false, nulls_first: false }).collect();
    }
    let mut rank = Converter::logical_column(&w.schema, w.schema.fields().len() - 1)?;
    rank.display = fun.name().to_string();
    let lower = lower.max(0);
    let limit = u64::try_from(upper - lower).unwrap_or(0);
    let mut node = top_n(cv, input, TopN { order_by, limit, offset: lower as u64, group_keys, rank: Some((kind, rank)) })?;
    if let Some(proj) = projection {
        node = cv.project_logical(node, &proj.expr, &proj.schema)?;
    }
    match conjunction(rest) {
        Some(pred) => cv.filter_node(node, &pred).map(Some),
        None => Ok(Some(node)),
    }
}

/// `rank <op> n` (either way round, through casts) as `(op with rank on the left, n)`.
fn rank_bound(e: &Expr, rank: &datafusion::common::Column) -> Option<(Operator, i64)> {
    let Expr::BinaryExpr(b) = e else { return None };
    let is_rank = |x: &Expr| match unalias(x) {
        Expr::Column(c) => c == rank,
        Expr::Cast(c) => matches!(c.expr.as_ref(), Expr::Column(c) if c == rank),
        Expr::TryCast(c) => matches!(c.expr.as_ref(), Expr::Column(c) if c == rank),
        _ => false,
    };
    if is_rank(&b.left) {
        Some((b.op, literal_i64(&b.right)?))
    } else if is_rank(&b.right) {
        let op = match b.op {
            Operator::Lt => Operator::Gt,
            Operator::LtEq => Operator::GtEq,
            Operator::Gt => Operator::Lt,
            Operator::GtEq => Operator::LtEq,
            Operator::Eq => Operator::Eq,
            _ => return None,
        };
        Some((op, literal_i64(&b.left)?))
    } else {
        None
    }
}
