//! The emulated AWS account: one SQLite file that behaves like AWS, errors and all.
//!
//! [`Emulator`] implements [`Cloud`]. Each API call is one transaction
//! ([`store`]): `BEGIN IMMEDIATE` if it may write, deferred if it only reads; the rules and messages of IAM live in [`iam`] and
//! [`validate`], those of EC2 in [`ec2`], the caller's identity in [`sts`]; [`faults`] injects throttling
//! and failures on request (the eventual consistency that [`Faults`] also
//! sets is applied by `iam` and `ec2`); [`snapshot`] reads the whole
//! account for the planner; [`export`] writes and reads it as YAML;
//! [`imds`] what a lab instance's metadata service tells (its profile,
//! role and role session), which `rolecall serve` answers over HTTP.
//! [`account`] is the account as a file a user names, [`lock`] its lock
//! (one apply per account at a time).

pub mod account;
mod credentials;
mod ec2;
mod export;
mod faults;
mod iam;
mod ids;
mod imds;
pub mod lock;
mod policies;
mod principals;
mod snapshot;
mod store;
mod sts;
mod trail;
mod validate;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};

use rolecall_cloud::{
    Access, Call, Cloud, CloudError, ErrorCode, Lab, Operation, Service, operations,
};
use rolecall_model::Live;

pub use account::AccountFile;
pub use credentials::{AccessKey, Credential, Principal, token_issue_time};
pub use export::{
    AccountExport, AssociationExport, InstanceExport, InstanceProfileExport, PolicyExport,
    PolicyVersionExport, RoleExport,
};
pub use imds::{
    INSTANCE_SESSION_MS, INSTANCE_SESSION_REFRESH_MS, InstanceMetadata, InstanceSession,
    ProfileMetadata, RoleMetadata,
};
pub use principals::RoleFacts;
pub use snapshot::empty as empty_account;
pub use trail::{Actor, TrailEntry};

/// Account id of an account created without `--account-id`.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";

/// Why the account file could not be opened, read or written outside an API call.
///
/// A variant with a `source` does not repeat it in its own message: `main`
/// prints the chain of causes (`{:#}`), and [`with_causes`] does for the
/// messages of AWS-shaped errors.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// `cause` is not a `source`: rusqlite's own chain repeats its message
    /// (`unable to open database file: Error code 14: unable to open database file`).
    #[error("emulated account {}: {}", path.display(), describe_sqlite(cause))]
    Storage {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error(
        "emulated account {} is busy: another process has held it for more than {} s",
        path.display(), store::BUSY_TIMEOUT.as_secs()
    )]
    Busy { path: PathBuf },
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", schema_message(path, *found))]
    SchemaVersion { path: PathBuf, found: i64 },
    /// Another program's file, or no database at all: left untouched.
    #[error(
        "{} is not a rolecall emulated account ({reason}); rolecall left it untouched",
        path.display()
    )]
    NotAnAccount { path: PathBuf, reason: String },
    #[error(
        "emulated account {} is read-only ({reason}): it can be read, not changed",
        path.display()
    )]
    ReadOnly { path: PathBuf, reason: String },
    /// rolecall creates an account file, never its directory (a mistyped
    /// `--account` must not leave directories behind).
    #[error(
        "cannot create emulated account {}: directory {} {}",
        path.display(), dir.display(),
        if *exists { "is not a directory" } else { "does not exist" }
    )]
    NoDirectory {
        path: PathBuf,
        dir: PathBuf,
        exists: bool,
    },
    #[error(
        "emulated account {} already exists with account id {existing}, not {wanted}",
        path.display()
    )]
    AccountIdMismatch {
        path: PathBuf,
        existing: String,
        wanted: String,
    },
    #[error("invalid account id {0:?}: expected 12 digits")]
    InvalidAccountId(String),
    /// An export that cannot be imported; `origin` names the YAML (a file, or stdin).
    #[error("{origin}: {message}")]
    Import { origin: String, message: String },
    #[error("writing YAML: {0}")]
    Yaml(String),
    /// Only the default directory is created (see [`account::AccountFile`]).
    // The cause is printed after it, by whoever prints the error chain.
    #[error("creating {}", dir.display())]
    CreateDirectory {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// The account lock, taken by whoever changes the account beyond one call.
    #[error(transparent)]
    Lock(#[from] lock::LockError),
}

impl EmulatorError {
    fn storage(path: &Path, source: rusqlite::Error) -> Self {
        if store::is_busy(&source) {
            EmulatorError::Busy {
                path: path.to_path_buf(),
            }
        } else {
            EmulatorError::Storage {
                path: path.to_path_buf(),
                cause: source,
            }
        }
    }
}

fn schema_message(path: &Path, found: i64) -> String {
    let path = path.display();
    let reads = store::SCHEMA_VERSION;
    if found > reads {
        format!(
            "emulated account {path} was written by a newer rolecall (schema {found}; this one reads {reads})"
        )
    } else {
        format!(
            "emulated account {path} has schema version {found}; this rolecall reads version {reads}"
        )
    }
}

/// SQLite's message once, with its extended result code.
fn describe_sqlite(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(code, Some(message)) => {
            format!("{message} (SQLite error {})", code.extended_code)
        }
        other => other.to_string(),
    }
}

