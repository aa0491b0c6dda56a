//! The admin passphrase: set up on first start, checked with a lock that survives restarts,
//! never stored or shown, and the admin area that locks itself when left alone.

mod common;

use std::sync::Arc;

use common::Desk;
use otp_desk_core::admin::{self, AdminError, AdminSession};
use otp_desk_core::audit::{self, Filter, Kind, Outcome};
use otp_desk_core::Clock;

const GOOD: &str = "river copper lantern";
const OTHER: &str = "seven quiet harbours";

fn set(desk: &Desk, passphrase: &str) -> Result<(), AdminError> {
    admin::set(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Ann",
        passphrase,
    )
}

fn verify(desk: &Desk, passphrase: &str) -> Result<(), AdminError> {
    admin::verify(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Ann",
        passphrase,
    )
}

fn trail(desk: &Desk) -> Vec<audit::Entry> {
    audit::query(
        &desk.store.conn(),
        &Filter {
            limit: Some(1000),
            ..Default::default()
        },
    )
    .unwrap()
}

fn count(desk: &Desk, kind: Kind, outcome: Outcome) -> usize {
    trail(desk)
        .iter()
        .filter(|e| e.kind == kind.as_str() && e.result == outcome.as_str())
        .count()
}

fn file_contains(path: &std::path::Path, needle: &str) -> bool {
    std::fs::read(path)
        .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .unwrap_or(false)
}

#[test]
fn on_first_start_the_admin_sets_a_passphrase_without_a_current_one() {
    let desk = Desk::new();
    assert!(!admin::is_set(&desk.store.conn()).unwrap());
    assert!(matches!(verify(&desk, GOOD), Err(AdminError::NotSet)));
    set(&desk, GOOD).unwrap();
    assert!(admin::is_set(&desk.store.conn()).unwrap());
    verify(&desk, GOOD).unwrap();
    // Once set, "set" is refused: replacing it needs the current one.
    assert!(matches!(set(&desk, OTHER), Err(AdminError::AlreadySet)));
    verify(&desk, GOOD).unwrap();
    assert_eq!(count(&desk, Kind::AdminPassphraseSet, Outcome::Ok), 1);
    assert_eq!(count(&desk, Kind::AdminUnlock, Outcome::Ok), 2);
}

#[test]
fn weak_and_hostile_passphrases_are_refused_with_the_reason() {
    let desk = Desk::new();
    otp_desk_core::settings::set(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Ann",
        "company_name",
        "Greenvale Waste",
    )
    .unwrap();
    let huge = "correct horse ".repeat(80_000);
    type Refused = fn(&AdminError) -> bool;
    let cases: &[(&str, Refused)] = &[
        ("", |e| matches!(e, AdminError::TooShort { got: 0 })),
        ("            ", |e| matches!(e, AdminError::Blank)),
        ("short one", |e| {
            matches!(e, AdminError::TooShort { got: 9 })
        }),
        (huge.as_str(), |e| matches!(e, AdminError::TooLong)),
        ("password1234", |e| matches!(e, AdminError::TooEasy { .. })),
        ("OTPDesk-2026!", |e| matches!(e, AdminError::TooEasy { .. })),
        ("greenvale waste 1", |e| {
            matches!(e, AdminError::TooEasy { .. })
        }),
        ("111111111111", |e| matches!(e, AdminError::TooEasy { .. })),
        ("river copper\r\nlantern", |e| {
            matches!(e, AdminError::NotPlainText)
        }),
        ("river copper \u{202E}lantern", |e| {
            matches!(e, AdminError::NotPlainText)
        }),
    ];
    for (bad, expected) in cases {
        let err = set(&desk, bad).unwrap_err();
        assert!(
            expected(&err),
            "{:?}: {err}",
            bad.chars().take(40).collect::<String>()
        );
        assert!(err.to_string().len() < 300, "{err}");
    }
    assert!(
        !admin::is_set(&desk.store.conn()).unwrap(),
        "nothing was saved"
    );
    assert!(trail(&desk)
        .iter()
        .all(|e| e.kind != "admin_passphrase_set"));
    // Markup and SQL are just characters of a passphrase.
    set(&desk, "<b>'); DROP TABLE admin_passphrase;--").unwrap();
    verify(&desk, "<b>'); DROP TABLE admin_passphrase;--").unwrap();
}

