//! Restoring a backup: the admin picks a file made by "Backup now", the desk keeps running,
//! a safety copy of what was there is written first, and anything that is not a sound OTP
//! Desk backup is refused before a byte changes.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{wrong, Desk};
use otp_desk_core::admin;
use otp_desk_core::audit::{self, Filter, Kind};
use otp_desk_core::codes::{CodeKey, Verdict};
use otp_desk_core::contact::Channel;
use otp_desk_core::customers::{self, CustomerInput};
use otp_desk_core::settings;
use otp_desk_core::store::{self, RestoreError};
use otp_desk_core::{ManualClock, Store};

fn add_customer(store: &Store, account: &str, name: &str) -> i64 {
    customers::create(
        &mut store.conn(),
        store.clock(),
        "Ann",
        &CustomerInput {
            account_number: account.into(),
            name: name.into(),
            email: format!("{}@example.com", account.to_lowercase()),
            ..Default::default()
        },
    )
    .unwrap()
    .id
}

fn accounts(store: &Store) -> Vec<String> {
    customers::search(&store.conn(), "", 100, 0)
        .unwrap()
        .into_iter()
        .map(|c| c.account_number)
        .collect()
}

fn database_id(store: &Store) -> String {
    store::database_id(&store.conn()).unwrap()
}

