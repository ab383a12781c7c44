//! IAM operations on managed policies: the account's own (customer-managed,
//! schema 4: `policies`, `policy_versions`, `policy_tags`) with their
//! versions and tags, and the AWS-managed ones of the bundled list
//! (`model::aws_policies`), which the account can read and attach but not
//! change. AWS's rules and messages; the facts and their sources are in
//! docs/aws-semantics.md §16.
//!
//! A policy's attachments are `role_managed` rows (by ARN), its use as a
//! permissions boundary `roles.boundary`: AttachmentCount and
//! PermissionsBoundaryUsageCount count them, so they are always right.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::iam::{keyset_page, list_tags, tags_limit};
use super::store::{self, POLICY_TAGS};
use super::validate::{self, KeyCase};
use super::{Ctx, OpResult, ids, reject};
use rolecall_cloud::ErrorCode;
use rolecall_cloud::iam::*;
use rolecall_cloud::snapshot::version_number;
use rolecall_model::aws_policies::{self, AwsPolicy};
use rolecall_model::policy::url_encode;

/// The values of `Scope` (ListPolicies).
const SCOPES: &[&str] = &["All", "AWS", "Local"];
/// `PolicyUsageFilter`'s values (botocore's `PolicyUsageType`).
const USAGES: &[&str] = &["PermissionsPolicy", "PermissionsBoundary"];
/// The values of `EntityFilter` (ListEntitiesForPolicy).
const ENTITY_FILTERS: &[&str] = &[
    "User",
    "Role",
    "Group",
    "LocalManagedPolicy",
    "AWSManagedPolicy",
];

/// A customer-managed policy as stored.
pub struct PolicyRow {
    pub id: i64,
    pub name: String,
    pub path: String,
    pub policy_id: String,
    pub arn: String,
    pub description: Option<String>,
    pub create_date: String,
    pub update_date: String,
    /// The number of the default version (`3` for `v3`).
    pub default_version: i64,
}

pub const POLICY_COLUMNS: &str =
    "id, name, path, policy_id, arn, description, create_date, update_date, default_version";

pub fn policy_row(r: &Row) -> rusqlite::Result<PolicyRow> {
    Ok(PolicyRow {
        id: r.get(0)?,
        name: r.get(1)?,
        path: r.get(2)?,
        policy_id: r.get(3)?,
        arn: r.get(4)?,
        description: r.get(5)?,
        create_date: r.get(6)?,
        update_date: r.get(7)?,
        default_version: r.get(8)?,
    })
}

/// A version id as IAM writes it: `v` and its number.
pub fn version_id(number: i64) -> String {
    format!("v{number}")
}

/// The account's policy of ARN `arn` (ARNs compare exactly), if any. An
/// account of a schema older than the policies' holds none.
pub fn find_by_arn(db: &Connection, arn: &str) -> rusqlite::Result<Option<PolicyRow>> {
    if !store::has_policies(db)? {
        return Ok(None);
    }
    let sql = format!("SELECT {POLICY_COLUMNS} FROM policies WHERE arn = ?1");
    db.prepare_cached(&sql)?
        .query_row([arn], policy_row)
        .optional()
}

fn find_by_name(db: &Connection, name: &str) -> rusqlite::Result<Option<PolicyRow>> {
    let sql = format!("SELECT {POLICY_COLUMNS} FROM policies WHERE name = ?1");
    db.prepare_cached(&sql)?
        .query_row([name], policy_row)
        .optional()
}

/// What a policy ARN names for this account.
enum Target {
    /// One of the account's own policies.
    Local(PolicyRow),
    /// An AWS-managed policy of the bundled list.
    Aws,
    /// Nothing: another account's policy, or one that does not exist.
    Missing,
}

/// The policy an ARN names, after checking the ARN's form as IAM does
/// (InvalidInput `ARN x is not valid.`).
fn target(cx: &Ctx, arn: &str) -> OpResult<Target> {
    validate::policy_arn(arn, "policyArn")?;
    if let Some(row) = find_by_arn(cx.db, arn)? {
        return Ok(Target::Local(row));
    }
    Ok(match aws_policies::aws_policy(arn) {
        Some(AwsPolicy::Attachable | AwsPolicy::ServiceRole) => Target::Aws,
        _ => Target::Missing,
    })
}

