//! Amazon Resource Names, as AWS writes them:
//! `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
//!
//! An account lives in one partition (`aws`, `aws-cn`, `aws-us-gov`), and
//! every ARN it hands out names it, so nothing that builds or reads an ARN
//! may assume `aws`: whether an ARN is the account's own is its partition
//! *and* its account (see [`Arn::is_of`]).

use std::fmt;
use std::str::FromStr;

/// The partitions rolecall knows: AWS's commercial regions, China and GovCloud.
pub const PARTITIONS: &[&str] = &["aws", "aws-cn", "aws-us-gov"];

/// The partition of an account that says nothing else (every emulated
/// account; the commercial regions).
pub const DEFAULT_PARTITION: &str = "aws";

/// Whether `text` is an AWS account id: 12 digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `partition` is one of [`PARTITIONS`].
pub fn is_known_partition(partition: &str) -> bool {
    PARTITIONS.contains(&partition)
}

/// An ARN split into its six fields. Parsing only splits (at the first five
/// colons: a resource may hold colons); what a field must hold is the
/// caller's rule (an IAM ARN has no region, a policy's account may be `aws`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    /// Empty for global services (IAM, STS's global endpoint).
    pub region: String,
    /// Empty for some services; `aws` for AWS-managed policies.
    pub account: String,
    /// `role/PATH/NAME`, `instance-profile/NAME`, `policy/NAME`, `root`...
    pub resource: String,
}

/// The five fields after `arn:` (partition, service, region, account,
/// resource), borrowed; `None` unless `text` starts with `arn:` and has all
/// six. The resource keeps any further colons. Checks that read every
/// principal or policy ARN match on this without allocating.
pub fn fields(text: &str) -> Option<[&str; 5]> {
    let mut fields = text.splitn(6, ':');
    if fields.next()? != "arn" {
        return None;
    }
    Some([
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    ])
}

impl Arn {
    /// `arn:P:S:R:A:RESOURCE`; `None` unless it starts with `arn:` and has
    /// all six fields.
    pub fn parse(text: &str) -> Option<Arn> {
        let [partition, service, region, account, resource] = fields(text)?;
        Some(Arn {
            partition: partition.to_string(),
            service: service.to_string(),
            region: region.to_string(),
            account: account.to_string(),
            resource: resource.to_string(),
        })
    }

    /// An IAM ARN (IAM is global: no region).
    pub fn iam(partition: &str, account: &str, resource: impl Into<String>) -> Arn {
        Arn {
            partition: partition.to_string(),
            service: "iam".to_string(),
            region: String::new(),
            account: account.to_string(),
            resource: resource.into(),
        }
    }

    /// The account itself as a principal: `arn:P:iam::ACCOUNT:root`.
    pub fn root(partition: &str, account: &str) -> Arn {
        Arn::iam(partition, account, "root")
    }

    /// Whether this ARN names something of the account `account` in
    /// `partition`; a `None` partition (unknown) accepts any.
    pub fn is_of(&self, partition: Option<&str>, account: &str) -> bool {
        self.account == account && partition.is_none_or(|p| p == self.partition)
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:{}:{}:{}:{}",
            self.partition, self.service, self.region, self.account, self.resource
        )
    }
}

impl FromStr for Arn {
    type Err = String;

    fn from_str(text: &str) -> Result<Arn, String> {
        Arn::parse(text).ok_or_else(|| format!("{text} is not an ARN"))
    }
}

/// The ARN of an IAM entity with a path, as IAM builds it:
/// `arn:P:iam::ACCOUNT:KIND/PATH/NAME` (the path is `/` or `/a/b/`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PathArn<'a> {
    partition: &'a str,
    account: &'a str,
    path: String,
    name: &'a str,
}

impl<'a> PathArn<'a> {
    fn parse(arn: &'a str, kind: &str) -> Option<PathArn<'a>> {
        // Borrowed fields (no allocation but the path): these are read
        // for every principal of every trust policy a plan looks at.
        let [partition, "iam", "", account, resource] = fields(arn)? else {
            return None;
        };
        let path_and_name = resource.strip_prefix(kind)?.strip_prefix('/')?;
        let (path, name) = match path_and_name.rsplit_once('/') {
            Some((path, name)) => (format!("/{path}/"), name),
            None => ("/".to_string(), path_and_name),
        };
        Some(PathArn {
            partition,
            account,
            path,
            name,
        })
    }

    fn write(&self, kind: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:iam::{}:{kind}{}{}",
            self.partition, self.account, self.path, self.name
        )
    }
}

