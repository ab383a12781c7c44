//! Drift, one out-of-band change per attribute (issue 6): each case changes
//! the account behind rolecall's back through the emulator, then checks the
//! class, the attribute and the exit code of the real `rolecall drift`, in
//! text and JSON, and that `apply` restores the declared state.

use std::path::Path;

use assert_cmd::Command;
use rolecall::cloud::Cloud;
use rolecall::cloud::iam::*;
use rolecall::emulator::Emulator;

const MANIFEST: &str = r#"
kind: Stack
name: shop
---
kind: Role
name: web
description: Serves the shop
trust: ec2
max_session_duration: 3600
managed_policies: [arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore, shop-read]
inline_policies:
  read-assets: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: s3:GetObject, Resource: "arn:aws:s3:::shop/*"}]}
tags: {team: web}
---
kind: Role
name: spare
trust: ec2
---
kind: ManagedPolicy
name: shop-read
description: Reads the shop's assets
document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: s3:GetObject, Resource: "arn:aws:s3:::shop/*"}]}
tags: {team: web}
---
kind: InstanceProfile
name: web
role: web
---
kind: Instance
name: web-1
profile: web
"#;

/// A one-statement permission policy allowing `action`, as JSON text.
fn permission_policy(action: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
    )
}

/// The ARN of the stack's customer-managed policy in the emulated account.
const SHOP_READ: &str = "arn:aws:iam::123456789012:policy/shop-read";

