//! An AWS API endpoint as a [`Cloud`]: every operation of the table is
//! encoded by the wire codec (`rolecall_wire`), signed with SigV4
//! (`aws-sigv4`) and sent over HTTP; the answer is decoded back into the
//! operation's output or AWS's error.
//!
//! [`AwsClient::from_environment`] reaches the account the AWS CLI would,
//! over HTTPS (`--cloud aws`); [`AwsClient::new`] one endpoint with given
//! keys (`rolecall serve` and moto on loopback, for tests and benchmarks).

mod credentials;
pub mod endpoints;
mod environment;
mod pace;
mod s3_lock;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use serde::de::DeserializeOwned;

use rolecall_cloud::{Access, Call, Cloud, CloudError, ErrorCode, Service};
use rolecall_model::Live;

pub use credentials::Credentials;
use credentials::KeySource;
use endpoints::Endpoints;
pub use environment::AwsSettings;
use pace::Pace;
pub use s3_lock::{LockError, S3Lock};

/// The media type of every query-protocol request body.
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// Each phase of a call (connecting, sending, awaiting and reading the
/// answer) that takes longer than this fails the call.
const TIMEOUT: Duration = Duration::from_secs(60);
/// Calls in flight at once by default when a batch allows it (Terraform's
/// default `-parallelism`).
pub const DEFAULT_PARALLELISM: usize = 10;

/// The User-Agent of every request: `rolecall/VERSION`, as
/// `rolecall_cloud::trail::ROLECALL_USER_AGENT_PREFIX` recognises it.
const USER_AGENT: &str = concat!("rolecall/", env!("CARGO_PKG_VERSION"));
/// Attempts of a call that AWS throttled (the SDKs' standard mode makes 3;
/// apply retries further within its own retry timeout).
const THROTTLED_ATTEMPTS: u32 = 4;
/// First wait after a throttled attempt; doubles, with jitter.
const THROTTLE_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two throttled attempts.
const THROTTLE_BACKOFF_CAP: Duration = Duration::from_secs(5);
/// The largest answer read (a page of GetAccountAuthorizationDetails holds
/// up to 1000 roles with every policy document).
const MAX_ANSWER_BYTES: u64 = 256 << 20;

/// Why the account the AWS CLI would reach cannot be reached.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error(
        "no AWS region is configured{}: set AWS_REGION, or `region` in ~/.aws/config",
        in_profile(profile)
    )]
    NoRegion { profile: Option<String> },
    #[error("no AWS credentials{}: {reason}", in_profile(profile))]
    NoCredentials {
        profile: Option<String>,
        reason: String,
    },
    #[error("starting the AWS client")]
    Runtime(#[source] std::io::Error),
}

fn in_profile(profile: &Option<String>) -> String {
    match profile {
        Some(profile) => format!(" for profile {profile:?}"),
        None => String::new(),
    }
}

/// A client of IAM, EC2 and STS, each at its endpoint. Clones share their
/// connections and keys.
#[derive(Clone)]
pub struct AwsClient {
    agent: ureq::Agent,
    endpoints: Endpoints,
    region: String,
    keys: Arc<KeySource>,
    /// Most calls of one batch in flight at once.
    parallelism: usize,
    /// When calls may leave, one pace per service (IAM, EC2, STS), as AWS
    /// throttles each on its own: shared by every clone, as AWS's limits
    /// are per account.
    pace: Arc<[Pace; 3]>,
}

impl AwsClient {
    /// A client of one `endpoint` serving every service (e.g.
    /// `http://127.0.0.1:4599`), signing for `region` with `credentials`.
    pub fn new(endpoint: &str, region: &str, credentials: Credentials) -> AwsClient {
        AwsClient::with(
            Endpoints::single(endpoint, region),
            region.to_string(),
            KeySource::Fixed(credentials),
        )
    }

    /// Connections are kept alive between calls.
    fn with(endpoints: Endpoints, region: String, keys: KeySource) -> AwsClient {
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
            // The system's trust store, as the AWS CLI uses: a company's
            // TLS-inspecting proxy is trusted where the CLI works.
            // AWS's logs (CloudTrail's userAgent) and a lab's audit trail
            // tell rolecall's calls from other clients' by it.
            .user_agent(USER_AGENT)
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .build()
            .into();
        AwsClient {
            agent,
            endpoints,
            region,
            keys: Arc::new(keys),
            parallelism: DEFAULT_PARALLELISM,
            pace: Arc::new(std::array::from_fn(|_| Pace::new(None))),
        }
    }

