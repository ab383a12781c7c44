//! Resources as plans, drift reports and saved plans show them: compact
//! JSON views of what rolecall manages (user tags only), built once by the
//! comparison and moved, not copied, into a plan's changes.

use std::collections::BTreeSet;

use serde::ser::SerializeMap;
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

/// One attribute of a role's or profile's view, typed: written into the
/// view's JSON, or by the text plan as lines straight from the resource
/// ([`Shown`]). Both read the one list [`Shown::attributes`] gives.
#[derive(Debug, Clone, Copy)]
pub enum Attribute<'a> {
    /// A string, written as its JSON.
    Text(&'a str),
    Number(u32),
    Document(&'a PolicyDocument),
    /// Inline policies, by name.
    Documents(&'a SortedMap<PolicyDocument>),
    /// Managed policy ARNs.
    Names(&'a BTreeSet<String>),
    /// The resource's tags, of which the user's are shown.
    Tags(&'a Tags),
}

impl Serialize for Attribute<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Attribute::Text(text) => text.serialize(serializer),
            Attribute::Number(number) => number.serialize(serializer),
            Attribute::Document(document) => Canonical(document).serialize(serializer),
            Attribute::Documents(documents) => serializer.collect_map(
                documents
                    .iter()
                    .map(|(name, document)| (name, Canonical(document))),
            ),
            Attribute::Names(names) => names.serialize(serializer),
            Attribute::Tags(tags) => UserTags(tags).serialize(serializer),
        }
    }
}

/// A document written as the canonical JSON text it holds, as raw JSON:
/// no tree is written (nor parsed from the text, for a document held as
/// text) only to be written again; the text is scanned once, to borrow it
/// as raw JSON. For serde_json's serialisers alone: the compact one writes
/// the text as it is, the compact JSON the document's tree gives, and the
/// JSON plan's `PrettyAt` lays it out as serde_json prints the tree
/// (serde_json's own pretty printer would write it compact, and another
/// format would see serde_json's private raw-value token).
struct Canonical<'a>(&'a PolicyDocument);

impl Serialize for Canonical<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<&serde_json::value::RawValue>(self.0.json_text()) {
            Ok(raw) => raw.serialize(serializer),
            // Never: a document's text is JSON.
            Err(_) => self.0.serialize(serializer),
        }
    }
}

/// A role or profile (declared or live), as a plan shows it: as the
/// model serialises it, but with the user's tags only. Borrowed, so no
/// resource is copied to be shown.
#[derive(Debug, Clone, Copy)]
pub enum Shown<'a> {
    Role(&'a Role),
    Profile(&'a InstanceProfile),
}

impl<'a> Shown<'a> {
    /// The attributes its view holds, in order, each given to `each`:
    /// those that are empty are left out.
    pub fn attributes(self, each: &mut dyn FnMut(&'static str, Attribute<'a>)) {
        use Attribute::*;
        match self {
            Shown::Role(role) => {
                each("name", Text(&role.name));
                each("path", Text(&role.path));
                if !role.description.is_empty() {
                    each("description", Text(&role.description));
                }
                each("trust", Document(&role.trust));
                each("max_session_duration", Number(role.max_session_duration));
                if let Some(boundary) = &role.permissions_boundary {
                    each("permissions_boundary", Text(boundary));
                }
                if !role.managed_policies.is_empty() {
                    each("managed_policies", Names(&role.managed_policies));
                }
                if !role.inline_policies.is_empty() {
                    each("inline_policies", Documents(&role.inline_policies));
                }
                if !UserTags(&role.tags).is_empty() {
                    each("tags", Tags(&role.tags));
                }
            }
            Shown::Profile(profile) => {
                each("name", Text(&profile.name));
                each("path", Text(&profile.path));
                if let Some(role) = &profile.role {
                    each("role", Text(role));
                }
                if !UserTags(&profile.tags).is_empty() {
                    each("tags", Tags(&profile.tags));
                }
            }
        }
    }

    /// Its view.
    pub fn view(self) -> Option<View> {
        View::of(&self)
    }
}

/// The view's JSON object: [`Shown::attributes`], in order.
impl Serialize for Shown<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let mut failed = None;
        self.attributes(&mut |key, attribute| {
            if failed.is_none()
                && let Err(error) = map.serialize_entry(key, &attribute)
            {
                failed = Some(error);
            }
        });
        match failed {
            Some(error) => Err(error),
            None => map.end(),
        }
    }
}

pub(super) fn role_view(role: &Role) -> Option<View> {
    Shown::Role(role).view()
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

pub(super) fn profile_view(profile: &InstanceProfile) -> Option<View> {
    Shown::Profile(profile).view()
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
