//! Import: adopt existing, unowned resources the manifests declare, by
//! tagging them with the ownership tags and changing nothing else. All or
//! nothing: every resource is checked before any is tagged, and what was
//! tagged is given back if a later call fails.
//!
//! The CLI (`cli::import`) keeps the arguments, the notes and the printing.

use crate::compare::ownership::{self, Owner};
use rolecall_cloud::ec2::{CreateTagsRequest, DeleteTagsRequest, TagKeyMaybeValue};
use rolecall_cloud::iam::{
    Tag, TagInstanceProfileRequest, TagPolicyRequest, TagRoleRequest, UntagInstanceProfileRequest,
    UntagPolicyRequest, UntagRoleRequest,
};
use rolecall_cloud::{Cloud, CloudError};
use rolecall_model::{
    Desired, InstanceSelector, Live, LiveInstance, MAX_TAGS, OWNERSHIP_TAG_COUNT, ResourceKey,
    TAG_SPEC, TAG_STACK, Tags, instance_key, policy_key, profile_key, resource_title, role_key,
};

/// The spec tag of an adopted resource: matches no declared hash, so its
/// differences read as pending changes until the first apply.
pub const IMPORTED: &str = "imported";

/// What to tag: the resource key and the live tags that say who owns it.
/// A policy is tagged by its ARN.
pub enum Target<'a> {
    Policy(&'a str, &'a Tags),
    Role(&'a str, &'a Tags),
    Profile(&'a str, &'a Tags),
    Instance(&'a str, &'a Tags),
}

impl Target<'_> {
    pub fn tags(&self) -> &Tags {
        match self {
            Target::Policy(_, t)
            | Target::Role(_, t)
            | Target::Profile(_, t)
            | Target::Instance(_, t) => t,
        }
    }
}

/// The resource as messages name it: an instance by its id and Name tag
/// (`instance/i-0abc… (web-1)`), whichever way it was asked for.
pub fn title(key: &str, target: &Target, live: &Live) -> String {
    match target {
        Target::Instance(id, _) => resource_title(
            &instance_key(id),
            live.instances.get(*id).and_then(|i| i.name.as_deref()),
        ),
        _ => key.to_string(),
    }
}

fn absent(key: &str) -> String {
    format!("{key}: declared, but not in the account: `rolecall apply` creates it")
}

/// Why a declared IAM name is not in the account: absent, or there in
/// another case (IAM names ignore case, so apply could not create it either).
fn absent_iam<V>(key: &str, name: &str, live: &std::collections::BTreeMap<String, V>) -> String {
    match live.keys().find(|k| k.eq_ignore_ascii_case(name)) {
        Some(twin) => format!(
            "{key}: the account has `{twin}`; IAM names ignore case, so declare it as `{twin}`, then import it"
        ),
        None => absent(key),
    }
}

