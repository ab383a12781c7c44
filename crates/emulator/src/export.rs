//! The whole account as YAML: sorted and deterministic, so a lab can be
//! committed to git and recreated exactly (import then export is byte-identical).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use super::ec2::{self, parse_state};
use super::iam;
use super::policies;
use super::store::{self, INSTANCE_TAGS, POLICY_TAGS, PROFILE_TAGS, ROLE_TAGS};
use super::validate::{self, KeyCase};
use super::{EmulatorError, Faults, OpError, OpResult, Quotas, ids};
use rolecall_cloud::iam::Tag;
use rolecall_model::InstanceState;

/// Version of the export format.
pub const FORMAT_VERSION: u32 = 1;

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// An emulated account, whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountExport {
    pub format_version: u32,
    pub account_id: String,
    #[serde(default)]
    pub quotas: Quotas,
    #[serde(default)]
    pub faults: Faults,
    /// Customer-managed policies (an account without any exports none of
    /// this key, so its export reads as before they existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyExport>,
    #[serde(default)]
    pub roles: Vec<RoleExport>,
    #[serde(default)]
    pub instance_profiles: Vec<InstanceProfileExport>,
    #[serde(default)]
    pub instances: Vec<InstanceExport>,
}

/// A customer-managed policy with every version it keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyExport {
    pub name: String,
    pub path: String,
    pub policy_id: String,
    pub arn: String,
    pub create_date: String,
    pub update_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The version in effect (`v3`), one of `versions`.
    pub default_version: String,
    /// The id the next version gets (`v6`): IAM never reuses a number, so
    /// a deleted version's is not handed out again after an import either.
    pub next_version: String,
    /// Oldest first.
    pub versions: Vec<PolicyVersionExport>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyVersionExport {
    pub version_id: String,
    pub create_date: String,
    /// As it was given (GetPolicyVersion returns documents as submitted).
    pub document: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleExport {
    pub name: String,
    pub path: String,
    pub role_id: String,
    pub arn: String,
    pub create_date: String,
    /// As it was given (IAM returns documents as submitted).
    pub assume_role_policy_document: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub max_session_duration: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed_policies: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inline_policies: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceProfileExport {
    pub name: String,
    pub path: String,
    pub instance_profile_id: String,
    pub arn: String,
    pub create_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// When EC2 sees the profile (propagation delay), ms since the epoch.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub visible_at_ms: i64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceExport {
    pub instance_id: String,
    pub reservation_id: String,
    pub image_id: String,
    pub instance_type: String,
    pub launch_time: String,
    pub state: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association: Option<AssociationExport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssociationExport {
    pub association_id: String,
    pub profile_arn: String,
    pub profile_id: String,
    pub timestamp: String,
    /// When the association leaves `associating`, ms since the epoch.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ready_at_ms: i64,
}

fn tag_map(tags: Vec<Tag>) -> BTreeMap<String, String> {
    tags.into_iter()
        .map(|t| (t.key.to_string(), t.value.to_string()))
        .collect()
}

fn tag_list(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::new(k, v)).collect()
}

/// Reads the whole account, every list sorted.
pub fn read(db: &Connection) -> rusqlite::Result<AccountExport> {
    let settings = store::read_settings(db)?;
    let policies = read_policies(db)?;
    let mut role_names: HashMap<i64, String> = HashMap::new();
    let mut roles = Vec::new();
    let mut stmt = db.prepare(
        "SELECT id, name, path, role_id, arn, create_date,
                (SELECT text FROM documents WHERE id = roles.trust), description,
                max_session_duration, boundary
         FROM roles ORDER BY name COLLATE BINARY",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let name: String = r.get(1)?;
        role_names.insert(id, name.clone());
        let mut managed = Vec::new();
        let mut m =
            db.prepare_cached("SELECT arn FROM role_managed WHERE role = ?1 ORDER BY arn")?;
        for arn in m.query_map([id], |r| r.get(0))? {
            managed.push(arn?);
        }
        let mut inline = BTreeMap::new();
        let mut p = db.prepare_cached(
            "SELECT p.name, d.text FROM role_policies p JOIN documents d ON d.id = p.document
             WHERE p.role = ?1",
        )?;
        for pair in p.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))? {
            let (k, v) = pair?;
            inline.insert(k, v);
        }
        roles.push(RoleExport {
            name,
            path: r.get(2)?,
            role_id: r.get(3)?,
            arn: r.get(4)?,
            create_date: r.get(5)?,
            assume_role_policy_document: r.get(6)?,
            description: r.get(7)?,
            max_session_duration: r.get(8)?,
            permissions_boundary: r.get(9)?,
            managed_policies: managed,
            inline_policies: inline,
            tags: tag_map(ROLE_TAGS.of(db, id)?),
        });
    }
    drop(rows);
    drop(stmt);

    let mut instance_profiles = Vec::new();
    let mut stmt = db.prepare(
        "SELECT id, name, path, profile_id, arn, create_date, role, visible_at_ms
         FROM profiles ORDER BY name COLLATE BINARY",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let role: Option<i64> = r.get(6)?;
        instance_profiles.push(InstanceProfileExport {
            name: r.get(1)?,
            path: r.get(2)?,
            instance_profile_id: r.get(3)?,
            arn: r.get(4)?,
            create_date: r.get(5)?,
            role: role.and_then(|id| role_names.get(&id).cloned()),
            visible_at_ms: r.get(7)?,
            tags: tag_map(PROFILE_TAGS.of(db, id)?),
        });
    }
    drop(rows);
    drop(stmt);

    let mut instances = Vec::new();
    let mut stmt = db.prepare(
        "SELECT i.id, i.instance_id, i.reservation_id, i.image_id, i.instance_type, i.launch_time,
                i.state, a.association_id, a.profile_arn, a.profile_id, a.timestamp, a.ready_at_ms
         FROM instances i LEFT JOIN associations a ON a.instance = i.id
         ORDER BY i.instance_id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let association_id: Option<String> = r.get(7)?;
        let association = match association_id {
            Some(association_id) => Some(AssociationExport {
                association_id,
                profile_arn: r.get(8)?,
                profile_id: r.get(9)?,
                timestamp: r.get(10)?,
                ready_at_ms: r.get(11)?,
            }),
            None => None,
        };
        instances.push(InstanceExport {
            instance_id: r.get(1)?,
            reservation_id: r.get(2)?,
            image_id: r.get(3)?,
            instance_type: r.get(4)?,
            launch_time: r.get(5)?,
            state: r.get(6)?,
            tags: tag_map(INSTANCE_TAGS.of(db, id)?),
            association,
        });
    }
    drop(rows);
    drop(stmt);

    Ok(AccountExport {
        format_version: FORMAT_VERSION,
        account_id: settings.account_id,
        quotas: settings.quotas,
        faults: settings.faults,
        policies,
        roles,
        instance_profiles,
        instances,
    })
}

