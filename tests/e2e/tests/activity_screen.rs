//! The office admin looks back at the day on the Activity screen, through the real window:
//! every code with what became of it, narrowed by channel, state, date and a search, paged,
//! opened for its delivery tries and events, and exported as the filters show it; then the
//! audit trail by event type and result. Nothing on the screen changes any data.

use std::path::Path;
use std::time::Duration;

use otp_desk_e2e::office::{choose, overflow_at_double_zoom, table_rows, type_date, wrong, Office};
use otp_desk_e2e::{
    app_binary, focused_id, one_window_at_a_time, press, screenshot, set_up_first_start, text_of,
    type_into, wait_for_text, wait_until, TauriDriver, TestResult,
};
use thirtyfour::prelude::*;

const PASSPHRASE: &str = "river copper lantern";
const ADMIN: &str = "Ann Admin";
const CLERK: &str = "Cleo Desk";
/// The street of customers whose codes fill the first page and spill onto a second.
const STREET: usize = 52;
const ALL_CODES: usize = STREET + 4;

/// A day at the office: a street of customers each given a code by Bob (waiting, never
/// delivered: issued for a script), then the four codes the admin came to look at, newest
/// last: Jo's delivered by email, Sam's SMS code checked right, Lee's code checked wrong
/// once, and Kim's, whose delivery failed.
fn office_day() -> Office {
    let office = Office::new();
    for n in 1..=STREET {
        let account = format!("WB-5{n:03}");
        let email = format!("pat.{n}@example.net");
        office.customer(&account, &format!("Pat Example {n}"), Some(&email), None);
        office.issue("Bob Desk", &account, "email");
    }
    office.customer("WB-1001", "Jo Smith", Some("jo.smith@example.com"), None);
    office.customer("WB-2002", "Sam Okafor", None, Some("(415) 555-0177"));
    office.customer("WB-3003", "Lee Park", Some("lee.park@example.com"), None);
    office.customer("WB-4004", "Kim Lee", Some("kim.lee@example.com"), None);
    office.send(CLERK, "WB-1001");
    let (sam, code) = office.issue(CLERK, "WB-2002", "sms");
    assert_eq!(office.verify(CLERK, sam, &code), "verified");
    let (lee, code) = office.issue(CLERK, "WB-3003", "email");
    assert_eq!(office.verify(CLERK, lee, &wrong(&code)), "wrong_code");
    office.broken_outbox("Broken outbox");
    let refused = office.send_failing(CLERK, "WB-4004", "Broken outbox");
    assert!(refused.contains("could not be delivered"), "{refused}");
    office
}

async fn open_activity(driver: &WebDriver) -> TestResult {
    // Ctrl+3, the keyboard way to the third screen.
    driver
        .action_chain()
        .key_down(Key::Control)
        .send_keys("3")
        .key_up(Key::Control)
        .perform()
        .await?;
    wait_for_text(driver, "activity-title", Duration::from_secs(5), |t| {
        t == "Activity"
    })
    .await;
    Ok(())
}

/// Whether `list` ("codes" or "audit") is still waiting for the answer to its filters.
async fn busy(driver: &WebDriver, list: &str) -> WebDriverResult<bool> {
    let table = driver.find(By::Id(format!("{list}-table"))).await?;
    Ok(table.attr("aria-busy").await?.as_deref() == Some("true"))
}

/// Waits for the answer to the filters of `list`, and for its pager to say `range`.
async fn range_is(driver: &WebDriver, list: &str, range: &str) -> String {
    listed(driver, list, range, "").await;
    range.to_string()
}

/// Waits until `list` says `range` and every row mentions `needle` (the range alone can be
/// the same before and after a change), and answers the rows.
async fn listed(driver: &WebDriver, list: &str, range: &str, needle: &str) -> Vec<String> {
    let tbody = format!("{list}-rows");
    wait_until(
        &format!("{list} to show {range}, each row with {needle:?}"),
        Duration::from_secs(10),
        || async {
            if busy(driver, list).await? {
                return Ok(None);
            }
            let shown = text_of(driver, &format!("{list}-range")).await?;
            let rows = row_texts(driver, &tbody).await?;
            Ok((shown == range && rows.iter().all(|r| r.contains(needle))).then_some(rows))
        },
    )
    .await
}

