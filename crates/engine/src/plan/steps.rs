//! Which API calls each change needs, and the facts that order them.
//!
//! This is the sequencing table of docs/design.md in code. Every rule reads as
//! "this call requires that fact", see `sequence::Fact`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

// foldhash: the builder looks names up millions of times (see Cargo.toml).
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use super::sequence::{Draft, Fact, Subject};
use super::subjects::{Numbering, Subjects};
use super::{Action, Change, PlanOptions, TERMINATED};
use crate::compare::ownership;
use crate::compare::{
    self, Comparison, InstanceMatch, Kind, Problem, ResourceDiff, SpecTag, Status,
};
use crate::in_order::InOrder;
use rolecall_cloud::Call;
use rolecall_cloud::ec2::{
    AssociateIamInstanceProfileRequest, CreateTagsRequest, DeleteTagsRequest,
    DisassociateIamInstanceProfileRequest, IamInstanceProfileSpecification,
    ReplaceIamInstanceProfileAssociationRequest, RunInstancesRequest, TagKeyMaybeValue,
    TagSpecification, TerminateInstancesRequest,
};
use rolecall_cloud::iam::*;
use rolecall_model::limits::{MAX_MANAGED_POLICIES, MAX_POLICY_VERSIONS};
use rolecall_model::{
    DEFAULT_MAX_SESSION_DURATION, Desired, InstanceProfile, InstanceSelector, InstanceState, Live,
    LiveInstance, LiveInstanceProfile, LivePolicy, LiveRole, Location, ManagedPolicy, Role,
    RoleArn, TAG_LAUNCHED, TAG_SPEC, TAG_STACK, Tags, instance_key, key, policy_key, profile_key,
    resource_title, role_key,
};

/// Everything the planner derived from a comparison, before ordering.
#[derive(Default)]
pub struct Built {
    pub drafts: Vec<Draft>,
    pub changes: Vec<Change>,
    pub warnings: Vec<String>,
    pub problems: Vec<Problem>,
}

struct Builder<'a> {
    desired: &'a Desired,
    live: &'a Live,
    options: PlanOptions,
    out: Built,
    /// RemoveRoleFromInstanceProfile steps by (profile, role): one call may serve
    /// both a role's deletion and its profile's deletion or role swap.
    removals: HashMap<(String, String), usize>,
    /// DetachRolePolicy steps by (role, policy ARN): one call may serve a
    /// role's change or deletion and its policy's deletion.
    detachments: HashMap<(String, String), usize>,
    /// Live roles holding each policy ARN: attached, and as their
    /// permissions boundary.
    roles_by_policy: HashMap<&'a str, Vec<&'a str>>,
    roles_bounded_by: HashMap<&'a str, Vec<&'a str>>,
    /// Profiles that stay and get AddRoleToInstanceProfile, and the role
    /// they get: read for the profiles that lose their role, which a
    /// created profile never does (nor one deleted or replaced, whose
    /// users are warned about apart). A first plan's 100,000 created
    /// profiles are not recorded.
    adds: HashMap<&'a str, &'a str>,
    replaced_roles: HashSet<&'a str>,
    /// Replaced policies: old ARN -> new ARN (the same when only the
    /// description changes).
    replaced_policies: HashMap<&'a str, String>,
    deleted_profiles: HashSet<&'a str>,
    replaced_profiles: HashSet<&'a str>,
    /// Live profiles holding each role, and live instances using each profile.
    profiles_by_role: HashMap<&'a str, Vec<&'a str>>,
    instances_by_profile: HashMap<&'a str, Vec<&'a LiveInstance>>,
    /// Instances this plan handles itself (declared and managed, or released).
    handled_instances: HashSet<&'a str>,
    /// Instances this plan takes off the profile they use (moved,
    /// disassociated, terminated): a profile's loss of its role is not theirs.
    leaving: HashSet<&'a str>,
    /// Replaced profiles and the instances disassociated from them and
    /// associated again with the new one (no credentials in between), as
    /// the warning names them.
    reassociated: BTreeMap<String, Vec<String>>,
    subjects: Subjects<'a>,
    tag_texts: TagTexts,
    /// The role and profile passes look up each diff's declared and live
    /// resource by name, in the maps' own order (and the profile pass
    /// each profile's declared role).
    maps: MapsInOrder<'a>,
}

/// Cursors over the declared and live roles and profiles, each starting
/// where its pass first asks ([`InOrder`]).
struct MapsInOrder<'a> {
    declared_roles: InOrder<'a, Role>,
    live_roles: InOrder<'a, LiveRole>,
    declared_profiles: InOrder<'a, InstanceProfile>,
    live_profiles: InOrder<'a, LiveInstanceProfile>,
}

impl<'a> MapsInOrder<'a> {
    fn new(desired: &'a Desired, live: &'a Live) -> Self {
        MapsInOrder {
            declared_roles: InOrder::new(&desired.roles),
            live_roles: InOrder::new(&live.roles),
            declared_profiles: InOrder::new(&desired.profiles),
            live_profiles: InOrder::new(&live.profiles),
        }
    }
}

/// Drafts a changed resource makes, about: a role with one inline and one
/// managed policy makes four, a profile two or three, an instance one or two.
const DRAFTS_PER_CHANGE: usize = 3;

pub fn build(desired: &Desired, live: &Live, cmp: &Comparison, options: PlanOptions) -> Built {
    build_with(desired, live, cmp, options, PROFILES_WORTH_A_RUN)
}

/// [`build`], the profile pass a run of its own from
/// `profiles_worth_a_run` profiles (when it can be, see [`Runs::of`]).
pub(super) fn build_with(
    desired: &Desired,
    live: &Live,
    cmp: &Comparison,
    options: PlanOptions,
    profiles_worth_a_run: usize,
) -> Built {
    // Two reads of the comparison, side by side: its resources numbered,
    // and what drafting must know before it starts (with the other core
    // idle, they were a tenth of drafting a first plan).
    let (numbering, census) = crate::parallel::both(
        cmp.diffs.len() >= DIFFS_WORTH_A_THREAD,
        || Numbering::of(&cmp.diffs),
        || Census::of(desired, live, cmp),
    );
    let Census {
        counts,
        replaced_roles,
        replaced_policies,
        replaced_profiles,
        deleted_profiles,
        profiles_by_role,
        instances_by_profile,
        roles_by_policy,
        roles_bounded_by,
    } = census;
    let mut builder = Builder {
        desired,
        live,
        options,
        out: Built::default(),
        removals: HashMap::new(),
        detachments: HashMap::new(),
        roles_by_policy,
        roles_bounded_by,
        adds: HashMap::new(),
        replaced_roles,
        replaced_policies,
        deleted_profiles,
        replaced_profiles,
        profiles_by_role,
        instances_by_profile,
        handled_instances: HashSet::new(),
        leaving: HashSet::new(),
        reassociated: BTreeMap::new(),
        subjects: Subjects::new(&numbering),
        tag_texts: TagTexts::of(desired),
        maps: MapsInOrder::new(desired, live),
    };
    // Room for about every draft at once: a first plan of 300,000 resources
    // makes close to a million (three a changed resource, about), and
    // growing the vector by doubling copied them all again and again.
    builder
        .out
        .drafts
        .reserve(counts.changed * DRAFTS_PER_CHANGE);
    // A change, noop or not, for about every diff.
    builder.out.changes.reserve_exact(cmp.diffs.len());
    // The instance pass reads nothing the other passes write (only what
    // the census found), so it runs on its own core, in runs, each
    // into a builder of its own, whose drafts follow the others' as if the
    // pass ran after them. This thread takes the runs left once its own
    // passes are done: most of a converged plan's drafting is its
    // instances, and its roles and profiles are soon done. The profile
    // pass is the first run when it can be (see `Runs::of`): a first
    // plan's profiles cost as much as its roles.
    let runs = Runs::of(&builder, cmp, &counts, profiles_worth_a_run);
    std::thread::scope(|scope| {
        let helper = scope.spawn(|| runs.take_in_turn());
        for (at, diff) in cmp.diffs.iter().enumerate() {
            builder.subjects.focus(at, diff);
            match diff.kind {
                Kind::Policy => builder.policy(diff),
                Kind::Role => builder.role(diff),
                Kind::InstanceProfile if !runs.profiles_forked => builder.profile(diff),
                Kind::InstanceProfile | Kind::Instance => {}
            }
        }
        // Absorbed as soon as they are done, in order, and drafted when
        // none is: absorbing is a run's subjects renamed and its drafts
        // moved, best done beside the helper's drafting.
        let mut absorbed = 0;
        loop {
            while let Some(run) = runs.done_at(absorbed) {
                builder.absorb(run);
                absorbed += 1;
            }
            if !runs.take_next() {
                break;
            }
        }
        crate::parallel::joined(helper);
        while let Some(run) = runs.done_at(absorbed) {
            builder.absorb(run);
            absorbed += 1;
        }
    });
    builder.users_of_dying_profiles();
    builder.users_of_profiles_losing_their_role();
    builder.users_of_replaced_profiles();
    builder.out
}

/// Diffs from which numbering them and taking their census run side by
/// side.
const DIFFS_WORTH_A_THREAD: usize = 10_000;

/// What drafting must know before it starts, of the comparison and of the
/// account: found in one pass over each (a pass over a first plan's
/// 300,000 diffs is a few milliseconds, and there were six).
struct Census<'a> {
    counts: Counts,
    replaced_roles: HashSet<&'a str>,
    /// Replaced policies: old ARN -> new ARN.
    replaced_policies: HashMap<&'a str, String>,
    replaced_profiles: HashSet<&'a str>,
    /// Profiles deleted, or deleted and created again.
    deleted_profiles: HashSet<&'a str>,
    profiles_by_role: HashMap<&'a str, Vec<&'a str>>,
    instances_by_profile: HashMap<&'a str, Vec<&'a LiveInstance>>,
    roles_by_policy: HashMap<&'a str, Vec<&'a str>>,
    roles_bounded_by: HashMap<&'a str, Vec<&'a str>>,
}

/// How many diffs of each sort there are, for room and runs.
#[derive(Default)]
struct Counts {
    /// Diffs that show a change.
    changed: usize,
    profiles: usize,
    changed_profiles: usize,
    /// Owned instances no longer declared.
    undeclared_instances: usize,
    /// Whether the plan deletes a role (or deletes it to create it again).
    roles_deleted: bool,
}

