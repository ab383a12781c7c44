//! The lab's audit trail and sessions: `rolecall emulator lookup-events`
//! (as `aws cloudtrail lookup-events` prints it) and `rolecall emulator
//! revoke-sessions` (the console's "Revoke active sessions").

use clap::Args;
use serde_json::{Value, json};

use crate::cloud::trail::{Event, Lookup, LookupKey, Trail};
use crate::cloud::{Cloud, iam::PutRolePolicyRequest};
use crate::emulator::{Emulator, token_issue_time};

pub const LOOKUP_EVENTS_HELP: &str = "\
Every call through `rolecall serve` (reads, writes, calls denied by policy)
and every change made in process (`rolecall apply`, `rolecall emulator`
verbs) is recorded, newest first; the account keeps the newest 10,000
(`rolecall emulator configure --max-events N`).

Examples:
  rolecall emulator lookup-events --max-results 5
  rolecall emulator lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=PutRolePolicy
  rolecall emulator lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=i-0123456789abcdef0 --start-time 2026-12-03T17:00:00Z

Attribute keys: EventId, EventName, ReadOnly, Username (root, or a role
session's name: an instance's id), ResourceType, ResourceName, EventSource,
AccessKeyId. Times: RFC 3339, a date, or Unix seconds.";

#[derive(Debug, Args)]
#[command(after_help = LOOKUP_EVENTS_HELP)]
pub struct LookupEventsArgs {
    /// One attribute to match, as the AWS CLI writes it:
    /// AttributeKey=EventName,AttributeValue=GetRole
    #[arg(long, value_name = "ATTRIBUTE", value_parser = parse_attribute)]
    pub lookup_attributes: Option<(LookupKey, String)>,
    /// Only events at or after this time
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub start_time: Option<i64>,
    /// Only events at or before this time
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub end_time: Option<i64>,
    /// At most this many events (the newest)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_results: Option<u32>,
}

pub const REVOKE_SESSIONS_HELP: &str = "\
What the IAM console's \"Revoke active sessions\" does: puts the inline policy
AWSRevokeOlderSessions on the role, denying every action to sessions issued
before now (a DateLessThan condition on aws:TokenIssueTime). Sessions issued
later work, so lab instances get fresh credentials from instance metadata.
The policy shows as drift on the role, and `rolecall apply` removes it
(which lets the old sessions in again, as on AWS, until they expire).

Example:
  rolecall emulator revoke-sessions --role-name web";

#[derive(Debug, Args)]
#[command(after_help = REVOKE_SESSIONS_HELP)]
pub struct RevokeSessionsArgs {
    /// The role whose sessions to revoke
    #[arg(long, value_name = "NAME")]
    pub role_name: String,
}

/// The console's policy name: the same name, so a second revoke replaces it.
pub const REVOKE_POLICY_NAME: &str = "AWSRevokeOlderSessions";

/// `AttributeKey=K,AttributeValue=V`.
fn parse_attribute(text: &str) -> Result<(LookupKey, String), String> {
    let mut key = None;
    let mut value = None;
    let once = |found: Option<&str>| {
        if found.is_some() {
            // CloudTrail looks events up by one attribute at most.
            return Err(format!(
                "one attribute at most, as CloudTrail allows: {text:?}"
            ));
        }
        Ok(())
    };
    for part in text.split(',') {
        match part.split_once('=') {
            Some(("AttributeKey", k)) => {
                once(key)?;
                key = Some(k);
            }
            Some(("AttributeValue", v)) => {
                once(value)?;
                value = Some(v);
            }
            _ => {
                return Err(format!(
                    "expected AttributeKey=KEY,AttributeValue=VALUE, got {text:?}"
                ));
            }
        }
    }
    let (Some(key), Some(value)) = (key, value) else {
        return Err(format!(
            "expected AttributeKey=KEY,AttributeValue=VALUE, got {text:?}"
        ));
    };
    let known = LookupKey::named(key).ok_or_else(|| {
        let names: Vec<_> = LookupKey::ALL.iter().map(|k| k.name()).collect();
        format!("unknown AttributeKey {key:?}: one of {}", names.join(", "))
    })?;
    Ok((known, value.to_string()))
}

