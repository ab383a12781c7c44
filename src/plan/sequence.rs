//! From draft steps to an ordered step DAG.
//!
//! A draft step says which facts about the account it makes true (`provides`)
//! and which must be true before it runs (`requires`). Every step that provides
//! a fact must finish before any step that requires it starts; a fact nobody
//! provides already holds. Stating ordering as facts keeps each AWS rule in
//! one place (see DESIGN.md's sequencing table) instead of spreading edges
//! across every pair of resource kinds.
//!
//! The order is a topological order of the DAG (petgraph), ties broken by
//! resource key, operation and then the (deterministic) order the rules drafted
//! them, so the same input always gives the
//! same plan.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use petgraph::graph::{DiGraph, NodeIndex};

use crate::cloud::Call;

/// Something a step makes true in the account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fact {
    /// The role exists (created by this plan).
    RoleExists(String),
    /// The role has all its declared policies (so instances get full
    /// permissions the moment a profile hands them the role).
    RoleReady(String),
    /// The old role is gone (replacement).
    RoleGone(String),
    /// Every profile, policy and boundary was removed from the role.
    RoleEmptied(String),
    /// Managed policies to detach from the role are detached (quota of 10).
    RolePoliciesDetached(String),
    /// Inline policies to delete are deleted (aggregate size quota).
    RoleInlineDeleted(String),
    /// Tags to remove are removed (50-tag limit).
    TagsRemoved(String),
    /// Every attribute change of a resource is done (its spec tag comes last).
    AttributesUpdated(String),
    ProfileExists(String),
    ProfileGone(String),
    /// The profile's current role was removed.
    ProfileRoleRemoved(String),
    /// The profile holds its declared role.
    ProfileReady(String),
    /// No instance is associated with the profile any more.
    ProfileUnused(String),
    /// The instance declared under this key was launched by the plan.
    InstanceLaunched(String),
    /// The instance has no association (key `instance/…`).
    InstanceFree(String),
}

/// A step before ordering.
#[derive(Debug, Clone)]
pub struct Draft {
    pub resource: String,
    pub call: Call,
    pub provides: Vec<Fact>,
    pub requires: Vec<Fact>,
    /// Soft requirements: orderings that are better for the account (say, no
    /// instance left on a roleless profile) but not AWS rules. Kept unless
    /// they would close a cycle with the hard ones.
    pub prefers: Vec<Fact>,
}

impl Draft {
    pub fn new(resource: impl Into<String>, call: Call) -> Self {
        Draft {
            resource: resource.into(),
            call,
            provides: Vec::new(),
            requires: Vec::new(),
            prefers: Vec::new(),
        }
    }

    pub fn prefers(mut self, fact: Fact) -> Self {
        self.prefers.push(fact);
        self
    }

    pub fn provides(mut self, fact: Fact) -> Self {
        self.provides.push(fact);
        self
    }

    pub fn requires(mut self, fact: Fact) -> Self {
        self.requires.push(fact);
        self
    }
}

/// An ordered step: its draft and the positions (0-based, in the returned
/// order) of the steps it depends on.
#[derive(Debug, Clone)]
pub struct Ordered {
    pub resource: String,
    pub call: Call,
    pub depends_on: Vec<usize>,
}

/// Edge weight: whether the ordering is only preferred (droppable).
type Soft = bool;

