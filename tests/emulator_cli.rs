//! The `rolecall emulator` command line: AWS CLI-shaped operations, output and
//! error line, export/import, and durability under SIGKILL.

use std::io::{BufRead, BufReader};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use rolecall::cloud::Cloud;
use rolecall::emulator::Emulator;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

fn rolecall(dir: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("rolecall").unwrap();
    cmd.current_dir(dir)
        .env_remove("ROLECALL_ACCOUNT")
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn operations_print_aws_json_and_errors_print_the_aws_cli_line() {
    let dir = tempfile::tempdir().unwrap();
    rolecall(dir.path())
        .args([
            "emulator",
            "create-role",
            "--role-name",
            "web",
            "--assume-role-policy-document",
            TRUST,
        ])
        .args(["--tags", "Key=team,Value=web"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"RoleName\": \"web\""))
        .stdout(predicate::str::contains(
            "\"Arn\": \"arn:aws:iam::123456789012:role/web\"",
        ));
    assert!(dir.path().join(".rolecall/account.db").exists());

    rolecall(dir.path())
        .args(["emulator", "create-role", "--role-name", "Web", "--assume-role-policy-document", TRUST])
        .assert()
        .code(1)
        .stdout("")
        .stderr("An error occurred (EntityAlreadyExists) when calling the CreateRole operation: Role with name Web already exists.\n");

    // Empty responses print nothing.
    rolecall(dir.path())
        .args([
            "emulator",
            "tag-role",
            "--role-name",
            "web",
            "--tags",
            "Key=a,Value=1",
            "Key=b,Value=2",
        ])
        .assert()
        .success()
        .stdout("");
    rolecall(dir.path())
        .args(["emulator", "list-role-tags", "--role-name", "web"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"IsTruncated\": false"))
        .stdout(predicate::str::contains("\"Key\": \"b\""));
}

/// Customer-managed policies from the command line, as the AWS CLI spells
/// the verbs: a document from a file, a bare boolean flag, AWS's errors.
#[test]
fn policy_verbs_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("deploy.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
    )
    .unwrap();
    let policy = "arn:aws:iam::123456789012:policy/ops/deploy";
    rolecall(dir.path())
        .args([
            "emulator",
            "create-policy",
            "--policy-name",
            "deploy",
            "--path",
            "/ops/",
        ])
        .args(["--policy-document", "file://deploy.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("\"Arn\": \"{policy}\"")));
    for set_as_default in [&["--set-as-default"][..], &["--set-as-default", "false"]] {
        rolecall(dir.path())
            .args(["emulator", "create-policy-version", "--policy-arn", policy])
            .args(["--policy-document", "file://deploy.json"])
            .args(set_as_default)
            .assert()
            .success();
    }
    let versions = rolecall(dir.path())
        .args(["emulator", "list-policy-versions", "--policy-arn", policy])
        .output()
        .unwrap();
    let versions: serde_json::Value = serde_json::from_slice(&versions.stdout).unwrap();
    let listed: Vec<(&str, bool)> = versions["Versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["VersionId"].as_str().unwrap(),
                v["IsDefaultVersion"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, [("v3", false), ("v2", true), ("v1", false)]);
    rolecall(dir.path())
        .args(["emulator", "delete-policy-version", "--policy-arn", policy, "--version-id", "v2"])
        .assert()
        .code(1)
        .stderr("An error occurred (DeleteConflict) when calling the DeletePolicyVersion operation: Cannot delete the default version of a policy.\n");
    rolecall(dir.path())
        .args([
            "emulator",
            "list-policies",
            "--scope",
            "Local",
            "--only-attached",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"Policies\": []"));
}

