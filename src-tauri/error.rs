//! The one place where core errors become what the webview receives: a machine-readable
//! `kind` the UI branches on, a `message` a clerk can act on, and, where the answer is "not
//! before then", the moment (`at`, milliseconds since the epoch) so the desk can count down
//! to it in local time instead of printing a UTC timestamp.

use otp_desk_core::activity::ActivityError;
use otp_desk_core::admin::AdminError;
use otp_desk_core::audit::AuditError;
use otp_desk_core::codes::CodeError;
use otp_desk_core::customers::CustomerError;
use otp_desk_core::dashboard::DashboardError;
use otp_desk_core::delivery::accounts::AccountError;
use otp_desk_core::delivery::oauth::OAuthError;
use otp_desk_core::delivery::sms_accounts::SmsAccountError;
use otp_desk_core::delivery::template::TemplateError;
use otp_desk_core::delivery::SendError;
use otp_desk_core::operators::OperatorError;
use otp_desk_core::secrets::SecretsError;
use otp_desk_core::settings::SettingsError;
use otp_desk_core::store::RestoreError;
use otp_desk_core::store::StoreError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ShellError {
    pub kind: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
    /// Which form fields are wrong and why, so a form can put each message under its field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl ShellError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            at: None,
            fields: Vec::new(),
        }
    }

    /// The error belongs to one field of a form.
    pub fn on_field(mut self, field: &str) -> Self {
        self.fields.push(FieldProblem {
            field: field.to_string(),
            message: self.message.clone(),
        });
        self
    }

    fn until(mut self, at: i64) -> Self {
        self.at = Some(at);
        self
    }

    /// Arguments the desk would never send (an over-long query, a page size out of range):
    /// refused with the reason rather than quietly trimmed.
    pub fn invalid_search(message: impl Into<String>) -> Self {
        Self::new("invalid_search", message)
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new("invalid_argument", message)
    }

    pub fn no_operator() -> Self {
        Self::new(
            "no_operator",
            "Choose who is at the desk first (top right), so the activity log shows who sent and checked each code.",
        )
    }
}

impl From<StoreError> for ShellError {
    fn from(error: StoreError) -> Self {
        // Exhaustive on purpose: a new store error must be given a kind here, not fall
        // through to a generic one the UI cannot explain.
        let kind = match &error {
            StoreError::Open { .. } | StoreError::CreateDir { .. } | StoreError::NoDataDir => {
                "database_unavailable"
            }
            StoreError::TooNew { .. } => "database_too_new",
            StoreError::Migration(_) => "database_migration",
            StoreError::Sqlite(_) => "storage",
            StoreError::BackupExists(_) | StoreError::Backup(_) => "backup",
        };
        Self::new(kind, error.to_string())
    }
}

