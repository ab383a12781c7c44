//! `rolecall import`: adopt existing, unowned, declared resources.

use anyhow::bail;
use clap::Args;

use super::output::{errln, out, outln};
use super::{GlobalArgs, ManifestArgs, Outcome, account, output};
use std::time::Duration;

use crate::cloud::ec2::{CreateTagsRequest, DeleteTagsRequest, TagKeyMaybeValue};
use crate::cloud::iam::{
    Tag, TagInstanceProfileRequest, TagRoleRequest, UntagInstanceProfileRequest, UntagRoleRequest,
};
use crate::cloud::{Cloud, CloudError};
use crate::model::{
    Desired, InstanceSelector, Live, LiveInstance, MAX_TAGS, OWNERSHIP_TAG_COUNT, TAG_SPEC,
    TAG_STACK, Tags, instance_key, resource_title,
};
use crate::plan;
use crate::plan::ownership::{self, Owner};
use crate::plan::render;

/// The spec tag of an adopted resource: matches no declared hash, so its
/// differences read as pending changes until the first apply.
pub const IMPORTED: &str = "imported";

const IMPORT_HELP: &str = "\
Examples:
  rolecall import role/web-server instance-profile/web-server
  rolecall import instance/i-0123456789abcdef0
  rolecall import --all-declared           every declared resource that exists unowned

Import tags each resource with rolecall:stack (and rolecall:spec) and changes
nothing else, then prints the plan the next apply would run to make it match
the manifests. Resources owned by another stack are refused.";

#[derive(Debug, Args)]
#[command(after_help = IMPORT_HELP)]
pub struct ImportArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Resources to adopt: role/NAME, instance-profile/NAME, instance/ID (or instance/NAME)
    #[arg(value_name = "RESOURCE", required_unless_present = "all_declared")]
    pub resources: Vec<String>,
    /// Adopt every declared resource that exists in the account unowned
    #[arg(long, conflicts_with = "resources")]
    pub all_declared: bool,
    /// How long to wait for another rolecall's lock on the account (an apply)
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = super::apply::parse_duration)]
    pub lock_timeout: Duration,
}

/// What to tag: the resource key and the live tags that say who owns it.
enum Target<'a> {
    Role(&'a str, &'a Tags),
    Profile(&'a str, &'a Tags),
    Instance(&'a str, &'a Tags),
}

impl Target<'_> {
    fn tags(&self) -> &Tags {
        match self {
            Target::Role(_, t) | Target::Profile(_, t) | Target::Instance(_, t) => t,
        }
    }
}

/// The resource as messages name it: an instance by its id and Name tag
/// (`instance/i-0abc… (web-1)`), whichever way it was asked for.
fn title(key: &str, target: &Target, live: &Live) -> String {
    match target {
        Target::Instance(id, _) => resource_title(
            &instance_key(id),
            live.instances.get(*id).and_then(|i| i.name.as_deref()),
        ),
        _ => key.to_string(),
    }
}

fn absent(key: &str) -> anyhow::Error {
    anyhow::anyhow!("{key}: declared, but not in the account: `rolecall apply` creates it")
}

/// Why a declared IAM name is not in the account: absent, or there in
/// another case (IAM names ignore case, so apply could not create it either).
fn absent_iam<V>(
    key: &str,
    name: &str,
    live: &std::collections::BTreeMap<String, V>,
) -> anyhow::Error {
    match live.keys().find(|k| k.eq_ignore_ascii_case(name)) {
        Some(twin) => anyhow::anyhow!(
            "{key}: the account has `{twin}`; IAM names ignore case, so declare it as `{twin}`, then import it"
        ),
        None => absent(key),
    }
}

fn find<'a>(desired: &Desired, live: &'a Live, key: &str) -> anyhow::Result<Target<'a>> {
    let not_declared = || {
        anyhow::anyhow!("{key}: not declared in the manifests; declare it first, then import it")
    };
    if let Some(name) = key.strip_prefix("role/") {
        desired.roles.get(name).ok_or_else(not_declared)?;
        let role = live
            .roles
            .get(name)
            .ok_or_else(|| absent_iam(key, name, &live.roles))?;
        return Ok(Target::Role(&role.role.name, &role.role.tags));
    }
    if let Some(name) = key.strip_prefix("instance-profile/") {
        desired.profiles.get(name).ok_or_else(not_declared)?;
        let profile = live
            .profiles
            .get(name)
            .ok_or_else(|| absent_iam(key, name, &live.profiles))?;
        return Ok(Target::Profile(
            &profile.profile.name,
            &profile.profile.tags,
        ));
    }
    if let Some(id_or_name) = key.strip_prefix("instance/") {
        let declared = desired.instances.iter().any(|i| match &i.selector {
            InstanceSelector::Id(id) => id == id_or_name,
            InstanceSelector::Name(name) => {
                name == id_or_name
                    || live
                        .instances
                        .get(id_or_name)
                        .is_some_and(|l| l.name.as_deref() == Some(name))
            }
        });
        if !declared {
            return Err(not_declared());
        }
        let mut matches = live
            .instances
            .values()
            .filter(|i| i.instance_id == id_or_name || i.name.as_deref() == Some(id_or_name));
        let instance = matches.next().ok_or_else(|| absent(key))?;
        if matches.next().is_some() {
            bail!("{key}: several instances match; import it by id (instance/i-…)");
        }
        return Ok(Target::Instance(&instance.instance_id, &instance.tags));
    }
    bail!("{key}: not a resource key; use role/NAME, instance-profile/NAME or instance/ID")
}

