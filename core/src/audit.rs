//! The append-only trail of what happened: who did what, when, to which customer, through
//! which channel, with what result. Contacts appear masked; codes, hashes and secrets never
//! appear at all (the callers build the detail text, and the tests search for leaks).
//! The table refuses UPDATE and DELETE by trigger, so "append-only" holds even against a
//! careless future query.

use std::fmt;
use std::io::Write;
use std::str::FromStr;

use rusqlite::types::ToSql;
use rusqlite::{params, Connection, Row};
use serde::{Deserialize, Serialize};

use crate::clock::{format_ms, Clock, Millis};
use crate::contact::{self, Channel};

pub const MAX_OPERATOR_CHARS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the operator name is empty; pick who is at the desk")]
    EmptyOperator,
    #[error("the operator name must be at most {MAX_OPERATOR_CHARS} characters of plain text")]
    InvalidOperator,
    #[error("unknown event type \"{0}\"")]
    UnknownKind(String),
    #[error("unknown result \"{0}\" (use ok, failed or refused)")]
    UnknownOutcome(String),
    #[error("the date range is reversed: \"from\" is after \"to\"")]
    ReversedRange,
    #[error("the audit trail could not be read or written: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("the export could not be written: {0}")]
    Export(String),
}

macro_rules! kinds {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// What happened.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind { $($variant),+ }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $(Kind::$variant => $name),+ }
            }
        }

        impl FromStr for Kind {
            type Err = AuditError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() {
                    $($name => Ok(Kind::$variant),)+
                    other => Err(AuditError::UnknownKind(contact::shorten(other))),
                }
            }
        }
    };
}

kinds! {
    CodeIssued => "code_issued",
    CodeRevealed => "code_revealed",
    CodeCancelled => "code_cancelled",
    CodeSent => "code_sent",
    CodeVerify => "code_verify",
    ContactLocked => "contact_locked",
    CodesCleaned => "codes_cleaned",
    CustomerCreated => "customer_created",
    CustomerUpdated => "customer_updated",
    CustomerDeleted => "customer_deleted",
    CustomersImported => "customers_imported",
    CustomersExported => "customers_exported",
    SettingChanged => "setting_changed",
    BackupMade => "backup_made",
    DatabaseRestored => "database_restored",
    OperatorAdded => "operator_added",
    OperatorRenamed => "operator_renamed",
    OperatorRetired => "operator_retired",
    OperatorReactivated => "operator_reactivated",
    AdminPassphraseSet => "admin_passphrase_set",
    AdminPassphraseChanged => "admin_passphrase_changed",
    AdminUnlock => "admin_unlock",
    AdminLocked => "admin_locked",
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How it ended. A refused action is one policy stopped (cooldown, lock); a failed one went
/// wrong (wrong code, delivery error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Failed,
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Refused => "refused",
        }
    }
}

impl FromStr for Outcome {
    type Err = AuditError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ok" => Ok(Outcome::Ok),
            "failed" => Ok(Outcome::Failed),
            "refused" => Ok(Outcome::Refused),
            other => Err(AuditError::UnknownOutcome(contact::shorten(other))),
        }
    }
}

/// An event about to be recorded. Built by the module that knows what happened.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: Kind,
    pub outcome: Outcome,
    pub operator: String,
    pub customer_id: Option<i64>,
    pub account_number: Option<String>,
    pub channel: Option<Channel>,
    /// Already masked by the caller.
    pub destination: Option<String>,
    pub code_id: Option<i64>,
    pub detail: String,
}

impl Event {
    pub fn new(kind: Kind, outcome: Outcome, operator: &str) -> Self {
        Self {
            kind,
            outcome,
            operator: operator.to_string(),
            customer_id: None,
            account_number: None,
            channel: None,
            destination: None,
            code_id: None,
            detail: String::new(),
        }
    }

    pub fn customer(mut self, id: i64, account_number: &str) -> Self {
        self.customer_id = Some(id);
        self.account_number = Some(account_number.to_string());
        self
    }

    /// Records the channel and the contact, masked here so no caller can forget to.
    pub fn contact(mut self, channel: Channel, destination: &str) -> Self {
        self.channel = Some(channel);
        self.destination = Some(contact::mask(channel, destination));
        self
    }

