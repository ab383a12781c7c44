//! IAM policy evaluation: the decision AWS makes for one request of one
//! principal, with the statements that decided it and, when it is denied
//! for want of an allow, why.
//!
//! The logic (IAM User Guide, "Policy evaluation logic" and "Permissions
//! boundaries for IAM entities"):
//! 1. every request starts implicitly denied;
//! 2. a Deny statement that applies, in any policy of any layer, wins;
//! 3. otherwise the request is allowed only if an identity policy allows
//!    it **and** the permissions boundary allows it (when there is one)
//!    **and** the session policies allow it (when there are any): a
//!    boundary or session policy is a ceiling and grants nothing alone;
//! 4. otherwise it stays implicitly denied.
//!
//! A statement applies when its `Action` names the action (or its
//! `NotAction` does not), its `Resource` names the resource (or its
//! `NotResource` does not), and every condition holds ("IAM JSON policy
//! elements: Action / NotAction / Resource / NotResource / Condition").
//! Actions match ignoring case, resources with case; both take `*` and `?`
//! and a `*` may span the `:` of an ARN (an iterative glob matcher, no
//! regex). Condition operators and their missing-key rules are in
//! `condition.rs` ("IAM JSON policy elements: Condition operators"),
//! policy variables in `variables.rs` ("IAM policy elements: Variables and
//! tags").
//!
//! Use: build [`Policies`] from [`NamedPolicy`]s (each with a source of
//! the caller's type, kept in the answer), [`PolicySet::compile`] once,
//! then [`PolicySet::evaluate`] each [`Request`]. The [`Decision`] borrows
//! from the set, serialises to JSON with AWS's `EvalDecision` names, and
//! displays as "implicitly denied because ...".
//!
//! ```
//! use rolecall_evaluation::{Context, DecisionKind, NamedPolicy, Policies, PolicySet, Request};
//! use rolecall_policy::PolicyDocument;
//!
//! let document = PolicyDocument::parse(r#"{"Version": "2012-10-17", "Statement": [
//!     {"Sid": "Home", "Effect": "Allow", "Action": "s3:*",
//!      "Resource": "arn:aws:s3:::home/${aws:username}/*"}]}"#)?;
//! let set = PolicySet::compile(Policies::identity(vec![
//!     NamedPolicy::new("roles/dev.yaml:4", "home", document),
//! ]))?;
//! let request = Request::new("s3:GetObject", "arn:aws:s3:::home/bob/notes.txt")
//!     .with_context(Context::new().with("aws:username", "alice"));
//! let decision = set.evaluate(&request);
//! assert_eq!(decision.kind, DecisionKind::ImplicitDeny);
//! assert_eq!(
//!     decision.to_string(),
//!     "implicitly denied because statement Home of policy home \
//!      (roles/dev.yaml:4) allows the action but not on this resource"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Not yet: resource-based policies (a same-account resource policy that
//! allows grants alone), SCPs and RCPs, cross-account requests, and the
//! root user's exemption; a caller needing them must not read an answer
//! from this crate as AWS's.

mod condition;
mod context;
mod decision;
mod glob;
mod set;
mod variables;

pub use context::Context;
pub use decision::{Decision, DecisionKind, Layer, Reason, StatementRef};
pub use glob::{action_matches, resource_matches};
pub use set::{CompileError, NamedPolicy, Policies, PolicySet, Request, Warning};
