//! The admin signs a Microsoft 365 account in with a device code, and the desk sends codes
//! with XOAUTH2: against a stand-in for Microsoft's sign-in endpoints (support::identity)
//! and the real SMTP test server, which accepts XOAUTH2 with support::TOKEN.

mod common;
mod support;

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use common::Desk;
use otp_desk_core::codes::Target;
use otp_desk_core::contact::Channel;
use otp_desk_core::delivery::accounts::{self, AccountInput, MailAccount};
use otp_desk_core::delivery::oauth::{self, OAuthError, TokenCache};
use otp_desk_core::delivery::{send_code, FailureClass, SendError, SendRequest, Setup};
use otp_desk_core::secrets::{MemorySecrets, SecretStore};
use support::identity::{IdentityServer, Outcome, CLIENT_ID, DEVICE_CODE, TENANT, USER_CODE};
use support::{SmtpServer, TOKEN, USER};

/// The SMTP test server as an account that signs in with OAuth. The microsoft365 kind fixes
/// the server to smtp.office365.com, so the loopback server is an smtp account with the same
/// tenant and client id; the sign-in and XOAUTH2 path is the same for both kinds.
fn signed_in_server(desk: &Desk, smtp: &SmtpServer, identity: &IdentityServer) -> MailAccount {
    let input = AccountInput {
        name: "Office 365".into(),
        kind: "smtp".into(),
        host: "localhost".into(),
        port: Some(u32::from(smtp.port)),
        security: "starttls".into(),
        username: USER.into(),
        from_address: USER.into(),
        from_name: "Front desk".into(),
        extra_ca_pem: smtp.cert_pem.clone(),
        oauth_tenant: TENANT.into(),
        oauth_client_id: CLIENT_ID.into(),
        oauth_authority: identity.authority(),
        ..Default::default()
    };
    let mut conn = desk.store.conn();
    accounts::add(&mut conn, desk.store.clock(), "admin", &input).unwrap();
    accounts::set_default(&mut conn, desk.store.clock(), "admin", "Office 365").unwrap()
}

fn microsoft365(identity: &IdentityServer) -> AccountInput {
    AccountInput {
        name: "Outlook".into(),
        kind: "microsoft365".into(),
        username: USER.into(),
        from_address: USER.into(),
        oauth_tenant: TENANT.into(),
        oauth_client_id: CLIENT_ID.into(),
        oauth_authority: identity.authority(),
        ..Default::default()
    }
}

