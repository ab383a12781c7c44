//! The account rolecall talks to, as one AWS-shaped trait.
//!
//! The planner and the apply engine see only [`Cloud`]: one method per AWS API
//! operation (inputs and outputs named and shaped as AWS's), plus
//! [`Cloud::snapshot`], which reads everything the planner needs in one pass.
//! A plan step carries a [`Call`]: the operation and its AWS parameters, which
//! is both what the JSON plan prints and what apply invokes.
//!
//! Every operation is declared once, in the table of [`crate::with_operations!`]:
//! the trait methods, [`Call`] and its dispatch, the [`Operation`]
//! descriptors ([`OPERATIONS`], [`operations`]), the emulator's `impl Cloud`
//! and the `rolecall emulator` verbs are generated from it. Lab operations
//! (launching and stopping instances) are not the reconciler's: they are in
//! [`Lab`], which only a backend with a lab offers ([`Cloud::lab`]).
//!
//! Backends: the emulated account (`rolecall_emulator`), later the real AWS API.
//! [`snapshot::from_reads`] reads an account through the trait's read calls
//! alone, for a backend with no snapshot of its own.

/// Declares request/response structs with AWS's PascalCase field names, and
/// records each one's members ([`Shape::FIELDS`]: name, kind, whether
/// required) so code generic over operations (the emulator verbs' flags,
/// later the wire codec) need not list them again. Attributes are taken as
/// tokens so `shape_field!` can read `#[serde(default…)]` and
/// `#[serde(flatten)]`.
macro_rules! shapes {
    ($(
        $(#[$meta:meta])*
        $name:ident { $( $(#[$($fattr:tt)*])* $field:ident : $ty:ty ),* $(,)? }
    )*) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
            #[serde(rename_all = "PascalCase")]
            pub struct $name { $( $(#[$($fattr)*])* pub $field: $ty, )* }

            impl $name {
                /// The members, as AWS names them.
                pub const FIELDS: &'static [$crate::Field] = &[$(
                    $crate::operation::shape_field!([$(#[$($fattr)*])*] $field : $ty),
                )*];
            }

            impl $crate::Shape for $name {
                const NAME: &'static str = stringify!($name);
                const FIELDS: &'static [$crate::Field] = $name::FIELDS;
            }
        )*
    };
}

mod backoff;
pub mod ec2;
mod error;
pub mod iam;
pub mod operation;
pub mod snapshot;
pub mod sts;
pub mod trail;

use serde::{Deserialize, Serialize};

pub use backoff::backoff;
pub use error::{CloudError, ErrorCode};
pub use operation::{Access, Field, FieldType, Kind, Operation, Protocol, Service, Shape};

use rolecall_model::Live;

/// The operation table: every API operation rolecall has, once. Calls
/// `$callback! { [ARGS] ENTRY... }`, where each entry reads
///
/// ```text
/// CreateRole {
///     method: create_role, constant: CREATE_ROLE,
///     input: REQUEST TYPE, output: RESPONSE TYPE,
///     boxed: true,    (optional)
///     service: Iam | Ec2 | Sts, access: Read | Write, lab: false | true,
///     about: "one line of help", example: "arguments of the emulator verb",
/// }
/// ```
///
/// `boxed: true` marks the requests larger than 72 bytes: [`Call`] holds
/// them boxed, so a call is 80 bytes, not the 152 of the largest (a plan of
/// 300,000 resources holds some 800,000 calls, a few of them large).
///
/// and `ARGS` are the tokens after the callback's name, passed through (a
/// callback generating several things can be told which). Names are AWS's
/// (botocore's service models iam/2010-05-08, ec2/2016-11-15 and
/// sts/2011-06-15); types are `$crate` paths, so a callback works in any
/// module. Adding an operation is one entry here plus its body in
/// `emulator::iam`, `emulator::ec2` or `emulator::sts`, a function named as
/// `method`.
#[macro_export]
macro_rules! with_operations {
    ($callback:ident $(, $($arg:tt)*)?) => {
        $callback! {
            [$($($arg)*)?]
            // -- IAM roles
            CreateRole {
                method: create_role, constant: CREATE_ROLE,
                input: $crate::iam::CreateRoleRequest, output: $crate::iam::CreateRoleResponse,
                boxed: true,
                service: Iam, access: Write, lab: false,
                about: "Create a role that the principals in its trust policy may assume",
                example: "--role-name web --assume-role-policy-document file://trust.json",
            }
            GetRole {
                method: get_role, constant: GET_ROLE,
                input: $crate::iam::GetRoleRequest, output: $crate::iam::GetRoleResponse,
                service: Iam, access: Read, lab: false,
                about: "Show a role, with its tags and permissions boundary",
                example: "--role-name web",
            }
            DeleteRole {
                method: delete_role, constant: DELETE_ROLE,
                input: $crate::iam::DeleteRoleRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Delete a role that is in no instance profile and has no policy",
                example: "--role-name web",
            }
            UpdateRole {
                method: update_role, constant: UPDATE_ROLE,
                input: $crate::iam::UpdateRoleRequest, output: $crate::iam::UpdateRoleResponse,
                service: Iam, access: Write, lab: false,
                about: "Change a role's description or maximum session duration",
                example: "--role-name web --max-session-duration 7200 --description web-tier",
            }
            UpdateAssumeRolePolicy {
                method: update_assume_role_policy, constant: UPDATE_ASSUME_ROLE_POLICY,
                input: $crate::iam::UpdateAssumeRolePolicyRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Replace a role's trust policy",
                example: "--role-name web --policy-document file://trust.json",
            }
            PutRolePermissionsBoundary {
                method: put_role_permissions_boundary, constant: PUT_ROLE_PERMISSIONS_BOUNDARY,
                input: $crate::iam::PutRolePermissionsBoundaryRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Set a role's permissions boundary",
                example: "--role-name web --permissions-boundary arn:aws:iam::aws:policy/PowerUserAccess",
            }
            DeleteRolePermissionsBoundary {
                method: delete_role_permissions_boundary, constant: DELETE_ROLE_PERMISSIONS_BOUNDARY,
                input: $crate::iam::DeleteRolePermissionsBoundaryRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Remove a role's permissions boundary",
                example: "--role-name web",
            }
            AttachRolePolicy {
                method: attach_role_policy, constant: ATTACH_ROLE_POLICY,
                input: $crate::iam::AttachRolePolicyRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Attach a managed policy (AWS's or the account's) to a role, 10 at most",
                example: "--role-name web --policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            }
            DetachRolePolicy {
                method: detach_role_policy, constant: DETACH_ROLE_POLICY,
                input: $crate::iam::DetachRolePolicyRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Detach a managed policy from a role",
                example: "--role-name web --policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
            }
            PutRolePolicy {
                method: put_role_policy, constant: PUT_ROLE_POLICY,
                input: $crate::iam::PutRolePolicyRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Add or replace an inline policy of a role",
                example: "--role-name web --policy-name read-assets --policy-document file://read-assets.json",
            }
            GetRolePolicy {
                method: get_role_policy, constant: GET_ROLE_POLICY,
                input: $crate::iam::GetRolePolicyRequest, output: $crate::iam::GetRolePolicyResponse,
                service: Iam, access: Read, lab: false,
                about: "Show an inline policy of a role, URL-encoded as IAM returns it",
                example: "--role-name web --policy-name read-assets",
            }
            DeleteRolePolicy {
                method: delete_role_policy, constant: DELETE_ROLE_POLICY,
                input: $crate::iam::DeleteRolePolicyRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Delete an inline policy of a role",
                example: "--role-name web --policy-name read-assets",
            }
            ListRolePolicies {
                method: list_role_policies, constant: LIST_ROLE_POLICIES,
                input: $crate::iam::ListRolePoliciesRequest, output: $crate::iam::ListRolePoliciesResponse,
                service: Iam, access: Read, lab: false,
                about: "List the names of a role's inline policies",
                example: "--role-name web",
            }
            ListAttachedRolePolicies {
                method: list_attached_role_policies, constant: LIST_ATTACHED_ROLE_POLICIES,
                input: $crate::iam::ListAttachedRolePoliciesRequest, output: $crate::iam::ListAttachedRolePoliciesResponse,
                service: Iam, access: Read, lab: false,
                about: "List the managed policies attached to a role",
                example: "--role-name web",
            }
            ListRoles {
                method: list_roles, constant: LIST_ROLES,
                input: $crate::iam::ListRolesRequest, output: $crate::iam::ListRolesResponse,
                service: Iam, access: Read, lab: false,
                about: "List roles under a path, a page at a time",
                example: "--path-prefix /apps/ --max-items 50",
            }
            TagRole {
                method: tag_role, constant: TAG_ROLE,
                input: $crate::iam::TagRoleRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Add or overwrite tags of a role; keys ignore case",
                example: "--role-name web --tags Key=team,Value=web Key=env,Value=prod",
            }
            UntagRole {
                method: untag_role, constant: UNTAG_ROLE,
                input: $crate::iam::UntagRoleRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Remove tags from a role",
                example: "--role-name web --tag-keys team env",
            }
            ListRoleTags {
                method: list_role_tags, constant: LIST_ROLE_TAGS,
                input: $crate::iam::ListRoleTagsRequest, output: $crate::iam::ListRoleTagsResponse,
                service: Iam, access: Read, lab: false,
                about: "List a role's tags",
                example: "--role-name web",
            }
            // -- IAM instance profiles
            CreateInstanceProfile {
                method: create_instance_profile, constant: CREATE_INSTANCE_PROFILE,
                input: $crate::iam::CreateInstanceProfileRequest, output: $crate::iam::CreateInstanceProfileResponse,
                service: Iam, access: Write, lab: false,
                about: "Create an instance profile, holding no role yet",
                example: "--instance-profile-name web --tags Key=team,Value=web",
            }
            GetInstanceProfile {
                method: get_instance_profile, constant: GET_INSTANCE_PROFILE,
                input: $crate::iam::GetInstanceProfileRequest, output: $crate::iam::GetInstanceProfileResponse,
                service: Iam, access: Read, lab: false,
                about: "Show an instance profile, with its role and tags",
                example: "--instance-profile-name web",
            }
            DeleteInstanceProfile {
                method: delete_instance_profile, constant: DELETE_INSTANCE_PROFILE,
                input: $crate::iam::DeleteInstanceProfileRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Delete an instance profile that holds no role",
                example: "--instance-profile-name web",
            }
            AddRoleToInstanceProfile {
                method: add_role_to_instance_profile, constant: ADD_ROLE_TO_INSTANCE_PROFILE,
                input: $crate::iam::AddRoleToInstanceProfileRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Put a role in an instance profile; one role per profile",
                example: "--instance-profile-name web --role-name web",
            }
            RemoveRoleFromInstanceProfile {
                method: remove_role_from_instance_profile, constant: REMOVE_ROLE_FROM_INSTANCE_PROFILE,
                input: $crate::iam::RemoveRoleFromInstanceProfileRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Take the role out of an instance profile",
                example: "--instance-profile-name web --role-name web",
            }
            ListInstanceProfiles {
                method: list_instance_profiles, constant: LIST_INSTANCE_PROFILES,
                input: $crate::iam::ListInstanceProfilesRequest, output: $crate::iam::ListInstanceProfilesResponse,
                service: Iam, access: Read, lab: false,
                about: "List instance profiles under a path, a page at a time",
                example: "--path-prefix / --max-items 50",
            }
            ListInstanceProfilesForRole {
                method: list_instance_profiles_for_role, constant: LIST_INSTANCE_PROFILES_FOR_ROLE,
                input: $crate::iam::ListInstanceProfilesForRoleRequest, output: $crate::iam::ListInstanceProfilesForRoleResponse,
                service: Iam, access: Read, lab: false,
                about: "List the instance profiles that hold a role",
                example: "--role-name web",
            }
            TagInstanceProfile {
                method: tag_instance_profile, constant: TAG_INSTANCE_PROFILE,
                input: $crate::iam::TagInstanceProfileRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Add or overwrite tags of an instance profile; keys are case-sensitive",
                example: "--instance-profile-name web --tags Key=team,Value=web",
            }
            UntagInstanceProfile {
                method: untag_instance_profile, constant: UNTAG_INSTANCE_PROFILE,
                input: $crate::iam::UntagInstanceProfileRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Remove tags from an instance profile",
                example: "--instance-profile-name web --tag-keys team",
            }
            ListInstanceProfileTags {
                method: list_instance_profile_tags, constant: LIST_INSTANCE_PROFILE_TAGS,
                input: $crate::iam::ListInstanceProfileTagsRequest, output: $crate::iam::ListInstanceProfileTagsResponse,
                service: Iam, access: Read, lab: false,
                about: "List an instance profile's tags",
                example: "--instance-profile-name web",
            }
            // -- IAM customer-managed policies
            CreatePolicy {
                method: create_policy, constant: CREATE_POLICY,
                input: $crate::iam::CreatePolicyRequest, output: $crate::iam::CreatePolicyResponse,
                boxed: true,
                service: Iam, access: Write, lab: false,
                about: "Create a customer-managed policy; its document is version v1, the default",
                example: "--policy-name deploy-tools --path /ops/ --policy-document file://deploy.json",
            }
            GetPolicy {
                method: get_policy, constant: GET_POLICY,
                input: $crate::iam::GetPolicyRequest, output: $crate::iam::GetPolicyResponse,
                service: Iam, access: Read, lab: false,
                about: "Show a managed policy: its default version, attachment count and tags",
                example: "--policy-arn arn:aws:iam::123456789012:policy/ops/deploy-tools",
            }
            DeletePolicy {
                method: delete_policy, constant: DELETE_POLICY,
                input: $crate::iam::DeletePolicyRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Delete a customer-managed policy attached to nothing and with no version but its default",
                example: "--policy-arn arn:aws:iam::123456789012:policy/ops/deploy-tools",
            }
            CreatePolicyVersion {
                method: create_policy_version, constant: CREATE_POLICY_VERSION,
                input: $crate::iam::CreatePolicyVersionRequest, output: $crate::iam::CreatePolicyVersionResponse,
                service: Iam, access: Write, lab: false,
                about: "Add a version to a customer-managed policy, five at most; optionally make it the default",
                example: "--policy-arn arn:aws:iam::123456789012:policy/ops/deploy-tools --policy-document file://deploy.json --set-as-default",
            }
            GetPolicyVersion {
                method: get_policy_version, constant: GET_POLICY_VERSION,
                input: $crate::iam::GetPolicyVersionRequest, output: $crate::iam::GetPolicyVersionResponse,
                service: Iam, access: Read, lab: false,
                about: "Show one version of a managed policy, its document URL-encoded as IAM returns it",
                example: "--policy-arn arn:aws:iam::123456789012:policy/ops/deploy-tools --version-id v1",
            }
            ListPolicyVersions {
                method: list_policy_versions, constant: LIST_POLICY_VERSIONS,
                input: $crate::iam::ListPolicyVersionsRequest, output: $crate::iam::ListPolicyVersionsResponse,
                service: Iam, access: Read, lab: false,
                about: "List the versions of a managed policy, newest first",
                example: "--policy-arn arn:aws:iam::123456789012:policy/ops/deploy-tools",
            }
            DeletePolicyVersion {
                method: delete_policy_version, constant: DELETE_POLICY_VERSION,
                input: $crate::iam::DeletePolicyVersionRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Delete a version of a customer-managed policy that is not its default",
                example: "--policy-arn arn:aws:iam::123456789012:policy/ops/deploy-tools --version-id v1",
            }
            SetDefaultPolicyVersion {
                method: set_default_policy_version, constant: SET_DEFAULT_POLICY_VERSION,
                input: $crate::iam::SetDefaultPolicyVersionRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Make a version of a customer-managed policy the one in effect",
                example: "--policy-arn arn:aws:iam::123456789012:policy/ops/deploy-tools --version-id v2",
            }
            ListPolicies {
                method: list_policies, constant: LIST_POLICIES,
                input: $crate::iam::ListPoliciesRequest, output: $crate::iam::ListPoliciesResponse,
                boxed: true,
                service: Iam, access: Read, lab: false,
                about: "List managed policies (Scope All, AWS or Local), a page at a time",
                example: "--scope Local --only-attached --path-prefix /ops/",
            }
            ListEntitiesForPolicy {
                method: list_entities_for_policy, constant: LIST_ENTITIES_FOR_POLICY,
                input: $crate::iam::ListEntitiesForPolicyRequest, output: $crate::iam::ListEntitiesForPolicyResponse,
                boxed: true,
                service: Iam, access: Read, lab: false,
                about: "List the roles a managed policy is attached to",
                example: "--policy-arn arn:aws:iam::123456789012:policy/ops/deploy-tools",
            }
            TagPolicy {
                method: tag_policy, constant: TAG_POLICY,
                input: $crate::iam::TagPolicyRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Add or overwrite tags of a customer-managed policy",
                example: "--policy-arn arn:aws:iam::123456789012:policy/ops/deploy-tools --tags Key=team,Value=ops",
            }
            UntagPolicy {
                method: untag_policy, constant: UNTAG_POLICY,
                input: $crate::iam::UntagPolicyRequest, output: (),
                service: Iam, access: Write, lab: false,
                about: "Remove tags from a customer-managed policy",
                example: "--policy-arn arn:aws:iam::123456789012:policy/ops/deploy-tools --tag-keys team",
            }
            ListPolicyTags {
                method: list_policy_tags, constant: LIST_POLICY_TAGS,
                input: $crate::iam::ListPolicyTagsRequest, output: $crate::iam::ListPolicyTagsResponse,
                service: Iam, access: Read, lab: false,
                about: "List a customer-managed policy's tags",
                example: "--policy-arn arn:aws:iam::123456789012:policy/ops/deploy-tools",
            }
            // -- IAM account
            GetAccountSummary {
                method: get_account_summary, constant: GET_ACCOUNT_SUMMARY,
                input: $crate::iam::GetAccountSummaryRequest, output: $crate::iam::GetAccountSummaryResponse,
                service: Iam, access: Read, lab: false,
                about: "Count the account's roles and instance profiles, with their quotas",
                example: "--account lab.db",
            }
            GetAccountAuthorizationDetails {
                method: get_account_authorization_details, constant: GET_ACCOUNT_AUTHORIZATION_DETAILS,
                input: $crate::iam::GetAccountAuthorizationDetailsRequest, output: $crate::iam::GetAccountAuthorizationDetailsResponse,
                service: Iam, access: Read, lab: false,
                about: "Show roles with their policies, instance profiles and tags, a page at a time",
                example: "--filter Role --max-items 100",
            }
            // -- EC2 instances
            RunInstances {
                method: run_instances, constant: RUN_INSTANCES,
                input: $crate::ec2::RunInstancesRequest, output: $crate::ec2::RunInstancesResponse,
                boxed: true,
                service: Ec2, access: Write, lab: true,
                about: "Launch running instances tagged with a Name; emulator only, rolecall never launches on AWS",
                example: "--name web-1 --count 2 --iam-instance-profile Name=web",
            }
            TerminateInstances {
                method: terminate_instances, constant: TERMINATE_INSTANCES,
                input: $crate::ec2::TerminateInstancesRequest, output: $crate::ec2::TerminateInstancesResponse,
                service: Ec2, access: Write, lab: true,
                about: "Terminate instances; their associations end",
                example: "--instance-ids i-0123456789abcdef0",
            }
            StopInstances {
                method: stop_instances, constant: STOP_INSTANCES,
                input: $crate::ec2::StopInstancesRequest, output: $crate::ec2::StopInstancesResponse,
                service: Ec2, access: Write, lab: true,
                about: "Stop instances; their associations stay",
                example: "--instance-ids i-0123456789abcdef0",
            }
            StartInstances {
                method: start_instances, constant: START_INSTANCES,
                input: $crate::ec2::StartInstancesRequest, output: $crate::ec2::StartInstancesResponse,
                service: Ec2, access: Write, lab: true,
                about: "Start stopped instances",
                example: "--instance-ids i-0123456789abcdef0",
            }
            DescribeInstances {
                method: describe_instances, constant: DESCRIBE_INSTANCES,
                input: $crate::ec2::DescribeInstancesRequest, output: $crate::ec2::DescribeInstancesResponse,
                boxed: true,
                service: Ec2, access: Read, lab: false,
                about: "Show instances, filtered, a page at a time",
                example: "--filters Name=tag:Name,Values=web-1",
            }
            CreateTags {
                method: create_tags, constant: CREATE_TAGS,
                input: $crate::ec2::CreateTagsRequest, output: (),
                service: Ec2, access: Write, lab: false,
                about: "Add or overwrite tags of instances, 50 at most per instance",
                example: "--resources i-0123456789abcdef0 --tags Key=env,Value=prod",
            }
            DeleteTags {
                method: delete_tags, constant: DELETE_TAGS,
                input: $crate::ec2::DeleteTagsRequest, output: (),
                service: Ec2, access: Write, lab: false,
                about: "Remove tags from instances",
                example: "--resources i-0123456789abcdef0 --tags Key=env",
            }
            // -- EC2 instance-profile associations
            AssociateIamInstanceProfile {
                method: associate_iam_instance_profile, constant: ASSOCIATE_IAM_INSTANCE_PROFILE,
                input: $crate::ec2::AssociateIamInstanceProfileRequest, output: $crate::ec2::AssociateIamInstanceProfileResponse,
                service: Ec2, access: Write, lab: false,
                about: "Give an instance that has none an instance profile",
                example: "--instance-id i-0123456789abcdef0 --iam-instance-profile Name=web",
            }
            DisassociateIamInstanceProfile {
                method: disassociate_iam_instance_profile, constant: DISASSOCIATE_IAM_INSTANCE_PROFILE,
                input: $crate::ec2::DisassociateIamInstanceProfileRequest, output: $crate::ec2::DisassociateIamInstanceProfileResponse,
                service: Ec2, access: Write, lab: false,
                about: "Take an instance profile away from its instance",
                example: "--association-id iip-assoc-0123456789abcdef0",
            }
            ReplaceIamInstanceProfileAssociation {
                method: replace_iam_instance_profile_association, constant: REPLACE_IAM_INSTANCE_PROFILE_ASSOCIATION,
                input: $crate::ec2::ReplaceIamInstanceProfileAssociationRequest, output: $crate::ec2::ReplaceIamInstanceProfileAssociationResponse,
                service: Ec2, access: Write, lab: false,
                about: "Switch a running instance to another instance profile without a gap",
                example: "--association-id iip-assoc-0123456789abcdef0 --iam-instance-profile Name=api",
            }
            DescribeIamInstanceProfileAssociations {
                method: describe_iam_instance_profile_associations, constant: DESCRIBE_IAM_INSTANCE_PROFILE_ASSOCIATIONS,
                input: $crate::ec2::DescribeIamInstanceProfileAssociationsRequest, output: $crate::ec2::DescribeIamInstanceProfileAssociationsResponse,
                boxed: true,
                service: Ec2, access: Read, lab: false,
                about: "Show instance-profile associations, filtered, a page at a time",
                example: "--filters Name=instance-id,Values=i-0123456789abcdef0",
            }
            // -- STS
            AssumeRole {
                method: assume_role, constant: ASSUME_ROLE,
                input: $crate::sts::AssumeRoleRequest, output: $crate::sts::AssumeRoleResponse,
                boxed: true,
                service: Sts, access: Write, lab: false,
                about: "Start a session of a role whose trust policy trusts the caller: temporary credentials",
                example: "--role-arn arn:aws:iam::123456789012:role/web --role-session-name deploy",
            }
            GetCallerIdentity {
                method: get_caller_identity, constant: GET_CALLER_IDENTITY,
                input: $crate::sts::GetCallerIdentityRequest, output: $crate::sts::GetCallerIdentityResponse,
                service: Sts, access: Read, lab: false,
                about: "Show who is calling: the account id and the caller's ARN",
                example: "--account lab.db",
            }
        }
    };
}

/// Generates, from the operation table, the [`Cloud`] and [`Lab`] traits,
/// [`Call`] and its dispatch, and the [`Operation`] descriptors, so they can
/// never disagree.
macro_rules! define_cloud {
    ([] $(
        $op:ident {
            method: $method:ident, constant: $constant:ident,
            input: $input:ty, output: $output:ty, $(boxed: $boxed:tt,)?
            service: $service:ident, access: $access:ident, lab: $lab:tt,
            about: $about:literal, example: $example:literal $(,)?
        }
    )*) => {
        /// An AWS account: one method per API operation the reconciler uses.
        ///
        /// Methods take `&self`: apply may run independent calls concurrently.
        pub trait Cloud: Send + Sync {
            /// Reads everything the planner needs in one pass. The emulator
            /// reads it in one transaction; a backend without one builds it
            /// from read calls of this trait ([`snapshot::from_reads`]: the
            /// List, Get and Describe operations and
            /// GetAccountAuthorizationDetails, paginated).
            fn snapshot(&self) -> Result<Live, CloudError>;

            /// Reads what a plan of the stack in `scope` needs: every role
            /// and profile, and of the instances only those the stack
            /// concerns. A backend where reading every instance costs
            /// nothing worth saving (the emulator) reads them all.
            fn snapshot_within(&self, scope: &snapshot::Scope) -> Result<Live, CloudError> {
                let _ = scope;
                self.snapshot()
            }

            /// The account's lab, if it has one (an emulated account): what
            /// launches and stops instances. A plan launches declared
            /// instances that do not exist only on an account with a lab;
            /// rolecall never launches on AWS.
            fn lab(&self) -> Option<&dyn Lab> {
                None
            }

            /// The account's audit trail, if it keeps one (an emulated
            /// account does; on AWS, CloudTrail is outside rolecall).
            fn trail(&self) -> Option<&dyn $crate::trail::Trail> {
                None
            }

            /// Makes independent calls (none needs another's effect) and returns
            /// their results in order. Each call is atomic on its own, and every
            /// call's effect is durable when this returns. Apply sends each wave
            /// of ready steps here: a backend may run them concurrently, or
            /// commit them together (group commit). Default: one after another.
            fn invoke_batch(&self, calls: &[&Call]) -> Vec<Result<serde_json::Value, CloudError>> {
                calls.iter().map(|call| call.invoke(self)).collect()
            }

            $( cloud_item!(trait Cloud, $lab, $about, $method, $input, $output); )*
        }

        /// Lab operations: instances launched, stopped, started and
        /// terminated, which only an account built for labs offers (see
        /// [`Cloud::lab`]).
        pub trait Lab: Send + Sync {
            $( cloud_item!(trait Lab, $lab, $about, $method, $input, $output); )*
        }

        /// Lab operations on any account, through [`Cloud::lab`]: an account
        /// with no lab answers [`ErrorCode::UnsupportedOperation`].
        impl dyn Cloud + '_ {
            $( cloud_item!(dyn Cloud, $lab, $about, $method, $input, $output, $constant); )*
        }

        /// One API call with its parameters, as a plan step carries it
        /// (`{"operation": "CreateRole", "params": {"RoleName": ...}}`).
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "operation", content = "params")]
        pub enum Call {
            $( $op(held!($input $(, $boxed)?)), )*
        }

        impl Call {
            /// AWS's name of the operation.
            pub fn operation(&self) -> &'static str {
                self.descriptor().name
            }

            /// Writes the call's parameters alone (the `params` of its JSON
            /// form), with no JSON tree built in between: a plan of 100,000
            /// resources writes 800,000 of them.
            pub fn serialize_params<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Call::$op(input) => serde::Serialize::serialize(input, serializer), )*
                }
            }

            /// What the table says about the operation.
            pub fn descriptor(&self) -> &'static Operation {
                match self {
                    $( Call::$op(_) => &operations::$constant, )*
                }
            }

            /// Makes the call; the response comes back as AWS-shaped JSON. A
            /// lab call on an account with no lab fails with
            /// [`ErrorCode::UnsupportedOperation`].
            pub fn invoke<C: Cloud + ?Sized>(&self, cloud: &C) -> Result<serde_json::Value, CloudError> {
                match self {
                    $( Call::$op(input) => cloud_item!(invoke, $lab, cloud, $method, input, $constant), )*
                }
            }
        }

        /// One [`Operation`] constant per operation, named after its method.
        pub mod operations {
            use super::{Access, Operation, Service};

            $(
                #[doc = $about]
                pub const $constant: Operation = Operation {
                    name: stringify!($op),
                    verb: $crate::operation::const_case!(Kebab, stringify!($op)),
                    service: Service::$service,
                    access: Access::$access,
                    lab: $lab,
                    about: $about,
                    example: $example,
                    fields: <$input>::FIELDS,
                    input_shape: <$input as $crate::Shape>::NAME,
                    output_fields: <$output as $crate::Shape>::FIELDS,
                    output_shape: <$output as $crate::Shape>::NAME,
                };
            )*
        }

        /// Every operation, in the table's order.
        pub const OPERATIONS: &[Operation] = &[$( operations::$constant, )*];
    };
}