/// An error and its causes on one line (`a: b: c`), for the message of an
/// AWS-shaped error, which carries no chain of its own.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

/// An account export read and checked with the API's rules: importing it
/// can then fail only on storage.
pub struct CheckedExport(export::Prepared);

impl CheckedExport {
    /// Checks `account`; `origin` names it in errors (its file, or `stdin`).
    pub fn new(account: AccountExport, origin: &str) -> Result<CheckedExport, EmulatorError> {
        export::prepare(account)
            .map(CheckedExport)
            .map_err(|message| EmulatorError::Import {
                origin: origin.to_string(),
                message,
            })
    }

    /// Reads and checks a YAML export; `origin` names it in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<CheckedExport, EmulatorError> {
        let account = export::from_yaml(text).map_err(|message| EmulatorError::Import {
            origin: origin.to_string(),
            message,
        })?;
        Self::new(account, origin)
    }

    /// Reads and checks the YAML export in `file`.
    pub fn from_file(file: &Path) -> Result<CheckedExport, EmulatorError> {
        // A regular file only: a named pipe would block, a device never end.
        let text = rolecall_model::user_file::read_regular_file(file).map_err(|source| {
            EmulatorError::Io {
                path: file.to_path_buf(),
                source,
            }
        })?;
        Self::from_yaml(&text, &file.display().to_string())
    }
}

/// Misbehaviour the account shows on request (all off by default).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// A new or changed instance profile is invisible to EC2 for this long.
    pub propagation_delay_ms: u64,
    /// New associations stay `associating` for this long.
    pub associating_ms: u64,
    /// Fraction (0..=1) of calls answered `Throttling` / `RequestLimitExceeded`.
    pub throttle_rate: f64,
    /// The Nth call after configuring fails with `ServiceFailure` / `InternalError`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_after: Option<u64>,
    /// Seed of the throttling dice, so a run can be replayed.
    pub seed: u64,
}

/// Where `fail_after` stands, counted in calls since the account was last configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailAfter {
    Off,
    /// Call `n` is still to come: `calls` have been made.
    Pending {
        calls: u64,
        n: u64,
    },
    /// Call `n` came and failed; `calls` have been made in all.
    Fired {
        calls: u64,
        n: u64,
    },
}

/// Account-level quotas (AWS defaults; raisable, as on AWS, e.g. for benchmarks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quotas {
    pub max_roles: u32,
    pub max_instance_profiles: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            max_roles: 1000,
            max_instance_profiles: 1000,
        }
    }
}

/// An emulated AWS account stored in one SQLite file.
pub struct Emulator {
    shared: Mutex<Shared>,
    /// Signalled when a batch ends, for the threads waiting to use the connection.
    batch_ended: Condvar,
    path: PathBuf,
    account_id: String,
    /// Quotas this handle's calls use instead of the account's (see `override_quotas`).
    quotas_override: Option<Quotas>,
    /// Why the account is read-only, if this handle was opened to read one.
    read_only: Option<String>,
    /// Who this handle's calls are made by, for the audit trail.
    actor: Mutex<Arc<Actor>>,
    /// This handle's claim on the account file; dropped after the
    /// connection (fields drop in order).
    _held: store::Held,
}

/// The connection, and which thread's batch holds it.
struct Shared {
    conn: Connection,
    /// The thread running `invoke_batch`, if any. Its calls join the batch's
    /// transaction; every other thread waits until the batch has committed,
    /// so none reports success for a call that is not yet on disk.
    batch_owner: Option<ThreadId>,
}

/// The outcome of an operation's body: an AWS error, or the store failing.
pub(crate) enum OpError {
    Aws(ErrorCode, String),
    /// An AWS error caused by eventual consistency: retrying later succeeds.
    NotYetVisible(ErrorCode, String),
    Db(rusqlite::Error),
}

impl From<rusqlite::Error> for OpError {
    fn from(error: rusqlite::Error) -> Self {
        OpError::Db(error)
    }
}

pub(crate) type OpResult<T> = Result<T, OpError>;

/// Rejects the call with an AWS error.
pub(crate) fn reject<T>(code: ErrorCode, message: impl Into<String>) -> OpResult<T> {
    Err(OpError::Aws(code, message.into()))
}

/// What an operation body sees: the transaction, the account settings, the clock.
pub(crate) struct Ctx<'a> {
    pub db: &'a Connection,
    pub settings: &'a store::Settings,
    pub now_ms: i64,
    /// Who makes a call that may write (known from the trail's record);
    /// `None` for reads, which no body refuses by caller.
    pub caller: Option<&'a Principal>,
}

