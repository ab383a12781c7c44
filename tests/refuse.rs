//! The real binary refuses, before any step, a plan the account makes
//! certain to fail, saying why: account quotas (the whole account's count,
//! with how to raise them), EC2's 50 tags per instance, trust policies
//! naming roles that will not exist, policy ARNs the account cannot attach.
//! Near a quota, creates wait for the
//! deletes that make room, so such a plan applies cleanly.

use std::path::PathBuf;

use assert_cmd::Command;
use rolecall::cloud::Cloud;
use rolecall::cloud::ec2::{CreateTagsRequest, DeleteTagsRequest, TagKeyMaybeValue};
use rolecall::cloud::iam::{CreateRoleRequest, Tag};
use rolecall::emulator::Emulator;
use rolecall::model::{TAG_LAUNCHED, TAG_SPEC, TAG_STACK};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new(manifest: &str) -> Self {
        let lab = Lab {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(lab.dir.path().join("manifests")).unwrap();
        lab.write(manifest);
        lab
    }

    fn write(&self, manifest: &str) {
        std::fs::write(self.dir.path().join("manifests/stack.yaml"), manifest).unwrap();
    }

    fn account(&self) -> PathBuf {
        self.dir.path().join("account.db")
    }

    /// `rolecall --account <lab> ARGS`, in the lab (so `manifests/` is read).
    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        Command::cargo_bin("rolecall")
            .unwrap()
            .current_dir(self.dir.path())
            .env_remove("ROLECALL_ACCOUNT")
            .env("NO_COLOR", "1")
            .arg("--account")
            .arg(self.account())
            .args(args)
            .assert()
    }

    fn cloud(&self) -> Emulator {
        Emulator::open(&self.account()).unwrap()
    }

    /// A role made by hand: the account's, not the stack's.
    fn outside_role(&self, name: &str) {
        self.cloud()
            .create_role(&CreateRoleRequest {
                role_name: name.into(),
                assume_role_policy_document: TRUST.into(),
                ..CreateRoleRequest::default()
            })
            .unwrap();
    }

    fn role_names(&self) -> Vec<String> {
        self.cloud().snapshot().unwrap().roles.into_keys().collect()
    }
}

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

/// A stack of roles trusting EC2.
fn roles(names: &[&str]) -> String {
    let mut yaml = String::from("kind: Stack\nname: lab\n");
    for name in names {
        yaml.push_str(&format!("---\nkind: Role\nname: {name}\ntrust: ec2\n"));
    }
    yaml
}

/// The plan as JSON: (operation, resource, depends_on) of each step.
fn steps(lab: &Lab) -> Vec<(String, String, Vec<u64>)> {
    let out = lab.run(&["plan", "--format", "json"]).success();
    let plan: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["operation"].as_str().unwrap().to_string(),
                s["resource"].as_str().unwrap().to_string(),
                s["depends_on"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d.as_u64().unwrap())
                    .collect(),
            )
        })
        .collect()
}

/// Ids (1-based) of the steps that run `operation`.
fn ids_of(steps: &[(String, String, Vec<u64>)], operation: &str) -> Vec<u64> {
    (1..)
        .zip(steps)
        .filter(|(_, s)| s.0 == operation)
        .map(|(id, _)| id)
        .collect()
}

#[test]
fn a_plan_over_the_role_quota_is_refused_with_the_numbers_and_applies_nothing() {
    let lab = Lab::new(&roles(&["a", "b", "c", "d"]));
    lab.run(&["emulator", "configure", "--max-roles", "5"])
        .success();
    // Roles the stack does not own count too: the quota is the account's.
    lab.outside_role("outside-1");
    lab.outside_role("outside-2");
    let expected = "account: the account holds 2 roles, this plan creates 4 and deletes 0, which makes 6: over the quota of 5 (RolesPerAccount); raise the quota to at least 6 (`rolecall emulator configure --max-roles 6` on the emulated account; on AWS, request an increase of IAM's \"Roles per account\" in Service Quotas), or declare fewer";
    let plan = lab.run(&["plan"]).code(1);
    assert!(
        stderr(&plan).contains("cannot plan: 1 problem"),
        "{}",
        stderr(&plan)
    );
    assert!(stderr(&plan).contains(expected), "{}", stderr(&plan));
    let apply = lab.run(&["apply", "--auto-approve"]).code(1);
    assert!(stderr(&apply).contains(expected), "{}", stderr(&apply));
    assert_eq!(
        lab.role_names(),
        ["outside-1", "outside-2"],
        "nothing applied"
    );

    lab.run(&["emulator", "configure", "--max-roles", "6"])
        .success();
    lab.run(&["apply", "--auto-approve"]).success();
    assert_eq!(lab.role_names().len(), 6);
}

