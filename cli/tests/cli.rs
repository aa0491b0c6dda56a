//! The CLI as an admin or a script uses it: real binary, real database file, exit codes and
//! output checked. Secrets go to a file store here (OTP_DESK_SECRETS=file:…); the keyring
//! tests below use the real Secret Service.

mod common;

use common::Out;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

struct Office {
    dir: tempfile::TempDir,
}

impl Office {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn db(&self) -> PathBuf {
        common::db(self.dir.path())
    }

    fn secrets(&self) -> PathBuf {
        common::secrets(self.dir.path())
    }

    fn cli(&self) -> Command {
        common::command(self.dir.path(), "debug")
    }

    fn run(&self, args: &[&str]) -> Out {
        self.cli().args(args).output().unwrap().into()
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// `otp issue --account ACCOUNT --channel CHANNEL EXTRA...`
    fn issue(&self, account: &str, channel: &str, extra: &[&str]) -> Out {
        let mut args = vec!["otp", "issue", "--account", account, "--channel", channel];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn add_jo(&self) {
        let o = self.run(&[
            "customers",
            "add",
            "--account",
            "WB-7",
            "--name",
            "Jo Smith",
            "--email",
            "jo.smith@example.com",
            "--phone",
            "(415) 555-0132",
        ]);
        assert_eq!(o.code, 0, "{o:?}");
    }
}

/// Debug logs come first on stderr; the error is the last line.
fn last_line(stderr: &str) -> &str {
    stderr.lines().last().unwrap_or_default()
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
fn every_command_has_help() {
    let office = Office::new();
    let commands: &[&[&str]] = &[
        &[],
        &["customers"],
        &["customers", "import"],
        &["customers", "export"],
        &["customers", "search"],
        &["customers", "show"],
        &["customers", "add"],
        &["customers", "edit"],
        &["customers", "delete"],
        &["customers", "sample"],
        &["otp"],
        &["otp", "issue"],
        &["otp", "verify"],
        &["otp", "status"],
        &["cleanup-otps"],
        &["audit"],
        &["audit", "list"],
        &["audit", "export"],
        &["backup"],
        &["settings"],
        &["settings", "list"],
        &["settings", "get"],
        &["settings", "set"],
        &["info"],
    ];
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.push("--help");
        let o = office.run(&args);
        assert_eq!(o.code, 0, "{args:?}: {o:?}");
        assert!(o.stdout.contains("Usage:"), "{args:?}: {o:?}");
    }
    assert!(!office.db().exists(), "help never touches the database");
}

#[test]
fn a_wrong_command_line_exits_2_with_usage() {
    let office = Office::new();
    for args in [
        &[][..],
        &["frobnicate"],
        &["otp", "verify"],
        &["customers", "import"],
        &["otp", "issue", "--account"],
    ] {
        let o = office.run(args);
        assert_eq!(o.code, 2, "{args:?}: {o:?}");
        assert!(
            o.stderr.contains("Usage") || o.stderr.contains("--help"),
            "{args:?}: {o:?}"
        );
    }
}

#[test]
fn admin_adds_finds_edits_and_deletes_a_customer() {
    let office = Office::new();
    office.add_jo();
    let o = office.run(&["customers", "search", "555 01", "--json"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(json(&o)[0]["account_number"], "WB-7");
    let o = office.run(&["customers", "edit", "WB-7", "--email", "jo@example.org"]);
    assert_eq!(o.code, 0, "{o:?}");
    let o = office.run(&["customers", "show", "wb-7", "--json"]);
    assert_eq!(json(&o)["email"], "jo@example.org");
    assert_eq!(json(&o)["phone_e164"], "+14155550132");
    let o = office.run(&["customers", "delete", "WB-7"]);
    assert_eq!(o.code, 0, "{o:?}");
    let o = office.run(&["customers", "show", "WB-7"]);
    assert_eq!(o.code, 4, "{o:?}");
    assert!(
        o.stderr.contains("no customer with account number"),
        "{o:?}"
    );
}

#[test]
fn bad_customer_input_is_refused_with_exit_3_and_nothing_saved() {
    let office = Office::new();
    let long = "x".repeat(100_000);
    let cases: Vec<Vec<&str>> = vec![
        vec!["--account", "", "--name", "Empty Account"],
        vec!["--account", "WB-1", "--name", ""],
        vec![
            "--account",
            "WB-1",
            "--name",
            "Jo",
            "--email",
            "not-an-email",
        ],
        vec![
            "--account",
            "WB-1",
            "--name",
            "Jo",
            "--email",
            "jo@example.com\r\nBcc: all@example.com",
        ],
        vec![
            "--account",
            "WB-1",
            "--name",
            "Jo",
            "--phone",
            "call me maybe",
        ],
        vec!["--account", "WB-1", "--name", &long],
        vec![
            "--account",
            "WB-1'; DROP TABLE customers;--",
            "--name",
            "Bobby",
        ],
        vec!["--account", "WB-1", "--name", "Jo\u{202E}nhoJ"],
    ];
    for case in cases {
        let mut args = vec!["customers", "add"];
        args.extend(case.iter().copied());
        let o = office.run(&args);
        assert_eq!(o.code, 3, "{case:?}: {o:?}");
        let err = last_line(&o.stderr);
        assert!(err.starts_with("error: "), "{o:?}");
        assert!(err.len() < 1000, "errors echo input shortened: {err}");
    }
    let o = office.run(&["customers", "search", "", "--json"]);
    assert_eq!(json(&o), serde_json::json!([]));
    // Stored as text, never interpreted.
    let o = office.run(&[
        "customers",
        "add",
        "--account",
        "WB-2",
        "--name",
        "<script>alert(1)</script>",
    ]);
    assert_eq!(o.code, 0, "{o:?}");
    let o = office.run(&["customers", "search", "WB-2", "--json"]);
    assert_eq!(json(&o)[0]["name"], "<script>alert(1)</script>");
}

#[test]
fn hostile_search_queries_answer_calmly() {
    let office = Office::new();
    office.add_jo();
    let long = "a".repeat(100_000);
    for q in [
        "'; DROP TABLE customers;--",
        "%",
        "_",
        "\"",
        "<b>",
        "\u{202E}",
        "\r\n",
        long.as_str(),
        "   ",
    ] {
        let o = office.run(&["customers", "search", q, "--json"]);
        assert_eq!(o.code, 0, "{q:?}: {o:?}");
        assert!(json(&o).is_array());
    }
    let o = office.run(&["customers", "search", "jo", "--json"]);
    assert_eq!(
        json(&o).as_array().unwrap().len(),
        1,
        "the table is still there"
    );
}

#[test]
fn import_reports_bad_rows_and_all_or_nothing_changes_nothing() {
    let office = Office::new();
    let csv = office.file(
        "customers.csv",
        "\u{feff}Account Number;Name;E-mail;Phone\nWB-1;Ann Able;ann@example.com;415 555 0101\nWB-2;Bad Email;not-an-email;\nWB-3;Cy Cole;cy@example.com;\n".as_bytes(),
    );
    let path = csv.to_str().unwrap();
    let o = office.run(&["customers", "import", path, "--json"]);
    assert_eq!(o.code, 3, "{o:?}");
    let report = json(&o);
    assert_eq!(report["committed"], false);
    assert_eq!(report["rejected"][0]["line"], 3);
    let o = office.run(&["customers", "search", "WB", "--json"]);
    assert_eq!(json(&o), serde_json::json!([]), "nothing half-imported");

    let o = office.run(&["customers", "import", path, "--mode", "skip-invalid"]);
    assert_eq!(
        o.code, 3,
        "a report with rejected rows is not a clean success: {o:?}"
    );
    assert!(o.stdout.contains("line 3"), "{o:?}");
    let o = office.run(&["customers", "search", "WB", "--json"]);
    assert_eq!(json(&o).as_array().unwrap().len(), 2);

    let o = office.run(&["customers", "import", path, "--mode", "sometimes"]);
    assert_eq!(o.code, 2, "{o:?}");
    let o = office.run(&["customers", "import", "/no/such/file.csv"]);
    assert_eq!(o.code, 5, "{o:?}");
    let binary = office.file(
        "photo.csv",
        &[
            0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1, 0xff, 0xfe,
        ],
    );
    let o = office.run(&["customers", "import", binary.to_str().unwrap()]);
    assert_eq!(o.code, 3, "{o:?}");
}

#[test]
fn export_writes_csv_that_imports_back() {
    let office = Office::new();
    office.add_jo();
    let out = office.dir.path().join("out.csv");
    let o = office.run(&["customers", "export", "--output", out.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{o:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.contains("WB-7") && text.contains("jo.smith@example.com"),
        "{text}"
    );
    let other = Office::new();
    let o = other.run(&["customers", "import", out.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{o:?}");
    let o = other.run(&["customers", "show", "WB-7", "--json"]);
    assert_eq!(json(&o)["name"], "Jo Smith");
    let o = office.run(&["customers", "export"]);
    assert!(
        o.stdout
            .trim_start_matches('\u{feff}')
            .starts_with("account_number"),
        "{o:?}"
    );
}

#[test]
fn script_issues_and_verifies_a_code() {
    let office = Office::new();
    office.add_jo();
    let o = office.run(&["otp", "issue", "--account", "WB-7", "--channel", "email"]);
    assert_eq!(o.code, 3, "the code is only printed when asked: {o:?}");
    assert!(o.stderr.contains("--print-code"), "{o:?}");

    let o = office.issue("WB-7", "email", &["--print-code", "--json"]);
    assert_eq!(o.code, 0, "{o:?}");
    let issued = json(&o);
    let code = issued["code"].as_str().unwrap().to_string();
    let challenge = issued["challenge_id"].to_string();
    assert_eq!(issued["sent_to"], "jo…@example.com");
    assert!(!o.stderr.contains(&code), "the code is never logged");

    let wrong: String = code
        .bytes()
        .map(|b| char::from(b'0' + (b - b'0' + 1) % 10))
        .collect();
    let o = office.run(&["otp", "verify", "--challenge", &challenge, &wrong]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stdout.contains("NOT VERIFIED") && o.stdout.contains("4 attempts left"),
        "{o:?}"
    );
    let o = office.run(&["otp", "verify", "--challenge", &challenge, "12ab56"]);
    assert_eq!(o.code, 3, "a typo is an input error, not an attempt: {o:?}");

    let o = office
        .cli()
        .args(["otp", "verify", "--to", "jo.smith@example.com", "-"])
        .write_stdin(format!("{code}\n"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("VERIFIED"));

    let o = office.run(&["otp", "verify", "--challenge", &challenge, &code, "--json"]);
    assert_eq!(o.code, 1);
    assert_eq!(json(&o)["outcome"], "already_used");

    let o = office.run(&["otp", "status", &challenge, "--json"]);
    assert_eq!(json(&o)["state"], "verified");
    assert!(!o.stdout.contains(&code));

    // Policy refusals exit 4 and say when to retry.
    let o = office.issue("WB-7", "email", &["--print-code"]);
    assert_eq!(o.code, 4, "{o:?}");
    assert!(o.stderr.contains("another can be sent at"), "{o:?}");

    // Nothing stored or logged holds the code or the hashing key.
    let key = std::fs::read_to_string(office.secrets()).unwrap();
    let key_value = key.split('"').nth(3).unwrap().to_string();
    assert!(
        key_value.len() >= 40,
        "the key is stored in the secrets file: {key}"
    );
    for file in [
        office.db(),
        PathBuf::from(format!("{}-wal", office.db().display())),
    ] {
        assert!(!contains(&file, &code), "code in {}", file.display());
        assert!(!contains(&file, &key_value), "key in {}", file.display());
    }
    let o = office.run(&["audit", "export"]);
    assert!(!o.stdout.contains(&code) && !o.stdout.contains(&key_value));
    assert!(
        o.stdout.contains("code_revealed"),
        "printing a code is audited: {o:?}"
    );
}

#[test]
fn verify_refuses_bad_targets_clearly() {
    let office = Office::new();
    office.add_jo();
    let o = office.run(&["otp", "verify", "--challenge", "notanumber", "123456"]);
    assert_eq!(o.code, 2, "{o:?}");
    let o = office.run(&["otp", "verify", "--to", "<script>", "123456"]);
    assert_eq!(o.code, 3, "{o:?}");
    let o = office.run(&["otp", "verify", "--challenge", "99", "123456"]);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stdout.contains("no code is waiting"), "{o:?}");
    let o = office.issue("NOPE", "email", &["--print-code"]);
    assert_eq!(o.code, 4, "{o:?}");
    let o = office.issue("WB-7", "fax", &["--print-code"]);
    assert_eq!(o.code, 2, "{o:?}");
    let o = office.issue(
        "WB-7",
        "email",
        &["--to", "other@example.com", "--print-code"],
    );
    assert_eq!(o.code, 4, "{o:?}");
    assert!(o.stderr.contains("contact on file"), "{o:?}");
}

#[test]
fn settings_are_listed_checked_and_audited() {
    let office = Office::new();
    let o = office.run(&["settings", "list"]);
    assert!(
        o.stdout.contains("code_lifetime_minutes") && o.stdout.contains("1–10"),
        "{o:?}"
    );
    let o = office.run(&["settings", "set", "code_lifetime_minutes", "30"]);
    assert_eq!(o.code, 3, "{o:?}");
    assert!(o.stderr.contains("between 1 and 10"), "{o:?}");
    for bad in ["", "1e3", "-5", "3; DROP TABLE settings", "\u{202E}5"] {
        assert_eq!(
            office
                .run(&["settings", "set", "max_attempts", "--", bad])
                .code,
            3,
            "{bad:?}"
        );
    }
    assert_eq!(office.run(&["settings", "get", "nope"]).code, 3);
    let o = office.run(&["settings", "set", "code_lifetime_minutes", "3"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(
        office
            .run(&["settings", "get", "code_lifetime_minutes"])
            .stdout
            .trim(),
        "3"
    );
    let o = office.run(&["audit", "list", "--kind", "setting_changed", "--json"]);
    assert_eq!(json(&o)[0]["detail"], "code_lifetime_minutes: 5 → 3");
    assert_eq!(json(&o)[0]["operator"], "Ann");
}

#[test]
fn audit_filters_and_exports() {
    let office = Office::new();
    office.add_jo();
    office.issue("WB-7", "email", &["--print-code"]);
    office.run(&["otp", "verify", "--to", "jo.smith@example.com", "000000"]);
    let o = office.run(&["audit", "list", "--result", "failed", "--json"]);
    let rows = json(&o);
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["result"] == "failed"),
        "{o:?}"
    );
    let o = office.run(&[
        "audit",
        "list",
        "--account",
        "WB-7",
        "--kind",
        "code_issued",
        "--json",
    ]);
    assert_eq!(json(&o).as_array().unwrap().len(), 1, "{o:?}");
    let o = office.run(&["audit", "list", "--from", "2999-01-01", "--json"]);
    assert_eq!(json(&o), serde_json::json!([]));
    for (args, code) in [
        (vec!["--from", "yesterday"], 2),
        (vec!["--kind", "everything"], 2),
        (vec!["--result", "meh"], 2),
        (vec!["--from", "2026-03-02", "--to", "2026-03-01"], 3),
        (vec!["--account", "NOPE"], 4),
    ] {
        let mut a = vec!["audit", "list"];
        a.extend(args.iter().copied());
        assert_eq!(office.run(&a).code, code, "{a:?}");
    }
    let out = office.dir.path().join("audit.csv");
    let o = office.run(&[
        "audit",
        "export",
        "--output",
        out.to_str().unwrap(),
        "--text",
        "jo…",
    ]);
    assert_eq!(o.code, 0, "{o:?}");
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.starts_with("id,time,event,result,operator"), "{csv}");
    assert!(csv.contains("code_issued"), "{csv}");
}

#[test]
fn cleanup_and_backup_work_from_the_terminal() {
    let office = Office::new();
    office.add_jo();
    let o = office.run(&["cleanup-otps", "--json"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(json(&o)["deleted_codes"], 0);
    assert_eq!(
        office.run(&["cleanup-otps", "--retention-days", "0"]).code,
        3
    );
    assert_eq!(
        office.run(&["cleanup-otps", "--retention-days", "-1"]).code,
        2
    );

    let backup = office.dir.path().join("backup.db");
    let o = office.run(&["backup", backup.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{o:?}");
    let o = office.run(&["backup", backup.to_str().unwrap()]);
    assert_eq!(o.code, 3, "never overwrites: {o:?}");
    let o = office
        .cli()
        .env("OTP_DESK_DB", &backup)
        .args(["customers", "show", "WB-7", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "the backup is a working database");
}

#[test]
fn a_database_path_that_cannot_work_is_an_environment_error() {
    let office = Office::new();
    let not_db = office.file("notes.txt", &b"plain text, not SQLite\n".repeat(100));
    for db in [
        not_db.to_str().unwrap(),
        office.dir.path().to_str().unwrap(),
        "/proc/otp-desk.db",
    ] {
        let o = office
            .cli()
            .env("OTP_DESK_DB", db)
            .args(["customers", "search", "x"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(5), "{db}: {o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(last_line(&err).starts_with("error: "), "{err}");
    }
    let o = office.run(&["--operator", "", "customers", "sample", "--count", "3"]);
    assert_eq!(o.code, 3, "{o:?}");
    let o = office.run(&["--operator", "x\ny", "customers", "sample", "--count", "3"]);
    assert_eq!(o.code, 3, "{o:?}");
    let o = office
        .cli()
        .env("OTP_DESK_SECRETS", "vault:somewhere")
        .args(["otp", "status", "1"])
        .output()
        .unwrap();
    assert_ne!(o.status.code(), Some(0));
}

#[test]
fn info_says_where_things_are() {
    let office = Office::new();
    let o = office.run(&["info", "--json"]);
    assert_eq!(o.code, 0, "{o:?}");
    let info = json(&o);
    assert_eq!(info["database"], office.db().display().to_string());
    assert_eq!(info["customers"], 0);
    assert!(
        info["secrets"].as_str().unwrap().contains("secrets.json"),
        "{info}"
    );
}

#[test]
fn sample_customers_load_once() {
    let office = Office::new();
    let o = office.run(&["customers", "sample", "--count", "10"]);
    assert_eq!(o.code, 0, "{o:?}");
    office.run(&["customers", "sample", "--count", "10"]);
    let out = office.run(&["customers", "export"]);
    assert_eq!(
        out.stdout.lines().count(),
        11,
        "header + 10 customers: {out:?}"
    );
    assert_eq!(office.run(&["customers", "sample", "--count", "0"]).code, 3);
}

// ---------------------------------------------------------------------------------------------
// The real Secret Service (scripts/test runs these inside dbus-run-session with GNOME Keyring)

fn keyring_cli(office: &Office) -> Command {
    let mut c = office.cli();
    c.env_remove("OTP_DESK_SECRETS");
    for var in [
        "DBUS_SESSION_BUS_ADDRESS",
        "XDG_RUNTIME_DIR",
        "GNOME_KEYRING_CONTROL",
    ] {
        if let Some(v) = std::env::var_os(var) {
            c.env(var, v);
        }
    }
    c
}

#[test]
#[ignore = "needs a Secret Service session; scripts/test runs it"]
fn the_hashing_key_lives_in_the_os_keyring() {
    let office = Office::new();
    office.add_jo();
    let o = keyring_cli(&office)
        .args([
            "otp",
            "issue",
            "--account",
            "WB-7",
            "--channel",
            "email",
            "--print-code",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let code = json(&Out {
        code: 0,
        stdout: String::from_utf8_lossy(&o.stdout).into(),
        stderr: String::new(),
    })["code"]
        .as_str()
        .unwrap()
        .to_string();

    // Find the entry with the desktop's own tool, as an admin would.
    let lookup = std::process::Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            "otp-desk",
            "username",
            &format!("code-key:{}", database_id(&office.db())),
        ])
        .output()
        .unwrap();
    let key = String::from_utf8_lossy(&lookup.stdout).trim().to_string();
    assert!(key.len() >= 40, "secret-tool found the key: {lookup:?}");
    assert!(
        !contains(&office.db(), &key),
        "the key is not in the database"
    );
    assert!(!office.secrets().exists(), "no file store was used");

    let o = keyring_cli(&office)
        .args(["otp", "verify", "--to", "jo.smith@example.com", &code])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

#[test]
#[ignore = "needs a Secret Service session; scripts/test runs it"]
fn no_keyring_means_a_clear_error_not_a_plain_text_fallback() {
    let office = Office::new();
    office.add_jo();
    let o = keyring_cli(&office)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .args([
            "otp",
            "issue",
            "--account",
            "WB-7",
            "--channel",
            "email",
            "--print-code",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(5), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("keyring could not be reached") && err.contains("OTP_DESK_SECRETS=file:"),
        "{err}"
    );
    assert!(!office.secrets().exists());
    assert!(o.stdout.is_empty(), "no code was printed");
}

/// The database id names the key in the keyring.
fn database_id(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'database_id'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
#[ignore = "needs dbus and gnome-keyring; scripts/test runs it"]
fn a_locked_keyring_is_named_as_the_cause() {
    let office = Office::new();
    office.add_jo();
    // A private session and keyring of its own, locked the way the desktop locks it on screen
    // lock (the Secret Service's Lock call), so the tests beside this one are not disturbed.
    let keyring_home = tempfile::tempdir().unwrap();
    let script = r#"
        eval "$(printf pw | XDG_DATA_HOME="$KEYRING_HOME" gnome-keyring-daemon --unlock --components=secrets)"
        dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
            org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null
        exec "$OTP_DESK_CLI_BIN" otp issue --account WB-7 --channel email --print-code > "$KEYRING_HOME/cli.out"
    "#;
    let o = std::process::Command::new("dbus-run-session")
        .args(["--", "sh", "-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", office.dir.path())
        .env("KEYRING_HOME", keyring_home.path())
        .env("OTP_DESK_CLI_BIN", env!("CARGO_BIN_EXE_otp-desk-cli"))
        .env("OTP_DESK_DB", office.db())
        .env("OTP_DESK_OPERATOR", "Ann")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{o:?}");
    assert!(
        err.contains("keyring is locked") && err.contains("unlock it"),
        "{err}"
    );
    let printed = std::fs::read_to_string(keyring_home.path().join("cli.out")).unwrap();
    assert!(printed.is_empty(), "no code was printed: {printed:?}");
    assert!(!office.secrets().exists(), "no fallback to a file");
}
