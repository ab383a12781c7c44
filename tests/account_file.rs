//! The account file is rolecall's: the real binary refuses other files
//! untouched, reads read-only accounts without writing, refuses to change
//! them once and up front, creates no directory but `.rolecall/`, keeps
//! `emulator import` and `configure` from running beside an apply, and reads
//! an empty `ROLECALL_ACCOUNT` as unset.
//!
//! Unix only: permissions, running as another user, `ulimit`.
#![cfg(unix)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use rolecall::cloud::iam::CreateRoleRequest;
use rolecall::cloud::{Call, Cloud};
use rolecall::emulator::Emulator;

const FIXTURE: &str = "tests/fixtures/stack";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// A directory with the fixture's manifests; the account is `account.db` in it.
struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let manifests = dir.path().join("manifests");
        std::fs::create_dir(&manifests).unwrap();
        for entry in std::fs::read_dir(FIXTURE).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), manifests.join(entry.file_name())).unwrap();
        }
        Lab { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn account(&self) -> PathBuf {
        self.path().join("account.db")
    }

    /// `rolecall --account account.db ARGS`, run in the lab.
    fn run(&self, args: &[&str]) -> Command {
        let mut command = rolecall(self.path());
        command.args(["--account", "account.db"]).args(args);
        command
    }

    /// Adds a role to the manifests, so that apply has something to do.
    fn declare_another_role(&self) {
        let file = self.path().join("manifests/stack.yaml");
        let mut text = std::fs::read_to_string(&file).unwrap();
        text.push_str("---\nkind: Role\nname: extra\ntrust: ec2\n");
        std::fs::write(file, text).unwrap();
    }
}

/// The binary in `dir`, with no account named by the environment.
fn rolecall(dir: &Path) -> Command {
    Command::from_std(std_rolecall(dir))
}

fn std_rolecall(dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("rolecall"));
    command
        .current_dir(dir)
        .env_remove("ROLECALL_ACCOUNT")
        .env("NO_COLOR", "1");
    command
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The names in a directory, sorted: what a command must not add to.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The application id in an SQLite file's header (bytes 68-71).
fn application_id(file: &Path) -> [u8; 4] {
    let bytes = std::fs::read(file).unwrap();
    bytes[68..72].try_into().unwrap()
}

fn create_role_args(name: &str) -> Vec<String> {
    [
        "emulator",
        "create-role",
        "--role-name",
        name,
        "--assume-role-policy-document",
        TRUST,
    ]
    .map(String::from)
    .to_vec()
}

/// Writes a valid export (of another account) to `file`, for `emulator import`.
fn write_export(file: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let other = Emulator::open(&dir.path().join("other.db")).unwrap();
    other
        .create_role(&CreateRoleRequest {
            role_name: "imported".into(),
            assume_role_policy_document: TRUST.into(),
            ..Default::default()
        })
        .unwrap();
    other.export_to_file(file).unwrap();
}

// -- 1. which files are accounts ---------------------------------------------

#[test]
fn new_accounts_carry_the_rolecall_application_id() {
    let lab = Lab::new();
    lab.run(&["apply", "--auto-approve"]).assert().success();
    assert_eq!(&application_id(&lab.account()), b"RCal");
}

