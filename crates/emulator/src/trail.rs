//! The account's audit trail, CloudTrail-shaped (`rolecall_cloud::trail`).
//!
//! What is recorded, and when:
//! - every call that may change the account, in the call's own
//!   transaction (the change and its record commit together, or neither),
//!   whoever makes it: `rolecall apply` in process, `rolecall emulator`
//!   verbs, a client of `rolecall serve`;
//! - through `rolecall serve`, also every read and every refused call
//!   (the server records them with [`super::Emulator::record_event`]).
//!
//! In process, reads are not recorded: they would turn every read into a
//! write of the account.
//!
//! The newest `max_events` events are kept (an account setting, 10,000 by
//! default); older ones are dropped as new ones come, oldest first.

use rusqlite::{Connection, OptionalExtension};
use serde_json::{Map, Value, json};

use rolecall_cloud::trail::{Event, Lookup, ROLECALL_USER_AGENT_PREFIX, Resource};
use rolecall_cloud::{Operation, Service};

use super::credentials::Principal;
use super::ids::PARTITION;

/// Who makes the calls of an emulator handle, for the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub principal: Principal,
    /// The key the request was signed with (none in process).
    pub access_key_id: Option<String>,
    pub source_ip: String,
    pub user_agent: String,
    /// The region the request was signed for.
    pub region: String,
    /// A role session's issue time (Unix milliseconds), for `sessionContext`.
    pub session_issued_ms: Option<i64>,
    /// The instance whose metadata service issued the session, if any.
    pub instance_id: Option<String>,
    /// The request id the caller was answered with (`rolecall serve`);
    /// none in process, where each call gets one of its own.
    pub request_id: Option<String>,
}

/// The region of calls made in process.
const IN_PROCESS_REGION: &str = "us-east-1";

impl Actor {
    /// The account's root user calling in process: `rolecall emulator`
    /// verbs and anything else that is not rolecall reconciling.
    pub fn in_process(account_id: &str) -> Actor {
        Actor {
            principal: Principal::Root {
                account_id: account_id.to_string(),
            },
            access_key_id: None,
            source_ip: "127.0.0.1".into(),
            user_agent: concat!("rolecall-emulator/", env!("CARGO_PKG_VERSION")).into(),
            region: IN_PROCESS_REGION.into(),
            session_issued_ms: None,
            instance_id: None,
            request_id: None,
        }
    }

    /// rolecall itself reconciling in process (`apply`, `destroy`,
    /// `import`): its calls never count as changes outside rolecall.
    pub fn rolecall(account_id: &str) -> Actor {
        Actor {
            user_agent: concat!("rolecall/", env!("CARGO_PKG_VERSION")).into(),
            ..Actor::in_process(account_id)
        }
    }

    /// Whether these are rolecall's own calls: its User-Agent says so.
    pub fn is_rolecall(&self) -> bool {
        self.user_agent.starts_with(ROLECALL_USER_AGENT_PREFIX)
    }

    /// CloudTrail's `userIdentity`; `role_arn` is a session's role's ARN
    /// (with its path, which the session's own ARN leaves out).
    fn user_identity(&self, role_arn: Option<String>) -> Value {
        match &self.principal {
            Principal::Root { account_id } => json!({
                "type": "Root",
                "principalId": account_id,
                "arn": self.principal.arn(),
                "accountId": account_id,
            }),
            Principal::RoleSession {
                account_id,
                role_name,
                role_id,
                ..
            } => {
                let mut context = json!({
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": role_id,
                        "arn": role_arn.unwrap_or_else(|| {
                            format!("arn:{PARTITION}:iam::{account_id}:role/{role_name}")
                        }),
                        "accountId": account_id,
                        "userName": role_name,
                    },
                    "attributes": {
                        "creationDate": self.session_issued_ms.map(iso),
                        "mfaAuthenticated": "false",
                    },
                });
                if self.instance_id.is_some() {
                    // IMDSv2 credentials, as CloudTrail marks them.
                    context["ec2RoleDelivery"] = json!("2.0");
                }
                json!({
                    "type": "AssumedRole",
                    "principalId": self.principal.user_id(),
                    "arn": self.principal.arn(),
                    "accountId": account_id,
                    "sessionContext": context,
                })
            }
        }
    }
}

/// CloudTrail's time format: seconds, UTC.
fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn event_source(service: Service) -> &'static str {
    match service {
        Service::Iam => "iam.amazonaws.com",
        Service::Ec2 => "ec2.amazonaws.com",
        Service::Sts => "sts.amazonaws.com",
    }
}

