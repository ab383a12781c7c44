//! `rolecall validate`: load the manifests, print every problem, exit 1 on errors.

use clap::Args;

use super::output::{self, errln, outln};
use super::session::Session;
use super::{ManifestArgs, Outcome, manifest_error};
use crate::manifest::{self, Diagnostic};
use crate::{lint, phase};

const AFTER_HELP: &str = "\
Examples:
  rolecall validate                          check every *.yaml / *.yml under manifests/
  rolecall validate -f stacks/web -f extra.yaml

Every problem is printed, not only the first, as FILE:LINE:COL: error: MESSAGE,
with a `help:` line where one helps:

  manifests/web.yaml:7:1: error: unknown field `max_sesion_duration` in Role
    help: did you mean `max_session_duration`?

Warnings (such as a role that is not declared here and must already exist in
the account, and `rolecall lint`'s findings) are printed too but do not fail
the command. With -q only errors
are printed. Exit code: 0 valid, 1 errors found.";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
}

pub fn run(session: &Session, args: ValidateArgs) -> anyhow::Result<Outcome> {
    let (loaded, places) =
        manifest::load_with_policy_places(&args.manifests.files, &args.manifests.file_root)
            .map_err(|found| manifest_error(output::shown_diagnostics(session, found)))?;
    // -q: the exit code says it all; errors are still printed.
    if session.quiet {
        return Ok(Outcome::Clean);
    }
    for warning in &loaded.warnings {
        errln!("{warning}");
    }
    // Lint's findings, as warnings: they never fail validation.
    let report = phase::timed("lint", || lint::lint(&loaded.desired, &places));
    for stale in &report.stale_ignores {
        let warning = Diagnostic::warning(
            Some(stale.location.clone()),
            format!(
                "lint_ignore silences `{}` on {}, which has no such finding",
                stale.rule,
                stale.owner()
            ),
        )
        .with_help("remove it, so it cannot hide the next one");
        errln!("{warning}");
    }
    for finding in report.findings {
        let warning = Diagnostic::warning(
            finding.location.clone(),
            format!(
                "[{}] {}, {}: {}",
                finding.rule, finding.resource, finding.subject, finding.message
            ),
        )
        .with_help(finding.rule().fix);
        errln!("{warning}");
    }
    let resources = loaded.desired.resource_count();
    outln!(
        "ok: {} in {}",
        plural(resources, "resource"),
        plural(loaded.files, "file")
    );
    // Slow to free on large stacks, and the process ends right after
    // (see `plan::run`).
    std::mem::forget(loaded);
    std::mem::forget(places);
    Ok(Outcome::Clean)
}

pub(super) fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
