//! The OTP Desk desktop shell: the window, the app state and the commands the webview may
//! call. Everything with a rule in it lives in `otp_desk_core`; this crate only translates.

mod commands;
mod database;
mod error;
mod files;
mod logs;
mod rendering;
mod session;
mod state;

use std::ffi::OsString;
use std::path::PathBuf;

use tauri::{Manager, WebviewWindowBuilder};

use crate::database::Database;
use crate::state::AppState;

const MAIN_WINDOW: &str = "main";

/// When the process started, for the "desk ready" line a start-up measurement looks for.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Logged once, when the page first asks for the app's status: by then the desk is drawn and
/// its search box has the focus (the page focuses it before asking).
pub(crate) fn desk_ready() {
    static READY: std::sync::Once = std::sync::Once::new();
    READY.call_once(|| {
        let ms = STARTED
            .get()
            .map(|t| t.elapsed().as_millis())
            .unwrap_or_default();
        tracing::info!(ms, "desk ready");
        // Now, not at start: it would compete with drawing the window, and nobody types in
        // the first second.
        std::thread::spawn(|| {
            let started = std::time::Instant::now();
            otp_desk_core::contact::load_phone_metadata();
            let ms = started.elapsed().as_millis();
            tracing::info!(ms, "phone number metadata loaded");
        });
    });
}

pub fn run() {
    STARTED.get_or_init(std::time::Instant::now);
    rendering::choose();
    let chosen_db = std::env::args_os().skip(1).collect::<Vec<_>>();
    let result = tauri::Builder::default()
        // First, so a second launch hands over before anything else starts (a second desk
        // on the same file would only compete for it).
        .plugin(single_instance())
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .setup(move |app| {
            let log_folder = logs::init(app.path().app_log_dir().ok());
            tracing::info!(rendering = %rendering::describe(), "window rendering");
            let database = Database::open(db_path_from_args(chosen_db.clone()));
            let downloads = app.path().download_dir().ok();
            app.manage(AppState::new(database, log_folder, downloads));
            // The window is made here, after the state it calls into exists, so its first
            // command can never arrive before the database is open.
            let config = app
                .config()
                .app
                .windows
                .iter()
                .find(|w| w.label == MAIN_WINDOW)
                .cloned()
                .ok_or("tauri.conf.json has no main window")?;
            WebviewWindowBuilder::from_config(app.handle(), &config)?.build()?;
            Ok(())
        })
        .on_window_event(|window, event| {
            if matches!(
                event,
                tauri::WindowEvent::Moved(_) | tauri::WindowEvent::Resized(_)
            ) {
                remember_window_soon(window.app_handle());
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::admin::admin_status,
            commands::admin::admin_set_up,
            commands::admin::admin_unlock,
            commands::admin::admin_lock,
            commands::admin::list_operators,
            commands::app::app_status,
            commands::app::choose_operator,
            commands::app::load_sample_customers,
            commands::app::open_outbox_folder,
            commands::desk::search_customers,
            commands::desk::customer_card,
            commands::desk::send_code,
            commands::desk::verify_code,
            commands::desk::code_status,
            // Customers screen
            commands::customers::list_customers,
            commands::customers::get_customer,
            commands::customers::create_customer,
            commands::customers::update_customer,
            commands::customers::delete_customer,
            commands::customers::customer_import_rules,
            commands::customers::preview_customer_import,
            commands::customers::import_customers,
            commands::customers::export_customers,
            commands::customers::open_customers_export_folder,
            // Activity and Dashboard screens
            commands::activity::activity_codes,
            commands::activity::activity_code_detail,
            commands::activity::activity_audit,
            commands::activity::activity_export_codes,
            commands::activity::activity_export_audit,
            commands::activity::activity_open_exports_folder,
            commands::activity::dashboard_summary,
            // Settings: mail and SMS accounts, message text
            commands::settings::delivery::mail::mail_accounts,
            commands::settings::delivery::mail::mail_account_add,
            commands::settings::delivery::mail::mail_account_set_password,
            commands::settings::delivery::mail::mail_account_set_default,
            commands::settings::delivery::mail::mail_account_remove,
            commands::settings::delivery::mail::mail_test,
            commands::settings::delivery::sign_in::mail_sign_in,
            commands::settings::delivery::sign_in::mail_sign_in_cancel,
            commands::settings::delivery::sign_in::mail_sign_out,
            commands::settings::delivery::sms::sms_accounts,
            commands::settings::delivery::sms::sms_account_add,
            commands::settings::delivery::sms::sms_account_set_token,
            commands::settings::delivery::sms::sms_account_set_default,
            commands::settings::delivery::sms::sms_account_remove,
            commands::settings::delivery::sms::sms_test,
            commands::settings::delivery::messages::message_texts,
            commands::settings::delivery::messages::message_preview,
            commands::settings::delivery::messages::sms_text_preview,
            commands::settings::delivery::messages::message_texts_save,
            // Settings: policy, operators, passphrase, data
            commands::settings::office::policy_settings,
            commands::settings::office::set_policy_setting,
            commands::settings::office::add_operator,
            commands::settings::office::rename_operator,
            commands::settings::office::retire_operator,
            commands::settings::office::reactivate_operator,
            commands::settings::office::admin_passphrase_rules,
            commands::settings::office::change_admin_passphrase,
            commands::settings::office::data_overview,
            commands::settings::office::backup_now,
            commands::settings::office::restore_backup,
            commands::settings::office::cleanup_codes,
            commands::settings::office::open_database_folder,
            commands::settings::office::open_backups_folder,
        ])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        tracing::error!(%error, "OTP Desk could not start its window");
        eprintln!("OTP Desk could not start its window: {error}");
        std::process::exit(1);
    }
}

