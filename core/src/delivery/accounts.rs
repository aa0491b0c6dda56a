//! Mail accounts: where messages go out. Stored in SQLite without secrets; a password is
//! written to the secret store under `smtp:<name>` (spaces as underscores) and never read
//! back by anything but a transport. An account that signs in with OAuth (Microsoft 365)
//! stores only where it signs in (tenant, client id, authority); its refresh token is kept
//! by `delivery::oauth` under `oauth:smtp:<name>`.
//!
//! Kinds: `gmail` and `microsoft365` fill in their server; `smtp` is any server; `console`
//! and `outbox` are for development and offline use. There is always exactly one default
//! account; a fresh database has "Local outbox".

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;

use crate::audit::{self, Event};
use crate::clock::Clock;
use crate::contact::{self, ContactError};
use crate::secrets::{SecretStore, SecretsError};

pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_FROM_NAME_CHARS: usize = 100;
pub const MAX_USERNAME_CHARS: usize = 254;
pub const MAX_HOST_CHARS: usize = 253;
pub const MAX_CA_PEM_BYTES: usize = 64 * 1024;
pub const MAX_FOLDER_CHARS: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("the account name is empty")]
    EmptyName,
    #[error("the account name must be at most {MAX_NAME_CHARS} characters: letters, digits, spaces and - _ . @")]
    BadName,
    #[error("an account named \"{0}\" already exists; pick another name")]
    Exists(String),
    #[error("no mail account named \"{0}\"; see `mail accounts list`")]
    NotFound(String),
    #[error("unknown account kind \"{0}\" (use gmail, microsoft365, smtp, console or outbox)")]
    UnknownKind(String),
    #[error("unknown security \"{0}\" (use starttls, tls or none)")]
    UnknownSecurity(String),
    /// A value the account cannot have; `field` names the form field it is about (`None`:
    /// the account as a whole), so a form can put the sentence under it.
    #[error("{message}")]
    Invalid {
        field: Option<&'static str>,
        message: String,
    },
    #[error("the from address: {0}")]
    FromAddress(#[from] ContactError),
    #[error("\"{0}\" is the default account; make another account the default first")]
    IsDefault(String),
    #[error("a {0} account has no password")]
    NoPassword(AccountKind),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    Operator(#[from] audit::AuditError),
    #[error("the mail accounts could not be read or saved: {0}")]
    Storage(#[from] rusqlite::Error),
}

macro_rules! string_enum {
    ($name:ident, $err:ident, $($variant:ident => $s:literal),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = AccountError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($s => Ok($name::$variant),)+
                    _ => Err(AccountError::$err(contact::shorten(s))),
                }
            }
        }
    };
}

string_enum!(AccountKind, UnknownKind,
    Gmail => "gmail",
    Microsoft365 => "microsoft365",
    Smtp => "smtp",
    Console => "console",
    Outbox => "outbox",
);

string_enum!(Security, UnknownSecurity,
    Starttls => "starttls",
    Tls => "tls",
    None => "none",
);

impl AccountKind {
    /// Kinds that sign in to a server and so may have a password.
    pub fn uses_server(self) -> bool {
        matches!(
            self,
            AccountKind::Gmail | AccountKind::Microsoft365 | AccountKind::Smtp
        )
    }

    /// The fixed server of a provider preset (host, port, security).
    pub fn preset(self) -> Option<(&'static str, u16, Security)> {
        match self {
            AccountKind::Gmail => Some(("smtp.gmail.com", 587, Security::Starttls)),
            AccountKind::Microsoft365 => Some(("smtp.office365.com", 587, Security::Starttls)),
            _ => None,
        }
    }
}

/// A stored account. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailAccount {
    pub id: i64,
    pub name: String,
    pub kind: AccountKind,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub from_address: String,
    pub from_name: String,
    pub extra_ca_pem: String,
    /// Outbox kind: the folder the admin chose; empty means `outbox` next to the database.
    pub outbox_dir: String,
    /// OAuth 2.0 sign-in (Microsoft 365 device code + XOAUTH2); `None` means a password.
    pub oauth: Option<OAuthConfig>,
    pub is_default: bool,
}

