//! The OS keyring for real: GNOME Keyring's Secret Service inside a private D-Bus session
//! (scripts/test starts it). Ignored in a bare `cargo test`, which may have no session.

use otp_desk_core::secrets::{KeyringSecrets, SecretStore, SecretsError};

fn unique_service() -> String {
    format!("otp-desk-test-{}", std::process::id())
}

fn secret_tool_lookup(service: &str, name: &str) -> String {
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", service, "username", name])
        .output()
        .expect("secret-tool is installed by scripts/setup");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs a Secret Service session; scripts/test runs it"]
fn secrets_round_trip_through_the_secret_service() {
    let service = unique_service();
    let store = KeyringSecrets::new(&service);
    store.set("smtp:front-desk", "app-password-1").unwrap();
    assert!(store.is_set("smtp:front-desk").unwrap());
    assert_eq!(
        secret_tool_lookup(&service, "smtp:front-desk"),
        "app-password-1"
    );
    store.set("smtp:front-desk", "app-password-2").unwrap();
    assert_eq!(
        store.get("smtp:front-desk").unwrap().unwrap().as_str(),
        "app-password-2"
    );
    store.delete("smtp:front-desk").unwrap();
    assert!(!store.is_set("smtp:front-desk").unwrap());
    assert_eq!(secret_tool_lookup(&service, "smtp:front-desk"), "");
    store.delete("smtp:front-desk").unwrap();
}

#[test]
#[ignore = "needs a Secret Service session; scripts/test runs it"]
fn hostile_values_are_stored_verbatim_and_names_are_checked() {
    let service = unique_service();
    let store = KeyringSecrets::new(&service);
    let value = "pässwörd\r\n<script>'; DROP TABLE x;--\u{202E}";
    store.set("twilio:AC123", value).unwrap();
    assert_eq!(store.get("twilio:AC123").unwrap().unwrap().as_str(), value);
    store.delete("twilio:AC123").unwrap();
    assert!(matches!(
        store.set("bad name", "v"),
        Err(SecretsError::BadName(_))
    ));
    assert!(matches!(store.set("ok", ""), Err(SecretsError::Empty)));
    let huge = "x".repeat(1 << 20);
    assert!(matches!(
        store.set("ok", &huge),
        Err(SecretsError::TooLong(_))
    ));
}
