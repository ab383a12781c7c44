//! The request context: condition keys and their values, as AWS builds it
//! for one request (IAM User Guide, "Policy evaluation logic" > "Request
//! context").

use std::collections::BTreeMap;

/// Context keys with their values. Key names are case-insensitive (IAM
/// User Guide, "IAM JSON policy elements: Condition": "Context key names
/// are not case-sensitive"), so they are stored lowercased. Values are
/// strings, parsed per operator when a condition reads them (a number for
/// `Numeric*`, a date for `Date*`, an address for `IpAddress`), because AWS
/// sends every value as text and the operator decides its type.
///
/// A key has one value (`aws:username`) or several (`aws:TagKeys`, read
/// with `ForAnyValue:`/`ForAllValues:`). A key set with no values is
/// present but empty: `ForAllValues:` holds for it, `ForAnyValue:` does not,
/// and every other operator treats it as missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: BTreeMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value to `key` (a second call makes a multi-valued key).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.entries
            .entry(key.to_lowercase())
            .or_default()
            .push(value.into());
    }

    /// Sets `key` to exactly `values` (an empty list: present but empty).
    pub fn set<I, V>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.entries.insert(
            key.to_lowercase(),
            values.into_iter().map(Into::into).collect(),
        );
    }

    /// [`Context::insert`] for building a context in one expression.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }

    /// [`Context::set`] for building a context in one expression.
    pub fn with_values<I, V>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.set(key, values);
        self
    }

    /// The values of `key`, any case; `None` when the request has no such key.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        if key.bytes().any(|b| b.is_ascii_uppercase()) || !key.is_ascii() {
            self.entries.get(&key.to_lowercase()).map(Vec::as_slice)
        } else {
            self.get_lowercase(key)
        }
    }

    /// [`Context::get`] for a key already lowercased (compiled policies
    /// lower theirs once), so evaluation does not allocate.
    pub(crate) fn get_lowercase(&self, key: &str) -> Option<&[String]> {
        self.entries.get(key).map(Vec::as_slice)
    }

    /// Every key (lowercased) and its values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.entries
            .iter()
            .map(|(key, values)| (key.as_str(), values.as_slice()))
    }

    /// What AWS puts in the context of every request a role session makes
    /// (IAM User Guide, "AWS global condition context keys"):
    /// `aws:PrincipalType` `AssumedRole`, the role's ARN and its account
    /// (when known), its tags as `aws:PrincipalTag/KEY`, and the time of
    /// the request. `simulate` and `rolecall serve` add what they know of
    /// the request itself.
    pub fn role_session<'t>(
        role_arn: Option<&str>,
        role_tags: impl IntoIterator<Item = (&'t String, &'t String)>,
        now: jiff::Timestamp,
    ) -> Context {
        let mut context = Context::new();
        for (key, value) in role_tags {
            context.insert(&format!("aws:PrincipalTag/{key}"), value.as_str());
        }
        context.insert("aws:PrincipalType", "AssumedRole");
        if let Some(arn) = role_arn {
            context.insert("aws:PrincipalArn", arn);
            if let Some(account) = arn.split(':').nth(4) {
                context.insert("aws:PrincipalAccount", account);
            }
        }
        context.insert(
            "aws:CurrentTime",
            now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
        context.insert("aws:EpochTime", now.as_second().to_string());
        context
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive_and_values_accumulate() {
        let context = Context::new()
            .with("aws:TagKeys", "a")
            .with("AWS:tagkeys", "b");
        assert_eq!(
            context.get("aws:tagKeys"),
            Some(&["a".to_string(), "b".to_string()][..])
        );
        assert_eq!(context.get("aws:username"), None);
    }

    #[test]
    fn a_role_sessions_context_names_the_role_and_the_time() {
        let tags = BTreeMap::from([("team".to_string(), "web".to_string())]);
        let now = jiff::Timestamp::from_second(1_700_000_000).unwrap();
        let context =
            Context::role_session(Some("arn:aws:iam::111122223333:role/apps/web"), &tags, now);
        let one = |key: &str| context.get(key).map(|values| values.join(","));
        assert_eq!(one("aws:PrincipalTag/team").as_deref(), Some("web"));
        assert_eq!(one("aws:PrincipalType").as_deref(), Some("AssumedRole"));
        assert_eq!(
            one("aws:PrincipalArn").as_deref(),
            Some("arn:aws:iam::111122223333:role/apps/web")
        );
        assert_eq!(one("aws:PrincipalAccount").as_deref(), Some("111122223333"));
        assert_eq!(
            one("aws:CurrentTime").as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        assert_eq!(one("aws:EpochTime").as_deref(), Some("1700000000"));
        let unknown = Context::role_session(None, &BTreeMap::new(), now);
        assert_eq!(unknown.get("aws:PrincipalAccount"), None);
    }

    #[test]
    fn an_empty_key_is_present() {
        let context = Context::new().with_values("aws:TagKeys", Vec::<String>::new());
        assert_eq!(context.get("aws:tagkeys"), Some(&[][..]));
    }
}
