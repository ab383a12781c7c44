//! Saved plans: written by `plan --out`, applied by `apply FILE`.
//!
//! A saved plan records, for every resource it touches, a fingerprint of the
//! live state it was computed from. Applying re-reads the account and refuses
//! the plan if any fingerprint changed (like Terraform's "Saved plan is stale").

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::ownership::spec_hash;
use super::{FORMAT_VERSION, Plan};
use crate::cloud::Call;
use crate::model::{Live, instance_key, profile_key, role_key};

const ABSENT: &str = "absent";

#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    // The cause is printed after it, by whoever prints the error chain.
    #[error("{path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a rolecall plan: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: saved plan is for account {planned}, but the account is {actual}")]
    WrongAccount {
        path: PathBuf,
        planned: String,
        actual: String,
    },
    #[error("{}", stale_message(.path, .changed))]
    Stale { path: PathBuf, changed: Vec<String> },
}

fn stale_message(path: &Path, changed: &[String]) -> String {
    let mut out = format!(
        "{}: saved plan is stale: the account changed since it was made; nothing was applied. Run `rolecall plan` again.",
        path.display()
    );
    for key in changed {
        out.push_str("\n  changed: ");
        out.push_str(key);
    }
    out
}

/// Who uses what in the account, built once per check. A plan is only safe
/// while these hold: it deletes a profile knowing which instances use it, and
/// a role knowing which profiles hold it (an instance or profile rolecall does
/// not own, appearing since, would make the plan an error without --force).
struct Index<'a> {
    /// Instance ids by `Name` tag: a lab plan keys every instance it still
    /// has to launch by name.
    ids_by_name: HashMap<&'a str, Vec<&'a str>>,
    /// Instance ids associated with each profile.
    users_of_profile: HashMap<&'a str, BTreeSet<&'a str>>,
    /// Profiles holding each role.
    holders_of_role: HashMap<&'a str, BTreeSet<&'a str>>,
}

impl<'a> Index<'a> {
    fn new(live: &'a Live) -> Self {
        let mut index = Index {
            ids_by_name: HashMap::new(),
            users_of_profile: HashMap::new(),
            holders_of_role: HashMap::new(),
        };
        for instance in live.instances.values() {
            if let Some(name) = &instance.name {
                index
                    .ids_by_name
                    .entry(name)
                    .or_default()
                    .push(&instance.instance_id);
            }
            if let Some(association) = &instance.association {
                index
                    .users_of_profile
                    .entry(&association.profile_name)
                    .or_default()
                    .insert(&instance.instance_id);
            }
        }
        for (name, profile) in &live.profiles {
            if let Some(role) = &profile.profile.role {
                index.holders_of_role.entry(role).or_default().insert(name);
            }
        }
        index
    }
}

/// Fingerprint of what the account holds under a resource key.
fn fingerprint(live: &Live, index: &Index, key: &str) -> String {
    let value: Option<Value> = if let Some(name) = key.strip_prefix("role/") {
        live.roles
            .get(name)
            .map(|r| json!([r, index.holders_of_role.get(name)]))
    } else if let Some(name) = key.strip_prefix("instance-profile/") {
        live.profiles
            .get(name)
            .map(|p| json!([p, index.users_of_profile.get(name)]))
    } else if let Some(id) = key.strip_prefix("instance/") {
        match live.instances.get(id) {
            Some(instance) => {
                // An association settling from `associating` to `associated`
                // is not a change: leave its state out.
                let association = instance
                    .association
                    .as_ref()
                    .map(|a| json!([a.association_id, a.profile_name]));
                Some(json!([
                    instance.instance_id,
                    instance.state,
                    instance.tags,
                    association
                ]))
            }
            None => {
                // Not launched yet: the instance is keyed by its Name tag.
                index.ids_by_name.get(id).map(|named| json!(named))
            }
        }
    } else {
        None
    };
    value.map_or_else(|| ABSENT.to_string(), |v| spec_hash(&v))
}

