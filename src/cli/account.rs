//! What most commands start with: the manifests and the account.

use anyhow::Context;

use super::output::errln;
use super::{GlobalArgs, ManifestArgs, manifest_error};
use crate::cloud::Cloud;
use crate::manifest::{self, Loaded};
use crate::model::Live;
use crate::plan::PlanOptions;

/// Opens the account this invocation talks to (the emulated one, for now).
pub fn open(global: &GlobalArgs) -> anyhow::Result<Box<dyn Cloud>> {
    let path = global.account_path();
    // The emulator's errors name the account file themselves.
    let emulator = crate::emulator::Emulator::open(&path)?;
    Ok(Box::new(emulator))
}

/// Loads and validates manifests, printing warnings to stderr.
pub fn load(global: &GlobalArgs, args: &ManifestArgs) -> anyhow::Result<Loaded> {
    let loaded = manifest::load(&args.files)
        .map_err(|found| manifest_error(super::output::shown_diagnostics(global, found)))?;
    if !global.quiet {
        for warning in &loaded.warnings {
            errln!("{warning}");
        }
    }
    Ok(loaded)
}

/// The account as a read-only command (plan, drift, graph) sees it, and what
/// a plan against it may do. An account file that does not exist yet is an
/// empty emulated account: nothing is created, so a mistyped `--account`
/// leaves no file behind; `apply` creates it.
pub fn read(global: &GlobalArgs, force: bool) -> anyhow::Result<(Live, PlanOptions)> {
    let path = global.account_path();
    if !path.exists() {
        if !global.quiet {
            errln!(
                "note: there is no emulated account at {} yet: comparing with an empty account (`rolecall apply` creates it)",
                path.display()
            );
        }
        let live = Live {
            account_id: crate::emulator::DEFAULT_ACCOUNT_ID.to_string(),
            ..Live::default()
        };
        // `open` would have made an emulated account, which launches lab instances.
        let options = PlanOptions {
            force,
            launch_instances: true,
        };
        return Ok((live, options));
    }
    let cloud = open(global)?;
    let live = snapshot(cloud.as_ref())?;
    Ok((live, plan_options(cloud.as_ref(), force)))
}

/// The manifests and the account together, read at the same time: neither
/// needs the other, and at scale each takes seconds. Manifest mistakes are
/// reported first: they are the user's to fix, whatever the account.
pub fn load_and_read(
    global: &GlobalArgs,
    manifests: &ManifestArgs,
    force: bool,
) -> anyhow::Result<(Loaded, Live, PlanOptions)> {
    let (loaded, read) = std::thread::scope(|scope| {
        let reading = scope.spawn(|| {
            let started = std::time::Instant::now();
            let read = read(global, force);
            tracing::debug!("read the account in {:.2?}", started.elapsed());
            read
        });
        let started = std::time::Instant::now();
        let loaded = load(global, manifests);
        if let Ok(loaded) = &loaded {
            tracing::debug!(
                "loaded {} resources in {:.2?}",
                loaded.desired.resource_count(),
                started.elapsed()
            );
        }
        let read = reading
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("reading the account failed unexpectedly")));
        (loaded, read)
    });
    let loaded = loaded?;
    let (live, options) = read?;
    Ok((loaded, live, options))
}

/// Reads the account in one pass.
pub fn snapshot(cloud: &dyn Cloud) -> anyhow::Result<Live> {
    cloud.snapshot().context("reading the account")
}

/// What a plan against this account may do: launching declared instances is
/// for emulated accounts only.
pub fn plan_options(cloud: &dyn Cloud, force: bool) -> PlanOptions {
    PlanOptions {
        force,
        launch_instances: cloud.launches_declared_instances(),
    }
}
