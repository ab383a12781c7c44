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
//!
//! A [`Stop`] request (Ctrl-C, SIGTERM) ends the run between waves: the
//! calls in flight finish, nothing new starts, the rest is `NotStarted`.

pub mod retry;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::plan::{Plan, Step};
use rolecall_cloud::{Call, Cloud, CloudError};

/// A request to stop an apply early, shared with whoever may ask (a signal
/// handler): the run finishes the calls in flight and starts no new ones.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// The flag a signal handler sets (`signal_hook::flag::register`).
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }

    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Limits of one apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// How long one step may keep retrying (Terraform's default is 2 minutes).
    pub retry_timeout: Duration,
    /// First backoff; doubles each attempt.
    pub retry_base: Duration,
    /// Longest single wait between attempts.
    pub retry_cap: Duration,
    /// Most steps in one wave.
    pub wave_size: usize,
    /// Checked between waves and while waiting to retry.
    pub stop: Stop,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            retry_timeout: Duration::from_secs(120),
            retry_base: Duration::from_millis(50),
            retry_cap: Duration::from_secs(5),
            wave_size: 512,
            stop: Stop::default(),
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
    /// Not finished because the run was asked to stop: never started, or
    /// waiting to be retried.
    NotStarted,
}

/// What apply reports as it goes (progress bar, log lines).
pub trait Observer: Sync {
    fn started(&self, _step: &Step) {}
    /// A retryable failure: the step runs again after `retry.wait`.
    fn retrying(&self, _step: &Step, _error: &CloudError, _retry: &Retry) {}
    fn finished(&self, _step: &Step, _outcome: &Outcome) {}
    /// The run saw a stop request; the calls in flight have finished.
    fn stopping(&self) {}
}

/// When a step that failed retryably runs again.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Failed attempts so far (1 after the first failure).
    pub attempt: u32,
    /// How long until the next attempt.
    pub wait: Duration,
    /// Since the step's first attempt.
    pub elapsed: Duration,
    /// How long the step may keep retrying in all.
    pub timeout: Duration,
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
    pub fn not_started(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotStarted))
    }
    /// Whether the run stopped early on request.
    pub fn stopped(&self) -> bool {
        self.not_started() > 0
    }
    pub fn succeeded(&self) -> bool {
        self.done() == self.outcomes.len()
    }
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.outcomes.values().filter(|o| f(o)).count()
    }
}

/// Longest sleep between checks of a stop request while waiting to retry.
const STOP_POLL: Duration = Duration::from_millis(50);

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
    let mut report = Report::default();
    // Resource key (`instance/NAME`) -> id of the instance a RunInstances step launched.
    let mut launched: HashMap<String, String> = HashMap::new();
    let index_of: HashMap<usize, usize> =
        steps.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    // The calls a step waited for: some errors are worth retrying only
    // after them (see `retry::is_retryable`).
    let waited_for = |step: &Step| -> Vec<&Call> {
        step.depends_on
            .iter()
            .filter_map(|d| index_of.get(d).map(|&i| &steps[i].call))
            .collect()
    };
    // Who waits for each step, and how many steps each still waits for:
    // finding the next wave costs its size, not a scan of the whole plan.
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    let mut waiting_on: Vec<usize> = vec![0; steps.len()];
    for (i, step) in steps.iter().enumerate() {
        for dependency in &step.depends_on {
            // An id naming no step (a hand-edited saved plan) never
            // finishes: the step is skipped, never run early.
            if let Some(&j) = index_of.get(dependency) {
                dependents[j].push(i);
            }
            waiting_on[i] += 1;
        }
    }
    // Steps free to run, smallest index (plan order) first; and steps that
    // failed retryably, by the time they may run again.
    let mut ready: BinaryHeap<Reverse<usize>> = (0..steps.len())
        .filter(|&i| waiting_on[i] == 0)
        .map(Reverse)
        .collect();
    let mut retries: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    let mut failures: Vec<u32> = vec![0; steps.len()];
    let mut first_attempt: Vec<Option<Instant>> = vec![None; steps.len()];

    let mut stopped = false;
    let mut waves = 0usize;
    loop {
        if options.stop.requested() {
            stopped = true;
            observer.stopping();
            break;
        }
        let now = Instant::now();
        while let Some(&Reverse((at, i))) = retries.peek()
            && at <= now
        {
            retries.pop();
            ready.push(Reverse(i));
        }
        let mut wave: Vec<usize> = Vec::new();
        while wave.len() < options.wave_size
            && let Some(Reverse(i)) = ready.pop()
        {
            wave.push(i);
        }
        if wave.is_empty() {
            match retries.peek() {
                Some(&Reverse((at, _))) => {
                    // In slices, so a stop request does not wait out a backoff.
                    let wait = at.saturating_duration_since(Instant::now());
                    std::thread::sleep(wait.min(STOP_POLL));
                    continue;
                }
                None => break,
            }
        }
        for &i in &wave {
            if first_attempt[i].is_none() {
                observer.started(&steps[i]);
                first_attempt[i] = Some(now);
            }
        }
        let calls: Vec<Call> = wave
            .iter()
            .map(|&i| with_launched_ids(&steps[i].call, &launched))
            .collect();
        waves += 1;
        // Said before the calls go out: a test (and a user at -vv) can tell
        // that apply is inside a wave, not still planning.
        tracing::debug!("wave {waves}: {} calls", calls.len());
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
                        launched.insert(step.resource.to_string(), id.to_string());
                    }
                    report.outcomes.insert(step.id, Outcome::Done);
                    observer.finished(step, &Outcome::Done);
                    for &next in &dependents[i] {
                        waiting_on[next] -= 1;
                        if waiting_on[next] == 0 {
                            ready.push(Reverse(next));
                        }
                    }
                }
                Err(error) => {
                    failures[i] += 1;
                    let attempt = failures[i];
                    let started = first_attempt[i].unwrap_or(now);
                    let wait =
                        rolecall_cloud::backoff(attempt - 1, options.retry_base, options.retry_cap);
                    let in_time = started.elapsed() + wait <= options.retry_timeout;
                    let retryable = retry::is_retryable(&step.call, &error, &waited_for(step));
                    if retryable && in_time {
                        report.retries += 1;
                        let retry = Retry {
                            attempt,
                            wait,
                            elapsed: started.elapsed(),
                            timeout: options.retry_timeout,
                        };
                        observer.retrying(step, &error, &retry);
                        retries.push(Reverse((Instant::now() + wait, i)));
                    } else {
                        let outcome = Outcome::Failed(error);
                        observer.finished(step, &outcome);
                        report.outcomes.insert(step.id, outcome);
                    }
                }
            }
        }
    }
    // Whatever never ran was stopped, or waits on a failure: name the step
    // it waited for.
    for (i, step) in steps.iter().enumerate() {
        if report.outcomes.contains_key(&step.id) {
            continue;
        }
        if stopped {
            let outcome = Outcome::NotStarted;
            observer.finished(&steps[i], &outcome);
            report.outcomes.insert(step.id, outcome);
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