/// NoSuchEntity as GetPolicy, DeletePolicy and the tag calls answer it.
fn not_found<T>(arn: &str) -> OpResult<T> {
    reject(
        ErrorCode::NoSuchEntity,
        format!("Policy {arn} was not found."),
    )
}

/// NoSuchEntity as the version calls answer it, for a missing policy and a
/// missing version alike.
fn version_not_found<T>(arn: &str, version: &str) -> OpResult<T> {
    reject(
        ErrorCode::NoSuchEntity,
        format!("Policy {arn} version {version} does not exist or is not attachable."),
    )
}

/// What a change to an AWS-managed policy gets: it lives in AWS's account,
/// not the caller's. The text is IAM's authorization refusal, with a
/// policy named as IAM names policies in it (`policy ARN`,
/// aws/amplify-js#7540); that IAM refuses so is UNCONFIRMED.
fn aws_managed_refused<T>(cx: &Ctx, action: &str, arn: &str) -> OpResult<T> {
    reject(
        ErrorCode::AccessDenied,
        format!(
            "User: {} is not authorized to perform: iam:{action} on resource: policy {arn}",
            cx.caller_arn()
        ),
    )
}

fn count(db: &Connection, sql: &str, arn: &str) -> rusqlite::Result<u32> {
    db.prepare_cached(sql)?.query_row([arn], |r| r.get(0))
}

/// How many roles the policy `arn` is attached to.
pub fn attachment_count(db: &Connection, arn: &str) -> rusqlite::Result<u32> {
    count(db, "SELECT count(*) FROM role_managed WHERE arn = ?1", arn)
}

/// How many roles have the policy `arn` as their permissions boundary.
pub fn boundary_usage_count(db: &Connection, arn: &str) -> rusqlite::Result<u32> {
    count(db, "SELECT count(*) FROM roles WHERE boundary = ?1", arn)
}

/// How many versions the policy holds, its default among them.
fn version_count(db: &Connection, policy: i64) -> rusqlite::Result<usize> {
    db.prepare_cached("SELECT count(*) FROM policy_versions WHERE policy = ?1")?
        .query_row([policy], |r| r.get::<_, i64>(0))
        .map(|n| usize::try_from(n).unwrap_or(0))
}

