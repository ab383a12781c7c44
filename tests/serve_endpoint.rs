//! `rolecall serve` through rolecall's own client (the wire codec's client
//! side, signed by aws-sigv4): authentication, STS sessions, and answers
//! equal to the emulator's in process. The AWS CLI and boto3 are driven by
//! `serve_clients.rs`.

mod support;

use rolecall::aws::{AwsClient, Credentials};
use rolecall::cloud::iam::{
    CreateRoleRequest, GetRoleRequest, PutRolePolicyRequest, Tag, TagRoleRequest,
};
use rolecall::cloud::sts::{AssumeRoleRequest, GetCallerIdentityRequest};
use rolecall::cloud::{Cloud, ErrorCode};
use support::served::Served;

const TRUST_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;

fn create_role(cloud: &dyn Cloud, name: &str) {
    cloud
        .create_role(&CreateRoleRequest {
            role_name: name.into(),
            assume_role_policy_document: TRUST_ACCOUNT.into(),
            ..Default::default()
        })
        .unwrap();
}

#[test]
fn calls_through_the_endpoint_answer_as_the_emulator_does_in_process() {
    let served = Served::start();
    let client = served.client();
    create_role(&client, "web");
    client
        .tag_role(&TagRoleRequest {
            role_name: "web".into(),
            tags: vec![Tag::new("team", "web + ops: équipe/1")],
        })
        .unwrap();
    let through = client
        .get_role(&GetRoleRequest {
            role_name: "web".into(),
        })
        .unwrap();
    let in_process = served
        .emulator()
        .get_role(&GetRoleRequest {
            role_name: "web".into(),
        })
        .unwrap();
    assert_eq!(through, in_process);

    let missing = client
        .get_role(&GetRoleRequest {
            role_name: "nope".into(),
        })
        .unwrap_err();
    let missing_here = served
        .emulator()
        .get_role(&GetRoleRequest {
            role_name: "nope".into(),
        })
        .unwrap_err();
    assert_eq!(missing, missing_here);

    let identity = client
        .get_caller_identity(&GetCallerIdentityRequest {})
        .unwrap();
    assert_eq!(identity.arn, "arn:aws:iam::123456789012:root");
}

#[test]
fn a_key_the_account_does_not_hold_or_a_wrong_secret_changes_nothing() {
    let served = Served::start();
    let good = served.credentials();
    let unknown = AwsClient::new(
        &served.endpoint(),
        "us-east-1",
        Credentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            ..good.clone()
        },
    );
    let wrong_secret = AwsClient::new(
        &served.endpoint(),
        "us-east-1",
        Credentials {
            secret_access_key: "x".repeat(40),
            ..good.clone()
        },
    );
    let before = served.emulator().export_yaml().unwrap();
    let request = CreateRoleRequest {
        role_name: "intruder".into(),
        assume_role_policy_document: TRUST_ACCOUNT.into(),
        ..Default::default()
    };
    let error = unknown.create_role(&request).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidClientTokenId);
    assert_eq!(
        error.message,
        "The security token included in the request is invalid."
    );
    let error = wrong_secret.create_role(&request).unwrap_err();
    assert_eq!(error.code, ErrorCode::SignatureDoesNotMatch);
    let ec2 = unknown.describe_instances(&Default::default()).unwrap_err();
    assert_eq!(ec2.code, ErrorCode::AuthFailure);
    assert_eq!(served.emulator().export_yaml().unwrap(), before);
}

#[test]
fn a_rotated_key_stops_working_at_once() {
    let served = Served::start();
    let old = served.client();
    old.get_caller_identity(&GetCallerIdentityRequest {})
        .unwrap();
    served.emulator().rotate_admin_key().unwrap();
    let error = old
        .get_caller_identity(&GetCallerIdentityRequest {})
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidClientTokenId);
    served
        .client()
        .get_caller_identity(&GetCallerIdentityRequest {})
        .unwrap();
}

/// AssumeRole through the endpoint gives a session whose keys work on the
/// endpoint, and only with their token.
#[test]
fn assumed_role_sessions_sign_requests_as_the_role() {
    let served = Served::start();
    let admin = served.client();
    create_role(&admin, "deployer");
    let session = admin
        .assume_role(&AssumeRoleRequest {
            role_arn: "arn:aws:iam::123456789012:role/deployer".into(),
            role_session_name: "ci".into(),
            duration_seconds: None,
            external_id: None,
        })
        .unwrap();
    let keys = Credentials {
        access_key_id: session.credentials.access_key_id.clone(),
        secret_access_key: session.credentials.secret_access_key.clone(),
        session_token: Some(session.credentials.session_token.clone()),
    };
    let as_role = AwsClient::new(&served.endpoint(), "eu-west-1", keys.clone());
    let identity = as_role
        .get_caller_identity(&GetCallerIdentityRequest {})
        .unwrap();
    assert_eq!(
        identity.arn,
        "arn:aws:sts::123456789012:assumed-role/deployer/ci"
    );
    assert_eq!(identity.user_id, session.assumed_role_user.assumed_role_id);

    // Role chaining: a role that trusts the account lets in a session whose
    // own policies allow sts:AssumeRole on it (same account: both sides).
    let denied = as_role
        .assume_role(&AssumeRoleRequest {
            role_arn: "arn:aws:iam::123456789012:role/deployer".into(),
            role_session_name: "chained".into(),
            duration_seconds: None,
            external_id: None,
        })
        .unwrap_err();
    assert_eq!(denied.code, ErrorCode::AccessDenied);
    assert_eq!(
        denied.message,
        "User: arn:aws:sts::123456789012:assumed-role/deployer/ci is not authorized to perform: \
         sts:AssumeRole on resource: arn:aws:iam::123456789012:role/deployer because no \
         identity-based policy allows the sts:AssumeRole action"
    );
    admin
        .put_role_policy(&PutRolePolicyRequest {
            role_name: "deployer".into(),
            policy_name: "chain".into(),
            policy_document: r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}"#.into(),
        })
        .unwrap();
    let chained = as_role
        .assume_role(&AssumeRoleRequest {
            role_arn: "arn:aws:iam::123456789012:role/deployer".into(),
            role_session_name: "chained".into(),
            duration_seconds: Some(7200),
            external_id: None,
        })
        .unwrap_err();
    assert_eq!(chained.code, ErrorCode::ValidationError);

    let without_token = AwsClient::new(
        &served.endpoint(),
        "us-east-1",
        Credentials {
            session_token: None,
            ..keys
        },
    );
    let error = without_token
        .get_caller_identity(&GetCallerIdentityRequest {})
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidClientTokenId);
}

