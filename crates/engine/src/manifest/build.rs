//! From validated declarations to the canonical [`Desired`]: defaults filled
//! in, stack tags merged under resource tags (roles' keys ignoring case, as
//! IAM compares them; profiles' and policies' as written), every resource's
//! place recorded.

use super::convert::{Decl, Document};
use super::diagnostic::location;
use super::places::PolicyPlaces;
use super::tags::{merge_tags, pairs, stack_tags};
use rolecall_model::{
    self as model, DEFAULT_MAX_SESSION_DURATION, DEFAULT_STACK, Desired, InstanceProfile,
    InstanceSelector, InstanceSpec, ManagedPolicy, Role, STACK_ACCOUNT_KEY, STACK_PARTITION_KEY,
};

/// Builds the model, consuming the declarations; with `places`, also
/// records where each role's policies are declared. Call only when
/// validation found no error.
pub fn desired(documents: Vec<Document>, mut places: Option<&mut PolicyPlaces>) -> Desired {
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
    // Gathered, then each map built at once from its sorted entries: a
    // `BTreeMap` filled one insert at a time leaves its nodes part empty
    // (300,000 resources held tens of MB of empty slots).
    let mut roles = Vec::new();
    let mut policies = Vec::new();
    let mut profiles = Vec::new();
    let mut locations = Vec::new();
    for doc in documents {
        match doc.decl {
            Decl::Stack(stack) => {
                if let (Some(places), Some(required)) =
                    (places.as_deref_mut(), &stack.require_permissions_boundary)
                    && required.value
                {
                    places.require_boundary(location(&doc.file, required.pos));
                }
                if let Some(name) = stack.name {
                    desired.stack = name.value;
                }
                if let Some(account_id) = stack.account_id {
                    locations.push((
                        STACK_ACCOUNT_KEY.into(),
                        location(&doc.file, account_id.pos),
                    ));
                    desired.account_id = Some(account_id.value);
                }
                if let Some(partition) = stack.partition {
                    locations.push((
                        STACK_PARTITION_KEY.into(),
                        location(&doc.file, partition.pos),
                    ));
                    desired.partition = Some(partition.value);
                }
            }
            Decl::Role(role) => {
                let tags = merge_tags(&stack_pairs, &pairs(&role.tags), true);
                let role = *role;
                if let (Some(places), Some(trust)) = (places.as_deref_mut(), &role.trust) {
                    places.record_role(&doc.file, &role.name.value, &role, trust.pos);
                }
                // Validation reported a role without trust; nothing to build.
                let Some(trust) = role.trust else { continue };
                let name = role.name.value;
                locations.push((model::role_key(&name), location(&doc.file, role.name.pos)));
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
                    // Names of declared policies stay names: the account
                    // they are created in makes their ARNs
                    // (`Desired::resolve_policy_names`).
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
                roles.push((name, role));
            }
            Decl::Policy(policy) => {
                // Keys as written: IAM keeps a policy's tag keys case-sensitive.
                let tags = merge_tags(&stack_pairs, &pairs(&policy.tags), false);
                if let Some(places) = places.as_deref_mut() {
                    places.record_policy(&doc.file, &policy);
                }
                let policy = *policy;
                // Validation reported a policy without a document.
                let Some(document) = policy.document else {
                    continue;
                };
                let name = policy.name.value;
                locations.push((
                    model::policy_key(&name),
                    location(&doc.file, policy.name.pos),
                ));
                let policy = ManagedPolicy {
                    name: name.clone(),
                    path: policy.path.map_or_else(|| "/".into(), |p| p.value),
                    description: policy.description.map(|d| d.value).unwrap_or_default(),
                    document: document.value.document,
                    tags,
                };
                policies.push((name, policy));
            }
            Decl::Profile(profile) => {
                let tags = merge_tags(&stack_pairs, &pairs(&profile.tags), false);
                let name = profile.name.value;
                locations.push((
                    model::profile_key(&name),
                    location(&doc.file, profile.name.pos),
                ));
                let profile = InstanceProfile {
                    name: name.clone(),
                    path: profile.path.map_or_else(|| "/".into(), |p| p.value),
                    role: profile.role.map(|r| r.value),
                    tags,
                };
                profiles.push((name, profile));
            }
            Decl::Instance(instance) => {
                let (selector, pos) = match (instance.id, instance.name) {
                    (Some(id), _) => (InstanceSelector::Id(id.value), id.pos),
                    (None, Some(name)) => (InstanceSelector::Name(name.value), name.pos),
                    (None, None) => continue,
                };
                let (InstanceSelector::Id(key) | InstanceSelector::Name(key)) = &selector;
                locations.push((model::instance_key(key), location(&doc.file, pos)));
                desired.instances.push(InstanceSpec {
                    selector,
                    profile: instance.profile.value,
                });
            }
        }
    }
    // `collect` keeps the last of a repeated name, as inserting did.
    desired.roles = roles.into_iter().collect();
    desired.policies = policies.into_iter().collect();
    desired.profiles = profiles.into_iter().collect();
    desired.locations = locations.into_iter().collect();
    desired
}
