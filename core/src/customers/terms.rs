//! The search terms of a customer: the rows `customer_terms` holds for each record. What each
//! kind of term lets a clerk find is documented at the top of `search`.
//!
//! Terms are written back to back into one buffer, a [`TermList`], rather than one `String`
//! each: an import of 100,000 customers makes 1.31 million of them, and with one allocation
//! per term their making and sorting cost as much as checking the rows themselves.

use std::cmp::Ordering;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::search::{MIN_PHONE_DIGITS, PHONE_STRIDE};

/// Where an email address is split into parts.
pub(crate) const EMAIL_SEPARATORS: [char; 5] = ['@', '.', '_', '+', '-'];

/// The stored fields that terms are made from.
pub(crate) struct TermSource<'a> {
    pub account_number: &'a str,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub phone_e164: Option<&'a str>,
}

/// Bytes of a term kept in its [`Span`]'s head.
const HEAD_BYTES: u32 = 8;

/// A term's first `N` bytes, zero-padded. Read as a big-endian number, heads order two
/// terms the way their bytes do whenever the heads differ, without reading the rest.
pub(crate) fn head<const N: usize>(term: &[u8]) -> [u8; N] {
    let mut head = [0u8; N];
    let n = term.len().min(N);
    head[..n].copy_from_slice(&term[..n]);
    head
}

/// How two terms with equal heads of `head_bytes` bytes compare: when both fit in their
/// heads, the shorter is a prefix of the other (padded with zero bytes), so length decides
/// without the text; otherwise `text` compares them in full.
pub(crate) fn after_equal_heads(
    head_bytes: usize,
    a_len: usize,
    b_len: usize,
    text: impl FnOnce() -> Ordering,
) -> Ordering {
    if a_len <= head_bytes && b_len <= head_bytes {
        a_len.cmp(&b_len)
    } else {
        text()
    }
}

/// One term in a [`TermList`].
#[derive(Debug, Clone, Copy)]
struct Span {
    /// The term's first eight bytes, big-endian and zero-padded: comparing heads orders two
    /// terms the way their bytes do whenever the heads differ, without reading the buffer.
    head: u64,
    start: usize,
    len: u32,
    owner: u32,
}

/// The terms of one or many customers, each tagged with an owner number the caller chooses
/// (a row of an import chunk, an index into a list of customer ids).
#[derive(Debug, Default)]
pub(crate) struct TermList {
    text: String,
    spans: Vec<Span>,
    owner: u32,
}

impl TermList {
    /// Room for about `customers` customers' terms.
    pub(crate) fn for_customers(customers: usize) -> Self {
        Self {
            text: String::with_capacity(customers * 160),
            spans: Vec::with_capacity(customers * 20),
            owner: 0,
        }
    }

    /// Terms added from now on belong to `owner`.
    pub(crate) fn set_owner(&mut self, owner: u32) {
        self.owner = owner;
    }

    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// Every term of one customer.
    pub(crate) fn add(&mut self, src: &TermSource<'_>) {
        self.add_account(src.account_number);
        self.add_name(src.name);
        if let Some(email) = src.email {
            self.add_email(email);
        }
        self.add_phones(src.phone_e164, src.phone);
    }

    /// Adds the term `namespace` + whatever `body` writes, unless `body` writes nothing.
    fn push_with(&mut self, namespace: char, body: impl FnOnce(&mut String)) {
        let start = self.text.len();
        self.text.push(namespace);
        body(&mut self.text);
        if self.text.len() == start + namespace.len_utf8() {
            self.text.truncate(start);
            return;
        }
        let term = &self.text.as_bytes()[start..];
        self.spans.push(Span {
            head: u64::from_be_bytes(head(term)),
            start,
            // A term is a few hundred bytes at most: its field's length limit.
            len: u32::try_from(term.len()).unwrap_or(u32::MAX),
            owner: self.owner,
        });
    }

    /// Adds a term as the index stores it, namespace letter first.
    pub(crate) fn push_stored(&mut self, term: &str) {
        let mut chars = term.chars();
        if let Some(namespace) = chars.next() {
            self.push(namespace, chars.as_str());
        }
    }

