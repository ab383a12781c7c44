//! The resource graph of `rolecall graph`: the declared resources, with an
//! edge from each user to what it uses (instance -> profile -> role ->
//! customer-managed policy).

use std::collections::BTreeMap;

use petgraph::graph::DiGraph;

use crate::plan::render::dot::Before;
use rolecall_model::{
    Arn, Desired, InstanceSelector, instance_key, policy_key, profile_key, role_key,
};

/// The declared policy a role's `managed_policies` entry or boundary names:
/// by name, or by an ARN whose path and name are a declared policy's (the
/// account is not known here).
fn declared_policy<'a>(desired: &'a Desired, entry: &str) -> Option<&'a str> {
    if !entry.starts_with("arn:") {
        return desired.policies.get(entry).map(|p| p.name.as_str());
    }
    let arn = Arn::parse(entry)?;
    if arn.account == "aws" {
        return None;
    }
    desired
        .policies
        .values()
        .find(|p| arn.resource == format!("policy{}{}", p.path, p.name))
        .map(|p| p.name.as_str())
}

/// The declared resources, with an edge from each user to what it uses.
pub fn resources(desired: &Desired) -> DiGraph<String, Before> {
    let mut graph = DiGraph::new();
    let mut nodes = BTreeMap::new();
    let mut node = |graph: &mut DiGraph<String, Before>, key: String| {
        *nodes
            .entry(key.clone())
            .or_insert_with(|| graph.add_node(key))
    };
    for name in desired.policies.keys() {
        node(&mut graph, policy_key(name));
    }
    for (name, role) in &desired.roles {
        let from = node(&mut graph, role_key(name));
        let used = role
            .managed_policies
            .iter()
            .chain(&role.permissions_boundary)
            .filter_map(|entry| declared_policy(desired, entry));
        let mut used: Vec<&str> = used.collect();
        used.sort_unstable();
        used.dedup();
        for policy in used {
            let to = node(&mut graph, policy_key(policy));
            graph.add_edge(from, to, Before);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use rolecall_model::{ManagedPolicy, PolicyDocument, Role};

    fn role(name: &str, policies: &[&str], boundary: Option<&str>) -> Role {
        Role {
            name: name.into(),
            path: "/".into(),
            description: String::new(),
            trust: PolicyDocument::trusting_services(&["ec2.amazonaws.com"]),
            max_session_duration: 3600,
            permissions_boundary: boundary.map(str::to_string),
            managed_policies: policies.iter().map(|p| p.to_string()).collect(),
            inline_policies: Default::default(),
            tags: Default::default(),
        }
    }

    #[test]
    fn roles_point_at_the_declared_policies_they_attach_or_are_bounded_by() {
        let policy = |name: &str, path: &str| ManagedPolicy {
            name: name.into(),
            path: path.into(),
            description: String::new(),
            document: PolicyDocument::trusting_services(&["ec2.amazonaws.com"]),
            tags: Default::default(),
        };
        let desired = Desired {
            policies: [
                ("read".to_string(), policy("read", "/")),
                ("fence".to_string(), policy("fence", "/ops/")),
            ]
            .into(),
            roles: [
                (
                    "web".to_string(),
                    role(
                        "web",
                        &["read", "arn:aws:iam::aws:policy/ReadOnlyAccess"],
                        Some("arn:aws:iam::123456789012:policy/ops/fence"),
                    ),
                ),
                // An ARN at another path is not the declared policy.
                (
                    "other".to_string(),
                    role("other", &["arn:aws:iam::123456789012:policy/fence"], None),
                ),
            ]
            .into(),
            ..Desired::default()
        };
        let text = json(&resources(&desired)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value["edges"],
            serde_json::json!([["role/web", "policy/fence"], ["role/web", "policy/read"]]),
            "{text}"
        );
        assert_eq!(
            value["nodes"],
            serde_json::json!(["policy/fence", "policy/read", "role/other", "role/web"])
        );
    }
}
