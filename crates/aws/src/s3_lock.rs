//! One apply per AWS account at a time: a lock object in an S3 bucket the
//! user names (`--lock-bucket`), as Terraform 1.10's S3 backend locks.
//!
//! Taking the lock is one `PutObject` with `If-None-Match: *`: S3 writes the
//! object only if no object has the key, atomically, so of two applies at
//! once exactly one gets it and the other gets `412 PreconditionFailed`
//! (or `409 ConditionalRequestConflict` while the first write is in flight).
//! The object says who holds it (command, pid, host, start time, caller
//! ARN), so the second apply can name the holder. Releasing it is a
//! `DeleteObject` with `If-Match: <our ETag>`: a lock removed by hand and
//! taken by another apply meanwhile is never deleted by the first.
//!
//! The key is `rolecall/<ACCOUNT-ID>.lock`: one lock per account, as the
//! emulated account has one lock file. Unlike a file lock, nothing releases
//! it when its holder dies (a killed CI job): the error says how to delete
//! it after checking the holder is gone.
//!
//! Permissions: `s3:PutObject`, `s3:GetObject` and `s3:DeleteObject` on the
//! key (S3 documents `s3:GetObject` as needed for a conditional delete).

use std::time::{Duration, Instant};

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SigningSettings, UriPathNormalizationMode,
};

use crate::{AwsClient, SendFailure, SignedRequest, sign_request};

/// How often a waiting apply asks again (`--lock-timeout`).
const POLL: Duration = Duration::from_secs(2);

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{}", held_message(.location, .holder, .waited))]
    Held {
        location: String,
        holder: String,
        waited: Duration,
    },
    #[error("lock {location}: {code}: {message}{hint}")]
    S3 {
        location: String,
        code: String,
        message: String,
        /// What to do about it, when rolecall knows.
        hint: String,
    },
    #[error("lock {location}: {message}")]
    Unreachable { location: String, message: String },
    #[error("lock {location}: the caller's identity: {message}")]
    Identity { location: String, message: String },
}

fn held_message(location: &str, holder: &str, waited: &Duration) -> String {
    let wait = if waited.is_zero() {
        "wait for it to finish, or pass --lock-timeout to wait".to_string()
    } else {
        format!("still held after waiting {} s", waited.as_secs_f64())
    };
    format!(
        "the account is locked by another rolecall ({holder}); {wait}. If that run is gone (a cancelled CI job), delete the lock: aws s3 rm {location}"
    )
}

/// A held lock; dropping it releases it.
pub struct S3Lock {
    client: AwsClient,
    bucket: String,
    key: String,
    /// The lock object's ETag as S3 wrote it: only that object is deleted.
    etag: Option<String>,
    /// What this run wrote into the object, to know it as its own when S3
    /// gave no ETag.
    nonce: String,
}

impl S3Lock {
    /// `s3://BUCKET/KEY`, as the AWS CLI names the object.
    pub fn location(&self) -> String {
        location(&self.bucket, &self.key)
    }
}

impl Drop for S3Lock {
    fn drop(&mut self) {
        // Only our own object: by its ETag, else (an S3-compatible store
        // that gave none) by the nonce it holds.
        let etag = self.etag.clone().or_else(|| {
            self.client
                .lock_nonce(&self.bucket, &self.key)
                .filter(|(nonce, _)| *nonce == self.nonce)
                .and_then(|(_, etag)| etag)
        });
        let Some(etag) = etag else {
            tracing::error!(
                "the lock {} is no longer this run's, or cannot be read: left as it is (if no rolecall runs, remove it: aws s3 rm {})",
                self.location(),
                self.location()
            );
            return;
        };
        let failed = match self.client.s3(
            "DELETE",
            &self.bucket,
            &self.key,
            &[("if-match", &etag)],
            b"",
        ) {
            Ok(answer) if (200..300).contains(&answer.status) => return,
            Ok(answer) => answer.error_text(),
            Err(failure) => failure.message,
        };
        tracing::error!(
            "releasing the lock {}: {failed} (if no rolecall runs, remove it: aws s3 rm {})",
            self.location(),
            self.location()
        );
    }
}

