//! GROUP BY and DISTINCT → hash aggregation (simple aggregation without group keys).

use std::sync::Arc;

use datafusion::common::DFSchema;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{Aggregate, Expr, LogicalPlan};
use datafusion::scalar::ScalarValue;
use tributary_proto::stream_plan::{
    stream_node::Body as PbBody, AggCall, AggKind, CallStateTable, ColumnOrder, HashAggNode,
};

use super::convert::Converter;
use super::expr::{display_over, unalias};
use super::keys::{enforce, Required};
use super::plan::{node, sql_type, Distribution, Identity, PlanNode};
use crate::error::{FrontendError, Result};

/// The stream aggregate of a DataFusion aggregate function name.
pub fn agg_kind(name: &str) -> Option<AggKind> {
    Some(match name {
        "count" => AggKind::Count,
        "sum" => AggKind::Sum,
        "avg" | "mean" => AggKind::Avg,
        "min" => AggKind::Min,
        "max" => AggKind::Max,
        "string_agg" => AggKind::StringAgg,
        "array_agg" => AggKind::ArrayAgg,
        "bool_and" | "every" => AggKind::BoolAnd,
        "bool_or" => AggKind::BoolOr,
        "first_value" => AggKind::FirstValue,
        "last_value" => AggKind::LastValue,
        "jsonb_agg" => AggKind::JsonbAgg,
        "jsonb_object_agg" => AggKind::JsonbObjectAgg,
        "stddev_pop" => AggKind::StddevPop,
        "stddev" | "stddev_samp" => AggKind::StddevSamp,
        "var_pop" | "var_population" => AggKind::VarPop,
        "var" | "var_samp" | "var_sample" | "variance" => AggKind::VarSamp,
        "bit_and" => AggKind::BitAnd,
        "bit_or" => AggKind::BitOr,
        _ => return None,
    })
}

/// Whether a call keeps its inputs in a state table: its result cannot be updated from the
/// result alone when rows are retracted (or its order matters).
fn keeps_inputs(kind: AggKind, append_only: bool) -> bool {
    match kind {
        AggKind::Min | AggKind::Max | AggKind::BitAnd | AggKind::BitOr => !append_only,
        AggKind::StringAgg
        | AggKind::ArrayAgg
        | AggKind::FirstValue
        | AggKind::LastValue
        | AggKind::JsonbAgg
        | AggKind::JsonbObjectAgg => true,
        _ => false,
    }
}

struct Call {
    kind: AggKind,
    name: String,
    args: Vec<Expr>,
    distinct: bool,
    filter: Option<Expr>,
    order_by: Vec<(Expr, bool, bool)>,
}

fn call_of(expr: &Expr) -> Result<Call> {
    let Expr::AggregateFunction(AggregateFunction { func, params }) = unalias(expr) else {
        return Err(FrontendError::not_supported(format!("aggregate {expr} in a materialized view")));
    };
    let name = func.name().to_lowercase();
    let kind = agg_kind(&name).ok_or_else(|| {
        FrontendError::not_supported(format!("aggregate function {name} in a materialized view"))
    })?;
    // count(*) is count over a constant: a count of rows.
    let args = if kind == AggKind::Count
        && params.args.iter().all(|a| matches!(unalias(a), Expr::Literal(v, _) if !v.is_null()))
    {
        vec![]
    } else {
        params.args.clone()
    };
    Ok(Call {
        kind,
        name,
        args,
        distinct: params.distinct,
        filter: params.filter.as_deref().cloned(),
        order_by: params.order_by.iter().map(|s| (s.expr.clone(), !s.asc, s.nulls_first)).collect(),
    })
}

pub fn aggregate(cv: &mut Converter, a: &Aggregate) -> Result<PlanNode> {
    if a.group_expr.iter().any(|e| matches!(e, Expr::GroupingSet(_))) {
        return Err(FrontendError::not_supported("GROUPING SETS, CUBE and ROLLUP in a materialized view"));
    }
    let calls = a.aggr_expr.iter().map(call_of).collect::<Result<Vec<_>>>()?;
    let input = cv.convert(&a.input)?;
    build(cv, input, &a.group_expr, calls, &a.schema)
}

/// DISTINCT over every column: an aggregation without calls.
pub fn distinct(cv: &mut Converter, input_plan: &Arc<LogicalPlan>) -> Result<PlanNode> {
    let input = cv.convert(input_plan)?;
    let schema = input_plan.schema();
    let group: Vec<Expr> = schema.columns().into_iter().map(Expr::Column).collect();
    build(cv, input, &group, vec![], schema)
}

