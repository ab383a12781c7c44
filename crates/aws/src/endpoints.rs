//! Where each service's calls go, and which region they are signed for.
//!
//! AWS's own endpoints by default: IAM is global, one endpoint per partition
//! signed for the partition's first region; EC2 and STS are regional. A
//! configured endpoint (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, or
//! `endpoint_url` in the shared config) replaces a service's, signed for the
//! configured region, as the SDKs sign then.

use rolecall_cloud::Service;

/// One service's endpoint: the URL requests are posted to (no trailing
/// `/`), and the region in their SigV4 credential scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub signing_region: String,
}

/// Every service's endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub iam: Endpoint,
    pub ec2: Endpoint,
    pub sts: Endpoint,
    /// Where the apply lock's bucket is (`--lock-bucket`).
    pub s3: S3Endpoint,
}

/// S3's endpoint, and how a bucket is addressed on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Endpoint {
    pub endpoint: Endpoint,
    /// AWS's own endpoint: a bucket is the host's first label
    /// (`BUCKET.s3.REGION.amazonaws.com`), as the SDKs address it. A
    /// configured endpoint (moto, LocalStack) takes the bucket as the
    /// path's first segment.
    pub virtual_hosted: bool,
}

impl S3Endpoint {
    /// The URL of object `key` in `bucket`. A bucket whose name holds a dot
    /// is addressed by path even on AWS: its host name would not match
    /// S3's TLS certificate.
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        let url = &self.endpoint.url;
        match url.split_once("://") {
            Some((scheme, host)) if self.virtual_hosted && !bucket.contains('.') => {
                format!("{scheme}://{bucket}.{host}/{key}")
            }
            _ => format!("{url}/{bucket}/{key}"),
        }
    }
}

impl Endpoints {
    /// One URL serving every service (`rolecall serve`, moto, LocalStack),
    /// all signed for `region`.
    pub fn single(url: &str, region: &str) -> Endpoints {
        let endpoint = Endpoint {
            url: url.trim_end_matches('/').to_string(),
            signing_region: region.to_string(),
        };
        Endpoints {
            iam: endpoint.clone(),
            ec2: endpoint.clone(),
            sts: endpoint.clone(),
            s3: S3Endpoint {
                endpoint,
                virtual_hosted: false,
            },
        }
    }

    /// AWS's endpoints for `region`, with `configured` replacing a
    /// service's where it names one, and `configured_s3` S3's.
    pub fn for_region(
        region: &str,
        configured: impl Fn(Service) -> Option<String>,
        configured_s3: Option<String>,
    ) -> Endpoints {
        let partition = Partition::of(region);
        let at = |url: String| Endpoint {
            url: url.trim_end_matches('/').to_string(),
            signing_region: region.to_string(),
        };
        let endpoint = |service: Service| match configured(service) {
            Some(url) => at(url),
            None => partition.endpoint(service, region),
        };
        let s3 = match configured_s3 {
            Some(url) => S3Endpoint {
                endpoint: at(url),
                virtual_hosted: false,
            },
            None => S3Endpoint {
                endpoint: at(format!("https://s3.{region}.{}", partition.dns_suffix())),
                virtual_hosted: true,
            },
        };
        Endpoints {
            iam: endpoint(Service::Iam),
            ec2: endpoint(Service::Ec2),
            sts: endpoint(Service::Sts),
            s3,
        }
    }

    pub fn of(&self, service: Service) -> &Endpoint {
        match service {
            Service::Iam => &self.iam,
            Service::Ec2 => &self.ec2,
            Service::Sts => &self.sts,
        }
    }
}

/// The AWS partitions rolecall knows the endpoints of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    Aws,
    China,
    GovCloud,
}

impl Partition {
    /// The partition a region belongs to, from its name.
    pub fn of(region: &str) -> Partition {
        if region.starts_with("cn-") {
            Partition::China
        } else if region.starts_with("us-gov-") {
            Partition::GovCloud
        } else {
            Partition::Aws
        }
    }

