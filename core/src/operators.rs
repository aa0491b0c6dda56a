//! The people who work the desk. The admin keeps the list; the clerk picks their own name from
//! the active ones, and every audit event carries that name as text.
//!
//! Names are never deleted: a person who leaves is *retired*, which keeps their name in the
//! list (so the trail's "Ann" still means someone the office knew) but out of the picker. A
//! retired name can be reactivated. Names follow the audit trail's rules for an operator
//! (`audit::operator_name`: at most 64 characters of one-line plain text) and are unique
//! ignoring case, accents written either way (NFC) and repeated spaces.

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::audit::{self, AuditError, Event, Kind, Outcome};
use crate::clock::{Clock, Millis};
use crate::contact::shorten;

#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// The name breaks the audit trail's rules (empty, too long, control characters).
    #[error(transparent)]
    Name(AuditError),
    #[error("there is already an operator called \"{0}\" (names are compared ignoring case); pick another name or reactivate that one")]
    Duplicate(String),
    #[error("no operator called \"{0}\"; an admin adds operators in Settings")]
    NotFound(String),
    #[error("no operator with id {0}; the list may have been changed at another desk")]
    NoSuchId(i64),
    #[error(
        "\"{0}\" is retired and cannot be picked; an admin can reactivate the name in Settings"
    )]
    Retired(String),
    #[error("the operator list could not be read or saved: {0}")]
    Storage(#[from] rusqlite::Error),
}

impl From<AuditError> for OperatorError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::Storage(e) => OperatorError::Storage(e),
            other => OperatorError::Name(other),
        }
    }
}

/// One person on the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    pub id: i64,
    pub name: String,
    /// False once retired: the name stays in history but cannot be picked.
    pub active: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Operator {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            name: r.get(1)?,
            active: r.get(2)?,
            created_at: r.get(3)?,
            updated_at: r.get(4)?,
        })
    }
}

const COLUMNS: &str = "id, name, active, created_at, updated_at";

/// A name as it is stored: checked by the audit rules, composed (NFC) and with runs of
/// spaces made one, so the trail shows it the same way however it was typed.
pub fn clean_name(input: &str) -> Result<String, OperatorError> {
    // Checked before anything is built from it, so a megabyte of input costs nothing.
    let checked = audit::operator_name(input)?;
    let composed: String = checked.nfc().collect();
    Ok(composed.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// What two names are compared by: the clean name in lower case.
fn name_key(clean: &str) -> String {
    clean.to_lowercase()
}

/// Every operator, the active ones first, each group by name.
pub fn list(conn: &Connection) -> Result<Vec<Operator>, OperatorError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM operators ORDER BY active DESC, name_key, id"
    ))?;
    let rows = stmt
        .query_map([], Operator::from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The names the clerk may pick from, by name.
pub fn active(conn: &Connection) -> Result<Vec<Operator>, OperatorError> {
    Ok(list(conn)?.into_iter().filter(|o| o.active).collect())
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Operator>, OperatorError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM operators WHERE id = ?1"))?;
    Ok(stmt.query_row([id], Operator::from_row).optional()?)
}

/// The operator with this name (ignoring case and spacing), active or not. A name that
/// could never be stored finds nobody.
pub fn find(conn: &Connection, name: &str) -> Result<Option<Operator>, OperatorError> {
    let Ok(clean) = clean_name(name) else {
        return Ok(None);
    };
    by_key(conn, &name_key(&clean))
}

fn by_key(conn: &Connection, key: &str) -> Result<Option<Operator>, OperatorError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM operators WHERE name_key = ?1"
    ))?;
    Ok(stmt.query_row([key], Operator::from_row).optional()?)
}

/// Checks the clerk's pick: the name must belong to an active operator. Returns the name as
/// the list spells it, which is what the audit trail should record.
pub fn check_active(conn: &Connection, name: &str) -> Result<String, OperatorError> {
    let clean = clean_name(name)?;
    match by_key(conn, &name_key(&clean))? {
        Some(o) if o.active => Ok(o.name),
        Some(o) => Err(OperatorError::Retired(o.name)),
        None => Err(OperatorError::NotFound(shorten(&clean))),
    }
}

