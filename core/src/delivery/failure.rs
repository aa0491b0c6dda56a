//! Every way a delivery can fail, classified once. Each class has one sentence that tells an
//! admin what to do; the clerk sees "failed" plus that sentence. The sentence depends on the
//! channel where the same class means a different server (a mail server, Twilio).

use serde::{Deserialize, Serialize};

use crate::contact::Channel;

/// Why a delivery failed. `is_retryable` decides whether the code's sender tries again (with
/// backoff, while the code is still valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// Host unknown, connection refused, firewall: the server was never reached.
    Network,
    /// The TLS handshake failed: untrusted certificate, or a security setting that does not
    /// match the port (STARTTLS on 465, implicit TLS on 587).
    Tls,
    /// The server refused the credentials (535 and friends).
    Authentication,
    /// Microsoft 365: SMTP AUTH is disabled for the tenant or mailbox (535 5.7.139).
    TenantSmtpAuthDisabled,
    /// Microsoft 365: basic authentication is no longer accepted (550 5.7.30).
    BasicAuthRemoved,
    /// The server asked to try again later (4xx), or the connection dropped mid-send.
    Transient,
    /// The server refused the message for good (5xx other than the above).
    Permanent,
    /// No answer within the total time allowed for one send.
    Timeout,
    /// The account itself is unusable as configured (bad host, missing password, …).
    Configuration,
    /// SMS: the number is not a valid phone number (Twilio 21211).
    InvalidNumber,
    /// SMS: the number cannot receive text messages, e.g. a landline (Twilio 21614).
    NotMobile,
    /// SMS: the customer replied STOP to the office's number (Twilio 21610).
    Unsubscribed,
    /// SMS: a Twilio trial account may only text numbers verified in its console (21608).
    TrialAccount,
    /// SMS: Twilio asked to slow down (HTTP 429, Twilio 20429).
    RateLimited,
    /// SMS: Twilio took the message but the phone network did not deliver it.
    Undelivered,
}

impl FailureClass {
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            FailureClass::Transient
                | FailureClass::Timeout
                | FailureClass::Network
                | FailureClass::RateLimited
        )
    }

    pub const ALL: [FailureClass; 15] = [
        FailureClass::Network,
        FailureClass::Tls,
        FailureClass::Authentication,
        FailureClass::TenantSmtpAuthDisabled,
        FailureClass::BasicAuthRemoved,
        FailureClass::Transient,
        FailureClass::Permanent,
        FailureClass::Timeout,
        FailureClass::Configuration,
        FailureClass::InvalidNumber,
        FailureClass::NotMobile,
        FailureClass::Unsubscribed,
        FailureClass::TrialAccount,
        FailureClass::RateLimited,
        FailureClass::Undelivered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Network => "network",
            FailureClass::Tls => "tls",
            FailureClass::Authentication => "authentication",
            FailureClass::TenantSmtpAuthDisabled => "tenant_smtp_auth_disabled",
            FailureClass::BasicAuthRemoved => "basic_auth_removed",
            FailureClass::Transient => "transient",
            FailureClass::Permanent => "permanent",
            FailureClass::Timeout => "timeout",
            FailureClass::Configuration => "configuration",
            FailureClass::InvalidNumber => "invalid_number",
            FailureClass::NotMobile => "not_mobile",
            FailureClass::Unsubscribed => "unsubscribed",
            FailureClass::TrialAccount => "trial_account",
            FailureClass::RateLimited => "rate_limited",
            FailureClass::Undelivered => "undelivered",
        }
    }

    /// The class named by `as_str` (as stored in the delivery record), if it is one. Read
    /// through the serde names, which are the same, so a class added later is known here too.
    pub fn from_name(name: &str) -> Option<Self> {
        use serde::de::IntoDeserializer;
        let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
            name.into_deserializer();
        Self::deserialize(de).ok()
    }

    /// What an admin should do about a failed email.
    pub fn hint(self) -> &'static str {
        self.hint_for(Channel::Email)
    }

    /// What an admin should do about it, for a delivery on `channel`.
    pub fn hint_for(self, channel: Channel) -> &'static str {
        if channel == Channel::Sms {
            if let Some(h) = self.sms_hint() {
                return h;
            }
        }
        match self {
            FailureClass::Network => "The mail server could not be reached. Check the host name and port, and that this computer is online and no firewall blocks the port.",
            FailureClass::Tls => "The secure connection failed. Use STARTTLS with port 587 or implicit TLS with port 465; if the office server has its own certificate authority, add its certificate to the account.",
            FailureClass::Authentication => "The server refused the user name or password. For Gmail, create an app password (it needs 2-Step Verification) and enter that instead of the account password.",
            FailureClass::TenantSmtpAuthDisabled => "Microsoft 365 has SMTP sign-in (SMTP AUTH) turned off for this mailbox or tenant. Use \"Sign in with Microsoft\" for this account, or ask the Microsoft 365 admin to allow authenticated SMTP for the mailbox.",
            FailureClass::BasicAuthRemoved => "Microsoft 365 no longer accepts passwords for sending mail. Use \"Sign in with Microsoft\" for this account.",
            FailureClass::Transient => "The mail server asked to try again later. OTP Desk retries while the code is valid; if it keeps happening, check the server's sending limits.",
            FailureClass::Permanent => "The mail server refused the message. Check the recipient address and the account's sending permissions; the server's reply is in the delivery record.",
            FailureClass::Timeout => "The mail server did not answer in time. Check the network, or try again in a minute.",
            FailureClass::Configuration => "This account is not set up completely. Open it in Settings and fill in what is missing.",
            FailureClass::InvalidNumber => "Twilio says this is not a valid phone number. Check the number on the customer's record, with its country code.",
            FailureClass::NotMobile => "Twilio says this number cannot receive text messages (a landline, or a number without SMS). Send the code by email, or update the customer's mobile number.",
            FailureClass::Unsubscribed => "The customer has replied STOP to the office's SMS number and gets no texts from it until they text START to it. Send the code by email instead.",
            FailureClass::TrialAccount => "The Twilio account is a trial account, which can only text numbers verified in the Twilio Console. Verify this number there, or upgrade the Twilio account.",
            FailureClass::RateLimited => "Twilio asked OTP Desk to slow down (too many requests). OTP Desk retries while the code is valid; if it keeps happening, check the Twilio account's limits.",
            FailureClass::Undelivered => "Twilio accepted the message but the phone network did not deliver it (phone off or out of coverage, number not in service, or the carrier filtered it). The delivery record has the reason; try again later or send the code by email.",
        }
    }

    /// The sentences that differ when the server is Twilio rather than a mail server.
    fn sms_hint(self) -> Option<&'static str> {
        Some(match self {
            FailureClass::Network => "Twilio could not be reached. Check that this computer is online and that no firewall or proxy blocks HTTPS (port 443) to the account's API address.",
            FailureClass::Tls => "The secure connection to Twilio failed: the certificate was not trusted. Check the computer's date and time, and the account's API address.",
            FailureClass::Authentication => "Twilio refused the account SID or auth token (error 20003). Copy both from the Twilio Console and store the token again with `otp-desk-cli sms accounts set-token`.",
            FailureClass::Transient => "Twilio had a temporary problem or the connection dropped. OTP Desk retries while the code is valid; if it keeps happening, check status.twilio.com.",
            FailureClass::Permanent => "Twilio refused the message. The delivery record has Twilio's error code and reason.",
            FailureClass::Timeout => "Twilio did not answer in time. Check the network, or try again in a minute.",
            _ => return None,
        })
    }
}

