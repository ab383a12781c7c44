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
///
/// The declarations are built in contiguous parts that every core takes
/// in turn ([`crate::parallel::parts`]), and the parts joined in order:
/// the model is the one a single pass gives (a large stack's 300,000
/// declarations took a fifth of a second on one core, beside nothing).
pub fn desired(documents: Vec<Document>, places: Option<&mut PolicyPlaces>) -> Desired {
    let threads = crate::parallel::threads_for(documents.len(), DOCUMENTS_WORTH_A_THREAD);
    desired_among(documents, places, threads)
}

/// [`desired`], on `threads` threads (the calling one among them).
fn desired_among(
    documents: Vec<Document>,
    mut places: Option<&mut PolicyPlaces>,
    threads: usize,
) -> Desired {
    let stack_owned: Vec<(String, String)> = stack_tags(&documents)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let stack_pairs: Vec<(&str, &str)> = stack_owned
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let recording = places.is_some();
    let parts = crate::parallel::parts(documents, threads, |documents| {
        Part::of(documents, &stack_pairs, recording)
    });
    let mut desired = Desired {
        stack: DEFAULT_STACK.to_string(),
        stack_tags: merge_tags(&stack_pairs, &[], false),
        ..Desired::default()
    };
    let total = |count: fn(&Part) -> usize| parts.iter().map(count).sum::<usize>();
    let mut roles = Vec::with_capacity(total(|part| part.roles.len()));
    let mut policies = Vec::with_capacity(total(|part| part.policies.len()));
    let mut profiles = Vec::with_capacity(total(|part| part.profiles.len()));
    let mut locations = Vec::with_capacity(total(|part| part.locations.len()));
    desired
        .instances
        .reserve(total(|part| part.instances.len()));
    // In order, later parts over earlier ones, as one pass would assign.
    for part in parts {
        if let Some(name) = part.stack {
            desired.stack = name;
        }
        if part.account_id.is_some() {
            desired.account_id = part.account_id;
        }
        if part.partition.is_some() {
            desired.partition = part.partition;
        }
        roles.extend(part.roles);
        policies.extend(part.policies);
        profiles.extend(part.profiles);
        locations.extend(part.locations);
        desired.instances.extend(part.instances);
        if let (Some(places), Some(theirs)) = (places.as_deref_mut(), part.places) {
            places.absorb(theirs);
        }
    }
    // Each map built at once from its sorted entries (a `BTreeMap` filled
    // one insert at a time leaves its nodes part empty: 300,000 resources
    // held tens of MB of empty slots), the largest two beside the rest
    // when there are threads to spare. `collect` keeps the last of a
    // repeated name, as inserting did.
    if threads <= 1 {
        desired.roles = roles.into_iter().collect();
        desired.locations = locations.into_iter().collect();
        desired.policies = policies.into_iter().collect();
        desired.profiles = profiles.into_iter().collect();
        return desired;
    }
    std::thread::scope(|scope| {
        let roles = scope.spawn(move || roles.into_iter().collect());
        let locations = scope.spawn(move || locations.into_iter().collect());
        desired.policies = policies.into_iter().collect();
        desired.profiles = profiles.into_iter().collect();
        desired.roles = crate::parallel::joined(roles);
        desired.locations = crate::parallel::joined(locations);
    });
    desired
}

/// Declarations fewer than this a core are built on the calling thread.
const DOCUMENTS_WORTH_A_THREAD: usize = 2_000;

/// What a part of the declarations builds, in their order.
#[derive(Default)]
struct Part {
    stack: Option<String>,
    account_id: Option<String>,
    partition: Option<String>,
    roles: Vec<(String, Role)>,
    policies: Vec<(String, ManagedPolicy)>,
    profiles: Vec<(String, InstanceProfile)>,
    instances: Vec<InstanceSpec>,
    locations: Vec<(String, model::Location)>,
    /// The policies' places, when they are recorded.
    places: Option<PolicyPlaces>,
}

