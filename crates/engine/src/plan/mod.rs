//! Plan: diff Desired against Live, then sequence the changes into an ordered
//! DAG of AWS API calls that AWS will accept in that order.
//!
//! The comparison itself (and ownership tags) is [`crate::compare`], shared
//! with drift and import.
//!
//! - `steps`: which API calls each change needs and what they depend on;
//! - `refusals`: what the account's limits and state make certain to fail;
//! - `subjects`: what the facts are about, as numbers;
//! - `sequence`: fact-based dependencies and the deterministic order;
//! - `render`: text, JSON, markdown, DOT;
//! - `saved`: saved plans and their staleness check.

mod refusals;
pub mod render;
pub mod saved;
pub mod sequence;
mod steps;
mod subjects;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use foldhash::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::compare;
pub use crate::compare::{Attribute, Comparison, Kind, Problem, ResourceDiff, Shown, Status, View};
use crate::in_order::InOrder;
use crate::phase;
pub use refusals::another_account;
use rolecall_cloud::{Call, Service};
use rolecall_model::{Desired, InstanceProfile, Live, Role, key, resource_title};

/// Version of the JSON plan format (docs/design.md, "JSON plan").
pub const FORMAT_VERSION: u32 = 1;

/// The note (in `attributes`) of a deleted instance that is terminated, not
/// released: a lab instance rolecall launched itself.
pub const TERMINATED: &str = "terminated (launched by rolecall)";

/// Choices that change what a plan may do.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Touch resources rolecall does not own when the plan needs to (with a warning).
    pub force: bool,
    /// Launch declared instances that do not exist, and terminate the ones
    /// rolecall launched once they are no longer declared (emulated accounts
    /// only: rolecall never launches or terminates on AWS).
    pub launch_instances: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
    Noop,
}

/// What happens to one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub resource: String,
    /// An instance's Name tag: its stable handle, as `resource` changes from
    /// `instance/NAME` to `instance/ID` once a lab instance is launched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub action: Action,
    pub before: Option<View>,
    pub after: Option<View>,
    /// Names of the attributes that change.
    pub attributes: Vec<String>,
}

/// One AWS API call of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 1-based, in execution order.
    pub id: usize,
    /// Shared with the steps drafted together with it on the resource
    /// ([`sequence::Draft::resource`]).
    pub resource: Arc<str>,
    /// The Name tag of the instance the step acts on, as in [`Change::name`].
    /// Boxed, so that a step is no larger than the draft it is made from
    /// and takes its place (see `sequence::order_into`).
    pub name: Option<Box<str>>,
    pub call: Call,
    /// Ids of earlier steps that must succeed first.
    pub depends_on: Vec<usize>,
}

// A step takes its draft's place as it is made (`sequence::order_into`).
const _: () = assert!(std::mem::size_of::<Step>() <= std::mem::size_of::<sequence::Draft>());

impl Step {
    /// Steps that only an emulated account can run: lab operations
    /// (launching and terminating lab instances).
    pub fn emulator_only(&self) -> bool {
        self.call.descriptor().lab
    }

    /// What the step acts on, as people read it: `instance/i-0abc… (web-1)`.
    pub fn title(&self) -> String {
        resource_title(&self.resource, self.name.as_deref())
    }
}

impl Change {
    /// The resource as people read it: `instance/i-0abc… (web-1)`.
    pub fn title(&self) -> String {
        resource_title(&self.resource, self.name.as_deref())
    }
}

/// The JSON shape of a step: `{"id", "operation", "resource", "params", "depends_on"}`.
#[derive(Serialize, Deserialize)]
struct StepJson {
    id: usize,
    operation: String,
    resource: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    params: Value,
    depends_on: Vec<usize>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    emulator_only: bool,
}

/// [`StepJson`] borrowed from a step: its params written straight from the
/// call, not through a JSON tree (the largest part of a large JSON plan).
#[derive(Serialize)]
struct StepJsonRef<'a> {
    id: usize,
    operation: &'static str,
    resource: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: &'a Option<Box<str>>,
    params: Params<'a>,
    depends_on: &'a [usize],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    emulator_only: bool,
}

/// A call's parameters, as its tagged JSON form has them under `params`.
struct Params<'a>(&'a Call);

impl Serialize for Params<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_params(serializer)
    }
}