/// Records the pauses the poller asked for, and waits only a moment.
fn quick_sleep(log: &RefCell<Vec<Duration>>) -> impl Fn(Duration) + '_ {
    move |d| {
        log.borrow_mut().push(d);
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn sign_in(
    account: &MailAccount,
    secrets: &dyn SecretStore,
    cache: &TokenCache,
) -> (Result<(), OAuthError>, Vec<Duration>) {
    let code = oauth::start_sign_in(account).unwrap();
    assert_eq!(code.user_code, USER_CODE);
    assert_eq!(code.verification_uri, "https://microsoft.com/devicelogin");
    assert!(
        !format!("{code:?}").contains(DEVICE_CODE),
        "the device code is never shown"
    );
    let pauses = RefCell::new(Vec::new());
    let result = oauth::finish_sign_in(account, &code, secrets, cache, &quick_sleep(&pauses));
    (result, pauses.into_inner())
}

fn send(desk: &Desk, setup: &Setup, customer: i64) -> Result<i64, SendError> {
    send_code(
        &desk.store,
        &desk.key,
        setup,
        &SendRequest {
            customer_id: customer,
            channel: Channel::Email,
            operator: "Ann",
            account: None,
            progress: None,
        },
    )
    .map(|r| r.challenge_id)
}

fn code_in(raw: &str) -> String {
    let msg = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    let text = msg.body_text(0).unwrap().into_owned();
    text.split_whitespace()
        .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
        .expect("a six-digit code in the text part")
        .to_string()
}

#[test]
fn admin_signs_in_and_codes_go_out_with_xoauth2_until_sign_out() {
    let smtp = SmtpServer::start("starttls", "none");
    // An hour, as Microsoft issues them: the first send uses the token from the sign-in.
    let identity = IdentityServer::start(Outcome::Approve, 3599);
    let desk = Desk::new();
    let account = signed_in_server(&desk, &smtp, &identity);
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::new());
    let setup = Setup::for_database(Some(&desk.path)).with_secrets(secrets.clone());

    let (result, pauses) = sign_in(&account, secrets.as_ref(), &setup.oauth_tokens);
    result.unwrap();
    assert_eq!(
        pauses,
        vec![Duration::from_secs(1); 2],
        "polled at the server's interval, once pending, then approved"
    );
    assert_eq!(
        secrets
            .get(&account.oauth_secret_name())
            .unwrap()
            .as_deref()
            .map(String::as_str),
        Some("M.C1.refresh-token-1"),
        "the refresh token is in the keyring"
    );

    let jo = desk.customer("WB-7", "Jo Smith", Some("jo.smith@example.com"), None);
    let challenge = send(&desk, &setup, jo).unwrap();
    let received = smtp.messages();
    assert_eq!(received.len(), 1, "the code arrived through XOAUTH2");
    let r = desk
        .verify(Target::Challenge(challenge), &code_in(&received[0]))
        .unwrap();
    assert!(r.verdict.is_verified());
    assert_eq!(
        identity.state().refreshes,
        0,
        "a fresh token is not refreshed"
    );

    oauth::sign_out(&account, secrets.as_ref(), &setup.oauth_tokens).unwrap();
    assert!(secrets.get(&account.oauth_secret_name()).unwrap().is_none());
    let kim = desk.customer("WB-8", "Kim Lee", Some("kim.lee@example.com"), None);
    match send(&desk, &setup, kim).unwrap_err() {
        SendError::Delivery { error, .. } => {
            assert_eq!(error.class, FailureClass::Configuration);
            assert!(error.detail.contains("sign in again"), "{}", error.detail);
        }
        e => panic!("expected a delivery error, got {e}"),
    }
    assert_eq!(smtp.messages().len(), 1, "nothing more was sent");
    assert!(
        identity.state().violations.is_empty(),
        "{:?}",
        identity.state().violations
    );
}

#[test]
fn a_token_near_its_expiry_is_refreshed_and_the_rotated_refresh_token_kept() {
    let smtp = SmtpServer::start("starttls", "none");
    // Inside the five-minute margin from the start: every send needs a refresh.
    let identity = IdentityServer::start(Outcome::Approve, 60);
    let desk = Desk::new();
    let account = signed_in_server(&desk, &smtp, &identity);
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::new());
    let setup = Setup::for_database(Some(&desk.path)).with_secrets(secrets.clone());
    sign_in(&account, secrets.as_ref(), &setup.oauth_tokens)
        .0
        .unwrap();

    let jo = desk.customer("WB-7", "Jo Smith", Some("jo.smith@example.com"), None);
    send(&desk, &setup, jo).unwrap();
    assert_eq!(identity.state().refreshes, 1);
    let kim = desk.customer("WB-8", "Kim Lee", Some("kim.lee@example.com"), None);
    send(&desk, &setup, kim).unwrap();
    assert_eq!(
        identity.state().refreshes,
        2,
        "the rotated token was accepted"
    );
    assert_eq!(smtp.messages().len(), 2);
    assert_eq!(
        secrets
            .get(&account.oauth_secret_name())
            .unwrap()
            .as_deref()
            .map(String::as_str),
        Some("M.C1.refresh-token-3"),
        "the newest refresh token replaced the old one"
    );
    assert!(
        identity.state().violations.is_empty(),
        "{:?}",
        identity.state().violations
    );
}

#[test]
fn a_revoked_refresh_token_asks_for_a_new_sign_in() {
    let identity = IdentityServer::start(Outcome::Approve, 3599);
    let desk = Desk::new();
    let mut conn = desk.store.conn();
    let account = accounts::add(
        &mut conn,
        desk.store.clock(),
        "admin",
        &microsoft365(&identity),
    )
    .unwrap();
    let secrets = MemorySecrets::new();
    secrets
        .set(&account.oauth_secret_name(), "M.C1.revoked-long-ago")
        .unwrap();
    let err = oauth::access_token(&account, &secrets, &TokenCache::default()).unwrap_err();
    assert!(matches!(err, OAuthError::NotSignedIn(_)), "{err}");
    assert!(err.to_string().contains("sign in again"), "{err}");
    assert!(!err.to_string().contains("revoked-long-ago"));
}

