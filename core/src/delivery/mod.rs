//! How a code reaches the customer. This module alone talks to mail servers and SMS
//! gateways; nothing else in the workspace imports a mail or HTTP library.
//!
//! - `message`: what a transport sends (recipient, subject, text and HTML parts).
//! - `failure`: every way a delivery can fail, classified once, each class with the sentence
//!   that tells an admin what to do.

pub mod failure;
pub mod message;

pub use failure::{DeliveryError, FailureClass};
pub use message::Message;
