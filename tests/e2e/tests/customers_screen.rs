//! The office admin's Customers screen through the real window: importing the billing
//! system's CSV file with bad rows in it, adding a customer the form corrects, and exporting
//! the list to the downloads folder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use otp_desk_e2e::{
    app_binary, cli, focused_id, one_window_at_a_time, open_customer, press, screenshot,
    set_up_first_start, text_of, type_into, wait_for_text, wait_until, AppHome, TauriDriver,
    TestResult,
};
use serde_json::Value;
use thirtyfour::prelude::*;

const PASSPHRASE: &str = "harbour willow signal";
const ADMIN: &str = "Pat Admin";
const WAIT: Duration = Duration::from_secs(10);

fn fixture(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name);
    std::path::absolute(&path).unwrap_or(path)
}

/// A new office: the database file the app will create, in a home of its own.
fn office() -> (AppHome, PathBuf) {
    let home = AppHome::new();
    let db = home.root().join("office.db");
    (home, db)
}

fn add_with_cli(home: &AppHome, db: &Path, account: &str, name: &str, email: &str, phone: &str) {
    let mut args = vec!["customers", "add", "--account", account, "--name", name];
    if !email.is_empty() {
        args.extend(["--email", email]);
    }
    if !phone.is_empty() {
        args.extend(["--phone", phone]);
    }
    cli(home, db, &args);
}

/// From the desk to the Customers screen, with the admin area already open.
async fn go_to_customers(driver: &WebDriver) -> TestResult {
    driver
        .find(By::Css("[data-screen-link='customers']"))
        .await?
        .click()
        .await?;
    wait_until("the Customers screen", WAIT, || async {
        let shown = driver
            .find(By::Id("customers-list"))
            .await?
            .is_displayed()
            .await?;
        Ok(shown.then_some(()))
    })
    .await;
    Ok(())
}

/// The names in the list, top to bottom.
async fn listed_names(driver: &WebDriver) -> WebDriverResult<Vec<String>> {
    let mut names = Vec::new();
    for button in driver
        .find_all(By::Css("#customers-rows button.row-open"))
        .await?
    {
        names.push(button.text().await?);
    }
    Ok(names)
}

async fn wait_for_names(driver: &WebDriver, want: &[&str]) -> Vec<String> {
    wait_until(&format!("the list to show {want:?}"), WAIT, || async {
        let names = listed_names(driver).await?;
        Ok((names == want).then_some(names))
    })
    .await
}

/// The rejected rows of the report: (line, account number, reason).
async fn rejected_rows(driver: &WebDriver) -> WebDriverResult<Vec<(String, String, String)>> {
    let mut rows = Vec::new();
    for row in driver
        .find_all(By::Css("#customers-rejected-rows tr"))
        .await?
    {
        let cells = row.find_all(By::Css("td")).await?;
        let mut text = Vec::new();
        for cell in cells {
            text.push(cell.text().await?);
        }
        if let [line, account, reason] = text.as_slice() {
            rows.push((line.clone(), account.clone(), reason.clone()));
        }
    }
    Ok(rows)
}

/// What the progress bar shows: value, max, and how many counts the app sent it.
async fn progress(driver: &WebDriver) -> WebDriverResult<Value> {
    Ok(driver
        .execute(
            "const bar = document.getElementById('customers-progress');
             return [bar.hasAttribute('value') ? bar.value : null,
                     bar.hasAttribute('max') ? bar.max : null,
                     Number(bar.dataset.updates || 0)];",
            Vec::new(),
        )
        .await?
        .json()
        .clone())
}

async fn choose_file(driver: &WebDriver, path: &Path) -> TestResult {
    let input = driver.find(By::Id("customers-file")).await?;
    input.send_keys(path.display().to_string()).await?;
    wait_for_text(driver, "customers-preview-summary", WAIT, |t| !t.is_empty()).await;
    Ok(())
}