const LAMBDA_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// One out-of-band change: the `rolecall emulator` calls that make it.
struct Case {
    what: &'static str,
    resource: &'static str,
    attribute: &'static str,
    /// Each call's arguments after `rolecall emulator`; `{association}`
    /// stands for web-1's association id.
    calls: &'static [&'static [&'static str]],
    /// A line the text report must show: its sign and a part of its text
    /// (what the account gained is `+`, what it lost `-`).
    shows: (&'static str, &'static str),
}

const CASES: &[Case] = &[
    Case {
        what: "a new default version of a policy",
        resource: "policy/shop-read",
        attribute: "document",
        calls: &[&[
            "create-policy-version",
            "--policy-arn",
            SHOP_READ,
            "--policy-document",
            "s3:*",
            "--set-as-default",
        ]],
        shows: ("+", "\"s3:*\""),
    },
    Case {
        what: "another version of a policy made the default",
        resource: "policy/shop-read",
        attribute: "document",
        calls: &[
            &[
                "create-policy-version",
                "--policy-arn",
                SHOP_READ,
                "--policy-document",
                "s3:*",
            ],
            &[
                "set-default-policy-version",
                "--policy-arn",
                SHOP_READ,
                "--version-id",
                "v2",
            ],
        ],
        shows: ("-", "\"s3:GetObject\""),
    },
    Case {
        what: "policy tag added",
        resource: "policy/shop-read",
        attribute: "tags",
        calls: &[&[
            "tag-policy",
            "--policy-arn",
            SHOP_READ,
            "--tags",
            "Key=oncall,Value=alice",
        ]],
        shows: ("+", "tags.oncall = \"alice\""),
    },
    Case {
        what: "customer-managed policy detached",
        resource: "role/web",
        attribute: "managed_policies",
        calls: &[&[
            "detach-role-policy",
            "--role-name",
            "web",
            "--policy-arn",
            SHOP_READ,
        ]],
        shows: (
            "-",
            "managed_policies: \"arn:aws:iam::123456789012:policy/shop-read\"",
        ),
    },
    Case {
        what: "customer-managed policy attached to another role",
        resource: "role/spare",
        attribute: "managed_policies",
        calls: &[&[
            "attach-role-policy",
            "--role-name",
            "spare",
            "--policy-arn",
            SHOP_READ,
        ]],
        shows: (
            "+",
            "managed_policies: \"arn:aws:iam::123456789012:policy/shop-read\"",
        ),
    },
    Case {
        what: "role tag added",
        resource: "role/web",
        attribute: "tags",
        calls: &[&[
            "tag-role",
            "--role-name",
            "web",
            "--tags",
            "Key=oncall,Value=alice",
        ]],
        shows: ("+", "tags.oncall = \"alice\""),
    },
    Case {
        what: "role tag removed",
        resource: "role/web",
        attribute: "tags",
        calls: &[&["untag-role", "--role-name", "web", "--tag-keys", "team"]],
        shows: ("-", "tags.team = \"web\""),
    },
    Case {
        what: "role tag changed",
        resource: "role/web",
        attribute: "tags",
        calls: &[&[
            "tag-role",
            "--role-name",
            "web",
            "--tags",
            "Key=team,Value=ops",
        ]],
        shows: ("~", "tags.team: \"web\" -> \"ops\""),
    },
    Case {
        what: "trust changed",
        resource: "role/web",
        attribute: "trust",
        calls: &[&[
            "update-assume-role-policy",
            "--role-name",
            "web",
            "--policy-document",
            LAMBDA_TRUST,
        ]],
        shows: ("+", "\"lambda.amazonaws.com\""),
    },
    Case {
        what: "inline policy changed",
        resource: "role/web",
        attribute: "inline_policies",
        calls: &[&[
            "put-role-policy",
            "--role-name",
            "web",
            "--policy-name",
            "read-assets",
            "--policy-document",
            "s3:*",
        ]],
        shows: ("+", "\"s3:*\""),
    },
    Case {
        what: "inline policy added",
        resource: "role/web",
        attribute: "inline_policies",
        calls: &[&[
            "put-role-policy",
            "--role-name",
            "web",
            "--policy-name",
            "extra",
            "--policy-document",
            "ec2:*",
        ]],
        shows: ("+", "inline_policies.extra:"),
    },
    Case {
        what: "inline policy removed",
        resource: "role/web",
        attribute: "inline_policies",
        calls: &[&[
            "delete-role-policy",
            "--role-name",
            "web",
            "--policy-name",
            "read-assets",
        ]],
        shows: ("-", "inline_policies.read-assets"),
    },
    Case {
        what: "managed policy attached",
        resource: "role/web",
        attribute: "managed_policies",
        calls: &[&[
            "attach-role-policy",
            "--role-name",
            "web",
            "--policy-arn",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
        ]],
        shows: (
            "+",
            "managed_policies: \"arn:aws:iam::aws:policy/ReadOnlyAccess\"",
        ),
    },
    Case {
        what: "managed policy detached",
        resource: "role/web",
        attribute: "managed_policies",
        calls: &[&[
            "detach-role-policy",
            "--role-name",
            "web",
            "--policy-arn",
            "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        ]],
        shows: (
            "-",
            "managed_policies: \"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore\"",
        ),
    },
    Case {
        what: "boundary set",
        resource: "role/web",
        attribute: "permissions_boundary",
        calls: &[&[
            "put-role-permissions-boundary",
            "--role-name",
            "web",
            "--permissions-boundary",
            "arn:aws:iam::aws:policy/PowerUserAccess",
        ]],
        shows: (
            "~",
            "permissions_boundary: (none) -> \"arn:aws:iam::aws:policy/PowerUserAccess\"",
        ),
    },
    Case {
        what: "description",
        resource: "role/web",
        attribute: "description",
        calls: &[&[
            "update-role",
            "--role-name",
            "web",
            "--description",
            "by hand",
        ]],
        shows: ("~", "description: \"Serves the shop\" -> \"by hand\""),
    },
    Case {
        what: "session duration",
        resource: "role/web",
        attribute: "max_session_duration",
        calls: &[&[
            "update-role",
            "--role-name",
            "web",
            "--max-session-duration",
            "7200",
        ]],
        shows: ("~", "max_session_duration: 3600 -> 7200"),
    },
    Case {
        what: "profile tag added",
        resource: "instance-profile/web",
        attribute: "tags",
        calls: &[&[
            "tag-instance-profile",
            "--instance-profile-name",
            "web",
            "--tags",
            "Key=cost,Value=shared",
        ]],
        shows: ("+", "tags.cost = \"shared\""),
    },
    Case {
        what: "profile's role",
        resource: "instance-profile/web",
        attribute: "role",
        calls: &[
            &[
                "remove-role-from-instance-profile",
                "--instance-profile-name",
                "web",
                "--role-name",
                "web",
            ],
            &[
                "add-role-to-instance-profile",
                "--instance-profile-name",
                "web",
                "--role-name",
                "spare",
            ],
        ],
        shows: ("~", "role: \"web\" -> \"spare\""),
    },
    Case {
        what: "instance's profile",
        resource: "instance/",
        attribute: "profile",
        calls: &[&[
            "disassociate-iam-instance-profile",
            "--association-id",
            "{association}",
        ]],
        shows: ("~", "profile: \"web\" -> (none)"),
    },
    Case {
        what: "spec tag removed",
        resource: "role/web",
        attribute: "rolecall:spec",
        calls: &[&[
            "untag-role",
            "--role-name",
            "web",
            "--tag-keys",
            "rolecall:spec",
        ]],
        shows: ("~", "rolecall:spec: \""),
    },
];

fn rolecall(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("rolecall")
        .unwrap()
        .current_dir(dir)
        .env_remove("ROLECALL_ACCOUNT")
        .env("NO_COLOR", "1")
        .args(["--account", "account.db"])
        .args(args)
        .args(["-f", "stack.yaml"])
        .assert()
}

/// `rolecall --account account.db emulator ARGS...`: one out-of-band API call.
fn emulator(dir: &Path, args: &[&str]) {
    Command::cargo_bin("rolecall")
        .unwrap()
        .current_dir(dir)
        .env_remove("ROLECALL_ACCOUNT")
        .args(["--account", "account.db", "emulator"])
        .args(args)
        .assert()
        .success();
}

/// The association id of the lab's one instance.
fn association_id(dir: &Path) -> String {
    let live = Emulator::open(&dir.join("account.db"))
        .unwrap()
        .snapshot()
        .unwrap();
    let instance = live.instances.values().next().unwrap();
    instance.association.clone().unwrap().association_id
}

#[test]
fn every_attribute_changed_out_of_band_is_modified_drift() {
    for case in CASES {
        let what = case.what;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        std::fs::write(path.join("stack.yaml"), MANIFEST).unwrap();
        rolecall(path, &["apply", "--auto-approve"]).success();
        rolecall(path, &["drift"]).code(0);
        let association = association_id(path);
        for call in case.calls {
            let args: Vec<String> = call
                .iter()
                .map(|a| match *a {
                    "{association}" => association.clone(),
                    // Inline policy documents are written as their one action.
                    action if action.ends_with(":*") => permission_policy(action),
                    other => other.to_string(),
                })
                .collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            emulator(path, &args);
        }

        let json = rolecall(path, &["drift", "--format", "json"]).code(2);
        let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
        let entries = report["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{what}: {report:#}");
        let entry = &entries[0];
        assert!(
            entry["resource"]
                .as_str()
                .unwrap()
                .starts_with(case.resource),
            "{what}: {entry}"
        );
        assert_eq!(entry["class"], "modified", "{what}: {entry}");
        let names: Vec<&str> = entry["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec![case.attribute], "{what}");

        // Who did it, from the account's audit trail: the last call of the
        // change, by the root user through `rolecall emulator`.
        let last_verb = case.calls.last().unwrap()[0];
        let event_name: String = last_verb
            .split('-')
            .map(|word| word[..1].to_ascii_uppercase() + &word[1..])
            .collect();
        let who = &entry["changed_by"];
        assert_eq!(who.as_array().map(Vec::len), Some(1), "{what}: {entry}");
        assert_eq!(who[0]["attribute"], case.attribute, "{what}");
        assert_eq!(who[0]["event_name"], event_name.as_str(), "{what}");
        assert_eq!(
            who[0]["principal"], "arn:aws:iam::123456789012:root",
            "{what}"
        );
        assert!(
            who[0]["user_agent"]
                .as_str()
                .unwrap()
                .starts_with("rolecall-emulator/"),
            "{what}: {who}"
        );

        let text = rolecall(path, &["drift"]).code(2);
        let out = String::from_utf8_lossy(&text.get_output().stdout).into_owned();
        assert!(
            out.contains(&format!(
                "modified  {}",
                entry["resource"].as_str().unwrap()
            )),
            "{what}: {out}"
        );
        assert!(
            out.contains(&format!(
                "{}: changed by arn:aws:iam::123456789012:root ({event_name} at ",
                case.attribute
            )),
            "{what}: {out}"
        );
        let (sign, text) = case.shows;
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(sign) && l.contains(text)),
            "{what}: no `{sign} …{text}` in\n{out}"
        );

        rolecall(path, &["apply", "--auto-approve"]).success();
        rolecall(path, &["drift"]).code(0);
    }
}

#[test]
fn modified_reads_declared_then_account_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    std::fs::write(path.join("stack.yaml"), MANIFEST).unwrap();
    rolecall(path, &["apply", "--auto-approve"]).success();
    emulator(
        path,
        &[
            "update-role",
            "--role-name",
            "web",
            "--description",
            "by hand",
        ],
    );
    let json = rolecall(path, &["drift", "--format", "json"]).code(2);
    let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(
        report["entries"][0]["attributes"][0],
        serde_json::json!({"name": "description", "before": "Serves the shop", "after": "by hand"})
    );
    // Pending reads the other way: the account's value, then the manifests'.
    std::fs::write(
        path.join("stack.yaml"),
        MANIFEST.replace("Serves the shop", "Serves the storefront"),
    )
    .unwrap();
    let json = rolecall(path, &["drift", "--format", "json"]).code(0);
    let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(report["entries"][0]["class"], "pending");
    assert_eq!(
        report["entries"][0]["attributes"][0],
        serde_json::json!({"name": "description", "before": "by hand", "after": "Serves the storefront"})
    );
}

#[test]
fn an_apply_that_failed_half_way_is_pending_not_modified() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    // The 5th call, AttachRolePolicy role/web (the first of the second
    // wave), fails after CreateRole, and is not retried.
    std::fs::write(path.join("stack.yaml"), MANIFEST).unwrap();
    emulator(path, &["configure", "--fail-after", "5"]);
    let failed = rolecall(path, &["apply", "--auto-approve", "--retry-timeout", "0s"]).code(1);
    assert!(
        String::from_utf8_lossy(&failed.get_output().stderr)
            .contains("failed:  step 5 AttachRolePolicy role/web"),
        "{failed:?}"
    );
    let json = rolecall(path, &["drift", "--format", "json"]).code(2);
    let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let classes: Vec<(&str, &str)> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["resource"].as_str().unwrap(),
                e["class"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(classes.contains(&("role/web", "pending")), "{classes:?}");
    assert!(
        !classes.iter().any(|(_, class)| *class == "modified"),
        "nothing was changed outside rolecall: {classes:?}"
    );
}

#[test]
fn a_name_that_differs_only_in_case_fails_drift_as_it_fails_plan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    std::fs::write(path.join("stack.yaml"), MANIFEST).unwrap();
    emulator(
        path,
        &[
            "create-role",
            "--role-name",
            "Spare",
            "--assume-role-policy-document",
            LAMBDA_TRUST,
        ],
    );
    for command in [&["plan"][..], &["drift"][..]] {
        let failed = rolecall(path, command).code(1);
        let message = String::from_utf8_lossy(&failed.get_output().stderr).into_owned();
        assert!(
            message.contains("role/spare") && message.contains("`Spare`"),
            "{command:?}: {message}"
        );
    }
}