/// A failed delivery: its class and what the server or library said, with any secret
/// scrubbed out before it was stored here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{} ({detail})", .class.hint_for(*.channel))]
pub struct DeliveryError {
    pub class: FailureClass,
    pub detail: String,
    /// Which kind of delivery failed; it picks the sentence for the class.
    pub channel: Channel,
}

impl DeliveryError {
    /// Builds the error, removing every occurrence of each secret from the detail first, so a
    /// library that echoes a password or token into its error text cannot leak it further.
    pub fn new(class: FailureClass, detail: impl Into<String>, secrets: &[&str]) -> Self {
        let mut detail = detail.into();
        for s in secrets.iter().filter(|s| s.len() >= 4) {
            detail = detail.replace(*s, "[hidden]");
        }
        // Enough for a server's full reply line or a folder path; not a whole transcript.
        let detail = crate::contact::shorten_to(&detail, 300);
        Self {
            class,
            detail,
            channel: Channel::Email,
        }
    }

    /// The same error, for a delivery on `channel`.
    pub fn on(mut self, channel: Channel) -> Self {
        self.channel = channel;
        self
    }

    /// What an admin should do about it.
    pub fn hint(&self) -> &'static str {
        self.class.hint_for(self.channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_only_what_may_pass() {
        assert!(FailureClass::Transient.is_retryable());
        assert!(FailureClass::Timeout.is_retryable());
        assert!(!FailureClass::Permanent.is_retryable());
        assert!(!FailureClass::Authentication.is_retryable());
        assert!(!FailureClass::TenantSmtpAuthDisabled.is_retryable());
        assert!(FailureClass::RateLimited.is_retryable());
        for refused in [
            FailureClass::InvalidNumber,
            FailureClass::NotMobile,
            FailureClass::Unsubscribed,
            FailureClass::TrialAccount,
            FailureClass::Undelivered,
        ] {
            assert!(!refused.is_retryable(), "{refused:?}");
        }
    }

    #[test]
    fn every_class_has_a_name_and_a_sentence_for_each_channel() {
        let mut names = std::collections::HashSet::new();
        for class in FailureClass::ALL {
            assert!(names.insert(class.as_str()), "{class:?}");
            for channel in [Channel::Email, Channel::Sms] {
                let hint = class.hint_for(channel);
                assert!(hint.ends_with('.'), "{class:?} {channel}: {hint}");
            }
        }
        // An SMS failure never talks about a mail server, nor a mail failure about Twilio.
        for class in FailureClass::ALL {
            assert!(
                !class.hint_for(Channel::Sms).contains("mail server"),
                "{class:?}"
            );
        }
        for class in [
            FailureClass::Network,
            FailureClass::Authentication,
            FailureClass::Timeout,
        ] {
            assert!(
                !class.hint_for(Channel::Email).contains("Twilio"),
                "{class:?}"
            );
            assert!(class.hint_for(Channel::Sms).contains("Twilio"), "{class:?}");
        }
    }

    #[test]
    fn stored_names_read_back() {
        for class in FailureClass::ALL {
            assert_eq!(FailureClass::from_name(class.as_str()), Some(class));
            assert_eq!(
                serde_json::to_value(class).unwrap(),
                serde_json::json!(class.as_str())
            );
        }
        assert_eq!(FailureClass::from_name("gremlins"), None);
        assert_eq!(FailureClass::from_name(""), None);
    }

    #[test]
    fn secrets_are_scrubbed_from_details() {
        let e = DeliveryError::new(
            FailureClass::Authentication,
            "535 auth failed for user ann with password hunter2-app",
            &["hunter2-app", "ab"],
        );
        assert!(!e.detail.contains("hunter2-app"), "{}", e.detail);
        assert!(e.detail.contains("[hidden]"));
        assert!(e
            .to_string()
            .starts_with("The server refused the user name or password"));
    }
}
