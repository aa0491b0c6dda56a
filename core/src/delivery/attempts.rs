//! The delivery record: one row per attempt to deliver a message, with its outcome. Never the
//! code, never the full address, never a secret.

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::clock::{Clock, Millis};
use crate::contact::{self, Channel};

use super::FailureClass;

/// One attempt, about to be recorded.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    pub code_id: Option<i64>,
    pub channel: Channel,
    pub account: &'a str,
    pub masked_recipient: &'a str,
    /// `None` when sent.
    pub failure: Option<FailureClass>,
    /// What the server or transport said, already scrubbed of secrets.
    pub reply: &'a str,
    pub duration_ms: u64,
}

pub fn record(conn: &Connection, clock: &dyn Clock, a: &Attempt<'_>) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO delivery_attempts
            (at, code_id, channel, account, recipient, status, failure_class, reply, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        clock.now_ms(),
        a.code_id,
        a.channel.as_str(),
        a.account,
        a.masked_recipient,
        if a.failure.is_some() {
            "failed"
        } else {
            "sent"
        },
        a.failure.map(FailureClass::as_str),
        contact::shorten(a.reply),
        i64::try_from(a.duration_ms).unwrap_or(i64::MAX),
    ])?;
    Ok(conn.last_insert_rowid())
}

/// A recorded attempt, as the Activity screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptRecord {
    pub id: i64,
    pub at: Millis,
    pub code_id: Option<i64>,
    pub channel: String,
    pub account: String,
    pub recipient: String,
    pub status: String,
    pub failure_class: Option<String>,
    pub reply: String,
    pub duration_ms: i64,
}

/// The newest attempts first, optionally for one code.
pub fn list(
    conn: &Connection,
    code_id: Option<i64>,
    limit: u32,
) -> rusqlite::Result<Vec<AttemptRecord>> {
    // Two statements, not "?1 IS NULL OR code_id = ?1": that form cannot use the code index
    // and walks every delivery ever recorded.
    const COLUMNS: &str =
        "SELECT id, at, code_id, channel, account, recipient, status, failure_class, reply, duration_ms
           FROM delivery_attempts";
    let mut stmt = match code_id {
        Some(_) => conn.prepare_cached(&format!(
            "{COLUMNS} WHERE code_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2"
        ))?,
        None => conn.prepare_cached(&format!(
            "{COLUMNS} WHERE ?1 IS NULL ORDER BY at DESC, id DESC LIMIT ?2"
        ))?,
    };
    let rows = stmt
        .query_map(params![code_id, limit.min(1000)], |r| {
            Ok(AttemptRecord {
                id: r.get(0)?,
                at: r.get(1)?,
                code_id: r.get(2)?,
                channel: r.get(3)?,
                account: r.get(4)?,
                recipient: r.get(5)?,
                status: r.get(6)?,
                failure_class: r.get(7)?,
                reply: r.get(8)?,
                duration_ms: r.get(9)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
