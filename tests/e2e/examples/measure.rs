//! Measures the desktop budgets of docs/PERFORMANCE.md on this machine. A measurement, not a
//! test: it prints numbers and judges nothing. Run through `scripts/measure-desktop`, which
//! builds what it needs and provides the X screen, D-Bus and keyring.
//!
//!   measure --app PATH --big-db PATH [--deb PATH] [--runs N]   (--runs 0: keypresses only)
//!
//! - cold start: the release binary is started with a fresh home and database; the time until
//!   its log says "desk ready" (the page has focused the search box and asked for the status)
//!   is taken from outside the process, so loading the binary and WebKit is included.
//! - idle memory: 10 s after the desk is ready, the proportional set size (PSS) of the app and
//!   of every process below it (WebKit's web and network processes), from /proc; and their
//!   private pages, which do not depend on what else runs.
//! - keypress to rendered results on the big database, inside the page: from the keydown
//!   event of a real key (sent through WebDriver) until the frame that paints the changed
//!   results list is done (the start of the frame after it: a frame's callbacks run before
//!   it paints, so the first would stop the clock before the painting); then the same
//!   queries as input events made in the page, so WebDriver is out of the loop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use otp_desk_e2e::{AppHome, TauriDriver};
use thirtyfour::prelude::*;

struct Args {
    app: PathBuf,
    big_db: PathBuf,
    deb: Option<PathBuf>,
    runs: usize,
}

fn args() -> Args {
    let mut app = None;
    let mut big_db = None;
    let mut deb = None;
    let mut runs = 5;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--app" => app = it.next().map(PathBuf::from),
            "--big-db" => big_db = it.next().map(PathBuf::from),
            "--deb" => deb = it.next().map(PathBuf::from),
            "--runs" => runs = it.next().and_then(|n| n.parse().ok()).unwrap_or(5),
            other => panic!("unknown argument {other}"),
        }
    }
    Args {
        app: app.expect("--app PATH"),
        big_db: big_db.expect("--big-db PATH"),
        deb,
        runs,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

/// The memory of a process and every process below it, in KiB: (PSS, private), with the
/// same for each process by name. PSS shares each mapped page among the processes that map
/// it, so it falls when other programs load the same libraries; private pages (clean and
/// dirty) are the app's own whatever else runs.
fn memory_tree_kib(pid: u32) -> (u64, u64, Vec<(String, u64, u64)>) {
    let (mut pss, mut private) = (0, 0);
    let mut each = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        if let Ok(rollup) = std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")) {
            let (mut own_pss, mut own_private) = (0, 0);
            for line in rollup.lines() {
                let mut words = line.split_whitespace();
                let (Some(name), Some(kib)) = (words.next(), words.next()) else {
                    continue;
                };
                let kib = kib.parse::<u64>().unwrap_or(0);
                match name {
                    "Pss:" => own_pss += kib,
                    "Private_Clean:" | "Private_Dirty:" => own_private += kib,
                    _ => {}
                }
            }
            let name = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
            each.push((name.trim().to_string(), own_pss, own_private));
            pss += own_pss;
            private += own_private;
        }
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) {
            for task in tasks.flatten() {
                let children =
                    std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
                todo.extend(
                    children
                        .split_whitespace()
                        .filter_map(|c| c.parse::<u32>().ok()),
                );
            }
        }
    }
    (pss, private, each)
}

/// One cold start: (ms until "desk ready", PSS and private memory in MiB after 10 s idle,
/// and the same for each process).
fn cold_start(app: &Path) -> (f64, f64, f64, String) {
    let home = AppHome::new();
    let started = Instant::now();
    let mut child = Command::new(app)
        .env("HOME", home.home())
        .env("XDG_DATA_HOME", home.data())
        .env("XDG_CONFIG_HOME", home.config())
        .env("XDG_CACHE_HOME", home.cache())
        .env_remove("OTP_DESK_DB")
        .env("RUST_LOG", "warn,otp_desk_app=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the app starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("desk ready") {
                let _ = tx.send(started.elapsed());
            }
        }
    });
    let ready = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the desk became ready within 30 s");
    std::thread::sleep(Duration::from_secs(10));
    let (pss, private, each) = memory_tree_kib(child.id());
    let (pss, private) = (pss as f64 / 1024.0, private as f64 / 1024.0);
    let each = each
        .iter()
        .map(|(name, pss, private)| format!("{name} {} / {}", pss / 1024, private / 1024))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = child.kill();
    let _ = child.wait();
    (ready.as_secs_f64() * 1000.0, pss, private, each)
}