    /// The same client, sending at most `calls_per_second` calls a second
    /// (`--max-rate`), fewer while AWS throttles. Clones made before do not
    /// share this limit.
    pub fn with_max_rate(mut self, calls_per_second: Option<f64>) -> AwsClient {
        self.pace = Arc::new(std::array::from_fn(|_| Pace::new(calls_per_second)));
        self
    }

    /// The same client, running at most `parallelism` calls of a batch at
    /// once (at least one).
    pub fn with_parallelism(mut self, parallelism: usize) -> AwsClient {
        self.parallelism = parallelism.max(1);
        self
    }

    /// The region the client is configured for (where EC2 calls go).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Each service's endpoint.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Makes one call when the pace allows; the output comes back as
    /// AWS-shaped JSON, as [`Call::invoke`] gives it. A call AWS throttled
    /// was not made, so it is made again, after an exponential backoff with
    /// jitter, and every call of the client slows down.
    pub fn call(&self, call: &Call) -> Result<serde_json::Value, CloudError> {
        let pace = &self.pace[match call.descriptor().service {
            Service::Iam => 0,
            Service::Ec2 => 1,
            Service::Sts => 2,
        }];
        let mut attempt = 1;
        loop {
            pace.wait();
            let outcome = self.call_once(call);
            if matches!(&outcome, Err(error) if is_throttling(error)) {
                pace.throttled(Instant::now());
            }
            match outcome {
                Err(error) if is_throttling(&error) && attempt < THROTTLED_ATTEMPTS => {
                    let wait = rolecall_cloud::backoff(
                        attempt - 1,
                        THROTTLE_BACKOFF,
                        THROTTLE_BACKOFF_CAP,
                    );
                    tracing::debug!(
                        "{} throttled (attempt {attempt}): retrying in {wait:?}",
                        call.operation()
                    );
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    fn call_once(&self, call: &Call) -> Result<serde_json::Value, CloudError> {
        let operation = call.descriptor();
        let body = rolecall_wire::encode_request(call);
        let keys = self.keys.current().map_err(|reason| {
            // Not AWS's answer and not worth retrying: the login is gone.
            let mut error = CloudError::new(
                operation.name,
                ErrorCode::Other("CredentialsUnavailable".into()),
                format!("AWS credentials: {reason}"),
            );
            error.retryable = false;
            error
        })?;
        let (status, answer) = self
            .send(operation.service, keys, &body)
            .map_err(|failure| {
                let mut error = transport_error(operation.name, failure.message);
                error.retryable = failure.transient;
                // A write that may have reached AWS is not sent again:
                // a second CreateRole would fail on the first's role.
                // The next apply plans from what is there.
                if failure.may_have_arrived && operation.access != Access::Read {
                    error.retryable = false;
                    error.message.push_str(
                        " (the call may or may not have been made; run apply again to converge)",
                    );
                }
                error
            })?;
        rolecall_wire::decode_response(operation, status, &answer)
    }

    /// Makes `calls`, at most `parallelism` at once; results in order.
    fn in_parallel(&self, calls: &[&Call]) -> Vec<Result<serde_json::Value, CloudError>> {
        let workers = self.parallelism.min(calls.len());
        if workers <= 1 {
            return calls.iter().map(|call| self.call(call)).collect();
        }
        let next = AtomicUsize::new(0);
        // Each result is kept as soon as its call returns; a call that
        // panicked is the only one unaccounted for.
        let results: Vec<Mutex<Option<Result<serde_json::Value, CloudError>>>> =
            calls.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(call) = calls.get(i) else { break };
                        // A panic must not take the batch (or the scope,
                        // which would panic in turn) with it.
                        let Ok(result) =
                            std::panic::catch_unwind(AssertUnwindSafe(|| self.call(call)))
                        else {
                            continue;
                        };
                        *results[i].lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
                    }
                });
            }
        });
        results
            .into_iter()
            .zip(calls)
            .map(|(result, call)| {
                result
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner)
                    .unwrap_or_else(|| {
                        let mut error = transport_error(
                            call.operation(),
                            "the call's thread failed; whether the call was made is unknown (run apply again to converge)".into(),
                        );
                        error.retryable = false;
                        Err(error)
                    })
            })
            .collect()
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
    fn send(
        &self,
        service: Service,
        keys: aws_credential_types::Credentials,
        body: &str,
    ) -> Result<(u16, Vec<u8>), SendFailure> {
        let endpoint = self.endpoints.of(service);
        let url = format!("{}/", endpoint.url);
        let headers = [("content-type", FORM)];
        let signature = sign_request(SignedRequest {
            method: "POST",
            url: &url,
            headers: &headers,
            body: body.as_bytes(),
            service: service.signing_name(),
            region: &endpoint.signing_region,
            keys,
            settings: SigningSettings::default(),
        })?;
        let mut request = self.agent.post(&url);
        for (name, value) in headers
            .iter()
            .copied()
            .chain(signature.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        {
            request = request.header(name, value);
        }
        let mut response = request.send(body).map_err(|error| SendFailure {
            may_have_arrived: !never_sent(&error),
            transient: true,
            message: format!("{url}: {error}"),
        })?;
        let status = response.status().as_u16();
        // A page of 1000 roles' details with their policies can pass
        // ureq's default 10 MiB.
        let answer = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_vec()
            .map_err(|error| SendFailure {
                may_have_arrived: true,
                transient: true,
                message: format!("{url}: reading the answer: {error}"),
            })?;
        Ok((status, answer))
    }
}

