//! The office admin sets up delivery in the window, against the real parts: a mail account
//! through the form pointing at the real SMTP server (aiosmtpd, STARTTLS with a certificate
//! of its own), its password into the real Secret Service; a Twilio account pointing at the
//! stand-in for Twilio's API; Microsoft sign-in against the stand-in for Microsoft's; the
//! message text with its live preview. Then the desk sends codes through what was set up,
//! and each code is read from what the server received, never from the app.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use otp_desk_e2e::{
    app_binary, cli, cli_binary, code_in_message, focused_id, one_window_at_a_time, open_customer,
    press, screenshot, set_up_first_start, text_of, wait_for_text, wait_until, AppHome,
    TauriDriver, TestResult,
};
use otp_desk_test_servers::identity::{
    IdentityServer, Outcome, CLIENT_ID, TENANT, USER_CODE, VERIFICATION_URI,
};
use otp_desk_test_servers::twilio::{TwilioServer, ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER};
use otp_desk_test_servers::{SmtpServer, PASSWORD, USER};
use thirtyfour::prelude::*;

const PASSPHRASE: &str = "river copper lantern";
const ADMIN: &str = "Ann Admin";
const SECOND: Duration = Duration::from_secs(1);

struct Office {
    home: AppHome,
    db: PathBuf,
}

impl Office {
    /// A new office with one customer, "Jo Smith" (WB-1001, an email address and a mobile
    /// number).
    fn new() -> Self {
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
        Self { home, db }
    }

    fn cli(&self, args: &[&str]) {
        cli(&self.home, &self.db, args);
    }

    /// The command line tool's `--json` answer.
    fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let output = Command::new(cli_binary())
            .arg("--json")
            .args(args)
            .env("OTP_DESK_DB", &self.db)
            .env("HOME", self.home.home())
            .env("XDG_DATA_HOME", self.home.data())
            .env("XDG_CONFIG_HOME", self.home.config())
            .env("XDG_CACHE_HOME", self.home.cache())
            .stdin(Stdio::null())
            .output()
            .expect("otp-desk-cli starts");
        assert!(output.status.success(), "{args:?}: {output:?}");
        serde_json::from_slice(&output.stdout).expect("JSON on stdout")
    }

    /// The test server's certificate as a file the admin can choose in the form.
    fn ca_file(&self, smtp: &SmtpServer) -> PathBuf {
        let path = self.home.root().join("office-ca.pem");
        std::fs::write(&path, &smtp.cert_pem).expect("the CA file");
        path
    }

    async fn start(&self) -> WebDriverResult<(TauriDriver, WebDriver)> {
        let tauri_driver = TauriDriver::start(&self.home, Some(&self.db));
        let driver = tauri_driver.open_app(&app_binary()).await?;
        Ok((tauri_driver, driver))
    }
}

/// What the Secret Service holds for `username` under OTP Desk's service, as an admin would
/// look it up from a terminal.
fn keyring_lookup(username: &str) -> Option<String> {
    let output = Command::new("secret-tool")
        .args(["lookup", "service", "otp-desk", "username", username])
        .stdin(Stdio::null())
        .output()
        .expect("secret-tool runs (libsecret-tools)");
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => {
                    let holds = std::fs::read(&path).is_ok_and(|bytes| {
                        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
                    });
                    if holds {
                        found.push(path);
                    }
                }
                _ => {}
            }
        }
    }
    found
}

async fn click(driver: &WebDriver, css: &str) -> WebDriverResult<()> {
    driver.find(By::Css(css)).await?.click().await
}

/// Replaces what a field holds, as a person would: select it all, type over it.
async fn set_field(driver: &WebDriver, id: &str, text: &str) -> WebDriverResult<()> {
    let field = driver.find(By::Id(id)).await?;
    show(driver, id).await?;
    field.clear().await?;
    field.send_keys(text).await
}

/// Scrolls the element with `id` to the middle of the window, as a person scrolls to
/// what they work on next (and before a screenshot of it).
async fn show(driver: &WebDriver, id: &str) -> WebDriverResult<()> {
    driver
        .execute(
            "document.getElementById(arguments[0]).scrollIntoView({ block: 'center' });",
            vec![serde_json::Value::from(id)],
        )
        .await?;
    Ok(())
}

