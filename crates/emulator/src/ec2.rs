//! EC2 instances and instance-profile associations, with AWS's rules and messages.
//!
//! Instances change state at once (running, stopped, terminated). Only live
//! associations are stored, one per instance; whether one is still
//! `associating` follows from its `ready_at_ms`, evaluated when read.

use std::collections::HashSet;

use rusqlite::{Connection, Row, params};

use super::iam::{ProfileRow, find_profile, find_profile_by_arn};
use super::store::{self, INSTANCE_TAGS};
use super::validate::KeyCase;
use super::{Ctx, OpError, OpResult, ids, reject};
use rolecall_cloud::ErrorCode;
use rolecall_cloud::ec2::*;
use rolecall_model::{AssociationState, InstanceState};

const DEFAULT_IMAGE_ID: &str = "ami-0abcdef1234567890";
const DEFAULT_INSTANCE_TYPE: &str = "t3.micro";
/// Most instances one RunInstances call launches here (a guard, not an AWS rule).
const MAX_LAUNCH: u32 = 1000;

pub struct InstanceRow {
    pub id: i64,
    pub instance_id: String,
    pub reservation_id: String,
    pub image_id: String,
    pub instance_type: String,
    pub launch_time: String,
    pub state: InstanceState,
}

const INSTANCE_COLUMNS: &str =
    "id, instance_id, reservation_id, image_id, instance_type, launch_time, state";

/// A stored state (the emulator writes only AWS's names; anything else
/// reads as running, as it always has).
pub fn parse_state(text: &str) -> InstanceState {
    InstanceState::parse(text).unwrap_or(InstanceState::Running)
}

fn instance_row(r: &Row) -> rusqlite::Result<InstanceRow> {
    Ok(InstanceRow {
        id: r.get(0)?,
        instance_id: r.get(1)?,
        reservation_id: r.get(2)?,
        image_id: r.get(3)?,
        instance_type: r.get(4)?,
        launch_time: r.get(5)?,
        state: parse_state(&r.get::<_, String>(6)?),
    })
}

pub struct AssociationRow {
    pub id: i64,
    pub association_id: String,
    pub instance: i64,
    pub instance_id: String,
    pub profile_arn: String,
    pub profile_id: String,
    pub timestamp: String,
    pub ready_at_ms: i64,
}

const ASSOCIATION_SELECT: &str = "SELECT a.id, a.association_id, a.instance, i.instance_id,
        a.profile_arn, a.profile_id, a.timestamp, a.ready_at_ms
    FROM associations a JOIN instances i ON i.id = a.instance";

fn association_row(r: &Row) -> rusqlite::Result<AssociationRow> {
    Ok(AssociationRow {
        id: r.get(0)?,
        association_id: r.get(1)?,
        instance: r.get(2)?,
        instance_id: r.get(3)?,
        profile_arn: r.get(4)?,
        profile_id: r.get(5)?,
        timestamp: r.get(6)?,
        ready_at_ms: r.get(7)?,
    })
}

/// `associating` until `ready_at_ms`, then `associated`.
pub fn association_state(ready_at_ms: i64, now_ms: i64) -> AssociationState {
    if now_ms < ready_at_ms {
        AssociationState::Associating
    } else {
        AssociationState::Associated
    }
}

impl AssociationRow {
    fn to_association(&self, state: AssociationState) -> IamInstanceProfileAssociation {
        IamInstanceProfileAssociation {
            association_id: self.association_id.clone(),
            instance_id: self.instance_id.clone(),
            iam_instance_profile: IamInstanceProfile {
                arn: self.profile_arn.clone(),
                id: self.profile_id.clone(),
            },
            state: state.as_str().to_string(),
            timestamp: self.timestamp.clone(),
        }
    }
}

fn association_of(db: &Connection, instance: i64) -> rusqlite::Result<Option<AssociationRow>> {
    let sql = format!("{ASSOCIATION_SELECT} WHERE a.instance = ?1");
    store::optional(
        db.prepare_cached(&sql)?
            .query_row([instance], association_row),
    )
}

fn state_info(state: InstanceState) -> InstanceStateInfo {
    InstanceStateInfo {
        code: state.code(),
        name: state.as_str().to_string(),
    }
}

