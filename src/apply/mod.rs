//! Apply: execute a plan's step DAG against a [`Cloud`].
//!
//! Steps run in waves: every step whose dependencies all succeeded goes into
//! the next wave, which is handed to [`Cloud::invoke_batch`] (a backend may run
//! it concurrently or commit it at once; either way the wave is durable before
//! the next starts, so a step's effect is committed before its dependents
//! run). Retryable failures wait with backoff and jitter, within the retry
//! timeout. A step that fails for good fails its dependents (skipped); the
//! independent rest still runs.
//!
//! Crash safety comes from planning, not from a journal: the account never
//! holds a half-made call, and a new `apply` plans from what is there.

pub mod lock;
pub mod retry;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::cloud::{Call, Cloud, CloudError};
use crate::plan::{Plan, Step};

/// Limits of one apply.
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// How long one step may keep retrying (Terraform's default is 2 minutes).
    pub retry_timeout: Duration,
    /// First backoff; doubles each attempt.
    pub retry_base: Duration,
    /// Longest single wait between attempts.
    pub retry_cap: Duration,
    /// Most steps in one wave.
    pub wave_size: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            retry_timeout: Duration::from_secs(120),
            retry_base: Duration::from_millis(50),
            retry_cap: Duration::from_secs(5),
            wave_size: 512,
        }
    }
}

/// How one step ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    Failed(CloudError),
    /// Not attempted: the step it depends on (by id) did not succeed.
    Skipped {
        after: usize,
    },
}

/// What apply reports as it goes (progress bar, log lines).
pub trait Observer: Sync {
    fn started(&self, _step: &Step) {}
    fn retrying(&self, _step: &Step, _error: &CloudError, _attempt: u32, _wait: Duration) {}
    fn finished(&self, _step: &Step, _outcome: &Outcome) {}
}

/// An observer that reports nothing.
pub struct Silent;
impl Observer for Silent {}

/// The result of an apply: one outcome per step, by step id.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub outcomes: BTreeMap<usize, Outcome>,
    pub retries: u32,
}

impl Report {
    pub fn done(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Done))
    }
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped { .. }))
    }
    pub fn succeeded(&self) -> bool {
        self.failed() == 0 && self.skipped() == 0
    }
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.values().filter(|o| f(o)).count()
    }
}

#[derive(Clone, Copy)]
enum State {
    Waiting,
    /// Failed retryably: may run again at this instant.
    RetryAt(Instant, u32),
    Finished,
}

/// A plan names an instance it launches itself by its key (`instance/NAME`),
/// its id being unknown until then; this puts the real id in.
fn with_launched_ids(call: &Call, launched: &HashMap<String, String>) -> Call {
    let mut call = call.clone();
    let ids: Vec<&mut String> = match &mut call {
        Call::AssociateIamInstanceProfile(request) => vec![&mut request.instance_id],
        Call::CreateTags(request) => request.resources.iter_mut().collect(),
        _ => Vec::new(),
    };
    for id in ids {
        if let Some(launched) = launched.get(id.as_str()) {
            *id = launched.clone();
        }
    }
    call
}

/// Runs every step of `plan` that can run.
pub fn execute(
    plan: &Plan,
    cloud: &dyn Cloud,
    options: &ApplyOptions,
    observer: &dyn Observer,
) -> Report {
    let steps = &plan.steps;
    let mut state = vec![State::Waiting; steps.len()];
    let mut first_attempt: Vec<Option<Instant>> = vec![None; steps.len()];
    let mut report = Report::default();
    // Resource key (`instance/NAME`) -> id of the instance a RunInstances step launched.
    let mut launched: HashMap<String, String> = HashMap::new();
    let index_of: HashMap<usize, usize> =
        steps.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let after_disassociate = |step: &Step| {
        step.depends_on.iter().any(|d| {
            index_of
                .get(d)
                .is_some_and(|&i| matches!(steps[i].call, Call::DisassociateIamInstanceProfile(_)))
        })
    };

    loop {
        let now = Instant::now();
        let mut wave: Vec<usize> = Vec::new();
        let mut next_retry: Option<Instant> = None;
        for (i, step) in steps.iter().enumerate() {
            let runnable = match state[i] {
                State::Waiting => true,
                State::RetryAt(at, _) if at <= now => true,
                State::RetryAt(at, _) => {
                    next_retry = Some(next_retry.map_or(at, |n| n.min(at)));
                    false
                }
                State::Finished => false,
            };
            let dependencies_done = step
                .depends_on
                .iter()
                .all(|d| matches!(report.outcomes.get(d), Some(Outcome::Done)));
            if runnable && dependencies_done {
                wave.push(i);
                if wave.len() == options.wave_size {
                    break;
                }
            }
        }
        if wave.is_empty() {
            match next_retry {
                Some(at) => {
                    std::thread::sleep(at.saturating_duration_since(Instant::now()));
                    continue;
                }
                None => break,
            }
        }
        for &i in &wave {
            if matches!(state[i], State::Waiting) {
                observer.started(&steps[i]);
            }
            first_attempt[i].get_or_insert(now);
        }
        let calls: Vec<Call> = wave
            .iter()
            .map(|&i| with_launched_ids(&steps[i].call, &launched))
            .collect();
        let results = cloud.invoke_batch(&calls.iter().collect::<Vec<_>>());
        for (&i, result) in wave.iter().zip(results) {
            let step = &steps[i];
            match result {
                Ok(response) => {
                    if let Call::RunInstances(_) = step.call
                        && let Some(id) = response
                            .pointer("/Instances/0/InstanceId")
                            .and_then(|v| v.as_str())
                    {
                        launched.insert(step.resource.clone(), id.to_string());
                    }
                    state[i] = State::Finished;
                    report.outcomes.insert(step.id, Outcome::Done);
                    observer.finished(step, &Outcome::Done);
                }
                Err(error) => {
                    let attempt = match state[i] {
                        State::RetryAt(_, n) => n + 1,
                        _ => 1,
                    };
                    let started = first_attempt[i].unwrap_or(now);
                    let wait = retry::backoff(attempt - 1, options.retry_base, options.retry_cap);
                    let in_time = started.elapsed() + wait <= options.retry_timeout;
                    let retryable =
                        retry::is_retryable(&step.call, &error, after_disassociate(step));
                    if retryable && in_time {
                        report.retries += 1;
                        observer.retrying(step, &error, attempt, wait);
                        state[i] = State::RetryAt(Instant::now() + wait, attempt);
                    } else {
                        state[i] = State::Finished;
                        let outcome = Outcome::Failed(error);
                        observer.finished(step, &outcome);
                        report.outcomes.insert(step.id, outcome);
                    }
                }
            }
        }
    }
    // Whatever never ran waits on a failure: name the step it waited for.
    for (i, step) in steps.iter().enumerate() {
        if report.outcomes.contains_key(&step.id) {
            continue;
        }
        let after = step
            .depends_on
            .iter()
            .copied()
            .find(|d| !matches!(report.outcomes.get(d), Some(Outcome::Done)))
            .unwrap_or(step.id);
        let outcome = Outcome::Skipped { after };
        observer.finished(&steps[i], &outcome);
        report.outcomes.insert(step.id, outcome);
    }
    report
}
