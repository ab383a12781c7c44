//! What a lab instance's metadata service (IMDS) knows, read from the
//! account: the instance, the instance profile it is associated with, the
//! profile's role, and the role session EC2 hands the instance. `rolecall
//! serve` answers the IMDS protocol (tokens, paths, JSON) with it; this
//! module has no HTTP.
//!
//! EC2 assumes an instance's role itself, as the service principal
//! `ec2.amazonaws.com`, so the role's trust policy must trust that service
//! (the same decision STS makes for AssumeRole, `policy::trust`). The
//! session's name is the instance id: `arn:aws:sts::ACCOUNT:assumed-role/
//! ROLE/INSTANCE-ID`, as on AWS. Each instance has one current session
//! (`instance_credentials`, schema 3), handed out until it is an hour old;
//! sessions handed out before stay valid until they expire, as EC2's do.

use rusqlite::{Connection, OptionalExtension, params};

use rolecall_model::PolicyDocument;
use rolecall_model::policy::trust::{TrustDecision, TrustRequest};

use super::credentials::{self, NewSession};
use super::ids::{self, PARTITION};
use super::{Emulator, EmulatorError, iam, now_ms, trail};

/// How long a session EC2 issues for an instance lasts: about six hours.
/// EC2 documents no figure; the `Expiration` instances show is 6 h after
/// `LastUpdated` (UNCONFIRMED as a rule), and the role's
/// `MaxSessionDuration` does not apply to it (it limits AssumeRole calls,
/// which EC2's own sessions are not).
pub const INSTANCE_SESSION_MS: i64 = 6 * 3600 * 1000;

/// A session is handed out until it is this old; the next request gets a
/// new one. EC2 "rotates" instance credentials and makes new ones
/// available at least five minutes before the old expire (EC2 User Guide,
/// "Retrieve security credentials from instance metadata"); renewing
/// hourly keeps well inside that, and a client that caches credentials
/// until their `Expiration` never holds an expired key.
pub const INSTANCE_SESSION_REFRESH_MS: i64 = 3600 * 1000;

/// The service principal EC2 assumes instance roles as.
const EC2_SERVICE: &str = "ec2.amazonaws.com";

/// A running instance, as its metadata service describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceMetadata {
    pub account_id: String,
    pub instance_id: String,
    pub image_id: String,
    pub instance_type: String,
    /// As stored, RFC 3339 (`2026-12-03T17:00:00+00:00`).
    pub launch_time: String,
    /// The profile of the instance's association, only once it is
    /// `associated` (not while `associating`, nor after a disassociation).
    pub profile: Option<ProfileMetadata>,
}

/// The instance profile an instance is associated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileMetadata {
    pub arn: String,
    /// `AIPA…`
    pub id: String,
    /// The profile's role; `None` when the profile holds none.
    pub role: Option<RoleMetadata>,
}

/// The role of an instance's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleMetadata {
    pub name: String,
    /// `AROA…`: tells the role from one deleted and created again under
    /// its name, whose sessions are not this one's.
    pub role_id: String,
    /// Whether the role's trust policy lets `ec2.amazonaws.com` do
    /// `sts:AssumeRole`: if not, EC2 gets no session for the instance.
    pub ec2_may_assume: bool,
    /// The session handed to the instance: only from
    /// [`Emulator::instance_credentials`], and only when EC2 may assume the
    /// role.
    pub session: Option<InstanceSession>,
}

/// A role session's temporary key, as an instance's metadata service
/// hands it out.
#[derive(Clone, PartialEq, Eq)]
pub struct InstanceSession {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Unix milliseconds (IMDS's `LastUpdated`).
    pub issued_at_ms: i64,
    /// Unix milliseconds (IMDS's `Expiration`).
    pub expires_at_ms: i64,
}

/// Never shows the secret or the token.
impl std::fmt::Debug for InstanceSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceSession")
            .field("access_key_id", &self.access_key_id)
            .field("issued_at_ms", &self.issued_at_ms)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// What the metadata service of `instance_id` tells, without a session
    /// (`RoleMetadata::session` is `None`); `None` for an instance the
    /// account does not hold or that is not running (a stopped or
    /// terminated instance runs nothing that could ask). Reads only.
    pub fn instance_metadata(
        &self,
        instance_id: &str,
    ) -> Result<Option<InstanceMetadata>, EmulatorError> {
        self.read(|db| read(db, &self.account_id, instance_id, now_ms()))
    }

