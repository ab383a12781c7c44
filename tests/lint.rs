//! `rolecall lint` and its findings in `validate`: one fixture with an
//! occurrence of every rule (and one silenced), snapshotted in each format;
//! the sample stack comes out clean.

use assert_cmd::Command;

const EVERY_RULE: &str = "tests/fixtures/lint/every-rule";
/// Findings in the fixture: one of each rule, four broad policies or open
/// trusts written another way (NotAction, NotResource, `"*"`, a condition
/// that narrows nothing), and four in ManagedPolicy documents.
const FINDINGS: usize = 16;

/// Runs rolecall at the repository's root: exit code, stdout, stderr.
fn rolecall(args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("rolecall")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn every_rule_is_found_once_at_its_place_with_why_and_fix() {
    let (code, stdout, stderr) = rolecall(&["lint", "-f", EVERY_RULE]);
    assert_eq!(code, 2, "findings exit 2: {stderr}");
    insta::assert_snapshot!("lint_text", stdout);
    for rule in rolecall::lint::RULES {
        assert!(
            stdout.contains(&format!("warning[{}]", rule.id)),
            "the fixture has no {}: {stdout}",
            rule.id
        );
    }
    // Silenced with its reason: not among the findings.
    assert!(!stdout.contains("role/silenced"), "{stdout}");
    // A lint_ignore that silences nothing is pointed out.
    assert!(
        stdout.contains("warning: lint_ignore silences `passrole-any-role` on role `tidy`, which has no such finding"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("(2 silenced by lint_ignore).\n"),
        "{stdout}"
    );
}

#[test]
fn json_findings_carry_rule_place_why_fix_and_silenced_reasons() {
    let (code, stdout, _) = rolecall(&["lint", "-f", EVERY_RULE, "--format", "json"]);
    assert_eq!(code, 2);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["format_version"], 1);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), FINDINGS, "{stdout}");
    let typo = findings
        .iter()
        .find(|f| f["rule"] == "unknown-action" && f["resource"] == "role/typo")
        .unwrap();
    assert_eq!(typo["location"]["file"], format!("{EVERY_RULE}/roles.yaml"));
    assert_eq!(typo["location"]["line"], 7);
    assert!(
        typo["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `s3:GetObject`?")
    );
    let silenced = report["silenced"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"] == "role/silenced")
        .unwrap();
    assert_eq!(
        silenced["reason"],
        "the agent writes to log groups it creates at boot"
    );
}

#[test]
fn sarif_is_what_github_code_scanning_takes() {
    let (code, stdout, _) = rolecall(&["lint", "-f", EVERY_RULE, "--format", "sarif"]);
    assert_eq!(code, 2);
    let sarif: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), rolecall::lint::RULES.len());
    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let location = &result["locations"][0]["physicalLocation"];
        assert!(
            location["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .starts_with(EVERY_RULE)
        );
        assert!(location["region"]["startLine"].as_u64().unwrap() > 0);
    }
    // The version changes with every release: not part of the snapshot.
    let stdout = stdout.replace(
        &format!("\"version\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"version\": \"[version]\"",
    );
    insta::assert_snapshot!("lint_sarif", stdout);
}

#[test]
fn the_sample_stack_is_clean() {
    let (code, stdout, stderr) = rolecall(&["lint"]);
    assert_eq!(
        (code, stdout.as_str()),
        (0, "No lint findings.\n"),
        "{stderr}"
    );
}

#[test]
fn validate_shows_the_findings_as_warnings_and_still_passes() {
    let (code, stdout, stderr) = rolecall(&["validate", "-f", EVERY_RULE]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ok: "), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "{EVERY_RULE}/roles.yaml:7:3: warning: [unknown-action] role/typo, inline policy `read`, statement Typo: no AWS service has the action `s3:GetObjet`; did you mean `s3:GetObject`?"
        )),
        "{stderr}"
    );
    assert_eq!(stderr.matches("warning: [").count(), FINDINGS, "{stderr}");
}

