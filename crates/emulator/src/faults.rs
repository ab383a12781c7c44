//! Misbehaviour on request: throttling and the Nth call failing, each with
//! the code and message of the operation's service (the operation table
//! says which service).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::Faults;
use super::store::Settings;
use rolecall_cloud::{ErrorCode, Service};

impl Faults {
    /// Whether calls must be counted (only then does a call write the counter).
    pub(crate) fn counts_calls(&self) -> bool {
        self.fail_after.is_some() || self.throttle_rate > 0.0
    }
}

/// The injected error for this call, if any. `settings.calls` is this call's number.
pub fn injected(settings: &Settings, service: Service) -> Option<(ErrorCode, String)> {
    let faults = &settings.faults;
    if faults.fail_after == Some(settings.calls) {
        let message = match service {
            // AWS's common text of InternalFailure, which IAM's ServiceFailure shares.
            Service::Iam | Service::Sts => {
                "The request processing has failed because of an unknown error, exception or failure."
            }
            Service::Ec2 => "An internal error has occurred",
        };
        return Some((service.failure_code(), message.to_string()));
    }
    if faults.throttle_rate > 0.0 {
        // One die per call number: replayable across processes without storing RNG state.
        let mut dice =
            StdRng::seed_from_u64(faults.seed ^ settings.calls.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        if dice.random::<f64>() < faults.throttle_rate {
            let message = match service {
                Service::Iam | Service::Sts => "Rate exceeded",
                Service::Ec2 => "Request limit exceeded.",
            };
            return Some((service.throttling_code(), message.to_string()));
        }
    }
    None
}
