//! Emulator benchmarks: single API calls through the Cloud trait (each one a
//! durable `synchronous=FULL` commit), and `snapshot()` of an account with
//! 100,000 roles, 100,000 instance profiles and 100,000 instances.
//!
//! The large account is loaded with `Emulator::import` (one transaction, the
//! same path as `rolecall emulator import`), not with 300,000 API calls.

mod common; // the binary's allocator

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rolecall::cloud::Cloud;
use rolecall::cloud::iam::*;
use rolecall::emulator::{
    AccountExport, AssociationExport, Emulator, InstanceExport, InstanceProfileExport, Quotas,
    RoleExport,
};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::assets/*"}]}"#;
const N: usize = 100_000;

fn tags(i: usize) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("rolecall:stack".to_string(), "bench".to_string()),
        ("rolecall:spec".to_string(), format!("{i:064x}")),
    ])
}

/// 100k roles (each with 2 tags; every tenth with an inline and a managed policy),
/// 100k profiles holding them, 100k running instances associated with them.
fn large_account() -> AccountExport {
    let date = "2026-01-01T00:00:00+00:00".to_string();
    let account = "123456789012";
    let roles = (0..N)
        .map(|i| RoleExport {
            name: format!("role-{i:06}"),
            path: "/".into(),
            role_id: format!("AROA{i:017}"),
            arn: format!("arn:aws:iam::{account}:role/role-{i:06}"),
            create_date: date.clone(),
            assume_role_policy_document: TRUST.into(),
            description: None,
            max_session_duration: 3600,
            permissions_boundary: None,
            managed_policies: if i % 10 == 0 {
                vec!["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess".into()]
            } else {
                Vec::new()
            },
            inline_policies: if i % 10 == 0 {
                BTreeMap::from([("read".to_string(), POLICY.to_string())])
            } else {
                BTreeMap::new()
            },
            tags: tags(i),
        })
        .collect();
    let instance_profiles = (0..N)
        .map(|i| InstanceProfileExport {
            name: format!("profile-{i:06}"),
            path: "/".into(),
            instance_profile_id: format!("AIPA{i:017}"),
            arn: format!("arn:aws:iam::{account}:instance-profile/profile-{i:06}"),
            create_date: date.clone(),
            role: Some(format!("role-{i:06}")),
            visible_at_ms: 0,
            tags: tags(i),
        })
        .collect();
    let instances = (0..N)
        .map(|i| InstanceExport {
            instance_id: format!("i-{i:017x}"),
            reservation_id: format!("r-{i:017x}"),
            image_id: "ami-0abcdef1234567890".into(),
            instance_type: "t3.micro".into(),
            launch_time: date.clone(),
            state: "running".into(),
            tags: BTreeMap::from([("Name".to_string(), format!("web-{i}"))]),
            association: Some(AssociationExport {
                association_id: format!("iip-assoc-{i:017x}"),
                profile_arn: format!("arn:aws:iam::{account}:instance-profile/profile-{i:06}"),
                profile_id: format!("AIPA{i:017}"),
                timestamp: date.clone(),
                ready_at_ms: 0,
            }),
        })
        .collect();
    AccountExport {
        format_version: 1,
        account_id: account.into(),
        quotas: Quotas {
            max_roles: 200_000,
            max_instance_profiles: 200_000,
        },
        faults: Default::default(),
        policies: Vec::new(),
        roles,
        instance_profiles,
        instances,
    }
}

fn single_calls(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let cloud = Emulator::open(&dir.path().join("account.db")).expect("open");
    // Criterion makes many more calls than AWS's default 1000 roles allow.
    cloud
        .set_quotas(&Quotas {
            max_roles: u32::MAX,
            max_instance_profiles: u32::MAX,
        })
        .expect("quotas");
    cloud
        .create_role(&CreateRoleRequest {
            role_name: "web".into(),
            assume_role_policy_document: TRUST.into(),
            ..Default::default()
        })
        .expect("create role");
    let mut group = c.benchmark_group("calls");
    let mut i = 0u64;
    group.bench_function("TagRole (durable write)", |b| {
        b.iter(|| {
            i += 1;
            cloud
                .tag_role(&TagRoleRequest {
                    role_name: "web".into(),
                    tags: vec![Tag::new("n", i.to_string())],
                })
                .expect("tag role")
        })
    });
    let mut n = 0u64;
    group.bench_function("CreateRole (durable write)", |b| {
        b.iter(|| {
            n += 1;
            cloud
                .create_role(&CreateRoleRequest {
                    role_name: format!("r-{n}"),
                    assume_role_policy_document: TRUST.into(),
                    ..Default::default()
                })
                .expect("create role")
        })
    });
    group.bench_function("GetRole (read)", |b| {
        b.iter(|| {
            cloud
                .get_role(&RoleNameRequest {
                    role_name: "web".into(),
                })
                .expect("get role")
        })
    });
    group.finish();
}

fn snapshot(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cloud = Emulator::open(&dir.path().join("account.db")).expect("open");
    let started = Instant::now();
    cloud.import(&large_account()).expect("import");
    eprintln!(
        "fixture: 100k roles + 100k profiles + 100k instances imported in {:?}",
        started.elapsed()
    );
    let live = cloud.snapshot().expect("snapshot");
    assert_eq!(
        (live.roles.len(), live.profiles.len(), live.instances.len()),
        (N, N, N)
    );
    let mut group = c.benchmark_group("snapshot");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("100k roles + 100k profiles + 100k instances", |b| {
        b.iter(|| cloud.snapshot().expect("snapshot"))
    });
    // The same, without the time to free the returned `Live`.
    group.bench_function("100k each, excluding drop", |b| {
        b.iter_with_large_drop(|| cloud.snapshot().expect("snapshot"))
    });
    group.finish();
}

criterion_group!(benches, single_calls, snapshot);
criterion_main!(benches);
