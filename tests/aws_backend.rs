//! The AWS backend (`--cloud aws`) through a stack's whole life cycle, run
//! by the real binary against `rolecall serve` on loopback, with the AWS
//! CLI's environment (endpoint, region, keys) and nothing else; and the
//! same life cycle in process (`--account`) on a second account. Every step
//! must exit the same and print the same, and both accounts must end the
//! same, ids and dates aside.
//!
//! The life cycle: instances made beforehand by another tool (tagged for
//! the stack at launch), apply, plan shows no changes, a change made outside
//! git found by drift and undone by apply, a hand-made role adopted by
//! import, a customer-managed policy created and attached, its new default
//! version made outside git found and undone, a hand-made policy adopted,
//! destroy leaving nothing owned and every instance running.

mod support;

use std::path::{Path, PathBuf};

use rolecall::aws::{AwsClient, Credentials};
use rolecall::cloud::ec2::{DescribeInstancesRequest, RunInstancesRequest, TagSpecification};
use rolecall::cloud::iam::*;
use rolecall::cloud::{Call, Cloud, CloudError};
use rolecall::emulator::Emulator;
use serde_json::Value;
use support::masking::Masker;
use support::moto::{self, Moto};
use support::served::Served;

const STACK: &str = "web-prod";
/// The instances the sample stack declares.
const INSTANCES: &[&str] = &[
    "web-1",
    "web-2",
    "web-3",
    "batch-1",
    "batch-2",
    "ci-runner-1",
    "ci-runner-2",
];
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// A copy of the sample stack to run rolecall in, and how it reaches its
/// account.
struct Side {
    dir: tempfile::TempDir,
    /// Arguments before the command: `--cloud aws`, or `--account FILE`.
    global: Vec<String>,
    /// The environment rolecall runs with, beyond the cleared AWS settings.
    env: Vec<(String, String)>,
}

/// What one step printed and how it exited.
#[derive(Debug, PartialEq, Eq)]
struct Step {
    command: String,
    code: i32,
    stdout: String,
}

impl Side {
    fn new(global: Vec<String>, env: Vec<(String, String)>) -> Side {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests"),
            &dir.path().join("manifests"),
        );
        Side { dir, global, env }
    }

    /// The AWS backend against `endpoint`, with only the AWS CLI's
    /// variables naming it: no config file, no instance metadata, no profile.
    fn aws(endpoint: &str, keys: Credentials) -> Side {
        Side::new(
            vec!["--cloud".into(), "aws".into()],
            vec![
                ("AWS_ENDPOINT_URL".into(), endpoint.into()),
                ("AWS_REGION".into(), "us-east-1".into()),
                ("AWS_ACCESS_KEY_ID".into(), keys.access_key_id),
                ("AWS_SECRET_ACCESS_KEY".into(), keys.secret_access_key),
            ],
        )
    }

    /// The emulated account in `file`, in process.
    fn emulated(file: &Path) -> Side {
        Side::new(
            vec!["--account".into(), file.display().to_string()],
            Vec::new(),
        )
    }

    fn run(&self, args: &[&str]) -> Step {
        self.run_with_stderr(args).2
    }

    /// rolecall with `args`, in this side's directory and environment.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let home = self.dir.path().join("home");
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("rolecall"));
        command
            .current_dir(self.dir.path())
            .args(&self.global)
            .args(args)
            // Nothing of the machine's own AWS setup may leak in.
            .env("HOME", &home)
            .env("AWS_CONFIG_FILE", home.join("no-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("NO_COLOR", "1")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_DEFAULT_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("ROLECALL_CLOUD")
            .env_remove("ROLECALL_ACCOUNT");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    /// Runs rolecall: its exit code, its stderr, and the step.
    fn run_with_stderr(&self, args: &[&str]) -> (i32, String, Step) {
        let mut command = self.command(args);
        let output = command.output().unwrap();
        let step = Step {
            command: args.join(" "),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
        };
        let stderr = String::from_utf8(output.stderr).unwrap();
        eprintln!(
            "$ rolecall {} {}\n{}{}",
            self.global.join(" "),
            step.command,
            step.stdout,
            stderr
        );
        (step.code, stderr, step)
    }

    fn add_manifest(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join("manifests").join(name), text).unwrap();
    }
}

