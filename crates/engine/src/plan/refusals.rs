//! Refuses, before any step runs, a plan that the account as read makes
//! certain to fail: the account's role and instance-profile quotas, EC2's 50
//! tags per instance, trust policies naming roles that will not exist,
//! policy ARNs the account cannot attach (another partition's, customer-managed
//! policies it does not hold). Where a quota fits only if creates wait for
//! deletes, adds that order.
//!
//! Everything here reads the drafts `steps` made (which call, on what), so
//! the sequencing rules stay in one place; only near a quota does it add
//! facts (`Fact::QuotaRoom`) for `sequence` to order by.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::sequence::{Draft, Fact};
use crate::compare::Problem;
use rolecall_cloud::Call;
use rolecall_model::{
    Arn, DEFAULT_PARTITION, Desired, Live, MAX_TAGS, RoleArn, STACK_ACCOUNT_KEY,
    STACK_PARTITION_KEY, instance_key, policy_arn, role_key,
};

/// The problems that make the plan certain to fail. Adds to `drafts` the
/// order a quota needs, when it fits only in that order.
pub fn check(desired: &Desired, live: &Live, drafts: &mut [Draft]) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(wrong) = another_account(desired, live) {
        // Nothing else matters: this is not the stack's account.
        return vec![wrong];
    }
    trusted_roles_exist(desired, live, drafts, &mut problems);
    policy_arns(desired, live, drafts, &mut problems);
    instance_tags(desired, live, drafts, &mut problems);
    let mut taint = None;
    let mut rooms = 0;
    for kind in [Kind::Roles, Kind::Profiles] {
        if let Err(problem) = account_quota(kind, live, drafts, &mut taint, &mut rooms) {
            problems.push(problem);
        }
    }
    problems
}

// ---- the stack's own account -------------------------------------------------

/// The stack declares an account (or partition) and the credentials reach
/// another: every plan there is refused, before any call that writes, and
/// so is every import. A declared partition the account's ARNs do not tell
/// is refused too: the guard fails closed.
pub fn another_account(desired: &Desired, live: &Live) -> Option<Problem> {
    if let Some(wanted) = &desired.account_id
        && *wanted != live.account_id
    {
        return Some(Problem {
            key: "stack".into(),
            location: desired.locations.get(STACK_ACCOUNT_KEY).cloned(),
            message: format!(
                "stack `{}` belongs to account {wanted}, but these credentials reach account {}: refusing to plan against another account (check --profile, AWS_PROFILE or the pipeline's role)",
                desired.stack, live.account_id
            ),
        });
    }
    if let Some(wanted) = &desired.partition
        && live.partition.as_ref() != Some(wanted)
    {
        let reached = match &live.partition {
            Some(actual) => format!("these credentials reach partition {actual}"),
            None => "the partition these credentials reach cannot be told".to_string(),
        };
        return Some(Problem {
            key: "stack".into(),
            location: desired.locations.get(STACK_PARTITION_KEY).cloned(),
            message: format!(
                "stack `{}` belongs to partition {wanted}, but {reached}: refusing to plan there",
                desired.stack
            ),
        });
    }
    None
}

// ---- account quotas ----------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Roles,
    Profiles,
}

impl Kind {
    /// `n roles`, `1 role`.
    fn count(self, n: usize) -> String {
        let noun = match self {
            Kind::Roles => "role",
            Kind::Profiles => "instance profile",
        };
        format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
    }

