//! The admin screens from a terminal: operators, the admin passphrase, the Activity listing,
//! the Dashboard and restoring a backup. Real binary, real database file, hostile input for
//! every new argument.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::Out;

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

    fn cli(&self) -> Command {
        common::command(self.dir.path(), "debug")
    }

    fn run(&self, args: &[&str]) -> Out {
        self.cli().args(args).output().unwrap().into()
    }

    fn run_os(&self, args: &[&OsStr]) -> Out {
        self.cli().args(args).output().unwrap().into()
    }

    fn with_stdin(&self, args: &[&str], stdin: impl Into<Vec<u8>>) -> Out {
        self.cli()
            .args(args)
            .write_stdin(stdin.into())
            .output()
            .unwrap()
            .into()
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
        ]);
        assert_eq!(o.code, 0, "{o:?}");
    }

    /// Issues a code for Jo and returns (challenge id, code).
    fn issue(&self) -> (String, String) {
        let o = self.run(&[
            "otp",
            "issue",
            "--account",
            "WB-7",
            "--channel",
            "email",
            "--print-code",
            "--json",
        ]);
        assert_eq!(o.code, 0, "{o:?}");
        let v = json(&o);
        (
            v["challenge_id"].to_string(),
            v["code"].as_str().unwrap().to_string(),
        )
    }
}

fn json(o: &Out) -> serde_json::Value {
    serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {o:?}"))
}

fn last_line(stderr: &str) -> &str {
    stderr.lines().last().unwrap_or_default()
}

fn file_contains(path: &Path, needle: &str) -> bool {
    std::fs::read(path)
        .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .unwrap_or(false)
}

/// Arguments every test throws at a text option: each must end in a clear answer.
fn hostile() -> Vec<String> {
    vec![
        String::new(),
        "x".repeat(100_000),
        "Ann\r\nBcc: all".into(),
        "<script>alert(1)</script>".into(),
        "'; DROP TABLE operators;--".into(),
        "Ann\u{202E}nnA".into(),
        "%_\\".into(),
    ]
}

#[cfg(unix)]
fn invalid_utf8() -> std::ffi::OsString {
    use std::os::unix::ffi::OsStringExt;
    std::ffi::OsString::from_vec(b"caf\xe9".to_vec())
}

