//! The stream planner: a materialized view's query, planned by DataFusion as the batch path
//! plans it and optimized with the rules that suit streams, becomes a tree of stream operators
//! with stream keys and distributions ([`convert`]), exchanges where the distribution changes
//! ([`keys`]), and a graph of fragments cut at the exchanges ([`fragmenter`]) that meta turns
//! into actors. [`explain`] prints it.

mod agg;
mod convert;
pub mod explain;
mod expr;
pub mod fragmenter;
mod join;
pub mod keys;
pub mod plan;
mod set;
mod subquery;
mod table_function;
mod top_n;
mod window;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::optimizer::common_subexpr_eliminate::CommonSubexprEliminate;
use datafusion::optimizer::decorrelate_lateral_join::DecorrelateLateralJoin;
use datafusion::optimizer::decorrelate_predicate_subquery::DecorrelatePredicateSubquery;
use datafusion::optimizer::eliminate_cross_join::EliminateCrossJoin;
use datafusion::optimizer::eliminate_duplicated_expr::EliminateDuplicatedExpr;
use datafusion::optimizer::eliminate_filter::EliminateFilter;
use datafusion::optimizer::eliminate_group_by_constant::EliminateGroupByConstant;
use datafusion::optimizer::eliminate_join::EliminateJoin;
use datafusion::optimizer::eliminate_limit::EliminateLimit;
use datafusion::optimizer::eliminate_outer_join::EliminateOuterJoin;
use datafusion::optimizer::extract_equijoin_predicate::ExtractEquijoinPredicate;
use datafusion::optimizer::filter_null_join_keys::FilterNullJoinKeys;
use datafusion::optimizer::optimize_projections::OptimizeProjections;
use datafusion::optimizer::optimize_unions::OptimizeUnions;
use datafusion::optimizer::propagate_empty_relation::PropagateEmptyRelation;
use datafusion::optimizer::push_down_filter::PushDownFilter;
use datafusion::optimizer::replace_distinct_aggregate::ReplaceDistinctWithAggregate;
use datafusion::optimizer::rewrite_set_comparison::RewriteSetComparison;
use datafusion::optimizer::scalar_subquery_to_join::ScalarSubqueryToJoin;
use datafusion::optimizer::simplify_expressions::SimplifyExpressions;
use datafusion::optimizer::{Optimizer, OptimizerRule};
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Query, Statement};
use tributary_common::catalog::ColumnDesc;
use tributary_proto::stream_plan::{stream_node::Body as PbBody, ColumnOrder, MaterializeNode, StreamFragmentGraph};

use self::convert::Converter;
use self::expr::column_ref;
use self::keys::{enforce, union_keys, Required};
use self::plan::{node, sql_type, Distribution, Identity, PlanColumn, PlanNode};
use crate::error::{FrontendError, Result};
use crate::planner::PlanningContext;

/// A planned materialized view.
#[derive(Debug)]
pub struct StreamPlan {
    pub root: PlanNode,
    pub graph: StreamFragmentGraph,
    /// The view's columns: the query's, in order, then the hidden ones.
    pub columns: Vec<ColumnDesc>,
    /// Stream key of the output: the view's primary key.
    pub pk: Vec<u32>,
    /// Distribution key of the stored rows (empty: one actor holds them).
    pub dist_key: Vec<u32>,
    /// Tables, materialized views and views the query names.
    pub dependent_relations: Vec<u32>,
    /// Indexes: for each column computed by an expression, the expression as batch filters
    /// name it (`planner::key_range::expr_name`); None for plain columns.
    pub expr_names: Vec<Option<String>>,
}

impl StreamPlan {
    pub fn explain(&self) -> Vec<String> {
        explain::explain(&self.root, &self.graph)
    }
}

/// DataFusion's optimizer rules that keep a plan's meaning for a stream. Left out: limits
/// pushed into inputs (they change what a standing query keeps) and DISTINCT aggregates
/// rewritten into two groupings (the stream aggregation deduplicates itself).
fn stream_rules() -> Vec<Arc<dyn OptimizerRule + Send + Sync>> {
    vec![
        Arc::new(RewriteSetComparison::new()),
        Arc::new(OptimizeUnions::new()),
        Arc::new(SimplifyExpressions::new()),
        Arc::new(ReplaceDistinctWithAggregate::new()),
        Arc::new(EliminateJoin::new()),
        Arc::new(DecorrelatePredicateSubquery::new()),
        Arc::new(ScalarSubqueryToJoin::new()),
        Arc::new(DecorrelateLateralJoin::new()),
        Arc::new(ExtractEquijoinPredicate::new()),
        Arc::new(EliminateDuplicatedExpr::new()),
        Arc::new(EliminateFilter::new()),
        Arc::new(EliminateCrossJoin::new()),
        Arc::new(EliminateLimit::new()),
        Arc::new(PropagateEmptyRelation::new()),
        Arc::new(FilterNullJoinKeys::default()),
        Arc::new(EliminateOuterJoin::new()),
        Arc::new(PushDownFilter::new()),
        Arc::new(EliminateGroupByConstant::new()),
        Arc::new(CommonSubexprEliminate::new()),
        Arc::new(OptimizeProjections::new()),
    ]
}

