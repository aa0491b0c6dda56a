//! After the code went out by SMS, the desk follows the message: queued, sent, then
//! delivered, undelivered or failed, as the Twilio stand-in reports it, each change heard
//! once and the last one kept on the delivery record. When Twilio does not answer finally in
//! time, or cannot be asked, tracking ends as "unconfirmed" and the code stays valid.
//! And the admin's test SMS, step by step.

mod common;
mod support;

use common::Desk;
use otp_desk_core::contact::Channel;
use otp_desk_core::delivery::sms::TrackError;
use otp_desk_core::delivery::sms_accounts::{self, SmsAccountInput};
use otp_desk_core::delivery::{
    attempts, send_code, send_test_sms, track, FailureClass, SendReport, SendRequest, Setup,
    SmsState, SmsStatus,
};
use support::twilio::{office_twilio, quick_setup, TwilioServer, AUTH_TOKEN};

fn send(desk: &Desk, setup: &Setup) -> SendReport {
    let jo = desk.customer("WB-7", "Jo Smith", None, Some("(415) 555-0132"));
    send_code(
        &desk.store,
        &desk.key,
        setup,
        &SendRequest {
            customer_id: jo,
            channel: Channel::Sms,
            operator: "Ann",
            account: None,
            progress: None,
        },
    )
    .unwrap()
}

/// Sends a code through a stand-in that ends messages as `final_status`, follows it, and
/// returns what the desk heard, the last status and the delivery record.
fn follow(
    fault: &str,
    final_status: &str,
    error_code: Option<u32>,
) -> (Vec<SmsStatus>, SmsStatus, attempts::AttemptRecord) {
    let server = TwilioServer::start_with(fault, final_status, error_code);
    let desk = Desk::new();
    let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, false);
    let setup = quick_setup(&desk.path, secrets);
    let report = send(&desk, &setup);
    let mut heard = Vec::new();
    let last = track(&desk.store, &setup, report.challenge_id, &mut |s| {
        heard.push(s.clone())
    })
    .unwrap();
    let record = attempts::last_sent(&desk.store.conn(), report.challenge_id)
        .unwrap()
        .unwrap();
    assert!(server.violations().is_empty(), "{:?}", server.violations());
    (heard, last, record)
}

fn states(heard: &[SmsStatus]) -> Vec<SmsState> {
    heard.iter().map(|s| s.state).collect()
}

#[test]
fn the_desk_sees_queued_sent_delivered_and_the_record_keeps_it() {
    let (heard, last, record) = follow("none", "delivered", None);
    assert_eq!(
        states(&heard),
        [SmsState::Queued, SmsState::Sent, SmsState::Delivered]
    );
    assert!(last.is_final);
    assert_eq!(last.message, "Delivered to the customer's phone.");
    assert_eq!(record.provider_status, "delivered");
    assert_eq!(record.provider_error, None);
    assert!(record.status_at.is_some());
}

#[test]
fn an_undelivered_message_says_why_with_twilios_error_code() {
    let (heard, last, record) = follow("none", "undelivered", Some(30003));
    assert_eq!(
        states(&heard),
        [SmsState::Queued, SmsState::Sent, SmsState::Undelivered]
    );
    assert_eq!(last.error_code, Some(30003));
    assert!(
        last.message.contains("switched off or out of coverage"),
        "{}",
        last.message
    );
    assert_eq!(
        (record.provider_status.as_str(), record.provider_error),
        ("undelivered", Some(30003))
    );
    // The hand-over itself succeeded: the try stays "sent"; the status says what followed.
    assert_eq!(record.status, "sent");
}

#[test]
fn a_failed_message_is_final_too() {
    let (heard, last, record) = follow("none", "failed", Some(30008));
    assert_eq!(states(&heard), [SmsState::Queued, SmsState::Failed]);
    assert!(last.is_final && last.message.contains("30008"), "{last:?}");
    assert_eq!(record.provider_status, "failed");
}

#[test]
fn no_final_answer_in_time_ends_unconfirmed_and_keeps_the_last_status() {
    let (heard, last, record) = follow("none", "sent", None);
    assert_eq!(
        states(&heard),
        [SmsState::Queued, SmsState::Sent, SmsState::Unconfirmed]
    );
    assert!(!last.is_final);
    assert!(last.message.contains("within 3 s"), "{}", last.message);
    assert!(last.message.contains("stays valid"), "{}", last.message);
    assert_eq!(record.provider_status, "sent");
}

#[test]
fn twilio_failing_to_answer_ends_tracking_without_losing_the_send() {
    for fault in ["status-error", "status-drop"] {
        let (heard, last, record) = follow(fault, "delivered", None);
        assert_eq!(
            states(&heard),
            [SmsState::Queued, SmsState::Unconfirmed],
            "{fault}"
        );
        assert!(
            last.message.contains("could not ask Twilio for the status"),
            "{fault}: {}",
            last.message
        );
        assert_eq!(record.status, "sent", "{fault}");
        assert_eq!(record.provider_status, "queued", "{fault}");
    }
}