/// The live resource `key` names, if the manifests declare it; otherwise
/// why it cannot be imported.
pub fn find<'a>(desired: &Desired, live: &'a Live, key: &str) -> Result<Target<'a>, String> {
    let not_declared =
        || format!("{key}: not declared in the manifests; declare it first, then import it");
    match key.parse::<ResourceKey>().map_err(|e| e.to_string())? {
        ResourceKey::Policy(name) => {
            desired.policies.get(&name).ok_or_else(not_declared)?;
            let policy = live
                .policies
                .get(&name)
                .ok_or_else(|| absent_iam(key, &name, &live.policies))?;
            Ok(Target::Policy(&policy.arn, &policy.policy.tags))
        }
        ResourceKey::Role(name) => {
            desired.roles.get(&name).ok_or_else(not_declared)?;
            let role = live
                .roles
                .get(&name)
                .ok_or_else(|| absent_iam(key, &name, &live.roles))?;
            Ok(Target::Role(&role.role.name, &role.role.tags))
        }
        ResourceKey::Profile(name) => {
            desired.profiles.get(&name).ok_or_else(not_declared)?;
            let profile = live
                .profiles
                .get(&name)
                .ok_or_else(|| absent_iam(key, &name, &live.profiles))?;
            Ok(Target::Profile(
                &profile.profile.name,
                &profile.profile.tags,
            ))
        }
        // An id is the instance of that id, whatever Name another
        // carries: the manifests declare no Name shaped like an id
        // (validation refuses it), so an id-shaped Name is none of theirs.
        ResourceKey::InstanceById(id) => {
            let instance = live.instances.get(&id);
            let declared = desired.instances.iter().any(|i| match &i.selector {
                InstanceSelector::Id(declared) => *declared == id,
                InstanceSelector::Name(name) => {
                    instance.is_some_and(|l| l.name.as_deref() == Some(name))
                }
            });
            if !declared {
                return Err(not_declared());
            }
            let instance = instance.ok_or_else(|| absent(key))?;
            Ok(Target::Instance(&instance.instance_id, &instance.tags))
        }
        ResourceKey::InstanceByName(name) => {
            let declared = desired.instances.iter().any(
                |i| matches!(&i.selector, InstanceSelector::Name(declared) if *declared == name),
            );
            if !declared {
                return Err(not_declared());
            }
            let mut matches = live
                .instances
                .values()
                .filter(|i| i.name.as_deref() == Some(name.as_str()));
            let instance = matches.next().ok_or_else(|| absent(key))?;
            if matches.next().is_some() {
                return Err(format!(
                    "{key}: several instances match; import it by id (instance/i-…)"
                ));
            }
            Ok(Target::Instance(&instance.instance_id, &instance.tags))
        }
    }
}

/// The keys of every declared resource the account holds unowned.
pub fn all_declared(desired: &Desired, live: &Live) -> Vec<String> {
    let mut keys = Vec::new();
    for name in desired.policies.keys() {
        if live
            .policies
            .get(name)
            .is_some_and(|p| ownership::owner(&p.policy.tags) == Owner::Nobody)
        {
            keys.push(policy_key(name));
        }
    }
    for name in desired.roles.keys() {
        if live
            .roles
            .get(name)
            .is_some_and(|r| ownership::owner(&r.role.tags) == Owner::Nobody)
        {
            keys.push(role_key(name));
        }
    }
    for name in desired.profiles.keys() {
        if live
            .profiles
            .get(name)
            .is_some_and(|p| ownership::owner(&p.profile.tags) == Owner::Nobody)
        {
            keys.push(profile_key(name));
        }
    }
    // Instances by Name tag, indexed once rather than scanned per declared
    // instance.
    let mut by_name: std::collections::HashMap<&str, Vec<&LiveInstance>> = Default::default();
    for instance in live.instances.values() {
        if let Some(name) = &instance.name {
            by_name.entry(name).or_default().push(instance);
        }
    }
    for spec in &desired.instances {
        let found = match &spec.selector {
            InstanceSelector::Id(id) => live.instances.get(id),
            InstanceSelector::Name(name) => match by_name.get(name.as_str()).map(Vec::as_slice) {
                Some([one]) => Some(*one),
                // Several carry the name: import it by name, which refuses
                // ambiguity (as `import instance/NAME` does), never picks one.
                Some([_, _, ..]) => {
                    keys.push(instance_key(name));
                    None
                }
                _ => None,
            },
        };
        if let Some(instance) = found
            && ownership::owner(&instance.tags) == Owner::Nobody
        {
            keys.push(instance_key(&instance.instance_id));
        }
    }
    keys
}

/// Adopting adds the two ownership tags: refuse before tagging anything when
/// that would take a resource over AWS's limit of 50 tags.
pub fn room_for_ownership_tags(key: &str, target: &Target) -> Result<(), String> {
    let own = target
        .tags()
        .keys()
        .filter(|k| **k == TAG_STACK || **k == TAG_SPEC)
        .count();
    let after = target.tags().len() - own + OWNERSHIP_TAG_COUNT;
    if after > MAX_TAGS {
        return Err(format!(
            "{key}: has {} tags; adopting it adds `{TAG_STACK}` and `{TAG_SPEC}`, over AWS's limit of {MAX_TAGS}: remove {} of its tags first",
            target.tags().len(),
            after - MAX_TAGS
        ));
    }
    Ok(())
}