/// Where an account signs in with OAuth 2.0. Holds no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAuthConfig {
    /// A directory (tenant) GUID, a verified domain, or `organizations` / `common`.
    pub tenant: String,
    /// The application (client) id registered in Entra ID, a GUID.
    pub client_id: String,
    /// The identity platform's base URL, without the tenant.
    pub authority: String,
}

/// Microsoft's identity platform; an account may name another (a national cloud, a test server).
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

impl MailAccount {
    /// The secret store entry for this account's password.
    pub fn secret_name(&self) -> String {
        secret_name(&self.name)
    }

    /// The secret store entry for this account's OAuth refresh token.
    pub fn oauth_secret_name(&self) -> String {
        format!("oauth:{}", self.secret_name())
    }

    /// The folder an outbox account writes to: its own, or `outbox` beside the database.
    pub fn outbox_folder(&self, database: Option<&Path>) -> Result<PathBuf, AccountError> {
        if !self.outbox_dir.is_empty() {
            return Ok(PathBuf::from(&self.outbox_dir));
        }
        default_outbox_dir(database)
    }

    /// Where messages go, for lists and reports ("smtp.gmail.com:587 starttls").
    pub fn destination(&self, database: Option<&Path>) -> String {
        match self.kind {
            AccountKind::Console => "standard error (development only)".into(),
            AccountKind::Outbox => match self.outbox_folder(database) {
                Ok(p) => format!("folder {}", p.display()),
                Err(e) => e.to_string(),
            },
            _ => format!("{}:{} {}", self.host, self.port, self.security),
        }
    }
}

/// The outbox folder beside the database file (the OS app-data folder by default).
pub fn default_outbox_dir(database: Option<&Path>) -> Result<PathBuf, AccountError> {
    let db = match database {
        Some(p) => p.to_path_buf(),
        None => crate::store::default_db_path().map_err(|e| refused(e.to_string()))?,
    };
    Ok(db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| p.join("outbox"))
        .unwrap_or_else(|| PathBuf::from("outbox")))
}

/// The keyring entry name for an account's password. Secret names allow no spaces, so a
/// space becomes an underscore; `add` refuses two names that would share an entry.
pub fn secret_name(account_name: &str) -> String {
    format!("smtp:{}", account_name.replace(' ', "_"))
}

/// What an admin enters for a new account. Fields a kind does not use must stay empty.
#[derive(Debug, Clone, Default)]
pub struct AccountInput {
    pub name: String,
    pub kind: String,
    pub host: String,
    pub port: Option<u32>,
    pub security: String,
    pub username: String,
    pub from_address: String,
    pub from_name: String,
    pub extra_ca_pem: String,
    pub outbox_dir: String,
    /// OAuth sign-in: all three empty for a password account. An empty authority with a
    /// tenant and client id means Microsoft's.
    pub oauth_tenant: String,
    pub oauth_client_id: String,
    pub oauth_authority: String,
}

pub(crate) fn plain_text(s: &str) -> bool {
    !s.chars()
        .any(|c| c.is_control() || contact::is_bidi_control(c))
}

/// Checks an account name and returns it trimmed.
pub fn check_name(input: &str) -> Result<String, AccountError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(AccountError::EmptyName);
    }
    let ok = s.chars().count() <= MAX_NAME_CHARS
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '@'));
    if ok {
        Ok(s.to_string())
    } else {
        Err(AccountError::BadName)
    }
}

