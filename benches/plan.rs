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

use std::collections::BTreeMap;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rolecall::model::*;
use rolecall::plan::diff::instance_hash;
use rolecall::plan::ownership::spec_hash;
use rolecall::plan::{self, PlanOptions};

const SIZES: &[usize] = &[10_000, 100_000];

fn desired(n: usize) -> Desired {
    let dir = tempfile::tempdir().expect("temp dir");
    common::write_stack(dir.path(), n, n, n);
    rolecall::manifest::load(&[dir.path().to_path_buf()])
        .expect("generated stack loads")
        .desired
}

fn owned(tags: &Tags, stack: &str, hash: String) -> Tags {
    let mut tags = tags.clone();
    tags.insert(TAG_STACK.into(), stack.into());
    tags.insert(TAG_SPEC.into(), hash);
    tags
}

/// The account as `apply` leaves it for `desired`.
fn converged(desired: &Desired) -> Live {
    let account = "123456789012";
    let roles = desired
        .roles
        .iter()
        .map(|(name, role)| {
            let mut live = role.clone();
            live.tags = owned(&role.tags, &desired.stack, spec_hash(role));
            let arn = format!("arn:aws:iam::{account}:role{}{name}", role.path);
            (
                name.clone(),
                LiveRole {
                    role: live,
                    arn,
                    role_id: format!("AROA{name}"),
                },
            )
        })
        .collect();
    let profiles = desired
        .profiles
        .iter()
        .map(|(name, profile)| {
            let mut live = profile.clone();
            live.tags = owned(&profile.tags, &desired.stack, spec_hash(profile));
            let arn = format!(
                "arn:aws:iam::{account}:instance-profile{}{name}",
                profile.path
            );
            let id = format!("AIPA{name}");
            (
                name.clone(),
                LiveInstanceProfile {
                    profile: live,
                    arn,
                    instance_profile_id: id,
                },
            )
        })
        .collect();
    let mut instances = BTreeMap::new();
    for (i, spec) in desired.instances.iter().enumerate() {
        let InstanceSelector::Name(name) = &spec.selector else {
            continue;
        };
        let id = format!("i-{i:017x}");
        let mut tags = Tags::new();
        tags.insert("Name".into(), name.clone());
        let tags = owned(
            &tags,
            &desired.stack,
            instance_hash(spec.profile.as_deref()),
        );
        let association = spec.profile.as_ref().map(|p| LiveAssociation {
            association_id: format!("iip-assoc-{i:017x}"),
            profile_name: p.clone(),
            profile_arn: format!("arn:aws:iam::{account}:instance-profile/bench/{p}"),
            state: AssociationState::Associated,
        });
        instances.insert(
            id.clone(),
            LiveInstance {
                instance_id: id,
                name: Some(name.clone()),
                state: InstanceState::Running,
                tags,
                association,
            },
        );
    }
    Live {
        account_id: account.into(),
        roles,
        profiles,
        instances,
    }
}

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
        let desired = desired(n);
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
