//! What is kept about a code, and for how long: never the code, a keyed hash only; cleanup
//! removes old codes and leaves the audit trail alone.

mod common;

use common::Desk;
use otp_desk_core::audit;
use otp_desk_core::codes::{self, CodeError, CodeKey, IssueRequest, Target};
use otp_desk_core::contact::Channel;
use otp_desk_core::secrets::{MemorySecrets, SecretStore};
use otp_desk_core::settings;

fn issue(desk: &Desk, customer_id: i64) -> codes::Issued {
    codes::issue(
        &mut desk.store.conn(),
        desk.store.clock(),
        &desk.key,
        &IssueRequest {
            customer_id,
            channel: Channel::Email,
            destination: None,
            operator: "Ann",
            revealed: true,
        },
    )
    .unwrap()
}

#[test]
fn the_code_is_stored_nowhere_in_the_database_files() {
    let desk = Desk::new();
    // Eight digits make a chance match against other bytes in the file negligible.
    settings::set(
        &mut desk.store.conn(),
        desk.store.clock(),
        "admin",
        "code_digits",
        "8",
    )
    .unwrap();
    let id = desk.customer("WB-Q", "Quinn Hash", Some("quinn@example.com"), None);
    let issued = issue(&desk, id);
    desk.verify(Target::Challenge(issued.challenge_id), &issued.code)
        .unwrap();

    let needle = issued.code.as_bytes();
    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", desk.path.display());
        if let Ok(bytes) = std::fs::read(&path) {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "code found in {path}"
            );
        }
    }
    let conn = desk.store.conn();
    let hash: Vec<u8> = conn
        .query_row(
            "SELECT code_hash FROM codes WHERE id = ?1",
            [issued.challenge_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(hash.len(), 32, "HMAC-SHA-256");
    let trail = audit::query(&conn, &audit::Filter::default()).unwrap();
    assert!(
        trail.iter().any(|e| e.kind == "code_revealed"),
        "revealing a code is audited"
    );
    for e in &trail {
        let row = format!("{e:?}");
        assert!(
            !row.contains(issued.code.as_str()),
            "code in audit row {row}"
        );
        assert!(
            !row.contains("quinn@example.com"),
            "unmasked contact in audit row {row}"
        );
    }
}

#[test]
fn cleanup_deletes_old_codes_and_keeps_the_audit_trail() {
    let desk = Desk::new();
    let id = desk.customer("WB-C", "Cleo Clean", Some("cleo@example.com"), None);
    issue(&desk, id);
    desk.clock.advance_secs(31 * 24 * 3600);
    let fresh = issue(&desk, id);
    let events_before = audit::count(&desk.store.conn(), &audit::Filter::default()).unwrap();

    let report = codes::cleanup(&mut desk.store.conn(), desk.store.clock(), "admin", None).unwrap();
    assert_eq!(
        report.deleted_codes, 1,
        "the 31-day-old code goes, today's stays"
    );
    let left: Vec<i64> = desk
        .store
        .conn()
        .prepare("SELECT id FROM codes")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(left, [fresh.challenge_id]);
    let events_after = audit::count(&desk.store.conn(), &audit::Filter::default()).unwrap();
    assert_eq!(
        events_after,
        events_before + 1,
        "nothing removed, the cleanup itself recorded"
    );

    desk.clock.advance_secs(2 * 24 * 3600);
    let r = codes::cleanup(&mut desk.store.conn(), desk.store.clock(), "admin", Some(1)).unwrap();
    assert_eq!(r.deleted_codes, 1);
}

#[test]
fn cleanup_retention_has_the_settings_bounds() {
    let desk = Desk::new();
    for bad in [0, 366, u32::MAX] {
        let r = codes::cleanup(
            &mut desk.store.conn(),
            desk.store.clock(),
            "admin",
            Some(bad),
        );
        match r {
            Err(CodeError::Settings(e)) => {
                assert!(e.to_string().contains("between 1 and 365"), "{e}")
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn the_hashing_key_is_made_once_per_database_and_kept_in_the_secret_store() {
    let desk = Desk::new();
    let other = Desk::new();
    let secrets = MemorySecrets::new();
    let conn = desk.store.conn();
    let name = CodeKey::secret_name(&conn).unwrap();
    assert!(name.starts_with("code-key:"));
    assert!(!secrets.is_set(&name).unwrap());
    let k1 = CodeKey::load_or_create(&conn, &secrets).unwrap();
    assert!(secrets.is_set(&name).unwrap());
    let k2 = CodeKey::load_or_create(&conn, &secrets).unwrap();
    drop(conn);
    assert_ne!(name, CodeKey::secret_name(&other.store.conn()).unwrap());

    // A code issued with the first instance verifies with the second: it is the same key.
    let id = desk.customer("WB-K", "Kim Key", Some("kim@example.com"), None);
    let issued = codes::issue(
        &mut desk.store.conn(),
        desk.store.clock(),
        &k1,
        &IssueRequest {
            customer_id: id,
            channel: Channel::Email,
            destination: None,
            operator: "Ann",
            revealed: false,
        },
    )
    .unwrap();
    let r = codes::verify(
        &mut desk.store.conn(),
        desk.store.clock(),
        &k2,
        Target::Challenge(issued.challenge_id),
        &issued.code,
        "Ann",
    )
    .unwrap();
    assert!(r.verdict.is_verified());

    secrets.set(&name, "not base64!").unwrap();
    assert!(matches!(
        CodeKey::load_or_create(&desk.store.conn(), &secrets),
        Err(CodeError::BadKey(_))
    ));
    secrets.set(&name, "c2hvcnQ=").unwrap();
    assert!(matches!(
        CodeKey::load_or_create(&desk.store.conn(), &secrets),
        Err(CodeError::BadKey(_))
    ));
}

#[test]
fn a_code_from_another_key_does_not_verify() {
    let desk = Desk::new();
    let id = desk.customer("WB-X", "Xen Other", Some("xen@example.com"), None);
    let issued = issue(&desk, id);
    let stranger = CodeKey::from_bytes([1; 32]);
    let r = codes::verify(
        &mut desk.store.conn(),
        desk.store.clock(),
        &stranger,
        Target::Challenge(issued.challenge_id),
        &issued.code,
        "Ann",
    )
    .unwrap();
    assert!(!r.verdict.is_verified());
}

#[test]
fn a_large_cleanup_keeps_exactly_the_live_codes_intact() {
    let desk = Desk::new();
    let id = desk.customer("WB-L", "Lee Large", Some("lee@example.com"), None);
    // 30,000 long-expired codes written directly, then one live code through the front door.
    desk.store
        .conn()
        .execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
             INSERT INTO codes (customer_id, channel, destination, code_hash, digits, created_at,
                                expires_at, max_attempts, status, operator)
             SELECT 1, 'email', 'old' || i || '@example.com', randomblob(32), 6, i, i + 1, 5, 'dead', 'x' FROM n;",
        )
        .unwrap();
    let live = issue(&desk, id);
    let report =
        codes::cleanup(&mut desk.store.conn(), desk.store.clock(), "admin", Some(1)).unwrap();
    assert_eq!(report.deleted_codes, 30_000);
    // The bulk path is the one exercised.
    const { assert!(30_000 >= codes::BULK_CLEANUP_MIN_ROWS) };
    let left: i64 = desk
        .store
        .conn()
        .query_row("SELECT count(*) FROM codes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 1);
    // The survivor still verifies: same id, same hash.
    let r = desk
        .verify(Target::Challenge(live.challenge_id), &live.code)
        .unwrap();
    assert!(r.verdict.is_verified());
    // Ids are never reused after a bulk cleanup.
    desk.clock.advance_secs(61);
    let next = issue(&desk, id);
    assert!(next.challenge_id > live.challenge_id);
}
