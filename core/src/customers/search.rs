//! "Who is this?": finding a customer from any fragment a clerk types, instantly, in a
//! database of a million customers.
//!
//! # The index
//!
//! `customer_terms` holds one row per searchable term of a customer, and its primary key
//! (term, customer id) is a B-tree, so "every term starting with X" is one range scan that
//! returns rows already in order. Each term starts with a one-letter namespace:
//!
//! | prefix | what | example for WB-0001234, Zoë O'Brien-Lee, jo.smith@Example.com, (415) 555-0132 |
//! |--------|------|---------|
//! | `a` | the account number without punctuation, and from each of its parts on (leading zeros also dropped) | `awb0001234`, `a0001234`, `a1234` |
//! | `n` | each word of the name, folded for case and accents, punctuation removed, plus the parts of a hyphenated or apostrophised word | `nzoe`, `nobrienlee`, `no`, `nbrien`, `nlee` |
//! | `e` | the lower-cased email, and its rest from each part on (parts split at `@ . _ + -`) | `ejo.smith@example.com`, `esmith@example.com`, `eexample.com`, `ecom` |
//! | `p` | the suffixes of at least 3 digits of the number's E.164 digits that start at every other digit, and those of the digits as entered that the E.164 digits lack | `p14155550132`, `p155550132`, `p5550132`, `p50132`, `p132` |
//!
//! So a prefix of an email *part* finds the address ("smith", "example", "smith@exa"): this
//! is what "contains" means for email. Any run of digits inside a phone number finds it,
//! however it is formatted on either side ("555 01", "+1 (415) 555", "5550132"): digits
//! that start at an indexed suffix are a prefix of it, and digits that start one later are
//! a prefix of it after its first digit, so a phone fragment is looked up as itself and as
//! each of "0…" to "9…" followed by it (see [`PHONE_STRIDE`]).
//!
//! The terms of a customer (made in `terms.rs`) are a pure function of its stored fields,
//! which is how an edit removes the old ones without a second index on customer id. Changing
//! that function means rebuilding the index with [`reindex`] in a migration. How an import
//! writes many customers' terms at once is in `bulk_index.rs`.
//!
//! # A query
//!
//! The query is cut into tokens at whitespace (neighbouring tokens made only of digits and
//! phone punctuation are joined, so "555 12" stays one phone fragment). Every token must
//! match (AND). A token matches a customer through any of: account prefix, name-word prefix,
//! email-part prefix, or phone-digit run (when it has at least 3 digits).
//!
//! Order: the customer whose account number equals the whole query, then account-prefix
//! matches, then name, then email, then phone matches; a customer matched several ways
//! counts where it ranks best. Within a group, results follow the index: alphabetical by the
//! matched term (so the exact word "john" comes before "johnson"), then by customer id; with
//! several words, the index order of the word with the fewest index rows. The order depends
//! only on the data and the query, so paging with an offset is stable. A very vague query of
//! several words ("a b") examines a bounded number of candidates (see `LIMITS`) and may list
//! fewer matches than exist; one more letter narrows it.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection};

use super::terms::{
    account_has_prefix, account_key, email_has_prefix, fold, name_has_prefix, name_key,
    phone_digits, terms, TermList, TermSource, EMAIL_SEPARATORS,
};
use super::{by_account, get, Customer, CustomerError, COLUMNS};
use crate::contact::is_bidi_control;

/// More results than a screen can show is a query to refine, not a page to render.
pub const MAX_LIMIT: u32 = 200;
/// Paging deeper than this is scrolling through the phone book; search instead.
pub const MAX_OFFSET: u32 = 10_000;
/// Nobody types more; a pasted essay is cut here rather than searched.
pub const MAX_QUERY_CHARS: usize = 100;
pub const MAX_TOKENS: usize = 6;
/// Fewer digits than this would match a large share of all numbers.
pub const MIN_PHONE_DIGITS: usize = 3;
/// Phone numbers are indexed by their digit suffixes starting at every `PHONE_STRIDE`th
/// digit, not at every digit: 5 index rows for an 11-digit number instead of 9, which is
/// most of what an import writes. A search for digits then looks them up as they are and
/// behind each possible leading digit: 11 short range scans instead of one, a few
/// microseconds each, and the same customers found.
pub const PHONE_STRIDE: usize = 2;

