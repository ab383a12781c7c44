//! `rolecall schema`: filled in by the manifest work (issue 2).

use clap::Args;

use super::{GlobalArgs, Outcome};

#[derive(Debug, Args)]
pub struct SchemaArgs {}

pub fn run(_global: &GlobalArgs, _args: SchemaArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("schema is not implemented yet")
}
