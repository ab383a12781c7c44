//! IAM's input rules and the exact messages AWS answers with when one is broken.
//!
//! Constraint violations (length, pattern, range) are `ValidationError` in
//! AWS's "1 validation error detected" form; document and tag problems have
//! their own codes. Every function returns the first problem, as AWS does.

use std::collections::HashSet;

use super::{OpResult, reject};
use rolecall_cloud::ErrorCode;
use rolecall_cloud::iam::{Page, Tag};
use rolecall_model::PolicyDocument;

pub const NAME_PATTERN: &str = r"[\w+=,.@-]+";
pub const PATH_PATTERN: &str = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)";
pub const TAG_KEY_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+";
pub const TAG_VALUE_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";
pub const DOCUMENT_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u00FF]+";
pub const DESCRIPTION_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*";

pub const POLICY_PATH_PATTERN: &str = r"((/[A-Za-z0-9\.,\+@=_-]+)*)/";
pub const VERSION_ID_PATTERN: &str = r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?";

pub use rolecall_model::limits::{
    MAX_INLINE_SIZE, MAX_MANAGED_POLICIES, MAX_MANAGED_POLICY_SIZE, MAX_POLICY_VERSIONS, MAX_TAGS,
    MAX_TRUST_SIZE, SESSION_DURATION,
};

fn constraint<T>(value: &str, param: &str, constraint: &str) -> OpResult<T> {
    reject(
        ErrorCode::ValidationError,
        format!(
            "1 validation error detected: Value '{value}' at '{param}' failed to satisfy constraint: {constraint}"
        ),
    )
}

fn length(value: &str, param: &str, min: usize, max: usize) -> OpResult<()> {
    let len = value.chars().count();
    if len < min {
        return constraint(
            value,
            param,
            &format!("Member must have length greater than or equal to {min}"),
        );
    }
    if len > max {
        return constraint(
            value,
            param,
            &format!("Member must have length less than or equal to {max}"),
        );
    }
    Ok(())
}