impl Ctx<'_> {
    pub fn account_id(&self) -> &str {
        &self.settings.account_id
    }

    /// The caller's ARN as IAM names it in an AccessDenied message (the
    /// account's root user when the call has no recorded caller).
    pub fn caller_arn(&self) -> String {
        match self.caller {
            Some(principal) => principal.arn(),
            None => Principal::Root {
                account_id: self.account_id().to_string(),
            }
            .arn(),
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Emulator {
    /// Opens the account at `path` to change it, creating the file (in an
    /// existing directory) and an account with id 123456789012 on first use.
    /// A file that is not an account, or that this process may not write, is
    /// refused untouched.
    pub fn open(path: &Path) -> Result<Emulator, EmulatorError> {
        Self::open_with(path, None)
    }

    /// Opens an existing account to read it, writing nothing, even when the
    /// file or its directory is read-only; `None` when there is no account at
    /// `path` yet. On a read-only account, calls that would write fail with
    /// a message saying so, and calls are not counted (so `fail_after` and
    /// throttling, which count them, are off).
    pub fn open_to_read(path: &Path) -> Result<Option<Emulator>, EmulatorError> {
        let Some((conn, read_only, held)) = store::open_to_read(path)? else {
            return Ok(None);
        };
        let mut emulator = Self::with_connection(path, conn, held)?;
        emulator.read_only = read_only;
        Ok(Some(emulator))
    }

    /// Checks, changing nothing, that [`Emulator::open`] could open the
    /// account at `path`: its directory exists, the file is an account (or
    /// absent), and this process may write both.
    pub fn check_writable(path: &Path) -> Result<(), EmulatorError> {
        store::check_writable(path).map(drop)
    }

    /// Fails unless the account has id `account_id`.
    pub fn check_account_id(&self, account_id: &str) -> Result<(), EmulatorError> {
        if self.account_id == account_id {
            return Ok(());
        }
        Err(EmulatorError::AccountIdMismatch {
            path: self.path.clone(),
            existing: self.account_id.clone(),
            wanted: account_id.to_string(),
        })
    }

    /// Opens the account at `path`, creating it with `account_id` if it does not
    /// exist; an existing account must have that id.
    pub fn create(path: &Path, account_id: &str) -> Result<Emulator, EmulatorError> {
        if !rolecall_model::is_account_id(account_id) {
            return Err(EmulatorError::InvalidAccountId(account_id.to_string()));
        }
        Self::open_with(path, Some(account_id))
    }

    fn open_with(path: &Path, account_id: Option<&str>) -> Result<Emulator, EmulatorError> {
        let (conn, held) = store::open(path, account_id)?;
        Self::with_connection(path, conn, held)
    }

    fn with_connection(
        path: &Path,
        conn: Connection,
        held: store::Held,
    ) -> Result<Emulator, EmulatorError> {
        let account_id =
            store::read_account_id(&conn).map_err(|e| EmulatorError::storage(path, e))?;
        Ok(Emulator {
            shared: Mutex::new(Shared {
                conn,
                batch_owner: None,
            }),
            batch_ended: Condvar::new(),
            path: path.to_path_buf(),
            quotas_override: None,
            read_only: None,
            actor: Mutex::new(Arc::new(Actor::in_process(&account_id))),
            account_id,
            _held: held,
        })
    }

    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The account file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The administrator access key, which signs requests to `rolecall
    /// serve` as the account's root user.
    pub fn admin_key(&self) -> Result<AccessKey, EmulatorError> {
        // Every account opened for writing has one (`store::upgrade`).
        if let Some(key) = self.read(credentials::admin_key)? {
            return Ok(key);
        }
        self.write(|db| credentials::ensure_admin_key(db, now_ms()))
    }

    /// Replaces the administrator key; the old one stops working at once.
    pub fn rotate_admin_key(&self) -> Result<AccessKey, EmulatorError> {
        self.write(|db| credentials::rotate_admin_key(db, now_ms()))
    }

    /// The key `access_key_id`, if the account holds it (a role session's
    /// too, expired or not: see [`Credential::expires_at_ms`]).
    pub fn credential(&self, access_key_id: &str) -> Result<Option<Credential>, EmulatorError> {
        self.read(|db| credentials::find(db, &self.account_id, access_key_id))
    }

    /// AssumeRole, called by `caller` (the [`Cloud`] method is the root user's).
    pub fn assume_role_as(
        &self,
        caller: &Principal,
        input: &rolecall_cloud::sts::AssumeRoleRequest,
    ) -> Result<rolecall_cloud::sts::AssumeRoleResponse, CloudError> {
        self.call(&operations::ASSUME_ROLE, input, |cx| {
            sts::assume_role_as(cx, caller, input)
        })
    }

    /// GetCallerIdentity, called by `caller` (the [`Cloud`] method is the root user's).
    pub fn get_caller_identity_as(
        &self,
        caller: &Principal,
        input: &rolecall_cloud::sts::GetCallerIdentityRequest,
    ) -> Result<rolecall_cloud::sts::GetCallerIdentityResponse, CloudError> {
        self.call(&operations::GET_CALLER_IDENTITY, input, |cx| {
            sts::get_caller_identity_as(cx, caller, input)
        })
    }

    /// The role `name` with its policies, boundary and tags: what its
    /// sessions may do.
    pub fn role_facts(&self, name: &str) -> Result<Option<RoleFacts>, EmulatorError> {
        self.read(|db| principals::role(db, name))
    }

    /// The ARN of the role `name`, if it exists.
    pub fn role_arn(&self, name: &str) -> Result<Option<String>, EmulatorError> {
        self.read(|db| principals::role_arn(db, name))
    }

    /// The ARN of the instance profile `name`, and the role it holds.
    pub fn profile_role(
        &self,
        name: &str,
    ) -> Result<Option<(String, Option<String>)>, EmulatorError> {
        self.read(|db| principals::profile(db, name))
    }

    /// The instance a live association is of.
    pub fn association_instance(
        &self,
        association_id: &str,
    ) -> Result<Option<String>, EmulatorError> {
        self.read(|db| principals::association_instance(db, association_id))
    }

    /// Who this handle's calls are made by, for the audit trail.
    fn actor(&self) -> Arc<Actor> {
        Arc::clone(&self.actor.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Makes this handle's next calls `actor`'s: `rolecall serve` sets the
    /// signer of each request; rolecall's own commands set [`Actor::rolecall`].
    pub fn set_actor(&self, actor: Actor) {
        *self.actor.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(actor);
    }

    /// Records calls this handle did not make as operations, in one
    /// transaction: reads and refused calls through `rolecall serve`
    /// (calls that may write record themselves).
    pub fn record_events(&self, entries: &[TrailEntry]) -> Result<(), EmulatorError> {
        // These records change nothing else, so they commit without an
        // fsync (WAL with synchronous=NORMAL: durable across a crash of the
        // process, not of the machine).
        self.set_synchronous("NORMAL")?;
        let recorded = self.write(|db| {
            for entry in entries {
                let call = trail::Recorded {
                    operation: entry.operation,
                    params: &entry.params,
                    error: entry
                        .error
                        .as_ref()
                        .map(|(code, message)| (code.as_str(), message.as_str())),
                    response: None,
                };
                trail::record(db, &entry.actor, &call, entry.at_ms)?;
            }
            Ok(())
        });
        let restored = self.set_synchronous("FULL");
        recorded.and(restored)
    }

    /// Sets SQLite's `synchronous` for this handle's next transactions.
    fn set_synchronous(&self, level: &str) -> Result<(), EmulatorError> {
        let shared = self.lock();
        shared
            .conn
            .pragma_update(None, "synchronous", level)
            .map_err(|e| EmulatorError::storage(&self.path, e))
    }

    /// How many events the audit trail keeps (the oldest go first).
    pub fn max_events(&self) -> Result<u32, EmulatorError> {
        self.read(trail::max_events)
    }

    /// Keeps the newest `max` events of the audit trail, now and from now on.
    pub fn set_max_events(&self, max: u32) -> Result<(), EmulatorError> {
        self.write(|db| trail::set_max_events(db, max))
    }

    /// Sets the account's misbehaviour (and restarts the call count for `fail_after`).
    pub fn configure(&self, faults: &Faults) -> Result<(), EmulatorError> {
        self.write(|db| store::write_faults(db, faults))
    }

    pub fn faults(&self) -> Result<Faults, EmulatorError> {
        self.read(|db| store::read_settings(db).map(|s| s.faults))
    }

    /// Whether the call `fail_after` names has come yet.
    pub fn fail_after(&self) -> Result<FailAfter, EmulatorError> {
        let settings = self.read(store::read_settings)?;
        Ok(match settings.faults.fail_after {
            None => FailAfter::Off,
            Some(n) if settings.calls >= n => FailAfter::Fired {
                calls: settings.calls,
                n,
            },
            Some(n) => FailAfter::Pending {
                calls: settings.calls,
                n,
            },
        })
    }

    /// Sets the account quotas (roles and instance profiles per account).
    pub fn set_quotas(&self, quotas: &Quotas) -> Result<(), EmulatorError> {
        self.write(|db| store::write_quotas(db, quotas))
    }

    /// Makes this handle's calls use `quotas` instead of the account's,
    /// without changing the account: for load tests that create more than
    /// AWS's 1000 roles and may be killed before they could restore anything.
    pub fn override_quotas(&mut self, quotas: Quotas) {
        self.quotas_override = Some(quotas);
    }

    pub fn quotas(&self) -> Result<Quotas, EmulatorError> {
        self.read(|db| store::read_settings(db).map(|s| s.quotas))
    }

    /// The whole account, sorted, as the YAML export holds it.
    pub fn export(&self) -> Result<AccountExport, EmulatorError> {
        self.read(export::read)
    }

    /// The whole account as YAML text (deterministic: same account, same bytes).
    pub fn export_yaml(&self) -> Result<String, EmulatorError> {
        export::to_yaml(&self.export()?)
    }

    /// Writes the export to `file` atomically (file and directory fsynced).
    pub fn export_to_file(&self, file: &Path) -> Result<(), EmulatorError> {
        export::write_file(file, &self.export_yaml()?)
    }

    /// Replaces the whole account with `account`, in one transaction
    /// (the account id too: it is part of every ARN in the export). The
    /// export is checked first with the API's rules; on any problem nothing
    /// is imported.
    pub fn import(&mut self, account: &AccountExport) -> Result<(), EmulatorError> {
        self.replace_with(&CheckedExport::new(account.clone(), "account export")?)
    }

    /// Replaces the whole account with a YAML export; `origin` names the
    /// YAML in errors (its file, or `stdin`).
    pub fn import_yaml(&mut self, text: &str, origin: &str) -> Result<(), EmulatorError> {
        self.replace_with(&CheckedExport::from_yaml(text, origin)?)
    }

    /// Replaces the whole account with the YAML export in `file`.
    pub fn import_file(&mut self, file: &Path) -> Result<(), EmulatorError> {
        self.replace_with(&CheckedExport::from_file(file)?)
    }

    /// Replaces the whole account with a checked export, in one transaction.
    pub fn replace_with(&mut self, export: &CheckedExport) -> Result<(), EmulatorError> {
        self.write(|db| export::write(db, &export.0))?;
        self.account_id = export.0.account.account_id.clone();
        Ok(())
    }

    /// Replaces the account at `path` with `export`, creating the account
    /// (with `account_id`, if given) when there is none. If that fails, an
    /// account this call created is removed again: a failed import leaves
    /// the account as it was, and no empty account where there was none.
    pub fn import_to(
        path: &Path,
        account_id: Option<&str>,
        export: &CheckedExport,
    ) -> Result<(), EmulatorError> {
        let existed = store::identify(path)? != store::Found::Missing;
        let imported = Self::open_with(path, account_id).and_then(|mut e| e.replace_with(export));
        if imported.is_err() && !existed {
            store::remove(path);
        }
        imported
    }

    /// The connection, once no other thread's batch holds it.
    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A poisoned lock only means another thread panicked mid-call; SQLite
        // rolled that transaction back, so the connection is still sound.
        let mut shared = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        let me = std::thread::current().id();
        while shared.batch_owner.is_some_and(|owner| owner != me) {
            shared = self
                .batch_ended
                .wait(shared)
                .unwrap_or_else(PoisonError::into_inner);
        }
        shared
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, EmulatorError> {
        if let Some(reason) = &self.read_only {
            return Err(EmulatorError::ReadOnly {
                path: self.path.clone(),
                reason: reason.clone(),
            });
        }
        let mut shared = self.lock();
        let run = || -> rusqlite::Result<T> {
            let tx = shared
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|e| EmulatorError::storage(&self.path, e))
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, EmulatorError> {
        let mut shared = self.lock();
        let run = || -> rusqlite::Result<T> {
            let tx = shared
                .conn
                .transaction_with_behavior(TransactionBehavior::Deferred)?;
            let out = f(&tx)?;
            tx.finish()?;
            Ok(out)
        };
        run().map_err(|e| EmulatorError::storage(&self.path, e))
    }

    /// Runs one API call: faults first, then the operation inside a savepoint
    /// so a rejected call leaves nothing behind but the call count. Outside a
    /// batch the call is its own transaction, committed (durably) before this
    /// returns; inside one (see `invoke_batch`) it joins the batch's
    /// transaction, which commits once for all its calls.
    fn call<T: Serialize>(
        &self,
        operation: &'static Operation,
        input: &impl Serialize,
        body: impl FnOnce(&Ctx) -> OpResult<T>,
    ) -> Result<T, CloudError> {
        let service = operation.service;
        let reads = operation.access == Access::Read;
        if let Some(reason) = &self.read_only
            && !reads
        {
            // Not an AWS error: the emulator itself cannot serve the call.
            let read_only = EmulatorError::ReadOnly {
                path: self.path.clone(),
                reason: reason.clone(),
            };
            let mut error = CloudError::new(
                operation.name,
                service.failure_code(),
                read_only.to_string(),
            );
            error.retryable = false;
            return Err(error);
        }
        // Calls that may change the account are recorded with the change;
        // reads only by `rolecall serve` (see `trail`).
        let params;
        let record = if reads {
            None
        } else {
            // Request structs always serialise.
            params = serde_json::to_value(input).unwrap_or(serde_json::Value::Null);
            Some(Recording {
                operation,
                params: &params,
                actor: self.actor(),
            })
        };
        let env = CallEnv {
            service,
            quotas: self.quotas_override.as_ref(),
            read_only: self.read_only.is_some(),
            record: record.as_ref(),
        };
        let mut shared = self.lock();
        let outcome = if shared.batch_owner.is_some() {
            // This thread's batch (`lock` lets no other thread in): join it,
            // unless SQLite rolled it back on its own (SQLITE_FULL, IOERR,
            // NOMEM): run now, the call would commit alone while the batch
            // reports it failed with the rest.
            if shared.conn.is_autocommit() {
                Err(OpError::Db(batch_rolled_back()))
            } else {
                run_in_transaction(&shared.conn, env, body)
            }
        } else if reads {
            read_call(&mut shared.conn, env, body)
        } else {
            write_call(&mut shared.conn, env, body)
        };
        outcome.map_err(|error| self.cloud_error(operation.name, service, error))
    }

    fn cloud_error(&self, operation: &str, service: Service, error: OpError) -> CloudError {
        match error {
            OpError::Aws(code, message) => CloudError::new(operation, code, message),
            OpError::NotYetVisible(code, message) => {
                CloudError::new(operation, code, message).retryable()
            }
            OpError::Db(source) => {
                let message = with_causes(&EmulatorError::storage(&self.path, source));
                let mut error = CloudError::new(operation, service.failure_code(), message);
                // A broken or busy file does not heal by retrying at once.
                error.retryable = false;
                error
            }
        }
    }
}

/// What a call runs with besides its connection and body.
#[derive(Clone, Copy)]
struct CallEnv<'a> {
    service: Service,
    /// Quotas used instead of the account's, if any.
    quotas: Option<&'a Quotas>,
    /// The account is read-only: calls are not counted, so no fault fires.
    read_only: bool,
    /// The call, to record in the audit trail with its outcome.
    record: Option<&'a Recording<'a>>,
}

/// A call to record in the trail, and who makes it.
struct Recording<'a> {
    operation: &'static Operation,
    params: &'a serde_json::Value,
    actor: Arc<Actor>,
}

/// A call that may write: `BEGIN IMMEDIATE` takes the write lock up front
/// (waiting up to the busy timeout for another writer), so it never fails
/// half-way on a lock.
fn write_call<T: Serialize>(
    conn: &mut Connection,
    env: CallEnv,
    body: impl FnOnce(&Ctx) -> OpResult<T>,
) -> OpResult<T> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let result = run_in_transaction(&tx, env, body);
    if !matches!(result, Err(OpError::Db(_))) {
        tx.commit()?;
    }
    result
}

/// A read runs in a deferred transaction: WAL readers do not wait for a
/// process that is writing the account. Unless faults count calls: then the
/// call writes the counter, and a read transaction cannot safely become a
/// write one while another process writes, so it runs as a write.
fn read_call<T: Serialize>(
    conn: &mut Connection,
    env: CallEnv,
    body: impl FnOnce(&Ctx) -> OpResult<T>,
) -> OpResult<T> {
    {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        if env.read_only || !store::read_settings(&tx)?.faults.counts_calls() {
            let result = run_in_transaction(&tx, env, body);
            tx.finish()?;
            return result;
        }
    }
    write_call(conn, env, body)
}

/// One call's work inside an open transaction: count it, inject faults,
/// run the operation in a savepoint that is rolled back if the operation
/// fails, and record the call in the audit trail: a success inside the
/// savepoint (the change and its record are kept together or not at all,
/// in a batch too), a failure after the rollback.
fn run_in_transaction<T: Serialize>(
    db: &Connection,
    env: CallEnv,
    body: impl FnOnce(&Ctx) -> OpResult<T>,
) -> OpResult<T> {
    let record = |error: Option<(&str, &str)>, response: Option<&serde_json::Value>| {
        let Some(recording) = env.record else {
            return Ok(());
        };
        let call = trail::Recorded {
            operation: recording.operation,
            params: recording.params,
            error,
            response,
        };
        trail::record(db, &recording.actor, &call, now_ms())
    };
    let result = run_operation(db, env, body, |output| {
        let response = serde_json::to_value(output).ok();
        record(None, response.as_ref())
    });
    match &result {
        Err(OpError::Aws(code, message) | OpError::NotYetVisible(code, message)) => {
            record(Some((code.as_str(), message.as_str())), None)?;
        }
        // Nothing of the call is kept: nothing to record.
        Ok(_) | Err(OpError::Db(_)) => {}
    }
    result
}

/// Counts the call, injects faults, and runs the operation in a savepoint;
/// `on_success` runs inside the savepoint after a successful body, and the
/// savepoint is rolled back if either fails.
fn run_operation<T>(
    db: &Connection,
    env: CallEnv,
    body: impl FnOnce(&Ctx) -> OpResult<T>,
    on_success: impl FnOnce(&T) -> rusqlite::Result<()>,
) -> OpResult<T> {
    let mut settings = store::read_settings(db)?;
    if let Some(quotas) = env.quotas {
        settings.quotas = quotas.clone();
    }
    if !env.read_only {
        if settings.faults.counts_calls() {
            store::count_call(db)?;
            settings.calls += 1;
        }
        if let Some((code, message)) = faults::injected(&settings, env.service) {
            return Err(OpError::Aws(code, message));
        }
    }
    db.execute_batch("SAVEPOINT api_call")?;
    let cx = Ctx {
        db,
        settings: &settings,
        now_ms: now_ms(),
        caller: env.record.map(|recording| &recording.actor.principal),
    };
    let result = body(&cx).and_then(|output| match on_success(&output) {
        Ok(()) => Ok(output),
        Err(error) => Err(OpError::Db(error)),
    });
    if result.is_ok() {
        db.execute_batch("RELEASE api_call")?;
    } else {
        db.execute_batch("ROLLBACK TO api_call; RELEASE api_call")?;
    }
    result
}

/// The failure of a batch whose transaction SQLite rolled back after a
/// storage error, which an earlier call of the batch reported.
fn batch_rolled_back() -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
        Some("SQLite rolled back the batch after a storage error".into()),
    )
}

