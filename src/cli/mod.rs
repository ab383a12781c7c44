//! The command line: argument definitions and one module per command.
//!
//! This is the edge of the program: commands orchestrate the library and print;
//! the library itself never prints. Every command returns an [`Outcome`] that
//! `main` maps to the exit code (0 clean, 2 changes or drift); errors exit 1.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub mod apply;
pub mod audit;
pub mod drift;
pub mod emulator;
pub mod import;
pub mod interrupt;
pub mod lint;
pub mod output;
pub mod plan;
pub mod progress;
pub mod schema;
pub mod serve;
pub mod session;
pub mod simulate;
pub mod validate;

/// What a successful command found, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Success, nothing to change (exit 0).
    Clean,
    /// Success with changes to make, or drift found (exit 2).
    Changes,
    /// `simulate`: some action is denied (exit 3).
    Denied,
}

const AFTER_HELP: &str = "\
Examples:
  rolecall validate                         check manifests/ and print every error
  rolecall plan                             what apply would change, in order
  rolecall apply --auto-approve             make the account match manifests/
  rolecall plan --format json --out plan.json && rolecall apply plan.json

The account is an emulated AWS account in .rolecall/account.db unless
--account or ROLECALL_ACCOUNT names another file; --cloud aws (or
ROLECALL_CLOUD=aws) acts on the real AWS account the AWS CLI would reach.

Exit codes: 0 success and nothing to change, 1 error, 2 changes (plan with
--detailed-exitcode), drift found or lint findings, 3 an action denied
(simulate).";

/// Manage AWS IAM roles, instance profiles, tags and EC2 instance-profile
/// associations from YAML manifests kept in git.
#[derive(Debug, Parser)]
#[command(name = "rolecall", version, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The account to act on: the emulated one in a local file, or a real AWS account
    ///
    /// Else $ROLECALL_CLOUD, else emulator. `aws` reaches the account the AWS CLI
    /// would: credentials, region and endpoints from the environment, ~/.aws/config
    /// and ~/.aws/credentials (profiles, IAM Identity Center, web identity such as
    /// GitHub Actions OIDC, ECS, instance metadata), AWS_ENDPOINT_URL and
    /// AWS_ENDPOINT_URL_IAM/_EC2/_STS (moto, LocalStack, `rolecall serve`).
    // ROLECALL_CLOUD is read in `Session::from_args`, as ROLECALL_ACCOUNT is.
    #[arg(long, global = true, value_enum, value_name = "CLOUD")]
    pub cloud: Option<CloudChoice>,
    /// With --cloud aws: the AWS CLI profile to use (else $AWS_PROFILE, else default)
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// With --cloud aws: an S3 bucket where apply, destroy and import lock the account
    ///
    /// Else $ROLECALL_LOCK_BUCKET. The lock is the object rolecall/<ACCOUNT-ID>.lock,
    /// written only if absent (S3's conditional put, as Terraform's S3 backend locks)
    /// and deleted when the run ends; a second run fails naming the holder, or waits
    /// with --lock-timeout. Needs s3:PutObject, s3:GetObject and s3:DeleteObject on
    /// the key, in a bucket of the configured region. Without it rolecall takes no
    /// lock on AWS, and the pipeline must run one apply at a time.
    // ROLECALL_LOCK_BUCKET is read in `Session::from_args`, as ROLECALL_ACCOUNT is.
    #[arg(long, global = true, value_name = "BUCKET")]
    pub lock_bucket: Option<String>,
    /// With --cloud aws: send at most this many API calls a second
    ///
    /// Whatever the limit, calls slow down when AWS throttles one (to 70% of the
    /// rate they were sent at, growing back by one call a second each second), and
    /// each throttled call is retried after a backoff.
    #[arg(long, global = true, value_name = "CALLS", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rate: Option<u32>,
    /// Emulated account file, else $ROLECALL_ACCOUNT, else .rolecall/account.db
    // ROLECALL_ACCOUNT is read in `Session::from_args`, not by clap: clap refuses
    // a variable that is set but empty, which means unset.
    #[arg(long, global = true, value_name = "PATH")]
    pub account: Option<PathBuf>,
    /// More output: -v lists API calls, -vv debug logs, -vvv traces
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors, and the output the command exists for (plan, report, graph, JSON)
    ///
    /// No notes, warnings, progress or summaries. The plan, the drift report, the
    /// graph, the schema and the emulator's responses are the same bytes as
    /// without -q (a plan's own warnings are part of the plan); validate, apply,
    /// destroy, import and `emulator configure` with flags print nothing on
    /// success: the exit code says it. apply and destroy still show the plan
    /// when they ask for approval.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// When to colour output (NO_COLOR is respected)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudChoice {
    /// The emulated AWS account in one local file (--account)
    Emulator,
    /// A real AWS account, as the AWS CLI reaches it
    Aws,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Manifest files and directories (`-f`, repeatable), and where policy files may lie.