/// `text` with the lines naming instances in order of those lines: rolecall
/// lists instances by id, which differ between the two accounts.
fn by_instance_name(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let slots: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("instance/<i-"))
        .collect();
    let mut named: Vec<&str> = slots.iter().map(|&i| lines[i]).collect();
    named.sort_by_key(|line| line.split_once(" (").map(|(_, name)| name));
    for (slot, line) in slots.into_iter().zip(named) {
        lines[slot] = line;
    }
    lines.join("\n")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Another tool on the same account (boto3 on AWS): makes one call.
type OtherTool<'a> = &'a dyn Fn(&Call) -> Result<Value, CloudError>;

/// The steps of the life cycle on `side`, whose account `other` changes
/// behind rolecall's back. `image` is the AMI instances are launched from.
/// Launches the sample stack's instances with another tool: rolecall
/// never launches one on AWS.
fn launch_instances(other: OtherTool, image: Option<&str>) {
    for name in INSTANCES {
        other(&Call::RunInstances(Box::new(RunInstancesRequest {
            image_id: image.map(str::to_string),
            instance_type: image.map(|_| "t3.micro".to_string()),
            min_count: 1,
            max_count: 1,
            iam_instance_profile: None,
            tag_specifications: vec![TagSpecification {
                resource_type: "instance".into(),
                tags: vec![Tag::new("Name", *name), Tag::new("rolecall:stack", STACK)],
            }],
        })))
        .unwrap_or_else(|error| panic!("RunInstances: {error}"));
    }
}

fn life_cycle(side: &Side, other: OtherTool, image: Option<&str>) -> Vec<Step> {
    let call =
        |call: Call| other(&call).unwrap_or_else(|error| panic!("{}: {error}", call.operation()));
    launch_instances(other, image);
    let mut steps = vec![
        side.run(&["apply", "--auto-approve"]),
        side.run(&["plan", "--detailed-exitcode"]),
    ];

    // Changed outside git: a tag overwritten, a managed policy detached.
    call(Call::TagRole(TagRoleRequest {
        role_name: "web-server".into(),
        tags: vec![Tag::new("team", "someone-else")],
    }));
    call(Call::DetachRolePolicy(AttachRolePolicyRequest {
        role_name: "web-server".into(),
        policy_arn: "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy".into(),
    }));
    steps.push(side.run(&["drift"]));
    steps.push(side.run(&["apply", "--auto-approve"]));
    steps.push(side.run(&["drift"]));

    // Made by hand, then declared and adopted.
    call(Call::CreateRole(Box::new(CreateRoleRequest {
        role_name: "hand-made".into(),
        assume_role_policy_document: TRUST.into(),
        ..Default::default()
    })));
    side.add_manifest(
        "hand-made.yaml",
        "kind: Role\nname: hand-made\ntrust: ec2\ntags:\n  team: ops\n",
    );
    steps.push(side.run(&["plan"]));
    steps.push(side.run(&["import", "role/hand-made"]));
    steps.push(side.run(&["apply", "--auto-approve"]));
    steps.push(side.run(&["plan", "--detailed-exitcode"]));

    // A customer-managed policy, created and attached by name; a new
    // default version made by hand, found by drift and undone by apply.
    side.add_manifest("app.yaml", APP_WITH_POLICY);
    steps.push(side.run(&["apply", "--auto-approve"]));
    steps.push(side.run(&["plan", "--detailed-exitcode"]));
    let listed = call(Call::ListPolicies(Box::new(ListPoliciesRequest {
        scope: Some("Local".into()),
        ..Default::default()
    })));
    let arn = listed["Policies"][0]["Arn"].as_str().unwrap().to_string();
    call(Call::CreatePolicyVersion(CreatePolicyVersionRequest {
        policy_arn: arn,
        policy_document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#.into(),
        set_as_default: Some(true),
    }));
    steps.push(side.run(&["drift"]));
    steps.push(side.run(&["apply", "--auto-approve"]));
    steps.push(side.run(&["plan", "--detailed-exitcode"]));

    // A policy made by hand, then declared and adopted.
    call(Call::CreatePolicy(Box::new(CreatePolicyRequest {
        policy_name: "hand-policy".into(),
        policy_document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}]}"#.into(),
        ..Default::default()
    })));
    side.add_manifest(
        "hand-policy.yaml",
        "kind: ManagedPolicy\nname: hand-policy\ndocument: {Version: \"2012-10-17\", Statement: [{Effect: Allow, Action: sqs:SendMessage, Resource: \"*\"}]}\n",
    );
    steps.push(side.run(&["import", "policy/hand-policy"]));
    steps.push(side.run(&["apply", "--auto-approve"]));
    steps.push(side.run(&["plan", "--detailed-exitcode"]));

    steps.push(side.run(&["destroy", "--auto-approve"]));
    steps
}