/// The stored text of a version's document, if the version exists.
fn version_document(
    db: &Connection,
    policy: i64,
    version: i64,
) -> rusqlite::Result<Option<(String, String)>> {
    db.prepare_cached(
        "SELECT d.text, v.create_date FROM policy_versions v JOIN documents d ON d.id = v.document
         WHERE v.policy = ?1 AND v.version = ?2",
    )?
    .query_row(params![policy, version], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

/// The number of a version id (`v3` is 3; `v3.x` names no version IAM
/// makes, so it matches none): the inverse of [`version_id`], for requests
/// and for imported accounts alike.
pub fn version_number_of(id: &str) -> Option<i64> {
    id.strip_prefix('v')?.parse().ok()
}

/// What shows of a policy beyond its identity: GetPolicy shows the
/// description and tags, CreatePolicy the tags it was given, ListPolicies
/// neither (as IAM answers each; docs/aws-semantics.md §16).
#[derive(Clone, Copy)]
struct Shown {
    description: bool,
    tags: bool,
}

impl PolicyRow {
    fn to_policy(&self, db: &Connection, shown: Shown) -> rusqlite::Result<Policy> {
        let usage = (
            attachment_count(db, &self.arn)?,
            boundary_usage_count(db, &self.arn)?,
        );
        self.to_policy_used(db, shown, usage)
    }

    /// [`Self::to_policy`] with its (attachments, boundaries) already
    /// counted, as ListPolicies counts every policy's in two queries.
    fn to_policy_used(
        &self,
        db: &Connection,
        shown: Shown,
        (attachments, boundaries): (u32, u32),
    ) -> rusqlite::Result<Policy> {
        Ok(Policy {
            policy_name: self.name.clone(),
            policy_id: self.policy_id.clone(),
            arn: self.arn.clone(),
            path: self.path.clone(),
            default_version_id: version_id(self.default_version),
            attachment_count: attachments,
            permissions_boundary_usage_count: boundaries,
            is_attachable: true,
            description: if shown.description {
                self.description.clone()
            } else {
                None
            },
            create_date: self.create_date.clone(),
            update_date: self.update_date.clone(),
            tags: if shown.tags {
                POLICY_TAGS.of(db, self.id)?
            } else {
                Vec::new()
            },
        })
    }
}

/// The date AWS-managed policies are given: the bundled list's own (it
/// records no dates per policy).
fn aws_list_date() -> String {
    format!("{}T00:00:00+00:00", aws_policies::list_date())
}

/// An AWS-managed policy as GetPolicy and ListPolicies show it, with this
/// account's attachments of it. The list holds no id, description or
/// dates: the id is derived from the ARN, the dates are the list's.
fn aws_policy(arn: &str, attachments: u32, boundaries: u32) -> Policy {
    let path_and_name = arn
        .strip_prefix(aws_policies::AWS_POLICY_PREFIX)
        .unwrap_or(arn);
    let (path, name) = match path_and_name.rfind('/') {
        Some(at) => (&path_and_name[..=at], &path_and_name[at + 1..]),
        None => ("/", path_and_name),
    };
    Policy {
        policy_name: name.to_string(),
        policy_id: ids::aws_policy_id(arn),
        arn: arn.to_string(),
        path: path.to_string(),
        default_version_id: aws_policies::aws_policy_version(arn)
            .unwrap_or("v1")
            .to_string(),
        attachment_count: attachments,
        permissions_boundary_usage_count: boundaries,
        is_attachable: true,
        description: None,
        create_date: aws_list_date(),
        update_date: aws_list_date(),
        tags: Vec::new(),
    }
}

// ---- policies -----------------------------------------------------------------

pub fn create_policy(cx: &Ctx, input: &CreatePolicyRequest) -> OpResult<CreatePolicyResponse> {
    validate::policy_name(&input.policy_name)?;
    let path = input.path.as_deref().unwrap_or("/");
    validate::policy_path(path, "path")?;
    if let Some(description) = &input.description {
        validate::policy_description(description)?;
    }
    // Tags are all-or-nothing: a bad tag fails the whole request.
    validate::policy_tags(&input.tags)?;
    let document = validate::managed_document(&input.policy_document)?;
    if find_by_name(cx.db, &input.policy_name)?.is_some() {
        return reject(
            ErrorCode::EntityAlreadyExists,
            format!(
                "A policy called {} already exists. Duplicate names are not allowed.",
                input.policy_name
            ),
        );
    }
    let now = ids::timestamp(cx.now_ms);
    let arn = ids::policy_arn(cx.account_id(), path, &input.policy_name);
    cx.db
        .prepare_cached(
            "INSERT INTO policies (name, path, policy_id, arn, description, create_date,
                                   update_date, default_version, next_version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1, 2)",
        )?
        .execute(params![
            input.policy_name,
            path,
            ids::policy_id(),
            arn,
            input.description,
            now,
        ])?;
    let id = cx.db.last_insert_rowid();
    insert_version(cx, id, 1, &document)?;
    POLICY_TAGS.upsert(cx.db, id, &input.tags, KeyCase::Sensitive)?;
    let Some(row) = find_by_arn(cx.db, &arn)? else {
        return not_found(&arn);
    };
    Ok(PolicyResponse {
        policy: row.to_policy(
            cx.db,
            Shown {
                description: false,
                tags: !input.tags.is_empty(),
            },
        )?,
    })
}

fn insert_version(
    cx: &Ctx,
    policy: i64,
    number: i64,
    document: &validate::Document,
) -> rusqlite::Result<()> {
    cx.db
        .prepare_cached(
            "INSERT INTO policy_versions (policy, version, document, canonical, create_date)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            policy,
            number,
            store::document_id(cx.db, &document.text)?,
            store::document_id(cx.db, &document.canonical)?,
            ids::timestamp(cx.now_ms),
        ])?;
    Ok(())
}

pub fn get_policy(cx: &Ctx, input: &GetPolicyRequest) -> OpResult<GetPolicyResponse> {
    let policy = match target(cx, &input.policy_arn)? {
        Target::Local(row) => row.to_policy(
            cx.db,
            Shown {
                description: true,
                tags: true,
            },
        )?,
        Target::Aws => aws_policy(
            &input.policy_arn,
            attachment_count(cx.db, &input.policy_arn)?,
            boundary_usage_count(cx.db, &input.policy_arn)?,
        ),
        Target::Missing => return not_found(&input.policy_arn),
    };
    Ok(PolicyResponse { policy })
}