fn build(cv: &mut Converter, input: PlanNode, group: &[Expr], calls: Vec<Call>, schema: &DFSchema) -> Result<PlanNode> {
    // Group keys, arguments, filters and ORDER BY of calls become input columns first.
    let mut needed: Vec<Expr> = group.to_vec();
    for c in &calls {
        needed.extend(c.args.iter().cloned());
        needed.extend(c.filter.iter().cloned());
        needed.extend(c.order_by.iter().map(|(e, _, _)| e.clone()));
    }
    let (input, positions) = cv.append_exprs(input, &needed)?;
    let mut next = positions.into_iter();
    let group_keys: Vec<usize> = next.by_ref().take(group.len()).collect();
    let shown_input = input.clone();
    let mut pb_calls = Vec::with_capacity(calls.len());
    let mut shown_calls = Vec::with_capacity(calls.len());
    let mut call_tables = Vec::with_capacity(calls.len());
    for (i, c) in calls.iter().enumerate() {
        let args: Vec<usize> = next.by_ref().take(c.args.len()).collect();
        let filter = c.filter.as_ref().and_then(|_| next.next());
        let order_by: Vec<ColumnOrder> = c
            .order_by
            .iter()
            .map(|(_, desc, nulls_first)| ColumnOrder {
                column: next.next().unwrap_or_default() as u32,
                descending: *desc,
                nulls_first: *nulls_first,
            })
            .collect();
        let return_type = sql_type(schema.field(group.len() + i).data_type())?;
        let keeps = keeps_inputs(c.kind, input.append_only);
        call_tables.push(CallStateTable {
            has_table: keeps,
            table: keeps.then(|| cv.ids.state_table()),
            distinct_table: c.distinct.then(|| cv.ids.state_table()),
            has_distinct_table: c.distinct,
        });
        shown_calls.push(show_call(c, &shown_input));
        pb_calls.push(AggCall {
            kind: c.kind as i32,
            args: args.iter().map(|a| *a as u32).collect(),
            return_type: Some(return_type.to_protobuf()),
            distinct: c.distinct,
            filter: filter.map(|f| f as u32),
            order_by,
        });
    }
    let simple = group_keys.is_empty();
    let input = enforce(&mut cv.ids, input, if simple { Required::Single } else { Required::HashOn(group_keys.clone()) });
    // The output is distributed as the input: by (some of) the group keys.
    let dist = if simple {
        Distribution::Single
    } else {
        let map = group_keys.iter().enumerate().map(|(out, k)| (*k, out)).collect();
        input.dist.remap(&map)
    };
    let mut columns = (0..schema.fields().len()).map(|i| Converter::logical_column(schema, i)).collect::<Result<Vec<_>>>()?;
    // Outputs show as what they compute.
    for (c, k) in columns.iter_mut().zip(&group_keys) {
        c.display = shown_input.columns[*k].display.clone();
    }
    for (c, shown) in columns.iter_mut().skip(group_keys.len()).zip(&shown_calls) {
        c.display = shown.clone();
    }
    let identity = if simple {
        Identity::new("StreamSimpleAgg").attr("aggs", Identity::list(&shown_calls))
    } else {
        let mut id = Identity::new("StreamHashAgg").attr("group_key", Identity::list(shown_input.names(&group_keys)));
        if !shown_calls.is_empty() {
            id = id.attr("aggs", Identity::list(&shown_calls));
        }
        id
    };
    let body = PbBody::HashAgg(HashAggNode {
        group_keys: group_keys.iter().map(|k| *k as u32).collect(),
        calls: pb_calls,
        result_table: Some(cv.ids.state_table()),
        call_tables,
    });
    let stream_key = (0..group_keys.len()).collect();
    Ok(node(&mut cv.ids, body, vec![input], columns, stream_key, dist, false, identity))
}

fn show_call(c: &Call, input: &PlanNode) -> String {
    let mut args: Vec<String> = c.args.iter().map(|a| display_over(a, input)).collect();
    if c.kind == AggKind::Count && args.is_empty() {
        args.push("*".into());
    }
    let mut s = format!("{}({}{})", c.name, if c.distinct { "distinct " } else { "" }, args.join(", "));
    if !c.order_by.is_empty() {
        let order: Vec<String> = c
            .order_by
            .iter()
            .map(|(e, desc, _)| format!("{}{}", display_over(e, input), if *desc { " DESC" } else { "" }))
            .collect();
        s = format!("{} order by {})", s.trim_end_matches(')'), order.join(", "));
    }
    if let Some(f) = &c.filter {
        s = format!("{s} filter(where {})", display_over(f, input));
    }
    s
}

/// A literal `i64`, for LIMIT-like constants in expressions.
pub fn literal_i64(e: &Expr) -> Option<i64> {
    match unalias(e) {
        Expr::Literal(v, _) => match v {
            ScalarValue::Int8(Some(n)) => Some(i64::from(*n)),
            ScalarValue::Int16(Some(n)) => Some(i64::from(*n)),
            ScalarValue::Int32(Some(n)) => Some(i64::from(*n)),
            ScalarValue::Int64(Some(n)) => Some(*n),
            ScalarValue::UInt8(Some(n)) => Some(i64::from(*n)),
            ScalarValue::UInt16(Some(n)) => Some(i64::from(*n)),
            ScalarValue::UInt32(Some(n)) => Some(i64::from(*n)),
            ScalarValue::UInt64(Some(n)) => i64::try_from(*n).ok(),
            _ => None,
        },
        Expr::Cast(c) => literal_i64(&c.expr),
        Expr::TryCast(c) => literal_i64(&c.expr),
        _ => None,
    }
}
