//! Shared fixtures for the integration tests: a real database file in a temp folder, a clock
//! the test moves, and a few customers.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use otp_desk_core::codes::{
    self, CodeError, CodeKey, IssueRequest, Issued, Target, Verdict, VerifyResult,
};
use otp_desk_core::contact::Channel;
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

/// Issues a code through `store` as the desk does (delivered, not revealed).
pub fn issue_on(
    store: &Store,
    key: &CodeKey,
    customer_id: i64,
    channel: Channel,
    operator: &str,
) -> Result<Issued, CodeError> {
    codes::issue(
        &mut store.conn(),
        store.clock(),
        key,
        &IssueRequest {
            customer_id,
            channel,
            destination: None,
            operator,
            revealed: false,
        },
    )
}

/// Verifies through `store`.
pub fn verify_on(
    store: &Store,
    key: &CodeKey,
    target: Target<'_>,
    typed: &str,
    operator: &str,
) -> Result<VerifyResult, CodeError> {
    codes::verify(
        &mut store.conn(),
        store.clock(),
        key,
        target,
        typed,
        operator,
    )
}

impl Desk {
    /// Ann at the desk sends a code.
    pub fn send(&self, customer_id: i64, channel: Channel) -> Result<Issued, CodeError> {
        issue_on(&self.store, &self.key, customer_id, channel, "Ann")
    }

    /// Ann types what the customer reads out for the challenge on screen.
    pub fn check(&self, challenge: i64, typed: &str) -> Verdict {
        self.verify(Target::Challenge(challenge), typed)
            .unwrap()
            .verdict
    }

    pub fn verify(&self, target: Target<'_>, typed: &str) -> Result<VerifyResult, CodeError> {
        verify_on(&self.store, &self.key, target, typed, "Ann")
    }
}

/// A code that is certainly wrong for `code`.
pub fn wrong(code: &str) -> String {
    code.bytes()
        .map(|b| char::from(b'0' + (b - b'0' + 1) % 10))
        .collect()
}
