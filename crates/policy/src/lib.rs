//! IAM policies: documents in canonical form (this file), ARNs with their
//! partition (`arn`), the AWS-managed policies and their documents
//! (`aws_policies`), the IAM action catalogue with access levels
//! (`actions`), and what a trust policy lets assume a role (`trust`).
//! It needs nothing of the resources, so the model depends on it and not
//! the other way round; evaluating policies is the `rolecall-evaluation`
//! crate's and linting them the engine's, above this one.
//!
//! Policy documents in canonical form.
//!
//! Two documents that mean the same compare equal: object keys are sorted,
//! `"a"` and `["a"]` are one value, the lists whose order carries no meaning
//! (`Action`, `Resource`, principals, condition values, statements) are sorted
//! and de-duplicated, whitespace and URL-encoding (as AWS returns documents)
//! are gone. Canonicalisation is idempotent: `canonical(canonical(x)) ==
//! canonical(x)`, which is what keeps plans free of perpetual diffs.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::arn::is_account_id;

pub mod actions;
pub mod arn;
pub mod aws_policies;
pub mod trust;

/// Statement keys whose value is a set of strings: order and duplicates do not matter,
/// and a single string means the same as a one-element list.
const SET_VALUED_STATEMENT_KEYS: &[&str] = &["Action", "NotAction", "Resource", "NotResource"];
const PRINCIPAL_KEYS: &[&str] = &["Principal", "NotPrincipal"];

/// RFC 3986 unreserved characters stay; everything else is percent-encoded,
/// as IAM does in GetRole / GetRolePolicy responses.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A policy document (trust or permissions) in canonical form. Shared, not
/// copied: a document read once is the same one in every role that holds it
/// (a large stack's roles mostly trust one service with one document).
#[derive(Clone)]
pub struct PolicyDocument(Arc<Canonical>);

/// A canonical document: its JSON tree, its compact JSON text, or both.
/// The text is what rolecall measures (validate), sends (plan's steps) and
/// hashes, made once however often it is asked for. A document held as
/// text only ([`PolicyDocument::into_text`]) parses its tree again
/// when a reader needs one: a manifest's permissions policies are read as
/// text from then on, and 100,000 of them held as trees were a tenth of a
/// large plan's memory.
struct Canonical {
    tree: Option<Value>,
    /// Shared with the requests that send it (a plan's CreateRole and
    /// PutRolePolicy): 100,000 roles' copies were 30 MB of a plan's peak.
    json: OnceLock<Arc<str>>,
    /// What the grammar rules found, for a document kept as text only,
    /// checked while its tree was at hand (see [`Rules`]).
    verdict: Option<(Rules, Option<Box<GrammarProblem>>)>,
}

/// The grammar a document is checked against: the manifests' rules for a
/// trust policy, a permissions (inline) policy, or a managed policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    Trust,
    Permissions,
    Managed,
}

impl Canonical {
    /// The tree's compact JSON (a document held as text has its text).
    fn write_text(&self) -> Arc<str> {
        self.tree
            .as_ref()
            .map_or_else(String::new, Value::to_string)
            .into()
    }
}

impl PartialEq for PolicyDocument {
    fn eq(&self, other: &Self) -> bool {
        if Arc::ptr_eq(&self.0, &other.0) {
            return true;
        }
        match (&self.0.tree, &other.0.tree) {
            (Some(mine), Some(theirs)) => mine == theirs,
            // One canonical text per canonical tree.
            _ => self.json_text() == other.json_text(),
        }
    }
}

impl Eq for PolicyDocument {}

/// What IAM's checks on the text of a document see ([`PolicyDocument::sent_text`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentText {
    /// Characters, whitespace not counted: [`PolicyDocument::quota_size`].
    pub quota_size: usize,
    /// [`PolicyDocument::character_iam_refuses`].
    pub refused_character: Option<char>,
}

/// Why a text is not a policy document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyParseError(pub String);

impl PolicyDocument {
    /// Canonicalises any JSON value (it may still fail [`PolicyDocument::grammar_problem`]).
    pub fn from_value(value: Value) -> Self {
        PolicyDocument(Arc::new(Canonical {
            tree: Some(canonical(value, Context::Document)),
            json: OnceLock::new(),
            verdict: None,
        }))
    }

    /// The same document held as its compact text alone: readers of the
    /// tree parse the text again.
    pub fn into_text(self) -> Self {
        self.held_as_text(None)
    }

    /// A document from the text [`PolicyDocument::to_json`] wrote for it
    /// (its canonical text, as an account file stores it), held as that
    /// text: not parsed, canonicalised and written again, which at 100,000
    /// stored policies was most of reading an emulated account. Any other
    /// text is [`PolicyDocument::parse`]d.
    pub fn from_canonical_text(text: &str) -> Self {
        PolicyDocument(Arc::new(Canonical {
            tree: None,
            json: OnceLock::from(Arc::<str>::from(text)),
            verdict: None,
        }))
    }

    /// Whether the document is held as its text alone (no tree).
    pub fn is_text_only(&self) -> bool {
        self.0.tree.is_none()
    }

    /// [`PolicyDocument::into_text`], with what `rules` find in it
    /// (checked now, on the tree this drops):
    /// [`PolicyDocument::grammar_problem`] and
    /// [`PolicyDocument::managed_grammar_problem`] answer from it.
    pub fn into_checked_text(self, rules: Rules) -> Self {
        let verdict = self.problem_under(rules);
        self.held_as_text(Some((rules, verdict.map(Box::new))))
    }

    fn held_as_text(self, verdict: Option<(Rules, Option<Box<GrammarProblem>>)>) -> Self {
        // Written once: a text not asked for yet goes straight into the
        // new document, not first into the one it replaces.
        let text = match self.0.json.get() {
            Some(text) => text.clone(),
            None => self.0.write_text(),
        };
        PolicyDocument(Arc::new(Canonical {
            tree: None,
            json: OnceLock::from(text),
            verdict,
        }))
    }

    /// Parses a JSON text, URL-encoded or not (AWS returns documents URL-encoded).
    pub fn parse(text: &str) -> Result<Self, PolicyParseError> {
        let trimmed = text.trim_start();
        let decoded;
        let json = if trimmed.starts_with('{') || trimmed.is_empty() {
            text
        } else {
            decoded = percent_decode_str(text)
                .decode_utf8()
                .map_err(|_| PolicyParseError("document is URL-encoded but not UTF-8".into()))?;
            &decoded
        };
        let value: Value = serde_json::from_str(json)
            .map_err(|e| PolicyParseError(format!("not valid JSON: {e}")))?;
        Ok(Self::from_value(value))
    }

