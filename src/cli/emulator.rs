//! `rolecall emulator …`: one API call against the emulated account, named
//! and flagged as the AWS CLI names them, plus configure, export and import.
//!
//! The operation verbs are generated from the operation table
//! (`rolecall_cloud::with_operations!`, read through [`OPERATIONS`]): each verb is
//! the AWS CLI's name of the operation, its flags the request's members
//! ([`Operation::parameters`]), its help the table's `about` and `example`.
//! Every verb is turned into a [`Call`] and run with [`Call::invoke`]: the
//! same path a plan step takes. Output is the AWS-shaped JSON response
//! (nothing for empty responses); an AWS error propagates as a
//! [`crate::cloud::CloudError`], which `main` prints in the AWS CLI's form.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use crate::cloud::ec2::*;
use crate::cloud::iam::*;
use crate::cloud::{Access, Call, Cloud, Field, Kind, OPERATIONS, Operation, operations};
use crate::emulator::{CheckedExport, Emulator, FailAfter, Faults, Quotas};
use anyhow::Context;
use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches, Subcommand};
use serde_json::Value;

use super::Outcome;
use super::output::errln;
use super::session::Session;
use crate::emulator::AccountFile;

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

// -- help ----------------------------------------------------------------------

/// The subcommands that are not API operations: name, description and
/// example arguments, in their order after the operations.
#[rustfmt::skip]
const OTHER_HELP: &[(&str, &str, &str)] = &[
    ("configure", "Make the account misbehave (or, with no flags, show how it does)", "--propagation-delay-ms 2000 --throttle-rate 0.05 --seed 1"),
    ("credentials", "Print the administrator access key that signs requests to `rolecall serve`", "--format env"),
    ("export", "Write the whole account as YAML (sorted, deterministic)", "lab.yaml"),
    ("import", "Replace the whole account with a YAML export (checked first; on error nothing changes)", "lab.yaml"),
    ("lookup-events", "Print the audit trail, newest first, as `aws cloudtrail lookup-events` does", "--lookup-attributes AttributeKey=EventName,AttributeValue=PutRolePolicy"),
    ("revoke-sessions", "Deny a role's sessions issued before now, as the console's \"Revoke active sessions\"", "--role-name web"),
    ("stress", "Create roles in a loop, printing each one that succeeded (crash tests)", "--calls 5000 --prefix load"),
];

/// Every subcommand's name, one-line description and example arguments, in
/// the order of [`EmulatorCommand`]: the operations, from the operation
/// table, then `OTHER_HELP`. The example is `rolecall emulator NAME
/// ARGUMENTS`; a test parses each one, so it is written without quotes.
pub const SUBCOMMAND_HELP: SubcommandHelp = SubcommandHelp(());

/// The list [`SUBCOMMAND_HELP`] names (built once, from the table).
#[derive(Debug, Clone, Copy)]
pub struct SubcommandHelp(());

type HelpRow = (&'static str, &'static str, &'static str);

static ALL_HELP: LazyLock<Vec<HelpRow>> = LazyLock::new(|| {
    OPERATIONS
        .iter()
        .map(|op| (op.verb, op.about, op.example))
        .chain(OTHER_HELP.iter().copied())
        .collect()
});

impl SubcommandHelp {
    pub fn iter(self) -> std::slice::Iter<'static, HelpRow> {
        ALL_HELP.iter()
    }
}