    pub fn code(mut self, code_id: i64) -> Self {
        self.code_id = Some(code_id);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// Checks an operator name: who is at the desk, as it will stand in the trail.
pub fn operator_name(input: &str) -> Result<String, AuditError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(AuditError::EmptyOperator);
    }
    if s.chars().count() > MAX_OPERATOR_CHARS
        || s.chars()
            .any(|c| c.is_control() || contact::is_bidi_control(c))
    {
        return Err(AuditError::InvalidOperator);
    }
    Ok(s.to_string())
}

/// Appends one event. Call it inside the same transaction as the change it describes, so
/// the trail and the data can never disagree.
pub fn record(conn: &Connection, clock: &dyn Clock, event: &Event) -> Result<i64, AuditError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO audit_events
            (at, kind, result, operator, customer_id, account_number, channel, destination, code_id, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    stmt.execute(params![
        clock.now_ms(),
        event.kind.as_str(),
        event.outcome.as_str(),
        event.operator,
        event.customer_id,
        event.account_number,
        event.channel.map(Channel::as_str),
        event.destination,
        event.code_id,
        event.detail,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// One recorded event, as the Activity screen and the export show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: i64,
    pub at: Millis,
    pub kind: String,
    pub result: String,
    pub operator: String,
    pub customer_id: Option<i64>,
    pub account_number: Option<String>,
    pub channel: Option<String>,
    pub destination: Option<String>,
    pub code_id: Option<i64>,
    pub detail: String,
}

impl Entry {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            at: r.get(1)?,
            kind: r.get(2)?,
            result: r.get(3)?,
            operator: r.get(4)?,
            customer_id: r.get(5)?,
            account_number: r.get(6)?,
            channel: r.get(7)?,
            destination: r.get(8)?,
            code_id: r.get(9)?,
            detail: r.get(10)?,
        })
    }
}

/// What to show. Every field narrows; `None` means "any". Newest first.
///
/// How it is answered: a customer's events through `audit_by_customer`; everything else
/// through `audit_by_time`, which also holds kind, result, channel and code, so filtering by
/// those within a date range never reads the table. A count without a date range walks the
/// whole index: give the Activity screen a default range (e.g. the last 30 days) and the
/// count stays in the milliseconds (docs/PERFORMANCE.md).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Filter {
    pub kinds: Vec<Kind>,
    pub outcome: Option<Outcome>,
    pub channel: Option<Channel>,
    pub customer_id: Option<i64>,
    /// Only this operator's events (the name as recorded, ignoring case).
    pub operator: Option<String>,
    /// Only events about this code (challenge).
    pub code_id: Option<i64>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// Matched anywhere in operator, account number, masked contact and detail.
    pub text: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// A page is capped so a careless caller cannot pull a million rows into the window.
pub const MAX_PAGE: u32 = 1000;

fn where_clause(f: &Filter) -> Result<(String, Vec<Box<dyn ToSql>>), AuditError> {
    if let (Some(from), Some(to)) = (f.from, f.to) {
        if from > to {
            return Err(AuditError::ReversedRange);
        }
    }
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    if !f.kinds.is_empty() {
        let marks = vec!["?"; f.kinds.len()].join(", ");
        clauses.push(format!("kind IN ({marks})"));
        args.extend(
            f.kinds
                .iter()
                .map(|k| Box::new(k.as_str()) as Box<dyn ToSql>),
        );
    }
    if let Some(o) = f.outcome {
        clauses.push("result = ?".into());
        args.push(Box::new(o.as_str()));
    }
    if let Some(c) = f.channel {
        clauses.push("channel = ?".into());
        args.push(Box::new(c.as_str()));
    }
    if let Some(id) = f.customer_id {
        clauses.push("customer_id = ?".into());
        args.push(Box::new(id));
    }
    if let Some(name) = f
        .operator
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        clauses.push("operator = ? COLLATE NOCASE".into());
        args.push(Box::new(
            name.chars()
                .take(MAX_OPERATOR_CHARS + 1)
                .collect::<String>(),
        ));
    }
    if let Some(id) = f.code_id {
        clauses.push("code_id = ?".into());
        args.push(Box::new(id));
    }
    if let Some(from) = f.from {
        clauses.push("at >= ?".into());
        args.push(Box::new(from));
    }
    if let Some(to) = f.to {
        clauses.push("at <= ?".into());
        args.push(Box::new(to));
    }
    if let Some(text) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let needle: String = text.chars().take(200).collect();
        let pattern = format!("%{}%", escape_like(&needle));
        clauses.push(
            "(operator LIKE ? ESCAPE '\\' OR account_number LIKE ? ESCAPE '\\' \
              OR destination LIKE ? ESCAPE '\\' OR detail LIKE ? ESCAPE '\\')"
                .into(),
        );
        for _ in 0..4 {
            args.push(Box::new(pattern.clone()));
        }
    }
    let sql = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    Ok((sql, args))
}