macro_rules! path_arn {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name<'a> {
            pub partition: &'a str,
            pub account: &'a str,
            /// `/`, or `/a/b/`.
            pub path: String,
            pub name: &'a str,
        }

        impl<'a> $name<'a> {
            /// The ARN IAM gives the entity `name` under `path` (`/` or `/a/b/`).
            pub fn new(partition: &'a str, account: &'a str, path: &str, name: &'a str) -> Self {
                $name {
                    partition,
                    account,
                    path: path.to_string(),
                    name,
                }
            }

            /// Its parts, if `arn` is one of these in any partition.
            pub fn parse(arn: &'a str) -> Option<Self> {
                PathArn::parse(arn, $kind).map(|p| $name {
                    partition: p.partition,
                    account: p.account,
                    path: p.path,
                    name: p.name,
                })
            }

            /// Whether it is of the account `account` in `partition` (see [`Arn::is_of`]).
            pub fn is_of(&self, partition: Option<&str>, account: &str) -> bool {
                self.account == account && partition.is_none_or(|p| p == self.partition)
            }
        }

        impl fmt::Display for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                PathArn {
                    partition: self.partition,
                    account: self.account,
                    path: self.path.clone(),
                    name: self.name,
                }
                .write($kind, f)
            }
        }
    };
}

path_arn!(
    /// A role's ARN: `arn:P:iam::ACCOUNT:role/PATH/NAME`.
    RoleArn,
    "role"
);
path_arn!(
    /// An instance profile's ARN: `arn:P:iam::ACCOUNT:instance-profile/PATH/NAME`.
    ProfileArn,
    "instance-profile"
);
path_arn!(
    /// A managed policy's ARN: `arn:P:iam::ACCOUNT:policy/PATH/NAME`
    /// (`aws` for the account of an AWS-managed one).
    PolicyArn,
    "policy"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arn_is_read_and_written_as_aws_writes_it() {
        for text in [
            "arn:aws:iam::123456789012:role/a/b/web",
            "arn:aws-cn:iam::aws:policy/ReadOnlyAccess",
            "arn:aws-us-gov:sts::123456789012:assumed-role/web/i-0abc",
            "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc",
            // A resource may hold colons.
            "arn:aws:logs:eu-west-1:123456789012:log-group:web:*",
        ] {
            let arn = Arn::parse(text).unwrap();
            assert_eq!(arn.to_string(), text);
            assert_eq!(text.parse::<Arn>().unwrap(), arn);
        }
        let arn = Arn::parse("arn:aws-cn:iam::123456789012:root").unwrap();
        assert_eq!(arn.partition, "aws-cn");
        assert_eq!(arn.service, "iam");
        assert_eq!(arn.region, "");
        assert_eq!(arn.account, "123456789012");
        assert_eq!(arn.resource, "root");
        assert_eq!(arn, Arn::root("aws-cn", "123456789012"));
        assert!(arn.is_of(Some("aws-cn"), "123456789012"));
        assert!(arn.is_of(None, "123456789012"));
        assert!(!arn.is_of(Some("aws"), "123456789012"));
        assert_eq!(Arn::parse("arn:aws:iam::123456789012"), None);
        assert_eq!(Arn::parse("urn:aws:iam::1:root"), None);
    }

    #[test]
    fn role_and_profile_arns_carry_partition_path_and_name() {
        let role = RoleArn::new("aws", "1", "/a/b/", "r");
        assert_eq!(role.to_string(), "arn:aws:iam::1:role/a/b/r");
        assert_eq!(RoleArn::parse("arn:aws:iam::1:role/a/b/r"), Some(role));
        let role = RoleArn::parse("arn:aws-us-gov:iam::1:role/r").unwrap();
        assert_eq!(
            (role.partition, role.account, role.path.as_str(), role.name),
            ("aws-us-gov", "1", "/", "r")
        );
        assert_eq!(RoleArn::parse("arn:aws:iam::1:roles/r"), None);
        assert_eq!(RoleArn::parse("arn:aws:iam::1:user/r"), None);
        assert_eq!(RoleArn::parse("arn:aws:sts::1:role/r"), None);
        let profile = ProfileArn::new("aws-cn", "123456789012", "/", "web");
        assert_eq!(
            profile.to_string(),
            "arn:aws-cn:iam::123456789012:instance-profile/web"
        );
        assert_eq!(ProfileArn::parse(&profile.to_string()).unwrap().name, "web");
        assert_eq!(
            ProfileArn::parse("arn:aws:iam::1:role/web"),
            None,
            "a role is no profile"
        );
        assert!(PARTITIONS.iter().all(|p| is_known_partition(p)));
        assert!(!is_known_partition("aws-mars"));
        assert!(is_account_id("123456789012") && !is_account_id("12345678901a"));
    }
}
