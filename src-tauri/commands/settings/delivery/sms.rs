//! SMS accounts in Settings: the list (with "auth token set", never the token), adding a
//! Twilio or console account, the auth token into the keyring, the default, removing, and
//! "Send test SMS" with its per-step report. Whether the desk can text at all follows from
//! here, so every change answers with the desk's SMS availability too.

use std::sync::Arc;

use otp_desk_core::delivery::send_test_sms;
use otp_desk_core::delivery::sms_accounts::{
    self, Availability, SmsAccount, SmsAccountError, SmsAccountInput, SmsAccountKind,
    DEFAULT_API_BASE,
};
use otp_desk_core::secrets::{SecretStore, SecretsError};
use otp_desk_core::settings;
use otp_desk_core::Store;
use serde::{Deserialize, Serialize};
use tauri::State;

use super::{
    account_name_arg, field_arg, keep_secret_or_undo, recipient_arg, secret_arg, TestOutcome,
};
use crate::commands::blocking;
use crate::error::ShellError;
use crate::state::AppState;

/// One SMS account as the list shows it. Holds no secret, only whether the token is set.
#[derive(Debug, Serialize)]
pub struct SmsAccountView {
    name: String,
    kind: SmsAccountKind,
    /// Who texts come from, in words ("Twilio from +15017122661").
    destination: String,
    account_sid: String,
    from_number: String,
    messaging_service_sid: String,
    api_base: String,
    is_default: bool,
    /// A Twilio account needs its auth token in the keyring; a console account needs none.
    needs_token: bool,
    token_set: bool,
}

#[derive(Debug, Serialize)]
pub struct SmsSettings {
    accounts: Vec<SmsAccountView>,
    /// What the desk's SMS button goes by.
    availability: Availability,
    default_api_base: &'static str,
    /// The region a number typed without its country code is read in.
    default_region: String,
    keyring_problem: Option<String>,
}

fn view(
    account: SmsAccount,
    secrets: Option<&dyn SecretStore>,
    problem: &mut Option<String>,
) -> SmsAccountView {
    let needs_token = account.kind == SmsAccountKind::Twilio;
    let token_set = needs_token
        && match secrets.map(|s| s.is_set(&account.secret_name())) {
            Some(Ok(set)) => set,
            Some(Err(e)) => {
                *problem = Some(ShellError::from(e).message);
                false
            }
            None => false,
        };
    SmsAccountView {
        destination: account.destination(),
        needs_token,
        token_set,
        name: account.name,
        kind: account.kind,
        account_sid: account.account_sid,
        from_number: account.from_number,
        messaging_service_sid: account.messaging_service_sid,
        api_base: account.api_base,
        is_default: account.is_default,
    }
}

fn sms_settings(
    store: &Store,
    secrets: &Result<Arc<dyn SecretStore>, ShellError>,
) -> Result<SmsSettings, ShellError> {
    let conn = store.conn();
    let list = sms_accounts::list(&conn)?;
    let mut problem = secrets.as_ref().err().map(|e| e.message.clone());
    let keyring = secrets.as_ref().ok().map(|s| s.as_ref());
    let accounts = list
        .into_iter()
        .map(|a| view(a, keyring, &mut problem))
        .collect();
    let availability = match keyring {
        Some(k) => sms_accounts::availability(&conn, k)?,
        None => Availability {
            available: false,
            account: sms_accounts::default_account(&conn)?.map(|a| a.name),
            reason: problem.clone(),
        },
    };
    Ok(SmsSettings {
        accounts,
        availability,
        default_api_base: DEFAULT_API_BASE,
        default_region: settings::load(&conn)?.default_region,
        keyring_problem: problem,
    })
}

#[tauri::command]
pub async fn sms_accounts(state: State<'_, AppState>) -> Result<SmsSettings, ShellError> {
    state.require_admin()?;
    let store = state.store()?;
    let secrets = state.secrets();
    blocking(move || sms_settings(&store, &secrets)).await
}

/// The form as the page sends it. Exactly one of `from_number` and `messaging_service_sid`
/// for a Twilio account; none of the Twilio fields for a console one.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SmsAccountForm {
    name: String,
    kind: String,
    account_sid: String,
    from_number: String,
    messaging_service_sid: String,
    api_base: String,
}

impl SmsAccountForm {
    fn into_input(self) -> Result<SmsAccountInput, ShellError> {
        Ok(SmsAccountInput {
            name: field_arg(self.name, "name")?,
            kind: field_arg(self.kind, "kind")?,
            account_sid: field_arg(self.account_sid, "account_sid")?,
            from_number: field_arg(self.from_number, "from_number")?,
            messaging_service_sid: field_arg(self.messaging_service_sid, "messaging_service_sid")?,
            api_base: field_arg(self.api_base, "api_base")?,
        })
    }
}

