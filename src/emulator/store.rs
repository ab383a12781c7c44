//! The account file: schema, opening, and the one-transaction-per-call rule.
//!
//! Every API call that may write runs inside one `BEGIN IMMEDIATE`
//! transaction (WAL, `synchronous=FULL`), so a call is either wholly on disk
//! or not at all, whatever kills the process, and two processes never
//! interleave writes. Reads (opening, Get/List/Describe, the snapshot) use
//! deferred transactions, so they never wait for a writer.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode as SqliteCode, OptionalExtension, TransactionBehavior};

use super::{EmulatorError, Faults, Quotas};

/// Bumped whenever the schema changes; an account file from another version is refused.
pub const SCHEMA_VERSION: i64 = 1;

/// How long a call waits for another process holding the account before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

// Policy documents live once each in `documents` (most roles share a trust
// policy), referenced by id: both as given (what Get returns) and canonical
// (what the snapshot parses), which keeps the scanned tables small.
// Tags live in their own WITHOUT ROWID tables clustered by owner, so the
// snapshot reads each table in one sequential scan. `fold` is the key as the
// resource compares it: lower-cased for roles (case-insensitive keys), the key
// itself for profiles and instances. Names use NOCASE: IAM names are ASCII and
// unique ignoring case.
const SCHEMA: &str = "
CREATE TABLE account (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    account_id TEXT NOT NULL,
    propagation_delay_ms INTEGER NOT NULL DEFAULT 0,
    associating_ms INTEGER NOT NULL DEFAULT 0,
    throttle_rate REAL NOT NULL DEFAULT 0,
    fail_after INTEGER,
    seed INTEGER NOT NULL DEFAULT 0,
    calls INTEGER NOT NULL DEFAULT 0,
    max_roles INTEGER NOT NULL DEFAULT 1000,
    max_instance_profiles INTEGER NOT NULL DEFAULT 1000
);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);
CREATE TABLE roles (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    path TEXT NOT NULL,
    role_id TEXT NOT NULL,
    arn TEXT NOT NULL,
    create_date TEXT NOT NULL,
    trust INTEGER NOT NULL REFERENCES documents(id),
    trust_canonical INTEGER NOT NULL REFERENCES documents(id),
    description TEXT,
    max_session_duration INTEGER NOT NULL,
    boundary TEXT
);
CREATE TABLE role_tags (
    role INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    fold TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (role, fold)
) WITHOUT ROWID;
CREATE TABLE role_policies (
    role INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    document INTEGER NOT NULL REFERENCES documents(id),
    canonical INTEGER NOT NULL REFERENCES documents(id),
    size INTEGER NOT NULL,
    PRIMARY KEY (role, name)
) WITHOUT ROWID;
CREATE TABLE role_managed (
    role INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    arn TEXT NOT NULL,
    PRIMARY KEY (role, arn)
) WITHOUT ROWID;
CREATE TABLE profiles (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    path TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    create_date TEXT NOT NULL,
    role INTEGER REFERENCES roles(id),
    visible_at_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX profiles_role ON profiles(role);
CREATE TABLE profile_tags (
    profile INTEGER NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
    fold TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (profile, fold)
) WITHOUT ROWID;
CREATE TABLE instances (
    id INTEGER PRIMARY KEY,
    instance_id TEXT NOT NULL UNIQUE,
    reservation_id TEXT NOT NULL,
    image_id TEXT NOT NULL,
    instance_type TEXT NOT NULL,
    launch_time TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE instance_tags (
    instance INTEGER NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    fold TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (instance, fold)
) WITHOUT ROWID;
-- Only live associations (associating/associated) are rows: one per instance.
CREATE TABLE associations (
    id INTEGER PRIMARY KEY,
    association_id TEXT NOT NULL UNIQUE,
    instance INTEGER NOT NULL UNIQUE REFERENCES instances(id) ON DELETE CASCADE,
    profile_arn TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    ready_at_ms INTEGER NOT NULL
);
";

/// Opens (creating on first use) the account file at `path`.
pub fn open(path: &Path, account_id: Option<&str>) -> Result<Connection, EmulatorError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| EmulatorError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let storage = |source| EmulatorError::storage(path, source);
    let mut conn = Connection::open(path).map_err(storage)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(storage)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(storage)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(storage)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(storage)?;
    // A page cache large enough for a 100k-resource account, so repeated
    // snapshots read memory rather than the file (bytes, as a negative KiB count).
    conn.pragma_update(None, "cache_size", -131_072)
        .map_err(storage)?;
    conn.set_prepared_statement_cache_capacity(64);

    // Opening an existing account only reads, so it does not wait for a
    // process that is writing it; only creating the schema takes the write lock.
    let mut version = user_version(&conn).map_err(storage)?;
    if version == 0 {
        version = create_schema(&mut conn, account_id).map_err(storage)?;
    }
    match version {
        SCHEMA_VERSION => {
            if let Some(wanted) = account_id {
                let existing = read_account_id(&conn).map_err(storage)?;
                if existing != wanted {
                    return Err(EmulatorError::AccountIdMismatch {
                        path: path.to_path_buf(),
                        existing,
                        wanted: wanted.to_string(),
                    });
                }
            }
            Ok(conn)
        }
        found => Err(EmulatorError::SchemaVersion {
            path: path.to_path_buf(),
            found,
        }),
    }
}

fn user_version(db: &Connection) -> rusqlite::Result<i64> {
    db.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Creates the schema and the account row in a new file and returns the
/// schema version. Another process may have created it since the caller
/// looked: the version is read again under the write lock.
fn create_schema(conn: &mut Connection, account_id: Option<&str>) -> rusqlite::Result<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version = user_version(&tx)?;
    if version != 0 {
        return Ok(version);
    }
    tx.execute_batch(SCHEMA)?;
    tx.execute(
        "INSERT INTO account (id, account_id) VALUES (1, ?1)",
        [account_id.unwrap_or(super::DEFAULT_ACCOUNT_ID)],
    )?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(SCHEMA_VERSION)
}

pub fn read_account_id(db: &Connection) -> rusqlite::Result<String> {
    db.query_row("SELECT account_id FROM account WHERE id = 1", [], |r| {
        r.get(0)
    })
}

/// The per-account settings every call consults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub account_id: String,
    pub faults: Faults,
    pub quotas: Quotas,
    pub calls: u64,
}

