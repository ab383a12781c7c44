//! Who made the drift: for each changed attribute, the call in the
//! account's audit trail that last changed it, with its principal and time
//! (emulated accounts keep a trail; see `rolecall_cloud::trail`).
//!
//! An event counts for an attribute when it succeeded and its operation
//! changes that attribute of that resource (PutRolePolicy: a role's inline
//! policies; ReplaceIamInstanceProfileAssociation: an instance's profile).
//! The newest such event decides: if it is rolecall's own (apply marks its
//! calls), the trail cannot say who made the difference, and none is named.

use serde::Serialize;

use rolecall_cloud::trail::Event;
use rolecall_model::{TAG_SPEC, instance_key, name_from_arn, policy_key, profile_key, role_key};

use super::{Class, Report};

/// The call that last changed an attribute outside rolecall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedBy {
    /// The attribute; none when the call made or removed the whole resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    pub event_name: String,
    /// The caller's ARN.
    pub principal: String,
    /// RFC 3339, UTC.
    pub time: String,
    pub source_ip: String,
    pub user_agent: String,
    pub event_id: String,
}

impl ChangedBy {
    fn of(event: &Event, attribute: Option<&str>) -> ChangedBy {
        let text = |name: &str| event.record[name].as_str().unwrap_or_default().to_string();
        ChangedBy {
            attribute: attribute.map(str::to_string),
            event_name: event.event_name.clone(),
            principal: event.principal_arn.clone(),
            time: text("eventTime"),
            source_ip: text("sourceIPAddress"),
            user_agent: text("userAgent"),
            event_id: event.event_id.clone(),
        }
    }
}

/// What an event changed: a resource key (lower-cased for policies, roles
/// and instance profiles, whose names ignore case) and its attributes; none
/// listed: the whole resource.
struct Touch {
    key: String,
    attributes: &'static [&'static str],
}

const TAGS: &[&str] = &["tags", TAG_SPEC];

fn touches(event: &Event) -> Vec<Touch> {
    let role = |attributes| {
        event.parameter("roleName").map(|name| Touch {
            key: role_key(&name.to_ascii_lowercase()),
            attributes,
        })
    };
    let profile = |attributes| {
        event.parameter("instanceProfileName").map(|name| Touch {
            key: profile_key(&name.to_ascii_lowercase()),
            attributes,
        })
    };
    let instances = |attributes: &'static [&'static str], list: &str| -> Vec<Touch> {
        event.record["requestParameters"][list]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|id| id.as_str())
            .map(|id| Touch {
                key: instance_key(id),
                attributes,
            })
            .collect()
    };
    // The instance of an association call: in the request, or (replace,
    // disassociate: by association id) in the response.
    let association_instance = || {
        event
            .parameter("instanceId")
            .or_else(|| {
                event.record["responseElements"]["iamInstanceProfileAssociation"]["instanceId"]
                    .as_str()
            })
            .map(|id| Touch {
                key: instance_key(id),
                attributes: &["profile"],
            })
    };
    // A customer-managed policy: by its ARN (whose last segment is its
    // name), or by its name in CreatePolicy's request.
    let policy = |attributes| {
        event
            .parameter("policyArn")
            .map(name_from_arn)
            .or_else(|| event.parameter("policyName"))
            .map(|name| Touch {
                key: policy_key(&name.to_ascii_lowercase()),
                attributes,
            })
    };
    // A new version changes the document only when it becomes the default.
    let set_as_default = event.record["requestParameters"]["setAsDefault"]
        .as_bool()
        .unwrap_or(false);
    let one = |touch: Option<Touch>| touch.into_iter().collect();
    match event.event_name.as_str() {
        "CreatePolicy" | "DeletePolicy" => one(policy(&[])),
        "CreatePolicyVersion" if set_as_default => one(policy(&["document"])),
        "SetDefaultPolicyVersion" => one(policy(&["document"])),
        "TagPolicy" | "UntagPolicy" => one(policy(TAGS)),
        "CreateRole" | "DeleteRole" => one(role(&[])),
        "PutRolePolicy" | "DeleteRolePolicy" => one(role(&["inline_policies"])),
        "AttachRolePolicy" | "DetachRolePolicy" => one(role(&["managed_policies"])),
        "TagRole" | "UntagRole" => one(role(TAGS)),
        "UpdateAssumeRolePolicy" => one(role(&["trust"])),
        "UpdateRole" => one(role(&["description", "max_session_duration"])),
        "PutRolePermissionsBoundary" | "DeleteRolePermissionsBoundary" => {
            one(role(&["permissions_boundary"]))
        }
        "CreateInstanceProfile" | "DeleteInstanceProfile" => one(profile(&[])),
        "AddRoleToInstanceProfile" | "RemoveRoleFromInstanceProfile" => one(profile(&["role"])),
        "TagInstanceProfile" | "UntagInstanceProfile" => one(profile(TAGS)),
        "AssociateIamInstanceProfile"
        | "ReplaceIamInstanceProfileAssociation"
        | "DisassociateIamInstanceProfile" => one(association_instance()),
        "CreateTags" | "DeleteTags" => instances(TAGS, "resources"),
        "TerminateInstances" => instances(&[], "instanceIds"),
        _ => Vec::new(),
    }
}

