//! Customer records: the people at the counter. Records, validation and the search index
//! stay in step here; `search` answers "who is this?", `csv` moves records in and out,
//! `sample` fills a fresh install with believable people.
//!
//! Every change goes through one transaction that writes the row, its search terms and an
//! audit event together, so the index and the trail can never disagree with the data.

use phonenumber::country::Id as Region;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::audit::{self, AuditError, Event, Kind, Outcome};
use crate::clock::{Clock, Millis};
use crate::contact::{self, is_bidi_control, shorten};
use crate::settings::{self, SettingsError};

mod bulk_index;
pub mod csv;
pub mod sample;
pub mod search;
mod terms;

pub use self::csv::{
    export, export_audited, import, preview, ColumnMapping, ImportMode, ImportReport, Preview,
    PreviewRow, Progress, RejectedRow,
};
pub use sample::{load_sample, synthetic};
pub use search::{reindex, search};

/// Billing systems use short codes such as "WB-0001234"; 32 leaves room for any of them.
pub const MAX_ACCOUNT_CHARS: usize = 32;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_ADDRESS_CHARS: usize = 500;
pub const MAX_NOTES_CHARS: usize = 2000;

#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("no customer with id {0}; it may have been deleted at another desk")]
    NotFound(i64),
    #[error("the customer was not saved: {}", list_messages(.0))]
    Invalid(Vec<FieldError>),
    #[error("account number {0} already belongs to another customer; search for it and edit that record instead")]
    DuplicateAccount(String),
    #[error("this customer has a one-time code waiting to be verified; finish verifying or wait for the code to expire, then delete")]
    HasPendingCode,
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("the customer data could not be read or saved: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("the file could not be read or written: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is empty; choose the CSV file exported from the billing system")]
    EmptyFile,
    #[error("this is not a CSV file: {0}")]
    NotCsv(String),
    #[error("the file is larger than {} MB; split it into smaller files", .0 / (1024 * 1024))]
    TooLarge(u64),
    #[error("the file has a header row but no customers")]
    NoRows,
    #[error("unknown import mode \"{0}\" (use all-or-nothing or skip-invalid)")]
    UnknownImportMode(String),
    #[error("the file has no column for {}; the header row has: {}", .missing.join(", "), list_found(.found))]
    MissingColumns {
        missing: Vec<&'static str>,
        found: Vec<String>,
    },
    #[error("the columns \"{first}\" and \"{second}\" both look like {field}; rename or remove one of them")]
    DuplicateColumn {
        field: &'static str,
        first: String,
        second: String,
    },
}

fn list_messages(errors: &[FieldError]) -> String {
    let all: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    all.join("; ")
}

fn list_found(found: &[String]) -> String {
    if found.is_empty() {
        "(nothing)".to_string()
    } else {
        found.join(", ")
    }
}

/// One problem with one field, for the message under that field in the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// What the add/edit form and a CSV row provide. Empty email or phone means "none".
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CustomerInput {
    pub account_number: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub service_address: String,
    pub notes: String,
}

/// A customer that passed every rule, in the form it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidCustomer {
    pub account_number: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub phone_e164: Option<String>,
    pub service_address: String,
    pub notes: String,
}

/// A customer as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: i64,
    pub account_number: String,
    pub name: String,
    pub email: Option<String>,
    /// As entered.
    pub phone: Option<String>,
    /// When the number parsed for the default region (or carried its own country code).
    pub phone_e164: Option<String>,
    pub service_address: String,
    pub notes: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

pub(crate) const COLUMNS: &str = "id, account_number, name, email, phone, phone_e164, service_address, notes, created_at, updated_at";

impl Customer {
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            account_number: r.get(1)?,
            name: r.get(2)?,
            email: r.get(3)?,
            phone: r.get(4)?,
            phone_e164: r.get(5)?,
            service_address: r.get(6)?,
            notes: r.get(7)?,
            created_at: r.get(8)?,
            updated_at: r.get(9)?,
        })
    }

    pub(crate) fn term_source(&self) -> terms::TermSource<'_> {
        terms::TermSource {
            account_number: &self.account_number,
            name: &self.name,
            email: self.email.as_deref(),
            phone: self.phone.as_deref(),
            phone_e164: self.phone_e164.as_deref(),
        }
    }

    /// True when saving `v` over this record would change nothing.
    fn same_as(&self, v: &ValidCustomer) -> bool {
        self.changed_fields(v).is_empty()
    }

    /// The names (never the values) of the fields `v` would change, for the audit trail.
    fn changed_fields(&self, v: &ValidCustomer) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.account_number != v.account_number {
            out.push("account number");
        }
        if self.name != v.name {
            out.push("name");
        }
        if self.email != v.email {
            out.push("email");
        }
        if self.phone != v.phone || self.phone_e164 != v.phone_e164 {
            out.push("phone");
        }
        if self.service_address != v.service_address {
            out.push("service address");
        }
        if self.notes != v.notes {
            out.push("notes");
        }
        out
    }
}

