//! How long a text message is, as the phone network counts it: in GSM-7 (the GSM 03.38
//! default alphabet, 160 per message) when every character has a GSM-7 code, else in UCS-2
//! (70 per message). A longer message is sent in parts of 153 (GSM-7) or 67 (UCS-2), each
//! billed as one message; a character never straddles two parts, which is why the parts are
//! packed here rather than divided.
//!
//! Written here because no maintained crate on the registry does it; the tables are the
//! fixed ones of 3GPP TS 23.038.

use serde::Serialize;

/// The characters of the GSM-7 default alphabet (one septet each), line feed and carriage
/// return included.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: each costs an escape septet plus its own.
const GSM7_EXTENSION: &str = "\u{000C}^{}\\[~]|€";

pub const GSM7_SINGLE: usize = 160;
pub const GSM7_PART: usize = 153;
pub const UCS2_SINGLE: usize = 70;
pub const UCS2_PART: usize = 67;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// A message's size on the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segments {
    pub encoding: Encoding,
    /// Characters as a person counts them (Unicode scalar values).
    pub characters: usize,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    /// How many messages it is sent (and billed) as.
    pub segments: usize,
}

fn gsm7_cost(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Packs characters of the given costs into parts of `part` units.
fn parts(costs: &[usize], part: usize) -> usize {
    let mut count = 1;
    let mut used = 0;
    for &cost in costs {
        if used + cost > part {
            count += 1;
            used = 0;
        }
        used += cost;
    }
    count
}

/// The size of `text` as it would be sent.
pub fn count(text: &str) -> Segments {
    let characters = text.chars().count();
    let gsm: Option<Vec<usize>> = text.chars().map(gsm7_cost).collect();
    let (encoding, costs, single, part) = match gsm {
        Some(costs) => (Encoding::Gsm7, costs, GSM7_SINGLE, GSM7_PART),
        None => (
            Encoding::Ucs2,
            text.chars().map(char::len_utf16).collect(),
            UCS2_SINGLE,
            UCS2_PART,
        ),
    };
    let units: usize = costs.iter().sum();
    let segments = if units == 0 {
        0
    } else if units <= single {
        1
    } else {
        parts(&costs, part)
    };
    Segments {
        encoding,
        characters,
        units,
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_gsm7_and_fits_160_per_message() {
        let s = count(&"a".repeat(160));
        assert_eq!((s.encoding, s.units, s.segments), (Encoding::Gsm7, 160, 1));
        assert_eq!(count(&"a".repeat(161)).segments, 2);
        assert_eq!(count(&"a".repeat(306)).segments, 2);
        assert_eq!(count(&"a".repeat(307)).segments, 3);
        assert_eq!(count("").segments, 0);
    }

    #[test]
    fn extension_characters_cost_two_and_never_straddle_parts() {
        let s = count("€{}");
        assert_eq!((s.encoding, s.characters, s.units), (Encoding::Gsm7, 3, 6));
        // 152 letters and a euro sign: 154 septets, two parts, since the escape pair
        // cannot be split after the 153rd septet.
        let text = format!("{}€{}", "a".repeat(152), "b".repeat(10));
        assert_eq!(count(&text).units, 164);
        assert_eq!(count(&text).segments, 2);
    }

    #[test]
    fn one_character_outside_gsm7_makes_the_whole_message_ucs2() {
        let s = count("Your code: 123456 ✓");
        assert_eq!(s.encoding, Encoding::Ucs2);
        assert_eq!(count(&"ж".repeat(70)).segments, 1);
        assert_eq!(count(&"ж".repeat(71)).segments, 2);
        // An emoji is two UTF-16 units and stays whole in one part.
        let emoji = count(&"😀".repeat(35));
        assert_eq!((emoji.characters, emoji.units, emoji.segments), (35, 70, 1));
        assert_eq!(count(&format!("{}😀", "a".repeat(68))).segments, 1);
        assert_eq!(count(&format!("{}😀", "a".repeat(69))).segments, 2);
    }

    #[test]
    fn accented_letters_of_the_gsm_alphabet_stay_gsm7() {
        assert_eq!(count("Müller, Hà Nội").encoding, Encoding::Ucs2);
        assert_eq!(count("Müller, Åsa, Jürgen").encoding, Encoding::Gsm7);
    }
}
