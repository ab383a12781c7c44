//! IAM operations on roles and instance profiles, with AWS's rules and messages.

use rusqlite::{Connection, Row, params};

use super::store::{self, PROFILE_TAGS, ROLE_TAGS};
use super::validate::{self, KeyCase};
use super::{Ctx, OpResult, ids, reject};
use rolecall_cloud::ErrorCode;
use rolecall_cloud::iam::*;
use rolecall_model::aws_policies::{AwsPolicy, aws_policy};
// Customer-managed policies are IAM's too; their bodies have a module of their own.
pub use super::policies::*;
use rolecall_model::{DEFAULT_MAX_SESSION_DURATION, PolicyDocument, RoleArn, policy::url_encode};

/// Whether the account holds its own (customer-managed) policy of an ARN:
/// asked of its `policies` table in a call ([`in_account`]), of the ARNs
/// an export holds when the export is checked.
pub type Holds<'a> = &'a dyn Fn(&str) -> OpResult<bool>;

/// [`Holds`] for the account a call runs in.
pub fn in_account<'a>(cx: &'a Ctx<'a>) -> impl Fn(&str) -> OpResult<bool> + 'a {
    move |arn| Ok(super::policies::holds(cx.db, arn)?)
}

/// What IAM answers for a policy ARN, to attach it or make it a boundary:
/// the account's own policies as `holds` says, AWS-managed ones in the
/// bundled list; anything else (another account's, a deleted one, a
/// mistyped AWS ARN) does not exist.
fn policy_kind(holds: Holds, arn: &str) -> OpResult<AwsPolicy> {
    if let Some(kind) = aws_policy(arn) {
        return Ok(kind);
    }
    Ok(if holds(arn)? {
        AwsPolicy::Attachable
    } else {
        AwsPolicy::Unknown
    })
}

fn service_role_policy<T>() -> OpResult<T> {
    reject(
        ErrorCode::PolicyNotAttachable,
        "Cannot attach a Service Role Policy to a Customer Role.",
    )
}

pub struct RoleRow {
    pub id: i64,
    pub name: String,
    pub path: String,
    pub role_id: String,
    pub arn: String,
    pub create_date: String,
    pub trust: String,
    pub description: Option<String>,
    pub max_session_duration: u32,
    pub boundary: Option<String>,
}

const ROLE_COLUMNS: &str = "id, name, path, role_id, arn, create_date,
    (SELECT text FROM documents WHERE id = roles.trust), description, max_session_duration, boundary";

fn role_row(r: &Row) -> rusqlite::Result<RoleRow> {
    Ok(RoleRow {
        id: r.get(0)?,
        name: r.get(1)?,
        path: r.get(2)?,
        role_id: r.get(3)?,
        arn: r.get(4)?,
        create_date: r.get(5)?,
        trust: r.get(6)?,
        description: r.get(7)?,
        max_session_duration: r.get(8)?,
        boundary: r.get(9)?,
    })
}

impl RoleRow {
    /// The role as IAM returns it; `full` adds what only GetRole shows.
    fn to_role(&self, db: &Connection, full: bool) -> rusqlite::Result<Role> {
        Ok(Role {
            path: self.path.clone(),
            role_name: self.name.clone(),
            role_id: self.role_id.clone(),
            arn: self.arn.clone(),
            create_date: self.create_date.clone(),
            assume_role_policy_document: url_encode(&self.trust),
            description: self.description.clone(),
            max_session_duration: self.max_session_duration,
            permissions_boundary: if full {
                self.boundary
                    .clone()
                    .map(|arn| AttachedPermissionsBoundary {
                        permissions_boundary_type: "Policy".into(),
                        permissions_boundary_arn: arn,
                    })
            } else {
                None
            },
            tags: if full {
                ROLE_TAGS.of(db, self.id)?
            } else {
                Vec::new()
            },
        })
    }
}

fn role_not_found<T>(name: &str) -> OpResult<T> {
    reject(
        ErrorCode::NoSuchEntity,
        format!("The role with name {name} cannot be found."),
    )
}

pub(crate) fn find_role(db: &Connection, name: &str) -> rusqlite::Result<Option<RoleRow>> {
    // Names are unique ignoring case; lookups ignore case too (NOCASE column).
    let sql = format!("SELECT {ROLE_COLUMNS} FROM roles WHERE name = ?1");
    store::optional(db.prepare_cached(&sql)?.query_row([name], role_row))
}

fn find_role_by_id(db: &Connection, id: i64) -> rusqlite::Result<Option<RoleRow>> {
    let sql = format!("SELECT {ROLE_COLUMNS} FROM roles WHERE id = ?1");
    store::optional(db.prepare_cached(&sql)?.query_row([id], role_row))
}

/// The named role, or AWS's NoSuchEntity. The name is validated first, as AWS does.
fn existing_role(cx: &Ctx, name: &str) -> OpResult<RoleRow> {
    validate::role_name(name)?;
    match find_role(cx.db, name)? {
        Some(role) => Ok(role),
        None => role_not_found(name),
    }
}

pub struct ProfileRow {
    pub id: i64,
    pub name: String,
    pub path: String,
    pub profile_id: String,
    pub arn: String,
    pub create_date: String,
    pub role: Option<i64>,
    pub visible_at_ms: i64,
}

const PROFILE_COLUMNS: &str = "id, name, path, profile_id, arn, create_date, role, visible_at_ms";

