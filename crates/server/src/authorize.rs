//! Whether the signer of a request may make its call: IAM's decision
//! (`rolecall-evaluation`) over the caller's policies, for every action
//! the call needs on every resource it names, before anything runs.
//!
//! The account's root user (the administrator key) may do everything, as
//! on AWS. A role session carries its role's inline and managed policies
//! (the account's own at their default version, AWS's from the bundled
//! list) and its permissions boundary, read when the call is made (a policy
//! changed a moment ago counts at once: the lab has no propagation delay
//! for permissions). Context keys come from the request: the client's
//! address, the region signed for, the time, the session's role tags and
//! issue time, and for instance credentials the instance.
//!
//! What a call needs follows the Service Authorization Reference: the
//! action named as the operation (`iam:GetRole`), on the role, instance
//! profile, managed policy (its ARN; CreatePolicy's at its path, with
//! `iam:TagPolicy` too when it tags) or instance it names (`*` for
//! account-wide reads, ListPolicies among them), and
//! `iam:PassRole` on the role an instance profile carries to an instance
//! (AssociateIamInstanceProfile, ReplaceIamInstanceProfileAssociation,
//! RunInstances with a profile) or to a profile (AddRoleToInstanceProfile).
//! GetCallerIdentity needs no permission.

use serde_json::Value;

use rolecall_cloud::{Call, CloudError, ErrorCode, Operation, Service};
use rolecall_emulator::{
    Credential, Emulator, EmulatorError, Principal, RoleFacts, token_issue_time,
};
use rolecall_evaluation::{
    Context, DecisionKind, Layer, NamedPolicy, Policies, PolicySet, Reason, Request,
};

/// What the request says about itself, for the context keys.
pub struct RequestFacts<'a> {
    pub source_ip: &'a str,
    /// The region the request is signed for (`aws:RequestedRegion`).
    pub region: &'a str,
    pub user_agent: &'a str,
}

/// One permission a call needs: an action on a resource, with the context
/// keys the action adds (`iam:PolicyARN`, ...).
struct Need {
    action: String,
    resource: String,
    keys: Vec<(String, String)>,
}

/// Ok when `credential`'s principal may make `call`; AWS's AccessDenied
/// (EC2: UnauthorizedOperation) naming the first permission missing
/// otherwise.
pub fn authorize(
    emulator: &Emulator,
    credential: &Credential,
    operation: &'static Operation,
    call: &Call,
    request: &RequestFacts,
) -> Result<(), CloudError> {
    let Principal::RoleSession {
        account_id,
        role_name,
        role_id,
        session_name,
    } = &credential.principal
    else {
        // The administrator key is the account's root user.
        return Ok(());
    };
    if matches!(call, Call::GetCallerIdentity(_)) {
        return Ok(());
    }
    let storage = |error: EmulatorError| {
        CloudError::new(
            operation.name,
            operation.service.failure_code(),
            format!("the emulated account cannot be read: {error}"),
        )
    };
    // A role deleted since the session began leaves it with no policy,
    // even if a role of the same name was made since (another role id).
    let role = emulator
        .role_facts(role_name)
        .map_err(storage)?
        .filter(|role| role.role_id == *role_id);
    let policies = compile(role.as_ref());
    let mut context = Context::role_session(
        role.as_ref().map(|role| role.arn.as_str()),
        role.iter().flat_map(|role| role.role.tags.iter()),
        jiff::Timestamp::now(),
    );
    context.insert("aws:SourceIp", request.source_ip);
    // `rolecall serve` speaks plain HTTP.
    context.insert("aws:SecureTransport", "false");
    context.insert("aws:RequestedRegion", request.region);
    context.insert("aws:UserAgent", request.user_agent);
    context.insert("aws:userid", format!("{role_id}:{session_name}"));
    context.insert("aws:ViaAWSService", "false");
    context.insert("aws:MultiFactorAuthPresent", "false");
    context.insert(
        "aws:TokenIssueTime",
        token_issue_time(credential.issued_at_ms),
    );
    if let Some(instance) = &credential.instance_id {
        context.insert(
            "ec2:SourceInstanceARN",
            instance_arn(request.region, account_id, instance),
        );
        context.insert("ec2:RoleDelivery", "2.0");
    }

    let caller = credential.principal.arn();
    for need in needs(emulator, account_id, request.region, operation, call).map_err(storage)? {
        let mut context = context.clone();
        for (key, value) in &need.keys {
            context.insert(key, value.as_str());
        }
        let request =
            Request::new(need.action.as_str(), need.resource.as_str()).with_context(context);
        let Some(refusal) = refusal(policies.as_ref(), &request) else {
            continue;
        };
        let because = match refusal {
            Refusal::ExplicitDeny(Layer::PermissionsBoundary) => {
                "with an explicit deny in a permissions boundary".to_string()
            }
            Refusal::ExplicitDeny(_) => {
                "with an explicit deny in an identity-based policy".to_string()
            }
            Refusal::NoBoundaryAllows => format!(
                "because no permissions boundary allows the {} action",
                need.action
            ),
            Refusal::NoIdentityAllows => format!(
                "because no identity-based policy allows the {} action",
                need.action
            ),
        };
        let sentence = format!(
            "User: {caller} is not authorized to perform: {} on resource: {} {because}",
            need.action,
            shown_resource(&need.resource)
        );
        return Err(match operation.service {
            Service::Ec2 => CloudError::new(
                operation.name,
                ErrorCode::UnauthorizedOperation,
                format!("You are not authorized to perform this operation. {sentence}"),
            ),
            Service::Iam | Service::Sts => {
                CloudError::new(operation.name, ErrorCode::AccessDenied, sentence)
            }
        });
    }
    Ok(())
}

