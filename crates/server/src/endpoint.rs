//! One request in, one AWS answer out: who is calling (SigV4 against the
//! account's keys), which operation with which parameters (the wire codec),
//! the call on the emulator, and the response or error in the envelope of
//! the service asked. Every refusal uses AWS's code, message and HTTP
//! status, and nothing changes before the caller is known.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use hyper::http::request::Parts;
use serde::Serialize;

use rolecall_cloud::{Access, Call, CloudError, ErrorCode, Operation, Service};
use rolecall_emulator::{Actor, Credential, Emulator, EmulatorError, Principal, TrailEntry};

use super::authorize::{RequestFacts, authorize};
use super::pool::HandlePool;
use super::sigv4::{self, MAX_SKEW_SECONDS, Refusal, SignedRequest};
use super::trail_writer::TrailWriter;

/// The largest request body taken. IAM's largest parameter (an inline
/// policy) is 10 KiB; a megabyte leaves room for anything a client sends.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The region the endpoint says it is in. Requests may be signed for any
/// region: with a custom endpoint the SDKs sign IAM for their own region.
pub const REGION: &str = "us-east-1";

/// Handles kept for reuse: more requests at once than this open and close
/// their own connection.
const POOLED_HANDLES: usize = 16;

/// An HTTP answer: status, XML body, and the request id it carries.
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub request_id: String,
}

impl Reply {
    /// The answer when answering itself failed (a panic in a worker).
    pub fn internal_error() -> Reply {
        let request_id = new_request_id();
        let error = CloudError::new(
            "",
            ErrorCode::ServiceFailure,
            "The request processing has failed because of an unknown error, exception or failure.",
        );
        error_reply(Service::Iam, &error, request_id)
    }
}

fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A refusal before any operation ran: the code and message, in the
/// envelope of `service`.
struct Refused {
    service: Service,
    code: ErrorCode,
    message: String,
}

fn refused(service: Service, code: ErrorCode, message: impl Into<String>) -> Refused {
    Refused {
        service,
        code,
        message: message.into(),
    }
}

fn error_reply(service: Service, error: &CloudError, request_id: String) -> Reply {
    let (status, body) = rolecall_wire::encode_error(service, error, &request_id);
    Reply {
        status,
        body,
        request_id,
    }
}

/// The account, and the handles its requests run on.
pub struct Endpoint {
    account_id: String,
    handles: HandlePool,
    /// Held by a call that writes, and by the trail's writer: this
    /// server's writers queue here, in order, instead of in SQLite's busy
    /// handler, which polls with sleeps of up to 100 ms. Reads never take
    /// it (WAL lets them run beside a writer); writers of other processes
    /// still meet SQLite's lock.
    writes: Arc<Mutex<()>>,
    /// Records reads and denied calls, off the request path.
    trail: TrailWriter,
}

impl Endpoint {
    pub fn new(account: PathBuf, first: Emulator) -> Result<Endpoint, EmulatorError> {
        let writes = Arc::new(Mutex::new(()));
        Ok(Endpoint {
            trail: TrailWriter::start(&account, Arc::clone(&writes))?,
            account_id: first.account_id().to_string(),
            handles: HandlePool::new(account, vec![first], POOLED_HANDLES),
            writes,
        })
    }

