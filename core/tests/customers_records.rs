//! Adding, editing and deleting customers at the desk, on a real database file.

use std::sync::Arc;

use otp_desk_core::customers::{self, CustomerError, CustomerInput};
use otp_desk_core::{settings, Clock, ManualClock, Store};
use rusqlite::Connection;
use tempfile::TempDir;

fn open() -> (TempDir, Store, ManualClock) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::start();
    let store =
        Store::open_with_clock(dir.path().join("desk.db"), Arc::new(clock.clone())).unwrap();
    (dir, store, clock)
}

fn ann() -> CustomerInput {
    CustomerInput {
        account_number: "WB-0000042".into(),
        name: "Ann Lee".into(),
        email: " Ann.Lee@Example.COM ".into(),
        phone: "(415) 555-0132".into(),
        service_address: "12 Oak St\r\nSpringfield".into(),
        notes: "Gate code on file".into(),
    }
}

fn audit(conn: &Connection) -> Vec<(String, String, Option<String>, String)> {
    conn.prepare("SELECT kind, result, account_number, detail FROM audit_events ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn table_count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn clerk_adds_a_customer_and_it_is_stored_normalised() {
    let (_dir, store, clock) = open();
    let mut conn = store.conn();
    let c = customers::create(&mut conn, &clock, "ann", &ann()).unwrap();
    assert_eq!(c.account_number, "WB-0000042");
    assert_eq!(c.email.as_deref(), Some("Ann.Lee@example.com"));
    assert_eq!(c.phone.as_deref(), Some("(415) 555-0132"));
    assert_eq!(c.phone_e164.as_deref(), Some("+14155550132"));
    assert_eq!(c.service_address, "12 Oak St\nSpringfield");
    assert_eq!(c.created_at, clock.now_ms());
    assert_eq!(customers::get(&conn, c.id).unwrap(), Some(c.clone()));
    assert_eq!(
        customers::by_account(&conn, "wb-0000042").unwrap(),
        Some(c.clone())
    );
    assert_eq!(customers::count(&conn).unwrap(), 1);
    assert_eq!(
        audit(&conn),
        [(
            "customer_created".into(),
            "ok".into(),
            Some("WB-0000042".into()),
            "".into()
        )]
    );
}

#[test]
fn customer_without_email_or_phone_is_fine() {
    let (_dir, store, clock) = open();
    let mut conn = store.conn();
    let input = CustomerInput {
        account_number: "7".into(),
        name: "Bo".into(),
        ..Default::default()
    };
    let c = customers::create(&mut conn, &clock, "ann", &input).unwrap();
    assert_eq!((c.email, c.phone, c.phone_e164), (None, None, None));
}

#[test]
fn default_region_setting_decides_how_national_numbers_parse() {
    let (_dir, store, clock) = open();
    let mut conn = store.conn();
    settings::set(&mut conn, &clock, "admin", "default_region", "GB").unwrap();
    let mut input = ann();
    input.phone = "020 7946 0958".into();
    let c = customers::create(&mut conn, &clock, "ann", &input).unwrap();
    assert_eq!(c.phone.as_deref(), Some("020 7946 0958"));
    assert_eq!(c.phone_e164.as_deref(), Some("+442079460958"));
}

#[test]
fn a_number_that_does_not_parse_is_kept_as_entered() {
    let (_dir, store, clock) = open();
    let mut conn = store.conn();
    let mut input = ann();
    input.phone = "555-01 ext 4".replace("ext ", "x");
    let c = customers::create(&mut conn, &clock, "ann", &input).unwrap();
    assert_eq!(c.phone.as_deref(), Some("555-01 x4"));
    assert_eq!(c.phone_e164, None);
}

#[test]
fn invalid_form_reports_every_field_and_saves_nothing() {
    let (_dir, store, clock) = open();
    let mut conn = store.conn();
    let err = customers::create(
        &mut conn,
        &clock,
        "ann",
        &CustomerInput {
            email: "ann at example".into(),
            phone: "call me".into(),
            ..Default::default()
        },
    )
    .unwrap_err();
    let CustomerError::Invalid(fields) = &err else {
        panic!("{err:?}");
    };
    let names: Vec<&str> = fields.iter().map(|f| f.field).collect();
    assert_eq!(names, ["account_number", "name", "email", "phone"]);
    assert!(err.to_string().starts_with(
        "the customer was not saved: the account number is required; the name is required;"
    ));
    assert_eq!(table_count(&conn, "customers"), 0);
    assert_eq!(table_count(&conn, "customer_terms"), 0);
    assert_eq!(table_count(&conn, "audit_events"), 0);
}

#[test]
fn duplicate_account_number_is_refused_whatever_its_case() {
    let (_dir, store, clock) = open();
    let mut conn = store.conn();
    customers::create(&mut conn, &clock, "ann", &ann()).unwrap();
    let mut other = ann();
    other.account_number = "wb-0000042".into();
    other.name = "Someone Else".into();
    let err = customers::create(&mut conn, &clock, "ann", &other).unwrap_err();
    assert!(matches!(err, CustomerError::DuplicateAccount(_)));
    assert_eq!(
        err.to_string(),
        "account number wb-0000042 already belongs to another customer; search for it and edit that record instead"
    );
    assert_eq!(customers::count(&conn).unwrap(), 1);
    assert!(customers::search(&conn, "someone", 10, 0)
        .unwrap()
        .is_empty());
}

#[test]
fn clerk_edits_a_customer_and_search_follows() {
    let (_dir, store, clock) = open();
    let mut conn = store.conn();
    let c = customers::create(&mut conn, &clock, "ann", &ann()).unwrap();
    clock.advance_secs(60);
    let mut edit = ann();
    edit.name = "Ann Smith".into();
    edit.email = "ann.smith@example.com".into();
    edit.phone = "".into();
    let u = customers::update(&mut conn, &clock, "bob", c.id, &edit).unwrap();
    assert_eq!(u.name, "Ann Smith");
    assert_eq!((u.phone, u.phone_e164), (None, None));
    assert_eq!(u.created_at, c.created_at);
    assert_eq!(u.updated_at, c.created_at + 60_000);
    assert!(customers::search(&conn, "lee", 10, 0).unwrap().is_empty());
    assert!(customers::search(&conn, "0132", 10, 0).unwrap().is_empty());
    assert_eq!(
        customers::search(&conn, "smith", 10, 0).unwrap()[0].id,
        c.id
    );
    let trail = audit(&conn);
    assert_eq!(trail[1].0, "customer_updated");
    assert_eq!(
        trail[1].3, "changed: name, email, phone",
        "names of fields, never their values"
    );
}

#[test]
fn editing_a_missing_customer_says_not_found() {
    let (_dir, store, clock) = open();
    let mut conn = store.conn();
    let err = customers::update(&mut conn, &clock, "ann", 999, &ann()).unwrap_err();
    assert!(matches!(err, CustomerError::NotFound(999)));
    assert_eq!(customers::count(&conn).unwrap(), 0);
}

fn pending_code(conn: &Connection, customer_id: i64, expires_at: i64) {
    conn.execute(
        "INSERT INTO codes (customer_id, channel, destination, code_hash, digits, created_at, expires_at, max_attempts, operator)
         VALUES (?1, 'email', 'ann.lee@example.com', x'00', 6, ?2, ?3, 5, 'ann')",
        rusqlite::params![customer_id, expires_at - 300_000, expires_at],
    )
    .unwrap();
}

#[test]
fn delete_is_refused_while_a_code_is_pending_and_allowed_after_it_expires() {
    let (_dir, store, clock) = open();
    let mut conn = store.conn();
    let c = customers::create(&mut conn, &clock, "ann", &ann()).unwrap();
    pending_code(&conn, c.id, clock.now_ms() + 300_000);

    let err = customers::delete(&mut conn, &clock, "ann", c.id).unwrap_err();
    assert!(matches!(err, CustomerError::HasPendingCode));
    assert!(err
        .to_string()
        .contains("finish verifying or wait for the code to expire"));
    assert!(customers::get(&conn, c.id).unwrap().is_some());
    assert!(!customers::search(&conn, "ann", 10, 0).unwrap().is_empty());
    assert_eq!(audit(&conn).last().unwrap().1, "refused");

    clock.advance_secs(301);
    customers::delete(&mut conn, &clock, "ann", c.id).unwrap();
    assert!(customers::get(&conn, c.id).unwrap().is_none());
    assert_eq!(
        table_count(&conn, "codes"),
        0,
        "its finished codes go with it"
    );
    assert_eq!(table_count(&conn, "customer_terms"), 0);
    let last = audit(&conn).pop().unwrap();
    assert_eq!(
        last,
        (
            "customer_deleted".into(),
            "ok".into(),
            Some("WB-0000042".into()),
            "".into()
        )
    );
}

#[test]
fn deleting_a_missing_customer_says_not_found() {
    let (_dir, store, clock) = open();
    let mut conn = store.conn();
    assert!(matches!(
        customers::delete(&mut conn, &clock, "ann", 5),
        Err(CustomerError::NotFound(5))
    ));
    assert_eq!(table_count(&conn, "audit_events"), 0);
}

#[test]
fn customers_survive_closing_and_reopening_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.db");
    let clock = ManualClock::start();
    let id = {
        let store = Store::open_with_clock(&path, Arc::new(clock.clone())).unwrap();
        let mut conn = store.conn();
        customers::create(&mut conn, &clock, "ann", &ann())
            .unwrap()
            .id
    };
    let store = Store::open(&path).unwrap();
    let conn = store.conn();
    assert_eq!(customers::search(&conn, "555 01", 10, 0).unwrap()[0].id, id);
}