fn profile_row(r: &Row) -> rusqlite::Result<ProfileRow> {
    Ok(ProfileRow {
        id: r.get(0)?,
        name: r.get(1)?,
        path: r.get(2)?,
        profile_id: r.get(3)?,
        arn: r.get(4)?,
        create_date: r.get(5)?,
        role: r.get(6)?,
        visible_at_ms: r.get(7)?,
    })
}

impl ProfileRow {
    fn to_profile(&self, db: &Connection, with_tags: bool) -> rusqlite::Result<InstanceProfile> {
        let mut roles = Vec::new();
        if let Some(role) = self.role
            && let Some(row) = find_role_by_id(db, role)?
        {
            roles.push(row.to_role(db, false)?);
        }
        Ok(InstanceProfile {
            path: self.path.clone(),
            instance_profile_name: self.name.clone(),
            instance_profile_id: self.profile_id.clone(),
            arn: self.arn.clone(),
            create_date: self.create_date.clone(),
            roles,
            tags: if with_tags {
                PROFILE_TAGS.of(db, self.id)?
            } else {
                Vec::new()
            },
        })
    }
}

pub fn find_profile(db: &Connection, name: &str) -> rusqlite::Result<Option<ProfileRow>> {
    let sql = format!("SELECT {PROFILE_COLUMNS} FROM profiles WHERE name = ?1");
    store::optional(db.prepare_cached(&sql)?.query_row([name], profile_row))
}

pub fn find_profile_by_arn(db: &Connection, arn: &str) -> rusqlite::Result<Option<ProfileRow>> {
    let sql = format!("SELECT {PROFILE_COLUMNS} FROM profiles WHERE arn = ?1");
    store::optional(db.prepare_cached(&sql)?.query_row([arn], profile_row))
}

fn existing_profile(cx: &Ctx, name: &str) -> OpResult<ProfileRow> {
    validate::instance_profile_name(name)?;
    match find_profile(cx.db, name)? {
        Some(profile) => Ok(profile),
        None => reject(
            ErrorCode::NoSuchEntity,
            format!("Instance Profile {name} cannot be found."),
        ),
    }
}

fn count(db: &Connection, sql: &str, id: i64) -> rusqlite::Result<usize> {
    db.prepare_cached(sql)?
        .query_row([id], |r| r.get::<_, i64>(0))
        .map(|n| usize::try_from(n).unwrap_or(0))
}

pub fn check_boundary(arn: &str, holds: Holds) -> OpResult<()> {
    validate::policy_arn(arn, "permissionsBoundary")?;
    match policy_kind(holds, arn)? {
        AwsPolicy::Attachable => Ok(()),
        AwsPolicy::ServiceRole => service_role_policy(),
        // AWS names the boundary policy a "Scope ARN" in this message.
        AwsPolicy::Unknown => reject(
            ErrorCode::NoSuchEntity,
            format!("Scope ARN: {arn} does not exist or is not attachable."),
        ),
    }
}

/// LimitExceeded for a trust policy over its quota (whitespace not counted).
pub fn check_trust_size(trust: &validate::Document) -> OpResult<()> {
    if trust.size > validate::MAX_TRUST_SIZE {
        return reject(
            ErrorCode::LimitExceeded,
            format!(
                "Cannot exceed quota for ACLSizePerRole: {}",
                validate::MAX_TRUST_SIZE
            ),
        );
    }
    Ok(())
}

/// LimitExceeded when a role's inline policies together exceed their quota.
pub fn check_inline_size(total: usize, role_name: &str) -> OpResult<()> {
    if total > validate::MAX_INLINE_SIZE {
        return reject(
            ErrorCode::LimitExceeded,
            format!(
                "Maximum policy size of {} bytes exceeded for role {role_name}",
                validate::MAX_INLINE_SIZE
            ),
        );
    }
    Ok(())
}

/// IAM resolves a role named as a principal to the role's unique id when it
/// saves a trust policy, so a role of this account that does not exist is
/// refused (docs/aws-semantics.md §13; Terraform retries on this message, §8).
/// Other accounts, users and `root` are not checked: the emulated account
/// knows no other account and holds no users.
fn check_principal_roles(cx: &Ctx, trust: &PolicyDocument) -> OpResult<()> {
    for arn in &trust.aws_principals() {
        let Some(principal) = RoleArn::parse(arn) else {
            continue;
        };
        if !principal.is_of(Some(ids::PARTITION), cx.account_id()) {
            continue;
        }
        let (path, name) = (principal.path, principal.name);
        let exists = find_role(cx.db, name)?.is_some_and(|role| role.path == path);
        if !exists {
            return reject(
                ErrorCode::MalformedPolicyDocument,
                format!("Invalid principal in policy: \"AWS\":\"{arn}\""),
            );
        }
    }
    Ok(())
}

// ---- roles ----------------------------------------------------------------