#[derive(Debug, Clone, Args)]
pub struct ManifestArgs {
    /// Manifest file or directory (repeatable; directories are read recursively)
    #[arg(
        short = 'f',
        long = "file",
        value_name = "PATH",
        default_value = "manifests"
    )]
    pub files: Vec<PathBuf>,
    /// Directory that manifest files and policy files ({file: PATH}) must lie inside, symlinks followed
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub file_root: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests and print every error
    Validate(validate::ValidateArgs),
    /// Show the ordered API calls that would make the account match the manifests
    Plan(plan::PlanArgs),
    /// Make the account match the manifests (or apply a saved plan)
    Apply(apply::ApplyArgs),
    /// Delete everything the stack owns, in a safe order
    Destroy(apply::DestroyArgs),
    /// Show what changed in the account outside git (exit 2 on drift)
    Drift(drift::DriftArgs),
    /// Adopt existing, unowned resources that the manifests declare
    Import(import::ImportArgs),
    /// Find what is too broad or risky in the declared policies (exit 2 on findings)
    Lint(lint::LintArgs),
    /// Decide, as AWS would, whether a role or an instance may make a call
    Simulate(simulate::SimulateArgs),
    /// Print the resource graph (or the step DAG) for Graphviz
    Graph(plan::GraphArgs),
    /// Print the JSON Schema of the manifest format, for editors
    Schema(schema::SchemaArgs),
    /// Act on the emulated account directly: AWS CLI-style operations, export, import
    Emulator(emulator::EmulatorArgs),
    /// Serve the emulated account as an AWS endpoint (IAM, EC2, STS) for the AWS CLI, boto3 and SDKs
    Serve(serve::ServeArgs),
}

/// An error whose text is already complete (rendered diagnostics and a count
/// line): `main` prints it as it is, without its own `error: ` prefix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Rendered(pub String);

/// The error every command returns when the manifests do not load: every
/// diagnostic, then `error: N errors in manifests`.
pub fn manifest_error(diagnostics: crate::manifest::Diagnostics) -> anyhow::Error {
    let errors = diagnostics.error_count();
    let mut summary = validate::plural(errors, "error");
    let warnings = diagnostics.warning_count();
    if warnings > 0 {
        summary = format!("{summary} and {}", validate::plural(warnings, "warning"));
    }
    anyhow::Error::new(Rendered(format!(
        "{diagnostics}\nerror: {summary} in manifests"
    )))
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let session = session::Session::from_args(&cli.global)?;
    output::init(&session);
    let session = &session;
    match cli.command {
        Command::Validate(args) => validate::run(session, args),
        Command::Plan(args) => plan::run(session, args),
        Command::Apply(args) => apply::run(session, args),
        Command::Destroy(args) => apply::run_destroy(session, args),
        Command::Drift(args) => drift::run(session, args),
        Command::Import(args) => import::run(session, args),
        Command::Lint(args) => lint::run(session, args),
        Command::Simulate(args) => simulate::run(session, args),
        Command::Graph(args) => plan::run_graph(session, args),
        Command::Schema(args) => schema::run(session, args),
        Command::Emulator(args) => emulator::run(session, args),
        Command::Serve(args) => serve::run(session, args),
    }
}