#[test]
fn hostile_text_is_stored_as_text_and_hostile_codes_are_refused() {
    let (_dir, store, clock) = open();
    let mut conn = store.conn();
    let mut input = ann();
    input.name = "<script>alert(1)</script>".into();
    input.notes = "Robert'); DROP TABLE customers;--".into();
    let c = customers::create(&mut conn, &clock, "ann", &input).unwrap();
    let stored = customers::get(&conn, c.id).unwrap().unwrap();
    assert_eq!(stored.name, "<script>alert(1)</script>");
    assert_eq!(stored.notes, "Robert'); DROP TABLE customers;--");
    assert_eq!(customers::search(&conn, "script", 10, 0).unwrap().len(), 1);

    let cases: Vec<(&str, CustomerInput)> = vec![
        ("empty", CustomerInput::default()),
        (
            "SQL in account number",
            CustomerInput {
                account_number: "'; DROP TABLE customers;--".into(),
                ..ann()
            },
        ),
        (
            "HTML in account number",
            CustomerInput {
                account_number: "<b>1</b>".into(),
                ..ann()
            },
        ),
        (
            "1 MB name",
            CustomerInput {
                account_number: "X1".into(),
                name: "n".repeat(1 << 20),
                ..ann()
            },
        ),
        (
            "1 MB notes",
            CustomerInput {
                account_number: "X2".into(),
                notes: "n".repeat(1 << 20),
                ..ann()
            },
        ),
        (
            "1 MB email",
            CustomerInput {
                account_number: "X3".into(),
                email: format!("{}@example.com", "a".repeat(1 << 20)),
                ..ann()
            },
        ),
        (
            "1 MB phone",
            CustomerInput {
                account_number: "X4".into(),
                phone: "5".repeat(1 << 20),
                ..ann()
            },
        ),
        (
            "CRLF in name",
            CustomerInput {
                account_number: "X5".into(),
                name: "Ann\r\nBcc: all".into(),
                ..ann()
            },
        ),
        (
            "CRLF in email",
            CustomerInput {
                account_number: "X6".into(),
                email: "ann@example.com\r\nBcc: x@example.com".into(),
                ..ann()
            },
        ),
        (
            "RTL override in name",
            CustomerInput {
                account_number: "X7".into(),
                name: "Ann \u{202E}eeL".into(),
                ..ann()
            },
        ),
        (
            "RTL override in address",
            CustomerInput {
                account_number: "X8".into(),
                service_address: "1 Main \u{202E}St".into(),
                ..ann()
            },
        ),
        (
            "RTL override in email",
            CustomerInput {
                account_number: "X9".into(),
                email: "ann\u{202E}@example.com".into(),
                ..ann()
            },
        ),
        (
            "NUL in notes",
            CustomerInput {
                account_number: "X10".into(),
                notes: "a\u{0}b".into(),
                ..ann()
            },
        ),
    ];
    for (what, input) in cases {
        let err = customers::create(&mut conn, &clock, "ann", &input).unwrap_err();
        let CustomerError::Invalid(fields) = &err else {
            panic!("{what}: {err:?}");
        };
        assert!(!fields.is_empty(), "{what}");
        assert!(
            err.to_string().len() < 600,
            "{what}: the message does not echo the input"
        );
        assert!(!err.to_string().contains('\u{202E}'), "{what}");
    }
    assert_eq!(
        customers::count(&conn).unwrap(),
        1,
        "only the first customer was saved"
    );
    assert_eq!(table_count(&conn, "audit_events"), 1);
    assert_eq!(
        customers::by_account(&conn, &"X".repeat(1 << 20)).unwrap(),
        None
    );
    assert_eq!(
        customers::by_account(&conn, "'; DROP TABLE customers;--").unwrap(),
        None
    );
    assert_eq!(customers::get(&conn, -1).unwrap(), None);
}

#[test]
fn the_operator_is_checked_before_anything_is_written() {
    let (_dir, store, clock) = open();
    let mut conn = store.conn();
    for bad in ["", "ann\r\nroot", "ann\u{202E}"] {
        assert!(matches!(
            customers::create(&mut conn, &clock, bad, &ann()),
            Err(CustomerError::Audit(_))
        ));
    }
    assert_eq!(customers::count(&conn).unwrap(), 0);
}
