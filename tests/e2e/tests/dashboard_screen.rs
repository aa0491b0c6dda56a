//! The office admin opens the Dashboard after a morning at the counter, through the real
//! window: today's counts are what was done (from the command line and at the desk), the
//! chart and its table agree, each mail account's deliveries are counted, and the failed
//! delivery is listed with what to do about it.

use std::time::Duration;

use otp_desk_e2e::office::{overflow_at_double_zoom, table_rows, wrong, Office};
use otp_desk_e2e::{
    app_binary, code_in_message, focused_id, one_window_at_a_time, open_customer, outbox_messages,
    press, screenshot, set_up_first_start, text_of, wait_for_text, wait_until, TauriDriver,
    TestResult,
};
use serde_json::Value;
use thirtyfour::prelude::*;

const PASSPHRASE: &str = "river copper lantern";
const ADMIN: &str = "Ann Admin";
const CLERK: &str = "Cleo Desk";

/// What the morning did, as the dashboard should count it.
struct Morning {
    sent: u32,
    verified: u32,
    wrong_codes: u32,
    delivery_failures: u32,
    locked: u32,
}

/// Jo's code delivered, Sam's checked right, Lee's checked wrong once, Kim's delivery failed,
/// and Max, typing wrong codes until the contact locked. Ria is left for the desk.
fn morning(office: &Office) -> Morning {
    for (account, name, email, phone) in [
        ("WB-1001", "Jo Smith", Some("jo.smith@example.com"), None),
        ("WB-2002", "Sam Okafor", None, Some("(415) 555-0177")),
        ("WB-3003", "Lee Park", Some("lee.park@example.com"), None),
        ("WB-4004", "Kim Lee", Some("kim.lee@example.com"), None),
        (
            "WB-6006",
            "Max Moreau",
            Some("max.moreau@example.com"),
            None,
        ),
        ("WB-7007", "Ria Desai", Some("ria.desai@example.com"), None),
    ] {
        office.customer(account, name, email, phone);
    }
    let mut wrong_codes = 0;
    office.send(CLERK, "WB-1001");
    let (sam, code) = office.issue(CLERK, "WB-2002", "sms");
    assert_eq!(office.verify(CLERK, sam, &code), "verified");
    let (lee, code) = office.issue(CLERK, "WB-3003", "email");
    assert_eq!(office.verify(CLERK, lee, &wrong(&code)), "wrong_code");
    wrong_codes += 1;
    office.broken_outbox("Broken outbox");
    office.send_failing(CLERK, "WB-4004", "Broken outbox");

    // Ten wrong codes in a row lock a contact; a code that allows ten tries shows it.
    office.ok("e2e-setup", &["settings", "set", "max_attempts", "10"]);
    let (max, code) = office.issue(CLERK, "WB-6006", "email");
    let mut verdicts = Vec::new();
    while verdicts.last().map(String::as_str) != Some("locked") {
        assert!(
            verdicts.len() < 10,
            "the contact should lock by the tenth wrong code: {verdicts:?}"
        );
        verdicts.push(office.verify(CLERK, max, &wrong(&code)));
    }
    wrong_codes += verdicts.iter().filter(|v| *v == "wrong_code").count() as u32;
    Morning {
        sent: 1,
        verified: 1,
        wrong_codes,
        delivery_failures: 1,
        locked: 1,
    }
}

/// The clerk at the desk sends Ria a code by email and types what she reads out.
async fn ria_is_verified_at_the_desk(driver: &WebDriver, office: &Office) -> TestResult {
    let before = outbox_messages(&office.outbox()).len();
    open_customer(driver, "WB-7007", "Ria Desai").await?;
    assert_eq!(focused_id(driver).await?.as_deref(), Some("send-email"));
    press(driver, Key::Enter).await?;
    wait_for_text(driver, "delivery-state", Duration::from_secs(15), |t| {
        t == "Sent"
    })
    .await;
    let outbox = office.outbox();
    let message = wait_until(
        "Ria's message in the outbox",
        Duration::from_secs(10),
        || {
            let outbox = outbox.clone();
            async move { Ok(outbox_messages(&outbox).get(before).cloned()) }
        },
    )
    .await;
    press(driver, code_in_message(&message, 6).as_str()).await?;
    wait_for_text(driver, "verdict-word", Duration::from_secs(10), |t| {
        t == "VERIFIED"
    })
    .await;
    press(driver, Key::Escape).await?;
    Ok(())
}

