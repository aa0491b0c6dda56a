//! The admin imports the customer list from the billing system and exports it again.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Arc;

use otp_desk_core::customers::{
    self, Customer, CustomerError, CustomerInput, ImportMode, ImportReport, Progress,
};
use otp_desk_core::{ManualClock, Store};
use rusqlite::Connection;
use tempfile::TempDir;

fn open() -> (TempDir, Store, ManualClock) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::start();
    let store =
        Store::open_with_clock(dir.path().join("desk.db"), Arc::new(clock.clone())).unwrap();
    (dir, store, clock)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn import(
    store: &Store,
    clock: &ManualClock,
    file: &[u8],
    mode: ImportMode,
) -> Result<ImportReport, CustomerError> {
    customers::import(&mut store.conn(), clock, "admin", file, mode, &mut |_| {})
}

/// Everything an import may touch, to compare before and after.
fn snapshot(conn: &Connection) -> (i64, i64, Vec<String>) {
    let count = |t: &str| {
        conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .unwrap()
    };
    let rows = conn
        .prepare("SELECT account_number || '|' || name || '|' || ifnull(email, '') || '|' || updated_at FROM customers ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (count("customers"), count("customer_terms"), rows)
}

fn imports_recorded(conn: &Connection) -> Vec<(String, String)> {
    conn.prepare(
        "SELECT result, detail FROM audit_events WHERE kind = 'customers_imported' ORDER BY id",
    )
    .unwrap()
    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn seed_one(store: &Store, clock: &ManualClock) {
    customers::create(
        &mut store.conn(),
        clock,
        "admin",
        &CustomerInput {
            account_number: "OLD-1".into(),
            name: "Existing Customer".into(),
            ..Default::default()
        },
    )
    .unwrap();
}

#[test]
fn admin_imports_a_semicolon_export_with_bom_crlf_and_spreadsheet_headers() {
    let (_dir, store, clock) = open();
    let report = import(
        &store,
        &clock,
        &fixture("customers_billing_export.csv"),
        ImportMode::AllOrNothing,
    )
    .unwrap();
    assert!(report.committed, "{report:?}");
    assert_eq!((report.rows, report.inserted, report.updated), (4, 4, 0));
    assert!(report.rejected.is_empty());
    assert_eq!(report.ignored_columns, ["Balance"]);

    let conn = store.conn();
    let zoe = customers::by_account(&conn, "WB-0001001").unwrap().unwrap();
    assert_eq!(zoe.name, "Zoë Müller");
    assert_eq!(zoe.email.as_deref(), Some("Zoe.Muller@example.com"));
    assert_eq!(zoe.phone_e164.as_deref(), Some("+14155550132"));
    assert_eq!(zoe.service_address, "12 Oak St, Springfield");
    let jose = customers::by_account(&conn, "WB-0001002").unwrap().unwrap();
    assert_eq!(jose.notes, "Gate code on file\nRing twice");
    let sean = customers::by_account(&conn, "WB-0001003").unwrap().unwrap();
    assert_eq!(sean.email, None);
    assert_eq!(sean.service_address, "1 Main St; Unit 4");
    assert_eq!(
        customers::search(&conn, "obrien", 10, 0).unwrap()[0].id,
        sean.id
    );
    assert_eq!(
        imports_recorded(&conn),
        [(
            "ok".into(),
            "4 rows: 4 added, 0 updated, 0 unchanged, 0 rejected (all-or-nothing)".into()
        )]
    );
}

#[test]
fn import_with_a_bad_row_changes_nothing_in_all_or_nothing_mode() {
    let (_dir, store, clock) = open();
    seed_one(&store, &clock);
    let before = snapshot(&store.conn());
    let report = import(
        &store,
        &clock,
        &fixture("customers_with_errors.csv"),
        ImportMode::AllOrNothing,
    )
    .unwrap();
    assert!(!report.committed);
    assert_eq!((report.inserted, report.updated), (0, 0));
    assert_eq!(report.rejected.len(), 6);
    assert_eq!(snapshot(&store.conn()), before);
    let recorded = imports_recorded(&store.conn());
    assert_eq!(recorded[0].0, "refused");
    assert_eq!(
        recorded[0].1,
        "8 rows, 6 rejected; nothing imported (all-or-nothing)"
    );
}

#[test]
fn skip_invalid_imports_the_good_rows_and_reports_each_bad_one_by_its_line() {
    let (_dir, store, clock) = open();
    let report = import(
        &store,
        &clock,
        &fixture("customers_with_errors.csv"),
        ImportMode::SkipInvalid,
    )
    .unwrap();
    assert!(report.committed);
    assert_eq!((report.rows, report.inserted), (8, 2));
    let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8], "{:#?}", report.rejected);
    let reason = |line: u64| {
        report
            .rejected
            .iter()
            .find(|r| r.line == line)
            .unwrap()
            .reason
            .clone()
    };
    assert_eq!(reason(3), "the name is required");
    assert!(reason(4).contains("\"not-an-email\" is not a valid email address"));
    assert_eq!(reason(5), "the row has 5 fields but the header has 6; look for a missing or extra comma or an unclosed quote");
    assert!(reason(6).contains("\"call me\" is not a phone number"));
    assert_eq!(
        reason(7),
        "account number wb-0002001 is also on line 2; each account may appear only once in a file"
    );
    assert!(
        reason(8).contains("one line of plain text"),
        "a quoted line break in a name; the row starts on line 8"
    );
    assert_eq!(
        report.rejected[0].account_number.as_deref(),
        Some("WB-0002002")
    );

    let conn = store.conn();
    assert_eq!(customers::count(&conn).unwrap(), 2);
    assert_eq!(
        customers::by_account(&conn, "WB-0002008")
            .unwrap()
            .unwrap()
            .name,
        "Tom Ford"
    );
    assert_eq!(
        customers::by_account(&conn, "WB-0002001")
            .unwrap()
            .unwrap()
            .name,
        "Kim Park",
        "the first of two rows wins"
    );
}