#[test]
fn five_wrong_passphrases_lock_the_admin_area_and_the_lock_doubles() {
    let desk = Desk::new();
    set(&desk, GOOD).unwrap();
    for left in [4, 3, 2, 1] {
        let err = verify(&desk, OTHER).unwrap_err();
        assert!(matches!(err, AdminError::Wrong { attempts_left } if attempts_left == left));
    }
    let start = desk.clock.now_ms();
    let err = verify(&desk, OTHER).unwrap_err();
    assert!(
        matches!(err, AdminError::Locked { until } if until == start + 60_000),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("locked until 2026-03-02T09:01:00Z"),
        "{err}"
    );
    assert_eq!(count(&desk, Kind::AdminLocked, Outcome::Ok), 1);

    // While locked even the right passphrase is refused, and not even checked: a damaged
    // hash goes unnoticed.
    let phc: String = desk
        .store
        .conn()
        .query_row("SELECT phc FROM admin_passphrase", [], |r| r.get(0))
        .unwrap();
    desk.store
        .conn()
        .execute("UPDATE admin_passphrase SET phc = 'damaged'", [])
        .unwrap();
    assert!(matches!(
        verify(&desk, GOOD),
        Err(AdminError::Locked { .. })
    ));
    assert_eq!(count(&desk, Kind::AdminUnlock, Outcome::Refused), 1);
    desk.store
        .conn()
        .execute("UPDATE admin_passphrase SET phc = ?1", [&phc])
        .unwrap();

    // After the lock, one more wrong one locks again for twice as long.
    desk.clock.advance_secs(61);
    let now = desk.clock.now_ms();
    assert!(
        matches!(verify(&desk, OTHER), Err(AdminError::Locked { until }) if until == now + 120_000)
    );
    desk.clock.advance_secs(121);
    // A right one opens and resets the count.
    verify(&desk, GOOD).unwrap();
    let status = admin::status(&desk.store.conn(), desk.clock.now_ms()).unwrap();
    assert_eq!((status.locked_until, status.attempts_left), (None, 5));
    assert!(matches!(
        verify(&desk, OTHER),
        Err(AdminError::Wrong { attempts_left: 4 })
    ));
}

#[test]
fn the_lock_is_capped_at_fifteen_minutes() {
    let desk = Desk::new();
    set(&desk, GOOD).unwrap();
    let mut last = 0;
    for _ in 0..10 {
        if let Err(AdminError::Locked { until }) = verify(&desk, OTHER) {
            last = until - desk.clock.now_ms();
            desk.clock.advance_ms(last + 1);
        }
    }
    assert_eq!(last, 15 * 60_000);
}

#[test]
fn the_lock_survives_closing_the_app() {
    let mut desk = Desk::new();
    set(&desk, GOOD).unwrap();
    for _ in 0..5 {
        let _ = verify(&desk, OTHER);
    }
    desk.restart();
    let status = admin::status(&desk.store.conn(), desk.clock.now_ms()).unwrap();
    assert_eq!(status.locked_until, Some(desk.clock.now_ms() + 60_000));
    assert!(matches!(
        verify(&desk, GOOD),
        Err(AdminError::Locked { .. })
    ));
    desk.clock.advance_secs(60);
    desk.restart();
    verify(&desk, GOOD).unwrap();
}

