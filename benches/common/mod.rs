//! Generated stacks for benchmarks: `mod common;` from any bench.

#![allow(dead_code)] // each bench uses its own part

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use rolecall::model::*;

// The allocator of the `rolecall` binary (src/main.rs), so in-process
// benchmarks measure what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use rolecall::compare::instance_hash;
use rolecall::compare::ownership::spec_hash;

/// Documents per generated file: large files, as a generator would write them,
/// but several of them so directory walking and per-file work are measured too.
const DOCUMENTS_PER_FILE: usize = 5_000;

/// Writes a valid stack of `roles` roles, `profiles` instance profiles (profile
/// `i` holds role `i % roles`) and `instances` instances (instance `i` uses
/// profile `i % profiles`) as YAML files under `dir`.
pub fn write_stack(dir: &Path, roles: usize, profiles: usize, instances: usize) {
    let mut documents: Vec<String> = Vec::with_capacity(roles + profiles + instances + 1);
    documents.push(
        "kind: Stack\nname: bench\ntags:\n  owner: platform\n  environment: bench\n".to_string(),
    );
    for i in 0..roles {
        documents.push(format!(
            "kind: Role
name: role-{i}
path: /bench/
description: generated role {i}
trust: ec2
max_session_duration: 7200
managed_policies:
  - arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore
inline_policies:
  read-assets:
    Version: \"2012-10-17\"
    Statement:
      - Effect: Allow
        Action: [s3:GetObject, s3:ListBucket]
        Resource: arn:aws:s3:::bench-assets-{i}/*
tags:
  team: team-{}
",
            i % 50
        ));
    }
    for i in 0..profiles {
        let role = i % roles.max(1);
        let role_line = if roles > 0 {
            format!("role: role-{role}\n")
        } else {
            String::new()
        };
        documents.push(format!(
            "kind: InstanceProfile\nname: profile-{i}\npath: /bench/\n{role_line}tags:\n  team: team-{}\n",
            i % 50
        ));
    }
    for i in 0..instances {
        let profile = if profiles > 0 {
            format!("profile-{}", i % profiles)
        } else {
            "null".to_string()
        };
        documents.push(format!(
            "kind: Instance\nname: host-{i}\nprofile: {profile}\n"
        ));
    }
    std::fs::create_dir_all(dir).expect("create the stack directory");
    for (n, chunk) in documents.chunks(DOCUMENTS_PER_FILE).enumerate() {
        let mut text = String::new();
        for document in chunk {
            let _ = write!(text, "---\n{document}");
        }
        std::fs::write(dir.join(format!("stack-{n:03}.yaml")), text).expect("write a stack file");
    }
}

/// Loads a generated stack of `n` roles, `n` profiles and `n` instances.
pub fn desired(n: usize) -> Desired {
    let dir = tempfile::tempdir().expect("temp dir");
    write_stack(dir.path(), n, n, n);
    rolecall::manifest::load(&[dir.path().to_path_buf()], dir.path())
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
pub fn converged(desired: &Desired) -> Live {
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
        // Unknown: a benchmark plans at sizes past any quota.
        quotas: Default::default(),
        // Unknown too: not checked, as on a backend that cannot tell.
        partition: None,
        policies: Default::default(),
    }
}
