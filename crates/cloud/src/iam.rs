//! IAM request and response shapes, named and serialised as AWS names them
//! (PascalCase), so a plan's `params` read like the API reference.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

shapes! {
    /// One tag, as IAM and EC2 exchange them. Its key and value are shared:
    /// a plan's requests repeat the same few tags on every resource.
    #[derive(PartialOrd, Ord, Hash)]
    Tag {
        key: Arc<str>,
        value: Arc<str>,
    }

    AttachedPermissionsBoundary {
        /// Always `Policy` (the only type AWS has).
        permissions_boundary_type: String,
        permissions_boundary_arn: String,
    }

    /// A role as IAM returns it (`AssumeRolePolicyDocument` URL-encoded, as AWS does).
    Role {
        path: String,
        role_name: String,
        role_id: String,
        arn: String,
        create_date: String,
        // Optional in botocore (ListRoles has them, as GetRole does).
        #[serde(default)] assume_role_policy_document: String,
        #[serde(default, skip_serializing_if = "Option::is_none")] description: Option<String>,
        #[serde(default)] max_session_duration: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")] permissions_boundary: Option<AttachedPermissionsBoundary>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")] tags: Vec<Tag>,
    }

    InstanceProfile {
        path: String,
        instance_profile_name: String,
        instance_profile_id: String,
        arn: String,
        create_date: String,
        roles: Vec<Role>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")] tags: Vec<Tag>,
    }

    AttachedPolicy {
        policy_name: String,
        policy_arn: String,
    }

    /// Pagination input shared by the List operations.
    Page {
        #[serde(default, skip_serializing_if = "Option::is_none")] marker: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")] max_items: Option<u32>,
    }
}

impl Tag {
    pub fn new(key: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        Tag {
            key: key.as_ref().into(),
            value: value.as_ref().into(),
        }
    }
}

shapes! {
    CreateRoleRequest {
        role_name: String,
        /// Shared with the plan's document (see `Tag`).
        assume_role_policy_document: Arc<str>,
        #[serde(default, skip_serializing_if = "Option::is_none")] path: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")] description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")] max_session_duration: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")] permissions_boundary: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")] tags: Vec<Tag>,
    }
    RoleNameRequest { role_name: String }
    UpdateRoleRequest {
        role_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")] description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")] max_session_duration: Option<u32>,
    }
    UpdateAssumeRolePolicyRequest { role_name: String, policy_document: String }
    PutRolePermissionsBoundaryRequest { role_name: String, permissions_boundary: String }
    RolePolicyArnRequest { role_name: String, policy_arn: String }
    PutRolePolicyRequest { role_name: String, policy_name: String, policy_document: Arc<str> }
    RolePolicyNameRequest { role_name: String, policy_name: String }
    GetRolePolicyResponse { role_name: String, policy_name: String, policy_document: String }
    ListForRoleRequest {
        role_name: String,
        #[serde(flatten)] page: Page,
    }
    ListRolePoliciesResponse {
        policy_names: Vec<String>,
        // Optional in botocore; moto leaves it out.
        #[serde(default)] is_truncated: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")] marker: Option<String>,
    }
    ListAttachedRolePoliciesResponse {
        #[serde(default)] attached_policies: Vec<AttachedPolicy>,
        // Optional in botocore; moto leaves it out.
        #[serde(default)] is_truncated: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")] marker: Option<String>,
    }
    ListByPathRequest {
        #[serde(default, skip_serializing_if = "Option::is_none")] path_prefix: Option<String>,
        #[serde(flatten)] page: Page,
    }
    ListRolesResponse {
        roles: Vec<Role>,
        // Optional in botocore; moto leaves it out.
        #[serde(default)] is_truncated: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")] marker: Option<String>,
    }
    TagRoleRequest { role_name: String, tags: Vec<Tag> }
    UntagRoleRequest { role_name: String, tag_keys: Vec<String> }
    ListTagsResponse {
        tags: Vec<Tag>,
        // Optional in botocore; moto leaves it out.
        #[serde(default)] is_truncated: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")] marker: Option<String>,
    }
    CreateInstanceProfileRequest {
        instance_profile_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")] path: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")] tags: Vec<Tag>,
    }
    InstanceProfileNameRequest { instance_profile_name: String }
    ListInstanceProfileTagsRequest {
        instance_profile_name: String,
        #[serde(flatten)] page: Page,
    }
    InstanceProfileRoleRequest { instance_profile_name: String, role_name: String }
    ListInstanceProfilesResponse {
        instance_profiles: Vec<InstanceProfile>,
        // Optional in botocore; moto leaves it out.
        #[serde(default)] is_truncated: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")] marker: Option<String>,
    }
    TagInstanceProfileRequest { instance_profile_name: String, tags: Vec<Tag> }
    UntagInstanceProfileRequest { instance_profile_name: String, tag_keys: Vec<String> }
}

