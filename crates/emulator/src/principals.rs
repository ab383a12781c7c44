//! What deciding a call through `rolecall serve` needs to know of the
//! account: a role's policies (its sessions' permissions: inline, attached
//! and boundary, with the documents of the account's own managed policies
//! it holds), a profile's role (`iam:PassRole`), an association's
//! instance. Read-only.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, OptionalExtension};

use rolecall_model::{PolicyDocument, Role};

use super::iam;
use super::policies;
use super::store::ROLE_TAGS;

/// A role as its sessions' calls are decided: its policies, boundary and
/// tags (`aws:PrincipalTag/*`), and its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleFacts {
    pub arn: String,
    /// `AROA…`: tells this role from one made later under its name.
    pub role_id: String,
    pub role: Role,
    /// The document in effect (the default version's) of each of the
    /// account's own policies the role holds, attached or as its
    /// boundary, by ARN. AWS-managed ones are the bundled list's
    /// (`model::aws_policies`); an ARN in neither grants nothing.
    pub customer_documents: BTreeMap<String, PolicyDocument>,
}

/// The role named `name` (IAM names ignore case), with its policies.
/// A stored document that no longer parses is left out (it cannot be
/// stored through the API).
pub fn role(db: &Connection, name: &str) -> rusqlite::Result<Option<RoleFacts>> {
    let Some(row) = iam::find_role(db, name)? else {
        return Ok(None);
    };
    let mut inline = rolecall_model::SortedMap::new();
    let mut statement = db.prepare_cached(
        "SELECT name, (SELECT text FROM documents WHERE id = role_policies.document)
         FROM role_policies WHERE role = ?1",
    )?;
    for policy in statement.query_map([row.id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })? {
        let (policy_name, text) = policy?;
        if let Ok(document) = PolicyDocument::parse(&text) {
            inline.insert(policy_name, document);
        }
    }
    let managed: BTreeSet<String> = db
        .prepare_cached("SELECT arn FROM role_managed WHERE role = ?1")?
        .query_map([row.id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<_>>()?;
    let held = managed
        .iter()
        .map(String::as_str)
        .chain(row.boundary.as_deref());
    let mut customer_documents = BTreeMap::new();
    for (arn, text) in policies::default_documents(db, held)? {
        if let Ok(document) = PolicyDocument::parse(&text) {
            customer_documents.insert(arn, document);
        }
    }
    let tags = ROLE_TAGS
        .of(db, row.id)?
        .into_iter()
        .map(|tag| (tag.key.to_string(), tag.value.to_string()))
        .collect();
    let trust = PolicyDocument::parse(&row.trust)
        .unwrap_or_else(|_| PolicyDocument::trusting_services::<&str>(&[]));
    Ok(Some(RoleFacts {
        arn: row.arn,
        role_id: row.role_id,
        role: Role {
            name: row.name,
            path: row.path,
            description: row.description.unwrap_or_default(),
            trust,
            max_session_duration: row.max_session_duration,
            permissions_boundary: row.boundary,
            managed_policies: managed,
            inline_policies: inline,
            tags,
        },
        customer_documents,
    }))
}

/// The ARN of the role `name` (IAM names ignore case), if it exists.
pub fn role_arn(db: &Connection, name: &str) -> rusqlite::Result<Option<String>> {
    db.prepare_cached("SELECT arn FROM roles WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()
}

/// An instance profile's ARN and the name of the role it holds.
pub fn profile(db: &Connection, name: &str) -> rusqlite::Result<Option<(String, Option<String>)>> {
    let Some(row) = iam::find_profile(db, name)? else {
        return Ok(None);
    };
    let role = match row.role {
        Some(id) => db
            .query_row("SELECT name FROM roles WHERE id = ?1", [id], |r| r.get(0))
            .optional()?,
        None => None,
    };
    Ok(Some((row.arn, role)))
}

/// The instance an association (live) is of.
pub fn association_instance(
    db: &Connection,
    association_id: &str,
) -> rusqlite::Result<Option<String>> {
    db.query_row(
        "SELECT instances.instance_id FROM associations
         JOIN instances ON instances.id = associations.instance
         WHERE associations.association_id = ?1",
        [association_id],
        |r| r.get(0),
    )
    .optional()
}