pub fn delete_policy(cx: &Ctx, input: &DeletePolicyRequest) -> OpResult<()> {
    let row = match target(cx, &input.policy_arn)? {
        Target::Local(row) => row,
        Target::Aws => return aws_managed_refused(cx, "DeletePolicy", &input.policy_arn),
        Target::Missing => return not_found(&input.policy_arn),
    };
    // Attachments first, then versions (AWS's order when both hold is
    // UNCONFIRMED). A permissions boundary counts as an attachment here,
    // as the console says (gruntwork-io/cloud-nuke#972).
    if attachment_count(cx.db, &row.arn)? > 0 || boundary_usage_count(cx.db, &row.arn)? > 0 {
        return reject(
            ErrorCode::DeleteConflict,
            "Cannot delete a policy attached to entities.",
        );
    }
    if version_count(cx.db, row.id)? > 1 {
        return reject(
            ErrorCode::DeleteConflict,
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
        );
    }
    cx.db
        .prepare_cached("DELETE FROM policies WHERE id = ?1")?
        .execute([row.id])?;
    Ok(())
}

// ---- versions -----------------------------------------------------------------

pub fn create_policy_version(
    cx: &Ctx,
    input: &CreatePolicyVersionRequest,
) -> OpResult<CreatePolicyVersionResponse> {
    validate::policy_arn(&input.policy_arn, "policyArn")?;
    let document = validate::managed_document(&input.policy_document)?;
    let row = match target(cx, &input.policy_arn)? {
        Target::Local(row) => row,
        Target::Aws => {
            return aws_managed_refused(cx, "CreatePolicyVersion", &input.policy_arn);
        }
        Target::Missing => return not_found(&input.policy_arn),
    };
    if version_count(cx.db, row.id)? >= validate::MAX_POLICY_VERSIONS {
        return reject(
            ErrorCode::LimitExceeded,
            format!(
                "A managed policy can have up to {} versions. Before you create a new version, you must delete an existing version.",
                validate::MAX_POLICY_VERSIONS
            ),
        );
    }
    let number: i64 = cx
        .db
        .prepare_cached("SELECT next_version FROM policies WHERE id = ?1")?
        .query_row([row.id], |r| r.get(0))?;
    // An imported account may carry any counter: at the end of the range
    // there is no next number to hand out.
    let Some(next) = number.checked_add(1) else {
        return reject(
            ErrorCode::LimitExceeded,
            format!(
                "Policy {} has used every version number; no version can be created.",
                input.policy_arn
            ),
        );
    };
    insert_version(cx, row.id, number, &document)?;
    let set_as_default = input.set_as_default.unwrap_or(false);
    // UpdateDate is when the newest version was made (botocore's model).
    cx.db
        .prepare_cached(
            "UPDATE policies SET next_version = ?2, update_date = ?3,
                                 default_version = CASE WHEN ?4 THEN ?5 ELSE default_version END
             WHERE id = ?1",
        )?
        .execute(params![
            row.id,
            next,
            ids::timestamp(cx.now_ms),
            set_as_default,
            number
        ])?;
    Ok(PolicyVersionResponse {
        policy_version: PolicyVersion {
            document: None,
            version_id: version_id(number),
            is_default_version: set_as_default,
            create_date: ids::timestamp(cx.now_ms),
        },
    })
}

pub fn get_policy_version(
    cx: &Ctx,
    input: &GetPolicyVersionRequest,
) -> OpResult<GetPolicyVersionResponse> {
    validate::version_id(&input.version_id)?;
    let arn = &input.policy_arn;
    let policy_version = match target(cx, arn)? {
        Target::Local(row) => {
            let found = match version_number_of(&input.version_id) {
                Some(number) => version_document(cx.db, row.id, number)?.map(|v| (number, v)),
                None => None,
            };
            let Some((number, (text, create_date))) = found else {
                return version_not_found(arn, &input.version_id);
            };
            PolicyVersion {
                document: Some(url_encode(&text)),
                version_id: version_id(number),
                is_default_version: number == row.default_version,
                create_date,
            }
        }
        // The bundled list holds the default version's document only.
        Target::Aws => {
            let default = aws_policies::aws_policy_version(arn).unwrap_or("v1");
            match aws_policies::aws_policy_document(arn) {
                Some(document) if input.version_id == default => PolicyVersion {
                    document: Some(url_encode(&document.to_json())),
                    version_id: default.to_string(),
                    is_default_version: true,
                    create_date: aws_list_date(),
                },
                _ => return version_not_found(arn, &input.version_id),
            }
        }
        Target::Missing => return version_not_found(arn, &input.version_id),
    };
    Ok(PolicyVersionResponse { policy_version })
}