#[test]
fn a_plan_over_the_instance_profile_quota_is_refused() {
    let lab = Lab::new(
        "kind: Stack\nname: lab\n---\nkind: InstanceProfile\nname: a\n---\nkind: InstanceProfile\nname: b\n",
    );
    lab.run(&["emulator", "configure", "--max-instance-profiles", "1"])
        .success();
    let plan = lab.run(&["plan"]).code(1);
    assert!(
        stderr(&plan).contains("account: the account holds 0 instance profiles, this plan creates 2 and deletes 0, which makes 2: over the quota of 1 (InstanceProfilesPerAccount); raise the quota to at least 2 (`rolecall emulator configure --max-instance-profiles 2` on the emulated account; on AWS, request an increase of IAM's \"Instance profiles per account\" in Service Quotas)"),
        "{}",
        stderr(&plan)
    );
}

/// Before the first apply there is no account file: the plan is checked
/// against the quota of the account `apply` would create (AWS's 1000).
#[test]
fn a_first_plan_is_checked_against_a_new_accounts_quota() {
    let names: Vec<String> = (0..1001).map(|i| format!("service-{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let lab = Lab::new(&roles(&names));
    let plan = lab.run(&["plan"]).code(1);
    assert!(
        stderr(&plan).contains("the account holds 0 roles, this plan creates 1001 and deletes 0, which makes 1001: over the quota of 1000 (RolesPerAccount)"),
        "{}",
        stderr(&plan)
    );
    assert!(!lab.account().exists(), "plan created no account");
}

/// At the quota, a plan that deletes some roles and creates others fits
/// only if the creates wait for the deletes. The new names sort before the
/// old ones, so without that order the creates would run first and fail.
#[test]
fn at_the_quota_creates_wait_for_deletes_and_the_plan_applies_cleanly() {
    let old = "---\nkind: Role\nname: old-1\ntrust: ec2\nmanaged_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n---\nkind: Role\nname: old-2\ntrust: ec2\n";
    let lab = Lab::new(&format!("{}{old}", roles(&["keep"])));
    lab.run(&["emulator", "configure", "--max-roles", "4"])
        .success();
    lab.outside_role("outside");
    lab.run(&["apply", "--auto-approve"]).success();
    assert_eq!(lab.role_names().len(), 4, "at the quota");

    lab.write(&roles(&["keep", "new-1", "new-2"]));
    let steps = steps(&lab);
    let deletes = ids_of(&steps, "DeleteRole");
    let creates = ids_of(&steps, "CreateRole");
    assert_eq!((deletes.len(), creates.len()), (2, 2), "{steps:?}");
    for create in &creates {
        let waits = &steps[*create as usize - 1].2;
        assert!(
            waits.iter().any(|d| deletes.contains(d)),
            "step {create} waits for a DeleteRole: {steps:?}"
        );
    }
    lab.run(&["apply", "--auto-approve"]).success();
    lab.run(&["plan", "--detailed-exitcode"]).code(0);
    assert_eq!(lab.role_names(), ["keep", "new-1", "new-2", "outside"]);
}

/// A quota lowered below what the account holds: every create waits until
/// the deletes have brought the account back under it.
#[test]
fn over_its_quota_the_account_gets_back_under_before_any_create() {
    let lab = Lab::new(&roles(&["a", "b", "c", "d", "e"]));
    lab.run(&["apply", "--auto-approve"]).success();
    lab.run(&["emulator", "configure", "--max-roles", "3"])
        .success();
    // 5 held, 3 deleted, 1 created: 3 in the end, and the create needs all 3 deletes.
    lab.write(&roles(&["0-new", "d", "e"]));
    let steps = steps(&lab);
    let create = ids_of(&steps, "CreateRole");
    assert_eq!(create.len(), 1, "{steps:?}");
    let waits = &steps[create[0] as usize - 1].2;
    assert_eq!(
        waits
            .iter()
            .filter(|d| ids_of(&steps, "DeleteRole").contains(d))
            .count(),
        3,
        "{steps:?}"
    );
    lab.run(&["apply", "--auto-approve"]).success();
    lab.run(&["plan", "--detailed-exitcode"]).code(0);

    // Two more for one less would make 4: refused.
    lab.write(&roles(&["0-new", "1-new", "2-new", "d"]));
    let plan = lab.run(&["plan"]).code(1);
    assert!(
        stderr(&plan).contains("the account holds 3 roles, this plan creates 2 and deletes 1, which makes 4: over the quota of 3 (RolesPerAccount); raise the quota to at least 4"),
        "{}",
        stderr(&plan)
    );
}

/// An instance moving to a new profile (running: ReplaceIamInstanceProfileAssociation)
/// frees its old one only once the new one exists, so at the quota the new
/// profile cannot wait for the old one's deletion: refused, not half applied.
#[test]
fn a_create_that_cannot_wait_for_the_delete_it_needs_is_refused() {
    let stack = |profile: &str| {
        format!(
            "kind: Stack\nname: lab\n---\nkind: Role\nname: web\ntrust: ec2\n---\nkind: InstanceProfile\nname: {profile}\nrole: web\n---\nkind: Instance\nname: web-1\nprofile: {profile}\n"
        )
    };
    let lab = Lab::new(&stack("old"));
    lab.run(&["apply", "--auto-approve"]).success();
    lab.run(&["emulator", "configure", "--max-instance-profiles", "1"])
        .success();
    lab.write(&stack("new"));
    let plan = lab.run(&["plan"]).code(1);
    assert!(
        stderr(&plan).contains("account: the account holds 1 instance profile of its quota of 1 (InstanceProfilesPerAccount): 1 of this plan's 1 deletes must run before its creates, but only 0 can (the others wait for what the plan creates); apply the deletions first, or raise the quota to at least 2"),
        "{}",
        stderr(&plan)
    );
    lab.run(&["emulator", "configure", "--max-instance-profiles", "2"])
        .success();
    lab.run(&["apply", "--auto-approve"]).success();
}

#[test]
fn an_instance_without_room_for_the_spec_tag_is_refused() {
    let lab = Lab::new(
        "kind: Stack\nname: lab\n---\nkind: Role\nname: web\ntrust: ec2\n---\nkind: InstanceProfile\nname: web\nrole: web\n---\nkind: Instance\nname: web-1\nprofile: web\n",
    );
    lab.run(&["apply", "--auto-approve"]).success();
    let cloud = lab.cloud();
    let live = cloud.snapshot().unwrap();
    let (id, instance) = live.instances.iter().next().unwrap();
    assert!(instance.tags.contains_key(TAG_STACK));
    // Name, rolecall:stack, rolecall:launched and 47 more: 50, without
    // rolecall:spec.
    assert!(instance.tags.contains_key(TAG_LAUNCHED));
    let tags: Vec<Tag> = (0..47).map(|i| Tag::new(format!("k{i}"), "v")).collect();
    cloud
        .delete_tags(&DeleteTagsRequest {
            resources: vec![id.clone()],
            tags: vec![TagKeyMaybeValue {
                key: TAG_SPEC.into(),
                value: None,
            }],
        })
        .unwrap();
    cloud
        .create_tags(&CreateTagsRequest {
            resources: vec![id.clone()],
            tags,
        })
        .unwrap();
    let plan = lab.run(&["plan"]).code(1);
    let expected = format!(
        "instance/{id}: has 50 tags and this plan adds `rolecall:spec`, which makes 51: EC2 allows at most 50 tags per instance; remove 1 of its tags"
    );
    assert!(stderr(&plan).contains(&expected), "{}", stderr(&plan));

    cloud
        .delete_tags(&DeleteTagsRequest {
            resources: vec![id.clone()],
            tags: vec![TagKeyMaybeValue {
                key: "k0".into(),
                value: None,
            }],
        })
        .unwrap();
    lab.run(&["apply", "--auto-approve"]).success();
    lab.run(&["plan", "--detailed-exitcode"]).code(0);
}

fn trusting(name: &str, principal: &str) -> String {
    format!(
        "---\nkind: Role\nname: {name}\ntrust: {{Version: \"2012-10-17\", Statement: [{{Effect: Allow, Principal: {{AWS: \"arn:aws:iam::123456789012:role/{principal}\"}}, Action: \"sts:AssumeRole\"}}]}}\n"
    )
}

#[test]
fn a_trust_naming_a_role_that_will_not_exist_is_refused_at_its_place() {
    let manifest = format!(
        "kind: Stack\nname: lab\n{}{}{}{}{}{}",
        trusting("a", "ghost"),
        trusting("b", "c"),
        trusting("c", "b"),
        trusting("d", "d"),
        trusting("e", "f"),
        trusting("f", "apps/outside"),
    );
    let lab = Lab::new(&manifest);
    lab.run(&["emulator", "configure"]).success();
    // `f` names `outside` at path /apps/; it is at /.
    lab.outside_role("outside");
    let plan = lab.run(&["plan"]).code(1);
    let text = stderr(&plan);
    assert!(text.contains("cannot plan: 4 problems"), "{text}");
    for expected in [
        "manifests/stack.yaml:5:7: role/a: the trust policy names `arn:aws:iam::123456789012:role/ghost`, a role the account does not hold and this plan does not create: IAM refuses it (MalformedPolicyDocument: Invalid principal in policy)",
        "manifests/stack.yaml:9:7: role/b: roles `b`, `c` trust each other and none exists yet",
        "manifests/stack.yaml:17:7: role/d: the trust policy names the role itself, which does not exist until it is created",
        "manifests/stack.yaml:25:7: role/f: the trust policy names `arn:aws:iam::123456789012:role/apps/outside`",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text}");
    }
    // `e` trusts `f`, which the plan creates first: not a problem.
    assert!(!text.contains("role/e:"), "{text}");
}

#[test]
fn a_trust_update_naming_a_missing_role_is_refused() {
    let lab = Lab::new(&roles(&["a"]));
    lab.run(&["apply", "--auto-approve"]).success();
    lab.write(&format!(
        "kind: Stack\nname: lab\n{}",
        trusting("a", "ghost")
    ));
    let plan = lab.run(&["plan"]).code(1);
    assert!(
        stderr(&plan).contains("manifests/stack.yaml:5:7: role/a: the trust policy names `arn:aws:iam::123456789012:role/ghost`, a role the account does not hold"),
        "{}",
        stderr(&plan)
    );
    // Once it exists, the update goes through.
    lab.outside_role("ghost");
    lab.run(&["apply", "--auto-approve"]).success();
}

#[test]
fn a_trust_naming_a_role_the_plan_deletes_is_refused() {
    // `a` trusts `x`; both are the stack's.
    let lab = Lab::new(&format!(
        "kind: Stack\nname: lab\n---\nkind: Role\nname: x\ntrust: ec2\n{}",
        trusting("a", "x")
    ));
    lab.run(&["apply", "--auto-approve"]).success();
    // `x` leaves the manifests, so the plan deletes it, while `a` (its trust
    // unchanged, not sent) still names it.
    lab.write(&format!("kind: Stack\nname: lab\n{}", trusting("a", "x")));
    let plan = lab.run(&["plan"]).code(1);
    assert!(
        stderr(&plan).contains("manifests/stack.yaml:5:7: role/a: the trust policy names `arn:aws:iam::123456789012:role/x`, a role this plan deletes"),
        "{}",
        stderr(&plan)
    );
    // Nothing was deleted.
    assert!(lab.cloud().snapshot().unwrap().roles.contains_key("x"));
}

/// A role of the lab stack with extra fields.
fn role_with(name: &str, fields: &str) -> String {
    format!("---\nkind: Role\nname: {name}\ntrust: ec2\n{fields}")
}

/// IAM refuses a policy ARN of another partition (InvalidInput) and a
/// customer-managed policy the account does not hold, another account's
/// included (NoSuchEntity); this account holds none and the stack declares
/// none. The plan refuses them before any step, at the role, whether the
/// role is created or updated, as a managed policy or as a permissions
/// boundary.
#[test]
fn policy_arns_the_account_cannot_attach_are_refused_before_any_step() {
    let manifest = format!(
        "kind: Stack\nname: lab\n{}{}{}{}{}",
        role_with(
            "a",
            "permissions_boundary: arn:aws:iam::123456789012:policy/NoSuchBoundary\n"
        ),
        role_with(
            "b",
            "managed_policies: [arn:aws-cn:iam::aws:policy/ReadOnlyAccess]\n"
        ),
        role_with(
            "c",
            "managed_policies: [arn:aws:iam::111122223333:policy/Shared]\n"
        ),
        role_with(
            "d",
            "permissions_boundary: arn:aws-us-gov:iam::123456789012:policy/B\n"
        ),
        role_with(
            "e",
            "managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n"
        ),
    );
    let lab = Lab::new(&manifest);
    // With no account yet, as with one: the emulated account's facts.
    for _ in 0..2 {
        let plan = lab.run(&["plan"]).code(1);
        let text = stderr(&plan);
        assert!(text.contains("cannot plan: 4 problems"), "{text}");
        for expected in [
            "manifests/stack.yaml:5:7: role/a: permissions boundary `arn:aws:iam::123456789012:policy/NoSuchBoundary` is a customer-managed policy and the account holds none, nor does the stack declare one (kind: ManagedPolicy): IAM refuses it (NoSuchEntity: Scope ARN: arn:aws:iam::123456789012:policy/NoSuchBoundary does not exist or is not attachable.)",
            "manifests/stack.yaml:10:7: role/b: managed policy `arn:aws-cn:iam::aws:policy/ReadOnlyAccess` is in partition `aws-cn` and the account in `aws`: IAM refuses it (InvalidInput: ARN arn:aws-cn:iam::aws:policy/ReadOnlyAccess is not valid.)",
            "manifests/stack.yaml:15:7: role/c: managed policy `arn:aws:iam::111122223333:policy/Shared` belongs to account 111122223333, not to this one (123456789012): IAM attaches only the account's own customer-managed policies (NoSuchEntity: Policy arn:aws:iam::111122223333:policy/Shared does not exist or is not attachable.)",
            "manifests/stack.yaml:20:7: role/d: permissions boundary `arn:aws-us-gov:iam::123456789012:policy/B` is in partition `aws-us-gov` and the account in `aws`",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in {text}");
        }
        assert!(!text.contains("role/e"), "{text}");
        lab.run(&["apply", "--auto-approve"]).code(1);
        lab.run(&["emulator", "configure"]).success();
        assert!(lab.role_names().is_empty(), "nothing applied");
    }

    // Added to a role that exists: PutRolePermissionsBoundary and
    // AttachRolePolicy are judged as CreateRole is.
    lab.write(&roles(&["a"]));
    lab.run(&["apply", "--auto-approve"]).success();
    lab.write(&format!(
        "kind: Stack\nname: lab\n{}",
        role_with(
            "a",
            "permissions_boundary: arn:aws:iam::123456789012:policy/NoSuchBoundary\nmanaged_policies: [arn:aws:iam::123456789012:policy/Mine]\n"
        )
    ));
    let plan = lab.run(&["plan"]).code(1);
    let text = stderr(&plan);
    assert!(text.contains("cannot plan: 2 problems"), "{text}");
    assert!(
        text.contains("role/a: managed policy `arn:aws:iam::123456789012:policy/Mine` is a customer-managed policy and the account holds none"),
        "{text}"
    );
    assert!(
        text.contains("role/a: permissions boundary `arn:aws:iam::123456789012:policy/NoSuchBoundary` is a customer-managed policy"),
        "{text}"
    );
}

/// A policy the account holds is attachable until this plan deletes it: a
/// role still naming the ARN of a policy that is no longer declared is
/// refused, before any step.
#[test]
fn a_policy_the_plan_deletes_cannot_be_attached() {
    let policy = "---\nkind: ManagedPolicy\nname: Mine\ndocument: {Version: \"2012-10-17\", Statement: [{Effect: Allow, Action: s3:GetObject, Resource: \"*\"}]}\n";
    let lab = Lab::new(&format!(
        "kind: Stack\nname: lab\n{policy}{}",
        role_with("a", "")
    ));
    lab.run(&["apply", "--auto-approve"]).success();
    lab.write(&format!(
        "kind: Stack\nname: lab\n{}",
        role_with(
            "a",
            "managed_policies: [arn:aws:iam::123456789012:policy/Mine]\n"
        )
    ));
    let plan = lab.run(&["plan"]).code(1);
    assert!(
        stderr(&plan).contains("role/a: managed policy `arn:aws:iam::123456789012:policy/Mine` is policy/Mine, which this plan deletes (no longer declared)"),
        "{}",
        stderr(&plan)
    );
    assert!(
        lab.cloud()
            .snapshot()
            .unwrap()
            .policies
            .contains_key("Mine")
    );
}
