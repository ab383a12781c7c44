//! AWS's wire format for rolecall's operations, both ways: the form-encoded
//! requests and XML responses of the query protocol (IAM, STS) and of EC2's
//! variant of it.
//!
//! One job: turn a [`Call`] into the body botocore would send and back
//! ([`encode_request`], [`parse_form`], [`decode_request`]), and an
//! operation's output or [`CloudError`] into the body AWS would answer and
//! back ([`encode_response`], [`encode_error`], [`decode_response`]). The
//! server (`rolecall serve`) uses the decode-request/encode-response half; a
//! client of AWS (tests, later the real-AWS backend) the other. Nothing here
//! speaks HTTP or checks signatures.
//!
//! Nothing is written per operation: every walk follows the operation
//! table's field descriptors (`Operation::fields`, `output_fields`, their
//! [`Kind`]s), so a new operation in the table is on the wire with no change
//! here. The one exception is data, not code: EC2 names members on the wire
//! by its model's `locationName`s (`InstanceIds` is sent as `InstanceId.N`
//! and answered in `instancesSet`), which cannot be derived from the member
//! names, so [`ec2_names`] records them, read from botocore's model. IAM
//! and STS use the member names as they are.
//!
//! Sources: botocore's service models and `serialize.py`, `parsers.py`
//! (docs/aws-wire.md §1 summarises them).

pub mod ec2_names;
mod form;
mod request;
mod response;

use rolecall_cloud::{Call, CloudError, ErrorCode, Operation, Protocol, Service};

pub use rolecall_cloud::Kind;

/// A request body that is not a well-formed form (the server answers it
/// with AWS's error for a malformed query string).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A `%` not followed by two hex digits.
    #[error("parameter {pair} has a `%` that is not followed by two hex digits")]
    BadPercentEscape {
        /// 1-based position of the `name=value` pair in the body.
        pair: usize,
    },
    /// The bytes of a name or value, percent-decoded, are not UTF-8.
    #[error("parameter {pair} is not UTF-8 once percent-decoded")]
    InvalidUtf8 {
        /// 1-based position of the `name=value` pair in the body.
        pair: usize,
    },
}

/// Server side: the body of a POST (application/x-www-form-urlencoded) as
/// name/value pairs, percent-decoded, `+` as space. Invalid percent escapes
/// or invalid UTF-8 are an error.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, WireError> {
    form::parse(body)
}

/// Server side: the request's parameters decoded into the operation's
/// [`Call`]. `Action`, `Version` and unknown parameters are ignored, as AWS
/// ignores unknown ones. A missing required member or an unparsable value
/// is the service's error: IAM and STS `ValidationError` (naming the member
/// in lower camel case, as AWS's validation messages do), EC2
/// `MissingParameter` or `InvalidParameterValue` (naming the parameter).
pub fn decode_request(
    operation: &'static Operation,
    params: &[(String, String)],
) -> Result<Call, CloudError> {
    request::decode(operation, params)
}

/// Server side: the XML body of a successful response; `output` is the
/// operation's output as JSON (what [`Call::invoke`] returns).
pub fn encode_response(
    operation: &Operation,
    output: &serde_json::Value,
    request_id: &str,
) -> String {
    response::encode(operation, output, request_id)
}

/// Server side: the HTTP status and XML body of an error, in the service's
/// envelope.
pub fn encode_error(service: Service, error: &CloudError, request_id: &str) -> (u16, String) {
    response::encode_error(service, error, request_id)
}

/// Client side: the form body of a call, starting
/// `Action=<Op>&Version=<ver>`, encoded as botocore does.
pub fn encode_request(call: &Call) -> String {
    request::encode(call)
}

/// Client side: a response's status and body back into the output's JSON
/// (`null` for an operation with no output, as [`Call::invoke`] gives), or
/// the [`CloudError`] it carries (its retryability follows from the code).
/// A body rolecall cannot read is an error with code `MalformedResponse`.
pub fn decode_response(
    operation: &Operation,
    status: u16,
    body: &[u8],
) -> Result<serde_json::Value, CloudError> {
    response::decode(operation, status, body)
}

/// Client side, for a service outside the operation table (S3's lock
/// object): the code and message of the AWS error document in `body`
/// (`<Error>` at the root, as S3 answers, or within `<ErrorResponse>`),
/// or `None` when the body holds none.
pub fn decode_error_document(body: &[u8]) -> Option<(String, String)> {
    response::error_document(body)
}

/// The HTTP status AWS answers an error code with in `service`: IAM's and
/// STS's from their models (botocore's `error.httpStatusCode`), the query
/// protocol's and EC2's common errors from the API references' "Common
/// Errors". A code not listed is a client error, 400.
pub fn http_status(service: Service, code: &ErrorCode) -> u16 {
    use ErrorCode as C;
    match (service.protocol(), code) {
        // Authentication, both protocols.
        (
            _,
            C::MissingAuthenticationToken
            | C::InvalidClientTokenId
            | C::SignatureDoesNotMatch
            | C::AccessDenied
            | C::AccessDeniedException
            | C::OptInRequired,
        ) => 403,
        (_, C::IncompleteSignature | C::RequestExpired | C::ExpiredToken) => 400,
        (Protocol::Query, C::NoSuchEntity) => 404,
        (
            Protocol::Query,
            C::EntityAlreadyExists
            | C::DeleteConflict
            | C::LimitExceeded
            | C::ConcurrentModification,
        ) => 409,
        (Protocol::Query, C::ServiceFailure | C::InternalFailure) => 500,
        (Protocol::Query, C::ServiceUnavailable) => 503,
        // STS's model: a region the account has not enabled.
        (Protocol::Query, C::Other(other)) if other == "RegionDisabledException" => 403,
        (Protocol::Ec2, C::UnauthorizedOperation) => 403,
        (Protocol::Ec2, C::AuthFailure) => 401,
        (Protocol::Ec2, C::InternalError | C::InternalFailure) => 500,
        (Protocol::Ec2, C::RequestLimitExceeded | C::ServiceUnavailable) => 503,
        _ => 400,
    }
}
