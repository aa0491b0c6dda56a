//! The desk window as a clerk meets it: first start on a new machine, and a start where the
//! database cannot be opened.

use std::path::Path;
use std::time::Duration;

use otp_desk_e2e::{
    app_binary, one_window_at_a_time, screenshot, x_window_titles, AppHome, TauriDriver, TestResult,
};
use thirtyfour::prelude::*;

const TITLE: &str = "OTP Desk";

async fn assert_search_box_has_focus(driver: &WebDriver) -> TestResult {
    let search = driver.find(By::Id("search")).await?;
    let label = driver.find(By::Css("label[for='search']")).await?;
    assert_eq!(label.text().await?, "Find customer");
    let focused = driver.active_element().await?;
    assert_eq!(
        focused.element_id(),
        search.element_id(),
        "the search box must have focus at start, but the focus is on <{}> id={:?}",
        focused.tag_name().await?,
        focused.id().await?
    );
    Ok(())
}

fn assert_native_window_title() {
    match x_window_titles() {
        Some(titles) => assert!(
            titles.iter().any(|t| t == TITLE),
            "no X window titled {TITLE:?}; found {titles:?}"
        ),
        None => eprintln!("xwininfo is not installed; only the page title was checked"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn first_start_opens_the_desk_on_a_new_empty_database() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let home = AppHome::new();
    let tauri_driver = TauriDriver::start(&home, None);
    let driver = tauri_driver.open_app(&app_binary()).await?;

    let db_path = driver
        .query(By::Id("status-db-path"))
        .wait(Duration::from_secs(15), Duration::from_millis(100))
        .first()
        .await?;
    let shown_path = db_path.text().await?;

    assert_eq!(driver.title().await?, TITLE);
    assert_native_window_title();
    assert_search_box_has_focus(&driver).await?;
    assert!(
        Path::new(&shown_path).starts_with(home.data()),
        "the status line shows {shown_path:?}, which is not inside the app's data folder {}",
        home.data().display()
    );
    let customers = driver
        .find(By::Id("status-customers"))
        .await?
        .text()
        .await?;
    assert_eq!(customers, "0 customers");
    assert!(
        Path::new(&shown_path).is_file(),
        "the status line names {shown_path:?}, but no database file is there"
    );

    screenshot(&driver, "first-start.png").await;
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_that_cannot_be_opened_is_explained_in_the_window() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let home = AppHome::new();
    // A plain file where the database's folder should be: the folder cannot be created, for
    // any user, root included.
    let blocker = home.root().join("not-a-folder");
    std::fs::write(&blocker, b"")?;
    let database = blocker.join("otp-desk.db");
    let tauri_driver = TauriDriver::start(&home, Some(&database));
    let driver = tauri_driver.open_app(&app_binary()).await?;

    let alert = driver
        .query(By::Id("startup-error"))
        .wait(Duration::from_secs(15), Duration::from_millis(100))
        .and_displayed()
        .first()
        .await?;
    let message = alert.text().await?;
    assert!(
        message.contains("could not be opened") && message.contains("not-a-folder"),
        "the alert should say the database could not be opened and where: {message:?}"
    );
    assert_eq!(driver.title().await?, TITLE);
    assert_eq!(
        driver.find(By::Id("status-db")).await?.text().await?,
        "Database unavailable"
    );
    assert_search_box_has_focus(&driver).await?;
    assert!(!database.exists());

    screenshot(&driver, "database-unavailable.png").await;
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_can_reach_only_the_app_s_own_commands() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let home = AppHome::new();
    let tauri_driver = TauriDriver::start(&home, None);
    let driver = tauri_driver.open_app(&app_binary()).await?;
    driver
        .query(By::Id("status-db-path"))
        .wait(Duration::from_secs(15), Duration::from_millis(100))
        .first()
        .await?;

    // Renaming the window is a built-in Tauri command; the capability does not grant it.
    let answer = driver
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI__.core
               .invoke('plugin:window|set_title', { label: 'main', value: 'Hijacked' })
               .then(() => done('allowed'), (error) => done(String(error)));",
            Vec::new(),
        )
        .await?
        .json()
        .clone();
    let answer = answer.as_str().unwrap_or_default();
    assert!(
        answer.contains("not allowed"),
        "a command outside the capability must be refused, got {answer:?}"
    );
    assert_native_window_title();

    driver.quit().await?;
    Ok(())
}