/// A call's parameters as CloudTrail's `requestParameters` names them:
/// AWS's parameter names with a lower-case first letter (`roleName`).
/// rolecall's requests carry no secret, so nothing is left out.
pub fn request_parameters(params: &Value) -> Value {
    match params {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (lower_first(key), request_parameters(value)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(request_parameters).collect()),
        other => other.clone(),
    }
}

/// A response as CloudTrail's `responseElements`: AWS's names with a
/// lower-case first letter, without the secrets a session's credentials
/// carry (CloudTrail keeps the access key id, never the secret key or the
/// token).
fn response_elements(response: &Value) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("secretAccessKey");
                map.remove("sessionToken");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut elements = request_parameters(response);
    strip(&mut elements);
    elements
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// A call to record later, made by `actor` at `at_ms` (Unix ms).
#[derive(Debug, Clone)]
pub struct TrailEntry {
    pub actor: Actor,
    pub operation: &'static Operation,
    /// The request's parameters as AWS names them (`{"RoleName": ...}`).
    pub params: Value,
    /// The error code and message, when the call failed.
    pub error: Option<(String, String)>,
    pub at_ms: i64,
}

/// What a call was and how it ended, to record.
pub struct Recorded<'a> {
    pub operation: &'static Operation,
    /// The request's parameters as AWS names them (`{"RoleName": ...}`).
    pub params: &'a Value,
    /// The error code and message, when the call failed.
    pub error: Option<(&'a str, &'a str)>,
    /// What a successful change answered, as AWS names it (none for reads,
    /// as CloudTrail records none).
    pub response: Option<&'a Value>,
}

/// Records one call made by `actor`, inside the caller's transaction, and
/// drops the oldest events beyond the account's `max_events`.
pub fn record(
    db: &Connection,
    actor: &Actor,
    call: &Recorded,
    now_ms: i64,
) -> rusqlite::Result<()> {
    let who = Caller {
        identity: actor.user_identity(session_role_arn(db, &actor.principal)?),
        arn: actor.principal.arn(),
        access_key_id: actor.access_key_id.as_deref(),
        by_rolecall: actor.is_rolecall(),
        source_ip: &actor.source_ip,
        user_agent: &actor.user_agent,
        region: &actor.region,
        request_id: actor.request_id.as_deref(),
        account_id: actor.principal.account_id(),
    };
    insert(db, &who, call, now_ms)
}

/// Records a call an AWS service made for the account (EC2 assuming an
/// instance's role), as CloudTrail shows it: `userIdentity` of type
/// `AWSService`, invoked by the service, from the service.
pub fn record_service_call(
    db: &Connection,
    service: &str,
    account_id: &str,
    call: &Recorded,
    now_ms: i64,
) -> rusqlite::Result<()> {
    let who = Caller {
        identity: json!({"type": "AWSService", "invokedBy": service}),
        arn: service.to_string(),
        access_key_id: None,
        by_rolecall: false,
        source_ip: service,
        user_agent: service,
        region: IN_PROCESS_REGION,
        request_id: None,
        account_id,
    };
    insert(db, &who, call, now_ms)
}

/// Who made a recorded call, as the record says it.
struct Caller<'a> {
    identity: Value,
    arn: String,
    access_key_id: Option<&'a str>,
    by_rolecall: bool,
    source_ip: &'a str,
    user_agent: &'a str,
    region: &'a str,
    request_id: Option<&'a str>,
    account_id: &'a str,
}