/// The account's customer-managed policies, by name, each version oldest
/// first (none in an account of an older schema).
fn read_policies(db: &Connection) -> rusqlite::Result<Vec<PolicyExport>> {
    if !store::has_policies(db)? {
        return Ok(Vec::new());
    }
    let mut policies = Vec::new();
    let mut stmt = db.prepare(
        "SELECT id, name, path, policy_id, arn, create_date, update_date, description,
                default_version, next_version
         FROM policies ORDER BY name COLLATE BINARY",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let mut versions = Vec::new();
        let mut v = db.prepare_cached(
            "SELECT v.version, v.create_date, d.text
             FROM policy_versions v JOIN documents d ON d.id = v.document
             WHERE v.policy = ?1 ORDER BY v.version",
        )?;
        for version in v.query_map([id], |r| {
            Ok(PolicyVersionExport {
                version_id: policies::version_id(r.get(0)?),
                create_date: r.get(1)?,
                document: r.get(2)?,
            })
        })? {
            versions.push(version?);
        }
        policies.push(PolicyExport {
            name: r.get(1)?,
            path: r.get(2)?,
            policy_id: r.get(3)?,
            arn: r.get(4)?,
            create_date: r.get(5)?,
            update_date: r.get(6)?,
            description: r.get(7)?,
            default_version: policies::version_id(r.get(8)?),
            next_version: policies::version_id(r.get(9)?),
            versions,
            tags: tag_map(POLICY_TAGS.of(db, id)?),
        });
    }
    Ok(policies)
}

