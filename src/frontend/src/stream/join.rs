//! Joins → hash joins (inner, outer, semi, anti; keyless joins run as one actor), and
//! comparisons with a scalar subquery → dynamic filters.

use datafusion::common::{JoinType as DfJoinType, NullEquality};
use datafusion::logical_expr::utils::{conjunction, split_conjunction};
use datafusion::logical_expr::{and, BinaryExpr, Expr, Join, LogicalPlan, Operator};
use tributary_proto::stream_plan::{
    stream_node::Body as PbBody, DynamicFilterNode, HashJoinNode, JoinType,
};

use super::convert::Converter;
use super::expr::{display, display_over, physical};
use super::keys::{enforce, union_keys, Required};
use super::plan::{node, Distribution, Identity, PlanNode};
use crate::error::{FrontendError, Result};

fn join_type(t: DfJoinType) -> Result<JoinType> {
    Ok(match t {
        DfJoinType::Inner => JoinType::Inner,
        DfJoinType::Left => JoinType::LeftOuter,
        DfJoinType::Right => JoinType::RightOuter,
        DfJoinType::Full => JoinType::FullOuter,
        DfJoinType::LeftSemi => JoinType::LeftSemi,
        DfJoinType::LeftAnti => JoinType::LeftAnti,
        DfJoinType::RightSemi => JoinType::RightSemi,
        DfJoinType::RightAnti => JoinType::RightAnti,
        other => {
            return Err(FrontendError::not_supported(format!(
                "{other} join in a materialized view"
            )))
        }
    })
}

fn type_name(t: JoinType) -> &'static str {
    match t {
        JoinType::Inner => "Inner",
        JoinType::LeftOuter => "LeftOuter",
        JoinType::RightOuter => "RightOuter",
        JoinType::FullOuter => "FullOuter",
        JoinType::LeftSemi => "LeftSemi",
        JoinType::LeftAnti => "LeftAnti",
        JoinType::RightSemi => "RightSemi",
        JoinType::RightAnti => "RightAnti",
        JoinType::Unspecified => "?",
    }
}