impl std::fmt::Debug for S3Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Lock")
            .field("location", &self.location())
            .field("etag", &self.etag)
            .finish_non_exhaustive()
    }
}

/// A value no other run writes: the clock and std's per-process random
/// hash keys, without a crate for it.
fn nonce() -> String {
    use std::hash::BuildHasher;
    let state = std::collections::hash_map::RandomState::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!(
        "{:016x}{:016x}",
        state.hash_one(now),
        state.hash_one(std::process::id())
    )
}

fn location(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// S3's answer: its status, ETag and body.
struct Answer {
    status: u16,
    etag: Option<String>,
    /// The bucket's region, which S3 names when asked in another.
    bucket_region: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    /// S3's error code (or the status when the body names none).
    fn code(&self) -> String {
        rolecall_wire::decode_error_document(&self.body)
            .map_or_else(|| format!("HTTP {}", self.status), |(code, _)| code)
    }

    fn error_text(&self) -> String {
        match rolecall_wire::decode_error_document(&self.body) {
            Some((code, message)) => format!("{code}: {message}"),
            None => format!("HTTP {}", self.status),
        }
    }
}

impl AwsClient {
    /// Takes the account's lock in `bucket`, waiting up to `timeout` for
    /// another holder to release it; `holder` describes this run to the
    /// next one (the caller's ARN is added).
    pub fn lock_account(
        &self,
        bucket: &str,
        holder: &str,
        timeout: Duration,
    ) -> Result<S3Lock, LockError> {
        let identity = self
            .get_caller_identity_now()
            .map_err(|message| LockError::Identity {
                location: format!("s3://{bucket}"),
                message,
            })?;
        let key = format!("rolecall/{}.lock", identity.account);
        let here = location(bucket, &key);
        let nonce = nonce();
        let body = serde_json::json!({
            "holder": format!("{holder}, as {}", identity.arn),
            "taken": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "nonce": nonce,
        })
        .to_string();
        let ours = |etag: Option<String>| S3Lock {
            client: self.clone(),
            bucket: bucket.to_string(),
            key: key.clone(),
            etag,
            nonce: nonce.clone(),
        };
        // A timeout beyond what the clock can add is as good as forever.
        let deadline = Instant::now().checked_add(timeout);
        loop {
            let put = self.s3(
                "PUT",
                bucket,
                &key,
                &[("content-type", "application/json"), ("if-none-match", "*")],
                body.as_bytes(),
            );
            let answer = match put {
                Ok(answer) => answer,
                Err(failure) => {
                    // The put may have been stored before the answer was
                    // lost: then the object holds our nonce.
                    if let Some((written, etag)) = self.lock_nonce(bucket, &key)
                        && written == nonce
                    {
                        return Ok(ours(etag));
                    }
                    return Err(LockError::Unreachable {
                        location: here,
                        message: failure.message,
                    });
                }
            };
            match answer.status {
                200..300 => return Ok(ours(answer.etag)),
                // Held, or being taken by another apply this instant.
                412 | 409 => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        match self.lock_holder(bucket, &key) {
                            // Released meanwhile: try again at once.
                            None => continue,
                            Some(holder) => {
                                return Err(LockError::Held {
                                    holder,
                                    location: here,
                                    waited: timeout,
                                });
                            }
                        }
                    }
                    let left =
                        deadline.map_or(POLL, |d| d.saturating_duration_since(Instant::now()));
                    std::thread::sleep(POLL.min(left).max(Duration::from_millis(50)));
                }
                _ => return Err(s3_error(here, &answer)),
            }
        }
    }

    /// Who holds the lock, as its object says; `None` when there is no
    /// lock object any more.
    fn lock_holder(&self, bucket: &str, key: &str) -> Option<String> {
        let read = self.s3("GET", bucket, key, &[], b"");
        if read.as_ref().is_ok_and(|answer| answer.status == 404) {
            return None;
        }
        let described = read.ok().filter(|a| a.status == 200).and_then(|answer| {
            let object: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
            let holder = object.get("holder")?.as_str()?;
            let taken = object.get("taken").and_then(|t| t.as_str()).unwrap_or("?");
            Some(format!("{holder}, taken {taken}"))
        });
        Some(described.unwrap_or_else(|| "holder unknown: the lock object is unreadable".into()))
    }

    /// The nonce the lock object holds and its ETag, if it can be read.
    fn lock_nonce(&self, bucket: &str, key: &str) -> Option<(String, Option<String>)> {
        let answer = self.s3("GET", bucket, key, &[], b"").ok()?;
        if answer.status != 200 {
            return None;
        }
        let object: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
        Some((object.get("nonce")?.as_str()?.to_string(), answer.etag))
    }

    /// GetCallerIdentity, its error as text.
    fn get_caller_identity_now(
        &self,
    ) -> Result<rolecall_cloud::sts::GetCallerIdentityResponse, String> {
        use rolecall_cloud::Cloud;
        self.get_caller_identity(&rolecall_cloud::sts::GetCallerIdentityRequest {})
            .map_err(|error| error.to_string())
    }

    /// One signed S3 request on object `key` of `bucket`.
    fn s3(
        &self,
        method: &str,
        bucket: &str,
        key: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Answer, SendFailure> {
        let s3 = &self.endpoints.s3;
        let url = s3.object_url(bucket, key);
        let keys = self.keys.current().map_err(|reason| SendFailure {
            message: format!("AWS credentials: {reason}"),
            may_have_arrived: false,
            transient: false,
        })?;
        // S3 signs its paths as they are (no second encoding, no
        // normalisation) and wants the payload's hash in a header.
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let signature = sign_request(SignedRequest {
            method,
            url: &url,
            headers,
            body,
            service: "s3",
            region: &s3.endpoint.signing_region,
            keys,
            settings,
        })?;
        let signed = headers
            .iter()
            .copied()
            .chain(signature.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let sent = match method {
            "PUT" => {
                let mut request = self.agent.put(&url);
                for (name, value) in signed {
                    request = request.header(name, value);
                }
                request.send(body)
            }
            _ => {
                let mut request = if method == "GET" {
                    self.agent.get(&url)
                } else {
                    self.agent.delete(&url)
                };
                for (name, value) in signed {
                    request = request.header(name, value);
                }
                request.call()
            }
        };
        let mut response = sent.map_err(|error| SendFailure {
            message: format!("{url}: {error}"),
            may_have_arrived: true,
            transient: true,
        })?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        };
        let etag = header("etag");
        let bucket_region = header("x-amz-bucket-region");
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|error| SendFailure {
                message: format!("{url}: reading the answer: {error}"),
                may_have_arrived: true,
                transient: true,
            })?;
        Ok(Answer {
            status,
            etag,
            bucket_region,
            body,
        })
    }
}

/// The error of an S3 answer that is neither success nor "held".
fn s3_error(location: String, answer: &Answer) -> LockError {
    let (code, message) = rolecall_wire::decode_error_document(&answer.body)
        .unwrap_or_else(|| (answer.code(), String::new()));
    let hint = match code.as_str() {
        "NoSuchBucket" => " (create the bucket, or name another with --lock-bucket)".to_string(),
        "AccessDenied" => {
            " (the lock needs s3:PutObject, s3:GetObject and s3:DeleteObject on the key)"
                .to_string()
        }
        "PermanentRedirect"
        | "AuthorizationHeaderMalformed"
        | "IllegalLocationConstraintException" => {
            let region = answer.bucket_region.as_deref().unwrap_or("another region");
            format!(
                " (the bucket is in {region}: run with AWS_REGION={region}, or use a bucket in this region)"
            )
        }
        _ => String::new(),
    };
    LockError::S3 {
        location,
        code,
        message,
        hint,
    }
}
