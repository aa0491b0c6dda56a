//! The clerk sends a code by SMS through the office's Twilio account (a local stand-in that
//! checks every request as Twilio documents it): the exact request, the code read from what
//! "Twilio" received, then verified. And every way it can go wrong: numbers refused before
//! any request, each Twilio error code with its own sentence, retries, stalls, dropped
//! connections, a missing token; the token and the code never stored.

mod common;
mod support;

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use common::Desk;
use otp_desk_core::codes::{CodeError, Target};
use otp_desk_core::contact::{Channel, ContactError};
use otp_desk_core::delivery::sms_accounts::{self, SmsAccountInput};
use otp_desk_core::delivery::{
    attempts, send_code, FailureClass, Progress, SendError, SendReport, SendRequest, Setup,
    SmsState,
};
use otp_desk_core::secrets::{MemorySecrets, SecretStore};
use support::twilio::{
    office_twilio, quick_setup, TwilioServer, ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER,
    MESSAGING_SERVICE_SID,
};

/// Jo's mobile as on file, and as it must reach Twilio.
const JO_PHONE: &str = "(415) 555-0132";
const JO_E164: &str = "+14155550132";

fn jo(desk: &Desk) -> i64 {
    desk.customer(
        "WB-7",
        "Jo Smith",
        Some("jo.smith@example.com"),
        Some(JO_PHONE),
    )
}

/// Ann sends the customer a code by SMS through the default SMS account, and what the desk
/// heard while it went.
fn send_sms(
    desk: &Desk,
    setup: &Setup,
    customer_id: i64,
) -> (Result<SendReport, SendError>, Vec<Progress>) {
    let heard = Mutex::new(Vec::new());
    let observer = |p: &Progress| heard.lock().unwrap().push(p.clone());
    let result = send_code(
        &desk.store,
        &desk.key,
        setup,
        &SendRequest {
            customer_id,
            channel: Channel::Sms,
            operator: "Ann",
            account: None,
            progress: Some(&observer),
        },
    );
    (result, heard.into_inner().unwrap())
}

/// The states the desk heard, with the failure class where there is one.
fn states(heard: &[Progress]) -> Vec<(&'static str, Option<FailureClass>)> {
    heard
        .iter()
        .map(|p| match p {
            Progress::Sending { .. } => ("sending", None),
            Progress::Retrying { class, .. } => ("retrying", Some(*class)),
            Progress::Sent { .. } => ("sent", None),
            Progress::Failed { class, .. } => ("failed", Some(*class)),
        })
        .collect()
}

fn codes_in_db(desk: &Desk) -> i64 {
    desk.store
        .conn()
        .query_row("SELECT count(*) FROM codes", [], |r| r.get(0))
        .unwrap()
}

fn contains(path: &std::path::Path, needle: &str) -> bool {
    std::fs::read(path)
        .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .unwrap_or(false)
}

#[test]
fn clerk_sends_a_code_by_sms_and_the_customer_is_verified() {
    let server = TwilioServer::start("none");
    let desk = Desk::new();
    let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, false);
    let jo = jo(&desk);

    let (report, heard) = send_sms(&desk, &quick_setup(&desk.path, secrets), jo);
    let report = report.unwrap();
    assert_eq!(report.channel, Channel::Sms);
    assert_eq!(report.sent_to, "+1 …0132");
    assert_eq!(report.account, "Office Twilio");
    assert!(
        report.delivered_to.contains("via Twilio"),
        "{}",
        report.delivered_to
    );
    assert_eq!(report.sms_status.as_ref().unwrap().state, SmsState::Queued);
    assert_eq!(states(&heard), [("sending", None), ("sent", None)]);

    // Exactly the request Twilio documents.
    let sends = server.sends();
    assert_eq!(sends.len(), 1);
    let r = &sends[0];
    assert_eq!(
        r["path"],
        format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    );
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"));
    assert_eq!(r["headers"]["authorization"], format!("Basic {basic}"));
    assert!(r["headers"]["content-type"]
        .as_str()
        .unwrap()
        .starts_with("application/x-www-form-urlencoded"));
    let form = r["form"].as_object().unwrap();
    let mut fields: Vec<&str> = form.keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(fields, ["Body", "From", "To"]);
    assert_eq!(form["To"], JO_E164);
    assert_eq!(form["From"], FROM_NUMBER);
    let body = form["Body"].as_str().unwrap();
    assert!(
        body.contains("is your OTP Desk verification code. It expires in 5 minutes."),
        "{body}"
    );
    assert!(server.violations().is_empty(), "{:?}", server.violations());

    // Jo reads the code out.
    let code = server.code_in_last_message();
    assert!(desk
        .verify(Target::Challenge(report.challenge_id), &code)
        .unwrap()
        .verdict
        .is_verified());

    let recorded = attempts::list(&desk.store.conn(), Some(report.challenge_id), 10).unwrap();
    assert_eq!(recorded.len(), 1);
    let a = &recorded[0];
    assert_eq!(
        (a.channel.as_str(), a.status.as_str(), a.recipient.as_str()),
        ("sms", "sent", "+1 …0132")
    );
    assert!(
        a.provider_id.starts_with("SM") && a.provider_id.len() == 34,
        "{a:?}"
    );
    assert_eq!(a.provider_status, "queued");
    assert!(!a.reply.contains(&code), "{a:?}");
}

