//! Mail accounts in Settings: the list (with "password set" and "signed in", never the
//! secret), adding one from a kind's preset, the password into the keyring, the default,
//! removing, and "Send test mail" with its per-step report.

use std::path::Path;
use std::sync::Arc;

use otp_desk_core::delivery::accounts::{
    self, AccountError, AccountInput, AccountKind, MailAccount, Security, DEFAULT_AUTHORITY,
    MAX_CA_PEM_BYTES,
};
use otp_desk_core::delivery::{oauth, send_test};
use otp_desk_core::secrets::SecretStore;
use otp_desk_core::Store;
use serde::{Deserialize, Serialize};
use tauri::State;

use super::{
    account_name_arg, field_arg, keep_secret_or_undo, recipient_arg, secret_arg, TestOutcome,
};
use crate::commands::blocking;
use crate::error::ShellError;
use crate::state::AppState;

/// How an account proves who it is to its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// Outbox and console: nothing to sign in to.
    None,
    /// A password or app password in the keyring.
    Password,
    /// Microsoft sign-in (OAuth 2.0 device code); the refresh token in the keyring.
    Microsoft,
}

#[derive(Debug, Serialize)]
pub struct OAuthView {
    tenant: String,
    client_id: String,
    authority: String,
}

/// One mail account as the list shows it. Holds no secret, only whether one is set.
#[derive(Debug, Serialize)]
pub struct MailAccountView {
    name: String,
    kind: AccountKind,
    /// Where messages go, in words ("smtp.gmail.com:587 starttls", "folder /…/outbox").
    destination: String,
    from_address: String,
    from_name: String,
    username: String,
    has_extra_ca: bool,
    is_default: bool,
    credential: Credential,
    password_set: bool,
    signed_in: bool,
    oauth: Option<OAuthView>,
}

/// A kind's fixed server, which the form shows instead of asking for one.
#[derive(Debug, Serialize)]
pub struct Preset {
    kind: AccountKind,
    host: &'static str,
    port: u16,
    security: Security,
}

#[derive(Debug, Serialize)]
pub struct MailSettings {
    accounts: Vec<MailAccountView>,
    presets: Vec<Preset>,
    default_authority: &'static str,
    max_ca_bytes: usize,
    /// The keyring could not be asked; "password set" cannot be told until it can.
    keyring_problem: Option<String>,
}

fn credential(account: &MailAccount) -> Credential {
    match (account.kind.uses_server(), &account.oauth) {
        (false, _) => Credential::None,
        (true, None) => Credential::Password,
        (true, Some(_)) => Credential::Microsoft,
    }
}

fn view(
    account: MailAccount,
    database: Option<&Path>,
    secrets: Option<&dyn SecretStore>,
    problem: &mut Option<String>,
) -> MailAccountView {
    let credential = credential(&account);
    let mut ask = |name: String| match secrets.map(|s| s.is_set(&name)) {
        Some(Ok(set)) => set,
        Some(Err(e)) => {
            *problem = Some(ShellError::from(e).message);
            false
        }
        None => false,
    };
    let (password_set, signed_in) = match credential {
        Credential::None => (false, false),
        Credential::Password => (ask(account.secret_name()), false),
        Credential::Microsoft => (false, ask(account.oauth_secret_name())),
    };
    MailAccountView {
        destination: account.destination(database),
        has_extra_ca: !account.extra_ca_pem.is_empty(),
        credential,
        password_set,
        signed_in,
        oauth: account.oauth.map(|o| OAuthView {
            tenant: o.tenant,
            client_id: o.client_id,
            authority: o.authority,
        }),
        name: account.name,
        kind: account.kind,
        from_address: account.from_address,
        from_name: account.from_name,
        username: account.username,
        is_default: account.is_default,
    }
}

/// The whole tab's data, read after every change so the page never shows a stale list.
pub(super) fn settings(
    store: &Store,
    secrets: &Result<Arc<dyn SecretStore>, ShellError>,
) -> Result<MailSettings, ShellError> {
    let list = accounts::list(&store.conn())?;
    let mut problem = secrets.as_ref().err().map(|e| e.message.clone());
    let secrets = secrets.as_ref().ok().map(|s| s.as_ref());
    let accounts = list
        .into_iter()
        .map(|a| view(a, store.path(), secrets, &mut problem))
        .collect();
    let presets = [AccountKind::Gmail, AccountKind::Microsoft365]
        .into_iter()
        .filter_map(|kind| {
            kind.preset().map(|(host, port, security)| Preset {
                kind,
                host,
                port,
                security,
            })
        })
        .collect();
    Ok(MailSettings {
        accounts,
        presets,
        default_authority: DEFAULT_AUTHORITY,
        max_ca_bytes: MAX_CA_PEM_BYTES,
        keyring_problem: problem,
    })
}