fn all_declared(desired: &Desired, live: &Live) -> Vec<String> {
    let mut keys = Vec::new();
    for name in desired.roles.keys() {
        if live
            .roles
            .get(name)
            .is_some_and(|r| ownership::owner(&r.role.tags) == Owner::Nobody)
        {
            keys.push(format!("role/{name}"));
        }
    }
    for name in desired.profiles.keys() {
        if live
            .profiles
            .get(name)
            .is_some_and(|p| ownership::owner(&p.profile.tags) == Owner::Nobody)
        {
            keys.push(format!("instance-profile/{name}"));
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
fn room_for_ownership_tags(key: &str, target: &Target) -> Result<(), String> {
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

fn adopt(cloud: &dyn Cloud, target: &Target, stack: &str) -> anyhow::Result<()> {
    let tags = vec![Tag::new(TAG_STACK, stack), Tag::new(TAG_SPEC, IMPORTED)];
    match target {
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
fn release(cloud: &dyn Cloud, target: &Target) -> Result<(), CloudError> {
    let keys = vec![TAG_STACK.to_string(), TAG_SPEC.to_string()];
    match target {
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

pub fn run(global: &GlobalArgs, args: ImportArgs) -> anyhow::Result<Outcome> {
    let loaded = account::load(global, &args.manifests)?;
    let desired = loaded.desired;
    if account::is_missing(global)? {
        bail!(
            "nothing to import: there is no emulated account at {} (import adopts what an account already holds)",
            global.account_path().display()
        );
    }
    // Import writes: never beside a running apply.
    let _lock = account::lock(global, "rolecall import", args.lock_timeout)?;
    let cloud = account::open(global)?;
    let live = account::snapshot(cloud.as_ref())?;
    let keys = if args.all_declared {
        all_declared(&desired, &live)
    } else {
        args.resources.clone()
    };
    // Check every resource before tagging any: all or nothing.
    let mut targets = Vec::new();
    let mut problems = Vec::new();
    for key in &keys {
        match find(&desired, &live, key) {
            Ok(target) => {
                let title = title(key, &target, &live);
                match ownership::owner(target.tags()) {
                    Owner::Nobody => match room_for_ownership_tags(&title, &target) {
                        Ok(()) => targets.push((title, target)),
                        Err(problem) => problems.push(problem),
                    },
                    Owner::Stack(stack) if stack == desired.stack => {
                        if !global.quiet {
                            errln!("note: {title} is already managed by stack `{stack}`");
                        }
                    }
                    Owner::Stack(stack) => problems.push(format!(
                        "{title}: owned by stack `{stack}`; rolecall never takes another stack's resources"
                    )),
                }
            }
            Err(error) => problems.push(error.to_string()),
        }
    }
    if !problems.is_empty() {
        bail!("nothing imported:\n  {}", problems.join("\n  "));
    }
    for (done, (key, target)) in targets.iter().enumerate() {
        if let Err(error) = adopt(cloud.as_ref(), target, &desired.stack) {
            // All or nothing: give back what this import already adopted.
            let mut message = format!("nothing imported: {key}: {error:#}");
            for (undo_key, undo) in targets[..done].iter().rev() {
                if let Err(undo_error) = release(cloud.as_ref(), undo) {
                    message.push_str(&format!(
                        "\n  and {undo_key} could not be given back ({undo_error}): remove its `{TAG_STACK}` tag by hand, e.g. with `rolecall emulator`"
                    ));
                }
            }
            bail!(message);
        }
    }
    // -q: the exit code says it all; what was imported, and the plan that
    // follows, are for people.
    if global.quiet {
        return Ok(Outcome::Clean);
    }
    for (title, _) in &targets {
        outln!("imported {title} into stack `{}`", desired.stack);
    }
    if targets.is_empty() && args.all_declared {
        outln!("nothing to import: no declared resource exists unowned");
    }
    let live = account::snapshot(cloud.as_ref())?;
    let options = account::plan_options(cloud.as_ref(), false);
    match plan::plan(&desired, &live, options) {
        Ok(plan) => {
            outln!("\nThe next apply would run this plan:\n");
            out!(
                "{}",
                render::text::render(&plan, output::text_options(global))
            );
        }
        Err(error) => outln!("\nThe next plan still has problems:\n{error}"),
    }
    Ok(Outcome::Clean)
}
