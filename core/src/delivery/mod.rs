//! How a code reaches the customer. This module alone talks to mail servers, SMS gateways
//! and the sign-in service; nothing else in the workspace imports a mail or HTTP library.
//!
//! - `message`: what a transport sends (recipient, subject, text and HTML parts).
//! - `failure`: every way a delivery can fail, classified once, each class with the sentence
//!   that tells an admin what to do.
//! - `template`: the subject, text and HTML templates: defaults, validation, rendering.
//! - `accounts`: mail accounts (no secrets in SQLite; passwords in the secret store).
//! - `email`: a rendered message as an RFC 5322 multipart/alternative email.
//! - `oauth`: Microsoft 365 device-code sign-in; refresh token in the secret store, access
//!   token in memory.
//! - `transport`: the transport for an account kind (`outbox`, `console`).
//! - `attempts`: the record of every delivery attempt.
//! - `send`: issue + render + deliver + record as one operation (`send_code`), email or SMS,
//!   and test mail.
//! - `progress`: what the desk hears while a send runs (sending, retrying, sent, failed).
//! - `smtp`: mail through an SMTP server (STARTTLS or implicit TLS, password or XOAUTH2).
//! - `sms_accounts`: SMS accounts (Twilio or console; the auth token in the secret store).
//! - `segments`: how many text messages a text takes (GSM-7 or UCS-2).
//! - `http`: the one HTTP client (reqwest, rustls with ring, the OS certificate store).
//! - `twilio`: text messages through Twilio's Messages API.
//! - `sms`: a text message's status after sending (`track`), and the test SMS.

pub mod accounts;
pub mod attempts;
pub mod console;
pub mod email;
pub mod failure;
pub mod http;
pub mod message;
pub mod oauth;
pub mod outbox;
pub mod progress;
pub mod segments;
pub mod send;
pub mod sms;
pub mod sms_accounts;
pub mod smtp;
pub mod template;
pub mod transport;
pub mod twilio;

pub use failure::{DeliveryError, FailureClass};
pub use message::Message;
pub use progress::Progress;
pub use send::{send_code, send_test, SendError, SendReport, SendRequest};
pub use sms::{send_test_sms, track, SmsState, SmsStatus};
pub use transport::{Setup, SmsTiming};
