//! A message ready for a transport: already rendered, already escaped.

use std::fmt;

use zeroize::Zeroizing;

/// One message to one recipient. The text and HTML parts carry the code, so they are wiped
/// when the message is dropped and never appear in `Debug` output.
pub struct Message {
    /// The full address or E.164 number. Used by transports only; logs and records use
    /// `masked_to`.
    pub to: String,
    pub masked_to: String,
    pub subject: String,
    pub text: Zeroizing<String>,
    /// Empty for SMS.
    pub html: Zeroizing<String>,
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("to", &self.masked_to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_shows_neither_the_address_nor_the_body() {
        let m = Message {
            to: "johanna@example.com".into(),
            masked_to: "jo…@example.com".into(),
            subject: "Your code".into(),
            text: Zeroizing::new("Your code is 482913".into()),
            html: Zeroizing::new("<p>482913</p>".into()),
        };
        let shown = format!("{m:?}");
        assert!(!shown.contains("johanna@"), "{shown}");
        assert!(!shown.contains("482913"), "{shown}");
        assert!(shown.contains("jo…@example.com"), "{shown}");
    }
}
