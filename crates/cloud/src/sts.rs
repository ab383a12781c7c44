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
