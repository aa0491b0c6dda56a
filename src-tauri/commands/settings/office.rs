//! Settings: the code policy, operators, the admin passphrase, backups, restore, the database
//! location and cleanup of old codes.
//!
//! Every command checks that the admin area is open before anything else, and records what
//! it changes under the name of whoever is at the desk (`Session::admin_actor`). The work of
//! each command is a plain function over a `Store`, so its rules are tested without a window.

use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use otp_desk_core::admin::{self, AdminError};
use otp_desk_core::audit::{self, Event, Kind, Outcome};
use otp_desk_core::clock::Millis;
use otp_desk_core::codes;
use otp_desk_core::contact;
use otp_desk_core::customers;
use otp_desk_core::operators::{self, Operator};
use otp_desk_core::settings::{self, SettingView, SettingsError};
use otp_desk_core::store::{self, RestoreReport, Store};
use serde::Serialize;
use tauri::State;
use zeroize::Zeroizing;

use crate::commands::{blocking, row_id};
use crate::error::ShellError;
use crate::state::AppState;

// ---------------------------------------------------------------------------------------------
// Code policy

/// Longer than any value a setting takes (the longest is a 100-character company name).
const MAX_SETTING_VALUE_BYTES: usize = 1024;
/// Longer than any setting's name.
const MAX_SETTING_KEY_CHARS: usize = 64;

/// Rules the design fixes; shown so the admin knows they exist and need no setting.
#[derive(Debug, Clone, Serialize)]
pub struct FixedRules {
    sends_per_10_minutes: u32,
    sends_per_day: u32,
    contact_lock_after_failures: u32,
    contact_lock_first_seconds: i64,
    contact_lock_max_seconds: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    settings: Vec<SettingView>,
    fixed: FixedRules,
}

fn policy(store: &Store) -> Result<Policy, ShellError> {
    let views = settings::list(&store.conn())?;
    Ok(Policy {
        settings: views,
        fixed: FixedRules {
            sends_per_10_minutes: settings::SENDS_PER_10_MINUTES,
            sends_per_day: settings::SENDS_PER_DAY,
            contact_lock_after_failures: settings::LOCKOUT_AFTER_FAILURES,
            contact_lock_first_seconds: settings::LOCKOUT_BASE_SECS,
            contact_lock_max_seconds: settings::LOCKOUT_MAX_SECS,
        },
    })
}

/// What the page sends is refused before the core sees it when no setting could take it.
fn setting_args(key: &str, value: &str) -> Result<(), ShellError> {
    if key.trim().is_empty() {
        return Err(ShellError::invalid_argument("say which setting to change"));
    }
    if key.chars().count() > MAX_SETTING_KEY_CHARS {
        return Err(ShellError::new(
            "invalid_setting",
            format!(
                "unknown setting \"{}\"; no setting has a name that long",
                contact::shorten(key)
            ),
        ));
    }
    if value.len() > MAX_SETTING_VALUE_BYTES {
        return Err(ShellError::new(
            "invalid_setting",
            "that is far longer than any setting's value; nothing was changed",
        )
        .on_field(key.trim()));
    }
    Ok(())
}

/// The core's refusal, put under the field it is about. The field's label already names the
/// setting, so the message starts with what is wrong ("Must be between 1 and 10 (got 11)").
fn setting_problem(error: SettingsError, key: &str) -> ShellError {
    let known = !matches!(error, SettingsError::Unknown(_) | SettingsError::Storage(_));
    let mut shell = ShellError::from(error);
    if !known {
        return shell;
    }
    if let Some(rest) = shell.message.strip_prefix(key) {
        let rest = rest.trim_start_matches(':').trim_start();
        let mut chars = rest.chars();
        if let Some(first) = chars.next() {
            shell.message = first.to_uppercase().chain(chars).collect();
        }
    }
    shell.on_field(key)
}

fn save_setting(
    store: &Store,
    actor: &str,
    key: &str,
    value: &str,
) -> Result<SettingView, ShellError> {
    setting_args(key, value)?;
    let key = key.trim();
    let mut conn = store.conn();
    settings::set(&mut conn, store.clock(), actor, key, value)
        .map_err(|e| setting_problem(e, key))?;
    settings::list(&conn)?
        .into_iter()
        .find(|v| v.key == key)
        .ok_or_else(|| ShellError::from(SettingsError::Unknown(contact::shorten(key))))
}

/// Every setting with its value in force, its default and its allowed range, and the rules
/// no setting changes.
#[tauri::command]
pub async fn policy_settings(state: State<'_, AppState>) -> Result<Policy, ShellError> {
    state.require_admin()?;
    let store = state.store()?;
    blocking(move || policy(&store)).await
}

/// Checks and saves one setting; answers with it as it is now in force.
#[tauri::command]
pub async fn set_policy_setting(
    state: State<'_, AppState>,
    key: String,
    value: String,
) -> Result<SettingView, ShellError> {
    state.require_admin()?;
    let store = state.store()?;
    let actor = state.session().admin_actor();
    blocking(move || save_setting(&store, &actor, &key, &value)).await
}

// ---------------------------------------------------------------------------------------------
// Operators

/// Far longer than any name the core accepts (64 characters); refused before it is copied.
const MAX_OPERATOR_INPUT_BYTES: usize = 1024;

