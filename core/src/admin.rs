//! The admin passphrase and the unlocked admin area.
//!
//! Settings, policy, mail and SMS accounts, imports, exports and backups sit behind one
//! passphrase the office admin chooses. What is stored is an Argon2id PHC string (algorithm,
//! parameters, a random salt, the hash) in the `admin_passphrase` table; never the passphrase.
//!
//! # The rules for a passphrase (NIST SP 800-63B style)
//!
//! - Length is what counts: at least [`MIN_PASSPHRASE_CHARS`] characters, at most
//!   [`MAX_PASSPHRASE_CHARS`], counted as Unicode code points after NFKC normalisation (so the
//!   same words typed on a Mac and a PC are the same passphrase). No composition rules (no
//!   "one digit, one capital"): they make passphrases harder to remember, not to guess.
//! - Refused: only spaces, line breaks or other invisible characters, one character repeated, keyboard or alphabet runs, digits only, and
//!   the words anyone would try first (`password`, `otpdesk`, `admin`, the company name, …),
//!   also with digits or punctuation around them.
//! - Why 12: NIST asks for 8 where a second factor guards the account and 15 where the
//!   password stands alone on a service anyone can reach. Here a guesser must stand at the
//!   office computer (five tries, then a lock that doubles to 15 minutes: about a hundred
//!   guesses a day) or hold a copy of the database file, where Argon2id makes each guess cost
//!   tens of milliseconds and 46 MiB. Twelve characters means a phrase of two or three words,
//!   which an admin can type several times a day.
//!
//! # Wrong passphrases
//!
//! Five in a row lock the admin area for a minute; each further wrong one doubles the lock,
//! up to 15 minutes; a right one resets the count. The count and the lock are in the
//! database, so closing the app does not clear them. While locked, the passphrase is not
//! even checked. A try is counted *before* its hash is computed (and uncounted when it
//! turns out right), so two windows guessing at once cannot slip in extra tries.
//!
//! # The unlocked area
//!
//! [`AdminSession`] is the shell's in-memory record that the admin area is open: opened by a
//! right passphrase, kept open by activity, closed by an explicit lock or after
//! `admin_idle_lock_minutes` (a setting, 1–60, default 5) without activity.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::TryRngCore;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::audit::{self, AuditError, Event, Kind, Outcome};
use crate::clock::{format_ms, Clock, Millis};
use crate::contact::is_bidi_control;
use crate::settings::{self, SettingsError};

pub const MIN_PASSPHRASE_CHARS: usize = 12;
pub const MAX_PASSPHRASE_CHARS: usize = 128;
/// Wrong passphrases in a row before the admin area locks.
pub const LOCK_AFTER_FAILURES: u32 = 5;
/// The first lock; each further wrong passphrase doubles it, up to the cap.
pub const LOCK_BASE_SECS: i64 = 60;
pub const LOCK_MAX_SECS: i64 = 15 * 60;

