//! The emulated account as a file a user names: where it is, which directory
//! may be created for it, its lock, and what a file not there yet reads as.
//!
//! A missing emulator file is the emulator's business, not the CLI's: read
//! it and it is an empty account (the one the first change creates); ask
//! whether it is missing without creating anything.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::lock::{self, AccountLock};
use super::{DEFAULT_ACCOUNT_ID, Emulator, EmulatorError, Quotas};
use rolecall_model::Live;

/// The account file when none is named; its directory is the only one
/// rolecall creates.
pub const DEFAULT_PATH: &str = ".rolecall/account.db";

/// An emulated account file, existing or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountFile {
    path: PathBuf,
}

impl Default for AccountFile {
    fn default() -> Self {
        AccountFile::new(DEFAULT_PATH)
    }
}

impl AccountFile {
    pub fn new(path: impl Into<PathBuf>) -> AccountFile {
        AccountFile { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn is_default(&self) -> bool {
        self.path == Path::new(DEFAULT_PATH)
    }

    /// Creates the default directory if it is missing. Only `.rolecall/` is
    /// created on demand: a mistyped `--account` directory is an error (the
    /// emulator names it), not a new directory.
    fn prepare(&self) -> Result<(), EmulatorError> {
        if self.is_default()
            && let Some(dir) = self.path.parent()
        {
            std::fs::create_dir_all(dir).map_err(|source| EmulatorError::CreateDirectory {
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        Ok(())
    }

    /// Opens the account to change it, creating it (with `account_id`, if
    /// given, else the default id) on first use. An account that cannot be
    /// written is refused, naming the file, before anything is written.
    pub fn open(&self, account_id: Option<&str>) -> Result<Emulator, EmulatorError> {
        self.prepare()?;
        match account_id {
            Some(id) => Emulator::create(&self.path, id),
            None => Emulator::open(&self.path),
        }
    }

    /// Opens the account to read it, writing nothing (a read-only file or
    /// directory is fine); `None` when there is no account yet.
    pub fn open_to_read(&self) -> Result<Option<Emulator>, EmulatorError> {
        Emulator::open_to_read(&self.path)
    }

    /// What an account not created yet reads as: empty, with the id and
    /// quotas of the account the first change creates.
    pub fn empty_account(&self) -> Live {
        super::empty_account(DEFAULT_ACCOUNT_ID.to_string(), &Quotas::default())
    }

    /// What a command that changes the account does first, before it plans,
    /// asks or writes anything: checks that it may write the account (a
    /// read-only file or directory, a missing directory, another program's
    /// file are refused once, naming the file), then takes the account lock
    /// (`ACCOUNT.lock`, beside the file), so it never runs beside an apply.
    pub fn lock(&self, command: &str, timeout: Duration) -> Result<AccountLock, EmulatorError> {
        self.prepare()?;
        Emulator::check_writable(&self.path)?;
        Ok(lock::acquire(&self.path, command, timeout)?)
    }

    /// Whether there is no account yet (no file, or an empty one), found
    /// without creating anything: destroy and import then have nothing to
    /// work on, and must not create an account, its lock or its directory.
    /// A mistyped directory is refused all the same, as by every command
    /// that changes the account: only the default `.rolecall/` may be missing.
    pub fn is_missing(&self) -> Result<bool, EmulatorError> {
        if self.open_to_read()?.is_some() {
            return Ok(false);
        }
        let default_directory_missing =
            self.is_default() && self.path.parent().is_some_and(|dir| !dir.exists());
        if !default_directory_missing {
            Emulator::check_writable(&self.path)?;
        }
        Ok(true)
    }
}
