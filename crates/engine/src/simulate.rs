//! "Can this instance do that?": the policies a role's sessions carry,
//! gathered from the manifests (declared) or the account (live), ready for
//! the evaluation engine (`rolecall-evaluation`), each policy with the
//! place a person finds it at.
//!
//! An instance's software acts as a session of its profile's role (EC2
//! hands it the role's credentials through instance metadata), so an
//! instance's question is its role's: identity policies are the role's
//! inline policies and managed policies, the ceiling its permissions
//! boundary. The request context carries what AWS sets for a role session
//! (`aws:PrincipalArn`, `aws:PrincipalTag/*` from the role's tags, ...),
//! under what the caller gives (`--context`).

use std::fmt;

pub use rolecall_evaluation::DecisionKind;
use rolecall_evaluation::{Context, NamedPolicy, Policies, PolicySet, Request};
use rolecall_model::{
    Desired, InstanceSelector, Live, Location, PolicyDocument, Role, name_from_arn,
};

use crate::manifest::PolicyPlaces;

/// Where a policy is, for the person reading the answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// An inline policy of the role, declared at `place` (manifests) or
    /// read from the account (no place).
    Inline {
        role: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        place: Option<Location>,
    },
    /// A managed policy, by ARN, attached at `place`.
    Managed {
        arn: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        place: Option<Location>,
    },
    /// The permissions boundary, by ARN, named at `place`.
    Boundary {
        arn: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        place: Option<Location>,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, place) = match self {
            Source::Inline { role, place } => (format!("inline policy of role {role}"), place),
            Source::Managed { arn, place } => (format!("managed policy {arn}"), place),
            Source::Boundary { arn, place } => (format!("permissions boundary {arn}"), place),
        };
        match place {
            Some(place) => write!(f, "{place}: {what}"),
            None => f.write_str(&what),
        }
    }
}

/// Which role a question is about, and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub role: Role,
    /// The instance asked about, by id or name, and its profile.
    pub instance: Option<(String, String)>,
    /// The role's ARN in the account, when known (live), else built from
    /// the account id when the stack declares one.
    pub role_arn: Option<String>,
}

/// Why a question cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulateError {
    #[error("no role named `{0}` is {1}")]
    NoRole(String, &'static str),
    #[error("no instance `{0}` is {1}")]
    NoInstance(String, &'static str),
    #[error("instance `{0}` has no instance profile, so software on it gets no AWS credentials")]
    NoProfile(String),
    #[error(
        "instance profile `{profile}` of instance `{instance}` holds no role, so software on it gets no AWS credentials"
    )]
    EmptyProfile { instance: String, profile: String },
    #[error("instance profile `{profile}` of instance `{instance}` is {where_}")]
    MissingProfile {
        instance: String,
        profile: String,
        where_: &'static str,
    },
    #[error(
        "the permissions boundary {0} is not an AWS-managed policy rolecall knows, so no decision can be made (customer-managed policy documents are not supported yet)"
    )]
    UnknownBoundary(String),
    #[error("{count} instances in the account are named `{name}` ({ids}): name one by its id")]
    AmbiguousInstance {
        name: String,
        count: usize,
        ids: String,
    },
    #[error("the role's policies: {0}")]
    Compile(String),
}

/// Where the answer's facts come from: the manifests, or the account.
pub enum Facts<'a> {
    Declared {
        desired: &'a Desired,
        places: &'a PolicyPlaces,
    },
    Live(&'a Live),
}

