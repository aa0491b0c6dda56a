//! Every policy number and office setting, with its default and its allowed range, in one
//! place. Values live in the `settings` table; a missing row means "the default".
//!
//! The one-time code rules (DESIGN.md section 3) are anchored here: 6 digits, 5 minutes,
//! 5 attempts, 60 s cooldown, 5 sends per 10 minutes and 20 per day, lock after 10 failures
//! with backoff from 1 minute to 1 hour.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::audit::{self, Event};
use crate::clock::Clock;
use crate::contact;

/// Rules the design fixes (no admin may loosen them): counted per contact.
pub const SENDS_PER_10_MINUTES: u32 = 5;
pub const SENDS_PER_DAY: u32 = 20;
/// Consecutive wrong codes (across codes) before a contact is locked.
pub const LOCKOUT_AFTER_FAILURES: u32 = 10;
/// First lock lasts this long; each further failure doubles it, up to the cap.
pub const LOCKOUT_BASE_SECS: i64 = 60;
pub const LOCKOUT_MAX_SECS: i64 = 3600;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("unknown setting \"{0}\"; see `settings list` for the names")]
    Unknown(String),
    #[error("{key} must be a whole number between {min} and {max}")]
    NotANumber {
        key: &'static str,
        min: u32,
        max: u32,
    },
    #[error("{key} must be between {min} and {max} (got {got})")]
    OutOfRange {
        key: &'static str,
        min: u32,
        max: u32,
        got: i64,
    },
    #[error("{key}: {reason}")]
    Invalid { key: &'static str, reason: String },
    #[error("settings could not be read or saved: {0}")]
    Storage(String),
}

impl From<rusqlite::Error> for SettingsError {
    fn from(e: rusqlite::Error) -> Self {
        SettingsError::Storage(e.to_string())
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Number {
        min: u32,
        max: u32,
        default: u32,
    },
    Region {
        default: &'static str,
    },
    Text {
        max_chars: usize,
        default: &'static str,
    },
}

struct Spec {
    key: &'static str,
    kind: Kind,
    about: &'static str,
}

const SPECS: &[Spec] = &[
    Spec {
        key: "code_digits",
        kind: Kind::Number {
            min: 6,
            max: 8,
            default: 6,
        },
        about: "Digits in a one-time code (NIST SP 800-63B: at least 6).",
    },
    Spec {
        key: "code_lifetime_minutes",
        kind: Kind::Number {
            min: 1,
            max: 10,
            default: 5,
        },
        about: "Minutes a code stays valid after it is sent.",
    },
    Spec {
        key: "max_attempts",
        kind: Kind::Number {
            min: 3,
            max: 10,
            default: 5,
        },
        about: "Wrong entries allowed per code before it stops working.",
    },
    Spec {
        key: "resend_cooldown_seconds",
        kind: Kind::Number {
            min: 30,
            max: 300,
            default: 60,
        },
        about: "Seconds before another code can be sent to the same contact.",
    },
    Spec {
        key: "retention_days",
        kind: Kind::Number {
            min: 1,
            max: 365,
            default: 30,
        },
        about: "Days finished codes are kept before cleanup deletes them (the audit trail stays).",
    },
    Spec {
        key: "admin_idle_lock_minutes",
        kind: Kind::Number {
            min: 1,
            max: 60,
            default: 5,
        },
        about: "Minutes without activity after which the admin area locks itself again.",
    },
    Spec {
        key: "default_region",
        kind: Kind::Region { default: "US" },
        about: "Country assumed for phone numbers written without a +country code.",
    },
    Spec {
        key: "company_name",
        kind: Kind::Text {
            max_chars: 100,
            default: "OTP Desk",
        },
        about: "The office name customers see in messages.",
    },
];

fn spec(key: &str) -> Result<&'static Spec, SettingsError> {
    SPECS
        .iter()
        .find(|s| s.key == key.trim())
        .ok_or_else(|| SettingsError::Unknown(contact::shorten(key)))
}

/// Checks a value for `key` and returns it in its stored form.
fn validate(spec: &Spec, raw: &str) -> Result<String, SettingsError> {
    let key = spec.key;
    match spec.kind {
        Kind::Number { min, max, .. } => {
            let got: i64 =
                raw.trim()
                    .parse()
                    .map_err(|_| SettingsError::NotANumber { key, min, max })?;
            if got < i64::from(min) || got > i64::from(max) {
                return Err(SettingsError::OutOfRange { key, min, max, got });
            }
            Ok(got.to_string())
        }
        Kind::Region { .. } => contact::parse_region(raw)
            .map(|r| r.as_ref().to_string())
            .map_err(|e| SettingsError::Invalid {
                key,
                reason: e.to_string(),
            }),
        Kind::Text { max_chars, .. } => {
            let v = raw.trim();
            if v.is_empty() {
                return Err(SettingsError::Invalid {
                    key,
                    reason: "must not be empty".into(),
                });
            }
            if v.chars().count() > max_chars {
                return Err(SettingsError::Invalid {
                    key,
                    reason: format!("must be at most {max_chars} characters"),
                });
            }
            if v.chars()
                .any(|c| c.is_control() || contact::is_bidi_control(c))
            {
                return Err(SettingsError::Invalid {
                    key,
                    reason: "must be a single line of plain text".into(),
                });
            }
            Ok(v.to_string())
        }
    }
}

