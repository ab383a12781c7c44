//! The real binary on real manifests against a real emulated account file:
//! apply/plan round trips, output formats, saved plans, locking, drift,
//! import and destroy.

use std::path::{Path, PathBuf};

mod support;

use assert_cmd::Command;
use rolecall::cloud::Cloud;
use rolecall::cloud::iam::*;
use rolecall::emulator::Emulator;
use rolecall::model::{PolicyDocument, TAG_STACK};
use support::instances::launch_named;

const FIXTURE: &str = "tests/fixtures/stack";

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(Path::new(FIXTURE), &dir.path().join("manifests"));
        Lab { dir }
    }

    fn account(&self) -> PathBuf {
        self.dir.path().join("account.db")
    }

    fn manifests(&self) -> PathBuf {
        self.dir.path().join("manifests")
    }

    /// `rolecall ARGS --account <lab> -f <lab manifests> --color never`.
    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        let mut command = Command::cargo_bin("rolecall").unwrap();
        command
            .current_dir(self.dir.path())
            .env_remove("ROLECALL_ACCOUNT")
            .env("NO_COLOR", "1")
            .arg("--account")
            .arg(self.account())
            .args(args);
        command.assert()
    }

    fn cloud(&self) -> Emulator {
        Emulator::open(&self.account()).unwrap()
    }

    fn edit(&self, from: &str, to: &str) {
        let file = self.manifests().join("stack.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(from), "fixture has no `{from}`");
        std::fs::write(&file, text.replacen(from, to, 1)).unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn apply_then_plan_is_clean_and_plan_is_stable() {
    let lab = Lab::new();
    let first = lab
        .run(&["plan", "-f", "manifests", "--format", "json"])
        .success();
    let second = lab
        .run(&["plan", "-f", "manifests", "--format", "json"])
        .success();
    assert_eq!(stdout(&first), stdout(&second), "same input, same bytes");
    lab.run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(2);
    let applied = lab
        .run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    assert!(
        stdout(&applied).contains("Apply complete: 5 created, 0 updated, 0 replaced, 0 deleted."),
        "{}",
        stdout(&applied)
    );
    let again = lab
        .run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(0);
    assert!(stdout(&again).contains("No changes."));
    lab.run(&["drift", "-f", "manifests"]).code(0);
}

/// Gives the lab's instances fixed ids, in the order of their Name tags
/// (`i-00000000000000001`, ...), by exporting the account and importing it
/// back: snapshots of plans that name instances must not depend on the
/// random ids EC2 (and the emulator) hand out.
fn pin_instance_ids(lab: &Lab) {
    let mut cloud = lab.cloud();
    let mut account = cloud.export().unwrap();
    account
        .instances
        .sort_by(|a, b| a.tags.get("Name").cmp(&b.tags.get("Name")));
    for (n, instance) in account.instances.iter_mut().enumerate() {
        instance.instance_id = format!("i-{:017x}", n + 1);
        if let Some(association) = &mut instance.association {
            association.association_id = format!("iip-assoc-{:017x}", n + 1);
        }
    }
    cloud.import(&account).unwrap();
}

/// What the realistic change set starts from, besides the fixture: a role
/// held by a profile an instance uses, and a batch instance; two
/// customer-managed policies, one attached to that role.
const MORE: &str = "---
kind: ManagedPolicy
name: shop-logs
description: Writes the shop's logs
document: {Version: \"2012-10-17\", Statement: [{Effect: Allow, Action: logs:PutLogEvents, Resource: \"*\"}]}
---
kind: ManagedPolicy
name: audit
document: {Version: \"2012-10-17\", Statement: [{Effect: Allow, Action: cloudtrail:LookupEvents, Resource: \"*\"}]}
---
kind: Role
name: legacy
trust: ec2
managed_policies: [audit]
---
kind: InstanceProfile
name: ops
role: legacy
---
kind: Instance
name: ops-1
profile: ops
---
kind: Instance
name: batch-1
profile: batch
";

/// Every kind of change at once: creates (a Lambda role with a new
/// customer-managed policy, a lab instance), updates (policy, tags,
/// description; a profile switching roles; a customer-managed policy's
/// document), replaces (a role and a profile changing path, with an
/// instance on the profile), deletes (a role no longer declared, and the
/// policy it held), and the warnings they bring.
fn realistic_change_set(lab: &Lab) {
    lab.edit(
        "Action: logs:PutLogEvents",
        "Action: [logs:PutLogEvents, logs:CreateLogStream]",
    );
    lab.edit(
        "name: audit\ndocument: {Version: \"2012-10-17\", Statement: [{Effect: Allow, Action: cloudtrail:LookupEvents",
        "name: reports-read\ndocument: {Version: \"2012-10-17\", Statement: [{Effect: Allow, Action: s3:GetObject",
    );
    lab.edit(
        "Action: [s3:GetObject]",
        "Action: [s3:GetObject, s3:ListBucket]",
    );
    lab.edit("team: web", "team: storefront");
    lab.edit(
        "description: Serves the shop",
        "description: Serves the storefront",
    );
    lab.edit(
        "name: batch\ntrust: ec2",
        "name: batch\npath: /jobs/\ntrust: ec2",
    );
    lab.edit(
        "kind: InstanceProfile\nname: batch\nrole: batch\n",
        "kind: InstanceProfile\nname: batch\nrole: batch\npath: /jobs/\n",
    );
    lab.edit(
        "---\nkind: Role\nname: legacy\ntrust: ec2\nmanaged_policies: [audit]\n",
        "---\nkind: Role\nname: reports\ntrust: lambda\ndescription: Nightly reports\nmanaged_policies: [reports-read]\n",
    );
    lab.edit("name: ops\nrole: legacy", "name: ops\nrole: web");
    lab.edit(
        "name: batch-1\nprofile: batch\n",
        "name: batch-1\nprofile: batch\n---\nkind: Instance\nname: web-2\nprofile: web\n",
    );
}

#[test]
fn plan_output_formats_for_a_realistic_change_set() {
    let lab = Lab::new();
    let stack = lab.manifests().join("stack.yaml");
    let mut text = std::fs::read_to_string(&stack).unwrap();
    text.push_str(MORE);
    std::fs::write(&stack, text).unwrap();
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    pin_instance_ids(&lab);
    lab.run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(0);
    realistic_change_set(&lab);

    // Each format twice: the same input gives the same bytes.
    let twice = |args: &[&str]| {
        let first = stdout(&lab.run(args).success());
        let second = stdout(&lab.run(args).success());
        assert_eq!(first, second, "{args:?} differs between two runs");
        first
    };
    let text = twice(&["plan", "-f", "manifests", "-v"]);
    insta::assert_snapshot!("plan_text", text);
    let markdown = twice(&["plan", "-f", "manifests", "--format", "markdown"]);
    insta::assert_snapshot!("plan_markdown", markdown);
    let json = twice(&["plan", "-f", "manifests", "--format", "json"]);
    insta::assert_snapshot!("plan_json", json);

    // The JSON is the format of docs/design.md: every step depends on earlier ones.
    let plan: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(plan["format_version"], 1);
    for step in plan["steps"].as_array().unwrap() {
        for dependency in step["depends_on"].as_array().unwrap() {
            assert!(dependency.as_u64() < step["id"].as_u64(), "{step}");
        }
    }

    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    lab.run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(0);
}

#[test]
fn saved_plan_applies_once_and_refuses_when_stale() {
    let lab = Lab::new();
    lab.run(&["plan", "-f", "manifests", "--out", "plan.json"])
        .success();
    lab.run(&["apply", "plan.json"]).success();
    lab.run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(0);

    lab.edit("team: web", "team: storefront");
    lab.run(&["plan", "-f", "manifests", "--out", "plan.json"])
        .success();
    // Someone changes the role behind rolecall's back.
    lab.cloud()
        .tag_role(&TagRoleRequest {
            role_name: "web".into(),
            tags: vec![Tag::new("oncall", "alice")],
        })
        .unwrap();
    let refused = lab.run(&["apply", "plan.json"]).code(1);
    let message = stderr(&refused);
    assert!(message.contains("saved plan is stale"), "{message}");
    assert!(message.contains("changed: role/web"), "{message}");
    let tags = lab.cloud().snapshot().unwrap().roles["web"]
        .role
        .tags
        .clone();
    assert_eq!(tags.get("team").unwrap(), "web", "nothing was applied");
}

#[test]
fn apply_without_a_terminal_needs_auto_approve() {
    let lab = Lab::new();
    let refused = lab.run(&["apply", "-f", "manifests"]).code(1);
    assert!(
        stderr(&refused).contains("--auto-approve"),
        "{}",
        stderr(&refused)
    );
    assert!(
        lab.cloud().snapshot().unwrap().roles.is_empty(),
        "nothing changed"
    );
}

#[test]
fn a_second_apply_is_refused_naming_the_holder() {
    let lab = Lab::new();
    let held = rolecall::emulator::lock::acquire(
        &lab.account(),
        "rolecall apply",
        std::time::Duration::ZERO,
    )
    .unwrap();
    let refused = lab
        .run(&["apply", "-f", "manifests", "--auto-approve"])
        .code(1);
    let message = stderr(&refused);
    assert!(message.contains("locked by another rolecall"), "{message}");
    assert!(
        message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
    drop(held);
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
}

#[test]
fn drift_classifies_out_of_band_changes_and_apply_restores() {
    let lab = Lab::new();
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    let cloud = lab.cloud();
    cloud
        .update_role(&UpdateRoleRequest {
            role_name: "web".into(),
            description: Some("hand edited".into()),
            max_session_duration: None,
        })
        .unwrap();
    cloud
        .detach_role_policy(&DetachRolePolicyRequest {
            role_name: "web".into(),
            policy_arn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore".into(),
        })
        .unwrap();
    let report = lab
        .run(&["drift", "-f", "manifests", "--format", "json"])
        .code(2);
    let json: serde_json::Value = serde_json::from_str(&stdout(&report)).unwrap();
    assert_eq!(json["drift"], true);
    let entry = &json["entries"][0];
    assert_eq!(entry["resource"], "role/web");
    assert_eq!(entry["class"], "modified");
    let attributes: Vec<&str> = entry["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(attributes, vec!["description", "managed_policies"]);
    let text = stdout(&lab.run(&["drift", "-f", "manifests"]).code(2));
    assert!(text.contains("modified  role/web"), "{text}");

    // A manifest change not yet applied is pending, not drift.
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    lab.edit("team: web", "team: storefront");
    let pending = lab
        .run(&["drift", "-f", "manifests", "--format", "json"])
        .code(0);
    let json: serde_json::Value = serde_json::from_str(&stdout(&pending)).unwrap();
    assert_eq!(json["entries"][0]["class"], "pending");
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    lab.run(&["drift", "-f", "manifests"]).code(0);
}

#[test]
fn import_adopts_unowned_resources_and_refuses_another_stacks() {
    let lab = Lab::new();
    let cloud = lab.cloud();
    let trust = PolicyDocument::trusting_services(&["ec2.amazonaws.com"]).to_json();
    cloud
        .create_role(&CreateRoleRequest {
            role_name: "batch".into(),
            assume_role_policy_document: trust.clone().into(),
            ..CreateRoleRequest::default()
        })
        .unwrap();
    cloud
        .create_role(&CreateRoleRequest {
            role_name: "web".into(),
            assume_role_policy_document: trust.into(),
            tags: vec![Tag::new(TAG_STACK, "other")],
            ..CreateRoleRequest::default()
        })
        .unwrap();
    let blocked = lab.run(&["plan", "-f", "manifests"]).code(1);
    // Each at the place it is declared.
    for refusal in [
        "manifests/stack.yaml:23:7: role/batch: exists in the account but is not managed by rolecall (no `rolecall:stack` tag); adopt it with `rolecall import role/batch`",
        "manifests/stack.yaml:7:7: role/web: is owned by stack `other`, not `shop`",
    ] {
        assert!(stderr(&blocked).contains(refusal), "{}", stderr(&blocked));
    }

    let refused = lab
        .run(&["import", "-f", "manifests", "role/batch", "role/web"])
        .code(1);
    assert!(
        stderr(&refused).contains("owned by stack `other`"),
        "{}",
        stderr(&refused)
    );
    let batch_tags = cloud.snapshot().unwrap().roles["batch"].role.tags.clone();
    assert!(
        !batch_tags.contains_key(TAG_STACK),
        "all or nothing: batch not tagged"
    );

    // The other stack gives its role up; now batch can be adopted.
    cloud
        .delete_role(&DeleteRoleRequest {
            role_name: "web".into(),
        })
        .unwrap();
    // A hand-made profile holding the hand-made role, also declared.
    cloud
        .create_instance_profile(&CreateInstanceProfileRequest {
            instance_profile_name: "batch".into(),
            ..CreateInstanceProfileRequest::default()
        })
        .unwrap();
    cloud
        .add_role_to_instance_profile(&AddRoleToInstanceProfileRequest {
            instance_profile_name: "batch".into(),
            role_name: "batch".into(),
        })
        .unwrap();
    let imported = lab
        .run(&[
            "import",
            "-f",
            "manifests",
            "role/batch",
            "instance-profile/batch",
        ])
        .success();
    let out = stdout(&imported);
    assert!(
        out.contains("imported role/batch into stack `shop`"),
        "{out}"
    );
    // The plan shown after import changes only what really differs: batch
    // gets the stack's tags, nothing is created or replaced for it.
    assert!(out.contains("~ role/batch"), "{out}");
    assert!(!out.contains("+ role/batch"), "{out}");
    assert!(out.contains("imported instance-profile/batch"), "{out}");
    assert!(!out.contains("+ instance-profile/batch"), "{out}");
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    lab.run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(0);
}

#[test]
fn import_adopts_an_unowned_customer_managed_policy() {
    let lab = Lab::new();
    let stack = lab.manifests().join("stack.yaml");
    let mut text = std::fs::read_to_string(&stack).unwrap();
    text.push_str(
        "---\nkind: ManagedPolicy\nname: hand-made\ndocument: {Version: \"2012-10-17\", Statement: [{Effect: Allow, Action: s3:GetObject, Resource: \"*\"}]}\n",
    );
    std::fs::write(&stack, text).unwrap();
    // Made by hand, the same document written otherwise, and a tag.
    lab.cloud()
        .create_policy(&CreatePolicyRequest {
            policy_name: "hand-made".into(),
            policy_document: r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}}"#.into(),
            tags: vec![Tag::new("owner", "platform")],
            ..CreatePolicyRequest::default()
        })
        .unwrap();
    let blocked = lab.run(&["plan", "-f", "manifests"]).code(1);
    assert!(
        stderr(&blocked).contains("rolecall import policy/hand-made"),
        "{}",
        stderr(&blocked)
    );
    let undeclared = lab
        .run(&["import", "-f", "manifests", "policy/elsewhere"])
        .code(1);
    assert!(
        stderr(&undeclared).contains("policy/elsewhere: not declared in the manifests"),
        "{}",
        stderr(&undeclared)
    );
    let imported = lab
        .run(&["import", "-f", "manifests", "--all-declared"])
        .success();
    let out = stdout(&imported);
    assert!(
        out.contains("imported policy/hand-made into stack `shop`"),
        "{out}"
    );
    // Adopted, not created again: only its spec tag is written.
    assert!(!out.contains("+ policy/hand-made"), "{out}");
    assert!(!out.contains("-/+ policy/hand-made"), "{out}");
    let live = lab.cloud().snapshot().unwrap();
    assert_eq!(
        live.policies["hand-made"]
            .policy
            .tags
            .get(TAG_STACK)
            .unwrap(),
        "shop"
    );
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    lab.run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(0);
    let live = lab.cloud().snapshot().unwrap();
    assert_eq!(
        live.policies["hand-made"].versions.len(),
        1,
        "the same document: no new version"
    );
}

#[test]
fn destroy_removes_what_the_stack_owns_and_nothing_else() {
    let lab = Lab::new();
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    let cloud = lab.cloud();
    cloud
        .create_role(&CreateRoleRequest {
            role_name: "hand-made".into(),
            assume_role_policy_document: PolicyDocument::trusting_services(&["ec2.amazonaws.com"])
                .shared_json(),
            ..CreateRoleRequest::default()
        })
        .unwrap();
    lab.run(&["destroy", "-f", "manifests", "--auto-approve"])
        .success();
    let live = cloud.snapshot().unwrap();
    assert_eq!(live.roles.keys().collect::<Vec<_>>(), vec!["hand-made"]);
    assert!(live.profiles.is_empty());
    for instance in live.instances.values() {
        assert!(
            !instance.tags.contains_key(TAG_STACK),
            "released: {instance:?}"
        );
        assert!(instance.association.is_none(), "its profile is gone");
    }
}

#[test]
fn misbehaving_account_still_converges_with_retries_logged() {
    let lab = Lab::new();
    // Create the account first, then make it slow to show new profiles to EC2
    // and throttle a fifth of the calls.
    lab.cloud()
        .configure(&rolecall::emulator::Faults {
            propagation_delay_ms: 300,
            associating_ms: 200,
            throttle_rate: 0.2,
            fail_after: None,
            seed: 7,
        })
        .unwrap();
    let applied = lab
        .run(&["-v", "apply", "-f", "manifests", "--auto-approve"])
        .success();
    assert!(
        stderr(&applied).contains("retry 1 of step"),
        "{}",
        stderr(&applied)
    );
    lab.cloud()
        .configure(&rolecall::emulator::Faults::default())
        .unwrap();
    lab.run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(0);
}

#[test]
fn a_failed_step_skips_its_dependents_and_a_rerun_converges() {
    let lab = Lab::new();
    // The first call fails (the plan cannot know), and is not retried.
    lab.run(&["emulator", "configure", "--fail-after", "1"])
        .success();
    let failed = lab
        .run(&[
            "apply",
            "-f",
            "manifests",
            "--auto-approve",
            "--retry-timeout",
            "0s",
        ])
        .code(1);
    let message = stderr(&failed);
    assert!(
        message.starts_with(
            "error: apply failed: 9 steps done, 1 failed, 2 skipped (4 created, 0 updated, 0 replaced, 0 deleted)\n  \
             failed:  step 1 CreateInstanceProfile instance-profile/batch: An error occurred (ServiceFailure)"
        ),
        "{message}"
    );
    // The batch profile's role and tags wait for the profile.
    assert!(
        message.contains(
            "  skipped: step 4 AddRoleToInstanceProfile instance-profile/batch (after step 1)\n"
        ),
        "{message}"
    );
    // Independent work still happened.
    let live = lab.cloud().snapshot().unwrap();
    assert!(live.profiles["web"].profile.role.as_deref() == Some("web"));
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    lab.run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(0);
}

#[test]
fn saved_plan_is_stale_once_an_unmanaged_instance_uses_a_profile_it_deletes() {
    let lab = Lab::new();
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    // The plan deletes profile `batch` (and its role): nobody uses it now.
    lab.edit("---\nkind: InstanceProfile\nname: batch\nrole: batch\n", "");
    lab.edit("---\nkind: Role\nname: batch\ntrust: ec2\n", "");
    lab.run(&["plan", "-f", "manifests", "--out", "plan.json"])
        .success();
    // Then someone launches an instance on it by hand.
    lab.cloud()
        .run_instances(&rolecall::cloud::ec2::RunInstancesRequest {
            min_count: 1,
            max_count: 1,
            iam_instance_profile: Some(
                rolecall::cloud::ec2::IamInstanceProfileSpecification::by_name("batch"),
            ),
            ..Default::default()
        })
        .unwrap();
    let refused = lab.run(&["apply", "plan.json"]).code(1);
    let message = stderr(&refused);
    assert!(message.contains("saved plan is stale"), "{message}");
    assert!(
        message.contains("changed: instance-profile/batch"),
        "{message}"
    );
    assert!(
        lab.cloud()
            .snapshot()
            .unwrap()
            .profiles
            .contains_key("batch")
    );
}

#[test]
fn usage_errors_exit_1_not_the_drift_code() {
    let lab = Lab::new();
    for args in [
        &["drift", "--format", "yaml"][..],
        &["drift", "--no-such-flag"][..],
        &["import"][..],
    ] {
        let failed = lab.run(args).code(1);
        assert!(stderr(&failed).contains("error:"), "{args:?}");
    }
    lab.run(&["drift", "--help"]).success();
}

#[test]
fn read_only_commands_against_a_missing_account_create_nothing() {
    let lab = Lab::new();
    for args in [
        &["plan", "-f", "manifests"][..],
        &["drift", "-f", "manifests"][..],
        &["graph", "--steps", "-f", "manifests"][..],
    ] {
        let ran = lab.run(args);
        let ran = if args[0] == "drift" {
            ran.code(2) // everything declared is missing
        } else {
            ran.success()
        };
        assert!(
            stderr(&ran).contains("no emulated account at"),
            "{args:?}: {}",
            stderr(&ran)
        );
        assert!(!lab.account().exists(), "{args:?} created the account");
    }
    // What plan showed is what apply does.
    let planned = stdout(&lab.run(&["plan", "-f", "manifests"]).success());
    assert!(planned.contains("Plan: 5 to create"), "{planned}");
    let applied = lab
        .run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    assert!(
        stderr(&applied).contains("(the first `rolecall apply` creates it)"),
        "{}",
        stderr(&applied)
    );
    assert!(lab.account().exists());
}

#[test]
fn a_lock_wait_that_times_out_says_how_long_it_waited() {
    let lab = Lab::new();
    let _held = rolecall::emulator::lock::acquire(
        &lab.account(),
        "rolecall apply",
        std::time::Duration::ZERO,
    )
    .unwrap();
    let refused = lab
        .run(&[
            "apply",
            "-f",
            "manifests",
            "--auto-approve",
            "--lock-timeout",
            "300ms",
        ])
        .code(1);
    let message = stderr(&refused);
    assert!(message.contains("after waiting 0.3 s"), "{message}");
    assert!(!message.contains("pass --lock-timeout"), "{message}");
}

#[test]
fn destroy_needs_force_to_free_an_unmanaged_instance_and_then_leaves_it_running() {
    let lab = Lab::new();
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    let cloud = lab.cloud();
    let stranger = cloud
        .run_instances(&rolecall::cloud::ec2::RunInstancesRequest {
            min_count: 1,
            max_count: 1,
            iam_instance_profile: Some(
                rolecall::cloud::ec2::IamInstanceProfileSpecification::by_name("web"),
            ),
            ..Default::default()
        })
        .unwrap()
        .instances[0]
        .instance_id
        .clone();
    let refused = lab
        .run(&["destroy", "-f", "manifests", "--auto-approve"])
        .code(1);
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert!(cloud.snapshot().unwrap().roles.contains_key("web"));

    let destroyed = lab
        .run(&["destroy", "-f", "manifests", "--auto-approve", "--force"])
        .success();
    assert!(
        stdout(&destroyed).contains("Destroy complete"),
        "{}",
        stdout(&destroyed)
    );
    let live = cloud.snapshot().unwrap();
    assert!(live.roles.is_empty() && live.profiles.is_empty());
    let stranger = &live.instances[&stranger];
    assert!(stranger.association.is_none());
    assert!(!stranger.tags.contains_key(TAG_STACK), "never adopted");

    let again = lab
        .run(&["destroy", "-f", "manifests", "--auto-approve"])
        .success();
    assert!(
        stdout(&again).contains("Nothing to destroy"),
        "{}",
        stdout(&again)
    );
}

/// A role made by hand, unowned, with `tags` user tags.
fn hand_made_role(cloud: &Emulator, name: &str, tags: usize) {
    cloud
        .create_role(&CreateRoleRequest {
            role_name: name.into(),
            assume_role_policy_document: PolicyDocument::trusting_services(&["ec2.amazonaws.com"])
                .shared_json(),
            tags: (0..tags).map(|i| Tag::new(format!("t{i}"), "x")).collect(),
            ..CreateRoleRequest::default()
        })
        .unwrap();
}

#[test]
fn import_waits_for_no_apply_and_leaves_room_for_its_tags() {
    let lab = Lab::new();
    let cloud = lab.cloud();
    hand_made_role(&cloud, "batch", 49);
    hand_made_role(&cloud, "web", 0);
    let refused = lab
        .run(&["import", "-f", "manifests", "role/web", "role/batch"])
        .code(1);
    let message = stderr(&refused);
    assert!(
        message.contains("role/batch: has 49 tags") && message.contains("remove 1 of its tags"),
        "{message}"
    );
    let live = cloud.snapshot().unwrap();
    assert!(
        !live.roles["web"].role.tags.contains_key(TAG_STACK),
        "all or nothing"
    );

    let _held = rolecall::emulator::lock::acquire(
        &lab.account(),
        "rolecall apply",
        std::time::Duration::ZERO,
    )
    .unwrap();
    let locked = lab.run(&["import", "-f", "manifests", "role/web"]).code(1);
    assert!(
        stderr(&locked).contains("locked by another rolecall"),
        "{}",
        stderr(&locked)
    );
    // It may wait for the apply, as apply may.
    let waited = lab
        .run(&[
            "import",
            "-f",
            "manifests",
            "role/web",
            "--lock-timeout",
            "300ms",
        ])
        .code(1);
    assert!(
        stderr(&waited).contains("still locked by another rolecall")
            && stderr(&waited).contains("after waiting 0.3 s"),
        "{}",
        stderr(&waited)
    );
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(_held);
    });
    lab.run(&[
        "import",
        "-f",
        "manifests",
        "role/web",
        "--lock-timeout",
        "30s",
    ])
    .success();
    release.join().unwrap();
}

#[test]
fn import_gives_back_what_it_adopted_when_a_later_call_fails() {
    let lab = Lab::new();
    let cloud = lab.cloud();
    hand_made_role(&cloud, "batch", 0);
    hand_made_role(&cloud, "web", 0);
    // The second call from now fails: TagRole of role/web.
    cloud
        .configure(&rolecall::emulator::Faults {
            fail_after: Some(2),
            ..Default::default()
        })
        .unwrap();
    let failed = lab
        .run(&["import", "-f", "manifests", "role/batch", "role/web"])
        .code(1);
    let message = stderr(&failed);
    assert!(message.contains("nothing imported: role/web"), "{message}");
    let live = cloud.snapshot().unwrap();
    for name in ["batch", "web"] {
        assert!(
            !live.roles[name].role.tags.contains_key(TAG_STACK),
            "{name} keeps no ownership tag"
        );
    }
}

/// Runs `rolecall ARGS` in the lab with stdout and stderr pipes whose reader
/// is gone before anything is written (like `| head -0`).
fn run_with_closed_output(lab: &Lab, args: &[&str]) -> std::process::ExitStatus {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("rolecall"))
        .current_dir(lab.dir.path())
        .env_remove("ROLECALL_ACCOUNT")
        .arg("--account")
        .arg(lab.account())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    child.wait().unwrap()
}

#[test]
fn a_closed_output_pipe_does_not_stop_an_apply_half_way() {
    let lab = Lab::new();
    let status =
        run_with_closed_output(&lab, &["-v", "apply", "-f", "manifests", "--auto-approve"]);
    assert_eq!(status.code(), Some(0), "{status}");
    lab.run(&["plan", "-f", "manifests", "--detailed-exitcode"])
        .code(0);
}

#[test]
fn a_saved_plan_edited_by_hand_is_refused() {
    let lab = Lab::new();
    lab.run(&["plan", "-f", "manifests", "--out", "plan.json"])
        .success();
    let path = lab.dir.path().join("plan.json");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 3] = [
        ("is numbered", |plan| plan["steps"][1]["id"] = 1.into()),
        ("does not come before it", |plan| {
            plan["steps"][0]["depends_on"] = serde_json::json!([2])
        }),
        ("holds no fingerprint", |plan| {
            let first = plan["fingerprints"]
                .as_object()
                .unwrap()
                .keys()
                .next()
                .unwrap()
                .clone();
            plan["fingerprints"].as_object_mut().unwrap().remove(&first);
        }),
    ];
    for (expected, edit) in edits {
        let mut plan = saved.clone();
        edit(&mut plan);
        std::fs::write(&path, plan.to_string()).unwrap();
        let refused = lab.run(&["apply", "plan.json"]).code(1);
        assert!(stderr(&refused).contains(expected), "{}", stderr(&refused));
        assert!(!lab.account().exists() || lab.cloud().snapshot().unwrap().roles.is_empty());
    }
}

