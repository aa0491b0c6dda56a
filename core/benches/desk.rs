//! How fast the admin screens open on a year of a busy office's history: the Dashboard, the
//! Activity listing of codes, one code's detail, the audit trail with its filters, and one
//! admin passphrase check.
//!
//! Budget: every screen query well under 50 ms (it must open "instantly"); a passphrase check
//! between 50 and 250 ms would be ideal, anything under 500 ms acceptable at the unlock prompt.
//!
//! The database (1,000,000 audit events and 300,000 delivery tries spread over 365 days,
//! 250,000 codes, i.e. a retention of a year, and 50,000 customers) is built with SQL once and
//! kept under the target folder (`otp-desk-bench/`), named by schema version.
//!
//! Run: `cargo bench -p otp-desk-core --bench desk` (`OTP_BENCH_RUNS` sets the runs per query).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::FixedOffset;
use otp_desk_core::activity::{self, CodeFilter, CodeState};
use otp_desk_core::audit::{self, Filter, Kind, Outcome};
use otp_desk_core::contact::Channel;
use otp_desk_core::dashboard::{self, DashboardRequest};
use otp_desk_core::{admin, store, Clock, ManualClock, Store};

const AUDIT_EVENTS: i64 = 1_000_000;
const DELIVERIES: i64 = 300_000;
/// `OTP_BENCH_CODES` changes it: 250,000 is a year's retention, 20,000 the default 30 days.
fn codes_count() -> i64 {
    std::env::var("OTP_BENCH_CODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(250_000)
}
const CUSTOMERS: i64 = 50_000;
const YEAR_MS: i64 = 365 * 24 * 3_600_000;
/// Bump when the generated data changes.
const GENERATOR_VERSION: u32 = 2;

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

/// Spreads row `i` of `n` over the year before `now`, deterministically.
fn spread(n: i64, now: i64) -> String {
    format!("{now} - {YEAR_MS} + (i * ({YEAR_MS} / {n})) + ((i * 7919) % 60000)")
}

fn build(path: &PathBuf, now: i64) {
    let building = path.with_extension("building");
    for stale in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{stale}", building.display()));
    }
    println!("building {} (once) …", path.display());
    let t = Instant::now();
    {
        let store = Store::open(&building).expect("a new database file");
        let conn = store.conn();
        let audit_at = spread(AUDIT_EVENTS, now);
        let delivery_at = spread(DELIVERIES, now);
        let codes = codes_count();
        let code_at = spread(codes, now);
        conn.execute_batch(&format!(
            "BEGIN;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {CUSTOMERS})
             INSERT INTO customers (id, account_number, name, email, created_at, updated_at)
             SELECT i, 'WB-' || printf('%07d', i),
                    CASE i % 5 WHEN 0 THEN 'Jo Smith ' WHEN 1 THEN 'Sam Okafor ' WHEN 2 THEN 'Lee Park '
                               WHEN 3 THEN 'Ann Able ' ELSE 'Kim Lee ' END || i,
                    'c' || i || '@example.com', 0, 0 FROM n;

             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {AUDIT_EVENTS})
             INSERT INTO audit_events (at, kind, result, operator, customer_id, account_number, channel, destination, code_id, detail)
             SELECT {audit_at},
                    CASE i % 20 WHEN 0 THEN 'contact_locked' WHEN 1 THEN 'customer_updated' WHEN 2 THEN 'setting_changed'
                                WHEN 3 THEN 'code_cancelled'
                                ELSE CASE i % 3 WHEN 0 THEN 'code_issued' WHEN 1 THEN 'code_sent' ELSE 'code_verify' END END,
                    CASE WHEN i % 7 = 0 THEN 'failed' WHEN i % 53 = 0 THEN 'refused' ELSE 'ok' END,
                    CASE i % 3 WHEN 0 THEN 'Ann' WHEN 1 THEN 'Bob' ELSE 'Cy' END,
                    i % {CUSTOMERS} + 1, 'WB-' || printf('%07d', i % {CUSTOMERS} + 1),
                    CASE WHEN i % 4 = 0 THEN 'sms' ELSE 'email' END, 'c…@example.com',
                    i / 4 + 1, 'wrong code, 3 attempts left'
               FROM n;

             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {DELIVERIES})
             INSERT INTO delivery_attempts (at, code_id, channel, account, recipient, status, failure_class, reply, duration_ms)
             SELECT {delivery_at},
                    CASE WHEN i % 50 = 0 THEN NULL ELSE i END,
                    CASE WHEN i % 4 = 0 THEN 'sms' ELSE 'email' END,
                    CASE WHEN i % 4 = 0 THEN 'Twilio' WHEN i % 3 = 0 THEN 'Local outbox' ELSE 'Office Gmail' END,
                    'c…@example.com',
                    CASE WHEN i % 20 = 0 THEN 'failed' ELSE 'sent' END,
                    CASE WHEN i % 20 = 0 THEN 'transient' END,
                    CASE WHEN i % 20 = 0 THEN '451 4.7.0 try again later' ELSE '250 OK' END,
                    800 FROM n;

             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {codes})
             INSERT INTO codes (id, customer_id, channel, destination, code_hash, digits, created_at, expires_at,
                                attempts, max_attempts, status, used_at, operator)
             SELECT i, i % {CUSTOMERS} + 1, 'email', 'c' || (i % {CUSTOMERS} + 1) || '@example.com', randomblob(32), 6,
                    {code_at}, {code_at} + 300000, i % 3, 5,
                    CASE i % 10 WHEN 0 THEN 'dead' WHEN 1 THEN 'superseded' WHEN 2 THEN 'cancelled'
                                WHEN 3 THEN 'pending' ELSE 'verified' END,
                    CASE WHEN i % 10 > 3 THEN {code_at} + 60000 END,
                    CASE i % 3 WHEN 0 THEN 'Ann' WHEN 1 THEN 'Bob' ELSE 'Cy' END
               FROM n;
             COMMIT;
             PRAGMA wal_checkpoint(TRUNCATE);"
        ))
        .expect("the benchmark data");
    }
    std::fs::rename(&building, path).expect("the finished file");
    for extra in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{extra}", building.display()));
    }
    println!("built in {:.1} s", t.elapsed().as_secs_f64());
}

