//! The Activity screen: every code and what became of it, filtered and searched the way an
//! admin looks for "what happened with Jo this morning", and exported for a spreadsheet.

mod common;

use common::{wrong, Desk};
use otp_desk_core::activity::{self, ActivityError, CodeFilter, CodeState};
use otp_desk_core::codes::{self, IssueRequest, Target};
use otp_desk_core::contact::Channel;
use otp_desk_core::delivery::accounts::{self, AccountInput};
use otp_desk_core::delivery::{send_code, SendReport, SendRequest, Setup};
use otp_desk_core::Clock;

struct Office {
    desk: Desk,
    jo: i64,
    sam: i64,
    lee: i64,
}

impl Office {
    fn new() -> Self {
        let desk = Desk::new();
        let jo = desk.customer("WB-7", "Jo Smith", Some("jo.smith@example.com"), None);
        let sam = desk.customer("WB-9", "Sam Okafor", None, Some("(415) 555-0132"));
        let lee = desk.customer("WB-12", "Lee Park", None, Some("(415) 555-0177"));
        Self { desk, jo, sam, lee }
    }

    fn send(&self, customer: i64, account: Option<&str>) -> Result<SendReport, String> {
        send_code(
            &self.desk.store,
            &self.desk.key,
            &Setup::for_database(Some(&self.desk.path)),
            &SendRequest {
                customer_id: customer,
                channel: Channel::Email,
                operator: "Ann",
                account,
                progress: None,
            },
        )
        .map_err(|e| e.to_string())
    }

    /// Reads the code from the outbox the way the customer would.
    fn code_of(&self, report: &SendReport) -> String {
        let eml = std::fs::read_to_string(&report.delivered_to).unwrap();
        eml.lines()
            .map(str::trim)
            .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
            .unwrap()
            .to_string()
    }

    fn issue_sms(&self, customer_id: i64, operator: &str) -> i64 {
        codes::issue(
            &mut self.desk.store.conn(),
            self.desk.store.clock(),
            &self.desk.key,
            &IssueRequest {
                customer_id,
                channel: Channel::Sms,
                destination: None,
                operator,
                revealed: true,
            },
        )
        .unwrap()
        .challenge_id
    }

    fn list(&self, filter: CodeFilter) -> activity::CodePage {
        activity::codes(&self.desk.store.conn(), &filter, self.desk.clock.now_ms()).unwrap()
    }

    fn ids(&self, filter: CodeFilter) -> Vec<i64> {
        self.list(filter)
            .rows
            .iter()
            .map(|r| r.challenge_id)
            .collect()
    }

