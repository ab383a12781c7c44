//! The layering rule of ARCHITECTURE.md, checked on the workspace's own
//! manifests: each crate depends only on the crates below it, and the heavy
//! dependencies stay where they are needed (no SQLite in the engine, no HTTP
//! in the engine or the emulator, no AWS SDK below the CLI).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Each workspace crate, and the workspace crates it may depend on.
const ALLOWED: &[(&str, &[&str])] = &[
    ("rolecall-policy", &[]),
    ("rolecall-evaluation", &["rolecall-policy"]),
    ("rolecall-model", &["rolecall-policy"]),
    ("rolecall-cloud", &["rolecall-model"]),
    ("rolecall-emulator", &["rolecall-model", "rolecall-cloud"]),
    (
        "rolecall-engine",
        &["rolecall-model", "rolecall-cloud", "rolecall-evaluation"],
    ),
    ("rolecall-wire", &["rolecall-model", "rolecall-cloud"]),
    (
        "rolecall-server",
        &[
            "rolecall-model",
            "rolecall-cloud",
            "rolecall-emulator",
            "rolecall-wire",
            "rolecall-evaluation",
        ],
    ),
    (
        "rolecall-aws",
        &["rolecall-model", "rolecall-cloud", "rolecall-wire"],
    ),
    (
        "rolecall",
        &[
            "rolecall-model",
            "rolecall-cloud",
            "rolecall-emulator",
            "rolecall-engine",
            "rolecall-server",
            "rolecall-aws",
        ],
    ),
];

/// Dependencies a crate must never have, directly or through another
/// workspace crate: a name, or a prefix ending in `-` for a family of crates.
/// HTTP stacks belong to `rolecall-server` (and the AWS backend to come),
/// the AWS SDK to that backend, SQLite to the emulator.
const HTTP: &[&str] = &["hyper", "axum", "reqwest", "ureq", "tokio", "tower"];
const AWS_SDK: &[&str] = &["aws-"];
const SQLITE: &[&str] = &["rusqlite", "libsqlite3-sys"];
const FORBIDDEN: &[(&str, &[&[&str]])] = &[
    ("rolecall-policy", &[HTTP, AWS_SDK, SQLITE]),
    // Deciding a request is pure computation over documents.
    ("rolecall-evaluation", &[HTTP, AWS_SDK, SQLITE]),
    ("rolecall-model", &[HTTP, AWS_SDK, SQLITE]),
    ("rolecall-cloud", &[HTTP, AWS_SDK, SQLITE]),
    ("rolecall-engine", &[HTTP, AWS_SDK, SQLITE]),
    ("rolecall-emulator", &[HTTP, AWS_SDK]),
    // The wire codec turns bodies into calls and back; the HTTP server and
    // the signature checks around it live in the crates above it.
    ("rolecall-wire", &[HTTP, SQLITE]),
    // The server answers with the emulator; it never calls AWS.
    ("rolecall-server", &[AWS_SDK]),
    // A client of AWS holds no account of its own.
    ("rolecall-aws", &[SQLITE]),
];

fn is_forbidden(dependency: &str, families: &[&[&str]]) -> bool {
    families
        .iter()
        .flat_map(|family| family.iter())
        .any(|name| dependency == *name || (name.ends_with('-') && dependency.starts_with(name)))
}

/// `cargo metadata` of the workspace's own packages (`--no-deps`: nothing
/// is resolved or downloaded, so it runs offline).
fn metadata() -> serde_json::Value {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

/// Workspace package name -> names of its normal dependencies (not
/// dev-dependencies, which are for tests and do not ship), on any platform.
fn graph(meta: &serde_json::Value) -> BTreeMap<String, BTreeSet<String>> {
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| {
            let deps = package["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|dep| dep["kind"].is_null())
                .map(|dep| dep["name"].as_str().unwrap().to_string())
                .collect();
            (package["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

/// Everything a crate depends on through the workspace's crates: its own
/// dependencies and theirs.
fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(name) = stack.pop() {
        for dep in graph.get(&name).into_iter().flatten() {
            if seen.insert(dep.clone()) {
                stack.push(dep.clone());
            }
        }
    }
    seen
}

#[test]
fn each_crate_depends_only_on_the_layers_below_it() {
    let meta = metadata();
    let graph = graph(&meta);
    let members: BTreeSet<String> = graph.keys().cloned().collect();
    let listed: BTreeSet<String> = ALLOWED.iter().map(|(name, _)| name.to_string()).collect();
    assert_eq!(
        members, listed,
        "every workspace crate has its place in ALLOWED (and ARCHITECTURE.md)"
    );
    for (name, allowed) in ALLOWED {
        let inner: BTreeSet<&str> = graph[*name]
            .iter()
            .map(String::as_str)
            .filter(|dep| members.contains(*dep))
            .collect();
        let extra: Vec<&&str> = inner.iter().filter(|dep| !allowed.contains(dep)).collect();
        assert!(
            extra.is_empty(),
            "{name} depends on {extra:?}, above its layer"
        );
    }
}

#[test]
fn heavy_dependencies_stay_out_of_the_lower_layers() {
    let graph = graph(&metadata());
    for (name, forbidden) in FORBIDDEN {
        let all = reachable(&graph, name);
        let found: Vec<&String> = all
            .iter()
            .filter(|dep| is_forbidden(dep, forbidden))
            .collect();
        assert!(found.is_empty(), "{name} pulls in {found:?}");
    }
    // A family is matched by its prefix.
    assert!(is_forbidden("aws-sdk-iam", &[AWS_SDK]) && !is_forbidden("awsome", &[AWS_SDK]));
    // The check sees dependencies through other crates: the CLI reaches
    // SQLite through the emulator.
    assert!(!graph["rolecall"].contains("rusqlite"));
    assert!(reachable(&graph, "rolecall").contains("rusqlite"));
}
