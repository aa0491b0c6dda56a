//! The one-time code policy as the desk lives it (DESIGN.md section 3), on real database files.

mod common;

use common::{wrong, Desk};
use otp_desk_core::codes::{self, CodeError, IssueRequest, Target, Verdict};
use otp_desk_core::contact::Channel;
use otp_desk_core::settings;
use otp_desk_core::Clock;

fn jo(desk: &Desk) -> i64 {
    desk.customer(
        "WB-A",
        "Jo Smith",
        Some("jo.smith@example.com"),
        Some("(415) 555-0132"),
    )
}

#[test]
fn clerk_sends_code_and_customer_is_verified() {
    let desk = Desk::new();
    let id = jo(&desk);
    let issued = desk.send(id, Channel::Email).unwrap();
    assert_eq!(issued.code.len(), 6);
    assert_eq!(issued.masked_destination, "jo…@example.com");
    assert_eq!(issued.expires_at, desk.clock.now_ms() + 5 * 60_000);
    desk.clock.advance_secs(40);
    let spaced = format!("{} {}", &issued.code[..3], &issued.code[3..]);
    let verdict = desk.check(issued.challenge_id, &spaced);
    assert_eq!(
        verdict,
        Verdict::Verified {
            at: desk.clock.now_ms()
        }
    );
}

#[test]
fn customer_can_be_verified_by_sms_to_the_number_on_file() {
    let desk = Desk::new();
    let id = jo(&desk);
    let issued = desk.send(id, Channel::Sms).unwrap();
    assert_eq!(issued.destination, "+14155550132");
    assert_eq!(issued.masked_destination, "+1 …0132");
    // The clerk may also answer by contact instead of challenge id, in any formatting.
    let r = desk
        .verify(Target::Destination("415-555-0132"), &issued.code)
        .unwrap();
    assert!(r.verdict.is_verified());
    assert_eq!(r.customer_id, Some(id));
}

#[test]
fn verified_code_can_never_verify_again() {
    let desk = Desk::new();
    let issued = desk.send(jo(&desk), Channel::Email).unwrap();
    assert!(desk.check(issued.challenge_id, &issued.code).is_verified());
    assert_eq!(
        desk.check(issued.challenge_id, &issued.code),
        Verdict::AlreadyUsed
    );
}

#[test]
fn wrong_codes_count_down_and_the_fifth_kills_the_code() {
    let desk = Desk::new();
    let issued = desk.send(jo(&desk), Channel::Email).unwrap();
    let bad = wrong(&issued.code);
    for left in (1..=4).rev() {
        assert_eq!(
            desk.check(issued.challenge_id, &bad),
            Verdict::WrongCode {
                attempts_left: left
            }
        );
    }
    assert_eq!(
        desk.check(issued.challenge_id, &bad),
        Verdict::TooManyAttempts
    );
    // Dead means dead, even for the right code.
    assert_eq!(
        desk.check(issued.challenge_id, &issued.code),
        Verdict::TooManyAttempts
    );
}