    /// IAM's name of the quota, as its LimitExceeded message has it.
    fn quota_name(self) -> &'static str {
        match self {
            Kind::Roles => "RolesPerAccount",
            Kind::Profiles => "InstanceProfilesPerAccount",
        }
    }

    /// How to raise the quota, on the emulated account and on AWS.
    fn how_to_raise(self, to: usize) -> String {
        let (flag, service_quotas) = match self {
            Kind::Roles => ("--max-roles", "Roles per account"),
            Kind::Profiles => ("--max-instance-profiles", "Instance profiles per account"),
        };
        format!(
            "raise the quota to at least {to} (`rolecall emulator configure {flag} {to}` on the emulated account; on AWS, request an increase of IAM's \"{service_quotas}\" in Service Quotas)"
        )
    }

    fn held(self, live: &Live) -> usize {
        match self {
            Kind::Roles => live.roles.len(),
            Kind::Profiles => live.profiles.len(),
        }
    }

    fn limit(self, live: &Live) -> Option<u32> {
        match self {
            Kind::Roles => live.quotas.roles,
            Kind::Profiles => live.quotas.instance_profiles,
        }
    }

    /// The name a draft creates, if it creates one of this kind.
    fn created(self, call: &Call) -> Option<&str> {
        match (self, call) {
            (Kind::Roles, Call::CreateRole(r)) => Some(&r.role_name),
            (Kind::Profiles, Call::CreateInstanceProfile(r)) => Some(&r.instance_profile_name),
            _ => None,
        }
    }

    /// The name a draft deletes, if it deletes one of this kind.
    fn deleted(self, call: &Call) -> Option<&str> {
        match (self, call) {
            (Kind::Roles, Call::DeleteRole(r)) => Some(&r.role_name),
            (Kind::Profiles, Call::DeleteInstanceProfile(r)) => Some(&r.instance_profile_name),
            _ => None,
        }
    }
}

fn account_problem(message: String) -> Problem {
    Problem {
        key: "account".into(),
        location: None,
        message,
    }
}

/// Checks one account quota against what the account holds (all of it, not
/// only this stack) and the plan's creates and deletes. When the final count
/// fits but not every create does before the deletes, makes enough creates
/// wait for deletes: the `n`th create past the quota waits for its own
/// delete, and when the account already holds more than its quota, every
/// create waits for the deletes that bring it back under.
fn account_quota(
    kind: Kind,
    live: &Live,
    drafts: &mut [Draft],
    taint: &mut Option<Vec<bool>>,
    rooms: &mut u32,
) -> Result<(), Problem> {
    let Some(quota) = kind.limit(live) else {
        return Ok(());
    };
    let quota = quota as usize;
    let mut creates = Vec::new();
    let mut deletes = Vec::new();
    for (index, draft) in drafts.iter().enumerate() {
        if kind.created(&draft.call).is_some() {
            creates.push(index);
        } else if kind.deleted(&draft.call).is_some() {
            deletes.push(index);
        }
    }
    let held = kind.held(live);
    let (c, d) = (creates.len(), deletes.len());
    if c == 0 || held + c <= quota {
        return Ok(());
    }
    let after = (held + c).saturating_sub(d);
    if after > quota {
        return Err(account_problem(format!(
            "the account holds {held}, this plan creates {c} and deletes {d}, which makes {after}: over the quota of {quota} ({name}); {raise}, or declare fewer",
            held = kind.count(held),
            name = kind.quota_name(),
            raise = kind.how_to_raise(after),
        )));
    }

    // Deletes that must come before every create, and creates past the quota
    // (each needs a delete of its own before it).
    let debt = held.saturating_sub(quota);
    let waiting = c - quota.saturating_sub(held).min(c);
    // A replacement's create already waits for its own delete.
    let deleted_at: HashMap<&str, usize> = deletes
        .iter()
        .filter_map(|&i| Some((kind.deleted(&drafts[i].call)?, i)))
        .collect();
    let mut paired_deletes = HashSet::new();
    let mut unpaired = Vec::new();
    for &create in &creates {
        let own = kind
            .created(&drafts[create].call)
            .and_then(|name| deleted_at.get(name));
        match own {
            Some(&delete) if paired_deletes.len() < waiting => {
                paired_deletes.insert(delete);
            }
            _ => unpaired.push(create),
        }
    }
    let paired = paired_deletes.len();
    let more = waiting - paired;
    // The waiting creates are the last ones in draft order.
    let late = &unpaired[unpaired.len() - more..];
    let taint = taint.get_or_insert_with(|| depends_on_a_create(drafts));
    let free: Vec<usize> = deletes
        .iter()
        .copied()
        .filter(|i| !paired_deletes.contains(i) && !taint[*i])
        .collect();
    if free.len() < debt + more {
        let first = held + c;
        return Err(account_problem(format!(
            "the account holds {held} of its quota of {quota} ({name}): {need} of this plan's {d} deletes must run before its creates, but only {can} can (the others wait for what the plan creates); apply the deletions first, or {raise}",
            held = kind.count(held),
            name = kind.quota_name(),
            need = debt + more + paired,
            can = free.len() + paired,
            raise = kind.how_to_raise(first),
        )));
    }
    if debt > 0 {
        let room = Fact::QuotaRoom(next(rooms));
        for &delete in &free[..debt] {
            drafts[delete].add_provided(room);
        }
        for &create in &creates {
            drafts[create].add_required(room);
        }
    }
    for (&create, &delete) in late.iter().zip(&free[debt..]) {
        let room = Fact::QuotaRoom(next(rooms));
        drafts[delete].add_provided(room);
        drafts[create].add_required(room);
    }
    Ok(())
}

