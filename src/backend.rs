//! Which cloud this invocation talks to, chosen once before any command
//! runs (ripgrep's model: raw arguments become one resolved value). Commands
//! ask the backend to open, read or lock the account, never for a path.
//!
//! Two backends: the emulated account in one local file (the default), and
//! a real AWS account reached as the AWS CLI reaches it (`--cloud aws`).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::aws::{AwsClient, AwsError, AwsSettings, S3Lock};
use crate::cloud::snapshot::Scope;
use crate::cloud::{Cloud, CloudError};
use crate::emulator::lock::{AccountLock, describe_holder};
use crate::emulator::{AccountFile, Actor, EmulatorError};
use crate::model::Live;

/// The account commands act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// The emulated AWS account in one SQLite file.
    Emulator(AccountFile),
    /// A real AWS account (or an AWS-compatible endpoint: moto, LocalStack,
    /// `rolecall serve`).
    Aws(AwsAccount),
}

/// The AWS account the AWS CLI's settings reach; its client is made once,
/// on first use, and shared by every command of the invocation.
#[derive(Clone)]
pub struct AwsAccount {
    settings: AwsSettings,
    /// The bucket of the apply lock (`--lock-bucket`); none, no lock.
    lock_bucket: Option<String>,
    client: Arc<OnceLock<AwsClient>>,
}

impl AwsAccount {
    fn client(&self) -> Result<AwsClient, BackendError> {
        if let Some(client) = self.client.get() {
            return Ok(client.clone());
        }
        let client = AwsClient::from_environment(&self.settings)?;
        Ok(self.client.get_or_init(|| client).clone())
    }
}

impl std::fmt::Debug for AwsAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsAccount")
            .field("settings", &self.settings)
            .field("lock_bucket", &self.lock_bucket)
            .finish_non_exhaustive()
    }
}

impl PartialEq for AwsAccount {
    fn eq(&self, other: &AwsAccount) -> bool {
        self.settings == other.settings && self.lock_bucket == other.lock_bucket
    }
}

impl Eq for AwsAccount {}

/// Why the backend could not open, read or lock the account. Each variant
/// prints as its cause does: the emulator's errors name the account file.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Emulator(#[from] EmulatorError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    AwsLock(#[from] crate::aws::LockError),
    #[error("`rolecall {command}` acts on the emulated account, not on --cloud aws")]
    NotEmulated { command: &'static str },
}

/// A held account lock; dropping it releases it.
#[derive(Debug)]
pub enum BackendLock {
    Emulator(AccountLock),
    /// The lock object in the `--lock-bucket` bucket.
    Aws(Box<S3Lock>),
    /// No lock is taken: the pipeline must run one apply at a time.
    Unlocked,
}

impl BackendLock {
    /// The holder this lock was taken over from, when it died without
    /// releasing cleanly.
    pub fn took_over_from(&self) -> Option<&str> {
        match self {
            BackendLock::Emulator(lock) => lock.took_over_from.as_deref(),
            // Never taken over: a lock object outlives its holder, and the
            // error says how to delete it.
            BackendLock::Aws(_) | BackendLock::Unlocked => None,
        }
    }
}

/// The account opened to read, nothing written.
pub enum ReadOnly {
    /// The account as it is.
    Account(Box<dyn Cloud>),
    /// No account yet: it reads as the empty account the first change
    /// creates, which launches lab instances as the emulated one does.
    Missing(Live),
}

impl ReadOnly {
    /// The account in one pass; within a stack's `scope`, only the
    /// instances it concerns where reading fewer saves calls.
    pub fn snapshot(&self, scope: Option<&Scope>) -> Result<Live, CloudError> {
        match (self, scope) {
            (ReadOnly::Account(cloud), Some(scope)) => cloud.snapshot_within(scope),
            (ReadOnly::Account(cloud), None) => cloud.snapshot(),
            (ReadOnly::Missing(empty), _) => Ok(empty.clone()),
        }
    }

    /// Whether a plan against this account may launch declared instances:
    /// only a backend with a lab may.
    pub fn launches_instances(&self) -> bool {
        match self {
            ReadOnly::Account(cloud) => cloud.lab().is_some(),
            // An account not there yet is an emulated one to be, with a lab.
            ReadOnly::Missing(_) => true,
        }
    }
}

