//! `rolecall apply` and `rolecall destroy`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::interrupt::LockGuard;
use super::output::{errln, out, outln};
use super::progress::Progress;
use super::session::Session;
use super::{ManifestArgs, Outcome, interrupt, output};
use crate::apply::{self, ApplyOptions, Report};
use crate::cloud::snapshot::Scope;
use crate::phase;
use crate::plan::render;
use crate::plan::{Action, Plan, saved};

const APPLY_HELP: &str = "\
Examples:
  rolecall apply                          plan, show, ask, then apply manifests/
  rolecall apply --auto-approve           no question (CI on merge)
  rolecall plan --out plan.json && rolecall apply plan.json
                                          apply exactly a reviewed plan: refused if the
                                          account moved since or the file was edited

Only one apply runs against an account at a time; a second one fails at once,
naming the holder, unless --lock-timeout lets it wait. Ctrl-C (or SIGTERM)
stops it after the calls in flight, with a summary, and exits 130; a second
Ctrl-C exits at once. However it is interrupted, no call is left half-made:
run it again and it converges.";

#[derive(Debug, Args)]
#[command(after_help = APPLY_HELP)]
pub struct ApplyArgs {
    /// A plan saved by `rolecall plan --out FILE` (instead of planning from manifests)
    #[arg(value_name = "PLAN_FILE", conflicts_with_all = ["force", "files"])]
    pub plan_file: Option<PathBuf>,
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Plan steps that touch resources this stack does not own (with a warning)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Apply without asking for confirmation
    #[arg(long)]
    pub auto_approve: bool,
    /// How long one step may keep retrying throttling and eventual-consistency errors
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub retry_timeout: Duration,
    /// How long to wait for another apply's lock on the account
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub lock_timeout: Duration,
    /// At most this many API calls in flight at once (--cloud aws; the emulated account
    /// commits each wave of independent steps at once)
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallelism: u16,
}

const DESTROY_HELP: &str = "\
Examples:
  rolecall destroy                  delete every policy, role and profile the stack in manifests/ owns
  rolecall destroy --auto-approve

Only resources tagged rolecall:stack=<this stack> are touched. Policies,
roles and profiles are deleted. Instances are released (disassociated if their profile
goes, and untagged), never terminated, except on an emulated account the lab
instances rolecall itself launched: those are terminated, so the next apply
launches them afresh.";

#[derive(Debug, Args)]
#[command(after_help = DESTROY_HELP)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Also take the stack's roles out of profiles it does not own, detach its
    /// policies from roles it does not own, and disassociate instances it
    /// does not own from its profiles (with a warning)
    #[arg(long)]
    pub force: bool,
}

/// Which command runs: the words its messages use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Apply,
    Destroy,
}

impl Verb {
    fn command(self) -> &'static str {
        match self {
            Verb::Apply => "apply",
            Verb::Destroy => "destroy",
        }
    }
}

/// `90s`, `2m`, `1h`, `500ms`, or plain seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (try 90s, 2m, 500ms)"))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in `{text}` (use ms, s, m or h)"
            ));
        }
    };
    Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("`{text}` is not a duration rolecall can wait (try 90s, 2m, 1h)"))
}

pub fn run(session: &Session, args: ApplyArgs) -> anyhow::Result<Outcome> {
    // A file that is no plan is refused before the account is locked.
    let saved = args
        .plan_file
        .as_deref()
        .map(|path| phase::timed("read the saved plan", || saved::read(path)))
        .transpose()?;
    let _lock = take_lock(session, "rolecall apply", &args.run)?;
    let (plan, confirm) = match (saved, &args.plan_file) {
        (Some(plan), Some(path)) => {
            // Read without creating the account: a refused plan leaves none.
            let scope = plan.desired.as_ref().map(Scope::of);
            let (live, options) = session.read(false, scope.as_ref())?;
            // What runs is the file's desired state planned again, refused
            // unless it is the plan the file shows.
            let plan = phase::timed("check the saved plan", || {
                saved::verify(plan, &live, options.launch_instances, path)
            })?;
            // A saved plan was reviewed when it was made: no second question.
            (plan, false)
        }
        _ => {
            let (plan, _) = super::plan::compute(session, &args.manifests, args.force, false)?;
            (plan, !args.run.auto_approve)
        }
    };
    execute(session, &plan, confirm, &args.run, Verb::Apply)
}