fn safety_copies(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("otp-desk-before-restore-") && n.ends_with(".db"))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn admin_restores_a_backup_and_the_desk_keeps_working() {
    let desk = Desk::new();
    add_customer(&desk.store, "WB-1", "Ann Able");
    let backup = desk.dir.path().join("backup-monday.db");
    desk.store.backup_to(&backup).unwrap();

    // After the backup: a new customer and a changed setting.
    add_customer(&desk.store, "WB-2", "Bo Brown");
    settings::set(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Ann",
        "code_lifetime_minutes",
        "3",
    )
    .unwrap();
    let other_desk = desk.second_desk();

    let report = desk.store.restore_from(&backup, "Ann").unwrap();
    assert_eq!(accounts(&desk.store), ["WB-1"]);
    assert_eq!(
        settings::load(&desk.store.conn())
            .unwrap()
            .code_lifetime_minutes,
        5
    );
    assert_eq!(report.customers, 1);
    assert_eq!(report.schema_version, store::schema_version());
    assert_eq!(report.restored_from, backup.display().to_string());

    // The safety copy holds the database as it was just before, next to the live file.
    let copies = safety_copies(desk.dir.path());
    assert_eq!(copies.len(), 1);
    assert_eq!(report.safety_copy, copies[0].display().to_string());
    assert!(report
        .safety_copy
        .ends_with("otp-desk-before-restore-20260302T090000Z.db"));
    let before = Store::open(&copies[0]).unwrap();
    assert_eq!(accounts(&before), ["WB-1", "WB-2"]);

    // The same Store keeps working, and another desk on the file sees the restored data.
    add_customer(&desk.store, "WB-3", "Cy Cole");
    assert_eq!(accounts(&other_desk), ["WB-1", "WB-3"]);
    let mode: String = desk
        .store
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");

    // The restore is in the restored trail, saying from where and where the old one went.
    let restored = audit::query(
        &desk.store.conn(),
        &Filter {
            kinds: vec![Kind::DatabaseRestored],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(restored.len(), 1);
    assert_eq!(restored[0].operator, "Ann");
    assert!(
        restored[0].detail.contains("backup-monday.db"),
        "{}",
        restored[0].detail
    );
    assert!(restored[0].detail.contains("otp-desk-before-restore-"));

    // A second restore in the same second gets a safety copy of its own.
    desk.store.restore_from(&backup, "Ann").unwrap();
    assert_eq!(safety_copies(desk.dir.path()).len(), 2);
}

#[test]
fn pending_codes_are_cancelled_and_the_hashing_key_still_fits() {
    let desk = Desk::new();
    let jo = desk.customer("WB-7", "Jo", Some("jo@example.com"), None);
    let id_before = database_id(&desk.store);
    let pending = desk.send(jo, Channel::Email).unwrap();
    let backup = desk.dir.path().join("backup.db");
    desk.store.backup_to(&backup).unwrap();

    let report = desk.store.restore_from(&backup, "Ann").unwrap();
    assert_eq!(report.pending_codes_cancelled, 1);
    // The code sent before the backup does not verify: the clerk sends a new one.
    assert_eq!(
        desk.check(pending.challenge_id, &pending.code),
        Verdict::NoActiveCode
    );
    // The database keeps its id, so the key the app holds is still the right one.
    assert_eq!(database_id(&desk.store), id_before);
    desk.clock.advance_secs(61);
    let fresh = desk.send(jo, Channel::Email).unwrap();
    assert!(desk.check(fresh.challenge_id, &fresh.code).is_verified());
}

#[test]
fn a_backup_of_another_office_gets_this_databases_id_not_its_own() {
    let ours = Desk::new();
    let theirs = Desk::new();
    let their_id = database_id(&theirs.store);
    let our_id = database_id(&ours.store);
    assert_ne!(their_id, our_id);
    let jo = theirs.customer("WB-7", "Jo", Some("jo@example.com"), None);
    // Their pending code was hashed with their key, which this office does not have.
    let theirs_code = theirs.send(jo, Channel::Email).unwrap();
    let backup = theirs.dir.path().join("theirs.db");
    theirs.store.backup_to(&backup).unwrap();

    let report = ours.store.restore_from(&backup, "Ann").unwrap();
    assert_eq!(report.pending_codes_cancelled, 1);
    assert_eq!(
        database_id(&ours.store),
        our_id,
        "two databases never share a key"
    );
    // Our key is another key: a code from them could never verify here, and does not count
    // as a wrong attempt either.
    let _ = CodeKey::from_bytes([1; 32]);
    assert_eq!(
        ours.check(theirs_code.challenge_id, &wrong(&theirs_code.code)),
        Verdict::NoActiveCode
    );
}

#[test]
fn the_admin_passphrase_in_force_stays_in_force() {
    let desk = Desk::new();
    admin::set(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Ann",
        "old words for the desk",
    )
    .unwrap();
    let backup = desk.dir.path().join("backup.db");
    desk.store.backup_to(&backup).unwrap();
    admin::change(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Ann",
        "old words for the desk",
        "new words for the desk",
    )
    .unwrap();
    desk.store.restore_from(&backup, "Ann").unwrap();
    admin::verify(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Ann",
        "new words for the desk",
    )
    .unwrap();
    assert!(admin::verify(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Ann",
        "old words for the desk"
    )
    .is_err());
}

#[test]
fn a_backup_from_an_older_version_is_brought_up_to_date() {
    let desk = Desk::new();
    let old = desk.dir.path().join("old-version.db");
    {
        let mut conn = rusqlite::Connection::open(&old).unwrap();
        store::migrations().to_version(&mut conn, 3).unwrap();
        conn.execute(
            "INSERT INTO customers (account_number, name, created_at, updated_at) VALUES ('WB-OLD', 'Old Timer', 0, 0)",
            [],
        )
        .unwrap();
    }
    let report = desk.store.restore_from(&old, "Ann").unwrap();
    assert_eq!(report.backup_schema_version, 3);
    let v: i64 = desk
        .store
        .conn()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v as usize, store::schema_version());
    // Tables of the newer schema are there and work.
    otp_desk_core::operators::add(&mut desk.store.conn(), desk.store.clock(), "Ann", "Bea")
        .unwrap();
    let n: i64 = desk
        .store
        .conn()
        .query_row(
            "SELECT count(*) FROM customers WHERE account_number = 'WB-OLD'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn a_backup_from_an_installation_with_larger_pages_restores_too() {
    let desk = Desk::new();
    let big_pages = desk.dir.path().join("4k.db");
    {
        let mut conn = rusqlite::Connection::open(&big_pages).unwrap();
        conn.execute_batch("PRAGMA page_size = 4096;").unwrap();
        store::migrations().to_latest(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO customers (account_number, name, created_at, updated_at) VALUES ('WB-4K', 'Four Kay', 0, 0)",
            [],
        )
        .unwrap();
    }
    desk.store.restore_from(&big_pages, "Ann").unwrap();
    assert_eq!(accounts(&desk.store), ["WB-4K"]);
    add_customer(&desk.store, "WB-5", "Five");
    drop(desk.store);
    let reopened = Store::open_with_clock(&desk.path, Arc::new(ManualClock::start())).unwrap();
    assert_eq!(accounts(&reopened), ["WB-4K", "WB-5"]);
}

/// The live database, compared before and after a refused restore.
fn fingerprint(store: &Store) -> (Vec<String>, i64) {
    let events: i64 = store
        .conn()
        .query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0))
        .unwrap();
    (accounts(store), events)
}

