//! The canonical model: one set of types for what the manifests declare
//! (`Desired`) and what the account holds (`Live`), so that diffing is comparing
//! two values of one type.
//!
//! Invariants:
//! - policy documents are always in canonical form ([`PolicyDocument`]), so `==`
//!   is semantic equality;
//! - maps are `BTreeMap`s keyed by name, and tags and inline policies a
//!   [`SortedMap`] (one vector sorted by key), so every iteration order is
//!   deterministic;
//! - `Desired` tags are the merged user tags (stack tags under resource tags),
//!   never the ownership tags; `Live` tags are everything the account holds.

// Policies are their own crate; their old paths stay.
pub use rolecall_policy::{self as policy, arn, aws_policies};

pub mod key;
pub mod limits;
pub mod printable;
mod sorted_map;
pub mod user_file;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use arn::{Arn, DEFAULT_PARTITION, PARTITIONS, ProfileArn, RoleArn, is_account_id};
pub use key::{Kind, ResourceKey, is_instance_id};
pub use policy::PolicyDocument;
pub use sorted_map::{SortedMap, Tags};

/// Tag naming the stack that owns a resource.
pub const TAG_STACK: &str = "rolecall:stack";
/// Tag holding the hash of the declared spec a resource was last applied from.
pub const TAG_SPEC: &str = "rolecall:spec";
/// Tag marking an instance rolecall launched (emulated accounts only): such
/// an instance is terminated, not released, once its stack stops declaring it.
pub const TAG_LAUNCHED: &str = "rolecall:launched";
/// Prefix of every tag rolecall reserves for itself.
pub const RESERVED_TAG_PREFIX: &str = "rolecall:";
/// Tags rolecall adds to every role and profile it owns.
pub const OWNERSHIP_TAG_COUNT: usize = 2;
pub use limits::MAX_TAGS;
/// Where `Desired::locations` keeps the place of the stack's `account_id`
/// and `partition`, for the errors that refuse another account.
pub const STACK_ACCOUNT_KEY: &str = "stack/account_id";
pub const STACK_PARTITION_KEY: &str = "stack/partition";

/// Default stack name when no `kind: Stack` document is given.
pub const DEFAULT_STACK: &str = "default";
/// AWS's default (and minimum) maximum session duration, in seconds.
pub const DEFAULT_MAX_SESSION_DURATION: u32 = *limits::SESSION_DURATION.start();

/// An IAM role, as declared or as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub path: String,
    /// Empty when the role has none (AWS does not distinguish the two).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub trust: PolicyDocument,
    pub max_session_duration: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub managed_policies: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "SortedMap::is_empty")]
    pub inline_policies: SortedMap<PolicyDocument>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// A customer-managed policy, as declared or as read (its default
/// version's document). Its ARN is the account's:
/// `arn:PARTITION:iam::ACCOUNT:policy` + path + name ([`policy_arn`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub path: String,
    /// Empty when it has none. IAM cannot change a policy's description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub document: PolicyDocument,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// The ARN of the customer-managed policy `path` + `name` of an account.
pub fn policy_arn(partition: &str, account_id: &str, path: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{account_id}:policy{path}{name}")
}

/// An IAM instance profile, as declared or as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceProfile {
    pub name: String,
    pub path: String,
    /// The one role it holds, if any (AWS allows at most one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// How a manifest names an instance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceSelector {
    /// `i-…`, matched against the instance id.
    Id(String),
    /// Matched against the `Name` tag; exactly one instance must match.
    Name(String),
}

impl std::fmt::Display for InstanceSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InstanceSelector::Id(id) => f.write_str(id),
            InstanceSelector::Name(name) => write!(f, "name={name}"),
        }
    }
}

/// A declared instance: rolecall manages only its profile association.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceSpec {
    pub selector: InstanceSelector,
    /// `None`: the instance must have no profile.
    pub profile: Option<String>,
}

/// Where a declared resource came from, for errors that point at the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Shared by every place in the file: a large stack holds hundreds of
    /// thousands of locations, and a copy of the path in each was tens of
    /// megabytes.
    pub file: Arc<str>,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Everything the manifests declare, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desired {
    pub stack: String,
    /// The account the stack belongs to (`Stack.account_id`): plans are
    /// refused on any other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The partition the stack belongs to (`Stack.partition`: aws, aws-cn,
    /// aws-us-gov): plans are refused in any other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Stack-wide default tags (already merged into every role and profile).
    pub stack_tags: Tags,
    /// Customer-managed policies, by name. A role's `managed_policies`
    /// entry that is not an ARN names one of these (see
    /// [`Desired::resolve_policy_names`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, ManagedPolicy>,
    pub roles: BTreeMap<String, Role>,
    pub profiles: BTreeMap<String, InstanceProfile>,
    pub instances: Vec<InstanceSpec>,
    /// Resource key (`role/NAME`, ...) to the place it is declared.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub locations: BTreeMap<String, Location>,
}