/// Reads through the endpoint do not wait for a writer: with another
/// process's write transaction open on the account (as a running `rolecall
/// apply` holds one per call), GetRole and DescribeInstances still answer,
/// and see the state before that transaction.
#[test]
fn reads_answer_while_another_writer_holds_the_account() {
    let served = Served::start();
    let client = served.client();
    create_role(&client, "web");
    let writer = rusqlite::Connection::open(served.account()).unwrap();
    writer
        .execute_batch("BEGIN IMMEDIATE; DELETE FROM role_tags;")
        .unwrap();
    let role = client
        .get_role(&GetRoleRequest {
            role_name: "web".into(),
        })
        .unwrap();
    assert_eq!(role.role.role_name, "web");
    client.describe_instances(&Default::default()).unwrap();
    writer.execute_batch("ROLLBACK").unwrap();
}

/// The sample stack applied by `rolecall apply` (another process, on the
/// account the server serves) reads back through the endpoint, with the
/// read operations alone (`snapshot::from_reads`, in small pages), exactly
/// as the emulator reads it in one transaction: every List, Get and
/// Describe crosses the wire and back intact.
#[test]
fn the_account_read_through_the_endpoint_is_the_account() {
    let served = Served::start();
    let root = env!("CARGO_MANIFEST_DIR");
    let apply = std::process::Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .current_dir(root)
        .args(["apply", "--auto-approve", "-q", "--account"])
        .arg(served.account())
        .output()
        .unwrap();
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    let through = rolecall::cloud::snapshot::from_reads_paged(&served.client(), 2).unwrap();
    let in_process = served.emulator().snapshot().unwrap();
    assert!(!in_process.roles.is_empty());
    assert_eq!(through, in_process);
}

/// Session keys work until they expire, then get STS's ExpiredToken (EC2:
/// RequestExpired). The expiry is moved into the past in the account file
/// rather than waited for (sessions last 900 s at least).
#[test]
fn expired_session_keys_are_refused() {
    let served = Served::start();
    let admin = served.client();
    create_role(&admin, "deployer");
    let session = admin
        .assume_role(&AssumeRoleRequest {
            role_arn: "arn:aws:iam::123456789012:role/deployer".into(),
            role_session_name: "ci".into(),
            duration_seconds: Some(900),
            external_id: None,
        })
        .unwrap();
    let as_role = AwsClient::new(
        &served.endpoint(),
        "us-east-1",
        Credentials {
            access_key_id: session.credentials.access_key_id.clone(),
            secret_access_key: session.credentials.secret_access_key.clone(),
            session_token: Some(session.credentials.session_token.clone()),
        },
    );
    as_role
        .get_caller_identity(&GetCallerIdentityRequest {})
        .unwrap();
    let db = rusqlite::Connection::open(served.account()).unwrap();
    let expired = db
        .execute(
            "UPDATE access_keys SET expires_at_ms = 1 WHERE access_key_id = ?1",
            [&session.credentials.access_key_id],
        )
        .unwrap();
    assert_eq!(expired, 1);
    let error = as_role
        .get_caller_identity(&GetCallerIdentityRequest {})
        .unwrap_err();
    assert_eq!(error.code, ErrorCode::ExpiredToken);
    assert_eq!(
        error.message,
        "The security token included in the request is expired"
    );
    let error = as_role.describe_instances(&Default::default()).unwrap_err();
    assert_eq!(error.code, ErrorCode::RequestExpired);
}

/// `rolecall serve --listen` on an address other machines reach says so
/// loudly on stderr (even with -q), prints the export lines on stdout, and
/// stops cleanly on SIGTERM.
#[test]
fn serving_beyond_loopback_is_announced() {
    use std::io::{BufRead, BufReader, Read};
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rolecall"))
        .current_dir(dir.path())
        .args(["-q", "serve", "--listen", "0.0.0.0:0"])
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(
        first.starts_with("export AWS_ENDPOINT_URL=http://0.0.0.0:"),
        "{first}"
    );
    // SAFETY: a plain kill(2) of the child this test started.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status}: {stderr}");
    assert!(
        stderr.starts_with("warning: SERVING BEYOND THIS MACHINE on 0.0.0.0:"),
        "{stderr}"
    );
    assert!(dir.path().join(".rolecall/account.db").exists());
}
