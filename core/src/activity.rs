//! The Activity screen's questions, read-only: which codes went out, what became of them,
//! and, for one code, every delivery try and every audit event about it.
//!
//! The listing covers the codes still in the `codes` table, i.e. those within the retention
//! window (`retention_days`, default 30 days after expiry); older history is in the audit
//! trail (`audit::query`), which is never cleaned up.
//!
//! Contacts are shown masked (`jo…@example.com`, `+1 …0132`), and the text search looks only
//! at what the screen shows: the account number, the customer's name and the *masked*
//! contact. It never matches the full address or number: otherwise typing "jo.smith" and
//! watching rows appear would tell anyone at the screen whose address it is, letter by letter.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use rusqlite::functions::FunctionFlags;
use rusqlite::types::ToSql;
use rusqlite::{Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::audit::{self, csv_safe, escape_like, AuditError};
use crate::clock::{format_ms, Millis};
use crate::contact::{self, Channel};
use crate::delivery::attempts::{self, AttemptRecord};

/// A page is capped so a careless caller cannot pull the whole table into the window.
pub const MAX_PAGE: u32 = 500;
pub const DEFAULT_PAGE: u32 = 50;
/// Nobody types more into a search box; a pasted essay is cut here.
pub const MAX_TEXT_CHARS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum ActivityError {
    #[error(
        "unknown state \"{0}\" (use pending, expired, verified, dead, superseded or cancelled)"
    )]
    UnknownState(String),
    #[error("the date range is reversed: \"from\" is after \"to\"")]
    ReversedRange,
    #[error(
        "no code with id {0}; it may have been cleaned up (its events stay in the audit trail)"
    )]
    NotFound(i64),
    #[error("the activity could not be read: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("the export could not be written: {0}")]
    Export(String),
}

impl From<AuditError> for ActivityError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::Storage(e) => ActivityError::Storage(e),
            AuditError::ReversedRange => ActivityError::ReversedRange,
            other => ActivityError::Export(other.to_string()),
        }
    }
}

/// What became of a code. `Expired` is a pending code whose time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeState {
    Pending,
    Expired,
    Verified,
    /// Too many wrong entries.
    Dead,
    /// A newer code went to the same contact.
    Superseded,
    /// Its delivery failed, or a restore voided it.
    Cancelled,
}

impl CodeState {
    pub const ALL: &'static [CodeState] = &[
        CodeState::Pending,
        CodeState::Expired,
        CodeState::Verified,
        CodeState::Dead,
        CodeState::Superseded,
        CodeState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CodeState::Pending => "pending",
            CodeState::Expired => "expired",
            CodeState::Verified => "verified",
            CodeState::Dead => "dead",
            CodeState::Superseded => "superseded",
            CodeState::Cancelled => "cancelled",
        }
    }

    fn of(status: &str, expires_at: Millis, now: Millis) -> Self {
        match status {
            "pending" if expires_at <= now => CodeState::Expired,
            "pending" => CodeState::Pending,
            "verified" => CodeState::Verified,
            "dead" => CodeState::Dead,
            "superseded" => CodeState::Superseded,
            _ => CodeState::Cancelled,
        }
    }

    /// The condition on `codes c` for this state (`?` is now, where it matters).
    fn condition(self) -> (&'static str, bool) {
        match self {
            CodeState::Pending => ("(c.status = 'pending' AND c.expires_at > ?)", true),
            CodeState::Expired => ("(c.status = 'pending' AND c.expires_at <= ?)", true),
            CodeState::Verified => ("c.status = 'verified'", false),
            CodeState::Dead => ("c.status = 'dead'", false),
            CodeState::Superseded => ("c.status = 'superseded'", false),
            CodeState::Cancelled => ("c.status = 'cancelled'", false),
        }
    }
}

impl fmt::Display for CodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CodeState {
    type Err = ActivityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        CodeState::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| ActivityError::UnknownState(contact::shorten(s)))
    }
}

