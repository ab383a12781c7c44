//! IMDSv2, the instance metadata service, for every lab instance: under
//! `/imds/<instance-id>/` on the endpoint's port, so a program "on the
//! instance" finds it with `AWS_EC2_METADATA_SERVICE_ENDPOINT=
//! http://ADDR/imds/i-…/` and its SDK's own instance-profile provider gets
//! the instance role's credentials. A path prefix, not a port per
//! instance: it works on any OS and needs no address of its own, and the
//! SDKs keep a prefix (docs/aws-wire.md, "IMDSv2").
//!
//! As EC2 with `HttpTokens=required` (IMDSv1 off): `PUT /latest/api/token`
//! with `X-aws-ec2-metadata-token-ttl-seconds` (1 to 21600) answers a token
//! and echoes the TTL header; every GET needs a live token of that
//! instance in `X-aws-ec2-metadata-token`, else 401. What the instance is,
//! its profile, role and session come from the account
//! (`Emulator::instance_metadata`, `Emulator::instance_credentials`);
//! tokens live in this process only: a restarted server asks for new ones,
//! as a rebooted instance's IMDS does.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::http::request::Parts;
use hyper::{Method, Response, StatusCode};
use serde_json::Value;

use rolecall_emulator::{Emulator, EmulatorError, InstanceMetadata, RoleMetadata};

use super::REGION;
use super::pool::HandlePool;

/// Requests whose path starts so are the metadata service's.
pub const PREFIX: &str = "/imds/";

const TOKEN_PATH: &str = "latest/api/token";
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
/// A token lives at most six hours (EC2 User Guide, "How Instance Metadata
/// Service Version 2 works").
const MAX_TTL_SECONDS: u64 = 21_600;
/// Live tokens kept at most: the store is pruned of expired ones first,
/// and a client asking for more than this gets 429 (EC2 throttles IMDS
/// with 429 too), so no client can make it grow without bound.
const MAX_TOKENS: usize = 100_000;
/// Idle account handles kept for reuse (one SQLite connection each).
const POOLED_HANDLES: usize = 4;

/// The page EC2 points to when it cannot assume an instance's role (its
/// message, as users report it, e.g. aws/aws-cli#2060, is in `unauthorized`).
const UNAUTHORIZED_DOC: &str = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html#troubleshoot_roles_ec2-instance-profile";

/// The metadata service of every instance of one account.
pub struct Imds {
    handles: HandlePool,
    /// Live tokens: the token itself (random, unguessable) to whose it is.
    tokens: Mutex<HashMap<String, Token>>,
}

struct Token {
    instance_id: String,
    expires: Instant,
}

/// One answer: status, body, and the headers it needs beyond its type.
struct Answer {
    status: StatusCode,
    body: String,
    content_type: &'static str,
    ttl: Option<u64>,
}

impl Answer {
    fn text(body: String) -> Answer {
        Answer {
            status: StatusCode::OK,
            body,
            content_type: "text/plain",
            ttl: None,
        }
    }