pub fn create_role(cx: &Ctx, input: &CreateRoleRequest) -> OpResult<CreateRoleResponse> {
    validate::role_name(&input.role_name)?;
    let path = input.path.as_deref().unwrap_or("/");
    validate::path(path)?;
    let trust = validate::document(
        &input.assume_role_policy_document,
        "assumeRolePolicyDocument",
        true,
    )?;
    if let Some(description) = &input.description {
        validate::description(description)?;
    }
    let max_session = input
        .max_session_duration
        .unwrap_or(DEFAULT_MAX_SESSION_DURATION);
    validate::max_session_duration(max_session)?;
    if let Some(boundary) = &input.permissions_boundary {
        check_boundary(boundary, &in_account(cx))?;
    }
    // Tags are all-or-nothing: a bad tag fails the whole request.
    validate::tags(&input.tags, KeyCase::Insensitive)?;
    check_trust_size(&trust)?;
    if find_role(cx.db, &input.role_name)?.is_some() {
        return reject(
            ErrorCode::EntityAlreadyExists,
            format!("Role with name {} already exists.", input.role_name),
        );
    }
    // Before the role exists: a role cannot trust itself at creation, as on AWS.
    check_principal_roles(cx, &trust.parsed)?;
    let roles: i64 = cx
        .db
        .prepare_cached("SELECT count(*) FROM roles")?
        .query_row([], |r| r.get(0))?;
    let max_roles = cx.settings.quotas.max_roles;
    if roles >= i64::from(max_roles) {
        return reject(
            ErrorCode::LimitExceeded,
            format!("Cannot exceed quota for RolesPerAccount: {max_roles}"),
        );
    }
    let role_id = ids::role_id();
    let arn = ids::role_arn(cx.account_id(), path, &input.role_name);
    cx.db
        .prepare_cached(
            "INSERT INTO roles (name, path, role_id, arn, create_date, trust, trust_canonical,
                                description, max_session_duration, boundary)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            input.role_name,
            path,
            role_id,
            arn,
            ids::timestamp(cx.now_ms),
            store::document_id(cx.db, &trust.text)?,
            store::document_id(cx.db, &trust.canonical)?,
            input.description,
            max_session,
            input.permissions_boundary,
        ])?;
    let id = cx.db.last_insert_rowid();
    ROLE_TAGS.upsert(cx.db, id, &input.tags, KeyCase::Insensitive)?;
    let row = find_role_by_id(cx.db, id)?;
    match row {
        Some(row) => Ok(RoleResponse {
            role: row.to_role(cx.db, true)?,
        }),
        None => role_not_found(&input.role_name),
    }
}

pub fn get_role(cx: &Ctx, input: &GetRoleRequest) -> OpResult<GetRoleResponse> {
    let row = existing_role(cx, &input.role_name)?;
    Ok(RoleResponse {
        role: row.to_role(cx.db, true)?,
    })
}

pub fn delete_role(cx: &Ctx, input: &DeleteRoleRequest) -> OpResult<()> {
    let row = existing_role(cx, &input.role_name)?;
    // Check order as moto has it (AWS's is unconfirmed): profiles, managed, inline.
    if count(
        cx.db,
        "SELECT count(*) FROM profiles WHERE role = ?1",
        row.id,
    )? > 0
    {
        return reject(
            ErrorCode::DeleteConflict,
            "Cannot delete entity, must remove roles from instance profile first.",
        );
    }
    if count(
        cx.db,
        "SELECT count(*) FROM role_managed WHERE role = ?1",
        row.id,
    )? > 0
    {
        return reject(
            ErrorCode::DeleteConflict,
            "Cannot delete entity, must detach all policies first.",
        );
    }
    if count(
        cx.db,
        "SELECT count(*) FROM role_policies WHERE role = ?1",
        row.id,
    )? > 0
    {
        return reject(
            ErrorCode::DeleteConflict,
            "Cannot delete entity, must delete policies first.",
        );
    }
    cx.db
        .prepare_cached("DELETE FROM roles WHERE id = ?1")?
        .execute([row.id])?;
    Ok(())
}

pub fn update_role(cx: &Ctx, input: &UpdateRoleRequest) -> OpResult<UpdateRoleResponse> {
    validate::role_name(&input.role_name)?;
    if let Some(description) = &input.description {
        validate::description(description)?;
    }
    if let Some(seconds) = input.max_session_duration {
        validate::max_session_duration(seconds)?;
    }
    let row = existing_role(cx, &input.role_name)?;
    // Omitted fields keep their value (AWS's behaviour here is unconfirmed).
    cx.db
        .prepare_cached(
            "UPDATE roles SET description = coalesce(?2, description),
                              max_session_duration = coalesce(?3, max_session_duration)
             WHERE id = ?1",
        )?
        .execute(params![
            row.id,
            input.description,
            input.max_session_duration
        ])?;
    Ok(UpdateRoleResponse {})
}

pub fn update_assume_role_policy(cx: &Ctx, input: &UpdateAssumeRolePolicyRequest) -> OpResult<()> {
    validate::role_name(&input.role_name)?;
    let trust = validate::document(&input.policy_document, "policyDocument", true)?;
    let row = existing_role(cx, &input.role_name)?;
    check_trust_size(&trust)?;
    check_principal_roles(cx, &trust.parsed)?;
    cx.db
        .prepare_cached("UPDATE roles SET trust = ?2, trust_canonical = ?3 WHERE id = ?1")?
        .execute(params![
            row.id,
            store::document_id(cx.db, &trust.text)?,
            store::document_id(cx.db, &trust.canonical)?
        ])?;
    Ok(())
}

pub fn put_role_permissions_boundary(
    cx: &Ctx,
    input: &PutRolePermissionsBoundaryRequest,
) -> OpResult<()> {
    validate::role_name(&input.role_name)?;
    validate::policy_arn(&input.permissions_boundary, "permissionsBoundary")?;
    let row = existing_role(cx, &input.role_name)?;
    check_boundary(&input.permissions_boundary, &in_account(cx))?;
    cx.db
        .prepare_cached("UPDATE roles SET boundary = ?2 WHERE id = ?1")?
        .execute(params![row.id, input.permissions_boundary])?;
    Ok(())
}

