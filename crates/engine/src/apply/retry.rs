//! Which failures are worth retrying, and how long to wait.
//!
//! Transient codes (throttling, service failures) say so themselves. The
//! eventual-consistency cases of docs/aws-semantics.md §8 do not: a profile
//! just created is "invalid" to EC2 until IAM propagates it, a role just
//! created may be "not found" by AddRoleToInstanceProfile. The plan created
//! those things in earlier steps, so here such errors mean "not yet".

use rolecall_cloud::{Call, CloudError, ErrorCode};

/// Whether `error` from `call` may go away if the same call is made later.
/// `after` holds the calls of the steps it waited for: some errors mean
/// "not yet" only when this plan itself just made what the call needs.
pub fn is_retryable(call: &Call, error: &CloudError, after: &[&Call]) -> bool {
    let after_any = |wanted: fn(&Call) -> bool| after.iter().any(|c| wanted(c));
    if error.retryable {
        return true;
    }
    match (call, &error.code) {
        (
            Call::AssociateIamInstanceProfile(_)
            | Call::ReplaceIamInstanceProfileAssociation(_)
            | Call::RunInstances(_),
            ErrorCode::InvalidParameterValue,
        ) => {
            error.message.contains("Invalid IAM Instance Profile")
                || error.message.contains("has no associated IAM Roles")
        }
        // The plan freed the instance just before; its old association may
        // still be `disassociating`. Any other existing association is for
        // good: retrying would only wait out the timeout.
        (Call::AssociateIamInstanceProfile(_), ErrorCode::IncorrectState) => {
            after_any(|c| matches!(c, Call::DisassociateIamInstanceProfile(_)))
        }
        (Call::AddRoleToInstanceProfile(_), ErrorCode::NoSuchEntity) => {
            error.message.starts_with("The role with name")
        }
        // A customer-managed policy created by a step just before, not yet
        // visible where it is attached or set as a boundary. Without such a
        // step the policy is missing for good.
        (
            Call::AttachRolePolicy(_) | Call::PutRolePermissionsBoundary(_) | Call::CreateRole(_),
            ErrorCode::NoSuchEntity,
        ) => after_any(|c| matches!(c, Call::CreatePolicy(_))),
        // The detaches and version deletes it waited for, not yet seen by
        // the delete (Terraform retries DeleteRole's DeleteConflict alike).
        (Call::DeletePolicy(_), ErrorCode::DeleteConflict) => after_any(|c| {
            matches!(
                c,
                Call::DetachRolePolicy(_)
                    | Call::DeletePolicyVersion(_)
                    | Call::DeleteRolePermissionsBoundary(_)
                    | Call::PutRolePermissionsBoundary(_)
                    | Call::DeleteRole(_)
            )
        }),
        // The old policy of the same name, deleted just before (a
        // replacement), not yet gone everywhere.
        (Call::CreatePolicy(_), ErrorCode::EntityAlreadyExists) => {
            after_any(|c| matches!(c, Call::DeletePolicy(_)))
        }
        // A role the trust names, created by a step just before, not yet
        // visible to IAM's policy check (Terraform retries this too). With
        // no such step (a typo, a role trusting itself, two trusting each
        // other) waiting cannot help.
        (
            Call::CreateRole(_) | Call::UpdateAssumeRolePolicy(_),
            ErrorCode::MalformedPolicyDocument,
        ) => {
            error
                .message
                .starts_with("Invalid principal in policy: \"AWS\"")
                && after_any(|c| matches!(c, Call::CreateRole(_)))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rolecall_cloud::ec2::AssociateIamInstanceProfileRequest;

    #[test]
    fn propagation_errors_are_retryable() {
        let call = Call::AssociateIamInstanceProfile(AssociateIamInstanceProfileRequest::default());
        let not_yet = CloudError::new(
            "AssociateIamInstanceProfile",
            ErrorCode::InvalidParameterValue,
            "Value (web) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
        );
        assert!(is_retryable(&call, &not_yet, &[]));
        let other = CloudError::new(
            "AssociateIamInstanceProfile",
            ErrorCode::InvalidParameterValue,
            "bad",
        );
        assert!(!is_retryable(&call, &other, &[]));
    }

    #[test]
    fn an_existing_association_is_retried_only_after_our_own_disassociate() {
        let call = Call::AssociateIamInstanceProfile(AssociateIamInstanceProfileRequest::default());
        let existing = CloudError::new(
            "AssociateIamInstanceProfile",
            ErrorCode::IncorrectState,
            "There is an existing association for instance i-0123456789abcdef0",
        );
        let disassociate = Call::DisassociateIamInstanceProfile(Default::default());
        assert!(is_retryable(&call, &existing, &[&disassociate]));
        assert!(!is_retryable(&call, &existing, &[]));
    }

    #[test]
    fn a_missing_policy_is_retried_only_after_creating_one() {
        let call = Call::AttachRolePolicy(Default::default());
        let missing = CloudError::new(
            "AttachRolePolicy",
            ErrorCode::NoSuchEntity,
            "Policy arn:aws:iam::123456789012:policy/p does not exist or is not attachable.",
        );
        let created = Call::CreatePolicy(Default::default());
        assert!(is_retryable(&call, &missing, &[&created]));
        assert!(!is_retryable(&call, &missing, &[]), "a typo never appears");
        let delete = Call::DeletePolicy(Default::default());
        let attached = CloudError::new(
            "DeletePolicy",
            ErrorCode::DeleteConflict,
            "Cannot delete a policy attached to entities.",
        );
        let detached = Call::DetachRolePolicy(Default::default());
        assert!(is_retryable(&delete, &attached, &[&detached]));
        assert!(!is_retryable(&delete, &attached, &[]));
    }

    #[test]
    fn an_invalid_principal_is_retried_only_after_creating_a_role() {
        let call = Call::CreateRole(Default::default());
        let missing = CloudError::new(
            "CreateRole",
            ErrorCode::MalformedPolicyDocument,
            "Invalid principal in policy: \"AWS\":\"arn:aws:iam::123456789012:role/z\"",
        );
        let created = Call::CreateRole(Default::default());
        assert!(is_retryable(&call, &missing, &[&created]));
        assert!(!is_retryable(&call, &missing, &[]), "a typo never appears");
    }
}
