//! Terminal setup shared by every command: colour choice and log verbosity.

use super::{ColorChoice, GlobalArgs};

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
    // A second init (tests calling run twice) is harmless: keep the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
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