pub fn delete_role_permissions_boundary(
    cx: &Ctx,
    input: &DeleteRolePermissionsBoundaryRequest,
) -> OpResult<()> {
    let row = existing_role(cx, &input.role_name)?;
    // Deleting an absent boundary succeeds (unconfirmed on AWS; idempotent is kinder).
    cx.db
        .prepare_cached("UPDATE roles SET boundary = NULL WHERE id = ?1")?
        .execute([row.id])?;
    Ok(())
}

/// Whether a (well-formed) policy ARN may be attached to a role.
pub fn check_attachable(arn: &str, holds: Holds) -> OpResult<()> {
    match policy_kind(holds, arn)? {
        AwsPolicy::Attachable => Ok(()),
        AwsPolicy::ServiceRole => service_role_policy(),
        AwsPolicy::Unknown => reject(
            ErrorCode::NoSuchEntity,
            format!("Policy {arn} does not exist or is not attachable."),
        ),
    }
}

/// LimitExceeded when more policies are attached than a role may hold.
pub fn check_managed_count(count: usize) -> OpResult<()> {
    if count > validate::MAX_MANAGED_POLICIES {
        return reject(
            ErrorCode::LimitExceeded,
            format!(
                "Cannot exceed quota for PoliciesPerRole: {}",
                validate::MAX_MANAGED_POLICIES
            ),
        );
    }
    Ok(())
}

pub fn attach_role_policy(cx: &Ctx, input: &AttachRolePolicyRequest) -> OpResult<()> {
    validate::role_name(&input.role_name)?;
    validate::policy_arn(&input.policy_arn, "policyArn")?;
    let row = existing_role(cx, &input.role_name)?;
    check_attachable(&input.policy_arn, &in_account(cx))?;
    let attached = count(
        cx.db,
        "SELECT count(*) FROM role_managed WHERE role = ?1",
        row.id,
    )?;
    let already: bool = cx
        .db
        .prepare_cached("SELECT count(*) FROM role_managed WHERE role = ?1 AND arn = ?2")?
        .query_row(params![row.id, input.policy_arn], |r| r.get::<_, i64>(0))?
        > 0;
    if already {
        // Re-attaching is a no-op (unconfirmed on AWS).
        return Ok(());
    }
    check_managed_count(attached + 1)?;
    cx.db
        .prepare_cached("INSERT INTO role_managed (role, arn) VALUES (?1, ?2)")?
        .execute(params![row.id, input.policy_arn])?;
    Ok(())
}

pub fn detach_role_policy(cx: &Ctx, input: &DetachRolePolicyRequest) -> OpResult<()> {
    validate::role_name(&input.role_name)?;
    validate::policy_arn(&input.policy_arn, "policyArn")?;
    let row = existing_role(cx, &input.role_name)?;
    let removed = cx
        .db
        .prepare_cached("DELETE FROM role_managed WHERE role = ?1 AND arn = ?2")?
        .execute(params![row.id, input.policy_arn])?;
    if removed == 0 {
        // Text as moto has it; AWS's is unconfirmed.
        return reject(
            ErrorCode::NoSuchEntity,
            format!("Policy {} was not found.", input.policy_arn),
        );
    }
    Ok(())
}

pub fn put_role_policy(cx: &Ctx, input: &PutRolePolicyRequest) -> OpResult<()> {
    validate::role_name(&input.role_name)?;
    validate::policy_name(&input.policy_name)?;
    let document = validate::document(&input.policy_document, "policyDocument", false)?;
    let row = existing_role(cx, &input.role_name)?;
    let others: i64 = cx
        .db
        .prepare_cached(
            "SELECT coalesce(sum(size), 0) FROM role_policies WHERE role = ?1 AND name != ?2",
        )?
        .query_row(params![row.id, input.policy_name], |r| r.get(0))?;
    check_inline_size(
        usize::try_from(others).unwrap_or(0) + document.size,
        &row.name,
    )?;
    cx.db
        .prepare_cached(
            "INSERT INTO role_policies (role, name, document, canonical, size)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO UPDATE SET document = excluded.document,
                 canonical = excluded.canonical, size = excluded.size",
        )?
        .execute(params![
            row.id,
            input.policy_name,
            store::document_id(cx.db, &document.text)?,
            store::document_id(cx.db, &document.canonical)?,
            document.size as i64
        ])?;
    Ok(())
}

fn inline_not_found<T>(name: &str) -> OpResult<T> {
    reject(
        ErrorCode::NoSuchEntity,
        format!("The role policy with name {name} cannot be found."),
    )
}

pub fn get_role_policy(cx: &Ctx, input: &GetRolePolicyRequest) -> OpResult<GetRolePolicyResponse> {
    validate::policy_name(&input.policy_name)?;
    let row = existing_role(cx, &input.role_name)?;
    let document: Option<String> = store::optional(
        cx.db
            .prepare_cached(
                "SELECT d.text FROM role_policies p JOIN documents d ON d.id = p.document
                 WHERE p.role = ?1 AND p.name = ?2",
            )?
            .query_row(params![row.id, input.policy_name], |r| r.get(0)),
    )?;
    match document {
        Some(document) => Ok(GetRolePolicyResponse {
            role_name: row.name,
            policy_name: input.policy_name.clone(),
            policy_document: url_encode(&document),
        }),
        None => inline_not_found(&input.policy_name),
    }
}

