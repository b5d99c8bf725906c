//! DataFusion's optimized logical plan → stream plan nodes. Each logical node becomes operators
//! whose output carries the logical node's columns (found by qualified name) plus hidden
//! columns that keep the stream key; the operator-specific parts live in the sibling modules.

use std::sync::Arc;

use arrow::array::{new_empty_array, ArrayRef, Int64Array, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType as ArrowType, Field as ArrowField, Schema};
use datafusion::common::DFSchema;
use datafusion::datasource::source_as_provider;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{Distinct, Expr, ExprSchemable, Filter, LogicalPlan, Projection, SubqueryAlias, TableScan};
use tributary_proto::catalog::TableType;
use tributary_proto::stream_plan::{stream_node::Body as PbBody, FilterNode, ProjectNode, StreamScanNode, ValuesNode};

use super::expr::{as_column, column_ref, display_over, physical};
use super::keys::through;
use super::plan::{canonical_type, node, Distribution, Identity, Ids, PlanColumn, PlanNode};
use super::{agg, join, set, top_n, window};
use crate::error::{FrontendError, Result};
use crate::planner::table::RemoteTable;

pub struct Converter<'a> {
    pub state: &'a SessionState,
    pub ids: Ids,
}

impl<'a> Converter<'a> {
    pub fn new(state: &'a SessionState) -> Self {
        Converter { state, ids: Ids::default() }
    }

    pub fn convert(&mut self, plan: &LogicalPlan) -> Result<PlanNode> {
        match plan {
            LogicalPlan::TableScan(scan) => self.table_scan(scan),
            LogicalPlan::Projection(p) => self.projection(p),
            LogicalPlan::Filter(f) => self.filter(f),
            LogicalPlan::SubqueryAlias(a) => self.subquery_alias(a),
            LogicalPlan::Aggregate(a) => agg::aggregate(self, a),
            LogicalPlan::Distinct(Distinct::All(input)) => agg::distinct(self, input),
            LogicalPlan::Join(j) => join::join(self, j, None),
            LogicalPlan::Union(u) => set::union(self, u),
            LogicalPlan::Sort(s) => top_n::sort(self, s),
            LogicalPlan::Limit(l) => top_n::limit(self, l),
            LogicalPlan::Window(w) => window::over_window(self, w),
            LogicalPlan::Unnest(u) => set::unnest(self, u),
            LogicalPlan::Values(v) => self.values(&v.schema, &v.values),
            LogicalPlan::EmptyRelation(e) => {
                let rows = if e.produce_one_row { vec![vec![]] } else { vec![] };
                self.values(&e.schema, &rows)
            }
            LogicalPlan::Subquery(_) => Err(FrontendError::not_supported(
                "this subquery in a materialized view (it could not be turned into a join)",
            )),
            other => Err(FrontendError::not_supported(format!(
                "{} in a materialized view",
                other.display().to_string().split(':').next().unwrap_or("this operator")
            ))),
        }
    }

    /// A column of the logical plan's output schema `schema` at `i`.
    pub fn logical_column(schema: &DFSchema, i: usize) -> Result<PlanColumn> {
        let (q, f) = schema.qualified_field(i);
        Ok(PlanColumn {
            display: match q {
                Some(q) => format!("{q}.{}", f.name()),
                None => f.name().clone(),
            },
            qualifier: q.cloned(),
            name: f.name().clone(),
            data_type: canonical_type(f.data_type())?,
            hidden: false,
        })
    }

    /// Output positions in `node` of every column of the logical schema `schema`.
    pub fn positions(node: &PlanNode, schema: &DFSchema) -> Result<Vec<usize>> {
        schema.columns().iter().map(|c| node.position(c)).collect()
    }