pub fn to_yaml(account: &AccountExport) -> Result<String, EmulatorError> {
    serde_saphyr::to_string(account).map_err(|e| EmulatorError::Yaml(e.to_string()))
}

/// Reads an export. An error is the parser's own message at its place
/// (`line 3, column 5: ...`): the caller names the file. serde-saphyr's
/// `Display` would add an `error:` of its own and the quoted lines.
pub fn from_yaml(text: &str) -> Result<AccountExport, String> {
    use serde_saphyr::MessageFormatter;
    serde_saphyr::from_str(text).map_err(|error| {
        let message = serde_saphyr::UserMessageFormatter.format_message(&error);
        match error.location().filter(|at| at.line() > 0) {
            Some(at) => format!("line {}, column {}: {message}", at.line(), at.column()),
            None => message.into_owned(),
        }
    })
}

/// Writes `text` to `file` atomically: readers see the old file or the new one.
pub fn write_file(file: &Path, text: &str) -> Result<(), EmulatorError> {
    let io = |source| EmulatorError::Io {
        path: file.to_path_buf(),
        source,
    };
    rolecall_model::user_file::write(file, text.as_bytes()).map_err(io)
}

/// An export checked and ready to write: documents canonicalised.
pub struct Prepared {
    pub account: AccountExport,
    /// Per policy: each version's number and canonical document.
    policy_versions: Vec<Vec<(i64, String)>>,
    /// Per role: canonical trust, and per inline policy (canonical, size).
    trust: Vec<String>,
    inline: Vec<Vec<(String, usize)>>,
}

/// A problem found in one entry of the export: `role web: ValidationError: …`.
fn in_entry<T>(entry: &str, result: OpResult<T>) -> Result<T, String> {
    result.map_err(|error| match error {
        OpError::Aws(code, message) | OpError::NotYetVisible(code, message) => {
            format!("{entry}: {code}: {message}")
        }
        OpError::Db(error) => format!("{entry}: {error}"),
    })
}

/// The first value equal to an earlier one (compared as `key` makes them), if any.
fn first_repeat<'a>(
    values: impl IntoIterator<Item = &'a str>,
    key: impl Fn(&str) -> String,
) -> Option<&'a str> {
    let mut seen = HashSet::new();
    values.into_iter().find(|value| !seen.insert(key(value)))
}

fn check_timestamp(entry: &str, field: &str, text: &str) -> Result<(), String> {
    text.parse::<jiff::Timestamp>()
        .map(|_| ())
        .map_err(|_| format!("{entry}: {field} {text:?} is not an ISO 8601 timestamp"))
}