impl<'a> Census<'a> {
    fn of(desired: &'a Desired, live: &'a Live, cmp: &'a Comparison) -> Self {
        let mut census = Census {
            counts: Counts::default(),
            replaced_roles: HashSet::new(),
            replaced_policies: HashMap::new(),
            replaced_profiles: HashSet::new(),
            deleted_profiles: HashSet::new(),
            profiles_by_role: HashMap::new(),
            instances_by_profile: HashMap::new(),
            roles_by_policy: HashMap::new(),
            roles_bounded_by: HashMap::new(),
        };
        let counts = &mut census.counts;
        for diff in &cmp.diffs {
            let shows = diff.shows();
            counts.changed += usize::from(shows);
            let replaced = diff.status == Status::Managed && diff.needs_replacement();
            match (diff.kind, &diff.status) {
                (Kind::Policy, _) if replaced => {
                    if let (Some(old), Some(new)) = (
                        live.policies.get(&diff.name),
                        desired.policies.get(&diff.name),
                    ) {
                        let new = compare::declared_policy_arn(desired, live, new);
                        census.replaced_policies.insert(&old.arn, new);
                    }
                }
                (Kind::Role, Status::Orphaned) => counts.roles_deleted = true,
                (Kind::Role, _) if replaced => {
                    counts.roles_deleted = true;
                    census.replaced_roles.insert(&diff.name);
                }
                (Kind::InstanceProfile, status) => {
                    counts.profiles += 1;
                    counts.changed_profiles += usize::from(shows);
                    if replaced {
                        census.replaced_profiles.insert(&diff.name);
                        census.deleted_profiles.insert(&diff.name);
                    } else if *status == Status::Orphaned {
                        census.deleted_profiles.insert(&diff.name);
                    }
                }
                (Kind::Instance, Status::Orphaned) => counts.undeclared_instances += 1,
                _ => {}
            }
        }
        for (name, profile) in &live.profiles {
            if let Some(role) = &profile.profile.role {
                census.profiles_by_role.entry(role).or_default().push(name);
            }
        }
        for instance in live.instances.values() {
            if let Some(association) = &instance.association {
                (census.instances_by_profile)
                    .entry(&association.profile_name)
                    .or_default()
                    .push(instance);
            }
        }
        for (name, role) in &live.roles {
            for arn in &role.role.managed_policies {
                census.roles_by_policy.entry(arn).or_default().push(name);
            }
            if let Some(arn) = &role.role.permissions_boundary {
                census.roles_bounded_by.entry(arn).or_default().push(name);
            }
        }
        census
    }
}

/// Declared instances a run of the instance pass, about: enough that a
/// run costs far more than its builder, few enough that the thread done
/// first finds some left to take.
const INSTANCES_A_RUN: usize = 8_192;

/// Profiles from which the profile pass is a run of its own, beside the
/// role pass: fewer are drafted sooner than a builder is forked.
const PROFILES_WORTH_A_RUN: usize = 4_096;

/// The passes that draft on a builder of their own, cut into runs that
/// threads take in turn: the profile pass when it can, then the declared
/// instances a run at a time, then the undeclared ones. Each run drafts
/// into a builder of its own, absorbed in the runs' order after the main
/// builder's passes, as if the runs had been drafted after them.
struct Runs<'c, 'a> {
    cmp: &'c Comparison,
    /// Whether the profile pass is a run (else the main builder drafts it).
    profiles_forked: bool,
    /// The instances' diffs (and their positions) by key, made by the
    /// first run taken.
    diffs: OnceLock<HashMap<&'c str, (usize, &'c ResourceDiff)>>,
    /// Runs not taken yet: (position, what, builder), in order.
    todo: Mutex<VecDeque<(usize, Run, Builder<'a>)>>,
    /// Runs done: (position, builder).
    done: Mutex<Vec<(usize, Builder<'a>)>>,
}

/// What a run drafts.
enum Run {
    /// Every instance profile's change.
    Profiles,
    /// The declared instances of these positions.
    Declared(std::ops::Range<usize>),
    /// The owned instances no longer declared.
    Undeclared,
}

impl<'c: 'a, 'a> Runs<'c, 'a> {
    /// The runs of this comparison. The profile pass is one when there are
    /// `profiles_worth_a_run` profiles or more and the role pass deletes no
    /// role: a deleted role is taken out of its profiles by the same
    /// RemoveRoleFromInstanceProfile that a profile's own change may need,
    /// drafted once (`Builder::removals`). That is all the profile pass
    /// would read of the role pass; it reads what the census found (roles
    /// replaced) as the instance pass does.
    fn of(
        builder: &Builder<'a>,
        cmp: &'c Comparison,
        counts: &Counts,
        profiles_worth_a_run: usize,
    ) -> Self {
        let mut todo = VecDeque::new();
        let profiles_forked = counts.profiles >= profiles_worth_a_run && !counts.roles_deleted;
        if profiles_forked {
            // Room for the drafts of the profiles that change (none in a
            // converged plan).
            let fork = builder.fork(counts.changed_profiles * DRAFTS_PER_CHANGE, counts.profiles);
            todo.push_back((todo.len(), Run::Profiles, fork));
        }
        let declared = builder.desired.instances.len();
        for start in (0..declared).step_by(INSTANCES_A_RUN) {
            let run = start..(start + INSTANCES_A_RUN).min(declared);
            let fork = builder.fork(run.len(), run.len());
            todo.push_back((todo.len(), Run::Declared(run), fork));
        }
        let undeclared = counts.undeclared_instances;
        let fork = builder.fork(undeclared, undeclared);
        todo.push_back((todo.len(), Run::Undeclared, fork));
        Runs {
            cmp,
            profiles_forked,
            diffs: OnceLock::new(),
            todo: Mutex::new(todo),
            done: Mutex::new(Vec::new()),
        }
    }

    /// Drafts the runs left, one after another, until none is.
    fn take_in_turn(&self) {
        while self.take_next() {}
    }

    /// Drafts the next run not taken yet; false if there is none.
    fn take_next(&self) -> bool {
        // A lock is poisoned only by a panic elsewhere, which the scope
        // that started the threads passes on: the lists stay whole.
        let next = self
            .todo
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        let Some((position, run, mut builder)) = next else {
            return false;
        };
        match run {
            Run::Profiles => {
                let profiles = (self.cmp.diffs.iter().enumerate())
                    .filter(|(_, d)| d.kind == Kind::InstanceProfile);
                for (at, diff) in profiles {
                    builder.subjects.focus(at, diff);
                    builder.profile(diff);
                }
            }
            Run::Declared(run) => {
                let diffs = self.diffs.get_or_init(|| {
                    (self.cmp.diffs.iter().enumerate())
                        .filter(|(_, d)| d.kind == Kind::Instance)
                        .map(|(at, d)| (d.key.as_str(), (at, d)))
                        .collect()
                });
                builder.declared_instances(self.cmp, diffs, run);
            }
            Run::Undeclared => builder.undeclared_instances(self.cmp),
        }
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        done.push((position, builder));
        true
    }

    /// The builder of the run at `position`, if it is done (and not taken
    /// already).
    fn done_at(&self, position: usize) -> Option<Builder<'a>> {
        let mut done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        let at = done.iter().position(|(p, _)| *p == position)?;
        Some(done.swap_remove(at).1)
    }
}

/// A live instance as messages name it: `instance/i-0abc… (web-1)`.
fn live_title(instance: &LiveInstance) -> String {
    resource_title(
        &instance_key(&instance.instance_id),
        instance.name.as_deref(),
    )
}

/// The texts of the requests' tags, shared where they repeat: every
/// resource's requests carry the stack's tags, the ownership tags and the
/// same few keys, and a first plan of 300,000 resources held a copy of
/// each (about 40 MB at its peak).
struct TagTexts {
    /// Every key, and the values that repeat.
    shared: HashSet<Arc<str>>,
    /// The ownership tags every created resource carries, at hand rather
    /// than looked up: their keys, the stack's name, and the spec of a
    /// resource whose steps are still to come.
    spec_key: Arc<str>,
    stack_key: Arc<str>,
    stack: Arc<str>,
    pending_spec: Arc<str>,
}

impl TagTexts {
    fn of(desired: &Desired) -> Self {
        TagTexts::new(&desired.stack, &desired.stack_tags)
    }

    /// Knowing the values that repeat: the stack's tags and the ownership
    /// tags'. Other values are most often the resource's own.
    fn new(stack: &str, stack_tags: &Tags) -> Self {
        let mut shared = HashSet::new();
        let mut share = |text: &str| share_in(&mut shared, text);
        for (key, value) in stack_tags {
            share(key);
            share(value);
        }
        for text in [TAG_LAUNCHED, "Name", "true"] {
            share(text);
        }
        let (spec_key, stack_key) = (share(TAG_SPEC), share(TAG_STACK));
        let (stack, pending_spec) = (share(stack), share(ownership::PENDING_SPEC));
        TagTexts {
            shared,
            spec_key,
            stack_key,
            stack,
            pending_spec,
        }
    }

    /// `text`, shared from now on: keys, which are few.
    fn shared(&mut self, text: &str) -> Arc<str> {
        share_in(&mut self.shared, text)
    }

    /// `text`, shared if it is one that repeats: values.
    fn value(&self, text: &str) -> Arc<str> {
        self.shared
            .get(text)
            .cloned()
            .unwrap_or_else(|| text.into())
    }

    fn tag(&mut self, key: &str, value: &str) -> Tag {
        Tag {
            key: self.shared(key),
            value: self.value(value),
        }
    }

    fn list(&mut self, tags: &Tags) -> Vec<Tag> {
        tags.iter().map(|(k, v)| self.tag(k, v)).collect()
    }

    /// The `rolecall:spec` tag of `spec`: a resource's hash, or
    /// [`ownership::PENDING_SPEC`].
    fn spec_tag(&self, spec: &str) -> Tag {
        let value = if spec == &*self.pending_spec {
            self.pending_spec.clone()
        } else {
            self.value(spec)
        };
        Tag {
            key: self.spec_key.clone(),
            value,
        }
    }

    /// The `rolecall:stack` tag of `stack`.
    fn stack_tag(&self, stack: &str) -> Tag {
        let value = if stack == &*self.stack {
            self.stack.clone()
        } else {
            self.value(stack)
        };
        Tag {
            key: self.stack_key.clone(),
            value,
        }
    }

    /// [`TagTexts::list`] of [`ownership::owned_tags`]`(user, stack,
    /// spec)`, merged in key order without building that map (a copy of
    /// every created resource's tags, dropped at once).
    fn owned(&mut self, user: &Tags, stack: &str, spec: &str) -> Vec<Tag> {
        // In key order, as the map would hold them.
        let mut ours = [
            (TAG_SPEC, self.spec_tag(spec)),
            (TAG_STACK, self.stack_tag(stack)),
        ];
        ours.sort_unstable_by_key(|&(key, _)| key);
        let mut ours = ours.into_iter().peekable();
        let mut tags = Vec::with_capacity(user.len() + 2);
        for (key, value) in user.iter() {
            while let Some((ours_key, tag)) = ours.next_if(|(k, _)| *k <= key.as_str()) {
                tags.push(tag);
                if ours_key == key {
                    // Ours replaces a declared tag of the same key, as
                    // inserting it into the map would.
                    break;
                }
            }
            if tags
                .last()
                .is_none_or(|tag: &Tag| &*tag.key != key.as_str())
            {
                tags.push(self.tag(key, value));
            }
        }
        tags.extend(ours.map(|(_, tag)| tag));
        tags
    }
}

