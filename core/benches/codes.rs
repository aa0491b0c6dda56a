//! One-time code throughput on a real database file (WAL, synchronous=NORMAL, as shipped).
//!
//! Budgets (docs/PERFORMANCE.md): issue+verify round trips ≥ 10,000/s (≤ 100 µs each);
//! cleanup of 1,000,000 expired codes < 1.5 s.
//!
//! Run: `cargo bench -p otp-desk-core --bench codes`

use std::sync::Arc;

use divan::Bencher;
use otp_desk_core::codes::{self, CodeKey, IssueRequest, Target};
use otp_desk_core::contact::Channel;
use otp_desk_core::{ManualClock, Store};

fn main() {
    divan::main();
}

/// Enough contacts that cooldowns and send caps never trigger: with 50,000 contacts and the
/// clock moving 200 ms per round trip, a contact comes round every 10,000 s.
const CONTACTS: i64 = 50_000;

fn office() -> (tempfile::TempDir, Store, ManualClock) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::start();
    let store =
        Store::open_with_clock(dir.path().join("bench.db"), Arc::new(clock.clone())).unwrap();
    store
        .conn()
        .execute_batch(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {CONTACTS})
             INSERT INTO customers (id, account_number, name, email, created_at, updated_at)
             SELECT i, 'WB-' || i, 'Customer ' || i, 'c' || i || '@example.com', 0, 0 FROM n;"
        ))
        .unwrap();
    (dir, store, clock)
}

/// One clerk flow: issue a code, then type what the customer reads out. Measured per round
/// trip; `right` chooses the verified path or the wrong-code path an attacker exercises.
fn round_trips(bencher: Bencher, right: bool) {
    let (_dir, store, clock) = office();
    let key = CodeKey::from_bytes([9; 32]);
    let mut next = 0i64;
    bencher.bench_local(|| {
        next = next % CONTACTS + 1;
        clock.advance_ms(200);
        let mut conn = store.conn();
        let issued = codes::issue(
            &mut conn,
            &clock,
            &key,
            &IssueRequest {
                customer_id: next,
                channel: Channel::Email,
                destination: None,
                operator: "bench",
                revealed: false,
            },
        )
        .unwrap();
        let typed: String = if right {
            issued.code.to_string()
        } else {
            issued
                .code
                .bytes()
                .map(|b| char::from(b'0' + (b - b'0' + 1) % 10))
                .collect()
        };
        let r = codes::verify(
            &mut conn,
            &clock,
            &key,
            Target::Challenge(issued.challenge_id),
            &typed,
            "bench",
        )
        .unwrap();
        assert_eq!(r.verdict.is_verified(), right);
    });
}

#[divan::bench(sample_count = 50, sample_size = 200)]
fn issue_then_verify(bencher: Bencher) {
    round_trips(bencher, true);
}

#[divan::bench(sample_count = 50, sample_size = 200)]
fn issue_then_wrong_code(bencher: Bencher) {
    round_trips(bencher, false);
}

/// `cleanup-otps` over 1,000,000 codes that expired long ago (plus the indexes that make the
/// desk fast, which the delete must maintain).
#[divan::bench(sample_count = 3, sample_size = 1)]
fn cleanup_one_million_expired(bencher: Bencher) {
    bencher
        .with_inputs(|| {
            let (dir, store, clock) = office();
            store
                .conn()
                .execute_batch(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
                     INSERT INTO codes (customer_id, channel, destination, code_hash, digits, created_at,
                                        expires_at, attempts, max_attempts, status, operator)
                     SELECT i % 50000 + 1, 'email', 'c' || (i % 50000 + 1) || '@example.com', randomblob(32), 6,
                            i * 1000, i * 1000 + 300000, 1, 5, 'verified', 'bench' FROM n;",
                )
                .unwrap();
            clock.advance_secs(400 * 24 * 3600);
            (dir, store, clock)
        })
        .bench_local_values(|(dir, store, clock)| {
            let r = codes::cleanup(&mut store.conn(), &clock, "bench", Some(1)).unwrap();
            assert_eq!(r.deleted_codes, 1_000_000);
            (dir, store)
        });
}
