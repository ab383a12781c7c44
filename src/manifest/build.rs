//! From validated declarations to the canonical [`Desired`]: defaults filled
//! in, stack tags merged under resource tags, every resource's place recorded.

use super::convert::{Decl, Document, TagsDecl};
use super::diagnostic::location;
use crate::model::{
    self, DEFAULT_MAX_SESSION_DURATION, DEFAULT_STACK, Desired, InstanceProfile, InstanceSelector,
    InstanceSpec, Role, Tags,
};

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
    let mut merged: Tags = stack
        .iter()
        .filter(|(key, _)| !overridden(key, own, ignore_case))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    merged.extend(own.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    merged
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

/// Builds the model, consuming the declarations. Call only when validation
/// found no error.
pub fn desired(documents: Vec<Document>) -> Desired {
    let stack_owned: Vec<(String, String)> = stack_tags(&documents)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let stack_pairs: Vec<(&str, &str)> = stack_owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut desired = Desired {
        stack: DEFAULT_STACK.to_string(),
        stack_tags: merge_tags(&stack_pairs, &[], false),
        ..Desired::default()
    };
    for doc in documents {
        match doc.decl {
            Decl::Stack(stack) => {
                if let Some(name) = stack.name {
                    desired.stack = name.value;
                }
            }
            Decl::Role(role) => {
                let tags = merge_tags(&stack_pairs, &pairs(&role.tags), true);
                let role = *role;
                // Validation reported a role without trust; nothing to build.
                let Some(trust) = role.trust else { continue };
                let name = role.name.value;
                desired
                    .locations
                    .insert(model::role_key(&name), location(&doc.file, role.name.pos));
                let role = Role {
                    name: name.clone(),
                    path: role.path.map_or_else(|| "/".into(), |p| p.value),
                    description: role.description.map(|d| d.value).unwrap_or_default(),
                    trust: trust.value.document,
                    max_session_duration: role
                        .max_session_duration
                        .and_then(|d| u32::try_from(d.value).ok())
                        .unwrap_or(DEFAULT_MAX_SESSION_DURATION),
                    permissions_boundary: role.permissions_boundary.map(|b| b.value),
                    managed_policies: role
                        .managed_policies
                        .into_iter()
                        .flat_map(|list| list.value)
                        .map(|arn| arn.value)
                        .collect(),
                    inline_policies: role
                        .inline_policies
                        .into_iter()
                        .flat_map(|list| list.value)
                        .map(|(name, policy)| (name.value, policy.value.document))
                        .collect(),
                    tags,
                };
                desired.roles.insert(name, role);
            }
            Decl::Profile(profile) => {
                let tags = merge_tags(&stack_pairs, &pairs(&profile.tags), false);
                let name = profile.name.value;
                desired.locations.insert(
                    model::profile_key(&name),
                    location(&doc.file, profile.name.pos),
                );
                let profile = InstanceProfile {
                    name: name.clone(),
                    path: profile.path.map_or_else(|| "/".into(), |p| p.value),
                    role: profile.role.map(|r| r.value),
                    tags,
                };
                desired.profiles.insert(name, profile);
            }
            Decl::Instance(instance) => {
                let (selector, pos) = match (instance.id, instance.name) {
                    (Some(id), _) => (InstanceSelector::Id(id.value), id.pos),
                    (None, Some(name)) => (InstanceSelector::Name(name.value), name.pos),
                    (None, None) => continue,
                };
                let (InstanceSelector::Id(key) | InstanceSelector::Name(key)) = &selector;
                desired
                    .locations
                    .insert(model::instance_key(key), location(&doc.file, pos));
                desired.instances.push(InstanceSpec {
                    selector,
                    profile: instance.profile.value,
                });
            }
        }
    }
    desired
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