/// `text` as `shared` holds it, added if it does not yet.
fn share_in(shared: &mut HashSet<Arc<str>>, text: &str) -> Arc<str> {
    if let Some(known) = shared.get(text) {
        return known.clone();
    }
    let text: Arc<str> = text.into();
    shared.insert(text.clone());
    text
}

/// What makes a policy's replacement necessary, for the plan's warning.
fn replacement_reason(live: &ManagedPolicy, declared: Option<&ManagedPolicy>) -> String {
    let Some(declared) = declared else {
        return "it changes".into();
    };
    let mut what = Vec::new();
    if live.path != declared.path {
        what.push("its path");
    }
    if live.description != declared.description {
        what.push("its description");
    }
    let verb = if what.len() > 1 { "change" } else { "changes" };
    format!("{} {verb}", what.join(" and "))
}

/// The change for a compared resource. Its before/after views are moved in
/// from the comparison afterwards ([`super::plan`]): cloning them would
/// double the plan's largest part.
fn change(diff: &ResourceDiff, action: Action, extra: Option<&str>) -> Change {
    let mut attributes: Vec<String> = diff.attributes.iter().map(|a| a.name.to_string()).collect();
    if let Some(extra) = extra
        && attributes.is_empty()
    {
        attributes.push(extra.to_string());
    }
    Change {
        resource: diff.key.clone(),
        name: diff.instance_name.clone(),
        action,
        before: None,
        after: None,
        attributes,
    }
}