#[test]
fn reimport_updates_by_account_number_and_counts_unchanged_rows() {
    let (_dir, store, clock) = open();
    let file = fixture("customers_billing_export.csv");
    import(&store, &clock, &file, ImportMode::AllOrNothing).unwrap();
    clock.advance_secs(3600);
    let changed = String::from_utf8(file.clone())
        .unwrap()
        .replace("Ann Lee", "Ann Smith");
    let report = import(&store, &clock, changed.as_bytes(), ImportMode::AllOrNothing).unwrap();
    assert_eq!(
        (report.inserted, report.updated, report.unchanged),
        (0, 1, 3)
    );
    let conn = store.conn();
    assert_eq!(customers::count(&conn).unwrap(), 4);
    let ann = customers::by_account(&conn, "wb-0001004").unwrap().unwrap();
    assert_eq!(ann.name, "Ann Smith");
    assert_eq!(ann.updated_at, ann.created_at + 3_600_000);
    let old_name_terms: i64 = conn
        .query_row(
            "SELECT count(*) FROM customer_terms WHERE term = 'nlee' AND customer_id = ?1",
            [ann.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old_name_terms, 0, "the old name left the index");
    assert_eq!(
        customers::search(&conn, "ann smith", 10, 0).unwrap()[0].id,
        ann.id
    );
}

#[test]
fn invalid_utf8_in_a_row_rejects_that_row_with_its_line() {
    let (_dir, store, clock) = open();
    let file = fixture("customers_invalid_utf8.csv");
    let report = import(&store, &clock, &file, ImportMode::SkipInvalid).unwrap();
    assert_eq!(report.inserted, 2);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].line, 3);
    assert_eq!(
        report.rejected[0].reason,
        "the name is not valid UTF-8 text; save the file as \"CSV UTF-8\""
    );

    let (_dir2, other, clock2) = open();
    let report = import(&other, &clock2, &file, ImportMode::AllOrNothing).unwrap();
    assert!(!report.committed);
    assert_eq!(customers::count(&other.conn()).unwrap(), 0);
}

