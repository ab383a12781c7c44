//! The `rolecall` binary: parses arguments, runs the command, maps the result
//! to an exit code (0 clean, 1 error, 2 changes or drift). All work is in the library.

use std::process::ExitCode;

use clap::Parser;
use rolecall::cli::{self, Cli, Outcome};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Changes) => ExitCode::from(2),
        Err(error) => {
            if let Some(rendered) = error.downcast_ref::<cli::Rendered>() {
                // Already complete (e.g. manifest diagnostics, one per line).
                anstream::eprintln!("{rendered}");
            } else if let Some(aws) = error.downcast_ref::<rolecall::cloud::CloudError>() {
                // AWS errors print exactly as the AWS CLI prints them.
                anstream::eprintln!("{aws}");
            } else {
                // `{:#}` prints the whole context chain on one line: "loading x: reading y: …".
                anstream::eprintln!("error: {error:#}");
            }
            ExitCode::FAILURE
        }
    }
}