pub fn read_settings(db: &Connection) -> rusqlite::Result<Settings> {
    db.prepare_cached(
        "SELECT account_id, propagation_delay_ms, associating_ms, throttle_rate, fail_after,
                seed, calls, max_roles, max_instance_profiles
         FROM account WHERE id = 1",
    )?
    .query_row([], |r| {
        Ok(Settings {
            account_id: r.get(0)?,
            faults: Faults {
                propagation_delay_ms: to_u64(r.get(1)?),
                associating_ms: to_u64(r.get(2)?),
                throttle_rate: r.get(3)?,
                fail_after: r.get::<_, Option<i64>>(4)?.map(to_u64),
                // The seed is stored as the i64 with the same bits.
                seed: r.get::<_, i64>(5)? as u64,
            },
            quotas: Quotas {
                max_roles: r.get(7)?,
                max_instance_profiles: r.get(8)?,
            },
            calls: to_u64(r.get(6)?),
        })
    })
}

// SQLite integers are i64; settings are u64 and never near the limit.
fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub fn write_faults(db: &Connection, faults: &Faults) -> rusqlite::Result<()> {
    // Configuring restarts the call count, so `fail_after` counts from now.
    db.execute(
        "UPDATE account SET propagation_delay_ms = ?1, associating_ms = ?2, throttle_rate = ?3,
                fail_after = ?4, seed = ?5, calls = 0 WHERE id = 1",
        rusqlite::params![
            to_i64(faults.propagation_delay_ms),
            to_i64(faults.associating_ms),
            faults.throttle_rate,
            faults.fail_after.map(to_i64),
            faults.seed as i64
        ],
    )?;
    Ok(())
}

pub fn write_quotas(db: &Connection, quotas: &Quotas) -> rusqlite::Result<()> {
    db.execute(
        "UPDATE account SET max_roles = ?1, max_instance_profiles = ?2 WHERE id = 1",
        rusqlite::params![quotas.max_roles, quotas.max_instance_profiles],
    )?;
    Ok(())
}

pub fn count_call(db: &Connection) -> rusqlite::Result<()> {
    db.prepare_cached("UPDATE account SET calls = calls + 1 WHERE id = 1")?
        .execute([])?;
    Ok(())
}