/// The form field a core refusal is about (`None`: the form as a whole).
fn field_of(error: &SmsAccountError) -> Option<&'static str> {
    match error {
        SmsAccountError::Name(_) | SmsAccountError::Exists(_) => Some("name"),
        SmsAccountError::UnknownKind(_) => Some("kind"),
        SmsAccountError::FromNumber(_) => Some("from_number"),
        SmsAccountError::NoToken
        | SmsAccountError::Secrets(SecretsError::Empty | SecretsError::TooLong(_)) => Some("token"),
        SmsAccountError::Invalid { field, .. } => *field,
        _ => None,
    }
}

fn refused(error: SmsAccountError) -> ShellError {
    let field = field_of(&error);
    let shell = ShellError::from(error);
    match field {
        Some(field) => shell.on_field(field),
        None => shell,
    }
}

/// Adds an account, with its auth token when one was typed. Both are checked before
/// anything is written; if the keyring then refuses the token, the account goes again.
#[tauri::command]
pub async fn sms_account_add(
    state: State<'_, AppState>,
    account: SmsAccountForm,
    token: Option<String>,
) -> Result<SmsSettings, ShellError> {
    state.require_admin()?;
    let input = account.into_input()?;
    let token = secret_arg(token, "token")?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    let secrets = state.secrets();
    blocking(move || {
        let region = settings::load(&store.conn())?.region();
        let candidate = sms_accounts::validate(&input, region).map_err(refused)?;
        if let Some(token) = &token {
            if candidate.kind != SmsAccountKind::Twilio {
                return Err(refused(SmsAccountError::NoToken));
            }
            sms_accounts::check_token(token).map_err(refused)?;
        }
        let keyring = match &token {
            Some(_) => Some(secrets.clone().map_err(|e| e.on_field("token"))?),
            None => None,
        };
        let mut conn = store.conn();
        let added = sms_accounts::add(&mut conn, store.clock(), &actor, &input).map_err(refused)?;
        if let (Some(token), Some(keyring)) = (&token, &keyring) {
            let (clock, keyring, name) = (store.clock(), keyring.as_ref(), &added.name);
            keep_secret_or_undo(
                &mut conn,
                "token",
                "auth token",
                |conn| {
                    sms_accounts::set_token(conn, clock, keyring, &actor, name, token)
                        .map_err(ShellError::from)
                },
                |conn| sms_accounts::remove(conn, clock, keyring, &actor, name).is_ok(),
            )?;
        }
        drop(conn);
        sms_settings(&store, &secrets)
    })
    .await
}

/// Stores or replaces a Twilio account's auth token. Write-only.
#[tauri::command]
pub async fn sms_account_set_token(
    state: State<'_, AppState>,
    name: String,
    token: String,
) -> Result<SmsSettings, ShellError> {
    state.require_admin()?;
    let name = account_name_arg(&name)?;
    let token = secret_arg(Some(token), "token")?.ok_or_else(|| {
        ShellError::invalid_argument("paste the auth token from the Twilio Console first")
            .on_field("token")
    })?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    let secrets = state.secrets();
    blocking(move || {
        let keyring = secrets.clone().map_err(|e| e.on_field("token"))?;
        sms_accounts::set_token(
            &store.conn(),
            store.clock(),
            keyring.as_ref(),
            &actor,
            &name,
            &token,
        )
        .map_err(refused)?;
        sms_settings(&store, &secrets)
    })
    .await
}

#[tauri::command]
pub async fn sms_account_set_default(
    state: State<'_, AppState>,
    name: String,
) -> Result<SmsSettings, ShellError> {
    state.require_admin()?;
    let name = account_name_arg(&name)?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    let secrets = state.secrets();
    blocking(move || {
        sms_accounts::set_default(&mut store.conn(), store.clock(), &actor, &name)?;
        sms_settings(&store, &secrets)
    })
    .await
}

/// Removes an account and its auth token. Removing the default turns SMS off at the desk
/// until another account is made the default.
#[tauri::command]
pub async fn sms_account_remove(
    state: State<'_, AppState>,
    name: String,
) -> Result<SmsSettings, ShellError> {
    state.require_admin()?;
    let name = account_name_arg(&name)?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    let secrets = state.secrets();
    blocking(move || {
        let keyring = secrets.clone()?;
        sms_accounts::remove(
            &mut store.conn(),
            store.clock(),
            keyring.as_ref(),
            &actor,
            &name,
        )?;
        sms_settings(&store, &secrets)
    })
    .await
}

/// Longer than any phone number written with spaces, dashes and a country code.
const MAX_NUMBER_CHARS: usize = 40;

