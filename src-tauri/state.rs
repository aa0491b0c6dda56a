//! What the shell holds for the lifetime of the window: the database, the secret store, the
//! code-hashing key once it has been read, the delivery set-up (with its warm SMTP
//! connections), and who is working the desk.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use otp_desk_core::codes::CodeKey;
use otp_desk_core::delivery::Setup;
use otp_desk_core::secrets::{self, SecretStore};
use otp_desk_core::Store;

use crate::database::Database;
use crate::error::ShellError;
use crate::session::Session;

pub struct AppState {
    database: Database,
    secrets: Result<Arc<dyn SecretStore>, ShellError>,
    /// Read from the keyring on first use, not at start: a locked keyring then costs the
    /// clerk one clear message when sending, not a desk that refuses to open.
    key: CachedKey,
    delivery: Setup,
    session: SharedSession,
    pub log_folder: Option<PathBuf>,
    /// Where exports go: the user's downloads folder, as a browser would put them.
    downloads: Option<PathBuf>,
}

impl AppState {
    pub fn new(
        database: Database,
        log_folder: Option<PathBuf>,
        downloads: Option<PathBuf>,
    ) -> Self {
        let secrets: Result<Arc<dyn SecretStore>, ShellError> =
            secrets::from_env().map(Arc::from).map_err(ShellError::from);
        let mut delivery = Setup::for_database(database.path());
        if let Ok(store) = &secrets {
            delivery = delivery.with_secrets(store.clone());
        }
        Self {
            database,
            secrets,
            key: CachedKey::default(),
            delivery,
            session: SharedSession::default(),
            log_folder,
            downloads,
        }
    }

    /// The folder exports are written to: the downloads folder, else beside the database.
    pub fn exports_folder(&self) -> Result<PathBuf, ShellError> {
        if let Some(folder) = &self.downloads {
            return Ok(folder.clone());
        }
        self.database
            .path()
            .and_then(|p| p.parent())
            .map(|p| p.join("exports"))
            .ok_or_else(|| {
                ShellError::new(
                    "file",
                    "no downloads folder was found for this user, and the database is not a file",
                )
            })
    }

    /// Backups made with "Backup now": a folder beside the database.
    pub fn backups_folder(&self) -> Result<PathBuf, ShellError> {
        self.database
            .path()
            .and_then(|p| p.parent())
            .map(|p| p.join("backups"))
            .ok_or_else(|| {
                ShellError::new("backup", "the database is not a file; nothing to back up")
            })
    }

    pub fn store(&self) -> Result<Store, ShellError> {
        self.database.store()
    }

    pub fn secrets(&self) -> Result<Arc<dyn SecretStore>, ShellError> {
        self.secrets.clone()
    }

    pub fn delivery(&self) -> Setup {
        self.delivery.clone()
    }

    pub fn session(&self) -> MutexGuard<'_, Session> {
        lock_session(&self.session)
    }

    /// Succeeds, and counts as activity, while the admin area is open: the first line of
    /// every admin command.
    pub fn require_admin(&self) -> Result<(), ShellError> {
        let now = self.store()?.clock().now_ms();
        self.session().require_admin(now).map(|_| ())
    }

    /// The session for a blocking task to take along.
    pub fn shared_session(&self) -> SharedSession {
        self.session.clone()
    }

    pub fn cached_key(&self) -> CachedKey {
        self.key.clone()
    }
}

pub type CachedKey = Arc<Mutex<Option<Arc<CodeKey>>>>;
pub type SharedSession = Arc<Mutex<Session>>;

pub fn lock_session(session: &SharedSession) -> MutexGuard<'_, Session> {
    // The session is a few plain values; a panic elsewhere cannot leave it half-written.
    session.lock().unwrap_or_else(|p| p.into_inner())
}

/// This database's code-hashing key, from the keyring (made there on first use) and then
/// from memory. Blocking: the keyring is a D-Bus round trip, so call it from a blocking task.
pub fn load_key(
    cached: CachedKey,
    secrets: Result<Arc<dyn SecretStore>, ShellError>,
    store: &Store,
) -> Result<Arc<CodeKey>, ShellError> {
    let mut slot = cached.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(key) = slot.as_ref() {
        return Ok(key.clone());
    }
    let key = Arc::new(CodeKey::load_or_create(&store.conn(), secrets?.as_ref())?);
    *slot = Some(key.clone());
    Ok(key)
}