impl ValidCustomer {
    pub(crate) fn term_source(&self) -> terms::TermSource<'_> {
        terms::TermSource {
            account_number: &self.account_number,
            name: &self.name,
            email: self.email.as_deref(),
            phone: self.phone.as_deref(),
            phone_e164: self.phone_e164.as_deref(),
        }
    }
}

/// Checks every field and returns all problems at once, so the form can mark each field.
pub fn validate(input: &CustomerInput, region: Region) -> Result<ValidCustomer, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut keep = |r: Result<String, FieldError>| match r {
        Ok(v) => v,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let account_number = keep(account_number(&input.account_number));
    let name = keep(name(&input.name));
    let service_address = keep(text_block(
        "service_address",
        "the service address",
        &input.service_address,
        MAX_ADDRESS_CHARS,
    ));
    let notes = keep(text_block(
        "notes",
        "the notes",
        &input.notes,
        MAX_NOTES_CHARS,
    ));

    let email = match input.email.trim() {
        "" => None,
        raw => match contact::normalize_email(raw) {
            Ok(e) => Some(e),
            Err(e) => {
                errors.push(FieldError::new("email", e.to_string()));
                None
            }
        },
    };
    let (phone, phone_e164) = match input.phone.trim() {
        "" => (None, None),
        raw => match contact::parse_phone(raw, region) {
            Ok(p) => (Some(p.as_entered), p.e164),
            Err(e) => {
                errors.push(FieldError::new("phone", e.to_string()));
                (None, None)
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ValidCustomer {
        account_number,
        name,
        email,
        phone,
        phone_e164,
        service_address,
        notes,
    })
}

/// A required one-line field: trimmed, present, and at most `max` characters.
fn required<'a>(
    field: &'static str,
    label: &str,
    raw: &'a str,
    max: usize,
) -> Result<&'a str, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldError::new(field, format!("{label} is required")));
    }
    let len = s.chars().count();
    if len > max {
        return Err(FieldError::new(
            field,
            format!("{label} must be at most {max} characters (this one has {len})"),
        ));
    }
    Ok(s)
}

fn account_number(raw: &str) -> Result<String, FieldError> {
    let field = "account_number";
    let s = required(field, "the account number", raw, MAX_ACCOUNT_CHARS)?;
    // ASCII only: the database compares account numbers without regard to case, and SQLite
    // does that for A–Z only, so a wider alphabet would let two "equal" numbers coexist.
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '/');
    if !s.chars().all(allowed) {
        return Err(FieldError::new(
            field,
            format!(
                "the account number \"{}\" may only contain letters A–Z, digits, spaces and - _ . /",
                shorten(s)
            ),
        ));
    }
    // A leading "-" would also make the cell a formula in a spreadsheet.
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(FieldError::new(
            field,
            format!(
                "the account number \"{}\" must start with a letter or digit",
                shorten(s)
            ),
        ));
    }
    Ok(s.to_string())
}

fn name(raw: &str) -> Result<String, FieldError> {
    let field = "name";
    let s = required(field, "the name", raw, MAX_NAME_CHARS)?;
    if s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(FieldError::new(
            field,
            format!(
                "the name \"{}\" must be one line of plain text (no line breaks, tabs or direction-override characters)",
                shorten(s)
            ),
        ));
    }
    Ok(s.to_string())
}

/// Free text that may span lines (address, notes). Line endings are stored as "\n" whatever
/// the file or the operating system used.
fn text_block(
    field: &'static str,
    label: &str,
    raw: &str,
    max: usize,
) -> Result<String, FieldError> {
    let len = raw.chars().count();
    if len > max {
        return Err(FieldError::new(
            field,
            format!("{label} must be at most {max} characters (this text has {len})"),
        ));
    }
    let s = raw.replace("\r\n", "\n");
    let s = s.trim();
    if s.chars()
        .any(|c| (c.is_control() && c != '\n') || is_bidi_control(c))
    {
        return Err(FieldError::new(
            field,
            format!("{label} may contain line breaks but no other control or direction-override characters"),
        ));
    }
    Ok(s.to_string())
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Customer>, CustomerError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM customers WHERE id = ?1"))?;
    Ok(stmt.query_row([id], Customer::from_row).optional()?)
}

