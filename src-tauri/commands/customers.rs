//! The Customers screen (admin): the list, add and edit, CSV import and export.
//!
//! Every command opens with `require_admin`: the whole screen is behind the admin passphrase.
//! Changes are recorded under the admin actor, the name at the desk when the admin area was
//! opened (or "admin" when nobody had picked a name): the same name the unlock that allowed
//! the change was recorded under, so the trail reads "Ann unlocked, Ann edited WB-1001".
//!
//! A CSV file travels as the raw body of the request (no JSON, no base64: a 10 MB file stays
//! 10 MB); the import mode and the progress channel ride along as request headers.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::str::FromStr;

use otp_desk_core::contact::is_bidi_control;
use otp_desk_core::customers::{
    self, csv::MAX_FILE_BYTES, search, Customer, CustomerError, CustomerInput, ImportMode,
    ImportReport, Preview, Progress,
};
use otp_desk_core::Store;
use serde::Serialize;
use tauri::ipc::{Channel, InvokeBody, JavaScriptChannelId, Request};
use tauri::{State, Webview};

use super::{blocking, row_id};
use crate::error::ShellError;
use crate::state::AppState;

/// A screen of the list; more would not fit at 1280x800 without scrolling far.
const PAGE_DEFAULT: u32 = 50;
pub const PAGE_MAX: u32 = 100;
/// The first rows shown before an import: enough to recognise the file and check the columns.
pub const PREVIEW_ROWS: usize = 10;
/// Rejected rows listed in the answer; a file with more has a systematic problem that the
/// first thousand show as well as all of them would.
pub const MAX_REJECTED_LISTED: usize = 1000;
/// The request headers an import carries besides the file itself.
pub const MODE_HEADER: &str = "x-import-mode";
pub const PROGRESS_HEADER: &str = "x-progress-channel";
const EXPORT_STEM: &str = "otp-desk-customers";

/// A customer as the admin's list shows it: full contacts (the admin edits them), as stored.
#[derive(Debug, Serialize)]
pub struct CustomerRow {
    id: i64,
    account_number: String,
    name: String,
    email: Option<String>,
    /// As entered; the E.164 form is shown in the edit form.
    phone: Option<String>,
}