#[test]
fn files_that_are_not_customer_lists_are_refused_clearly_and_change_nothing() {
    let (_dir, store, clock) = open();
    seed_one(&store, &clock);
    let before = snapshot(&store.conn());
    let mut xlsx = b"PK\x03\x04".to_vec();
    xlsx.extend(std::iter::repeat_n(7u8, 500));
    let mut random = b"\x7fELF\x02\x01\x01\x00\x00".to_vec();
    random.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "empty file",
            vec![],
            "the file is empty; choose the CSV file exported from the billing system",
        ),
        (
            "only a BOM and blank lines",
            b"\xEF\xBB\xBF\r\n\r\n".to_vec(),
            "the file is empty",
        ),
        (
            "header only",
            fixture("customers_header_only.csv"),
            "the file has a header row but no customers",
        ),
        (
            "spreadsheet workbook",
            xlsx,
            "this is not a CSV file: it is a spreadsheet workbook",
        ),
        ("binary", random, "this is not a CSV file"),
        ("UTF-16", b"\xFF\xFEa\x00,\x00b\x00".to_vec(), "UTF-16"),
        (
            "no account column",
            b"name,email\nAnn,ann@example.com\n".to_vec(),
            "the file has no column for account number; the header row has: name, email",
        ),
        (
            "no name column",
            b"account;mail\nA-1;a@example.com\n".to_vec(),
            "the file has no column for name; the header row has: account, mail",
        ),
        (
            "two email columns",
            b"account,name,email,E-Mail\n".to_vec(),
            "both look like email",
        ),
        (
            "invalid UTF-8 header",
            b"acc\xFFount,name\nA,B\n".to_vec(),
            "the header row is not UTF-8 text",
        ),
        (
            "HTML page",
            b"<html><body><script>alert(1)</script></body></html>".to_vec(),
            "the file has no column for account number, name",
        ),
    ];
    for (what, file, message) in cases {
        for mode in [ImportMode::AllOrNothing, ImportMode::SkipInvalid] {
            let err = import(&store, &clock, &file, mode).unwrap_err();
            assert!(
                err.to_string().starts_with(message) || err.to_string().contains(message),
                "{what}: {err}"
            );
        }
    }
    assert_eq!(snapshot(&store.conn()), before);
    assert!(imports_recorded(&store.conn()).is_empty());
}

#[test]
fn hostile_cells_are_stored_as_text_or_rejected_with_a_short_reason() {
    let (_dir, store, clock) = open();
    let big = "x".repeat(1 << 20);
    let file = format!(
        "account,name,notes\r\n\
         H-1,<script>alert(1)</script>,\"'; DROP TABLE customers;--\"\r\n\
         H-2,Robert'); DROP TABLE customers;--,\r\n\
         H-3,{big},\r\n\
         H-4,Eve \u{202E}gnp.exe,\r\n\
         H-5,Ann,\"=HYPERLINK(\"\"http://evil.example\"\")\"\r\n\
         '; DROP TABLE customers;--,Mallory,\r\n"
    );
    let report = import(&store, &clock, file.as_bytes(), ImportMode::SkipInvalid).unwrap();
    let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [4, 5, 7], "{:?}", report.rejected);
    assert!(report.rejected.iter().all(|r| r.reason.len() < 300));
    assert!(report
        .rejected
        .iter()
        .all(|r| r.account_number.as_deref().unwrap_or("").len() < 100));
    let conn = store.conn();
    assert_eq!(
        customers::by_account(&conn, "H-1").unwrap().unwrap().name,
        "<script>alert(1)</script>"
    );
    assert_eq!(
        customers::by_account(&conn, "H-1").unwrap().unwrap().notes,
        "'; DROP TABLE customers;--"
    );
    assert_eq!(
        customers::by_account(&conn, "H-2").unwrap().unwrap().name,
        "Robert'); DROP TABLE customers;--"
    );
    assert_eq!(
        customers::by_account(&conn, "H-5").unwrap().unwrap().notes,
        "=HYPERLINK(\"http://evil.example\")"
    );
    assert_eq!(customers::count(&conn).unwrap(), 3);
}

