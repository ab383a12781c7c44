//! The AWS account a platform engineer's shell or pipeline already reaches:
//! region, credentials and endpoints found by `aws-config` exactly as the
//! AWS CLI finds them (environment, `~/.aws/config` and `credentials` with
//! `--profile`/`AWS_PROFILE`, IAM Identity Center, web identity, ECS, EC2
//! instance metadata; `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`).

use aws_config::BehaviorVersion;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_types::service_config::ServiceConfigKey;

use rolecall_cloud::Service;

use crate::credentials::{Chain, KeySource};
use crate::endpoints::Endpoints;
use crate::{AwsClient, AwsError};

/// Which of the AWS CLI's settings to use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// A profile of the shared config files; `None` is the CLI's choice
    /// (`AWS_PROFILE`, else `default`).
    pub profile: Option<String>,
    /// The most calls a second (`--max-rate`); `None` paces only when AWS
    /// throttles.
    pub max_rate: Option<u32>,
}

/// The service ids the SDKs read `AWS_ENDPOINT_URL_<ID>` and the shared
/// config's `services` sections with.
fn service_id(service: Service) -> &'static str {
    match service {
        Service::Iam => "IAM",
        Service::Ec2 => "EC2",
        Service::Sts => "STS",
    }
}

impl AwsClient {
    /// A client of the account `settings` reach, with the AWS CLI's
    /// region, credentials and endpoints. The credentials are fetched once
    /// here, so a missing or expired login fails before the first call.
    pub fn from_environment(settings: &AwsSettings) -> Result<AwsClient, AwsError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(AwsError::Runtime)?;
        // The chain's own HTTPS (SSO, STS for web identity): rustls on
        // ring, the crypto ureq uses too, with the system's trusted roots.
        let https = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(https);
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        let config = runtime.block_on(loader.load());
        let profile = || settings.profile.clone();
        let region = config
            .region()
            .map(ToString::to_string)
            .ok_or_else(|| AwsError::NoRegion { profile: profile() })?;
        let configured = |service_id: &str| {
            let key = ServiceConfigKey::builder()
                .service_id(service_id)
                .env("AWS_ENDPOINT_URL")
                .profile("endpoint_url")
                .build()
                .ok()?;
            config.service_config()?.load_config(key)
        };
        let endpoints = Endpoints::for_region(
            &region,
            |service| configured(service_id(service)),
            configured("S3"),
        );
        let provider = config
            .credentials_provider()
            .ok_or_else(|| AwsError::NoCredentials {
                profile: profile(),
                reason: "no credential provider is configured".into(),
            })?;
        let keys = KeySource::Chain(Chain::new(runtime, provider));
        keys.current().map_err(|reason| AwsError::NoCredentials {
            profile: profile(),
            reason,
        })?;
        Ok(
            AwsClient::with(endpoints, region, keys)
                .with_max_rate(settings.max_rate.map(f64::from)),
        )
    }
}