/// The customer with this account number, ignoring case and surrounding spaces.
pub fn by_account(conn: &Connection, account: &str) -> Result<Option<Customer>, CustomerError> {
    let account = account.trim();
    if account.is_empty() || account.len() > MAX_ACCOUNT_CHARS * 4 {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM customers WHERE account_number = ?1"
    ))?;
    Ok(stmt.query_row([account], Customer::from_row).optional()?)
}

pub fn count(conn: &Connection) -> Result<i64, CustomerError> {
    Ok(conn.query_row("SELECT count(*) FROM customers", [], |r| r.get(0))?)
}

/// A page of the whole customer list, for the Customers screen before anything is typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerPage {
    /// Every customer in the database, not just this page.
    pub total: i64,
    pub limit: u32,
    pub offset: u32,
    pub customers: Vec<Customer>,
}

/// The most one page of the list holds.
pub const MAX_LIST_PAGE: u32 = 200;

/// Every customer by account number (ignoring case), one page at a time, with the total.
/// Unlike a search, the list pages all the way to the end: the account-number index is
/// walked from the start, so the last page of a million costs a walk of the index (tens of
/// milliseconds, docs/PERFORMANCE.md), and the first pages cost nothing.
pub fn list(conn: &Connection, limit: u32, offset: u32) -> Result<CustomerPage, CustomerError> {
    let limit = limit.clamp(1, MAX_LIST_PAGE);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM customers ORDER BY account_number LIMIT ?1 OFFSET ?2"
    ))?;
    let customers = stmt
        .query_map(params![limit, offset], Customer::from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CustomerPage {
        total: count(conn)?,
        limit,
        offset,
        customers,
    })
}

/// Adds a customer. Refuses an account number that is already taken (whatever its case).
pub fn create(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    input: &CustomerInput,
) -> Result<Customer, CustomerError> {
    let operator = audit::operator_name(operator)?;
    let region = settings::load(conn)?.region();
    let valid = validate(input, region).map_err(CustomerError::Invalid)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if by_account(&tx, &valid.account_number)?.is_some() {
        return Err(CustomerError::DuplicateAccount(valid.account_number));
    }
    let id = insert_row(&tx, &valid, clock.now_ms())?;
    search::index(&tx, id, &valid.term_source())?;
    audit::record(
        &tx,
        clock,
        &Event::new(Kind::CustomerCreated, Outcome::Ok, &operator)
            .customer(id, &valid.account_number),
    )?;
    let created = get(&tx, id)?.ok_or(CustomerError::NotFound(id))?;
    tx.commit()?;
    Ok(created)
}

/// Replaces every field of customer `id`. Saving an unchanged form writes nothing.
pub fn update(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    id: i64,
    input: &CustomerInput,
) -> Result<Customer, CustomerError> {
    let operator = audit::operator_name(operator)?;
    let region = settings::load(conn)?.region();
    let valid = validate(input, region).map_err(CustomerError::Invalid)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let old = get(&tx, id)?.ok_or(CustomerError::NotFound(id))?;
    if let Some(other) = by_account(&tx, &valid.account_number)? {
        if other.id != id {
            return Err(CustomerError::DuplicateAccount(valid.account_number));
        }
    }
    let changed = old.changed_fields(&valid);
    if changed.is_empty() {
        return Ok(old);
    }
    replace_row(&tx, &old, &valid, clock.now_ms())?;
    search::index(&tx, id, &valid.term_source())?;
    audit::record(
        &tx,
        clock,
        &Event::new(Kind::CustomerUpdated, Outcome::Ok, &operator)
            .customer(id, &valid.account_number)
            .detail(format!("changed: {}", changed.join(", "))),
    )?;
    let updated = get(&tx, id)?.ok_or(CustomerError::NotFound(id))?;
    tx.commit()?;
    Ok(updated)
}

