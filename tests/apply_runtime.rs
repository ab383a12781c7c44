//! How an apply behaves while it runs (issue 9).
//!
//! Ctrl-C and SIGTERM: the first signal stops new steps, lets the call in
//! flight finish, prints the summary, releases the lock and exits 130; a
//! second signal exits at once. Either way a rerun converges.
//!
//! A long wait to retry is reported even without a terminal or `-v`, so a
//! CI log never sits silent.
//!
//! To make "in flight" deterministic, the test holds the account's write
//! lock (as another writer would) while it signals: apply's first call waits
//! for it, so the signals land while that call is in flight.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use rolecall::cloud::Cloud;
use rolecall::emulator::{Emulator, Faults};

struct Lab {
    _dir: tempfile::TempDir,
    manifests: PathBuf,
    account: PathBuf,
}

/// A stack of `services` roles, profiles and instances.
fn lab(services: usize) -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    let mut text = String::from("kind: Stack\nname: interrupted\n");
    for i in 0..services {
        text.push_str(&format!(
            "---\nkind: Role\nname: role-{i}\ntrust: ec2\nmanaged_policies: [arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore]\n---\nkind: InstanceProfile\nname: profile-{i}\nrole: role-{i}\n---\nkind: Instance\nname: host-{i}\nprofile: profile-{i}\n"
        ));
    }
    std::fs::write(manifests.join("stack.yaml"), text).unwrap();
    let account = dir.path().join("account.db");
    Emulator::open(&account).unwrap();
    Lab {
        _dir: dir,
        manifests,
        account,
    }
}

fn rolecall(lab: &Lab, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rolecall"));
    // Run where the manifests are: they must lie inside the file root.
    command
        .current_dir(&lab.manifests)
        .env_remove("ROLECALL_ACCOUNT")
        .env("NO_COLOR", "1")
        .arg("--account")
        .arg(&lab.account)
        .args(args)
        .arg("-f")
        .arg(&lab.manifests);
    command
}

fn roles_in(account: &Path) -> usize {
    Emulator::open(account)
        .ok()
        .and_then(|e| e.snapshot().ok())
        .map_or(0, |live| live.roles.len())
}

/// Takes the account's write lock, as another writer would, then starts
/// `rolecall apply` and returns once the apply has shown its plan and is
/// inside its first call, waiting for that lock (held until the connection
/// commits or drops).
fn apply_blocked_in_a_call(lab: &Lab) -> (Child, rusqlite::Connection) {
    let writer = rusqlite::Connection::open(&lab.account).unwrap();
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    // Files, not pipes: nobody reads while it runs, and a full pipe would
    // block it.
    let output = |name: &str| std::fs::File::create(lab.manifests.with_file_name(name)).unwrap();
    let child = rolecall(lab, &["-vv", "apply", "--auto-approve"])
        .stdout(output("stdout"))
        .stderr(output("stderr"))
        .spawn()
        .unwrap();
    // Reading the account does not wait for a writer (WAL): the plan comes,
    // then apply routes the signals to itself and says so (at -vv).
    let deadline = Instant::now() + Duration::from_secs(60);
    let stderr = lab.manifests.with_file_name("stderr");
    // Then it says (at -vv) that its first wave of calls goes out: those
    // calls now wait for the lock (up to 5 s, SQLite's busy timeout in
    // rolecall).
    while !std::fs::read_to_string(&stderr)
        .is_ok_and(|text| text.contains("Ctrl-C or SIGTERM stops") && text.contains("wave 1: "))
    {
        assert!(Instant::now() < deadline, "apply never got to its steps");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The wave's first call is now inside SQLite, waiting for the writer.
    std::thread::sleep(Duration::from_millis(100));
    (child, writer)
}

fn signal(child: &Child, signal: i32) {
    let pid = i32::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on our own child's pid has no memory effects.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
}

/// Waits for the child to end (a minute at most) and returns its exit code
/// and stderr.
fn finish(lab: &Lab, mut child: Child) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("apply did not end after the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = std::fs::read_to_string(lab.manifests.with_file_name("stderr")).unwrap();
    (status.code(), stderr)
}

fn lock_file(lab: &Lab) -> String {
    let mut path = lab.account.clone().into_os_string();
    path.push(".lock");
    std::fs::read_to_string(path).unwrap()
}

/// Applies to the end without faults and checks nothing is left to do.
/// Returns the rerun's stderr.
fn rerun_converges(lab: &Lab) -> String {
    let rerun = rolecall(lab, &["apply", "--auto-approve"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&rerun.stderr).into_owned();
    assert!(rerun.status.success(), "rerun failed: {stderr}");
    let plan = rolecall(lab, &["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(
        plan.status.code(),
        Some(0),
        "not converged: {}",
        String::from_utf8_lossy(&plan.stdout)
    );
    stderr
}

#[test]
fn the_first_signal_finishes_the_call_in_flight_and_stops_cleanly() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        let lab = lab(50);
        let (mut child, writer) = apply_blocked_in_a_call(&lab);
        signal(&child, sig);
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            child.try_wait().unwrap().is_none(),
            "signal {sig}: exited before its call in flight finished"
        );
        writer.execute_batch("COMMIT").unwrap();
        drop(writer);
        let (code, stderr) = finish(&lab, child);
        assert_eq!(code, Some(130), "signal {sig}: {stderr}");
        assert!(
            stderr.contains("interrupted: the calls in flight have finished"),
            "{stderr}"
        );
        // The first wave (every step that waits for nothing) was in flight.
        assert!(roles_in(&lab.account) > 0, "the call in flight finished");
        let summary = stderr
            .lines()
            .find(|line| line.starts_with("apply interrupted: "))
            .unwrap_or_else(|| panic!("no summary: {stderr}"));
        assert!(
            summary.contains(" steps done, ") && !summary.contains(" 0 not started"),
            "{summary}"
        );
        // The sentence ends after the tally, not inside it.
        assert!(summary.ends_with(" deleted)."), "{summary}");
        assert!(
            stderr.contains("run `rolecall apply` again to finish"),
            "{stderr}"
        );
        assert_eq!(lock_file(&lab), "", "the lock is released cleanly");
        let rerun = rerun_converges(&lab);
        assert!(!rerun.contains("took over"), "{rerun}");
    }
}