fn pattern(value: &str, param: &str, pattern: &str, ok: impl Fn(char) -> bool) -> OpResult<()> {
    if value.chars().all(ok) {
        Ok(())
    } else {
        constraint(
            value,
            param,
            &format!("Member must satisfy regular expression pattern: {pattern}"),
        )
    }
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// RoleName: 1..=64 of `[\w+=,.@-]`.
pub fn role_name(name: &str) -> OpResult<()> {
    length(name, "roleName", 1, 64)?;
    pattern(name, "roleName", NAME_PATTERN, name_char)
}

/// InstanceProfileName: 1..=128 of `[\w+=,.@-]`.
pub fn instance_profile_name(name: &str) -> OpResult<()> {
    length(name, "instanceProfileName", 1, 128)?;
    pattern(name, "instanceProfileName", NAME_PATTERN, name_char)
}

/// PolicyName of an inline policy: 1..=128 of `[\w+=,.@-]`.
pub fn policy_name(name: &str) -> OpResult<()> {
    length(name, "policyName", 1, 128)?;
    pattern(name, "policyName", NAME_PATTERN, name_char)
}

/// A customer-managed policy's path (`policyPathType`): `/`, or segments
/// of `[A-Za-z0-9.,+@=_-]` each after a `/`, ending in `/`; 1..=512.
/// Narrower than a role's path: no `*`, `!`, `~`...
pub fn policy_path(path: &str, param: &str) -> OpResult<()> {
    length(path, param, 1, 512)?;
    let segment_char = |c: char| c.is_ascii_alphanumeric() || ".,+@=_-".contains(c);
    let well_formed = path == "/"
        || path
            .strip_prefix('/')
            .and_then(|inner| inner.strip_suffix('/'))
            .is_some_and(|inner| {
                inner
                    .split('/')
                    .all(|segment| !segment.is_empty() && segment.chars().all(segment_char))
            });
    if well_formed {
        Ok(())
    } else {
        constraint(
            path,
            param,
            &format!("Member must satisfy regular expression pattern: {POLICY_PATH_PATTERN}"),
        )
    }
}

/// A customer-managed policy's description: at most 1,000 characters, of
/// any kind (`policyDescriptionType` has no pattern, unlike a role's).
pub fn policy_description(text: &str) -> OpResult<()> {
    length(text, "description", 0, 1000)
}

/// A policy version id (`v3`), as `policyVersionIdType` allows it.
pub fn version_id(id: &str) -> OpResult<()> {
    let well_formed = id.strip_prefix('v').is_some_and(|rest| {
        let (number, suffix) = rest.split_once('.').unwrap_or((rest, ""));
        number.starts_with(|c: char| ('1'..='9').contains(&c))
            && number.chars().all(|c| c.is_ascii_digit())
            && suffix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if well_formed {
        Ok(())
    } else {
        constraint(
            id,
            "versionId",
            &format!("Member must satisfy regular expression pattern: {VERSION_ID_PATTERN}"),
        )
    }
}

/// A value of an enumerated parameter (`Scope`, `EntityFilter`).
pub fn one_of(value: &str, param: &str, allowed: &[&str]) -> OpResult<()> {
    if allowed.contains(&value) {
        return Ok(());
    }
    constraint(
        value,
        param,
        &format!(
            "Member must satisfy enum value set: [{}]",
            allowed.join(", ")
        ),
    )
}

/// Path: `/` or `/…/` of printable ASCII, 1..=512.
pub fn path(path: &str) -> OpResult<()> {
    path_named(path, "path")
}

/// A path (`pathType`) given as the parameter `param` (`pathPrefix`).
pub fn path_named(path: &str, param: &str) -> OpResult<()> {
    length(path, param, 1, 512)?;
    let well_formed = path == "/"
        || (path.len() >= 3
            && path.starts_with('/')
            && path.ends_with('/')
            && path.chars().all(|c| ('\u{21}'..='\u{7E}').contains(&c)));
    if well_formed {
        Ok(())
    } else {
        constraint(
            path,
            param,
            &format!("Member must satisfy regular expression pattern: {PATH_PATTERN}"),
        )
    }
}

pub fn description(text: &str) -> OpResult<()> {
    length(text, "description", 0, 1000)?;
    pattern(
        text,
        "description",
        DESCRIPTION_PATTERN,
        |c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A1}'..='\u{FF}'),
    )
}

pub fn max_session_duration(seconds: u32) -> OpResult<()> {
    let text = seconds.to_string();
    let (min, max) = (*SESSION_DURATION.start(), *SESSION_DURATION.end());
    if seconds < min {
        return constraint(
            &text,
            "maxSessionDuration",
            &format!("Member must have value greater than or equal to {min}"),
        );
    }
    if seconds > max {
        return constraint(
            &text,
            "maxSessionDuration",
            &format!("Member must have value less than or equal to {max}"),
        );
    }
    Ok(())
}

/// A policy document as stored: the text as given and its canonical JSON.
pub struct Document {
    pub text: String,
    pub canonical: String,
    /// Characters as AWS's size quotas count them (whitespace not counted).
    pub size: usize,
    pub parsed: PolicyDocument,
}

/// Checks a trust (`trust = true`) or permissions policy document.
pub fn document(text: &str, param: &str, trust: bool) -> OpResult<Document> {
    length(text, param, 1, 131072)?;
    pattern(text, param, DOCUMENT_PATTERN, |c| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FF}')
    })?;
    let Ok(parsed) = PolicyDocument::parse(text) else {
        return reject(
            ErrorCode::MalformedPolicyDocument,
            "This policy contains invalid Json",
        );
    };
    if let Some(problem) = parsed.iam_grammar_problem(trust) {
        return reject(ErrorCode::MalformedPolicyDocument, problem.aws_message);
    }
    Ok(Document {
        text: stored_text(text),
        canonical: parsed.to_json(),
        size: quota_size(text),
        parsed,
    })
}

