//! Drift: what changed outside git, classified from the ownership tags.
//!
//! Built on the planner's comparison, so drift and plan agree on every
//! difference. The `rolecall:spec` tag tells the two kinds of difference apart:
//! equal to the declared hash means the manifests did not change since the
//! last apply, so the difference was made outside rolecall (`modified`);
//! different means the manifests changed and apply has not run (`pending`).

pub mod attribution;
pub mod render;

use serde::Serialize;

use serde_json::{Value, json};

use crate::compare::{self, AttributeDiff, Comparison, InstanceMatch, Kind, SpecTag, Status};
use crate::phase;
use crate::plan::{Problem, render_problems};
use rolecall_model::{Desired, InstanceSelector, Live, TAG_SPEC, instance_key};

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
    /// A declared instance name that several instances carry (see
    /// `instance_ids`): someone launched a namesake, or renamed one.
    Ambiguous,
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
            Class::Ambiguous => "ambiguous",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub resource: String,
    /// An instance's Name tag: its stable handle (`resource` is
    /// `instance/NAME` until a lab instance is launched, then `instance/ID`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub kind: Kind,
    pub class: Class,
    /// For `unmanaged`: the stack that owns it, if another one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// For `ambiguous`: the ids of the instances that carry the name, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub instance_ids: Vec<String>,
    /// Each differing attribute: `before` as last applied, `after` as it is
    /// now. For `modified` that is declared -> account (what changed outside
    /// rolecall); for `pending`, account -> declared (what the manifests
    /// changed, and the next apply makes).
    pub attributes: Vec<AttributeDiff>,
    /// Who made the difference, from the account's audit trail (emulated
    /// accounts): the call that last changed each attribute outside
    /// rolecall. Empty without a trail, or when it cannot say.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed_by: Vec<attribution::ChangedBy>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub modified: usize,
    pub pending: usize,
    pub missing: usize,
    pub orphaned: usize,
    pub unmanaged: usize,
    pub ambiguous: usize,
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

/// Why the manifests could not be compared with the account.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_problems("cannot compare", .0))]
pub struct DriftError(pub Vec<Problem>);

/// Compares and classifies. Fails, as `plan` does, when the manifests cannot
/// be matched with the account (a name that differs only in case, an
/// instance declared twice). A declared instance name that several instances
/// carry is not such a failure here: it is drift (`ambiguous`), as it can
/// only have been made outside rolecall.
pub fn detect(desired: &Desired, live: &Live) -> Result<Report, DriftError> {
    let desired = &*compare::resolved(desired, live);
    let comparison = phase::timed("diff", || compare::compare(desired, live));
    if !comparison.problems.is_empty() {
        return Err(DriftError(comparison.problems));
    }
    phase::timed("classify", || Ok(classify(desired, &comparison)))
}

