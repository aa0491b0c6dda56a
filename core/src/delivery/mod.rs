//! How a code reaches the customer. This module alone talks to mail servers and SMS
//! gateways; nothing else in the workspace imports a mail or HTTP library.
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
//! - `send`: issue + render + deliver + record as one operation (`send_code`), and test mail.
//! - `smtp`: mail through an SMTP server (STARTTLS or implicit TLS, password or XOAUTH2).

pub mod accounts;
pub mod attempts;
pub mod console;
pub mod email;
pub mod failure;
pub mod message;
pub mod oauth;
pub mod outbox;
pub mod send;
pub mod smtp;
pub mod template;
pub mod transport;

pub use failure::{DeliveryError, FailureClass};
pub use message::Message;
pub use send::{send_code, send_test, SendError, SendReport, SendRequest};
pub use transport::Setup;
