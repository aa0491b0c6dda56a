//! SMS accounts: where text messages go out. Stored in SQLite without secrets; a Twilio
//! account's auth token is written to the secret store under `twilio:<name>` (spaces as
//! underscores) and never read back by anything but the Twilio transport.
//!
//! Kinds: `twilio` (account SID, auth token, and a sender: a From number or a Messaging
//! Service) and `console` (the message is printed to standard error, for development).
//! At most one account is the default; a fresh database has none, so SMS is "not set up"
//! until an admin adds an account (the first one added becomes the default).

use std::fmt;
use std::str::FromStr;

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;

use crate::audit::{self, Event};
use crate::clock::Clock;
use crate::contact::{self, ContactError};
use crate::secrets::{SecretStore, SecretsError};
use crate::settings;

use super::accounts::{self as mail_accounts, plain_text};

/// Twilio's REST API; an account may name another (a self-hosted gateway, a test server).
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";
/// Longest auth token accepted (Twilio's are 32 characters; API key secrets about as long).
pub const MAX_TOKEN_CHARS: usize = 128;
pub const MIN_TOKEN_CHARS: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SmsAccountError {
    #[error(transparent)]
    Name(mail_accounts::AccountError),
    #[error("an SMS account named \"{0}\" already exists; pick another name")]
    Exists(String),
    #[error("no SMS account named \"{0}\"; see `sms accounts list`")]
    NotFound(String),
    #[error("unknown SMS account kind \"{0}\" (use twilio or console)")]
    UnknownKind(String),
    /// A value the account cannot have; `field` names the form field it is about (`None`:
    /// the account as a whole).
    #[error("{message}")]
    Invalid {
        field: Option<&'static str>,
        message: String,
    },
    #[error("the From number: {0}")]
    FromNumber(ContactError),
    #[error("a console account has no auth token")]
    NoToken,
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    Operator(#[from] audit::AuditError),
    #[error("the settings could not be read: {0}")]
    Settings(#[from] settings::SettingsError),
    #[error("the SMS accounts could not be read or saved: {0}")]
    Storage(#[from] rusqlite::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsAccountKind {
    Twilio,
    Console,
}

impl SmsAccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SmsAccountKind::Twilio => "twilio",
            SmsAccountKind::Console => "console",
        }
    }
}

impl fmt::Display for SmsAccountKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SmsAccountKind {
    type Err = SmsAccountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "twilio" => Ok(SmsAccountKind::Twilio),
            "console" => Ok(SmsAccountKind::Console),
            _ => Err(SmsAccountError::UnknownKind(contact::shorten(s))),
        }
    }
}

/// A stored SMS account. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsAccount {
    pub id: i64,
    pub name: String,
    pub kind: SmsAccountKind,
    /// Twilio: `AC` and 32 hex digits.
    pub account_sid: String,
    /// Twilio: the sender number in E.164, or empty when a Messaging Service sends.
    pub from_number: String,
    /// Twilio: `MG` and 32 hex digits, or empty when a From number sends.
    pub messaging_service_sid: String,
    /// Twilio: the API's base URL (`https://api.twilio.com` unless changed).
    pub api_base: String,
    pub is_default: bool,
}

impl SmsAccount {
    /// The secret store entry for this account's auth token.
    pub fn secret_name(&self) -> String {
        secret_name(&self.name)
    }

    /// Who the message comes from, for lists and reports.
    pub fn destination(&self) -> String {
        match self.kind {
            SmsAccountKind::Console => "standard error (development only)".into(),
            SmsAccountKind::Twilio if !self.from_number.is_empty() => {
                format!("Twilio from {}", self.from_number)
            }
            SmsAccountKind::Twilio => {
                format!("Twilio Messaging Service {}", self.messaging_service_sid)
            }
        }
    }
}

/// The keyring entry name for an account's auth token (secret names allow no spaces).
pub fn secret_name(account_name: &str) -> String {
    format!("twilio:{}", account_name.replace(' ', "_"))
}

/// What an admin enters for an account. Fields a kind does not use must stay empty.
#[derive(Debug, Clone, Default)]
pub struct SmsAccountInput {
    pub name: String,
    pub kind: String,
    pub account_sid: String,
    /// A number in E.164, or as dialled in the default region; exactly one of this and
    /// `messaging_service_sid` for a Twilio account.
    pub from_number: String,
    pub messaging_service_sid: String,
    /// Empty means Twilio's own API.
    pub api_base: String,
}