/// `%` and `_` typed by a user are literal characters, not wildcards.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

const COLUMNS: &str =
    "id, at, kind, result, operator, customer_id, account_number, channel, destination, code_id, detail";

pub fn query(conn: &Connection, filter: &Filter) -> Result<Vec<Entry>, AuditError> {
    let (clause, mut args) = where_clause(filter)?;
    let limit = filter.limit.unwrap_or(100).min(MAX_PAGE);
    args.push(Box::new(limit));
    args.push(Box::new(filter.offset.unwrap_or(0)));
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_events {clause} ORDER BY at DESC, id DESC LIMIT ? OFFSET ?"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), Entry::from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn count(conn: &Connection, filter: &Filter) -> Result<i64, AuditError> {
    let (clause, args) = where_clause(filter)?;
    let sql = format!("SELECT count(*) FROM audit_events {clause}");
    Ok(conn.query_row(&sql, rusqlite::params_from_iter(args.iter()), |r| r.get(0))?)
}

/// Writes every matching event (ignoring limit/offset) as CSV, oldest first. Returns the
/// number of events written.
pub fn export_csv(conn: &Connection, filter: &Filter, out: impl Write) -> Result<u64, AuditError> {
    let (clause, args) = where_clause(filter)?;
    let sql = format!("SELECT {COLUMNS} FROM audit_events {clause} ORDER BY at, id");
    let mut stmt = conn.prepare(&sql)?;
    let mut w = csv::Writer::from_writer(out);
    let ex = |e: csv::Error| AuditError::Export(e.to_string());
    w.write_record([
        "id",
        "time",
        "event",
        "result",
        "operator",
        "customer_id",
        "account_number",
        "channel",
        "contact",
        "code_id",
        "detail",
    ])
    .map_err(ex)?;
    let mut n = 0;
    let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
    while let Some(row) = rows.next()? {
        let e = Entry::from_row(row)?;
        let opt = |v: Option<String>| v.unwrap_or_default();
        let num = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
        w.write_record([
            e.id.to_string(),
            format_ms(e.at),
            e.kind,
            e.result,
            csv_safe(&e.operator),
            num(e.customer_id),
            csv_safe(&opt(e.account_number)),
            opt(e.channel),
            // A masked phone number starts with "+", which a spreadsheet reads as a formula.
            csv_safe(&opt(e.destination)),
            num(e.code_id),
            csv_safe(&e.detail),
        ])
        .map_err(ex)?;
        n += 1;
    }
    w.flush().map_err(|e| AuditError::Export(e.to_string()))?;
    Ok(n)
}