#[test]
fn plan_keeps_its_exit_code_when_its_reader_goes_away() {
    let lab = Lab::new();
    let status = run_with_closed_output(&lab, &["plan", "-f", "manifests", "--detailed-exitcode"]);
    assert_eq!(status.code(), Some(2), "changes, as before");
}

#[test]
fn import_all_declared_refuses_a_name_several_instances_carry() {
    let lab = Lab::new();
    let cloud = lab.cloud();
    for _ in 0..2 {
        launch_named(&cloud, "web-1");
    }
    let refused = lab
        .run(&["import", "-f", "manifests", "--all-declared"])
        .code(1);
    assert!(
        stderr(&refused).contains("instance/web-1: several instances match"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn import_by_id_takes_the_instance_of_that_id_whatever_name_another_carries() {
    let lab = Lab::new();
    let cloud = lab.cloud();
    let declared = launch_named(&cloud, "web-1");
    // Made outside rolecall: manifests may not declare such a Name.
    let namesake = launch_named(&cloud, &declared);
    lab.edit(
        "kind: Instance\nname: web-1",
        &format!("kind: Instance\nid: {declared}"),
    );

    let key = format!("instance/{declared}");
    let imported = lab.run(&["import", "-f", "manifests", &key]).success();
    assert!(
        stdout(&imported).contains(&declared),
        "{}",
        stdout(&imported)
    );
    let live = cloud.snapshot().unwrap();
    assert!(live.instances[&declared].tags.contains_key(TAG_STACK));
    assert!(!live.instances[&namesake].tags.contains_key(TAG_STACK));
}

/// Every argument of every command, down the whole tree (the emulator's
/// operations included), has help text, and every command a description:
/// `--help` never shows a bare flag.
#[test]
fn every_flag_and_command_has_help() {
    use clap::CommandFactory;

    fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue; // clap's own, with clap's help
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path}: argument `{id}`"));
            }
        }
        for sub in command.get_subcommands() {
            let sub_path = format!("{path} {}", sub.get_name());
            if sub.get_name() != "help" && sub.get_about().is_none() {
                missing.push(format!("{sub_path}: no description"));
            }
            walk(sub, &sub_path, missing);
        }
    }

    let mut command = rolecall::cli::Cli::command();
    // Builds the tree as the binary does: global flags propagated, the
    // emulator's help tables applied.
    command.build();
    let mut missing = Vec::new();
    walk(&command, "rolecall", &mut missing);
    assert!(missing.is_empty(), "without help:\n{}", missing.join("\n"));
}

