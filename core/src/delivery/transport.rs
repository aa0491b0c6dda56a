//! One transport per account kind, chosen in one place.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::message::Mailbox;

use super::accounts::{AccountKind, MailAccount, Security as AccountSecurity};
use super::console::Console;
use super::oauth::{self, OAuthError, TokenCache};
use super::outbox::Outbox;
use super::sms_accounts::{SmsAccount, SmsAccountKind};
use super::smtp::{Security, SmtpAuth, SmtpConfig, SmtpTransport, StepResult};
use super::twilio::{self, Twilio};
use super::{DeliveryError, FailureClass, Message};
use crate::contact::Channel;
use crate::secrets::SecretStore;
use zeroize::Zeroizing;

/// What the caller of a transport provides besides the account.
#[derive(Clone, Default)]
pub struct Setup {
    /// The database file, whose folder holds the default outbox.
    pub database: Option<PathBuf>,
    pub console: Console,
    /// Where SMTP passwords are read from (the OS keyring in the app and the CLI).
    pub secrets: Option<Arc<dyn SecretStore>>,
    /// Pauses before the second, third, … try of a delivery that failed in a way that may
    /// pass (4xx, timeout, network). Tests set short ones.
    pub retry_delays: Vec<Duration>,
    /// SMTP transports kept between sends, so a desk's second code goes out over a warm,
    /// already signed-in connection. Shared by clones of this `Setup`.
    pub smtp_cache: Arc<Mutex<HashMap<i64, Cached>>>,
    /// OAuth access tokens, in memory only. Shared by clones of this `Setup`.
    pub oauth_tokens: Arc<TokenCache>,
    /// How long SMS requests and status tracking may take. Tests set short ones.
    pub sms: SmsTiming,
    /// The HTTP client for Twilio, built once. Shared by clones of this `Setup`.
    pub twilio: Arc<twilio::Clients>,
}

/// Time limits for text messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsTiming {
    /// The total time one request to Twilio may take, connecting included.
    pub request_timeout: Duration,
    /// The pause between two status questions while a message is tracked.
    pub poll_every: Duration,
    /// How long a message is tracked before the desk stops waiting for "delivered".
    pub track_for: Duration,
}

impl Default for SmsTiming {
    /// 15 s per request; the status asked every 1.5 s for up to 30 s, about as long as a
    /// customer at the counter waits for a text before asking for email instead.
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(15),
            poll_every: Duration::from_millis(1500),
            track_for: Duration::from_secs(30),
        }
    }
}

/// A transport and what it was built from; any change to the account or its password makes
/// a new one. For an OAuth account the credential is the access token, so a refreshed token
/// makes a new transport (and the pooled connections signed in with the old one are dropped).
pub struct Cached {
    account: MailAccount,
    credential: Zeroizing<String>,
    smtp: Arc<Smtp>,
}

/// Two more tries, after 2 and then 5 seconds: long enough for a busy server, short enough
/// for a customer waiting at the counter.
pub const RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(5)];

impl fmt::Debug for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setup")
            .field("database", &self.database)
            .field("secrets", &self.secrets.as_ref().map(|s| s.describe()))
            .finish_non_exhaustive()
    }
}

impl Setup {
    pub fn for_database(database: Option<&Path>) -> Self {
        Self {
            database: database.map(Path::to_path_buf),
            console: Console::stderr(),
            secrets: None,
            retry_delays: RETRY_DELAYS.to_vec(),
            smtp_cache: Arc::default(),
            oauth_tokens: Arc::default(),
            sms: SmsTiming::default(),
            twilio: Arc::default(),
        }
    }

    pub fn with_secrets(mut self, secrets: Arc<dyn SecretStore>) -> Self {
        self.secrets = Some(secrets);
        self
    }
}

#[derive(Debug)]
pub enum Transport {
    Outbox(Outbox),
    Console(Console),
    Smtp(Arc<Smtp>),
}

/// An SMTP account's transport and the runtime its sends run on. Callers of `send` are
/// synchronous (the CLI, the desk's blocking worker), so the transport brings a small
/// single-threaded runtime of its own.
pub struct Smtp {
    transport: SmtpTransport,
    runtime: tokio::runtime::Runtime,
    host: String,
}

impl fmt::Debug for Smtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smtp")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl Smtp {
    /// "Send test mail" for a server account: connect, TLS, sign in and send as separate
    /// steps, each timed, stopping at the first failure.
    pub fn test_steps(&self, to: &str) -> Vec<StepResult> {
        self.runtime.block_on(self.transport.test_steps(to))
    }

    fn for_account(account: &MailAccount, setup: &Setup) -> Result<Arc<Self>, DeliveryError> {
        let config_error = |m: String| DeliveryError::new(FailureClass::Configuration, m, &[]);
        let secrets = setup.secrets.as_ref().ok_or_else(|| {
            config_error("no secret store is available to read the account's password".into())
        })?;
        let (credential, auth) = if account.oauth.is_some() {
            let token = oauth::access_token(account, secrets.as_ref(), &setup.oauth_tokens)
                .map_err(|e| match e {
                    // The sign-in service being down is worth a retry; the rest needs an admin.
                    e @ OAuthError::Http(_) => {
                        DeliveryError::new(FailureClass::Network, e.to_string(), &[])
                    }
                    e => config_error(e.to_string()),
                })?;
            (token.clone(), SmtpAuth::OAuth2AccessToken(token))
        } else {
            let password = secrets
                .get(&account.secret_name())
                .map_err(|e| config_error(e.to_string()))?
                .ok_or_else(|| {
                    config_error(format!(
                        "no password is set for account \"{}\"; set it with `otp-desk-cli mail accounts set-password`",
                        account.name
                    ))
                })?;
            (password.clone(), SmtpAuth::Password(password))
        };
        let mut cache = setup.smtp_cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.get(&account.id) {
            if c.account == *account && c.credential.as_str() == credential.as_str() {
                return Ok(c.smtp.clone());
            }
        }
        let security = match account.security {
            AccountSecurity::Starttls => Security::StartTls,
            AccountSecurity::Tls => Security::ImplicitTls,
            AccountSecurity::None => Security::Plain,
        };
        // The sender's own domain is the most honest EHLO name a desk computer has.
        let ehlo_name = account
            .from_address
            .rsplit_once('@')
            .map(|(_, domain)| domain.to_string())
            .unwrap_or_else(|| "localhost".into());
        let config = SmtpConfig {
            host: account.host.clone(),
            port: account.port,
            security,
            username: account.username.clone(),
            from_address: account.from_address.clone(),
            from_name: account.from_name.clone(),
            ehlo_name,
            extra_root_pem: Some(account.extra_ca_pem.clone()).filter(|p| !p.trim().is_empty()),
            ..SmtpConfig::default()
        };
        let transport = SmtpTransport::new(&config, auth)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| config_error(format!("cannot start the mail sender: {e}")))?;
        let smtp = Arc::new(Self {
            transport,
            runtime,
            host: account.host.clone(),
        });
        cache.insert(
            account.id,
            Cached {
                account: account.clone(),
                credential,
                smtp: smtp.clone(),
            },
        );
        Ok(smtp)
    }
}