    /// An outbox account whose folder is a file: every delivery through it fails.
    fn broken_account(&self) {
        let blocker = self.desk.dir.path().join("not-a-folder");
        std::fs::write(&blocker, "x").unwrap();
        accounts::add(
            &mut self.desk.store.conn(),
            self.desk.store.clock(),
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

    /// Four codes: a verified email and a cancelled one (delivery failed) for Jo, an expired
    /// SMS for Sam and a pending SMS for Lee issued by Bob.
    fn morning(&self) -> (i64, i64, i64, i64) {
        let sent = self.send(self.jo, None).unwrap();
        let code = self.code_of(&sent);
        codes::verify(
            &mut self.desk.store.conn(),
            self.desk.store.clock(),
            &self.desk.key,
            Target::Challenge(sent.challenge_id),
            &wrong(&code),
            "Ann",
        )
        .unwrap();
        codes::verify(
            &mut self.desk.store.conn(),
            self.desk.store.clock(),
            &self.desk.key,
            Target::Challenge(sent.challenge_id),
            &code,
            "Ann",
        )
        .unwrap();
        self.desk.clock.advance_secs(120);
        self.broken_account();
        self.send(self.jo, Some("Broken outbox")).unwrap_err();
        let cancelled = self.list(CodeFilter::default()).rows[0].challenge_id;
        let expired = self.issue_sms(self.sam, "Ann");
        self.desk.clock.advance_secs(6 * 60);
        let pending = self.issue_sms(self.lee, "Bob");
        (sent.challenge_id, cancelled, expired, pending)
    }
}

#[test]
fn admin_sees_every_code_with_its_state_and_delivery_newest_first() {
    let office = Office::new();
    let (verified, cancelled, expired, pending) = office.morning();
    let page = office.list(CodeFilter::default());
    assert_eq!(page.total, 4);
    let states: Vec<(i64, CodeState)> = page
        .rows
        .iter()
        .map(|r| (r.challenge_id, r.state))
        .collect();
    assert_eq!(
        states,
        [
            (pending, CodeState::Pending),
            (expired, CodeState::Expired),
            (cancelled, CodeState::Cancelled),
            (verified, CodeState::Verified),
        ]
    );
    let v = &page.rows[3];
    assert_eq!(v.customer_name.as_deref(), Some("Jo Smith"));
    assert_eq!(v.account_number.as_deref(), Some("WB-7"));
    assert_eq!(v.contact, "jo…@example.com");
    assert_eq!((v.attempts, v.max_attempts), (2, 5));
    assert!(v.used_at.is_some());
    assert_eq!(v.operator, "Ann");
    let d = v.last_delivery.as_ref().unwrap();
    assert_eq!(
        (d.status.as_str(), d.account.as_str(), d.tries),
        ("sent", "Local outbox", 1)
    );

    let c = page.rows[2].last_delivery.as_ref().unwrap();
    assert_eq!(c.status, "failed");
    assert_eq!(c.failure_class.as_deref(), Some("configuration"));
    assert_eq!(page.rows[0].contact, "+1 …0177");
    assert_eq!(page.rows[1].contact, "+1 …0132");
    assert_eq!(page.rows[0].operator, "Bob");
    assert!(
        page.rows[0].last_delivery.is_none(),
        "printed, never delivered"
    );

    // Nothing in the listing is the full contact or anything of the code.
    let json = serde_json::to_string(&page).unwrap();
    for private in ["jo.smith", "4155550132", "code_hash"] {
        assert!(!json.contains(private), "{private} in {json}");
    }
}

#[test]
fn filters_narrow_by_channel_state_operator_customer_and_date() {
    let office = Office::new();
    let (verified, cancelled, expired, pending) = office.morning();
    let t0 = common::Desk::new().clock.now_ms();
    assert_eq!(
        office.ids(CodeFilter {
            channel: Some(Channel::Sms),
            ..Default::default()
        }),
        [pending, expired]
    );
    assert_eq!(
        office.ids(CodeFilter {
            states: vec![CodeState::Expired, CodeState::Verified],
            ..Default::default()
        }),
        [expired, verified]
    );
    assert_eq!(
        office.ids(CodeFilter {
            states: vec![CodeState::Pending],
            ..Default::default()
        }),
        [pending]
    );
    assert_eq!(
        office.ids(CodeFilter {
            operator: Some(" bob ".into()),
            ..Default::default()
        }),
        [pending]
    );
    assert_eq!(
        office.ids(CodeFilter {
            customer_id: Some(office.jo),
            ..Default::default()
        }),
        [cancelled, verified]
    );
    assert_eq!(
        office.ids(CodeFilter {
            from: Some(t0 + 60_000),
            to: Some(t0 + 200_000),
            ..Default::default()
        }),
        [expired, cancelled]
    );
    let page = office.list(CodeFilter {
        limit: Some(1),
        offset: Some(1),
        ..Default::default()
    });
    assert_eq!(
        (page.total, page.rows.len(), page.rows[0].challenge_id),
        (4, 1, expired)
    );
    // The total counts every match, not the page.
    let page = office.list(CodeFilter {
        channel: Some(Channel::Email),
        limit: Some(1),
        ..Default::default()
    });
    assert_eq!((page.total, page.rows.len()), (2, 1));
}

#[test]
fn text_search_finds_what_the_screen_shows_and_never_the_full_contact() {
    let office = Office::new();
    let (verified, cancelled, expired, pending) = office.morning();
    let find = |text: &str| {
        office.ids(CodeFilter {
            text: Some(text.into()),
            ..Default::default()
        })
    };
    assert_eq!(find("wb-7"), [cancelled, verified]);
    assert_eq!(find("okafor"), [expired]);
    assert_eq!(find("WB-1"), [pending], "WB-12");
    assert_eq!(find("jo…@example.com"), [cancelled, verified]);
    assert_eq!(find("example.com"), [cancelled, verified]);
    assert_eq!(find("0132"), [expired]);
    assert_eq!(find("+1 …"), [pending, expired]);
    // Not shown, so not searchable: the rest of the address and the middle of the number.
    assert!(find("jo.smith").is_empty());
    assert!(find("smith@").is_empty());
    assert!(find("4155550132").is_empty());
    assert!(find("555").is_empty());
}

#[test]
fn one_codes_detail_shows_each_delivery_and_each_attempt() {
    let office = Office::new();
    let (verified, cancelled, ..) = office.morning();
    let conn = office.desk.store.conn();
    let now = office.desk.clock.now_ms();
    let d = activity::code_detail(&conn, verified, now).unwrap();
    assert_eq!(d.code.state, CodeState::Verified);
    assert_eq!(d.deliveries.len(), 1);
    let kinds: Vec<(&str, &str)> = d
        .events
        .iter()
        .map(|e| (e.kind.as_str(), e.result.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("code_issued", "ok"),
            ("code_sent", "ok"),
            ("code_verify", "failed"),
            ("code_verify", "ok"),
        ]
    );
    assert_eq!(d.events[2].detail, "wrong code, 4 attempts left");
    assert!(d.events.iter().all(|e| e.code_id == Some(verified)));

    let c = activity::code_detail(&conn, cancelled, now).unwrap();
    let kinds: Vec<&str> = c.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["code_issued", "code_sent", "code_cancelled"]);
    assert_eq!(c.deliveries[0].status, "failed");

    assert!(matches!(
        activity::code_detail(&conn, 999, now),
        Err(ActivityError::NotFound(999))
    ));
}

#[test]
fn a_code_whose_customer_record_is_gone_is_still_listed() {
    let office = Office::new();
    let id = office.issue_sms(office.sam, "Ann");
    office
        .desk
        .store
        .conn()
        .execute("DELETE FROM customers WHERE id = ?1", [office.sam])
        .unwrap();
    let row = &office.list(CodeFilter::default()).rows[0];
    assert_eq!(row.challenge_id, id);
    assert_eq!(
        (row.customer_name.as_ref(), row.account_number.as_ref()),
        (None, None)
    );
    assert_eq!(row.contact, "+1 …0132");
}

#[test]
fn hostile_filters_answer_calmly_or_are_refused_clearly() {
    let office = Office::new();
    office.morning();
    let huge = "x".repeat(1 << 20);
    for text in [
        "'; DROP TABLE codes;--",
        "%",
        "_",
        "\\",
        "<script>",
        "\u{202E}",
        "\r\n",
        huge.as_str(),
    ] {
        let page = office.list(CodeFilter {
            text: Some(text.into()),
            operator: Some(text.into()),
            ..Default::default()
        });
        let expected = if text.trim().is_empty() { 4 } else { 0 };
        assert_eq!(
            page.total,
            expected,
            "{:?}",
            text.chars().take(20).collect::<String>()
        );
    }
    assert_eq!(
        office.list(CodeFilter::default()).total,
        4,
        "the table is still there"
    );
    let err = activity::codes(
        &office.desk.store.conn(),
        &CodeFilter {
            from: Some(2),
            to: Some(1),
            ..Default::default()
        },
        0,
    )
    .unwrap_err();
    assert!(matches!(err, ActivityError::ReversedRange));
    // Paging is bounded, not refused.
    let page = office.list(CodeFilter {
        limit: Some(u32::MAX),
        offset: Some(u32::MAX),
        ..Default::default()
    });
    assert_eq!(
        (page.limit, page.rows.len(), page.total),
        (activity::MAX_PAGE, 0, 4)
    );
    assert_eq!(
        office
            .list(CodeFilter {
                limit: Some(0),
                ..Default::default()
            })
            .rows
            .len(),
        1
    );
    for bad in ["", "done", "PENDING; --", &huge] {
        assert!(bad.parse::<CodeState>().is_err());
    }
    // The filter comes from the window as JSON: unknown states do not parse.
    let from_ui: Result<CodeFilter, _> =
        serde_json::from_str(r#"{"states": ["pending", "bogus"]}"#);
    assert!(from_ui.is_err());
    let from_ui: CodeFilter =
        serde_json::from_str(r#"{"states": ["expired"], "channel": "sms", "limit": 10}"#).unwrap();
    assert_eq!(office.list(from_ui).total, 1);
}

#[test]
fn the_export_has_the_same_codes_and_defuses_spreadsheet_formulas() {
    let office = Office::new();
    let evil = office.desk.customer(
        "WB-666",
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        Some("eve@example.com"),
        None,
    );
    office.morning();
    office.send(evil, None).unwrap();
    let mut out = Vec::new();
    let n = activity::export_codes_csv(
        &office.desk.store.conn(),
        &CodeFilter {
            limit: Some(1),
            ..Default::default()
        },
        office.desk.clock.now_ms(),
        &mut out,
    )
    .unwrap();
    assert_eq!(n, 5, "limit and offset do not apply to an export");
    assert!(
        out.starts_with(b"\xEF\xBB\xBF"),
        "a BOM for spreadsheet programs"
    );
    let mut r = csv::Reader::from_reader(&out[3..]);
    let header = r.headers().unwrap().clone();
    assert_eq!(&header[0], "challenge_id");
    let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(&rows[0][4], "verified", "oldest first");
    let last = &rows[4];
    assert_eq!(&last[8], "'=HYPERLINK(\"http://evil.example\",\"x\")");
    assert_eq!(
        &rows[2][6], "'+1 …0132",
        "a masked number is text, not a formula"
    );
    let text = String::from_utf8_lossy(&out);
    assert!(!text.contains("eve@example.com") && !text.contains("jo.smith"));

    let mut sms = Vec::new();
    let n = activity::export_codes_csv(
        &office.desk.store.conn(),
        &CodeFilter {
            channel: Some(Channel::Sms),
            ..Default::default()
        },
        office.desk.clock.now_ms(),
        &mut sms,
    )
    .unwrap();
    assert_eq!(n, 2);
}
