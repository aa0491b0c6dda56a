//! SMS from a terminal: accounts, the auth token from standard input, the SMS text,
//! `otp send --channel sms` and `test-sms` through the Twilio stand-in. Real binary, real
//! database file, secrets in a file store; then a search for the token and the code in
//! everything printed (logging at trace level) and in the database and its write-ahead log.

mod common;

use otp_desk_test_servers as support;

use std::path::{Path, PathBuf};

use common::Out;
use support::twilio::{TwilioServer, ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER};

struct Office {
    dir: tempfile::TempDir,
    log: &'static str,
    /// Everything every run printed, for the leak searches.
    printed: std::cell::RefCell<String>,
}

impl Office {
    fn new() -> Self {
        Self::logging("debug")
    }

    fn logging(log: &'static str) -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            log,
            printed: Default::default(),
        }
    }

    fn db(&self) -> PathBuf {
        common::db(self.dir.path())
    }

    fn run_bytes(&self, args: &[&str], stdin: &[u8]) -> Out {
        let out: Out = common::command(self.dir.path(), self.log)
            .args(args)
            .write_stdin(stdin)
            .output()
            .unwrap()
            .into();
        let mut p = self.printed.borrow_mut();
        p.push_str(&out.stdout);
        p.push_str(&out.stderr);
        out
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Out {
        self.run_bytes(args, stdin.as_bytes())
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_with_stdin(args, "")
    }

    fn ok(&self, args: &[&str]) -> Out {
        let o = self.run(args);
        assert_eq!(o.code, 0, "{args:?}: {o:?}");
        o
    }

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    }

    fn add_customer(&self, account: &str, phone: &str) {
        self.ok(&[
            "customers",
            "add",
            "--account",
            account,
            "--name",
            "Jo Smith",
            "--phone",
            phone,
        ]);
    }

    /// The stand-in as the office's Twilio account, with its token.
    fn add_twilio(&self, server: &TwilioServer) {
        let base = server.base_url();
        self.ok(&[
            "sms",
            "accounts",
            "add",
            "--name",
            "Office Twilio",
            "--kind",
            "twilio",
            "--account-sid",
            ACCOUNT_SID,
            "--from",
            FROM_NUMBER,
            "--api-base",
            &base,
        ]);
        let o = self.run_with_stdin(
            &["sms", "accounts", "set-token", "Office Twilio"],
            &format!("{AUTH_TOKEN}\n"),
        );
        assert_eq!(o.code, 0, "{o:?}");
    }
}

fn json(o: &Out) -> serde_json::Value {
    serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {o:?}"))
}

fn contains(haystack: &Path, needle: &str) -> bool {
    std::fs::read(haystack)
        .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .unwrap_or(false)
}