/// Checks an export with the rules the API enforces, so an import never
/// holds what no sequence of calls could have made, and the database's own
/// constraints never fire. Returns the first problem, naming its entry.
pub fn prepare(account: AccountExport) -> Result<Prepared, String> {
    if account.format_version != FORMAT_VERSION {
        return Err(format!(
            "format_version {} is not supported (expected {FORMAT_VERSION})",
            account.format_version
        ));
    }
    let account_id = account.account_id.as_str();
    if !rolecall_model::is_account_id(account_id) {
        return Err(format!("account_id {account_id:?} is not 12 digits"));
    }
    if !(0.0..=1.0).contains(&account.faults.throttle_rate) {
        return Err(format!(
            "faults: throttle_rate {} is not between 0 and 1",
            account.faults.throttle_rate
        ));
    }
    // The account quotas (roles, profiles) are not checked: the API checks
    // them only on create, so an account can hold more than its quota
    // (`configure --max-roles` lowered below the count, or `stress`, which
    // lifts them for its own process), and its export must still import.

    let mut policy_versions = Vec::with_capacity(account.policies.len());
    for policy in &account.policies {
        policy_versions.push(check_policy(account_id, policy)?);
    }
    let names = account.policies.iter().map(|p| p.name.as_str());
    if let Some(name) = first_repeat(names, str::to_ascii_lowercase) {
        return Err(format!("policy {name}: appears twice (names ignore case)"));
    }
    let policy_ids = account.policies.iter().map(|p| p.policy_id.as_str());
    if let Some(id) = first_repeat(policy_ids, str::to_string) {
        return Err(format!("policy_id {id} appears twice"));
    }
    let policy_arns: HashSet<&str> = account.policies.iter().map(|p| p.arn.as_str()).collect();
    let holds = |arn: &str| -> OpResult<bool> { Ok(policy_arns.contains(arn)) };

    let mut trust = Vec::with_capacity(account.roles.len());
    let mut inline = Vec::with_capacity(account.roles.len());
    for role in &account.roles {
        let (canonical_trust, docs) = check_role(account_id, role, &holds)?;
        trust.push(canonical_trust);
        inline.push(docs);
    }
    let names = account.roles.iter().map(|r| r.name.as_str());
    if let Some(name) = first_repeat(names, str::to_ascii_lowercase) {
        return Err(format!("role {name}: appears twice (names ignore case)"));
    }
    if let Some(id) = first_repeat(
        account.roles.iter().map(|r| r.role_id.as_str()),
        str::to_string,
    ) {
        return Err(format!("role_id {id} appears twice"));
    }
    let role_names: HashSet<String> = account
        .roles
        .iter()
        .map(|r| r.name.to_ascii_lowercase())
        .collect();

    for profile in &account.instance_profiles {
        check_profile(account_id, profile, &role_names)?;
    }
    let names = account.instance_profiles.iter().map(|p| p.name.as_str());
    if let Some(name) = first_repeat(names, str::to_ascii_lowercase) {
        return Err(format!(
            "instance profile {name}: appears twice (names ignore case)"
        ));
    }
    let profile_ids = account
        .instance_profiles
        .iter()
        .map(|p| p.instance_profile_id.as_str());
    if let Some(id) = first_repeat(profile_ids, str::to_string) {
        return Err(format!("instance_profile_id {id} appears twice"));
    }

    for instance in &account.instances {
        check_instance(instance)?;
    }
    let instance_ids = account.instances.iter().map(|i| i.instance_id.as_str());
    if let Some(id) = first_repeat(instance_ids, str::to_string) {
        return Err(format!("instance {id}: appears twice"));
    }
    let association_ids = account
        .instances
        .iter()
        .filter_map(|i| i.association.as_ref())
        .map(|a| a.association_id.as_str());
    if let Some(id) = first_repeat(association_ids, str::to_string) {
        return Err(format!("association {id}: appears twice"));
    }
    Ok(Prepared {
        account,
        policy_versions,
        trust,
        inline,
    })
}

/// One role, as CreateRole, PutRolePolicy, AttachRolePolicy and TagRole would
/// have checked it; returns its canonical trust and its inline policies.
/// An IAM entity's unique id (`(field, value, prefix)`) has IAM's shape and
/// its ARN is the one its name, path and account make.
fn check_identity(
    entry: &str,
    (field, id, prefix): (&str, &str, &str),
    arn: &str,
    expected_arn: &str,
) -> Result<(), String> {
    if !ids::is_unique_id(id, prefix) {
        return Err(format!(
            "{entry}: {field} {id} is not {prefix} and 17 letters or digits"
        ));
    }
    if arn != expected_arn {
        return Err(format!(
            "{entry}: arn {arn} does not match the name, path and account id (expected {expected_arn})"
        ));
    }
    Ok(())
}

