//! The stream plan tree: operators with their output columns, stream key and distribution,
//! and exchanges where the distribution changes. The fragmenter turns it into protobuf.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{DataType as ArrowType, Field as ArrowField};
use datafusion::common::{Column as DfColumn, DFSchema, DFSchemaRef, TableReference};
use tributary_common::types::DataType;
use tributary_proto::stream_plan::{stream_node, Field, StateTableRef};

use crate::error::{FrontendError, Result};

/// How the rows of an operator's output are spread over its actors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Distribution {
    /// One actor holds every row.
    Single,
    /// By vnode of these output columns.
    Hash(Vec<usize>),
    /// By vnode of these columns as the upstream table stores them: a single input may rely on
    /// it, but two inputs (join sides, union branches) never line up with it, which also keeps
    /// every scan in a fragment of its own.
    UpstreamHash(Vec<usize>, u32),
    /// Spread by no key the planner knows.
    Any,
    /// Every actor sees every row (the right side of a dynamic filter).
    Broadcast,
}

impl Distribution {
    /// The hash key, if rows are hash-distributed.
    pub fn hash_key(&self) -> Option<&[usize]> {
        match self {
            Distribution::Hash(k) | Distribution::UpstreamHash(k, _) => Some(k),
            _ => None,
        }
    }

    /// The distribution after columns move: `map[old] = new`; a key column that does not
    /// survive makes the distribution unknown.
    pub fn remap(&self, map: &HashMap<usize, usize>) -> Distribution {
        let remap_key = |k: &[usize]| k.iter().map(|c| map.get(c).copied()).collect::<Option<Vec<_>>>();
        match self {
            Distribution::Hash(k) => remap_key(k).map_or(Distribution::Any, Distribution::Hash),
            Distribution::UpstreamHash(k, t) => {
                remap_key(k).map_or(Distribution::Any, |k| Distribution::UpstreamHash(k, *t))
            }
            other => other.clone(),
        }
    }
}

/// What an exchange does with rows: the dispatcher of the upstream fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exchange {
    Hash(Vec<usize>),
    Simple,
    Broadcast,
    NoShuffle,
}

/// A column of an operator's output.
#[derive(Debug, Clone)]
pub struct PlanColumn {
    /// As EXPLAIN shows it (`t.a`, `count`).
    pub display: String,
    /// The name DataFusion expressions of the parent resolve: the logical plan's qualifier and
    /// name for the columns of the logical node; a unique made-up name for hidden columns.
    pub qualifier: Option<TableReference>,
    pub name: String,
    pub data_type: ArrowType,
    /// Not a column of the logical plan: carried for the stream key or distribution.
    pub hidden: bool,
}

impl PlanColumn {
    pub fn df_column(&self) -> DfColumn {
        DfColumn::new(self.qualifier.clone(), &self.name)
    }

    pub fn field(&self) -> Result<Field> {
        Ok(Field { name: self.display.clone(), data_type: Some(sql_type(&self.data_type)?.to_protobuf()) })
    }
}

/// The SQL type of an Arrow type, as the catalog and compute nodes see it.
pub fn sql_type(t: &ArrowType) -> Result<DataType> {
    DataType::from_arrow(t).map_err(|e| FrontendError::not_supported(format!("{e} in a materialized view")))
}

/// The Arrow type values of `t` have once stored: the planner casts to it where DataFusion
/// computes another flavour (NULL literals, nanosecond timestamps, small integers).
pub fn canonical_type(t: &ArrowType) -> Result<ArrowType> {
    Ok(sql_type(t)?.to_arrow())
}

#[derive(Debug, Clone)]
pub enum Body {
    Node(stream_node::Body),
    Exchange(Exchange),
}

#[derive(Debug, Clone)]
pub struct PlanNode {
    pub operator_id: u32,
    pub body: Body,
    pub inputs: Vec<PlanNode>,
    pub columns: Vec<PlanColumn>,
    /// Output columns that identify a row.
    pub stream_key: Vec<usize>,
    pub dist: Distribution,
    pub append_only: bool,
    /// The operator as EXPLAIN prints it: a name and its attributes.
    pub identity: Identity,
}

/// `Name { attr: value, ... }`.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub name: String,
    pub attrs: Vec<(String, String)>,
}

impl Identity {
    pub fn new(name: &str) -> Self {
        Identity { name: name.to_string(), attrs: vec![] }
    }

    pub fn attr(mut self, key: &str, value: impl Into<String>) -> Self {
        self.attrs.push((key.to_string(), value.into()));
        self
    }

    /// `[a, b]`
    pub fn list(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
        let items: Vec<String> = items.into_iter().map(|s| s.as_ref().to_string()).collect();
        format!("[{}]", items.join(", "))
    }

