//! Graphviz DOT for the resource graph and the step DAG (petgraph's writer).

use petgraph::dot::{Config, Dot};
use petgraph::graph::DiGraph;

use crate::plan::Plan;

/// Edge weight with nothing to say (petgraph's Display writer wants one).
#[derive(Debug, Clone, Copy, Default)]
pub struct Before;

impl std::fmt::Display for Before {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

fn write(graph: &DiGraph<String, Before>) -> String {
    format!("{}", Dot::with_config(graph, &[Config::EdgeNoLabel]))
}

/// Resources as nodes, "uses" as edges (instance -> profile -> role).
pub fn resources(graph: &DiGraph<String, Before>) -> String {
    write(graph)
}

/// Steps as nodes (`id. Operation resource`), "runs before" as edges.
pub fn steps(plan: &Plan) -> String {
    let mut graph = DiGraph::new();
    let nodes: Vec<_> = plan
        .steps
        .iter()
        .map(|s| graph.add_node(format!("{}. {} {}", s.id, s.call.operation(), s.title())))
        .collect();
    for step in &plan.steps {
        for dependency in &step.depends_on {
            graph.add_edge(nodes[dependency - 1], nodes[step.id - 1], Before);
        }
    }
    write(&graph)
}