/// The page as at `percent` zoom: CSS pixels grow, so at 200 % the 1280x800 window lays out
/// like a 640x400 one. Answers whether anything in the window then needs sideways scrolling.
async fn zoomed_overflows_sideways(driver: &WebDriver, percent: u32) -> WebDriverResult<bool> {
    let answer = driver
        .execute(
            "document.documentElement.style.zoom = arguments[0] / 100;
             const wide = (e) => e.scrollWidth > e.clientWidth + 1;
             const open = [...document.querySelectorAll('dialog[open]')];
             return wide(document.documentElement)
                 || wide(document.getElementById('screen-customers'))
                 || open.some(wide);",
            vec![Value::from(percent)],
        )
        .await?;
    Ok(answer.json().as_bool().unwrap_or(true))
}

/// Opens the customer's record from the list and asks to delete it.
async fn ask_to_delete(driver: &WebDriver, name: &str) -> TestResult {
    for button in driver
        .find_all(By::Css("#customers-rows button.row-open"))
        .await?
    {
        if button.text().await? == name {
            button.click().await?;
            break;
        }
    }
    let title = format!("Edit {name}");
    wait_for_text(driver, "customers-dialog-title", WAIT, |t| t == title).await;
    driver
        .find(By::Id("customers-delete"))
        .await?
        .click()
        .await?;
    let question = format!("Delete {name}?");
    wait_for_text(driver, "customers-confirm-title", WAIT, |t| t == question).await;
    Ok(())
}

