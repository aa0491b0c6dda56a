//! Measures the desktop budgets of docs/PERFORMANCE.md on this machine. A measurement, not a
//! test: it prints numbers and judges nothing. Run through `scripts/measure-desktop`, which
//! builds what it needs and provides the X screen, D-Bus and keyring.
//!
//!   measure --app PATH --big-db PATH [--deb PATH] [--runs N]
//!
//! - cold start: the release binary is started with a fresh home and database; the time until
//!   its log says "desk ready" (the page has focused the search box and asked for the status)
//!   is taken from outside the process, so loading the binary and WebKit is included.
//! - idle memory: 10 s after the desk is ready, the proportional set size (PSS) of the app and
//!   of every process below it (WebKit's web and network processes), from /proc.
//! - keypress to rendered results on the big database, inside the page: from the keydown
//!   event of a real key (sent through WebDriver) to the first animation frame after the
//!   results list changed.

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

/// The PSS in KiB of `pid` and everything below it.
fn pss_tree_kib(pid: u32) -> u64 {
    let mut total = 0;
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        if let Ok(rollup) = std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")) {
            total += rollup
                .lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
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
    total
}

/// One cold start: (ms until "desk ready", PSS in MiB after 10 s idle).
fn cold_start(app: &Path) -> (f64, f64) {
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
    let pss = pss_tree_kib(child.id()) as f64 / 1024.0;
    let _ = child.kill();
    let _ = child.wait();
    (ready.as_secs_f64() * 1000.0, pss)
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
    requestAnimationFrame(() => window.__keyTimes.push(performance.now() - t0));
  }).observe(list, { childList: true, subtree: true, attributes: true });
  search.focus();
"#;

/// Keypress-to-rendered-results times in ms for typing each query, one key at a time.
async fn keypress_latency(app: &Path, db: &Path) -> WebDriverResult<Vec<f64>> {
    let home = AppHome::new();
    let driver_process = TauriDriver::start(&home, Some(db));
    let driver = driver_process.open_app(app).await?;
    driver
        .query(By::Id("status-db-path"))
        .wait(Duration::from_secs(30), Duration::from_millis(100))
        .first()
        .await?;
    driver.execute(INSTRUMENT, Vec::new()).await?;
    // MEASURE_SETTLE_MS=8000 waits before typing, to tell the first seconds after start
    // apart from steady use.
    if let Some(ms) = std::env::var("MEASURE_SETTLE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let search = driver.find(By::Id("search")).await?;
    // Queries of every kind the desk sees: names, account numbers, email and phone fragments.
    for query in [
        "smith", "WB-0245", "maria", "0132", "555 01", "gar", "johnson", "billy",
    ] {
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
    driver.quit().await?;
    Ok(times
        .json()
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
        .unwrap_or_default())
}

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

    let mut starts = Vec::new();
    let mut memory = Vec::new();
    // The first start warms the disk cache and WebKit's; it is reported but not counted.
    let (first, first_pss) = cold_start(&args.app);
    println!("start 0 (warms caches, not counted): {first:.0} ms, {first_pss:.0} MiB");
    for i in 1..=args.runs {
        let (ms, pss) = cold_start(&args.app);
        println!("start {i}: ready in {ms:.0} ms, idle PSS {pss:.0} MiB");
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

    let times = keypress_latency(&args.app, &args.big_db).await?;
    if times.is_empty() {
        println!("keypress to results: no samples");
    } else {
        println!(
            "keypress to rendered results ({} keys, {}): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            times.len(),
            args.big_db.display(),
            percentile(times.clone(), 0.5),
            percentile(times.clone(), 0.95),
            times.iter().cloned().fold(0.0, f64::max)
        );
        let each: Vec<String> = times.iter().map(|t| format!("{t:.0}")).collect();
        println!("each key, in the order typed (ms): {}", each.join(" "));
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average after: {}", load.trim());
    Ok(())
}
