//! `manifest::load` as the planner sees it: the model built from the sample stack.

use std::path::PathBuf;

use rolecall::manifest::{self, Severity};
use rolecall::model::{InstanceSelector, PolicyDocument};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn sample_stack_becomes_the_model() {
    let loaded = manifest::load(&[root().join("manifests")], &root()).unwrap();
    let desired = &loaded.desired;
    assert_eq!(loaded.files, 6);
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(desired.stack, "web-prod");
    assert_eq!(desired.stack_tags.get("cost-center").unwrap(), "0042");
    assert_eq!(
        desired.roles.keys().collect::<Vec<_>>(),
        ["batch-worker", "ci-runner", "log-shipper", "web-server"]
    );

    let web = &desired.roles["web-server"];
    assert_eq!(web.path, "/apps/");
    assert_eq!(web.max_session_duration, 3600, "default");
    assert!(web.trust.trusts_service("ec2.amazonaws.com"));
    assert_eq!(web.tags.get("team").unwrap(), "web");
    assert_eq!(
        web.tags.get("owner").unwrap(),
        "platform-team",
        "stack tag merged under"
    );

    let batch = &desired.roles["batch-worker"];
    assert_eq!(
        batch.tags.get("owner").unwrap(),
        "data-team",
        "resource tag wins"
    );
    assert_eq!(batch.max_session_duration, 14400);
    let logs = batch.inline_policies.get("write-logs").unwrap();
    let from_file =
        std::fs::read_to_string(root().join("manifests/policies/write-logs.json")).unwrap();
    assert_eq!(logs, &PolicyDocument::parse(&from_file).unwrap());

    let ci = &desired.roles["ci-runner"];
    assert_eq!(
        ci.permissions_boundary.as_deref(),
        Some("arn:aws:iam::aws:policy/PowerUserAccess")
    );
    let log_shipper = &desired.roles["log-shipper"];
    assert_eq!(log_shipper.path, "/");
    assert_eq!(
        log_shipper.description,
        "Lambda forwarding CloudWatch Logs subscriptions to the SIEM"
    );

    assert_eq!(
        desired.profiles["web-server"].role.as_deref(),
        Some("web-server")
    );
    assert_eq!(desired.instances.len(), 7);
    assert_eq!(
        desired.instances[0].selector,
        InstanceSelector::Name("batch-1".into())
    );
    assert_eq!(
        desired.instances[0].profile.as_deref(),
        Some("batch-worker")
    );

    let location = &desired.locations["role/web-server"];
    assert_eq!(
        (&*location.file, location.line, location.column),
        (
            root()
                .join("manifests/web.yaml")
                .display()
                .to_string()
                .as_str(),
            6,
            7
        )
    );
    assert!(desired.locations.contains_key("instance-profile/ci-runner"));
    // One policy, shared by two roles that name it.
    assert_eq!(desired.policies["read-app-config"].path, "/apps/");
    assert_eq!(
        desired.policies["read-app-config"]
            .tags
            .get("owner")
            .unwrap(),
        "platform-team",
        "stack tag merged under"
    );
    for role in ["web-server", "batch-worker"] {
        assert!(
            desired.roles[role]
                .managed_policies
                .contains("read-app-config")
        );
    }
    assert!(desired.locations.contains_key("policy/read-app-config"));
    assert!(desired.locations.contains_key("instance/web-3"));
}

#[test]
fn role_tag_keys_merge_ignoring_case_profile_keys_do_not() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.yaml"),
        "kind: Stack\ntags: {Owner: platform}\n---\nkind: Role\nname: r\ntrust: ec2\ntags: {owner: web}\n---\nkind: InstanceProfile\nname: p\ntags: {owner: web}\n---\nkind: Instance\nid: i-01234567\nprofile: null\n",
    )
    .unwrap();
    let loaded = manifest::load(&[dir.path().to_path_buf()], dir.path()).unwrap();
    let desired = loaded.desired;
    assert_eq!(desired.stack, "default");
    assert_eq!(desired.roles["r"].tags.len(), 1);
    assert_eq!(desired.roles["r"].tags.get("owner").unwrap(), "web");
    assert_eq!(desired.profiles["p"].tags.len(), 2);
    assert_eq!(desired.instances[0].profile, None);
    assert!(desired.locations.contains_key("instance/i-01234567"));
}

#[test]
fn errors_come_back_all_together_in_order() {
    let fixture = root().join("tests/fixtures/manifest/ten-mistakes.yaml");
    let diagnostics = manifest::load(&[fixture], &root()).unwrap_err();
    assert_eq!(diagnostics.error_count(), 10);
    let lines: Vec<usize> = diagnostics
        .0
        .iter()
        .map(|d| d.location.as_ref().unwrap().line)
        .collect();
    assert!(lines.is_sorted());
    assert!(diagnostics.0.iter().all(|d| d.severity == Severity::Error));
    assert!(
        diagnostics
            .to_string()
            .contains("help: did you mean `max_session_duration`?")
    );
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/manifest").join(name)
}