/// Ends a batch however its calls end (a panic too): rolls back what was
/// not committed, then lets the waiting threads in.
struct BatchEnd<'a>(&'a Emulator);

impl Drop for BatchEnd<'_> {
    fn drop(&mut self) {
        let mut shared = self.0.lock();
        if !shared.conn.is_autocommit() {
            // Nothing more can be done about a failed rollback than report
            // the failed commit, which the caller does.
            let _ = shared.conn.execute_batch("ROLLBACK");
        }
        shared.batch_owner = None;
        drop(shared);
        self.0.batch_ended.notify_all();
    }
}

/// The emulator's side of the operation table: each operation's method is
/// its body in [`iam`] or [`ec2`] (the function named as the method) run by
/// [`Emulator::call`]. Called with `Cloud` (the reconciler's operations),
/// `Lab` (the lab's, forwarding to the inherent methods) or `Emulator` (the
/// lab's bodies, as inherent methods, so `emulator.run_instances(..)` works
/// without importing [`Lab`]).
macro_rules! emulator_methods {
    ([$part:ident] $(
        $op:ident {
            method: $method:ident, constant: $constant:ident,
            input: $input:ty, output: $output:ty, $(boxed: $boxed:tt,)?
            service: $service:ident, access: $access:ident, lab: $lab:tt,
            about: $about:literal, example: $example:literal $(,)?
        }
    )*) => {
        $( emulator_method!($part, $lab, $service, $method, $constant, $input, $output); )*
    };
}

