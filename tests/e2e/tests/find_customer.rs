//! A clerk finds the customer at the counter: results while typing, keyboard only, contacts
//! shown masked, and customer data always shown as text.

use std::time::{Duration, Instant};

use otp_desk_e2e::{
    app_binary, cli, one_window_at_a_time, screenshot, AppHome, TauriDriver, TestResult,
};
use serde_json::Value;
use thirtyfour::prelude::*;

const HOSTILE_NAME: &str = "<script>alert(1)</script>";

/// One option of the results list, read in a single script call so a list being replaced
/// mid-read can never mix two answers.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: String,
    name: String,
    account: String,
    contacts: Vec<String>,
    selected: bool,
}

async fn rows(driver: &WebDriver) -> WebDriverResult<Vec<Row>> {
    let value = driver
        .execute(
            "const list = document.getElementById('results-list');
             if (list.hidden) return [];
             return [...list.querySelectorAll('[role=option]')].map((o) => ({
               id: o.id,
               name: o.querySelector('.result-name').textContent,
               account: o.querySelector('.result-account').textContent,
               contacts: [...o.querySelector('.result-contacts').children].map((c) => c.textContent),
               selected: o.getAttribute('aria-selected') === 'true',
             }));",
            Vec::new(),
        )
        .await?
        .json()
        .clone();
    let text = |row: &Value, key: &str| row[key].as_str().unwrap_or_default().to_string();
    Ok(value
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|row| Row {
            id: text(row, "id"),
            name: text(row, "name"),
            account: text(row, "account"),
            contacts: row["contacts"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect(),
            selected: row["selected"] == Value::Bool(true),
        })
        .collect())
}

