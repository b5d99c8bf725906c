//! ORDER BY ... LIMIT ... OFFSET → top-N (one actor); per group (ROW_NUMBER/RANK/DENSE_RANK
//! with a filter on the rank) → group top-N, planned in the window module.

use datafusion::logical_expr::{FetchType, Limit, LogicalPlan, LogicalPlanBuilder, SkipType, Sort, SortExpr};
use tributary_proto::stream_plan::{stream_node::Body as PbBody, ColumnOrder, TopNNode, WindowFuncKind};

use super::convert::Converter;
use super::keys::{enforce, union_keys, Required};
use super::plan::{node, Distribution, Identity, PlanColumn, PlanNode};
use crate::error::{FrontendError, Result};

/// ORDER BY without LIMIT orders nothing in a materialized view (rows have no order): only a
/// sort that keeps its first rows matters.
pub fn sort(cv: &mut Converter, s: &Sort) -> Result<PlanNode> {
    match s.fetch {
        Some(fetch) => ordered_limit(cv, &s.input, &s.expr, fetch as u64, 0),
        None => cv.convert(&s.input),
    }
}

pub fn limit(cv: &mut Converter, l: &Limit) -> Result<PlanNode> {
    let offset = match l.get_skip_type()? {
        SkipType::Literal(n) => n as u64,
        SkipType::UnsupportedExpr => return Err(FrontendError::not_supported("a non-constant OFFSET in a materialized view")),
    };
    let limit = match l.get_fetch_type()? {
        FetchType::Literal(Some(n)) => n as u64,
        FetchType::Literal(None) => {
            return Err(FrontendError::not_supported("OFFSET without LIMIT in a materialized view"));
        }
        FetchType::UnsupportedExpr => return Err(FrontendError::not_supported("a non-constant LIMIT in a materialized view")),
    };
    match l.input.as_ref() {
        LogicalPlan::Sort(s) => {
            let limit = s.fetch.map_or(limit, |f| limit.min((f as u64).saturating_sub(offset)));
            ordered_limit(cv, &s.input, &s.expr, limit, offset)
        }
        // ORDER BY on columns the query does not select: DataFusion sorts, projects them away
        // and then limits. The projection commutes with the limit, so plan it above the top-N
        // instead of losing the order.
        LogicalPlan::Projection(p) if matches!(p.input.as_ref(), LogicalPlan::Sort(_)) => {
            let fetch = usize::try_from(limit).map_err(|_| FrontendError::not_supported("a LIMIT this large"))?;
            let skip = usize::try_from(offset).map_err(|_| FrontendError::not_supported("an OFFSET this large"))?;
            let reordered = LogicalPlanBuilder::from(p.input.as_ref().clone())
                .limit(skip, Some(fetch))?
                .project(p.expr.clone())?
                .build()?;
            cv.convert(&reordered)
        }
        other => ordered_limit(cv, other, &[], limit, offset),
    }
}

fn ordered_limit(cv: &mut Converter, input: &LogicalPlan, order: &[SortExpr], limit: u64, offset: u64) -> Result<PlanNode> {
    let input = cv.convert(input)?;
    let exprs: Vec<_> = order.iter().map(|s| s.expr.clone()).collect();
    let (input, positions) = cv.append_exprs(input, &exprs)?;
    let mut order_by: Vec<ColumnOrder> = order
        .iter()
        .zip(&positions)
        .map(|(s, p)| ColumnOrder { column: *p as u32, descending: !s.asc, nulls_first: s.nulls_first })
        .collect();
    // Without ORDER BY any rows will do; the stream key makes the choice stable.
    if order_by.is_empty() {
        order_by = input.stream_key.iter().map(|k| ColumnOrder { column: *k as u32, descending: false, nulls_first: false }).collect();
    }
    top_n(cv, input, TopN { order_by, limit, offset, group_keys: vec![], rank: None })
}

pub struct TopN {
    pub order_by: Vec<ColumnOrder>,
    pub limit: u64,
    pub offset: u64,
    pub group_keys: Vec<usize>,
    /// The rank function and the column it outputs (group top-N over a rank).
    pub rank: Option<(WindowFuncKind, PlanColumn)>,
}

pub fn top_n(cv: &mut Converter, input: PlanNode, t: TopN) -> Result<PlanNode> {
    let req = if t.group_keys.is_empty() { Required::Single } else { Required::HashOn(t.group_keys.clone()) };
    let input = enforce(&mut cv.ids, input, req);
    let order_shown: Vec<String> = t
        .order_by
        .iter()
        .map(|o| {
            let name = input.columns.get(o.column as usize).map_or_else(|| "?".into(), |c| c.display.clone());
            format!("{name} {}", if o.descending { "DESC" } else { "ASC" })
        })
        .collect();
    let mut identity = Identity::new(if t.group_keys.is_empty() { "StreamTopN" } else { "StreamGroupTopN" })
        .attr("order", Identity::list(order_shown))
        .attr("limit", t.limit.to_string())
        .attr("offset", t.offset.to_string());
    if !t.group_keys.is_empty() {
        identity = identity.attr("group_key", Identity::list(input.names(&t.group_keys)));
    }
    let with_ties = matches!(t.rank, Some((WindowFuncKind::Rank | WindowFuncKind::DenseRank, _)));
    if with_ties {
        identity = identity.attr("with_ties", "true");
    }
    let mut columns = input.columns.clone();
    let rank_kind = match t.rank {
        Some((kind, col)) => {
            columns.push(col);
            kind
        }
        None => WindowFuncKind::Unspecified,
    };
    let body = PbBody::TopN(TopNNode {
        order_by: t.order_by,
        limit: t.limit,
        offset: t.offset,
        with_ties,
        group_keys: t.group_keys.iter().map(|k| *k as u32).collect(),
        state_table: Some(cv.ids.state_table()),
        emit_rank: rank_kind != WindowFuncKind::Unspecified,
        rank_kind: rank_kind as i32,
    });
    // The group keys join the stream key: they are what the rows are distributed by, so the
    // view needs no exchange to store them.
    let mut key = input.stream_key.clone();
    union_keys(&mut key, t.group_keys.iter().copied());
    let dist = if t.group_keys.is_empty() { Distribution::Single } else { input.dist.clone() };
    Ok(node(&mut cv.ids, body, vec![input], columns, key, dist, false, identity))
}