#[tauri::command]
pub async fn mail_accounts(state: State<'_, AppState>) -> Result<MailSettings, ShellError> {
    state.require_admin()?;
    let store = state.store()?;
    let secrets = state.secrets();
    blocking(move || settings(&store, &secrets)).await
}

/// The form as the page sends it: every field a string, as typed (the port too, so a
/// mistyped one gets a sentence rather than a deserialisation failure).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MailAccountForm {
    name: String,
    kind: String,
    host: String,
    port: String,
    security: String,
    username: String,
    from_address: String,
    from_name: String,
    extra_ca_pem: String,
    outbox_dir: String,
    oauth_tenant: String,
    oauth_client_id: String,
    oauth_authority: String,
}

fn port_arg(port: &str) -> Result<Option<u32>, ShellError> {
    let port = port.trim();
    if port.is_empty() {
        return Ok(None);
    }
    match port.parse::<u32>() {
        Ok(p @ 1..=65535) => Ok(Some(p)),
        _ => Err(ShellError::invalid_argument(
            "the port is a number from 1 to 65535, usually 587 (STARTTLS) or 465 (TLS)",
        )
        .on_field("port")),
    }
}

impl MailAccountForm {
    fn into_input(self) -> Result<AccountInput, ShellError> {
        if self.extra_ca_pem.len() > MAX_CA_PEM_BYTES + 1024 {
            return Err(ShellError::from(AccountError::Invalid {
                field: Some("extra_ca_pem"),
                message: "the extra CA certificate is larger than 64 KiB; use the certificate of the office's CA only".into(),
            })
            .on_field("extra_ca_pem"));
        }
        Ok(AccountInput {
            port: port_arg(&field_arg(self.port, "port")?)?,
            name: field_arg(self.name, "name")?,
            kind: field_arg(self.kind, "kind")?,
            host: field_arg(self.host, "host")?,
            security: field_arg(self.security, "security")?,
            username: field_arg(self.username, "username")?,
            from_address: field_arg(self.from_address, "from_address")?,
            from_name: field_arg(self.from_name, "from_name")?,
            extra_ca_pem: self.extra_ca_pem,
            outbox_dir: field_arg(self.outbox_dir, "outbox_dir")?,
            oauth_tenant: field_arg(self.oauth_tenant, "oauth_tenant")?,
            oauth_client_id: field_arg(self.oauth_client_id, "oauth_client_id")?,
            oauth_authority: field_arg(self.oauth_authority, "oauth_authority")?,
        })
    }
}

/// The form field a core refusal is about, so the page can put the sentence under it
/// (`None`: the sentence is about the form as a whole).
fn field_of(error: &AccountError) -> Option<&'static str> {
    match error {
        AccountError::EmptyName | AccountError::BadName | AccountError::Exists(_) => Some("name"),
        AccountError::UnknownKind(_) => Some("kind"),
        AccountError::UnknownSecurity(_) => Some("security"),
        AccountError::FromAddress(_) => Some("from_address"),
        AccountError::Invalid { field, .. } => *field,
        _ => None,
    }
}

fn refused(error: AccountError) -> ShellError {
    let field = field_of(&error);
    let shell = ShellError::from(error);
    match field {
        Some(field) => shell.on_field(field),
        None => shell,
    }
}

