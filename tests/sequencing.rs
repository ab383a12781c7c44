//! The sequencing table of docs/design.md, row by row, through the real binary: plan as
//! JSON, check the operations come in the required order, apply (the emulator
//! rejects any call AWS would reject), then plan again and see no changes.

use std::path::Path;

use assert_cmd::Command;
use rolecall::cloud::Cloud;
use rolecall::cloud::ec2::StopInstancesRequest;
use rolecall::emulator::Emulator;

const STACK: &str = "kind: Stack\nname: seq\n";
const ROLE_A: &str = "---\nkind: Role\nname: a\ntrust: ec2\n";
const ROLE_B: &str = "---\nkind: Role\nname: b\ntrust: ec2\n";
const PROFILE_A: &str = "---\nkind: InstanceProfile\nname: pa\nrole: a\n";
const PROFILE_B: &str = "---\nkind: InstanceProfile\nname: pb\nrole: b\n";

fn instance(profile: &str) -> String {
    format!("---\nkind: Instance\nname: host\nprofile: {profile}\n")
}

struct Row {
    name: &'static str,
    before: String,
    /// Out-of-band change between the two applies.
    setup: Option<fn(&Emulator)>,
    after: String,
    /// Chains of operations, each of which must appear in its order.
    order: &'static [&'static [&'static str]],
    /// Operations that must not appear.
    absent: &'static [&'static str],
    warning: Option<&'static str>,
}

fn rolecall(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("rolecall")
        .unwrap()
        .current_dir(dir)
        .env_remove("ROLECALL_ACCOUNT")
        .args(["--account", "account.db"])
        .args(args)
        .args(["-f", "stack.yaml"])
        .assert()
}

fn stop_all(cloud: &Emulator) {
    let ids = cloud.snapshot().unwrap().instances.into_keys().collect();
    cloud
        .stop_instances(&StopInstancesRequest { instance_ids: ids })
        .unwrap();
}

