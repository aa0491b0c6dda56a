//! The one-time code policy: issue, verify, expire, throttle, clean up.
//!
//! The rules and their sources are in DESIGN.md section 3; the numbers themselves live in
//! `settings`. The shape follows Ory Kratos's code strategy:
//! - the plain code exists only in the value `issue` returns (for delivery); the database
//!   keeps HMAC-SHA-256(key, challenge id ‖ code) with a per-database key from the keyring;
//! - every state change is one immediate (write-locked) transaction with conditional
//!   updates, so two desks or eight threads can never spend the same attempt twice or
//!   verify one code twice;
//! - issuing supersedes the contact's earlier pending codes (newest wins);
//! - failures are counted per contact across codes, so asking for a new code does not
//!   reset the count; ten in a row lock the contact with doubling back-off.

use std::fmt;

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::{CryptoRng, Rng, TryRngCore};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::audit::{self, Event, Kind, Outcome as AuditOutcome};
use crate::clock::{format_ms, Clock, Millis};
use crate::contact::{self, Channel, ContactError};
use crate::customers::{self, Customer};
use crate::secrets::{SecretStore, SecretsError};
use crate::settings::{self, Settings};
use crate::store;

/// A verification attempt longer than this is not a code someone read out.
const MAX_INPUT_CHARS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error(transparent)]
    Operator(#[from] audit::AuditError),
    #[error("no customer with id {0}")]
    CustomerNotFound(i64),
    #[error("{name} has no {what} on file; add one to the customer record first")]
    NoContact { name: String, what: &'static str },
    #[error("codes go only to the contact on file for this customer ({on_file}); update the customer record if it has changed")]
    NotCustomersContact { on_file: String },
    #[error(transparent)]
    Contact(#[from] ContactError),
    #[error("a code was sent to this contact moments ago; another can be sent at {}", format_ms(*retry_at))]
    Cooldown { retry_at: Millis },
    #[error("this contact has had {limit} codes in the last {window}; another can be sent at {}", format_ms(*retry_at))]
    SendCap {
        limit: u32,
        window: &'static str,
        retry_at: Millis,
    },
    #[error("too many wrong codes for this contact; it is locked until {}", format_ms(*until))]
    Locked { until: Millis },
    #[error("no code with id {0}")]
    ChallengeNotFound(i64),
    #[error("type the code the customer reads out")]
    EmptyInput,
    #[error("a code has only digits (spaces and dashes are ignored); check what was typed")]
    NotDigits,
    #[error("the code has {expected} digits; {got} were typed")]
    WrongLength { expected: usize, got: usize },
    #[error("the code-hashing key is unavailable: {0}")]
    Secrets(#[from] SecretsError),
    #[error("the code-hashing key in the keyring is damaged; delete the entry \"{0}\" so a new one is made (pending codes will stop working)")]
    BadKey(String),
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error(transparent)]
    Customers(#[from] customers::CustomerError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("the code data could not be read or saved: {0}")]
    Storage(#[from] rusqlite::Error),
}

// ---------------------------------------------------------------------------------------------
// The hashing key

/// The per-database HMAC key. Kept in memory for the life of the app (reading the keyring on
/// every verify would make each one a D-Bus round trip); wiped on drop.
pub struct CodeKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeKey(…)")
    }
}

impl CodeKey {
    /// The keyring entry name for this database's key.
    pub fn secret_name(conn: &Connection) -> Result<String, CodeError> {
        Ok(format!("code-key:{}", store::database_id(conn)?))
    }

    /// Reads this database's key from the secret store, creating it on first use.
    pub fn load_or_create(conn: &Connection, secrets: &dyn SecretStore) -> Result<Self, CodeError> {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::STANDARD;
        let name = Self::secret_name(conn)?;
        if let Some(stored) = secrets.get(&name)? {
            let bytes = Zeroizing::new(
                engine
                    .decode(stored.as_bytes())
                    .map_err(|_| CodeError::BadKey(name.clone()))?,
            );
            let key: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| CodeError::BadKey(name.clone()))?;
            return Ok(Self(Zeroizing::new(key)));
        }
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng
            .try_fill_bytes(key.as_mut())
            .map_err(|e| SecretsError::Other(format!("no randomness from the OS: {e}")))?;
        let encoded = Zeroizing::new(engine.encode(key.as_ref()));
        secrets.set(&name, &encoded)?;
        Ok(Self(key))
    }

    /// A key for tests and benchmarks that never touches a keyring.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    fn tag(&self, challenge_id: i64, code: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_ref())
            .expect("HMAC accepts keys of any length");
        mac.update(&challenge_id.to_be_bytes());
        mac.update(code.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

// ---------------------------------------------------------------------------------------------
// Generation

/// The generator codes come from: the operating system's CSPRNG, nothing else. The bound
/// makes "a non-cryptographic generator" a compile error rather than a review comment.
pub fn code_rng() -> impl CryptoRng {
    OsRng.unwrap_err()
}

/// `digits` decimal digits, each drawn with rand's uniform sampler (rejection sampling, so
/// no modulo bias). Leading zeros are kept: "042917" is a valid code.
pub fn generate_code(rng: &mut impl CryptoRng, digits: u32) -> Zeroizing<String> {
    let mut code = Zeroizing::new(String::with_capacity(digits as usize));
    for _ in 0..digits {
        let d: u8 = rng.random_range(0..10);
        code.push(char::from(b'0' + d));
    }
    code
}

fn digits_only(input: &str) -> Result<Zeroizing<String>, CodeError> {
    if input.chars().count() > MAX_INPUT_CHARS {
        return Err(CodeError::NotDigits);
    }
    let mut out = Zeroizing::new(String::with_capacity(8));
    for c in input.chars() {
        match c {
            '0'..='9' => out.push(c),
            ' ' | '-' | '\u{00A0}' | '\t' => {}
            _ => return Err(CodeError::NotDigits),
        }
    }
    if out.is_empty() {
        return Err(CodeError::EmptyInput);
    }
    Ok(out)
}

/// Accepts what a clerk types: digits, with spaces and dashes ignored ("123 456", "123-456").
pub fn normalize_input(
    input: &str,
    expected_digits: usize,
) -> Result<Zeroizing<String>, CodeError> {
    let out = digits_only(input)?;
    if out.len() != expected_digits {
        return Err(CodeError::WrongLength {
            expected: expected_digits,
            got: out.len(),
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Issue

pub struct IssueRequest<'a> {
    pub customer_id: i64,
    pub channel: Channel,
    /// The contact to use; must be the one on file. `None` means "the one on file".
    pub destination: Option<&'a str>,
    pub operator: &'a str,
    /// The caller will show the code to a person or script instead of delivering it
    /// (`otp issue --print-code`). Recorded in the audit trail.
    pub revealed: bool,
}

/// A freshly issued code. The only value in the system that carries the plain code; it is
/// handed to delivery and then dropped (and wiped).
pub struct Issued {
    pub challenge_id: i64,
    pub code: Zeroizing<String>,
    pub channel: Channel,
    pub destination: String,
    pub masked_destination: String,
    pub expires_at: Millis,
    pub resend_at: Millis,
}

impl fmt::Debug for Issued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issued")
            .field("challenge_id", &self.challenge_id)
            .field("code", &"…")
            .field("channel", &self.channel)
            .field("destination", &self.masked_destination)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Where a code for `customer` on `channel` goes, given what the caller asked for.
fn destination_for(
    customer: &Customer,
    channel: Channel,
    requested: Option<&str>,
    settings: &Settings,
) -> Result<String, CodeError> {
    let region = settings.region();
    let on_file = match channel {
        Channel::Email => customer.email.clone().ok_or_else(|| CodeError::NoContact {
            name: customer.name.clone(),
            what: "email address",
        })?,
        Channel::Sms => {
            let phone = customer
                .phone
                .as_deref()
                .ok_or_else(|| CodeError::NoContact {
                    name: customer.name.clone(),
                    what: "phone number",
                })?;
            contact::sms_destination(phone, region)?
        }
    };
    if let Some(asked) = requested.map(str::trim).filter(|s| !s.is_empty()) {
        // Verification proves control of the contact on file; a code sent anywhere else
        // would prove nothing.
        let asked = match channel {
            Channel::Email => contact::normalize_email(asked)?,
            Channel::Sms => contact::sms_destination(asked, region)?,
        };
        if !asked.eq_ignore_ascii_case(&on_file) {
            return Err(CodeError::NotCustomersContact {
                on_file: contact::mask(channel, &on_file),
            });
        }
    }
    Ok(on_file)
}

fn locked_until(
    conn: &Connection,
    destination: &str,
    now: Millis,
) -> rusqlite::Result<Option<Millis>> {
    let until: Option<Option<Millis>> = conn
        .prepare_cached("SELECT locked_until FROM contacts WHERE destination = ?1")?
        .query_row([destination], |r| r.get(0))
        .optional()?;
    Ok(until.flatten().filter(|&u| u > now))
}

const TEN_MINUTES_MS: i64 = 10 * 60_000;
const DAY_MS: i64 = 24 * 3_600_000;

/// Checks cooldown and send caps. Cancelled codes (delivery failed) do not count: the
/// customer never got them, and the clerk must be able to retry at once.
fn check_send_limits(
    conn: &Connection,
    destination: &str,
    now: Millis,
    s: &Settings,
) -> Result<(), CodeError> {
    let mut recent = conn.prepare_cached(
        "SELECT created_at FROM codes
         WHERE destination = ?1 AND created_at > ?2 AND status <> 'cancelled'
         ORDER BY created_at DESC",
    )?;
    let times: Vec<Millis> = recent
        .query_map(params![destination, now - DAY_MS], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if let Some(&newest) = times.first() {
        let retry_at = newest + s.resend_cooldown_ms();
        if retry_at > now {
            return Err(CodeError::Cooldown { retry_at });
        }
    }
    // Each window frees up when the cap-th newest code in it ages out (times are newest first).
    let caps = [
        (settings::SENDS_PER_10_MINUTES, TEN_MINUTES_MS, "10 minutes"),
        (settings::SENDS_PER_DAY, DAY_MS, "24 hours"),
    ];
    for (limit, window_ms, window) in caps {
        let cap = limit as usize;
        let in_window: Vec<Millis> = times
            .iter()
            .copied()
            .filter(|&t| t > now - window_ms)
            .collect();
        if in_window.len() >= cap {
            return Err(CodeError::SendCap {
                limit,
                window,
                retry_at: in_window[cap - 1] + window_ms,
            });
        }
    }
    Ok(())
}

/// Issues a new code for a customer's contact and returns it (once) for delivery.
pub fn issue(
    conn: &mut Connection,
    clock: &dyn Clock,
    key: &CodeKey,
    req: &IssueRequest<'_>,
) -> Result<Issued, CodeError> {
    let operator = audit::operator_name(req.operator)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = clock.now_ms();
    let s = settings::load(&tx)?;
    let customer = customers::get(&tx, req.customer_id)?
        .ok_or(CodeError::CustomerNotFound(req.customer_id))?;
    // `destination` is the address as on file, for delivery; `contact` is what cooldowns,
    // caps and locks count by, the same however the address's case was typed.
    let destination = destination_for(&customer, req.channel, req.destination, &s)?;
    let contact_key = contact::policy_key(req.channel, &destination);
    let refused = |detail: String| {
        Event::new(Kind::CodeIssued, AuditOutcome::Refused, &operator)
            .customer(customer.id, &customer.account_number)
            .contact(req.channel, &destination)
            .detail(detail)
    };

    let limits = match locked_until(&tx, &contact_key, now)? {
        Some(until) => Err(CodeError::Locked { until }),
        None => check_send_limits(&tx, &contact_key, now, &s),
    };
    if let Err(e) = limits {
        // The refusal is worth keeping: repeated refusals are what abuse looks like.
        audit::record(&tx, clock, &refused(e.to_string()))?;
        tx.commit()?;
        return Err(e);
    }

    tx.prepare_cached(
        "UPDATE codes SET status = 'superseded' WHERE destination = ?1 AND status = 'pending'",
    )?
    .execute([&contact_key])?;

    let code = generate_code(&mut code_rng(), s.code_digits);
    let expires_at = now + s.code_lifetime_ms();
    tx.prepare_cached(
        "INSERT INTO codes (customer_id, channel, destination, code_hash, digits, created_at, expires_at, max_attempts, operator)
         VALUES (?1, ?2, ?3, x'', ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        customer.id,
        req.channel.as_str(),
        contact_key,
        s.code_digits,
        now,
        expires_at,
        s.max_attempts,
        operator
    ])?;
    let challenge_id = tx.last_insert_rowid();
    // The id is part of the MAC input, so the hash is written once the id exists.
    tx.prepare_cached("UPDATE codes SET code_hash = ?1 WHERE id = ?2")?
        .execute(params![
            key.tag(challenge_id, &code).as_slice(),
            challenge_id
        ])?;

    let event = |kind, detail: String| {
        Event::new(kind, AuditOutcome::Ok, &operator)
            .customer(customer.id, &customer.account_number)
            .contact(req.channel, &destination)
            .code(challenge_id)
            .detail(detail)
    };
    audit::record(
        &tx,
        clock,
        &event(
            Kind::CodeIssued,
            format!(
                "valid {} min, until {}",
                s.code_lifetime_minutes,
                format_ms(expires_at)
            ),
        ),
    )?;
    if req.revealed {
        audit::record(
            &tx,
            clock,
            &event(
                Kind::CodeRevealed,
                "code handed to the caller instead of delivered".into(),
            ),
        )?;
    }
    tx.commit()?;

    Ok(Issued {
        challenge_id,
        code,
        channel: req.channel,
        masked_destination: contact::mask(req.channel, &destination),
        destination,
        expires_at,
        resend_at: now + s.resend_cooldown_ms(),
    })
}

/// Voids a code whose delivery failed, so it cannot be used and does not hold back a retry
/// through the cooldown.
pub fn cancel(
    conn: &mut Connection,
    clock: &dyn Clock,
    challenge_id: i64,
    operator: &str,
    reason: &str,
) -> Result<bool, CodeError> {
    let operator = audit::operator_name(operator)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let row =
        load_challenge(&tx, challenge_id)?.ok_or(CodeError::ChallengeNotFound(challenge_id))?;
    let changed = tx.execute(
        "UPDATE codes SET status = 'cancelled' WHERE id = ?1 AND status = 'pending'",
        [challenge_id],
    )? == 1;
    if changed {
        let ev = challenge_event(Kind::CodeCancelled, AuditOutcome::Ok, &operator, &row)
            .detail(contact::shorten(reason));
        audit::record(&tx, clock, &ev)?;
    }
    tx.commit()?;
    Ok(changed)
}

// ---------------------------------------------------------------------------------------------
// Verify

/// Which code the clerk is answering.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The challenge the desk is showing (the normal case).
    Challenge(i64),
    /// The newest code sent to this email address or phone number.
    Destination(&'a str),
}

/// Every verdict the desk can show. Closed: the UI renders each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Verdict {
    Verified { at: Millis },
    WrongCode { attempts_left: u32 },
    Expired,
    TooManyAttempts,
    Locked { until: Millis },
    NoActiveCode,
    AlreadyUsed,
}

impl Verdict {
    pub fn is_verified(&self) -> bool {
        matches!(self, Verdict::Verified { .. })
    }

    /// What the clerk reads, and what to do next.
    pub fn explain(&self) -> String {
        match self {
            Verdict::Verified { at } => format!("VERIFIED at {}", format_ms(*at)),
            Verdict::WrongCode { attempts_left } => format!(
                "NOT VERIFIED: wrong code. {attempts_left} attempt{} left; ask the customer to read it again.",
                if *attempts_left == 1 { "" } else { "s" }
            ),
            Verdict::Expired => "NOT VERIFIED: the code has expired. Send a new one.".into(),
            Verdict::TooManyAttempts => {
                "NOT VERIFIED: too many wrong entries; this code no longer works. Send a new one.".into()
            }
            Verdict::Locked { until } => format!(
                "NOT VERIFIED: too many wrong codes for this contact. Locked until {}; check identity another way.",
                format_ms(*until)
            ),
            Verdict::NoActiveCode => "NOT VERIFIED: no code is waiting for this contact. Send one first.".into(),
            Verdict::AlreadyUsed => "NOT VERIFIED: this code was already used. Send a new one.".into(),
        }
    }

    fn audit_detail(&self) -> String {
        match self {
            Verdict::Verified { .. } => "verified".into(),
            Verdict::WrongCode { attempts_left } => format!(
                "wrong code, {attempts_left} attempt{} left",
                if *attempts_left == 1 { "" } else { "s" }
            ),
            Verdict::Expired => "expired".into(),
            Verdict::TooManyAttempts => "too many attempts".into(),
            Verdict::Locked { until } => format!("contact locked until {}", format_ms(*until)),
            Verdict::NoActiveCode => "no active code".into(),
            Verdict::AlreadyUsed => "already used".into(),
        }
    }
}

/// A verify result with what the desk needs to show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyResult {
    #[serde(flatten)]
    pub verdict: Verdict,
    pub challenge_id: Option<i64>,
    pub customer_id: Option<i64>,
}

struct ChallengeRow {
    id: i64,
    customer_id: Option<i64>,
    account_number: Option<String>,
    channel: Channel,
    destination: String,
    code_hash: Vec<u8>,
    expires_at: Millis,
    attempts: u32,
    max_attempts: u32,
    status: String,
    digits: u32,
    created_at: Millis,
}

const CHALLENGE_SQL: &str =
    "SELECT c.id, c.customer_id, cu.account_number, c.channel, c.destination, c.code_hash,
        c.expires_at, c.attempts, c.max_attempts, c.status, c.digits, c.created_at
   FROM codes c LEFT JOIN customers cu ON cu.id = c.customer_id";

fn challenge_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChallengeRow> {
    let channel: String = r.get(3)?;
    Ok(ChallengeRow {
        id: r.get(0)?,
        customer_id: r.get(1)?,
        account_number: r.get(2)?,
        channel: if channel == "sms" {
            Channel::Sms
        } else {
            Channel::Email
        },
        destination: r.get(4)?,
        code_hash: r.get(5)?,
        expires_at: r.get(6)?,
        attempts: r.get(7)?,
        max_attempts: r.get(8)?,
        status: r.get(9)?,
        digits: r.get(10)?,
        created_at: r.get(11)?,
    })
}

/// An audit event about a stored code: its contact, id and customer.
fn challenge_event(kind: Kind, outcome: AuditOutcome, operator: &str, row: &ChallengeRow) -> Event {
    let mut ev = Event::new(kind, outcome, operator)
        .contact(row.channel, &row.destination)
        .code(row.id);
    ev.customer_id = row.customer_id;
    ev.account_number = row.account_number.clone();
    ev
}

fn load_challenge(conn: &Connection, id: i64) -> rusqlite::Result<Option<ChallengeRow>> {
    conn.prepare_cached(&format!("{CHALLENGE_SQL} WHERE c.id = ?1"))?
        .query_row([id], challenge_from_row)
        .optional()
}

fn newest_for(conn: &Connection, destination: &str) -> rusqlite::Result<Option<ChallengeRow>> {
    conn.prepare_cached(&format!(
        "{CHALLENGE_SQL} WHERE c.destination = ?1 AND c.status <> 'cancelled'
         ORDER BY c.created_at DESC, c.id DESC LIMIT 1"
    ))?
    .query_row([destination], challenge_from_row)
    .optional()
}

/// Turns what a caller typed as a contact into the key codes are stored under.
fn normalize_destination(input: &str, s: &Settings) -> Result<String, CodeError> {
    if input.contains('@') {
        let email = contact::normalize_email(input)?;
        Ok(contact::policy_key(Channel::Email, &email))
    } else {
        Ok(contact::sms_destination(input, s.region())?)
    }
}

/// Records one more consecutive failure for the contact and locks it when the count reaches
/// the threshold: 1 minute, then doubling per further failure, capped at an hour.
fn count_failure(
    conn: &Connection,
    destination: &str,
    now: Millis,
) -> rusqlite::Result<Option<Millis>> {
    let failures: i64 = conn
        .prepare_cached(
            "INSERT INTO contacts (destination, consecutive_failures) VALUES (?1, 1)
             ON CONFLICT (destination) DO UPDATE SET consecutive_failures = consecutive_failures + 1
             RETURNING consecutive_failures",
        )?
        .query_row([destination], |r| r.get(0))?;
    let threshold = i64::from(settings::LOCKOUT_AFTER_FAILURES);
    if failures < threshold {
        return Ok(None);
    }
    let doublings = (failures - threshold).min(16) as u32;
    let secs = (settings::LOCKOUT_BASE_SECS << doublings).min(settings::LOCKOUT_MAX_SECS);
    let until = now + secs * 1000;
    conn.prepare_cached("UPDATE contacts SET locked_until = ?2 WHERE destination = ?1")?
        .execute(params![destination, until])?;
    Ok(Some(until))
}

/// Checks a code the customer read out. Input errors (letters, wrong length) are returned as
/// errors and cost no attempt; every real attempt returns a `Verdict` and is audited.
pub fn verify(
    conn: &mut Connection,
    clock: &dyn Clock,
    key: &CodeKey,
    target: Target<'_>,
    input: &str,
    operator: &str,
) -> Result<VerifyResult, CodeError> {
    let operator = audit::operator_name(operator)?;
    // Letters or an empty box are the clerk's typo, not the customer's attempt: refuse them
    // before anything is read or counted.
    digits_only(input)?;
    let s = settings::load(conn)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = clock.now_ms();
    let row = match target {
        Target::Challenge(id) => load_challenge(&tx, id)?,
        Target::Destination(d) => newest_for(&tx, &normalize_destination(d, &s)?)?,
    };
    let Some(row) = row else {
        let mut ev = Event::new(Kind::CodeVerify, AuditOutcome::Failed, &operator)
            .detail(Verdict::NoActiveCode.audit_detail());
        if let Target::Challenge(id) = target {
            ev = ev.code(id);
        }
        audit::record(&tx, clock, &ev)?;
        tx.commit()?;
        return Ok(VerifyResult {
            verdict: Verdict::NoActiveCode,
            challenge_id: None,
            customer_id: None,
        });
    };
    // The code's own length is what counts: the digits setting may have changed since.
    let typed = normalize_input(input, row.digits as usize)?;

    let verdict = if let Some(until) = locked_until(&tx, &row.destination, now)? {
        Verdict::Locked { until }
    } else {
        match row.status.as_str() {
            "verified" => Verdict::AlreadyUsed,
            "dead" => Verdict::TooManyAttempts,
            "superseded" | "cancelled" => Verdict::NoActiveCode,
            _ if row.expires_at <= now => Verdict::Expired,
            _ if row.attempts >= row.max_attempts => Verdict::TooManyAttempts,
            _ => {
                let expected = key.tag(row.id, &typed);
                let matches: bool = expected.as_slice().ct_eq(row.code_hash.as_slice()).into();
                if matches {
                    spend_on_success(&tx, &row, now)?
                } else {
                    spend_on_failure(&tx, clock, &operator, &row, now)?
                }
            }
        }
    };

    let outcome = match verdict {
        Verdict::Verified { .. } => AuditOutcome::Ok,
        Verdict::Locked { .. } => AuditOutcome::Refused,
        _ => AuditOutcome::Failed,
    };
    let ev =
        challenge_event(Kind::CodeVerify, outcome, &operator, &row).detail(verdict.audit_detail());
    audit::record(&tx, clock, &ev)?;
    tx.commit()?;
    Ok(VerifyResult {
        verdict,
        challenge_id: Some(row.id),
        customer_id: row.customer_id,
    })
}

fn spend_on_success(
    tx: &Connection,
    row: &ChallengeRow,
    now: Millis,
) -> Result<Verdict, CodeError> {
    // The conditions repeat what was just read so that the write itself is the guard.
    let spent = tx
        .prepare_cached(
            "UPDATE codes SET status = 'verified', used_at = ?2, attempts = attempts + 1
             WHERE id = ?1 AND status = 'pending' AND attempts < max_attempts AND expires_at > ?2",
        )?
        .execute(params![row.id, now])?;
    if spent != 1 {
        return Ok(Verdict::AlreadyUsed);
    }
    tx.prepare_cached(
        "UPDATE contacts SET consecutive_failures = 0, locked_until = NULL WHERE destination = ?1",
    )?
    .execute([&row.destination])?;
    Ok(Verdict::Verified { at: now })
}

fn spend_on_failure(
    tx: &Connection,
    clock: &dyn Clock,
    operator: &str,
    row: &ChallengeRow,
    now: Millis,
) -> Result<Verdict, CodeError> {
    let attempts: Option<u32> = tx
        .prepare_cached(
            "UPDATE codes SET attempts = attempts + 1,
                    status = CASE WHEN attempts + 1 >= max_attempts THEN 'dead' ELSE status END
             WHERE id = ?1 AND status = 'pending' AND attempts < max_attempts
             RETURNING attempts",
        )?
        .query_row([row.id], |r| r.get(0))
        .optional()?;
    let Some(attempts) = attempts else {
        return Ok(Verdict::TooManyAttempts);
    };
    if let Some(until) = count_failure(tx, &row.destination, now)? {
        let ev = challenge_event(Kind::ContactLocked, AuditOutcome::Ok, operator, row)
            .detail(format!("locked until {}", format_ms(until)));
        audit::record(tx, clock, &ev)?;
        return Ok(Verdict::Locked { until });
    }
    Ok(if attempts >= row.max_attempts {
        Verdict::TooManyAttempts
    } else {
        Verdict::WrongCode {
            attempts_left: row.max_attempts - attempts,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Status and cleanup

/// What the desk shows about a code while the customer reads it out. Never the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChallengeStatus {
    pub challenge_id: i64,
    pub customer_id: Option<i64>,
    pub channel: Channel,
    pub masked_destination: String,
    /// pending, expired, verified, dead, superseded or cancelled.
    pub state: String,
    pub expires_at: Millis,
    pub attempts_left: u32,
    pub resend_at: Millis,
}

pub fn status(
    conn: &Connection,
    challenge_id: i64,
    now: Millis,
) -> Result<ChallengeStatus, CodeError> {
    let s = settings::load(conn)?;
    let row =
        load_challenge(conn, challenge_id)?.ok_or(CodeError::ChallengeNotFound(challenge_id))?;
    let state = if row.status == "pending" && row.expires_at <= now {
        "expired".to_string()
    } else {
        row.status.clone()
    };
    Ok(ChallengeStatus {
        challenge_id,
        customer_id: row.customer_id,
        channel: row.channel,
        masked_destination: contact::mask(row.channel, &row.destination),
        state,
        expires_at: row.expires_at,
        attempts_left: row.max_attempts.saturating_sub(row.attempts),
        resend_at: row.created_at + s.resend_cooldown_ms(),
    })
}

/// Deletes codes that expired before `cutoff`. Deleting row by row costs a B-tree search in
/// every index per row; when most of the table goes (the first cleanup after months, or the
/// seed system's habit of keeping no expired codes at all), copying the few survivors aside
/// and emptying the table (which SQLite does wholesale, index pages included) is an order of
/// magnitude faster. Both paths run inside the caller's transaction; ids are kept.
fn delete_codes_expired_before(tx: &Connection, cutoff: Millis) -> rusqlite::Result<u64> {
    let doomed: i64 = tx.query_row(
        "SELECT count(*) FROM codes WHERE expires_at < ?1",
        [cutoff],
        |r| r.get(0),
    )?;
    let total: i64 = tx.query_row("SELECT count(*) FROM codes", [], |r| r.get(0))?;
    if doomed < BULK_CLEANUP_MIN_ROWS || doomed * 2 < total {
        return Ok(tx.execute("DELETE FROM codes WHERE expires_at < ?1", [cutoff])? as u64);
    }
    tx.execute_batch("DROP TABLE IF EXISTS temp.codes_kept")?;
    tx.execute(
        "CREATE TEMP TABLE codes_kept AS SELECT * FROM main.codes WHERE expires_at >= ?1",
        [cutoff],
    )?;
    tx.execute("DELETE FROM main.codes", [])?;
    tx.execute("INSERT INTO main.codes SELECT * FROM temp.codes_kept", [])?;
    tx.execute("DROP TABLE temp.codes_kept", [])?;
    Ok(doomed as u64)
}

/// Below this many rows the plain DELETE is quick whatever the proportion.
pub const BULK_CLEANUP_MIN_ROWS: i64 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CleanupReport {
    pub deleted_codes: u64,
    pub cleared_contacts: u64,
    pub cutoff: Millis,
}

/// Deletes codes that expired more than `retention_days` ago (default: the setting), and
/// contact rows that carry no failure count or lock. Audit rows stay. The retention floor of
/// one day keeps the daily send cap honest.
pub fn cleanup(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    retention_days: Option<u32>,
) -> Result<CleanupReport, CodeError> {
    let operator = audit::operator_name(operator)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let s = settings::load(&tx)?;
    let days = match retention_days {
        Some(d) => {
            // Same bounds as the setting, enforced by the same code.
            settings::check("retention_days", &d.to_string())?;
            d
        }
        None => s.retention_days,
    };
    let now = clock.now_ms();
    let cutoff = now - i64::from(days) * DAY_MS;
    let deleted_codes = delete_codes_expired_before(&tx, cutoff)?;
    let cleared_contacts = tx.execute(
        "DELETE FROM contacts WHERE consecutive_failures = 0 AND (locked_until IS NULL OR locked_until < ?1)",
        [now],
    )? as u64;
    audit::record(
        &tx,
        clock,
        &Event::new(Kind::CodesCleaned, AuditOutcome::Ok, &operator).detail(format!(
            "deleted {deleted_codes} codes that expired before {}",
            format_ms(cutoff)
        )),
    )?;
    tx.commit()?;
    Ok(CleanupReport {
        deleted_codes,
        cleared_contacts,
        cutoff,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compile-time proof: production codes come from a generator that is `CryptoRng`, and
    /// that generator is the OS one (`code_rng` returns `UnwrapErr<OsRng>`).
    #[test]
    fn codes_come_from_the_os_csprng() {
        fn is_os_rng(_: &rand::rand_core::UnwrapErr<OsRng>) {}
        fn is_crypto<R: CryptoRng>(_: &R) {}
        let rng = OsRng.unwrap_err();
        is_os_rng(&rng);
        is_crypto(&code_rng());
    }

    /// Chi-square over 60,000 codes: each of the 6 positions and all digits together must be
    /// uniform. Critical value for 9 degrees of freedom at p = 0.0001 is 33.72, so a correct
    /// generator fails this about once in ten thousand runs; a modulo-biased one (e.g. a byte
    /// % 10) fails it every time.
    #[test]
    fn digits_are_uniform() {
        const N: usize = 60_000;
        let mut rng = code_rng();
        let mut per_pos = [[0u64; 10]; 6];
        for _ in 0..N {
            let code = generate_code(&mut rng, 6);
            assert_eq!(code.len(), 6);
            for (pos, b) in code.bytes().enumerate() {
                per_pos[pos][(b - b'0') as usize] += 1;
            }
        }
        let chi = |counts: &[u64; 10], n: f64| -> f64 {
            let e = n / 10.0;
            counts.iter().map(|&c| (c as f64 - e).powi(2) / e).sum()
        };
        let mut all = [0u64; 10];
        for pos in per_pos.iter() {
            assert!(chi(pos, N as f64) < 33.72, "position counts {pos:?}");
            for d in 0..10 {
                all[d] += pos[d];
            }
        }
        assert!(chi(&all, (N * 6) as f64) < 33.72, "overall counts {all:?}");
        // The test must be able to fail: a biased source (bytes % 10 favours 0–5) is caught.
        let mut biased = [0u64; 10];
        for i in 0..(N * 6) {
            biased[(i % 256) % 10] += 1;
        }
        assert!(chi(&biased, (N * 6) as f64) > 33.72);
    }

    #[test]
    fn eight_digit_codes_have_eight_digits() {
        let code = generate_code(&mut code_rng(), 8);
        assert_eq!(code.len(), 8);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
    }

    #[test]
    fn input_is_normalised_or_refused_clearly() {
        assert_eq!(normalize_input(" 123 456 ", 6).unwrap().as_str(), "123456");
        assert_eq!(normalize_input("123-456", 6).unwrap().as_str(), "123456");
        assert!(matches!(normalize_input("", 6), Err(CodeError::EmptyInput)));
        assert!(matches!(
            normalize_input("  - ", 6),
            Err(CodeError::EmptyInput)
        ));
        assert!(matches!(
            normalize_input("12345", 6),
            Err(CodeError::WrongLength {
                expected: 6,
                got: 5
            })
        ));
        for bad in [
            "12345a",
            "１２３４５６",
            "123456\r\n",
            "<script>",
            "1' OR '1'='1",
            "\u{202E}123456",
        ] {
            assert!(
                matches!(normalize_input(bad, 6), Err(CodeError::NotDigits)),
                "{bad:?}"
            );
        }
        assert!(matches!(
            normalize_input(&"1".repeat(1_000_000), 6),
            Err(CodeError::NotDigits)
        ));
    }

    #[test]
    fn the_mac_binds_code_to_challenge() {
        let key = CodeKey::from_bytes([7; 32]);
        assert_ne!(key.tag(1, "123456"), key.tag(2, "123456"));
        assert_ne!(key.tag(1, "123456"), key.tag(1, "123457"));
        assert_ne!(
            key.tag(1, "123456"),
            CodeKey::from_bytes([8; 32]).tag(1, "123456")
        );
        assert!(!format!("{key:?}").contains('7'));
    }

    #[test]
    fn issued_debug_output_hides_the_code() {
        let issued = Issued {
            challenge_id: 1,
            code: Zeroizing::new("918273".into()),
            channel: Channel::Email,
            destination: "ann@example.com".into(),
            masked_destination: "a…@example.com".into(),
            expires_at: 0,
            resend_at: 0,
        };
        let shown = format!("{issued:?}");
        assert!(!shown.contains("918273"));
        assert!(!shown.contains("ann@example.com"));
    }
}
