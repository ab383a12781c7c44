//! From draft steps to an ordered step DAG.
//!
//! A draft step says which facts about the account it makes true (`provides`)
//! and which must be true before it runs (`requires`). Every step that provides
//! a fact must finish before any step that requires it starts; a fact nobody
//! provides already holds. Stating ordering as facts keeps each AWS rule in
//! one place (see the sequencing table of docs/design.md) instead of spreading edges
//! across every pair of resource kinds.
//!
//! The order is a topological order of the DAG (petgraph), ties broken by
//! resource key, operation and then the (deterministic) order the rules drafted
//! them, so the same input always gives the same plan.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use foldhash::{HashMap, HashMapExt};

use petgraph::graph::{DiGraph, NodeIndex};

use rolecall_cloud::Call;

/// What a fact is about: a role or profile name, or a resource key,
/// interned. Plans of 100,000 resources hold millions of facts, hashed and
/// compared as numbers, not strings; 32 bits keep a fact to 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subject(u32);

/// Hands out one [`Subject`] per distinct name. A `RefCell` so that drafting
/// code can name subjects while it holds other borrows of the builder.
#[derive(Debug, Default)]
pub struct Subjects(RefCell<HashMap<String, Subject>>);

impl Subjects {
    /// Room for `names` names: a table grown by doubling holds the old
    /// and the new one at once, tens of megabytes for a large plan.
    pub fn with_capacity(names: usize) -> Self {
        Subjects(RefCell::new(HashMap::with_capacity(names)))
    }

    pub fn of(&self, name: &str) -> Subject {
        let mut names = self.0.borrow_mut();
        if let Some(&subject) = names.get(name) {
            return subject;
        }
        // Four billion names would not fit in memory long before.
        let subject = Subject(u32::try_from(names.len()).expect("fewer than 2^32 subjects"));
        names.insert(name.to_string(), subject);
        subject
    }

    /// Interns every name `other` holds; the result gives, by the number
    /// of a subject of `other`, the same name's subject here.
    pub fn absorb(&self, other: Subjects) -> Vec<Subject> {
        let mut names = vec![String::new(); other.0.borrow().len()];
        for (name, Subject(number)) in other.0.into_inner() {
            names[number as usize] = name;
        }
        names.iter().map(|name| self.of(name)).collect()
    }
}

/// Something a step makes true in the account. Role and profile facts are
/// about names; policy facts about ARNs (a replaced policy's old and new
/// ARNs differ) except `PolicyGone`, about a name (IAM's policy names are
/// unique, whatever their path); the others about resource keys (`role/x`,
/// `instance/i-…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fact {
    /// The customer-managed policy of this ARN exists (created by this plan).
    PolicyExists(Subject),
    /// No role holds the policy of this ARN any more, attached or as its
    /// permissions boundary (IAM refuses to delete one in use).
    PolicyUnused(Subject),
    /// The policy's versions to delete are deleted: before DeletePolicy
    /// (which refuses a policy with more than its default version), and
    /// before CreatePolicyVersion when it already keeps five.
    PolicyVersionsDeleted(Subject),
    /// The policy of this name is gone (replacement: a name is the account's
    /// once, so the new one is created after the old one is deleted).
    PolicyGone(Subject),
    /// The role's managed policies to attach are attached: the detaches that
    /// may wait for them do, so the role is never without either.
    RolePoliciesAttached(Subject),
    /// The role exists (created by this plan).
    RoleExists(Subject),
    /// The role has all its declared policies (so instances get full
    /// permissions the moment a profile hands them the role).
    RoleReady(Subject),
    /// The old role is gone (replacement).
    RoleGone(Subject),
    /// Every profile, policy and boundary was removed from the role.
    RoleEmptied(Subject),
    /// Managed policies to detach from the role are detached (quota of 10).
    RolePoliciesDetached(Subject),
    /// Inline policies to delete are deleted (aggregate size quota).
    RoleInlineDeleted(Subject),
    /// Tags to remove are removed (50-tag limit).
    TagsRemoved(Subject),
    /// Every attribute change of a resource is done (its spec tag comes last).
    AttributesUpdated(Subject),
    ProfileExists(Subject),
    ProfileGone(Subject),
    /// The profile's current role was removed.
    ProfileRoleRemoved(Subject),
    /// The profile holds its declared role.
    ProfileReady(Subject),
    /// No instance is associated with the profile any more.
    ProfileUnused(Subject),
    /// The instance declared under this key was launched by the plan.
    InstanceLaunched(Subject),
    /// The instance has no association (key `instance/…`).
    InstanceFree(Subject),
    /// Room under an account quota that a delete makes for a create that
    /// would not fit before it (numbered by `plan::quotas`).
    QuotaRoom(u32),
}

