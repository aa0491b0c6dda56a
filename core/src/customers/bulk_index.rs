//! Writing the search terms of many customers at once, for an import or a sample load.
//!
//! The index is a B-tree keyed by (term, customer id). Rows that arrive in key order after
//! everything already in the tree are appended to its last page; rows that land in the
//! middle each cost a search from the root and, now and then, a page split there. Measured
//! on 100,000 customers (1.65 million rows before schema 6, instruction counts): 2.5 thousand instructions
//! per row appended against 4.6 thousand per row written chunk by chunk into a growing tree.
//!
//! So when an import brings most of what the index will hold (the first import into a new
//! database, or one after a few sample customers), its terms are kept and written once at
//! the end as one key-ordered stream together with whatever the index held before
//! ([`Plan::Rebuild`]). Otherwise each chunk's terms are sorted and written as soon as the
//! chunk's customers are saved, so that writing overlaps with checking the next chunk
//! ([`Plan::PerChunk`]).
//!
//! A rebuild's terms are not sorted while rows are being checked: both cores are busy then.
//! They are sorted at the end, on a second thread, while this one writes: first spread into
//! buckets by their first two bytes, then each bucket sorted in turn and handed over, so the
//! writer starts after the first bucket rather than after the whole sort.

use std::cmp::Ordering;
use std::sync::mpsc;

use rusqlite::Connection;

use super::search::insert_sorted_terms;
use super::terms::{after_equal_heads, head, TermList};
use super::CustomerError;

/// A rebuild keeps at most this many terms in memory (about 130 MB); a bigger import writes
/// what it has and goes on chunk by chunk.
const MAX_KEPT_TERMS: usize = 4_000_000;

/// Sorted pairs handed from the sorting thread to the writer at a time.
const SORTED_BATCH: usize = 4096;

/// Batches the sorting thread may have ready before the writer takes them: enough to cover
/// the sorting of one large group (all full international numbers start alike, "p1"),
/// during which the writer would otherwise wait.
const SORTED_AHEAD: usize = 16;

/// Rebuild when the database already holds fewer customers than this share of the import.
const REBUILD_BELOW_SHARE: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Write each chunk's terms when the chunk is saved.
    PerChunk,
    /// Keep the terms and write the whole index again at the end, in key order.
    Rebuild,
}

impl Plan {
    /// The better plan for adding up to `incoming` customers to the database.
    pub(crate) fn choose(conn: &Connection, incoming: usize) -> Result<Plan, CustomerError> {
        // Ids are dense from 1 unless customers were deleted, so the largest id is a cheap,
        // never-too-small count of the customers there are.
        let existing: i64 =
            conn.query_row("SELECT ifnull(max(id), 0) FROM customers", [], |r| r.get(0))?;
        let few = usize::try_from(existing)
            .is_ok_and(|n| n.saturating_mul(REBUILD_BELOW_SHARE) < incoming);
        Ok(if few { Plan::Rebuild } else { Plan::PerChunk })
    }
}

/// A chunk's terms as a checking thread hands them to the writer.
pub(crate) enum ChunkTerms {
    /// Sorted by (term, owner), to be written at once ([`Plan::PerChunk`]).
    Sorted(TermList),
    /// Grouped by their first two bytes, to be sorted at the end ([`Plan::Rebuild`]).
    Grouped(Grouped),
}

impl ChunkTerms {
    /// What a checking thread makes of a chunk's terms for `plan`.
    pub(crate) fn prepare(mut terms: TermList, plan: Plan) -> Self {
        match plan {
            Plan::PerChunk => {
                terms.sort_dedup();
                ChunkTerms::Sorted(terms)
            }
            Plan::Rebuild => ChunkTerms::Grouped(Grouped::of(terms)),
        }
    }
}

/// Groups by the first two bytes of a term: 65,536 of them.
const GROUPS: usize = 1 << 16;

/// Terms in order of their first two bytes (a counting sort), each with its first sixteen
/// bytes at hand, so that sorting rarely needs to read the text.
pub(crate) struct Grouped {
    text: String,
    entries: Vec<Entry>,
}

/// One term of a [`Grouped`]: its first sixteen bytes, big-endian and zero-padded (two
/// words, to keep the entry 8-byte aligned and 32 bytes long), where it is in the text,
/// and its owner.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    hi: u64,
    lo: u64,
    start: usize,
    len: u32,
    owner: u32,
}

const HEAD_BYTES: usize = 16;

impl Entry {
    fn group(&self) -> usize {
        (self.hi >> 48) as usize
    }
}