fn next(counter: &mut u32) -> u32 {
    *counter += 1;
    *counter
}

/// For each draft, whether it runs after some create (of a role or a
/// profile) by the hard rules. A create made to wait for such a delete would
/// wait for itself; a delete that depends on no create cannot close a cycle,
/// whatever waits for it.
fn depends_on_a_create(drafts: &[Draft]) -> Vec<bool> {
    let mut requirers: HashMap<Fact, Vec<usize>> = HashMap::new();
    for (index, draft) in drafts.iter().enumerate() {
        for fact in draft.required() {
            requirers.entry(*fact).or_default().push(index);
        }
    }
    let mut reached = vec![false; drafts.len()];
    let mut stack: Vec<usize> = drafts
        .iter()
        .enumerate()
        .filter(|(_, d)| matches!(d.call, Call::CreateRole(_) | Call::CreateInstanceProfile(_)))
        .map(|(i, _)| i)
        .collect();
    while let Some(index) = stack.pop() {
        for fact in drafts[index].provided() {
            for &next in requirers.get(fact).into_iter().flatten() {
                if !reached[next] {
                    reached[next] = true;
                    stack.push(next);
                }
            }
        }
    }
    reached
}

// ---- EC2 tags ------------------------------------------------------------------

/// EC2 refuses a tag that would give an instance more than 50: rolecall's
/// ownership tags need room beside the instance's own.
fn instance_tags(desired: &Desired, live: &Live, drafts: &[Draft], problems: &mut Vec<Problem>) {
    let mut added: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for draft in drafts {
        if let Call::CreateTags(request) = &draft.call {
            for id in &request.resources {
                let Some(instance) = live.instances.get(id) else {
                    continue;
                };
                // Usually none: rewriting the spec tag adds no key.
                let new: Vec<&str> = request
                    .tags
                    .iter()
                    .map(|t| &*t.key)
                    .filter(|key| !instance.tags.contains_key(*key))
                    .collect();
                if !new.is_empty() {
                    added.entry(id).or_default().extend(new);
                }
            }
        }
    }
    for (id, mut keys) in added {
        keys.sort_unstable();
        keys.dedup();
        let held = live.instances.get(id).map_or(0, |i| i.tags.len());
        let after = held + keys.len();
        if after > MAX_TAGS {
            let key = instance_key(id);
            let shown: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            problems.push(Problem {
                location: desired.locations.get(&key).cloned(),
                key,
                message: format!(
                    "has {held} tags and this plan adds {}, which makes {after}: EC2 allows at most {MAX_TAGS} tags per instance; remove {} of its tags",
                    shown.join(" and "),
                    after - MAX_TAGS
                ),
            });
        }
    }
}

// ---- policy ARNs ---------------------------------------------------------------

/// IAM refuses a managed policy or permissions boundary the account cannot
/// attach: an ARN of another partition (InvalidInput), or a customer-managed
/// policy the account does not hold, another account's included
/// (NoSuchEntity). Only the ARNs the plan sends are judged; AWS-managed
/// policies are the manifest validation's (`model::aws_policies`).
fn policy_arns(desired: &Desired, live: &Live, drafts: &[Draft], problems: &mut Vec<Problem>) {
    // The customer-managed policies the account will hold: its own and
    // those the stack declares (created before they are attached).
    let partition = desired
        .partition
        .as_deref()
        .or(live.partition.as_deref())
        .unwrap_or(DEFAULT_PARTITION);
    // A policy the plan deletes (no longer declared, or replaced) is not
    // there to attach.
    let deleted: HashSet<&str> = drafts
        .iter()
        .filter_map(|draft| match &draft.call {
            Call::DeletePolicy(r) => Some(r.policy_arn.as_str()),
            _ => None,
        })
        .collect();
    let mut held: BTreeSet<String> = live
        .policies
        .values()
        .map(|p| p.arn.clone())
        .filter(|arn| !deleted.contains(arn.as_str()))
        .collect();
    held.extend(
        desired
            .policies
            .values()
            .map(|policy| policy_arn(partition, &live.account_id, &policy.path, &policy.name)),
    );
    let mut found = Vec::new();
    for draft in drafts {
        let (role, arn, boundary) = match &draft.call {
            Call::AttachRolePolicy(r) => (&r.role_name, &r.policy_arn, false),
            Call::PutRolePermissionsBoundary(r) => (&r.role_name, &r.permissions_boundary, true),
            Call::CreateRole(r) => match &r.permissions_boundary {
                Some(arn) => (&r.role_name, arn, true),
                None => continue,
            },
            _ => continue,
        };
        if let Some(message) = unattachable(live, &held, &deleted, arn, boundary) {
            let key = role_key(role);
            found.push(Problem {
                location: desired.locations.get(&key).cloned(),
                key,
                message,
            });
        }
    }
    // In the order of the roles, as the manifests' readers think of them.
    found.sort_by(|a, b| a.key.cmp(&b.key));
    problems.extend(found);
}

