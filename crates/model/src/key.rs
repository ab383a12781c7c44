//! Resource keys: how plans, reports, saved plans and the command line name
//! a resource (`policy/NAME`, `role/NAME`, `instance-profile/NAME`, `instance/ID`, or
//! `instance/NAME` for an instance known by its Name tag, not launched yet).
//!
//! Plans and reports keep keys as text (their JSON is a stable contract);
//! code that needs to know what a key names parses it into a [`ResourceKey`]
//! rather than cutting prefixes off strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kinds of resource rolecall manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A customer-managed policy (`policy/NAME`).
    Policy,
    Role,
    InstanceProfile,
    Instance,
}

impl Kind {
    /// The key's prefix, without its slash: `policy`, `role`,
    /// `instance-profile`, `instance`.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Policy => "policy",
            Kind::Role => "role",
            Kind::InstanceProfile => "instance-profile",
            Kind::Instance => "instance",
        }
    }
}

/// A resource key. An instance is named by its id or by its Name tag, and
/// the key says which.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKey {
    /// `policy/NAME`: a customer-managed policy.
    Policy(String),
    Role(String),
    Profile(String),
    /// `instance/i-…`: an instance by its id.
    InstanceById(String),
    /// `instance/NAME`: an instance by its Name tag.
    InstanceByName(String),
}

impl ResourceKey {
    /// An instance key from text that is an id or a Name tag: an id when it
    /// has the form of one (see [`is_instance_id`]).
    pub fn instance(id_or_name: &str) -> ResourceKey {
        if is_instance_id(id_or_name) {
            ResourceKey::InstanceById(id_or_name.to_string())
        } else {
            ResourceKey::InstanceByName(id_or_name.to_string())
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            ResourceKey::Policy(_) => Kind::Policy,
            ResourceKey::Role(_) => Kind::Role,
            ResourceKey::Profile(_) => Kind::InstanceProfile,
            ResourceKey::InstanceById(_) | ResourceKey::InstanceByName(_) => Kind::Instance,
        }
    }

    /// What follows the prefix: a name, or an instance's id or Name tag.
    pub fn ident(&self) -> &str {
        match self {
            ResourceKey::Policy(ident)
            | ResourceKey::Role(ident)
            | ResourceKey::Profile(ident)
            | ResourceKey::InstanceById(ident)
            | ResourceKey::InstanceByName(ident) => ident,
        }
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind().prefix(), self.ident())
    }
}

/// Text that is not `role/NAME`, `instance-profile/NAME` or `instance/ID`
/// (or `instance/NAME`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0}: not a resource key; use policy/NAME, role/NAME, instance-profile/NAME or instance/ID"
)]
pub struct NotAKey(pub String);

impl FromStr for ResourceKey {
    type Err = NotAKey;

    /// Parses what [`Display`](fmt::Display) writes. The part after the
    /// prefix is taken as it is (it may be empty, or hold slashes): only the
    /// prefix decides the kind.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match parts(text) {
            Some((Kind::Policy, name)) => Ok(ResourceKey::Policy(name.to_string())),
            Some((Kind::Role, name)) => Ok(ResourceKey::Role(name.to_string())),
            Some((Kind::InstanceProfile, name)) => Ok(ResourceKey::Profile(name.to_string())),
            Some((Kind::Instance, id_or_name)) => Ok(ResourceKey::instance(id_or_name)),
            None => Err(NotAKey(text.to_string())),
        }
    }
}

/// A key's kind and what follows its prefix, borrowed: [`ResourceKey`]'s
/// parse without copying, for code that reads many keys (renderers, saved
/// plans). `None` for text that is no key.
pub fn parts(text: &str) -> Option<(Kind, &str)> {
    // `instance-profile/` before `instance/`? They cannot both match: the
    // slash comes right after the kind.
    [
        Kind::Policy,
        Kind::Role,
        Kind::InstanceProfile,
        Kind::Instance,
    ]
    .into_iter()
    .find_map(|kind| {
        let ident = text.strip_prefix(kind.prefix())?.strip_prefix('/')?;
        Some((kind, ident))
    })
}

/// The kind of resource a key names; `None` for text that is no key.
pub fn kind_of(text: &str) -> Option<Kind> {
    parts(text).map(|(kind, _)| kind)
}

/// Written as its text, so JSON holding keys keeps its shape.
impl Serialize for ResourceKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ResourceKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Whether `id` has the form of an EC2 instance id: `i-` and 8 or 17
/// lower-case hex digits.
pub fn is_instance_id(id: &str) -> bool {
    id.strip_prefix("i-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_as_written() {
        for text in [
            "role/web",
            "policy/deploy-tools",
            "instance-profile/web",
            "instance/i-0123456789abcdef0",
            "instance/web-1",
            "role/",
            "instance/a/b",
        ] {
            let key: ResourceKey = text.parse().unwrap();
            assert_eq!(key.to_string(), text);
            let json = serde_json::to_string(&key).unwrap();
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<ResourceKey>(&json).unwrap(), key);
        }
        assert_eq!(
            "instance/i-01234567".parse::<ResourceKey>().unwrap(),
            ResourceKey::InstanceById("i-01234567".into())
        );
        assert_eq!(
            "instance/i-0123".parse::<ResourceKey>().unwrap(),
            ResourceKey::InstanceByName("i-0123".into())
        );
        assert_eq!(
            "instance-profile/x".parse::<ResourceKey>().unwrap().kind(),
            Kind::InstanceProfile
        );
        assert!("user/x".parse::<ResourceKey>().is_err());
        assert!("Role/x".parse::<ResourceKey>().is_err());
    }
}