shapes! {
    /// GetAccountSummary takes no parameters.
    GetAccountSummaryRequest {}

    /// What GetAccountSummary counts, for roles and instance profiles. AWS
    /// models `SummaryMap` as a map from `summaryKeyType` to an integer (on
    /// the wire, `SummaryMap.entry.N.key/value`); these members are the keys
    /// rolecall reads, named as AWS names them, so its JSON form is the
    /// map's. AWS returns more keys (users, groups, MFA...): reading them
    /// ignores what rolecall does not use, and any key may be absent.
    SummaryMap {
        #[serde(default, skip_serializing_if = "Option::is_none")] roles: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")] roles_quota: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")] instance_profiles: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")] instance_profiles_quota: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")] attached_policies_per_role_quota: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")] role_policy_size_quota: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")] assume_role_policy_size_quota: Option<u32>,
        /// Customer-managed policies the account holds.
        #[serde(default, skip_serializing_if = "Option::is_none")] policies: Option<u32>,
    }

    GetAccountSummaryResponse { summary_map: SummaryMap }

    /// UpdateRole answers an empty structure, not nothing: botocore's model
    /// gives it an output shape with a result wrapper, and its parser fails
    /// on a response without `<UpdateRoleResult>` (the other writes here
    /// have no output at all).
    UpdateRoleResponse {}

    RoleResponse { role: Role }
    InstanceProfileResponse { instance_profile: InstanceProfile }

    /// GetAccountAuthorizationDetails: `Filter` names the entity types
    /// wanted (rolecall asks for `Role`; none means all).
    GetAccountAuthorizationDetailsRequest {
        #[serde(default, skip_serializing_if = "Vec::is_empty")] filter: Vec<String>,
        #[serde(flatten)] page: Page,
    }

    /// An inline policy in a role's details (the document URL-encoded).
    PolicyDetail {
        policy_name: String,
        policy_document: String,
    }

    /// A role with everything attached to it, as GetAccountAuthorizationDetails
    /// returns it. Neither description nor maximum session duration: ListRoles
    /// has those.
    RoleDetail {
        path: String,
        role_name: String,
        role_id: String,
        arn: String,
        create_date: String,
        #[serde(default)] assume_role_policy_document: String,
        #[serde(default)] instance_profile_list: Vec<InstanceProfile>,
        #[serde(default)] role_policy_list: Vec<PolicyDetail>,
        #[serde(default)] attached_managed_policies: Vec<AttachedPolicy>,
        #[serde(default, skip_serializing_if = "Option::is_none")] permissions_boundary: Option<AttachedPermissionsBoundary>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")] tags: Vec<Tag>,
    }

    /// Users and groups are not rolecall's: only roles and customer-managed
    /// policies are read (AWS sends each only when `Filter` asks, or with no
    /// `Filter` at all).
    GetAccountAuthorizationDetailsResponse {
        #[serde(default)] role_detail_list: Vec<RoleDetail>,
        /// Customer-managed policies, when `Filter` asks for `LocalManagedPolicy`.
        #[serde(default)] policies: Vec<ManagedPolicyDetail>,
        // Optional in botocore; moto leaves it out.
        #[serde(default)] is_truncated: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")] marker: Option<String>,
    }
}