pub fn delete_role_policy(cx: &Ctx, input: &DeleteRolePolicyRequest) -> OpResult<()> {
    validate::policy_name(&input.policy_name)?;
    let row = existing_role(cx, &input.role_name)?;
    let removed = cx
        .db
        .prepare_cached("DELETE FROM role_policies WHERE role = ?1 AND name = ?2")?
        .execute(params![row.id, input.policy_name])?;
    if removed == 0 {
        return inline_not_found(&input.policy_name);
    }
    Ok(())
}

fn strings(db: &Connection, sql: &str, id: i64) -> rusqlite::Result<Vec<String>> {
    let mut stmt = db.prepare_cached(sql)?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    rows.collect()
}

pub fn list_role_policies(
    cx: &Ctx,
    input: &ListRolePoliciesRequest,
) -> OpResult<ListRolePoliciesResponse> {
    let max = validate::page(&input.page)?;
    let row = existing_role(cx, &input.role_name)?;
    let names = strings(
        cx.db,
        "SELECT name FROM role_policies WHERE role = ?1 ORDER BY name",
        row.id,
    )?;
    let (policy_names, is_truncated, marker) =
        validate::paginate(names, |n| n, input.page.marker.as_deref(), max);
    Ok(ListRolePoliciesResponse {
        policy_names,
        is_truncated,
        marker,
    })
}

pub fn list_attached_role_policies(
    cx: &Ctx,
    input: &ListAttachedRolePoliciesRequest,
) -> OpResult<ListAttachedRolePoliciesResponse> {
    let max = validate::page(&input.page)?;
    let row = existing_role(cx, &input.role_name)?;
    let (arns, is_truncated, marker) = validate::paginate(
        managed_arns(cx.db, row.id)?,
        |a| a,
        input.page.marker.as_deref(),
        max,
    );
    Ok(ListAttachedRolePoliciesResponse {
        attached_policies: arns.into_iter().map(attached_policy).collect(),
        is_truncated,
        marker,
    })
}

/// The managed policies attached to a role, by ARN.
fn managed_arns(db: &Connection, role: i64) -> rusqlite::Result<Vec<String>> {
    strings(
        db,
        "SELECT arn FROM role_managed WHERE role = ?1 ORDER BY arn",
        role,
    )
}

/// An attached policy as IAM names it: its name is the ARN's last part.
fn attached_policy(arn: String) -> AttachedPolicy {
    AttachedPolicy {
        policy_name: arn.rsplit('/').next().unwrap_or(&arn).to_string(),
        policy_arn: arn,
    }
}

fn path_prefix(input: &ListByPathRequest) -> OpResult<String> {
    let prefix = input.path_prefix.clone().unwrap_or_else(|| "/".into());
    if prefix.is_empty() || prefix.len() > 512 || !prefix.starts_with('/') {
        return reject(
            ErrorCode::ValidationError,
            format!(
                "1 validation error detected: Value '{prefix}' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*"
            ),
        );
    }
    Ok(prefix)
}

pub fn list_roles(cx: &Ctx, input: &ListRolesRequest) -> OpResult<ListRolesResponse> {
    let max = validate::page(&input.page)?;
    let prefix = path_prefix(input)?;
    // Keyset paging on the (case-insensitive) name: the marker is the last name returned.
    let sql = format!(
        "SELECT {ROLE_COLUMNS} FROM roles
         WHERE (?1 IS NULL OR name > ?1) AND substr(path, 1, length(?2)) = ?2
         ORDER BY name LIMIT ?3"
    );
    let mut stmt = cx.db.prepare_cached(&sql)?;
    let rows: Vec<RoleRow> = stmt
        .query_map(params![input.page.marker, prefix, max as i64 + 1], role_row)?
        .collect::<rusqlite::Result<_>>()?;
    let (roles, is_truncated, marker) = keyset_page(
        &rows,
        max,
        |row| row.to_role(cx.db, false),
        |role| &role.role_name,
    )?;
    Ok(ListRolesResponse {
        roles,
        is_truncated,
        marker,
    })
}

/// The entity types GetAccountAuthorizationDetails's `Filter` takes.
const ENTITY_TYPES: &[&str] = &[
    "User",
    "Role",
    "Group",
    "LocalManagedPolicy",
    "AWSManagedPolicy",
];

/// What a GetAccountAuthorizationDetails marker names: a role's name, or
/// `policy/NAME` for a customer-managed policy (role names hold no `/`),
/// so one marker walks the roles, then the policies.
const POLICY_MARKER: &str = "policy/";

