//! `rolecall destroy` (issue 9): its own wording, prompt and summary; lab
//! instances rolecall launched are terminated, so destroy then apply rebuilds
//! a lab; instances it adopted are released, never terminated.

use std::path::PathBuf;
use std::process::{Command, Output};

mod support;

use rolecall::cloud::Cloud;
use rolecall::emulator::Emulator;
use rolecall::model::{InstanceState, TAG_STACK};
use support::instances::launch_named;

const STACK: &str = "kind: Stack
name: lab
---
kind: Role
name: web
trust: ec2
---
kind: InstanceProfile
name: web
role: web
---
kind: Instance
name: web-1
profile: web
---
kind: Instance
name: web-2
profile: web
";

struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new(manifest: &str) -> Lab {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("manifests")).unwrap();
        std::fs::write(dir.path().join("manifests/stack.yaml"), manifest).unwrap();
        Lab { dir }
    }

    fn account(&self) -> PathBuf {
        self.dir.path().join("account.db")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rolecall"));
        command
            .current_dir(self.dir.path())
            .env_remove("ROLECALL_ACCOUNT")
            .env("NO_COLOR", "1")
            .arg("--account")
            .arg(self.account())
            .args(args);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn cloud(&self) -> Emulator {
        Emulator::open(&self.account()).unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(output: &Output) -> String {
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout)
}

#[test]
fn destroy_then_apply_rebuilds_a_lab() {
    let lab = Lab::new(STACK);
    ok(&lab.run(&["apply", "--auto-approve"]));
    let first = lab.cloud().snapshot().unwrap();
    let destroyed = ok(&lab.run(&["destroy", "--auto-approve"]));
    assert!(
        destroyed.contains("Destroy complete: 2 deleted, 0 released, 2 terminated."),
        "{destroyed}"
    );
    // Terminated instances leave the account as EC2 shows it.
    assert!(lab.cloud().snapshot().unwrap().instances.is_empty());
    let again = lab.run(&["apply", "--auto-approve"]);
    let applied = ok(&again);
    assert!(
        applied.contains("Apply complete: 4 created"),
        "{applied}{}",
        text(&again.stderr)
    );
    let live = lab.cloud().snapshot().unwrap();
    assert_eq!(live.instances.len(), 2);
    assert!(
        live.instances
            .keys()
            .all(|id| !first.instances.contains_key(id)),
        "new instances were launched"
    );
    let plan = lab.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stdout));
}

#[test]
fn destroy_says_what_it_does_and_releases_what_it_did_not_launch() {
    let lab = Lab::new(&STACK.replace("name: web-2", "name: adopted"));
    let id = launch_named(&lab.cloud(), "adopted");
    ok(&lab.run(&["import", "--all-declared"]));
    ok(&lab.run(&["apply", "--auto-approve"]));
    let output = ok(&lab.run(&["destroy", "--auto-approve"]));
    assert!(
        output.contains("rolecall will destroy everything stack `lab` owns:"),
        "{output}"
    );
    assert!(!output.contains("no longer declared"), "{output}");
    assert!(
        output.contains(&format!(
            "- instance/{id} (adopted) (released, the instance keeps running)"
        )),
        "{output}"
    );
    assert!(
        output.contains("(terminated, as rolecall launched it on the emulated account)"),
        "{output}"
    );
    assert!(
        output.contains("Destroy: 2 to delete, 1 to release, 1 to terminate."),
        "{output}"
    );
    assert!(
        output.contains("Destroy complete: 2 deleted, 1 released, 1 terminated."),
        "{output}"
    );
    let live = lab.cloud().snapshot().unwrap();
    let kept = &live.instances[&id];
    assert_eq!(
        kept.state,
        InstanceState::Running,
        "released, not terminated"
    );
    assert!(!kept.tags.contains_key(TAG_STACK));
    assert_eq!(live.instances.len(), 1);
}

/// Runs `rolecall ARGS` on a terminal (util-linux `script`), answering the
/// prompt with `answer`.
fn on_a_terminal(lab: &Lab, args: &[&str], answer: &str) -> Output {
    let mut line = format!(
        "{} --account {}",
        env!("CARGO_BIN_EXE_rolecall"),
        lab.account().display()
    );
    for arg in args {
        line.push(' ');
        line.push_str(arg);
    }
    let mut child = Command::new("script")
        .current_dir(lab.dir.path())
        .env("NO_COLOR", "1")
        .env_remove("ROLECALL_ACCOUNT")
        .args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs a command on a terminal");
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(answer.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn destroy_asks_its_own_question_and_anything_but_yes_changes_nothing() {
    let lab = Lab::new(STACK);
    ok(&lab.run(&["apply", "--auto-approve"]));
    let before = lab.cloud().export().unwrap();
    let asked = on_a_terminal(&lab, &["destroy"], "no\n");
    let shown = text(&asked.stdout);
    assert!(
        shown.contains("Do you really want to destroy everything this stack owns?"),
        "{shown}"
    );
    assert!(
        shown.contains("destroy cancelled: nothing was changed"),
        "{shown}"
    );
    assert_eq!(asked.status.code(), Some(1));
    assert_eq!(lab.cloud().export().unwrap(), before);
    // Without a terminal it refuses to ask.
    let refused = lab.run(&["destroy"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("refusing to destroy without confirmation"),
        "{}",
        text(&refused.stderr)
    );
}

/// The names in a directory and below it, sorted.
fn tree(dir: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            names.push(path.strip_prefix(dir).unwrap().display().to_string());
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    names.sort();
    names
}

/// With no account, destroy has nothing to destroy and import nothing to
/// import from: neither creates an account, its lock or `.rolecall/`.
#[test]
fn destroy_and_import_without_an_account_create_nothing() {
    let lab = Lab::new(STACK);
    let before = tree(lab.dir.path());
    let destroyed = ok(&lab.run(&["destroy", "--auto-approve"]));
    assert_eq!(
        destroyed,
        format!(
            "Nothing to destroy: there is no emulated account at {}, so stack `lab` owns nothing.\n",
            lab.account().display()
        )
    );
    let imported = lab.run(&["import", "--all-declared"]);
    assert_eq!(imported.status.code(), Some(1));
    assert_eq!(
        text(&imported.stderr),
        format!(
            "error: nothing to import: there is no emulated account at {} (import adopts what an account already holds)\n",
            lab.account().display()
        )
    );
    assert_eq!(tree(lab.dir.path()), before);

    // The default account, in `.rolecall/`, likewise; -q prints nothing.
    for args in [
        &["-q", "destroy", "--auto-approve"][..],
        &["import", "--all-declared"],
        &["import", "role/web"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_rolecall"))
            .current_dir(lab.dir.path())
            .env_remove("ROLECALL_ACCOUNT")
            .args(args)
            .output()
            .unwrap();
        let quiet = args[0] == "-q";
        assert_eq!(output.status.success(), quiet, "{args:?}");
        if quiet {
            assert_eq!(text(&output.stdout), "");
            assert_eq!(text(&output.stderr), "");
        }
        assert_eq!(tree(lab.dir.path()), before, "{args:?}");
    }
}