/// One customer-managed policy, as CreatePolicy, CreatePolicyVersion and
/// TagPolicy would have checked it; returns each version's number and
/// canonical document.
fn check_policy(account_id: &str, policy: &PolicyExport) -> Result<Vec<(i64, String)>, String> {
    let entry = format!("policy {}", policy.name);
    in_entry(&entry, validate::policy_name(&policy.name))?;
    in_entry(&entry, validate::policy_path(&policy.path, "path"))?;
    check_identity(
        &entry,
        ("policy_id", &policy.policy_id, "ANPA"),
        &policy.arn,
        &ids::policy_arn(account_id, &policy.path, &policy.name),
    )?;
    check_timestamp(&entry, "create_date", &policy.create_date)?;
    check_timestamp(&entry, "update_date", &policy.update_date)?;
    if let Some(description) = &policy.description {
        in_entry(&entry, validate::policy_description(description))?;
    }
    in_entry(&entry, validate::policy_tags(&tag_list(&policy.tags)))?;
    let number = |field: &str, id: &str| {
        policies::version_number_of(id)
            .filter(|n| *n >= 1 && policies::version_id(*n) == id)
            .ok_or_else(|| format!("{entry}: {field} {id:?} is not a version id (v1, v2, ...)"))
    };
    let next = number("next_version", &policy.next_version)?;
    if policy.versions.is_empty() || policy.versions.len() > validate::MAX_POLICY_VERSIONS {
        return Err(format!(
            "{entry}: has {} versions (a policy keeps 1 to {})",
            policy.versions.len(),
            validate::MAX_POLICY_VERSIONS
        ));
    }
    let mut versions: Vec<(i64, String)> = Vec::with_capacity(policy.versions.len());
    for version in &policy.versions {
        let n = number("version_id", &version.version_id)?;
        let version_entry = format!("{entry}: version {}", version.version_id);
        if n >= next {
            return Err(format!(
                "{version_entry}: not before next_version {}",
                policy.next_version
            ));
        }
        if versions.iter().any(|(seen, _)| *seen == n) {
            return Err(format!("{version_entry}: appears twice"));
        }
        check_timestamp(&version_entry, "create_date", &version.create_date)?;
        let document = in_entry(
            &version_entry,
            validate::managed_document(&version.document),
        )?;
        versions.push((n, document.canonical));
    }
    let default = number("default_version", &policy.default_version)?;
    if !versions.iter().any(|(n, _)| *n == default) {
        return Err(format!(
            "{entry}: default_version {} is not one of its versions",
            policy.default_version
        ));
    }
    Ok(versions)
}

fn check_role(
    account_id: &str,
    role: &RoleExport,
    holds: iam::Holds,
) -> Result<(String, Vec<(String, usize)>), String> {
    let entry = format!("role {}", role.name);
    in_entry(&entry, validate::role_name(&role.name))?;
    in_entry(&entry, validate::path(&role.path))?;
    check_identity(
        &entry,
        ("role_id", &role.role_id, "AROA"),
        &role.arn,
        &ids::role_arn(account_id, &role.path, &role.name),
    )?;
    check_timestamp(&entry, "create_date", &role.create_date)?;
    // Grammar and size only: a principal naming a role that was deleted
    // since is fine in an account, so it is fine in an export.
    let trust = in_entry(
        &entry,
        validate::document(
            &role.assume_role_policy_document,
            "assumeRolePolicyDocument",
            true,
        ),
    )?;
    in_entry(&entry, iam::check_trust_size(&trust))?;
    if let Some(description) = &role.description {
        in_entry(&entry, validate::description(description))?;
    }
    in_entry(
        &entry,
        validate::max_session_duration(role.max_session_duration),
    )?;
    if let Some(boundary) = &role.permissions_boundary {
        in_entry(&entry, iam::check_boundary(boundary, holds))?;
    }
    for arn in &role.managed_policies {
        in_entry(&entry, validate::policy_arn(arn, "policyArn"))?;
        in_entry(&entry, iam::check_attachable(arn, holds))?;
    }
    if let Some(arn) = first_repeat(
        role.managed_policies.iter().map(String::as_str),
        str::to_string,
    ) {
        return Err(format!("{entry}: managed policy {arn} appears twice"));
    }
    in_entry(
        &entry,
        iam::check_managed_count(role.managed_policies.len()),
    )?;
    let mut docs = Vec::with_capacity(role.inline_policies.len());
    for (name, text) in &role.inline_policies {
        let policy_entry = format!("{entry}: inline policy {name}");
        in_entry(&policy_entry, validate::policy_name(name))?;
        let doc = in_entry(
            &policy_entry,
            validate::document(text, "policyDocument", false),
        )?;
        docs.push((doc.canonical, doc.size));
    }
    let total = docs.iter().map(|(_, size)| size).sum();
    in_entry(&entry, iam::check_inline_size(total, &role.name))?;
    in_entry(
        &entry,
        validate::tags(&tag_list(&role.tags), KeyCase::Insensitive),
    )?;
    Ok((trust.canonical, docs))
}

