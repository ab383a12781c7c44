//! The account file: schema, opening, and the one-transaction-per-call rule.
//!
//! Every API call that may write runs inside one `BEGIN IMMEDIATE`
//! transaction (WAL, `synchronous=FULL`), so a call is either wholly on disk
//! or not at all, whatever kills the process, and two processes never
//! interleave writes. Reads (opening, Get/List/Describe, the snapshot) use
//! deferred transactions, so they never wait for a writer.
//!
//! An account file carries rolecall's `application_id`; anything else at the
//! account path (another program's database, a text file) is refused before
//! anything is written, and a read-only account is opened without writing.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use percent_encoding::{AsciiSet, CONTROLS, percent_encode};
use rusqlite::config::DbConfig;
use rusqlite::{
    Connection, ErrorCode as SqliteCode, OpenFlags, OptionalExtension, TransactionBehavior,
};

use super::{EmulatorError, Faults, Quotas};

/// Bumped whenever the schema changes (`PRAGMA user_version`); an account
/// file of another version is refused.
pub const SCHEMA_VERSION: i64 = 4;

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

/// What each schema version adds to the one before: `UPGRADES[0]` takes
/// version 1 to 2, and so on. A new account gets [`SCHEMA`] and then every
/// upgrade; an older account gets the ones it lacks when first opened for
/// writing (reading it needs none: each upgrade only adds).
const UPGRADES: &[&str] = &[
    // 2: the keys requests through `rolecall serve` are signed with (see
    // `credentials`). The administrator key never expires; a role
    // session's key lives until `expires_at_ms` and only with its token.
    "
CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    session_token TEXT,
    role_name TEXT,
    role_id TEXT,
    session_name TEXT,
    issued_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER
) WITHOUT ROWID;
",
    // 3: the audit trail (see `trail`): every call through `rolecall serve`
    // and every change made in process, CloudTrail-shaped, the newest
    // `max_events` kept; the role session each lab instance's metadata
    // service hands out now (see `imds`), one row per instance; and, for a
    // role session that instance metadata issued, its instance.
    "
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL,
    event_time_ms INTEGER NOT NULL,
    event_source TEXT NOT NULL,
    event_name TEXT NOT NULL,
    read_only INTEGER NOT NULL,
    principal_arn TEXT NOT NULL,
    access_key_id TEXT,
    by_rolecall INTEGER NOT NULL,
    error_code TEXT,
    record TEXT NOT NULL
);
CREATE INDEX events_by_time ON events (event_time_ms);
CREATE TABLE instance_credentials (
    instance_id TEXT PRIMARY KEY,
    access_key_id TEXT NOT NULL
) WITHOUT ROWID;
ALTER TABLE account ADD COLUMN max_events INTEGER NOT NULL DEFAULT 10000; -- trail::DEFAULT_MAX_EVENTS
ALTER TABLE access_keys ADD COLUMN instance_id TEXT;
",
    // 4: customer-managed policies (see `policies`). Names are unique
    // ignoring case, as IAM's are; versions are numbered per policy (`vN`),
    // `next_version` never goes down, so a number is never reused; each
    // version's document lives in `documents` as given and canonical, as a
    // role's inline policies do. Attachments stay in `role_managed` (by
    // ARN), which AttachmentCount now counts by ARN, and boundaries in
    // `roles.boundary`, which PermissionsBoundaryUsageCount counts.
    "
CREATE TABLE policies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    path TEXT NOT NULL,
    policy_id TEXT NOT NULL,
    arn TEXT NOT NULL UNIQUE,
    description TEXT,
    create_date TEXT NOT NULL,
    update_date TEXT NOT NULL,
    default_version INTEGER NOT NULL,
    next_version INTEGER NOT NULL
);
CREATE TABLE policy_versions (
    policy INTEGER NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    document INTEGER NOT NULL REFERENCES documents(id),
    canonical INTEGER NOT NULL REFERENCES documents(id),
    create_date TEXT NOT NULL,
    PRIMARY KEY (policy, version)
) WITHOUT ROWID;
CREATE TABLE policy_tags (
    policy INTEGER NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
    fold TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (policy, fold)
) WITHOUT ROWID;
CREATE INDEX role_managed_arn ON role_managed(arn);
CREATE INDEX roles_boundary ON roles(boundary) WHERE boundary IS NOT NULL;
",
];