/// Why IAM would refuse `arn` as a managed policy (or, `boundary`, as a
/// permissions boundary) on this account, if it would.
fn unattachable(
    live: &Live,
    held: &BTreeSet<String>,
    deleted: &HashSet<&str>,
    arn: &str,
    boundary: bool,
) -> Option<String> {
    let what = if boundary {
        "permissions boundary"
    } else {
        "managed policy"
    };
    // `arn:PARTITION:iam::ACCOUNT:policy/...`, as manifest validation checked.
    let parsed = Arn::parse(arn)?;
    let (partition, owner) = (parsed.partition.as_str(), parsed.account.as_str());
    if let Some(own) = &live.partition
        && partition != own
    {
        return Some(format!(
            "{what} `{arn}` is in partition `{partition}` and the account in `{own}`: IAM refuses it (InvalidInput: ARN {arn} is not valid.)"
        ));
    }
    if owner == "aws" || held.contains(arn) {
        return None;
    }
    // Written only here: nearly every ARN a large plan sends is attachable.
    let refusal = if boundary {
        // IAM calls a boundary a "Scope ARN" in this message.
        format!("NoSuchEntity: Scope ARN: {arn} does not exist or is not attachable.")
    } else {
        format!("NoSuchEntity: Policy {arn} does not exist or is not attachable.")
    };
    Some(if deleted.contains(arn) {
        format!(
            "{what} `{arn}` is policy/{}, which this plan deletes (no longer declared): IAM refuses it once it is gone ({refusal}); declare the policy again, or name another",
            rolecall_model::name_from_arn(arn)
        )
    } else if owner != live.account_id {
        format!(
            "{what} `{arn}` belongs to account {owner}, not to this one ({}): IAM attaches only the account's own customer-managed policies ({refusal})",
            live.account_id
        )
    } else if held.is_empty() {
        format!(
            "{what} `{arn}` is a customer-managed policy and the account holds none, nor does the stack declare one (kind: ManagedPolicy): IAM refuses it ({refusal})"
        )
    } else {
        format!(
            "{what} `{arn}`: the account holds no customer-managed policy of that name, nor does the stack declare one: IAM refuses it ({refusal})"
        )
    })
}

// ---- trust policies ----------------------------------------------------------------