fn is_localhost(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn check_host(host: &str) -> Result<String, AccountError> {
    let h = host.trim();
    if h.is_empty() {
        return Err(invalid(
            "host",
            "an smtp account needs the server's host name (e.g. mail.example.com)",
        ));
    }
    let is_ip = h.parse::<std::net::IpAddr>().is_ok();
    let is_name = h.len() <= MAX_HOST_CHARS
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if is_ip || is_name {
        Ok(h.to_ascii_lowercase())
    } else {
        Err(invalid(
            "host",
            format!(
                "\"{}\" is not a host name or IP address",
                contact::shorten(h)
            ),
        ))
    }
}

/// The rule RECIPES and DESIGN section 4 give: 587 means STARTTLS, 465 means implicit TLS,
/// and a connection without TLS only to this computer.
fn check_security(host: &str, port: u16, security: Security) -> Result<(), AccountError> {
    match (port, security) {
        (465, Security::Starttls) => Err(invalid(
            "security",
            "port 465 expects implicit TLS from the first byte; use security tls with port 465, or starttls with port 587",
        )),
        (587, Security::Tls) => Err(invalid(
            "security",
            "port 587 starts in plain text and upgrades with STARTTLS; use security starttls with port 587, or tls with port 465",
        )),
        (_, Security::None) if !is_localhost(host) => Err(invalid(
            "security",
            "security none sends the password and the codes unencrypted; it is allowed only to a server on this computer (localhost)",
        )),
        _ => Ok(()),
    }
}

fn invalid(field: &'static str, what: impl Into<String>) -> AccountError {
    AccountError::Invalid {
        field: Some(field),
        message: what.into(),
    }
}

/// A refusal about the account as a whole rather than one of its fields.
fn refused(what: impl Into<String>) -> AccountError {
    AccountError::Invalid {
        field: None,
        message: what.into(),
    }
}

fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A tenant goes into the token endpoint's path, so only the forms Microsoft accepts pass:
/// a GUID, a domain name, or one of the multi-tenant names.
fn check_tenant(tenant: &str) -> Result<String, AccountError> {
    let t = tenant.trim().to_ascii_lowercase();
    let is_domain =
        t.contains('.') && check_host(&t).is_ok() && t.parse::<std::net::IpAddr>().is_err();
    if is_guid(&t) || is_domain || t == "organizations" || t == "common" {
        Ok(t)
    } else {
        Err(invalid("oauth_tenant", format!(
            "the tenant \"{}\" must be the directory (tenant) id, a domain such as contoso.com, or organizations",
            contact::shorten(tenant)
        )))
    }
}

fn check_client_id(client_id: &str) -> Result<String, AccountError> {
    let c = client_id.trim().to_ascii_lowercase();
    if is_guid(&c) {
        Ok(c)
    } else {
        Err(invalid("oauth_client_id", format!(
            "the client id \"{}\" must be the application (client) id from Entra ID, a GUID like 00000000-0000-0000-0000-000000000000",
            contact::shorten(client_id)
        )))
    }
}

/// Tokens travel to the authority, so it must be HTTPS; plain HTTP only to this computer
/// (the tests' stand-in server).
fn check_authority(authority: &str) -> Result<String, AccountError> {
    let a = authority.trim();
    if a.is_empty() {
        return Ok(DEFAULT_AUTHORITY.to_string());
    }
    base_url(a).ok_or_else(|| {
        invalid("oauth_authority", format!(
            "the authority \"{}\" must be an https:// URL such as {DEFAULT_AUTHORITY} (http:// only for localhost)",
            contact::shorten(authority)
        ))
    })
}

/// The base URL of an HTTP service that credentials travel to (an identity platform, an SMS
/// API): `https://host[:port][/path]`, or `http://` to this computer only; returned with
/// scheme and host lower-cased and no trailing slash. `None` when it is not such a URL.
pub(crate) fn base_url(url: &str) -> Option<String> {
    let a = url.trim().trim_end_matches('/');
    let (scheme, rest) = a.split_once("://")?;
    let authority_part = rest.split('/').next().unwrap_or("");
    let path = &rest[authority_part.len()..];
    // A port follows the last colon, unless that colon is inside a bracketed IPv6 address.
    let host = match authority_part.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') || h.ends_with(']') => {
            port.parse::<u16>().ok()?;
            h
        }
        _ => authority_part,
    };
    let path_ok = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
    let host_ok = check_host(host.trim_start_matches('[').trim_end_matches(']')).is_ok();
    let scheme_ok = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => is_localhost(host),
        _ => false,
    };
    (a.len() <= 512 && path_ok && host_ok && scheme_ok).then(|| {
        format!(
            "{}://{}{}",
            scheme.to_ascii_lowercase(),
            authority_part.to_ascii_lowercase(),
            path
        )
    })
}