fn operator_name_arg(name: &str) -> Result<String, ShellError> {
    if name.len() > MAX_OPERATOR_INPUT_BYTES {
        return Err(
            ShellError::new("invalid_operator", "a name can have at most 64 characters")
                .on_field("name"),
        );
    }
    operators::clean_name(name).map_err(|e| ShellError::from(e).on_field("name"))
}

/// An operator after a change, and whether it is the person picked at this desk (so the
/// header's picker must follow: a new spelling, or no pick at all once retired).
#[derive(Debug, Serialize)]
pub struct OperatorChange {
    operator: Operator,
    at_desk: bool,
}

enum OperatorEdit {
    Rename(String),
    Retire,
    Reactivate,
}

fn edit_operator(
    store: &Store,
    actor: &str,
    id: i64,
    edit: OperatorEdit,
) -> Result<(Operator, Operator), ShellError> {
    let mut conn = store.conn();
    let before = operators::get(&conn, id)?.ok_or(operators::OperatorError::NoSuchId(id))?;
    let after = match edit {
        OperatorEdit::Rename(name) => operators::rename(&mut conn, store.clock(), actor, id, &name)
            .map_err(|e| ShellError::from(e).on_field("name"))?,
        OperatorEdit::Retire => operators::retire(&mut conn, store.clock(), actor, id)?,
        OperatorEdit::Reactivate => operators::reactivate(&mut conn, store.clock(), actor, id)?,
    };
    Ok((before, after))
}

/// Applies an operator change to the desk's pick: a renamed clerk goes on under the new name,
/// a retired one is no longer at the desk.
fn follow_at_desk(state: &AppState, before: &Operator, after: Operator) -> OperatorChange {
    let mut session = state.session();
    let at_desk = session.current_operator() == Some(before.name.as_str());
    if at_desk {
        session.set_operator(after.active.then(|| after.name.clone()));
        tracing::info!(operator = %after.name, active = after.active, "the operator at the desk changed");
    }
    OperatorChange {
        operator: after,
        at_desk,
    }
}

#[tauri::command]
pub async fn add_operator(
    state: State<'_, AppState>,
    name: String,
) -> Result<Operator, ShellError> {
    state.require_admin()?;
    let name = operator_name_arg(&name)?;
    let store = state.store()?;
    let actor = state.session().admin_actor();
    blocking(move || {
        operators::add(&mut store.conn(), store.clock(), &actor, &name)
            .map_err(|e| ShellError::from(e).on_field("name"))
    })
    .await
}

#[tauri::command]
pub async fn rename_operator(
    state: State<'_, AppState>,
    operator_id: i64,
    name: String,
) -> Result<OperatorChange, ShellError> {
    state.require_admin()?;
    let id = row_id("operator", operator_id)?;
    let name = operator_name_arg(&name)?;
    let store = state.store()?;
    let actor = state.session().admin_actor();
    let (before, after) =
        blocking(move || edit_operator(&store, &actor, id, OperatorEdit::Rename(name))).await?;
    Ok(follow_at_desk(&state, &before, after))
}

#[tauri::command]
pub async fn retire_operator(
    state: State<'_, AppState>,
    operator_id: i64,
) -> Result<OperatorChange, ShellError> {
    state.require_admin()?;
    let id = row_id("operator", operator_id)?;
    let store = state.store()?;
    let actor = state.session().admin_actor();
    let (before, after) =
        blocking(move || edit_operator(&store, &actor, id, OperatorEdit::Retire)).await?;
    Ok(follow_at_desk(&state, &before, after))
}

#[tauri::command]
pub async fn reactivate_operator(
    state: State<'_, AppState>,
    operator_id: i64,
) -> Result<OperatorChange, ShellError> {
    state.require_admin()?;
    let id = row_id("operator", operator_id)?;
    let store = state.store()?;
    let actor = state.session().admin_actor();
    let (before, after) =
        blocking(move || edit_operator(&store, &actor, id, OperatorEdit::Reactivate)).await?;
    Ok(follow_at_desk(&state, &before, after))
}

// ---------------------------------------------------------------------------------------------
// Admin passphrase

/// The rules a new passphrase must meet and what wrong ones cost, for the form's help text.
#[derive(Debug, Serialize)]
pub struct PassphraseRules {
    min_chars: usize,
    max_chars: usize,
    lock_after_failures: u32,
    lock_first_seconds: i64,
    lock_max_seconds: i64,
}

#[tauri::command]
pub async fn admin_passphrase_rules(
    state: State<'_, AppState>,
) -> Result<PassphraseRules, ShellError> {
    state.require_admin()?;
    Ok(PassphraseRules {
        min_chars: admin::MIN_PASSPHRASE_CHARS,
        max_chars: admin::MAX_PASSPHRASE_CHARS,
        lock_after_failures: admin::LOCK_AFTER_FAILURES,
        lock_first_seconds: admin::LOCK_BASE_SECS,
        lock_max_seconds: admin::LOCK_MAX_SECS,
    })
}

/// Longer than any passphrase the rules allow (128 characters of up to four bytes).
const MAX_PASSPHRASE_INPUT_BYTES: usize = 4 * admin::MAX_PASSPHRASE_CHARS;

