//! `rolecall emulator …`: one API call against the emulated account, named
//! and flagged as the AWS CLI names them, plus configure, export and import.
//!
//! Every operation is turned into a [`Call`] and run with [`Call::invoke`]:
//! the same path a plan step takes. Output is the AWS-shaped JSON response
//! (nothing for empty responses); an AWS error propagates as a [`CloudError`],
//! which `main` prints in the AWS CLI's form.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use crate::cloud::ec2::*;
use crate::cloud::iam::*;
use crate::cloud::{Call, Cloud};
use crate::emulator::{CheckedExport, Emulator, FailAfter, Faults, Quotas};
use anyhow::Context;
use clap::{Args, Subcommand};

use super::{GlobalArgs, Outcome, account};

const AFTER_HELP: &str = "\
Examples:
  rolecall emulator create-role --role-name web \\
      --assume-role-policy-document file://trust.json --tags Key=team,Value=web
  rolecall emulator create-instance-profile --instance-profile-name web
  rolecall emulator add-role-to-instance-profile --instance-profile-name web --role-name web
  rolecall emulator run-instances --name web-1 --iam-instance-profile Name=web
  rolecall emulator describe-iam-instance-profile-associations \\
      --filters Name=state,Values=associated
  rolecall emulator configure --propagation-delay-ms 2000 --throttle-rate 0.05 --seed 1
  rolecall emulator export lab.yaml && rolecall --account new.db emulator import lab.yaml

An AWS error prints `An error occurred (CODE) when calling the OPERATION
operation: MESSAGE` on stderr and exits 1, as the AWS CLI does.";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP, mut_subcommands = describe_subcommand)]
pub struct EmulatorArgs {
    /// Account id of the account when this call creates the file (12 digits)
    #[arg(long, value_name = "ID", global = true)]
    pub account_id: Option<String>,
    #[command(subcommand)]
    pub command: EmulatorCommand,
}

// -- help: one table for every subcommand ------------------------------------