impl From<CustomerError> for ShellError {
    fn from(error: CustomerError) -> Self {
        let fields = match &error {
            CustomerError::Invalid(problems) => problems
                .iter()
                .map(|p| FieldProblem {
                    field: p.field.to_string(),
                    message: p.message.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let kind = match &error {
            CustomerError::NotFound(_) => "customer_not_found",
            CustomerError::Invalid(_) => "invalid_customer",
            CustomerError::DuplicateAccount(_) => "duplicate_account",
            CustomerError::HasPendingCode => "customer_has_pending_code",
            CustomerError::Audit(_) => "audit",
            CustomerError::Settings(_) => "settings",
            CustomerError::Storage(_) => "storage",
            CustomerError::Io(_) => "file",
            CustomerError::EmptyFile
            | CustomerError::NotCsv(_)
            | CustomerError::TooLarge(_)
            | CustomerError::NoRows
            | CustomerError::UnknownImportMode(_)
            | CustomerError::MissingColumns { .. }
            | CustomerError::DuplicateColumn { .. } => "import",
        };
        let mut shell = Self::new(kind, error.to_string());
        shell.fields = fields;
        shell
    }
}

impl From<SecretsError> for ShellError {
    fn from(error: SecretsError) -> Self {
        let kind = match &error {
            SecretsError::Unavailable(_) | SecretsError::BadBackend(_) => "keyring_unavailable",
            SecretsError::Locked(_) => "keyring_locked",
            SecretsError::File { .. } | SecretsError::Other(_) => "keyring",
            SecretsError::BadName(_) | SecretsError::Empty | SecretsError::TooLong(_) => {
                "invalid_secret"
            }
        };
        Self::new(kind, error.to_string())
    }
}

impl From<AuditError> for ShellError {
    fn from(error: AuditError) -> Self {
        let kind = match &error {
            AuditError::EmptyOperator | AuditError::InvalidOperator => "invalid_operator",
            AuditError::UnknownKind(_)
            | AuditError::UnknownOutcome(_)
            | AuditError::ReversedRange => "invalid_filter",
            AuditError::Storage(_) => "storage",
            AuditError::Export(_) => "file",
        };
        Self::new(kind, error.to_string())
    }
}

impl From<SettingsError> for ShellError {
    fn from(error: SettingsError) -> Self {
        let kind = match &error {
            SettingsError::Storage(_) => "storage",
            _ => "invalid_setting",
        };
        Self::new(kind, error.to_string())
    }
}

impl From<CodeError> for ShellError {
    fn from(error: CodeError) -> Self {
        let message = error.to_string();
        match error {
            CodeError::Operator(e) => e.into(),
            CodeError::Customers(e) => e.into(),
            CodeError::Store(e) => e.into(),
            CodeError::Settings(e) => e.into(),
            CodeError::Secrets(e) => e.into(),
            CodeError::CustomerNotFound(_) => Self::new("customer_not_found", message),
            CodeError::NoContact { .. } => Self::new("no_contact", message),
            CodeError::NotCustomersContact { .. } | CodeError::Contact(_) => {
                Self::new("invalid_contact", message)
            }
            CodeError::Cooldown { retry_at } => Self::new("cooldown", message).until(retry_at),
            CodeError::SendCap { retry_at, .. } => Self::new("send_cap", message).until(retry_at),
            CodeError::Locked { until } => Self::new("contact_locked", message).until(until),
            CodeError::ChallengeNotFound(_) => Self::new("code_not_found", message),
            CodeError::EmptyInput | CodeError::NotDigits | CodeError::WrongLength { .. } => {
                Self::new("invalid_code_input", message)
            }
            CodeError::BadKey(_) => Self::new("keyring", message),
            CodeError::Storage(_) => Self::new("storage", message),
        }
    }
}

impl From<AccountError> for ShellError {
    fn from(error: AccountError) -> Self {
        let message = error.to_string();
        match error {
            AccountError::Secrets(e) => e.into(),
            AccountError::Operator(e) => e.into(),
            AccountError::NotFound(_) => Self::new("account_not_found", message),
            AccountError::Storage(_) => Self::new("storage", message),
            _ => Self::new("invalid_account", message),
        }
    }
}

impl From<SmsAccountError> for ShellError {
    fn from(error: SmsAccountError) -> Self {
        let message = error.to_string();
        match error {
            SmsAccountError::Secrets(e) => e.into(),
            SmsAccountError::Operator(e) => e.into(),
            SmsAccountError::Settings(e) => e.into(),
            SmsAccountError::Name(e) => e.into(),
            SmsAccountError::NotFound(_) => Self::new("account_not_found", message),
            SmsAccountError::Storage(_) => Self::new("storage", message),
            SmsAccountError::Exists(_)
            | SmsAccountError::UnknownKind(_)
            | SmsAccountError::Invalid { .. }
            | SmsAccountError::FromNumber(_)
            | SmsAccountError::NoToken => Self::new("invalid_account", message),
        }
    }
}

impl From<SendError> for ShellError {
    fn from(error: SendError) -> Self {
        let message = error.to_string();
        match error {
            SendError::Code(e) => e.into(),
            SendError::Account(e) => e.into(),
            SendError::Audit(e) => e.into(),
            SendError::SmsAccount(e) => e.into(),
            SendError::SmsNotSetUp => Self::new("sms_not_set_up", message),
            SendError::Delivery { .. } => Self::new("delivery_failed", message),
            SendError::Storage(_) => Self::new("storage", message),
        }
    }
}

impl From<AdminError> for ShellError {
    fn from(error: AdminError) -> Self {
        let message = error.to_string();
        match error {
            AdminError::Operator(e) => e.into(),
            AdminError::Settings(e) => e.into(),
            AdminError::Storage(_) => Self::new("storage", message),
            AdminError::NotSet => Self::new("admin_not_set", message),
            AdminError::AlreadySet => Self::new("admin_already_set", message),
            AdminError::Wrong { .. } | AdminError::Empty => {
                Self::new("admin_wrong_passphrase", message)
            }
            AdminError::Locked { until } => Self::new("admin_locked_out", message).until(until),
            AdminError::SessionLocked | AdminError::IdleLocked { .. } => {
                Self::new("admin_locked", message)
            }
            AdminError::TooShort { .. }
            | AdminError::TooLong
            | AdminError::Blank
            | AdminError::NotPlainText
            | AdminError::TooEasy { .. }
            | AdminError::Unchanged => Self::new("weak_passphrase", message),
            AdminError::Damaged | AdminError::Hashing(_) => Self::new("admin_damaged", message),
        }
    }
}

impl From<OperatorError> for ShellError {
    fn from(error: OperatorError) -> Self {
        let message = error.to_string();
        match error {
            OperatorError::Name(e) => e.into(),
            OperatorError::Duplicate(_) => Self::new("duplicate_operator", message),
            OperatorError::NotFound(_) | OperatorError::NoSuchId(_) => {
                Self::new("operator_not_found", message)
            }
            OperatorError::Retired(_) => Self::new("operator_retired", message),
            OperatorError::Storage(_) => Self::new("storage", message),
        }
    }
}

impl From<ActivityError> for ShellError {
    fn from(error: ActivityError) -> Self {
        let kind = match &error {
            ActivityError::UnknownState(_) | ActivityError::ReversedRange => "invalid_filter",
            ActivityError::NotFound(_) => "code_not_found",
            ActivityError::Storage(_) => "storage",
            ActivityError::Export(_) => "file",
        };
        Self::new(kind, error.to_string())
    }
}

impl From<DashboardError> for ShellError {
    fn from(error: DashboardError) -> Self {
        let kind = match &error {
            DashboardError::Days(_) | DashboardError::RecentFailures(_) => "invalid_argument",
            DashboardError::Storage(_) => "storage",
        };
        Self::new(kind, error.to_string())
    }
}

impl From<RestoreError> for ShellError {
    fn from(error: RestoreError) -> Self {
        let message = error.to_string();
        match error {
            RestoreError::Operator(e) => e.into(),
            RestoreError::Sqlite(_) => Self::new("storage", message),
            RestoreError::Open { .. }
            | RestoreError::NotOtpDesk { .. }
            | RestoreError::TooNew { .. }
            | RestoreError::Damaged { .. }
            | RestoreError::SameFile(_)
            | RestoreError::InMemory => Self::new("invalid_backup", message),
            RestoreError::SafetyCopy { .. }
            | RestoreError::Busy { .. }
            | RestoreError::OthersOpen { .. }
            | RestoreError::Copy { .. }
            | RestoreError::Finish { .. } => Self::new("restore_failed", message),
        }
    }
}

impl From<TemplateError> for ShellError {
    fn from(error: TemplateError) -> Self {
        let kind = match &error {
            TemplateError::Storage(_) => "storage",
            TemplateError::Operator(_) => "invalid_operator",
            _ => "invalid_template",
        };
        Self::new(kind, error.to_string())
    }
}

impl From<OAuthError> for ShellError {
    fn from(error: OAuthError) -> Self {
        let message = error.to_string();
        match error {
            OAuthError::Secrets(e) => e.into(),
            OAuthError::Http(_) => Self::new("sign_in_unreachable", message),
            OAuthError::NotConfigured(_) | OAuthError::NotSignedIn(_) => {
                Self::new("not_signed_in", message)
            }
            OAuthError::Expired(_)
            | OAuthError::Denied
            | OAuthError::Refused { .. }
            | OAuthError::BadAnswer(_) => Self::new("sign_in_failed", message),
        }
    }
}

impl From<tauri::Error> for ShellError {
    fn from(error: tauri::Error) -> Self {
        tracing::error!(%error, "a command could not finish");
        Self::new(
            "internal",
            format!("OTP Desk could not finish this request ({error}); try again, and restart the app if it keeps happening"),
        )
    }
}