/// Names, on each drifted entry of `report` (changed or gone outside
/// rolecall), the calls that made the difference; `events` newest first,
/// as the trail returns them.
pub fn attribute(report: &mut Report, events: &[Event]) {
    for entry in &mut report.entries {
        if !matches!(entry.class, Class::Modified | Class::Missing) {
            continue;
        }
        let key = match entry.kind {
            crate::compare::Kind::Policy
            | crate::compare::Kind::Role
            | crate::compare::Kind::InstanceProfile => entry.resource.to_ascii_lowercase(),
            crate::compare::Kind::Instance => entry.resource.clone(),
        };
        let newest = |attribute: Option<&str>| {
            events
                .iter()
                .filter(|event| event.succeeded())
                .find(|event| {
                    touches(event).iter().any(|touch| {
                        touch.key == key
                            && (touch.attributes.is_empty()
                                || attribute.is_some_and(|name| touch.attributes.contains(&name)))
                    })
                })
                // rolecall's own call made it as it is: nobody to name.
                .filter(|event| !event.by_rolecall)
        };
        let mut changed_by = Vec::new();
        if entry.class == Class::Missing {
            changed_by.extend(newest(None).map(|event| ChangedBy::of(event, None)));
        } else {
            for attribute in &entry.attributes {
                if let Some(event) = newest(Some(attribute.name)) {
                    changed_by.push(ChangedBy::of(event, Some(attribute.name)));
                }
            }
        }
        entry.changed_by = changed_by;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{AttributeDiff, Kind};
    use crate::drift::{Entry, Summary};
    use serde_json::{Value, json};

    fn event(name: &str, id: &str, by_rolecall: bool, params: Value) -> Event {
        Event {
            event_id: id.into(),
            event_time_ms: 0,
            event_source: "iam.amazonaws.com".into(),
            event_name: name.into(),
            read_only: false,
            principal_arn: "arn:aws:iam::123456789012:root".into(),
            username: "root".into(),
            access_key_id: None,
            by_rolecall,
            error_code: None,
            resources: Vec::new(),
            record: json!({"requestParameters": params, "eventTime": "2026-12-03T17:00:00Z"}),
        }
    }

    fn report(attribute: &'static str) -> Report {
        Report {
            format_version: 1,
            stack: "s".into(),
            drift: true,
            entries: vec![Entry {
                resource: "role/Web".into(),
                name: None,
                kind: Kind::Role,
                class: Class::Modified,
                owner: None,
                instance_ids: Vec::new(),
                attributes: vec![AttributeDiff {
                    name: attribute,
                    before: Value::Null,
                    after: Value::Null,
                }],
                changed_by: Vec::new(),
            }],
            summary: Summary::default(),
        }
    }

    #[test]
    fn the_newest_call_that_changed_the_attribute_is_named() {
        let mut report = report("tags");
        let events = [
            // Newest first. Another attribute, another role, a failed call:
            // none of them made the tags differ.
            event("PutRolePolicy", "e1", false, json!({"roleName": "web"})),
            event("TagRole", "e2", false, json!({"roleName": "other"})),
            Event {
                error_code: Some("AccessDenied".into()),
                ..event("TagRole", "e3", false, json!({"roleName": "web"}))
            },
            // Role names ignore case.
            event("UntagRole", "e4", false, json!({"roleName": "WEB"})),
            event("TagRole", "e5", false, json!({"roleName": "web"})),
        ];
        attribute(&mut report, &events);
        let who = &report.entries[0].changed_by;
        assert_eq!(who.len(), 1);
        assert_eq!(who[0].event_id, "e4");
        assert_eq!(who[0].attribute.as_deref(), Some("tags"));
    }

    #[test]
    fn policy_events_name_the_attribute_they_change() {
        let arn = "arn:aws:iam::123456789012:policy/ops/Deploy";
        let mut report = report("document");
        report.entries[0].resource = "policy/Deploy".into();
        report.entries[0].kind = Kind::Policy;
        let events = [
            // Newest first: a version not made the default changes nothing
            // in effect; tags are another attribute.
            event(
                "CreatePolicyVersion",
                "e1",
                false,
                json!({"policyArn": arn, "setAsDefault": false}),
            ),
            event("TagPolicy", "e2", false, json!({"policyArn": arn})),
            event(
                "SetDefaultPolicyVersion",
                "e3",
                false,
                json!({"policyArn": arn, "versionId": "v2"}),
            ),
            event(
                "CreatePolicyVersion",
                "e4",
                false,
                json!({"policyArn": arn, "setAsDefault": true}),
            ),
        ];
        attribute(&mut report, &events);
        assert_eq!(report.entries[0].changed_by[0].event_id, "e3");
        let mut report = self::report("document");
        report.entries[0].resource = "policy/Deploy".into();
        report.entries[0].kind = Kind::Policy;
        attribute(&mut report, &events[3..]);
        assert_eq!(report.entries[0].changed_by[0].event_id, "e4");
        // Deleted outside: the DeletePolicy names who.
        report.entries[0].class = Class::Missing;
        let gone = [
            event(
                "DetachRolePolicy",
                "e5",
                false,
                json!({"roleName": "web", "policyArn": arn}),
            ),
            event("DeletePolicy", "e6", false, json!({"policyArn": arn})),
        ];
        attribute(&mut report, &gone);
        assert_eq!(report.entries[0].changed_by[0].event_id, "e6");
    }

    #[test]
    fn rolecalls_own_calls_are_never_named() {
        let mut report = report("tags");
        let events = [
            event("TagRole", "apply", true, json!({"roleName": "web"})),
            event("TagRole", "hand", false, json!({"roleName": "web"})),
        ];
        attribute(&mut report, &events);
        assert!(report.entries[0].changed_by.is_empty());
    }
}