/// A role attaching a customer-managed policy the stack declares, by name.
const APP_WITH_POLICY: &str = "kind: ManagedPolicy
name: app-read
description: Reads the app's bucket
document: {Version: \"2012-10-17\", Statement: [{Effect: Allow, Action: s3:GetObject, Resource: \"arn:aws:s3:::app/*\"}]}
---
kind: Role
name: app
trust: ec2
managed_policies: [app-read]
";

/// The exit codes of the life cycle's steps: no changes after apply, drift
/// found, none after apply, the hand-made role refused until imported; the
/// policy's new default version found as drift, none after apply.
fn check_codes(steps: &[Step]) {
    let codes: Vec<i32> = steps.iter().map(|step| step.code).collect();
    assert_eq!(
        codes,
        [0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0],
        "{steps:#?}"
    );
    assert!(steps[2].stdout.contains("role/web-server"), "{steps:#?}");
    assert!(steps[11].stdout.contains("policy/app-read"), "{steps:#?}");
}

#[test]
fn the_life_cycle_through_the_aws_backend_matches_the_emulator_in_process() {
    let served = Served::start();
    let through_aws = Side::aws(&served.endpoint(), served.credentials());
    let lab = served.emulator();
    let aws_steps = life_cycle(&through_aws, &|call| call.invoke(&lab), None);

    let local_dir = tempfile::tempdir().unwrap();
    let local_file = local_dir.path().join("account.db");
    let local = Emulator::open(&local_file).unwrap();
    let in_process = Side::emulated(&local_file);
    let local_steps = life_cycle(&in_process, &|call| call.invoke(&local), None);

    check_codes(&aws_steps);

    // The emulated account keeps an audit trail, so its drift names who
    // made each change; an AWS account's trail (CloudTrail) is outside
    // rolecall. Apart from those lines, every step printed the same, ids
    // aside (each side's own ids map to the same placeholders if they
    // appear in the same places).
    assert!(
        local_steps[2].stdout.contains(": changed by arn:aws:iam::"),
        "{local_steps:#?}"
    );
    let without_attribution = |text: &str| {
        text.split_inclusive('\n')
            .filter(|line| !line.contains(": changed by arn:"))
            .collect::<String>()
    };
    let (mut aws_masker, mut local_masker) = (Masker::default(), Masker::default());
    for (aws, local) in aws_steps.iter().zip(&local_steps) {
        assert_eq!(
            (aws.code, by_instance_name(&aws_masker.mask(&aws.stdout))),
            (
                local.code,
                by_instance_name(&local_masker.mask(&without_attribution(&local.stdout)))
            ),
            "`{}` differs between --cloud aws and in process",
            aws.command
        );
    }

    // Both accounts end the same: nothing owned, every instance running.
    let (aws_end, local_end) = (served.emulator().export().unwrap(), local.export().unwrap());
    let masked = |masker: &mut Masker, export| {
        let mut value = serde_json::to_value(export).unwrap();
        // The export lists instances by id: by name instead, as above.
        if let Some(instances) = value["instances"].as_array_mut() {
            instances.sort_by_key(|instance| instance["tags"]["Name"].to_string());
        }
        masker.mask_value(&mut value);
        serde_json::to_string_pretty(&value).unwrap()
    };
    assert_eq!(
        masked(&mut aws_masker, &aws_end),
        masked(&mut local_masker, &local_end)
    );
    let snapshot = served.emulator().snapshot().unwrap();
    assert!(
        snapshot
            .roles
            .values()
            .all(|role| !role.role.tags.contains_key("rolecall:stack")),
        "{snapshot:#?}"
    );
    assert_eq!(snapshot.instances.len(), INSTANCES.len());
}

/// rolecall with `args` in a copy of the sample stack, the machine's AWS
/// settings cleared and `env` set: exit code and stderr.
fn refused(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let env = env
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    let side = Side::new(Vec::new(), env);
    let (code, stderr, _) = side.run_with_stderr(args);
    let entries: Vec<_> = std::fs::read_dir(side.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(entries, ["manifests"], "nothing may be written: {args:?}");
    (code, stderr)
}

#[test]
fn choosing_the_cloud_refuses_what_does_not_fit_with_it() {
    /// Arguments, environment, what stderr must say.
    type Case = (
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
        &'static str,
    );
    let cases: &[Case] = &[
        (
            &["--cloud", "aws", "--account", "x.db", "plan"],
            &[],
            "--account names an emulated account file: it cannot be used with --cloud aws",
        ),
        (
            &["--profile", "prod", "plan"],
            &[],
            "--profile names an AWS CLI profile: it needs --cloud aws",
        ),
        (
            &["plan"],
            &[("ROLECALL_CLOUD", "gcp")],
            "ROLECALL_CLOUD=\"gcp\" is not a cloud: use emulator or aws",
        ),
        (
            &["--lock-bucket", "locks", "apply"],
            &[],
            "--lock-bucket locks an AWS account: it needs --cloud aws",
        ),
        (
            &["--max-rate", "5", "plan"],
            &[],
            "--max-rate paces calls to AWS: it needs --cloud aws",
        ),
        (
            &["--cloud", "aws", "--lock-bucket", "s3://locks/x", "apply"],
            &[],
            "--lock-bucket takes a bucket name, not a URL: --lock-bucket locks",
        ),
        (
            &["--cloud", "aws", "plan"],
            &[("ROLECALL_LOCK_BUCKET", "Locks_Bucket")],
            "--lock-bucket \"Locks_Bucket\" is not an S3 bucket name",
        ),
        (
            &["--cloud", "aws", "emulator", "list-roles"],
            &[],
            "`rolecall emulator` acts on the emulated account, not on --cloud aws",
        ),
        (
            &["serve"],
            &[("ROLECALL_CLOUD", "aws")],
            "`rolecall serve` acts on the emulated account, not on --cloud aws",
        ),
        (
            &["--cloud", "aws", "plan"],
            &[
                ("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "x"),
            ],
            "no AWS region is configured: set AWS_REGION, or `region` in ~/.aws/config",
        ),
        (
            &["--cloud", "aws", "--profile", "prod", "plan"],
            &[("AWS_REGION", "eu-west-1")],
            "no AWS credentials for profile \"prod\": the AWS CLI's sources were tried in order",
        ),
    ];
    for (args, env, message) in cases {
        let (code, stderr) = refused(args, env);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

/// The same life cycle against moto, the AWS-compatible server CI can run:
/// the AWS backend's answers decoded from another implementation than
/// rolecall's own. Instances are launched by another client first, and
/// none is ever terminated.
#[test]
fn the_life_cycle_through_the_aws_backend_runs_against_moto() {
    let moto = Moto::start();
    let keys = moto::credentials();
    let other = AwsClient::new(&moto.endpoint(), "us-east-1", keys.clone());
    let side = Side::aws(&moto.endpoint(), keys);
    // moto's own stock AMI (moto/ec2/resources/amis.json).
    let steps = life_cycle(&side, &|call| other.call(call), Some("ami-12c6146b"));
    check_codes(&steps);

    let left = other
        .describe_instances(&DescribeInstancesRequest::default())
        .unwrap();
    let running = serde_json::to_string(&left).unwrap();
    assert_eq!(
        running.matches("\"running\"").count(),
        INSTANCES.len(),
        "{running}"
    );
    let roles = other.list_roles(&ListRolesRequest::default()).unwrap();
    assert!(roles.roles.is_empty(), "destroy leaves no role: {roles:#?}");
}

/// A stack that names its account is never planned or applied on another:
/// a pipeline holding the wrong account's credentials stops before any
/// call that writes, naming the manifest's line.
#[test]
fn a_stack_is_refused_on_an_account_other_than_its_own() {
    let served = Served::start();
    let side = Side::aws(&served.endpoint(), served.credentials());
    let lab = served.emulator();
    for name in INSTANCES {
        Call::RunInstances(Box::new(RunInstancesRequest {
            image_id: None,
            instance_type: None,
            min_count: 1,
            max_count: 1,
            iam_instance_profile: None,
            tag_specifications: vec![TagSpecification {
                resource_type: "instance".into(),
                tags: vec![Tag::new("Name", *name), Tag::new("rolecall:stack", STACK)],
            }],
        }))
        .invoke(&lab)
        .unwrap();
    }
    let stack = std::fs::read_to_string(side.dir.path().join("manifests/stack.yaml")).unwrap();
    let lines = stack.lines().count();
    let declaring = |account: &str| {
        side.add_manifest("stack.yaml", &format!("{stack}account_id: \"{account}\"\n"));
    };

    declaring("111111111111");
    for command in [
        &["plan"][..],
        &["apply", "--auto-approve"],
        &["destroy", "--auto-approve"],
        &["import", "--all-declared"],
        &["drift"],
    ] {
        let output = side.run_with_stderr(command);
        assert_eq!(output.0, 1, "{command:?}: {}", output.1);
        assert!(
            output.1.contains(&format!(
                "manifests/stack.yaml:{}:13: stack: stack `web-prod` belongs to account 111111111111, but these credentials reach account 123456789012",
                lines + 1
            )),
            "{command:?}: {}",
            output.1
        );
    }
    assert!(
        lab.snapshot().unwrap().roles.is_empty(),
        "nothing was written"
    );

    declaring("123456789012");
    let (code, stderr, _) =
        side.run_with_stderr(&["apply", "--auto-approve", "--parallelism", "3"]);
    assert_eq!(code, 0, "{stderr}");
    // No lock is taken on AWS, and the user is told.
    assert!(
        stderr.contains("note: rolecall takes no lock on an AWS account"),
        "{stderr}"
    );
    assert_eq!(side.run(&["plan", "--detailed-exitcode"]).code, 0);

    // A saved plan runs through the AWS backend exactly as shown.
    Call::UntagRole(UntagRoleRequest {
        role_name: "web-server".into(),
        tag_keys: vec!["team".into()],
    })
    .invoke(&lab)
    .unwrap();
    assert_eq!(side.run(&["plan", "--out", "plan.json"]).code, 0);
    assert_eq!(side.run(&["apply", "plan.json"]).code, 0);
    assert_eq!(side.run(&["plan", "--detailed-exitcode"]).code, 0);
}

/// With `--lock-bucket`, an apply takes the account's lock object in S3
/// (a conditional put) and deletes it when done; another apply holding it
/// is named, and waited for with `--lock-timeout`. moto implements S3's
/// `If-None-Match: *` and `If-Match` on delete.
#[test]
fn applies_on_aws_lock_the_account_with_an_object_in_the_lock_bucket() {
    let moto = Moto::start();
    let keys = moto::credentials();
    let other = AwsClient::new(&moto.endpoint(), "us-east-1", keys.clone());
    let side = Side::aws(&moto.endpoint(), keys);
    launch_instances(&|call| other.call(call), Some("ami-12c6146b"));
    let lock = "/locks/rolecall/123456789012.lock";

    // No such bucket: refused before anything is written.
    let (code, stderr, _) =
        side.run_with_stderr(&["--lock-bucket", "locks", "apply", "--auto-approve"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("lock s3://locks/rolecall/123456789012.lock: NoSuchBucket")
            && stderr.contains("(create the bucket, or name another with --lock-bucket)"),
        "{stderr}"
    );
    assert_eq!(moto.s3("PUT", "/locks", "").0, 200);

    // Held by a run on another machine: named, and nothing is written.
    let holder = r#"{"holder":"pid 7 on ci-runner-9, `rolecall apply`, started 2026-12-03T10:00:00Z, as arn:aws:sts::123456789012:assumed-role/deploy/gha","taken":"2026-12-03T10:00:01Z"}"#;
    assert_eq!(moto.s3("PUT", lock, holder).0, 200);
    let (code, stderr, _) =
        side.run_with_stderr(&["--lock-bucket", "locks", "apply", "--auto-approve"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the account is locked by another rolecall (pid 7 on ci-runner-9, `rolecall apply`, started 2026-12-03T10:00:00Z, as arn:aws:sts::123456789012:assumed-role/deploy/gha, taken 2026-12-03T10:00:01Z)")
            && stderr.contains("aws s3 rm s3://locks/rolecall/123456789012.lock"),
        "{stderr}"
    );
    let roles = other.list_roles(&ListRolesRequest::default()).unwrap();
    assert!(roles.roles.is_empty(), "nothing written: {roles:#?}");

    // Released while this one waits: it takes the lock, applies, and
    // deletes the lock object.
    std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            assert_eq!(moto.s3("DELETE", lock, "").0, 204);
        });
        let (code, stderr, _) = side.run_with_stderr(&[
            "--lock-bucket",
            "locks",
            "apply",
            "--auto-approve",
            "--lock-timeout",
            "60s",
        ]);
        assert_eq!(code, 0, "{stderr}");
        assert!(!stderr.contains("takes no lock"), "{stderr}");
    });
    assert_eq!(moto.s3("GET", lock, "").0, 404, "the lock is released");
    assert_eq!(
        side.run(&["--lock-bucket", "locks", "plan", "--detailed-exitcode"])
            .code,
        0
    );

    // rolecall's own lock object names its holder to the next rolecall,
    // and only that object is deleted on release.
    let held = other
        .lock_account(
            "locks",
            "`rolecall destroy` in this test",
            std::time::Duration::ZERO,
        )
        .unwrap();
    let (code, stderr, _) =
        side.run_with_stderr(&["--lock-bucket", "locks", "destroy", "--auto-approve"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("locked by another rolecall (`rolecall destroy` in this test, as arn:aws:sts::123456789012:user/moto, taken 20"),
        "{stderr}"
    );
    assert_eq!(moto.s3("GET", lock, "").0, 200);
    drop(held);
    assert_eq!(moto.s3("GET", lock, "").0, 404, "released on drop");
}

/// AWS throttling slows every call of the run down (the client-side rate
/// limit), and the apply still converges: the endpoint throttles a tenth
/// of the calls, as the emulator's faults let it.
#[test]
fn throttling_paces_the_aws_backend_and_the_apply_converges() {
    let served = Served::start();
    let side = Side::aws(&served.endpoint(), served.credentials());
    launch_instances(&|call| call.invoke(&served.emulator()), None);
    served
        .emulator()
        .configure(&rolecall::emulator::Faults {
            throttle_rate: 0.1,
            seed: 11,
            ..Default::default()
        })
        .unwrap();
    let (code, stderr, _) = side.run_with_stderr(&["-vv", "apply", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("throttled: pacing calls at"), "{stderr}");
    served
        .emulator()
        .configure(&rolecall::emulator::Faults::default())
        .unwrap();
    assert_eq!(side.run(&["plan", "--detailed-exitcode"]).code, 0);
}

/// GitHub Actions' way in: no keys, a web identity token and a role to
/// assume with it (AssumeRoleWithWebIdentity at the STS endpoint, moto's
/// here). aws-config's chain does the exchange; a token file that is not
/// there is a clear error, with nothing written.
#[test]
fn web_identity_credentials_reach_the_account_as_in_github_actions() {
    let moto = Moto::start();
    let keys = moto::credentials();
    let other = AwsClient::new(&moto.endpoint(), "us-east-1", keys);
    launch_instances(&|call| other.call(call), Some("ami-12c6146b"));
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    // What GitHub hands a job: a signed JWT (moto checks no signature).
    std::fs::write(
        &token,
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9yZy9yZXBvOnJlZjpyZWZzL2hlYWRzL21haW4ifQ.c2ln",
    )
    .unwrap();
    let env = |token: &Path| {
        vec![
            ("AWS_ENDPOINT_URL".into(), moto.endpoint()),
            ("AWS_REGION".into(), "us-east-1".into()),
            (
                "AWS_WEB_IDENTITY_TOKEN_FILE".into(),
                token.display().to_string(),
            ),
            (
                "AWS_ROLE_ARN".into(),
                "arn:aws:iam::123456789012:role/gha-deploy".into(),
            ),
            ("AWS_ROLE_SESSION_NAME".into(), "gha-run-1".into()),
        ]
    };
    let side = Side::new(vec!["--cloud".into(), "aws".into()], env(&token));
    let (code, stderr, _) = side.run_with_stderr(&["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(side.run(&["plan", "--detailed-exitcode"]).code, 0);

    let missing = Side::new(
        vec!["--cloud".into(), "aws".into()],
        env(&dir.path().join("no-token")),
    );
    let (code, stderr, _) = missing.run_with_stderr(&["plan"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("no AWS credentials")
            && stderr.contains("(AWS_WEB_IDENTITY_TOKEN_FILE names ")
            && stderr.contains("no-token, which cannot be read)"),
        "{stderr}"
    );
}

/// Cancelled before apply starts (a CI job cancelled while rolecall reads
/// the account): the lock object is given back, and the run ends with 130.
/// `--max-rate 1` makes the read last seconds.
#[test]
fn a_run_cancelled_while_reading_gives_the_lock_back() {
    let moto = Moto::start();
    let keys = moto::credentials();
    let other = AwsClient::new(&moto.endpoint(), "us-east-1", keys.clone());
    launch_instances(&|call| other.call(call), Some("ami-12c6146b"));
    let side = Side::aws(&moto.endpoint(), keys);
    assert_eq!(moto.s3("PUT", "/locks", "").0, 200);
    let lock = "/locks/rolecall/123456789012.lock";
    let mut child = side
        .command(&[
            "--lock-bucket",
            "locks",
            "--max-rate",
            "1",
            "apply",
            "--auto-approve",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the lock is taken, then cancel.
    let started = std::time::Instant::now();
    while moto.s3("GET", lock, "").0 != 200 {
        assert!(started.elapsed().as_secs() < 30, "the lock was never taken");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid, with a valid signal.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(moto.s3("GET", lock, "").0, 404, "the lock was given back");
    let roles = other.list_roles(&ListRolesRequest::default()).unwrap();
    assert!(roles.roles.is_empty(), "nothing was applied: {roles:#?}");
}