/// The account's roles, then its customer-managed policies (each with every
/// version and its document), everything attached to them, by name, a page
/// at a time, as `Filter` asks (`Role`, `LocalManagedPolicy`; none: both).
/// The account holds no users or groups; AWS-managed policies
/// (`AWSManagedPolicy`) are not listed (their versions are not kept).
pub fn get_account_authorization_details(
    cx: &Ctx,
    input: &GetAccountAuthorizationDetailsRequest,
) -> OpResult<GetAccountAuthorizationDetailsResponse> {
    let max = validate::page(&input.page)?;
    if input
        .filter
        .iter()
        .any(|kind| !ENTITY_TYPES.contains(&kind.as_str()))
    {
        return reject(
            ErrorCode::ValidationError,
            format!(
                "1 validation error detected: Value '[{}]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
                input.filter.join(", "),
                ENTITY_TYPES.join(", ")
            ),
        );
    }
    let wants = |kind: &str| input.filter.is_empty() || input.filter.iter().any(|k| k == kind);
    let policy_marker = input
        .page
        .marker
        .as_deref()
        .and_then(|marker| marker.strip_prefix(POLICY_MARKER));
    let mut out = GetAccountAuthorizationDetailsResponse::default();
    let mut room = max;
    if wants("Role") && policy_marker.is_none() {
        let sql = format!(
            "SELECT {ROLE_COLUMNS} FROM roles WHERE (?1 IS NULL OR name > ?1) ORDER BY name LIMIT ?2"
        );
        let rows: Vec<RoleRow> = cx
            .db
            .prepare_cached(&sql)?
            .query_map(params![input.page.marker, max as i64 + 1], role_row)?
            .collect::<rusqlite::Result<_>>()?;
        let (roles, is_truncated, marker) =
            keyset_page(&rows, max, |row| role_detail(cx.db, row), |d| &d.role_name)?;
        room -= roles.len();
        out.role_detail_list = roles;
        if is_truncated {
            out.is_truncated = true;
            out.marker = marker;
            return Ok(out);
        }
    }
    if wants("LocalManagedPolicy") && room > 0 {
        let details = super::policies::details(cx.db, policy_marker, room + 1)?;
        let (policies, is_truncated, marker) =
            keyset_page(&details, room, |d| Ok(d.clone()), |d| &d.policy_name)?;
        out.policies = policies;
        out.is_truncated = is_truncated;
        out.marker = marker.map(|name| format!("{POLICY_MARKER}{name}"));
    } else if wants("LocalManagedPolicy")
        && !super::policies::details(cx.db, policy_marker, 1)?.is_empty()
    {
        // The page is full of roles and policies follow.
        out.is_truncated = true;
        out.marker = out
            .role_detail_list
            .last()
            .map(|last| last.role_name.clone());
    }
    Ok(out)
}

