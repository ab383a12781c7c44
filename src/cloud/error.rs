//! Errors as AWS reports them: a code, a message, and whether a retry may help.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The AWS error codes rolecall's operations can return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    // IAM
    NoSuchEntity,
    EntityAlreadyExists,
    DeleteConflict,
    LimitExceeded,
    ConcurrentModification,
    InvalidInput,
    MalformedPolicyDocument,
    UnmodifiableEntity,
    PolicyNotAttachable,
    ServiceFailure,
    ValidationError,
    Throttling,
    // EC2
    IncorrectState,
    InvalidParameterValue,
    InvalidParameterCombination,
    MissingParameter,
    TagLimitExceeded,
    #[serde(rename = "InvalidInstanceID.NotFound")]
    InvalidInstanceIdNotFound,
    #[serde(rename = "InvalidInstanceID.Malformed")]
    InvalidInstanceIdMalformed,
    #[serde(rename = "InvalidAssociationID.NotFound")]
    InvalidAssociationIdNotFound,
    RequestLimitExceeded,
    InternalError,
    /// The backend does not offer this operation (e.g. RunInstances on real AWS).
    UnsupportedOperation,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NoSuchEntity => "NoSuchEntity",
            ErrorCode::EntityAlreadyExists => "EntityAlreadyExists",
            ErrorCode::DeleteConflict => "DeleteConflict",
            ErrorCode::LimitExceeded => "LimitExceeded",
            ErrorCode::ConcurrentModification => "ConcurrentModification",
            ErrorCode::InvalidInput => "InvalidInput",
            ErrorCode::MalformedPolicyDocument => "MalformedPolicyDocument",
            ErrorCode::UnmodifiableEntity => "UnmodifiableEntity",
            ErrorCode::PolicyNotAttachable => "PolicyNotAttachable",
            ErrorCode::ServiceFailure => "ServiceFailure",
            ErrorCode::ValidationError => "ValidationError",
            ErrorCode::Throttling => "Throttling",
            ErrorCode::IncorrectState => "IncorrectState",
            ErrorCode::InvalidParameterValue => "InvalidParameterValue",
            ErrorCode::InvalidParameterCombination => "InvalidParameterCombination",
            ErrorCode::MissingParameter => "MissingParameter",
            ErrorCode::TagLimitExceeded => "TagLimitExceeded",
            ErrorCode::InvalidInstanceIdNotFound => "InvalidInstanceID.NotFound",
            ErrorCode::InvalidInstanceIdMalformed => "InvalidInstanceID.Malformed",
            ErrorCode::InvalidAssociationIdNotFound => "InvalidAssociationID.NotFound",
            ErrorCode::RequestLimitExceeded => "RequestLimitExceeded",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::UnsupportedOperation => "UnsupportedOperation",
        }
    }

    /// Whether AWS documents this code as transient (a retry with backoff may succeed).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorCode::Throttling
                | ErrorCode::RequestLimitExceeded
                | ErrorCode::ServiceFailure
                | ErrorCode::InternalError
                | ErrorCode::ConcurrentModification
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error returned by one API call, shaped as the AWS CLI prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("An error occurred ({code}) when calling the {operation} operation: {message}")]
pub struct CloudError {
    /// AWS's operation name, e.g. `CreateRole`.
    pub operation: String,
    pub code: ErrorCode,
    pub message: String,
    /// Whether retrying the same call later may succeed.
    pub retryable: bool,
}

impl CloudError {
    /// An error whose retryability follows from its code.
    pub fn new(operation: &str, code: ErrorCode, message: impl Into<String>) -> Self {
        CloudError {
            operation: operation.to_string(),
            code,
            message: message.into(),
            retryable: code.is_transient(),
        }
    }

    /// Marks an error as retryable whatever its code (eventual consistency).
    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }
}