/// Every subcommand's one-line description and example arguments, in the
/// order of [`EmulatorCommand`]. The example is `rolecall emulator NAME
/// ARGUMENTS`; a test parses each one, so it is written without quotes.
#[rustfmt::skip]
pub const SUBCOMMAND_HELP: &[(&str, &str, &str)] = &[
    ("create-role", "Create a role that the principals in its trust policy may assume", "--role-name web --assume-role-policy-document file://trust.json"),
    ("get-role", "Show a role, with its tags and permissions boundary", "--role-name web"),
    ("delete-role", "Delete a role that is in no instance profile and has no policy", "--role-name web"),
    ("update-role", "Change a role's description or maximum session duration", "--role-name web --max-session-duration 7200 --description web-tier"),
    ("update-assume-role-policy", "Replace a role's trust policy", "--role-name web --policy-document file://trust.json"),
    ("put-role-permissions-boundary", "Set a role's permissions boundary", "--role-name web --permissions-boundary arn:aws:iam::aws:policy/PowerUserAccess"),
    ("delete-role-permissions-boundary", "Remove a role's permissions boundary", "--role-name web"),
    ("attach-role-policy", "Attach an AWS-managed policy to a role, 10 at most", "--role-name web --policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
    ("detach-role-policy", "Detach a managed policy from a role", "--role-name web --policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
    ("put-role-policy", "Add or replace an inline policy of a role", "--role-name web --policy-name read-assets --policy-document file://read-assets.json"),
    ("get-role-policy", "Show an inline policy of a role, URL-encoded as IAM returns it", "--role-name web --policy-name read-assets"),
    ("delete-role-policy", "Delete an inline policy of a role", "--role-name web --policy-name read-assets"),
    ("list-role-policies", "List the names of a role's inline policies", "--role-name web"),
    ("list-attached-role-policies", "List the managed policies attached to a role", "--role-name web"),
    ("list-roles", "List roles under a path, a page at a time", "--path-prefix /apps/ --max-items 50"),
    ("tag-role", "Add or overwrite tags of a role; keys ignore case", "--role-name web --tags Key=team,Value=web Key=env,Value=prod"),
    ("untag-role", "Remove tags from a role", "--role-name web --tag-keys team env"),
    ("list-role-tags", "List a role's tags", "--role-name web"),
    ("create-instance-profile", "Create an instance profile, holding no role yet", "--instance-profile-name web --tags Key=team,Value=web"),
    ("get-instance-profile", "Show an instance profile, with its role and tags", "--instance-profile-name web"),
    ("delete-instance-profile", "Delete an instance profile that holds no role", "--instance-profile-name web"),
    ("add-role-to-instance-profile", "Put a role in an instance profile; one role per profile", "--instance-profile-name web --role-name web"),
    ("remove-role-from-instance-profile", "Take the role out of an instance profile", "--instance-profile-name web --role-name web"),
    ("list-instance-profiles", "List instance profiles under a path, a page at a time", "--path-prefix / --max-items 50"),
    ("list-instance-profiles-for-role", "List the instance profiles that hold a role", "--role-name web"),
    ("tag-instance-profile", "Add or overwrite tags of an instance profile; keys are case-sensitive", "--instance-profile-name web --tags Key=team,Value=web"),
    ("untag-instance-profile", "Remove tags from an instance profile", "--instance-profile-name web --tag-keys team"),
    ("list-instance-profile-tags", "List an instance profile's tags", "--instance-profile-name web"),
    ("run-instances", "Launch running instances tagged with a Name; emulator only, rolecall never launches on AWS", "--name web-1 --count 2 --iam-instance-profile Name=web"),
    ("terminate-instances", "Terminate instances; their associations end", "--instance-ids i-0123456789abcdef0"),
    ("stop-instances", "Stop instances; their associations stay", "--instance-ids i-0123456789abcdef0"),
    ("start-instances", "Start stopped instances", "--instance-ids i-0123456789abcdef0"),
    ("describe-instances", "Show instances, filtered, a page at a time", "--filters Name=tag:Name,Values=web-1"),
    ("create-tags", "Add or overwrite tags of instances, 50 at most per instance", "--resources i-0123456789abcdef0 --tags Key=env,Value=prod"),
    ("delete-tags", "Remove tags from instances", "--resources i-0123456789abcdef0 --tags Key=env"),
    ("associate-iam-instance-profile", "Give an instance that has none an instance profile", "--instance-id i-0123456789abcdef0 --iam-instance-profile Name=web"),
    ("disassociate-iam-instance-profile", "Take an instance profile away from its instance", "--association-id iip-assoc-0123456789abcdef0"),
    ("replace-iam-instance-profile-association", "Switch a running instance to another instance profile without a gap", "--association-id iip-assoc-0123456789abcdef0 --iam-instance-profile Name=api"),
    ("describe-iam-instance-profile-associations", "Show instance-profile associations, filtered, a page at a time", "--filters Name=instance-id,Values=i-0123456789abcdef0"),
    ("configure", "Make the account misbehave (or, with no flags, show how it does)", "--propagation-delay-ms 2000 --throttle-rate 0.05 --seed 1"),
    ("export", "Write the whole account as YAML (sorted, deterministic)", "lab.yaml"),
    ("import", "Replace the whole account with a YAML export (checked first; on error nothing changes)", "lab.yaml"),
    ("stress", "Create roles in a loop, printing each one that succeeded (crash tests)", "--calls 5000 --prefix load"),
];

/// Help of the flags several operations share, by argument id. A flag's own
/// doc comment, where it has one, says more and wins.
#[rustfmt::skip]
const FLAG_HELP: &[(&str, &str)] = &[
    ("role_name", "Name of the role (IAM matches it ignoring case)"),
    ("instance_profile_name", "Name of the instance profile (IAM matches it ignoring case)"),
    ("policy_arn", "ARN of a managed policy, e.g. arn:aws:iam::aws:policy/ReadOnlyAccess"),
    ("policy_name", "Name of the inline policy"),
    ("path", "Path, e.g. /apps/ (default /); part of the ARN"),
    ("description", "Description of the role (up to 1000 characters)"),
    ("max_session_duration", "Longest session, in seconds (3600-43200; default 3600)"),
    ("permissions_boundary", "ARN of the managed policy used as permissions boundary"),
    ("tags", "Tags as Key=k,Value=v (repeatable)"),
    ("tag_keys", "Keys of the tags to remove (absent keys are ignored)"),
    ("instance_ids", "Instance ids (i-...)"),
    ("instance_id", "The instance's id (i-...)"),
    ("resources", "Ids of the instances (i-...)"),
    ("association_id", "The association's id (iip-assoc-...)"),
    ("association_ids", "Only these associations (iip-assoc-...)"),
    ("image_id", "AMI id (any; the emulator runs no image)"),
    ("instance_type", "Instance type (default t3.micro)"),
    ("max_results", "Most items per page (5-1000)"),
    ("next_token", "Where to continue: the NextToken of the previous page"),
];

/// The operation's AWS name (`create-role` -> `CreateRole`), if it is one.
fn aws_operation(subcommand: &str) -> Option<String> {
    let pascal: String = subcommand
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    crate::cloud::Operation::named(&pascal).map(|op| op.name.to_string())
}

/// Gives a subcommand its description, example and flag help from the tables.
fn describe_subcommand(command: clap::Command) -> clap::Command {
    let command = command.mut_args(|arg| {
        let shared = FLAG_HELP
            .iter()
            .find(|(id, _)| *id == arg.get_id().as_str());
        match shared {
            Some((_, help)) if arg.get_help().is_none() => arg.help(*help),
            _ => arg,
        }
    });
    let name = command.get_name().to_string();
    let Some((_, about, example)) = SUBCOMMAND_HELP.iter().find(|(n, ..)| *n == name) else {
        return command;
    };
    let about = match aws_operation(&name) {
        Some(operation) => format!("{about} ({operation})"),
        None => about.to_string(),
    };
    command
        .about(about)
        .after_help(format!("Example:\n  rolecall emulator {name} {example}"))
}

// -- shared argument groups ---------------------------------------------------

#[derive(Debug, Args)]
pub struct RoleNameArgs {
    #[arg(long)]
    pub role_name: String,
}

#[derive(Debug, Args)]
pub struct ProfileNameArgs {
    #[arg(long)]
    pub instance_profile_name: String,
}

#[derive(Debug, Args)]
pub struct PageArgs {
    /// Where to continue: the Marker of the previous page
    #[arg(long)]
    pub marker: Option<String>,
    /// Most items to return (1-1000, default 100)
    #[arg(long)]
    pub max_items: Option<u32>,
}

impl PageArgs {
    fn page(self) -> Page {
        Page {
            marker: self.marker,
            max_items: self.max_items,
        }
    }
}

#[derive(Debug, Args)]
pub struct RolePageArgs {
    #[arg(long)]
    pub role_name: String,
    #[command(flatten)]
    pub page: PageArgs,
}

impl RolePageArgs {
    fn request(self) -> ListForRoleRequest {
        ListForRoleRequest {
            role_name: self.role_name,
            page: self.page.page(),
        }
    }
}

#[derive(Debug, Args)]
pub struct PathPageArgs {
    /// Only items whose path starts with this
    #[arg(long)]
    pub path_prefix: Option<String>,
    #[command(flatten)]
    pub page: PageArgs,
}

impl PathPageArgs {
    fn request(self) -> ListByPathRequest {
        ListByPathRequest {
            path_prefix: self.path_prefix,
            page: self.page.page(),
        }
    }
}

#[derive(Debug, Args)]
pub struct RolePolicyArnArgs {
    #[arg(long)]
    pub role_name: String,
    #[arg(long)]
    pub policy_arn: String,
}

#[derive(Debug, Args)]
pub struct RolePolicyNameArgs {
    #[arg(long)]
    pub role_name: String,
    #[arg(long)]
    pub policy_name: String,
}

#[derive(Debug, Args)]
pub struct ProfileRoleArgs {
    #[arg(long)]
    pub instance_profile_name: String,
    #[arg(long)]
    pub role_name: String,
}

#[derive(Debug, Args)]
pub struct InstanceIdsArgs {
    #[arg(long, num_args = 1.., required = true)]
    pub instance_ids: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// Filters, e.g. Name=instance-id,Values=i-0abc,i-0def
    #[arg(long, num_args = 1.., value_parser = parse_filter)]
    pub filters: Vec<Filter>,
    #[arg(long)]
    pub max_results: Option<u32>,
    #[arg(long)]
    pub next_token: Option<String>,
}

// -- the operations -----------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    CreateRole {
        #[arg(long)]
        role_name: String,
        /// Trust policy JSON, or file://PATH
        #[arg(long)]
        assume_role_policy_document: String,
        #[arg(long)]
        path: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        max_session_duration: Option<u32>,
        /// Managed policy ARN used as permissions boundary
        #[arg(long)]
        permissions_boundary: Option<String>,
        /// Tags as Key=k,Value=v (repeatable)
        #[arg(long, num_args = 1.., value_parser = parse_tag)]
        tags: Vec<Tag>,
    },
    GetRole(RoleNameArgs),
    DeleteRole(RoleNameArgs),
    UpdateRole {
        #[arg(long)]
        role_name: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        max_session_duration: Option<u32>,
    },
    UpdateAssumeRolePolicy {
        #[arg(long)]
        role_name: String,
        /// Trust policy JSON, or file://PATH
        #[arg(long)]
        policy_document: String,
    },
    PutRolePermissionsBoundary {
        #[arg(long)]
        role_name: String,
        #[arg(long)]
        permissions_boundary: String,
    },
    DeleteRolePermissionsBoundary(RoleNameArgs),
    AttachRolePolicy(RolePolicyArnArgs),
    DetachRolePolicy(RolePolicyArnArgs),
    PutRolePolicy {
        #[arg(long)]
        role_name: String,
        #[arg(long)]
        policy_name: String,
        /// Policy JSON, or file://PATH
        #[arg(long)]
        policy_document: String,
    },
    GetRolePolicy(RolePolicyNameArgs),
    DeleteRolePolicy(RolePolicyNameArgs),
    ListRolePolicies(RolePageArgs),
    ListAttachedRolePolicies(RolePageArgs),
    ListRoles(PathPageArgs),
    TagRole {
        #[arg(long)]
        role_name: String,
        /// Tags as Key=k,Value=v (repeatable)
        #[arg(long, num_args = 1.., required = true, value_parser = parse_tag)]
        tags: Vec<Tag>,
    },
    UntagRole {
        #[arg(long)]
        role_name: String,
        #[arg(long, num_args = 1.., required = true)]
        tag_keys: Vec<String>,
    },
    ListRoleTags(RolePageArgs),
    CreateInstanceProfile {
        #[arg(long)]
        instance_profile_name: String,
        #[arg(long)]
        path: Option<String>,
        /// Tags as Key=k,Value=v (repeatable)
        #[arg(long, num_args = 1.., value_parser = parse_tag)]
        tags: Vec<Tag>,
    },
    GetInstanceProfile(ProfileNameArgs),
    DeleteInstanceProfile(ProfileNameArgs),
    AddRoleToInstanceProfile(ProfileRoleArgs),
    RemoveRoleFromInstanceProfile(ProfileRoleArgs),
    ListInstanceProfiles(PathPageArgs),
    ListInstanceProfilesForRole(RolePageArgs),
    TagInstanceProfile {
        #[arg(long)]
        instance_profile_name: String,
        /// Tags as Key=k,Value=v (repeatable)
        #[arg(long, num_args = 1.., required = true, value_parser = parse_tag)]
        tags: Vec<Tag>,
    },
    UntagInstanceProfile {
        #[arg(long)]
        instance_profile_name: String,
        #[arg(long, num_args = 1.., required = true)]
        tag_keys: Vec<String>,
    },
    ListInstanceProfileTags {
        #[arg(long)]
        instance_profile_name: String,
        #[command(flatten)]
        page: PageArgs,
    },
    RunInstances {
        /// Value of the Name tag
        #[arg(long)]
        name: Option<String>,
        /// How many instances to launch
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// Name=PROFILE or Arn=ARN
        #[arg(long, value_parser = parse_profile)]
        iam_instance_profile: Option<IamInstanceProfileSpecification>,
        #[arg(long)]
        image_id: Option<String>,
        #[arg(long)]
        instance_type: Option<String>,
        /// More tags as Key=k,Value=v (repeatable)
        #[arg(long, num_args = 1.., value_parser = parse_tag)]
        tags: Vec<Tag>,
    },
    TerminateInstances(InstanceIdsArgs),
    StopInstances(InstanceIdsArgs),
    StartInstances(InstanceIdsArgs),
    DescribeInstances {
        #[arg(long, num_args = 1..)]
        instance_ids: Vec<String>,
        #[command(flatten)]
        describe: DescribeArgs,
    },
    CreateTags {
        #[arg(long, num_args = 1.., required = true)]
        resources: Vec<String>,
        /// Tags as Key=k,Value=v (repeatable)
        #[arg(long, num_args = 1.., required = true, value_parser = parse_tag)]
        tags: Vec<Tag>,
    },
    DeleteTags {
        #[arg(long, num_args = 1.., required = true)]
        resources: Vec<String>,
        /// Key=k[,Value=v]: without a value the key goes whatever its value; none: every tag
        #[arg(long, num_args = 1.., value_parser = parse_tag_key)]
        tags: Vec<TagKeyMaybeValue>,
    },
    AssociateIamInstanceProfile {
        #[arg(long)]
        instance_id: String,
        /// Name=PROFILE or Arn=ARN
        #[arg(long, value_parser = parse_profile)]
        iam_instance_profile: IamInstanceProfileSpecification,
    },
    DisassociateIamInstanceProfile {
        #[arg(long)]
        association_id: String,
    },
    ReplaceIamInstanceProfileAssociation {
        #[arg(long)]
        association_id: String,
        /// Name=PROFILE or Arn=ARN
        #[arg(long, value_parser = parse_profile)]
        iam_instance_profile: IamInstanceProfileSpecification,
    },
    DescribeIamInstanceProfileAssociations {
        #[arg(long, num_args = 1..)]
        association_ids: Vec<String>,
        #[command(flatten)]
        describe: DescribeArgs,
    },
    Configure(ConfigureArgs),
    Export {
        /// File to write (atomically), or - for stdout
        file: PathBuf,
    },
    Import {
        /// Export to read, or - for stdin
        file: PathBuf,
        /// How long to wait for an apply's lock on the account
        #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = super::apply::parse_duration)]
        lock_timeout: Duration,
    },
    #[command(hide = true)]
    Stress {
        /// How many roles to create
        #[arg(long, default_value_t = 1000)]
        calls: u32,
        /// Start of every role name (PREFIX-0, PREFIX-1, ...)
        #[arg(long, default_value = "stress")]
        prefix: String,
    },
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// A new or changed instance profile stays invisible to EC2 for this long
    // The account stores these as SQLite integers (i64): a larger value
    // would be stored as another. The seed is stored bit for bit, the
    // quotas fit.
    #[arg(long, value_name = "MS", value_parser = stored_u64())]
    pub propagation_delay_ms: Option<u64>,
    /// New associations stay `associating` for this long
    #[arg(long, value_name = "MS", value_parser = stored_u64())]
    pub associating_ms: Option<u64>,
    /// Fraction of calls (0-1) answered Throttling / RequestLimitExceeded
    // Negative numbers parse, so the range check below answers, not clap's
    // "unexpected argument '-0'".
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub throttle_rate: Option<f64>,
    /// The Nth call from now fails with ServiceFailure / InternalError (0: never)
    #[arg(long, value_name = "N", value_parser = stored_u64())]
    pub fail_after: Option<u64>,
    /// Seed of the throttling dice
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Roles the account may hold (AWS default 1000)
    #[arg(long, value_name = "N")]
    pub max_roles: Option<u32>,
    /// Instance profiles the account may hold (AWS default 1000)
    #[arg(long, value_name = "N")]
    pub max_instance_profiles: Option<u32>,
    /// Turn every misbehaviour off first
    #[arg(long)]
    pub reset: bool,
    /// How long a change waits for an apply's lock on the account
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = super::apply::parse_duration)]
    pub lock_timeout: Duration,
}

