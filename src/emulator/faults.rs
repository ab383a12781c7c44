//! Misbehaviour on request: throttling, the Nth call failing, and the
//! eventual-consistency messages EC2 gives for a profile it cannot see yet.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::Faults;
use super::store::Settings;
use crate::cloud::ErrorCode;

/// Which AWS service an operation belongs to (error codes differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Iam,
    Ec2,
}

const EC2_OPERATIONS: &[&str] = &[
    "RunInstances",
    "TerminateInstances",
    "StopInstances",
    "StartInstances",
    "DescribeInstances",
    "CreateTags",
    "DeleteTags",
    "AssociateIamInstanceProfile",
    "DisassociateIamInstanceProfile",
    "ReplaceIamInstanceProfileAssociation",
    "DescribeIamInstanceProfileAssociations",
];

impl Service {
    pub fn of(operation: &str) -> Service {
        if EC2_OPERATIONS.contains(&operation) {
            Service::Ec2
        } else {
            Service::Iam
        }
    }

    /// The code of an internal failure in this service.
    pub fn failure_code(self) -> ErrorCode {
        match self {
            Service::Iam => ErrorCode::ServiceFailure,
            Service::Ec2 => ErrorCode::InternalError,
        }
    }

    fn throttle_code(self) -> ErrorCode {
        match self {
            Service::Iam => ErrorCode::Throttling,
            Service::Ec2 => ErrorCode::RequestLimitExceeded,
        }
    }
}

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
            Service::Iam => {
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
                Service::Iam => "Rate exceeded",
                Service::Ec2 => "Request limit exceeded.",
            };
            return Some((service.throttle_code(), message.to_string()));
        }
    }
    None
}