pub fn run_destroy(session: &Session, args: DestroyArgs) -> anyhow::Result<Outcome> {
    if session.backend.is_missing()? {
        // The manifests are still checked: they name the stack.
        let stack = session.load(&args.manifests)?.desired.stack;
        if !session.quiet {
            outln!(
                "Nothing to destroy: {}, so stack `{stack}` owns nothing.",
                session.backend.absence()
            );
        }
        return Ok(Outcome::Clean);
    }
    let _lock = take_lock(session, "rolecall destroy", &args.run)?;
    let (mut plan, _) = super::plan::compute(session, &args.manifests, args.force, true)?;
    plan.destroy = true;
    execute(
        session,
        &plan,
        !args.run.auto_approve,
        &args.run,
        Verb::Destroy,
    )
}

/// On a backend rolecall takes no lock on (AWS), says that applies must be
/// serialised by whoever runs them (stderr; not with -q).
pub fn note_unlocked(session: &Session) {
    if !session.backend.locks_applies() && !session.quiet {
        errln!(
            "note: rolecall takes no lock on an AWS account without --lock-bucket: run one apply at a time per account (in GitHub Actions, a `concurrency` group), or name a bucket to lock in"
        );
    }
}

fn take_lock(session: &Session, command: &str, run: &RunArgs) -> anyhow::Result<LockGuard> {
    let lock = LockGuard::new(session.backend.lock(command, run.lock_timeout)?);
    note_unlocked(session);
    if let Some(previous) = lock.took_over_from().filter(|_| !session.quiet) {
        errln!(
            "warning: took over the account lock from a rolecall that did not finish ({previous}); the account is consistent, this apply converges it"
        );
    }
    Ok(lock)
}

fn execute(
    session: &Session,
    plan: &Plan,
    confirm: bool,
    run: &RunArgs,
    verb: Verb,
) -> anyhow::Result<Outcome> {
    if !plan.has_changes() {
        match verb {
            _ if session.quiet => {}
            Verb::Apply => outln!("{}", render::NO_CHANGES),
            Verb::Destroy => outln!(
                "Nothing to destroy: stack `{}` owns nothing in the account.",
                plan.stack
            ),
        }
        return Ok(Outcome::Clean);
    }
    // Whoever is asked to approve sees what they approve, even with -q.
    if !session.quiet || confirm {
        out!(
            "{}",
            render::text::render(plan, output::text_options(session))
        );
    }
    if confirm {
        ask(verb)?;
    }
    let cloud = session.backend.open(usize::from(run.parallelism))?;
    let progress = Progress::new(plan.steps.len(), session.quiet);
    let options = ApplyOptions {
        retry_timeout: run.retry_timeout,
        ..ApplyOptions::default()
    };
    // From here on Ctrl-C and SIGTERM stop the run between calls (a second
    // one at once); before, they end the process, which has changed nothing.
    if let Err(error) = interrupt::route_to(&options.stop) {
        tracing::warn!("Ctrl-C will end the process at once: {error}");
    }
    tracing::debug!(
        "applying {} steps; Ctrl-C or SIGTERM stops after the calls in flight",
        plan.steps.len()
    );
    let report = apply::execute(plan, cloud.as_ref(), &options, &progress);
    progress.finish();
    summarize(plan, &report, verb, session.quiet)
}

fn ask(verb: Verb) -> anyhow::Result<()> {
    let command = verb.command();
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to {command} without confirmation: standard input is not a terminal; pass --auto-approve"
        );
    }
    match verb {
        Verb::Apply => {
            out!("\nDo you want to perform these actions? Only 'yes' will be accepted: ")
        }
        Verb::Destroy => out!(
            "\nDo you really want to destroy everything this stack owns? There is no undo. Only 'yes' will be accepted: "
        ),
    }
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("reading the answer")?;
    if answer.trim() != "yes" {
        anyhow::bail!("{command} cancelled: nothing was changed");
    }
    Ok(())
}