/// The lab's one instance, `web-1`, with a fixed id (see [`pin_instance_ids`]).
const WEB_1: &str = "instance/i-00000000000000001";

fn json_of(assert: &assert_cmd::assert::Assert) -> serde_json::Value {
    serde_json::from_str(&stdout(assert)).unwrap()
}

/// The entries of a JSON list whose `resource` is `key`.
fn about<'a>(list: &'a serde_json::Value, key: &str) -> Vec<&'a serde_json::Value> {
    list.as_array()
        .unwrap()
        .iter()
        .filter(|item| item["resource"] == key)
        .collect()
}

#[test]
fn an_instance_is_shown_by_id_and_name_and_json_keeps_the_name_as_its_handle() {
    let lab = Lab::new();
    // Before the first apply the lab instance has no id: its key is its name.
    let plan = json_of(
        &lab.run(&["plan", "-f", "manifests", "--format", "json"])
            .success(),
    );
    let change = about(&plan["changes"], "instance/web-1");
    assert_eq!(change.len(), 1, "{plan:#}");
    assert_eq!(change[0]["name"], "web-1");
    let steps = about(&plan["steps"], "instance/web-1");
    assert!(!steps.is_empty(), "{plan:#}");
    assert!(steps.iter().all(|s| s["name"] == "web-1"), "{steps:#?}");
    assert!(
        about(&plan["changes"], "role/web")[0].get("name").is_none(),
        "only instances carry a name"
    );

    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    pin_instance_ids(&lab);
    // After it, the key is the id; the name is the same.
    let plan = json_of(
        &lab.run(&["plan", "-f", "manifests", "--format", "json"])
            .success(),
    );
    let change = about(&plan["changes"], WEB_1);
    assert_eq!(change[0]["name"], "web-1", "{plan:#}");
    assert!(about(&plan["changes"], "instance/web-1").is_empty());

    // Someone takes its profile away: every output names it by id and name.
    let live = lab.cloud().snapshot().unwrap();
    let association = live.instances["i-00000000000000001"]
        .association
        .clone()
        .unwrap();
    lab.cloud()
        .disassociate_iam_instance_profile(
            &rolecall::cloud::ec2::DisassociateIamInstanceProfileRequest {
                association_id: association.association_id,
            },
        )
        .unwrap();
    let shown = format!("{WEB_1} (web-1)");
    let text = stdout(&lab.run(&["plan", "-f", "manifests", "-v"]).success());
    assert!(text.contains(&format!("  ~ {shown}\n")), "{text}");
    assert!(
        text.contains(&format!("AssociateIamInstanceProfile {shown}")),
        "the API call list too: {text}"
    );
    let markdown = stdout(
        &lab.run(&["plan", "-f", "manifests", "--format", "markdown"])
            .success(),
    );
    assert!(
        markdown.contains(&format!("<code>~ {shown}</code>")),
        "{markdown}"
    );
    let plan = json_of(
        &lab.run(&["plan", "-f", "manifests", "--format", "json"])
            .success(),
    );
    let steps = about(&plan["steps"], WEB_1);
    assert!(
        !steps.is_empty() && steps.iter().all(|s| s["name"] == "web-1"),
        "{plan:#}"
    );
    let drift = stdout(&lab.run(&["drift", "-f", "manifests"]).code(2));
    assert!(drift.contains(&format!("modified  {shown} (")), "{drift}");
    let drift = stdout(
        &lab.run(&["drift", "-f", "manifests", "--format", "markdown"])
            .code(2),
    );
    assert!(drift.contains(&format!("| `{shown}` |")), "{drift}");
    assert!(drift.contains(&format!("<code>{shown}</code>")), "{drift}");
    let drift = json_of(
        &lab.run(&["drift", "-f", "manifests", "--format", "json"])
            .code(2),
    );
    let entry = about(&drift["entries"], WEB_1);
    assert_eq!(entry[0]["name"], "web-1", "{drift:#}");

    // A problem names it the same way.
    lab.cloud()
        .delete_tags(&rolecall::cloud::ec2::DeleteTagsRequest {
            resources: vec!["i-00000000000000001".into()],
            tags: vec![rolecall::cloud::ec2::TagKeyMaybeValue {
                key: TAG_STACK.into(),
                value: None,
            }],
        })
        .unwrap();
    let refused = stderr(&lab.run(&["plan", "-f", "manifests"]).code(1));
    assert!(
        refused.contains(&format!(
            "{shown}: exists in the account but is not managed"
        )),
        "{refused}"
    );
    let drift = stdout(&lab.run(&["drift", "-f", "manifests"]).code(2));
    assert!(drift.contains(&format!("unmanaged {shown} (")), "{drift}");
    // Import says which instance the name was, the same way.
    let imported = stdout(
        &lab.run(&["import", "-f", "manifests", "instance/web-1"])
            .success(),
    );
    assert!(
        imported.contains(&format!("imported {shown} into stack `shop`")),
        "{imported}"
    );
}