impl From<Customer> for CustomerRow {
    fn from(c: Customer) -> Self {
        Self {
            id: c.id,
            account_number: c.account_number,
            name: c.name,
            email: c.email,
            phone: c.phone,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CustomerPage {
    customers: Vec<CustomerRow>,
    offset: u32,
    limit: u32,
    /// Every customer in the database when the search box is empty (the list is all of
    /// them); `None` for a search, whose matches are not counted.
    total: Option<i64>,
    /// Another page follows this one.
    more: bool,
    /// Where the next page starts, unless it lies deeper than paging goes (then: search).
    next_offset: Option<u32>,
}

/// The admin's list pages through everyone, 50 to a page by default.
fn list_bounds(
    query: &str,
    limit: Option<u32>,
    offset: Option<u32>,
) -> Result<(u32, u32), ShellError> {
    super::search_page(query, limit, offset, PAGE_DEFAULT, PAGE_MAX)
}

/// What the search reads as an empty box: nothing but spaces, line breaks or direction marks.
fn lists_everyone(query: &str) -> bool {
    query
        .chars()
        .all(|c| c.is_whitespace() || c.is_control() || is_bidi_control(c))
}

fn page_of(
    store: &Store,
    query: &str,
    limit: u32,
    offset: u32,
) -> Result<CustomerPage, ShellError> {
    let conn = store.conn();
    // One more than the page, to know whether another follows without counting matches.
    let mut found = customers::search(&conn, query, limit + 1, offset)?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    let total = if lists_everyone(query) {
        Some(customers::count(&conn)?)
    } else {
        None
    };
    let next = offset + limit;
    Ok(CustomerPage {
        customers: found.into_iter().map(CustomerRow::from).collect(),
        offset,
        limit,
        total,
        more,
        next_offset: (more && next <= search::MAX_OFFSET).then_some(next),
    })
}

#[tauri::command]
pub async fn list_customers(
    state: State<'_, AppState>,
    query: String,
    limit: Option<u32>,
    offset: Option<u32>,
) -> Result<CustomerPage, ShellError> {
    state.require_admin()?;
    let (limit, offset) = list_bounds(&query, limit, offset)?;
    let store = state.store()?;
    blocking(move || page_of(&store, &query, limit, offset)).await
}

fn not_found() -> ShellError {
    ShellError::new(
        "customer_not_found",
        "this customer is no longer in the database (deleted at another desk?); search again",
    )
}

/// The whole record, for the edit form: everything it holds, nothing more.
#[tauri::command]
pub async fn get_customer(
    state: State<'_, AppState>,
    customer_id: i64,
) -> Result<Customer, ShellError> {
    state.require_admin()?;
    let id = row_id("customer", customer_id)?;
    let store = state.store()?;
    blocking(move || customers::get(&store.conn(), id)?.ok_or_else(not_found)).await
}

/// A core refusal as the form shows it: a taken account number belongs under that field.
fn form_error(error: CustomerError) -> ShellError {
    let duplicate = matches!(error, CustomerError::DuplicateAccount(_));
    let shell = ShellError::from(error);
    if duplicate {
        shell.on_field("account_number")
    } else {
        shell
    }
}

/// Adds a customer (`id` none) or replaces every field of customer `id`.
fn save(
    store: &Store,
    actor: &str,
    id: Option<i64>,
    input: &CustomerInput,
) -> Result<Customer, ShellError> {
    let mut conn = store.conn();
    let saved = match id {
        None => customers::create(&mut conn, store.clock(), actor, input),
        Some(id) => customers::update(&mut conn, store.clock(), actor, id, input),
    };
    saved.map_err(|e| match e {
        CustomerError::NotFound(_) => not_found(),
        other => form_error(other),
    })
}

#[tauri::command]
pub async fn create_customer(
    state: State<'_, AppState>,
    customer: CustomerInput,
) -> Result<Customer, ShellError> {
    state.require_admin()?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    blocking(move || save(&store, &actor, None, &customer)).await
}

#[tauri::command]
pub async fn update_customer(
    state: State<'_, AppState>,
    customer_id: i64,
    customer: CustomerInput,
) -> Result<Customer, ShellError> {
    state.require_admin()?;
    let id = row_id("customer", customer_id)?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    blocking(move || save(&store, &actor, Some(id), &customer)).await
}

fn remove(store: &Store, actor: &str, id: i64) -> Result<(), ShellError> {
    customers::delete(&mut store.conn(), store.clock(), actor, id).map_err(|e| match e {
        CustomerError::NotFound(_) => not_found(),
        other => other.into(),
    })
}

/// Refused, with the core's reason, while a code is out for the customer: they may be
/// standing at the counter with it.
#[tauri::command]
pub async fn delete_customer(
    state: State<'_, AppState>,
    customer_id: i64,
) -> Result<(), ShellError> {
    state.require_admin()?;
    let id = row_id("customer", customer_id)?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    blocking(move || remove(&store, &actor, id)).await
}

/// What the page must know before it reads a file.
#[derive(Debug, Serialize)]
pub struct ImportRules {
    /// Larger files are refused before the page reads them.
    max_file_bytes: u64,
    preview_rows: usize,
    max_rejected_listed: usize,
    mode_header: &'static str,
    progress_header: &'static str,
}

#[tauri::command]
pub fn customer_import_rules(state: State<'_, AppState>) -> Result<ImportRules, ShellError> {
    state.require_admin()?;
    Ok(ImportRules {
        max_file_bytes: MAX_FILE_BYTES,
        preview_rows: PREVIEW_ROWS,
        max_rejected_listed: MAX_REJECTED_LISTED,
        mode_header: MODE_HEADER,
        progress_header: PROGRESS_HEADER,
    })
}

/// The file as the page sent it: raw bytes, no larger than an import takes.
fn file_bytes(body: &InvokeBody) -> Result<Vec<u8>, ShellError> {
    match body {
        InvokeBody::Raw(bytes) if bytes.len() as u64 > MAX_FILE_BYTES => {
            Err(CustomerError::TooLarge(MAX_FILE_BYTES).into())
        }
        InvokeBody::Raw(bytes) => Ok(bytes.clone()),
        InvokeBody::Json(_) => Err(ShellError::invalid_argument(
            "the file must arrive as its bytes, not as JSON; choose the file again",
        )),
    }
}

/// A header's value as text, or none when the request has no such header.
fn header<'a>(request: &'a Request<'_>, name: &str) -> Result<Option<&'a str>, ShellError> {
    match request.headers().get(name) {
        None => Ok(None),
        Some(value) => value.to_str().map(Some).map_err(|_| {
            ShellError::invalid_argument(format!("the {name} header must be plain text"))
        }),
    }
}

fn mode_arg(value: Option<&str>) -> Result<ImportMode, ShellError> {
    let value = value.ok_or_else(|| {
        ShellError::invalid_argument(
            "choose what happens to wrong rows: all-or-nothing or skip-invalid",
        )
    })?;
    Ok(ImportMode::from_str(value)?)
}

fn channel_arg(value: Option<&str>) -> Result<Option<JavaScriptChannelId>, ShellError> {
    value
        .map(|v| {
            JavaScriptChannelId::from_str(v.trim()).map_err(|_| {
                ShellError::invalid_argument(
                    "the progress channel is not one the page made; reload the screen",
                )
            })
        })
        .transpose()
}

/// The first rows of the file and how its columns would be read. Reads nothing from, and
/// writes nothing to, the database.
#[tauri::command]
pub async fn preview_customer_import(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> Result<Preview, ShellError> {
    state.require_admin()?;
    let bytes = file_bytes(request.body())?;
    blocking(move || Ok(customers::preview(bytes.as_slice(), PREVIEW_ROWS)?)).await
}

/// What an import did, for the report.
#[derive(Debug, Serialize)]
pub struct ImportAnswer {
    #[serde(flatten)]
    report: ImportReport,
    /// All rejected rows; `rejected` lists the first [`MAX_REJECTED_LISTED`].
    rejected_total: usize,
    mode: ImportMode,
    /// Customers in the database afterwards.
    customers: i64,
}

fn import_file(
    store: &Store,
    actor: &str,
    bytes: &[u8],
    mode: ImportMode,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportAnswer, ShellError> {
    let mut conn = store.conn();
    let mut report = customers::import(&mut conn, store.clock(), actor, bytes, mode, progress)?;
    let rejected_total = report.rejected.len();
    report.rejected.truncate(MAX_REJECTED_LISTED);
    Ok(ImportAnswer {
        report,
        rejected_total,
        mode,
        customers: customers::count(&conn)?,
    })
}

/// Imports the file in the body. Headers: `x-import-mode` (`all-or-nothing` or
/// `skip-invalid`), and optionally `x-progress-channel`, a channel the page made, which gets
/// `{done, total}` as rows are checked.
#[tauri::command]
pub async fn import_customers(
    state: State<'_, AppState>,
    webview: Webview,
    request: Request<'_>,
) -> Result<ImportAnswer, ShellError> {
    state.require_admin()?;
    let mode = mode_arg(header(&request, MODE_HEADER)?)?;
    let channel: Option<Channel<Progress>> =
        channel_arg(header(&request, PROGRESS_HEADER)?)?.map(|id| id.channel_on(webview));
    let bytes = file_bytes(request.body())?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    blocking(move || {
        let mut progress = |p: Progress| {
            if let Some(channel) = &channel {
                // A page that went away misses the progress, not the import.
                let _ = channel.send(p);
            }
        };
        let answer = import_file(&store, &actor, &bytes, mode, &mut progress);
        // The import left its pages in the write-ahead log (see `customers::import`): they
        // are copied into the database file on another thread, so the report goes back to
        // the page without waiting for that.
        tauri::async_runtime::spawn_blocking(move || {
            if let Err(e) = store.checkpoint() {
                tracing::warn!(
                    "the database log could not be copied into the file after an import: {e}"
                );
            }
        });
        answer
    })
    .await
}

#[derive(Debug, Serialize)]
pub struct Exported {
    path: String,
    file_name: String,
    folder: String,
    customers: u64,
}

/// Writes every customer into a new file in `folder`. A failure removes the partial file.
fn export_into(store: &Store, actor: &str, folder: &Path) -> Result<Exported, ShellError> {
    let path = crate::files::new_file_in(folder, EXPORT_STEM, "csv")?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = crate::files::create_private(&path)?;
    let mut out = BufWriter::new(file);
    let written =
        customers::export_audited(&store.conn(), store.clock(), actor, &mut out, &file_name)
            .and_then(|n| {
                out.flush()?;
                Ok(n)
            });
    drop(out);
    match written {
        Ok(n) => Ok(Exported {
            path: path.display().to_string(),
            file_name,
            folder: folder.display().to_string(),
            customers: n,
        }),
        Err(error) => {
            let _ = std::fs::remove_file(&path);
            Err(error.into())
        }
    }
}

/// Every customer as CSV in the exports folder (the downloads folder), in the form an import
/// reads back; answers where the file went.
#[tauri::command]
pub async fn export_customers(state: State<'_, AppState>) -> Result<Exported, ShellError> {
    state.require_admin()?;
    let folder = state.exports_folder()?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    blocking(move || export_into(&store, &actor, &folder)).await
}

/// Opens the exports folder in the file manager; answers with the folder, so the page can
/// say where it is when no file manager opens.
#[tauri::command]
pub async fn open_customers_export_folder(
    state: State<'_, AppState>,
) -> Result<String, ShellError> {
    state.require_admin()?;
    let folder = state.exports_folder()?;
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use otp_desk_core::ManualClock;

    use super::*;

    const HOSTILE: [&str; 5] = [
        "Robert'); DROP TABLE customers;--",
        "<script>alert(1)</script>",
        "line\r\nbreak",
        "evil\u{202E}txt.csv",
        "%00\0nul",
    ];

    fn store() -> Store {
        Store::open_in_memory(Arc::new(ManualClock::start())).unwrap()
    }

    fn input(account: &str, name: &str) -> CustomerInput {
        CustomerInput {
            account_number: account.into(),
            name: name.into(),
            ..Default::default()
        }
    }

    fn fields(error: &ShellError) -> Vec<&str> {
        error.fields.iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn list_bounds_take_defaults_and_refuse_what_the_screen_never_asks_for() {
        assert_eq!(list_bounds("", None, None).unwrap(), (50, 0));
        assert_eq!(list_bounds("jo", Some(100), Some(50)).unwrap(), (100, 50));
        assert_eq!(
            list_bounds("", Some(1), Some(search::MAX_OFFSET)).unwrap(),
            (1, search::MAX_OFFSET)
        );
        let longest = "é".repeat(search::MAX_QUERY_CHARS);
        assert!(list_bounds(&longest, None, None).is_ok());
        let megabyte = "x".repeat(1 << 20);
        for (query, limit, offset) in [
            (format!("{longest}x"), None, None),
            (megabyte, None, None),
            (String::new(), Some(0), None),
            (String::new(), Some(PAGE_MAX + 1), None),
            (String::new(), Some(u32::MAX), None),
            (String::new(), None, Some(search::MAX_OFFSET + 1)),
            (String::new(), None, Some(u32::MAX)),
        ] {
            let error = list_bounds(&query, limit, offset).unwrap_err();
            assert_eq!(error.kind, "invalid_search", "{limit:?} {offset:?}");
            assert!(error.message.len() < 200, "{}", error.message);
        }
        for query in HOSTILE {
            assert!(list_bounds(query, None, None).is_ok(), "{query:?}");
        }
    }

    #[test]
    fn an_empty_box_pages_through_everyone_by_account_number_with_a_total() {
        let store = store();
        for n in 1..=7 {
            save(
                &store,
                "Ann",
                None,
                &input(&format!("WB-{n:02}"), "Kim Park"),
            )
            .unwrap();
        }
        let first = page_of(&store, "", 3, 0).unwrap();
        let json = serde_json::to_value(&first).unwrap();
        assert_eq!(json["total"], 7);
        assert_eq!(json["more"], true);
        assert_eq!(json["next_offset"], 3);
        assert_eq!(json["customers"][0]["account_number"], "WB-01");
        let last = page_of(&store, " \u{202E} ", 3, 6).unwrap();
        let json = serde_json::to_value(&last).unwrap();
        assert_eq!(json["customers"].as_array().unwrap().len(), 1);
        assert_eq!(json["customers"][0]["account_number"], "WB-07");
        assert_eq!(json["total"], 7, "direction marks alone are an empty box");
        assert_eq!(json["more"], false);
        assert_eq!(json["next_offset"], serde_json::Value::Null);

        // A search is not counted; paging stops where paging stops.
        let found = page_of(&store, "kim", 3, search::MAX_OFFSET).unwrap();
        let json = serde_json::to_value(&found).unwrap();
        assert_eq!(json["total"], serde_json::Value::Null);
        let found = page_of(&store, "kim", 5, 0).unwrap();
        assert!(found.more);
        for query in HOSTILE {
            assert!(page_of(&store, query, 5, 0).unwrap().customers.is_empty());
        }
    }

    #[test]
    fn the_list_shows_full_contacts_as_stored_and_nothing_the_record_lacks() {
        let store = store();
        let mut with = input("WB-1", "Jo Smith");
        with.email = "jo.smith@example.com".into();
        with.phone = "(415) 555-0132".into();
        with.notes = "gate code 1234".into();
        save(&store, "Ann", None, &with).unwrap();
        save(&store, "Ann", None, &input("WB-2", "No Contacts")).unwrap();
        let page = serde_json::to_value(page_of(&store, "", 10, 0).unwrap()).unwrap();
        assert_eq!(
            page["customers"][0],
            serde_json::json!({
                "id": 1,
                "account_number": "WB-1",
                "name": "Jo Smith",
                "email": "jo.smith@example.com",
                "phone": "(415) 555-0132",
            })
        );
        assert_eq!(page["customers"][1]["email"], serde_json::Value::Null);
        assert_eq!(page["customers"][1]["phone"], serde_json::Value::Null);
        assert!(
            !page.to_string().contains("gate code"),
            "notes stay in the form"
        );
    }

    #[test]
    fn every_bad_field_comes_back_under_its_own_name() {
        let store = store();
        let error = save(
            &store,
            "Ann",
            None,
            &CustomerInput {
                account_number: String::new(),
                name: "a\u{202E}b".into(),
                email: "not-an-email".into(),
                phone: "call me".into(),
                service_address: "x".repeat(1 << 20),
                notes: "tab\there".into(),
            },
        )
        .unwrap_err();
        assert_eq!(error.kind, "invalid_customer");
        assert_eq!(
            fields(&error),
            [
                "account_number",
                "name",
                "service_address",
                "notes",
                "email",
                "phone"
            ]
        );
        for problem in &error.fields {
            assert!(problem.message.len() < 300, "{}", problem.message);
        }
        let megabyte = "7".repeat(1 << 20);
        for (field, value) in [
            ("account_number", megabyte.as_str()),
            ("account_number", "'; DROP TABLE customers;--"),
            ("account_number", "<b>WB</b>"),
            ("account_number", "WB\r\n1"),
            ("name", "Ann\r\nLee"),
            ("name", megabyte.as_str()),
            ("email", "jo@example.com\r\nBcc: all@example.com"),
            ("email", megabyte.as_str()),
            ("phone", megabyte.as_str()),
        ] {
            let mut bad = input("WB-1", "Jo");
            match field {
                "account_number" => bad.account_number = value.into(),
                "name" => bad.name = value.into(),
                "email" => bad.email = value.into(),
                _ => bad.phone = value.into(),
            }
            let error = save(&store, "Ann", None, &bad).unwrap_err();
            assert_eq!(fields(&error), [field], "{value:.40?}");
            assert!(error.message.len() < 300, "{}", error.message);
        }
        assert_eq!(customers::count(&store.conn()).unwrap(), 0, "nothing saved");
        // HTML and SQL in a name are text like any other.
        let saved = save(&store, "Ann", None, &input("WB-1", HOSTILE[1])).unwrap();
        assert_eq!(saved.name, HOSTILE[1]);
    }

    #[test]
    fn a_taken_account_number_is_an_error_under_that_field() {
        let store = store();
        save(&store, "Ann", None, &input("WB-1", "Jo")).unwrap();
        let other = save(&store, "Ann", None, &input("WB-2", "Kim")).unwrap();
        for error in [
            save(&store, "Ann", None, &input("wb-1", "Again")).unwrap_err(),
            save(&store, "Ann", Some(other.id), &input("WB-1", "Kim")).unwrap_err(),
        ] {
            assert_eq!(error.kind, "duplicate_account");
            assert_eq!(fields(&error), ["account_number"]);
        }
    }

    #[test]
    fn edits_and_deletes_are_recorded_under_the_actor_and_a_gone_customer_is_explained() {
        let store = store();
        let jo = save(&store, "Ann Admin", None, &input("WB-1", "Jo")).unwrap();
        let edited = save(&store, "Ann Admin", Some(jo.id), &input("WB-1", "Jo Smith")).unwrap();
        assert_eq!(edited.name, "Jo Smith");
        remove(&store, "Ann Admin", jo.id).unwrap();
        for error in [
            remove(&store, "Ann Admin", jo.id).unwrap_err(),
            save(&store, "Ann Admin", Some(jo.id), &input("WB-1", "Jo")).unwrap_err(),
            save(&store, "Ann Admin", Some(i64::MAX), &input("WB-1", "Jo")).unwrap_err(),
        ] {
            assert_eq!(error.kind, "customer_not_found");
        }
        let conn = store.conn();
        let trail: Vec<(String, String)> = conn
            .prepare("SELECT kind, operator FROM audit_events ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let kinds: Vec<&str> = trail.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            ["customer_created", "customer_updated", "customer_deleted"]
        );
        assert!(trail.iter().all(|(_, who)| who == "Ann Admin"));
    }

    #[test]
    fn row_ids_that_cannot_exist_are_refused_before_the_database() {
        for id in [0, -1, i64::MIN] {
            assert_eq!(row_id("customer", id).unwrap_err().kind, "invalid_argument");
        }
    }

    #[test]
    fn a_file_must_come_as_bytes_and_fit_the_import_limit() {
        assert_eq!(
            file_bytes(&InvokeBody::Raw(b"a,b\n".to_vec())).unwrap(),
            b"a,b\n"
        );
        assert!(file_bytes(&InvokeBody::Raw(Vec::new())).unwrap().is_empty());
        let json = file_bytes(&InvokeBody::Json(serde_json::json!({"file": "a,b"}))).unwrap_err();
        assert_eq!(json.kind, "invalid_argument");
        // Just over the limit. Zeroed memory comes from the OS untouched, and the check reads
        // only the length, so this costs no half gigabyte.
        let limit = usize::try_from(MAX_FILE_BYTES).unwrap();
        let huge = vec![0u8; limit + 1];
        let error = file_bytes(&InvokeBody::Raw(huge)).unwrap_err();
        assert_eq!(error.kind, "import");
        assert!(
            error.message.contains("larger than 512 MB"),
            "{}",
            error.message
        );
    }

    #[test]
    fn the_import_mode_and_progress_channel_are_checked() {
        assert_eq!(
            mode_arg(Some("skip-invalid")).unwrap(),
            ImportMode::SkipInvalid
        );
        assert_eq!(
            mode_arg(Some("all-or-nothing")).unwrap(),
            ImportMode::AllOrNothing
        );
        assert_eq!(mode_arg(None).unwrap_err().kind, "invalid_argument");
        let megabyte = "x".repeat(1 << 20);
        for bad in ["", "yolo", megabyte.as_str(), HOSTILE[0], HOSTILE[3]] {
            let error = mode_arg(Some(bad)).unwrap_err();
            assert_eq!(error.kind, "import", "{bad:.40?}");
            assert!(error.message.len() < 200);
        }
        assert!(channel_arg(None).unwrap().is_none());
        assert!(channel_arg(Some("__CHANNEL__:42")).unwrap().is_some());
        for bad in [
            "",
            "42",
            "__CHANNEL__:",
            "__CHANNEL__:-1",
            "__CHANNEL__:4x",
            megabyte.as_str(),
        ] {
            let error = channel_arg(Some(bad)).err().unwrap();
            assert_eq!(error.kind, "invalid_argument", "{bad:.40?}");
        }
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn an_import_reports_rejected_rows_by_line_and_progress_reaches_the_total() {
        let store = store();
        let mut seen = Vec::new();
        let answer = import_file(
            &store,
            "Ann Admin",
            &fixture("customers_with_errors.csv"),
            ImportMode::SkipInvalid,
            &mut |p| seen.push((p.done, p.total)),
        )
        .unwrap();
        assert_eq!(seen.first(), Some(&(0, 8)));
        assert_eq!(seen.last(), Some(&(8, 8)));
        let json = serde_json::to_value(&answer).unwrap();
        assert_eq!(json["inserted"], 2);
        assert_eq!(json["committed"], true);
        assert_eq!(json["rejected_total"], 6);
        assert_eq!(json["customers"], 2);
        assert_eq!(json["mode"], "skip-invalid");
        let lines: Vec<u64> = answer.report.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8]);

        let answer = import_file(
            &store,
            "Ann Admin",
            &fixture("customers_with_errors.csv"),
            ImportMode::AllOrNothing,
            &mut |_| {},
        )
        .unwrap();
        assert!(!answer.report.committed);
        assert_eq!(answer.customers, 2, "nothing imported");
    }

    #[test]
    fn a_long_list_of_rejected_rows_is_cut_but_counted() {
        let store = store();
        let mut file = String::from("account_number,name\n");
        for n in 0..(MAX_REJECTED_LISTED + 5) {
            file.push_str(&format!("WB-{n},\n"));
        }
        let answer = import_file(
            &store,
            "Ann",
            file.as_bytes(),
            ImportMode::SkipInvalid,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(answer.rejected_total, MAX_REJECTED_LISTED + 5);
        assert_eq!(answer.report.rejected.len(), MAX_REJECTED_LISTED);
    }

    #[test]
    fn files_that_are_not_customer_lists_are_refused_with_the_reason() {
        let store = store();
        let megabyte_header = "x".repeat(1 << 20);
        for (bytes, says) in [
            (b"".to_vec(), "empty"),
            (b"PK\x03\x04rest".to_vec(), "spreadsheet"),
            (
                b"name,email\nJo,jo@example.com\n".to_vec(),
                "no column for account number",
            ),
            (b"account_number,name\n".to_vec(), "no customers"),
            (b"\xff\xfe\x00a".to_vec(), "UTF-16"),
            (b"account,name\xff\n1,Jo\n".to_vec(), "UTF-8"),
            (megabyte_header.into_bytes(), "no column"),
        ] {
            let error = import_file(&store, "Ann", &bytes, ImportMode::SkipInvalid, &mut |_| {})
                .unwrap_err();
            assert_eq!(error.kind, "import", "{says}");
            assert!(error.message.contains(says), "{says}: {}", error.message);
            assert!(error.message.len() < 600, "{}", error.message.len());
        }
        assert_eq!(customers::count(&store.conn()).unwrap(), 0);
    }

    #[test]
    fn a_preview_maps_columns_and_flags_missing_ones() {
        let preview = customers::preview(
            fixture("customers_with_errors.csv").as_slice(),
            PREVIEW_ROWS,
        )
        .unwrap();
        assert!(preview.missing.is_empty());
        assert_eq!(preview.rows.len(), 8);
        let preview = customers::preview(b"Name;Balance\nJo;3\n".as_slice(), PREVIEW_ROWS).unwrap();
        assert_eq!(preview.missing, ["account number"]);
        assert_eq!(preview.ignored_columns, ["Balance"]);
    }

    #[test]
    fn an_export_lands_in_a_new_private_file_and_is_recorded() {
        let store = store();
        let mut jo = input("WB-1", "=HYPERLINK(\"http://evil.example\")");
        jo.email = "jo@example.com".into();
        save(&store, "Ann", None, &jo).unwrap();
        save(&store, "Ann", None, &input("WB-2", HOSTILE[1])).unwrap();
        let folder = tempfile::tempdir().unwrap();
        let first = export_into(&store, "Ann Admin", folder.path()).unwrap();
        let second = export_into(&store, "Ann Admin", folder.path()).unwrap();
        assert_ne!(first.path, second.path, "an export never replaces another");
        assert_eq!(first.customers, 2);
        assert!(first.file_name.starts_with("otp-desk-customers-"));
        let text = std::fs::read_to_string(&first.path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].starts_with("WB-1,\"'=HYPERLINK"), "{}", lines[1]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&first.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let recorded: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM audit_events WHERE kind = 'customers_exported' AND operator = 'Ann Admin'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(recorded, 2);
    }

    #[test]
    fn a_failed_export_leaves_no_partial_file_behind() {
        let store = store();
        save(&store, "Ann", None, &input("WB-1", "Jo")).unwrap();
        let folder = tempfile::tempdir().unwrap();
        // No one to record the export under: refused, and the file it started goes again.
        let error = export_into(&store, " ", folder.path()).unwrap_err();
        assert_eq!(error.kind, "audit");
        assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0);
    }
}
