//! Plan speed and memory at scale (issue 4): N roles + N profiles + N
//! instances, planned against an empty account and against a converged one,
//! for N = 10,000 and 100,000 (time should grow no faster than N log N).
//!
//! Measures the planner on a loaded stack (loading has its own bench, `load`;
//! reading the account has its own, `emulator`). The converged account is
//! built in memory exactly as apply leaves it (ownership and spec tags).
//! Peak memory of the process is printed at the end (VmHWM).
//!
//!     cargo bench --bench plan

mod common;

use std::time::Duration;

use common::converged;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rolecall::model::*;
use rolecall::plan::{self, PlanOptions};

const SIZES: &[usize] = &[10_000, 100_000];

fn bench(c: &mut Criterion) {
    let options = PlanOptions {
        force: false,
        launch_instances: true,
    };
    let mut group = c.benchmark_group("plan");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for &n in SIZES {
        let desired = common::desired(n);
        let empty = Live {
            account_id: "123456789012".into(),
            ..Live::default()
        };
        let converged = converged(&desired);
        // Sanity: these are the two cases we claim to measure.
        let full = plan::plan(&desired, &empty, options).expect("plans");
        assert_eq!(full.summary.create, 3 * n);
        assert!(
            plan::plan(&desired, &converged, options)
                .expect("plans")
                .steps
                .is_empty()
        );
        eprintln!("plan/empty/{n}: {} steps", full.steps.len());
        drop(full);
        group.bench_with_input(BenchmarkId::new("empty", n), &n, |b, _| {
            b.iter_with_large_drop(|| plan::plan(&desired, &empty, options))
        });
        group.bench_with_input(BenchmarkId::new("converged", n), &n, |b, _| {
            b.iter_with_large_drop(|| plan::plan(&desired, &converged, options))
        });
    }
    group.finish();
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        eprintln!(
            "peak memory of the bench process: {}",
            line.trim_start_matches("VmHWM:").trim()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
