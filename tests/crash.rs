//! Killing apply at random points never leaves an account that a second apply
//! cannot converge from (issue 5): SIGKILL a real `rolecall apply` on a stack
//! of a few thousand resources, several times, then apply to the end.

use std::process::{Command, Stdio};
use std::time::Duration;

use proptest::test_runner::{Config, TestRunner};

fn write_stack(dir: &std::path::Path, n: usize) {
    let mut text = String::from("kind: Stack\nname: crash\n");
    for i in 0..n {
        text.push_str(&format!(
            "---\nkind: Role\nname: role-{i}\ntrust: ec2\nmanaged_policies: [arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore]\ninline_policies:\n  logs: {{Version: \"2012-10-17\", Statement: [{{Effect: Allow, Action: logs:PutLogEvents, Resource: \"*\"}}]}}\ntags: {{n: \"{i}\"}}\n---\nkind: InstanceProfile\nname: profile-{i}\nrole: role-{i}\n---\nkind: Instance\nname: host-{i}\nprofile: profile-{i}\n"
        ));
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("stack.yaml"), text).unwrap();
}

/// `rolecall --account ACCOUNT ARGS... -f MANIFESTS`.
fn rolecall(account: &std::path::Path, manifests: &std::path::Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rolecall"));
    command
        .env_remove("ROLECALL_ACCOUNT")
        .arg("--account")
        .arg(account)
        .args(args)
        .arg("-f")
        .arg(manifests);
    command
}

#[test]
fn sigkilled_apply_converges_on_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    let account = dir.path().join("account.db");
    // 900 roles, profiles and instances (AWS's default quota is 1,000 each):
    // 2,700 resources, 6,300 API calls.
    write_stack(&manifests, 900);
    // Progress = every effect a step has: roles, their policies, profiles,
    // their role, instances, their association (6,300 at the end).
    let total = 6300;
    let count = || {
        use rolecall::cloud::Cloud;
        // WAL lets this reader look while apply writes.
        match rolecall::emulator::Emulator::open(&account).and_then(|e| {
            e.snapshot()
                .map_err(|err| rolecall::emulator::EmulatorError::Yaml(err.to_string()))
        }) {
            Ok(live) => {
                let roles: usize = live
                    .roles
                    .values()
                    .map(|r| 1 + r.role.managed_policies.len() + r.role.inline_policies.len())
                    .sum();
                let profiles: usize = live
                    .profiles
                    .values()
                    .map(|p| 1 + usize::from(p.profile.role.is_some()))
                    .sum();
                let instances: usize = live
                    .instances
                    .values()
                    .map(|i| 1 + usize::from(i.association.is_some()))
                    .sum();
                roles + profiles + instances
            }
            Err(_) => 0,
        }
    };
    // A throttled account (as AWS throttles): the apply spends seconds in
    // retries with backoff, so random kill times land mid-apply.
    let set_faults = |faults: rolecall::emulator::Faults| {
        rolecall::emulator::Emulator::open(&account)
            .unwrap()
            .configure(&faults)
            .unwrap();
    };
    set_faults(rolecall::emulator::Faults {
        throttle_rate: 0.5,
        seed: 11,
        ..rolecall::emulator::Faults::default()
    });
    let mut runner = TestRunner::new(Config::default());
    let mut interrupted = 0;
    for _ in 0..4 {
        let delay = Duration::from_millis(rand_between(runner.rng(), 200, 1200));
        let mut child = rolecall(&account, &manifests, &["-q", "apply", "--auto-approve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let still_running = child.try_wait().unwrap().is_none();
        // std's kill is SIGKILL on Unix: no destructor, no cleanup runs.
        let _ = child.kill();
        let _ = child.wait();
        let progress = count();
        if still_running && progress > 0 && progress < total {
            interrupted += 1;
        }
    }
    set_faults(rolecall::emulator::Faults::default());
    assert!(
        interrupted >= 2,
        "only {interrupted} kills landed mid-apply"
    );
    let rerun = rolecall(&account, &manifests, &["-q", "apply", "--auto-approve"])
        .output()
        .unwrap();
    // The killed apply's lock file still names it; the OS released the lock.
    assert!(
        String::from_utf8_lossy(&rerun.stderr).contains("took over the account lock"),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    assert!(
        rerun.status.success(),
        "rerun failed: {}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let plan = rolecall(&account, &manifests, &["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(
        plan.status.code(),
        Some(0),
        "not converged: {}",
        String::from_utf8_lossy(&plan.stdout)
    );
    let db = rusqlite::Connection::open(&account).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

fn rand_between(rng: &mut proptest::test_runner::TestRng, low: u64, high: u64) -> u64 {
    use rand::RngExt;
    rng.random_range(low..high)
}