    /// Renames the columns of `node` at `positions` to the columns of `schema` (the logical
    /// node that passes them through under new names); every other column becomes hidden.
    /// Operators keep showing their columns as they were.
    pub fn rename(&mut self, mut node: PlanNode, positions: &[usize], schema: &DFSchema) -> Result<PlanNode> {
        let mut renamed = vec![false; node.columns.len()];
        let mut columns = node.columns.clone();
        for (i, p) in positions.iter().enumerate() {
            if renamed[*p] {
                // The same column under two names: a projection has to copy it.
                let exprs: Vec<Expr> = schema.columns().iter().map(|c| Expr::Column(c.clone())).collect();
                return self.project_logical(node, &exprs, schema);
            }
            renamed[*p] = true;
            let mut c = Self::logical_column(schema, i)?;
            c.display = columns[*p].display.clone();
            columns[*p] = c;
        }
        for (i, c) in columns.iter_mut().enumerate() {
            if !renamed[i] && !c.hidden {
                *c = self.ids.hidden(&c.display.clone(), c.data_type.clone());
            }
        }
        node.columns = columns;
        Ok(node)
    }

    fn table_scan(&mut self, scan: &TableScan) -> Result<PlanNode> {
        let provider = source_as_provider(&scan.source)?;
        let Some(remote) = provider.as_ref().downcast_ref::<RemoteTable>() else {
            return Err(FrontendError::not_supported(format!(
                "reading {} in a materialized view (only tables, materialized views and views)",
                scan.table_name
            )));
        };
        let table = &remote.table.table;
        let kind = TableType::try_from(table.table_type).unwrap_or(TableType::Table);
        if !matches!(kind, TableType::Table | TableType::Unspecified | TableType::MaterializedView) {
            return Err(FrontendError::not_supported(format!("reading {} in a materialized view", table.name)));
        }
        if scan.fetch.is_some() {
            return Err(FrontendError::Internal("a table scan with a limit in a stream plan".into()));
        }
        let projection: Vec<usize> = match &scan.projection {
            Some(p) => p.clone(),
            None => (0..remote.columns.len()).collect(),
        };
        let mut output: Vec<u32> = projection.iter().map(|i| remote.columns[*i] as u32).collect();
        let mut columns = (0..projection.len())
            .map(|i| Self::logical_column(&scan.projected_schema, i))
            .collect::<Result<Vec<_>>>()?;
        let is_mv = kind == TableType::MaterializedView;
        // A table is distributed by its pk; a materialized view by its dist_key, where empty
        // means all rows in one vnode: only a singleton may read it.
        let dist_cols: Vec<u32> = if table.dist_key.is_empty() && !is_mv { table.pk_indices.clone() } else { table.dist_key.clone() };
        // The upstream's key and distribution columns always flow: they are the stream key, and
        // keep rows of one key on one actor.
        for c in table.pk_indices.iter().chain(&dist_cols) {
            if !output.contains(c) {
                output.push(*c);
                let col = &table.columns[*c as usize];
                let ty = remote.table.schema.types[*c as usize].to_arrow();
                columns.push(self.ids.hidden(&format!("{}.{}", scan.table_name, col.name), ty));
            }
        }
        let pos = |c: &u32| output.iter().position(|o| o == c).unwrap_or_default();
        let stream_key: Vec<usize> = table.pk_indices.iter().map(pos).collect();
        let dist_key: Vec<usize> = dist_cols.iter().map(pos).collect();
        let upstream_fields = table
            .columns
            .iter()
            .zip(&remote.table.schema.types)
            .map(|(c, t)| tributary_proto::stream_plan::Field { name: c.name.clone(), data_type: Some(t.to_protobuf()) })
            .collect();
        let body = PbBody::StreamScan(StreamScanNode {
            table_id: table.id,
            upstream_fields,
            upstream_pk: table.pk_indices.clone(),
            output_indices: output.clone(),
            progress_table: Some(self.ids.state_table()),
            upstream_dist_key: dist_cols.clone(),
            upstream_pk_descending: table.pk_descending.clone(),
        });
        let identity = Identity::new("StreamTableScan")
            .attr("table", table.name.clone())
            .attr("columns", Identity::list(output.iter().map(|c| table.columns[*c as usize].name.clone())));
        let dist = if dist_key.is_empty() {
            Distribution::Single
        } else if table.pk_descending.iter().any(|d| *d) {
            // Its vnodes hash a key encoded in descending order, which no exchange reproduces.
            Distribution::Any
        } else {
            Distribution::UpstreamHash(dist_key, table.id)
        };
        // `scan.filters` are only hints for batch key-range scans (`RemoteTable` takes them as
        // Inexact): the Filter above the scan still applies them.
        Ok(node(&mut self.ids, body, vec![], columns, stream_key, dist, false, identity))
    }