/// IAM refuses a trust policy that names a role of the account that does not
/// exist. A role this plan neither finds in the account nor creates never
/// will; roles created by the plan that trust each other (or themselves)
/// cannot all be created first.
fn trusted_roles_exist(
    desired: &Desired,
    live: &Live,
    drafts: &[Draft],
    problems: &mut Vec<Problem>,
) {
    // (role, principal ARN, its path and name) for the principals that are
    // roles of this account: usually none, so the rest costs nothing.
    let principals: Vec<(&str, Vec<String>)> = desired
        .roles
        .iter()
        .map(|(name, role)| (name.as_str(), role.trust.aws_principals()))
        .filter(|(_, arns)| !arns.is_empty())
        .collect();
    let mut named = Vec::new();
    for (name, arns) in &principals {
        for arn in arns {
            // Of this account in its partition, whichever that is.
            if let Some(principal) = RoleArn::parse(arn)
                && principal.is_of(live.partition.as_deref(), &live.account_id)
            {
                named.push((*name, arn.as_str(), principal.path, principal.name));
            }
        }
    }
    if named.is_empty() {
        return;
    }
    let mut created = HashSet::new();
    let mut sent = HashSet::new();
    let mut deleted = HashSet::new();
    for draft in drafts {
        match &draft.call {
            Call::CreateRole(r) => {
                created.insert(r.role_name.as_str());
                sent.insert(r.role_name.as_str());
            }
            Call::UpdateAssumeRolePolicy(r) => {
                sent.insert(r.role_name.as_str());
            }
            Call::DeleteRole(r) => {
                deleted.insert(r.role_name.as_str());
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    // A role the plan deletes (and does not create again) is refused as a
    // principal whether or not the trust is sent: sent after the delete, IAM
    // refuses it; kept, IAM rewrites the principal to the deleted role's
    // unique id, which no apply can turn back into the ARN.
    for (name, arn, _, target) in &named {
        if deleted.contains(target) && !created.contains(target) {
            let key = role_key(name);
            found.push(Problem {
                location: desired.locations.get(&key).cloned(),
                key,
                message: format!(
                    "the trust policy names `{arn}`, a role this plan deletes: IAM refuses a trust naming a role that does not exist (MalformedPolicyDocument: Invalid principal in policy), and turns the principal of a trust it already holds into the deleted role's unique id; declare the role, or take it out of the trust"
                ),
            });
        }
    }
    // Otherwise only a trust policy the plan sends is judged: created, or
    // updated.
    named.retain(|(name, _, _, target)| {
        // Sent, and naming a role that still exists once the plan has run.
        sent.contains(name) && (created.contains(target) || !deleted.contains(target))
    });
    // Roles created by the plan, and the created roles their trust names.
    let mut waits: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, arn, path, target) in named {
        let at_path = |role: &rolecall_model::Role| role.path == path;
        if created.contains(target) && desired.roles.get(target).is_some_and(at_path) {
            if created.contains(name) {
                waits.entry(name).or_default().push(target);
            }
            continue;
        }
        // IAM names ignore case.
        let exists = live.roles.get(target).is_some_and(|r| at_path(&r.role))
            || live
                .roles
                .values()
                .any(|r| r.role.name.eq_ignore_ascii_case(target) && at_path(&r.role));
        if !exists {
            let key = role_key(name);
            found.push(Problem {
                location: desired.locations.get(&key).cloned(),
                key,
                message: format!(
                    "the trust policy names `{arn}`, a role the account does not hold and this plan does not create: IAM refuses it (MalformedPolicyDocument: Invalid principal in policy)"
                ),
            });
        }
    }
    for cycle in cycles(&waits) {
        let first = cycle[0];
        let key = role_key(first);
        let message = if cycle.len() == 1 {
            "the trust policy names the role itself, which does not exist until it is created: IAM refuses it (MalformedPolicyDocument: Invalid principal in policy); create the role without it, apply, then add it".to_string()
        } else {
            let names: Vec<String> = cycle.iter().map(|n| format!("`{n}`")).collect();
            format!(
                "roles {} trust each other and none exists yet: IAM refuses a trust policy naming a role that does not exist, so whichever is created first fails; create one without naming the others, apply, then add them",
                names.join(", ")
            )
        };
        found.push(Problem {
            location: desired.locations.get(&key).cloned(),
            key,
            message,
        });
    }
    // In the order of the roles, as the manifests' readers think of them.
    found.sort_by(|a, b| a.key.cmp(&b.key));
    problems.extend(found);
}

/// The cycles (strongly connected components with a cycle) of a small graph,
/// each sorted, in order of their first name.
fn cycles<'a>(edges: &BTreeMap<&'a str, Vec<&'a str>>) -> Vec<Vec<&'a str>> {
    let mut graph = petgraph::graphmap::DiGraphMap::<&str, ()>::new();
    for (from, tos) in edges {
        graph.add_node(from);
        for to in tos {
            graph.add_edge(from, to, ());
        }
    }
    let mut found: Vec<Vec<&str>> = petgraph::algo::tarjan_scc(&graph)
        .into_iter()
        .filter(|scc| scc.len() > 1 || graph.contains_edge(scc[0], scc[0]))
        .map(|mut scc| {
            scc.sort_unstable();
            scc
        })
        .collect();
    found.sort_unstable();
    found
}