    /// [`Emulator::instance_metadata`] with the role session the instance
    /// is handed, when EC2 may assume its role: the current one while it is
    /// under an hour old, of the same role, and still held by the account;
    /// otherwise a new one (6 h), which becomes the current one. One write
    /// transaction.
    pub fn instance_credentials(
        &self,
        instance_id: &str,
    ) -> Result<Option<InstanceMetadata>, EmulatorError> {
        let account_id = &self.account_id;
        if let Some(found) =
            self.read(|db| with_session(db, account_id, instance_id, now_ms(), false))?
        {
            return Ok(found);
        }
        // Checked again under the write lock: another request may have
        // issued the session since.
        self.write(|db| with_session(db, account_id, instance_id, now_ms(), true))
            .map(Option::flatten)
    }

    /// Forgets which session the instances holding `role_name`'s sessions
    /// hand out now (names ignore case, as IAM's), so each gets a new one on
    /// its next request; the sessions themselves stay valid until they
    /// expire. For revoking a role's sessions. Returns how many instances
    /// were concerned.
    pub fn forget_instance_sessions(&self, role_name: &str) -> Result<usize, EmulatorError> {
        self.write(|db| forget_role_sessions(db, role_name))
    }
}

/// [`Emulator::forget_instance_sessions`] inside a transaction of the caller's.
pub(crate) fn forget_role_sessions(db: &Connection, role_name: &str) -> rusqlite::Result<usize> {
    db.prepare_cached(
        "DELETE FROM instance_credentials WHERE access_key_id IN
             (SELECT access_key_id FROM access_keys WHERE role_name = ?1 COLLATE NOCASE)",
    )?
    .execute([role_name])
}

