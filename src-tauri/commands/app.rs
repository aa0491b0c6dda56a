//! The app as a whole: what the status line and the first-start banner show, who is at the
//! desk, sample customers, and the outbox folder.

use otp_desk_core::admin;
use otp_desk_core::clock::Millis;
use otp_desk_core::customers::{self, sample};
use otp_desk_core::delivery::accounts::{self, AccountKind};
use otp_desk_core::delivery::sms_accounts;
use otp_desk_core::operators;
use otp_desk_core::store::{self, Store};
use serde::Serialize;
use tauri::State;

use super::blocking;
use crate::error::ShellError;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct MailStatus {
    /// The default mail account, which every code goes out through.
    account: String,
    kind: AccountKind,
    /// True while codes only land in a folder on this computer: the desk says so in a
    /// banner until an admin sets up a real account.
    local_only: bool,
}

/// Whether codes can go by SMS, and if not, the reason the desk shows next to the button.
#[derive(Debug, Serialize)]
pub struct SmsStatusLine {
    configured: bool,
    account: Option<String>,
    reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AppStatus {
    database_path: String,
    schema_version: usize,
    customers: i64,
    version: &'static str,
    mail: MailStatus,
    sms: SmsStatusLine,
    operator: Option<String>,
    /// False until the first-start step (admin passphrase) is done.
    admin_set_up: bool,
    log_folder: Option<String>,
    now: Millis,
}

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> Result<AppStatus, ShellError> {
    crate::desk_ready();
    let store = state.store()?;
    let operator = state.session().current_operator().map(str::to_string);
    let log_folder = state.log_folder.as_ref().map(|p| p.display().to_string());
    let secrets = state.secrets();
    blocking(move || {
        let mut status = status_of(&store, operator, log_folder)?;
        // No keyring means no Twilio token either: the reason says so.
        status.sms = match secrets {
            Ok(secrets) => {
                let a = sms_accounts::availability(&store.conn(), secrets.as_ref())?;
                SmsStatusLine {
                    configured: a.available,
                    account: a.account,
                    reason: a.reason,
                }
            }
            Err(error) => SmsStatusLine {
                configured: false,
                account: None,
                reason: Some(error.message),
            },
        };
        Ok(status)
    })
    .await
}

fn status_of(
    store: &Store,
    operator: Option<String>,
    log_folder: Option<String>,
) -> Result<AppStatus, ShellError> {
    let conn = store.conn();
    let customers = customers::count(&conn)?;
    let account = accounts::default_account(&conn)?;
    Ok(AppStatus {
        database_path: store
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        schema_version: store::schema_version(),
        customers,
        version: env!("CARGO_PKG_VERSION"),
        mail: MailStatus {
            local_only: matches!(account.kind, AccountKind::Outbox | AccountKind::Console),
            kind: account.kind,
            account: account.name,
        },
        sms: SmsStatusLine {
            configured: false,
            account: None,
            reason: None,
        },
        operator,
        admin_set_up: admin::is_set(&conn)?,
        log_folder,
        now: store.clock().now_ms(),
    })
}

/// The clerk says who they are; every event from now on carries the name.
#[tauri::command]
pub async fn choose_operator(
    state: State<'_, AppState>,
    name: String,
) -> Result<String, ShellError> {
    let store = state.store()?;
    let name = blocking(move || Ok(operators::check_active(&store.conn(), &name)?)).await?;
    state.session().set_operator(Some(name.clone()));
    tracing::info!(operator = %name, "operator at the desk");
    Ok(name)
}

/// Enough to try every screen; more would only slow the first look down.
const MAX_SAMPLE_FROM_DESK: usize = 1000;

#[tauri::command]
pub async fn load_sample_customers(
    state: State<'_, AppState>,
    count: usize,
) -> Result<usize, ShellError> {
    if !(1..=MAX_SAMPLE_FROM_DESK).contains(&count) {
        return Err(ShellError::invalid_argument(format!(
            "load 1 to {MAX_SAMPLE_FROM_DESK} sample customers, not {count}"
        )));
    }
    let operator = state.session().operator()?;
    let store = state.store()?;
    blocking(move || {
        Ok(sample::load_sample(
            &mut store.conn(),
            store.clock(),
            &operator,
            count,
        )?)
    })
    .await
}

/// Opens the default account's outbox folder in the file manager, creating it first so a
/// fresh install has something to open. Answers with the folder, so the page can show where
/// it is when the computer has no file manager to open it with.
#[tauri::command]
pub async fn open_outbox_folder(state: State<'_, AppState>) -> Result<String, ShellError> {
    let store = state.store()?;
    blocking(move || {
        let account = accounts::default_account(&store.conn())?;
        if account.kind != AccountKind::Outbox {
            return Err(ShellError::new(
                "not_an_outbox",
                format!(
                    "codes go out through \"{}\", not to a folder on this computer",
                    account.name
                ),
            ));
        }
        let folder = account.outbox_folder(store.path())?;
        let shown = folder.display().to_string();
        std::fs::create_dir_all(&folder).map_err(|e| {
            ShellError::new(
                "file",
                format!("cannot create the outbox folder {shown}: {e}"),
            )
        })?;
        crate::files::open_folder(&folder)?;
        Ok(shown)
    })
    .await
}
