//! Customers in and out of CSV files: the billing system's export comes in, a spreadsheet
//! goes out.
//!
//! What an import accepts, and why:
//! - a header row; columns are found by name, ignoring case, spaces, `_`, `-` and `.`, with
//!   the usual synonyms ("Acct No", "E-mail", "Mobile", …). Account number and name are
//!   required; columns nobody knows are ignored and listed in the report;
//! - UTF-8 with or without a byte-order mark; comma, semicolon (what spreadsheets in many
//!   countries write) or tab, detected from the header line;
//! - a row that breaks a rule is reported with the line it starts on, counted the way a text
//!   editor counts (header = line 1), and the reason; in skip-invalid mode the other rows go
//!   in, in all-or-nothing mode nothing does;
//! - rows are matched to existing customers by account number (upsert); an account number
//!   may appear only once per file;
//! - the whole import is one transaction: a failure or a crash half-way leaves the database
//!   exactly as it was.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::mpsc;

use ::csv::{ByteRecord, ReaderBuilder, WriterBuilder};
use phonenumber::country::Id as Region;
use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};

use super::bulk_index::{BulkIndex, ChunkTerms, Plan};
use super::terms::TermList;
use super::{
    upsert_row, validate, CustomerError, CustomerInput, FieldError, Saved, Upserted, ValidCustomer,
};
use crate::audit::{self, csv_safe, Event, Kind, Outcome};
use crate::clock::Clock;
use crate::contact::shorten;
use crate::settings;

/// Larger than any small office's customer list (a million customers is about 150 MB).
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;
pub const MAX_PREVIEW_ROWS: usize = 100;
/// Rows validated and written per step; also how often progress is reported.
const CHUNK_ROWS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportMode {
    /// Any rejected row means nothing is imported.
    AllOrNothing,
    /// Valid rows are imported; rejected rows are reported.
    SkipInvalid,
}

impl ImportMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportMode::AllOrNothing => "all-or-nothing",
            ImportMode::SkipInvalid => "skip-invalid",
        }
    }
}

impl FromStr for ImportMode {
    type Err = CustomerError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "all-or-nothing" => Ok(ImportMode::AllOrNothing),
            "skip-invalid" => Ok(ImportMode::SkipInvalid),
            _ => Err(CustomerError::UnknownImportMode(shorten(s))),
        }
    }
}