impl<'a> Builder<'a> {
    /// A builder for a run (see [`Runs`]), with room for about its drafts
    /// and changes (grown by doubling, the drafts' spare room was tens of
    /// megabytes), and with what a run reads of this one: the roles the
    /// plan replaces, the profiles it deletes or replaces.
    fn fork(&self, drafts: usize, changes: usize) -> Builder<'a> {
        Builder {
            desired: self.desired,
            live: self.live,
            options: self.options,
            out: Built {
                drafts: Vec::with_capacity(drafts),
                changes: Vec::with_capacity(changes),
                ..Built::default()
            },
            removals: HashMap::new(),
            detachments: HashMap::new(),
            roles_by_policy: HashMap::new(),
            roles_bounded_by: HashMap::new(),
            adds: HashMap::new(),
            replaced_roles: self.replaced_roles.clone(),
            replaced_policies: HashMap::new(),
            deleted_profiles: self.deleted_profiles.clone(),
            replaced_profiles: self.replaced_profiles.clone(),
            profiles_by_role: HashMap::new(),
            instances_by_profile: HashMap::new(),
            handled_instances: HashSet::new(),
            leaving: HashSet::new(),
            reassociated: BTreeMap::new(),
            subjects: self.subjects.sibling(),
            tag_texts: TagTexts::of(self.desired),
            maps: MapsInOrder::new(self.desired, self.live),
        }
    }

    /// Takes in what a run built, after everything this builder built, as
    /// if the run's pass had been drafted here: its facts' subjects renamed
    /// into this builder's, its drafts' indices moved past this one's.
    fn absorb(&mut self, run: Builder<'a>) {
        let renamed = self.subjects.absorb(run.subjects);
        let Built {
            drafts,
            changes,
            warnings,
            problems,
        } = run.out;
        let offset = self.out.drafts.len();
        if renamed.is_identity() {
            self.out.drafts.extend(drafts);
        } else {
            self.out.drafts.extend(
                drafts
                    .into_iter()
                    .map(|draft| draft.with_subjects(&renamed)),
            );
        }
        self.out.changes.extend(changes);
        self.out.warnings.extend(warnings);
        self.out.problems.extend(problems);
        // A run drafts a call no pass before it drafted (see `Runs::of`),
        // and detaches no policy.
        debug_assert!(run.detachments.is_empty());
        for (pair, index) in run.removals {
            self.removals.entry(pair).or_insert(index + offset);
        }
        self.adds.extend(run.adds);
        self.handled_instances.extend(run.handled_instances);
        self.leaving.extend(run.leaving);
        for (profile, titles) in run.reassociated {
            self.reassociated.entry(profile).or_default().extend(titles);
        }
    }

    /// What facts about the role of this name are about.
    fn role_subject(&self, name: &str) -> Subject {
        self.subjects.resource(Kind::Role, name)
    }

    /// What facts about the instance profile of this name are about.
    fn profile_subject(&self, name: &str) -> Subject {
        self.subjects.resource(Kind::InstanceProfile, name)
    }

    /// What facts about the customer-managed policy of this name are about
    /// (that it is gone).
    fn policy_subject(&self, name: &str) -> Subject {
        self.subjects.resource(Kind::Policy, name)
    }

    /// What facts about the resource of this key are about.
    fn key_subject(&self, key: &str) -> Subject {
        self.subjects.key(key)
    }

    /// What facts about the managed policy of this ARN are about.
    fn arn_subject(&self, arn: &str) -> Subject {
        self.subjects.other(arn)
    }

    fn push(&mut self, draft: Draft) -> usize {
        self.out.drafts.push(draft);
        self.out.drafts.len() - 1
    }

    /// A problem with a declared resource, at the place it is declared.
    fn problem(&mut self, key: &str, message: String) {
        let location = self.desired.locations.get(key).cloned();
        self.problem_at(key, location, message);
    }

    fn problem_at(&mut self, key: &str, location: Option<Location>, message: String) {
        self.out.problems.push(Problem {
            key: key.to_string(),
            location,
            message,
        });
    }

    fn ownership_problem(&mut self, diff: &ResourceDiff) {
        let message = match &diff.status {
            Status::Unmanaged => format!(
                "exists in the account but is not managed by rolecall (no `{TAG_STACK}` tag); adopt it with `rolecall import {}`",
                diff.key
            ),
            Status::Foreign(stack) => format!(
                "is owned by stack `{stack}`, not `{}`; rolecall never touches another stack's resources",
                self.desired.stack
            ),
            _ => return,
        };
        // `diff.location`: an instance declared by name is keyed by its id here.
        let title = resource_title(&diff.key, diff.instance_name.as_deref());
        self.problem_at(&title, diff.location.clone(), message);
    }

    fn owned_by_us(&self, tags: &Tags) -> bool {
        ownership::owned_by(tags, &self.desired.stack)
    }

    // ---- customer-managed policies -----------------------------------------

    /// The ARN a declared policy has in this account.
    fn declared_arn(&self, policy: &ManagedPolicy) -> String {
        compare::declared_policy_arn(self.desired, self.live, policy)
    }

    fn policy(&mut self, diff: &ResourceDiff) {
        let name = diff.name.as_str();
        let hash = diff.declared_hash.as_deref().unwrap_or_default();
        match &diff.status {
            Status::Missing => {
                if let Some(policy) = self.desired.policies.get(name) {
                    self.create_policy(policy, hash);
                    self.out.changes.push(change(diff, Action::Create, None));
                }
            }
            Status::Orphaned => {
                if let Some(live) = self.live.policies.get(name) {
                    self.delete_policy(live, None);
                    self.out.changes.push(change(diff, Action::Delete, None));
                }
            }
            Status::Managed => {
                let (Some(policy), Some(live)) = (
                    self.desired.policies.get(name),
                    self.live.policies.get(name),
                ) else {
                    return;
                };
                if diff.in_sync() {
                    self.out.changes.push(change(diff, Action::Noop, None));
                } else if diff.needs_replacement() {
                    let new_arn = self.declared_arn(policy);
                    self.delete_policy(live, Some(&new_arn));
                    self.create_policy(policy, hash);
                    self.out.changes.push(change(diff, Action::Replace, None));
                } else if self.update_policy(live, policy, hash) {
                    self.out
                        .changes
                        .push(change(diff, Action::Update, Some("ownership tags")));
                } else {
                    self.out.changes.push(change(diff, Action::Noop, None));
                }
            }
            Status::Unmanaged | Status::Foreign(_) => self.ownership_problem(diff),
        }
    }

    /// One call: the document is its first (default) version, the tags
    /// carry the final spec hash. Waits for an old policy of the same name
    /// to go (replacement): IAM's policy names are the account's once.
    fn create_policy(&mut self, policy: &ManagedPolicy, hash: &str) {
        let key: Arc<str> = policy_key(&policy.name).into();
        let arn = self.declared_arn(policy);
        let create = CreatePolicyRequest {
            policy_name: policy.name.clone(),
            path: (policy.path != "/").then(|| policy.path.clone()),
            policy_document: policy.document.to_json(),
            description: (!policy.description.is_empty()).then(|| policy.description.clone()),
            tags: self
                .tag_texts
                .owned(&policy.tags, &self.desired.stack, hash),
        };
        self.push(
            Draft::new(key.clone(), Call::CreatePolicy(Box::new(create)))
                .requires(Fact::PolicyGone(self.policy_subject(&policy.name)))
                .provides(Fact::PolicyExists(self.arn_subject(&arn))),
        );
    }

    /// The delete chain: detached from every role holding it, its
    /// non-default versions deleted, then DeletePolicy. `replacement`: the
    /// ARN of the policy created in its place, which the roles that keep
    /// it get.
    fn delete_policy(&mut self, live: &'a LivePolicy, replacement: Option<&str>) {
        let key: Arc<str> = policy_key(&live.policy.name).into();
        let arn = live.arn.as_str();
        let verb = if replacement.is_some() {
            "replaces"
        } else {
            "deletes"
        };
        let holders = self.roles_by_policy.get(arn).cloned().unwrap_or_default();
        // Roles that keep the policy's permissions through its replacement:
        // without them between the detach and the attach.
        let mut kept = Vec::new();
        for role in holders {
            let Some(found) = self.live.roles.get(role) else {
                continue;
            };
            if !self.owned_by_us(&found.role.tags) {
                let message = format!(
                    "role/{role} is not managed by this stack but has policy/{} attached, which this plan {verb}",
                    live.policy.name
                );
                if !self.options.force {
                    let what = if replacement.is_some() {
                        "detach it and attach the new one"
                    } else {
                        "detach it anyway"
                    };
                    self.problem(&key, format!("{message}; rerun with --force to {what}"));
                    continue;
                }
                self.detach(role, arn);
                match replacement {
                    Some(new) => {
                        self.out.warnings.push(format!(
                            "--force: {message}; detaching it, then attaching the new one"
                        ));
                        let draft = self.attach(role, new);
                        self.push(draft);
                        kept.push(role_key(role));
                    }
                    None => self
                        .out
                        .warnings
                        .push(format!("--force: {message}; detaching it")),
                }
                continue;
            }
            let declared = self.desired.roles.get(role);
            if replacement == Some(arn)
                && declared.is_some_and(|r| r.managed_policies.contains(arn))
            {
                // Recreated under the same ARN: the role's own change takes
                // it off and puts the new one on.
                self.detach(role, arn);
                kept.push(role_key(role));
                continue;
            }
            if declared.is_some_and(|r| r.managed_policies.contains(arn)) {
                // A replaced role attaches it again in its create chain,
                // which the policy checks refuse on their own.
                if !self.replaced_roles.contains(role) {
                    let what = match replacement {
                        Some(new) => format!(
                            "attaches `{arn}`, but policy/{} moves to `{new}`; name the policy by its name, or by its new ARN",
                            live.policy.name
                        ),
                        None => format!(
                            "attaches `{arn}`, policy/{} no longer declared and so deleted by this plan; declare the policy again or take it off the role",
                            live.policy.name
                        ),
                    };
                    self.problem(&role_key(role), what);
                }
                continue;
            }
            // The role's own change (or deletion) detaches it: one call.
            self.detach(role, arn);
            if replacement
                .is_some_and(|new| declared.is_some_and(|r| r.managed_policies.contains(new)))
            {
                kept.push(role_key(role));
            }
        }
        // IAM counts a permissions boundary as a use: DeletePolicy refuses
        // while any role has it as its boundary. An owned role's own
        // change or deletion removes it; another's boundary is not this
        // stack's to remove (that would widen what the role may do).
        for role in self.roles_bounded_by.get(arn).cloned().unwrap_or_default() {
            let Some(found) = self.live.roles.get(role) else {
                continue;
            };
            if !self.owned_by_us(&found.role.tags) {
                self.problem(
                    &key,
                    format!(
                        "role/{role} is not managed by this stack and has policy/{} as its permissions boundary, which this plan {verb}: IAM refuses to delete a policy in use, and removing a boundary widens what the role may do; give that role another boundary first",
                        live.policy.name
                    ),
                );
            } else if replacement != Some(arn)
                && self
                    .desired
                    .roles
                    .get(role)
                    .is_some_and(|r| r.permissions_boundary.as_deref() == Some(arn))
            {
                self.problem(
                    &role_key(role),
                    format!(
                        "has `{arn}` as its permissions boundary, the policy/{} this plan {verb}; name another boundary, or the policy's new ARN",
                        live.policy.name
                    ),
                );
            }
        }
        for version in &live.versions {
            if *version == live.default_version_id {
                continue;
            }
            let delete = DeletePolicyVersionRequest {
                policy_arn: arn.to_string(),
                version_id: version.clone(),
            };
            self.push(
                Draft::new(key.clone(), Call::DeletePolicyVersion(delete))
                    .provides(Fact::PolicyVersionsDeleted(self.arn_subject(arn))),
            );
        }
        self.push(
            Draft::new(
                key.clone(),
                Call::DeletePolicy(DeletePolicyRequest {
                    policy_arn: arn.to_string(),
                }),
            )
            .requires(Fact::PolicyUnused(self.arn_subject(arn)))
            .requires(Fact::PolicyVersionsDeleted(self.arn_subject(arn)))
            .provides(Fact::PolicyGone(self.policy_subject(&live.policy.name))),
        );
        if !kept.is_empty() {
            let why =
                replacement_reason(&live.policy, self.desired.policies.get(&live.policy.name));
            self.out.warnings.push(format!(
                "policy/{} is replaced ({why}; IAM cannot change that in place, and a policy name is the account's once, so the old policy goes before the new one comes): roles holding it ({}) are without its permissions between DetachRolePolicy and AttachRolePolicy",
                live.policy.name,
                kept.join(", ")
            ));
        }
    }

    /// In-place changes: a new default version for a new document (the
    /// oldest non-default version deleted first when five are kept), tags.
    /// Returns whether any step was needed.
    fn update_policy(&mut self, live: &LivePolicy, policy: &ManagedPolicy, hash: &str) -> bool {
        let key: Arc<str> = policy_key(&policy.name).into();
        let arn = live.arn.as_str();
        let before = self.out.drafts.len();
        let updated = Fact::AttributesUpdated(self.key_subject(&key));
        if live.policy.document != policy.document {
            if live.versions.len() >= MAX_POLICY_VERSIONS
                && let Some(oldest) = live
                    .versions
                    .iter()
                    .find(|version| **version != live.default_version_id)
            {
                let delete = DeletePolicyVersionRequest {
                    policy_arn: arn.to_string(),
                    version_id: oldest.clone(),
                };
                self.push(
                    Draft::new(key.clone(), Call::DeletePolicyVersion(delete))
                        .provides(Fact::PolicyVersionsDeleted(self.arn_subject(arn))),
                );
                // Old versions are someone's way back: say which one goes, in
                // every format, not only in the calls.
                self.out.warnings.push(format!(
                    "{key}: version {oldest} is deleted to make room for the new document (IAM keeps {MAX_POLICY_VERSIONS} versions; it is the oldest not in effect)"
                ));
            }
            let create = CreatePolicyVersionRequest {
                policy_arn: arn.to_string(),
                policy_document: policy.document.to_json(),
                set_as_default: Some(true),
            };
            self.push(
                Draft::new(key.clone(), Call::CreatePolicyVersion(create))
                    .requires(Fact::PolicyVersionsDeleted(self.arn_subject(arn)))
                    .provides(updated),
            );
        }
        let wanted = ownership::owned_tags(&policy.tags, &self.desired.stack, hash);
        let (set, remove) = ownership::tag_delta(&live.policy.tags, &wanted, false);
        if !remove.is_empty() {
            let untag = UntagPolicyRequest {
                policy_arn: arn.to_string(),
                tag_keys: remove,
            };
            self.push(
                Draft::new(key.clone(), Call::UntagPolicy(untag))
                    .provides(Fact::TagsRemoved(self.key_subject(&key))),
            );
        }
        if !set.is_empty() {
            // Last: the spec tag says "applied".
            let tag = TagPolicyRequest {
                policy_arn: arn.to_string(),
                tags: self.tag_texts.list(&set),
            };
            self.push(
                Draft::new(key.clone(), Call::TagPolicy(tag))
                    .requires(Fact::TagsRemoved(self.key_subject(&key)))
                    .requires(updated),
            );
        }
        self.out.drafts.len() > before
    }

    /// AttachRolePolicy, after the policy is created when this plan creates it.
    fn attach(&self, role: &str, arn: &str) -> Draft {
        self.attach_to(role_key(role).into(), role, arn)
    }

    /// [`Builder::attach`], the role's key at hand.
    fn attach_to(&self, key: Arc<str>, role: &str, arn: &str) -> Draft {
        let attach = AttachRolePolicyRequest {
            role_name: role.to_string(),
            policy_arn: arn.to_string(),
        };
        Draft::new(key, Call::AttachRolePolicy(attach))
            .requires(Fact::PolicyExists(self.arn_subject(arn)))
    }

    /// One DetachRolePolicy per (role, policy), whoever needs it; returns
    /// its draft index, for the caller's own facts.
    fn detach(&mut self, role: &str, arn: &str) -> usize {
        let pair = (role.to_string(), arn.to_string());
        if let Some(&index) = self.detachments.get(&pair) {
            return index;
        }
        let detach = DetachRolePolicyRequest {
            role_name: role.to_string(),
            policy_arn: arn.to_string(),
        };
        let index = self.push(
            Draft::new(role_key(role), Call::DetachRolePolicy(detach))
                .provides(Fact::PolicyUnused(self.arn_subject(arn))),
        );
        self.detachments.insert(pair, index);
        index
    }

    // ---- roles -------------------------------------------------------------

    fn role(&mut self, diff: &ResourceDiff) {
        let name = diff.name.as_str();
        let hash = diff.declared_hash.as_deref().unwrap_or_default();
        match &diff.status {
            Status::Missing => {
                if let Some(role) = self.maps.declared_roles.get(name) {
                    self.create_role(role, hash);
                    self.out.changes.push(change(diff, Action::Create, None));
                }
            }
            Status::Orphaned => {
                if let Some(live) = self.maps.live_roles.get(name) {
                    self.delete_role(&live.role);
                    self.out.changes.push(change(diff, Action::Delete, None));
                }
            }
            Status::Managed => {
                let (Some(role), Some(live)) = (
                    self.maps.declared_roles.get(name),
                    self.maps.live_roles.get(name),
                ) else {
                    return;
                };
                let recreated = self.holds_recreated_policy(&live.role, role);
                if diff.in_sync() && !recreated {
                    // Nothing differs: no call to look for (most of a large,
                    // converged stack).
                    self.out.changes.push(change(diff, Action::Noop, None));
                } else if diff.needs_replacement() {
                    self.delete_role(&live.role);
                    self.create_role(role, hash);
                    self.out.changes.push(change(diff, Action::Replace, None));
                } else if self.update_role(&live.role, role, hash) {
                    // Nothing declared changed: say why there are steps.
                    let why = if recreated {
                        "managed policy (recreated)"
                    } else {
                        "ownership tags"
                    };
                    self.out
                        .changes
                        .push(change(diff, Action::Update, Some(why)));
                } else {
                    self.out.changes.push(change(diff, Action::Noop, None));
                }
            }
            Status::Unmanaged | Status::Foreign(_) => self.ownership_problem(diff),
        }
    }

    fn create_role(&mut self, role: &Role, hash: &str) {
        let key: Arc<str> = role_key(&role.name).into();
        let more_steps = !role.inline_policies.is_empty() || !role.managed_policies.is_empty();
        let spec = if more_steps {
            ownership::PENDING_SPEC
        } else {
            hash
        };
        let create = CreateRoleRequest {
            role_name: role.name.clone(),
            assume_role_policy_document: role.trust.shared_json(),
            path: (role.path != "/").then(|| role.path.clone()),
            description: (!role.description.is_empty()).then(|| role.description.clone()),
            max_session_duration: (role.max_session_duration != DEFAULT_MAX_SESSION_DURATION)
                .then_some(role.max_session_duration),
            permissions_boundary: role.permissions_boundary.clone(),
            tags: self.tag_texts.owned(&role.tags, &self.desired.stack, spec),
        };
        // Each subject looked up once: a role's steps name it a dozen times.
        let me = self.role_subject(&role.name);
        let mut draft = Draft::new(key.clone(), Call::CreateRole(Box::new(create)))
            .requires(Fact::RoleGone(me))
            .provides(Fact::RoleExists(me));
        if let Some(boundary) = &role.permissions_boundary {
            // IAM refuses a boundary that does not exist (yet).
            draft = draft.requires(Fact::PolicyExists(self.arn_subject(boundary)));
        }
        let draft = self.after_trusted_roles(draft, role);
        self.push(draft);
        for (policy_name, document) in &role.inline_policies {
            let put = PutRolePolicyRequest {
                role_name: role.name.clone(),
                policy_name: policy_name.clone(),
                policy_document: document.shared_json(),
            };
            self.push(
                Draft::new(key.clone(), Call::PutRolePolicy(put))
                    .requires(Fact::RoleExists(me))
                    .provides(Fact::RoleReady(me))
                    .provides(Fact::AttributesUpdated(me)),
            );
        }
        for arn in &role.managed_policies {
            let draft = self
                .attach_to(key.clone(), &role.name, arn)
                .requires(Fact::RoleExists(me))
                .provides(Fact::RoleReady(me))
                .provides(Fact::AttributesUpdated(me));
            self.push(draft);
        }
        if more_steps {
            self.push_spec_tag_of(key, me, hash);
        }
    }

    /// The resource's last step: its `rolecall:spec` tag says "applied", so it
    /// follows every other change to the resource (`AttributesUpdated`).
    fn push_spec_tag(&mut self, key: &str, hash: &str) {
        let subject = self.key_subject(key);
        self.push_spec_tag_of(key.into(), subject, hash);
    }

    /// [`Builder::push_spec_tag`], with the key and its subject at hand.
    fn push_spec_tag_of(&mut self, key: Arc<str>, subject: Subject, hash: &str) {
        let tags = vec![self.tag_texts.spec_tag(hash)];
        let call = match key::parts(&key) {
            Some((Kind::Role, name)) => Call::TagRole(TagRoleRequest {
                role_name: name.to_string(),
                tags,
            }),
            Some((Kind::InstanceProfile, name)) => {
                Call::TagInstanceProfile(TagInstanceProfileRequest {
                    instance_profile_name: name.to_string(),
                    tags,
                })
            }
            instance => {
                // An instance: its id, or `instance/NAME` until apply
                // launches it. The account decides which: a Name tag may
                // look like an id.
                let id = instance.map_or(&*key, |(_, id)| id);
                let resource = if self.live.instances.contains_key(id) {
                    id.to_string()
                } else {
                    key.to_string()
                };
                Call::CreateTags(CreateTagsRequest {
                    resources: vec![resource],
                    tags,
                })
            }
        };
        self.push(Draft::new(key, call).requires(Fact::AttributesUpdated(subject)));
    }

    /// IAM refuses a trust policy naming a role of this account that does not
    /// exist (yet): a trust naming roles this plan creates waits for them.
    /// Soft, so two roles trusting each other make a failed step (as on AWS),
    /// not a planner cycle.
    fn after_trusted_roles(&self, mut draft: Draft, role: &Role) -> Draft {
        for arn in &role.trust.aws_principals() {
            // Of this account in its partition, whichever that is.
            if let Some(principal) = RoleArn::parse(arn)
                && principal.is_of(self.live.partition.as_deref(), &self.live.account_id)
                && principal.name != role.name
                && self.desired.roles.contains_key(principal.name)
            {
                draft = draft.prefers(Fact::RoleExists(self.role_subject(principal.name)));
            }
        }
        draft
    }

    /// The delete chain: out of every profile, policies detached and deleted,
    /// boundary removed, then DeleteRole.
    fn delete_role(&mut self, role: &Role) {
        let key: Arc<str> = role_key(&role.name).into();
        let holders: Vec<&str> = self
            .profiles_by_role
            .get(role.name.as_str())
            .cloned()
            .unwrap_or_default();
        for profile in holders {
            let owned = self
                .live
                .profiles
                .get(profile)
                .is_some_and(|p| self.owned_by_us(&p.profile.tags));
            if !owned {
                let message = format!(
                    "instance-profile/{profile} is not managed by this stack but holds role `{}`, which this plan deletes",
                    role.name
                );
                if !self.options.force {
                    self.problem(
                        &key,
                        format!("{message}; rerun with --force to remove it anyway"),
                    );
                    continue;
                }
                self.out
                    .warnings
                    .push(format!("--force: {message}; removing the role from it"));
            } else if self
                .desired
                .profiles
                .get(profile)
                .and_then(|p| p.role.as_deref())
                == Some(role.name.as_str())
                && !self.replaced_roles.contains(role.name.as_str())
            {
                self.problem(
                    &profile_key(profile),
                    format!(
                        "holds role `{}`, which is no longer declared and so is deleted by this plan; declare the role again or give the profile another one",
                        role.name
                    ),
                );
                continue;
            }
            self.remove_role_from_profile(profile, &role.name);
        }
        for arn in &role.managed_policies {
            let index = self.detach(&role.name, arn);
            let emptied = Fact::RoleEmptied(self.role_subject(&role.name));
            self.out.drafts[index].add_provided(emptied);
        }
        for policy_name in role.inline_policies.keys() {
            let delete = DeleteRolePolicyRequest {
                role_name: role.name.clone(),
                policy_name: policy_name.clone(),
            };
            self.push(
                Draft::new(key.clone(), Call::DeleteRolePolicy(delete))
                    .provides(Fact::RoleEmptied(self.role_subject(&role.name))),
            );
        }
        if let Some(boundary) = &role.permissions_boundary {
            let delete = DeleteRolePermissionsBoundaryRequest {
                role_name: role.name.clone(),
            };
            self.push(
                Draft::new(key.clone(), Call::DeleteRolePermissionsBoundary(delete))
                    .provides(Fact::RoleEmptied(self.role_subject(&role.name)))
                    .provides(Fact::PolicyUnused(self.arn_subject(boundary))),
            );
        }
        self.push(
            Draft::new(
                key.clone(),
                Call::DeleteRole(DeleteRoleRequest {
                    role_name: role.name.clone(),
                }),
            )
            .requires(Fact::RoleEmptied(self.role_subject(&role.name)))
            .provides(Fact::RoleGone(self.role_subject(&role.name))),
        );
    }

    /// Whether the role keeps a policy, attached or as its boundary, that
    /// this plan deletes and creates again: it loses it in between and
    /// must get the new one.
    fn holds_recreated_policy(&self, live: &Role, role: &Role) -> bool {
        let kept = |old: &str, declared: Option<&str>| {
            self.replaced_policies
                .get(old)
                .is_some_and(|new| declared == Some(new.as_str()))
        };
        live.managed_policies
            .iter()
            .any(|arn| kept(arn, role.managed_policies.get(arn).map(String::as_str)))
            || live
                .permissions_boundary
                .as_deref()
                .is_some_and(|old| kept(old, role.permissions_boundary.as_deref()))
    }

    /// In-place changes; returns whether any step was needed.
    fn update_role(&mut self, live: &Role, role: &Role, hash: &str) -> bool {
        let key: Arc<str> = role_key(&role.name).into();
        let name = role.name.clone();
        let before = self.out.drafts.len();
        let updated = Fact::AttributesUpdated(self.key_subject(&key));
        // What instances get from the role: a profile hands it to them only
        // once these changes are made (see `add_role_to_profile`).
        let ready = Fact::RoleReady(self.role_subject(&name));
        if live.description != role.description
            || live.max_session_duration != role.max_session_duration
        {
            let update = UpdateRoleRequest {
                role_name: name.clone(),
                description: Some(role.description.clone()),
                max_session_duration: Some(role.max_session_duration),
            };
            self.push(Draft::new(key.clone(), Call::UpdateRole(update)).provides(updated));
        }
        if live.trust != role.trust {
            let update = UpdateAssumeRolePolicyRequest {
                role_name: name.clone(),
                policy_document: role.trust.to_json(),
            };
            let draft = Draft::new(key.clone(), Call::UpdateAssumeRolePolicy(update))
                .provides(ready)
                .provides(updated);
            let draft = self.after_trusted_roles(draft, role);
            self.push(draft);
        }
        // The boundary's policy is replaced and the role keeps it: a
        // policy's name is the account's once, so the new one comes only
        // after the old one went, and IAM deletes none that is a boundary.
        let boundary_recreated = live
            .permissions_boundary
            .as_deref()
            .and_then(|old| self.replaced_policies.get(old))
            .filter(|new| role.permissions_boundary.as_ref() == Some(*new))
            .cloned();
        if let (Some(new), Some(old)) = (boundary_recreated, &live.permissions_boundary) {
            let message = format!(
                "its permissions boundary `{old}` is replaced by this plan: between DeleteRolePermissionsBoundary and PutRolePermissionsBoundary the role has no boundary, and may do more than the boundary allows"
            );
            if self.options.force {
                self.out
                    .warnings
                    .push(format!("--force: role/{name}: {message}"));
            } else {
                self.problem(
                    &key,
                    format!("{message}; rerun with --force to do it anyway"),
                );
            }
            let delete = DeleteRolePermissionsBoundaryRequest {
                role_name: name.clone(),
            };
            self.push(
                Draft::new(key.clone(), Call::DeleteRolePermissionsBoundary(delete))
                    .provides(Fact::PolicyUnused(self.arn_subject(old)))
                    .provides(updated),
            );
            let put = PutRolePermissionsBoundaryRequest {
                role_name: name.clone(),
                permissions_boundary: new.clone(),
            };
            self.push(
                Draft::new(key.clone(), Call::PutRolePermissionsBoundary(put))
                    .requires(Fact::PolicyExists(self.arn_subject(&new)))
                    .provides(ready)
                    .provides(updated),
            );
        } else if live.permissions_boundary != role.permissions_boundary {
            let call = match &role.permissions_boundary {
                Some(arn) => Call::PutRolePermissionsBoundary(PutRolePermissionsBoundaryRequest {
                    role_name: name.clone(),
                    permissions_boundary: arn.clone(),
                }),
                None => Call::DeleteRolePermissionsBoundary(DeleteRolePermissionsBoundaryRequest {
                    role_name: name.clone(),
                }),
            };
            let mut draft = Draft::new(key.clone(), call)
                .provides(ready)
                .provides(updated);
            if let Some(new) = &role.permissions_boundary {
                draft = draft.requires(Fact::PolicyExists(self.arn_subject(new)));
            }
            if let Some(old) = &live.permissions_boundary {
                draft = draft.provides(Fact::PolicyUnused(self.arn_subject(old)));
            }
            self.push(draft);
        }
        // Attach before detach, so the role is never without either
        // policy; but a role holds at most 10 managed policies, so when the
        // new ones do not fit beside the old, the old go first.
        let attaching: Vec<&String> = role
            .managed_policies
            .difference(&live.managed_policies)
            .collect();
        let room = live.managed_policies.len() + attaching.len() <= MAX_MANAGED_POLICIES;
        let detaching: Vec<&String> = live
            .managed_policies
            .difference(&role.managed_policies)
            .collect();
        if !room && !attaching.is_empty() && !detaching.is_empty() {
            let names = |arns: &[&String]| {
                arns.iter()
                    .map(|arn| rolecall_model::name_from_arn(arn))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            self.out.warnings.push(format!(
                "{key} cannot hold more than {MAX_MANAGED_POLICIES} managed policies: it detaches {} before it attaches {}, so for a moment it has the permissions of neither",
                names(&detaching),
                names(&attaching)
            ));
        }
        for arn in live.managed_policies.difference(&role.managed_policies) {
            let index = self.detach(&name, arn);
            let detached = Fact::RolePoliciesDetached(self.role_subject(&name));
            let attached = Fact::RolePoliciesAttached(self.role_subject(&name));
            // A replaced policy's new self is attached only once the old
            // one is deleted: its detach cannot wait for the attaches.
            let replaced = self.replaced_policies.contains_key(arn.as_str());
            let draft = &mut self.out.drafts[index];
            for fact in [detached, ready, updated] {
                draft.add_provided(fact);
            }
            if room && !replaced {
                draft.add_preferred(attached);
            }
        }
        // A policy kept under the same ARN but recreated (its description
        // changes): off the role before it goes, back on once it is new.
        let recreated: Vec<&String> = live
            .managed_policies
            .intersection(&role.managed_policies)
            .filter(|arn| self.replaced_policies.get(arn.as_str()) == Some(*arn))
            .collect();
        for arn in recreated {
            let index = self.detach(&name, arn);
            self.out.drafts[index].add_provided(updated);
            let draft = self.attach(&name, arn).provides(ready).provides(updated);
            self.push(draft);
        }
        for arn in attaching {
            let mut draft = self
                .attach(&name, arn)
                .provides(ready)
                .provides(updated)
                .provides(Fact::RolePoliciesAttached(self.role_subject(&name)));
            if !room {
                draft = draft.requires(Fact::RolePoliciesDetached(self.role_subject(&name)));
            }
            self.push(draft);
        }
        // Delete before put: inline policies share a 10,240-character quota.
        for policy_name in live.inline_policies.keys() {
            if !role.inline_policies.contains_key(policy_name) {
                let delete = DeleteRolePolicyRequest {
                    role_name: name.clone(),
                    policy_name: policy_name.clone(),
                };
                self.push(
                    Draft::new(key.clone(), Call::DeleteRolePolicy(delete))
                        .provides(Fact::RoleInlineDeleted(self.role_subject(&name)))
                        .provides(ready)
                        .provides(updated),
                );
            }
        }
        for (policy_name, document) in &role.inline_policies {
            if live.inline_policies.get(policy_name) != Some(document) {
                let put = PutRolePolicyRequest {
                    role_name: name.clone(),
                    policy_name: policy_name.clone(),
                    policy_document: document.shared_json(),
                };
                self.push(
                    Draft::new(key.clone(), Call::PutRolePolicy(put))
                        .requires(Fact::RoleInlineDeleted(self.role_subject(&name)))
                        .provides(ready)
                        .provides(updated),
                );
            }
        }
        let wanted = ownership::owned_tags(&role.tags, &self.desired.stack, hash);
        let (set, remove) = ownership::tag_delta(&live.tags, &wanted, true);
        if !remove.is_empty() {
            let untag = UntagRoleRequest {
                role_name: name.clone(),
                tag_keys: remove,
            };
            self.push(
                Draft::new(key.clone(), Call::UntagRole(untag))
                    .provides(Fact::TagsRemoved(self.key_subject(&key))),
            );
        }
        if !set.is_empty() {
            // Last: the spec tag says "applied", so it follows every other change.
            let tag = TagRoleRequest {
                role_name: name.clone(),
                tags: self.tag_texts.list(&set),
            };
            self.push(
                Draft::new(key.clone(), Call::TagRole(tag))
                    .requires(Fact::TagsRemoved(self.key_subject(&key)))
                    .requires(updated),
            );
        }
        self.out.drafts.len() > before
    }

    // ---- instance profiles -------------------------------------------------

    fn profile(&mut self, diff: &ResourceDiff) {
        let name = diff.name.as_str();
        let hash = diff.declared_hash.as_deref().unwrap_or_default();
        match &diff.status {
            Status::Missing => {
                if let Some(profile) = self.maps.declared_profiles.get(name) {
                    self.create_profile(profile, hash);
                    self.out.changes.push(change(diff, Action::Create, None));
                }
            }
            Status::Orphaned => {
                if let Some(live) = self.maps.live_profiles.get(name) {
                    self.delete_profile(&live.profile);
                    self.out.changes.push(change(diff, Action::Delete, None));
                }
            }
            Status::Managed => {
                let (Some(profile), Some(live)) = (
                    self.maps.declared_profiles.get(name),
                    self.maps.live_profiles.get(name),
                ) else {
                    return;
                };
                let role_replaced = profile
                    .role
                    .as_deref()
                    .is_some_and(|r| self.replaced_roles.contains(r));
                if diff.in_sync() && !role_replaced {
                    self.out.changes.push(change(diff, Action::Noop, None));
                } else if diff.needs_replacement() {
                    self.delete_profile(&live.profile);
                    self.create_profile(profile, hash);
                    self.out.changes.push(change(diff, Action::Replace, None));
                } else if self.update_profile(&live.profile, profile, hash) {
                    // Nothing declared changed: say why there are steps.
                    let why = if role_replaced {
                        "role (recreated)"
                    } else {
                        "ownership tags"
                    };
                    self.out
                        .changes
                        .push(change(diff, Action::Update, Some(why)));
                } else {
                    self.out.changes.push(change(diff, Action::Noop, None));
                }
            }
            Status::Unmanaged | Status::Foreign(_) => self.ownership_problem(diff),
        }
    }

    fn create_profile(&mut self, profile: &'a InstanceProfile, hash: &str) {
        let key: Arc<str> = profile_key(&profile.name).into();
        let spec = if profile.role.is_some() {
            ownership::PENDING_SPEC
        } else {
            hash
        };
        let create = CreateInstanceProfileRequest {
            instance_profile_name: profile.name.clone(),
            path: (profile.path != "/").then(|| profile.path.clone()),
            tags: self
                .tag_texts
                .owned(&profile.tags, &self.desired.stack, spec),
        };
        let me = self.profile_subject(&profile.name);
        self.push(
            Draft::new(key.clone(), Call::CreateInstanceProfile(create))
                .requires(Fact::ProfileGone(me))
                .provides(Fact::ProfileExists(me)),
        );
        if let Some(role) = &profile.role {
            self.check_role_reference(&key, role);
            self.add_role_to_profile(&key, &profile.name, role);
            self.push_spec_tag_of(key, me, hash);
        }
    }

    /// Disassociations happen in the instance pass; then the role comes out and
    /// the profile goes.
    fn delete_profile(&mut self, profile: &InstanceProfile) {
        let key: Arc<str> = profile_key(&profile.name).into();
        if let Some(role) = &profile.role {
            self.remove_role_from_profile(&profile.name, role);
        }
        self.push(
            Draft::new(
                key.clone(),
                Call::DeleteInstanceProfile(DeleteInstanceProfileRequest {
                    instance_profile_name: profile.name.clone(),
                }),
            )
            .requires(Fact::ProfileRoleRemoved(
                self.profile_subject(&profile.name),
            ))
            .requires(Fact::ProfileUnused(self.profile_subject(&profile.name)))
            .provides(Fact::ProfileGone(self.profile_subject(&profile.name))),
        );
    }

    fn update_profile(
        &mut self,
        live: &InstanceProfile,
        profile: &'a InstanceProfile,
        hash: &str,
    ) -> bool {
        let key: Arc<str> = profile_key(&profile.name).into();
        let before = self.out.drafts.len();
        let role_replaced = profile
            .role
            .as_deref()
            .is_some_and(|r| self.replaced_roles.contains(r));
        if live.role != profile.role || role_replaced {
            let removal = live
                .role
                .as_ref()
                .map(|old| self.remove_role_from_profile(&profile.name, old));
            if let Some(new) = &profile.role {
                self.check_role_reference(&key, new);
                self.adds.insert(&profile.name, new);
                self.add_role_to_profile(&key, &profile.name, new);
                if let Some(removal) = removal
                    && live.role.as_ref() != Some(new)
                {
                    // A role swap leaves instances without credentials between
                    // the two calls: build the new role completely first, so
                    // the gap is two adjacent calls. Soft, because the new role
                    // may itself wait for this removal (it replaces a role).
                    let new = self.role_subject(new);
                    let draft = &mut self.out.drafts[removal];
                    draft.add_preferred(Fact::RoleExists(new));
                    draft.add_preferred(Fact::RoleReady(new));
                }
            }
        }
        let wanted = ownership::owned_tags(&profile.tags, &self.desired.stack, hash);
        let (set, remove) = ownership::tag_delta(&live.tags, &wanted, false);
        if !remove.is_empty() {
            let untag = UntagInstanceProfileRequest {
                instance_profile_name: profile.name.clone(),
                tag_keys: remove,
            };
            self.push(
                Draft::new(key.clone(), Call::UntagInstanceProfile(untag))
                    .provides(Fact::TagsRemoved(self.key_subject(&key))),
            );
        }
        if !set.is_empty() {
            let tag = TagInstanceProfileRequest {
                instance_profile_name: profile.name.clone(),
                tags: self.tag_texts.list(&set),
            };
            self.push(
                Draft::new(key.clone(), Call::TagInstanceProfile(tag))
                    .requires(Fact::TagsRemoved(self.key_subject(&key)))
                    .requires(Fact::AttributesUpdated(self.key_subject(&key))),
            );
        }
        self.out.drafts.len() > before
    }

    /// AddRoleToInstanceProfile; `key` is the profile's.
    fn add_role_to_profile(&mut self, key: &Arc<str>, profile: &str, role: &str) {
        let me = self.profile_subject(profile);
        let role_subject = self.role_subject(role);
        self.push(
            Draft::new(
                key.clone(),
                Call::AddRoleToInstanceProfile(AddRoleToInstanceProfileRequest {
                    instance_profile_name: profile.to_string(),
                    role_name: role.to_string(),
                }),
            )
            .requires(Fact::ProfileExists(me))
            .requires(Fact::ProfileRoleRemoved(me))
            .requires(Fact::RoleExists(role_subject))
            .requires(Fact::RoleReady(role_subject))
            .provides(Fact::ProfileReady(me))
            .provides(Fact::AttributesUpdated(me)),
        );
    }

    /// One RemoveRoleFromInstanceProfile per (profile, role), whoever needs
    /// it; returns its draft index.
    fn remove_role_from_profile(&mut self, profile: &str, role: &str) -> usize {
        let pair = (profile.to_string(), role.to_string());
        if let Some(&index) = self.removals.get(&pair) {
            return index;
        }
        let key: Arc<str> = profile_key(profile).into();
        let mut draft = Draft::new(
            key.clone(),
            Call::RemoveRoleFromInstanceProfile(RemoveRoleFromInstanceProfileRequest {
                instance_profile_name: profile.to_string(),
                role_name: role.to_string(),
            }),
        )
        .provides(Fact::ProfileRoleRemoved(self.profile_subject(profile)))
        .provides(Fact::RoleEmptied(self.role_subject(role)))
        .provides(Fact::AttributesUpdated(self.key_subject(&key)));
        // docs/design.md, "delete profile": disassociate instances before
        // the role leaves a dying profile; and an instance leaving a profile
        // that stays goes before the role does, so that only the instances
        // staying on it go without credentials (as the plan's warning says).
        // Not an AWS rule, so a preference: when an instance moves to a
        // profile holding this very role, recreated, it must yield.
        draft = draft.prefers(Fact::ProfileUnused(self.profile_subject(profile)));
        let index = self.push(draft);
        self.removals.insert(pair, index);
        index
    }

    /// A role a profile names must be declared, or exist and not be deleted by this plan.
    fn check_role_reference(&mut self, key: &str, role: &str) {
        if self.maps.declared_roles.get(role).is_some() {
            return;
        }
        match self.live.roles.get(role) {
            None => self.problem(
                key,
                format!("role `{role}` is neither declared in the manifests nor present in the account"),
            ),
            Some(live) if self.owned_by_us(&live.role.tags) => self.problem(
                key,
                format!(
                    "role `{role}` is owned by this stack but no longer declared, so this plan deletes it; declare it again"
                ),
            ),
            Some(_) => {}
        }
    }

    /// `key` is the instance as declared (where a problem is); a problem
    /// names the instance as the plan does, by its id once it is found.
    fn check_profile_reference(&mut self, key: &str, found: &InstanceMatch, profile: &str) {
        if self.desired.profiles.contains_key(profile) {
            return;
        }
        let title = || match found {
            InstanceMatch::Found(id) => self
                .live
                .instances
                .get(id)
                .map_or_else(|| instance_key(id), live_title),
            _ => key.to_string(),
        };
        let location = self.desired.locations.get(key).cloned();
        match self.live.profiles.get(profile) {
            None => self.problem_at(
                &title(),
                location,
                format!(
                    "instance profile `{profile}` is neither declared in the manifests nor present in the account"
                ),
            ),
            Some(live) if self.owned_by_us(&live.profile.tags) => self.problem_at(
                &title(),
                location,
                format!(
                    "instance profile `{profile}` is owned by this stack but no longer declared, so this plan deletes it; declare it again"
                ),
            ),
            Some(_) => {}
        }
    }

    // ---- instances ---------------------------------------------------------

    /// The declared instances of positions `run` (and their matches).
    fn declared_instances(
        &mut self,
        cmp: &Comparison,
        diffs: &HashMap<&str, (usize, &'a ResourceDiff)>,
        run: std::ops::Range<usize>,
    ) {
        let declared = self.desired.instances.iter().zip(&cmp.instance_matches);
        for (spec, found) in declared.skip(run.start).take(run.len()) {
            let declared_key = compare::declared_key(spec);
            if let Some(profile) = &spec.profile {
                self.check_profile_reference(&declared_key, found, profile);
            }
            match found {
                // Already reported as a problem.
                InstanceMatch::Duplicate => {}
                // Several instances carry the name: rolecall will not choose.
                InstanceMatch::Ambiguous(ids) => {
                    if let InstanceSelector::Name(name) = &spec.selector {
                        self.problem(&declared_key, compare::ambiguous_message(name, ids));
                    }
                }
                InstanceMatch::Absent => {
                    let diff = self.focus_on_instance(diffs, &declared_key);
                    // The diff under this key is an orphan's when the
                    // account's instance of that id is owned and no longer
                    // declared (`name: i-…` declares another): the hash is
                    // then this declaration's own.
                    let hash = diff
                        .and_then(|diff| diff.declared_hash.clone())
                        .unwrap_or_else(|| compare::instance_hash(spec.profile.as_deref()));
                    self.launch(
                        &declared_key,
                        &spec.selector,
                        spec.profile.as_deref(),
                        &hash,
                        diff,
                    );
                }
                InstanceMatch::Found(id) => {
                    let key: Arc<str> = instance_key(id).into();
                    let (Some(diff), Some(live)) = (
                        self.focus_on_instance(diffs, &key),
                        self.live.instances.get(id),
                    ) else {
                        continue;
                    };
                    if diff.status != Status::Managed {
                        self.ownership_problem(diff);
                        continue;
                    }
                    self.handled_instances.insert(&live.instance_id);
                    let mut changed = self.associate(live, spec.profile.as_deref());
                    if diff.spec != Some(SpecTag::Current) {
                        // Record what was applied, after the association changed.
                        let hash = diff.declared_hash.as_deref().unwrap_or_default();
                        self.push_spec_tag(&key, hash);
                        changed = true;
                    }
                    let action = if changed {
                        Action::Update
                    } else {
                        Action::Noop
                    };
                    let recreated = spec
                        .profile
                        .as_deref()
                        .is_some_and(|p| self.replaced_profiles.contains(p));
                    let why = if recreated {
                        "profile (recreated)"
                    } else {
                        "ownership tags"
                    };
                    self.out.changes.push(change(diff, action, Some(why)));
                }
            }
        }
    }

    /// The diff of the instance of `key`, if any, its subject made the
    /// focus ([`Subjects::focus`]) from the diff's position, with no
    /// second lookup by key (unless it has no diff).
    fn focus_on_instance(
        &self,
        diffs: &HashMap<&str, (usize, &'a ResourceDiff)>,
        key: &str,
    ) -> Option<&'a ResourceDiff> {
        match diffs.get(key) {
            Some(&(at, diff)) => {
                self.subjects.focus(at, diff);
                Some(diff)
            }
            None => {
                self.subjects.focus_on_key(key);
                None
            }
        }
    }

    /// Instances owned but no longer declared: released, never terminated.
    fn undeclared_instances(&mut self, cmp: &'a Comparison) {
        for (at, diff) in (cmp.diffs.iter().enumerate())
            .filter(|(_, d)| d.kind == Kind::Instance && d.status == Status::Orphaned)
        {
            self.subjects.focus(at, diff);
            let Some(live) = self.live.instances.get(&diff.name) else {
                continue;
            };
            self.handled_instances.insert(&live.instance_id);
            if self.options.launch_instances && live.tags.contains_key(TAG_LAUNCHED) {
                self.terminate(diff, live);
                continue;
            }
            if let Some(association) = &live.association {
                let profile = association.profile_name.as_str();
                if self.replaced_profiles.contains(profile) {
                    // Released, not abandoned: it keeps its profile.
                    self.reassociate(live, profile);
                } else if self.deleted_profiles.contains(profile) {
                    self.disassociate(live);
                }
            }
            // Ownership goes last: until its profile changes above are made,
            // the instance must stay this stack's, or a rerun after a failure
            // in between would find an instance it does not own on a profile
            // it deletes.
            let release = DeleteTagsRequest {
                resources: vec![live.instance_id.clone()],
                tags: [TAG_STACK, TAG_SPEC]
                    .into_iter()
                    .map(|key| TagKeyMaybeValue {
                        key: key.to_string(),
                        value: None,
                    })
                    .collect(),
            };
            self.push(
                Draft::new(diff.key.as_str(), Call::DeleteTags(release))
                    .requires(Fact::AttributesUpdated(self.key_subject(&diff.key))),
            );
            self.out.changes.push(change(diff, Action::Delete, None));
        }
    }

    /// Instances rolecall does not manage, still using a profile this plan
    /// deletes (or deletes and creates again, to change its path): after
    /// every instance the plan handles itself.
    fn users_of_dying_profiles(&mut self) {
        let mut dying: Vec<&str> = self.deleted_profiles.iter().copied().collect();
        dying.sort_unstable();
        for profile in dying {
            let replaced = self.replaced_profiles.contains(profile);
            let users = self
                .instances_by_profile
                .get(profile)
                .cloned()
                .unwrap_or_default();
            for live in users {
                if self.handled_instances.contains(live.instance_id.as_str()) {
                    continue;
                }
                let message = format!(
                    "{} is not managed by this stack but uses instance-profile/{profile}, which this plan {}",
                    live_title(live),
                    if replaced { "replaces" } else { "deletes" }
                );
                if !self.options.force {
                    let what = if replaced {
                        "disassociate it and associate it with the new profile"
                    } else {
                        "disassociate it anyway"
                    };
                    self.problem(
                        &profile_key(profile),
                        format!("{message}; rerun with --force to {what}"),
                    );
                    continue;
                }
                if replaced {
                    self.out.warnings.push(format!(
                        "--force: {message}; disassociating it, then associating it with the new profile"
                    ));
                    self.reassociate(live, profile);
                } else {
                    self.out
                        .warnings
                        .push(format!("--force: {message}; disassociating it"));
                    self.disassociate(live);
                }
            }
        }
    }

    /// A lab instance rolecall launched and the stack no longer declares goes
    /// as it came: terminated (EC2 drops its association). Releasing it would
    /// leave an unowned instance under a declared name behind, which the next
    /// apply of the same manifests could only import.
    fn terminate(&mut self, diff: &ResourceDiff, live: &'a LiveInstance) {
        self.leaving.insert(&live.instance_id);
        let mut draft = Draft::new(
            diff.key.as_str(),
            Call::TerminateInstances(TerminateInstancesRequest {
                instance_ids: vec![live.instance_id.clone()],
            }),
        )
        .provides(Fact::InstanceFree(self.key_subject(&diff.key)));
        if let Some(association) = &live.association {
            draft = draft.provides(Fact::ProfileUnused(
                self.profile_subject(&association.profile_name),
            ));
        }
        self.push(draft);
        self.out
            .changes
            .push(change(diff, Action::Delete, Some(TERMINATED)));
    }

    /// Takes an instance off a profile that is replaced and puts it back on
    /// the new one.
    fn reassociate(&mut self, live: &'a LiveInstance, profile: &str) {
        self.disassociate(live);
        self.push_associate(live, profile);
        self.reassociated
            .entry(profile.to_string())
            .or_default()
            .push(live_title(live));
    }

    fn launch(
        &mut self,
        key: &str,
        selector: &InstanceSelector,
        profile: Option<&str>,
        hash: &str,
        diff: Option<&ResourceDiff>,
    ) {
        let name = match selector {
            InstanceSelector::Id(id) => {
                self.problem(
                    key,
                    format!(
                        "no instance with id `{id}` exists in the account (it may have been terminated: terminated instances are gone for rolecall); declare a running instance, or remove this one"
                    ),
                );
                return;
            }
            InstanceSelector::Name(name) => name,
        };
        if !self.options.launch_instances {
            self.problem(
                key,
                format!(
                    "no instance is named `{name}`; rolecall launches instances only on the emulated account"
                ),
            );
            return;
        }
        // EC2 refuses to launch with a profile that holds no role; such an
        // instance is launched bare and associated afterwards.
        let roleless = profile.is_some_and(|p| match self.desired.profiles.get(p) {
            Some(declared) => declared.role.is_none(),
            None => self
                .live
                .profiles
                .get(p)
                .is_some_and(|l| l.profile.role.is_none()),
        });
        let associate_later = profile.filter(|_| roleless);
        let spec = if associate_later.is_some() {
            ownership::PENDING_SPEC
        } else {
            hash
        };
        let run = RunInstancesRequest {
            min_count: 1,
            max_count: 1,
            iam_instance_profile: profile
                .filter(|_| !roleless)
                .map(IamInstanceProfileSpecification::by_name),
            tag_specifications: vec![TagSpecification {
                resource_type: "instance".into(),
                tags: vec![
                    self.tag_texts.tag("Name", name),
                    self.tag_texts.tag(TAG_STACK, &self.desired.stack),
                    self.tag_texts.tag(TAG_SPEC, spec),
                    self.tag_texts.tag(TAG_LAUNCHED, "true"),
                ],
            }],
            ..RunInstancesRequest::default()
        };
        let mut draft = Draft::new(key, Call::RunInstances(Box::new(run)))
            .provides(Fact::InstanceLaunched(self.key_subject(key)));
        if let Some(profile) = profile.filter(|_| !roleless) {
            draft = self.ready_to_use(draft, profile);
        }
        self.push(draft);
        if let Some(profile) = associate_later {
            // The id is not known yet: `instance/NAME` stands for the instance
            // the RunInstances step launches (apply substitutes it).
            let request = AssociateIamInstanceProfileRequest {
                iam_instance_profile: IamInstanceProfileSpecification::by_name(profile),
                instance_id: key.to_string(),
            };
            let draft = Draft::new(key, Call::AssociateIamInstanceProfile(request))
                .requires(Fact::InstanceLaunched(self.key_subject(key)))
                .provides(Fact::AttributesUpdated(self.key_subject(key)));
            let draft = self.ready_to_use(draft, profile);
            self.push(draft);
            self.push_spec_tag(key, hash);
        }
        if let Some(diff) = diff {
            self.out.changes.push(change(diff, Action::Create, None));
        }
    }

    /// Steps that give a managed instance its declared profile; returns whether any.
    fn associate(&mut self, live: &'a LiveInstance, wanted: Option<&str>) -> bool {
        let key: Arc<str> = instance_key(&live.instance_id).into();
        let current = live.association.as_ref();
        match (current, wanted) {
            (None, None) => false,
            (Some(_), None) => {
                self.disassociate(live);
                true
            }
            (None, Some(profile)) => {
                self.push_associate(live, profile);
                true
            }
            (Some(a), Some(profile)) if a.profile_name == profile => {
                if !self.replaced_profiles.contains(profile) {
                    return false;
                }
                // The profile is deleted and recreated: re-associate at the end.
                self.reassociate(live, profile);
                true
            }
            (Some(a), Some(profile))
                if live.state == InstanceState::Running
                    && !(self.replaced_profiles.contains(a.profile_name.as_str())
                        && self.replaced_profiles.contains(profile)) =>
            {
                // Replace keeps credentials flowing; EC2 allows it only while
                // running. Not between two profiles that are both recreated:
                // the old one goes only once unused, the new one comes only
                // after its old self went, so two instances swapping them
                // would each wait for the other. Such a move goes through
                // no profile (below), as the instances staying on either do.
                let replace = ReplaceIamInstanceProfileAssociationRequest {
                    iam_instance_profile: IamInstanceProfileSpecification::by_name(profile),
                    association_id: a.association_id.clone(),
                };
                let draft = Draft::new(
                    key.clone(),
                    Call::ReplaceIamInstanceProfileAssociation(replace),
                )
                .provides(Fact::ProfileUnused(self.profile_subject(&a.profile_name)))
                .provides(Fact::AttributesUpdated(self.key_subject(&key)));
                let draft = self.ready_to_use(draft, profile);
                self.push(draft);
                self.leaving.insert(&live.instance_id);
                true
            }
            (Some(_), Some(profile)) => {
                self.disassociate(live);
                self.push_associate(live, profile);
                if live.state == InstanceState::Running {
                    // Only a move between two recreated profiles gets here
                    // running: warned about with the profile's other users.
                    self.reassociated
                        .entry(profile.to_string())
                        .or_default()
                        .push(live_title(live));
                }
                true
            }
        }
    }

    /// What an instance needs before it may use `profile`: the profile, holding
    /// its declared role, and that role with all its declared policies.
    fn ready_to_use(&self, mut draft: Draft, profile: &str) -> Draft {
        let subject = self.profile_subject(profile);
        draft = draft
            .requires(Fact::ProfileExists(subject))
            .requires(Fact::ProfileReady(subject));
        if let Some(role) = self
            .desired
            .profiles
            .get(profile)
            .and_then(|p| p.role.as_ref())
        {
            draft = draft.requires(Fact::RoleReady(self.role_subject(role)));
        }
        draft
    }

    fn disassociate(&mut self, live: &'a LiveInstance) {
        self.leaving.insert(&live.instance_id);
        let Some(association) = &live.association else {
            return;
        };
        let key: Arc<str> = instance_key(&live.instance_id).into();
        let request = DisassociateIamInstanceProfileRequest {
            association_id: association.association_id.clone(),
        };
        self.push(
            Draft::new(key.clone(), Call::DisassociateIamInstanceProfile(request))
                .provides(Fact::ProfileUnused(
                    self.profile_subject(&association.profile_name),
                ))
                .provides(Fact::InstanceFree(self.key_subject(&key)))
                .provides(Fact::AttributesUpdated(self.key_subject(&key))),
        );
    }

    fn push_associate(&mut self, live: &LiveInstance, profile: &str) {
        let key: Arc<str> = instance_key(&live.instance_id).into();
        let request = AssociateIamInstanceProfileRequest {
            iam_instance_profile: IamInstanceProfileSpecification::by_name(profile),
            instance_id: live.instance_id.clone(),
        };
        let draft = Draft::new(key.clone(), Call::AssociateIamInstanceProfile(request))
            .requires(Fact::InstanceFree(self.key_subject(&key)))
            .provides(Fact::AttributesUpdated(self.key_subject(&key)));
        let draft = self.ready_to_use(draft, profile);
        self.push(draft);
    }

    /// Warns, or refuses, when a profile that stays loses its role while
    /// instances use it: every instance using it loses its credentials, for
    /// good or until the new role is added.
    fn users_of_profiles_losing_their_role(&mut self) {
        // Profile -> the role it loses.
        let mut affected: BTreeMap<String, String> = BTreeMap::new();
        for (profile, role) in self.removals.keys() {
            if !self.deleted_profiles.contains(profile.as_str()) {
                affected.insert(profile.clone(), role.clone());
            }
        }
        let ids = |list: &[&LiveInstance]| {
            list.iter()
                .map(|i| live_title(i))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (profile, removed) in affected {
            // Only the instances that stay on it: one moving elsewhere (or
            // terminated) does not depend on this profile's role.
            let users: Vec<&LiveInstance> = self
                .instances_by_profile
                .get(profile.as_str())
                .into_iter()
                .flatten()
                .copied()
                .filter(|i| !self.leaving.contains(i.instance_id.as_str()))
                .collect();
            if users.is_empty() {
                continue;
            }
            let added = self.adds.get(profile.as_str()).copied();
            let readded = added.is_some();
            let unmanaged: Vec<&LiveInstance> = users
                .iter()
                .copied()
                .filter(|i| !self.owned_by_us(&i.tags))
                .collect();
            if !unmanaged.is_empty() && !readded {
                let what = format!(
                    "loses its role while instances not managed by this stack use it ({})",
                    ids(&unmanaged)
                );
                if !self.options.force {
                    // The problem is printed under the profile's key already.
                    self.problem(
                        &profile_key(&profile),
                        format!("{what}; rerun with --force to do it anyway"),
                    );
                } else {
                    // One warning for the whole event, naming every instance.
                    self.out.warnings.push(format!(
                        "--force: instance-profile/{profile} {what}; every instance using it ({}) will get no credentials",
                        ids(&users)
                    ));
                }
                continue;
            }
            let message = if added == Some(removed.as_str()) {
                format!(
                    "instance-profile/{profile} gets its role back after role/{removed} is replaced: instances using it ({}) have no credentials in between",
                    ids(&users)
                )
            } else if readded {
                format!(
                    "instance-profile/{profile} switches role: instances using it ({}) have no credentials between RemoveRoleFromInstanceProfile and AddRoleToInstanceProfile",
                    ids(&users)
                )
            } else {
                format!(
                    "instance-profile/{profile} loses its role: instances using it ({}) will get no credentials",
                    ids(&users)
                )
            };
            self.out.warnings.push(message);
        }
    }

    /// A profile cannot be recreated while the old one exists: instances that
    /// stay on it are without credentials while it is replaced.
    fn users_of_replaced_profiles(&mut self) {
        for (profile, instances) in std::mem::take(&mut self.reassociated) {
            self.out.warnings.push(format!(
                "instance-profile/{profile} is replaced (its path changes): instances using it ({}) have no credentials between DisassociateIamInstanceProfile and AssociateIamInstanceProfile",
                instances.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{TagTexts, Tags, ownership, replacement_reason};
    use rolecall_model::{ManagedPolicy, PolicyDocument};

    /// A created resource's tags are the map `owned_tags` builds, in
    /// its order, whatever keys the declared ones have.
    #[test]
    fn owned_tags_merge_as_the_map_orders_them() {
        let declared: [&[(&str, &str)]; 6] = [
            &[],
            &[("team", "a"), ("Owner", "b")],
            &[("rolecall:spec", "declared"), ("rolecall:sp", "x")],
            &[
                ("rolecall:stack", "other"),
                ("rolecall:st", "y"),
                ("zz", "z"),
            ],
            &[
                ("rolecall:spec", "1"),
                ("rolecall:stack", "2"),
                ("rolecall:t", "3"),
            ],
            &[
                ("a", ""),
                ("rolecall:", "r"),
                ("rolecall:spec0", "s"),
                ("\u{e9}", "u"),
            ],
        ];
        for tags in declared {
            let user: Tags = tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let mut texts = TagTexts::new("web", &Tags::new());
            let merged = texts.owned(&user, "web", "hash");
            let expected = texts.list(&ownership::owned_tags(&user, "web", "hash"));
            assert_eq!(merged, expected, "{tags:?}");
        }
    }

    #[test]
    fn a_replacement_names_what_changes_in_a_sentence() {
        let live = ManagedPolicy {
            name: "p".into(),
            path: "/".into(),
            description: String::new(),
            document: PolicyDocument::parse(r#"{"Version":"2012-10-17","Statement":[]}"#).unwrap(),
            tags: Default::default(),
        };
        let moved = ManagedPolicy {
            path: "/ops/".into(),
            ..live.clone()
        };
        let both = ManagedPolicy {
            description: "ops".into(),
            ..moved.clone()
        };
        assert_eq!(replacement_reason(&live, Some(&moved)), "its path changes");
        assert_eq!(
            replacement_reason(&live, Some(&both)),
            "its path and its description change"
        );
        assert_eq!(replacement_reason(&live, None), "it changes");
    }
}