/// A number the account file can hold: 0 to i64::MAX.
fn stored_u64() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(..=i64::MAX as u64)
}

// -- value parsers (AWS CLI shorthand) ----------------------------------------

/// `Key=k,Value=v` (the value may contain commas and `=`).
fn parse_tag(text: &str) -> Result<Tag, String> {
    let rest = text
        .strip_prefix("Key=")
        .ok_or_else(|| format!("expected Key=k,Value=v, got {text:?}"))?;
    match rest.split_once(",Value=") {
        Some((key, value)) => Ok(Tag::new(key, value)),
        None => Err(format!("expected Key=k,Value=v, got {text:?}")),
    }
}

/// `Key=k` or `Key=k,Value=v`.
fn parse_tag_key(text: &str) -> Result<TagKeyMaybeValue, String> {
    let rest = text
        .strip_prefix("Key=")
        .ok_or_else(|| format!("expected Key=k[,Value=v], got {text:?}"))?;
    Ok(match rest.split_once(",Value=") {
        Some((key, value)) => TagKeyMaybeValue {
            key: key.into(),
            value: Some(value.into()),
        },
        None => TagKeyMaybeValue {
            key: rest.into(),
            value: None,
        },
    })
}

/// `Name=instance-id,Values=a,b`.
fn parse_filter(text: &str) -> Result<Filter, String> {
    let (name, values) = text
        .strip_prefix("Name=")
        .and_then(|rest| rest.split_once(",Values="))
        .ok_or_else(|| format!("expected Name=n,Values=a,b, got {text:?}"))?;
    Ok(Filter {
        name: name.into(),
        values: values.split(',').map(String::from).collect(),
    })
}