/// Deletes customer `id` for good, with its finished codes; the audit trail keeps the account
/// number and everything that happened. Refused while a code is out for this customer: the
/// person may be standing at the counter with it.
pub fn delete(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    id: i64,
) -> Result<(), CustomerError> {
    let operator = audit::operator_name(operator)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let old = get(&tx, id)?.ok_or(CustomerError::NotFound(id))?;
    let now = clock.now_ms();
    let pending: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM codes
                        WHERE customer_id = ?1 AND status = 'pending' AND expires_at > ?2)",
        params![id, now],
        |r| r.get(0),
    )?;
    if pending {
        audit::record(
            &tx,
            clock,
            &Event::new(Kind::CustomerDeleted, Outcome::Refused, &operator)
                .customer(id, &old.account_number)
                .detail("a one-time code is pending"),
        )?;
        tx.commit()?;
        return Err(CustomerError::HasPendingCode);
    }
    search::unindex(&tx, id, &old.term_source())?;
    // Codes carry no foreign key (see the schema), so their rows go here, with the customer.
    tx.execute("DELETE FROM codes WHERE customer_id = ?1", [id])?;
    tx.execute("DELETE FROM customers WHERE id = ?1", [id])?;
    audit::record(
        &tx,
        clock,
        &Event::new(Kind::CustomerDeleted, Outcome::Ok, &operator)
            .customer(id, &old.account_number),
    )?;
    tx.commit()?;
    Ok(())
}

