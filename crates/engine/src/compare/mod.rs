//! Desired vs Live, resource by resource, attribute by attribute.
//!
//! The comparison knows nothing of API calls: `plan` turns it into steps,
//! `drift` into a report and `import` reads who owns what, so they always
//! agree on what differs.
//!
//! - `ownership`: the `rolecall:stack` / `rolecall:spec` tags;
//! - `view`: resources as plans and reports show them.

use std::borrow::Cow;
use std::collections::BTreeMap;

// foldhash: hundreds of thousands of names hashed in a large comparison.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use serde::Serialize;
use serde_json::{Value, json};

pub mod ownership;
pub mod view;

use ownership::Owner;
use rolecall_model::{
    DEFAULT_PARTITION, Desired, InstanceProfile, InstanceSelector, InstanceSpec, Live,
    LiveInstance, Location, ManagedPolicy, Role, Tags, instance_key, policy_key, profile_key,
    resource_title, role_key,
};
use view::{instance_view, live_instance_view, policy_view, profile_view, role_view};

pub use rolecall_model::Kind;
pub use view::{Attribute, Shown, View};

/// How a resource stands between manifests and account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Declared, absent from the account.
    Missing,
    /// Owned by this stack, no longer declared.
    Orphaned,
    /// Declared, exists, owned by nobody: needs `rolecall import`.
    Unmanaged,
    /// Declared, exists, owned by another stack.
    Foreign(String),
    /// Declared and owned by this stack.
    Managed,
}

/// One attribute that differs, as JSON values for rendering.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributeDiff {
    pub name: &'static str,
    pub before: Value,
    pub after: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceDiff {
    /// `role/NAME`, `instance-profile/NAME`, `instance/ID` (or `instance/NAME` before launch).
    pub key: String,
    pub kind: Kind,
    /// Role or profile name, or instance id (name for one not yet launched).
    pub name: String,
    /// An instance's Name tag (the declared name of one still to be
    /// launched): what people know it by, shown beside its key.
    pub instance_name: Option<String>,
    pub status: Status,
    /// For managed resources: how the live `rolecall:spec` tag compares with
    /// the declared hash.
    pub spec: Option<SpecTag>,
    pub attributes: Vec<AttributeDiff>,
    /// The resource as the account holds it (user tags only); `None` for a
    /// managed resource already in sync (nothing to show).
    pub before: Option<View>,
    /// The resource as declared.
    pub after: Option<View>,
    /// The views [`Views::Later`] left to [`views_due_on`] (roles and
    /// profiles).
    #[serde(skip)]
    pub due: ViewsDue,
    /// The declared resource's spec hash, for its ownership tags; `None` for
    /// one not declared. Kept with its diff, which every pass walks: looked
    /// up by name in a map of 100,000, it was a tenth of drafting.
    #[serde(skip)]
    pub declared_hash: Option<String>,
    /// Where it is declared, for a diff the plan refuses (a resource
    /// unmanaged or another stack's: `steps` names the place); `None` for
    /// the others, which need none ([`refused_location`]).
    #[serde(skip)]
    pub location: Option<Location>,
}

/// Where the resource of `key` is declared, if a diff of `status` is
/// refused; looked up in the manifests' map for those alone (for every
/// resource of a large stack, it was a tenth of comparing them).
fn refused_location(desired: &Desired, key: &str, status: &Status) -> Option<Location> {
    match status {
        Status::Unmanaged | Status::Foreign(_) => desired.locations.get(key).cloned(),
        Status::Managed | Status::Missing | Status::Orphaned => None,
    }
}

/// Whether [`compare_with`] builds the views of declared roles and
/// profiles as it compares them, or only notes which are due
/// ([`ResourceDiff::due`]) for [`views_due_on`] to build from the same
/// manifests and account. A plan
/// builds them once its steps are drafted, or as it writes each change:
/// at 100,000 roles they are some 85 MB that need not stand beside the
/// drafts, nor beside the ordering, at the plan's peak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Views {
    Now,
    Later,
}

/// Which of a diff's views are due ([`Views::Later`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewsDue {
    pub before: bool,
    pub after: bool,
}

impl Views {
    /// The view `make` builds: now, or none yet, noted in `due`.
    fn view(self, due: &mut bool, make: impl FnOnce() -> Option<View>) -> Option<View> {
        match self {
            Views::Now => make(),
            Views::Later => {
                *due = true;
                None
            }
        }
    }

