//! The admin sets up SMS: a fresh office has none (the desk says why SMS is off), the first
//! account becomes the default, the auth token goes only to the secret store, every change
//! is audited, and hostile input is refused with nothing saved.

mod common;

use common::Desk;
use otp_desk_core::audit::{self, Filter, Kind};
use otp_desk_core::delivery::sms_accounts::{self, SmsAccountError, SmsAccountInput};
use otp_desk_core::secrets::{MemorySecrets, SecretStore};

const SID: &str = "ACa1b2c3d4e5f60718293a4b5c6d7e8f90";
const TOKEN: &str = "5f2b8c1e9a7d4f3b6e0c2a8d1f9b7e4c";

fn twilio(name: &str) -> SmsAccountInput {
    SmsAccountInput {
        name: name.into(),
        kind: "twilio".into(),
        account_sid: SID.into(),
        from_number: "+1 501 712 2661".into(),
        ..Default::default()
    }
}

fn add(desk: &Desk, input: &SmsAccountInput) -> Result<sms_accounts::SmsAccount, SmsAccountError> {
    sms_accounts::add(&mut desk.store.conn(), desk.store.clock(), "admin", input)
}

#[test]
fn a_fresh_office_has_no_sms_and_the_desk_is_told_why() {
    let desk = Desk::new();
    let secrets = MemorySecrets::new();
    let conn = desk.store.conn();
    assert!(sms_accounts::list(&conn).unwrap().is_empty());
    assert!(sms_accounts::default_account(&conn).unwrap().is_none());
    let a = sms_accounts::availability(&conn, &secrets).unwrap();
    assert!(!a.available);
    assert!(a.reason.unwrap().contains("SMS is not set up"));
}