/// The first schema version with customer-managed policies: an account of
/// an older one, read without upgrading it, holds none.
pub const POLICIES_SCHEMA: i64 = 4;

/// Whether the account has the policy tables (see [`POLICIES_SCHEMA`]).
pub fn has_policies(db: &Connection) -> rusqlite::Result<bool> {
    Ok(user_version(db)? >= POLICIES_SCHEMA)
}

// -- which file is an account ------------------------------------------------

/// `PRAGMA application_id` of every account file: "RCal" in ASCII. It sits
/// in the file's header, so rolecall tells its accounts from other SQLite
/// files before opening them (`file` reports it too).
pub const APPLICATION_ID: i32 = i32::from_be_bytes(*b"RCal");

/// The tables of schema version 1, sorted: an SQLite file holding exactly
/// these with `user_version` 1 and no application id is an account written
/// before the mark existed.
const TABLES: &[&str] = &[
    "account",
    "associations",
    "documents",
    "instance_tags",
    "instances",
    "profile_tags",
    "profiles",
    "role_managed",
    "role_policies",
    "role_tags",
    "roles",
];

/// What is at the account path, found without writing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// No file.
    Missing,
    /// An empty file, or an SQLite database without tables: a new account.
    Empty,
    /// An account of this schema version.
    Account,
    /// An account written before accounts carried [`APPLICATION_ID`]:
    /// accepted, and marked (and upgraded) when first opened for writing.
    Unmarked,
    /// An account of an older schema version: read as it is, upgraded when
    /// first opened for writing.
    Outdated,
}

/// Says what the file at `path` is, refusing anything that is not an
/// account (another program's file, a newer schema) without touching it.
///
/// The header is read first with plain file I/O: a file that is not SQLite,
/// or belongs to another application, is refused before SQLite opens it.
/// The rest is asked of a read-only connection (see [`open_read_only`]),
/// which creates nothing beside the file.
pub fn identify(path: &Path) -> Result<Found, EmulatorError> {
    let application_id = match read_header(path)? {
        Header::Missing => return Ok(Found::Missing),
        Header::Empty => return Ok(Found::Empty),
        Header::Sqlite { application_id } => application_id,
    };
    if application_id != 0 && application_id != APPLICATION_ID {
        return Err(foreign_application(path, application_id));
    }
    let db = open_read_only(path).map_err(|e| EmulatorError::storage(path, e))?;
    contents(&db, path)
}

enum Header {
    Missing,
    Empty,
    Sqlite { application_id: i32 },
}

/// Account files this process holds connections to, by device and inode,
/// with how many and the application id their header carried.
///
/// Their header is never read again while a connection is open: reading it
/// opens a second descriptor on the database, and closing that descriptor
/// drops every POSIX lock the process holds on the file (fcntl semantics),
/// after which another process may delete the live WAL ("How To Corrupt An
/// SQLite Database File", 2.2). `rolecall serve` opens handles while
/// others are open, so this is not hypothetical. An open descriptor keeps
/// the inode from being reused, so the key cannot name another file.
static HELD: std::sync::Mutex<Vec<(FileKey, usize, i32)>> = std::sync::Mutex::new(Vec::new());

type FileKey = (u64, u64);