/// A query (already through the statement rewrites of `planner::rewrite`) planned as SELECT
/// plans it, with the names Postgres gives its output columns.
pub async fn logical_plan(ctx: &Arc<PlanningContext>, query: &Query) -> Result<(SessionState, LogicalPlan, Vec<String>)> {
    let mut query = Box::new(query.clone());
    let names = crate::handler::query::prepare_output_names(&mut query);
    let stmt = Statement::Query(query);
    let state = ctx.session_state();
    let plan = state.statement_to_plan(DfStatement::Statement(Box::new(stmt))).await?;
    let plan = tributary_expr::pg::rewrite_plan(plan)?;
    let analyzed = state.analyzer().execute_and_check(plan, state.config_options(), |_, _| {})?;
    let fields = analyzed.schema().fields();
    let names: Vec<String> = match names.filter(|n| n.len() == fields.len()) {
        Some(n) => n.into_iter().zip(fields.iter()).map(|(n, f)| n.unwrap_or_else(|| f.name().clone())).collect(),
        None => fields.iter().map(|f| f.name().clone()).collect(),
    };
    Ok((state, analyzed, names))
}

/// Plans `query` as a materialized view.
pub async fn plan_materialized_view(ctx: &Arc<PlanningContext>, query: &Query, parallelism: u32) -> Result<StreamPlan> {
    let (state, analyzed, names) = logical_plan(ctx, query).await?;
    check_names(&names)?;
    let analyzed = table_function::inline_table_functions(&state, analyzed).await?;
    let joined = subquery::scalar_subqueries_to_joins(analyzed)?;
    let optimized = Optimizer::with_rules(stream_rules()).optimize(joined, &state, |_, _| {})?;
    let mut cv = Converter::new(&state);
    let top = cv.convert(&optimized)?;
    let root = output_layout(&mut cv, top, &optimized)?;
    let root = materialize(&mut cv, root, &names)?;
    let graph = fragmenter::build_graph(&root, cv.ids.state_tables(), parallelism)?;
    let dist_key = graph.fragments.iter().find(|f| f.fragment_id == 1).map(|f| f.dist_key.clone()).unwrap_or_default();
    let columns = column_descs(&root, &names)?;
    Ok(StreamPlan {
        pk: root.stream_key.iter().map(|k| *k as u32).collect(),
        dist_key,
        columns,
        graph,
        root,
        dependent_relations: ctx.references(),
        expr_names: vec![],
    })
}

/// How an index stores the rows of the relation it indexes, as positions in `query`'s output.
#[derive(Debug, Clone)]
pub struct IndexLayout {
    /// The index key: columns and whether each is descending.
    pub key: Vec<(usize, bool)>,
    /// The indexed relation's primary key: appended to the index key, it makes rows unique.
    pub upstream_pk: Vec<usize>,
    /// Distribution key (the first key column unless DISTRIBUTED BY says otherwise).
    pub dist_key: Vec<usize>,
}

/// Plans an index: `query` reads the indexed relation's columns the index stores (a plain
/// `SELECT cols FROM relation`); its rows are materialized keyed and distributed by `layout`.
pub async fn plan_index(ctx: &Arc<PlanningContext>, query: &Query, layout: &IndexLayout, parallelism: u32) -> Result<StreamPlan> {
    let (state, analyzed, names) = logical_plan(ctx, query).await?;
    check_names(&names)?;
    // Expression columns are named as a batch query's filters show the same expression: the
    // batch optimizer's version of the projection.
    let projected = |plan: &LogicalPlan| match plan {
        LogicalPlan::Projection(p) if p.expr.len() == names.len() => Some(
            p.expr
                .iter()
                .map(|e| match e.clone().unalias() {
                    datafusion::logical_expr::Expr::Column(_) => None,
                    other => Some(crate::planner::key_range::expr_name(&other)),
                })
                .collect::<Vec<_>>(),
        ),
        _ => None,
    };
    let batch = state.optimize(&analyzed).ok();
    let expr_names = batch
        .as_ref()
        .and_then(projected)
        .or_else(|| projected(&analyzed))
        .unwrap_or_else(|| vec![None; names.len()]);
    let optimized = Optimizer::with_rules(stream_rules()).optimize(analyzed, &state, |_, _| {})?;
    let mut cv = Converter::new(&state);
    let top = cv.convert(&optimized)?;
    let root = output_layout(&mut cv, top, &optimized)?;
    if root.columns.len() != names.len() {
        return Err(FrontendError::Internal("an index stores columns it does not select".into()));
    }
    let root = materialize_index(&mut cv, root, &names, layout)?;
    let graph = fragmenter::build_graph(&root, cv.ids.state_tables(), parallelism)?;
    let columns = column_descs(&root, &names)?;
    Ok(StreamPlan {
        pk: root.stream_key.iter().map(|k| *k as u32).collect(),
        dist_key: layout.dist_key.iter().map(|c| *c as u32).collect(),
        columns,
        graph,
        root,
        dependent_relations: ctx.references(),
        expr_names,
    })
}

