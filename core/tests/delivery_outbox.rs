//! A clerk sends a code by email through the outbox: the .eml is a real multipart message,
//! the customer's name is text in both parts, and neither the code nor an account password
//! is left anywhere in the database files.

mod common;

use std::path::{Path, PathBuf};

use common::Desk;
use mail_parser::{MessageParser, MimeHeaders};
use otp_desk_core::codes::{self, Target, Verdict};
use otp_desk_core::contact::Channel;
use otp_desk_core::delivery::accounts::{self, AccountInput};
use otp_desk_core::delivery::{attempts, send_code, SendError, SendRequest, Setup};
use otp_desk_core::secrets::MemorySecrets;
use otp_desk_core::Clock;

fn setup(desk: &Desk) -> Setup {
    Setup::for_database(Some(&desk.path))
}

fn send(desk: &Desk, customer: i64) -> Result<otp_desk_core::delivery::SendReport, SendError> {
    send_code(
        &desk.store,
        &desk.key,
        &setup(desk),
        &SendRequest {
            customer_id: customer,
            channel: Channel::Email,
            operator: "Ann",
            account: None,
            progress: None,
        },
    )
}

fn eml_files(folder: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(folder)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    v.sort();
    v
}

/// Reads the one code in the message, the way the customer would.
fn code_in(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .expect("a line with the code")
        .to_string()
}

fn file_contains(path: &Path, needle: &str) -> bool {
    match std::fs::read(path) {
        Ok(bytes) => bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
        Err(_) => false,
    }
}

fn database_files(desk: &Desk) -> Vec<PathBuf> {
    let wal = PathBuf::from(format!("{}-wal", desk.path.display()));
    vec![desk.path.clone(), wal]
}

