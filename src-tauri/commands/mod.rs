//! The commands the webview may call, one thin function each: take the arguments, check
//! what only the shell can know (who is at the desk), call the core, hand back its answer or
//! its error as a `ShellError`. Each one must also be listed in build.rs and allowed in
//! capabilities/desk.json.

pub mod activity;
pub mod admin;
pub mod app;
pub mod customers;
pub mod desk;
pub mod settings;

use crate::error::ShellError;

/// SQLite calls, keyring look-ups and mail servers block; running them on the blocking pool
/// keeps the async runtime (and with it every other command and window event) responsive.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ShellError> + Send + 'static,
) -> Result<T, ShellError> {
    tauri::async_runtime::spawn_blocking(work).await?
}

/// Ids come from the page; one that cannot be a row id is refused before the database sees it.
pub(crate) fn row_id(what: &str, id: i64) -> Result<i64, ShellError> {
    if id > 0 {
        Ok(id)
    } else {
        Err(ShellError::invalid_argument(format!(
            "{what} {id} does not exist"
        )))
    }
}
