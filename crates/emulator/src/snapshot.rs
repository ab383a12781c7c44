//! The whole account as the planner sees it, read in one transaction.
//!
//! A handful of full-table scans joined in memory by row id: cheap enough for
//! 100,000 roles, profiles and instances. Documents are stored once each in
//! canonical form too, so identical ones (most roles trust the same service)
//! are read once.

use std::collections::{BTreeMap, HashMap};

use rusqlite::Connection;

use super::Quotas;
use super::ec2::{association_state, parse_state};
use super::ids::PARTITION;
use rolecall_model::{
    AccountQuotas, InstanceProfile, InstanceState, Live, LiveAssociation, LiveInstance,
    LiveInstanceProfile, LivePolicy, LiveRole, ManagedPolicy, PolicyDocument, Role, name_from_arn,
};

/// Resources in row-id order, found by row id while their children are
/// attached. Every query reads in row-id order (each child table's primary
/// key starts with its parent's id), so a lookup is almost always the row
/// looked up last or the next one: a cursor, with a binary search for the
/// rest, where a hash map would hash 1.3 million ids for a large account.
struct Rows<T> {
    items: Vec<T>,
    ids: Vec<i64>,
    cursor: usize,
}

impl<T> Rows<T> {
    fn new() -> Self {
        Rows {
            items: Vec::new(),
            ids: Vec::new(),
            cursor: 0,
        }
    }

    /// Adds the row of id `id`, which is larger than any added before
    /// (queries read parents `ORDER BY id`).
    fn push(&mut self, id: i64, item: T) {
        debug_assert!(self.ids.last().is_none_or(|&last| last < id));
        self.ids.push(id);
        self.items.push(item);
    }

    fn index_of(&mut self, id: i64) -> Option<usize> {
        for candidate in [self.cursor, self.cursor + 1] {
            if self.ids.get(candidate) == Some(&id) {
                self.cursor = candidate;
                return Some(candidate);
            }
        }
        let found = self.ids.binary_search(&id).ok()?;
        self.cursor = found;
        Some(found)
    }

    fn get(&mut self, id: i64) -> Option<&T> {
        self.index_of(id).map(|i| &self.items[i])
    }

    fn get_mut(&mut self, id: i64) -> Option<&mut T> {
        self.index_of(id).map(|i| &mut self.items[i])
    }

    /// Into a map keyed by `key`. Sorting indices, not the (large) values,
    /// then feeding the map sorted keys, keeps this linear in moves.
    fn into_map(self, key: impl Fn(&T) -> &str) -> BTreeMap<String, T> {
        let mut order: Vec<usize> = (0..self.items.len()).collect();
        order.sort_unstable_by(|&a, &b| key(&self.items[a]).cmp(key(&self.items[b])));
        let mut slots: Vec<Option<T>> = self.items.into_iter().map(Some).collect();
        order
            .into_iter()
            .filter_map(|i| slots[i].take())
            .map(|item| (key(&item).to_string(), item))
            .collect()
    }
}

/// Reads each stored canonical document once, however many roles use it.
/// Queries join (LEFT: a missing document is an error, not a missing row)
/// the document's text to the row that uses it (one query a
/// table, never one a document); the text is read only on first sight.
/// Trust policies are parsed and kept as trees (read principal by
/// principal); permissions policies are held as their stored canonical
/// text alone ([`PolicyDocument::from_canonical_text`]): compared, hashed
/// and shown by it. 100,000 of them as trees were a tenth of planning a
/// large converged account, and parsing, canonicalising and writing them
/// again most of reading it.
#[derive(Default)]
struct Documents {
    trees: HashMap<i64, PolicyDocument>,
    texts: HashMap<i64, PolicyDocument>,
}

impl Documents {
    /// The document of id column `id_column` whose text is column
    /// `text_column` of the same row, as a tree.
    fn tree(
        &mut self,
        row: &rusqlite::Row<'_>,
        id_column: usize,
        text_column: usize,
    ) -> rusqlite::Result<PolicyDocument> {
        Self::get(&mut self.trees, row, id_column, text_column, |text| {
            // Stored documents were parsed on the way in; failure means a
            // damaged file.
            PolicyDocument::parse(text).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    text_column,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })
        })
    }

    /// [`Documents::tree`], held as its text: the stored canonical text
    /// itself ([`PolicyDocument::from_canonical_text`]), which the
    /// emulator wrote ([`PolicyDocument::to_json`]) as it stored the
    /// document.
    fn text(
        &mut self,
        row: &rusqlite::Row<'_>,
        id_column: usize,
        text_column: usize,
    ) -> rusqlite::Result<PolicyDocument> {
        Self::get(&mut self.texts, row, id_column, text_column, |text| {
            Ok(PolicyDocument::from_canonical_text(text))
        })
    }

    /// The document of the row's id from `read`, made by `made` from its
    /// text on first sight only.
    fn get(
        read: &mut HashMap<i64, PolicyDocument>,
        row: &rusqlite::Row<'_>,
        id_column: usize,
        text_column: usize,
        made: impl FnOnce(&str) -> rusqlite::Result<PolicyDocument>,
    ) -> rusqlite::Result<PolicyDocument> {
        let id: i64 = row.get(id_column)?;
        if let Some(doc) = read.get(&id) {
            return Ok(doc.clone());
        }
        let doc = made(row.get_ref(text_column)?.as_str()?)?;
        read.insert(id, doc.clone());
        Ok(doc)
    }
}

