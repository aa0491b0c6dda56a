//! An admin sets up mail accounts: a fresh database has the local outbox as its default,
//! there is always exactly one default, and passwords go to the secret store and never
//! come back out of anything the desk can call.

mod common;

use common::Desk;
use otp_desk_core::delivery::accounts::{self, AccountError, AccountInput, AccountKind, Security};
use otp_desk_core::secrets::{MemorySecrets, SecretStore};

fn outbox(name: &str) -> AccountInput {
    AccountInput {
        name: name.into(),
        kind: "outbox".into(),
        from_address: "desk@office.example".into(),
        ..Default::default()
    }
}

#[test]
fn a_fresh_database_sends_to_the_local_outbox_next_to_it() {
    let desk = Desk::new();
    let conn = desk.store.conn();
    let all = accounts::list(&conn).unwrap();
    assert_eq!(all.len(), 1);
    let a = accounts::default_account(&conn).unwrap();
    assert_eq!(
        (a.name.as_str(), a.kind),
        ("Local outbox", AccountKind::Outbox)
    );
    assert_eq!(
        a.outbox_folder(Some(&desk.path)).unwrap(),
        desk.dir.path().join("outbox")
    );
}

#[test]
fn exactly_one_account_is_the_default() {
    let desk = Desk::new();
    let mut conn = desk.store.conn();
    let clock = desk.store.clock();
    let second = accounts::add(&mut conn, clock, "Ann", &outbox("Shared folder")).unwrap();
    assert!(!second.is_default);
    accounts::set_default(&mut conn, clock, "Ann", "shared FOLDER").unwrap();
    let defaults: Vec<String> = accounts::list(&conn)
        .unwrap()
        .into_iter()
        .filter(|a| a.is_default)
        .map(|a| a.name)
        .collect();
    assert_eq!(defaults, ["Shared folder"]);
    let secrets = MemorySecrets::new();
    assert!(matches!(
        accounts::remove(&mut conn, clock, &secrets, "Ann", "Shared folder"),
        Err(AccountError::IsDefault(_))
    ));
    // The database itself refuses a second default, whatever a future query tries.
    assert!(conn
        .execute("UPDATE mail_accounts SET is_default = 1", [])
        .is_err());
    accounts::remove(&mut conn, clock, &secrets, "Ann", "Local outbox").unwrap();
    assert_eq!(accounts::list(&conn).unwrap().len(), 1);
}

#[test]
fn names_that_would_share_a_keyring_entry_are_refused() {
    let desk = Desk::new();
    let mut conn = desk.store.conn();
    let clock = desk.store.clock();
    for clash in ["Local outbox", "LOCAL OUTBOX", "local_outbox"] {
        assert!(
            matches!(
                accounts::add(&mut conn, clock, "Ann", &outbox(clash)),
                Err(AccountError::Exists(_))
            ),
            "{clash}"
        );
    }
}

#[test]
fn passwords_are_write_only_and_leave_with_the_account() {
    let desk = Desk::new();
    let mut conn = desk.store.conn();
    let clock = desk.store.clock();
    let secrets = MemorySecrets::new();
    let a = accounts::add(
        &mut conn,
        clock,
        "Ann",
        &AccountInput {
            name: "Office 365".into(),
            kind: "microsoft365".into(),
            username: "desk@office.example".into(),
            from_address: "desk@office.example".into(),
            from_name: "Billing <Desk>".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((a.port, a.security), (587, Security::Starttls));
    assert!(!accounts::password_is_set(&conn, &secrets, "Office 365").unwrap());
    accounts::set_password(&conn, clock, &secrets, "Ann", "Office 365", "first-pass-1").unwrap();
    accounts::set_password(&conn, clock, &secrets, "Ann", "Office 365", "second-pass-2").unwrap();
    assert!(accounts::password_is_set(&conn, &secrets, "Office 365").unwrap());
    assert_eq!(
        secrets.get("smtp:Office_365").unwrap().unwrap().as_str(),
        "second-pass-2",
        "stored under smtp:<name>"
    );
    // Nothing the desk lists carries it.
    let shown = serde_json::to_string(&accounts::list(&conn).unwrap()).unwrap();
    assert!(!shown.contains("second-pass-2"));
    let audit: String = conn
        .query_row(
            "SELECT group_concat(detail, ' | ') FROM audit_events",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        audit.contains("password for mail account \"Office 365\" set"),
        "{audit}"
    );
    assert!(!audit.contains("pass-"), "{audit}");
    assert!(matches!(
        accounts::set_password(&conn, clock, &secrets, "Ann", "Local outbox", "x-pass"),
        Err(AccountError::NoPassword(AccountKind::Outbox))
    ));
    accounts::remove(&mut conn, clock, &secrets, "Ann", "Office 365").unwrap();
    assert!(!secrets.is_set("smtp:Office_365").unwrap());
}
