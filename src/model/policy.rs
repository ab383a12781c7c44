//! Policy documents in canonical form.
//!
//! Two documents that mean the same compare equal: object keys are sorted,
//! `"a"` and `["a"]` are one value, the lists whose order carries no meaning
//! (`Action`, `Resource`, principals, condition values, statements) are sorted
//! and de-duplicated, whitespace and URL-encoding (as AWS returns documents)
//! are gone. Canonicalisation is idempotent: `canonical(canonical(x)) ==
//! canonical(x)`, which is what keeps plans free of perpetual diffs.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

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

/// A policy document (trust or permissions) in canonical form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PolicyDocument(Value);

/// Why a text is not a policy document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyParseError(pub String);

impl PolicyDocument {
    /// Canonicalises any JSON value (it may still fail [`PolicyDocument::grammar_problem`]).
    pub fn from_value(value: Value) -> Self {
        PolicyDocument(canonical(value, Context::Document))
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

    pub fn as_value(&self) -> &Value {
        &self.0
    }

    /// Compact canonical JSON: what rolecall sends to AWS and hashes.
    pub fn to_json(&self) -> String {
        self.0.to_string()
    }

    /// Canonical JSON, indented: what plans show and diff.
    pub fn to_pretty_json(&self) -> String {
        serde_json::to_string_pretty(&self.0).unwrap_or_else(|_| self.to_json())
    }

    /// URL-encoded compact JSON, as IAM returns documents.
    pub fn to_url_encoded(&self) -> String {
        url_encode(&self.to_json())
    }

    /// Size as AWS's quotas count it: characters, whitespace not counted.
    pub fn quota_size(&self) -> usize {
        self.to_json()
            .chars()
            .filter(|c| !c.is_whitespace())
            .count()
    }

    /// Whether one statement allows `service` to `sts:AssumeRole`.
    pub fn trusts_service(&self, service: &str) -> bool {
        self.statements().any(|statement| {
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

    /// The first reason IAM would answer `MalformedPolicyDocument`, if any.
    /// `trust` selects the rules of a trust (resource-based) policy: it names a
    /// `Principal` and no `Resource`; a permissions policy is the reverse.
    pub fn grammar_problem(&self, trust: bool) -> Option<String> {
        let Value::Object(doc) = &self.0 else {
            return Some("Syntax errors in policy.".into());
        };
        match doc.get("Version") {
            None => return Some("Missing required field Version".into()),
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {}
            Some(_) => {
                return Some("The policy must contain a valid version string".into());
            }
        }
        let statements = match doc.get("Statement") {
            None => return Some("Missing required field Statement".into()),
            Some(Value::Array(s)) if !s.is_empty() => s,
            Some(_) => return Some("Syntax errors in policy.".into()),
        };
        for statement in statements {
            let Value::Object(statement) = statement else {
                return Some("Syntax errors in policy.".into());
            };
            match statement.get("Effect").and_then(Value::as_str) {
                Some("Allow" | "Deny") => {}
                Some(_) => return Some("Invalid effect in policy.".into()),
                None => return Some("Missing required field Effect".into()),
            }
            if !statement.contains_key("Action") && !statement.contains_key("NotAction") {
                return Some("Missing required field Action".into());
            }
            let has_principal =
                statement.contains_key("Principal") || statement.contains_key("NotPrincipal");
            let has_resource =
                statement.contains_key("Resource") || statement.contains_key("NotResource");
            if trust {
                if !has_principal {
                    return Some("Missing required field Principal".into());
                }
                if has_resource {
                    return Some("Has prohibited field Resource".into());
                }
            } else {
                if has_principal {
                    return Some("Policy document should not specify a principal.".into());
                }
                if !has_resource {
                    return Some("Policy statement must contain resources.".into());
                }
            }
        }
        None
    }

    fn statements(&self) -> impl Iterator<Item = &Map<String, Value>> {
        self.0
            .get("Statement")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
    }
}

/// URL-encodes a text the way IAM encodes policy documents (RFC 3986).
pub fn url_encode(text: &str) -> String {
    utf8_percent_encode(text, RFC3986).to_string()
}

impl fmt::Debug for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PolicyDocument({})", self.0)
    }
}

impl fmt::Display for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
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
fn set(items: Vec<Value>) -> Value {
    let mut keyed: Vec<(String, Value)> = items.into_iter().map(|v| (v.to_string(), v)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.dedup_by(|a, b| a.0 == b.0);
    Value::Array(keyed.into_iter().map(|(_, v)| v).collect())
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
        let trust = PolicyDocument::trusting_services(&["ec2.amazonaws.com"]);
        assert_eq!(trust.grammar_problem(true), None);
        assert_eq!(
            trust.grammar_problem(false).as_deref(),
            Some("Policy document should not specify a principal.")
        );
        let no_effect =
            doc(json!({"Version": "2012-10-17", "Statement": [{"Action": "a", "Resource": "*"}]}));
        assert_eq!(
            no_effect.grammar_problem(false).as_deref(),
            Some("Missing required field Effect")
        );
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

    proptest! {
        #[test]
        fn canonicalisation_is_idempotent(value in arb_document()) {
            let once = doc(value);
            let twice = doc(once.as_value().clone());
            prop_assert_eq!(&once, &twice);
            prop_assert_eq!(PolicyDocument::parse(&once.to_url_encoded()).unwrap(), once);
        }

        #[test]
        fn canonicalisation_ignores_order_and_list_shape(value in arb_document()) {
            prop_assert_eq!(doc(shuffle(&value)), doc(value));
        }
    }
}