#[test]
fn sixth_wrong_code_is_refused_even_after_restart() {
    let mut desk = Desk::new();
    let issued = desk.send(jo(&desk), Channel::Email).unwrap();
    let bad = wrong(&issued.code);
    for _ in 0..4 {
        desk.check(issued.challenge_id, &bad);
        desk.restart();
    }
    assert_eq!(
        desk.check(issued.challenge_id, &bad),
        Verdict::TooManyAttempts
    );
    desk.restart();
    assert_eq!(
        desk.check(issued.challenge_id, &issued.code),
        Verdict::TooManyAttempts
    );
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
fn right_code_on_the_last_attempt_still_verifies() {
    let desk = Desk::new();
    let issued = desk.send(jo(&desk), Channel::Email).unwrap();
    for _ in 0..4 {
        desk.check(issued.challenge_id, &wrong(&issued.code));
    }
    assert!(desk.check(issued.challenge_id, &issued.code).is_verified());
}

#[test]
fn code_expires_after_its_lifetime() {
    let desk = Desk::new();
    let issued = desk.send(jo(&desk), Channel::Email).unwrap();
    desk.clock.advance_secs(5 * 60 - 1);
    let status =
        codes::status(&desk.store.conn(), issued.challenge_id, desk.clock.now_ms()).unwrap();
    assert_eq!(status.state, "pending");
    desk.clock.advance_secs(1);
    assert_eq!(
        desk.check(issued.challenge_id, &issued.code),
        Verdict::Expired
    );
    let status =
        codes::status(&desk.store.conn(), issued.challenge_id, desk.clock.now_ms()).unwrap();
    assert_eq!(status.state, "expired");
}

#[test]
fn shorter_policy_lifetime_applies_to_new_codes() {
    let desk = Desk::new();
    settings::set(
        &mut desk.store.conn(),
        desk.store.clock(),
        "admin",
        "code_lifetime_minutes",
        "1",
    )
    .unwrap();
    let issued = desk.send(jo(&desk), Channel::Email).unwrap();
    desk.clock.advance_secs(61);
    assert_eq!(
        desk.check(issued.challenge_id, &issued.code),
        Verdict::Expired
    );
}

#[test]
fn a_new_code_voids_the_earlier_one() {
    let desk = Desk::new();
    let id = jo(&desk);
    let first = desk.send(id, Channel::Email).unwrap();
    desk.clock.advance_secs(61);
    let second = desk.send(id, Channel::Email).unwrap();
    assert_eq!(
        desk.check(first.challenge_id, &first.code),
        Verdict::NoActiveCode
    );
    let r = desk
        .verify(Target::Destination("jo.smith@EXAMPLE.com"), &second.code)
        .unwrap();
    assert!(r.verdict.is_verified());
    assert_eq!(r.challenge_id, Some(second.challenge_id));
}

#[test]
fn resend_waits_for_the_cooldown() {
    let desk = Desk::new();
    let id = jo(&desk);
    let first = desk.send(id, Channel::Email).unwrap();
    desk.clock.advance_secs(59);
    match desk.send(id, Channel::Email) {
        Err(CodeError::Cooldown { retry_at }) => assert_eq!(retry_at, first.resend_at),
        other => panic!("expected cooldown, got {other:?}"),
    }
    desk.clock.advance_secs(1);
    desk.send(id, Channel::Email).unwrap();
}

#[test]
fn limits_count_a_mailbox_once_whatever_the_case_of_its_address() {
    let desk = Desk::new();
    let id = desk.customer("WB-C", "Cas Case", Some("Cas.Case@example.com"), None);
    let first = desk.send(id, Channel::Email).unwrap();
    assert_eq!(
        first.destination, "Cas.Case@example.com",
        "delivered as written on file"
    );
    desk.store
        .conn()
        .execute(
            "UPDATE customers SET email = 'cas.case@example.com' WHERE id = ?1",
            [id],
        )
        .unwrap();
    assert!(matches!(
        desk.send(id, Channel::Email),
        Err(CodeError::Cooldown { .. })
    ));
    let r = desk
        .verify(Target::Destination("CAS.CASE@example.com"), &first.code)
        .unwrap();
    assert!(r.verdict.is_verified());
}

#[test]
fn cooldown_is_per_contact_not_per_customer() {
    let desk = Desk::new();
    let id = jo(&desk);
    desk.send(id, Channel::Email).unwrap();
    // Switching channel is allowed at once: it is a different contact.
    desk.send(id, Channel::Sms).unwrap();
}

#[test]
fn failed_delivery_frees_the_clerk_to_retry_at_once() {
    let desk = Desk::new();
    let id = jo(&desk);
    let first = desk.send(id, Channel::Email).unwrap();
    assert!(codes::cancel(
        &mut desk.store.conn(),
        desk.store.clock(),
        first.challenge_id,
        "Ann",
        "SMTP 421"
    )
    .unwrap());
    assert_eq!(
        desk.check(first.challenge_id, &first.code),
        Verdict::NoActiveCode
    );
    desk.send(id, Channel::Email).unwrap();
}

#[test]
fn five_codes_in_ten_minutes_is_the_cap() {
    let desk = Desk::new();
    let id = jo(&desk);
    let start = desk.clock.now_ms();
    for _ in 0..5 {
        desk.send(id, Channel::Email).unwrap();
        desk.clock.advance_secs(61);
    }
    match desk.send(id, Channel::Email) {
        Err(CodeError::SendCap {
            limit: 5, retry_at, ..
        }) => assert_eq!(retry_at, start + 10 * 60_000),
        other => panic!("expected the 10-minute cap, got {other:?}"),
    }
    desk.clock
        .advance_ms(start + 10 * 60_000 - desk.clock.now_ms());
    desk.send(id, Channel::Email).unwrap();
}

#[test]
fn twenty_codes_a_day_is_the_cap() {
    let desk = Desk::new();
    let id = jo(&desk);
    for _ in 0..20 {
        desk.send(id, Channel::Email).unwrap();
        desk.clock.advance_secs(3 * 60);
    }
    assert!(matches!(
        desk.send(id, Channel::Email),
        Err(CodeError::SendCap { limit: 20, .. })
    ));
    desk.clock.advance_secs(24 * 3600);
    desk.send(id, Channel::Email).unwrap();
}

#[test]
fn a_new_code_does_not_reset_the_failure_count_and_ten_failures_lock_the_contact() {
    let desk = Desk::new();
    let id = jo(&desk);
    let first = desk.send(id, Channel::Email).unwrap();
    for _ in 0..5 {
        desk.check(first.challenge_id, &wrong(&first.code));
    }
    desk.clock.advance_secs(61);
    let second = desk.send(id, Channel::Email).unwrap();
    for left in (2..=4).rev() {
        assert_eq!(
            desk.check(second.challenge_id, &wrong(&second.code)),
            Verdict::WrongCode {
                attempts_left: left
            }
        );
    }
    assert_eq!(
        desk.check(second.challenge_id, &wrong(&second.code)),
        Verdict::WrongCode { attempts_left: 1 }
    );
    // The tenth consecutive failure locks for one minute.
    let lock_start = desk.clock.now_ms();
    let v = desk.check(second.challenge_id, &wrong(&second.code));
    assert_eq!(
        v,
        Verdict::Locked {
            until: lock_start + 60_000
        }
    );
    // While locked: no verification (not even a right code) and no new code.
    desk.clock.advance_secs(30);
    let third = desk.send(id, Channel::Email);
    assert!(matches!(third, Err(CodeError::Locked { until }) if until == lock_start + 60_000));
    // After the lock, the next failure locks again for twice as long.
    desk.clock.advance_secs(31);
    let third = desk.send(id, Channel::Email).unwrap();
    let again = desk.clock.now_ms();
    assert_eq!(
        desk.check(third.challenge_id, &wrong(&third.code)),
        Verdict::Locked {
            until: again + 120_000
        }
    );
    assert_eq!(
        desk.check(third.challenge_id, &third.code),
        Verdict::Locked {
            until: again + 120_000
        }
    );
    // Success resets everything.
    desk.clock.advance_secs(121);
    assert!(desk.check(third.challenge_id, &third.code).is_verified());
    desk.clock.advance_secs(61);
    let fourth = desk.send(id, Channel::Email).unwrap();
    assert_eq!(
        desk.check(fourth.challenge_id, &wrong(&fourth.code)),
        Verdict::WrongCode { attempts_left: 4 }
    );
}

#[test]
fn lock_backoff_is_capped_at_one_hour() {
    let desk = Desk::new();
    let id = jo(&desk);
    let mut last = Verdict::NoActiveCode;
    for _ in 0..20 {
        let issued = loop {
            match desk.send(id, Channel::Email) {
                Ok(i) => break i,
                Err(CodeError::Locked { until })
                | Err(CodeError::Cooldown { retry_at: until })
                | Err(CodeError::SendCap {
                    retry_at: until, ..
                }) => desk.clock.advance_ms(until - desk.clock.now_ms() + 1),
                Err(e) => panic!("{e}"),
            }
        };
        last = desk.check(issued.challenge_id, &wrong(&issued.code));
    }
    match last {
        Verdict::Locked { until } => assert_eq!(until - desk.clock.now_ms(), 3_600_000),
        other => panic!("expected a lock, got {other:?}"),
    }
}

#[test]
fn lock_survives_a_restart() {
    let mut desk = Desk::new();
    let id = jo(&desk);
    for round in 0..2 {
        if round > 0 {
            desk.clock.advance_secs(61);
        }
        let issued = desk.send(id, Channel::Email).unwrap();
        for _ in 0..5 {
            desk.check(issued.challenge_id, &wrong(&issued.code));
        }
    }
    desk.restart();
    assert!(matches!(
        desk.send(id, Channel::Email),
        Err(CodeError::Locked { .. })
    ));
}

#[test]
fn typing_mistakes_cost_no_attempt() {
    let desk = Desk::new();
    let issued = desk.send(jo(&desk), Channel::Email).unwrap();
    let verify = |typed: &str| desk.verify(Target::Challenge(issued.challenge_id), typed);
    assert!(matches!(verify(""), Err(CodeError::EmptyInput)));
    assert!(matches!(verify("12a456"), Err(CodeError::NotDigits)));
    assert!(matches!(
        verify("12345"),
        Err(CodeError::WrongLength {
            expected: 6,
            got: 5
        })
    ));
    assert!(matches!(
        verify(&"9".repeat(1 << 20)),
        Err(CodeError::NotDigits)
    ));
    assert!(verify(&issued.code).unwrap().verdict.is_verified());
}

#[test]
fn codes_go_only_to_the_contact_on_file() {
    let desk = Desk::new();
    let id = jo(&desk);
    let no_phone = desk.customer("WB-B", "Bo Lee", Some("bo@example.com"), None);
    let ask = |customer_id, channel, destination| {
        codes::issue(
            &mut desk.store.conn(),
            desk.store.clock(),
            &desk.key,
            &IssueRequest {
                customer_id,
                channel,
                destination,
                operator: "Ann",
                revealed: false,
            },
        )
    };
    assert!(matches!(
        ask(id, Channel::Email, Some("attacker@example.net")),
        Err(CodeError::NotCustomersContact { .. })
    ));
    assert!(matches!(
        ask(no_phone, Channel::Sms, None),
        Err(CodeError::NoContact { .. })
    ));
    assert!(matches!(
        ask(999, Channel::Email, None),
        Err(CodeError::CustomerNotFound(999))
    ));
    let huge = "a".repeat(1 << 20);
    for hostile in [
        "jo.smith@example.com\r\nBcc: x@y.z",
        "<script>@x.com",
        huge.as_str(),
    ] {
        assert!(
            ask(id, Channel::Email, Some(hostile)).is_err(),
            "{hostile:?}"
        );
    }
    // The same contact written differently is still the contact on file.
    ask(id, Channel::Email, Some(" jo.smith@EXAMPLE.COM ")).unwrap();
}

#[test]
fn operator_is_required_and_checked() {
    let desk = Desk::new();
    let id = jo(&desk);
    for op in ["", "   ", "ann\r\nroot", &"x".repeat(1000)] {
        let r = codes::issue(
            &mut desk.store.conn(),
            desk.store.clock(),
            &desk.key,
            &IssueRequest {
                customer_id: id,
                channel: Channel::Email,
                destination: None,
                operator: op,
                revealed: false,
            },
        );
        assert!(matches!(r, Err(CodeError::Operator(_))), "{op:?}");
    }
}

#[test]
fn verifying_with_nothing_sent_says_so() {
    let desk = Desk::new();
    jo(&desk);
    let r = desk
        .verify(Target::Destination("jo.smith@example.com"), "123456")
        .unwrap();
    assert_eq!(r.verdict, Verdict::NoActiveCode);
    assert_eq!(desk.check(12345, "123456"), Verdict::NoActiveCode);
}

#[test]
fn each_verdict_tells_the_clerk_what_to_do_next() {
    let all = [
        Verdict::Verified { at: 0 },
        Verdict::WrongCode { attempts_left: 1 },
        Verdict::Expired,
        Verdict::TooManyAttempts,
        Verdict::Locked { until: 0 },
        Verdict::NoActiveCode,
        Verdict::AlreadyUsed,
    ];
    for v in all {
        let text = v.explain();
        assert!(
            text.starts_with(if v.is_verified() {
                "VERIFIED"
            } else {
                "NOT VERIFIED"
            }),
            "{text}"
        );
    }
    assert!(Verdict::WrongCode { attempts_left: 1 }
        .explain()
        .contains("1 attempt left"));
    let json = serde_json::to_value(Verdict::WrongCode { attempts_left: 3 }).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"outcome": "wrong_code", "attempts_left": 3})
    );
}
