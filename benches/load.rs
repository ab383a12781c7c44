//! Loading and validating a generated stack of 100,000 resources
//! (target: under 2 seconds in release).

mod common;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

fn load_100k(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    common::write_stack(dir.path(), 40_000, 40_000, 20_000);
    let paths = vec![dir.path().to_path_buf()];
    let loaded =
        rolecall::manifest::load(&paths, dir.path()).expect("the generated stack is valid");
    assert_eq!(loaded.desired.resource_count(), 100_000);

    let mut group = c.benchmark_group("manifest");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    // Freeing the result is the caller's business (the CLI exits right after), so
    // it is left out of the measurement.
    group.bench_function("load 100k resources", |b| {
        b.iter_with_large_drop(|| rolecall::manifest::load(&paths, dir.path()).expect("valid"))
    });
    group.finish();
}

criterion_group!(benches, load_100k);
criterion_main!(benches);