/// Checks a customer-managed policy's document (CreatePolicy,
/// CreatePolicyVersion): a permissions policy that states `Version`
/// 2012-10-17, at most [`MAX_MANAGED_POLICY_SIZE`] characters without
/// whitespace (LimitExceeded `Cannot exceed quota for PolicySize: 6144`).
pub fn managed_document(text: &str) -> OpResult<Document> {
    length(text, "policyDocument", 1, 131072)?;
    pattern(text, "policyDocument", DOCUMENT_PATTERN, |c| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FF}')
    })?;
    let Ok(parsed) = PolicyDocument::parse(text) else {
        return reject(
            ErrorCode::MalformedPolicyDocument,
            "This policy contains invalid Json",
        );
    };
    if let Some(problem) = parsed.managed_grammar_problem() {
        return reject(ErrorCode::MalformedPolicyDocument, problem.aws_message);
    }
    let size = quota_size(text);
    if size > MAX_MANAGED_POLICY_SIZE {
        return reject(
            ErrorCode::LimitExceeded,
            format!("Cannot exceed quota for PolicySize: {MAX_MANAGED_POLICY_SIZE}"),
        );
    }
    Ok(Document {
        text: stored_text(text),
        canonical: parsed.to_json(),
        size,
        parsed,
    })
}

/// A document as it is stored: JSON text. One sent URL-encoded (as Get
/// returns them) is kept decoded, so that Get encodes it once, not twice.
fn stored_text(text: &str) -> String {
    if is_url_encoded(text) {
        percent_encoding::percent_decode_str(text)
            .decode_utf8_lossy()
            .into_owned()
    } else {
        text.to_string()
    }
}

/// Whether a document is sent URL-encoded rather than as JSON text (which
/// starts with `{`), as `PolicyDocument::parse` tells them apart.
fn is_url_encoded(text: &str) -> bool {
    let start = text.trim_start();
    !(start.starts_with('{') || start.is_empty())
}

/// Size of a document as given (URL-decoded), whitespace not counted.
fn quota_size(text: &str) -> usize {
    let decoded = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
    let source = if is_url_encoded(text) { &decoded } else { text };
    source.chars().filter(|c| !c.is_whitespace()).count()
}

/// A managed-policy ARN (`PolicyArn`, `PermissionsBoundary`).
pub fn policy_arn(arn: &str, param: &str) -> OpResult<()> {
    length(arn, param, 20, 2048)?;
    // IAM's, in the account's partition: another partition's is invalid.
    let well_formed = rolecall_model::Arn::parse(arn).is_some_and(|arn| {
        let owner = arn.account.as_str();
        arn.partition == super::ids::PARTITION
            && arn.service == "iam"
            && arn.region.is_empty()
            && (owner == "aws" || rolecall_model::is_account_id(owner))
            && arn
                .resource
                .strip_prefix("policy/")
                .is_some_and(|name| !name.is_empty() && !name.ends_with('/'))
    });
    if well_formed {
        Ok(())
    } else {
        reject(ErrorCode::InvalidInput, format!("ARN {arn} is not valid."))
    }
}

/// How a resource compares tag keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyCase {
    /// Roles: `Env` and `env` are one key.
    Insensitive,
    /// Instance profiles and EC2: `Env` and `env` are two keys.
    Sensitive,
}

impl KeyCase {
    /// The key as the resource compares it.
    pub fn fold(self, key: &str) -> String {
        match self {
            KeyCase::Insensitive => key.to_lowercase(),
            KeyCase::Sensitive => key.to_string(),
        }
    }
}

fn tag_char(c: char) -> bool {
    c.is_alphabetic()
        || c.is_numeric()
        || (c.is_whitespace() && !c.is_control())
        || "_.:/=+-@".contains(c)
}

fn tag_key(key: &str, param: &str) -> OpResult<()> {
    length(key, param, 1, 128)?;
    pattern(key, param, TAG_KEY_PATTERN, tag_char)?;
    if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")) {
        // AWS reserves the prefix; IAM's exact text is unconfirmed.
        return reject(
            ErrorCode::InvalidInput,
            "User-defined tag keys can't start with 'aws:'.",
        );
    }
    Ok(())
}

/// Checks the tags of one IAM request (CreateRole, TagRole, …).
pub fn tags(tags: &[Tag], case: KeyCase) -> OpResult<()> {
    checked_tags(
        tags,
        case,
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
    )
}