/// `j`, with `extra` (a filter right above it) where it helps: a comparison with a scalar
/// subquery becomes a dynamic filter.
pub fn join(cv: &mut Converter, j: &Join, extra: Option<&Expr>) -> Result<PlanNode> {
    if extra.is_none() {
        if let Some(n) = dynamic_filter(cv, j, None)? {
            return Ok(n);
        }
    }
    let jt = join_type(j.join_type)?;
    let mut on: Vec<(Expr, Expr)> = j.on.clone();
    let mut filter = j.filter.clone().filter(|f| !is_true(f));
    if j.null_equality == NullEquality::NullEqualsNull && !on.is_empty() {
        // Hash tables never match NULL keys: compare them in the condition of a keyless join.
        let cond = conjunction(on.drain(..).map(|(l, r)| {
            Expr::BinaryExpr(BinaryExpr::new(
                Box::new(l),
                Operator::IsNotDistinctFrom,
                Box::new(r),
            ))
        }));
        filter = combine(filter, cond);
    }
    if j.null_aware {
        // NOT IN: a NULL on either side makes the comparison unknown, which NOT IN treats as a
        // match. Only a keyless join can express that.
        let [(l, r)] = on.as_slice() else {
            return Err(FrontendError::not_supported(
                "NOT IN with several columns in a materialized view",
            ));
        };
        let cond = l
            .clone()
            .eq(r.clone())
            .or(l.clone().is_null())
            .or(r.clone().is_null());
        on.clear();
        filter = combine(filter, Some(cond));
    }
    let left = cv.convert(&j.left)?;
    let right = cv.convert(&j.right)?;
    let left_exprs: Vec<Expr> = on.iter().map(|(l, _)| l.clone()).collect();
    let right_exprs: Vec<Expr> = on.iter().map(|(_, r)| r.clone()).collect();
    let (left, lk) = cv.append_exprs(left, &left_exprs)?;
    let (right, rk) = cv.append_exprs(right, &right_exprs)?;
    let keyless = lk.is_empty();
    let (left, right) = if keyless {
        (
            enforce(&mut cv.ids, left, Required::Single),
            enforce(&mut cv.ids, right, Required::Single),
        )
    } else {
        (
            enforce(&mut cv.ids, left, Required::ExactHash(lk.clone())),
            enforce(&mut cv.ids, right, Required::ExactHash(rk.clone())),
        )
    };
    let ln = left.columns.len();
    let both = left.df_schema()?.join(right.df_schema()?.as_ref())?;
    let condition = filter
        .as_ref()
        .map(|f| physical(cv.state, f, &both))
        .transpose()?;

    // Output columns: the logical join's, then what keeps the stream key and distribution.
    let mut both_cols = left.columns.clone();
    both_cols.extend(right.columns.iter().cloned());
    let left_logical = j.left.schema().fields().len();
    let mut output: Vec<usize> = Vec::new();
    for (i, c) in j.schema.columns().iter().enumerate() {
        let p = match jt {
            JoinType::LeftSemi | JoinType::LeftAnti => left.position(c)?,
            JoinType::RightSemi | JoinType::RightAnti => ln + right.position(c)?,
            _ if i < left_logical => left.position(c)?,
            _ => ln + right.position(c)?,
        };
        output.push(p);
    }
    let left_key: Vec<usize> = left.stream_key.clone();
    let right_key: Vec<usize> = right.stream_key.iter().map(|k| ln + k).collect();
    let right_join_key: Vec<usize> = rk.iter().map(|k| ln + k).collect();
    // The join key is part of the stream key (as in RisingWave): an update that changes a
    // row's join key becomes a delete on the actor of the old key and an insert on the actor
    // of the new one, and nothing orders the two downstream. With the join key in the stream
    // key they are different rows, so their order does not matter.
    let (key_cols, dist_cols): (Vec<usize>, Vec<usize>) = match jt {
        JoinType::LeftSemi | JoinType::LeftAnti => (concat(&[&left_key, &lk]), lk.clone()),
        JoinType::RightSemi | JoinType::RightAnti => (
            concat(&[&right_key, &right_join_key]),
            right_join_key.clone(),
        ),
        JoinType::RightOuter => (
            concat(&[&left_key, &right_key, &right_join_key]),
            right_join_key.clone(),
        ),
        // A NULL-padded row has only one side's key: both are needed.
        JoinType::FullOuter => (
            concat(&[&left_key, &right_key, &lk, &right_join_key]),
            vec![],
        ),
        _ => (concat(&[&left_key, &right_key, &lk]), lk.clone()),
    };
    union_keys(&mut output, key_cols.iter().copied());
    let pos = |c: &usize| output.iter().position(|o| o == c).unwrap_or_default();
    let stream_key: Vec<usize> = key_cols.iter().map(pos).collect();
    let dist = if keyless {
        Distribution::Single
    } else if dist_cols.is_empty() || !dist_cols.iter().all(|c| output.contains(c)) {
        Distribution::Any
    } else {
        Distribution::Hash(dist_cols.iter().map(pos).collect())
    };
    let mut columns = Vec::with_capacity(output.len());
    let logical_n = j.schema.fields().len();
    for (i, p) in output.iter().enumerate() {
        columns.push(if i < logical_n {
            Converter::logical_column(&j.schema, i)?
        } else {
            let c = &both_cols[*p];
            cv.ids.hidden(&c.display, c.data_type.clone())
        });
    }
    // Semi/anti outputs index into the kept side alone.
    let output_indices: Vec<u32> = match jt {
        JoinType::RightSemi | JoinType::RightAnti => {
            output.iter().map(|p| (p - ln) as u32).collect()
        }
        _ => output.iter().map(|p| *p as u32).collect(),
    };
    let degree_left = matches!(
        jt,
        JoinType::LeftOuter | JoinType::FullOuter | JoinType::LeftSemi | JoinType::LeftAnti
    );
    let degree_right = matches!(
        jt,
        JoinType::RightOuter | JoinType::FullOuter | JoinType::RightSemi | JoinType::RightAnti
    );
    let mut predicate: Vec<String> = on
        .iter()
        .map(|(l, r)| format!("{} = {}", display_over(l, &left), display_over(r, &right)))
        .collect();
    if let Some(f) = &filter {
        predicate.push(display(f));
    }
    let mut identity = Identity::new("StreamHashJoin").attr("type", type_name(jt));
    identity = identity.attr(
        "predicate",
        if predicate.is_empty() {
            "true".to_string()
        } else {
            predicate.join(" AND ")
        },
    );
    let body = PbBody::HashJoin(HashJoinNode {
        join_type: jt as i32,
        left_keys: lk.iter().map(|k| *k as u32).collect(),
        right_keys: rk.iter().map(|k| *k as u32).collect(),
        condition,
        left_table: Some(cv.ids.state_table()),
        right_table: Some(cv.ids.state_table()),
        left_degree_table: degree_left.then(|| cv.ids.state_table()),
        right_degree_table: degree_right.then(|| cv.ids.state_table()),
        output_indices,
        left_stream_key: left.stream_key.iter().map(|k| *k as u32).collect(),
        right_stream_key: right.stream_key.iter().map(|k| *k as u32).collect(),
    });
    let append_only = jt == JoinType::Inner && left.append_only && right.append_only;
    Ok(node(
        &mut cv.ids,
        body,
        vec![left, right],
        columns,
        stream_key,
        dist,
        append_only,
        identity,
    ))
}

fn concat(parts: &[&[usize]]) -> Vec<usize> {
    let mut v = Vec::new();
    for p in parts {
        union_keys(&mut v, p.iter().copied());
    }
    v
}

fn combine(a: Option<Expr>, b: Option<Expr>) -> Option<Expr> {
    match (a, b) {
        (Some(a), Some(b)) => Some(and(a, b)),
        (a, b) => a.or(b),
    }
}

