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

/// The core quietly caps a search's query, page size and offset; a page that asks for more
/// than that has a bug or is not ours, and is told so instead of being trimmed.
pub(crate) fn search_page(
    query: &str,
    limit: Option<u32>,
    offset: Option<u32>,
    default_limit: u32,
    max_limit: u32,
) -> Result<(u32, u32), ShellError> {
    use otp_desk_core::customers::search;
    let chars = query.chars().count();
    if chars > search::MAX_QUERY_CHARS {
        return Err(ShellError::invalid_search(format!(
            "a search can be at most {} characters (this one has {chars}); type a shorter part of the name, account, email or phone",
            search::MAX_QUERY_CHARS
        )));
    }
    let limit = limit.unwrap_or(default_limit);
    if !(1..=max_limit).contains(&limit) {
        return Err(ShellError::invalid_search(format!(
            "a search lists 1 to {max_limit} customers at a time, not {limit}"
        )));
    }
    let offset = offset.unwrap_or(0);
    if offset > search::MAX_OFFSET {
        return Err(ShellError::invalid_search(format!(
            "results page up to {} customers deep, not {offset}; narrow the search instead",
            search::MAX_OFFSET
        )));
    }
    Ok((limit, offset))
}