/// A profile holding a role the manifests do not declare: a warning (the
/// role must already exist), which `validate`, `plan` and the others print.
const WARNED: &str = "kind: InstanceProfile\nname: ops\nrole: legacy\n";

/// Runs `args` with and without `-q`: (stdout, stderr) of each.
fn with_and_without_quiet(lab: &Lab, args: &[&str], code: i32) -> [(String, String); 2] {
    let loud = lab.run(args).code(code);
    let quiet = lab.run(&[&["-q"], args].concat()).code(code);
    [
        (stdout(&loud), stderr(&loud)),
        (stdout(&quiet), stderr(&quiet)),
    ]
}

#[test]
fn quiet_validate_prints_errors_only() {
    let lab = Lab::new();
    std::fs::write(lab.manifests().join("ops.yaml"), WARNED).unwrap();
    let [(out, err), (quiet_out, quiet_err)] =
        with_and_without_quiet(&lab, &["validate", "-f", "manifests"], 0);
    assert!(out.starts_with("ok: 6 resources"), "{out}");
    assert!(err.contains("warning: role `legacy`"), "{err}");
    assert_eq!((quiet_out.as_str(), quiet_err.as_str()), ("", ""));

    std::fs::write(
        lab.manifests().join("bad.yaml"),
        "kind: Role\nname: x\ntrust: ec2\nbogus: 1\n",
    )
    .unwrap();
    let [(_, err), (quiet_out, quiet_err)] =
        with_and_without_quiet(&lab, &["validate", "-f", "manifests"], 1);
    assert!(err.contains("1 error and 1 warning in manifests"), "{err}");
    assert!(quiet_out.is_empty(), "{quiet_out}");
    assert!(
        quiet_err.contains("bad.yaml:4:1: error: unknown field `bogus`"),
        "{quiet_err}"
    );
    assert!(
        quiet_err.contains("error: 1 error in manifests"),
        "{quiet_err}"
    );
    assert!(!quiet_err.contains("warning"), "{quiet_err}");
}