/// Argon2id cost: the OWASP Password Storage Cheat Sheet's first option (m = 46 MiB, t = 1,
/// p = 1) with a second pass. OWASP's minimum (19 MiB, t = 2) took 27 ms here even on a busy
/// machine, under the 50–250 ms that an unlock prompt can spend; this costs about 2.4 times
/// that (docs/PERFORMANCE.md, `cargo bench -p otp-desk-core --bench desk`).
/// The parameters travel in each stored PHC string, so raising them later only affects new
/// hashes, and a stored hash with weaker ones is upgraded at the next right passphrase.
pub const ARGON2_MEMORY_KIB: u32 = 46 * 1024;
pub const ARGON2_ITERATIONS: u32 = 2;
pub const ARGON2_LANES: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no admin passphrase is set up yet; set one first")]
    NotSet,
    #[error("an admin passphrase is already set; to replace it, change it with the current one")]
    AlreadySet,
    #[error("type the admin passphrase")]
    Empty,
    #[error("wrong admin passphrase; {attempts_left} more wrong {} and the admin area locks for a while", if *attempts_left == 1 { "try" } else { "tries" })]
    Wrong { attempts_left: u32 },
    #[error("too many wrong admin passphrases; the admin area is locked until {}", format_ms(*until))]
    Locked { until: Millis },
    #[error("a passphrase needs at least {MIN_PASSPHRASE_CHARS} characters (this one has {got}); a few unrelated words make a good one")]
    TooShort { got: usize },
    #[error("a passphrase can have at most {MAX_PASSPHRASE_CHARS} characters")]
    TooLong,
    #[error("a passphrase cannot be only spaces")]
    Blank,
    #[error("a passphrase is one line of visible text: no line breaks, tabs or direction-override characters")]
    NotPlainText,
    #[error(
        "that passphrase is too easy to guess ({reason}); choose a phrase of a few unrelated words"
    )]
    TooEasy { reason: &'static str },
    #[error("the new passphrase is the same as the current one")]
    Unchanged,
    #[error("the admin area is locked; unlock it with the admin passphrase")]
    SessionLocked,
    #[error(
        "the admin area locked itself after {minutes} minutes without activity; unlock it again"
    )]
    IdleLocked { minutes: u32 },
    #[error("the stored admin passphrase is damaged; restore a backup of the database")]
    Damaged,
    #[error("the passphrase could not be hashed: {0}")]
    Hashing(String),
    #[error(transparent)]
    Operator(AuditError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("the admin passphrase could not be read or saved: {0}")]
    Storage(#[from] rusqlite::Error),
}

impl From<AuditError> for AdminError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::Storage(e) => AdminError::Storage(e),
            other => AdminError::Operator(other),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The rules

/// The passphrase as it is hashed: NFKC-normalised (NIST SP 800-63B §5.1.1.2), wiped on drop.
fn normalise(input: &str) -> Zeroizing<String> {
    Zeroizing::new(input.nfkc().collect())
}

/// Words a guesser tries first, compared after lower-casing and dropping everything but
/// letters and digits (and digits at either end: "Password2026!" is "password").
const OBVIOUS: &[&str] = &[
    "password",
    "passphrase",
    "passwort",
    "motdepasse",
    "contraseña",
    "otpdesk",
    "otp",
    "desk",
    "admin",
    "administrator",
    "letmein",
    "welcome",
    "changeme",
    "secret",
    "qwerty",
    "iloveyou",
    "monkey",
    "dragon",
    "trustno",
    "football",
    "baseball",
    "master",
    "login",
    "default",
];

const RUNS: &[&str] = &[
    "abcdefghijklmnopqrstuvwxyz",
    "zyxwvutsrqponmlkjihgfedcba",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "01234567890",
    "09876543210",
];

/// Checks a new passphrase against the rules. `company_name` is the office's name (the
/// setting), which is the first thing a guesser tries.
pub fn check_new(passphrase: &str, company_name: &str) -> Result<(), AdminError> {
    // Counted before normalising, so a megabyte of input is refused without being copied.
    if passphrase
        .chars()
        .take(MAX_PASSPHRASE_CHARS * 4 + 1)
        .count()
        > MAX_PASSPHRASE_CHARS * 4
    {
        return Err(AdminError::TooLong);
    }
    let p = normalise(passphrase);
    let chars = p.chars().count();
    if chars > MAX_PASSPHRASE_CHARS {
        return Err(AdminError::TooLong);
    }
    if !p.is_empty() && p.trim().is_empty() {
        return Err(AdminError::Blank);
    }
    // Invisible characters cannot be typed again reliably at the unlock prompt.
    if p.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(AdminError::NotPlainText);
    }
    if chars < MIN_PASSPHRASE_CHARS {
        return Err(AdminError::TooShort { got: chars });
    }
    let folded: Zeroizing<String> = Zeroizing::new(
        p.chars()
            .flat_map(char::to_lowercase)
            .filter(|c| c.is_alphanumeric())
            .collect(),
    );
    let mut distinct: Vec<char> = folded.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() <= 2 {
        return Err(AdminError::TooEasy {
            reason: "it repeats one or two characters",
        });
    }
    if folded.chars().all(|c| c.is_ascii_digit()) {
        return Err(AdminError::TooEasy {
            reason: "it is only digits",
        });
    }
    if RUNS.iter().any(|run| run.contains(folded.as_str())) {
        return Err(AdminError::TooEasy {
            reason: "it is a run of keys or letters",
        });
    }
    let core = folded.trim_matches(|c: char| c.is_ascii_digit());
    let company: String = company_name
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect();
    let is_obvious = |word: &str| {
        !word.is_empty()
            && (core == word || core.strip_prefix(word).is_some_and(is_repetition(word)))
    };
    if OBVIOUS.iter().any(|w| is_obvious(w)) {
        return Err(AdminError::TooEasy {
            reason: "it is a word everyone tries first",
        });
    }
    if company.chars().count() >= 3
        && (is_obvious(&company)
            || core.contains(company.as_str()) && core.len() < company.len() + 4)
    {
        return Err(AdminError::TooEasy {
            reason: "it is the office's name",
        });
    }
    Ok(())
}