fn check_profile(
    account_id: &str,
    profile: &InstanceProfileExport,
    role_names: &HashSet<String>,
) -> Result<(), String> {
    let entry = format!("instance profile {}", profile.name);
    in_entry(&entry, validate::instance_profile_name(&profile.name))?;
    in_entry(&entry, validate::path(&profile.path))?;
    check_identity(
        &entry,
        ("instance_profile_id", &profile.instance_profile_id, "AIPA"),
        &profile.arn,
        &ids::instance_profile_arn(account_id, &profile.path, &profile.name),
    )?;
    check_timestamp(&entry, "create_date", &profile.create_date)?;
    if let Some(role) = &profile.role
        && !role_names.contains(&role.to_ascii_lowercase())
    {
        return Err(format!("{entry}: role {role} is not in the export"));
    }
    in_entry(
        &entry,
        validate::tags(&tag_list(&profile.tags), KeyCase::Sensitive),
    )
}

fn check_instance(instance: &InstanceExport) -> Result<(), String> {
    let entry = format!("instance {}", instance.instance_id);
    if !ids::is_ec2_id(&instance.instance_id, "i-") {
        return Err(format!(
            "{entry}: not an instance id (i- and 8 or 17 hex digits)"
        ));
    }
    if !ids::is_ec2_id(&instance.reservation_id, "r-") {
        return Err(format!(
            "{entry}: reservation_id {} is not r- and 8 or 17 hex digits",
            instance.reservation_id
        ));
    }
    check_timestamp(&entry, "launch_time", &instance.launch_time)?;
    let state = parse_state(&instance.state);
    if state.as_str() != instance.state {
        return Err(format!("{entry}: unknown state {:?}", instance.state));
    }
    in_entry(&entry, ec2::check_instance_tags(&tag_list(&instance.tags)))?;
    if let Some(association) = &instance.association {
        let entry = format!("{entry}: association {}", association.association_id);
        if !ids::is_ec2_id(&association.association_id, "iip-assoc-") {
            return Err(format!(
                "{entry}: not an association id (iip-assoc- and 8 or 17 hex digits)"
            ));
        }
        if state == InstanceState::Terminated {
            return Err(format!("{entry}: a terminated instance has no association"));
        }
        // The profile may be gone: EC2 keeps an association to a deleted profile.
        let in_partition =
            rolecall_model::Arn::parse(&association.profile_arn).is_some_and(|arn| {
                arn.partition == ids::PARTITION && arn.service == "iam" && arn.region.is_empty()
            });
        if !in_partition || !association.profile_arn.contains(":instance-profile/") {
            return Err(format!(
                "{entry}: profile_arn {} is not an instance-profile ARN",
                association.profile_arn
            ));
        }
        if !ids::is_unique_id(&association.profile_id, "AIPA") {
            return Err(format!(
                "{entry}: profile_id {} is not AIPA and 17 letters or digits",
                association.profile_id
            ));
        }
        check_timestamp(&entry, "timestamp", &association.timestamp)?;
    }
    Ok(())
}

