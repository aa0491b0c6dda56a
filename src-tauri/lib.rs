//! The OTP Desk desktop shell: the window, the app state and the commands the webview may
//! call. Everything with a rule in it lives in `otp_desk_core`; this crate only translates.

mod commands;
mod database;
mod error;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;

use tracing_subscriber::EnvFilter;

use crate::database::Database;

pub fn run() {
    init_logging();
    let database = Database::open(db_path_from_args(std::env::args_os().skip(1)));
    let result = tauri::Builder::default()
        .manage(database)
        .invoke_handler(tauri::generate_handler![
            commands::app_status,
            commands::search_customers
        ])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        tracing::error!(%error, "OTP Desk could not start its window");
        std::process::exit(1);
    }
}

/// `RUST_LOG` when set (e.g. `RUST_LOG=debug`), otherwise what an admin needs to see: our own
/// messages and the libraries' warnings.
fn init_logging() {
    let mut filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,otp_desk_app=info,otp_desk_core=info"));
    for directive in otp_desk_core::delivery::oauth::QUIET_LOG_DIRECTIVES {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
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