#[test]
fn only_a_code_sent_by_sms_can_be_followed() {
    let desk = Desk::new();
    let setup = Setup::for_database(Some(&desk.path));
    assert!(matches!(
        track(&desk.store, &setup, 42, &mut |_| {}),
        Err(TrackError::NotSent(42))
    ));
    let jo = desk.customer("WB-7", "Jo Smith", Some("jo@example.com"), None);
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
    assert!(matches!(
        track(&desk.store, &setup, report.challenge_id, &mut |_| {}),
        Err(TrackError::NotSent(_))
    ));
}

#[test]
fn the_admins_test_sms_reports_each_step_and_uses_no_real_code() {
    let server = TwilioServer::start("none");
    let desk = Desk::new();
    let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, false);
    let setup = quick_setup(&desk.path, secrets);
    let report = send_test_sms(
        &desk.store,
        &setup,
        "admin",
        "Office Twilio",
        "(415) 555-0100",
    )
    .unwrap();
    let steps: Vec<(&str, bool)> = report.steps.iter().map(|s| (s.step, s.ok)).collect();
    assert_eq!(
        steps,
        [
            ("account", true),
            ("number", true),
            ("render", true),
            ("request", true),
            ("status", true)
        ],
        "{report:?}"
    );
    assert!(report.failure.is_none());
    assert_eq!(report.steps[4].detail, "Delivered to the customer's phone.");
    let body = server.sends()[0]["form"]["Body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        body.starts_with("OTP Desk test message: 123456 is your"),
        "{body}"
    );
    let codes: i64 = desk
        .store
        .conn()
        .query_row("SELECT count(*) FROM codes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(codes, 0, "a test issues no code");
    let recorded = attempts::list(&desk.store.conn(), None, 10).unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (
            recorded[0].code_id,
            recorded[0].channel.as_str(),
            recorded[0].provider_status.as_str()
        ),
        (None, "sms", "delivered")
    );
}

#[test]
fn a_test_sms_stops_at_the_step_that_failed() {
    // A landline: refused at the number step, nothing sent.
    let server = TwilioServer::start("none");
    let desk = Desk::new();
    let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, false);
    let setup = quick_setup(&desk.path, secrets);
    for (to, class) in [
        ("+44 20 7946 0958", FailureClass::NotMobile),
        ("12", FailureClass::InvalidNumber),
        ("+1 415\r\n555 0100", FailureClass::InvalidNumber),
        (&"5".repeat(1_000_000), FailureClass::InvalidNumber),
    ] {
        let report = send_test_sms(&desk.store, &setup, "admin", "Office Twilio", to).unwrap();
        let last = report.steps.last().unwrap();
        assert_eq!((last.step, last.ok), ("number", false), "{report:?}");
        assert_eq!(report.failure.map(|e| e.class), Some(class));
    }
    assert!(server.requests().is_empty());

    // Twilio refuses the number: the request step fails with Twilio's reason.
    let server = TwilioServer::start("reject-21610");
    let desk = Desk::new();
    let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, false);
    let setup = quick_setup(&desk.path, secrets);
    let report = send_test_sms(
        &desk.store,
        &setup,
        "admin",
        "Office Twilio",
        "(415) 555-0100",
    )
    .unwrap();
    let last = report.steps.last().unwrap();
    assert_eq!((last.step, last.ok), ("request", false), "{report:?}");
    assert!(last.detail.contains("STOP"), "{}", last.detail);

    // The network loses it: the status step fails with the carrier's reason.
    let server = TwilioServer::start_with("none", "undelivered", Some(30006));
    let desk = Desk::new();
    let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, false);
    let setup = quick_setup(&desk.path, secrets);
    let report = send_test_sms(
        &desk.store,
        &setup,
        "admin",
        "Office Twilio",
        "(415) 555-0100",
    )
    .unwrap();
    let last = report.steps.last().unwrap();
    assert_eq!((last.step, last.ok), ("status", false), "{report:?}");
    assert!(last.detail.contains("landline"), "{}", last.detail);
    assert_eq!(
        report.failure.map(|e| e.class),
        Some(FailureClass::Undelivered)
    );
    let recorded = attempts::list(&desk.store.conn(), None, 10).unwrap();
    assert_eq!(
        (
            recorded[0].status.as_str(),
            recorded[0].provider_status.as_str(),
            recorded[0].provider_error
        ),
        ("sent", "undelivered", Some(30006))
    );

    // A console account prints it.
    let desk = Desk::new();
    sms_accounts::add(
        &mut desk.store.conn(),
        desk.store.clock(),
        "admin",
        &SmsAccountInput {
            name: "Dev".into(),
            kind: "console".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let setup = Setup {
        console: otp_desk_core::delivery::console::Console::buffer(buffer.clone()),
        ..Setup::for_database(Some(&desk.path))
    };
    let report = send_test_sms(&desk.store, &setup, "admin", "Dev", "(415) 555-0100").unwrap();
    assert!(report.ok(), "{report:?}");
    let out = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    assert!(out.contains("OTP Desk test message: 123456"), "{out}");
}