/// Replaces every resource of the account with the export (caller holds the transaction).
pub fn write(db: &Connection, prepared: &Prepared) -> rusqlite::Result<()> {
    let account = &prepared.account;
    store::clear(db)?;
    db.execute(
        "UPDATE account SET account_id = ?1 WHERE id = 1",
        [&account.account_id],
    )?;
    store::write_faults(db, &account.faults)?;
    store::write_quotas(db, &account.quotas)?;

    write_policies(db, prepared)?;

    let mut role_ids: HashMap<String, i64> = HashMap::new();
    let mut insert_role = db.prepare(
        "INSERT INTO roles (name, path, role_id, arn, create_date, trust, trust_canonical,
                            description, max_session_duration, boundary)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut insert_policy = db.prepare(
        "INSERT INTO role_policies (role, name, document, canonical, size) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut insert_managed = db.prepare("INSERT INTO role_managed (role, arn) VALUES (?1, ?2)")?;
    for ((role, trust), inline) in account
        .roles
        .iter()
        .zip(&prepared.trust)
        .zip(&prepared.inline)
    {
        insert_role.execute(params![
            role.name,
            role.path,
            role.role_id,
            role.arn,
            role.create_date,
            store::document_id(db, &role.assume_role_policy_document)?,
            store::document_id(db, trust)?,
            role.description,
            role.max_session_duration,
            role.permissions_boundary,
        ])?;
        let id = db.last_insert_rowid();
        role_ids.insert(role.name.to_ascii_lowercase(), id);
        ROLE_TAGS.upsert(db, id, &tag_list(&role.tags), KeyCase::Insensitive)?;
        for ((name, text), (canonical, size)) in role.inline_policies.iter().zip(inline) {
            insert_policy.execute(params![
                id,
                name,
                store::document_id(db, text)?,
                store::document_id(db, canonical)?,
                *size as i64
            ])?;
        }
        for arn in &role.managed_policies {
            insert_managed.execute(params![id, arn])?;
        }
    }

    let mut insert_profile = db.prepare(
        "INSERT INTO profiles (name, path, profile_id, arn, create_date, role, visible_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for profile in &account.instance_profiles {
        let role = profile
            .role
            .as_ref()
            .and_then(|r| role_ids.get(&r.to_ascii_lowercase()));
        insert_profile.execute(params![
            profile.name,
            profile.path,
            profile.instance_profile_id,
            profile.arn,
            profile.create_date,
            role,
            profile.visible_at_ms,
        ])?;
        let id = db.last_insert_rowid();
        PROFILE_TAGS.upsert(db, id, &tag_list(&profile.tags), KeyCase::Sensitive)?;
    }

    let mut insert_instance = db.prepare(
        "INSERT INTO instances (instance_id, reservation_id, image_id, instance_type, launch_time, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut insert_association = db.prepare(
        "INSERT INTO associations (association_id, instance, profile_arn, profile_id, timestamp, ready_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for instance in &account.instances {
        insert_instance.execute(params![
            instance.instance_id,
            instance.reservation_id,
            instance.image_id,
            instance.instance_type,
            instance.launch_time,
            instance.state,
        ])?;
        let id = db.last_insert_rowid();
        INSTANCE_TAGS.upsert(db, id, &tag_list(&instance.tags), KeyCase::Sensitive)?;
        if let Some(a) = &instance.association {
            insert_association.execute(params![
                a.association_id,
                id,
                a.profile_arn,
                a.profile_id,
                a.timestamp,
                a.ready_at_ms,
            ])?;
        }
    }
    Ok(())
}

fn write_policies(db: &Connection, prepared: &Prepared) -> rusqlite::Result<()> {
    let mut insert_policy = db.prepare(
        "INSERT INTO policies (name, path, policy_id, arn, description, create_date, update_date,
                               default_version, next_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut insert_version = db.prepare(
        "INSERT INTO policy_versions (policy, version, document, canonical, create_date)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (policy, versions) in prepared
        .account
        .policies
        .iter()
        .zip(&prepared.policy_versions)
    {
        insert_policy.execute(params![
            policy.name,
            policy.path,
            policy.policy_id,
            policy.arn,
            policy.description,
            policy.create_date,
            policy.update_date,
            policies::version_number_of(&policy.default_version),
            policies::version_number_of(&policy.next_version),
        ])?;
        let id = db.last_insert_rowid();
        for (version, (n, canonical)) in policy.versions.iter().zip(versions) {
            insert_version.execute(params![
                id,
                n,
                store::document_id(db, &version.document)?,
                store::document_id(db, canonical)?,
                version.create_date,
            ])?;
        }
        POLICY_TAGS.upsert(db, id, &tag_list(&policy.tags), KeyCase::Sensitive)?;
    }
    Ok(())
}
