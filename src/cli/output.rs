//! Terminal setup shared by every command: colour choice, log verbosity,
//! what `-q` leaves out, and printing that survives a closed pipe.

use super::{ColorChoice, GlobalArgs};
use crate::manifest::Diagnostics;

/// Applies `--color`, NO_COLOR and `-v/-q` for the whole process.
pub fn init(global: &GlobalArgs) {
    let choice = match global.color {
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
        // anstream's Auto honours NO_COLOR, CLICOLOR and whether stdout is a terminal.
        ColorChoice::Auto => anstream::ColorChoice::Auto,
    };
    choice.write_global();

    let level = if global.quiet {
        "error"
    } else {
        match global.verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROLECALL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("rolecall={level}")));
    let stderr_colored = match choice {
        anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi => true,
        anstream::ColorChoice::Never => false,
        anstream::ColorChoice::Auto => {
            anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
        }
    };
    // A second init (tests calling run twice) is harmless: keep the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(stderr_colored)
        // Its default reports a failed write with `eprint!`, which panics
        // when stderr is a closed pipe.
        .log_internal_errors(false)
        .with_target(false)
        .without_time()
        .try_init();
}

/// Whether colour is on for stdout, after `--color` and NO_COLOR.
pub fn colored() -> bool {
    match anstream::ColorChoice::global() {
        anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi => true,
        anstream::ColorChoice::Never => false,
        anstream::ColorChoice::Auto => {
            anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
        }
    }
}

/// How text plans render for this invocation: colour after `--color` and
/// NO_COLOR, and the API call list at `-v`.
pub fn text_options(global: &GlobalArgs) -> crate::plan::render::text::TextOptions {
    crate::plan::render::text::TextOptions {
        color: colored(),
        steps: global.verbose > 0,
    }
}

// Output is best effort: `rolecall plan | head` or a log reader that goes
// away must not crash the program (std's `print!` panics on a closed pipe),
// least of all in the middle of an apply. The exit code still tells the outcome.

/// `print!` to stdout (colour stripped as configured), ignoring write errors.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(anstream::stdout(), $($arg)*);
    }};
}

/// `println!` to stdout, ignoring write errors.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(anstream::stdout(), $($arg)*);
    }};
}

/// `eprintln!` to stderr, ignoring write errors.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(anstream::stderr(), $($arg)*);
    }};
}

/// The manifest diagnostics to print: with `-q`, the errors only.
pub fn shown_diagnostics(global: &GlobalArgs, diagnostics: Diagnostics) -> Diagnostics {
    if global.quiet {
        Diagnostics(diagnostics.0.into_iter().filter(|d| d.is_error()).collect())
    } else {
        diagnostics
    }
}

pub(crate) use {errln, out, outln};
