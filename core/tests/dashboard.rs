//! The Dashboard: what the desk did each day of the last month in the office's own time,
//! how each mail account delivers, and the latest failures with what to do about them.

mod common;

use chrono::{FixedOffset, MappedLocalTime, NaiveDate, NaiveDateTime, TimeZone};
use common::{wrong, Desk};
use otp_desk_core::audit::{self, Event, Kind, Outcome};
use otp_desk_core::codes::Verdict;
use otp_desk_core::contact::Channel;
use otp_desk_core::dashboard::{self, DashboardError, DashboardRequest};
use otp_desk_core::delivery::accounts::{self, AccountInput};
use otp_desk_core::delivery::{send_code, send_test, FailureClass, SendReport, SendRequest, Setup};
use otp_desk_core::Clock;

/// Milliseconds of an RFC 3339 instant.
fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_millis()
}

fn move_to(desk: &Desk, instant: &str) {
    let target = at(instant);
    desk.clock.advance_ms(target - desk.clock.now_ms());
}

fn send(desk: &Desk, customer: i64, account: Option<&str>) -> Option<SendReport> {
    send_code(
        &desk.store,
        &desk.key,
        &Setup::for_database(Some(&desk.path)),
        &SendRequest {
            customer_id: customer,
            channel: Channel::Email,
            operator: "Ann",
            account,
            progress: None,
        },
    )
    .ok()
}

fn code_in(report: &SendReport) -> String {
    std::fs::read_to_string(&report.delivered_to)
        .unwrap()
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap()
        .to_string()
}

fn check(desk: &Desk, challenge: i64, typed: &str) -> Verdict {
    desk.check(challenge, typed)
}

fn broken_account(desk: &Desk) {
    let blocker = desk.dir.path().join("not-a-folder");
    std::fs::write(&blocker, "x").unwrap();
    accounts::add(
        &mut desk.store.conn(),
        desk.store.clock(),
        "Ann",
        &AccountInput {
            name: "Broken outbox".into(),
            kind: "outbox".into(),
            from_address: "desk@example.com".into(),
            outbox_dir: blocker.join("sub").display().to_string(),
            ..Default::default()
        },
    )
    .unwrap();
}

fn new_york_winter() -> FixedOffset {
    FixedOffset::west_opt(5 * 3600).unwrap()
}