/// Which codes to list. Every field narrows; empty or `None` means "any". Newest first.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CodeFilter {
    pub channel: Option<Channel>,
    /// Any of these states.
    pub states: Vec<CodeState>,
    /// Created at or after.
    pub from: Option<Millis>,
    /// Created at or before.
    pub to: Option<Millis>,
    /// Issued by this operator (the name as recorded, ignoring case).
    pub operator: Option<String>,
    pub customer_id: Option<i64>,
    /// Part of the account number, the customer's name or the masked contact.
    pub text: Option<String>,
    /// At most [`MAX_PAGE`]; default [`DEFAULT_PAGE`].
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// The newest delivery try of a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastDelivery {
    /// "sent" or "failed".
    pub status: String,
    pub failure_class: Option<String>,
    pub account: String,
    pub at: Millis,
    /// How many tries there were in all.
    pub tries: u32,
}

/// One code as the Activity list shows it. Never the code, its hash or the full contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeRow {
    pub challenge_id: i64,
    pub customer_id: Option<i64>,
    /// `None` when the customer record is gone.
    pub customer_name: Option<String>,
    pub account_number: Option<String>,
    pub channel: Channel,
    /// Masked.
    pub contact: String,
    pub state: CodeState,
    pub created_at: Millis,
    pub expires_at: Millis,
    pub used_at: Option<Millis>,
    pub attempts: u32,
    pub max_attempts: u32,
    pub operator: String,
    /// `None` when the code was never handed to a transport (e.g. `otp issue --print-code`).
    pub last_delivery: Option<LastDelivery>,
}

/// One page of the listing, with the number of codes that match in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodePage {
    pub total: i64,
    pub limit: u32,
    pub offset: u32,
    pub rows: Vec<CodeRow>,
}

/// One code with everything that happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeDetail {
    pub code: CodeRow,
    /// Oldest first.
    pub deliveries: Vec<AttemptRecord>,
    /// Issue, sends, each verify attempt with its verdict, cancel, lock; oldest first.
    pub events: Vec<audit::Entry>,
}

/// The SQL function the text search uses to match what the screen shows.
const MASK_FN: &str = "otp_masked_contact";

fn register_mask(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        MASK_FN,
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let channel: String = ctx.get(0)?;
            let destination: String = ctx.get(1)?;
            let channel = if channel == "sms" {
                Channel::Sms
            } else {
                Channel::Email
            };
            Ok(contact::mask(channel, &destination))
        },
    )
}

struct Where {
    sql: String,
    args: Vec<Box<dyn ToSql>>,
    needs_customer: bool,
}

fn where_clause(f: &CodeFilter, now: Millis) -> Result<Where, ActivityError> {
    if let (Some(from), Some(to)) = (f.from, f.to) {
        if from > to {
            return Err(ActivityError::ReversedRange);
        }
    }
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    let mut needs_customer = false;
    if let Some(c) = f.channel {
        clauses.push("c.channel = ?".into());
        args.push(Box::new(c.as_str()));
    }
    if !f.states.is_empty() {
        let mut any = Vec::new();
        for s in &f.states {
            let (sql, takes_now) = s.condition();
            any.push(sql);
            if takes_now {
                args.push(Box::new(now));
            }
        }
        clauses.push(format!("({})", any.join(" OR ")));
    }
    if let Some(from) = f.from {
        clauses.push("c.created_at >= ?".into());
        args.push(Box::new(from));
    }
    if let Some(to) = f.to {
        clauses.push("c.created_at <= ?".into());
        args.push(Box::new(to));
    }
    if let Some(name) = f
        .operator
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        clauses.push("c.operator = ? COLLATE NOCASE".into());
        args.push(Box::new(
            name.chars()
                .take(audit::MAX_OPERATOR_CHARS + 1)
                .collect::<String>(),
        ));
    }
    if let Some(id) = f.customer_id {
        clauses.push("c.customer_id = ?".into());
        args.push(Box::new(id));
    }
    if let Some(text) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        needs_customer = true;
        let needle: String = text.chars().take(MAX_TEXT_CHARS).collect();
        let pattern = format!("%{}%", escape_like(&needle));
        // Cheapest first: SQLite stops at the first term that matches.
        clauses.push(format!(
            "(cu.account_number LIKE ? ESCAPE '\\' OR cu.name LIKE ? ESCAPE '\\' \
              OR {MASK_FN}(c.channel, c.destination) LIKE ? ESCAPE '\\')"
        ));
        for _ in 0..3 {
            args.push(Box::new(pattern.clone()));
        }
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    Ok(Where {
        sql,
        args,
        needs_customer,
    })
}

