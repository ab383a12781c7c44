//! From validated declarations to the canonical [`Desired`]: defaults filled
//! in, stack tags merged under resource tags, every resource's place recorded.

use super::convert::{Decl, Document, TagsDecl};
use crate::model::{
    self, DEFAULT_MAX_SESSION_DURATION, DEFAULT_STACK, Desired, InstanceProfile, InstanceSelector,
    InstanceSpec, Location, Role, Tags,
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
    let same = |a: &str, b: &str| {
        if ignore_case {
            a.to_lowercase() == b.to_lowercase()
        } else {
            a == b
        }
    };
    let mut merged: Tags = stack
        .iter()
        .filter(|(key, _)| !own.iter().any(|(own_key, _)| same(key, own_key)))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    merged.extend(own.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    merged
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

/// Builds the model. Call only when validation found no error.
pub fn desired(documents: &[Document]) -> Desired {
    let stack_pairs = stack_tags(documents);
    let mut desired = Desired {
        stack: DEFAULT_STACK.to_string(),
        stack_tags: merge_tags(&stack_pairs, &[], false),
        ..Desired::default()
    };
    for doc in documents {
        let location = |pos: super::raw::Pos| Location {
            file: doc.file.to_string(),
            line: pos.line,
            column: pos.column,
        };
        match &doc.decl {
            Decl::Stack(stack) => {
                if let Some(name) = &stack.name {
                    desired.stack = name.value.clone();
                }
            }
            Decl::Role(role) => {
                // Validation reported a role without trust; nothing to build.
                let Some(trust) = &role.trust else { continue };
                let name = role.name.value.clone();
                desired
                    .locations
                    .insert(model::role_key(&name), location(role.name.pos));
                desired.roles.insert(
                    name.clone(),
                    Role {
                        name,
                        path: role.path.as_ref().map_or("/".into(), |p| p.value.clone()),
                        description: role
                            .description
                            .as_ref()
                            .map_or(String::new(), |d| d.value.clone()),
                        trust: trust.value.clone(),
                        max_session_duration: role
                            .max_session_duration
                            .as_ref()
                            .and_then(|d| u32::try_from(d.value).ok())
                            .unwrap_or(DEFAULT_MAX_SESSION_DURATION),
                        permissions_boundary: role
                            .permissions_boundary
                            .as_ref()
                            .map(|b| b.value.clone()),
                        managed_policies: role
                            .managed_policies
                            .iter()
                            .flat_map(|list| &list.value)
                            .map(|arn| arn.value.clone())
                            .collect(),
                        inline_policies: role
                            .inline_policies
                            .iter()
                            .flat_map(|list| &list.value)
                            .map(|(name, document)| (name.value.clone(), document.value.clone()))
                            .collect(),
                        tags: merge_tags(&stack_pairs, &pairs(&role.tags), true),
                    },
                );
            }
            Decl::Profile(profile) => {
                let name = profile.name.value.clone();
                desired
                    .locations
                    .insert(model::profile_key(&name), location(profile.name.pos));
                desired.profiles.insert(
                    name.clone(),
                    InstanceProfile {
                        name,
                        path: profile
                            .path
                            .as_ref()
                            .map_or("/".into(), |p| p.value.clone()),
                        role: profile.role.as_ref().map(|r| r.value.clone()),
                        tags: merge_tags(&stack_pairs, &pairs(&profile.tags), false),
                    },
                );
            }
            Decl::Instance(instance) => {
                let (selector, pos) = match (&instance.id, &instance.name) {
                    (Some(id), _) => (InstanceSelector::Id(id.value.clone()), id.pos),
                    (None, Some(name)) => (InstanceSelector::Name(name.value.clone()), name.pos),
                    (None, None) => continue,
                };
                let key = match &selector {
                    InstanceSelector::Id(id) | InstanceSelector::Name(id) => {
                        model::instance_key(id)
                    }
                };
                desired.locations.insert(key, location(pos));
                desired.instances.push(InstanceSpec {
                    selector,
                    profile: instance.profile.value.clone(),
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
