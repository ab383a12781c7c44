//! Apply throughput (issue 5): a 10,000-role stack (roles with managed and
//! inline policies and tags, 10,000 profiles, 10,000 instances) applied to a
//! fresh emulated account with durable commits; prints steps per second.
//! One long run per repetition, so this is a plain timed harness.
//!
//!     cargo bench --bench apply [-- ROLES [REPETITIONS]]

mod common;

use std::time::Instant;

use rolecall::apply::{self, ApplyOptions, Silent};
use rolecall::cloud::Cloud;
use rolecall::emulator::{Emulator, Quotas};
use rolecall::plan::{self, PlanOptions};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let roles: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let repetitions: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let stack = tempfile::tempdir().expect("temp dir");
    common::write_stack(stack.path(), roles, roles, roles);
    let desired = rolecall::manifest::load(&[stack.path().to_path_buf()], stack.path())
        .expect("generated stack loads")
        .desired;
    let mut rates = Vec::new();
    for _ in 0..repetitions {
        let dir = tempfile::tempdir().expect("temp dir");
        let cloud = Emulator::open(&dir.path().join("account.db")).expect("account");
        cloud
            .set_quotas(&Quotas {
                max_roles: 5000.max(roles as u32),
                max_instance_profiles: 5000.max(roles as u32),
            })
            .expect("quotas");
        let options = PlanOptions {
            force: false,
            launch_instances: true,
        };
        let plan =
            plan::plan(&desired, &cloud.snapshot().expect("snapshot"), options).expect("plan");
        let started = Instant::now();
        let report = apply::execute(&plan, &cloud, &ApplyOptions::default(), &Silent);
        let elapsed = started.elapsed();
        assert!(
            report.succeeded(),
            "apply failed: {} failed",
            report.failed()
        );
        let rate = plan.steps.len() as f64 / elapsed.as_secs_f64();
        println!(
            "apply: {} steps in {:.2} s = {:.0} steps/s",
            plan.steps.len(),
            elapsed.as_secs_f64(),
            rate
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "apply: median {:.0} steps/s over {} runs",
        rates[rates.len() / 2],
        rates.len()
    );
}
