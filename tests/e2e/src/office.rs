//! An office's day, prepared with the command line tool before the window opens: customers,
//! codes delivered, checked right and wrong, a delivery that failed. And the few moves the
//! admin screens need beyond typing: picking from a list, typing a date, reading a table.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

use crate::{cli_binary, press, wait_until, AppHome};

/// A fresh office: its own home folders and database file.
pub struct Office {
    pub home: AppHome,
    pub db: PathBuf,
}

impl Default for Office {
    fn default() -> Self {
        Self::new()
    }
}

impl Office {
    pub fn new() -> Self {
        let home = AppHome::new();
        let db = home.root().join("office.db");
        Self { home, db }
    }

    /// Runs `otp-desk-cli --json` as `operator`, with the app's home folders.
    pub fn run(&self, operator: &str, args: &[&str]) -> Output {
        Command::new(cli_binary())
            .arg("--json")
            .args(args)
            .env("OTP_DESK_DB", &self.db)
            .env("OTP_DESK_OPERATOR", operator)
            .env("HOME", self.home.home())
            .env("XDG_DATA_HOME", self.home.data())
            .env("XDG_CONFIG_HOME", self.home.config())
            .env("XDG_CACHE_HOME", self.home.cache())
            .stdin(Stdio::null())
            .output()
            .expect("otp-desk-cli starts")
    }

