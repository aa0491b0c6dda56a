//! The database as the shell holds it for the lifetime of the window.

use std::path::{Path, PathBuf};

use otp_desk_core::store::{self, Store, StoreError};

use crate::error::ShellError;

pub enum Database {
    Open(Store),
    /// Kept instead of exiting, so the window opens and tells the clerk what is wrong rather
    /// than the app vanishing at start.
    Unavailable(ShellError),
}

impl Database {
    /// Opens `chosen` (from `--db`), else `OTP_DESK_DB`, else the file in the OS app-data
    /// folder, creating it and bringing its schema up to date.
    pub fn open(chosen: Option<PathBuf>) -> Self {
        match Self::try_open(chosen) {
            Ok(store) => {
                let shown = store.path().map(|p| p.display().to_string());
                tracing::info!(path = %shown.unwrap_or_default(), "database opened");
                Self::Open(store)
            }
            Err(error) => {
                tracing::error!(%error, "database unavailable");
                Self::Unavailable(error.into())
            }
        }
    }

    fn try_open(chosen: Option<PathBuf>) -> Result<Store, StoreError> {
        let path = match chosen {
            Some(path) => path,
            None => store::default_db_path()?,
        };
        // The status line and the log show this path; a relative one would mean nothing to
        // the person reading it.
        let path = std::path::absolute(&path).unwrap_or(path);
        tracing::info!(path = %path.display(), "opening database");
        Store::open(path)
    }

    /// The database file, when it is open.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Open(store) => store.path(),
            Self::Unavailable(_) => None,
        }
    }

    pub fn store(&self) -> Result<Store, ShellError> {
        match self {
            Self::Open(store) => Ok(store.clone()),
            Self::Unavailable(error) => Err(error.clone()),
        }
    }
}