/// Checks a value against a setting's bounds without storing it, for callers that take the
/// same number as an argument (e.g. `cleanup-otps --retention-days`).
pub fn check(key: &str, value: &str) -> Result<String, SettingsError> {
    validate(spec(key)?, value)
}

fn default_of(spec: &Spec) -> String {
    match spec.kind {
        Kind::Number { default, .. } => default.to_string(),
        Kind::Region { default } | Kind::Text { default, .. } => default.to_string(),
    }
}

fn allowed_of(spec: &Spec) -> String {
    match spec.kind {
        Kind::Number { min, max, .. } => format!("{min}–{max}"),
        Kind::Region { .. } => "two-letter region code".into(),
        Kind::Text { max_chars, .. } => format!("1–{max_chars} characters"),
    }
}

/// The settings in force, typed. Read once per operation; cheap (one small table scan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub code_digits: u32,
    pub code_lifetime_minutes: u32,
    pub max_attempts: u32,
    pub resend_cooldown_seconds: u32,
    pub retention_days: u32,
    pub admin_idle_lock_minutes: u32,
    pub default_region: String,
    pub company_name: String,
}

impl Settings {
    pub fn region(&self) -> phonenumber::country::Id {
        // Stored values were validated on the way in; the default is a known region.
        contact::parse_region(&self.default_region).unwrap_or(phonenumber::country::Id::US)
    }

    pub fn code_lifetime_ms(&self) -> i64 {
        i64::from(self.code_lifetime_minutes) * 60_000
    }

    pub fn resend_cooldown_ms(&self) -> i64 {
        i64::from(self.resend_cooldown_seconds) * 1000
    }

    pub fn admin_idle_lock_ms(&self) -> i64 {
        i64::from(self.admin_idle_lock_minutes) * 60_000
    }
}

impl Default for Settings {
    fn default() -> Self {
        from_map(&HashMap::new())
    }
}

fn from_map(stored: &HashMap<String, String>) -> Settings {
    // A value that fails validation (edited by hand, say) falls back to the default rather
    // than to something outside the allowed range.
    let text = |key: &str| {
        let s = spec(key).expect("every key used here is in SPECS");
        stored
            .get(key)
            .and_then(|v| validate(s, v).ok())
            .unwrap_or_else(|| default_of(s))
    };
    let num = |key: &str| text(key).parse::<u32>().unwrap_or_default();
    Settings {
        code_digits: num("code_digits"),
        code_lifetime_minutes: num("code_lifetime_minutes"),
        max_attempts: num("max_attempts"),
        resend_cooldown_seconds: num("resend_cooldown_seconds"),
        retention_days: num("retention_days"),
        admin_idle_lock_minutes: num("admin_idle_lock_minutes"),
        default_region: text("default_region"),
        company_name: text("company_name"),
    }
}

pub fn load(conn: &Connection) -> Result<Settings, SettingsError> {
    let mut stmt = conn.prepare_cached("SELECT key, value FROM settings")?;
    let stored = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<HashMap<_, _>, _>>()?;
    Ok(from_map(&stored))
}

/// One setting as an admin sees it: its value, and what it may be, in words (`allowed`) and
/// for a form (`min`/`max` for a number, `choices` for a region).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingView {
    pub key: &'static str,
    pub value: String,
    pub default: String,
    pub allowed: String,
    pub about: &'static str,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub choices: Vec<String>,
}

pub fn list(conn: &Connection) -> Result<Vec<SettingView>, SettingsError> {
    SPECS
        .iter()
        .map(|s| {
            let (min, max) = match s.kind {
                Kind::Number { min, max, .. } => (Some(min), Some(max)),
                _ => (None, None),
            };
            Ok(SettingView {
                key: s.key,
                value: get(conn, s.key)?,
                default: default_of(s),
                allowed: allowed_of(s),
                about: s.about,
                min,
                max,
                choices: match s.kind {
                    Kind::Region { .. } => contact::regions(),
                    _ => Vec::new(),
                },
            })
        })
        .collect()
}

pub fn get(conn: &Connection, key: &str) -> Result<String, SettingsError> {
    let s = spec(key)?;
    let stored: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [s.key], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(stored
        .and_then(|v| validate(s, &v).ok())
        .unwrap_or_else(|| default_of(s)))
}