impl Desired {
    pub fn resource_count(&self) -> usize {
        self.policies.len() + self.roles.len() + self.profiles.len() + self.instances.len()
    }

    /// Rewrites every role's `managed_policies` entry that names a declared
    /// policy as that policy's ARN in the account, so what follows compares
    /// ARNs with ARNs. The stack's partition wins over `partition` (the
    /// account's), as it does everywhere.
    pub fn resolve_policy_names(&mut self, partition: &str, account_id: &str) {
        if self.policies.is_empty() {
            return;
        }
        let partition = self
            .partition
            .clone()
            .unwrap_or_else(|| partition.to_string());
        let policies = &self.policies;
        for role in self.roles.values_mut() {
            if role
                .managed_policies
                .iter()
                .all(|entry| entry.starts_with("arn:"))
            {
                continue;
            }
            role.managed_policies = std::mem::take(&mut role.managed_policies)
                .into_iter()
                .map(|entry| match policies.get(&entry) {
                    Some(policy) if !entry.starts_with("arn:") => {
                        policy_arn(&partition, account_id, &policy.path, &policy.name)
                    }
                    _ => entry,
                })
                .collect();
        }
    }
}

/// A customer-managed policy as it exists in the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivePolicy {
    /// Its document is the default version's.
    pub policy: ManagedPolicy,
    pub arn: String,
    pub policy_id: String,
    /// The version in effect (`v3`).
    pub default_version_id: String,
    /// Every version's id, oldest first, the default among them: IAM keeps
    /// five at most, so a new version may first need the oldest
    /// non-default one deleted.
    pub versions: Vec<String>,
    /// How many roles, users and groups it is attached to.
    pub attachment_count: u32,
}

/// A role as it exists in the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRole {
    pub role: Role,
    pub arn: String,
    pub role_id: String,
}

/// An instance profile as it exists in the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveInstanceProfile {
    pub profile: InstanceProfile,
    pub arn: String,
    pub instance_profile_id: String,
}

/// EC2 instance lifecycle states (AWS's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    Pending,
    Running,
    ShuttingDown,
    Terminated,
    Stopping,
    Stopped,
}

impl InstanceState {
    pub const ALL: [InstanceState; 6] = [
        InstanceState::Pending,
        InstanceState::Running,
        InstanceState::ShuttingDown,
        InstanceState::Terminated,
        InstanceState::Stopping,
        InstanceState::Stopped,
    ];

    /// The state AWS's name names, if any (the inverse of [`Self::as_str`]).
    pub fn parse(name: &str) -> Option<InstanceState> {
        Self::ALL.into_iter().find(|state| state.as_str() == name)
    }

    /// AWS's numeric state code.
    pub fn code(self) -> u16 {
        match self {
            InstanceState::Pending => 0,
            InstanceState::Running => 16,
            InstanceState::ShuttingDown => 32,
            InstanceState::Terminated => 48,
            InstanceState::Stopping => 64,
            InstanceState::Stopped => 80,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InstanceState::Pending => "pending",
            InstanceState::Running => "running",
            InstanceState::ShuttingDown => "shutting-down",
            InstanceState::Terminated => "terminated",
            InstanceState::Stopping => "stopping",
            InstanceState::Stopped => "stopped",
        }
    }
}

/// States of an instance-profile association (AWS's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssociationState {
    Associating,
    Associated,
    Disassociating,
    Disassociated,
}

impl AssociationState {
    pub const ALL: [AssociationState; 4] = [
        AssociationState::Associating,
        AssociationState::Associated,
        AssociationState::Disassociating,
        AssociationState::Disassociated,
    ];

    /// The state AWS's name names, if any (the inverse of [`Self::as_str`]).
    pub fn parse(name: &str) -> Option<AssociationState> {
        Self::ALL.into_iter().find(|state| state.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AssociationState::Associating => "associating",
            AssociationState::Associated => "associated",
            AssociationState::Disassociating => "disassociating",
            AssociationState::Disassociated => "disassociated",
        }
    }
}

/// The active association of an instance with a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAssociation {
    pub association_id: String,
    /// Profile name, taken from the ARN (EC2 only returns the ARN).
    pub profile_name: String,
    pub profile_arn: String,
    pub state: AssociationState,
}

