//! `rolecall emulator …`: filled in by the emulator work (issue 3).

use clap::Args;

use super::{GlobalArgs, Outcome};

#[derive(Debug, Args)]
pub struct EmulatorArgs {}

pub fn run(_global: &GlobalArgs, _args: EmulatorArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("emulator is not implemented yet")
}
