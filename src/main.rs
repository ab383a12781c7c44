//! The `rolecall` binary: parses arguments, runs the command, maps the result
//! to an exit code (0 clean, 1 error, 2 changes or drift). All work is in the library.

use std::process::ExitCode;

use clap::Parser;
use rolecall::cli::{self, Cli, Outcome};

// Plans of 100,000 resources make millions of small allocations; glibc's
// allocator spent a third of the time of `plan` and held a third more memory
// than was in use.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // clap exits 2 on a usage error, but 2 means "changes" or "drift"
        // here: a broken cron line must not read as drift.
        Err(usage) if usage.use_stderr() => {
            cli::output::eprint_usage_error(&usage);
            return ExitCode::FAILURE;
        }
        Err(help_or_version) => {
            let _ = help_or_version.print();
            return ExitCode::SUCCESS;
        }
    };
    match cli::run(cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Changes) => ExitCode::from(2),
        Ok(Outcome::Denied) => ExitCode::from(3),
        Err(error) if error.is::<cli::interrupt::Interrupted>() => {
            cli::output::eprint_line(&error.to_string());
            ExitCode::from(cli::interrupt::EXIT_INTERRUPTED)
        }
        Err(error) => {
            // Every line is escaped (terminal escapes, bidi overrides: what a
            // manifest or account value could forge output with), then its
            // label (`error:`, `warning:`) coloured as `--color` says.
            if let Some(rendered) = error.downcast_ref::<cli::Rendered>() {
                // Already complete (e.g. manifest diagnostics, one per line).
                cli::output::eprint_line(&rendered.0);
            } else if let Some(aws) = error.downcast_ref::<rolecall::cloud::CloudError>() {
                // AWS errors print exactly as the AWS CLI prints them.
                cli::output::eprint_line(&aws.to_string());
            } else {
                // `{:#}` prints the whole context chain on one line: "loading x: reading y: …".
                cli::output::eprint_line(&format!("error: {error:#}"));
            }
            ExitCode::FAILURE
        }
    }
}
