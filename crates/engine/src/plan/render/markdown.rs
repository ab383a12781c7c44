//! The plan as a pull-request comment: warnings first, a summary table, one
//! collapsible section per resource with a `diff` block.

use std::fmt::Write as _;
use std::io::{self, Write as _};

use foldhash::{HashMap, HashMapExt};

use super::lines::{self};
use super::{NO_CHANGES, buffered, summary_line, write_in_batches};
use crate::plan::{Action, Change, Plan};
use rolecall_model::printable::printable;

/// The markdown plan as a string (tests, small plans).
pub fn render(plan: &Plan) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write(plan, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Streams the markdown plan, its sections over every core (a first plan
/// of 100,000 roles is 160 MB of markdown).
pub fn write(plan: &Plan, sink: &mut dyn io::Write) -> io::Result<()> {
    buffered(sink, |out| {
        let mut head = String::new();
        write_head(plan, &mut head);
        out.write_all(head.as_bytes())?;
        if !plan.has_changes() {
            return Ok(());
        }
        // Each resource's API calls, gathered in one pass over the steps
        // (foldhash: 800,000 steps at 100,000 roles, keys of the plan's own).
        let mut calls: HashMap<&str, Vec<&str>> = HashMap::with_capacity(plan.changes.len());
        for step in &plan.steps {
            calls
                .entry(&*step.resource)
                .or_default()
                .push(step.call.operation());
        }
        let changes: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| c.action != Action::Noop)
            .collect();
        write_in_batches(&changes, &|| true, out, |_, part, room| {
            // An empty buffer is no text yet: valid UTF-8.
            let mut text = String::from_utf8(room).unwrap_or_default();
            for change in part {
                write_change(change, &calls, plan.destroy, &mut text);
            }
            Ok(text.into_bytes())
        })?;
        writeln!(out, "**{}**", summary_line(plan))
    })
}

/// The title; then no changes, or the warnings and the summary table.
fn write_head(plan: &Plan, out: &mut String) {
    let _ = writeln!(out, "### rolecall plan for stack `{}`\n", plan.stack);
    if !plan.has_changes() {
        let _ = writeln!(out, "{NO_CHANGES}");
        return;
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
}

/// One resource's collapsible section: its lines, then its API calls.
fn write_change(
    change: &Change,
    calls: &HashMap<&str, Vec<&str>>,
    destroy: bool,
    out: &mut String,
) {
    let action = format!("{:?}", change.action).to_lowercase();
    let mut summary = format!(
        "<code>{} {}</code> {action}",
        lines::action_symbol(change.action),
        escape(&change.title())
    );
    let reason = lines::reason(change, destroy);
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
        out.push_str("API calls: ");
        for (n, operation) in calls.iter().enumerate() {
            if n > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "`{operation}`");
        }
        out.push_str("\n\n");
    }
    let _ = writeln!(out, "</details>\n");
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
