//! How fast calls leave: a client-side rate limit that AWS's throttling
//! sets, and an optional ceiling the user sets (`--max-rate`).
//!
//! AWS throttles IAM and EC2 per account, and the limits are not published
//! as numbers (EC2's token buckets are; IAM's are not). So, as the SDKs'
//! adaptive retry mode does, calls leave as fast as they are made until AWS
//! first throttles one; from then on they leave at most at a rate that is
//! cut on every throttling answer (to 70% of the rate calls were sent at,
//! the SDKs' CUBIC β) and grows back by one call per second each second
//! without one. Retrying alone would keep every thread knocking at once and
//! spend the retry budget; pacing spreads the same calls out.
//!
//! The limiter is a schedule, not a bucket of tokens: each call takes the
//! next free slot, `1 / rate` after the previous one, and sleeps until it.
//! Pure in its clock (every method takes `now`), so tests need no sleeping.
//! AWS throttles each service on its own, so a client keeps one per service.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The share of the sending rate kept after a throttling answer.
const BETA: f64 = 0.7;
/// Calls per second the rate grows by, each second without throttling.
const GROWTH_PER_SECOND: f64 = 1.0;
/// The slowest pace: AWS has never throttled below it.
const MIN_RATE: f64 = 0.5;
/// The window the sending rate is measured over, and the least time
/// between two cuts: the calls in flight when AWS starts throttling are
/// all throttled together, and count as one signal.
const WINDOW: Duration = Duration::from_secs(1);

/// A rate limit shared by every thread of a client.
#[derive(Debug)]
pub struct Pace {
    state: Mutex<State>,
    /// The user's ceiling (`--max-rate`), in calls per second.
    ceiling: Option<f64>,
}

#[derive(Debug)]
struct State {
    /// The rate set by the last throttling answer and when it was set;
    /// `None` until AWS throttles.
    cut: Option<(f64, Instant)>,
    /// The earliest moment the next call may leave.
    next_slot: Option<Instant>,
    /// When the calls of the last [`WINDOW`] left: their count is the
    /// sending rate, a pause before a throttle not averaged in.
    sent: VecDeque<Instant>,
}

impl Pace {
    /// No limit until AWS throttles, and never above `ceiling` calls per
    /// second when one is given.
    pub fn new(ceiling: Option<f64>) -> Pace {
        Pace {
            state: Mutex::new(State {
                cut: None,
                next_slot: None,
                sent: VecDeque::new(),
            }),
            ceiling: ceiling.filter(|rate| *rate > 0.0),
        }
    }

    /// Waits for this call's slot.
    pub fn wait(&self) {
        let now = Instant::now();
        let delay = self.reserve(now);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
    }

    /// Takes the next slot at `now`: how long the call must wait for it.
    pub fn reserve(&self, now: Instant) -> Duration {
        let mut state = self.lock();
        let Some(rate) = self.rate(&state, now) else {
            state.count(now);
            return Duration::ZERO;
        };
        let slot = state.next_slot.map_or(now, |next| next.max(now));
        state.next_slot = Some(slot + Duration::from_secs_f64(1.0 / rate));
        state.count(slot);
        slot - now
    }

    /// AWS throttled a call at `now`: the rate drops to [`BETA`] of the
    /// rate calls were leaving at.
    pub fn throttled(&self, now: Instant) {
        let mut state = self.lock();
        if state
            .cut
            .is_some_and(|(_, at)| now.saturating_duration_since(at) < WINDOW)
        {
            return;
        }
        let sending = match self.rate(&state, now) {
            // Limited already: the limit was too high.
            Some(rate) => rate,
            // Unlimited until now: what was sent in the last second.
            None => state.measured(now),
        };
        let rate = (sending * BETA).max(MIN_RATE);
        tracing::debug!("throttled: pacing calls at {rate:.1} per second");
        state.cut = Some((rate, now));
    }

