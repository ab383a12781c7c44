//! `rolecall plan` and `rolecall graph`.

use std::path::PathBuf;

use std::io::Write;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::output::{out, outln};
use super::session::Session;
use super::{ManifestArgs, Outcome, output};
use crate::graph;
use crate::model::{Desired, STACK_ACCOUNT_KEY, STACK_PARTITION_KEY};
use crate::phase;
use crate::plan::render;
use crate::plan::{self, Plan, saved};

const PLAN_HELP: &str = "\
Examples:
  rolecall plan                                  what apply would do to match manifests/
  rolecall plan -v                               also list every API call, in order
  rolecall plan --format markdown > comment.md   a pull-request comment
  rolecall plan --out plan.json                  save it; `rolecall apply plan.json` applies exactly it
  rolecall plan --detailed-exitcode              exit 2 when there are changes (CI)

Symbols: + create, ~ update in place, -/+ replace (delete, then create), - delete.
A saved plan refuses to apply if anything it touches changed in the meantime,
or if it was edited: it holds the desired state it was planned from.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
#[command(after_help = PLAN_HELP)]
pub struct PlanArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Save the plan (with fingerprints of the live state) for `rolecall apply FILE`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when there is nothing to change, 2 when there are changes, 1 on error
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan steps that touch resources this stack does not own (with a warning)
    #[arg(long)]
    pub force: bool,
}

/// Loads, reads the account, plans.
pub fn compute(
    session: &Session,
    manifests: &ManifestArgs,
    force: bool,
    destroy: bool,
) -> anyhow::Result<(Plan, crate::model::Live)> {
    let (desired, live, options) = desired_and_live(session, manifests, force, destroy)?;
    let plan = phase::timed("plan", || plan::plan_owned(desired, &live, options))?;
    tracing::debug!("planned {} steps", plan.steps.len());
    Ok((plan, live))
}

/// The manifests (none for `destroy`), the account, and the plan's options.
fn desired_and_live(
    session: &Session,
    manifests: &ManifestArgs,
    force: bool,
    destroy: bool,
) -> anyhow::Result<(Desired, crate::model::Live, plan::PlanOptions)> {
    let (loaded, live, options) = session.load_and_read(manifests, force)?;
    let desired = if destroy {
        // Nothing declared: everything the stack owns goes, from the
        // stack's own account only.
        let mut locations = loaded.desired.locations;
        locations.retain(|key, _| [STACK_ACCOUNT_KEY, STACK_PARTITION_KEY].contains(&key.as_str()));
        Desired {
            stack: loaded.desired.stack,
            account_id: loaded.desired.account_id,
            partition: loaded.desired.partition,
            locations,
            ..Desired::default()
        }
    } else {
        loaded.desired
    };
    Ok((desired, live, options))
}