fn refused(desk: &Desk, file: &Path) -> RestoreError {
    let before = fingerprint(&desk.store);
    let err = desk.store.restore_from(file, "Ann").unwrap_err();
    assert_eq!(
        fingerprint(&desk.store),
        before,
        "nothing changed for {err}"
    );
    assert!(
        safety_copies(desk.dir.path()).is_empty(),
        "no copy for {err}"
    );
    let shown = err.to_string();
    assert!(shown.len() < 600, "{shown}");
    err
}

#[test]
fn anything_but_a_sound_otp_desk_backup_is_refused_before_anything_changes() {
    let desk = Desk::new();
    add_customer(&desk.store, "WB-1", "Ann Able");
    let dir = desk.dir.path();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };

    let text = write("notes.txt", &b"plain text, not a database\r\n".repeat(100));
    let err = refused(&desk, &text);
    assert!(matches!(err, RestoreError::NotOtpDesk { .. }), "{err}");
    assert!(
        err.to_string().contains("is not an OTP Desk database"),
        "{err}"
    );

    let empty = write("empty.db", b"");
    assert!(matches!(
        refused(&desk, &empty),
        RestoreError::NotOtpDesk { .. }
    ));

    let huge = write("huge.db", &vec![0x42u8; 1 << 20]);
    assert!(matches!(
        refused(&desk, &huge),
        RestoreError::NotOtpDesk { .. }
    ));

    let html = write("page.html", b"<html><script>alert(1)</script></html>");
    assert!(matches!(
        refused(&desk, &html),
        RestoreError::NotOtpDesk { .. }
    ));

    // Some other program's SQLite file.
    let foreign = dir.join("photos.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch(
            "CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT); PRAGMA user_version = 2;",
        )
        .unwrap();
    let err = refused(&desk, &foreign);
    assert!(err.to_string().contains("it has no customers"), "{err}");

    // Made by a newer OTP Desk.
    let newer = dir.join("newer.db");
    desk.store.backup_to(&newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99;")
        .unwrap();
    let err = refused(&desk, &newer);
    assert!(
        matches!(err, RestoreError::TooNew { found: 99, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("newer version of OTP Desk"),
        "{err}"
    );

    // Damaged: a backup with a page overwritten in the middle.
    let damaged = dir.join("damaged.db");
    for i in 0..300 {
        add_customer(
            &desk.store,
            &format!("WB-{}", 100 + i),
            "Filler Customer Name",
        );
    }
    desk.store.backup_to(&damaged).unwrap();
    let mut bytes = std::fs::read(&damaged).unwrap();
    let middle = bytes.len() / 2 / 2048 * 2048;
    for b in &mut bytes[middle + 8..middle + 2040] {
        *b = 0xA5;
    }
    std::fs::write(&damaged, &bytes).unwrap();
    let err = refused(&desk, &damaged);
    assert!(
        matches!(
            err,
            RestoreError::Damaged { .. } | RestoreError::NotOtpDesk { .. }
        ),
        "{err}"
    );

    // No such file, a folder, and the open database itself.
    assert!(matches!(
        refused(&desk, &dir.join("missing.db")),
        RestoreError::Open { .. }
    ));
    assert!(matches!(refused(&desk, dir), RestoreError::Open { .. }));
    assert!(matches!(
        refused(&desk, &desk.path),
        RestoreError::SameFile(_)
    ));
    // Hostile names are reported, not interpreted.
    for name in [
        "bad\r\nname.db",
        "<b>x</b>.db",
        "x'; DROP TABLE customers;--.db",
        "\u{202E}bd.exe",
    ] {
        let err = refused(&desk, &dir.join(name));
        assert!(matches!(err, RestoreError::Open { .. }), "{err}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let invalid = dir.join(std::ffi::OsStr::from_bytes(b"caf\xe9.db"));
        assert!(matches!(
            refused(&desk, &invalid),
            RestoreError::Open { .. }
        ));
    }
    // Who restores must be a valid operator name.
    let good = dir.join("good.db");
    desk.store.backup_to(&good).unwrap();
    assert!(matches!(
        desk.store.restore_from(&good, "\u{202E}"),
        Err(RestoreError::Operator(_))
    ));
}

#[test]
fn an_in_memory_database_has_nothing_to_restore_into() {
    let desk = Desk::new();
    let backup = desk.dir.path().join("b.db");
    desk.store.backup_to(&backup).unwrap();
    let memory = Store::open_in_memory(Arc::new(ManualClock::start())).unwrap();
    assert!(matches!(
        memory.restore_from(&backup, "Ann"),
        Err(RestoreError::InMemory)
    ));
}