async fn open_dashboard(driver: &WebDriver) -> TestResult {
    driver
        .action_chain()
        .key_down(Key::Control)
        .send_keys("4")
        .key_up(Key::Control)
        .perform()
        .await?;
    wait_for_text(driver, "dash-period", Duration::from_secs(10), |t| {
        t.contains(" as of ")
    })
    .await;
    Ok(())
}

async fn today(driver: &WebDriver, series: &str) -> WebDriverResult<String> {
    text_of(driver, &format!("dash-today-{series}")).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_counts_the_morning_and_names_the_failed_delivery_with_its_fix() -> TestResult
{
    let _screen = one_window_at_a_time().await;
    let office = Office::new();
    let done = morning(&office);
    let tauri_driver = TauriDriver::start(&office.home, Some(&office.db));
    let driver = tauri_driver.open_app(&app_binary()).await?;
    set_up_first_start(&driver, PASSPHRASE, ADMIN).await?;

    // Before the desk's own code: what the command line did.
    open_dashboard(&driver).await?;
    wait_for_text(&driver, "dash-today-sent", Duration::from_secs(5), |t| {
        t == done.sent.to_string()
    })
    .await;
    assert_eq!(today(&driver, "verified").await?, done.verified.to_string());

    // A code sent and checked at the desk shows up the next time the dashboard is opened.
    driver
        .find(By::Css("[data-screen-link=desk]"))
        .await?
        .click()
        .await?;
    ria_is_verified_at_the_desk(&driver, &office).await?;
    open_dashboard(&driver).await?;
    let sent = done.sent + 1;
    let verified = done.verified + 1;
    wait_for_text(&driver, "dash-today-sent", Duration::from_secs(5), |t| {
        t == sent.to_string()
    })
    .await;
    for (series, count) in [
        ("verified", verified),
        ("failed_verifications", done.wrong_codes),
        ("delivery_failures", done.delivery_failures),
        ("contacts_locked", done.locked),
    ] {
        assert_eq!(
            today(&driver, series).await?,
            count.to_string(),
            "{series} today"
        );
        let total = text_of(&driver, &format!("dash-total-{series}")).await?;
        assert_eq!(
            total,
            format!("{count} in 30 days"),
            "{series} in the month"
        );
    }
    assert!(
        done.wrong_codes >= 9,
        "Lee's wrong code and Max's before the lock"
    );

    // The chart: one bar per series today, each titled with its number, and a name and
    // description for a screen reader.
    let chart = driver
        .execute(
            "const svg = document.querySelector('#dash-chart svg');
             const label = svg.getAttribute('aria-labelledby').split(' ')
               .map((id) => document.getElementById(id).textContent).join(' ');
             return { role: svg.getAttribute('role'), label,
                      bars: [...svg.querySelectorAll('rect.bar')].map((b) => b.textContent) };",
            Vec::new(),
        )
        .await?
        .json()
        .clone();
    assert_eq!(chart["role"], "img");
    let label = chart["label"].as_str().unwrap_or_default();
    assert!(label.starts_with("Codes per day from "), "{label}");
    assert!(
        label.contains(&format!("{sent} sent, {verified} verified")),
        "{label}"
    );
    let bars: Vec<&str> = chart["bars"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(bars.len(), 5, "five series had something today: {bars:?}");
    assert!(bars[0].ends_with(&format!(": {sent} sent")), "{bars:?}");
    assert!(
        bars[2].ends_with(&format!(": {} failed checks", done.wrong_codes)),
        "{bars:?}"
    );

    // The same numbers as a table, newest day first, opened from the keyboard.
    driver
        .find(By::Id("dash-table-toggle"))
        .await?
        .focus()
        .await?;
    press(&driver, Key::Enter).await?;
    let toggle = driver.find(By::Id("dash-table-toggle")).await?;
    assert_eq!(toggle.attr("aria-expanded").await?.as_deref(), Some("true"));
    let days = table_rows(&driver, "dash-days").await?;
    assert_eq!(days.len(), 30);
    assert_eq!(
        days[0][1..],
        [
            sent,
            verified,
            done.wrong_codes,
            done.delivery_failures,
            done.locked
        ]
        .map(|n| n.to_string())
    );
    assert!(
        days[1..].iter().all(|d| d[1..].iter().all(|n| n == "0")),
        "quiet days show zeros"
    );
    press(&driver, Key::Enter).await?;

    // Delivery by account: every try counts; the broken outbox never delivered.
    let accounts = table_rows(&driver, "dash-accounts").await?;
    let sent_text = sent.to_string();
    assert_eq!(
        accounts,
        [
            ["Broken outbox", "Outbox folder", "0", "1", "0%", "—"],
            [
                "Local outbox",
                "Outbox folder",
                sent_text.as_str(),
                "0",
                "100%",
                "—"
            ],
        ]
    );

    // The latest failure says what to do, and what the outbox said.
    let failures = table_rows(&driver, "dash-failures").await?;
    assert_eq!(failures.len(), 1, "{failures:?}");
    let failure = failures[0].join(" | ");
    for part in [
        "Broken outbox",
        "ki…@example.com",
        "Account set-up incomplete",
        "This account is not set up completely",
        "Not a directory",
    ] {
        assert!(failure.contains(part), "{part:?} missing from {failure:?}");
    }
    driver
        .execute(
            "document.getElementById('screen-dashboard').scrollTop = 0;",
            Vec::new(),
        )
        .await?;
    screenshot(&driver, "dashboard.png").await;
    driver
        .execute(
            "document.getElementById('dash-accounts-title').scrollIntoView();",
            Vec::new(),
        )
        .await?;
    screenshot(&driver, "dashboard-accounts.png").await;

    // At 200 % zoom the chart is drawn again for the narrower box and nothing sticks out.
    let sticking_out = overflow_at_double_zoom(&driver, "screen-dashboard").await?;
    wait_until("the chart to be redrawn narrower", Duration::from_secs(5), || async {
        let width = driver
            .execute("return Number(document.querySelector('#dash-chart svg').getAttribute('width'));", Vec::new())
            .await?
            .json()
            .as_f64()
            .unwrap_or(0.0);
        Ok((width > 0.0 && width < 640.0).then_some(()))
    })
    .await;
    screenshot(&driver, "dashboard-zoom.png").await;
    assert!(sticking_out.is_empty(), "{sticking_out:?}");

    // Every command of the two screens asks for the admin passphrase first.
    driver.find(By::Id("admin-lock")).await?.click().await?;
    wait_until("the admin gate", Duration::from_secs(5), || async {
        Ok(driver
            .find(By::Id("admin-gate"))
            .await?
            .is_displayed()
            .await?
            .then_some(()))
    })
    .await;
    let kinds = driver
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const invoke = window.__TAURI__.core.invoke;
             const calls = [
               ['activity_codes', { query: {} }],
               ['activity_code_detail', { challengeId: 1 }],
               ['activity_audit', { query: {} }],
               ['activity_export_codes', { query: {} }],
               ['activity_export_audit', { query: {} }],
               ['activity_open_exports_folder', {}],
               ['dashboard_summary', { timezoneOffsetMinutes: 0 }],
             ];
             Promise.all(calls.map(([name, args]) =>
               invoke(name, args).then(() => `${name}: answered`, (e) => `${name}: ${e.kind}`)))
               .then(done);",
            Vec::new(),
        )
        .await?
        .json()
        .clone();
    let kinds: Vec<&str> = kinds
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(kinds.len(), 7);
    for kind in kinds {
        assert!(kind.ends_with(": admin_locked"), "{kind}");
    }
    driver.quit().await?;
    Ok(())
}
