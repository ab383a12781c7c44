//! Properties of the decision that hold for any policies: denies only take
//! away, and a wider Allow only gives. Generated from a small vocabulary
//! of actions, resources and conditions so that statements often meet.

use proptest::prelude::*;
use rolecall_evaluation::{Context, DecisionKind, NamedPolicy, Policies, PolicySet, Request};
use rolecall_policy::PolicyDocument;
use serde_json::{Value, json};

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:Get*",
    "s3:*",
    "*",
    "ec2:Describe*",
    "iam:?etRole",
    "S3:PUTOBJECT",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/k?",
    "arn:aws:s3:::*",
    "arn:aws:ec2:*:*:instance/*",
    "arn:aws:s3:::b/${aws:username}/*",
    "arn:aws:iam::111122223333:role/*",
];
const REQUEST_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "ec2:DescribeInstances",
    "iam:GetRole",
    "iam:PassRole",
];
const REQUEST_RESOURCES: &[&str] = &[
    "arn:aws:s3:::b/k1",
    "arn:aws:s3:::b/alice/x",
    "arn:aws:s3:::other/x",
    "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
    "arn:aws:iam::111122223333:role/app",
];

fn condition() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(json!({"StringEquals": {"aws:username": "alice"}}))),
        1 => Just(Some(json!({"StringNotEquals": {"aws:username": "alice"}}))),
        1 => Just(Some(json!({"Bool": {"aws:SecureTransport": "true"}}))),
        1 => Just(Some(json!({"NumericLessThan": {"s3:max-keys": "10"}}))),
        1 => Just(Some(json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}))),
        1 => Just(Some(json!({"ForAnyValue:StringLike": {"aws:TagKeys": "a*"}}))),
        1 => Just(Some(json!({"IpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}}))),
        1 => Just(Some(json!({"Null": {"aws:TokenIssueTime": "true"}}))),
    ]
}

fn patterns(from: &'static [&'static str]) -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(prop::sample::select(from), 1..3)
}

fn statement(effect: &'static str) -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        patterns(ACTIONS),
        any::<bool>(),
        patterns(RESOURCES),
        condition(),
    )
        .prop_map(
            move |(not_action, actions, not_resource, resources, condition)| {
                let mut statement = json!({"Effect": effect});
                statement[if not_action { "NotAction" } else { "Action" }] = json!(actions);
                statement[if not_resource {
                    "NotResource"
                } else {
                    "Resource"
                }] = json!(resources);
                if let Some(condition) = condition {
                    statement["Condition"] = condition;
                }
                statement
            },
        )
}

fn any_statement() -> impl Strategy<Value = Value> {
    prop_oneof![3 => statement("Allow"), 1 => statement("Deny")]
}

/// Policies of one layer: each a list of statements.
fn layer() -> impl Strategy<Value = Vec<Vec<Value>>> {
    prop::collection::vec(prop::collection::vec(any_statement(), 1..4), 1..3)
}

#[derive(Debug, Clone)]
struct Principal {
    identity: Vec<Vec<Value>>,
    boundary: Option<Vec<Vec<Value>>>,
    session: Option<Vec<Vec<Value>>>,
}

fn principal() -> impl Strategy<Value = Principal> {
    (
        layer(),
        prop::option::of(layer()),
        prop::option::of(layer()),
    )
        .prop_map(|(identity, boundary, session)| Principal {
            identity,
            boundary,
            session,
        })
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop::sample::select(REQUEST_ACTIONS),
        prop::sample::select(REQUEST_RESOURCES),
        prop::option::of(prop::sample::select(&["alice", "bob"][..])),
        prop::option::of(prop::sample::select(&["true", "false"][..])),
        prop::option::of(prop::sample::select(&["5", "50"][..])),
        prop::option::of(prop::collection::vec(
            prop::sample::select(&["a", "b", "c"][..]),
            0..3,
        )),
        prop::option::of(prop::sample::select(&["10.1.2.3", "192.0.2.1"][..])),
    )
        .prop_map(|(action, resource, user, secure, keys, tags, ip)| {
            let mut context = Context::new();
            if let Some(user) = user {
                context.insert("aws:username", user);
            }
            if let Some(secure) = secure {
                context.insert("aws:SecureTransport", secure);
            }
            if let Some(keys) = keys {
                context.insert("s3:max-keys", keys);
            }
            if let Some(tags) = tags {
                context.set("aws:TagKeys", tags);
            }
            if let Some(ip) = ip {
                context.insert("aws:SourceIp", ip);
            }
            Request::new(action, resource).with_context(context)
        })
}

