//! The rules: each names what it finds, why it matters and how to fix it,
//! and a function that looks for it in every declared role and
//! ManagedPolicy (whose document gets the rules of a role's inline
//! policies, reported once, at the policy's place).

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use rolecall_evaluation::{action_matches, resource_matches};
use rolecall_model::policy;
use rolecall_model::policy::actions::{self, AccessLevel};
use rolecall_model::{Desired, Location, PolicyDocument, Role, aws_policies, policy_key, role_key};
use serde_json::{Map, Value};

/// One statement of a canonical policy document.
type Statement = Map<String, Value>;

use super::Finding;
use crate::manifest::PolicyPlaces;

/// A lint rule: its id (as `lint_ignore` names it) and its explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rule {
    pub id: &'static str,
    /// One line: what the rule finds.
    pub summary: &'static str,
    pub why: &'static str,
    pub fix: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule {
        id: "unknown-action",
        summary: "an action that no AWS service has",
        why: "IAM accepts any action name, so a typo silently grants (or denies) nothing",
        fix: "correct the name; the catalogue's closest action is suggested",
    },
    Rule {
        id: "wildcard-action",
        summary: "an Allow of every action (\"Action\": \"*\")",
        why: "every action of every service, today's and those AWS adds later, is granted",
        fix: "list the actions the workload calls (simulate shows what each instance can do)",
    },
    Rule {
        id: "wildcard-resource-on-write",
        summary: "write actions allowed on every resource (\"Resource\": \"*\")",
        why: "a write on \"*\" reaches every resource of the service in the account, not just the workload's",
        fix: "name the resources by ARN (a prefix with * is fine: arn:aws:s3:::assets/*)",
    },
    Rule {
        id: "passrole-any-role",
        summary: "iam:PassRole allowed on every role",
        why: "passing any role to a service lets the holder act with that role's permissions: a path to privilege escalation",
        fix: "allow iam:PassRole on the ARNs of the roles the workload hands to services, with an iam:PassedToService condition",
    },
    Rule {
        id: "trust-any-principal",
        summary: "a trust policy any AWS account may assume",
        why: "\"AWS\": \"*\" without a condition lets a principal of any account assume the role",
        fix: "trust the accounts or roles that need it by ARN, or add a condition (aws:PrincipalOrgID, sts:ExternalId)",
    },
    Rule {
        id: "cross-account-without-external-id",
        summary: "another account trusted without sts:ExternalId",
        why: "a third party trusted without an external id can be tricked into using its access on your behalf (the confused deputy)",
        fix: "add a condition StringEquals sts:ExternalId with the id the third party gave you",
    },
    Rule {
        id: "profile-role-without-boundary",
        summary: "a role held by an instance profile without a permissions boundary, where the stack requires one",
        why: "the stack declares require_permissions_boundary: software on instances must stay inside a boundary",
        fix: "set permissions_boundary on the role",
    },
    Rule {
        id: "inline-duplicates-managed",
        summary: "an inline or customer-managed policy identical to an AWS-managed policy",
        why: "a copy does not get AWS's updates to the managed policy, and counts against a quota (a role's inline size, the account's policies)",
        fix: "attach the AWS-managed policy instead (managed_policies) and remove the copy",
    },
];

/// The rule with id `id` (one of [`RULES`]).
pub fn rule(id: &str) -> &'static Rule {
    RULES.iter().find(|rule| rule.id == id).unwrap_or(&RULES[0])
}

