//! IAM request and response shapes, named and serialised as AWS names them
//! (PascalCase), so a plan's `params` read like the API reference.

use serde::{Deserialize, Serialize};

shapes! {
    /// One tag, as IAM and EC2 exchange them.
    #[derive(PartialOrd, Ord, Hash)]
    Tag {
        key: String,
        value: String,
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
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

shapes! {
    CreateRoleRequest {
        role_name: String,
        assume_role_policy_document: String,
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
    PutRolePolicyRequest { role_name: String, policy_name: String, policy_document: String }
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

    /// Users, groups and customer-managed policies are not rolecall's: only
    /// the roles are read (AWS sends the rest only when `Filter` asks).
    GetAccountAuthorizationDetailsResponse {
        #[serde(default)] role_detail_list: Vec<RoleDetail>,
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