fn rows() -> Vec<Row> {
    let both = format!("{STACK}{ROLE_A}{ROLE_B}{PROFILE_A}{PROFILE_B}");
    vec![
        Row {
            name: "new role with policies",
            before: STACK.into(),
            setup: None,
            after: format!(
                "{STACK}---\nkind: Role\nname: a\ntrust: ec2\nmanaged_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]\ninline_policies:\n  p: {{Version: \"2012-10-17\", Statement: [{{Effect: Allow, Action: s3:GetObject, Resource: \"*\"}}]}}\n"
            ),
            order: &[
                &["CreateRole", "PutRolePolicy"],
                &["CreateRole", "AttachRolePolicy"],
            ],
            absent: &[],
            warning: None,
        },
        Row {
            name: "new profile with role",
            before: STACK.into(),
            setup: None,
            after: format!("{STACK}{ROLE_A}{PROFILE_A}"),
            order: &[&[
                "CreateInstanceProfile",
                "CreateRole",
                "AddRoleToInstanceProfile",
            ]],
            absent: &[],
            warning: None,
        },
        Row {
            name: "instance gets a profile",
            before: format!("{STACK}{}", instance("null")),
            setup: None,
            after: format!("{STACK}{ROLE_A}{PROFILE_A}{}", instance("pa")),
            order: &[&[
                "CreateInstanceProfile",
                "AddRoleToInstanceProfile",
                "AssociateIamInstanceProfile",
            ]],
            absent: &[],
            warning: None,
        },
        Row {
            name: "running instance switches profile",
            before: format!("{both}{}", instance("pa")),
            setup: None,
            after: format!("{both}{}", instance("pb")),
            order: &[&["ReplaceIamInstanceProfileAssociation"]],
            absent: &["DisassociateIamInstanceProfile"],
            warning: None,
        },
        Row {
            name: "stopped instance switches profile",
            before: format!("{both}{}", instance("pa")),
            setup: Some(stop_all),
            after: format!("{both}{}", instance("pb")),
            order: &[&[
                "DisassociateIamInstanceProfile",
                "AssociateIamInstanceProfile",
            ]],
            absent: &["ReplaceIamInstanceProfileAssociation"],
            warning: None,
        },
        Row {
            name: "profile switches role",
            before: format!("{STACK}{ROLE_A}{ROLE_B}{PROFILE_A}{}", instance("pa")),
            setup: None,
            after: format!(
                "{STACK}{ROLE_A}{ROLE_B}---\nkind: InstanceProfile\nname: pa\nrole: b\n{}",
                instance("pa")
            ),
            order: &[&["RemoveRoleFromInstanceProfile", "AddRoleToInstanceProfile"]],
            absent: &[],
            warning: Some("switches role"),
        },
        Row {
            name: "profile switches to a new role: built in full before the old one leaves",
            before: format!("{STACK}{ROLE_A}{PROFILE_A}{}", instance("pa")),
            setup: None,
            after: format!(
                "{STACK}{ROLE_A}---\nkind: Role\nname: c\ntrust: ec2\nmanaged_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n---\nkind: InstanceProfile\nname: pa\nrole: c\n{}",
                instance("pa")
            ),
            order: &[&[
                "CreateRole",
                "AttachRolePolicy",
                "RemoveRoleFromInstanceProfile",
                "AddRoleToInstanceProfile",
            ]],
            absent: &[],
            warning: Some("switches role"),
        },
        Row {
            name: "profile switches to an existing role that gains a policy: policy first",
            before: format!("{STACK}{ROLE_A}{ROLE_B}{PROFILE_A}{}", instance("pa")),
            setup: None,
            after: format!(
                "{STACK}{ROLE_A}---\nkind: Role\nname: b\ntrust: ec2\nmanaged_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]\n---\nkind: InstanceProfile\nname: pa\nrole: b\n{}",
                instance("pa")
            ),
            order: &[&[
                "AttachRolePolicy",
                "RemoveRoleFromInstanceProfile",
                "AddRoleToInstanceProfile",
            ]],
            absent: &[],
            warning: Some("switches role"),
        },
        Row {
            name: "delete profile",
            before: format!("{STACK}{ROLE_A}{PROFILE_A}{}", instance("pa")),
            setup: None,
            after: format!("{STACK}{ROLE_A}{}", instance("null")),
            order: &[&[
                "DisassociateIamInstanceProfile",
                "RemoveRoleFromInstanceProfile",
                "DeleteInstanceProfile",
            ]],
            absent: &["DeleteRole"],
            warning: None,
        },
        Row {
            name: "delete role",
            before: format!(
                "{STACK}---\nkind: Role\nname: a\ntrust: ec2\npermissions_boundary: arn:aws:iam::aws:policy/PowerUserAccess\nmanaged_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]\ninline_policies:\n  p: {{Version: \"2012-10-17\", Statement: [{{Effect: Allow, Action: s3:GetObject, Resource: \"*\"}}]}}\n{PROFILE_A}"
            ),
            setup: None,
            after: format!("{STACK}---\nkind: InstanceProfile\nname: pa\n"),
            order: &[
                &["RemoveRoleFromInstanceProfile", "DeleteRole"],
                &["DetachRolePolicy", "DeleteRole"],
                &["DeleteRolePolicy", "DeleteRole"],
                &["DeleteRolePermissionsBoundary", "DeleteRole"],
            ],
            absent: &["DeleteInstanceProfile"],
            warning: None,
        },
        Row {
            name: "replace (path change) re-associates at the end",
            before: format!("{STACK}{ROLE_A}{PROFILE_A}{}", instance("pa")),
            setup: None,
            after: format!(
                "{STACK}{ROLE_A}---\nkind: InstanceProfile\nname: pa\npath: /moved/\nrole: a\n{}",
                instance("pa")
            ),
            order: &[&[
                "DisassociateIamInstanceProfile",
                "DeleteInstanceProfile",
                "CreateInstanceProfile",
                "AddRoleToInstanceProfile",
                "AssociateIamInstanceProfile",
            ]],
            absent: &["DeleteRole"],
            warning: Some("is replaced (its path changes)"),
        },
        Row {
            name: "two instances swap two recreated profiles: through no profile, no cycle",
            before: format!(
                "{STACK}{ROLE_A}{ROLE_B}{PROFILE_A}{PROFILE_B}{}{}",
                "---\nkind: Instance\nname: h1\nprofile: pa\n",
                "---\nkind: Instance\nname: h2\nprofile: pb\n"
            ),
            setup: None,
            after: format!(
                "{STACK}{ROLE_A}{ROLE_B}{}{}{}{}",
                "---\nkind: InstanceProfile\nname: pa\npath: /moved/\nrole: a\n",
                "---\nkind: InstanceProfile\nname: pb\npath: /moved/\nrole: b\n",
                "---\nkind: Instance\nname: h1\nprofile: pb\n",
                "---\nkind: Instance\nname: h2\nprofile: pa\n"
            ),
            order: &[&[
                "DisassociateIamInstanceProfile",
                "DeleteInstanceProfile",
                "CreateInstanceProfile",
                "AssociateIamInstanceProfile",
            ]],
            absent: &["ReplaceIamInstanceProfileAssociation"],
            warning: Some("is replaced (its path changes)"),
        },
        Row {
            name: "role replaced (path change) leaves and rejoins its profile",
            before: format!("{STACK}{ROLE_A}{PROFILE_A}{}", instance("pa")),
            setup: None,
            after: format!(
                "{STACK}---\nkind: Role\nname: a\npath: /moved/\ntrust: ec2\n{PROFILE_A}{}",
                instance("pa")
            ),
            order: &[&[
                "RemoveRoleFromInstanceProfile",
                "DeleteRole",
                "CreateRole",
                "AddRoleToInstanceProfile",
            ]],
            absent: &["DeleteInstanceProfile", "DisassociateIamInstanceProfile"],
            warning: Some("gets its role back"),
        },
        Row {
            name: "trust, description, max session in place",
            before: format!("{STACK}{ROLE_A}"),
            setup: None,
            after: format!(
                "{STACK}---\nkind: Role\nname: a\ntrust: [ec2, lambda]\ndescription: now described\nmax_session_duration: 7200\n"
            ),
            order: &[
                &["UpdateAssumeRolePolicy", "TagRole"],
                &["UpdateRole", "TagRole"],
            ],
            absent: &["DeleteRole", "CreateRole"],
            warning: None,
        },
        Row {
            name: "tags",
            before: format!(
                "{STACK}---\nkind: Role\nname: a\ntrust: ec2\ntags: {{old: x}}\n---\nkind: InstanceProfile\nname: pa\nrole: a\ntags: {{old: x}}\n"
            ),
            setup: None,
            after: format!(
                "{STACK}---\nkind: Role\nname: a\ntrust: ec2\ntags: {{new: y}}\n---\nkind: InstanceProfile\nname: pa\nrole: a\ntags: {{new: y}}\n"
            ),
            order: &[
                &["UntagInstanceProfile", "TagInstanceProfile"],
                &["UntagRole", "TagRole"],
            ],
            absent: &[],
            warning: None,
        },
        Row {
            name: "a role whose trust names another new role is created after it",
            before: STACK.into(),
            setup: None,
            after: format!(
                "{STACK}---\nkind: Role\nname: a\ntrust: {{Version: \"2012-10-17\", Statement: [{{Effect: Allow, Principal: {{AWS: \"arn:aws:iam::123456789012:role/z\"}}, Action: \"sts:AssumeRole\"}}]}}\n---\nkind: Role\nname: z\ntrust: ec2\n"
            ),
            // The order itself is checked by the planner's unit test; here
            // the emulator, which refuses a trust naming a missing role, applies it.
            order: &[&["CreateRole", "CreateRole"]],
            absent: &[],
            warning: None,
        },
        Row {
            name: "emulator launches a declared absent instance",
            before: format!("{STACK}{ROLE_A}{PROFILE_A}"),
            setup: None,
            after: format!("{STACK}{ROLE_A}{PROFILE_A}{}", instance("pa")),
            order: &[&["RunInstances"]],
            absent: &["AssociateIamInstanceProfile"],
            warning: None,
        },
    ]
}

