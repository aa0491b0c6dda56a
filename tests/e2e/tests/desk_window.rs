//! The desk window as a clerk meets it: first start on a new machine, and a start where the
//! database cannot be opened.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    // The window-state plugin's own commands are not offered to the page either.
    let answer = driver
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI__.core
               .invoke('plugin:window-state|save_window_state', { flags: 63 })
               .then(() => done('allowed'), (error) => done(String(error)));",
            Vec::new(),
        )
        .await?
        .json()
        .clone();
    let answer = answer.as_str().unwrap_or_default();
    assert!(answer.contains("not allowed"), "got {answer:?}");
    assert_native_window_title();

    driver.quit().await?;
    Ok(())
}

/// The app's environment for a launch outside WebDriver: the same home folders the driver
/// gives it.
fn launch_in(home: &AppHome) -> Command {
    let mut command = Command::new(app_binary());
    command
        .env("HOME", home.home())
        .env("XDG_DATA_HOME", home.data())
        .env("XDG_CONFIG_HOME", home.config())
        .env("XDG_CACHE_HOME", home.cache())
        .env_remove("OTP_DESK_DB")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_launch_hands_over_to_the_open_desk() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let home = AppHome::new();
    let tauri_driver = TauriDriver::start(&home, None);
    let driver = tauri_driver.open_app(&app_binary()).await?;
    driver
        .query(By::Id("status-db-path"))
        .wait(Duration::from_secs(15), Duration::from_millis(100))
        .first()
        .await?;

    let mut second = launch_in(&home).spawn()?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = second.try_wait()? {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = second.kill();
            panic!("a second launch kept running instead of handing over to the open desk");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "the second launch ended with {status}");
    // The first desk is still there and still the only one.
    assert_eq!(driver.title().await?, TITLE);
    if let Some(titles) = x_window_titles() {
        let desks = titles.iter().filter(|t| *t == TITLE).count();
        assert_eq!(desks, 1, "one desk window, not {desks}: {titles:?}");
    }
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_window_opens_the_size_it_was_left() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let home = AppHome::new();
    let state_file = home.config().join("com.otpdesk.desk/.window-state.json");
    {
        let tauri_driver = TauriDriver::start(&home, None);
        let driver = tauri_driver.open_app(&app_binary()).await?;
        driver
            .query(By::Id("status-db-path"))
            .wait(Duration::from_secs(15), Duration::from_millis(100))
            .first()
            .await?;
        driver.set_window_rect(20, 20, 1040, 700).await?;
        // Saved shortly after the window stops changing, without waiting for the app to close.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let saved = std::fs::read_to_string(&state_file).unwrap_or_default();
            let state: serde_json::Value = serde_json::from_str(&saved).unwrap_or_default();
            if state["main"]["width"] == 1040 && state["main"]["height"] == 700 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the new size was not saved to {}: {saved}",
                state_file.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        driver.quit().await?;
    }
    let tauri_driver = TauriDriver::start(&home, None);
    let driver = tauri_driver.open_app(&app_binary()).await?;
    driver
        .query(By::Id("status-db-path"))
        .wait(Duration::from_secs(15), Duration::from_millis(100))
        .first()
        .await?;
    let rect = driver.get_window_rect().await?;
    assert_eq!(
        (rect.width, rect.height),
        (1040, 700),
        "the window should open at the size it was left"
    );
    driver.quit().await?;
    Ok(())
}
