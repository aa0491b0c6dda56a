//! The admin area's lock through the real window: what the gate says before there is a
//! passphrase, "Lock admin", wrong passphrases and the lockout they bring, and the lock that
//! comes by itself when nobody uses the admin screens.

use std::time::Duration;

use otp_desk_e2e::{
    app_binary, cli, one_window_at_a_time, press, screenshot, set_up_first_start, text_of,
    type_into, wait_for_text, wait_until, AppHome, TauriDriver, TestResult,
};
use serde_json::{json, Value};
use thirtyfour::prelude::*;

const PASSPHRASE: &str = "river copper lantern";
const CLERK: &str = "Ann Clerk";

/// Every command of the policy, operators, passphrase and data tabs, with arguments the page
/// could send. Each must refuse while the admin area is locked, whatever it is given.
fn admin_commands() -> Vec<(&'static str, Value)> {
    vec![
        ("policy_settings", json!({})),
        (
            "set_policy_setting",
            json!({ "key": "code_lifetime_minutes", "value": "3" }),
        ),
        ("add_operator", json!({ "name": "Mallory" })),
        (
            "rename_operator",
            json!({ "operatorId": 1, "name": "Mallory" }),
        ),
        ("retire_operator", json!({ "operatorId": 1 })),
        ("reactivate_operator", json!({ "operatorId": 1 })),
        ("admin_passphrase_rules", json!({})),
        (
            "change_admin_passphrase",
            json!({ "current": PASSPHRASE, "newPassphrase": "amber meadow violin" }),
        ),
        ("data_overview", json!({})),
        ("backup_now", json!({})),
        ("restore_backup", json!({ "name": "../desk.db" })),
        ("cleanup_codes", json!({})),
        ("open_database_folder", json!({})),
        ("open_backups_folder", json!({})),
    ]
}

/// Calls a command from the page as a script in it could, and answers with the error's kind,
/// or "done" when the command did what it was asked.
async fn invoke_kind(driver: &WebDriver, command: &str, args: Value) -> WebDriverResult<String> {
    let answer = driver
        .execute(
            "return window.__TAURI__.core.invoke(arguments[0], arguments[1])
               .then(() => 'done', (e) => (e && e.kind) || String(e));",
            vec![Value::from(command), args],
        )
        .await?;
    Ok(answer.json().as_str().unwrap_or_default().to_string())
}

async fn go_to(driver: &WebDriver, screen: &str) -> WebDriverResult<()> {
    driver
        .find(By::Css(format!("a[data-screen-link='{screen}']")))
        .await?
        .click()
        .await
}

async fn shown(driver: &WebDriver, id: &str) -> WebDriverResult<bool> {
    driver.find(By::Id(id)).await?.is_displayed().await
}

async fn wait_shown(driver: &WebDriver, id: &str, limit: Duration) {
    wait_until(&format!("#{id} to be shown"), limit, || async {
        Ok(shown(driver, id).await?.then_some(()))
    })
    .await
}