#[cfg(unix)]
fn file_key(metadata: &std::fs::Metadata) -> Option<FileKey> {
    use std::os::unix::fs::MetadataExt;
    Some((metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
fn file_key(_: &std::fs::Metadata) -> Option<FileKey> {
    // Windows has no fcntl locks to lose.
    None
}

fn held_application_id(metadata: &std::fs::Metadata) -> Option<i32> {
    let key = file_key(metadata)?;
    let held = HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    held.iter()
        .find(|(k, count, _)| *k == key && *count > 0)
        .map(|(_, _, id)| *id)
}

/// A connection's claim on its account file (see [`HELD`]); released when
/// dropped, after the connection.
pub struct Held(Option<FileKey>);

/// Registers a connection just opened on the account at `path`, whose
/// header carries `application_id` (known from before it was opened:
/// reading it now would be the very descriptor [`HELD`] avoids).
pub fn hold(path: &Path, application_id: i32) -> Held {
    let Some(key) = std::fs::metadata(path).ok().as_ref().and_then(file_key) else {
        return Held(None);
    };
    let mut held = HELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match held.iter_mut().find(|(k, _, _)| *k == key) {
        Some(entry) => {
            entry.1 += 1;
            // Marked since (an account opened to read, then to change).
            entry.2 = entry.2.max(application_id);
        }
        None => held.push((key, 1, application_id)),
    }
    Held(Some(key))
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(key) = self.0 else { return };
        let mut held = HELD
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(at) = held.iter().position(|(k, _, _)| *k == key) {
            held[at].1 -= 1;
            if held[at].1 == 0 {
                held.swap_remove(at);
            }
        }
    }
}

fn read_header(path: &Path) -> Result<Header, EmulatorError> {
    if let Ok(metadata) = std::fs::metadata(path)
        && let Some(application_id) = held_application_id(&metadata)
    {
        return Ok(Header::Sqlite { application_id });
    }
    read_header_from_file(path)
}

fn read_header_from_file(path: &Path) -> Result<Header, EmulatorError> {
    let io = |source| EmulatorError::Io {
        path: path.to_path_buf(),
        source,
    };
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Header::Missing),
        Err(error) => return Err(io(error)),
    };
    // Checked before opening: a named pipe would block the read.
    if metadata.is_dir() {
        return Err(not_an_account(path, "it is a directory"));
    }
    if !metadata.is_file() {
        return Err(not_an_account(path, "it is not a regular file"));
    }
    if metadata.len() == 0 {
        return Ok(Header::Empty);
    }
    // The first 100 bytes are SQLite's header: magic string, then fields
    // at fixed offsets (application id at 68, big-endian).
    let mut header = [0u8; 100];
    let mut file = std::fs::File::open(path).map_err(io)?;
    match file.read_exact(&mut header) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(not_an_account(path, "it is not an SQLite database"));
        }
        Err(error) => return Err(io(error)),
    }
    if !header.starts_with(b"SQLite format 3\0") {
        return Err(not_an_account(path, "it is not an SQLite database"));
    }
    let application_id = i32::from_be_bytes([header[68], header[69], header[70], header[71]]);
    Ok(Header::Sqlite { application_id })
}

