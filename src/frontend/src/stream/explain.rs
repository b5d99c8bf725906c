//! EXPLAIN of a stream plan: the operator tree (with exchanges, stream keys and distribution),
//! then one line per fragment.

use std::collections::HashMap;

use tributary_proto::stream_plan::{stream_node::Body as PbBody, DispatcherType, StreamFragmentGraph};

use super::plan::{dist_display, Body, PlanNode};

pub fn explain(root: &PlanNode, graph: &StreamFragmentGraph) -> Vec<String> {
    let mut lines = Vec::new();
    tree(root, "", "", true, &mut lines);
    let mut tables = HashMap::new();
    table_names(root, &mut tables);
    for f in &graph.fragments {
        let Some(node) = &f.node else { continue };
        let mut attrs = Vec::new();
        if f.singleton {
            attrs.push("dist: Single".to_string());
        } else if !f.dist_key.is_empty() {
            let names: Vec<String> =
                f.dist_key.iter().map(|k| node.fields.get(*k as usize).map_or_else(|| "?".into(), |c| c.name.clone())).collect();
            attrs.push(format!("dist: HashShard({})", names.join(", ")));
        } else {
            attrs.push("dist: SomeShard".to_string());
        }
        if !f.upstream_table_ids.is_empty() {
            let names: Vec<String> =
                f.upstream_table_ids.iter().map(|t| tables.get(t).cloned().unwrap_or_else(|| t.to_string())).collect();
            attrs.push(format!("upstream_tables: [{}]", names.join(", ")));
        }
        let inputs: Vec<String> = graph
            .edges
            .iter()
            .filter(|e| e.downstream_fragment_id == f.fragment_id)
            .map(|e| {
                let how = e.dispatch.as_ref().map_or(DispatcherType::Unspecified, |d| d.r#type());
                let how = match how {
                    DispatcherType::Hash => {
                        let upstream = graph.fragments.iter().find(|u| u.fragment_id == e.upstream_fragment_id);
                        let fields = upstream.and_then(|u| u.node.as_ref()).map(|n| n.fields.clone()).unwrap_or_default();
                        let keys: Vec<String> = e
                            .dispatch
                            .iter()
                            .flat_map(|d| d.dist_key.iter())
                            .map(|k| fields.get(*k as usize).map_or_else(|| "?".into(), |c| c.name.clone()))
                            .collect();
                        format!("Hash({})", keys.join(", "))
                    }
                    DispatcherType::Simple => "Simple".into(),
                    DispatcherType::Broadcast => "Broadcast".into(),
                    DispatcherType::NoShuffle => "NoShuffle".into(),
                    DispatcherType::Unspecified => "?".into(),
                };
                format!("Fragment {} ({how})", e.upstream_fragment_id)
            })
            .collect();
        if !inputs.is_empty() {
            attrs.push(format!("inputs: [{}]", inputs.join(", ")));
        }
        lines.push(format!("Fragment {} {{ {} }}", f.fragment_id, attrs.join(", ")));
    }
    lines
}

fn tree(n: &PlanNode, first: &str, rest: &str, root: bool, out: &mut Vec<String>) {
    let mut extra = Vec::new();
    if !n.is_exchange() {
        extra.push(("stream_key".to_string(), format!("[{}]", n.key_names().join(", "))));
    }
    let shows_dist = root || matches!(&n.body, Body::Node(PbBody::StreamScan(_)));
    if shows_dist {
        extra.push(("dist".to_string(), dist_display(&n.dist, n)));
    }
    if n.append_only && !n.is_exchange() {
        extra.push(("append_only".to_string(), "true".to_string()));
    }
    out.push(format!("{first}{}", n.identity.render_with(&extra)));
    let count = n.inputs.len();
    for (i, input) in n.inputs.iter().enumerate() {
        let last = i + 1 == count;
        let (head, tail) = if last { ("└─", "  ") } else { ("├─", "│ ") };
        tree(input, &format!("{rest}{head}"), &format!("{rest}{tail}"), false, out);
    }
}

fn table_names(n: &PlanNode, out: &mut HashMap<u32, String>) {
    if let Body::Node(PbBody::StreamScan(s)) = &n.body {
        if let Some((_, name)) = n.identity.attrs.iter().find(|(k, _)| k == "table") {
            out.insert(s.table_id, name.clone());
        }
    }
    for i in &n.inputs {
        table_names(i, out);
    }
}
