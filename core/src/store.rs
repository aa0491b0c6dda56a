//! The SQLite file: where it lives, how a connection is set up, the schema and its
//! migrations, and online backup.
//!
//! Every other module receives a `&Connection` (or a transaction) from here and owns its own
//! tables; this module owns only the file and the schema history.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::TryRngCore;
use rusqlite::OpenFlags;
use rusqlite_migration::{Migrations, M};

use crate::clock::{Clock, SystemClock};

mod restore;

pub use restore::{RestoreError, RestoreReport};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the database at {path} was written by a newer version of OTP Desk (schema {found}, this version knows up to {known}); install the newer version or open a backup")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("cannot update the database schema: {0}")]
    Migration(String),
    #[error("the database is busy or failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("no folder for application data could be found for this user; pass --db PATH or set OTP_DESK_DB")]
    NoDataDir,
    #[error("cannot create the folder {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the backup target {0} already exists; choose a new file name")]
    BackupExists(PathBuf),
    #[error("backup failed: {0}")]
    Backup(String),
}

/// Re-exported so callers (the shell, the CLI) can name the connection type without
/// depending on rusqlite themselves.
pub use rusqlite::Connection;

/// The schema, one entry per version. Never edit a shipped entry; append a new one.
fn steps() -> Vec<M<'static>> {
    vec![
        M::up(include_str!("store/0001_initial.sql")),
        M::up(include_str!("store/0002_mail.sql")),
        M::up(include_str!("store/0003_oauth.sql")),
        M::up(include_str!("store/0004_sms.sql")),
        M::up(include_str!("store/0005_desk.sql")),
        M::up_with_hook(
            include_str!("store/0006_phone_terms.sql"),
            rebuild_search_index,
        ),
    ]
}

/// The number of entries in [`steps`] (a test holds them equal), as a constant so that
/// asking for it builds nothing.
const SCHEMA_VERSION: usize = 6;

fn rebuild_search_index(tx: &rusqlite::Transaction) -> rusqlite_migration::HookResult {
    crate::customers::search::rebuild_index(tx)
        .map(|_| ())
        .map_err(|e| {
            rusqlite_migration::HookError::Hook(format!("rebuilding the search index: {e}"))
        })
}

pub fn migrations() -> Migrations<'static> {
    Migrations::new(steps())
}

/// The newest schema version this build knows.
pub fn schema_version() -> usize {
    SCHEMA_VERSION
}

/// The environment variable that overrides the database location.
pub const DB_ENV: &str = "OTP_DESK_DB";

/// Where the database lives when nobody says otherwise: the OS app-data folder
/// (`~/.local/share/otpdesk` on Linux; the per-user application-data folder elsewhere).
pub fn default_db_path() -> Result<PathBuf, StoreError> {
    if let Some(p) = std::env::var_os(DB_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let dirs = directories::ProjectDirs::from("", "", "OTP Desk").ok_or(StoreError::NoDataDir)?;
    Ok(dirs.data_dir().join("otp-desk.db"))
}

/// Connection settings every connection gets. WAL lets a reader (search) run while a writer
/// (import) works; the busy timeout makes two desks wait for each other instead of failing.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    // Every commit writes each page it touched to the write-ahead log, and issuing plus
    // verifying a code touches about a dozen (the code, its two indexes, the audit row and
    // its indexes). 2 KiB pages halve those bytes against the 4 KiB default: 11,200 instead
    // of 8,700 round trips a second (benches/codes.rs), with search and import unchanged.
    // page_size only takes effect when the file is created. synchronous=NORMAL syncs at
    // checkpoints only; a 32 MB checkpoint interval lets the hot pages (the newest index
    // leaves) be written back once per checkpoint rather than many times.
    conn.execute_batch(
        "PRAGMA page_size = 2048;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA wal_autocheckpoint = 16000;
         PRAGMA journal_size_limit = 67108864;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -32000;",
    )
}

/// An open database plus the clock its rules read. Cheap to clone; clones share one
/// connection, which is what a desktop app with one window wants. Tests that need real
/// concurrency open several `Store`s on the same file.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    clock: Arc<dyn Clock>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_clock(path, Arc::new(SystemClock))
    }

    pub fn open_with_clock(
        path: impl AsRef<Path>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        Self::prepare(conn, clock, Some(path))
    }

    /// A private in-memory database, for unit tests and benchmarks of pure SQL work.
    pub fn open_in_memory(clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory()?;
        Self::prepare(conn, clock, None)
    }

    fn prepare(
        mut conn: Connection,
        clock: Arc<dyn Clock>,
        path: Option<PathBuf>,
    ) -> Result<Self, StoreError> {
        let shown = path.clone().unwrap_or_else(|| PathBuf::from(":memory:"));
        configure(&conn).map_err(|source| StoreError::Open {
            path: shown.clone(),
            source,
        })?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found > schema_version() as i64 {
            return Err(StoreError::TooNew {
                path: shown,
                found,
                known: schema_version(),
            });
        }
        migrations()
            .to_latest(&mut conn)
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            clock,
            path,
        })
    }

    /// The connection, for one unit of work. Hold it only as long as that work takes.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back on drop), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn clock_arc(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Copies what the write-ahead log holds into the database file (a passive checkpoint),
    /// on a connection of its own, so that desks can go on reading and writing meanwhile.
    /// For after a large write (an import) that left its pages in the log; call it from a
    /// thread that may wait. Does nothing for an in-memory database.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        // Never creates a file: if the database has gone, there is nothing to copy.
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Copies the live database to `target` with SQLite's online backup, so desks can keep
    /// working while it runs. Refuses to overwrite an existing file.
    pub fn backup_to(&self, target: impl AsRef<Path>) -> Result<(), StoreError> {
        backup_into(&self.conn(), target.as_ref())
    }
}

/// Copies `conn`'s database to a new file `target`, as one self-contained file.
fn backup_into(conn: &Connection, target: &Path) -> Result<(), StoreError> {
    if target.exists() {
        return Err(StoreError::BackupExists(target.to_path_buf()));
    }
    let mut dst = Connection::open(target).map_err(|e| StoreError::Backup(e.to_string()))?;
    {
        let backup = rusqlite::backup::Backup::new(conn, &mut dst)
            .map_err(|e| StoreError::Backup(e.to_string()))?;
        backup
            .run_to_completion(1024, Duration::from_millis(0), None)
            .map_err(|e| StoreError::Backup(e.to_string()))?;
    }
    // The copy is a plain rollback-journal file: one self-contained file to carry away.
    dst.execute_batch("PRAGMA journal_mode = DELETE;")
        .map_err(|e| StoreError::Backup(e.to_string()))?;
    Ok(())
}

/// This database file's random id, created on first use. It names the file's code-hashing
/// key in the keyring, so two databases (a test copy and the office's) never share a key.
pub fn database_id(conn: &Connection) -> Result<String, StoreError> {
    use rusqlite::OptionalExtension;
    let found: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'database_id'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| StoreError::Migration(format!("no randomness from the OS: {e}")))?;
    let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    // Two processes racing here both insert-or-ignore; both then read the winner.
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('database_id', ?1)",
        [&id],
    )?;
    Ok(conn.query_row(
        "SELECT value FROM meta WHERE key = 'database_id'",
        [],
        |r| r.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().unwrap();
        assert_eq!(steps().len(), SCHEMA_VERSION);
    }

    #[test]
    fn pragmas_are_set_on_a_file_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("a.db")).unwrap();
        let conn = store.conn();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let timeout: i64 = conn
            .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
            .unwrap();
        assert_eq!(timeout, 10_000);
    }
}
