//! The drift report for people: text (coloured or not) and markdown, and
//! JSON for alerting pipelines. Every value from the account or manifests is
//! escaped ([`printable`]); the library returns strings, the CLI prints them.

use std::fmt::Write;

use serde_json::Map;

use super::{Class, Entry, Report};
use crate::compare::ambiguous_message;
use crate::plan::render::lines;
use crate::plan::render::text::Painter;
use crate::plan::{Action, Change, View};
use rolecall_model::printable::printable;
use rolecall_model::resource_title;

/// The report as pretty JSON (format_version 1), newline-terminated.
pub fn json(report: &Report) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    Ok(text)
}

/// The entry as a plan change, so its attributes render as plans do.
fn as_change(entry: &Entry) -> Change {
    let mut before = Map::new();
    let mut after = Map::new();
    for attribute in &entry.attributes {
        before.insert(attribute.name.into(), attribute.before.clone());
        after.insert(attribute.name.into(), attribute.after.clone());
    }
    Change {
        resource: entry.resource.clone(),
        name: entry.name.clone(),
        action: Action::Update,
        before: View::of(&before),
        after: View::of(&after),
        attributes: entry
            .attributes
            .iter()
            .map(|a| a.name.to_string())
            .collect(),
    }
}

fn note(entry: &Entry) -> String {
    match (entry.class, &entry.owner) {
        (Class::Pending, _) => "manifests changed; `rolecall apply` will make it".into(),
        (Class::Missing, _) => "declared but absent from the account".into(),
        (Class::Orphaned, _) => "owned by this stack but no longer declared".into(),
        (Class::Unmanaged, Some(owner)) => format!("owned by stack `{owner}`"),
        (Class::Unmanaged, None) => format!("not managed: `rolecall import {}`", entry.resource),
        (Class::Modified, _) => "changed outside rolecall".into(),
        (Class::Ambiguous, _) => ambiguous_message(
            entry.name.as_deref().unwrap_or_default(),
            &entry.instance_ids,
        ),
    }
}

fn title(entry: &Entry) -> String {
    resource_title(&entry.resource, entry.name.as_deref())
}

/// The last line of text and markdown reports: the counts, or no drift.
pub fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let mut line = if report.drift {
        // `ambiguous` is rare: counted only when there is one.
        let ambiguous = if s.ambiguous > 0 {
            format!(", {} ambiguous", s.ambiguous)
        } else {
            String::new()
        };
        format!(
            "Drift: {} modified, {} missing, {} orphaned, {} unmanaged{ambiguous}.",
            s.modified, s.missing, s.orphaned, s.unmanaged
        )
    } else {
        "No drift: the account matches what was last applied.".to_string()
    };
    if s.pending > 0 {
        let _ = write!(
            line,
            " {} pending change{} (not drift): run `rolecall apply`.",
            s.pending,
            if s.pending == 1 { "" } else { "s" }
        );
    }
    line
}

/// The report for people; `color` paints classes and signed lines.
pub fn text(report: &Report, color: bool) -> String {
    let painter = Painter { color };
    let mut out = String::new();
    if !report.entries.is_empty() {
        let _ = writeln!(out, "Stack `{}` compared with the account:\n", report.stack);
    }
    for entry in &report.entries {
        let style = if entry.class.is_drift() {
            anstyle::AnsiColor::Red.on_default().bold()
        } else {
            anstyle::AnsiColor::Yellow.on_default()
        };
        let _ = writeln!(
            out,
            "  {} {} ({})",
            painter.paint(style, &format!("{:<9}", entry.class.as_str())),
            printable(title(entry)),
            printable(note(entry))
        );
        for who in &entry.changed_by {
            let _ = writeln!(out, "      {}", printable(changed_by_line(who)));
        }
        for line in lines::describe(&as_change(entry)) {
            let indent = "    ".repeat(line.depth + 2);
            let style = Painter::sign_style(line.sign);
            let _ = writeln!(
                out,
                "{indent}{}",
                painter.paint(
                    style,
                    &format!("{} {}", line.sign.symbol(), printable(&line.text))
                )
            );
        }
    }
    if !report.entries.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary_line(report));
    out
}

/// `inline_policies: changed by ARN (PutRolePolicy at TIME from IP)`.
fn changed_by_line(who: &super::attribution::ChangedBy) -> String {
    let what = who.attribute.as_deref().unwrap_or("the resource");
    format!(
        "{what}: changed by {} ({} at {} from {}, {})",
        who.principal, who.event_name, who.time, who.source_ip, who.user_agent
    )
}

/// Text safe in a markdown table cell or HTML element of a pull-request
/// comment: escaped ([`printable`]), no HTML, no column break.
fn table_cell(text: &str) -> String {
    printable(text)
        .to_string()
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

/// The report as a pull-request or issue comment.
pub fn markdown(report: &Report) -> String {
    let mut out = format!("### rolecall drift for stack `{}`\n\n", report.stack);
    if report.entries.is_empty() {
        let _ = writeln!(out, "{}", summary_line(report));
        return out;
    }
    let _ = writeln!(out, "| class | resource | attributes |\n|---|---|---|");
    for entry in &report.entries {
        let attributes: Vec<&str> = entry.attributes.iter().map(|a| a.name).collect();
        let mut detail = attributes.join(", ");
        if !entry.instance_ids.is_empty() {
            detail = format!("carried by {}", entry.instance_ids.join(", "));
        }
        let _ = writeln!(
            out,
            "| {} | `{}` | {detail} |",
            entry.class.as_str(),
            table_cell(&title(entry)),
        );
    }
    out.push('\n');
    for entry in report.entries.iter().filter(|e| !e.attributes.is_empty()) {
        let _ = writeln!(
            out,
            "<details><summary><code>{}</code> {}</summary>\n",
            table_cell(&title(entry)),
            entry.class.as_str()
        );
        for who in &entry.changed_by {
            let _ = writeln!(out, "- {}", table_cell(&changed_by_line(who)));
        }
        if !entry.changed_by.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "```diff");
        for line in lines::describe(&as_change(entry)) {
            let _ = writeln!(
                out,
                "{}{} {}",
                line.sign.symbol(),
                "  ".repeat(line.depth),
                printable(&line.text)
            );
        }
        let _ = writeln!(out, "```\n\n</details>\n");
    }
    let _ = writeln!(out, "**{}**", summary_line(report));
    out
}