fn named(layer: &[Vec<Value>]) -> Vec<NamedPolicy<usize>> {
    layer
        .iter()
        .enumerate()
        .map(|(i, statements)| {
            NamedPolicy::new(
                i,
                format!("p{i}"),
                PolicyDocument::from_value(
                    json!({"Version": "2012-10-17", "Statement": statements}),
                ),
            )
        })
        .collect()
}

fn decide(principal: &Principal, request: &Request) -> DecisionKind {
    let policies = Policies {
        identity: named(&principal.identity),
        permissions_boundary: principal.boundary.as_deref().map(named),
        session: principal.session.as_deref().map(named),
    };
    match PolicySet::compile(policies) {
        Ok(set) => set.evaluate(request).kind,
        Err(error) => panic!("generated policies compile: {error}"),
    }
}

/// The policies of one layer, picked by `which` among those present.
fn layer_mut(principal: &mut Principal, which: usize) -> &mut Vec<Vec<Value>> {
    let mut layers: Vec<&mut Vec<Vec<Value>>> = vec![&mut principal.identity];
    layers.extend(principal.boundary.as_mut());
    layers.extend(principal.session.as_mut());
    let count = layers.len();
    layers.swap_remove(which % count)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn adding_a_deny_never_turns_a_denial_into_an_allow(
        principal in principal(),
        request in request(),
        deny in statement("Deny"),
        which_layer in any::<usize>(),
        which_policy in any::<usize>(),
        new_policy in any::<bool>(),
    ) {
        let before = decide(&principal, &request);
        let mut denied = principal.clone();
        let layer = layer_mut(&mut denied, which_layer);
        if new_policy || layer.is_empty() {
            layer.push(vec![deny]);
        } else {
            let count = layer.len();
            layer[which_policy % count].push(deny);
        }
        let after = decide(&denied, &request);
        if before != DecisionKind::Allowed {
            prop_assert_ne!(after, DecisionKind::Allowed);
        }
        // A deny only ever takes away: an explicit deny stays one.
        if before == DecisionKind::ExplicitDeny {
            prop_assert_eq!(after, DecisionKind::ExplicitDeny);
        }
    }

    #[test]
    fn widening_an_allow_statements_resource_never_turns_an_allow_into_a_deny(
        principal in principal(),
        request in request(),
        which_layer in any::<usize>(),
        which_policy in any::<usize>(),
        which_statement in any::<usize>(),
        wider in prop::sample::select(&["*", "arn:aws:*", "arn:aws:s3:::*", "arn:aws:s3:::b/*", "arn:*"][..]),
    ) {
        let before = decide(&principal, &request);
        let mut widened = principal.clone();
        let layer = layer_mut(&mut widened, which_layer);
        let count = layer.len();
        let statements = &mut layer[which_policy % count];
        let count = statements.len();
        let statement = &mut statements[which_statement % count];
        // Only an Allow with a Resource list widens by adding a pattern
        // (a wider Deny takes away; a wider NotResource is a shorter one).
        let is_allow = statement["Effect"] == "Allow";
        if let (true, Some(Value::Array(resources))) = (is_allow, statement.get_mut("Resource")) {
            resources.push(json!(wider));
        }
        let after = decide(&widened, &request);
        if before == DecisionKind::Allowed {
            prop_assert_eq!(after, DecisionKind::Allowed);
        }
    }
}

/// The properties above mean something only if the generated principals
/// and requests reach every outcome, allows included.
#[test]
fn the_generators_reach_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..500 {
        let (Ok(principal), Ok(request)) = (
            principal().new_tree(&mut runner),
            request().new_tree(&mut runner),
        ) else {
            panic!("the strategies generate");
        };
        seen.insert(format!(
            "{:?}",
            decide(&principal.current(), &request.current())
        ));
    }
    assert_eq!(seen.len(), 3, "outcomes reached: {seen:?}");
}