impl IntoIterator for SubcommandHelp {
    type Item = &'static HelpRow;
    type IntoIter = std::slice::Iter<'static, HelpRow>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// What each request parameter means, by AWS's name, for the flags of the
/// operation verbs. A parameter means the same in every operation (AWS
/// documents it once per shape member), so it is described once here; an
/// `Operation.Parameter` entry says more for one operation and wins. A
/// parameter with no entry leaves its flag without help, which a test
/// catches.
#[rustfmt::skip]
const PARAMETER_HELP: &[(&str, &str)] = &[
    ("RoleName", "Name of the role (IAM matches it ignoring case)"),
    ("InstanceProfileName", "Name of the instance profile (IAM matches it ignoring case)"),
    ("AssumeRolePolicyDocument", "Trust policy JSON, or file://PATH"),
    ("PolicyDocument", "Policy JSON, or file://PATH"),
    ("UpdateAssumeRolePolicy.PolicyDocument", "Trust policy JSON, or file://PATH"),
    ("PolicyArn", "ARN of a managed policy, e.g. arn:aws:iam::aws:policy/ReadOnlyAccess"),
    ("PolicyName", "Name of the inline policy"),
    ("CreatePolicy.PolicyName", "Name of the managed policy (1-128 of [A-Za-z0-9_+=,.@-]; unique in the account, ignoring case)"),
    ("CreatePolicy.PolicyDocument", "Policy JSON (Version 2012-10-17, at most 6144 characters without whitespace), or file://PATH"),
    ("CreatePolicyVersion.PolicyDocument", "Policy JSON (Version 2012-10-17, at most 6144 characters without whitespace), or file://PATH"),
    ("CreatePolicy.Description", "Description of the policy (up to 1000 characters; it cannot be changed later)"),
    ("SetAsDefault", "Make the new version the one in effect"),
    ("VersionId", "The version's id (v1, v2, ...)"),
    ("Scope", "Which policies: All (default), AWS (AWS-managed) or Local (the account's own)"),
    ("OnlyAttached", "Only policies attached to a role"),
    ("PolicyUsageFilter", "Only this use: PermissionsPolicy (attached) or PermissionsBoundary"),
    ("ListPolicies.PathPrefix", "Only policies whose path starts with this (/ or /a/b/)"),
    ("EntityFilter", "Only this kind of entity: Role (the account holds no users or groups)"),
    ("Path", "Path, e.g. /apps/ (default /); part of the ARN"),
    ("PathPrefix", "Only items whose path starts with this"),
    ("Description", "Description of the role (up to 1000 characters)"),
    ("MaxSessionDuration", "Longest session, in seconds (3600-43200; default 3600)"),
    ("PermissionsBoundary", "ARN of the managed policy used as permissions boundary"),
    ("Tags", "Tags as Key=k,Value=v (repeatable)"),
    ("DeleteTags.Tags", "Key=k[,Value=v]: without a value the key goes whatever its value; none: every tag"),
    ("TagKeys", "Keys of the tags to remove (absent keys are ignored)"),
    ("InstanceIds", "Instance ids (i-...)"),
    ("InstanceId", "The instance's id (i-...)"),
    ("Resources", "Ids of the instances (i-...)"),
    ("AssociationId", "The association's id (iip-assoc-...)"),
    ("AssociationIds", "Only these associations (iip-assoc-...)"),
    ("IamInstanceProfile", "Name=PROFILE or Arn=ARN"),
    ("Filters", "Filters, e.g. Name=instance-id,Values=i-0abc,i-0def"),
    (
        "GetAccountAuthorizationDetails.Filter",
        "Entity types to show (repeatable): User, Role, Group, LocalManagedPolicy, AWSManagedPolicy; none: all (an emulated account holds roles and customer-managed policies only)",
    ),
    ("MaxResults", "Most items per page (5-1000)"),
    ("NextToken", "Where to continue: the NextToken of the previous page"),
    ("Marker", "Where to continue: the Marker of the previous page"),
    ("MaxItems", "Most items to return (1-1000, default 100)"),
    ("RoleArn", "ARN of the role to assume"),
    ("RoleSessionName", "Name of the session (2-64 of [A-Za-z0-9_+=,.@-]); part of the session's ARN"),
    ("DurationSeconds", "How long the credentials last, in seconds (900 to the role's maximum; default 3600)"),
    ("ExternalId", "The external id the trust policy asks for, if any"),
];

fn parameter_help(operation: &Operation, field: &Field) -> Option<&'static str> {
    let find = |key: &str| {
        PARAMETER_HELP
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, help)| *help)
    };
    find(&format!("{}.{}", operation.name, field.name)).or_else(|| find(field.name))
}

/// Gives a subcommand its description and example from [`SUBCOMMAND_HELP`];
/// an operation's description ends with its AWS name.
fn describe_subcommand(command: clap::Command) -> clap::Command {
    let name = command.get_name().to_string();
    let Some((_, about, example)) = SUBCOMMAND_HELP.iter().find(|(n, ..)| *n == name) else {
        return command;
    };
    let about = match Operation::with_verb(&name) {
        Some(operation) => format!("{about} ({operation})"),
        None => about.to_string(),
    };
    command
        .about(about)
        .after_help(format!("Example:\n  rolecall emulator {name} {example}"))
}

// -- the operations, generated from the table ---------------------------------

/// One operation verb as typed: which operation, and its flags. Its
/// [`Subcommand`] implementation makes a verb of every operation in the
/// table, so an operation added there is a verb with no change here.
#[derive(Debug, Clone)]
pub struct OperationCommand {
    operation: &'static Operation,
    matches: ArgMatches,
}

