//! STS request and response shapes (API version 2011-06-15), named and
//! serialised as AWS names them: who the caller is, and so which account
//! (and partition) a backend talks to.

use serde::{Deserialize, Serialize};

shapes! {
    /// GetCallerIdentity takes no parameters.
    GetCallerIdentityRequest {}

    GetCallerIdentityResponse {
        /// The caller's unique id: the account id for the account's root
        /// user, `AROA…:SESSION` for an assumed role.
        user_id: String,
        /// The account's id (12 digits).
        account: String,
        /// The caller's ARN, whose partition is the account's.
        arn: String,
    }
}

shapes! {
    /// AssumeRole: a session of a role, for a caller its trust policy
    /// trusts. Session policies and session tags are not supported yet.
    AssumeRoleRequest {
        role_arn: String,
        role_session_name: String,
        /// 900 up to the role's `MaxSessionDuration`; 3600 when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")] duration_seconds: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")] external_id: Option<String>,
    }

    /// Temporary credentials: valid until `Expiration`, and only with their
    /// `SessionToken`.
    Credentials {
        access_key_id: String,
        secret_access_key: String,
        session_token: String,
        expiration: String,
    }

    AssumedRoleUser {
        /// `AROA…:SESSION`.
        assumed_role_id: String,
        /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
        arn: String,
    }

    AssumeRoleResponse {
        credentials: Credentials,
        assumed_role_user: AssumedRoleUser,
    }
}