#[test]
fn line_numbers_count_lines_the_way_an_editor_does() {
    let (_dir, store, clock) = open();
    let file = "account,name,notes\n\
                L-1,Ann,\"two\nlines\"\n\
                \n\
                L-2,,\n\
                L-3,Bob,\"three\r\nlines\r\nhere\"\n\
                L-4\n";
    let report = import(&store, &clock, file.as_bytes(), ImportMode::SkipInvalid).unwrap();
    let lines: Vec<u64> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [5, 9], "{:?}", report.rejected);
    assert_eq!(report.inserted, 2);
}

#[test]
fn a_failure_half_way_leaves_the_database_as_it_was() {
    let (_dir, store, clock) = open();
    seed_one(&store, &clock);
    let before = snapshot(&store.conn());
    // A database that fails on the 500th row, as a full disk or a broken file would.
    store
        .conn()
        .execute_batch(
            "CREATE TEMP TRIGGER fail_half_way BEFORE INSERT ON main.customers
             WHEN NEW.account_number = 'WB-0000500'
             BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END;",
        )
        .unwrap();
    let mut file = String::from("account_number,name,email\n");
    for c in customers::synthetic(1000, 5) {
        file.push_str(&format!("{},{},{}\n", c.account_number, c.name, c.email));
    }
    for mode in [ImportMode::AllOrNothing, ImportMode::SkipInvalid] {
        let err = import(&store, &clock, file.as_bytes(), mode).unwrap_err();
        assert!(matches!(err, CustomerError::Storage(_)), "{err:?}");
        assert!(err.to_string().contains("simulated"));
        assert_eq!(snapshot(&store.conn()), before);
    }
    assert!(imports_recorded(&store.conn()).is_empty());
}

#[test]
fn a_crash_half_way_leaves_the_database_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.db");
    let clock = ManualClock::start();
    let before = {
        let store = Store::open_with_clock(&path, Arc::new(clock.clone())).unwrap();
        seed_one(&store, &clock);
        let snap = snapshot(&store.conn());
        let mut file = String::from("account_number,name\n");
        for c in customers::synthetic(30_000, 5) {
            file.push_str(&format!("{},{}\n", c.account_number, c.name));
        }
        let crashed = catch_unwind(AssertUnwindSafe(|| {
            let mut conn = store.conn();
            let _ = customers::import(
                &mut conn,
                &clock,
                "admin",
                file.as_bytes(),
                ImportMode::SkipInvalid,
                &mut |p| {
                    if p.done >= 20_000 {
                        panic!("the app was killed half-way");
                    }
                },
            );
        }));
        assert!(crashed.is_err());
        snap
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(snapshot(&store.conn()), before);
}

#[test]
fn progress_counts_up_to_the_total() {
    let (_dir, store, clock) = open();
    let mut file = String::from("account_number,name\n");
    for c in customers::synthetic(25_000, 9) {
        file.push_str(&format!("{},{}\n", c.account_number, c.name));
    }
    let mut seen: Vec<Progress> = Vec::new();
    customers::import(
        &mut store.conn(),
        &clock,
        "admin",
        file.as_bytes(),
        ImportMode::AllOrNothing,
        &mut |p| seen.push(p),
    )
    .unwrap();
    assert_eq!(
        seen.first(),
        Some(&Progress {
            done: 0,
            total: 25_000
        })
    );
    assert_eq!(
        seen.last(),
        Some(&Progress {
            done: 25_000,
            total: 25_000
        })
    );
    assert!(seen.windows(2).all(|w| w[0].done <= w[1].done));
    assert!(seen.len() >= 3);
}

