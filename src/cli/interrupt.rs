//! Ctrl-C and SIGTERM while apply runs: the first asks the run to stop (the
//! calls in flight finish, nothing new starts, the summary is printed, the
//! lock released, exit 130); a second one ends the process at once. Either
//! way the account is consistent: every call is atomic.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::apply::Stop;
use crate::backend::BackendLock;

/// Whether [`route_to`] has taken over the signals (apply is running).
static ROUTED: AtomicBool = AtomicBool::new(false);

/// Exit status after an interrupt (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Routes SIGINT and SIGTERM to `stop` for the rest of the process.
pub fn route_to(stop: &Stop) -> std::io::Result<()> {
    ROUTED.store(true, Ordering::SeqCst);
    let flag = stop.flag();
    for signal in [SIGINT, SIGTERM] {
        // The order matters: the shutdown checks the flag before the second
        // action sets it, so only a signal after the first one exits.
        signal_hook::flag::register_conditional_shutdown(
            signal,
            i32::from(EXIT_INTERRUPTED),
            flag.clone(),
        )?;
        signal_hook::flag::register(signal, flag.clone())?;
    }
    Ok(())
}

/// The error of a run stopped on request: its summary is printed already;
/// `main` exits with [`EXIT_INTERRUPTED`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(pub String);

/// A held account lock that outlives its process unless given back (the
/// S3 lock object): until apply routes the signals to its stop flag, a
/// Ctrl-C or SIGTERM (at the approval prompt, while the account is read)
/// releases it and ends the process with [`EXIT_INTERRUPTED`]. Dropping
/// the guard releases the lock as dropping the lock does.
pub struct LockGuard(Arc<Mutex<Option<BackendLock>>>);

impl LockGuard {
    pub fn new(lock: BackendLock) -> LockGuard {
        let held = Arc::new(Mutex::new(Some(lock)));
        let outlives_process = matches!(
            &*held.lock().unwrap_or_else(PoisonError::into_inner),
            Some(BackendLock::Aws(_))
        );
        if outlives_process {
            let on_signal = held.clone();
            match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
                Ok(mut signals) => {
                    std::thread::spawn(move || {
                        if signals.forever().next().is_some() && !ROUTED.load(Ordering::SeqCst) {
                            drop(
                                on_signal
                                    .lock()
                                    .unwrap_or_else(PoisonError::into_inner)
                                    .take(),
                            );
                            std::process::exit(i32::from(EXIT_INTERRUPTED));
                        }
                    });
                }
                Err(error) => {
                    tracing::warn!("Ctrl-C now would leave the account lock held: {error}")
                }
            }
        }
        LockGuard(held)
    }

    /// The run before the one that died holding the lock, when taken over.
    pub fn took_over_from(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|lock| lock.took_over_from().map(str::to_string))
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        drop(self.0.lock().unwrap_or_else(PoisonError::into_inner).take());
    }
}
