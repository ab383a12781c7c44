//! Generated stacks for benchmarks: `mod common;` from any bench.

use std::fmt::Write as _;
use std::path::Path;

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