/// Saves the window's size and place shortly after it stops changing. The window-state plugin
/// saves only when the app closes normally; an office PC switched off at the end of the day
/// never does, and the desk would open at its first size every morning.
fn remember_window_soon(app: &tauri::AppHandle) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use tauri_plugin_window_state::{AppHandleExt, StateFlags};
    static LATEST: AtomicU64 = AtomicU64::new(0);
    let mine = LATEST.fetch_add(1, Ordering::SeqCst) + 1;
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        // A drag sends many events; only the last one's timer saves.
        if LATEST.load(Ordering::SeqCst) == mine {
            if let Err(error) = app.save_window_state(StateFlags::all()) {
                tracing::warn!(%error, "the window's size and place could not be saved");
            }
        }
    });
}

/// A second launch brings the running desk to the front and then quits. On Linux the hand-
/// over goes through the session bus; without one (a bare X session) there is nothing to hand
/// over through, so each launch stands alone rather than failing to start.
fn single_instance() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    tauri_plugin_single_instance::init(|app, _args, _cwd| {
        tracing::info!("a second launch handed over to this window");
        if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
    })
}

/// `--db PATH` or `--db=PATH`, as the command line tool takes it. Anything else is ignored
/// with a warning: desktop launchers on some systems add arguments of their own.
fn db_path_from_args(args: impl IntoIterator<Item = OsString>) -> Option<PathBuf> {
    let mut args = args.into_iter();
    let mut chosen = None;
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--db") => chosen = Some(args.next().unwrap_or_default()),
            Some(s) if s.starts_with("--db=") => chosen = Some(s["--db=".len()..].into()),
            _ => tracing::warn!(argument = ?arg, "ignoring an argument OTP Desk does not know"),
        }
    }
    // SQLite reads an empty file name as "a private temporary database", which would silently
    // throw away everything the desk does; fall back to the default instead.
    match chosen {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        Some(_) => {
            tracing::warn!("--db needs a path; using the default database");
            None
        }
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn db_flag_takes_the_next_argument_or_an_equals_value() {
        assert_eq!(
            db_path_from_args(args(&["--db", "a.db"])),
            Some("a.db".into())
        );
        assert_eq!(db_path_from_args(args(&["--db=b.db"])), Some("b.db".into()));
    }

    #[test]
    fn no_flag_or_a_dangling_flag_leaves_the_choice_to_the_environment() {
        assert_eq!(db_path_from_args(args(&[])), None);
        assert_eq!(db_path_from_args(args(&["--db"])), None);
        assert_eq!(db_path_from_args(args(&["--db="])), None);
        assert_eq!(db_path_from_args(args(&["-psn_0_12345"])), None);
    }
}

#[cfg(test)]
mod acl_tests {
    //! A command must be registered, listed in build.rs and allowed in the capability, or
    //! the page cannot call it; and the capability must allow nothing else.

    fn registered() -> Vec<String> {
        let lib = include_str!("lib.rs");
        let start = lib
            .find("generate_handler![")
            .expect("lib.rs registers commands")
            + "generate_handler![".len();
        let end = start + lib[start..].find(']').expect("the list ends");
        // Comments (which may hold commas) go first, then the list is split at its commas.
        let list: String = lib[start..end]
            .lines()
            .filter(|l| !l.trim().starts_with("//"))
            .collect();
        list.split(',')
            .map(|c| c.trim().rsplit("::").next().unwrap_or_default().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    }

    fn listed_in_build_rs() -> Vec<String> {
        let build = include_str!("build.rs");
        let start = build
            .find("const COMMANDS")
            .expect("build.rs lists commands");
        let end = start + build[start..].find("];").expect("the list ends");
        build[start..end]
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn every_registered_command_is_in_the_acl_and_nothing_else_is() {
        let mut registered = registered();
        let mut listed = listed_in_build_rs();
        registered.sort();
        listed.sort();
        assert!(!registered.is_empty());
        assert_eq!(registered, listed, "lib.rs and build.rs disagree");

        let capability: serde_json::Value =
            serde_json::from_str(include_str!("capabilities/desk.json")).expect("valid JSON");
        let mut allowed: Vec<String> = capability["permissions"]
            .as_array()
            .expect("a permissions list")
            .iter()
            .map(|p| p.as_str().expect("permission names").to_string())
            .collect();
        allowed.sort();
        let mut wanted: Vec<String> = registered
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .collect();
        wanted.sort();
        assert_eq!(
            allowed, wanted,
            "the capability must allow exactly the app's commands"
        );
        assert_eq!(capability["windows"], serde_json::json!(["main"]));
    }
}
