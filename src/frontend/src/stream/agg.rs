//! GROUP BY and DISTINCT → hash aggregation (simple aggregation without group keys).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::DataType as ArrowType;

use datafusion::common::DFSchema;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::utils::{enumerate_grouping_sets, grouping_set_to_exprlist};
use datafusion::logical_expr::{
    binary_expr, cast, col, lit, when, Aggregate, Expr, ExprSchemable, GroupingSet, LogicalPlan, LogicalPlanBuilder,
    Operator,
};
use datafusion::scalar::ScalarValue;
use tributary_proto::stream_plan::{
    stream_node::Body as PbBody, AggCall, AggKind, CallStateTable, ColumnOrder, HashAggNode, UnionNode,
};

use super::convert::Converter;
use super::expr::{column_ref, display_over, unalias};
use super::keys::{enforce, Required};
use super::plan::{canonical_type, node, sql_type, Distribution, Identity, PlanNode};
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

#[derive(Clone)]
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
    let calls = a.aggr_expr.iter().map(call_of).collect::<Result<Vec<_>>>()?;
    if a.group_expr.iter().any(|e| matches!(e, Expr::GroupingSet(_))) {
        return grouping_sets(cv, a, calls);
    }
    let input = cv.convert(&a.input)?;
    build(cv, input, &a.group_expr, calls, &a.schema)
}

/// GROUPING SETS, ROLLUP and CUBE: every input row is expanded into one row per grouping set
/// (an unnest of the sets' ids), with the group keys outside the set made NULL, and then
/// aggregated by the keys and the set's id — DataFusion's `__grouping_id`, which `grouping()`
/// above reads: a bit per key (the first key highest) set where the key is not grouped, and
/// above them the ordinal of a repeated set. The empty set `()` is a simple aggregation of its
/// own: it has its row even without input rows, as in Postgres.
fn grouping_sets(cv: &mut Converter, a: &Aggregate, calls: Vec<Call>) -> Result<PlanNode> {
    let sets: Vec<Vec<Expr>> = match enumerate_grouping_sets(a.group_expr.clone())?.as_slice() {
        [Expr::GroupingSet(GroupingSet::GroupingSets(sets))] => sets.clone(),
        [Expr::GroupingSet(GroupingSet::Rollup(keys))] => (0..=keys.len()).map(|i| keys[..i].to_vec()).collect(),
        [Expr::GroupingSet(GroupingSet::Cube(keys))] if keys.len() <= 12 => (0..1u32 << keys.len())
            .map(|bits| keys.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, k)| k.clone()).collect())
            .collect(),
        _ => return Err(FrontendError::not_supported("this combination of grouping sets in a materialized view")),
    };
    let keys: Vec<Expr> = grouping_set_to_exprlist(&a.group_expr)?.into_iter().cloned().collect();
    let n = keys.len();
    let mut seen: HashMap<Vec<bool>, u64> = HashMap::new();
    let (mut grouped_ids, mut total_ids) = (Vec::new(), Vec::new());
    for set in &sets {
        let mask: Vec<bool> = keys.iter().map(|k| !set.contains(k)).collect();
        let semantic = mask.iter().fold(0u64, |acc, &null| (acc << 1) | u64::from(null));
        let ordinal = seen.entry(mask).or_insert(0);
        let id = i64::try_from(semantic | (*ordinal << n))
            .map_err(|_| FrontendError::not_supported("this many grouping sets in a materialized view"))?;
        *ordinal += 1;
        if set.is_empty() {
            total_ids.push(id);
        } else {
            grouped_ids.push(id);
        }
    }
    let id_type = canonical_type(a.schema.field(n).data_type())?;
    let columns = (0..a.schema.fields().len()).map(|i| Converter::logical_column(&a.schema, i)).collect::<Result<Vec<_>>>()?;
    let mut branches = Vec::new();
    if !grouped_ids.is_empty() {
        branches.push(expanded_aggregate(cv, a, &keys, &grouped_ids, &id_type, calls.clone())?);
    }
    for id in total_ids {
        let input = cv.convert(&a.input)?;
        let agg_fields = a.schema.iter().skip(n + 1).map(|(q, f)| (q.cloned(), f.clone())).collect();
        let agg_schema = DFSchema::new_with_metadata(agg_fields, HashMap::new())?;
        let total = build(cv, input, &[], calls.clone(), &agg_schema)?;
        let mut items = Vec::with_capacity(columns.len());
        for c in &columns[..n] {
            items.push((lit(ScalarValue::try_from(&c.data_type)?), c.clone()));
        }
        items.push((cast(lit(id), id_type.clone()), columns[n].clone()));
        for (i, c) in columns[n + 1..].iter().enumerate() {
            items.push((column_ref(&total, i), c.clone()));
        }
        branches.push(cv.project(total, items)?);
    }
    if branches.len() == 1 {
        return Ok(branches.remove(0));
    }
    // The keys and the set id identify a row in every branch.
    let key: Vec<usize> = (0..=n).collect();
    let inputs = branches.into_iter().map(|b| enforce(&mut cv.ids, b, Required::ExactHash(key.clone()))).collect();
    let identity = Identity::new("StreamUnion").attr("all", "true");
    let dist = Distribution::Hash(key.clone());
    Ok(node(&mut cv.ids, PbBody::Union(UnionNode {}), inputs, columns, key, dist, false, identity))
}

/// The non-empty grouping sets with ids `ids`: rows expanded per set, then grouped.
fn expanded_aggregate(
    cv: &mut Converter,
    a: &Aggregate,
    keys: &[Expr],
    ids: &[i64],
    id_type: &ArrowType,
    calls: Vec<Call>,
) -> Result<PlanNode> {
    let n = keys.len();
    let input = a.input.as_ref();
    let in_schema = input.schema();
    let mut passthrough: Vec<Expr> = in_schema.columns().into_iter().map(Expr::Column).collect();
    let id_list = ScalarValue::List(ScalarValue::new_list_nullable(
        &ids.iter().map(|i| ScalarValue::Int64(Some(*i))).collect::<Vec<_>>(),
        &ArrowType::Int64,
    ));
    let mut with_ids = passthrough.clone();
    with_ids.push(lit(id_list).alias(SET_ID));
    let expanded = LogicalPlanBuilder::from(input.clone()).project(with_ids)?.unnest_column(SET_ID)?.build()?;
    // The keys, NULL where the row's set does not group by them.
    let mut grouped: Vec<Expr> = Vec::with_capacity(n + 1);
    for (i, k) in keys.iter().enumerate() {
        let bit = 1i64 << (n - 1 - i);
        let null = lit(ScalarValue::try_from(k.get_type(in_schema)?)?);
        let in_set = binary_expr(col(SET_ID), Operator::BitwiseAnd, lit(bit)).eq(lit(0i64));
        grouped.push(when(in_set, k.clone()).otherwise(null)?.alias(format!("{SET_ID}_key{i}")));
    }
    grouped.push(cast(col(SET_ID), id_type.clone()).alias(SET_ID));
    passthrough.extend(grouped.iter().cloned());
    let projected = LogicalPlanBuilder::from(expanded).project(passthrough)?.build()?;
    let group: Vec<Expr> = grouped.iter().map(|g| col(g.schema_name().to_string())).collect();
    let node = cv.convert(&projected)?;
    build(cv, node, &group, calls, &a.schema)
}

/// The column of the expanded rows holding their grouping set's id.
const SET_ID: &str = "__grouping_set_id";

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
