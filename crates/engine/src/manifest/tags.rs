//! Tags as declared: a resource's own tags and the stack's, merged the way
//! both validation (counting them) and building (making them) need.

use super::convert::{Decl, Document, TagsDecl};
use rolecall_model::Tags;

/// Tags as plain pairs, in manifest order.
pub fn pairs(tags: &Option<TagsDecl>) -> Vec<(&str, &str)> {
    tags.iter()
        .flat_map(|tags| &tags.value)
        .map(|tag| (tag.key.value.as_str(), tag.value.value.as_str()))
        .collect()
}

/// Stack tags under a resource's own tags: the resource's win. Role tag keys
/// are compared ignoring case, as IAM does; profile tag keys are case-sensitive.
pub fn merge_tags(stack: &[(&str, &str)], own: &[(&str, &str)], ignore_case: bool) -> Tags {
    // Gathered at their number first (exact unless a resource overrides a
    // stack tag): collecting the two parts one after the other grew the
    // vector past it (300,000 resources' tags).
    let mut pairs = Vec::with_capacity(stack.len() + own.len());
    pairs.extend(
        stack
            .iter()
            .filter(|(key, _)| !overridden(key, own, ignore_case))
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    // After the stack's: on a repeated key, the last wins.
    pairs.extend(own.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    pairs.into_iter().collect()
}

/// How many tags [`merge_tags`] yields, without building them.
pub fn merged_count(stack: &[(&str, &str)], own: &[(&str, &str)], ignore_case: bool) -> usize {
    let kept = stack
        .iter()
        .filter(|(key, _)| !overridden(key, own, ignore_case))
        .count();
    kept + own.len()
}

/// Whether a resource's own tags replace the stack tag `key`.
fn overridden(key: &str, own: &[(&str, &str)], ignore_case: bool) -> bool {
    own.iter().any(|(own_key, _)| {
        if !ignore_case {
            key == *own_key
        } else if key.is_ascii() && own_key.is_ascii() {
            key.eq_ignore_ascii_case(own_key)
        } else {
            key.to_lowercase() == own_key.to_lowercase()
        }
    })
}

/// The stack's tags as pairs (no stack document: none).
pub fn stack_tags(documents: &[Document]) -> Vec<(&str, &str)> {
    documents
        .iter()
        .find_map(|doc| match &doc.decl {
            Decl::Stack(stack) => Some(pairs(&stack.tags)),
            _ => None,
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_tags_win_role_keys_ignore_case() {
        let stack = [("owner", "platform"), ("env", "prod")];
        let role = merge_tags(&stack, &[("Owner", "web")], true);
        assert_eq!(
            role.into_iter().collect::<Vec<_>>(),
            [
                ("Owner".into(), "web".into()),
                ("env".into(), "prod".into())
            ]
        );
        let profile = merge_tags(&stack, &[("Owner", "web")], false);
        assert_eq!(profile.len(), 3);
    }
}
