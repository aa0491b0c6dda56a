//! OAuth 2.0 sign-in for Microsoft 365 SMTP (XOAUTH2): the device authorization grant
//! (RFC 8628) against the Microsoft identity platform's v2.0 endpoints.
//!
//! The desk computer has no browser redirect to catch, so the admin signs in on any device:
//! `start_sign_in` returns a short user code and a web address to show; `finish_sign_in`
//! polls the token endpoint until the admin has approved, then keeps the refresh token in
//! the secret store (`oauth:<secret name>`) and the access token in memory only.
//! `access_token` hands out a token with at least five minutes left, refreshing (and storing
//! a rotated refresh token) when needed.
//!
//! Written over the core's one HTTP client (`http`, the same as Twilio's) rather than with the
//! `oauth2` crate: that crate's blocking backends pull in reqwest 0.12 or ureq 2 next to the
//! versions used here, for what are two form POSTs.
//!
//! No token ever appears in an error, a log line or the database: errors carry only the
//! server's error code and description, scrubbed of the tokens in hand.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use zeroize::Zeroizing;

use super::accounts::{MailAccount, OAuthConfig};
use super::http;
use crate::secrets::{SecretStore, SecretsError};

/// What Microsoft 365 needs to let the account send mail over SMTP, and a refresh token.
pub const SCOPE: &str = "https://outlook.office.com/SMTP.Send offline_access";
/// An access token closer than this to its expiry is refreshed first, so it cannot run out
/// in the middle of a send or a retry.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// RFC 8628 section 3.5: each `slow_down` adds five seconds to the polling interval.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// RFC 8628 section 3.2: the interval when the server names none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// One request to the identity platform; the admin waits for the answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Filter directives every binary adds to its log filter, for HTTP libraries that log what
/// they send at trace level (those bytes would carry tokens). The HTTP stack in use logs no
/// bodies or credentials (tested at trace level), so the list is empty; it stays the one
/// place to add one.
pub const QUIET_LOG_DIRECTIVES: &[&str] = &[];

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("mail account \"{0}\" does not sign in with Microsoft; add it with --tenant and --client-id")]
    NotConfigured(String),
    #[error("mail account \"{0}\" is not signed in to Microsoft; sign in again with `otp-desk-cli mail accounts sign-in \"{0}\"`")]
    NotSignedIn(String),
    #[error("the sign-in code expired before it was used; sign in again and enter the code within {0} minutes")]
    Expired(u64),
    #[error("the sign-in was declined at Microsoft; sign in again and approve the request")]
    Denied,
    #[error("Microsoft refused the sign-in ({code}: {description}); sign in again")]
    Refused { code: String, description: String },
    #[error("the Microsoft sign-in service could not be reached ({0})")]
    Http(String),
    #[error("the Microsoft sign-in service sent an answer OTP Desk does not understand ({0})")]
    BadAnswer(String),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

/// What the admin needs to sign in: show `user_code` large and `verification_uri` beside it.
pub struct DeviceCode {
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: Duration,
    pub interval: Duration,
    /// The poll handle; as good as a password until it expires, so never shown.
    device_code: Zeroizing<String>,
    started: Instant,
}

impl fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCode")
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// Access tokens in memory, per account id, with the moment they stop being usable.
/// Shared by clones of `Setup`, so every send of a desk reuses one token.
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<i64, (Zeroizing<String>, Instant)>>,
    /// One refresh at a time: Microsoft rotates refresh tokens, and two desks' sends
    /// refreshing together would each store a different one.
    refreshing: Mutex<()>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCache")
    }
}

impl TokenCache {
    fn put(&self, account: &MailAccount, token: Zeroizing<String>, expires_in: Duration) {
        self.lock()
            .insert(account.id, (token, Instant::now() + expires_in));
    }

    fn fresh(&self, account: &MailAccount) -> Option<Zeroizing<String>> {
        let tokens = self.lock();
        let (token, expires) = tokens.get(&account.id)?;
        (Instant::now() + REFRESH_MARGIN < *expires).then(|| token.clone())
    }

