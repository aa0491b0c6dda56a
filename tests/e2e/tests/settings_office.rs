//! The office admin's Settings tabs through the real window: the code policy with its safe
//! bounds, the operator list the header's picker follows, and backups that bring the office
//! back as it was, with cleanup of old codes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use otp_desk_e2e::{
    app_binary, cli, one_window_at_a_time, press, screenshot, set_up_first_start, text_of,
    type_into, wait_for_text, wait_until, AppHome, TauriDriver, TestResult,
};
use thirtyfour::prelude::*;

const PASSPHRASE: &str = "river copper lantern";
const CLERK: &str = "Ann Clerk";

struct Office {
    home: AppHome,
    db: PathBuf,
}

impl Office {
    /// A database with one customer, Jo Smith (WB-1001).
    fn new() -> Self {
        let home = AppHome::new();
        let db = home.root().join("desk.db");
        add_customer(&home, &db, "WB-1001", "Jo Smith");
        Self { home, db }
    }

    fn folder(&self) -> &Path {
        self.db.parent().unwrap_or(Path::new("."))
    }

    /// File names in `folder` that start with `prefix` and end in `.db`.
    fn files_like(folder: &Path, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|n| n.starts_with(prefix) && n.ends_with(".db"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

fn add_customer(home: &AppHome, db: &Path, account: &str, name: &str) {
    let email = format!("{}@example.com", account.to_lowercase());
    cli(
        home,
        db,
        &[
            "customers",
            "add",
            "--account",
            account,
            "--name",
            name,
            "--email",
            &email,
        ],
    );
}

async fn open_tab(driver: &WebDriver, tab: &str) -> WebDriverResult<()> {
    driver
        .find(By::Css("a[data-screen-link='settings']"))
        .await?
        .click()
        .await?;
    click(driver, By::Id(format!("settings-tab-{tab}"))).await
}

/// WebKit's driver does not scroll the admin screen (a scrolling box of its own) to what it
/// clicks, so the element is brought into view first, as a person would scroll to it.
async fn click(driver: &WebDriver, by: By) -> WebDriverResult<()> {
    let element = driver.find(by).await?;
    element.scroll_into_view().await?;
    element.click().await
}

async fn shown(driver: &WebDriver, id: &str) -> WebDriverResult<bool> {
    driver.find(By::Id(id)).await?.is_displayed().await
}

/// Replaces what a field holds with `text` and presses Enter, as an admin would.
async fn enter(driver: &WebDriver, id: &str, text: &str) -> WebDriverResult<()> {
    driver.find(By::Id(id)).await?.clear().await?;
    type_into(driver, id, text).await?;
    press(driver, Key::Enter).await
}

/// Fills in the passphrase form and sends it with Enter from the last field.
async fn change_passphrase(
    driver: &WebDriver,
    current: &str,
    new: &str,
    again: &str,
) -> WebDriverResult<()> {
    for (id, text) in [
        ("passphrase-current", current),
        ("passphrase-new", new),
        ("passphrase-confirm", again),
    ] {
        driver.find(By::Id(id)).await?.clear().await?;
        if !text.is_empty() {
            type_into(driver, id, text).await?;
        }
    }
    press(driver, Key::Enter).await
}

/// The refusal shown under one of the passphrase fields (and only there).
async fn problem_under(driver: &WebDriver, field: &str) -> String {
    wait_until(
        &format!("a refusal under the {field} passphrase field"),
        Duration::from_secs(10),
        || async {
            let mut shown = Vec::new();
            for name in ["current", "new", "confirm"] {
                let text = text_of(driver, &format!("passphrase-{name}-error")).await?;
                if !text.is_empty() {
                    shown.push((name, text));
                }
            }
            match shown.as_slice() {
                [] => Ok(None),
                [(name, text)] if *name == field => Ok(Some(text.clone())),
                other => panic!("expected one refusal under {field}, got {other:?}"),
            }
        },
    )
    .await
}

async fn picker_names(driver: &WebDriver) -> WebDriverResult<Vec<String>> {
    let mut names = Vec::new();
    for option in driver.find_all(By::Css("#operator option")).await? {
        if option.value().await?.is_some_and(|v| !v.is_empty()) {
            names.push(option.text().await?);
        }
    }
    Ok(names)
}

async fn click_labelled(driver: &WebDriver, label: &str) -> WebDriverResult<()> {
    click(driver, By::Css(format!("button[aria-label='{label}']"))).await
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_sets_the_policy_within_its_bounds_and_keeps_the_operator_list() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let office = Office::new();
    let tauri_driver = TauriDriver::start(&office.home, Some(&office.db));
    let driver = tauri_driver.open_app(&app_binary()).await?;
    set_up_first_start(&driver, PASSPHRASE, CLERK).await?;

    // Code policy: each value with its range, what is in force, and the core's refusal.
    open_tab(&driver, "policy").await?;
    let lifetime = "setting-code_lifetime_minutes";
    let now = wait_for_text(
        &driver,
        &format!("{lifetime}-now"),
        Duration::from_secs(5),
        |t| !t.is_empty(),
    )
    .await;
    assert_eq!(now, "In force: 5 minutes · default 5 minutes");
    assert_eq!(
        text_of(&driver, &format!("{lifetime}-range")).await?,
        "Allowed: 1–10 minutes"
    );
    let input = driver.find(By::Id(lifetime)).await?;
    assert_eq!(input.attr("min").await?.as_deref(), Some("1"));
    assert_eq!(input.attr("max").await?.as_deref(), Some("10"));

    enter(&driver, lifetime, "3").await?;
    wait_for_text(
        &driver,
        &format!("{lifetime}-now"),
        Duration::from_secs(5),
        |t| t == "Saved. In force: 3 minutes · default 5 minutes",
    )
    .await;

    enter(&driver, lifetime, "11").await?;
    let refused = wait_for_text(
        &driver,
        &format!("{lifetime}-error"),
        Duration::from_secs(5),
        |t| !t.is_empty(),
    )
    .await;
    assert_eq!(refused, "Must be between 1 and 10 (got 11)");
    let input = driver.find(By::Id(lifetime)).await?;
    assert_eq!(input.attr("aria-invalid").await?.as_deref(), Some("true"));
    assert!(text_of(&driver, &format!("{lifetime}-now"))
        .await?
        .contains("In force: 3 minutes"));
    let fixed = text_of(&driver, "policy-fixed").await?;
    assert!(
        fixed.contains("At most 5 codes to one contact in 10 minutes, and 20 in a day."),
        "{fixed:?}"
    );
    assert!(
        fixed.contains("10 wrong codes in a row lock the contact"),
        "{fixed:?}"
    );
    let region = driver.find(By::Id("setting-default_region")).await?;
    assert_eq!(region.tag_name().await?, "select");
    assert_eq!(region.value().await?.as_deref(), Some("US"));
    screenshot(&driver, "settings-policy.png").await;
    driver
        .find(By::Id("policy-office-title"))
        .await?
        .scroll_into_view()
        .await?;
    screenshot(&driver, "settings-policy-office.png").await;

    // Operators: a new one can be picked at once; a retired one cannot.
    open_tab(&driver, "operators").await?;
    wait_until("the operator list", Duration::from_secs(5), || async {
        let rows = driver.find_all(By::Css("#operators-rows tr")).await?.len();
        Ok((rows == 1).then_some(()))
    })
    .await;
    enter(&driver, "operator-add-name", "Bo  Chen").await?;
    wait_for_text(&driver, "operators-status", Duration::from_secs(5), |t| {
        t.starts_with("Bo Chen was added")
    })
    .await;
    assert_eq!(picker_names(&driver).await?, [CLERK, "Bo Chen"]);
    enter(&driver, "operator-add-name", "bo chen").await?;
    let duplicate = wait_for_text(
        &driver,
        "operator-add-name-error",
        Duration::from_secs(5),
        |t| !t.is_empty(),
    )
    .await;
    assert!(
        duplicate.contains("already an operator called \"Bo Chen\""),
        "{duplicate:?}"
    );
    // A name is text, whatever it looks like.
    enter(&driver, "operator-add-name", "<b>Eve</b>").await?;
    wait_for_text(&driver, "operators-status", Duration::from_secs(5), |t| {
        t.starts_with("<b>Eve</b> was added")
    })
    .await;
    assert!(driver
        .find_all(By::Css("#operators-rows b"))
        .await?
        .is_empty());

    click_labelled(&driver, "Retire Bo Chen").await?;
    wait_for_text(&driver, "operators-status", Duration::from_secs(5), |t| {
        t.starts_with("Bo Chen is retired")
    })
    .await;
    assert_eq!(picker_names(&driver).await?, ["<b>Eve</b>", CLERK]);
    assert_eq!(
        driver
            .find(By::Css("#operators-rows tr:last-child .operator-state"))
            .await?
            .text()
            .await?,
        "Retired"
    );

    // Retiring the clerk who is picked at the desk clears the pick, and says so.
    assert_eq!(
        driver
            .find(By::Id("operator"))
            .await?
            .value()
            .await?
            .as_deref(),
        Some(CLERK)
    );
    click_labelled(&driver, &format!("Retire {CLERK}")).await?;
    let said = wait_for_text(&driver, "operators-status", Duration::from_secs(5), |t| {
        t.starts_with(&format!("{CLERK} is retired"))
    })
    .await;
    assert!(said.contains("nobody is picked now"), "{said:?}");
    assert_eq!(
        driver
            .find(By::Id("operator"))
            .await?
            .value()
            .await?
            .as_deref(),
        Some("")
    );
    assert_eq!(picker_names(&driver).await?, ["<b>Eve</b>"]);
    screenshot(&driver, "settings-operators.png").await;

    click_labelled(&driver, &format!("Reactivate {CLERK}")).await?;
    wait_for_text(&driver, "operators-status", Duration::from_secs(5), |t| {
        t.starts_with(&format!("{CLERK} is active again"))
    })
    .await;
    assert_eq!(picker_names(&driver).await?, ["<b>Eve</b>", CLERK]);

    // The admin passphrase: each refusal under its field, then the change, then the new one
    // is the one that unlocks.
    open_tab(&driver, "passphrase").await?;
    wait_for_text(&driver, "passphrase-length", Duration::from_secs(5), |t| {
        t == "12 to 128 characters"
    })
    .await;
    let new = "amber meadow violin";
    change_passphrase(&driver, "not the passphrase", new, new).await?;
    let wrong = problem_under(&driver, "current").await;
    assert!(
        wrong.starts_with("Wrong admin passphrase; 4 more wrong tries"),
        "{wrong:?}"
    );
    change_passphrase(&driver, PASSPHRASE, "Password2026!", "Password2026").await?;
    let differ = problem_under(&driver, "confirm").await;
    assert!(differ.contains("differ"), "{differ:?}");
    change_passphrase(&driver, PASSPHRASE, "Password2026!", "Password2026!").await?;
    let weak = problem_under(&driver, "new").await;
    assert!(weak.contains("too easy to guess"), "{weak:?}");
    screenshot(&driver, "settings-passphrase.png").await;
    change_passphrase(&driver, PASSPHRASE, new, new).await?;
    wait_for_text(&driver, "passphrase-done", Duration::from_secs(10), |t| {
        t.starts_with("The admin passphrase is changed")
    })
    .await;
    for id in ["passphrase-current", "passphrase-new", "passphrase-confirm"] {
        let value = driver.find(By::Id(id)).await?.value().await?;
        assert_eq!(value.as_deref(), Some(""), "{id} is emptied");
    }
    driver.find(By::Id("admin-lock")).await?.click().await?;
    type_into(&driver, "gate-passphrase", new).await?;
    press(&driver, Key::Enter).await?;
    wait_until(
        "the new passphrase to unlock",
        Duration::from_secs(10),
        || async {
            Ok(shown(&driver, "settings-panel-passphrase")
                .await?
                .then_some(()))
        },
    )
    .await;
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_brings_the_office_back_as_it_was_and_cleanup_reports_its_count() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let office = Office::new();
    let tauri_driver = TauriDriver::start(&office.home, Some(&office.db));
    let driver = tauri_driver.open_app(&app_binary()).await?;
    set_up_first_start(&driver, PASSPHRASE, CLERK).await?;

    open_tab(&driver, "data").await?;
    let path = wait_for_text(&driver, "data-db-path", Duration::from_secs(5), |t| {
        !t.is_empty()
    })
    .await;
    assert_eq!(Path::new(&path), office.db);
    assert_eq!(text_of(&driver, "data-customers").await?, "1");
    assert!(shown(&driver, "data-backups-empty").await?);

    click(&driver, By::Id("data-backup-now")).await?;
    let written = wait_for_text(
        &driver,
        "data-backup-status",
        Duration::from_secs(10),
        |t| t.starts_with("Backup written"),
    )
    .await;
    let backups = office.folder().join("backups");
    let made = Office::files_like(&backups, "otp-desk-");
    assert_eq!(made.len(), 1, "one backup file in {}", backups.display());
    assert!(written.contains(&made[0]), "{written:?}");
    let listed = driver.find_all(By::Css("#data-backups-rows tr")).await?;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].text().await?.starts_with(&made[0]));

    // Something changes after the backup: a customer added at another desk.
    add_customer(&office.home, &office.db, "WB-1002", "Lee Park");
    click(&driver, By::Id("data-refresh")).await?;
    wait_for_text(&driver, "data-customers", Duration::from_secs(5), |t| {
        t == "2"
    })
    .await;
    wait_for_text(&driver, "status-customers", Duration::from_secs(5), |t| {
        t == "2 customers"
    })
    .await;
    driver
        .find(By::Id("data-backups-title"))
        .await?
        .scroll_into_view()
        .await?;
    screenshot(&driver, "settings-data.png").await;

    // Restore: the dialog says what happens, and the safe button has the focus.
    click(
        &driver,
        By::Css(format!("button[data-backup='{}']", made[0])),
    )
    .await?;
    let what = wait_for_text(&driver, "data-restore-what", Duration::from_secs(5), |t| {
        !t.is_empty()
    })
    .await;
    assert!(what.contains("safety copy"), "{what:?}");
    assert!(
        what.contains(&office.folder().display().to_string()),
        "the dialog says where the safety copy goes: {what:?}"
    );
    assert_eq!(
        driver.active_element().await?.id().await?.as_deref(),
        Some("data-restore-cancel")
    );
    screenshot(&driver, "settings-data-restore.png").await;
    driver
        .find(By::Id("data-restore-confirm"))
        .await?
        .click()
        .await?;

    // Afterwards the admin area is locked and the gate says what the restore did.
    let intro = wait_for_text(&driver, "gate-intro", Duration::from_secs(20), |t| {
        t.starts_with("Restored")
    })
    .await;
    let safety = Office::files_like(office.folder(), "otp-desk-before-restore-");
    assert_eq!(safety.len(), 1, "one safety copy beside the database");
    assert!(intro.contains(&safety[0]), "{intro:?}");
    assert!(intro.contains("1 customer"), "{intro:?}");
    wait_for_text(&driver, "status-customers", Duration::from_secs(5), |t| {
        t == "1 customer"
    })
    .await;
    screenshot(&driver, "settings-data-restored.png").await;

    type_into(&driver, "gate-passphrase", PASSPHRASE).await?;
    press(&driver, Key::Enter).await?;
    wait_for_text(&driver, "data-customers", Duration::from_secs(10), |t| {
        t == "1"
    })
    .await;
    let status = text_of(&driver, "data-backup-status").await?;
    assert!(
        status.starts_with(&format!("Restored {}", made[0])),
        "{status:?}"
    );

    // Cleanup: nothing here is older than the 30 days codes are kept.
    assert_eq!(text_of(&driver, "data-retention").await?, "30 days");
    click(&driver, By::Id("data-cleanup")).await?;
    let report = wait_for_text(
        &driver,
        "data-cleanup-status",
        Duration::from_secs(10),
        |t| !t.is_empty() && !t.ends_with('…'),
    )
    .await;
    assert!(
        report.starts_with("No codes were old enough to delete: codes are kept for 30 days"),
        "{report:?}"
    );
    driver.quit().await?;
    Ok(())
}
