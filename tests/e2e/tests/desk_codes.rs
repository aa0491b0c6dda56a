//! The clerk's whole job at the counter, through the real window: send a code to the contact
//! on file, type what the customer reads out, get a verdict nobody can misread. The code is
//! taken from the message that was delivered, never from the app.

use std::path::{Path, PathBuf};
use std::time::Duration;

use otp_desk_e2e::{
    app_binary, cli, code_in_message, focused_id, one_window_at_a_time, open_customer,
    outbox_messages, press, screenshot, set_up_first_start, text_of, type_into, wait_for_text,
    wait_until, AppHome, TauriDriver, TestResult,
};
use thirtyfour::prelude::*;

const PASSPHRASE: &str = "river copper lantern";
const CLERK: &str = "Ann Clerk";

struct Desk {
    home: AppHome,
    db: PathBuf,
}

impl Desk {
    /// A new office with one customer, "Jo Smith" (WB-1001, jo.smith@example.com), and the
    /// given policy settings.
    fn new(settings: &[(&str, &str)]) -> Self {
        let home = AppHome::new();
        let db = home.root().join("desk.db");
        cli(
            &home,
            &db,
            &[
                "customers",
                "add",
                "--account",
                "WB-1001",
                "--name",
                "Jo Smith",
                "--email",
                "jo.smith@example.com",
                "--phone",
                "(415) 555-0132",
            ],
        );
        for (key, value) in settings {
            cli(&home, &db, &["settings", "set", key, value]);
        }
        Self { home, db }
    }

    fn outbox(&self) -> PathBuf {
        self.db.parent().unwrap_or(Path::new(".")).join("outbox")
    }

    /// The code in the newest message in the outbox, waiting for it to arrive.
    async fn newest_code(&self, count_before: usize) -> String {
        let outbox = self.outbox();
        let raw = wait_until(
            "a new message in the outbox",
            Duration::from_secs(10),
            || {
                let outbox = outbox.clone();
                async move {
                    let messages = outbox_messages(&outbox);
                    Ok((messages.len() > count_before)
                        .then(|| messages.last().cloned())
                        .flatten())
                }
            },
        )
        .await;
        code_in_message(&raw, 6)
    }

    fn messages_sent(&self) -> usize {
        outbox_messages(&self.outbox()).len()
    }
}

async fn send_by_email(driver: &WebDriver) -> TestResult {
    // The first send button has the focus when the card opens: Enter sends.
    assert_eq!(focused_id(driver).await?.as_deref(), Some("send-email"));
    press(driver, Key::Enter).await?;
    wait_for_text(driver, "delivery-state", Duration::from_secs(15), |t| {
        t == "Sent"
    })
    .await;
    assert_eq!(focused_id(driver).await?.as_deref(), Some("code-input"));
    Ok(())
}

async fn verdict(driver: &WebDriver) -> WebDriverResult<(String, String)> {
    let word = wait_for_text(driver, "verdict-word", Duration::from_secs(10), |t| {
        !t.is_empty()
    })
    .await;
    Ok((word, text_of(driver, "verdict-detail").await?))
}