fn check_oauth(
    input: &AccountInput,
    kind: AccountKind,
) -> Result<Option<OAuthConfig>, AccountError> {
    let given = [
        &input.oauth_tenant,
        &input.oauth_client_id,
        &input.oauth_authority,
    ]
    .iter()
    .any(|f| !f.trim().is_empty());
    if !given {
        return Ok(None);
    }
    if !matches!(kind, AccountKind::Microsoft365 | AccountKind::Smtp) {
        return Err(refused(format!(
            "a {kind} account does not sign in with OAuth; tenant, client id and authority are for microsoft365"
        )));
    }
    if input.oauth_tenant.trim().is_empty() || input.oauth_client_id.trim().is_empty() {
        // The sentence goes under whichever of the two is missing.
        let missing = if input.oauth_tenant.trim().is_empty() {
            "oauth_tenant"
        } else {
            "oauth_client_id"
        };
        return Err(invalid(
            missing,
            "OAuth sign-in needs both the tenant and the client id (from the app registration in Entra ID)",
        ));
    }
    Ok(Some(OAuthConfig {
        tenant: check_tenant(&input.oauth_tenant)?,
        client_id: check_client_id(&input.oauth_client_id)?,
        authority: check_authority(&input.oauth_authority)?,
    }))
}

/// Validates an input into the account to store (id 0, not default).
pub fn validate(input: &AccountInput) -> Result<MailAccount, AccountError> {
    let name = check_name(&input.name)?;
    let kind: AccountKind = input.kind.parse()?;
    let from_address = contact::normalize_email(&input.from_address)?;
    let from_name = input.from_name.trim().to_string();
    if from_name.chars().count() > MAX_FROM_NAME_CHARS || !plain_text(&from_name) {
        return Err(invalid(
            "from_name",
            "the from name must be one line of plain text, at most 100 characters",
        ));
    }
    let username = input.username.trim().to_string();
    if username.chars().count() > MAX_USERNAME_CHARS || !plain_text(&username) {
        return Err(invalid(
            "username",
            "the user name must be one line of plain text, at most 254 characters",
        ));
    }
    let pem = input.extra_ca_pem.trim().to_string();
    if pem.len() > MAX_CA_PEM_BYTES {
        return Err(invalid(
            "extra_ca_pem",
            "the extra CA certificate is larger than 64 KiB",
        ));
    }
    if !pem.is_empty()
        && (!pem.contains("-----BEGIN CERTIFICATE-----")
            || !pem.contains("-----END CERTIFICATE-----")
            || pem
                .chars()
                .any(|c| (c.is_control() && !matches!(c, '\n' | '\r')) || !c.is_ascii()))
    {
        return Err(invalid(
            "extra_ca_pem",
            "the extra CA certificate must be PEM text (-----BEGIN CERTIFICATE----- …)",
        ));
    }
    let folder = input.outbox_dir.trim().to_string();
    if folder.chars().count() > MAX_FOLDER_CHARS || !plain_text(&folder) {
        return Err(invalid(
            "outbox_dir",
            "the outbox folder must be a path of at most 1024 characters",
        ));
    }

    let server_fields_given =
        !input.host.trim().is_empty() || input.port.is_some() || !input.security.trim().is_empty();
    let (host, port, security) = match kind {
        AccountKind::Gmail | AccountKind::Microsoft365 => {
            let (h, p, s) = kind.preset().unwrap_or(("", 0, Security::Starttls));
            if server_fields_given {
                return Err(refused(format!(
                    "a {kind} account uses {h}:{p} with STARTTLS; leave host, port and security out"
                )));
            }
            if username.is_empty() {
                return Err(invalid(
                    "username",
                    format!("a {kind} account needs the user name (the mailbox's email address)"),
                ));
            }
            (h.to_string(), p, s)
        }
        AccountKind::Smtp => {
            let host = check_host(&input.host)?;
            let port = match input.port {
                Some(p @ 1..=65535) => p as u16,
                Some(_) => return Err(invalid("port", "the port must be between 1 and 65535")),
                None => return Err(invalid("port", "an smtp account needs a port (587 or 465)")),
            };
            if input.security.trim().is_empty() {
                return Err(invalid(
                    "security",
                    "an smtp account needs security: starttls (port 587), tls (port 465) or none (localhost only)",
                ));
            }
            let security: Security = input.security.parse()?;
            check_security(&host, port, security)?;
            (host, port, security)
        }
        AccountKind::Console | AccountKind::Outbox => {
            if server_fields_given || !username.is_empty() || !pem.is_empty() {
                return Err(refused(format!(
                    "a {kind} account sends nowhere; leave host, port, security, user name and certificate out"
                )));
            }
            (String::new(), 0, Security::None)
        }
    };
    if kind != AccountKind::Smtp && !pem.is_empty() {
        return Err(invalid(
            "extra_ca_pem",
            "an extra CA certificate is only for an smtp account with its own certificate authority",
        ));
    }
    if kind != AccountKind::Outbox && !folder.is_empty() {
        return Err(invalid("outbox_dir", "only an outbox account has a folder"));
    }
    let oauth = check_oauth(input, kind)?;
    Ok(MailAccount {
        id: 0,
        name,
        kind,
        host,
        port,
        security,
        username,
        from_address,
        from_name,
        extra_ca_pem: pem,
        outbox_dir: folder,
        oauth,
        is_default: false,
    })
}

