//! `rolecall emulator …`: one API call against the emulated account, named
//! and flagged as the AWS CLI names them, plus configure, export and import.
//!
//! Every operation is turned into a [`Call`] and run with [`Call::invoke`]:
//! the same path a plan step takes. Output is the AWS-shaped JSON response
//! (nothing for empty responses); an AWS error propagates as a [`CloudError`],
//! which `main` prints in the AWS CLI's form.

use std::io::{Read, Write};
use std::path::PathBuf;

use crate::cloud::ec2::*;
use crate::cloud::iam::*;
use crate::cloud::{Call, Cloud};
use crate::emulator::{Emulator, Faults, Quotas};
use anyhow::Context;
use clap::{Args, Subcommand};

use super::{GlobalArgs, Outcome};

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
#[command(after_help = AFTER_HELP)]
pub struct EmulatorArgs {
    /// Account id of the account when this call creates the file (12 digits)
    #[arg(long, value_name = "ID", global = true)]
    pub account_id: Option<String>,
    #[command(subcommand)]
    pub command: EmulatorCommand,
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
    /// CreateRole
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
    /// GetRole
    GetRole(RoleNameArgs),
    /// DeleteRole
    DeleteRole(RoleNameArgs),
    /// UpdateRole
    UpdateRole {
        #[arg(long)]
        role_name: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        max_session_duration: Option<u32>,
    },
    /// UpdateAssumeRolePolicy
    UpdateAssumeRolePolicy {
        #[arg(long)]
        role_name: String,
        /// Trust policy JSON, or file://PATH
        #[arg(long)]
        policy_document: String,
    },
    /// PutRolePermissionsBoundary
    PutRolePermissionsBoundary {
        #[arg(long)]
        role_name: String,
        #[arg(long)]
        permissions_boundary: String,
    },
    /// DeleteRolePermissionsBoundary
    DeleteRolePermissionsBoundary(RoleNameArgs),
    /// AttachRolePolicy
    AttachRolePolicy(RolePolicyArnArgs),
    /// DetachRolePolicy
    DetachRolePolicy(RolePolicyArnArgs),
    /// PutRolePolicy
    PutRolePolicy {
        #[arg(long)]
        role_name: String,
        #[arg(long)]
        policy_name: String,
        /// Policy JSON, or file://PATH
        #[arg(long)]
        policy_document: String,
    },
    /// GetRolePolicy
    GetRolePolicy(RolePolicyNameArgs),
    /// DeleteRolePolicy
    DeleteRolePolicy(RolePolicyNameArgs),
    /// ListRolePolicies
    ListRolePolicies(RolePageArgs),
    /// ListAttachedRolePolicies
    ListAttachedRolePolicies(RolePageArgs),
    /// ListRoles
    ListRoles(PathPageArgs),
    /// TagRole
    TagRole {
        #[arg(long)]
        role_name: String,
        /// Tags as Key=k,Value=v (repeatable)
        #[arg(long, num_args = 1.., required = true, value_parser = parse_tag)]
        tags: Vec<Tag>,
    },
    /// UntagRole
    UntagRole {
        #[arg(long)]
        role_name: String,
        #[arg(long, num_args = 1.., required = true)]
        tag_keys: Vec<String>,
    },
    /// ListRoleTags
    ListRoleTags(RolePageArgs),
    /// CreateInstanceProfile
    CreateInstanceProfile {
        #[arg(long)]
        instance_profile_name: String,
        #[arg(long)]
        path: Option<String>,
        /// Tags as Key=k,Value=v (repeatable)
        #[arg(long, num_args = 1.., value_parser = parse_tag)]
        tags: Vec<Tag>,
    },
    /// GetInstanceProfile
    GetInstanceProfile(ProfileNameArgs),
    /// DeleteInstanceProfile
    DeleteInstanceProfile(ProfileNameArgs),
    /// AddRoleToInstanceProfile
    AddRoleToInstanceProfile(ProfileRoleArgs),
    /// RemoveRoleFromInstanceProfile
    RemoveRoleFromInstanceProfile(ProfileRoleArgs),
    /// ListInstanceProfiles
    ListInstanceProfiles(PathPageArgs),
    /// ListInstanceProfilesForRole
    ListInstanceProfilesForRole(RolePageArgs),
    /// TagInstanceProfile
    TagInstanceProfile {
        #[arg(long)]
        instance_profile_name: String,
        /// Tags as Key=k,Value=v (repeatable)
        #[arg(long, num_args = 1.., required = true, value_parser = parse_tag)]
        tags: Vec<Tag>,
    },
    /// UntagInstanceProfile
    UntagInstanceProfile {
        #[arg(long)]
        instance_profile_name: String,
        #[arg(long, num_args = 1.., required = true)]
        tag_keys: Vec<String>,
    },
    /// ListInstanceProfileTags
    ListInstanceProfileTags {
        #[arg(long)]
        instance_profile_name: String,
        #[command(flatten)]
        page: PageArgs,
    },
    /// RunInstances (emulator only: launches instances tagged with a Name)
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
    /// TerminateInstances
    TerminateInstances(InstanceIdsArgs),
    /// StopInstances
    StopInstances(InstanceIdsArgs),
    /// StartInstances
    StartInstances(InstanceIdsArgs),
    /// DescribeInstances
    DescribeInstances {
        #[arg(long, num_args = 1..)]
        instance_ids: Vec<String>,
        #[command(flatten)]
        describe: DescribeArgs,
    },
    /// CreateTags (on instances)
    CreateTags {
        #[arg(long, num_args = 1.., required = true)]
        resources: Vec<String>,
        /// Tags as Key=k,Value=v (repeatable)
        #[arg(long, num_args = 1.., required = true, value_parser = parse_tag)]
        tags: Vec<Tag>,
    },
    /// DeleteTags (on instances)
    DeleteTags {
        #[arg(long, num_args = 1.., required = true)]
        resources: Vec<String>,
        /// Key=k[,Value=v]: without a value the key goes whatever its value; none: every tag
        #[arg(long, num_args = 1.., value_parser = parse_tag_key)]
        tags: Vec<TagKeyMaybeValue>,
    },
    /// AssociateIamInstanceProfile
    AssociateIamInstanceProfile {
        #[arg(long)]
        instance_id: String,
        /// Name=PROFILE or Arn=ARN
        #[arg(long, value_parser = parse_profile)]
        iam_instance_profile: IamInstanceProfileSpecification,
    },
    /// DisassociateIamInstanceProfile
    DisassociateIamInstanceProfile {
        #[arg(long)]
        association_id: String,
    },
    /// ReplaceIamInstanceProfileAssociation (running instances only)
    ReplaceIamInstanceProfileAssociation {
        #[arg(long)]
        association_id: String,
        /// Name=PROFILE or Arn=ARN
        #[arg(long, value_parser = parse_profile)]
        iam_instance_profile: IamInstanceProfileSpecification,
    },
    /// DescribeIamInstanceProfileAssociations
    DescribeIamInstanceProfileAssociations {
        #[arg(long, num_args = 1..)]
        association_ids: Vec<String>,
        #[command(flatten)]
        describe: DescribeArgs,
    },
    /// Make the account misbehave (or, with no flags, show how it does)
    Configure(ConfigureArgs),
    /// Write the whole account as YAML (sorted, deterministic); `-` for stdout
    Export { file: PathBuf },
    /// Replace the whole account with a YAML export; `-` for stdin
    Import { file: PathBuf },
    /// Creates roles in a loop, printing each one that succeeded (crash tests)
    #[command(hide = true)]
    Stress {
        #[arg(long, default_value_t = 1000)]
        calls: u32,
        #[arg(long, default_value = "stress")]
        prefix: String,
    },
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// A new or changed instance profile stays invisible to EC2 for this long
    #[arg(long, value_name = "MS")]
    pub propagation_delay_ms: Option<u64>,
    /// New associations stay `associating` for this long
    #[arg(long, value_name = "MS")]
    pub associating_ms: Option<u64>,
    /// Fraction of calls (0-1) answered Throttling / RequestLimitExceeded
    // Negative numbers parse, so the range check below answers, not clap's
    // "unexpected argument '-0'".
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    pub throttle_rate: Option<f64>,
    /// The Nth call from now fails with ServiceFailure / InternalError (0: never)
    #[arg(long, value_name = "N")]
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
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}")),
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