impl Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StepJsonRef {
            id: self.id,
            operation: self.call.operation(),
            resource: &self.resource,
            name: &self.name,
            params: Params(&self.call),
            depends_on: &self.depends_on,
            emulator_only: self.emulator_only(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = StepJson::deserialize(deserializer)?;
        let call: Call = serde_json::from_value(
            serde_json::json!({"operation": raw.operation, "params": raw.params}),
        )
        .map_err(serde::de::Error::custom)?;
        Ok(Step {
            id: raw.id,
            resource: raw.resource.into(),
            name: raw.name.map(String::into_boxed_str),
            call,
            depends_on: raw.depends_on,
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
}

impl Summary {
    pub fn is_empty(&self) -> bool {
        self.create + self.update + self.replace + self.delete == 0
    }
}

/// A computed plan, in the JSON format of docs/design.md (format_version 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub stack: String,
    /// Every declared or owned resource, sorted by kind and key.
    pub changes: Vec<Change>,
    /// In execution order.
    pub steps: Vec<Step>,
    pub warnings: Vec<String>,
    pub summary: Summary,
    /// Saved plans only: the account and the live state each touched resource
    /// had, to refuse a stale plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fingerprints: BTreeMap<String, String>,
    /// Saved plans only: what the plan was computed from, so that `apply
    /// FILE` computes it again and runs it only if it is what the file shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<Desired>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<saved::SavedOptions>,
    /// A `rolecall destroy` plan (nothing declared on purpose): renderers
    /// word it as such. Not part of the JSON format.
    #[serde(skip)]
    pub destroy: bool,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        !self.steps.is_empty()
    }
}

/// How a resource leaves the stack when its change is a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Deleted from the account (roles, profiles).
    Deleted,
    /// An instance: ownership tags removed, it keeps running.
    Released,
    /// A lab instance rolecall launched: terminated.
    Terminated,
}

impl Change {
    /// For a delete, how the resource goes.
    pub fn removal(&self) -> Option<Removal> {
        if self.action != Action::Delete {
            None
        } else if self.attributes.iter().any(|a| a == TERMINATED) {
            Some(Removal::Terminated)
        } else if key::kind_of(&self.resource) == Some(Kind::Instance) {
            Some(Removal::Released)
        } else {
            Some(Removal::Deleted)
        }
    }
}

/// Why no plan could be made: every problem found, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_problems("cannot plan", .0))]
pub struct PlanError(pub Vec<Problem>);

/// `HEADLINE: N problems`, then one problem a line.
pub fn render_problems(headline: &str, problems: &[Problem]) -> String {
    let mut out = format!(
        "{headline}: {} problem{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems {
        out.push_str("\n  ");
        out.push_str(&problem.to_string());
    }
    out
}

/// Computes the plan that makes `live` match `desired`.
pub fn plan(desired: &Desired, live: &Live, options: PlanOptions) -> Result<Plan, PlanError> {
    let drafted = draft(&compare::resolved(desired, live), live, options)?;
    sequenced(drafted, live)
}

/// [`plan`], taking the manifests and letting them go once the steps are
/// drafted: sequencing needs only the drafts, and a large stack's parsed
/// manifests are a quarter of the plan's memory. For a caller that has no
/// use for `desired` afterwards (a plan not saved to a file).
pub fn plan_owned(desired: Desired, live: &Live, options: PlanOptions) -> Result<Plan, PlanError> {
    let drafted = draft_owned(desired, live, options)?;
    sequenced(drafted, live)
}