    /// An error as EC2's metadata service answers it: a small HTML page
    /// naming the status; 401 with no body.
    fn error(status: StatusCode) -> Answer {
        let body = if status == StatusCode::UNAUTHORIZED {
            String::new()
        } else {
            let title = format!(
                "{} - {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            );
            format!(
                "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n\
                 <!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n\
                 \t\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n\
                 <html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n \
                 <head>\n  <title>{title}</title>\n </head>\n \
                 <body>\n  <h1>{title}</h1>\n </body>\n</html>\n"
            )
        };
        Answer {
            status,
            body,
            content_type: "text/html",
            ttl: None,
        }
    }

    fn not_found() -> Answer {
        Answer::error(StatusCode::NOT_FOUND)
    }
}

impl Imds {
    pub fn new(account: PathBuf) -> Imds {
        Imds {
            handles: HandlePool::new(account, Vec::new(), POOLED_HANDLES),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Answers one request whose path starts with [`PREFIX`].
    pub fn answer(&self, parts: &Parts) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let path = parts.uri.path().strip_prefix(PREFIX).unwrap_or("");
        let (instance_id, rest) = path.split_once('/').unwrap_or((path, ""));
        let key = normalise(rest);
        let answer = if !rolecall_model::is_instance_id(instance_id) {
            Answer::not_found()
        } else {
            self.answer_instance(parts, instance_id, &key)
                .unwrap_or_else(|error| {
                    tracing::warn!(
                        target: "rolecall::serve",
                        "IMDS of {instance_id}: the emulated account cannot be read: {error}"
                    );
                    Answer::error(StatusCode::INTERNAL_SERVER_ERROR)
                })
        };
        // Never a header (a token) or a path a client made up: the instance
        // only when it is one's id, the key only when it is one served.
        tracing::info!(
            target: "rolecall::serve",
            "{} IMDS {} of {} in {:?}",
            parts.method,
            answer.status.as_u16(),
            if rolecall_model::is_instance_id(instance_id) { instance_id } else { "-" },
            started.elapsed(),
        );
        to_response(answer)
    }

    fn answer_instance(
        &self,
        parts: &Parts,
        instance_id: &str,
        key: &str,
    ) -> Result<Answer, EmulatorError> {
        // An instance the account does not run has no metadata service:
        // 404 for everything, tokens included.
        let Some(metadata) = self.with_emulator(|e| e.instance_metadata(instance_id))? else {
            return Ok(Answer::not_found());
        };
        let method = &parts.method;
        if key == TOKEN_PATH {
            return Ok(if method == Method::PUT {
                self.new_token(parts, instance_id)
            } else {
                Answer::error(StatusCode::METHOD_NOT_ALLOWED)
            });
        }
        if method != Method::GET && method != Method::HEAD {
            return Ok(Answer::error(StatusCode::METHOD_NOT_ALLOWED));
        }
        if !self.token_is_valid(parts, instance_id) {
            return Ok(Answer::error(StatusCode::UNAUTHORIZED));
        }
        self.get(metadata, key)
    }

    /// The value of one key, reading the instance's session only for the
    /// keys that show it.
    fn get(&self, metadata: InstanceMetadata, key: &str) -> Result<Answer, EmulatorError> {
        let zone = format!("{REGION}a");
        let iam = metadata.profile.as_ref();
        let role = iam.and_then(|profile| profile.role.as_ref());
        let text = |s: &str| Ok(Answer::text(s.to_string()));
        match key {
            "latest" => text("dynamic\nmeta-data"),
            "latest/meta-data" => {
                let mut listing = vec!["ami-id"];
                if iam.is_some() {
                    listing.push("iam/");
                }
                listing.extend(["instance-id", "instance-type", "placement/"]);
                text(&listing.join("\n"))
            }
            "latest/meta-data/ami-id" => text(&metadata.image_id),
            "latest/meta-data/instance-id" => text(&metadata.instance_id),
            "latest/meta-data/instance-type" => text(&metadata.instance_type),
            "latest/meta-data/placement" => text("availability-zone\nregion"),
            "latest/meta-data/placement/availability-zone" => text(&zone),
            "latest/meta-data/placement/region" => text(REGION),
            "latest/meta-data/iam" if iam.is_some() => text("info\nsecurity-credentials/"),
            "latest/meta-data/iam/info" if iam.is_some() => self.iam_info(&metadata.instance_id),
            "latest/meta-data/iam/security-credentials" => match role {
                Some(role) => text(&role.name),
                None => Ok(Answer::not_found()),
            },
            "latest/dynamic" => text("instance-identity/"),
            "latest/dynamic/instance-identity" => text("document"),
            "latest/dynamic/instance-identity/document" => {
                Ok(Answer::text(identity_document(&metadata, &zone)))
            }
            _ => match (
                role,
                key.strip_prefix("latest/meta-data/iam/security-credentials/"),
            ) {
                (Some(role), Some(name)) if name == role.name => {
                    self.security_credentials(&metadata.instance_id)
                }
                _ => Ok(Answer::not_found()),
            },
        }
    }

    /// `iam/info`: the profile, once EC2 holds a session of its role (or
    /// the reason it cannot).
    fn iam_info(&self, instance_id: &str) -> Result<Answer, EmulatorError> {
        let metadata = self.with_emulator(|e| e.instance_credentials(instance_id))?;
        // Read again in the transaction that issues the session: the
        // profile may have changed since the first read.
        let Some(profile) = metadata.and_then(|m| m.profile) else {
            return Ok(Answer::not_found());
        };
        if let Some(refused) = profile.role.as_ref().and_then(unauthorized) {
            return Ok(refused);
        }
        let last_updated = profile
            .role
            .as_ref()
            .and_then(|role| role.session.as_ref())
            .map_or_else(now_ms, |session| session.issued_at_ms);
        Ok(Answer::text(ec2_json(&[
            ("Code", "Success".into()),
            ("LastUpdated", timestamp(last_updated).into()),
            ("InstanceProfileArn", profile.arn.into()),
            ("InstanceProfileId", profile.id.into()),
        ])))
    }

    /// `iam/security-credentials/ROLE`: the instance's role session.
    fn security_credentials(&self, instance_id: &str) -> Result<Answer, EmulatorError> {
        let metadata = self.with_emulator(|e| e.instance_credentials(instance_id))?;
        let Some(role) = metadata.and_then(|m| m.profile).and_then(|p| p.role) else {
            return Ok(Answer::not_found());
        };
        if let Some(refused) = unauthorized(&role) {
            return Ok(refused);
        }
        let Some(session) = role.session else {
            return Ok(Answer::not_found());
        };
        Ok(Answer::text(ec2_json(&[
            ("Code", "Success".into()),
            ("LastUpdated", timestamp(session.issued_at_ms).into()),
            ("Type", "AWS-HMAC".into()),
            ("AccessKeyId", session.access_key_id.into()),
            ("SecretAccessKey", session.secret_access_key.into()),
            ("Token", session.session_token.into()),
            ("Expiration", timestamp(session.expires_at_ms).into()),
        ])))
    }

    /// `PUT /latest/api/token`.
    fn new_token(&self, parts: &Parts, instance_id: &str) -> Answer {
        // A request that went through a proxy: refused, so a misconfigured
        // proxy or WAF on the instance cannot open its IMDS to others (AWS
        // Security Blog, 2019-11-19, "Add defense in depth against open
        // firewalls, reverse proxies, and SSRF vulnerabilities...").
        if parts.headers.contains_key("x-forwarded-for") {
            return Answer::error(StatusCode::FORBIDDEN);
        }
        let Some(ttl) = parts
            .headers
            .get(TTL_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok())
            .filter(|ttl| (1..=MAX_TTL_SECONDS).contains(ttl))
        else {
            return Answer::error(StatusCode::BAD_REQUEST);
        };
        let token = new_token_text();
        let now = Instant::now();
        {
            let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
            tokens.retain(|_, token| token.expires > now);
            if tokens.len() >= MAX_TOKENS {
                return Answer::error(StatusCode::TOO_MANY_REQUESTS);
            }
            tokens.insert(
                token.clone(),
                Token {
                    instance_id: instance_id.to_string(),
                    expires: now + Duration::from_secs(ttl),
                },
            );
        }
        Answer {
            ttl: Some(ttl),
            ..Answer::text(token)
        }
    }

    /// Whether the request carries a live token of this instance.
    fn token_is_valid(&self, parts: &Parts, instance_id: &str) -> bool {
        let Some(token) = parts
            .headers
            .get(TOKEN_HEADER)
            .and_then(|value| value.to_str().ok())
        else {
            return false;
        };
        let tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        tokens
            .get(token)
            .is_some_and(|t| t.instance_id == instance_id && t.expires > Instant::now())
    }

    /// Runs `f` on an idle account handle, opening one if none is idle.
    fn with_emulator<T>(
        &self,
        f: impl FnOnce(&Emulator) -> Result<T, EmulatorError>,
    ) -> Result<T, EmulatorError> {
        self.handles.with(f)?
    }
}

/// The key a path names: its segments percent-decoded and joined by single
/// slashes, so `//latest/meta-data/` (a base URL ending in `/` joined with
/// `/latest/...`, as some SDKs do) and `latest/meta-data` are one key.
fn normalise(rest: &str) -> String {
    rest.split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| percent_encoding::percent_decode_str(segment).decode_utf8_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// EC2's answer for a role it may not assume, if this is one.
fn unauthorized(role: &RoleMetadata) -> Option<Answer> {
    (!role.ec2_may_assume).then(|| {
        Answer::text(ec2_json(&[
            ("Code", "AssumeRoleUnauthorizedAccess".into()),
            (
                "Message",
                format!(
                    "EC2 cannot assume the role {}.  Please see documentation at {UNAUTHORIZED_DOC}.",
                    role.name
                )
                .into(),
            ),
            ("LastUpdated", timestamp(now_ms()).into()),
        ]))
    })
}

/// `dynamic/instance-identity/document`, the fields the emulator knows.
fn identity_document(metadata: &InstanceMetadata, zone: &str) -> String {
    let pending = metadata.launch_time.parse::<jiff::Timestamp>().map_or_else(
        |_| metadata.launch_time.clone(),
        |t| timestamp(t.as_millisecond()),
    );
    ec2_json(&[
        ("accountId", metadata.account_id.clone().into()),
        ("availabilityZone", zone.into()),
        ("imageId", metadata.image_id.clone().into()),
        ("instanceId", metadata.instance_id.clone().into()),
        ("instanceType", metadata.instance_type.clone().into()),
        ("pendingTime", pending.into()),
        ("region", REGION.into()),
        ("version", "2017-09-30".into()),
    ])
}

/// JSON as EC2's metadata service prints it: keys in the order given, one
/// a line, `"Key" : value`.
fn ec2_json(fields: &[(&str, Value)]) -> String {
    let lines: Vec<String> = fields
        .iter()
        .map(|(key, value)| format!("  {} : {value}", Value::from(*key)))
        .collect();
    format!("{{\n{}\n}}", lines.join(",\n"))
}

/// Seconds, UTC, with `Z`, as IMDS writes times.
fn timestamp(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// 244 random bits from the OS (two version-4 UUIDs), as 64 hex digits.
fn new_token_text() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

fn to_response(answer: Answer) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = answer.status;
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(answer.content_type),
    );
    // aws-sdk-rust's IMDS client refuses a token answered without it.
    if let Some(ttl) = answer.ttl {
        headers.insert(TTL_HEADER, hyper::header::HeaderValue::from(ttl));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_doubled_and_trailing_slashes() {
        assert_eq!(normalise("//latest/meta-data/"), "latest/meta-data");
        assert_eq!(normalise("latest//api/token"), TOKEN_PATH);
        assert_eq!(normalise(""), "");
        assert_eq!(
            normalise("latest/meta-data/iam/security-credentials/a%2Bb"),
            "latest/meta-data/iam/security-credentials/a+b"
        );
    }

    #[test]
    fn json_is_printed_as_ec2_prints_it() {
        assert_eq!(
            ec2_json(&[("Code", "Success".into()), ("Message", "a \"b\"".into())]),
            "{\n  \"Code\" : \"Success\",\n  \"Message\" : \"a \\\"b\\\"\"\n}"
        );
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn tokens_differ() {
        let (a, b) = (new_token_text(), new_token_text());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
