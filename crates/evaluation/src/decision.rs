//! What the engine answers: the decision with AWS's names, the statements
//! that decided it, and for an implicit deny the reasons, typed so a CLI
//! can print "implicitly denied: ... because ..." or JSON.

use std::fmt;

use serde::Serialize;

/// The outcome, serialised with the `EvalDecision` names of IAM's
/// `SimulatePrincipalPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DecisionKind {
    /// Some identity statement allows, the boundary and session policies
    /// (when set) allow too, and nothing denies.
    Allowed,
    /// A statement denies; nothing overrides it.
    ExplicitDeny,
    /// Nothing denies, but not every layer that must allow does.
    ImplicitDeny,
}

impl fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecisionKind::Allowed => "allowed",
            DecisionKind::ExplicitDeny => "explicitly denied",
            DecisionKind::ImplicitDeny => "implicitly denied",
        })
    }
}

/// Which kind of policy a statement is in: the layers that must each allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Layer {
    /// The principal's inline and managed policies.
    Identity,
    /// The permissions boundary: a ceiling, granting nothing alone.
    PermissionsBoundary,
    /// The session policies passed to `AssumeRole`: a ceiling too.
    SessionPolicy,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Identity => "identity policies",
            Layer::PermissionsBoundary => "permissions boundary",
            Layer::SessionPolicy => "session policies",
        })
    }
}

/// One statement, named so a person can find it: the caller's source of
/// the policy (a manifest's file and line, a managed policy's ARN), the
/// policy's name, the statement's position and its `Sid`.
///
/// `statement` counts from 0 in the document's canonical order
/// ([`rolecall_policy::PolicyDocument`] sorts statements so equal
/// documents compare equal); the `Sid`, when there is one, is the name
/// that survives reordering.
#[derive(Debug, Serialize)]
pub struct StatementRef<'a, S> {
    pub layer: Layer,
    pub source: &'a S,
    pub policy: &'a str,
    pub statement: usize,
    pub sid: Option<&'a str>,
}

// Not derived: a derive would ask `S: Clone`, but only a reference is copied.
impl<S> Clone for StatementRef<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for StatementRef<'_, S> {}

impl<S> PartialEq for StatementRef<'_, S> {
    fn eq(&self, other: &Self) -> bool {
        self.layer == other.layer
            && std::ptr::eq(self.source, other.source)
            && self.policy == other.policy
            && self.statement == other.statement
            && self.sid == other.sid
    }
}

impl<S> Eq for StatementRef<'_, S> {}

/// Named by its Sid: the index counts in canonical order, which is not the
/// order a person wrote, so it is left to callers that can show the
/// statement itself.
impl<S: fmt::Display> fmt::Display for StatementRef<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sid {
            Some(sid) => write!(f, "statement {sid}")?,
            None => f.write_str("a statement without Sid")?,
        }
        write!(f, " of policy {} ({})", self.policy, self.source)
    }
}

/// Why a request is implicitly denied: one entry for each thing that
/// would have to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "camelCase")]
pub enum Reason<'a, S> {
    /// No Allow statement of the layer names the action.
    #[serde(rename_all = "camelCase")]
    NoStatementMatchesAction { layer: Layer },
    /// The statement allows the action, but not on this resource.
    #[serde(rename_all = "camelCase")]
    ResourceNotMatched { statement: StatementRef<'a, S> },
    /// The statement allows the action on the resource, but this condition
    /// (the first of the statement's that fails) does not hold.
    #[serde(rename_all = "camelCase")]
    ConditionFailed {
        statement: StatementRef<'a, S>,
        operator: &'a str,
        key: &'a str,
        /// The request has no value for the key.
        key_missing: bool,
    },
    /// The statement's condition uses an operator the engine does not
    /// know, so the statement cannot apply.
    #[serde(rename_all = "camelCase")]
    UnknownOperator {
        statement: StatementRef<'a, S>,
        operator: &'a str,
        key: &'a str,
    },
    /// A ceiling (the permissions boundary or the session policies) does
    /// not allow the request, whatever the identity policies say; the
    /// reasons after this one say why.
    #[serde(rename_all = "camelCase")]
    LayerDoesNotAllow { layer: Layer },
}

impl<S: fmt::Display> fmt::Display for Reason<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoStatementMatchesAction { layer } => {
                write!(f, "no Allow statement of the {layer} matches the action")
            }
            Reason::ResourceNotMatched { statement } => {
                write!(f, "{statement} allows the action but not on this resource")
            }
            Reason::ConditionFailed {
                statement,
                operator,
                key,
                key_missing,
            } => {
                write!(f, "{statement}: condition {operator} on {key} fails")?;
                if *key_missing {
                    f.write_str(" (the request has no value for the key)")?;
                }
                Ok(())
            }
            Reason::UnknownOperator {
                statement,
                operator,
                key,
            } => write!(
                f,
                "{statement}: condition operator {operator} (on {key}) is unknown, so the statement never applies"
            ),
            Reason::LayerDoesNotAllow { layer } => match layer {
                Layer::PermissionsBoundary => {
                    f.write_str("the permissions boundary does not allow it")
                }
                other => write!(f, "the {other} do not allow it"),
            },
        }
    }
}

/// The decision for one request, borrowing names from the compiled
/// [`crate::PolicySet`] (evaluation copies no strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision<'a, S> {
    pub kind: DecisionKind,
    /// The deciding statements: every Deny statement that applies for an
    /// explicit deny; every Allow statement that applies (identity, then
    /// boundary, then session) when allowed; none for an implicit deny.
    pub matched_statements: Vec<StatementRef<'a, S>>,
    /// For an implicit deny, why; empty otherwise.
    pub missing: Vec<Reason<'a, S>>,
}

impl<S> Decision<'_, S> {
    pub fn is_allowed(&self) -> bool {
        self.kind == DecisionKind::Allowed
    }
}

impl<S: fmt::Display> fmt::Display for Decision<'_, S> {
    /// `allowed by ...`, `explicitly denied by ...`, or `implicitly denied
    /// because ...; ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        let mut first = true;
        for statement in &self.matched_statements {
            f.write_str(if first { " by " } else { ", " })?;
            write!(f, "{statement}")?;
            first = false;
        }
        let mut first = true;
        for reason in &self.missing {
            f.write_str(if first { " because " } else { "; " })?;
            write!(f, "{reason}")?;
            first = false;
        }
        Ok(())
    }
}