    /// The trust policy that lets the given services (`ec2.amazonaws.com`, ...) assume a role.
    pub fn trusting_services<S: AsRef<str>>(services: &[S]) -> Self {
        let services: Vec<Value> = services
            .iter()
            .map(|s| Value::String(s.as_ref().to_string()))
            .collect();
        Self::from_value(serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": services},
                "Action": "sts:AssumeRole"
            }]
        }))
    }

    /// The document's JSON tree: borrowed, or parsed from the text of a
    /// document held as text only.
    pub fn tree(&self) -> Cow<'_, Value> {
        match &self.0.tree {
            Some(tree) => Cow::Borrowed(tree),
            // The text is serde_json's writing of a tree: it parses back.
            None => Cow::Owned(serde_json::from_str(self.json_text()).unwrap_or(Value::Null)),
        }
    }

    /// Compact canonical JSON: what rolecall sends to AWS and hashes.
    pub fn to_json(&self) -> String {
        self.json_text().to_owned()
    }

    /// [`PolicyDocument::to_json`], borrowed: serialised on the first call only.
    pub fn json_text(&self) -> &str {
        self.shared_text()
    }

    /// [`PolicyDocument::to_json`], shared with the document (no copy).
    pub fn shared_json(&self) -> Arc<str> {
        self.shared_text().clone()
    }

    fn shared_text(&self) -> &Arc<str> {
        self.0.json.get_or_init(|| self.0.write_text())
    }

    /// Canonical JSON, indented: what plans show and diff.
    pub fn to_pretty_json(&self) -> String {
        serde_json::to_string_pretty(&*self.tree()).unwrap_or_else(|_| self.to_json())
    }

    /// URL-encoded compact JSON, as IAM returns documents.
    pub fn to_url_encoded(&self) -> String {
        url_encode(&self.to_json())
    }

    /// Size as AWS's quotas count it: characters, whitespace not counted.
    pub fn quota_size(&self) -> usize {
        self.sent_text().quota_size
    }

    /// The first character of this document, as rolecall sends it, that
    /// IAM's `policyDocumentType` pattern refuses
    /// (`[\u0009\u000A\u000D\u0020-\u00FF]+`, botocore's IAM model): a
    /// character past U+00FF in a key or value (JSON escapes control
    /// characters, so only those can appear). IAM answers such a document
    /// with a ValidationError on every call that takes one.
    pub fn character_iam_refuses(&self) -> Option<char> {
        self.sent_text().refused_character
    }

    /// [`PolicyDocument::quota_size`] and
    /// [`PolicyDocument::character_iam_refuses`] from one serialisation and
    /// one walk of the text: a large stack checks both on hundreds of
    /// thousands of documents.
    pub fn sent_text(&self) -> SentText {
        let json = self.json_text();
        let mut quota_size = 0;
        let mut refused_character = None;
        for c in json.chars() {
            if !c.is_whitespace() {
                quota_size += 1;
            }
            if refused_character.is_none() && c > '\u{FF}' {
                refused_character = Some(c);
            }
        }
        SentText {
            quota_size,
            refused_character,
        }
    }

    /// Whether one statement allows `service` to `sts:AssumeRole`.
    pub fn trusts_service(&self, service: &str) -> bool {
        statements(&self.tree()).any(|statement| {
            let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
            let assumes = string_set(statement.get("Action"))
                .iter()
                .any(|a| a == "sts:AssumeRole" || a == "sts:*" || a == "*");
            let principal_ok = match statement.get("Principal") {
                Some(Value::String(s)) => s == "*",
                Some(Value::Object(p)) => string_set(p.get("Service")).iter().any(|s| s == service),
                _ => false,
            };
            allows && assumes && principal_ok
        })
    }

    /// The first reason IAM would answer `MalformedPolicyDocument`, if any:
    /// what the emulated account enforces. `trust` selects the rules of a
    /// trust (resource-based) policy: it names a `Principal` and no
    /// `Resource`; a permissions policy is the reverse.
    ///
    /// The checks run in phases, as moto's validator (written against AWS's
    /// answers) runs them: the whole document's syntax first, then each rule
    /// across every statement, so a document breaking several rules gets the
    /// message AWS most likely gives.
    pub fn iam_grammar_problem(&self, trust: bool) -> Option<GrammarProblem> {
        first_problem(&self.tree(), trust, false)
    }

    /// [`PolicyDocument::iam_grammar_problem`], and also a missing `Version`:
    /// the rule for manifests. IAM reads a document without one as
    /// 2008-10-17, a grammar without policy variables, which a manifest
    /// should not get by leaving a line out.
    pub fn grammar_problem(&self, trust: bool) -> Option<GrammarProblem> {
        self.problem_under(if trust {
            Rules::Trust
        } else {
            Rules::Permissions
        })
    }

    /// What `rules` find in the document: the verdict kept when it was held
    /// as text after a check against them, or a check of its tree now.
    fn problem_under(&self, rules: Rules) -> Option<GrammarProblem> {
        if let Some((checked, found)) = &self.0.verdict
            && *checked == rules
        {
            return found.as_deref().cloned();
        }
        let tree = self.tree();
        match rules {
            Rules::Trust => first_problem(&tree, true, true),
            Rules::Permissions => first_problem(&tree, false, true),
            Rules::Managed => managed_problem(&tree),
        }
    }

    /// Whether `other` is this very document (one shared copy), not only
    /// an equal one: whatever was found about one holds for the other.
    pub fn is_shared_with(&self, other: &PolicyDocument) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The first reason IAM would refuse this document as a managed
    /// policy's (CreatePolicy, CreatePolicyVersion): a permissions policy's
    /// rules, and a `Version` of 2012-10-17, which managed policies must
    /// state (an older one or none: "Policy document must be version
    /// 2012-10-17 or greater."; any other value: "Syntax errors in
    /// policy."), checked after the syntax and before every other rule, as
    /// IAM answered localstack's recorded CreatePolicy calls
    /// (docs/aws-semantics.md §16).
    pub fn managed_grammar_problem(&self) -> Option<GrammarProblem> {
        self.problem_under(Rules::Managed)
    }

    /// Every `AWS` principal the document names (account ids, ARNs, `*`).
    pub fn aws_principals(&self) -> Vec<String> {
        // The text is serde_json's, which writes the key as it is: most
        // trust policies name services only, and need not be parsed (a
        // plan reads every declared role's).
        if !self.json_text().contains(r#""AWS""#) {
            return Vec::new();
        }
        statements(&self.tree())
            .filter_map(|s| s.get("Principal").and_then(Value::as_object))
            .filter_map(|p| p.get("AWS"))
            .flat_map(|v| match v {
                Value::String(s) => vec![s.clone()],
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                _ => Vec::new(),
            })
            .collect()
    }
}