const COLUMNS: &str = "id, name, kind, host, port, security, username, from_address, from_name, extra_ca_pem, outbox_dir, is_default, oauth_tenant, oauth_client_id, oauth_authority";

fn from_row(r: &Row<'_>) -> rusqlite::Result<MailAccount> {
    let text = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    // The table's CHECK constraints keep these parseable; a damaged row reads as an outbox
    // rather than failing the whole list.
    Ok(MailAccount {
        id: r.get(0)?,
        name: text(1)?,
        kind: text(2)?.parse().unwrap_or(AccountKind::Outbox),
        host: text(3)?,
        port: u16::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
        security: text(5)?.parse().unwrap_or(Security::Starttls),
        username: text(6)?,
        from_address: text(7)?,
        from_name: text(8)?,
        extra_ca_pem: text(9)?,
        outbox_dir: text(10)?,
        is_default: r.get::<_, i64>(11)? == 1,
        oauth: Some(OAuthConfig {
            tenant: text(12)?,
            client_id: text(13)?,
            authority: Some(text(14)?)
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| DEFAULT_AUTHORITY.to_string()),
        })
        .filter(|o| !o.client_id.is_empty()),
    })
}

pub fn list(conn: &Connection) -> Result<Vec<MailAccount>, AccountError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM mail_accounts ORDER BY is_default DESC, name"
    ))?;
    let rows = stmt.query_map([], from_row)?.collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn get(conn: &Connection, name: &str) -> Result<MailAccount, AccountError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM mail_accounts WHERE name = ?1"
    ))?
    .query_row([name.trim()], from_row)
    .optional()?
    .ok_or_else(|| AccountError::NotFound(contact::shorten(name)))
}

pub fn default_account(conn: &Connection) -> Result<MailAccount, AccountError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM mail_accounts WHERE is_default = 1"
    ))?
    .query_row([], from_row)
    .optional()?
    .ok_or_else(|| refused("no default mail account; add one with `mail accounts add`"))
}

/// Adds an account. The first account becomes the default.
pub fn add(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    input: &AccountInput,
) -> Result<MailAccount, AccountError> {
    let operator = audit::operator_name(operator)?;
    let mut account = validate(input)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let clash: Option<String> = tx
        .query_row(
            "SELECT name FROM mail_accounts
             WHERE replace(name, ' ', '_') = replace(?1, ' ', '_') COLLATE NOCASE",
            [&account.name],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(existing) = clash {
        return Err(AccountError::Exists(existing));
    }
    let none_yet: bool =
        tx.query_row("SELECT count(*) = 0 FROM mail_accounts", [], |r| r.get(0))?;
    let now = clock.now_ms();
    tx.execute(
        "INSERT INTO mail_accounts (name, kind, host, port, security, username, from_address,
                                    from_name, extra_ca_pem, outbox_dir, is_default, created_at, updated_at,
                                    oauth_tenant, oauth_client_id, oauth_authority)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14, ?15)",
        params![
            account.name,
            account.kind.as_str(),
            account.host,
            account.port,
            account.security.as_str(),
            account.username,
            account.from_address,
            account.from_name,
            account.extra_ca_pem,
            account.outbox_dir,
            none_yet,
            now,
            account.oauth.as_ref().map_or("", |o| o.tenant.as_str()),
            account.oauth.as_ref().map_or("", |o| o.client_id.as_str()),
            account.oauth.as_ref().map_or("", |o| o.authority.as_str()),
        ],
    )?;
    account.id = tx.last_insert_rowid();
    account.is_default = none_yet;
    audit_change(
        &tx,
        clock,
        &operator,
        format!(
            "mail account \"{}\" added ({}, from {})",
            account.name, account.kind, account.from_address
        ),
    )?;
    tx.commit()?;
    Ok(account)
}

