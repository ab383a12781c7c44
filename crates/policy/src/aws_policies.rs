//! Which AWS-managed policies exist, which of them a customer role may hold,
//! and what each grants: one bundled file (`aws_managed_policies.jsonl`: the
//! path, name, default version and document of each) that the manifest
//! checks, the emulated account and the policy engine all read.
//!
//! The names are indexed once, without parsing the JSON (`plan` and
//! `validate` only ask whether an ARN exists); a document is parsed only
//! when asked for.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use crate::PolicyDocument;

/// One AWS-managed policy a line, as minified JSON beginning
/// `{"path":"/","name":"NAME","version":"vN","document":`, after `#` comment
/// lines that say where the data comes from and its date (rebuilt by
/// `scripts/aws-managed-policies.py`, sorted by path and name).
const LIST: &str = include_str!("aws_managed_policies.jsonl");

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

/// One line of the list, its JSON not yet parsed.
struct Entry {
    /// `/` or `/service-role/`, ...: starts and ends with `/`.
    path: &'static str,
    name: &'static str,
    /// The default version's id (`v3`).
    version: &'static str,
    line: &'static str,
}

impl Entry {
    /// Reads the leading fields the generator writes first. IAM's grammar
    /// for paths and names has no `"` or `\`, so no unescaping is needed.
    fn read(line: &'static str) -> Option<Entry> {
        let rest = line.strip_prefix(r#"{"path":""#)?;
        let (path, rest) = rest.split_once('"')?;
        let rest = rest.strip_prefix(r#","name":""#)?;
        let (name, rest) = rest.split_once('"')?;
        let rest = rest.strip_prefix(r#","version":""#)?;
        let (version, rest) = rest.split_once('"')?;
        rest.starts_with(r#","document":"#).then_some(Entry {
            path,
            name,
            version,
            line,
        })
    }
}

/// The entries in list order, and where each is by `/path/Name`.
struct Index {
    entries: Vec<Entry>,
    by_path_and_name: HashMap<String, usize>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let entries: Vec<Entry> = data_lines().filter_map(Entry::read).collect();
        let by_path_and_name = entries
            .iter()
            .enumerate()
            .map(|(i, entry)| (format!("{}{}", entry.path, entry.name), i))
            .collect();
        Index {
            entries,
            by_path_and_name,
        }
    })
}

fn data_lines() -> impl Iterator<Item = &'static str> {
    LIST.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

/// The list's entry for an `arn:aws:iam::aws:policy/...` ARN, if any.
fn entry(arn: &str) -> Option<&'static Entry> {
    let path_and_name = arn.strip_prefix(AWS_POLICY_PREFIX)?;
    let index = index();
    index
        .by_path_and_name
        .get(path_and_name)
        .and_then(|&i| index.entries.get(i))
}

/// What an `arn:aws:iam::aws:policy/...` ARN names; `None` for any other ARN
/// (customer-managed policies, other partitions), which the list cannot judge.
pub fn aws_policy(arn: &str) -> Option<AwsPolicy> {
    let path_and_name = arn.strip_prefix(AWS_POLICY_PREFIX)?;
    if !path_and_name.starts_with('/') {
        return None;
    }
    Some(match entry(arn) {
        None => AwsPolicy::Unknown,
        Some(entry) if entry.path.starts_with(SERVICE_ROLE_PATH) => AwsPolicy::ServiceRole,
        Some(_) => AwsPolicy::Attachable,
    })
}

/// The name of every AWS-managed policy, in the list's order (by path, then
/// name). Names are not unique across paths: the ARN is.
pub fn aws_policy_names() -> impl Iterator<Item = &'static str> {
    index().entries.iter().map(|entry| entry.name)
}

/// The ARN of every AWS-managed policy (`arn:aws:iam::aws:policy/PATH/NAME`),
/// in the list's order.
pub fn aws_policy_arns() -> impl Iterator<Item = String> {
    index()
        .entries
        .iter()
        .map(|entry| format!("{AWS_POLICY_PREFIX}{}{}", entry.path, entry.name))
}

/// The id of an AWS-managed policy's default version (`v3`), as GetPolicy
/// reports it; `None` when the ARN names no AWS-managed policy.
pub fn aws_policy_version(arn: &str) -> Option<&'static str> {
    entry(arn).map(|entry| entry.version)
}

/// The document of an AWS-managed policy's default version, in canonical
/// form; `None` when the ARN names no AWS-managed policy. Parsed on each
/// call (the largest, ReadOnlyAccess, is some 100 KB): callers that need
/// one document many times keep it (a `PolicyDocument` is cheap to clone).
pub fn aws_policy_document(arn: &str) -> Option<PolicyDocument> {
    #[derive(Deserialize)]
    struct Line {
        document: Value,
    }
    let line: Line = serde_json::from_str(entry(arn)?.line).ok()?;
    Some(PolicyDocument::from_value(line.document))
}

