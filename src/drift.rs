//! Drift: what changed outside git, classified from the ownership tags.
//!
//! Built on the planner's comparison, so drift and plan agree on every
//! difference. The `rolecall:spec` tag tells the two kinds of difference apart:
//! equal to the declared hash means the manifests did not change since the
//! last apply, so the difference was made outside rolecall (`modified`);
//! different means the manifests changed and apply has not run (`pending`).

use serde::Serialize;

use crate::model::{Desired, Live};
use crate::plan::diff::{self, AttributeDiff, Kind, Status};

/// The drift report's JSON format version.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Changed outside rolecall since the last apply.
    Modified,
    /// The manifests changed; apply has not run yet. Not drift.
    Pending,
    /// Declared, absent from the account.
    Missing,
    /// Owned by this stack, no longer declared.
    Orphaned,
    /// Exists with a declared name but not owned by this stack (needs import,
    /// or belongs to another stack: see `owner`).
    Unmanaged,
}

impl Class {
    pub fn is_drift(self) -> bool {
        self != Class::Pending
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Class::Modified => "modified",
            Class::Pending => "pending",
            Class::Missing => "missing",
            Class::Orphaned => "orphaned",
            Class::Unmanaged => "unmanaged",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub resource: String,
    pub kind: Kind,
    pub class: Class,
    /// For `unmanaged`: the stack that owns it, if another one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Each differing attribute, `before` as the account has it, `after` as declared.
    pub attributes: Vec<AttributeDiff>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub modified: usize,
    pub pending: usize,
    pub missing: usize,
    pub orphaned: usize,
    pub unmanaged: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub stack: String,
    /// True when any entry is drift (anything but `pending`).
    pub drift: bool,
    pub entries: Vec<Entry>,
    pub summary: Summary,
}

pub fn detect(desired: &Desired, live: &Live) -> Report {
    let comparison = diff::compare(desired, live);
    let mut entries = Vec::new();
    for d in comparison.diffs {
        let (class, owner) = match &d.status {
            Status::Missing => (Class::Missing, None),
            Status::Orphaned => (Class::Orphaned, None),
            Status::Unmanaged => (Class::Unmanaged, None),
            Status::Foreign(stack) => (Class::Unmanaged, Some(stack.clone())),
            Status::Managed => {
                let current = d.spec_current.unwrap_or(true);
                if d.attributes.is_empty() && current {
                    continue;
                }
                if current {
                    (Class::Modified, None)
                } else {
                    (Class::Pending, None)
                }
            }
        };
        // A pending change with no visible attribute (only the hash moved) is noise.
        if class == Class::Pending && d.attributes.is_empty() {
            continue;
        }
        entries.push(Entry {
            resource: d.key,
            kind: d.kind,
            class,
            owner,
            attributes: d.attributes,
        });
    }
    let mut summary = Summary::default();
    for entry in &entries {
        *match entry.class {
            Class::Modified => &mut summary.modified,
            Class::Pending => &mut summary.pending,
            Class::Missing => &mut summary.missing,
            Class::Orphaned => &mut summary.orphaned,
            Class::Unmanaged => &mut summary.unmanaged,
        } += 1;
    }
    Report {
        format_version: FORMAT_VERSION,
        stack: desired.stack.clone(),
        drift: entries.iter().any(|e| e.class.is_drift()),
        entries,
        summary,
    }
}
