//! Who talks to the keyring. Secrets (the code-hashing key; later SMTP passwords, OAuth
//! refresh tokens, the Twilio auth token) are written and read here and nowhere else.
//!
//! From the outside the store is write-only: the desk and the CLI can set, replace, delete
//! and ask "is it set?". Only the core reads a secret back, to use it.
//!
//! Backends:
//! - `KeyringSecrets`: the OS store (Secret Service on Linux, Keychain on macOS, Credential
//!   Manager on Windows) via the `keyring` crate. The default.
//! - `FileSecrets`: an explicit opt-in for headless servers with no keyring
//!   (`OTP_DESK_SECRETS=file:/path`): a JSON file created with mode 0600. Anyone who can read
//!   that file can read the secrets; the README says so.
//! - `MemorySecrets`: for tests.
//!
//! There is no silent fallback: if the keyring is missing or locked, the caller gets an error
//! that says so and what to do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use zeroize::{Zeroize, Zeroizing};

/// The keyring service name every entry is stored under.
pub const SERVICE: &str = "otp-desk";
/// Chooses the backend: unset or `keyring` for the OS keyring, `file:PATH` for a file store.
pub const SECRETS_ENV: &str = "OTP_DESK_SECRETS";

pub type Secret = Zeroizing<String>;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("the system keyring could not be reached ({0}). On Linux a Secret Service (GNOME Keyring or KWallet) must be running in your session; on a headless server, opt in to a file store with OTP_DESK_SECRETS=file:/path/to/secrets.json")]
    Unavailable(String),
    #[error("the system keyring is locked or refused access ({0}); unlock it (log in to the desktop, or unlock the \"login\" keyring) and try again")]
    Locked(String),
    #[error("the secret name \"{0}\" is not valid")]
    BadName(String),
    #[error("the secret is empty")]
    Empty,
    #[error("the secret is too long (at most {0} bytes)")]
    TooLong(usize),
    #[error("the secrets file {path} could not be used: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("OTP_DESK_SECRETS must be \"keyring\" or \"file:/path\", not \"{0}\"")]
    BadBackend(String),
    #[error("the keyring failed: {0}")]
    Other(String),
}

/// Longer than any password or token we store; short enough that nobody pastes a file.
pub const MAX_SECRET_BYTES: usize = 8192;

pub trait SecretStore: Send + Sync {
    /// Reads a secret. Core-internal: no command or CLI output ever carries the result.
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretsError>;
    fn set(&self, name: &str, value: &str) -> Result<(), SecretsError>;
    /// Deleting a missing secret is not an error.
    fn delete(&self, name: &str) -> Result<(), SecretsError>;
    fn is_set(&self, name: &str) -> Result<bool, SecretsError> {
        Ok(self.get(name)?.is_some())
    }
    /// Where secrets go, for messages ("OS keyring", "file /x/y").
    fn describe(&self) -> String;
}

fn check_name(name: &str) -> Result<(), SecretsError> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(SecretsError::BadName(crate::contact::shorten(name)))
    }
}

fn check_value(value: &str) -> Result<(), SecretsError> {
    if value.is_empty() {
        return Err(SecretsError::Empty);
    }
    if value.len() > MAX_SECRET_BYTES {
        return Err(SecretsError::TooLong(MAX_SECRET_BYTES));
    }
    Ok(())
}

/// Picks the backend from `OTP_DESK_SECRETS`.
pub fn from_env() -> Result<Box<dyn SecretStore>, SecretsError> {
    match std::env::var(SECRETS_ENV) {
        Err(_) => Ok(Box::new(KeyringSecrets::new(SERVICE))),
        Ok(v) if v.trim().is_empty() || v.trim() == "keyring" => {
            Ok(Box::new(KeyringSecrets::new(SERVICE)))
        }
        Ok(v) => match v.trim().strip_prefix("file:") {
            Some(path) if !path.is_empty() => Ok(Box::new(FileSecrets::new(path))),
            _ => Err(SecretsError::BadBackend(crate::contact::shorten(&v))),
        },
    }
}

/// The OS keyring.
pub struct KeyringSecrets {
    service: String,
}

impl KeyringSecrets {
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_string(),
        }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, SecretsError> {
        check_name(name)?;
        keyring::Entry::new(&self.service, name).map_err(map_keyring)
    }
}

/// Turns the keyring's errors into ones an admin can act on. The keyring crate's messages
/// never contain the secret itself, but we keep only their text, not their payloads.
fn map_keyring(e: keyring::Error) -> SecretsError {
    match e {
        keyring::Error::PlatformFailure(inner) => {
            let text = inner.to_string();
            if text.contains("locked") || text.contains("dismissed") {
                SecretsError::Locked(text)
            } else {
                SecretsError::Unavailable(text)
            }
        }
        keyring::Error::NoStorageAccess(inner) => SecretsError::Locked(inner.to_string()),
        keyring::Error::TooLong(_, limit) => SecretsError::TooLong(limit as usize),
        keyring::Error::BadEncoding(_) => {
            SecretsError::Other("a stored secret is not valid text".into())
        }
        other => SecretsError::Other(other.to_string()),
    }
}

