//! What most commands start with: the manifests and the account.

use anyhow::Context;

use super::{GlobalArgs, ManifestArgs, manifest_error};
use crate::cloud::Cloud;
use crate::manifest::{self, Loaded};

/// Opens the account this invocation talks to (the emulated one, for now).
pub fn open(global: &GlobalArgs) -> anyhow::Result<Box<dyn Cloud>> {
    let path = global.account_path();
    let emulator = crate::emulator::Emulator::open(&path)
        .with_context(|| format!("opening the emulated account {}", path.display()))?;
    Ok(Box::new(emulator))
}

/// Loads and validates manifests, printing warnings to stderr.
pub fn load(global: &GlobalArgs, args: &ManifestArgs) -> anyhow::Result<Loaded> {
    let loaded = manifest::load(&args.files).map_err(manifest_error)?;
    if !global.quiet {
        for warning in &loaded.warnings {
            anstream::eprintln!("{warning}");
        }
    }
    Ok(loaded)
}

/// Reads the account in one pass.
pub fn snapshot(cloud: &dyn Cloud) -> anyhow::Result<crate::model::Live> {
    cloud.snapshot().context("reading the account")
}

/// What a plan against this account may do: launching declared instances is
/// for emulated accounts only.
pub fn plan_options(cloud: &dyn Cloud, force: bool) -> crate::plan::PlanOptions {
    crate::plan::PlanOptions {
        force,
        launch_instances: cloud.launches_declared_instances(),
    }
}
