//! From draft steps to an ordered step DAG.
//!
//! A draft step says which facts about the account it makes true (`provides`)
//! and which must be true before it runs (`requires`). Every step that provides
//! a fact must finish before any step that requires it starts; a fact nobody
//! provides already holds. Stating ordering as facts keeps each AWS rule in
//! one place (see the sequencing table of docs/design.md) instead of spreading edges
//! across every pair of resource kinds.
//!
//! The order is a topological order of the DAG (Kahn's algorithm over
//! `Waits`), ties broken by resource key, operation and then the
//! (deterministic) order the rules drafted them, so the same input always
//! gives the same plan. petgraph finds the cycles a preference closes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use rolecall_cloud::Call;

use super::subjects::Renamed;
pub use super::subjects::Subject;

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
    /// The fact as the builder that absorbed its own reads it (see
    /// [`super::subjects::Subjects::absorb`]).
    fn with_subject(self, renamed: &Renamed) -> Fact {
        use Fact::*;
        let new = |subject| renamed.subject(subject);
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

/// How many kinds of [`Fact`] there are: [`Fact::parts`] numbers them.
const FACT_KINDS: usize = 21;

impl Fact {
    /// The fact's kind (below [`FACT_KINDS`]) and the number of what it is
    /// about: how [`Providers`] finds it without hashing.
    fn parts(self) -> (usize, u32) {
        use Fact::*;
        match self {
            PolicyExists(Subject(s)) => (0, s),
            PolicyUnused(Subject(s)) => (1, s),
            PolicyVersionsDeleted(Subject(s)) => (2, s),
            PolicyGone(Subject(s)) => (3, s),
            RolePoliciesAttached(Subject(s)) => (4, s),
            RoleExists(Subject(s)) => (5, s),
            RoleReady(Subject(s)) => (6, s),
            RoleGone(Subject(s)) => (7, s),
            RoleEmptied(Subject(s)) => (8, s),
            RolePoliciesDetached(Subject(s)) => (9, s),
            RoleInlineDeleted(Subject(s)) => (10, s),
            TagsRemoved(Subject(s)) => (11, s),
            AttributesUpdated(Subject(s)) => (12, s),
            ProfileExists(Subject(s)) => (13, s),
            ProfileGone(Subject(s)) => (14, s),
            ProfileRoleRemoved(Subject(s)) => (15, s),
            ProfileReady(Subject(s)) => (16, s),
            ProfileUnused(Subject(s)) => (17, s),
            InstanceLaunched(Subject(s)) => (18, s),
            InstanceFree(Subject(s)) => (19, s),
            QuotaRoom(room) => (20, room),
        }
    }
}

// Millions of facts in a large plan: keep each to a tag and a subject.
const _: () = assert!(std::mem::size_of::<Fact>() == 8);

/// A step before ordering.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Shared by the drafts a resource's change makes together (a created
    /// role's four, a created profile's three) and by the steps they
    /// become: a first plan's million steps name 300,000 resources.
    pub resource: Arc<str>,
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
    pub fn new(resource: impl Into<Arc<str>>, call: Call) -> Self {
        Draft {
            resource: resource.into(),
            call,
            facts: Vec::new(),
            depends_on: Vec::new(),
        }
    }

    /// The draft with its facts' subjects `renamed` (see
    /// [`super::subjects::Subjects::absorb`]): drafted with another
    /// builder's subjects.
    pub fn with_subjects(mut self, renamed: &Renamed) -> Self {
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
    pub resource: Arc<str>,
    pub call: Call,
    pub depends_on: Vec<usize>,
}

/// Edge weight in the petgraph form of the waits: whether the ordering is
/// only preferred (droppable).
type Soft = bool;

/// Marks a preferred wait in [`Waits::on`]: one a cycle may drop.
const SOFT: u32 = 1 << 31;

/// The steps each step waits for (the edges of the step DAG, each from the
/// step waited for to the waiting one), row by row: `on[start[i] ..
/// start[i + 1]]` are step `i`'s, first the providers of the facts it
/// requires, then (marked [`SOFT`]) those of the facts it prefers and does
/// not also require, each sorted and once. Numbers in flat arrays: a large
/// plan has a million steps and twice as many waits, which as a petgraph
/// graph were tens of megabytes of linked lists walked in every pass.
struct Waits {
    start: Vec<u32>,
    on: Vec<u32>,
}

impl Waits {
    /// What step `index` waits for, each with [`SOFT`] if only preferred.
    fn of(&self, index: usize) -> &[u32] {
        &self.on[self.start[index] as usize..self.start[index + 1] as usize]
    }

    fn steps(&self) -> usize {
        self.start.len() - 1
    }

    /// Every provider of a fact before every step that requires (or,
    /// softly, prefers) it.
    fn of_drafts(drafts: &[Draft]) -> Waits {
        let providers = Providers::of(drafts);
        let mut start = Vec::with_capacity(drafts.len() + 1);
        let mut on: Vec<u32> = Vec::with_capacity(drafts.len() * 2);
        start.push(0);
        let (mut hard, mut soft) = (Vec::new(), Vec::new());
        for (index, draft) in drafts.iter().enumerate() {
            let index = step_number(index);
            providers.of_each(draft.required(), index, &mut hard);
            providers.of_each(draft.preferred(), index, &mut soft);
            soft.retain(|p| hard.binary_search(p).is_err());
            on.extend_from_slice(&hard);
            on.extend(soft.iter().map(|p| p | SOFT));
            start.push(edge_number(on.len()));
        }
        Waits { start, on }
    }

    /// The same waits as a petgraph graph, its edges added step by step in
    /// row order: cycles are looked for there (Tarjan's algorithm).
    fn graph(&self) -> DiGraph<usize, Soft> {
        let mut graph = DiGraph::with_capacity(self.steps(), self.on.len());
        for index in 0..self.steps() {
            graph.add_node(index);
        }
        for index in 0..self.steps() {
            for &wait in self.of(index) {
                let from = NodeIndex::new((wait & !SOFT) as usize);
                graph.add_edge(from, NodeIndex::new(index), wait & SOFT != 0);
            }
        }
        graph
    }

    /// The waits a petgraph graph holds (after [`drop_soft_edges_in_cycles`]).
    fn of_graph(graph: &DiGraph<usize, Soft>) -> Waits {
        let mut start = Vec::with_capacity(graph.node_count() + 1);
        let mut on = Vec::with_capacity(graph.edge_count());
        start.push(0);
        for node in graph.node_indices() {
            let mut row: Vec<u32> = graph
                .edges_directed(node, petgraph::Direction::Incoming)
                .map(|edge| {
                    let from = step_number(edge.source().index());
                    if *edge.weight() { from | SOFT } else { from }
                })
                .collect();
            row.sort_unstable();
            on.extend(row);
            start.push(edge_number(on.len()));
        }
        Waits { start, on }
    }

    /// The steps waiting for each step: the same edges, row by row from
    /// their other end, as `(start, waiting)`.
    fn reversed(&self) -> (Vec<u32>, Vec<u32>) {
        let steps = self.steps();
        let mut start = vec![0u32; steps + 1];
        for &wait in &self.on {
            start[(wait & !SOFT) as usize + 1] += 1;
        }
        for index in 0..steps {
            start[index + 1] += start[index];
        }
        let mut next = start.clone();
        let mut waiting = vec![0u32; self.on.len()];
        for index in 0..steps {
            for &wait in self.of(index) {
                let slot = &mut next[(wait & !SOFT) as usize];
                waiting[*slot as usize] = step_number(index);
                *slot += 1;
            }
        }
        (start, waiting)
    }
}

/// A step's position as a number of the step DAG: below [`SOFT`], which
/// marks preferences. Two billion steps would not fit in memory long before.
fn step_number(index: usize) -> u32 {
    u32::try_from(index)
        .ok()
        .filter(|&n| n < SOFT)
        .expect("fewer than 2^31 steps")
}

/// A count of waits, as the row starts hold it.
fn edge_number(count: usize) -> u32 {
    u32::try_from(count).expect("fewer than 2^32 waits")
}

/// The steps providing each fact, found by the fact's kind and number
/// without hashing: a table per kind of fact, indexed by subject, of
/// chains through `chain` (most facts have one provider, some several).
struct Providers {
    /// By [`Fact::parts`]: 1 + the position in `chain` of the fact's last
    /// provider, or 0 if none.
    last: [Vec<u32>; FACT_KINDS],
    /// Per provided fact: the providing step, and 1 + the position of the
    /// fact's provider before it, or 0.
    chain: Vec<(u32, u32)>,
}

impl Providers {
    fn of(drafts: &[Draft]) -> Providers {
        let mut providers = Providers {
            last: Default::default(),
            chain: Vec::with_capacity(drafts.len()),
        };
        for (index, draft) in drafts.iter().enumerate() {
            for fact in draft.provided() {
                let (kind, number) = fact.parts();
                let row = &mut providers.last[kind];
                let number = number as usize;
                if row.len() <= number {
                    row.resize(number + 1, 0);
                }
                providers.chain.push((step_number(index), row[number]));
                row[number] = edge_number(providers.chain.len());
            }
        }
        providers
    }

    /// Into `into`, sorted and once each: the steps providing `facts`,
    /// other than step `index` itself.
    fn of_each<'a>(&self, facts: impl Iterator<Item = &'a Fact>, index: u32, into: &mut Vec<u32>) {
        into.clear();
        for fact in facts {
            let (kind, number) = fact.parts();
            let mut link = self.last[kind].get(number as usize).copied().unwrap_or(0);
            while link != 0 {
                let (step, before) = self.chain[link as usize - 1];
                if step != index {
                    into.push(step);
                }
                link = before;
            }
        }
        into.sort_unstable();
        into.dedup();
    }
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
    let resources = resource_ranks(drafts);
    let operations = operation_ranks(drafts);
    resources
        .into_iter()
        .zip(operations)
        .enumerate()
        .map(|(index, (resource, operation))| (resource, operation, index))
        .collect()
}