impl Subcommand for OperationCommand {
    fn augment_subcommands(command: clap::Command) -> clap::Command {
        command.subcommands(OPERATIONS.iter().map(verb))
    }

    fn augment_subcommands_for_update(command: clap::Command) -> clap::Command {
        Self::augment_subcommands(command)
    }

    fn has_subcommand(name: &str) -> bool {
        Operation::with_verb(name).is_some()
    }
}

impl FromArgMatches for OperationCommand {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let Some((name, flags)) = matches.subcommand() else {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::MissingSubcommand,
                "a subcommand is required but one was not provided",
            ));
        };
        let Some(operation) = Operation::with_verb(name) else {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::InvalidSubcommand,
                format!("the subcommand '{name}' wasn't recognized"),
            ));
        };
        Ok(OperationCommand {
            operation,
            matches: flags.clone(),
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

/// The verb of one operation: a flag per request parameter, named as the AWS
/// CLI names it (`RoleName` -> `--role-name <ROLE_NAME>`), in the request's
/// order. RunInstances keeps flags made for labs ([`RunInstancesArgs`]).
fn verb(operation: &'static Operation) -> clap::Command {
    let command = clap::Command::new(operation.verb);
    if *operation == operations::RUN_INSTANCES {
        return RunInstancesArgs::augment_args(command);
    }
    operation
        .parameters()
        .into_iter()
        .fold(command, |command, field| {
            command.arg(flag(operation, field))
        })
}

fn flag(operation: &Operation, field: &Field) -> Arg {
    let id = snake_case(field.name);
    let mut arg = Arg::new(id.clone())
        .long(id.replace('_', "-"))
        .value_name(id.to_ascii_uppercase())
        .required(field.required);
    if let Some(help) = parameter_help(operation, field) {
        arg = arg.help(help);
    }
    match field.kind {
        Kind::String => arg
            .action(ArgAction::Set)
            .value_parser(clap::value_parser!(String)),
        // Every integer member of rolecall's shapes is a u32.
        Kind::Int => arg
            .action(ArgAction::Set)
            .value_parser(clap::value_parser!(u32)),
        // As the AWS CLI spells them: `--set-as-default` alone is true
        // (`--set-as-default false` says the other).
        Kind::Bool => arg
            .action(ArgAction::Set)
            .num_args(0..=1)
            .default_missing_value("true")
            .value_parser(clap::value_parser!(bool)),
        Kind::StringList => arg
            .action(ArgAction::Append)
            .num_args(1..)
            .value_parser(clap::value_parser!(String)),
        Kind::Struct { shape, .. } => arg.action(ArgAction::Set).value_parser(shorthand(shape)),
        Kind::StructList { shape, .. } => arg
            .action(ArgAction::Append)
            .num_args(1..)
            .value_parser(shorthand(shape)),
        // `Operation::parameters` puts the members in its place.
        Kind::Flatten { .. } => arg,
    }
}

/// `RoleName` -> `role_name`: the flag's id (and, with dashes, its name).
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// How a structure is written on the command line: the AWS CLI's shorthand
/// for the shapes rolecall's verbs take, JSON for any other.
fn shorthand(shape: &str) -> fn(&str) -> Result<Value, String> {
    fn json<T: serde::Serialize>(value: T) -> Value {
        // Our own plain structs always serialise.
        serde_json::to_value(value).unwrap_or(Value::Null)
    }
    fn tag(text: &str) -> Result<Value, String> {
        parse_tag(text).map(json)
    }
    fn tag_key(text: &str) -> Result<Value, String> {
        parse_tag_key(text).map(json)
    }
    fn filter(text: &str) -> Result<Value, String> {
        parse_filter(text).map(json)
    }
    fn profile(text: &str) -> Result<Value, String> {
        parse_profile(text).map(json)
    }
    fn any(text: &str) -> Result<Value, String> {
        serde_json::from_str(text).map_err(|error| format!("expected JSON: {error}"))
    }
    match shape {
        "Tag" => tag,
        "TagKeyMaybeValue" => tag_key,
        "Filter" => filter,
        "IamInstanceProfileSpecification" => profile,
        _ => any,
    }
}

impl OperationCommand {
    /// The API call the verb makes, documents given as `file://PATH` read.
    fn into_call(self) -> anyhow::Result<Call> {
        let operation = self.operation;
        if *operation == operations::RUN_INSTANCES {
            return Ok(RunInstancesArgs::from_arg_matches(&self.matches)?.into_call());
        }
        let mut params = serde_json::Map::new();
        for field in operation.parameters() {
            if let Some(value) = self.value(field)? {
                params.insert(field.name.to_string(), value);
            }
        }
        serde_json::from_value(serde_json::json!({"operation": operation.name, "params": params}))
            .with_context(|| {
                format!(
                    "the flags of {} make no {operation} request",
                    operation.verb
                )
            })
    }

    /// The flag's value as the request's JSON holds it; `None` if not given.
    fn value(&self, field: &Field) -> anyhow::Result<Option<Value>> {
        let id = snake_case(field.name);
        let flags = &self.matches;
        let no_flag = |error| anyhow::anyhow!("--{}: {error}", id.replace('_', "-"));
        Ok(match field.kind {
            Kind::String => match flags.try_get_one::<String>(&id).map_err(no_flag)? {
                // AWS's model types these `policyDocumentType`: the AWS CLI
                // reads them from files too.
                Some(text) if field.name.ends_with("PolicyDocument") => {
                    Some(Value::String(document(text)?))
                }
                Some(text) => Some(Value::String(text.clone())),
                None => None,
            },
            Kind::Int => flags
                .try_get_one::<u32>(&id)
                .map_err(no_flag)?
                .map(|n| Value::from(*n)),
            Kind::Bool => flags
                .try_get_one::<bool>(&id)
                .map_err(no_flag)?
                .map(|b| Value::Bool(*b)),
            Kind::StringList => flags
                .try_get_many::<String>(&id)
                .map_err(no_flag)?
                .map(|values| values.cloned().map(Value::String).collect()),
            Kind::Struct { .. } => flags.try_get_one::<Value>(&id).map_err(no_flag)?.cloned(),
            Kind::StructList { .. } => flags
                .try_get_many::<Value>(&id)
                .map_err(no_flag)?
                .map(|values| values.cloned().collect()),
            Kind::Flatten { .. } => None,
        })
    }
}

/// `run-instances` as people launch lab instances: a Name tag and a count
/// instead of TagSpecifications and MinCount/MaxCount.
#[derive(Debug, Args)]
pub struct RunInstancesArgs {
    /// Value of the Name tag
    #[arg(long)]
    name: Option<String>,
    /// How many instances to launch
    #[arg(long, default_value_t = 1)]
    count: u32,
    /// Name=PROFILE or Arn=ARN
    #[arg(long, value_parser = parse_profile)]
    iam_instance_profile: Option<IamInstanceProfileSpecification>,
    /// AMI id (any; the emulator runs no image)
    #[arg(long)]
    image_id: Option<String>,
    /// Instance type (default t3.micro)
    #[arg(long)]
    instance_type: Option<String>,
    /// More tags as Key=k,Value=v (repeatable)
    #[arg(long, num_args = 1.., value_parser = parse_tag)]
    tags: Vec<Tag>,
}

impl RunInstancesArgs {
    fn into_call(self) -> Call {
        let mut all: Vec<Tag> = self.name.map(|n| Tag::new("Name", n)).into_iter().collect();
        all.extend(self.tags);
        Call::RunInstances(Box::new(RunInstancesRequest {
            image_id: self.image_id,
            instance_type: self.instance_type,
            min_count: self.count,
            max_count: self.count,
            iam_instance_profile: self.iam_instance_profile,
            tag_specifications: if all.is_empty() {
                Vec::new()
            } else {
                vec![TagSpecification {
                    resource_type: "instance".into(),
                    tags: all,
                }]
            },
        }))
    }
}

// -- the other subcommands ----------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    // Every API operation, by its AWS CLI name (generated from the table).
    #[command(flatten)]
    Operation(OperationCommand),
    Configure(ConfigureArgs),
    Credentials {
        /// `env`: export lines for a shell (`eval "$(rolecall emulator
        /// credentials)"`); `json`: {"AccessKeyId": ..., "SecretAccessKey": ...}
        #[arg(long, value_enum, default_value = "env")]
        format: CredentialsFormat,
        /// Replace the key first: the old one stops working at once
        #[arg(long)]
        rotate: bool,
    },
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
    LookupEvents(super::audit::LookupEventsArgs),
    RevokeSessions(super::audit::RevokeSessionsArgs),
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

/// How `rolecall emulator credentials` prints the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CredentialsFormat {
    Env,
    Json,
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
    /// Events the audit trail keeps, the oldest dropped first (default 10000)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_events: Option<u32>,
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
fn document(text: &str) -> anyhow::Result<String> {
    match text.strip_prefix("file://") {
        Some(path) => crate::user_file::read_regular_file(path.as_ref())
            .with_context(|| format!("reading {path}")),
        None => Ok(text.to_string()),
    }
}

/// Opens the account for a command that only reads it: read-only accounts
/// work, and nothing is written. An account that does not exist yet is
/// created, as by any first `rolecall emulator` call.
fn open_to_read(account: &AccountFile, account_id: Option<&str>) -> anyhow::Result<Emulator> {
    match account.open_to_read()? {
        Some(emulator) => {
            if let Some(id) = account_id {
                emulator.check_account_id(id)?;
            }
            Ok(emulator)
        }
        None => Ok(account.open(account_id)?),
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

pub fn run(session: &Session, args: EmulatorArgs) -> anyhow::Result<Outcome> {
    let account_id = args.account_id.as_deref();
    // These commands act on the emulator itself, whatever else may come.
    let account = session.backend.account_file("emulator")?;
    match args.command {
        // Out-of-band calls take no lock: they play another actor changing
        // the account, as anyone may on AWS while an apply runs.
        EmulatorCommand::Operation(command) => {
            let call = command.into_call()?;
            let emulator = if call.descriptor().access == Access::Read {
                open_to_read(account, account_id)?
            } else {
                account.open(account_id)?
            };
            let out = call.invoke(&emulator)?;
            print_json(&out)?;
        }
        EmulatorCommand::Configure(c) => configure(session, account, account_id, c)?,
        EmulatorCommand::Credentials { format, rotate } => {
            let emulator = account.open(account_id)?;
            let key = if rotate {
                emulator.rotate_admin_key()?
            } else {
                emulator.admin_key()?
            };
            let text = match format {
                CredentialsFormat::Env => format!(
                    "export AWS_ACCESS_KEY_ID={}\nexport AWS_SECRET_ACCESS_KEY={}\n",
                    key.access_key_id, key.secret_access_key
                ),
                CredentialsFormat::Json => {
                    let json = serde_json::json!({
                        "AccessKeyId": key.access_key_id,
                        "SecretAccessKey": key.secret_access_key,
                    });
                    format!("{}\n", serde_json::to_string_pretty(&json)?)
                }
            };
            super::output::write_stdout(&text)?;
        }
        EmulatorCommand::Export { file } => {
            let emulator = open_to_read(account, account_id)?;
            if file.as_os_str() == "-" {
                super::output::write_stdout(&emulator.export_yaml()?)?;
            } else {
                emulator.export_to_file(&file)?;
            }
        }
        EmulatorCommand::Import { file, lock_timeout } => {
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
            let _lock = account.lock("rolecall emulator import", lock_timeout)?;
            Emulator::import_to(account.path(), account_id, &export)?;
        }
        EmulatorCommand::LookupEvents(lookup) => {
            let emulator = open_to_read(account, account_id)?;
            print_json(&super::audit::lookup_events(&emulator, lookup)?)?;
        }
        EmulatorCommand::RevokeSessions(revoke) => {
            let emulator = account.open(account_id)?;
            let cutoff = super::audit::revoke_sessions(&emulator, &revoke)?;
            if !session.quiet {
                errln!(
                    "Sessions of role {} issued before {cutoff} are denied (inline policy {}).",
                    revoke.role_name,
                    super::audit::REVOKE_POLICY_NAME
                );
            }
        }
        EmulatorCommand::Stress { calls, prefix } => {
            stress(account.open(account_id)?, calls, &prefix)?
        }
    }
    Ok(Outcome::Clean)
}

fn configure(
    session: &Session,
    account: &AccountFile,
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
    if !faults_change && !quotas_change && c.max_events.is_none() {
        return show_settings(&open_to_read(account, account_id)?);
    }
    // Settings change how an apply's calls behave: never under a running one.
    let _lock = account.lock("rolecall emulator configure", c.lock_timeout)?;
    let emulator = account.open(account_id)?;
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
    if let Some(max) = c.max_events {
        emulator.set_max_events(max)?;
    }
    // With -q a change is silent: showing the settings confirms it, it is
    // not the command's output.
    if session.quiet {
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
        "trail": {"max_events": emulator.max_events()?},
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
