//! Ownership without a state file: the `rolecall:stack` and `rolecall:spec` tags.

use serde::Serialize;
use sha2::{Digest, Sha256};

use rolecall_model::{RESERVED_TAG_PREFIX, TAG_SPEC, TAG_STACK, Tags};

/// Who owns a live resource, read from its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// No `rolecall:stack` tag: rolecall never touches it unless adopted.
    Nobody,
    Stack(String),
}

pub fn owner(tags: &Tags) -> Owner {
    match tags.get(TAG_STACK) {
        Some(stack) => Owner::Stack(stack.clone()),
        None => Owner::Nobody,
    }
}

/// Whether `tags` say `stack` owns the resource: `owner(tags) ==
/// Owner::Stack(stack)` without copying the name (asked of every live
/// resource of a plan).
pub fn owned_by(tags: &Tags, stack: &str) -> bool {
    tags.get(TAG_STACK).is_some_and(|owner| owner == stack)
}

/// The `rolecall:spec` value a create call writes when more steps follow for
/// the same resource: the real hash is written by the resource's last step, so
/// a create interrupted half-way (failed step, killed apply) reads as an
/// unfinished apply, never as a change made outside rolecall.
pub const PENDING_SPEC: &str = "pending";

/// The `rolecall:spec` tag of a live resource, if any.
pub fn live_spec_hash(tags: &Tags) -> Option<&str> {
    tags.get(TAG_SPEC).map(String::as_str)
}

/// Hash of a declared spec: 16 hex digits of SHA-256 over its canonical JSON.
/// Model maps are ordered and documents canonical, so equal specs hash equal.
/// A plan hashes every declared resource: the JSON is written into a
/// buffer and hashed at once (the serialiser writes a few bytes at a time,
/// each of which the hash took in at a cost of its own), and the digits
/// are written without a `format!` each.
pub fn spec_hash<T: Serialize>(spec: &T) -> String {
    let mut json = Vec::with_capacity(1024);
    // Serialising the model's types cannot fail; if one did, the hash is
    // that of no text, as it always was.
    if serde_json::to_writer(&mut json, spec).is_err() {
        json.clear();
    }
    hex::encode(&Sha256::digest(&json)[..8])
}

/// The tags a user declared (everything but rolecall's own).
pub fn user_tags(tags: &Tags) -> Tags {
    tags.iter()
        .filter(|(k, _)| is_users(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Whether a tag of this key is the user's, not rolecall's own.
pub fn is_users(key: &str) -> bool {
    !key.starts_with(RESERVED_TAG_PREFIX)
}

/// The declared tags plus rolecall's ownership tags: what a managed resource should carry.
pub fn owned_tags(user: &Tags, stack: &str, hash: &str) -> Tags {
    let mut tags = user.clone();
    tags.insert(TAG_STACK.to_string(), stack.to_string());
    tags.insert(TAG_SPEC.to_string(), hash.to_string());
    tags
}

/// Tag changes that turn `live` into `desired`: keys to set (with values) and keys to remove.
/// `ignore_case` follows IAM: role tag keys are case-insensitive, profile tag keys are not.
pub fn tag_delta(live: &Tags, desired: &Tags, ignore_case: bool) -> (Tags, Vec<String>) {
    let fold = |k: &str| {
        if ignore_case {
            k.to_ascii_lowercase()
        } else {
            k.to_string()
        }
    };
    let live_folded: std::collections::HashMap<String, &String> =
        live.iter().map(|(k, v)| (fold(k), v)).collect();
    let desired_folded: std::collections::HashSet<String> =
        desired.keys().map(|k| fold(k)).collect();
    let set = desired
        .iter()
        .filter(|(k, v)| live_folded.get(&fold(k)) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove = live
        .keys()
        .filter(|k| !desired_folded.contains(&fold(k)))
        .cloned()
        .collect();
    (set, remove)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn role_tag_keys_compare_ignoring_case() {
        let live = tags(&[("Team", "web"), ("old", "x")]);
        let desired = tags(&[("team", "web"), ("new", "y")]);
        let (set, remove) = tag_delta(&live, &desired, true);
        assert_eq!(set, tags(&[("new", "y")]));
        assert_eq!(remove, vec!["old".to_string()]);
        let (set, remove) = tag_delta(&live, &desired, false);
        assert_eq!(set, tags(&[("new", "y"), ("team", "web")]));
        assert_eq!(remove, vec!["Team".to_string(), "old".to_string()]);
    }

    #[test]
    fn spec_hash_is_stable_and_sensitive() {
        assert_eq!(
            spec_hash(&tags(&[("a", "b")])),
            spec_hash(&tags(&[("a", "b")]))
        );
        assert_ne!(
            spec_hash(&tags(&[("a", "b")])),
            spec_hash(&tags(&[("a", "c")]))
        );
        assert_eq!(spec_hash(&1).len(), 16);
        // The hash is in every account rolecall manages: the same text
        // hashes as it always did (SHA-256 of `{"a":"b"}`, 8 bytes).
        assert_eq!(spec_hash(&tags(&[("a", "b")])), "db4a7ecb114bc66c");
    }
}
