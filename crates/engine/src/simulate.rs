//! "Can this instance do that?": the policies a role's sessions carry,
//! gathered from the manifests (declared) or the account (live), ready for
//! the evaluation engine (`rolecall-evaluation`), each policy with the
//! place a person finds it at.
//!
//! An instance's software acts as a session of its profile's role (EC2
//! hands it the role's credentials through instance metadata), so an
//! instance's question is its role's: identity policies are the role's
//! inline policies and managed policies, the ceiling its permissions
//! boundary. A managed policy's document is AWS's (bundled) or, for a
//! customer-managed one, the manifests' `ManagedPolicy` (declared) or the
//! account's default version (live): all are evaluated alike. The request context carries what AWS sets for a role session
//! (`aws:PrincipalArn`, `aws:PrincipalTag/*` from the role's tags, ...),
//! under what the caller gives (`--context`).

use std::fmt;

pub use rolecall_evaluation::DecisionKind;
use rolecall_evaluation::{Context, NamedPolicy, Policies, PolicySet, Request};
use rolecall_model::arn::PolicyArn;
use rolecall_model::{
    DEFAULT_PARTITION, Desired, InstanceSelector, Live, Location, ManagedPolicy, PolicyDocument,
    Role, name_from_arn, policy_arn, policy_key,
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
    /// An AWS-managed policy, by ARN, attached at `place`.
    Managed {
        arn: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        place: Option<Location>,
    },
    /// A customer-managed policy: of the manifests (`kind: ManagedPolicy`),
    /// declared at `place`, with its ARN when the Stack names its account;
    /// or (`--live`) the account's, with its ARN, attached at `place`.
    CustomerManaged {
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        arn: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        place: Option<Location>,
    },
    /// The permissions boundary, by ARN, named at `place` (for one the
    /// manifests declare, where they declare it).
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
            Source::CustomerManaged { name, place, .. } => {
                (format!("customer-managed policy {name}"), place)
            }
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
    #[error("the permissions boundary {0} is not evaluated: {1}, so no decision can be made")]
    UnknownBoundary(String, String),
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

    /// The document of the managed policy `entry` (an ARN, or a declared
    /// ManagedPolicy's name) and where it is, or why there is none.
    /// `aws_managed` gives the AWS-managed documents rolecall bundles.
    fn managed_policy(
        &self,
        entry: &str,
        aws_managed: &dyn Fn(&str) -> Option<PolicyDocument>,
    ) -> Result<(PolicyDocument, Found), String> {
        match self {
            Facts::Declared { desired, .. } => {
                if let Some(policy) = declared_policy(desired, entry) {
                    let name = policy.name.clone();
                    let found = Found::Declared {
                        place: desired.locations.get(&policy_key(&name)).cloned(),
                        arn: desired.account_id.as_ref().map(|account| {
                            let partition =
                                desired.partition.as_deref().unwrap_or(DEFAULT_PARTITION);
                            policy_arn(partition, account, &policy.path, &name)
                        }),
                        name,
                    };
                    return Ok((policy.document.clone(), found));
                }
                if let Some(document) = aws_managed(entry) {
                    return Ok((document, Found::Aws));
                }
                Err(match PolicyArn::parse(entry) {
                    Some(arn) if arn.account == "aws" => {
                        "rolecall bundles no AWS-managed policy of this ARN".to_string()
                    }
                    Some(arn) => {
                        let mut why = "it is a customer-managed policy the manifests do not declare (kind: ManagedPolicy)".to_string();
                        // A declared policy of that path and name, whose
                        // account rolecall cannot tell.
                        if desired.account_id.is_none()
                            && let Some(policy) = desired.policies.get(arn.name)
                            && policy.path == arn.path
                        {
                            why.push_str(&format!(
                                "; if it is the declared `{}`, name it `{}` or set the Stack's account_id",
                                policy.name, policy.name
                            ));
                        }
                        why
                    }
                    None => "it is neither a policy ARN nor a declared ManagedPolicy".to_string(),
                })
            }
            Facts::Live(live) => {
                if let Some(policy) = live.policy_by_arn(entry) {
                    let found = Found::Account {
                        name: policy.policy.name.clone(),
                    };
                    return Ok((policy.policy.document.clone(), found));
                }
                if let Some(document) = aws_managed(entry) {
                    return Ok((document, Found::Aws));
                }
                Err(match PolicyArn::parse(entry) {
                    Some(arn) if arn.account == "aws" => {
                        "rolecall bundles no AWS-managed policy of this ARN".to_string()
                    }
                    _ => "the account holds no customer-managed policy of this ARN".to_string(),
                })
            }
        }
    }
}