fn open(global: &GlobalArgs, account_id: Option<&str>) -> anyhow::Result<Emulator> {
    let path = global.account_path();
    Ok(match account_id {
        Some(id) => Emulator::create(&path, id)?,
        None => Emulator::open(&path)?,
    })
}

fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    // Empty responses print nothing, as the AWS CLI does.
    if value.is_null() || value.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

pub fn run(global: &GlobalArgs, args: EmulatorArgs) -> anyhow::Result<Outcome> {
    let mut emulator = open(global, args.account_id.as_deref())?;
    match args.command.into_call()? {
        Ok(call) => {
            let out = call.invoke(&emulator)?;
            print_json(&out)?;
        }
        Err(EmulatorCommand::Configure(c)) => configure(&emulator, c)?,
        Err(EmulatorCommand::Export { file }) => {
            if file.as_os_str() == "-" {
                print!("{}", emulator.export_yaml()?);
            } else {
                emulator.export_to_file(&file)?;
            }
        }
        Err(EmulatorCommand::Import { file }) => {
            if file.as_os_str() == "-" {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("reading the export from stdin")?;
                emulator.import_yaml(&text, "stdin")?;
            } else {
                emulator.import_file(&file)?;
            }
        }
        Err(EmulatorCommand::Stress { calls, prefix }) => stress(emulator, calls, &prefix)?,
        Err(other) => anyhow::bail!("not an emulator operation: {other:?}"),
    }
    Ok(Outcome::Clean)
}

fn configure(emulator: &Emulator, c: ConfigureArgs) -> anyhow::Result<()> {
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
    if let Some(rate) = c.throttle_rate
        && !(0.0..=1.0).contains(&rate)
    {
        anyhow::bail!("--throttle-rate must be between 0 and 1, got {rate}");
    }
    let changes = [
        c.propagation_delay_ms.is_some(),
        c.associating_ms.is_some(),
        c.throttle_rate.is_some(),
        c.fail_after.is_some(),
        c.seed.is_some(),
        c.max_roles.is_some(),
        c.max_instance_profiles.is_some(),
        c.reset,
    ];
    if changes.iter().any(|changed| *changed) {
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
        emulator.configure(&faults)?;
        emulator.set_quotas(&quotas)?;
    }
    print_json(&serde_json::json!({ "faults": faults, "quotas": quotas }))
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
