//! A principal's policies compiled for evaluation, and the decision
//! itself.
//!
//! Compiling does the work once: action patterns lowercased and reduced
//! to exact/prefix/any matchers, resources and condition values parsed,
//! operators resolved, and statements indexed by the service prefix of
//! their actions, so a request for `s3:GetObject` looks only at the
//! statements that can name an `s3:` action (and those with a wildcard
//! service or `NotAction`). A decision then allocates only for the
//! statements it reports.

use rolecall_policy::PolicyDocument;
use serde_json::{Map, Value};

use crate::condition::{Condition, Outcome};
use crate::context::Context;
use crate::decision::{Decision, DecisionKind, Layer, Reason, StatementRef};
use crate::glob::{Case, Glob, Piece};
use crate::variables::{Template, Wildcards};

/// One request: what is done, to what, and the request context.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// `service:Action`, any case (`s3:GetObject`).
    pub action: String,
    /// The resource's ARN, or `*` for actions on no resource.
    pub resource: String,
    pub context: Context,
}

impl Request {
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Request {
            action: action.into(),
            resource: resource.into(),
            context: Context::new(),
        }
    }

    pub fn with_context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }
}

/// A policy as the caller knows it: where it comes from (any type the
/// caller picks: a manifest's file and line, a managed policy's ARN), its
/// name, and the document.
#[derive(Debug, Clone)]
pub struct NamedPolicy<S> {
    pub source: S,
    pub name: String,
    pub document: PolicyDocument,
}

impl<S> NamedPolicy<S> {
    pub fn new(source: S, name: impl Into<String>, document: PolicyDocument) -> Self {
        NamedPolicy {
            source,
            name: name.into(),
            document,
        }
    }
}

/// Every policy that applies to the principal, by layer. `None` for the
/// boundary or session: not set, so it limits nothing; `Some(vec![])`: set
/// and empty, so it allows nothing.
///
/// Resource-based policies are not here yet: with them a same-account
/// resource policy's Allow would grant alone (IAM User Guide, "Policy
/// evaluation logic" > "Evaluating identity-based policies with
/// resource-based policies").
#[derive(Debug, Clone)]
pub struct Policies<S> {
    pub identity: Vec<NamedPolicy<S>>,
    pub permissions_boundary: Option<Vec<NamedPolicy<S>>>,
    pub session: Option<Vec<NamedPolicy<S>>>,
}

impl<S> Policies<S> {
    /// Identity policies alone, no boundary, no session policies.
    pub fn identity(identity: Vec<NamedPolicy<S>>) -> Self {
        Policies {
            identity,
            permissions_boundary: None,
            session: None,
        }
    }
}

/// Why a document cannot be evaluated: IAM would refuse it, and an answer
/// about it would mean nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("{layer} policy {policy:?}: the document is not a JSON object")]
    NotAnObject { layer: Layer, policy: String },
    #[error("{layer} policy {policy:?}: the document has no Statement")]
    NoStatement { layer: Layer, policy: String },
    #[error("{layer} policy {policy:?}, statement {statement}: {problem}")]
    Statement {
        layer: Layer,
        policy: String,
        statement: usize,
        problem: String,
    },
}

/// Something the engine accepted but that cannot do what its author meant
/// (an unknown operator never holds; a value that does not parse for its
/// operator matches nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub layer: Layer,
    pub policy: String,
    pub statement: usize,
    pub message: String,
}

/// A principal's policies, compiled: evaluate any number of requests.
#[derive(Debug, Clone)]
pub struct PolicySet<S> {
    identity: CompiledLayer<S>,
    boundary: Option<CompiledLayer<S>>,
    session: Option<CompiledLayer<S>>,
    warnings: Vec<Warning>,
}

#[derive(Debug, Clone)]
struct CompiledLayer<S> {
    layer: Layer,
    policies: Vec<(S, String)>,
    statements: Vec<Statement>,
    index: ActionIndex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone)]
struct Statement {
    /// Index into the layer's policies.
    policy: usize,
    /// Position in the document.
    index: usize,
    sid: Option<Box<str>>,
    effect: Effect,
    /// `Action` (true) or `NotAction` (false), lowercased patterns.
    action_listed: bool,
    actions: Box<[Glob]>,
    /// `Resource` (true) or `NotResource` (false).
    resource_listed: bool,
    resources: Box<[Template]>,
    conditions: Box<[Condition]>,
}

impl Statement {
    fn action_matches(&self, action: &str) -> bool {
        let named = self
            .actions
            .iter()
            .any(|glob| glob.matches(action, Case::AsciiInsensitive));
        named == self.action_listed
    }