const INSTRUMENT: &str = r#"
  const list = document.getElementById('results-list');
  const search = document.getElementById('search');
  window.__keyTimes = [];
  let pending = null;
  search.addEventListener('keydown', () => { pending = performance.now(); }, true);
  new MutationObserver(() => {
    if (pending === null) return;
    const t0 = pending;
    pending = null;
    // The second frame: it starts once the first, which paints the change, is done.
    requestAnimationFrame(() => requestAnimationFrame(() => window.__keyTimes.push(performance.now() - t0)));
  }).observe(list, { childList: true, subtree: true, attributes: true });
  search.focus();
"#;

/// Queries of every kind the desk sees: names, account numbers, email and phone fragments.
const QUERIES: [&str; 8] = [
    "smith", "WB-0245", "maria", "0132", "555 01", "gar", "johnson", "billy",
];

/// Times in ms, in the order typed.
struct Typed {
    keys: Vec<f64>,
    in_page: Vec<f64>,
    in_page_answers: Vec<f64>,
}

/// Keypress-to-rendered-results times in ms for typing each query, one key at a time: through
/// WebDriver, and as input events made in the page. Both start as soon as the desk is up;
/// MEASURE_IN_PAGE_FIRST=1 swaps their order, MEASURE_SETTLE_MS=8000 waits before the first.
async fn keypress_latency(app: &Path, db: &Path) -> WebDriverResult<Typed> {
    let home = AppHome::new();
    let driver_process = TauriDriver::start(&home, Some(db));
    let driver = driver_process.open_app(app).await?;
    driver
        .query(By::Id("status-db-path"))
        .wait(Duration::from_secs(30), Duration::from_millis(100))
        .first()
        .await?;
    if let Some(ms) = std::env::var("MEASURE_SETTLE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    // MEASURE_CSS="rules": extra style rules for the page, to try a change without a build.
    if let Ok(css) = std::env::var("MEASURE_CSS") {
        driver
            .execute(
                "const s = new CSSStyleSheet(); s.replaceSync(arguments[0]); \
                 document.adoptedStyleSheets = [...document.adoptedStyleSheets, s];",
                vec![serde_json::json!(css)],
            )
            .await?;
    }
    let (keys, in_page) = if std::env::var("MEASURE_IN_PAGE_FIRST").as_deref() == Ok("1") {
        let in_page = type_in_page(&driver).await?;
        (type_through_webdriver(&driver).await?, in_page)
    } else {
        let keys = type_through_webdriver(&driver).await?;
        (keys, type_in_page(&driver).await?)
    };
    driver.quit().await?;
    Ok(Typed {
        keys,
        in_page: in_page.0,
        in_page_answers: in_page.1,
    })
}

/// Real keys through WebDriver, timed in the page from `keydown`.
async fn type_through_webdriver(driver: &WebDriver) -> WebDriverResult<Vec<f64>> {
    driver.execute(INSTRUMENT, Vec::new()).await?;
    let search = driver.find(By::Id("search")).await?;
    for query in QUERIES {
        for c in query.chars() {
            search.send_keys(c.to_string()).await?;
            // A person types about five keys a second; each key waits for its answer.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        search.clear().await?;
        driver
            .execute(
                "document.getElementById('search').dispatchEvent(new Event('input'));",
                Vec::new(),
            )
            .await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let times = driver
        .execute("return window.__keyTimes;", Vec::new())
        .await?;
    Ok(numbers(times))
}

/// The same queries as input events made in the page: WebDriver and its automation of
/// WebKit are then out of the loop, and what is left is the app's own path.
/// Returns the times to the rendered frame and to the changed list (the answer in the page).
async fn type_in_page(driver: &WebDriver) -> WebDriverResult<(Vec<f64>, Vec<f64>)> {
    driver
        .execute(TYPE_IN_PAGE, vec![serde_json::json!(QUERIES)])
        .await?;
    for _ in 0..240 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let done = driver
            .execute("return window.__pageDone;", Vec::new())
            .await?;
        if done.json().as_bool() == Some(true) {
            break;
        }
    }
    let frames = driver
        .execute("return window.__pageTimes;", Vec::new())
        .await?;
    let answers = driver
        .execute("return window.__pageDomTimes;", Vec::new())
        .await?;
    Ok((numbers(frames), numbers(answers)))
}

fn numbers(answer: ScriptRet) -> Vec<f64> {
    answer
        .json()
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
        .unwrap_or_default()
}

/// Types each query into the search box one character at a time, as input events, at most
/// five a second; each waits for the results list to change, then for the frame that paints
/// the change to be done.
const TYPE_IN_PAGE: &str = r#"
  const queries = arguments[0];
  const list = document.getElementById('results-list');
  const search = document.getElementById('search');
  window.__pageTimes = [];
  window.__pageDomTimes = [];
  window.__pageDone = false;
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const listChanged = () => new Promise((resolve) => {
    const seen = new MutationObserver(() => {
      seen.disconnect();
      const dom = performance.now();
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(dom)));
    });
    seen.observe(list, { childList: true, subtree: true, attributes: true });
    setTimeout(() => { seen.disconnect(); resolve(false); }, 5000);
  });
  (async () => {
    for (const query of queries) {
      search.value = '';
      search.dispatchEvent(new Event('input', { bubbles: true }));
      await pause(300);
      for (const c of query) {
        const t0 = performance.now();
        const changed = listChanged();
        search.value += c;
        search.dispatchEvent(new InputEvent('input', { bubbles: true, data: c, inputType: 'insertText' }));
        const dom = await changed;
        if (dom) {
          window.__pageTimes.push(performance.now() - t0);
          window.__pageDomTimes.push(dom - t0);
        }
        const left = 200 - (performance.now() - t0);
        if (left > 0) await pause(left);
      }
    }
    window.__pageDone = true;
  })();
