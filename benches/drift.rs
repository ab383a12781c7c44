//! Drift detection at scale (issue 6): 100,000 roles + 100,000 profiles +
//! 100,000 instances, 1% of the roles changed out of band.
//!
//!     cargo bench --bench drift

mod common;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rolecall::drift;

fn bench(c: &mut Criterion) {
    let n = 100_000;
    let desired = common::desired(n);
    let mut live = common::converged(&desired);
    for (i, role) in live.roles.values_mut().enumerate() {
        if i % 100 == 0 {
            role.role.description = "edited by hand".into();
        }
    }
    let report = drift::detect(&desired, &live).expect("comparable");
    assert_eq!(report.summary.modified, n / 100);
    let mut group = c.benchmark_group("drift");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("100k_each_1pct_drifted", |b| {
        b.iter_with_large_drop(|| drift::detect(&desired, &live).expect("comparable"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
