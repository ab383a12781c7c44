//! STS: who the caller is, and sessions of roles (AssumeRole) for callers
//! that a role's trust policy trusts. In process the caller is the
//! account's root user (the administrator); through `rolecall serve` it is
//! whoever signed the request ([`Principal`]).

use super::credentials::{self, NewSession, Principal};
use super::ids::{self, PARTITION};
use super::{Ctx, OpResult, iam, reject, validate};
use rolecall_cloud::ErrorCode;
use rolecall_cloud::sts::{
    AssumeRoleRequest, AssumeRoleResponse, AssumedRoleUser, Credentials, GetCallerIdentityRequest,
    GetCallerIdentityResponse,
};
use rolecall_model::policy::trust::{TrustDecision, TrustRequest};
use rolecall_model::{Arn, PolicyDocument, RoleArn};

/// A session lasts an hour unless asked otherwise, as on AWS.
const DEFAULT_DURATION_SECONDS: u32 = 3600;
/// A session started by a role session ("role chaining") lasts at most an hour.
const CHAINED_MAX_SECONDS: u32 = 3600;

fn root(cx: &Ctx) -> Principal {
    Principal::Root {
        account_id: cx.account_id().to_string(),
    }
}

/// The account's root user, as STS answers for root credentials: its
/// `UserId` is the account id and its ARN `arn:aws:iam::ACCOUNT:root`.
pub fn get_caller_identity(
    cx: &Ctx,
    input: &GetCallerIdentityRequest,
) -> OpResult<GetCallerIdentityResponse> {
    get_caller_identity_as(cx, &root(cx), input)
}

pub fn get_caller_identity_as(
    _cx: &Ctx,
    caller: &Principal,
    _input: &GetCallerIdentityRequest,
) -> OpResult<GetCallerIdentityResponse> {
    Ok(GetCallerIdentityResponse {
        user_id: caller.user_id(),
        arn: caller.arn(),
        account: caller.account_id().to_string(),
    })
}

/// AssumeRole by the account's root user.
pub fn assume_role(cx: &Ctx, input: &AssumeRoleRequest) -> OpResult<AssumeRoleResponse> {
    assume_role_as(cx, &root(cx), input)
}

/// AssumeRole by `caller`, in STS's order: the parameters' constraints, then
/// the role and its trust policy (a missing role and a distrusting one get
/// the same AccessDenied, so the answer does not reveal which roles exist),
/// then the role's maximum session duration.
pub fn assume_role_as(
    cx: &Ctx,
    caller: &Principal,
    input: &AssumeRoleRequest,
) -> OpResult<AssumeRoleResponse> {
    validate::role_arn(&input.role_arn)?;
    validate::role_session_name(&input.role_session_name)?;
    let duration = input.duration_seconds.unwrap_or(DEFAULT_DURATION_SECONDS);
    validate::duration_seconds(duration)?;

    let denied = || {
        reject(
            ErrorCode::AccessDenied,
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                caller.arn(),
                input.role_arn
            ),
        )
    };
    let Some(arn) =
        RoleArn::parse(&input.role_arn).filter(|arn| arn.is_of(Some(PARTITION), cx.account_id()))
    else {
        return denied();
    };
    let role = match iam::find_role(cx.db, arn.name)? {
        // The ARN must name the role exactly: path and name (names ignore
        // case in lookups, ARNs do not).
        Some(role) if role.arn == input.role_arn => role,
        _ => return denied(),
    };
    let trusts = PolicyDocument::parse(&role.trust)
        .map(|trust| {
            trust.trust_decision(&TrustRequest {
                action: "sts:AssumeRole",
                principals: &principal_names(caller, cx),
            })
        })
        .unwrap_or(TrustDecision::ImplicitDeny);
    if trusts != TrustDecision::Allowed {
        return denied();
    }
    if duration > role.max_session_duration {
        return reject(
            ErrorCode::ValidationError,
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        );
    }
    if matches!(caller, Principal::RoleSession { .. }) && duration > CHAINED_MAX_SECONDS {
        return reject(
            ErrorCode::ValidationError,
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        );
    }

    let expires_at_ms = cx.now_ms + i64::from(duration) * 1000;
    let (key, session_token) = credentials::insert_session(
        cx.db,
        &NewSession {
            role_name: &role.name,
            role_id: &role.role_id,
            session_name: &input.role_session_name,
            expires_at_ms,
            instance_id: None,
        },
        cx.now_ms,
    )?;
    let session = Principal::RoleSession {
        account_id: cx.account_id().to_string(),
        role_name: role.name.clone(),
        role_id: role.role_id.clone(),
        session_name: input.role_session_name.clone(),
    };
    Ok(AssumeRoleResponse {
        credentials: Credentials {
            access_key_id: key.access_key_id,
            secret_access_key: key.secret_access_key,
            session_token,
            expiration: ids::timestamp(expires_at_ms),
        },
        assumed_role_user: AssumedRoleUser {
            assumed_role_id: session.user_id(),
            arn: session.arn(),
        },
    })
}

/// Every string a trust policy's `Principal` may name `caller` by: anyone
/// (`*`), its account (by id or root ARN: a grant to the account lets any
/// principal of it in), and the caller itself; a role session also by its
/// role's ARN.
fn principal_names(caller: &Principal, cx: &Ctx) -> Vec<String> {
    let account = caller.account_id();
    let mut names = vec![
        "*".to_string(),
        account.to_string(),
        Arn::root(PARTITION, account).to_string(),
        caller.arn(),
    ];
    if let Principal::RoleSession { role_name, .. } = caller
        && let Ok(Some(role)) = iam::find_role(cx.db, role_name)
    {
        names.push(role.arn);
    }
    names
}
