//! Rendering plans for people (text, markdown) and programs (JSON, DOT).
//!
//! Renderers return strings; only the CLI prints. `lines` turns one change into
//! signed lines that both text and markdown use, so they never disagree.

pub mod dot;
pub mod lines;
pub mod markdown;
pub mod text;

use super::Plan;

/// The plan as DESIGN.md's JSON (format_version 1), pretty-printed; saved-plan
/// fields (account, fingerprints) are left out.
pub fn json(plan: &Plan) -> String {
    let mut public = plan.clone();
    public.account_id = None;
    public.fingerprints.clear();
    let mut out = serde_json::to_string_pretty(&public).unwrap_or_default();
    out.push('\n');
    out
}

/// `Plan: 1 to create, 0 to update, 0 to replace, 2 to delete.`
pub fn summary_line(plan: &Plan) -> String {
    let s = plan.summary;
    format!(
        "Plan: {} to create, {} to update, {} to replace, {} to delete.",
        s.create, s.update, s.replace, s.delete
    )
}

pub const NO_CHANGES: &str = "No changes. Live state matches the manifests.";
