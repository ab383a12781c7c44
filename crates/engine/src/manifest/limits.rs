//! IAM's range for `max_session_duration`: validation checks an integer
//! against it, and conversion names it when a whole number too long for an
//! integer is read as a float. Its own module so that conversion does not
//! depend on validation, which depends on conversion.

use rolecall_model::limits::SESSION_DURATION;

/// IAM's range for `max_session_duration`, in seconds, as the loader reads
/// integers (wider than the model's `u32`, so that an overflow is out of range).
pub(super) const SESSION_RANGE: std::ops::RangeInclusive<i128> =
    (*SESSION_DURATION.start() as i128)..=(*SESSION_DURATION.end() as i128);

/// The message for a `max_session_duration` out of IAM's range; `found` is
/// the value as the message shows it.
pub(super) fn session_out_of_range(found: &str) -> String {
    format!(
        "`max_session_duration` must be between {} and {} seconds (1 to 12 hours), found {found}",
        SESSION_RANGE.start(),
        SESSION_RANGE.end()
    )
}
