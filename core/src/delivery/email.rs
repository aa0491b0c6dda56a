//! Turns a rendered `Message` into an RFC 5322 email: multipart/alternative with a plain-text
//! and an HTML part, headers encoded by lettre's builder (so no value can start a header of
//! its own). Every email transport sends what this builds.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use rand::TryRngCore;
use zeroize::Zeroizing;

use super::accounts::MailAccount;
use super::{DeliveryError, FailureClass, Message};

/// The sender: the account's from address, and its from name or else the office's name.
pub fn sender(account: &MailAccount, company_name: &str) -> Result<Mailbox, DeliveryError> {
    let name = if account.from_name.is_empty() {
        company_name
    } else {
        &account.from_name
    };
    let address = account.from_address.parse().map_err(|e| {
        DeliveryError::new(
            FailureClass::Configuration,
            format!("the account's from address is not usable: {e}"),
            &[],
        )
    })?;
    Ok(Mailbox::new(Some(name.to_string()), address))
}

/// A Message-ID in the sender's domain, from the OS CSPRNG (lettre's own id generator is
/// not meant to be unpredictable).
fn message_id(from: &Mailbox) -> String {
    let mut bytes = [0u8; 16];
    // A failing OS generator leaves zeros: the id is then merely not unique, which no
    // delivery depends on.
    let _ = rand::rngs::OsRng.try_fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("<{hex}@{}>", from.email.domain())
}

/// Builds the email. The result holds the code, so it is wiped when dropped.
pub fn build(from: &Mailbox, msg: &Message) -> Result<lettre::Message, DeliveryError> {
    let to: Mailbox = msg.to.parse().map_err(|e| {
        DeliveryError::new(
            FailureClass::Permanent,
            format!("the recipient address {} is not usable: {e}", msg.masked_to),
            &[],
        )
    })?;
    let parts = MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(msg.text.to_string()),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(msg.html.to_string()),
        );
    lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(msg.subject.clone())
        .message_id(Some(message_id(from)))
        .multipart(parts)
        .map_err(|e| {
            DeliveryError::new(
                FailureClass::Configuration,
                format!("the message could not be built: {e}"),
                &[],
            )
        })
}

/// The email as bytes on the wire (CRLF line ends), wiped when dropped.
pub fn formatted(from: &Mailbox, msg: &Message) -> Result<Zeroizing<Vec<u8>>, DeliveryError> {
    Ok(Zeroizing::new(build(from, msg)?.formatted()))
}
