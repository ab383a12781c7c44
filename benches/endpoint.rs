//! What `rolecall serve` adds to a call: GetRole (a read) and TagRole (a
//! durable write) made in process, through an `Emulator` handle, and through
//! the endpoint, with rolecall's own client (wire codec, SigV4 signing, one
//! kept-alive connection), against the same account file on loopback.
//!
//! After criterion's report, a paired summary: the two ways are called in
//! alternation, so a slow spell of the disk (TagRole waits for an fsync)
//! lands on both, and the figure reported is the median over the pairs of
//! what the endpoint added (the target is at most 250 µs), with calls per
//! second from the medians.

mod common; // the binary's allocator

#[path = "../tests/support/served.rs"]
#[allow(dead_code)] // the tests' helper; the bench uses part of it
mod served;

use std::time::Instant;

use criterion::{Criterion, criterion_group};
use rolecall::cloud::Cloud;
use rolecall::cloud::iam::*;
use served::Served;

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The added time per call the endpoint may cost.
const TARGET_US: f64 = 250.0;

/// Pairs of calls the summary times.
const PAIRS: usize = 3000;
const IN_PROCESS: &str = "in process";
const ENDPOINT: &str = "through the endpoint";

/// An account with one role, its server, and a client of the server.
struct Bench {
    // Kept for its drop: the server stops with the bench.
    _served: Served,
    local: rolecall::emulator::Emulator,
    client: rolecall::aws::AwsClient,
    /// The last tag value written: every TagRole writes a new one.
    tagged: u64,
}

impl Bench {
    fn new() -> Bench {
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
        // Both answer the same before anything is measured.
        assert_eq!(
            local.get_role(&get()).expect("get role"),
            client
                .get_role(&get())
                .expect("get role through the endpoint")
        );
        Bench {
            _served: served,
            local,
            client,
            tagged: 0,
        }
    }

    fn cloud(&self, how: &str) -> &dyn Cloud {
        if how == IN_PROCESS {
            &self.local
        } else {
            &self.client
        }
    }

    /// One call of `operation`, the way `how` says.
    fn call(&mut self, operation: &str, how: &str) {
        match operation {
            "GetRole" => {
                self.cloud(how).get_role(&get()).expect("get role");
            }
            _ => {
                self.tagged += 1;
                let tag = TagRoleRequest {
                    role_name: "web".into(),
                    tags: vec![Tag::new("n", self.tagged.to_string())],
                };
                self.cloud(how).tag_role(&tag).expect("tag role");
            }
        }
    }
}

fn get() -> RoleNameRequest {
    RoleNameRequest {
        role_name: "web".into(),
    }
}

const OPERATIONS: [&str; 2] = ["GetRole", "TagRole"];

fn calls(c: &mut Criterion) {
    let mut bench = Bench::new();
    let mut group = c.benchmark_group("endpoint");
    for operation in OPERATIONS {
        for how in [IN_PROCESS, ENDPOINT] {
            group.bench_function(format!("{operation} {how}"), |b| {
                b.iter(|| bench.call(operation, how))
            });
        }
    }
    group.finish();
}

/// The median of `values` (sorted in place), in µs.
fn median_us(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Times `PAIRS` pairs of calls of `operation`, one in process and one
/// through the endpoint, the first of each pair alternating: the medians of
/// each way and of what the endpoint added within a pair, in µs.
fn paired(bench: &mut Bench, operation: &str) -> (f64, f64, f64) {
    let mut timed = |how: &str| {
        let started = Instant::now();
        bench.call(operation, how);
        started.elapsed().as_secs_f64() * 1e6
    };
    let (mut here, mut there, mut added) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 0..PAIRS {
        let (local, remote) = if pair % 2 == 0 {
            let local = timed(IN_PROCESS);
            (local, timed(ENDPOINT))
        } else {
            let remote = timed(ENDPOINT);
            (timed(IN_PROCESS), remote)
        };
        here.push(local);
        there.push(remote);
        added.push(remote - local);
    }
    (
        median_us(&mut here),
        median_us(&mut there),
        median_us(&mut added),
    )
}

fn summary() {
    let mut bench = Bench::new();
    // Warm both ways up (connections, caches, the WAL) before timing.
    for operation in OPERATIONS {
        for _ in 0..200 {
            bench.call(operation, IN_PROCESS);
            bench.call(operation, ENDPOINT);
        }
    }
    println!();
    println!(
        "endpoint summary (medians over {PAIRS} pairs of calls, each pair one way then the other)"
    );
    println!(
        "{:<10} {:>14} {:>12} {:>14} {:>12} {:>11} {:>7}",
        "operation", "in process/s", "µs/call", "endpoint/s", "µs/call", "added µs", "ratio"
    );
    for operation in OPERATIONS {
        let (here, there, added) = paired(&mut bench, operation);
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