impl Grouped {
    fn of(terms: TermList) -> Self {
        let placed: Vec<Entry> = terms
            .placed()
            .map(|(start, term, owner)| {
                let head = u128::from_be_bytes(head::<HEAD_BYTES>(term.as_bytes()));
                Entry {
                    hi: (head >> 64) as u64,
                    lo: head as u64,
                    start,
                    // A term is at most a field's few hundred bytes.
                    len: u32::try_from(term.len()).unwrap_or(u32::MAX),
                    owner,
                }
            })
            .collect();
        // Group g's entries go to next[g]..: the counts of all groups before it.
        let mut next = vec![0usize; GROUPS];
        for e in &placed {
            next[e.group()] += 1;
        }
        let mut sum = 0;
        for n in next.iter_mut() {
            let count = *n;
            *n = sum;
            sum += count;
        }
        let mut entries = vec![Entry::default(); placed.len()];
        for e in placed {
            let at = &mut next[e.group()];
            entries[*at] = e;
            *at += 1;
        }
        Grouped {
            text: terms.into_text(),
            entries,
        }
    }

    fn term(&self, e: &Entry) -> &str {
        &self.text[e.start..e.start + e.len as usize]
    }
}

/// One chunk's terms and the customer id of each owner (`None` for rows that were not
/// saved or need no terms).
struct Run {
    terms: Grouped,
    ids: Vec<Option<i64>>,
}

/// The terms of an import on their way into the index.
pub(crate) struct BulkIndex {
    plan: Plan,
    runs: Vec<Run>,
    kept: usize,
}

impl BulkIndex {
    pub(crate) fn new(plan: Plan) -> Self {
        Self {
            plan,
            runs: Vec::new(),
            kept: 0,
        }
    }

    pub(crate) fn plan(&self) -> Plan {
        self.plan
    }

    /// Adds one chunk's terms, owned by positions in `ids`.
    pub(crate) fn add(
        &mut self,
        conn: &Connection,
        terms: ChunkTerms,
        ids: Vec<Option<i64>>,
    ) -> Result<(), CustomerError> {
        let terms = match (self.plan, terms) {
            (_, ChunkTerms::Sorted(terms)) => {
                let pairs = terms.iter().filter_map(|(term, owner)| {
                    ids.get(owner as usize)
                        .copied()
                        .flatten()
                        .map(|id| (term, id))
                });
                return insert_sorted_terms(conn, pairs);
            }
            // Checked for a rebuild that has since stopped (below): sorted here.
            (Plan::PerChunk, ChunkTerms::Grouped(terms)) => {
                let run = [Run { terms, ids }];
                let mut pairs = Vec::new();
                in_key_order(&run, |batch| {
                    pairs.extend(batch);
                    true
                });
                return insert_sorted_terms(conn, pairs);
            }
            (Plan::Rebuild, ChunkTerms::Grouped(terms)) => terms,
        };
        self.kept += terms.entries.len();
        self.runs.push(Run { terms, ids });
        if self.kept > MAX_KEPT_TERMS {
            // Written now, the rest is added to a tree that is no longer empty: chunk by
            // chunk is then the faster way.
            self.write_all(conn)?;
            self.plan = Plan::PerChunk;
        }
        Ok(())
    }

    /// Writes whatever is still kept. Nothing of the import is in the index before this.
    pub(crate) fn finish(mut self, conn: &Connection) -> Result<(), CustomerError> {
        if self.plan == Plan::Rebuild {
            self.write_all(conn)?;
        }
        Ok(())
    }

    /// Takes the index's current rows out and writes them back together with the kept runs,
    /// all in key order.
    fn write_all(&mut self, conn: &Connection) -> Result<(), CustomerError> {
        let mut runs = std::mem::take(&mut self.runs);
        if self.kept == 0 {
            // Nothing was saved (every row refused, or all unchanged): the index stays.
            return Ok(());
        }
        self.kept = 0;
        let existing = take_existing(conn)?;
        runs.push(existing);
        let runs = &runs;
        std::thread::scope(|scope| {
            let (send, receive) = mpsc::sync_channel::<Vec<(&str, i64)>>(SORTED_AHEAD);
            scope.spawn(move || {
                // A closed channel means the writer stopped (an error): stop sorting too.
                in_key_order(runs, |batch| send.send(batch).is_ok());
            });
            insert_sorted_terms(conn, receive.into_iter().flatten())
        })
    }
}

/// A term being sorted: its head (see [`Entry`]), customer id and text.
struct Keyed<'a> {
    hi: u64,
    lo: u64,
    id: i64,
    term: &'a str,
}