/// An EC2 instance as it exists in the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveInstance {
    pub instance_id: String,
    /// The `Name` tag, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub state: InstanceState,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// The association that is associating or associated, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association: Option<LiveAssociation>,
}

/// Everything the planner needs to know about an account, read in one pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Live {
    pub account_id: String,
    /// Every role of the account, this stack's or not.
    pub roles: BTreeMap<String, LiveRole>,
    /// Every instance profile of the account, this stack's or not.
    pub profiles: BTreeMap<String, LiveInstanceProfile>,
    /// Every customer-managed policy of the account, by name (IAM's policy
    /// names are unique in an account, whatever their path).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, LivePolicy>,
    /// Keyed by instance id; terminated instances are left out.
    pub instances: BTreeMap<String, LiveInstance>,
    #[serde(default)]
    pub quotas: AccountQuotas,
    /// The account's partition (`aws`, `aws-cn`, ...): IAM refuses a policy
    /// ARN of another. `None`: unknown, not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
}

impl Live {
    /// The account's customer-managed policy of ARN `arn`, if it holds one.
    pub fn policy_by_arn(&self, arn: &str) -> Option<&LivePolicy> {
        // The name is the ARN's last segment; the path must match too.
        let name = arn.rsplit('/').next()?;
        self.policies.get(name).filter(|policy| policy.arn == arn)
    }
}

/// The account's quotas on what rolecall creates, as the backend reports
/// them (the emulated account's settings; on AWS, GetAccountSummary).
/// `None`: unknown, so a plan is not checked against it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountQuotas {
    /// Roles per account (IAM's `RolesPerAccount`).
    pub roles: Option<u32>,
    /// Instance profiles per account (IAM's `InstanceProfilesPerAccount`).
    pub instance_profiles: Option<u32>,
}

/// Key of a customer-managed policy in plans and outputs: `policy/NAME`.
pub fn policy_key(name: &str) -> String {
    format!("{}/{name}", Kind::Policy.prefix())
}

/// Key of a role in plans and outputs: `role/NAME`.
pub fn role_key(name: &str) -> String {
    format!("{}/{name}", Kind::Role.prefix())
}

/// Key of an instance profile in plans and outputs: `instance-profile/NAME`.
pub fn profile_key(name: &str) -> String {
    format!("{}/{name}", Kind::InstanceProfile.prefix())
}

/// Key of an instance: `instance/ID`, or `instance/NAME` for one not yet launched.
pub fn instance_key(id_or_name: &str) -> String {
    format!("{}/{id_or_name}", Kind::Instance.prefix())
}

/// A resource as people read it: its key and, for an instance whose key does
/// not already say it, its Name tag: `instance/i-0abc… (web-1)`. Keys stay
/// the machine handle; this is for text meant to be read, so it is one line
/// whatever the account holds: a Name tag with a line break (anyone may tag
/// an instance) must not start a line of its own in a plan or a report.
pub fn resource_title(key: &str, name: Option<&str>) -> String {
    let title = match name {
        Some(name) if key::parts(key) != Some((Kind::Instance, name)) => format!("{key} ({name})"),
        _ => key.to_string(),
    };
    crate::printable::printable_line(title).to_string()
}

/// Profile name from an instance-profile ARN (`arn:aws:iam::1:instance-profile/path/NAME`).
pub fn name_from_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[cfg(test)]
mod tests {
    use super::{AssociationState, InstanceState, resource_title};

    #[test]
    fn states_parse_back_from_their_aws_names() {
        for state in InstanceState::ALL {
            assert_eq!(InstanceState::parse(state.as_str()), Some(state));
        }
        for state in AssociationState::ALL {
            assert_eq!(AssociationState::parse(state.as_str()), Some(state));
        }
        assert_eq!(InstanceState::parse("Running"), None);
        assert_eq!(AssociationState::parse(""), None);
    }

    #[test]
    fn a_title_is_one_line_whatever_the_name_tag_holds() {
        assert_eq!(
            resource_title("instance/i-0abc", Some("web-1")),
            "instance/i-0abc (web-1)"
        );
        // Anyone may tag an instance: a line break or an escape sequence in
        // its Name must not forge the next line of a plan or a report.
        let forged = resource_title("instance/i-0abc", Some("x)\n+ role/evil\u{1b}[2K"));
        assert!(
            !forged.contains('\n') && !forged.contains('\u{1b}'),
            "{forged}"
        );
        assert_eq!(
            resource_title("instance/web-1", Some("web-1")),
            "instance/web-1"
        );
    }
}