/// How much work a query with several words may do.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// A word with fewer index rows than this is collected whole to check others against.
    small_token: usize,
    /// When every word is common ("john smi"), each is collected up to this many rows; a
    /// word with more ("a") is checked against each candidate's record instead.
    token_scan_cap: usize,
    /// Customers examined at most for one vague query.
    max_candidates: usize,
}

const LIMITS: Limits = Limits {
    small_token: 2_000,
    token_scan_cap: 150_000,
    max_candidates: 20_000,
};

/// How well a customer matched; lower sorts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Rank {
    Account,
    Name,
    Email,
    Phone,
}

/// Adds the terms of customer `id`.
pub(crate) fn index(conn: &Connection, id: i64, src: &TermSource<'_>) -> Result<(), CustomerError> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO customer_terms (term, customer_id) VALUES (?1, ?2)",
    )?;
    for term in terms(src) {
        stmt.execute(params![term, id])?;
    }
    Ok(())
}

/// Removes the terms of customer `id` as it is stored now.
pub(crate) fn unindex(
    conn: &Connection,
    id: i64,
    src: &TermSource<'_>,
) -> Result<(), CustomerError> {
    let mut stmt =
        conn.prepare_cached("DELETE FROM customer_terms WHERE term = ?1 AND customer_id = ?2")?;
    for term in terms(src) {
        stmt.execute(params![term, id])?;
    }
    Ok(())
}

/// Rows per INSERT statement in bulk loads: fewer statement steps, well under SQLite's
/// limit on bound parameters.
const TERMS_PER_INSERT: usize = 100;

/// Writes (term, customer id) rows, best given in key order. Repeats are harmless.
pub(crate) fn insert_sorted_terms<'a>(
    conn: &Connection,
    pairs: impl IntoIterator<Item = (&'a str, i64)>,
) -> Result<(), CustomerError> {
    let values = vec!["(?, ?)"; TERMS_PER_INSERT].join(", ");
    let mut many = conn.prepare_cached(&format!(
        "INSERT OR IGNORE INTO customer_terms (term, customer_id) VALUES {values}"
    ))?;
    let mut one = conn.prepare_cached(
        "INSERT OR IGNORE INTO customer_terms (term, customer_id) VALUES (?1, ?2)",
    )?;
    let mut batch: Vec<(&str, i64)> = Vec::with_capacity(TERMS_PER_INSERT);
    for pair in pairs {
        batch.push(pair);
        if batch.len() == TERMS_PER_INSERT {
            for (i, (term, id)) in batch.iter().enumerate() {
                many.raw_bind_parameter(2 * i + 1, *term)?;
                many.raw_bind_parameter(2 * i + 2, *id)?;
            }
            many.raw_execute()?;
            batch.clear();
        }
    }
    for (term, id) in batch {
        one.execute(params![term, id])?;
    }
    Ok(())
}

/// Rebuilds the whole search index from the customer rows. For a migration that changes
/// how terms are made, or to repair a database edited by hand. Returns the customers indexed.
pub fn reindex(conn: &mut Connection) -> Result<u64, CustomerError> {
    let tx = conn.transaction()?;
    let n = rebuild_index(&tx)?;
    tx.commit()?;
    Ok(n)
}