fn not_an_account(path: &Path, reason: &str) -> EmulatorError {
    EmulatorError::NotAnAccount {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn foreign_application(path: &Path, application_id: i32) -> EmulatorError {
    not_an_account(
        path,
        &format!(
            "an SQLite database of another application: application_id {application_id:#010x}"
        ),
    )
}

/// What an open SQLite file holds. The header read by [`read_header`] may be
/// older than the file's contents (the newest pages can still be in the
/// `-wal` file), so this asks SQLite again.
fn contents(db: &Connection, path: &Path) -> Result<Found, EmulatorError> {
    let storage = |e| EmulatorError::storage(path, e);
    let application_id: i32 = db
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(storage)?;
    let version = user_version(db).map_err(storage)?;
    if application_id == APPLICATION_ID {
        check_version(path, version)?;
        return Ok(if version < SCHEMA_VERSION {
            Found::Outdated
        } else {
            Found::Account
        });
    }
    if application_id != 0 {
        return Err(foreign_application(path, application_id));
    }
    let tables: Vec<String> = db
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
             ORDER BY name",
        )
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(storage)?;
    if tables.is_empty() && version == 0 {
        return Ok(Found::Empty);
    }
    if version == 1 && tables == TABLES {
        return Ok(Found::Unmarked);
    }
    const SHOWN: usize = 5;
    let what = if tables.is_empty() {
        format!("user_version {version}")
    } else {
        let mut names = tables[..tables.len().min(SHOWN)].join(", ");
        if tables.len() > SHOWN {
            names.push_str(", …");
        }
        format!("tables {names}")
    };
    Err(not_an_account(
        path,
        &format!("an SQLite database of another program: {what}, no rolecall application_id"),
    ))
}

fn check_version(path: &Path, found: i64) -> Result<(), EmulatorError> {
    if (1..=SCHEMA_VERSION).contains(&found) {
        Ok(())
    } else {
        Err(EmulatorError::SchemaVersion {
            path: path.to_path_buf(),
            found,
        })
    }
}

// -- opening --------------------------------------------------------------------

/// The directory that holds the account (and its `-wal`, `-shm` and lock files).
fn directory(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Why this process may not write the account at `path`, if it may not: the
/// file, and the directory where SQLite keeps its `-wal` and `-shm` files
/// and rolecall its lock file. Asked of the OS (`access`), so the answer is
/// right for root and for read-only file systems too.
fn not_writable(path: &Path) -> Option<String> {
    let dir = directory(path);
    if path.exists()
        && let Err(error) = can_write(path)
    {
        return Some(format!("the file is not writable: {error}"));
    }
    if let Err(error) = can_write(dir) {
        return Some(format!(
            "its directory {} is not writable: {error}",
            dir.display()
        ));
    }
    None
}

#[cfg(unix)]
fn can_write(path: &Path) -> std::io::Result<()> {
    rustix::fs::access(path, rustix::fs::Access::WRITE_OK).map_err(std::io::Error::from)
}

#[cfg(not(unix))]
fn can_write(path: &Path) -> std::io::Result<()> {
    if std::fs::metadata(path)?.permissions().readonly() {
        Err(std::io::ErrorKind::PermissionDenied.into())
    } else {
        Ok(())
    }
}

/// Checks, changing nothing, that the account at `path` can be opened for
/// writing: its directory exists (rolecall creates the file, never a
/// mistyped directory), the file is an account or absent, and both may be
/// written.
pub fn check_writable(path: &Path) -> Result<Found, EmulatorError> {
    let dir = directory(path);
    if !dir.is_dir() {
        return Err(EmulatorError::NoDirectory {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
            exists: dir.exists(),
        });
    }
    let found = identify(path)?;
    if let Some(reason) = not_writable(path) {
        return Err(EmulatorError::ReadOnly {
            path: path.to_path_buf(),
            reason,
        });
    }
    Ok(found)
}

/// Opens the account at `path` for writing, creating it (not its directory)
/// with `account_id` (default 123456789012) on first use; an existing
/// account must have that id. Nothing is written before the file is known
/// to be an account, or empty.
pub fn open(path: &Path, account_id: Option<&str>) -> Result<(Connection, Held), EmulatorError> {
    let found = check_writable(path)?;
    let storage = |source| EmulatorError::storage(path, source);
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(storage)?;
    configure(&conn).map_err(storage)?;
    // A no-op on an account (they are all in WAL mode). A new file switches
    // before its schema goes in, so a process reading it meanwhile goes
    // through WAL's locks and sees it empty or whole.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(storage)?;
    // Opening an account only reads, so it does not wait for a process that
    // is writing it; only creating or marking one takes the write lock.
    if found != Found::Account {
        settle(&mut conn, path, account_id)?;
    }
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
    // Settled: an account, marked.
    let held = hold(path, APPLICATION_ID);
    Ok((conn, held))
}

/// Opens an existing account to read it: nothing is created, marked or
/// written, and a read-only file or directory is fine. `None` when there is
/// no account at `path` yet. The second value says why the account is
/// read-only, if it is.
pub fn open_to_read(
    path: &Path,
) -> Result<Option<(Connection, Option<String>, Held)>, EmulatorError> {
    let application_id = match identify(path)? {
        Found::Missing | Found::Empty => return Ok(None),
        Found::Unmarked => 0,
        Found::Account | Found::Outdated => APPLICATION_ID,
    };
    let storage = |source| EmulatorError::storage(path, source);
    let read_only = not_writable(path);
    // A writable account is opened read-write all the same: closing it
    // then tidies the `-wal` and `-shm` files away, and counting calls for
    // `configure --fail-after` can write.
    let conn = match read_only {
        None => Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
        Some(_) => open_read_only(path),
    }
    .map_err(storage)?;
    configure(&conn).map_err(storage)?;
    Ok(Some((conn, read_only, hold(path, application_id))))
}

/// A connection that cannot write and creates nothing beside the file.
///
/// In WAL mode even a reader needs the `-shm` file: it cannot create one in
/// a directory it may not write, and where it can, it would leave it (and an
/// empty `-wal`) behind, owned by this user, perhaps keeping the account's
/// owner from writing. With no `-wal` file every committed transaction is in
/// the main file, so it is opened `immutable` (no locks, no `-shm`); with
/// one, a writer is at work (or was killed), its `-shm` is there too, and
/// SQLite reads through both.
fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let immutable = if Path::new(&wal).exists() {
        ""
    } else {
        "&immutable=1"
    };
    let uri = format!("{}?mode=ro{immutable}", file_uri(path));
    Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// `file:` URI of a path: absolute, with the characters URIs give a meaning
/// (`?`, `#`, `%`) escaped.
fn file_uri(path: &Path) -> String {
    const ESCAPED: &AsciiSet = &CONTROLS.add(b'?').add(b'#').add(b'%');
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let encoded = percent_encode(absolute.as_os_str().as_encoded_bytes(), ESCAPED).to_string();
    // An empty authority (`file://` + `/path`): a path starting with `//`
    // must not read as a host name.
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        format!("file:{encoded}")
    }
}

/// The settings of every connection (none of them writes to the file).
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // A page cache large enough for a 100k-resource account, so repeated
    // snapshots read memory rather than the file (bytes, as a negative KiB count).
    conn.pragma_update(None, "cache_size", -131_072)?;
    // One plan per statement, whatever is bound. Without it SQLite marks a
    // statement whose plan could use a bound value (`WHERE role = ?1 ORDER
    // BY key`, `LIMIT ?3`) to be compiled again at every run: a cached
    // statement would be re-prepared on every call. Our queries are
    // lookups by key; no bound value changes their best plan.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Removes an account file and SQLite's files beside it (absent ones are fine).
pub fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        // Best effort: the caller is already reporting the failure that
        // made it remove the account.
        let _ = std::fs::remove_file(file);
    }
}