/// [`plan_owned`], running `meanwhile` on the plan on another core while
/// its steps are put in order: it sees every change and warning, and no
/// steps yet (`plan.steps` is empty); [`Later::steps`] waits for them. A
/// large plan's changes are rendered so, beside the ordering of a million
/// steps, which takes half a second on one core. `meanwhile` runs once the
/// steps are drafted; if ordering them then fails, the error is returned
/// all the same.
///
/// The views of declared roles and profiles are not in the changes:
/// `meanwhile` builds each as it writes its change ([`Later::views`]),
/// from the manifests, which are let go once it is done. So they are
/// never all in memory at once (at 100,000 roles, some 85 MB at the
/// plan's peak), and they are built on the core that writes them, not
/// before the steps are ordered. Neither the plan `meanwhile` sees nor
/// the one returned has them: a renderer given only the plan would show
/// those changes without their attributes.
pub fn plan_owned_with<R: Send>(
    mut desired: Desired,
    live: &Live,
    options: PlanOptions,
    meanwhile: impl FnOnce(&Plan, &Later) -> R + Send,
) -> Result<(Plan, R), PlanError> {
    desired.resolve_policy_names(compare::account_partition(live), &live.account_id);
    let (Drafted { stack, built }, due) = draft_leaving_views_due(&desired, live, options)?;
    let steps::Built {
        drafts,
        changes,
        warnings,
        problems: _,
    } = built;
    let mut plan = unordered(stack, changes, warnings);
    let later = Later {
        steps: OnceLock::new(),
        due: Some(DueViews {
            desired: &desired,
            live,
            due,
        }),
    };
    let result = std::thread::scope(|scope| {
        let (plan, later) = (&plan, &later);
        let meanwhile = scope.spawn(move || meanwhile(plan, later));
        {
            // Ordered on this thread, which drafted the steps: the memory
            // it frees is then its own to use again (a plan of 300,000
            // resources peaked 100 MB higher when another thread ordered).
            // Whoever waits for the steps is woken even if ordering panics.
            let _wakes_waiters = WakeOnDrop(later);
            let _ = later.steps.set(ordered(drafts, &plan.changes, live));
        }
        crate::parallel::joined(meanwhile)
    });
    let Later { steps, due } = later;
    drop(due);
    // The manifests of a large stack take a tenth of a second to free:
    // not on the caller's way to its exit.
    std::thread::spawn(move || drop(desired));
    plan.steps = steps
        .into_inner()
        .unwrap_or_else(|| Err(unordered_error()))?;
    Ok((plan, result))
}

/// A plan's steps, while they are put in order, and the views of its
/// changes that are built as they are written ([`plan_owned_with`]).
#[derive(Debug, Default)]
pub struct Later<'a> {
    steps: OnceLock<Result<Vec<Step>, PlanError>>,
    due: Option<DueViews<'a>>,
}

/// What builds the views [`plan_owned_with`] leaves due: the manifests,
/// the account, and which views each change is due.
#[derive(Debug)]
struct DueViews<'a> {
    desired: &'a Desired,
    live: &'a Live,
    /// By the change's index in the plan.
    due: Vec<compare::ViewsDue>,
}

/// A change's two views: its own, or built for it ([`Later::views`]).
#[derive(Debug, Clone, Default)]
pub struct ChangeViews<'c> {
    pub before: Option<Cow<'c, View>>,
    pub after: Option<Cow<'c, View>>,
    /// A created role or profile whose view was left due, in its place:
    /// shown from the declaration itself, no view built
    /// ([`Later::views_or_shown`]).
    pub created: Option<Shown<'c>>,
}

impl<'c> ChangeViews<'c> {
    /// The views the change holds.
    pub fn of(change: &'c Change) -> Self {
        ChangeViews {
            before: change.before.as_ref().map(Cow::Borrowed),
            after: change.after.as_ref().map(Cow::Borrowed),
            created: None,
        }
    }
}

impl Later<'_> {
    /// Waits for the steps; `None` if they could not be put in order (the
    /// plan's error says why).
    pub fn steps(&self) -> Option<&[Step]> {
        self.steps.wait().as_ref().ok().map(Vec::as_slice)
    }

    /// Whether the ordering is over: [`Later::steps`] would not wait.
    pub fn is_ready(&self) -> bool {
        self.steps.get().is_some()
    }

    /// The views of `change`, the plan's change at `index`: those it
    /// holds, and those left due on it, built now.
    pub fn views<'c>(&'c self, index: usize, change: &'c Change) -> ChangeViews<'c> {
        let mut views = ChangeViews::of(change);
        let Some(DueViews { desired, live, due }) = &self.due else {
            return views;
        };
        let Some(&due) = due.get(index).filter(|due| **due != Default::default()) else {
            return views;
        };
        let (before, after) = due_views_of(desired, live, change, due);
        if views.before.is_none() {
            views.before = before.map(Cow::Owned);
        }
        if views.after.is_none() {
            views.after = after.map(Cow::Owned);
        }
        views
    }
}