/// "passwordpassword" is still "password".
fn is_repetition(word: &str) -> impl Fn(&str) -> bool + '_ {
    move |rest: &str| {
        let mut rest = rest;
        while let Some(r) = rest.strip_prefix(word) {
            rest = r;
        }
        rest.is_empty()
    }
}

/// The same check, with the company name from the settings: for the set-up form's live hint.
pub fn check_new_for(conn: &Connection, passphrase: &str) -> Result<(), AdminError> {
    check_new(passphrase, &settings::load(conn)?.company_name)
}

// ---------------------------------------------------------------------------------------------
// Hashing

fn hasher() -> Result<Argon2<'static>, AdminError> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES, None)
        .map_err(|e| AdminError::Hashing(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A PHC string for `passphrase` with a fresh 16-byte salt from the OS CSPRNG.
fn hash(passphrase: &str) -> Result<String, AdminError> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng
        .try_fill_bytes(&mut salt)
        .map_err(|e| AdminError::Hashing(format!("no randomness from the OS: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AdminError::Hashing(e.to_string()))?;
    let p = normalise(passphrase);
    let phc = hasher()?
        .hash_password(p.as_bytes(), &salt)
        .map_err(|e| AdminError::Hashing(e.to_string()))?
        .to_string();
    Ok(phc)
}

/// Whether `passphrase` matches the stored PHC string, and whether that string's parameters
/// are weaker than today's (so it should be hashed again).
fn matches(phc: &str, passphrase: &str) -> Result<(bool, bool), AdminError> {
    let parsed = PasswordHash::new(phc).map_err(|_| AdminError::Damaged)?;
    if parsed.hash.is_none() || parsed.salt.is_none() {
        return Err(AdminError::Damaged);
    }
    let p = normalise(passphrase);
    // The parameters come from the stored string; only the algorithm object is ours.
    let ok = match hasher()?.verify_password(p.as_bytes(), &parsed) {
        Ok(()) => true,
        Err(argon2::password_hash::Error::Password) => false,
        Err(_) => return Err(AdminError::Damaged),
    };
    let outdated = Params::try_from(&parsed).map_or(true, |stored| {
        stored.m_cost() < ARGON2_MEMORY_KIB
            || stored.t_cost() < ARGON2_ITERATIONS
            || parsed.algorithm.as_str() != "argon2id"
    });
    Ok((ok, outdated))
}

// ---------------------------------------------------------------------------------------------
// Stored state

struct Row {
    phc: Zeroizing<String>,
    failures: u32,
    locked_until: Option<Millis>,
}

fn load(conn: &Connection) -> Result<Option<Row>, AdminError> {
    Ok(conn
        .query_row(
            "SELECT phc, consecutive_failures, locked_until FROM admin_passphrase WHERE id = 1",
            [],
            |r| {
                Ok(Row {
                    phc: Zeroizing::new(r.get(0)?),
                    failures: r.get(1)?,
                    locked_until: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// Whether a passphrase exists: false on first start, when the shell shows the set-up step.
pub fn is_set(conn: &Connection) -> Result<bool, AdminError> {
    Ok(load(conn)?.is_some())
}

/// What the unlock screen shows before anything is typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminStatus {
    pub is_set: bool,
    /// Set while the admin area refuses every passphrase.
    pub locked_until: Option<Millis>,
    /// Wrong tries left before the next lock.
    pub attempts_left: u32,
}

pub fn status(conn: &Connection, now: Millis) -> Result<AdminStatus, AdminError> {
    Ok(match load(conn)? {
        None => AdminStatus {
            is_set: false,
            locked_until: None,
            attempts_left: LOCK_AFTER_FAILURES,
        },
        Some(row) => AdminStatus {
            is_set: true,
            locked_until: row.locked_until.filter(|&u| u > now),
            attempts_left: LOCK_AFTER_FAILURES.saturating_sub(row.failures).max(1),
        },
    })
}

fn lock_secs(failures: u32) -> i64 {
    let doublings = failures.saturating_sub(LOCK_AFTER_FAILURES).min(16);
    (LOCK_BASE_SECS << doublings).min(LOCK_MAX_SECS)
}

// ---------------------------------------------------------------------------------------------
// Set, change, verify

/// Sets the first passphrase. Refused once one exists: replacing it needs [`change`].
pub fn set(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    new_passphrase: &str,
) -> Result<(), AdminError> {
    let operator = audit::operator_name(operator)?;
    check_new_for(conn, new_passphrase)?;
    if is_set(conn)? {
        return Err(AdminError::AlreadySet);
    }
    let phc = Zeroizing::new(hash(new_passphrase)?);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Checked again under the write lock: two windows setting up at once cannot both win.
    let inserted = tx.execute(
        "INSERT INTO admin_passphrase (id, phc, set_at) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO NOTHING",
        params![phc.as_str(), clock.now_ms()],
    )?;
    if inserted != 1 {
        return Err(AdminError::AlreadySet);
    }
    audit::record(
        &tx,
        clock,
        &Event::new(Kind::AdminPassphraseSet, Outcome::Ok, &operator)
            .detail("admin passphrase set up"),
    )?;
    tx.commit()?;
    Ok(())
}

/// Replaces the passphrase; the current one must be given and counts as a try (wrong ones
/// count towards the lock like any other).
pub fn change(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    current: &str,
    new_passphrase: &str,
) -> Result<(), AdminError> {
    let operator = audit::operator_name(operator)?;
    // The new one is checked first: a typo in it should not cost a try of the current one.
    check_new_for(conn, new_passphrase)?;
    if *normalise(current) == *normalise(new_passphrase) {
        return Err(AdminError::Unchanged);
    }
    attempt(conn, clock, &operator, current, "to change the passphrase")?;
    let phc = Zeroizing::new(hash(new_passphrase)?);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "UPDATE admin_passphrase SET phc = ?1, set_at = ?2, consecutive_failures = 0, locked_until = NULL
         WHERE id = 1",
        params![phc.as_str(), clock.now_ms()],
    )?;
    audit::record(
        &tx,
        clock,
        &Event::new(Kind::AdminPassphraseChanged, Outcome::Ok, &operator)
            .detail("admin passphrase changed"),
    )?;
    tx.commit()?;
    Ok(())
}

/// Checks the admin passphrase. `Ok(())` means it is right; a wrong one is
/// [`AdminError::Wrong`] (or [`AdminError::Locked`] when it was one too many). Every try is
/// audited, never with the passphrase.
pub fn verify(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    passphrase: &str,
) -> Result<(), AdminError> {
    let operator = audit::operator_name(operator)?;
    attempt(
        conn,
        clock,
        &operator,
        passphrase,
        "to unlock the admin area",
    )
}

fn attempt(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    passphrase: &str,
    purpose: &str,
) -> Result<(), AdminError> {
    // An empty box is a slip, and a text longer than any passphrase can be cannot be right:
    // neither is a try, and neither is hashed.
    if passphrase.is_empty() {
        return Err(AdminError::Empty);
    }
    if passphrase
        .chars()
        .take(MAX_PASSPHRASE_CHARS * 4 + 1)
        .count()
        > MAX_PASSPHRASE_CHARS * 4
    {
        return Err(AdminError::TooLong);
    }
    let event = |outcome, detail: String| {
        Event::new(Kind::AdminUnlock, outcome, operator).detail(format!("{purpose}: {detail}"))
    };

    // 1. Spend the try under the write lock, before the (slow) hash is computed.
    let (phc, failures, lock) = {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = clock.now_ms();
        let row = load(&tx)?.ok_or(AdminError::NotSet)?;
        if let Some(until) = row.locked_until.filter(|&u| u > now) {
            audit::record(
                &tx,
                clock,
                &event(
                    Outcome::Refused,
                    format!("locked until {}", format_ms(until)),
                ),
            )?;
            tx.commit()?;
            return Err(AdminError::Locked { until });
        }
        let failures = row.failures.saturating_add(1);
        // The lock a wrong try would bring is set now, so a second window cannot try while
        // this one computes; a right passphrase lifts it again below.
        let lock = (failures >= LOCK_AFTER_FAILURES).then(|| now + lock_secs(failures) * 1000);
        tx.execute(
            "UPDATE admin_passphrase SET consecutive_failures = ?1, locked_until = ?2 WHERE id = 1",
            params![failures, lock],
        )?;
        tx.commit()?;
        (row.phc, failures, lock)
    };

    // 2. The hash, with no lock held.
    let (ok, outdated) = matches(&phc, passphrase)?;
    let rehashed = if ok && outdated {
        Some(Zeroizing::new(hash(passphrase)?))
    } else {
        None
    };

    // 3. Settle the try.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if ok {
        tx.execute(
            "UPDATE admin_passphrase SET consecutive_failures = 0, locked_until = NULL WHERE id = 1",
            [],
        )?;
        if let Some(phc) = &rehashed {
            tx.execute(
                "UPDATE admin_passphrase SET phc = ?1 WHERE id = 1",
                [phc.as_str()],
            )?;
        }
        audit::record(&tx, clock, &event(Outcome::Ok, "right passphrase".into()))?;
        tx.commit()?;
        return Ok(());
    }
    audit::record(
        &tx,
        clock,
        &event(
            Outcome::Failed,
            format!("wrong passphrase ({failures} in a row)"),
        ),
    )?;
    let result = match lock {
        Some(until) => {
            audit::record(
                &tx,
                clock,
                &Event::new(Kind::AdminLocked, Outcome::Ok, operator).detail(format!(
                    "locked until {} after {failures} wrong passphrases in a row",
                    format_ms(until)
                )),
            )?;
            Err(AdminError::Locked { until })
        }
        None => Err(AdminError::Wrong {
            attempts_left: LOCK_AFTER_FAILURES - failures,
        }),
    };
    tx.commit()?;
    result
}

// ---------------------------------------------------------------------------------------------
// The unlocked admin area

/// Whether the admin area is open, as the shell shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionState {
    pub unlocked: bool,
    /// When it locks itself if nothing happens before then.
    pub locks_at: Option<Millis>,
}

/// The shell's in-memory "admin area is open" record. Nothing of the passphrase is kept: a
/// right passphrase opens it, activity (`check`) keeps it open, and after
/// `admin_idle_lock_minutes` without activity, or on `lock`, it is closed.
///
/// The idle limit is read from the settings when the area is unlocked; a changed setting
/// applies from the next unlock.
#[derive(Debug, Default)]
pub struct AdminSession {
    open: Option<Open>,
}

#[derive(Debug)]
struct Open {
    last_activity: Millis,
    idle_ms: i64,
}

impl AdminSession {
    /// A closed session: what the shell starts with.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the passphrase ([`verify`], with its lock and audit) and opens the area.
    pub fn unlock(
        &mut self,
        conn: &mut Connection,
        clock: &dyn Clock,
        operator: &str,
        passphrase: &str,
    ) -> Result<SessionState, AdminError> {
        self.open = None;
        verify(conn, clock, operator, passphrase)?;
        let idle_ms = settings::load(conn)?.admin_idle_lock_ms();
        let now = clock.now_ms();
        self.open = Some(Open {
            last_activity: now,
            idle_ms,
        });
        Ok(self.state(now))
    }

    /// Call before every admin action: succeeds (and counts as activity) while the area is
    /// open and has not been idle too long; otherwise it is closed and says why.
    pub fn check(&mut self, now: Millis) -> Result<SessionState, AdminError> {
        let Some(open) = self.open.as_mut() else {
            return Err(AdminError::SessionLocked);
        };
        if now - open.last_activity > open.idle_ms {
            let minutes = u32::try_from(open.idle_ms / 60_000).unwrap_or(u32::MAX);
            self.open = None;
            return Err(AdminError::IdleLocked { minutes });
        }
        // A clock that stepped back (a time-zone or NTP correction) is not idleness.
        open.last_activity = open.last_activity.max(now);
        Ok(self.state(now))
    }

    /// Closes the area at once (the admin's "Lock" button, or after a restore).
    pub fn lock(&mut self) {
        self.open = None;
    }

    /// The state at `now`, without counting as activity.
    pub fn state(&self, now: Millis) -> SessionState {
        match &self.open {
            Some(o) if now - o.last_activity <= o.idle_ms => SessionState {
                unlocked: true,
                locks_at: Some(o.last_activity + o.idle_ms),
            },
            _ => SessionState {
                unlocked: false,
                locks_at: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_after_normalisation() {
        assert!(matches!(
            check_new("short words", "Acme"),
            Err(AdminError::TooShort { got: 11 })
        ));
        assert!(check_new("river copper lantern", "Acme").is_ok());
        // Eleven characters as typed; NFKC makes the ligature "ﬁ" two, so twelve are hashed.
        assert!(check_new("\u{FB01}sh & chips", "Acme").is_ok());
        assert!(matches!(
            check_new(&"word ".repeat(26), "Acme"),
            Err(AdminError::TooLong)
        ));
        assert!(matches!(
            check_new(&"x".repeat(1 << 20), "Acme"),
            Err(AdminError::TooLong)
        ));
        assert!(matches!(
            check_new(&" ".repeat(20), "Acme"),
            Err(AdminError::Blank)
        ));
    }

    #[test]
    fn the_obvious_is_refused() {
        for easy in [
            "password1234",
            "Password2026!",
            "PASSWORD-password",
            "otpdesk otpdesk",
            "OTP Desk 2026!",
            "administrator1",
            "aaaaaaaaaaaaaaaa",
            "abababababab",
            "123456789012",
            "qwertyuiopas",
            "abcdefghijkl",
            "Acme Billing 1",
            "acmebilling!!",
        ] {
            assert!(
                matches!(
                    check_new(easy, "Acme Billing"),
                    Err(AdminError::TooEasy { .. })
                ),
                "{easy} was accepted"
            );
        }
        for fine in [
            "correct horse battery",
            "password is not this one",
            "Acme lunch on fridays",
            "<script>alert(1)</script>",
            "'; DROP TABLE admin_passphrase;--",
            "zwölf Wörter für Käse",
        ] {
            assert!(
                check_new(fine, "Acme Billing").is_ok(),
                "{fine} was refused"
            );
        }
    }

    #[test]
    fn a_hash_is_a_salted_argon2id_phc_string() {
        let a = hash("river copper lantern").unwrap();
        let b = hash("river copper lantern").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=47104,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("river"));
        assert_eq!(matches(&a, "river copper lantern").unwrap(), (true, false));
        assert!(!matches(&a, "river copper lanterns").unwrap().0);
        assert!(matches!(
            matches("$argon2id$nonsense", "x"),
            Err(AdminError::Damaged)
        ));
    }

    #[test]
    fn lock_doubles_and_is_capped() {
        assert_eq!(lock_secs(5), 60);
        assert_eq!(lock_secs(6), 120);
        assert_eq!(lock_secs(8), 480);
        assert_eq!(lock_secs(9), 900);
        assert_eq!(lock_secs(40), 900);
    }
}
