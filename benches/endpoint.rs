//! What `rolecall serve` adds to a call: GetRole (a read) and TagRole (a
//! durable write) made in process, through an `Emulator` handle, and through
//! the endpoint, with rolecall's own client (wire codec, SigV4 signing, one
//! kept-alive connection), against the same account file on loopback.
//!
//! After criterion's report, a summary: calls per second and µs per call for
//! each, and the µs the endpoint adds per call (the target is at most 250).
//! Its figures are the mean over every iteration criterion ran of each
//! benchmark, warm-up included.

mod common; // the binary's allocator

#[path = "../tests/support/served.rs"]
#[allow(dead_code)] // the tests' helper; the bench uses part of it
mod served;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use rolecall::cloud::Cloud;
use rolecall::cloud::iam::*;
use served::Served;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The added time per call the endpoint may cost.
const TARGET_US: f64 = 250.0;

/// Per benchmark: iterations and the time they took, over all of criterion's runs.
static TOTALS: Mutex<BTreeMap<&'static str, (u64, Duration)>> = Mutex::new(BTreeMap::new());

const OPERATIONS: &[&str] = &["GetRole", "TagRole"];
const IN_PROCESS: &str = "in process";
const ENDPOINT: &str = "through the endpoint";

fn key(operation: &str, how: &str) -> &'static str {
    match (operation, how) {
        ("GetRole", IN_PROCESS) => "GetRole in process",
        ("GetRole", _) => "GetRole through the endpoint",
        ("TagRole", IN_PROCESS) => "TagRole in process",
        _ => "TagRole through the endpoint",
    }
}

/// Runs `call` `iters` times, timed, and adds the time to `name`'s total.
fn timed(name: &'static str, iters: u64, mut call: impl FnMut()) -> Duration {
    let started = Instant::now();
    for _ in 0..iters {
        call();
    }
    let elapsed = started.elapsed();
    let mut totals = TOTALS.lock().unwrap();
    let total = totals.entry(name).or_default();
    total.0 += iters;
    total.1 += elapsed;
    elapsed
}

fn calls(c: &mut Criterion) {
    let served = Served::start();
    let local = served.emulator();
    let client = served.client();
    local
        .create_role(&CreateRoleRequest {
            role_name: "web".into(),
            assume_role_policy_document: TRUST.into(),
            ..Default::default()
        })
        .expect("create role");
    let get = RoleNameRequest {
        role_name: "web".into(),
    };
    // Both answer the same before anything is measured.
    assert_eq!(
        local.get_role(&get).expect("get role"),
        client
            .get_role(&get)
            .expect("get role through the endpoint")
    );
    let clouds: [(&str, &dyn Cloud); 2] = [(IN_PROCESS, &local), (ENDPOINT, &client)];

    let mut group = c.benchmark_group("endpoint");
    for (how, cloud) in clouds {
        let name = key("GetRole", how);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                timed(name, iters, || {
                    cloud.get_role(&get).expect("get role");
                })
            })
        });
    }
    let mut n = 0u64;
    for (how, cloud) in clouds {
        let name = key("TagRole", how);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                timed(name, iters, || {
                    n += 1;
                    cloud
                        .tag_role(&TagRoleRequest {
                            role_name: "web".into(),
                            tags: vec![Tag::new("n", n.to_string())],
                        })
                        .expect("tag role");
                })
            })
        });
    }
    group.finish();
}

/// µs per call of `name`, if it ran.
fn micros_per_call(totals: &BTreeMap<&'static str, (u64, Duration)>, name: &str) -> Option<f64> {
    let &(iters, time) = totals.get(name)?;
    (iters > 0).then(|| time.as_secs_f64() * 1e6 / iters as f64)
}

fn summary() {
    let totals = TOTALS.lock().unwrap();
    println!();
    println!("endpoint summary (mean of every iteration run, warm-up included)");
    println!(
        "{:<10} {:>14} {:>12} {:>14} {:>12} {:>11} {:>7}",
        "operation", "in process/s", "µs/call", "endpoint/s", "µs/call", "added µs", "ratio"
    );
    for operation in OPERATIONS {
        let (Some(here), Some(there)) = (
            micros_per_call(&totals, key(operation, IN_PROCESS)),
            micros_per_call(&totals, key(operation, ENDPOINT)),
        ) else {
            continue;
        };
        let added = there - here;
        println!(
            "{:<10} {:>14.0} {:>12.1} {:>14.0} {:>12.1} {:>11.1} {:>6.2}x  {}",
            operation,
            1e6 / here,
            here,
            1e6 / there,
            there,
            added,
            there / here,
            if added <= TARGET_US {
                format!("within the {TARGET_US} µs target")
            } else {
                format!("OVER the {TARGET_US} µs target")
            }
        );
    }
}

criterion_group!(benches, calls);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