/// [`reindex`] inside the caller's transaction (a migration's). It reads only the fields
/// terms are made from, which every schema since the first has, so a later migration that
/// adds columns cannot break an older one that calls this.
pub(crate) fn rebuild_index(conn: &Connection) -> Result<u64, CustomerError> {
    conn.execute("DELETE FROM customer_terms", [])?;
    let mut list = TermList::default();
    let mut ids = Vec::new();
    {
        let mut stmt = conn
            .prepare("SELECT id, account_number, name, email, phone, phone_e164 FROM customers")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (account_number, name): (String, String) = (row.get(1)?, row.get(2)?);
            let (email, phone, phone_e164): (Option<String>, Option<String>, Option<String>) =
                (row.get(3)?, row.get(4)?, row.get(5)?);
            list.set_owner(owner_number(ids.len())?);
            list.add(&TermSource {
                account_number: &account_number,
                name: &name,
                email: email.as_deref(),
                phone: phone.as_deref(),
                phone_e164: phone_e164.as_deref(),
            });
            ids.push(row.get::<_, i64>(0)?);
        }
    }
    list.sort_dedup();
    insert_sorted_terms(conn, list.iter().map(|(t, i)| (t, ids[i as usize])))?;
    Ok(ids.len() as u64)
}

/// A position in a list of customers as a [`TermList`] owner. Four billion customers would
/// not fit in any database file this program makes; should it happen, it is a storage error.
pub(crate) fn owner_number(position: usize) -> Result<u32, CustomerError> {
    u32::try_from(position).map_err(|_| {
        CustomerError::Storage(rusqlite::Error::IntegralValueOutOfRange(
            0,
            i64::try_from(position).unwrap_or(i64::MAX),
        ))
    })
}

/// One word of a query and the index ranges it may match, best rank first.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    ranges: Vec<(Rank, String)>,
}

impl Token {
    /// How this token matches customer `c`, if at all: the answer the index would give,
    /// worked out from the record for a customer already in hand.
    fn rank_of(&self, c: &Customer) -> Option<Rank> {
        let mut phone_checked = false;
        self.ranges.iter().find_map(|(rank, prefix)| {
            let hit = match rank {
                Rank::Account => account_has_prefix(&c.account_number, prefix),
                Rank::Name => name_has_prefix(&c.name, prefix),
                Rank::Email => c
                    .email
                    .as_deref()
                    .is_some_and(|e| email_has_prefix(e, prefix)),
                // The index finds exactly the numbers the digits occur in. The first phone
                // range holds the typed digits; the later ones put a digit in front of them
                // and cannot match where the first does not, so they are not checked again.
                Rank::Phone if phone_checked => false,
                Rank::Phone => {
                    phone_checked = true;
                    [c.phone_e164.as_deref(), c.phone.as_deref()]
                        .into_iter()
                        .flatten()
                        .any(|p| phone_digits(p).contains(&prefix[1..]))
                }
            };
            hit.then_some(*rank)
        })
    }
}

/// The best rank per customer id for one token. Customer ids are row ids, dense from 1, so
/// an array indexed by id is both smaller and faster than a hash map; a database with
/// unusually large ids gets the map.
enum IdRanks {
    Dense(Vec<u8>),
    Sparse(HashMap<i64, Rank>),
}

const RANKS: [Rank; 4] = [Rank::Account, Rank::Name, Rank::Email, Rank::Phone];
const MAX_DENSE_ID: i64 = 16_000_000;

impl IdRanks {
    fn new(max_id: i64, hits: &[(Rank, i64)]) -> Self {
        if (0..=MAX_DENSE_ID).contains(&max_id) {
            let mut dense = vec![0u8; max_id as usize + 1];
            for (rank, id) in hits {
                if let Some(slot) = usize::try_from(*id).ok().and_then(|i| dense.get_mut(i)) {
                    if *slot == 0 {
                        *slot = *rank as u8 + 1;
                    }
                }
            }
            IdRanks::Dense(dense)
        } else {
            let mut best = HashMap::with_capacity(hits.len());
            for (rank, id) in hits {
                best.entry(*id).or_insert(*rank);
            }
            IdRanks::Sparse(best)
        }
    }

