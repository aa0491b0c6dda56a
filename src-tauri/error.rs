//! The one place where core errors become what the webview receives: a machine-readable
//! `kind` the UI branches on and a `message` a clerk can act on.

use otp_desk_core::customers::CustomerError;
use otp_desk_core::store::StoreError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ShellError {
    pub kind: &'static str,
    pub message: String,
}

impl ShellError {
    fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Search arguments the desk would never send (an over-long query, a page size out of
    /// range): refused with the reason rather than quietly trimmed.
    pub fn invalid_search(message: impl Into<String>) -> Self {
        Self::new("invalid_search", message)
    }
}

impl From<StoreError> for ShellError {
    fn from(error: StoreError) -> Self {
        // Exhaustive on purpose: a new store error must be given a kind here, not fall
        // through to a generic one the UI cannot explain.
        let kind = match &error {
            StoreError::Open { .. } | StoreError::CreateDir { .. } | StoreError::NoDataDir => {
                "database_unavailable"
            }
            StoreError::TooNew { .. } => "database_too_new",
            StoreError::Migration(_) => "database_migration",
            StoreError::Sqlite(_) => "storage",
            StoreError::BackupExists(_) | StoreError::Backup(_) => "backup",
        };
        Self::new(kind, error.to_string())
    }
}

impl From<CustomerError> for ShellError {
    fn from(error: CustomerError) -> Self {
        let kind = match &error {
            CustomerError::NotFound(_) => "customer_not_found",
            CustomerError::Invalid(_) => "invalid_customer",
            CustomerError::DuplicateAccount(_) => "duplicate_account",
            CustomerError::HasPendingCode => "customer_has_pending_code",
            CustomerError::Audit(_) => "audit",
            CustomerError::Settings(_) => "settings",
            CustomerError::Storage(_) => "storage",
            CustomerError::Io(_) => "file",
            CustomerError::EmptyFile
            | CustomerError::NotCsv(_)
            | CustomerError::TooLarge(_)
            | CustomerError::NoRows
            | CustomerError::UnknownImportMode(_)
            | CustomerError::MissingColumns { .. }
            | CustomerError::DuplicateColumn { .. } => "import",
        };
        Self::new(kind, error.to_string())
    }
}

impl From<tauri::Error> for ShellError {
    fn from(error: tauri::Error) -> Self {
        tracing::error!(%error, "a command could not finish");
        Self::new(
            "internal",
            format!("OTP Desk could not finish this request ({error}); try again, and restart the app if it keeps happening"),
        )
    }
}