impl Keyed<'_> {
    fn order(a: &Self, b: &Self) -> Ordering {
        (a.hi, a.lo)
            .cmp(&(b.hi, b.lo))
            .then_with(|| {
                after_equal_heads(HEAD_BYTES, a.term.len(), b.term.len(), || {
                    a.term.cmp(b.term)
                })
            })
            .then(a.id.cmp(&b.id))
    }
}

/// Every (term, customer id) pair of `runs` in key order without repeats, handed to `emit`
/// in batches until it returns false. One group (first two bytes) at a time is gathered
/// from every run and sorted, so the first batch is ready long before the last is sorted.
fn in_key_order<'a>(runs: &'a [Run], mut emit: impl FnMut(Vec<(&'a str, i64)>) -> bool) {
    let mut cursors = vec![0usize; runs.len()];
    let mut group: Vec<Keyed<'a>> = Vec::new();
    let mut batch = Vec::with_capacity(SORTED_BATCH);
    loop {
        let next = runs
            .iter()
            .zip(&cursors)
            .filter_map(|(run, &at)| run.terms.entries.get(at).map(Entry::group))
            .min();
        let Some(g) = next else {
            break;
        };
        group.clear();
        for (run, at) in runs.iter().zip(cursors.iter_mut()) {
            while let Some(e) = run.terms.entries.get(*at).filter(|e| e.group() == g) {
                *at += 1;
                if let Some(id) = run.ids.get(e.owner as usize).copied().flatten() {
                    group.push(Keyed {
                        hi: e.hi,
                        lo: e.lo,
                        id,
                        term: run.terms.term(e),
                    });
                }
            }
        }
        group.sort_unstable_by(Keyed::order);
        group.dedup_by(|a, b| a.id == b.id && a.term == b.term);
        for k in &group {
            batch.push((k.term, k.id));
            if batch.len() == SORTED_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(SORTED_BATCH));
                if !emit(full) {
                    return;
                }
            }
        }
    }
    if !batch.is_empty() {
        emit(batch);
    }
}

