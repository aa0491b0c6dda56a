//! After a text message is handed over: what its status means for the desk, following it
//! until the phone network says delivered or not (`track`), and the admin's test SMS.
//!
//! Twilio reports a message as queued, sending, sent, then delivered or undelivered (or
//! failed). The desk asks every `SmsTiming::poll_every` for at most `SmsTiming::track_for`,
//! shows each change, and keeps the last answer on the delivery record. When Twilio cannot
//! be asked or has not answered finally in time, tracking ends as `unconfirmed`: the code
//! was sent and stays valid either way.

use std::time::Instant;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::audit::{self, Event};
use crate::codes::CodeError;
use crate::contact::{self, Channel};
use crate::settings;
use crate::Store;

use super::send::{elapsed_ms, render_error, sent_or_failed, SendError, Step, TestReport};
use super::sms_accounts::{self, SmsAccount, SmsAccountKind};
use super::template::{self, Vars};
use super::transport::{Setup, SmsTiming, SmsTransport};
use super::twilio::{self, MessageState, Twilio};
use super::{attempts, DeliveryError, FailureClass, Message};

/// Where a text message is, in the words the desk shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsState {
    /// Twilio has it and will send it shortly.
    Queued,
    /// Twilio is handing it to the phone network.
    Sending,
    /// The phone network has it; the phone has not confirmed yet.
    Sent,
    Delivered,
    Undelivered,
    Failed,
    /// Tracking stopped without a final answer (time up, or Twilio could not be asked).
    Unconfirmed,
}

impl SmsState {
    /// Twilio's status names, mapped onto the desk's.
    pub fn from_twilio(status: &str) -> Self {
        match status.trim().to_ascii_lowercase().as_str() {
            "accepted" | "scheduled" | "queued" => SmsState::Queued,
            "sending" => SmsState::Sending,
            "delivered" | "read" => SmsState::Delivered,
            "undelivered" | "partially_delivered" => SmsState::Undelivered,
            "failed" | "canceled" => SmsState::Failed,
            _ => SmsState::Sent,
        }
    }

    /// No later answer will change it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            SmsState::Delivered | SmsState::Undelivered | SmsState::Failed
        )
    }
}

/// A message's status for the desk: the state, Twilio's error code if any, and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsStatus {
    pub state: SmsState,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub error_code: Option<u32>,
    pub message: String,
}

impl SmsStatus {
    /// What a provider's status (and error code) means.
    pub fn from_provider(status: &str, error_code: Option<u32>) -> Self {
        let state = SmsState::from_twilio(status);
        let reason = error_code.and_then(twilio::delivery_error_sentence);
        let message = match state {
            SmsState::Queued => "Twilio has the message and is about to send it.".to_string(),
            SmsState::Sending => "Twilio is handing the message to the phone network.".into(),
            SmsState::Sent => {
                "The phone network has the message; waiting for the phone to confirm.".into()
            }
            SmsState::Delivered => "Delivered to the customer's phone.".into(),
            SmsState::Undelivered => reason
                .unwrap_or("The phone network could not deliver the message. Try again later, or send the code by email.")
                .into(),
            SmsState::Failed => reason
                .unwrap_or("Twilio could not send the message. Try again, or send the code by email.")
                .into(),
            SmsState::Unconfirmed => String::new(),
        };
        let message = match (error_code, state.is_final() && state != SmsState::Delivered) {
            (Some(code), true) => format!("{message} (Twilio error {code})"),
            _ => message,
        };
        Self {
            state,
            is_final: state.is_final(),
            error_code,
            message,
        }
    }

    /// The status right after an account took the message.
    pub fn on_hand_over(account: &SmsAccount, provider_status: &str) -> Self {
        match account.kind {
            SmsAccountKind::Console => Self::console(),
            SmsAccountKind::Twilio => Self::from_provider(provider_status, None),
        }
    }

    fn console() -> Self {
        Self {
            state: SmsState::Delivered,
            is_final: true,
            error_code: None,
            message: "Printed to the console (development only); nothing was sent.".into(),
        }
    }