/// The known AWS-managed policy ARN a mistyped one most likely meant: the
/// same name under another path or in another case, else the closest name.
/// Called for errors only: it scans the whole list.
pub fn closest(arn: &str) -> Option<String> {
    let path_and_name = arn.strip_prefix(AWS_POLICY_PREFIX)?;
    let name = path_and_name.rsplit('/').next()?.to_lowercase();
    let entries = &index().entries;
    static BY_NAME: OnceLock<HashMap<String, usize>> = OnceLock::new();
    let by_name = BY_NAME.get_or_init(|| {
        // Names shared by two paths keep the first entry in list order.
        let mut by_name = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            by_name.entry(entry.name.to_lowercase()).or_insert(i);
        }
        by_name
    });
    let found = by_name.get(&name).copied().or_else(|| {
        by_name
            .iter()
            .map(|(known, &i)| (strsim::jaro_winkler(&name, known), i))
            .filter(|(score, _)| *score >= 0.9)
            // Ties go to the first entry in list order, so the answer is stable.
            .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(&a.1)))
            .map(|(_, i)| i)
    })?;
    let entry = entries.get(found)?;
    Some(format!("{AWS_POLICY_PREFIX}{}{}", entry.path, entry.name))
}

/// The date of the list (from its header: the newest UpdateDate among the
/// policies), for messages about a policy AWS may have added since.
pub fn list_date() -> &'static str {
    LIST.lines()
        .take_while(|line| line.starts_with('#'))
        .find_map(|line| {
            // `# As of DATE (...)`
            let rest = line.strip_prefix("# As of ")?;
            Some(rest.split_once(' ').map_or(rest, |(date, _)| date))
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
        // Every data line is indexed: a line the fast reader skipped would be
        // a policy rolecall wrongly calls unknown.
        assert_eq!(index().entries.len(), data_lines().count());
        assert_eq!(
            index().by_path_and_name.len(),
            index().entries.len(),
            "one entry per ARN"
        );
        for entry in &index().entries {
            assert!(entry.path.starts_with('/'), "{}", entry.line);
            assert!(entry.path.ends_with('/'), "{}", entry.line);
            assert!(!entry.name.is_empty(), "{}", entry.line);
            assert!(!entry.name.contains(['/', ' ']), "{}", entry.line);
            assert!(entry.version.starts_with('v'), "{}", entry.line);
        }
        assert!(
            index().entries.len() > 1000,
            "{} policies",
            index().entries.len()
        );
        assert!(list_date().len() == 10, "{}", list_date());
    }

    #[test]
    fn every_policy_has_a_document_that_parses_and_reads_the_same() {
        #[derive(Deserialize)]
        struct Full {
            path: String,
            name: String,
            version: String,
            document: Value,
        }
        for entry in &index().entries {
            let full: Full = serde_json::from_str(entry.line).expect(entry.line);
            // The fast reader and a JSON parser agree on every line.
            assert_eq!(
                (
                    full.path.as_str(),
                    full.name.as_str(),
                    full.version.as_str()
                ),
                (entry.path, entry.name, entry.version)
            );
            assert!(full.document.is_object(), "{}", entry.name);
            let arn = format!("{AWS_POLICY_PREFIX}{}{}", entry.path, entry.name);
            let document = aws_policy_document(&arn).expect(&arn);
            assert!(
                crate::statements(&document.tree()).next().is_some(),
                "{arn}: no statement"
            );
            assert_eq!(document.iam_grammar_problem(false), None, "{arn}");
        }
    }

    #[test]
    fn read_only_access_has_a_document_with_an_allow() {
        let arn = "arn:aws:iam::aws:policy/ReadOnlyAccess";
        let document = aws_policy_document(arn).expect("ReadOnlyAccess");
        assert!(
            crate::statements(&document.tree())
                .any(|s| s.get("Effect").and_then(Value::as_str) == Some("Allow"))
        );
        assert!(aws_policy_version(arn).is_some_and(|v| v.starts_with('v')));
        let admin = aws_policy_document("arn:aws:iam::aws:policy/AdministratorAccess")
            .expect("AdministratorAccess");
        assert_eq!(
            admin,
            PolicyDocument::from_value(serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
            }))
        );
    }

    #[test]
    fn unknown_arns_have_no_document_or_version() {
        assert_eq!(
            aws_policy_document("arn:aws:iam::aws:policy/DoesNotExist"),
            None
        );
        assert_eq!(
            aws_policy_document("arn:aws:iam::123456789012:policy/Mine"),
            None
        );
        assert_eq!(
            aws_policy_document("arn:aws:iam::aws:policyReadOnlyAccess"),
            None
        );
        assert_eq!(
            aws_policy_version("arn:aws:iam::aws:policy/DoesNotExist"),
            None
        );
    }

    #[test]
    fn names_come_in_list_order_one_per_policy() {
        let names: Vec<&str> = aws_policy_names().collect();
        assert_eq!(names.len(), data_lines().count());
        assert!(names.contains(&"ReadOnlyAccess"));
        assert!(names.contains(&"AmazonEC2RoleforSSM"));
        assert!(!names.iter().any(|name| name.contains('/')));
    }
}