/// Adds a person to the list (active). `by` is who made the change, for the trail.
pub fn add(
    conn: &mut Connection,
    clock: &dyn Clock,
    by: &str,
    name: &str,
) -> Result<Operator, OperatorError> {
    let by = audit::operator_name(by)?;
    let clean = clean_name(name)?;
    let key = name_key(&clean);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(existing) = by_key(&tx, &key)? {
        return Err(OperatorError::Duplicate(existing.name));
    }
    let now = clock.now_ms();
    tx.execute(
        "INSERT INTO operators (name, name_key, active, created_at, updated_at)
         VALUES (?1, ?2, 1, ?3, ?3)",
        params![clean, key, now],
    )?;
    let id = tx.last_insert_rowid();
    audit::record(
        &tx,
        clock,
        &Event::new(Kind::OperatorAdded, Outcome::Ok, &by).detail(clean.clone()),
    )?;
    let added = get(&tx, id)?.ok_or(OperatorError::NoSuchId(id))?;
    tx.commit()?;
    Ok(added)
}

/// Renames operator `id`. Past audit events keep the name they were recorded under; the
/// rename itself is recorded with both names. Changing only the case is allowed.
pub fn rename(
    conn: &mut Connection,
    clock: &dyn Clock,
    by: &str,
    id: i64,
    new_name: &str,
) -> Result<Operator, OperatorError> {
    let by = audit::operator_name(by)?;
    let clean = clean_name(new_name)?;
    let key = name_key(&clean);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let old = get(&tx, id)?.ok_or(OperatorError::NoSuchId(id))?;
    if let Some(other) = by_key(&tx, &key)? {
        if other.id != id {
            return Err(OperatorError::Duplicate(other.name));
        }
    }
    if old.name == clean {
        return Ok(old);
    }
    tx.execute(
        "UPDATE operators SET name = ?2, name_key = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, clean, key, clock.now_ms()],
    )?;
    audit::record(
        &tx,
        clock,
        &Event::new(Kind::OperatorRenamed, Outcome::Ok, &by)
            .detail(format!("{} → {}", old.name, clean)),
    )?;
    let renamed = get(&tx, id)?.ok_or(OperatorError::NoSuchId(id))?;
    tx.commit()?;
    Ok(renamed)
}

/// Takes operator `id` out of the picker; the name stays in the list and in history.
/// Retiring a retired operator changes nothing.
pub fn retire(
    conn: &mut Connection,
    clock: &dyn Clock,
    by: &str,
    id: i64,
) -> Result<Operator, OperatorError> {
    set_active(conn, clock, by, id, false)
}

/// Puts a retired operator back in the picker.
pub fn reactivate(
    conn: &mut Connection,
    clock: &dyn Clock,
    by: &str,
    id: i64,
) -> Result<Operator, OperatorError> {
    set_active(conn, clock, by, id, true)
}

fn set_active(
    conn: &mut Connection,
    clock: &dyn Clock,
    by: &str,
    id: i64,
    active: bool,
) -> Result<Operator, OperatorError> {
    let by = audit::operator_name(by)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let old = get(&tx, id)?.ok_or(OperatorError::NoSuchId(id))?;
    if old.active == active {
        return Ok(old);
    }
    tx.execute(
        "UPDATE operators SET active = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, active, clock.now_ms()],
    )?;
    let kind = if active {
        Kind::OperatorReactivated
    } else {
        Kind::OperatorRetired
    };
    audit::record(
        &tx,
        clock,
        &Event::new(kind, Outcome::Ok, &by).detail(old.name.clone()),
    )?;
    let changed = get(&tx, id)?.ok_or(OperatorError::NoSuchId(id))?;
    tx.commit()?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_compared_loosely() {
        assert_eq!(clean_name("  Ann   Lee ").unwrap(), "Ann Lee");
        // "Zoë" typed with a combining diaeresis is the same name as the composed one.
        assert_eq!(clean_name("Zoe\u{308}").unwrap(), "Zoë");
        assert_eq!(
            name_key(&clean_name("ZOË  o'brien").unwrap()),
            name_key(&clean_name("zoë O'Brien").unwrap())
        );
        assert!(matches!(
            clean_name("   "),
            Err(OperatorError::Name(AuditError::EmptyOperator))
        ));
        assert!(clean_name("Ann\u{202E}").is_err());
    }
}
