//! The account rolecall talks to, as one AWS-shaped trait.
//!
//! The planner and the apply engine see only [`Cloud`]: one method per AWS API
//! operation (inputs and outputs named and shaped as AWS's), plus
//! [`Cloud::snapshot`], which reads everything the planner needs in one pass.
//! A plan step carries a [`Call`]: the operation and its AWS parameters, which
//! is both what the JSON plan prints and what apply invokes.
//!
//! Backends: the emulated account (`crate::emulator`), later the real AWS API.

/// Declares request/response structs with AWS's PascalCase field names.
macro_rules! shapes {
    ($( $(#[$meta:meta])* $name:ident { $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)? } )*) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
            #[serde(rename_all = "PascalCase")]
            pub struct $name { $( $(#[$fmeta])* pub $field: $ty, )* }
        )*
    };
}

pub mod ec2;
mod error;
pub mod iam;

use serde::{Deserialize, Serialize};

pub use error::{CloudError, ErrorCode};

use crate::model::Live;
use ec2::*;
use iam::*;

/// Generates, from one list, the trait methods, the [`Call`] enum and its dispatch,
/// so the three can never disagree.
macro_rules! operations {
    ($( $op:ident => $method:ident($req:ty) -> $resp:ty; )*) => {
        /// An AWS account: one method per API operation rolecall uses.
        ///
        /// Methods take `&self`: apply may run independent calls concurrently.
        pub trait Cloud: Send + Sync {
            /// Reads everything the planner needs in one consistent pass
            /// (on AWS: GetAccountAuthorizationDetails, DescribeInstances and
            /// DescribeIamInstanceProfileAssociations, paginated).
            fn snapshot(&self) -> Result<Live, CloudError>;

            /// Whether the plan may launch a declared instance that does not exist
            /// (true only for an emulated account: rolecall never launches on AWS).
            fn launches_declared_instances(&self) -> bool {
                false
            }

            /// Makes independent calls (none needs another's effect) and returns
            /// their results in order. Each call is atomic on its own, and every
            /// call's effect is durable when this returns. Apply sends each wave
            /// of ready steps here: a backend may run them concurrently, or
            /// commit them together (group commit). Default: one after another.
            fn invoke_batch(&self, calls: &[&Call]) -> Vec<Result<serde_json::Value, CloudError>> {
                calls.iter().map(|call| call.invoke(self)).collect()
            }

            $( fn $method(&self, input: &$req) -> Result<$resp, CloudError>; )*
        }

        /// One API call with its parameters, as a plan step carries it
        /// (`{"operation": "CreateRole", "params": {"RoleName": ...}}`).
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "operation", content = "params")]
        pub enum Call {
            $( $op($req), )*
        }

        impl Call {
            /// AWS's name of the operation.
            pub fn operation(&self) -> &'static str {
                match self {
                    $( Call::$op(_) => stringify!($op), )*
                }
            }

            /// Makes the call; the response comes back as AWS-shaped JSON.
            pub fn invoke<C: Cloud + ?Sized>(&self, cloud: &C) -> Result<serde_json::Value, CloudError> {
                match self {
                    $( Call::$op(input) => cloud.$method(input).map(|out| response_json(&out)), )*
                }
            }
        }

        /// Every operation's AWS name, in declaration order.
        pub const OPERATIONS: &[&str] = &[$( stringify!($op), )*];
    };
}

operations! {
    // IAM roles
    CreateRole => create_role(CreateRoleRequest) -> CreateRoleResponse;
    GetRole => get_role(GetRoleRequest) -> GetRoleResponse;
    DeleteRole => delete_role(DeleteRoleRequest) -> ();
    UpdateRole => update_role(UpdateRoleRequest) -> ();
    UpdateAssumeRolePolicy => update_assume_role_policy(UpdateAssumeRolePolicyRequest) -> ();
    PutRolePermissionsBoundary => put_role_permissions_boundary(PutRolePermissionsBoundaryRequest) -> ();
    DeleteRolePermissionsBoundary => delete_role_permissions_boundary(DeleteRolePermissionsBoundaryRequest) -> ();
    AttachRolePolicy => attach_role_policy(AttachRolePolicyRequest) -> ();
    DetachRolePolicy => detach_role_policy(DetachRolePolicyRequest) -> ();
    PutRolePolicy => put_role_policy(PutRolePolicyRequest) -> ();
    GetRolePolicy => get_role_policy(GetRolePolicyRequest) -> GetRolePolicyResponse;
    DeleteRolePolicy => delete_role_policy(DeleteRolePolicyRequest) -> ();
    ListRolePolicies => list_role_policies(ListRolePoliciesRequest) -> ListRolePoliciesResponse;
    ListAttachedRolePolicies => list_attached_role_policies(ListAttachedRolePoliciesRequest) -> ListAttachedRolePoliciesResponse;
    ListRoles => list_roles(ListRolesRequest) -> ListRolesResponse;
    TagRole => tag_role(TagRoleRequest) -> ();
    UntagRole => untag_role(UntagRoleRequest) -> ();
    ListRoleTags => list_role_tags(ListRoleTagsRequest) -> ListRoleTagsResponse;
    // IAM instance profiles
    CreateInstanceProfile => create_instance_profile(CreateInstanceProfileRequest) -> CreateInstanceProfileResponse;
    GetInstanceProfile => get_instance_profile(GetInstanceProfileRequest) -> GetInstanceProfileResponse;
    DeleteInstanceProfile => delete_instance_profile(DeleteInstanceProfileRequest) -> ();
    AddRoleToInstanceProfile => add_role_to_instance_profile(AddRoleToInstanceProfileRequest) -> ();
    RemoveRoleFromInstanceProfile => remove_role_from_instance_profile(RemoveRoleFromInstanceProfileRequest) -> ();
    ListInstanceProfiles => list_instance_profiles(ListInstanceProfilesRequest) -> ListInstanceProfilesResponse;
    ListInstanceProfilesForRole => list_instance_profiles_for_role(ListInstanceProfilesForRoleRequest) -> ListInstanceProfilesForRoleResponse;
    TagInstanceProfile => tag_instance_profile(TagInstanceProfileRequest) -> ();
    UntagInstanceProfile => untag_instance_profile(UntagInstanceProfileRequest) -> ();
    ListInstanceProfileTags => list_instance_profile_tags(ListInstanceProfileTagsRequest) -> ListInstanceProfileTagsResponse;
    // EC2 instances
    RunInstances => run_instances(RunInstancesRequest) -> RunInstancesResponse;
    TerminateInstances => terminate_instances(TerminateInstancesRequest) -> TerminateInstancesResponse;
    StopInstances => stop_instances(StopInstancesRequest) -> StopInstancesResponse;
    StartInstances => start_instances(StartInstancesRequest) -> StartInstancesResponse;
    DescribeInstances => describe_instances(DescribeInstancesRequest) -> DescribeInstancesResponse;
    CreateTags => create_tags(CreateTagsRequest) -> ();
    DeleteTags => delete_tags(DeleteTagsRequest) -> ();
    // EC2 instance-profile associations
    AssociateIamInstanceProfile => associate_iam_instance_profile(AssociateIamInstanceProfileRequest) -> AssociateIamInstanceProfileResponse;
    DisassociateIamInstanceProfile => disassociate_iam_instance_profile(DisassociateIamInstanceProfileRequest) -> DisassociateIamInstanceProfileResponse;
    ReplaceIamInstanceProfileAssociation => replace_iam_instance_profile_association(ReplaceIamInstanceProfileAssociationRequest) -> ReplaceIamInstanceProfileAssociationResponse;
    DescribeIamInstanceProfileAssociations => describe_iam_instance_profile_associations(DescribeIamInstanceProfileAssociationsRequest) -> DescribeIamInstanceProfileAssociationsResponse;
}

/// Operations that exist only to build and tear down labs on an emulated
/// account; plans mark their steps as emulator-only.
pub const EMULATOR_ONLY_OPERATIONS: &[&str] = &["RunInstances", "TerminateInstances"];

fn response_json<T: Serialize>(out: &T) -> serde_json::Value {
    // Serialising our own plain structs cannot fail; `Null` keeps the signature honest.
    serde_json::to_value(out).unwrap_or(serde_json::Value::Null)
}
