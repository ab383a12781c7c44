//! STS: who the caller is. The emulated account has one identity, its root
//! user (no users, and no credentials to assume roles with yet).

use super::ids::PARTITION;
use super::{Ctx, OpResult};
use rolecall_cloud::sts::{GetCallerIdentityRequest, GetCallerIdentityResponse};
use rolecall_model::Arn;

/// The account's root user, as STS answers for root credentials: its
/// `UserId` is the account id and its ARN `arn:aws:iam::ACCOUNT:root`.
pub fn get_caller_identity(
    cx: &Ctx,
    _input: &GetCallerIdentityRequest,
) -> OpResult<GetCallerIdentityResponse> {
    let account = cx.account_id().to_string();
    Ok(GetCallerIdentityResponse {
        user_id: account.clone(),
        arn: Arn::root(PARTITION, &account).to_string(),
        account,
    })
}
