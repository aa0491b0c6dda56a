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
    /// SMS: the provider's id for the message (Twilio's SM… sid); empty otherwise.
    pub provider_id: &'a str,
    /// SMS: the provider's status when it took the message (`queued`, …); empty otherwise.
    pub provider_status: &'a str,
}

pub fn record(conn: &Connection, clock: &dyn Clock, a: &Attempt<'_>) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO delivery_attempts
            (at, code_id, channel, account, recipient, status, failure_class, reply, duration_ms,
             provider_id, provider_status, status_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, CASE WHEN ?11 = '' THEN NULL ELSE ?1 END)",
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
        a.provider_id,
        a.provider_status,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Records what the provider now says about a sent message (status tracking).
pub fn set_provider_status(
    conn: &Connection,
    clock: &dyn Clock,
    attempt_id: i64,
    status: &str,
    error_code: Option<u32>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE delivery_attempts SET provider_status = ?2, provider_error = ?3, status_at = ?4
         WHERE id = ?1",
    )?
    .execute(params![
        attempt_id,
        contact::shorten(status),
        error_code,
        clock.now_ms()
    ])?;
    Ok(())
}

/// The try that delivered a code: the newest attempt recorded as sent for it.
pub fn last_sent(conn: &Connection, code_id: i64) -> rusqlite::Result<Option<AttemptRecord>> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM delivery_attempts
          WHERE code_id = ?1 AND status = 'sent'
          ORDER BY id DESC LIMIT 1"
    ))?
    .query_row([code_id], from_row)
    .optional()
}

const COLUMNS: &str =
    "id, at, code_id, channel, account, recipient, status, failure_class, reply, \
                       duration_ms, provider_id, provider_status, provider_error, status_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AttemptRecord> {
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
        provider_id: r.get(10)?,
        provider_status: r.get(11)?,
        provider_error: r.get(12)?,
        status_at: r.get(13)?,
    })
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
    /// SMS: Twilio's message SID.
    pub provider_id: String,
    /// SMS: the last status Twilio reported (queued, sent, delivered, undelivered, failed, …).
    pub provider_status: String,
    /// SMS: Twilio's error code for an undelivered or failed message.
    pub provider_error: Option<u32>,
    /// When `provider_status` was last learnt.
    pub status_at: Option<Millis>,
}

/// The newest attempts first, optionally for one code.
pub fn list(
    conn: &Connection,
    code_id: Option<i64>,
    limit: u32,
) -> rusqlite::Result<Vec<AttemptRecord>> {
    // Two statements, not "?1 IS NULL OR code_id = ?1": that form cannot use the code index
    // and walks every delivery ever recorded.
    let mut stmt = match code_id {
        Some(_) => conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM delivery_attempts
              WHERE code_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2"
        ))?,
        None => conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM delivery_attempts
              WHERE ?1 IS NULL ORDER BY at DESC, id DESC LIMIT ?2"
        ))?,
    };
    let rows = stmt
        .query_map(params![code_id, limit.min(1000)], from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