/// The dependency graph of steps (edge: must run before). Soft edges that
/// would close a cycle are dropped: only those inside a strongly connected
/// component, so every other preference stays.
pub fn graph(drafts: &[Draft]) -> Result<DiGraph<usize, Soft>, String> {
    let mut providers: HashMap<&Fact, Vec<usize>> = HashMap::new();
    for (index, draft) in drafts.iter().enumerate() {
        for fact in &draft.provides {
            providers.entry(fact).or_default().push(index);
        }
    }
    let mut graph = DiGraph::with_capacity(drafts.len(), drafts.len());
    for index in 0..drafts.len() {
        graph.add_node(index);
    }
    for (index, draft) in drafts.iter().enumerate() {
        let edges = |facts: &[Fact]| {
            let mut before: Vec<usize> = facts
                .iter()
                .filter_map(|fact| providers.get(fact))
                .flatten()
                .copied()
                .filter(|&p| p != index)
                .collect();
            before.sort_unstable();
            before.dedup();
            before
        };
        let hard = edges(&draft.requires);
        for &p in &hard {
            graph.add_edge(NodeIndex::new(p), NodeIndex::new(index), false);
        }
        for p in edges(&draft.prefers) {
            if !hard.contains(&p) {
                graph.add_edge(NodeIndex::new(p), NodeIndex::new(index), true);
            }
        }
    }
    loop {
        let mut component = vec![usize::MAX; drafts.len()];
        let mut cyclic = false;
        for (id, scc) in petgraph::algo::tarjan_scc(&graph).into_iter().enumerate() {
            if scc.len() > 1 {
                cyclic = true;
                for node in scc {
                    component[node.index()] = id;
                }
            }
        }
        if !cyclic {
            return Ok(graph);
        }
        let before = graph.edge_count();
        graph.retain_edges(|g, edge| {
            let soft = g[edge];
            let Some((a, b)) = g.edge_endpoints(edge) else {
                return true;
            };
            let inside =
                component[a.index()] != usize::MAX && component[a.index()] == component[b.index()];
            !(soft && inside)
        });
        if graph.edge_count() == before {
            let stuck: Vec<String> = (0..drafts.len())
                .filter(|&i| component[i] != usize::MAX)
                .take(5)
                .map(|i| format!("{} {}", drafts[i].call.operation(), drafts[i].resource))
                .collect();
            return Err(format!(
                "internal error: the plan's steps depend on each other in a cycle ({})",
                stuck.join(", ")
            ));
        }
    }
}

/// Resource key, operation, then draft order: the order among steps free to
/// run. Drafts are generated in a deterministic order (sorted resources,
/// ordered maps), so the draft index is a deterministic last resort.
type TieBreak<'a> = (&'a str, &'static str, usize);

/// Orders the drafts. Fails only if the rules form a cycle, which is a bug.
pub fn order(drafts: Vec<Draft>) -> Result<Vec<Ordered>, String> {
    let graph = graph(&drafts)?;
    let keys: Vec<TieBreak> = drafts
        .iter()
        .enumerate()
        .map(|(index, d)| (d.resource.as_str(), d.call.operation(), index))
        .collect();
    let mut indegree: Vec<usize> = graph
        .node_indices()
        .map(|n| {
            graph
                .neighbors_directed(n, petgraph::Direction::Incoming)
                .count()
        })
        .collect();
    let mut ready: BinaryHeap<Reverse<(&TieBreak, usize)>> = indegree
        .iter()
        .enumerate()
        .filter(|(_, d)| **d == 0)
        .map(|(i, _)| Reverse((&keys[i], i)))
        .collect();
    let mut position = vec![usize::MAX; drafts.len()];
    let mut sequence = Vec::with_capacity(drafts.len());
    while let Some(Reverse((_, index))) = ready.pop() {
        position[index] = sequence.len();
        sequence.push(index);
        for next in graph.neighbors_directed(NodeIndex::new(index), petgraph::Direction::Outgoing) {
            let n = next.index();
            indegree[n] -= 1;
            if indegree[n] == 0 {
                ready.push(Reverse((&keys[n], n)));
            }
        }
    }
    if sequence.len() != drafts.len() {
        let stuck: Vec<String> = (0..drafts.len())
            .filter(|&i| position[i] == usize::MAX)
            .take(5)
            .map(|i| format!("{} {}", drafts[i].call.operation(), drafts[i].resource))
            .collect();
        return Err(format!(
            "internal error: the plan's steps depend on each other in a cycle ({})",
            stuck.join(", ")
        ));
    }
    drop(keys);
    let mut slots: Vec<Option<Draft>> = drafts.into_iter().map(Some).collect();
    Ok(sequence
        .iter()
        .map(|&index| {
            let mut depends_on: Vec<usize> = graph
                .neighbors_directed(NodeIndex::new(index), petgraph::Direction::Incoming)
                .map(|p| position[p.index()])
                .collect();
            depends_on.sort_unstable();
            depends_on.dedup();
            let draft = slots[index]
                .take()
                .unwrap_or_else(|| unreachable!("each index once"));
            Ordered {
                resource: draft.resource,
                call: draft.call,
                depends_on,
            }
        })
        .collect())
}
