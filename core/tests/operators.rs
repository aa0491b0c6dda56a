//! The people at the desk: the admin keeps the list, the clerk picks their name, the trail
//! keeps every name it ever recorded.

mod common;

use common::Desk;
use otp_desk_core::audit::{self, Filter, Kind};
use otp_desk_core::operators::{self, OperatorError};

fn add(desk: &Desk, name: &str) -> Result<operators::Operator, OperatorError> {
    operators::add(&mut desk.store.conn(), desk.store.clock(), "Admin", name)
}

fn events(desk: &Desk, kind: Kind) -> Vec<audit::Entry> {
    audit::query(
        &desk.store.conn(),
        &Filter {
            kinds: vec![kind],
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn admin_adds_operators_and_the_clerk_picks_an_active_one() {
    let desk = Desk::new();
    assert!(operators::list(&desk.store.conn()).unwrap().is_empty());
    add(&desk, "  Bea   Brown ").unwrap();
    add(&desk, "ann lee").unwrap();
    let names: Vec<String> = operators::list(&desk.store.conn())
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["ann lee", "Bea Brown"], "by name, spaces tidied");

    // The clerk's pick is checked and comes back as the list spells it.
    let conn = desk.store.conn();
    assert_eq!(
        operators::check_active(&conn, "BEA brown").unwrap(),
        "Bea Brown"
    );
    assert!(matches!(
        operators::check_active(&conn, "Cy"),
        Err(OperatorError::NotFound(_))
    ));
    assert!(matches!(
        operators::check_active(&conn, ""),
        Err(OperatorError::Name(_))
    ));
    drop(conn);

    let added = events(&desk, Kind::OperatorAdded);
    assert_eq!(added.len(), 2);
    assert_eq!(added[0].operator, "Admin");
    assert_eq!(added[0].detail, "ann lee");
}

#[test]
fn names_are_unique_ignoring_case_accents_and_spacing() {
    let desk = Desk::new();
    add(&desk, "Zoë O'Brien").unwrap();
    for same in ["zoë o'brien", "ZOË  O'BRIEN", "Zoe\u{308} O'Brien"] {
        let err = add(&desk, same).unwrap_err();
        assert!(
            matches!(err, OperatorError::Duplicate(ref n) if n == "Zoë O'Brien"),
            "{same}"
        );
        assert!(err.to_string().contains("already an operator"), "{err}");
    }
    assert_eq!(operators::list(&desk.store.conn()).unwrap().len(), 1);
}

#[test]
fn a_retired_operator_stays_in_the_list_and_cannot_be_picked_until_reactivated() {
    let desk = Desk::new();
    let ann = add(&desk, "Ann").unwrap();
    add(&desk, "Bob").unwrap();
    let retired =
        operators::retire(&mut desk.store.conn(), desk.store.clock(), "Admin", ann.id).unwrap();
    assert!(!retired.active);
    let list = operators::list(&desk.store.conn()).unwrap();
    assert_eq!(
        list.iter()
            .map(|o| (o.name.as_str(), o.active))
            .collect::<Vec<_>>(),
        [("Bob", true), ("Ann", false)],
        "active first"
    );
    assert_eq!(operators::active(&desk.store.conn()).unwrap().len(), 1);
    let err = operators::check_active(&desk.store.conn(), "ann").unwrap_err();
    assert!(matches!(err, OperatorError::Retired(_)));
    assert!(err.to_string().contains("reactivate"), "{err}");
    // A retired name is still taken: a new "Ann" would be confused with the old one.
    assert!(matches!(
        add(&desk, "ANN"),
        Err(OperatorError::Duplicate(_))
    ));

    // Retiring twice changes nothing and records nothing more.
    operators::retire(&mut desk.store.conn(), desk.store.clock(), "Admin", ann.id).unwrap();
    assert_eq!(events(&desk, Kind::OperatorRetired).len(), 1);

    operators::reactivate(&mut desk.store.conn(), desk.store.clock(), "Admin", ann.id).unwrap();
    assert_eq!(
        operators::check_active(&desk.store.conn(), "Ann").unwrap(),
        "Ann"
    );
    assert_eq!(events(&desk, Kind::OperatorReactivated)[0].detail, "Ann");
}

#[test]
fn a_rename_keeps_past_events_under_the_old_name() {
    let desk = Desk::new();
    let customer = desk.customer("WB-1", "Jo", Some("jo@example.com"), None);
    let ann = add(&desk, "Ann").unwrap();
    common::issue_on(
        &desk.store,
        &desk.key,
        customer,
        otp_desk_core::contact::Channel::Email,
        "Ann",
    )
    .unwrap();
    let renamed = operators::rename(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Admin",
        ann.id,
        "Ann Lee",
    )
    .unwrap();
    assert_eq!(renamed.name, "Ann Lee");
    assert_eq!(events(&desk, Kind::CodeIssued)[0].operator, "Ann");
    assert_eq!(
        events(&desk, Kind::OperatorRenamed)[0].detail,
        "Ann → Ann Lee"
    );
    assert!(operators::check_active(&desk.store.conn(), "Ann").is_err());

    // Only the case: allowed, same person. Onto someone else's name: refused.
    operators::rename(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Admin",
        ann.id,
        "ann lee",
    )
    .unwrap();
    add(&desk, "Bob").unwrap();
    assert!(matches!(
        operators::rename(
            &mut desk.store.conn(),
            desk.store.clock(),
            "Admin",
            ann.id,
            "BOB"
        ),
        Err(OperatorError::Duplicate(_))
    ));
    assert!(matches!(
        operators::rename(
            &mut desk.store.conn(),
            desk.store.clock(),
            "Admin",
            999,
            "Cy"
        ),
        Err(OperatorError::NoSuchId(999))
    ));
    assert!(matches!(
        operators::retire(&mut desk.store.conn(), desk.store.clock(), "Admin", -1),
        Err(OperatorError::NoSuchId(-1))
    ));
}

#[test]
fn hostile_names_are_refused_clearly_and_nothing_is_saved() {
    let desk = Desk::new();
    let huge = "A".repeat(1 << 20);
    for bad in [
        "",
        "   ",
        "\r\n",
        "Ann\r\nBcc: all",
        "Ann\u{202E}nnA",
        "Tab\there",
        huge.as_str(),
        &"x".repeat(65),
    ] {
        let err = add(&desk, bad).unwrap_err();
        assert!(matches!(err, OperatorError::Name(_)), "{bad:?}: {err}");
        assert!(err.to_string().len() < 200, "{err}");
    }
    assert!(operators::list(&desk.store.conn()).unwrap().is_empty());
    assert!(events(&desk, Kind::OperatorAdded).is_empty());
    // Markup and SQL metacharacters are just text: stored as typed, the table untouched.
    add(&desk, "<b>Bea</b>").unwrap();
    add(&desk, "Robert'); DROP TABLE operators;--").unwrap();
    let names: Vec<String> = operators::list(&desk.store.conn())
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["<b>Bea</b>", "Robert'); DROP TABLE operators;--"]);
    // Finding by a name that could never be stored finds nobody, quietly.
    assert!(operators::find(&desk.store.conn(), &huge)
        .unwrap()
        .is_none());
    // Who made the change must be a valid operator too.
    assert!(operators::add(&mut desk.store.conn(), desk.store.clock(), "", "Cy").is_err());
}

#[test]
fn the_list_survives_a_restart() {
    let mut desk = Desk::new();
    let ann = add(&desk, "Ann").unwrap();
    operators::retire(&mut desk.store.conn(), desk.store.clock(), "Admin", ann.id).unwrap();
    desk.restart();
    let found = operators::find(&desk.store.conn(), "ann").unwrap().unwrap();
    assert_eq!((found.name.as_str(), found.active), ("Ann", false));
}