fn passphrase_args(current: &str, new: &str) -> Result<(), ShellError> {
    if current.len() > MAX_PASSPHRASE_INPUT_BYTES {
        return Err(ShellError::new(
            "admin_wrong_passphrase",
            "that is longer than any admin passphrase can be; type the current one",
        )
        .on_field("current"));
    }
    if new.len() > MAX_PASSPHRASE_INPUT_BYTES {
        return Err(ShellError::from(AdminError::TooLong).on_field("new"));
    }
    Ok(())
}

/// The core's refusal under the field it is about: the current passphrase was wrong, or the
/// new one breaks a rule. A lock belongs to the whole form.
fn passphrase_problem(error: AdminError) -> ShellError {
    let field = match &error {
        AdminError::Wrong { .. } | AdminError::Empty => Some("current"),
        AdminError::TooShort { .. }
        | AdminError::TooLong
        | AdminError::Blank
        | AdminError::NotPlainText
        | AdminError::TooEasy { .. }
        | AdminError::Unchanged => Some("new"),
        _ => None,
    };
    let shell = ShellError::from(error);
    match field {
        Some(field) => shell.on_field(field),
        None => shell,
    }
}

fn change_passphrase(
    store: &Store,
    actor: &str,
    current: &str,
    new: &str,
) -> Result<(), ShellError> {
    passphrase_args(current, new)?;
    admin::change(&mut store.conn(), store.clock(), actor, current, new).map_err(passphrase_problem)
}

/// Replaces the admin passphrase. The current one counts as a try: wrong ones lock the admin
/// area like wrong ones at the unlock prompt, and then this open area closes too, since
/// whoever is guessing at it is at this desk.
#[tauri::command]
pub async fn change_admin_passphrase(
    state: State<'_, AppState>,
    current: String,
    new_passphrase: String,
) -> Result<(), ShellError> {
    state.require_admin()?;
    let current = Zeroizing::new(current);
    let new_passphrase = Zeroizing::new(new_passphrase);
    let store = state.store()?;
    let actor = state.session().admin_actor();
    let result =
        blocking(move || change_passphrase(&store, &actor, &current, &new_passphrase)).await;
    match &result {
        Ok(()) => tracing::info!("admin passphrase changed"),
        Err(error) if error.kind == "admin_locked_out" => {
            state.session().admin().lock();
            tracing::warn!("wrong current passphrases locked the admin area");
        }
        Err(error) => tracing::info!(kind = error.kind, "admin passphrase change refused"),
    }
    result
}

// ---------------------------------------------------------------------------------------------
// Data: the database file, backups, restore, cleanup

/// The newest backups the list shows; older ones are counted, and stay in the folder.
const MAX_LISTED_BACKUPS: usize = 100;
/// File names longer than this are not made by OTP Desk and most file systems refuse them.
const MAX_BACKUP_NAME_BYTES: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupFile {
    name: String,
    bytes: u64,
    modified_at: Millis,
}

#[derive(Debug, Serialize)]
pub struct DataOverview {
    database_path: String,
    database_folder: String,
    schema_version: usize,
    customers: i64,
    backups_folder: String,
    /// Newest first.
    backups: Vec<BackupFile>,
    /// Backups in the folder beyond the listed ones.
    older_backups: usize,
    retention_days: u32,
}

/// Whether `name` can only mean a file directly inside the backups folder: one plain name,
/// no separators, no `..`, nothing invisible, ending in `.db`. Listing and restoring use the
/// same rule, so every listed backup can be restored and nothing else can.
fn backup_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("choose a backup from the list");
    }
    if name.len() > MAX_BACKUP_NAME_BYTES {
        return Some("that is not the name of a backup in the backups folder (it is far too long)");
    }
    if name.contains(['/', '\\']) || name.contains("..") {
        return Some("only a file inside the backups folder can be restored; copy a backup kept elsewhere into that folder first");
    }
    if name
        .chars()
        .any(|c| c.is_control() || contact::is_bidi_control(c))
    {
        return Some(
            "a backup's name is one line of visible text; rename the file in the backups folder",
        );
    }
    let mut parts = Path::new(name).components();
    if !matches!(
        (parts.next(), parts.next()),
        (Some(Component::Normal(_)), None)
    ) {
        return Some("only a file inside the backups folder can be restored; copy a backup kept elsewhere into that folder first");
    }
    let is_db = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("db"));
    if !is_db {
        return Some("backups are files ending in .db");
    }
    None
}

/// The backup called `name` in `folder`, if that is a file of its own there (a link leading
/// elsewhere is not).
fn backup_file_in(folder: &Path, name: &str) -> Result<PathBuf, ShellError> {
    if let Some(problem) = backup_name_problem(name) {
        return Err(ShellError::invalid_argument(problem));
    }
    let missing = || {
        ShellError::new(
            "backup_not_found",
            format!(
                "there is no backup called \"{}\" in {}; the list may be out of date",
                contact::shorten(name),
                folder.display()
            ),
        )
    };
    let path = folder.join(name);
    let meta = std::fs::symlink_metadata(&path).map_err(|_| missing())?;
    if !meta.file_type().is_file() {
        return Err(missing());
    }
    let inside = match (std::fs::canonicalize(&path), std::fs::canonicalize(folder)) {
        (Ok(file), Ok(folder)) => file.parent() == Some(folder.as_path()),
        _ => false,
    };
    if !inside {
        return Err(missing());
    }
    Ok(path)
}