    fn resource_matches(&self, resource: &str, context: &Context) -> bool {
        let named = self
            .resources
            .iter()
            .any(|template| template.matches(resource, context));
        named == self.resource_listed
    }

    /// The first condition that does not hold, if any.
    fn failing_condition(&self, context: &Context) -> Option<(&Condition, Outcome)> {
        self.conditions.iter().find_map(|condition| {
            let outcome = condition.evaluate(context);
            (outcome != Outcome::Holds).then_some((condition, outcome))
        })
    }
}

impl<S> PolicySet<S> {
    /// Compiles every policy; fails on a document IAM would refuse (no
    /// `Statement`, a statement without `Effect`, `Action` or `Resource`).
    pub fn compile(policies: Policies<S>) -> Result<Self, CompileError> {
        let mut warnings = Vec::new();
        let identity = CompiledLayer::compile(Layer::Identity, policies.identity, &mut warnings)?;
        let boundary = policies
            .permissions_boundary
            .map(|p| CompiledLayer::compile(Layer::PermissionsBoundary, p, &mut warnings))
            .transpose()?;
        let session = policies
            .session
            .map(|p| CompiledLayer::compile(Layer::SessionPolicy, p, &mut warnings))
            .transpose()?;
        Ok(PolicySet {
            identity,
            boundary,
            session,
            warnings,
        })
    }

    /// What compiling noticed but accepted.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// AWS's decision for `request` (IAM User Guide, "Policy evaluation
    /// logic"): an applicable Deny anywhere wins; otherwise allowed only if
    /// an identity statement allows and so do the boundary and the session
    /// policies when set; otherwise an implicit deny, with its reasons.
    pub fn evaluate(&self, request: &Request) -> Decision<'_, S> {
        let mut denies = Vec::new();
        let mut allows = Vec::new();
        let identity = self.identity.scan(request, &mut denies, &mut allows);
        let boundary = self
            .boundary
            .as_ref()
            .is_none_or(|layer| layer.scan(request, &mut denies, &mut allows));
        let session = self
            .session
            .as_ref()
            .is_none_or(|layer| layer.scan(request, &mut denies, &mut allows));
        if !denies.is_empty() {
            return Decision {
                kind: DecisionKind::ExplicitDeny,
                matched_statements: denies,
                missing: Vec::new(),
            };
        }
        if identity && boundary && session {
            return Decision {
                kind: DecisionKind::Allowed,
                matched_statements: allows,
                missing: Vec::new(),
            };
        }
        // The slow path: only an implicit deny needs the reasons.
        let mut missing = Vec::new();
        if !identity {
            self.identity.explain(request, &mut missing);
        }
        for (layer, allowed) in [(&self.boundary, boundary), (&self.session, session)] {
            if let (Some(layer), false) = (layer, allowed) {
                missing.push(Reason::LayerDoesNotAllow { layer: layer.layer });
                layer.explain(request, &mut missing);
            }
        }
        Decision {
            kind: DecisionKind::ImplicitDeny,
            matched_statements: Vec::new(),
            missing,
        }
    }
}

impl<S> CompiledLayer<S> {
    fn compile(
        layer: Layer,
        policies: Vec<NamedPolicy<S>>,
        warnings: &mut Vec<Warning>,
    ) -> Result<Self, CompileError> {
        let mut compiled = CompiledLayer {
            layer,
            policies: Vec::with_capacity(policies.len()),
            statements: Vec::new(),
            index: ActionIndex::default(),
        };
        for (position, policy) in policies.into_iter().enumerate() {
            let tree = policy.document.tree();
            let Some(document) = tree.as_object() else {
                return Err(CompileError::NotAnObject {
                    layer,
                    policy: policy.name,
                });
            };
            // Policy variables exist only in the 2012-10-17 language
            // ("IAM policy elements: Version").
            let variables = document.get("Version").and_then(Value::as_str) == Some("2012-10-17");
            let statements = match document.get("Statement") {
                Some(Value::Array(statements)) => statements.as_slice(),
                Some(single @ Value::Object(_)) => std::slice::from_ref(single),
                _ => {
                    return Err(CompileError::NoStatement {
                        layer,
                        policy: policy.name,
                    });
                }
            };
            for (index, statement) in statements.iter().enumerate() {
                let fail = |problem: &str| CompileError::Statement {
                    layer,
                    policy: policy.name.clone(),
                    statement: index,
                    problem: problem.to_string(),
                };
                let statement = statement
                    .as_object()
                    .ok_or_else(|| fail("the statement is not a JSON object"))?;
                let mut warn = |message: String| {
                    warnings.push(Warning {
                        layer,
                        policy: policy.name.clone(),
                        statement: index,
                        message,
                    })
                };
                let compiled_statement =
                    compile_statement(statement, position, index, variables, &mut warn)
                        .map_err(|problem| fail(&problem))?;
                compiled.statements.push(compiled_statement);
            }
            compiled.policies.push((policy.source, policy.name));
        }
        compiled.index = ActionIndex::build(&compiled.statements);
        Ok(compiled)
    }