/// Every command, reading or writing, refuses a file that is not an
/// account, and leaves it and its directory exactly as they were.
#[test]
fn files_that_are_not_accounts_are_refused_untouched() {
    let lab = Lab::new();
    write_export(&lab.path().join("export.yaml"));
    let text = lab.path().join("notes.txt");
    std::fs::write(&text, "not a database at all\n".repeat(20)).unwrap();
    let other_program = lab.path().join("other-program.db");
    {
        let db = rusqlite::Connection::open(&other_program).unwrap();
        db.pragma_update(None, "journal_mode", "WAL").unwrap();
        db.execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
    }
    let other_application = lab.path().join("other-application.db");
    {
        let db = rusqlite::Connection::open(&other_application).unwrap();
        db.pragma_update(None, "application_id", 0x1234_5678)
            .unwrap();
        db.execute_batch("CREATE TABLE accounts (id INTEGER)")
            .unwrap();
    }
    std::fs::create_dir(lab.path().join("a-directory")).unwrap();

    let cases = [
        ("notes.txt", "it is not an SQLite database"),
        (
            "other-program.db",
            "an SQLite database of another program: tables notes, no rolecall application_id",
        ),
        (
            "other-application.db",
            "an SQLite database of another application: application_id 0x12345678",
        ),
        ("a-directory", "it is a directory"),
    ];
    let commands: &[&[&str]] = &[
        &["plan"],
        &["drift"],
        &["apply", "--auto-approve"],
        &["destroy", "--auto-approve"],
        &["import", "--all-declared"],
        &["emulator", "list-roles"],
        &["emulator", "export", "-"],
        &["emulator", "configure"],
        &["emulator", "configure", "--fail-after", "2"],
        &["emulator", "import", "export.yaml"],
        &["emulator", "delete-role", "--role-name", "web"],
    ];
    let before = listing(lab.path());
    for (file, reason) in cases {
        let bytes = std::fs::read(lab.path().join(file)).ok();
        for command in commands {
            let output = rolecall(lab.path())
                .args(["--account", file])
                .args(*command)
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(1), "{file} {command:?}");
            assert_eq!(
                stderr(&output),
                format!(
                    "error: {file} is not a rolecall emulated account ({reason}); rolecall left it untouched\n"
                ),
                "{command:?}"
            );
            assert_eq!(
                std::fs::read(lab.path().join(file)).ok(),
                bytes,
                "{file} {command:?}"
            );
            assert_eq!(listing(lab.path()), before, "{file} {command:?}");
        }
    }
}

#[test]
fn an_account_of_a_newer_schema_is_refused_untouched() {
    let lab = Lab::new();
    lab.run(&["apply", "--auto-approve"]).assert().success();
    {
        let db = rusqlite::Connection::open(lab.account()).unwrap();
        db.pragma_update(None, "user_version", 5).unwrap();
    }
    let bytes = std::fs::read(lab.account()).unwrap();
    for command in [
        &["plan"][..],
        &["emulator", "list-roles"],
        &["emulator", "configure", "--max-roles", "5"],
    ] {
        lab.run(command).assert().code(1).stderr(
            "error: emulated account account.db was written by a newer rolecall (schema 5; this one reads 4)\n",
        );
    }
    let output = lab
        .run(
            &create_role_args("late")
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("written by a newer rolecall"));
    assert_eq!(std::fs::read(lab.account()).unwrap(), bytes);
}

/// Turns an account into one as rolecall wrote it at schema version 3:
/// without the customer-managed policies of version 4.
fn make_version_3(account: &Path) {
    let db = rusqlite::Connection::open(account).unwrap();
    db.execute_batch(
        "DROP TABLE policy_tags; DROP TABLE policy_versions; DROP TABLE policies;
         DROP INDEX role_managed_arn; DROP INDEX roles_boundary;",
    )
    .unwrap();
    db.pragma_update(None, "user_version", 3).unwrap();
}

/// Turns an account into one as rolecall wrote it at schema version 1:
/// without the access keys of version 2, the audit trail and instance
/// credentials of version 3, the policies of version 4.
fn make_version_1(account: &Path) {
    make_version_3(account);
    let db = rusqlite::Connection::open(account).unwrap();
    db.execute_batch(
        "DROP TABLE access_keys; DROP TABLE events; DROP TABLE instance_credentials;
         ALTER TABLE account DROP COLUMN max_events;",
    )
    .unwrap();
    db.pragma_update(None, "user_version", 1).unwrap();
}

fn schema_version(account: &Path) -> i64 {
    let db = rusqlite::Connection::open(account).unwrap();
    db.query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap()
}