/// A Twilio SID: two capital letters and 32 hex digits (returned with the hex lower-cased,
/// as Twilio writes it).
fn invalid(field: Option<&'static str>, message: impl Into<String>) -> SmsAccountError {
    SmsAccountError::Invalid {
        field,
        message: message.into(),
    }
}

fn sid(
    value: &str,
    prefix: &str,
    what: &str,
    field: &'static str,
) -> Result<String, SmsAccountError> {
    let v = value.trim();
    let ok = v.len() == 34
        && v.is_char_boundary(2)
        && v[..2].eq_ignore_ascii_case(prefix)
        && v[2..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(format!("{prefix}{}", v[2..].to_ascii_lowercase()))
    } else {
        Err(invalid(Some(field), format!(
            "the {what} \"{}\" must be {prefix} followed by 32 hexadecimal digits, as shown in the Twilio Console",
            contact::shorten(v)
        )))
    }
}

fn api_base(value: &str) -> Result<String, SmsAccountError> {
    if value.trim().is_empty() {
        return Ok(DEFAULT_API_BASE.into());
    }
    mail_accounts::base_url(value).ok_or_else(|| {
        invalid(Some("api_base"), format!(
            "the API address \"{}\" must be an https:// URL such as {DEFAULT_API_BASE} (http:// only for localhost)",
            contact::shorten(value.trim())
        ))
    })
}

/// Validates an input into the account to store (id 0, not default). `region` reads a From
/// number typed without its country code.
pub fn validate(
    input: &SmsAccountInput,
    region: phonenumber::country::Id,
) -> Result<SmsAccount, SmsAccountError> {
    let name = mail_accounts::check_name(&input.name).map_err(SmsAccountError::Name)?;
    let kind: SmsAccountKind = input.kind.parse()?;
    let given = |s: &str| !s.trim().is_empty();
    let fields = [
        &input.account_sid,
        &input.from_number,
        &input.messaging_service_sid,
        &input.api_base,
    ];
    for f in fields {
        if f.chars().count() > 512 || !plain_text(f) {
            return Err(invalid(
                None,
                "account fields must be one line of plain text",
            ));
        }
    }
    let account = match kind {
        SmsAccountKind::Console => {
            if fields.iter().any(|f| given(f)) {
                return Err(invalid(
                    None,
                    "a console account sends nowhere; leave the account SID, From number, Messaging Service and API address out",
                ));
            }
            SmsAccount {
                id: 0,
                name,
                kind,
                account_sid: String::new(),
                from_number: String::new(),
                messaging_service_sid: String::new(),
                api_base: String::new(),
                is_default: false,
            }
        }
        SmsAccountKind::Twilio => {
            if !given(&input.account_sid) {
                return Err(invalid(
                    Some("account_sid"),
                    "a twilio account needs its account SID (AC…, on the Twilio Console's front page)",
                ));
            }
            let account_sid = sid(&input.account_sid, "AC", "account SID", "account_sid")?;
            let (from_number, messaging_service_sid) = match (
                given(&input.from_number),
                given(&input.messaging_service_sid),
            ) {
                (true, false) => (
                    contact::sender_number(&input.from_number, region)
                        .map_err(SmsAccountError::FromNumber)?,
                    String::new(),
                ),
                (false, true) => (
                    String::new(),
                    sid(
                        &input.messaging_service_sid,
                        "MG",
                        "Messaging Service SID",
                        "messaging_service_sid",
                    )?,
                ),
                _ => {
                    // About the pair: the choice of sender, not one of its two fields.
                    return Err(invalid(
                            Some("sender"),
                            "a twilio account sends either from a number (--from, a Twilio number of the account) or through a Messaging Service (--messaging-service MG…): give exactly one",
                        ));
                }
            };
            SmsAccount {
                id: 0,
                name,
                kind,
                account_sid,
                from_number,
                messaging_service_sid,
                api_base: api_base(&input.api_base)?,
                is_default: false,
            }
        }
    };
    Ok(account)
}

const COLUMNS: &str =
    "id, name, kind, account_sid, from_number, messaging_service_sid, api_base, is_default";

