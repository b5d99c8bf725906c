//! A table of the catalog as DataFusion sees it: scans read a committed epoch from the compute
//! node that owns the table.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};
use futures::StreamExt;
use tributary_common::chunk::batch_from_ipc;
use tributary_proto::catalog::TableType as RelationType;
use tributary_proto::compute::{ScanRange, ScanRequest};

use super::key_range::{column_conditions, is_key_condition, key_scan, KeyColumn, KeyDist, KeyScan};
use crate::catalog::TableCatalog;
use crate::compute_client::ComputeClientPool;

/// An index of a table or materialized view, and the node that stores it.
pub struct IndexOf {
    pub index: Arc<TableCatalog>,
    pub compute_addr: Option<String>,
}

/// The stored key of a relation (table, materialized view or index) and how its rows are
/// spread over vnodes, for key-range scans.
pub fn stored_key(t: &TableCatalog) -> (Vec<KeyColumn>, KeyDist) {
    let table = &t.table;
    let pk: Vec<usize> = table.pk_indices.iter().map(|i| *i as usize).collect();
    let key = pk
        .iter()
        .enumerate()
        .map(|(n, i)| KeyColumn {
            name: table.columns[*i].name.clone(),
            data_type: t.schema.types[*i].clone(),
            descending: table.pk_descending.get(n).copied().unwrap_or(false),
        })
        .collect();
    let is_table = matches!(RelationType::try_from(table.table_type), Ok(RelationType::Table | RelationType::Unspecified));
    let dist = if is_table {
        // A table's writer hashes the whole primary key (`compute::table::writer`).
        KeyDist::Key((0..pk.len()).collect())
    } else if table.dist_key.is_empty() {
        // A view or an index without a distribution key keeps every row in one vnode.
        KeyDist::Single
    } else {
        table
            .dist_key
            .iter()
            .map(|d| pk.iter().position(|p| *p == *d as usize))
            .collect::<Option<Vec<_>>>()
            .map_or(KeyDist::Other, KeyDist::Key)
    };
    (key, dist)
}

/// What a scan reads: the relation itself or one of its indexes, whole or a key range.
struct ScanChoice {
    name: String,
    table_id: u32,
    columns: Vec<u32>,
    compute_addr: Option<String>,
    /// For EXPLAIN: the indexed relation when reading an index, and the range's conditions.
    index_of: Option<String>,
    scan: Option<KeyScan>,
}

/// How a table is read: at which epoch, from where, and which columns are visible.
pub struct RemoteTable {
    pub table: Arc<TableCatalog>,
    /// Table column index of each column this provider exposes.
    pub columns: Vec<usize>,
    pub schema: SchemaRef,
    pub epoch: u64,
    pub compute_addr: Option<String>,
    pub clients: Arc<ComputeClientPool>,
    pub defaults: HashMap<String, Expr>,
    /// Indexes a scan may read instead (every one stores all the relation's columns it reads).
    pub indexes: Vec<IndexOf>,
}

impl RemoteTable {
    /// The cheapest way to read `table_columns` under `filters`: a key range of the relation
    /// or of a covering index when the filters bound a key's leading columns (the relation
    /// wins ties), else the whole relation.
    fn choose(&self, table_columns: Vec<u32>, filters: &[Expr]) -> DfResult<ScanChoice> {
        let whole = |scan| ScanChoice {
            name: self.table.table.name.clone(),
            table_id: self.table.table.id,
            columns: table_columns.clone(),
            compute_addr: self.compute_addr.clone(),
            index_of: None,
            scan,
        };
        if filters.is_empty() {
            return Ok(whole(None));
        }
        let conds = column_conditions(filters);
        if conds.is_empty() {
            return Ok(whole(None));
        }
        let err = |e: crate::error::FrontendError| DataFusionError::External(Box::new(e));
        let (key, dist) = stored_key(&self.table);
        let mut best = whole(key_scan(&key, &dist, &conds).map_err(err)?);
        for ix in &self.indexes {
            let index = &ix.index.table;
            let names: Vec<&str> = table_columns.iter().map(|c| self.table.table.columns[*c as usize].name.as_str()).collect();
            let Some(columns) = names
                .iter()
                .map(|n| index.columns.iter().position(|c| c.name == *n).map(|p| p as u32))
                .collect::<Option<Vec<u32>>>()
            else {
                continue;
            };
            let (key, dist) = stored_key(&ix.index);
            let Some(scan) = key_scan(&key, &dist, &conds).map_err(err)? else { continue };
            if best.scan.as_ref().is_none_or(|b| scan.score() > b.score()) {
                best = ScanChoice {
                    name: index.name.clone(),
                    table_id: index.id,
                    columns,
                    compute_addr: ix.compute_addr.clone(),
                    index_of: Some(self.table.table.name.clone()),
                    scan: Some(scan),
                };
            }
        }
        Ok(best)
    }
}

