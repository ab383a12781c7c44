//! The plan as a pull-request comment: warnings first, a summary table, one
//! collapsible section per resource with a `diff` block.

use std::collections::HashMap;
use std::fmt::Write;

use super::lines::{self};
use super::{NO_CHANGES, summary_line};
use crate::plan::{Action, Plan};
use rolecall_model::printable::printable;

pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### rolecall plan for stack `{}`\n", plan.stack);
    if !plan.has_changes() {
        let _ = writeln!(out, "{NO_CHANGES}");
        return out;
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "> [!WARNING]");
        for message in &plan.warnings {
            let _ = writeln!(out, "> - {}", escape(message));
        }
        out.push('\n');
    }
    let s = plan.summary;
    let _ = writeln!(out, "| create | update | replace | delete | API calls |");
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} |\n",
        s.create,
        s.update,
        s.replace,
        s.delete,
        plan.steps.len()
    );
    // Each resource's API calls, gathered in one pass over the steps.
    let mut calls: HashMap<&str, Vec<String>> = HashMap::new();
    for step in &plan.steps {
        calls
            .entry(step.resource.as_str())
            .or_default()
            .push(format!("`{}`", step.call.operation()));
    }
    for change in plan.changes.iter().filter(|c| c.action != Action::Noop) {
        let action = format!("{:?}", change.action).to_lowercase();
        let mut summary = format!(
            "<code>{} {}</code> {action}",
            lines::action_symbol(change.action),
            escape(&change.title())
        );
        let reason = lines::reason(change, plan.destroy);
        if !reason.is_empty() {
            let _ = write!(summary, ": {reason}");
        } else if !change.attributes.is_empty() {
            let _ = write!(summary, ": {}", change.attributes.join(", "));
        }
        let _ = writeln!(out, "<details><summary>{summary}</summary>\n");
        let described = lines::describe(change);
        if !described.is_empty() {
            let _ = writeln!(out, "```diff");
            for line in described {
                let indent = "  ".repeat(line.depth);
                let text = printable(&line.text);
                let _ = writeln!(out, "{}{indent} {text}", line.sign.symbol());
            }
            let _ = writeln!(out, "```\n");
        }
        if let Some(calls) = calls.get(change.resource.as_str()) {
            let _ = writeln!(out, "API calls: {}\n", calls.join(", "));
        }
        let _ = writeln!(out, "</details>\n");
    }
    let _ = writeln!(out, "**{}**", summary_line(plan));
    out
}

/// Keeps a message from opening HTML or breaking the quote block.
/// Safe in a pull-request comment: no HTML, nothing that reorders or hides
/// text.
fn escape(text: &str) -> String {
    printable(text)
        .to_string()
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