/// The whole account; `quotas` replaces the account's own (a handle's
/// override, see `Emulator::override_quotas`), as its calls would.
pub fn read(db: &Connection, now_ms: i64, quotas: Option<&Quotas>) -> rusqlite::Result<Live> {
    let account_id = super::store::read_account_id(db)?;
    let quotas = match quotas {
        Some(quotas) => quotas.clone(),
        None => super::store::read_settings(db)?.quotas,
    };
    let mut documents = Documents::default();

    // Roles, keyed by row id while their children are attached.
    let mut roles: Rows<LiveRole> = Rows::new();
    let mut stmt = db.prepare(
        "SELECT roles.id, name, path, role_id, arn, trust_canonical, description,
                max_session_duration, boundary, documents.text
         FROM roles LEFT JOIN documents ON documents.id = roles.trust_canonical
         ORDER BY roles.id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let trust = documents.tree(r, 5, 9)?;
        roles.push(
            r.get(0)?,
            LiveRole {
                role: Role {
                    name: r.get(1)?,
                    path: r.get(2)?,
                    description: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
                    trust,
                    max_session_duration: r.get(7)?,
                    permissions_boundary: r.get(8)?,
                    managed_policies: Default::default(),
                    inline_policies: Default::default(),
                    tags: Default::default(),
                },
                arn: r.get(4)?,
                role_id: r.get(3)?,
            },
        );
    }
    drop(rows);
    drop(stmt);

    let mut stmt = db.prepare("SELECT role, key, value FROM role_tags ORDER BY role, fold")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(role) = roles.get_mut(r.get(0)?) {
            role.role.tags.insert(r.get(1)?, r.get(2)?);
        }
    }
    drop(rows);
    drop(stmt);

    let mut stmt = db.prepare(
        "SELECT role, name, canonical, documents.text
         FROM role_policies LEFT JOIN documents ON documents.id = role_policies.canonical
         ORDER BY role, name",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(role) = roles.get_mut(r.get(0)?) {
            let doc = documents.text(r, 2, 3)?;
            role.role.inline_policies.insert(r.get(1)?, doc);
        }
    }
    drop(rows);
    drop(stmt);

    let mut stmt = db.prepare("SELECT role, arn FROM role_managed ORDER BY role, arn")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(role) = roles.get_mut(r.get(0)?) {
            role.role.managed_policies.insert(r.get(1)?);
        }
    }
    drop(rows);
    drop(stmt);

    // Profiles; the role name comes from the roles read above.
    let mut profiles: Rows<LiveInstanceProfile> = Rows::new();
    let mut stmt =
        db.prepare("SELECT id, name, path, profile_id, arn, role FROM profiles ORDER BY id")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let role: Option<i64> = r.get(5)?;
        profiles.push(
            r.get(0)?,
            LiveInstanceProfile {
                profile: InstanceProfile {
                    name: r.get(1)?,
                    path: r.get(2)?,
                    role: role
                        .and_then(|id| roles.get(id))
                        .map(|lr| lr.role.name.clone()),
                    tags: Default::default(),
                },
                arn: r.get(4)?,
                instance_profile_id: r.get(3)?,
            },
        );
    }
    drop(rows);
    drop(stmt);

    let mut stmt =
        db.prepare("SELECT profile, key, value FROM profile_tags ORDER BY profile, fold")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(profile) = profiles.get_mut(r.get(0)?) {
            profile.profile.tags.insert(r.get(1)?, r.get(2)?);
        }
    }
    drop(rows);
    drop(stmt);

    // Instances that are not terminated, their tags and live association.
    let mut instances: Rows<LiveInstance> = Rows::new();
    let mut stmt = db.prepare(
        "SELECT id, instance_id, state FROM instances WHERE state != 'terminated' ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let state = parse_state(&r.get::<_, String>(2)?);
        if state == InstanceState::Terminated {
            continue;
        }
        instances.push(
            r.get(0)?,
            LiveInstance {
                instance_id: r.get(1)?,
                name: None,
                state,
                tags: Default::default(),
                association: None,
            },
        );
    }
    drop(rows);
    drop(stmt);

    let mut stmt =
        db.prepare("SELECT instance, key, value FROM instance_tags ORDER BY instance, fold")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(instance) = instances.get_mut(r.get(0)?) {
            let key: String = r.get(1)?;
            let value: String = r.get(2)?;
            if key == "Name" {
                instance.name = Some(value.clone());
            }
            instance.tags.insert(key, value);
        }
    }
    drop(rows);
    drop(stmt);

    let mut stmt =
        db.prepare("SELECT instance, association_id, profile_arn, ready_at_ms FROM associations ORDER BY instance")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(instance) = instances.get_mut(r.get(0)?) {
            let profile_arn: String = r.get(2)?;
            instance.association = Some(LiveAssociation {
                association_id: r.get(1)?,
                profile_name: name_from_arn(&profile_arn).to_string(),
                profile_arn,
                state: association_state(r.get(3)?, now_ms),
            });
        }
    }
    drop(rows);
    drop(stmt);

    let policies = read_policies(db, &mut documents)?;

    Ok(Live {
        policies,
        roles: roles.into_map(|r| &r.role.name),
        profiles: profiles.into_map(|p| &p.profile.name),
        instances: instances.into_map(|i| &i.instance_id),
        ..empty(account_id, &quotas)
    })
}