#[test]
fn a_second_signal_exits_at_once_and_a_rerun_converges() {
    let lab = lab(50);
    let (child, writer) = apply_blocked_in_a_call(&lab);
    signal(&child, libc::SIGINT);
    std::thread::sleep(Duration::from_millis(100));
    signal(&child, libc::SIGTERM);
    // The call in flight still waits for the lock this test holds: only the
    // second signal can have ended the process.
    let (code, stderr) = finish(&lab, child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(!stderr.contains("apply interrupted: "), "{stderr}");
    writer.execute_batch("COMMIT").unwrap();
    drop(writer);
    assert_eq!(
        roles_in(&lab.account),
        0,
        "the call in flight never committed"
    );
    assert_ne!(lock_file(&lab), "", "no cleanup ran");
    let rerun = rerun_converges(&lab);
    assert!(rerun.contains("took over the account lock"), "{rerun}");
    let db = rusqlite::Connection::open(&lab.account).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// A lab whose new profiles stay invisible to EC2 for 7 s: launching an
/// instance with one is retried until then, as on AWS.
fn slow_lab() -> Lab {
    let lab = lab(1);
    Emulator::open(&lab.account)
        .unwrap()
        .configure(&Faults {
            propagation_delay_ms: 7000,
            ..Faults::default()
        })
        .unwrap();
    lab
}

#[test]
fn a_long_wait_to_retry_is_reported_without_a_terminal() {
    let lab = slow_lab();
    let applied = rolecall(&lab, &["apply", "--auto-approve"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&applied.stderr);
    assert!(applied.status.success(), "{stderr}");
    let waits: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("waiting: "))
        .collect();
    assert!(
        waits.len() == 1
            && waits[0].contains("RunInstances instance/host-0 has been retrying for ")
            && waits[0].contains("(InvalidParameterValue: ")
            && waits[0].contains("next attempt in ")
            && waits[0].ends_with("it gives up after 120 s"),
        "one line, within 10 s, not one per retry: {waits:?}"
    );
}

#[test]
fn quiet_apply_does_not_report_waits() {
    let lab = slow_lab();
    let quiet = rolecall(&lab, &["-q", "apply", "--auto-approve"])
        .output()
        .unwrap();
    assert!(quiet.status.success());
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
}

#[test]
fn rolecall_log_overrides_the_verbosity_and_empty_means_unset() {
    let lab = lab(1);
    let logged = |log: &str, args: &[&str]| {
        let output = rolecall(&lab, args)
            .env("ROLECALL_LOG", log)
            .output()
            .unwrap();
        assert!(output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let step_logs = |stderr: &str| stderr.lines().filter(|l| l.contains(": done")).count();
    // -v logs every step; an empty ROLECALL_LOG leaves that alone.
    let verbose = logged("", &["-v", "apply", "--auto-approve"]);
    assert!(step_logs(&verbose) > 0, "{verbose}");
    // A filter replaces -v/-q: here it keeps only errors.
    let filtered = logged("rolecall=error", &["-v", "destroy", "--auto-approve"]);
    assert_eq!(step_logs(&filtered), 0, "{filtered}");
    // One that is not a filter is said once, even with -q, and -v/-q apply.
    let warning = "warning: ROLECALL_LOG=\"[[[bad\" is not a log filter (invalid filter directive): \
                   ignored, logs follow -v/-q (example: ROLECALL_LOG=rolecall=debug)\n";
    let bad = logged("[[[bad", &["-v", "apply", "--auto-approve"]);
    assert!(bad.starts_with(warning), "{bad}");
    assert_eq!(bad.matches("ROLECALL_LOG").count(), 2, "once: {bad}");
    assert!(step_logs(&bad) > 0, "-v still logs: {bad}");
    let quiet = logged("[[[bad", &["-q", "destroy", "--auto-approve"]);
    assert_eq!(quiet, warning);
}