#[test]
fn admin_adds_twilio_stores_the_token_and_sms_becomes_available() {
    let desk = Desk::new();
    let secrets = MemorySecrets::new();
    let a = add(&desk, &twilio("Office Twilio")).unwrap();
    assert!(a.is_default, "the first SMS account is the default");
    assert_eq!(a.from_number, "+15017122661");
    assert_eq!(a.api_base, "https://api.twilio.com");
    let why = sms_accounts::availability(&desk.store.conn(), &secrets).unwrap();
    assert!(!why.available && why.reason.unwrap().contains("auth token"));

    sms_accounts::set_token(
        &desk.store.conn(),
        desk.store.clock(),
        &secrets,
        "admin",
        "Office Twilio",
        TOKEN,
    )
    .unwrap();
    assert_eq!(
        secrets
            .get("twilio:Office_Twilio")
            .unwrap()
            .unwrap()
            .as_str(),
        TOKEN
    );
    assert!(sms_accounts::token_is_set(&desk.store.conn(), &secrets, "Office Twilio").unwrap());
    assert!(
        sms_accounts::availability(&desk.store.conn(), &secrets)
            .unwrap()
            .available
    );

    // A second account is not the default until asked.
    let dev = add(
        &desk,
        &SmsAccountInput {
            name: "Dev".into(),
            kind: "console".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!dev.is_default);
    sms_accounts::set_default(&mut desk.store.conn(), desk.store.clock(), "admin", "Dev").unwrap();
    let all = sms_accounts::list(&desk.store.conn()).unwrap();
    assert_eq!(all.iter().filter(|a| a.is_default).count(), 1);
    assert_eq!(all[0].name, "Dev");

    // Update keeps the name and kind; the sender switches to a Messaging Service.
    let changed = sms_accounts::update(
        &mut desk.store.conn(),
        desk.store.clock(),
        "admin",
        "Office Twilio",
        &SmsAccountInput {
            from_number: String::new(),
            messaging_service_sid: "MG9752274e9e519418a7406176694466fa".into(),
            ..twilio("Office Twilio")
        },
    )
    .unwrap();
    assert_eq!(
        (changed.from_number.as_str(), changed.is_default),
        ("", false)
    );
    let renamed = sms_accounts::update(
        &mut desk.store.conn(),
        desk.store.clock(),
        "admin",
        "Office Twilio",
        &twilio("Other"),
    );
    assert!(renamed.unwrap_err().to_string().contains("cannot change"));

    // Removing the default turns SMS off; the token goes with its account.
    sms_accounts::remove(
        &mut desk.store.conn(),
        desk.store.clock(),
        &secrets,
        "admin",
        "Dev",
    )
    .unwrap();
    assert!(sms_accounts::default_account(&desk.store.conn())
        .unwrap()
        .is_none());
    sms_accounts::remove(
        &mut desk.store.conn(),
        desk.store.clock(),
        &secrets,
        "admin",
        "Office Twilio",
    )
    .unwrap();
    assert!(secrets.get("twilio:Office_Twilio").unwrap().is_none());

    let events = audit::query(
        &desk.store.conn(),
        &Filter {
            kinds: vec![Kind::SettingChanged],
            ..Default::default()
        },
    )
    .unwrap();
    let details: Vec<&str> = events.iter().map(|e| e.detail.as_str()).collect();
    for expected in [
        "sms account \"Office Twilio\" added",
        "auth token for sms account \"Office Twilio\" set",
        "\"Dev\" is now the default",
        "\"Office Twilio\" changed",
        "\"Dev\" removed; SMS is off",
    ] {
        assert!(
            details.iter().any(|d| d.contains(expected)),
            "{expected}: {details:?}"
        );
    }
    assert!(!details.iter().any(|d| d.contains(TOKEN)));
}

#[test]
fn hostile_sms_account_input_is_refused_and_nothing_is_saved() {
    let desk = Desk::new();
    let huge = "x".repeat(1_000_000);
    let mut cases: Vec<SmsAccountInput> = Vec::new();
    for name in [
        "",
        " ",
        "A\r\nB",
        "<script>",
        "x'; DROP TABLE sms_accounts;--",
        "Desk\u{202E}",
        huge.as_str(),
    ] {
        cases.push(twilio(name));
    }
    for sid in [
        "",
        "AC123",
        "AC0123456789abcdef0123456789abcdeg\r\n",
        "'; DROP TABLE x;--",
        huge.as_str(),
        "AC\u{202E}123456789abcdef0123456789abcdef",
    ] {
        cases.push(SmsAccountInput {
            account_sid: sid.into(),
            ..twilio("T")
        });
    }
    for from in [
        "",
        "<b>1</b>",
        "+1 415 555\r\n0100",
        "+44 20 7946 09",
        "\u{202E}+14155550100",
        huge.as_str(),
    ] {
        cases.push(SmsAccountInput {
            from_number: from.into(),
            ..twilio("T")
        });
    }
    for mg in ["MG123", "MG9752274e9e519418a7406176694466fz", "<script>"] {
        cases.push(SmsAccountInput {
            from_number: String::new(),
            messaging_service_sid: mg.into(),
            ..twilio("T")
        });
    }
    cases.push(SmsAccountInput {
        messaging_service_sid: "MG9752274e9e519418a7406176694466fa".into(),
        ..twilio("Both")
    });
    for base in [
        "http://api.twilio.com",
        "javascript:alert(1)",
        "https://a b",
        "https://x.example.com/\r\nHost: y",
        huge.as_str(),
    ] {
        cases.push(SmsAccountInput {
            api_base: base.into(),
            ..twilio("T")
        });
    }
    for kind in ["", "pigeon", "twi\r\nlio", "<b>"] {
        cases.push(SmsAccountInput {
            kind: kind.into(),
            ..twilio("T")
        });
    }
    cases.push(SmsAccountInput {
        name: "C".into(),
        kind: "console".into(),
        account_sid: SID.into(),
        ..Default::default()
    });
    for input in &cases {
        assert!(
            add(&desk, input).is_err(),
            "{:?}",
            otp_desk_core::contact::shorten(&format!("{input:?}"))
        );
    }
    assert!(
        sms_accounts::list(&desk.store.conn()).unwrap().is_empty(),
        "nothing was saved"
    );

    // Names that only differ by case or by space/underscore would share a keyring entry.
    add(&desk, &twilio("Office Twilio")).unwrap();
    for clash in ["office twilio", "Office_Twilio"] {
        assert!(
            matches!(add(&desk, &twilio(clash)), Err(SmsAccountError::Exists(_))),
            "{clash}"
        );
    }

    // Tokens: empty, huge, with line breaks or spaces; accounts that do not exist or take none.
    let secrets = MemorySecrets::new();
    let conn = desk.store.conn();
    for token in [
        "",
        "two words",
        "tok\r\nen",
        "<script>",
        &"t".repeat(1_000_000),
    ] {
        assert!(
            sms_accounts::set_token(
                &conn,
                desk.store.clock(),
                &secrets,
                "admin",
                "Office Twilio",
                token
            )
            .is_err(),
            "{:?}",
            otp_desk_core::contact::shorten(token)
        );
    }
    assert!(!sms_accounts::token_is_set(&conn, &secrets, "Office Twilio").unwrap());
    for name in [
        "",
        "nope",
        "'; DROP TABLE sms_accounts;--",
        "\u{202E}x",
        huge.as_str(),
    ] {
        assert!(matches!(
            sms_accounts::get(&conn, name),
            Err(SmsAccountError::NotFound(_))
        ));
        assert!(
            sms_accounts::set_token(&conn, desk.store.clock(), &secrets, "admin", name, TOKEN)
                .is_err()
        );
    }
}
