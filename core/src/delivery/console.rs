//! The console transport: writes the rendered message to standard error for development,
//! like Django's console backend. Deliberately not through the tracing log: logs are kept
//! and shipped, and this output carries a code.

use std::io::Write;
use std::sync::{Arc, Mutex};

use lettre::message::Mailbox;

use super::{DeliveryError, FailureClass, Message};

/// Where console messages go: standard error, or a buffer in tests.
#[derive(Clone, Default)]
pub struct Console {
    sink: Option<Arc<Mutex<Vec<u8>>>>,
}

impl std::fmt::Debug for Console {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.sink.is_some() {
            "Console(buffer)"
        } else {
            "Console(stderr)"
        })
    }
}

impl Console {
    pub fn stderr() -> Self {
        Self::default()
    }

    /// A console that writes into `buffer` (tests).
    pub fn buffer(buffer: Arc<Mutex<Vec<u8>>>) -> Self {
        Self { sink: Some(buffer) }
    }

    pub fn deliver(&self, from: &Mailbox, msg: &Message) -> Result<(), DeliveryError> {
        self.write(format!(
            "\n===== OTP Desk console mail (development only: nothing was sent) =====\n\
             From: {from}\nTo: {}\nSubject: {}\n\n{}\n----- HTML part ({} bytes) -----\n{}\n\
             ===== end of console mail =====\n",
            msg.to,
            msg.subject,
            msg.text.as_str(),
            msg.html.len(),
            msg.html.as_str()
        ))
    }

    /// Writes a text message as an SMS account named `account` would send it.
    pub fn deliver_sms(&self, account: &str, msg: &Message) -> Result<(), DeliveryError> {
        let segments = super::segments::count(&msg.text);
        self.write(format!(
            "\n===== OTP Desk console SMS (development only: nothing was sent) =====\n\
             Account: {account}\nTo: {}\nLength: {} characters, {} segment(s)\n\n{}\n\
             ===== end of console SMS =====\n",
            msg.to,
            segments.characters,
            segments.segments,
            msg.text.as_str()
        ))
        .map_err(|e| e.on(crate::contact::Channel::Sms))
    }

    fn write(&self, text: String) -> Result<(), DeliveryError> {
        let text = zeroize::Zeroizing::new(text);
        let fail = |e: std::io::Error| {
            DeliveryError::new(
                FailureClass::Configuration,
                format!("standard error cannot be written: {e}"),
                &[],
            )
        };
        match &self.sink {
            Some(buf) => buf
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(text.as_bytes()),
            None => std::io::stderr()
                .lock()
                .write_all(text.as_bytes())
                .map_err(fail)?,
        }
        Ok(())
    }
}
