//! The Activity and Dashboard screens (admin, read-only): codes, attempts, the audit trail,
//! and the numbers of the last weeks.
//!
//! Every filter arrives from the page as text and numbers and is checked here before the core
//! sees it: an unknown state or event type, a reversed date range, an over-long search or a
//! page the screens never ask for is refused with the reason (and the filter it belongs to),
//! never quietly changed into something else.

use std::collections::hash_map::Entry as Slot;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::FixedOffset;
use otp_desk_core::activity::{self, CodeFilter, CodePage, CodeRow, CodeState};
use otp_desk_core::audit::{self, Entry, Kind, Outcome};
use otp_desk_core::clock::Millis;
use otp_desk_core::contact::{self, Channel};
use otp_desk_core::customers;
use otp_desk_core::dashboard::{
    self, AccountRate, DashboardRequest, DayCounts, RecentFailure, Totals,
};
use otp_desk_core::delivery::accounts::{self, AccountKind};
use otp_desk_core::delivery::attempts::AttemptRecord;
use otp_desk_core::delivery::FailureClass;
use otp_desk_core::Store;
use serde::{Deserialize, Serialize};
use tauri::State;

use super::{blocking, row_id};
use crate::error::ShellError;
use crate::state::AppState;

/// What one page of either list shows; the screens ask for this many.
pub const DEFAULT_PAGE_ROWS: u32 = 50;
/// A screen of rows an admin can still read; more belongs in an export.
pub const MAX_PAGE_ROWS: u32 = 200;
/// SQLite walks every skipped row of an OFFSET; past this the admin narrows the filters (or
/// exports) instead of paging two thousand pages deep.
pub const MAX_OFFSET: u32 = 100_000;
/// The end of the year 9999: no date input names a later day, and chrono formats every
/// instant up to it.
const LATEST_MS: Millis = 253_402_300_799_999;
/// The furthest any time zone is from UTC (Kiribati is +14 h, Baker Island −12 h).
pub const MAX_UTC_OFFSET_MINUTES: i32 = 14 * 60;

/// The Codes tab's filters as the page sends them. Empty text means "any".
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct CodeQuery {
    pub channel: Option<String>,
    pub state: Option<String>,
    /// Created at or after (the page turns the "from" day into its local midnight).
    pub from: Option<Millis>,
    /// Created at or before (the last millisecond of the "to" day).
    pub to: Option<Millis>,
    pub text: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// The Audit trail tab's filters as the page sends them.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditQuery {
    /// The event type, e.g. `code_verify`.
    pub kind: Option<String>,
    /// `ok`, `failed` or `refused`.
    pub result: Option<String>,
    pub channel: Option<String>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    pub text: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

fn filter_error(field: &str, message: impl Into<String>) -> ShellError {
    ShellError::new("invalid_filter", message).on_field(field)
}

/// `None` for "any" (nothing chosen), else the value the text names.
fn choice<T: FromStr>(field: &str, value: Option<&str>) -> Result<Option<T>, ShellError>
where
    T::Err: std::fmt::Display,
{
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|e: T::Err| filter_error(field, e.to_string())),
    }
}

fn date_range(
    from: Option<Millis>,
    to: Option<Millis>,
) -> Result<(Option<Millis>, Option<Millis>), ShellError> {
    for (field, value) in [("from", from), ("to", to)] {
        if let Some(ms) = value {
            if !(0..=LATEST_MS).contains(&ms) {
                return Err(filter_error(
                    field,
                    "choose a day between 1970 and 9999 (or leave the date empty)",
                ));
            }
        }
    }
    if let (Some(from), Some(to)) = (from, to) {
        if from > to {
            return Err(filter_error(
                "to",
                "the \"to\" day is before the \"from\" day; swap them or clear one",
            ));
        }
    }
    Ok((from, to))
}