impl Backend {
    /// The emulated account in `file`.
    pub fn emulator(file: AccountFile) -> Backend {
        Backend::Emulator(file)
    }

    /// The real AWS account the AWS CLI's `settings` reach; applies lock
    /// it with an object in `lock_bucket` when one is named.
    pub fn aws(settings: AwsSettings, lock_bucket: Option<String>) -> Backend {
        Backend::Aws(AwsAccount {
            settings,
            lock_bucket,
            client: Arc::default(),
        })
    }

    /// The emulated account file, for commands that act on the emulator
    /// itself (`rolecall emulator`, `rolecall serve`).
    pub fn account_file(&self, command: &'static str) -> Result<&AccountFile, BackendError> {
        match self {
            Backend::Emulator(file) => Ok(file),
            Backend::Aws(_) => Err(BackendError::NotEmulated { command }),
        }
    }

    /// Whether reading the account is cheaper within a stack's scope (AWS:
    /// instances are read by the call), so the manifests are read first.
    pub fn reads_within_scope(&self) -> bool {
        matches!(self, Backend::Aws(_))
    }

    /// Whether applies against this account are serialised by rolecall
    /// itself; when not, the pipeline must run one at a time.
    pub fn locks_applies(&self) -> bool {
        match self {
            Backend::Emulator(_) => true,
            Backend::Aws(account) => account.lock_bucket.is_some(),
        }
    }

    /// Opens the account for a command that changes it. An emulated one is
    /// created on first use, and refused, naming it, when it cannot be
    /// written. On AWS the credentials are checked here; what they may do,
    /// AWS says call by call. At most `parallelism` calls of a wave are in
    /// flight at once there.
    pub fn open(&self, parallelism: usize) -> Result<Box<dyn Cloud>, BackendError> {
        match self {
            Backend::Emulator(file) => {
                let emulator = file.open(None)?;
                // The trail marks rolecall's own changes, so drift never
                // reports them as made outside rolecall.
                emulator.set_actor(Actor::rolecall(emulator.account_id()));
                Ok(Box::new(emulator))
            }
            Backend::Aws(account) => Ok(Box::new(account.client()?.with_parallelism(parallelism))),
        }
    }

    /// Opens the account to read it: nothing is created or written, and a
    /// read-only account is fine. An account that does not exist yet reads
    /// as an empty one.
    pub fn open_to_read(&self) -> Result<ReadOnly, BackendError> {
        match self {
            Backend::Emulator(file) => Ok(match file.open_to_read()? {
                Some(emulator) => ReadOnly::Account(Box::new(emulator)),
                None => ReadOnly::Missing(file.empty_account()),
            }),
            Backend::Aws(account) => Ok(ReadOnly::Account(Box::new(account.client()?))),
        }
    }

    /// Checks that the account may be changed, then takes its lock, waiting
    /// up to `timeout` for another holder; `command` names this holder to
    /// the next one.
    pub fn lock(&self, command: &str, timeout: Duration) -> Result<BackendLock, BackendError> {
        match self {
            Backend::Emulator(file) => Ok(BackendLock::Emulator(file.lock(command, timeout)?)),
            Backend::Aws(account) => match &account.lock_bucket {
                Some(bucket) => {
                    let holder = describe_holder(command);
                    let lock = account.client()?.lock_account(bucket, &holder, timeout)?;
                    Ok(BackendLock::Aws(Box::new(lock)))
                }
                None => Ok(BackendLock::Unlocked),
            },
        }
    }

    /// Whether there is no account yet, found without creating anything.
    pub fn is_missing(&self) -> Result<bool, BackendError> {
        match self {
            Backend::Emulator(file) => Ok(file.is_missing()?),
            // An AWS account is always there.
            Backend::Aws(_) => Ok(false),
        }
    }

    /// What messages say when there is no account: "there is no emulated
    /// account at PATH".
    pub fn absence(&self) -> String {
        match self {
            Backend::Emulator(file) => {
                format!("there is no emulated account at {}", file.path().display())
            }
            Backend::Aws(_) => "there is no AWS account".to_string(),
        }
    }
}