#[test]
fn quiet_plan_drift_graph_and_schema_print_their_output_and_nothing_else() {
    let lab = Lab::new();
    // No account yet: each says so in a note, which -q leaves out.
    for (args, code) in [
        (&["plan", "-f", "manifests"][..], 0),
        (&["plan", "-f", "manifests", "--format", "json"][..], 0),
        (&["drift", "-f", "manifests"][..], 2),
        (&["drift", "-f", "manifests", "--format", "json"][..], 2),
        (&["graph", "--steps", "-f", "manifests"][..], 0),
        (&["graph", "-f", "manifests", "--format", "json"][..], 0),
        (&["schema"][..], 0),
    ] {
        let [(out, _), (quiet_out, quiet_err)] = with_and_without_quiet(&lab, args, code);
        assert!(!out.is_empty(), "{args:?}");
        assert_eq!(out, quiet_out, "{args:?}: -q changes no output");
        assert_eq!(quiet_err, "", "{args:?}");
    }
    let [(_, err), _] = with_and_without_quiet(&lab, &["drift", "-f", "manifests"], 2);
    assert!(err.contains("note: there is no emulated account"), "{err}");

    // A saved plan: the plan is printed, the line about where it went is not.
    let [(out, _), (quiet_out, _)] =
        with_and_without_quiet(&lab, &["plan", "-f", "manifests", "--out", "plan.json"], 0);
    assert!(out.contains("Saved the plan to plan.json"), "{out}");
    assert!(!quiet_out.contains("Saved the plan"), "{quiet_out}");
    assert!(quiet_out.contains("Plan: 5 to create"), "{quiet_out}");

    // With an account: manifest warnings go too.
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    hand_made_role(&lab.cloud(), "legacy", 0);
    std::fs::write(lab.manifests().join("ops.yaml"), WARNED).unwrap();
    for (args, code) in [
        (&["plan", "-f", "manifests"][..], 0),
        (&["drift", "-f", "manifests"][..], 2),
        (&["graph", "-f", "manifests"][..], 0),
    ] {
        let [(out, err), (quiet_out, quiet_err)] = with_and_without_quiet(&lab, args, code);
        assert!(err.contains("warning: role `legacy`"), "{args:?}: {err}");
        assert_eq!(out, quiet_out, "{args:?}");
        assert_eq!(quiet_err, "", "{args:?}");
    }
}