#[test]
fn every_row_plans_in_order_applies_and_converges() {
    for row in rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        std::fs::write(path.join("stack.yaml"), &row.before).unwrap();
        rolecall(path, &["apply", "--auto-approve"]).success();
        if let Some(setup) = row.setup {
            setup(&Emulator::open(&path.join("account.db")).unwrap());
        }
        std::fs::write(path.join("stack.yaml"), &row.after).unwrap();
        let planned = rolecall(path, &["plan", "--format", "json"]).success();
        let plan: serde_json::Value = serde_json::from_slice(&planned.get_output().stdout).unwrap();
        let operations: Vec<&str> = plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["operation"].as_str().unwrap())
            .collect();
        for chain in row.order {
            let mut position = 0;
            for wanted in *chain {
                let found = operations[position..].iter().position(|op| op == wanted);
                assert!(
                    found.is_some(),
                    "{}: `{wanted}` missing or out of order in {operations:?}",
                    row.name
                );
                position += found.unwrap_or(0) + 1;
            }
        }
        for forbidden in row.absent {
            assert!(
                !operations.contains(forbidden),
                "{}: unexpected `{forbidden}` in {operations:?}",
                row.name
            );
        }
        let warnings = plan["warnings"].to_string();
        match row.warning {
            Some(text) => assert!(warnings.contains(text), "{}: warnings {warnings}", row.name),
            None => assert_eq!(plan["warnings"], serde_json::json!([]), "{}", row.name),
        }
        rolecall(path, &["apply", "--auto-approve"]).success();
        rolecall(path, &["plan", "--detailed-exitcode"]).code(0);
    }
}

/// Role `a` and profile `pa` applied, then an instance launched on `pa` by
/// hand (not managed by the stack). The directory holds the account.
fn stack_with_a_stranger_on_pa() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    std::fs::write(
        path.join("stack.yaml"),
        format!("{STACK}{ROLE_A}{PROFILE_A}"),
    )
    .unwrap();
    rolecall(path, &["apply", "--auto-approve"]).success();
    Command::cargo_bin("rolecall")
        .unwrap()
        .current_dir(path)
        .args([
            "--account",
            "account.db",
            "emulator",
            "run-instances",
            "--name",
            "stranger",
            "--iam-instance-profile",
            "Name=pa",
        ])
        .assert()
        .success();
    dir
}

