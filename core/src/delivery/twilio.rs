//! Text messages through Twilio's Messages API, exactly as Twilio documents it:
//!
//! - send: `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP basic auth with
//!   the account SID and auth token, form fields `To`, `From` or `MessagingServiceSid`, `Body`;
//!   Twilio answers 201 with the Message resource (`sid`, `status`, …);
//! - status: `GET {base}/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json`;
//! - errors: a JSON body `{"code", "message", "more_info", "status"}`, classified once here.
//!
//! Over the core's one HTTP client (`http`: reqwest, rustls with ring, the OS certificate
//! store, one total timeout per request, no redirects).
//!
//! No secret leaves here: the token is only in the Authorization header (which reqwest marks
//! sensitive), every error detail is scrubbed of it, and the recipient's number is masked in
//! what Twilio's error messages quote. Twilio's answers echo the message body (with the
//! code), so only the fields named below are ever read from them.

use std::fmt;
use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use zeroize::Zeroizing;

use super::http::{self, describe as chain, io_timed_out as is_timeout, tls_failed};
use super::sms_accounts::SmsAccount;
use super::{DeliveryError, FailureClass};
use crate::contact::Channel;

/// An answer larger than this is not a Message resource.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// A built HTTP client and the timeout it was built with, shared by clones of `Setup`, so a
/// desk's sends and status polls reuse one connection pool.
#[derive(Default)]
pub struct Clients {
    client: Mutex<Option<(Duration, http::Client)>>,
}

impl fmt::Debug for Clients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("twilio::Clients")
    }
}

fn config_error(detail: String) -> DeliveryError {
    DeliveryError::new(FailureClass::Configuration, detail, &[]).on(Channel::Sms)
}

impl Clients {
    /// The client for `timeout`, built on first use.
    pub fn get(&self, timeout: Duration) -> Result<http::Client, DeliveryError> {
        let mut slot = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((t, c)) = slot.as_ref() {
            if *t == timeout {
                return Ok(c.clone());
            }
        }
        let client = http::client(timeout)
            .map_err(|e| config_error(format!("cannot start the SMS sender: {e}")))?;
        *slot = Some((timeout, client.clone()));
        Ok(client)
    }
}

/// One Twilio account, ready to send.
pub struct Twilio {
    client: http::Client,
    base: String,
    account_sid: String,
    token: Zeroizing<String>,
    from_number: String,
    messaging_service_sid: String,
}

impl fmt::Debug for Twilio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Twilio")
            .field("base", &self.base)
            .field("account_sid", &self.account_sid)
            .finish_non_exhaustive()
    }
}

/// What Twilio said when it took a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The Message resource's SID (`SM…`).
    pub sid: String,
    /// Its first status, usually `queued` (or `accepted` through a Messaging Service).
    pub status: String,
}

/// A message's status as Twilio reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageState {
    pub status: String,
    /// Twilio's error code for an undelivered or failed message (30003, …).
    pub error_code: Option<u32>,
}

/// The Message resource's fields OTP Desk reads; the rest (the body among them) is ignored.
#[derive(Deserialize)]
struct MessageAnswer {
    sid: String,
    status: String,
    #[serde(default, deserialize_with = "code_or_null")]
    error_code: Option<u32>,
}

/// Twilio's error body.
#[derive(Deserialize)]
struct ErrorAnswer {
    #[serde(default, deserialize_with = "code_or_null")]
    code: Option<u32>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    more_info: Option<String>,
}

/// Error codes come as numbers, occasionally as strings, or null.
fn code_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A message SID goes into the status URL's path, so only Twilio's shape passes.
fn is_message_sid(sid: &str) -> bool {
    sid.len() == 34
        && (sid.starts_with("SM") || sid.starts_with("MM"))
        && sid[2..].chars().all(|c| c.is_ascii_alphanumeric())
}