impl fmt::Debug for RemoteTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemoteTable({})", self.table.table.name)
    }
}

#[async_trait]
impl TableProvider for RemoteTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn get_column_default(&self, column: &str) -> Option<&Expr> {
        self.defaults.get(column)
    }

    /// Conditions on columns go down as `Inexact`: they may narrow the scan to a key range,
    /// and DataFusion still applies them to what the scan returns.
    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if is_key_condition(f) {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let local: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.columns.len()).collect(),
        };
        let table_columns: Vec<u32> = local.iter().map(|i| self.columns[*i] as u32).collect();
        let schema = Arc::new(self.schema.project(&local)?);
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        let choice = self.choose(table_columns, filters)?;
        let (ranges, shown) = match choice.scan {
            Some(s) => (s.ranges, s.shown),
            None => (vec![], vec![]),
        };
        Ok(Arc::new(RemoteScanExec {
            name: choice.name,
            table_id: choice.table_id,
            columns: choice.columns,
            epoch: self.epoch,
            compute_addr: choice.compute_addr,
            clients: self.clients.clone(),
            schema,
            properties: Arc::new(properties),
            index_of: choice.index_of,
            ranges,
            shown,
        }))
    }
}

pub struct RemoteScanExec {
    name: String,
    table_id: u32,
    columns: Vec<u32>,
    epoch: u64,
    compute_addr: Option<String>,
    clients: Arc<ComputeClientPool>,
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    index_of: Option<String>,
    /// Key ranges to read (empty: everything).
    ranges: Vec<ScanRange>,
    /// The conditions the ranges come from.
    shown: Vec<String>,
}

impl fmt::Debug for RemoteScanExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemoteScanExec({})", self.name)
    }
}

impl DisplayAs for RemoteScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        // No epoch: EXPLAIN output stays the same from one statement to the next.
        write!(f, "TableScan: {}", self.name)?;
        if let Some(of) = &self.index_of {
            write!(f, " (index of {of})")?;
        }
        if !self.shown.is_empty() {
            write!(f, " range=[{}]", self.shown.join(" AND "))?;
        }
        write!(f, " columns={:?}", self.columns)
    }
}