#[test]
fn a_messaging_service_sends_instead_of_a_number() {
    let server = TwilioServer::start("none");
    let desk = Desk::new();
    let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, true);
    let jo = jo(&desk);
    let (report, _) = send_sms(&desk, &quick_setup(&desk.path, secrets), jo);
    let report = report.unwrap();
    let form = server.sends()[0]["form"].as_object().unwrap().clone();
    assert_eq!(form["MessagingServiceSid"], MESSAGING_SERVICE_SID);
    assert!(!form.contains_key("From"), "{form:?}");
    // Through a Messaging Service Twilio first says "accepted".
    assert_eq!(report.sms_status.unwrap().state, SmsState::Queued);
    assert!(server.violations().is_empty(), "{:?}", server.violations());
}

#[test]
fn a_landline_or_an_invalid_number_is_refused_at_the_desk_and_nothing_is_sent() {
    let server = TwilioServer::start("none");
    let desk = Desk::new();
    let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, false);
    let setup = quick_setup(&desk.path, secrets);
    for (i, phone) in [
        "+44 20 7946 0958", // a London landline
        "(370) 555-0100",   // no such US area code
        "123",
        "+1 415 555 0132 99",
    ]
    .iter()
    .enumerate()
    {
        let customer = desk.customer(&format!("WB-{i}"), "Landline Lou", None, Some(phone));
        let (result, heard) = send_sms(&desk, &setup, customer);
        let err = result.unwrap_err();
        assert!(
            matches!(
                err,
                SendError::Code(CodeError::Contact(ContactError::InvalidPhone { .. }))
            ),
            "{phone}: {err:?}"
        );
        assert!(
            err.to_string().contains("not a valid phone number"),
            "{err}"
        );
        assert!(heard.is_empty(), "no delivery started for {phone}");
    }
    assert!(server.requests().is_empty(), "no request reached Twilio");
    assert_eq!(codes_in_db(&desk), 0, "no code was issued");
    assert!(attempts::list(&desk.store.conn(), None, 10)
        .unwrap()
        .is_empty());
}

#[test]
fn each_twilio_refusal_has_its_own_sentence_and_is_not_retried() {
    for (fault, class, words) in [
        (
            "reject-21211",
            FailureClass::InvalidNumber,
            "not a valid phone number",
        ),
        ("reject-21608", FailureClass::TrialAccount, "trial account"),
        ("reject-21610", FailureClass::Unsubscribed, "replied STOP"),
        (
            "reject-21614",
            FailureClass::NotMobile,
            "cannot receive text messages",
        ),
        ("reject-20003", FailureClass::Authentication, "auth token"),
    ] {
        let server = TwilioServer::start(fault);
        let desk = Desk::new();
        let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, false);
        let jo = jo(&desk);
        let (result, heard) = send_sms(&desk, &quick_setup(&desk.path, secrets), jo);
        let err = result.unwrap_err();
        let SendError::Delivery {
            challenge_id,
            error,
            ..
        } = &err
        else {
            panic!("{fault}: {err:?}")
        };
        assert_eq!(error.class, class, "{fault}");
        assert!(err.to_string().contains(words), "{fault}: {err}");
        assert!(err.to_string().contains("cancelled"), "{err}");
        assert_eq!(
            states(&heard),
            [("sending", None), ("failed", Some(class))],
            "{fault}"
        );
        assert_eq!(server.sends().len(), 1, "{fault}: not retried");
        let code = fault.trim_start_matches("reject-");
        let recorded = attempts::list(&desk.store.conn(), *challenge_id, 10).unwrap();
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0].failure_class.as_deref(), Some(class.as_str()));
        assert!(recorded[0].reply.contains(code), "{:?}", recorded[0]);
        assert!(
            !recorded[0].reply.contains(JO_E164) && !error.detail.contains(JO_E164),
            "the number is masked: {}",
            recorded[0].reply
        );
        assert!(!err.to_string().contains(AUTH_TOKEN));
    }
}