async fn try_passphrase(driver: &WebDriver, passphrase: &str) -> WebDriverResult<()> {
    let input = driver.find(By::Id("gate-passphrase")).await?;
    input.clear().await?;
    type_into(driver, "gate-passphrase", passphrase).await?;
    press(driver, Key::Enter).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_admin_area_shows_the_gate_refuses_every_command_and_locks_out_guessers(
) -> TestResult {
    let _screen = one_window_at_a_time().await;
    let home = AppHome::new();
    let db = home.root().join("desk.db");
    let tauri_driver = TauriDriver::start(&home, Some(&db));
    let driver = tauri_driver.open_app(&app_binary()).await?;
    wait_shown(&driver, "setup-passphrase", Duration::from_secs(15)).await;

    // No passphrase yet: the gate sends the admin to the desk's welcome panel.
    go_to(&driver, "settings").await?;
    let not_set = wait_for_text(&driver, "gate-not-set", Duration::from_secs(5), |t| {
        !t.is_empty()
    })
    .await;
    assert!(
        not_set.contains("No admin passphrase") && not_set.contains("Desk"),
        "{not_set:?}"
    );
    assert!(!shown(&driver, "gate-form").await?);
    assert!(!shown(&driver, "settings-title").await?);
    screenshot(&driver, "admin-gate-not-set.png").await;
    assert_eq!(
        invoke_kind(&driver, "policy_settings", json!({})).await?,
        "admin_locked"
    );

    go_to(&driver, "desk").await?;
    set_up_first_start(&driver, PASSPHRASE, CLERK).await?;
    go_to(&driver, "settings").await?;
    wait_shown(&driver, "settings-title", Duration::from_secs(5)).await;
    assert_eq!(
        invoke_kind(&driver, "admin_passphrase_rules", json!({})).await?,
        "done"
    );

    // "Lock admin": the admin screens turn into the gate, and every admin command refuses.
    driver.find(By::Id("admin-lock")).await?.click().await?;
    wait_shown(&driver, "gate-form", Duration::from_secs(5)).await;
    assert!(!shown(&driver, "settings-title").await?);
    assert!(!shown(&driver, "admin-lock").await?);
    let intro = text_of(&driver, "gate-intro").await?;
    assert!(intro.contains("Enter the admin passphrase"), "{intro:?}");
    screenshot(&driver, "admin-gate.png").await;
    go_to(&driver, "customers").await?;
    wait_shown(&driver, "admin-gate", Duration::from_secs(5)).await;
    assert!(!shown(&driver, "customers-title").await?);
    for (command, args) in admin_commands() {
        assert_eq!(
            invoke_kind(&driver, command, args).await?,
            "admin_locked",
            "{command} answered while the admin area was locked"
        );
    }

    // Wrong passphrases say how many tries are left; the fifth locks the admin area.
    for left in [
        "4 more wrong tries",
        "3 more wrong tries",
        "2 more wrong tries",
        "1 more wrong try",
    ] {
        try_passphrase(&driver, "not the passphrase").await?;
        let said = wait_for_text(&driver, "gate-error", Duration::from_secs(10), |t| {
            t.contains(left)
        })
        .await;
        assert!(said.starts_with("Wrong admin passphrase"), "{said:?}");
    }
    try_passphrase(&driver, "not the passphrase").await?;
    let locked = wait_for_text(&driver, "gate-error", Duration::from_secs(10), |t| {
        t.contains("Too many wrong")
    })
    .await;
    assert!(
        locked.contains("locked until"),
        "the gate says until when: {locked:?}"
    );
    screenshot(&driver, "admin-locked-out.png").await;

    // Until then even the right passphrase is refused, in the window and from a script.
    try_passphrase(&driver, PASSPHRASE).await?;
    wait_until(
        "the right passphrase to be refused as well",
        Duration::from_secs(10),
        || async {
            let unlock_enabled = driver
                .find(By::Id("gate-unlock"))
                .await?
                .is_enabled()
                .await?;
            let text = text_of(&driver, "gate-error").await?;
            Ok((unlock_enabled && text.contains("Too many wrong")).then_some(()))
        },
    )
    .await;
    assert!(shown(&driver, "gate-form").await?);
    assert!(!shown(&driver, "customers-title").await?);
    let refused = driver
        .execute(
            "return window.__TAURI__.core.invoke('admin_unlock', { passphrase: arguments[0] })
               .then(() => ({ kind: 'done' }), (e) => e);",
            vec![Value::from(PASSPHRASE)],
        )
        .await?
        .json()
        .clone();
    assert_eq!(refused["kind"], "admin_locked_out");
    let until = refused["at"].as_i64().unwrap_or_default();
    let status = driver
        .execute(
            "return window.__TAURI__.core.invoke('admin_status', {});",
            Vec::new(),
        )
        .await?
        .json()
        .clone();
    let now = status["now"].as_i64().unwrap_or_default();
    assert!(
        until > now && until <= now + 60_000,
        "the first lock lasts a minute: until {until}, now {now}"
    );
    assert_eq!(status["unlocked"], false);
    assert_eq!(
        invoke_kind(&driver, "data_overview", json!({})).await?,
        "admin_locked"
    );
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_area_nobody_uses_locks_itself_and_the_screen_turns_into_the_gate() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let home = AppHome::new();
    let db = home.root().join("desk.db");
    cli(
        &home,
        &db,
        &["settings", "set", "admin_idle_lock_minutes", "1"],
    );
    let tauri_driver = TauriDriver::start(&home, Some(&db));
    let driver = tauri_driver.open_app(&app_binary()).await?;

    set_up_first_start(&driver, PASSPHRASE, CLERK).await?;
    go_to(&driver, "settings").await?;
    driver
        .find(By::Id("settings-tab-passphrase"))
        .await?
        .click()
        .await?;
    let idle = wait_for_text(
        &driver,
        "setting-admin_idle_lock_minutes-now",
        Duration::from_secs(5),
        |t| !t.is_empty(),
    )
    .await;
    assert!(idle.contains("In force: 1 idle minute"), "{idle:?}");

    // Hands off. The frame asks every 15 s; a minute without input after the last activity
    // it reported, the area is closed and the screen changes by itself.
    wait_until(
        "the gate to replace Settings by itself",
        Duration::from_secs(100),
        || async { Ok(shown(&driver, "gate-form").await?.then_some(())) },
    )
    .await;
    assert!(!shown(&driver, "settings-title").await?);
    let intro = text_of(&driver, "gate-intro").await?;
    assert!(intro.contains("locked itself"), "{intro:?}");
    assert_eq!(
        invoke_kind(&driver, "policy_settings", json!({})).await?,
        "admin_locked"
    );
    screenshot(&driver, "admin-idle-locked.png").await;

    // The passphrase opens it again.
    try_passphrase(&driver, PASSPHRASE).await?;
    wait_shown(&driver, "settings-title", Duration::from_secs(10)).await;
    driver.quit().await?;
    Ok(())
}
