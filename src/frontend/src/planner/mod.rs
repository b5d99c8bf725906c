//! Planning with DataFusion: the catalog as DataFusion sees it (databases → schemas → tables,
//! with Postgres' search_path) and a session state per statement bound to one epoch.

pub mod key_range;
pub mod provider;
pub mod rewrite;
pub mod table;
pub mod function;
pub mod view;

use std::sync::Arc;

use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use tributary_common::catalog::Database;

use crate::catalog::observer::MetaObserver;
use crate::catalog::CatalogSnapshot;
use crate::compute_client::ComputeClientPool;
pub use provider::SEARCH_PATH_SCHEMA;

/// Everything a statement's planning needs to resolve names and read data.
pub struct PlanningContext {
    pub catalog: Arc<CatalogSnapshot>,
    pub database: Database,
    /// Schemas searched for unqualified names, in order (after pg_catalog).
    pub search_path: Vec<String>,
    /// The committed epoch every table is read at.
    pub epoch: u64,
    /// Whether tables expose their hidden columns (the row id), for UPDATE and DELETE.
    pub include_hidden: bool,
    /// Where owners of tables are looked up; `None` in tests without a cluster (scans then
    /// fail at run time, planning works).
    pub observer: Option<Arc<MetaObserver>>,
    pub clients: Arc<ComputeClientPool>,
    pub base: Arc<SessionState>,
    pub user: String,
    /// The session's TimeZone: DataFusion reads it for now() and time zone dependent casts.
    pub time_zone: String,
    /// Every session variable (name, value), for current_setting().
    pub settings: Vec<(String, String)>,
    /// Ids of the catalog relations this statement's names resolved to (tables, materialized
    /// views, views), in order of first reference: the dependencies of a view or MV.
    pub referenced: parking_lot::Mutex<Vec<u32>>,
    /// How many views deep this context plans (a view's query is planned in a context of its
    /// own); bounds the expansion of views over views.
    pub view_depth: u32,
}

impl PlanningContext {
    /// The context a view's query is planned in: names resolve through the view's schema
    /// first; references are the view's own.
    pub fn for_view(&self, search_path: Vec<String>) -> Arc<PlanningContext> {
        Arc::new(PlanningContext {
            catalog: self.catalog.clone(),
            database: self.database.clone(),
            search_path,
            epoch: self.epoch,
            include_hidden: false,
            observer: self.observer.clone(),
            clients: self.clients.clone(),
            base: self.base.clone(),
            user: self.user.clone(),
            time_zone: self.time_zone.clone(),
            settings: self.settings.clone(),
            referenced: Default::default(),
            view_depth: self.view_depth + 1,
        })
    }

    pub fn record_reference(&self, id: u32) {
        let mut refs = self.referenced.lock();
        if !refs.contains(&id) {
            refs.push(id);
        }
    }

    pub fn references(&self) -> Vec<u32> {
        self.referenced.lock().clone()
    }

    /// A DataFusion session state whose catalog is this context's view of the catalog.
    ///
    /// A clone of the base state, adjusted: building a state afresh registers every function
    /// again, which cost more than planning a small statement.
    pub fn session_state(self: &Arc<Self>) -> SessionState {
        let mut state = (*self.base).clone();
        {
            let options = state.config_mut().options_mut();
            options.catalog.default_catalog = self.database.name.clone();
            options.catalog.default_schema = SEARCH_PATH_SCHEMA.to_string();
            options.catalog.create_default_catalog_and_schema = false;
            options.execution.time_zone = Some(self.time_zone.clone());
        }
        state.register_catalog_list(Arc::new(provider::CatalogList { ctx: self.clone() }));
        // current_schema(), pg_table_is_visible(), ::regclass, ... read this statement's catalog.
        if let Err(e) = crate::catalog::system::install_into(&mut state, self) {
            tracing::error!(error = %e, "registering the session's catalog functions failed");
        }
        // now() and friends read the statement's start time.
        state.mark_start_execution();
        state
    }
}

/// The session state every statement starts from: Postgres-flavoured options and functions.
pub fn base_session_state() -> SessionState {
    let builder = SessionStateBuilder::new().with_config(tributary_expr::session_config()).with_default_features();
    crate::catalog::system::install(tributary_expr::install(builder)).build()
}
