//! Restoring the live database from a backup file made by `Store::backup_to`, while the app
//! keeps running on the same `Store`.
//!
//! The order is what makes it safe:
//! 1. The file is checked without changing anything: it must be an SQLite file with OTP
//!    Desk's tables, of a schema this version knows, and pass `PRAGMA integrity_check`.
//! 2. The current database is copied next to itself as
//!    `otp-desk-before-restore-<UTC time>.db`, so a wrong choice can be undone by restoring
//!    that file.
//! 3. The backup is copied over the live database with SQLite's backup API in one step (one
//!    transaction: it either all arrives or nothing changes), and its schema is brought up
//!    to date.
//! 4. What belongs to this installation rather than to the office's data is put back: the
//!    database id (which names the code-hashing key in the keyring, see `codes::CodeKey`) and
//!    the admin passphrase with its lock, so the admin who just restored is not locked out
//!    by an older passphrase and the key the app holds keeps matching.
//! 5. Codes still pending in the backup are cancelled: they were sent before the backup
//!    was made, may have been hashed with another database's key, and no customer at the
//!    counter can still be waiting on them. The clerk sends a new one.
//! 6. The restore is recorded in the restored trail.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

use super::{backup_into, migrations, schema_version, Store, StoreError};
use crate::audit::{self, AuditError, Event, Kind, Outcome};
use crate::clock::format_ms;
use crate::contact::shorten_to;

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("the backup file {path} could not be opened: {reason}")]
    Open { path: String, reason: String },
    #[error("{path} is not an OTP Desk database ({reason}); choose a file made with \"Backup now\" or `otp-desk-cli backup`")]
    NotOtpDesk { path: String, reason: String },
    #[error("{path} was made by a newer version of OTP Desk (schema {found}, this version knows up to {known}); install that version to restore it")]
    TooNew {
        path: String,
        found: i64,
        known: usize,
    },
    #[error("{path} is damaged (the integrity check says: {detail}); choose another backup")]
    Damaged { path: String, detail: String },
    #[error("{0} is the database that is open now; choose a backup file")]
    SameFile(String),
    #[error("this database lives only in memory; there is nothing to restore into")]
    InMemory,
    #[error("the safety copy of the current database could not be written to {path} ({reason}); nothing was changed")]
    SafetyCopy { path: String, reason: String },
    #[error("another desk kept the database busy; nothing was changed. Try again in a moment (the safety copy is at {safety_copy})")]
    Busy { safety_copy: String },
    #[error("the backup has a different page size, and changing it needs the database to itself: close OTP Desk on the other computers or windows and try again; nothing was changed (the safety copy is at {safety_copy})")]
    OthersOpen { safety_copy: String },
    #[error("the backup could not be copied in ({reason}); nothing was changed (the safety copy is at {safety_copy})")]
    Copy { reason: String, safety_copy: String },
    #[error("the restored database could not be finished ({reason}); the database as it was before is in {safety_copy}: restore that file")]
    Finish { reason: String, safety_copy: String },
    #[error(transparent)]
    Operator(AuditError),
    #[error("the database failed during the restore: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// What a restore did, for the admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestoreReport {
    pub restored_from: String,
    /// The database as it was just before, next to the live file.
    pub safety_copy: String,
    /// The schema version the backup was written with.
    pub backup_schema_version: i64,
    pub schema_version: usize,
    pub customers: i64,
    /// Codes that were pending in the backup and are now cancelled.
    pub pending_codes_cancelled: u64,
}

/// A path as an error message shows it: line breaks and direction overrides in a file name
/// are made visible instead of breaking the message.
fn shown(path: &Path) -> String {
    shorten_to(&path.display().to_string(), 300)
}

/// Tables every OTP Desk database has had since schema 1.
const REQUIRED_TABLES: &[&str] = &["customers", "codes", "audit_events", "settings", "meta"];