/// Inserts the row only; the caller indexes it.
pub(crate) fn insert_row(
    conn: &Connection,
    v: &ValidCustomer,
    now: Millis,
) -> Result<i64, CustomerError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO customers
            (account_number, name, email, phone, phone_e164, service_address, notes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    )?;
    match stmt.execute(params![
        v.account_number,
        v.name,
        v.email,
        v.phone,
        v.phone_e164,
        v.service_address,
        v.notes,
        now
    ]) {
        Ok(_) => Ok(conn.last_insert_rowid()),
        Err(e) if is_unique_violation(&e) => {
            Err(CustomerError::DuplicateAccount(v.account_number.clone()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Inserts the row unless its account number is taken; `None` means it was.
fn insert_new(
    conn: &Connection,
    v: &ValidCustomer,
    now: Millis,
) -> Result<Option<i64>, CustomerError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO customers
            (account_number, name, email, phone, phone_e164, service_address, notes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (account_number) DO NOTHING",
    )?;
    let n = stmt.execute(params![
        v.account_number,
        v.name,
        v.email,
        v.phone,
        v.phone_e164,
        v.service_address,
        v.notes,
        now
    ])?;
    Ok((n == 1).then(|| conn.last_insert_rowid()))
}

/// Overwrites `old` with `new` and removes the old search terms; the caller indexes the new.
pub(crate) fn replace_row(
    conn: &Connection,
    old: &Customer,
    new: &ValidCustomer,
    now: Millis,
) -> Result<(), CustomerError> {
    search::unindex(conn, old.id, &old.term_source())?;
    let mut stmt = conn.prepare_cached(
        "UPDATE customers SET account_number = ?2, name = ?3, email = ?4, phone = ?5,
                phone_e164 = ?6, service_address = ?7, notes = ?8, updated_at = ?9
         WHERE id = ?1",
    )?;
    match stmt.execute(params![
        old.id,
        new.account_number,
        new.name,
        new.email,
        new.phone,
        new.phone_e164,
        new.service_address,
        new.notes,
        now
    ]) {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => {
            Err(CustomerError::DuplicateAccount(new.account_number.clone()))
        }
        Err(e) => Err(e.into()),
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

/// What a batch upsert did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Upserted {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// What saving one row by account number did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Saved {
    Inserted(i64),
    Updated(i64),
    Unchanged,
}

impl Upserted {
    pub(crate) fn count(&mut self, saved: Saved) {
        match saved {
            Saved::Inserted(_) => self.inserted += 1,
            Saved::Updated(_) => self.updated += 1,
            Saved::Unchanged => self.unchanged += 1,
        }
    }
}

impl Saved {
    /// The customer whose search terms must be written, if any.
    pub(crate) fn needs_terms(self) -> Option<i64> {
        match self {
            Saved::Inserted(id) | Saved::Updated(id) => Some(id),
            Saved::Unchanged => None,
        }
    }
}

/// Inserts or updates (by account number) one customer's row inside the caller's
/// transaction. An updated row's old search terms are removed; writing the new ones is left
/// to the caller, who batches them (see `search::insert_sorted_terms`).
pub(crate) fn upsert_row(
    tx: &Connection,
    v: &ValidCustomer,
    now: Millis,
) -> Result<Saved, CustomerError> {
    // Most imported rows are new: try the insert first and look the account up only when it
    // is already taken.
    if let Some(id) = insert_new(tx, v, now)? {
        return Ok(Saved::Inserted(id));
    }
    let old = by_account(tx, &v.account_number)?
        .ok_or_else(|| CustomerError::DuplicateAccount(v.account_number.clone()))?;
    if old.same_as(v) {
        return Ok(Saved::Unchanged);
    }
    replace_row(tx, &old, v, now)?;
    Ok(Saved::Updated(old.id))
}

/// Inserts or updates (by account number) many customers inside the caller's transaction,
/// then writes their search terms in key order: the index is a B-tree, and filling it in
/// order touches each page once instead of once per customer.
pub(crate) fn upsert_many<'a>(
    tx: &Connection,
    now: Millis,
    rows: impl IntoIterator<Item = &'a ValidCustomer>,
) -> Result<Upserted, CustomerError> {
    let mut done = Upserted::default();
    let mut terms = terms::TermList::default();
    let mut ids = Vec::new();
    for v in rows {
        let saved = upsert_row(tx, v, now)?;
        done.count(saved);
        if let Some(id) = saved.needs_terms() {
            terms.set_owner(search::owner_number(ids.len())?);
            terms.add(&v.term_source());
            ids.push(id);
        }
    }
    terms.sort_dedup();
    search::insert_sorted_terms(tx, terms.iter().map(|(t, i)| (t, ids[i as usize])))?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ManualClock, Store};
    use std::sync::Arc;

    fn us() -> Region {
        Region::US
    }

    fn input(account: &str, name: &str) -> CustomerInput {
        CustomerInput {
            account_number: account.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    fn store() -> (Store, ManualClock) {
        let clock = ManualClock::start();
        (
            Store::open_in_memory(Arc::new(clock.clone())).unwrap(),
            clock,
        )
    }

    #[test]
    fn validation_normalises_contacts() {
        let v = validate(
            &CustomerInput {
                account_number: "  WB-0001 ".into(),
                name: " Zoë Müller ".into(),
                email: " Zoe@Example.COM ".into(),
                phone: "(415) 555-0132".into(),
                service_address: "1 Main St\r\nSpringfield\r\n".into(),
                notes: "".into(),
            },
            us(),
        )
        .unwrap();
        assert_eq!(v.account_number, "WB-0001");
        assert_eq!(v.name, "Zoë Müller");
        assert_eq!(v.email.as_deref(), Some("Zoe@example.com"));
        assert_eq!(v.phone.as_deref(), Some("(415) 555-0132"));
        assert_eq!(v.phone_e164.as_deref(), Some("+14155550132"));
        assert_eq!(v.service_address, "1 Main St\nSpringfield");
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let errs = validate(
            &CustomerInput {
                account_number: "".into(),
                name: "a\u{202E}b".into(),
                email: "not-an-email".into(),
                phone: "call me".into(),
                service_address: "x".repeat(501),
                notes: "tab\there".into(),
            },
            us(),
        )
        .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "account_number",
                "name",
                "service_address",
                "notes",
                "email",
                "phone"
            ]
        );
        assert_eq!(errs[0].message, "the account number is required");
    }

    #[test]
    fn account_numbers_are_short_plain_codes() {
        for ok in ["A", "WB-0001234", "12 34/5", "x_y.z", &"9".repeat(32)] {
            assert!(account_number(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "   ",
            &"9".repeat(33),
            "-123",
            "=SUM(A1)",
            "'; DROP TABLE customers;--",
            "<script>",
            "ÄBC",
            "WB\r\n1",
            "WB\u{202E}1",
        ] {
            assert!(account_number(bad).is_err(), "{bad:?} was accepted");
        }
        let long = account_number(&"7".repeat(1_000_000)).unwrap_err();
        assert!(
            long.message.len() < 200,
            "the error does not echo a megabyte"
        );
    }

    #[test]
    fn names_allow_any_script_but_no_control_characters() {
        assert!(
            name("<script>alert(1)</script>").is_ok(),
            "stored as text; screens escape it"
        );
        assert!(name("Robert'); DROP TABLE customers;--").is_ok());
        assert!(name("محمد علي").is_ok());
        assert!(name("Ann\nLee").is_err());
        assert!(name(&"n".repeat(201)).is_err());
        assert!(name("").is_err());
    }

    #[test]
    fn text_blocks_keep_line_breaks_only() {
        assert_eq!(
            text_block("notes", "the notes", " a\r\nb ", 10).unwrap(),
            "a\nb"
        );
        assert!(text_block("notes", "the notes", "a\rb", 10).is_err());
        assert!(text_block("notes", "the notes", "a\u{0}b", 10).is_err());
        assert!(text_block("notes", "the notes", "abcdefghijk", 10).is_err());
    }

    #[test]
    fn invalid_error_lists_field_messages() {
        let err = CustomerError::Invalid(vec![
            FieldError::new("name", "the name is required"),
            FieldError::new("email", "bad email"),
        ]);
        assert_eq!(
            err.to_string(),
            "the customer was not saved: the name is required; bad email"
        );
    }

    #[test]
    fn create_update_delete_keep_index_and_trail_in_step() {
        let (store, clock) = store();
        let mut conn = store.conn();
        let c = create(&mut conn, &clock, "ann", &input("WB-1", "Ann Lee")).unwrap();
        assert_eq!(search(&conn, "lee", 10, 0).unwrap()[0].id, c.id);

        clock.advance_secs(5);
        let mut edit = input("WB-1", "Ann Smith");
        edit.email = "ann@example.com".into();
        let u = update(&mut conn, &clock, "ann", c.id, &edit).unwrap();
        assert_eq!(u.created_at, c.created_at);
        assert_eq!(u.updated_at, c.created_at + 5000);
        assert!(
            search(&conn, "lee", 10, 0).unwrap().is_empty(),
            "old name left the index"
        );
        assert_eq!(search(&conn, "smith", 10, 0).unwrap().len(), 1);

        // Saving the same form again is not a change.
        clock.advance_secs(5);
        assert_eq!(update(&mut conn, &clock, "ann", c.id, &edit).unwrap(), u);

        delete(&mut conn, &clock, "ann", c.id).unwrap();
        let terms: i64 = conn
            .query_row("SELECT count(*) FROM customer_terms", [], |r| r.get(0))
            .unwrap();
        assert_eq!(terms, 0);
        let trail: Vec<(String, String, String)> = conn
            .prepare("SELECT kind, account_number, detail FROM audit_events ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            trail,
            [
                ("customer_created".into(), "WB-1".into(), "".into()),
                (
                    "customer_updated".into(),
                    "WB-1".into(),
                    "changed: name, email".into()
                ),
                ("customer_deleted".into(), "WB-1".into(), "".into()),
            ]
        );
    }

    #[test]
    fn account_numbers_are_unique_whatever_their_case() {
        let (store, clock) = store();
        let mut conn = store.conn();
        let a = create(&mut conn, &clock, "ann", &input("wb-1", "A")).unwrap();
        let err = create(&mut conn, &clock, "ann", &input("WB-1", "B")).unwrap_err();
        assert!(matches!(err, CustomerError::DuplicateAccount(ref n) if n == "WB-1"));
        let b = create(&mut conn, &clock, "ann", &input("WB-2", "B")).unwrap();
        let err = update(&mut conn, &clock, "ann", b.id, &input("Wb-1", "B")).unwrap_err();
        assert!(matches!(err, CustomerError::DuplicateAccount(_)));
        assert_eq!(by_account(&conn, " WB-1 ").unwrap().unwrap().id, a.id);
        assert_eq!(count(&conn).unwrap(), 2);
    }

    #[test]
    fn operator_must_be_named() {
        let (store, clock) = store();
        let mut conn = store.conn();
        let err = create(&mut conn, &clock, " ", &input("WB-1", "A")).unwrap_err();
        assert!(matches!(
            err,
            CustomerError::Audit(AuditError::EmptyOperator)
        ));
        assert_eq!(count(&conn).unwrap(), 0);
    }

    #[test]
    fn missing_customer_is_not_found() {
        let (store, clock) = store();
        let mut conn = store.conn();
        assert!(matches!(
            update(&mut conn, &clock, "ann", 42, &input("WB-1", "A")),
            Err(CustomerError::NotFound(42))
        ));
        assert!(matches!(
            delete(&mut conn, &clock, "ann", 42),
            Err(CustomerError::NotFound(42))
        ));
        assert!(get(&conn, 42).unwrap().is_none());
        assert!(by_account(&conn, "").unwrap().is_none());
    }
}
