//! The clerk's flow through a real mail server: an SMTP account set up as the default, a code
//! sent to the customer, the code read from what the server received, then verified. And
//! the same account with a wrong password: nothing delivered, the code cancelled, the reason
//! an admin can act on.

mod common;
mod support;

use std::sync::Arc;

use common::Desk;
use otp_desk_core::codes::Target;
use otp_desk_core::contact::Channel;
use otp_desk_core::delivery::accounts::{self, AccountInput};
use otp_desk_core::delivery::{
    attempts, send_code, send_test, FailureClass, SendError, SendReport, SendRequest, Setup,
};
use otp_desk_core::secrets::{MemorySecrets, SecretStore};
use support::{SmtpServer, PASSWORD, USER};

/// Adds the server as an SMTP account (trusting its certificate), makes it the default and
/// stores `password` for it.
fn office_server(desk: &Desk, server: &SmtpServer, password: &str) -> Arc<dyn SecretStore> {
    let input = AccountInput {
        name: "Office server".into(),
        kind: "smtp".into(),
        host: "localhost".into(),
        port: Some(u32::from(server.port)),
        security: "starttls".into(),
        username: USER.into(),
        from_address: "desk@example.com".into(),
        from_name: "Front desk".into(),
        extra_ca_pem: server.cert_pem.clone(),
        outbox_dir: String::new(),
        ..Default::default()
    };
    let mut conn = desk.store.conn();
    accounts::add(&mut conn, desk.store.clock(), "admin", &input).unwrap();
    accounts::set_default(&mut conn, desk.store.clock(), "admin", "Office server").unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::new());
    accounts::set_password(
        &conn,
        desk.store.clock(),
        secrets.as_ref(),
        "admin",
        "Office server",
        password,
    )
    .unwrap();
    secrets
}

fn send(
    desk: &Desk,
    customer_id: i64,
    secrets: Arc<dyn SecretStore>,
) -> Result<SendReport, SendError> {
    send_with(
        desk,
        &Setup::for_database(Some(&desk.path)).with_secrets(secrets),
        customer_id,
    )
}

/// Ann sends the customer a code by email through the default account, with `setup`.
fn send_with(desk: &Desk, setup: &Setup, customer_id: i64) -> Result<SendReport, SendError> {
    send_code(
        &desk.store,
        &desk.key,
        setup,
        &SendRequest {
            customer_id,
            channel: Channel::Email,
            operator: "Ann",
            account: None,
            progress: None,
        },
    )
}

/// The six-digit code in the received message's text part, read as the customer would.
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
fn clerk_sends_a_code_through_the_office_mail_server_and_the_customer_is_verified() {
    let server = SmtpServer::start("starttls", "none");
    let desk = Desk::new();
    let secrets = office_server(&desk, &server, PASSWORD);
    let jo = desk.customer(
        "WB-7",
        "Jo <script>Smith</script>",
        Some("jo.smith@example.com"),
        None,
    );

    let report = send(&desk, jo, secrets).unwrap();
    assert_eq!(report.account, "Office server");
    assert_eq!(report.sent_to, "jo…@example.com");
    assert!(
        report.delivered_to.contains("localhost"),
        "{}",
        report.delivered_to
    );

    let received = server.messages();
    assert_eq!(received.len(), 1);
    let raw = &received[0];
    assert!(
        raw.contains("jo.smith@example.com"),
        "delivered to the address on file"
    );
    assert!(raw.contains("multipart/alternative"), "text and HTML parts");
    let parsed = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    let html = parsed.body_html(0).unwrap();
    assert!(
        !html.contains("<script>"),
        "the customer's name arrives escaped: {html}"
    );

    let code = code_in(raw);
    let r = desk
        .verify(Target::Challenge(report.challenge_id), &code)
        .unwrap();
    assert!(r.verdict.is_verified());

    let recorded = attempts::list(&desk.store.conn(), Some(report.challenge_id), 10).unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].status, "sent");
    assert_eq!(recorded[0].account, "Office server");
}