pub fn list_policy_versions(
    cx: &Ctx,
    input: &ListPolicyVersionsRequest,
) -> OpResult<ListPolicyVersionsResponse> {
    let max = validate::page(&input.page)?;
    let arn = &input.policy_arn;
    let row = match target(cx, arn)? {
        Target::Local(row) => row,
        Target::Aws => {
            let default = aws_policies::aws_policy_version(arn).unwrap_or("v1");
            return Ok(ListPolicyVersionsResponse {
                versions: vec![PolicyVersion {
                    document: None,
                    version_id: default.to_string(),
                    is_default_version: true,
                    create_date: aws_list_date(),
                }],
                is_truncated: false,
                marker: None,
            });
        }
        Target::Missing => return not_found(arn),
    };
    // Newest first, as IAM lists them; the marker is the last version given.
    let before = input
        .page
        .marker
        .as_deref()
        .map(|marker| i64::try_from(version_number(marker)).unwrap_or(i64::MAX));
    let rows: Vec<(i64, String)> = cx
        .db
        .prepare_cached(
            "SELECT version, create_date FROM policy_versions
             WHERE policy = ?1 AND (?2 IS NULL OR version < ?2)
             ORDER BY version DESC LIMIT ?3",
        )?
        .query_map(params![row.id, before, max as i64 + 1], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let (versions, is_truncated, marker) = keyset_page(
        &rows,
        max,
        |(number, create_date)| {
            Ok(PolicyVersion {
                document: None,
                version_id: version_id(*number),
                is_default_version: *number == row.default_version,
                create_date: create_date.clone(),
            })
        },
        |version| &version.version_id,
    )?;
    Ok(ListPolicyVersionsResponse {
        versions,
        is_truncated,
        marker,
    })
}

/// The account's policy and the number of one of its versions, or the
/// error the version calls answer.
fn local_version(
    cx: &Ctx,
    action: &str,
    input: &PolicyVersionRequest,
) -> OpResult<(PolicyRow, i64)> {
    validate::version_id(&input.version_id)?;
    let arn = &input.policy_arn;
    let row = match target(cx, arn)? {
        Target::Local(row) => row,
        Target::Aws => return aws_managed_refused(cx, action, arn),
        Target::Missing => return version_not_found(arn, &input.version_id),
    };
    match version_number_of(&input.version_id) {
        Some(number) if version_document(cx.db, row.id, number)?.is_some() => Ok((row, number)),
        _ => version_not_found(arn, &input.version_id),
    }
}

pub fn delete_policy_version(cx: &Ctx, input: &DeletePolicyVersionRequest) -> OpResult<()> {
    let (row, number) = local_version(cx, "DeletePolicyVersion", input)?;
    if number == row.default_version {
        return reject(
            ErrorCode::DeleteConflict,
            "Cannot delete the default version of a policy.",
        );
    }
    cx.db
        .prepare_cached("DELETE FROM policy_versions WHERE policy = ?1 AND version = ?2")?
        .execute(params![row.id, number])?;
    // UpdateDate follows the newest version left.
    cx.db
        .prepare_cached(
            "UPDATE policies SET update_date =
                 (SELECT create_date FROM policy_versions WHERE policy = ?1
                  ORDER BY version DESC LIMIT 1)
             WHERE id = ?1",
        )?
        .execute([row.id])?;
    Ok(())
}

pub fn set_default_policy_version(
    cx: &Ctx,
    input: &SetDefaultPolicyVersionRequest,
) -> OpResult<()> {
    let (row, number) = local_version(cx, "SetDefaultPolicyVersion", input)?;
    cx.db
        .prepare_cached("UPDATE policies SET default_version = ?2 WHERE id = ?1")?
        .execute(params![row.id, number])?;
    Ok(())
}

// ---- lists ----------------------------------------------------------------------

/// Attachment and boundary counts of every policy that has any, by ARN.
fn usage_counts(db: &Connection) -> rusqlite::Result<HashMap<String, (u32, u32)>> {
    let mut counts: HashMap<String, (u32, u32)> = HashMap::new();
    let mut attached = db.prepare_cached("SELECT arn, count(*) FROM role_managed GROUP BY arn")?;
    for row in attached.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))? {
        let (arn, n) = row?;
        counts.entry(arn).or_default().0 = n;
    }
    let mut bounded = db.prepare_cached(
        "SELECT boundary, count(*) FROM roles WHERE boundary IS NOT NULL GROUP BY boundary",
    )?;
    for row in bounded.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))? {
        let (arn, n) = row?;
        counts.entry(arn).or_default().1 = n;
    }
    Ok(counts)
}

