//! The emulated account's audit trail through the real binary: what
//! `rolecall emulator lookup-events` prints (as `aws cloudtrail
//! lookup-events`), that apply's calls are marked as rolecall's own, the
//! retention setting, and `revoke-sessions` showing as drift that names
//! who revoked.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const MANIFEST: &str = r#"
kind: Stack
name: shop
---
kind: Role
name: web
trust: ec2
tags: {team: web}
---
kind: InstanceProfile
name: web
role: web
"#;

fn rolecall(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("rolecall")
        .unwrap()
        .current_dir(dir)
        .env_remove("ROLECALL_ACCOUNT")
        .env("NO_COLOR", "1")
        .args(["--account", "account.db"])
        .args(args)
        .assert()
}

fn lab() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), MANIFEST).unwrap();
    rolecall(dir.path(), &["apply", "--auto-approve", "-f", "stack.yaml"]).success();
    dir
}

fn lookup(dir: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["emulator", "lookup-events"];
    all.extend_from_slice(args);
    let out = rolecall(dir, &all).success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    json["Events"].as_array().unwrap().clone()
}

fn record(event: &Value) -> Value {
    serde_json::from_str(event["CloudTrailEvent"].as_str().unwrap()).unwrap()
}

#[test]
fn lookup_events_prints_the_trail_newest_first_as_cloudtrail_does() {
    let dir = lab();
    let path = dir.path();
    rolecall(
        path,
        &[
            "emulator",
            "tag-role",
            "--role-name",
            "web",
            "--tags",
            "Key=owner,Value=mallory",
        ],
    )
    .success();

    let events = lookup(path, &[]);
    // Apply's calls, then the hand's, newest first.
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["EventName"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "TagRole", "{names:?}");
    assert!(
        names.contains(&"CreateRole") && names.contains(&"AddRoleToInstanceProfile"),
        "{names:?}"
    );
    let by_hand = &events[0];
    assert_eq!(by_hand["ReadOnly"], "false");
    assert_eq!(by_hand["EventSource"], "iam.amazonaws.com");
    assert_eq!(by_hand["Username"], "root");
    assert_eq!(
        by_hand["Resources"],
        serde_json::json!([{"ResourceType": "AWS::IAM::Role", "ResourceName": "web"}])
    );
    let trail = record(by_hand);
    assert_eq!(trail["userIdentity"]["type"], "Root");
    assert_eq!(
        trail["userIdentity"]["arn"],
        "arn:aws:iam::123456789012:root"
    );
    assert_eq!(
        trail["requestParameters"],
        serde_json::json!({"roleName": "web", "tags": [{"key": "owner", "value": "mallory"}]})
    );
    assert!(
        trail["userAgent"]
            .as_str()
            .unwrap()
            .starts_with("rolecall-emulator/")
    );
    assert_eq!(trail["eventID"], by_hand["EventId"]);
    // Apply's own calls say they are rolecall's.
    for event in &events[1..] {
        let agent = record(event)["userAgent"].as_str().unwrap().to_string();
        assert!(agent.starts_with("rolecall/"), "{agent}");
    }

    // One attribute, as CloudTrail allows; a time window; a count.
    let tagged = lookup(
        path,
        &[
            "--lookup-attributes",
            "AttributeKey=EventName,AttributeValue=TagRole",
        ],
    );
    assert!(
        tagged.iter().all(|e| e["EventName"] == "TagRole"),
        "{tagged:?}"
    );
    assert_eq!(
        lookup(
            path,
            &[
                "--lookup-attributes",
                "AttributeKey=ResourceName,AttributeValue=web"
            ]
        )
        .len(),
        events.len()
            - events
                .iter()
                .filter(|e| e["Resources"].as_array().unwrap().is_empty())
                .count()
    );
    assert!(lookup(path, &["--start-time", "2999-01-01"]).is_empty());
    assert_eq!(lookup(path, &["--max-results", "1"]).len(), 1);
    let failure = rolecall(
        path,
        &[
            "emulator",
            "lookup-events",
            "--lookup-attributes",
            "AttributeKey=Who,AttributeValue=x",
        ],
    )
    .failure();
    let stderr = String::from_utf8_lossy(&failure.get_output().stderr).into_owned();
    assert!(stderr.contains("unknown AttributeKey \"Who\""), "{stderr}");
}

#[test]
fn failed_calls_are_recorded_with_their_error() {
    let dir = lab();
    let path = dir.path();
    rolecall(path, &["emulator", "delete-role", "--role-name", "web"]).failure();
    let events = lookup(path, &["--max-results", "1"]);
    let trail = record(&events[0]);
    assert_eq!(trail["eventName"], "DeleteRole");
    assert_eq!(trail["errorCode"], "DeleteConflict");
    assert!(
        trail["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Cannot delete entity"),
        "{trail}"
    );
}

#[test]
fn the_trail_keeps_the_newest_events_it_is_set_to() {
    let dir = lab();
    let path = dir.path();
    let before = lookup(path, &[]).len();
    assert!(before > 3, "{before}");
    rolecall(path, &["emulator", "configure", "--max-events", "3"]).success();
    assert_eq!(lookup(path, &[]).len(), 3);
    for value in ["a", "b"] {
        rolecall(
            path,
            &[
                "emulator",
                "tag-role",
                "--role-name",
                "web",
                "--tags",
                &format!("Key=k,Value={value}"),
            ],
        )
        .success();
    }
    let events = lookup(path, &[]);
    assert_eq!(events.len(), 3, "the oldest are dropped first");
    assert_eq!(
        record(&events[0])["requestParameters"]["tags"][0]["value"],
        "b",
        "the newest is kept"
    );
    let settings = rolecall(path, &["emulator", "configure"]).success();
    let settings: Value = serde_json::from_slice(&settings.get_output().stdout).unwrap();
    assert_eq!(settings["trail"]["max_events"], 3);
}

#[test]
fn revoked_sessions_show_as_drift_naming_who_revoked() {
    let dir = lab();
    let path = dir.path();
    let revoke = rolecall(path, &["emulator", "revoke-sessions", "--role-name", "web"]).success();
    let stderr = String::from_utf8_lossy(&revoke.get_output().stderr).into_owned();
    assert!(
        stderr.contains("Sessions of role web issued before "),
        "{stderr}"
    );
    let policy = rolecall(
        path,
        &[
            "emulator",
            "get-role-policy",
            "--role-name",
            "web",
            "--policy-name",
            "AWSRevokeOlderSessions",
        ],
    )
    .success();
    let policy: Value = serde_json::from_slice(&policy.get_output().stdout).unwrap();
    let document = &policy["PolicyDocument"];
    let document: Value = match document.as_str() {
        Some(text) => serde_json::from_str(&percent_decode(text)).unwrap(),
        None => document.clone(),
    };
    assert_eq!(document["Statement"][0]["Effect"], "Deny");
    assert!(
        document["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"].is_string(),
        "{document}"
    );

    let drift = rolecall(path, &["drift", "--format", "json", "-f", "stack.yaml"]).code(2);
    let report: Value = serde_json::from_slice(&drift.get_output().stdout).unwrap();
    let entry = &report["entries"][0];
    assert_eq!(entry["resource"], "role/web");
    assert_eq!(entry["changed_by"][0]["attribute"], "inline_policies");
    assert_eq!(entry["changed_by"][0]["event_name"], "PutRolePolicy");
    // Apply removes it: the old sessions work again, as on AWS.
    rolecall(path, &["apply", "--auto-approve", "-f", "stack.yaml"]).success();
    rolecall(path, &["drift", "-f", "stack.yaml"]).code(0);
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}
