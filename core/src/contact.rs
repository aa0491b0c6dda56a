//! What a valid email address or phone number is, how it is normalised, and how it is shown
//! masked. Validation is delegated to `email_address` (RFC 5322) and `phonenumber`
//! (libphonenumber's metadata); this module only sets the house rules around them.

use std::fmt;
use std::str::FromStr;

use email_address::{EmailAddress, Options};
use phonenumber::country::Id as Region;
use phonenumber::PhoneNumber;
use serde::{Deserialize, Serialize};

/// RFC 5321 limits a forward-path to 256 octets including the brackets.
pub const MAX_EMAIL_LEN: usize = 254;
/// Long enough for any real number with its formatting, short enough to refuse a pasted essay.
pub const MAX_PHONE_LEN: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("the email address is empty")]
    EmptyEmail,
    #[error("the email address is longer than {MAX_EMAIL_LEN} characters")]
    EmailTooLong,
    #[error("\"{0}\" is not a valid email address (expected something like name@example.com)")]
    InvalidEmail(String),
    #[error("the phone number is empty")]
    EmptyPhone,
    #[error("the phone number is longer than {MAX_PHONE_LEN} characters")]
    PhoneTooLong,
    #[error("\"{0}\" is not a phone number (use digits, spaces, dashes, brackets and an optional leading +)")]
    InvalidPhoneCharacters(String),
    #[error("\"{number}\" is not a valid phone number for region {region}; enter it with its country code, e.g. +44 20 7946 0958")]
    InvalidPhone { number: String, region: String },
    #[error("\"{0}\" is not a known region code (use two letters such as US, GB, DE)")]
    InvalidRegion(String),
    #[error("unknown channel \"{0}\" (use email or sms)")]
    InvalidChannel(String),
}

/// How a code reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = ContactError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "email" | "e-mail" | "mail" => Ok(Channel::Email),
            "sms" | "phone" | "text" => Ok(Channel::Sms),
            _ => Err(ContactError::InvalidChannel(shorten(s))),
        }
    }
}

/// Parses a two-letter region code ("US", "gb").
pub fn parse_region(code: &str) -> Result<Region, ContactError> {
    let c = code.trim().to_ascii_uppercase();
    if c.len() != 2 {
        return Err(ContactError::InvalidRegion(shorten(code)));
    }
    Region::from_str(&c).map_err(|_| ContactError::InvalidRegion(shorten(code)))
}

/// Every two-letter region code `parse_region` accepts, in alphabetical order.
pub fn regions() -> Vec<String> {
    let letters = 'A'..='Z';
    letters
        .clone()
        .flat_map(|a| letters.clone().map(move |b| format!("{a}{b}")))
        .filter(|code| parse_region(code).is_ok())
        .collect()
}

/// Validates and normalises an email address: trimmed, no display name, a dotted domain,
/// domain lower-cased (the local part is left as typed: RFC 5321 lets servers treat it as
/// case-sensitive).
pub fn normalize_email(input: &str) -> Result<String, ContactError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(ContactError::EmptyEmail);
    }
    if s.len() > MAX_EMAIL_LEN {
        return Err(ContactError::EmailTooLong);
    }
    // Header injection and look-alike tricks never belong in an address.
    if s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(ContactError::InvalidEmail(shorten(s)));
    }
    let options = Options::default()
        .with_required_tld()
        .without_display_text()
        .without_domain_literal();
    let parsed = EmailAddress::parse_with_options(s, options)
        .map_err(|_| ContactError::InvalidEmail(shorten(s)))?;
    Ok(format!(
        "{}@{}",
        parsed.local_part(),
        parsed.domain().to_lowercase()
    ))
}

/// A phone number as the customer gave it, plus its E.164 form when it is a valid number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    pub as_entered: String,
    pub e164: Option<String>,
}

/// Checks a phone number's characters and, when it is a valid number for `region` (or carries
/// its own +country code), returns its E.164 form too. A number that does not parse is still
/// kept as entered: billing systems hold landlines and extensions we must not throw away.
pub fn parse_phone(input: &str, region: Region) -> Result<Phone, ContactError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(ContactError::EmptyPhone);
    }
    if s.chars().count() > MAX_PHONE_LEN {
        return Err(ContactError::PhoneTooLong);
    }
    let allowed = |c: char| {
        c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')' | '+' | '/' | 'x' | 'X')
    };
    if !s.chars().all(allowed) || !s.chars().any(|c| c.is_ascii_digit()) {
        return Err(ContactError::InvalidPhoneCharacters(shorten(s)));
    }
    let e164 = e164_of(s, region);
    Ok(Phone {
        as_entered: s.to_string(),
        e164,
    })
}