    fn statement_ref<'a>(&'a self, statement: &'a Statement) -> StatementRef<'a, S> {
        let (source, policy) = &self.policies[statement.policy];
        StatementRef {
            layer: self.layer,
            source,
            policy,
            statement: statement.index,
            sid: statement.sid.as_deref(),
        }
    }

    /// Records the statements that apply; true when one of them allows.
    fn scan<'a>(
        &'a self,
        request: &Request,
        denies: &mut Vec<StatementRef<'a, S>>,
        allows: &mut Vec<StatementRef<'a, S>>,
    ) -> bool {
        let mut allowed = false;
        for id in self.index.candidates(&request.action) {
            let statement = &self.statements[id];
            if !statement.action_matches(&request.action)
                || !statement.resource_matches(&request.resource, &request.context)
                || statement.failing_condition(&request.context).is_some()
            {
                continue;
            }
            match statement.effect {
                Effect::Deny => denies.push(self.statement_ref(statement)),
                Effect::Allow => {
                    allowed = true;
                    allows.push(self.statement_ref(statement));
                }
            }
        }
        allowed
    }

    /// Why no Allow statement of this layer applies.
    fn explain<'a>(&'a self, request: &Request, reasons: &mut Vec<Reason<'a, S>>) {
        let mut any_action = false;
        for id in self.index.candidates(&request.action) {
            let statement = &self.statements[id];
            if statement.effect != Effect::Allow || !statement.action_matches(&request.action) {
                continue;
            }
            any_action = true;
            let reference = self.statement_ref(statement);
            if !statement.resource_matches(&request.resource, &request.context) {
                reasons.push(Reason::ResourceNotMatched {
                    statement: reference,
                });
                continue;
            }
            match statement.failing_condition(&request.context) {
                Some((condition, Outcome::Fails { key_missing })) => {
                    reasons.push(Reason::ConditionFailed {
                        statement: reference,
                        operator: &condition.operator,
                        key: &condition.key,
                        key_missing,
                    })
                }
                Some((condition, _)) => reasons.push(Reason::UnknownOperator {
                    statement: reference,
                    operator: &condition.operator,
                    key: &condition.key,
                }),
                // Cannot happen: the statement would have allowed.
                None => {}
            }
        }
        if !any_action {
            reasons.push(Reason::NoStatementMatchesAction { layer: self.layer });
        }
    }
}

fn compile_statement(
    statement: &Map<String, Value>,
    policy: usize,
    index: usize,
    variables: bool,
    warn: &mut dyn FnMut(String),
) -> Result<Statement, String> {
    let effect = match statement.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(other) => return Err(format!("Effect is {other:?}, not Allow or Deny")),
        None => return Err("the statement has no Effect".into()),
    };
    let (action_listed, actions) = one_of(statement, "Action", "NotAction")?;
    let (resource_listed, resources) = one_of(statement, "Resource", "NotResource")?;
    let actions = actions
        .iter()
        .map(|pattern| Glob::parse(pattern, Case::AsciiInsensitive))
        .collect();
    let resources = resources
        .iter()
        .map(|pattern| Template::compile(pattern, variables, Wildcards::Yes))
        .collect();
    let mut conditions = Vec::new();
    match statement.get("Condition") {
        None => {}
        Some(Value::Object(block)) => {
            for (operator, keys) in block {
                let Value::Object(keys) = keys else {
                    return Err(format!("Condition {operator} is not an object of keys"));
                };
                for (key, values) in keys {
                    let condition = Condition::compile(operator, key, values, variables);
                    if condition.is_unknown() {
                        warn(format!(
                            "condition operator {operator} is unknown: the statement never applies"
                        ));
                    }
                    let unparsed = condition.unparsed_values();
                    if unparsed > 0 {
                        warn(format!(
                            "{unparsed} value(s) of {operator} on {key} do not parse for the operator and match nothing"
                        ));
                    }
                    if !is_scalar_or_list_of_scalars(values) {
                        warn(format!(
                            "{operator} on {key} holds a value that is not a string, number or boolean; it matches nothing"
                        ));
                    }
                    conditions.push(condition);
                }
            }
        }
        Some(_) => return Err("Condition is not an object".into()),
    }
    Ok(Statement {
        policy,
        index,
        sid: statement.get("Sid").and_then(Value::as_str).map(Into::into),
        effect,
        action_listed,
        actions,
        resource_listed,
        resources,
        conditions: conditions.into_boxed_slice(),
    })
}