fn insert(db: &Connection, who: &Caller, call: &Recorded, now_ms: i64) -> rusqlite::Result<()> {
    let event_id = uuid::Uuid::new_v4().to_string();
    let source = event_source(call.operation.service);
    let read_only = call.operation.access == rolecall_cloud::Access::Read;
    let mut identity = who.identity.clone();
    if let Some(key) = who.access_key_id {
        identity["accessKeyId"] = json!(key);
    }
    let mut record = json!({
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": iso(now_ms),
        "eventSource": source,
        "eventName": call.operation.name,
        "awsRegion": who.region,
        "sourceIPAddress": who.source_ip,
        "userAgent": who.user_agent,
        "requestParameters": request_parameters(call.params),
        "responseElements": call.response.map(response_elements),
        "requestID": who.request_id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string),
        "eventID": event_id,
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": who.account_id,
        "eventCategory": "Management",
    });
    if let Some((code, message)) = call.error {
        record["errorCode"] = json!(code);
        record["errorMessage"] = json!(message);
    }
    db.prepare_cached(
        "INSERT INTO events (event_id, event_time_ms, event_source, event_name, read_only,
                             principal_arn, access_key_id, by_rolecall, error_code, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(rusqlite::params![
        event_id,
        now_ms,
        source,
        call.operation.name,
        read_only,
        who.arn,
        who.access_key_id,
        who.by_rolecall,
        call.error.map(|(code, _)| code),
        record.to_string(),
    ])?;
    let newest = db.last_insert_rowid();
    let keep: i64 = db
        .prepare_cached("SELECT max_events FROM account WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    db.prepare_cached("DELETE FROM events WHERE id <= ?1")?
        .execute([newest - keep])?;
    Ok(())
}

/// A role session's role's ARN, if the role still exists.
fn session_role_arn(db: &Connection, principal: &Principal) -> rusqlite::Result<Option<String>> {
    let Principal::RoleSession {
        role_name, role_id, ..
    } = principal
    else {
        return Ok(None);
    };
    // The session's own role: a role made since under the same name is another.
    db.prepare_cached("SELECT arn FROM roles WHERE name = ?1 AND role_id = ?2")?
        .query_row([role_name, role_id], |r| r.get(0))
        .optional()
}

/// The events `lookup` selects, newest first. An account of an older
/// schema, read without upgrading it, has no trail yet: no events.
pub fn lookup(db: &Connection, lookup: &Lookup) -> rusqlite::Result<Vec<Event>> {
    let has_trail = db
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    if !has_trail {
        return Ok(Vec::new());
    }
    let mut statement = db.prepare_cached(
        "SELECT event_id, event_time_ms, event_source, event_name, read_only, principal_arn,
                access_key_id, by_rolecall, error_code, record
         FROM events
         WHERE event_time_ms >= ?1 AND event_time_ms <= ?2
         ORDER BY event_time_ms DESC, id DESC",
    )?;
    let rows = statement.query_map(
        [
            lookup.start_ms.unwrap_or(i64::MIN),
            lookup.end_ms.unwrap_or(i64::MAX),
        ],
        |r| {
            let record: String = r.get(9)?;
            let record: Value = serde_json::from_str(&record).unwrap_or(Value::Null);
            let event_name: String = r.get(3)?;
            Ok(Event {
                event_id: r.get(0)?,
                event_time_ms: r.get(1)?,
                event_source: r.get(2)?,
                username: username_of(&record),
                resources: resources_of(&record),
                event_name,
                read_only: r.get(4)?,
                principal_arn: r.get(5)?,
                access_key_id: r.get(6)?,
                by_rolecall: r.get(7)?,
                error_code: r.get(8)?,
                record,
            })
        },
    )?;
    let mut events = Vec::new();
    for event in rows {
        let event = event?;
        if lookup.matches(&event) {
            events.push(event);
            if lookup.max_results.is_some_and(|max| events.len() >= max) {
                break;
            }
        }
    }
    Ok(events)
}

/// LookupEvents' `Username`, from the record's identity.
fn username_of(record: &Value) -> String {
    let identity = &record["userIdentity"];
    match identity["type"].as_str() {
        Some("Root") => "root".into(),
        _ => identity["principalId"]
            .as_str()
            .and_then(|id| id.split_once(':'))
            .map(|(_, session)| session.to_string())
            .unwrap_or_default(),
    }
}

/// The resources a call names, from its parameters (and CreatePolicy's
/// answer), as LookupEvents lists them: roles, instance profiles, managed
/// policies, instances.
fn resources_of(record: &Value) -> Vec<Resource> {
    let params = &record["requestParameters"];
    let mut resources = Vec::new();
    let mut add = |resource_type: &'static str, name: &Value| {
        if let Some(name) = name.as_str() {
            resources.push(Resource {
                resource_type,
                resource_name: name.to_string(),
            });
        }
    };
    add("AWS::IAM::Role", &params["roleName"]);
    // AssumeRole names its role by ARN.
    if let Some(arn) = params["roleArn"].as_str() {
        add(
            "AWS::IAM::Role",
            &json!(arn.rsplit('/').next().unwrap_or(arn)),
        );
    }
    add("AWS::IAM::InstanceProfile", &params["instanceProfileName"]);
    add("AWS::IAM::Policy", &params["policyArn"]);
    // CreatePolicy names its policy by name (PutRolePolicy's `policyName`
    // is an inline policy's, no resource of its own); the ARN is in its
    // answer, none when it failed.
    if record["eventName"] == "CreatePolicy" {
        match record["responseElements"]["policy"]["arn"].as_str() {
            Some(arn) => add("AWS::IAM::Policy", &json!(arn)),
            None => add("AWS::IAM::Policy", &params["policyName"]),
        }
    }
    add("AWS::IAM::Policy", &params["permissionsBoundary"]);
    add("AWS::EC2::Instance", &params["instanceId"]);
    for list in ["instanceIds", "resources"] {
        for id in params[list].as_array().into_iter().flatten() {
            add("AWS::EC2::Instance", id);
        }
    }
    add(
        "AWS::IAM::InstanceProfile",
        &params["iamInstanceProfile"]["name"],
    );
    add(
        "AWS::EC2::IamInstanceProfileAssociation",
        &params["associationId"],
    );
    resources
}

