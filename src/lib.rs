//! rolecall: reconcile AWS IAM roles, instance profiles, tags and EC2
//! instance-profile associations with YAML manifests kept in git.
//!
//! This package is the command line (`cli`) and the choice of backend
//! (`backend`). The work is done by the workspace's crates, one per layer
//! (see ARCHITECTURE.md): `rolecall-policy`, `rolecall-model`,
//! `rolecall-cloud`, `rolecall-engine`, `rolecall-emulator`, `rolecall-wire`,
//! `rolecall-server`. They are
//! re-exported here under the module paths they had in one crate, so tests,
//! benchmarks and callers write `rolecall::plan::…` whichever crate holds it.

pub mod backend;
pub mod cli;

/// The AWS API as a `Cloud` (today: endpoints on plain HTTP such as `rolecall serve`).
pub use rolecall_aws as aws;
pub use rolecall_cloud as cloud;
/// The operation table, for code generic over operations (tests among it).
pub use rolecall_cloud::with_operations;
pub use rolecall_emulator as emulator;
pub use rolecall_engine::{
    apply, compare, drift, graph, import, lint, manifest, phase, plan, simulate,
};
pub use rolecall_model as model;
pub use rolecall_model::{printable, user_file};
pub use rolecall_server as server;
