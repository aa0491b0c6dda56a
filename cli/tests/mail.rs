//! Mail from a terminal: accounts, templates, `otp send` to the outbox, `test-mail`. Real
//! binary, real database file; secrets in a file store (OTP_DESK_SECRETS=file:…). Every run
//! logs at debug level, and the tests search everything printed for the code and passwords.

mod common;

use common::Out;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

struct Office {
    dir: tempfile::TempDir,
    /// Everything every run printed, for the leak searches.
    printed: std::cell::RefCell<String>,
}

impl Office {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            printed: Default::default(),
        }
    }

    fn db(&self) -> PathBuf {
        common::db(self.dir.path())
    }

    fn outbox(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }

    fn cli(&self) -> Command {
        common::command(self.dir.path(), "debug")
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Out {
        let out: Out = self
            .cli()
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

    fn run(&self, args: &[&str]) -> Out {
        self.run_with_stdin(args, "")
    }

    fn ok(&self, args: &[&str]) -> Out {
        let o = self.run(args);
        assert_eq!(o.code, 0, "{args:?}: {o:?}");
        o
    }

    fn file(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    fn add_customer(&self, name: &str) {
        self.ok(&[
            "customers",
            "add",
            "--account",
            "WB-7",
            "--name",
            name,
            "--email",
            "jo.smith@example.com",
        ]);
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

fn emls(folder: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(folder)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    v.sort();
    v
}

/// The code as the customer reads it: the 6-digit line of the plain-text part.
fn code_in_eml(path: &Path) -> String {
    let raw = std::fs::read_to_string(path).unwrap();
    raw.lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code line in {raw}"))
        .to_string()
}

#[test]
fn every_mail_command_has_help() {
    let office = Office::new();
    for cmd in [
        &["mail"][..],
        &["mail", "accounts"],
        &["mail", "accounts", "list"],
        &["mail", "accounts", "add"],
        &["mail", "accounts", "remove"],
        &["mail", "accounts", "set-default"],
        &["mail", "accounts", "set-password"],
        &["mail", "template"],
        &["mail", "template", "show"],
        &["mail", "template", "set"],
        &["mail", "template", "reset"],
        &["mail", "template", "preview"],
        &["otp", "send"],
        &["test-mail"],
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
fn clerk_sends_a_code_to_the_outbox_and_nothing_prints_or_stores_it() {
    let office = Office::new();
    office.add_customer("<script>alert(1)</script>");
    // A server account with a password, to prove the password never comes back out.
    office.ok(&[
        "mail",
        "accounts",
        "add",
        "--name",
        "Office SMTP",
        "--kind",
        "smtp",
        "--host",
        "mail.example.com",
        "--port",
        "587",
        "--security",
        "starttls",
        "--username",
        "desk",
        "--from",
        "desk@example.com",
        "--from-name",
        "Acme Billing",
    ]);
    let password = "Correct-Horse-Battery-9";
    let o = office.run_with_stdin(
        &["mail", "accounts", "set-password", "Office SMTP"],
        &format!("{password}\n"),
    );
    assert_eq!(o.code, 0, "{o:?}");
    let o = office.ok(&["mail", "accounts", "list"]);
    assert!(o.stdout.contains("* Local outbox"), "{o:?}");
    assert!(o.stdout.contains("(password set)"), "{o:?}");
    let o = office.ok(&["mail", "accounts", "list", "--json"]);
    assert_eq!(json(&o)[1]["password_set"], true);

    let o = office.ok(&["otp", "send", "--account", "WB-7", "--channel", "email"]);
    assert!(
        o.stdout
            .contains("Sent to jo…@example.com via Local outbox"),
        "{o:?}"
    );
    let files = emls(&office.outbox());
    assert_eq!(files.len(), 1, "{o:?}");
    assert!(o.stdout.contains(&files[0].display().to_string()), "{o:?}");
    let raw = std::fs::read_to_string(&files[0]).unwrap();
    assert!(raw.contains("multipart/alternative"));
    assert!(raw.contains("Subject: Your OTP Desk verification code"));
    assert!(raw.contains("&lt;script&gt;"), "{raw}");
    let code = code_in_eml(&files[0]);

    // The customer reads it out.
    let challenge = o
        .stdout
        .split("challenge ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap()
        .to_string();
    office.ok(&["otp", "verify", "--challenge", &challenge, &code]);

    let o = office.ok(&["audit", "export"]);
    assert!(o.stdout.contains("code_sent"), "{o:?}");

    for file in [
        office.db(),
        PathBuf::from(format!("{}-wal", office.db().display())),
    ] {
        assert!(!contains(&file, &code), "code in {}", file.display());
        assert!(!contains(&file, password), "password in {}", file.display());
    }
    let printed = office.printed.borrow();
    assert!(
        printed.contains("DEBUG") || printed.contains("Sent to"),
        "output was captured"
    );
    assert!(!printed.contains(&code), "the code was printed: {printed}");
    assert!(!printed.contains(password), "the password was printed");
}

#[test]
fn a_failed_send_cancels_the_code_and_exits_5_and_a_retry_works_at_once() {
    let office = Office::new();
    office.add_customer("Jo Smith");
    let blocker = office.file("blocker", "a file, not a folder");
    let folder = format!("{blocker}/outbox");
    office.ok(&[
        "mail",
        "accounts",
        "add",
        "--name",
        "Shared",
        "--kind",
        "outbox",
        "--from",
        "desk@example.com",
        "--folder",
        &folder,
    ]);
    office.ok(&["mail", "accounts", "set-default", "Shared"]);
    let o = office.run(&["otp", "send", "--account", "WB-7", "--channel", "email"]);
    assert_eq!(o.code, 5, "{o:?}");
    assert!(
        o.stderr.contains("cancelled; you can send again now"),
        "{o:?}"
    );
    assert!(o.stderr.contains("not set up completely"), "{o:?}");
    std::fs::remove_file(&blocker).unwrap();
    office.ok(&["otp", "send", "--account", "WB-7", "--channel", "email"]);
    assert_eq!(emls(Path::new(&folder)).len(), 1);
}

#[test]
fn test_mail_reports_each_step() {
    let office = Office::new();
    let o = office.ok(&[
        "test-mail",
        "--account",
        "Local outbox",
        "--to",
        "admin@example.com",
    ]);
    for step in ["account", "render", "deliver"] {
        assert!(o.stdout.contains(step), "{o:?}");
    }
    assert!(o.stdout.contains(" ms"), "{o:?}");
    let files = emls(&office.outbox());
    assert_eq!(files.len(), 1);
    assert!(std::fs::read_to_string(&files[0])
        .unwrap()
        .contains("[Test]"));

    office.ok(&[
        "mail",
        "accounts",
        "add",
        "--name",
        "Dev",
        "--kind",
        "console",
        "--from",
        "desk@example.com",
    ]);
    let o = office.ok(&["test-mail", "--account", "Dev", "--to", "admin@example.com"]);
    assert!(o.stderr.contains("development only"), "{o:?}");
    assert!(o.stderr.contains("Subject: [Test]"), "{o:?}");

    // A server account without a password is refused before any connection, exit 5.
    office.ok(&[
        "mail",
        "accounts",
        "add",
        "--name",
        "Gmail",
        "--kind",
        "gmail",
        "--username",
        "office@gmail.com",
        "--from",
        "office@gmail.com",
    ]);
    let o = office.run(&[
        "test-mail",
        "--account",
        "Gmail",
        "--to",
        "admin@example.com",
    ]);
    assert_eq!(o.code, 5, "{o:?}");
    assert!(o.stdout.contains("FAIL"), "{o:?}");
}

#[test]
fn templates_are_checked_saved_previewed_and_reset() {
    let office = Office::new();
    let o = office.ok(&["mail", "template", "show"]);
    assert!(
        o.stdout.contains("{{ code }}") && o.stdout.contains("customer_name"),
        "{o:?}"
    );
    let html = office.file(
        "t.html",
        "<h1>{{ company_name }}</h1><p>{{ customer_name }}: <b>{{ code }}</b></p>",
    );
    office.ok(&["mail", "template", "set", "html", &html]);
    office.ok(&["settings", "set", "company_name", "<Acme & Co>"]);
    let o = office.ok(&["mail", "template", "preview"]);
    assert!(o.stdout.contains("<h1>&lt;Acme &amp; Co&gt;</h1>"), "{o:?}");
    assert!(o.stdout.contains("123456"), "{o:?}");
    let draft = office.file("s.txt", "Hello from {{ company_name }}");
    let o = office.ok(&["mail", "template", "preview", "--subject", &draft]);
    assert!(
        o.stdout.contains("Subject: Hello from <Acme & Co>"),
        "{o:?}"
    );
    let o = office.ok(&["mail", "template", "show", "--part", "html", "--json"]);
    assert_eq!(json(&o)["customized"][0], "html");
    office.ok(&["mail", "template", "reset", "html"]);
    let o = office.ok(&["mail", "template", "show", "--json"]);
    assert_eq!(json(&o)["customized"].as_array().unwrap().len(), 0);
}

#[test]
fn hostile_template_input_is_refused_with_exit_3() {
    let office = Office::new();
    let huge = "{{ code }}".repeat(30_000);
    let cases: Vec<(&str, String)> = vec![
        ("subject", String::new()),
        ("subject", "Hi\r\nBcc: all@example.com".into()),
        ("subject", "x".repeat(201)),
        ("subject", "Code {{ code }}".into()),
        ("text", "   ".into()),
        ("text", huge.clone()),
        ("html", "{{ code }} {{ config }}".into()),
        ("html", "{{ code }} {{ customer_name|safe }}".into()),
        ("html", "{{ code }} {% include '/etc/passwd' %}".into()),
        (
            "html",
            "{{ code }}'; DROP TABLE mail_templates;--{{ nope }}".into(),
        ),
        ("text", "{{ code }} \u{202E}".into()),
        ("text", "{% for".into()),
    ];
    for (i, (part, body)) in cases.iter().enumerate() {
        let f = office.file(&format!("bad{i}"), body);
        let o = office.run(&["mail", "template", "set", part, &f]);
        assert_eq!(o.code, 3, "{part} {:?}: {o:?}", &body[..body.len().min(40)]);
    }
    let o = office.run(&["mail", "template", "set", "footer", "-"]);
    assert_eq!(o.code, 2, "{o:?}");
    let o = office.run(&["mail", "template", "set", "text", "/no/such/file"]);
    assert_eq!(o.code, 5, "{o:?}");
    let o = office.ok(&["mail", "template", "show", "--json"]);
    assert_eq!(
        json(&o)["customized"].as_array().unwrap().len(),
        0,
        "nothing was saved"
    );
    // Invalid UTF-8.
    let p = office.dir.path().join("latin1");
    std::fs::write(&p, b"{{ code }} \xff\xfe").unwrap();
    let o = office.run(&["mail", "template", "set", "text", &p.display().to_string()]);
    assert_eq!(o.code, 3, "{o:?}");
}

#[test]
fn hostile_account_input_is_refused_and_nothing_is_saved() {
    let office = Office::new();
    let huge = "x".repeat(100_000);
    let base = |name: &str, from: &str, from_name: &str| -> Vec<String> {
        [
            "mail",
            "accounts",
            "add",
            "--name",
            name,
            "--kind",
            "outbox",
            "--from",
            from,
            "--from-name",
            from_name,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let cases = vec![
        base("", "desk@example.com", ""),
        base(&huge, "desk@example.com", ""),
        base("A\r\nB", "desk@example.com", ""),
        base("<script>", "desk@example.com", ""),
        base("x'; DROP TABLE mail_accounts;--", "desk@example.com", ""),
        base("Desk\u{202E}", "desk@example.com", ""),
        base("Desk", "", ""),
        base("Desk", "desk@example.com\r\nBcc: all@example.com", ""),
        base("Desk", "<b>@example.com", ""),
        base("Desk", "desk@example.com", "Desk\r\nBcc: all@example.com"),
        base("Desk", "desk@example.com", "\u{202E}kseD"),
        base("Desk", "desk@example.com", &huge),
        base("Local outbox", "desk@example.com", ""),
        base("local_OUTBOX", "desk@example.com", ""),
    ];
    for args in &cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = office.run(&a);
        assert_eq!(
            o.code,
            3,
            "{:?}: {o:?}",
            &args[4].chars().take(30).collect::<String>()
        );
    }
    let smtp = |host: &str, port: &str, sec: &str| -> Out {
        office.run(&[
            "mail",
            "accounts",
            "add",
            "--name",
            "S",
            "--kind",
            "smtp",
            "--host",
            host,
            "--port",
            port,
            "--security",
            sec,
            "--from",
            "desk@example.com",
        ])
    };
    for (host, port, sec) in [
        ("mail.example.com", "465", "starttls"),
        ("mail.example.com", "587", "tls"),
        ("mail.example.com", "25", "none"),
        ("", "587", "starttls"),
        ("mail.example.com\r\nX", "587", "starttls"),
        ("mail.example.com", "0", "starttls"),
        ("mail.example.com", "587", "<b>"),
    ] {
        let o = smtp(host, port, sec);
        assert_eq!(o.code, 3, "{host:?} {port} {sec}: {o:?}");
    }
    let o = smtp("mail.example.com", "587; rm -rf", "starttls");
    assert_eq!(o.code, 2, "{o:?}");
    let o = office.run(&[
        "mail",
        "accounts",
        "add",
        "--name",
        "K",
        "--kind",
        "pigeon",
        "--from",
        "a@example.com",
    ]);
    assert_eq!(o.code, 3, "{o:?}");

    let o = office.ok(&["mail", "accounts", "list", "--json"]);
    assert_eq!(
        json(&o).as_array().unwrap().len(),
        1,
        "only the default account: {o:?}"
    );

    // Names that do not exist, and the default, are refused with exit 4.
    for name in [
        "",
        "nope",
        "'; DROP TABLE mail_accounts;--",
        "\u{202E}x",
        &huge,
    ] {
        let o = office.run(&["mail", "accounts", "set-default", name]);
        assert_eq!(o.code, 4, "{o:?}");
        let o = office.run(&["mail", "accounts", "remove", name]);
        assert_eq!(o.code, 4, "{o:?}");
    }
    let o = office.run(&["mail", "accounts", "remove", "Local outbox"]);
    assert_eq!(o.code, 4, "{o:?}");
    assert!(
        o.stderr.contains("make another account the default first"),
        "{o:?}"
    );
}

#[test]
fn passwords_come_only_from_stdin_and_are_checked() {
    let office = Office::new();
    office.ok(&[
        "mail",
        "accounts",
        "add",
        "--name",
        "Gmail",
        "--kind",
        "gmail",
        "--username",
        "office@gmail.com",
        "--from",
        "office@gmail.com",
    ]);
    let o = office.run(&["mail", "accounts", "set-password", "Gmail", "hunter2"]);
    assert_eq!(o.code, 2, "no password argument exists: {o:?}");
    let o = office.run_with_stdin(&["mail", "accounts", "set-password", "Gmail"], "");
    assert_eq!(o.code, 3, "an empty password is refused: {o:?}");
    assert!(o.stderr.contains("empty"), "{o:?}");
    let o = office.run_with_stdin(
        &["mail", "accounts", "set-password", "Gmail"],
        &"p".repeat(100_000),
    );
    assert_eq!(o.code, 3, "{o:?}");
    assert!(o.stderr.contains("too long"), "{o:?}");
    let o = office.run_with_stdin(
        &["mail", "accounts", "set-password", "Local outbox"],
        "pw\n",
    );
    assert_eq!(o.code, 3, "an outbox has no password: {o:?}");
    let o = office.run_with_stdin(&["mail", "accounts", "set-password", "Nope"], "pw\n");
    assert_eq!(o.code, 4, "{o:?}");
    let o = office.run_with_stdin(
        &["mail", "accounts", "set-password", "Gmail"],
        "app-pass-1234\r\n",
    );
    assert_eq!(o.code, 0, "{o:?}");
    let secrets = std::fs::read_to_string(office.dir.path().join("secrets.json")).unwrap();
    assert!(
        secrets.contains("\"smtp:Gmail\": \"app-pass-1234\""),
        "{secrets}"
    );
    office.ok(&["mail", "accounts", "set-password", "Gmail", "--delete"]);
    let o = office.ok(&["mail", "accounts", "list"]);
    assert!(o.stdout.contains("(no password yet)"), "{o:?}");
    office.ok(&["mail", "accounts", "remove", "Gmail"]);
}

#[test]
fn hostile_send_and_test_mail_arguments_are_refused() {
    let office = Office::new();
    office.add_customer("Jo Smith");
    let huge = "x".repeat(100_000);
    for account in ["", "nope", "WB-7'; --", "\u{202E}7-BW", &huge] {
        let o = office.run(&["otp", "send", "--account", account, "--channel", "email"]);
        assert_eq!(o.code, 4, "{o:?}");
    }
    let o = office.run(&["otp", "send", "--account", "WB-7", "--channel", "pigeon"]);
    assert_eq!(o.code, 2, "{o:?}");
    let o = office.run(&["otp", "send", "--account", "WB-7", "--channel", "sms"]);
    assert_eq!(o.code, 4, "{o:?}");
    let o = office.run(&[
        "otp",
        "send",
        "--account",
        "WB-7",
        "--channel",
        "email",
        "--via",
        "<b>",
    ]);
    assert_eq!(o.code, 4, "{o:?}");
    for to in [
        "",
        "not-an-address",
        "a@example.com\r\nBcc: b@example.com",
        "<script>@x.com",
        &huge,
    ] {
        let o = office.run(&["test-mail", "--account", "Local outbox", "--to", to]);
        assert_eq!(o.code, 3, "{o:?}");
    }
    let o = office.run(&[
        "test-mail",
        "--account",
        "'; DROP TABLE codes;--",
        "--to",
        "a@example.com",
    ]);
    assert_eq!(o.code, 4, "{o:?}");
    assert!(emls(&office.outbox()).is_empty());
}

#[test]
fn hostile_folders_certificates_and_drafts_are_refused() {
    let office = Office::new();
    let huge = "x".repeat(100_000);
    for folder in ["/tmp/out\r\nbox", "/tmp/\u{202E}xobtuo", huge.as_str()] {
        let o = office.run(&[
            "mail",
            "accounts",
            "add",
            "--name",
            "F",
            "--kind",
            "outbox",
            "--from",
            "desk@example.com",
            "--folder",
            folder,
        ]);
        assert_eq!(o.code, 3, "{o:?}");
    }
    // A folder on a console account, a certificate on an outbox: refused with the reason.
    let o = office.run(&[
        "mail",
        "accounts",
        "add",
        "--name",
        "C",
        "--kind",
        "console",
        "--from",
        "desk@example.com",
        "--folder",
        "/tmp/x",
    ]);
    assert_eq!(o.code, 3, "{o:?}");
    let not_pem = office.file("ca.pem", "<script>alert(1)</script>");
    let o = office.run(&[
        "mail",
        "accounts",
        "add",
        "--name",
        "S",
        "--kind",
        "smtp",
        "--host",
        "mail.example.com",
        "--port",
        "587",
        "--security",
        "starttls",
        "--from",
        "desk@example.com",
        "--ca-file",
        &not_pem,
    ]);
    assert_eq!(o.code, 3, "{o:?}");
    let big_pem = office.file("big.pem", &"A".repeat(70_000));
    let o = office.run(&[
        "mail",
        "accounts",
        "add",
        "--name",
        "S",
        "--kind",
        "smtp",
        "--host",
        "mail.example.com",
        "--port",
        "587",
        "--security",
        "starttls",
        "--from",
        "desk@example.com",
        "--ca-file",
        &big_pem,
    ]);
    assert_eq!(o.code, 3, "{o:?}");
    for draft in ["", "Hi\r\nBcc: x@example.com", "{{ code }}", "{{ nope }}"] {
        let f = office.file("draft", draft);
        let o = office.run(&["mail", "template", "preview", "--subject", &f]);
        assert_eq!(o.code, 3, "{draft:?}: {o:?}");
    }
    let f = office.file("draft", "{{ customer_name }} only");
    let o = office.run(&["mail", "template", "preview", "--html", &f]);
    assert_eq!(o.code, 3, "the code must be in the HTML part: {o:?}");
    for name in [
        "",
        "'; DROP TABLE mail_accounts;--",
        "\u{202E}x",
        huge.as_str(),
    ] {
        let o = office.run_with_stdin(&["mail", "accounts", "set-password", name], "pw\n");
        assert_eq!(o.code, 4, "{o:?}");
    }
    let o = office.ok(&["mail", "accounts", "list", "--json"]);
    assert_eq!(json(&o).as_array().unwrap().len(), 1, "{o:?}");
}