impl SecretStore for KeyringSecrets {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretsError> {
        match self.entry(name)?.get_password() {
            Ok(v) => Ok(Some(Zeroizing::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring(e)),
        }
    }

    fn set(&self, name: &str, value: &str) -> Result<(), SecretsError> {
        check_value(value)?;
        self.entry(name)?.set_password(value).map_err(map_keyring)
    }

    fn delete(&self, name: &str) -> Result<(), SecretsError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_keyring(e)),
        }
    }

    fn describe(&self) -> String {
        format!("the system keyring (service \"{}\")", self.service)
    }
}

/// The decoded file, wiped from memory when dropped.
struct SecretMap(BTreeMap<String, String>);

impl Drop for SecretMap {
    fn drop(&mut self) {
        self.0.values_mut().for_each(Zeroize::zeroize);
    }
}

/// Secrets in a JSON file readable only by its owner. Opt-in only.
pub struct FileSecrets {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileSecrets {
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            lock: Mutex::new(()),
        }
    }

    fn err(&self, reason: impl ToString) -> SecretsError {
        SecretsError::File {
            path: self.path.clone(),
            reason: reason.to_string(),
        }
    }

    fn read(&self) -> Result<SecretMap, SecretsError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                serde_json::from_slice(&bytes)
                    .map(SecretMap)
                    .map_err(|_| self.err("it is not a secrets file written by OTP Desk"))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SecretMap(BTreeMap::new())),
            Err(e) => Err(self.err(e)),
        }
    }

    fn write(&self, map: &BTreeMap<String, String>) -> Result<(), SecretsError> {
        use std::io::Write;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| self.err(e))?;
        }
        let json = Zeroizing::new(serde_json::to_vec_pretty(map).map_err(|e| self.err(e))?);
        // Write a sibling and rename, so a crash never leaves half a file.
        let tmp = self.path.with_extension("tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| self.err(e))?;
        f.write_all(&json).map_err(|e| self.err(e))?;
        f.sync_all().map_err(|e| self.err(e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| self.err(e))
    }
}

impl SecretStore for FileSecrets {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretsError> {
        check_name(name)?;
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        Ok(self.read()?.0.get(name).cloned().map(Zeroizing::new))
    }

    fn set(&self, name: &str, value: &str) -> Result<(), SecretsError> {
        check_name(name)?;
        check_value(value)?;
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.read()?;
        map.0.insert(name.to_string(), value.to_string());
        self.write(&map.0)
    }

    fn delete(&self, name: &str) -> Result<(), SecretsError> {
        check_name(name)?;
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.read()?;
        if let Some(mut old) = map.0.remove(name) {
            old.zeroize();
            self.write(&map.0)?;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("the file {}", self.path.display())
    }
}

/// Secrets held in memory, for tests.
#[derive(Default)]
pub struct MemorySecrets {
    map: Mutex<BTreeMap<String, Secret>>,
}

impl MemorySecrets {
    pub fn new() -> Self {
        Self::default()
    }
}

impl SecretStore for MemorySecrets {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretsError> {
        check_name(name)?;
        Ok(self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned())
    }

    fn set(&self, name: &str, value: &str) -> Result<(), SecretsError> {
        check_name(name)?;
        check_value(value)?;
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), Zeroizing::new(value.to_string()));
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), SecretsError> {
        check_name(name)?;
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        Ok(())
    }

    fn describe(&self) -> String {
        "memory (tests only)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(store: &dyn SecretStore) {
        assert!(!store.is_set("smtp:main").unwrap());
        store.set("smtp:main", "hunter2-app-password").unwrap();
        assert!(store.is_set("smtp:main").unwrap());
        assert_eq!(
            store.get("smtp:main").unwrap().unwrap().as_str(),
            "hunter2-app-password"
        );
        store.set("smtp:main", "replaced").unwrap();
        assert_eq!(
            store.get("smtp:main").unwrap().unwrap().as_str(),
            "replaced"
        );
        store.delete("smtp:main").unwrap();
        store.delete("smtp:main").unwrap();
        assert!(!store.is_set("smtp:main").unwrap());
        assert!(matches!(store.set("x", ""), Err(SecretsError::Empty)));
        assert!(matches!(
            store.set("x", &"a".repeat(MAX_SECRET_BYTES + 1)),
            Err(SecretsError::TooLong(_))
        ));
        for bad in ["", "a b", "../etc/passwd", "x\ny", &"n".repeat(201)] {
            assert!(
                matches!(store.set(bad, "v"), Err(SecretsError::BadName(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn memory_store_behaves() {
        exercise(&MemorySecrets::new());
    }

    #[test]
    fn file_store_behaves_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/secrets.json");
        let store = FileSecrets::new(&path);
        exercise(&store);
        store.set("k", "v").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(store.get("k"), Err(SecretsError::File { .. })));
    }

    #[test]
    fn keyring_names_are_checked_before_any_keyring_call() {
        let store = KeyringSecrets::new(SERVICE);
        assert!(matches!(
            store.get("bad name"),
            Err(SecretsError::BadName(_))
        ));
    }
}