const ROW_SQL: &str =
    "SELECT c.id, c.customer_id, cu.name, cu.account_number, c.channel, c.destination,
        c.status, c.created_at, c.expires_at, c.used_at, c.attempts, c.max_attempts, c.operator,
        d.status, d.failure_class, d.account, d.at,
        (SELECT count(*) FROM delivery_attempts t WHERE t.code_id = c.id)
   FROM codes c
   LEFT JOIN customers cu ON cu.id = c.customer_id
   LEFT JOIN delivery_attempts d
          ON d.id = (SELECT max(l.id) FROM delivery_attempts l WHERE l.code_id = c.id)";

fn row(r: &Row<'_>, now: Millis) -> rusqlite::Result<CodeRow> {
    let channel: String = r.get(4)?;
    let channel = if channel == "sms" {
        Channel::Sms
    } else {
        Channel::Email
    };
    let destination: String = r.get(5)?;
    let status: String = r.get(6)?;
    let expires_at: Millis = r.get(8)?;
    let last_status: Option<String> = r.get(13)?;
    let last_delivery = match last_status {
        Some(status) => Some(LastDelivery {
            status,
            failure_class: r.get(14)?,
            account: r.get(15)?,
            at: r.get(16)?,
            tries: r.get(17)?,
        }),
        None => None,
    };
    Ok(CodeRow {
        challenge_id: r.get(0)?,
        customer_id: r.get(1)?,
        customer_name: r.get(2)?,
        account_number: r.get(3)?,
        channel,
        contact: contact::mask(channel, &destination),
        state: CodeState::of(&status, expires_at, now),
        created_at: r.get(7)?,
        expires_at,
        used_at: r.get(9)?,
        attempts: r.get(10)?,
        max_attempts: r.get(11)?,
        operator: r.get(12)?,
        last_delivery,
    })
}

/// One page of codes matching `filter`, newest first (in the order they were issued), and
/// how many match in all. `now` decides which pending codes count as expired.
pub fn codes(
    conn: &Connection,
    filter: &CodeFilter,
    now: Millis,
) -> Result<CodePage, ActivityError> {
    register_mask(conn)?;
    let w = where_clause(filter, now)?;
    let limit = filter.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let offset = filter.offset.unwrap_or(0);
    let from = if w.needs_customer {
        "codes c LEFT JOIN customers cu ON cu.id = c.customer_id"
    } else {
        "codes c"
    };
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM {from} {}", w.sql),
        rusqlite::params_from_iter(w.args.iter()),
        |r| r.get(0),
    )?;
    let mut args = w.args;
    args.push(Box::new(limit));
    args.push(Box::new(offset));
    let mut stmt = conn.prepare(&format!(
        "{ROW_SQL} {} ORDER BY c.id DESC LIMIT ? OFFSET ?",
        w.sql
    ))?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), |r| row(r, now))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CodePage {
        total,
        limit,
        offset,
        rows,
    })
}