/// Adds an account from the form, and stores its password when one was typed. The password
/// is checked for before the account is added, and if the keyring then refuses it the
/// account is taken away again, so a failed save leaves nothing half-made.
#[tauri::command]
pub async fn mail_account_add(
    state: State<'_, AppState>,
    account: MailAccountForm,
    password: Option<String>,
) -> Result<MailSettings, ShellError> {
    state.require_admin()?;
    let input = account.into_input()?;
    let password = secret_arg(password, "password")?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    let secrets = state.secrets();
    blocking(move || {
        let candidate = accounts::validate(&input).map_err(refused)?;
        if password.is_some() && credential(&candidate) != Credential::Password {
            return Err(ShellError::invalid_argument(format!(
                "a {} account {} has no password; leave the password empty",
                candidate.kind,
                if candidate.oauth.is_some() {
                    "that signs in with Microsoft"
                } else {
                    "sends nowhere, so it"
                }
            ))
            .on_field("password"));
        }
        let keyring = match &password {
            Some(_) => Some(secrets.clone().map_err(|e| e.on_field("password"))?),
            None => None,
        };
        let mut conn = store.conn();
        let added = accounts::add(&mut conn, store.clock(), &actor, &input).map_err(refused)?;
        if let (Some(password), Some(keyring)) = (&password, &keyring) {
            let (clock, keyring, name) = (store.clock(), keyring.as_ref(), &added.name);
            keep_secret_or_undo(
                &mut conn,
                "password",
                "password",
                |conn| {
                    accounts::set_password(conn, clock, keyring, &actor, name, password)
                        .map_err(ShellError::from)
                },
                |conn| accounts::remove(conn, clock, keyring, &actor, name).is_ok(),
            )?;
        }
        drop(conn);
        settings(&store, &secrets)
    })
    .await
}

/// Stores or replaces an account's password in the keyring. Write-only: the answer says
/// "password set", never the password.
#[tauri::command]
pub async fn mail_account_set_password(
    state: State<'_, AppState>,
    name: String,
    password: String,
) -> Result<MailSettings, ShellError> {
    state.require_admin()?;
    let name = account_name_arg(&name)?;
    let password = secret_arg(Some(password), "password")?.ok_or_else(|| {
        ShellError::invalid_argument("type the password (or app password) first")
            .on_field("password")
    })?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    let secrets = state.secrets();
    blocking(move || {
        let keyring = secrets.clone().map_err(|e| e.on_field("password"))?;
        accounts::set_password(
            &store.conn(),
            store.clock(),
            keyring.as_ref(),
            &actor,
            &name,
            &password,
        )
        .map_err(|e| ShellError::from(e).on_field("password"))?;
        settings(&store, &secrets)
    })
    .await
}

/// Every code goes out through the default account from now on.
#[tauri::command]
pub async fn mail_account_set_default(
    state: State<'_, AppState>,
    name: String,
) -> Result<MailSettings, ShellError> {
    state.require_admin()?;
    let name = account_name_arg(&name)?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    let secrets = state.secrets();
    blocking(move || {
        accounts::set_default(&mut store.conn(), store.clock(), &actor, &name)?;
        settings(&store, &secrets)
    })
    .await
}

/// Removes an account that is not the default, with its password and Microsoft sign-in.
#[tauri::command]
pub async fn mail_account_remove(
    state: State<'_, AppState>,
    name: String,
) -> Result<MailSettings, ShellError> {
    state.require_admin()?;
    let name = account_name_arg(&name)?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    let secrets = state.secrets();
    let tokens = state.delivery().oauth_tokens;
    blocking(move || {
        let keyring = secrets.clone()?;
        let removed = accounts::remove(
            &mut store.conn(),
            store.clock(),
            keyring.as_ref(),
            &actor,
            &name,
        )?;
        // Its keyring entries went with it; the access token in memory goes too, or a new
        // account given the same row id could send with it.
        oauth::sign_out(&removed, keyring.as_ref(), &tokens)?;
        settings(&store, &secrets)
    })
    .await
}

/// An email address is at most 254 characters (RFC 5321); a little more is let through for
/// the core to explain.
const MAX_ADDRESS_CHARS: usize = 320;

