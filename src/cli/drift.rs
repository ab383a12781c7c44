//! `rolecall drift`: what changed outside git.

use clap::{Args, ValueEnum};

use super::output::{errln, out};
use super::session::Session;
use super::{ManifestArgs, Outcome, output};
use crate::backend::ReadOnly;
use crate::cloud::trail::Lookup;
use crate::drift::{self, render};
use crate::phase;

const DRIFT_HELP: &str = "\
Examples:
  rolecall drift                     what differs from manifests/, and why
  rolecall drift --format json       for alerting pipelines (format_version 1)

Classes: modified (changed outside rolecall), pending (manifests changed, apply
has not run: not drift), missing (declared, absent), orphaned (owned, no longer
declared), unmanaged (declared name exists unowned: `rolecall import`),
ambiguous (several instances carry a declared instance name).
Exit codes: 0 no drift (pending changes alone are not drift), 2 drift, 1 error.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriftFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
#[command(after_help = DRIFT_HELP)]
pub struct DriftArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Output format: text for people, json for alerting pipelines, markdown for an issue or PR
    #[arg(long, value_enum, default_value_t = DriftFormat::Text)]
    pub format: DriftFormat,
}

pub fn run(session: &Session, args: DriftArgs) -> anyhow::Result<Outcome> {
    let (loaded, live, _) = session.load_and_read(&args.manifests, false)?;
    // Another account would show the whole stack as drifted.
    if let Some(wrong) = crate::plan::another_account(&loaded.desired, &live) {
        anyhow::bail!("cannot report drift: {wrong}");
    }
    let mut report = phase::timed("drift", || drift::detect(&loaded.desired, &live))?;
    name_who_changed(session, &mut report)?;
    let rendered = phase::timed("render", || -> anyhow::Result<String> {
        Ok(match args.format {
            DriftFormat::Json => render::json(&report)?,
            DriftFormat::Text => render::text(&report, output::colored()),
            DriftFormat::Markdown => render::markdown(&report),
        })
    })?;
    out!("{rendered}");
    let outcome = if report.drift {
        Outcome::Changes
    } else {
        Outcome::Clean
    };
    // Slow to free on large stacks, and the process ends right after
    // (see `plan::run`).
    std::mem::forget(loaded);
    std::mem::forget(live);
    Ok(outcome)
}

/// On an account with an audit trail (an emulated one), names who made
/// each difference. Read only when there is drift to explain.
fn name_who_changed(session: &Session, report: &mut drift::Report) -> anyhow::Result<()> {
    if !report.drift {
        return Ok(());
    }
    let ReadOnly::Account(cloud) = session.backend.open_to_read()? else {
        return Ok(());
    };
    if let Some(trail) = cloud.trail() {
        // The report stands without the names: a trail that cannot be
        // read is a warning, not a failed drift check.
        match phase::timed("trail", || trail.lookup_events(&Lookup::default())) {
            Ok(events) => phase::timed("attribution", || {
                drift::attribution::attribute(report, &events)
            }),
            Err(error) => errln!("warning: who made the drift is unknown: {error}"),
        }
    }
    Ok(())
}