    fn forget(&self, account: &MailAccount) {
        self.lock().remove(&account.id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, (Zeroizing<String>, Instant)>> {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn config(account: &MailAccount) -> Result<&OAuthConfig, OAuthError> {
    account
        .oauth
        .as_ref()
        .ok_or_else(|| OAuthError::NotConfigured(account.name.clone()))
}

/// The tenant and authority were validated when the account was added (a GUID, domain or
/// multi-tenant name; an https URL), so they are safe in a URL path.
fn endpoint(oauth: &OAuthConfig, which: &str) -> String {
    format!("{}/{}/oauth2/v2.0/{which}", oauth.authority, oauth.tenant)
}

/// Answers of the identity platform; unknown fields are ignored.
#[derive(Deserialize)]
struct DeviceCodeAnswer {
    device_code: String,
    user_code: String,
    verification_uri: String,
    expires_in: u64,
    interval: Option<u64>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: u64,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
    #[serde(default)]
    error_description: String,
}

enum Answer<T> {
    Ok(T),
    Error(ErrorAnswer),
}

fn post<T: for<'de> Deserialize<'de>>(
    url: &str,
    form: &[(&str, &str)],
    secrets: &[&str],
) -> Result<Answer<T>, OAuthError> {
    let scrub = |s: String| {
        let mut s = s;
        for secret in secrets.iter().filter(|s| s.len() >= 4) {
            s = s.replace(*secret, "[hidden]");
        }
        crate::contact::shorten_to(&s, 300)
    };
    // The token endpoint answers 400 with a JSON error body that says what happened.
    let response = http::client(HTTP_TIMEOUT)
        .map_err(OAuthError::Http)?
        .post(url)
        .header("Accept", "application/json")
        .form(form)
        .send()
        .map_err(|e| OAuthError::Http(scrub(http::describe(&e))))?;
    let status = response.status();
    let body = Zeroizing::new(
        response
            .text()
            .map_err(|e| OAuthError::Http(scrub(http::describe(&e))))?,
    );
    if status.is_success() {
        return serde_json::from_str(&body)
            .map(Answer::Ok)
            // serde's message may quote the body, and the body holds tokens: say only where.
            .map_err(|e| {
                OAuthError::BadAnswer(format!(
                    "HTTP {status}, line {} column {}",
                    e.line(),
                    e.column()
                ))
            });
    }
    match serde_json::from_str::<ErrorAnswer>(&body) {
        Ok(mut e) => {
            // Microsoft's descriptions run to several lines with trace ids; the first says why.
            e.error_description =
                scrub(e.error_description.lines().next().unwrap_or("").to_string());
            e.error = scrub(e.error);
            Ok(Answer::Error(e))
        }
        Err(_) => Err(OAuthError::BadAnswer(format!("HTTP {status}"))),
    }
}

fn refused(e: ErrorAnswer) -> OAuthError {
    OAuthError::Refused {
        code: e.error,
        description: e.error_description,
    }
}

/// Asks for a device code. Nothing is stored yet.
pub fn start_sign_in(account: &MailAccount) -> Result<DeviceCode, OAuthError> {
    let oauth = config(account)?;
    let form = [("client_id", oauth.client_id.as_str()), ("scope", SCOPE)];
    match post::<DeviceCodeAnswer>(&endpoint(oauth, "devicecode"), &form, &[])? {
        Answer::Ok(a) => Ok(DeviceCode {
            user_code: a.user_code,
            verification_uri: a.verification_uri,
            expires_in: Duration::from_secs(a.expires_in),
            interval: a.interval.map_or(DEFAULT_INTERVAL, Duration::from_secs),
            device_code: Zeroizing::new(a.device_code),
            started: Instant::now(),
        }),
        Answer::Error(e) => Err(refused(e)),
    }
}

/// Polls until the admin approved (or declined, or the code expired), then stores the
/// refresh token and keeps the access token. `sleep` waits between polls (tests pass a
/// shorter wait; the UI a cancellable one).
pub fn finish_sign_in(
    account: &MailAccount,
    code: &DeviceCode,
    secrets: &dyn SecretStore,
    cache: &TokenCache,
    sleep: &dyn Fn(Duration),
) -> Result<(), OAuthError> {
    let keep_waiting = |interval| {
        sleep(interval);
        true
    };
    finish_sign_in_unless_cancelled(account, code, secrets, cache, &keep_waiting).map(|_| ())
}

/// `finish_sign_in` for a caller whose admin may stop waiting (the window's Cancel button):
/// `wait` pauses between polls and answers `false` once the wait was cancelled. Then no
/// further poll is made, nothing is stored, and the answer is `Ok(false)`; `Ok(true)` means
/// signed in.
pub fn finish_sign_in_unless_cancelled(
    account: &MailAccount,
    code: &DeviceCode,
    secrets: &dyn SecretStore,
    cache: &TokenCache,
    wait: &dyn Fn(Duration) -> bool,
) -> Result<bool, OAuthError> {
    let oauth = config(account)?;
    let url = endpoint(oauth, "token");
    let form = [
        ("grant_type", DEVICE_CODE_GRANT),
        ("client_id", oauth.client_id.as_str()),
        ("device_code", code.device_code.as_str()),
    ];
    let mut interval = code.interval;
    loop {
        if code.started.elapsed() >= code.expires_in {
            return Err(OAuthError::Expired(code.expires_in.as_secs().div_ceil(60)));
        }
        if !wait(interval) {
            return Ok(false);
        }
        match post::<TokenAnswer>(&url, &form, &[code.device_code.as_str()])? {
            Answer::Ok(t) => return keep(account, t, secrets, cache).map(|()| true),
            Answer::Error(e) => match e.error.as_str() {
                "authorization_pending" => {}
                "slow_down" => interval += SLOW_DOWN_STEP,
                "expired_token" => {
                    return Err(OAuthError::Expired(code.expires_in.as_secs().div_ceil(60)))
                }
                "access_denied" | "authorization_declined" => return Err(OAuthError::Denied),
                _ => return Err(refused(e)),
            },
        }
    }
}

fn keep(
    account: &MailAccount,
    answer: TokenAnswer,
    secrets: &dyn SecretStore,
    cache: &TokenCache,
) -> Result<(), OAuthError> {
    let access = Zeroizing::new(answer.access_token);
    let refresh = answer.refresh_token.map(Zeroizing::new);
    if let Some(refresh) = &refresh {
        secrets.set(&account.oauth_secret_name(), refresh)?;
    }
    cache.put(account, access, Duration::from_secs(answer.expires_in));
    Ok(())
}

/// An access token with at least `REFRESH_MARGIN` left: the one in memory, or a new one
/// from the refresh token in the secret store.
pub fn access_token(
    account: &MailAccount,
    secrets: &dyn SecretStore,
    cache: &TokenCache,
) -> Result<Zeroizing<String>, OAuthError> {
    let oauth = config(account)?;
    if let Some(token) = cache.fresh(account) {
        return Ok(token);
    }
    let _one_at_a_time = cache.refreshing.lock().unwrap_or_else(|p| p.into_inner());
    // Another send may have refreshed while this one waited.
    if let Some(token) = cache.fresh(account) {
        return Ok(token);
    }
    let refresh = secrets
        .get(&account.oauth_secret_name())?
        .ok_or_else(|| OAuthError::NotSignedIn(account.name.clone()))?;
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", oauth.client_id.as_str()),
        ("refresh_token", refresh.as_str()),
        ("scope", SCOPE),
    ];
    match post::<TokenAnswer>(&endpoint(oauth, "token"), &form, &[refresh.as_str()])? {
        Answer::Ok(t) => {
            keep(account, t, secrets, cache)?;
            cache
                .fresh(account)
                .or_else(|| cache.lock().get(&account.id).map(|(t, _)| t.clone()))
                .ok_or_else(|| OAuthError::NotSignedIn(account.name.clone()))
        }
        // invalid_grant: the refresh token was revoked, expired or the password changed.
        Answer::Error(e) if e.error == "invalid_grant" => {
            cache.forget(account);
            Err(OAuthError::NotSignedIn(account.name.clone()))
        }
        Answer::Error(e) => Err(refused(e)),
    }
}

/// Deletes the refresh token and forgets the access token. Signing out twice is fine.
pub fn sign_out(
    account: &MailAccount,
    secrets: &dyn SecretStore,
    cache: &TokenCache,
) -> Result<(), OAuthError> {
    cache.forget(account);
    secrets.delete(&account.oauth_secret_name())?;
    Ok(())
}

/// Whether the account has a refresh token stored.
pub fn is_signed_in(account: &MailAccount, secrets: &dyn SecretStore) -> Result<bool, OAuthError> {
    Ok(secrets.is_set(&account.oauth_secret_name())?)
}