/// The search box: at most what the core matches on, one line of visible text.
fn search_text(text: Option<String>) -> Result<Option<String>, ShellError> {
    let Some(text) = text else { return Ok(None) };
    let chars = text.chars().count();
    if chars > activity::MAX_TEXT_CHARS {
        return Err(filter_error(
            "text",
            format!(
                "a search can be at most {} characters (this one has {chars}); type a shorter part of the name, account, contact or detail",
                activity::MAX_TEXT_CHARS
            ),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() || contact::is_bidi_control(c))
    {
        return Err(filter_error(
            "text",
            "the search holds line breaks or invisible control characters; type it again",
        ));
    }
    let text = text.trim();
    Ok((!text.is_empty()).then(|| text.to_string()))
}

fn paging(limit: Option<u32>, offset: Option<u32>) -> Result<(u32, u32), ShellError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE_ROWS);
    if !(1..=MAX_PAGE_ROWS).contains(&limit) {
        return Err(filter_error(
            "page",
            format!("a page shows 1 to {MAX_PAGE_ROWS} rows, not {limit}"),
        ));
    }
    let offset = offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(filter_error(
            "page",
            format!(
                "pages go {MAX_OFFSET} rows deep, not {offset}; narrow the dates or the search, or export the list"
            ),
        ));
    }
    Ok((limit, offset))
}

fn code_filter(query: CodeQuery) -> Result<CodeFilter, ShellError> {
    let channel = choice::<Channel>("channel", query.channel.as_deref())?;
    let state = choice::<CodeState>("state", query.state.as_deref())?;
    let (from, to) = date_range(query.from, query.to)?;
    let text = search_text(query.text)?;
    let (limit, offset) = paging(query.limit, query.offset)?;
    Ok(CodeFilter {
        channel,
        states: state.into_iter().collect(),
        from,
        to,
        text,
        limit: Some(limit),
        offset: Some(offset),
        ..Default::default()
    })
}

fn audit_filter(query: AuditQuery) -> Result<audit::Filter, ShellError> {
    let kind = choice::<Kind>("kind", query.kind.as_deref())?;
    let outcome = choice::<Outcome>("result", query.result.as_deref())?;
    let channel = choice::<Channel>("channel", query.channel.as_deref())?;
    let (from, to) = date_range(query.from, query.to)?;
    let text = search_text(query.text)?;
    let (limit, offset) = paging(query.limit, query.offset)?;
    Ok(audit::Filter {
        kinds: kind.into_iter().collect(),
        outcome,
        channel,
        from,
        to,
        text,
        limit: Some(limit),
        offset: Some(offset),
        ..Default::default()
    })
}

/// One page of codes, and how deep the pager may go.
#[derive(Debug, Serialize)]
pub struct CodesAnswer {
    #[serde(flatten)]
    page: CodePage,
    max_offset: u32,
    now: Millis,
}

#[tauri::command]
pub async fn activity_codes(
    state: State<'_, AppState>,
    query: CodeQuery,
) -> Result<CodesAnswer, ShellError> {
    state.require_admin()?;
    let filter = code_filter(query)?;
    let store = state.store()?;
    blocking(move || {
        let now = store.clock().now_ms();
        let page = activity::codes(&store.conn(), &filter, now)?;
        Ok(CodesAnswer {
            page,
            max_offset: MAX_OFFSET,
            now,
        })
    })
    .await
}

/// A delivery try with the sentence that tells the admin what to do about its failure.
#[derive(Debug, Serialize)]
pub struct DeliveryTry {
    #[serde(flatten)]
    record: AttemptRecord,
    hint: Option<&'static str>,
}

impl From<AttemptRecord> for DeliveryTry {
    fn from(record: AttemptRecord) -> Self {
        let hint = record
            .failure_class
            .as_deref()
            .and_then(FailureClass::from_name)
            .map(FailureClass::hint);
        Self { record, hint }
    }
}

#[derive(Debug, Serialize)]
pub struct CodeDetailAnswer {
    code: CodeRow,
    /// Oldest first.
    deliveries: Vec<DeliveryTry>,
    /// Oldest first.
    events: Vec<Entry>,
}

#[tauri::command]
pub async fn activity_code_detail(
    state: State<'_, AppState>,
    challenge_id: i64,
) -> Result<CodeDetailAnswer, ShellError> {
    state.require_admin()?;
    let id = row_id("code", challenge_id)?;
    let store = state.store()?;
    blocking(move || {
        let detail = activity::code_detail(&store.conn(), id, store.clock().now_ms())?;
        Ok(CodeDetailAnswer {
            code: detail.code,
            deliveries: detail
                .deliveries
                .into_iter()
                .map(DeliveryTry::from)
                .collect(),
            events: detail.events,
        })
    })
    .await
}

