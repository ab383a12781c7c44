//! The account's credentials: its administrator access key, and the
//! temporary keys of role sessions (STS AssumeRole). `rolecall serve`
//! checks every signed request against them; nothing else reads a secret,
//! and only `rolecall emulator credentials` prints one.

use rusqlite::{Connection, OptionalExtension};

use rolecall_model::Arn;

use super::ids::{PARTITION, UPPER_ALNUM, random_chars};

/// A long-term access key: the account's administrator key.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Never shows the secret, so a key cannot leak through a log line.
impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Who makes a call: whom a key belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The account's root user, whose key is the administrator key.
    Root { account_id: String },
    /// A session of a role, started by AssumeRole.
    RoleSession {
        account_id: String,
        role_name: String,
        /// The role's unique id (`AROA…`).
        role_id: String,
        session_name: String,
    },
}

impl Principal {
    /// The caller's ARN as STS names it: `arn:aws:iam::ACCOUNT:root`, or
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` (no role path, as on AWS).
    pub fn arn(&self) -> String {
        match self {
            Principal::Root { account_id } => Arn::root(PARTITION, account_id).to_string(),
            Principal::RoleSession {
                account_id,
                role_name,
                session_name,
                ..
            } => {
                format!("arn:{PARTITION}:sts::{account_id}:assumed-role/{role_name}/{session_name}")
            }
        }
    }

    /// STS's `UserId`: the account id for root, `AROA…:SESSION` for a session.
    pub fn user_id(&self) -> String {
        match self {
            Principal::Root { account_id } => account_id.clone(),
            Principal::RoleSession {
                role_id,
                session_name,
                ..
            } => format!("{role_id}:{session_name}"),
        }
    }

    pub fn account_id(&self) -> &str {
        match self {
            Principal::Root { account_id } | Principal::RoleSession { account_id, .. } => {
                account_id
            }
        }
    }
}

/// A key the account holds, with what a server needs to check a request
/// signed with it.
#[derive(Clone)]
pub struct Credential {
    pub secret_access_key: String,
    /// Role sessions only: the token a request must carry with the key.
    pub session_token: Option<String>,
    pub principal: Principal,
    /// Role sessions only: when the key stops working (Unix milliseconds).
    pub expires_at_ms: Option<i64>,
    /// When the key was issued (Unix milliseconds): a session's
    /// `aws:TokenIssueTime`.
    pub issued_at_ms: i64,
    /// Role sessions that an instance's metadata service issued: the
    /// instance (`ec2:SourceInstanceARN`).
    pub instance_id: Option<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("principal", &self.principal)
            .field("expires_at_ms", &self.expires_at_ms)
            .field("issued_at_ms", &self.issued_at_ms)
            .field("instance_id", &self.instance_id)
            .finish_non_exhaustive()
    }
}

/// A session's issue time as policies compare `aws:TokenIssueTime`: to the
/// millisecond, so that revoking the sessions issued before an instant
/// (a `DateLessThan` written the same way) spares one issued later in the
/// same second.
pub fn token_issue_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The alphabet of AWS's secret access keys.
const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A new key: `prefix` (`AKIA` long-term, `ASIA` temporary) + 16 uppercase
/// alphanumerics, and a 40-character secret, as AWS's.
fn new_key(prefix: &str) -> AccessKey {
    AccessKey {
        access_key_id: format!("{prefix}{}", random_chars(UPPER_ALNUM, 16)),
        secret_access_key: random_chars(SECRET, 40),
    }
}

/// A session token: opaque, long, base64-like, as STS's.
pub(crate) fn new_session_token() -> String {
    random_chars(SECRET, 356)
}

/// The administrator key, if the account has one.
pub(crate) fn admin_key(db: &Connection) -> rusqlite::Result<Option<AccessKey>> {
    db.query_row(
        "SELECT access_key_id, secret FROM access_keys WHERE session_token IS NULL",
        [],
        |r| {
            Ok(AccessKey {
                access_key_id: r.get(0)?,
                secret_access_key: r.get(1)?,
            })
        },
    )
    .optional()
}

/// The administrator key, made first if the account has none.
pub(crate) fn ensure_admin_key(db: &Connection, now_ms: i64) -> rusqlite::Result<AccessKey> {
    match admin_key(db)? {
        Some(key) => Ok(key),
        None => insert_admin_key(db, now_ms),
    }
}

/// Replaces the administrator key: the old one stops working at once.
pub(crate) fn rotate_admin_key(db: &Connection, now_ms: i64) -> rusqlite::Result<AccessKey> {
    db.execute("DELETE FROM access_keys WHERE session_token IS NULL", [])?;
    insert_admin_key(db, now_ms)
}

fn insert_admin_key(db: &Connection, now_ms: i64) -> rusqlite::Result<AccessKey> {
    let key = new_key("AKIA");
    db.execute(
        "INSERT INTO access_keys (access_key_id, secret, issued_at_ms) VALUES (?1, ?2, ?3)",
        rusqlite::params![key.access_key_id, key.secret_access_key, now_ms],
    )?;
    Ok(key)
}

/// What a role session is, for [`insert_session`].
pub(crate) struct NewSession<'a> {
    pub role_name: &'a str,
    pub role_id: &'a str,
    pub session_name: &'a str,
    pub expires_at_ms: i64,
    /// The instance whose metadata service issues the session, if one does.
    pub instance_id: Option<&'a str>,
}

/// Records a role session's temporary key (and forgets sessions that have
/// expired, so the table holds only keys that still work).
pub(crate) fn insert_session(
    db: &Connection,
    session: &NewSession,
    now_ms: i64,
) -> rusqlite::Result<(AccessKey, String)> {
    db.prepare_cached("DELETE FROM access_keys WHERE expires_at_ms <= ?1")?
        .execute([now_ms])?;
    let key = new_key("ASIA");
    let token = new_session_token();
    db.prepare_cached(
        "INSERT INTO access_keys (access_key_id, secret, session_token, role_name, role_id,
                                  session_name, issued_at_ms, expires_at_ms, instance_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(rusqlite::params![
        key.access_key_id,
        key.secret_access_key,
        token,
        session.role_name,
        session.role_id,
        session.session_name,
        now_ms,
        session.expires_at_ms,
        session.instance_id
    ])?;
    Ok((key, token))
}

/// The key `access_key_id`, if the account holds it (expired sessions
/// included: the caller tells "expired" from "unknown").
pub(crate) fn find(
    db: &Connection,
    account_id: &str,
    access_key_id: &str,
) -> rusqlite::Result<Option<Credential>> {
    db.prepare_cached(
        "SELECT secret, session_token, role_name, role_id, session_name, expires_at_ms,
                issued_at_ms, instance_id
         FROM access_keys WHERE access_key_id = ?1",
    )?
    .query_row([access_key_id], |r| {
        let session_token: Option<String> = r.get(1)?;
        let principal = match (r.get::<_, Option<String>>(2)?, &session_token) {
            (Some(role_name), Some(_)) => Principal::RoleSession {
                account_id: account_id.to_string(),
                role_name,
                role_id: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                session_name: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            },
            _ => Principal::Root {
                account_id: account_id.to_string(),
            },
        };
        Ok(Credential {
            secret_access_key: r.get(0)?,
            session_token,
            principal,
            expires_at_ms: r.get(5)?,
            issued_at_ms: r.get(6)?,
            instance_id: r.get(7)?,
        })
    })
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_aws_shapes_and_differ() {
        let a = new_key("AKIA");
        let b = new_key("AKIA");
        assert_eq!(a.access_key_id.len(), 20);
        assert!(a.access_key_id.starts_with("AKIA"));
        assert_eq!(a.secret_access_key.len(), 40);
        assert_ne!(a, b);
        assert!(!format!("{a:?}").contains(&a.secret_access_key));
    }

    #[test]
    fn token_issue_times_keep_milliseconds() {
        assert_eq!(
            token_issue_time(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
    }

    #[test]
    fn principals_are_named_as_sts_names_them() {
        let root = Principal::Root {
            account_id: "111122223333".into(),
        };
        assert_eq!(root.arn(), "arn:aws:iam::111122223333:root");
        assert_eq!(root.user_id(), "111122223333");
        let session = Principal::RoleSession {
            account_id: "111122223333".into(),
            role_name: "web".into(),
            role_id: "AROAEXAMPLEEXAMPLE123".into(),
            session_name: "deploy".into(),
        };
        assert_eq!(
            session.arn(),
            "arn:aws:sts::111122223333:assumed-role/web/deploy"
        );
        assert_eq!(session.user_id(), "AROAEXAMPLEEXAMPLE123:deploy");
    }
}