/// RFC 3339, a date (midnight UTC), or Unix seconds: Unix milliseconds.
fn parse_time(text: &str) -> Result<i64, String> {
    if let Ok(seconds) = text.parse::<i64>() {
        return seconds
            .checked_mul(1000)
            .ok_or_else(|| format!("{text} is out of range"));
    }
    if let Ok(timestamp) = text.parse::<jiff::Timestamp>() {
        return Ok(timestamp.as_millisecond());
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>()
        && let Ok(zoned) = date.to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(zoned.timestamp().as_millisecond());
    }
    Err(format!(
        "{text:?} is not a time: write 2026-12-03T17:00:00Z, 2026-12-03 or Unix seconds"
    ))
}

/// The events, as `aws cloudtrail lookup-events` prints them.
pub fn lookup_events(emulator: &Emulator, args: LookupEventsArgs) -> anyhow::Result<Value> {
    let events = emulator.lookup_events(&Lookup {
        attribute: args.lookup_attributes,
        start_ms: args.start_time,
        end_ms: args.end_time,
        max_results: args.max_results.map(|n| n as usize),
    })?;
    Ok(json!({ "Events": events.iter().map(event_json).collect::<Vec<_>>() }))
}

/// One event in LookupEvents' shape: `ReadOnly` is a string there, and
/// `CloudTrailEvent` the whole record as a JSON string.
fn event_json(event: &Event) -> Value {
    let mut out = json!({
        "EventId": event.event_id,
        "EventName": event.event_name,
        "ReadOnly": if event.read_only { "true" } else { "false" },
        "EventTime": aws_cli_time(event.event_time_ms),
        "EventSource": event.event_source,
        "Username": event.username,
        "Resources": event.resources.iter().map(|r| json!({
            "ResourceType": r.resource_type,
            "ResourceName": r.resource_name,
        })).collect::<Vec<_>>(),
        "CloudTrailEvent": event.record.to_string(),
    });
    if let Some(key) = &event.access_key_id {
        out["AccessKeyId"] = json!(key);
    }
    out
}

/// A time as the AWS CLI prints timestamps.
fn aws_cli_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}

/// Denies the role's sessions issued before now; returns the policy's
/// cut-off time.
pub fn revoke_sessions(emulator: &Emulator, args: &RevokeSessionsArgs) -> anyhow::Result<String> {
    // Written as sessions' issue times are compared (to the millisecond).
    let cutoff = token_issue_time(jiff::Timestamp::now().as_millisecond());
    let document = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": cutoff}},
        }],
    });
    emulator
        .put_role_policy(&PutRolePolicyRequest {
            role_name: args.role_name.clone(),
            policy_name: REVOKE_POLICY_NAME.into(),
            policy_document: document.to_string().into(),
        })
        .map_err(|error| {
            anyhow::anyhow!(
                "cannot revoke the sessions of role {}: {}",
                args.role_name,
                error.message
            )
        })?;
    // Instances' metadata services hand out new sessions from now on.
    emulator.forget_instance_sessions(&args.role_name)?;
    Ok(cutoff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_read_as_the_aws_cli_writes_them() {
        assert_eq!(
            parse_attribute("AttributeKey=EventName,AttributeValue=GetRole"),
            Ok((LookupKey::EventName, "GetRole".to_string()))
        );
        assert!(
            parse_attribute("AttributeKey=Nope,AttributeValue=x")
                .unwrap_err()
                .contains("EventName")
        );
        assert!(parse_attribute("EventName=GetRole").is_err());
        assert!(
            parse_attribute(
                "AttributeKey=EventName,AttributeValue=GetRole,AttributeKey=Username,AttributeValue=root"
            )
            .unwrap_err()
            .contains("one attribute at most")
        );
    }

    #[test]
    fn times_are_rfc_3339_dates_or_unix_seconds() {
        assert_eq!(parse_time("0"), Ok(0));
        assert_eq!(parse_time("1970-01-02"), Ok(86_400_000));
        assert_eq!(parse_time("1970-01-01T00:00:01Z"), Ok(1000));
        assert!(parse_time("yesterday").is_err());
    }
}
