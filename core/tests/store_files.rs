//! The database file: created fresh, upgraded from every earlier schema, refused when newer,
//! backed up online.

use std::sync::Arc;

use otp_desk_core::store::{self, StoreError};
use otp_desk_core::{ManualClock, Store};

#[test]
fn a_fresh_database_file_is_created_with_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/folder/otp-desk.db");
    Store::open(&path).unwrap();
    assert!(path.exists());
}

#[test]
fn a_database_made_by_every_earlier_schema_version_opens_and_is_upgraded() {
    for version in 0..store::schema_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let mut conn = rusqlite::Connection::open(&path).unwrap();
            store::migrations().to_version(&mut conn, version).unwrap();
        }
        let s = Store::open(&path).unwrap_or_else(|e| panic!("from version {version}: {e}"));
        let v: i64 = s
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, store::schema_version());
    }
}

#[test]
fn reopening_a_current_database_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    {
        let s = Store::open(&path).unwrap();
        s.conn()
            .execute(
                "INSERT INTO settings (key, value) VALUES ('company_name', 'Acme')",
                [],
            )
            .unwrap();
    }
    let s = Store::open(&path).unwrap();
    let v: String = s
        .conn()
        .query_row("SELECT value FROM settings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, "Acme");
}

#[test]
fn a_database_from_a_newer_version_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA user_version = 99;").unwrap();
    }
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }));
    assert!(
        err.to_string().contains("newer version of OTP Desk"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "these are not the tables you are looking for\n".repeat(200),
    )
    .unwrap();
    assert!(Store::open(&path).is_err());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("these are not"),
        "the file was left as it was"
    );
}

#[test]
fn backup_copies_the_live_database_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let s =
        Store::open_with_clock(dir.path().join("live.db"), Arc::new(ManualClock::start())).unwrap();
    s.conn()
        .execute(
            "INSERT INTO settings (key, value) VALUES ('company_name', 'Acme')",
            [],
        )
        .unwrap();
    let target = dir.path().join("backup.db");
    s.backup_to(&target).unwrap();
    let copy = Store::open(&target).unwrap();
    let v: String = copy
        .conn()
        .query_row("SELECT value FROM settings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, "Acme");
    assert!(matches!(
        s.backup_to(&target),
        Err(StoreError::BackupExists(_))
    ));
}

#[test]
fn the_database_location_can_be_overridden() {
    // Only the override is checked here: the default depends on the user's OS folders.
    std::env::set_var(store::DB_ENV, "/tmp/somewhere/else.db");
    assert_eq!(
        store::default_db_path().unwrap(),
        std::path::PathBuf::from("/tmp/somewhere/else.db")
    );
    std::env::remove_var(store::DB_ENV);
    let default = store::default_db_path().unwrap();
    assert!(default.ends_with("otp-desk.db"), "{}", default.display());
}