async fn enabled(driver: &WebDriver, id: &str) -> WebDriverResult<bool> {
    driver.find(By::Id(id)).await?.is_enabled().await
}

async fn clear_filters(driver: &WebDriver, list: &str, range: &str) -> TestResult {
    driver
        .find(By::Id(format!("{list}-clear")))
        .await?
        .click()
        .await?;
    range_is(driver, list, range).await;
    Ok(())
}

/// The text of every row, each row's cells joined, for "this row mentions…" checks.
async fn row_texts(driver: &WebDriver, tbody: &str) -> WebDriverResult<Vec<String>> {
    Ok(table_rows(driver, tbody)
        .await?
        .into_iter()
        .map(|cells| cells.join(" | "))
        .collect())
}

/// Exports what `list` shows and answers the file the page says it saved, and its text.
async fn export(
    driver: &WebDriver,
    list: &str,
    office: &Office,
) -> WebDriverResult<(String, String)> {
    driver
        .find(By::Id(format!("{list}-export")))
        .await?
        .click()
        .await?;
    let saved = wait_for_text(
        driver,
        &format!("{list}-saved-text"),
        Duration::from_secs(10),
        |t| t.starts_with("Saved "),
    )
    .await;
    let file = driver
        .find(By::Css(format!("#{list}-saved-text .saved-file")))
        .await?
        .text()
        .await?;
    assert!(
        Path::new(&file).starts_with(office.home.root()),
        "exports go to the downloads folder of the app's home, not elsewhere: {file}"
    );
    let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{file} is readable: {e}"));
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "a UTF-8 byte-order mark for spreadsheets"
    );
    let text = String::from_utf8(bytes[3..].to_vec()).expect("the export is UTF-8");
    Ok((saved, text))
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_narrows_the_codes_by_channel_state_date_and_search_and_pages_through_them(
) -> TestResult {
    let _screen = one_window_at_a_time().await;
    let office = office_day();
    let tauri_driver = TauriDriver::start(&office.home, Some(&office.db));
    let driver = tauri_driver.open_app(&app_binary()).await?;
    set_up_first_start(&driver, PASSPHRASE, ADMIN).await?;
    open_activity(&driver).await?;

    // Newest first: the four codes of the morning on top, each with what became of it.
    range_is(&driver, "codes", &format!("1–50 of {ALL_CODES}")).await;
    let rows = row_texts(&driver, "codes-rows").await?;
    assert_eq!(rows.len(), 50);
    for (row, wanted) in rows.iter().zip([
        [
            "Kim Lee",
            "WB-4004",
            "Cancelled",
            "Account set-up incomplete",
            "Broken outbox",
        ],
        ["Lee Park", "WB-3003", "le…@example.com", "Waiting", "1 / 5"],
        ["Sam Okafor", "WB-2002", "+1 …0177", "Verified", "SMS"],
        [
            "Jo Smith",
            "WB-1001",
            "jo…@example.com",
            "Sent",
            "Local outbox",
        ],
    ]) {
        for part in wanted {
            assert!(row.contains(part), "{part:?} missing from {row:?}");
        }
        assert!(row.contains(CLERK), "the operator who sent it: {row:?}");
    }
    assert!(rows[4].contains("Pat Example") && rows[4].contains("Bob Desk"));
    assert!(rows[4].contains("no delivery tried"), "{}", rows[4]);
    let page = driver.source().await?;
    assert!(
        !page.contains("jo.smith"),
        "contacts reach the window masked only"
    );
    screenshot(&driver, "activity-codes.png").await;

    // Paging: the second page has the rest; Next goes dim and hands the focus to Previous.
    assert!(!enabled(&driver, "codes-prev").await?);
    driver.find(By::Id("codes-next")).await?.focus().await?;
    press(&driver, Key::Enter).await?;
    range_is(&driver, "codes", &format!("51–{ALL_CODES} of {ALL_CODES}")).await;
    let rest = row_texts(&driver, "codes-rows").await?;
    assert_eq!(rest.len(), ALL_CODES - 50);
    assert!(rest.iter().all(|r| r.contains("Pat Example")), "{rest:?}");
    assert!(!enabled(&driver, "codes-next").await?);
    assert_eq!(focused_id(&driver).await?.as_deref(), Some("codes-prev"));
    press(&driver, Key::Enter).await?;
    range_is(&driver, "codes", &format!("1–50 of {ALL_CODES}")).await;

    // Channel, then state: each narrows to the codes it names.
    choose(&driver, "codes-channel", "sms").await?;
    listed(&driver, "codes", "1–1 of 1", "Sam Okafor").await;
    assert!(!enabled(&driver, "codes-next").await? && !enabled(&driver, "codes-prev").await?);
    choose(&driver, "codes-channel", "email").await?;
    range_is(&driver, "codes", &format!("1–50 of {}", ALL_CODES - 1)).await;
    choose(&driver, "codes-state", "cancelled").await?;
    listed(&driver, "codes", "1–1 of 1", "Kim Lee").await;
    choose(&driver, "codes-channel", "").await?;
    choose(&driver, "codes-state", "verified").await?;
    listed(&driver, "codes", "1–1 of 1", "Sam Okafor").await;
    choose(&driver, "codes-state", "pending").await?;
    range_is(&driver, "codes", &format!("1–50 of {}", STREET + 2)).await;
    clear_filters(&driver, "codes", &format!("1–50 of {ALL_CODES}")).await?;
    assert_eq!(focused_id(&driver).await?.as_deref(), Some("codes-text"));

    // The search finds a name or an account by any part; never a full address, and typed
    // markup or SQL is only text.
    type_into(&driver, "codes-text", "okafor").await?;
    listed(&driver, "codes", "1–1 of 1", "WB-2002").await;
    for (search, range, needle) in [
        ("WB-40", "1–1 of 1", "Kim Lee"),
        ("jo.smith", "No codes", ""),
        ("<b>x</b>", "No codes", ""),
        ("' OR 1=1 --", "No codes", ""),
    ] {
        let field = driver.find(By::Id("codes-text")).await?;
        field.clear().await?;
        field.send_keys(search).await?;
        listed(&driver, "codes", range, needle).await;
    }
    assert!(row_texts(&driver, "codes-rows").await?.is_empty());
    assert!(
        driver
            .find(By::Id("codes-empty"))
            .await?
            .is_displayed()
            .await?
    );
    clear_filters(&driver, "codes", &format!("1–50 of {ALL_CODES}")).await?;

    // Dates are the admin's own calendar days, and "to" takes in the whole day.
    type_date(&driver, "codes-from", 1).await?;
    range_is(&driver, "codes", "No codes").await;
    clear_filters(&driver, "codes", &format!("1–50 of {ALL_CODES}")).await?;
    type_date(&driver, "codes-to", -1).await?;
    range_is(&driver, "codes", "No codes").await;
    type_date(&driver, "codes-to", 0).await?;
    range_is(&driver, "codes", &format!("1–50 of {ALL_CODES}")).await;
    type_date(&driver, "codes-from", 0).await?;
    range_is(&driver, "codes", &format!("1–50 of {ALL_CODES}")).await;
    // A reversed range is refused next to the "to" field; no stale rows stay on screen.
    type_date(&driver, "codes-to", -1).await?;
    let error = wait_for_text(&driver, "codes-to-error", Duration::from_secs(5), |t| {
        !t.is_empty()
    })
    .await;
    assert!(error.contains("before the \"from\" day"), "{error}");
    let to = driver.find(By::Id("codes-to")).await?;
    assert_eq!(to.attr("aria-invalid").await?.as_deref(), Some("true"));
    assert!(row_texts(&driver, "codes-rows").await?.is_empty());
    clear_filters(&driver, "codes", &format!("1–50 of {ALL_CODES}")).await?;
    assert_eq!(text_of(&driver, "codes-to-error").await?, "");

    // A code opens with every delivery try and audit event; Esc closes it and the focus goes
    // back to the row.
    choose(&driver, "codes-state", "cancelled").await?;
    listed(&driver, "codes", "1–1 of 1", "Kim Lee").await;
    driver
        .find(By::Css("#codes-rows button.row-open"))
        .await?
        .focus()
        .await?;
    press(&driver, Key::Enter).await?;
    let title = wait_for_text(&driver, "code-dialog-title", Duration::from_secs(5), |t| {
        t.contains("Kim Lee")
    })
    .await;
    assert!(title.starts_with("Code "), "{title}");
    let tries = wait_until("the delivery tries", Duration::from_secs(5), || async {
        let rows = row_texts(&driver, "code-deliveries-rows").await?;
        Ok((!rows.is_empty()).then_some(rows))
    })
    .await;
    assert_eq!(tries.len(), 1, "{tries:?}");
    for part in [
        "Broken outbox",
        "ki…@example.com",
        "Account set-up incomplete",
        "This account is not set up completely",
        "Not a directory",
    ] {
        assert!(
            tries[0].contains(part),
            "{part:?} missing from {:?}",
            tries[0]
        );
    }
    let events = row_texts(&driver, "code-events-rows").await?;
    assert!(
        events.iter().any(|e| e.contains("Code issued")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.contains("Code sent") && e.contains("Failed")),
        "{events:?}"
    );
    screenshot(&driver, "activity-code-detail.png").await;
    press(&driver, Key::Escape).await?;
    wait_until("the dialog to close", Duration::from_secs(5), || async {
        let open = driver
            .find(By::Id("code-dialog"))
            .await?
            .attr("open")
            .await?;
        Ok(open.is_none().then_some(()))
    })
    .await;
    let back = driver.active_element().await?.class_name().await?;
    assert_eq!(
        back.as_deref(),
        Some("row-open"),
        "the focus is back on the code's row"
    );

    // The export holds exactly what the filters show.
    let (saved, csv) = export(&driver, "codes", &office).await?;
    assert!(saved.starts_with("Saved 1 code to "), "{saved}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "a header and Kim's code: {csv}");
    assert!(lines[0].starts_with("challenge_id,created"), "{}", lines[0]);
    assert!(
        lines[1].contains("WB-4004") && lines[1].contains("cancelled"),
        "{}",
        lines[1]
    );
    assert!(!csv.contains("kim.lee@"), "the export masks contacts too");

    // At 200 % zoom every row becomes a card of labelled lines, and nothing sticks out.
    clear_filters(&driver, "codes", &format!("1–50 of {ALL_CODES}")).await?;
    let sticking_out = overflow_at_double_zoom(&driver, "screen-activity").await?;
    driver
        .execute(
            "document.getElementById('codes-rows').scrollIntoView({ block: 'nearest' });",
            Vec::new(),
        )
        .await?;
    screenshot(&driver, "activity-codes-zoom.png").await;
    assert!(sticking_out.is_empty(), "{sticking_out:?}");
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_filters_the_audit_trail_by_type_and_result_and_finds_an_account() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let office = office_day();
    let tauri_driver = TauriDriver::start(&office.home, Some(&office.db));
    let driver = tauri_driver.open_app(&app_binary()).await?;
    set_up_first_start(&driver, PASSPHRASE, ADMIN).await?;
    open_activity(&driver).await?;
    range_is(&driver, "codes", &format!("1–50 of {ALL_CODES}")).await;

    // The tabs follow the arrow keys.
    driver
        .find(By::Id("activity-tab-codes"))
        .await?
        .focus()
        .await?;
    press(&driver, Key::Right).await?;
    assert_eq!(
        focused_id(&driver).await?.as_deref(),
        Some("activity-tab-audit")
    );
    let tab = driver.find(By::Id("activity-tab-audit")).await?;
    assert_eq!(tab.attr("aria-selected").await?.as_deref(), Some("true"));
    assert!(
        !driver
            .find(By::Id("activity-codes"))
            .await?
            .is_displayed()
            .await?
    );
    let everything = wait_for_text(&driver, "audit-range", Duration::from_secs(10), |t| {
        t.starts_with("1–50 of ")
    })
    .await;
    let newest = row_texts(&driver, "audit-rows").await?;
    assert!(
        newest[0].contains(ADMIN),
        "the admin's own unlock is the newest: {:?}",
        newest[0]
    );

    // Type and result: the two checks of the day, then the wrong one.
    choose(&driver, "audit-kind", "code_verify").await?;
    range_is(&driver, "audit", "1–2 of 2").await;
    choose(&driver, "audit-result", "failed").await?;
    let row = &listed(&driver, "audit", "1–1 of 1", "Lee Park").await[0];
    for part in [
        "Code checked",
        "Failed",
        CLERK,
        "Lee Park",
        "WB-3003",
        "Email",
        "le…@example.com",
        "wrong code",
    ] {
        assert!(row.contains(part), "{part:?} missing from {row:?}");
    }
    choose(&driver, "audit-result", "ok").await?;
    let row = &listed(&driver, "audit", "1–1 of 1", "Sam Okafor").await[0];
    assert!(
        row.contains("Sam Okafor") && row.contains("SMS") && row.contains("OK"),
        "{row}"
    );
    choose(&driver, "audit-channel", "email").await?;
    range_is(&driver, "audit", "No events").await;
    clear_filters(&driver, "audit", &everything).await?;

    // The search finds an account's whole story.
    type_into(&driver, "audit-text", "WB-3003").await?;
    let (story, rows) = wait_until("the account's events", Duration::from_secs(10), || async {
        if busy(&driver, "audit").await? {
            return Ok(None);
        }
        let range = text_of(&driver, "audit-range").await?;
        let rows = row_texts(&driver, "audit-rows").await?;
        Ok((range.starts_with("1–") && range != everything).then_some((range, rows)))
    })
    .await;
    assert!(rows.iter().all(|r| r.contains("WB-3003")), "{rows:?}");
    for event in [
        "Customer added",
        "Code issued",
        "Code printed for a script",
        "Code checked",
    ] {
        assert!(
            rows.iter().any(|r| r.contains(event)),
            "{event} missing from {rows:?}"
        );
    }
    assert_eq!(story, format!("1–{} of {}", rows.len(), rows.len()));
    screenshot(&driver, "activity-audit.png").await;

    // An event about a code opens that code. Leaving the search box for the row must not
    // ask for the same rows again: new rows would take the focus from under the admin.
    driver
        .find(By::Css("#audit-rows button.row-open"))
        .await?
        .focus()
        .await?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let still = driver
        .execute(
            "return document.activeElement.matches('#audit-rows button.row-open')
                    && document.getElementById('audit-table').getAttribute('aria-busy') !== 'true';",
            Vec::new(),
        )
        .await?
        .json()
        .clone();
    assert_eq!(still, true, "the focus stays on the row, the rows stay put");
    press(&driver, Key::Enter).await?;
    wait_for_text(&driver, "code-dialog-title", Duration::from_secs(5), |t| {
        t.contains("Lee Park")
    })
    .await;
    wait_until("the code's events", Duration::from_secs(5), || async {
        let events = row_texts(&driver, "code-events-rows").await?;
        Ok(events
            .iter()
            .any(|e| e.contains("Code checked") && e.contains("Failed"))
            .then_some(()))
    })
    .await;
    let none = driver.find(By::Id("code-deliveries-none")).await?;
    assert!(
        none.is_displayed().await?,
        "a code handed to a script had no delivery tries"
    );
    press(&driver, Key::Escape).await?;

    let (saved, csv) = export(&driver, "audit", &office).await?;
    assert!(
        saved.starts_with(&format!("Saved {} events to ", rows.len())),
        "{saved}"
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), rows.len() + 1, "{csv}");
    assert!(lines[1..].iter().all(|l| l.contains("WB-3003")), "{csv}");
    assert!(!csv.contains("lee.park@"), "{csv}");
    driver.quit().await?;
    Ok(())
}