impl Fact {
    /// The fact about `renamed[subject]` instead (see [`Subjects::absorb`]).
    fn with_subject(self, renamed: &[Subject]) -> Fact {
        use Fact::*;
        let new = |Subject(number): Subject| renamed[number as usize];
        match self {
            PolicyExists(s) => PolicyExists(new(s)),
            PolicyUnused(s) => PolicyUnused(new(s)),
            PolicyVersionsDeleted(s) => PolicyVersionsDeleted(new(s)),
            PolicyGone(s) => PolicyGone(new(s)),
            RolePoliciesAttached(s) => RolePoliciesAttached(new(s)),
            RoleExists(s) => RoleExists(new(s)),
            RoleReady(s) => RoleReady(new(s)),
            RoleGone(s) => RoleGone(new(s)),
            RoleEmptied(s) => RoleEmptied(new(s)),
            RolePoliciesDetached(s) => RolePoliciesDetached(new(s)),
            RoleInlineDeleted(s) => RoleInlineDeleted(new(s)),
            TagsRemoved(s) => TagsRemoved(new(s)),
            AttributesUpdated(s) => AttributesUpdated(new(s)),
            ProfileExists(s) => ProfileExists(new(s)),
            ProfileGone(s) => ProfileGone(new(s)),
            ProfileRoleRemoved(s) => ProfileRoleRemoved(new(s)),
            ProfileReady(s) => ProfileReady(new(s)),
            ProfileUnused(s) => ProfileUnused(new(s)),
            InstanceLaunched(s) => InstanceLaunched(new(s)),
            InstanceFree(s) => InstanceFree(new(s)),
            QuotaRoom(room) => QuotaRoom(room),
        }
    }
}

// Millions of facts in a large plan: keep each to a tag and a subject.
const _: () = assert!(std::mem::size_of::<Fact>() == 8);

/// A step before ordering.
#[derive(Debug, Clone)]
pub struct Draft {
    pub resource: String,
    pub call: Call,
    /// What the step makes true, needs first, and would rather follow, in
    /// one list: a million drafts with three vectors each held 72 bytes
    /// and up to three allocations apiece for a handful of facts.
    facts: Vec<(Relation, Fact)>,
    /// Once ordered, the positions of the steps it waits for. Written into
    /// the draft, so that a draft is as large as the plan's step it becomes
    /// and the steps take the drafts' place ([`order_into`]): a second
    /// array beside the drafts was a large plan's peak.
    depends_on: Vec<usize>,
}

/// How a draft stands to one of its facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    /// The step makes it true.
    Provides,
    /// It must be true before the step runs.
    Requires,
    /// Soft requirements: orderings that are better for the account (say,
    /// no instance left on a roleless profile) but not AWS rules. Kept
    /// unless they would close a cycle with the hard ones.
    Prefers,
}

impl Draft {
    pub fn new(resource: impl Into<String>, call: Call) -> Self {
        Draft {
            resource: resource.into(),
            call,
            facts: Vec::new(),
            depends_on: Vec::new(),
        }
    }

    /// The draft with its facts about `renamed[subject]` (see
    /// [`Subjects::absorb`]): drafted with another builder's subjects.
    pub fn with_subjects(mut self, renamed: &[Subject]) -> Self {
        for (_, fact) in &mut self.facts {
            *fact = fact.with_subject(renamed);
        }
        self
    }