/// A resource as IAM names it in a refusal: a managed policy as `policy
/// ARN` (as AWS answered in aws/aws-amplify-js#7540), anything else as its ARN.
fn shown_resource(resource: &str) -> String {
    let is_policy = rolecall_model::Arn::parse(resource)
        .is_some_and(|arn| arn.service == "iam" && arn.resource.starts_with("policy/"));
    if is_policy {
        format!("policy {resource}")
    } else {
        resource.to_string()
    }
}

fn instance_arn(region: &str, account_id: &str, instance: &str) -> String {
    format!("arn:aws:ec2:{region}:{account_id}:instance/{instance}")
}

/// Where a policy came from; the server's messages name none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Anywhere;

/// The role's policies compiled (inline, attached managed ones and the
/// boundary, the account's own managed policies at their default version
/// exactly as AWS-managed ones); `None` when the role is gone or a stored
/// document cannot be evaluated (then nothing is allowed).
fn compile(role: Option<&RoleFacts>) -> Option<PolicySet<Anywhere>> {
    let facts = role?;
    let role = &facts.role;
    // A managed policy's document: the account's own (its default
    // version's), else AWS's from the bundled list.
    let managed = |arn: &str| {
        facts
            .customer_documents
            .get(arn)
            .cloned()
            .or_else(|| rolecall_model::aws_policies::aws_policy_document(arn))
    };
    let mut identity: Vec<NamedPolicy<Anywhere>> = role
        .inline_policies
        .iter()
        .map(|(name, document)| NamedPolicy::new(Anywhere, name.clone(), document.clone()))
        .collect();
    for arn in &role.managed_policies {
        if let Some(document) = managed(arn) {
            identity.push(NamedPolicy::new(Anywhere, arn.clone(), document));
        }
    }
    let mut policies = Policies::identity(identity);
    if let Some(arn) = &role.permissions_boundary {
        // A boundary rolecall has no document of allows nothing.
        let boundary =
            managed(arn).map(|document| NamedPolicy::new(Anywhere, arn.clone(), document));
        policies.permissions_boundary = Some(boundary.into_iter().collect());
    }
    PolicySet::compile(policies).ok()
}

enum Refusal {
    ExplicitDeny(Layer),
    NoIdentityAllows,
    NoBoundaryAllows,
}