    /// [`Views::view`] of a resource's two sides, unless it is settled.
    fn sides(
        self,
        settled: bool,
        due: &mut ViewsDue,
        before: impl FnOnce() -> Option<View>,
        after: impl FnOnce() -> Option<View>,
    ) -> (Option<View>, Option<View>) {
        if settled {
            return (None, None);
        }
        (
            self.view(&mut due.before, before),
            self.view(&mut due.after, after),
        )
    }
}

/// The views [`Views::Later`] left due on a role or a profile of this
/// kind and name (`due`, its diff's [`ResourceDiff::due`]), built from the
/// manifests and the account it was compared with. By kind and name, not
/// by diff: a plan keeps a change's [`ViewsDue`], not the diffs of
/// 100,000 resources, until the change is written.
pub fn views_due_on(
    desired: &Desired,
    live: &Live,
    kind: Kind,
    name: &str,
    due: ViewsDue,
) -> (Option<View>, Option<View>) {
    let ViewsDue { before, after } = due;
    match kind {
        Kind::Role => (
            before
                .then(|| role_view(&live.roles.get(name)?.role))
                .flatten(),
            after.then(|| role_view(desired.roles.get(name)?)).flatten(),
        ),
        Kind::InstanceProfile => (
            before
                .then(|| profile_view(&live.profiles.get(name)?.profile))
                .flatten(),
            after
                .then(|| profile_view(desired.profiles.get(name)?))
                .flatten(),
        ),
        Kind::Policy | Kind::Instance => (None, None),
    }
}

impl ResourceDiff {
    /// A resource this stack owns that the manifests no longer declare, as
    /// the account holds it.
    pub(crate) fn orphaned(key: String, kind: Kind, name: String, before: Option<View>) -> Self {
        ResourceDiff {
            key,
            kind,
            name,
            instance_name: None,
            status: Status::Orphaned,
            spec: None,
            attributes: Vec::new(),
            before,
            after: None,
            due: ViewsDue::default(),
            declared_hash: None,
            location: None,
        }
    }

    /// Whether the diff shows the resource (views built or due): it is
    /// not in sync, or it is an instance.
    pub fn shows(&self) -> bool {
        self.before.is_some() || self.after.is_some() || self.due != ViewsDue::default()
    }

    pub fn attribute(&self, name: &str) -> Option<&AttributeDiff> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Managed, nothing differs and the spec tag is current: no call needed.
    pub fn in_sync(&self) -> bool {
        self.status == Status::Managed && in_sync(&self.attributes, self.spec)
    }

    /// A path change cannot be made in place: IAM has no rename or move.
    /// Nor can a customer-managed policy's description change: IAM has no
    /// UpdatePolicy.
    pub fn needs_replacement(&self) -> bool {
        self.status == Status::Managed
            && self.attributes.iter().any(|a| replaces(self.kind, a.name))
    }
}

/// Whether a change of `attribute` of a resource of `kind` can only be made
/// by deleting the resource and creating it again.
pub fn replaces(kind: Kind, attribute: &str) -> bool {
    match kind {
        Kind::Policy => matches!(attribute, "path" | "description"),
        Kind::Role | Kind::InstanceProfile => attribute == "path",
        Kind::Instance => false,
    }
}

/// The live `rolecall:spec` tag of a managed resource against the declared hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecTag {
    /// Equal: the manifests did not change since the last apply, so any
    /// difference was made outside rolecall.
    Current,
    /// Different (or [`PENDING_SPEC`](ownership::PENDING_SPEC), written
    /// by a create whose last step has not run): the manifests changed, or an
    /// apply did not finish.
    Stale,
    /// Removed: someone took the tag off outside rolecall.
    Absent,
}

impl SpecTag {
    fn of(tags: &Tags, hash: &str) -> SpecTag {
        match ownership::live_spec_hash(tags) {
            None => SpecTag::Absent,
            Some(live) if live == hash => SpecTag::Current,
            Some(_) => SpecTag::Stale,
        }
    }
}

/// Where a declared instance stands in the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceMatch {
    /// Exactly one live instance: its id.
    Found(String),
    /// No live instance by that name (the emulator may launch it).
    Absent,
    /// The instance another declaration already matched (a problem is reported).
    Duplicate,
    /// Several live instances carry the declared name (their ids, sorted):
    /// `plan` refuses to choose one, `drift` reports it.
    Ambiguous(Vec<String>),
}