/// The statements of a document's tree ([`PolicyDocument::tree`]), in
/// canonical order (a single statement is a list of one once canonical).
pub fn statements(tree: &Value) -> impl Iterator<Item = &Map<String, Value>> {
    tree.get("Statement")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

/// [`PolicyDocument::managed_grammar_problem`] of a tree.
fn managed_problem(tree: &Value) -> Option<GrammarProblem> {
    if let Some(problem) = syntax_problem(tree) {
        return Some(problem);
    }
    match tree.get("Version") {
        Some(Value::String(v)) if v == "2012-10-17" => {}
        None => return Some(GrammarProblem::new(OLD_MANAGED_VERSION, None)),
        Some(Value::String(v)) if v == "2008-10-17" => {
            return Some(GrammarProblem::new(OLD_MANAGED_VERSION, None));
        }
        Some(other) => {
            return Some(
                GrammarProblem::new(
                    SYNTAX_ERRORS,
                    Some(format!("`Version` is 2012-10-17, not {other}")),
                )
                .quoting(format!("{SYNTAX_ERRORS} (`Version` is 2012-10-17)")),
            );
        }
    }
    rule_problem(tree, false)
}

fn first_problem(tree: &Value, trust: bool, require_version: bool) -> Option<GrammarProblem> {
    if let Some(problem) = syntax_problem(tree) {
        return Some(problem);
    }
    if let Some(problem) = version_problem(tree, require_version) {
        return Some(problem);
    }
    rule_problem(tree, trust)
}

/// The statement rules, after syntax and version.
fn rule_problem(tree: &Value, trust: bool) -> Option<GrammarProblem> {
    let all: Vec<&Map<String, Value>> = statements(tree).collect();
    let first = |rules: &[StatementRule]| {
        rules
            .iter()
            .find_map(|rule| all.iter().find_map(|s| rule(s, trust)))
    };
    // moto's order: legacy parsing, then unique Sids, then the rest.
    // Where IAM checks a Sid's characters is UNCONFIRMED: with the Sids.
    first(&[effect_spelling, sid_characters])
        .or_else(|| repeated_sid(&all))
        .or_else(|| {
            first(&[
                actions_present,
                principal_and_resource,
                resource_format,
                action_vendor,
                principal_values,
            ])
        })
}

/// Why IAM refuses a policy document (`MalformedPolicyDocument`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrammarProblem {
    /// IAM's message, word for word: what the emulator answers.
    pub aws_message: String,
    /// The rule broken, for people, where IAM's message does not say
    /// (IAM answers every shape mistake with "Syntax errors in policy.").
    pub detail: Option<String>,
    /// The problem in words that quote nothing from the document, when
    /// `aws_message` or `detail` quote a key or value of it.
    unquoted: Option<String>,
}

impl GrammarProblem {
    fn new(aws_message: impl Into<String>, detail: Option<String>) -> Self {
        GrammarProblem {
            aws_message: aws_message.into(),
            detail,
            unquoted: None,
        }
    }

    /// `self`, whose message or detail quotes the document, and the same
    /// problem told without quoting it.
    fn quoting(mut self, unquoted: impl Into<String>) -> Self {
        self.unquoted = Some(unquoted.into());
        self
    }

    /// The problem without any key or value of the document: what is said
    /// about a document read from a file, whose text may be a secret that a
    /// log or a pull-request comment must not show.
    pub fn without_values(&self) -> String {
        self.unquoted.clone().unwrap_or_else(|| self.to_string())
    }
}

/// IAM's message, then what exactly is wrong: what a person reading a
/// manifest diagnostic needs.
impl fmt::Display for GrammarProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail {
            Some(detail) => write!(f, "{} ({detail})", self.aws_message),
            None => f.write_str(&self.aws_message),
        }
    }
}

// IAM's MalformedPolicyDocument texts. Sources: GitHub issues quoting AWS
// responses (see docs/aws-semantics.md §13) and moto's policy validator, which
// was written against AWS's answers. UNCONFIRMED marks a text or trigger no
// AWS response confirms.
const SYNTAX_ERRORS: &str = "Syntax errors in policy.";
/// UNCONFIRMED: S3's text for a bad version; IAM's is not known.
const BAD_VERSION: &str = "The policy must contain a valid version string";
/// What CreatePolicy answers for a document without `Version` or of
/// 2008-10-17 (localstack's recordings of IAM, docs/aws-semantics.md §16).
const OLD_MANAGED_VERSION: &str = "Policy document must be version 2012-10-17 or greater.";
/// rolecall's own rule for manifests, not IAM's: AWS's policy grammar makes a
/// missing `Version` mean 2008-10-17, and IAM accepts the document.
const NO_VERSION: &str = "Missing required field Version";
/// moto's text for `"Effect": "allow"` (right word, wrong case); UNCONFIRMED.
const LEGACY_PARSING: &str = "The policy failed legacy parsing";
const NO_ACTIONS: &str = "Policy statement must contain actions.";
const NO_RESOURCES: &str = "Policy statement must contain resources.";
const PRINCIPAL_IN_PERMISSIONS: &str = "Policy document should not specify a principal.";
const RESOURCE_IN_TRUST: &str = "Has prohibited field Resource";
/// Seen on CreateRole for a trust statement without principals; that an
/// empty `Principal` gets the same text is UNCONFIRMED.
const NO_PRINCIPALS: &str = "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!";
/// Trigger and text: aws-cloudformation/cfn-lint#3973 (an inline role
/// policy), kubernetes/kops#4951 (PutRolePolicy).
const REPEATED_SID: &str = "Statement IDs (SID) in a single policy must be unique.";
/// IAM's docs: "You cannot use the NotPrincipal element in ... an IAM role
/// trust policy". The text is UNCONFIRMED: it follows "Has prohibited field
/// Resource".
const NOT_PRINCIPAL_IN_TRUST: &str = "Has prohibited field NotPrincipal";
const NO_VENDOR: &str =
    "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.";
const TWO_COLONS: &str = "Actions/Condition can contain only one colon.";
/// IAM's text for a `Sid` of other characters than ASCII letters and digits.
const SID_CHARACTERS: &str = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*";

/// One rule checked on every statement: `(statement, trust) -> problem`.
type StatementRule = fn(&Map<String, Value>, bool) -> Option<GrammarProblem>;