#[test]
fn a_wrong_password_cancels_the_code_and_says_what_to_do() {
    let server = SmtpServer::start("starttls", "none");
    let desk = Desk::new();
    let wrong_password = "not-the-app-password";
    let secrets = office_server(&desk, &server, wrong_password);
    let jo = desk.customer("WB-7", "Jo Smith", Some("jo.smith@example.com"), None);

    let err = send(&desk, jo, secrets.clone()).unwrap_err();
    let SendError::Delivery {
        challenge_id,
        error,
        ..
    } = &err
    else {
        panic!("expected a delivery failure, got {err:?}");
    };
    assert_eq!(error.class, FailureClass::Authentication);
    assert!(err.to_string().contains("app password"), "{err}");
    assert!(
        !err.to_string().contains(wrong_password),
        "the password never shows: {err}"
    );
    assert!(server.messages().is_empty());

    let recorded = attempts::list(&desk.store.conn(), *challenge_id, 10).unwrap();
    assert_eq!(recorded[0].status, "failed");
    assert_eq!(recorded[0].failure_class.as_deref(), Some("authentication"));
    assert!(!recorded[0].reply.contains(wrong_password));

    // The admin fixes the password; the clerk sends again at once (no cooldown).
    accounts::set_password(
        &desk.store.conn(),
        desk.store.clock(),
        secrets.as_ref(),
        "admin",
        "Office server",
        PASSWORD,
    )
    .unwrap();
    send(&desk, jo, secrets).unwrap();
    assert_eq!(server.messages().len(), 1);
}

#[test]
fn an_smtp_account_without_a_password_is_a_configuration_error_and_costs_no_wait() {
    let server = SmtpServer::start("starttls", "none");
    let desk = Desk::new();
    office_server(&desk, &server, PASSWORD);
    let jo = desk.customer("WB-7", "Jo Smith", Some("jo.smith@example.com"), None);
    let empty: Arc<dyn SecretStore> = Arc::new(MemorySecrets::new());
    let err = send(&desk, jo, empty).unwrap_err();
    match &err {
        SendError::Delivery { error, .. } => {
            assert_eq!(error.class, FailureClass::Configuration);
            assert!(err.to_string().contains("set-password"), "{err}");
        }
        other => panic!("expected a delivery failure, got {other:?}"),
    }
}

#[test]
fn admin_test_mail_reports_each_smtp_step_and_which_one_failed() {
    let server = SmtpServer::start("starttls", "none");
    let desk = Desk::new();
    let secrets = office_server(&desk, &server, PASSWORD);
    let setup = Setup::for_database(Some(&desk.path)).with_secrets(secrets.clone());
    let report = send_test(
        &desk.store,
        &setup,
        "admin",
        "Office server",
        "admin@example.com",
    )
    .unwrap();
    let names: Vec<&str> = report.steps.iter().map(|s| s.step).collect();
    assert_eq!(
        names,
        [
            "account",
            "render",
            "connect",
            "tls",
            "authenticate",
            "send"
        ]
    );
    assert!(report.steps.iter().all(|s| s.ok), "{report:?}");
    assert!(report.failure.is_none());
    assert_eq!(server.messages().len(), 1, "the test message arrived");

    accounts::set_password(
        &desk.store.conn(),
        desk.store.clock(),
        secrets.as_ref(),
        "admin",
        "Office server",
        "wrong-password",
    )
    .unwrap();
    let report = send_test(
        &desk.store,
        &setup,
        "admin",
        "Office server",
        "admin@example.com",
    )
    .unwrap();
    let last = report.steps.last().unwrap();
    assert_eq!((last.step, last.ok), ("authenticate", false), "{report:?}");
    assert!(last.detail.contains("app password"), "{}", last.detail);
    assert!(!last.detail.contains("wrong-password"));
    assert_eq!(
        report.failure.map(|e| e.class),
        Some(FailureClass::Authentication)
    );
    assert_eq!(server.messages().len(), 1, "nothing more arrived");
}

#[test]
fn a_busy_server_gets_another_try_and_each_try_is_recorded() {
    let server = SmtpServer::start("starttls", "transient-451");
    let desk = Desk::new();
    let secrets = office_server(&desk, &server, PASSWORD);
    let jo = desk.customer("WB-7", "Jo Smith", Some("jo.smith@example.com"), None);
    let setup = Setup {
        retry_delays: vec![std::time::Duration::from_millis(10)],
        ..Setup::for_database(Some(&desk.path)).with_secrets(secrets)
    };
    let report = send_with(&desk, &setup, jo).unwrap();
    let tries = attempts::list(&desk.store.conn(), Some(report.challenge_id), 10).unwrap();
    let statuses: Vec<(&str, Option<&str>)> = tries
        .iter()
        .rev()
        .map(|a| (a.status.as_str(), a.failure_class.as_deref()))
        .collect();
    assert_eq!(statuses, [("failed", Some("transient")), ("sent", None)]);
    assert!(
        tries[1].reply.contains("451"),
        "the server's words are kept: {}",
        tries[1].reply
    );
    let code = code_in(&server.messages()[0]);
    assert!(desk
        .verify(Target::Challenge(report.challenge_id), &code)
        .unwrap()
        .verdict
        .is_verified());
}