#[test]
fn export_round_trips_through_import_and_defuses_formulas() {
    let (_dir, store, clock) = open();
    let inputs = vec![
        CustomerInput {
            account_number: "E-1".into(),
            name: "Zoë Müller".into(),
            email: "zoe@example.com".into(),
            phone: "+1 (415) 555-0132".into(),
            service_address: "12 Oak St\nSpringfield".into(),
            notes: "=HYPERLINK(\"http://evil.example\",\"click\")".into(),
        },
        CustomerInput {
            account_number: "E-2".into(),
            name: "@SUM(1+1)".into(),
            notes: "-2+3, \"quoted\"; semi".into(),
            ..Default::default()
        },
        CustomerInput {
            account_number: "E-3".into(),
            name: "O'Brien".into(),
            ..Default::default()
        },
    ];
    {
        let mut conn = store.conn();
        for i in &inputs {
            customers::create(&mut conn, &clock, "admin", i).unwrap();
        }
    }
    let mut out = Vec::new();
    assert_eq!(customers::export(&store.conn(), &mut out).unwrap(), 3);
    assert!(out.starts_with(b"\xEF\xBB\xBFaccount_number,name,email,phone,service_address,notes"));
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(text.contains("'=HYPERLINK"));
    assert!(text.contains("'@SUM"));
    assert!(text.contains("'+1 (415) 555-0132"));
    assert!(text.contains("'-2+3"));

    let (_dir2, other, clock2) = open();
    let report = import(&other, &clock2, &out, ImportMode::AllOrNothing).unwrap();
    assert_eq!(report.inserted, 3);
    assert!(report.ignored_columns.is_empty());
    // Everything but the ids and times, which belong to each database.
    let strip = |store: &Store| -> Vec<Customer> {
        customers::search(&store.conn(), "", 10, 0)
            .unwrap()
            .into_iter()
            .map(|c| Customer {
                id: 0,
                created_at: 0,
                updated_at: 0,
                ..c
            })
            .collect()
    };
    assert_eq!(strip(&other), strip(&store));
}

#[test]
fn export_of_an_empty_database_is_just_the_header() {
    let (_dir, store, _clock) = open();
    let mut out = Vec::new();
    assert_eq!(customers::export(&store.conn(), &mut out).unwrap(), 0);
    assert_eq!(
        out,
        b"\xEF\xBB\xBFaccount_number,name,email,phone,service_address,notes\n"
    );
}

#[test]
fn an_export_is_recorded_with_who_how_many_and_where_but_never_the_contents() {
    let (_dir, store, clock) = open();
    seed_one(&store, &clock);
    let mut out = Vec::new();
    let n = customers::export_audited(
        &store.conn(),
        &clock,
        "Ann Admin",
        &mut out,
        "otp-desk-customers-2026-12-01.csv",
    )
    .unwrap();
    assert_eq!(n, 1);
    let conn = store.conn();
    let recorded: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT operator, result, detail FROM audit_events WHERE kind = 'customers_exported'",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        recorded,
        [(
            "Ann Admin".to_string(),
            "ok".to_string(),
            "1 customer to otp-desk-customers-2026-12-01.csv".to_string()
        )]
    );
    let text = String::from_utf8(out).unwrap();
    let exported_row = text.lines().nth(1).unwrap();
    assert!(!recorded[0].2.contains(exported_row));

    // Without a name to record, nothing is written and nothing is recorded.
    let mut out = Vec::new();
    let err = customers::export_audited(&conn, &clock, " ", &mut out, "x.csv").unwrap_err();
    assert!(matches!(err, CustomerError::Audit(_)), "{err}");
    assert!(out.is_empty());
    let events: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_events WHERE kind = 'customers_exported'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, 1);
}

#[test]
fn preview_shows_the_mapping_and_the_first_rows() {
    let p = customers::preview(fixture("customers_billing_export.csv").as_slice(), 2).unwrap();
    assert_eq!(p.delimiter, ';');
    assert_eq!(p.headers[0], "Acct No");
    let fields: Vec<Option<&str>> = p.columns.iter().map(|c| c.field).collect();
    assert_eq!(
        fields,
        [
            Some("account_number"),
            Some("name"),
            Some("email"),
            Some("phone"),
            Some("service_address"),
            None,
            Some("notes")
        ]
    );
    assert!(p.missing.is_empty());
    assert_eq!(p.ignored_columns, ["Balance"]);
    assert_eq!(p.rows.len(), 2);
    assert_eq!((p.rows[0].line, p.rows[1].line), (2, 3));
    assert_eq!(p.rows[0].cells[1], "Zoë Müller");

    let p = customers::preview(b"Name;Phone\nAnn;555\n".as_slice(), 10).unwrap();
    assert_eq!(p.missing, ["account number"]);
    let p = customers::preview(fixture("customers_invalid_utf8.csv").as_slice(), 10).unwrap();
    assert_eq!(p.rows[1].cells[1], "Bad \u{FFFD}\u{FFFD} Bytes");
    assert!(matches!(
        customers::preview(b"".as_slice(), 5),
        Err(CustomerError::EmptyFile)
    ));
    assert!(matches!(
        customers::preview(b"PK\x03\x04zip".as_slice(), 5),
        Err(CustomerError::NotCsv(_))
    ));
    let huge = customers::preview(
        format!("account,name\n{}", "A,B\n".repeat(100_000)).as_bytes(),
        1_000_000,
    )
    .unwrap();
    assert_eq!(huge.rows.len(), 100, "the preview is capped");
    let wide = customers::preview(
        format!("account,name\nA,{}\n", "x".repeat(1 << 20)).as_bytes(),
        5,
    )
    .unwrap();
    assert_eq!(
        wide.rows[0].cells[1].chars().count(),
        201,
        "a cell is cut for display"
    );
}

