//! Shared fixtures for the integration tests: a real database file in a temp folder, a clock
//! the test moves, and a few customers.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use otp_desk_core::codes::CodeKey;
use otp_desk_core::{ManualClock, Store};

pub struct Desk {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub clock: ManualClock,
    pub store: Store,
    pub key: Arc<CodeKey>,
}

impl Desk {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("otp-desk.db");
        let clock = ManualClock::start();
        let store = Store::open_with_clock(&path, Arc::new(clock.clone())).unwrap();
        Self {
            dir,
            path,
            clock,
            store,
            key: Arc::new(CodeKey::from_bytes([42; 32])),
        }
    }

    /// Closes and reopens the database file, as an app restart would.
    pub fn restart(&mut self) {
        self.store = Store::open_with_clock(&self.path, Arc::new(self.clock.clone())).unwrap();
    }

    /// Another connection to the same file, as a second desk would have.
    pub fn second_desk(&self) -> Store {
        Store::open_with_clock(&self.path, Arc::new(self.clock.clone())).unwrap()
    }

    /// Inserts a customer row directly: these tests are about codes, not customer validation.
    pub fn customer(
        &self,
        account: &str,
        name: &str,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> i64 {
        let conn = self.store.conn();
        let e164 = phone.and_then(|p| {
            otp_desk_core::contact::e164_of(p, otp_desk_core::contact::parse_region("US").unwrap())
        });
        conn.execute(
            "INSERT INTO customers (account_number, name, email, phone, phone_e164, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, 0)",
            rusqlite::params![account, name, email, phone, e164],
        )
        .unwrap();
        conn.last_insert_rowid()
    }
}

/// A code that is certainly wrong for `code`.
pub fn wrong(code: &str) -> String {
    code.bytes()
        .map(|b| char::from(b'0' + (b - b'0' + 1) % 10))
        .collect()
}