// AWS names every operation's input and output; these aliases keep those names
// while operations with the same shape share one struct.
pub type CreateRoleResponse = RoleResponse;
pub type GetRoleRequest = RoleNameRequest;
pub type GetRoleResponse = RoleResponse;
pub type DeleteRoleRequest = RoleNameRequest;
pub type DeleteRolePermissionsBoundaryRequest = RoleNameRequest;
pub type AttachRolePolicyRequest = RolePolicyArnRequest;
pub type DetachRolePolicyRequest = RolePolicyArnRequest;
pub type GetRolePolicyRequest = RolePolicyNameRequest;
pub type DeleteRolePolicyRequest = RolePolicyNameRequest;
pub type ListRolePoliciesRequest = ListForRoleRequest;
pub type ListAttachedRolePoliciesRequest = ListForRoleRequest;
pub type ListRoleTagsRequest = ListForRoleRequest;
pub type ListInstanceProfilesForRoleRequest = ListForRoleRequest;
pub type ListRolesRequest = ListByPathRequest;
pub type ListInstanceProfilesRequest = ListByPathRequest;
pub type ListRoleTagsResponse = ListTagsResponse;
pub type ListInstanceProfileTagsResponse = ListTagsResponse;
pub type ListInstanceProfilesForRoleResponse = ListInstanceProfilesResponse;
pub type CreateInstanceProfileResponse = InstanceProfileResponse;
pub type GetInstanceProfileRequest = InstanceProfileNameRequest;
pub type GetInstanceProfileResponse = InstanceProfileResponse;
pub type DeleteInstanceProfileRequest = InstanceProfileNameRequest;
pub type AddRoleToInstanceProfileRequest = InstanceProfileRoleRequest;
pub type RemoveRoleFromInstanceProfileRequest = InstanceProfileRoleRequest;