/// Checks the tags of a customer-managed policy (CreatePolicy, TagPolicy):
/// their keys are case-sensitive (`A` and `a` are two tags), and a key
/// twice in one request is answered without the note on case roles get
/// (localstack's recordings of IAM, docs/aws-semantics.md §16).
pub fn policy_tags(tags: &[Tag]) -> OpResult<()> {
    checked_tags(tags, KeyCase::Sensitive, "Duplicate tag keys found.")
}

fn checked_tags(tags: &[Tag], case: KeyCase, duplicate: &str) -> OpResult<()> {
    if tags.len() > MAX_TAGS {
        return constraint(
            &format!("{} tags", tags.len()),
            "tags",
            &format!("Member must have length less than or equal to {MAX_TAGS}"),
        );
    }
    let mut seen = HashSet::new();
    for (i, tag) in tags.iter().enumerate() {
        let n = i + 1;
        tag_key(&tag.key, &format!("tags.{n}.member.key"))?;
        let param = format!("tags.{n}.member.value");
        length(&tag.value, &param, 0, 256)?;
        pattern(&tag.value, &param, TAG_VALUE_PATTERN, tag_char)?;
        if !seen.insert(case.fold(&tag.key)) {
            return reject(ErrorCode::InvalidInput, duplicate);
        }
    }
    Ok(())
}

/// Checks the keys of one Untag request.
pub fn tag_keys(keys: &[String]) -> OpResult<()> {
    if keys.len() > MAX_TAGS {
        return constraint(
            &format!("{} keys", keys.len()),
            "tagKeys",
            &format!("Member must have length less than or equal to {MAX_TAGS}"),
        );
    }
    for (i, key) in keys.iter().enumerate() {
        let param = format!("tagKeys.{}.member", i + 1);
        length(key, &param, 1, 128)?;
        pattern(key, &param, TAG_KEY_PATTERN, tag_char)?;
    }
    Ok(())
}

/// Checks Marker/MaxItems and returns the page size (default 100).
pub fn page(page: &Page) -> OpResult<usize> {
    if let Some(marker) = &page.marker {
        length(marker, "marker", 1, 320)?;
    }
    match page.max_items {
        None => Ok(100),
        Some(n @ 1..=1000) => Ok(n as usize),
        Some(n) if n < 1 => constraint(
            &n.to_string(),
            "maxItems",
            "Member must have value greater than or equal to 1",
        ),
        Some(n) => constraint(
            &n.to_string(),
            "maxItems",
            "Member must have value less than or equal to 1000",
        ),
    }
}

/// One page of `items` (sorted by `key`): those after the marker, at most `max`.
/// The marker handed out is the key of the last item returned.
pub fn paginate<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> &str,
    marker: Option<&str>,
    max: usize,
) -> (Vec<T>, bool, Option<String>) {
    let mut page: Vec<T> = items
        .into_iter()
        .filter(|item| marker.is_none_or(|m| key(item) > m))
        .take(max + 1)
        .collect();
    let truncated = page.len() > max;
    page.truncate(max);
    let next = if truncated {
        page.last().map(|item| key(item).to_string())
    } else {
        None
    };
    (page, truncated, next)
}

// -- STS ----------------------------------------------------------------------

/// AssumeRole's RoleSessionName: 2..=64 of `[\w+=,.@-]`.
pub fn role_session_name(name: &str) -> OpResult<()> {
    length(name, "roleSessionName", 2, 64)?;
    pattern(name, "roleSessionName", r"[\w+=,.@-]*", name_char)
}

/// AssumeRole's RoleArn: 20..=2048 characters (what it names is checked
/// against the account, with AccessDenied, as STS does).
pub fn role_arn(arn: &str) -> OpResult<()> {
    length(arn, "roleArn", 20, 2048)
}

/// AssumeRole's DurationSeconds: 900..=43200 (the role's maximum is checked
/// after the trust policy, as STS does).
pub fn duration_seconds(seconds: u32) -> OpResult<()> {
    let text = seconds.to_string();
    if seconds < 900 {
        return constraint(
            &text,
            "durationSeconds",
            "Member must have value greater than or equal to 900",
        );
    }
    if seconds > 43_200 {
        return constraint(
            &text,
            "durationSeconds",
            "Member must have value less than or equal to 43200",
        );
    }
    Ok(())
}
