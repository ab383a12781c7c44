//! Drift, one out-of-band change per attribute (issue 6): each case changes
//! the account behind rolecall's back through the emulator, then checks the
//! class, the attribute and the exit code of the real `rolecall drift`, in
//! text and JSON, and that `apply` restores the declared state.

use std::path::Path;

use assert_cmd::Command;
use rolecall::cloud::Cloud;
use rolecall::cloud::ec2::DisassociateIamInstanceProfileRequest;
use rolecall::cloud::iam::*;
use rolecall::emulator::Emulator;
use rolecall::model::PolicyDocument;

const MANIFEST: &str = r#"
kind: Stack
name: shop
---
kind: Role
name: web
description: Serves the shop
trust: ec2
max_session_duration: 3600
managed_policies: [arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore]
inline_policies:
  read-assets: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: s3:GetObject, Resource: "arn:aws:s3:::shop/*"}]}
tags: {team: web}
---
kind: Role
name: spare
trust: ec2
---
kind: InstanceProfile
name: web
role: web
---
kind: Instance
name: web-1
profile: web
"#;

type Change = fn(&Emulator);

fn policy(action: &str) -> String {
    PolicyDocument::from_value(serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]
    }))
    .to_json()
}

/// (what changes, resource, attribute, the change)
const CASES: &[(&str, &str, &str, Change)] = &[
    ("role tag added", "role/web", "tags", |c| {
        c.tag_role(&TagRoleRequest {
            role_name: "web".into(),
            tags: vec![Tag::new("oncall", "alice")],
        })
        .unwrap();
    }),
    ("role tag removed", "role/web", "tags", |c| {
        c.untag_role(&UntagRoleRequest {
            role_name: "web".into(),
            tag_keys: vec!["team".into()],
        })
        .unwrap();
    }),
    ("trust changed", "role/web", "trust", |c| {
        let lambda = PolicyDocument::trusting_services(&["lambda.amazonaws.com"]).to_json();
        c.update_assume_role_policy(&UpdateAssumeRolePolicyRequest {
            role_name: "web".into(),
            policy_document: lambda,
        })
        .unwrap();
    }),
    (
        "inline policy changed",
        "role/web",
        "inline_policies",
        |c| {
            c.put_role_policy(&PutRolePolicyRequest {
                role_name: "web".into(),
                policy_name: "read-assets".into(),
                policy_document: policy("s3:*"),
            })
            .unwrap();
        },
    ),
    ("inline policy added", "role/web", "inline_policies", |c| {
        c.put_role_policy(&PutRolePolicyRequest {
            role_name: "web".into(),
            policy_name: "extra".into(),
            policy_document: policy("ec2:*"),
        })
        .unwrap();
    }),
    (
        "inline policy removed",
        "role/web",
        "inline_policies",
        |c| {
            c.delete_role_policy(&DeleteRolePolicyRequest {
                role_name: "web".into(),
                policy_name: "read-assets".into(),
            })
            .unwrap();
        },
    ),
    (
        "managed policy attached",
        "role/web",
        "managed_policies",
        |c| {
            c.attach_role_policy(&AttachRolePolicyRequest {
                role_name: "web".into(),
                policy_arn: "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
            })
            .unwrap();
        },
    ),
    (
        "managed policy detached",
        "role/web",
        "managed_policies",
        |c| {
            c.detach_role_policy(&DetachRolePolicyRequest {
                role_name: "web".into(),
                policy_arn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore".into(),
            })
            .unwrap();
        },
    ),
    ("boundary set", "role/web", "permissions_boundary", |c| {
        c.put_role_permissions_boundary(&PutRolePermissionsBoundaryRequest {
            role_name: "web".into(),
            permissions_boundary: "arn:aws:iam::aws:policy/PowerUserAccess".into(),
        })
        .unwrap();
    }),
    ("description", "role/web", "description", |c| {
        c.update_role(&UpdateRoleRequest {
            role_name: "web".into(),
            description: Some("by hand".into()),
            max_session_duration: None,
        })
        .unwrap();
    }),
    (
        "session duration",
        "role/web",
        "max_session_duration",
        |c| {
            c.update_role(&UpdateRoleRequest {
                role_name: "web".into(),
                description: None,
                max_session_duration: Some(7200),
            })
            .unwrap();
        },
    ),
    ("profile's role", "instance-profile/web", "role", |c| {
        c.remove_role_from_instance_profile(&RemoveRoleFromInstanceProfileRequest {
            instance_profile_name: "web".into(),
            role_name: "web".into(),
        })
        .unwrap();
        c.add_role_to_instance_profile(&AddRoleToInstanceProfileRequest {
            instance_profile_name: "web".into(),
            role_name: "spare".into(),
        })
        .unwrap();
    }),
    ("instance's profile", "instance/", "profile", |c| {
        let live = c.snapshot().unwrap();
        let association = live
            .instances
            .values()
            .next()
            .unwrap()
            .association
            .clone()
            .unwrap();
        c.disassociate_iam_instance_profile(&DisassociateIamInstanceProfileRequest {
            association_id: association.association_id,
        })
        .unwrap();
    }),
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

#[test]
fn every_attribute_changed_out_of_band_is_modified_drift() {
    for (what, resource, attribute, change) in CASES {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stack.yaml"), MANIFEST).unwrap();
        rolecall(dir.path(), &["apply", "--auto-approve"]).success();
        rolecall(dir.path(), &["drift"]).code(0);
        change(&Emulator::open(&dir.path().join("account.db")).unwrap());

        let json = rolecall(dir.path(), &["drift", "--format", "json"]).code(2);
        let report: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
        let entries = report["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{what}: {report:#}");
        let entry = &entries[0];
        assert!(
            entry["resource"].as_str().unwrap().starts_with(resource),
            "{what}: {entry}"
        );
        assert_eq!(entry["class"], "modified", "{what}: {entry}");
        let names: Vec<&str> = entry["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec![*attribute], "{what}");

        let text = rolecall(dir.path(), &["drift"]).code(2);
        let out = String::from_utf8_lossy(&text.get_output().stdout).into_owned();
        assert!(
            out.contains("modified") && out.contains(attribute),
            "{what}: {out}"
        );

        rolecall(dir.path(), &["apply", "--auto-approve"]).success();
        rolecall(dir.path(), &["drift"]).code(0);
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