#[test]
fn two_windows_guessing_at_once_get_no_extra_tries() {
    let desk = Desk::new();
    set(&desk, GOOD).unwrap();
    let results: Vec<Result<(), AdminError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let store = desk.second_desk();
                s.spawn(move || {
                    admin::verify(
                        &mut store.conn(),
                        store.clock(),
                        "Mallory",
                        &format!("guess number {i} here"),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let locked = results
        .iter()
        .filter(|r| matches!(r, Err(AdminError::Locked { .. })))
        .count();
    let wrong = results
        .iter()
        .filter(|r| matches!(r, Err(AdminError::Wrong { .. })))
        .count();
    assert_eq!((wrong, locked), (4, 4), "{results:?}");
    assert_eq!(
        count(&desk, Kind::AdminUnlock, Outcome::Failed),
        5,
        "exactly five passphrases were checked"
    );
    assert_eq!(count(&desk, Kind::AdminUnlock, Outcome::Refused), 3);
}

#[test]
fn changing_the_passphrase_needs_the_current_one() {
    let desk = Desk::new();
    set(&desk, GOOD).unwrap();
    let change = |current: &str, new: &str| {
        admin::change(
            &mut desk.store.conn(),
            desk.store.clock(),
            "Ann",
            current,
            new,
        )
    };
    // A weak new one is refused before the current one is even tried.
    assert!(matches!(
        change(OTHER, "short"),
        Err(AdminError::TooShort { .. })
    ));
    assert_eq!(
        admin::status(&desk.store.conn(), 0).unwrap().attempts_left,
        5
    );
    assert!(matches!(change(GOOD, GOOD), Err(AdminError::Unchanged)));
    assert!(matches!(
        change("not the passphrase", OTHER),
        Err(AdminError::Wrong { attempts_left: 4 })
    ));
    assert!(matches!(change("", OTHER), Err(AdminError::Empty)));
    change(GOOD, OTHER).unwrap();
    assert!(matches!(verify(&desk, GOOD), Err(AdminError::Wrong { .. })));
    verify(&desk, OTHER).unwrap();
    assert_eq!(count(&desk, Kind::AdminPassphraseChanged, Outcome::Ok), 1);
}

#[test]
fn input_that_cannot_be_a_passphrase_costs_no_try() {
    let desk = Desk::new();
    set(&desk, GOOD).unwrap();
    assert!(matches!(verify(&desk, ""), Err(AdminError::Empty)));
    assert!(matches!(
        verify(&desk, &"x".repeat(1 << 20)),
        Err(AdminError::TooLong)
    ));
    assert_eq!(
        admin::status(&desk.store.conn(), 0).unwrap().attempts_left,
        5
    );
    // Anything else is a real try, hostile or not.
    for hostile in [
        "' OR '1'='1",
        "<script>",
        "river\r\ncopper",
        "\u{202E}lantern",
    ] {
        assert!(matches!(
            verify(&desk, hostile),
            Err(AdminError::Wrong { .. } | AdminError::Locked { .. })
        ));
    }
}

#[test]
fn the_same_words_typed_on_another_keyboard_are_the_same_passphrase() {
    let desk = Desk::new();
    set(&desk, "zwölf grüne Äpfel").unwrap();
    // "ö" as o + combining diaeresis (macOS) and "Ä" as A + combining diaeresis.
    verify(&desk, "zwo\u{308}lf gru\u{308}ne A\u{308}pfel").unwrap();
}

#[test]
fn neither_the_passphrase_nor_its_hash_is_ever_shown_or_recorded() {
    let desk = Desk::new();
    set(&desk, GOOD).unwrap();
    let _ = verify(&desk, OTHER);
    verify(&desk, GOOD).unwrap();
    admin::change(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Ann",
        GOOD,
        OTHER,
    )
    .unwrap();
    let phc: String = desk
        .store
        .conn()
        .query_row("SELECT phc FROM admin_passphrase", [], |r| r.get(0))
        .unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=47104,t=2,p=1$"), "{phc}");
    let hash_part = phc.rsplit('$').next().unwrap().to_string();
    let salt_part = phc.split('$').nth(4).unwrap().to_string();

    let mut export = Vec::new();
    audit::export_csv(&desk.store.conn(), &Filter::default(), &mut export).unwrap();
    let export = String::from_utf8(export).unwrap();
    for secret in [GOOD, OTHER, "river", hash_part.as_str(), salt_part.as_str()] {
        assert!(!export.contains(secret), "{secret} in the audit trail");
    }
    // The files on disk hold the PHC string (that is the point) but never the passphrase.
    drop(desk.store.conn());
    for file in [desk.path.clone(), desk.path.with_extension("db-wal")] {
        for secret in [GOOD, OTHER] {
            assert!(
                !file_contains(&file, secret),
                "{secret} in {}",
                file.display()
            );
        }
    }
    // Every error a caller can get says nothing of either.
    let errors = [
        verify(&desk, GOOD).unwrap_err(),
        set(&desk, GOOD).unwrap_err(),
        admin::change(
            &mut desk.store.conn(),
            desk.store.clock(),
            "Ann",
            OTHER,
            OTHER,
        )
        .unwrap_err(),
    ];
    for e in errors {
        let shown = format!("{e} {e:?}");
        for secret in [GOOD, OTHER, hash_part.as_str()] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
    let status = format!("{:?}", admin::status(&desk.store.conn(), 0).unwrap());
    assert!(!status.contains(&hash_part), "{status}");
}

#[test]
fn a_hash_made_with_weaker_parameters_is_upgraded_at_the_next_unlock() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let desk = Desk::new();
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(4096, 1, 1, None).unwrap(),
    )
    .hash_password(
        GOOD.as_bytes(),
        &SaltString::encode_b64(b"sixteen byte sal").unwrap(),
    )
    .unwrap()
    .to_string();
    desk.store
        .conn()
        .execute(
            "INSERT INTO admin_passphrase (id, phc, set_at) VALUES (1, ?1, 0)",
            [&weak],
        )
        .unwrap();
    verify(&desk, GOOD).unwrap();
    let phc: String = desk
        .store
        .conn()
        .query_row("SELECT phc FROM admin_passphrase", [], |r| r.get(0))
        .unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=47104,t=2,p=1$"), "{phc}");
    verify(&desk, GOOD).unwrap();
}

#[test]
fn the_admin_area_locks_itself_when_left_alone() {
    let desk = Desk::new();
    set(&desk, GOOD).unwrap();
    let mut session = AdminSession::new();
    assert!(matches!(
        session.check(desk.clock.now_ms()),
        Err(AdminError::SessionLocked)
    ));
    let opened = session
        .unlock(&mut desk.store.conn(), desk.store.clock(), "Ann", GOOD)
        .unwrap();
    assert!(opened.unlocked);
    assert_eq!(opened.locks_at, Some(desk.clock.now_ms() + 5 * 60_000));

    // Activity keeps it open: 4 minutes, then 4 more (8 since the unlock).
    desk.clock.advance_secs(4 * 60);
    session.check(desk.clock.now_ms()).unwrap();
    desk.clock.advance_secs(4 * 60);
    let state = session.check(desk.clock.now_ms()).unwrap();
    assert_eq!(state.locks_at, Some(desk.clock.now_ms() + 5 * 60_000));

    // Five minutes and a second without activity: locked, and it says why.
    desk.clock.advance_secs(5 * 60 + 1);
    assert!(!session.state(desk.clock.now_ms()).unlocked);
    let err = session.check(desk.clock.now_ms()).unwrap_err();
    assert!(
        matches!(err, AdminError::IdleLocked { minutes: 5 }),
        "{err}"
    );
    assert!(matches!(
        session.check(desk.clock.now_ms()),
        Err(AdminError::SessionLocked)
    ));

    // A wrong passphrase does not open it; the lock button closes it at once.
    assert!(session
        .unlock(&mut desk.store.conn(), desk.store.clock(), "Ann", OTHER)
        .is_err());
    assert!(!session.state(desk.clock.now_ms()).unlocked);
    session
        .unlock(&mut desk.store.conn(), desk.store.clock(), "Ann", GOOD)
        .unwrap();
    session.lock();
    assert!(matches!(
        session.check(desk.clock.now_ms()),
        Err(AdminError::SessionLocked)
    ));
}

#[test]
fn the_idle_limit_is_the_admins_setting() {
    let desk = Desk::new();
    set(&desk, GOOD).unwrap();
    otp_desk_core::settings::set(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Ann",
        "admin_idle_lock_minutes",
        "1",
    )
    .unwrap();
    let mut session = AdminSession::new();
    session
        .unlock(&mut desk.store.conn(), desk.store.clock(), "Ann", GOOD)
        .unwrap();
    desk.clock.advance_secs(60);
    session.check(desk.clock.now_ms()).unwrap();
    desk.clock.advance_secs(61);
    assert!(matches!(
        session.check(desk.clock.now_ms()),
        Err(AdminError::IdleLocked { minutes: 1 })
    ));
    // Nothing of the passphrase is held in the session.
    assert!(!format!("{session:?}").contains("river"));
    let _ = Arc::new(session);
}