/// Runs every rule on every declared role and ManagedPolicy.
pub fn check(desired: &Desired, places: &PolicyPlaces, found: &mut Vec<Finding>) {
    let held: BTreeSet<&str> = desired
        .profiles
        .values()
        .filter_map(|profile| profile.role.as_deref())
        .collect();
    for policy in desired.policies.values() {
        let mut checker = Checker {
            resource: policy_key(&policy.name),
            found: &mut *found,
        };
        let place = desired.locations.get(&checker.resource);
        checker.permissions(&policy.document, "document", place);
        checker.duplicate(&policy.document, "document", place);
    }
    // Each role's rules are its own: the roles are checked on every core,
    // their findings kept in role order (sorted by place after).
    let roles: Vec<&Role> = desired.roles.values().collect();
    let per_role = crate::parallel::runs(&roles, ROLES_WORTH_A_THREAD, |_, run| {
        let mut found = Vec::new();
        for role in run {
            check_role(role, desired, places, &held, &mut found);
        }
        found
    });
    found.extend(per_role.into_iter().flatten());
}

/// Roles linted on a thread, at least.
const ROLES_WORTH_A_THREAD: usize = 2_000;

/// Every rule on one role.
fn check_role(
    role: &Role,
    desired: &Desired,
    places: &PolicyPlaces,
    held: &BTreeSet<&str>,
    found: &mut Vec<Finding>,
) {
    let mut checker = Checker {
        resource: role_key(&role.name),
        found: &mut *found,
    };
    for (name, document) in &role.inline_policies {
        let place = places.inline(&role.name, name);
        let what = format!("inline policy `{name}`");
        checker.permissions(document, &what, place);
        checker.duplicate(document, &what, place);
    }
    checker.trust(
        role,
        places.trust(&role.name),
        desired.account_id.as_deref(),
    );
    if let Some(required) = places.boundary_required()
        && held.contains(role.name.as_str())
        && role.permissions_boundary.is_none()
    {
        checker.found.push(Finding {
            rule: "profile-role-without-boundary",
            location: desired
                .locations
                .get(&rolecall_model::role_key(&role.name))
                .cloned()
                .or_else(|| Some(required.clone())),
            resource: role_key(&role.name),
            subject: format!("role `{}`", role.name),
            message: format!(
                "role `{}` is held by an instance profile and has no permissions boundary (required at {required})",
                role.name
            ),
        });
    }
}

/// The rules' findings on one resource (`role/NAME`, `policy/NAME`).
struct Checker<'a> {
    resource: String,
    found: &'a mut Vec<Finding>,
}

