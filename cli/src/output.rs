//! How results and errors leave the CLI: human text or JSON on stdout, errors on stderr with
//! an exit code a script can branch on.

use std::fmt;

use otp_desk_core::activity::ActivityError;
use otp_desk_core::admin::AdminError;
use otp_desk_core::audit::AuditError;
use otp_desk_core::codes::CodeError;
use otp_desk_core::customers::CustomerError;
use otp_desk_core::dashboard::DashboardError;
use otp_desk_core::delivery::accounts::AccountError;
use otp_desk_core::delivery::oauth::OAuthError;
use otp_desk_core::delivery::sms::TrackError;
use otp_desk_core::delivery::sms_accounts::SmsAccountError;
use otp_desk_core::delivery::template::TemplateError;
use otp_desk_core::delivery::SendError;
use otp_desk_core::operators::OperatorError;
use otp_desk_core::secrets::SecretsError;
use otp_desk_core::settings::SettingsError;
use otp_desk_core::store::{RestoreError, StoreError};
use serde::Serialize;

/// Exit codes; see the table in main.rs.
pub const NOT_VERIFIED: u8 = 1;
const INVALID_INPUT: u8 = 3;
const REFUSED: u8 = 4;
const ENVIRONMENT: u8 = 5;
/// A delivery or test mail that failed is the environment's failure (server, folder).
pub const ENVIRONMENT_FAILED: u8 = ENVIRONMENT;
/// A test message to a number that cannot take one: the input was wrong.
pub const INPUT_REFUSED: u8 = INVALID_INPUT;

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
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    #[error(transparent)]
    SmsAccount(#[from] SmsAccountError),
    #[error(transparent)]
    Track(#[from] TrackError),
    #[error(transparent)]
    Operators(#[from] OperatorError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Activity(#[from] ActivityError),
    #[error(transparent)]
    Dashboard(#[from] DashboardError),
    #[error(transparent)]
    Restore(#[from] RestoreError),
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
            CliError::Account(e) => account_code(e),
            CliError::Template(TemplateError::Storage(_)) => ENVIRONMENT,
            CliError::Template(_) => INVALID_INPUT,
            CliError::Send(e) => match e {
                SendError::Code(e) => CliError::code_exit(e),
                SendError::Account(e) => account_code(e),
                SendError::SmsNotSetUp => REFUSED,
                SendError::SmsAccount(e) => sms_account_code(e),
                SendError::Delivery { .. } | SendError::Storage(_) => ENVIRONMENT,
                SendError::Audit(_) => ENVIRONMENT,
            },
            CliError::Codes(e) => Self::code_exit(e),
            CliError::SmsAccount(e) => sms_account_code(e),
            CliError::Track(TrackError::NotSent(_)) => REFUSED,
            CliError::Track(TrackError::Storage(_)) => ENVIRONMENT,
            CliError::Operators(e) => match e {
                OperatorError::Name(_) | OperatorError::Duplicate(_) => INVALID_INPUT,
                OperatorError::NotFound(_)
                | OperatorError::NoSuchId(_)
                | OperatorError::Retired(_) => REFUSED,
                OperatorError::Storage(_) => ENVIRONMENT,
            },
            CliError::Admin(e) => admin_code(e),
            CliError::Activity(e) => match e {
                ActivityError::UnknownState(_) | ActivityError::ReversedRange => INVALID_INPUT,
                ActivityError::NotFound(_) => REFUSED,
                ActivityError::Storage(_) | ActivityError::Export(_) => ENVIRONMENT,
            },
            CliError::Dashboard(e) => match e {
                DashboardError::Days(_) | DashboardError::RecentFailures(_) => INVALID_INPUT,
                DashboardError::Storage(_) => ENVIRONMENT,
            },
            CliError::Restore(e) => match e {
                RestoreError::NotOtpDesk { .. }
                | RestoreError::TooNew { .. }
                | RestoreError::Damaged { .. }
                | RestoreError::SameFile(_)
                | RestoreError::Operator(_) => INVALID_INPUT,
                RestoreError::Busy { .. } | RestoreError::OthersOpen { .. } => REFUSED,
                RestoreError::Open { .. }
                | RestoreError::InMemory
                | RestoreError::SafetyCopy { .. }
                | RestoreError::Copy { .. }
                | RestoreError::Finish { .. }
                | RestoreError::Sqlite(_) => ENVIRONMENT,
            },
            CliError::OAuth(e) => match e {
                OAuthError::Http(_) | OAuthError::BadAnswer(_) | OAuthError::Secrets(_) => {
                    ENVIRONMENT
                }
                OAuthError::NotConfigured(_)
                | OAuthError::NotSignedIn(_)
                | OAuthError::Expired(_)
                | OAuthError::Denied
                | OAuthError::Refused { .. } => REFUSED,
            },
        }
    }

    fn code_exit(e: &CodeError) -> u8 {
        match e {
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
        }
    }
}

fn admin_code(e: &AdminError) -> u8 {
    match e {
        AdminError::NotSet
        | AdminError::AlreadySet
        | AdminError::Wrong { .. }
        | AdminError::Locked { .. }
        | AdminError::SessionLocked
        | AdminError::IdleLocked { .. } => REFUSED,
        AdminError::Damaged | AdminError::Hashing(_) | AdminError::Storage(_) => ENVIRONMENT,
        AdminError::Settings(SettingsError::Storage(_)) => ENVIRONMENT,
        _ => INVALID_INPUT,
    }
}

fn account_code(e: &AccountError) -> u8 {
    match e {
        AccountError::NotFound(_) | AccountError::IsDefault(_) => REFUSED,
        // What the admin typed as a password, not the keyring, was wrong.
        AccountError::Secrets(
            SecretsError::Empty | SecretsError::TooLong(_) | SecretsError::BadName(_),
        ) => INVALID_INPUT,
        AccountError::Secrets(_) | AccountError::Storage(_) => ENVIRONMENT,
        _ => INVALID_INPUT,
    }
}

fn sms_account_code(e: &SmsAccountError) -> u8 {
    match e {
        SmsAccountError::NotFound(_) => REFUSED,
        SmsAccountError::Secrets(
            SecretsError::Empty | SecretsError::TooLong(_) | SecretsError::BadName(_),
        ) => INVALID_INPUT,
        SmsAccountError::Secrets(_)
        | SmsAccountError::Storage(_)
        | SmsAccountError::Settings(_) => ENVIRONMENT,
        _ => INVALID_INPUT,
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
