//! End to end at scale: the real `rolecall` binary on a generated stack of N
//! roles + N profiles + N instances, each command timed with its own peak
//! memory (issues 2, 4, 5 and 6):
//!
//! - `validate` (target: 100,000 resources in under 2 s);
//! - `plan` against an empty account and against a converged one (target:
//!   under 10 s and 2 GB each at N = 100,000, time growing no faster than
//!   N log N from 10,000 to 100,000);
//! - `apply` of the whole stack to a fresh account (steps per second);
//! - `drift` with 1% of the roles changed out of band (target: under 10 s).
//!
//! Run it:
//!
//!     cargo bench --bench scale                 N = 10,000 then 100,000
//!     cargo bench --bench scale -- 20000        one N
//!
//! The stack generator is `benches/common` (`write_stack`); to keep a
//! generated stack, `cargo run --release --example gen_stack -- N DIR`.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rolecall::cloud::Cloud;
use rolecall::cloud::iam::{Tag, TagRoleRequest};
use rolecall::emulator::Emulator;

/// How one run of the binary went.
struct Run {
    elapsed: Duration,
    peak_rss_mb: f64,
    code: i32,
}

/// Runs `rolecall ARGS` with output discarded; returns its wall time, peak
/// resident memory (from `wait4`, for this child alone) and exit code.
fn rolecall(dir: &Path, args: &[&str]) -> Run {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .current_dir(dir)
        .env_remove("ROLECALL_ACCOUNT")
        .env("NO_COLOR", "1")
        .args(["--account", "account.db"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("rolecall starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; both pointers are
    // to live locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let elapsed = started.elapsed();
    std::mem::forget(child); // already reaped
    Run {
        elapsed,
        // Linux reports ru_maxrss in KiB.
        peak_rss_mb: usage.ru_maxrss as f64 / 1024.0,
        code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
    }
}

/// The number of steps `rolecall plan` finds, read from its JSON as it
/// streams by. (Planning in this process would raise its memory high-water
/// mark, which Linux hands on to every child it starts: their peaks would
/// read too high.)
fn count_steps(dir: &Path) -> usize {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .current_dir(dir)
        .env_remove("ROLECALL_ACCOUNT")
        .args(["--account", "account.db", "-q", "plan", "--format", "json"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("rolecall starts");
    let stdout = child.stdout.take().expect("piped");
    let steps = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .filter(|line| line.trim_start().starts_with("\"operation\":"))
        .count();
    assert!(child.wait().expect("plan ends").success());
    steps
}

fn report(name: &str, n: usize, run: &Run) {
    println!(
        "scale/{name}/{n}: {:.2} s, peak memory {:.0} MB",
        run.elapsed.as_secs_f64(),
        run.peak_rss_mb
    );
}

/// The plan times at this N: (empty account, converged account).
fn scale(n: usize) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path();
    common::write_stack(&path.join("manifests"), n, n, n);
    let resources = 3 * n;

    let validate = rolecall(path, &["validate", "-q"]);
    assert_eq!(validate.code, 0, "the generated stack validates");
    report(&format!("validate ({resources} resources)"), n, &validate);

    // An empty account whose quotas fit the stack (without an account file,
    // plan checks against a new account's 1000 roles and profiles).
    let limit = n.max(1000).to_string();
    let configured = rolecall(
        path,
        &[
            "emulator",
            "configure",
            "--max-roles",
            &limit,
            "--max-instance-profiles",
            &limit,
        ],
    );
    assert_eq!(configured.code, 0);
    let empty = rolecall(path, &["-q", "plan"]);
    assert_eq!(empty.code, 0);
    report("plan/empty", n, &empty);
    let steps = count_steps(path);
    let apply = rolecall(path, &["-q", "apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "apply succeeds");
    report("apply", n, &apply);
    println!(
        "scale/apply/{n}: {steps} steps, {:.0} steps/s (load, plan and apply)",
        steps as f64 / apply.elapsed.as_secs_f64()
    );

    let converged = rolecall(path, &["-q", "plan", "--detailed-exitcode"]);
    assert_eq!(converged.code, 0, "nothing left to do after apply");
    report("plan/converged", n, &converged);

    // 1% of the roles changed by hand.
    let cloud = Emulator::open(&path.join("account.db")).expect("account");
    for i in (0..n).step_by(100) {
        cloud
            .tag_role(&TagRoleRequest {
                role_name: format!("role-{i}"),
                tags: vec![Tag::new("edited", "by-hand")],
            })
            .expect("tag");
    }
    drop(cloud);
    let drift = rolecall(path, &["-q", "drift"]);
    assert_eq!(drift.code, 2, "drift found");
    report("drift/1pct", n, &drift);

    (empty.elapsed.as_secs_f64(), converged.elapsed.as_secs_f64())
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    let times: Vec<(usize, (f64, f64))> = sizes.iter().map(|&n| (n, scale(n))).collect();
    if let [
        (small, (small_empty, small_converged)),
        ..,
        (large, (large_empty, large_converged)),
    ] = times.as_slice()
    {
        let (small, large) = (*small as f64, *large as f64);
        let n_log_n = (large * large.ln()) / (small * small.ln());
        println!(
            "scale/plan growth from {small} to {large}: empty x{:.1}, converged x{:.1} (N log N allows x{n_log_n:.1})",
            large_empty / small_empty,
            large_converged / small_converged,
        );
    }
}