/// A statement's values for `key`: a string or a list of strings.
fn strings(statement: &Statement, key: &str) -> Vec<String> {
    match statement.get(key) {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// A statement, named so it can be found: by its Sid, else by what it
/// says (statements are kept in canonical order, not as written, so an
/// index would mislead).
fn describe(what: &str, statement: &Statement) -> String {
    if let Some(sid) = statement.get("Sid").and_then(Value::as_str)
        && !sid.is_empty()
    {
        return format!("{what}, statement {sid}");
    }
    let effect = statement
        .get("Effect")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let (key, actions) = match strings(statement, "Action") {
        list if list.is_empty() => ("NotAction ", strings(statement, "NotAction")),
        list => ("", list),
    };
    let mut shown: Vec<String> = actions.iter().take(2).cloned().collect();
    if actions.len() > 2 {
        shown.push("…".into());
    }
    format!("{what}, the {effect} {key}{} statement", shown.join(", "))
}

fn is_allow(statement: &Statement) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
}

impl Checker<'_> {
    fn push(
        &mut self,
        rule: &'static str,
        place: Option<&Location>,
        subject: String,
        message: String,
    ) {
        self.found.push(Finding {
            rule,
            location: place.cloned(),
            resource: self.resource.clone(),
            subject,
            message,
        });
    }

    /// The rules on a permissions policy's statements.
    fn permissions(&mut self, document: &PolicyDocument, what: &str, place: Option<&Location>) {
        let tree = document.tree();
        for statement in policy::statements(&tree) {
            let subject = describe(what, statement);
            for action in strings(statement, "Action")
                .into_iter()
                .chain(strings(statement, "NotAction"))
            {
                if action == "*" {
                    continue;
                }
                let known = if action.contains(['*', '?']) {
                    !actions::expand(&action).is_empty()
                } else {
                    actions::action_exists(&action)
                };
                if !known {
                    let message = match actions::suggest(&action) {
                        Some(suggestion) => format!(
                            "no AWS service has the action `{action}`; did you mean `{suggestion}`?"
                        ),
                        None => format!("no AWS service has the action `{action}`"),
                    };
                    self.push("unknown-action", place, subject.clone(), message);
                }
            }
            if !is_allow(statement) {
                continue;
            }
            let granted = strings(statement, "Action");
            let resources = strings(statement, "Resource");
            // `NotResource` allows everything but what it lists: as broad as
            // `*` for these rules; so is a pattern matching any ARN.
            let every_resource = statement.get("NotResource").is_some()
                || resources
                    .iter()
                    .any(|r| r == "*" || r == "arn:*" || r == "arn:*:*");
            let excluded = strings(statement, "NotAction");
            if granted.iter().any(|a| a == "*") || statement.get("NotAction").is_some() {
                let message = if excluded.is_empty() {
                    "allows every action of every service".to_string()
                } else {
                    format!(
                        "allows every action of every service except {} (NotAction)",
                        excluded.join(", ")
                    )
                };
                self.push("wildcard-action", place, subject.clone(), message);
                continue;
            }
            if every_resource {
                let writes: Vec<&str> = granted
                    .iter()
                    .flat_map(|pattern| actions::expand(pattern))
                    .filter(|action| {
                        matches!(
                            actions::access_level(action),
                            Some(
                                AccessLevel::Write
                                    | AccessLevel::PermissionsManagement
                                    | AccessLevel::Tagging
                            )
                        )
                    })
                    .collect();
                if !writes.is_empty() {
                    let shown: Vec<&str> = writes.iter().take(3).copied().collect();
                    let more = if writes.len() > 3 {
                        format!(" and {} more", writes.len() - 3)
                    } else {
                        String::new()
                    };
                    self.push(
                        "wildcard-resource-on-write",
                        place,
                        subject.clone(),
                        format!(
                            "allows write actions on every resource: {}{more}",
                            shown.join(", ")
                        ),
                    );
                }
            }
            let passes_roles = granted
                .iter()
                .any(|pattern| action_matches(pattern, "iam:PassRole"));
            // A pattern that matches a role of another path and name in
            // any account matches every role.
            let any_role = every_resource
                || resources.iter().any(|r| {
                    resource_matches(r, "arn:aws:iam::111122223333:role/any/path/x")
                        && resource_matches(r, "arn:aws:iam::444455556666:role/y")
                });
            if passes_roles && any_role {
                self.push(
                    "passrole-any-role",
                    place,
                    subject.clone(),
                    "allows iam:PassRole on every role".into(),
                );
            }
        }
    }

    /// An inline or customer-managed policy equal to an AWS-managed policy.
    fn duplicate(&mut self, document: &PolicyDocument, what: &str, place: Option<&Location>) {
        if let Some(arn) = managed_with_document(document) {
            self.push(
                "inline-duplicates-managed",
                place,
                what.to_string(),
                format!("is the same document as the AWS-managed policy {arn}"),
            );
        }
    }

    /// The rules on `role`'s trust policy, declared at `place`.
    fn trust(&mut self, role: &Role, place: Option<&Location>, account: Option<&str>) {
        let place = place.cloned();
        let tree = role.trust.tree();
        for statement in policy::statements(&tree) {
            if !is_allow(statement) {
                continue;
            }
            let subject = describe("trust policy", statement);
            let principals = aws_principals(statement);
            if principals.iter().any(|p| p == "*") && !limits_who(statement) {
                self.push(
                    "trust-any-principal",
                    place.as_ref(),
                    subject.clone(),
                    "any AWS principal of any account may assume the role (no condition limits who)".into(),
                );
                continue;
            }
            let Some(own) = account else { continue };
            let has_external_id = positive_conditions(statement)
                .iter()
                .any(|(key, _)| key.eq_ignore_ascii_case("sts:ExternalId"));
            for principal in &principals {
                let Some(other) = principal_account(principal) else {
                    continue;
                };
                if other != own && !has_external_id {
                    self.push(
                        "cross-account-without-external-id",
                        place.as_ref(),
                        subject.clone(),
                        format!("trusts account {other} (the stack is account {own}) without an sts:ExternalId condition"),
                    );
                }
            }
        }
    }
}