/// What Twilio's delivery error codes mean, for the desk and the delivery record.
pub fn delivery_error_sentence(code: u32) -> Option<&'static str> {
    Some(match code {
        30001 => "Twilio's queue for the sender was full; the message was dropped. Try again in a minute.",
        30002 => "The Twilio account is suspended; see the Twilio Console.",
        30003 => "The customer's phone is switched off or out of coverage. Try again later, or send the code by email.",
        30004 => "The message was blocked: the customer's number does not accept messages from this sender.",
        30005 => "The number is unknown to the phone network (no longer in service?). Check the customer's number.",
        30006 => "The number is a landline or its carrier cannot take text messages. Send the code by email.",
        30007 => "The phone company filtered the message as unwanted. Check the SMS text and the sender's registration.",
        30008 => "The phone network could not deliver the message for an unknown reason. Try again, or send the code by email.",
        30032 => "The toll-free sender number is not verified with Twilio yet, so carriers block its messages.",
        30034 => "The sender number is not registered for US A2P 10DLC messaging, so carriers block its messages.",
        _ => return None,
    })
}

impl Twilio {
    pub fn new(account: &SmsAccount, token: Zeroizing<String>, client: http::Client) -> Self {
        Self {
            client,
            base: account.api_base.trim_end_matches('/').to_string(),
            account_sid: account.account_sid.clone(),
            token,
            from_number: account.from_number.clone(),
            messaging_service_sid: account.messaging_service_sid.clone(),
        }
    }

    /// Where requests go, for reports ("api.twilio.com").
    pub fn host(&self) -> &str {
        let rest = self.base.split_once("://").map_or(&*self.base, |(_, r)| r);
        rest.split('/').next().unwrap_or(rest)
    }

    fn messages_url(&self) -> String {
        // The base URL and the SID were validated when the account was saved.
        format!(
            "{}/2010-04-01/Accounts/{}/Messages",
            self.base, self.account_sid
        )
    }

    /// Sends `body` to `to` (E.164). `masked_to` replaces the number in anything kept.
    pub fn send(&self, to: &str, masked_to: &str, body: &str) -> Result<Accepted, DeliveryError> {
        let mut form: Vec<(&str, &str)> = vec![("To", to)];
        if self.messaging_service_sid.is_empty() {
            form.push(("From", &self.from_number));
        } else {
            form.push(("MessagingServiceSid", &self.messaging_service_sid));
        }
        form.push(("Body", body));
        let request = self
            .client
            .post(format!("{}.json", self.messages_url()))
            .basic_auth(&self.account_sid, Some(self.token.as_str()))
            .header("Accept", "application/json")
            .form(&form);
        let (status, answer) = self.exchange(request, to, masked_to)?;
        if !status.is_success() {
            return Err(self.refused(status, &answer, to, masked_to));
        }
        let m: MessageAnswer = serde_json::from_str(&answer)
            .ok()
            .filter(|m: &MessageAnswer| is_message_sid(&m.sid))
            .ok_or_else(|| bad_answer(status))?;
        Ok(Accepted {
            sid: m.sid,
            status: m.status.to_ascii_lowercase(),
        })
    }

    /// Asks Twilio for a message's status.
    pub fn fetch(&self, sid: &str) -> Result<MessageState, DeliveryError> {
        if !is_message_sid(sid) {
            return Err(config_error(format!(
                "\"{}\" is not a Twilio message id",
                crate::contact::shorten(sid)
            )));
        }
        let request = self
            .client
            .get(format!("{}/{sid}.json", self.messages_url()))
            .basic_auth(&self.account_sid, Some(self.token.as_str()))
            .header("Accept", "application/json");
        let (status, answer) = self.exchange(request, "", "")?;
        if !status.is_success() {
            return Err(self.refused(status, &answer, "", ""));
        }
        let m: MessageAnswer = serde_json::from_str(&answer).map_err(|_| bad_answer(status))?;
        Ok(MessageState {
            status: m.status.to_ascii_lowercase(),
            error_code: m.error_code,
        })
    }

