//! The desk: find the customer at the counter, send a code to the contact on file, check the
//! code the customer reads out.

use std::str::FromStr;
use std::time::{Duration, Instant};

use otp_desk_core::clock::Millis;
use otp_desk_core::codes::{self, ChallengeStatus, Target, Verdict};
use otp_desk_core::contact::{mask_email, mask_phone, Channel};
use otp_desk_core::customers::{self, Customer};
use otp_desk_core::delivery::{self, Progress, SendRequest, SmsStatus};
use otp_desk_core::settings;
use serde::Serialize;
use tauri::ipc::Channel as Updates;
use tauri::State;

use super::{blocking, row_id};
use crate::error::ShellError;
use crate::state::AppState;

/// One screen of results: the clerk refines the query rather than scrolling past this.
pub const SEARCH_MAX_LIMIT: u32 = 50;
const SEARCH_DEFAULT_LIMIT: u32 = 20;

/// A customer as the desk lists it. Contacts are masked here, in Rust, so the full address
/// and number never reach the webview for a list where nobody needs them.
#[derive(Debug, Serialize)]
pub struct CustomerCard {
    id: i64,
    account_number: String,
    name: String,
    email_masked: Option<String>,
    phone_masked: Option<String>,
    has_email: bool,
    has_phone: bool,
}

impl From<Customer> for CustomerCard {
    fn from(customer: Customer) -> Self {
        // The E.164 form is the number a text message goes to, and it carries the country
        // code the clerk may need to tell two similar numbers apart.
        let phone = customer.phone_e164.as_deref().or(customer.phone.as_deref());
        Self {
            id: customer.id,
            email_masked: customer.email.as_deref().map(mask_email),
            phone_masked: phone.map(mask_phone),
            has_email: customer.email.is_some(),
            has_phone: phone.is_some(),
            account_number: customer.account_number,
            name: customer.name,
        }
    }
}

#[tauri::command]
pub async fn search_customers(
    state: State<'_, AppState>,
    query: String,
    limit: Option<u32>,
    offset: Option<u32>,
) -> Result<Vec<CustomerCard>, ShellError> {
    let (limit, offset) = search_bounds(&query, limit, offset)?;
    let store = state.store()?;
    let asked = Instant::now();
    blocking(move || {
        let started = Instant::now();
        let conn = store.conn();
        let locked = Instant::now();
        let found = customers::search(&conn, &query, limit, offset)?;
        drop(conn);
        let done = Instant::now();
        // A clerk notices a slow answer; the log says where the time went (never the query).
        if done - asked >= SLOW_SEARCH {
            tracing::info!(
                waited_for_a_thread_ms = (started - asked).as_millis() as u64,
                waited_for_the_database_ms = (locked - started).as_millis() as u64,
                searched_ms = (done - locked).as_millis() as u64,
                "a desk search was slow"
            );
        }
        Ok(found.into_iter().map(CustomerCard::from).collect())
    })
    .await
}

/// Well below what a clerk would call a lag (the budget is 50 ms from key to screen).
const SLOW_SEARCH: Duration = Duration::from_millis(30);

/// The desk asks for one screen of results.
fn search_bounds(
    query: &str,
    limit: Option<u32>,
    offset: Option<u32>,
) -> Result<(u32, u32), ShellError> {
    super::search_page(query, limit, offset, SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT)
}

#[tauri::command]
pub async fn customer_card(
    state: State<'_, AppState>,
    customer_id: i64,
) -> Result<CustomerCard, ShellError> {
    let id = row_id("customer", customer_id)?;
    let store = state.store()?;
    blocking(move || {
        customers::get(&store.conn(), id)?
            .map(CustomerCard::from)
            .ok_or_else(|| {
                ShellError::new(
                    "customer_not_found",
                    "this customer is no longer in the database; search again",
                )
            })
    })
    .await
}

fn channel_arg(channel: &str) -> Result<Channel, ShellError> {
    Channel::from_str(channel).map_err(|e| ShellError::invalid_argument(e.to_string()))
}