/// The statement's AWS principals (`"Principal": "*"` counts as `*`).
fn aws_principals(statement: &Statement) -> Vec<String> {
    match statement.get("Principal") {
        Some(Value::String(star)) => vec![star.clone()],
        Some(Value::Object(map)) => map
            .get("AWS")
            .map(|aws| match aws {
                Value::String(one) => vec![one.clone()],
                Value::Array(list) => list
                    .iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The account of an AWS principal: a bare account id or an ARN's.
fn principal_account(principal: &str) -> Option<&str> {
    let account = if principal.starts_with("arn:") {
        principal.split(':').nth(4)?
    } else {
        principal
    };
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// The keys a statement's conditions require a concrete value of: under a
/// positive operator (StringEquals, StringLike, ArnEquals, ArnLike, not a
/// negated one, not `...IfExists`, not `Null`), with some value that is
/// more than wildcards. Only those narrow who the statement lets in.
fn positive_conditions(statement: &Statement) -> Vec<(String, Vec<String>)> {
    let Some(operators) = statement.get("Condition").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (operator, keys) in operators {
        let bare = operator
            .rsplit(':')
            .next()
            .unwrap_or(operator)
            .to_ascii_lowercase();
        let positive = matches!(
            bare.as_str(),
            "stringequals" | "stringlike" | "stringequalsignorecase" | "arnequals" | "arnlike"
        );
        if !positive {
            continue;
        }
        for (key, values) in keys.as_object().into_iter().flatten() {
            let values: Vec<String> = match values {
                Value::String(one) => vec![one.clone()],
                Value::Array(list) => list
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            if values
                .iter()
                .any(|v| v.chars().any(|c| c != '*' && c != '?'))
            {
                found.push((key.clone(), values));
            }
        }
    }
    found
}

/// Whether a trust statement's conditions limit who may assume the role:
/// a positive condition on the principal's organisation, account or ARN,
/// the calling service's source, or an external id.
fn limits_who(statement: &Statement) -> bool {
    const LIMITING: &[&str] = &[
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "sts:externalid",
    ];
    positive_conditions(statement)
        .iter()
        .any(|(key, _)| LIMITING.contains(&key.to_ascii_lowercase().as_str()))
}

/// The AWS-managed policy whose document is `document`, if one is:
/// an index of every bundled document by its canonical JSON, built once.
fn managed_with_document(document: &PolicyDocument) -> Option<String> {
    static INDEX: OnceLock<HashMap<String, String>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        aws_policies::aws_policy_arns()
            .filter_map(|arn| {
                let document = aws_policies::aws_policy_document(&arn)?;
                Some((document.to_json(), arn))
            })
            .collect()
    });
    index.get(document.json_text()).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_name_their_accounts() {
        assert_eq!(principal_account("123456789012"), Some("123456789012"));
        assert_eq!(
            principal_account("arn:aws:iam::210987654321:role/x"),
            Some("210987654321")
        );
        assert_eq!(principal_account("*"), None);
        assert_eq!(principal_account("arn:aws:iam::aws:policy/x"), None);
    }

    #[test]
    fn passrole_patterns_match_ignoring_case() {
        assert!(action_matches("iam:pass*", "iam:passrole"));
        assert!(action_matches("*", "iam:passrole"));
        assert!(action_matches("iam:*", "iam:passrole"));
        assert!(!action_matches("iam:get*", "iam:passrole"));
    }

    #[test]
    fn every_rule_has_a_unique_id_and_words() {
        let ids: BTreeSet<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), RULES.len());
        for each in RULES {
            assert_eq!(rule(each.id).id, each.id);
            assert!(!each.why.is_empty() && !each.fix.is_empty());
        }
    }
}
