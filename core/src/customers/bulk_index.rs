//! Writing the search terms of many customers at once, for an import or a sample load.
//!
//! The index is a B-tree keyed by (term, customer id). Rows that arrive in key order after
//! everything already in the tree are appended to its last page; rows that land in the
//! middle each cost a search from the root and, now and then, a page split there. Measured
//! on 100,000 customers (1.65 million rows, instruction counts): 2.5 thousand instructions
//! per row appended against 4.6 thousand per row written chunk by chunk into a growing tree.
//!
//! So when an import brings most of what the index will hold (the first import into a new
//! database, or one after a few sample customers), its terms are kept, sorted per chunk, and
//! written once at the end as one key-ordered stream merged with whatever the index held
//! before ([`Plan::Rebuild`]). Otherwise each chunk's terms are written as soon as the
//! chunk's customers are saved, so that writing overlaps with checking the next chunk
//! ([`Plan::PerChunk`]).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::mpsc;

use rusqlite::Connection;

use super::search::insert_sorted_terms;
use super::terms::TermList;
use super::CustomerError;

/// A rebuild keeps at most this many terms in memory (about 130 MB); a bigger import writes
/// what it has and goes on chunk by chunk.
const MAX_KEPT_TERMS: usize = 4_000_000;

/// Merged pairs handed from the merging thread to the writer at a time.
const MERGED_BATCH: usize = 4096;

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

/// One chunk's terms, sorted by (term, owner), and the customer id of each owner (`None`
/// for rows that were not saved or need no terms).
struct Run {
    terms: TermList,
    ids: Vec<Option<i64>>,
}

impl Run {
    fn pairs(&self) -> impl Iterator<Item = (&str, i64)> + '_ {
        self.terms.iter().filter_map(|(term, owner)| {
            self.ids
                .get(owner as usize)
                .copied()
                .flatten()
                .map(|id| (term, id))
        })
    }
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

    /// Adds one chunk's terms (sorted), owned by positions in `ids`.
    pub(crate) fn add(
        &mut self,
        conn: &Connection,
        terms: TermList,
        ids: Vec<Option<i64>>,
    ) -> Result<(), CustomerError> {
        let run = Run { terms, ids };
        if self.plan == Plan::PerChunk {
            return insert_sorted_terms(conn, run.pairs());
        }
        self.kept += run.terms.len();
        self.runs.push(run);
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

    /// Takes the index's current rows out and writes them back merged with the kept runs,
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
        // Merging costs about a fifth of writing; another thread merges while this one writes.
        let runs = &runs;
        std::thread::scope(|scope| {
            let (send, receive) = mpsc::sync_channel::<Vec<(&str, i64)>>(4);
            scope.spawn(move || {
                let mut batch = Vec::with_capacity(MERGED_BATCH);
                for pair in merged(runs) {
                    batch.push(pair);
                    if batch.len() == MERGED_BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(MERGED_BATCH));
                        if send.send(full).is_err() {
                            // The writer stopped (an error).
                            return;
                        }
                    }
                }
                let _ = send.send(batch);
            });
            insert_sorted_terms(conn, receive.into_iter().flatten())
        })
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
    Ok(Run { terms, ids })
}

/// The (term, id) pairs of all runs in key order, each run being in key order already.
fn merged(runs: &[Run]) -> impl Iterator<Item = (&str, i64)> + '_ {
    let mut sources: Vec<_> = runs.iter().map(|r| r.pairs()).collect();
    let mut heads = BinaryHeap::with_capacity(sources.len());
    for (i, s) in sources.iter_mut().enumerate() {
        if let Some((term, id)) = s.next() {
            heads.push(Reverse((term, id, i)));
        }
    }
    std::iter::from_fn(move || {
        let Reverse((term, id, i)) = heads.pop()?;
        if let Some((t, d)) = sources[i].next() {
            heads.push(Reverse((t, d, i)));
        }
        Some((term, id))
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
            terms,
            ids: ids.to_vec(),
        }
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
        let all: Vec<(&str, i64)> = merged(&runs).collect();
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
        terms.sort_dedup();
        index.add(&conn, terms, vec![Some(10)]).unwrap();
        let before: i64 = conn
            .query_row("SELECT count(*) FROM customer_terms", [], |r| r.get(0))
            .unwrap();
        assert_eq!(before, 3, "nothing of the import is written before the end");
        index.finish(&conn).unwrap();
        let rows: Vec<(String, i64)> = conn
            .prepare("SELECT term, customer_id FROM customer_terms")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
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
