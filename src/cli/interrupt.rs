//! Ctrl-C and SIGTERM while apply runs: the first asks the run to stop (the
//! calls in flight finish, nothing new starts, the summary is printed, the
//! lock released, exit 130); a second one ends the process at once. Either
//! way the account is consistent: every call is atomic.

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::apply::Stop;

/// Exit status after an interrupt (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Routes SIGINT and SIGTERM to `stop` for the rest of the process.
pub fn route_to(stop: &Stop) -> std::io::Result<()> {
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