#[test]
fn a_wrong_auth_token_says_so_and_never_shows_the_token() {
    let server = TwilioServer::start("none");
    let desk = Desk::new();
    let wrong = "0000000000000000000000000000beef";
    let secrets = office_twilio(&desk.store, &server, wrong, false);
    let jo = jo(&desk);
    let setup = quick_setup(&desk.path, secrets.clone());
    let err = send_sms(&desk, &setup, jo).0.unwrap_err();
    match &err {
        SendError::Delivery { error, .. } => {
            assert_eq!(error.class, FailureClass::Authentication);
            assert!(error.detail.contains("20003"), "{}", error.detail);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("account SID or auth token"),
        "{err}"
    );
    assert!(!err.to_string().contains(wrong));

    // The admin stores the right token; the clerk sends again at once (no cooldown).
    sms_accounts::set_token(
        &desk.store.conn(),
        desk.store.clock(),
        secrets.as_ref(),
        "admin",
        "Office Twilio",
        AUTH_TOKEN,
    )
    .unwrap();
    send_sms(&desk, &setup, jo).0.unwrap();
    assert_eq!(server.sends().len(), 2);
}

#[test]
fn a_twilio_outage_then_success_is_retried_and_each_try_is_recorded() {
    let server = TwilioServer::start("error-500-once");
    let desk = Desk::new();
    let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, false);
    let jo = jo(&desk);
    let (report, heard) = send_sms(&desk, &quick_setup(&desk.path, secrets), jo);
    let report = report.unwrap();
    assert_eq!(
        states(&heard),
        [
            ("sending", None),
            ("retrying", Some(FailureClass::Transient)),
            ("sending", None),
            ("sent", None)
        ]
    );
    match &heard[1] {
        Progress::Retrying {
            attempt,
            delay_ms,
            hint,
            ..
        } => {
            assert_eq!((*attempt, *delay_ms), (1, 10));
            assert!(hint.contains("Twilio"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
    let tries = attempts::list(&desk.store.conn(), Some(report.challenge_id), 10).unwrap();
    let statuses: Vec<(&str, Option<&str>)> = tries
        .iter()
        .rev()
        .map(|a| (a.status.as_str(), a.failure_class.as_deref()))
        .collect();
    assert_eq!(statuses, [("failed", Some("transient")), ("sent", None)]);
    assert!(tries[1].reply.contains("20500"), "{}", tries[1].reply);
    assert_eq!(server.sends().len(), 2);
    let code = server.code_in_last_message();
    assert!(desk
        .verify(Target::Challenge(report.challenge_id), &code)
        .unwrap()
        .verdict
        .is_verified());
}

#[test]
fn twilio_asking_to_slow_down_is_retried_while_the_code_is_valid() {
    let server = TwilioServer::start("rate-limit-once");
    let desk = Desk::new();
    let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, false);
    let jo = jo(&desk);
    let (report, heard) = send_sms(&desk, &quick_setup(&desk.path, secrets), jo);
    report.unwrap();
    assert_eq!(
        states(&heard),
        [
            ("sending", None),
            ("retrying", Some(FailureClass::RateLimited)),
            ("sending", None),
            ("sent", None)
        ]
    );

    // Always too many: three tries, then the sentence for it.
    let server = TwilioServer::start("reject-20429");
    let desk = Desk::new();
    let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, false);
    let jo = self::jo(&desk);
    let (result, heard) = send_sms(&desk, &quick_setup(&desk.path, secrets), jo);
    let err = result.unwrap_err();
    assert!(err.to_string().contains("slow down"), "{err}");
    assert_eq!(server.sends().len(), 3);
    assert_eq!(
        heard.last(),
        Some(&Progress::Failed {
            attempt: 3,
            class: FailureClass::RateLimited,
            hint: FailureClass::RateLimited.hint_for(Channel::Sms),
        })
    );
}

#[test]
fn a_stalled_twilio_times_out_and_a_dropped_connection_is_transient() {
    for (fault, class) in [
        ("stall", FailureClass::Timeout),
        ("drop", FailureClass::Transient),
    ] {
        let server = TwilioServer::start(fault);
        let desk = Desk::new();
        let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, false);
        let jo = jo(&desk);
        let setup = Setup {
            retry_delays: vec![std::time::Duration::from_millis(10)],
            ..quick_setup(&desk.path, secrets)
        };
        let (result, heard) = send_sms(&desk, &setup, jo);
        let err = result.unwrap_err();
        let SendError::Delivery {
            challenge_id,
            error,
            ..
        } = &err
        else {
            panic!("{fault}: {err:?}")
        };
        assert_eq!(error.class, class, "{fault}: {}", error.detail);
        assert_eq!(
            states(&heard),
            [
                ("sending", None),
                ("retrying", Some(class)),
                ("sending", None),
                ("failed", Some(class))
            ],
            "{fault}"
        );
        assert_eq!(
            attempts::list(&desk.store.conn(), *challenge_id, 10)
                .unwrap()
                .len(),
            2
        );
        // The code is cancelled: the clerk may send again at once.
        let status = otp_desk_core::codes::status(
            &desk.store.conn(),
            challenge_id.unwrap(),
            desk.store.clock().now_ms(),
        )
        .unwrap();
        assert_eq!(status.state, "cancelled", "{fault}");
    }
}

#[test]
fn twilio_out_of_reach_is_a_network_failure() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let desk = Desk::new();
    let mut conn = desk.store.conn();
    sms_accounts::add(
        &mut conn,
        desk.store.clock(),
        "admin",
        &SmsAccountInput {
            name: "Office Twilio".into(),
            kind: "twilio".into(),
            account_sid: ACCOUNT_SID.into(),
            from_number: FROM_NUMBER.into(),
            api_base: format!("http://127.0.0.1:{port}"),
            ..Default::default()
        },
    )
    .unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::new());
    sms_accounts::set_token(
        &conn,
        desk.store.clock(),
        secrets.as_ref(),
        "admin",
        "Office Twilio",
        AUTH_TOKEN,
    )
    .unwrap();
    drop(conn);
    let jo = jo(&desk);
    let err = send_sms(&desk, &quick_setup(&desk.path, secrets), jo)
        .0
        .unwrap_err();
    match &err {
        SendError::Delivery { error, .. } => assert_eq!(error.class, FailureClass::Network),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("Twilio could not be reached"),
        "{err}"
    );
}