#[test]
fn missing_orphaned_and_unmanaged_are_drift_pending_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    std::fs::write(path.join("stack.yaml"), MANIFEST).unwrap();
    rolecall(path, &["apply", "--auto-approve"]).success();
    let cloud = Emulator::open(&path.join("account.db")).unwrap();

    // Pending: the manifests changed, apply has not run.
    std::fs::write(
        path.join("stack.yaml"),
        MANIFEST.replace("team: web", "team: storefront"),
    )
    .unwrap();
    let pending = rolecall(path, &["drift", "--format", "json"]).code(0);
    let report: serde_json::Value = serde_json::from_slice(&pending.get_output().stdout).unwrap();
    assert_eq!(report["entries"][0]["class"], "pending");
    assert_eq!(report["drift"], false);
    std::fs::write(path.join("stack.yaml"), MANIFEST).unwrap();

    // Orphaned: applied, then dropped from the manifests.
    std::fs::write(
        path.join("stack.yaml"),
        format!("{MANIFEST}---\nkind: Role\nname: extra\ntrust: ec2\n"),
    )
    .unwrap();
    rolecall(path, &["apply", "--auto-approve"]).success();
    std::fs::write(
        path.join("stack.yaml"),
        MANIFEST.replace("---\nkind: Role\nname: spare\ntrust: ec2\n", ""),
    )
    .unwrap();
    let json = rolecall(path, &["drift", "--format", "json"]).code(2);
    let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let classes: Vec<(String, String)> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["resource"].as_str().unwrap().to_string(),
                e["class"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        classes.contains(&("role/extra".into(), "orphaned".into())),
        "{classes:?}"
    );

    // Unmanaged: declared, exists, but nobody owns it.
    cloud
        .untag_role(&UntagRoleRequest {
            role_name: "web".into(),
            tag_keys: vec!["rolecall:stack".into()],
        })
        .unwrap();
    let json = rolecall(path, &["drift", "--format", "json"]).code(2);
    let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let web = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"] == "role/web")
        .unwrap();
    assert_eq!(web["class"], "unmanaged");

    // Missing: declared, absent.
    std::fs::write(
        path.join("stack.yaml"),
        format!("{MANIFEST}---\nkind: Role\nname: later\ntrust: ec2\n"),
    )
    .unwrap();
    let json = rolecall(path, &["drift", "--format", "json"]).code(2);
    let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let later = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"] == "role/later")
        .unwrap();
    assert_eq!(later["class"], "missing");
}