/// Where a managed policy's document was found.
enum Found {
    /// AWS's (bundled): named by its ARN.
    Aws,
    /// The account's own customer-managed policy of that name (`--live`).
    Account { name: String },
    /// A ManagedPolicy of the manifests.
    Declared {
        name: String,
        arn: Option<String>,
        place: Option<Location>,
    },
}

/// The ManagedPolicy of the manifests `entry` stands for: its name, or,
/// when the Stack names its account (and partition, if it names one), its
/// ARN in that account.
fn declared_policy<'d>(desired: &'d Desired, entry: &str) -> Option<&'d ManagedPolicy> {
    if !entry.starts_with("arn:") {
        return desired.policies.get(entry);
    }
    let arn = PolicyArn::parse(entry)?;
    let account = desired.account_id.as_deref()?;
    let partition = desired.partition.as_deref();
    if !arn.is_of(partition, account) {
        return None;
    }
    desired
        .policies
        .get(arn.name)
        .filter(|policy| policy.path == arn.path)
}

/// A managed policy attached to the role whose document rolecall does not
/// have: left out of the decision, so an allow it would give is not seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotEvaluated {
    pub arn: String,
    /// Why there is no document: "the account holds no customer-managed
    /// policy of this ARN", ...
    pub reason: String,
}

/// A role's policies, compiled: what evaluates its questions.
pub struct Evaluator {
    pub set: PolicySet<Source>,
    /// Managed policies attached to the role that rolecall has no document
    /// of (a customer-managed policy neither declared nor, live, in the
    /// account): left out, so an allow they would give is not seen.
    pub not_evaluated: Vec<NotEvaluated>,
    context: Context,
    /// Each policy's document, to show the statements that decided.
    documents: Vec<(Source, String, PolicyDocument)>,
}

impl Evaluator {
    /// Compiles `principal`'s policies; `aws_managed` gives the document of
    /// an AWS-managed policy ARN when rolecall knows it. Customer-managed
    /// documents come from the facts: the manifests' ManagedPolicies, or
    /// the account's policies.
    pub fn new(
        principal: &Principal,
        facts: &Facts<'_>,
        aws_managed: &dyn Fn(&str) -> Option<PolicyDocument>,
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
        let mut not_evaluated = Vec::new();
        for entry in &role.managed_policies {
            let (document, found) = match facts.managed_policy(entry, aws_managed) {
                Ok(found) => found,
                Err(reason) => {
                    not_evaluated.push(NotEvaluated {
                        arn: entry.clone(),
                        reason,
                    });
                    continue;
                }
            };
            let (source, name) = match found {
                Found::Aws => (
                    Source::Managed {
                        arn: entry.clone(),
                        place: places.and_then(|p| p.managed(&role.name, entry)).cloned(),
                    },
                    name_from_arn(entry).to_string(),
                ),
                Found::Declared { name, arn, place } => (
                    Source::CustomerManaged {
                        name: name.clone(),
                        arn,
                        place,
                    },
                    name,
                ),
                // A customer-managed policy is labelled so whether the
                // manifests or the account gave its document.
                Found::Account { name } => (
                    Source::CustomerManaged {
                        name: name.clone(),
                        arn: Some(entry.clone()),
                        place: places.and_then(|p| p.managed(&role.name, entry)).cloned(),
                    },
                    name,
                ),
            };
            identity.push(NamedPolicy::new(source, name, document));
        }
        let mut policies = Policies::identity(identity);
        if let Some(arn) = &role.permissions_boundary {
            let (document, found) = facts
                .managed_policy(arn, aws_managed)
                .map_err(|reason| SimulateError::UnknownBoundary(arn.clone(), reason))?;
            // A declared boundary is shown where it is declared; another
            // where the role names it.
            let place = match found {
                Found::Declared { place, .. } => place,
                Found::Aws | Found::Account { .. } => {
                    places.and_then(|p| p.boundary(&role.name)).cloned()
                }
            };
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
            not_evaluated,
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
        rolecall_model::policy::statements(&document.tree())
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
        principal.role.tags.iter(),
        jiff::Timestamp::now(),
    );
    context.insert("aws:SecureTransport", "true");
    context
}

#[cfg(test)]
mod tests {
    use super::*;
    use rolecall_model::{LivePolicy, LiveRole};

