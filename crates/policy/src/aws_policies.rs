//! Which AWS-managed policies exist, and which of them a customer role may
//! hold: one bundled list (`aws_managed_policies.txt`, the path and name of
//! each) that both the manifest checks and the emulated account read.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// Path and name of every AWS-managed policy, one a line, after `#` comment
/// lines that say where the list comes from (rebuilt by
/// `scripts/aws-managed-policies.py`).
const LIST: &str = include_str!("aws_managed_policies.txt");

/// What every AWS-managed policy ARN starts with (before the path).
pub const AWS_POLICY_PREFIX: &str = "arn:aws:iam::aws:policy";

/// The path of the AWS-managed policies made for service-linked roles, which
/// IAM refuses to attach to any other role.
pub const SERVICE_ROLE_PATH: &str = "/aws-service-role/";

/// What IAM would make of an ARN in the AWS-managed namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsPolicy {
    /// Exists, and a role may hold it.
    Attachable,
    /// Exists, but only for service-linked roles (IAM: PolicyNotAttachable).
    ServiceRole,
    /// No AWS-managed policy has this ARN (IAM: NoSuchEntity).
    Unknown,
}

/// The list's entries (`/path/Name`).
fn policies() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| entries().collect())
}

fn entries() -> impl Iterator<Item = &'static str> {
    LIST.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// What an `arn:aws:iam::aws:policy/...` ARN names; `None` for any other ARN
/// (customer-managed policies, other partitions), which the list cannot judge.
pub fn aws_policy(arn: &str) -> Option<AwsPolicy> {
    let path_and_name = arn.strip_prefix(AWS_POLICY_PREFIX)?;
    if !path_and_name.starts_with('/') {
        return None;
    }
    Some(if !policies().contains(path_and_name) {
        AwsPolicy::Unknown
    } else if path_and_name.starts_with(SERVICE_ROLE_PATH) {
        AwsPolicy::ServiceRole
    } else {
        AwsPolicy::Attachable
    })
}

/// The known AWS-managed policy ARN a mistyped one most likely meant: the
/// same name under another path or in another case, else the closest name.
/// Called for errors only: it scans the whole list.
pub fn closest(arn: &str) -> Option<String> {
    let path_and_name = arn.strip_prefix(AWS_POLICY_PREFIX)?;
    let name = path_and_name.rsplit('/').next()?.to_lowercase();
    static BY_NAME: OnceLock<HashMap<String, &'static str>> = OnceLock::new();
    let by_name = BY_NAME.get_or_init(|| {
        entries()
            .map(|entry| (entry_name(entry).to_lowercase(), entry))
            .collect()
    });
    let found = by_name.get(&name).copied().or_else(|| {
        by_name
            .iter()
            .map(|(known, entry)| (strsim::jaro_winkler(&name, known), *entry))
            .filter(|(score, _)| *score >= 0.9)
            // Ties go to the first entry in list order, so the answer is stable.
            .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
            .map(|(_, entry)| entry)
    })?;
    Some(format!("{AWS_POLICY_PREFIX}{found}"))
}

fn entry_name(entry: &str) -> &str {
    entry.rsplit('/').next().unwrap_or(entry)
}

/// The date of the list's source (from its header), for messages about a
/// policy AWS may have added since.
pub fn list_date() -> &'static str {
    LIST.lines()
        .take_while(|line| line.starts_with('#'))
        .find_map(|line| {
            // `# commit HASH (DATE); ...`
            let (_, rest) = line.strip_prefix("# commit ")?.split_once(" (")?;
            let (date, _) = rest.split_once(')')?;
            Some(date)
        })
        .unwrap_or("an unknown date")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_aws_managed_arns_only() {
        assert_eq!(
            aws_policy("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
            Some(AwsPolicy::Attachable)
        );
        assert_eq!(
            aws_policy("arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM"),
            Some(AwsPolicy::Attachable)
        );
        assert_eq!(
            aws_policy("arn:aws:iam::aws:policy/aws-service-role/APIGatewayServiceRolePolicy"),
            Some(AwsPolicy::ServiceRole)
        );
        assert_eq!(
            aws_policy("arn:aws:iam::aws:policy/DoesNotExist"),
            Some(AwsPolicy::Unknown)
        );
        // The path is part of the ARN.
        assert_eq!(
            aws_policy("arn:aws:iam::aws:policy/AmazonEC2RoleforSSM"),
            Some(AwsPolicy::Unknown)
        );
        assert_eq!(aws_policy("arn:aws:iam::123456789012:policy/Mine"), None);
        assert_eq!(
            aws_policy("arn:aws-cn:iam::aws:policy/ReadOnlyAccess"),
            None
        );
    }

    #[test]
    fn suggests_the_policy_meant() {
        assert_eq!(
            closest("arn:aws:iam::aws:policy/AmazonEC2RoleforSSM").as_deref(),
            Some("arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM")
        );
        assert_eq!(
            closest("arn:aws:iam::aws:policy/amazons3readonlyaccess").as_deref(),
            Some("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        );
        assert_eq!(
            closest("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcess").as_deref(),
            Some("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        );
        assert_eq!(closest("arn:aws:iam::aws:policy/Zzzzqqq"), None);
    }

    #[test]
    fn the_list_is_well_formed_and_dated() {
        let mut count = 0;
        for entry in entries() {
            count += 1;
            assert!(entry.starts_with('/'), "{entry}");
            assert!(!entry.ends_with('/'), "{entry}");
            assert!(!entry.contains(char::is_whitespace), "{entry}");
        }
        assert!(count > 1000, "{count} policies");
        assert!(list_date().len() == 10, "{}", list_date());
    }
}