"#;

#[tokio::main]
async fn main() -> WebDriverResult<()> {
    let args = args();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average before: {}", load.trim());

    let binary = std::fs::metadata(&args.app).map(|m| m.len()).unwrap_or(0);
    println!(
        "release binary: {:.1} MB ({})",
        binary as f64 / 1e6,
        args.app.display()
    );
    if let Some(deb) = &args.deb {
        let size = std::fs::metadata(deb).map(|m| m.len()).unwrap_or(0);
        println!(
            ".deb package:   {:.1} MB ({})",
            size as f64 / 1e6,
            deb.display()
        );
    }

    if args.runs > 0 {
        cold_starts(&args);
    }

    let typed = keypress_latency(&args.app, &args.big_db).await?;
    println!("on {}:", args.big_db.display());
    report("keypress to rendered results (WebDriver keys)", &typed.keys);
    report(
        "input event to rendered results (in the page)",
        &typed.in_page,
    );
    report(
        "input event to the results in the page, before the frame",
        &typed.in_page_answers,
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average after: {}", load.trim());
    Ok(())
}

/// Cold starts and idle memory, `args.runs` times after one start that warms the caches.
fn cold_starts(args: &Args) {
    let mut starts = Vec::new();
    let mut memory = Vec::new();
    // The first start warms the disk cache and WebKit's; it is reported but not counted.
    let (first, first_pss, _, _) = cold_start(&args.app);
    println!("start 0 (warms caches, not counted): {first:.0} ms, {first_pss:.0} MiB");
    let mut own = Vec::new();
    for i in 1..=args.runs {
        let (ms, pss, private, each) = cold_start(&args.app);
        println!("start {i}: ready in {ms:.0} ms, idle PSS {pss:.0} MiB, private {private:.0} MiB ({each})");
        own.push(private);
        starts.push(ms);
        memory.push(pss);
    }
    println!(
        "cold start to focused search box: median {:.0} ms, max {:.0} ms",
        median(starts.clone()),
        starts.iter().cloned().fold(0.0, f64::max)
    );
    println!(
        "idle memory (PSS, app + WebKit processes): median {:.0} MiB, max {:.0} MiB",
        median(memory.clone()),
        memory.iter().cloned().fold(0.0, f64::max)
    );
    println!(
        "idle memory (private pages, app + WebKit processes): median {:.0} MiB",
        median(own)
    );
}

fn report(what: &str, times: &[f64]) {
    if times.is_empty() {
        println!("{what}: no samples");
        return;
    }
    println!(
        "{what}, {} keys: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        times.len(),
        percentile(times.to_vec(), 0.5),
        percentile(times.to_vec(), 0.95),
        times.iter().cloned().fold(0.0, f64::max)
    );
    let each: Vec<String> = times.iter().map(|t| format!("{t:.0}")).collect();
    println!("  each, in the order typed (ms): {}", each.join(" "));
}
