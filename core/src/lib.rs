//! The OTP Desk domain library.
//!
//! Everything the desk and the command line do lives here; the desktop shell and the CLI only
//! translate between their world (Tauri commands, terminal arguments) and these modules.
//! Nothing in this crate knows about Tauri or any user interface.
//!
//! | module      | owns                                                                 |
//! |-------------|----------------------------------------------------------------------|
//! | `store`     | the SQLite file: connection setup, migrations, backup                |
//! | `settings`  | every policy number and its allowed range, stored in SQLite          |
//! | `customers` | customer records, search, CSV import and export                      |
//! | `codes`     | the one-time code policy: issue, verify, expire, throttle, cleanup   |
//! | `audit`     | the append-only trail of what happened (never a code or a secret)    |
//! | `delivery`  | messages, transports and delivery failures (nothing else talks to servers) |
//! | `secrets`   | the OS keyring (and an in-memory store for tests)                    |
//! | `contact`   | what a valid email address or phone number is, and how it is masked  |
//! | `clock`     | the one source of "now", so tests can move time                      |
//! | `operators` | the people who work the desk, whose names the audit trail carries     |
//! | `admin`     | the admin passphrase, its lock, and the unlocked admin area           |
//! | `activity`  | the Activity screen's read-only questions about codes                 |
//! | `dashboard` | per-day counts, delivery success per account, recent failures          |

pub mod activity;
pub mod admin;
pub mod audit;
pub mod clock;
pub mod codes;
pub mod contact;
pub mod customers;
pub mod dashboard;
pub mod delivery;
pub mod operators;
pub mod secrets;
pub mod settings;
pub mod store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use store::Store;
