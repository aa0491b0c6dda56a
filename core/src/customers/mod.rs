//! Customer records: the people at the counter. Records, validation and the search index
//! stay in step here; `search` answers "who is this?", `csv` moves records in and out.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::clock::Millis;

#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("no customer with id {0}")]
    NotFound(i64),
    #[error("the customer data could not be read or saved: {0}")]
    Storage(#[from] rusqlite::Error),
}

/// A customer as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: i64,
    pub account_number: String,
    pub name: String,
    pub email: Option<String>,
    /// As entered.
    pub phone: Option<String>,
    /// When the number parsed for the default region (or carried its own country code).
    pub phone_e164: Option<String>,
    pub service_address: String,
    pub notes: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

pub(crate) const COLUMNS: &str = "id, account_number, name, email, phone, phone_e164, service_address, notes, created_at, updated_at";

impl Customer {
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            account_number: r.get(1)?,
            name: r.get(2)?,
            email: r.get(3)?,
            phone: r.get(4)?,
            phone_e164: r.get(5)?,
            service_address: r.get(6)?,
            notes: r.get(7)?,
            created_at: r.get(8)?,
            updated_at: r.get(9)?,
        })
    }
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Customer>, CustomerError> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM customers WHERE id = ?1"))?;
    Ok(stmt.query_row([id], Customer::from_row).optional()?)
}