#[test]
fn slow_down_lengthens_the_polling_interval_by_five_seconds() {
    let identity = IdentityServer::start(Outcome::ApproveAfterSlowDown, 3599);
    let desk = Desk::new();
    let mut conn = desk.store.conn();
    let account = accounts::add(
        &mut conn,
        desk.store.clock(),
        "admin",
        &microsoft365(&identity),
    )
    .unwrap();
    let secrets = MemorySecrets::new();
    let cache = TokenCache::default();
    let (result, pauses) = sign_in(&account, &secrets, &cache);
    result.unwrap();
    let s = Duration::from_secs;
    assert_eq!(pauses, vec![s(1), s(6), s(6)]);
    assert_eq!(
        oauth::access_token(&account, &secrets, &cache)
            .unwrap()
            .as_str(),
        TOKEN
    );
}

#[test]
fn a_cancelled_sign_in_stops_polling_and_stores_nothing() {
    let identity = IdentityServer::start(Outcome::Approve, 3599);
    let desk = Desk::new();
    let mut conn = desk.store.conn();
    let account = accounts::add(
        &mut conn,
        desk.store.clock(),
        "admin",
        &microsoft365(&identity),
    )
    .unwrap();
    let secrets = MemorySecrets::new();
    let cache = TokenCache::default();
    let code = oauth::start_sign_in(&account).unwrap();
    // The admin waits through one pending answer, then presses Cancel.
    let waits = RefCell::new(0);
    let wait = |_: Duration| {
        *waits.borrow_mut() += 1;
        *waits.borrow() < 2
    };
    let signed_in =
        oauth::finish_sign_in_unless_cancelled(&account, &code, &secrets, &cache, &wait).unwrap();
    assert!(!signed_in);
    assert_eq!(identity.state().polls, 1, "no poll after the cancel");
    assert!(!oauth::is_signed_in(&account, &secrets).unwrap());
    assert!(matches!(
        oauth::access_token(&account, &secrets, &cache),
        Err(OAuthError::NotSignedIn(_))
    ));

    // Waiting to the end signs in as before.
    let code = oauth::start_sign_in(&account).unwrap();
    let go_on = |_: Duration| true;
    assert!(
        oauth::finish_sign_in_unless_cancelled(&account, &code, &secrets, &cache, &go_on).unwrap()
    );
    assert!(oauth::is_signed_in(&account, &secrets).unwrap());
}

#[test]
fn an_expired_or_declined_sign_in_stores_nothing_and_says_why() {
    for (outcome, says) in [(Outcome::Expire, "expired"), (Outcome::Deny, "declined")] {
        let identity = IdentityServer::start(outcome, 3599);
        let desk = Desk::new();
        let mut conn = desk.store.conn();
        let account = accounts::add(
            &mut conn,
            desk.store.clock(),
            "admin",
            &microsoft365(&identity),
        )
        .unwrap();
        let secrets = MemorySecrets::new();
        let (result, _) = sign_in(&account, &secrets, &TokenCache::default());
        let err = result.unwrap_err();
        assert!(err.to_string().contains(says), "{outcome:?}: {err}");
        assert!(!err.to_string().contains(DEVICE_CODE));
        assert!(!oauth::is_signed_in(&account, &secrets).unwrap());
    }
}

#[test]
fn the_sign_in_service_being_down_is_a_clear_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let desk = Desk::new();
    let mut conn = desk.store.conn();
    let input = AccountInput {
        oauth_authority: format!("http://localhost:{port}"),
        ..microsoft365(&IdentityServer::start(Outcome::Approve, 1))
    };
    let account = accounts::add(&mut conn, desk.store.clock(), "admin", &input).unwrap();
    let err = oauth::start_sign_in(&account).unwrap_err();
    assert!(matches!(err, OAuthError::Http(_)), "{err}");
    assert!(err.to_string().contains("could not be reached"), "{err}");
}