shapes! {
    /// A customer-managed policy as IAM returns it (CreatePolicy, GetPolicy,
    /// ListPolicies). `Tags` only where AWS sends them (CreatePolicy, GetPolicy).
    Policy {
        policy_name: String,
        policy_id: String,
        arn: String,
        path: String,
        default_version_id: String,
        #[serde(default)] attachment_count: u32,
        #[serde(default)] permissions_boundary_usage_count: u32,
        #[serde(default)] is_attachable: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")] description: Option<String>,
        create_date: String,
        update_date: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")] tags: Vec<Tag>,
    }

    /// One version of a managed policy. `Document` (URL-encoded, as IAM
    /// returns every policy document) only where AWS sends it:
    /// GetPolicyVersion and GetAccountAuthorizationDetails, not
    /// ListPolicyVersions nor CreatePolicyVersion.
    PolicyVersion {
        #[serde(default, skip_serializing_if = "Option::is_none")] document: Option<String>,
        version_id: String,
        is_default_version: bool,
        create_date: String,
    }

    /// A role a managed policy is attached to (ListEntitiesForPolicy).
    PolicyRole {
        role_name: String,
        role_id: String,
    }

    CreatePolicyRequest {
        policy_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")] path: Option<String>,
        policy_document: String,
        #[serde(default, skip_serializing_if = "Option::is_none")] description: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")] tags: Vec<Tag>,
    }
    PolicyResponse { policy: Policy }
    PolicyArnRequest { policy_arn: String }
    CreatePolicyVersionRequest {
        policy_arn: String,
        policy_document: String,
        #[serde(default, skip_serializing_if = "Option::is_none")] set_as_default: Option<bool>,
    }
    PolicyVersionResponse { policy_version: PolicyVersion }
    PolicyVersionRequest { policy_arn: String, version_id: String }
    ListPolicyVersionsRequest {
        policy_arn: String,
        #[serde(flatten)] page: Page,
    }
    ListPolicyVersionsResponse {
        #[serde(default)] versions: Vec<PolicyVersion>,
        // Optional in botocore; moto leaves it out.
        #[serde(default)] is_truncated: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")] marker: Option<String>,
    }
    /// ListPolicies: `Scope` is `All` (the default), `AWS` or `Local`
    /// (customer-managed); `OnlyAttached` keeps those attached to something.
    ListPoliciesRequest {
        #[serde(default, skip_serializing_if = "Option::is_none")] scope: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")] only_attached: Option<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")] path_prefix: Option<String>,
        /// `PermissionsPolicy` or `PermissionsBoundary`: only policies used so.
        #[serde(default, skip_serializing_if = "Option::is_none")] policy_usage_filter: Option<String>,
        #[serde(flatten)] page: Page,
    }
    ListPoliciesResponse {
        #[serde(default)] policies: Vec<Policy>,
        // Optional in botocore; moto leaves it out.
        #[serde(default)] is_truncated: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")] marker: Option<String>,
    }
    /// ListEntitiesForPolicy: rolecall's accounts hold roles only, so
    /// `EntityFilter` is `Role` or absent; users and groups are never listed.
    ListEntitiesForPolicyRequest {
        policy_arn: String,
        #[serde(default, skip_serializing_if = "Option::is_none")] entity_filter: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")] path_prefix: Option<String>,
        /// `PermissionsPolicy` (roles it is attached to) or
        /// `PermissionsBoundary` (roles it bounds); none: both.
        #[serde(default, skip_serializing_if = "Option::is_none")] policy_usage_filter: Option<String>,
        #[serde(flatten)] page: Page,
    }
    ListEntitiesForPolicyResponse {
        #[serde(default)] policy_roles: Vec<PolicyRole>,
        // Optional in botocore; moto leaves it out.
        #[serde(default)] is_truncated: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")] marker: Option<String>,
    }
    TagPolicyRequest { policy_arn: String, tags: Vec<Tag> }
    UntagPolicyRequest { policy_arn: String, tag_keys: Vec<String> }
    ListPolicyTagsRequest {
        policy_arn: String,
        #[serde(flatten)] page: Page,
    }

    /// A customer-managed policy with every version and its document, as
    /// GetAccountAuthorizationDetails returns it (`Filter=LocalManagedPolicy`).
    /// No tags: AWS leaves them out here.
    ManagedPolicyDetail {
        // Required in botocore; moto leaves both out (docs/aws-semantics.md
        // §11): the name is the ARN's last segment.
        #[serde(default)] policy_name: String,
        #[serde(default)] policy_id: String,
        arn: String,
        path: String,
        default_version_id: String,
        #[serde(default)] attachment_count: u32,
        #[serde(default)] permissions_boundary_usage_count: u32,
        #[serde(default)] is_attachable: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")] description: Option<String>,
        create_date: String,
        update_date: String,
        #[serde(default)] policy_version_list: Vec<PolicyVersion>,
    }
}

pub type CreatePolicyResponse = PolicyResponse;
pub type GetPolicyRequest = PolicyArnRequest;
pub type GetPolicyResponse = PolicyResponse;
pub type DeletePolicyRequest = PolicyArnRequest;
pub type CreatePolicyVersionResponse = PolicyVersionResponse;
pub type GetPolicyVersionRequest = PolicyVersionRequest;
pub type GetPolicyVersionResponse = PolicyVersionResponse;
pub type DeletePolicyVersionRequest = PolicyVersionRequest;
pub type SetDefaultPolicyVersionRequest = PolicyVersionRequest;
pub type ListPolicyTagsResponse = ListTagsResponse;
