//! Every interrupted apply or destroy converges (issue 9): for a change that
//! deletes, moves, releases, replaces and swaps, and for a destroy, fail each
//! API call in turn (`fail_after = K` for K = 1, 2, ... until the run makes
//! fewer than K calls), with no retries; after each, run again without faults
//! and require that the second run succeeds and leaves nothing to do (or, for
//! destroy, nothing owned).
//!
//! The runs go through the library exactly as `rolecall apply` does (load,
//! snapshot, plan, execute) on a real emulated account file; each K starts
//! from the same account, restored from an export.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rolecall::apply::{self, ApplyOptions, Outcome, Silent};
use rolecall::cloud::Cloud;
use rolecall::cloud::ec2::{RunInstancesRequest, StopInstancesRequest, TagSpecification};
use rolecall::cloud::iam::Tag;
use rolecall::emulator::{AccountExport, Emulator, Faults};
use rolecall::model::{Desired, TAG_STACK};
use rolecall::plan::{self, PlanOptions};

const STACK: &str = "sweep";

/// What the account holds before the change: every service has a role, a
/// profile and instances. Instances named `adopted-*` were made by hand and
/// adopted (rolecall releases them, never terminates them); the others the
/// emulator launches from the manifests.
const BEFORE: &str = r#"
kind: Stack
name: sweep
tags: {owner: platform}
---
kind: ManagedPolicy
name: web-read
document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: s3:GetObject, Resource: "*"}]}
---
kind: ManagedPolicy
name: legacy-audit
document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: cloudtrail:LookupEvents, Resource: "*"}]}
---
kind: ManagedPolicy
name: jobs-ops
path: /old/
document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: ssm:SendCommand, Resource: "*"}]}
---
kind: ManagedPolicy
name: batch-a
document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: sqs:SendMessage, Resource: "*"}]}
---
kind: Role
name: web
trust: ec2
managed_policies: [arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore, web-read]
inline_policies:
  read: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: s3:GetObject, Resource: "arn:aws:s3:::web/*"}]}
tags: {team: web}
---
kind: Role
name: batch
path: /batch/
trust: ec2
managed_policies: [batch-a]
inline_policies:
  queue: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: sqs:ReceiveMessage, Resource: "*"}]}
---
kind: Role
name: legacy
trust: ec2
permissions_boundary: arn:aws:iam::aws:policy/PowerUserAccess
managed_policies: [arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy, legacy-audit]
inline_policies:
  logs: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: logs:PutLogEvents, Resource: "*"}]}
---
kind: Role
name: old-jobs
trust: ec2
managed_policies: [jobs-ops]
---
kind: InstanceProfile
name: web
role: web
---
kind: InstanceProfile
name: batch
role: batch
---
kind: InstanceProfile
name: ops
role: legacy
---
kind: InstanceProfile
name: moving
path: /old/
role: web
---
kind: InstanceProfile
name: jobs
role: old-jobs
---
kind: Instance
name: web-1
profile: web
---
kind: Instance
name: web-2
profile: web
---
kind: Instance
name: ops-1
profile: ops
---
kind: Instance
name: adopted-ops
profile: ops
---
kind: Instance
name: launched-ops
profile: ops
---
kind: Instance
name: move-1
profile: moving
---
kind: Instance
name: adopted-move
profile: moving
---
kind: Instance
name: jobs-1
profile: jobs
---
kind: Instance
name: batch-1
profile: batch
---
kind: Instance
name: adopted-web
profile: web
"#;