#[test]
fn import_needs_a_named_operator() {
    let (_dir, store, clock) = open();
    let err = customers::import(
        &mut store.conn(),
        &clock,
        "  ",
        b"account,name\nA,B\n".as_slice(),
        ImportMode::SkipInvalid,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(err, CustomerError::Audit(_)));
    assert_eq!(customers::count(&store.conn()).unwrap(), 0);
}

/// `n` sample customers as the billing system would export them, accounts from `first`.
fn sample_file(n: usize, seed: u64, first: usize) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "Account Number",
        "Name",
        "Email",
        "Phone",
        "Service Address",
        "Notes",
    ])
    .unwrap();
    for (i, c) in customers::synthetic(n, seed).enumerate() {
        w.write_record([
            &format!("S-{:07}", first + i),
            &c.name,
            &c.email,
            &c.phone,
            &c.service_address,
            &c.notes,
        ])
        .unwrap();
    }
    w.into_inner().unwrap()
}

/// Every row of the search index, in key order.
fn index_rows(conn: &Connection) -> Vec<(String, i64)> {
    conn.prepare("SELECT term, customer_id FROM customer_terms ORDER BY term, customer_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The index as the import left it must be exactly the one built afresh from the records.
fn assert_index_matches_the_records(store: &Store) {
    let mut conn = store.conn();
    let imported = index_rows(&conn);
    customers::reindex(&mut conn).unwrap();
    let rebuilt = index_rows(&conn);
    assert_eq!(imported.len(), rebuilt.len());
    assert!(
        imported == rebuilt,
        "the imported index differs from the records"
    );
}

#[test]
fn a_first_import_of_many_customers_indexes_every_one_of_them() {
    let (_dir, store, clock) = open();
    let file = sample_file(21_000, 5, 1);
    let report = import(&store, &clock, &file, ImportMode::AllOrNothing).unwrap();
    assert!(report.committed);
    assert_eq!(report.inserted, 21_000);
    assert_index_matches_the_records(&store);
    let conn = store.conn();
    let last = customers::by_account(&conn, "S-0021000").unwrap().unwrap();
    let phone = last.phone.clone().unwrap_or_default();
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let fragment = &digits[digits.len() - 7..digits.len() - 2];
    let found = customers::search(&conn, fragment, 200, 0).unwrap();
    assert!(
        found.iter().any(|c| c.id == last.id),
        "{fragment} finds {phone}"
    );
}

#[test]
fn importing_after_a_few_sample_customers_keeps_them_findable() {
    let (_dir, store, clock) = open();
    customers::load_sample(&mut store.conn(), &clock, "admin", 25).unwrap();
    let sample: Vec<Customer> = customers::search(&store.conn(), "", 25, 0).unwrap();
    let report = import(
        &store,
        &clock,
        &sample_file(12_000, 6, 1),
        ImportMode::AllOrNothing,
    )
    .unwrap();
    assert_eq!(report.inserted, 12_000);
    assert_index_matches_the_records(&store);
    let conn = store.conn();
    for c in &sample {
        let found = customers::search(&conn, &c.account_number, 5, 0).unwrap();
        assert_eq!(found[0].id, c.id, "{}", c.account_number);
    }
}

#[test]
fn importing_into_a_large_database_adds_to_its_index() {
    let (_dir, store, clock) = open();
    import(
        &store,
        &clock,
        &sample_file(12_000, 7, 1),
        ImportMode::AllOrNothing,
    )
    .unwrap();
    clock.advance_secs(60);
    // A few hundred new customers, and updates to some of the existing ones.
    let mut update = String::from_utf8(sample_file(300, 8, 11_901)).unwrap();
    update.push_str("S-0000002,Renamed Customer,,,,\n");
    let report = import(&store, &clock, update.as_bytes(), ImportMode::AllOrNothing).unwrap();
    assert_eq!((report.inserted, report.updated), (200, 101));
    assert_index_matches_the_records(&store);
    let conn = store.conn();
    let renamed = customers::search(&conn, "renamed", 5, 0).unwrap();
    assert_eq!(renamed.len(), 1);
    assert_eq!(renamed[0].account_number, "S-0000002");
}

#[test]
fn a_repeated_account_number_far_down_the_file_names_the_first_line() {
    let (_dir, store, clock) = open();
    let mut file = String::from_utf8(sample_file(21_000, 9, 1)).unwrap();
    // Some sample notes span lines, so the last row's line is counted, not assumed.
    let last_line = file.matches('\n').count() as u64 + 1;
    let first_line = file[..file.find("S-0000003").unwrap()]
        .matches('\n')
        .count()
        + 1;
    file.push_str("s-0000003,Someone Else,,,,\n");
    let report = import(&store, &clock, file.as_bytes(), ImportMode::SkipInvalid).unwrap();
    assert_eq!(report.inserted, 21_000);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].line, last_line);
    assert!(
        report.rejected[0]
            .reason
            .contains(&format!("also on line {first_line};")),
        "{}",
        report.rejected[0].reason
    );
    assert_index_matches_the_records(&store);

    let (_dir, store, clock) = open();
    let report = import(&store, &clock, file.as_bytes(), ImportMode::AllOrNothing).unwrap();
    assert!(!report.committed);
    assert_eq!(snapshot(&store.conn()).0, 0, "nothing was saved");
    assert_eq!(snapshot(&store.conn()).1, 0, "nothing was indexed");
}