    pub fn prefers(mut self, fact: Fact) -> Self {
        self.add_preferred(fact);
        self
    }

    pub fn provides(mut self, fact: Fact) -> Self {
        self.add_provided(fact);
        self
    }

    pub fn requires(mut self, fact: Fact) -> Self {
        self.add_required(fact);
        self
    }

    /// [`Draft::provides`], for a draft already in the plan's list.
    pub fn add_provided(&mut self, fact: Fact) {
        self.facts.push((Relation::Provides, fact));
    }

    /// [`Draft::requires`], for a draft already in the plan's list.
    pub fn add_required(&mut self, fact: Fact) {
        self.facts.push((Relation::Requires, fact));
    }

    /// [`Draft::prefers`], for a draft already in the plan's list.
    pub fn add_preferred(&mut self, fact: Fact) {
        self.facts.push((Relation::Prefers, fact));
    }

    pub fn provided(&self) -> impl Iterator<Item = &Fact> {
        self.facts_in(Relation::Provides)
    }

    pub fn required(&self) -> impl Iterator<Item = &Fact> {
        self.facts_in(Relation::Requires)
    }

    pub fn preferred(&self) -> impl Iterator<Item = &Fact> {
        self.facts_in(Relation::Prefers)
    }

    fn facts_in(&self, relation: Relation) -> impl Iterator<Item = &Fact> {
        self.facts
            .iter()
            .filter(move |(r, _)| *r == relation)
            .map(|(_, fact)| fact)
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

/// The dependency graph of steps (edge: must run before): every provider of
/// a fact before every step that requires (or, softly, prefers) it.
fn dependencies(drafts: &[Draft]) -> DiGraph<usize, Soft> {
    let mut providers: HashMap<Fact, Vec<usize>> = HashMap::with_capacity(drafts.len());
    for (index, draft) in drafts.iter().enumerate() {
        for fact in draft.provided() {
            providers.entry(*fact).or_default().push(index);
        }
    }
    let mut graph = DiGraph::with_capacity(drafts.len(), drafts.len() * 2);
    for index in 0..drafts.len() {
        graph.add_node(index);
    }
    /// Into `into`, sorted and once each: the steps providing `facts`,
    /// other than step `index` itself.
    fn providers_of<'a>(
        providers: &HashMap<Fact, Vec<usize>>,
        facts: impl Iterator<Item = &'a Fact>,
        index: usize,
        into: &mut Vec<usize>,
    ) {
        into.clear();
        into.extend(
            facts
                .filter_map(|fact| providers.get(fact))
                .flatten()
                .copied()
                .filter(|&p| p != index),
        );
        into.sort_unstable();
        into.dedup();
    }
    let mut before: Vec<usize> = Vec::new();
    let mut hard: Vec<usize> = Vec::new();
    for (index, draft) in drafts.iter().enumerate() {
        providers_of(&providers, draft.required(), index, &mut hard);
        for &p in &hard {
            graph.add_edge(NodeIndex::new(p), NodeIndex::new(index), false);
        }
        providers_of(&providers, draft.preferred(), index, &mut before);
        for &p in &before {
            if hard.binary_search(&p).is_err() {
                graph.add_edge(NodeIndex::new(p), NodeIndex::new(index), true);
            }
        }
    }
    graph
}

/// Drops the soft edges inside cycles (strongly connected components), so
/// every preference that closes no cycle stays. Returns whether any went.
fn drop_soft_edges_in_cycles(graph: &mut DiGraph<usize, Soft>) -> bool {
    let mut component = vec![usize::MAX; graph.node_count()];
    for (id, scc) in petgraph::algo::tarjan_scc(&*graph).into_iter().enumerate() {
        if scc.len() > 1 {
            for node in scc {
                component[node.index()] = id;
            }
        }
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
    graph.edge_count() != before
}

/// The order among steps free to run: resource key, then operation, then
/// the (deterministic) order the rules drafted them. Resources and operations
/// are ranked once, so the ordering heap compares numbers, not strings.
type TieBreak = (u32, u32, usize);

fn tie_breaks(drafts: &[Draft]) -> Vec<TieBreak> {
    /// Each name's rank among the distinct names, per name in order: the
    /// distinct names are found by hashing and only they are sorted (a
    /// resource has several steps, so there are far fewer of them).
    fn ranks<'a>(names: impl Iterator<Item = &'a str>) -> Vec<u32> {
        let mut first_seen: HashMap<&str, u32> = HashMap::new();
        let mut unique: Vec<&str> = Vec::new();
        let seen: Vec<u32> = names
            .map(|name| {
                *first_seen.entry(name).or_insert_with(|| {
                    unique.push(name);
                    (unique.len() - 1) as u32
                })
            })
            .collect();
        let mut by_name: Vec<u32> = (0..unique.len() as u32).collect();
        by_name.sort_unstable_by_key(|&id| unique[id as usize]);
        let mut rank = vec![0u32; unique.len()];
        for (position, id) in (0u32..).zip(by_name) {
            rank[id as usize] = position;
        }
        seen.into_iter().map(|id| rank[id as usize]).collect()
    }
    let resources = ranks(drafts.iter().map(|d| d.resource.as_str()));
    let operations = ranks(drafts.iter().map(|d| d.call.operation()));
    resources
        .into_iter()
        .zip(operations)
        .enumerate()
        .map(|(index, (resource, operation))| (resource, operation, index))
        .collect()
}

/// Kahn's algorithm, taking the least tie-break among ready steps: the
/// positions in order, or `None` if a cycle leaves steps unordered.
fn kahn(graph: &DiGraph<usize, Soft>, keys: &[TieBreak]) -> Option<Vec<usize>> {
    let mut indegree: Vec<usize> = graph
        .node_indices()
        .map(|n| {
            graph
                .neighbors_directed(n, petgraph::Direction::Incoming)
                .count()
        })
        .collect();
    let mut ready: BinaryHeap<Reverse<TieBreak>> = indegree
        .iter()
        .enumerate()
        .filter(|(_, d)| **d == 0)
        .map(|(i, _)| Reverse(keys[i]))
        .collect();
    let mut sequence = Vec::with_capacity(keys.len());
    while let Some(Reverse((_, _, index))) = ready.pop() {
        sequence.push(index);
        for next in graph.neighbors_directed(NodeIndex::new(index), petgraph::Direction::Outgoing) {
            let n = next.index();
            indegree[n] -= 1;
            if indegree[n] == 0 {
                ready.push(Reverse(keys[n]));
            }
        }
    }
    (sequence.len() == keys.len()).then_some(sequence)
}

/// Orders the drafts. Fails only if the hard rules form a cycle, which is a bug.
pub fn order(drafts: Vec<Draft>) -> Result<Vec<Ordered>, String> {
    order_into(drafts, |ordered| ordered)
}

/// [`order`], making each ordered step into what the caller keeps as it
/// goes: a large plan's steps are then built once, not first as
/// [`Ordered`] and again as the caller's (both arrays alive at once were
/// the peak of a large plan's memory).
pub fn order_into<T>(
    mut drafts: Vec<Draft>,
    mut make: impl FnMut(Ordered) -> T,
) -> Result<Vec<T>, String> {
    // Two independent reads of the drafts: the graph from their facts, the
    // tie-breaks from their names, each on its own core.
    let (mut graph, keys) = std::thread::scope(|scope| {
        let keys = scope.spawn(|| tie_breaks(&drafts));
        let graph = dependencies(&drafts);
        match keys.join() {
            Ok(keys) => (graph, keys),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    // The graph holds what the facts said: free them before the steps are
    // made (millions of small vectors in a large plan).
    for draft in &mut drafts {
        draft.facts = Vec::new();
    }
    // Soft edges rarely close a cycle: look for cycles only when one stops
    // the ordering (Tarjan's algorithm over a whole large plan costs seconds).
    let sequence = loop {
        if let Some(sequence) = kahn(&graph, &keys) {
            break sequence;
        }
        if !drop_soft_edges_in_cycles(&mut graph) {
            let stuck: Vec<String> = petgraph::algo::tarjan_scc(&graph)
                .into_iter()
                .filter(|scc| scc.len() > 1)
                .flatten()
                .take(5)
                .map(|n| {
                    format!(
                        "{} {}",
                        drafts[n.index()].call.operation(),
                        drafts[n.index()].resource
                    )
                })
                .collect();
            return Err(format!(
                "internal error: the plan's steps depend on each other in a cycle ({})",
                stuck.join(", ")
            ));
        }
    };
    drop(keys);
    let mut position = vec![usize::MAX; drafts.len()];
    for (at, &index) in sequence.iter().enumerate() {
        position[index] = at;
    }
    // Every step's dependencies, and the graph freed before the steps are
    // made.
    for (index, draft) in drafts.iter_mut().enumerate() {
        let mut depends_on: Vec<usize> = graph
            .neighbors_directed(NodeIndex::new(index), petgraph::Direction::Incoming)
            .map(|p| position[p.index()])
            .collect();
        depends_on.sort_unstable();
        depends_on.dedup();
        draft.depends_on = depends_on;
    }
    drop(graph);
    drop(position);
    put_in_order(&mut drafts, &sequence);
    drop(sequence);
    // In place: a step no larger than its draft is made where the draft was
    // (std collects a mapped `vec::IntoIter` into its own allocation).
    Ok(drafts
        .into_iter()
        .map(|draft| {
            make(Ordered {
                resource: draft.resource,
                call: draft.call,
                depends_on: draft.depends_on,
            })
        })
        .collect())
}

/// Moves `items[sequence[at]]` to `at` for every `at`, in place, following
/// each cycle of the permutation with swaps.
fn put_in_order<T>(items: &mut [T], sequence: &[usize]) {
    let mut placed = vec![false; items.len()];
    for start in 0..items.len() {
        let mut at = start;
        while !placed[at] {
            placed[at] = true;
            let from = sequence[at];
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Draft, order_into, put_in_order};
    use rolecall_cloud::Call;
    use rolecall_cloud::iam::DeleteRoleRequest;

    /// A plan's steps are made where its drafts were: a second array of a
    /// million steps beside the drafts was a large plan's peak.
    #[test]
    fn the_steps_take_the_drafts_place() {
        let drafts: Vec<Draft> = (0..1000)
            .map(|n| {
                let role_name = format!("r{n}");
                Draft::new(
                    format!("role/{role_name}"),
                    Call::DeleteRole(DeleteRoleRequest { role_name }),
                )
            })
            .collect();
        let place = drafts.as_ptr() as usize;
        let steps = order_into(drafts, |ordered| crate::plan::Step {
            id: 0,
            resource: ordered.resource,
            name: None,
            call: ordered.call,
            depends_on: ordered.depends_on,
        })
        .unwrap();
        assert_eq!(steps.len(), 1000);
        assert_eq!(steps.as_ptr() as usize, place);
    }

    /// Every permutation of `0..n`.
    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![Vec::new()];
        }
        let mut all = Vec::new();
        for shorter in permutations(n - 1) {
            for at in 0..n {
                let mut longer = shorter.clone();
                longer.insert(at, n - 1);
                all.push(longer);
            }
        }
        all
    }

    #[test]
    fn put_in_order_gathers_every_permutation_in_place() {
        for n in 0..=6 {
            for sequence in permutations(n) {
                let mut items: Vec<String> = (0..n).map(|i| format!("item {i}")).collect();
                let expected: Vec<String> = sequence.iter().map(|&i| items[i].clone()).collect();
                put_in_order(&mut items, &sequence);
                assert_eq!(items, expected, "sequence {sequence:?}");
            }
        }
    }
}