impl Facts<'_> {
    fn describe(&self) -> &'static str {
        match self {
            Facts::Declared { .. } => "declared in the manifests",
            Facts::Live(_) => "in the account",
        }
    }

    /// The role named `name`.
    pub fn role(&self, name: &str) -> Result<Principal, SimulateError> {
        let missing = || SimulateError::NoRole(name.to_string(), self.describe());
        match self {
            Facts::Declared { desired, .. } => {
                let role = desired.roles.get(name).ok_or_else(missing)?;
                Ok(Principal {
                    role: role.clone(),
                    instance: None,
                    role_arn: desired.account_id.as_ref().map(|account| {
                        let partition = desired.partition.as_deref().unwrap_or("aws");
                        format!(
                            "arn:{partition}:iam::{account}:role{}{}",
                            role.path, role.name
                        )
                    }),
                })
            }
            Facts::Live(live) => {
                let role = live.roles.get(name).ok_or_else(missing)?;
                Ok(Principal {
                    role: role.role.clone(),
                    instance: None,
                    role_arn: Some(role.arn.clone()),
                })
            }
        }
    }

    /// The role of the instance `selector` names (an `i-` id or a `Name`
    /// tag), through its instance profile.
    pub fn instance(&self, selector: &str) -> Result<Principal, SimulateError> {
        let missing = || SimulateError::NoInstance(selector.to_string(), self.describe());
        let profile_name = match self {
            Facts::Declared { desired, .. } => {
                let declared = desired
                    .instances
                    .iter()
                    .find(|instance| match &instance.selector {
                        InstanceSelector::Id(id) | InstanceSelector::Name(id) => id == selector,
                    })
                    .ok_or_else(missing)?;
                declared.profile.clone()
            }
            Facts::Live(live) => {
                let found: Vec<_> = live
                    .instances
                    .values()
                    .filter(|instance| {
                        instance.instance_id == selector
                            || instance.name.as_deref() == Some(selector)
                    })
                    .collect();
                if found.len() > 1 {
                    return Err(SimulateError::AmbiguousInstance {
                        name: selector.to_string(),
                        count: found.len(),
                        ids: found
                            .iter()
                            .map(|i| i.instance_id.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
                let instance = found.first().ok_or_else(missing)?;
                instance
                    .association
                    .as_ref()
                    .map(|association| association.profile_name.clone())
            }
        };
        let profile_name =
            profile_name.ok_or_else(|| SimulateError::NoProfile(selector.to_string()))?;
        let role_name = match self {
            Facts::Declared { desired, .. } => desired
                .profiles
                .get(&profile_name)
                .map(|profile| profile.role.clone()),
            Facts::Live(live) => live
                .profiles
                .get(&profile_name)
                .map(|profile| profile.profile.role.clone()),
        }
        .ok_or_else(|| SimulateError::MissingProfile {
            instance: selector.to_string(),
            profile: profile_name.clone(),
            where_: match self {
                Facts::Declared { .. } => "not declared in the manifests",
                Facts::Live(_) => "not in the account",
            },
        })?
        .ok_or_else(|| SimulateError::EmptyProfile {
            instance: selector.to_string(),
            profile: profile_name.clone(),
        })?;
        let mut principal = self.role(&role_name)?;
        principal.instance = Some((selector.to_string(), profile_name));
        Ok(principal)
    }

    fn places(&self) -> Option<&PolicyPlaces> {
        match self {
            Facts::Declared { places, .. } => Some(places),
            Facts::Live(_) => None,
        }
    }
}

/// A role's policies, compiled: what evaluates its questions.
pub struct Evaluator {
    pub set: PolicySet<Source>,
    /// Managed policies attached to the role that rolecall has no document
    /// of (customer-managed): left out, so an allow they would give is
    /// not seen.
    pub unknown_policies: Vec<String>,
    context: Context,
    /// Each policy's document, to show the statements that decided.
    documents: Vec<(Source, String, PolicyDocument)>,
}

impl Evaluator {
    /// Compiles `principal`'s policies; `managed` gives the document of a
    /// managed policy ARN when rolecall knows it.
    pub fn new(
        principal: &Principal,
        facts: &Facts<'_>,
        managed: &dyn Fn(&str) -> Option<PolicyDocument>,
    ) -> Result<Evaluator, SimulateError> {
        let role = &principal.role;
        let places = facts.places();
        let mut identity = Vec::new();
        for (name, document) in &role.inline_policies {
            let place = places.and_then(|p| p.inline(&role.name, name)).cloned();
            identity.push(NamedPolicy::new(
                Source::Inline {
                    role: role.name.clone(),
                    place,
                },
                name.clone(),
                document.clone(),
            ));
        }
        let mut unknown_policies = Vec::new();
        for arn in &role.managed_policies {
            let Some(document) = managed(arn) else {
                unknown_policies.push(arn.clone());
                continue;
            };
            let place = places.and_then(|p| p.managed(&role.name, arn)).cloned();
            identity.push(NamedPolicy::new(
                Source::Managed {
                    arn: arn.clone(),
                    place,
                },
                name_from_arn(arn).to_string(),
                document,
            ));
        }
        let mut policies = Policies::identity(identity);
        if let Some(arn) = &role.permissions_boundary {
            let document =
                managed(arn).ok_or_else(|| SimulateError::UnknownBoundary(arn.clone()))?;
            let place = places.and_then(|p| p.boundary(&role.name)).cloned();
            policies.permissions_boundary = Some(vec![NamedPolicy::new(
                Source::Boundary {
                    arn: arn.clone(),
                    place,
                },
                name_from_arn(arn).to_string(),
                document,
            )]);
        }
        let documents = policies
            .identity
            .iter()
            .chain(policies.permissions_boundary.iter().flatten())
            .map(|policy| {
                (
                    policy.source.clone(),
                    policy.name.clone(),
                    policy.document.clone(),
                )
            })
            .collect();
        let set = PolicySet::compile(policies)
            .map_err(|error| SimulateError::Compile(error.to_string()))?;
        Ok(Evaluator {
            set,
            unknown_policies,
            context: session_context(principal),
            documents,
        })
    }

    /// Statement `index` (in the document's canonical order, as the engine
    /// counts) of the policy `name` from `source`.
    pub fn statement(
        &self,
        source: &Source,
        name: &str,
        index: usize,
    ) -> Option<serde_json::Value> {
        let (_, _, document) = self
            .documents
            .iter()
            .find(|(s, n, _)| s == source && n == name)?;
        document
            .statements()
            .nth(index)
            .map(|statement| serde_json::Value::Object(statement.clone()))
    }

    /// The context a request of the role's session carries, with `given`
    /// keys (the caller's) replacing the session's.
    pub fn request(&self, action: &str, resource: &str, given: &[(String, String)]) -> Request {
        let mut context = self.context.clone();
        let mut replaced = std::collections::HashSet::new();
        for (key, value) in given {
            let key_lower = key.to_ascii_lowercase();
            if replaced.insert(key_lower) {
                context.set(key, [value.clone()]);
            } else {
                let mut values: Vec<String> = context.get(key).unwrap_or_default().to_vec();
                values.push(value.clone());
                context.set(key, values);
            }
        }
        Request::new(action, resource).with_context(context)
    }
}

/// What AWS puts in a role session's request context (its tags, ARN and
/// account, the time), and that the SDKs and the AWS CLI call over HTTPS.
fn session_context(principal: &Principal) -> Context {
    let mut context = Context::role_session(
        principal.role_arn.as_deref(),
        &principal.role.tags,
        jiff::Timestamp::now(),
    );
    context.insert("aws:SecureTransport", "true");
    context
}
