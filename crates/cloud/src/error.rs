//! Errors as AWS reports them: a code, a message, and whether a retry may help.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares the codes rolecall knows, each once: its variant, its text as AWS
/// spells it, and whether a retry may help; parsing, printing and
/// retryability are generated from the one list, so they cannot disagree.
macro_rules! error_codes {
    ($( $(#[$meta:meta])* $variant:ident = $text:literal, retryable: $retryable:literal; )*) => {
        /// An AWS error code. Codes rolecall knows are variants; any other
        /// (a backend or a newer AWS may answer with one) is kept as
        /// [`ErrorCode::Other`], so nothing AWS says is lost.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$meta])* $variant, )*
            /// A code rolecall does not know, as AWS spelt it. Never one of the
            /// codes above: [`ErrorCode::parse`] gives those their variant.
            Other(String),
        }

        impl ErrorCode {
            /// Every code rolecall knows (all but [`ErrorCode::Other`]).
            pub const KNOWN: &'static [ErrorCode] = &[$( ErrorCode::$variant, )*];

            /// The code as AWS spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( ErrorCode::$variant => $text, )*
                    ErrorCode::Other(code) => code,
                }
            }

            /// The code AWS sent: a known variant, or [`ErrorCode::Other`].
            pub fn parse(code: &str) -> ErrorCode {
                match code {
                    $( $text => ErrorCode::$variant, )*
                    other => ErrorCode::Other(other.to_string()),
                }
            }

            /// Whether a retry with backoff may succeed: throttling and
            /// transient server errors, as the AWS SDKs classify them
            /// (aws-sdk-rust's `THROTTLING_ERRORS` and `TRANSIENT_ERRORS`,
            /// plus the 5xx codes of IAM and EC2). Auth errors are not: the
            /// same request fails the same way until credentials change.
            /// An unknown code is not retried.
            pub fn is_transient(&self) -> bool {
                match self {
                    $( ErrorCode::$variant => $retryable, )*
                    ErrorCode::Other(_) => false,
                }
            }
        }
    };
}

error_codes! {
    // IAM
    NoSuchEntity = "NoSuchEntity", retryable: false;
    EntityAlreadyExists = "EntityAlreadyExists", retryable: false;
    DeleteConflict = "DeleteConflict", retryable: false;
    /// IAM's quota error (a count or size): not throttling, unlike the SDKs'
    /// `LimitExceededException` of other services.
    LimitExceeded = "LimitExceeded", retryable: false;
    ConcurrentModification = "ConcurrentModification", retryable: true;
    InvalidInput = "InvalidInput", retryable: false;
    MalformedPolicyDocument = "MalformedPolicyDocument", retryable: false;
    UnmodifiableEntity = "UnmodifiableEntity", retryable: false;
    PolicyNotAttachable = "PolicyNotAttachable", retryable: false;
    /// IAM's internal failure (HTTP 500).
    ServiceFailure = "ServiceFailure", retryable: true;
    ValidationError = "ValidationError", retryable: false;
    // EC2
    IncorrectState = "IncorrectState", retryable: false;
    InvalidParameterValue = "InvalidParameterValue", retryable: false;
    InvalidParameterCombination = "InvalidParameterCombination", retryable: false;
    MissingParameter = "MissingParameter", retryable: false;
    TagLimitExceeded = "TagLimitExceeded", retryable: false;
    InvalidInstanceIdNotFound = "InvalidInstanceID.NotFound", retryable: false;
    InvalidInstanceIdMalformed = "InvalidInstanceID.Malformed", retryable: false;
    InvalidAssociationIdNotFound = "InvalidAssociationID.NotFound", retryable: false;
    /// EC2's internal failure (HTTP 500).
    InternalError = "InternalError", retryable: true;
    // Throttling, as the SDKs spell it across services.
    /// IAM's (and the query protocol's) throttling code.
    Throttling = "Throttling", retryable: true;
    ThrottlingException = "ThrottlingException", retryable: true;
    ThrottledException = "ThrottledException", retryable: true;
    RequestThrottled = "RequestThrottled", retryable: true;
    RequestThrottledException = "RequestThrottledException", retryable: true;
    TooManyRequestsException = "TooManyRequestsException", retryable: true;
    /// EC2's throttling code.
    RequestLimitExceeded = "RequestLimitExceeded", retryable: true;
    BandwidthLimitExceeded = "BandwidthLimitExceeded", retryable: true;
    EC2ThrottledException = "EC2ThrottledException", retryable: true;
    SlowDown = "SlowDown", retryable: true;
    PriorRequestNotComplete = "PriorRequestNotComplete", retryable: true;
    // Transient server and network errors.
    ServiceUnavailable = "ServiceUnavailable", retryable: true;
    InternalFailure = "InternalFailure", retryable: true;
    RequestTimeout = "RequestTimeout", retryable: true;
    RequestTimeoutException = "RequestTimeoutException", retryable: true;
    // Authentication and authorisation (SigV4 checks, IAM's and EC2's 403s):
    // a retry with the same credentials fails the same way.
    AccessDenied = "AccessDenied", retryable: false;
    AccessDeniedException = "AccessDeniedException", retryable: false;
    /// EC2's "not authorised" (HTTP 403).
    UnauthorizedOperation = "UnauthorizedOperation", retryable: false;
    AuthFailure = "AuthFailure", retryable: false;
    ExpiredToken = "ExpiredToken", retryable: false;
    ExpiredTokenException = "ExpiredTokenException", retryable: false;
    InvalidClientTokenId = "InvalidClientTokenId", retryable: false;
    UnrecognizedClientException = "UnrecognizedClientException", retryable: false;
    SignatureDoesNotMatch = "SignatureDoesNotMatch", retryable: false;
    IncompleteSignature = "IncompleteSignature", retryable: false;
    MissingAuthenticationToken = "MissingAuthenticationToken", retryable: false;
    /// The request's signing time is too far from AWS's clock (more than
    /// 15 minutes): the SDKs retry only after correcting clock skew, which
    /// rolecall does not do.
    RequestExpired = "RequestExpired", retryable: false;
    OptInRequired = "OptInRequired", retryable: false;
    // A request a server cannot read (the query protocol's common errors).
    MissingAction = "MissingAction", retryable: false;
    InvalidAction = "InvalidAction", retryable: false;
    MalformedQueryString = "MalformedQueryString", retryable: false;
    /// The request's body is larger than the server takes (HTTP 413).
    RequestEntityTooLarge = "RequestEntityTooLarge", retryable: false;
    // rolecall's own
    /// The backend does not offer this operation (a lab operation on an
    /// account with no lab, such as RunInstances on real AWS).
    UnsupportedOperation = "UnsupportedOperation", retryable: false;
}