pub fn run(session: &Session, args: PlanArgs) -> anyhow::Result<Outcome> {
    let (desired, live, options) = desired_and_live(session, &args.manifests, args.force, false)?;
    // Buffered: a plan of 100,000 resources is hundreds of megabytes.
    // Without colour nothing is painted, so the raw stdout takes it
    // (anstream would scan every byte for escape codes to strip). Not
    // locked: the changes are written from another thread, a buffer at a
    // time.
    let stdout: Box<dyn Write + Send> = if output::colored() {
        Box::new(anstream::stdout())
    } else {
        Box::new(std::io::stdout())
    };
    let mut out = std::io::BufWriter::new(stdout);
    let text = output::text_options(session);
    // A saved plan holds what it was planned from. Markdown opens with the
    // count of steps: it lets the manifests go as soon as the steps are
    // drafted, and is written once they are in order. Text and JSON write
    // their changes while the steps are put in order, the role and profile
    // views built from the manifests as each change is written.
    let mut written = Ok(());
    let mut written_early = false;
    let (mut plan, kept) = if args.out.is_some() {
        let plan = phase::timed("plan", || plan::plan(&desired, &live, options))?;
        (plan, Some(desired))
    } else if args.format == PlanFormat::Markdown {
        let plan = phase::timed("plan", || plan::plan_owned(desired, &live, options))?;
        (plan, None)
    } else {
        let (plan, early) = phase::timed("plan", || {
            plan::plan_owned_with(desired, &live, options, |plan, later| {
                phase::timed("render (beside the sequence)", || match args.format {
                    PlanFormat::Json => render::write_json_later(plan, later, &mut out),
                    // Text; markdown was planned above.
                    _ => render::text::write_changes_beside(plan, later, text, &mut out),
                })
            })
        })?;
        (written, written_early) = (early, true);
        (plan, None)
    };
    tracing::debug!("planned {} steps", plan.steps.len());
    if plan.has_changes() {
        super::apply::note_unlocked(session);
    }
    if let (Some(out), Some(desired)) = (&args.out, kept) {
        phase::timed("seal", || saved::seal(&mut plan, &live, desired, options));
        phase::timed("save", || saved::write(out, &plan))?;
    }
    let written = written.and_then(|()| {
        phase::timed("render", || {
            match args.format {
                PlanFormat::Text if written_early => {
                    render::text::write_steps(&plan, text, &mut out)
                }
                PlanFormat::Text => render::text::write(&plan, text, &mut out),
                PlanFormat::Json if written_early => Ok(()),
                PlanFormat::Json => render::write_json(&plan, &mut out),
                PlanFormat::Markdown => render::markdown::write(&plan, &mut out),
            }
            .and_then(|()| out.flush())
        })
    });
    drop(out);
    // A reader that went away (`rolecall plan | head`) does not change
    // what the plan is, nor the exit code that says so.
    match written {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the plan")?,
    }
    tracing::debug!("wrote the plan");
    if let Some(out) = &args.out
        && args.format == PlanFormat::Text
        && !session.quiet
    {
        outln!(
            "\nSaved the plan to {}. To apply exactly it: rolecall apply {}",
            out.display(),
            out.display()
        );
    }
    let outcome = if args.detailed_exitcode && plan.has_changes() {
        Outcome::Changes
    } else {
        Outcome::Clean
    };
    // Freeing millions of small allocations takes seconds on large stacks and
    // the process ends right after: let the OS reclaim them (as rustc does).
    std::mem::forget(plan);
    std::mem::forget(live);
    Ok(outcome)
}

const GRAPH_HELP: &str = "\
Examples:
  rolecall graph | dot -Tsvg > resources.svg     instances -> profiles -> roles -> policies
  rolecall graph --steps | dot -Tsvg > plan.svg  the plan's API calls and their order
  rolecall graph --format json                   the same, for scripts";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = GRAPH_HELP)]
pub struct GraphArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Output format: dot for Graphviz, json ({"nodes", "edges"}, or the steps) for scripts
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// The step DAG of the plan (reads the account) instead of the resource graph
    #[arg(long)]
    pub steps: bool,
    /// With --steps: plan steps that touch resources this stack does not own
    #[arg(long, requires = "steps")]
    pub force: bool,
}

pub fn run_graph(session: &Session, args: GraphArgs) -> anyhow::Result<Outcome> {
    let rendered = if args.steps {
        let (plan, _) = compute(session, &args.manifests, args.force, false)?;
        match args.format {
            GraphFormat::Dot => render::dot::steps(&plan),
            GraphFormat::Json => {
                let mut text = serde_json::to_string_pretty(&plan.steps)?;
                text.push('\n');
                text
            }
        }
    } else {
        let loaded = session.load(&args.manifests)?;
        let graph = graph::resources(&loaded.desired);
        match args.format {
            GraphFormat::Dot => render::dot::resources(&graph),
            GraphFormat::Json => graph::json(&graph)?,
        }
    };
    out!("{rendered}");
    Ok(Outcome::Clean)
}
