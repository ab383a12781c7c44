//! Saved plans: written by `plan --out`, applied by `apply FILE`.
//!
//! A saved plan records what it was computed from: the desired state, the
//! options that change steps, the account, and for every resource it touches a
//! fingerprint of the live state. Reading refuses a file holding anything
//! rolecall does not write (an unknown field anywhere, a written one missing).
//! Applying re-reads the account, refuses the
//! plan if any fingerprint changed (like Terraform's "Saved plan is stale"),
//! then computes the plan again and refuses it unless the steps, changes,
//! warnings and summary are the file's: what was shown is what runs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Change, FORMAT_VERSION, Plan, PlanError, PlanOptions, Step, View};
use crate::compare::ownership::spec_hash;
use rolecall_cloud::Call;
use rolecall_model::{
    Arn, Desired, Kind, Live, instance_key, key, name_from_arn, policy_key, profile_key, role_key,
};

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
    #[error(
        "{path}: the saved plan's desired state cannot be planned against the account now; nothing was applied: {problems}"
    )]
    Unplannable { path: PathBuf, problems: PlanError },
    #[error("{}", mismatch_message(.path, .differences))]
    Mismatch {
        path: PathBuf,
        differences: Vec<String>,
    },
}

/// The plan options a saved plan was computed with. Whether lab instances
/// are launched is not one: it follows from the account's backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedOptions {
    pub force: bool,
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