    fn unconfirmed(last: &SmsStatus, why: String) -> Self {
        Self {
            state: SmsState::Unconfirmed,
            is_final: false,
            error_code: last.error_code,
            message: format!(
                "{why} Twilio last said: {}. The code was sent and stays valid; if the customer has no text in a minute, send it by email.",
                serde_json::to_value(last.state)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    #[error("code {0} was not sent by SMS, so there is nothing to follow")]
    NotSent(i64),
    #[error("the delivery record could not be read or saved: {0}")]
    Storage(#[from] rusqlite::Error),
}

/// Asks Twilio about `sid` until a final answer or `timing.track_for` has passed. `changed`
/// hears each new status (with Twilio's own words, for the record) and the end.
fn poll(
    twilio: &Twilio,
    sid: &str,
    mut last: SmsStatus,
    timing: SmsTiming,
    changed: &mut dyn FnMut(&SmsStatus, Option<&MessageState>),
) -> SmsStatus {
    let deadline = Instant::now() + timing.track_for;
    while !last.is_final {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let end = SmsStatus::unconfirmed(
                &last,
                format!(
                    "Twilio has not confirmed delivery within {} s.",
                    timing.track_for.as_secs_f32().round()
                ),
            );
            changed(&end, None);
            return end;
        }
        std::thread::sleep(timing.poll_every.min(left));
        match twilio.fetch(sid) {
            Ok(state) => {
                let now = SmsStatus::from_provider(&state.status, state.error_code);
                if now != last {
                    changed(&now, Some(&state));
                    last = now;
                }
            }
            Err(e) => {
                let end = SmsStatus::unconfirmed(
                    &last,
                    format!("OTP Desk could not ask Twilio for the status: {e}."),
                );
                changed(&end, None);
                return end;
            }
        }
    }
    last
}

/// Follows the text message that delivered code `challenge_id`: reports its status now, then
/// each change, until it is final or `setup.sms.track_for` has passed, keeping Twilio's last
/// answer on the delivery record. Returns the last status. Errors only when there is no such
/// message or the record cannot be read; Twilio failing to answer ends as `unconfirmed`.
pub fn track(
    store: &Store,
    setup: &Setup,
    challenge_id: i64,
    on_status: &mut dyn FnMut(&SmsStatus),
) -> Result<SmsStatus, TrackError> {
    let attempt = attempts::last_sent(&store.conn(), challenge_id)?
        .filter(|a| a.channel == Channel::Sms.as_str())
        .ok_or(TrackError::NotSent(challenge_id))?;
    let account = sms_accounts::get(&store.conn(), &attempt.account);
    let first = match &account {
        Ok(a) if a.kind == SmsAccountKind::Console => SmsStatus::console(),
        _ => SmsStatus::from_provider(&attempt.provider_status, attempt.provider_error),
    };
    on_status(&first);
    if first.is_final {
        return Ok(first);
    }
    let transport = account
        .map_err(|e| e.to_string())
        .and_then(|a| SmsTransport::for_account(&a, setup).map_err(|e| e.to_string()));
    let twilio = match transport {
        Ok(SmsTransport::Twilio(t)) => t,
        Ok(SmsTransport::Console { .. }) => return Ok(first),
        Err(why) => {
            let end = SmsStatus::unconfirmed(&first, format!("The status cannot be asked: {why}."));
            on_status(&end);
            return Ok(end);
        }
    };
    let mut stored = Ok(());
    let last = poll(
        &twilio,
        &attempt.provider_id,
        first,
        setup.sms,
        &mut |status, state| {
            if let Some(state) = state {
                if stored.is_ok() {
                    stored = attempts::set_provider_status(
                        &store.conn(),
                        store.clock(),
                        attempt.id,
                        &state.status,
                        state.error_code,
                    );
                }
            }
            on_status(status);
        },
    );
    stored?;
    Ok(last)
}

/// The class a test SMS's failed number check gets: a valid number that cannot take texts,
/// or no valid number at all.
fn number_refusal(input: &str, region: phonenumber::country::Id) -> FailureClass {
    if contact::sender_number(input, region).is_ok() {
        FailureClass::NotMobile
    } else {
        FailureClass::InvalidNumber
    }
}

/// Sends a sample text message (sample values, code 123456, never a real code) through an
/// SMS account, reporting each step with its timing: account, number, render, request and
/// (for Twilio) status. The message is recorded as a delivery attempt with no code id.
pub fn send_test_sms(
    store: &Store,
    setup: &Setup,
    operator: &str,
    account_name: &str,
    to: &str,
) -> Result<TestReport, SendError> {
    let operator = audit::operator_name(operator).map_err(CodeError::from)?;
    let mut steps = Vec::new();
    let total = Instant::now();
    let step = |steps: &mut Vec<Step>, name: &'static str, ok: bool, detail: String, t: Instant| {
        steps.push(Step {
            step: name,
            ok,
            detail,
            duration_ms: elapsed_ms(t),
        })
    };

    let t = Instant::now();
    let account = sms_accounts::get(&store.conn(), account_name)?;
    step(
        &mut steps,
        "account",
        true,
        format!(
            "{} ({}) → {}",
            account.name,
            account.kind,
            account.destination()
        ),
        t,
    );

    let t = Instant::now();
    let s = settings::load(&store.conn()).map_err(CodeError::from)?;
    let number = match contact::sms_destination(to, s.region()) {
        Ok(n) => n,
        Err(e) => {
            // Refused at the desk: no request is made, so there is no delivery to record.
            let error = DeliveryError::new(number_refusal(to, s.region()), e.to_string(), &[])
                .on(Channel::Sms);
            step(&mut steps, "number", false, error.to_string(), t);
            audit::record(
                &store.conn(),
                store.clock(),
                &Event::new(audit::Kind::CodeSent, audit::Outcome::Refused, &operator).detail(
                    format!(
                        "test sms via {} refused: {}",
                        account.name,
                        error.class.as_str()
                    ),
                ),
            )?;
            return Ok(TestReport {
                account: account.name,
                steps,
                failure: Some(error),
            });
        }
    };
    let masked = contact::mask(Channel::Sms, &number);
    step(
        &mut steps,
        "number",
        true,
        format!("{masked}: a valid number that can take text messages"),
        t,
    );

    let t = Instant::now();
    let mut provider = (String::new(), String::new());
    let mut final_status: Option<SmsStatus> = None;
    let run = (|| -> Result<(), (&'static str, DeliveryError)> {
        let templates = template::load(&store.conn()).map_err(|e| ("render", render_error(e)))?;
        let text = template::render_sms(&templates, &Vars::sample(&s.company_name))
            .map_err(|e| ("render", render_error(e)))?;
        let text = Zeroizing::new(format!("OTP Desk test message: {}", text.as_str()));
        let size = super::segments::count(&text);
        step(
            &mut steps,
            "render",
            true,
            format!(
                "{} characters, {} text message(s) ({:?}), sample values",
                size.characters, size.segments, size.encoding
            ),
            t,
        );
        let msg = Message {
            to: number.clone(),
            masked_to: masked.clone(),
            subject: String::new(),
            text,
            html: Zeroizing::new(String::new()),
        };
        let t = Instant::now();
        let transport = SmsTransport::for_account(&account, setup)
            .map_err(|e| ("request", e.on(Channel::Sms)))?;
        let handed = transport.send(&msg).map_err(|e| ("request", e))?;
        step(
            &mut steps,
            "request",
            true,
            format!("{}: {}", handed.place, handed.reply),
            t,
        );
        provider = (handed.provider_id.clone(), handed.status.clone());
        let SmsTransport::Twilio(twilio) = &transport else {
            return Ok(());
        };
        let t = Instant::now();
        let last = poll(
            twilio,
            &handed.provider_id,
            SmsStatus::from_provider(&handed.status, None),
            setup.sms,
            &mut |_, state| {
                if let Some(state) = state {
                    provider.1 = state.status.clone();
                }
            },
        );
        final_status = Some(last.clone());
        if matches!(last.state, SmsState::Undelivered | SmsState::Failed) {
            return Err((
                "status",
                DeliveryError::new(FailureClass::Undelivered, last.message, &[]).on(Channel::Sms),
            ));
        }
        step(&mut steps, "status", true, last.message, t);
        Ok(())
    })();
    let failure = match run {
        Ok(()) => None,
        Err((name, e)) => {
            step(&mut steps, name, false, e.to_string(), t);
            Some(e)
        }
    };

    let conn = store.conn();
    let attempt = attempts::record(
        &conn,
        store.clock(),
        &attempts::Attempt {
            code_id: None,
            channel: Channel::Sms,
            account: &account.name,
            masked_recipient: &masked,
            // A message Twilio took is "sent" even when the network then lost it; the
            // provider status says what became of it.
            failure: failure
                .as_ref()
                .filter(|e| e.class != FailureClass::Undelivered)
                .map(|e| e.class),
            reply: failure
                .as_ref()
                .map(|e| e.detail.as_str())
                .unwrap_or("test sms handed over"),
            duration_ms: elapsed_ms(total),
            provider_id: &provider.0,
            provider_status: &provider.1,
        },
    )?;
    if let Some(code) = final_status.as_ref().and_then(|s| s.error_code) {
        attempts::set_provider_status(&conn, store.clock(), attempt, &provider.1, Some(code))?;
    }
    audit::record(
        &conn,
        store.clock(),
        &Event::new(
            audit::Kind::CodeSent,
            sent_or_failed(failure.is_some()),
            &operator,
        )
        .contact(Channel::Sms, &number)
        .detail(match &failure {
            None => format!("test sms via {}", account.name),
            Some(e) => format!("test sms via {} failed: {}", account.name, e.class.as_str()),
        }),
    )?;
    Ok(TestReport {
        account: account.name,
        steps,
        failure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_statuses_map_onto_the_desks() {
        for (twilio, state) in [
            ("accepted", SmsState::Queued),
            ("queued", SmsState::Queued),
            ("sending", SmsState::Sending),
            ("sent", SmsState::Sent),
            ("delivered", SmsState::Delivered),
            ("undelivered", SmsState::Undelivered),
            ("failed", SmsState::Failed),
            ("canceled", SmsState::Failed),
            ("something-new", SmsState::Sent),
        ] {
            assert_eq!(SmsState::from_twilio(twilio), state, "{twilio}");
        }
    }

    #[test]
    fn a_final_failure_says_why_with_the_code() {
        let s = SmsStatus::from_provider("undelivered", Some(30003));
        assert!(s.is_final);
        assert!(s.message.contains("switched off"), "{}", s.message);
        assert!(s.message.contains("30003"), "{}", s.message);
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["state"], "undelivered");
        assert_eq!(v["final"], true);
        assert_eq!(v["error_code"], 30003);
        let unknown = SmsStatus::from_provider("failed", Some(39999));
        assert!(
            unknown.message.contains("Twilio could not send"),
            "{}",
            unknown.message
        );
    }
}