/// Whether an error means another process held the account too long.
pub fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(SqliteCode::DatabaseBusy | SqliteCode::DatabaseLocked)
    )
}

/// Empties every resource table (import replaces the whole account).
pub fn clear(db: &Connection) -> rusqlite::Result<()> {
    db.execute_batch(
        "DELETE FROM associations; DELETE FROM instance_tags; DELETE FROM instances;
         DELETE FROM profile_tags; DELETE FROM profiles; DELETE FROM role_managed;
         DELETE FROM role_policies; DELETE FROM role_tags; DELETE FROM roles;
         DELETE FROM documents;",
    )
}

/// The id of a document text, stored once however many resources use it.
pub fn document_id(db: &Connection, text: &str) -> rusqlite::Result<i64> {
    db.prepare_cached("INSERT INTO documents (text) VALUES (?1) ON CONFLICT (text) DO NOTHING")?
        .execute([text])?;
    db.prepare_cached("SELECT id FROM documents WHERE text = ?1")?
        .query_row([text], |r| r.get(0))
}

/// `Some(x)` from a query returning at most one row.
pub fn optional<T>(result: rusqlite::Result<T>) -> rusqlite::Result<Option<T>> {
    result.optional()
}

/// One of the three tag tables (`role_tags`, `profile_tags`, `instance_tags`).
#[derive(Debug, Clone, Copy)]
pub struct TagTable {
    pub table: &'static str,
    pub owner: &'static str,
}

pub const ROLE_TAGS: TagTable = TagTable {
    table: "role_tags",
    owner: "role",
};
pub const PROFILE_TAGS: TagTable = TagTable {
    table: "profile_tags",
    owner: "profile",
};
pub const INSTANCE_TAGS: TagTable = TagTable {
    table: "instance_tags",
    owner: "instance",
};

impl TagTable {
    /// The tags of one resource, sorted by key.
    pub fn of(self, db: &Connection, owner: i64) -> rusqlite::Result<Vec<crate::cloud::iam::Tag>> {
        let sql = format!(
            "SELECT key, value FROM {} WHERE {} = ?1 ORDER BY key",
            self.table, self.owner
        );
        let mut stmt = db.prepare_cached(&sql)?;
        let rows = stmt.query_map([owner], |r| {
            Ok(crate::cloud::iam::Tag {
                key: r.get(0)?,
                value: r.get(1)?,
            })
        })?;
        rows.collect()
    }

    /// Sets tags (an existing key, as the resource compares keys, is overwritten).
    pub fn upsert(
        self,
        db: &Connection,
        owner: i64,
        tags: &[crate::cloud::iam::Tag],
        case: super::validate::KeyCase,
    ) -> rusqlite::Result<()> {
        let sql = format!(
            "INSERT INTO {} ({}, fold, key, value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO UPDATE SET key = excluded.key, value = excluded.value",
            self.table, self.owner
        );
        let mut stmt = db.prepare_cached(&sql)?;
        for tag in tags {
            stmt.execute(rusqlite::params![
                owner,
                case.fold(&tag.key),
                tag.key,
                tag.value
            ])?;
        }
        Ok(())
    }

    /// Removes keys (absent keys are ignored).
    pub fn remove(
        self,
        db: &Connection,
        owner: i64,
        keys: &[String],
        case: super::validate::KeyCase,
    ) -> rusqlite::Result<()> {
        let sql = format!(
            "DELETE FROM {} WHERE {} = ?1 AND fold = ?2",
            self.table, self.owner
        );
        let mut stmt = db.prepare_cached(&sql)?;
        for key in keys {
            stmt.execute(rusqlite::params![owner, case.fold(key)])?;
        }
        Ok(())
    }

    /// How many tags the resource would have after setting `tags`.
    pub fn count_after(
        self,
        db: &Connection,
        owner: i64,
        tags: &[crate::cloud::iam::Tag],
        case: super::validate::KeyCase,
    ) -> rusqlite::Result<usize> {
        let mut folds: std::collections::HashSet<String> = self
            .of(db, owner)?
            .iter()
            .map(|t| case.fold(&t.key))
            .collect();
        folds.extend(tags.iter().map(|t| case.fold(&t.key)));
        Ok(folds.len())
    }
}