/// Sends a sample text (code 123456, never a real one) and reports each step: account,
/// number, render, request and, for Twilio, the delivery status.
#[tauri::command]
pub async fn sms_test(
    state: State<'_, AppState>,
    name: String,
    to: String,
) -> Result<TestOutcome, ShellError> {
    state.require_admin()?;
    let name = account_name_arg(&name)?;
    let to = recipient_arg(&to, MAX_NUMBER_CHARS, "phone number")?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    let setup = state.delivery();
    blocking(move || Ok(send_test_sms(&store, &setup, &actor, &name, &to)?.into())).await
}

#[cfg(test)]
mod tests {
    use super::super::hostile;
    use super::*;

    const SID: &str = "ACa1b2c3d4e5f60718293a4b5c6d7e8f90";

    fn twilio_form() -> SmsAccountForm {
        SmsAccountForm {
            name: "Office Twilio".into(),
            kind: "twilio".into(),
            account_sid: SID.into(),
            from_number: "+15017122661".into(),
            ..Default::default()
        }
    }

    fn refused_field(form: SmsAccountForm) -> Option<String> {
        let input = match form.into_input() {
            Ok(input) => input,
            Err(e) => return e.fields.first().map(|f| f.field.clone()),
        };
        let region = otp_desk_core::settings::Settings::default().region();
        let error = sms_accounts::validate(&input, region).expect_err("refused");
        refused(error).fields.first().map(|f| f.field.clone())
    }

    #[test]
    fn a_good_form_becomes_the_cores_input() {
        let region = otp_desk_core::settings::Settings::default().region();
        let account = sms_accounts::validate(&twilio_form().into_input().unwrap(), region).unwrap();
        assert_eq!(account.api_base, DEFAULT_API_BASE);
        let mut problem = None;
        let shown = serde_json::to_value(view(account, None, &mut problem)).unwrap();
        assert_eq!(shown["needs_token"], true);
        assert_eq!(shown["token_set"], false);
    }

    #[test]
    fn each_refusal_lands_under_its_field() {
        let mg = "MG9752274e9e519418a7406176694466fa";
        let cases: Vec<(SmsAccountForm, Option<&str>)> = vec![
            (
                SmsAccountForm {
                    name: String::new(),
                    ..twilio_form()
                },
                Some("name"),
            ),
            (
                SmsAccountForm {
                    name: hostile::megabyte(),
                    ..twilio_form()
                },
                Some("name"),
            ),
            (
                SmsAccountForm {
                    kind: "pigeon".into(),
                    ..twilio_form()
                },
                Some("kind"),
            ),
            (
                SmsAccountForm {
                    account_sid: String::new(),
                    ..twilio_form()
                },
                Some("account_sid"),
            ),
            (
                SmsAccountForm {
                    account_sid: "AC123".into(),
                    ..twilio_form()
                },
                Some("account_sid"),
            ),
            (
                SmsAccountForm {
                    account_sid: "x'; DROP TABLE sms_accounts;--".into(),
                    ..twilio_form()
                },
                Some("account_sid"),
            ),
            (
                SmsAccountForm {
                    from_number: "123".into(),
                    ..twilio_form()
                },
                Some("from_number"),
            ),
            (
                SmsAccountForm {
                    from_number: "<b>".into(),
                    ..twilio_form()
                },
                Some("from_number"),
            ),
            (
                SmsAccountForm {
                    from_number: String::new(),
                    ..twilio_form()
                },
                Some("sender"),
            ),
            (
                SmsAccountForm {
                    messaging_service_sid: mg.into(),
                    ..twilio_form()
                },
                Some("sender"),
            ),
            (
                SmsAccountForm {
                    from_number: String::new(),
                    messaging_service_sid: "MG12".into(),
                    ..twilio_form()
                },
                Some("messaging_service_sid"),
            ),
            (
                SmsAccountForm {
                    api_base: "http://api.twilio.com".into(),
                    ..twilio_form()
                },
                Some("api_base"),
            ),
            (
                SmsAccountForm {
                    api_base: hostile::megabyte(),
                    ..twilio_form()
                },
                Some("api_base"),
            ),
            (
                SmsAccountForm {
                    account_sid: "AC\r\n".into(),
                    ..twilio_form()
                },
                None,
            ),
            (
                SmsAccountForm {
                    kind: "console".into(),
                    ..twilio_form()
                },
                None,
            ),
        ];
        for (form, field) in cases {
            let shown: String = format!("{form:?}").chars().take(200).collect();
            assert_eq!(refused_field(form).as_deref(), field, "{shown}");
        }
    }

    #[test]
    fn a_mistyped_token_is_refused_under_its_field() {
        for bad in [
            "short",
            "two words here and there",
            "tok\r\nen0123456789abc",
            "\u{202E}0123456789abcdef",
        ] {
            let e = sms_accounts::check_token(bad).unwrap_err();
            assert_eq!(refused(e).fields[0].field, "token", "{bad:?}");
        }
        assert_eq!(refused(SmsAccountError::NoToken).fields[0].field, "token");
    }
}
