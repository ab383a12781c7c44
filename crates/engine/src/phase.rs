//! Where a command's time goes: each phase of loading, reading and planning
//! logs how long it took at debug level, under the target `rolecall::phase`
//! (`rolecall -vv plan`, or `ROLECALL_LOG=rolecall::phase=debug` for these
//! lines alone). The benchmark `benches/scale.rs` reports its profile by
//! phase from them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Runs `work`, then logs how long `phase` took.
pub fn timed<T>(phase: &str, work: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let result = work();
    log(phase, started.elapsed());
    result
}

/// Logs that `phase` took `elapsed`.
pub fn log(phase: &str, elapsed: Duration) {
    tracing::debug!(target: "rolecall::phase", "phase {phase}: {:.1} ms", elapsed.as_secs_f64() * 1e3);
}

/// Time spent in one phase by several threads at once (parsing files in
/// parallel): the sum over threads, which is CPU time, not wall time.
#[derive(Debug, Default)]
pub struct Summed(AtomicU64);

impl Summed {
    /// Runs `work` and adds how long it took.
    pub fn time<T>(&self, work: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let result = work();
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.0.fetch_add(nanos, Ordering::Relaxed);
        result
    }

    /// The time added so far.
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}