    /// Sends a request and reads the answer (bounded), classifying what goes wrong on the way.
    fn exchange(
        &self,
        request: http::RequestBuilder,
        to: &str,
        masked_to: &str,
    ) -> Result<(http::StatusCode, Zeroizing<String>), DeliveryError> {
        let response = request
            .send()
            .map_err(|e| self.transport_error(&e, to, masked_to))?;
        let status = response.status();
        let mut bytes = Zeroizing::new(Vec::new());
        response
            .take(MAX_ANSWER_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                self.fail(
                    if is_timeout(&e) {
                        FailureClass::Timeout
                    } else {
                        FailureClass::Transient
                    },
                    format!("reading Twilio's answer (HTTP {status}): {}", chain(&e)),
                    to,
                    masked_to,
                )
            })?;
        Ok((
            status,
            Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned()),
        ))
    }

    fn fail(
        &self,
        class: FailureClass,
        detail: String,
        to: &str,
        masked_to: &str,
    ) -> DeliveryError {
        let detail = if to.is_empty() {
            detail
        } else {
            detail.replace(to, masked_to)
        };
        DeliveryError::new(class, detail, &[self.token.as_str()]).on(Channel::Sms)
    }

    fn transport_error(&self, e: &http::Error, to: &str, masked_to: &str) -> DeliveryError {
        let class = if e.is_timeout() {
            FailureClass::Timeout
        } else if tls_failed(e) {
            FailureClass::Tls
        } else if e.is_connect() {
            FailureClass::Network
        } else {
            // The connection dropped before a full answer: Twilio may be restarting.
            FailureClass::Transient
        };
        self.fail(class, chain(e), to, masked_to)
    }

    /// An HTTP error answer: Twilio's error code decides the class where it has one.
    fn refused(
        &self,
        status: http::StatusCode,
        answer: &str,
        to: &str,
        masked_to: &str,
    ) -> DeliveryError {
        let parsed: Option<ErrorAnswer> = serde_json::from_str(answer).ok();
        let code = parsed.as_ref().and_then(|e| e.code);
        let class = match (code, status.as_u16()) {
            (Some(20003), _) | (None, 401 | 403) => FailureClass::Authentication,
            (Some(20429), _) | (_, 429) => FailureClass::RateLimited,
            (Some(21211), _) => FailureClass::InvalidNumber,
            (Some(21608), _) => FailureClass::TrialAccount,
            (Some(21610), _) => FailureClass::Unsubscribed,
            (Some(21614), _) => FailureClass::NotMobile,
            // The From number or Messaging Service is not one of the account's, or the account
            // SID or API address is wrong: the account needs fixing, not the message.
            (Some(21212 | 21606 | 21659 | 21702 | 21703 | 21704 | 21705 | 20404), _)
            | (None, 404) => FailureClass::Configuration,
            (_, s) if s >= 500 => FailureClass::Transient,
            _ => FailureClass::Permanent,
        };
        let detail = match parsed {
            Some(e) => format!(
                "Twilio {} (HTTP {}): {}{}",
                code.map_or("error".to_string(), |c| c.to_string()),
                status.as_u16(),
                e.message.unwrap_or_default(),
                e.more_info.map(|m| format!(" {m}")).unwrap_or_default()
            ),
            None => format!("HTTP {status} from Twilio"),
        };
        self.fail(class, detail, to, masked_to)
    }
}

fn bad_answer(status: http::StatusCode) -> DeliveryError {
    // The answer may echo the message, so none of it is quoted.
    DeliveryError::new(
        FailureClass::Permanent,
        format!("Twilio answered HTTP {status} with a body that is not a Message resource"),
        &[],
    )
    .on(Channel::Sms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_sids_are_recognised_before_they_go_into_a_path() {
        assert!(is_message_sid("SM0123456789abcdef0123456789abcdef"));
        assert!(!is_message_sid("SM../../Accounts/x0123456789abcdef012"));
        assert!(!is_message_sid("SM0123456789abcdef0123456789abcde"));
        assert!(!is_message_sid("AC0123456789abcdef0123456789abcdef"));
    }

    #[test]
    fn error_codes_read_as_numbers_strings_or_null() {
        for (json, code) in [
            (r#"{"code": 21211}"#, Some(21211)),
            (r#"{"code": "21614"}"#, Some(21614)),
            (r#"{"code": null}"#, None),
            (r#"{}"#, None),
        ] {
            let e: ErrorAnswer = serde_json::from_str(json).unwrap();
            assert_eq!(e.code, code, "{json}");
        }
    }

    #[test]
    fn every_delivery_error_sentence_ends_a_sentence() {
        for code in 30000..30100 {
            if let Some(s) = delivery_error_sentence(code) {
                assert!(s.ends_with('.'), "{code}: {s}");
            }
        }
    }
}