const TOP_LEVEL_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
];
/// Keys a statement may hold only one of.
const EXCLUSIVE_PAIRS: &[(&str, &str)] = &[
    ("Action", "NotAction"),
    ("Resource", "NotResource"),
    ("Principal", "NotPrincipal"),
];
const PRINCIPAL_TYPES: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];

/// IAM's answer to every shape mistake, and what exactly is wrong.
fn syntax(detail: impl Into<String>) -> GrammarProblem {
    GrammarProblem::new(SYNTAX_ERRORS, Some(detail.into()))
}

/// What is wrong with the document's shape, if anything (IAM: "Syntax errors in policy.").
fn syntax_problem(doc: &Value) -> Option<GrammarProblem> {
    let Value::Object(doc) = doc else {
        return Some(syntax("a policy document is a JSON object"));
    };
    if let Some(key) = doc.keys().find(|k| !TOP_LEVEL_KEYS.contains(&k.as_str())) {
        const HAS: &str = "a document has Version, Id and Statement";
        return Some(
            syntax(format!("unknown key `{key}` ({HAS})"))
                .quoting(format!("{SYNTAX_ERRORS} (an unknown key: {HAS})")),
        );
    }
    if doc.get("Id").is_some_and(|id| !id.is_string()) {
        return Some(syntax("`Id` must be a string"));
    }
    // Canonical form makes `Statement` a list (of one, for a single statement).
    let Some(statements) = doc.get("Statement").and_then(Value::as_array) else {
        return Some(syntax("the document has no `Statement`"));
    };
    if statements.is_empty() {
        return Some(syntax("`Statement` is empty"));
    }
    statements.iter().find_map(statement_syntax_problem)
}

fn statement_syntax_problem(statement: &Value) -> Option<GrammarProblem> {
    let Value::Object(statement) = statement else {
        return Some(syntax("a statement is a JSON object"));
    };
    if let Some(key) = statement
        .keys()
        .find(|k| !STATEMENT_KEYS.contains(&k.as_str()))
    {
        let keys = STATEMENT_KEYS.join(", ");
        return Some(
            syntax(format!("unknown statement key `{key}`")).quoting(format!(
                "{SYNTAX_ERRORS} (an unknown statement key: a statement has {keys})"
            )),
        );
    }
    if let Some((a, b)) = EXCLUSIVE_PAIRS
        .iter()
        .find(|(a, b)| statement.contains_key(*a) && statement.contains_key(*b))
    {
        return Some(syntax(format!(
            "a statement cannot have both `{a}` and `{b}`"
        )));
    }
    match statement.get("Effect") {
        None => return Some(syntax("a statement has no `Effect`")),
        Some(Value::String(e))
            if e.eq_ignore_ascii_case("Allow") || e.eq_ignore_ascii_case("Deny") => {}
        Some(other) => {
            return Some(
                syntax(format!("`Effect` must be Allow or Deny, not {other}"))
                    .quoting(format!("{SYNTAX_ERRORS} (`Effect` must be Allow or Deny)")),
            );
        }
    }
    if statement.get("Sid").is_some_and(|sid| !sid.is_string()) {
        return Some(syntax("`Sid` must be a string"));
    }
    if let Some(key) = SET_VALUED_STATEMENT_KEYS
        .iter()
        .find(|k| statement.get(**k).is_some_and(|v| !is_string_or_strings(v)))
    {
        return Some(syntax(format!(
            "`{key}` must be a string or a list of strings"
        )));
    }
    if let Some(condition) = statement.get("Condition")
        && !is_condition_block(condition)
    {
        return Some(syntax(
            "`Condition` must map operators to objects of keys and values, e.g. {\"StringEquals\": {\"aws:SourceAccount\": \"123456789012\"}}",
        ));
    }
    PRINCIPAL_KEYS
        .iter()
        .find(|k| statement.get(**k).is_some_and(|p| !is_principal_block(p)))
        .map(|key| {
            syntax(format!(
                "`{key}` must be \"*\" or a mapping such as {{\"Service\": \"ec2.amazonaws.com\"}}"
            ))
        })
}

fn is_string_or_strings(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    }
}

/// `{operator: {key: value or [values]}}`; values are strings, numbers or booleans.
fn is_condition_block(condition: &Value) -> bool {
    let is_scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let Value::Object(operators) = condition else {
        return false;
    };
    operators.values().all(|keys| match keys {
        Value::Object(keys) => keys.values().all(|v| match v {
            Value::Array(items) => items.iter().all(is_scalar),
            other => is_scalar(other),
        }),
        _ => false,
    })
}

/// `"*"`, or a mapping of principal types to a string or a list of strings.
/// Which types and values are valid is checked later ([`principal_values`]).
fn is_principal_block(principal: &Value) -> bool {
    match principal {
        Value::String(s) => s == "*",
        Value::Object(types) => types.values().all(is_string_or_strings),
        _ => false,
    }
}

fn version_problem(doc: &Value, required: bool) -> Option<GrammarProblem> {
    match doc.get("Version") {
        None => required.then(|| GrammarProblem::new(NO_VERSION, None)),
        Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => None,
        Some(other) => Some(
            GrammarProblem::new(
                BAD_VERSION,
                Some(format!(
                    "`Version` is 2012-10-17 or 2008-10-17, not {other}"
                )),
            )
            .quoting(format!(
                "{BAD_VERSION} (`Version` is 2012-10-17 or 2008-10-17)"
            )),
        ),
    }
}

/// `allow` passes the syntax check (any case) but not IAM's older parser.
fn effect_spelling(statement: &Map<String, Value>, _trust: bool) -> Option<GrammarProblem> {
    statement
        .get("Effect")
        .and_then(Value::as_str)
        .filter(|effect| !matches!(*effect, "Allow" | "Deny"))
        .map(|other| {
            GrammarProblem::new(
                LEGACY_PARSING,
                Some(format!("`Effect` is spelled Allow or Deny, not {other}")),
            )
            .quoting(format!(
                "{LEGACY_PARSING} (`Effect` is spelled Allow or Deny)"
            ))
        })
}