/// Why `request` is refused, if it is.
fn refusal(policies: Option<&PolicySet<Anywhere>>, request: &Request) -> Option<Refusal> {
    let Some(policies) = policies else {
        return Some(Refusal::NoIdentityAllows);
    };
    let decision = policies.evaluate(request);
    match decision.kind {
        DecisionKind::Allowed => None,
        DecisionKind::ExplicitDeny => Some(Refusal::ExplicitDeny(
            decision
                .matched_statements
                .first()
                .map_or(Layer::Identity, |statement| statement.layer),
        )),
        DecisionKind::ImplicitDeny => {
            let identity_lacks = decision.missing.iter().any(|reason| match reason {
                Reason::NoStatementMatchesAction { layer } => *layer == Layer::Identity,
                Reason::ResourceNotMatched { statement }
                | Reason::ConditionFailed { statement, .. }
                | Reason::UnknownOperator { statement, .. } => statement.layer == Layer::Identity,
                Reason::LayerDoesNotAllow { .. } => false,
            });
            let boundary_lacks = decision.missing.iter().any(|reason| {
                matches!(
                    reason,
                    Reason::LayerDoesNotAllow {
                        layer: Layer::PermissionsBoundary
                    }
                )
            });
            Some(if boundary_lacks && !identity_lacks {
                Refusal::NoBoundaryAllows
            } else {
                Refusal::NoIdentityAllows
            })
        }
    }
}