fn from_row(r: &Row<'_>) -> rusqlite::Result<SmsAccount> {
    let kind: String = r.get(2)?;
    // The table's CHECK constraint keeps the kind parseable; a damaged row reads as a console
    // account (which sends nowhere) rather than failing the whole list.
    Ok(SmsAccount {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: kind.parse().unwrap_or(SmsAccountKind::Console),
        account_sid: r.get(3)?,
        from_number: r.get(4)?,
        messaging_service_sid: r.get(5)?,
        api_base: r.get(6)?,
        is_default: r.get::<_, i64>(7)? == 1,
    })
}

/// Every account, the default first.
pub fn list(conn: &Connection) -> Result<Vec<SmsAccount>, SmsAccountError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM sms_accounts ORDER BY is_default DESC, name"
    ))?;
    let rows = stmt.query_map([], from_row)?.collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn get(conn: &Connection, name: &str) -> Result<SmsAccount, SmsAccountError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM sms_accounts WHERE name = ?1"
    ))?
    .query_row([name.trim()], from_row)
    .optional()?
    .ok_or_else(|| SmsAccountError::NotFound(contact::shorten(name)))
}

/// The account codes go out through, or `None` when SMS is not set up.
pub fn default_account(conn: &Connection) -> Result<Option<SmsAccount>, SmsAccountError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM sms_accounts WHERE is_default = 1"
        ))?
        .query_row([], from_row)
        .optional()?)
}

/// Whether the desk can send codes by SMS, and if not, why (for a disabled button's label).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Availability {
    pub available: bool,
    /// The default SMS account, when there is one.
    pub account: Option<String>,
    /// Why SMS cannot be used, in words for the clerk.
    pub reason: Option<String>,
}

pub fn availability(
    conn: &Connection,
    secrets: &dyn SecretStore,
) -> Result<Availability, SmsAccountError> {
    let Some(account) = default_account(conn)? else {
        return Ok(Availability {
            available: false,
            account: None,
            reason: Some("SMS is not set up: an admin adds an SMS account in Settings".into()),
        });
    };
    let reason = match account.kind {
        SmsAccountKind::Twilio if !secrets.is_set(&account.secret_name())? => Some(format!(
            "SMS is not set up completely: the Twilio auth token for \"{}\" is missing",
            account.name
        )),
        _ => None,
    };
    Ok(Availability {
        available: reason.is_none(),
        account: Some(account.name),
        reason,
    })
}

fn audit_change(
    conn: &Connection,
    clock: &dyn Clock,
    operator: &str,
    detail: String,
) -> Result<(), SmsAccountError> {
    audit::record(
        conn,
        clock,
        &Event::new(audit::Kind::SettingChanged, audit::Outcome::Ok, operator).detail(detail),
    )?;
    Ok(())
}

/// Adds an account. The first SMS account becomes the default.
pub fn add(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    input: &SmsAccountInput,
) -> Result<SmsAccount, SmsAccountError> {
    let operator = audit::operator_name(operator)?;
    let region = settings::load(conn)?.region();
    let mut account = validate(input, region)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Two names that differ only by case or by space/underscore would share a keyring entry.
    let clash: Option<String> = tx
        .query_row(
            "SELECT name FROM sms_accounts
             WHERE replace(name, ' ', '_') = replace(?1, ' ', '_') COLLATE NOCASE",
            [&account.name],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(existing) = clash {
        return Err(SmsAccountError::Exists(existing));
    }
    let none_yet: bool = tx.query_row("SELECT count(*) = 0 FROM sms_accounts", [], |r| r.get(0))?;
    tx.execute(
        "INSERT INTO sms_accounts (name, kind, account_sid, from_number, messaging_service_sid,
                                   api_base, is_default, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            account.name,
            account.kind.as_str(),
            account.account_sid,
            account.from_number,
            account.messaging_service_sid,
            account.api_base,
            none_yet,
            clock.now_ms(),
        ],
    )?;
    account.id = tx.last_insert_rowid();
    account.is_default = none_yet;
    audit_change(
        &tx,
        clock,
        &operator,
        format!(
            "sms account \"{}\" added ({}, {})",
            account.name,
            account.kind,
            account.destination()
        ),
    )?;
    tx.commit()?;
    Ok(account)
}

