//! End to end at scale: the real `rolecall` binary on generated stacks of N
//! roles + N profiles + N instances, each command timed with its own peak
//! memory and its profile by phase (issue 16).
//!
//! Two stacks, both written by `benches/common` (`write_shaped_stack`):
//!
//! - **heavy**, the stack issue 16 measures: each role with a trust policy
//!   written out in full, one AWS-managed policy, one inline policy of one
//!   statement with two actions and two resources, two tags; each profile
//!   holding its role, with two tags; each instance naming its profile.
//!   3,000 documents per file: 101 files, about 69 MB at N = 100,000;
//! - **light**, the earlier benchmarks' stack: `trust: ec2` shorthand, one
//!   resource and one tag per role, 5,000 documents per file (56 MB).
//!
//! For each, in one run: `validate` (which lints), `plan` against an empty
//! account (text and JSON), `apply` of the whole stack, `plan` against the
//! converged account, and `drift` with 1% of the roles changed by hand,
//! each but apply run three times (the median time, the highest peak
//! memory); then the ratio of plan to validate, of those medians and, as
//! the median of five, of `validate` and `plan` run in turn (the shared
//! machine has slow minutes, and a pair run back to back shares one).
//! Targets (issue 16, heavy stack, N = 100,000, release build, 2 cores):
//! validate under 2 s; plan against an empty account under 4 s, at most
//! 1.5 times validate and under 1 GB; plan against the converged account
//! under 3 s.
//!
//! Each command runs with `ROLECALL_LOG=rolecall::phase=debug`: the
//! binary's own timing of each phase (read, parse, convert, validate,
//! build, snapshot, diff, steps, refusals, sequence, render) is printed
//! under its line. Phases on worker threads are summed over the workers
//! (CPU time), so they may add up to more than the wall time.
//!
//! Run it:
//!
//!     cargo bench --bench scale                     N = 100,000, both stacks
//!     cargo bench --bench scale -- 20000            one N
//!     cargo bench --bench scale -- 100000 heavy     one stack
//!
//! To keep a generated stack: `cargo run --release --example gen_stack -- N DIR`.

mod common;

use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Shape;
use rolecall::cloud::Cloud;
use rolecall::cloud::iam::{Tag, TagRoleRequest};
use rolecall::emulator::Emulator;

/// How one run of the binary went (or, from [`median_run`], the median of
/// several).
struct Run {
    elapsed: Duration,
    peak_rss_mb: f64,
    code: i32,
    /// `(phase, milliseconds)` as the binary logged them, in order.
    phases: Vec<(String, f64)>,
    /// Of [`median_run`]: every run's time, in increasing order.
    times: Vec<Duration>,
}

/// Runs of each command the summary reports: a shared machine has slow
/// moments, which one run of each command measured as much as the code.
const RUNS: usize = 3;

/// `rolecall args` run [`RUNS`] times, each ending with `code`: the run of
/// the median time (its phases with it), with the highest peak memory of
/// them all.
fn median_run(dir: &Path, args: &[&str], code: i32) -> Run {
    let mut runs: Vec<Run> = (0..RUNS)
        .map(|_| {
            let run = rolecall(dir, args);
            assert_eq!(run.code, code, "rolecall {}", args.join(" "));
            run
        })
        .collect();
    let peak_rss_mb = runs.iter().map(|run| run.peak_rss_mb).fold(0.0, f64::max);
    runs.sort_by_key(|run| run.elapsed);
    let times = runs.iter().map(|run| run.elapsed).collect();
    let mut median = runs.swap_remove(RUNS / 2);
    median.peak_rss_mb = peak_rss_mb;
    median.times = times;
    median
}