fn database(now: i64) -> PathBuf {
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).expect("a folder for the benchmark database");
    let path = dir.join(format!(
        "desk-schema{}-gen{GENERATOR_VERSION}-codes{}.db",
        store::schema_version(),
        codes_count()
    ));
    if path.exists() {
        println!("using {}", path.display());
    } else {
        build(&path, now);
    }
    path
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn measure(name: &str, runs: usize, mut f: impl FnMut() -> usize) {
    let warm = f();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(f());
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "{name:<52} p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms  ({warm} rows)",
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        percentile(&times, 1.0)
    );
}

fn main() {
    let runs: usize = std::env::var("OTP_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let clock = ManualClock::start();
    let now = clock.now_ms();
    let path = database(now);
    let store = Store::open_with_clock(&path, Arc::new(clock.clone())).expect("the database");
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!(
            "load average {}",
            load.split_whitespace().next().unwrap_or("?")
        );
    }
    let conn = store.conn();
    let office = FixedOffset::east_opt(3600).expect("an offset");

    measure("dashboard, 30 days", runs, || {
        let d = dashboard::summary(&conn, now, &office, &DashboardRequest::default()).unwrap();
        d.days.len()
    });
    measure("dashboard, 366 days", runs.min(10), || {
        let d = dashboard::summary(
            &conn,
            now,
            &office,
            &DashboardRequest {
                days: Some(366),
                ..Default::default()
            },
        )
        .unwrap();
        d.days.len()
    });

    let page = |filter: CodeFilter| activity::codes(&conn, &filter, now).unwrap().rows.len();
    measure("activity: codes, first page, no filter", runs, || {
        page(CodeFilter::default())
    });
    measure("activity: codes, page 100", runs, || {
        page(CodeFilter {
            offset: Some(5_000),
            ..Default::default()
        })
    });
    measure("activity: codes, state dead, last 30 days", runs, || {
        page(CodeFilter {
            states: vec![CodeState::Dead],
            from: Some(now - 30 * 86_400_000),
            ..Default::default()
        })
    });
    measure("activity: codes, operator Bob, email", runs, || {
        page(CodeFilter {
            operator: Some("Bob".into()),
            channel: Some(Channel::Email),
            ..Default::default()
        })
    });
    measure(
        "activity: codes, text \"okafor 12\" (name)",
        runs.min(20),
        || {
            page(CodeFilter {
                text: Some("okafor 12".into()),
                ..Default::default()
            })
        },
    );
    measure(
        "activity: codes, text \"c12…@\" (masked contact)",
        runs.min(20),
        || {
            page(CodeFilter {
                text: Some("c1…@example".into()),
                ..Default::default()
            })
        },
    );
    measure("activity: one code's detail", runs, || {
        let d = activity::code_detail(&conn, codes_count() / 2, now).unwrap();
        d.events.len() + d.deliveries.len()
    });

    let trail = |filter: Filter| {
        let rows = audit::query(&conn, &filter).unwrap().len();
        let total = audit::count(&conn, &filter).unwrap();
        rows + total as usize
    };
    measure("audit: first page + count, no filter", runs, || {
        trail(Filter::default())
    });
    measure(
        "audit: kind code_verify, failed, + count",
        runs.min(20),
        || {
            trail(Filter {
                kinds: vec![Kind::CodeVerify],
                outcome: Some(Outcome::Failed),
                ..Default::default()
            })
        },
    );
    measure("audit: kind + channel, last 7 days, + count", runs, || {
        trail(Filter {
            kinds: vec![Kind::CodeSent],
            channel: Some(Channel::Sms),
            from: Some(now - 7 * 86_400_000),
            ..Default::default()
        })
    });
    measure("audit: one customer, + count", runs, || {
        trail(Filter {
            customer_id: Some(4242),
            ..Default::default()
        })
    });
    measure(
        "audit: text \"Bob\", last 30 days, + count",
        runs.min(20),
        || {
            trail(Filter {
                text: Some("Bob".into()),
                from: Some(now - 30 * 86_400_000),
                ..Default::default()
            })
        },
    );
    drop(conn);

    // One passphrase check, as the unlock prompt does it (on a scratch database).
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let admin_store =
        Store::open_with_clock(scratch.path().join("admin.db"), Arc::new(clock.clone()))
            .expect("a scratch database");
    admin::set(
        &mut admin_store.conn(),
        &clock,
        "bench",
        "river copper lantern",
    )
    .expect("a passphrase");
    measure("admin passphrase check (Argon2id, right)", 20, || {
        admin::verify(
            &mut admin_store.conn(),
            &clock,
            "bench",
            "river copper lantern",
        )
        .expect("the right passphrase");
        1
    });
}
