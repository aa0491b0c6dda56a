//! Microsoft 365 sign-in from the command line: `mail accounts add` with a tenant and client
//! id, `mail accounts sign-in` showing the code and waiting, a code sent with XOAUTH2 through
//! the real SMTP test server, `sign-out`, and the next send asking to sign in again. Then a
//! search for every token everywhere OTP Desk writes except the secret store: zero hits.

mod common;

use otp_desk_test_servers as support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::identity::{IdentityServer, Outcome, CLIENT_ID, DEVICE_CODE, TENANT, USER_CODE};
use support::{SmtpServer, TOKEN, USER};

struct Office {
    dir: tempfile::TempDir,
}

impl Office {
    fn db(&self) -> PathBuf {
        common::db(self.dir.path())
    }

    fn run(&self, args: &[&str]) -> Output {
        // The most talkative level: the HTTP client's own traces must not carry tokens.
        common::command(self.dir.path(), "trace")
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        out
    }
}

fn holds(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn file_holds(path: &Path, needle: &str) -> bool {
    std::fs::read(path)
        .map(|b| holds(&b, needle))
        .unwrap_or(false)
}

#[test]
fn admin_signs_in_from_the_terminal_and_no_token_is_left_outside_the_keyring() {
    let smtp = SmtpServer::start("starttls", "none");
    let identity = IdentityServer::start(Outcome::Approve, 3599);
    let office = Office {
        dir: tempfile::tempdir().unwrap(),
    };
    let ca = office.dir.path().join("server-ca.pem");
    std::fs::write(&ca, &smtp.cert_pem).unwrap();
    let port = smtp.port.to_string();
    let authority = identity.authority();

    let mut outputs = vec![
        office.ok(&[
            "customers",
            "add",
            "--account",
            "WB-7",
            "--name",
            "Jo Smith",
            "--email",
            "jo.smith@example.com",
        ]),
        office.ok(&[
            "customers",
            "add",
            "--account",
            "WB-8",
            "--name",
            "Kim Lee",
            "--email",
            "kim.lee@example.com",
        ]),
        // The loopback server stands in for smtp.office365.com, so this is an smtp account
        // with the Microsoft sign-in settings.
        office.ok(&[
            "mail",
            "accounts",
            "add",
            "--name",
            "Office 365",
            "--kind",
            "smtp",
            "--host",
            "localhost",
            "--port",
            &port,
            "--security",
            "starttls",
            "--username",
            USER,
            "--from",
            USER,
            "--ca-file",
            ca.to_str().unwrap(),
            "--tenant",
            TENANT,
            "--client-id",
            CLIENT_ID,
            "--authority",
            &authority,
        ]),
        office.ok(&["mail", "accounts", "set-default", "Office 365"]),
    ];
    let sign_in = office.ok(&["mail", "accounts", "sign-in", "Office 365"]);
    let shown = String::from_utf8_lossy(&sign_in.stdout).into_owned();
    assert!(shown.contains(USER_CODE), "{shown}");
    assert!(
        shown.contains("https://microsoft.com/devicelogin"),
        "{shown}"
    );
    assert!(shown.contains("Signed in"), "{shown}");
    assert!(
        file_holds(
            &office.dir.path().join("secrets.json"),
            "M.C1.refresh-token-1"
        ),
        "the refresh token went to the secret store"
    );
    outputs.push(sign_in);
    let list = office.ok(&["mail", "accounts", "list"]);
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("(signed in to Microsoft)"),
        "{list:?}"
    );
    outputs.push(list);
    outputs.push(office.ok(&["otp", "send", "--account", "WB-7", "--channel", "email"]));
    assert_eq!(smtp.messages().len(), 1, "the code went out with XOAUTH2");
    outputs.push(office.ok(&["mail", "accounts", "sign-out", "Office 365"]));

    let after = office.run(&["otp", "send", "--account", "WB-8", "--channel", "email"]);
    assert_eq!(after.status.code(), Some(5), "{after:?}");
    assert!(
        String::from_utf8_lossy(&after.stderr).contains("sign in again"),
        "{after:?}"
    );
    assert_eq!(smtp.messages().len(), 1);
    outputs.push(after);
    outputs.push(office.ok(&["audit", "export"]));

    let state = identity.state();
    assert!(state.violations.is_empty(), "{:?}", state.violations);
    let mut needles = vec![TOKEN.to_string(), DEVICE_CODE.to_string()];
    needles.extend(state.refresh_tokens.iter().cloned());
    for out in &outputs {
        for needle in &needles {
            assert!(!holds(&out.stdout, needle), "{needle:?} on stdout: {out:?}");
            assert!(
                !holds(&out.stderr, needle),
                "{needle:?} in the log: {out:?}"
            );
        }
    }
    for file in [
        office.db(),
        PathBuf::from(format!("{}-wal", office.db().display())),
        // Empty again after the sign-out.
        office.dir.path().join("secrets.json"),
    ] {
        for needle in &needles {
            assert!(
                !file_holds(&file, needle),
                "{needle:?} in {}",
                file.display()
            );
        }
    }
}

#[test]
fn hostile_sign_in_settings_are_refused_and_nothing_is_added() {
    let identity = IdentityServer::start(Outcome::Approve, 3599);
    let office = Office {
        dir: tempfile::tempdir().unwrap(),
    };
    let authority = identity.authority();
    let huge = "a".repeat(100_000);
    let cases: [(&str, &str, &str); 10] = [
        ("", CLIENT_ID, ""),
        (TENANT, "", ""),
        ("contoso.com\r\nHost: evil", CLIENT_ID, ""),
        ("<script>alert(1)</script>", CLIENT_ID, ""),
        ("' OR 1=1; --", CLIENT_ID, ""),
        (TENANT, "\u{202e}4b7c3a9e-1f2d-4e5a-9b8c-0d1e2f3a4b5c", ""),
        (TENANT, &huge, ""),
        (TENANT, CLIENT_ID, "http://login.example.com"),
        (TENANT, CLIENT_ID, "javascript:alert(1)"),
        (&huge, CLIENT_ID, &authority),
    ];
    for (tenant, client_id, authority) in cases {
        let out = office.run(&[
            "mail",
            "accounts",
            "add",
            "--name",
            "Outlook",
            "--kind",
            "microsoft365",
            "--username",
            USER,
            "--from",
            USER,
            "--tenant",
            tenant,
            "--client-id",
            client_id,
            "--authority",
            authority,
        ]);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{tenant:.40} {client_id:.40} {authority}: {out:?}"
        );
        assert!(!out.stderr.is_empty());
    }
    let list = office.ok(&["--json", "mail", "accounts", "list"]);
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "only the local outbox");

    // Signing in an account that has no Microsoft settings is refused, not attempted.
    let none = office.run(&["mail", "accounts", "sign-in", "Local outbox"]);
    assert_eq!(none.status.code(), Some(4), "{none:?}");
    let missing = office.run(&["mail", "accounts", "sign-out", "No such"]);
    assert_eq!(missing.status.code(), Some(4), "{missing:?}");
}