fn to_instance(db: &Connection, row: &InstanceRow) -> rusqlite::Result<Instance> {
    Ok(Instance {
        instance_id: row.instance_id.clone(),
        image_id: row.image_id.clone(),
        instance_type: row.instance_type.clone(),
        launch_time: row.launch_time.clone(),
        state: state_info(row.state),
        iam_instance_profile: association_of(db, row.id)?.map(|a| IamInstanceProfile {
            arn: a.profile_arn,
            id: a.profile_id,
        }),
        tags: INSTANCE_TAGS.of(db, row.id)?,
    })
}

/// The instance with this id, or EC2's Malformed / NotFound error.
fn instance(cx: &Ctx, id: &str) -> OpResult<InstanceRow> {
    if !ids::is_ec2_id(id, "i-") {
        return reject(
            ErrorCode::InvalidInstanceIdMalformed,
            format!("Invalid id: \"{id}\" (expecting \"i-...\")"),
        );
    }
    let sql = format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE instance_id = ?1");
    match store::optional(cx.db.prepare_cached(&sql)?.query_row([id], instance_row))? {
        Some(row) => Ok(row),
        None => reject(
            ErrorCode::InvalidInstanceIdNotFound,
            format!("The instance ID '{id}' does not exist"),
        ),
    }
}

/// All the named instances, or one error naming every id that does not exist.
fn instances(cx: &Ctx, ids_: &[String]) -> OpResult<Vec<InstanceRow>> {
    let mut rows = Vec::with_capacity(ids_.len());
    let mut missing = Vec::new();
    for id in ids_ {
        match instance(cx, id) {
            Ok(row) => rows.push(row),
            Err(OpError::Aws(ErrorCode::InvalidInstanceIdNotFound, _)) => missing.push(id.as_str()),
            Err(other) => return Err(other),
        }
    }
    match missing.as_slice() {
        [] => Ok(rows),
        [one] => reject(
            ErrorCode::InvalidInstanceIdNotFound,
            format!("The instance ID '{one}' does not exist"),
        ),
        many => reject(
            ErrorCode::InvalidInstanceIdNotFound,
            format!("The instance IDs '{}' do not exist", many.join(", ")),
        ),
    }
}

/// The profile an EC2 request names, as EC2 sees it: unknown and
/// not-yet-propagated profiles are both InvalidParameterValue, as on AWS.
fn profile_for_ec2(cx: &Ctx, spec: &IamInstanceProfileSpecification) -> OpResult<ProfileRow> {
    let (found, param, value, kind) = match (&spec.arn, &spec.name) {
        (Some(arn), _) => (find_profile_by_arn(cx.db, arn)?, "arn", arn, "ARN"),
        (None, Some(name)) => (find_profile(cx.db, name)?, "name", name, "name"),
        (None, None) => {
            return reject(
                ErrorCode::MissingParameter,
                "The request must contain the parameter iamInstanceProfile.name or iamInstanceProfile.arn",
            );
        }
    };
    let message = format!(
        "Value ({value}) for parameter iamInstanceProfile.{param} is invalid. Invalid IAM Instance Profile {kind}"
    );
    match found {
        None => reject(ErrorCode::InvalidParameterValue, message),
        Some(profile) if cx.now_ms < profile.visible_at_ms => Err(OpError::NotYetVisible(
            ErrorCode::InvalidParameterValue,
            message,
        )),
        Some(profile) => Ok(profile),
    }
}

fn insert_association(cx: &Ctx, instance: i64, profile: &ProfileRow) -> OpResult<AssociationRow> {
    // 0: associated at once (keeps exports free of timestamps nobody asked for).
    let ready_at_ms = match cx.settings.faults.associating_ms {
        0 => 0,
        delay => cx
            .now_ms
            .saturating_add(i64::try_from(delay).unwrap_or(i64::MAX)),
    };
    let association_id = ids::association_id();
    cx.db
        .prepare_cached(
            "INSERT INTO associations (association_id, instance, profile_arn, profile_id, timestamp, ready_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            association_id,
            instance,
            profile.arn,
            profile.profile_id,
            ids::timestamp(cx.now_ms),
            ready_at_ms,
        ])?;
    let sql = format!("{ASSOCIATION_SELECT} WHERE a.id = ?1");
    Ok(cx
        .db
        .prepare_cached(&sql)?
        .query_row([cx.db.last_insert_rowid()], association_row)?)
}

/// Most tags one instance may carry, as on every EC2 resource.
pub use rolecall_model::limits::MAX_TAGS;

