//! Rendering plans for people (text, markdown) and programs (JSON, DOT).
//!
//! Renderers return strings; only the CLI prints. `lines` turns one change into
//! signed lines that both text and markdown use, so they never disagree.

pub mod dot;
pub mod lines;
pub mod markdown;
pub mod text;

use serde::Serialize;

use super::Plan;

/// The published fields of a plan, borrowed (no copy of a large plan):
/// saved-plan fields (account, fingerprints) are left out.
#[derive(Serialize)]
struct PublicPlan<'a> {
    format_version: u32,
    stack: &'a str,
    changes: &'a [super::Change],
    steps: &'a [super::Step],
    warnings: &'a [String],
    summary: &'a super::Summary,
}

/// Streams the plan as the JSON of docs/design.md (format_version 1), pretty-printed.
pub fn write_json(plan: &Plan, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let public = PublicPlan {
        format_version: plan.format_version,
        stack: &plan.stack,
        changes: &plan.changes,
        steps: &plan.steps,
        warnings: &plan.warnings,
        summary: &plan.summary,
    };
    serde_json::to_writer_pretty(&mut *out, &public)?;
    writeln!(out)
}

/// The JSON plan as a string (tests, small plans).
pub fn json(plan: &Plan) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_json(plan, &mut out);
    String::from_utf8_lossy(&out).into_owned()
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