pub(crate) fn user_version(db: &Connection) -> rusqlite::Result<i64> {
    db.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Makes a new file an account, or marks an account written before the
/// mark, under the write lock: another process may have done it since the
/// caller looked, so the file is looked at again first.
///
/// Unmarked accounts are accepted because every account rolecall wrote
/// before the mark has exactly this schema: refusing them would strand
/// existing labs. Marking them when first opened for writing (never when
/// read) makes the next check a plain header read.
fn settle(
    conn: &mut Connection,
    path: &Path,
    account_id: Option<&str>,
) -> Result<(), EmulatorError> {
    let storage = |source| EmulatorError::storage(path, source);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(storage)?;
    let write = |found| -> rusqlite::Result<()> {
        match found {
            Found::Empty => {
                tx.pragma_update(None, "application_id", APPLICATION_ID)?;
                tx.execute_batch(SCHEMA)?;
                tx.execute(
                    "INSERT INTO account (id, account_id) VALUES (1, ?1)",
                    [account_id.unwrap_or(super::DEFAULT_ACCOUNT_ID)],
                )?;
                tx.pragma_update(None, "user_version", 1)?;
                upgrade(&tx)
            }
            Found::Unmarked => {
                tx.pragma_update(None, "application_id", APPLICATION_ID)?;
                upgrade(&tx)
            }
            Found::Outdated => upgrade(&tx),
            Found::Account | Found::Missing => Ok(()),
        }
    };
    write(contents(&tx, path)?).map_err(storage)?;
    tx.commit().map_err(storage)
}

/// Brings an account of an older schema version to this one, inside the
/// caller's write transaction: the upgrades it lacks, then what they need
/// filled in (an administrator key, for an account that has none).
fn upgrade(db: &Connection) -> rusqlite::Result<()> {
    let version = user_version(db)?;
    for (from, sql) in (1..).zip(UPGRADES) {
        if version <= from {
            db.execute_batch(sql)?;
        }
    }
    super::credentials::ensure_admin_key(db, super::now_ms())?;
    db.pragma_update(None, "user_version", SCHEMA_VERSION)
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
         DELETE FROM policy_tags; DELETE FROM policy_versions; DELETE FROM policies;
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

/// One of the tag tables (`role_tags`, `profile_tags`, `instance_tags`, `policy_tags`).
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
pub const POLICY_TAGS: TagTable = TagTable {
    table: "policy_tags",
    owner: "policy",
};

impl TagTable {
    /// The tags of one resource, sorted by key.
    pub fn of(
        self,
        db: &Connection,
        owner: i64,
    ) -> rusqlite::Result<Vec<rolecall_cloud::iam::Tag>> {
        let sql = format!(
            "SELECT key, value FROM {} WHERE {} = ?1 ORDER BY key",
            self.table, self.owner
        );
        let mut stmt = db.prepare_cached(&sql)?;
        let rows = stmt.query_map([owner], |r| {
            Ok(rolecall_cloud::iam::Tag {
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
        tags: &[rolecall_cloud::iam::Tag],
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
        tags: &[rolecall_cloud::iam::Tag],
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

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite reads `?` as the start of the query and `#` as a fragment, and
    /// decodes `%XX`: an account whose name holds them must still open.
    #[test]
    fn file_uris_escape_what_uris_give_a_meaning() {
        assert_eq!(
            file_uri(Path::new("/labs/we?ird#%20.db")),
            "file:///labs/we%3Fird%23%2520.db"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("we?ird#%20.db");
        open(&path, None).unwrap();
        let db = open_read_only(&path).unwrap();
        assert_eq!(contents(&db, &path).unwrap(), Found::Account);
    }

    /// A cached statement is compiled once: running it again with other
    /// values must not make SQLite prepare it anew (which cost a tenth of
    /// a call through `rolecall serve`).
    #[test]
    fn cached_statements_are_not_prepared_again_for_new_values() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _held) = open(&dir.path().join("account.db"), None).unwrap();
        for owner in [1, 2, 3] {
            ROLE_TAGS.of(&db, owner).unwrap();
        }
        let sql = "SELECT key, value FROM role_tags WHERE role = ?1 ORDER BY key";
        let statement = db.prepare_cached(sql).unwrap();
        assert_eq!(
            statement.get_status(rusqlite::StatementStatus::RePrepare),
            0
        );
    }

    /// While this process holds a connection to an account, its header is
    /// not read again: reading means opening and closing a descriptor of
    /// the file, and closing any descriptor drops every POSIX lock the
    /// process holds on it, the connection's too.
    #[cfg(unix)]
    #[test]
    fn a_held_account_is_not_opened_again_to_read_its_header() {
        use std::io::{Seek, Write};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("account.db");
        let (conn, held) = open(&path, None).unwrap();
        // Scribble over the header in place (same inode): a read would see it.
        let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.seek(std::io::SeekFrom::Start(0)).unwrap();
        file.write_all(b"not a database").unwrap();
        assert!(matches!(
            read_header(&path),
            Ok(Header::Sqlite {
                application_id: APPLICATION_ID
            })
        ));
        drop(conn);
        drop(held);
        // Closing checkpoints the WAL into the file; scribble again.
        let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all(b"not a database").unwrap();
        assert!(
            read_header(&path).is_err(),
            "read again once nothing holds it"
        );
    }
}