    fn get(&self, id: i64) -> Option<Rank> {
        match self {
            IdRanks::Dense(d) => {
                let slot = usize::try_from(id).ok().and_then(|i| d.get(i)).copied()?;
                slot.checked_sub(1).map(|r| RANKS[usize::from(r)])
            }
            IdRanks::Sparse(m) => m.get(&id).copied(),
        }
    }
}

fn is_phone_like(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit())
        && word
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '(' | ')' | '+' | '-' | '.' | '/' | ' '))
}

/// The first `MAX_QUERY_CHARS` characters, with control and direction-override characters
/// treated as spaces.
fn clean(query: &str) -> String {
    query
        .chars()
        .take(MAX_QUERY_CHARS)
        .map(|c| {
            if c.is_control() || is_bidi_control(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn tokens(cleaned: &str) -> Vec<Token> {
    let mut words: Vec<String> = Vec::new();
    let mut last_was_phone = false;
    for w in cleaned.split_whitespace() {
        let phone = is_phone_like(w);
        match words.last_mut() {
            Some(last) if phone && last_was_phone => {
                last.push(' ');
                last.push_str(w);
            }
            _ => words.push(w.to_string()),
        }
        last_was_phone = phone;
    }
    let mut out: Vec<Token> = Vec::new();
    for t in words.iter().filter_map(|w| token(w)) {
        if !out.contains(&t) {
            out.push(t);
        }
        if out.len() == MAX_TOKENS {
            break;
        }
    }
    out
}

fn token(word: &str) -> Option<Token> {
    let lower = word.to_lowercase();
    let mut ranges = Vec::new();
    // Account numbers are ASCII; "josé" must not match accounts starting "jos".
    if lower.chars().all(|c| c.is_ascii() || !c.is_alphanumeric()) {
        let key = account_key(&lower);
        if !key.is_empty() {
            ranges.push((Rank::Account, format!("a{key}")));
        }
    }
    let name = name_key(&fold(word));
    if !name.is_empty() {
        ranges.push((Rank::Name, format!("n{name}")));
    }
    if !lower.contains(' ') {
        let email = lower.trim_start_matches(EMAIL_SEPARATORS);
        if !email.is_empty() {
            ranges.push((Rank::Email, format!("e{email}")));
        }
    }
    if is_phone_like(word) {
        let digits: String = word.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= MIN_PHONE_DIGITS {
            ranges.push((Rank::Phone, format!("p{digits}")));
            // Digits that start between two indexed suffixes: the suffix before them holds
            // them after one (up to `PHONE_STRIDE - 1`) digit of any value.
            for width in 1..PHONE_STRIDE {
                for lead in 0..10u32.pow(width as u32) {
                    ranges.push((Rank::Phone, format!("p{lead:0width$}{digits}")));
                }
            }
        }
    }
    (!ranges.is_empty()).then_some(Token { ranges })
}

/// A string bound as TEXT although it may not be valid UTF-8: the exclusive upper end of a
/// prefix range. SQLite compares TEXT bytewise here, which is all a range bound needs.
struct TextBytes(Vec<u8>);

impl ToSql for TextBytes {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(&self.0)))
    }
}

/// The smallest byte string greater than every string starting with `prefix`. UTF-8 never
/// contains the byte 0xFF, so raising the last byte by one cannot overflow.
fn upper_bound(prefix: &str) -> TextBytes {
    let mut b = prefix.as_bytes().to_vec();
    if let Some(last) = b.last_mut() {
        *last = last.saturating_add(1);
    }
    TextBytes(b)
}

const RANGE_SQL: &str = "SELECT customer_id FROM customer_terms
                         WHERE term >= ?1 AND term < ?2 ORDER BY term, customer_id";

/// Walks the token's ranges in rank order, each in index order, until `visit` breaks.
/// Returns whether every row was visited.
fn scan(
    conn: &Connection,
    token: &Token,
    mut visit: impl FnMut(Rank, i64) -> Result<ControlFlow<()>, CustomerError>,
) -> Result<bool, CustomerError> {
    let mut stmt = conn.prepare_cached(RANGE_SQL)?;
    for (rank, prefix) in &token.ranges {
        let mut rows = stmt.query(params![prefix, upper_bound(prefix)])?;
        while let Some(row) = rows.next()? {
            if visit(*rank, row.get(0)?)?.is_break() {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Index rows for the token, counting no further than `cap`, and the best rank seen.
fn estimate(
    conn: &Connection,
    token: &Token,
    cap: usize,
) -> Result<(usize, Option<Rank>), CustomerError> {
    let mut stmt = conn.prepare_cached(
        "SELECT count(*) FROM (SELECT 1 FROM customer_terms WHERE term >= ?1 AND term < ?2 LIMIT ?3)",
    )?;
    let mut total = 0;
    let mut best = None;
    for (rank, prefix) in &token.ranges {
        let left = cap - total;
        let n: i64 = stmt.query_row(params![prefix, upper_bound(prefix), left as i64], |r| {
            r.get(0)
        })?;
        if n > 0 {
            best = best.or(Some(*rank));
        }
        total += n as usize;
        if total >= cap {
            break;
        }
    }
    Ok((total, best))
}

/// Customers matching `query`, best first; see the module documentation for what matches
/// and in which order. An empty query lists customers by account number. `limit` is capped
/// at [`MAX_LIMIT`], `offset` at [`MAX_OFFSET`].
pub fn search(
    conn: &Connection,
    query: &str,
    limit: u32,
    offset: u32,
) -> Result<Vec<Customer>, CustomerError> {
    let limit = limit.min(MAX_LIMIT) as usize;
    let offset = offset.min(MAX_OFFSET) as usize;
    if limit == 0 {
        return Ok(Vec::new());
    }
    let cleaned = clean(query);
    let whole = cleaned.trim();
    if whole.is_empty() {
        return browse(conn, limit, offset);
    }
    let tokens = tokens(whole);
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    let want = offset + limit;
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    if let Some(c) = by_account(conn, whole)? {
        seen.insert(c.id);
        order.push(c.id);
    }
    if let [token] = tokens.as_slice() {
        scan(conn, token, |_, id| {
            if seen.insert(id) {
                order.push(id);
            }
            Ok(if order.len() >= want {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        })?;
    } else {
        all_of(conn, &tokens, want, LIMITS, &mut seen, &mut order)?;
    }
    let mut page = Vec::with_capacity(limit);
    for id in order.iter().skip(offset).take(limit) {
        if let Some(c) = get(conn, *id)? {
            page.push(c);
        }
    }
    Ok(page)
}

/// Customers matching every token, appended to `order` best first.
fn all_of(
    conn: &Connection,
    tokens: &[Token],
    want: usize,
    limits: Limits,
    seen: &mut HashSet<i64>,
    order: &mut Vec<i64>,
) -> Result<(), CustomerError> {
    let mut estimates = Vec::with_capacity(tokens.len());
    for t in tokens {
        let (n, best) = estimate(conn, t, limits.small_token)?;
        match best {
            Some(best) => estimates.push((n, best)),
            // A token nobody matches: nobody matches them all.
            None => return Ok(()),
        }
    }
    // No customer can rank better than the best rank its weakest token allows.
    let floor = estimates
        .iter()
        .map(|(_, best)| *best)
        .min()
        .unwrap_or(Rank::Phone);

    // Collect the tokens cheap enough to hold in memory; when all are common, collect each
    // up to a cap. Tokens not collected are checked against the candidate's own terms.
    let any_small = estimates.iter().any(|(n, _)| *n < limits.small_token);
    let mut collected: Vec<Option<Vec<(Rank, i64)>>> = Vec::with_capacity(tokens.len());
    for (t, (n, _)) in tokens.iter().zip(&estimates) {
        if any_small && *n >= limits.small_token {
            collected.push(None);
            continue;
        }
        let cap = if any_small {
            limits.small_token
        } else {
            limits.token_scan_cap
        };
        let mut hits = Vec::new();
        let complete = scan(conn, t, |rank, id| {
            hits.push((rank, id));
            Ok(if hits.len() > cap {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        })?;
        collected.push(complete.then_some(hits));
    }
    let driver = collected
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.as_ref().map(|hits| (hits.len(), i)))
        .min()
        .map_or(0, |(_, i)| i);
    let max_id: i64 =
        conn.query_row("SELECT ifnull(max(id), 0) FROM customers", [], |r| r.get(0))?;
    let mut sets: Vec<IdRanks> = Vec::new();
    let mut to_check: Vec<&Token> = Vec::new();
    for (i, c) in collected.iter().enumerate() {
        if i == driver {
            continue;
        }
        match c {
            Some(hits) => sets.push(IdRanks::new(max_id, hits)),
            None => to_check.push(&tokens[i]),
        }
    }

    let mut matches: Vec<(Rank, usize, i64)> = Vec::new();
    let mut at_floor = order.len();
    let mut examined = 0;
    let mut consider = |rank: Rank, id: i64| -> Result<ControlFlow<()>, CustomerError> {
        if !seen.insert(id) {
            return Ok(ControlFlow::Continue(()));
        }
        examined += 1;
        if examined > limits.max_candidates {
            return Ok(ControlFlow::Break(()));
        }
        let mut best = rank;
        for set in &sets {
            match set.get(id) {
                Some(r) => best = best.min(r),
                None => return Ok(ControlFlow::Continue(())),
            }
        }
        if !to_check.is_empty() {
            let Some(c) = get(conn, id)? else {
                return Ok(ControlFlow::Continue(()));
            };
            for t in &to_check {
                match t.rank_of(&c) {
                    Some(r) => best = best.min(r),
                    None => return Ok(ControlFlow::Continue(())),
                }
            }
        }
        matches.push((best, matches.len(), id));
        if best == floor {
            at_floor += 1;
            if at_floor >= want {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    };
    match &collected[driver] {
        Some(hits) => {
            for (rank, id) in hits {
                if consider(*rank, *id)?.is_break() {
                    break;
                }
            }
        }
        None => {
            scan(conn, &tokens[driver], consider)?;
        }
    }
    matches.sort_unstable();
    order.extend(matches.into_iter().map(|(_, _, id)| id));
    Ok(())
}

/// Every customer by account number, for an empty search box.
fn browse(conn: &Connection, limit: usize, offset: usize) -> Result<Vec<Customer>, CustomerError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM customers ORDER BY account_number LIMIT ?1 OFFSET ?2"
    ))?;
    let rows = stmt
        .query_map(params![limit as i64, offset as i64], Customer::from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::{create, CustomerInput};
    use crate::{ManualClock, Store};
    use std::sync::Arc;

    #[test]
    fn phone_fragments_stay_one_token() {
        let t = tokens("+1 (555) 123");
        assert_eq!(t.len(), 1);
        assert!(t[0].ranges.contains(&(Rank::Phone, "p1555123".into())));
        // The same digits one place later in the number: behind any digit.
        assert!(t[0].ranges.contains(&(Rank::Phone, "p01555123".into())));
        assert!(t[0].ranges.contains(&(Rank::Phone, "p91555123".into())));
        assert_eq!(
            t[0].ranges
                .iter()
                .filter(|(r, _)| *r == Rank::Phone)
                .count(),
            11
        );
        let t = tokens("smith 555 12");
        assert_eq!(t.len(), 2);
        assert!(t[1].ranges.contains(&(Rank::Phone, "p55512".into())));
        assert!(tokens("12")[0]
            .ranges
            .iter()
            .all(|(r, _)| *r != Rank::Phone));
    }

    #[test]
    fn hostile_queries_become_plain_tokens() {
        assert!(
            tokens("--- ...").is_empty(),
            "punctuation alone matches nothing"
        );
        assert!(clean(" \u{202E} \r\n ").trim().is_empty());
        assert_eq!(tokens(&clean("ann\u{202E}lee")).len(), 2);
        assert_eq!(clean(&"x".repeat(1_000_000)).len(), MAX_QUERY_CHARS);
        assert_eq!(tokens(&"a ".repeat(50)).len(), 1, "repeats collapse");
        assert_eq!(tokens(&"a b c d e f g h ".repeat(5)).len(), MAX_TOKENS);
    }

    #[test]
    fn upper_bound_is_just_past_the_prefix() {
        assert_eq!(upper_bound("nab").0, b"nac");
        assert_eq!(
            upper_bound("né").0,
            "né".as_bytes()[..2]
                .iter()
                .copied()
                .chain([0xAA])
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn ranking_puts_exact_account_then_prefix_then_name_then_email_then_phone() {
        let clock = ManualClock::start();
        let store = Store::open_in_memory(Arc::new(clock.clone())).unwrap();
        let mut conn = store.conn();
        let mut add = |account: &str, name: &str, email: &str, phone: &str| {
            create(
                &mut conn,
                &clock,
                "ann",
                &CustomerInput {
                    account_number: account.into(),
                    name: name.into(),
                    email: email.into(),
                    phone: phone.into(),
                    ..Default::default()
                },
            )
            .unwrap()
            .id
        };
        let by_phone = add("X-1", "Zed", "", "(415) 555-0132");
        let by_email = add("X-2", "Yan", "kim415@example.com", "");
        let prefix = add("415-2", "Xu", "", "");
        let exact = add("415", "Wu", "", "");
        let ids: Vec<i64> = search(&conn, "415", 10, 0)
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, [exact, prefix, by_phone]);
        let ids: Vec<i64> = search(&conn, "kim415", 10, 0)
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, [by_email]);
    }

    fn sample_store(n: usize) -> Store {
        let clock = ManualClock::start();
        let store = Store::open_in_memory(Arc::new(clock.clone())).unwrap();
        crate::customers::load_sample(&mut store.conn(), &clock, "ann", n).unwrap();
        store
    }

    #[test]
    fn checking_a_record_agrees_with_the_index() {
        let store = sample_store(400);
        let conn = store.conn();
        let all: Vec<Customer> = browse(&conn, 400, 0).unwrap();
        for q in [
            "jo",
            "smi",
            "example.c",
            "wb-00001",
            "555",
            "0132",
            "bills",
            "o'b",
            "ma",
            "+1 (2",
        ] {
            for t in tokens(&clean(q)) {
                let mut by_index: HashMap<i64, Rank> = HashMap::new();
                scan(&conn, &t, |rank, id| {
                    by_index.entry(id).or_insert(rank);
                    Ok(ControlFlow::Continue(()))
                })
                .unwrap();
                for c in &all {
                    assert_eq!(t.rank_of(c), by_index.get(&c.id).copied(), "{q:?} {c:?}");
                }
            }
        }
    }

    #[test]
    fn tight_limits_find_the_same_customers() {
        let store = sample_store(1500);
        let conn = store.conn();
        let tight = Limits {
            small_token: 3,
            token_scan_cap: 10,
            max_candidates: 1_000_000,
        };
        for q in ["j s", "mar wb", "ann example", "a e", "smith 4", "jo com"] {
            let t = tokens(&clean(q));
            assert!(t.len() > 1, "{q}");
            let run = |limits: Limits| {
                let (mut seen, mut order) = (HashSet::new(), Vec::new());
                all_of(&conn, &t, 200, limits, &mut seen, &mut order).unwrap();
                order
            };
            let normal = run(LIMITS);
            assert!(!normal.is_empty(), "{q}");
            let mut a = normal.clone();
            let mut b = run(tight);
            assert_eq!(a.len(), b.len(), "{q}");
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "{q}: the same customers whichever way they are found");
        }
    }
}
