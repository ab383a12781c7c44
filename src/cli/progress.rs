//! How apply shows its progress: a bar on a terminal, log lines otherwise
//! (at `-v`), retries always logged at `-v`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::apply::{Observer, Outcome};
use crate::cloud::CloudError;
use crate::plan::Step;

pub struct Progress {
    bar: Option<ProgressBar>,
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
        Progress { bar }
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
}

impl Observer for Progress {
    fn started(&self, step: &Step) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{} {}", step.call.operation(), step.resource));
        }
    }

    fn retrying(&self, step: &Step, error: &CloudError, attempt: u32, wait: Duration) {
        self.log(format!(
            "retry {attempt} of step {} ({} {}) in {} ms: {} {}",
            step.id,
            step.call.operation(),
            step.resource,
            wait.as_millis(),
            error.code,
            error.message
        ));
    }

    fn finished(&self, step: &Step, outcome: &Outcome) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        let what = match outcome {
            Outcome::Done => "done".to_string(),
            Outcome::Failed(error) => format!("FAILED: {error}"),
            Outcome::Skipped { after } => format!("skipped (step {after} did not succeed)"),
        };
        self.log(format!(
            "step {} {} {}: {what}",
            step.id,
            step.call.operation(),
            step.resource
        ));
    }
}