/// How [`Call`] holds a request: in place, or boxed when the table marks it.
macro_rules! held {
    ($input:ty) => { $input };
    ($input:ty, true) => { Box<$input> };
}

/// One operation's piece of what `define_cloud!` generates, kept or dropped
/// by its `lab` flag: reconciler operations go to `Cloud`, lab ones to `Lab`.
macro_rules! cloud_item {
    (trait Cloud, false, $about:literal, $method:ident, $input:ty, $output:ty) => {
        #[doc = $about]
        fn $method(&self, input: &$input) -> Result<$output, CloudError>;
    };
    (trait Lab, true, $about:literal, $method:ident, $input:ty, $output:ty) => {
        #[doc = $about]
        fn $method(&self, input: &$input) -> Result<$output, CloudError>;
    };
    (trait $trait:ident, $lab:tt, $about:literal, $method:ident, $input:ty, $output:ty) => {};
    (dyn Cloud, true, $about:literal, $method:ident, $input:ty, $output:ty, $constant:ident) => {
        #[doc = $about]
        pub fn $method(&self, input: &$input) -> Result<$output, CloudError> {
            match self.lab() {
                Some(lab) => lab.$method(input),
                None => Err(no_lab(&operations::$constant)),
            }
        }
    };
    (dyn Cloud, false, $($rest:tt)*) => {};
    (invoke, false, $cloud:ident, $method:ident, $input:ident, $constant:ident) => {
        $cloud.$method($input).map(|out| response_json(&out))
    };
    (invoke, true, $cloud:ident, $method:ident, $input:ident, $constant:ident) => {
        match $cloud.lab() {
            Some(lab) => lab.$method($input).map(|out| response_json(&out)),
            None => Err(no_lab(&operations::$constant)),
        }
    };
}

with_operations!(define_cloud);

// A large plan holds some 800,000 calls: a request over 72 bytes is marked
// `boxed` in the table, not held in place.
const _: () = assert!(std::mem::size_of::<Call>() <= 80);

/// The error of a lab operation on an account with no lab.
fn no_lab(operation: &Operation) -> CloudError {
    CloudError::new(
        operation.name,
        ErrorCode::UnsupportedOperation,
        format!(
            "{} is a lab operation: only an emulated account runs it, rolecall never does on AWS",
            operation.name
        ),
    )
}

fn response_json<T: Serialize>(out: &T) -> serde_json::Value {
    // Serialising our own plain structs cannot fail; `Null` keeps the signature honest.
    serde_json::to_value(out).unwrap_or(serde_json::Value::Null)
}