/// What an import did, row by row where rows were refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Data rows in the file (the header not counted).
    pub rows: u64,
    pub inserted: u64,
    pub updated: u64,
    /// Rows identical to the customer already stored.
    pub unchanged: u64,
    pub rejected: Vec<RejectedRow>,
    /// False when nothing was saved (all-or-nothing mode with rejected rows).
    pub committed: bool,
    /// Header names that matched no customer field and were left out.
    pub ignored_columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRow {
    /// The line the row starts on; the header is line 1.
    pub line: u64,
    pub account_number: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

/// The first rows of a file as the import would read them, for the import screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub delimiter: char,
    pub headers: Vec<String>,
    /// One entry per column, in file order.
    pub columns: Vec<ColumnMapping>,
    /// Required fields no column was found for; the import would refuse the file.
    pub missing: Vec<&'static str>,
    pub ignored_columns: Vec<String>,
    pub rows: Vec<PreviewRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnMapping {
    pub column: String,
    /// The customer field this column fills (`account_number`, `name`, `email`, `phone`,
    /// `service_address`, `notes`), or none when it is ignored.
    pub field: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewRow {
    pub line: u64,
    /// Cells as text; bytes that are not UTF-8 show as U+FFFD.
    pub cells: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Account,
    Name,
    Email,
    Phone,
    Address,
    Notes,
}

impl Field {
    const REQUIRED: [Field; 2] = [Field::Account, Field::Name];

    fn key(self) -> &'static str {
        match self {
            Field::Account => "account_number",
            Field::Name => "name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Address => "service_address",
            Field::Notes => "notes",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Field::Account => "account number",
            Field::Name => "name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Address => "service address",
            Field::Notes => "notes",
        }
    }

    /// Header names (lower case, letters and digits only) billing systems and people use.
    fn for_header(header: &str) -> Option<Field> {
        let key: String = header
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        Some(match key.as_str() {
            "account" | "accountnumber" | "accountno" | "accountnum" | "accountnr"
            | "accountid" | "accountcode" | "acct" | "acctno" | "acctnum" | "acctnumber"
            | "accno" | "customerno" | "customernumber" => Field::Account,
            "name" | "fullname" | "customername" | "customer" | "accountname" | "contactname" => {
                Field::Name
            }
            "email" | "emailaddress" | "mail" | "emailaddr" => Field::Email,
            "phone" | "phonenumber" | "phoneno" | "mobile" | "mobilenumber" | "mobilephone"
            | "telephone" | "telephonenumber" | "tel" | "cell" | "cellphone" | "cellnumber" => {
                Field::Phone
            }
            "address" | "serviceaddress" | "serviceaddr" | "streetaddress" | "siteaddress"
            | "propertyaddress" => Field::Address,
            "notes" | "note" | "comments" | "comment" | "remarks" => Field::Notes,
            _ => return None,
        })
    }
}

/// Where each customer field is in the file.
struct Columns {
    by_field: [Option<usize>; 6],
    count: usize,
    mapping: Vec<ColumnMapping>,
    ignored: Vec<String>,
    missing: Vec<&'static str>,
}

fn field_index(f: Field) -> usize {
    f as usize
}

fn map_columns(headers: &[String]) -> Result<Columns, CustomerError> {
    let mut by_field: [Option<usize>; 6] = [None; 6];
    let mut mapping = Vec::with_capacity(headers.len());
    let mut ignored = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let field = Field::for_header(h);
        if let Some(f) = field {
            if let Some(first) = by_field[field_index(f)] {
                return Err(CustomerError::DuplicateColumn {
                    field: f.label(),
                    first: shorten(&headers[first]),
                    second: shorten(h),
                });
            }
            by_field[field_index(f)] = Some(i);
        } else {
            ignored.push(if h.trim().is_empty() {
                format!("(column {}, no name)", i + 1)
            } else {
                shorten(h)
            });
        }
        mapping.push(ColumnMapping {
            column: shorten(h),
            field: field.map(Field::key),
        });
    }
    let missing = Field::REQUIRED
        .into_iter()
        .filter(|f| by_field[field_index(*f)].is_none())
        .map(Field::label)
        .collect();
    Ok(Columns {
        by_field,
        count: headers.len(),
        mapping,
        ignored,
        missing,
    })
}

/// How to read a file's bytes: where the text starts and which delimiter it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    skip: usize,
    delimiter: u8,
}

/// Refuses what is plainly not a CSV file, with the likely cause, and reads the shape.
fn sniff(head: &[u8]) -> Result<Shape, CustomerError> {
    let not_csv = |why: &str| Err(CustomerError::NotCsv(why.to_string()));
    if head.is_empty() {
        return Err(CustomerError::EmptyFile);
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"\xD0\xCF\x11\xE0") {
        return not_csv("it is a spreadsheet workbook; open it and save it as \"CSV UTF-8\"");
    }
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return not_csv("it is saved as UTF-16 text; save it as \"CSV UTF-8\"");
    }
    if head.starts_with(b"%PDF") {
        return not_csv("it is a PDF document; export the customer list as CSV");
    }
    if head.iter().take(64 * 1024).any(|b| *b == 0) {
        return not_csv("it contains binary data; export the customer list as CSV");
    }
    let skip = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let body = &head[skip..];
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(CustomerError::EmptyFile);
    }
    // The header line decides: it holds no data, so it has no stray commas in amounts or
    // addresses. Delimiters inside quotes do not count.
    let line = body
        .split(|b| *b == b'\n')
        .find(|l| !l.iter().all(u8::is_ascii_whitespace))
        .unwrap_or(body);
    let (mut commas, mut semicolons, mut tabs, mut quoted) = (0, 0, 0, false);
    for b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            b'\t' if !quoted => tabs += 1,
            _ => {}
        }
    }
    let delimiter = if semicolons > commas && semicolons >= tabs {
        b';'
    } else if tabs > commas && tabs > semicolons {
        b'\t'
    } else {
        b','
    };
    Ok(Shape { skip, delimiter })
}

fn reader<R: Read>(shape: Shape, input: R) -> ::csv::Reader<R> {
    ReaderBuilder::new()
        .delimiter(shape.delimiter)
        .has_headers(false)
        // Ragged rows are reported per row, with their line, rather than ending the import.
        .flexible(true)
        .from_reader(input)
}