#[test]
fn oauth_settings_are_checked_when_the_account_is_added() {
    let identity = IdentityServer::start(Outcome::Approve, 1);
    let ok = microsoft365(&identity);
    let bad: Vec<(&str, AccountInput)> = vec![
        (
            "empty client id",
            AccountInput {
                oauth_client_id: String::new(),
                ..ok.clone()
            },
        ),
        (
            "empty tenant",
            AccountInput {
                oauth_tenant: " ".into(),
                ..ok.clone()
            },
        ),
        (
            "client id not a GUID",
            AccountInput {
                oauth_client_id: "my-app".into(),
                ..ok.clone()
            },
        ),
        (
            "client id with CRLF",
            AccountInput {
                oauth_client_id: format!("{CLIENT_ID}\r\nX: y"),
                ..ok.clone()
            },
        ),
        (
            "tenant with a path",
            AccountInput {
                oauth_tenant: "../common".into(),
                ..ok.clone()
            },
        ),
        (
            "tenant with a query",
            AccountInput {
                oauth_tenant: "contoso.com?x=1".into(),
                ..ok.clone()
            },
        ),
        (
            "tenant in SQL",
            AccountInput {
                oauth_tenant: "x'; DROP TABLE mail_accounts;--".into(),
                ..ok.clone()
            },
        ),
        (
            "tenant with RTL override",
            AccountInput {
                oauth_tenant: "contoso\u{202e}moc.com".into(),
                ..ok.clone()
            },
        ),
        (
            "tenant huge",
            AccountInput {
                oauth_tenant: format!("{}.com", "a".repeat(10_000)),
                ..ok.clone()
            },
        ),
        (
            "http authority",
            AccountInput {
                oauth_authority: "http://login.example.com".into(),
                ..ok.clone()
            },
        ),
        (
            "ftp authority",
            AccountInput {
                oauth_authority: "ftp://localhost".into(),
                ..ok.clone()
            },
        ),
        (
            "authority with HTML",
            AccountInput {
                oauth_authority: "https://<b>x</b>".into(),
                ..ok.clone()
            },
        ),
        (
            "authority with a query",
            AccountInput {
                oauth_authority: "https://login.example.com/?next=evil".into(),
                ..ok.clone()
            },
        ),
        (
            "authority with userinfo",
            AccountInput {
                oauth_authority: "https://evil@login.example.com".into(),
                ..ok.clone()
            },
        ),
        (
            "authority bad port",
            AccountInput {
                oauth_authority: "https://login.example.com:99999".into(),
                ..ok.clone()
            },
        ),
        (
            "oauth on an outbox",
            AccountInput {
                kind: "outbox".into(),
                username: String::new(),
                ..ok.clone()
            },
        ),
        (
            "oauth on gmail",
            AccountInput {
                kind: "gmail".into(),
                ..ok.clone()
            },
        ),
    ];
    let desk = Desk::new();
    let mut conn = desk.store.conn();
    for (what, input) in bad {
        let err = accounts::add(&mut conn, desk.store.clock(), "admin", &input).unwrap_err();
        assert!(
            matches!(err, accounts::AccountError::Invalid { .. }),
            "{what}: {err}"
        );
    }
    assert_eq!(
        accounts::list(&conn).unwrap().len(),
        1,
        "nothing half-written"
    );

    for (tenant, authority) in [
        ("organizations", ""),
        ("COMMON", "https://login.microsoftonline.us/"),
        ("72F988BF-86F1-41AF-91AB-2D7CD011DB47", "http://[::1]:8080"),
    ] {
        let a = accounts::validate(&AccountInput {
            oauth_tenant: tenant.into(),
            oauth_authority: authority.into(),
            ..ok.clone()
        })
        .unwrap();
        let o = a.oauth.unwrap();
        assert_eq!(o.tenant, tenant.to_ascii_lowercase());
        assert!(!o.authority.ends_with('/'));
        if authority.is_empty() {
            assert_eq!(o.authority, accounts::DEFAULT_AUTHORITY);
        }
    }
    let stored = accounts::add(&mut conn, desk.store.clock(), "admin", &ok).unwrap();
    assert_eq!(
        accounts::get(&conn, "Outlook").unwrap(),
        stored,
        "read back as written"
    );
}