/// The instance, its associated profile and role, as of `now_ms`.
pub(crate) fn read(
    db: &Connection,
    account_id: &str,
    instance_id: &str,
    now_ms: i64,
) -> rusqlite::Result<Option<InstanceMetadata>> {
    let instance = db
        .prepare_cached(
            "SELECT id, image_id, instance_type, launch_time FROM instances
             WHERE instance_id = ?1 AND state = 'running'",
        )?
        .query_row([instance_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .optional()?;
    let Some((row, image_id, instance_type, launch_time)) = instance else {
        return Ok(None);
    };
    Ok(Some(InstanceMetadata {
        account_id: account_id.to_string(),
        instance_id: instance_id.to_string(),
        image_id,
        instance_type,
        launch_time,
        profile: associated_profile(db, row, now_ms)?,
    }))
}

/// The profile of the instance's association once it is `associated`.
fn associated_profile(
    db: &Connection,
    instance: i64,
    now_ms: i64,
) -> rusqlite::Result<Option<ProfileMetadata>> {
    // Only live associations are rows; `associating` until `ready_at_ms`.
    let association = db
        .prepare_cached(
            "SELECT profile_arn, profile_id FROM associations
             WHERE instance = ?1 AND ready_at_ms <= ?2",
        )?
        .query_row(params![instance, now_ms], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?;
    let Some((arn, id)) = association else {
        return Ok(None);
    };
    // The association names the profile by ARN and id: a profile deleted
    // since (IAM allows it) is gone for the instance, and one created again
    // under the name is another profile, with another id.
    let Some(profile) = iam::find_profile_by_arn(db, &arn)?.filter(|p| p.profile_id == id) else {
        return Ok(None);
    };
    let role_name: Option<String> = match profile.role {
        Some(role) => db
            .prepare_cached("SELECT name FROM roles WHERE id = ?1")?
            .query_row([role], |r| r.get(0))
            .optional()?,
        None => None,
    };
    let role = match role_name {
        Some(name) => iam::find_role(db, &name)?.map(|role| RoleMetadata {
            ec2_may_assume: ec2_may_assume(&role.trust),
            name: role.name,
            role_id: role.role_id,
            session: None,
        }),
        None => None,
    };
    Ok(Some(ProfileMetadata { arn, id, role }))
}

/// Whether `trust` (a stored trust policy) lets EC2 assume the role: the
/// decision STS makes for AssumeRole, with EC2's service principal as the
/// caller's only name.
fn ec2_may_assume(trust: &str) -> bool {
    PolicyDocument::parse(trust).is_ok_and(|trust| {
        trust.trust_decision(&TrustRequest {
            action: "sts:AssumeRole",
            principals: &[EC2_SERVICE.to_string()],
        }) == TrustDecision::Allowed
    })
}

/// [`read`], plus the instance's session when EC2 may assume its role:
/// the current one if it is still good, else (`issue`) a new one made
/// current. Without `issue`, `None` says a new session is needed: a read
/// transaction answers most requests, and only issuing writes.
pub(crate) fn with_session(
    db: &Connection,
    account_id: &str,
    instance_id: &str,
    now_ms: i64,
    issue: bool,
) -> rusqlite::Result<Option<Option<InstanceMetadata>>> {
    let mut metadata = read(db, account_id, instance_id, now_ms)?;
    let Some(role) = metadata
        .as_mut()
        .and_then(|m| m.profile.as_mut())
        .and_then(|p| p.role.as_mut())
        .filter(|role| role.ec2_may_assume)
    else {
        return Ok(Some(metadata));
    };
    let session = match current_session(db, instance_id, &role.role_id, now_ms)? {
        Some(session) => session,
        None if issue => new_session(
            db,
            account_id,
            instance_id,
            &role.name,
            &role.role_id,
            now_ms,
        )?,
        None => return Ok(None),
    };
    role.session = Some(session);
    Ok(Some(metadata))
}

/// The instance's current session, if it is of this role, under
/// [`INSTANCE_SESSION_REFRESH_MS`] old, and still in `access_keys` (an
/// expired key is pruned from there by the next session issued).
fn current_session(
    db: &Connection,
    instance_id: &str,
    role_id: &str,
    now_ms: i64,
) -> rusqlite::Result<Option<InstanceSession>> {
    db.prepare_cached(
        "SELECT k.access_key_id, k.secret, k.session_token, k.issued_at_ms, k.expires_at_ms
         FROM instance_credentials c JOIN access_keys k ON k.access_key_id = c.access_key_id
         WHERE c.instance_id = ?1 AND k.role_id = ?2 AND k.session_token IS NOT NULL
           AND k.issued_at_ms > ?3 AND k.expires_at_ms > ?4",
    )?
    .query_row(
        params![
            instance_id,
            role_id,
            now_ms - INSTANCE_SESSION_REFRESH_MS,
            now_ms
        ],
        |r| {
            Ok(InstanceSession {
                access_key_id: r.get(0)?,
                secret_access_key: r.get(1)?,
                session_token: r.get(2)?,
                issued_at_ms: r.get(3)?,
                expires_at_ms: r.get(4)?,
            })
        },
    )
    .optional()
}

/// Issues a session of the role named after the instance, and makes it
/// the instance's current one.
fn new_session(
    db: &Connection,
    account_id: &str,
    instance_id: &str,
    role_name: &str,
    role_id: &str,
    now_ms: i64,
) -> rusqlite::Result<InstanceSession> {
    let expires_at_ms = now_ms + INSTANCE_SESSION_MS;
    let (key, session_token) = credentials::insert_session(
        db,
        &NewSession {
            role_name,
            role_id,
            session_name: instance_id,
            expires_at_ms,
            instance_id: Some(instance_id),
        },
        now_ms,
    )?;
    db.prepare_cached(
        "INSERT INTO instance_credentials (instance_id, access_key_id) VALUES (?1, ?2)
         ON CONFLICT (instance_id) DO UPDATE SET access_key_id = excluded.access_key_id",
    )?
    .execute(params![instance_id, key.access_key_id])?;
    // EC2 assumed the role for the instance: CloudTrail shows it as an
    // AssumeRole by the service.
    let role_arn: String = db
        .prepare_cached("SELECT arn FROM roles WHERE role_id = ?1")?
        .query_row([role_id], |r| r.get(0))?;
    let request = serde_json::json!({
        "RoleArn": role_arn,
        "RoleSessionName": instance_id,
        "DurationSeconds": INSTANCE_SESSION_MS / 1000,
    });
    let response = serde_json::json!({
        "Credentials": {"AccessKeyId": key.access_key_id, "Expiration": ids::timestamp(expires_at_ms)},
        "AssumedRoleUser": {
            "AssumedRoleId": format!("{role_id}:{instance_id}"),
            "Arn": format!("arn:{PARTITION}:sts::{account_id}:assumed-role/{role_name}/{instance_id}"),
        },
    });
    trail::record_service_call(
        db,
        EC2_SERVICE,
        account_id,
        &trail::Recorded {
            operation: &rolecall_cloud::operations::ASSUME_ROLE,
            params: &request,
            error: None,
            response: Some(&response),
        },
        now_ms,
    )?;
    Ok(InstanceSession {
        access_key_id: key.access_key_id,
        secret_access_key: key.secret_access_key,
        session_token,
        issued_at_ms: now_ms,
        expires_at_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Faults;
    use rolecall_cloud::Cloud;
    use rolecall_cloud::ec2::{
        AssociateIamInstanceProfileRequest, IamInstanceProfileSpecification, InstanceIdsRequest,
        RunInstancesRequest,
    };
    use rolecall_cloud::iam::{
        AddRoleToInstanceProfileRequest, CreateInstanceProfileRequest, CreateRoleRequest,
        RemoveRoleFromInstanceProfileRequest,
    };

    const MINUTE: i64 = 60 * 1000;
    const TRUST_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    const TRUST_ACCOUNT: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;

    struct Lab {
        _dir: tempfile::TempDir,
        emulator: Emulator,
    }

    impl Lab {
        fn new() -> Lab {
            let dir = tempfile::tempdir().unwrap();
            let emulator = Emulator::open(&dir.path().join("account.db")).unwrap();
            Lab {
                _dir: dir,
                emulator,
            }
        }

        fn role(&self, name: &str, trust: &str) {
            self.emulator
                .create_role(&CreateRoleRequest {
                    role_name: name.into(),
                    assume_role_policy_document: trust.into(),
                    ..CreateRoleRequest::default()
                })
                .unwrap();
        }

        /// A profile holding `role`, if any.
        fn profile(&self, name: &str, role: Option<&str>) {
            self.emulator
                .create_instance_profile(&CreateInstanceProfileRequest {
                    instance_profile_name: name.into(),
                    ..CreateInstanceProfileRequest::default()
                })
                .unwrap();
            if let Some(role) = role {
                self.add_role(name, role);
            }
        }

        fn add_role(&self, profile: &str, role: &str) {
            self.emulator
                .add_role_to_instance_profile(&AddRoleToInstanceProfileRequest {
                    instance_profile_name: profile.into(),
                    role_name: role.into(),
                })
                .unwrap();
        }

        /// A running instance, associated with `profile` if one is named.
        fn instance(&self, profile: Option<&str>) -> String {
            let id = self
                .emulator
                .run_instances(&RunInstancesRequest {
                    min_count: 1,
                    max_count: 1,
                    ..RunInstancesRequest::default()
                })
                .unwrap()
                .instances[0]
                .instance_id
                .clone();
            if let Some(profile) = profile {
                self.emulator
                    .associate_iam_instance_profile(&AssociateIamInstanceProfileRequest {
                        iam_instance_profile: IamInstanceProfileSpecification::by_name(profile),
                        instance_id: id.clone(),
                    })
                    .unwrap();
            }
            id
        }

        fn metadata(&self, instance: &str, now_ms: i64) -> Option<InstanceMetadata> {
            self.emulator
                .read(|db| read(db, DEFAULT_ACCOUNT, instance, now_ms))
                .unwrap()
        }

        /// The session handed to `instance` at `now_ms` (it must get one).
        fn session(&self, instance: &str, now_ms: i64) -> InstanceSession {
            let metadata = self
                .emulator
                .write(|db| with_session(db, DEFAULT_ACCOUNT, instance, now_ms, true))
                .unwrap()
                .flatten();
            role_of(&metadata)
                .session
                .clone()
                .unwrap_or_else(|| panic!("no session for {instance}: {metadata:?}"))
        }

        fn key_count(&self) -> i64 {
            self.emulator
                .read(|db| {
                    db.query_row(
                        "SELECT count(*) FROM access_keys WHERE session_token IS NOT NULL",
                        [],
                        |r| r.get(0),
                    )
                })
                .unwrap()
        }
    }

    const DEFAULT_ACCOUNT: &str = crate::DEFAULT_ACCOUNT_ID;

    fn role_of(metadata: &Option<InstanceMetadata>) -> &RoleMetadata {
        metadata
            .as_ref()
            .and_then(|m| m.profile.as_ref())
            .and_then(|p| p.role.as_ref())
            .unwrap_or_else(|| panic!("no role: {metadata:?}"))
    }

    #[test]
    fn a_session_is_reused_for_an_hour_then_renewed() {
        let lab = Lab::new();
        lab.role("web", TRUST_EC2);
        lab.profile("web", Some("web"));
        let instance = lab.instance(Some("web"));
        let t0 = now_ms();

        let first = lab.session(&instance, t0);
        assert!(first.access_key_id.starts_with("ASIA"), "{first:?}");
        assert_eq!(first.issued_at_ms, t0);
        assert_eq!(first.expires_at_ms, t0 + INSTANCE_SESSION_MS);
        // The key is a role session named after the instance.
        let key = lab
            .emulator
            .credential(&first.access_key_id)
            .unwrap()
            .unwrap();
        assert_eq!(
            key.principal.arn(),
            format!("arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/web/{instance}")
        );
        assert_eq!(key.instance_id.as_deref(), Some(instance.as_str()));
        assert_eq!(
            key.session_token.as_deref(),
            Some(first.session_token.as_str())
        );

        // Under an hour old: the same session, nothing new issued.
        assert_eq!(lab.session(&instance, t0 + 59 * MINUTE), first);
        assert_eq!(lab.key_count(), 1);
        // EC2 assumed the role once, and the trail says so, with no secret.
        let assumed = rolecall_cloud::trail::Trail::lookup_events(
            &lab.emulator,
            &rolecall_cloud::trail::Lookup {
                attribute: Some((
                    rolecall_cloud::trail::LookupKey::EventName,
                    "AssumeRole".into(),
                )),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(assumed.len(), 1, "{assumed:?}");
        let record = &assumed[0].record;
        assert_eq!(record["userIdentity"]["type"], "AWSService");
        assert_eq!(record["userIdentity"]["invokedBy"], "ec2.amazonaws.com");
        assert_eq!(
            record["requestParameters"]["roleSessionName"],
            instance.as_str()
        );
        assert_eq!(
            record["responseElements"]["credentials"]["accessKeyId"],
            first.access_key_id.as_str()
        );
        let text = record.to_string();
        assert!(!text.contains(&first.secret_access_key) && !text.contains(&first.session_token));

        // An hour old: a new one, which is then the current one; the old
        // key stays valid until it expires.
        let second = lab.session(&instance, t0 + 60 * MINUTE);
        assert_ne!(second.access_key_id, first.access_key_id);
        assert_eq!(second.issued_at_ms, t0 + 60 * MINUTE);
        assert_eq!(lab.session(&instance, t0 + 61 * MINUTE), second);
        assert!(
            lab.emulator
                .credential(&first.access_key_id)
                .unwrap()
                .is_some()
        );
        assert_eq!(lab.key_count(), 2);
    }

    #[test]
    fn a_pruned_session_is_replaced() {
        let lab = Lab::new();
        lab.role("web", TRUST_EC2);
        lab.profile("web", Some("web"));
        let instance = lab.instance(Some("web"));
        let t0 = now_ms();
        let first = lab.session(&instance, t0);
        lab.emulator
            .write(|db| {
                db.execute(
                    "DELETE FROM access_keys WHERE access_key_id = ?1",
                    [&first.access_key_id],
                )
            })
            .unwrap();
        let second = lab.session(&instance, t0 + MINUTE);
        assert_ne!(second.access_key_id, first.access_key_id);
    }

    #[test]
    fn sessions_are_per_instance() {
        let lab = Lab::new();
        lab.role("web", TRUST_EC2);
        lab.profile("web", Some("web"));
        let (a, b) = (lab.instance(Some("web")), lab.instance(Some("web")));
        let t0 = now_ms();
        let session_a = lab.session(&a, t0);
        let session_b = lab.session(&b, t0);
        assert_ne!(session_a.access_key_id, session_b.access_key_id);
        assert_eq!(lab.session(&a, t0 + MINUTE), session_a);
    }

    #[test]
    fn a_role_swap_gives_the_new_role_at_once() {
        let lab = Lab::new();
        lab.role("web", TRUST_EC2);
        lab.role("api", TRUST_EC2);
        lab.profile("web", Some("web"));
        let instance = lab.instance(Some("web"));
        let t0 = now_ms();
        let first = lab.session(&instance, t0);

        lab.emulator
            .remove_role_from_instance_profile(&RemoveRoleFromInstanceProfileRequest {
                instance_profile_name: "web".into(),
                role_name: "web".into(),
            })
            .unwrap();
        lab.add_role("web", "api");
        let second = lab.session(&instance, t0 + MINUTE);
        assert_ne!(second.access_key_id, first.access_key_id);
        let key = lab
            .emulator
            .credential(&second.access_key_id)
            .unwrap()
            .unwrap();
        assert_eq!(
            key.principal.arn(),
            format!("arn:aws:sts::{DEFAULT_ACCOUNT}:assumed-role/api/{instance}")
        );
        // The web session was not revoked.
        assert!(
            lab.emulator
                .credential(&first.access_key_id)
                .unwrap()
                .is_some()
        );
        assert_eq!(role_of(&lab.metadata(&instance, t0 + MINUTE)).name, "api");
    }

    #[test]
    fn a_role_that_does_not_trust_ec2_gets_no_session() {
        let lab = Lab::new();
        lab.role("admin", TRUST_ACCOUNT);
        lab.profile("admin", Some("admin"));
        let instance = lab.instance(Some("admin"));
        let metadata = lab.emulator.instance_credentials(&instance).unwrap();
        let role = role_of(&metadata);
        assert_eq!(role.name, "admin");
        assert!(!role.ec2_may_assume);
        assert_eq!(role.session, None);
        assert_eq!(lab.key_count(), 0);
        let rows: i64 = lab
            .emulator
            .read(|db| {
                db.query_row("SELECT count(*) FROM instance_credentials", [], |r| {
                    r.get(0)
                })
            })
            .unwrap();
        assert_eq!(rows, 0);
    }

    #[test]
    fn a_profile_without_a_role_has_no_role() {
        let lab = Lab::new();
        lab.profile("empty", None);
        let instance = lab.instance(Some("empty"));
        let metadata = lab
            .emulator
            .instance_credentials(&instance)
            .unwrap()
            .unwrap();
        let profile = metadata.profile.expect("the profile is associated");
        assert!(
            profile.arn.ends_with(":instance-profile/empty"),
            "{}",
            profile.arn
        );
        assert!(profile.id.starts_with("AIPA"), "{}", profile.id);
        assert_eq!(profile.role, None);
        assert_eq!(lab.key_count(), 0);
    }

    #[test]
    fn only_an_associated_profile_counts() {
        let lab = Lab::new();
        lab.role("web", TRUST_EC2);
        lab.profile("web", Some("web"));
        let bare = lab.instance(None);
        assert_eq!(lab.metadata(&bare, now_ms()).unwrap().profile, None);

        lab.emulator
            .configure(&Faults {
                associating_ms: 60_000,
                ..Faults::default()
            })
            .unwrap();
        let instance = lab.instance(Some("web"));
        let t0 = now_ms();
        assert_eq!(lab.metadata(&instance, t0).unwrap().profile, None);
        assert_eq!(
            role_of(&lab.metadata(&instance, t0 + 2 * MINUTE)).name,
            "web"
        );
    }

    #[test]
    fn only_running_instances_have_metadata() {
        let lab = Lab::new();
        let instance = lab.instance(None);
        let metadata = lab.emulator.instance_metadata(&instance).unwrap().unwrap();
        assert_eq!(metadata.instance_id, instance);
        assert_eq!(metadata.account_id, DEFAULT_ACCOUNT);
        assert_eq!(metadata.instance_type, "t3.micro");
        assert_eq!(
            lab.emulator
                .instance_metadata("i-0123456789abcdef0")
                .unwrap(),
            None
        );
        lab.emulator
            .terminate_instances(&InstanceIdsRequest {
                instance_ids: vec![instance.clone()],
            })
            .unwrap();
        assert_eq!(lab.emulator.instance_metadata(&instance).unwrap(), None);
        assert_eq!(lab.emulator.instance_credentials(&instance).unwrap(), None);
    }

    #[test]
    fn forgetting_a_roles_sessions_renews_them() {
        let lab = Lab::new();
        lab.role("web", TRUST_EC2);
        lab.role("api", TRUST_EC2);
        lab.profile("web", Some("web"));
        lab.profile("api", Some("api"));
        let (web, api) = (lab.instance(Some("web")), lab.instance(Some("api")));
        let t0 = now_ms();
        let (web_first, api_first) = (lab.session(&web, t0), lab.session(&api, t0));

        // Names ignore case, as IAM's.
        assert_eq!(lab.emulator.forget_instance_sessions("WEB").unwrap(), 1);
        let web_second = lab.session(&web, t0 + MINUTE);
        assert_ne!(web_second.access_key_id, web_first.access_key_id);
        // Forgotten, not revoked: the old key still works until it expires.
        assert!(
            lab.emulator
                .credential(&web_first.access_key_id)
                .unwrap()
                .is_some()
        );
        // Another role's instances keep theirs.
        assert_eq!(lab.session(&api, t0 + MINUTE), api_first);
    }
}
