//! The resource graph of `rolecall graph`: the declared resources, with an
//! edge from each user to what it uses (instance -> profile -> role).

use std::collections::BTreeMap;

use petgraph::graph::DiGraph;

use crate::plan::render::dot::Before;
use rolecall_model::{Desired, InstanceSelector, instance_key, profile_key, role_key};

/// The declared resources, with an edge from each user to what it uses.
pub fn resources(desired: &Desired) -> DiGraph<String, Before> {
    let mut graph = DiGraph::new();
    let mut nodes = BTreeMap::new();
    let mut node = |graph: &mut DiGraph<String, Before>, key: String| {
        *nodes
            .entry(key.clone())
            .or_insert_with(|| graph.add_node(key))
    };
    for name in desired.roles.keys() {
        node(&mut graph, role_key(name));
    }
    for (name, profile) in &desired.profiles {
        let from = node(&mut graph, profile_key(name));
        if let Some(role) = &profile.role {
            let to = node(&mut graph, role_key(role));
            graph.add_edge(from, to, Before);
        }
    }
    for instance in &desired.instances {
        let key = match &instance.selector {
            InstanceSelector::Id(id) | InstanceSelector::Name(id) => instance_key(id),
        };
        let from = node(&mut graph, key);
        if let Some(profile) = &instance.profile {
            let to = node(&mut graph, profile_key(profile));
            graph.add_edge(from, to, Before);
        }
    }
    graph
}

/// The graph as pretty JSON, `{"nodes": [...], "edges": [[from, to], ...]}`,
/// newline-terminated.
pub fn json(graph: &DiGraph<String, Before>) -> Result<String, serde_json::Error> {
    let edges: Vec<[&str; 2]> = graph
        .edge_indices()
        .filter_map(|e| graph.edge_endpoints(e))
        .map(|(a, b)| [graph[a].as_str(), graph[b].as_str()])
        .collect();
    let nodes: Vec<&str> = graph.node_weights().map(String::as_str).collect();
    let mut text =
        serde_json::to_string_pretty(&serde_json::json!({"nodes": nodes, "edges": edges}))?;
    text.push('\n');
    Ok(text)
}