/// A `Sid` of other characters than ASCII letters and digits; an empty one
/// passes, as IAM's regular expression `[0-9A-Za-z]*` lets it.
fn sid_characters(statement: &Map<String, Value>, _trust: bool) -> Option<GrammarProblem> {
    statement
        .get("Sid")
        .and_then(Value::as_str)
        .filter(|sid| !sid.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(|sid| {
            GrammarProblem::new(SID_CHARACTERS, Some(format!("`Sid` {}", Value::from(sid))))
                .quoting(SID_CHARACTERS)
        })
}

/// Whether the statement names at least one item under one of `keys`.
fn names_any(statement: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().any(|k| match statement.get(*k) {
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::Object(map)) => map.values().any(|v| !string_set(Some(v)).is_empty()),
        Some(_) => true,
        None => false,
    })
}

fn actions_present(statement: &Map<String, Value>, _trust: bool) -> Option<GrammarProblem> {
    (!names_any(statement, &["Action", "NotAction"])).then(|| GrammarProblem::new(NO_ACTIONS, None))
}

/// Two statements with one `Sid` (an empty `Sid` does not count, as in
/// moto; UNCONFIRMED). Two identical statements are one once canonical, so
/// their repeated `Sid` passes here, though AWS refuses it.
fn repeated_sid(statements: &[&Map<String, Value>]) -> Option<GrammarProblem> {
    let mut seen = std::collections::HashSet::new();
    statements
        .iter()
        .filter_map(|s| s.get("Sid").and_then(Value::as_str))
        .filter(|sid| !sid.is_empty())
        .find(|sid| !seen.insert(*sid))
        .map(|sid| {
            GrammarProblem::new(REPEATED_SID, Some(format!("`Sid` {sid} is used twice")))
                .quoting(REPEATED_SID)
        })
}

fn principal_and_resource(statement: &Map<String, Value>, trust: bool) -> Option<GrammarProblem> {
    let has = |key: &str| statement.contains_key(key);
    let (problem, detail) = if trust {
        if has("NotPrincipal") {
            (
                NOT_PRINCIPAL_IN_TRUST,
                Some("a trust policy names who may assume the role in `Principal`".into()),
            )
        } else if !names_any(statement, &["Principal"]) {
            // IAM's text reads like a stack trace: say it plainly too.
            (
                NO_PRINCIPALS,
                Some("a trust statement names who may assume the role in `Principal`".into()),
            )
        } else if has("Resource") || has("NotResource") {
            (RESOURCE_IN_TRUST, None)
        } else {
            return None;
        }
    } else if has("Principal") || has("NotPrincipal") {
        (PRINCIPAL_IN_PERMISSIONS, None)
    } else if !names_any(statement, &["Resource", "NotResource"]) {
        (NO_RESOURCES, None)
    } else {
        return None;
    };
    Some(GrammarProblem::new(problem, detail))
}

fn resource_format(statement: &Map<String, Value>, _trust: bool) -> Option<GrammarProblem> {
    ["Resource", "NotResource"]
        .iter()
        .flat_map(|key| string_set(statement.get(*key)))
        .find(|resource| resource != "*" && !resource.contains(':'))
        .map(|resource| {
            GrammarProblem::new(
                format!("Resource {resource} must be in ARN format or \"*\"."),
                None,
            )
            .quoting("Resource must be in ARN format or \"*\" (one of the statement's is not).")
        })
}

fn action_vendor(statement: &Map<String, Value>, _trust: bool) -> Option<GrammarProblem> {
    ["Action", "NotAction"]
        .iter()
        .flat_map(|key| string_set(statement.get(*key)))
        .find_map(|action| {
            if action == "*" {
                return None;
            }
            let mut parts = action.split(':');
            let vendor = parts.next().unwrap_or_default();
            let (message, unquoted) = match (parts.next(), parts.next()) {
                (None, _) => (NO_VENDOR.to_string(), NO_VENDOR),
                (Some(_), Some(_)) => (TWO_COLONS.to_string(), TWO_COLONS),
                // moto's check and text (`_validate_action_prefix`); UNCONFIRMED.
                // Vendor `*` (`*:*`) means every service. An empty vendor
                // (`:GetObject`) passes, as in moto; what IAM answers is
                // UNCONFIRMED.
                _ if vendor != "*"
                    && !vendor
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') =>
                {
                    (
                        format!("Vendor {vendor} is not valid"),
                        "Vendor is not valid (an action's vendor is letters, digits, `-` and `.`)",
                    )
                }
                _ => return None,
            };
            Some(GrammarProblem::new(message, Some(format!("action `{action}`"))).quoting(unquoted))
        })
}

/// Every principal must be of a known type and name something that can exist.
fn principal_values(statement: &Map<String, Value>, _trust: bool) -> Option<GrammarProblem> {
    PRINCIPAL_KEYS
        .iter()
        .filter_map(|key| statement.get(*key).and_then(Value::as_object))
        .flatten()
        .flat_map(|(kind, values)| {
            string_set(Some(values))
                .into_iter()
                .map(move |value| (kind.as_str(), value))
        })
        .find(|(kind, value)| !valid_principal(kind, value))
        .map(|(kind, value)| {
            // IAM upper-cases the type in this message ("SERVICE"); for an
            // unknown type the text is UNCONFIRMED.
            let message = format!(
                "Invalid principal in policy: {}:{}",
                Value::String(kind.to_uppercase()),
                Value::String(value)
            );
            let types = format!("principal types are {}", PRINCIPAL_TYPES.join(", "));
            let unquoted = format!(
                "Invalid principal in policy (a principal of an unknown type or naming nothing that can exist; {types})"
            );
            let detail = (!PRINCIPAL_TYPES.contains(&kind)).then_some(types);
            GrammarProblem::new(message, detail).quoting(unquoted)
        })
}

fn valid_principal(kind: &str, value: &str) -> bool {
    match kind {
        // A wildcard stands only alone: not inside an ARN
        // (`arn:aws:iam::111122223333:role/*`), per AWS's knowledge-center
        // article on "Invalid principal in policy".
        "AWS" => {
            value == "*"
                || is_account_id(value)
                || (is_iam_principal_arn(value) && !value.contains('*'))
        }
        // Any `<name>.amazonaws.com`: IAM checks against its list of services,
        // which the emulator does not have.
        "Service" => value
            .strip_suffix(".amazonaws.com")
            .or_else(|| value.strip_suffix(".amazonaws.com.cn"))
            .is_some_and(|name| {
                !name.is_empty()
                    && name.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'
                    })
            }),
        // Identity providers (ARNs or domains) and canonical user ids are not checked.
        "Federated" | "CanonicalUser" => !value.is_empty(),
        _ => false,
    }
}

/// `arn:<partition>:iam|sts::<account>:<resource>`, e.g. a role, a user or `root`.
fn is_iam_principal_arn(text: &str) -> bool {
    matches!(
        crate::arn::fields(text),
        Some([partition, "iam" | "sts", "", account, resource])
            if partition.starts_with("aws") && is_account_id(account) && !resource.is_empty()
    )
}

