//! How apply shows its progress: a bar on a terminal, log lines otherwise
//! (at `-v`), retries always logged at `-v`. Without `-q`, a step that keeps
//! waiting to be retried is reported even without a terminal, so a CI log
//! never sits silent for minutes.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::output::errln;
use crate::apply::{Observer, Outcome, Retry};
use crate::cloud::CloudError;
use crate::plan::Step;

/// How long a step may wait to be retried before the wait is reported.
const REPORT_WAITS_AFTER: Duration = Duration::from_secs(5);
/// Least time between two reports of waiting steps.
const REPORT_WAITS_EVERY: Duration = Duration::from_secs(10);

pub struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    waits: Mutex<Waits>,
}

/// The steps waiting to be retried, for the reports of long waits.
#[derive(Default)]
struct Waits {
    /// Step id -> what it is.
    waiting: BTreeMap<usize, String>,
    last_report: Option<Instant>,
}

impl Progress {
    pub fn new(total: usize, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {wide_msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            quiet,
            waits: Mutex::new(Waits::default()),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn log(&self, line: String) {
        match &self.bar {
            // Keep log lines above the bar instead of tearing it.
            Some(bar) if tracing::enabled!(tracing::Level::INFO) => bar.println(line),
            _ => tracing::info!("{line}"),
        }
    }

    /// A line for people whatever the verbosity (but `-q`), above the bar.
    fn say(&self, line: String) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(line),
            None => errln!("{line}"),
        }
    }

    fn waits(&self) -> std::sync::MutexGuard<'_, Waits> {
        self.waits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Observer for Progress {
    fn started(&self, step: &Step) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{} {}", step.call.operation(), step.title()));
        }
    }

    fn retrying(&self, step: &Step, error: &CloudError, retry: &Retry) {
        self.log(format!(
            "retry {} of step {} ({} {}) in {} ms: {} {}",
            retry.attempt,
            step.id,
            step.call.operation(),
            step.title(),
            retry.wait.as_millis(),
            error.code,
            error.message
        ));
        // Reported once a step's wait (so far, plus until its next attempt)
        // passes the threshold: before the silence, not after it.
        let now = Instant::now();
        let mut waits = self.waits();
        waits.waiting.insert(
            step.id,
            format!(
                "step {} {} {}",
                step.id,
                step.call.operation(),
                step.title()
            ),
        );
        let due = waits
            .last_report
            .is_none_or(|last| now.duration_since(last) >= REPORT_WAITS_EVERY);
        if !due || retry.elapsed + retry.wait < REPORT_WAITS_AFTER {
            return;
        }
        waits.last_report = Some(now);
        let others = waits.waiting.len() - 1;
        drop(waits);
        let others = match others {
            0 => String::new(),
            1 => "; 1 more step is waiting too".to_string(),
            n => format!("; {n} more steps are waiting too"),
        };
        self.say(format!(
            "waiting: step {} {} {} has been retrying for {:.0} s ({}: {}); next attempt in {:.0} s, it gives up after {} s{others}",
            step.id,
            step.call.operation(),
            step.title(),
            retry.elapsed.as_secs_f64(),
            error.code,
            error.message,
            retry.wait.as_secs_f64(),
            retry.timeout.as_secs()
        ));
    }

    fn finished(&self, step: &Step, outcome: &Outcome) {
        self.waits().waiting.remove(&step.id);
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        let what = match outcome {
            Outcome::Done => "done".to_string(),
            Outcome::Failed(error) => format!("FAILED: {error}"),
            Outcome::Skipped { after } => format!("skipped (step {after} did not succeed)"),
            Outcome::NotStarted => "not started (interrupted)".to_string(),
        };
        self.log(format!(
            "step {} {} {}: {what}",
            step.id,
            step.call.operation(),
            step.title()
        ));
    }

    fn stopping(&self) {
        self.say("interrupted: the calls in flight have finished; no new step starts".to_string());
    }
}