/// The name in a policy ARN (its last segment).
fn name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

pub fn list_policies(cx: &Ctx, input: &ListPoliciesRequest) -> OpResult<ListPoliciesResponse> {
    let scope = input.scope.as_deref().unwrap_or("All");
    validate::one_of(scope, "scope", SCOPES)?;
    let prefix = input.path_prefix.as_deref().unwrap_or("/");
    validate::policy_path(prefix, "pathPrefix")?;
    let max = validate::page(&input.page)?;
    let only_attached = input.only_attached.unwrap_or(false);
    if let Some(usage) = &input.policy_usage_filter {
        validate::one_of(usage, "policyUsageFilter", USAGES)?;
    }
    let counts = usage_counts(cx.db)?;
    let usage = |arn: &str| counts.get(arn).copied().unwrap_or_default();
    let mut policies: Vec<Policy> = Vec::new();
    if scope != "AWS" && store::has_policies(cx.db)? {
        let sql =
            format!("SELECT {POLICY_COLUMNS} FROM policies WHERE substr(path, 1, length(?1)) = ?1");
        let rows: Vec<PolicyRow> = cx
            .db
            .prepare_cached(&sql)?
            .query_map([prefix], policy_row)?
            .collect::<rusqlite::Result<_>>()?;
        for row in rows {
            let shown = Shown {
                description: false,
                tags: false,
            };
            policies.push(row.to_policy_used(cx.db, shown, usage(&row.arn))?);
        }
    }
    if scope != "Local" {
        for arn in aws_policies::aws_policy_arns() {
            let path = arn
                .strip_prefix(aws_policies::AWS_POLICY_PREFIX)
                .unwrap_or(&arn);
            if !path.starts_with(prefix) {
                continue;
            }
            let (attachments, boundaries) = usage(&arn);
            policies.push(aws_policy(&arn, attachments, boundaries));
        }
    }
    if only_attached {
        policies.retain(|policy| policy.attachment_count > 0);
    }
    // Policies used as the filter says: attached as a permissions policy,
    // or set as a permissions boundary (what IAM's documentation says of
    // the filter; whether IAM means "in use" for PermissionsPolicy is
    // UNCONFIRMED, and moto ignores the parameter).
    match input.policy_usage_filter.as_deref() {
        Some("PermissionsPolicy") => policies.retain(|policy| policy.attachment_count > 0),
        Some("PermissionsBoundary") => {
            policies.retain(|policy| policy.permissions_boundary_usage_count > 0)
        }
        _ => {}
    }
    // By name, then ARN (an account's policy may share an AWS-managed
    // one's name); the marker is the last ARN given.
    policies.sort_by(|a, b| {
        (a.policy_name.as_str(), a.arn.as_str()).cmp(&(b.policy_name.as_str(), b.arn.as_str()))
    });
    let after = input
        .page
        .marker
        .as_deref()
        .map(|arn| (name_of(arn).to_string(), arn.to_string()));
    let mut page: Vec<Policy> = policies
        .into_iter()
        .filter(|policy| {
            after.as_ref().is_none_or(|(name, arn)| {
                (policy.policy_name.as_str(), policy.arn.as_str()) > (name.as_str(), arn.as_str())
            })
        })
        .take(max + 1)
        .collect();
    let is_truncated = page.len() > max;
    page.truncate(max);
    let marker = if is_truncated {
        page.last().map(|policy| policy.arn.clone())
    } else {
        None
    };
    Ok(ListPoliciesResponse {
        policies: page,
        is_truncated,
        marker,
    })
}