/// The E.164 form of a number when it parses and fits its country's numbering plan (the
/// plan's general pattern: right length, no impossible leading digits), otherwise `None`.
///
/// This is deliberately not libphonenumber's full validity check, which tries each number
/// type's pattern in turn and costs about 30 µs per number against 0.2 µs for this one (a
/// 100,000-row import would spend 3 s on it). Whether a number can take a text message is
/// decided where it matters, before anything is sent: `sms_destination` runs the full check.
pub fn e164_of(input: &str, region: Region) -> Option<String> {
    let parsed: PhoneNumber = phonenumber::parse(Some(region), input).ok()?;
    let national = parsed.national().to_string();
    let fits_plan = phonenumber::metadata::DATABASE
        .by_code(&parsed.code().value())
        .is_some_and(|plans| {
            plans
                .iter()
                .any(|m| m.descriptors().general().is_match(&national))
        });
    // E.164 is "+", the country code and the national number, which is what the library's
    // E.164 formatter writes too; that formatter first matches the number against the
    // country's display patterns, a cost an import would pay 100,000 times for nothing.
    fits_plan.then(|| format!("+{}{national}", parsed.code().value()))
}

/// A number that can receive an SMS, in E.164, or a clear refusal.
pub fn sms_destination(input: &str, region: Region) -> Result<String, ContactError> {
    let phone = parse_phone(input, region)?;
    let invalid = || ContactError::InvalidPhone {
        number: shorten(input.trim()),
        region: region.as_ref().to_string(),
    };
    let e164 = phone.e164.ok_or_else(invalid)?;
    let parsed = phonenumber::parse(Some(region), &e164).map_err(|_| invalid())?;
    if !phonenumber::is_valid(&parsed) {
        return Err(invalid());
    }
    use phonenumber::metadata::DATABASE;
    use phonenumber::Type;
    match parsed.number_type(&DATABASE) {
        Type::Mobile | Type::FixedLineOrMobile | Type::PersonalNumber | Type::Voip => Ok(e164),
        _ => Err(invalid()),
    }
}

/// A number a message can be sent from (an SMS account's sender): any valid number, in E.164.
pub fn sender_number(input: &str, region: Region) -> Result<String, ContactError> {
    let phone = parse_phone(input, region)?;
    let invalid = || ContactError::InvalidPhone {
        number: shorten(input.trim()),
        region: region.as_ref().to_string(),
    };
    let e164 = phone.e164.ok_or_else(invalid)?;
    let parsed = phonenumber::parse(Some(region), &e164).map_err(|_| invalid())?;
    if phonenumber::is_valid(&parsed) {
        Ok(e164)
    } else {
        Err(invalid())
    }
}

/// What the code policy counts by (cooldowns, send caps, failures, locks): one key per real
/// mailbox or number. Email addresses are case-folded whole: RFC 5321 allows a case-sensitive
/// local part, but no mail service in use treats Jo@ and jo@ as two people, and counting them
/// apart would double every limit.
pub fn policy_key(channel: Channel, destination: &str) -> String {
    match channel {
        Channel::Email => destination.to_lowercase(),
        Channel::Sms => destination.to_string(),
    }
}

/// "jo…@example.com": enough for the customer to recognise, too little to harvest.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let keep: String = local
                .chars()
                .take(if local.chars().count() > 3 { 2 } else { 1 })
                .collect();
            format!("{keep}…@{domain}")
        }
        None => "…".to_string(),
    }
}

/// Loads libphonenumber's metadata, which the `phonenumber` crate reads on first use: the
/// first number checked or masked would otherwise wait for it (the desk's first search:
/// 170 ms on a 2-core machine). An app calls this once, on a thread of its own.
pub fn load_phone_metadata() {
    let _ = phonenumber::parse(None, "+14155550132");
}

/// "+1 …4567": the country code and the last four digits.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let last: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    match phonenumber::parse(None, phone) {
        Ok(p) if phone.trim_start().starts_with('+') => {
            format!("+{} …{last}", p.code().value())
        }
        _ => format!("…{last}"),
    }
}

pub fn mask(channel: Channel, destination: &str) -> String {
    match channel {
        Channel::Email => mask_email(destination),
        Channel::Sms => mask_phone(destination),
    }
}

/// Right-to-left overrides and friends can make "moc.evil@bank" render as something else.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Echoing a megabyte of input back in an error helps nobody.
pub fn shorten(s: &str) -> String {
    shorten_to(s, 60)
}