/// Scrolls the element with `id` to the top of the window.
async fn show_top(driver: &WebDriver, id: &str) -> WebDriverResult<()> {
    driver
        .execute(
            "document.getElementById(arguments[0]).scrollIntoView({ block: 'start' });",
            vec![serde_json::Value::from(id)],
        )
        .await?;
    Ok(())
}

async fn value_of(driver: &WebDriver, id: &str) -> WebDriverResult<String> {
    Ok(driver
        .find(By::Id(id))
        .await?
        .value()
        .await?
        .unwrap_or_default())
}

async fn open_settings(driver: &WebDriver, tab: &str) -> TestResult {
    click(driver, "a[data-screen-link='settings']").await?;
    click(driver, &format!("#settings-tab-{tab}")).await?;
    driver
        .query(By::Id(format!("settings-panel-{tab}")))
        .wait(Duration::from_secs(10), Duration::from_millis(100))
        .and_displayed()
        .first()
        .await?;
    Ok(())
}

/// Back to the desk, ready for the next customer (Esc starts over).
async fn go_to_desk(driver: &WebDriver) -> TestResult {
    click(driver, "a[data-screen-link='desk']").await?;
    driver
        .query(By::Id("search"))
        .wait(Duration::from_secs(5), Duration::from_millis(100))
        .and_displayed()
        .first()
        .await?;
    press(driver, Key::Escape).await?;
    Ok(())
}

/// The text of an account's row in a table, once it shows `want`.
async fn row_text(driver: &WebDriver, table: &str, account: &str, want: &str) -> String {
    let css = format!("#{table} tr[data-account='{account}']");
    wait_until(
        &format!("the row of {account} to say {want:?}"),
        Duration::from_secs(15),
        || async {
            let text = driver.find(By::Css(&css)).await?.text().await?;
            Ok(text.contains(want).then_some(text))
        },
    )
    .await
}

async fn row_action(driver: &WebDriver, action: &str, account: &str) -> WebDriverResult<()> {
    click(
        driver,
        &format!("button[data-action='{action}'][data-name='{account}']"),
    )
    .await
}

/// Waits for a test dialog's result and answers it with each step as (step, ok).
async fn test_result(
    driver: &WebDriver,
    dialog: &str,
    limit: Duration,
) -> WebDriverResult<(String, Vec<(String, bool)>)> {
    let result = wait_until(&format!("{dialog} to finish"), limit, || async {
        let value = driver
            .find(By::Id(dialog))
            .await?
            .attr("data-result")
            .await?;
        Ok(value.filter(|v| !v.is_empty()))
    })
    .await;
    let mut steps = Vec::new();
    for item in driver
        .find_all(By::Css(format!("#{dialog} .test-step")))
        .await?
    {
        let step = item.attr("data-step").await?.unwrap_or_default();
        let ok = item.attr("data-ok").await?.as_deref() == Some("true");
        steps.push((step, ok));
    }
    Ok((result, steps))
}

fn all_ok(steps: &[(String, bool)], names: &[&str]) {
    let got: Vec<&str> = steps.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(got, names, "the steps, in order");
    assert!(
        steps.iter().all(|(_, ok)| *ok),
        "every step passed: {steps:?}"
    );
}