    /// Runs a command that must succeed and answers its JSON (`Null` when it prints none).
    pub fn ok(&self, operator: &str, args: &[&str]) -> Value {
        let output = self.run(operator, args);
        assert!(
            output.status.success(),
            "otp-desk-cli {args:?} failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
    }

    pub fn customer(&self, account: &str, name: &str, email: Option<&str>, phone: Option<&str>) {
        let mut args = vec!["customers", "add", "--account", account, "--name", name];
        if let Some(email) = email {
            args.extend(["--email", email]);
        }
        if let Some(phone) = phone {
            args.extend(["--phone", phone]);
        }
        self.ok("e2e-setup", &args);
    }

    /// A code delivered through the default mail account (the local outbox).
    pub fn send(&self, operator: &str, account: &str) {
        self.ok(
            operator,
            &["otp", "send", "--account", account, "--channel", "email"],
        );
    }

    /// A code issued for a script, which prints it: (challenge id, code).
    pub fn issue(&self, operator: &str, account: &str, channel: &str) -> (i64, String) {
        let issued = self.ok(
            operator,
            &[
                "otp",
                "issue",
                "--account",
                account,
                "--channel",
                channel,
                "--print-code",
            ],
        );
        let id = issued["challenge_id"]
            .as_i64()
            .expect("otp issue prints the challenge id");
        let code = issued["code"]
            .as_str()
            .expect("--print-code prints the code")
            .to_string();
        (id, code)
    }

    /// Checks `code` against the challenge and answers the verdict's outcome.
    pub fn verify(&self, operator: &str, challenge: i64, code: &str) -> String {
        let id = challenge.to_string();
        let output = self.run(operator, &["otp", "verify", "--challenge", &id, code]);
        // 0 verified, 1 not verified; anything else is a failure of the set-up.
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "otp verify failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let verdict: Value = serde_json::from_slice(&output.stdout).expect("a JSON verdict");
        verdict["outcome"].as_str().unwrap_or_default().to_string()
    }

    /// Adds an outbox mail account whose folder can never be made (a file stands where its
    /// parent folder should be): every delivery through it fails.
    pub fn broken_outbox(&self, name: &str) {
        let blocker = self.home.root().join("not-a-folder");
        std::fs::write(&blocker, "x").expect("the blocking file");
        let folder = blocker.join("outbox").display().to_string();
        self.ok(
            "e2e-setup",
            &[
                "mail",
                "accounts",
                "add",
                "--name",
                name,
                "--kind",
                "outbox",
                "--from",
                "desk@example.com",
                "--folder",
                &folder,
            ],
        );
    }

    /// Sends through `mail_account`, which must fail; answers what the tool said.
    pub fn send_failing(&self, operator: &str, account: &str, mail_account: &str) -> String {
        let output = self.run(
            operator,
            &[
                "otp",
                "send",
                "--account",
                account,
                "--channel",
                "email",
                "--via",
                mail_account,
            ],
        );
        assert!(
            !output.status.success(),
            "the delivery through {mail_account} should fail"
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// Where the default outbox puts its messages.
    pub fn outbox(&self) -> PathBuf {
        self.db.parent().unwrap_or(Path::new(".")).join("outbox")
    }
}

/// A code that is certainly not `code`: each digit moved by one.
pub fn wrong(code: &str) -> String {
    code.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_digit((d + 1) % 10, 10).unwrap_or('0'),
            None => c,
        })
        .collect()
}

/// Picks the option with `value` in the `<select>` with `id`, as a click on it would.
pub async fn choose(driver: &WebDriver, id: &str, value: &str) -> WebDriverResult<()> {
    let select = SelectElement::new(&driver.find(By::Id(id)).await?).await?;
    select.select_by_value(value).await
}

/// Types the day `days_from_today` away from today (the window's today, in its time zone)
/// into the date input with `id`, one part at a time in the order the locale shows them
/// (month/day/year in the United States), moving on with the right arrow key.
pub async fn type_date(
    driver: &WebDriver,
    id: &str,
    days_from_today: i64,
) -> WebDriverResult<String> {
    let parts = driver
        .execute(
            "const day = new Date();
             day.setDate(day.getDate() + arguments[0]);
             const two = (n) => String(n).padStart(2, '0');
             const value = { year: String(day.getFullYear()).padStart(4, '0'),
                             month: two(day.getMonth() + 1), day: two(day.getDate()) };
             const order = new Intl.DateTimeFormat().formatToParts(day)
               .map((p) => p.type).filter((t) => t in value);
             return { typed: order.map((t) => value[t]),
                      iso: `${value.year}-${value.month}-${value.day}` };",
            vec![Value::from(days_from_today)],
        )
        .await?
        .json()
        .clone();
    let input = driver.find(By::Id(id)).await?;
    // Focus lands on the first part; a click would land on whichever part is under the mouse.
    input.focus().await?;
    let typed: Vec<String> = parts["typed"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for (i, part) in typed.iter().enumerate() {
        if i > 0 {
            press(driver, Key::Right).await?;
        }
        press(driver, part.as_str()).await?;
    }
    let iso = parts["iso"].as_str().unwrap_or_default().to_string();
    let wanted = iso.clone();
    wait_until(
        &format!("#{id} to hold {iso}"),
        Duration::from_secs(5),
        || {
            let input = input.clone();
            let wanted = wanted.clone();
            async move { Ok(input.value().await?.filter(|v| *v == wanted).map(|_| ())) }
        },
    )
    .await;
    Ok(iso)
}

/// The text of every cell of every row in the table body with `id`, read in one script call
/// so a list being replaced mid-read can never mix two answers.
pub async fn table_rows(driver: &WebDriver, id: &str) -> WebDriverResult<Vec<Vec<String>>> {
    let value = driver
        .execute(
            "return [...document.getElementById(arguments[0]).rows].map((row) =>
               [...row.cells].map((cell) => cell.textContent.replace(/\\s+/g, ' ').trim()));",
            vec![Value::from(id)],
        )
        .await?
        .json()
        .clone();
    Ok(value
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|row| {
            row.as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|c| c.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .collect())
}

/// Lays `screen` out as 200 % zoom does in a 1280-pixel window: 640 CSS pixels across, the
/// text at its usual CSS size (which zoom then shows twice as large). WebDriver cannot zoom
/// the webview and the window will not shrink below its minimum size, so the screen's own
/// box is narrowed instead; its layouts answer to the width of their boxes, as they do under
/// real zoom. Then answers what sticks out sideways inside the screen: any element wider than
/// the box it sits in, or a box that scrolls sideways. Text is meant to wrap, so the answer
/// should be empty.
pub async fn overflow_at_double_zoom(
    driver: &WebDriver,
    screen: &str,
) -> WebDriverResult<Vec<String>> {
    driver
        .execute_async(
            "const done = arguments[arguments.length - 1];
             document.getElementById(arguments[0]).style.maxWidth = '640px';
             requestAnimationFrame(() => requestAnimationFrame(() => done()));",
            vec![Value::from(screen)],
        )
        .await?;
    let found = driver
        .execute(
            "const out = [];
             const section = document.getElementById(arguments[0]);
             const page = document.scrollingElement;
             if (page.scrollHeight > page.clientHeight + 1) out.push(`the page itself scrolls (${page.scrollHeight}px)`);
             if (section.scrollWidth > section.clientWidth + 1) out.push(`the screen scrolls sideways`);
             for (const el of section.querySelectorAll('*')) {
               if (el.closest('[hidden], dialog:not([open])') || el.getClientRects().length === 0) continue;
               // Inside something clipped to nothing (visually hidden text for screen readers).
               let clipped = false;
               for (let up = el; up && !clipped; up = up.parentElement) {
                 clipped = getComputedStyle(up).clipPath !== 'none';
               }
               if (clipped) continue;
               const x = getComputedStyle(el).overflowX;
               if ((x === 'auto' || x === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
                 out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} scrolls sideways`);
               }
               const box = el.getBoundingClientRect();
               const parent = el.parentElement.getBoundingClientRect();
               if (box.right > parent.right + 1 && getComputedStyle(el.parentElement).overflowX === 'visible') {
                 out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} ${Math.round(box.right - parent.right)}px`);
               }
             }
             return out;",
            vec![Value::from(screen)],
        )
        .await?
        .json()
        .clone();
    Ok(found
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect())
}
