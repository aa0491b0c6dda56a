//! The Twilio auth token in the real OS keyring (GNOME Keyring's Secret Service inside a
//! private D-Bus session, which scripts/test starts): stored as `twilio:<name>`, read back
//! only by the transport for a send through the Twilio stand-in, deleted with its account.
//! Ignored in a bare `cargo test`, which may have no session.

mod common;
mod support;

use std::sync::Arc;

use common::Desk;
use otp_desk_core::contact::Channel;
use otp_desk_core::delivery::sms_accounts::{self, SmsAccountInput};
use otp_desk_core::delivery::{send_code, SendRequest};
use otp_desk_core::secrets::{KeyringSecrets, SecretStore};
use support::twilio::{quick_setup, TwilioServer, ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER};

fn secret_tool_lookup(service: &str, name: &str) -> String {
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", service, "username", name])
        .output()
        .expect("secret-tool is installed by scripts/setup");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs a Secret Service session; scripts/test runs it"]
fn the_twilio_token_lives_in_the_keyring_and_goes_with_its_account() {
    let service = format!("otp-desk-sms-test-{}", std::process::id());
    let keyring: Arc<dyn SecretStore> = Arc::new(KeyringSecrets::new(&service));
    let server = TwilioServer::start("none");
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
            api_base: server.base_url(),
            ..Default::default()
        },
    )
    .unwrap();
    sms_accounts::set_token(
        &conn,
        desk.store.clock(),
        keyring.as_ref(),
        "admin",
        "Office Twilio",
        AUTH_TOKEN,
    )
    .unwrap();
    drop(conn);
    assert_eq!(
        secret_tool_lookup(&service, "twilio:Office_Twilio"),
        AUTH_TOKEN
    );

    let jo = desk.customer("WB-7", "Jo Smith", None, Some("(415) 555-0132"));
    send_code(
        &desk.store,
        &desk.key,
        &quick_setup(&desk.path, keyring.clone()),
        &SendRequest {
            customer_id: jo,
            channel: Channel::Sms,
            operator: "Ann",
            account: None,
            progress: None,
        },
    )
    .unwrap();
    assert_eq!(
        server.sends().len(),
        1,
        "sent with the token from the keyring"
    );

    sms_accounts::remove(
        &mut desk.store.conn(),
        desk.store.clock(),
        keyring.as_ref(),
        "admin",
        "Office Twilio",
    )
    .unwrap();
    assert_eq!(secret_tool_lookup(&service, "twilio:Office_Twilio"), "");
}