    /// Writes the events still queued for the trail; for a server stopping.
    pub fn close_trail(&self) {
        self.trail.close();
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// Runs `f` on an idle handle, opening one if none is idle.
    fn with_emulator<T>(&self, f: impl FnOnce(&Emulator) -> T) -> Result<T, EmulatorError> {
        self.handles.with(f)
    }

    /// The answer to a request whose body is over [`MAX_BODY_BYTES`].
    pub fn too_large(&self, parts: &Parts) -> Reply {
        let service = scope_service(parts).unwrap_or(Service::Iam);
        let error = CloudError::new(
            "",
            ErrorCode::RequestEntityTooLarge,
            format!("Request body larger than {MAX_BODY_BYTES} bytes"),
        );
        let mut reply = error_reply(service, &error, new_request_id());
        reply.status = 413;
        reply
    }

    /// The answer to a request whose body could not be read.
    pub fn unreadable(&self, parts: &Parts) -> Reply {
        let service = scope_service(parts).unwrap_or(Service::Iam);
        let error = CloudError::new(
            "",
            ErrorCode::MalformedQueryString,
            "The request body could not be read.",
        );
        error_reply(service, &error, new_request_id())
    }

    /// The answer to a request whose body did not arrive in time.
    pub fn timed_out(&self, parts: &Parts) -> Reply {
        let service = scope_service(parts).unwrap_or(Service::Iam);
        let error = CloudError::new(
            "",
            ErrorCode::RequestTimeout,
            "Your socket connection to the server was not read from or written to within the timeout period.",
        );
        let mut reply = error_reply(service, &error, new_request_id());
        reply.status = 408;
        reply
    }

    /// Answers one request whose body has been read, from `peer`.
    pub fn respond(&self, parts: &Parts, body: &[u8], peer: SocketAddr) -> Reply {
        let request_id = new_request_id();
        let started = std::time::Instant::now();
        let outcome =
            self.with_emulator(|emulator| self.serve(emulator, parts, body, peer, &request_id));
        let (reply, action, caller) = match outcome {
            Ok(Served::Done {
                operation,
                caller,
                result,
            }) => {
                let reply = match result {
                    Ok(output) => Reply {
                        status: 200,
                        body: rolecall_wire::encode_response(operation, &output, &request_id),
                        request_id,
                    },
                    Err(error) => error_reply(operation.service, &error, request_id),
                };
                (reply, operation.name, caller.arn())
            }
            Ok(Served::Refused(refusal)) => {
                let error = CloudError::new("", refusal.code, refusal.message);
                (
                    error_reply(refusal.service, &error, request_id),
                    "-",
                    "-".to_string(),
                )
            }
            Err(error) => {
                let error = CloudError::new(
                    "",
                    ErrorCode::ServiceFailure,
                    format!("the emulated account cannot be opened: {error}"),
                );
                (
                    error_reply(Service::Iam, &error, request_id),
                    "-",
                    "-".to_string(),
                )
            }
        };
        // Never a header, a parameter or a key: only what was done, by whom.
        tracing::info!(
            target: "rolecall::serve",
            "{} {} {} by {} in {:?} ({})",
            parts.method,
            action,
            reply.status,
            caller,
            started.elapsed(),
            reply.request_id
        );
        reply
    }

    fn serve(
        &self,
        emulator: &Emulator,
        parts: &Parts,
        body: &[u8],
        peer: SocketAddr,
        request_id: &str,
    ) -> Served {
        let query = parts.uri.query().unwrap_or("");
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let request = SignedRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query,
            headers: &headers,
            body,
            amz_date: header(&headers, "x-amz-date").unwrap_or(""),
        };
        let signer = match authenticate(emulator, &request) {
            Ok(found) => found,
            Err(refusal) => return Served::Refused(refusal),
        };
        let (operation, call) = match decode(signer.service, query, body) {
            Ok(found) => found,
            Err(refusal) => return Served::Refused(refusal),
        };
        let caller = signer.credential.principal.clone();
        let source_ip = peer.ip().to_string();
        let user_agent = header(&headers, "user-agent").unwrap_or("").to_string();
        let actor = Actor {
            request_id: Some(request_id.to_string()),
            principal: caller.clone(),
            access_key_id: Some(signer.access_key_id.clone()),
            source_ip: source_ip.clone(),
            user_agent: user_agent.clone(),
            region: signer.region.clone(),
            session_issued_ms: signer
                .credential
                .session_token
                .is_some()
                .then_some(signer.credential.issued_at_ms),
            instance_id: signer.credential.instance_id.clone(),
        };
        let facts = RequestFacts {
            source_ip: &source_ip,
            region: &signer.region,
            user_agent: &user_agent,
        };
        let writes = call.descriptor().access == Access::Write;
        // A call that may write is decided under the writers' lock: what it
        // was allowed on (the role a profile holds, for iam:PassRole) cannot
        // change between the decision and the call.
        let writing = writes.then(|| self.writes.lock().unwrap_or_else(PoisonError::into_inner));
        let (result, ran) = match authorize(emulator, &signer.credential, operation, &call, &facts)
        {
            Ok(()) => {
                emulator.set_actor(actor.clone());
                (invoke(emulator, &caller, &call), true)
            }
            // Denied: nothing runs, nothing changes.
            Err(denied) => (Err(denied), false),
        };
        drop(writing);
        // A call that may write and ran has recorded itself, with its
        // change; the others go to the trail's writer.
        if !(writes && ran) {
            self.trail.record(entry(actor, operation, &call, &result));
        }
        Served::Done {
            operation,
            caller,
            result,
        }
    }
}