/// URL-encodes a text the way IAM encodes policy documents (RFC 3986).
pub fn url_encode(text: &str) -> String {
    utf8_percent_encode(text, RFC3986).to_string()
}

impl fmt::Debug for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PolicyDocument({})", self.json_text())
    }
}

impl fmt::Display for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

/// Written as its tree, or, for a document held as text only, streamed
/// from the text token by token (the same tokens: the text is the tree's).
impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0.tree {
            Some(tree) => tree.serialize(serializer),
            None => {
                let mut tokens = serde_json::Deserializer::from_str(self.json_text());
                serde_transcode::transcode(&mut tokens, serializer)
            }
        }
    }
}

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::from_value(Value::deserialize(deserializer)?))
    }
}

/// Where in a document a value sits, which decides how it is canonicalised.
#[derive(Clone, Copy)]
enum Context {
    Document,
    Statement,
    /// Inside `Principal` or `Condition`: every leaf list is a set.
    SetOfSets,
    Other,
}

fn canonical(value: Value, context: Context) -> Value {
    match value {
        Value::Object(map) => {
            // Rebuilt, not sorted in place: the new map is sized exactly,
            // where one parsed or built entry by entry holds spare room
            // (a stack's documents are held for the whole plan).
            let mut entries: Vec<(String, Value)> = map
                .into_iter()
                .map(|(key, value)| {
                    let value = canonical_member(&key, value, context);
                    (key, value)
                })
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| canonical(v, Context::Other))
                .collect(),
        ),
        scalar => scalar,
    }
}

fn canonical_member(key: &str, value: Value, parent: Context) -> Value {
    match parent {
        Context::Document if key == "Statement" => {
            let statements = match value {
                Value::Array(items) => items,
                single => vec![single],
            };
            set(statements
                .into_iter()
                .map(|s| canonical(s, Context::Statement))
                .collect())
        }
        Context::Statement if SET_VALUED_STATEMENT_KEYS.contains(&key) => {
            collapse(set(as_list(value)))
        }
        Context::Statement if PRINCIPAL_KEYS.contains(&key) || key == "Condition" => {
            canonical(value, Context::SetOfSets)
        }
        Context::SetOfSets => match value {
            Value::Object(_) => canonical(value, Context::SetOfSets),
            other => collapse(set(as_list(other))),
        },
        _ => canonical(value, Context::Other),
    }
}

fn as_list(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items
            .into_iter()
            .map(|v| canonical(v, Context::Other))
            .collect(),
        single => vec![canonical(single, Context::Other)],
    }
}

/// Sorted, de-duplicated list (by canonical JSON text, so it works for any value).
fn set(mut items: Vec<Value>) -> Value {
    if items.len() < 2 {
        return Value::Array(items);
    }
    // Most sets are of plain strings (actions, resources, principals): those
    // are ordered as their JSON text without writing it.
    if items.iter().all(|v| v.as_str().is_some_and(written_as_is)) {
        items.sort_by(|a, b| by_json_text(a.as_str(), b.as_str()));
        items.dedup();
        return Value::Array(items);
    }
    set_by_text(items)
}