/// Where a message went: a file, or standard error. Shown to the clerk and recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub place: String,
    pub reply: String,
}

impl Transport {
    pub fn for_account(account: &MailAccount, setup: &Setup) -> Result<Self, DeliveryError> {
        match account.kind {
            AccountKind::Outbox => {
                let folder = account
                    .outbox_folder(setup.database.as_deref())
                    .map_err(|e| {
                        DeliveryError::new(FailureClass::Configuration, e.to_string(), &[])
                    })?;
                Ok(Transport::Outbox(Outbox { folder }))
            }
            AccountKind::Console => Ok(Transport::Console(setup.console.clone())),
            AccountKind::Gmail | AccountKind::Microsoft365 | AccountKind::Smtp => {
                Ok(Transport::Smtp(Smtp::for_account(account, setup)?))
            }
        }
    }

    /// Sends one message. `stamp` names the message where a transport needs a name (the
    /// outbox file).
    pub fn send(
        &self,
        from: &Mailbox,
        msg: &Message,
        stamp: &str,
    ) -> Result<Delivered, DeliveryError> {
        match self {
            Transport::Outbox(outbox) => {
                let path = outbox.deliver(from, msg, stamp)?;
                Ok(Delivered {
                    place: path.display().to_string(),
                    reply: "written to the outbox".into(),
                })
            }
            Transport::Console(console) => {
                console.deliver(from, msg)?;
                Ok(Delivered {
                    place: "standard error (development only)".into(),
                    reply: "printed to the console".into(),
                })
            }
            Transport::Smtp(smtp) => {
                let sent = smtp.runtime.block_on(smtp.transport.send(msg))?;
                Ok(Delivered {
                    place: format!("{} via {}", msg.masked_to, smtp.host),
                    reply: sent.reply,
                })
            }
        }
    }
}

/// How a text message leaves: through Twilio, or printed to the console.
#[derive(Debug)]
pub enum SmsTransport {
    Console { console: Console, account: String },
    Twilio(Twilio),
}

/// A text message handed over: where it went, and what the provider said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsHandedOver {
    pub place: String,
    pub reply: String,
    /// Twilio's message SID; empty for the console.
    pub provider_id: String,
    /// The provider's first status (`queued`, …); `delivered` for the console, which
    /// delivers on the spot.
    pub status: String,
}

impl SmsTransport {
    pub fn for_account(account: &SmsAccount, setup: &Setup) -> Result<Self, DeliveryError> {
        let config_error =
            |m: String| DeliveryError::new(FailureClass::Configuration, m, &[]).on(Channel::Sms);
        match account.kind {
            SmsAccountKind::Console => Ok(SmsTransport::Console {
                console: setup.console.clone(),
                account: account.name.clone(),
            }),
            SmsAccountKind::Twilio => {
                let secrets = setup.secrets.as_ref().ok_or_else(|| {
                    config_error("no secret store is available to read the auth token".into())
                })?;
                let token = secrets
                    .get(&account.secret_name())
                    .map_err(|e| config_error(e.to_string()))?
                    .ok_or_else(|| {
                        config_error(format!(
                            "no auth token is set for SMS account \"{}\"; set it with `otp-desk-cli sms accounts set-token`",
                            account.name
                        ))
                    })?;
                let client = setup.twilio.get(setup.sms.request_timeout)?;
                Ok(SmsTransport::Twilio(Twilio::new(account, token, client)))
            }
        }
    }

    /// Sends one text message.
    pub fn send(&self, msg: &Message) -> Result<SmsHandedOver, DeliveryError> {
        match self {
            SmsTransport::Console { console, account } => {
                console.deliver_sms(account, msg)?;
                Ok(SmsHandedOver {
                    place: "standard error (development only)".into(),
                    reply: "printed to the console".into(),
                    provider_id: String::new(),
                    status: "delivered".into(),
                })
            }
            SmsTransport::Twilio(t) => {
                let accepted = t.send(&msg.to, &msg.masked_to, &msg.text)?;
                Ok(SmsHandedOver {
                    place: format!("{} via Twilio ({})", msg.masked_to, t.host()),
                    reply: format!(
                        "accepted by Twilio as {}, status {}",
                        accepted.sid, accepted.status
                    ),
                    provider_id: accepted.sid,
                    status: accepted.status,
                })
            }
        }
    }
}