/// `Name=profile` or `Arn=arn:aws:iam::…`.
fn parse_profile(text: &str) -> Result<IamInstanceProfileSpecification, String> {
    if let Some(name) = text.strip_prefix("Name=") {
        Ok(IamInstanceProfileSpecification::by_name(name))
    } else if let Some(arn) = text.strip_prefix("Arn=") {
        Ok(IamInstanceProfileSpecification {
            arn: Some(arn.into()),
            name: None,
        })
    } else {
        Err(format!("expected Name=PROFILE or Arn=ARN, got {text:?}"))
    }
}

/// A document given inline or as `file://PATH`, as the AWS CLI accepts.
fn document(text: String) -> anyhow::Result<String> {
    match text.strip_prefix("file://") {
        Some(path) => crate::manifest::read_regular_file(path.as_ref())
            .with_context(|| format!("reading {path}")),
        None => Ok(text),
    }
}

fn describe_instances(
    instance_ids: Vec<String>,
    describe: DescribeArgs,
) -> DescribeInstancesRequest {
    DescribeInstancesRequest {
        instance_ids,
        filters: describe.filters,
        max_results: describe.max_results,
        next_token: describe.next_token,
    }
}

impl EmulatorCommand {
    /// The API call this command makes; `None` for configure/export/import.
    fn into_call(self) -> anyhow::Result<Result<Call, EmulatorCommand>> {
        use EmulatorCommand as C;
        Ok(Ok(match self {
            C::CreateRole {
                role_name,
                assume_role_policy_document,
                path,
                description,
                max_session_duration,
                permissions_boundary,
                tags,
            } => Call::CreateRole(CreateRoleRequest {
                role_name,
                assume_role_policy_document: document(assume_role_policy_document)?,
                path,
                description,
                max_session_duration,
                permissions_boundary,
                tags,
            }),
            C::GetRole(a) => Call::GetRole(RoleNameRequest {
                role_name: a.role_name,
            }),
            C::DeleteRole(a) => Call::DeleteRole(RoleNameRequest {
                role_name: a.role_name,
            }),
            C::UpdateRole {
                role_name,
                description,
                max_session_duration,
            } => Call::UpdateRole(UpdateRoleRequest {
                role_name,
                description,
                max_session_duration,
            }),
            C::UpdateAssumeRolePolicy {
                role_name,
                policy_document,
            } => Call::UpdateAssumeRolePolicy(UpdateAssumeRolePolicyRequest {
                role_name,
                policy_document: document(policy_document)?,
            }),
            C::PutRolePermissionsBoundary {
                role_name,
                permissions_boundary,
            } => Call::PutRolePermissionsBoundary(PutRolePermissionsBoundaryRequest {
                role_name,
                permissions_boundary,
            }),
            C::DeleteRolePermissionsBoundary(a) => {
                Call::DeleteRolePermissionsBoundary(RoleNameRequest {
                    role_name: a.role_name,
                })
            }
            C::AttachRolePolicy(a) => Call::AttachRolePolicy(RolePolicyArnRequest {
                role_name: a.role_name,
                policy_arn: a.policy_arn,
            }),
            C::DetachRolePolicy(a) => Call::DetachRolePolicy(RolePolicyArnRequest {
                role_name: a.role_name,
                policy_arn: a.policy_arn,
            }),
            C::PutRolePolicy {
                role_name,
                policy_name,
                policy_document,
            } => Call::PutRolePolicy(PutRolePolicyRequest {
                role_name,
                policy_name,
                policy_document: document(policy_document)?,
            }),
            C::GetRolePolicy(a) => Call::GetRolePolicy(RolePolicyNameRequest {
                role_name: a.role_name,
                policy_name: a.policy_name,
            }),
            C::DeleteRolePolicy(a) => Call::DeleteRolePolicy(RolePolicyNameRequest {
                role_name: a.role_name,
                policy_name: a.policy_name,
            }),
            C::ListRolePolicies(a) => Call::ListRolePolicies(a.request()),
            C::ListAttachedRolePolicies(a) => Call::ListAttachedRolePolicies(a.request()),
            C::ListRoles(a) => Call::ListRoles(a.request()),
            C::TagRole { role_name, tags } => Call::TagRole(TagRoleRequest { role_name, tags }),
            C::UntagRole {
                role_name,
                tag_keys,
            } => Call::UntagRole(UntagRoleRequest {
                role_name,
                tag_keys,
            }),
            C::ListRoleTags(a) => Call::ListRoleTags(a.request()),
            C::CreateInstanceProfile {
                instance_profile_name,
                path,
                tags,
            } => Call::CreateInstanceProfile(CreateInstanceProfileRequest {
                instance_profile_name,
                path,
                tags,
            }),
            C::GetInstanceProfile(a) => Call::GetInstanceProfile(InstanceProfileNameRequest {
                instance_profile_name: a.instance_profile_name,
            }),
            C::DeleteInstanceProfile(a) => {
                Call::DeleteInstanceProfile(InstanceProfileNameRequest {
                    instance_profile_name: a.instance_profile_name,
                })
            }
            C::AddRoleToInstanceProfile(a) => {
                Call::AddRoleToInstanceProfile(InstanceProfileRoleRequest {
                    instance_profile_name: a.instance_profile_name,
                    role_name: a.role_name,
                })
            }
            C::RemoveRoleFromInstanceProfile(a) => {
                Call::RemoveRoleFromInstanceProfile(InstanceProfileRoleRequest {
                    instance_profile_name: a.instance_profile_name,
                    role_name: a.role_name,
                })
            }
            C::ListInstanceProfiles(a) => Call::ListInstanceProfiles(a.request()),
            C::ListInstanceProfilesForRole(a) => Call::ListInstanceProfilesForRole(a.request()),
            C::TagInstanceProfile {
                instance_profile_name,
                tags,
            } => Call::TagInstanceProfile(TagInstanceProfileRequest {
                instance_profile_name,
                tags,
            }),
            C::UntagInstanceProfile {
                instance_profile_name,
                tag_keys,
            } => Call::UntagInstanceProfile(UntagInstanceProfileRequest {
                instance_profile_name,
                tag_keys,
            }),
            C::ListInstanceProfileTags {
                instance_profile_name,
                page,
            } => Call::ListInstanceProfileTags(ListInstanceProfileTagsRequest {
                instance_profile_name,
                page: page.page(),
            }),
            C::RunInstances {
                name,
                count,
                iam_instance_profile,
                image_id,
                instance_type,
                tags,
            } => {
                let mut all: Vec<Tag> = name.map(|n| Tag::new("Name", n)).into_iter().collect();
                all.extend(tags);
                Call::RunInstances(RunInstancesRequest {
                    image_id,
                    instance_type,
                    min_count: count,
                    max_count: count,
                    iam_instance_profile,
                    tag_specifications: if all.is_empty() {
                        Vec::new()
                    } else {
                        vec![TagSpecification {
                            resource_type: "instance".into(),
                            tags: all,
                        }]
                    },
                })
            }
            C::TerminateInstances(a) => Call::TerminateInstances(InstanceIdsRequest {
                instance_ids: a.instance_ids,
            }),
            C::StopInstances(a) => Call::StopInstances(InstanceIdsRequest {
                instance_ids: a.instance_ids,
            }),
            C::StartInstances(a) => Call::StartInstances(InstanceIdsRequest {
                instance_ids: a.instance_ids,
            }),
            C::DescribeInstances {
                instance_ids,
                describe,
            } => Call::DescribeInstances(describe_instances(instance_ids, describe)),
            C::CreateTags { resources, tags } => {
                Call::CreateTags(CreateTagsRequest { resources, tags })
            }
            C::DeleteTags { resources, tags } => {
                Call::DeleteTags(DeleteTagsRequest { resources, tags })
            }
            C::AssociateIamInstanceProfile {
                instance_id,
                iam_instance_profile,
            } => Call::AssociateIamInstanceProfile(AssociateIamInstanceProfileRequest {
                iam_instance_profile,
                instance_id,
            }),
            C::DisassociateIamInstanceProfile { association_id } => {
                Call::DisassociateIamInstanceProfile(DisassociateIamInstanceProfileRequest {
                    association_id,
                })
            }
            C::ReplaceIamInstanceProfileAssociation {
                association_id,
                iam_instance_profile,
            } => Call::ReplaceIamInstanceProfileAssociation(
                ReplaceIamInstanceProfileAssociationRequest {
                    iam_instance_profile,
                    association_id,
                },
            ),
            C::DescribeIamInstanceProfileAssociations {
                association_ids,
                describe,
            } => Call::DescribeIamInstanceProfileAssociations(
                DescribeIamInstanceProfileAssociationsRequest {
                    association_ids,
                    filters: describe.filters,
                    max_results: describe.max_results,
                    next_token: describe.next_token,
                },
            ),
            other => return Ok(Err(other)),
        }))
    }
}