/// A request to sign with SigV4.
struct SignedRequest<'a> {
    method: &'a str,
    url: &'a str,
    /// Headers sent, signed too.
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
    /// The service's signing name (`iam`, `s3`).
    service: &'a str,
    region: &'a str,
    keys: aws_credential_types::Credentials,
    settings: SigningSettings,
}

/// The headers that sign `request` (`authorization`, `x-amz-date`, the
/// session token, and what `settings` add), to send beside its own.
fn sign_request(request: SignedRequest<'_>) -> Result<Vec<(String, String)>, SendFailure> {
    let identity = request.keys.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(request.region)
        .name(request.service)
        .time(SystemTime::now())
        .settings(request.settings)
        .build()
        .map_err(|error| SendFailure::signing(&error))?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.url,
        request.headers.iter().copied(),
        SignableBody::Bytes(request.body),
    )
    .map_err(|error| SendFailure::signing(&error))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|error| SendFailure::signing(&error))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect())
}

/// Why a request got no answer, whether it may have reached AWS, and
/// whether sending it again could help.
struct SendFailure {
    message: String,
    may_have_arrived: bool,
    transient: bool,
}

impl SendFailure {
    /// The request could not be signed: it was not sent, and would fail
    /// the same way again.
    fn signing(error: &dyn std::fmt::Display) -> SendFailure {
        SendFailure {
            message: format!("signing the request: {error}"),
            may_have_arrived: false,
            transient: false,
        }
    }
}

/// Failures that happen before a byte of the request is sent: the call
/// was certainly not made.
fn never_sent(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => true,
        ureq::Error::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect) => true,
        ureq::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
        ),
        _ => false,
    }
}

/// AWS's codes for a request refused for its rate (never carried out).
fn is_throttling(error: &CloudError) -> bool {
    matches!(
        error.code.as_str(),
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequestsException"
    )
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
            input: $input:ty, output: $output:ty, $(boxed: $boxed:tt,)?
            service: $service:ident, access: $access:ident, lab: $lab:tt,
            about: $about:literal, example: $example:literal $(,)?
        }
    )*) => {
        impl Cloud for AwsClient {
            fn snapshot(&self) -> Result<Live, CloudError> {
                rolecall_cloud::snapshot::from_reads(self)
            }

            /// Instances by filters: an account's other instances are
            /// never read.
            fn snapshot_within(
                &self,
                scope: &rolecall_cloud::snapshot::Scope,
            ) -> Result<Live, CloudError> {
                rolecall_cloud::snapshot::from_reads_within(self, scope)
            }

            /// The calls are independent: up to `parallelism` of them in
            /// flight at once, each on a thread of its own.
            fn invoke_batch(&self, calls: &[&Call]) -> Vec<Result<serde_json::Value, CloudError>> {
                self.in_parallel(calls)
            }

            $( client_method!($lab, $op, $method, $input, $output); )*
        }
    };
}

macro_rules! client_method {
    (false, $op:ident, $method:ident, $input:ty, $output:ty) => {
        fn $method(&self, input: &$input) -> Result<$output, CloudError> {
            // `into`: the call holds a large request boxed.
            self.call_as(&Call::$op(input.clone().into()))
        }
    };
    (true, $($rest:tt)*) => {};
}

rolecall_cloud::with_operations!(client_methods);