impl From<&str> for ErrorCode {
    fn from(code: &str) -> Self {
        ErrorCode::parse(code)
    }
}

impl std::str::FromStr for ErrorCode {
    type Err = std::convert::Infallible;

    /// Never fails: an unknown code is [`ErrorCode::Other`].
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Ok(ErrorCode::parse(code))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Written as AWS's text (`"InvalidInstanceID.NotFound"`), as before codes
/// could be unknown, so JSON that carries codes keeps its shape.
impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(ErrorCode::parse(&code))
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
            retryable: code.is_transient(),
            code,
            message: message.into(),
        }
    }

    /// Marks an error as retryable whatever its code (eventual consistency).
    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_text() {
        for code in ErrorCode::KNOWN {
            assert_eq!(&ErrorCode::parse(code.as_str()), code);
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str());
            assert_eq!(&serde_json::from_value::<ErrorCode>(json).unwrap(), code);
        }
        assert_eq!(
            ErrorCode::InvalidInstanceIdNotFound.as_str(),
            "InvalidInstanceID.NotFound"
        );
        let unknown = ErrorCode::parse("NoSuchBucket");
        assert_eq!(unknown, ErrorCode::Other("NoSuchBucket".into()));
        assert_eq!(unknown.to_string(), "NoSuchBucket");
        assert_eq!(ErrorCode::parse(&unknown.to_string()), unknown);
    }

    #[test]
    fn throttling_and_transient_codes_are_retryable_auth_codes_are_not() {
        for code in [
            "Throttling",
            "ThrottlingException",
            "RequestLimitExceeded",
            "ServiceUnavailable",
            "InternalError",
            "InternalFailure",
            "RequestTimeout",
            "ServiceFailure",
        ] {
            assert!(ErrorCode::parse(code).is_transient(), "{code}");
        }
        for code in [
            "AccessDenied",
            "AccessDeniedException",
            "UnauthorizedOperation",
            "ExpiredToken",
            "InvalidClientTokenId",
            "SignatureDoesNotMatch",
            "RequestExpired",
            "LimitExceeded",
            "SomethingNew",
        ] {
            assert!(!ErrorCode::parse(code).is_transient(), "{code}");
        }
    }
}