fn modified_ms(meta: &std::fs::Metadata) -> Millis {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .and_then(|d| Millis::try_from(d.as_millis()).ok())
        .unwrap_or_default()
}

/// The backups in `folder`, newest first, at most `MAX_LISTED_BACKUPS`, and how many more
/// there are. A folder that does not exist yet holds none.
fn list_backups(folder: &Path) -> Result<(Vec<BackupFile>, usize), ShellError> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => {
            return Err(ShellError::new(
                "file",
                format!(
                    "the backups folder {} cannot be read: {e}",
                    folder.display()
                ),
            ))
        }
    };
    let mut found: Vec<BackupFile> = entries
        .filter_map(Result::ok)
        // file_type does not follow links: a link is not a backup of this folder's own.
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if backup_name_problem(&name).is_some() {
                return None;
            }
            let meta = e.metadata().ok()?;
            Some(BackupFile {
                name,
                bytes: meta.len(),
                modified_at: modified_ms(&meta),
            })
        })
        .collect();
    found.sort_by(|a, b| {
        b.modified_at
            .cmp(&a.modified_at)
            .then_with(|| b.name.cmp(&a.name))
    });
    let older = found.len().saturating_sub(MAX_LISTED_BACKUPS);
    found.truncate(MAX_LISTED_BACKUPS);
    Ok((found, older))
}

fn overview(store: &Store, backups_folder: &Path) -> Result<DataOverview, ShellError> {
    let (customers, retention_days) = {
        let conn = store.conn();
        (
            customers::count(&conn)?,
            settings::load(&conn)?.retention_days,
        )
    };
    let database = store.path();
    let (backups, older_backups) = list_backups(backups_folder)?;
    Ok(DataOverview {
        database_path: database
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        database_folder: database
            .and_then(Path::parent)
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        schema_version: store::schema_version(),
        customers,
        backups_folder: backups_folder.display().to_string(),
        backups,
        older_backups,
        retention_days,
    })
}

#[derive(Debug, Serialize)]
pub struct BackupMade {
    name: String,
    path: String,
    overview: DataOverview,
}

fn make_backup(store: &Store, actor: &str, folder: &Path) -> Result<BackupMade, ShellError> {
    let path = crate::files::new_file_in(folder, "otp-desk", "db")?;
    store.backup_to(&path)?;
    audit::record(
        &store.conn(),
        store.clock(),
        &Event::new(Kind::BackupMade, Outcome::Ok, actor).detail(format!("to {}", path.display())),
    )?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(BackupMade {
        name,
        path: path.display().to_string(),
        overview: overview(store, folder)?,
    })
}

#[derive(Debug, Serialize)]
pub struct Restored {
    #[serde(flatten)]
    report: RestoreReport,
    /// The admin area is locked after a restore: the admin unlocks again to go on.
    admin_locked: bool,
    /// The operator picked at the desk is not on the restored list, so nobody is picked now.
    operator_cleared: bool,
}

/// Restores the backup `name` from `folder`; answers with the core's report and whether the
/// operator at the desk (`at_desk`) is still on the restored list.
fn restore_named(
    store: &Store,
    actor: &str,
    folder: &Path,
    name: &str,
    at_desk: Option<&str>,
) -> Result<(RestoreReport, bool), ShellError> {
    let path = backup_file_in(folder, name)?;
    let report = store.restore_from(&path, actor)?;
    let still_active = match at_desk {
        Some(name) => operators::check_active(&store.conn(), name).is_ok(),
        None => true,
    };
    Ok((report, still_active))
}

#[tauri::command]
pub async fn data_overview(state: State<'_, AppState>) -> Result<DataOverview, ShellError> {
    state.require_admin()?;
    let store = state.store()?;
    let folder = state.backups_folder()?;
    blocking(move || overview(&store, &folder)).await
}

/// Writes `otp-desk-<date>.db` into the backups folder with SQLite's online backup (desks can
/// keep working meanwhile), audits it, and answers with the folder as it is now.
#[tauri::command]
pub async fn backup_now(state: State<'_, AppState>) -> Result<BackupMade, ShellError> {
    state.require_admin()?;
    let store = state.store()?;
    let folder = state.backups_folder()?;
    let actor = state.session().admin_actor();
    let made = blocking(move || make_backup(&store, &actor, &folder)).await?;
    tracing::info!(file = %made.path, "backup made");
    Ok(made)
}

/// Restores a backup from the backups folder (by file name only). The core first writes a
/// safety copy of the current database next to it. Afterwards the admin area is locked, as
/// the restored data may have other admins' settings in it.
#[tauri::command]
pub async fn restore_backup(
    state: State<'_, AppState>,
    name: String,
) -> Result<Restored, ShellError> {
    state.require_admin()?;
    let store = state.store()?;
    let folder = state.backups_folder()?;
    let actor = state.session().admin_actor();
    let at_desk = state.session().current_operator().map(str::to_string);
    let checked = at_desk.clone();
    let (report, still_active) =
        blocking(move || restore_named(&store, &actor, &folder, &name, checked.as_deref())).await?;
    let mut session = state.session();
    session.admin().lock();
    let operator_cleared = !still_active && session.current_operator() == at_desk.as_deref();
    if operator_cleared {
        session.set_operator(None);
    }
    tracing::info!(from = %report.restored_from, safety_copy = %report.safety_copy, "database restored; admin area locked");
    Ok(Restored {
        report,
        admin_locked: true,
        operator_cleared,
    })
}

