//! The whole account as YAML: sorted and deterministic, so a lab can be
//! committed to git and recreated exactly (import then export is byte-identical).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use super::ec2::parse_state;
use super::iam::policy_exists;
use super::store::{self, INSTANCE_TAGS, PROFILE_TAGS, ROLE_TAGS};
use super::validate::KeyCase;
use super::{EmulatorError, Faults, Quotas};
use crate::cloud::iam::Tag;
use crate::model::PolicyDocument;

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
    #[serde(default)]
    pub roles: Vec<RoleExport>,
    #[serde(default)]
    pub instance_profiles: Vec<InstanceProfileExport>,
    #[serde(default)]
    pub instances: Vec<InstanceExport>,
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
    tags.into_iter().map(|t| (t.key, t.value)).collect()
}

fn tag_list(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::new(k, v)).collect()
}

/// Reads the whole account, every list sorted.
pub fn read(db: &Connection) -> rusqlite::Result<AccountExport> {
    let settings = store::read_settings(db)?;
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
        roles,
        instance_profiles,
        instances,
    })
}

pub fn to_yaml(account: &AccountExport) -> Result<String, EmulatorError> {
    serde_saphyr::to_string(account).map_err(|e| EmulatorError::Yaml(e.to_string()))
}

pub fn from_yaml(text: &str) -> Result<AccountExport, String> {
    serde_saphyr::from_str(text).map_err(|e| e.to_string())
}

/// Writes `text` to `file` atomically: readers see the old file or the new one.
pub fn write_file(file: &Path, text: &str) -> Result<(), EmulatorError> {
    let io = |source| EmulatorError::Io {
        path: file.to_path_buf(),
        source,
    };
    let mut out = atomic_write_file::AtomicWriteFile::open(file).map_err(io)?;
    out.write_all(text.as_bytes()).map_err(io)?;
    out.commit().map_err(io)
}

/// An export checked and ready to write: documents canonicalised.
pub struct Prepared<'a> {
    account: &'a AccountExport,
    /// Per role: canonical trust, and per inline policy (canonical, size).
    trust: Vec<String>,
    inline: Vec<Vec<(String, usize)>>,
}

fn canonical(text: &str, what: &str) -> Result<String, String> {
    PolicyDocument::parse(text)
        .map(|d| d.to_json())
        .map_err(|e| format!("{what}: {e}"))
}

/// Checks what the database alone would not (documents, references, states).
pub fn prepare(account: &AccountExport) -> Result<Prepared<'_>, String> {
    if account.format_version != FORMAT_VERSION {
        return Err(format!(
            "format_version {} is not supported (expected {FORMAT_VERSION})",
            account.format_version
        ));
    }
    let mut trust = Vec::with_capacity(account.roles.len());
    let mut inline = Vec::with_capacity(account.roles.len());
    let mut names = std::collections::HashSet::new();
    for role in &account.roles {
        if !names.insert(role.name.to_ascii_lowercase()) {
            return Err(format!(
                "role {} appears twice (names ignore case)",
                role.name
            ));
        }
        trust.push(canonical(
            &role.assume_role_policy_document,
            &format!("role {}: trust policy", role.name),
        )?);
        let mut docs = Vec::new();
        for (name, text) in &role.inline_policies {
            let doc = super::validate::document(text, "policyDocument", false).map_err(|_| {
                format!(
                    "role {}: inline policy {name} is not a valid policy",
                    role.name
                )
            })?;
            docs.push((doc.canonical, doc.size));
        }
        inline.push(docs);
        for arn in role
            .managed_policies
            .iter()
            .chain(&role.permissions_boundary)
        {
            if !policy_exists(arn) {
                return Err(format!("role {}: policy {arn} does not exist", role.name));
            }
        }
    }
    for profile in &account.instance_profiles {
        if let Some(role) = &profile.role
            && !names.contains(&role.to_ascii_lowercase())
        {
            return Err(format!(
                "instance profile {}: role {role} is not in the export",
                profile.name
            ));
        }
    }
    for instance in &account.instances {
        if parse_state(&instance.state).as_str() != instance.state {
            return Err(format!(
                "instance {}: unknown state {:?}",
                instance.instance_id, instance.state
            ));
        }
    }
    Ok(Prepared {
        account,
        trust,
        inline,
    })
}

/// Replaces every resource of the account with the export (caller holds the transaction).
pub fn write(db: &Connection, prepared: &Prepared) -> rusqlite::Result<()> {
    let account = prepared.account;
    store::clear(db)?;
    db.execute(
        "UPDATE account SET account_id = ?1 WHERE id = 1",
        [&account.account_id],
    )?;
    store::write_faults(db, &account.faults)?;
    store::write_quotas(db, &account.quotas)?;

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