/// Why a declared name that several instances carry cannot be reconciled.
pub fn ambiguous_message(name: &str, ids: &[String]) -> String {
    format!(
        "{} instances are named `{name}` ({}); name exactly one, or declare it by `id`",
        ids.len(),
        ids.join(", ")
    )
}

/// A reason the manifests cannot be reconciled with the account as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub location: Option<Location>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.location {
            Some(location) => write!(f, "{location}: {}: {}", self.key, self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

/// The whole comparison.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    /// Sorted by kind, then key.
    pub diffs: Vec<ResourceDiff>,
    /// Per declared instance (same order as `Desired::instances`).
    pub instance_matches: Vec<InstanceMatch>,
    pub problems: Vec<Problem>,
}

/// Hash of a declared instance: what rolecall manages of it is its profile.
/// Written `{"profile":…}`, as a JSON object of that one key is.
pub fn instance_hash(profile: Option<&str>) -> String {
    #[derive(Serialize)]
    struct InstanceSpec<'a> {
        profile: Option<&'a str>,
    }
    ownership::spec_hash(&InstanceSpec { profile })
}

/// `desired` with every role's `managed_policies` entry that names a
/// declared policy rewritten as that policy's ARN in `live`'s account
/// ([`Desired::resolve_policy_names`]), so that roles compare ARNs with ARNs.
/// Plan, drift and import start here: they take the manifests and the
/// account together, and only then is the account known. Borrowed when no
/// role names a policy (no copy of a large stack).
pub fn resolved<'a>(desired: &'a Desired, live: &Live) -> Cow<'a, Desired> {
    let names_a_policy = desired.roles.values().any(|role| {
        role.managed_policies
            .iter()
            .any(|entry| !entry.starts_with("arn:"))
    });
    if desired.policies.is_empty() || !names_a_policy {
        return Cow::Borrowed(desired);
    }
    let mut resolved = desired.clone();
    resolved.resolve_policy_names(account_partition(live), &live.account_id);
    Cow::Owned(resolved)
}

/// The partition of `live`'s account, `aws` when the backend cannot tell.
pub fn account_partition(live: &Live) -> &str {
    live.partition.as_deref().unwrap_or(DEFAULT_PARTITION)
}

/// The ARN a declared policy has, or will have, in `live`'s account: the
/// stack's partition wins, as in [`Desired::resolve_policy_names`].
pub fn declared_policy_arn(desired: &Desired, live: &Live, policy: &ManagedPolicy) -> String {
    let partition = desired
        .partition
        .as_deref()
        .unwrap_or_else(|| account_partition(live));
    rolecall_model::policy_arn(partition, &live.account_id, &policy.path, &policy.name)
}

/// Compares the manifests with the account. Roles must name their policies
/// by ARN: see [`resolved`].
pub fn compare(desired: &Desired, live: &Live) -> Comparison {
    compare_with(desired, live, Views::Now)
}

/// [`compare`], building the views of roles and profiles now or leaving
/// them due ([`Views`]).
pub fn compare_with(desired: &Desired, live: &Live, views: Views) -> Comparison {
    let mut out = Comparison::default();
    // A diff for every declared resource, and for the orphans: room for the
    // declared ones up front (doubling left up to half a large vector unused).
    out.diffs.reserve_exact(
        desired.policies.len()
            + desired.roles.len()
            + desired.profiles.len()
            + desired.instances.len(),
    );
    compare_policies(desired, live, &mut out);
    compare_roles(desired, live, views, &mut out);
    compare_profiles(desired, live, views, &mut out);
    compare_instances(desired, live, &mut out);
    out.diffs
        .sort_by(|a, b| (a.kind, &a.key).cmp(&(b.kind, &b.key)));
    out
}

fn status_of(stack: &str, tags: &Tags) -> Status {
    match ownership::owner(tags) {
        Owner::Nobody => Status::Unmanaged,
        Owner::Stack(owner) if owner == stack => Status::Managed,
        Owner::Stack(owner) => Status::Foreign(owner),
    }
}

/// Live names by their lowercase form, to find a declared name that differs
/// only in case (IAM names are unique ignoring case).
fn case_index<V>(map: &BTreeMap<String, V>) -> HashMap<String, &str> {
    map.keys()
        .map(|k| (k.to_ascii_lowercase(), k.as_str()))
        .collect()
}

