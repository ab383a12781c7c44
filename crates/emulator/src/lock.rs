//! One apply per account at a time.
//!
//! The lock is an OS file lock (`File::try_lock`) on `<account>.lock`, so it is
//! released when its holder dies, however it dies. The file also says who holds
//! it (pid, host, command, start time), so a second apply can name the holder,
//! and a lock file whose lock is free tells us its last holder died.
//!
//! The lock file lives beside the account, possibly in a repository a pull
//! request can change, and is truncated and written: it is opened without
//! following a symlink and must be a regular file, so a committed link cannot
//! make rolecall empty the file it points to.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rolecall_model::user_file::kind_of;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    // The cause is printed after it, by whoever prints the error chain.
    #[error("lock file {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "lock file {} is not a regular file (it is {kind}): rolecall writes into it, so it never follows a link or opens a special file; remove it",
        .path.display()
    )]
    NotAFile { path: PathBuf, kind: &'static str },
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

/// Who takes a lock, as the next one to find it held reads it: this
/// process, its host, `command` and when it started.
pub fn describe_holder(command: &str) -> String {
    format!(
        "pid {} on {}, `{command}`, started {}",
        std::process::id(),
        hostname(),
        jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ")
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown host".into())
}

/// Opens (or creates) the lock file for reading and writing, never through a
/// symlink, and without blocking if a named pipe was swapped in.
fn open_no_follow(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags((OFlags::NOFOLLOW | OFlags::NONBLOCK).bits() as i32);
    }
    options.open(path)
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
    let not_a_file = |meta: &std::fs::Metadata| LockError::NotAFile {
        path: path.clone(),
        kind: kind_of(&meta.file_type()),
    };
    // Checked first to name what is there; the open below refuses a link
    // swapped in meanwhile (ELOOP), and the check after it anything else.
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if !meta.is_file() => return Err(not_a_file(&meta)),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    // The directory is the account's: never created here (a mistyped
    // `--account` must not leave directories behind).
    let mut file = open_no_follow(&path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not_a_file(&meta));
    }
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
    let me = describe_holder(command);
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

    #[cfg(unix)]
    #[test]
    fn a_lock_path_that_is_no_regular_file_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let account = dir.path().join("account.db");
        let fifo = lock_path(&account);
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|status| status.success()), "mkfifo");
        let error = acquire(&account, "rolecall apply", Duration::ZERO).unwrap_err();
        assert!(
            matches!(
                error,
                LockError::NotAFile {
                    kind: "a named pipe",
                    ..
                }
            ),
            "{error}"
        );
        std::fs::remove_file(&fifo).unwrap();
        std::fs::create_dir(&fifo).unwrap();
        let error = acquire(&account, "rolecall apply", Duration::ZERO).unwrap_err();
        assert!(
            matches!(
                error,
                LockError::NotAFile {
                    kind: "a directory",
                    ..
                }
            ),
            "{error}"
        );
        // The open itself refuses a link, whatever the check before it saw.
        std::fs::remove_dir(&fifo).unwrap();
        std::os::unix::fs::symlink("target", &fifo).unwrap();
        let error = open_no_follow(&fifo).unwrap_err();
        assert_eq!(
            error.raw_os_error(),
            Some(rustix::io::Errno::LOOP.raw_os_error())
        );
        assert!(!dir.path().join("target").exists());
    }

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