fn is_true(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Literal(datafusion::scalar::ScalarValue::Boolean(Some(true)), _)
    )
}

fn flip(op: Operator) -> Option<Operator> {
    Some(match op {
        Operator::Lt => Operator::Gt,
        Operator::LtEq => Operator::GtEq,
        Operator::Gt => Operator::Lt,
        Operator::GtEq => Operator::LtEq,
        Operator::Eq => Operator::Eq,
        Operator::NotEq => Operator::NotEq,
        _ => return None,
    })
}

fn comparator(op: Operator) -> Option<&'static str> {
    Some(match op {
        Operator::Lt => "<",
        Operator::LtEq => "<=",
        Operator::Gt => ">",
        Operator::GtEq => ">=",
        Operator::Eq => "=",
        Operator::NotEq => "<>",
        _ => return None,
    })
}

fn refers_only_to(e: &Expr, plan: &LogicalPlan) -> bool {
    let schema = plan.schema();
    e.column_refs().iter().all(|c| schema.has_column(c))
}

/// `left.x <op> (scalar subquery)`: the join of the outer query with a one-row subquery
/// (keyless, inner or left) filtered by a comparison with its value. Every conjunct but the
/// comparison stays a filter; `None` when the plan does not have that shape.
pub fn dynamic_filter(
    cv: &mut Converter,
    j: &Join,
    above: Option<&Expr>,
) -> Result<Option<PlanNode>> {
    if !j.on.is_empty()
        || !matches!(j.join_type, DfJoinType::Inner | DfJoinType::Left)
        || !super::subquery::is_scalar(&j.right)
    {
        return Ok(None);
    }
    let own = j.filter.as_ref().filter(|f| !is_true(f));
    let predicate = match (above, own) {
        (Some(a), Some(f)) => and(a.clone(), f.clone()),
        (Some(a), None) => a.clone(),
        (None, Some(f)) => f.clone(),
        (None, None) => return Ok(None),
    };
    // With a left join, the comparison above the join still drops rows without a match (NULL
    // compares to nothing); a condition of the left join itself does not.
    if j.join_type == DfJoinType::Left && above.is_none() {
        return Ok(None);
    }
    let conjuncts = split_conjunction(&predicate);
    let mut found = None;
    for (i, c) in conjuncts.iter().enumerate() {
        let Expr::BinaryExpr(b) = c else { continue };
        let Some(cmp) = comparator(b.op) else {
            continue;
        };
        let (l, r) = (b.left.as_ref(), b.right.as_ref());
        let right_side = |e: &Expr| !e.column_refs().is_empty() && refers_only_to(e, &j.right);
        if refers_only_to(l, &j.left) && right_side(r) {
            found = Some((i, l.clone(), r.clone(), cmp));
        } else if refers_only_to(r, &j.left) && right_side(l) {
            let Some(op) = flip(b.op).and_then(comparator) else {
                continue;
            };
            found = Some((i, r.clone(), l.clone(), op));
        }
        if found.is_some() {
            break;
        }
    }
    let Some((at, left_expr, right_expr, cmp)) = found else {
        return Ok(None);
    };
    let rest: Vec<Expr> = conjuncts
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != at)
        .map(|(_, e)| (*e).clone())
        .collect();
    // The remaining conditions must not need the subquery's value: the filter does not output it.
    if rest.iter().any(|e| !refers_only_to(e, &j.left)) {
        return Ok(None);
    }
    let left = cv.convert(&j.left)?;
    let (left, key) = cv.append_exprs(left, std::slice::from_ref(&left_expr))?;
    let right = cv.convert(&j.right)?;
    let (right, rpos) = cv.append_exprs(right, std::slice::from_ref(&right_expr))?;
    let right = if right.columns.len() == 1 {
        right
    } else {
        let value = right.columns[rpos[0]].clone();
        cv.project(right, vec![(Expr::Column(value.df_column()), value)])?
    };
    let right = enforce(&mut cv.ids, right, Required::Broadcast);
    let identity = Identity::new("StreamDynamicFilter").attr(
        "predicate",
        format!(
            "{} {cmp} {}",
            display_over(&left_expr, &left),
            display(&right_expr)
        ),
    );
    let body = PbBody::DynamicFilter(DynamicFilterNode {
        left_key: key[0] as u32,
        comparator: cmp.to_string(),
        left_table: Some(cv.ids.state_table()),
        right_table: Some(cv.ids.state_table()),
    });
    let (columns, stream_key, dist) = (
        left.columns.clone(),
        left.stream_key.clone(),
        left.dist.clone(),
    );
    let filtered = node(
        &mut cv.ids,
        body,
        vec![left, right],
        columns,
        stream_key,
        dist,
        false,
        identity,
    );
    match conjunction(rest) {
        Some(p) => cv.filter_node(filtered, &p).map(Some),
        None => Ok(Some(filtered)),
    }
}