#[test]
fn a_namesake_instance_is_ambiguous_drift_that_plan_refuses_to_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    std::fs::write(path.join("stack.yaml"), MANIFEST).unwrap();
    rolecall(path, &["apply", "--auto-approve"]).success();
    // Someone launches a second `web-1` by hand.
    emulator(path, &["run-instances", "--name", "web-1"]);
    let cloud = Emulator::open(&path.join("account.db")).unwrap();
    let mut ids: Vec<String> = cloud.snapshot().unwrap().instances.into_keys().collect();
    ids.sort();
    assert_eq!(ids.len(), 2);

    // plan cannot choose which one the manifest means.
    let refused = rolecall(path, &["plan"]).code(1);
    let message = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        message.contains("instance/web-1: 2 instances are named `web-1`")
            && ids.iter().all(|id| message.contains(id.as_str())),
        "{message}"
    );

    // drift reports it: drift, not a failure, naming both.
    let json = rolecall(path, &["drift", "--format", "json"]).code(2);
    let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(report["drift"], true);
    assert_eq!(
        report["entries"],
        serde_json::json!([{
            "resource": "instance/web-1",
            "name": "web-1",
            "kind": "instance",
            "class": "ambiguous",
            "instance_ids": ids,
            "attributes": [],
        }]),
        "only the ambiguity: the owned one is not an orphan"
    );
    assert_eq!(report["summary"]["ambiguous"], 1);

    let text = rolecall(path, &["drift"]).code(2);
    let out = String::from_utf8_lossy(&text.get_output().stdout).into_owned();
    assert!(
        out.contains(&format!(
            "ambiguous instance/web-1 (2 instances are named `web-1` ({}, {})",
            ids[0], ids[1]
        )),
        "{out}"
    );
    assert!(
        out.contains("Drift: 0 modified, 0 missing, 0 orphaned, 0 unmanaged, 1 ambiguous."),
        "{out}"
    );
    let markdown = rolecall(path, &["drift", "--format", "markdown"]).code(2);
    let out = String::from_utf8_lossy(&markdown.get_output().stdout).into_owned();
    assert!(
        out.contains(&format!(
            "| ambiguous | `instance/web-1` | carried by {}, {} |",
            ids[0], ids[1]
        )),
        "{out}"
    );

    // The namesake goes: no drift again, and plan has nothing to do.
    let managed = cloud.snapshot().unwrap();
    let namesake = ids
        .iter()
        .find(|id| !managed.instances[*id].tags.contains_key("rolecall:stack"))
        .unwrap();
    emulator(path, &["terminate-instances", "--instance-ids", namesake]);
    rolecall(path, &["drift"]).code(0);
    rolecall(path, &["plan", "--detailed-exitcode"]).code(0);
}