/// Changes an account's settings (account SID, sender, API address). The name and kind stay:
/// to change them, add a new account and remove this one.
pub fn update(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    name: &str,
    input: &SmsAccountInput,
) -> Result<SmsAccount, SmsAccountError> {
    let operator = audit::operator_name(operator)?;
    let region = settings::load(conn)?.region();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = get(&tx, name)?;
    let mut wanted = validate(input, region)?;
    if wanted.name != current.name || wanted.kind != current.kind {
        return Err(invalid(
            None,
            format!(
                "the name and kind of \"{}\" cannot change; add a new account and remove this one",
                current.name
            ),
        ));
    }
    wanted.id = current.id;
    wanted.is_default = current.is_default;
    if wanted != current {
        tx.execute(
            "UPDATE sms_accounts SET account_sid = ?2, from_number = ?3, messaging_service_sid = ?4,
                                     api_base = ?5, updated_at = ?6
             WHERE id = ?1",
            params![
                current.id,
                wanted.account_sid,
                wanted.from_number,
                wanted.messaging_service_sid,
                wanted.api_base,
                clock.now_ms(),
            ],
        )?;
        audit_change(
            &tx,
            clock,
            &operator,
            format!(
                "sms account \"{}\" changed ({})",
                wanted.name,
                wanted.destination()
            ),
        )?;
    }
    tx.commit()?;
    Ok(wanted)
}

/// Makes `name` the default SMS account (and no other).
pub fn set_default(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    name: &str,
) -> Result<SmsAccount, SmsAccountError> {
    let operator = audit::operator_name(operator)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut account = get(&tx, name)?;
    if !account.is_default {
        // Clear first: the unique index allows one default at a time, even mid-transaction.
        tx.execute(
            "UPDATE sms_accounts SET is_default = 0 WHERE is_default = 1",
            [],
        )?;
        tx.execute(
            "UPDATE sms_accounts SET is_default = 1, updated_at = ?2 WHERE id = ?1",
            params![account.id, clock.now_ms()],
        )?;
        audit_change(
            &tx,
            clock,
            &operator,
            format!("sms account \"{}\" is now the default", account.name),
        )?;
        account.is_default = true;
    }
    tx.commit()?;
    Ok(account)
}

/// Removes an account and its auth token. Removing the default turns SMS off until another
/// account is made the default.
pub fn remove(
    conn: &mut Connection,
    clock: &dyn Clock,
    secrets: &dyn SecretStore,
    operator: &str,
    name: &str,
) -> Result<SmsAccount, SmsAccountError> {
    let operator = audit::operator_name(operator)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let account = get(&tx, name)?;
    if account.kind == SmsAccountKind::Twilio {
        secrets.delete(&account.secret_name())?;
    }
    tx.execute("DELETE FROM sms_accounts WHERE id = ?1", [account.id])?;
    audit_change(
        &tx,
        clock,
        &operator,
        format!(
            "sms account \"{}\" removed{}",
            account.name,
            if account.is_default {
                "; SMS is off until another account is the default"
            } else {
                ""
            }
        ),
    )?;
    tx.commit()?;
    Ok(account)
}

/// Checks an auth token's shape: letters and digits only, as Twilio's auth tokens (32 hex
/// digits) and API key secrets (32 letters and digits) are. Public so a caller can refuse a
/// mistyped token before it adds the account the token is for.
pub fn check_token(token: &str) -> Result<(), SmsAccountError> {
    if token.is_empty() {
        return Err(SmsAccountError::Secrets(SecretsError::Empty));
    }
    if token.len() > MAX_TOKEN_CHARS {
        return Err(SmsAccountError::Secrets(SecretsError::TooLong(
            MAX_TOKEN_CHARS,
        )));
    }
    if token.len() < MIN_TOKEN_CHARS || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid(
            Some("token"),
            "the auth token is one word of at least 16 letters and digits (copy it from the Twilio Console); spaces, line breaks and other characters are not part of it",
        ));
    }
    Ok(())
}

/// Stores (or replaces) a Twilio account's auth token in the secret store. Write-only:
/// nothing returns it.
pub fn set_token(
    conn: &Connection,
    clock: &dyn Clock,
    secrets: &dyn SecretStore,
    operator: &str,
    name: &str,
    token: &str,
) -> Result<(), SmsAccountError> {
    let operator = audit::operator_name(operator)?;
    let account = get(conn, name)?;
    if account.kind != SmsAccountKind::Twilio {
        return Err(SmsAccountError::NoToken);
    }
    check_token(token)?;
    secrets.set(&account.secret_name(), token)?;
    audit_change(
        conn,
        clock,
        &operator,
        format!("auth token for sms account \"{}\" set", account.name),
    )
}