/// A managed resource whose attributes match and whose spec tag is current:
/// nothing to show, so its before/after views are not built (at 100,000
/// resources, building them dominated planning a converged account).
fn in_sync(attributes: &[AttributeDiff], spec: Option<SpecTag>) -> bool {
    attributes.is_empty() && spec == Some(SpecTag::Current)
}

fn tags_equal(a: &Tags, b: &Tags, ignore_case: bool) -> bool {
    let (set, remove) = ownership::tag_delta(a, b, ignore_case);
    set.is_empty() && remove.is_empty()
}

/// Whether a live resource's user tags (all but rolecall's own) equal the
/// declared ones, as [`tags_equal`] decides on [`ownership::user_tags`].
/// Most resources of a large stack carry exactly the declared tags: that is
/// checked first, walking both sorted maps with no allocation (copying and
/// folding every resource's tags took a third of a converged diff). Keys
/// that differ, or differ only in case where case is ignored, take the
/// general path.
fn user_tags_equal(live: &Tags, desired: &Tags, ignore_case: bool) -> bool {
    let user = live
        .iter()
        .filter(|(k, _)| !k.starts_with(rolecall_model::RESERVED_TAG_PREFIX));
    let same = user.clone().eq(desired.iter());
    let twins = ignore_case
        && desired.keys().enumerate().any(|(i, k)| {
            desired
                .keys()
                .skip(i + 1)
                .any(|other| other.eq_ignore_ascii_case(k))
        });
    if same && !twins {
        return true;
    }
    tags_equal(&ownership::user_tags(live), desired, ignore_case)
}

fn push_if<T: PartialEq + Serialize>(
    out: &mut Vec<AttributeDiff>,
    name: &'static str,
    before: &T,
    after: &T,
) {
    if before != after {
        out.push(AttributeDiff {
            name,
            before: json!(before),
            after: json!(after),
        });
    }
}

fn role_attributes(live: &Role, desired: &Role) -> Vec<AttributeDiff> {
    let mut out = Vec::new();
    push_if(&mut out, "path", &live.path, &desired.path);
    push_if(
        &mut out,
        "description",
        &live.description,
        &desired.description,
    );
    push_if(&mut out, "trust", &live.trust, &desired.trust);
    push_if(
        &mut out,
        "max_session_duration",
        &live.max_session_duration,
        &desired.max_session_duration,
    );
    push_if(
        &mut out,
        "permissions_boundary",
        &live.permissions_boundary,
        &desired.permissions_boundary,
    );
    push_if(
        &mut out,
        "managed_policies",
        &live.managed_policies,
        &desired.managed_policies,
    );
    push_if(
        &mut out,
        "inline_policies",
        &live.inline_policies,
        &desired.inline_policies,
    );
    if !user_tags_equal(&live.tags, &desired.tags, true) {
        out.push(AttributeDiff {
            name: "tags",
            before: json!(ownership::user_tags(&live.tags)),
            after: json!(desired.tags),
        });
    }
    out
}

fn policy_attributes(live: &ManagedPolicy, desired: &ManagedPolicy) -> Vec<AttributeDiff> {
    let mut out = Vec::new();
    push_if(&mut out, "path", &live.path, &desired.path);
    push_if(
        &mut out,
        "description",
        &live.description,
        &desired.description,
    );
    push_if(&mut out, "document", &live.document, &desired.document);
    // Compared as written: IAM keeps a policy's tag keys case-sensitively,
    // unlike a role's (docs/aws-semantics.md §16).
    if !user_tags_equal(&live.tags, &desired.tags, false) {
        out.push(AttributeDiff {
            name: "tags",
            before: json!(ownership::user_tags(&live.tags)),
            after: json!(desired.tags),
        });
    }
    out
}

fn profile_attributes(live: &InstanceProfile, desired: &InstanceProfile) -> Vec<AttributeDiff> {
    let mut out = Vec::new();
    push_if(&mut out, "path", &live.path, &desired.path);
    push_if(&mut out, "role", &live.role, &desired.role);
    if !user_tags_equal(&live.tags, &desired.tags, false) {
        out.push(AttributeDiff {
            name: "tags",
            before: json!(ownership::user_tags(&live.tags)),
            after: json!(desired.tags),
        });
    }
    out
}