    const ACCOUNT_POLICY: &str = "arn:aws:iam::123456789012:policy/ci/deploy-tools";

    /// An account whose role `ci` has a customer-managed policy of the
    /// account attached, and one the account does not hold.
    fn account() -> Live {
        let document = PolicyDocument::parse(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:PutImage", "Resource": "*"}]}"#,
        )
        .unwrap();
        let mut live = Live {
            account_id: "123456789012".into(),
            ..Live::default()
        };
        live.policies.insert(
            "deploy-tools".into(),
            LivePolicy {
                policy: ManagedPolicy {
                    name: "deploy-tools".into(),
                    path: "/ci/".into(),
                    description: String::new(),
                    document,
                    tags: Default::default(),
                },
                arn: ACCOUNT_POLICY.into(),
                policy_id: "ANPAEXAMPLE0000000001".into(),
                default_version_id: "v2".into(),
                versions: vec!["v1".into(), "v2".into()],
                attachment_count: 1,
            },
        );
        let role = Role {
            name: "ci".into(),
            path: "/".into(),
            description: String::new(),
            trust: PolicyDocument::trusting_services(&["ec2.amazonaws.com".to_string()]),
            max_session_duration: 3600,
            permissions_boundary: None,
            managed_policies: [
                ACCOUNT_POLICY.to_string(),
                "arn:aws:iam::123456789012:policy/gone".to_string(),
            ]
            .into(),
            inline_policies: Default::default(),
            tags: Default::default(),
        };
        live.roles.insert(
            "ci".into(),
            LiveRole {
                role,
                arn: "arn:aws:iam::123456789012:role/ci".into(),
                role_id: "AROAEXAMPLE0000000001".into(),
            },
        );
        live
    }

    #[test]
    fn live_customer_managed_policies_are_the_accounts_default_versions() {
        let live = account();
        let facts = Facts::Live(&live);
        let principal = facts.role("ci").unwrap();
        let evaluator = Evaluator::new(&principal, &facts, &|_| None).unwrap();
        let decision = evaluator
            .set
            .evaluate(&evaluator.request("ecr:PutImage", "*", &[]));
        assert!(decision.is_allowed());
        assert_eq!(
            decision.matched_statements[0].source,
            &Source::CustomerManaged {
                name: name_from_arn(ACCOUNT_POLICY).into(),
                arn: Some(ACCOUNT_POLICY.into()),
                place: None
            }
        );
        assert_eq!(
            evaluator.not_evaluated,
            [NotEvaluated {
                arn: "arn:aws:iam::123456789012:policy/gone".into(),
                reason: "the account holds no customer-managed policy of this ARN".into(),
            }]
        );
    }

    #[test]
    fn a_live_boundary_of_the_account_is_evaluated() {
        let mut live = account();
        let role = &mut live.roles.get_mut("ci").unwrap().role;
        role.permissions_boundary = Some(ACCOUNT_POLICY.into());
        role.managed_policies = ["arn:aws:iam::aws:policy/AdministratorAccess".to_string()].into();
        let facts = Facts::Live(&live);
        let principal = facts.role("ci").unwrap();
        let aws = |arn: &str| rolecall_model::aws_policies::aws_policy_document(arn);
        let evaluator = Evaluator::new(&principal, &facts, &aws).unwrap();
        let allowed = |action: &str| {
            evaluator
                .set
                .evaluate(&evaluator.request(action, "*", &[]))
                .is_allowed()
        };
        assert!(allowed("ecr:PutImage"));
        assert!(!allowed("iam:CreateRole"), "outside the boundary");

        live.roles.get_mut("ci").unwrap().role.permissions_boundary =
            Some("arn:aws:iam::123456789012:policy/gone".into());
        let facts = Facts::Live(&live);
        let principal = facts.role("ci").unwrap();
        let error = Evaluator::new(&principal, &facts, &aws).err().unwrap();
        assert_eq!(
            error.to_string(),
            "the permissions boundary arn:aws:iam::123456789012:policy/gone is not evaluated: the account holds no customer-managed policy of this ARN, so no decision can be made"
        );
    }
}
