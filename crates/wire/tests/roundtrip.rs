//! Every operation of the table survives the wire both ways: its request
//! through encode → form → decode, its response (or error) through
//! encode → decode.

mod common;

use common::{TRICKY, sample, sample_call};
use rolecall_cloud::{CloudError, ErrorCode, OPERATIONS, Protocol, Service};
use rolecall_wire::{
    decode_request, decode_response, encode_error, encode_request, encode_response, http_status,
    parse_form,
};
use serde_json::Value;

#[test]
fn every_request_survives_the_wire() {
    for operation in OPERATIONS {
        let call = sample_call(operation);
        let body = encode_request(&call);
        let start = format!(
            "Action={}&Version={}",
            operation.name,
            operation.service.api_version()
        );
        assert!(body.starts_with(&start), "{body}");
        let params = parse_form(body.as_bytes()).unwrap();
        let decoded = decode_request(operation, &params)
            .unwrap_or_else(|error| panic!("{}: {error}\n{body}", operation.name));
        assert_eq!(decoded, call, "{}: {body}", operation.name);
    }
}

#[test]
fn every_response_survives_the_wire() {
    for operation in OPERATIONS {
        let output = if operation.output_fields.is_empty() {
            Value::Null
        } else {
            Value::Object(sample(operation.output_fields, "out"))
        };
        let body = encode_response(operation, &output, "req-1");
        let decoded = decode_response(operation, 200, body.as_bytes())
            .unwrap_or_else(|error| panic!("{}: {error}\n{body}", operation.name));
        assert_eq!(decoded, output, "{}: {body}", operation.name);
        assert!(body.contains("req-1"), "{body}");
    }
}

#[test]
fn every_error_survives_the_wire_with_its_status() {
    for operation in OPERATIONS {
        for code in [
            operation.service.failure_code(),
            operation.service.throttling_code(),
            ErrorCode::NoSuchEntity,
            ErrorCode::Other("Some.NewCode".into()),
        ] {
            let error = CloudError::new(
                operation.name,
                code.clone(),
                format!("went wrong: {TRICKY}"),
            );
            let (status, body) = encode_error(operation.service, &error, "req-2");
            assert_eq!(status, http_status(operation.service, &code));
            let decoded = decode_response(operation, status, body.as_bytes()).unwrap_err();
            assert_eq!(decoded, error, "{body}");
            let receiver = body.contains("<Type>Receiver</Type>");
            if operation.service.protocol() == Protocol::Query {
                assert_eq!(receiver, status >= 500, "{body}");
            }
        }
    }
}

#[test]
fn statuses_follow_the_models_and_common_errors() {
    let iam = |code: &str| http_status(Service::Iam, &ErrorCode::parse(code));
    let ec2 = |code: &str| http_status(Service::Ec2, &ErrorCode::parse(code));
    assert_eq!(iam("NoSuchEntity"), 404);
    for code in [
        "EntityAlreadyExists",
        "DeleteConflict",
        "LimitExceeded",
        "ConcurrentModification",
    ] {
        assert_eq!(iam(code), 409, "{code}");
    }
    for code in [
        "InvalidInput",
        "MalformedPolicyDocument",
        "PolicyNotAttachable",
        "UnmodifiableEntity",
        "ValidationError",
        "InvalidAction",
        "MissingParameter",
        "Throttling",
        "IncompleteSignature",
        "RequestExpired",
        "ExpiredToken",
    ] {
        assert_eq!(iam(code), 400, "{code}");
    }
    assert_eq!(iam("ServiceFailure"), 500);
    for code in [
        "MissingAuthenticationToken",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "AccessDenied",
    ] {
        assert_eq!(iam(code), 403, "{code}");
    }
    assert_eq!(
        http_status(Service::Sts, &ErrorCode::MalformedPolicyDocument),
        400
    );
    assert_eq!(ec2("InvalidAssociationID.NotFound"), 400);
    assert_eq!(ec2("IncorrectState"), 400);
    assert_eq!(ec2("UnauthorizedOperation"), 403);
    assert_eq!(ec2("AuthFailure"), 401);
    assert_eq!(ec2("InternalError"), 500);
    assert_eq!(ec2("RequestLimitExceeded"), 503);
    // EC2 has no NoSuchEntity: a client error there.
    assert_eq!(ec2("NoSuchEntity"), 400);
}

#[test]
fn a_body_that_is_not_an_aws_error_is_named_by_its_status() {
    let op = &rolecall_cloud::operations::GET_ROLE;
    let error = decode_response(op, 503, b"<html>Service Unavailable</html>").unwrap_err();
    assert_eq!(error.code, ErrorCode::Other("503".into()));
    assert!(error.retryable);
    let error = decode_response(op, 403, b"not xml <").unwrap_err();
    assert_eq!(error.code, ErrorCode::Other("403".into()));
    assert!(!error.retryable);
    let error = decode_response(op, 200, b"<GetRoleResponse><GetRoleResult>").unwrap_err();
    assert_eq!(error.code, ErrorCode::Other("MalformedResponse".into()));
    let error = decode_response(op, 200, b"<a><b></a></b>").unwrap_err();
    assert_eq!(error.code, ErrorCode::Other("MalformedResponse".into()));
    let deep = "<a>".repeat(10_000);
    let error = decode_response(op, 200, deep.as_bytes()).unwrap_err();
    assert_eq!(error.code, ErrorCode::Other("MalformedResponse".into()));
    let bad_number = "<GetRoleResponse><GetRoleResult><Role><MaxSessionDuration>x</MaxSessionDuration>\
                      </Role></GetRoleResult></GetRoleResponse>";
    let error = decode_response(op, 200, bad_number.as_bytes()).unwrap_err();
    assert_eq!(error.code, ErrorCode::Other("MalformedResponse".into()));
}