/// The change: `legacy` and `old-jobs` are deleted with profile `ops`;
/// `batch` is replaced (path); `moving` is replaced (path); `jobs` swaps to
/// a new role; `web` changes policies and tags; a new service is launched.
/// Customer-managed policies: `web-read` gets a new document, `legacy-audit`
/// is deleted with its role, `jobs-ops` is replaced (path) and moves to the
/// new role, `batch-a` is renamed `batch-b` on the replaced role.
/// Instances move (web-1 running: Replace; web-2 stopped: Disassociate and
/// Associate; ops-1 off a deleted profile), lose their profile (batch-1),
/// are released (adopted-ops, adopted-move, adopted-web) or terminated
/// (launched-ops).
const AFTER: &str = r#"
kind: Stack
name: sweep
tags: {owner: platform}
---
kind: ManagedPolicy
name: web-read
document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: [s3:GetObject, s3:ListBucket], Resource: "*"}]}
---
kind: ManagedPolicy
name: jobs-ops
path: /new/
document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: ssm:SendCommand, Resource: "*"}]}
---
kind: ManagedPolicy
name: batch-b
document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: sqs:SendMessage, Resource: "*"}]}
---
kind: Role
name: web
trust: ec2
managed_policies: [arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess, web-read]
inline_policies:
  write: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: s3:PutObject, Resource: "arn:aws:s3:::web/*"}]}
tags: {team: web-platform}
---
kind: Role
name: batch
path: /batch2/
trust: ec2
managed_policies: [batch-b]
inline_policies:
  queue: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: sqs:ReceiveMessage, Resource: "*"}]}
---
kind: Role
name: jobs
trust: ec2
managed_policies: [arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore, jobs-ops]
---
kind: Role
name: api
trust: ec2
---
kind: InstanceProfile
name: web
role: web
---
kind: InstanceProfile
name: batch
role: batch
---
kind: InstanceProfile
name: moving
path: /new/
role: web
---
kind: InstanceProfile
name: jobs
role: jobs
---
kind: InstanceProfile
name: api
role: api
---
kind: Instance
name: web-1
profile: batch
---
kind: Instance
name: web-2
profile: batch
---
kind: Instance
name: ops-1
profile: web
---
kind: Instance
name: move-1
profile: moving
---
kind: Instance
name: jobs-1
profile: jobs
---
kind: Instance
name: batch-1
profile: null
---
kind: Instance
name: api-1
profile: api
"#;

fn load(dir: &Path, name: &str, yaml: &str) -> Desired {
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    match rolecall::manifest::load(&[path], dir) {
        Ok(loaded) => loaded.desired,
        Err(diagnostics) => panic!("{name}: {diagnostics}"),
    }
}

/// How a run plans: as on an emulated account, with or without `--force`.
fn options(force: bool) -> PlanOptions {
    PlanOptions {
        force,
        launch_instances: true,
    }
}

/// Where a run goes: the manifests, and whether it is forced (`destroy
/// --force` also frees the instances a change released from the profiles it
/// deletes).
struct Target {
    desired: Desired,
    force: bool,
}

/// Plans `desired` against the account and applies the plan's first `steps`
/// steps with no retries, as `rolecall apply --auto-approve --retry-timeout
/// 0s` does (and dies after them). `Err` only when no plan could be made.
fn apply_once(cloud: &Emulator, target: &Target, steps: usize) -> Result<apply::Report, String> {
    let live = cloud.snapshot().map_err(|e| e.to_string())?;
    let mut plan =
        plan::plan(&target.desired, &live, options(target.force)).map_err(|e| e.to_string())?;
    let all = plan.steps.len();
    plan.steps.truncate(steps);
    if plan.steps.len() < all {
        // Report the kill as one failed step, so the run does not count as done.
        let mut report = apply::execute(&plan, cloud, &no_retries(), &Silent);
        report
            .outcomes
            .insert(steps + 1, Outcome::Skipped { after: steps + 1 });
        return Ok(report);
    }
    Ok(apply::execute(&plan, cloud, &no_retries(), &Silent))
}

fn no_retries() -> ApplyOptions {
    ApplyOptions {
        retry_timeout: Duration::ZERO,
        ..ApplyOptions::default()
    }
}

fn failures(report: &apply::Report) -> Vec<String> {
    report
        .outcomes
        .iter()
        .filter_map(|(id, outcome)| match outcome {
            Outcome::Failed(error) => Some(format!("step {id}: {error}")),
            _ => None,
        })
        .collect()
}

