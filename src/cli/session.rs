//! Everything a command needs from the global arguments, resolved once in
//! [`super::run`] before any command runs: which account (the backend) and
//! how to print. Commands receive the session, never raw paths.

use std::path::PathBuf;

use anyhow::Context;
use clap::ValueEnum;

use super::output::errln;
use super::{CloudChoice, ColorChoice, GlobalArgs, ManifestArgs, manifest_error};
use crate::aws::AwsSettings;
use crate::backend::{Backend, ReadOnly};
use crate::cloud::Cloud;
use crate::cloud::snapshot::Scope;
use crate::emulator::AccountFile;
use crate::manifest::{self, Loaded};
use crate::model::Live;
use crate::phase;
use crate::plan::PlanOptions;

#[derive(Debug, Clone)]
pub struct Session {
    /// The account commands act on.
    pub backend: Backend,
    /// `-q`: only errors and the output the command exists for.
    pub quiet: bool,
    /// `-v` count: API calls, debug logs, traces.
    pub verbose: u8,
    pub color: ColorChoice,
}

impl Session {
    /// Resolves the global arguments: `--cloud`, else `ROLECALL_CLOUD`, else
    /// the emulator; for it `--account`, else `ROLECALL_ACCOUNT`, else the
    /// default account file. A variable set but empty means unset.
    pub fn from_args(global: &GlobalArgs) -> anyhow::Result<Session> {
        let backend = match cloud_choice(global)? {
            CloudChoice::Emulator => {
                if global.profile.is_some() {
                    anyhow::bail!(
                        "--profile names an AWS CLI profile: it needs --cloud aws (the emulated account takes --account)"
                    );
                }
                if global.lock_bucket.is_some() {
                    anyhow::bail!(
                        "--lock-bucket locks an AWS account: it needs --cloud aws (the emulated account locks itself)"
                    );
                }
                if global.max_rate.is_some() {
                    anyhow::bail!("--max-rate paces calls to AWS: it needs --cloud aws");
                }
                Backend::emulator(account_file(global))
            }
            CloudChoice::Aws => {
                if global.account.is_some() {
                    anyhow::bail!(
                        "--account names an emulated account file: it cannot be used with --cloud aws"
                    );
                }
                let lock_bucket = global
                    .lock_bucket
                    .clone()
                    .or_else(|| non_empty_var("ROLECALL_LOCK_BUCKET"))
                    .map(|bucket| check_bucket_name(&bucket).map(|()| bucket))
                    .transpose()?;
                Backend::aws(
                    AwsSettings {
                        profile: global.profile.clone(),
                        max_rate: global.max_rate,
                    },
                    lock_bucket,
                )
            }
        };
        Ok(Session {
            backend,
            quiet: global.quiet,
            verbose: global.verbose,
            color: global.color,
        })
    }
}