fn compare_policies(desired: &Desired, live: &Live, out: &mut Comparison) {
    let live_names = case_index(&live.policies);
    for (name, policy) in &desired.policies {
        let key = policy_key(name);
        let hash = ownership::spec_hash(policy);
        let Some(found) = live.policies.get(name) else {
            if let Some(twin) = live_names.get(&name.to_ascii_lowercase()) {
                out.problems.push(Problem {
                    key: key.clone(),
                    location: desired.locations.get(&key).cloned(),
                    message: format!(
                        "the account has a policy named `{twin}`; IAM policy names ignore case, so declare it as `{twin}`"
                    ),
                });
            }
            out.diffs.push(ResourceDiff {
                key,
                kind: Kind::Policy,
                name: name.clone(),
                instance_name: None,
                status: Status::Missing,
                spec: None,
                attributes: Vec::new(),
                before: None,
                after: policy_view(policy),
                due: ViewsDue::default(),
                declared_hash: Some(hash),
                location: None,
            });
            continue;
        };
        let status = status_of(&desired.stack, &found.policy.tags);
        let spec = (status == Status::Managed).then(|| SpecTag::of(&found.policy.tags, &hash));
        let attributes = policy_attributes(&found.policy, policy);
        let settled = in_sync(&attributes, spec);
        let location = refused_location(desired, &key, &status);
        out.diffs.push(ResourceDiff {
            key,
            kind: Kind::Policy,
            name: name.clone(),
            instance_name: None,
            status,
            spec,
            attributes,
            before: (!settled).then(|| policy_view(&found.policy)).flatten(),
            after: (!settled).then(|| policy_view(policy)).flatten(),
            due: ViewsDue::default(),
            declared_hash: Some(hash),
            location,
        });
    }
    for (name, found) in undeclared(&live.policies, &desired.policies) {
        if ownership::owned_by(&found.policy.tags, &desired.stack) {
            out.diffs.push(ResourceDiff::orphaned(
                policy_key(name),
                Kind::Policy,
                name.clone(),
                policy_view(&found.policy),
            ));
        }
    }
}

/// The entries of `live` whose names `declared` lacks, in order: both maps
/// are walked side by side, in their common order, with no lookup per name
/// (a large converged stack is 100,000 lookups a kind).
fn undeclared<'a, V, W>(
    live: &'a BTreeMap<String, V>,
    declared: &'a BTreeMap<String, W>,
) -> impl Iterator<Item = (&'a String, &'a V)> {
    let mut declared = declared.keys().peekable();
    live.iter().filter(move |(name, _)| {
        while declared.next_if(|d| d < name).is_some() {}
        declared.peek() != Some(name)
    })
}

/// What comparing one declared resource gives.
struct Compared {
    /// A live resource whose name differs only in case.
    problem: Option<Problem>,
    diff: ResourceDiff,
}

/// Declared resources compared on a thread, at least: each is a spec hash
/// and, unless it is in sync, two views, all serialised, and independent.
const RESOURCES_WORTH_A_THREAD: usize = 2_000;

/// Each declared resource compared by `compare_one`, on every core; its
/// problem and diff (holding its declared hash) go to `out` in
/// declaration order.
fn compare_declared<T: Sync>(
    declared: &BTreeMap<String, T>,
    out: &mut Comparison,
    compare_one: impl Fn(&str, &T) -> Compared + Sync,
) {
    let declared: Vec<(&String, &T)> = declared.iter().collect();
    let compared = crate::parallel::runs(&declared, RESOURCES_WORTH_A_THREAD, |_, run| {
        run.iter()
            .map(|&(name, resource)| compare_one(name, resource))
            .collect::<Vec<_>>()
    });
    for compared in compared.into_iter().flatten() {
        out.problems.extend(compared.problem);
        out.diffs.push(compared.diff);
    }
}

fn compare_roles(desired: &Desired, live: &Live, views: Views, out: &mut Comparison) {
    let live_names = case_index(&live.roles);
    compare_declared(&desired.roles, out, |name, role| {
        compare_role(desired, live, views, &live_names, name, role)
    });
    for (name, found) in undeclared(&live.roles, &desired.roles) {
        if ownership::owned_by(&found.role.tags, &desired.stack) {
            out.diffs.push(ResourceDiff::orphaned(
                role_key(name),
                Kind::Role,
                name.clone(),
                role_view(&found.role),
            ));
        }
    }
}