/// Each draft's rank by resource key among the distinct keys. A resource's
/// drafts are side by side, and each pass of the rules drafts its resources
/// in key order: the runs of one key are sorted by a stable sort, which
/// merges those sorted stretches instead of sorting from scratch, and no
/// key is hashed (a first plan's million drafts name 300,000 resources).
fn resource_ranks(drafts: &[Draft]) -> Vec<u32> {
    let name = |at: u32| &*drafts[at as usize].resource;
    // Where each run of drafts of one resource starts: most drafts share
    // their key with the one before.
    let same_key = |at: u32| {
        let (key, before) = (
            &drafts[at as usize].resource,
            &drafts[at as usize - 1].resource,
        );
        Arc::ptr_eq(key, before) || key == before
    };
    let runs: Vec<u32> = (0..step_number(drafts.len()))
        .filter(|&at| at == 0 || !same_key(at))
        .collect();
    let mut by_name: Vec<u32> = (0..runs.len() as u32).collect();
    by_name.sort_by(|&a, &b| name(runs[a as usize]).cmp(name(runs[b as usize])));
    // Runs of the same key (a resource two passes draft for) share a rank.
    let mut rank_of_run = vec![0u32; runs.len()];
    let mut rank = 0;
    for pair in by_name.windows(2) {
        if name(runs[pair[0] as usize]) != name(runs[pair[1] as usize]) {
            rank += 1;
        }
        rank_of_run[pair[1] as usize] = rank;
    }
    let mut ranks = Vec::with_capacity(drafts.len());
    for (run, &start) in runs.iter().enumerate() {
        let end = runs.get(run + 1).map_or(drafts.len(), |&end| end as usize);
        ranks.extend(std::iter::repeat_n(rank_of_run[run], end - start as usize));
    }
    ranks
}