#[test]
fn a_silenced_rule_must_exist_and_give_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("role.yaml");
    std::fs::write(
        &manifest,
        "kind: Role\nname: r\ntrust: ec2\nlint_ignore:\n  wildcard-resource-on-wrte: because\n  wildcard-action: \"\"\n",
    )
    .unwrap();
    let output = Command::cargo_bin("rolecall")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["lint", "-f", "role.yaml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "role.yaml:5:3: error: unknown lint rule `wildcard-resource-on-wrte` in `lint_ignore`"
        ) && stderr.contains("did you mean `wildcard-resource-on-write`?"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("role.yaml:6:20: error: the reason for silencing `wildcard-action` is empty"),
        "{stderr}"
    );
}

#[test]
fn managed_policy_documents_get_the_inline_rules_at_their_place() {
    let (code, stdout, _) = rolecall(&["lint", "-f", EVERY_RULE, "--format", "json"]);
    assert_eq!(code, 2);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let on = |resource: &str| -> Vec<String> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["resource"] == resource)
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        on("policy/shared-tools"),
        [
            "passrole-any-role",
            "unknown-action",
            "wildcard-resource-on-write"
        ]
    );
    assert_eq!(on("policy/s3-read-copy"), ["inline-duplicates-managed"]);
    let typo = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"] == "policy/shared-tools" && f["rule"] == "unknown-action")
        .unwrap();
    // At the policy's name, as a role's findings are at its policy's name.
    assert_eq!(
        typo["location"]["file"],
        format!("{EVERY_RULE}/policies.yaml")
    );
    assert_eq!(
        (
            typo["location"]["line"].as_u64(),
            typo["location"]["column"].as_u64()
        ),
        (Some(5), Some(7))
    );
    assert_eq!(typo["subject"], "document, statement Describe");

    // A policy silences a rule with its reason, as a role does.
    let silenced: Vec<&serde_json::Value> = report["silenced"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"] == "policy/log-writer")
        .collect();
    assert_eq!(silenced.len(), 1, "{stdout}");
    assert_eq!(silenced[0]["rule"], "wildcard-resource-on-write");
    assert_eq!(
        silenced[0]["reason"],
        "log streams are named by the instance at boot"
    );
    assert!(
        report["stale_ignores"]
            .as_array()
            .unwrap()
            .iter()
            .any(|stale| stale["resource"] == "policy/tidy-policy"
                && stale["rule"] == "unknown-action"),
        "{stdout}"
    );

    // validate shows them as warnings, and still passes.
    let (code, stdout, stderr) = rolecall(&["validate", "-f", EVERY_RULE]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ok: "), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "{EVERY_RULE}/policies.yaml:5:7: warning: [unknown-action] policy/shared-tools, document, statement Describe: no AWS service has the action `ec2:DescribeInstance`; did you mean `ec2:DescribeInstances`?"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{EVERY_RULE}/policies.yaml:44:3: warning: lint_ignore silences `unknown-action` on managed policy `tidy-policy`, which has no such finding"
        )),
        "{stderr}"
    );
}

#[test]
fn a_stack_large_enough_to_lint_on_every_core_loses_and_reorders_nothing() {
    // More roles than one thread lints (2,000 a thread), each with one
    // finding: every finding is reported once, in manifest order.
    const ROLES: usize = 4_500;
    let dir = tempfile::tempdir().unwrap();
    let mut manifest = String::new();
    for n in 0..ROLES {
        manifest.push_str(&format!(
            "---\nkind: Role\nname: r{n}\ntrust: ec2\ninline_policies:\n  write:\n    Version: \"2012-10-17\"\n    Statement: [{{Effect: Allow, Action: \"s3:PutObject\", Resource: \"*\"}}]\n"
        ));
    }
    std::fs::write(dir.path().join("roles.yaml"), manifest).unwrap();
    let output = Command::cargo_bin("rolecall")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args(["lint", "-f", "roles.yaml", "--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let resources: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert_eq!(f["rule"], "wildcard-resource-on-write", "{f}");
            f["resource"].as_str().unwrap()
        })
        .collect();
    let expected: Vec<String> = (0..ROLES).map(|n| format!("role/r{n}")).collect();
    assert_eq!(resources, expected);
}