/// The permissions `call` needs, in the order AWS checks them.
fn needs(
    emulator: &Emulator,
    account_id: &str,
    region: &str,
    operation: &'static Operation,
    call: &Call,
) -> Result<Vec<Need>, EmulatorError> {
    // Call serialises as {"operation": NAME, "params": {AWS's names}}.
    let json = serde_json::to_value(call).unwrap_or(Value::Null);
    let params = &json["params"];
    let text = |name: &str| params[name].as_str().map(str::to_string);
    let prefix = operation.service.signing_name();
    let action = format!("{prefix}:{}", operation.name);
    let role_arn = |name: &str| -> Result<String, EmulatorError> {
        Ok(emulator
            .role_arn(name)?
            .unwrap_or_else(|| format!("arn:aws:iam::{account_id}:role/{name}")))
    };
    let profile = |name: &str| -> Result<(String, Option<String>), EmulatorError> {
        Ok(emulator.profile_role(name)?.unwrap_or_else(|| {
            (
                format!("arn:aws:iam::{account_id}:instance-profile/{name}"),
                None,
            )
        }))
    };
    let instance = |id: &str| instance_arn(region, account_id, id);
    let one = |resource: String| Need {
        action: action.clone(),
        resource,
        keys: Vec::new(),
    };
    // iam:PassRole on the role a profile holds, for the service that gets it.
    let pass_profile_role = |profile_name: &str| -> Result<Option<Need>, EmulatorError> {
        let (_, role) = profile(profile_name)?;
        role.map(|role| role_arn(&role).map(|arn| pass_role(&arn)))
            .transpose()
    };
    let profile_name_of = |spec: &Value| -> Result<Option<String>, EmulatorError> {
        if let Some(name) = spec["Name"].as_str() {
            return Ok(Some(name.to_string()));
        }
        // By ARN: the name is after the last slash.
        Ok(spec["Arn"]
            .as_str()
            .and_then(|arn| arn.rsplit('/').next())
            .map(str::to_string))
    };

    // Tags a call sets: `aws:RequestTag/KEY` and `aws:TagKeys`.
    let request_tags = |tags: &Value| -> Vec<(String, String)> {
        tags.as_array()
            .into_iter()
            .flatten()
            .filter_map(|tag| {
                Some((
                    tag["Key"].as_str()?.to_string(),
                    tag["Value"].as_str().unwrap_or("").to_string(),
                ))
            })
            .collect()
    };
    let with_request_tags = |mut need: Need, tags: &[(String, String)]| -> Need {
        for (key, value) in tags {
            need.keys
                .push((format!("aws:RequestTag/{key}"), value.clone()));
            need.keys.push(("aws:TagKeys".to_string(), key.clone()));
        }
        need
    };
    let path_of = || text("Path").unwrap_or_else(|| "/".to_string());

    let mut needs = Vec::new();
    match call {
        Call::CreateRole(_) => {
            let name = text("RoleName").unwrap_or_default();
            let arn = format!("arn:aws:iam::{account_id}:role{}{name}", path_of());
            let tags = request_tags(&params["Tags"]);
            let mut create = with_request_tags(one(arn.clone()), &tags);
            if let Some(boundary) = text("PermissionsBoundary") {
                create
                    .keys
                    .push(("iam:PermissionsBoundary".into(), boundary));
            }
            needs.push(create);
            if !tags.is_empty() {
                let tag = Need {
                    action: "iam:TagRole".into(),
                    ..with_request_tags(one(arn), &tags)
                };
                needs.push(tag);
            }
        }
        Call::CreateInstanceProfile(_) => {
            let name = text("InstanceProfileName").unwrap_or_default();
            let arn = format!(
                "arn:aws:iam::{account_id}:instance-profile{}{name}",
                path_of()
            );
            let tags = request_tags(&params["Tags"]);
            needs.push(with_request_tags(one(arn.clone()), &tags));
            if !tags.is_empty() {
                needs.push(Need {
                    action: "iam:TagInstanceProfile".into(),
                    ..with_request_tags(one(arn), &tags)
                });
            }
        }
        Call::CreatePolicy(_) => {
            // The policy to be, at its path, as for a role.
            let name = text("PolicyName").unwrap_or_default();
            let arn = format!("arn:aws:iam::{account_id}:policy{}{name}", path_of());
            let tags = request_tags(&params["Tags"]);
            needs.push(with_request_tags(one(arn.clone()), &tags));
            if !tags.is_empty() {
                needs.push(Need {
                    action: "iam:TagPolicy".into(),
                    ..with_request_tags(one(arn), &tags)
                });
            }
        }
        Call::TagRole(_) | Call::TagInstanceProfile(_) | Call::TagPolicy(_) => {
            let resource = match (text("RoleName"), text("PolicyArn")) {
                (Some(name), _) => role_arn(&name)?,
                (None, Some(policy)) => policy,
                (None, None) => profile(&text("InstanceProfileName").unwrap_or_default())?.0,
            };
            needs.push(with_request_tags(
                one(resource),
                &request_tags(&params["Tags"]),
            ));
        }
        Call::UntagRole(_) | Call::UntagInstanceProfile(_) | Call::UntagPolicy(_) => {
            let resource = match (text("RoleName"), text("PolicyArn")) {
                (Some(name), _) => role_arn(&name)?,
                (None, Some(policy)) => policy,
                (None, None) => profile(&text("InstanceProfileName").unwrap_or_default())?.0,
            };
            let mut need = one(resource);
            for key in params["TagKeys"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                need.keys.push(("aws:TagKeys".into(), key.to_string()));
            }
            needs.push(need);
        }
        // EC2's Describe actions support no resource-level permissions
        // (Service Authorization Reference): always `*`.
        Call::DescribeInstances(_) | Call::DescribeIamInstanceProfileAssociations(_) => {
            needs.push(one("*".to_string()));
        }
        Call::AttachRolePolicy(_) | Call::DetachRolePolicy(_) => {
            let mut need = one(role_arn(&text("RoleName").unwrap_or_default())?);
            if let Some(policy) = text("PolicyArn") {
                need.keys.push(("iam:PolicyARN".into(), policy));
            }
            needs.push(need);
        }
        Call::PutRolePermissionsBoundary(_) => {
            let mut need = one(role_arn(&text("RoleName").unwrap_or_default())?);
            if let Some(boundary) = text("PermissionsBoundary") {
                need.keys.push(("iam:PermissionsBoundary".into(), boundary));
            }
            needs.push(need);
        }
        Call::AddRoleToInstanceProfile(_) => {
            let (profile_arn, _) = profile(&text("InstanceProfileName").unwrap_or_default())?;
            needs.push(one(profile_arn));
            needs.push(pass_role(&role_arn(&text("RoleName").unwrap_or_default())?));
        }
        Call::ListRoles(_) => needs.push(one(format!("arn:aws:iam::{account_id}:role/"))),
        Call::ListInstanceProfiles(_) => {
            needs.push(one(format!("arn:aws:iam::{account_id}:instance-profile/")));
        }
        Call::AssociateIamInstanceProfile(_) => {
            needs.push(one(instance(&text("InstanceId").unwrap_or_default())));
            if let Some(name) = profile_name_of(&params["IamInstanceProfile"])? {
                needs.extend(pass_profile_role(&name)?);
            }
        }
        Call::ReplaceIamInstanceProfileAssociation(_) | Call::DisassociateIamInstanceProfile(_) => {
            let association = text("AssociationId").unwrap_or_default();
            let resource = match emulator.association_instance(&association)? {
                Some(id) => instance(&id),
                None => format!("arn:aws:ec2:{region}:{account_id}:instance/*"),
            };
            needs.push(one(resource));
            if let Some(name) = profile_name_of(&params["IamInstanceProfile"])? {
                needs.extend(pass_profile_role(&name)?);
            }
        }
        Call::RunInstances(_) => {
            let instances = format!("arn:aws:ec2:{region}:{account_id}:instance/*");
            let tags: Vec<(String, String)> = params["TagSpecifications"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|spec| request_tags(&spec["Tags"]))
                .collect();
            needs.push(with_request_tags(one(instances.clone()), &tags));
            if !tags.is_empty() {
                // Tagging on launch needs ec2:CreateTags too.
                needs.push(Need {
                    action: "ec2:CreateTags".into(),
                    ..with_request_tags(one(instances), &tags)
                });
            }
            if let Some(name) = profile_name_of(&params["IamInstanceProfile"])? {
                needs.extend(pass_profile_role(&name)?);
            }
        }
        Call::CreateTags(_) | Call::DeleteTags(_) => {
            let tags = request_tags(&params["Tags"]);
            for id in params["Resources"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                needs.push(with_request_tags(one(instance(id)), &tags));
            }
        }
        Call::AssumeRole(_) => needs.push(one(text("RoleArn").unwrap_or_default())),
        _ => {
            if let Some(name) = text("RoleName") {
                needs.push(one(role_arn(&name)?));
            } else if let Some(name) = text("InstanceProfileName") {
                needs.push(one(profile(&name)?.0));
            } else if let Some(policy) = text("PolicyArn") {
                // The policy calls (GetPolicy, CreatePolicyVersion, ...) act
                // on the policy; ListPolicies names none and needs `*`.
                needs.push(one(policy));
            } else if let Some(id) = text("InstanceId") {
                needs.push(one(instance(&id)));
            } else if let Some(ids) = params["InstanceIds"]
                .as_array()
                .filter(|ids| !ids.is_empty())
            {
                for id in ids.iter().filter_map(Value::as_str) {
                    needs.push(one(instance(id)));
                }
            } else {
                needs.push(one("*".to_string()));
            }
        }
    }
    Ok(needs)
}