/// Opens the account for a command that only reads it: read-only accounts
/// work, and nothing is written. An account that does not exist yet is
/// created, as by any first `rolecall emulator` call.
fn open_to_read(global: &GlobalArgs, account_id: Option<&str>) -> anyhow::Result<Emulator> {
    match Emulator::open_to_read(&global.account_path())? {
        Some(emulator) => {
            if let Some(id) = account_id {
                emulator.check_account_id(id)?;
            }
            Ok(emulator)
        }
        None => account::open_emulator(global, account_id),
    }
}

fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    // Empty responses print nothing, as the AWS CLI does.
    if value.is_null() || value.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(());
    }
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    super::output::write_stdout(&text)
}

pub fn run(global: &GlobalArgs, args: EmulatorArgs) -> anyhow::Result<Outcome> {
    let account_id = args.account_id.as_deref();
    match args.command.into_call()? {
        // Out-of-band calls take no lock: they play another actor changing
        // the account, as anyone may on AWS while an apply runs.
        Ok(call) => {
            let emulator = if call.descriptor().access == crate::cloud::Access::Read {
                open_to_read(global, account_id)?
            } else {
                account::open_emulator(global, account_id)?
            };
            let out = call.invoke(&emulator)?;
            print_json(&out)?;
        }
        Err(EmulatorCommand::Configure(c)) => configure(global, account_id, c)?,
        Err(EmulatorCommand::Export { file }) => {
            let emulator = open_to_read(global, account_id)?;
            if file.as_os_str() == "-" {
                super::output::write_stdout(&emulator.export_yaml()?)?;
            } else {
                emulator.export_to_file(&file)?;
            }
        }
        Err(EmulatorCommand::Import { file, lock_timeout }) => {
            // Read and checked before the account is touched: a bad export
            // changes nothing and creates nothing.
            let export = if file.as_os_str() == "-" {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("reading the export from stdin")?;
                CheckedExport::from_yaml(&text, "stdin")?
            } else {
                CheckedExport::from_file(&file)?
            };
            let _lock = account::lock(global, "rolecall emulator import", lock_timeout)?;
            Emulator::import_to(&global.account_path(), account_id, &export)?;
        }
        Err(EmulatorCommand::Stress { calls, prefix }) => {
            stress(account::open_emulator(global, account_id)?, calls, &prefix)?
        }
        Err(other) => anyhow::bail!("not an emulator operation: {other:?}"),
    }
    Ok(Outcome::Clean)
}