/// A policy deleted outside rolecall (detached first, as IAM demands): the
/// policy is missing, the role lost it, and the trail names the calls.
#[test]
fn a_policy_deleted_outside_is_missing_and_apply_brings_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    std::fs::write(path.join("stack.yaml"), MANIFEST).unwrap();
    rolecall(path, &["apply", "--auto-approve"]).success();
    emulator(
        path,
        &[
            "detach-role-policy",
            "--role-name",
            "web",
            "--policy-arn",
            SHOP_READ,
        ],
    );
    emulator(path, &["delete-policy", "--policy-arn", SHOP_READ]);
    let json = rolecall(path, &["drift", "--format", "json"]).code(2);
    let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let entry = |resource: &str| {
        report["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["resource"] == resource)
            .cloned()
            .unwrap_or_else(|| panic!("no {resource}: {report:#}"))
    };
    let policy = entry("policy/shop-read");
    assert_eq!(policy["class"], "missing", "{policy}");
    assert_eq!(policy["kind"], "policy", "{policy}");
    assert_eq!(
        policy["changed_by"][0]["event_name"], "DeletePolicy",
        "{policy}"
    );
    let web = entry("role/web");
    assert_eq!(web["class"], "modified", "{web}");
    assert_eq!(
        web["changed_by"][0]["event_name"], "DetachRolePolicy",
        "{web}"
    );
    rolecall(path, &["apply", "--auto-approve"]).success();
    rolecall(path, &["drift"]).code(0);
}