enum Served {
    Done {
        operation: &'static Operation,
        caller: Principal,
        result: Result<serde_json::Value, CloudError>,
    },
    Refused(Refused),
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn service_named(name: &str) -> Option<Service> {
    match name {
        "iam" => Some(Service::Iam),
        "ec2" => Some(Service::Ec2),
        "sts" => Some(Service::Sts),
        _ => None,
    }
}

/// The service a request's credential scope names, if it names one served.
fn scope_service(parts: &Parts) -> Option<Service> {
    let authorization = parts
        .headers
        .get(hyper::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    service_named(&sigv4::parse_authorization(authorization).ok()?.service)
}

/// The service a request without a usable scope is answered as: the one
/// whose API version its `Version` parameter names, else IAM.
fn service_of_version(query: &str, body: &[u8]) -> Service {
    let params = [query.as_bytes(), body]
        .into_iter()
        .filter_map(|part| rolecall_wire::parse_form(part).ok())
        .flatten();
    for (name, value) in params {
        if name == "Version" {
            for service in [Service::Iam, Service::Ec2, Service::Sts] {
                if service.api_version() == value {
                    return service;
                }
            }
        }
    }
    Service::Iam
}

/// Who signed a request: the key and what it belongs to, and the
/// service and region of its credential scope.
struct Signer {
    service: Service,
    region: String,
    access_key_id: String,
    credential: Credential,
}

/// A call the emulator did not record itself (a read, or a call refused by
/// policy), for the trail's writer.
fn entry(
    actor: Actor,
    operation: &'static Operation,
    call: &Call,
    result: &Result<serde_json::Value, CloudError>,
) -> TrailEntry {
    let params = serde_json::to_value(call)
        .ok()
        .and_then(|mut json| json.get_mut("params").map(serde_json::Value::take))
        .unwrap_or(serde_json::Value::Null);
    TrailEntry {
        actor,
        operation,
        params,
        error: result
            .as_ref()
            .err()
            .map(|error| (error.code.as_str().to_string(), error.message.clone())),
        at_ms: jiff::Timestamp::now().as_millisecond(),
    }
}

/// Who signed the request, and for which service; AWS's refusal otherwise.
fn authenticate(emulator: &Emulator, request: &SignedRequest) -> Result<Signer, Refused> {
    let Some(header_value) = header(request.headers, "authorization") else {
        return Err(refused(
            service_of_version(request.query, request.body),
            ErrorCode::MissingAuthenticationToken,
            "Request is missing Authentication Token",
        ));
    };
    let fallback = service_of_version(request.query, request.body);
    let authorization = sigv4::parse_authorization(header_value)
        .map_err(|refusal| refusal_of(fallback, refusal))?;
    let Some(service) = service_named(&authorization.service) else {
        return Err(refused(
            fallback,
            ErrorCode::IncompleteSignature,
            format!(
                "Credential should be scoped to correct service: '{}' is not served here (iam, ec2, sts are).",
                authorization.service
            ),
        ));
    };

    let Some(signed_at) = sigv4::parse_amz_date(request.amz_date) else {
        return Err(refused(
            service,
            ErrorCode::IncompleteSignature,
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ));
    };
    if !request.amz_date.starts_with(&authorization.date) {
        return Err(refused(
            service,
            ErrorCode::SignatureDoesNotMatch,
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
                authorization.date,
                request.amz_date.get(..8).unwrap_or(""),
                request.amz_date
            ),
        ));
    }
    let now = jiff::Timestamp::now().as_second();
    if (signed_at - now).abs() > MAX_SKEW_SECONDS {
        return Err(skewed(service, request.amz_date, signed_at, now));
    }

    let credential = emulator
        .credential(&authorization.access_key_id)
        .map_err(|error| {
            refused(
                service,
                service.failure_code(),
                format!("the emulated account cannot be read: {error}"),
            )
        })?;
    let Some(credential) = credential else {
        return Err(unknown_key(service));
    };
    sigv4::verify(request, &authorization, &credential.secret_access_key)
        .map_err(|refusal| refusal_of(service, refusal))?;
    check_session(service, request, &credential)?;
    Ok(Signer {
        service,
        region: authorization.region.clone(),
        access_key_id: authorization.access_key_id.clone(),
        credential,
    })
}

/// A role session's key works only with its token, and only until it expires.
fn check_session(
    service: Service,
    request: &SignedRequest,
    credential: &Credential,
) -> Result<(), Refused> {
    let Some(token) = &credential.session_token else {
        return Ok(());
    };
    if header(request.headers, "x-amz-security-token") != Some(token.as_str()) {
        return Err(unknown_key(service));
    }
    let now_ms = jiff::Timestamp::now().as_millisecond();
    if credential
        .expires_at_ms
        .is_some_and(|expires| expires <= now_ms)
    {
        return Err(match service {
            Service::Ec2 => refused(service, ErrorCode::RequestExpired, "Request has expired."),
            Service::Iam | Service::Sts => refused(
                service,
                ErrorCode::ExpiredToken,
                "The security token included in the request is expired",
            ),
        });
    }
    Ok(())
}

fn unknown_key(service: Service) -> Refused {
    match service {
        Service::Ec2 => refused(
            service,
            ErrorCode::AuthFailure,
            "AWS was not able to validate the provided access credentials",
        ),
        Service::Iam | Service::Sts => refused(
            service,
            ErrorCode::InvalidClientTokenId,
            "The security token included in the request is invalid.",
        ),
    }
}

/// A request signed too long before or after now, as each service says it.
fn skewed(service: Service, amz_date: &str, signed_at: i64, now: i64) -> Refused {
    if service == Service::Ec2 {
        return refused(service, ErrorCode::RequestExpired, "Request has expired.");
    }
    let now_text = sigv4::format_amz_date(now);
    let message = if signed_at < now {
        format!(
            "Signature expired: {amz_date} is now earlier than {} ({now_text} - 15 min.)",
            sigv4::format_amz_date(now - MAX_SKEW_SECONDS)
        )
    } else {
        format!(
            "Signature not yet current: {amz_date} is still later than {} ({now_text} + 15 min.)",
            sigv4::format_amz_date(now + MAX_SKEW_SECONDS)
        )
    };
    refused(service, ErrorCode::SignatureDoesNotMatch, message)
}

fn refusal_of(service: Service, refusal: Refusal) -> Refused {
    match refusal {
        Refusal::Incomplete(message) => refused(service, ErrorCode::IncompleteSignature, message),
        Refusal::Mismatch => refused(
            service,
            ErrorCode::SignatureDoesNotMatch,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ),
    }
}

/// The operation and its call, from the query string and the form body.
fn decode(
    service: Service,
    query: &str,
    body: &[u8],
) -> Result<(&'static Operation, Call), Refused> {
    let malformed = |error: rolecall_wire::WireError| {
        refused(service, ErrorCode::MalformedQueryString, error.to_string())
    };
    let mut params = rolecall_wire::parse_form(query.as_bytes()).map_err(malformed)?;
    params.extend(rolecall_wire::parse_form(body).map_err(malformed)?);
    let Some(action) = params
        .iter()
        .find(|(name, _)| name == "Action")
        .map(|(_, value)| value.clone())
    else {
        return Err(refused(
            service,
            ErrorCode::MissingAction,
            "The request is missing an action or a required parameter.",
        ));
    };
    let operation = Operation::named(&action)
        .filter(|operation| operation.service == service)
        .ok_or_else(|| {
            refused(
                service,
                ErrorCode::InvalidAction,
                format!(
                    "Could not find operation {action} for version {}",
                    service.api_version()
                ),
            )
        })?;
    let call = rolecall_wire::decode_request(operation, &params).map_err(|error| Refused {
        service,
        code: error.code,
        message: error.message,
    })?;
    Ok((operation, call))
}

/// Makes the call as `caller`: STS's answers depend on who asks; every
/// other operation is the account's, whoever asks (until calls are
/// authorized by policy).
fn invoke(
    emulator: &Emulator,
    caller: &Principal,
    call: &Call,
) -> Result<serde_json::Value, CloudError> {
    match call {
        Call::AssumeRole(input) => emulator.assume_role_as(caller, input).map(to_json),
        Call::GetCallerIdentity(input) => {
            emulator.get_caller_identity_as(caller, input).map(to_json)
        }
        other => other.invoke(emulator),
    }
}

fn to_json<T: Serialize>(output: T) -> serde_json::Value {
    // Our own plain structs always serialise.
    serde_json::to_value(output).unwrap_or(serde_json::Value::Null)
}