fn mismatch_message(path: &Path, differences: &[String]) -> String {
    let mut out = format!(
        "{}: saved plan does not match its own desired state planned against the account now: the file was edited, or the account changed where the plan does not look; nothing was applied. Run `rolecall plan` again.",
        path.display()
    );
    for line in differences {
        out.push_str("\n  ");
        out.push_str(line);
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
    let value: Option<Value> = match key::parts(key) {
        Some((Kind::Policy, name)) => live.policies.get(name).map(|p| json!([p])),
        Some((Kind::Role, name)) => live
            .roles
            .get(name)
            .map(|r| json!([r, index.holders_of_role.get(name)])),
        Some((Kind::InstanceProfile, name)) => live
            .profiles
            .get(name)
            .map(|p| json!([p, index.users_of_profile.get(name)])),
        // An id, or the Name tag of an instance not launched yet: the
        // account decides which.
        Some((Kind::Instance, id)) => match live.instances.get(id) {
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
        },
        None => None,
    };
    value.map_or_else(|| ABSENT.to_string(), |v| spec_hash(&v))
}

/// Every resource a plan's steps read or change, including the profiles and
/// roles they name (an association relies on its profile being as planned).
fn touched(plan: &Plan) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for step in &plan.steps {
        keys.insert(step.resource.to_string());
        match &step.call {
            Call::AddRoleToInstanceProfile(r) => {
                keys.insert(role_key(&r.role_name));
            }
            // A customer-managed policy attached or detached: the plan
            // relies on it being there (or being deleted) as planned.
            Call::AttachRolePolicy(r) => keys.extend(customer_policy_key(&r.policy_arn)),
            Call::DetachRolePolicy(r) => keys.extend(customer_policy_key(&r.policy_arn)),
            Call::AssociateIamInstanceProfile(r) => {
                // Not launched yet, the instance is `instance/NAME` here
                // until apply knows its id: already a key, not an id.
                if key::kind_of(&r.instance_id) != Some(Kind::Instance) {
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

/// The key of the customer-managed policy an ARN names, if it names one
/// (an AWS-managed policy is nobody's to change).
fn customer_policy_key(arn: &str) -> Option<String> {
    let parsed = Arn::parse(arn)?;
    (parsed.account != "aws" && parsed.resource.starts_with("policy/"))
        .then(|| policy_key(name_from_arn(arn)))
}

/// Records what the plan was computed from: the desired state and options
/// (`plan` was given them), the account, and the fingerprints of what it touches.
pub fn seal(plan: &mut Plan, live: &Live, desired: Desired, options: PlanOptions) {
    plan.desired = Some(desired);
    plan.options = Some(SavedOptions {
        force: options.force,
    });
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

/// The plan `apply FILE` runs: the saved plan's desired state planned again
/// against `live`, after the checks of [`check_fresh`]; refused unless its
/// steps and what it shows (stack, changes, warnings, summary) are the file's.
/// `launch_instances` comes from the account's backend, as when planning.
pub fn verify(
    saved: Plan,
    live: &Live,
    launch_instances: bool,
    path: &Path,
) -> Result<Plan, SavedPlanError> {
    check_fresh(&saved, live, path)?;
    // `read` refuses a file without them: this plan was not read from one.
    let (Some(desired), Some(options)) = (&saved.desired, saved.options) else {
        return Err(not_sealed(path));
    };
    let mismatch = |differences| SavedPlanError::Mismatch {
        path: path.to_path_buf(),
        differences,
    };
    // The plan is the desired state's stack's; checked first, as planning
    // another stack's desired state only finds this stack's resources owned.
    if saved.stack != desired.stack {
        return Err(mismatch(vec![format!(
            "stack: file {}, planned {}",
            json!(saved.stack),
            json!(desired.stack)
        )]));
    }
    let options = PlanOptions {
        force: options.force,
        launch_instances,
    };
    let planned =
        super::plan(desired, live, options).map_err(|problems| SavedPlanError::Unplannable {
            path: path.to_path_buf(),
            problems,
        })?;
    let differences = differences(&saved, &planned);
    if differences.is_empty() {
        Ok(planned)
    } else {
        Err(mismatch(differences))
    }
}

/// How many differing steps, and changes, a refusal lists.
const SHOWN: usize = 5;

/// What differs between a saved plan and the plan computed again, one line
/// each: the first few differing steps and changes, then counts; then
/// warnings and summary. Policy
/// documents and other long values are only said to differ.
fn differences(saved: &Plan, planned: &Plan) -> Vec<String> {
    let mut lines = differing(
        "steps",
        &saved.steps,
        &planned.steps,
        |a, b| a == b,
        step_difference,
    );
    lines.extend(differing(
        "changes",
        &saved.changes,
        &planned.changes,
        same_change,
        change_difference,
    ));
    // The first differing warning (they are sentences, not documents).
    let count = saved.warnings.len().max(planned.warnings.len());
    if let Some(n) = (0..count).find(|&n| saved.warnings.get(n) != planned.warnings.get(n)) {
        let text =
            |w: Option<&String>| w.map_or_else(|| "none".to_string(), |w| json!(w).to_string());
        lines.push(format!(
            "warning {}: file {}, planned {}",
            n + 1,
            text(saved.warnings.get(n)),
            text(planned.warnings.get(n))
        ));
    }
    if saved.summary != planned.summary {
        lines.extend(field_differences(
            "summary",
            &json!(saved.summary),
            &json!(planned.summary),
        ));
    }
    lines
}

/// The entries of two lists that differ, compared position by position (the
/// longer list's extra entries differ too): a line for each of the first
/// few, then how many more.
fn differing<T>(
    what: &str,
    saved: &[T],
    planned: &[T],
    same: fn(&T, &T) -> bool,
    describe: fn(Option<&T>, Option<&T>) -> String,
) -> Vec<String> {
    let mut lines = Vec::new();
    let mut more = 0;
    for n in 0..saved.len().max(planned.len()) {
        let (a, b) = (saved.get(n), planned.get(n));
        if let (Some(a), Some(b)) = (a, b)
            && same(a, b)
        {
            continue;
        }
        if lines.len() < SHOWN {
            lines.push(describe(a, b));
        } else {
            more += 1;
        }
    }
    if more > 0 {
        lines.push(format!("… and {more} more differing {what}"));
    }
    lines
}

fn step_difference(saved: Option<&Step>, planned: Option<&Step>) -> String {
    let name = |s: &Step| format!("step {} {} {}", s.id, s.call.operation(), s.resource);
    match (saved, planned) {
        (Some(a), Some(b))
            if (a.call.operation(), &a.resource) != (b.call.operation(), &b.resource) =>
        {
            format!(
                "{} ({}): planned {} {}",
                name(a),
                params_line(a),
                b.call.operation(),
                b.resource
            )
        }
        (Some(a), Some(b)) => {
            let mut fields = field_differences("params", &params(a), &params(b));
            if a.depends_on != b.depends_on {
                fields.push(format!(
                    "depends_on: file {}, planned {}",
                    json!(a.depends_on),
                    json!(b.depends_on)
                ));
            }
            format!("{}: {}", name(a), fields.join("; "))
        }
        (Some(a), None) => format!("{}: in the file, not planned ({})", name(a), params_line(a)),
        (None, Some(b)) => format!("{}: planned, not in the file ({})", name(b), params_line(b)),
        (None, None) => String::new(),
    }
}

/// A step's AWS parameters as JSON.
fn params(step: &Step) -> Value {
    serde_json::to_value(&step.call)
        .ok()
        .and_then(|mut call| call.get_mut("params").map(Value::take))
        .unwrap_or(Value::Null)
}

/// Whether two changes are the same. Views whose texts differ are compared
/// as JSON: a view read from a file may be laid out otherwise, or repeat a
/// key (read from its text, it keeps both; as JSON, the last one counts).
fn same_change(a: &Change, b: &Change) -> bool {
    let same_view = |x: &Option<View>, y: &Option<View>| match (x, y) {
        (Some(x), Some(y)) => x == y || x.parse() == y.parse(),
        (x, y) => x.is_none() && y.is_none(),
    };
    a.resource == b.resource
        && a.name == b.name
        && a.action == b.action
        && a.attributes == b.attributes
        && same_view(&a.before, &b.before)
        && same_view(&a.after, &b.after)
}

fn change_difference(saved: Option<&Change>, planned: Option<&Change>) -> String {
    let action = |c: &Change| json!(c.action).as_str().unwrap_or_default().to_string();
    let name = |c: &Change| format!("change {} ({})", c.resource, action(c));
    let view = |v: &Option<View>| v.as_ref().map_or(Value::Null, View::parse);
    match (saved, planned) {
        (Some(a), Some(b)) if (&a.resource, a.action) != (&b.resource, b.action) => {
            format!("{}: planned {} ({})", name(a), b.resource, action(b))
        }
        (Some(a), Some(b)) => {
            let mut fields = Vec::new();
            if a.name != b.name {
                fields.push(format!(
                    "name: file {}, planned {}",
                    json!(a.name),
                    json!(b.name)
                ));
            }
            fields.extend(field_differences(
                "before",
                &view(&a.before),
                &view(&b.before),
            ));
            fields.extend(field_differences("after", &view(&a.after), &view(&b.after)));
            if a.attributes != b.attributes {
                fields.push(format!(
                    "attributes: file {}, planned {}",
                    json!(a.attributes),
                    json!(b.attributes)
                ));
            }
            format!("{}: {}", name(a), fields.join("; "))
        }
        (Some(a), None) => format!("{}: in the file, not planned", name(a)),
        (None, Some(b)) => format!("{}: planned, not in the file", name(b)),
        (None, None) => String::new(),
    }
}

/// How many differing values one step or change lists.
const FIELDS_SHOWN: usize = 3;

/// `LABEL.FIELD[N]...: file X, planned Y` for the first few values that
/// differ between two JSON values, looking into objects and into lists of
/// the same length, so that a differing tag or statement is named, not
/// printed whole.
fn field_differences(label: &str, saved: &Value, planned: &Value) -> Vec<String> {
    fn walk(label: String, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<String>) {
        if a == b || out.len() > FIELDS_SHOWN {
            return;
        }
        match (a, b) {
            (Some(Value::Object(x)), Some(Value::Object(y))) => {
                let only_planned = y.keys().filter(|key| !x.contains_key(*key));
                for key in x.keys().chain(only_planned) {
                    walk(format!("{label}.{key}"), x.get(key), y.get(key), out);
                }
            }
            (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
                for (n, (x, y)) in x.iter().zip(y).enumerate() {
                    walk(format!("{label}[{n}]"), Some(x), Some(y), out);
                }
            }
            // Entries added or removed: name them rather than both lists.
            (Some(Value::Array(x)), Some(Value::Array(y))) => {
                let extra = |side: &str, of: &[Value], not_in: &[Value], out: &mut Vec<String>| {
                    for entry in of.iter().filter(|e| !not_in.contains(e)) {
                        out.push(match shown(entry) {
                            Some(text) => format!("{label}: {side} also has {text}"),
                            None => format!("{label} differs"),
                        });
                    }
                };
                extra("file", x, y, out);
                extra("planned", y, x, out);
            }
            _ => out.push(value_difference(&label, a, b)),
        }
    }
    let mut out = Vec::new();
    walk(label.to_string(), Some(saved), Some(planned), &mut out);
    if out.len() > FIELDS_SHOWN {
        out.truncate(FIELDS_SHOWN);
        out.push("…".into());
    }
    out
}

/// A step's parameters in a line: `NAME VALUE, ...`, long values left out.
fn params_line(step: &Step) -> String {
    let Value::Object(fields) = params(step) else {
        return String::new();
    };
    fields
        .iter()
        .map(|(name, value)| match shown(value) {
            Some(text) => format!("{name} {text}"),
            None => format!("{name} …"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value as compact JSON, unless it is too long to read in a line or is a
/// policy document.
fn shown(value: &Value) -> Option<String> {
    let text = value.to_string();
    (text.chars().count() <= 100 && !text.contains("Statement")).then_some(text)
}

/// `LABEL: file X, planned Y`, or `LABEL differs` when either value is not
/// [`shown`].
fn value_difference(label: &str, saved: Option<&Value>, planned: Option<&Value>) -> String {
    let text = |value: Option<&Value>| value.map_or_else(|| Some("absent".to_string()), shown);
    match (text(saved), text(planned)) {
        (Some(a), Some(b)) => format!("{label}: file {a}, planned {b}"),
        _ => format!("{label} differs"),
    }
}

/// Writes a sealed plan atomically (the file is whole or absent, fsynced).
pub fn write(path: &Path, plan: &Plan) -> Result<(), SavedPlanError> {
    let io = |source| SavedPlanError::Io {
        path: path.to_path_buf(),
        source,
    };
    rolecall_model::user_file::write_with(path, |file| super::render::write_saved_json(plan, file))
        .map_err(io)
}

/// A plan without what `plan --out` records, which `apply FILE` needs.
fn not_sealed(path: &Path) -> SavedPlanError {
    SavedPlanError::Invalid {
        path: path.to_path_buf(),
        message: "it does not hold the account, fingerprints and desired state it was planned from: save plans with `rolecall plan --out FILE`".into(),
    }
}

/// Reads a saved plan, checking it is one rolecall can apply.
pub fn read(path: &Path) -> Result<Plan, SavedPlanError> {
    let text = rolecall_model::user_file::read_regular_file(path).map_err(|source| {
        SavedPlanError::Io {
            path: path.to_path_buf(),
            source,
        }
    })?;
    let invalid = |message: String| SavedPlanError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let sealed =
        |plan: &Plan| plan.account_id.is_some() && plan.desired.is_some() && plan.options.is_some();
    let plan = match read_as_written(&text) {
        // The file is what rolecall writes for the plan it holds: nothing
        // added, missing or written otherwise.
        Some(plan) => {
            drop(text);
            if !sealed(&plan) {
                return Err(not_sealed(path));
            }
            plan
        }
        // Otherwise, read as a JSON tree first, to say where it differs. A
        // tree of a large plan takes several times the file's size (a plan
        // of 100,000 roles, 853 million bytes, took 7 GB this way).
        None => {
            let file: Value = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
            drop(text);
            let mut plan = Plan::deserialize(&file).map_err(|e| invalid(e.to_string()))?;
            if plan.format_version != FORMAT_VERSION {
                return Err(invalid(format!(
                    "format_version {} is not supported (this rolecall reads {FORMAT_VERSION})",
                    plan.format_version
                )));
            }
            if !sealed(&plan) {
                return Err(not_sealed(path));
            }
            if let Some(difference) = not_as_written(&file, &mut plan) {
                return Err(invalid(difference));
            }
            plan
        }
    };
    // Manifests may no longer name an instance like an instance id (one
    // key for two instances): a plan saved before, or edited, may still.
    if let Some(name) = plan.desired.as_ref().and_then(instance_named_like_an_id) {
        return Err(invalid(format!(
            "it declares an instance named `{name}`, which has the form of an instance id and could be taken for the instance of that id: plan again from manifests that declare it by `id: {name}`, or give it another Name"
        )));
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

/// The first instance `desired` selects by a Name shaped like an id.
fn instance_named_like_an_id(desired: &Desired) -> Option<&str> {
    desired
        .instances
        .iter()
        .find_map(|spec| match &spec.selector {
            rolecall_model::InstanceSelector::Name(name)
                if rolecall_model::key::is_instance_id(name) =>
            {
                Some(name.as_str())
            }
            _ => None,
        })
}

/// The plan `text` holds, if `text` is exactly what rolecall writes for
/// that plan ([`super::render::write_saved_json`]), as a file saved by
/// `plan --out` and left alone is: read straight into the plan and
/// compared byte for byte as it is written again, with no JSON tree.
fn read_as_written(text: &str) -> Option<Plan> {
    let mut plan: Plan = serde_json::from_str(text).ok()?;
    if plan.format_version != FORMAT_VERSION {
        return None;
    }
    let mut rest = text.as_bytes();
    let mut same = SameAs(&mut rest);
    super::render::write_saved_json(&plan, &mut same).ok()?;
    if !rest.is_empty() {
        return None;
    }
    // Views read from a tree are compact JSON, as the plan computed again
    // has them; read from the text, they hold its layout.
    for change in &mut plan.changes {
        for view in [&mut change.before, &mut change.after]
            .into_iter()
            .flatten()
        {
            *view = View::of(&*view)?;
        }
    }
    Some(plan)
}

/// A writer that takes only what `.0` starts with, consuming it: any other
/// byte is an error.
struct SameAs<'a, 'b>(&'a mut &'b [u8]);

impl std::io::Write for SameAs<'_, '_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self.0.strip_prefix(bytes) {
            Some(rest) => {
                *self.0 = rest;
                Ok(bytes.len())
            }
            None => Err(std::io::Error::other("written otherwise")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where the file differs from the plan as rolecall writes it, if it does:
/// a field rolecall does not write (a `PolicyArn` added to a step's params),
/// one it writes missing, or a value written otherwise. Serde ignores
/// unknown fields and fills in defaults, so a file can hold what no check
/// after reading would see; comparing it with the plan serialised again
/// (object keys in any order) sees everything.
fn not_as_written(file: &Value, plan: &mut Plan) -> Option<String> {
    let Value::Object(file) = file else {
        return Some("it is not a JSON object".into());
    };
    // Steps and changes are compared one entry at a time: the whole plan as
    // a second JSON tree would double the memory a large plan takes.
    let steps = std::mem::take(&mut plan.steps);
    let changes = std::mem::take(&mut plan.changes);
    let rest = serde_json::to_value(&*plan);
    plan.steps = steps;
    plan.changes = changes;
    let rest = match rest {
        Ok(Value::Object(rest)) => rest,
        Ok(_) => return Some("it cannot be written back as a plan".into()),
        Err(e) => return Some(format!("it cannot be written back as a plan: {e}")),
    };
    for (key, value) in file {
        let found = match key.as_str() {
            "steps" => list_difference(key, value, &plan.steps),
            "changes" => list_difference(key, value, &plan.changes),
            _ => difference(key, Some(value), rest.get(key)),
        };
        if found.is_some() {
            return found;
        }
    }
    rest.iter()
        .find(|(key, _)| !file.contains_key(*key))
        .and_then(|(key, value)| difference(key, None, Some(value)))
}

/// [`difference`] for each entry of a list the plan was read from.
fn list_difference<T: Serialize>(label: &str, file: &Value, list: &[T]) -> Option<String> {
    let Value::Array(entries) = file else {
        return Some(format!("`{label}` is not a list"));
    };
    // As many entries as the plan read from them.
    entries
        .iter()
        .zip(list)
        .enumerate()
        .find_map(|(n, (entry, item))| {
            let written = serde_json::to_value(item).ok();
            difference(&format!("{label}[{n}]"), Some(entry), written.as_ref())
        })
}

/// The first place, as a path (`steps[0].params.PolicyArn`), where the
/// file's value differs from the value rolecall writes, and how.
fn difference(path: &str, file: Option<&Value>, written: Option<&Value>) -> Option<String> {
    if file == written {
        return None;
    }
    match (file, written) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => a
            .iter()
            .find_map(|(key, value)| difference(&format!("{path}.{key}"), Some(value), b.get(key)))
            .or_else(|| {
                b.iter()
                    .find(|(key, _)| !a.contains_key(*key))
                    .and_then(|(key, value)| {
                        difference(&format!("{path}.{key}"), None, Some(value))
                    })
            }),
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(n, (x, y))| difference(&format!("{path}[{n}]"), Some(x), Some(y))),
        (Some(_), None) => Some(format!("it holds `{path}`, which rolecall does not write")),
        (None, Some(_)) => Some(format!("it lacks `{path}`, which rolecall writes")),
        _ => Some(format!("`{path}` is not written as rolecall writes it")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rolecall_model::{
        InstanceProfile, InstanceSelector, InstanceSpec, Location, PolicyDocument, Role,
    };

    /// An empty emulated account (where declared instances are
    /// launched), and the options of a plan against it.
    fn empty_emulated_account() -> (Live, PlanOptions) {
        let live = Live {
            account_id: "123456789012".into(),
            partition: Some("aws".into()),
            ..Live::default()
        };
        let options = PlanOptions {
            force: false,
            launch_instances: true,
        };
        (live, options)
    }

    /// A saved plan whose desired state names an instance like an
    /// instance id (saved before manifests could not, or edited) is
    /// refused before anything is planned again, saying why.
    #[test]
    fn a_saved_plan_naming_an_instance_like_an_id_is_refused() {
        let (live, options) = empty_emulated_account();
        let dir = tempfile::tempdir().unwrap();
        for (name, refused) in [("web-1", false), ("i-0123456789abcdef0", true)] {
            let desired = Desired {
                stack: "s".into(),
                instances: vec![InstanceSpec {
                    selector: InstanceSelector::Name(name.into()),
                    profile: None,
                }],
                ..Desired::default()
            };
            let mut plan = crate::plan::plan(&desired, &live, options).unwrap();
            seal(&mut plan, &live, desired, options);
            let path = dir.path().join(format!("{name}.json"));
            write(&path, &plan).unwrap();
            match read(&path) {
                Err(SavedPlanError::Invalid { message, .. }) if refused => {
                    assert!(message.contains(&format!("`{name}`")), "{message}");
                }
                Ok(read) if !refused => assert_eq!(read, plan),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    /// The saved desired state must read back as exactly what was planned:
    /// `apply FILE` plans from it again.
    fn assert_round_trips(desired: &Desired) {
        let text = serde_json::to_string_pretty(desired).unwrap();
        let back: Desired = serde_json::from_str(&text).unwrap();
        assert_eq!(&back, desired);
        assert_eq!(serde_json::to_string_pretty(&back).unwrap(), text);
    }

    /// A saved plan left as `plan --out` wrote it is read without a JSON
    /// tree, and reads as the plan the tree gives (views compact); any
    /// other text (another layout, a field rolecall does not write, the
    /// end of the file changed) is left to the tree, which says where.
    #[test]
    fn a_plan_as_written_is_read_straight_and_as_the_tree_reads_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let loaded = crate::manifest::load(&[root.join("manifests")], &root).unwrap();
        let (live, options) = empty_emulated_account();
        let mut plan = crate::plan::plan(&loaded.desired, &live, options).unwrap();
        seal(&mut plan, &live, loaded.desired, options);
        let mut text = Vec::new();
        super::super::render::write_saved_json(&plan, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();

        let straight = read_as_written(&text).expect("read straight");
        let from_tree = Plan::deserialize(&serde_json::from_str::<Value>(&text).unwrap()).unwrap();
        assert!(straight.changes.iter().any(|c| c.after.is_some()));
        assert_eq!(straight, from_tree);
        assert_eq!(straight, plan);

        for edited in [
            text.replacen("\"stack\": ", "\"stack\":  ", 1),
            text.replacen("{\n", "{\n  \"extra\": 1,\n", 1),
            text.trim_end().to_string(),
            text.clone() + "\n",
        ] {
            assert_ne!(edited, text);
            assert!(read_as_written(&edited).is_none(), "{}", &edited[..200]);
        }
    }

    #[test]
    fn a_desired_state_round_trips_exactly() {
        // The sample stacks lie at the repository root, above this crate.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for dir in ["manifests", "tests/fixtures/stack", "examples/lab"] {
            let loaded = crate::manifest::load(&[root.join(dir)], &root).unwrap();
            assert!(loaded.desired.resource_count() > 0, "{dir}");
            assert_round_trips(&loaded.desired);
        }
        // What the sample stacks may not hold: instances by id and without a
        // profile, an empty description, a boundary, unusual numbers and text.
        let policy = PolicyDocument::from_value(json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                "Condition": {"NumericLessThan": {"s3:max-keys": [1.5, 10, -3]}}}]
        }));
        let role = Role {
            name: "ünïcode-\"quoted\"".into(),
            path: "/a/".into(),
            description: String::new(),
            trust: PolicyDocument::trusting_services(&["ec2.amazonaws.com"]),
            max_session_duration: 43200,
            permissions_boundary: Some("arn:aws:iam::123456789012:policy/b".into()),
            managed_policies: ["arn:aws:iam::aws:policy/ReadOnlyAccess".to_string()].into(),
            inline_policies: [("p".to_string(), policy)].into_iter().collect(),
            tags: [("k".to_string(), String::new())].into_iter().collect(),
        };
        let desired = Desired {
            stack: "s".into(),
            account_id: Some("123456789012".into()),
            partition: Some("aws".into()),
            stack_tags: [("owner".to_string(), "x".to_string())]
                .into_iter()
                .collect(),
            policies: Default::default(),
            roles: [(role.name.clone(), role)].into(),
            profiles: [(
                "p".to_string(),
                InstanceProfile {
                    name: "p".into(),
                    path: "/".into(),
                    role: None,
                    tags: Default::default(),
                },
            )]
            .into(),
            instances: vec![
                InstanceSpec {
                    selector: InstanceSelector::Id("i-0123456789abcdef0".into()),
                    profile: None,
                },
                InstanceSpec {
                    selector: InstanceSelector::Name("web-1".into()),
                    profile: Some("p".into()),
                },
            ],
            locations: [(
                "instance-profile/p".to_string(),
                Location {
                    file: "a b/c.yaml".into(),
                    line: 3,
                    column: 1,
                },
            )]
            .into(),
        };
        assert_round_trips(&desired);
    }

    #[test]
    fn differences_name_the_value_and_never_print_a_policy_document() {
        let document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]});
        let mut edited = document.clone();
        edited["Statement"][0]["Effect"] = json!("Deny");
        let saved = json!({"trust": edited, "policy": edited.to_string(), "tags": {"team": "a"}});
        let planned =
            json!({"trust": document, "policy": document.to_string(), "tags": {"team": "b"}});
        assert_eq!(
            field_differences("after", &saved, &planned),
            [
                r#"after.trust.Statement[0].Effect: file "Deny", planned "Allow""#,
                "after.policy differs",
                r#"after.tags.team: file "a", planned "b""#,
            ]
        );
        // A long list of differences is cut short.
        let many = |v: u8| {
            json!(
                (0..10)
                    .map(|n| (n.to_string(), v))
                    .collect::<BTreeMap<_, _>>()
            )
        };
        let lines = field_differences("x", &many(1), &many(2));
        assert_eq!(lines.len(), FIELDS_SHOWN + 1);
        assert_eq!(lines.last().map(String::as_str), Some("…"));
    }
}
