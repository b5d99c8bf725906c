//! System catalogs: pg_catalog and information_schema tables computed from the catalog snapshot.

use std::sync::Arc;

use datafusion::datasource::TableProvider;
use datafusion::error::Result as DfResult;

use crate::planner::PlanningContext;

/// The system table `schema.name`, if there is one.
pub fn table(_ctx: &PlanningContext, _schema: &str, _name: &str) -> DfResult<Option<Arc<dyn TableProvider>>> {
    Ok(None)
}

#[cfg(test)]
mod probe;