#[derive(Debug, Serialize)]
pub struct Cleanup {
    deleted_codes: u64,
    cleared_contacts: u64,
    /// Codes that expired before this moment were deleted.
    cutoff: Millis,
    retention_days: u32,
}

fn clean_up(store: &Store, actor: &str) -> Result<Cleanup, ShellError> {
    let mut conn = store.conn();
    let report = codes::cleanup(&mut conn, store.clock(), actor, None)?;
    Ok(Cleanup {
        deleted_codes: report.deleted_codes,
        cleared_contacts: report.cleared_contacts,
        cutoff: report.cutoff,
        retention_days: settings::load(&conn)?.retention_days,
    })
}

/// Deletes codes that finished more than `retention_days` ago; the audit trail stays whole.
#[tauri::command]
pub async fn cleanup_codes(state: State<'_, AppState>) -> Result<Cleanup, ShellError> {
    state.require_admin()?;
    let store = state.store()?;
    let actor = state.session().admin_actor();
    blocking(move || clean_up(&store, &actor)).await
}

/// Opens the folder the database file is in. Answers with the folder, for a computer with no
/// file manager to open it with.
#[tauri::command]
pub async fn open_database_folder(state: State<'_, AppState>) -> Result<String, ShellError> {
    state.require_admin()?;
    let store = state.store()?;
    let folder = store
        .path()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            ShellError::new(
                "file",
                "the database is not a file; there is no folder to open",
            )
        })?;
    let shown = folder.display().to_string();
    blocking(move || crate::files::open_folder(&folder)).await?;
    Ok(shown)
}