/// EC2's answer when a resource would carry more than [`MAX_TAGS`] tags.
fn tag_limit<T>() -> OpResult<T> {
    // Code as EC2 documents it; the text is UNCONFIRMED (emulators use it).
    reject(
        ErrorCode::TagLimitExceeded,
        "The maximum number of Tags for a resource has been reached.",
    )
}

/// The tags of one request: each tag's own rules, then no key twice
/// (EC2 keys are case-sensitive, so `Name` and `name` are two keys).
pub fn check_tags(tags: &[Tag]) -> OpResult<()> {
    let mut keys = HashSet::new();
    for tag in tags {
        if tag.key.is_empty() || tag.key.chars().count() > 128 {
            return reject(
                ErrorCode::InvalidParameterValue,
                format!(
                    "Tag key '{}' must be between 1 and 128 characters long",
                    tag.key
                ),
            );
        }
        if tag.value.chars().count() > 256 {
            return reject(
                ErrorCode::InvalidParameterValue,
                format!(
                    "Tag value for key '{}' must be at most 256 characters long",
                    tag.key
                ),
            );
        }
        if tag
            .key
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
        {
            return reject(
                ErrorCode::InvalidParameterValue,
                "Tag keys starting with 'aws:' are reserved for internal use",
            );
        }
        if !keys.insert(&*tag.key) {
            // cloud-custodian/cloud-custodian#3792, scylladb/scylla-cluster-tests#1532
            return reject(
                ErrorCode::InvalidParameterValue,
                format!("Duplicate tag key '{}' specified.", tag.key),
            );
        }
    }
    Ok(())
}

/// The tags an instance may be launched with or hold: [`check_tags`], at most [`MAX_TAGS`].
pub fn check_instance_tags(tags: &[Tag]) -> OpResult<()> {
    check_tags(tags)?;
    if tags.len() > MAX_TAGS {
        return tag_limit();
    }
    Ok(())
}

pub fn run_instances(cx: &Ctx, input: &RunInstancesRequest) -> OpResult<RunInstancesResponse> {
    if input.min_count < 1 {
        return reject(
            ErrorCode::InvalidParameterValue,
            format!(
                "Value ({}) for parameter minCount is invalid. Expected a positive integer.",
                input.min_count
            ),
        );
    }
    if input.max_count < input.min_count || input.max_count > MAX_LAUNCH {
        return reject(
            ErrorCode::InvalidParameterValue,
            format!(
                "Value ({}) for parameter maxCount is invalid. Expected a value between minCount and {MAX_LAUNCH}.",
                input.max_count
            ),
        );
    }
    let mut tags = Vec::new();
    for spec in &input.tag_specifications {
        if spec.resource_type != "instance" {
            return reject(
                ErrorCode::InvalidParameterValue,
                format!(
                    "'{}' is not a valid taggable resource type for this operation.",
                    spec.resource_type
                ),
            );
        }
        tags.extend(spec.tags.iter().cloned());
    }
    // Checked together: a key given twice across specifications is a duplicate too.
    check_instance_tags(&tags)?;
    let profile = match &input.iam_instance_profile {
        Some(spec) => {
            let profile = profile_for_ec2(cx, spec)?;
            if profile.role.is_none() {
                return reject(
                    ErrorCode::InvalidParameterValue,
                    format!(
                        "IAM Instance Profile \"{}\" has no associated IAM Roles",
                        profile.arn
                    ),
                );
            }
            Some(profile)
        }
        None => None,
    };
    let reservation_id = ids::reservation_id();
    let image_id = input.image_id.as_deref().unwrap_or(DEFAULT_IMAGE_ID);
    let instance_type = input
        .instance_type
        .as_deref()
        .unwrap_or(DEFAULT_INSTANCE_TYPE);
    let mut instances = Vec::new();
    for _ in 0..input.max_count {
        cx.db
            .prepare_cached(
                "INSERT INTO instances (instance_id, reservation_id, image_id, instance_type, launch_time, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'running')",
            )?
            .execute(params![
                ids::instance_id(),
                reservation_id,
                image_id,
                instance_type,
                ids::timestamp(cx.now_ms),
            ])?;
        let id = cx.db.last_insert_rowid();
        INSTANCE_TAGS.upsert(cx.db, id, &tags, KeyCase::Sensitive)?;
        if let Some(profile) = &profile {
            // Every launched instance gets its own association (moto does only the first).
            insert_association(cx, id, profile)?;
        }
        let sql = format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE id = ?1");
        let row = cx.db.prepare_cached(&sql)?.query_row([id], instance_row)?;
        instances.push(to_instance(cx.db, &row)?);
    }
    Ok(Reservation {
        reservation_id,
        owner_id: cx.account_id().to_string(),
        instances,
    })
}

