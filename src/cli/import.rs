//! `rolecall import`: adopt existing, unowned, declared resources.

use anyhow::bail;
use clap::Args;

use super::{GlobalArgs, ManifestArgs, Outcome, account, output};
use crate::cloud::Cloud;
use crate::cloud::ec2::CreateTagsRequest;
use crate::cloud::iam::{Tag, TagInstanceProfileRequest, TagRoleRequest};
use crate::model::{Desired, InstanceSelector, Live, LiveInstance, TAG_SPEC, TAG_STACK, Tags};
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

fn find<'a>(desired: &Desired, live: &'a Live, key: &str) -> anyhow::Result<Target<'a>> {
    let not_declared = || {
        anyhow::anyhow!("{key}: not declared in the manifests; declare it first, then import it")
    };
    let absent =
        || anyhow::anyhow!("{key}: declared, but not in the account: `rolecall apply` creates it");
    if let Some(name) = key.strip_prefix("role/") {
        desired.roles.get(name).ok_or_else(not_declared)?;
        let role = live.roles.get(name).ok_or_else(absent)?;
        return Ok(Target::Role(&role.role.name, &role.role.tags));
    }
    if let Some(name) = key.strip_prefix("instance-profile/") {
        desired.profiles.get(name).ok_or_else(not_declared)?;
        let profile = live.profiles.get(name).ok_or_else(absent)?;
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
        let instance = matches.next().ok_or_else(absent)?;
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
    // First instance by Name tag (ids sorted), indexed once rather than
    // scanned per declared instance.
    let mut by_name: std::collections::HashMap<&str, &LiveInstance> = Default::default();
    for instance in live.instances.values() {
        if let Some(name) = &instance.name {
            by_name.entry(name).or_insert(instance);
        }
    }
    for spec in &desired.instances {
        let found = match &spec.selector {
            InstanceSelector::Id(id) => live.instances.get(id),
            InstanceSelector::Name(name) => by_name.get(name.as_str()).copied(),
        };
        if let Some(instance) = found
            && ownership::owner(&instance.tags) == Owner::Nobody
        {
            keys.push(format!("instance/{}", instance.instance_id));
        }
    }
    keys
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

pub fn run(global: &GlobalArgs, args: ImportArgs) -> anyhow::Result<Outcome> {
    let loaded = account::load(global, &args.manifests)?;
    let desired = loaded.desired;
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
            Ok(target) => match ownership::owner(target.tags()) {
                Owner::Nobody => targets.push((key, target)),
                Owner::Stack(stack) if stack == desired.stack => {
                    anstream::eprintln!("note: {key} is already managed by stack `{stack}`");
                }
                Owner::Stack(stack) => problems.push(format!(
                    "{key}: owned by stack `{stack}`; rolecall never takes another stack's resources"
                )),
            },
            Err(error) => problems.push(error.to_string()),
        }
    }
    if !problems.is_empty() {
        bail!("nothing imported:\n  {}", problems.join("\n  "));
    }
    for (key, target) in &targets {
        adopt(cloud.as_ref(), target, &desired.stack)?;
        anstream::println!("imported {key} into stack `{}`", desired.stack);
    }
    if targets.is_empty() && args.all_declared {
        anstream::println!("nothing to import: no declared resource exists unowned");
    }
    let live = account::snapshot(cloud.as_ref())?;
    let options = account::plan_options(cloud.as_ref(), false);
    match plan::plan(&desired, &live, options) {
        Ok(plan) => {
            anstream::println!("\nThe next apply would run this plan:\n");
            anstream::print!(
                "{}",
                render::text::render(&plan, output::text_options(global))
            );
        }
        Err(error) => anstream::println!("\nThe next plan still has problems:\n{error}"),
    }
    Ok(Outcome::Clean)
}
