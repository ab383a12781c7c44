//! Rendering plans for people (text, markdown) and programs (JSON, DOT).
//!
//! Renderers return strings; only the CLI prints. `lines` turns one change into
//! signed lines that both text and markdown use, so they never disagree.

pub mod dot;
mod json;
pub mod lines;
pub mod markdown;
pub mod text;

use super::{Change, ChangeViews, DeclaredInOrder, Later, Plan, Removal};

/// Streams the plan as the JSON of docs/design.md (format_version 1), pretty-printed.
pub fn write_json(plan: &Plan, sink: &mut dyn std::io::Write) -> std::io::Result<()> {
    json::write(plan, sink)
}

/// [`write_json`] of a plan whose steps are still being put in order
/// ([`crate::plan::plan_owned_with`]): its changes are written meanwhile,
/// and the steps, which follow them, once they are ready.
pub fn write_json_later(
    plan: &Plan,
    later: &Later,
    sink: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    json::write_later(plan, later, sink)
}

/// A saved plan's JSON: the published fields, then what `plan --out`
/// records (account, fingerprints, desired state, options).
pub(crate) fn write_saved_json(plan: &Plan, sink: &mut dyn std::io::Write) -> std::io::Result<()> {
    json::write_saved(plan, sink)
}

/// The views to show for `change`, the plan's change at `index`: built
/// through `later` when the plan left them due, a creation's declared
/// resource in place of its view ([`Later::views_or_shown`]); else the
/// change's own.
fn views_of<'c>(
    later: Option<&'c Later>,
    index: usize,
    change: &'c Change,
    in_order: Option<&mut DeclaredInOrder<'c>>,
) -> ChangeViews<'c> {
    match later {
        Some(later) => later.views_or_shown(index, change, in_order),
        None => ChangeViews::of(change),
    }
}

/// Writes `items` (a plan's changes or steps, which render independently)
/// a batch at a time: each batch split over every core, or on this thread
/// alone while `every_core()` says no; each run rendered into memory by
/// `render(index of its first item, run, buffer)`; the runs written in
/// order.
///
/// The buffer a run is given is empty, with room for the text its items
/// would take at the bytes an item took in the batch before: a run's text
/// grown by doubling from nothing was copied several times over (at
/// 100,000 roles, a tenth of writing the text plan).
fn write_in_batches<T: Sync, W: std::io::Write>(
    items: &[T],
    every_core: &dyn Fn() -> bool,
    out: &mut W,
    render: impl Fn(usize, &[T], Vec<u8>) -> std::io::Result<Vec<u8>> + Sync,
) -> std::io::Result<()> {
    let mut bytes_per_item = 0;
    for (batch_index, batch) in items.chunks(ITEMS_PER_BATCH).enumerate() {
        let worth_a_thread = if every_core() {
            ITEMS_WORTH_A_THREAD
        } else {
            usize::MAX
        };
        let parts = crate::parallel::runs(batch, worth_a_thread, |first, run| {
            // An eighth more: items differ, and one more doubling would
            // copy the whole run again.
            let room = run.len() * (bytes_per_item + bytes_per_item / 8);
            render(
                batch_index * ITEMS_PER_BATCH + first,
                run,
                Vec::with_capacity(room),
            )
        });
        let mut written = 0;
        for part in parts {
            let part = part?;
            written += part.len();
            out.write_all(&part)?;
        }
        bytes_per_item = written.div_ceil(batch.len());
    }
    Ok(())
}

/// Items rendered per batch: enough to keep every core busy, few enough
/// that a batch's text is a few megabytes.
const ITEMS_PER_BATCH: usize = 4096;
/// Fewer items than this a thread are rendered on the calling thread.
const ITEMS_WORTH_A_THREAD: usize = 256;

/// `write` through a buffer of its own, of a type the compiler sees
/// through: each of the millions of small writes is a copy, not a call
/// through `dyn Write`.
fn buffered<'a>(
    sink: &'a mut dyn std::io::Write,
    write: impl FnOnce(&mut std::io::BufWriter<&'a mut dyn std::io::Write>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, sink);
    write(&mut out)?;
    out.flush()
}

/// The JSON plan as a string (tests, small plans).
pub fn json(plan: &Plan) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_json(plan, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// `Plan: 1 to create, 0 to update, 0 to replace, 2 to delete.`, or for
/// destroy `Destroy: 2 to delete, 1 to release, 0 to terminate.`
pub fn summary_line(plan: &Plan) -> String {
    let s = plan.summary;
    if plan.destroy {
        let [deleted, released, terminated] = removals(plan, |_| true);
        return format!(
            "Destroy: {deleted} to delete, {released} to release, {terminated} to terminate."
        );
    }
    format!(
        "Plan: {} to create, {} to update, {} to replace, {} to delete.",
        s.create, s.update, s.replace, s.delete
    )
}

/// How many of the plan's deletes (whose resource `counted` accepts) delete,
/// release and terminate.
pub fn removals(plan: &Plan, counted: impl Fn(&str) -> bool) -> [usize; 3] {
    let mut counts = [0; 3];
    for change in &plan.changes {
        let slot = match change.removal() {
            Some(Removal::Deleted) => 0,
            Some(Removal::Released) => 1,
            Some(Removal::Terminated) => 2,
            None => continue,
        };
        if counted(&change.resource) {
            counts[slot] += 1;
        }
    }
    counts
}

pub const NO_CHANGES: &str = "No changes. Live state matches the manifests.";