fn configure(
    global: &GlobalArgs,
    account_id: Option<&str>,
    c: ConfigureArgs,
) -> anyhow::Result<()> {
    if let Some(rate) = c.throttle_rate
        && !(0.0..=1.0).contains(&rate)
    {
        anyhow::bail!("--throttle-rate must be between 0 and 1, got {rate}");
    }
    let faults_change = c.reset
        || c.propagation_delay_ms.is_some()
        || c.associating_ms.is_some()
        || c.throttle_rate.is_some()
        || c.fail_after.is_some()
        || c.seed.is_some();
    let quotas_change = c.reset || c.max_roles.is_some() || c.max_instance_profiles.is_some();
    if !faults_change && !quotas_change {
        return show_settings(&open_to_read(global, account_id)?);
    }
    // Settings change how an apply's calls behave: never under a running one.
    let _lock = account::lock(global, "rolecall emulator configure", c.lock_timeout)?;
    let emulator = account::open_emulator(global, account_id)?;
    let mut faults = if c.reset {
        Faults::default()
    } else {
        emulator.faults()?
    };
    let mut quotas = if c.reset {
        Quotas::default()
    } else {
        emulator.quotas()?
    };
    faults.propagation_delay_ms = c
        .propagation_delay_ms
        .unwrap_or(faults.propagation_delay_ms);
    faults.associating_ms = c.associating_ms.unwrap_or(faults.associating_ms);
    faults.throttle_rate = c.throttle_rate.unwrap_or(faults.throttle_rate);
    faults.seed = c.seed.unwrap_or(faults.seed);
    if let Some(n) = c.fail_after {
        faults.fail_after = (n > 0).then_some(n);
    }
    quotas.max_roles = c.max_roles.unwrap_or(quotas.max_roles);
    quotas.max_instance_profiles = c
        .max_instance_profiles
        .unwrap_or(quotas.max_instance_profiles);
    // Setting faults restarts the count `--fail-after` counts from: only
    // when they change, not when a quota does.
    if faults_change {
        emulator.configure(&faults)?;
    }
    if quotas_change {
        emulator.set_quotas(&quotas)?;
    }
    // With -q a change is silent: showing the settings confirms it, it is
    // not the command's output.
    if global.quiet {
        return Ok(());
    }
    show_settings(&emulator)
}