#[test]
fn clerk_sends_a_code_to_the_outbox_and_the_customer_is_verified() {
    let desk = Desk::new();
    let jo = desk.customer(
        "WB-7",
        "<script>alert('x')</script> Jo",
        Some("jo.smith@example.com"),
        None,
    );
    let secrets = MemorySecrets::new();
    // An account with a password elsewhere in the database: it must not leak either.
    accounts::add(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Ann",
        &AccountInput {
            name: "Office Gmail".into(),
            kind: "gmail".into(),
            username: "office@gmail.com".into(),
            from_address: "office@gmail.com".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let password = "hunter2-Sup3r-app-pass";
    accounts::set_password(
        &desk.store.conn(),
        desk.store.clock(),
        &secrets,
        "Ann",
        "Office Gmail",
        password,
    )
    .unwrap();

    let report = send(&desk, jo).unwrap();
    assert_eq!(report.account, "Local outbox");
    assert_eq!(report.sent_to, "jo…@example.com");
    let outbox = desk.dir.path().join("outbox");
    let files = eml_files(&outbox);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(report.delivered_to, files[0].display().to_string());

    let raw = std::fs::read(&files[0]).unwrap();
    let text_raw = String::from_utf8_lossy(&raw);
    assert!(text_raw.contains("\r\n"), "RFC 5322 line ends");
    let msg = MessageParser::default().parse(&raw).unwrap();
    let ct = msg.content_type().unwrap();
    assert_eq!(
        (ct.ctype(), ct.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!(msg.subject(), Some("Your OTP Desk verification code"));
    assert_eq!(
        msg.to().unwrap().first().unwrap().address(),
        Some("jo.smith@example.com")
    );
    let from = msg.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some("desk@otp-desk.invalid"));
    assert_eq!(from.name(), Some("OTP Desk"));
    assert!(msg.date().is_some());
    assert!(msg
        .message_id()
        .is_some_and(|id| id.ends_with("@otp-desk.invalid")));
    assert_eq!(msg.text_body.len(), 1);
    assert_eq!(msg.html_body.len(), 1);
    let text = msg.body_text(0).unwrap().into_owned();
    let html = msg.body_html(0).unwrap().into_owned();
    assert!(
        text.contains("Hello <script>alert('x')</script> Jo,"),
        "{text}"
    );
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    let code = code_in(&text);
    assert!(html.contains(&code));
    assert!(text.contains("valid for 5 minutes"));

    // The customer reads the code out; it verifies.
    let v = codes::verify(
        &mut desk.store.conn(),
        desk.store.clock(),
        &desk.key,
        Target::Challenge(report.challenge_id),
        &code,
        "Ann",
    )
    .unwrap();
    assert!(matches!(v.verdict, Verdict::Verified { .. }));

    // One attempt recorded, sent, masked; the audit trail has code_sent ok.
    let rec = attempts::list(&desk.store.conn(), Some(report.challenge_id), 10).unwrap();
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0].status, "sent");
    assert_eq!(rec[0].recipient, "jo…@example.com");
    assert_eq!(rec[0].account, "Local outbox");
    let sent: (String, String) = desk
        .store
        .conn()
        .query_row(
            "SELECT result, detail FROM audit_events WHERE kind = 'code_sent'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(sent.0, "ok");

    // Neither the code nor the password is in the database file or its WAL.
    for f in database_files(&desk) {
        assert!(!file_contains(&f, &code), "the code is in {}", f.display());
        assert!(
            !file_contains(&f, password),
            "the password is in {}",
            f.display()
        );
    }
    // The search must be able to find what is there: the account name is in one of them.
    assert!(
        database_files(&desk)
            .iter()
            .any(|f| file_contains(f, "Office Gmail")),
        "the search looks at the right files"
    );
}

#[test]
fn an_outbox_that_cannot_be_written_cancels_the_code_and_a_retry_is_allowed_at_once() {
    let desk = Desk::new();
    let jo = desk.customer("WB-7", "Jo Smith", Some("jo.smith@example.com"), None);
    // A file where the folder should be: not writable even for root.
    let blocker = desk.dir.path().join("blocker");
    std::fs::write(&blocker, b"not a folder").unwrap();
    let mut conn = desk.store.conn();
    accounts::add(
        &mut conn,
        desk.store.clock(),
        "Ann",
        &AccountInput {
            name: "Shared outbox".into(),
            kind: "outbox".into(),
            from_address: "desk@office.example".into(),
            outbox_dir: blocker.join("outbox").display().to_string(),
            ..Default::default()
        },
    )
    .unwrap();
    accounts::set_default(&mut conn, desk.store.clock(), "Ann", "Shared outbox").unwrap();
    drop(conn);

    let err = send(&desk, jo).unwrap_err();
    let SendError::Delivery {
        challenge_id,
        error,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(
        error.class,
        otp_desk_core::delivery::FailureClass::Configuration
    );
    assert!(err.to_string().contains("you can send again now"), "{err}");
    let id = challenge_id.unwrap();
    let status = codes::status(&desk.store.conn(), id, desk.clock.now_ms()).unwrap();
    assert_eq!(status.state, "cancelled");
    let rec = attempts::list(&desk.store.conn(), Some(id), 10).unwrap();
    assert_eq!(rec[0].status, "failed");
    assert_eq!(rec[0].failure_class.as_deref(), Some("configuration"));
    let audit: String = desk
        .store
        .conn()
        .query_row(
            "SELECT detail FROM audit_events WHERE kind = 'code_sent' AND result = 'failed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(audit.contains("configuration"), "{audit}");

    // The admin fixes the folder; the clerk sends again at once (no cooldown).
    std::fs::remove_file(&blocker).unwrap();
    let report = send(&desk, jo).unwrap();
    assert_ne!(report.challenge_id, id);
    assert_eq!(eml_files(&blocker.join("outbox")).len(), 1);
}

#[test]
fn console_account_prints_the_message_marked_as_development_only() {
    let desk = Desk::new();
    let jo = desk.customer(
        "WB-7",
        "Jo <b>Smith</b>",
        Some("jo.smith@example.com"),
        None,
    );
    let mut conn = desk.store.conn();
    accounts::add(
        &mut conn,
        desk.store.clock(),
        "Ann",
        &AccountInput {
            name: "Dev console".into(),
            kind: "console".into(),
            from_address: "desk@office.example".into(),
            ..Default::default()
        },
    )
    .unwrap();
    accounts::set_default(&mut conn, desk.store.clock(), "Ann", "Dev console").unwrap();
    drop(conn);
    let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let setup = Setup {
        console: otp_desk_core::delivery::console::Console::buffer(buffer.clone()),
        ..Setup::for_database(Some(&desk.path))
    };
    let report = send_code(
        &desk.store,
        &desk.key,
        &setup,
        &SendRequest {
            customer_id: jo,
            channel: Channel::Email,
            operator: "Ann",
            account: None,
            progress: None,
        },
    )
    .unwrap();
    assert!(report.delivered_to.contains("standard error"));
    let out = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    assert!(out.contains("development only"), "{out}");
    assert!(out.contains("Hello Jo <b>Smith</b>,"));
    assert!(out.contains("Jo &lt;b&gt;Smith&lt;&#x2f;b&gt;"));
    assert!(eml_files(&desk.dir.path().join("outbox")).is_empty());
}

#[test]
fn sms_without_an_sms_account_and_unknown_accounts_issue_no_code() {
    let desk = Desk::new();
    let jo = desk.customer(
        "WB-7",
        "Jo Smith",
        Some("jo.smith@example.com"),
        Some("(415) 555-0132"),
    );
    let err = send_code(
        &desk.store,
        &desk.key,
        &setup(&desk),
        &SendRequest {
            customer_id: jo,
            channel: Channel::Sms,
            operator: "Ann",
            account: None,
            progress: None,
        },
    )
    .unwrap_err();
    assert!(matches!(err, SendError::SmsNotSetUp), "{err:?}");
    assert!(err.to_string().contains("SMS is not set up"), "{err}");
    let err = send_code(
        &desk.store,
        &desk.key,
        &setup(&desk),
        &SendRequest {
            customer_id: jo,
            channel: Channel::Email,
            operator: "Ann",
            account: Some("nope'; --"),
            progress: None,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("no mail account named"), "{err}");
    let n: i64 = desk
        .store
        .conn()
        .query_row("SELECT count(*) FROM codes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}
