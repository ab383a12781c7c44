//! Resources as plans, drift reports and saved plans show them: compact
//! JSON views of what rolecall manages (user tags only), built once by the
//! comparison and moved, not copied, into a plan's changes.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ownership;
use rolecall_model::{
    InstanceProfile, LiveInstance, ManagedPolicy, PolicyDocument, Role, SortedMap, Tags,
};

/// A resource as one side of a change has it, kept as compact JSON text: a
/// plan of 100,000 resources holds 200,000 of them, and a parsed JSON tree
/// costs several times its text. Renderers parse the one they show.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct View(Box<serde_json::value::RawValue>);

/// Written as the JSON it holds, so a pretty-printed plan is pretty all the
/// way down (its text is compact). Streamed from the text token by token,
/// in its order, without building the tree [`View::parse`] would: a JSON
/// plan of 100,000 resources writes 200,000 views.
impl Serialize for View {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tokens = serde_json::Deserializer::from_str(self.0.get());
        serde_transcode::transcode(&mut tokens, serializer)
    }
}

impl View {
    /// The view of anything serialisable (`None` if it cannot be, which the
    /// model's types never are).
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Option<View> {
        serde_json::value::to_raw_value(value).ok().map(View)
    }

    /// The view's compact JSON text.
    pub fn raw(&self) -> &serde_json::value::RawValue {
        &self.0
    }

    /// The view as a JSON value, to read its attributes.
    pub fn parse(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }
}

impl PartialEq for View {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

/// The user's tags of a resource (all but rolecall's own), written as the
/// map [`ownership::user_tags`] makes, without making it: a plan shows
/// 200,000 resources, and a copy of each one's tags was a tenth of the
/// time their views took.
struct UserTags<'a>(&'a Tags);

impl UserTags<'_> {
    fn user_tags(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().filter(|(key, _)| ownership::is_users(key))
    }

    fn is_empty(&self) -> bool {
        self.user_tags().next().is_none()
    }
}

impl Serialize for UserTags<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.user_tags())
    }
}

/// A role as a plan shows it: as the model serialises it, but with the user's
/// tags only. Borrowed, so no role is copied to be shown.
#[derive(Serialize)]
struct RoleView<'a> {
    name: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    trust: &'a PolicyDocument,
    max_session_duration: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    permissions_boundary: &'a Option<String>,
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    managed_policies: &'a BTreeSet<String>,
    #[serde(skip_serializing_if = "SortedMap::is_empty")]
    inline_policies: &'a SortedMap<PolicyDocument>,
    #[serde(skip_serializing_if = "UserTags::is_empty")]
    tags: UserTags<'a>,
}

pub(super) fn role_view(role: &Role) -> Option<View> {
    View::of(&RoleView {
        name: &role.name,
        path: &role.path,
        description: &role.description,
        trust: &role.trust,
        max_session_duration: role.max_session_duration,
        permissions_boundary: &role.permissions_boundary,
        managed_policies: &role.managed_policies,
        inline_policies: &role.inline_policies,
        tags: UserTags(&role.tags),
    })
}

/// A customer-managed policy as a plan shows it (user tags only): its
/// default version's document.
#[derive(Serialize)]
struct PolicyView<'a> {
    name: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    document: &'a PolicyDocument,
    #[serde(skip_serializing_if = "UserTags::is_empty")]
    tags: UserTags<'a>,
}

pub(super) fn policy_view(policy: &ManagedPolicy) -> Option<View> {
    View::of(&PolicyView {
        name: &policy.name,
        path: &policy.path,
        description: &policy.description,
        document: &policy.document,
        tags: UserTags(&policy.tags),
    })
}

/// An instance profile as a plan shows it (user tags only).
#[derive(Serialize)]
struct ProfileView<'a> {
    name: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: &'a Option<String>,
    #[serde(skip_serializing_if = "UserTags::is_empty")]
    tags: UserTags<'a>,
}

pub(super) fn profile_view(profile: &InstanceProfile) -> Option<View> {
    View::of(&ProfileView {
        name: &profile.name,
        path: &profile.path,
        role: &profile.role,
        tags: UserTags(&profile.tags),
    })
}

/// An instance as a plan shows it: what rolecall manages of it.
#[derive(Serialize)]
struct InstanceView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    profile: Option<&'a str>,
}

pub(super) fn instance_view(
    id: Option<&str>,
    name: Option<&str>,
    profile: Option<&str>,
) -> Option<View> {
    View::of(&InstanceView {
        instance_id: id,
        name,
        profile,
    })
}

pub(super) fn live_instance_view(instance: &LiveInstance) -> Option<View> {
    instance_view(
        Some(&instance.instance_id),
        instance.name.as_deref(),
        instance
            .association
            .as_ref()
            .map(|a| a.profile_name.as_str()),
    )
}