fn compare_role(
    desired: &Desired,
    live: &Live,
    views: Views,
    live_names: &HashMap<String, &str>,
    name: &str,
    role: &Role,
) -> Compared {
    let key = role_key(name);
    let hash = ownership::spec_hash(role);
    let Some(found) = live.roles.get(name) else {
        let problem = live_names.get(&name.to_ascii_lowercase()).map(|twin| Problem {
            key: key.clone(),
            location: desired.locations.get(&key).cloned(),
            message: format!(
                "the account has a role named `{twin}`; IAM role names ignore case, so declare it as `{twin}`"
            ),
        });
        let mut due = ViewsDue::default();
        let after = views.view(&mut due.after, || role_view(role));
        return Compared {
            problem,
            diff: ResourceDiff {
                key,
                kind: Kind::Role,
                name: name.to_string(),
                instance_name: None,
                status: Status::Missing,
                spec: None,
                attributes: Vec::new(),
                before: None,
                after,
                due,
                declared_hash: Some(hash),
                location: None,
            },
        };
    };
    let status = status_of(&desired.stack, &found.role.tags);
    let spec = (status == Status::Managed).then(|| SpecTag::of(&found.role.tags, &hash));
    let attributes = role_attributes(&found.role, role);
    let settled = in_sync(&attributes, spec);
    let mut due = ViewsDue::default();
    let (before, after) = views.sides(
        settled,
        &mut due,
        || role_view(&found.role),
        || role_view(role),
    );
    let location = refused_location(desired, &key, &status);
    Compared {
        problem: None,
        diff: ResourceDiff {
            key,
            kind: Kind::Role,
            name: name.to_string(),
            instance_name: None,
            status,
            spec,
            attributes,
            before,
            after,
            due,
            declared_hash: Some(hash),
            location,
        },
    }
}

fn compare_profiles(desired: &Desired, live: &Live, views: Views, out: &mut Comparison) {
    let live_names = case_index(&live.profiles);
    compare_declared(&desired.profiles, out, |name, profile| {
        compare_profile(desired, live, views, &live_names, name, profile)
    });
    for (name, found) in undeclared(&live.profiles, &desired.profiles) {
        if ownership::owned_by(&found.profile.tags, &desired.stack) {
            out.diffs.push(ResourceDiff::orphaned(
                profile_key(name),
                Kind::InstanceProfile,
                name.clone(),
                profile_view(&found.profile),
            ));
        }
    }
}

fn compare_profile(
    desired: &Desired,
    live: &Live,
    views: Views,
    live_names: &HashMap<String, &str>,
    name: &str,
    profile: &InstanceProfile,
) -> Compared {
    let key = profile_key(name);
    let hash = ownership::spec_hash(profile);
    let Some(found) = live.profiles.get(name) else {
        let problem = live_names.get(&name.to_ascii_lowercase()).map(|twin| Problem {
            key: key.clone(),
            location: desired.locations.get(&key).cloned(),
            message: format!(
                "the account has an instance profile named `{twin}`; IAM names ignore case, so declare it as `{twin}`"
            ),
        });
        let mut due = ViewsDue::default();
        let after = views.view(&mut due.after, || profile_view(profile));
        return Compared {
            problem,
            diff: ResourceDiff {
                key,
                kind: Kind::InstanceProfile,
                name: name.to_string(),
                instance_name: None,
                status: Status::Missing,
                spec: None,
                attributes: Vec::new(),
                before: None,
                after,
                due,
                declared_hash: Some(hash),
                location: None,
            },
        };
    };
    let status = status_of(&desired.stack, &found.profile.tags);
    let spec = (status == Status::Managed).then(|| SpecTag::of(&found.profile.tags, &hash));
    let attributes = profile_attributes(&found.profile, profile);
    // A role that moves path is recreated, and leaves and rejoins the
    // profile: the profile changes too, and a change shows its views.
    let role_moves = profile.role.as_ref().is_some_and(|r| {
        matches!(
            (desired.roles.get(r), live.roles.get(r)),
            (Some(declared), Some(found)) if declared.path != found.role.path
        )
    });
    let settled = in_sync(&attributes, spec) && !role_moves;
    let mut due = ViewsDue::default();
    let (before, after) = views.sides(
        settled,
        &mut due,
        || profile_view(&found.profile),
        || profile_view(profile),
    );
    let location = refused_location(desired, &key, &status);
    Compared {
        problem: None,
        diff: ResourceDiff {
            key,
            kind: Kind::InstanceProfile,
            name: name.to_string(),
            instance_name: None,
            status,
            spec,
            before,
            after,
            due,
            declared_hash: Some(hash),
            attributes,
            location,
        },
    }
}