/// One code, its delivery tries and its audit events.
pub fn code_detail(
    conn: &Connection,
    challenge_id: i64,
    now: Millis,
) -> Result<CodeDetail, ActivityError> {
    let code = conn
        .query_row(&format!("{ROW_SQL} WHERE c.id = ?1"), [challenge_id], |r| {
            row(r, now)
        })
        .optional()?
        .ok_or(ActivityError::NotFound(challenge_id))?;
    let mut deliveries = attempts::list(conn, Some(challenge_id), 1000)?;
    deliveries.reverse();
    // audit_events has no index on code_id (one more index to write per event); the code's
    // events all carry its customer, so the customer index narrows the walk to that
    // customer's events since the code was issued.
    let filter = match code.customer_id {
        Some(customer_id) => audit::Filter {
            customer_id: Some(customer_id),
            code_id: Some(challenge_id),
            from: Some(code.created_at),
            limit: Some(audit::MAX_PAGE),
            ..Default::default()
        },
        None => audit::Filter {
            code_id: Some(challenge_id),
            from: Some(code.created_at),
            to: Some(code.expires_at + 24 * 3_600_000),
            limit: Some(audit::MAX_PAGE),
            ..Default::default()
        },
    };
    let mut events = audit::query(conn, &filter)?;
    events.reverse();
    Ok(CodeDetail {
        code,
        deliveries,
        events,
    })
}

/// Writes every code matching `filter` (ignoring limit and offset) as CSV, oldest first, with
/// a byte-order mark so spreadsheet programs read the "…" of masked contacts as UTF-8.
/// Text cells that a spreadsheet would run as a formula are defused. Returns the number of
/// codes written.
pub fn export_codes_csv(
    conn: &Connection,
    filter: &CodeFilter,
    now: Millis,
    mut out: impl Write,
) -> Result<u64, ActivityError> {
    register_mask(conn)?;
    let w = where_clause(filter, now)?;
    let ex = |e: csv::Error| ActivityError::Export(e.to_string());
    out.write_all(b"\xEF\xBB\xBF")
        .map_err(|e| ActivityError::Export(e.to_string()))?;
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record([
        "challenge_id",
        "created",
        "expires",
        "used",
        "state",
        "channel",
        "contact",
        "account_number",
        "customer_name",
        "attempts",
        "max_attempts",
        "operator",
        "delivery",
        "delivery_failure",
        "delivery_account",
        "delivery_tries",
    ])
    .map_err(ex)?;
    let mut stmt = conn.prepare(&format!("{ROW_SQL} {} ORDER BY c.id", w.sql))?;
    let mut rows = stmt.query(rusqlite::params_from_iter(w.args.iter()))?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let c = row(r, now)?;
        let text = |v: Option<&str>| csv_safe(v.unwrap_or_default());
        let d = c.last_delivery.as_ref();
        csv.write_record([
            c.challenge_id.to_string(),
            format_ms(c.created_at),
            format_ms(c.expires_at),
            c.used_at.map(format_ms).unwrap_or_default(),
            c.state.to_string(),
            c.channel.to_string(),
            csv_safe(&c.contact),
            text(c.account_number.as_deref()),
            text(c.customer_name.as_deref()),
            c.attempts.to_string(),
            c.max_attempts.to_string(),
            csv_safe(&c.operator),
            d.map(|d| d.status.clone()).unwrap_or_default(),
            d.and_then(|d| d.failure_class.clone()).unwrap_or_default(),
            text(d.map(|d| d.account.as_str())),
            d.map(|d| d.tries.to_string()).unwrap_or_default(),
        ])
        .map_err(ex)?;
        n += 1;
    }
    csv.flush()
        .map_err(|e| ActivityError::Export(e.to_string()))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_parse_and_print() {
        for s in CodeState::ALL {
            assert_eq!(s.as_str().parse::<CodeState>().unwrap(), *s);
        }
        assert_eq!(
            " Expired ".parse::<CodeState>().unwrap(),
            CodeState::Expired
        );
        let err = "x".repeat(1 << 20).parse::<CodeState>().unwrap_err();
        assert!(err.to_string().len() < 200);
        assert!("pending' OR 1=1".parse::<CodeState>().is_err());
    }

    #[test]
    fn a_pending_code_past_its_expiry_is_expired() {
        assert_eq!(CodeState::of("pending", 100, 99), CodeState::Pending);
        assert_eq!(CodeState::of("pending", 100, 100), CodeState::Expired);
        assert_eq!(CodeState::of("verified", 100, 500), CodeState::Verified);
    }
}
