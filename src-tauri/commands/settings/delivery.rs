//! Settings: mail and SMS accounts, their secrets (write-only), Microsoft sign-in, test
//! messages, and the message text. Every command checks that the admin area is open first;
//! what is checked after that is the shape of the arguments (sizes, the characters a name may
//! hold), so the core gets input it can judge and give its own, precise reasons for.
//!
//! No command returns a password, an auth token or a refresh token: the page sends one in
//! and is only ever told whether it is set.

pub mod mail;
pub mod messages;
pub mod sign_in;
pub mod sms;

use otp_desk_core::delivery::accounts;
use otp_desk_core::delivery::send::{Step, TestReport};
use otp_desk_core::delivery::FailureClass;
use otp_desk_core::secrets::{SecretsError, MAX_SECRET_BYTES};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::error::ShellError;

/// Longest value taken for a one-line form field (host, address, SID, …) before the core
/// judges it: well above every limit the core has, far below anything that could slow it.
pub(crate) const MAX_FIELD_BYTES: usize = 2048;

/// An account name from the page, for looking an account up: the core's own name rule,
/// which also refuses line breaks, markup, quotes and direction overrides.
pub(crate) fn account_name_arg(name: &str) -> Result<String, ShellError> {
    accounts::check_name(name).map_err(|e| ShellError::from(e).on_field("name"))
}

/// A one-line form field, refused when it is far longer than any value it could hold.
pub(crate) fn field_arg(value: String, field: &str) -> Result<String, ShellError> {
    if value.len() > MAX_FIELD_BYTES {
        return Err(ShellError::invalid_argument(format!(
            "this is far longer than any {} could be; check what was pasted",
            field.replace('_', " ")
        ))
        .on_field(field));
    }
    Ok(value)
}

/// A password or token from a write-only field. Empty means "none given"; wiped from memory
/// when dropped.
pub(crate) fn secret_arg(
    value: Option<String>,
    field: &str,
) -> Result<Option<Zeroizing<String>>, ShellError> {
    let Some(value) = value.map(Zeroizing::new) else {
        return Ok(None);
    };
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() > MAX_SECRET_BYTES {
        return Err(ShellError::from(SecretsError::TooLong(MAX_SECRET_BYTES)).on_field(field));
    }
    Ok(Some(value))
}

/// Stores the secret of an account just added. If the keyring refuses it, the account is
/// removed again, so a failed save leaves nothing half-made; the message says which way it
/// went. `what` names the secret as the admin knows it ("password", "auth token").
pub(crate) fn keep_secret_or_undo<C>(
    conn: &mut C,
    field: &str,
    what: &str,
    store_secret: impl FnOnce(&C) -> Result<(), ShellError>,
    undo: impl FnOnce(&mut C) -> bool,
) -> Result<(), ShellError> {
    let Err(error) = store_secret(conn) else {
        return Ok(());
    };
    let mut shell = error.on_field(field);
    shell.message = if undo(conn) {
        format!("{}; the account was not added", shell.message)
    } else {
        format!(
            "{}; the account was added without its {what}: set it from the list",
            shell.message
        )
    };
    Err(shell)
}

/// A recipient for a test message, before the core checks it as an address or number.
pub(crate) fn recipient_arg(to: &str, max_chars: usize, what: &str) -> Result<String, ShellError> {
    let to = to.trim();
    if to.is_empty() {
        return Err(ShellError::invalid_argument(format!(
            "type the {what} the test message should go to"
        ))
        .on_field("to"));
    }
    if to.chars().count() > max_chars {
        return Err(ShellError::invalid_argument(format!(
            "that is longer than any {what} ({max_chars} characters at most)"
        ))
        .on_field("to"));
    }
    Ok(to.to_string())
}

/// A test mail's or test SMS's report as the page shows it: each step with its result and
/// time, and, when a step failed, the sentence that says what to fix.
#[derive(Debug, Serialize)]
pub struct TestOutcome {
    account: String,
    ok: bool,
    steps: Vec<Step>,
    failure_class: Option<FailureClass>,
    hint: Option<&'static str>,
}

impl From<TestReport> for TestOutcome {
    fn from(report: TestReport) -> Self {
        let ok = report.ok();
        let mut steps = report.steps;
        // The failed step's own line keeps what the server said; the sentence about what to
        // fix is shown once, as the hint, rather than twice.
        if let (Some(failure), Some(last)) = (&report.failure, steps.last_mut()) {
            if !last.ok && !failure.detail.is_empty() {
                last.detail = failure.detail.clone();
            }
        }
        Self {
            ok,
            failure_class: report.failure.as_ref().map(|e| e.class),
            hint: report.failure.as_ref().map(|e| e.hint()),
            account: report.account,
            steps,
        }
    }
}

#[cfg(test)]
pub(crate) mod hostile {
    //! The inputs every argument check is tried with.

    pub fn megabyte() -> String {
        "a".repeat(1024 * 1024)
    }