#[tokio::test(flavor = "multi_thread")]
async fn clerk_sends_a_code_by_email_and_the_customer_is_verified() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let desk = Desk::new(&[]);
    let tauri_driver = TauriDriver::start(&desk.home, Some(&desk.db));
    let driver = tauri_driver.open_app(&app_binary()).await?;

    set_up_first_start(&driver, PASSPHRASE, CLERK).await?;
    open_customer(&driver, "WB-1001", "Jo Smith").await?;
    send_by_email(&driver).await?;
    let detail = text_of(&driver, "delivery-detail").await?;
    assert!(
        detail.contains("jo…@example.com") && !detail.contains("jo.smith"),
        "the delivery line names the masked address only: {detail:?}"
    );
    let countdown = text_of(&driver, "code-countdown").await?;
    assert!(
        countdown.starts_with("4:") || countdown == "5:00",
        "a fresh code has about five minutes: {countdown:?}"
    );

    let code = desk.newest_code(0).await;
    let page = driver.source().await?;
    assert!(
        !page.contains(&code),
        "the code must never reach the window"
    );
    press(&driver, code.as_str()).await?;

    let (word, detail) = verdict(&driver).await?;
    assert_eq!(word, "VERIFIED");
    assert!(
        detail.contains(CLERK),
        "the verdict names who checked: {detail:?}"
    );
    assert_eq!(focused_id(&driver).await?.as_deref(), Some("next-customer"));
    screenshot(&driver, "desk-verified.png").await;

    // The log file is where an admin looks later: it knows the desk was used, never the code.
    let logs = desk.home.data().join("com.otpdesk.desk/logs");
    let mut logged = String::new();
    for file in std::fs::read_dir(&logs)? {
        logged.push_str(&std::fs::read_to_string(file?.path())?);
    }
    assert!(
        logged.contains("desk ready"),
        "nothing logged in {}",
        logs.display()
    );
    assert!(!logged.contains(&code), "the code must never reach the log");
    assert!(
        !logged.contains("jo.smith@example.com"),
        "nor the full address"
    );

    // Esc: the next customer steps up, with the search box ready.
    press(&driver, Key::Escape).await?;
    assert_eq!(focused_id(&driver).await?.as_deref(), Some("search"));
    assert!(
        !driver
            .find(By::Id("customer-card"))
            .await?
            .is_displayed()
            .await?
    );
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_codes_count_down_until_the_code_stops_working() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let desk = Desk::new(&[("max_attempts", "3")]);
    let tauri_driver = TauriDriver::start(&desk.home, Some(&desk.db));
    let driver = tauri_driver.open_app(&app_binary()).await?;

    set_up_first_start(&driver, PASSPHRASE, CLERK).await?;
    open_customer(&driver, "Jo Smith", "Jo Smith").await?;
    send_by_email(&driver).await?;
    let code = desk.newest_code(0).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };

    // A typo is not an attempt: letters are refused on the spot.
    press(&driver, "12a").await?;
    let error = wait_for_text(&driver, "code-error", Duration::from_secs(5), |t| {
        !t.is_empty()
    })
    .await;
    assert!(error.contains("only digits"), "{error:?}");
    driver.find(By::Id("code-input")).await?.clear().await?;

    for left in [2, 1] {
        type_into(&driver, "code-input", wrong).await?;
        let (word, detail) = verdict(&driver).await?;
        assert_eq!(word, "NOT VERIFIED");
        let expected = format!("{left} attempt");
        let detail = if detail.contains(&expected) {
            detail
        } else {
            wait_for_text(&driver, "verdict-detail", Duration::from_secs(5), |t| {
                t.contains(&expected)
            })
            .await
        };
        assert!(detail.starts_with("Wrong code."), "{detail:?}");
        assert_eq!(focused_id(&driver).await?.as_deref(), Some("code-input"));
    }
    screenshot(&driver, "desk-wrong-code.png").await;
    press(&driver, wrong).await?;
    let detail = wait_for_text(&driver, "verdict-detail", Duration::from_secs(5), |t| {
        t.contains("Too many wrong entries")
    })
    .await;
    assert!(detail.contains("no longer works"));
    assert!(
        !driver
            .find(By::Id("code-input"))
            .await?
            .is_displayed()
            .await?
    );

    // Even the right code is refused now.
    let status = driver
        .execute(
            "return window.__TAURI__.core.invoke('verify_code', { challengeId: 1, code: arguments[0] })
               .then((r) => r.outcome, (e) => e.kind);",
            vec![serde_json::Value::from(code)],
        )
        .await?
        .json()
        .clone();
    assert_eq!(status, "too_many_attempts");
    screenshot(&driver, "desk-too-many-attempts.png").await;
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_code_can_be_sent_once_the_cooldown_is_over_and_replaces_the_old_one() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let desk = Desk::new(&[("resend_cooldown_seconds", "30")]);
    let tauri_driver = TauriDriver::start(&desk.home, Some(&desk.db));
    let driver = tauri_driver.open_app(&app_binary()).await?;

    set_up_first_start(&driver, PASSPHRASE, CLERK).await?;
    open_customer(&driver, "WB-1001", "Jo Smith").await?;
    send_by_email(&driver).await?;
    let first = desk.newest_code(0).await;

    let resend = driver.find(By::Id("resend")).await?;
    let label = resend.text().await?;
    assert!(!resend.is_enabled().await?, "resend waits for the cooldown");
    assert!(label.contains("(in 0:"), "the button says when: {label:?}");
    screenshot(&driver, "desk-cooldown.png").await;

    wait_until(
        "the resend button to come back",
        Duration::from_secs(40),
        || async {
            let enabled = driver.find(By::Id("resend")).await?.is_enabled().await?;
            Ok(enabled.then_some(()))
        },
    )
    .await;
    assert_eq!(text_of(&driver, "resend").await?, "Send a new code");
    driver.find(By::Id("resend")).await?.click().await?;
    wait_for_text(&driver, "delivery-state", Duration::from_secs(15), |t| {
        t == "Sent"
    })
    .await;
    let second = desk.newest_code(1).await;
    assert_eq!(desk.messages_sent(), 2);

    if first != second {
        // The old code was replaced: it no longer verifies.
        type_into(&driver, "code-input", &first).await?;
        let (word, detail) = verdict(&driver).await?;
        assert_eq!(word, "NOT VERIFIED", "{detail}");
        driver.find(By::Id("code-input")).await?.clear().await?;
    }
    type_into(&driver, "code-input", &second).await?;
    let word = wait_for_text(&driver, "verdict-word", Duration::from_secs(10), |t| {
        t == "VERIFIED"
    })
    .await;
    assert_eq!(word, "VERIFIED");
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_code_left_too_long_expires_on_screen() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let desk = Desk::new(&[("code_lifetime_minutes", "1")]);
    let tauri_driver = TauriDriver::start(&desk.home, Some(&desk.db));
    let driver = tauri_driver.open_app(&app_binary()).await?;

    set_up_first_start(&driver, PASSPHRASE, CLERK).await?;
    open_customer(&driver, "WB-1001", "Jo Smith").await?;
    send_by_email(&driver).await?;
    let countdown = text_of(&driver, "code-countdown").await?;
    assert!(
        countdown == "1:00" || countdown.starts_with("0:5"),
        "a one-minute code: {countdown:?}"
    );
    let detail = wait_for_text(&driver, "verdict-detail", Duration::from_secs(75), |t| {
        t.contains("expired")
    })
    .await;
    assert_eq!(text_of(&driver, "verdict-word").await?, "NOT VERIFIED");
    assert!(detail.contains("The code has expired"));
    assert_eq!(text_of(&driver, "verdict-next").await?, "Send a new code.");
    screenshot(&driver, "desk-expired.png").await;
    driver.quit().await?;
    Ok(())
}