fn role_detail(db: &Connection, row: &RoleRow) -> rusqlite::Result<RoleDetail> {
    let role = row.to_role(db, true)?;
    let mut policies = db.prepare_cached(
        "SELECT p.name, d.text FROM role_policies p JOIN documents d ON d.id = p.document
         WHERE p.role = ?1 ORDER BY p.name",
    )?;
    let role_policy_list = policies
        .query_map([row.id], |r| {
            Ok(PolicyDetail {
                policy_name: r.get(0)?,
                policy_document: url_encode(&r.get::<_, String>(1)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let attached_managed_policies = managed_arns(db, row.id)?
        .into_iter()
        .map(attached_policy)
        .collect();
    let profiles: Vec<ProfileRow> = db
        .prepare_cached(&format!(
            "SELECT {PROFILE_COLUMNS} FROM profiles WHERE role = ?1 ORDER BY name"
        ))?
        .query_map([row.id], profile_row)?
        .collect::<rusqlite::Result<_>>()?;
    let instance_profile_list = profiles
        .iter()
        .map(|profile| profile.to_profile(db, false))
        .collect::<rusqlite::Result<_>>()?;
    Ok(RoleDetail {
        path: role.path,
        role_name: role.role_name,
        role_id: role.role_id,
        arn: role.arn,
        create_date: role.create_date,
        assume_role_policy_document: role.assume_role_policy_document,
        instance_profile_list,
        role_policy_list,
        attached_managed_policies,
        permissions_boundary: role.permissions_boundary,
        tags: role.tags,
    })
}

pub(crate) fn tags_limit<T>(what: &str) -> OpResult<T> {
    // The exact text is unconfirmed; AWS's quota messages all have this shape.
    reject(
        ErrorCode::LimitExceeded,
        format!(
            "Cannot exceed quota for TagsPer{what}: {}",
            validate::MAX_TAGS
        ),
    )
}

pub fn tag_role(cx: &Ctx, input: &TagRoleRequest) -> OpResult<()> {
    validate::role_name(&input.role_name)?;
    validate::tags(&input.tags, KeyCase::Insensitive)?;
    let row = existing_role(cx, &input.role_name)?;
    if ROLE_TAGS.count_after(cx.db, row.id, &input.tags, KeyCase::Insensitive)? > validate::MAX_TAGS
    {
        return tags_limit("Role");
    }
    ROLE_TAGS.upsert(cx.db, row.id, &input.tags, KeyCase::Insensitive)?;
    Ok(())
}

pub fn untag_role(cx: &Ctx, input: &UntagRoleRequest) -> OpResult<()> {
    validate::role_name(&input.role_name)?;
    validate::tag_keys(&input.tag_keys)?;
    let row = existing_role(cx, &input.role_name)?;
    ROLE_TAGS.remove(cx.db, row.id, &input.tag_keys, KeyCase::Insensitive)?;
    Ok(())
}

pub(crate) fn list_tags(tags: Vec<Tag>, page: &Page) -> OpResult<ListTagsResponse> {
    let max = validate::page(page)?;
    let (tags, is_truncated, marker) =
        validate::paginate(tags, |t| &t.key, page.marker.as_deref(), max);
    Ok(ListTagsResponse {
        tags,
        is_truncated,
        marker,
    })
}

pub fn list_role_tags(cx: &Ctx, input: &ListRoleTagsRequest) -> OpResult<ListRoleTagsResponse> {
    validate::page(&input.page)?;
    let row = existing_role(cx, &input.role_name)?;
    list_tags(ROLE_TAGS.of(cx.db, row.id)?, &input.page)
}

// ---- instance profiles ------------------------------------------------------

pub fn create_instance_profile(
    cx: &Ctx,
    input: &CreateInstanceProfileRequest,
) -> OpResult<CreateInstanceProfileResponse> {
    validate::instance_profile_name(&input.instance_profile_name)?;
    let path = input.path.as_deref().unwrap_or("/");
    validate::path(path)?;
    validate::tags(&input.tags, KeyCase::Sensitive)?;
    if find_profile(cx.db, &input.instance_profile_name)?.is_some() {
        return reject(
            ErrorCode::EntityAlreadyExists,
            format!(
                "Instance Profile {} already exists.",
                input.instance_profile_name
            ),
        );
    }
    let profiles: i64 = cx
        .db
        .prepare_cached("SELECT count(*) FROM profiles")?
        .query_row([], |r| r.get(0))?;
    let max = cx.settings.quotas.max_instance_profiles;
    if profiles >= i64::from(max) {
        return reject(
            ErrorCode::LimitExceeded,
            format!("Cannot exceed quota for InstanceProfilesPerAccount: {max}"),
        );
    }
    let arn = ids::instance_profile_arn(cx.account_id(), path, &input.instance_profile_name);
    cx.db
        .prepare_cached(
            "INSERT INTO profiles (name, path, profile_id, arn, create_date, role, visible_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6)",
        )?
        .execute(params![
            input.instance_profile_name,
            path,
            ids::instance_profile_id(),
            arn,
            ids::timestamp(cx.now_ms),
            visible_at(cx),
        ])?;
    let id = cx.db.last_insert_rowid();
    PROFILE_TAGS.upsert(cx.db, id, &input.tags, KeyCase::Sensitive)?;
    let profile = existing_profile(cx, &input.instance_profile_name)?;
    Ok(InstanceProfileResponse {
        instance_profile: profile.to_profile(cx.db, true)?,
    })
}

/// When EC2 will see a profile created or changed now (0: always has; keeps exports clean).
fn visible_at(cx: &Ctx) -> i64 {
    match cx.settings.faults.propagation_delay_ms {
        0 => 0,
        delay => cx
            .now_ms
            .saturating_add(i64::try_from(delay).unwrap_or(i64::MAX)),
    }
}

pub fn get_instance_profile(
    cx: &Ctx,
    input: &GetInstanceProfileRequest,
) -> OpResult<GetInstanceProfileResponse> {
    let profile = existing_profile(cx, &input.instance_profile_name)?;
    Ok(InstanceProfileResponse {
        instance_profile: profile.to_profile(cx.db, true)?,
    })
}

pub fn delete_instance_profile(cx: &Ctx, input: &DeleteInstanceProfileRequest) -> OpResult<()> {
    let profile = existing_profile(cx, &input.instance_profile_name)?;
    // EC2 associations do not block the delete (AWS only warns in its docs).
    if profile.role.is_some() {
        return reject(
            ErrorCode::DeleteConflict,
            "Cannot delete entity, must remove roles from instance profile first.",
        );
    }
    cx.db
        .prepare_cached("DELETE FROM profiles WHERE id = ?1")?
        .execute([profile.id])?;
    Ok(())
}

pub fn add_role_to_instance_profile(
    cx: &Ctx,
    input: &AddRoleToInstanceProfileRequest,
) -> OpResult<()> {
    validate::instance_profile_name(&input.instance_profile_name)?;
    validate::role_name(&input.role_name)?;
    let profile = existing_profile(cx, &input.instance_profile_name)?;
    let role = existing_role(cx, &input.role_name)?;
    if profile.role.is_some() {
        // Also when it is the same role: the quota counts the slot.
        return reject(
            ErrorCode::LimitExceeded,
            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
        );
    }
    cx.db
        .prepare_cached("UPDATE profiles SET role = ?2, visible_at_ms = ?3 WHERE id = ?1")?
        .execute(params![profile.id, role.id, visible_at(cx)])?;
    Ok(())
}

pub fn remove_role_from_instance_profile(
    cx: &Ctx,
    input: &RemoveRoleFromInstanceProfileRequest,
) -> OpResult<()> {
    validate::instance_profile_name(&input.instance_profile_name)?;
    validate::role_name(&input.role_name)?;
    let profile = existing_profile(cx, &input.instance_profile_name)?;
    let role = existing_role(cx, &input.role_name)?;
    if profile.role != Some(role.id) {
        // AWS's answer for a role not in the profile is unconfirmed; NoSuchEntity is assumed.
        return role_not_found(&input.role_name);
    }
    cx.db
        .prepare_cached("UPDATE profiles SET role = NULL, visible_at_ms = ?2 WHERE id = ?1")?
        .execute(params![profile.id, visible_at(cx)])?;
    Ok(())
}

/// A page of a list paged by name: `rows` holds up to one more than `max`,
/// which says whether more follow; the first `max` become items, and the
/// marker asking for the rest is the last item's name.
pub(crate) fn keyset_page<R, T>(
    rows: &[R],
    max: usize,
    mut item: impl FnMut(&R) -> rusqlite::Result<T>,
    name: impl Fn(&T) -> &String,
) -> rusqlite::Result<(Vec<T>, bool, Option<String>)> {
    let is_truncated = rows.len() > max;
    let items = rows
        .iter()
        .take(max)
        .map(&mut item)
        .collect::<rusqlite::Result<Vec<T>>>()?;
    let marker = if is_truncated {
        items.last().map(|last| name(last).clone())
    } else {
        None
    };
    Ok((items, is_truncated, marker))
}

fn profile_page(
    cx: &Ctx,
    rows: Vec<ProfileRow>,
    max: usize,
) -> OpResult<ListInstanceProfilesResponse> {
    let (instance_profiles, is_truncated, marker) = keyset_page(
        &rows,
        max,
        |row| row.to_profile(cx.db, false),
        |profile| &profile.instance_profile_name,
    )?;
    Ok(ListInstanceProfilesResponse {
        instance_profiles,
        is_truncated,
        marker,
    })
}

pub fn list_instance_profiles(
    cx: &Ctx,
    input: &ListInstanceProfilesRequest,
) -> OpResult<ListInstanceProfilesResponse> {
    let max = validate::page(&input.page)?;
    let prefix = path_prefix(input)?;
    let sql = format!(
        "SELECT {PROFILE_COLUMNS} FROM profiles
         WHERE (?1 IS NULL OR name > ?1) AND substr(path, 1, length(?2)) = ?2
         ORDER BY name LIMIT ?3"
    );
    let mut stmt = cx.db.prepare_cached(&sql)?;
    let rows: Vec<ProfileRow> = stmt
        .query_map(
            params![input.page.marker, prefix, max as i64 + 1],
            profile_row,
        )?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    profile_page(cx, rows, max)
}

pub fn list_instance_profiles_for_role(
    cx: &Ctx,
    input: &ListInstanceProfilesForRoleRequest,
) -> OpResult<ListInstanceProfilesForRoleResponse> {
    let max = validate::page(&input.page)?;
    let role = existing_role(cx, &input.role_name)?;
    let sql = format!(
        "SELECT {PROFILE_COLUMNS} FROM profiles
         WHERE role = ?1 AND (?2 IS NULL OR name > ?2) ORDER BY name LIMIT ?3"
    );
    let mut stmt = cx.db.prepare_cached(&sql)?;
    let rows: Vec<ProfileRow> = stmt
        .query_map(
            params![role.id, input.page.marker, max as i64 + 1],
            profile_row,
        )?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    profile_page(cx, rows, max)
}

pub fn tag_instance_profile(cx: &Ctx, input: &TagInstanceProfileRequest) -> OpResult<()> {
    validate::instance_profile_name(&input.instance_profile_name)?;
    validate::tags(&input.tags, KeyCase::Sensitive)?;
    let profile = existing_profile(cx, &input.instance_profile_name)?;
    if PROFILE_TAGS.count_after(cx.db, profile.id, &input.tags, KeyCase::Sensitive)?
        > validate::MAX_TAGS
    {
        return tags_limit("InstanceProfile");
    }
    PROFILE_TAGS.upsert(cx.db, profile.id, &input.tags, KeyCase::Sensitive)?;
    Ok(())
}

pub fn untag_instance_profile(cx: &Ctx, input: &UntagInstanceProfileRequest) -> OpResult<()> {
    validate::instance_profile_name(&input.instance_profile_name)?;
    validate::tag_keys(&input.tag_keys)?;
    let profile = existing_profile(cx, &input.instance_profile_name)?;
    PROFILE_TAGS.remove(cx.db, profile.id, &input.tag_keys, KeyCase::Sensitive)?;
    Ok(())
}

pub fn list_instance_profile_tags(
    cx: &Ctx,
    input: &ListInstanceProfileTagsRequest,
) -> OpResult<ListInstanceProfileTagsResponse> {
    validate::page(&input.page)?;
    let profile = existing_profile(cx, &input.instance_profile_name)?;
    list_tags(PROFILE_TAGS.of(cx.db, profile.id)?, &input.page)
}

// ---- account -----------------------------------------------------------------

/// What the account holds and may hold of roles and instance profiles, as
/// `GetAccountSummary`'s `SummaryMap` says it: counts, the account's quotas
/// (its settings, or a handle's override), and the per-role limits the
/// emulator enforces, and how many customer-managed policies it holds.
pub fn get_account_summary(
    cx: &Ctx,
    _input: &GetAccountSummaryRequest,
) -> OpResult<GetAccountSummaryResponse> {
    let count = |table: &str| -> rusqlite::Result<u32> {
        cx.db
            .prepare_cached(&format!("SELECT count(*) FROM {table}"))?
            .query_row([], |r| r.get(0))
    };
    let quotas = &cx.settings.quotas;
    let size = |limit: usize| u32::try_from(limit).ok();
    Ok(GetAccountSummaryResponse {
        summary_map: SummaryMap {
            roles: Some(count("roles")?),
            roles_quota: Some(quotas.max_roles),
            instance_profiles: Some(count("profiles")?),
            instance_profiles_quota: Some(quotas.max_instance_profiles),
            attached_policies_per_role_quota: size(validate::MAX_MANAGED_POLICIES),
            role_policy_size_quota: size(validate::MAX_INLINE_SIZE),
            assume_role_policy_size_quota: size(validate::MAX_TRUST_SIZE),
            policies: Some(super::policies::policy_count(cx.db)?),
        },
    })
}
