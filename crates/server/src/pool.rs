//! Handles on the account, kept for reuse: one SQLite connection each, so
//! requests on different handles run at once (WAL lets reads run beside a
//! writer). More requests at once than the pool keeps open and close
//! handles of their own.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use rolecall_emulator::{Emulator, EmulatorError};

pub struct HandlePool {
    account: PathBuf,
    idle: Mutex<Vec<Emulator>>,
    /// Idle handles kept at most.
    keep: usize,
}

impl HandlePool {
    /// A pool for the account at `account`, starting with `first` handles.
    pub fn new(account: PathBuf, first: Vec<Emulator>, keep: usize) -> HandlePool {
        HandlePool {
            account,
            idle: Mutex::new(first),
            keep,
        }
    }

    /// Runs `f` on an idle handle, opening one if none is idle.
    pub fn with<T>(&self, f: impl FnOnce(&Emulator) -> T) -> Result<T, EmulatorError> {
        let taken = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let emulator = match taken {
            Some(emulator) => emulator,
            None => Emulator::open(&self.account)?,
        };
        let out = f(&emulator);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.keep {
            idle.push(emulator);
        }
        Ok(out)
    }
}