/// Runs `rolecall ARGS` with stdout discarded; returns its wall time, peak
/// resident memory (from `wait4`, for this child alone), exit code and the
/// phases it logged. Other lines it writes to stderr are passed on.
fn rolecall(dir: &Path, args: &[&str]) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .current_dir(dir)
        .env_remove("ROLECALL_ACCOUNT")
        .env("NO_COLOR", "1")
        .env("ROLECALL_LOG", "rolecall::phase=debug")
        .args(["--account", "account.db"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rolecall starts");
    // Read stderr while the child runs, so a full pipe never stalls it.
    let mut stderr = child.stderr.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
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
    let stderr = reader.join().expect("stderr read");
    let mut phases = Vec::new();
    for line in stderr.lines() {
        match parse_phase(line) {
            Some(phase) => phases.push(phase),
            None => eprintln!("{line}"),
        }
    }
    Run {
        elapsed,
        // Linux reports ru_maxrss in KiB.
        peak_rss_mb: usage.ru_maxrss as f64 / 1024.0,
        code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        phases,
        times: Vec::new(),
    }
}

/// `DEBUG phase parse (summed over workers): 9681.3 ms` as its name and time.
fn parse_phase(line: &str) -> Option<(String, f64)> {
    let rest = &line[line.find("phase ")? + "phase ".len()..];
    let (name, time) = rest.rsplit_once(": ")?;
    let ms = time.strip_suffix(" ms")?.parse().ok()?;
    Some((name.to_string(), ms))
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
        .env_remove("ROLECALL_LOG")
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

/// Prints one command's line, then its phases.
fn report(shape: Shape, name: &str, n: usize, run: &Run) {
    let runs = if run.times.is_empty() {
        String::new()
    } else {
        let times: Vec<String> = run
            .times
            .iter()
            .map(|time| format!("{:.2}", time.as_secs_f64()))
            .collect();
        format!(" (median of {} s)", times.join(", "))
    };
    println!(
        "scale/{}/{name}/{n}: {:.2} s{runs}, peak memory {:.0} MB",
        shape.name(),
        run.elapsed.as_secs_f64(),
        run.peak_rss_mb
    );
    for (phase, ms) in &run.phases {
        println!("    {phase:<40} {:>9.1} ms", ms);
    }
}

/// What one stack measured, for the summary.
struct Measured {
    shape: Shape,
    n: usize,
    megabytes: f64,
    validate: Run,
    plan_empty: Run,
    plan_empty_json: Run,
    plan_converged: Run,
    drift: Run,
    /// The median of [`ratio_in_turn`].
    plan_per_validate: f64,
}

/// Pairs of `validate` and `plan` (text, empty account) run in turn, for
/// [`ratio_in_turn`].
const PAIRS: usize = 5;

/// Plan's time over validate's, for each of [`PAIRS`] pairs run one right
/// after the other, in increasing order: a slow minute weighs on both
/// runs of a pair alike, as it does not on two runs minutes apart.
fn ratio_in_turn(dir: &Path) -> Vec<f64> {
    let mut ratios: Vec<f64> = (0..PAIRS)
        .map(|_| {
            let validate = rolecall(dir, &["validate"]);
            let plan = rolecall(dir, &["-q", "plan"]);
            assert_eq!((validate.code, plan.code), (0, 0));
            plan.elapsed.as_secs_f64() / validate.elapsed.as_secs_f64()
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios
}

fn scale(shape: Shape, n: usize) -> Measured {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path();
    let manifests = path.join("manifests");
    common::write_shaped_stack(&manifests, shape, n, n, n);
    let bytes: u64 = std::fs::read_dir(&manifests)
        .expect("the stack")
        .filter_map(|entry| entry.ok()?.metadata().ok())
        .map(|metadata| metadata.len())
        .sum();
    let megabytes = bytes as f64 / 1e6;
    println!(
        "== {} stack: {} resources, {megabytes:.1} MB of YAML",
        shape.name(),
        3 * n
    );

    // Without -q: validate lints too, as a user runs it.
    let validate = median_run(path, &["validate"], 0);
    report(shape, "validate", n, &validate);

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
    let plan_empty = median_run(path, &["-q", "plan"], 0);
    report(shape, "plan/empty", n, &plan_empty);
    let plan_empty_json = median_run(path, &["-q", "plan", "--format", "json"], 0);
    report(shape, "plan/empty/json", n, &plan_empty_json);

    let in_turn = ratio_in_turn(path);
    let plan_per_validate = in_turn[in_turn.len() / 2];
    println!(
        "scale/{}/plan-per-validate/{n}: {} in turn, median {plan_per_validate:.2}",
        shape.name(),
        in_turn
            .iter()
            .map(|ratio| format!("{ratio:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
    );

    let steps = count_steps(path);
    let apply = rolecall(path, &["-q", "apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "apply succeeds");
    report(shape, "apply", n, &apply);
    println!(
        "scale/{}/apply/{n}: {steps} steps, {:.0} steps/s (load, plan and apply)",
        shape.name(),
        steps as f64 / apply.elapsed.as_secs_f64()
    );

    // Exit 0 with --detailed-exitcode: nothing left to do after apply.
    let plan_converged = median_run(path, &["-q", "plan", "--detailed-exitcode"], 0);
    report(shape, "plan/converged", n, &plan_converged);

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
    // Exit 2: drift found.
    let drift = median_run(path, &["-q", "drift"], 2);
    report(shape, "drift/1pct", n, &drift);

    Measured {
        shape,
        n,
        megabytes,
        plan_per_validate,
        validate,
        plan_empty,
        plan_empty_json,
        plan_converged,
        drift,
    }
}

/// The table that ends the run: one line per stack.
fn summary(all: &[Measured]) {
    println!();
    println!(
        "{:<7} {:>8} {:>7} | {:>16} {:>16} {:>16} {:>16} {:>16} | {:>10} {:>8}",
        "stack",
        "N",
        "MB",
        "validate",
        "plan empty",
        "plan empty json",
        "plan converged",
        "drift 1%",
        "plan/valid",
        "in turn"
    );
    let cell = |run: &Run| {
        format!(
            "{:.2} s {:>4.0} MB",
            run.elapsed.as_secs_f64(),
            run.peak_rss_mb
        )
    };
    for m in all {
        println!(
            "{:<7} {:>8} {:>7.1} | {:>16} {:>16} {:>16} {:>16} {:>16} | {:>10.2} {:>8.2}",
            m.shape.name(),
            m.n,
            m.megabytes,
            cell(&m.validate),
            cell(&m.plan_empty),
            cell(&m.plan_empty_json),
            cell(&m.plan_converged),
            cell(&m.drift),
            m.plan_empty.elapsed.as_secs_f64() / m.validate.elapsed.as_secs_f64(),
            m.plan_per_validate,
        );
    }
}

fn main() {
    let mut sizes = Vec::new();
    let mut shapes = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "heavy" => shapes.push(Shape::Heavy),
            "light" => shapes.push(Shape::Light),
            other => {
                if let Ok(n) = other.parse::<usize>() {
                    sizes.push(n);
                }
                // Anything else is cargo bench's own (`--bench`).
            }
        }
    }
    if sizes.is_empty() {
        sizes.push(100_000);
    }
    if shapes.is_empty() {
        shapes = vec![Shape::Heavy, Shape::Light];
    }
    let mut all = Vec::new();
    for &shape in &shapes {
        for &n in &sizes {
            all.push(scale(shape, n));
        }
    }
    summary(&all);
}