fn csv_error(e: ::csv::Error) -> CustomerError {
    if e.is_io_error() {
        CustomerError::Io(std::io::Error::from(e))
    } else {
        CustomerError::NotCsv(e.to_string())
    }
}

/// Physical line numbers, counted from the bytes themselves: "\n", "\r\n" and a lone "\r"
/// each end a line, blank lines count, and a record starts at its first non-blank byte.
struct Lines<'a> {
    text: &'a [u8],
    /// Byte offsets where lines 2, 3, … start.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a [u8]) -> Self {
        let mut starts = Vec::new();
        for i in memchr::memchr2_iter(b'\n', b'\r', text) {
            if text[i] == b'\n' || text.get(i + 1) != Some(&b'\n') {
                starts.push(i + 1);
            }
        }
        Self { text, starts }
    }

    fn of(&self, rec: &ByteRecord) -> u64 {
        let mut at = rec.position().map_or(0, |p| p.byte() as usize);
        while matches!(self.text.get(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        1 + self.starts.partition_point(|s| *s <= at) as u64
    }
}

fn header_names(rec: &ByteRecord) -> Result<Vec<String>, CustomerError> {
    rec.iter()
        .map(|b| {
            std::str::from_utf8(b)
                .map(|s| s.trim().to_string())
                .map_err(|_| {
                    CustomerError::NotCsv(
                        "the header row is not UTF-8 text; save the file as \"CSV UTF-8\"".into(),
                    )
                })
        })
        .collect()
}

/// Spreadsheets run a cell starting with = + - @ as a formula; our export puts an apostrophe
/// in front (see `audit::csv_safe`). Reading our own export back removes it again.
fn undo_csv_safe(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => s,
    }
}

/// One data row as a form would have filled it in, or why it cannot be read.
fn row_input(rec: &ByteRecord, cols: &Columns, delimiter: u8) -> Result<CustomerInput, String> {
    if rec.len() != cols.count {
        let sep = match delimiter {
            b';' => "semicolon",
            b'\t' => "tab",
            _ => "comma",
        };
        return Err(format!(
            "the row has {} fields but the header has {}; look for a missing or extra {sep} or an unclosed quote",
            rec.len(),
            cols.count
        ));
    }
    let mut input = CustomerInput::default();
    for f in [
        Field::Account,
        Field::Name,
        Field::Email,
        Field::Phone,
        Field::Address,
        Field::Notes,
    ] {
        let Some(i) = cols.by_field[field_index(f)] else {
            continue;
        };
        let raw = rec.get(i).unwrap_or_default();
        let text = std::str::from_utf8(raw).map_err(|_| {
            format!(
                "the {} is not valid UTF-8 text; save the file as \"CSV UTF-8\"",
                f.label()
            )
        })?;
        let text = undo_csv_safe(text).to_string();
        match f {
            Field::Account => input.account_number = text,
            Field::Name => input.name = text,
            Field::Email => input.email = text,
            Field::Phone => input.phone = text,
            Field::Address => input.service_address = text,
            Field::Notes => input.notes = text,
        }
    }
    Ok(input)
}

fn reason(errors: &[FieldError]) -> String {
    let all: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    all.join("; ")
}

/// A row after reading and validation.
struct Checked {
    line: u64,
    /// The account number as written, for the report and the duplicate check.
    account: Option<String>,
    outcome: Result<ValidCustomer, String>,
}

/// A chunk of rows after checking, with the search terms of its valid rows made ready for
/// the writing thread, so that it only writes.
struct CheckedChunk {
    rows: Vec<Checked>,
    /// Owned by row positions in `rows`.
    terms: ChunkTerms,
}

fn check_chunk(
    records: &[ByteRecord],
    lines: &Lines<'_>,
    cols: &Columns,
    delimiter: u8,
    region: Region,
    plan: Plan,
) -> CheckedChunk {
    let rows: Vec<Checked> = records
        .iter()
        .map(|rec| check(lines.of(rec), rec, cols, delimiter, region))
        .collect();
    let mut terms = TermList::for_customers(rows.len());
    for (i, row) in rows.iter().enumerate() {
        if let Ok(v) = &row.outcome {
            // A chunk has CHUNK_ROWS rows, far below u32::MAX.
            terms.set_owner(i as u32);
            terms.add(&v.term_source());
        }
    }
    CheckedChunk {
        rows,
        terms: ChunkTerms::prepare(terms, plan),
    }
}