/// Polls the list until `done` holds; results arrive a few tens of milliseconds after a key.
async fn wait_for_rows(
    driver: &WebDriver,
    what: &str,
    done: impl Fn(&[Row]) -> bool,
) -> WebDriverResult<Vec<Row>> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let rows = rows(driver).await?;
        if done(&rows) {
            return Ok(rows);
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the list still shows {rows:#?}"
        );
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

fn names(rows: &[Row]) -> Vec<&str> {
    rows.iter().map(|r| r.name.as_str()).collect()
}

/// Keys go to whatever has focus, as they do from a real keyboard.
async fn press(driver: &WebDriver, keys: impl Into<TypingData>) -> WebDriverResult<()> {
    driver.action_chain().send_keys(keys).perform().await
}

async fn text_of(driver: &WebDriver, id: &str) -> WebDriverResult<String> {
    driver.find(By::Id(id)).await?.text().await
}

/// The top and bottom of the first element matching `css`, in window coordinates.
async fn rect_of(driver: &WebDriver, css: &str) -> WebDriverResult<(f64, f64)> {
    let rect = driver
        .execute(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect();
             return [r.top, r.bottom];",
            vec![Value::from(css)],
        )
        .await?
        .json()
        .clone();
    Ok((
        rect[0].as_f64().unwrap_or(f64::NAN),
        rect[1].as_f64().unwrap_or(f64::NAN),
    ))
}

async fn window_height(driver: &WebDriver) -> WebDriverResult<f64> {
    let height = driver
        .execute("return window.innerHeight;", Vec::new())
        .await?
        .json()
        .clone();
    Ok(height.as_f64().unwrap_or(f64::NAN))
}

async fn focused_id(driver: &WebDriver) -> WebDriverResult<Option<String>> {
    driver.active_element().await?.id().await
}

async fn assert_search_was_cleared(driver: &WebDriver) -> TestResult {
    let search = driver.find(By::Id("search")).await?;
    assert_eq!(search.value().await?.as_deref(), Some(""));
    assert_eq!(focused_id(driver).await?.as_deref(), Some("search"));
    assert_eq!(text_of(driver, "results-empty").await?, "Type to search");
    assert!(rows(driver).await?.is_empty());
    assert!(
        !driver
            .find(By::Id("customer-card"))
            .await?
            .is_displayed()
            .await?
    );
    assert_eq!(
        search.attr("aria-expanded").await?.as_deref(),
        Some("false")
    );
    Ok(())
}

async fn assert_selected(driver: &WebDriver, rows: &[Row], index: usize) -> TestResult {
    let now = wait_for_rows(driver, "the arrow key moves the selection", |now| {
        now.iter()
            .enumerate()
            .all(|(i, r)| r.selected == (i == index))
    })
    .await?;
    let search = driver.find(By::Id("search")).await?;
    assert_eq!(
        search.attr("aria-activedescendant").await?.as_deref(),
        Some(rows[index].id.as_str()),
        "the box must point assistive technology at the selected option; list: {now:#?}"
    );
    assert_eq!(focused_id(driver).await?.as_deref(), Some("search"));
    Ok(())
}

/// What the page answers when called the way the desk calls it, with these arguments.
async fn search_error(driver: &WebDriver, args: Value) -> WebDriverResult<Value> {
    Ok(driver
        .execute_async(
            "const [args, done] = arguments;
             window.__TAURI__.core.invoke('search_customers', args)
               .then((found) => done({ found }), (error) => done({ error }));",
            vec![args],
        )
        .await?
        .json()
        .clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn clerk_finds_a_customer_by_typing_and_picks_with_the_keyboard() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let home = AppHome::new();
    let database = home.root().join("desk.db");
    cli(
        &home,
        &database,
        &[
            "customers",
            "add",
            "--account",
            "WB-7",
            "--name",
            "Jo Smith",
            "--email",
            "jo.smith@example.com",
            "--phone",
            "(415) 555-0132",
        ],
    );
    cli(
        &home,
        &database,
        &[
            "customers",
            "add",
            "--account",
            "WB-666",
            "--name",
            HOSTILE_NAME,
            "--email",
            "mallory@example.org",
        ],
    );
    cli(&home, &database, &["customers", "sample", "--count", "25"]);

    let tauri_driver = TauriDriver::start(&home, Some(&database));
    let driver = tauri_driver.open_app(&app_binary()).await?;
    driver
        .query(By::Id("status-customers"))
        .wait(Duration::from_secs(15), Duration::from_millis(100))
        .with_text("27 customers")
        .first()
        .await?;
    assert_eq!(focused_id(&driver).await?.as_deref(), Some("search"));
    assert_eq!(text_of(&driver, "results-empty").await?, "Type to search");

    // A fragment of the phone number, spaced the way the customer reads it out.
    press(&driver, "555 01").await?;
    let found = wait_for_rows(&driver, "searching \"555 01\"", |r| {
        names(r) == ["Jo Smith"]
    })
    .await?;
    assert_eq!(found[0].account, "WB-7");
    assert_eq!(found[0].contacts, ["jo…@example.com", "+1 …0132"]);
    assert_eq!(
        text_of(&driver, "results-summary").await?,
        "1 customer matches"
    );
    press(&driver, Key::Escape).await?;
    assert_search_was_cleared(&driver).await?;

    // Several people start with "jo": the arrows walk the list while focus stays in the box.
    press(&driver, "jo").await?;
    let several = wait_for_rows(&driver, "searching \"jo\"", |r| {
        r.len() >= 2 && names(r).contains(&"Jo Smith")
    })
    .await?;
    assert!(several.iter().all(|r| !r.selected), "{several:#?}");
    press(&driver, Key::Down).await?;
    assert_selected(&driver, &several, 0).await?;
    press(&driver, Key::Down).await?;
    assert_selected(&driver, &several, 1).await?;
    press(&driver, Key::Up).await?;
    assert_selected(&driver, &several, 0).await?;
    screenshot(&driver, "desk-search.png").await;
    press(&driver, Key::Escape).await?;
    assert_search_was_cleared(&driver).await?;

    // A first name and the start of a surname narrow it to one.
    press(&driver, "jo sm").await?;
    let found = wait_for_rows(&driver, "searching \"jo sm\"", |r| names(r) == ["Jo Smith"]).await?;
    assert_eq!(found[0].contacts, ["jo…@example.com", "+1 …0132"]);
    press(&driver, Key::Down).await?;
    assert_selected(&driver, &found, 0).await?;
    press(&driver, Key::Enter).await?;
    let card = driver
        .query(By::Id("customer-card"))
        .wait(Duration::from_secs(5), Duration::from_millis(50))
        .and_displayed()
        .first()
        .await?;
    assert_eq!(text_of(&driver, "card-name").await?, "Jo Smith");
    assert_eq!(text_of(&driver, "card-account").await?, "WB-7");
    assert_eq!(text_of(&driver, "card-email").await?, "jo…@example.com");
    assert_eq!(text_of(&driver, "card-phone").await?, "+1 …0132");
    assert_eq!(focused_id(&driver).await?.as_deref(), Some("customer-card"));
    assert!(
        !driver
            .find(By::Id("customer-empty"))
            .await?
            .is_displayed()
            .await?
    );
    let page = driver.source().await?;
    for full in ["jo.smith@example.com", "555-0132", "4155550132"] {
        assert!(
            !page.contains(full),
            "the page holds the full contact {full}"
        );
    }
    screenshot(&driver, "desk-card.png").await;
    assert!(card.is_displayed().await?);

    // Esc from the card starts over.
    press(&driver, Key::Escape).await?;
    assert_search_was_cleared(&driver).await?;
    assert!(
        driver
            .find(By::Id("customer-empty"))
            .await?
            .is_displayed()
            .await?
    );

    // A name that looks like markup is shown as the text it is, in the list and on the card.
    press(&driver, "WB-666").await?;
    wait_for_rows(&driver, "searching \"WB-666\"", |r| {
        names(r) == [HOSTILE_NAME]
    })
    .await?;
    let shown = driver
        .find(By::Css("#results-list [role='option'] .result-name"))
        .await?;
    assert_eq!(shown.text().await?, HOSTILE_NAME);
    // One result: Enter opens it without arrowing to it.
    press(&driver, Key::Enter).await?;
    driver
        .query(By::Id("customer-card"))
        .wait(Duration::from_secs(5), Duration::from_millis(50))
        .and_displayed()
        .first()
        .await?;
    assert_eq!(text_of(&driver, "card-name").await?, HOSTILE_NAME);
    assert_eq!(
        text_of(&driver, "card-phone").await?,
        "No phone number on file"
    );
    assert!(
        driver.find_all(By::Css("main script")).await?.is_empty(),
        "a customer's name became an element"
    );
    assert!(
        driver.get_alert_text().await.is_err(),
        "a customer's name ran as a script"
    );
    press(&driver, Key::Escape).await?;

    press(&driver, "zz no such person").await?;
    driver
        .query(By::Id("results-empty"))
        .wait(Duration::from_secs(5), Duration::from_millis(50))
        .with_text("No customers match “zz no such person”")
        .first()
        .await?;
    assert!(rows(&driver).await?.is_empty());
    press(&driver, Key::Escape).await?;
    assert_search_was_cleared(&driver).await?;

    // Every customer has an example.* address: more than one screen of results, so the desk
    // shows the first ones, says so, and keeps the selected one in view while arrowing down.
    press(&driver, "example").await?;
    let many = wait_for_rows(&driver, "searching \"example\"", |r| r.len() == 20).await?;
    assert_eq!(
        text_of(&driver, "results-summary").await?,
        "First 20 matches · type more to narrow down"
    );
    for _ in 0..many.len() {
        press(&driver, Key::Down).await?;
    }
    assert_selected(&driver, &many, many.len() - 1).await?;
    let (list, row) = (
        rect_of(&driver, "#results-list").await?,
        rect_of(&driver, "[role=option][aria-selected=true]").await?,
    );
    // Scroll offsets are whole pixels and layout is not: allow one pixel of rounding.
    assert!(
        row.0 >= list.0 - 1.0 && row.1 <= list.1 + 1.0 && list.1 <= window_height(&driver).await?,
        "the selected row (top, bottom) {row:?} must be inside the list {list:?}, inside the window"
    );
    press(&driver, Key::Escape).await?;
    assert_search_was_cleared(&driver).await?;

    // What the desk never sends is refused with a reason, in the shape every screen handles.
    for args in [
        serde_json::json!({ "query": "x".repeat(101) }),
        serde_json::json!({ "query": "jo", "limit": 0 }),
        serde_json::json!({ "query": "jo", "limit": 51 }),
        serde_json::json!({ "query": "jo", "offset": 10_001 }),
    ] {
        let answer = search_error(&driver, args.clone()).await?;
        assert_eq!(
            answer["error"]["kind"], "invalid_search",
            "{args} → {answer}"
        );
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{args} → {answer}"
        );
    }
    let answer = search_error(&driver, serde_json::json!({ "query": "jo", "limit": 50 })).await?;
    assert!(answer["found"].is_array(), "{answer}");

    driver.quit().await?;
    Ok(())
}