/// An account of schema version 3, written before customer-managed
/// policies, is read as it is (holding none) and upgraded when first
/// changed, after which it holds policies.
#[test]
fn an_account_of_schema_version_3_is_read_as_it_is_and_upgraded_when_changed() {
    let lab = Lab::new();
    lab.run(&["apply", "--auto-approve"]).assert().success();
    make_version_3(&lab.account());
    let bytes = std::fs::read(lab.account()).unwrap();
    let plan = lab.run(&["plan", "--detailed-exitcode"]).output().unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let listed = lab
        .run(&["emulator", "list-policies", "--scope", "Local"])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", stderr(&listed));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["Policies"], serde_json::json!([]), "{listed}");
    assert_eq!(
        std::fs::read(lab.account()).unwrap(),
        bytes,
        "reads write nothing"
    );

    let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let created = lab
        .run(&[
            "emulator",
            "create-policy",
            "--policy-name",
            "deploy",
            "--policy-document",
            document,
        ])
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", stderr(&created));
    assert_eq!(schema_version(&lab.account()), 4);
    lab.run(&[
        "emulator",
        "attach-role-policy",
        "--role-name",
        "web",
        "--policy-arn",
        "arn:aws:iam::123456789012:policy/deploy",
    ])
    .assert()
    .success();
    let got = lab
        .run(&[
            "emulator",
            "get-policy",
            "--policy-arn",
            "arn:aws:iam::123456789012:policy/deploy",
        ])
        .output()
        .unwrap();
    let got: serde_json::Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(got["Policy"]["AttachmentCount"], 1, "{got}");
}