fn check(line: u64, rec: &ByteRecord, cols: &Columns, delimiter: u8, region: Region) -> Checked {
    let account = cols.by_field[field_index(Field::Account)]
        .and_then(|i| rec.get(i))
        .and_then(|b| std::str::from_utf8(b).ok())
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let outcome = row_input(rec, cols, delimiter).and_then(|input| {
        // Email and phone checks rest on third-party parsers; should one of them fail
        // on some odd value, that row is refused rather than the whole import ended.
        std::panic::catch_unwind(|| validate(&input, region))
            .unwrap_or_else(|_| {
                Err(vec![FieldError::new(
                    "row",
                    "this row could not be checked; correct its email and phone number",
                )])
            })
            .map_err(|e| reason(&e))
    });
    Checked {
        line,
        account,
        outcome,
    }
}

fn read_all(input: impl Read) -> Result<Vec<u8>, CustomerError> {
    let mut bytes = Vec::new();
    input.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(CustomerError::TooLarge(MAX_FILE_BYTES));
    }
    Ok(bytes)
}

/// A cell as the preview table shows it: text, cut to a length a table cell can show.
fn preview_cell(bytes: &[u8]) -> String {
    const MAX_CHARS: usize = 200;
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// Reads the header row and maps its columns, leaving the reader at the first data row.
fn read_header<R: Read>(
    rdr: &mut ::csv::Reader<R>,
) -> Result<(Vec<String>, Columns), CustomerError> {
    let mut header = ByteRecord::new();
    if !rdr.read_byte_record(&mut header).map_err(csv_error)? {
        return Err(CustomerError::EmptyFile);
    }
    let headers = header_names(&header)?;
    let cols = map_columns(&headers)?;
    Ok((headers, cols))
}

/// Reads the first `rows` data rows (at most [`MAX_PREVIEW_ROWS`]) and shows how the import
/// would map the columns. A file without a required column still previews, with `missing`
/// saying what is wrong; files that are not CSV at all are refused as the import would.
pub fn preview(input: impl Read, rows: usize) -> Result<Preview, CustomerError> {
    let bytes = read_all(input)?;
    let shape = sniff(&bytes)?;
    let text = &bytes[shape.skip..];
    let lines = Lines::new(text);
    let mut rdr = reader(shape, text);
    let (headers, cols) = read_header(&mut rdr)?;
    let mut out = Vec::new();
    for rec in rdr.byte_records().take(rows.min(MAX_PREVIEW_ROWS)) {
        let rec = rec.map_err(csv_error)?;
        out.push(PreviewRow {
            line: lines.of(&rec),
            cells: rec.iter().map(preview_cell).collect(),
        });
    }
    Ok(Preview {
        delimiter: char::from(shape.delimiter),
        headers,
        columns: cols.mapping,
        missing: cols.missing,
        ignored_columns: cols.ignored,
        rows: out,
    })
}

/// Imports customers from a CSV file in one transaction; see the module documentation for
/// the rules. Rows that break a rule are in the report; an error (unreadable file, missing
/// columns, database failure) means nothing was saved.
pub fn import(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    input: impl Read,
    mode: ImportMode,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportReport, CustomerError> {
    let operator = audit::operator_name(operator)?;
    let bytes = read_all(input)?;
    let shape = sniff(&bytes)?;
    let text = &bytes[shape.skip..];
    let mut rdr = reader(shape, text);
    let (headers, cols) = read_header(&mut rdr)?;
    if !cols.missing.is_empty() {
        return Err(CustomerError::MissingColumns {
            missing: cols.missing,
            found: headers.iter().map(|h| shorten(h)).collect(),
        });
    }
    let rows: Vec<ByteRecord> = rdr
        .byte_records()
        .collect::<Result<_, _>>()
        .map_err(csv_error)?;
    if rows.is_empty() {
        return Err(CustomerError::NoRows);
    }
    let region = settings::load(conn)?.region();
    progress(Progress {
        done: 0,
        total: rows.len() as u64,
    });

    let lines = Lines::new(text);
    let setup = ImportSettings::apply(conn)?;
    import_rows(
        &mut *setup.conn,
        clock,
        &operator,
        &rows,
        &lines,
        &cols,
        shape,
        region,
        mode,
        progress,
    )
}

/// The connection set up for one large transaction, and put back as it was when dropped,
/// also when a panic unwinds through the import.
///
/// A page cache big enough to hold the whole import saves writing pages to the log twice.
/// The commit leaves the pages in the write-ahead log instead of also copying them into the
/// database file there and then (a checkpoint): that copy takes as long again as the
/// commit, and nobody needs to wait for it. [`crate::Store::checkpoint`] does it afterwards,
/// off the clerk's path; failing that, SQLite's next automatic checkpoint does.
struct ImportSettings<'c> {
    conn: &'c mut Connection,
    cache: i64,
    checkpoint_pages: i64,
}

impl<'c> ImportSettings<'c> {
    fn apply(conn: &'c mut Connection) -> Result<Self, CustomerError> {
        let cache: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        let checkpoint_pages: i64 =
            conn.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?;
        conn.execute_batch(&format!(
            "PRAGMA cache_size = {IMPORT_CACHE_KIB}; PRAGMA wal_autocheckpoint = 0;"
        ))?;
        Ok(Self {
            conn,
            cache,
            checkpoint_pages,
        })
    }
}

impl Drop for ImportSettings<'_> {
    fn drop(&mut self) {
        let restore = format!(
            "PRAGMA cache_size = {}; PRAGMA wal_autocheckpoint = {};",
            self.cache, self.checkpoint_pages
        );
        if let Err(e) = self.conn.execute_batch(&restore) {
            tracing::warn!("the database settings of an import could not be put back: {e}");
        }
    }
}