/// What the desk shows once a code has left. Never the code, never the full contact.
#[derive(Debug, Serialize)]
pub struct SentCode {
    challenge_id: i64,
    channel: Channel,
    sent_to: String,
    account: String,
    account_kind: String,
    /// How many digits the code has, so the entry box knows when it is complete.
    digits: u32,
    attempts_left: u32,
    expires_at: Millis,
    resend_at: Millis,
    /// SMS: what Twilio said when it took the message; later news comes as updates.
    sms_status: Option<SmsStatus>,
    /// The app's clock when the answer was made, so the page can count down without trusting
    /// that its own clock agrees to the second.
    now: Millis,
}

/// News about a code on its way, as it happens: each try and pause while sending, then,
/// for an SMS, what Twilio says about the message until it is delivered or has failed.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "update", rename_all = "snake_case")]
pub enum DeliveryUpdate {
    Delivery(Progress),
    Sms(SmsStatus),
}

#[tauri::command]
pub async fn send_code(
    state: State<'_, AppState>,
    customer_id: i64,
    channel: String,
    on_progress: Updates<DeliveryUpdate>,
) -> Result<SentCode, ShellError> {
    let id = row_id("customer", customer_id)?;
    let channel = channel_arg(&channel)?;
    let operator = state.session().operator()?;
    let store = state.store()?;
    let setup = state.delivery();
    let cached = state.cached_key();
    let secrets = state.secrets();
    let updates = on_progress.clone();
    let sent = {
        let store = store.clone();
        let setup = setup.clone();
        blocking(move || {
            let key = crate::state::load_key(cached, secrets, &store)?;
            let tell = |p: &Progress| {
                // A window that went away cannot be told; the send goes on regardless.
                let _ = updates.send(DeliveryUpdate::Delivery(p.clone()));
            };
            let report = delivery::send_code(
                &store,
                &key,
                &setup,
                &SendRequest {
                    customer_id: id,
                    channel,
                    operator: &operator,
                    account: None,
                    progress: Some(&tell),
                },
            )?;
            let (kind, policy) = {
                let conn = store.conn();
                let kind = match channel {
                    Channel::Email => delivery::accounts::get(&conn, &report.account)
                        .map(|a| a.kind.to_string())
                        .unwrap_or_default(),
                    Channel::Sms => delivery::sms_accounts::get(&conn, &report.account)
                        .map(|a| a.kind.to_string())
                        .unwrap_or_default(),
                };
                (kind, settings::load(&conn)?)
            };
            Ok(SentCode {
                challenge_id: report.challenge_id,
                channel: report.channel,
                sent_to: report.sent_to,
                account: report.account,
                account_kind: kind,
                digits: policy.code_digits,
                attempts_left: policy.max_attempts,
                expires_at: report.expires_at,
                resend_at: report.resend_at,
                sms_status: report.sms_status,
                now: store.clock().now_ms(),
            })
        })
        .await?
    };
    if sent.channel == Channel::Sms && sent.account_kind == "twilio" {
        // Twilio took the message; whether it reaches the phone is told later. The clerk can
        // type the code meanwhile, so this follows on its own and reports through the line.
        let challenge = sent.challenge_id;
        tauri::async_runtime::spawn_blocking(move || {
            let mut tell = |s: &SmsStatus| {
                let _ = on_progress.send(DeliveryUpdate::Sms(s.clone()));
            };
            if let Err(error) = delivery::track(&store, &setup, challenge, &mut tell) {
                tracing::warn!(%error, challenge, "the SMS status could not be followed");
            }
        });
    }
    Ok(sent)
}

/// The verdict as the desk renders it: the closed outcome, the sentence for the clerk, and
/// who checked it.
#[derive(Debug, Serialize)]
pub struct Checked {
    #[serde(flatten)]
    verdict: Verdict,
    verified: bool,
    explanation: String,
    challenge_id: Option<i64>,
    operator: String,
    now: Millis,
}

/// Longer than any code with spaces or dashes between its digits; anything longer was not
/// typed by a clerk.
const MAX_CODE_INPUT_CHARS: usize = 64;