/// At most `max` characters, with control and direction-override characters made visible.
pub fn shorten_to(s: &str, max: usize) -> String {
    let clean: String = s
        .chars()
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .take(max + 1)
        .collect();
    if clean.chars().count() > max {
        format!("{}…", clean.chars().take(max).collect::<String>())
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Region {
        parse_region("US").unwrap()
    }

    #[test]
    fn email_is_trimmed_and_domain_lower_cased() {
        assert_eq!(
            normalize_email("  Jo.Smith@Example.COM ").unwrap(),
            "Jo.Smith@example.com"
        );
    }

    #[test]
    fn email_refusals_are_specific() {
        assert_eq!(normalize_email("   "), Err(ContactError::EmptyEmail));
        assert_eq!(
            normalize_email(&format!("{}@example.com", "a".repeat(300))),
            Err(ContactError::EmailTooLong)
        );
        for bad in [
            "plainaddress",
            "a@b",
            "John <john@example.com>",
            "john@[127.0.0.1]",
            "john@example.com\r\nBcc: all@example.com",
            "jo\u{202E}hn@example.com",
            "<script>@example.com",
            "'; DROP TABLE customers;--@example.com",
        ] {
            assert!(
                matches!(normalize_email(bad), Err(ContactError::InvalidEmail(_))),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn e164_is_what_the_library_formats() {
        for (number, region) in [
            ("(415) 555-0132", "US"),
            ("1-212-444-0177", "US"),
            ("+44 20 7946 0958", "US"),
            ("020 7946 0958", "GB"),
            ("06 6982 1234", "IT"),
            ("+39 02 1234 5678", "US"),
            ("030 123456", "DE"),
            ("+61 2 9374 4000", "US"),
            ("04 12 34 56 78", "FR"),
        ] {
            let region = parse_region(region).unwrap();
            let parsed = phonenumber::parse(Some(region), number).unwrap();
            let library = parsed.format().mode(phonenumber::Mode::E164).to_string();
            assert_eq!(e164_of(number, region).as_deref(), Some(library.as_str()));
        }
    }

    #[test]
    fn phone_keeps_what_was_entered_and_adds_e164() {
        let p = parse_phone(" (415) 555-0132 ", us()).unwrap();
        assert_eq!(p.as_entered, "(415) 555-0132");
        assert_eq!(p.e164.as_deref(), Some("+14155550132"));
        let intl = parse_phone("+44 20 7946 0958", us()).unwrap();
        assert_eq!(intl.e164.as_deref(), Some("+442079460958"));
        let odd = parse_phone("12", us()).unwrap();
        assert_eq!(odd.e164, None);
        for off_plan in ["555-0132", "+1 555 0132 12"] {
            assert_eq!(
                parse_phone(off_plan, us()).unwrap().e164,
                None,
                "{off_plan}"
            );
        }
    }

    #[test]
    fn phone_refusals_are_specific() {
        assert_eq!(parse_phone("", us()), Err(ContactError::EmptyPhone));
        assert_eq!(
            parse_phone(&"5".repeat(41), us()),
            Err(ContactError::PhoneTooLong)
        );
        for bad in [
            "call me",
            "555\r\n123",
            "<b>5</b>",
            "555'--",
            "\u{202E}5551234",
        ] {
            assert!(
                matches!(
                    parse_phone(bad, us()),
                    Err(ContactError::InvalidPhoneCharacters(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn sms_needs_a_valid_number() {
        assert_eq!(
            sms_destination("(415) 555-0132", us()).unwrap(),
            "+14155550132"
        );
        assert!(matches!(
            sms_destination("123", us()),
            Err(ContactError::InvalidPhone { .. })
        ));
        // Fits the plan's shape (so it is stored in E.164) but no such area code exists:
        // the full check before sending refuses it.
        assert_eq!(
            e164_of("(370) 555-0100", us()).as_deref(),
            Some("+13705550100")
        );
        assert!(matches!(
            sms_destination("(370) 555-0100", us()),
            Err(ContactError::InvalidPhone { .. })
        ));
    }

    #[test]
    fn masks_hide_most_of_the_contact() {
        assert_eq!(mask_email("johanna@example.com"), "jo…@example.com");
        assert_eq!(mask_email("jo@example.com"), "j…@example.com");
        assert_eq!(mask_phone("+14155550132"), "+1 …0132");
        assert_eq!(mask_phone("555-0132"), "…0132");
    }

    #[test]
    fn regions_and_channels_parse() {
        assert!(parse_region("gb").is_ok());
        assert!(parse_region("ZZZ").is_err());
        assert!(parse_region("").is_err());
        assert_eq!("SMS".parse::<Channel>().unwrap(), Channel::Sms);
        assert!("pigeon".parse::<Channel>().is_err());
    }

    #[test]
    fn shorten_cuts_and_defangs() {
        assert_eq!(shorten(&"x".repeat(1_000_000)).chars().count(), 61);
        assert!(!shorten("a\r\nb").contains('\n'));
    }
}
