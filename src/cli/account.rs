//! What most commands start with: the manifests and the account.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::output::errln;
use super::{DEFAULT_ACCOUNT, GlobalArgs, ManifestArgs, manifest_error};
use crate::apply::lock::{self, AccountLock};
use crate::cloud::Cloud;
use crate::emulator::Emulator;
use crate::manifest::{self, Loaded};
use crate::model::Live;
use crate::plan::PlanOptions;

/// Opens the account this invocation talks to (the emulated one, for now)
/// for a command that changes it. An account that cannot be written is
/// refused, naming the file, before anything is written.
pub fn open(global: &GlobalArgs) -> anyhow::Result<Box<dyn Cloud>> {
    Ok(Box::new(open_emulator(global, None)?))
}

/// Opens the emulated account to change it, creating it (with
/// `account_id`, if given) on first use.
pub fn open_emulator(global: &GlobalArgs, account_id: Option<&str>) -> anyhow::Result<Emulator> {
    let path = account_directory(global)?;
    // The emulator's errors name the account file themselves.
    Ok(match account_id {
        Some(id) => Emulator::create(&path, id)?,
        None => Emulator::open(&path)?,
    })
}

/// What a command that changes the account does first, before it plans,
/// asks or writes anything: checks that it may write the account (a
/// read-only file or directory, a missing directory, another program's file
/// are refused once, naming the file), then takes the account lock, so it
/// never runs beside an apply.
pub fn lock(global: &GlobalArgs, command: &str, timeout: Duration) -> anyhow::Result<AccountLock> {
    let path = account_directory(global)?;
    Emulator::check_writable(&path)?;
    Ok(lock::acquire(&path, command, timeout)?)
}

/// Whether there is no account yet (no file, or an empty one), found
/// without creating anything: destroy and import then have nothing to work
/// on, and must not create an account, its lock or its directory. A
/// mistyped directory is refused all the same, as by every command that
/// changes the account: only the default `.rolecall/` may be missing.
pub fn is_missing(global: &GlobalArgs) -> anyhow::Result<bool> {
    let path = global.account_path();
    if Emulator::open_to_read(&path)?.is_some() {
        return Ok(false);
    }
    let default_directory_missing =
        path == Path::new(DEFAULT_ACCOUNT) && path.parent().is_some_and(|dir| !dir.exists());
    if !default_directory_missing {
        Emulator::check_writable(&path)?;
    }
    Ok(true)
}

/// The account path, its directory created if it is the default one. Only
/// `.rolecall/` is created on demand: a mistyped `--account` directory is an
/// error (the emulator names it), not a new directory.
fn account_directory(global: &GlobalArgs) -> anyhow::Result<PathBuf> {
    let path = global.account_path();
    if path == Path::new(DEFAULT_ACCOUNT)
        && let Some(dir) = path.parent()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(path)
}

/// Loads and validates manifests, printing warnings to stderr.
pub fn load(global: &GlobalArgs, args: &ManifestArgs) -> anyhow::Result<Loaded> {
    let loaded = manifest::load(&args.files, &args.file_root)
        .map_err(|found| manifest_error(super::output::shown_diagnostics(global, found)))?;
    if !global.quiet {
        for warning in &loaded.warnings {
            errln!("{warning}");
        }
    }
    Ok(loaded)
}

/// The account as a read-only command (plan, drift, graph) sees it, and what
/// a plan against it may do. Nothing is written: a read-only account file or
/// directory is fine. An account file that does not exist yet is an empty
/// emulated account: nothing is created, so a mistyped `--account` leaves
/// no file behind; `apply` creates it.
pub fn read(global: &GlobalArgs, force: bool) -> anyhow::Result<(Live, PlanOptions)> {
    let path = global.account_path();
    let Some(emulator) = Emulator::open_to_read(&path)? else {
        if !global.quiet {
            errln!(
                "note: there is no emulated account at {} yet: planning against an empty account (the first `rolecall apply` creates it)",
                path.display()
            );
        }
        // The quotas too are those of the account `apply` would create.
        let live = crate::emulator::empty_account(
            crate::emulator::DEFAULT_ACCOUNT_ID.to_string(),
            &crate::emulator::Quotas::default(),
        );
        // `open` would have made an emulated account, which launches lab instances.
        let options = PlanOptions {
            force,
            launch_instances: true,
        };
        return Ok((live, options));
    };
    let live = snapshot(&emulator)?;
    Ok((live, plan_options(&emulator, force)))
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

/// What a plan against this account may do: launching declared instances
/// needs an account with a lab (an emulated one).
pub fn plan_options(cloud: &dyn Cloud, force: bool) -> PlanOptions {
    PlanOptions {
        force,
        launch_instances: cloud.lab().is_some(),
    }
}