#[tauri::command]
pub async fn verify_code(
    state: State<'_, AppState>,
    challenge_id: i64,
    code: String,
) -> Result<Checked, ShellError> {
    let id = row_id("code", challenge_id)?;
    if code.chars().count() > MAX_CODE_INPUT_CHARS {
        return Err(ShellError::new(
            "invalid_code_input",
            "that is far longer than a code; type the digits the customer reads out",
        ));
    }
    let operator = state.session().operator()?;
    let store = state.store()?;
    let cached = state.cached_key();
    let secrets = state.secrets();
    blocking(move || {
        let key = crate::state::load_key(cached, secrets, &store)?;
        let result = codes::verify(
            &mut store.conn(),
            store.clock(),
            &key,
            Target::Challenge(id),
            &code,
            &operator,
        )?;
        Ok(Checked {
            verified: result.verdict.is_verified(),
            explanation: result.verdict.explain(),
            verdict: result.verdict,
            challenge_id: result.challenge_id,
            operator,
            now: store.clock().now_ms(),
        })
    })
    .await
}

#[derive(Debug, Serialize)]
pub struct CodeState {
    #[serde(flatten)]
    status: ChallengeStatus,
    now: Millis,
}

#[tauri::command]
pub async fn code_status(
    state: State<'_, AppState>,
    challenge_id: i64,
) -> Result<CodeState, ShellError> {
    let id = row_id("code", challenge_id)?;
    let store = state.store()?;
    blocking(move || {
        let now = store.clock().now_ms();
        let status = codes::status(&store.conn(), id, now)?;
        Ok(CodeState { status, now })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use otp_desk_core::customers::search;

    #[test]
    fn search_bounds_take_defaults_and_refuse_what_the_desk_never_asks_for() {
        assert_eq!(search_bounds("jo", None, None).unwrap(), (20, 0));
        assert_eq!(search_bounds("", Some(50), Some(40)).unwrap(), (50, 40));
        let longest = "é".repeat(search::MAX_QUERY_CHARS);
        assert!(search_bounds(&longest, None, None).is_ok());
        for (query, limit, offset) in [
            (format!("{longest}x"), None, None),
            ("jo".to_string(), Some(0), None),
            ("jo".to_string(), Some(51), None),
            ("jo".to_string(), Some(u32::MAX), None),
            ("jo".to_string(), None, Some(search::MAX_OFFSET + 1)),
        ] {
            let error = search_bounds(&query, limit, offset).unwrap_err();
            assert_eq!(error.kind, "invalid_search", "{limit:?} {offset:?}");
            assert!(!error.message.is_empty());
        }
    }

    #[test]
    fn a_card_masks_both_contacts_and_says_which_exist() {
        let customer = Customer {
            id: 7,
            account_number: "WB-7".into(),
            name: "<b>Jo</b> Smith".into(),
            email: Some("jo.smith@example.com".into()),
            phone: Some("(415) 555-0132".into()),
            phone_e164: Some("+14155550132".into()),
            service_address: "1 Main St".into(),
            notes: "gate code 1234".into(),
            created_at: 0,
            updated_at: 0,
        };
        let card = serde_json::to_value(CustomerCard::from(customer.clone())).unwrap();
        assert_eq!(
            card,
            serde_json::json!({
                "id": 7,
                "account_number": "WB-7",
                "name": "<b>Jo</b> Smith",
                "email_masked": "jo…@example.com",
                "phone_masked": "+1 …0132",
                "has_email": true,
                "has_phone": true,
            })
        );
        let text = card.to_string();
        for private in ["jo.smith", "555", "Main St", "gate"] {
            assert!(!text.contains(private), "{private} leaked into {text}");
        }

        let bare = Customer {
            email: None,
            phone: None,
            phone_e164: None,
            ..customer
        };
        let card = serde_json::to_value(CustomerCard::from(bare)).unwrap();
        assert_eq!(card["email_masked"], serde_json::Value::Null);
        assert_eq!(card["phone_masked"], serde_json::Value::Null);
        assert_eq!(card["has_email"], false);
        assert_eq!(card["has_phone"], false);
    }
}