#[test]
fn an_import_leaves_its_pages_in_the_log_until_the_checkpoint_and_its_settings_as_they_were() {
    let (dir, store, clock) = open();
    let db = dir.path().join("desk.db");
    let setting = |name: &str| -> i64 {
        store
            .conn()
            .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .unwrap()
    };
    let (cache, checkpoint_pages) = (setting("cache_size"), setting("wal_autocheckpoint"));
    let mut file = String::from("account_number,name,phone\n");
    for c in customers::synthetic(20_000, 4) {
        file.push_str(&format!("{},{},{}\n", c.account_number, c.name, c.phone));
    }
    let report = import(&store, &clock, file.as_bytes(), ImportMode::AllOrNothing).unwrap();
    assert_eq!(report.inserted, 20_000);
    assert_eq!(setting("cache_size"), cache);
    assert_eq!(setting("wal_autocheckpoint"), checkpoint_pages);

    let size = || std::fs::metadata(&db).unwrap().len();
    let before = size();
    store.checkpoint().unwrap();
    let after = size();
    assert!(
        after > before + 1_000_000,
        "the checkpoint copies the import into the file: {before} -> {after} bytes"
    );
    // Everything is there, through the app's connection and a fresh one.
    let fresh = Store::open(&db).unwrap();
    assert_eq!(customers::count(&fresh.conn()).unwrap(), 20_000);
    assert_eq!(customers::count(&store.conn()).unwrap(), 20_000);
}

#[test]
fn a_checkpoint_never_creates_a_database_that_is_gone() {
    let (dir, store, _clock) = open();
    let db = dir.path().join("desk.db");
    std::fs::remove_file(&db).unwrap();
    assert!(store.checkpoint().is_err());
    assert!(!db.exists());
    let memory = Store::open_in_memory(Arc::new(ManualClock::start())).unwrap();
    memory.checkpoint().unwrap();
}