macro_rules! emulator_method {
    (Cloud, false, $service:ident, $method:ident, $constant:ident, $input:ty, $output:ty) => {
        fn $method(&self, input: &$input) -> Result<$output, CloudError> {
            self.call(&operations::$constant, input, |cx| {
                operation_body!($service, $method)(cx, input)
            })
        }
    };
    (Lab, true, $service:ident, $method:ident, $constant:ident, $input:ty, $output:ty) => {
        fn $method(&self, input: &$input) -> Result<$output, CloudError> {
            Emulator::$method(self, input)
        }
    };
    (Emulator, true, $service:ident, $method:ident, $constant:ident, $input:ty, $output:ty) => {
        #[doc = concat!("The lab operation ", stringify!($method), " (see [`Lab`]).")]
        pub fn $method(&self, input: &$input) -> Result<$output, CloudError> {
            self.call(&operations::$constant, input, |cx| {
                operation_body!($service, $method)(cx, input)
            })
        }
    };
    ($part:ident, $lab:tt, $($rest:tt)*) => {};
}

/// Where an operation's body lives: the module of its service.
macro_rules! operation_body {
    (Iam, $method:ident) => {
        iam::$method
    };
    (Ec2, $method:ident) => {
        ec2::$method
    };
    (Sts, $method:ident) => {
        sts::$method
    };
}

