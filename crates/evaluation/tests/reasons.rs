//! What a decision says beyond its kind: the deciding statements, named by
//! the caller's source, and the reasons for an implicit deny, in the
//! shapes a CLI prints and serialises.

use std::fmt;

use rolecall_evaluation::{
    CompileError, Context, DecisionKind, Layer, NamedPolicy, Policies, PolicySet, Reason, Request,
    StatementRef,
};
use rolecall_policy::PolicyDocument;
use serde::Serialize;
use serde_json::{Value, json};

/// A caller's own provenance type: where a manifest declared the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Origin {
    file: &'static str,
    line: u32,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

fn policy(line: u32, name: &str, statements: Value) -> NamedPolicy<Origin> {
    NamedPolicy::new(
        Origin {
            file: "roles/app.yaml",
            line,
        },
        name,
        PolicyDocument::from_value(json!({"Version": "2012-10-17", "Statement": statements})),
    )
}

fn compile(policies: Policies<Origin>) -> PolicySet<Origin> {
    match PolicySet::compile(policies) {
        Ok(set) => set,
        Err(error) => panic!("the policies compile: {error}"),
    }
}

fn read_objects() -> NamedPolicy<Origin> {
    policy(
        12,
        "read-objects",
        json!({"Sid": "ReadObjects", "Effect": "Allow", "Action": "s3:GetObject",
               "Resource": "arn:aws:s3:::reports/*"}),
    )
}

fn get_object(resource: &str) -> Request {
    Request::new("s3:GetObject", resource)
}

#[test]
fn an_action_no_statement_names_is_reported_for_the_identity_layer() {
    let set = compile(Policies::identity(vec![read_objects()]));
    let decision = set.evaluate(&Request::new("s3:PutObject", "arn:aws:s3:::reports/x"));
    assert_eq!(decision.kind, DecisionKind::ImplicitDeny);
    assert!(decision.matched_statements.is_empty());
    assert_eq!(
        decision.missing,
        vec![Reason::NoStatementMatchesAction {
            layer: Layer::Identity
        }]
    );
}

#[test]
fn a_statement_naming_the_action_but_not_the_resource_is_named() {
    let set = compile(Policies::identity(vec![read_objects()]));
    let decision = set.evaluate(&get_object("arn:aws:s3:::payroll/x"));
    let [Reason::ResourceNotMatched { statement }] = decision.missing.as_slice() else {
        panic!("one resource reason: {:?}", decision.missing);
    };
    assert_eq!(statement.layer, Layer::Identity);
    assert_eq!(statement.policy, "read-objects");
    assert_eq!(statement.statement, 0);
    assert_eq!(statement.sid, Some("ReadObjects"));
    assert_eq!(
        *statement.source,
        Origin {
            file: "roles/app.yaml",
            line: 12
        }
    );
    assert_eq!(
        decision.to_string(),
        "implicitly denied because statement ReadObjects of policy read-objects \
         (roles/app.yaml:12) allows the action but not on this resource"
    );
}

#[test]
fn a_failed_condition_names_operator_and_key_and_whether_the_key_was_missing() {
    let set = compile(Policies::identity(vec![policy(
        3,
        "team-only",
        json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
               "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}}}),
    )]));
    let missing = set.evaluate(&get_object("arn:aws:s3:::reports/x"));
    let [
        Reason::ConditionFailed {
            operator,
            key,
            key_missing,
            ..
        },
    ] = missing.missing.as_slice()
    else {
        panic!("one condition reason: {:?}", missing.missing);
    };
    assert_eq!(
        (*operator, *key, *key_missing),
        ("StringEquals", "aws:PrincipalTag/team", true)
    );
    assert!(missing.to_string().ends_with(
        "condition StringEquals on aws:PrincipalTag/team fails (the request has no value for the key)"
    ));

    let wrong = set.evaluate(
        &get_object("arn:aws:s3:::reports/x")
            .with_context(Context::new().with("aws:PrincipalTag/team", "blue")),
    );
    assert!(matches!(
        wrong.missing.as_slice(),
        [Reason::ConditionFailed {
            key_missing: false,
            ..
        }]
    ));
}