    fn projection(&mut self, p: &Projection) -> Result<PlanNode> {
        let input = self.convert(&p.input)?;
        self.project_logical(input, &p.expr, &p.schema)
    }

    /// The logical projection `exprs` (output schema `schema`) over `input`.
    pub fn project_logical(&mut self, input: PlanNode, exprs: &[Expr], schema: &DFSchema) -> Result<PlanNode> {
        // A projection that only renames (or reorders) columns, dropping none but hidden ones,
        // costs nothing: the input is the output.
        let sources: Vec<Option<usize>> =
            exprs.iter().map(|e| as_column(e).and_then(|c| input.position(c).ok())).collect();
        if sources.iter().all(|s| s.is_some()) {
            let positions: Vec<usize> = sources.iter().flatten().copied().collect();
            let mut distinct = positions.clone();
            distinct.sort_unstable();
            distinct.dedup();
            let mut same_types = true;
            for (i, p) in positions.iter().enumerate() {
                same_types &= canonical_type(schema.field(i).data_type())? == input.columns[*p].data_type;
            }
            let drops_only_hidden = input.columns.iter().enumerate().all(|(i, c)| c.hidden || positions.contains(&i));
            if distinct.len() == positions.len() && same_types && drops_only_hidden {
                return self.rename(input, &positions, schema);
            }
        }
        let mut items = Vec::with_capacity(exprs.len());
        for (i, e) in exprs.iter().enumerate() {
            items.push((e.clone(), Self::logical_column(schema, i)?));
        }
        self.project(input, items)
    }

    /// A projection computing `items` over `input`; the input's stream key columns missing
    /// from them are added as hidden columns.
    pub fn project(&mut self, input: PlanNode, mut items: Vec<(Expr, PlanColumn)>) -> Result<PlanNode> {
        let in_schema = input.df_schema()?;
        let mut sources: Vec<Option<usize>> =
            items.iter().map(|(e, _)| as_column(e).and_then(|c| input.position(c).ok())).collect();
        for k in &input.stream_key {
            if !sources.contains(&Some(*k)) {
                let c = &input.columns[*k];
                items.push((column_ref(&input, *k), self.ids.hidden(&c.display, c.data_type.clone())));
                sources.push(Some(*k));
            }
        }
        let mut exprs = Vec::with_capacity(items.len());
        let mut shown = Vec::with_capacity(items.len());
        let mut columns = Vec::with_capacity(items.len());
        for (e, mut col) in items {
            let ty = e.get_type(&in_schema)?;
            let want = canonical_type(&ty)?;
            let e = if ty != want { e.cast_to(&want, &in_schema)? } else { e };
            shown.push(display_over(&e, &input));
            exprs.push(physical(self.state, &e, &in_schema)?);
            col.data_type = want;
            columns.push(col);
        }
        let stream_key: Vec<usize> = input
            .stream_key
            .iter()
            .map(|k| sources.iter().position(|s| *s == Some(*k)).unwrap_or_default())
            .collect();
        let dist = through(&input.dist, &sources);
        let append_only = input.append_only;
        let identity = Identity::new("StreamProject").attr("exprs", Identity::list(shown));
        Ok(node(&mut self.ids, PbBody::Project(ProjectNode { exprs }), vec![input], columns, stream_key, dist, append_only, identity))
    }

    /// `input` with `exprs` available as columns: the output positions of each (existing columns
    /// for bare column references; the others appended by a projection).
    pub fn append_exprs(&mut self, input: PlanNode, exprs: &[Expr]) -> Result<(PlanNode, Vec<usize>)> {
        let mut positions = Vec::with_capacity(exprs.len());
        let mut extra: Vec<Expr> = Vec::new();
        for e in exprs {
            let e = super::expr::unalias(e);
            match as_column(e).and_then(|c| input.position(c).ok()) {
                Some(p) => positions.push(p),
                None => {
                    let at = match extra.iter().position(|x| x == e) {
                        Some(j) => j,
                        None => {
                            extra.push(e.clone());
                            extra.len() - 1
                        }
                    };
                    positions.push(input.columns.len() + at);
                }
            }
        }
        if extra.is_empty() {
            return Ok((input, positions));
        }
        let mut items: Vec<(Expr, PlanColumn)> = (0..input.columns.len())
            .map(|i| (column_ref(&input, i), input.columns[i].clone()))
            .collect();
        for e in extra {
            let col = self.ids.hidden(&super::expr::display_over(&e, &input), ArrowType::Null);
            items.push((e, col));
        }
        Ok((self.project(input, items)?, positions))
    }