#[test]
fn each_local_day_of_the_month_has_its_counts_and_quiet_days_show_zeros() {
    let desk = Desk::new();
    let jo = desk.customer("WB-7", "Jo Smith", Some("jo.smith@example.com"), None);
    let kim = desk.customer("WB-8", "Kim Lee", Some("kim@example.com"), None);

    // 2 March, 04:00 in the office: a code goes out.
    let first = send(&desk, jo, None).unwrap();
    // 23:30 in the office (04:30 UTC on the 3rd): the customer finally reads it out, too late.
    move_to(&desk, "2026-03-03T04:30:00Z");
    assert_eq!(
        check(&desk, first.challenge_id, &code_in(&first)),
        Verdict::Expired
    );
    // 3 March, 01:00 in the office: sent and verified; then a delivery that fails.
    move_to(&desk, "2026-03-03T06:00:00Z");
    let second = send(&desk, jo, None).unwrap();
    assert!(check(&desk, second.challenge_id, &code_in(&second)).is_verified());
    desk.clock.advance_secs(120);
    broken_account(&desk);
    assert!(send(&desk, jo, Some("Broken outbox")).is_none());
    // 4 March, 10:00: ten wrong codes in a row lock Kim's address.
    move_to(&desk, "2026-03-04T15:00:00Z");
    for round in 0..2 {
        let issued = common::issue_on(&desk.store, &desk.key, kim, Channel::Email, "Ann").unwrap();
        for _ in 0..5 {
            check(&desk, issued.challenge_id, &wrong(&issued.code));
        }
        if round == 0 {
            desk.clock.advance_secs(61);
        }
    }
    // The admin's test mail is counted apart.
    send_test(
        &desk.store,
        &Setup::for_database(Some(&desk.path)),
        "Ann",
        "Local outbox",
        "me@example.com",
    )
    .unwrap();

    move_to(&desk, "2026-03-04T17:00:00Z");
    let d = dashboard::summary(
        &desk.store.conn(),
        desk.clock.now_ms(),
        &new_york_winter(),
        &DashboardRequest::default(),
    )
    .unwrap();
    assert_eq!(d.days.len(), 30);
    assert_eq!(d.days[0].date, "2026-02-03");
    assert_eq!(d.days[0].starts_at, at("2026-02-03T05:00:00Z"));
    assert_eq!(d.to, at("2026-03-05T05:00:00Z"));
    let by_date = |date: &str| d.days.iter().find(|x| x.date == date).unwrap().clone();
    let mar2 = by_date("2026-03-02");
    assert_eq!(
        (mar2.sent, mar2.verified, mar2.failed_verifications),
        (1, 0, 1),
        "the 04:30 UTC attempt belongs to the office's 2 March"
    );
    let mar3 = by_date("2026-03-03");
    assert_eq!(
        (mar3.sent, mar3.verified, mar3.delivery_failures),
        (1, 1, 1)
    );
    let mar4 = by_date("2026-03-04");
    assert_eq!(
        (mar4.failed_verifications, mar4.contacts_locked),
        (9, 1),
        "the tenth wrong code is the lock, not a tenth failure"
    );
    let quiet = &d.days[..27];
    assert!(quiet.iter().all(|x| x.sent
        + x.verified
        + x.failed_verifications
        + x.delivery_failures
        + x.contacts_locked
        == 0));
    assert_eq!(
        (
            d.totals.sent,
            d.totals.verified,
            d.totals.failed_verifications
        ),
        (2, 1, 10)
    );

    assert_eq!(d.accounts.len(), 2);
    let broken = &d.accounts[0];
    assert_eq!(
        (
            broken.account.as_str(),
            broken.sent,
            broken.failed,
            broken.success_rate
        ),
        ("Broken outbox", 0, 1, Some(0.0))
    );
    let local = &d.accounts[1];
    assert_eq!(
        (
            local.account.as_str(),
            local.sent,
            local.failed,
            local.success_rate,
            local.test_sent
        ),
        ("Local outbox", 2, 0, Some(1.0), 1)
    );

    assert_eq!(d.recent_failures.len(), 1);
    let f = &d.recent_failures[0];
    assert_eq!(f.account, "Broken outbox");
    assert_eq!(f.recipient, "jo…@example.com");
    assert_eq!(f.failure_class.as_deref(), Some("configuration"));
    assert_eq!(f.hint, Some(FailureClass::Configuration.hint()));
    assert!(!f.reply.is_empty());
    assert!(!f.test);

    // A shorter window, and nothing private in what the screen receives.
    let short = dashboard::summary(
        &desk.store.conn(),
        desk.clock.now_ms(),
        &new_york_winter(),
        &DashboardRequest {
            days: Some(1),
            recent_failures: Some(0),
        },
    )
    .unwrap();
    assert_eq!(short.days.len(), 1);
    assert_eq!(short.days[0].date, "2026-03-04");
    assert!(short.recent_failures.is_empty());
    let json = serde_json::to_string(&d).unwrap();
    assert!(
        !json.contains("jo.smith") && !json.contains("kim@"),
        "{json}"
    );
}

#[test]
fn the_same_events_fall_on_the_office_days_of_its_own_time_zone() {
    let desk = Desk::new();
    move_to(&desk, "2026-03-02T23:30:00Z");
    audit::record(
        &desk.store.conn(),
        desk.store.clock(),
        &Event::new(Kind::CodeSent, Outcome::Ok, "Ann").code(1),
    )
    .unwrap();
    let summary = |offset_hours: i32| {
        dashboard::summary(
            &desk.store.conn(),
            at("2026-03-03T12:00:00Z"),
            &FixedOffset::east_opt(offset_hours * 3600).unwrap(),
            &DashboardRequest {
                days: Some(2),
                ..Default::default()
            },
        )
        .unwrap()
        .days
        .iter()
        .map(|d| (d.date.clone(), d.sent))
        .collect::<Vec<_>>()
    };
    assert_eq!(
        summary(0),
        [("2026-03-02".into(), 1), ("2026-03-03".into(), 0)]
    );
    assert_eq!(
        summary(1),
        [("2026-03-02".into(), 0), ("2026-03-03".into(), 1)]
    );
}

/// Central European time for 2026: UTC+1, and UTC+2 from 29 March 01:00 UTC.
#[derive(Debug, Clone, Copy)]
struct Cet;

impl Cet {
    fn switch() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, 29)
            .unwrap()
            .and_hms_opt(1, 0, 0)
            .unwrap()
    }
}

