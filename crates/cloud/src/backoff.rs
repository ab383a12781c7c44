//! How long to wait before trying a call again: shared by apply's retries
//! (eventual consistency, throttling) and the AWS client's own retries of
//! throttled calls, so both back off the same way.

use std::time::Duration;

/// Exponential backoff with jitter: a random wait between half and all of
/// `base * 2^attempt`, capped, so retrying clients do not move in step
/// (AWS's "equal jitter"). `attempt` counts from 0.
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let ceiling = base
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(cap);
    let millis = ceiling.as_millis().max(1) as u64;
    Duration::from_millis(rand::random_range(millis / 2..=millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(2);
        assert!(backoff(0, base, cap) <= base);
        assert!(backoff(0, base, cap) >= base / 2);
        assert!(backoff(3, base, cap) >= Duration::from_millis(400));
        assert!(backoff(30, base, cap) <= cap);
        assert!(backoff(30, base, cap) >= cap / 2);
    }
}