#[test]
fn quiet_apply_destroy_and_import_print_nothing_but_errors() {
    let lab = Lab::new();
    let applied = lab
        .run(&["-q", "apply", "-f", "manifests", "--auto-approve"])
        .success();
    assert_eq!(
        (stdout(&applied), stderr(&applied)),
        (String::new(), String::new())
    );
    assert_eq!(lab.cloud().snapshot().unwrap().roles.len(), 2, "applied");
    // Nothing to do: "No changes." is a summary too.
    let again = lab
        .run(&["-q", "apply", "-f", "manifests", "--auto-approve"])
        .success();
    assert_eq!(stdout(&again), "");
    let loud = lab
        .run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    assert!(stdout(&loud).contains("No changes."), "{}", stdout(&loud));

    // import: adopted, and already managed, both silent.
    hand_made_role(&lab.cloud(), "legacy", 0);
    lab.edit(
        "name: batch\ntrust: ec2",
        "name: batch\ntrust: ec2\n---\nkind: Role\nname: legacy\ntrust: ec2",
    );
    let imported = lab
        .run(&["-q", "import", "-f", "manifests", "role/legacy", "role/web"])
        .success();
    assert_eq!(
        (stdout(&imported), stderr(&imported)),
        (String::new(), String::new())
    );
    let tags = &lab.cloud().snapshot().unwrap().roles["legacy"].role.tags;
    assert_eq!(tags.get(TAG_STACK).unwrap(), "shop", "imported");
    let loud = lab
        .run(&["import", "-f", "manifests", "role/legacy"])
        .success();
    assert!(
        stderr(&loud).contains("note: role/legacy is already managed"),
        "{}",
        stderr(&loud)
    );
    assert!(
        stdout(&loud).contains("The next apply would run this plan"),
        "{}",
        stdout(&loud)
    );

    // An error is still printed.
    let refused = lab
        .run(&["-q", "import", "-f", "manifests", "role/nowhere"])
        .code(1);
    assert!(
        stderr(&refused).contains("role/nowhere: not declared"),
        "{}",
        stderr(&refused)
    );

    let destroyed = lab
        .run(&["-q", "destroy", "-f", "manifests", "--auto-approve"])
        .success();
    assert_eq!(
        (stdout(&destroyed), stderr(&destroyed)),
        (String::new(), String::new())
    );
    assert!(
        lab.cloud().snapshot().unwrap().roles.is_empty(),
        "destroyed"
    );
    let nothing = lab
        .run(&["-q", "destroy", "-f", "manifests", "--auto-approve"])
        .success();
    assert_eq!(stdout(&nothing), "");

    // A failed apply says why, -q or not.
    let lab = Lab::new();
    lab.run(&["emulator", "configure", "--fail-after", "1"])
        .success();
    let failed = lab
        .run(&[
            "-q",
            "apply",
            "-f",
            "manifests",
            "--auto-approve",
            "--retry-timeout",
            "0s",
        ])
        .code(1);
    assert_eq!(stdout(&failed), "");
    assert!(
        stderr(&failed).contains("apply failed:"),
        "{}",
        stderr(&failed)
    );
}