pub fn terminate_instances(
    cx: &Ctx,
    input: &TerminateInstancesRequest,
) -> OpResult<TerminateInstancesResponse> {
    let terminating_instances = change_state(cx, input, StateChange::Terminate)?;
    Ok(TerminateInstancesResponse {
        terminating_instances,
    })
}

pub fn stop_instances(cx: &Ctx, input: &StopInstancesRequest) -> OpResult<StopInstancesResponse> {
    let stopping_instances = change_state(cx, input, StateChange::Stop)?;
    Ok(StopInstancesResponse { stopping_instances })
}

pub fn start_instances(
    cx: &Ctx,
    input: &StartInstancesRequest,
) -> OpResult<StartInstancesResponse> {
    let starting_instances = change_state(cx, input, StateChange::Start)?;
    Ok(StartInstancesResponse { starting_instances })
}

/// Which state-changing call is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StateChange {
    Terminate,
    Stop,
    Start,
}

fn change_state(
    cx: &Ctx,
    input: &InstanceIdsRequest,
    change: StateChange,
) -> OpResult<Vec<InstanceStateChange>> {
    let rows = instances(cx, &input.instance_ids)?;
    let mut changes = Vec::with_capacity(rows.len());
    for row in &rows {
        let next = match (change, row.state) {
            (StateChange::Terminate, _) => InstanceState::Terminated,
            (StateChange::Stop, InstanceState::Terminated) => {
                return reject(
                    ErrorCode::IncorrectState,
                    format!(
                        "This instance '{}' is not in a state from which it can be stopped.",
                        row.instance_id
                    ),
                );
            }
            (StateChange::Stop, _) => InstanceState::Stopped,
            (StateChange::Start, InstanceState::Terminated) => {
                return reject(
                    ErrorCode::IncorrectState,
                    format!(
                        "The instance '{}' is not in a state from which it can be started.",
                        row.instance_id
                    ),
                );
            }
            (StateChange::Start, _) => InstanceState::Running,
        };
        cx.db
            .prepare_cached("UPDATE instances SET state = ?2 WHERE id = ?1")?
            .execute(params![row.id, next.as_str()])?;
        if next == InstanceState::Terminated {
            // A terminated instance loses its association.
            cx.db
                .prepare_cached("DELETE FROM associations WHERE instance = ?1")?
                .execute([row.id])?;
        }
        changes.push(InstanceStateChange {
            instance_id: row.instance_id.clone(),
            current_state: state_info(next),
            previous_state: state_info(row.state),
        });
    }
    Ok(changes)
}

fn max_results(max: Option<u32>) -> OpResult<Option<usize>> {
    match max {
        None => Ok(None),
        Some(n @ 5..=1000) => Ok(Some(n as usize)),
        Some(n) => reject(
            ErrorCode::InvalidParameterValue,
            format!(
                "Value ( {n} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000."
            ),
        ),
    }
}

fn next_token(token: Option<&str>) -> OpResult<i64> {
    match token {
        None => Ok(0),
        Some(t) => t.parse().or_else(|_| {
            reject(
                ErrorCode::InvalidParameterValue,
                format!("Invalid value '{t}' for nextToken"),
            )
        }),
    }
}