#[test]
fn a_boundary_that_does_not_allow_is_said_to_and_why() {
    let set = compile(Policies {
        identity: vec![policy(
            1,
            "admin",
            json!({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        )],
        permissions_boundary: Some(vec![policy(
            40,
            "boundary",
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
        )]),
        session: None,
    });
    let decision = set.evaluate(&Request::new("iam:CreateUser", "*"));
    assert_eq!(decision.kind, DecisionKind::ImplicitDeny);
    assert_eq!(
        decision.missing,
        vec![
            Reason::LayerDoesNotAllow {
                layer: Layer::PermissionsBoundary
            },
            Reason::NoStatementMatchesAction {
                layer: Layer::PermissionsBoundary
            },
        ]
    );
    assert_eq!(
        decision.to_string(),
        "implicitly denied because the permissions boundary does not allow it; \
         no Allow statement of the permissions boundary matches the action"
    );
}

#[test]
fn session_policies_that_do_not_allow_are_said_to() {
    let set = compile(Policies {
        identity: vec![read_objects()],
        permissions_boundary: None,
        session: Some(vec![policy(
            0,
            "session",
            json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}),
        )]),
    });
    let decision = set.evaluate(&get_object("arn:aws:s3:::reports/x"));
    assert!(matches!(
        decision.missing.as_slice(),
        [
            Reason::LayerDoesNotAllow {
                layer: Layer::SessionPolicy
            },
            Reason::ResourceNotMatched { statement },
        ] if statement.layer == Layer::SessionPolicy
    ));
}

#[test]
fn an_unknown_operator_never_applies_and_is_reported() {
    let set = compile(Policies::identity(vec![policy(
        5,
        "typo",
        json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
               "Condition": {"StringEqual": {"aws:username": "alice"}}}),
    )]));
    assert_eq!(set.warnings().len(), 1);
    assert!(set.warnings()[0].message.contains("StringEqual"));
    let decision = set.evaluate(
        &get_object("arn:aws:s3:::reports/x")
            .with_context(Context::new().with("aws:username", "alice")),
    );
    assert!(matches!(
        decision.missing.as_slice(),
        [Reason::UnknownOperator {
            operator: "StringEqual",
            key: "aws:username",
            ..
        }]
    ));
}

