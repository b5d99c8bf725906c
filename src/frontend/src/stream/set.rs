//! UNION ALL → union of branches that agree on columns and stream key; unnest in the select
//! list → project set.

use arrow::datatypes::DataType as ArrowType;
use datafusion::logical_expr::{lit, Expr, ExprSchemable, Union, Unnest};
use datafusion::scalar::ScalarValue;
use tributary_proto::stream_plan::{
    project_set_item::Item, stream_node::Body as PbBody, ProjectSetItem, ProjectSetNode, UnionNode,
};

use super::convert::Converter;
use super::expr::{column_ref, display_over, physical};
use super::keys::{enforce, through, union_keys, Required};
use super::plan::{node, Distribution, Identity, PlanColumn, PlanNode};
use crate::error::{FrontendError, Result};

/// Every branch outputs the union's columns, then one slot per hidden stream key column of
/// every branch (NULL in the other branches), then the branch number: together with the
/// visible key columns, a key that stays unique across branches.
pub fn union(cv: &mut Converter, u: &Union) -> Result<PlanNode> {
    let mut branches = Vec::with_capacity(u.inputs.len());
    for input in &u.inputs {
        let node = cv.convert(input)?;
        let positions = Converter::positions(&node, input.schema())?;
        branches.push((node, positions));
    }
    let n = u.schema.fields().len();
    // (branch, column) of each hidden key slot, and the visible key columns of any branch.
    let mut slots: Vec<(usize, usize)> = Vec::new();
    let mut key: Vec<usize> = Vec::new();
    for (b, (node, positions)) in branches.iter().enumerate() {
        for k in &node.stream_key {
            match positions.iter().position(|p| p == k) {
                Some(i) => union_keys(&mut key, [i]),
                None => slots.push((b, *k)),
            }
        }
    }
    union_keys(&mut key, (n..n + slots.len() + 1).collect::<Vec<_>>());
    let mut columns = (0..n).map(|i| Converter::logical_column(&u.schema, i)).collect::<Result<Vec<_>>>()?;
    for (b, k) in &slots {
        let c = &branches[*b].0.columns[*k];
        columns.push(cv.ids.hidden(&c.display, c.data_type.clone()));
    }
    columns.push(cv.ids.hidden("$branch", ArrowType::Int32));

    let mut inputs = Vec::with_capacity(branches.len());
    let mut append_only = true;
    for (b, (node, positions)) in branches.into_iter().enumerate() {
        let schema = node.df_schema()?;
        let mut items: Vec<(Expr, PlanColumn)> = Vec::with_capacity(columns.len());
        for (i, p) in positions.iter().enumerate() {
            let e = column_ref(&node, *p);
            let e = if node.columns[*p].data_type != columns[i].data_type { e.cast_to(&columns[i].data_type, &schema)? } else { e };
            items.push((e, columns[i].clone()));
        }
        for (s, (sb, k)) in slots.iter().enumerate() {
            let target = &columns[n + s];
            let e = if *sb == b {
                column_ref(&node, *k)
            } else {
                lit(ScalarValue::try_from(&target.data_type)?)
            };
            items.push((e, target.clone()));
        }
        items.push((lit(b as i32), columns[n + slots.len()].clone()));
        append_only &= node.append_only;
        let projected = cv.project(node, items)?;
        inputs.push(enforce(&mut cv.ids, projected, Required::ExactHash(key.clone())));
    }
    let identity = Identity::new("StreamUnion").attr("all", "true");
    let dist = Distribution::Hash(key.clone());
    Ok(node(&mut cv.ids, PbBody::Union(UnionNode {}), inputs, columns, key, dist, append_only, identity))
}

/// `unnest(list)` in the select list: each input row becomes one row per element, numbered by
/// a hidden ordinal that joins the input's stream key.
pub fn unnest(cv: &mut Converter, u: &Unnest) -> Result<PlanNode> {
    if !u.struct_type_columns.is_empty() {
        return Err(FrontendError::not_supported("unnesting a struct in a materialized view"));
    }
    let input = cv.convert(&u.input)?;
    let input_positions = Converter::positions(&input, u.input.schema())?;
    let schema = input.df_schema()?;
    let mut items = Vec::new();
    let mut shown = Vec::new();
    let mut sources: Vec<Option<usize>> = vec![None];
    let mut columns = vec![cv.ids.hidden("projected_row_id", ArrowType::Int64)];
    for (i, c) in u.schema.columns().iter().enumerate() {
        let from = *u
            .dependency_indices
            .get(i)
            .ok_or_else(|| FrontendError::Internal("unnest without the source of a column".into()))?;
        let src = input_positions[from];
        let e = column_ref(&input, src);
        let unnested = u.list_type_columns.iter().find(|(_, l)| l.output_column.name == c.name);
        let item = match unnested {
            Some((_, l)) if l.depth != 1 => {
                return Err(FrontendError::not_supported("recursive unnest in a materialized view"));
            }
            Some(_) => {
                shown.push(format!("Unnest({})", display_over(&e, &input)));
                sources.push(None);
                Item::Unnest(physical(cv.state, &e, &schema)?)
            }
            None => {
                shown.push(display_over(&e, &input));
                sources.push(Some(src));
                Item::Scalar(physical(cv.state, &e, &schema)?)
            }
        };
        items.push(ProjectSetItem { item: Some(item) });
        columns.push(Converter::logical_column(&u.schema, i)?);
    }
    for k in &input.stream_key {
        if !sources.contains(&Some(*k)) {
            let e = column_ref(&input, *k);
            shown.push(display_over(&e, &input));
            items.push(ProjectSetItem { item: Some(Item::Scalar(physical(cv.state, &e, &schema)?)) });
            let c = &input.columns[*k];
            columns.push(cv.ids.hidden(&c.display, c.data_type.clone()));
            sources.push(Some(*k));
        }
    }
    let mut stream_key = vec![0];
    stream_key.extend(input.stream_key.iter().map(|k| sources.iter().position(|s| *s == Some(*k)).unwrap_or_default()));
    let dist = through(&input.dist, &sources);
    let identity = Identity::new("StreamProjectSet").attr("select_list", Identity::list(shown));
    let append_only = input.append_only;
    Ok(node(&mut cv.ids, PbBody::ProjectSet(ProjectSetNode { items }), vec![input], columns, stream_key, dist, append_only, identity))
}