/// Sends a sample message (code 123456, never a real one) and reports each step.
#[tauri::command]
pub async fn mail_test(
    state: State<'_, AppState>,
    name: String,
    to: String,
) -> Result<TestOutcome, ShellError> {
    state.require_admin()?;
    let name = account_name_arg(&name)?;
    let to = recipient_arg(&to, MAX_ADDRESS_CHARS, "email address")?;
    let actor = state.session().admin_actor();
    let store = state.store()?;
    let setup = state.delivery();
    blocking(move || {
        send_test(&store, &setup, &actor, &name, &to)
            .map(TestOutcome::from)
            .map_err(|e| {
                let shell = ShellError::from(e);
                if shell.kind == "invalid_contact" {
                    shell.on_field("to")
                } else {
                    shell
                }
            })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::super::hostile;
    use super::*;

    fn smtp_form() -> MailAccountForm {
        MailAccountForm {
            name: "Office server".into(),
            kind: "smtp".into(),
            host: "mail.example.com".into(),
            port: "587".into(),
            security: "starttls".into(),
            username: "desk".into(),
            from_address: "desk@example.com".into(),
            ..Default::default()
        }
    }

    /// The field the form would put the core's refusal under.
    fn refused_field(form: MailAccountForm) -> Option<String> {
        let input = match form.into_input() {
            Ok(input) => input,
            Err(e) => return e.fields.first().map(|f| f.field.clone()),
        };
        let error = accounts::validate(&input).expect_err("the core refuses it");
        refused(error).fields.first().map(|f| f.field.clone())
    }

    #[test]
    fn ports_are_numbers_from_1_to_65535() {
        assert_eq!(port_arg("").unwrap(), None);
        assert_eq!(port_arg(" 587 ").unwrap(), Some(587));
        assert_eq!(port_arg("65535").unwrap(), Some(65535));
        for bad in [
            "0",
            "65536",
            "-1",
            "5e2",
            "587; DROP",
            "4294967296",
            "٥٨٧",
            "1 2",
        ] {
            let e = port_arg(bad).unwrap_err();
            assert_eq!(e.fields[0].field, "port", "{bad:?}");
        }
        let e = smtp_form();
        let huge = MailAccountForm {
            port: hostile::megabyte(),
            ..e
        };
        assert_eq!(huge.into_input().unwrap_err().fields[0].field, "port");
    }

    #[test]
    fn a_good_form_becomes_the_cores_input() {
        let input = smtp_form().into_input().unwrap();
        assert_eq!(input.port, Some(587));
        let account = accounts::validate(&input).unwrap();
        assert_eq!(credential(&account), Credential::Password);
        let gmail = MailAccountForm {
            kind: "gmail".into(),
            host: String::new(),
            port: String::new(),
            security: String::new(),
            username: "office@gmail.com".into(),
            ..smtp_form()
        };
        let account = accounts::validate(&gmail.into_input().unwrap()).unwrap();
        assert_eq!(account.host, "smtp.gmail.com");
    }

    #[test]
    fn each_refusal_lands_under_its_field() {
        let cases: Vec<(MailAccountForm, &str)> = vec![
            (
                MailAccountForm {
                    name: String::new(),
                    ..smtp_form()
                },
                "name",
            ),
            (
                MailAccountForm {
                    name: "<b>x</b>".into(),
                    ..smtp_form()
                },
                "name",
            ),
            (
                MailAccountForm {
                    name: hostile::megabyte(),
                    ..smtp_form()
                },
                "name",
            ),
            (
                MailAccountForm {
                    kind: "pigeon".into(),
                    ..smtp_form()
                },
                "kind",
            ),
            (
                MailAccountForm {
                    host: String::new(),
                    ..smtp_form()
                },
                "host",
            ),
            (
                MailAccountForm {
                    host: "mail.example.com\r\nX: y".into(),
                    ..smtp_form()
                },
                "host",
            ),
            (
                MailAccountForm {
                    port: String::new(),
                    ..smtp_form()
                },
                "port",
            ),
            (
                MailAccountForm {
                    port: "70000".into(),
                    ..smtp_form()
                },
                "port",
            ),
            (
                MailAccountForm {
                    security: String::new(),
                    ..smtp_form()
                },
                "security",
            ),
            (
                MailAccountForm {
                    security: "ssl3".into(),
                    ..smtp_form()
                },
                "security",
            ),
            (
                MailAccountForm {
                    port: "465".into(),
                    ..smtp_form()
                },
                "security",
            ),
            (
                MailAccountForm {
                    port: "587".into(),
                    security: "tls".into(),
                    ..smtp_form()
                },
                "security",
            ),
            (
                MailAccountForm {
                    port: "25".into(),
                    security: "none".into(),
                    ..smtp_form()
                },
                "security",
            ),
            (
                MailAccountForm {
                    from_address: "not an address".into(),
                    ..smtp_form()
                },
                "from_address",
            ),
            (
                MailAccountForm {
                    from_address: "a@b.example\r\nBcc: x@y.example".into(),
                    ..smtp_form()
                },
                "from_address",
            ),
            (
                MailAccountForm {
                    from_name: "Desk\r\nBcc: all".into(),
                    ..smtp_form()
                },
                "from_name",
            ),
            (
                MailAccountForm {
                    from_name: "\u{202E}kseD".into(),
                    ..smtp_form()
                },
                "from_name",
            ),
            (
                MailAccountForm {
                    username: "a\u{0}b".into(),
                    ..smtp_form()
                },
                "username",
            ),
            (
                MailAccountForm {
                    extra_ca_pem: "not a certificate".into(),
                    ..smtp_form()
                },
                "extra_ca_pem",
            ),
            (
                MailAccountForm {
                    extra_ca_pem: hostile::megabyte(),
                    ..smtp_form()
                },
                "extra_ca_pem",
            ),
            (
                MailAccountForm {
                    oauth_tenant: "x'; DROP TABLE t;--".into(),
                    oauth_client_id: "4b7c3a9e-1f2d-4e5a-9b8c-0d1e2f3a4b5c".into(),
                    ..smtp_form()
                },
                "oauth_tenant",
            ),
            (
                MailAccountForm {
                    oauth_tenant: "organizations".into(),
                    oauth_client_id: "<script>".into(),
                    ..smtp_form()
                },
                "oauth_client_id",
            ),
            (
                MailAccountForm {
                    oauth_tenant: "organizations".into(),
                    ..smtp_form()
                },
                "oauth_client_id",
            ),
            (
                MailAccountForm {
                    oauth_client_id: "4b7c3a9e-1f2d-4e5a-9b8c-0d1e2f3a4b5c".into(),
                    ..smtp_form()
                },
                "oauth_tenant",
            ),
            (
                MailAccountForm {
                    oauth_tenant: "organizations".into(),
                    oauth_client_id: "4b7c3a9e-1f2d-4e5a-9b8c-0d1e2f3a4b5c".into(),
                    oauth_authority: "http://login.example.com".into(),
                    ..smtp_form()
                },
                "oauth_authority",
            ),
            (
                MailAccountForm {
                    kind: "outbox".into(),
                    host: String::new(),
                    port: String::new(),
                    security: String::new(),
                    username: String::new(),
                    outbox_dir: "/srv/out\u{202E}".into(),
                    ..smtp_form()
                },
                "outbox_dir",
            ),
            (
                MailAccountForm {
                    kind: "gmail".into(),
                    host: String::new(),
                    port: String::new(),
                    security: String::new(),
                    username: String::new(),
                    ..smtp_form()
                },
                "username",
            ),
        ];
        for (form, field) in cases {
            let shown = format!("{form:?}");
            let shown: String = shown.chars().take(200).collect();
            assert_eq!(refused_field(form).as_deref(), Some(field), "{shown}");
        }
    }

    #[test]
    fn an_outbox_or_console_account_has_no_credential_and_oauth_means_microsoft() {
        let outbox = accounts::validate(&AccountInput {
            name: "Shared outbox".into(),
            kind: "outbox".into(),
            from_address: "desk@example.com".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(credential(&outbox), Credential::None);
        let m365 = accounts::validate(&AccountInput {
            name: "Office 365".into(),
            kind: "microsoft365".into(),
            username: "desk@contoso.com".into(),
            from_address: "desk@contoso.com".into(),
            oauth_tenant: "contoso.com".into(),
            oauth_client_id: "4b7c3a9e-1f2d-4e5a-9b8c-0d1e2f3a4b5c".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(credential(&m365), Credential::Microsoft);
    }

    #[test]
    fn a_listed_account_says_whether_its_secret_is_set_and_never_what_it_is() {
        let secrets = otp_desk_core::secrets::MemorySecrets::new();
        let account = accounts::validate(&smtp_form().into_input().unwrap()).unwrap();
        let mut problem = None;
        let shown = serde_json::to_value(view(account.clone(), None, Some(&secrets), &mut problem))
            .unwrap();
        assert_eq!(shown["password_set"], false);
        secrets
            .set(&account.secret_name(), "hunter2-app-pass")
            .unwrap();
        let shown =
            serde_json::to_value(view(account, None, Some(&secrets), &mut problem)).unwrap();
        assert_eq!(shown["password_set"], true);
        assert_eq!(shown["credential"], "password");
        assert!(!shown.to_string().contains("hunter2"));
        assert!(problem.is_none());
    }
}