impl Cloud for Emulator {
    fn snapshot(&self) -> Result<Live, CloudError> {
        let mut shared = self.lock();
        let now = now_ms();
        let mut read = || -> rusqlite::Result<Live> {
            let tx = shared
                .conn
                .transaction_with_behavior(TransactionBehavior::Deferred)?;
            let live = snapshot::read(&tx, now, self.quotas_override.as_ref())?;
            tx.finish()?;
            Ok(live)
        };
        read().map_err(|source| {
            let message = with_causes(&EmulatorError::storage(&self.path, source));
            let mut error = CloudError::new("Snapshot", ErrorCode::ServiceFailure, message);
            error.retryable = false;
            error
        })
    }

    /// An emulated account is a lab: it launches and stops instances.
    fn lab(&self) -> Option<&dyn Lab> {
        Some(self)
    }

    /// An emulated account keeps an audit trail (see `trail`).
    fn trail(&self) -> Option<&dyn rolecall_cloud::trail::Trail> {
        Some(self)
    }

    /// Group commit: the calls share one IMMEDIATE transaction (each still
    /// atomic in its own savepoint) and one durable commit, so a wave of
    /// independent steps costs one fsync. Results come back only after the
    /// commit; if it fails, every call in the batch reports the failure, as
    /// none of them happened.
    fn invoke_batch(&self, calls: &[&Call]) -> Vec<Result<serde_json::Value, CloudError>> {
        // A read-only account joins no batch: each call says why it fails.
        if calls.len() < 2 || self.read_only.is_some() {
            return calls.iter().map(|call| call.invoke(self)).collect();
        }
        let all_failed = |error: rusqlite::Error| {
            let message = with_causes(&EmulatorError::storage(&self.path, error));
            calls
                .iter()
                .map(|call| {
                    let code = call.descriptor().service.failure_code();
                    let mut error = CloudError::new(call.operation(), code, message.clone());
                    error.retryable = false;
                    Err(error)
                })
                .collect()
        };
        {
            let mut shared = self.lock();
            if let Err(error) = shared.conn.execute_batch("BEGIN IMMEDIATE") {
                return all_failed(error);
            }
            shared.batch_owner = Some(std::thread::current().id());
        }
        // From here until `end` drops, calls from other threads wait.
        let end = BatchEnd(self);
        let results: Vec<_> = calls.iter().map(|call| call.invoke(self)).collect();
        let committed = {
            let shared = self.lock();
            if shared.conn.is_autocommit() {
                Err(batch_rolled_back())
            } else {
                shared.conn.execute_batch("COMMIT")
            }
        };
        drop(end);
        match committed {
            Ok(()) => results,
            Err(error) => all_failed(error),
        }
    }