/// The index's Materialize: rows hashed by the distribution key, stored in index key order.
fn materialize_index(cv: &mut Converter, input: PlanNode, names: &[String], layout: &IndexLayout) -> Result<PlanNode> {
    let input = enforce(&mut cv.ids, input, Required::ExactHash(layout.dist_key.clone()));
    let mut pk: Vec<ColumnOrder> = Vec::new();
    for &(column, descending) in &layout.key {
        if !pk.iter().any(|o| o.column as usize == column) {
            pk.push(ColumnOrder { column: column as u32, descending, nulls_first: descending });
        }
    }
    for &column in &layout.upstream_pk {
        if !pk.iter().any(|o| o.column as usize == column) {
            pk.push(ColumnOrder { column: column as u32, descending: false, nulls_first: false });
        }
    }
    let key: Vec<usize> = pk.iter().map(|o| o.column as usize).collect();
    let mut columns: Vec<PlanColumn> = input.columns.clone();
    for (c, name) in columns.iter_mut().zip(names) {
        c.display = name.clone();
    }
    let order: Vec<String> =
        pk.iter().map(|o| format!("{}{}", names[o.column as usize], if o.descending { " DESC" } else { "" })).collect();
    let identity = Identity::new("StreamMaterialize")
        .attr("columns", Identity::list(names))
        .attr("pk", Identity::list(order));
    let dist = input.dist.clone();
    let append_only = input.append_only;
    let body = PbBody::Materialize(MaterializeNode {
        table_id: 0,
        pk,
        dist_key: layout.dist_key.iter().map(|c| *c as u32).collect(),
    });
    Ok(node(&mut cv.ids, body, vec![input], columns, key, dist, append_only, identity))
}

fn check_names(names: &[String]) -> Result<()> {
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(FrontendError::sql("42701", format!("column \"{n}\" specified more than once")));
        }
    }
    Ok(())
}

/// The query's columns first, in order, then the hidden columns of the stream key; nothing else.
fn output_layout(cv: &mut Converter, top: PlanNode, plan: &LogicalPlan) -> Result<PlanNode> {
    let positions = Converter::positions(&top, plan.schema())?;
    let mut keep = positions.clone();
    union_keys(&mut keep, top.stream_key.iter().copied());
    if keep == (0..top.columns.len()).collect::<Vec<_>>() {
        return Ok(top);
    }
    let mut items = Vec::with_capacity(keep.len());
    for (i, p) in keep.iter().enumerate() {
        let col = if i < positions.len() { Converter::logical_column(plan.schema(), i)? } else { top.columns[*p].clone() };
        items.push((column_ref(&top, *p), col));
    }
    cv.project(top, items)
}

fn materialize(cv: &mut Converter, input: PlanNode, names: &[String]) -> Result<PlanNode> {
    let req = if input.stream_key.is_empty() || input.dist == Distribution::Single {
        Required::Single
    } else {
        Required::HashOn(input.stream_key.clone())
    };
    let input = enforce(&mut cv.ids, input, req);
    let pk: Vec<ColumnOrder> =
        input.stream_key.iter().map(|k| ColumnOrder { column: *k as u32, descending: false, nulls_first: false }).collect();
    // The view's columns show under its names.
    let mut columns: Vec<PlanColumn> = input.columns.clone();
    for (c, name) in columns.iter_mut().zip(names) {
        c.display = name.clone();
    }
    let shown: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| if i < names.len() { c.display.clone() } else { format!("{}(hidden)", c.display) })
        .collect();
    let identity = Identity::new("StreamMaterialize").attr("columns", Identity::list(shown));
    let (key, dist) = (input.stream_key.clone(), input.dist.clone());
    let append_only = input.append_only;
    let dist_key = match &dist {
        Distribution::Hash(k) | Distribution::UpstreamHash(k, _) => k.iter().map(|c| *c as u32).collect(),
        _ => vec![],
    };
    let body = PbBody::Materialize(MaterializeNode { table_id: 0, pk, dist_key });
    Ok(node(&mut cv.ids, body, vec![input], columns, key, dist, append_only, identity))
}

/// Catalog columns of the view: hidden ones named after what they hold, made unique.
fn column_descs(root: &PlanNode, names: &[String]) -> Result<Vec<ColumnDesc>> {
    let mut taken: Vec<String> = names.to_vec();
    let mut out = Vec::with_capacity(root.columns.len());
    for (i, c) in root.columns.iter().enumerate() {
        let hidden = i >= names.len();
        let name = if hidden {
            let base = plan::column_name_of(&c.display).to_string();
            let mut name = base.clone();
            let mut n = 0;
            while taken.contains(&name) {
                n += 1;
                name = format!("{base}#{n}");
            }
            taken.push(name.clone());
            name
        } else {
            names[i].clone()
        };
        out.push(ColumnDesc {
            column_id: i as u32,
            name,
            data_type: Some(sql_type(&c.data_type)?.to_protobuf()),
            not_null: false,
            hidden,
            default_expr: None,
        });
    }
    Ok(out)
}
