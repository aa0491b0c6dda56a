//! A full send through a real SMTP server from the command line, then a search for the
//! account's password and the code everywhere OTP Desk writes: the database file and its
//! write-ahead log, stdout, and the debug-level log on stderr. Zero hits.

mod common;

use otp_desk_test_servers as support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::{SmtpServer, PASSWORD, USER};

struct Office {
    dir: tempfile::TempDir,
}

impl Office {
    fn db(&self) -> PathBuf {
        common::db(self.dir.path())
    }

    fn cli(&self, args: &[&str], stdin: &str) -> Output {
        let out = common::command(self.dir.path(), "debug")
            .args(args)
            .write_stdin(stdin)
            .output()
            .unwrap();
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
fn an_smtp_send_leaves_neither_password_nor_code_anywhere_but_the_message() {
    let server = SmtpServer::start("starttls", "none");
    let office = Office {
        dir: tempfile::tempdir().unwrap(),
    };
    let ca = office.dir.path().join("server-ca.pem");
    std::fs::write(&ca, &server.cert_pem).unwrap();
    let port = server.port.to_string();

    let mut outputs = vec![
        office.cli(
            &[
                "customers",
                "add",
                "--account",
                "WB-7",
                "--name",
                "Jo Smith",
                "--email",
                "jo.smith@example.com",
            ],
            "",
        ),
        office.cli(
            &[
                "mail",
                "accounts",
                "add",
                "--name",
                "Office server",
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
            ],
            "",
        ),
        office.cli(
            &["mail", "accounts", "set-password", "Office server"],
            &format!("{PASSWORD}\n"),
        ),
        office.cli(&["mail", "accounts", "set-default", "Office server"], ""),
        office.cli(
            &["otp", "send", "--account", "WB-7", "--channel", "email"],
            "",
        ),
        office.cli(
            &[
                "test-mail",
                "--account",
                "Office server",
                "--to",
                "admin@example.com",
            ],
            "",
        ),
    ];

    // The customer got the code by mail; read it as they would.
    let received = server.messages();
    assert_eq!(received.len(), 2, "the code and the test mail arrived");
    let parsed = mail_parser::MessageParser::default()
        .parse(received[0].as_bytes())
        .unwrap();
    let text = parsed.body_text(0).unwrap().into_owned();
    let code = text
        .split_whitespace()
        .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
        .expect("the code is in the message")
        .to_string();

    outputs.push(office.cli(
        &["otp", "verify", "--to", "jo.smith@example.com", &code],
        "",
    ));
    outputs.push(office.cli(&["audit", "export"], ""));
    for out in &outputs {
        for needle in [PASSWORD, code.as_str()] {
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
    ] {
        assert!(
            !file_holds(&file, PASSWORD),
            "password in {}",
            file.display()
        );
        assert!(!file_holds(&file, &code), "code in {}", file.display());
    }
    assert!(
        file_holds(&office.dir.path().join("secrets.json"), PASSWORD),
        "the password went to the secret store"
    );
}