    fn push(&mut self, namespace: char, body: &str) {
        self.push_with(namespace, |t| t.push_str(body));
    }

    fn term(&self, s: &Span) -> &str {
        &self.text[s.start..s.start + s.len as usize]
    }

    fn order(&self, a: &Span, b: &Span) -> Ordering {
        a.head
            .cmp(&b.head)
            .then_with(|| {
                after_equal_heads(HEAD_BYTES as usize, a.len as usize, b.len as usize, || {
                    self.term(a).cmp(self.term(b))
                })
            })
            .then(a.owner.cmp(&b.owner))
    }

    /// Sorts by (term, owner), the index's key order, and drops repeats.
    pub(crate) fn sort_dedup(&mut self) {
        let mut spans = std::mem::take(&mut self.spans);
        spans.sort_unstable_by(|a, b| self.order(a, b));
        spans.dedup_by(|a, b| self.order(a, b) == Ordering::Equal);
        self.spans = spans;
    }

    /// (where in [`Self::into_text`] it starts, term, owner) for each term, in the order added.
    pub(crate) fn placed(&self) -> impl Iterator<Item = (usize, &str, u32)> + '_ {
        self.spans.iter().map(|s| (s.start, self.term(s), s.owner))
    }

    /// The buffer all terms are written into.
    pub(crate) fn into_text(self) -> String {
        self.text
    }

    /// (term, owner) pairs, in the order added or, after [`Self::sort_dedup`], in key order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        self.spans.iter().map(|s| (self.term(s), s.owner))
    }

    fn any_starts_with(&self, prefix: &str) -> bool {
        self.iter().any(|(t, _)| t.starts_with(prefix))
    }

    /// The account number without punctuation, and from each of its parts on (leading zeros
    /// also dropped).
    fn add_account(&mut self, account: &str) {
        let compact = account_key(account);
        // Parts start after punctuation and where letters turn into digits or back, so that
        // "1234" finds WB-0001234 as well as "WB-00012" does.
        let mut prev: Option<char> = None;
        let mut at = 0;
        for c in account.chars() {
            if c.is_ascii_alphanumeric() {
                let starts = match prev {
                    None => true,
                    Some(p) => {
                        !p.is_ascii_alphanumeric() || p.is_ascii_digit() != c.is_ascii_digit()
                    }
                };
                if starts {
                    let rest = &compact[at..];
                    self.push('a', rest);
                    let unpadded = rest.trim_start_matches('0');
                    if unpadded.len() != rest.len()
                        && unpadded.starts_with(|c: char| c.is_ascii_digit())
                    {
                        self.push('a', unpadded);
                    }
                }
                at += 1;
            }
            prev = Some(c);
        }
    }

    /// Each folded word of the name without punctuation, plus the parts of a hyphenated or
    /// apostrophised word.
    fn add_name(&mut self, name: &str) {
        let folded = fold(name);
        for word in folded.split_whitespace() {
            let before = self.len();
            self.push_with('n', |t| {
                t.extend(word.chars().filter(|c| c.is_alphanumeric()))
            });
            if self.len() == before {
                continue;
            }
            let mut parts = word
                .split(|c: char| !c.is_alphanumeric())
                .filter(|p| !p.is_empty());
            if let (Some(first), Some(second)) = (parts.next(), parts.next()) {
                for p in [first, second].into_iter().chain(parts) {
                    self.push('n', p);
                }
            }
        }
    }

    /// The lower-cased address, and its rest from each part on.
    fn add_email(&mut self, email: &str) {
        let lower = email.to_lowercase();
        self.push('e', &lower);
        for (i, c) in lower.char_indices() {
            if EMAIL_SEPARATORS.contains(&c) {
                let rest = &lower[i + c.len_utf8()..];
                if !rest.is_empty() && !rest.starts_with(EMAIL_SEPARATORS) {
                    self.push('e', rest);
                }
            }
        }
    }

    /// The digit suffixes a search needs to find any run of [`MIN_PHONE_DIGITS`] or more
    /// digits of the E.164 digits or of the digits as entered: those starting at every
    /// [`PHONE_STRIDE`]th digit (a run that starts in between is found through the suffix
    /// just before it, see `search`). Of the digits as entered, only suffixes that start
    /// before the part they share with the end of the E.164 digits are needed: a run inside
    /// that part is a run of the E.164 digits too. So "(415) 555-0132" adds nothing to
    /// +14155550132, and "020 7946 0958" adds only its whole digits to +442079460958.
    fn add_phones(&mut self, e164: Option<&str>, as_entered: Option<&str>) {
        let e164 = e164.map(phone_digits).unwrap_or_default();
        self.add_digit_suffixes(&e164, e164.len());
        if let Some(d) = as_entered.map(phone_digits) {
            let shared = d
                .bytes()
                .rev()
                .zip(e164.bytes().rev())
                .take_while(|(a, b)| a == b)
                .count();
            self.add_digit_suffixes(&d, d.len() - shared);
        }
    }

    /// The suffixes of `digits` that start at a multiple of [`PHONE_STRIDE`] before `end`
    /// and are at least [`MIN_PHONE_DIGITS`] long.
    fn add_digit_suffixes(&mut self, digits: &str, end: usize) {
        let last = digits.len().saturating_sub(MIN_PHONE_DIGITS);
        for start in (0..end.min(last + 1)).step_by(PHONE_STRIDE) {
            if digits.len() - start >= MIN_PHONE_DIGITS {
                self.push('p', &digits[start..]);
            }
        }
    }
}