/// An audit event with the name of its customer, when the customer is still on file.
#[derive(Debug, Serialize)]
pub struct AuditRow {
    #[serde(flatten)]
    entry: Entry,
    customer_name: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AuditPage {
    total: i64,
    limit: u32,
    offset: u32,
    max_offset: u32,
    rows: Vec<AuditRow>,
}

fn audit_page(store: &Store, filter: &audit::Filter) -> Result<AuditPage, ShellError> {
    let conn = &*store.conn();
    let total = audit::count(conn, filter)?;
    let entries = audit::query(conn, filter)?;
    // The trail keeps the account number but not the name (a name can change; the trail
    // cannot); the screen shows today's name beside it. One look-up per customer on the page.
    let mut names: HashMap<i64, Option<String>> = HashMap::new();
    for id in entries.iter().filter_map(|e| e.customer_id) {
        if let Slot::Vacant(slot) = names.entry(id) {
            slot.insert(customers::get(conn, id)?.map(|c| c.name));
        }
    }
    let rows = entries
        .into_iter()
        .map(|entry| AuditRow {
            customer_name: entry
                .customer_id
                .and_then(|id| names.get(&id).cloned().flatten()),
            entry,
        })
        .collect();
    Ok(AuditPage {
        total,
        limit: filter.limit.unwrap_or(DEFAULT_PAGE_ROWS),
        offset: filter.offset.unwrap_or(0),
        max_offset: MAX_OFFSET,
        rows,
    })
}

#[tauri::command]
pub async fn activity_audit(
    state: State<'_, AppState>,
    query: AuditQuery,
) -> Result<AuditPage, ShellError> {
    state.require_admin()?;
    let filter = audit_filter(query)?;
    let store = state.store()?;
    blocking(move || audit_page(&store, &filter)).await
}

/// Where an export went, for "Saved to …" and "Open folder".
#[derive(Debug, Serialize)]
pub struct Exported {
    file: String,
    folder: String,
    rows: u64,
}

/// Writes a new file in `folder` (never over an existing one) with `write`; a failed export
/// leaves no half-written file behind.
fn export_to(
    folder: &Path,
    stem: &str,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<u64, ShellError>,
) -> Result<Exported, ShellError> {
    let path = crate::files::new_file_in(folder, stem, "csv")?;
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| ShellError::new("file", format!("cannot create {}: {e}", path.display())))?;
    let mut out = BufWriter::new(file);
    let written = write(&mut out).and_then(|rows| {
        out.flush()
            .and_then(|()| out.get_ref().sync_all())
            .map_err(|e| {
                ShellError::new("file", format!("cannot finish {}: {e}", path.display()))
            })?;
        Ok(rows)
    });
    match written {
        Ok(rows) => Ok(Exported {
            file: path.display().to_string(),
            folder: folder.display().to_string(),
            rows,
        }),
        Err(error) => {
            drop(out);
            let _ = std::fs::remove_file(&path);
            Err(error)
        }
    }
}

fn export_codes(store: &Store, folder: &Path, filter: &CodeFilter) -> Result<Exported, ShellError> {
    let now = store.clock().now_ms();
    export_to(folder, "otp-desk-codes", |out| {
        Ok(activity::export_codes_csv(&store.conn(), filter, now, out)?)
    })
}

fn export_audit(
    store: &Store,
    folder: &Path,
    filter: &audit::Filter,
) -> Result<Exported, ShellError> {
    export_to(folder, "otp-desk-audit", |out| {
        // The byte-order mark makes spreadsheet programs read the masked contacts' "…" (and
        // every accented name) as UTF-8, as the codes export does.
        out.write_all(b"\xEF\xBB\xBF").map_err(|e| {
            ShellError::new("file", format!("the export could not be written: {e}"))
        })?;
        Ok(audit::export_csv(&store.conn(), filter, out)?)
    })
}

/// Every code the filters show (all pages), as CSV in the downloads folder.
#[tauri::command]
pub async fn activity_export_codes(
    state: State<'_, AppState>,
    query: CodeQuery,
) -> Result<Exported, ShellError> {
    state.require_admin()?;
    let filter = code_filter(query)?;
    let folder = state.exports_folder()?;
    let store = state.store()?;
    blocking(move || export_codes(&store, &folder, &filter)).await
}