fn nothing_to_do(cloud: &Emulator, desired: &Desired) -> Result<(), String> {
    let live = cloud.snapshot().map_err(|e| e.to_string())?;
    let plan = plan::plan(desired, &live, options(false)).map_err(|e| e.to_string())?;
    if plan.has_changes() {
        return Err(format!(
            "planning again is not clean:\n{}",
            plan::render::json(&plan)
        ));
    }
    Ok(())
}

/// An account holding `export`, in a new file under `dir`.
fn restore(dir: &Path, name: &str, export: &AccountExport) -> (Emulator, PathBuf) {
    let path = dir.join(name);
    let _ = std::fs::remove_file(&path);
    let mut cloud = Emulator::open(&path).unwrap();
    cloud.import(export).unwrap();
    (cloud, path)
}

/// Launches an instance by hand, as someone outside rolecall would, and
/// adopts it into the stack (as `rolecall import` would).
fn adopted_instance(cloud: &Emulator, name: &str) {
    let request = RunInstancesRequest {
        min_count: 1,
        max_count: 1,
        tag_specifications: vec![TagSpecification {
            resource_type: "instance".into(),
            tags: vec![Tag::new("Name", name), Tag::new(TAG_STACK, STACK)],
        }],
        ..RunInstancesRequest::default()
    };
    cloud.run_instances(&request).unwrap();
}

/// How the first run towards the target is interrupted.
#[derive(Debug, Clone, Copy)]
enum Interruption {
    /// The Kth API call fails (`rolecall emulator configure --fail-after K`);
    /// with no retries, its dependents are skipped and the rest runs.
    FailedCall(u64),
    /// The process dies after the plan's first K steps (in plan order, which
    /// is an order apply may run them in): nothing after them runs.
    Killed(usize),
}

/// For every interruption point: restore `start`, interrupt a run towards
/// `target`, then run again without faults and check with `converged`.
/// Returns how many points were tried.
fn sweep(
    dir: &Path,
    start: &AccountExport,
    target: &Target,
    mode: fn(usize) -> Interruption,
    converged: impl Fn(&Emulator) -> Result<(), String>,
) -> usize {
    let mut problems = Vec::new();
    let mut k = 1;
    loop {
        let (cloud, _) = restore(dir, "sweep.db", start);
        let interruption = mode(k);
        let first = match interruption {
            Interruption::FailedCall(k) => {
                cloud
                    .configure(&Faults {
                        fail_after: Some(k),
                        ..Faults::default()
                    })
                    .unwrap();
                let first = apply_once(&cloud, target, usize::MAX)
                    .unwrap_or_else(|e| panic!("{interruption:?}: {e}"));
                cloud.configure(&Faults::default()).unwrap();
                first
            }
            Interruption::Killed(k) => {
                apply_once(&cloud, target, k).unwrap_or_else(|e| panic!("{interruption:?}: {e}"))
            }
        };
        if first.succeeded() {
            // The run needed fewer calls or steps: every point was tried.
            break;
        }
        let outcome = match apply_once(&cloud, target, usize::MAX) {
            Err(error) => Err(format!("the rerun cannot plan: {error}")),
            Ok(rerun) if !rerun.succeeded() => {
                Err(format!("the rerun failed: {:?}", failures(&rerun)))
            }
            Ok(_) => converged(&cloud),
        };
        if let Err(problem) = outcome {
            problems.push(format!(
                "{interruption:?} (first run: {:?}): {problem}",
                failures(&first)
            ));
        }
        k += 1;
    }
    assert!(
        problems.is_empty(),
        "{} of {} interruption points do not converge:\n{}",
        problems.len(),
        k - 1,
        problems.join("\n")
    );
    k - 1
}

