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
    write_in_batches(&changes, &every_core, out, |_, part| {
        let mut text = Vec::new();
        for &(index, change) in part {
            // A creation is written from its declaration, no view built.
            let views = views_of(later, index, change);
            write_change(&painter, change, &views, plan.destroy, &mut text)?;
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

/// One change's block: its header, its signed lines, a blank line.
fn write_change<W: Write + ?Sized>(
    painter: &Painter,
    change: &Change,
    views: &ChangeViews,
    destroy: bool,
    out: &mut W,
) -> io::Result<()> {
    let symbol = lines::action_symbol(change.action);
    let header = format!("{symbol} {}", printable(change.title()));
    let reason = lines::reason(change, destroy);
    write!(
        out,
        "  {}",
        painter.paint(Painter::action_style(change.action), &header)
    )?;
    if reason.is_empty() {
        writeln!(out)?;
    } else {
        writeln!(out, " ({reason})")?;
    }
    let mut lines = TextLines {
        painter,
        out,
        failed: None,
    };
    lines::describe_views_into(change, views, &mut lines);
    if let Some(error) = lines.failed {
        return Err(error);
    }
    writeln!(out)?;
    Ok(())
}

/// A change's lines, written as they are made: indented, signed, and
/// escaped where [`printable`] would (most lines need not).
struct TextLines<'a, W: ?Sized> {
    painter: &'a Painter,
    out: &'a mut W,
    /// The first write that failed: the lines after it are not written.
    failed: Option<io::Error>,
}

impl<W: Write + ?Sized> TextLines<'_, W> {
    fn write(&mut self, sign: Sign, depth: usize, text: &str) -> io::Result<()> {
        let out = &mut *self.out;
        out.write_all(b"  ")?;
        for _ in 0..=depth {
            out.write_all(b"    ")?;
        }
        if self.painter.color || !is_printable_as_is(text) {
            self.painter.write(
                out,
                Painter::sign_style(sign),
                format_args!("{} {}", sign.symbol(), printable(text)),
            )?;
        } else {
            out.write_all(sign.symbol().as_bytes())?;
            out.write_all(b" ")?;
            out.write_all(text.as_bytes())?;
        }
        out.write_all(b"\n")
    }
}

impl<W: Write + ?Sized> LineSink for TextLines<'_, W> {
    fn line(&mut self, sign: Sign, depth: usize, text: impl AsRef<str>) {
        if self.failed.is_none()
            && let Err(error) = self.write(sign, depth, text.as_ref())
        {
            self.failed = Some(error);
        }
    }
}