/// Every audit event the filters show (all pages), as CSV in the downloads folder.
#[tauri::command]
pub async fn activity_export_audit(
    state: State<'_, AppState>,
    query: AuditQuery,
) -> Result<Exported, ShellError> {
    state.require_admin()?;
    let filter = audit_filter(query)?;
    let folder = state.exports_folder()?;
    let store = state.store()?;
    blocking(move || export_audit(&store, &folder, &filter)).await
}

/// Opens the folder exports go to; answers with it, for a computer without a file manager.
#[tauri::command]
pub async fn activity_open_exports_folder(
    state: State<'_, AppState>,
) -> Result<String, ShellError> {
    state.require_admin()?;
    let folder: PathBuf = state.exports_folder()?;
    blocking(move || {
        let shown = folder.display().to_string();
        std::fs::create_dir_all(&folder).map_err(|e| {
            ShellError::new("file", format!("cannot create the folder {shown}: {e}"))
        })?;
        crate::files::open_folder(&folder)?;
        Ok(shown)
    })
    .await
}

/// The page's time zone as `Date.getTimezoneOffset()` gives it (minutes *behind* UTC: Berlin
/// in summer is −120), and the number of days, checked.
fn dashboard_args(
    timezone_offset_minutes: i32,
    days: Option<u32>,
) -> Result<(FixedOffset, u32), ShellError> {
    if !(-MAX_UTC_OFFSET_MINUTES..=MAX_UTC_OFFSET_MINUTES).contains(&timezone_offset_minutes) {
        return Err(ShellError::invalid_argument(format!(
            "a time zone is at most 14 hours from UTC, not {timezone_offset_minutes} minutes; check the computer's time zone setting"
        )));
    }
    let zone = FixedOffset::west_opt(timezone_offset_minutes * 60).ok_or_else(|| {
        ShellError::invalid_argument("the computer's time zone could not be read")
    })?;
    let days = days.unwrap_or(dashboard::DEFAULT_DAYS);
    if !(1..=dashboard::MAX_DAYS).contains(&days) {
        return Err(ShellError::invalid_argument(format!(
            "the dashboard covers 1 to {} days, not {days}",
            dashboard::MAX_DAYS
        )));
    }
    Ok((zone, days))
}

/// An account's delivery numbers, with what kind of account it is (when it still exists).
#[derive(Debug, Serialize)]
pub struct AccountLine {
    #[serde(flatten)]
    rate: AccountRate,
    /// `None` for SMS and for a mail account removed since.
    kind: Option<AccountKind>,
}

#[derive(Debug, Serialize)]
pub struct DashboardAnswer {
    from: Millis,
    to: Millis,
    days: Vec<DayCounts>,
    totals: Totals,
    accounts: Vec<AccountLine>,
    recent_failures: Vec<RecentFailure>,
    now: Millis,
}

fn dashboard_of(
    store: &Store,
    zone: &FixedOffset,
    days: u32,
) -> Result<DashboardAnswer, ShellError> {
    let conn = store.conn();
    let now = store.clock().now_ms();
    let summary = dashboard::summary(
        &conn,
        now,
        zone,
        &DashboardRequest {
            days: Some(days),
            recent_failures: None,
        },
    )?;
    let kinds: HashMap<String, AccountKind> = accounts::list(&conn)?
        .into_iter()
        .map(|a| (a.name, a.kind))
        .collect();
    let accounts = summary
        .accounts
        .into_iter()
        .map(|rate| AccountLine {
            kind: (rate.channel == Channel::Email.as_str())
                .then(|| kinds.get(&rate.account).copied())
                .flatten(),
            rate,
        })
        .collect();
    Ok(DashboardAnswer {
        from: summary.from,
        to: summary.to,
        days: summary.days,
        totals: summary.totals,
        accounts,
        recent_failures: summary.recent_failures,
        now,
    })
}