    pub fn render_with(&self, extra: &[(String, String)]) -> String {
        let attrs: Vec<String> = self.attrs.iter().chain(extra).map(|(k, v)| format!("{k}: {v}")).collect();
        if attrs.is_empty() {
            self.name.clone()
        } else {
            format!("{} {{ {} }}", self.name, attrs.join(", "))
        }
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render_with(&[]))
    }
}

/// A distribution as EXPLAIN prints it, with the column names of `node`.
pub fn dist_display(dist: &Distribution, node: &PlanNode) -> String {
    match dist {
        Distribution::Single => "Single".into(),
        Distribution::Hash(k) => format!("HashShard({})", node.names(k).join(", ")),
        Distribution::UpstreamHash(k, _) => format!("UpstreamHashShard({})", node.names(k).join(", ")),
        Distribution::Any => "SomeShard".into(),
        Distribution::Broadcast => "Broadcast".into(),
    }
}

impl PlanNode {
    pub fn df_schema(&self) -> Result<DFSchemaRef> {
        let fields: Vec<(Option<TableReference>, Arc<ArrowField>)> = self
            .columns
            .iter()
            .map(|c| (c.qualifier.clone(), Arc::new(ArrowField::new(&c.name, c.data_type.clone(), true))))
            .collect();
        Ok(Arc::new(DFSchema::new_with_metadata(fields, HashMap::new())?))
    }

    /// The output position of a column of the logical plan.
    pub fn position(&self, col: &DfColumn) -> Result<usize> {
        let found = self.columns.iter().position(|c| {
            c.name == col.name
                && match (&col.relation, &c.qualifier) {
                    (Some(a), Some(b)) => a.resolved_eq(b),
                    (Some(_), None) => false,
                    (None, _) => true,
                }
        });
        found.ok_or_else(|| {
            FrontendError::not_supported(format!(
                "column {} here in a materialized view (the stream plan does not carry it)",
                col.flat_name()
            ))
        })
    }

    pub fn is_exchange(&self) -> bool {
        matches!(self.body, Body::Exchange(_))
    }

    pub fn key_names(&self) -> Vec<String> {
        self.stream_key.iter().map(|i| self.columns[*i].display.clone()).collect()
    }

    pub fn names(&self, cols: &[usize]) -> Vec<String> {
        cols.iter().map(|i| self.columns.get(*i).map_or_else(|| format!("${i}"), |c| c.display.clone())).collect()
    }
}

/// Counters shared by one plan: operator ids, state tables and hidden column names.
#[derive(Debug, Default)]
pub struct Ids {
    operator: u32,
    state_table: u32,
    hidden: u32,
}

impl Ids {
    pub fn operator(&mut self) -> u32 {
        self.operator += 1;
        self.operator
    }

    pub fn state_table(&mut self) -> StateTableRef {
        self.state_table += 1;
        StateTableRef { local_id: self.state_table }
    }

    pub fn state_tables(&self) -> u32 {
        self.state_table
    }

    /// A hidden column named after `display`, unique in the plan.
    pub fn hidden(&mut self, display: &str, data_type: ArrowType) -> PlanColumn {
        self.hidden += 1;
        let base = column_name_of(display);
        PlanColumn { display: display.to_string(), qualifier: None, name: format!("{base}#{}", self.hidden), data_type, hidden: true }
    }
}

/// The column name `display` suggests: its last part when it names a column (`t.a` → `a`),
/// `$expr` when it shows an expression.
pub fn column_name_of(display: &str) -> &str {
    let last = display.rsplit('.').next().unwrap_or(display);
    let plain = last.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
        && last.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$');
    if plain && display.split('.').all(|p| !p.is_empty()) {
        last
    } else {
        "$expr"
    }
}

/// Builds a node: everything but its operator id, which [`Ids::operator`] assigns.
#[allow(clippy::too_many_arguments)]
pub fn node(
    ids: &mut Ids,
    body: stream_node::Body,
    inputs: Vec<PlanNode>,
    columns: Vec<PlanColumn>,
    stream_key: Vec<usize>,
    dist: Distribution,
    append_only: bool,
    identity: Identity,
) -> PlanNode {
    PlanNode {
        operator_id: ids.operator(),
        body: Body::Node(body),
        inputs,
        columns,
        stream_key,
        dist,
        append_only,
        identity,
    }
}

/// Puts an exchange on top of `input`.
pub fn exchange(ids: &mut Ids, input: PlanNode, how: Exchange) -> PlanNode {
    let dist = match &how {
        Exchange::Hash(k) => Distribution::Hash(k.clone()),
        Exchange::Simple => Distribution::Single,
        Exchange::Broadcast => Distribution::Broadcast,
        Exchange::NoShuffle => input.dist.clone(),
    };
    let identity = Identity::new("StreamExchange").attr("dist", dist_display(&dist, &input));
    PlanNode {
        operator_id: ids.operator(),
        body: Body::Exchange(how),
        columns: input.columns.clone(),
        stream_key: input.stream_key.clone(),
        append_only: input.append_only,
        dist,
        inputs: vec![input],
        identity,
    }
}
