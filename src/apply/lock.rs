//! One apply per account at a time.
//!
//! The lock is an OS file lock (`File::try_lock`) on `<account>.lock`, so it is
//! released when its holder dies, however it dies. The file also says who holds
//! it (pid, host, command, start time), so a second apply can name the holder,
//! and a lock file whose lock is free tells us its last holder died.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    // The cause is printed after it, by whoever prints the error chain.
    #[error("lock file {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", held_message(.path, .holder, .waited))]
    Held {
        path: PathBuf,
        holder: String,
        /// How long this process waited (`--lock-timeout`).
        waited: Duration,
    },
}

fn held_message(path: &Path, holder: &str, waited: &Duration) -> String {
    if waited.is_zero() {
        format!(
            "the account is locked by another rolecall ({holder}); wait for it to finish, or pass --lock-timeout to wait (lock file {})",
            path.display()
        )
    } else {
        format!(
            "the account is still locked by another rolecall ({holder}) after waiting {} s (lock file {})",
            waited.as_secs_f64(),
            path.display()
        )
    }
}

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct AccountLock {
    file: File,
    /// Set when the previous holder died without releasing cleanly.
    pub took_over_from: Option<String>,
}

impl Drop for AccountLock {
    fn drop(&mut self) {
        // Leave an empty file: an empty lock file means "released cleanly".
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// The lock file of an account file.
pub fn lock_path(account: &Path) -> PathBuf {
    let mut name = account.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown host".into())
}

/// Takes the lock, waiting up to `timeout` for a live holder to finish.
/// Whoever changes the account beyond one API call takes it: apply, destroy,
/// import, `emulator import` and `emulator configure`.
pub fn acquire(account: &Path, command: &str, timeout: Duration) -> Result<AccountLock, LockError> {
    let path = lock_path(account);
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    // The directory is the account's: never created here (a mistyped
    // `--account` must not leave directories behind).
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    // A timeout beyond what the clock can add is as good as forever.
    let deadline = Instant::now().checked_add(timeout);
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if deadline.is_none_or(|d| Instant::now() < d) => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim().to_string();
                return Err(LockError::Held {
                    path,
                    holder: if holder.is_empty() {
                        "holder unknown".into()
                    } else {
                        holder
                    },
                    waited: timeout,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
    }
    let mut previous = String::new();
    file.read_to_string(&mut previous).map_err(io)?;
    let previous = previous.trim();
    let took_over_from = (!previous.is_empty()).then(|| previous.to_string());
    let me = format!(
        "pid {} on {}, `{command}`, started {}",
        std::process::id(),
        hostname(),
        jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ")
    );
    file.set_len(0).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    file.write_all(me.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(AccountLock {
        file,
        took_over_from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_first_named() {
        let dir = tempfile::tempdir().unwrap();
        let account = dir.path().join("account.db");
        let first = acquire(&account, "rolecall apply", Duration::ZERO).unwrap();
        assert!(first.took_over_from.is_none());
        let error = acquire(&account, "rolecall apply", Duration::ZERO).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        drop(first);
        let again = acquire(&account, "rolecall apply", Duration::ZERO).unwrap();
        assert!(again.took_over_from.is_none(), "released cleanly");
    }
}
