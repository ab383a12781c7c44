//! The plan for a terminal or a CI log: Terraform-like blocks per resource.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::lines::{self, LineSink, Sign};
use super::{NO_CHANGES, buffered, summary_line, views_of, write_in_batches};
use crate::plan::{Action, Change, ChangeViews, Later, Plan};
use rolecall_model::printable::{is_printable_as_is, printable};

/// Options of the text rendering.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// ANSI colours (the CLI decides: terminal, --color, NO_COLOR).
    pub color: bool,
    /// Also list the ordered API calls (`-v`).
    pub steps: bool,
}

/// Colours text when colour is on; also used by the drift report so both
/// outputs colour the same way.
pub struct Painter {
    pub color: bool,
}

impl From<TextOptions> for Painter {
    fn from(options: TextOptions) -> Self {
        Painter {
            color: options.color,
        }
    }
}

impl Painter {
    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    /// Writes `text` in `style` straight to `out`: no string is built per
    /// line (a large plan is millions of lines).
    pub fn write<W: Write + ?Sized>(
        &self,
        out: &mut W,
        style: Style,
        text: std::fmt::Arguments,
    ) -> io::Result<()> {
        if self.color {
            write!(out, "{}{text}{}", style.render(), style.render_reset())
        } else {
            out.write_fmt(text)
        }
    }

    pub fn sign_style(sign: Sign) -> Style {
        match sign {
            Sign::Add => AnsiColor::Green.on_default(),
            Sign::Remove => AnsiColor::Red.on_default(),
            Sign::Change => AnsiColor::Yellow.on_default(),
            Sign::Context => Style::new(),
        }
    }

    fn action_style(action: Action) -> Style {
        match action {
            Action::Create => AnsiColor::Green.on_default().bold(),
            Action::Update => AnsiColor::Yellow.on_default().bold(),
            Action::Replace => AnsiColor::Magenta.on_default().bold(),
            Action::Delete => AnsiColor::Red.on_default().bold(),
            Action::Noop => Style::new(),
        }
    }
}

