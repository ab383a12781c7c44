//! rolecall: reconcile AWS IAM roles, instance profiles, tags and EC2
//! instance-profile associations with YAML manifests kept in git.
//!
//! Pipeline (see ARCHITECTURE.md): `manifest` loads `Desired`, a `cloud::Cloud`
//! snapshot gives `Live`, `plan` diffs and sequences them into steps, `apply`
//! executes the steps.

pub mod apply;
pub mod backend;
pub mod cli;
pub mod cloud;
pub mod compare;
pub mod drift;
pub mod emulator;
pub mod graph;
pub mod import;
pub mod manifest;
pub mod model;
pub mod plan;
pub mod printable;
pub mod user_file;
