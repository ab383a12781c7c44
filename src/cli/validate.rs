//! `rolecall validate`: filled in by the manifest work (issue 2).

use clap::Args;

use super::{GlobalArgs, ManifestArgs, Outcome};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
}

pub fn run(_global: &GlobalArgs, _args: ValidateArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("validate is not implemented yet")
}