    pub const LINES: &[&str] = &[
        "Office\r\nBcc: all@example.com",
        "<script>alert(1)</script>",
        "x'; DROP TABLE mail_accounts;--",
        "Office\u{202E}revo",
        "\0",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_follow_the_cores_rule() {
        assert_eq!(account_name_arg("  Office Gmail ").unwrap(), "Office Gmail");
        assert_eq!(account_name_arg("a.b-c_d@e").unwrap(), "a.b-c_d@e");
        let empty = account_name_arg("   ").unwrap_err();
        assert_eq!(empty.kind, "invalid_account");
        assert_eq!(empty.fields[0].field, "name");
        for bad in hostile::LINES
            .iter()
            .map(|s| s.to_string())
            .chain([hostile::megabyte(), "n".repeat(65)])
        {
            let e = account_name_arg(&bad).unwrap_err();
            assert_eq!(e.kind, "invalid_account", "{bad:?}");
            assert!(e.message.len() < 200, "the message does not echo the input");
        }
    }

    #[test]
    fn a_secret_the_keyring_refuses_takes_the_new_account_away_again() {
        let refused = || Err(ShellError::new("secrets", "the keyring is locked"));
        // The "connection" records what was done through it.
        let mut done: Vec<&str> = Vec::new();
        keep_secret_or_undo(
            &mut done,
            "token",
            "auth token",
            |_| Ok(()),
            |d| {
                d.push("undo");
                true
            },
        )
        .unwrap();
        assert!(done.is_empty(), "a stored secret undoes nothing");

        let e = keep_secret_or_undo(
            &mut done,
            "token",
            "auth token",
            |_| refused(),
            |d| {
                d.push("undo");
                true
            },
        )
        .unwrap_err();
        assert_eq!(done, ["undo"]);
        assert_eq!(e.kind, "secrets");
        assert_eq!(e.fields[0].field, "token");
        assert_eq!(
            e.message,
            "the keyring is locked; the account was not added"
        );

        let e = keep_secret_or_undo(&mut done, "password", "password", |_| refused(), |_| false)
            .unwrap_err();
        assert_eq!(e.fields[0].field, "password");
        assert_eq!(
            e.message,
            "the keyring is locked; the account was added without its password: set it from the list"
        );
    }

    #[test]
    fn fields_far_too_long_are_refused_and_others_pass_to_the_core() {
        assert_eq!(
            field_arg("mail.example.com".into(), "host").unwrap(),
            "mail.example.com"
        );
        for hostile in hostile::LINES {
            assert_eq!(field_arg(hostile.to_string(), "host").unwrap(), *hostile);
        }
        let e = field_arg(hostile::megabyte(), "from_address").unwrap_err();
        assert_eq!(e.kind, "invalid_argument");
        assert_eq!(e.fields[0].field, "from_address");
        assert!(e.message.contains("from address"), "{}", e.message);
    }

    #[test]
    fn secrets_empty_means_none_and_huge_is_refused() {
        assert!(secret_arg(None, "password").unwrap().is_none());
        assert!(secret_arg(Some(String::new()), "password")
            .unwrap()
            .is_none());
        let kept = secret_arg(Some(" two words\r\n".into()), "password").unwrap();
        assert_eq!(kept.as_deref().map(String::as_str), Some(" two words\r\n"));
        let e = secret_arg(Some(hostile::megabyte()), "token").unwrap_err();
        assert_eq!(e.kind, "invalid_secret");
        assert_eq!(e.fields[0].field, "token");
        assert!(!e.message.contains("aaaa"));
    }

    #[test]
    fn a_failed_step_shows_the_servers_reply_and_the_hint_once() {
        use otp_desk_core::delivery::DeliveryError;
        let report = TestReport {
            account: "Office".into(),
            steps: vec![
                Step {
                    step: "connect",
                    ok: true,
                    detail: "ok".into(),
                    duration_ms: 3,
                },
                Step {
                    step: "authenticate",
                    ok: false,
                    detail: "The server refused … (535 5.7.8 not accepted)".into(),
                    duration_ms: 40,
                },
            ],
            failure: Some(DeliveryError::new(
                FailureClass::Authentication,
                "535 5.7.8 not accepted",
                &[],
            )),
        };
        let shown = serde_json::to_value(TestOutcome::from(report)).unwrap();
        assert_eq!(shown["ok"], false);
        assert_eq!(shown["failure_class"], "authentication");
        assert_eq!(shown["steps"][1]["detail"], "535 5.7.8 not accepted");
        assert_eq!(shown["steps"][0]["detail"], "ok");
        assert!(shown["hint"]
            .as_str()
            .unwrap()
            .contains("refused the user name or password"));
    }

    #[test]
    fn recipients_must_be_given_and_of_a_sane_length() {
        assert_eq!(
            recipient_arg(" desk@example.com ", 320, "address").unwrap(),
            "desk@example.com"
        );
        for bad in [
            String::new(),
            "   ".into(),
            hostile::megabyte(),
            "1".repeat(65),
        ] {
            let e = recipient_arg(&bad, 64, "number").unwrap_err();
            assert_eq!(e.kind, "invalid_argument");
            assert_eq!(e.fields[0].field, "to");
        }
        // Markup and line breaks are the core's to refuse, with its reason.
        assert!(recipient_arg("a@b.c\r\nBcc: x@y.z", 320, "address").is_ok());
    }
}
