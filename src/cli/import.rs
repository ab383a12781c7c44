//! `rolecall import`: adopt existing, unowned, declared resources.

use crate::cloud::snapshot::Scope;
use anyhow::bail;
use clap::Args;

use super::output::{errln, out, outln};
use super::session::{self, Session};
use super::{ManifestArgs, Outcome, output};
use std::time::Duration;

use crate::import;
use crate::plan;
use crate::plan::render;

const IMPORT_HELP: &str = "\
Examples:
  rolecall import role/web-server instance-profile/web-server
  rolecall import policy/web-server-logs      a customer-managed policy
  rolecall import instance/i-0123456789abcdef0
  rolecall import --all-declared           every declared resource that exists unowned

Import tags each resource with rolecall:stack (and rolecall:spec) and changes
nothing else, then prints the plan the next apply would run to make it match
the manifests. Resources owned by another stack are refused.";

#[derive(Debug, Args)]
#[command(after_help = IMPORT_HELP)]
pub struct ImportArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Resources to adopt: policy/NAME, role/NAME, instance-profile/NAME, instance/ID (or instance/NAME)
    #[arg(value_name = "RESOURCE", required_unless_present = "all_declared")]
    pub resources: Vec<String>,
    /// Adopt every declared resource that exists in the account unowned
    #[arg(long, conflicts_with = "resources")]
    pub all_declared: bool,
    /// How long to wait for another rolecall's lock on the account (an apply)
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = super::apply::parse_duration)]
    pub lock_timeout: Duration,
}

pub fn run(session: &Session, args: ImportArgs) -> anyhow::Result<Outcome> {
    let loaded = session.load(&args.manifests)?;
    let desired = loaded.desired;
    if session.backend.is_missing()? {
        bail!(
            "nothing to import: {} (import adopts what an account already holds)",
            session.backend.absence()
        );
    }
    // Import writes: never beside a running apply.
    let _lock = super::interrupt::LockGuard::new(
        session.backend.lock("rolecall import", args.lock_timeout)?,
    );
    let cloud = session.backend.open(crate::aws::DEFAULT_PARALLELISM)?;
    let live = session::snapshot(cloud.as_ref(), &Scope::of(&desired))?;
    // The stack's own account only: adopting tags resources.
    if let Some(wrong) = plan::another_account(&desired, &live) {
        bail!("nothing imported: {wrong}");
    }
    let keys = if args.all_declared {
        import::all_declared(&desired, &live)
    } else {
        args.resources.clone()
    };
    // Check every resource before tagging any: all or nothing.
    let selection = import::select(&desired, &live, &keys);
    if !session.quiet {
        for title in &selection.already_managed {
            errln!(
                "note: {title} is already managed by stack `{}`",
                desired.stack
            );
        }
    }
    if !selection.problems.is_empty() {
        bail!("nothing imported:\n  {}", selection.problems.join("\n  "));
    }
    let targets = selection.targets;
    import::adopt_all(cloud.as_ref(), &targets, &desired.stack).map_err(anyhow::Error::msg)?;
    // -q: the exit code says it all; what was imported, and the plan that
    // follows, are for people.
    if session.quiet {
        return Ok(Outcome::Clean);
    }
    for (title, _) in &targets {
        outln!("imported {title} into stack `{}`", desired.stack);
    }
    if targets.is_empty() && args.all_declared {
        outln!("nothing to import: no declared resource exists unowned");
    }
    let live = session::snapshot(cloud.as_ref(), &Scope::of(&desired))?;
    let options = session::plan_options(cloud.as_ref(), false);
    match plan::plan(&desired, &live, options) {
        Ok(plan) => {
            outln!("\nThe next apply would run this plan:\n");
            out!(
                "{}",
                render::text::render(&plan, output::text_options(session))
            );
        }
        Err(error) => outln!("\nThe next plan still has problems:\n{error}"),
    }
    Ok(Outcome::Clean)
}