#[test]
fn unquoted_scalars_keep_their_text() {
    let loaded = manifest::load(&[fixture("unquoted-scalars.yaml")], &root()).unwrap();
    let desired = loaded.desired;
    let role = &desired.roles["no"];
    assert_eq!(role.max_session_duration, 7200, "numbers stay numbers");
    assert_eq!(role.description, ".inf");
    assert_eq!(role.inline_policies.keys().collect::<Vec<_>>(), ["y"]);
    let tags: Vec<(&str, &str)> = role
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        tags,
        [
            (".nan", "key"),
            ("b", "+1"),
            ("e", "NO"),
            ("enabled", "yes"),
            ("g", "0b101"),
            ("hex", "0x1F"),
            ("inf", ".inf"),
            ("nan", ".NaN"),
            ("neg-inf", "-.Inf"),
            ("off", "on"),
            ("overflow", "1e999"),
            ("plus-inf", "+.INF"),
            ("quoted-int", "31"),
            ("tagged-float", "3.0"),
            ("tagged-int", "31"),
            ("version", "1.10"),
            ("zip", "0042"),
        ]
    );
    let profile = &desired.profiles["1e3"];
    assert_eq!(profile.role.as_deref(), Some("no"));
    assert_eq!(profile.tags.get("true").unwrap(), "false");
    assert_eq!(profile.tags.get("7").unwrap(), "0o17");
}

/// Permissions policies are held as their text (checked first), trust
/// policies as trees (read role by role), and a file's documents of one
/// text are one document.
#[test]
fn permissions_policies_are_held_as_text_and_trust_policies_as_trees() {
    let dir = tempfile::tempdir().unwrap();
    let trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;
    let read = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#;
    std::fs::write(
        dir.path().join("m.yaml"),
        format!(
            "kind: Role\nname: a\ntrust: '{trust}'\ninline_policies:\n  read: '{read}'\n---\nkind: Role\nname: b\ntrust: '{trust}'\ninline_policies:\n  read: '{read}'\n"
        ),
    )
    .unwrap();
    let loaded = manifest::load(&[dir.path().to_path_buf()], dir.path()).unwrap();
    let (a, b) = (&loaded.desired.roles["a"], &loaded.desired.roles["b"]);
    let read = |role: &rolecall::model::Role| role.inline_policies.values().next().unwrap().clone();
    assert!(!a.trust.is_text_only());
    assert!(a.trust.is_shared_with(&b.trust));
    assert!(read(a).is_text_only());
    assert!(read(a).is_shared_with(&read(b)));
    assert_eq!(read(a).grammar_problem(false), None);
    assert_eq!(read(a), PolicyDocument::parse(read(a).json_text()).unwrap());
}

#[test]
fn trust_as_a_service_json_text_or_file() {
    let loaded = manifest::load(&[fixture("trust-forms.yaml")], &root()).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let desired = loaded.desired;
    let trusts = |role: &str, service: &str| desired.roles[role].trust.trusts_service(service);
    assert!(trusts("tasks", "ecs-tasks.amazonaws.com"));
    assert!(trusts("json-text", "ec2.amazonaws.com"));
    assert!(trusts("from-file", "lambda.amazonaws.com"));
    assert!(!trusts("from-file", "ec2.amazonaws.com"));
}

#[test]
fn managed_policies_become_the_model_with_their_places() {
    let loaded = manifest::load(&[fixture("managed-policy-forms.yaml")], &root()).unwrap();
    let desired = &loaded.desired;
    assert_eq!(
        desired.policies.keys().collect::<Vec<_>>(),
        ["2024", "read-app-config", "read-buckets", "write-results"]
    );

    let config = &desired.policies["read-app-config"];
    assert_eq!(config.path, "/apps/");
    assert_eq!(config.description, "Read the application's parameters");
    // The stack's `owner` and the policy's `Owner` are two keys: IAM keeps
    // a policy's tag keys case-sensitive, as a profile's (a role's ignore
    // case).
    assert_eq!(
        config.tags.iter().collect::<Vec<_>>(),
        [
            (&"Owner".to_string(), &"web-team".to_string()),
            (&"owner".to_string(), &"platform".to_string())
        ]
    );
    assert_eq!(
        config.document,
        PolicyDocument::parse(
            r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                "Action": ["ssm:GetParametersByPath", "ssm:GetParameter"],
                "Resource": "arn:aws:ssm:*:*:parameter/app/*"}}"#
        )
        .unwrap()
    );
    let results = &desired.policies["write-results"];
    assert_eq!(
        (results.path.as_str(), results.description.as_str()),
        ("/", "")
    );
    assert_eq!(
        results.tags.get("owner").unwrap(),
        "platform",
        "stack tags merged under"
    );
    let from_file = std::fs::read_to_string(fixture("policies/managed-pretty-6144.json")).unwrap();
    assert_eq!(
        desired.policies["read-buckets"].document,
        PolicyDocument::parse(&from_file).unwrap()
    );
    // An unquoted number is a name as written.
    assert_eq!(desired.policies["2024"].description, "2024");

    // A role keeps names as names: the account they are created in gives
    // their ARNs when a plan resolves them.
    let web = &desired.roles["web"];
    assert!(web.managed_policies.contains("read-app-config"));
    assert!(web.managed_policies.contains("2024"));
    assert!(
        web.managed_policies
            .contains("arn:aws:iam::123456789012:policy/write-results")
    );

    let location = &desired.locations["policy/read-app-config"];
    assert_eq!(
        (location.line, location.column),
        (11, 7),
        "at the policy's name"
    );
    assert!(desired.locations.contains_key("policy/2024"));
}