/// Prints the settings, and where `fail_after` stands: the call it names
/// still to come, or come and failed.
fn show_settings(emulator: &Emulator) -> anyhow::Result<()> {
    let mut settings = serde_json::json!({
        "faults": emulator.faults()?,
        "quotas": emulator.quotas()?,
    });
    let status = match emulator.fail_after()? {
        FailAfter::Off => None,
        FailAfter::Pending { calls, n } => Some(format!(
            "pending: {calls} of {n} calls made, call {n} fails"
        )),
        FailAfter::Fired { calls, n } => {
            Some(format!("fired: call {n} failed ({calls} calls made)"))
        }
    };
    if let Some(status) = status {
        settings["fail_after_status"] = status.into();
    }
    print_json(&settings)
}

/// Creates `calls` roles one call at a time, printing each name once its call returned.
fn stress(mut emulator: Emulator, calls: u32, prefix: &str) -> anyhow::Result<()> {
    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    // Past AWS's 1000 roles, for this process only: the account's own quotas
    // stay as they are, even when the loop is killed (the crash test kills it).
    emulator.override_quotas(Quotas {
        max_roles: u32::MAX,
        max_instance_profiles: u32::MAX,
    });
    let mut out = std::io::stdout().lock();
    for i in 0..calls {
        let name = format!("{prefix}-{i}");
        emulator.create_role(&CreateRoleRequest {
            role_name: name.clone(),
            assume_role_policy_document: TRUST.into(),
            ..Default::default()
        })?;
        writeln!(out, "{name}")?;
        out.flush()?;
    }
    Ok(())
}