impl Later<'_> {
    /// [`Later::views`], but a creation whose view is due is not given
    /// one: the declared role or profile is, to show as it is
    /// ([`ChangeViews::created`]). For a renderer that writes a
    /// creation's attributes itself (the text plan's lines, the JSON
    /// plan's serialiser), a view would be JSON written only to be read
    /// again: at 100,000 roles, a third of writing the text plan's changes.
    ///
    /// `in_order`, from [`Later::declared_in_order`], finds the declared
    /// resources of changes asked for in the plan's order without a
    /// search each (a renderer's run of changes).
    pub fn views_or_shown<'c>(
        &'c self,
        index: usize,
        change: &'c Change,
        in_order: Option<&mut DeclaredInOrder<'c>>,
    ) -> ChangeViews<'c> {
        if change.action == Action::Create
            && change.after.is_none()
            && let Some(DueViews { desired, due, .. }) = &self.due
            && due.get(index).is_some_and(|due| due.after)
            && let Some(shown) = match in_order {
                Some(in_order) => in_order.declared(&change.resource),
                None => declared(desired, &change.resource),
            }
        {
            return ChangeViews {
                created: Some(shown),
                ..ChangeViews::default()
            };
        }
        self.views(index, change)
    }
}

impl Later<'_> {
    /// Cursors over the declared roles and profiles, for
    /// [`Later::views_or_shown`]; `None` when no view is left due.
    pub fn declared_in_order(&self) -> Option<DeclaredInOrder<'_>> {
        let DueViews { desired, .. } = self.due.as_ref()?;
        Some(DeclaredInOrder {
            roles: InOrder::new(&desired.roles),
            profiles: InOrder::new(&desired.profiles),
        })
    }
}

/// The declared roles and profiles, looked up by changes in the plan's
/// order (sorted by kind, then name): [`declared`], with a cursor over
/// each map.
pub struct DeclaredInOrder<'d> {
    roles: InOrder<'d, Role>,
    profiles: InOrder<'d, InstanceProfile>,
}

impl<'d> DeclaredInOrder<'d> {
    fn declared(&mut self, resource: &str) -> Option<Shown<'d>> {
        match key::parts(resource)? {
            (Kind::Role, name) => self.roles.get(name).map(Shown::Role),
            (Kind::InstanceProfile, name) => self.profiles.get(name).map(Shown::Profile),
            (Kind::Policy | Kind::Instance, _) => None,
        }
    }
}

/// The declared role or profile of key `resource`, to show.
fn declared<'d>(desired: &'d Desired, resource: &str) -> Option<Shown<'d>> {
    match key::parts(resource)? {
        (Kind::Role, name) => desired.roles.get(name).map(Shown::Role),
        (Kind::InstanceProfile, name) => desired.profiles.get(name).map(Shown::Profile),
        (Kind::Policy | Kind::Instance, _) => None,
    }
}

/// The views `due` on `change`, built from the manifests and the account.
fn due_views_of(
    desired: &Desired,
    live: &Live,
    change: &Change,
    due: compare::ViewsDue,
) -> (Option<View>, Option<View>) {
    match key::parts(&change.resource) {
        Some((kind, name)) => compare::views_due_on(desired, live, kind, name, due),
        None => (None, None),
    }
}

/// Gives a [`Later`] an error if it has no steps when this is dropped.
struct WakeOnDrop<'l, 'a>(&'l Later<'a>);

impl Drop for WakeOnDrop<'_, '_> {
    fn drop(&mut self) {
        let _ = self.0.steps.set(Err(unordered_error()));
    }
}

fn unordered_error() -> PlanError {
    PlanError(vec![Problem {
        key: "plan".into(),
        location: None,
        message: "internal error: the plan's steps could not be put in order".into(),
    }])
}

/// Resolves the manifests' policy names, drafts, and frees the manifests.
fn draft_owned(
    mut desired: Desired,
    live: &Live,
    options: PlanOptions,
) -> Result<Drafted, PlanError> {
    // In place: [`compare::resolved`] would copy the whole stack.
    desired.resolve_policy_names(compare::account_partition(live), &live.account_id);
    let drafted = draft(&desired, live, options)?;
    if drafted.built.drafts.len() < DRAFTS_WORTH_FREEING_FIRST {
        // Little to sequence, so no memory to make room for: freed beside
        // the rest (a converged stack of 100,000 roles takes 0.05 s to free).
        std::thread::spawn(move || drop(desired));
    } else {
        // Here, not on another thread: the sequencing then reuses the
        // memory (freed beside it, the plan was slower and its memory no
        // lower).
        phase::timed("free the manifests", || drop(desired));
    }
    Ok(drafted)
}