impl ExecutionPlan for RemoteScanExec {
    fn name(&self) -> &str {
        "RemoteScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn datafusion::physical_plan::PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, _children: Vec<Arc<dyn ExecutionPlan>>) -> DfResult<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(&self, partition: usize, _context: Arc<TaskContext>) -> DfResult<SendableRecordBatchStream> {
        if partition != 0 {
            return Err(DataFusionError::Internal(format!("no partition {partition}")));
        }
        let addr = self.compute_addr.clone().ok_or_else(|| {
            DataFusionError::Execution(format!("the compute node holding table \"{}\" is not available", self.name))
        })?;
        let mut client = self.clients.batch(&addr).map_err(|e| DataFusionError::External(Box::new(e)))?;
        let request = ScanRequest {
            table_id: self.table_id,
            epoch: self.epoch,
            columns: self.columns.clone(),
            projected: true,
            ranges: self.ranges.clone(),
        };
        let schema = self.schema.clone();
        let name = self.name.clone();
        let stream = futures::stream::once(async move {
            client
                .scan(request)
                .await
                .map_err(|s| DataFusionError::Execution(format!("scan of \"{name}\" failed: {}", s.message())))
        })
        .flat_map(move |resp| {
            let schema = schema.clone();
            match resp {
                Ok(r) => r
                    .into_inner()
                    .map(move |msg| {
                        let msg = msg.map_err(|s| DataFusionError::Execution(format!("scan failed: {}", s.message())))?;
                        let batch = batch_from_ipc(&msg.batch).map_err(|e| DataFusionError::External(Box::new(e)))?;
                        // The compute node sends the table's field names; align them with the plan.
                        arrow::array::RecordBatch::try_new_with_options(
                            schema.clone(),
                            batch.columns().to_vec(),
                            &arrow::array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
                        )
                        .map_err(DataFusionError::from)
                    })
                    .boxed(),
                Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream)))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::logical_expr::{col, lit};
    use tributary_common::catalog::{ColumnDesc, Table, TableSchema};
    use tributary_common::types::DataType;

    use super::*;

    fn column(id: u32, name: &str, ty: DataType) -> ColumnDesc {
        ColumnDesc {
            column_id: id,
            name: name.into(),
            data_type: Some(ty.to_protobuf()),
            not_null: false,
            hidden: false,
            default_expr: None,
        }
    }

    fn catalog(table: Table) -> Arc<TableCatalog> {
        let schema = TableSchema::of(&table).expect("schema");
        Arc::new(TableCatalog { table, schema })
    }

    fn index(id: u32, name: &str, columns: Vec<ColumnDesc>, pk: Vec<u32>, desc: Vec<bool>) -> IndexOf {
        let table = Table {
            id,
            name: name.into(),
            columns,
            pk_indices: pk,
            pk_descending: desc,
            dist_key: vec![0],
            table_type: RelationType::Index as i32,
            index_on: 1,
            ..Default::default()
        };
        IndexOf { index: catalog(table), compute_addr: None }
    }

    /// t1 (a int primary key, b int, c varchar); i_b on (b DESC) storing every column, i_c on
    /// (c) storing only a.
    fn t1() -> RemoteTable {
        let (a, b, c) = (column(0, "a", DataType::Int32), column(1, "b", DataType::Int32), column(2, "c", DataType::Varchar));
        let table = Table {
            id: 1,
            name: "t1".into(),
            columns: vec![a.clone(), b.clone(), c.clone()],
            pk_indices: vec![0],
            table_type: RelationType::Table as i32,
            ..Default::default()
        };
        let table = catalog(table);
        let schema = table.schema.arrow.clone();
        RemoteTable {
            table,
            columns: vec![0, 1, 2],
            schema,
            epoch: 0,
            compute_addr: None,
            clients: Arc::new(ComputeClientPool::default()),
            defaults: HashMap::new(),
            indexes: vec![
                index(2, "i_b", vec![b, a.clone(), c.clone()], vec![0, 1], vec![true, false]),
                index(3, "i_c", vec![c, a], vec![0, 1], vec![false, false]),
            ],
        }
    }

    fn chosen(columns: Vec<u32>, filters: &[Expr]) -> (String, Vec<u32>, Vec<String>, Option<u32>) {
        let c = t1().choose(columns, filters).expect("choose");
        let (shown, vnode) = c.scan.map(|s| (s.shown, s.ranges[0].vnode)).unwrap_or_default();
        (c.name, c.columns, shown, vnode)
    }

    #[test]
    fn indexes_serve_predicates_on_their_leading_columns() {
        let (name, columns, shown, vnode) = chosen(vec![0, 1, 2], &[col("b").eq(lit(5))]);
        assert_eq!((name.as_str(), columns, shown), ("i_b", vec![1, 0, 2], vec!["b = 5".to_string()]));
        // The distribution key (b) is fixed: one vnode.
        assert!(vnode.is_some());
        let (name, _, shown, vnode) = chosen(vec![0, 1], &[col("b").gt(lit(5)).and(col("c").eq(lit("x")))]);
        assert_eq!((name.as_str(), shown), ("i_b", vec!["b > 5".to_string()]));
        assert_eq!(vnode, None);
    }

    #[test]
    fn the_most_selective_key_wins_and_uncovering_indexes_are_skipped() {
        // An equality on the table's key beats a range on the index's.
        let (name, _, shown, _) = chosen(vec![0, 1, 2], &[col("a").eq(lit(1)), col("b").gt(lit(2))]);
        assert_eq!((name.as_str(), shown), ("t1", vec!["a = 1".to_string()]));
        // The index key (b, a) fixes two columns.
        let (name, _, shown, _) = chosen(vec![0, 1, 2], &[col("a").eq(lit(1)), col("b").eq(lit(2))]);
        assert_eq!((name.as_str(), shown.len()), ("i_b", 2));
        // i_c lacks b.
        let (name, _, shown, _) = chosen(vec![0, 1, 2], &[col("c").eq(lit("x"))]);
        assert_eq!((name.as_str(), shown.len()), ("t1", 0));
        let (name, columns, _, _) = chosen(vec![2, 0], &[col("c").eq(lit("x"))]);
        assert_eq!((name.as_str(), columns), ("i_c", vec![0, 1]));
        // Nothing bounds a key: the whole relation.
        let (name, _, shown, _) = chosen(vec![0], &[col("b").not_eq(lit(1))]);
        assert_eq!((name.as_str(), shown.len()), ("t1", 0));
    }
}
