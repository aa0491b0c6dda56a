//! Customer search latency at 1,000,000 customers, per kind of query, as a clerk types them.
//!
//! Budgets (p99): account number, email and phone fragments under 2 ms; a ranked 3-letter
//! name prefix under 5 ms. The admin search this replaces took about 330 ms.
//!
//! The million-customer database is built once through the CSV import and kept under the
//! target folder (`otp-desk-bench/`), named by schema and generator version, so later runs
//! start at once. Run with `cargo bench -p otp-desk-core --bench search`; the numbers are in
//! docs/PERFORMANCE.md. `OTP_BENCH_CUSTOMERS` changes the size (for a quick look),
//! `OTP_BENCH_QUERIES` the number of distinct queries per kind, and `OTP_BENCH_VERBOSE=1`
//! lists the slowest queries of each kind.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use otp_desk_core::customers::{self, Customer, ImportMode};
use otp_desk_core::{store, ManualClock, Store};

/// Bump when the generator or the search terms change, so a stale database is rebuilt.
const GENERATOR_VERSION: u32 = 1;
const CHUNK: usize = 100_000;
const PAGE: u32 = 50;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `target/` (or `$CARGO_TARGET_DIR`): the bench binary lives in `<target>/release/deps/`.
fn cache_dir() -> PathBuf {
    let from_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()));
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or(from_exe)
        .unwrap_or_else(std::env::temp_dir)
        .join("otp-desk-bench")
}

fn database(customers: usize) -> PathBuf {
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).expect("a folder for the benchmark database");
    let path = dir.join(format!(
        "customers-{customers}-schema{}-gen{GENERATOR_VERSION}.db",
        store::schema_version()
    ));
    if path.exists() {
        println!("using {}", path.display());
        return path;
    }
    let building = path.with_extension("building");
    for stale in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{stale}", building.display()));
    }
    println!("building {} (once) …", path.display());
    let t = Instant::now();
    {
        let clock = ManualClock::start();
        let store = Store::open(&building).expect("a new database file");
        let mut conn = store.conn();
        let mut all = customers::synthetic(customers, 7).peekable();
        while all.peek().is_some() {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record([
                "account_number",
                "name",
                "email",
                "phone",
                "service_address",
                "notes",
            ])
            .expect("writing to memory");
            for c in all.by_ref().take(CHUNK) {
                w.write_record([
                    &c.account_number,
                    &c.name,
                    &c.email,
                    &c.phone,
                    &c.service_address,
                    &c.notes,
                ])
                .expect("writing to memory");
            }
            let file = w.into_inner().expect("writing to memory");
            let report = customers::import(
                &mut conn,
                &clock,
                "bench",
                file.as_slice(),
                ImportMode::AllOrNothing,
                &mut |_| {},
            )
            .expect("sample rows import");
            assert!(report.committed);
            println!(
                "  {} customers ({:.0} s)",
                customers::count(&conn).expect("count"),
                t.elapsed().as_secs_f64()
            );
        }
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA optimize;")
            .expect("checkpoint");
    }
    std::fs::rename(&building, &path).expect("rename the finished database");
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", building.display()));
    }
    path
}