fn audit_change(
    conn: &Connection,
    clock: &dyn Clock,
    operator: &str,
    detail: String,
) -> Result<(), AccountError> {
    audit::record(
        conn,
        clock,
        &Event::new(audit::Kind::SettingChanged, audit::Outcome::Ok, operator).detail(detail),
    )?;
    Ok(())
}

/// Makes `name` the default account (and no other).
pub fn set_default(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    name: &str,
) -> Result<MailAccount, AccountError> {
    let operator = audit::operator_name(operator)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut account = get(&tx, name)?;
    if !account.is_default {
        // Clear first: the unique index allows one default at a time, even mid-transaction.
        tx.execute(
            "UPDATE mail_accounts SET is_default = 0 WHERE is_default = 1",
            [],
        )?;
        tx.execute(
            "UPDATE mail_accounts SET is_default = 1, updated_at = ?2 WHERE id = ?1",
            params![account.id, clock.now_ms()],
        )?;
        audit_change(
            &tx,
            clock,
            &operator,
            format!("mail account \"{}\" is now the default", account.name),
        )?;
        account.is_default = true;
    }
    tx.commit()?;
    Ok(account)
}

/// Removes an account and its password. The default account cannot be removed.
pub fn remove(
    conn: &mut Connection,
    clock: &dyn Clock,
    secrets: &dyn SecretStore,
    operator: &str,
    name: &str,
) -> Result<MailAccount, AccountError> {
    let operator = audit::operator_name(operator)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let account = get(&tx, name)?;
    if account.is_default {
        return Err(AccountError::IsDefault(account.name));
    }
    if account.kind.uses_server() {
        secrets.delete(&account.secret_name())?;
        secrets.delete(&account.oauth_secret_name())?;
    }
    tx.execute("DELETE FROM mail_accounts WHERE id = ?1", [account.id])?;
    audit_change(
        &tx,
        clock,
        &operator,
        format!("mail account \"{}\" removed", account.name),
    )?;
    tx.commit()?;
    Ok(account)
}

/// Stores (or replaces) an account's password in the secret store. Write-only: nothing
/// returns it.
pub fn set_password(
    conn: &Connection,
    clock: &dyn Clock,
    secrets: &dyn SecretStore,
    operator: &str,
    name: &str,
    password: &str,
) -> Result<(), AccountError> {
    let operator = audit::operator_name(operator)?;
    let account = get(conn, name)?;
    if !account.kind.uses_server() {
        return Err(AccountError::NoPassword(account.kind));
    }
    secrets.set(&account.secret_name(), password)?;
    audit_change(
        conn,
        clock,
        &operator,
        format!("password for mail account \"{}\" set", account.name),
    )
}

pub fn delete_password(
    conn: &Connection,
    clock: &dyn Clock,
    secrets: &dyn SecretStore,
    operator: &str,
    name: &str,
) -> Result<(), AccountError> {
    let operator = audit::operator_name(operator)?;
    let account = get(conn, name)?;
    secrets.delete(&account.secret_name())?;
    audit_change(
        conn,
        clock,
        &operator,
        format!("password for mail account \"{}\" deleted", account.name),
    )
}

/// Records a Microsoft sign-in or sign-out in the audit trail (never the token).
pub fn record_sign_in(
    conn: &Connection,
    clock: &dyn Clock,
    operator: &str,
    account: &MailAccount,
    signed_in: bool,
) -> Result<(), AccountError> {
    let operator = audit::operator_name(operator)?;
    let what = if signed_in {
        "signed in to"
    } else {
        "signed out of"
    };
    audit_change(
        conn,
        clock,
        &operator,
        format!("mail account \"{}\" {what} Microsoft", account.name),
    )
}