/// Checks a backup file without changing it. Returns its schema version.
fn check_backup(path: &Path) -> Result<(Connection, i64), RestoreError> {
    let meta = std::fs::metadata(path).map_err(|e| RestoreError::Open {
        path: shown(path),
        reason: e.to_string(),
    })?;
    if !meta.is_file() {
        return Err(RestoreError::Open {
            path: shown(path),
            reason: "it is a folder, not a file".into(),
        });
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| RestoreError::Open {
        path: shown(path),
        reason: e.to_string(),
    })?;
    let not_ours = |reason: String| RestoreError::NotOtpDesk {
        path: shown(path),
        reason,
    };
    // The first read is where SQLite notices that a file is not a database at all.
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| {
            s.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .map_err(|e| not_ours(format!("not an SQLite database: {e}")))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > schema_version() as i64 {
        return Err(RestoreError::TooNew {
            path: shown(path),
            found: version,
            known: schema_version(),
        });
    }
    let missing: Vec<&str> = REQUIRED_TABLES
        .iter()
        .copied()
        .filter(|t| !tables.iter().any(|have| have == t))
        .collect();
    if version < 1 || !missing.is_empty() {
        return Err(not_ours(if tables.is_empty() {
            "it is empty".into()
        } else {
            format!("it has no {}", missing.join(", "))
        }));
    }
    let problems: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| {
            s.query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .map_err(|e| RestoreError::Damaged {
            path: shown(path),
            detail: e.to_string(),
        })?;
    if problems != ["ok"] {
        return Err(RestoreError::Damaged {
            path: shown(path),
            detail: shorten_to(&problems.join("; "), 300),
        });
    }
    Ok((conn, version))
}

/// A file name next to `live` that does not exist yet.
fn safety_copy_path(live: &Path, stamp: &str) -> PathBuf {
    let dir = live.parent().unwrap_or_else(|| Path::new("."));
    let mut n = 1;
    loop {
        let name = if n == 1 {
            format!("otp-desk-before-restore-{stamp}.db")
        } else {
            format!("otp-desk-before-restore-{stamp}-{n}.db")
        };
        let candidate = dir.join(name);
        if !candidate.exists() {
            return candidate;
        }
        n += 1;
    }
}

/// What belongs to this installation, kept across a restore.
struct Kept {
    database_id: Option<String>,
    admin: Option<(String, i64, i64, Option<i64>)>,
}

fn keep(conn: &Connection) -> rusqlite::Result<Kept> {
    let database_id = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'database_id'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let admin = conn
        .query_row(
            "SELECT phc, set_at, consecutive_failures, locked_until FROM admin_passphrase WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    Ok(Kept { database_id, admin })
}

/// Copies `from` over `to` in one backup step, waiting a few seconds for a busy database.
fn copy_all(from: &Connection, to: &mut Connection) -> Result<bool, rusqlite::Error> {
    let backup = Backup::new(from, to)?;
    for _ in 0..50 {
        match backup.step(-1)? {
            StepResult::Done => return Ok(true),
            StepResult::Busy | StepResult::Locked => std::thread::sleep(Duration::from_millis(100)),
            _ => {}
        }
    }
    Ok(false)
}

impl Store {
    /// Replaces the live database with the backup at `backup` (see the module documentation
    /// for the steps). `operator` is who did it, for the trail. This `Store` and its clones
    /// keep working and see the restored data; other desks see it at their next read.
    pub fn restore_from(
        &self,
        backup: impl AsRef<Path>,
        operator: &str,
    ) -> Result<RestoreReport, RestoreError> {
        let backup = backup.as_ref();
        let operator = audit::operator_name(operator).map_err(RestoreError::Operator)?;
        let live = self.path().ok_or(RestoreError::InMemory)?.to_path_buf();
        let same = match (std::fs::canonicalize(&live), std::fs::canonicalize(backup)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same {
            return Err(RestoreError::SameFile(shown(backup)));
        }
        let (source, backup_version) = check_backup(backup)?;

        let mut conn = self.conn();
        let now = self.clock().now_ms();
        let stamp = format_ms(now).replace([':', '-'], "");
        let safety = safety_copy_path(&live, &stamp);
        backup_into(&conn, &safety).map_err(|e| RestoreError::SafetyCopy {
            path: shown(&safety),
            reason: match e {
                StoreError::Backup(r) => r,
                other => other.to_string(),
            },
        })?;
        let kept = keep(&conn)?;

        // SQLite cannot change the page size of a database in WAL mode, and backups of older
        // installations have 4 KiB pages: the copy is then made in rollback mode, and the file
        // is rebuilt with its own page size afterwards.
        let page_size =
            |c: &Connection| c.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0));
        let live_page_size = page_size(&conn)?;
        let resize = page_size(&source)? != live_page_size;
        if resize {
            let mode: String = conn
                .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
                .unwrap_or_default();
            if !mode.eq_ignore_ascii_case("delete") {
                let _ = conn.execute_batch("PRAGMA journal_mode = WAL;");
                return Err(RestoreError::OthersOpen {
                    safety_copy: shown(&safety),
                });
            }
        }

        let copied = copy_all(&source, &mut conn);
        if !matches!(copied, Ok(true)) {
            let _ = conn.execute_batch("PRAGMA journal_mode = WAL;");
        }
        match copied {
            Ok(true) => {}
            Ok(false) => {
                return Err(RestoreError::Busy {
                    safety_copy: shown(&safety),
                })
            }
            Err(e) => {
                return Err(RestoreError::Copy {
                    reason: e.to_string(),
                    safety_copy: shown(&safety),
                })
            }
        }
        drop(source);
        conn.flush_prepared_statement_cache();

        let finished = (|| -> Result<(u64, i64), String> {
            if resize {
                conn.execute_batch(&format!("PRAGMA page_size = {live_page_size}; VACUUM;"))
                    .map_err(|e| e.to_string())?;
            }
            // The copy carries the backup's journal mode; the live file stays in WAL.
            conn.execute_batch("PRAGMA journal_mode = WAL;")
                .map_err(|e| e.to_string())?;
            migrations()
                .to_latest(&mut conn)
                .map_err(|e| e.to_string())?;
            let tx = conn.transaction().map_err(|e| e.to_string())?;
            let finish = || -> rusqlite::Result<(u64, i64)> {
                tx.execute("DELETE FROM meta WHERE key = 'database_id'", [])?;
                if let Some(id) = &kept.database_id {
                    tx.execute(
                        "INSERT INTO meta (key, value) VALUES ('database_id', ?1)",
                        [id],
                    )?;
                }
                tx.execute("DELETE FROM admin_passphrase", [])?;
                if let Some((phc, set_at, failures, locked_until)) = &kept.admin {
                    tx.execute(
                        "INSERT INTO admin_passphrase (id, phc, set_at, consecutive_failures, locked_until)
                         VALUES (1, ?1, ?2, ?3, ?4)",
                        rusqlite::params![phc, set_at, failures, locked_until],
                    )?;
                }
                let cancelled = tx.execute(
                    "UPDATE codes SET status = 'cancelled' WHERE status = 'pending'",
                    [],
                )? as u64;
                let customers: i64 =
                    tx.query_row("SELECT count(*) FROM customers", [], |r| r.get(0))?;
                Ok((cancelled, customers))
            };
            let (cancelled, customers) = finish().map_err(|e| e.to_string())?;
            audit::record(
                &tx,
                self.clock(),
                &Event::new(Kind::DatabaseRestored, Outcome::Ok, &operator).detail(format!(
                    "from {} (schema {backup_version}); the database before is in {}; {cancelled} pending codes cancelled",
                    backup.display(),
                    safety.display()
                )),
            )
            .map_err(|e| e.to_string())?;
            tx.commit().map_err(|e| e.to_string())?;
            Ok((cancelled, customers))
        })();

        let (pending_codes_cancelled, customers) = match finished {
            Ok(v) => v,
            Err(reason) => {
                // Put the database back as it was; the safety copy is still there either way.
                if let Ok(previous) =
                    Connection::open_with_flags(&safety, OpenFlags::SQLITE_OPEN_READ_ONLY)
                {
                    let _ = copy_all(&previous, &mut conn);
                    let _ = conn.execute_batch("PRAGMA journal_mode = WAL;");
                    conn.flush_prepared_statement_cache();
                }
                return Err(RestoreError::Finish {
                    reason,
                    safety_copy: shown(&safety),
                });
            }
        };
        Ok(RestoreReport {
            restored_from: backup.display().to_string(),
            safety_copy: safety.display().to_string(),
            backup_schema_version: backup_version,
            schema_version: schema_version(),
            customers,
            pending_codes_cancelled,
        })
    }
}