#[test]
fn the_desk_hears_each_try_and_the_pause_between_them() {
    use otp_desk_core::delivery::Progress;
    let server = SmtpServer::start("starttls", "transient-451");
    let desk = Desk::new();
    let secrets = office_server(&desk, &server, PASSWORD);
    let jo = desk.customer("WB-7", "Jo Smith", Some("jo.smith@example.com"), None);
    let setup = Setup {
        retry_delays: vec![std::time::Duration::from_millis(10)],
        ..Setup::for_database(Some(&desk.path)).with_secrets(secrets)
    };
    let heard = std::sync::Mutex::new(Vec::new());
    let observer = |p: &Progress| heard.lock().unwrap().push(p.clone());
    send_code(
        &desk.store,
        &desk.key,
        &setup,
        &SendRequest {
            customer_id: jo,
            channel: Channel::Email,
            operator: "Ann",
            account: None,
            progress: Some(&observer),
        },
    )
    .unwrap();
    let heard = heard.into_inner().unwrap();
    assert_eq!(
        heard,
        [
            Progress::Sending { attempt: 1 },
            Progress::Retrying {
                attempt: 1,
                delay_ms: 10,
                class: FailureClass::Transient,
                hint: FailureClass::Transient.hint(),
            },
            Progress::Sending { attempt: 2 },
            Progress::Sent { attempt: 2 },
        ]
    );
    // What the window receives: no code, no address.
    let code = code_in(&server.messages()[0]);
    for p in &heard {
        let json = serde_json::to_string(p).unwrap();
        assert!(
            !json.contains(&code) && !json.contains("jo.smith"),
            "{json}"
        );
    }
}

#[test]
fn a_permanent_refusal_is_not_retried() {
    let server = SmtpServer::start("starttls", "permanent");
    let desk = Desk::new();
    let secrets = office_server(&desk, &server, PASSWORD);
    let jo = desk.customer("WB-7", "Jo Smith", Some("jo.smith@example.com"), None);
    let setup = Setup {
        retry_delays: vec![std::time::Duration::from_millis(10); 2],
        ..Setup::for_database(Some(&desk.path)).with_secrets(secrets)
    };
    let err = send_with(&desk, &setup, jo).unwrap_err();
    let SendError::Delivery {
        challenge_id,
        error,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(error.class, FailureClass::Permanent);
    assert!(
        !error.detail.contains("jo.smith@example.com"),
        "the address is masked: {}",
        error.detail
    );
    assert_eq!(
        attempts::list(&desk.store.conn(), challenge_id, 10)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_long_lived_desk_reuses_its_transport_until_the_password_changes() {
    let server = SmtpServer::start("starttls", "none");
    let desk = Desk::new();
    let secrets = office_server(&desk, &server, PASSWORD);
    // One Setup for the whole session, as the desktop app keeps it.
    let setup = Setup::for_database(Some(&desk.path)).with_secrets(secrets.clone());
    let send_to = |customer_id| send_with(&desk, &setup, customer_id);
    let a = desk.customer("WB-1", "Ann Able", Some("ann@example.com"), None);
    let b = desk.customer("WB-2", "Bo Baker", Some("bo@example.com"), None);
    let c = desk.customer("WB-3", "Cy Cole", Some("cy@example.com"), None);
    send_to(a).unwrap();
    send_to(b).unwrap();
    assert_eq!(server.messages().len(), 2);

    accounts::set_password(
        &desk.store.conn(),
        desk.store.clock(),
        secrets.as_ref(),
        "admin",
        "Office server",
        "changed-and-wrong",
    )
    .unwrap();
    let err = send_to(c).unwrap_err();
    match err {
        SendError::Delivery { error, .. } => assert_eq!(error.class, FailureClass::Authentication),
        other => panic!("a new password must mean a new sign-in: {other:?}"),
    }
}
