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

/// Documents per generated file for the light stack: large files, as a
/// generator would write them, but several of them so directory walking and
/// per-file work are measured too.
const DOCUMENTS_PER_FILE: usize = 5_000;

/// Documents per file for the heavy stack: 300,001 documents in 101 files.
const HEAVY_DOCUMENTS_PER_FILE: usize = 3_000;

/// Which generated stack to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Each role: `trust: ec2` shorthand, one AWS-managed policy, one inline
    /// policy with one resource, one tag; each profile one tag; 5,000
    /// documents per file (about 36 MB at N = 100,000).
    Light,
    /// The stack issue 16 measures, as a large organisation writes it. Each
    /// role: a trust policy written out in full (EC2 may assume it), one
    /// AWS-managed policy, one inline policy of one statement with two
    /// actions and two resources (a bucket and its objects), two tags, in
    /// block style with short lists in flow style; each profile holds its
    /// role and has two tags; each instance names its profile; 3,000
    /// documents per file (101 files and about 63 MB at N = 100,000).
    Heavy,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Light => "light",
            Shape::Heavy => "heavy",
        }
    }
}

/// Writes a valid light stack of `roles` roles, `profiles` instance profiles
/// (profile `i` holds role `i % roles`) and `instances` instances (instance
/// `i` uses profile `i % profiles`) as YAML files under `dir`.
pub fn write_stack(dir: &Path, roles: usize, profiles: usize, instances: usize) {
    write_shaped_stack(dir, Shape::Light, roles, profiles, instances);
}

/// Writes a valid stack of the given [`Shape`]: `roles` roles, `profiles`
/// instance profiles (profile `i` holds role `i % roles`) and `instances`
/// instances (instance `i` uses profile `i % profiles`) as YAML files under
/// `dir`.
pub fn write_shaped_stack(
    dir: &Path,
    shape: Shape,
    roles: usize,
    profiles: usize,
    instances: usize,
) {
    let mut documents: Vec<String> = Vec::with_capacity(roles + profiles + instances + 1);
    documents.push(
        "kind: Stack\nname: bench\ntags:\n  owner: platform\n  environment: bench\n".to_string(),
    );
    for i in 0..roles {
        documents.push(match shape {
            Shape::Light => light_role(i),
            Shape::Heavy => heavy_role(i),
        });
    }
    for i in 0..profiles {
        let role = i % roles.max(1);
        let role_line = if roles > 0 {
            format!("role: role-{role}\n")
        } else {
            String::new()
        };
        let second_tag = match shape {
            Shape::Light => String::new(),
            Shape::Heavy => format!("  service: service-{}\n", i % 1000),
        };
        documents.push(format!(
            "kind: InstanceProfile\nname: profile-{i}\npath: /bench/\n{role_line}tags:\n  team: team-{}\n{second_tag}",
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
    let per_file = match shape {
        Shape::Light => DOCUMENTS_PER_FILE,
        Shape::Heavy => HEAVY_DOCUMENTS_PER_FILE,
    };
    std::fs::create_dir_all(dir).expect("create the stack directory");
    for (n, chunk) in documents.chunks(per_file).enumerate() {
        let mut text = String::new();
        for document in chunk {
            let _ = write!(text, "---\n{document}");
        }
        std::fs::write(dir.join(format!("stack-{n:03}.yaml")), text).expect("write a stack file");
    }
}

fn light_role(i: usize) -> String {
    format!(
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
    )
}

fn heavy_role(i: usize) -> String {
    format!(
        "kind: Role
name: role-{i}
trust:
  Version: \"2012-10-17\"
  Statement: [{{Effect: Allow, Principal: {{Service: ec2.amazonaws.com}}, Action: \"sts:AssumeRole\"}}]
managed_policies: [arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore]
inline_policies:
  read-assets:
    Version: \"2012-10-17\"
    Statement:
      - Effect: Allow
        Action: [s3:GetObject, s3:ListBucket]
        Resource: [\"arn:aws:s3:::bench-assets-{i}\", \"arn:aws:s3:::bench-assets-{i}/*\"]
tags: {{team: team-{}, cost-center: cc-{}}}
",
        i % 50,
        i % 200
    )
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
