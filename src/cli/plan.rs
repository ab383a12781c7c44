//! `rolecall plan` and `rolecall graph`: filled in by the planner work (issue 4).

use clap::Args;

use super::{GlobalArgs, ManifestArgs, Outcome};

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
}

pub fn run(_global: &GlobalArgs, _args: PlanArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("plan is not implemented yet")
}

pub fn run_graph(_global: &GlobalArgs, _args: GraphArgs) -> anyhow::Result<Outcome> {
    anyhow::bail!("graph is not implemented yet")
}