/// Each draft's rank by operation name among the distinct names.
fn operation_ranks(drafts: &[Draft]) -> Vec<u32> {
    static_ranks(drafts.iter().map(|draft| draft.call.operation()))
}

/// Each name's rank among the distinct names, for `&'static str`s of which
/// there are a few dozen: each is found among those seen by its address
/// (and length), and by its text only when that fails, never hashed.
fn static_ranks(names: impl Iterator<Item = &'static str>) -> Vec<u32> {
    let mut distinct: Vec<&'static str> = Vec::new();
    let mut last: Option<(&'static str, u32)> = None;
    let seen: Vec<u32> = names
        .map(|name| {
            if let Some((last_name, id)) = last
                && std::ptr::eq(last_name, name)
            {
                return id;
            }
            let known = distinct
                .iter()
                .position(|known| std::ptr::eq(*known, name))
                .or_else(|| distinct.iter().position(|known| *known == name));
            let id = match known {
                Some(id) => id as u32,
                None => {
                    distinct.push(name);
                    (distinct.len() - 1) as u32
                }
            };
            last = Some((name, id));
            id
        })
        .collect();
    let mut rank = vec![0u32; distinct.len()];
    for (id, name) in distinct.iter().enumerate() {
        rank[id] = distinct.iter().filter(|other| *other < name).count() as u32;
    }
    seen.into_iter().map(|id| rank[id as usize]).collect()
}

/// Kahn's algorithm, taking the least tie-break among ready steps: the
/// positions in order, or `None` if a cycle leaves steps unordered. Each
/// tie-break is packed into one number, in the same order (a million
/// steps go through the queue).
fn kahn(waits: &Waits, keys: &[TieBreak]) -> Option<Vec<u32>> {
    let mut waiting_for: Vec<u32> = (0..waits.steps())
        .map(|index| waits.start[index + 1] - waits.start[index])
        .collect();
    let (start, waiting) = waits.reversed();
    let mut ready = Ready::new(
        (waiting_for.iter().enumerate())
            .filter(|(_, count)| **count == 0)
            .map(|(index, _)| packed(keys[index]))
            .collect(),
    );
    let mut sequence = Vec::with_capacity(keys.len());
    while let Some(key) = ready.pop() {
        let index = key as u64 as usize;
        sequence.push(step_number(index));
        for &next in &waiting[start[index] as usize..start[index + 1] as usize] {
            let next = next as usize;
            waiting_for[next] -= 1;
            if waiting_for[next] == 0 {
                ready.push(packed(keys[next]));
            }
        }
    }
    (sequence.len() == keys.len()).then_some(sequence)
}

/// A tie-break as one number, ordered as the tie-breaks are.
fn packed((resource, operation, index): TieBreak) -> u128 {
    (u128::from(resource) << 96) | (u128::from(operation) << 64) | index as u128
}

/// The steps ready to run, least first: those ready from the start in a
/// sorted list, those made ready since in a heap. A large first plan's
/// creates, hundreds of thousands, are ready from the start; a heap of
/// them cost a dozen cache misses a step. The steps a step makes ready
/// are most often its own resource's, taken next: the heap stays small.
struct Ready {
    first: std::iter::Peekable<std::vec::IntoIter<u128>>,
    since: BinaryHeap<Reverse<u128>>,
}

impl Ready {
    fn new(mut first: Vec<u128>) -> Self {
        // Drafted resource by resource, in stretches of key order: a
        // stable sort merges those.
        first.sort();
        Ready {
            first: first.into_iter().peekable(),
            since: BinaryHeap::new(),
        }
    }

    fn push(&mut self, key: u128) {
        self.since.push(Reverse(key));
    }

    fn pop(&mut self) -> Option<u128> {
        match (self.first.peek(), self.since.peek()) {
            (Some(first), Some(Reverse(since))) if since < first => self.since.pop().map(|r| r.0),
            (Some(_), _) => self.first.next(),
            (None, _) => self.since.pop().map(|r| r.0),
        }
    }
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
    // Two independent reads of the drafts: the waits from their facts, the
    // tie-breaks from their names, each on its own core.
    let (mut waits, keys) = std::thread::scope(|scope| {
        let keys = scope.spawn(|| tie_breaks(&drafts));
        let waits = Waits::of_drafts(&drafts);
        (waits, crate::parallel::joined(keys))
    });
    // The waits hold what the facts said: free them before the steps are
    // made (millions of small vectors in a large plan).
    for draft in &mut drafts {
        draft.facts = Vec::new();
    }
    // Soft edges rarely close a cycle: look for cycles only when one stops
    // the ordering (Tarjan's algorithm over a whole large plan costs seconds).
    let sequence = loop {
        if let Some(sequence) = kahn(&waits, &keys) {
            break sequence;
        }
        let mut graph = waits.graph();
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
        waits = Waits::of_graph(&graph);
    };
    drop(keys);
    let mut position = vec![usize::MAX; drafts.len()];
    for (at, &index) in sequence.iter().enumerate() {
        position[index as usize] = at;
    }
    // Every step's dependencies, and the waits freed before the steps are
    // made.
    for (index, draft) in drafts.iter_mut().enumerate() {
        let mut depends_on: Vec<usize> = waits
            .of(index)
            .iter()
            .map(|&wait| position[(wait & !SOFT) as usize])
            .collect();
        depends_on.sort_unstable();
        depends_on.dedup();
        draft.depends_on = depends_on;
    }
    drop(waits);
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
/// each cycle of the permutation with swaps. The items a cycle reaches
/// next are known ahead and fetched into cache meanwhile: a large plan's
/// million drafts are 150 MB, reached in a scattered order, and each swap
/// otherwise waited on memory (sampled: 190 ms of a first plan of
/// 300,000 resources, 60 ms fetching 16 ahead).
fn put_in_order<T>(items: &mut [T], sequence: &[u32]) {
    const AHEAD: usize = 16;
    let mut placed = vec![false; items.len()];
    for start in 0..items.len() {
        if placed[start] {
            continue;
        }
        // `ahead` runs AHEAD places along the cycle, until it closes.
        let mut ahead = start;
        for _ in 0..AHEAD {
            ahead = sequence[ahead] as usize;
            prefetch(&items[ahead]);
            if ahead == start {
                break;
            }
        }
        let mut at = start;
        while !placed[at] {
            placed[at] = true;
            let from = sequence[at] as usize;
            if from == start {
                break;
            }
            if ahead != start {
                ahead = sequence[ahead] as usize;
                prefetch(&items[ahead]);
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// Asks the processor to bring `item` into its cache, without waiting
/// for it. Does nothing where the hint is not known.
fn prefetch<T>(item: &T) {
    #[cfg(not(target_arch = "x86_64"))]
    let _ = item;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        const LINE: usize = 64;
        let first = (item as *const T).cast::<i8>();
        let misaligned = first as usize % LINE;
        let mut offset = 0;
        while offset < misaligned + std::mem::size_of::<T>() {
            // SAFETY: a prefetch is a hint: it reads nothing the program
            // sees and cannot fault, whatever the address.
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(first.wrapping_sub(misaligned).wrapping_add(offset))
            };
            offset += LINE;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{
        Draft, FACT_KINDS, Fact, Subject, TieBreak, Waits, kahn, order, order_into, put_in_order,
        static_ranks, tie_breaks,
    };
    use proptest::prelude::*;
    use rolecall_cloud::Call;
    use rolecall_cloud::iam::DeleteRoleRequest;
    use rolecall_cloud::iam::RoleNameRequest;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    fn delete_role(name: &str) -> Draft {
        Draft::new(
            format!("role/{name}"),
            Call::DeleteRole(DeleteRoleRequest {
                role_name: name.to_string(),
            }),
        )
    }

    /// Facts are found by kind and number: two kinds sharing a table
    /// would order steps by facts they do not share.
    #[test]
    fn every_kind_of_fact_has_a_table_of_its_own() {
        use Fact::*;
        let s = Subject(7);
        let every = [
            PolicyExists(s),
            PolicyUnused(s),
            PolicyVersionsDeleted(s),
            PolicyGone(s),
            RolePoliciesAttached(s),
            RoleExists(s),
            RoleReady(s),
            RoleGone(s),
            RoleEmptied(s),
            RolePoliciesDetached(s),
            RoleInlineDeleted(s),
            TagsRemoved(s),
            AttributesUpdated(s),
            ProfileExists(s),
            ProfileGone(s),
            ProfileRoleRemoved(s),
            ProfileReady(s),
            ProfileUnused(s),
            InstanceLaunched(s),
            InstanceFree(s),
            QuotaRoom(7),
        ];
        let mut kinds: Vec<usize> = every.iter().map(|fact| fact.parts().0).collect();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), every.len());
        assert_eq!(every.len(), FACT_KINDS);
        assert!(kinds.iter().all(|&kind| kind < FACT_KINDS));
        assert!(every.iter().all(|fact| fact.parts().1 == 7));
    }

    /// Every provider of a fact comes before each step requiring it and is
    /// among its dependencies; a step providing what it requires does not
    /// wait for itself; a preference that closes a cycle is dropped, the
    /// others kept.
    #[test]
    fn steps_wait_for_every_provider_and_cycles_of_preferences_are_broken() {
        let (a, b) = (Subject(0), Subject(1));
        let drafts = vec![
            // 0: needs both providers of RoleExists(a), and prefers b's
            // removal, which prefers it back: a cycle of preferences.
            delete_role("z")
                .requires(Fact::RoleExists(a))
                .provides(Fact::RoleGone(a))
                .prefers(Fact::RoleEmptied(b)),
            // 1 and 2: both provide RoleExists(a); 2 also requires it.
            delete_role("y").provides(Fact::RoleExists(a)),
            delete_role("x")
                .provides(Fact::RoleExists(a))
                .requires(Fact::RoleExists(a)),
            // 3: prefers 0's fact, provides the one 0 prefers.
            delete_role("w")
                .prefers(Fact::RoleGone(a))
                .provides(Fact::RoleEmptied(b)),
        ];
        let ordered = order(drafts).unwrap();
        let resources: Vec<&str> = ordered.iter().map(|o| &*o.resource).collect();
        // The two preferences form a cycle and both go: w and y are free
        // to run first (by resource), x follows y, z follows x and y.
        assert_eq!(resources, ["role/w", "role/y", "role/x", "role/z"]);
        let depends: Vec<&[usize]> = ordered.iter().map(|o| o.depends_on.as_slice()).collect();
        assert_eq!(depends, [&[][..], &[], &[1], &[1, 2]]);
    }

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

    fn gathered(n: usize, sequence: &[usize]) -> (Vec<String>, Vec<String>) {
        let mut items: Vec<String> = (0..n).map(|i| format!("item {i}")).collect();
        let expected: Vec<String> = sequence.iter().map(|&i| items[i].clone()).collect();
        let sequence: Vec<u32> = sequence.iter().map(|&i| i as u32).collect();
        put_in_order(&mut items, &sequence);
        (items, expected)
    }

    #[test]
    fn put_in_order_gathers_every_permutation_in_place() {
        for n in 0..=6 {
            for sequence in permutations(n) {
                let (items, expected) = gathered(n, &sequence);
                assert_eq!(items, expected, "sequence {sequence:?}");
            }
        }
    }

    /// Equal names at other addresses (an operation's name may be held
    /// twice in the binary) rank as one; names of which one begins the
    /// other rank apart.
    #[test]
    fn static_ranks_rank_equal_texts_alike_wherever_they_are() {
        let copy: &'static str = String::from("DeleteRole").leak();
        let longer: &'static str = "DeleteRolePermissionsBoundary";
        let names = ["DeleteRole", longer, copy, "AddRoleToInstanceProfile", copy];
        assert_eq!(static_ranks(names.into_iter()), vec![1, 2, 1, 0, 1]);
        assert_eq!(
            static_ranks([&longer[..10], longer].into_iter()),
            vec![0, 1]
        );
    }

    proptest! {
        /// Cycles longer than the distance fetched ahead, and many of
        /// them, are gathered as the short ones are.
        #[test]
        fn put_in_order_gathers_long_cycles(
            sequence in (0usize..300).prop_flat_map(|n| {
                Just((0..n).collect::<Vec<usize>>()).prop_shuffle()
            })
        ) {
            let (items, expected) = gathered(sequence.len(), &sequence);
            prop_assert_eq!(items, expected);
        }

        /// Each draft's tie-break is its resource key's rank among the
        /// distinct keys, its operation's among the distinct operations,
        /// and its own position, however the runs of one key fall.
        #[test]
        fn tie_breaks_rank_keys_and_operations_among_the_distinct_ones(
            picks in prop::collection::vec((0usize..5, 0usize..3), 0..80)
        ) {
            let keys = ["role/b", "role/a", "instance-profile/z", "role/ab", "instance/x"];
            let call = |operation: usize| {
                let request = RoleNameRequest { role_name: "r".into() };
                match operation {
                    0 => Call::DeleteRole(request),
                    1 => Call::GetRole(request),
                    _ => Call::DeleteRolePermissionsBoundary(request),
                }
            };
            let drafts: Vec<Draft> = picks
                .iter()
                .map(|&(key, operation)| Draft::new(keys[key], call(operation)))
                .collect();
            let rank = |of: &str, all: Vec<&str>| {
                let mut below: Vec<&str> = all.into_iter().filter(|other| *other < of).collect();
                below.sort_unstable();
                below.dedup();
                below.len() as u32
            };
            for (at, (draft, tie_break)) in drafts.iter().zip(tie_breaks(&drafts)).enumerate() {
                let resource = rank(&draft.resource, drafts.iter().map(|d| &*d.resource).collect());
                let operation = rank(draft.call.operation(), drafts.iter().map(|d| d.call.operation()).collect());
                prop_assert_eq!(tie_break, (resource, operation, at));
            }
        }

        /// Kahn's order is the one a single heap of every ready step
        /// gives, whichever steps are ready from the start and whichever
        /// are made ready later, and however their tie-breaks fall.
        #[test]
        fn kahn_takes_the_least_ready_step_as_one_heap_would(
            steps in prop::collection::vec(
                ((0u32..6, 0u32..3), prop::collection::vec(any::<prop::sample::Index>(), 0..3)),
                1..60,
            )
        ) {
            // Each step waits on earlier ones: no cycle.
            let mut start = vec![0u32];
            let mut on = Vec::new();
            for (at, (_, waits)) in steps.iter().enumerate() {
                let mut row: Vec<u32> = if at == 0 {
                    Vec::new()
                } else {
                    waits.iter().map(|wait| wait.index(at) as u32).collect()
                };
                row.sort_unstable();
                row.dedup();
                on.extend(row);
                start.push(on.len() as u32);
            }
            let waits = Waits { start, on };
            let keys: Vec<TieBreak> = (steps.iter().enumerate())
                .map(|(at, ((resource, operation), _))| (*resource, *operation, at))
                .collect();
            let mut waiting_for: Vec<usize> =
                (0..steps.len()).map(|at| waits.of(at).len()).collect();
            let mut heap: BinaryHeap<Reverse<TieBreak>> = (0..steps.len())
                .filter(|&at| waiting_for[at] == 0)
                .map(|at| Reverse(keys[at]))
                .collect();
            let mut expected = Vec::new();
            while let Some(Reverse(key)) = heap.pop() {
                expected.push(key.2 as u32);
                for next in 0..steps.len() {
                    if waits.of(next).contains(&(key.2 as u32)) {
                        waiting_for[next] -= 1;
                        if waiting_for[next] == 0 {
                            heap.push(Reverse(keys[next]));
                        }
                    }
                }
            }
            prop_assert_eq!(kahn(&waits, &keys), Some(expected));
        }
    }
}