/// Whether an instance passes every filter (any value of a filter may match).
fn instance_matches(filters: &[Filter], row: &InstanceRow, tags: &[Tag]) -> OpResult<bool> {
    for filter in filters {
        let matches = |value: &str| filter.values.iter().any(|v| v == value);
        let ok = match filter.name.as_str() {
            "instance-id" => matches(&row.instance_id),
            "instance-state-name" => matches(row.state.as_str()),
            "reservation-id" => matches(&row.reservation_id),
            "tag-key" => tags.iter().any(|t| matches(&t.key)),
            name => match name.strip_prefix("tag:") {
                Some(key) => tags.iter().any(|t| &*t.key == key && matches(&t.value)),
                None => {
                    return reject(
                        ErrorCode::InvalidParameterValue,
                        format!("The filter '{name}' is invalid"),
                    );
                }
            },
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

pub fn describe_instances(
    cx: &Ctx,
    input: &DescribeInstancesRequest,
) -> OpResult<DescribeInstancesResponse> {
    let max = max_results(input.max_results)?;
    if max.is_some() && !input.instance_ids.is_empty() {
        return reject(
            ErrorCode::InvalidParameterCombination,
            "The parameter instancesSet cannot be used with the parameter maxResults",
        );
    }
    let after = next_token(input.next_token.as_deref())?;
    let rows: Vec<InstanceRow> = if input.instance_ids.is_empty() {
        let sql = format!("SELECT {INSTANCE_COLUMNS} FROM instances WHERE id > ?1 ORDER BY id");
        let mut stmt = cx.db.prepare_cached(&sql)?;
        stmt.query_map([after], instance_row)?
            .collect::<rusqlite::Result<_>>()?
    } else {
        instances(cx, &input.instance_ids)?
    };
    let limit = max.unwrap_or(usize::MAX);
    let mut selected = Vec::new();
    let mut next = None;
    for row in rows {
        let tags = INSTANCE_TAGS.of(cx.db, row.id)?;
        if !instance_matches(&input.filters, &row, &tags)? {
            continue;
        }
        if selected.len() == limit {
            next = selected
                .last()
                .map(|(r, _): &(InstanceRow, Instance)| r.id.to_string());
            break;
        }
        let instance = to_instance(cx.db, &row)?;
        selected.push((row, instance));
    }
    // Instances launched together share a reservation.
    let mut reservations: Vec<Reservation> = Vec::new();
    for (row, instance) in selected {
        match reservations.last_mut() {
            Some(last) if last.reservation_id == row.reservation_id => {
                last.instances.push(instance)
            }
            _ => reservations.push(Reservation {
                reservation_id: row.reservation_id,
                owner_id: cx.account_id().to_string(),
                instances: vec![instance],
            }),
        }
    }
    Ok(DescribeInstancesResponse {
        reservations,
        next_token: next,
    })
}

pub fn create_tags(cx: &Ctx, input: &CreateTagsRequest) -> OpResult<()> {
    // Tags is required (botocore's model), and EC2's wire has no way to send
    // an empty list: an empty one is no parameter at all.
    if input.tags.is_empty() {
        return reject(
            ErrorCode::MissingParameter,
            "The request must contain the parameter Tag",
        );
    }
    check_tags(&input.tags)?;
    let rows = instances(cx, &input.resources)?;
    // Every resource is checked before any is tagged: the call is all or nothing.
    for row in &rows {
        // Keys already there are overwritten, not added (moto checked this against AWS).
        if INSTANCE_TAGS.count_after(cx.db, row.id, &input.tags, KeyCase::Sensitive)? > MAX_TAGS {
            return tag_limit();
        }
    }
    for row in rows {
        INSTANCE_TAGS.upsert(cx.db, row.id, &input.tags, KeyCase::Sensitive)?;
    }
    Ok(())
}

pub fn delete_tags(cx: &Ctx, input: &DeleteTagsRequest) -> OpResult<()> {
    for row in instances(cx, &input.resources)? {
        if input.tags.is_empty() {
            // No tags named: EC2 deletes every tag of the resource.
            cx.db
                .prepare_cached("DELETE FROM instance_tags WHERE instance = ?1")?
                .execute([row.id])?;
        }
        for tag in &input.tags {
            // With a value, the tag goes only if its value matches.
            cx.db
                .prepare_cached(
                    "DELETE FROM instance_tags WHERE instance = ?1 AND fold = ?2
                     AND (?3 IS NULL OR value = ?3)",
                )?
                .execute(params![row.id, tag.key, tag.value])?;
        }
    }
    Ok(())
}

pub fn associate_iam_instance_profile(
    cx: &Ctx,
    input: &AssociateIamInstanceProfileRequest,
) -> OpResult<AssociateIamInstanceProfileResponse> {
    let row = instance(cx, &input.instance_id)?;
    if !matches!(row.state, InstanceState::Running | InstanceState::Stopped) {
        return reject(
            ErrorCode::IncorrectState,
            format!(
                "The instance '{}' is not in a valid state for this operation.",
                row.instance_id
            ),
        );
    }
    if association_of(cx.db, row.id)?.is_some() {
        return reject(
            ErrorCode::IncorrectState,
            format!(
                "There is an existing association for instance {}",
                row.instance_id
            ),
        );
    }
    let profile = profile_for_ec2(cx, &input.iam_instance_profile)?;
    let association = insert_association(cx, row.id, &profile)?;
    // AWS always answers `associating`, whatever the delay.
    Ok(AssociationResponse {
        iam_instance_profile_association: association.to_association(AssociationState::Associating),
    })
}

/// The association with this id, or EC2's errors for a malformed or unknown id.
fn association(cx: &Ctx, id: &str) -> OpResult<AssociationRow> {
    if !ids::is_ec2_id(id, "iip-assoc-") {
        return reject(
            ErrorCode::InvalidParameterValue,
            "Invalid value for associationId.",
        );
    }
    let sql = format!("{ASSOCIATION_SELECT} WHERE a.association_id = ?1");
    match store::optional(cx.db.prepare_cached(&sql)?.query_row([id], association_row))? {
        Some(row) => Ok(row),
        None => reject(
            ErrorCode::InvalidAssociationIdNotFound,
            format!("An invalid association-id of '{id}' was given"),
        ),
    }
}

pub fn disassociate_iam_instance_profile(
    cx: &Ctx,
    input: &DisassociateIamInstanceProfileRequest,
) -> OpResult<DisassociateIamInstanceProfileResponse> {
    let row = association(cx, &input.association_id)?;
    cx.db
        .prepare_cached("DELETE FROM associations WHERE id = ?1")?
        .execute([row.id])?;
    Ok(AssociationResponse {
        iam_instance_profile_association: row.to_association(AssociationState::Disassociating),
    })
}

pub fn replace_iam_instance_profile_association(
    cx: &Ctx,
    input: &ReplaceIamInstanceProfileAssociationRequest,
) -> OpResult<ReplaceIamInstanceProfileAssociationResponse> {
    let old = association(cx, &input.association_id)?;
    let state: String = cx
        .db
        .prepare_cached("SELECT state FROM instances WHERE id = ?1")?
        .query_row([old.instance], |r| r.get(0))?;
    if parse_state(&state) != InstanceState::Running {
        // Replace needs a running instance; AWS answers with this text.
        return reject(
            ErrorCode::IncorrectState,
            format!(
                "The association {} is not the active association",
                old.association_id
            ),
        );
    }
    let profile = profile_for_ec2(cx, &input.iam_instance_profile)?;
    cx.db
        .prepare_cached("DELETE FROM associations WHERE id = ?1")?
        .execute([old.id])?;
    // A replacement is a new association with a new id.
    let association = insert_association(cx, old.instance, &profile)?;
    Ok(AssociationResponse {
        iam_instance_profile_association: association.to_association(AssociationState::Associating),
    })
}

pub fn describe_iam_instance_profile_associations(
    cx: &Ctx,
    input: &DescribeIamInstanceProfileAssociationsRequest,
) -> OpResult<DescribeIamInstanceProfileAssociationsResponse> {
    let limit = max_results(input.max_results)?.unwrap_or(usize::MAX);
    let after = next_token(input.next_token.as_deref())?;
    for id in &input.association_ids {
        association(cx, id)?;
    }
    let sql = format!("{ASSOCIATION_SELECT} WHERE a.id > ?1 ORDER BY a.id");
    let mut stmt = cx.db.prepare_cached(&sql)?;
    let rows: Vec<AssociationRow> = stmt
        .query_map([after], association_row)?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    let mut next = None;
    let mut last_id = 0;
    for row in rows {
        let state = association_state(row.ready_at_ms, cx.now_ms);
        if !input.association_ids.is_empty() && !input.association_ids.contains(&row.association_id)
        {
            continue;
        }
        let mut keep = true;
        for filter in &input.filters {
            let value = match filter.name.as_str() {
                "instance-id" => row.instance_id.as_str(),
                "state" => state.as_str(),
                name => {
                    return reject(
                        ErrorCode::InvalidParameterValue,
                        format!("The filter '{name}' is invalid"),
                    );
                }
            };
            keep &= filter.values.iter().any(|v| v == value);
        }
        if !keep {
            continue;
        }
        if out.len() == limit {
            next = Some(last_id.to_string());
            break;
        }
        last_id = row.id;
        out.push(row.to_association(state));
    }
    Ok(DescribeIamInstanceProfileAssociationsResponse {
        iam_instance_profile_associations: out,
        next_token: next,
    })
}