async fn count_of(driver: &WebDriver, what: &str) -> WebDriverResult<String> {
    text_of(driver, &format!("customers-count-{what}")).await
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_imports_a_file_with_bad_rows_and_sees_each_one_by_its_line() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let (home, db) = office();
    let tauri_driver = TauriDriver::start(&home, Some(&db));
    let driver = tauri_driver.open_app(&app_binary()).await?;
    set_up_first_start(&driver, PASSPHRASE, ADMIN).await?;
    go_to_customers(&driver).await?;
    wait_for_text(&driver, "customers-empty", WAIT, |t| {
        t.starts_with("No customers yet")
    })
    .await;

    driver
        .find(By::Id("customers-import-open"))
        .await?
        .click()
        .await?;
    wait_until("the import panel", WAIT, || async {
        Ok(driver
            .find(By::Id("customers-file"))
            .await?
            .is_displayed()
            .await?
            .then_some(()))
    })
    .await;
    let file = fixture("customers_with_errors.csv");
    choose_file(&driver, &file).await?;

    // The preview: the columns as the import maps them, and the first rows by their lines.
    let summary = text_of(&driver, "customers-preview-summary").await?;
    assert!(
        summary.contains("separated by commas, 6 columns"),
        "{summary}"
    );
    assert!(summary.contains("first 8 rows"), "{summary}");
    let mut mapping = Vec::new();
    for row in driver
        .find_all(By::Css("#customers-mapping-rows tr"))
        .await?
    {
        let cells = row.find_all(By::Css("td")).await?;
        let mut text = Vec::new();
        for cell in cells {
            text.push(cell.text().await?);
        }
        mapping.push(text.join(" → "));
    }
    assert_eq!(
        mapping,
        [
            "account_number → account number",
            "name → name",
            "email → email",
            "phone → phone",
            "service_address → service address",
            "notes → notes",
        ]
    );
    assert!(
        !driver
            .find(By::Id("customers-preview-missing"))
            .await?
            .is_displayed()
            .await?
    );
    let first_lines: Vec<String> = {
        let mut lines = Vec::new();
        for cell in driver
            .find_all(By::Css("#customers-preview-rows tr td:first-child"))
            .await?
        {
            lines.push(cell.text().await?);
        }
        lines
    };
    assert_eq!(first_lines, ["2", "3", "4", "5", "6", "7", "8", "10"]);
    assert_eq!(
        focused_id(&driver).await?.as_deref(),
        Some("customers-preview-title")
    );
    screenshot(&driver, "customers-import-preview.png").await;

    // Skip invalid rows: the good ones go in, every bad one is listed by its line.
    driver
        .find(By::Id("customers-mode-skip"))
        .await?
        .click()
        .await?;
    driver
        .find(By::Id("customers-import-start"))
        .await?
        .click()
        .await?;
    let title = wait_for_text(&driver, "customers-report-title", WAIT, |t| !t.is_empty()).await;
    assert_eq!(title, "Imported, with 6 rows left out");
    let bar = wait_until("the progress bar to reach the end", WAIT, || async {
        let p = progress(&driver).await?;
        Ok((p[0] == p[1] && p[0] == 8.0).then_some(p))
    })
    .await;
    assert!(
        bar[2].as_f64().unwrap_or(0.0) >= 1.0,
        "the bar is fed by counts from the app: {bar}"
    );
    assert_eq!(
        text_of(&driver, "customers-progress-text").await?,
        "8 of 8 rows checked."
    );
    assert_eq!(count_of(&driver, "inserted").await?, "2");
    assert_eq!(count_of(&driver, "updated").await?, "0");
    assert_eq!(count_of(&driver, "rejected").await?, "6");
    let rejected = rejected_rows(&driver).await?;
    let lines: Vec<&str> = rejected.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(lines, ["3", "4", "5", "6", "7", "8"]);
    assert_eq!(rejected[0].1, "WB-0002002");
    assert_eq!(rejected[0].2, "The name is required");
    assert!(rejected[1]
        .2
        .contains("\"not-an-email\" is not a valid email address"));
    assert!(
        rejected[2].2.contains("the header has 6"),
        "{}",
        rejected[2].2
    );
    assert!(
        rejected[4].2.contains("also on line 2"),
        "{}",
        rejected[4].2
    );
    let fix = text_of(&driver, "customers-report-fix").await?;
    assert!(fix.contains("import the whole file again"), "{fix}");
    assert_eq!(
        focused_id(&driver).await?.as_deref(),
        Some("customers-report-title")
    );
    screenshot(&driver, "customers-import-report.png").await;

    // The same file all or nothing: the bad rows stop it, and nothing changes.
    driver
        .find(By::Id("customers-import-again"))
        .await?
        .click()
        .await?;
    assert_eq!(
        focused_id(&driver).await?.as_deref(),
        Some("customers-file")
    );
    choose_file(&driver, &file).await?;
    driver
        .find(By::Id("customers-mode-all"))
        .await?
        .click()
        .await?;
    driver
        .find(By::Id("customers-import-start"))
        .await?
        .click()
        .await?;
    wait_for_text(&driver, "customers-report-title", WAIT, |t| {
        t == "Nothing was imported"
    })
    .await;
    let summary = text_of(&driver, "customers-report-summary").await?;
    assert!(summary.contains("exactly as it was"), "{summary}");
    assert_eq!(count_of(&driver, "inserted").await?, "0");
    assert_eq!(count_of(&driver, "unchanged").await?, "0");
    assert_eq!(count_of(&driver, "rejected").await?, "6");
    assert_eq!(rejected_rows(&driver).await?.len(), 6);
    screenshot(&driver, "customers-import-nothing.png").await;

    // A file with a header and nothing under it: refused with the reason, nothing changes.
    driver
        .find(By::Id("customers-import-again"))
        .await?
        .click()
        .await?;
    choose_file(&driver, &fixture("customers_header_only.csv")).await?;
    let summary = text_of(&driver, "customers-preview-summary").await?;
    assert!(
        summary.ends_with("There are no rows under the header."),
        "{summary}"
    );
    driver
        .find(By::Id("customers-import-start"))
        .await?
        .click()
        .await?;
    wait_for_text(&driver, "customers-progress-label", WAIT, |t| {
        t == "Nothing was imported"
    })
    .await;
    let why = text_of(&driver, "customers-progress-text").await?;
    assert_eq!(
        why,
        "The file has a header row but no customers. The customer list is exactly as it was."
    );
    assert!(
        driver
            .find(By::Id("customers-file"))
            .await?
            .is_displayed()
            .await?
    );

    driver
        .find(By::Id("customers-import-cancel"))
        .await?
        .click()
        .await?;
    wait_for_names(&driver, &["Kim Park", "Tom Ford"]).await;
    assert_eq!(text_of(&driver, "customers-range").await?, "1–2 of 2");
    let status = wait_for_text(&driver, "status-customers", WAIT, |t| t == "2 customers").await;
    assert_eq!(status, "2 customers");
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_adds_a_customer_after_fixing_the_email_the_form_points_at() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let (home, db) = office();
    add_with_cli(
        &home,
        &db,
        "WB-1001",
        "Jo Smith",
        "jo.smith@example.com",
        "(415) 555-0132",
    );
    add_with_cli(
        &home,
        &db,
        "WB-1002",
        "Zoë Müller-Lüdenscheidt",
        "",
        "+44 20 7946 0958",
    );
    add_with_cli(
        &home,
        &db,
        "WB-1003",
        "<b>Robert'); DROP TABLE customers;--</b>",
        "bobby@example.com",
        "",
    );
    let tauri_driver = TauriDriver::start(&home, Some(&db));
    let driver = tauri_driver.open_app(&app_binary()).await?;
    set_up_first_start(&driver, PASSPHRASE, ADMIN).await?;
    go_to_customers(&driver).await?;
    wait_for_names(
        &driver,
        &[
            "Jo Smith",
            "Zoë Müller-Lüdenscheidt",
            "<b>Robert'); DROP TABLE customers;--</b>",
        ],
    )
    .await;
    assert_eq!(text_of(&driver, "customers-range").await?, "1–3 of 3");

    driver.find(By::Id("customers-add")).await?.click().await?;
    wait_until("the add form", WAIT, || async {
        Ok(driver
            .find(By::Id("customers-dialog"))
            .await?
            .is_displayed()
            .await?
            .then_some(()))
    })
    .await;
    assert_eq!(
        focused_id(&driver).await?.as_deref(),
        Some("customer-account_number")
    );
    press(&driver, "WB-3001").await?;
    type_into(&driver, "customer-name", "Dana Whitfield").await?;
    type_into(&driver, "customer-email", "dana@example").await?;
    type_into(&driver, "customer-phone", "(503) 555-0199").await?;
    type_into(
        &driver,
        "customer-service_address",
        "12 Harbour Rd, Portland",
    )
    .await?;
    driver
        .find(By::Id("customers-form-save"))
        .await?
        .click()
        .await?;

    let error = wait_for_text(&driver, "customer-email-error", WAIT, |t| !t.is_empty()).await;
    assert!(
        error.contains("\"dana@example\" is not a valid email address"),
        "{error}"
    );
    let email = driver.find(By::Id("customer-email")).await?;
    assert_eq!(email.attr("aria-invalid").await?.as_deref(), Some("true"));
    assert_eq!(
        focused_id(&driver).await?.as_deref(),
        Some("customer-email")
    );
    for other in [
        "account_number",
        "name",
        "phone",
        "service_address",
        "notes",
    ] {
        assert_eq!(
            text_of(&driver, &format!("customer-{other}-error")).await?,
            "",
            "{other}"
        );
    }
    screenshot(&driver, "customers-edit.png").await;
    assert!(
        !zoomed_overflows_sideways(&driver, 200).await?,
        "the form fits at 200 % zoom"
    );
    screenshot(&driver, "customers-edit-zoom-200.png").await;
    zoomed_overflows_sideways(&driver, 100).await?;

    email.clear().await?;
    email.send_keys("dana.whitfield@example.com").await?;
    assert_eq!(
        text_of(&driver, "customer-email-error").await?,
        "",
        "typing clears the message"
    );
    press(&driver, Key::Enter).await?;
    wait_for_text(&driver, "customers-status", WAIT, |t| {
        t == "Added Dana Whitfield (WB-3001)."
    })
    .await;
    assert!(
        !driver
            .find(By::Id("customers-dialog"))
            .await?
            .is_displayed()
            .await?
    );
    wait_for_names(
        &driver,
        &[
            "Jo Smith",
            "Zoë Müller-Lüdenscheidt",
            "<b>Robert'); DROP TABLE customers;--</b>",
            "Dana Whitfield",
        ],
    )
    .await;
    let mut row = Vec::new();
    for cell in driver
        .find_all(By::Css("#customers-rows tr:last-child td"))
        .await?
    {
        row.push(cell.text().await?);
    }
    assert_eq!(
        row,
        [
            "Dana Whitfield",
            "WB-3001",
            "dana.whitfield@example.com",
            "(503) 555-0199"
        ],
        "the admin sees the full contacts, as stored"
    );
    let focused = driver.active_element().await?;
    assert_eq!(
        focused.text().await?,
        "Dana Whitfield",
        "the focus is on the new row"
    );
    screenshot(&driver, "customers-list.png").await;
    assert!(
        !zoomed_overflows_sideways(&driver, 200).await?,
        "the list fits at 200 % zoom"
    );
    screenshot(&driver, "customers-list-zoom-200.png").await;
    zoomed_overflows_sideways(&driver, 100).await?;

    // The keyboard alone: up through the rows, Enter opens one, Esc closes it.
    press(&driver, Key::Up).await?;
    assert_eq!(
        driver.active_element().await?.text().await?,
        "<b>Robert'); DROP TABLE customers;--</b>"
    );
    press(&driver, Key::Down).await?;
    press(&driver, Key::Enter).await?;
    wait_for_text(&driver, "customers-dialog-title", WAIT, |t| {
        t == "Edit Dana Whitfield"
    })
    .await;
    assert_eq!(
        text_of(&driver, "customer-phone-hint").await?,
        "Text messages go to +15035550199."
    );
    press(&driver, Key::Escape).await?;
    wait_until("the form to close", WAIT, || async {
        Ok((!driver
            .find(By::Id("customers-dialog"))
            .await?
            .is_displayed()
            .await?)
            .then_some(()))
    })
    .await;

    // A search narrows the list; Enter opens the only match.
    type_into(&driver, "customers-search", "whitf").await?;
    wait_for_names(&driver, &["Dana Whitfield"]).await;
    assert_eq!(
        text_of(&driver, "customers-range").await?,
        "1 customer matches"
    );

    // The clerk finds the new customer at the desk.
    driver
        .find(By::Css("[data-screen-link='desk']"))
        .await?
        .click()
        .await?;
    open_customer(&driver, "Whitfield", "Dana Whitfield").await?;
    assert_eq!(text_of(&driver, "card-email").await?, "da…@example.com");
    assert_eq!(text_of(&driver, "card-account").await?, "WB-3001");
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_exports_the_customer_list_into_the_downloads_folder() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let (home, db) = office();
    let downloads = home.home().join("Downloads");
    std::fs::write(
        home.config().join("user-dirs.dirs"),
        format!("XDG_DOWNLOAD_DIR=\"{}\"\n", downloads.display()),
    )?;
    add_with_cli(&home, &db, "WB-1002", "@SUM(1+1)", "", "");
    add_with_cli(
        &home,
        &db,
        "WB-1001",
        "Jo Smith",
        "jo.smith@example.com",
        "(415) 555-0132",
    );
    let tauri_driver = TauriDriver::start(&home, Some(&db));
    let driver = tauri_driver.open_app(&app_binary()).await?;
    set_up_first_start(&driver, PASSPHRASE, ADMIN).await?;
    go_to_customers(&driver).await?;
    wait_for_names(&driver, &["Jo Smith", "@SUM(1+1)"]).await;

    driver
        .find(By::Id("customers-export"))
        .await?
        .click()
        .await?;
    let said = wait_for_text(&driver, "customers-exported-text", WAIT, |t| !t.is_empty()).await;
    let path = said
        .strip_prefix("Exported 2 customers to ")
        .unwrap_or_else(|| panic!("the notice says where the file went: {said:?}"));
    let path = PathBuf::from(path);
    assert_eq!(
        path.parent(),
        Some(downloads.as_path()),
        "{}",
        path.display()
    );
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    assert!(
        name.starts_with("otp-desk-customers-") && name.ends_with(".csv"),
        "{name}"
    );
    let text = std::fs::read_to_string(&path)?;
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines,
        [
            "account_number,name,email,phone,service_address,notes",
            "WB-1001,Jo Smith,jo.smith@example.com,(415) 555-0132,,",
            "WB-1002,'@SUM(1+1),,,,",
        ],
        "every customer by account number, formulas defused"
    );
    assert_eq!(
        focused_id(&driver).await?.as_deref(),
        Some("customers-open-folder")
    );
    screenshot(&driver, "customers-exported.png").await;

    press(&driver, Key::Enter).await?;
    let note = wait_for_text(&driver, "customers-folder-note", WAIT, |t| !t.is_empty()).await;
    assert!(
        note.contains(&downloads.display().to_string()),
        "opened, or says where the folder is: {note}"
    );

    // Locked again, the screen's commands refuse, and the page shows the unlock gate.
    driver.find(By::Id("admin-lock")).await?.click().await?;
    wait_until("the unlock gate", WAIT, || async {
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
             const core = window.__TAURI__.core;
             const kind = (p) => p.then(() => 'allowed', (e) => e.kind);
             Promise.all([
               kind(core.invoke('export_customers')),
               kind(core.invoke('list_customers', { query: '' })),
               kind(core.invoke('import_customers', new Uint8Array([97, 10]),
                                { headers: { 'x-import-mode': 'skip-invalid' } })),
             ]).then(done);",
            Vec::new(),
        )
        .await?
        .json()
        .clone();
    assert_eq!(
        kinds,
        serde_json::json!(["admin_locked", "admin_locked", "admin_locked"])
    );
    assert_eq!(
        std::fs::read_dir(&downloads)?.count(),
        1,
        "no second export"
    );
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_customer_is_deleted_after_asking_but_not_while_a_code_is_waiting() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let (home, db) = office();
    add_with_cli(
        &home,
        &db,
        "WB-1001",
        "Jo Smith",
        "jo.smith@example.com",
        "",
    );
    add_with_cli(
        &home,
        &db,
        "WB-1002",
        "Kim Park",
        "kim.park@example.com",
        "",
    );
    let tauri_driver = TauriDriver::start(&home, Some(&db));
    let driver = tauri_driver.open_app(&app_binary()).await?;
    set_up_first_start(&driver, PASSPHRASE, ADMIN).await?;

    // Jo is at the counter with a code on the way.
    open_customer(&driver, "WB-1001", "Jo Smith").await?;
    assert_eq!(focused_id(&driver).await?.as_deref(), Some("send-email"));
    press(&driver, Key::Enter).await?;
    wait_for_text(&driver, "delivery-state", Duration::from_secs(15), |t| {
        t == "Sent"
    })
    .await;

    go_to_customers(&driver).await?;
    wait_for_names(&driver, &["Jo Smith", "Kim Park"]).await;

    ask_to_delete(&driver, "Jo Smith").await?;
    let text = text_of(&driver, "customers-confirm-text").await?;
    assert!(
        text.contains("account WB-1001") && text.contains("cannot be undone"),
        "{text}"
    );
    assert_eq!(
        focused_id(&driver).await?.as_deref(),
        Some("customers-confirm-cancel"),
        "keeping the customer is what Enter does"
    );
    driver
        .find(By::Id("customers-confirm-delete"))
        .await?
        .click()
        .await?;
    let refused = wait_for_text(&driver, "customers-confirm-error", WAIT, |t| !t.is_empty()).await;
    assert!(
        refused.contains("one-time code waiting to be verified"),
        "{refused}"
    );
    screenshot(&driver, "customers-delete-refused.png").await;
    press(&driver, Key::Escape).await?;
    press(&driver, Key::Escape).await?;
    wait_until("both dialogs to close", WAIT, || async {
        let open = driver.find_all(By::Css("dialog[open]")).await?.len();
        Ok((open == 0).then_some(()))
    })
    .await;
    wait_for_names(&driver, &["Jo Smith", "Kim Park"]).await;

    ask_to_delete(&driver, "Kim Park").await?;
    press(&driver, Key::Tab).await?;
    assert_eq!(
        focused_id(&driver).await?.as_deref(),
        Some("customers-confirm-delete")
    );
    press(&driver, Key::Enter).await?;
    wait_for_text(&driver, "customers-status", WAIT, |t| {
        t == "Deleted Kim Park (WB-1002)."
    })
    .await;
    wait_for_names(&driver, &["Jo Smith"]).await;
    wait_for_text(&driver, "status-customers", WAIT, |t| t == "1 customer").await;
    assert_eq!(
        focused_id(&driver).await?.as_deref(),
        Some("customers-search")
    );
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_pages_through_a_long_list_with_the_keyboard() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let (home, db) = office();
    cli(&home, &db, &["customers", "sample", "--count", "120"]);
    let tauri_driver = TauriDriver::start(&home, Some(&db));
    let driver = tauri_driver.open_app(&app_binary()).await?;
    set_up_first_start(&driver, PASSPHRASE, ADMIN).await?;
    go_to_customers(&driver).await?;
    wait_for_text(&driver, "customers-range", WAIT, |t| t == "1–50 of 120").await;
    assert_eq!(listed_names(&driver).await?.len(), 50);
    let prev = driver.find(By::Id("customers-prev")).await?;
    assert!(!prev.is_enabled().await?, "nothing before the first page");

    // From the search box into the rows, then a page down from a row.
    driver
        .find(By::Id("customers-search"))
        .await?
        .click()
        .await?;
    press(&driver, Key::Down).await?;
    let first = listed_names(&driver).await?[0].clone();
    assert_eq!(driver.active_element().await?.text().await?, first);
    press(&driver, Key::PageDown).await?;
    wait_for_text(&driver, "customers-range", WAIT, |t| t == "51–100 of 120").await;
    let second_page = listed_names(&driver).await?;
    assert_ne!(second_page[0], first);
    wait_until("the focus on the new page's first row", WAIT, || async {
        let text = driver.active_element().await?.text().await?;
        Ok((text == second_page[0]).then_some(()))
    })
    .await;

    let next = driver.find(By::Id("customers-next")).await?;
    next.click().await?;
    wait_for_text(&driver, "customers-range", WAIT, |t| t == "101–120 of 120").await;
    assert_eq!(listed_names(&driver).await?.len(), 20);
    assert!(!next.is_enabled().await?, "nothing after the last page");
    prev.click().await?;
    wait_for_text(&driver, "customers-range", WAIT, |t| t == "51–100 of 120").await;

    // A search starts again from its first match; one that matches nobody says so.
    type_into(&driver, "customers-search", "zzqx").await?;
    wait_for_text(&driver, "customers-empty", WAIT, |t| {
        t == "No customers match “zzqx”."
    })
    .await;
    assert_eq!(text_of(&driver, "customers-range").await?, "");
    driver.quit().await?;
    Ok(())
}
