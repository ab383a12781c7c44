//! The keys requests are signed with: fixed ones (tests, `rolecall serve`'s
//! administrator key), or whatever the standard AWS chain finds, fetched
//! again shortly before they expire.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

/// Temporary keys are fetched again this long before they expire, so no
/// request is signed with keys that lapse on the way.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

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
        }
    }

    fn current(&self) -> Result<aws_credential_types::Credentials, String> {
        // Held while fetching: concurrent calls wait for one fetch rather
        // than each asking SSO or the instance metadata service.
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(keys) = cached.as_ref()
            && keys
                .expiry()
                .is_none_or(|expiry| expiry > SystemTime::now() + REFRESH_BEFORE_EXPIRY)
        {
            return Ok(keys.clone());
        }
        let fresh = self
            .runtime
            .block_on(self.provider.provide_credentials())
            .map_err(|error| explain(&error))?;
        *cached = Some(fresh.clone());
        Ok(fresh)
    }
}

/// What the chain's failure means to the user. The chain reports only the
/// last source it tried (instance metadata, when nothing had keys), which
/// reads as the cause on a laptop: say that the others were tried first.
fn explain(error: &CredentialsError) -> String {
    match error {
        CredentialsError::CredentialsNotLoaded(_) | CredentialsError::ProviderError(_) => format!(
            "the AWS CLI's sources were tried in order (environment, ~/.aws/credentials and ~/.aws/config profiles, IAM Identity Center, web identity, ECS, instance metadata) and the last one tried failed: {}",
            with_causes(error)
        ),
        _ => with_causes(error),
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