#[test]
fn lab_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("lab.db");
    let run = |args: &[&str]| {
        let out = rolecall(dir.path())
            .arg("--account")
            .arg(&account)
            .arg("emulator")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    std::fs::write(dir.path().join("trust.json"), TRUST).unwrap();
    run(&[
        "--account-id",
        "111122223333",
        "create-role",
        "--role-name",
        "web",
        "--assume-role-policy-document",
        "file://trust.json",
    ]);
    run(&["create-instance-profile", "--instance-profile-name", "web"]);
    run(&[
        "add-role-to-instance-profile",
        "--instance-profile-name",
        "web",
        "--role-name",
        "web",
    ]);
    let launched: serde_json::Value =
        serde_json::from_str(&run(&["run-instances", "--name", "web-1", "--count", "2"])).unwrap();
    let id = launched["Instances"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_string();
    let associated: serde_json::Value = serde_json::from_str(&run(&[
        "associate-iam-instance-profile",
        "--instance-id",
        &id,
        "--iam-instance-profile",
        "Name=web",
    ]))
    .unwrap();
    assert_eq!(
        associated["IamInstanceProfileAssociation"]["State"],
        "associating"
    );
    let described = run(&[
        "describe-iam-instance-profile-associations",
        "--filters",
        &format!("Name=instance-id,Values={id}"),
    ]);
    assert!(described.contains("arn:aws:iam::111122223333:instance-profile/web"));

    run(&["export", "lab.yaml"]);
    let exported = std::fs::read_to_string(dir.path().join("lab.yaml")).unwrap();
    let copy = dir.path().join("copy.db");
    rolecall(dir.path())
        .arg("--account")
        .arg(&copy)
        .args(["emulator", "import", "lab.yaml"])
        .assert()
        .success();
    rolecall(dir.path())
        .arg("--account")
        .arg(&copy)
        .args(["emulator", "export", "-"])
        .assert()
        .success()
        .stdout(exported);
}

#[test]
fn configure_then_errors_are_injected() {
    let dir = tempfile::tempdir().unwrap();
    rolecall(dir.path())
        .args(["emulator", "configure", "--throttle-rate", "1"])
        .assert()
        .success();
    rolecall(dir.path())
        .args(["emulator", "describe-instances"])
        .assert()
        .code(1)
        .stderr("An error occurred (RequestLimitExceeded) when calling the DescribeInstances operation: Request limit exceeded.\n");
    rolecall(dir.path())
        .args(["emulator", "configure", "--reset"])
        .assert()
        .success();
    rolecall(dir.path())
        .args(["emulator", "describe-instances"])
        .assert()
        .success();
    rolecall(dir.path())
        .args(["emulator", "configure", "--throttle-rate", "2"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: "));
}

/// SIGKILL mid-way through thousands of calls: the account opens, passes
/// `PRAGMA integrity_check`, and holds every call that reported success.
#[test]
fn sigkill_loses_no_acknowledged_call() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("account.db");
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("rolecall"))
        .arg("--account")
        .arg(&account)
        .args(["emulator", "stress", "--calls", "200000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut acknowledged = Vec::new();
    let started = Instant::now();
    for line in BufReader::new(stdout).lines() {
        acknowledged.push(line.unwrap());
        // Kill once a fair number of calls are in, or after a while on slow disks.
        if acknowledged.len() >= 3000 || started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    assert!(acknowledged.len() > 10, "the stress loop barely ran");

    let db = rusqlite::Connection::open(&account).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(db);
    let live = Emulator::open(&account).unwrap().snapshot().unwrap();
    for name in &acknowledged {
        assert!(
            live.roles.contains_key(name),
            "{name} was acknowledged but is missing"
        );
    }
    assert!(live.roles.len() >= acknowledged.len());
    assert!(
        live.roles.len() < 200_000,
        "the loop finished before the kill"
    );
    eprintln!(
        "acknowledged {}, present {}",
        acknowledged.len(),
        live.roles.len()
    );
}

/// Creates role `name` in the account in `dir` and returns the account's export.
fn create_role_and_export(dir: &std::path::Path, name: &str) -> Vec<u8> {
    rolecall(dir)
        .args([
            "emulator",
            "create-role",
            "--role-name",
            name,
            "--assume-role-policy-document",
            TRUST,
        ])
        .assert()
        .success();
    rolecall(dir)
        .args(["emulator", "export", "-"])
        .output()
        .unwrap()
        .stdout
}

/// A broken import names the YAML file and the entry, and imports nothing.
#[test]
fn import_errors_name_the_yaml_file_and_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let before = create_role_and_export(dir.path(), "keep");
    let broken = String::from_utf8(before.clone())
        .unwrap()
        .replace("name: keep", "name: bad name");
    std::fs::write(dir.path().join("lab.yaml"), broken).unwrap();
    rolecall(dir.path())
        .args(["emulator", "import", "lab.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "error: lab.yaml: role bad name: ValidationError: 1 validation error detected: Value 'bad name' at 'roleName'",
        ));
    rolecall(dir.path())
        .args(["emulator", "export", "-"])
        .assert()
        .success()
        .stdout(before);
}

/// `main` prints an error with its chain of causes (`{:#}`): each cause must
/// appear once, not also inside the message of the error it caused.
#[test]
fn errors_print_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = rolecall(dir.path())
        .args(["emulator", "import", "missing.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        "error: missing.yaml: No such file or directory (os error 2)\n"
    );

    // SQLite's own error, which rusqlite also chains as a cause: an account
    // cut after its first page reads as an account, then as malformed.
    create_role_and_export(dir.path(), "web");
    let account = std::fs::read(dir.path().join(".rolecall/account.db")).unwrap();
    std::fs::write(dir.path().join("cut.db"), &account[..4096]).unwrap();
    let malformed = rolecall(dir.path())
        .args(["--account", "cut.db", "emulator", "list-roles"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&malformed.stderr);
    assert!(
        stderr.starts_with("error: emulated account cut.db: "),
        "{stderr}"
    );
    assert_eq!(stderr.matches("malformed").count(), 1, "{stderr}");
}

#[test]
fn a_negative_throttle_rate_gets_the_range_message() {
    let dir = tempfile::tempdir().unwrap();
    rolecall(dir.path())
        .args(["emulator", "configure", "--throttle-rate", "-0.1"])
        .assert()
        .code(1)
        .stderr("error: --throttle-rate must be between 0 and 1, got -0.1\n");
}

/// `import -` reads stdin, as `export -` writes stdout.
#[test]
fn import_reads_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let exported = create_role_and_export(dir.path(), "web");
    rolecall(dir.path())
        .args(["--account", "copy.db", "emulator", "import", "-"])
        .write_stdin(exported.clone())
        .assert()
        .success();
    rolecall(dir.path())
        .args(["--account", "copy.db", "emulator", "export", "-"])
        .assert()
        .success()
        .stdout(exported);
    rolecall(dir.path())
        .args(["--account", "copy.db", "emulator", "import", "-"])
        .write_stdin("format_version: 2\naccount_id: '123456789012'\n")
        .assert()
        .code(1)
        .stderr("error: stdin: format_version 2 is not supported (expected 1)\n");
}

/// The hidden stress command goes past the account's quotas without
/// changing them (it is killed mid-way, so it could not restore them).
#[test]
fn stress_leaves_the_account_quotas_alone() {
    let dir = tempfile::tempdir().unwrap();
    rolecall(dir.path())
        .args(["emulator", "configure", "--max-roles", "2"])
        .assert()
        .success();
    rolecall(dir.path())
        .args(["emulator", "stress", "--calls", "3"])
        .assert()
        .success()
        .stdout("stress-0\nstress-1\nstress-2\n");
    rolecall(dir.path())
        .args(["emulator", "configure"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"max_roles\": 2,"));
}

/// Every emulator subcommand (hidden ones too) says what it does, shows an
/// example in its --help, and describes every flag; every example parses.
#[test]
fn every_subcommand_help_has_a_description_an_example_and_flag_help() {
    use clap::{CommandFactory, Parser};
    use rolecall::cli::emulator::SUBCOMMAND_HELP;

    let mut cli = rolecall::cli::Cli::command();
    cli.build();
    let emulator = cli.find_subcommand("emulator").unwrap();
    let names: Vec<&str> = emulator
        .get_subcommands()
        .map(|c| c.get_name())
        .filter(|name| *name != "help")
        .collect();
    let table: Vec<&str> = SUBCOMMAND_HELP.iter().map(|(name, ..)| *name).collect();
    assert_eq!(
        names, table,
        "the help table lists every subcommand, in order"
    );

    let dir = tempfile::tempdir().unwrap();
    for subcommand in emulator
        .get_subcommands()
        .filter(|c| c.get_name() != "help")
    {
        let name = subcommand.get_name();
        assert!(
            subcommand.get_about().is_some(),
            "{name} has no description"
        );
        for arg in subcommand.get_arguments() {
            assert!(
                arg.get_help().is_some(),
                "{name}: --{} has no description",
                arg.get_id()
            );
        }
        let help = rolecall(dir.path())
            .args(["emulator", name, "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8(help.stdout).unwrap();
        assert!(
            help.contains("Example:"),
            "{name} --help shows no example:\n{help}"
        );
    }
    for (name, _, example) in SUBCOMMAND_HELP {
        let args = ["rolecall", "emulator", name]
            .into_iter()
            .chain(example.split_whitespace());
        if let Err(error) = rolecall::cli::Cli::try_parse_from(args) {
            panic!("the example of {name} does not parse: {error}");
        }
    }
}

/// Every numeric `configure` flag takes only what the account file can
/// hold, and shows back exactly what it was given: a delay or call count
/// past i64::MAX is refused, not stored as another number.
#[test]
fn configure_refuses_numbers_the_account_cannot_hold() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["--propagation-delay-ms", "--associating-ms", "--fail-after"] {
        rolecall(dir.path())
            .args(["emulator", "configure", flag, "18446744073709551615"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "18446744073709551615 is not in 0..=9223372036854775807",
            ));
    }
    assert!(!dir.path().join(".rolecall/account.db").exists());
    let largest = [
        ("--propagation-delay-ms", "9223372036854775807"),
        ("--associating-ms", "9223372036854775807"),
        ("--seed", "18446744073709551615"),
        ("--max-roles", "4294967295"),
        ("--max-instance-profiles", "4294967295"),
    ];
    let mut command = rolecall(dir.path());
    command.args(["emulator", "configure"]);
    for (flag, value) in largest {
        command.args([flag, value]);
    }
    command.assert().success();
    let shown = rolecall(dir.path())
        .args(["emulator", "configure"])
        .output()
        .unwrap();
    let settings: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(
        settings["faults"]["propagation_delay_ms"],
        9223372036854775807u64
    );
    assert_eq!(settings["faults"]["associating_ms"], 9223372036854775807u64);
    assert_eq!(settings["faults"]["seed"], u64::MAX);
    assert_eq!(settings["quotas"]["max_roles"], u32::MAX);
    assert_eq!(settings["quotas"]["max_instance_profiles"], u32::MAX);
    // The largest call count is taken too.
    rolecall(dir.path())
        .args([
            "emulator",
            "configure",
            "--fail-after",
            "9223372036854775807",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "pending: 0 of 9223372036854775807 calls made",
        ));
}

/// A YAML error in an export names the file and the place once, without a
/// second `error:` or the quoted lines of the parser's own rendering.
#[test]
fn an_export_that_is_not_yaml_is_one_line_naming_its_place() {
    let dir = tempfile::tempdir().unwrap();
    for (text, expected) in [
        ("{\n", "line 1, column 1: unclosed bracket '{'"),
        (
            "format_version: 1\naccount_id: [x\n",
            "line 2, column 13: expected string scalar",
        ),
    ] {
        std::fs::write(dir.path().join("syn.yaml"), text).unwrap();
        rolecall(dir.path())
            .args(["emulator", "import", "syn.yaml"])
            .assert()
            .code(1)
            .stderr(format!("error: syn.yaml: {expected}\n"));
    }
}

/// `emulator credentials` prints the administrator key for a shell or as
/// JSON, the same key each time, until `--rotate` replaces it.
#[test]
fn credentials_print_the_administrator_key_until_rotated() {
    let dir = tempfile::tempdir().unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        let out = rolecall(dir.path())
            .args(["emulator", "credentials"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let first = json(&["--format", "json"]);
    let id = first["AccessKeyId"].as_str().unwrap().to_string();
    let secret = first["SecretAccessKey"].as_str().unwrap().to_string();
    assert!(id.starts_with("AKIA") && id.len() == 20, "{first}");
    assert_eq!(secret.len(), 40);
    assert_eq!(first.as_object().unwrap().len(), 2, "{first}");

    rolecall(dir.path())
        .args(["emulator", "credentials"])
        .assert()
        .success()
        .stdout(format!(
            "export AWS_ACCESS_KEY_ID={id}\nexport AWS_SECRET_ACCESS_KEY={secret}\n"
        ));

    let rotated = json(&["--format", "json", "--rotate"]);
    assert_ne!(rotated["AccessKeyId"], first["AccessKeyId"]);
    assert_ne!(rotated["SecretAccessKey"], first["SecretAccessKey"]);
    assert_eq!(json(&["--format", "json"]), rotated);
}

/// The secret is printed by `credentials` only: not by an export, not by
/// any other command's output.
#[test]
fn no_other_command_prints_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out = rolecall(dir.path())
        .args(["emulator", "credentials", "--format", "json"])
        .output()
        .unwrap();
    let key: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = key["SecretAccessKey"].as_str().unwrap();
    for args in [
        &["emulator", "export", "-"][..],
        &["emulator", "get-account-summary"],
        &["emulator", "get-caller-identity"],
    ] {
        let out = rolecall(dir.path()).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let all = [out.stdout, out.stderr].concat();
        assert!(
            !String::from_utf8_lossy(&all).contains(secret),
            "{args:?} printed the secret"
        );
    }
}