/// How many events the trail keeps by default.
pub const DEFAULT_MAX_EVENTS: u32 = 10_000;

/// How many events the trail keeps (an account of an older schema, read
/// without upgrading it, keeps the default once upgraded).
pub fn max_events(db: &Connection) -> rusqlite::Result<u32> {
    if super::store::user_version(db)? < 3 {
        return Ok(DEFAULT_MAX_EVENTS);
    }
    db.query_row("SELECT max_events FROM account WHERE id = 1", [], |r| {
        r.get(0)
    })
}

pub fn set_max_events(db: &Connection, max: u32) -> rusqlite::Result<()> {
    db.execute("UPDATE account SET max_events = ?1 WHERE id = 1", [max])?;
    let newest: i64 = db.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |r| r.get(0))?;
    let keep = i64::from(max);
    db.execute(
        "DELETE FROM events WHERE id <= ?1",
        [newest.saturating_sub(keep)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_parameters_are_named_as_cloudtrail_names_them() {
        let params = json!({"RoleName": "web", "Tags": [{"Key": "team", "Value": "a"}]});
        assert_eq!(
            request_parameters(&params),
            json!({"roleName": "web", "tags": [{"key": "team", "value": "a"}]})
        );
    }

    #[test]
    fn responses_keep_no_secret() {
        let response = json!({"Credentials": {
            "AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "s", "SessionToken": "t"
        }});
        assert_eq!(
            response_elements(&response),
            json!({"credentials": {"accessKeyId": "ASIAEXAMPLE"}})
        );
    }

    /// A policy is named by its ARN, CreatePolicy's too (from its answer),
    /// or by its name when CreatePolicy failed.
    #[test]
    fn policies_are_named_by_arn() {
        let arn = "arn:aws:iam::123456789012:policy/ops/deploy";
        let names = |record: Value| -> Vec<(&'static str, String)> {
            resources_of(&record)
                .into_iter()
                .map(|r| (r.resource_type, r.resource_name))
                .collect()
        };
        assert_eq!(
            names(json!({"eventName": "CreatePolicy",
                         "requestParameters": {"policyName": "deploy", "path": "/ops/"},
                         "responseElements": {"policy": {"arn": arn, "policyName": "deploy"}}})),
            [("AWS::IAM::Policy", arn.to_string())]
        );
        assert_eq!(
            names(json!({"eventName": "CreatePolicy",
                         "requestParameters": {"policyName": "deploy"}, "responseElements": null})),
            [("AWS::IAM::Policy", "deploy".to_string())]
        );
        assert_eq!(
            names(json!({"eventName": "PutRolePolicy",
                         "requestParameters": {"roleName": "web", "policyName": "inline"}})),
            [("AWS::IAM::Role", "web".to_string())]
        );
        assert_eq!(
            names(json!({"requestParameters": {"policyArn": arn, "versionId": "v2"}})),
            [("AWS::IAM::Policy", arn.to_string())]
        );
    }

    #[test]
    fn resources_come_from_the_parameters() {
        let record = json!({"requestParameters": {
            "roleName": "web", "instanceIds": ["i-1", "i-2"],
            "iamInstanceProfile": {"name": "web-profile"}
        }});
        let names: Vec<_> = resources_of(&record)
            .into_iter()
            .map(|r| (r.resource_type, r.resource_name))
            .collect();
        assert_eq!(
            names,
            [
                ("AWS::IAM::Role", "web".to_string()),
                ("AWS::EC2::Instance", "i-1".to_string()),
                ("AWS::EC2::Instance", "i-2".to_string()),
                ("AWS::IAM::InstanceProfile", "web-profile".to_string()),
            ]
        );
    }
}
