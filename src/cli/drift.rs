//! `rolecall drift`: what changed outside git.

use clap::{Args, ValueEnum};

use super::output::out;
use super::session::Session;
use super::{ManifestArgs, Outcome, output};
use crate::drift::{self, render};

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
    let report = drift::detect(&loaded.desired, &live)?;
    let rendered = match args.format {
        DriftFormat::Json => render::json(&report)?,
        DriftFormat::Text => render::text(&report, output::colored()),
        DriftFormat::Markdown => render::markdown(&report),
    };
    out!("{rendered}");
    Ok(if report.drift {
        Outcome::Changes
    } else {
        Outcome::Clean
    })
}
