//! How results and errors leave the CLI: human text or JSON on stdout, errors on stderr with
//! an exit code a script can branch on.

use std::fmt;

use otp_desk_core::audit::AuditError;
use otp_desk_core::codes::CodeError;
use otp_desk_core::customers::CustomerError;
use otp_desk_core::secrets::SecretsError;
use otp_desk_core::settings::SettingsError;
use otp_desk_core::store::StoreError;
use serde::Serialize;

/// Exit codes; see the table in main.rs.
pub const NOT_VERIFIED: u8 = 1;
const INVALID_INPUT: u8 = 3;
const REFUSED: u8 = 4;
const ENVIRONMENT: u8 = 5;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Customers(#[from] CustomerError),
    #[error(transparent)]
    Codes(#[from] CodeError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("{path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    NotFound(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => INVALID_INPUT,
            CliError::NotFound(_) => REFUSED,
            CliError::Store(StoreError::BackupExists(_)) => INVALID_INPUT,
            CliError::Store(_) | CliError::Secrets(_) | CliError::File { .. } => ENVIRONMENT,
            CliError::Settings(SettingsError::Storage(_)) => ENVIRONMENT,
            CliError::Settings(_) => INVALID_INPUT,
            CliError::Audit(AuditError::Storage(_) | AuditError::Export(_)) => ENVIRONMENT,
            CliError::Audit(_) => INVALID_INPUT,
            CliError::Customers(e) => customer_code(e),
            CliError::Codes(e) => match e {
                CodeError::Cooldown { .. }
                | CodeError::SendCap { .. }
                | CodeError::Locked { .. }
                | CodeError::CustomerNotFound(_)
                | CodeError::ChallengeNotFound(_)
                | CodeError::NoContact { .. }
                | CodeError::NotCustomersContact { .. } => REFUSED,
                CodeError::Secrets(_)
                | CodeError::BadKey(_)
                | CodeError::Store(_)
                | CodeError::Storage(_) => ENVIRONMENT,
                CodeError::Customers(e) => customer_code(e),
                _ => INVALID_INPUT,
            },
        }
    }
}

fn customer_code(e: &CustomerError) -> u8 {
    match e {
        CustomerError::Storage(_) | CustomerError::Io(_) => ENVIRONMENT,
        CustomerError::NotFound(_) | CustomerError::HasPendingCode => REFUSED,
        _ => INVALID_INPUT,
    }
}

/// Prints either the JSON form of `value` or the human text.
pub struct Printer {
    pub json: bool,
}

impl Printer {
    pub fn emit<T: Serialize>(&self, value: &T, text: impl fmt::Display) {
        if self.json {
            match serde_json::to_string_pretty(value) {
                Ok(s) => println!("{s}"),
                Err(e) => eprintln!("error: could not write JSON: {e}"),
            }
        } else {
            let text = text.to_string();
            if !text.is_empty() {
                println!("{text}");
            }
        }
    }
}