/// `1 step`, `2 steps`.
fn steps(n: usize) -> String {
    format!("{n} step{}", if n == 1 { "" } else { "s" })
}

fn summarize(plan: &Plan, report: &Report, verb: Verb, quiet: bool) -> anyhow::Result<Outcome> {
    // A resource counts as applied when every one of its steps is done.
    // One pass over the steps, not one per change: plans run to 100,000s.
    let mut unfinished: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for step in &plan.steps {
        if !matches!(report.outcomes.get(&step.id), Some(apply::Outcome::Done)) {
            unfinished.insert(&*step.resource);
        }
    }
    let mut counts = [0usize; 4];
    for change in &plan.changes {
        let all_done = !unfinished.contains(change.resource.as_str());
        let slot = match change.action {
            Action::Create => 0,
            Action::Update => 1,
            Action::Replace => 2,
            Action::Delete => 3,
            Action::Noop => continue,
        };
        if all_done {
            counts[slot] += 1;
        }
    }
    let tally = match verb {
        Verb::Apply => format!(
            "{} created, {} updated, {} replaced, {} deleted",
            counts[0], counts[1], counts[2], counts[3]
        ),
        Verb::Destroy => {
            let [deleted, released, terminated] =
                render::removals(plan, |resource| !unfinished.contains(resource));
            format!("{deleted} deleted, {released} released, {terminated} terminated")
        }
    };
    let command = verb.command();
    if report.stopped() {
        let mut message = format!(
            "{command} interrupted: {} done, {} not started",
            steps(report.done()),
            report.not_started()
        );
        if report.failed() + report.skipped() > 0 {
            message.push_str(&format!(
                ", {} failed, {} skipped",
                report.failed(),
                report.skipped()
            ));
        }
        message.push_str(&format!(
            " ({tally}).\nEvery call made is complete: run `rolecall {command}` again to finish."
        ));
        return Err(interrupt::Interrupted(message).into());
    }
    if report.succeeded() {
        match verb {
            _ if quiet => {}
            Verb::Apply => outln!("Apply complete: {tally}."),
            Verb::Destroy => outln!("Destroy complete: {tally}."),
        }
        return Ok(Outcome::Clean);
    }
    let mut message = format!(
        "{command} failed: {} done, {} failed, {} skipped ({tally})",
        steps(report.done()),
        report.failed(),
        report.skipped()
    );
    // The first few of each, then a count: a quota hit can fail thousands.
    const SHOWN: usize = 10;
    let (mut failed, mut skipped) = (0usize, 0usize);
    for step in &plan.steps {
        match report.outcomes.get(&step.id) {
            Some(apply::Outcome::Failed(error)) => {
                failed += 1;
                if failed <= SHOWN {
                    message.push_str(&format!(
                        "\n  failed:  step {} {} {}: {error}",
                        step.id,
                        step.call.operation(),
                        step.title()
                    ));
                }
            }
            Some(apply::Outcome::Skipped { after }) => {
                skipped += 1;
                if skipped <= SHOWN {
                    message.push_str(&format!(
                        "\n  skipped: step {} {} {} (after step {after})",
                        step.id,
                        step.call.operation(),
                        step.title()
                    ));
                }
            }
            _ => {}
        }
    }
    if failed > SHOWN || skipped > SHOWN {
        message.push_str(&format!(
            "\n  … and {} more failed, {} more skipped (-v logs every step)",
            failed.saturating_sub(SHOWN),
            skipped.saturating_sub(SHOWN)
        ));
    }
    message.push_str(&format!(
        "\nRun `rolecall {command}` again to converge once the cause is fixed."
    ));
    anyhow::bail!(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them_and_never_panic() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        for bad in ["", "soon", "5 days", "-5s", "99999999999999999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