pub fn delete_token(
    conn: &Connection,
    clock: &dyn Clock,
    secrets: &dyn SecretStore,
    operator: &str,
    name: &str,
) -> Result<(), SmsAccountError> {
    let operator = audit::operator_name(operator)?;
    let account = get(conn, name)?;
    secrets.delete(&account.secret_name())?;
    audit_change(
        conn,
        clock,
        &operator,
        format!("auth token for sms account \"{}\" deleted", account.name),
    )
}

pub fn token_is_set(
    conn: &Connection,
    secrets: &dyn SecretStore,
    name: &str,
) -> Result<bool, SmsAccountError> {
    let account = get(conn, name)?;
    if account.kind != SmsAccountKind::Twilio {
        return Ok(false);
    }
    Ok(secrets.is_set(&account.secret_name())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "AC0123456789abcdef0123456789abcdef";
    const MG: &str = "MG0123456789abcdef0123456789abcdef";

    fn us() -> phonenumber::country::Id {
        phonenumber::country::Id::US
    }

    fn twilio(from: &str, mg: &str) -> SmsAccountInput {
        SmsAccountInput {
            name: "Office Twilio".into(),
            kind: "twilio".into(),
            account_sid: SID.into(),
            from_number: from.into(),
            messaging_service_sid: mg.into(),
            api_base: String::new(),
        }
    }

    #[test]
    fn a_twilio_account_has_one_sender_in_a_normal_form() {
        let a = validate(&twilio("(415) 555-0100", ""), us()).unwrap();
        assert_eq!(a.from_number, "+14155550100");
        assert_eq!(a.api_base, DEFAULT_API_BASE);
        let m = validate(
            &twilio("", &MG.to_ascii_uppercase().replacen("MG", "mg", 1)),
            us(),
        )
        .unwrap();
        assert_eq!(m.messaging_service_sid, MG);
        for (from, mg) in [("", ""), ("+14155550100", MG)] {
            let e = validate(&twilio(from, mg), us()).unwrap_err().to_string();
            assert!(e.contains("give exactly one"), "{e}");
        }
    }

    #[test]
    fn sids_numbers_and_addresses_are_checked() {
        for bad in [
            "",
            "AC123",
            "MG0123456789abcdef0123456789abcdef",
            "AC0123456789abcdef0123456789abcdeg",
            "AC0123456789abcdef0123456789abcdef\r\n",
            "ACé123456789abcdef0123456789abcde",
        ] {
            let mut i = twilio("+14155550100", "");
            i.account_sid = bad.into();
            assert!(validate(&i, us()).is_err(), "{bad:?}");
        }
        for bad in [
            "123",
            "+1 370 555 0100",
            "<b>",
            "555'--",
            "\u{202E}4155550100",
        ] {
            assert!(validate(&twilio(bad, ""), us()).is_err(), "{bad:?}");
        }
        for (base, ok) in [
            ("https://api.twilio.com/", Some("https://api.twilio.com")),
            ("http://127.0.0.1:8080", Some("http://127.0.0.1:8080")),
            (
                "HTTPS://SMS.Example.COM/gateway",
                Some("https://sms.example.com/gateway"),
            ),
            ("http://api.twilio.com", None),
            ("ftp://api.twilio.com", None),
            ("https://api.twilio.com/a b", None),
            ("https://evil.example.com@x", None),
        ] {
            let mut i = twilio("+14155550100", "");
            i.api_base = base.into();
            assert_eq!(
                validate(&i, us()).ok().map(|a| a.api_base),
                ok.map(String::from),
                "{base}"
            );
        }
    }

    #[test]
    fn a_console_account_takes_no_twilio_fields() {
        let c = SmsAccountInput {
            name: "Dev".into(),
            kind: "console".into(),
            ..Default::default()
        };
        validate(&c, us()).unwrap();
        let mut with_sid = c.clone();
        with_sid.account_sid = SID.into();
        assert!(validate(&with_sid, us()).is_err());
        let mut kind = c;
        kind.kind = "pigeon".into();
        assert!(matches!(
            validate(&kind, us()),
            Err(SmsAccountError::UnknownKind(_))
        ));
    }

    #[test]
    fn tokens_are_one_word() {
        check_token("0123456789abcdef0123456789abcdef").unwrap();
        for bad in [
            "",
            "two words",
            "tok\r\nen",
            "tök",
            "<script>alert(1)</script>",
            "short",
            &"t".repeat(129),
        ] {
            assert!(check_token(bad).is_err(), "{bad:?}");
        }
    }
}
