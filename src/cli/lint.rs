//! `rolecall lint`: what in the declared policies is broader or riskier
//! than it looks.

use clap::{Args, ValueEnum};

use super::output::out;
use super::session::Session;
use super::{ManifestArgs, Outcome};
use crate::lint;

const LINT_HELP: &str = "\
Examples:
  rolecall lint                                 findings in manifests/, for people
  rolecall lint --format sarif > lint.sarif     for GitHub code scanning (upload-sarif)
  rolecall lint --format json                   for scripts (format_version 1)

Rules:
  unknown-action                      an action no AWS service has (did you mean ...?)
  wildcard-action                     \"Action\": \"*\" allowed
  wildcard-resource-on-write          write actions allowed on \"Resource\": \"*\"
  passrole-any-role                   iam:PassRole allowed on every role
  trust-any-principal                 a trust policy any account may assume
  cross-account-without-external-id   another account trusted without sts:ExternalId
                                      (needs the Stack's account_id)
  profile-role-without-boundary       a profile's role without a permissions boundary,
                                      when the Stack sets require_permissions_boundary
  inline-duplicates-managed           an inline or customer-managed policy identical to
                                      an AWS-managed one

The rules on a role's inline policies also read every ManagedPolicy's document.
Silence a rule for one role or ManagedPolicy, with the reason, in its manifest:
  lint_ignore:
    wildcard-resource-on-write: the agent creates its own log groups

`rolecall validate` prints the same findings as warnings.
Exit codes: 0 no findings, 2 findings, 1 error.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Debug, Args)]
#[command(after_help = LINT_HELP)]
pub struct LintArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Output format: text for people, json for scripts, sarif for GitHub code scanning
    #[arg(long, value_enum, default_value_t = LintFormat::Text)]
    pub format: LintFormat,
}

pub fn run(session: &Session, args: LintArgs) -> anyhow::Result<Outcome> {
    let (loaded, places) = session.load_with_policy_places(&args.manifests)?;
    let report = lint::lint(&loaded.desired, &places);
    let rendered = match args.format {
        LintFormat::Text => lint::text(&report),
        LintFormat::Json => lint::json(&report)? + "\n",
        LintFormat::Sarif => {
            let root = std::env::current_dir().ok();
            lint::sarif(&report, root.as_deref())? + "\n"
        }
    };
    out!("{rendered}");
    let outcome = if report.findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Changes
    };
    // Slow to free on large stacks, and the process ends right after
    // (see `plan::run`).
    std::mem::forget(loaded);
    std::mem::forget(places);
    Ok(outcome)
}