#[test]
fn quiet_emulator_prints_responses_but_not_the_settings_it_changed() {
    let lab = Lab::new();
    let [(out, _), (quiet_out, quiet_err)] =
        with_and_without_quiet(&lab, &["emulator", "list-roles"], 0);
    assert!(out.contains("\"Roles\""), "{out}");
    assert_eq!(out, quiet_out);
    assert_eq!(quiet_err, "");
    let launched = lab
        .run(&["-q", "emulator", "run-instances", "--name", "x"])
        .success();
    assert!(
        stdout(&launched).contains("\"InstanceId\""),
        "{}",
        stdout(&launched)
    );

    let [(out, _), (quiet_out, _)] = with_and_without_quiet(
        &lab,
        &["emulator", "configure", "--propagation-delay-ms", "5"],
        0,
    );
    assert!(out.contains("\"propagation_delay_ms\": 5"), "{out}");
    assert_eq!(quiet_out, "", "a change is silent with -q");
    // Showing the settings is what `configure` without flags is for.
    let [(out, _), (quiet_out, _)] = with_and_without_quiet(&lab, &["emulator", "configure"], 0);
    assert!(out.contains("\"propagation_delay_ms\": 5"), "{out}");
    assert_eq!(out, quiet_out);

    let [(out, _), (quiet_out, _)] = with_and_without_quiet(&lab, &["emulator", "export", "-"], 0);
    assert!(out.contains("instances:"), "{out}");
    assert_eq!(out, quiet_out);
}

/// `LABEL:` as `--color always` paints it (bold red errors, bold yellow warnings).
fn painted(label: &str, color: anstyle::AnsiColor) -> String {
    let style = color.on_default().bold();
    format!("{}{label}:{}", style.render(), style.render_reset())
}

#[test]
fn color_always_colours_error_and_warning_labels_never_keeps_them_plain() {
    use anstyle::AnsiColor::{Red, Yellow};
    let lab = Lab::new();
    std::fs::write(lab.manifests().join("ops.yaml"), WARNED).unwrap();
    // (The lab sets NO_COLOR: `always` wins over it, as it does for plans.)
    let warned = stderr(
        &lab.run(&["--color", "always", "validate", "-f", "manifests"])
            .success(),
    );
    assert!(
        warned.contains(&format!(
            "ops.yaml:3:7: {} role `legacy`",
            painted("warning", Yellow)
        )),
        "{warned:?}"
    );
    std::fs::write(
        lab.manifests().join("bad.yaml"),
        "kind: Role\nname: x\ntrust: ec2\nbogus: 1\n",
    )
    .unwrap();
    let failed = stderr(
        &lab.run(&["--color", "always", "plan", "-f", "manifests"])
            .code(1),
    );
    assert!(
        failed.contains(&format!(
            "bad.yaml:4:1: {} unknown field",
            painted("error", Red)
        )),
        "{failed:?}"
    );
    assert!(
        failed.contains(&format!(
            "{} 1 error and 1 warning in manifests",
            painted("error", Red)
        )),
        "{failed:?}"
    );
    // An error of any other kind, printed by main.
    let missing = stderr(
        &lab.run(&["--color", "always", "apply", "no-such-plan.json"])
            .code(1),
    );
    assert!(missing.starts_with(&painted("error", Red)), "{missing:?}");

    for args in [
        &["--color", "never", "plan", "-f", "manifests"][..],
        &["plan", "-f", "manifests"][..], // auto, with NO_COLOR set
        &["--color", "never", "apply", "no-such-plan.json"][..],
    ] {
        let plain = stderr(&lab.run(args).code(1));
        assert!(plain.contains("error:"), "{args:?}: {plain}");
        assert!(!plain.contains('\u{1b}'), "{args:?}: {plain:?}");
    }
    std::fs::remove_file(lab.manifests().join("bad.yaml")).unwrap();
    let plain = stderr(&lab.run(&["validate", "-f", "manifests"]).success());
    assert!(
        plain.contains("warning:") && !plain.contains('\u{1b}'),
        "{plain:?}"
    );
}