#[test]
fn every_new_command_has_help() {
    let office = Office::new();
    for cmd in [
        &["operators"][..],
        &["operators", "list"],
        &["operators", "add"],
        &["operators", "rename"],
        &["operators", "retire"],
        &["operators", "reactivate"],
        &["admin"],
        &["admin", "status"],
        &["admin", "set-passphrase"],
        &["admin", "change-passphrase"],
        &["activity"],
        &["activity", "list"],
        &["activity", "show"],
        &["activity", "export"],
        &["dashboard"],
        &["restore"],
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
fn admin_keeps_the_operator_list_from_the_terminal() {
    let office = Office::new();
    let o = office.run(&["operators", "list"]);
    assert!(o.stdout.contains("No operators yet"), "{o:?}");
    assert_eq!(office.run(&["operators", "add", "  Bea   Brown "]).code, 0);
    assert_eq!(office.run(&["operators", "add", "Ann"]).code, 0);
    let o = office.run(&["operators", "add", "ANN"]);
    assert_eq!(o.code, 3, "{o:?}");
    assert!(
        last_line(&o.stderr).contains("already an operator"),
        "{o:?}"
    );

    let o = office.run(&["operators", "rename", "ann", "Ann Lee"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(office.run(&["operators", "retire", "ann lee"]).code, 0);
    let o = office.run(&["operators", "list", "--json"]);
    let list = json(&o);
    assert_eq!(list[0]["name"], "Bea Brown");
    assert_eq!(list[1]["name"], "Ann Lee");
    assert_eq!(list[1]["active"], false);
    assert_eq!(office.run(&["operators", "reactivate", "Ann Lee"]).code, 0);
    assert_eq!(office.run(&["operators", "retire", "Nobody"]).code, 4);
    assert_eq!(office.run(&["operators", "rename", "Nobody", "X"]).code, 4);

    let o = office.run(&["audit", "list", "--kind", "operator_renamed", "--json"]);
    assert_eq!(json(&o)[0]["detail"], "Ann → Ann Lee");
    assert_eq!(
        json(&o)[0]["operator"],
        "Ann",
        "the global --operator is who did it"
    );
    let o = office.run(&[
        "audit",
        "list",
        "--by",
        "ann",
        "--kind",
        "operator_added",
        "--json",
    ]);
    assert_eq!(json(&o).as_array().unwrap().len(), 2, "{o:?}");
}

#[test]
fn hostile_operator_names_are_refused_or_kept_as_plain_text() {
    let office = Office::new();
    for name in hostile() {
        let o = office.run(&["operators", "add", "--", &name]);
        let plain = !name.trim().is_empty()
            && name.chars().count() <= 64
            && !name.chars().any(|c| c.is_control() || c == '\u{202E}');
        if plain {
            assert_eq!(o.code, 0, "{name:?}: {o:?}");
        } else {
            assert_eq!(o.code, 3, "{name:?}: {o:?}");
            assert!(last_line(&o.stderr).len() < 300, "{o:?}");
        }
        for cmd in ["retire", "reactivate"] {
            let o = office.run(&["operators", cmd, "--", &name]);
            assert!(matches!(o.code, 0 | 4), "{cmd} {name:?}: {o:?}");
        }
    }
    let o = office.run(&["operators", "list", "--json"]);
    let names: Vec<String> = json(&o)
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"'; DROP TABLE operators;--".to_string()),
        "{names:?}"
    );
    #[cfg(unix)]
    {
        let bad = invalid_utf8();
        let o = office.run_os(&[OsStr::new("operators"), OsStr::new("add"), &bad]);
        assert_eq!(o.code, 2, "{o:?}");
    }
}

const GOOD: &str = "river copper lantern";
const NEW: &str = "seven quiet harbours";

#[test]
fn the_admin_passphrase_is_set_and_changed_through_standard_input_only() {
    let office = Office::new();
    let o = office.run(&["admin", "status", "--json"]);
    assert_eq!(json(&o)["is_set"], false);
    // Never as an argument.
    let o = office.run(&["admin", "set-passphrase", GOOD]);
    assert_eq!(o.code, 2, "{o:?}");

    let o = office.with_stdin(&["admin", "set-passphrase"], format!("{GOOD}\r\n"));
    assert_eq!(o.code, 0, "{o:?}");
    let o = office.with_stdin(&["admin", "set-passphrase"], format!("{NEW}\n"));
    assert_eq!(o.code, 4, "only the first time: {o:?}");
    assert!(o.stderr.contains("already set"), "{o:?}");

    let o = office.with_stdin(
        &["admin", "change-passphrase"],
        format!("not it at all\n{NEW}\n"),
    );
    assert_eq!(o.code, 4, "{o:?}");
    assert!(o.stderr.contains("wrong admin passphrase"), "{o:?}");
    let o = office.with_stdin(&["admin", "change-passphrase"], format!("{GOOD}\n"));
    assert_eq!(o.code, 3, "two lines are needed: {o:?}");
    let o = office.with_stdin(
        &["admin", "change-passphrase", "--json"],
        format!("{GOOD}\n{NEW}\n"),
    );
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(json(&o)["passphrase_changed"], true);
    let o = office.run(&["admin", "status", "--json"]);
    assert_eq!(json(&o)["attempts_left"], 5);

    // Neither passphrase is printed, logged (debug level) or stored.
    let o = office.run(&["audit", "export"]);
    let wal = PathBuf::from(format!("{}-wal", office.db().display()));
    for secret in [GOOD, NEW] {
        assert!(!o.stdout.contains(secret));
        assert!(
            !file_contains(&office.db(), secret),
            "{secret} in the database"
        );
        assert!(!file_contains(&wal, secret), "{secret} in the WAL");
    }
    assert!(o.stdout.contains("admin_passphrase_changed"), "{o:?}");
}

#[test]
fn bad_passphrase_input_is_refused_clearly() {
    let office = Office::new();
    let cases: Vec<(Vec<u8>, i32)> = vec![
        (Vec::new(), 3),
        (b"\n".to_vec(), 3),
        (b"short\n".to_vec(), 3),
        (b"password1234\n".to_vec(), 3),
        (b"two\nlines here too\n".to_vec(), 3),
        (b"caf\xe9 caf\xe9 caf\xe9\n".to_vec(), 3),
        (vec![b'a'; 1 << 20], 3),
        (b"river copper \xe2\x80\xaelantern\n".to_vec(), 3),
        (b"<script>alert(1)</script>\n".to_vec(), 0),
    ];
    for (stdin, code) in cases {
        let shown = String::from_utf8_lossy(&stdin)
            .chars()
            .take(30)
            .collect::<String>();
        let o = office.with_stdin(&["admin", "set-passphrase"], stdin);
        assert_eq!(o.code, code, "{shown:?}: {o:?}");
        if code != 0 {
            assert!(last_line(&o.stderr).starts_with("error: "), "{o:?}");
            assert!(last_line(&o.stderr).len() < 300, "{o:?}");
        }
    }
}

#[test]
fn activity_lists_shows_and_exports_codes_with_filters() {
    let office = Office::new();
    office.add_jo();
    let (challenge, code) = office.issue();
    let o = office.run(&["otp", "verify", "--challenge", &challenge, &code]);
    assert_eq!(o.code, 0, "{o:?}");

    let o = office.run(&["activity", "list", "--json"]);
    assert_eq!(o.code, 0, "{o:?}");
    let page = json(&o);
    assert_eq!(page["total"], 1);
    assert_eq!(page["rows"][0]["state"], "verified");
    assert_eq!(page["rows"][0]["contact"], "jo…@example.com");
    assert!(!o.stdout.contains("jo.smith") && !o.stdout.contains(&code));

    let o = office.run(&["activity", "list"]);
    assert!(
        o.stdout.contains("verified") && o.stdout.contains("1–1 of 1"),
        "{o:?}"
    );
    for (args, total) in [
        (vec!["--state", "verified", "--channel", "email"], 1),
        (vec!["--state", "pending"], 0),
        (vec!["--by", "ann"], 1),
        (vec!["--account", "wb-7"], 1),
        (vec!["--text", "smith"], 1),
        (vec!["--text", "jo.smith"], 0),
        (vec!["--from", "2999-01-01"], 0),
    ] {
        let mut a = vec!["activity", "list", "--json"];
        a.extend(args.iter().copied());
        let o = office.run(&a);
        assert_eq!(o.code, 0, "{a:?}: {o:?}");
        assert_eq!(json(&o)["total"], total, "{a:?}");
    }
    for text in hostile() {
        let o = office.run(&["activity", "list", "--json", "--text", &text, "--by", &text]);
        assert_eq!(o.code, 0, "{text:?}: {o:?}");
    }
    for (args, code) in [
        (vec!["--state", "bogus"], 2),
        (vec!["--state", ""], 2),
        (vec!["--channel", "fax"], 2),
        (vec!["--from", "yesterday"], 2),
        (vec!["--limit", "-1"], 2),
        (vec!["--from", "2026-03-02", "--to", "2026-03-01"], 3),
        (vec!["--account", "NOPE"], 4),
        (vec!["--account", "'; DROP TABLE codes;--"], 4),
    ] {
        let mut a = vec!["activity", "list"];
        a.extend(args.iter().copied());
        assert_eq!(office.run(&a).code, code, "{a:?}");
    }

    let o = office.run(&["activity", "show", &challenge, "--json"]);
    assert_eq!(o.code, 0, "{o:?}");
    let detail = json(&o);
    let kinds: Vec<&str> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"code_issued") && kinds.contains(&"code_verify"),
        "{kinds:?}"
    );
    assert_eq!(office.run(&["activity", "show", "999"]).code, 4);
    assert_eq!(office.run(&["activity", "show", "x"]).code, 2);

    let out = office.dir.path().join("codes.csv");
    let o = office.run(&[
        "activity",
        "export",
        "--output",
        out.to_str().unwrap(),
        "--state",
        "verified",
    ]);
    assert_eq!(o.code, 0, "{o:?}");
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(
        csv.trim_start_matches('\u{feff}')
            .starts_with("challenge_id,created"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let o = office.run(&[
        "activity",
        "export",
        "--output",
        "/no/such/folder/codes.csv",
    ]);
    assert_eq!(o.code, 5, "{o:?}");
}

#[test]
fn the_dashboard_summarises_the_month() {
    let office = Office::new();
    office.add_jo();
    let (challenge, code) = office.issue();
    office.run(&["otp", "verify", "--challenge", &challenge, &code]);
    let o = office.run(&["dashboard", "--json"]);
    assert_eq!(o.code, 0, "{o:?}");
    let d = json(&o);
    assert_eq!(d["days"].as_array().unwrap().len(), 30);
    assert_eq!(d["totals"]["verified"], 1);
    let o = office.run(&["dashboard", "--days", "7"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stdout.contains("Last 7 days") && o.stdout.contains("Recent delivery failures"),
        "{o:?}"
    );
    for (args, code) in [
        (vec!["--days", "0"], 3),
        (vec!["--days", "367"], 3),
        (vec!["--failures", "101"], 3),
        (vec!["--days", "abc"], 2),
        (vec!["--days", "-1"], 2),
        (vec!["--days", "99999999999999"], 2),
    ] {
        let mut a = vec!["dashboard"];
        a.extend(args.iter().copied());
        let o = office.run(&a);
        assert_eq!(o.code, code, "{a:?}: {o:?}");
    }
}

#[test]
fn a_backup_is_restored_from_the_terminal_with_a_safety_copy() {
    let office = Office::new();
    office.add_jo();
    let backup = office.dir.path().join("monday.db");
    assert_eq!(office.run(&["backup", backup.to_str().unwrap()]).code, 0);
    let o = office.run(&["customers", "add", "--account", "WB-8", "--name", "Bo"]);
    assert_eq!(o.code, 0, "{o:?}");

    let o = office.run(&["restore", backup.to_str().unwrap(), "--json"]);
    assert_eq!(o.code, 0, "{o:?}");
    let r = json(&o);
    let safety = PathBuf::from(r["safety_copy"].as_str().unwrap());
    assert!(safety.exists(), "{r}");
    assert_eq!(r["customers"], 1);
    assert_eq!(
        office.run(&["customers", "show", "WB-8"]).code,
        4,
        "gone after the restore"
    );
    assert_eq!(office.run(&["customers", "show", "WB-7"]).code, 0);
    let o = office.run(&["audit", "list", "--kind", "database_restored", "--json"]);
    assert_eq!(json(&o).as_array().unwrap().len(), 1, "{o:?}");

    // The safety copy undoes it.
    let o = office.run(&["restore", safety.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(
        o.stdout.contains("The database as it was before is in"),
        "{o:?}"
    );
    assert_eq!(office.run(&["customers", "show", "WB-8"]).code, 0);
}

#[test]
fn a_file_that_is_no_backup_is_refused_and_nothing_changes() {
    let office = Office::new();
    office.add_jo();
    let dir = office.dir.path();
    let text = dir.join("notes.txt");
    std::fs::write(&text, "plain text\r\n".repeat(300)).unwrap();
    let huge = dir.join("huge.db");
    std::fs::write(&huge, vec![0u8; 1 << 20]).unwrap();
    let html = dir.join("<b>x<script>.db");
    std::fs::write(&html, "<html><script>alert(1)</script></html>").unwrap();
    for (file, code) in [
        (text.clone(), 3),
        (huge, 3),
        (html, 3),
        (dir.join("missing.db"), 5),
        (dir.join("bad\r\nname.db"), 5),
        (dir.join("\u{202E}bd.exe"), 5),
        (dir.to_path_buf(), 5),
        (office.db(), 3),
    ] {
        let o = office.run_os(&[OsStr::new("restore"), file.as_os_str()]);
        assert_eq!(o.code, code, "{}: {o:?}", file.display());
        assert!(last_line(&o.stderr).starts_with("error: "), "{o:?}");
    }
    #[cfg(unix)]
    {
        let o = office.run_os(&[OsStr::new("restore"), &invalid_utf8()]);
        assert_eq!(o.code, 5, "{o:?}");
    }
    assert_eq!(office.run(&["restore"]).code, 2);
    assert_eq!(
        office.run(&["customers", "show", "WB-7"]).code,
        0,
        "unchanged"
    );
    let copies = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("otp-desk-before-restore")
        })
        .count();
    assert_eq!(copies, 0, "no safety copy for a refused file");
}