/// Every resource a plan's steps read or change, including the profiles and
/// roles they name (an association relies on its profile being as planned).
fn touched(plan: &Plan) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for step in &plan.steps {
        keys.insert(step.resource.clone());
        match &step.call {
            Call::AddRoleToInstanceProfile(r) => {
                keys.insert(role_key(&r.role_name));
            }
            Call::AssociateIamInstanceProfile(r) => {
                if !r.instance_id.starts_with("instance/") {
                    keys.insert(instance_key(&r.instance_id));
                }
                if let Some(name) = &r.iam_instance_profile.name {
                    keys.insert(profile_key(name));
                }
            }
            Call::ReplaceIamInstanceProfileAssociation(r) => {
                if let Some(name) = &r.iam_instance_profile.name {
                    keys.insert(profile_key(name));
                }
            }
            Call::RunInstances(r) => {
                if let Some(name) = r
                    .iam_instance_profile
                    .as_ref()
                    .and_then(|p| p.name.as_ref())
                {
                    keys.insert(profile_key(name));
                }
            }
            _ => {}
        }
    }
    keys
}

/// Records the account and the fingerprints the plan was computed from.
pub fn seal(plan: &mut Plan, live: &Live) {
    plan.account_id = Some(live.account_id.clone());
    let index = Index::new(live);
    plan.fingerprints = touched(plan)
        .into_iter()
        .map(|key| {
            let print = fingerprint(live, &index, &key);
            (key, print)
        })
        .collect::<BTreeMap<_, _>>();
}

/// The resources whose live state differs from when the plan was sealed.
pub fn changed_since(plan: &Plan, live: &Live) -> Vec<String> {
    let index = Index::new(live);
    plan.fingerprints
        .iter()
        .filter(|(key, print)| fingerprint(live, &index, key) != **print)
        .map(|(key, _)| key.clone())
        .collect()
}

/// Refuses a plan made for another account or from a state that has changed.
pub fn check_fresh(plan: &Plan, live: &Live, path: &Path) -> Result<(), SavedPlanError> {
    if let Some(planned) = &plan.account_id
        && *planned != live.account_id
    {
        return Err(SavedPlanError::WrongAccount {
            path: path.to_path_buf(),
            planned: planned.clone(),
            actual: live.account_id.clone(),
        });
    }
    // Every resource the steps touch must have been fingerprinted: a plan
    // edited by hand could otherwise slip a step past the check.
    if let Some(key) = touched(plan)
        .into_iter()
        .find(|key| !plan.fingerprints.contains_key(key))
    {
        return Err(SavedPlanError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "its steps touch {key}, which it holds no fingerprint of; save plans with `rolecall plan --out FILE`"
            ),
        });
    }
    let changed = changed_since(plan, live);
    if changed.is_empty() {
        Ok(())
    } else {
        Err(SavedPlanError::Stale {
            path: path.to_path_buf(),
            changed,
        })
    }
}

/// Writes a sealed plan atomically (the file is whole or absent, fsynced).
pub fn write(path: &Path, plan: &Plan) -> Result<(), SavedPlanError> {
    let io = |source| SavedPlanError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut text = serde_json::to_string_pretty(plan).map_err(|e| io(e.into()))?;
    text.push('\n');
    let mut file = atomic_write_file::AtomicWriteFile::options()
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.commit().map_err(io)
}

/// Reads a saved plan, checking it is one rolecall can apply.
pub fn read(path: &Path) -> Result<Plan, SavedPlanError> {
    let text = crate::manifest::read_regular_file(path).map_err(|source| SavedPlanError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |message: String| SavedPlanError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let plan: Plan = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    if plan.format_version != FORMAT_VERSION {
        return Err(invalid(format!(
            "format_version {} is not supported (this rolecall reads {FORMAT_VERSION})",
            plan.format_version
        )));
    }
    if plan.account_id.is_none() {
        return Err(invalid(
            "it has no fingerprints: save plans with `rolecall plan --out FILE`".into(),
        ));
    }
    // Steps are numbered 1, 2, ... in order and depend on earlier ones only.
    for (index, step) in plan.steps.iter().enumerate() {
        if step.id != index + 1 {
            return Err(invalid(format!(
                "step {} is numbered {}: steps are numbered 1, 2, ... in order",
                index + 1,
                step.id
            )));
        }
        if let Some(later) = step.depends_on.iter().find(|d| **d == 0 || **d >= step.id) {
            return Err(invalid(format!(
                "step {} depends on step {later}, which does not come before it",
                step.id
            )));
        }
    }
    Ok(plan)
}