/// Validates and stores a value, and records the change in the audit trail, in one
/// transaction. Returns the stored form (e.g. "gb" becomes "GB").
pub fn set(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    key: &str,
    value: &str,
) -> Result<String, SettingsError> {
    let s = spec(key)?;
    let new = validate(s, value)?;
    let tx = conn.transaction()?;
    let old = get(&tx, s.key)?;
    tx.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![s.key, new],
    )?;
    if old != new {
        audit::record(
            &tx,
            clock,
            &Event::new(audit::Kind::SettingChanged, audit::Outcome::Ok, operator)
                .detail(format!("{}: {} → {}", s.key, old, new)),
        )
        .map_err(|e| SettingsError::Storage(e.to_string()))?;
    }
    tx.commit()?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ManualClock, Store};
    use std::sync::Arc;

    fn store() -> Store {
        Store::open_in_memory(Arc::new(ManualClock::start())).unwrap()
    }

    #[test]
    fn defaults_follow_the_design() {
        let s = Settings::default();
        assert_eq!(s.code_digits, 6);
        assert_eq!(s.code_lifetime_minutes, 5);
        assert_eq!(s.max_attempts, 5);
        assert_eq!(s.resend_cooldown_seconds, 60);
        assert_eq!(s.default_region, "US");
        assert_eq!(s.admin_idle_lock_minutes, 5);
    }

    #[test]
    fn admin_idle_lock_is_bounded() {
        let store = store();
        let mut conn = store.conn();
        for bad in ["0", "61", "", "five", "1e1", "-5"] {
            assert!(
                set(
                    &mut conn,
                    store.clock(),
                    "admin",
                    "admin_idle_lock_minutes",
                    bad
                )
                .is_err(),
                "{bad:?}"
            );
        }
        set(
            &mut conn,
            store.clock(),
            "admin",
            "admin_idle_lock_minutes",
            "60",
        )
        .unwrap();
        assert_eq!(load(&conn).unwrap().admin_idle_lock_ms(), 3_600_000);
    }

    #[test]
    fn out_of_range_values_are_refused_with_the_range() {
        let store = store();
        let mut conn = store.conn();
        let err = set(
            &mut conn,
            store.clock(),
            "admin",
            "code_lifetime_minutes",
            "30",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "code_lifetime_minutes must be between 1 and 10 (got 30)"
        );
        let err = set(&mut conn, store.clock(), "admin", "code_digits", "five").unwrap_err();
        assert_eq!(
            err.to_string(),
            "code_digits must be a whole number between 6 and 8"
        );
        for bad in ["", "-1", "99999999999999999999", "6; DROP TABLE settings"] {
            assert!(
                set(&mut conn, store.clock(), "admin", "max_attempts", bad).is_err(),
                "{bad}"
            );
        }
        assert!(matches!(
            set(&mut conn, store.clock(), "admin", "no_such_thing", "1"),
            Err(SettingsError::Unknown(_))
        ));
        assert_eq!(load(&conn).unwrap(), Settings::default());
    }

    #[test]
    fn a_change_is_stored_typed_and_audited() {
        let store = store();
        let mut conn = store.conn();
        assert_eq!(
            set(&mut conn, store.clock(), "admin", "default_region", " gb ").unwrap(),
            "GB"
        );
        set(&mut conn, store.clock(), "admin", "max_attempts", "3").unwrap();
        let s = load(&conn).unwrap();
        assert_eq!(s.default_region, "GB");
        assert_eq!(s.max_attempts, 3);
        let details: Vec<String> = conn
            .prepare("SELECT detail FROM audit_events WHERE kind = 'setting_changed' ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(details, ["default_region: US → GB", "max_attempts: 5 → 3"]);
    }

    #[test]
    fn company_name_must_be_one_line_of_text() {
        let store = store();
        let mut conn = store.conn();
        for bad in [
            "",
            "   ",
            "Acme\r\nBcc: x",
            &"A".repeat(101),
            "Acme\u{202E}",
        ] {
            assert!(
                set(&mut conn, store.clock(), "admin", "company_name", bad).is_err(),
                "{bad:?}"
            );
        }
        set(
            &mut conn,
            store.clock(),
            "admin",
            "company_name",
            "<b>Acme</b> & Sons",
        )
        .unwrap();
        assert_eq!(load(&conn).unwrap().company_name, "<b>Acme</b> & Sons");
    }

    #[test]
    fn list_shows_every_setting_with_its_range() {
        let store = store();
        let views = list(&store.conn()).unwrap();
        assert_eq!(views.len(), SPECS.len());
        let lifetime = views
            .iter()
            .find(|v| v.key == "code_lifetime_minutes")
            .unwrap();
        assert_eq!(lifetime.allowed, "1–10");
        assert_eq!(lifetime.value, "5");
    }
}
