//! Whether a role's trust policy lets a principal assume it: the decision
//! STS makes on AssumeRole, for the principals rolecall's lab has.
//!
//! Explicit deny wins, then any allow, else an implicit deny (IAM User
//! Guide, "Policy evaluation logic"). A principal is matched by the exact
//! strings it may be named by ([`TrustRequest::principals`]), as AWS
//! matches `Principal` elements: no wildcards there but `*`. Both `AWS`
//! and `Service` entries are matched against those strings: IAM's grammar
//! (`valid_principal`) keeps the two kinds apart (an `AWS` entry is `*`, an
//! account id or an IAM ARN; a `Service` entry `NAME.amazonaws.com`), so a
//! user's names never match a service entry, nor a service's an `AWS` one. Actions match
//! with `*` and `?`, ignoring case. A statement with a `Condition` is left
//! out of the decision, allow and deny alike: conditions need the policy
//! engine, which evaluates them once it exists; until then a conditional
//! allow never grants.

use serde_json::Value;

use crate::PolicyDocument;

/// What is asked of a trust policy.
#[derive(Debug, Clone, Copy)]
pub struct TrustRequest<'a> {
    /// The action, e.g. `sts:AssumeRole`.
    pub action: &'a str,
    /// Every string a `Principal` element may name the caller by: `*`, the
    /// account id, `arn:aws:iam::ACCOUNT:root`, the caller's ARNs; for an
    /// AWS service (EC2 assuming an instance's role), only its service
    /// principal, `ec2.amazonaws.com` (a `"Principal": "*"` statement
    /// names every caller, services too).
    pub principals: &'a [String],
}

/// The outcome, with AWS's EvalDecision names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustDecision {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
}

impl PolicyDocument {
    /// Whether this trust policy grants `request` (see the module's notes).
    pub fn trust_decision(&self, request: &TrustRequest) -> TrustDecision {
        let mut allowed = false;
        let tree = self.tree();
        for statement in crate::statements(&tree) {
            if statement.contains_key("Condition")
                || !action_matches(statement, request.action)
                || !principal_matches(statement, request.principals)
            {
                continue;
            }
            match statement.get("Effect").and_then(Value::as_str) {
                Some("Deny") => return TrustDecision::ExplicitDeny,
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
        if allowed {
            TrustDecision::Allowed
        } else {
            TrustDecision::ImplicitDeny
        }
    }
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn action_matches(statement: &serde_json::Map<String, Value>, action: &str) -> bool {
    let any = |key| {
        strings(statement.get(key))
            .iter()
            .any(|pattern| wildcard_match(pattern, action))
    };
    if statement.contains_key("Action") {
        any("Action")
    } else if statement.contains_key("NotAction") {
        !any("NotAction")
    } else {
        false
    }
}

fn principal_matches(statement: &serde_json::Map<String, Value>, principals: &[String]) -> bool {
    let named = |value: &str| principals.iter().any(|p| p == value);
    match statement.get("Principal") {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(map)) => strings(map.get("AWS"))
            .into_iter()
            .chain(strings(map.get("Service")))
            .any(named),
        // NotPrincipal is not used to trust anyone in a lab: no match.
        _ => false,
    }
}

/// `*` any run of characters, `?` one; ASCII case ignored (IAM actions).
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut i, mut j) = (0, 0);
    // The last `*` seen, and where in the text it started matching.
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == b'?' || p[i].eq_ignore_ascii_case(&t[j])) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == b'*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decide(document: Value, principals: &[&str]) -> TrustDecision {
        let principals: Vec<String> = principals.iter().map(|p| p.to_string()).collect();
        PolicyDocument::from_value(document).trust_decision(&TrustRequest {
            action: "sts:AssumeRole",
            principals: &principals,
        })
    }

    const ROOT: &[&str] = &["*", "111122223333", "arn:aws:iam::111122223333:root"];

    #[test]
    fn an_allow_naming_the_caller_grants() {
        let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}]});
        assert_eq!(decide(doc, ROOT), TrustDecision::Allowed);
    }

    #[test]
    fn a_service_principal_does_not_trust_a_user() {
        let doc = json!({"Statement": [{"Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        assert_eq!(decide(doc, ROOT), TrustDecision::ImplicitDeny);
    }

    #[test]
    fn a_service_principal_trusts_that_service_only() {
        let doc = json!({"Statement": [{"Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]},
            "Action": "sts:AssumeRole"}]});
        assert_eq!(
            decide(doc.clone(), &["ec2.amazonaws.com"]),
            TrustDecision::Allowed
        );
        assert_eq!(
            decide(doc, &["ecs-tasks.amazonaws.com"]),
            TrustDecision::ImplicitDeny
        );
        // An account's trust does not let a service in.
        let doc = json!({"Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}]});
        assert_eq!(
            decide(doc, &["ec2.amazonaws.com"]),
            TrustDecision::ImplicitDeny
        );
        // A deny naming the service wins.
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:*"}]});
        assert_eq!(
            decide(doc, &["ec2.amazonaws.com"]),
            TrustDecision::ExplicitDeny
        );
    }

    #[test]
    fn a_deny_wins_over_an_allow() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "sts:*"},
            {"Effect": "Deny", "Principal": {"AWS": ["111122223333"]}, "Action": "STS:assume*"}]});
        assert_eq!(decide(doc, ROOT), TrustDecision::ExplicitDeny);
    }

    #[test]
    fn actions_match_with_wildcards_and_not_action() {
        assert!(wildcard_match("sts:Assume?ole", "sts:AssumeRole"));
        assert!(wildcard_match("*", "sts:AssumeRole"));
        assert!(wildcard_match("sts:*Role", "sts:assumerole"));
        assert!(!wildcard_match("sts:AssumeRoleWith*", "sts:AssumeRole"));
        let doc = json!({"Statement": [{"Effect": "Allow", "Principal": "*",
            "NotAction": "sts:TagSession"}]});
        assert_eq!(decide(doc, ROOT), TrustDecision::Allowed);
    }

    #[test]
    fn a_conditional_statement_is_left_out() {
        let doc = json!({"Statement": [{"Effect": "Allow", "Principal": "*",
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "x"}}}]});
        assert_eq!(decide(doc, ROOT), TrustDecision::ImplicitDeny);
    }
}
