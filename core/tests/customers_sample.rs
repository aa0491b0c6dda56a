//! "Load sample customers" on a fresh install with no data yet.

use std::sync::Arc;

use otp_desk_core::customers::{self, CustomerError};
use otp_desk_core::{ManualClock, Store};

#[test]
fn fresh_install_loads_sample_customers_and_loading_twice_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::start();
    let store =
        Store::open_with_clock(dir.path().join("desk.db"), Arc::new(clock.clone())).unwrap();
    let mut conn = store.conn();
    assert_eq!(
        customers::load_sample(&mut conn, &clock, "admin", 250).unwrap(),
        250
    );
    let first = customers::search(&conn, "", 250, 0).unwrap();
    assert_eq!(customers::count(&conn).unwrap(), 250);

    clock.advance_secs(60);
    assert_eq!(
        customers::load_sample(&mut conn, &clock, "admin", 250).unwrap(),
        250
    );
    assert_eq!(customers::count(&conn).unwrap(), 250);
    assert_eq!(
        customers::search(&conn, "", 250, 0).unwrap(),
        first,
        "nothing changed, not even a timestamp"
    );

    let one = &first[0];
    assert_eq!(one.account_number, "WB-0000001");
    assert_eq!(
        customers::search(&conn, "WB-0000001", 5, 0).unwrap()[0].id,
        one.id
    );
    assert!(first.iter().filter(|c| c.phone_e164.is_some()).count() > 150);
    assert!(first
        .iter()
        .all(|c| c.email.as_deref().is_none_or(|e| e.contains("example."))));

    let details: Vec<String> = conn
        .prepare("SELECT detail FROM audit_events WHERE kind = 'customers_imported' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        details,
        [
            "sample customers: 250 added, 0 updated, 0 unchanged",
            "sample customers: 0 added, 0 updated, 250 unchanged"
        ]
    );
}

#[test]
fn sample_size_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::start();
    let store =
        Store::open_with_clock(dir.path().join("desk.db"), Arc::new(clock.clone())).unwrap();
    let mut conn = store.conn();
    let err = customers::load_sample(&mut conn, &clock, "admin", usize::MAX).unwrap_err();
    assert!(matches!(err, CustomerError::Invalid(_)));
    assert!(err.to_string().contains("at most 100000 sample customers"));
    assert_eq!(
        customers::load_sample(&mut conn, &clock, "admin", 0).unwrap(),
        0
    );
    assert_eq!(customers::count(&conn).unwrap(), 0);
}