/// The account's customer-managed policies, as `cloud::snapshot::from_reads`
/// reads them: the default version's document, every version id oldest
/// first, tags, and how many roles each is attached to.
fn read_policies(
    db: &Connection,
    documents: &mut Documents,
) -> rusqlite::Result<BTreeMap<String, LivePolicy>> {
    if !super::store::has_policies(db)? {
        return Ok(BTreeMap::new());
    }
    let mut policies: Rows<LivePolicy> = Rows::new();
    let mut defaults: HashMap<i64, i64> = HashMap::new();
    let mut stmt = db.prepare(
        "SELECT id, name, path, policy_id, arn, description, default_version FROM policies
         ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let default: i64 = r.get(6)?;
        defaults.insert(id, default);
        policies.push(
            id,
            LivePolicy {
                policy: ManagedPolicy {
                    name: r.get(1)?,
                    path: r.get(2)?,
                    description: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                    // Replaced by the default version's, read below.
                    document: PolicyDocument::from_value(serde_json::Value::Null),
                    tags: Default::default(),
                },
                arn: r.get(4)?,
                policy_id: r.get(3)?,
                default_version_id: super::policies::version_id(default),
                versions: Vec::new(),
                attachment_count: 0,
            },
        );
    }
    drop(rows);
    drop(stmt);

    // Oldest first: by version number.
    let mut stmt = db.prepare(
        "SELECT policy, version, canonical, documents.text
         FROM policy_versions LEFT JOIN documents ON documents.id = policy_versions.canonical
         ORDER BY policy, version",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let version: i64 = r.get(1)?;
        let is_default = defaults.get(&id) == Some(&version);
        if let Some(policy) = policies.get_mut(id) {
            policy.versions.push(super::policies::version_id(version));
            if is_default {
                policy.policy.document = documents.text(r, 2, 3)?;
            }
        }
    }
    drop(rows);
    drop(stmt);

    let mut stmt =
        db.prepare("SELECT policy, key, value FROM policy_tags ORDER BY policy, fold")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(policy) = policies.get_mut(r.get(0)?) {
            policy.policy.tags.insert(r.get(1)?, r.get(2)?);
        }
    }
    drop(rows);
    drop(stmt);

    let mut attachments: HashMap<String, u32> = HashMap::new();
    let mut stmt = db.prepare(
        "SELECT arn, count(*) FROM role_managed
         WHERE arn IN (SELECT arn FROM policies) GROUP BY arn",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        attachments.insert(r.get(0)?, r.get(1)?);
    }
    drop(rows);
    drop(stmt);
    for policy in &mut policies.items {
        policy.attachment_count = attachments.get(&policy.arn).copied().unwrap_or(0);
    }
    Ok(policies.into_map(|p| &p.policy.name))
}

/// An emulated account that holds nothing yet, as the planner sees it.
pub fn empty(account_id: String, quotas: &Quotas) -> Live {
    Live {
        account_id,
        quotas: AccountQuotas::from(quotas),
        partition: Some(PARTITION.to_string()),
        ..Live::default()
    }
}

impl From<&Quotas> for AccountQuotas {
    fn from(quotas: &Quotas) -> Self {
        AccountQuotas {
            roles: Some(quotas.max_roles),
            instance_profiles: Some(quotas.max_instance_profiles),
        }
    }
}
