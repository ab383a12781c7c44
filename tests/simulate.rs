//! `rolecall simulate`: what each sample instance can do, decided on the
//! manifests and, after apply, on the account (`--live`); the reasons and
//! places of a denial; the exit codes.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// Runs rolecall in `dir`: exit code, stdout, stderr.
fn rolecall(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("rolecall")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("ROLECALL_ACCOUNT")
        .env_remove("ROLECALL_CLOUD")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The decision `simulate --format json` gives each action, in order.
fn decisions(dir: &Path, args: &[&str]) -> (i32, Vec<(String, String)>, Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, stdout, stderr) = rolecall(dir, &all);
    assert!(code == 0 || code == 3, "{args:?}: {stderr}");
    let answer: Value = serde_json::from_str(&stdout).unwrap();
    let decisions = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_string(),
                r["decision"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (code, decisions, answer)
}

/// What each instance of the sample stack may do: (instance, action,
/// resource, decision).
const SAMPLE: &[(&str, &str, &str, &str)] = &[
    (
        "web-1",
        "s3:GetObject",
        "arn:aws:s3:::example-web-prod-assets/logo.png",
        "allowed",
    ),
    (
        "web-1",
        "s3:ListBucket",
        "arn:aws:s3:::example-web-prod-assets",
        "allowed",
    ),
    (
        "web-2",
        "s3:PutObject",
        "arn:aws:s3:::example-web-prod-assets/logo.png",
        "implicitDeny",
    ),
    (
        "web-3",
        "s3:GetObject",
        "arn:aws:s3:::another-bucket/secret",
        "implicitDeny",
    ),
    ("web-1", "ssm:UpdateInstanceInformation", "*", "allowed"),
    (
        "batch-1",
        "s3:PutObject",
        "arn:aws:s3:::example-web-prod-batch-results/run-7.json",
        "allowed",
    ),
    (
        "batch-2",
        "s3:GetObject",
        "arn:aws:s3:::example-web-prod-batch-results/run-7.json",
        "implicitDeny",
    ),
    (
        "batch-1",
        "logs:PutLogEvents",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/web-prod/batch/nightly:log-stream:a",
        "allowed",
    ),
    ("ci-runner-1", "ecr:GetAuthorizationToken", "*", "allowed"),
    (
        "ci-runner-2",
        "ecr:PutImage",
        "arn:aws:ecr:eu-west-1:123456789012:repository/app",
        "allowed",
    ),
    ("ci-runner-1", "iam:CreateRole", "*", "implicitDeny"),
    // Through the ManagedPolicy the web tier and the batch workers share.
    (
        "web-2",
        "s3:GetObject",
        "arn:aws:s3:::example-web-prod-config/app.json",
        "allowed",
    ),
    (
        "batch-1",
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:web-prod/db-AbCdEf",
        "allowed",
    ),
    (
        "ci-runner-1",
        "s3:GetObject",
        "arn:aws:s3:::example-web-prod-config/app.json",
        "implicitDeny",
    ),
];

#[test]
fn what_each_sample_instance_can_do_on_the_manifests() {
    for (instance, action, resource, expected) in SAMPLE {
        let (code, decisions, answer) = decisions(
            repo(),
            &[
                "simulate",
                "--instance",
                instance,
                "--action",
                action,
                "--resource",
                resource,
            ],
        );
        assert_eq!(
            decisions,
            [(action.to_string(), expected.to_string())],
            "{instance}: {answer:#}"
        );
        assert_eq!(code, if *expected == "allowed" { 0 } else { 3 });
        assert_eq!(answer["decided_on"], "manifests");
    }
}

#[test]
fn an_allow_names_its_statement_and_place_and_a_denial_says_why() {
    let (code, stdout, _) = rolecall(
        repo(),
        &[
            "simulate",
            "--instance",
            "web-1",
            "--action",
            "s3:GetObject",
            "--action",
            "s3:PutObject",
            "--resource",
            "arn:aws:s3:::example-web-prod-assets/logo.png",
        ],
    );
    assert_eq!(code, 3, "one action denied: exit 3");
    insta::assert_snapshot!("simulate_web_1", stdout);
}

#[test]
fn wildcard_actions_expand_through_the_catalogue() {
    let (code, decisions, _) = decisions(
        repo(),
        &[
            "simulate",
            "--role",
            "web-server",
            "--action",
            "s3:GetObject*",
            "--resource",
            "arn:aws:s3:::example-web-prod-assets/logo.png",
        ],
    );
    assert_eq!(code, 3);
    let allowed: Vec<&str> = decisions
        .iter()
        .filter(|(_, d)| d == "allowed")
        .map(|(a, _)| a.as_str())
        .collect();
    assert_eq!(allowed, ["s3:GetObject", "s3:GetObjectVersion"]);
    assert!(decisions.len() > 10, "{decisions:?}");
    assert!(decisions.iter().any(|(a, _)| a == "s3:GetObjectTagging"));
}

/// A stack of its own: boundary, explicit deny, conditions on the request
/// context and on the role's tags.
const CONDITIONS: &str = r#"
kind: Role
name: app
trust: ec2
permissions_boundary: arn:aws:iam::aws:policy/PowerUserAccess
tags: {team: payments}
inline_policies:
  app:
    Version: "2012-10-17"
    Statement:
      - Sid: MakeRoles
        Effect: Allow
        Action: iam:CreateRole
        Resource: "*"
      - Sid: FromTheOffice
        Effect: Allow
        Action: s3:GetObject
        Resource: arn:aws:s3:::reports/*
        Condition: {IpAddress: {"aws:SourceIp": "10.0.0.0/8"}}
      - Sid: OwnTeamsQueue
        Effect: Allow
        Action: sqs:SendMessage
        Resource: arn:aws:sqs:eu-west-1:123456789012:${aws:PrincipalTag/team}-jobs
      - Sid: NeverDelete
        Effect: Deny
        Action: s3:DeleteObject
        Resource: "*"
      - Sid: Everything
        Effect: Allow
        Action: s3:*
        Resource: "*"
        Condition: {Bool: {"aws:MultiFactorAuthPresent": "true"}}
"#;

#[test]
fn boundaries_denies_conditions_and_principal_tags_decide_as_on_aws() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.yaml"), CONDITIONS).unwrap();
    let ask = |action: &str, resource: &str, context: &[&str]| {
        let mut args = vec![
            "simulate",
            "-f",
            "app.yaml",
            "--role",
            "app",
            "--action",
            action,
            "--resource",
            resource,
        ];
        for pair in context {
            args.extend(["--context", pair]);
        }
        let (_, decisions, answer) = decisions(dir.path(), &args);
        (decisions[0].1.clone(), answer)
    };

    // Allowed by the identity policy, not by the PowerUserAccess boundary.
    let (decision, answer) = ask("iam:CreateRole", "*", &[]);
    assert_eq!(decision, "implicitDeny");
    let missing = &answer["results"][0]["missing"];
    assert!(
        missing
            .to_string()
            .contains("the permissions boundary does not allow it"),
        "{answer:#}"
    );

    // A condition on a key the request lacks fails; with it, it holds.
    let (decision, answer) = ask("s3:GetObject", "arn:aws:s3:::reports/q3.csv", &[]);
    assert_eq!(decision, "implicitDeny");
    assert!(answer.to_string().contains("aws:SourceIp"), "{answer:#}");
    let (decision, _) = ask(
        "s3:GetObject",
        "arn:aws:s3:::reports/q3.csv",
        &["aws:SourceIp=10.1.2.3"],
    );
    assert_eq!(decision, "allowed");
    let (decision, _) = ask(
        "s3:GetObject",
        "arn:aws:s3:::reports/q3.csv",
        &["aws:SourceIp=192.0.2.1"],
    );
    assert_eq!(decision, "implicitDeny");

    // The role's tags are its sessions' aws:PrincipalTag keys.
    let queue = "arn:aws:sqs:eu-west-1:123456789012:payments-jobs";
    assert_eq!(ask("sqs:SendMessage", queue, &[]).0, "allowed");
    let other = "arn:aws:sqs:eu-west-1:123456789012:search-jobs";
    assert_eq!(ask("sqs:SendMessage", other, &[]).0, "implicitDeny");

    // An explicit deny wins over any allow, and names its statement.
    let (decision, answer) = ask(
        "s3:DeleteObject",
        "arn:aws:s3:::reports/q3.csv",
        &["aws:MultiFactorAuthPresent=true"],
    );
    assert_eq!(decision, "explicitDeny");
    assert_eq!(
        answer["results"][0]["matched_statements"][0]["sid"],
        "NeverDelete"
    );
    assert_eq!(
        answer["results"][0]["matched_statements"][0]["source"]["place"]["file"],
        "app.yaml"
    );
}

#[test]
fn live_decides_on_the_account_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("account.db");
    let account = account.to_str().unwrap();
    let asset = "arn:aws:s3:::example-web-prod-assets/logo.png";
    let (code, _, stderr) = rolecall(repo(), &["--account", account, "apply", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    let live = |instance: &str| {
        decisions(
            repo(),
            &[
                "--account",
                account,
                "simulate",
                "--live",
                "--instance",
                instance,
                "--action",
                "s3:GetObject",
                "--resource",
                asset,
            ],
        )
    };
    let (code, decided, answer) = live("web-1");
    assert_eq!((code, decided[0].1.as_str()), (0, "allowed"), "{answer:#}");
    assert_eq!(answer["decided_on"], "account");
    assert_eq!(answer["instance_profile"], "web-server");

    // Changed outside git: the account says no, the manifests still yes.
    let (code, _, stderr) = rolecall(
        repo(),
        &[
            "--account",
            account,
            "emulator",
            "delete-role-policy",
            "--role-name",
            "web-server",
            "--policy-name",
            "read-assets",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let (code, decided, _) = live("web-1");
    assert_eq!((code, decided[0].1.as_str()), (3, "implicitDeny"));
    let (code, decided, _) = decisions(
        repo(),
        &[
            "simulate",
            "--instance",
            "web-1",
            "--action",
            "s3:GetObject",
            "--resource",
            asset,
        ],
    );
    assert_eq!((code, decided[0].1.as_str()), (0, "allowed"));
}

#[test]
fn what_cannot_be_asked_is_an_error_naming_it() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["simulate", "--role", "nope", "--action", "s3:GetObject"],
            "no role named `nope` is declared in the manifests",
        ),
        (
            &[
                "simulate",
                "--instance",
                "web-9",
                "--action",
                "s3:GetObject",
            ],
            "no instance `web-9` is declared in the manifests",
        ),
        (
            &["simulate", "--role", "web-server", "--action", "GetObject"],
            "--action GetObject: an action is service:Action",
        ),
        (
            &[
                "simulate",
                "--role",
                "web-server",
                "--action",
                "s3:Nothing*",
            ],
            "--action s3:Nothing* matches no action of the bundled catalogue",
        ),
        (
            &[
                "simulate",
                "--role",
                "web-server",
                "--action",
                "s3:GetObject",
                "--context",
                "novalue",
            ],
            "`novalue` is not KEY=VALUE",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let none = dir.path().join("none.db");
    let live = [
        "--account",
        none.to_str().unwrap(),
        "simulate",
        "--live",
        "--role",
        "web-server",
        "--action",
        "s3:GetObject",
    ];
    let (code, _, stderr) = rolecall(repo(), &live);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("--live decides on the account, and there is no emulated account at"),
        "{stderr}"
    );
    assert!(!none.exists(), "nothing is created");
    for (args, message) in cases {
        let (code, _, stderr) = rolecall(repo(), args);
        assert!(code == 1 || code == 2, "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn answers_rolecall_cannot_be_sure_of_say_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.yaml"),
        "kind: Role\nname: app\ntrust: ec2\nmanaged_policies: [arn:aws:iam::123456789012:policy/custom]\n",
    )
    .unwrap();
    let (code, decided, answer) = decisions(
        dir.path(),
        &[
            "simulate",
            "-f",
            "app.yaml",
            "--role",
            "app",
            "--action",
            "s3:PutObject",
            "--action",
            "sts:GetCallerIdentity",
        ],
    );
    assert_eq!(code, 3);
    // A customer-managed policy is not read: a denial is not conclusive.
    assert_eq!(decided[0].1, "implicitDeny");
    assert_eq!(answer["results"][0]["conclusive"], false);
    assert_eq!(
        answer["not_evaluated"][0],
        "arn:aws:iam::123456789012:policy/custom"
    );
    // GetCallerIdentity needs no permission.
    assert_eq!(decided[1].1, "allowed");
    assert_eq!(answer["results"][1]["conclusive"], true);
    assert_eq!(answer["decision"], "implicitDeny");

    // A misspelt action is asked as written, with a warning.
    let (code, _, stderr) = rolecall(
        repo(),
        &[
            "simulate",
            "--role",
            "web-server",
            "--action",
            "s3:GetObjet",
        ],
    );
    assert_eq!(code, 3);
    assert!(
        stderr.contains("warning: --action s3:GetObjet: no AWS service has this action; did you mean s3:GetObject?"),
        "{stderr}"
    );
}

/// A CI role whose permissions come from ManagedPolicies of the manifests,
/// one attached by name, one by its ARN (the Stack names the account), and
/// its boundary a declared policy too.
const DECLARED: &str = r#"kind: Stack
name: ci
account_id: "123456789012"
---
kind: ManagedPolicy
name: deploy-tools
path: /ci/
document:
  Version: "2012-10-17"
  Statement:
    - Sid: PushImages
      Effect: Allow
      Action: [ecr:GetAuthorizationToken, ecr:PutImage, ecr:InitiateLayerUpload]
      Resource: "*"
    - Sid: CreateRoles
      Effect: Allow
      Action: iam:CreateRole
      Resource: "*"
    - Sid: KeepProdImages
      Effect: Deny
      Action: ecr:BatchDeleteImage
      Resource: arn:aws:ecr:*:123456789012:repository/prod-*
---
kind: ManagedPolicy
name: read-artifacts
document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: ["s3:GetObject", "ecr:BatchDeleteImage"], Resource: "*"}]}
---
kind: ManagedPolicy
name: ci-boundary
path: /boundaries/
document:
  Version: "2012-10-17"
  Statement:
    - Effect: Allow
      Action: ["ecr:*", "s3:*"]
      Resource: "*"
---
kind: Role
name: ci
trust: ec2
permissions_boundary: arn:aws:iam::123456789012:policy/boundaries/ci-boundary
managed_policies:
  - deploy-tools
  - arn:aws:iam::123456789012:policy/read-artifacts
"#;

#[test]
fn declared_customer_managed_policies_decide_as_aws_managed_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ci.yaml"), DECLARED).unwrap();
    let ask = |action: &str, resource: &str| {
        decisions(
            dir.path(),
            &[
                "simulate",
                "-f",
                "ci.yaml",
                "--role",
                "ci",
                "--action",
                action,
                "--resource",
                resource,
            ],
        )
    };

    // Allowed by the policy attached by name: its statement is shown at
    // the policy's place in the manifests.
    let (code, decided, answer) = ask(
        "ecr:PutImage",
        "arn:aws:ecr:eu-west-1:123456789012:repository/app",
    );
    assert_eq!((code, decided[0].1.as_str()), (0, "allowed"), "{answer:#}");
    assert_eq!(answer["not_evaluated"], serde_json::json!([]));
    let statement = &answer["results"][0]["matched_statements"][0];
    assert_eq!(statement["sid"], "PushImages");
    assert_eq!(statement["policy"], "deploy-tools");
    assert_eq!(
        statement["source"],
        serde_json::json!({
            "kind": "customer_managed",
            "name": "deploy-tools",
            "arn": "arn:aws:iam::123456789012:policy/ci/deploy-tools",
            "place": {"file": "ci.yaml", "line": 6, "column": 7},
        })
    );
    assert_eq!(statement["statement"]["Sid"], "PushImages");

    // Attached by its ARN in the Stack's account: the same declared document.
    let (_, decided, answer) = ask("s3:GetObject", "arn:aws:s3:::artifacts/build.zip");
    assert_eq!(decided[0].1, "allowed", "{answer:#}");
    assert_eq!(
        answer["results"][0]["matched_statements"][0]["source"]["name"],
        "read-artifacts"
    );

    // Allowed by an identity policy, not by the declared boundary.
    let (code, decided, answer) = ask("iam:CreateRole", "*");
    assert_eq!((code, decided[0].1.as_str()), (3, "implicitDeny"));
    assert!(
        answer["results"][0]["missing"]
            .to_string()
            .contains("the permissions boundary does not allow it"),
        "{answer:#}"
    );

    // A Deny in a declared policy wins over another's Allow.
    let (code, decided, answer) = ask(
        "ecr:BatchDeleteImage",
        "arn:aws:ecr:eu-west-1:123456789012:repository/prod-web",
    );
    assert_eq!((code, decided[0].1.as_str()), (3, "explicitDeny"));
    assert_eq!(
        answer["results"][0]["matched_statements"][0]["sid"],
        "KeepProdImages"
    );
    let (_, decided, _) = ask(
        "ecr:BatchDeleteImage",
        "arn:aws:ecr:eu-west-1:123456789012:repository/test-web",
    );
    assert_eq!(decided[0].1, "allowed");

    // The text names the policy and its place; the boundary's statement
    // is shown where the boundary is declared.
    let (code, stdout, stderr) = rolecall(
        dir.path(),
        &[
            "simulate",
            "-f",
            "ci.yaml",
            "--role",
            "ci",
            "--action",
            "ecr:PutImage",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(
        stdout.contains("by statement PushImages of policy deploy-tools (ci.yaml:6:7: customer-managed policy deploy-tools)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(ci.yaml:29:7: permissions boundary arn:aws:iam::123456789012:policy/boundaries/ci-boundary)"),
        "{stdout}"
    );
}

#[test]
fn customer_managed_policies_not_declared_are_named_so() {
    let dir = tempfile::tempdir().unwrap();
    // Without the Stack's account_id, an ARN cannot be told to be the
    // declared policy's: it is not evaluated, and the warning says how.
    std::fs::write(
        dir.path().join("app.yaml"),
        "kind: ManagedPolicy\nname: reports\ndocument: {Version: \"2012-10-17\", Statement: [{Effect: Allow, Action: s3:GetObject, Resource: \"*\"}]}\n---\nkind: Role\nname: app\ntrust: ec2\nmanaged_policies: [arn:aws:iam::123456789012:policy/reports, arn:aws:iam::123456789012:policy/other]\n",
    )
    .unwrap();
    let args = [
        "simulate",
        "-f",
        "app.yaml",
        "--role",
        "app",
        "--action",
        "s3:GetObject",
    ];
    let (code, stdout, stderr) = rolecall(dir.path(), &args);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("warning: arn:aws:iam::123456789012:policy/reports is not evaluated: it is a customer-managed policy the manifests do not declare (kind: ManagedPolicy); if it is the declared `reports`, name it `reports` or set the Stack's account_id, so what it allows or denies is not seen"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: arn:aws:iam::123456789012:policy/other is not evaluated: it is a customer-managed policy the manifests do not declare (kind: ManagedPolicy), so"),
        "{stderr}"
    );
    assert!(
        stdout.contains("not conclusive: not evaluated: ")
            && stdout.contains("arn:aws:iam::123456789012:policy/reports (it is a customer-managed policy the manifests do not declare"),
        "{stdout}"
    );

    // A boundary that is not declared leaves nothing to decide on.
    std::fs::write(
        dir.path().join("app.yaml"),
        "kind: Role\nname: app\ntrust: ec2\npermissions_boundary: arn:aws:iam::123456789012:policy/boundary\n",
    )
    .unwrap();
    let (code, _, stderr) = rolecall(dir.path(), &args);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the permissions boundary arn:aws:iam::123456789012:policy/boundary is not evaluated: it is a customer-managed policy the manifests do not declare (kind: ManagedPolicy), so no decision can be made"),
        "{stderr}"
    );
}