#[test]
fn an_account_without_a_token_costs_no_request_and_says_how_to_fix_it() {
    let server = TwilioServer::start("none");
    let desk = Desk::new();
    office_twilio(&desk.store, &server, AUTH_TOKEN, false);
    let jo = jo(&desk);
    let empty: Arc<dyn SecretStore> = Arc::new(MemorySecrets::new());
    let err = send_sms(&desk, &quick_setup(&desk.path, empty), jo)
        .0
        .unwrap_err();
    match &err {
        SendError::Delivery { error, .. } => {
            assert_eq!(error.class, FailureClass::Configuration);
            assert!(err.to_string().contains("set-token"), "{err}");
        }
        other => panic!("{other:?}"),
    }
    assert!(server.requests().is_empty());
}

#[test]
fn neither_the_token_nor_the_code_reaches_the_database_or_its_log() {
    let server = TwilioServer::start("none");
    let desk = Desk::new();
    let secrets = office_twilio(&desk.store, &server, AUTH_TOKEN, false);
    let jo = jo(&desk);
    let setup = quick_setup(&desk.path, secrets);
    let report = send_sms(&desk, &setup, jo).0.unwrap();
    let code = server.code_in_last_message();
    otp_desk_core::delivery::track(&desk.store, &setup, report.challenge_id, &mut |_| {}).unwrap();
    desk.verify(Target::Challenge(report.challenge_id), &code)
        .unwrap();
    for file in [
        desk.path.clone(),
        std::path::PathBuf::from(format!("{}-wal", desk.path.display())),
    ] {
        assert!(!contains(&file, AUTH_TOKEN), "token in {}", file.display());
        assert!(!contains(&file, &code), "code in {}", file.display());
    }
}

#[test]
fn a_console_sms_account_prints_the_message_to_standard_error_only() {
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
    let jo = desk.customer("WB-7", "Jo <b>Smith</b>", None, Some(JO_PHONE));
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let setup = Setup {
        console: otp_desk_core::delivery::console::Console::buffer(buffer.clone()),
        ..Setup::for_database(Some(&desk.path))
    };
    let (report, heard) = send_sms(&desk, &setup, jo);
    let report = report.unwrap();
    assert_eq!(states(&heard), [("sending", None), ("sent", None)]);
    let status = report.sms_status.unwrap();
    assert_eq!(status.state, SmsState::Delivered);
    assert!(status.message.contains("console"), "{}", status.message);
    let out = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    assert!(out.contains("console SMS (development only"), "{out}");
    assert!(out.contains(JO_E164), "{out}");
    assert!(out.contains("is your OTP Desk verification code"), "{out}");
}