/// Tags one resource with the ownership tags of `stack`.
pub fn adopt(cloud: &dyn Cloud, target: &Target, stack: &str) -> Result<(), CloudError> {
    let tags = vec![Tag::new(TAG_STACK, stack), Tag::new(TAG_SPEC, IMPORTED)];
    match target {
        Target::Policy(arn, _) => cloud.tag_policy(&TagPolicyRequest {
            policy_arn: arn.to_string(),
            tags,
        })?,
        Target::Role(name, _) => cloud.tag_role(&TagRoleRequest {
            role_name: name.to_string(),
            tags,
        })?,
        Target::Profile(name, _) => cloud.tag_instance_profile(&TagInstanceProfileRequest {
            instance_profile_name: name.to_string(),
            tags,
        })?,
        Target::Instance(id, _) => cloud.create_tags(&CreateTagsRequest {
            resources: vec![id.to_string()],
            tags,
        })?,
    }
    Ok(())
}

/// Takes the ownership tags off again: undoes [`adopt`] when a later
/// resource of the same import fails.
pub fn release(cloud: &dyn Cloud, target: &Target) -> Result<(), CloudError> {
    let keys = vec![TAG_STACK.to_string(), TAG_SPEC.to_string()];
    match target {
        Target::Policy(arn, _) => cloud.untag_policy(&UntagPolicyRequest {
            policy_arn: arn.to_string(),
            tag_keys: keys,
        }),
        Target::Role(name, _) => cloud.untag_role(&UntagRoleRequest {
            role_name: name.to_string(),
            tag_keys: keys,
        }),
        Target::Profile(name, _) => cloud.untag_instance_profile(&UntagInstanceProfileRequest {
            instance_profile_name: name.to_string(),
            tag_keys: keys,
        }),
        Target::Instance(id, _) => cloud.delete_tags(&DeleteTagsRequest {
            resources: vec![id.to_string()],
            tags: keys
                .into_iter()
                .map(|key| TagKeyMaybeValue { key, value: None })
                .collect(),
        }),
    }
    .map(drop)
}

/// What an import of some keys would do, found before anything is tagged.
#[derive(Default)]
pub struct Selection<'a> {
    /// Unowned resources to adopt, each with its title for messages.
    pub targets: Vec<(String, Target<'a>)>,
    /// Titles of resources this stack already owns: nothing to do.
    pub already_managed: Vec<String>,
    /// Why some keys cannot be imported; any problem means nothing is.
    pub problems: Vec<String>,
}

/// Checks every key against the manifests and the account, in order.
pub fn select<'a>(desired: &Desired, live: &'a Live, keys: &[String]) -> Selection<'a> {
    let mut selection = Selection::default();
    for key in keys {
        match find(desired, live, key) {
            Ok(target) => {
                let title = title(key, &target, live);
                match ownership::owner(target.tags()) {
                    Owner::Nobody => match room_for_ownership_tags(&title, &target) {
                        Ok(()) => selection.targets.push((title, target)),
                        Err(problem) => selection.problems.push(problem),
                    },
                    Owner::Stack(stack) if stack == desired.stack => {
                        selection.already_managed.push(title);
                    }
                    Owner::Stack(stack) => selection.problems.push(format!(
                        "{title}: owned by stack `{stack}`; rolecall never takes another stack's resources"
                    )),
                }
            }
            Err(problem) => selection.problems.push(problem),
        }
    }
    selection
}

/// Adopts every target into `stack`, in order. All or nothing: when a call
/// fails, what this import already adopted is given back, and the error
/// says what failed and what could not be given back.
pub fn adopt_all(
    cloud: &dyn Cloud,
    targets: &[(String, Target)],
    stack: &str,
) -> Result<(), String> {
    for (done, (key, target)) in targets.iter().enumerate() {
        if let Err(error) = adopt(cloud, target, stack) {
            let mut message = format!("nothing imported: {key}: {error}");
            for (undo_key, undo) in targets[..done].iter().rev() {
                if let Err(undo_error) = release(cloud, undo) {
                    message.push_str(&format!(
                        "\n  and {undo_key} could not be given back ({undo_error}): remove its `{TAG_STACK}` tag by hand, e.g. with `rolecall emulator`"
                    ));
                }
            }
            return Err(message);
        }
    }
    Ok(())
}