impl TimeZone for Cet {
    type Offset = FixedOffset;
    fn from_offset(_: &FixedOffset) -> Self {
        Cet
    }
    fn offset_from_local_date(&self, local: &NaiveDate) -> MappedLocalTime<FixedOffset> {
        self.offset_from_local_datetime(&local.and_hms_opt(12, 0, 0).unwrap())
    }
    fn offset_from_local_datetime(&self, local: &NaiveDateTime) -> MappedLocalTime<FixedOffset> {
        let winter = FixedOffset::east_opt(3600).unwrap();
        let summer = FixedOffset::east_opt(7200).unwrap();
        // Local 02:00–03:00 on the 29th does not exist.
        let as_winter = *local - chrono::Duration::hours(1);
        let as_summer = *local - chrono::Duration::hours(2);
        match (as_winter < Self::switch(), as_summer >= Self::switch()) {
            (true, false) => MappedLocalTime::Single(winter),
            (false, true) => MappedLocalTime::Single(summer),
            (true, true) => MappedLocalTime::Ambiguous(winter, summer),
            (false, false) => MappedLocalTime::None,
        }
    }
    fn offset_from_utc_date(&self, utc: &NaiveDate) -> FixedOffset {
        self.offset_from_utc_datetime(&utc.and_hms_opt(0, 0, 0).unwrap())
    }
    fn offset_from_utc_datetime(&self, utc: &NaiveDateTime) -> FixedOffset {
        FixedOffset::east_opt(if *utc < Self::switch() { 3600 } else { 7200 }).unwrap()
    }
}

#[test]
fn a_day_is_a_local_day_also_when_the_clocks_change() {
    let desk = Desk::new();
    for instant in [
        "2026-03-28T22:30:00Z", // 23:30 on the 28th (winter time)
        "2026-03-28T23:30:00Z", // 00:30 on the 29th
        "2026-03-29T21:30:00Z", // 23:30 on the 29th (summer time)
        "2026-03-29T22:30:00Z", // 00:30 on the 30th
    ] {
        move_to(&desk, instant);
        audit::record(
            &desk.store.conn(),
            desk.store.clock(),
            &Event::new(Kind::CodeVerify, Outcome::Ok, "Ann"),
        )
        .unwrap();
    }
    let d = dashboard::summary(
        &desk.store.conn(),
        at("2026-03-30T10:00:00Z"),
        &Cet,
        &DashboardRequest {
            days: Some(3),
            ..Default::default()
        },
    )
    .unwrap();
    let days: Vec<(&str, i64, u32)> = d
        .days
        .iter()
        .map(|x| (x.date.as_str(), x.starts_at, x.verified))
        .collect();
    assert_eq!(
        days,
        [
            ("2026-03-28", at("2026-03-27T23:00:00Z"), 1),
            ("2026-03-29", at("2026-03-28T23:00:00Z"), 2),
            ("2026-03-30", at("2026-03-29T22:00:00Z"), 1),
        ]
    );
}

#[test]
fn out_of_range_requests_are_refused_clearly() {
    let desk = Desk::new();
    let conn = desk.store.conn();
    for (days, failures) in [
        (Some(0), None),
        (Some(367), None),
        (Some(u32::MAX), None),
        (None, Some(101)),
    ] {
        let err = dashboard::summary(
            &conn,
            desk.clock.now_ms(),
            &new_york_winter(),
            &DashboardRequest {
                days,
                recent_failures: failures,
            },
        )
        .unwrap_err();
        assert!(matches!(
            err,
            DashboardError::Days(_) | DashboardError::RecentFailures(_)
        ));
        assert!(err.to_string().starts_with("the dashboard"), "{err}");
    }
    // From the window as JSON: a negative or fractional day count does not even parse.
    assert!(serde_json::from_str::<DashboardRequest>(r#"{"days": -1}"#).is_err());
    assert!(serde_json::from_str::<DashboardRequest>(r#"{"days": "30; DROP"}"#).is_err());
    // An empty database answers with a month of zeros.
    let d = dashboard::summary(
        &conn,
        desk.clock.now_ms(),
        &new_york_winter(),
        &DashboardRequest::default(),
    )
    .unwrap();
    assert_eq!(d.days.len(), 30);
    assert!(d.accounts.is_empty() && d.recent_failures.is_empty());
}