fn pass_role(role_arn: &str) -> Need {
    Need {
        action: "iam:PassRole".into(),
        resource: role_arn.to_string(),
        keys: vec![("iam:PassedToService".into(), "ec2.amazonaws.com".into())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rolecall_model::{PolicyDocument, Role};

    /// IAM names a managed policy `policy ARN` in a refusal, anything
    /// else by its ARN alone.
    #[test]
    fn refusals_name_policies_as_iam_does() {
        let policy = "arn:aws:iam::123456789012:policy/team/reader";
        assert_eq!(shown_resource(policy), format!("policy {policy}"));
        assert_eq!(
            shown_resource("arn:aws:iam::aws:policy/ReadOnlyAccess"),
            "policy arn:aws:iam::aws:policy/ReadOnlyAccess"
        );
        let role = "arn:aws:iam::123456789012:role/app";
        assert_eq!(shown_resource(role), role);
        assert_eq!(shown_resource("*"), "*");
    }

    /// The account's own managed policies count as AWS-managed ones do,
    /// attached and as the boundary; an ARN with no document grants nothing.
    #[test]
    fn customer_managed_documents_are_evaluated() {
        let reader = "arn:aws:iam::123456789012:policy/reader";
        let cap = "arn:aws:iam::123456789012:policy/cap";
        let allow = |action: &str| {
            policy(serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]
            }))
        };
        let facts = |boundary: Option<&str>| RoleFacts {
            arn: "arn:aws:iam::123456789012:role/app".into(),
            role_id: "AROAAAAAAAAAAAAAAAAAA".into(),
            role: Role {
                name: "app".into(),
                path: "/".into(),
                description: String::new(),
                trust: PolicyDocument::trusting_services(&["ec2.amazonaws.com"]),
                max_session_duration: 3600,
                permissions_boundary: boundary.map(String::from),
                managed_policies: [
                    reader.to_string(),
                    "arn:aws:iam::123456789012:policy/gone".into(),
                ]
                .into_iter()
                .collect(),
                inline_policies: Default::default(),
                tags: Default::default(),
            },
            customer_documents: [
                (reader.to_string(), allow("iam:*")),
                (cap.to_string(), allow("iam:ListRoles")),
            ]
            .into_iter()
            .collect(),
        };
        let get_role = Request::new("iam:GetRole", "arn:aws:iam::123456789012:role/app");
        let list_roles = Request::new("iam:ListRoles", "*");
        let unbounded = compile(Some(&facts(None))).unwrap();
        assert!(refusal(Some(&unbounded), &get_role).is_none());
        let bounded = compile(Some(&facts(Some(cap)))).unwrap();
        assert!(matches!(
            refusal(Some(&bounded), &get_role),
            Some(Refusal::NoBoundaryAllows)
        ));
        assert!(refusal(Some(&bounded), &list_roles).is_none());
    }

    fn policy(json: serde_json::Value) -> PolicyDocument {
        PolicyDocument::parse(&json.to_string()).unwrap()
    }

    #[test]
    fn refusals_name_the_layer_that_decided() {
        let allow_get = policy(serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}]
        }));
        let deny_get = policy(serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Deny", "Action": "iam:GetRole", "Resource": "*"}]
        }));
        let request = Request::new("iam:GetRole", "arn:aws:iam::123456789012:role/web");
        let set = |identity: Vec<PolicyDocument>, boundary: Option<PolicyDocument>| {
            let mut policies = Policies::identity(
                identity
                    .into_iter()
                    .map(|d| NamedPolicy::new(Anywhere, "p", d))
                    .collect(),
            );
            policies.permissions_boundary =
                boundary.map(|d| vec![NamedPolicy::new(Anywhere, "b", d)]);
            PolicySet::compile(policies).unwrap()
        };
        assert!(refusal(Some(&set(vec![allow_get.clone()], None)), &request).is_none());
        assert!(matches!(
            refusal(Some(&set(vec![], None)), &request),
            Some(Refusal::NoIdentityAllows)
        ));
        assert!(matches!(
            refusal(
                Some(&set(vec![allow_get.clone(), deny_get.clone()], None)),
                &request
            ),
            Some(Refusal::ExplicitDeny(Layer::Identity))
        ));
        assert!(matches!(
            refusal(
                Some(&set(vec![allow_get.clone()], Some(deny_get))),
                &request
            ),
            Some(Refusal::ExplicitDeny(Layer::PermissionsBoundary))
        ));
        let other = policy(serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"}]
        }));
        assert!(matches!(
            refusal(Some(&set(vec![allow_get], Some(other))), &request),
            Some(Refusal::NoBoundaryAllows)
        ));
        assert!(matches!(
            refusal(None, &request),
            Some(Refusal::NoIdentityAllows)
        ));
    }
}