/// The drift report of a comparison without problems.
fn classify(desired: &Desired, comparison: &Comparison) -> Report {
    let mut entries = Vec::new();
    for d in &comparison.diffs {
        let mut attributes = d.attributes.clone();
        let (class, owner) = match &d.status {
            Status::Missing => (Class::Missing, None),
            Status::Orphaned => (Class::Orphaned, None),
            Status::Unmanaged => (Class::Unmanaged, None),
            Status::Foreign(stack) => (Class::Unmanaged, Some(stack.clone())),
            Status::Managed => match d.spec {
                Some(SpecTag::Stale) => (Class::Pending, None),
                Some(SpecTag::Absent) => {
                    // Only a hand outside rolecall takes the tag off.
                    attributes.push(AttributeDiff {
                        name: TAG_SPEC,
                        before: Value::Null,
                        after: d.declared_hash.as_ref().map_or(Value::Null, |h| json!(h)),
                    });
                    (Class::Modified, None)
                }
                Some(SpecTag::Current) | None if attributes.is_empty() => continue,
                Some(SpecTag::Current) | None => (Class::Modified, None),
            },
        };
        // A pending change with no visible attribute (only the hash moved) is noise.
        if class == Class::Pending && attributes.is_empty() {
            continue;
        }
        if class == Class::Modified {
            // The comparison reads account -> declared (what apply would do);
            // drift reports what happened: declared (applied) -> account.
            for attribute in &mut attributes {
                std::mem::swap(&mut attribute.before, &mut attribute.after);
            }
        }
        entries.push(Entry {
            resource: d.key.clone(),
            name: d.instance_name.clone(),
            kind: d.kind,
            class,
            owner,
            instance_ids: Vec::new(),
            attributes,
            changed_by: Vec::new(),
        });
    }
    let mut any_ambiguous = false;
    for (spec, found) in desired.instances.iter().zip(&comparison.instance_matches) {
        if let (InstanceMatch::Ambiguous(ids), InstanceSelector::Name(name)) =
            (found, &spec.selector)
        {
            any_ambiguous = true;
            entries.push(Entry {
                resource: instance_key(name),
                name: Some(name.clone()),
                kind: Kind::Instance,
                class: Class::Ambiguous,
                owner: None,
                instance_ids: ids.clone(),
                attributes: Vec::new(),
                changed_by: Vec::new(),
            });
        }
    }
    if any_ambiguous {
        // In the comparison's order: by kind, then key.
        entries.sort_by(|a, b| (a.kind, &a.resource).cmp(&(b.kind, &b.resource)));
    }
    let mut summary = Summary::default();
    for entry in &entries {
        *match entry.class {
            Class::Modified => &mut summary.modified,
            Class::Pending => &mut summary.pending,
            Class::Missing => &mut summary.missing,
            Class::Orphaned => &mut summary.orphaned,
            Class::Unmanaged => &mut summary.unmanaged,
            Class::Ambiguous => &mut summary.ambiguous,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::ownership;
    use rolecall_model::{
        LivePolicy, LiveRole, ManagedPolicy, PolicyDocument, Role, TAG_STACK, policy_arn,
    };

    const ACCOUNT: &str = "123456789012";

    fn document(action: &str) -> PolicyDocument {
        PolicyDocument::from_value(json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]
        }))
    }

    /// Stack `s` declaring policy `P` and role `web` attaching it by name,
    /// and the account as its apply left it.
    fn applied() -> (Desired, Live) {
        let policy = ManagedPolicy {
            name: "P".into(),
            path: "/".into(),
            description: String::new(),
            document: document("s3:GetObject"),
            tags: [("team".to_string(), "web".to_string())]
                .into_iter()
                .collect(),
        };
        let role = Role {
            name: "web".into(),
            path: "/".into(),
            description: String::new(),
            trust: PolicyDocument::trusting_services(&["ec2.amazonaws.com"]),
            max_session_duration: 3600,
            permissions_boundary: None,
            managed_policies: ["P".to_string()].into(),
            inline_policies: Default::default(),
            tags: Default::default(),
        };
        let desired = Desired {
            stack: "s".into(),
            policies: [("P".to_string(), policy.clone())].into(),
            roles: [("web".to_string(), role.clone())].into(),
            ..Desired::default()
        };
        let arn = policy_arn("aws", ACCOUNT, "/", "P");
        let mut live_policy = policy.clone();
        live_policy.tags = ownership::owned_tags(&policy.tags, "s", &ownership::spec_hash(&policy));
        let mut live_role = role;
        live_role.managed_policies = [arn.clone()].into();
        let role_hash = ownership::spec_hash(&live_role);
        live_role.tags = ownership::owned_tags(&Default::default(), "s", &role_hash);
        let live = Live {
            account_id: ACCOUNT.into(),
            policies: [(
                "P".to_string(),
                LivePolicy {
                    policy: live_policy,
                    arn,
                    policy_id: "ANPAP".into(),
                    default_version_id: "v1".into(),
                    versions: vec!["v1".into()],
                    attachment_count: 1,
                },
            )]
            .into(),
            roles: [(
                "web".to_string(),
                LiveRole {
                    role: live_role,
                    arn: format!("arn:aws:iam::{ACCOUNT}:role/web"),
                    role_id: "AROAWEB".into(),
                },
            )]
            .into(),
            ..Live::default()
        };
        (desired, live)
    }

    fn entry<'a>(report: &'a Report, resource: &str) -> &'a Entry {
        report
            .entries
            .iter()
            .find(|e| e.resource == resource)
            .unwrap_or_else(|| panic!("no {resource} in {report:#?}"))
    }

    #[test]
    fn an_applied_stack_with_policies_has_no_drift() {
        let (desired, live) = applied();
        let report = detect(&desired, &live).unwrap();
        assert!(report.entries.is_empty(), "{report:#?}");
    }

    #[test]
    fn a_new_default_version_made_outside_is_drift_of_the_document() {
        let (desired, mut live) = applied();
        let held = live.policies.get_mut("P").unwrap();
        held.policy.document = document("s3:*");
        held.versions.push("v2".into());
        held.default_version_id = "v2".into();
        let report = detect(&desired, &live).unwrap();
        let found = entry(&report, "policy/P");
        assert_eq!((found.kind, found.class), (Kind::Policy, Class::Modified));
        let changed = &found.attributes[0];
        assert_eq!(changed.name, "document");
        // As applied -> as the account has it now.
        assert_eq!(changed.after["Statement"][0]["Action"], "s3:*");
        assert!(report.drift);
    }

    #[test]
    fn policy_tags_and_attachments_changed_outside_are_drift() {
        let (desired, mut live) = applied();
        let held = live.policies.get_mut("P").unwrap();
        held.policy.tags.insert("by-hand".into(), "yes".into());
        live.roles
            .get_mut("web")
            .unwrap()
            .role
            .managed_policies
            .clear();
        let report = detect(&desired, &live).unwrap();
        assert_eq!(entry(&report, "policy/P").attributes[0].name, "tags");
        let role = entry(&report, "role/web");
        assert_eq!(
            (role.class, role.attributes[0].name),
            (Class::Modified, "managed_policies")
        );
    }

    #[test]
    fn a_policy_deleted_outside_is_missing_and_one_changed_in_the_manifests_is_pending() {
        let (mut desired, mut live) = applied();
        live.policies.clear();
        live.roles
            .get_mut("web")
            .unwrap()
            .role
            .managed_policies
            .clear();
        let report = detect(&desired, &live).unwrap();
        assert_eq!(entry(&report, "policy/P").class, Class::Missing);
        let (_, live) = applied();
        desired.policies.get_mut("P").unwrap().document = document("s3:PutObject");
        let report = detect(&desired, &live).unwrap();
        assert_eq!(entry(&report, "policy/P").class, Class::Pending);
        assert!(!report.drift);
    }

    #[test]
    fn an_unowned_policy_of_a_declared_name_is_unmanaged() {
        let (desired, mut live) = applied();
        live.policies
            .get_mut("P")
            .unwrap()
            .policy
            .tags
            .remove(TAG_STACK);
        let report = detect(&desired, &live).unwrap();
        assert_eq!(entry(&report, "policy/P").class, Class::Unmanaged);
    }
}
