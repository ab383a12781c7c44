//! Killing apply at random points never leaves an account that a second apply
//! cannot converge from (issue 5): SIGKILL a real `rolecall apply` on a stack
//! of a few thousand resources, several times, then apply to the end.
//!
//! Kills are timed by progress read from the account, not by the clock: a
//! kill after a fixed delay lands before the first commit on a slow machine
//! and after the last on a fast one.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::RngExt;
use rolecall::cloud::Cloud;
use rolecall::emulator::{Emulator, Faults};

/// Roles, profiles and instances in the stack (AWS's default quota is 1,000
/// roles and 1,000 profiles).
const N: usize = 900;
/// Every effect of every step: a role, its managed and inline policy, a
/// profile, its role, an instance, its association.
const TOTAL_EFFECTS: usize = N * 7;

fn write_stack(dir: &Path) {
    let mut text = String::from("kind: Stack\nname: crash\n");
    for i in 0..N {
        text.push_str(&format!(
            "---\nkind: Role\nname: role-{i}\ntrust: ec2\nmanaged_policies: [arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore]\ninline_policies:\n  logs: {{Version: \"2012-10-17\", Statement: [{{Effect: Allow, Action: logs:PutLogEvents, Resource: \"*\"}}]}}\ntags: {{n: \"{i}\"}}\n---\nkind: InstanceProfile\nname: profile-{i}\nrole: role-{i}\n---\nkind: Instance\nname: host-{i}\nprofile: profile-{i}\n"
        ));
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("stack.yaml"), text).unwrap();
}

/// `rolecall --account ACCOUNT ARGS... -f MANIFESTS`, run in the manifests'
/// directory: the file root.
fn rolecall(account: &Path, manifests: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rolecall"));
    command
        .current_dir(manifests)
        .env_remove("ROLECALL_ACCOUNT")
        .arg("--account")
        .arg(account)
        .args(args)
        .arg("-f")
        .arg(manifests);
    command
}

/// How many of the stack's effects the account holds, read while apply
/// writes (WAL lets a reader in); `None` while the account cannot be read.
fn effects_in(account: &Path) -> Option<usize> {
    let live = Emulator::open(account).ok()?.snapshot().ok()?;
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
    Some(roles + profiles + instances)
}

#[test]
fn sigkilled_apply_converges_on_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    let account = dir.path().join("account.db");
    write_stack(&manifests);
    // A throttled account (as AWS throttles): applies spend time in retries,
    // so kills also land while steps wait to be retried.
    let set_faults = |faults: Faults| {
        Emulator::open(&account)
            .unwrap()
            .configure(&faults)
            .unwrap()
    };
    set_faults(Faults {
        throttle_rate: 0.5,
        seed: 11,
        ..Faults::default()
    });

    // Each kill lands at a random point of what is left, once the killed
    // apply has committed something of its own.
    let mut rng = rand::rng();
    let mut kills = Vec::new();
    for _ in 0..4 {
        let before = effects_in(&account).unwrap_or(0);
        let target = before + rng.random_range(1..=(TOTAL_EFFECTS - before) / 3);
        let mut child = rolecall(&account, &manifests, &["-q", "apply", "--auto-approve"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        let ended_alone = loop {
            if let Some(status) = child.try_wait().unwrap() {
                let mut stderr = String::new();
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
                break Some(format!("{status}: {stderr}"));
            }
            let reached = effects_in(&account).is_some_and(|n| n >= target);
            if reached || Instant::now() > deadline {
                // std's kill is SIGKILL on Unix: no destructor, no cleanup runs.
                child.kill().unwrap();
                child.wait().unwrap();
                break None;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let after = effects_in(&account).unwrap_or(0);
        kills.push((before, target, after, ended_alone));
    }
    set_faults(Faults::default());
    let mid_apply = kills
        .iter()
        .filter(|(before, _, after, ended_alone)| {
            ended_alone.is_none() && before < after && *after < TOTAL_EFFECTS
        })
        .count();
    assert!(
        mid_apply >= 3,
        "kills (effects before, target, effects after, how it ended if not killed): {kills:?}"
    );

    // Not -q: that leaves out warnings, such as the one about the lock.
    let rerun = rolecall(&account, &manifests, &["apply", "--auto-approve"])
        .output()
        .unwrap();
    let rerun_stderr = String::from_utf8_lossy(&rerun.stderr);
    assert!(rerun.status.success(), "rerun failed: {rerun_stderr}");
    // The killed apply's lock file still names it; the OS released the lock.
    assert!(
        rerun_stderr.contains("took over the account lock"),
        "{rerun_stderr}"
    );
    assert_eq!(effects_in(&account), Some(TOTAL_EFFECTS));
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