/// A command line clap refuses prints as every other error: what it quotes
/// of the arguments escaped (terminal escapes, bidi overrides), its label
/// coloured as `--color` says, wherever `--color` stands.
#[test]
fn usage_errors_are_escaped_and_coloured_like_other_errors() {
    use anstyle::AnsiColor::Red;
    let lab = Lab::new();
    let forged = "x\u{1b}[31my\u{202e}";
    let plain = stderr(&lab.run(&["plan", "--format", forged]).code(1));
    assert!(
        plain.starts_with("error: invalid value 'x\\u{1b}[31my\\u{202e}' for '--format <FORMAT>'"),
        "{plain:?}"
    );
    assert!(!plain.contains(['\u{1b}', '\u{202e}']), "{plain:?}");
    for args in [
        &["--color", "always", "plan", "--format", forged][..],
        &["plan", "--bogus", "--color=always"],
        &["--color", "never", "drift", "--color", "always", "--bogus"],
    ] {
        let coloured = stderr(&lab.run(args).code(1));
        assert!(
            coloured.starts_with(&painted("error", Red)),
            "{args:?}: {coloured:?}"
        );
        assert!(!coloured.contains("\u{202e}"), "{args:?}: {coloured:?}");
        // The only escape sequences are the label's.
        assert_eq!(
            coloured.matches('\u{1b}').count(),
            3,
            "{args:?}: {coloured:?}"
        );
    }
    let never = stderr(
        &lab.run(&["--color", "always", "--color", "never", "--bogus"])
            .code(1),
    );
    assert!(
        never.starts_with("error: unexpected argument '--bogus'"),
        "{never:?}"
    );
    // Help and version are not errors: clap prints them, to stdout.
    let help = lab.run(&["plan", "--help"]).success();
    assert!(
        stdout(&help).contains("Usage: rolecall plan"),
        "{}",
        stdout(&help)
    );
    assert_eq!(stderr(&help), "");
    lab.run(&["--version"]).success();
}

/// A Name tag set outside rolecall reaches plans and drift reports: what it
/// could forge output with (terminal escapes, bidi overrides) is escaped in
/// every format people read, text and markdown.
#[test]
fn plans_and_drift_reports_escape_what_could_forge_output() {
    let lab = Lab::new();
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    let cloud = lab.cloud();
    let live = cloud.snapshot().unwrap();
    let id = live.instances.keys().next().unwrap().clone();
    cloud
        .create_tags(&rolecall::cloud::ec2::CreateTagsRequest {
            resources: vec![id.clone()],
            tags: vec![Tag::new("Name", "web-1\u{202e}1-bew\u{1b}[2J")],
        })
        .unwrap();
    let forged = |text: &str| text.contains(['\u{1b}', '\u{202e}']);
    for args in [
        &["plan", "-f", "manifests"][..],
        &["plan", "-f", "manifests", "--format", "markdown"],
        &["drift", "-f", "manifests"],
        &["drift", "-f", "manifests", "--format", "markdown"],
    ] {
        let output = lab.run(args);
        let shown = stdout(&output);
        assert!(!forged(&shown), "{args:?}: {shown:?}");
        assert!(
            shown.contains("web-1\\u{202e}1-bew\\u{1b}[2J"),
            "{args:?}: {shown}"
        );
    }
}

/// Output is best effort for every command that prints a document: a
/// reader that goes away (`| head`) never crashes rolecall nor changes its
/// exit code.
#[test]
fn commands_printing_documents_survive_a_closed_output() {
    let lab = Lab::new();
    lab.run(&["apply", "-f", "manifests", "--auto-approve"])
        .success();
    for args in [
        &["emulator", "export", "-"][..],
        &["emulator", "describe-instances"],
        &["emulator", "list-roles"],
        &["schema"],
        &["drift", "-f", "manifests", "--format", "json"],
        &["graph", "-f", "manifests"],
    ] {
        let status = run_with_closed_output(&lab, args);
        assert_eq!(status.code(), Some(0), "{args:?}: {status}");
    }
}

/// `plan --out` and `emulator export` onto a symlink replace the link with
/// a file of the default mode (0666 less the umask), not the link's own
/// 0777; onto a regular file they keep its mode.
#[cfg(unix)]
#[test]
fn written_files_are_never_world_writable_and_keep_a_regular_files_mode() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let lab = Lab::new();
    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("rolecall"));
        command
            .current_dir(lab.dir.path())
            .env_remove("ROLECALL_ACCOUNT")
            .arg("--account")
            .arg(lab.account())
            .args(args);
        // SAFETY: umask is async-signal-safe; nothing else runs in the child.
        unsafe {
            command.pre_exec(|| {
                libc::umask(0o022);
                Ok(())
            });
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
    };
    let mode = |name: &str| {
        let meta = std::fs::symlink_metadata(lab.dir.path().join(name)).unwrap();
        assert!(meta.is_file(), "{name} is a regular file");
        meta.permissions().mode() & 0o7777
    };
    let commands: [&[&str]; 2] = [
        &["plan", "-f", "manifests", "--out", "out"],
        &["emulator", "export", "out"],
    ];
    for command in commands {
        let out = lab.dir.path().join("out");
        let _ = std::fs::remove_file(&out);
        std::fs::write(lab.dir.path().join("target"), "").unwrap();
        std::os::unix::fs::symlink("target", &out).unwrap();
        run(command);
        assert_eq!(mode("out"), 0o644, "{command:?} onto a link");
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).unwrap();
        run(command);
        assert_eq!(mode("out"), 0o600, "{command:?} onto a regular file");
    }
}

/// Summaries count steps in the singular too and end their sentence after
/// the parentheses; a terminated instance declared by id is said to be
/// perhaps terminated, not just missing.
#[test]
fn summaries_and_instance_errors_are_worded_as_sentences() {
    let lab = Lab::new();
    std::fs::remove_dir_all(lab.manifests()).unwrap();
    std::fs::create_dir(lab.manifests()).unwrap();
    let stack = lab.manifests().join("stack.yaml");
    std::fs::write(
        &stack,
        "kind: Role\nname: a\ntrust: ec2\nmanaged_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n",
    )
    .unwrap();
    // CreateRole, AttachRolePolicy (fails), TagRole (skipped).
    lab.run(&["emulator", "configure", "--fail-after", "2"])
        .success();
    let failed = lab
        .run(&["apply", "--auto-approve", "--retry-timeout", "0s"])
        .code(1);
    assert!(
        stderr(&failed).starts_with(
            "error: apply failed: 1 step done, 1 failed, 1 skipped (0 created, 0 updated, 0 replaced, 0 deleted)\n"
        ),
        "{}",
        stderr(&failed)
    );
    let applied = lab.run(&["apply", "--auto-approve"]).success();
    assert!(
        stdout(&applied)
            .ends_with("Apply complete: 0 created, 1 updated, 0 replaced, 0 deleted.\n"),
        "{}",
        stdout(&applied)
    );

    let cloud = lab.cloud();
    let launched = cloud
        .run_instances(&rolecall::cloud::ec2::RunInstancesRequest {
            min_count: 1,
            max_count: 1,
            ..Default::default()
        })
        .unwrap();
    let id = launched.instances[0].instance_id.clone();
    cloud
        .terminate_instances(&rolecall::cloud::ec2::TerminateInstancesRequest {
            instance_ids: vec![id.clone()],
        })
        .unwrap();
    std::fs::write(&stack, format!("kind: Instance\nid: {id}\nprofile: null\n")).unwrap();
    let refused = lab.run(&["plan"]).code(1);
    assert!(
        stderr(&refused).contains(&format!(
            "instance/{id}: no instance with id `{id}` exists in the account (it may have been terminated"
        )),
        "{}",
        stderr(&refused)
    );
}
