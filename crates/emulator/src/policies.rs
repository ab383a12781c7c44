//! IAM operations on customer-managed policies and their versions, with
//! AWS's rules and messages.

use super::{Ctx, OpResult, reject};
use rolecall_cloud::ErrorCode;
use rolecall_cloud::iam::*;

fn not_yet<T>() -> OpResult<T> {
    reject(
        ErrorCode::Other("NotImplemented".into()),
        "customer-managed policies are being built",
    )
}

pub fn create_policy(_cx: &Ctx, _input: &CreatePolicyRequest) -> OpResult<CreatePolicyResponse> {
    not_yet()
}
pub fn get_policy(_cx: &Ctx, _input: &GetPolicyRequest) -> OpResult<GetPolicyResponse> {
    not_yet()
}
pub fn delete_policy(_cx: &Ctx, _input: &DeletePolicyRequest) -> OpResult<()> {
    not_yet()
}
pub fn create_policy_version(
    _cx: &Ctx,
    _input: &CreatePolicyVersionRequest,
) -> OpResult<CreatePolicyVersionResponse> {
    not_yet()
}
pub fn get_policy_version(
    _cx: &Ctx,
    _input: &GetPolicyVersionRequest,
) -> OpResult<GetPolicyVersionResponse> {
    not_yet()
}
pub fn list_policy_versions(
    _cx: &Ctx,
    _input: &ListPolicyVersionsRequest,
) -> OpResult<ListPolicyVersionsResponse> {
    not_yet()
}
pub fn delete_policy_version(_cx: &Ctx, _input: &DeletePolicyVersionRequest) -> OpResult<()> {
    not_yet()
}
pub fn set_default_policy_version(
    _cx: &Ctx,
    _input: &SetDefaultPolicyVersionRequest,
) -> OpResult<()> {
    not_yet()
}
pub fn list_policies(_cx: &Ctx, _input: &ListPoliciesRequest) -> OpResult<ListPoliciesResponse> {
    not_yet()
}
pub fn list_entities_for_policy(
    _cx: &Ctx,
    _input: &ListEntitiesForPolicyRequest,
) -> OpResult<ListEntitiesForPolicyResponse> {
    not_yet()
}
pub fn tag_policy(_cx: &Ctx, _input: &TagPolicyRequest) -> OpResult<()> {
    not_yet()
}
pub fn untag_policy(_cx: &Ctx, _input: &UntagPolicyRequest) -> OpResult<()> {
    not_yet()
}
pub fn list_policy_tags(
    _cx: &Ctx,
    _input: &ListPolicyTagsRequest,
) -> OpResult<ListPolicyTagsResponse> {
    not_yet()
}