#[test]
fn unmanaged_instance_on_a_dying_profile_needs_force() {
    let dir = stack_with_a_stranger_on_pa();
    let path = dir.path();
    std::fs::write(path.join("stack.yaml"), format!("{STACK}{ROLE_A}")).unwrap();
    let refused = rolecall(path, &["plan"]).code(1);
    let message = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        message.contains("not managed by this stack") && message.contains("--force"),
        "{message}"
    );
    let forced = rolecall(path, &["plan", "--force", "--format", "json"]).success();
    let plan: serde_json::Value = serde_json::from_slice(&forced.get_output().stdout).unwrap();
    assert!(plan["warnings"].to_string().contains("--force"), "{plan}");
    rolecall(path, &["apply", "--auto-approve", "--force"]).success();
    rolecall(path, &["plan", "--detailed-exitcode"]).code(0);
}

#[test]
fn a_profile_losing_its_role_under_an_unmanaged_instance_needs_force_and_warns_in_every_format() {
    let dir = stack_with_a_stranger_on_pa();
    let path = dir.path();
    // The profile stays, without a role.
    std::fs::write(
        path.join("stack.yaml"),
        format!("{STACK}{ROLE_A}---\nkind: InstanceProfile\nname: pa\n"),
    )
    .unwrap();
    let refused = rolecall(path, &["plan"]).code(1);
    let message = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        message.contains(
            "instance-profile/pa: loses its role while instances not managed by this stack use it"
        ) && message.contains("rerun with --force"),
        "{message}"
    );
    let warning = "--force: instance-profile/pa loses its role while instances not managed by this stack use it";
    for format in ["text", "markdown", "json"] {
        let forced = rolecall(path, &["plan", "--force", "--format", format]).success();
        let out = String::from_utf8_lossy(&forced.get_output().stdout).into_owned();
        assert!(out.contains(warning), "{format}: {out}");
        // One warning for the event, not one per way of seeing it.
        let warnings = out
            .lines()
            .filter(|l| l.contains("will get no credentials") || l.contains("loses its role"))
            .count();
        assert_eq!(warnings, 1, "{format}: {out}");
    }
    rolecall(path, &["apply", "--auto-approve", "--force"]).success();
    rolecall(path, &["plan", "--detailed-exitcode"]).code(0);
}

/// A warning about instances losing their credentials names only the
/// instances that stay on the profile: one that moves to another profile
/// in the same plan keeps its own.
#[test]
fn a_credential_gap_warning_names_only_the_instances_that_stay() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let stack = |x_path: &str, a2_profile: &str| {
        format!(
            "{STACK}---\nkind: Role\nname: x\ntrust: ec2\npath: {x_path}\n{ROLE_B}---\nkind: InstanceProfile\nname: pa\nrole: x\n{PROFILE_B}\
             ---\nkind: Instance\nname: a1\nprofile: pa\n---\nkind: Instance\nname: a2\nprofile: {a2_profile}\n"
        )
    };
    std::fs::write(path.join("stack.yaml"), stack("/", "pa")).unwrap();
    rolecall(path, &["apply", "--auto-approve"]).success();
    // Role x is replaced (its path changes) while a2 moves to pb.
    std::fs::write(path.join("stack.yaml"), stack("/new/", "pb")).unwrap();
    let planned = rolecall(path, &["plan", "--format", "json"]).success();
    let plan: serde_json::Value = serde_json::from_slice(&planned.get_output().stdout).unwrap();
    let warnings: Vec<&str> = plan["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .filter(|w| w.contains("instance-profile/pa"))
        .collect();
    assert_eq!(warnings.len(), 1, "{plan}");
    assert!(
        warnings[0].starts_with(
            "instance-profile/pa gets its role back after role/x is replaced: instances using it (instance/i-"
        ) && warnings[0].contains(" (a1))")
            // Not "a2": a random instance id may hold those two characters.
            && !warnings[0].contains("(a2)"),
        "{}",
        warnings[0]
    );
    // What makes it true: a2 leaves before pa's role does.
    let operations: Vec<String> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s["operation"].as_str().unwrap(),
                s["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    let at = |op: &str| operations.iter().position(|o| o.starts_with(op)).unwrap();
    assert!(
        at("ReplaceIamInstanceProfileAssociation a2") < at("RemoveRoleFromInstanceProfile"),
        "{operations:?}"
    );
    rolecall(path, &["apply", "--auto-approve"]).success();
    rolecall(path, &["plan", "--detailed-exitcode"]).code(0);
}