fn is_scalar_or_list_of_scalars(value: &Value) -> bool {
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    match value {
        Value::Array(items) => items.iter().all(scalar),
        other => scalar(other),
    }
}

/// The strings of `listed` (true) or `unlisted` (false): exactly one of
/// the pair must be there, a string or a list of strings.
fn one_of<'s>(
    statement: &'s Map<String, Value>,
    listed: &str,
    unlisted: &str,
) -> Result<(bool, Vec<&'s str>), String> {
    let (is_listed, value) = match (statement.get(listed), statement.get(unlisted)) {
        (Some(value), None) => (true, value),
        (None, Some(value)) => (false, value),
        (Some(_), Some(_)) => {
            return Err(format!("the statement has both {listed} and {unlisted}"));
        }
        (None, None) => return Err(format!("the statement has no {listed} or {unlisted}")),
    };
    let key = if is_listed { listed } else { unlisted };
    let strings = match value {
        Value::String(text) => vec![text.as_str()],
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| format!("{key} holds a non-string"))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(format!("{key} is not a string or a list of strings")),
    };
    Ok((is_listed, strings))
}

/// Statements by the service of their action patterns (`s3` of
/// `s3:Get*`), so a request meets only the statements that can name it.
/// Statement ids are kept ascending in each list, so the candidates come
/// in statement order and decisions list statements in that order.
#[derive(Debug, Clone, Default)]
struct ActionIndex {
    /// Lowercased service prefix -> statements naming an action of it;
    /// sorted by prefix.
    by_service: Vec<(Box<str>, Vec<usize>)>,
    /// `NotAction` statements and patterns whose service has a wildcard
    /// (`*`, `s3*:Get`): they may name any action.
    everywhere: Vec<usize>,
}

impl ActionIndex {
    fn build(statements: &[Statement]) -> Self {
        let mut index = ActionIndex::default();
        for (id, statement) in statements.iter().enumerate() {
            let services: Option<Vec<String>> = if statement.action_listed {
                statement.actions.iter().map(service_of_glob).collect()
            } else {
                None
            };
            let Some(services) = services else {
                index.everywhere.push(id);
                continue;
            };
            for service in services {
                match index
                    .by_service
                    .binary_search_by(|(s, _)| s.as_ref().cmp(service.as_str()))
                {
                    Ok(at) => {
                        let ids = &mut index.by_service[at].1;
                        if ids.last() != Some(&id) {
                            ids.push(id);
                        }
                    }
                    Err(at) => index.by_service.insert(at, (service.into(), vec![id])),
                }
            }
        }
        index
    }

    /// The statements that may name `action`, ascending.
    fn candidates(&self, action: &str) -> Candidates<'_> {
        let service = action.split_once(':').map(|(service, _)| service);
        let listed = service
            .and_then(|service| {
                self.by_service
                    .binary_search_by(|(s, _)| {
                        s.bytes()
                            .cmp(service.bytes().map(|b| b.to_ascii_lowercase()))
                    })
                    .ok()
            })
            .map_or(&[][..], |at| self.by_service[at].1.as_slice());
        Candidates {
            listed,
            everywhere: &self.everywhere,
        }
    }
}

/// The lowercased service of a pattern, `None` when it could be any.
fn service_of_glob(glob: &Glob) -> Option<String> {
    let text = match glob {
        Glob::Exact(text) | Glob::Prefix(text) => text,
        Glob::General(pieces) => match pieces.first() {
            Some(Piece::Literal(text)) => text,
            _ => return None,
        },
        Glob::Any => return None,
    };
    let (service, _) = text.split_once(':')?;
    Some(service.to_string())
}

/// Two ascending id lists merged.
struct Candidates<'i> {
    listed: &'i [usize],
    everywhere: &'i [usize],
}

impl Iterator for Candidates<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let take_listed = match (self.listed.first(), self.everywhere.first()) {
            (Some(a), Some(b)) => a < b,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        let list = if take_listed {
            &mut self.listed
        } else {
            &mut self.everywhere
        };
        let (first, rest) = list.split_first()?;
        *list = rest;
        Some(*first)
    }
}