/// An environment variable's value; set but empty means unset.
fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// S3's rules for a bucket name (3 to 63 lowercase letters, digits, dots
/// and hyphens, starting and ending with a letter or digit), checked
/// before any call.
fn check_bucket_name(bucket: &str) -> anyhow::Result<()> {
    if let Some(rest) = bucket.strip_prefix("s3://") {
        anyhow::bail!(
            "--lock-bucket takes a bucket name, not a URL: --lock-bucket {}",
            rest.split('/').next().unwrap_or_default()
        );
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(3..=63).contains(&bucket.len())
        || !bucket.chars().all(allowed)
        || !edge(bucket.chars().next())
        || !edge(bucket.chars().last())
    {
        anyhow::bail!(
            "--lock-bucket {bucket:?} is not an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit"
        );
    }
    Ok(())
}

/// `--cloud`, else `ROLECALL_CLOUD`, else the emulator.
fn cloud_choice(global: &GlobalArgs) -> anyhow::Result<CloudChoice> {
    if let Some(choice) = global.cloud {
        return Ok(choice);
    }
    match std::env::var("ROLECALL_CLOUD") {
        Ok(value) if value.is_empty() => Ok(CloudChoice::Emulator),
        Ok(value) => CloudChoice::from_str(&value, true).map_err(|_| {
            anyhow::anyhow!("ROLECALL_CLOUD={value:?} is not a cloud: use emulator or aws")
        }),
        Err(std::env::VarError::NotPresent) => Ok(CloudChoice::Emulator),
        Err(std::env::VarError::NotUnicode(_)) => {
            anyhow::bail!("ROLECALL_CLOUD is not valid UTF-8: use emulator or aws")
        }
    }
}

/// `--account`, else `ROLECALL_ACCOUNT`, else the default account file.
fn account_file(global: &GlobalArgs) -> AccountFile {
    global
        .account
        .clone()
        .or_else(|| {
            std::env::var_os("ROLECALL_ACCOUNT")
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
        })
        .map_or_else(AccountFile::default, AccountFile::new)
}

/// What most commands start with: the manifests and the account.
impl Session {
    /// Loads and validates manifests, printing warnings to stderr.
    pub fn load(&self, args: &ManifestArgs) -> anyhow::Result<Loaded> {
        let loaded = manifest::load(&args.files, &args.file_root)
            .map_err(|found| manifest_error(super::output::shown_diagnostics(self, found)))?;
        if !self.quiet {
            for warning in &loaded.warnings {
                errln!("{warning}");
            }
        }
        Ok(loaded)
    }

    /// [`Session::load`], also saying where each role's policies are
    /// declared (simulate, lint).
    pub fn load_with_policy_places(
        &self,
        args: &ManifestArgs,
    ) -> anyhow::Result<(Loaded, manifest::PolicyPlaces)> {
        let (loaded, places) = manifest::load_with_policy_places(&args.files, &args.file_root)
            .map_err(|found| manifest_error(super::output::shown_diagnostics(self, found)))?;
        if !self.quiet {
            for warning in &loaded.warnings {
                errln!("{warning}");
            }
        }
        Ok((loaded, places))
    }

    /// The account as a read-only command (plan, drift, graph) sees it, and
    /// what a plan against it may do. Nothing is written: a read-only
    /// account file or directory is fine. An account that does not exist yet
    /// is an empty one: nothing is created, so a mistyped `--account` leaves
    /// no file behind; `apply` creates it.
    /// Within `scope` (the stack's), a backend that reads instances by the
    /// call (AWS) reads only the instances the stack concerns.
    pub fn read(&self, force: bool, scope: Option<&Scope>) -> anyhow::Result<(Live, PlanOptions)> {
        let account = self.backend.open_to_read()?;
        if let ReadOnly::Missing(_) = account
            && !self.quiet
        {
            errln!(
                "note: {} yet: planning against an empty account (the first `rolecall apply` creates it)",
                self.backend.absence()
            );
        }
        let live = account.snapshot(scope).context("reading the account")?;
        let options = PlanOptions {
            force,
            launch_instances: account.launches_instances(),
        };
        Ok((live, options))
    }

    /// The manifests and the account together. On the emulated account
    /// they are read at the same time: neither needs the other, and at
    /// scale each takes seconds. On AWS the manifests come first: they say
    /// which instances to read, and an account may hold thousands of
    /// others. Manifest mistakes are reported first: they are the user's
    /// to fix, whatever the account.
    pub fn load_and_read(
        &self,
        manifests: &ManifestArgs,
        force: bool,
    ) -> anyhow::Result<(Loaded, Live, PlanOptions)> {
        if self.backend.reads_within_scope() {
            let loaded = phase::timed("load", || self.load(manifests))?;
            let (live, options) = phase::timed("snapshot", || {
                self.read(force, Some(&Scope::of(&loaded.desired)))
            })?;
            return Ok((loaded, live, options));
        }
        let (loaded, read) = std::thread::scope(|scope| {
            let reading =
                scope.spawn(|| phase::timed("snapshot (beside load)", || self.read(force, None)));
            let loaded = phase::timed("load", || self.load(manifests));
            let read = reading.join().unwrap_or_else(|_| {
                Err(anyhow::anyhow!("reading the account failed unexpectedly"))
            });
            (loaded, read)
        });
        let loaded = loaded?;
        let (live, options) = read?;
        Ok((loaded, live, options))
    }
}

/// Reads an account opened to change it, in one pass: what the stack in
/// `scope` concerns.
pub fn snapshot(cloud: &dyn Cloud, scope: &Scope) -> anyhow::Result<Live> {
    cloud.snapshot_within(scope).context("reading the account")
}

/// What a plan against this account may do: launching declared instances
/// needs an account with a lab (an emulated one).
pub fn plan_options(cloud: &dyn Cloud, force: bool) -> PlanOptions {
    PlanOptions {
        force,
        launch_instances: cloud.lab().is_some(),
    }
}