/// [`set`] for any values: each written out, and ordered by its text.
fn set_by_text(items: Vec<Value>) -> Value {
    let mut keyed: Vec<(String, Value)> = items.into_iter().map(|v| (v.to_string(), v)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.dedup_by(|a, b| a.0 == b.0);
    Value::Array(keyed.into_iter().map(|(_, v)| v).collect())
}

/// Whether JSON writes `text` between its quotes as it is: no quote,
/// backslash or control character to escape (serde_json escapes only those).
fn written_as_is(text: &str) -> bool {
    !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
}

/// Two strings [`written_as_is`] in the order of their JSON texts: the
/// opening quotes are alike, the closing one counts (`"a!"` sorts before
/// `"a"`, as `!` is below `"`).
fn by_json_text(a: Option<&str>, b: Option<&str>) -> std::cmp::Ordering {
    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
    a.bytes().chain([b'"']).cmp(b.bytes().chain([b'"']))
}

/// A one-element list is written as its element, as AWS itself prefers.
fn collapse(list: Value) -> Value {
    match list {
        Value::Array(mut items) if items.len() == 1 => items.remove(0),
        other => other,
    }
}

fn string_set(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn doc(v: Value) -> PolicyDocument {
        PolicyDocument::from_value(v)
    }

    #[test]
    fn scalar_and_singleton_list_are_equal() {
        let a = doc(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
        );
        let b = doc(
            json!({"Statement": {"Resource": ["*"], "Action": ["s3:GetObject"], "Effect": "Allow"}, "Version": "2012-10-17"}),
        );
        assert_eq!(a, b);
    }

    #[test]
    fn action_order_and_duplicates_do_not_matter() {
        let a = doc(json!({"Statement": [{"Action": ["b", "a", "a"], "Effect": "Allow"}]}));
        let b = doc(json!({"Statement": [{"Action": ["a", "b"], "Effect": "Allow"}]}));
        assert_eq!(a, b);
    }

    #[test]
    fn principal_and_condition_values_are_sets() {
        let a = doc(
            json!({"Statement": [{"Principal": {"Service": ["b", "a"]}, "Condition": {"StringEquals": {"k": ["y", "x"]}}}]}),
        );
        let b = doc(
            json!({"Statement": [{"Principal": {"Service": ["a", "b"]}, "Condition": {"StringEquals": {"k": ["x", "y", "x"]}}}]}),
        );
        assert_eq!(a, b);
    }

    #[test]
    fn url_encoded_and_plain_parse_equal() {
        let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let plain = PolicyDocument::parse(text).unwrap();
        let encoded = PolicyDocument::parse(&url_encode(text)).unwrap();
        assert_eq!(plain, encoded);
        assert_eq!(
            plain,
            PolicyDocument::trusting_services(&["ec2.amazonaws.com"])
        );
        assert!(plain.trusts_service("ec2.amazonaws.com"));
        assert!(!plain.trusts_service("lambda.amazonaws.com"));
    }

    #[test]
    fn different_documents_differ() {
        let a = doc(json!({"Statement": [{"Action": "a", "Effect": "Allow"}]}));
        let b = doc(json!({"Statement": [{"Action": "a", "Effect": "Deny"}]}));
        assert_ne!(a, b);
    }

    #[test]
    fn grammar_problems_are_named() {
        let problem = |trust: bool, v: Value| doc(v).grammar_problem(trust).map(|p| p.to_string());
        let trust = PolicyDocument::trusting_services(&["ec2.amazonaws.com"]);
        assert_eq!(trust.grammar_problem(true), None);
        assert_eq!(
            problem(false, trust.tree().into_owned()).as_deref(),
            Some("Policy document should not specify a principal.")
        );
        // Shape mistakes: AWS's vague message, then what is wrong.
        assert_eq!(
            problem(false, json!({"Version": "2012-10-17", "Statement": [{"Action": "s3:GetObject", "Resource": "*"}]})).as_deref(),
            Some("Syntax errors in policy. (a statement has no `Effect`)")
        );
        assert_eq!(
            problem(false, json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": 5, "Resource": "*"}]})).as_deref(),
            Some("Syntax errors in policy. (`Action` must be a string or a list of strings)")
        );
        // A specific AWS message needs no detail.
        assert_eq!(
            problem(false, json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]})).as_deref(),
            Some("Policy statement must contain actions.")
        );
    }

    /// A `Sid` is ASCII letters and digits, or empty, for IAM and manifests alike.
    #[test]
    fn sid_is_alphanumeric() {
        let with_sid = |sid: &str| {
            doc(json!({"Version": "2012-10-17", "Statement": [
                {"Sid": sid, "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
            ]}))
        };
        for sid in ["", "ReadLogs2", "0"] {
            assert_eq!(with_sid(sid).iam_grammar_problem(false), None, "{sid:?}");
            assert_eq!(with_sid(sid).grammar_problem(false), None, "{sid:?}");
        }
        for sid in [
            "read-logs",
            "read logs",
            "Read_Logs",
            "caf\u{e9}",
            "a\u{202e}",
        ] {
            for problem in [
                with_sid(sid).iam_grammar_problem(false),
                with_sid(sid).grammar_problem(false),
            ] {
                assert_eq!(
                    problem.map(|p| p.aws_message).as_deref(),
                    Some(
                        "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
                    ),
                    "{sid:?}"
                );
            }
        }
    }

    /// Every problem that quotes the document can be told without quoting it:
    /// what is said about a document read from a file.
    #[test]
    fn problems_can_be_told_without_the_documents_values() {
        const SECRET: &str = "AKIASECRETVALUE";
        let statement = |extra: Value| {
            let mut statement =
                json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"});
            for (key, value) in extra.as_object().unwrap() {
                statement[key] = value.clone();
            }
            json!({"Version": "2012-10-17", "Statement": [statement]})
        };
        let trust_statement = |principal: Value| {
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": principal}
            ]})
        };
        let cases = [
            (
                false,
                json!({"Version": "2012-10-17", "Statement": [], SECRET: 1}),
            ),
            (false, statement(json!({SECRET: "x"}))),
            (false, statement(json!({"Effect": SECRET}))),
            (
                false,
                json!({"Version": SECRET, "Statement": statement(json!({}))["Statement"]}),
            ),
            (false, statement(json!({"Effect": "aLLOW"}))),
            (false, statement(json!({"Sid": format!("{SECRET}-1")}))),
            (
                false,
                json!({"Version": "2012-10-17", "Statement": [
                    {"Sid": SECRET, "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                    {"Sid": SECRET, "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}
                ]}),
            ),
            (false, statement(json!({"Resource": SECRET}))),
            (false, statement(json!({"Action": SECRET}))),
            (false, statement(json!({"Action": format!("a:b:{SECRET}")}))),
            (false, statement(json!({"Action": format!("{SECRET}#:x")}))),
            (true, trust_statement(json!({"Service": SECRET}))),
            (true, trust_statement(json!({SECRET: "x"}))),
        ];
        for (trust, value) in cases {
            let problem = doc(value.clone())
                .grammar_problem(trust)
                .unwrap_or_else(|| panic!("no problem in {value}"));
            // Principal types are upper-cased in IAM's message.
            let quoted = |text: &str| text.contains(SECRET) || text.contains("aLLOW");
            assert!(
                quoted(&problem.to_string()),
                "quotes the value where the user wrote it: {problem}"
            );
            let unquoted = problem.without_values();
            assert!(!quoted(&unquoted), "{unquoted} quotes {value}");
            assert!(
                unquoted.starts_with(&problem.aws_message[..5]),
                "{unquoted}"
            );
        }
    }

    /// IAM accepts a document without `Version`; manifests must state one.
    /// A wrong `Version` is refused by both.
    #[test]
    fn version_is_required_only_by_the_manifest_rule() {
        let unversioned = doc(
            json!({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
        );
        assert_eq!(unversioned.iam_grammar_problem(false), None);
        assert_eq!(
            unversioned
                .grammar_problem(false)
                .map(|p| p.aws_message)
                .as_deref(),
            Some("Missing required field Version")
        );
        let wrong = doc(
            json!({"Version": "2012-10-18", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
        );
        for problem in [
            wrong.iam_grammar_problem(false),
            wrong.grammar_problem(false),
        ] {
            assert_eq!(
                problem.map(|p| p.aws_message).as_deref(),
                Some("The policy must contain a valid version string")
            );
        }
    }

    /// A managed policy must state 2012-10-17: older or none has its own
    /// message, checked before the statement rules; anything else is a
    /// syntax error.
    #[test]
    fn managed_policies_need_version_2012_10_17() {
        let with_version = |version: Option<&str>| {
            let mut value = json!({"Statement": [{"Sid": "a", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                                                   {"Sid": "a", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]});
            if let Some(version) = version {
                value["Version"] = json!(version);
            }
            doc(value).managed_grammar_problem().map(|p| p.aws_message)
        };
        let old = "Policy document must be version 2012-10-17 or greater.";
        assert_eq!(with_version(None).as_deref(), Some(old));
        assert_eq!(with_version(Some("2008-10-17")).as_deref(), Some(old));
        assert_eq!(
            with_version(Some("2013-10-17")).as_deref(),
            Some("Syntax errors in policy.")
        );
        assert_eq!(
            with_version(Some("2012-10-17")).as_deref(),
            Some("Statement IDs (SID) in a single policy must be unique.")
        );
        let principal = doc(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Principal": "*"}]}));
        assert_eq!(
            principal
                .managed_grammar_problem()
                .map(|p| p.aws_message)
                .as_deref(),
            Some("Policy document should not specify a principal.")
        );
    }

    #[test]
    fn aws_principals_lists_every_aws_principal() {
        let trust = doc(json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": ["b", "a"], "Service": "ec2.amazonaws.com"}},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "c"}},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"}
        ]}));
        let mut principals: Vec<String> = trust.aws_principals();
        principals.sort();
        assert_eq!(principals, ["a", "b", "c"]);
    }

    /// JSON values shaped like policy documents, with list/scalar and ordering variety.
    fn arb_strings() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec("[a-c]{1,2}(:[a-c*]{1,2})?", 1..4)
    }

    fn arb_statement() -> impl Strategy<Value = Value> {
        (
            arb_strings(),
            arb_strings(),
            arb_strings(),
            any::<bool>(),
            arb_strings(),
        )
            .prop_map(|(actions, resources, services, allow, cond)| {
                json!({
                    "Effect": if allow { "Allow" } else { "Deny" },
                    "Action": actions,
                    "Resource": resources,
                    "Principal": {"Service": services},
                    "Condition": {"StringEquals": {"aws:SourceAccount": cond}},
                })
            })
    }

    fn arb_document() -> impl Strategy<Value = Value> {
        prop::collection::vec(arb_statement(), 1..4)
            .prop_map(|statements| json!({"Version": "2012-10-17", "Statement": statements}))
    }

    /// Reverses every array and turns one-element arrays into scalars: the meaning stays.
    fn shuffle(value: &Value) -> Value {
        match value {
            Value::Array(items) if items.len() == 1 => shuffle(&items[0]),
            Value::Array(items) => Value::Array(items.iter().rev().map(shuffle).collect()),
            Value::Object(map) => {
                let mut entries: Vec<_> =
                    map.iter().map(|(k, v)| (k.clone(), shuffle(v))).collect();
                entries.reverse();
                Value::Object(entries.into_iter().collect())
            }
            other => other.clone(),
        }
    }

    /// Every list twice over: statements, actions, resources, principals and
    /// condition values are sets, so the meaning stays.
    fn doubled(value: &Value) -> Value {
        match value {
            Value::Array(items) => {
                let once: Vec<Value> = items.iter().map(doubled).collect();
                Value::Array(once.iter().chain(&once).cloned().collect())
            }
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), doubled(v))).collect())
            }
            other => other.clone(),
        }
    }

    /// The document as JSON text indented by `indent` (0: compact).
    fn written(value: &Value, indent: usize) -> String {
        if indent == 0 {
            return value.to_string();
        }
        let spaces = " ".repeat(indent);
        let formatter = serde_json::ser::PrettyFormatter::with_indent(spaces.as_bytes());
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        value.serialize(&mut serializer).unwrap();
        String::from_utf8(out).unwrap()
    }

    proptest! {
        #[test]
        fn duplicates_whitespace_and_url_encoding_do_not_matter(
            value in arb_document(),
            indent in 0usize..5,
        ) {
            let plain = doc(value.clone());
            prop_assert_eq!(&doc(doubled(&value)), &plain);
            let text = written(&shuffle(&value), indent);
            prop_assert_eq!(&PolicyDocument::parse(&text).unwrap(), &plain);
            prop_assert_eq!(&PolicyDocument::parse(&url_encode(&text)).unwrap(), &plain);
        }

        /// The shortcut for sets of strings orders and de-duplicates them
        /// exactly as writing each out does, escapes and prefixes included.
        #[test]
        fn string_sets_are_ordered_as_their_json_text(
            texts in prop::collection::vec("[ !\"#a-c\\\\\u{1}\u{7f}é]{0,4}", 0..6),
        ) {
            let items: Vec<Value> = texts.into_iter().map(Value::String).collect();
            prop_assert_eq!(set(items.clone()), set_by_text(items));
        }

        #[test]
        fn canonicalisation_is_idempotent(value in arb_document()) {
            let once = doc(value);
            let twice = doc(once.tree().into_owned());
            prop_assert_eq!(&once, &twice);
            prop_assert_eq!(PolicyDocument::parse(&once.to_url_encoded()).unwrap(), once);
        }

        /// A document held as text only reads as its tree does: equal,
        /// written alike (compact and indented), the same text and tree,
        /// and the same answers from every grammar (the one it was checked
        /// against from the verdict, the others from the text parsed again).
        #[test]
        fn a_document_held_as_text_reads_as_its_tree(
            value in arb_document(),
            dropped in prop::sample::subsequence(vec!["Principal", "Resource", "Condition", "Version"], 0..=4),
            rules in prop::sample::select(vec![Rules::Trust, Rules::Permissions, Rules::Managed]),
            age in prop::num::f64::NORMAL,
        ) {
            let mut value = value;
            // A number read back from the text is the number written (the
            // default float parser may land one step off).
            value["Statement"][0]["Condition"]["NumericLessThan"] =
                json!({"aws:MultiFactorAuthAge": age});
            for statement in value["Statement"].as_array_mut().into_iter().flatten() {
                for key in &dropped {
                    statement.as_object_mut().map(|s| s.remove(*key));
                }
            }
            if dropped.contains(&"Version") {
                value.as_object_mut().map(|d| d.remove("Version"));
            }
            let tree = doc(value);
            let text = tree.clone().into_checked_text(rules);
            prop_assert!(text.0.tree.is_none());
            let unchecked = tree.clone().into_text();
            prop_assert_eq!(&unchecked, &tree);
            prop_assert_eq!(unchecked.grammar_problem(false), tree.grammar_problem(false));
            prop_assert_eq!(unchecked.managed_grammar_problem(), tree.managed_grammar_problem());
            prop_assert_eq!(&text, &tree);
            prop_assert_eq!(&tree, &text);
            prop_assert_eq!(text.json_text(), tree.json_text());
            prop_assert_eq!(text.tree(), tree.tree());
            prop_assert_eq!(text.to_pretty_json(), tree.to_pretty_json());
            prop_assert_eq!(
                serde_json::to_string_pretty(&text).unwrap(),
                serde_json::to_string_pretty(&tree).unwrap()
            );
            prop_assert_eq!(text.grammar_problem(true), tree.grammar_problem(true));
            prop_assert_eq!(text.grammar_problem(false), tree.grammar_problem(false));
            prop_assert_eq!(text.managed_grammar_problem(), tree.managed_grammar_problem());
            prop_assert_eq!(text.iam_grammar_problem(true), tree.iam_grammar_problem(true));
            prop_assert_eq!(text.aws_principals(), tree.aws_principals());
            prop_assert_eq!(text.trusts_service("a"), tree.trusts_service("a"));
        }

        #[test]
        fn canonicalisation_ignores_order_and_list_shape(value in arb_document()) {
            prop_assert_eq!(doc(shuffle(&value)), doc(value));
        }
    }
}
