//! The reconciler: manifests in, plans out, plans applied, drift found.
//!
//! `manifest` loads the desired state, `compare` sets it beside the live one,
//! `plan` orders the calls, `apply` runs them through any `rolecall_cloud::Cloud`.
//! Nothing here knows SQLite, HTTP or an AWS SDK: backends come from outside.

pub mod apply;
pub mod compare;
pub mod drift;
pub mod graph;
pub mod import;
pub(crate) mod in_order;
pub mod lint;
pub mod manifest;
pub mod parallel;
pub mod phase;
pub mod plan;
pub mod simulate;