/// What a declared instance matched, as the matching pass leaves it for
/// the comparing pass.
enum Matched<'a> {
    /// Ambiguous or a duplicate: reported, nothing to compare.
    Reported,
    Absent,
    Found(&'a LiveInstance),
}

/// The live instances a Name tag is on: nearly always one.
enum Named<'a> {
    One(&'a LiveInstance),
    Many(Vec<&'a LiveInstance>),
}

impl<'a> Named<'a> {
    fn add(&mut self, instance: &'a LiveInstance) {
        match self {
            Named::One(first) => *self = Named::Many(vec![*first, instance]),
            Named::Many(instances) => instances.push(instance),
        }
    }
}

/// Declared instances are matched to live ones in order, on one thread
/// (the first declaration of an instance wins); then each is compared, on
/// every core: its spec hash and views are independent of the others'.
fn compare_instances(desired: &Desired, live: &Live, out: &mut Comparison) {
    // The live instances by Name tag, each found whole: looked up by id
    // in the account's map again, 100,000 of them were a fifth of
    // matching (and a vector a name, nearly all of one instance, as many
    // allocations).
    let mut by_name: HashMap<&str, Named> = HashMap::with_capacity(live.instances.len());
    for instance in live.instances.values() {
        if let Some(name) = &instance.name {
            by_name
                .entry(name)
                .and_modify(|named| named.add(instance))
                .or_insert(Named::One(instance));
        }
    }
    // Live instance id -> the declaration that matched it first.
    let mut declared_ids: HashMap<&str, &InstanceSpec> = HashMap::new();
    // Instances that carry a declared name several carry: claimed by that
    // declaration (reported as ambiguous), so never orphans.
    let mut contested: HashSet<&str> = HashSet::new();
    let mut matched: Vec<(&InstanceSpec, Matched)> = Vec::with_capacity(desired.instances.len());
    for spec in &desired.instances {
        let found = match &spec.selector {
            InstanceSelector::Id(id) => live.instances.get(id),
            InstanceSelector::Name(name) => match by_name.get(name.as_str()) {
                None => None,
                Some(Named::One(instance)) => Some(*instance),
                Some(Named::Many(instances)) => {
                    let ids = instances.iter().map(|i| i.instance_id.as_str());
                    contested.extend(ids.clone());
                    let mut ids: Vec<String> = ids.map(str::to_string).collect();
                    ids.sort_unstable();
                    out.instance_matches.push(InstanceMatch::Ambiguous(ids));
                    matched.push((spec, Matched::Reported));
                    continue;
                }
            },
        };
        let Some(found) = found else {
            out.instance_matches.push(InstanceMatch::Absent);
            matched.push((spec, Matched::Absent));
            continue;
        };
        if let Some(first) = declared_ids.get(found.instance_id.as_str()) {
            let key = declared_key(spec);
            let first_key = declared_key(first);
            let first = desired
                .locations
                .get(&first_key)
                .map_or_else(String::new, |l| format!(" at {l}"));
            out.problems.push(Problem {
                location: desired.locations.get(&key).cloned(),
                key,
                message: format!(
                    "matches {}, which is already declared as `{first_key}`{first}; declare each instance once",
                    resource_title(&instance_key(&found.instance_id), found.name.as_deref())
                ),
            });
            out.instance_matches.push(InstanceMatch::Duplicate);
            matched.push((spec, Matched::Reported));
            continue;
        }
        declared_ids.insert(found.instance_id.as_str(), spec);
        out.instance_matches
            .push(InstanceMatch::Found(found.instance_id.clone()));
        matched.push((spec, Matched::Found(found)));
    }
    let compared = crate::parallel::runs(&matched, RESOURCES_WORTH_A_THREAD, |_, run| {
        run.iter()
            .filter_map(|(spec, matched)| match matched {
                Matched::Reported => None,
                Matched::Absent => Some(absent_instance(spec)),
                Matched::Found(found) => Some(found_instance(desired, spec, found)),
            })
            .collect::<Vec<_>>()
    });
    out.diffs.extend(compared.into_iter().flatten());
    for (id, instance) in &live.instances {
        if declared_ids.contains_key(id.as_str()) || contested.contains(id.as_str()) {
            continue;
        }
        if ownership::owned_by(&instance.tags, &desired.stack) {
            out.diffs.push(ResourceDiff {
                instance_name: instance.name.clone(),
                ..ResourceDiff::orphaned(
                    instance_key(id),
                    Kind::Instance,
                    id.clone(),
                    live_instance_view(instance),
                )
            });
        }
    }
}

/// An instance's key as declared: `instance/ID` or `instance/NAME` (where
/// its declaration is, and how plans name it until it is found or launched).
pub fn declared_key(spec: &InstanceSpec) -> String {
    match &spec.selector {
        InstanceSelector::Id(id) => instance_key(id),
        InstanceSelector::Name(name) => instance_key(name),
    }
}

/// The diff of a declared instance the account does not have.
fn absent_instance(spec: &InstanceSpec) -> ResourceDiff {
    let key = declared_key(spec);
    let (id, name) = match &spec.selector {
        InstanceSelector::Id(id) => (Some(id.as_str()), None),
        InstanceSelector::Name(name) => (None, Some(name.as_str())),
    };
    ResourceDiff {
        location: None,
        key,
        kind: Kind::Instance,
        name: id.or(name).unwrap_or_default().to_string(),
        instance_name: name.map(str::to_string),
        status: Status::Missing,
        spec: None,
        attributes: Vec::new(),
        before: None,
        after: instance_view(id, name, spec.profile.as_deref()),
        due: ViewsDue::default(),
        declared_hash: Some(instance_hash(spec.profile.as_deref())),
    }
}

/// The diff of a declared instance matched to `found`, keyed by the
/// instance's id.
fn found_instance(desired: &Desired, spec: &InstanceSpec, found: &LiveInstance) -> ResourceDiff {
    let declared_key = declared_key(spec);
    let live_profile = found.association.as_ref().map(|a| a.profile_name.clone());
    let mut attributes = Vec::new();
    push_if(&mut attributes, "profile", &live_profile, &spec.profile);
    let hash = instance_hash(spec.profile.as_deref());
    let status = status_of(&desired.stack, &found.tags);
    let spec_tag = (status == Status::Managed).then(|| SpecTag::of(&found.tags, &hash));
    let location = refused_location(desired, &declared_key, &status);
    // Views even when in sync: small, and they carry the Name tag that
    // headers show beside the id (a profile recreated under it changes
    // the instance with no attribute of its own changing).
    ResourceDiff {
        key: instance_key(&found.instance_id),
        kind: Kind::Instance,
        name: found.instance_id.clone(),
        instance_name: found.name.clone(),
        status,
        spec: spec_tag,
        before: live_instance_view(found),
        after: instance_view(
            Some(&found.instance_id),
            found.name.as_deref(),
            spec.profile.as_deref(),
        ),
        attributes,
        due: ViewsDue::default(),
        declared_hash: Some(hash),
        location,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::{instance_hash, ownership, undeclared};

    /// An instance's hash is the one accounts hold in their tags: that of
    /// the JSON object `{"profile": …}`, with a profile or without.
    #[test]
    fn an_instance_hash_is_that_of_its_profile_as_a_json_object() {
        for profile in [Some("web"), Some("a \"quoted\" name"), None] {
            assert_eq!(
                instance_hash(profile),
                ownership::spec_hash(&serde_json::json!({ "profile": profile }))
            );
        }
    }

    proptest! {
        /// Walking both maps side by side finds exactly the live names
        /// that are not declared, in order.
        #[test]
        fn undeclared_is_the_live_names_not_declared(
            live in proptest::collection::btree_set("[a-c]{0,3}", 0..12),
            declared in proptest::collection::btree_set("[a-c]{0,3}", 0..12),
        ) {
            let live: BTreeMap<String, ()> = live.into_iter().map(|n| (n, ())).collect();
            let declared: BTreeMap<String, ()> = declared.into_iter().map(|n| (n, ())).collect();
            let walked: Vec<&String> = undeclared(&live, &declared).map(|(n, _)| n).collect();
            let expected: Vec<&String> =
                live.keys().filter(|n| !declared.contains_key(*n)).collect();
            prop_assert_eq!(walked, expected);
        }
    }

    #[test]
    fn undeclared_with_either_map_empty() {
        let some: BTreeMap<String, ()> = [("a".to_string(), ()), ("b".to_string(), ())].into();
        let none: BTreeMap<String, ()> = BTreeMap::new();
        assert_eq!(undeclared(&some, &none).count(), 2);
        assert_eq!(undeclared(&none, &some).count(), 0);
        assert_eq!(undeclared(&some, &some).count(), 0);
    }
}
