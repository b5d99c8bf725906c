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
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};
use futures::StreamExt;
use tributary_common::chunk::batch_from_ipc;
use tributary_proto::compute::ScanRequest;

use crate::catalog::TableCatalog;
use crate::compute_client::ComputeClientPool;

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

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
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
        Ok(Arc::new(RemoteScanExec {
            name: self.table.table.name.clone(),
            table_id: self.table.table.id,
            columns: table_columns,
            epoch: self.epoch,
            compute_addr: self.compute_addr.clone(),
            clients: self.clients.clone(),
            schema,
            properties: Arc::new(properties),
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
}

impl fmt::Debug for RemoteScanExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemoteScanExec({})", self.name)
    }
}

impl DisplayAs for RemoteScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "TableScan: {} epoch={} columns={:?}", self.name, self.epoch, self.columns)
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
        let request = ScanRequest { table_id: self.table_id, epoch: self.epoch, columns: self.columns.clone(), projected: true };
        let schema = self.schema.clone();
        let name = self.name.clone();
        let stream = futures::stream::once(async move {
            client.scan(request).await.map_err(|s| {
                DataFusionError::Execution(format!("scan of \"{name}\" failed: {}", s.message()))
            })
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