/// A cell starting with = + - @ is run as a formula by spreadsheet programs (CSV injection,
/// OWASP); a leading apostrophe makes it text.
pub fn csv_safe(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ManualClock, Store};
    use std::sync::Arc;

    fn setup() -> (Store, ManualClock) {
        let clock = ManualClock::start();
        (
            Store::open_in_memory(Arc::new(clock.clone())).unwrap(),
            clock,
        )
    }

    #[test]
    fn events_are_append_only() {
        let (store, _) = setup();
        let conn = store.conn();
        record(
            &conn,
            store.clock(),
            &Event::new(Kind::BackupMade, Outcome::Ok, "ann"),
        )
        .unwrap();
        let upd = conn.execute("UPDATE audit_events SET operator = 'mallory'", []);
        assert!(upd.unwrap_err().to_string().contains("append-only"));
        let del = conn.execute("DELETE FROM audit_events", []);
        assert!(del.unwrap_err().to_string().contains("append-only"));
    }

    #[test]
    fn contacts_are_masked_on_the_way_in() {
        let (store, _) = setup();
        let conn = store.conn();
        let ev = Event::new(Kind::CodeIssued, Outcome::Ok, "ann")
            .customer(7, "WB-1")
            .contact(Channel::Email, "johanna@example.com");
        record(&conn, store.clock(), &ev).unwrap();
        let rows = query(&conn, &Filter::default()).unwrap();
        assert_eq!(rows[0].destination.as_deref(), Some("jo…@example.com"));
        assert_eq!(rows[0].account_number.as_deref(), Some("WB-1"));
    }

    #[test]
    fn filters_narrow_and_text_is_literal() {
        let (store, clock) = setup();
        let conn = store.conn();
        let t0 = clock.now_ms();
        record(
            &conn,
            &clock,
            &Event::new(Kind::CodeIssued, Outcome::Ok, "ann").detail("100% sure"),
        )
        .unwrap();
        clock.advance_secs(60);
        record(
            &conn,
            &clock,
            &Event::new(Kind::CodeVerify, Outcome::Failed, "bob").detail("wrong code"),
        )
        .unwrap();
        clock.advance_secs(60);
        record(
            &conn,
            &clock,
            &Event::new(Kind::CodeVerify, Outcome::Ok, "ann").detail("verified"),
        )
        .unwrap();

        let f = |filter: Filter| query(&conn, &filter).unwrap().len();
        assert_eq!(f(Filter::default()), 3);
        assert_eq!(
            f(Filter {
                kinds: vec![Kind::CodeVerify],
                ..Default::default()
            }),
            2
        );
        assert_eq!(
            f(Filter {
                outcome: Some(Outcome::Failed),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            f(Filter {
                from: Some(t0 + 30_000),
                ..Default::default()
            }),
            2
        );
        assert_eq!(
            f(Filter {
                to: Some(t0 + 30_000),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            f(Filter {
                text: Some("bob".into()),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            f(Filter {
                text: Some("%".into()),
                ..Default::default()
            }),
            1
        );
        assert_eq!(
            f(Filter {
                text: Some("_".into()),
                ..Default::default()
            }),
            0
        );
        assert_eq!(
            f(Filter {
                text: Some("' OR 1=1 --".into()),
                ..Default::default()
            }),
            0
        );
        assert_eq!(
            f(Filter {
                text: Some("x".repeat(1_000_000)),
                ..Default::default()
            }),
            0
        );
        assert!(matches!(
            query(
                &conn,
                &Filter {
                    from: Some(2),
                    to: Some(1),
                    ..Default::default()
                }
            ),
            Err(AuditError::ReversedRange)
        ));
        let newest = query(
            &conn,
            &Filter {
                limit: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(newest[0].detail, "verified");
        assert_eq!(count(&conn, &Filter::default()).unwrap(), 3);
    }

    #[test]
    fn export_is_csv_and_defuses_formulas() {
        let (store, _) = setup();
        let conn = store.conn();
        record(
            &conn,
            store.clock(),
            &Event::new(Kind::CustomerCreated, Outcome::Ok, "=HYPERLINK(\"x\")")
                .contact(Channel::Sms, "+14155550132")
                .detail("a,\"b\"\nc"),
        )
        .unwrap();
        let mut out = Vec::new();
        assert_eq!(export_csv(&conn, &Filter::default(), &mut out).unwrap(), 1);
        let mut r = csv::Reader::from_reader(out.as_slice());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(&rec[1], "2026-03-02T09:00:00Z");
        assert_eq!(&rec[4], "'=HYPERLINK(\"x\")");
        assert_eq!(
            &rec[8], "'+1 …0132",
            "a masked number is text, not a formula"
        );
        assert_eq!(&rec[10], "a,\"b\"\nc");
    }

    #[test]
    fn operator_names_are_checked() {
        assert_eq!(operator_name("  Ann ").unwrap(), "Ann");
        assert!(matches!(operator_name(" "), Err(AuditError::EmptyOperator)));
        assert!(operator_name(&"a".repeat(65)).is_err());
        assert!(operator_name("ann\nroot").is_err());
        assert!(operator_name("ann\u{202E}").is_err());
        assert!(
            operator_name("<script>alert(1)</script>").is_ok(),
            "stored as text; the UI escapes"
        );
    }

    #[test]
    fn kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), *k);
        }
        assert!("nope".parse::<Kind>().is_err());
    }
}
