//! The audit trail: every call an account answered, CloudTrail-shaped, so
//! a lab shows who did what as AWS's event history does, and drift can
//! name who changed a resource outside rolecall.
//!
//! The emulated account records it (`rolecall-emulator`); a backend without
//! one has no trail ([`crate::Cloud::trail`] is `None`).

use serde::Serialize;

use crate::CloudError;

/// How rolecall's own requests introduce themselves (`User-Agent`), so the
/// calls of `rolecall apply` through an endpoint never count as changes
/// made outside rolecall.
pub const ROLECALL_USER_AGENT_PREFIX: &str = "rolecall/";

/// One recorded call: the fields `aws cloudtrail lookup-events` shows for
/// an event, and the whole record (`CloudTrailEvent`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub event_id: String,
    /// Unix milliseconds.
    pub event_time_ms: i64,
    /// `iam.amazonaws.com`, `ec2.amazonaws.com`, `sts.amazonaws.com`.
    pub event_source: String,
    pub event_name: String,
    pub read_only: bool,
    /// The caller's ARN (`userIdentity.arn`).
    pub principal_arn: String,
    /// LookupEvents' `Username`: `root`, or a role session's session name.
    pub username: String,
    pub access_key_id: Option<String>,
    /// Made by rolecall itself (apply, destroy, import), not by a person or
    /// another program.
    pub by_rolecall: bool,
    pub error_code: Option<String>,
    /// The resources the call named: (`AWS::IAM::Role`, name), ...
    pub resources: Vec<Resource>,
    /// The whole CloudTrail record: `userIdentity`, `sourceIPAddress`,
    /// `userAgent`, `requestParameters` (never a secret), `errorMessage`...
    pub record: serde_json::Value,
}

/// A resource an event names, as LookupEvents lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    pub resource_type: &'static str,
    pub resource_name: String,
}

impl Event {
    /// A request parameter by its CloudTrail name (`roleName`, ...).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.record.get("requestParameters")?.get(name)?.as_str()
    }

    /// The call succeeded.
    pub fn succeeded(&self) -> bool {
        self.error_code.is_none()
    }
}

/// The attributes LookupEvents filters on (`AttributeKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupKey {
    EventId,
    EventName,
    ReadOnly,
    Username,
    ResourceType,
    ResourceName,
    EventSource,
    AccessKeyId,
}

impl LookupKey {
    pub const ALL: [LookupKey; 8] = [
        LookupKey::EventId,
        LookupKey::EventName,
        LookupKey::ReadOnly,
        LookupKey::Username,
        LookupKey::ResourceType,
        LookupKey::ResourceName,
        LookupKey::EventSource,
        LookupKey::AccessKeyId,
    ];

    /// CloudTrail's name of the key.
    pub fn name(self) -> &'static str {
        match self {
            LookupKey::EventId => "EventId",
            LookupKey::EventName => "EventName",
            LookupKey::ReadOnly => "ReadOnly",
            LookupKey::Username => "Username",
            LookupKey::ResourceType => "ResourceType",
            LookupKey::ResourceName => "ResourceName",
            LookupKey::EventSource => "EventSource",
            LookupKey::AccessKeyId => "AccessKeyId",
        }
    }

    pub fn named(name: &str) -> Option<LookupKey> {
        LookupKey::ALL.into_iter().find(|key| key.name() == name)
    }

    /// Whether `event` has `value` for this key (exact, as CloudTrail).
    pub fn matches(self, event: &Event, value: &str) -> bool {
        match self {
            LookupKey::EventId => event.event_id == value,
            LookupKey::EventName => event.event_name == value,
            LookupKey::ReadOnly => value == if event.read_only { "true" } else { "false" },
            LookupKey::Username => event.username == value,
            LookupKey::ResourceType => event.resources.iter().any(|r| r.resource_type == value),
            LookupKey::ResourceName => event.resources.iter().any(|r| r.resource_name == value),
            LookupKey::EventSource => event.event_source == value,
            LookupKey::AccessKeyId => event.access_key_id.as_deref() == Some(value),
        }
    }
}

/// Which events to return: newest first, as LookupEvents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookup {
    /// At most one attribute, as CloudTrail allows.
    pub attribute: Option<(LookupKey, String)>,
    /// Unix milliseconds, inclusive.
    pub start_ms: Option<i64>,
    /// Unix milliseconds, inclusive.
    pub end_ms: Option<i64>,
    /// `None`: every event that matches.
    pub max_results: Option<usize>,
}

impl Lookup {
    pub fn matches(&self, event: &Event) -> bool {
        self.start_ms
            .is_none_or(|start| event.event_time_ms >= start)
            && self.end_ms.is_none_or(|end| event.event_time_ms <= end)
            && self
                .attribute
                .as_ref()
                .is_none_or(|(key, value)| key.matches(event, value))
    }
}

/// An account that keeps an audit trail.
pub trait Trail: Send + Sync {
    /// The recorded events that `lookup` selects, newest first.
    fn lookup_events(&self, lookup: &Lookup) -> Result<Vec<Event>, CloudError>;
}