pub fn password_is_set(
    conn: &Connection,
    secrets: &dyn SecretStore,
    name: &str,
) -> Result<bool, AccountError> {
    let account = get(conn, name)?;
    if !account.kind.uses_server() {
        return Ok(false);
    }
    Ok(secrets.is_set(&account.secret_name())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(host: &str, port: u32, security: &str) -> AccountInput {
        AccountInput {
            name: "Office".into(),
            kind: "smtp".into(),
            host: host.into(),
            port: Some(port),
            security: security.into(),
            from_address: "desk@example.com".into(),
            ..Default::default()
        }
    }

    #[test]
    fn presets_fill_the_server() {
        let a = validate(&AccountInput {
            name: "Gmail".into(),
            kind: "gmail".into(),
            username: "office@gmail.com".into(),
            from_address: "office@gmail.com".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, a.security),
            ("smtp.gmail.com", 587, Security::Starttls)
        );
        let m = validate(&AccountInput {
            name: "M365".into(),
            kind: "microsoft365".into(),
            username: "desk@office.example".into(),
            from_address: "desk@office.example".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((m.host.as_str(), m.port), ("smtp.office365.com", 587));
    }

    #[test]
    fn port_and_security_must_match() {
        validate(&smtp("mail.example.com", 587, "starttls")).unwrap();
        validate(&smtp("mail.example.com", 465, "tls")).unwrap();
        validate(&smtp("localhost", 25, "none")).unwrap();
        validate(&smtp("127.0.0.1", 1025, "none")).unwrap();
        for (host, port, sec, why) in [
            (
                "mail.example.com",
                465,
                "starttls",
                "port 465 expects implicit TLS",
            ),
            (
                "mail.example.com",
                587,
                "tls",
                "port 587 starts in plain text",
            ),
            (
                "mail.example.com",
                25,
                "none",
                "only to a server on this computer",
            ),
        ] {
            let e = validate(&smtp(host, port, sec)).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
        }
        assert!(validate(&smtp("mail.example.com", 0, "tls")).is_err());
        assert!(validate(&smtp("mail.example.com", 70000, "tls")).is_err());
        assert!(validate(&smtp("mail.example.com", 587, "")).is_err());
        assert!(validate(&smtp("mail.example.com", 587, "ssl3")).is_err());
    }

    #[test]
    fn hostile_input_is_refused() {
        for host in [
            "",
            "mail example.com",
            "mail.example.com\r\nX: y",
            "<b>",
            "a'--",
            &"a.".repeat(200),
        ] {
            assert!(validate(&smtp(host, 587, "starttls")).is_err(), "{host:?}");
        }
        for name in [
            "",
            " ",
            "a\r\nb",
            "<script>",
            "x'; DROP TABLE mail_accounts;--",
            "a\u{202E}b",
            &"n".repeat(65),
        ] {
            let mut i = smtp("mail.example.com", 587, "starttls");
            i.name = name.into();
            assert!(validate(&i).is_err(), "{name:?}");
        }
        for from_name in [
            "Desk\r\nBcc: all@example.com",
            "\u{202E}kseD",
            &"n".repeat(101),
        ] {
            let mut i = smtp("mail.example.com", 587, "starttls");
            i.from_name = from_name.into();
            assert!(validate(&i).is_err(), "{from_name:?}");
        }
        let mut i = smtp("mail.example.com", 587, "starttls");
        i.from_address = "desk@example.com\r\nBcc: x@example.com".into();
        assert!(matches!(validate(&i), Err(AccountError::FromAddress(_))));
        i.from_address = "desk@example.com".into();
        i.extra_ca_pem = "not a certificate".into();
        assert!(validate(&i).is_err());
        // HTML in a from name is text, not markup: stored as given, encoded by the mail builder.
        i.extra_ca_pem.clear();
        i.from_name = "<b>Acme</b> & Sons".into();
        assert_eq!(validate(&i).unwrap().from_name, "<b>Acme</b> & Sons");
    }

    #[test]
    fn secret_names_are_valid_for_every_account_name() {
        let store = crate::secrets::MemorySecrets::new();
        store.set(&secret_name("Local outbox"), "x").unwrap();
        store.set(&secret_name("a.b-c_d@e"), "x").unwrap();
        let longest = validate(&AccountInput {
            name: "N".repeat(MAX_NAME_CHARS),
            kind: "microsoft365".into(),
            username: "desk@contoso.com".into(),
            from_address: "desk@contoso.com".into(),
            oauth_tenant: "organizations".into(),
            oauth_client_id: "4b7c3a9e-1f2d-4e5a-9b8c-0d1e2f3a4b5c".into(),
            ..Default::default()
        })
        .unwrap();
        store.set(&longest.oauth_secret_name(), "x").unwrap();
    }
}