/// Drafts from which sequencing needs the manifests' memory: with fewer,
/// `plan_owned` frees them on another thread, beside the sequencing.
const DRAFTS_WORTH_FREEING_FIRST: usize = 10_000;

/// Drafts from which the refusals are checked on a thread of their own,
/// beside the changes taking their views.
const DRAFTS_WORTH_REFUSING_BESIDE: usize = 10_000;

// A plan that frees its diffs on the drafting thread checks its refusals
// beside that (`draft_leaving_views_due`).
const _: () = assert!(DRAFTS_WORTH_FREEING_FIRST >= DRAFTS_WORTH_REFUSING_BESIDE);

/// Views to build a thread's worth: a role's is a few microseconds.
const VIEWS_WORTH_A_THREAD: usize = 2_000;

/// A plan's changes and its steps before ordering: what the manifests
/// were needed for.
struct Drafted {
    stack: String,
    built: steps::Built,
}

/// Compares, drafts the steps and checks them against the account's
/// limits: every problem found, or the changes (with their views) and
/// the drafts.
fn draft(desired: &Desired, live: &Live, options: PlanOptions) -> Result<Drafted, PlanError> {
    let (mut drafted, due) = draft_leaving_views_due(desired, live, options)?;
    let changes = &drafted.built.changes;
    let shown: Vec<usize> = (0..changes.len())
        .filter(|&at| due[at] != compare::ViewsDue::default())
        .collect();
    let views = phase::timed("views", || {
        crate::parallel::runs(&shown, VIEWS_WORTH_A_THREAD, |_, run| {
            run.iter()
                .map(|&at| due_views_of(desired, live, &changes[at], due[at]))
                .collect::<Vec<_>>()
        })
    });
    for (at, (before, after)) in shown.into_iter().zip(views.into_iter().flatten()) {
        let change = &mut drafted.built.changes[at];
        change.before = change.before.take().or(before);
        change.after = change.after.take().or(after);
    }
    Ok(drafted)
}

/// [`draft`], the views of declared roles and profiles left due: which
/// views each change is due, by its index. The views built as the
/// resources were compared are in the changes.
fn draft_leaving_views_due(
    desired: &Desired,
    live: &Live,
    options: PlanOptions,
) -> Result<(Drafted, Vec<compare::ViewsDue>), PlanError> {
    // The views of roles and profiles are built once the steps are
    // drafted: not beside the drafts, at the plan's peak.
    let mut comparison = phase::timed("diff", || {
        compare::compare_with(desired, live, compare::Views::Later)
    });
    let mut built = phase::timed("steps", || {
        steps::build(desired, live, &comparison, options)
    });
    let mut problems = std::mem::take(&mut comparison.problems);
    problems.extend(std::mem::take(&mut built.problems));
    let mut diffs = comparison.diffs;
    let mut due = vec![compare::ViewsDue::default(); built.changes.len()];
    // The refusals read the drafts, and the changes take their diffs'
    // views, side by side: each is a pass over a large plan's every
    // draft or change, a few hundredths of a second on one core.
    let (drafts, changes) = (&mut built.drafts, &mut built.changes);
    let free_here = drafts.len() >= DRAFTS_WORTH_FREEING_FIRST;
    let (refused, ()) = crate::parallel::both(
        drafts.len() >= DRAFTS_WORTH_REFUSING_BESIDE,
        || phase::timed("refusals", || refusals::check(desired, live, drafts)),
        || {
            for (at, diff) in shown_with_diffs(changes, &diffs) {
                let (change, diff) = (&mut changes[at], &mut diffs[diff]);
                (change.before, change.after) = (diff.before.take(), diff.after.take());
                due[at] = diff.due;
            }
            if free_here {
                // Freed on this thread, whose sequencing then reuses the
                // memory, and beside the refusals, which take longer
                // (a plan this large checks them on a thread of their own).
                drop(diffs);
            } else {
                // A converged stack's 300,000 diffs take 0.04 s to free:
                // beside the rest, as its manifests are.
                std::thread::spawn(move || drop(diffs));
            }
        },
    );
    problems.extend(refused);
    if !problems.is_empty() {
        return Err(PlanError(problems));
    }
    Ok((
        Drafted {
            stack: desired.stack.clone(),
            built,
        },
        due,
    ))
}