    /// The partition's name in ARNs (`arn:PARTITION:...`).
    pub fn name(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::China => "aws-cn",
            Partition::GovCloud => "aws-us-gov",
        }
    }

    fn dns_suffix(self) -> &'static str {
        match self {
            Partition::China => "amazonaws.com.cn",
            Partition::Aws | Partition::GovCloud => "amazonaws.com",
        }
    }

    /// AWS's endpoint of `service` in `region`.
    fn endpoint(self, service: Service, region: &str) -> Endpoint {
        let suffix = self.dns_suffix();
        match service {
            // IAM's one endpoint per partition, signed for its home region
            // (botocore's endpoints.json, `partitionEndpoint`).
            Service::Iam => {
                let (host, home) = match self {
                    Partition::Aws => ("iam.amazonaws.com".to_string(), "us-east-1"),
                    Partition::China => {
                        ("iam.cn-north-1.amazonaws.com.cn".to_string(), "cn-north-1")
                    }
                    Partition::GovCloud => {
                        ("iam.us-gov.amazonaws.com".to_string(), "us-gov-west-1")
                    }
                };
                Endpoint {
                    url: format!("https://{host}"),
                    signing_region: home.to_string(),
                }
            }
            Service::Ec2 | Service::Sts => Endpoint {
                url: format!("https://{}.{region}.{suffix}", service.signing_name()),
                signing_region: region.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_is_global_per_partition_and_the_rest_regional() {
        let endpoints = Endpoints::for_region("eu-west-3", |_| None, None);
        assert_eq!(endpoints.iam.url, "https://iam.amazonaws.com");
        assert_eq!(endpoints.iam.signing_region, "us-east-1");
        assert_eq!(endpoints.ec2.url, "https://ec2.eu-west-3.amazonaws.com");
        assert_eq!(endpoints.sts.url, "https://sts.eu-west-3.amazonaws.com");
        assert_eq!(endpoints.sts.signing_region, "eu-west-3");

        let china = Endpoints::for_region("cn-northwest-1", |_| None, None);
        assert_eq!(china.iam.url, "https://iam.cn-north-1.amazonaws.com.cn");
        assert_eq!(china.iam.signing_region, "cn-north-1");
        assert_eq!(china.ec2.url, "https://ec2.cn-northwest-1.amazonaws.com.cn");

        let gov = Endpoints::for_region("us-gov-east-1", |_| None, None);
        assert_eq!(gov.iam.url, "https://iam.us-gov.amazonaws.com");
        assert_eq!(gov.iam.signing_region, "us-gov-west-1");
    }

    #[test]
    fn a_configured_endpoint_replaces_only_its_service() {
        let endpoints = Endpoints::for_region(
            "eu-west-1",
            |service| (service == Service::Iam).then(|| "http://127.0.0.1:5000/".to_string()),
            None,
        );
        assert_eq!(endpoints.iam.url, "http://127.0.0.1:5000");
        assert_eq!(endpoints.iam.signing_region, "eu-west-1");
        assert_eq!(endpoints.ec2.url, "https://ec2.eu-west-1.amazonaws.com");
    }

    #[test]
    fn buckets_are_hosts_on_aws_and_paths_on_a_configured_endpoint() {
        let aws = Endpoints::for_region("eu-west-1", |_| None, None).s3;
        assert_eq!(
            aws.object_url("locks", "rolecall/123.lock"),
            "https://locks.s3.eu-west-1.amazonaws.com/rolecall/123.lock"
        );
        // A dotted bucket would not match S3's wildcard certificate.
        assert_eq!(
            aws.object_url("my.locks", "k"),
            "https://s3.eu-west-1.amazonaws.com/my.locks/k"
        );
        let china = Endpoints::for_region("cn-north-1", |_| None, None).s3;
        assert_eq!(
            china.object_url("locks", "k"),
            "https://locks.s3.cn-north-1.amazonaws.com.cn/k"
        );
        let moto =
            Endpoints::for_region("eu-west-1", |_| None, Some("http://127.0.0.1:5000/".into())).s3;
        assert_eq!(
            moto.object_url("locks", "k"),
            "http://127.0.0.1:5000/locks/k"
        );
        assert_eq!(moto.endpoint.signing_region, "eu-west-1");
    }
}
