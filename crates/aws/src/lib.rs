//! An AWS API endpoint as a [`Cloud`]: every operation of the table is
//! encoded by the wire codec (`rolecall_wire`), signed with SigV4
//! (`aws-sigv4`) and sent over HTTP; the answer is decoded back into the
//! operation's output or AWS's error.
//!
//! Today it reaches endpoints on plain HTTP with the keys it is given:
//! `rolecall serve` and moto on loopback, which is what the differential
//! tests and the endpoint benchmark need. The real-AWS backend (`--cloud
//! aws`) grows from here: TLS, the standard credential chain
//! (`aws-config`), per-service endpoints, retries and rate limits.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde::de::DeserializeOwned;

use rolecall_cloud::{Call, Cloud, CloudError, ErrorCode, Service};
use rolecall_model::Live;

/// The media type of every query-protocol request body.
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// Each phase of a call (connecting, sending, awaiting and reading the
/// answer) that takes longer than this fails the call.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Keys to sign with: long-term, or temporary with their session token.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// Never shows the secret or the token.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// One endpoint serving IAM, EC2 and STS (as `rolecall serve` and moto do).
pub struct AwsClient {
    agent: ureq::Agent,
    endpoint: String,
    region: String,
    credentials: Credentials,
}

impl AwsClient {
    /// A client of `endpoint` (e.g. `http://127.0.0.1:4599`), signing for
    /// `region` with `credentials`. Connections are kept alive between calls.
    pub fn new(endpoint: &str, region: &str, credentials: Credentials) -> AwsClient {
        let agent = ureq::Agent::config_builder()
            // AWS's errors are answers to decode, not transport failures.
            .http_status_as_error(false)
            // Per phase, not `timeout_global`: with any timeout covering
            // name resolution, ureq resolves on a new thread every call,
            // even an IP literal on a kept-alive connection (a thread spawn
            // per call, measured in benches/endpoint.rs). Resolution has
            // the system resolver's own timeouts.
            .timeout_connect(Some(TIMEOUT))
            .timeout_send_request(Some(TIMEOUT))
            .timeout_send_body(Some(TIMEOUT))
            .timeout_recv_response(Some(TIMEOUT))
            .timeout_recv_body(Some(TIMEOUT))
            .build()
            .into();
        AwsClient {
            agent,
            endpoint: endpoint.trim_end_matches('/').to_string(),
            region: region.to_string(),
            credentials,
        }
    }

    /// Makes one call; the output comes back as AWS-shaped JSON, as
    /// [`Call::invoke`] gives it.
    pub fn call(&self, call: &Call) -> Result<serde_json::Value, CloudError> {
        let operation = call.descriptor();
        let body = rolecall_wire::encode_request(call);
        let (status, answer) = self
            .send(operation.service, &body)
            .map_err(|message| transport_error(operation.name, message))?;
        rolecall_wire::decode_response(operation, status, &answer)
    }

    /// Makes one call and reads its output as `T`.
    fn call_as<T: DeserializeOwned>(&self, call: &Call) -> Result<T, CloudError> {
        let output = self.call(call)?;
        serde_json::from_value(output).map_err(|error| {
            CloudError::new(
                call.operation(),
                ErrorCode::Other("MalformedResponse".into()),
                format!("the response does not have the operation's shape: {error}"),
            )
        })
    }

    /// Signs and posts `body` for `service`: the answer's status and body.
    fn send(&self, service: Service, body: &str) -> Result<(u16, Vec<u8>), String> {
        let url = format!("{}/", self.endpoint);
        let identity = aws_credential_types::Credentials::new(
            &self.credentials.access_key_id,
            &self.credentials.secret_access_key,
            self.credentials.session_token.clone(),
            None,
            "rolecall",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(service.signing_name())
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|error| format!("signing: {error}"))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            &url,
            [("content-type", FORM)].into_iter(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|error| format!("signing: {error}"))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|error| format!("signing: {error}"))?
            .into_parts();
        let mut request = self.agent.post(&url).header("content-type", FORM);
        for (name, value) in instructions.headers() {
            request = request.header(name, value);
        }
        let mut response = request
            .send(body)
            .map_err(|error| format!("{url}: {error}"))?;
        let status = response.status().as_u16();
        let answer = response
            .body_mut()
            .read_to_vec()
            .map_err(|error| format!("{url}: reading the answer: {error}"))?;
        Ok((status, answer))
    }
}

/// The error of a call that got no answer: the endpoint may be back later.
fn transport_error(operation: &str, message: String) -> CloudError {
    CloudError::new(operation, ErrorCode::ServiceUnavailable, message)
}

/// The trait's methods, from the operation table: each builds its [`Call`]
/// and sends it. Lab operations are not AWS's: this account has no lab.
macro_rules! client_methods {
    ([] $(
        $op:ident {
            method: $method:ident, constant: $constant:ident,
            input: $input:ty, output: $output:ty,
            service: $service:ident, access: $access:ident, lab: $lab:tt,
            about: $about:literal, example: $example:literal $(,)?
        }
    )*) => {
        impl Cloud for AwsClient {
            fn snapshot(&self) -> Result<Live, CloudError> {
                rolecall_cloud::snapshot::from_reads(self)
            }

            $( client_method!($lab, $op, $method, $input, $output); )*
        }
    };
}

macro_rules! client_method {
    (false, $op:ident, $method:ident, $input:ty, $output:ty) => {
        fn $method(&self, input: &$input) -> Result<$output, CloudError> {
            self.call_as(&Call::$op(input.clone()))
        }
    };
    (true, $($rest:tt)*) => {};
}

rolecall_cloud::with_operations!(client_methods);