/// Each change that shows something, with the diff of its resource:
/// (change, diff), in the changes' order. A `noop` change shows nothing
/// (its views stay empty), and a diff goes to one change at most.
///
/// A change takes the last diff of its key not taken yet. Keys repeat
/// only for instances (`name: i-…` declares one the account's `i-…` is
/// not), and the diffs are sorted by kind and key, so a key's diffs are
/// side by side.
///
/// The changes follow their diffs' order, nearly all of them: each is
/// looked for first at the diff after the last one it passed (a noop's
/// too), and only one found elsewhere (an instance pass's change, say),
/// or one whose key repeats, has the diffs mapped by key. A converged
/// plan, all noops, maps nothing (mapping 300,000 diffs took 0.04 s).
fn shown_with_diffs(changes: &[Change], diffs: &[compare::ResourceDiff]) -> Vec<(usize, usize)> {
    let mut taken = vec![false; diffs.len()];
    let mut by_key: Option<HashMap<&str, usize>> = None;
    let mut next = 0;
    let mut shown = Vec::new();
    let is_at = |at: usize, resource: &str| diffs.get(at).is_some_and(|diff| diff.key == resource);
    for (at, change) in changes.iter().enumerate() {
        let resource = change.resource.as_str();
        if change.action == Action::Noop {
            if is_at(next, resource) {
                next += 1;
            }
            continue;
        }
        let found = if is_at(next, resource) && !is_at(next + 1, resource) {
            Some(next)
        } else {
            by_key
                .get_or_insert_with(|| {
                    diffs
                        .iter()
                        .enumerate()
                        .map(|(at, diff)| (diff.key.as_str(), at))
                        .collect()
                })
                .get(resource)
                .copied()
        };
        if let Some(diff) = found.filter(|&diff| !taken[diff]) {
            taken[diff] = true;
            next = diff + 1;
            shown.push((at, diff));
        }
    }
    shown
}

/// Orders the drafts into the plan's steps.
fn sequenced(drafted: Drafted, live: &Live) -> Result<Plan, PlanError> {
    let Drafted { stack, built } = drafted;
    let steps = ordered(built.drafts, &built.changes, live)?;
    let mut plan = unordered(stack, built.changes, built.warnings);
    plan.steps = steps;
    Ok(plan)
}

/// The plan of these changes, without its steps yet.
fn unordered(stack: String, changes: Vec<Change>, warnings: Vec<String>) -> Plan {
    let mut summary = Summary::default();
    for change in &changes {
        match change.action {
            Action::Create => summary.create += 1,
            Action::Update => summary.update += 1,
            Action::Replace => summary.replace += 1,
            Action::Delete => summary.delete += 1,
            Action::Noop => {}
        }
    }
    Plan {
        format_version: FORMAT_VERSION,
        stack,
        changes,
        steps: Vec::new(),
        warnings,
        summary,
        account_id: None,
        fingerprints: BTreeMap::new(),
        desired: None,
        options: None,
        destroy: false,
    }
}

/// The drafts as the plan's steps, in order.
fn ordered(
    drafts: Vec<sequence::Draft>,
    changes: &[Change],
    live: &Live,
) -> Result<Vec<Step>, PlanError> {
    // Steps on instances carry their Name tag, as their changes do (an
    // instance no change names, freed with --force, has it in the account).
    let names: HashMap<&str, &str> = changes
        .iter()
        .filter_map(|c| Some((c.resource.as_str(), c.name.as_deref()?)))
        .collect();
    let name_of = |resource: &str| -> Option<Box<str>> {
        let id = match key::parts(resource)? {
            (Kind::Instance, id) => id,
            _ => return None,
        };
        match names.get(resource) {
            Some(name) => Some((*name).into()),
            None => live.instances.get(id)?.name.as_deref().map(Into::into),
        }
    };
    let mut next_id = 0;
    phase::timed("sequence", || {
        sequence::order_into(drafts, |step| {
            next_id += 1;
            // Only EC2's calls act on instances: the keys of a million
            // IAM steps, long out of the cache, are not read for a name.
            let on_ec2 = step.call.descriptor().service == Service::Ec2;
            Step {
                id: next_id,
                name: on_ec2.then(|| name_of(&step.resource)).flatten(),
                resource: step.resource,
                call: step.call,
                depends_on: step.depends_on.into_iter().map(|p| p + 1).collect(),
            }
        })
    })
    .map_err(|message| {
        PlanError(vec![Problem {
            key: "plan".into(),
            location: None,
            message,
        }])
    })
}

#[cfg(test)]
mod tests;