fn nothing_owned(cloud: &Emulator) -> Result<(), String> {
    let live = cloud.snapshot().map_err(|e| e.to_string())?;
    let owned = |tags: &rolecall::model::Tags| tags.contains_key(TAG_STACK);
    let left: Vec<String> = live
        .roles
        .iter()
        .filter(|(_, r)| owned(&r.role.tags))
        .map(|(n, _)| format!("role/{n}"))
        .chain(
            live.profiles
                .iter()
                .filter(|(_, p)| owned(&p.profile.tags))
                .map(|(n, _)| format!("instance-profile/{n}")),
        )
        .chain(
            live.policies
                .iter()
                .filter(|(_, p)| owned(&p.policy.tags))
                .map(|(n, _)| format!("policy/{n}")),
        )
        .chain(
            live.instances
                .values()
                .filter(|i| owned(&i.tags))
                .map(|i| format!("instance/{}", i.instance_id)),
        )
        .collect();
    if left.is_empty() {
        Ok(())
    } else {
        Err(format!("still owned after destroy: {left:?}"))
    }
}

#[test]
fn every_interrupted_apply_and_destroy_converges() {
    let dir = tempfile::tempdir().unwrap();
    let before = Target {
        desired: load(dir.path(), "before.yaml", BEFORE),
        force: false,
    };
    let after = Target {
        desired: load(dir.path(), "after.yaml", AFTER),
        force: false,
    };
    let nothing = || Desired {
        stack: STACK.into(),
        ..Desired::default()
    };
    let destroy = Target {
        desired: nothing(),
        force: false,
    };
    let forced_destroy = Target {
        desired: nothing(),
        force: true,
    };

    // The account before the change: the stack applied, web-2 stopped.
    let base = Emulator::open(&dir.path().join("base.db")).unwrap();
    for name in ["adopted-ops", "adopted-move", "adopted-web"] {
        adopted_instance(&base, name);
    }
    let report = apply_once(&base, &before, usize::MAX).unwrap();
    assert!(report.succeeded(), "{:?}", failures(&report));
    nothing_to_do(&base, &before.desired).unwrap();
    let live = base.snapshot().unwrap();
    let web_2 = live
        .instances
        .values()
        .find(|i| i.name.as_deref() == Some("web-2"))
        .unwrap();
    base.stop_instances(&StopInstancesRequest {
        instance_ids: vec![web_2.instance_id.clone()],
    })
    .unwrap();
    let before_change = base.export().unwrap();

    // Every fault point of the change, failed call or killed process.
    let failed_call = |k| Interruption::FailedCall(k as u64);
    let points = sweep(dir.path(), &before_change, &after, failed_call, |cloud| {
        nothing_to_do(cloud, &after.desired)
    });
    // The change makes dozens of calls: a sweep that stopped early tested nothing.
    assert!(points >= 50, "only {points} fault points");
    let points = sweep(
        dir.path(),
        &before_change,
        &after,
        Interruption::Killed,
        |cloud| nothing_to_do(cloud, &after.desired),
    );
    assert!(points >= 50, "only {points} kill points");

    // Every fault point of a plain destroy (no --force: it must converge
    // without it), which releases the adopted instances.
    let points = sweep(
        dir.path(),
        &before_change,
        &destroy,
        failed_call,
        nothing_owned,
    );
    assert!(points >= 25, "only {points} fault points");
    let points = sweep(
        dir.path(),
        &before_change,
        &destroy,
        Interruption::Killed,
        nothing_owned,
    );
    assert!(points >= 25, "only {points} kill points");

    // Every fault point of destroying the changed stack, with --force.
    let (changed, _) = restore(dir.path(), "changed.db", &before_change);
    let report = apply_once(&changed, &after, usize::MAX).unwrap();
    assert!(report.succeeded(), "{:?}", failures(&report));
    let after_change = changed.export().unwrap();
    let points = sweep(
        dir.path(),
        &after_change,
        &forced_destroy,
        failed_call,
        nothing_owned,
    );
    assert!(points >= 25, "only {points} fault points");
    let points = sweep(
        dir.path(),
        &after_change,
        &forced_destroy,
        Interruption::Killed,
        nothing_owned,
    );
    assert!(points >= 25, "only {points} kill points");
}