    fn filter(&mut self, f: &Filter) -> Result<PlanNode> {
        if let Some(n) = window::group_top_n(self, f)? {
            return Ok(n);
        }
        if let LogicalPlan::Join(j) = f.input.as_ref() {
            if let Some(n) = join::dynamic_filter(self, j, Some(&f.predicate))? {
                return Ok(n);
            }
        }
        let input = self.convert(&f.input)?;
        self.filter_node(input, &f.predicate)
    }

    pub fn filter_node(&mut self, input: PlanNode, predicate: &Expr) -> Result<PlanNode> {
        let schema = input.df_schema()?;
        let pred = physical(self.state, predicate, &schema)?;
        let identity = Identity::new("StreamFilter").attr("predicate", display_over(predicate, &input));
        let (columns, key, dist, append_only) =
            (input.columns.clone(), input.stream_key.clone(), input.dist.clone(), input.append_only);
        Ok(node(
            &mut self.ids,
            PbBody::Filter(FilterNode { predicate: Some(pred) }),
            vec![input],
            columns,
            key,
            dist,
            append_only,
            identity,
        ))
    }

    fn subquery_alias(&mut self, a: &SubqueryAlias) -> Result<PlanNode> {
        let input = self.convert(&a.input)?;
        let positions = Self::positions(&input, a.input.schema())?;
        self.rename(input, &positions, &a.schema)
    }

    /// Constant rows, emitted once; a hidden row number keeps equal rows apart.
    fn values(&mut self, schema: &DFSchema, rows: &[Vec<Expr>]) -> Result<PlanNode> {
        let mut columns = (0..schema.fields().len()).map(|i| Self::logical_column(schema, i)).collect::<Result<Vec<_>>>()?;
        let one_row = RecordBatch::try_new_with_options(
            Arc::new(Schema::empty()),
            vec![],
            &RecordBatchOptions::new().with_row_count(Some(1)),
        )?;
        let empty = DFSchema::empty();
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len() + 1);
        let mut shown_rows = Vec::with_capacity(rows.len());
        for (c, col) in columns.iter().enumerate() {
            let mut parts: Vec<ArrayRef> = Vec::with_capacity(rows.len());
            for row in rows {
                let e = row.get(c).ok_or_else(|| FrontendError::Internal("VALUES row too short".into()))?;
                let phys = self.state.create_physical_expr(e.clone(), &empty)?;
                let v = phys.evaluate(&one_row)?.into_array(1)?;
                parts.push(arrow::compute::cast(&v, &col.data_type)?);
            }
            let refs: Vec<&dyn arrow::array::Array> = parts.iter().map(|a| a.as_ref()).collect();
            arrays.push(if refs.is_empty() { new_empty_array(&col.data_type) } else { arrow::compute::concat(&refs)? });
        }
        for row in rows {
            shown_rows.push(Identity::list(row.iter().map(super::expr::display)));
        }
        arrays.push(Arc::new(Int64Array::from_iter_values(0..rows.len() as i64)));
        let row_id = self.ids.hidden("_row_id", ArrowType::Int64);
        columns.push(row_id);
        let fields: Vec<ArrowField> =
            columns.iter().map(|c| ArrowField::new(&c.display, c.data_type.clone(), true)).collect();
        let batch = RecordBatch::try_new_with_options(
            Arc::new(Schema::new(fields)),
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(rows.len())),
        )?;
        let bytes = tributary_common::chunk::batch_to_ipc(&batch).map_err(|e| FrontendError::Internal(e.to_string()))?;
        let key = vec![columns.len() - 1];
        let identity = Identity::new("StreamValues").attr("rows", Identity::list(shown_rows));
        Ok(node(
            &mut self.ids,
            PbBody::Values(ValuesNode { batch: bytes }),
            vec![],
            columns,
            key,
            Distribution::Single,
            true,
            identity,
        ))
    }
}