/// SplitMix64, so the query set is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn ascii_lower_letters(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Queries of each kind, made from real rows so most of them find someone.
fn queries(
    conn: &rusqlite::Connection,
    total: usize,
    per_kind: usize,
) -> Vec<(&'static str, Vec<String>)> {
    let mut rng = Rng(2026);
    let mut kinds: Vec<(&'static str, Vec<String>)> = vec![
        ("account number, exact", Vec::new()),
        ("account number, prefix", Vec::new()),
        ("email fragment", Vec::new()),
        ("phone, last 4 digits", Vec::new()),
        ("phone, \"555 01\" style", Vec::new()),
        ("phone, \"+1 (415) 555\" style", Vec::new()),
        ("name, 3-letter prefix", Vec::new()),
        ("name, two words", Vec::new()),
    ];
    let mut picked = 0;
    while kinds.iter().any(|(_, q)| q.len() < per_kind) && picked < per_kind * 40 {
        picked += 1;
        let id = 1 + rng.below(total) as i64;
        let Some(c): Option<Customer> = customers::get(conn, id).expect("read") else {
            continue;
        };
        let account = c.account_number.clone();
        let digits_at = account.find(|ch: char| ch.is_ascii_digit()).unwrap_or(0);
        let cut = (account.len() - 3).max(digits_at + 2).min(account.len());
        let mut push = |kind: usize, q: String| {
            if kinds[kind].1.len() < per_kind && !q.trim().is_empty() {
                kinds[kind].1.push(q);
            }
        };
        push(0, account.clone());
        push(
            1,
            if rng.below(2) == 0 {
                account[..cut].to_string()
            } else {
                account[digits_at..cut].trim_start_matches('0').to_string()
            },
        );
        if let Some(email) = &c.email {
            let parts: Vec<&str> = email
                .split(['@', '.', '_', '+', '-'])
                .filter(|p| p.len() >= 3)
                .collect();
            let part = parts[rng.below(parts.len())];
            let n = 3 + rng.below(part.len().saturating_sub(2));
            push(2, part[..n.min(part.len())].to_string());
        }
        if let Some(e164) = &c.phone_e164 {
            let d: Vec<char> = e164.chars().filter(char::is_ascii_digit).collect();
            if d.len() == 11 {
                let s = |a: usize, b: usize| d[a..b].iter().collect::<String>();
                push(3, s(7, 11));
                push(4, format!("{} {}", s(4, 7), s(7, 9)));
                push(5, format!("+1 ({}) {}", s(1, 4), s(4, 7)));
            }
        }
        let words: Vec<&str> = c.name.split_whitespace().collect();
        let last = ascii_lower_letters(words.last().copied().unwrap_or(""));
        let first = ascii_lower_letters(words.first().copied().unwrap_or(""));
        let pick = if rng.below(2) == 0 { &first } else { &last };
        if pick.len() >= 3 {
            push(6, pick[..3].to_string());
        }
        if first.len() >= 2 && last.len() >= 3 {
            push(7, format!("{first} {}", &last[..3]));
        }
    }
    kinds
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn main() {
    let total = env_usize("OTP_BENCH_CUSTOMERS", 1_000_000);
    let per_kind = env_usize("OTP_BENCH_QUERIES", 500);
    let verbose = std::env::var_os("OTP_BENCH_VERBOSE").is_some();
    let path = database(total);
    let store = Store::open(&path).expect("the benchmark database");
    let conn = store.conn();
    let kinds = queries(&conn, total, per_kind);
    // Other programs on the machine show up as slow outliers; say how busy it was.
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let one_minute = load.split_whitespace().next().unwrap_or("?");
        println!("machine load (1-minute average) at start: {one_minute}");
    }

    println!(
        "\ncustomer search, {total} customers, page of {PAGE}, {per_kind} distinct queries per kind, {} CPU cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>8} {:>7}",
        "query kind", "p50 ms", "p99 ms", "max ms", "hits", "budget"
    );
    for (kind, qs) in &kinds {
        // One pass to warm the page cache as a working desk would have it, then two timed.
        for q in qs {
            customers::search(&conn, q, PAGE, 0).expect("search");
        }
        let mut times = Vec::with_capacity(qs.len() * 2);
        let mut slowest: Vec<(Duration, &str)> = Vec::new();
        let mut hits = 0;
        for _ in 0..2 {
            for q in qs {
                let t = Instant::now();
                let found = customers::search(&conn, q, PAGE, 0).expect("search");
                let took = t.elapsed();
                times.push(took);
                slowest.push((took, q));
                hits += found.len();
            }
        }
        times.sort();
        slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
        slowest.dedup_by(|a, b| a.1 == b.1);
        if verbose {
            let list: Vec<String> = slowest
                .iter()
                .take(5)
                .map(|(d, q)| format!("{q:?} {} ms", ms(*d)))
                .collect();
            println!("    slowest: {}", list.join(", "));
        }
        let budget = if kind.starts_with("name, 3") {
            "5 ms"
        } else if kind.starts_with("name") {
            "-"
        } else {
            "2 ms"
        };
        println!(
            "{:<30} {:>9} {:>9} {:>9} {:>8.1} {:>7}",
            kind,
            ms(percentile(&times, 0.50)),
            ms(percentile(&times, 0.99)),
            ms(*times.last().unwrap_or(&Duration::ZERO)),
            hits as f64 / times.len().max(1) as f64,
            budget
        );
    }
    list_everyone(&conn, total);
}

/// The admin's customer list with an empty search box: a page by account number at the
/// given offset (paging stops at `search::MAX_OFFSET`), and the count the pager shows.
/// Budget (p99): 20 ms for a page at any offset, 50 ms for the count.
fn list_everyone(conn: &rusqlite::Connection, total: usize) {
    const RUNS: usize = 200;
    let deepest = customers::search::MAX_OFFSET;
    let kinds: [(&str, Option<u32>); 4] = [
        ("page 1", Some(0)),
        ("page at offset 5,000", Some(deepest / 2)),
        ("deepest page (offset 10,000)", Some(deepest)),
        ("count of all customers", None),
    ];
    println!(
        "
customer list (empty search box), {total} customers, page of {PAGE}, {RUNS} runs each"
    );
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>8}",
        "what", "p50 ms", "p99 ms", "max ms", "budget"
    );
    for (what, offset) in kinds {
        let run = || match offset {
            Some(offset) => customers::search(conn, "", PAGE, offset)
                .expect("a page")
                .len(),
            None => usize::try_from(customers::count(conn).expect("count")).unwrap_or(0),
        };
        run();
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(run());
                t.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "{:<30} {:>9} {:>9} {:>9} {:>8}",
            what,
            ms(percentile(&times, 0.50)),
            ms(percentile(&times, 0.99)),
            ms(*times.last().unwrap_or(&Duration::ZERO)),
            if offset.is_some() { "20 ms" } else { "50 ms" }
        );
    }
}