/// Opens the backups folder, making it first so there is something to open (and to copy a
/// backup kept elsewhere into).
#[tauri::command]
pub async fn open_backups_folder(state: State<'_, AppState>) -> Result<String, ShellError> {
    state.require_admin()?;
    let folder = state.backups_folder()?;
    let shown = folder.display().to_string();
    blocking(move || {
        std::fs::create_dir_all(&folder).map_err(|e| {
            ShellError::new(
                "file",
                format!("cannot create the backups folder {}: {e}", folder.display()),
            )
        })?;
        crate::files::open_folder(&folder)
    })
    .await?;
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use otp_desk_core::codes::{CodeKey, IssueRequest};
    use otp_desk_core::contact::Channel;
    use otp_desk_core::customers::CustomerInput;
    use otp_desk_core::ManualClock;

    use super::*;

    const HOSTILE: &[&str] = &[
        "Ann\r\nBcc: x@example.com",
        "<script>alert(1)</script>",
        "'; DROP TABLE settings;--",
        "evil\u{202E}fdp.exe",
    ];

    fn memory_store() -> (Store, ManualClock) {
        let clock = ManualClock::start();
        let store = Store::open_in_memory(Arc::new(clock.clone())).expect("an in-memory store");
        (store, clock)
    }

    /// A folder of its own under the system's temporary folder, removed afterwards.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "otp-desk-office-{name}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("a scratch folder");
            Self(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn field_of(error: &ShellError) -> Option<&str> {
        error.fields.first().map(|f| f.field.as_str())
    }

    #[test]
    fn the_policy_shows_each_setting_with_its_range_and_the_fixed_rules() {
        let (store, _) = memory_store();
        let policy = serde_json::to_value(policy(&store).unwrap()).unwrap();
        let settings = policy["settings"].as_array().unwrap();
        let lifetime = settings
            .iter()
            .find(|s| s["key"] == "code_lifetime_minutes")
            .unwrap();
        assert_eq!(lifetime["value"], "5");
        assert_eq!(lifetime["default"], "5");
        assert_eq!(lifetime["allowed"], "1–10");
        assert_eq!(
            (lifetime["min"].clone(), lifetime["max"].clone()),
            (1.into(), 10.into())
        );
        assert!(!lifetime["about"].as_str().unwrap().is_empty());
        let idle = settings
            .iter()
            .find(|s| s["key"] == "admin_idle_lock_minutes")
            .unwrap();
        assert_eq!(
            (idle["min"].clone(), idle["max"].clone()),
            (1.into(), 60.into())
        );
        let company = settings
            .iter()
            .find(|s| s["key"] == "company_name")
            .unwrap();
        assert_eq!(company["min"], serde_json::Value::Null);
        assert_eq!(company["choices"], serde_json::json!([]));
        assert_eq!(policy["fixed"]["sends_per_10_minutes"], 5);
        assert_eq!(policy["fixed"]["sends_per_day"], 20);
        assert_eq!(policy["fixed"]["contact_lock_after_failures"], 10);
    }

    #[test]
    fn the_region_is_chosen_from_the_codes_the_core_accepts() {
        let (store, _) = memory_store();
        let views = policy(&store).unwrap().settings;
        let region = views
            .iter()
            .find(|s| s.key == "default_region")
            .expect("the region setting exists under this name");
        assert!(region.choices.contains(&region.value));
        for code in ["US", "GB", "DE", "IN"] {
            assert!(region.choices.iter().any(|c| c == code), "{code}");
        }
        assert!(!region.choices.iter().any(|c| c == "ZZ" || c == "UK"));
        assert!(region.choices.windows(2).all(|w| w[0] < w[1]));
        assert!(region.min.is_none());
    }

    #[test]
    fn a_setting_in_range_is_saved_and_audited_under_the_admin() {
        let (store, _) = memory_store();
        let saved = save_setting(&store, "Ann Lee", "code_lifetime_minutes", " 3 ").unwrap();
        assert_eq!(saved.value, "3");
        assert_eq!(
            settings::load(&store.conn()).unwrap().code_lifetime_minutes,
            3
        );
        let who: String = store
            .conn()
            .query_row(
                "SELECT operator FROM audit_events WHERE kind = 'setting_changed'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(who, "Ann Lee");
        let region = save_setting(&store, "Ann Lee", "default_region", "gb").unwrap();
        assert_eq!(region.value, "GB");
    }

    #[test]
    fn an_out_of_range_value_is_refused_under_its_field_with_the_range() {
        let (store, _) = memory_store();
        let error = save_setting(&store, "admin", "code_lifetime_minutes", "11").unwrap_err();
        assert_eq!(error.kind, "invalid_setting");
        assert_eq!(error.message, "Must be between 1 and 10 (got 11)");
        assert_eq!(field_of(&error), Some("code_lifetime_minutes"));
        let error = save_setting(&store, "admin", "max_attempts", "five").unwrap_err();
        assert_eq!(error.message, "Must be a whole number between 3 and 10");
        let error = save_setting(&store, "admin", "company_name", "").unwrap_err();
        assert_eq!(error.message, "Must not be empty");
        assert_eq!(field_of(&error), Some("company_name"));
        assert_eq!(
            settings::load(&store.conn()).unwrap(),
            settings::Settings::default()
        );
    }

    #[test]
    fn setting_arguments_that_no_setting_takes_are_refused_and_change_nothing() {
        let (store, _) = memory_store();
        let huge = "9".repeat(1 << 20);
        let huge = huge.as_str();
        let cases: Vec<(&str, &str, &str)> = vec![
            ("", "3", "invalid_argument"),
            ("   ", "3", "invalid_argument"),
            (huge, "3", "invalid_setting"),
            ("code_lifetime_minutes", huge, "invalid_setting"),
            ("no_such_setting", "3", "invalid_setting"),
            (
                "code_lifetime_minutes\r\n",
                "3; DROP TABLE settings",
                "invalid_setting",
            ),
            ("code_lifetime_minutes", "", "invalid_setting"),
            ("code_lifetime_minutes", "-1", "invalid_setting"),
            (
                "code_lifetime_minutes",
                "99999999999999999999999",
                "invalid_setting",
            ),
            ("code_lifetime_minutes", "1e1", "invalid_setting"),
        ];
        for (key, value, kind) in cases {
            let error = save_setting(&store, "admin", key, value).unwrap_err();
            assert_eq!(error.kind, kind, "{:.40} = {:.40}", key, value);
            assert!(
                error.message.len() < 300,
                "the message does not echo the input"
            );
        }
        for value in HOSTILE {
            let error = save_setting(&store, "admin", "default_region", value).unwrap_err();
            assert_eq!(field_of(&error), Some("default_region"));
            let error = save_setting(&store, "admin", "code_digits", value).unwrap_err();
            assert_eq!(field_of(&error), Some("code_digits"));
        }
        // Markup and quotes are text in a company name; line breaks and overrides are not.
        assert!(save_setting(&store, "admin", "company_name", HOSTILE[0]).is_err());
        assert!(save_setting(&store, "admin", "company_name", HOSTILE[3]).is_err());
        let saved = save_setting(&store, "admin", "company_name", HOSTILE[1]).unwrap();
        assert_eq!(saved.value, HOSTILE[1]);
        assert_eq!(
            settings::load(&store.conn()).unwrap().code_lifetime_minutes,
            5
        );
    }

    #[test]
    fn operator_names_are_cleaned_or_refused_under_the_name_field() {
        assert_eq!(operator_name_arg("  Ann   Lee ").unwrap(), "Ann Lee");
        assert_eq!(
            operator_name_arg("<b>Ann</b> O'Brien; --").unwrap(),
            "<b>Ann</b> O'Brien; --"
        );
        let huge = "a".repeat(1 << 20);
        let long = "a".repeat(65);
        for bad in [
            "",
            "   ",
            huge.as_str(),
            long.as_str(),
            HOSTILE[0],
            HOSTILE[3],
            "Ann\0",
        ] {
            let error = operator_name_arg(bad).unwrap_err();
            assert_eq!(field_of(&error), Some("name"), "{bad:.20}");
            assert!(error.message.len() < 300);
        }
    }

    #[test]
    fn operators_are_renamed_retired_and_reactivated_under_the_admin_s_name() {
        let (store, _) = memory_store();
        let ann = operators::add(&mut store.conn(), store.clock(), "admin", "Ann Lee").unwrap();
        operators::add(&mut store.conn(), store.clock(), "admin", "Bo Chen").unwrap();
        let (before, after) = edit_operator(
            &store,
            "Bo Chen",
            ann.id,
            OperatorEdit::Rename("Ann Lee-Smith".into()),
        )
        .unwrap();
        assert_eq!(
            (before.name.as_str(), after.name.as_str()),
            ("Ann Lee", "Ann Lee-Smith")
        );
        let error = edit_operator(
            &store,
            "admin",
            ann.id,
            OperatorEdit::Rename("bo  chen".into()),
        )
        .unwrap_err();
        assert_eq!(error.kind, "duplicate_operator");
        assert_eq!(field_of(&error), Some("name"));
        let (_, retired) = edit_operator(&store, "admin", ann.id, OperatorEdit::Retire).unwrap();
        assert!(!retired.active);
        let (_, back) = edit_operator(&store, "admin", ann.id, OperatorEdit::Reactivate).unwrap();
        assert!(back.active);
        let error = edit_operator(&store, "admin", 999, OperatorEdit::Retire).unwrap_err();
        assert_eq!(error.kind, "operator_not_found");
        let by: Vec<String> = store
            .conn()
            .prepare("SELECT operator FROM audit_events WHERE kind LIKE 'operator_%' ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(by, ["admin", "admin", "Bo Chen", "admin", "admin"]);
    }

    #[test]
    fn ids_that_cannot_be_rows_are_refused() {
        for id in [0, -1, i64::MIN] {
            assert_eq!(row_id("operator", id).unwrap_err().kind, "invalid_argument");
        }
    }

    #[test]
    fn a_passphrase_change_puts_each_refusal_under_its_field_and_never_echoes_it() {
        let (store, _) = memory_store();
        let current = "river copper lantern";
        admin::set(&mut store.conn(), store.clock(), "admin", current).unwrap();

        let wrong = change_passphrase(
            &store,
            "admin",
            "river copper lanterns",
            "amber meadow violin",
        )
        .unwrap_err();
        assert_eq!(wrong.kind, "admin_wrong_passphrase");
        assert_eq!(field_of(&wrong), Some("current"));
        assert!(
            wrong.message.contains("4 more wrong tries"),
            "{}",
            wrong.message
        );

        let huge = "x".repeat(1 << 20);
        let huge = huge.as_str();
        let cases: Vec<(&str, &str, &str, &str)> = vec![
            (current, "short", "weak_passphrase", "new"),
            (current, "password1234", "weak_passphrase", "new"),
            (current, current, "weak_passphrase", "new"),
            (current, "amber\r\nmeadow violin", "weak_passphrase", "new"),
            (
                current,
                "amber meadow\u{202E} violin",
                "weak_passphrase",
                "new",
            ),
            (current, huge, "weak_passphrase", "new"),
            (
                huge,
                "amber meadow violin",
                "admin_wrong_passphrase",
                "current",
            ),
            (
                "",
                "amber meadow violin",
                "admin_wrong_passphrase",
                "current",
            ),
        ];
        for (old, new, kind, field) in cases {
            let error = change_passphrase(&store, "admin", old, new).unwrap_err();
            assert_eq!(
                (error.kind, field_of(&error)),
                (kind, Some(field)),
                "{new:.20}"
            );
            assert!(!error.message.contains("lantern") && !error.message.contains("meadow"));
        }
        // A refused new passphrase costs no try of the current one, so the right one still works.
        change_passphrase(&store, "admin", current, "amber meadow violin").unwrap();
        assert!(admin::verify(
            &mut store.conn(),
            store.clock(),
            "admin",
            "amber meadow violin"
        )
        .is_ok());
    }

    #[test]
    fn wrong_current_passphrases_lock_the_admin_area_for_the_whole_form() {
        let (store, _) = memory_store();
        admin::set(
            &mut store.conn(),
            store.clock(),
            "admin",
            "river copper lantern",
        )
        .unwrap();
        for _ in 1..admin::LOCK_AFTER_FAILURES {
            change_passphrase(&store, "admin", "not it at all", "amber meadow violin").unwrap_err();
        }
        let locked =
            change_passphrase(&store, "admin", "not it at all", "amber meadow violin").unwrap_err();
        assert_eq!(locked.kind, "admin_locked_out");
        assert!(locked.at.is_some());
        assert!(locked.fields.is_empty());
    }

    #[test]
    fn backup_names_that_could_lead_outside_the_backups_folder_are_refused() {
        let scratch = Scratch::new("names");
        let folder = scratch.0.join("backups");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("otp-desk-2026-03-02.db"), b"x").unwrap();
        std::fs::write(scratch.0.join("outside.db"), b"x").unwrap();
        std::fs::write(folder.join("notes.txt"), b"x").unwrap();
        std::fs::create_dir_all(folder.join("folder.db")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(scratch.0.join("outside.db"), folder.join("link.db")).unwrap();

        assert_eq!(
            backup_file_in(&folder, "otp-desk-2026-03-02.db").unwrap(),
            folder.join("otp-desk-2026-03-02.db")
        );
        let huge = format!("{}.db", "a".repeat(1 << 20));
        let outside = scratch.0.join("outside.db").display().to_string();
        for name in [
            "",
            "../outside.db",
            "..",
            "a/../../outside.db",
            "sub/otp-desk.db",
            "..\\outside.db",
            outside.as_str(),
            huge.as_str(),
            "evil\r\n.db",
            "otp-desk\u{202E}bd.db",
            "otp-desk\0.db",
            "notes.txt",
            "otp-desk",
        ] {
            let error = backup_file_in(&folder, name).unwrap_err();
            assert_eq!(error.kind, "invalid_argument", "{name:.40}");
            assert!(error.message.len() < 300);
        }
        for name in [
            "folder.db",
            "link.db",
            "missing.db",
            "<script>.db",
            "'; DROP TABLE x;--.db",
        ] {
            let error = backup_file_in(&folder, name).unwrap_err();
            assert_eq!(error.kind, "backup_not_found", "{name}");
        }
    }

    #[test]
    fn backups_are_listed_newest_first_and_only_those_that_can_be_restored() {
        let scratch = Scratch::new("list");
        assert_eq!(
            list_backups(&scratch.0.join("not-yet")).unwrap(),
            (Vec::new(), 0)
        );
        let stamp = |name: &str, secs: u64| {
            let path = scratch.0.join(name);
            let file = std::fs::File::create(&path).unwrap();
            file.set_modified(UNIX_EPOCH + std::time::Duration::from_secs(secs))
                .unwrap();
        };
        stamp("otp-desk-2026-03-01.db", 1_000);
        stamp("otp-desk-2026-03-02.db", 2_000);
        stamp("copied <b>.DB", 1_500);
        stamp("notes.txt", 3_000);
        stamp("evil\r\nname.db", 3_000);
        stamp("otp-desk.db-journal", 3_000);
        std::fs::create_dir_all(scratch.0.join("folder.db")).unwrap();
        let (listed, older) = list_backups(&scratch.0).unwrap();
        let names: Vec<&str> = listed.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "otp-desk-2026-03-02.db",
                "copied <b>.DB",
                "otp-desk-2026-03-01.db"
            ]
        );
        assert_eq!(listed[0].modified_at, 2_000_000);
        assert_eq!(older, 0);
        for backup in &listed {
            assert!(backup_file_in(&scratch.0, &backup.name).is_ok());
        }
    }

    #[test]
    fn a_backup_made_now_is_listed_and_restoring_it_undoes_later_changes() {
        let scratch = Scratch::new("restore");
        let store = Store::open(scratch.0.join("otp-desk.db")).unwrap();
        let folder = scratch.0.join("backups");
        let add = |account: &str| {
            let input = CustomerInput {
                account_number: account.into(),
                name: "Jo Smith".into(),
                email: "jo@example.com".into(),
                phone: String::new(),
                service_address: String::new(),
                notes: String::new(),
            };
            customers::create(&mut store.conn(), store.clock(), "admin", &input).unwrap();
        };
        add("WB-1");
        let made = make_backup(&store, "Ann Lee", &folder).unwrap();
        assert!(made.name.starts_with("otp-desk-") && made.name.ends_with(".db"));
        assert!(Path::new(&made.path).is_file());
        assert_eq!(made.overview.backups.len(), 1);
        assert_eq!(made.overview.backups[0].name, made.name);
        assert!(made.overview.backups[0].bytes > 0);
        add("WB-2");
        operators::add(&mut store.conn(), store.clock(), "admin", "Ann Lee").unwrap();
        assert_eq!(overview(&store, &folder).unwrap().customers, 2);

        let (report, still_active) =
            restore_named(&store, "Ann Lee", &folder, &made.name, Some("Ann Lee")).unwrap();
        assert_eq!(report.customers, 1);
        assert!(Path::new(&report.safety_copy).is_file());
        assert_eq!(
            Path::new(&report.safety_copy).parent(),
            Some(scratch.0.as_path())
        );
        assert!(!still_active, "Ann Lee was added after the backup");
        assert_eq!(overview(&store, &folder).unwrap().customers, 1);
        let error = restore_named(&store, "admin", &folder, "../otp-desk.db", None).unwrap_err();
        assert_eq!(error.kind, "invalid_argument");
    }

    #[test]
    fn cleanup_deletes_codes_past_the_retention_and_reports_how_many() {
        let (store, clock) = memory_store();
        let input = CustomerInput {
            account_number: "WB-1".into(),
            name: "Jo Smith".into(),
            email: "jo@example.com".into(),
            phone: String::new(),
            service_address: String::new(),
            notes: String::new(),
        };
        let jo = customers::create(&mut store.conn(), store.clock(), "admin", &input).unwrap();
        let key = CodeKey::from_bytes([7; 32]);
        codes::issue(
            &mut store.conn(),
            store.clock(),
            &key,
            &IssueRequest {
                customer_id: jo.id,
                channel: Channel::Email,
                destination: None,
                operator: "admin",
                revealed: false,
            },
        )
        .unwrap();
        assert_eq!(clean_up(&store, "admin").unwrap().deleted_codes, 0);
        clock.advance_secs(31 * 24 * 3600);
        let report = clean_up(&store, "Ann Lee").unwrap();
        assert_eq!((report.deleted_codes, report.retention_days), (1, 30));
        let kept: i64 = store
            .conn()
            .query_row(
                "SELECT count(*) FROM audit_events WHERE kind = 'code_issued'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kept, 1, "the audit trail keeps the code's events");
    }
}