#[test]
fn an_explicit_deny_names_every_deny_that_applies_and_no_allow() {
    let set = compile(Policies::identity(vec![
        read_objects(),
        policy(
            20,
            "guard",
            json!([
                {"Sid": "NoReports", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::reports/*"},
                {"Sid": "NoGets", "Effect": "Deny", "Action": "s3:Get*", "Resource": "*"},
                {"Sid": "NoPuts", "Effect": "Deny", "Action": "s3:Put*", "Resource": "*"}
            ]),
        ),
    ]));
    let decision = set.evaluate(&get_object("arn:aws:s3:::reports/x"));
    assert_eq!(decision.kind, DecisionKind::ExplicitDeny);
    let sids: Vec<Option<&str>> = decision.matched_statements.iter().map(|s| s.sid).collect();
    // In the document's canonical statement order (sorted by their JSON).
    assert_eq!(sids, vec![Some("NoReports"), Some("NoGets")]);
    assert!(decision.missing.is_empty());
}

#[test]
fn an_allow_names_the_allowing_statements_of_every_layer() {
    let set = compile(Policies {
        identity: vec![read_objects()],
        permissions_boundary: Some(vec![policy(
            40,
            "boundary",
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
        )]),
        session: None,
    });
    let decision = set.evaluate(&get_object("arn:aws:s3:::reports/x"));
    assert!(decision.is_allowed());
    let layers: Vec<(Layer, &str)> = decision
        .matched_statements
        .iter()
        .map(|s: &StatementRef<'_, Origin>| (s.layer, s.policy))
        .collect();
    assert_eq!(
        layers,
        vec![
            (Layer::Identity, "read-objects"),
            (Layer::PermissionsBoundary, "boundary")
        ]
    );
}

#[test]
fn decisions_serialise_with_aws_eval_decision_names() {
    let set = compile(Policies::identity(vec![read_objects()]));
    let allowed = serde_json::to_value(set.evaluate(&get_object("arn:aws:s3:::reports/x")));
    let denied = serde_json::to_value(set.evaluate(&get_object("arn:aws:s3:::payroll/x")));
    let (Ok(allowed), Ok(denied)) = (allowed, denied) else {
        panic!("decisions serialise");
    };
    assert_eq!(allowed["kind"], "allowed");
    assert_eq!(
        allowed["matchedStatements"][0],
        json!({"layer": "identity", "source": {"file": "roles/app.yaml", "line": 12},
               "policy": "read-objects", "statement": 0, "sid": "ReadObjects"})
    );
    assert_eq!(denied["kind"], "implicitDeny");
    assert_eq!(denied["missing"][0]["reason"], "resourceNotMatched");
    assert_eq!(
        serde_json::to_value(DecisionKind::ExplicitDeny).ok(),
        Some(json!("explicitDeny"))
    );
}

#[test]
fn documents_iam_would_refuse_do_not_compile() {
    let compile_one = |statement: Value| {
        PolicySet::compile(Policies::identity(vec![policy(1, "bad", statement)])).err()
    };
    let problem = |error: Option<CompileError>| match error {
        Some(CompileError::Statement { problem, .. }) => problem,
        other => panic!("a statement problem: {other:?}"),
    };
    assert!(problem(compile_one(json!({"Action": "s3:*", "Resource": "*"}))).contains("no Effect"));
    assert!(
        problem(compile_one(
            json!({"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"})
        ))
        .contains("both Action and NotAction")
    );
    assert!(
        problem(compile_one(json!({"Effect": "Allow", "Action": "s3:*"})))
            .contains("no Resource or NotResource")
    );
    assert!(
        problem(compile_one(
            json!({"Effect": "Permit", "Action": "s3:*", "Resource": "*"})
        ))
        .contains("not Allow or Deny")
    );
    assert!(
        problem(compile_one(
            json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": "yes"})
        ))
        .contains("Condition")
    );
    let not_object = NamedPolicy::new(
        Origin { file: "x", line: 1 },
        "list",
        PolicyDocument::from_value(json!([])),
    );
    assert!(matches!(
        PolicySet::compile(Policies::identity(vec![not_object])),
        Err(CompileError::NotAnObject { .. })
    ));
    let empty = NamedPolicy::new(
        Origin { file: "x", line: 1 },
        "empty",
        PolicyDocument::from_value(json!({"Version": "2012-10-17"})),
    );
    assert!(matches!(
        PolicySet::compile(Policies::identity(vec![empty])),
        Err(CompileError::NoStatement { .. })
    ));
}

#[test]
fn a_boundary_given_as_no_policies_allows_nothing() {
    let set = compile(Policies {
        identity: vec![read_objects()],
        permissions_boundary: Some(Vec::new()),
        session: None,
    });
    assert_eq!(
        set.evaluate(&get_object("arn:aws:s3:::reports/x")).kind,
        DecisionKind::ImplicitDeny
    );
}

#[test]
fn values_that_do_not_parse_for_their_operator_are_reported() {
    let set = compile(Policies::identity(vec![policy(
        7,
        "sloppy",
        json!({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
               "Condition": {"NumericLessThan": {"s3:max-keys": ["ten", "10"]},
                             "IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}}),
    )]));
    let messages: Vec<&str> = set.warnings().iter().map(|w| w.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("NumericLessThan on s3:max-keys"))
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("IpAddress on aws:SourceIp"))
    );
}