/// The last `days` days (default 30) in the page's time zone: counts per day, delivery by
/// account and the latest failures.
#[tauri::command]
pub async fn dashboard_summary(
    state: State<'_, AppState>,
    timezone_offset_minutes: i32,
    days: Option<u32>,
) -> Result<DashboardAnswer, ShellError> {
    state.require_admin()?;
    let (zone, days) = dashboard_args(timezone_offset_minutes, days)?;
    let store = state.store()?;
    blocking(move || dashboard_of(&store, &zone, days)).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use otp_desk_core::audit::Event;
    use otp_desk_core::customers::CustomerInput;
    use otp_desk_core::delivery::attempts::{self, Attempt};
    use otp_desk_core::ManualClock;

    use super::*;

    const MEGABYTE: usize = 1 << 20;

    /// The hostile and odd inputs every text argument is tried with.
    fn hostile() -> Vec<String> {
        vec![
            "<script>alert(1)</script>".into(),
            "' OR 1=1 --".into(),
            "%_\\".into(),
            "Robert'); DROP TABLE codes;--".into(),
        ]
    }

    fn refused(error: ShellError, field: &str) {
        assert_eq!(error.kind, "invalid_filter", "{error:?}");
        assert_eq!(error.fields.len(), 1, "{error:?}");
        assert_eq!(error.fields[0].field, field, "{error:?}");
        assert!(!error.message.is_empty());
        assert!(
            error.message.len() < 300,
            "a message, not an echo: {}",
            error.message.len()
        );
    }

    #[test]
    fn an_empty_code_query_lists_the_first_page_of_everything() {
        let filter = code_filter(CodeQuery::default()).unwrap();
        assert_eq!(filter.channel, None);
        assert!(filter.states.is_empty());
        assert_eq!((filter.from, filter.to), (None, None));
        assert_eq!(filter.text, None);
        assert_eq!((filter.limit, filter.offset), (Some(50), Some(0)));

        let blank = code_filter(CodeQuery {
            channel: Some(String::new()),
            state: Some("  ".into()),
            text: Some("   ".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            (blank.channel, blank.states.len(), blank.text),
            (None, 0, None)
        );
    }

    #[test]
    fn code_filters_take_what_the_toolbar_offers() {
        let filter = code_filter(CodeQuery {
            channel: Some("sms".into()),
            state: Some("expired".into()),
            from: Some(1_000),
            to: Some(2_000),
            text: Some("  WB-1001 ".into()),
            limit: Some(50),
            offset: Some(100),
        })
        .unwrap();
        assert_eq!(filter.channel, Some(Channel::Sms));
        assert_eq!(filter.states, [CodeState::Expired]);
        assert_eq!((filter.from, filter.to), (Some(1_000), Some(2_000)));
        assert_eq!(filter.text.as_deref(), Some("WB-1001"));
        assert_eq!((filter.limit, filter.offset), (Some(50), Some(100)));
        // One day: from its first to its last millisecond.
        assert!(code_filter(CodeQuery {
            from: Some(5),
            to: Some(5),
            ..Default::default()
        })
        .is_ok());
    }

    #[test]
    fn unknown_choices_are_refused_with_the_filter_they_belong_to() {
        for bad in [
            "posted",
            "pending' OR 1=1",
            "<b>verified</b>",
            "pend\r\ning",
        ] {
            let error = code_filter(CodeQuery {
                state: Some(bad.into()),
                ..Default::default()
            })
            .unwrap_err();
            refused(error, "state");
        }
        refused(
            code_filter(CodeQuery {
                channel: Some("fax".into()),
                ..Default::default()
            })
            .unwrap_err(),
            "channel",
        );
        refused(
            audit_filter(AuditQuery {
                kind: Some("code_deleted".into()),
                ..Default::default()
            })
            .unwrap_err(),
            "kind",
        );
        refused(
            audit_filter(AuditQuery {
                result: Some("maybe".into()),
                ..Default::default()
            })
            .unwrap_err(),
            "result",
        );
        let huge = "x".repeat(MEGABYTE);
        for (query, field) in [
            (
                CodeQuery {
                    state: Some(huge.clone()),
                    ..Default::default()
                },
                "state",
            ),
            (
                CodeQuery {
                    channel: Some(huge.clone()),
                    ..Default::default()
                },
                "channel",
            ),
        ] {
            refused(code_filter(query).unwrap_err(), field);
        }
        refused(
            audit_filter(AuditQuery {
                kind: Some(format!("code_verify\u{202E}{huge}")),
                ..Default::default()
            })
            .unwrap_err(),
            "kind",
        );
    }

    #[test]
    fn choices_ignore_the_white_space_around_them() {
        let filter = code_filter(CodeQuery {
            state: Some(" pending\r\n".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(filter.states, [CodeState::Pending]);
    }

    #[test]
    fn reversed_and_impossible_date_ranges_are_refused() {
        refused(
            code_filter(CodeQuery {
                from: Some(2_000),
                to: Some(1_999),
                ..Default::default()
            })
            .unwrap_err(),
            "to",
        );
        refused(
            audit_filter(AuditQuery {
                from: Some(2_000),
                to: Some(1_000),
                ..Default::default()
            })
            .unwrap_err(),
            "to",
        );
        for (from, to, field) in [
            (Some(-1), None, "from"),
            (Some(i64::MIN), None, "from"),
            (None, Some(LATEST_MS + 1), "to"),
            (None, Some(i64::MAX), "to"),
        ] {
            refused(
                code_filter(CodeQuery {
                    from,
                    to,
                    ..Default::default()
                })
                .unwrap_err(),
                field,
            );
        }
        assert!(date_range(Some(0), Some(LATEST_MS)).is_ok());
        assert!(date_range(None, Some(0)).is_ok());
    }

    #[test]
    fn the_search_is_one_short_line_and_hostile_text_stays_text() {
        let longest = "é".repeat(activity::MAX_TEXT_CHARS);
        assert_eq!(
            search_text(Some(longest.clone())).unwrap(),
            Some(longest.clone())
        );
        for bad in [
            format!("{longest}x"),
            "x".repeat(MEGABYTE),
            "jo\r\nsmith".into(),
            "jo\u{202E}htims".into(),
            "nul\0".into(),
        ] {
            refused(search_text(Some(bad)).unwrap_err(), "text");
        }
        for text in hostile() {
            assert_eq!(search_text(Some(text.clone())).unwrap(), Some(text.clone()));
            let filter = audit_filter(AuditQuery {
                text: Some(text.clone()),
                ..Default::default()
            })
            .unwrap();
            assert_eq!(filter.text, Some(text));
        }
    }

    #[test]
    fn paging_stays_within_what_the_screens_ask_for() {
        assert_eq!(paging(None, None).unwrap(), (50, 0));
        assert_eq!(
            paging(Some(MAX_PAGE_ROWS), Some(MAX_OFFSET)).unwrap(),
            (200, MAX_OFFSET)
        );
        for (limit, offset) in [
            (Some(0), None),
            (Some(MAX_PAGE_ROWS + 1), None),
            (Some(u32::MAX), None),
            (None, Some(MAX_OFFSET + 1)),
            (None, Some(u32::MAX)),
        ] {
            refused(paging(limit, offset).unwrap_err(), "page");
        }
    }

    #[test]
    fn unknown_query_fields_are_refused_rather_than_ignored() {
        let typo = serde_json::json!({ "chanel": "sms" });
        assert!(serde_json::from_value::<CodeQuery>(typo).is_err());
        let typo = serde_json::json!({ "type": "code_sent" });
        assert!(serde_json::from_value::<AuditQuery>(typo).is_err());
        let fine = serde_json::json!({ "kind": "code_sent", "from": 1, "to": null });
        assert!(serde_json::from_value::<AuditQuery>(fine).is_ok());
        let fraction = serde_json::json!({ "from": 1.5 });
        assert!(serde_json::from_value::<CodeQuery>(fraction).is_err());
    }

    #[test]
    fn the_dashboard_takes_the_pages_time_zone_within_fourteen_hours() {
        let (zone, days) = dashboard_args(-120, None).unwrap();
        assert_eq!(
            zone.local_minus_utc(),
            2 * 3600,
            "Berlin in summer is UTC+2"
        );
        assert_eq!(days, 30);
        let (zone, _) = dashboard_args(300, Some(7)).unwrap();
        assert_eq!(
            zone.local_minus_utc(),
            -5 * 3600,
            "New York in winter is UTC−5"
        );
        assert!(dashboard_args(-840, Some(1)).is_ok());
        assert!(dashboard_args(840, Some(366)).is_ok());
        for (offset, days) in [
            (-841, None),
            (841, None),
            (i32::MIN, None),
            (i32::MAX, None),
            (0, Some(0)),
            (0, Some(367)),
            (0, Some(u32::MAX)),
        ] {
            let error = dashboard_args(offset, days).unwrap_err();
            assert_eq!(error.kind, "invalid_argument", "{offset} {days:?}");
            assert!(!error.message.is_empty());
        }
    }

    /// The options of the `<select>` with `id` in the page.
    fn options_of(id: &str) -> Vec<String> {
        let page = include_str!("../../ui/index.html");
        let start = page
            .find(&format!("<select id=\"{id}\""))
            .unwrap_or_else(|| panic!("no <select id={id}> in index.html"));
        let end = start + page[start..].find("</select>").expect("the select ends");
        page[start..end]
            .split("<option value=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|value| !value.is_empty())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn the_toolbars_offer_every_state_and_event_type_and_nothing_else() {
        let states: Vec<&str> = CodeState::ALL.iter().map(|s| s.as_str()).collect();
        let mut offered = options_of("codes-state");
        offered.sort();
        let mut known = states.clone();
        known.sort();
        assert_eq!(offered, known);

        let mut offered = options_of("audit-kind");
        offered.sort();
        let mut known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        known.sort();
        assert_eq!(
            offered, known,
            "a new audit event type needs its words in the Type list"
        );

        assert_eq!(options_of("audit-result"), ["ok", "failed", "refused"]);
        for id in ["codes-channel", "audit-channel"] {
            let channels = options_of(id);
            assert_eq!(channels, ["email", "sms"]);
            for channel in channels {
                assert!(channel.parse::<Channel>().is_ok());
            }
        }
        for outcome in options_of("audit-result") {
            assert!(outcome.parse::<Outcome>().is_ok());
        }
    }

    fn store() -> (Store, ManualClock) {
        let clock = ManualClock::start();
        let store = Store::open_in_memory(Arc::new(clock.clone())).unwrap();
        (store, clock)
    }

    fn customer(store: &Store, account: &str, name: &str) -> i64 {
        customers::create(
            &mut store.conn(),
            store.clock(),
            "Ann",
            &CustomerInput {
                account_number: account.into(),
                name: name.into(),
                email: format!("{}@example.com", account.to_lowercase()),
                ..Default::default()
            },
        )
        .unwrap()
        .id
    }

    #[test]
    fn audit_rows_carry_todays_customer_name_and_the_page_counts_them_all() {
        let (store, clock) = store();
        let jo = customer(&store, "WB-1", "<b>Jo</b> Smith");
        clock.advance_secs(60);
        customer(&store, "WB-2", "Sam Okafor");
        clock.advance_secs(60);
        // An event about a customer who is gone keeps its account number only.
        audit::record(
            &store.conn(),
            store.clock(),
            &Event::new(Kind::CustomerDeleted, Outcome::Ok, "Ann").customer(999, "WB-999"),
        )
        .unwrap();

        let everything = audit_filter(AuditQuery::default()).unwrap();
        let page = audit_page(&store, &everything).unwrap();
        assert_eq!(page.total, 3);
        assert_eq!(page.rows.len(), 3);
        let names: Vec<Option<&str>> = page
            .rows
            .iter()
            .map(|r| r.customer_name.as_deref())
            .collect();
        assert_eq!(names, [None, Some("Sam Okafor"), Some("<b>Jo</b> Smith")]);
        assert_eq!(page.rows[2].entry.customer_id, Some(jo));

        let second = audit_filter(AuditQuery {
            limit: Some(1),
            offset: Some(1),
            ..Default::default()
        })
        .unwrap();
        let page = audit_page(&store, &second).unwrap();
        assert_eq!(
            (page.total, page.limit, page.offset, page.rows.len()),
            (3, 1, 1, 1)
        );
        assert_eq!(page.rows[0].entry.account_number.as_deref(), Some("WB-2"));

        for text in hostile() {
            let filter = audit_filter(AuditQuery {
                text: Some(text),
                ..Default::default()
            })
            .unwrap();
            let page = audit_page(&store, &filter).unwrap();
            assert_eq!(page.total, 0);
        }
        let json = serde_json::to_value(audit_page(&store, &everything).unwrap()).unwrap();
        assert_eq!(json["rows"][2]["customer_name"], "<b>Jo</b> Smith");
        assert_eq!(json["rows"][2]["kind"], "customer_created");
        assert_eq!(json["max_offset"], MAX_OFFSET);
    }

    fn scratch_folder(name: &str) -> PathBuf {
        let folder =
            std::env::temp_dir().join(format!("otp-desk-activity-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        folder
    }

    #[test]
    fn an_export_is_a_new_utf8_csv_file_with_the_filtered_rows() {
        let (store, _) = store();
        customer(&store, "WB-1", "Jo Smith");
        customer(&store, "WB-2", "=HYPERLINK(\"x\")");
        let folder = scratch_folder("audit");
        let filter = audit_filter(AuditQuery {
            text: Some("WB-2".into()),
            ..Default::default()
        })
        .unwrap();
        let first = export_audit(&store, &folder, &filter).unwrap();
        let second = export_audit(&store, &folder, &filter).unwrap();
        assert_ne!(
            first.file, second.file,
            "an export never overwrites an earlier one"
        );
        assert_eq!(first.rows, 1);
        assert_eq!(first.folder, folder.display().to_string());
        let bytes = std::fs::read(&first.file).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains("WB-2") && !text.contains("WB-1"), "{text}");

        let codes =
            export_codes(&store, &folder, &code_filter(CodeQuery::default()).unwrap()).unwrap();
        assert_eq!(codes.rows, 0);
        assert!(codes.file.ends_with(".csv"));
        std::fs::remove_dir_all(&folder).unwrap();
    }

    #[test]
    fn a_failed_export_leaves_no_file_behind() {
        let folder = scratch_folder("failed");
        let error = export_to(&folder, "otp-desk-audit", |out| {
            out.write_all(b"half a row").unwrap();
            Err(ShellError::new("file", "the disk is full"))
        })
        .unwrap_err();
        assert_eq!(error.message, "the disk is full");
        assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);
        std::fs::remove_dir_all(&folder).unwrap();

        // A folder that cannot be made (a file is in its place) is named in the error.
        let blocker = scratch_folder("blocked");
        std::fs::write(&blocker, "x").unwrap();
        let error = export_to(&blocker.join("exports"), "otp-desk-codes", |_| Ok(0)).unwrap_err();
        assert_eq!(error.kind, "file");
        assert!(error.message.contains("exports"), "{}", error.message);
        std::fs::remove_file(&blocker).unwrap();
    }

    #[test]
    fn the_dashboard_names_each_mail_accounts_kind() {
        let (store, _) = store();
        let (zone, days) = dashboard_args(0, None).unwrap();
        let quiet = dashboard_of(&store, &zone, days).unwrap();
        assert_eq!(quiet.days.len(), 30);
        assert_eq!(quiet.totals, Totals::default());
        assert!(quiet.accounts.is_empty() && quiet.recent_failures.is_empty());
        assert_eq!(quiet.to - quiet.from, 30 * 24 * 3_600_000);

        let tried = |channel, account: &str, failure| {
            attempts::record(
                &store.conn(),
                store.clock(),
                &Attempt {
                    code_id: Some(1),
                    channel,
                    account,
                    masked_recipient: "jo…@example.com",
                    failure,
                    reply: "550 <b>no</b>",
                    duration_ms: 5,
                    provider_id: "",
                    provider_status: "",
                },
            )
            .unwrap();
        };
        let local = accounts::default_account(&store.conn()).unwrap().name;
        tried(Channel::Email, &local, None);
        tried(Channel::Email, "Removed since", Some(FailureClass::Network));
        tried(Channel::Sms, "Twilio", None);
        let answer = dashboard_of(&store, &zone, days).unwrap();
        let kinds: Vec<(&str, Option<AccountKind>)> = answer
            .accounts
            .iter()
            .map(|a| (a.rate.account.as_str(), a.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (local.as_str(), Some(AccountKind::Outbox)),
                ("Removed since", None),
                ("Twilio", None),
            ]
        );
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!(json["accounts"][0]["kind"], "outbox");
        assert_eq!(json["accounts"][0]["success_rate"], 1.0);
        let failure = &json["recent_failures"][0];
        assert_eq!(failure["failure_class"], "network");
        assert_eq!(failure["hint"], FailureClass::Network.hint());
        assert_eq!(failure["reply"], "550 <b>no</b>");
    }
}
