//! Drives the real OTP Desk window: the built app binary, started by WebKitWebDriver through
//! tauri-driver, with a home folder of its own so a test never touches a real database.
//!
//! Build the app and the command line tool first (`cargo build -p otp-desk -p otp-desk-cli`);
//! the tests find them next to their own binary in the target folder, or wherever
//! `OTP_DESK_APP` and `OTP_DESK_CLI` point. The tool prepares a database before the window
//! opens, the way an admin would.

pub mod office;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use thirtyfour::prelude::*;
use thirtyfour::Capabilities;
use tokio::sync::{Mutex, MutexGuard};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// One window at a time: screenshots, which grab the window by its title, and the tests'
/// timing both assume the app under test is the only one on the display.
pub async fn one_window_at_a_time() -> MutexGuard<'static, ()> {
    static SCREEN: Mutex<()> = Mutex::const_new(());
    SCREEN.lock().await
}

/// The app binary: `OTP_DESK_APP`, or the debug build in the target folder these tests were
/// built into (so a custom `CARGO_TARGET_DIR` works without further setup).
pub fn app_binary() -> PathBuf {
    built_binary("OTP_DESK_APP", "otp-desk")
}

/// The command line tool: `OTP_DESK_CLI`, or next to the app in the same target folder.
pub fn cli_binary() -> PathBuf {
    built_binary("OTP_DESK_CLI", "otp-desk-cli")
}

fn built_binary(variable: &str, package: &str) -> PathBuf {
    let path = match std::env::var_os(variable).filter(|v| !v.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => {
            let exe = std::env::current_exe().expect("the test binary knows where it is");
            // <target>/debug/deps/<test binary>
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("test binaries live in <target>/<profile>/deps");
            profile_dir.join(format!("{package}{}", std::env::consts::EXE_SUFFIX))
        }
    };
    assert!(
        path.is_file(),
        "{} does not exist: run `cargo build -p {package}` first, or set {variable}",
        path.display()
    );
    std::path::absolute(&path).unwrap_or(path)
}