    /// The rate calls may leave at `now`, or `None` for no limit.
    fn rate(&self, state: &State, now: Instant) -> Option<f64> {
        let adaptive = state.cut.map(|(rate, at)| {
            rate + GROWTH_PER_SECOND * now.saturating_duration_since(at).as_secs_f64()
        });
        match (adaptive, self.ceiling) {
            (Some(adaptive), Some(ceiling)) => Some(adaptive.min(ceiling)),
            (adaptive, ceiling) => adaptive.or(ceiling),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The rate a throttling answer would cut from, for tests.
    #[cfg(test)]
    fn current(&self, now: Instant) -> Option<f64> {
        self.rate(&self.lock(), now)
    }
}

impl State {
    /// Counts a call leaving at `at`.
    fn count(&mut self, at: Instant) {
        self.sent.push_back(at);
        self.forget_before(at);
    }

    /// Calls per second over the last [`WINDOW`] before `now`.
    fn measured(&mut self, now: Instant) -> f64 {
        self.forget_before(now);
        self.sent.iter().filter(|at| **at <= now).count() as f64 / WINDOW.as_secs_f64()
    }

    fn forget_before(&mut self, now: Instant) {
        while self
            .sent
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) > WINDOW)
        {
            self.sent.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn calls_leave_at_once_until_aws_throttles() {
        let pace = Pace::new(None);
        let start = Instant::now();
        for i in 0..1000 {
            assert_eq!(pace.reserve(start + ms(i)), Duration::ZERO);
        }
        assert_eq!(pace.current(start + ms(1000)), None);
    }

    #[test]
    fn a_ceiling_spaces_calls_from_the_first() {
        let pace = Pace::new(Some(10.0));
        let start = Instant::now();
        // Ten calls at one instant: the tenth leaves 900 ms later.
        let delays: Vec<Duration> = (0..10).map(|_| pace.reserve(start)).collect();
        assert_eq!(delays[0], Duration::ZERO);
        assert_eq!(delays[1], ms(100));
        assert_eq!(delays[9], ms(900));
        // A call long after the last slot waits for nothing.
        assert_eq!(pace.reserve(start + ms(5000)), Duration::ZERO);
    }

    #[test]
    fn throttling_cuts_the_rate_to_seventy_percent_of_the_sending_rate() {
        let pace = Pace::new(None);
        let start = Instant::now();
        // 40 calls per second for two seconds, then a throttle.
        for i in 0..80 {
            pace.reserve(start + ms(i * 25));
        }
        let at = start + ms(2000);
        pace.reserve(at);
        pace.throttled(at);
        let rate = pace.current(at).expect("limited after throttling");
        assert!((rate - 28.0).abs() < 1.0, "{rate}");
        // The other calls in flight throttled with it are the same signal.
        pace.throttled(at + ms(10));
        assert_eq!(pace.current(at), Some(rate));
        // A throttle a second later cuts again, from the limited rate as
        // it has grown since.
        let later = at + ms(1000);
        pace.throttled(later);
        let again = pace.current(later).expect("still limited");
        assert!(
            (again - (rate + GROWTH_PER_SECOND) * BETA).abs() < 1e-9,
            "{again}"
        );
    }

    #[test]
    fn the_rate_grows_back_a_call_per_second_each_second_up_to_the_ceiling() {
        let pace = Pace::new(Some(12.0));
        let start = Instant::now();
        pace.reserve(start);
        pace.throttled(start);
        let cut = pace.current(start).expect("limited");
        assert!(cut < 12.0);
        let later = pace
            .current(start + Duration::from_secs(3))
            .expect("limited");
        assert!((later - (cut + 3.0).min(12.0)).abs() < 1e-9, "{later}");
        let much_later = pace.current(start + Duration::from_secs(600));
        assert_eq!(much_later, Some(12.0));
    }

    #[test]
    fn a_pause_before_a_throttle_is_not_averaged_in() {
        let pace = Pace::new(None);
        let start = Instant::now();
        // A burst of 30 calls, a minute of nothing, then 20 in 500 ms.
        for i in 0..30 {
            pace.reserve(start + ms(i * 10));
        }
        let later = start + Duration::from_secs(60);
        for i in 0..20 {
            pace.reserve(later + ms(i * 25));
        }
        let at = later + ms(500);
        pace.throttled(at);
        let rate = pace.current(at).expect("limited");
        assert!((rate - 14.0).abs() < 0.01, "{rate}");
    }

    #[test]
    fn repeated_throttling_settles_the_rate_and_never_below_the_floor() {
        let pace = Pace::new(None);
        let start = Instant::now();
        let mut now = start;
        for _ in 0..50 {
            pace.throttled(now);
            now += Duration::from_secs(1);
        }
        // Each second the rate grows by one, then is cut to 70% of it:
        // it settles where r = 0.7 (r + 1), above the floor, and the
        // floor holds a cut from nothing.
        let settled = pace.current(now - Duration::from_secs(1)).expect("limited");
        assert!((settled - 7.0 / 3.0).abs() < 0.01, "{settled}");
        let fresh = Pace::new(None);
        fresh.throttled(start);
        assert_eq!(fresh.current(start), Some(MIN_RATE));
    }
}
