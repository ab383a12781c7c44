//! `rolecall simulate`: what a role, or the software on an instance, may
//! do, decided as AWS decides, on the manifests or on the account.

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use super::output::{errln, out};
use super::session::Session;
use super::{ManifestArgs, Outcome};
use crate::model::PolicyDocument;
use crate::model::policy::actions as catalogue;
use crate::simulate::{DecisionKind, Evaluator, Facts, Principal};

const SIMULATE_HELP: &str = "\
Examples:
  rolecall simulate --instance web-1 --action s3:GetObject --resource arn:aws:s3:::assets/logo.png
  rolecall simulate --role web-server --action 's3:*' --resource 'arn:aws:s3:::assets/*'
  rolecall simulate --role ci-runner --action ec2:RunInstances --context aws:RequestedRegion=eu-west-1
  rolecall simulate --instance i-0abc123 --action ec2:DescribeInstances --live

An instance acts as a session of its instance profile's role: its identity
policies are the role's inline and managed policies (AWS-managed documents are
bundled; customer-managed ones are the manifests' ManagedPolicy documents, or
with --live the account's), capped by its permissions boundary. Explicit deny wins; otherwise a
request is allowed only if an identity statement and the boundary allow it.
The context holds what AWS sets for a role session (aws:PrincipalTag/* from
the role's tags, aws:PrincipalArn, aws:CurrentTime, aws:SecureTransport=true);
--context adds keys or replaces them (repeat a key for several values).
Decides on the manifests unless --live reads the account.

Exit codes: 0 every action allowed, 3 some action denied, 1 error.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimulateFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = SIMULATE_HELP)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// The role whose sessions ask
    #[arg(
        long,
        value_name = "NAME",
        required_unless_present = "instance",
        conflicts_with = "instance"
    )]
    pub role: Option<String>,
    /// The instance (Name tag or i- id) whose software asks, through its profile's role
    #[arg(long, value_name = "NAME|ID")]
    pub instance: Option<String>,
    /// The action (service:Action; wildcards expand through the bundled catalogue); repeatable
    #[arg(long = "action", value_name = "ACTION", required = true)]
    pub actions: Vec<String>,
    /// The resource ARN the action is on
    #[arg(long, value_name = "ARN", default_value = "*")]
    pub resource: String,
    /// A request context key and value (e.g. aws:SourceIp=10.0.0.1); repeatable
    #[arg(long = "context", value_name = "KEY=VALUE", value_parser = parse_context)]
    pub context: Vec<(String, String)>,
    /// Decide on the account as it is, not on the manifests
    #[arg(long)]
    pub live: bool,
    /// Output format: text for people, json for scripts
    #[arg(long, value_enum, default_value_t = SimulateFormat::Text)]
    pub format: SimulateFormat,
}

fn parse_context(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!(
            "`{text}` is not KEY=VALUE (e.g. aws:SourceIp=10.0.0.1)"
        )),
    }
}

/// The document of an AWS-managed policy: the ones rolecall bundles.
fn aws_managed_document(arn: &str) -> Option<PolicyDocument> {
    crate::model::aws_policies::aws_policy_document(arn)
}

/// The actions `patterns` name: each wildcard expanded through the
/// catalogue, in order, without repeats. A pattern matching nothing is an
/// error naming it; an action the catalogue lacks is asked as written
/// (AWS adds actions), with a warning and the closest known one.
fn actions(session: &Session, patterns: &[String]) -> anyhow::Result<Vec<String>> {
    let mut actions = Vec::new();
    for pattern in patterns {
        if !pattern.contains(['*', '?']) {
            if !pattern.contains(':') {
                anyhow::bail!("--action {pattern}: an action is service:Action, e.g. s3:GetObject");
            }
            if !catalogue::action_exists(pattern) && !session.quiet {
                match catalogue::suggest(pattern) {
                    Some(suggestion) => errln!(
                        "warning: --action {pattern}: no AWS service has this action; did you mean {suggestion}?"
                    ),
                    None => errln!("warning: --action {pattern}: no AWS service has this action"),
                }
            }
            if !actions.contains(pattern) {
                actions.push(pattern.clone());
            }
            continue;
        }
        let expanded = catalogue::expand(pattern);
        if expanded.is_empty() {
            anyhow::bail!("--action {pattern} matches no action of the bundled catalogue");
        }
        for action in expanded {
            let action = action.to_string();
            if !actions.contains(&action) {
                actions.push(action);
            }
        }
    }
    Ok(actions)
}

pub fn run(session: &Session, args: SimulateArgs) -> anyhow::Result<Outcome> {
    let actions = actions(session, &args.actions)?;
    let loaded;
    let live;
    let facts = if args.live {
        if session.backend.is_missing()? {
            anyhow::bail!(
                "--live decides on the account, and {} yet (run `rolecall apply` first, or leave out --live to decide on the manifests)",
                session.backend.absence()
            );
        }
        let (read, _) = session.read(false, None)?;
        live = read;
        Facts::Live(&live)
    } else {
        loaded = session.load_with_policy_places(&args.manifests)?;
        Facts::Declared {
            desired: &loaded.0.desired,
            places: &loaded.1,
        }
    };
    let principal = match (&args.role, &args.instance) {
        (_, Some(instance)) => facts.instance(instance)?,
        (Some(role), None) => facts.role(role)?,
        (None, None) => anyhow::bail!("name a principal: --role NAME or --instance NAME|ID"),
    };
    let evaluator = Evaluator::new(&principal, &facts, &aws_managed_document)?;
    if !session.quiet {
        for missing in &evaluator.not_evaluated {
            errln!(
                "warning: {} is not evaluated: {}, so what it allows or denies is not seen",
                missing.arn,
                missing.reason
            );
        }
        for warning in evaluator.set.warnings() {
            errln!(
                "warning: policy {}, statement {}: {}",
                warning.policy,
                warning.statement,
                warning.message
            );
        }
    }
    let mut results = Vec::new();
    let mut denied = false;
    for action in &actions {
        let request = evaluator.request(action, &args.resource, &args.context);
        let decision = evaluator.set.evaluate(&request);
        let always = answered_for_everyone(action);
        denied |= !decision.is_allowed() && !always;
        results.push((action, decision, always));
    }
    // A policy rolecall cannot read may allow or deny anything: only an
    // explicit deny it did read stands whatever that policy says.
    let conclusive = |kind: DecisionKind| {
        evaluator.not_evaluated.is_empty() || kind == DecisionKind::ExplicitDeny
    };
    match args.format {
        SimulateFormat::Text => {
            out!("{}", header(&principal, args.live));
            for (action, decision, always) in &results {
                if *always {
                    out!(
                        "{action} on {}: allowed\n  because AWS answers it for every principal, whatever its policies say\n",
                        args.resource
                    );
                    continue;
                }
                out!("{action} on {}: {}\n", args.resource, decision.kind);
                for statement in &decision.matched_statements {
                    out!("  by {statement}\n");
                    if let Some(text) =
                        evaluator.statement(statement.source, statement.policy, statement.statement)
                    {
                        out!("     {}\n", shortened(&text.to_string()));
                    }
                }
                for reason in &decision.missing {
                    out!("  because {reason}\n");
                }
                if !conclusive(decision.kind) {
                    let missing: Vec<String> = evaluator
                        .not_evaluated
                        .iter()
                        .map(|missing| format!("{} ({})", missing.arn, missing.reason))
                        .collect();
                    out!("  not conclusive: not evaluated: {}\n", missing.join("; "));
                }
            }
        }
        SimulateFormat::Json => {
            let overall = if results
                .iter()
                .any(|(_, d, always)| !always && d.kind == DecisionKind::ExplicitDeny)
            {
                DecisionKind::ExplicitDeny
            } else if denied {
                DecisionKind::ImplicitDeny
            } else {
                DecisionKind::Allowed
            };
            let results: Vec<Value> = results
                .iter()
                .map(|(action, decision, always)| {
                    if *always {
                        return json!({
                            "action": action,
                            "resource": args.resource,
                            "decision": DecisionKind::Allowed,
                            "conclusive": true,
                            "note": "AWS answers it for every principal, whatever its policies say",
                            "matched_statements": [],
                            "missing": [],
                        });
                    }
                    json!({
                        "action": action,
                        "resource": args.resource,
                        "decision": decision.kind,
                        "conclusive": conclusive(decision.kind),
                        "matched_statements": decision.matched_statements.iter().map(|statement| json!({
                            "layer": statement.layer,
                            "policy": statement.policy,
                            "statement_index": statement.statement,
                            "sid": statement.sid,
                            "source": statement.source,
                            "statement": evaluator.statement(statement.source, statement.policy, statement.statement),
                        })).collect::<Vec<_>>(),
                        "missing": decision.missing.iter().map(|reason| {
                            let mut value = serde_json::to_value(reason).unwrap_or(Value::Null);
                            if let Value::Object(map) = &mut value {
                                map.insert("message".into(), json!(reason.to_string()));
                            }
                            value
                        }).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let document = json!({
                "format_version": 1,
                "role": principal.role.name,
                "instance": principal.instance.as_ref().map(|(instance, _)| instance),
                "instance_profile": principal.instance.as_ref().map(|(_, profile)| profile),
                "decided_on": if args.live { "account" } else { "manifests" },
                "decision": overall,
                "not_evaluated": evaluator.not_evaluated.iter().map(|missing| &missing.arn).collect::<Vec<_>>(),
                "results": results,
            });
            out!("{}\n", serde_json::to_string_pretty(&document)?);
        }
    }
    Ok(if denied {
        Outcome::Denied
    } else {
        Outcome::Clean
    })
}

/// Who asks, on what: the first line of the text output.
fn header(principal: &Principal, live: bool) -> String {
    let on = if live { "the account" } else { "the manifests" };
    match &principal.instance {
        Some((instance, profile)) => format!(
            "instance {instance}: instance profile {profile}, role {} (on {on})\n",
            principal.role.name
        ),
        None => format!("role {} (on {on})\n", principal.role.name),
    }
}

/// Calls AWS answers whatever the caller's policies say (the IAM User
/// Guide: "No permissions are required to perform this operation").
fn answered_for_everyone(action: &str) -> bool {
    action.eq_ignore_ascii_case("sts:GetCallerIdentity")
}

/// A statement's JSON for a line of text: long ones (AWS-managed policies
/// list hundreds of actions) cut, `--format json` has them whole.
fn shortened(text: &str) -> String {
    const LONGEST: usize = 200;
    match text.char_indices().nth(LONGEST) {
        Some((cut, _)) => format!("{} … (--format json shows it whole)", &text[..cut]),
        None => text.to_string(),
    }
}