/// Fills the "Any SMTP server" form for the loopback server, up to its sign-in fields.
async fn fill_smtp_form(
    driver: &WebDriver,
    office: &Office,
    smtp: &SmtpServer,
    name: &str,
) -> TestResult {
    click(driver, "#mail-add-open").await?;
    click(driver, "input[name='mail-kind'][value='smtp']").await?;
    set_field(driver, "mail-name", name).await?;
    set_field(driver, "mail-from-address", USER).await?;
    set_field(driver, "mail-from-name", "Front desk").await?;
    set_field(driver, "mail-username", USER).await?;
    set_field(driver, "mail-host", "localhost").await?;
    set_field(driver, "mail-port", &smtp.port.to_string()).await?;
    // The server's own certificate, chosen as a file, as an office with its own CA would.
    let ca = office.ca_file(smtp);
    driver
        .find(By::Id("mail-ca-file"))
        .await?
        .send_keys(ca.display().to_string())
        .await?;
    wait_until(
        "the certificate to be read in",
        Duration::from_secs(5),
        || async {
            let pem = value_of(driver, "mail-ca").await?;
            Ok(pem.contains("BEGIN CERTIFICATE").then_some(()))
        },
    )
    .await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_adds_an_smtp_account_whose_password_lives_only_in_the_keyring_and_the_desk_sends_through_it(
) -> TestResult {
    let _screen = one_window_at_a_time().await;
    let smtp = SmtpServer::start("starttls", "none");
    let office = Office::new();
    let (_tauri_driver, driver) = office.start().await?;
    set_up_first_start(&driver, PASSPHRASE, ADMIN).await?;
    open_settings(&driver, "mail").await?;
    row_text(&driver, "mail-accounts", "Local outbox", "Default").await;

    // The Gmail preset fills in its server; the SMTP kind explains the port/security pairs.
    click(&driver, "#mail-add-open").await?;
    let preset = text_of(&driver, "mail-preset").await?;
    assert!(
        preset.contains("smtp.gmail.com, port 587, with STARTTLS"),
        "{preset:?}"
    );
    assert_eq!(
        text_of(&driver, "mail-password-label").await?,
        "App password"
    );
    click(&driver, "#mail-add-cancel").await?;

    fill_smtp_form(&driver, &office, &smtp, "Office server").await?;
    let pairs = text_of(&driver, "mail-security-hint").await?;
    assert!(
        pairs.contains("465 with STARTTLS, 587 with TLS"),
        "{pairs:?}"
    );
    let password = driver.find(By::Id("mail-password")).await?;
    assert_eq!(password.attr("type").await?.as_deref(), Some("password"));
    password.send_keys(PASSWORD).await?;
    screenshot(&driver, "settings-mail-form.png").await;
    click(&driver, "#mail-add-save").await?;

    let row = row_text(&driver, "mail-accounts", "Office server", "Password set").await;
    assert!(
        row.contains("localhost:") && row.contains("starttls"),
        "{row}"
    );
    assert!(row.contains("with the office's CA certificate"), "{row}");
    assert_eq!(
        value_of(&driver, "mail-password").await?,
        "",
        "the field is cleared"
    );
    // The focus is on the new account's next step: its test button.
    let focused = driver.active_element().await?;
    assert_eq!(focused.attr("data-action").await?.as_deref(), Some("test"));
    screenshot(&driver, "settings-mail.png").await;

    // Send test mail: each step, through the real server, with the sample code.
    row_action(&driver, "test", "Office server").await?;
    assert_eq!(
        value_of(&driver, "mail-test-to").await?,
        USER,
        "the from address by default"
    );
    click(&driver, "#mail-test-send").await?;
    let (result, steps) = test_result(&driver, "mail-test-dialog", Duration::from_secs(30)).await?;
    assert_eq!(result, "ok");
    all_ok(
        &steps,
        &[
            "account",
            "render",
            "connect",
            "tls",
            "authenticate",
            "send",
        ],
    );
    let state = text_of(&driver, "mail-test-state").await?;
    assert!(state.contains("Every step passed"), "{state:?}");
    screenshot(&driver, "settings-test-mail.png").await;
    let received = smtp.messages();
    assert_eq!(received.len(), 1, "the server received the test mail");
    assert!(
        received[0].contains("This is a test message from OTP Desk"),
        "a test message, never a real code: {}",
        received[0]
    );
    click(&driver, "#mail-test-close").await?;

    // The password is in the Secret Service, exactly, and nowhere else.
    assert_eq!(
        keyring_lookup("smtp:Office_server").as_deref(),
        Some(PASSWORD),
        "secret-tool finds exactly the password"
    );
    let page = driver.source().await?;
    assert!(
        !page.contains(PASSWORD),
        "the page never holds the password"
    );
    let leaks = files_holding(office.home.root(), PASSWORD);
    assert!(
        leaks.is_empty(),
        "the password is in no file of the app (database, WAL, logs, caches): {leaks:?}"
    );
    assert!(office.db.exists() && office.db.with_extension("db-wal").exists());

    // Codes now go out through it: make it the default, and the outbox banner goes.
    row_action(&driver, "default", "Office server").await?;
    row_text(&driver, "mail-accounts", "Office server", "Default").await;
    wait_until(
        "the outbox banner to go",
        Duration::from_secs(5),
        || async {
            let banner = driver.find(By::Id("banner-outbox")).await?;
            Ok((!banner.is_displayed().await?).then_some(()))
        },
    )
    .await;
    let status = text_of(&driver, "status-mail").await?;
    assert_eq!(status, "Mail: Office server");

    go_to_desk(&driver).await?;
    open_customer(&driver, "WB-1001", "Jo Smith").await?;
    assert_eq!(focused_id(&driver).await?.as_deref(), Some("send-email"));
    press(&driver, Key::Enter).await?;
    let detail = wait_for_text(&driver, "delivery-detail", Duration::from_secs(20), |t| {
        t.contains("via Office server")
    })
    .await;
    assert!(detail.contains("jo…@example.com"), "{detail:?}");
    let message = wait_until(
        "the code's message at the server",
        Duration::from_secs(10),
        || async {
            let all = smtp.messages();
            Ok((all.len() == 2).then(|| all[1].clone()))
        },
    )
    .await;
    let code = code_in_message(message.as_bytes(), 6);
    press(&driver, code.as_str()).await?;
    let word = wait_for_text(&driver, "verdict-word", Duration::from_secs(10), |t| {
        !t.is_empty()
    })
    .await;
    assert_eq!(word, "VERIFIED");
    assert!(!driver.source().await?.contains(&code));
    driver.quit().await?;

    let leaks = files_holding(office.home.root(), PASSWORD);
    assert!(
        leaks.is_empty(),
        "still nowhere after the app closed: {leaks:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_mail_the_server_refuses_says_which_step_failed_and_what_to_fix() -> TestResult {
    let _screen = one_window_at_a_time().await;
    let smtp = SmtpServer::start("starttls", "reject-password");
    let office = Office::new();
    let ca = office.ca_file(&smtp);
    let port = smtp.port.to_string();
    office.cli(&[
        "mail",
        "accounts",
        "add",
        "--name",
        "Office server",
        "--kind",
        "smtp",
        "--host",
        "localhost",
        "--port",
        &port,
        "--security",
        "starttls",
        "--username",
        USER,
        "--from",
        USER,
        "--ca-file",
        &ca.display().to_string(),
    ]);
    let (_tauri_driver, driver) = office.start().await?;
    set_up_first_start(&driver, PASSPHRASE, ADMIN).await?;
    open_settings(&driver, "mail").await?;
    row_text(
        &driver,
        "mail-accounts",
        "Office server",
        "Password not set",
    )
    .await;
    // Choosing the tab of the panel already shown does not draw its list again: a second
    // drawing replaced the row under the pointer while it was being clicked.
    let row = driver
        .find(By::Css("#mail-accounts tr[data-account='Office server']"))
        .await?;
    click(&driver, "#settings-tab-mail").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        row.text().await.is_ok(),
        "the row is still the one drawn before the tab was chosen again"
    );

    // The password goes in through the list's write-only dialog.
    row_action(&driver, "password", "Office server").await?;
    assert_eq!(
        focused_id(&driver).await?.as_deref(),
        Some("mail-password-new")
    );
    press(&driver, "not-the-app-password").await?;
    press(&driver, Key::Enter).await?;
    row_text(&driver, "mail-accounts", "Office server", "Password set").await;
    assert_eq!(
        keyring_lookup("smtp:Office_server").as_deref(),
        Some("not-the-app-password")
    );

    row_action(&driver, "test", "Office server").await?;
    click(&driver, "#mail-test-send").await?;
    let (result, steps) = test_result(&driver, "mail-test-dialog", Duration::from_secs(30)).await?;
    assert_eq!(result, "failed");
    assert_eq!(
        steps,
        [
            ("account".to_string(), true),
            ("render".to_string(), true),
            ("connect".to_string(), true),
            ("tls".to_string(), true),
            ("authenticate".to_string(), false),
        ],
        "it stops at the step that failed"
    );
    let state = text_of(&driver, "mail-test-state").await?;
    assert!(
        state.contains("Failed at “Sign in to the server”"),
        "{state:?}"
    );
    let detail = text_of(&driver, "mail-test-steps").await?;
    assert!(
        detail.contains("535"),
        "the server's reply is shown: {detail:?}"
    );
    let hint = text_of(&driver, "mail-test-hint").await?;
    assert!(
        hint.contains("The server refused the user name or password")
            && hint.contains("app password"),
        "the sentence says what to fix: {hint:?}"
    );
    screenshot(&driver, "settings-test-mail-failed.png").await;
    assert!(smtp.messages().is_empty(), "nothing was sent");

    // Esc closes the dialog and the focus is back in the list.
    press(&driver, Key::Escape).await?;
    wait_until("the dialog to close", Duration::from_secs(5), || async {
        let open = driver
            .find(By::Id("mail-test-dialog"))
            .await?
            .attr("open")
            .await?;
        Ok(open.is_none().then_some(()))
    })
    .await;
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_sets_up_twilio_and_the_desk_texts_a_code_that_verifies_but_not_to_a_landline(
) -> TestResult {
    let _screen = one_window_at_a_time().await;
    let twilio = TwilioServer::start("none");
    let office = Office::new();
    office.cli(&[
        "customers",
        "add",
        "--account",
        "WB-2002",
        "--name",
        "Landline Lou",
        "--phone",
        "+44 20 7946 0958",
    ]);
    let (_tauri_driver, driver) = office.start().await?;
    set_up_first_start(&driver, PASSPHRASE, ADMIN).await?;

    // Until there is an SMS account, the desk says SMS is not set up.
    open_customer(&driver, "WB-1001", "Jo Smith").await?;
    assert!(!driver.find(By::Id("send-sms")).await?.is_enabled().await?);
    let reason = text_of(&driver, "send-sms-reason").await?;
    assert!(reason.contains("SMS is not set up"), "{reason:?}");

    open_settings(&driver, "sms").await?;
    let availability = wait_for_text(&driver, "sms-availability", Duration::from_secs(10), |t| {
        !t.is_empty()
    })
    .await;
    assert!(availability.contains("not set up"), "{availability:?}");
    click(&driver, "#sms-add-open").await?;
    set_field(&driver, "sms-name", "Office Twilio").await?;
    set_field(&driver, "sms-account-sid", ACCOUNT_SID).await?;
    set_field(&driver, "sms-from-number", FROM_NUMBER).await?;
    let token = driver.find(By::Id("sms-token")).await?;
    assert_eq!(token.attr("type").await?.as_deref(), Some("password"));
    token.send_keys(AUTH_TOKEN).await?;
    click(&driver, "#sms-form details.advanced summary").await?;
    set_field(&driver, "sms-api-base", &twilio.base_url()).await?;
    click(&driver, "#sms-add-save").await?;

    let row = row_text(&driver, "sms-accounts", "Office Twilio", "Auth token set").await;
    assert!(
        row.contains("Default"),
        "the first SMS account is the default: {row}"
    );
    assert!(row.contains(FROM_NUMBER), "{row}");
    wait_for_text(&driver, "sms-availability", Duration::from_secs(5), |t| {
        t.contains("sends codes by SMS through “Office Twilio”")
    })
    .await;
    assert_eq!(
        value_of(&driver, "sms-token").await?,
        "",
        "the token field is cleared"
    );
    assert_eq!(
        keyring_lookup("twilio:Office_Twilio").as_deref(),
        Some(AUTH_TOKEN)
    );
    screenshot(&driver, "settings-sms.png").await;

    row_action(&driver, "test", "Office Twilio").await?;
    set_field(&driver, "sms-test-to", "+1 415 555 0100").await?;
    click(&driver, "#sms-test-send").await?;
    let (result, steps) = test_result(&driver, "sms-test-dialog", Duration::from_secs(45)).await?;
    assert_eq!(result, "ok", "{steps:?}");
    all_ok(
        &steps,
        &["account", "number", "render", "request", "status"],
    );
    let status_step = text_of(&driver, "sms-test-steps").await?;
    assert!(status_step.contains("Delivered"), "{status_step:?}");
    screenshot(&driver, "settings-test-sms.png").await;
    let sends = twilio.sends();
    assert_eq!(sends.len(), 1);
    assert!(sends[0]["form"]["Body"]
        .as_str()
        .unwrap_or("")
        .contains("123456"));
    click(&driver, "#sms-test-close").await?;

    // The desk's SMS button works now, and the code goes out through the stand-in.
    go_to_desk(&driver).await?;
    open_customer(&driver, "WB-1001", "Jo Smith").await?;
    let send_sms = driver.find(By::Id("send-sms")).await?;
    assert!(
        send_sms.is_enabled().await?,
        "the desk follows the new SMS account at once"
    );
    send_sms.click().await?;
    let delivered = wait_for_text(&driver, "delivery-state", Duration::from_secs(45), |t| {
        t == "Delivered to the phone"
    })
    .await;
    assert_eq!(
        delivered, "Delivered to the phone",
        "the status Twilio reports"
    );
    let detail = text_of(&driver, "delivery-detail").await?;
    assert!(
        detail.contains("+1 …0132") && detail.contains("Office Twilio"),
        "{detail:?}"
    );
    assert_eq!(twilio.sends().len(), 2);
    let code = twilio.code_in_last_message();
    assert!(!driver.source().await?.contains(&code));
    driver
        .find(By::Id("code-input"))
        .await?
        .send_keys(&code)
        .await?;
    let word = wait_for_text(&driver, "verdict-word", Duration::from_secs(10), |t| {
        !t.is_empty()
    })
    .await;
    assert_eq!(word, "VERIFIED");
    screenshot(&driver, "desk-sms-verified.png").await;
    assert!(twilio.violations().is_empty(), "{:?}", twilio.violations());

    // A landline is refused at the desk, and Twilio hears nothing of it.
    press(&driver, Key::Escape).await?;
    open_customer(&driver, "WB-2002", "Landline Lou").await?;
    driver.find(By::Id("send-sms")).await?.click().await?;
    let refusal = wait_for_text(
        &driver,
        "send-error-message",
        Duration::from_secs(10),
        |t| !t.is_empty(),
    )
    .await;
    assert!(refusal.contains("not a valid phone number"), "{refusal:?}");
    screenshot(&driver, "desk-sms-landline.png").await;
    tokio::time::sleep(SECOND).await;
    assert_eq!(twilio.sends().len(), 2, "no request for the landline");
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn microsoft_sign_in_shows_the_device_code_large_and_ends_signed_in() -> TestResult {
    let _screen = one_window_at_a_time().await;
    // Microsoft asks to slow down once: the code stays on screen for a good ten seconds.
    let identity = IdentityServer::start(Outcome::ApproveAfterSlowDown, 3599);
    let smtp = SmtpServer::start("starttls", "none");
    let office = Office::new();
    let (_tauri_driver, driver) = office.start().await?;
    set_up_first_start(&driver, PASSPHRASE, ADMIN).await?;
    open_settings(&driver, "mail").await?;

    // The loopback server stands in for smtp.office365.com: an SMTP account that signs in
    // with Microsoft, at the stand-in's address.
    fill_smtp_form(&driver, &office, &smtp, "Office 365").await?;
    click(&driver, "input[name='mail-auth'][value='microsoft']").await?;
    assert!(
        !driver
            .find(By::Id("mail-password"))
            .await?
            .is_displayed()
            .await?
    );
    set_field(&driver, "mail-tenant", TENANT).await?;
    set_field(&driver, "mail-client-id", CLIENT_ID).await?;
    click(&driver, "[data-auth='microsoft'] details.advanced summary").await?;
    set_field(&driver, "mail-authority", &identity.authority()).await?;
    click(&driver, "#mail-add-save").await?;
    row_text(&driver, "mail-accounts", "Office 365", "Not signed in").await;

    // First sign-in: the code, large, then Cancel.
    row_action(&driver, "sign-in", "Office 365").await?;
    wait_for_text(&driver, "mail-signin-code", Duration::from_secs(10), |t| {
        t == USER_CODE
    })
    .await;
    assert_eq!(text_of(&driver, "mail-signin-uri").await?, VERIFICATION_URI);
    let countdown = text_of(&driver, "mail-signin-countdown").await?;
    assert!(
        countdown == "15:00" || countdown.starts_with("14:"),
        "{countdown:?}"
    );
    let size = driver
        .execute(
            "return parseFloat(getComputedStyle(document.getElementById('mail-signin-code')).fontSize);",
            Vec::new(),
        )
        .await?
        .json()
        .as_f64()
        .unwrap_or_default();
    assert!(size >= 30.0, "the code is shown large: {size}px");
    let family = driver
        .execute(
            "return getComputedStyle(document.getElementById('mail-signin-code')).fontFamily;",
            Vec::new(),
        )
        .await?
        .json()
        .to_string();
    assert!(
        family.to_lowercase().contains("mono"),
        "monospace: {family}"
    );
    screenshot(&driver, "settings-signin.png").await;
    click(&driver, "#mail-signin-cancel").await?;
    wait_until(
        "the sign-in dialog to close",
        Duration::from_secs(5),
        || async {
            let open = driver
                .find(By::Id("mail-signin-dialog"))
                .await?
                .attr("open")
                .await?;
            Ok(open.is_none().then_some(()))
        },
    )
    .await;
    let said = text_of(&driver, "mail-status").await?;
    assert!(said.contains("cancelled"), "{said:?}");
    let polls = identity.state().polls;
    tokio::time::sleep(3 * SECOND).await;
    assert_eq!(identity.state().polls, polls, "no polling after Cancel");
    assert_eq!(
        keyring_lookup("oauth:smtp:Office_365"),
        None,
        "nothing stored"
    );

    // Second sign-in: approved at Microsoft, and the dialog says so.
    row_action(&driver, "sign-in", "Office 365").await?;
    wait_for_text(&driver, "mail-signin-code", Duration::from_secs(10), |t| {
        t == USER_CODE
    })
    .await;
    let done = wait_for_text(&driver, "mail-signin-state", Duration::from_secs(30), |t| {
        t.starts_with("Signed in.")
    })
    .await;
    assert!(done.contains("Office 365"), "{done:?}");
    assert_eq!(
        focused_id(&driver).await?.as_deref(),
        Some("mail-signin-close")
    );
    screenshot(&driver, "settings-signed-in.png").await;
    click(&driver, "#mail-signin-close").await?;
    row_text(&driver, "mail-accounts", "Office 365", "Signed in").await;
    assert!(
        identity.state().violations.is_empty(),
        "{:?}",
        identity.state().violations
    );
    let refresh = keyring_lookup("oauth:smtp:Office_365").unwrap_or_default();
    assert!(
        refresh.starts_with("M.C1.refresh-token-"),
        "the refresh token is in the keyring"
    );
    assert!(files_holding(office.home.root(), &refresh).is_empty());

    // It sends with the sign-in (XOAUTH2 at the real server).
    row_action(&driver, "test", "Office 365").await?;
    click(&driver, "#mail-test-send").await?;
    let (result, steps) = test_result(&driver, "mail-test-dialog", Duration::from_secs(30)).await?;
    assert_eq!(result, "ok", "{steps:?}");
    assert_eq!(smtp.messages().len(), 1);
    click(&driver, "#mail-test-close").await?;

    row_action(&driver, "sign-out", "Office 365").await?;
    row_text(&driver, "mail-accounts", "Office 365", "Not signed in").await;
    assert_eq!(keyring_lookup("oauth:smtp:Office_365"), None, "signed out");
    driver.quit().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_edits_the_message_text_with_a_live_preview_and_a_draft_without_the_code_is_not_saved(
) -> TestResult {
    let _screen = one_window_at_a_time().await;
    let office = Office::new();
    office.cli(&["settings", "set", "company_name", "Acme Billing"]);
    let (_tauri_driver, driver) = office.start().await?;
    set_up_first_start(&driver, PASSPHRASE, ADMIN).await?;
    open_settings(&driver, "messages").await?;
    wait_for_text(
        &driver,
        "msg-preview-subject",
        Duration::from_secs(10),
        |t| t == "Your Acme Billing verification code",
    )
    .await;
    let variables = text_of(&driver, "msg-variables").await?;
    for name in [
        "{{ company_name }}",
        "{{ customer_name }}",
        "{{ code }}",
        "{{ minutes_valid }}",
    ] {
        assert!(variables.contains(name), "{variables}");
    }

    // The HTML part renders in its sandboxed frame, with the template's own styles, and
    // the customer's name escaped by the app.
    let (frame_text, code_size, sandbox) = wait_until("the HTML preview", Duration::from_secs(10), || async {
        let answer = driver
            .execute(
                "const f = document.getElementById('msg-preview-html');
                 const d = f.contentDocument;
                 if (!d || !d.body || !d.body.innerText.includes('123456')) return null;
                 const code = [...d.querySelectorAll('p')].find((p) => p.textContent.trim() === '123456');
                 return [d.body.innerText, code ? parseFloat(d.defaultView.getComputedStyle(code).fontSize) : 0,
                         f.getAttribute('sandbox')];",
                Vec::new(),
            )
            .await?
            .json()
            .clone();
        Ok(answer.as_array().map(|a| {
            (
                a[0].as_str().unwrap_or_default().to_string(),
                a[1].as_f64().unwrap_or_default(),
                a[2].as_str().unwrap_or_default().to_string(),
            )
        }))
    })
    .await;
    assert!(frame_text.contains("Hello Jo Smith"), "{frame_text}");
    assert_eq!(
        code_size, 36.0,
        "the template's inline style reaches the preview"
    );
    assert_eq!(
        sandbox, "allow-same-origin",
        "no scripts, forms, popups or navigation"
    );

    // Edit the subject: the preview follows as you type.
    set_field(
        &driver,
        "msg-subject",
        "{{ customer_name }}, your {{ company_name }} code",
    )
    .await?;
    wait_for_text(
        &driver,
        "msg-preview-subject",
        Duration::from_secs(5),
        |t| t == "Jo Smith, your Acme Billing code",
    )
    .await;
    let status = text_of(&driver, "msg-email-status").await?;
    assert_eq!(status, "Not saved yet.");
    click(&driver, "#msg-email-save").await?;
    wait_for_text(&driver, "msg-email-status", Duration::from_secs(5), |t| {
        t.starts_with("Saved.")
    })
    .await;
    let stored = office.cli_json(&["mail", "template", "show"]);
    assert_eq!(
        stored["subject"],
        "{{ customer_name }}, your {{ company_name }} code"
    );
    assert_eq!(stored["customized"], serde_json::json!(["subject"]));
    show_top(&driver, "msg-email-title").await?;
    screenshot(&driver, "settings-messages.png").await;

    // A text part without the code: the app's refusal under the editor, and nothing saved.
    set_field(
        &driver,
        "msg-text",
        "Hello {{ customer_name }}, see you at the desk.",
    )
    .await?;
    let error = wait_for_text(&driver, "msg-text-error", Duration::from_secs(5), |t| {
        !t.is_empty()
    })
    .await;
    assert!(
        error.contains("must show the code: add {{ code }}"),
        "{error:?}"
    );
    let field = driver.find(By::Id("msg-text")).await?;
    assert_eq!(field.attr("aria-invalid").await?.as_deref(), Some("true"));
    let state = text_of(&driver, "msg-preview-state").await?;
    assert!(state.contains("last version without errors"), "{state:?}");
    click(&driver, "#msg-email-save").await?;
    let status = wait_for_text(&driver, "msg-email-status", Duration::from_secs(5), |t| {
        t.starts_with("Not saved")
    })
    .await;
    assert!(status.contains("marked in red"), "{status:?}");
    assert_eq!(focused_id(&driver).await?.as_deref(), Some("msg-text"));
    show(&driver, "msg-text").await?;
    screenshot(&driver, "settings-messages-error.png").await;
    let stored = office.cli_json(&["mail", "template", "show"]);
    assert!(
        stored["text"].as_str().unwrap_or("").contains("{{ code }}"),
        "unchanged"
    );
    assert_eq!(stored["customized"], serde_json::json!(["subject"]));

    // Reset puts the built-in text back in the editor; the preview is whole again.
    click(&driver, "#msg-text-reset").await?;
    wait_until("the error to clear", Duration::from_secs(5), || async {
        let error = text_of(&driver, "msg-text-error").await?;
        Ok(error.is_empty().then_some(()))
    })
    .await;

    // The SMS text: characters, encoding and messages, as typed.
    // A curly apostrophe is outside the GSM alphabet: the whole text becomes UCS-2.
    set_field(
        &driver,
        "msg-sms",
        "{{ code }} is your code, don’t share it",
    )
    .await?;
    let size = wait_for_text(&driver, "msg-sms-size", Duration::from_secs(5), |t| {
        t.contains("UCS-2")
    })
    .await;
    assert!(size.contains("1 text message"), "{size:?}");
    let bubble = text_of(&driver, "msg-sms-preview-text").await?;
    assert_eq!(bubble, "123456 is your code, don’t share it");
    show(&driver, "msg-sms-title").await?;
    screenshot(&driver, "settings-messages-sms.png").await;
    driver.quit().await?;
    Ok(())
}