/// Reads every row of the index, in key order, and empties it (SQLite then frees its pages
/// wholesale).
fn take_existing(conn: &Connection) -> Result<Run, CustomerError> {
    let mut terms = TermList::default();
    let mut ids = Vec::new();
    {
        let mut stmt = conn
            .prepare("SELECT term, customer_id FROM customer_terms ORDER BY term, customer_id")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let term: String = row.get(0)?;
            terms.set_owner(super::search::owner_number(ids.len())?);
            terms.push_stored(&term);
            ids.push(Some(row.get(1)?));
        }
    }
    if !ids.is_empty() {
        conn.execute("DELETE FROM customer_terms", [])?;
    }
    Ok(Run {
        terms: Grouped::of(terms),
        ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::terms::TermSource;

    fn run(list: &[(&str, u32)], ids: &[Option<i64>]) -> Run {
        let mut terms = TermList::default();
        for (t, owner) in list {
            terms.set_owner(*owner);
            terms.push_stored(t);
        }
        Run {
            terms: Grouped::of(terms),
            ids: ids.to_vec(),
        }
    }

    /// The index as stored, in key order.
    fn index_rows(conn: &Connection) -> Vec<(String, i64)> {
        conn.prepare("SELECT term, customer_id FROM customer_terms")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn all_in_key_order(runs: &[Run]) -> Vec<(&str, i64)> {
        let mut all = Vec::new();
        in_key_order(runs, |batch| {
            all.extend(batch);
            true
        });
        all
    }

    #[test]
    fn runs_merge_into_key_order_and_skip_rows_that_were_not_saved() {
        let a = run(
            &[("nann", 0), ("nbob", 1), ("nzed", 0)],
            &[Some(1), Some(2)],
        );
        let b = run(
            &[("nann", 0), ("ncat", 1), ("nzed", 2)],
            &[Some(3), None, Some(5)],
        );
        let runs = [a, b];
        let all = all_in_key_order(&runs);
        assert_eq!(
            all,
            [
                ("nann", 1),
                ("nann", 3),
                ("nbob", 2),
                ("nzed", 1),
                ("nzed", 5)
            ]
        );
    }

    #[test]
    fn unsorted_runs_come_out_in_byte_order_without_repeats() {
        // Long terms alike in their first sixteen bytes, a term that is a prefix of
        // another, bytes above ASCII, and the same term twice for one customer.
        let long_a = "p1415555013200001";
        let long_b = "p1415555013200000";
        let a = run(
            &[
                ("nzoe", 0),
                (long_a, 0),
                ("ep", 1),
                ("epx", 1),
                (long_b, 1),
                ("nzoe", 0),
                ("nzoë", 1),
            ],
            &[Some(2), Some(1)],
        );
        let b = run(&[(long_a, 0), ("a1", 0), ("nzoe", 0)], &[Some(1)]);
        let runs = [a, b];
        let all = all_in_key_order(&runs);
        let mut expected: Vec<(&str, i64)> = vec![
            ("nzoe", 2),
            (long_a, 2),
            ("ep", 1),
            ("epx", 1),
            (long_b, 1),
            ("nzoë", 1),
            (long_a, 1),
            ("a1", 1),
            ("nzoe", 1),
        ];
        expected.sort();
        expected.dedup();
        assert_eq!(all, expected);
    }

    #[test]
    fn a_stopped_writer_stops_the_sort() {
        let terms: Vec<String> = (0..3 * SORTED_BATCH).map(|i| format!("a{i}")).collect();
        let list: Vec<(&str, u32)> = terms.iter().map(|t| (t.as_str(), 0)).collect();
        let runs = [run(&list, &[Some(1)])];
        let mut batches = 0;
        in_key_order(&runs, |_| {
            batches += 1;
            false
        });
        assert_eq!(batches, 1);
    }

    #[test]
    fn a_small_database_gets_its_index_rebuilt_and_a_large_one_per_chunk() {
        let clock = crate::ManualClock::start();
        let store = crate::Store::open_in_memory(std::sync::Arc::new(clock.clone())).unwrap();
        let mut conn = store.conn();
        assert_eq!(Plan::choose(&conn, 1).unwrap(), Plan::Rebuild);
        crate::customers::load_sample(&mut conn, &clock, "ann", 30).unwrap();
        assert_eq!(Plan::choose(&conn, 121).unwrap(), Plan::Rebuild);
        assert_eq!(Plan::choose(&conn, 120).unwrap(), Plan::PerChunk);
        assert_eq!(Plan::choose(&conn, 5).unwrap(), Plan::PerChunk);
    }

    #[test]
    fn terms_checked_for_a_rebuild_that_stopped_are_written_in_order() {
        let clock = crate::ManualClock::start();
        let store = crate::Store::open_in_memory(std::sync::Arc::new(clock.clone())).unwrap();
        let conn = store.conn();
        let mut terms = TermList::default();
        for (owner, t) in ["nzed", "nann", "nbob", "nann"].iter().enumerate() {
            terms.set_owner(owner as u32 % 3);
            terms.push_stored(t);
        }
        // Grouped for a rebuild, then handed to an index that writes chunk by chunk.
        let chunk = ChunkTerms::prepare(terms, Plan::Rebuild);
        let mut index = BulkIndex::new(Plan::PerChunk);
        index
            .add(&conn, chunk, vec![Some(4), None, Some(6)])
            .unwrap();
        let rows = index_rows(&conn);
        let rows: Vec<(&str, i64)> = rows.iter().map(|(t, id)| (t.as_str(), *id)).collect();
        assert_eq!(rows, [("nann", 4), ("nbob", 6), ("nzed", 4)]);
    }

    #[test]
    fn a_rebuild_keeps_what_the_index_held() {
        let clock = crate::ManualClock::start();
        let store = crate::Store::open_in_memory(std::sync::Arc::new(clock.clone())).unwrap();
        let conn = store.conn();
        conn.execute_batch(
            "INSERT INTO customer_terms VALUES ('nbob', 7), ('nann', 9), ('ndan', 8);",
        )
        .unwrap();
        let mut index = BulkIndex::new(Plan::Rebuild);
        let mut terms = TermList::default();
        terms.add(&TermSource {
            account_number: "C-1",
            name: "Cat Bob",
            email: None,
            phone: None,
            phone_e164: None,
        });
        let terms = ChunkTerms::prepare(terms, Plan::Rebuild);
        index.add(&conn, terms, vec![Some(10)]).unwrap();
        let before: i64 = conn
            .query_row("SELECT count(*) FROM customer_terms", [], |r| r.get(0))
            .unwrap();
        assert_eq!(before, 3, "nothing of the import is written before the end");
        index.finish(&conn).unwrap();
        let rows = index_rows(&conn);
        let rows: Vec<(&str, i64)> = rows.iter().map(|(t, id)| (t.as_str(), *id)).collect();
        assert_eq!(
            rows,
            [
                ("a1", 10),
                ("ac1", 10),
                ("nann", 9),
                ("nbob", 7),
                ("nbob", 10),
                ("ncat", 10),
                ("ndan", 8)
            ]
        );
    }
}