/// An account of schema version 1 is read as it is (nothing written) and
/// upgraded when first opened to change it: it gets an administrator key,
/// and keeps everything it held.
#[test]
fn an_account_of_schema_version_1_is_read_as_it_is_and_upgraded_when_changed() {
    let lab = Lab::new();
    lab.run(&["apply", "--auto-approve"]).assert().success();
    make_version_1(&lab.account());
    let bytes = std::fs::read(lab.account()).unwrap();
    let plan = lab.run(&["plan", "--detailed-exitcode"]).output().unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    lab.run(&["emulator", "get-role", "--role-name", "web"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(lab.account()).unwrap(),
        bytes,
        "reads write nothing"
    );

    let first = lab
        .run(&["emulator", "credentials", "--format", "json"])
        .output()
        .unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    let key: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert!(
        key["AccessKeyId"].as_str().unwrap().starts_with("AKIA"),
        "{key}"
    );
    assert_eq!(key["SecretAccessKey"].as_str().unwrap().len(), 40, "{key}");
    assert_eq!(schema_version(&lab.account()), 4);
    let again = lab
        .run(&["emulator", "credentials", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(again.stdout, first.stdout, "the key is kept, not remade");
    let plan = lab.run(&["plan", "--detailed-exitcode"]).output().unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
}

/// Accounts written before they carried the mark have rolecall's tables and
/// schema version 1: read as they are, marked when first changed.
#[test]
fn accounts_written_before_the_mark_are_read_as_they_are_and_marked_when_changed() {
    let lab = Lab::new();
    lab.run(&["apply", "--auto-approve"]).assert().success();
    make_version_1(&lab.account());
    {
        let db = rusqlite::Connection::open(lab.account()).unwrap();
        db.pragma_update(None, "application_id", 0).unwrap();
    }
    assert_eq!(application_id(&lab.account()), [0; 4]);
    let bytes = std::fs::read(lab.account()).unwrap();

    let plan = lab.run(&["plan"]).output().unwrap();
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert!(stdout(&plan).contains("No changes."), "{}", stdout(&plan));
    lab.run(&["emulator", "get-role", "--role-name", "web"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(lab.account()).unwrap(),
        bytes,
        "reads write nothing"
    );

    lab.run(&[
        "emulator",
        "tag-role",
        "--role-name",
        "web",
        "--tags",
        "Key=k,Value=v",
    ])
    .assert()
    .success();
    assert_eq!(&application_id(&lab.account()), b"RCal");
    lab.run(&["plan"]).assert().success();
}

// -- 2. read-only accounts -----------------------------------------------------

/// What `protect` makes read-only.
#[derive(Debug, Clone, Copy)]
enum Protect {
    File,
    Directory,
}

/// Runs commands as a user who may not write what [`protect`] protected:
/// root may write anything, so as root the binary runs as `nobody`.
struct ReadOnlyLab {
    lab: Lab,
    as_root: bool,
}

const NOBODY: u32 = 65534;

impl ReadOnlyLab {
    fn protect(lab: Lab, what: Protect) -> ReadOnlyLab {
        let as_root = std::fs::metadata(lab.path()).unwrap().uid() == 0;
        let mode = |path: &Path, mode: u32| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        // As root, `nobody` may read everything and write only what is
        // left writable for all; otherwise the owner loses write permission.
        match (what, as_root) {
            (Protect::File, true) => {
                mode(lab.path(), 0o777);
                mode(&lab.account(), 0o644);
            }
            (Protect::Directory, true) => {
                mode(lab.path(), 0o755);
                mode(&lab.account(), 0o666);
            }
            (Protect::File, false) => mode(&lab.account(), 0o444),
            (Protect::Directory, false) => mode(lab.path(), 0o555),
        }
        ReadOnlyLab { lab, as_root }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let mut command = std_rolecall(self.lab.path());
        if self.as_root {
            command.uid(NOBODY).gid(NOBODY);
        }
        command
            .args(["--account", "account.db"])
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }
}

impl Drop for ReadOnlyLab {
    fn drop(&mut self) {
        // So that the temporary directory can be removed.
        let _ = std::fs::set_permissions(self.lab.path(), std::fs::Permissions::from_mode(0o755));
    }
}

/// An applied lab whose account counts calls for `--fail-after 1`.
fn applied_lab() -> Lab {
    let lab = Lab::new();
    lab.run(&["apply", "--auto-approve"]).assert().success();
    lab.run(&["emulator", "configure", "--fail-after", "1"])
        .assert()
        .success();
    lab
}

#[test]
fn a_read_only_account_can_be_read_and_is_left_as_it_was() {
    for what in [Protect::File, Protect::Directory] {
        let lab = ReadOnlyLab::protect(applied_lab(), what);
        let bytes = std::fs::read(lab.lab.account()).unwrap();
        let before = listing(lab.lab.path());
        for command in [
            &["plan", "--detailed-exitcode"][..],
            &["drift"],
            &["validate"],
            &["graph"],
            &["graph", "--steps"],
            &["emulator", "get-role", "--role-name", "web"],
            &["emulator", "list-roles"],
            &["emulator", "list-instance-profiles"],
            &["emulator", "describe-instances"],
            &["emulator", "describe-iam-instance-profile-associations"],
            &["emulator", "export", "-"],
        ] {
            let output = lab.run(command);
            assert!(
                output.status.success(),
                "{what:?} {command:?}: {}",
                stderr(&output)
            );
        }
        let export = stdout(&lab.run(&["emulator", "export", "-"]));
        assert!(export.contains("name: web"), "{export}");
        // A read-only account cannot count calls, so `--fail-after 1` has
        // not fired: the calls above were not counted.
        let settings = stdout(&lab.run(&["emulator", "configure"]));
        assert!(
            settings
                .contains("\"fail_after_status\": \"pending: 0 of 1 calls made, call 1 fails\""),
            "{settings}"
        );
        assert_eq!(std::fs::read(lab.lab.account()).unwrap(), bytes, "{what:?}");
        assert_eq!(listing(lab.lab.path()), before, "{what:?}");
    }
}

/// Every command that changes the account refuses once, naming the file,
/// before it plans, shows, asks or takes the lock, not once per step.
#[test]
fn a_read_only_account_refuses_changes_once_before_anything_else() {
    for (what, reason) in [
        (Protect::File, "the file is not writable"),
        (Protect::Directory, "its directory . is not writable"),
    ] {
        let lab = Lab::new();
        lab.run(&["apply", "--auto-approve"]).assert().success();
        lab.declare_another_role();
        lab.run(&["plan", "--out", "plan.json"]).assert().code(0);
        write_export(&lab.path().join("export.yaml"));
        for file in ["plan.json", "export.yaml"] {
            let readable = std::fs::Permissions::from_mode(0o644);
            std::fs::set_permissions(lab.path().join(file), readable).unwrap();
        }
        let lab = ReadOnlyLab::protect(lab, what);
        let bytes = std::fs::read(lab.lab.account()).unwrap();
        let before = listing(lab.lab.path());
        let create_role = create_role_args("new");
        let create_role: Vec<&str> = create_role.iter().map(String::as_str).collect();
        for command in [
            &["apply"][..],
            &["apply", "--auto-approve"],
            &["apply", "plan.json"],
            &["destroy", "--auto-approve"],
            &["import", "--all-declared"],
            &create_role,
            &[
                "emulator",
                "tag-role",
                "--role-name",
                "web",
                "--tags",
                "Key=k,Value=v",
            ],
            &["emulator", "configure", "--fail-after", "2"],
            &["emulator", "import", "export.yaml"],
        ] {
            let output = lab.run(command);
            assert_eq!(output.status.code(), Some(1), "{what:?} {command:?}");
            assert_eq!(stdout(&output), "", "{what:?} {command:?}: nothing shown");
            let message = stderr(&output);
            let prefix = format!("error: emulated account account.db is read-only ({reason}: ");
            assert!(message.starts_with(&prefix), "{command:?}: {message}");
            assert!(
                message.ends_with("): it can be read, not changed\n"),
                "{command:?}: {message}"
            );
            assert_eq!(message.lines().count(), 1, "once: {message}");
        }
        assert_eq!(std::fs::read(lab.lab.account()).unwrap(), bytes, "{what:?}");
        assert_eq!(listing(lab.lab.path()), before, "{what:?}");
    }
}

// -- 3. no directory but `.rolecall/` is created -----------------------------------

#[test]
fn a_mistyped_account_directory_is_an_error_not_a_new_directory() {
    let lab = Lab::new();
    write_export(&lab.path().join("export.yaml"));
    let create_role = create_role_args("web");
    let create_role: Vec<&str> = create_role.iter().map(String::as_str).collect();
    for command in [
        &["apply", "--auto-approve"][..],
        &["destroy", "--auto-approve"],
        &["import", "--all-declared"],
        &create_role,
        &["emulator", "list-roles"],
        &["emulator", "configure", "--max-roles", "3"],
        &["emulator", "import", "export.yaml"],
    ] {
        rolecall(lab.path())
            .args(["--account", "acount/x.db"])
            .args(command)
            .assert()
            .code(1)
            .stderr("error: cannot create emulated account acount/x.db: directory acount does not exist\n");
        assert!(!lab.path().join("acount").exists(), "{command:?}");
    }
    // Reading commands compare with an empty account and create nothing.
    rolecall(lab.path())
        .args(["--account", "acount/x.db", "plan"])
        .assert()
        .success();
    assert!(!lab.path().join("acount").exists());
}

#[test]
fn the_default_directory_and_account_files_in_existing_directories_are_created() {
    let lab = Lab::new();
    rolecall(lab.path())
        .args(create_role_args("web"))
        .assert()
        .success();
    assert!(lab.path().join(".rolecall/account.db").is_file());
    std::fs::create_dir(lab.path().join("labs")).unwrap();
    rolecall(lab.path())
        .args(["--account", "labs/a.db", "apply", "--auto-approve"])
        .assert()
        .success();
    assert!(lab.path().join("labs/a.db").is_file());
}

// -- 4. the apply lock ---------------------------------------------------------------

fn hold_lock(lab: &Lab) -> rolecall::emulator::lock::AccountLock {
    rolecall::emulator::lock::acquire(&lab.account(), "rolecall apply", Duration::ZERO).unwrap()
}

/// A lock file committed as a symlink (a pull request can) is refused,
/// named, and neither its target nor a dangling link's is written.
#[test]
fn a_lock_file_that_is_a_symlink_is_refused_and_its_target_untouched() {
    let lab = Lab::new();
    lab.run(&["apply", "--auto-approve"]).assert().success();
    lab.declare_another_role();
    std::fs::write(lab.path().join("precious.txt"), "keep me\n").unwrap();
    let lock = lab.path().join("account.db.lock");
    std::fs::remove_file(&lock).unwrap();
    for target in ["precious.txt", "nowhere.txt"] {
        let _ = std::fs::remove_file(&lock);
        std::os::unix::fs::symlink(target, &lock).unwrap();
        for command in [
            &["apply", "--auto-approve"][..],
            &["destroy", "--auto-approve"],
            &["emulator", "configure", "--max-roles", "3"],
        ] {
            let output = lab.run(command).output().unwrap();
            assert_eq!(output.status.code(), Some(1), "{command:?}");
            assert_eq!(
                stderr(&output),
                "error: lock file account.db.lock is not a regular file (it is a symbolic link): \
                 rolecall writes into it, so it never follows a link or opens a special file; remove it\n",
                "{command:?}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(lab.path().join("precious.txt")).unwrap(),
            "keep me\n"
        );
        assert!(!lab.path().join("nowhere.txt").exists());
    }
    lab.run(&["plan", "--detailed-exitcode"]).assert().code(2);
    std::fs::remove_file(&lock).unwrap();
    lab.run(&["apply", "--auto-approve"]).assert().success();
    assert!(std::fs::symlink_metadata(&lock).unwrap().is_file());
}

#[test]
fn emulator_import_and_configure_never_change_an_account_under_an_apply() {
    let lab = Lab::new();
    lab.run(&["apply", "--auto-approve"]).assert().success();
    write_export(&lab.path().join("export.yaml"));
    let export = || stdout(&lab.run(&["emulator", "export", "-"]).output().unwrap());
    let before = export();

    let held = hold_lock(&lab);
    for command in [
        &["emulator", "import", "export.yaml"][..],
        &["emulator", "configure", "--fail-after", "3"],
        &["emulator", "configure", "--reset"],
    ] {
        let output = lab.run(command).output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{command:?}");
        let message = stderr(&output);
        assert!(message.contains("locked by another rolecall"), "{message}");
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
    }
    let waited = lab
        .run(&[
            "emulator",
            "configure",
            "--max-roles",
            "3",
            "--lock-timeout",
            "300ms",
        ])
        .output()
        .unwrap();
    assert!(
        stderr(&waited).contains("after waiting 0.3 s"),
        "{}",
        stderr(&waited)
    );
    assert_eq!(export(), before, "nothing changed under the apply");
    // Showing the settings and out-of-band calls take no lock.
    lab.run(&["emulator", "configure"]).assert().success();
    lab.run(&[
        "emulator",
        "untag-role",
        "--role-name",
        "web",
        "--tag-keys",
        "team",
    ])
    .assert()
    .success();

    // A wait long enough sees the lock released, then configures.
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        drop(held);
    });
    lab.run(&[
        "emulator",
        "configure",
        "--max-roles",
        "3",
        "--lock-timeout",
        "20s",
    ])
    .assert()
    .success()
    .stdout(predicates::str::contains("\"max_roles\": 3,"));
    release.join().unwrap();
    lab.run(&["emulator", "import", "export.yaml"])
        .assert()
        .success();
    assert!(export().contains("name: imported"));
}

#[test]
fn a_failed_import_leaves_no_account_where_there_was_none() {
    let lab = Lab::new();
    std::fs::write(
        lab.path().join("bad.yaml"),
        "format_version: 1\naccount_id: '12'\n",
    )
    .unwrap();
    let before = listing(lab.path());
    for account in [None, Some("lab.db")] {
        let mut command = rolecall(lab.path());
        if let Some(account) = account {
            command.args(["--account", account]);
        }
        command
            .args(["emulator", "import", "bad.yaml"])
            .assert()
            .code(1)
            .stderr("error: bad.yaml: account_id \"12\" is not 12 digits\n");
        assert_eq!(listing(lab.path()), before, "{account:?}");
    }
}

/// An import that passes every check but fails writing (here: the file size
/// limit, as on a full disk) leaves an existing account exactly as it was,
/// and removes an account it had just created.
#[test]
fn an_import_that_fails_on_storage_changes_nothing() {
    let lab = Lab::new();
    // An export of about 1 MB: 900 roles with long descriptions.
    let big = lab.path().join("big.db");
    {
        let cloud = Emulator::open(&big).unwrap();
        let calls: Vec<Call> = (0..900)
            .map(|n| {
                Call::CreateRole(Box::new(CreateRoleRequest {
                    role_name: format!("role-{n}"),
                    assume_role_policy_document: TRUST.into(),
                    description: Some("d".repeat(1000)),
                    ..Default::default()
                }))
            })
            .collect();
        let results = cloud.invoke_batch(&calls.iter().collect::<Vec<_>>());
        assert!(results.iter().all(Result::is_ok));
        cloud.export_to_file(&lab.path().join("big.yaml")).unwrap();
    }
    std::fs::remove_file(&big).unwrap();
    lab.run(
        &create_role_args("kept")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
    .assert()
    .success();
    let kept = stdout(&lab.run(&["emulator", "export", "-"]).output().unwrap());

    // Files may grow to 100 KB (`ulimit -f` counts 512-byte blocks in
    // POSIX sh), room for a new account but not for the import; the signal
    // the kernel sends past it is ignored, so writes fail instead.
    let limited = |account: &str| {
        let script = format!(
            "trap '' XFSZ; ulimit -f 200; exec \"$0\" --account {account} emulator import big.yaml"
        );
        let output = std::process::Command::new("sh")
            .current_dir(lab.path())
            .env_remove("ROLECALL_ACCOUNT")
            .args(["-c", &script])
            .arg(assert_cmd::cargo::cargo_bin("rolecall"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        stderr(&output)
    };
    let before = listing(lab.path());
    let message = limited("new.db");
    assert!(
        message.starts_with("error: emulated account new.db: "),
        "{message}"
    );
    let mut after = listing(lab.path());
    after.retain(|name| name != "new.db.lock");
    assert_eq!(after, before, "no account left where there was none");

    let message = limited("account.db");
    assert!(
        message.starts_with("error: emulated account account.db: "),
        "{message}"
    );
    let now = stdout(&lab.run(&["emulator", "export", "-"]).output().unwrap());
    assert_eq!(now, kept);
}

// -- 5. where --fail-after stands ---------------------------------------------------

#[test]
fn configure_says_whether_fail_after_has_fired() {
    let lab = Lab::new();
    let status = || {
        let settings = stdout(&lab.run(&["emulator", "configure"]).output().unwrap());
        let settings: serde_json::Value = serde_json::from_str(&settings).unwrap();
        settings["fail_after_status"].clone()
    };
    lab.run(&["emulator", "configure", "--fail-after", "2"])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "\"fail_after_status\": \"pending: 0 of 2 calls made, call 2 fails\"",
        ));
    lab.run(&["emulator", "list-roles"]).assert().success();
    assert_eq!(status(), "pending: 1 of 2 calls made, call 2 fails");
    // Changing a quota does not restart the count.
    lab.run(&["emulator", "configure", "--max-roles", "2000"])
        .assert()
        .success();
    assert_eq!(status(), "pending: 1 of 2 calls made, call 2 fails");
    lab.run(&["emulator", "list-roles"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "(ServiceFailure) when calling the ListRoles operation",
        ));
    assert_eq!(status(), "fired: call 2 failed (2 calls made)");
    lab.run(&["emulator", "list-roles"]).assert().success();
    assert_eq!(status(), "fired: call 2 failed (3 calls made)");
    lab.run(&["emulator", "configure", "--fail-after", "0"])
        .assert()
        .success();
    assert_eq!(status(), serde_json::Value::Null, "off: no status");
}

// -- 6. an empty ROLECALL_ACCOUNT ------------------------------------------------------

#[test]
fn an_empty_rolecall_account_variable_means_the_default_account() {
    let lab = Lab::new();
    rolecall(lab.path())
        .env("ROLECALL_ACCOUNT", "")
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    assert!(lab.path().join(".rolecall/account.db").is_file());
    rolecall(lab.path())
        .env("ROLECALL_ACCOUNT", "")
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(0);
    // A set variable still names the account; an empty flag is a mistake.
    rolecall(lab.path())
        .env("ROLECALL_ACCOUNT", "named.db")
        .args(create_role_args("web"))
        .assert()
        .success();
    assert!(lab.path().join("named.db").is_file());
    rolecall(lab.path())
        .args(["--account", "", "plan"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "a value is required for '--account <PATH>'",
        ));
}