/// Runs `otp-desk-cli` on `database` with the app's home folders, and panics with its output
/// if it fails: a test whose data could not be set up has nothing to say about the window.
pub fn cli(home: &AppHome, database: &Path, args: &[&str]) {
    let output = Command::new(cli_binary())
        .args(args)
        .env("OTP_DESK_DB", database)
        .env("OTP_DESK_OPERATOR", "e2e-setup")
        .env("HOME", home.home())
        .env("XDG_DATA_HOME", home.data())
        .env("XDG_CONFIG_HOME", home.config())
        .env("XDG_CACHE_HOME", home.cache())
        .stdin(Stdio::null())
        .output()
        .expect("otp-desk-cli starts");
    assert!(
        output.status.success(),
        "otp-desk-cli {args:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn tauri_driver_binary() -> PathBuf {
    let name = format!("tauri-driver{}", std::env::consts::EXE_SUFFIX);
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    on_path
        .into_iter()
        .chain(cargo_home.map(|c| c.join("bin")))
        .map(|dir| dir.join(&name))
        .find(|candidate| candidate.is_file())
        .expect("tauri-driver not found on PATH or in $CARGO_HOME/bin: cargo install tauri-driver@2.1.0 --locked")
}

/// A fresh, empty home for the app: WebKit and mesa write caches there, and the app puts its
/// database in the data folder.
pub struct AppHome {
    dir: TempDir,
}

impl AppHome {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("otp-desk-e2e-")
            .tempdir()
            .expect("a temporary folder");
        let home = Self { dir };
        for path in [home.home(), home.data(), home.config(), home.cache()] {
            std::fs::create_dir_all(path).expect("the app's home folders");
        }
        home
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    pub fn data(&self) -> PathBuf {
        self.root().join("data")
    }

    pub fn config(&self) -> PathBuf {
        self.root().join("config")
    }

    pub fn cache(&self) -> PathBuf {
        self.root().join("cache")
    }
}

impl Default for AppHome {
    fn default() -> Self {
        Self::new()
    }
}

/// A running tauri-driver (and, below it, WebKitWebDriver and the app). Dropping it ends the
/// whole process group it leads, so a failing test leaves no window or driver behind.
pub struct TauriDriver {
    child: Child,
    port: u16,
}

impl TauriDriver {
    /// Starts tauri-driver on free ports with the app's environment: its own home folders,
    /// the real Rust toolchain folders, and `OTP_DESK_DB` only when `database` is given.
    pub fn start(home: &AppHome, database: Option<&Path>) -> Self {
        let port = free_port();
        let native_port = free_port();
        let mut command = Command::new(tauri_driver_binary());
        command
            .arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .env("HOME", home.home())
            .env("XDG_DATA_HOME", home.data())
            .env("XDG_CONFIG_HOME", home.config())
            .env("XDG_CACHE_HOME", home.cache())
            .env_remove("OTP_DESK_DB")
            .stdin(Stdio::null());
        for (name, value) in real_toolchain_dirs() {
            command.env(name, value);
        }
        if let Some(database) = database {
            command.env("OTP_DESK_DB", database);
        }
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
            // If the test process dies without running its drop guards (Ctrl-C, a closed
            // pipe), the driver is told to stop instead of outliving it.
            #[cfg(target_os = "linux")]
            // SAFETY: prctl is async-signal-safe and touches only the child's own state.
            unsafe {
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                    Ok(())
                });
            }
        }
        let child = command.spawn().expect("tauri-driver starts");
        let mut driver = Self { child, port };
        // tauri-driver accepts connections before WebKitWebDriver does and then fails the
        // first request, so both must be listening before a session is asked for.
        driver.wait_until_listening(port, Duration::from_secs(15));
        driver.wait_until_listening(native_port, Duration::from_secs(15));
        driver
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_until_listening(&mut self, port: u16, limit: Duration) {
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("tauri-driver exited before its drivers listened: {status}");
            }
            assert!(
                started.elapsed() < limit,
                "nothing listened on port {port} within {limit:?} (tauri-driver or WebKitWebDriver)"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Opens a WebDriver session, which starts the app. Only `tauri:options` is sent: a
    /// `browserName` would make tauri-driver's capability matching fail.
    pub async fn open_app(&self, app: &Path) -> WebDriverResult<WebDriver> {
        let mut caps = Capabilities::new();
        caps.set(
            "tauri:options",
            serde_json::json!({ "application": app.display().to_string() }),
        )?;
        WebDriver::new(self.url(), caps).await
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        let group = -(self.child.id() as libc::pid_t);
        // SIGTERM first so tauri-driver can end WebKitWebDriver and the app itself.
        // SAFETY: kill(2) with a process group id this guard created; no memory is involved.
        unsafe { libc::kill(group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is still running in the group (a stuck app, an orphaned driver) goes now.
        // SAFETY: as above.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.child.wait();
        // The app is tauri-driver's grandchild and may still be dying. Until it is gone it
        // owns the desk's single-instance name on the session bus, and the next test's app
        // would hand over to it (and fail when it vanishes without answering).
        let deadline = Instant::now() + Duration::from_secs(5);
        // SAFETY: signal 0 only asks whether the group still has a process; nothing is sent.
        while unsafe { libc::kill(group, 0) } == 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn real_toolchain_dirs() -> Vec<(&'static str, PathBuf)> {
    let real_home = std::env::var_os("HOME").map(PathBuf::from);
    ["RUSTUP_HOME", "CARGO_HOME"]
        .into_iter()
        .filter_map(|name| {
            let default = match name {
                "RUSTUP_HOME" => ".rustup",
                _ => ".cargo",
            };
            std::env::var_os(name)
                .map(PathBuf::from)
                .or_else(|| real_home.as_ref().map(|h| h.join(default)))
                .map(|path| (name, path))
        })
        .collect()
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// Where screenshots go; kept out of version control.
pub fn artifact(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&dir).expect("the artifacts folder");
    dir.join(name)
}

/// Saves what the window shows, grabbed from the X server (the window has no decorations
/// under Xvfb, so the picture is the page); WebDriver's screenshot if that fails.
pub async fn screenshot(driver: &WebDriver, name: &str) -> PathBuf {
    let path = artifact(name);
    // A DOM change is painted on a later frame; without waiting for two of them the picture
    // can still show the page as it was before the change the test just checked.
    driver
        .execute_async(
            "const done = arguments[arguments.length - 1];
             requestAnimationFrame(() => requestAnimationFrame(() => done()));",
            Vec::new(),
        )
        .await
        .expect("the page paints");
    // The window as the X server shows it: WebKitWebDriver's own screenshot never answers
    // when the page is painted without compositing, as it is on a computer without a GPU.
    let grabbed = Command::new("import")
        .args(["-window", "OTP Desk"])
        .arg(&path)
        .status()
        .is_ok_and(|status| status.success());
    if !grabbed {
        eprintln!("grabbing the window from the X server failed; asking WebDriver instead");
        driver
            .screenshot(&path)
            .await
            .expect("WebDriver takes a screenshot");
    }
    eprintln!("screenshot: {}", path.display());
    path
}

/// The titles of the top-level X windows, as a window manager would show them; `None` when
/// xwininfo is not installed.
pub fn x_window_titles() -> Option<Vec<String>> {
    let output = Command::new("xwininfo")
        .args(["-root", "-tree"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    Some(
        text.lines()
            .filter_map(|line| {
                let start = line.find('"')? + 1;
                let end = start + line[start..].find('"')?;
                Some(line[start..end].to_string())
            })
            .collect(),
    )
}

/// Keys go to whatever has focus, as they do from a real keyboard.
pub async fn press(driver: &WebDriver, keys: impl Into<TypingData>) -> WebDriverResult<()> {
    driver.action_chain().send_keys(keys).perform().await
}

pub async fn text_of(driver: &WebDriver, id: &str) -> WebDriverResult<String> {
    driver.find(By::Id(id)).await?.text().await
}

pub async fn focused_id(driver: &WebDriver) -> WebDriverResult<Option<String>> {
    driver.active_element().await?.id().await
}

/// Polls `check` until it gives `Some`, failing with `what` and the last state after `limit`.
pub async fn wait_until<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = WebDriverResult<Option<T>>>,
{
    let deadline = Instant::now() + limit;
    loop {
        match check().await {
            Ok(Some(value)) => return value,
            Ok(None) => {}
            Err(error) => eprintln!("{what}: {error}"),
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the element with `id` is shown and its text satisfies `want`; returns the text.
pub async fn wait_for_text(
    driver: &WebDriver,
    id: &str,
    limit: Duration,
    want: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + limit;
    let mut last = String::from("(not shown)");
    loop {
        if let Ok(element) = driver.find(By::Id(id)).await {
            if element.is_displayed().await.unwrap_or(false) {
                last = element.text().await.unwrap_or_default();
                if want(&last) {
                    return last;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for #{id}; it shows {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Types into the element with `id` as a person would: click, then keys.
pub async fn type_into(driver: &WebDriver, id: &str, text: &str) -> WebDriverResult<()> {
    let element = driver.find(By::Id(id)).await?;
    element.click().await?;
    element.send_keys(text).await
}

/// The one-time code in a message as the customer receives it: the first run of digits of
/// the code's length in the plain text part (the HTML part carries the same code).
pub fn code_in_message(raw: &[u8], digits: usize) -> String {
    let message = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("the message parses as email");
    let text = message
        .body_text(0)
        .expect("the message has a plain text part")
        .to_string();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            if run.len() == digits {
                return run;
            }
            run.clear();
        }
    }
    panic!("no {digits}-digit code in the message text:\n{text}");
}

/// The `.eml` files in an outbox folder, oldest first.
pub fn outbox_messages(folder: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .map(|p| std::fs::read(p).expect("an outbox file is readable"))
        .collect()
}

/// The first-start panel: the admin passphrase (twice) and the clerk's name.
pub async fn set_up_first_start(
    driver: &WebDriver,
    passphrase: &str,
    operator: &str,
) -> TestResult {
    driver
        .query(By::Id("setup-passphrase"))
        .wait(Duration::from_secs(15), Duration::from_millis(100))
        .and_displayed()
        .first()
        .await?;
    type_into(driver, "setup-passphrase", passphrase).await?;
    type_into(driver, "setup-confirm", passphrase).await?;
    type_into(driver, "setup-operator", operator).await?;
    driver.find(By::Id("setup-submit")).await?.click().await?;
    wait_until(
        "the set-up form to be done",
        Duration::from_secs(10),
        || async {
            let form = driver.find(By::Id("setup-form")).await?;
            Ok((!form.is_displayed().await?).then_some(()))
        },
    )
    .await;
    let picked = wait_until(
        "the operator picker to show the new name",
        Duration::from_secs(5),
        || async {
            let value = driver.find(By::Id("operator")).await?.value().await?;
            Ok(value.filter(|v| v == operator))
        },
    )
    .await;
    assert_eq!(picked, operator);
    Ok(())
}

/// Finds a customer by `query` and opens the card of the only match with Enter.
pub async fn open_customer(driver: &WebDriver, query: &str, name: &str) -> TestResult {
    let search = driver.find(By::Id("search")).await?;
    search.click().await?;
    search.send_keys(query).await?;
    wait_until("exactly one result", Duration::from_secs(5), || async {
        let count = driver
            .find_all(By::Css("#results-list [role=option]"))
            .await?
            .len();
        Ok((count == 1).then_some(()))
    })
    .await;
    press(driver, Key::Enter).await?;
    wait_for_text(driver, "card-name", Duration::from_secs(5), |t| t == name).await;
    Ok(())
}