/// Page cache for an import, in KiB (negative, as SQLite takes it): about 100k customers.
const IMPORT_CACHE_KIB: i64 = -262_144;

#[allow(clippy::too_many_arguments)]
fn import_rows(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    rows: &[ByteRecord],
    lines: &Lines<'_>,
    cols: &Columns,
    shape: Shape,
    region: Region,
    mode: ImportMode,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportReport, CustomerError> {
    let total = rows.len() as u64;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = clock.now_ms();
    let mut report = ImportReport {
        rows: total,
        inserted: 0,
        updated: 0,
        unchanged: 0,
        rejected: Vec::new(),
        committed: false,
        ignored_columns: cols.ignored.clone(),
    };
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut done = 0;

    let mut index = BulkIndex::new(Plan::choose(&tx, rows.len())?);
    let checkers = match index.plan() {
        // The writer has little to do until the end: check on every core.
        Plan::Rebuild => std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
        // The writer is the slower side; a second checker would only take its core.
        Plan::PerChunk => 1,
    };

    // Checking rows (parsing, validation, building terms) overlaps with writing them: the
    // checking threads take chunks in turn, and this thread saves them in file order.
    let next_chunk = AtomicUsize::new(0);
    let plan = index.plan();
    let written = std::thread::scope(|scope| -> Result<(), CustomerError> {
        let (send, receive) = mpsc::sync_channel::<(usize, CheckedChunk)>(2 * checkers);
        for _ in 0..checkers {
            let send = send.clone();
            let next_chunk = &next_chunk;
            scope.spawn(move || loop {
                let i = next_chunk.fetch_add(1, AtomicOrdering::Relaxed);
                let Some(chunk) = rows.chunks(CHUNK_ROWS).nth(i) else {
                    return;
                };
                let checked = check_chunk(chunk, lines, cols, shape.delimiter, region, plan);
                if send.send((i, checked)).is_err() {
                    // The writer stopped (an error); nothing more to check.
                    return;
                }
            });
        }
        drop(send);
        let mut early: BTreeMap<usize, CheckedChunk> = BTreeMap::new();
        let mut next = 0;
        for (i, chunk) in receive {
            early.insert(i, chunk);
            while let Some(chunk) = early.remove(&next) {
                next += 1;
                let checked_rows = chunk.rows.len() as u64;
                let keep = screen(chunk.rows, &mut first_line, &mut report);
                // In all-or-nothing mode, once a row is refused there is nothing left to
                // write; checking goes on so the report lists every problem at once.
                if mode == ImportMode::SkipInvalid || report.rejected.is_empty() {
                    let mut ids: Vec<Option<i64>> = Vec::with_capacity(keep.len());
                    let mut counts = Upserted::default();
                    for v in &keep {
                        let saved = match v {
                            Some(v) => Some(upsert_row(&tx, v, now)?),
                            None => None,
                        };
                        if let Some(saved) = saved {
                            counts.count(saved);
                        }
                        ids.push(saved.and_then(Saved::needs_terms));
                    }
                    index.add(&tx, chunk.terms, ids)?;
                    add(&mut report, counts);
                }
                done += checked_rows;
                // With a rebuild the last step is the index; it is reported when written.
                if done < total || index.plan() == Plan::PerChunk {
                    progress(Progress { done, total });
                }
            }
        }
        Ok(())
    });
    written?;
    let withheld = index.plan() == Plan::Rebuild;
    if mode == ImportMode::SkipInvalid || report.rejected.is_empty() {
        index.finish(&tx)?;
    }
    if withheld {
        progress(Progress { done, total });
    }

    if mode == ImportMode::AllOrNothing && !report.rejected.is_empty() {
        drop(tx);
        report.inserted = 0;
        report.updated = 0;
        report.unchanged = 0;
        let tx = conn.transaction()?;
        audit::record(
            &tx,
            clock,
            &Event::new(Kind::CustomersImported, Outcome::Refused, operator).detail(format!(
                "{} rows, {} rejected; nothing imported ({})",
                report.rows,
                report.rejected.len(),
                mode.as_str()
            )),
        )?;
        tx.commit()?;
        return Ok(report);
    }
    audit::record(
        &tx,
        clock,
        &Event::new(Kind::CustomersImported, Outcome::Ok, operator).detail(summary(&report, mode)),
    )?;
    tx.commit()?;
    report.committed = true;
    Ok(report)
}

/// The checked rows of a chunk with duplicates of earlier account numbers refused; refused
/// rows go to the report and become `None`.
fn screen(
    rows: Vec<Checked>,
    first_line: &mut HashMap<String, u64>,
    report: &mut ImportReport,
) -> Vec<Option<ValidCustomer>> {
    let mut keep = Vec::with_capacity(rows.len());
    for row in rows {
        let dup = row.account.as_ref().and_then(|a| {
            let key = a.to_ascii_lowercase();
            match first_line.get(&key) {
                Some(first) => Some(*first),
                None => {
                    first_line.insert(key, row.line);
                    None
                }
            }
        });
        let outcome = match (dup, row.outcome) {
            (Some(first), _) => Err(format!(
                "account number {} is also on line {first}; each account may appear only once in a file",
                shorten(row.account.as_deref().unwrap_or_default())
            )),
            (None, outcome) => outcome,
        };
        match outcome {
            Ok(v) => keep.push(Some(v)),
            Err(reason) => {
                keep.push(None);
                report.rejected.push(RejectedRow {
                    line: row.line,
                    account_number: row.account.as_deref().map(shorten),
                    reason,
                });
            }
        }
    }
    keep
}

fn add(report: &mut ImportReport, n: Upserted) {
    report.inserted += n.inserted;
    report.updated += n.updated;
    report.unchanged += n.unchanged;
}

fn summary(r: &ImportReport, mode: ImportMode) -> String {
    format!(
        "{} rows: {} added, {} updated, {} unchanged, {} rejected ({})",
        r.rows,
        r.inserted,
        r.updated,
        r.unchanged,
        r.rejected.len(),
        mode.as_str()
    )
}

/// The columns an export writes, which the import maps back to the same fields.
pub const EXPORT_HEADERS: [&str; 6] = [
    "account_number",
    "name",
    "email",
    "phone",
    "service_address",
    "notes",
];

/// Writes every customer as CSV, by account number, in the form the import reads back.
/// Returns the number of customers written.
pub fn export(conn: &Connection, mut out: impl Write) -> Result<u64, CustomerError> {
    // A byte-order mark is how a spreadsheet program knows the file is UTF-8; without it
    // "Zoë" opens as "ZoÃ«" on many office PCs. The import skips it.
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut w = WriterBuilder::new().from_writer(out);
    w.write_record(EXPORT_HEADERS).map_err(csv_error)?;
    let mut stmt = conn.prepare(
        "SELECT account_number, name, email, phone, service_address, notes
         FROM customers ORDER BY account_number",
    )?;
    let mut rows = stmt.query([])?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        let text = |i: usize| -> rusqlite::Result<String> {
            Ok(csv_safe(
                &r.get::<_, Option<String>>(i)?.unwrap_or_default(),
            ))
        };
        w.write_record([text(0)?, text(1)?, text(2)?, text(3)?, text(4)?, text(5)?])
            .map_err(csv_error)?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}

/// [`export`], and an audit event saying who took the customer list away, how many customers
/// it held and where it went (`destination`: a file name, shortened; never the contents).
/// Nothing is recorded when the export fails.
pub fn export_audited(
    conn: &Connection,
    clock: &dyn Clock,
    operator: &str,
    out: impl Write,
    destination: &str,
) -> Result<u64, CustomerError> {
    let operator = audit::operator_name(operator)?;
    let n = export(conn, out)?;
    audit::record(
        conn,
        clock,
        &Event::new(Kind::CustomersExported, Outcome::Ok, &operator).detail(format!(
            "{n} {} to {}",
            if n == 1 { "customer" } else { "customers" },
            shorten(destination)
        )),
    )?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!(
            "all-or-nothing".parse::<ImportMode>().unwrap(),
            ImportMode::AllOrNothing
        );
        assert_eq!(
            " Skip_Invalid ".parse::<ImportMode>().unwrap(),
            ImportMode::SkipInvalid
        );
        assert!(matches!(
            "yolo".parse::<ImportMode>(),
            Err(CustomerError::UnknownImportMode(_))
        ));
        let huge = "x".repeat(1 << 20).parse::<ImportMode>().unwrap_err();
        assert!(huge.to_string().len() < 200);
    }

    #[test]
    fn headers_map_by_meaning_not_spelling() {
        for (h, f) in [
            ("Account Number", Field::Account),
            ("account_no", Field::Account),
            ("ACCT #", Field::Account),
            (" Full Name ", Field::Name),
            ("E-Mail", Field::Email),
            ("email address", Field::Email),
            ("Mobile", Field::Phone),
            ("Telephone", Field::Phone),
            ("Service-Address", Field::Address),
            ("Notes", Field::Notes),
        ] {
            assert_eq!(Field::for_header(h), Some(f), "{h}");
        }
        assert_eq!(Field::for_header("balance"), None);
    }

    #[test]
    fn duplicate_and_missing_columns_are_explained() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let err = map_columns(&h(&["email", "E-mail", "name"])).err().unwrap();
        assert_eq!(
            err.to_string(),
            "the columns \"email\" and \"E-mail\" both look like email; rename or remove one of them"
        );
        let cols = map_columns(&h(&["Name", "Balance", ""])).unwrap();
        assert_eq!(cols.missing, ["account number"]);
        assert_eq!(cols.ignored, ["Balance", "(column 3, no name)"]);
    }

    #[test]
    fn sniff_reads_delimiter_from_header_and_refuses_binaries() {
        assert_eq!(sniff(b"a;b;c\n1,5;2;3").unwrap().delimiter, b';');
        assert_eq!(
            sniff(b"\xEF\xBB\xBFa,b\n").unwrap(),
            Shape {
                skip: 3,
                delimiter: b','
            }
        );
        assert_eq!(sniff(b"\"a;b\",c\n").unwrap().delimiter, b',');
        assert_eq!(sniff(b"a\tb\tc\n").unwrap().delimiter, b'\t');
        assert!(matches!(sniff(b""), Err(CustomerError::EmptyFile)));
        assert!(matches!(
            sniff(b"\xEF\xBB\xBF \r\n"),
            Err(CustomerError::EmptyFile)
        ));
        assert!(matches!(
            sniff(b"PK\x03\x04..."),
            Err(CustomerError::NotCsv(_))
        ));
        assert!(matches!(
            sniff(b"\xFF\xFEa\x00"),
            Err(CustomerError::NotCsv(_))
        ));
        assert!(matches!(
            sniff(b"abc\x00def"),
            Err(CustomerError::NotCsv(_))
        ));
    }

    #[test]
    fn exported_apostrophes_are_removed_on_the_way_back() {
        assert_eq!(undo_csv_safe("'=1+1"), "=1+1");
        assert_eq!(undo_csv_safe("'+1 415 555 0132"), "+1 415 555 0132");
        assert_eq!(undo_csv_safe("O'Brien"), "O'Brien");
        assert_eq!(undo_csv_safe("'quoted'"), "'quoted'");
    }
}