/// The text plan as a string (tests, small plans).
pub fn render(plan: &Plan, options: TextOptions) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write(plan, options, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Streams the text plan: a plan of 100,000 resources is hundreds of
/// megabytes of text, which should not sit in memory at once.
pub fn write(plan: &Plan, options: TextOptions, sink: &mut dyn Write) -> io::Result<()> {
    write_changes(plan, options, &mut *sink)?;
    write_steps(plan, options, sink)
}

/// The first part of [`write`](fn@write): the changes and the warnings, which do not
/// read the plan's steps.
pub fn write_changes(plan: &Plan, options: TextOptions, sink: &mut dyn Write) -> io::Result<()> {
    buffered(sink, |out| write_changes_buffered(plan, None, options, out))
}

/// [`write_changes`] while the plan's steps are put in order
/// ([`crate::plan::plan_owned_with`]): on this thread alone until they
/// are, then on every core. The ordering keeps a core to itself, and no
/// thread is started for each batch meanwhile (those threads' memory came
/// on top of the ordering's, at the plan's peak: 25 MB more).
pub fn write_changes_beside(
    plan: &Plan,
    later: &Later,
    options: TextOptions,
    sink: &mut dyn Write,
) -> io::Result<()> {
    buffered(sink, |out| {
        write_changes_buffered(plan, Some(later), options, out)
    })
}

/// The rest of [`write`](fn@write), after [`write_changes`]: the API calls (`-v`)
/// and the summary.
pub fn write_steps(plan: &Plan, options: TextOptions, sink: &mut dyn Write) -> io::Result<()> {
    buffered(sink, |out| write_steps_buffered(plan, options, out))
}

/// With `later`, the steps are being ordered ([`write_changes_beside`])
/// and the changes' views are built as they are written.
fn write_changes_buffered<W: Write>(
    plan: &Plan,
    later: Option<&Later>,
    options: TextOptions,
    out: &mut W,
) -> io::Result<()> {
    let painter = Painter::from(options);
    let every_core = || later.is_none_or(Later::is_ready);
    let changes: Vec<(usize, &Change)> = plan
        .changes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.action != Action::Noop)
        .collect();
    if !changes.is_empty() && plan.destroy {
        writeln!(
            out,
            "rolecall will destroy everything stack `{}` owns:\n",
            plan.stack
        )?;
    } else if !changes.is_empty() {
        writeln!(
            out,
            "rolecall will perform these actions on stack `{}`:\n",
            plan.stack
        )?;
    }
    write_in_batches(&changes, &every_core, out, |_, part, mut text| {
        let mut documents = WrittenDocuments::default();
        let mut in_order = later.and_then(Later::declared_in_order);
        for &(index, change) in part {
            // A creation is written from its declaration, no view built.
            let views = views_of(later, index, change, in_order.as_mut());
            write_change(
                &painter,
                change,
                &views,
                plan.destroy,
                &mut text,
                &mut documents,
            );
        }
        Ok(text)
    })?;
    if !plan.warnings.is_empty() {
        let warning = AnsiColor::Yellow.on_default().bold();
        for message in &plan.warnings {
            writeln!(
                out,
                "{} {}",
                painter.paint(warning, "warning:"),
                printable(message)
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn write_steps_buffered<W: Write>(
    plan: &Plan,
    options: TextOptions,
    out: &mut W,
) -> io::Result<()> {
    let painter = Painter::from(options);
    if options.steps && !plan.steps.is_empty() {
        writeln!(out, "API calls, in order:")?;
        let width = plan.steps.len().to_string().len();
        for step in &plan.steps {
            let after = if step.depends_on.is_empty() {
                String::new()
            } else {
                let ids: Vec<String> = step.depends_on.iter().map(|d| d.to_string()).collect();
                format!("  (after {})", ids.join(", "))
            };
            let emulator = if step.emulator_only() {
                "  [emulator only]"
            } else {
                ""
            };
            writeln!(
                out,
                "  {:>width$}. {} {}{after}{emulator}",
                step.id,
                painter.paint(Style::new().bold(), step.call.operation()),
                step.title(),
            )?;
        }
        writeln!(out)?;
    }
    if plan.has_changes() {
        writeln!(
            out,
            "{}",
            painter.paint(Style::new().bold(), &summary_line(plan))
        )?;
    } else {
        writeln!(out, "{NO_CHANGES}")?;
    }
    Ok(())
}

/// One change's block, written into a run's text: its header, its signed
/// lines, a blank line.
fn write_change(
    painter: &Painter,
    change: &Change,
    views: &ChangeViews,
    destroy: bool,
    out: &mut Vec<u8>,
    documents: &mut WrittenDocuments,
) {
    let symbol = lines::action_symbol(change.action);
    let header = format!("{symbol} {}", printable(change.title()));
    let reason = lines::reason(change, destroy);
    // Writing into memory cannot fail.
    let _ = write!(
        out,
        "  {}",
        painter.paint(Painter::action_style(change.action), &header)
    );
    if reason.is_empty() {
        out.push(b'\n');
    } else {
        let _ = writeln!(out, " ({reason})");
    }
    let mut lines = TextLines {
        painter,
        out,
        documents,
    };
    lines::describe_views_into(change, views, &mut lines);
    out.push(b'\n');
}

/// The documents a run wrote last, and where their lines are in its text:
/// one written again is copied from there, not laid out again. The roles
/// of a stack often share a trust policy (at 100,000 such roles, a third
/// of the plan's lines); two are kept, so that a role's own inline policy
/// does not push its trust policy out before the next role's.
#[derive(Default)]
struct WrittenDocuments {
    /// The most recent first.
    last: [Option<WrittenDocument>; 2],
}

struct WrittenDocument {
    compact: String,
    sign: Sign,
    depth: usize,
    /// Its lines, in the run's text.
    lines: std::ops::Range<usize>,
}

/// A change's lines, written into a run's text as they are made: indented,
/// signed, and escaped where [`printable`] would (most lines need not).
struct TextLines<'a> {
    painter: &'a Painter,
    out: &'a mut Vec<u8>,
    documents: &'a mut WrittenDocuments,
}

impl LineSink for TextLines<'_> {
    fn line(&mut self, sign: Sign, depth: usize, text: impl AsRef<str>) {
        let (out, text) = (&mut *self.out, text.as_ref());
        out.extend_from_slice(b"  ");
        for _ in 0..=depth {
            out.extend_from_slice(b"    ");
        }
        if self.painter.color || !is_printable_as_is(text) {
            // Writing into memory cannot fail.
            let _ = self.painter.write(
                out,
                Painter::sign_style(sign),
                format_args!("{} {}", sign.symbol(), printable(text)),
            );
        } else {
            out.extend_from_slice(sign.symbol().as_bytes());
            out.push(b' ');
            out.extend_from_slice(text.as_bytes());
        }
        out.push(b'\n');
    }

    fn document(&mut self, sign: Sign, depth: usize, compact: &str) {
        let last = &mut self.documents.last;
        let written = last.iter().position(|document| {
            document.as_ref().is_some_and(|document| {
                (document.sign, document.depth, document.compact.as_str()) == (sign, depth, compact)
            })
        });
        if let Some(at) = written {
            last[..=at].rotate_right(1);
            if let Some(document) = &last[0] {
                self.out.extend_from_within(document.lines.clone());
            }
            return;
        }
        let start = self.out.len();
        let _ = lines::pretty_lines(compact, &mut |line| self.line(sign, depth, line));
        let lines = start..self.out.len();
        // The least recent one's place, its text's buffer kept.
        let last = &mut self.documents.last;
        last.rotate_right(1);
        match &mut last[0] {
            Some(document) => {
                document.compact.clear();
                document.compact.push_str(compact);
                (document.sign, document.depth, document.lines) = (sign, depth, lines);
            }
            empty => {
                *empty = Some(WrittenDocument {
                    compact: compact.to_string(),
                    sign,
                    depth,
                    lines,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::render::lines::tests::role;
    use crate::plan::{Action, Shown};
    use proptest::prelude::*;

    /// The text of roles' creations written in one run, or each in a run
    /// of its own (no document written before).
    fn written(roles: &[rolecall_model::Role], one_run: bool, color: bool) -> String {
        let painter = Painter { color };
        let (mut text, mut documents) = (Vec::new(), WrittenDocuments::default());
        for role in roles {
            let change = Change {
                resource: format!("role/{}", role.name),
                name: None,
                action: Action::Create,
                before: None,
                after: None,
                attributes: Vec::new(),
            };
            let views = ChangeViews {
                created: Some(Shown::Role(role)),
                ..ChangeViews::default()
            };
            if !one_run {
                documents = WrittenDocuments::default();
            }
            write_change(&painter, &change, &views, false, &mut text, &mut documents);
        }
        String::from_utf8(text).unwrap()
    }

    proptest! {
        /// Roles sharing their trust policy or an inline policy (the
        /// same text, or the same shared document), and not.
        #[test]
        fn a_document_written_again_reads_as_it_did_the_first_time(
            roles in prop::collection::vec(role(), 1..6),
            shared in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
            color in any::<bool>(),
        ) {
            let mut roles = roles;
            for (at, from) in shared.iter().enumerate() {
                let (at, from) = (at % roles.len(), from.index(roles.len()));
                roles[at].trust = roles[from].trust.clone();
                if let Some(document) = roles[from].inline_policies.values().next().cloned() {
                    roles[at].inline_policies.insert("shared".into(), document);
                }
            }
            prop_assert_eq!(written(&roles, true, color), written(&roles, false, color));
        }
    }
}