impl Part {
    fn of(documents: Vec<Document>, stack_pairs: &[(&str, &str)], recording: bool) -> Part {
        let mut part = Part {
            places: recording.then(PolicyPlaces::default),
            ..Part::default()
        };
        for doc in documents {
            match doc.decl {
                Decl::Stack(stack) => {
                    if let (Some(places), Some(required)) =
                        (part.places.as_mut(), &stack.require_permissions_boundary)
                        && required.value
                    {
                        places.require_boundary(location(&doc.file, required.pos));
                    }
                    if let Some(name) = stack.name {
                        part.stack = Some(name.value);
                    }
                    if let Some(account_id) = stack.account_id {
                        part.locations.push((
                            STACK_ACCOUNT_KEY.into(),
                            location(&doc.file, account_id.pos),
                        ));
                        part.account_id = Some(account_id.value);
                    }
                    if let Some(partition) = stack.partition {
                        part.locations.push((
                            STACK_PARTITION_KEY.into(),
                            location(&doc.file, partition.pos),
                        ));
                        part.partition = Some(partition.value);
                    }
                }
                Decl::Role(role) => {
                    let tags = merge_tags(stack_pairs, &pairs(&role.tags), true);
                    let role = *role;
                    if let (Some(places), Some(trust)) = (part.places.as_mut(), &role.trust) {
                        places.record_role(&doc.file, &role.name.value, &role, trust.pos);
                    }
                    // Validation reported a role without trust; nothing to build.
                    let Some(trust) = role.trust else { continue };
                    let name = role.name.value;
                    part.locations
                        .push((model::role_key(&name), location(&doc.file, role.name.pos)));
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
                    part.roles.push((name, role));
                }
                Decl::Policy(policy) => {
                    // Keys as written: IAM keeps a policy's tag keys case-sensitive.
                    let tags = merge_tags(stack_pairs, &pairs(&policy.tags), false);
                    if let Some(places) = part.places.as_mut() {
                        places.record_policy(&doc.file, &policy);
                    }
                    let policy = *policy;
                    // Validation reported a policy without a document.
                    let Some(document) = policy.document else {
                        continue;
                    };
                    let name = policy.name.value;
                    part.locations.push((
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
                    part.policies.push((name, policy));
                }
                Decl::Profile(profile) => {
                    let tags = merge_tags(stack_pairs, &pairs(&profile.tags), false);
                    let name = profile.name.value;
                    part.locations.push((
                        model::profile_key(&name),
                        location(&doc.file, profile.name.pos),
                    ));
                    let profile = InstanceProfile {
                        name: name.clone(),
                        path: profile.path.map_or_else(|| "/".into(), |p| p.value),
                        role: profile.role.map(|r| r.value),
                        tags,
                    };
                    part.profiles.push((name, profile));
                }
                Decl::Instance(instance) => {
                    let (selector, pos) = match (instance.id, instance.name) {
                        (Some(id), _) => (InstanceSelector::Id(id.value), id.pos),
                        (None, Some(name)) => (InstanceSelector::Name(name.value), name.pos),
                        (None, None) => continue,
                    };
                    let (InstanceSelector::Id(key) | InstanceSelector::Name(key)) = &selector;
                    part.locations
                        .push((model::instance_key(key), location(&doc.file, pos)));
                    part.instances.push(InstanceSpec {
                        selector,
                        profile: instance.profile.value,
                    });
                }
            }
        }
        part
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::manifest::{convert, raw};

    /// The declarations of one manifest file's text.
    fn documents(text: &str) -> Vec<Document> {
        let parsed = raw::parse_file(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let mut diagnostics = Vec::new();
        let mut ctx = convert::Ctx::new(
            Arc::from("stack.yaml"),
            Path::new(""),
            Path::new(""),
            &mut diagnostics,
        );
        let documents = (parsed.documents.iter())
            .filter_map(|document| convert::document(document, &mut ctx))
            .collect();
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        documents
    }

    /// Built in parts on several threads, the model and the policies' places are
    /// those one pass gives: every declaration kept, in order, the stack's
    /// settings and the places of every part.
    #[test]
    fn declarations_built_in_parts_build_what_one_pass_builds() {
        let mut text = String::new();
        for n in 0..300 {
            text.push_str(&format!(
                "kind: Role\nname: role-{n}\ntrust: ec2\n\
                 permissions_boundary: arn:aws:iam::aws:policy/PowerUserAccess\n\
                 managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess, shared]\n\
                 inline_policies:\n  logs: {{Version: \"2012-10-17\", Statement: [{{Effect: Allow, Action: \"logs:PutLogEvents\", Resource: \"*\"}}]}}\n\
                 tags: {{team: t{n}}}\n\
                 lint_ignore: {{wildcard-resource-on-write: reason {n}}}\n---\n\
                 kind: InstanceProfile\nname: profile-{n}\nrole: role-{n}\n---\n\
                 kind: Instance\nname: web-{n}\nprofile: profile-{n}\n---\n"
            ));
            if n == 150 {
                // In the middle: a stack with tags, which every part merges.
                text.push_str(
                    "kind: Stack\nname: parts\naccount_id: \"111122223333\"\npartition: aws\n\
                     require_permissions_boundary: true\ntags: {owner: platform}\n---\n\
                     kind: ManagedPolicy\nname: shared\n\
                     document: {Version: \"2012-10-17\", Statement: [{Effect: Allow, Action: \"s3:GetObject\", Resource: \"*\"}]}\n\
                     lint_ignore: {unknown-action: a reason}\n---\n",
                );
            }
        }
        let (mut whole, mut in_parts) = (PolicyPlaces::default(), PolicyPlaces::default());
        let one_pass = desired_among(documents(&text), Some(&mut whole), 1);
        let parted = desired_among(documents(&text), Some(&mut in_parts), 3);
        assert_eq!(parted, one_pass);
        assert_eq!(in_parts, whole);
        // Not two empty builds: everything is there.
        assert_eq!(
            (
                one_pass.roles.len(),
                one_pass.profiles.len(),
                one_pass.instances.len()
            ),
            (300, 300, 300)
        );
        assert_eq!(one_pass.stack, "parts");
        assert_eq!(one_pass.account_id.as_deref(), Some("111122223333"));
        assert_eq!(one_pass.partition.as_deref(), Some("aws"));
        assert!(one_pass.locations.contains_key(STACK_ACCOUNT_KEY));
        assert!(one_pass.locations.contains_key("instance/web-299"));
        assert_eq!(
            one_pass.roles["role-299"]
                .tags
                .get("owner")
                .map(String::as_str),
            Some("platform")
        );
        assert!(whole.boundary_required().is_some());
        assert!(whole.trust("role-0").is_some() && whole.trust("role-299").is_some());
        assert!(
            whole
                .ignored("role/role-299", "wildcard-resource-on-write")
                .is_some()
        );
        assert!(whole.ignored("policy/shared", "unknown-action").is_some());
    }
}