pub fn list_entities_for_policy(
    cx: &Ctx,
    input: &ListEntitiesForPolicyRequest,
) -> OpResult<ListEntitiesForPolicyResponse> {
    if let Some(filter) = &input.entity_filter {
        validate::one_of(filter, "entityFilter", ENTITY_FILTERS)?;
    }
    if let Some(usage) = &input.policy_usage_filter {
        validate::one_of(usage, "policyUsageFilter", USAGES)?;
    }
    let (attached, bounded) = match input.policy_usage_filter.as_deref() {
        Some("PermissionsPolicy") => (true, false),
        Some("PermissionsBoundary") => (false, true),
        _ => (true, true),
    };
    let prefix = input.path_prefix.as_deref().unwrap_or("/");
    validate::path_named(prefix, "pathPrefix")?;
    let max = validate::page(&input.page)?;
    if matches!(target(cx, &input.policy_arn)?, Target::Missing) {
        return reject(
            ErrorCode::NoSuchEntity,
            format!(
                "Policy {} does not exist or is not attachable.",
                input.policy_arn
            ),
        );
    }
    // The account holds roles only: another filter finds nothing.
    if input
        .entity_filter
        .as_deref()
        .is_some_and(|filter| filter != "Role")
    {
        return Ok(ListEntitiesForPolicyResponse::default());
    }
    // Roles the policy is attached to or bounds: with no PolicyUsageFilter
    // IAM lists both uses (botocore's model), with one only that use.
    let rows: Vec<(String, String)> = cx
        .db
        .prepare_cached(
            "SELECT name, role_id FROM roles
             WHERE ((?5 AND id IN (SELECT role FROM role_managed WHERE arn = ?1))
                    OR (?6 AND boundary = ?1))
               AND substr(path, 1, length(?2)) = ?2 AND (?3 IS NULL OR name > ?3)
             ORDER BY name LIMIT ?4",
        )?
        .query_map(
            params![
                input.policy_arn,
                prefix,
                input.page.marker,
                max as i64 + 1,
                attached,
                bounded
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let (policy_roles, is_truncated, marker) = keyset_page(
        &rows,
        max,
        |(role_name, role_id)| {
            Ok(PolicyRole {
                role_name: role_name.clone(),
                role_id: role_id.clone(),
            })
        },
        |role| &role.role_name,
    )?;
    Ok(ListEntitiesForPolicyResponse {
        policy_roles,
        is_truncated,
        marker,
    })
}

// ---- tags -------------------------------------------------------------------------

/// The account's policy a tag call names, or the error it gets.
fn taggable(cx: &Ctx, action: &str, arn: &str) -> OpResult<PolicyRow> {
    match target(cx, arn)? {
        Target::Local(row) => Ok(row),
        Target::Aws => aws_managed_refused(cx, action, arn),
        Target::Missing => not_found(arn),
    }
}

pub fn tag_policy(cx: &Ctx, input: &TagPolicyRequest) -> OpResult<()> {
    validate::policy_arn(&input.policy_arn, "policyArn")?;
    validate::policy_tags(&input.tags)?;
    let row = taggable(cx, "TagPolicy", &input.policy_arn)?;
    if POLICY_TAGS.count_after(cx.db, row.id, &input.tags, KeyCase::Sensitive)? > validate::MAX_TAGS
    {
        return tags_limit("Policy");
    }
    POLICY_TAGS.upsert(cx.db, row.id, &input.tags, KeyCase::Sensitive)?;
    Ok(())
}

pub fn untag_policy(cx: &Ctx, input: &UntagPolicyRequest) -> OpResult<()> {
    validate::policy_arn(&input.policy_arn, "policyArn")?;
    validate::tag_keys(&input.tag_keys)?;
    let row = taggable(cx, "UntagPolicy", &input.policy_arn)?;
    POLICY_TAGS.remove(cx.db, row.id, &input.tag_keys, KeyCase::Sensitive)?;
    Ok(())
}

pub fn list_policy_tags(
    cx: &Ctx,
    input: &ListPolicyTagsRequest,
) -> OpResult<ListPolicyTagsResponse> {
    validate::page(&input.page)?;
    match target(cx, &input.policy_arn)? {
        Target::Local(row) => list_tags(POLICY_TAGS.of(cx.db, row.id)?, &input.page),
        // AWS-managed policies carry no tags an account can see (GetPolicy
        // answers `Tags: []` for them).
        Target::Aws => list_tags(Vec::new(), &input.page),
        Target::Missing => not_found(&input.policy_arn),
    }
}

// ---- what other calls need of policies -----------------------------------------------

/// Whether the account's own policy `arn` exists: what AttachRolePolicy and
/// a permissions boundary need of an ARN outside the AWS-managed namespace.
pub fn holds(db: &Connection, arn: &str) -> rusqlite::Result<bool> {
    Ok(find_by_arn(db, arn)?.is_some())
}

/// How many customer-managed policies the account holds (GetAccountSummary's
/// `Policies`).
pub fn policy_count(db: &Connection) -> rusqlite::Result<u32> {
    if !store::has_policies(db)? {
        return Ok(0);
    }
    db.prepare_cached("SELECT count(*) FROM policies")?
        .query_row([], |r| r.get(0))
}

/// The account's policies with every version and its document, as
/// GetAccountAuthorizationDetails gives them (`Filter=LocalManagedPolicy`):
/// up to `limit` rows after `after` (a name), by name.
pub fn details(
    db: &Connection,
    after: Option<&str>,
    limit: usize,
) -> rusqlite::Result<Vec<ManagedPolicyDetail>> {
    if !store::has_policies(db)? {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {POLICY_COLUMNS} FROM policies WHERE (?1 IS NULL OR name > ?1) ORDER BY name LIMIT ?2"
    );
    let rows: Vec<PolicyRow> = db
        .prepare_cached(&sql)?
        .query_map(params![after, limit as i64], policy_row)?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|row| {
            let mut versions = db.prepare_cached(
                "SELECT v.version, d.text, v.create_date
                 FROM policy_versions v JOIN documents d ON d.id = v.document
                 WHERE v.policy = ?1 ORDER BY v.version DESC",
            )?;
            let policy_version_list = versions
                .query_map([row.id], |r| {
                    let number: i64 = r.get(0)?;
                    Ok(PolicyVersion {
                        document: Some(url_encode(&r.get::<_, String>(1)?)),
                        version_id: version_id(number),
                        is_default_version: number == row.default_version,
                        create_date: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(ManagedPolicyDetail {
                policy_name: row.name.clone(),
                policy_id: row.policy_id.clone(),
                arn: row.arn.clone(),
                path: row.path.clone(),
                default_version_id: version_id(row.default_version),
                attachment_count: attachment_count(db, &row.arn)?,
                permissions_boundary_usage_count: boundary_usage_count(db, &row.arn)?,
                is_attachable: true,
                description: row.description.clone(),
                create_date: row.create_date.clone(),
                update_date: row.update_date.clone(),
                policy_version_list,
            })
        })
        .collect()
}

/// The default version's canonical document of each of the account's
/// policies among `arns`, with its ARN: what a role holding them (attached
/// or as its boundary) is allowed. ARNs the account holds no policy of are
/// left out.
pub fn default_documents<'a>(
    db: &Connection,
    arns: impl IntoIterator<Item = &'a str>,
) -> rusqlite::Result<Vec<(String, String)>> {
    if !store::has_policies(db)? {
        return Ok(Vec::new());
    }
    let mut statement = db.prepare_cached(
        "SELECT d.text FROM policies p
         JOIN policy_versions v ON v.policy = p.id AND v.version = p.default_version
         JOIN documents d ON d.id = v.canonical
         WHERE p.arn = ?1",
    )?;
    let mut found = Vec::new();
    for arn in arns {
        if let Some(text) = statement
            .query_row([arn], |r| r.get::<_, String>(0))
            .optional()?
        {
            found.push((arn.to_string(), text));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ids_are_v_and_a_number() {
        assert_eq!(version_id(3), "v3");
        assert_eq!(version_number_of("v12"), Some(12));
        assert_eq!(version_number_of("v1.beta"), None);
    }

    #[test]
    fn aws_managed_policies_are_shown_with_their_path_and_default_version() {
        let arn = "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM";
        let policy = aws_policy(arn, 2, 0);
        assert_eq!(policy.policy_name, "AmazonEC2RoleforSSM");
        assert_eq!(policy.path, "/service-role/");
        assert_eq!(policy.attachment_count, 2);
        assert_eq!(
            Some(policy.default_version_id.as_str()),
            aws_policies::aws_policy_version(arn)
        );
        assert!(ids::is_unique_id(&policy.policy_id, "ANPA"));
    }
}