#[test]
fn every_sms_command_has_help() {
    let office = Office::new();
    for cmd in [
        &["sms"][..],
        &["sms", "accounts"],
        &["sms", "accounts", "list"],
        &["sms", "accounts", "add"],
        &["sms", "accounts", "update"],
        &["sms", "accounts", "remove"],
        &["sms", "accounts", "set-default"],
        &["sms", "accounts", "set-token"],
        &["sms", "template"],
        &["sms", "template", "show"],
        &["sms", "template", "set"],
        &["sms", "template", "reset"],
        &["sms", "template", "preview"],
        &["test-sms"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let o = office.run(&args);
        assert_eq!(o.code, 0, "{args:?}: {o:?}");
        assert!(o.stdout.contains("Usage:"), "{args:?}: {o:?}");
    }
    assert!(!office.db().exists(), "help never touches the database");
}

#[test]
fn clerk_sends_a_code_by_sms_and_neither_token_nor_code_is_printed_or_stored() {
    let server = TwilioServer::start("none");
    // Trace level: everything any library logs is searched too.
    let office = Office::logging("trace");
    office.add_customer("WB-7", "(415) 555-0132");
    let o = office.ok(&["sms", "accounts", "list"]);
    assert!(o.stdout.contains("SMS is not set up"), "{o:?}");
    let o = office.run(&["otp", "send", "--account", "WB-7", "--channel", "sms"]);
    assert_eq!(o.code, 4, "{o:?}");
    assert!(o.stderr.contains("SMS is not set up"), "{o:?}");

    office.add_twilio(&server);
    let o = office.ok(&["sms", "accounts", "list"]);
    assert!(o.stdout.contains("* Office Twilio"), "{o:?}");
    assert!(o.stdout.contains("(auth token set)"), "{o:?}");
    let o = office.ok(&["sms", "accounts", "list", "--json"]);
    assert_eq!(json(&o)[0]["token_set"], true);
    assert_eq!(json(&o)[0]["account"]["from_number"], FROM_NUMBER);

    let o = office.ok(&[
        "otp",
        "send",
        "--account",
        "WB-7",
        "--channel",
        "sms",
        "--track",
    ]);
    assert!(
        o.stdout.contains("Sent to +1 …0132 via Office Twilio"),
        "{o:?}"
    );
    assert!(o.stdout.contains("SMS status: delivered"), "{o:?}");
    assert!(o.stderr.contains("sms status: queued"), "{o:?}");
    assert!(o.stderr.contains("delivery: sent on try 1"), "{o:?}");
    let code = server.code_in_last_message();
    assert_eq!(server.sends()[0]["form"]["To"], "+14155550132");

    let challenge = o
        .stdout
        .split("challenge ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap()
        .to_string();
    office.ok(&["otp", "verify", "--challenge", &challenge, &code]);

    let o = office.ok(&[
        "test-sms",
        "--account",
        "Office Twilio",
        "--to",
        "+1 415 555 0100",
    ]);
    for step in ["account", "number", "render", "request", "status"] {
        assert!(o.stdout.contains(step), "{step}: {o:?}");
    }
    let o = office.ok(&["audit", "export"]);
    assert!(o.stdout.contains("code_sent"), "{o:?}");
    assert!(o.stdout.contains("auth token for sms account"), "{o:?}");
    assert!(server.violations().is_empty(), "{:?}", server.violations());

    for file in [
        office.db(),
        PathBuf::from(format!("{}-wal", office.db().display())),
    ] {
        assert!(!contains(&file, &code), "code in {}", file.display());
        assert!(!contains(&file, AUTH_TOKEN), "token in {}", file.display());
    }
    let printed = office.printed.borrow();
    assert!(
        printed.contains("TRACE") || printed.contains("DEBUG"),
        "logs were captured"
    );
    assert!(!printed.contains(&code), "the code was printed");
    assert!(!printed.contains(AUTH_TOKEN), "the token was printed");
    assert!(
        contains(&office.dir.path().join("secrets.json"), AUTH_TOKEN),
        "the token went to the secret store"
    );
}

#[test]
fn a_landline_gets_no_code_and_no_request() {
    let server = TwilioServer::start("none");
    let office = Office::new();
    office.add_twilio(&server);
    office.add_customer("WB-9", "+44 20 7946 0958");
    let o = office.run(&["otp", "send", "--account", "WB-9", "--channel", "sms"]);
    assert_eq!(o.code, 3, "{o:?}");
    assert!(o.stderr.contains("not a valid phone number"), "{o:?}");
    assert!(server.requests().is_empty());
}

#[test]
fn a_refused_send_exits_5_with_twilios_reason() {
    let server = TwilioServer::start("reject-21610");
    let office = Office::new();
    office.add_twilio(&server);
    office.add_customer("WB-7", "(415) 555-0132");
    let o = office.run(&["otp", "send", "--account", "WB-7", "--channel", "sms"]);
    assert_eq!(o.code, 5, "{o:?}");
    assert!(o.stderr.contains("replied STOP"), "{o:?}");
    assert!(
        o.stderr.contains("cancelled; you can send again now"),
        "{o:?}"
    );
}

#[test]
fn a_console_sms_account_prints_the_text_for_development() {
    let office = Office::new();
    office.ok(&[
        "sms", "accounts", "add", "--name", "Dev", "--kind", "console",
    ]);
    office.add_customer("WB-7", "(415) 555-0132");
    let o = office.ok(&["otp", "send", "--account", "WB-7", "--channel", "sms"]);
    assert!(o.stderr.contains("console SMS (development only"), "{o:?}");
    assert!(
        o.stderr.contains("is your OTP Desk verification code"),
        "{o:?}"
    );
    let o = office.ok(&["test-sms", "--account", "Dev", "--to", "(415) 555-0100"]);
    assert!(o.stderr.contains("OTP Desk test message: 123456"), "{o:?}");
}

#[test]
fn the_sms_text_is_shown_checked_saved_previewed_and_reset() {
    let office = Office::new();
    let o = office.ok(&["sms", "template", "show"]);
    assert!(
        o.stdout.contains("{{ code }} is your {{ company_name }}"),
        "{o:?}"
    );
    assert!(o.stdout.contains("1 text message(s)"), "{o:?}");
    let draft = office.file("sms.txt", "{{ company_name }} code: {{ code }}".as_bytes());
    let o = office.ok(&["sms", "template", "preview", "--text", &draft]);
    assert!(o.stdout.contains("OTP Desk code: 123456"), "{o:?}");
    office.ok(&["sms", "template", "set", &draft]);
    let o = office.ok(&["sms", "template", "show", "--json"]);
    assert_eq!(json(&o)["customized"], true);
    assert_eq!(json(&o)["preview"]["segments"], 1);
    office.ok(&["sms", "template", "reset"]);
    let o = office.ok(&["sms", "template", "show", "--json"]);
    assert_eq!(json(&o)["customized"], false);
}

#[test]
fn hostile_sms_template_input_is_refused_with_exit_3() {
    let office = Office::new();
    let cases: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"   ".to_vec(),
        format!("{{{{ code }}}} {}", "a".repeat(500)).into_bytes(),
        "{{ code }}".repeat(200_000).into_bytes(),
        b"{{ code }} {{ secret_key }}".to_vec(),
        b"{{ customer_name }} only".to_vec(),
        "{{ code }} \u{202E}".as_bytes().to_vec(),
        b"{{ code }}\r\nBcc: x'; DROP TABLE sms_templates;--{{ nope }}".to_vec(),
        b"{{ code }} <script>{% include 'x' %}</script>".to_vec(),
        b"{{ code }} \xff\xfe".to_vec(),
        b"{% for".to_vec(),
    ];
    for (i, body) in cases.iter().enumerate() {
        let f = office.file(&format!("bad{i}"), body);
        let o = office.run(&["sms", "template", "set", &f]);
        assert_eq!(o.code, 3, "case {i}: {o:?}");
        let o = office.run(&["sms", "template", "preview", "--text", &f]);
        assert_eq!(o.code, 3, "case {i}: {o:?}");
    }
    let o = office.run_with_stdin(&["sms", "template", "set", "-"], "");
    assert_eq!(o.code, 3, "{o:?}");
    let o = office.run(&["mail", "template", "set", "sms", "-"]);
    assert_eq!(o.code, 2, "the SMS text has its own commands: {o:?}");
    let o = office.ok(&["sms", "template", "show", "--json"]);
    assert_eq!(json(&o)["customized"], false, "nothing was saved");
}

#[test]
fn hostile_sms_account_arguments_are_refused_and_nothing_is_saved() {
    let office = Office::new();
    // As long as one argument may be (Linux allows 128 KiB); megabytes come in through files
    // and standard input below.
    let huge = "x".repeat(100_000);
    let add = |name: &str, kind: &str, sid: &str, from: &str, mg: &str, base: &str| -> Out {
        let mut args = vec!["sms", "accounts", "add", "--name", name, "--kind", kind];
        for (flag, v) in [
            ("--account-sid", sid),
            ("--from", from),
            ("--messaging-service", mg),
            ("--api-base", base),
        ] {
            if !v.is_empty() {
                args.extend([flag, v]);
            }
        }
        office.run(&args)
    };
    let mg = "MG9752274e9e519418a7406176694466fa";
    let cases: Vec<(&str, &str, &str, &str, &str, &str)> = vec![
        ("", "twilio", ACCOUNT_SID, FROM_NUMBER, "", ""),
        (&huge, "twilio", ACCOUNT_SID, FROM_NUMBER, "", ""),
        ("A\r\nB", "twilio", ACCOUNT_SID, FROM_NUMBER, "", ""),
        ("<script>", "twilio", ACCOUNT_SID, FROM_NUMBER, "", ""),
        (
            "x'; DROP TABLE sms_accounts;--",
            "twilio",
            ACCOUNT_SID,
            FROM_NUMBER,
            "",
            "",
        ),
        ("T\u{202E}", "twilio", ACCOUNT_SID, FROM_NUMBER, "", ""),
        ("T", "pigeon", ACCOUNT_SID, FROM_NUMBER, "", ""),
        ("T", "twilio", "", FROM_NUMBER, "", ""),
        ("T", "twilio", "AC123", FROM_NUMBER, "", ""),
        ("T", "twilio", &huge, FROM_NUMBER, "", ""),
        ("T", "twilio", "AC'; DROP TABLE x;--", FROM_NUMBER, "", ""),
        ("T", "twilio", ACCOUNT_SID, "", "", ""),
        ("T", "twilio", ACCOUNT_SID, FROM_NUMBER, mg, ""),
        ("T", "twilio", ACCOUNT_SID, "+1 555\r\n0100", "", ""),
        ("T", "twilio", ACCOUNT_SID, "<b>+15017122661</b>", "", ""),
        ("T", "twilio", ACCOUNT_SID, "\u{202E}+15017122661", "", ""),
        ("T", "twilio", ACCOUNT_SID, &huge, "", ""),
        ("T", "twilio", ACCOUNT_SID, "", "MG123", ""),
        (
            "T",
            "twilio",
            ACCOUNT_SID,
            FROM_NUMBER,
            "",
            "http://api.twilio.com",
        ),
        (
            "T",
            "twilio",
            ACCOUNT_SID,
            FROM_NUMBER,
            "",
            "https://x.example.com\r\nHost: y",
        ),
        ("T", "twilio", ACCOUNT_SID, FROM_NUMBER, "", &huge),
        ("T", "console", ACCOUNT_SID, "", "", ""),
    ];
    for (name, kind, sid, from, mg, base) in &cases {
        let o = add(name, kind, sid, from, mg, base);
        assert_eq!(
            o.code,
            3,
            "{:?}: {o:?}",
            [name, kind, sid, from, mg, base].map(|s| s.chars().take(30).collect::<String>())
        );
    }
    let o = office.ok(&["sms", "accounts", "list", "--json"]);
    assert_eq!(json(&o).as_array().unwrap().len(), 0, "nothing was saved");

    // An account to aim at: hostile updates and tokens.
    let o = add("Office Twilio", "twilio", ACCOUNT_SID, FROM_NUMBER, "", "");
    assert_eq!(o.code, 0, "{o:?}");
    for args in [
        vec!["--account-sid", "AC123"],
        vec!["--from", "<script>"],
        vec!["--messaging-service", "MG\r\n"],
        vec!["--api-base", "ftp://x"],
    ] {
        let mut a = vec!["sms", "accounts", "update", "Office Twilio"];
        a.extend(args.iter());
        let o = office.run(&a);
        assert_eq!(o.code, 3, "{args:?}: {o:?}");
    }
    let o = office.run(&[
        "sms",
        "accounts",
        "update",
        "Office Twilio",
        "--from",
        FROM_NUMBER,
        "--messaging-service",
        mg,
    ]);
    assert_eq!(o.code, 2, "{o:?}");
    let o = office.run(&["sms", "accounts", "set-token", "Office Twilio", AUTH_TOKEN]);
    assert_eq!(o.code, 2, "no token argument exists: {o:?}");
    for stdin in [
        b"".to_vec(),
        b"\n".to_vec(),
        b"5f2b8c1e9a7d\r\n4f3b6e0c2a8d1f9b7e4c".to_vec(),
        b"<script>alert(1)</script>".to_vec(),
        b"\xff\xfe\xfd5f2b8c1e9a7d4f3b6e0c2a8d".to_vec(),
        "t".repeat(1_000_000).into_bytes(),
    ] {
        let o = office.run_bytes(&["sms", "accounts", "set-token", "Office Twilio"], &stdin);
        assert_eq!(
            o.code,
            3,
            "{:?}: {o:?}",
            String::from_utf8_lossy(&stdin[..stdin.len().min(30)])
        );
    }
    let o = office.ok(&["sms", "accounts", "list", "--json"]);
    assert_eq!(json(&o)[0]["token_set"], false);
    // A console account takes no token.
    office.ok(&[
        "sms", "accounts", "add", "--name", "Dev", "--kind", "console",
    ]);
    let o = office.run_with_stdin(
        &["sms", "accounts", "set-token", "Dev"],
        &format!("{AUTH_TOKEN}\n"),
    );
    assert_eq!(o.code, 3, "{o:?}");

    // Names that do not exist: exit 4, whatever they hold.
    office.add_customer("WB-7", "(415) 555-0132");
    for name in [
        "",
        "nope",
        "'; DROP TABLE sms_accounts;--",
        "\u{202E}x",
        huge.as_str(),
    ] {
        for cmd in ["remove", "set-default", "update"] {
            let o = office.run(&["sms", "accounts", cmd, name]);
            assert_eq!(o.code, 4, "{cmd}: {o:?}");
        }
        let o = office.run_with_stdin(
            &["sms", "accounts", "set-token", name],
            &format!("{AUTH_TOKEN}\n"),
        );
        assert_eq!(o.code, 4, "{o:?}");
        let o = office.run(&["test-sms", "--account", name, "--to", "+14155550100"]);
        assert_eq!(o.code, 4, "{o:?}");
        let o = office.run(&[
            "otp",
            "send",
            "--account",
            "WB-7",
            "--channel",
            "sms",
            "--via",
            name,
        ]);
        assert_eq!(o.code, 4, "{o:?}");
    }
}

#[test]
fn hostile_test_sms_numbers_are_refused_before_any_request() {
    let server = TwilioServer::start("none");
    let office = Office::new();
    office.add_twilio(&server);
    // As long as one argument may be (Linux allows 128 KiB).
    let huge = "5".repeat(100_000);
    for to in [
        "",
        "12",
        "+44 20 7946 0958",
        "+1 415 555 0100\r\nX: y",
        "<script>alert(1)</script>",
        "'; DROP TABLE codes;--",
        "\u{202E}+14155550100",
        huge.as_str(),
    ] {
        let o = office.run(&["test-sms", "--account", "Office Twilio", "--to", to]);
        assert_eq!(
            o.code,
            3,
            "{:?}: {o:?}",
            to.chars().take(30).collect::<String>()
        );
        assert!(o.stdout.contains("FAIL number"), "{o:?}");
    }
    assert!(server.requests().is_empty());
    office.add_customer("WB-7", "(415) 555-0132");
    let o = office.run(&[
        "otp",
        "send",
        "--account",
        "WB-7",
        "--channel",
        "email",
        "--track",
    ]);
    assert_eq!(o.code, 3, "--track is for SMS: {o:?}");
}
