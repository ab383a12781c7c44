//! The keys requests are signed with: fixed ones (tests, `rolecall serve`'s
//! administrator key), or whatever the standard AWS chain finds, fetched
//! again shortly before they expire.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

/// Temporary keys are fetched again this long before they expire, so no
/// request is signed with keys that lapse on the way.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);
/// When refreshing fails, keys with at least this long left are used on.
const STILL_USABLE: Duration = Duration::from_secs(30);
/// Keys about to expire are asked for again at most this often.
const MIN_REFETCH: Duration = Duration::from_secs(60);

/// Keys to sign with: long-term, or temporary with their session token.
#[derive(Clone, PartialEq, Eq)]
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

impl Credentials {
    fn signing_keys(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "rolecall",
        )
    }
}

/// Where a client's keys come from.
pub(crate) enum KeySource {
    Fixed(Credentials),
    Chain(Chain),
}

impl KeySource {
    /// The keys to sign the next request with.
    pub(crate) fn current(&self) -> Result<aws_credential_types::Credentials, String> {
        match self {
            KeySource::Fixed(credentials) => Ok(credentials.signing_keys()),
            KeySource::Chain(chain) => chain.current(),
        }
    }
}

/// aws-config's credential chain (environment, shared files and profiles,
/// SSO, web identity, ECS, instance metadata), asked on a runtime of its
/// own, its answer kept until shortly before it expires.
pub(crate) struct Chain {
    runtime: tokio::runtime::Runtime,
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<aws_credential_types::Credentials>>,
    last_fetch: Mutex<Option<Instant>>,
}

impl Chain {
    pub(crate) fn new(
        runtime: tokio::runtime::Runtime,
        provider: SharedCredentialsProvider,
    ) -> Chain {
        Chain {
            runtime,
            provider,
            cached: Mutex::new(None),
            last_fetch: Mutex::new(None),
        }
    }

    fn current(&self) -> Result<aws_credential_types::Credentials, String> {
        // Held while fetching: concurrent calls wait for one fetch rather
        // than each asking SSO or the instance metadata service.
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        let mut last_fetch = self
            .last_fetch
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = SystemTime::now();
        if let Some(keys) = cached.as_ref() {
            let expiry = keys.expiry();
            let fresh = expiry.is_none_or(|expiry| expiry > now + REFRESH_BEFORE_EXPIRY);
            // Keys the chain handed out already close to expiry (instance
            // metadata renews them late) are not asked for again at every
            // call: at most once a minute while they last.
            let fetched_lately = last_fetch.is_some_and(|at| at.elapsed() < MIN_REFETCH)
                && expiry.is_some_and(|expiry| expiry > now + STILL_USABLE);
            if fresh || fetched_lately {
                return Ok(keys.clone());
            }
        }
        *last_fetch = Some(Instant::now());
        let fetched = self.runtime.block_on(self.provider.provide_credentials());
        match fetched {
            Ok(fresh) => {
                *cached = Some(fresh.clone());
                Ok(fresh)
            }
            // Refreshing early failed (SSO or instance metadata briefly
            // away): the keys held still work for now.
            Err(error) => match cached.as_ref() {
                Some(keys)
                    if keys
                        .expiry()
                        .is_some_and(|expiry| expiry > SystemTime::now() + STILL_USABLE) =>
                {
                    tracing::warn!("refreshing AWS credentials: {}", explain(&error));
                    Ok(keys.clone())
                }
                _ => Err(explain(&error)),
            },
        }
    }
}

/// What the chain's failure means to the user. The chain reports only the
/// last source it tried (instance metadata, when nothing had keys), which
/// reads as the cause on a laptop: say that the others were tried first.
fn explain(error: &CredentialsError) -> String {
    let explained = match error {
        CredentialsError::CredentialsNotLoaded(_) | CredentialsError::ProviderError(_) => format!(
            "the AWS CLI's sources were tried in order (environment, ~/.aws/credentials and ~/.aws/config profiles, IAM Identity Center, web identity, ECS, instance metadata) and the last one tried failed: {}",
            with_causes(error)
        ),
        _ => with_causes(error),
    };
    // The chain's error says "No such file or directory" without the file.
    match std::env::var_os("AWS_WEB_IDENTITY_TOKEN_FILE") {
        Some(token) if !token.is_empty() && std::fs::metadata(&token).is_err() => format!(
            "{explained} (AWS_WEB_IDENTITY_TOKEN_FILE names {}, which cannot be read)",
            std::path::Path::new(&token).display()
        ),
        _ => explained,
    }
}

/// An error and its causes on one line: the chain's errors say which
/// provider failed in their sources.
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