/// Every search term of a customer, sorted and without repeats.
pub(crate) fn terms(src: &TermSource<'_>) -> Vec<String> {
    let mut list = TermList::default();
    list.add(src);
    list.sort_dedup();
    list.iter().map(|(t, _)| t.to_string()).collect()
}

/// Whether any account term of `account` starts with `prefix`.
pub(crate) fn account_has_prefix(account: &str, prefix: &str) -> bool {
    let mut list = TermList::default();
    list.add_account(account);
    list.any_starts_with(prefix)
}

/// Whether any name term of `name` starts with `prefix`.
pub(crate) fn name_has_prefix(name: &str, prefix: &str) -> bool {
    let mut list = TermList::default();
    list.add_name(name);
    list.any_starts_with(prefix)
}

/// Whether any email term of `email` starts with `prefix`.
pub(crate) fn email_has_prefix(email: &str, prefix: &str) -> bool {
    let mut list = TermList::default();
    list.add_email(email);
    list.any_starts_with(prefix)
}

pub(crate) fn phone_digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// Letters and digits only, lower-cased: "WB-0001234" and "wb 0001234" are one account.
pub(crate) fn account_key(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A name word's letters and digits.
pub(crate) fn name_key(word: &str) -> String {
    word.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Lower case without accents: "Zoë", "ZOE" and "zoe" are one name; "Søren" is "soren".
pub(crate) fn fold(s: &str) -> String {
    // ASCII has no accents and no compatibility forms: lower case is all folding does to it.
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(s.len());
    for c in s
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
    {
        match c {
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'þ' => out.push_str("th"),
            'ø' => out.push('o'),
            'ł' => out.push('l'),
            'đ' | 'ð' => out.push('d'),
            'ı' => out.push('i'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source<'a>(
        account: &'a str,
        name: &'a str,
        email: Option<&'a str>,
        phone: Option<&'a str>,
        e164: Option<&'a str>,
    ) -> TermSource<'a> {
        TermSource {
            account_number: account,
            name,
            email,
            phone,
            phone_e164: e164,
        }
    }

    #[test]
    fn account_terms_cover_parts_and_padding() {
        let t = terms(&source("WB-0001234", "X", None, None, None));
        assert!(t.contains(&"awb0001234".to_string()));
        assert!(t.contains(&"a0001234".to_string()));
        assert!(t.contains(&"a1234".to_string()));
        let t = terms(&source("ACC12b", "X", None, None, None));
        for want in ["aacc12b", "a12b", "ab"] {
            assert!(t.contains(&want.to_string()), "{want} in {t:?}");
        }
    }

    #[test]
    fn name_terms_are_folded_words_and_parts() {
        let t = terms(&source("1", "Zoë O'Brien-Lee  Søren", None, None, None));
        for want in ["nzoe", "nobrienlee", "no", "nbrien", "nlee", "nsoren"] {
            assert!(t.contains(&want.to_string()), "{want} in {t:?}");
        }
    }

    #[test]
    fn email_terms_start_at_every_part() {
        let t = terms(&source(
            "1",
            "X",
            Some("Jo.Smith+bills@Example.com"),
            None,
            None,
        ));
        for want in [
            "ejo.smith+bills@example.com",
            "esmith+bills@example.com",
            "ebills@example.com",
            "eexample.com",
            "ecom",
        ] {
            assert!(t.contains(&want.to_string()), "{want} in {t:?}");
        }
    }

    fn phone_terms(e164: Option<&str>, as_entered: Option<&str>) -> Vec<String> {
        terms(&source("1", "X", None, as_entered, e164))
            .into_iter()
            .filter(|t| t.starts_with('p'))
            .collect()
    }

    #[test]
    fn phone_terms_start_at_every_other_digit() {
        assert_eq!(
            phone_terms(Some("+14155550132"), Some("(415) 555-0132")),
            ["p132", "p14155550132", "p155550132", "p50132", "p5550132"]
        );
    }

    #[test]
    fn digits_as_entered_add_only_what_the_e164_digits_lack() {
        // The national trunk prefix: only the whole digits as entered start with "02".
        let uk = phone_terms(Some("+442079460958"), Some("020 7946 0958"));
        assert!(uk.contains(&"p02079460958".to_string()), "{uk:?}");
        assert_eq!(uk.len(), 6, "{uk:?}");
        // Nothing in common: the number as entered is indexed on its own.
        let other = phone_terms(Some("+14155550132"), Some("0800 123 456"));
        assert!(other.contains(&"p0800123456".to_string()), "{other:?}");
        assert!(other.contains(&"p3456".to_string()), "{other:?}");
        assert!(!other.contains(&"p456".to_string()), "{other:?}");
        // No E.164 form (the number did not parse): the digits as entered.
        assert_eq!(phone_terms(None, Some("12-34")), ["p1234"]);
        assert_eq!(phone_terms(None, Some("12")), Vec::<String>::new());
    }

    #[test]
    fn folding_treats_ascii_and_accented_names_alike() {
        assert_eq!(fold("ZOE Muller"), "zoe muller");
        assert_eq!(fold("Zoë Müller"), "zoe muller");
        assert_eq!(fold("Straße Łukasz"), "strasse lukasz");
        assert_eq!(fold("ﬁne"), "fine");
    }

    #[test]
    fn sorting_agrees_with_sorting_the_strings_themselves() {
        let words = [
            "n",
            "na",
            "nab",
            "nab\u{0}",
            "nab\u{0}\u{0}",
            "nabcdefg",
            "nabcdefgh",
            "nabcdefgh\u{0}",
            "nabcdefghi",
            "nabcdefgi",
            "nzoë",
            "nzoe",
            "p4155550132",
            "p415555",
            "p4155550133",
        ];
        let mut list = TermList::default();
        let mut want: Vec<(String, u32)> = Vec::new();
        for owner in [2, 0, 1] {
            list.set_owner(owner);
            for w in words.iter().rev() {
                list.push_stored(w);
                want.push((w.to_string(), owner));
            }
        }
        // A term of the namespace letter alone is no term.
        want.retain(|(w, _)| w.len() > 1);
        want.sort();
        want.dedup();
        list.sort_dedup();
        let got: Vec<(String, u32)> = list.iter().map(|(t, o)| (t.to_string(), o)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn sorting_follows_the_bytes_of_each_term_then_the_owner() {
        let mut list = TermList::default();
        for (owner, name) in [
            (3, "abcdefghij abcdefgh"),
            (1, "abcdefghi abcdefghij"),
            (2, "a b"),
        ] {
            list.set_owner(owner);
            list.add_name(name);
        }
        list.sort_dedup();
        let got: Vec<(&str, u32)> = list.iter().collect();
        assert_eq!(
            got,
            [
                ("na", 2),
                ("nabcdefgh", 3),
                ("nabcdefghi", 1),
                ("nabcdefghij", 1),
                ("nabcdefghij", 3),
                ("nb", 2),
            ]
        );
    }
}
