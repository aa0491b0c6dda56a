//! Two desks (here: eight threads, each with its own connection to one file) racing on the
//! same code can never spend more attempts than allowed or verify it twice.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;

use common::{issue_on, verify_on, wrong, Desk};
use otp_desk_core::codes::{self, Target, Verdict};
use otp_desk_core::contact::Channel;

const THREADS: usize = 8;

fn race(desk: &Desk, challenge: i64, typed: &str, rounds: usize) -> Vec<Verdict> {
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let store = desk.second_desk();
            let key = desk.key.clone();
            let barrier = barrier.clone();
            let typed = typed.to_string();
            thread::spawn(move || {
                barrier.wait();
                (0..rounds)
                    .map(|_| {
                        verify_on(&store, &key, Target::Challenge(challenge), &typed, "desk")
                            .unwrap()
                            .verdict
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

fn issue(desk: &Desk) -> codes::Issued {
    let id = desk.customer("WB-R", "Race Case", Some("race@example.com"), None);
    desk.send(id, Channel::Email).unwrap()
}

#[test]
fn concurrent_wrong_codes_never_exceed_the_attempt_limit() {
    let desk = Desk::new();
    let issued = issue(&desk);
    let verdicts = race(&desk, issued.challenge_id, &wrong(&issued.code), 4);
    assert_eq!(verdicts.len(), THREADS * 4);
    let wrong_count = verdicts
        .iter()
        .filter(|v| matches!(v, Verdict::WrongCode { .. }))
        .count();
    let dead = verdicts
        .iter()
        .filter(|v| **v == Verdict::TooManyAttempts)
        .count();
    // Four attempts say "wrong, n left", the fifth kills the code, everything after is refused.
    assert_eq!(wrong_count, 4);
    assert_eq!(dead, THREADS * 4 - 4);
    let mut left: Vec<u32> = verdicts
        .iter()
        .filter_map(|v| match v {
            Verdict::WrongCode { attempts_left } => Some(*attempts_left),
            _ => None,
        })
        .collect();
    left.sort();
    assert_eq!(left, [1, 2, 3, 4], "each attempt was counted exactly once");
    let attempts: i64 = desk
        .store
        .conn()
        .query_row(
            "SELECT attempts FROM codes WHERE id = ?1",
            [issued.challenge_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(attempts, 5);
}

#[test]
fn concurrent_right_codes_verify_exactly_once() {
    let desk = Desk::new();
    let issued = issue(&desk);
    let verdicts = race(&desk, issued.challenge_id, &issued.code, 2);
    let verified = verdicts.iter().filter(|v| v.is_verified()).count();
    let used = verdicts
        .iter()
        .filter(|v| **v == Verdict::AlreadyUsed)
        .count();
    assert_eq!(verified, 1);
    assert_eq!(used, THREADS * 2 - 1);
}

#[test]
fn concurrent_issues_leave_exactly_one_pending_code() {
    let desk = Desk::new();
    let id = desk.customer("WB-S", "Sam Race", Some("sam@example.com"), None);
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let store = desk.second_desk();
            let key = desk.key.clone();
            let barrier = barrier.clone();
            thread::spawn(move || {
                barrier.wait();
                issue_on(&store, &key, id, Channel::Email, "desk").is_ok()
            })
        })
        .collect();
    let ok = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|x| *x)
        .count();
    // The cooldown lets exactly one through; the rest are told when to retry.
    assert_eq!(ok, 1);
    let pending: i64 = desk
        .store
        .conn()
        .query_row(
            "SELECT count(*) FROM codes WHERE status = 'pending'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pending, 1);
}
