//! `rolecall lint`: what in the declared policies is broader or riskier
//! than it looks, each finding at its place in the manifests with the rule
//! that found it, why it matters and how to fix it. `validate` shows the
//! same findings as warnings.
//!
//! The rules ([`RULES`]) read the declared state only: roles, and the
//! documents of ManagedPolicies (with the rules of inline policies); the
//! action catalogue and AWS-managed documents are rolecall-policy's
//! bundled data. A role or a ManagedPolicy silences a rule with a reason
//! (`lint_ignore: {RULE: REASON}`);
//! the stack may require a permissions boundary on every role an instance
//! profile holds (`require_permissions_boundary: true`).

mod render;
mod rules;

use rolecall_model::{Desired, Kind, Location};
use serde::Serialize;

use crate::manifest::PolicyPlaces;

pub use render::{json, sarif, text};
pub use rules::{RULES, Rule};

/// One thing lint found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's id (`wildcard-resource-on-write`).
    pub rule: &'static str,
    /// Where it is: the policy's place in the manifests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The resource (`role/web-server`, `policy/deploy-tools`).
    pub resource: String,
    /// What in it: "inline policy `read`, statement 2 (Sid Write)".
    pub subject: String,
    /// What is wrong, for this occurrence.
    pub message: String,
}

impl StaleIgnore {
    /// Whose entry it is, as a sentence names it: "role `web`",
    /// "managed policy `deploy-tools`".
    pub fn owner(&self) -> String {
        match rolecall_model::key::parts(&self.resource) {
            Some((Kind::Policy, name)) => format!("managed policy `{name}`"),
            Some((Kind::Role, name)) => format!("role `{name}`"),
            _ => format!("`{}`", self.resource),
        }
    }
}

impl Finding {
    pub fn rule(&self) -> &'static Rule {
        rules::rule(self.rule)
    }
}

/// A finding a role or a ManagedPolicy silenced, with the reason it gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Silenced {
    pub finding: Finding,
    pub reason: String,
}

/// A `lint_ignore` entry that silences nothing: the finding it was for is
/// gone, and the entry would hide the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleIgnore {
    /// The resource whose `lint_ignore` it is (`role/NAME`, `policy/NAME`).
    pub resource: String,
    pub rule: String,
    pub location: Location,
}

/// Everything lint found in a stack, in manifest order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub silenced: Vec<Silenced>,
    pub stale_ignores: Vec<StaleIgnore>,
}

/// Lints the declared stack.
pub fn lint(desired: &Desired, places: &PolicyPlaces) -> Report {
    let mut found = Vec::new();
    rules::check(desired, places, &mut found);
    // Manifest order: file, line, column; then rule, for a stable output.
    found.sort_by(|a, b| {
        let place = |f: &Finding| {
            f.location
                .as_ref()
                .map(|l| (l.file.clone(), l.line, l.column))
        };
        place(a)
            .cmp(&place(b))
            .then_with(|| a.rule.cmp(b.rule))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    let mut report = Report::default();
    for finding in found {
        match places.ignored(&finding.resource, finding.rule) {
            Some(reason) => report.silenced.push(Silenced {
                reason: reason.to_string(),
                finding,
            }),
            None => report.findings.push(finding),
        }
    }
    for (resource, rule, location) in places.ignores() {
        let used = report
            .silenced
            .iter()
            .any(|silenced| silenced.finding.rule == rule && silenced.finding.resource == resource);
        if !used {
            report.stale_ignores.push(StaleIgnore {
                resource: resource.to_string(),
                rule: rule.to_string(),
                location: location.clone(),
            });
        }
    }
    report.stale_ignores.sort_by(|a, b| {
        (&a.location.file, a.location.line, a.location.column).cmp(&(
            &b.location.file,
            b.location.line,
            b.location.column,
        ))
    });
    report
}