    rolecall_cloud::with_operations!(emulator_methods, Cloud);
}

impl rolecall_cloud::trail::Trail for Emulator {
    fn lookup_events(
        &self,
        lookup: &rolecall_cloud::trail::Lookup,
    ) -> Result<Vec<rolecall_cloud::trail::Event>, CloudError> {
        self.read(|db| trail::lookup(db, lookup)).map_err(|error| {
            let mut error = CloudError::new(
                "LookupEvents",
                ErrorCode::ServiceFailure,
                with_causes(&error),
            );
            error.retryable = false;
            error
        })
    }
}

impl Lab for Emulator {
    rolecall_cloud::with_operations!(emulator_methods, Lab);
}

/// Lab operations callable on an `Emulator` without importing [`Lab`].
impl Emulator {
    rolecall_cloud::with_operations!(emulator_methods, Emulator);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rolecall_cloud::iam::*;
    use rolecall_model::PolicyDocument;

    /// SQLite rolls a transaction back on its own when the file is full:
    /// the calls of the batch after that must not run (each would commit
    /// alone, on disk though reported failed with the batch).
    #[test]
    fn a_batch_sqlite_rolled_back_runs_no_further_call() {
        let dir = tempfile::tempdir().unwrap();
        let emulator = Emulator::open(&dir.path().join("account.db")).unwrap();
        let trust = PolicyDocument::trusting_services(&["ec2.amazonaws.com"]).to_json();
        let create = |name: &str| {
            Call::CreateRole(Box::new(CreateRoleRequest {
                role_name: name.into(),
                assume_role_policy_document: trust.as_str().into(),
                ..CreateRoleRequest::default()
            }))
        };
        // Overflow pages the full file cannot give: SQLITE_FULL.
        let resource = format!("arn:aws:s3:::{}", "b".repeat(9000));
        let large = Call::PutRolePolicy(PutRolePolicyRequest {
            role_name: "a".into(),
            policy_name: "large".into(),
            policy_document: serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}]
            })
            .to_string()
            .into(),
        });
        {
            let shared = emulator.lock();
            let pages: i64 = shared
                .conn
                .query_row("PRAGMA page_count", [], |row| row.get(0))
                .unwrap();
            shared
                .conn
                .pragma_update(None, "max_page_count", pages)
                .unwrap();
        }
        let calls = [create("a"), large, create("c")];
        let results = emulator.invoke_batch(&calls.iter().collect::<Vec<_>>());
        assert!(results.iter().all(Result::is_err), "{results:?}");
        let message = &results[2].as_ref().unwrap_err().message;
        assert!(message.contains("rolled back the batch"), "{message}");
        assert!(emulator.snapshot().unwrap().roles.is_empty());
    }
}
