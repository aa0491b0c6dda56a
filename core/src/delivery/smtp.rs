//! Mail through an SMTP server: one pooled transport per account, every send bounded by a
//! total timeout, every failure classified once.
//!
//! - Security: STARTTLS required (port 587 style), implicit TLS (465 style), or plain, which
//!   is allowed only to this computer (a local relay). The two TLS modes on the other one's
//!   standard port are refused before any connection, because the symptom on the wire (a
//!   stalled greeting or a garbled handshake) tells an admin nothing.
//! - TLS: rustls with the ring provider and the platform verifier (on Linux the system CA
//!   store), plus an optional extra root certificate for an office server with its own CA.
//! - Authentication: PLAIN/LOGIN for a password or app password, XOAUTH2 for an OAuth access
//!   token (Microsoft 365 after basic authentication is switched off).
//! - Every send (taking a pooled connection or opening one, then MAIL/RCPT/DATA) runs inside
//!   one `tokio::time::timeout`: lettre's own timeout covers connecting only, and a server
//!   that stalls in the middle of a send must still end as a timeout.
//! - lettre speaks SMTP (`AsyncSmtpConnection`); the sockets, implicit TLS and the pool are
//!   ours (see `SmtpTransport` for why).
//!
//! lettre copies the credentials into its own, non-zeroizing `Credentials`, kept as long as
//! the transport; our copies (`Message`, `SmtpAuth`, the wire bytes) are wiped.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters, TlsParametersBuilder,
};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use lettre::Address;
use rustls::pki_types::ServerName;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use zeroize::Zeroizing;

use super::{DeliveryError, FailureClass, Message};

/// The total time one send may take, connection included, unless the account says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which the server must offer (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    ImplicitTls,
    /// No encryption: only to a relay on this computer.
    Plain,
}

/// One mail account's server settings. No secret lives here: see `SmtpAuth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The login name; for most providers the mailbox address.
    pub username: String,
    pub from_address: String,
    /// Display name in From; may be empty.
    pub from_name: String,
    /// The name sent in EHLO: a domain name or an IP address.
    pub ehlo_name: String,
    /// A PEM certificate (or several) trusted in addition to the system's roots.
    pub extra_root_pem: Option<String>,
    /// Total time allowed for one send, connecting included.
    pub timeout: Duration,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            security: Security::StartTls,
            username: String::new(),
            from_address: String::new(),
            from_name: String::new(),
            ehlo_name: "localhost".into(),
            extra_root_pem: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// How the account signs in. The secret is wiped when dropped and never shown by `Debug`.
pub enum SmtpAuth {
    /// A password or app password, sent with AUTH PLAIN or LOGIN.
    Password(Zeroizing<String>),
    /// An OAuth 2.0 access token, sent with AUTH XOAUTH2.
    OAuth2AccessToken(Zeroizing<String>),
    /// No sign-in (a local relay).
    None,
}

impl fmt::Debug for SmtpAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SmtpAuth::Password(_) => "Password([hidden])",
            SmtpAuth::OAuth2AccessToken(_) => "OAuth2AccessToken([hidden])",
            SmtpAuth::None => "None",
        })
    }
}

/// Why a configuration is refused before any connection is tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the server host name is empty")]
    EmptyHost,
    #[error("the server host name \"{0}\" is not valid")]
    BadHost(String),
    #[error("the port must be between 1 and 65535")]
    BadPort,
    #[error("port 465 expects implicit TLS (encrypted from the first byte), not STARTTLS; choose implicit TLS, or port 587 for STARTTLS")]
    StartTlsOn465,
    #[error("port 587 expects STARTTLS, not implicit TLS; choose STARTTLS, or port 465 for implicit TLS")]
    ImplicitTlsOn587,
    #[error("an unencrypted connection is allowed only to this computer (localhost), not to \"{0}\"; choose STARTTLS or implicit TLS")]
    PlainNotLocal(String),
    #[error("the sender address \"{0}\" is not a valid email address")]
    BadFrom(String),
    #[error("the EHLO name \"{0}\" must be a domain name or an IP address")]
    BadEhloName(String),
    #[error("the extra root certificate is not a PEM certificate ({0})")]
    BadRootCertificate(String),
    #[error("the user name is empty")]
    EmptyUsername,
    #[error("the password or access token is empty")]
    EmptySecret,
    #[error("the timeout must be between 1 second and 10 minutes")]
    BadTimeout,
}

impl ConfigError {
    /// A security mode on the other mode's port is a TLS mistake in the admin's eyes (and in
    /// the hint they will read); everything else is an incomplete account.
    pub fn class(&self) -> FailureClass {
        match self {
            ConfigError::StartTlsOn465 | ConfigError::ImplicitTlsOn587 => FailureClass::Tls,
            _ => FailureClass::Configuration,
        }
    }
}

fn is_local_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1" || host == "::1"
}

fn is_domain_like(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

impl SmtpConfig {
    /// Checks everything that can be checked without the network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let host = self.host.trim();
        if host.is_empty() {
            return Err(ConfigError::EmptyHost);
        }
        if host.parse::<IpAddr>().is_err() && !is_domain_like(host) {
            return Err(ConfigError::BadHost(crate::contact::shorten(host)));
        }
        if self.port == 0 {
            return Err(ConfigError::BadPort);
        }
        match (self.port, self.security) {
            (465, Security::StartTls) => return Err(ConfigError::StartTlsOn465),
            (587, Security::ImplicitTls) => return Err(ConfigError::ImplicitTlsOn587),
            (_, Security::Plain) if !is_local_host(host) => {
                return Err(ConfigError::PlainNotLocal(crate::contact::shorten(host)))
            }
            _ => {}
        }
        if self.from_address.trim().parse::<Address>().is_err() {
            return Err(ConfigError::BadFrom(crate::contact::shorten(
                &self.from_address,
            )));
        }
        ehlo_id(&self.ehlo_name)?;
        if self.timeout < Duration::from_secs(1) || self.timeout > Duration::from_secs(600) {
            return Err(ConfigError::BadTimeout);
        }
        Ok(())
    }
}

fn ehlo_id(name: &str) -> Result<ClientId, ConfigError> {
    let name = name.trim();
    match name.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => Ok(ClientId::Ipv4(a)),
        Ok(IpAddr::V6(a)) => Ok(ClientId::Ipv6(a)),
        Err(_) if is_domain_like(name) => Ok(ClientId::Domain(name.to_string())),
        Err(_) => Err(ConfigError::BadEhloName(crate::contact::shorten(name))),
    }
}

/// A message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sent {
    /// The server's final reply, e.g. "250 2.0.0 OK queued as 12".
    pub reply: String,
    pub duration: Duration,
}

/// One stage of "Send test mail".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Connect,
    Tls,
    Authenticate,
    Send,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Connect => "connect",
            Step::Tls => "tls",
            Step::Authenticate => "authenticate",
            Step::Send => "send",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepResult {
    pub step: Step,
    pub ok: bool,
    pub millis: u64,
    pub error: Option<DeliveryError>,
}

/// Warm connections kept for the next send. A desk sends a handful of codes a minute, so
/// two are plenty.
const POOL_SIZE: usize = 2;
/// Servers drop idle connections after a minute or so; older ones are not tried.
const IDLE_LIMIT: Duration = Duration::from_secs(50);

struct Idle {
    conn: AsyncSmtpConnection,
    since: Instant,
}

/// A mail account's transport. Build it once per account and keep it: it holds the
/// connection pool, so later sends skip the connection, TLS and sign-in.
///
/// The pool and the sockets are ours rather than lettre's `AsyncSmtpTransport`, for two
/// reasons: lettre opens its sockets without TCP_NODELAY and writes the message and the
/// closing "." separately, so the "." waited for the server's delayed ACK (40 ms on Linux,
/// up to 200 ms elsewhere) on every send; and its pool spawns tasks on creation and drop,
/// which panics outside a Tokio runtime. The SMTP conversation (EHLO, STARTTLS, AUTH,
/// MAIL/RCPT/DATA) is still lettre's `AsyncSmtpConnection`; implicit TLS is set up here
/// (lettre would open that socket itself) with the same verifier.
pub struct SmtpTransport {
    idle: Mutex<Vec<Idle>>,
    host: String,
    port: u16,
    security: Security,
    /// STARTTLS goes through lettre, which takes its own parameters.
    tls: Option<TlsParameters>,
    /// Implicit TLS is set up here, with the same verifier and roots.
    implicit: Option<tokio_rustls::TlsConnector>,
    hello: ClientId,
    login: Option<(Credentials, Vec<Mechanism>)>,
    from: Mailbox,
    timeout: Duration,
    /// Scrubbed from every error detail.
    secret: Zeroizing<String>,
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .finish_non_exhaustive()
    }
}

impl SmtpTransport {
    /// Validates the settings and prepares the transport. Nothing is sent yet.
    pub fn new(config: &SmtpConfig, auth: SmtpAuth) -> Result<Self, DeliveryError> {
        let refuse = |e: ConfigError| DeliveryError::new(e.class(), e.to_string(), &[]);
        config.validate().map_err(refuse)?;
        let host = config.host.trim().to_string();
        let hello = ehlo_id(&config.ehlo_name).map_err(refuse)?;

        let (secret, login) = match auth {
            SmtpAuth::None => (Zeroizing::new(String::new()), None),
            SmtpAuth::Password(p) => (p, Some(vec![Mechanism::Plain, Mechanism::Login])),
            SmtpAuth::OAuth2AccessToken(t) => (t, Some(vec![Mechanism::Xoauth2])),
        };
        let login = match login {
            None => None,
            Some(mechanisms) => {
                if config.username.trim().is_empty() {
                    return Err(refuse(ConfigError::EmptyUsername));
                }
                if secret.is_empty() {
                    return Err(refuse(ConfigError::EmptySecret));
                }
                let creds = Credentials::new(
                    config.username.trim().to_string(),
                    secret.as_str().to_string(),
                );
                Some((creds, mechanisms))
            }
        };

        let extra_root = config.extra_root_pem.as_deref();
        let (tls, implicit) = match config.security {
            Security::Plain => (None, None),
            Security::StartTls => (Some(tls_parameters(&host, extra_root)?), None),
            Security::ImplicitTls => (None, Some(tls_connector(extra_root)?)),
        };

        let from_address: Address =
            config
                .from_address
                .trim()
                .parse()
                .map_err(|e: lettre::address::AddressError| {
                    DeliveryError::new(FailureClass::Configuration, e.to_string(), &[])
                })?;
        let from_name = config.from_name.trim();
        let from = Mailbox::new(
            (!from_name.is_empty()).then(|| from_name.to_string()),
            from_address,
        );

        Ok(Self {
            idle: Mutex::new(Vec::new()),
            host,
            port: config.port,
            security: config.security,
            tls,
            implicit,
            hello,
            login,
            from,
            timeout: config.timeout,
            secret,
        })
    }

    /// Sends one message, bounded by the account's total timeout (connecting included).
    pub async fn send(&self, msg: &Message) -> Result<Sent, DeliveryError> {
        let email = self.build(msg)?;
        let envelope = email.envelope().clone();
        let bytes = Zeroizing::new(email.formatted());
        drop(email);
        let started = Instant::now();
        let work = async {
            let mut conn = self.checkout().await?;
            let response = conn
                .send(&envelope, &bytes)
                .await
                .map_err(|e| self.classify_for(&e, msg))?;
            self.checkin(conn);
            Ok(response)
        };
        let response = match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r?,
            Err(_) => return Err(self.timed_out()),
        };
        Ok(Sent {
            reply: reply_text(&response),
            duration: started.elapsed(),
        })
    }

    /// "Send test mail": connects, secures, signs in and sends on a fresh connection (never
    /// a pooled one), timing each step, and stops at the first failure.
    ///
    /// With STARTTLS (and plain) the connect step is TCP, greeting and EHLO, and the TLS
    /// step is STARTTLS, the handshake and the second EHLO. With implicit TLS the connect
    /// step is TCP alone and the TLS step the handshake, greeting and EHLO. Plain has no TLS
    /// step; an account without sign-in has no authenticate step.
    pub async fn test_steps(&self, to: &str) -> Vec<StepResult> {
        let mut steps = Vec::new();

        let connect = async {
            let tcp = self.tcp().await?;
            match self.implicit {
                Some(_) => Ok((None, Some(tcp))),
                None => self.greet(Box::new(tcp)).await.map(|c| (Some(c), None)),
            }
        };
        let Some(opened) = self.step(&mut steps, Step::Connect, connect).await else {
            return steps;
        };

        let mut conn = match (opened, &self.implicit, &self.tls) {
            ((_, Some(tcp)), Some(connector), _) => {
                let secure = self.wrap(connector, tcp);
                match self.step(&mut steps, Step::Tls, secure).await {
                    Some(c) => c,
                    None => return steps,
                }
            }
            ((Some(mut c), _), _, Some(tls)) => {
                let upgrade = self.starttls(&mut c, tls);
                if self.step(&mut steps, Step::Tls, upgrade).await.is_none() {
                    return steps;
                }
                c
            }
            ((Some(c), _), _, None) => c,
            ((None, _), _, _) => return steps,
        };

        if self.login.is_some() {
            let auth = self.sign_in(&mut conn);
            if self
                .step(&mut steps, Step::Authenticate, auth)
                .await
                .is_none()
            {
                // QUIT politely, but a stalled server must not hold the test past its time.
                let _ = tokio::time::timeout(self.timeout, conn.abort()).await;
                return steps;
            }
        }

        let msg = test_message(to);
        let send = async {
            let email = self.build(&msg)?;
            let response = conn
                .send(email.envelope(), &email.formatted())
                .await
                .map_err(|e| self.classify_for(&e, &msg))?;
            Ok(response)
        };
        if self.step(&mut steps, Step::Send, send).await.is_some() {
            // The message is accepted; a failing QUIT changes nothing about that.
            let _ = tokio::time::timeout(self.timeout, conn.quit()).await;
        }
        steps
    }

    /// A warm connection if one is still alive, else a new one, secured and signed in.
    async fn checkout(&self) -> Result<AsyncSmtpConnection, DeliveryError> {
        loop {
            let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let Some(Idle { mut conn, since }) = idle else {
                break;
            };
            // NOOP first (one round trip), as lettre's pool does: a connection the server
            // closed while idle must not turn into a failed send.
            if since.elapsed() < IDLE_LIMIT && conn.test_connected().await {
                return Ok(conn);
            }
        }
        self.open().await
    }

    fn checkin(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < POOL_SIZE {
            idle.push(Idle {
                conn,
                since: Instant::now(),
            });
        }
    }

    async fn open(&self) -> Result<AsyncSmtpConnection, DeliveryError> {
        let tcp = self.tcp().await?;
        let mut conn = match (&self.implicit, &self.tls) {
            (Some(connector), _) => self.wrap(connector, tcp).await?,
            (None, Some(tls)) => {
                let mut conn = self.greet(Box::new(tcp)).await?;
                self.starttls(&mut conn, tls).await?;
                conn
            }
            (None, None) => self.greet(Box::new(tcp)).await?,
        };
        self.sign_in(&mut conn).await?;
        Ok(conn)
    }

    async fn tcp(&self) -> Result<TcpStream, DeliveryError> {
        let stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| self.fail(&e))?;
        // See the type's comment: without this every send waits for a delayed ACK. A socket
        // that refuses the option still works, only slower.
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    /// Reads the greeting and sends EHLO.
    async fn greet(
        &self,
        stream: Box<dyn AsyncTokioStream>,
    ) -> Result<AsyncSmtpConnection, DeliveryError> {
        AsyncSmtpConnection::connect_with_transport(stream, &self.hello)
            .await
            .map_err(|e| self.classify(&e))
    }

    /// Implicit TLS: the handshake, then the greeting and EHLO inside it.
    async fn wrap(
        &self,
        connector: &tokio_rustls::TlsConnector,
        tcp: TcpStream,
    ) -> Result<AsyncSmtpConnection, DeliveryError> {
        let name = ServerName::try_from(self.host.clone())
            .map_err(|e| DeliveryError::new(FailureClass::Configuration, e.to_string(), &[]))?;
        let stream = connector
            .connect(name, tcp)
            .await
            .map_err(|e| self.fail(&e))?;
        self.greet(Box::new(TlsSocket(stream))).await
    }

    /// STARTTLS, required: a server that does not offer it fails here, before any secret
    /// is sent.
    async fn starttls(
        &self,
        conn: &mut AsyncSmtpConnection,
        tls: &TlsParameters,
    ) -> Result<(), DeliveryError> {
        conn.starttls(tls.clone(), &self.hello)
            .await
            .map_err(|e| self.classify(&e))
    }

    async fn sign_in(&self, conn: &mut AsyncSmtpConnection) -> Result<(), DeliveryError> {
        let Some((creds, mechanisms)) = &self.login else {
            return Ok(());
        };
        conn.auth(mechanisms, creds)
            .await
            .map(|_| ())
            .map_err(|e| self.classify(&e))
    }

    /// Runs one test step within the timeout and records it; `None` when it failed.
    async fn step<T>(
        &self,
        steps: &mut Vec<StepResult>,
        step: Step,
        work: impl Future<Output = Result<T, DeliveryError>>,
    ) -> Option<T> {
        let started = Instant::now();
        let result = match tokio::time::timeout(self.timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(self.timed_out()),
        };
        let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (ok, error, value) = match result {
            Ok(v) => (true, None, Some(v)),
            Err(e) => (false, Some(e), None),
        };
        steps.push(StepResult {
            step,
            ok,
            millis,
            error,
        });
        value
    }

    fn timed_out(&self) -> DeliveryError {
        DeliveryError::new(
            FailureClass::Timeout,
            format!("no answer within {} s", self.timeout.as_secs()),
            &[],
        )
    }

    fn fail(&self, e: &(dyn StdError + 'static)) -> DeliveryError {
        use std::io::ErrorKind as K;
        let class = match e.downcast_ref::<std::io::Error>() {
            Some(io) if is_rustls(io) || io.kind() == K::InvalidData => FailureClass::Tls,
            Some(io) if io.kind() == K::TimedOut => FailureClass::Timeout,
            Some(io) if matches!(io.kind(), K::ConnectionReset | K::UnexpectedEof) => {
                FailureClass::Transient
            }
            _ => FailureClass::Network,
        };
        DeliveryError::new(class, e.to_string(), &[self.secret.as_str()])
    }

    fn classify(&self, e: &lettre::transport::smtp::Error) -> DeliveryError {
        DeliveryError::new(classify(e), detail(e), &[self.secret.as_str()])
    }

    /// As `classify`, and the recipient's address, which servers quote in their replies
    /// ("550 5.1.1 <ann@example.org>: unknown"), is masked like everywhere else in records.
    fn classify_for(&self, e: &lettre::transport::smtp::Error, msg: &Message) -> DeliveryError {
        let mut text = detail(e);
        let to = msg.to.trim();
        if !to.is_empty() {
            text = text.replace(to, &msg.masked_to);
        }
        DeliveryError::new(classify(e), text, &[self.secret.as_str()])
    }

    fn build(&self, msg: &Message) -> Result<lettre::Message, DeliveryError> {
        super::email::build(&self.from, msg)
    }
}

/// The account's extra root certificates, each checked the way rustls will use it, so a
/// bad paste is a configuration error now rather than a TLS failure at the first send.
fn extra_roots(
    extra_root_pem: Option<&str>,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, DeliveryError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    let bad_root = |reason: String| {
        let e = ConfigError::BadRootCertificate(reason);
        DeliveryError::new(e.class(), e.to_string(), &[])
    };
    let Some(pem) = extra_root_pem.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(Vec::new());
    };
    let mut roots = Vec::new();
    let mut store = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert = cert.map_err(|e| bad_root(e.to_string()))?;
        store
            .add(cert.clone())
            .map_err(|e| bad_root(e.to_string()))?;
        roots.push(cert);
    }
    if roots.is_empty() {
        return Err(bad_root("no certificate found".into()));
    }
    Ok(roots)
}

/// STARTTLS parameters for lettre: the platform verifier plus the extra roots.
fn tls_parameters(
    host: &str,
    extra_root_pem: Option<&str>,
) -> Result<TlsParameters, DeliveryError> {
    let mut builder = TlsParametersBuilder::new(host.to_string());
    for der in extra_roots(extra_root_pem)? {
        let cert = Certificate::from_der(der.to_vec()).map_err(|e| {
            let e = ConfigError::BadRootCertificate(describe(&e));
            DeliveryError::new(e.class(), e.to_string(), &[])
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|e| DeliveryError::new(FailureClass::Tls, describe(&e), &[]))
}

fn test_message(to: &str) -> Message {
    Message {
        to: to.to_string(),
        masked_to: crate::contact::mask_email(to),
        subject: "OTP Desk test message".into(),
        text: Zeroizing::new(
            "This is a test message from OTP Desk. The mail account works.\n".into(),
        ),
        html: Zeroizing::new(
            "<p>This is a test message from OTP Desk. The mail account works.</p>\n".into(),
        ),
    }
}

fn reply_text(r: &Response) -> String {
    let lines: Vec<&str> = r.message().collect();
    format!("{} {}", r.code(), lines.join(" "))
}

/// What is kept of a failure (the record holds 60 characters): the server's reply as
/// "550 5.1.1 …" for a reply, else the innermost cause ("Connection refused", "invalid peer
/// certificate: UnknownIssuer"), since the outer layers only say "Connection error".
fn detail(e: &lettre::transport::smtp::Error) -> String {
    if let Some(code) = e.status() {
        let text = e.source().map(|s| s.to_string()).unwrap_or_default();
        return format!("{code} {text}").trim().to_string();
    }
    let mut last: &(dyn StdError + 'static) = e;
    while let Some(s) = last.source() {
        last = s;
    }
    last.to_string()
}

/// Every layer's text, for errors outside lettre's SMTP conversation.
fn describe(e: &(dyn StdError + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let inner = s.to_string();
        if !text.contains(&inner) {
            text = format!("{text}: {inner}");
        }
        source = s.source();
    }
    text
}

fn is_rustls(io: &std::io::Error) -> bool {
    io.get_ref()
        .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
}

/// The implicit-TLS client: ring, the platform verifier (the system's roots) plus the
/// account's extra root, as lettre configures it for STARTTLS.
fn tls_connector(
    extra_root_pem: Option<&str>,
) -> Result<tokio_rustls::TlsConnector, DeliveryError> {
    let extra = extra_roots(extra_root_pem)?;
    let tls_error = |e: rustls::Error| DeliveryError::new(FailureClass::Tls, e.to_string(), &[]);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, Arc::clone(&provider))
            .map_err(tls_error)?;
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        // "dangerous" only names the hook for a custom verifier; this one verifies fully.
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// A TLS stream lettre can drive as if it were its own socket.
struct TlsSocket(tokio_rustls::client::TlsStream<TcpStream>);

impl fmt::Debug for TlsSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsSocket")
    }
}

impl AsyncTokioStream for TlsSocket {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for TlsSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

/// Sorts a negative server reply: Microsoft 365's two "use OAuth" replies first (they come
/// with 535 and 550), then credentials, then the reply class.
pub fn classify_reply(code: u16, text: &str) -> FailureClass {
    let lower = text.to_ascii_lowercase();
    if lower.contains("5.7.139") {
        FailureClass::TenantSmtpAuthDisabled
    } else if lower.contains("5.7.30") || lower.contains("basic authentication is not supported") {
        FailureClass::BasicAuthRemoved
    } else if code == 535 || code == 534 {
        // 534 is Gmail's "application-specific password required".
        FailureClass::Authentication
    } else if (400..500).contains(&code) {
        FailureClass::Transient
    } else {
        FailureClass::Permanent
    }
}

/// Sorts any lettre error into one class. lettre reports a failed TLS handshake as a
/// connection error, so the rustls error is looked for in the chain of causes (tokio-rustls
/// hides it inside an `io::Error`, whose `source()` skips it: hence `get_ref`).
pub fn classify(e: &lettre::transport::smtp::Error) -> FailureClass {
    use std::io::ErrorKind as K;

    if let Some(code) = e.status() {
        return classify_reply(u16::from(code), &e.to_string());
    }
    let mut io_kind = None;
    let mut source: Option<&(dyn StdError + 'static)> = e.source();
    while let Some(s) = source {
        if s.downcast_ref::<rustls::Error>().is_some() {
            return FailureClass::Tls;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if is_rustls(io) {
                return FailureClass::Tls;
            }
            io_kind.get_or_insert(io.kind());
        }
        source = s.source();
    }
    if e.is_tls() {
        return FailureClass::Tls;
    }
    if e.is_timeout() {
        return FailureClass::Timeout;
    }
    match io_kind {
        Some(
            K::ConnectionRefused | K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable,
        ) => return FailureClass::Network,
        Some(K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof) => {
            return FailureClass::Transient
        }
        _ => {}
    }
    let text = e.to_string();
    if text.starts_with("Connection error") {
        // Name lookups and the like: the server was never reached.
        FailureClass::Network
    } else if text.contains("STARTTLS is not supported") {
        FailureClass::Tls
    } else if text.contains("No compatible authentication mechanism") {
        FailureClass::Authentication
    } else if e.is_response() || text.starts_with("network error") {
        // The connection broke mid-conversation (e.g. "incomplete response" during DATA).
        FailureClass::Transient
    } else {
        FailureClass::Permanent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(host: &str, port: u16, security: Security) -> SmtpConfig {
        SmtpConfig {
            host: host.into(),
            port,
            security,
            username: "desk@example.com".into(),
            from_address: "desk@example.com".into(),
            ..SmtpConfig::default()
        }
    }

    #[test]
    fn security_must_match_the_standard_ports() {
        assert_eq!(
            config("smtp.example.com", 465, Security::StartTls).validate(),
            Err(ConfigError::StartTlsOn465)
        );
        assert_eq!(
            config("smtp.example.com", 587, Security::ImplicitTls).validate(),
            Err(ConfigError::ImplicitTlsOn587)
        );
        assert_eq!(ConfigError::StartTlsOn465.class(), FailureClass::Tls);
        for ok in [
            config("smtp.example.com", 587, Security::StartTls),
            config("smtp.example.com", 465, Security::ImplicitTls),
            config("smtp.example.com", 2525, Security::StartTls),
        ] {
            assert_eq!(ok.validate(), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn plain_only_to_this_computer() {
        for host in ["localhost", "127.0.0.1", "::1", "LOCALHOST"] {
            assert_eq!(
                config(host, 25, Security::Plain).validate(),
                Ok(()),
                "{host}"
            );
        }
        for host in ["smtp.example.com", "10.0.0.5", "localhost.evil.com"] {
            assert!(
                matches!(
                    config(host, 25, Security::Plain).validate(),
                    Err(ConfigError::PlainNotLocal(_))
                ),
                "{host}"
            );
        }
    }

    #[test]
    fn hostile_settings_are_refused() {
        let mut c = config("", 587, Security::StartTls);
        assert_eq!(c.validate(), Err(ConfigError::EmptyHost));
        c.host = "smtp.example.com\r\nRCPT TO:<x@y>".into();
        assert!(matches!(c.validate(), Err(ConfigError::BadHost(_))));
        c.host = "smtp.example.com".into();
        c.port = 0;
        assert_eq!(c.validate(), Err(ConfigError::BadPort));
        c.port = 587;
        c.from_address = "not an address".into();
        assert!(matches!(c.validate(), Err(ConfigError::BadFrom(_))));
        c.from_address = "desk@example.com".into();
        c.ehlo_name = "bad name\r\n".into();
        assert!(matches!(c.validate(), Err(ConfigError::BadEhloName(_))));
        c.ehlo_name = "desk.example.com".into();
        c.timeout = Duration::ZERO;
        assert_eq!(c.validate(), Err(ConfigError::BadTimeout));
    }

    #[test]
    fn missing_secrets_and_bad_certificates_are_configuration_errors() {
        let c = config("smtp.example.com", 587, Security::StartTls);
        let e =
            SmtpTransport::new(&c, SmtpAuth::Password(Zeroizing::new(String::new()))).unwrap_err();
        assert_eq!(e.class, FailureClass::Configuration);
        // Both TLS modes read the extra root (lettre's parameters, our connector).
        for (port, security) in [(587, Security::StartTls), (465, Security::ImplicitTls)] {
            for pem in [
                "-----BEGIN CERTIFICATE-----\nnope\n",
                "-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n",
                "no PEM at all",
            ] {
                let mut c2 = config("smtp.example.com", port, security);
                c2.extra_root_pem = Some(pem.into());
                let e = SmtpTransport::new(&c2, SmtpAuth::None).unwrap_err();
                assert_eq!(
                    e.class,
                    FailureClass::Configuration,
                    "{security:?} {pem:?}: {}",
                    e.detail
                );
            }
        }
    }

    #[test]
    fn replies_are_sorted_microsoft_first() {
        let c = classify_reply;
        assert_eq!(
            c(535, "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant"),
            FailureClass::TenantSmtpAuthDisabled
        );
        assert_eq!(
            c(
                550,
                "5.7.30 Basic authentication is not supported for Client Submission"
            ),
            FailureClass::BasicAuthRemoved
        );
        assert_eq!(
            c(535, "Basic authentication is not supported"),
            FailureClass::BasicAuthRemoved
        );
        assert_eq!(
            c(535, "5.7.8 Username and Password not accepted"),
            FailureClass::Authentication
        );
        assert_eq!(c(451, "4.3.0 try later"), FailureClass::Transient);
        assert_eq!(c(421, "4.7.0 too many"), FailureClass::Transient);
        assert_eq!(c(550, "5.1.1 user unknown"), FailureClass::Permanent);
        assert_eq!(c(554, ""), FailureClass::Permanent);
    }

    #[test]
    fn needs_no_runtime_to_be_made_or_dropped() {
        let c = config("smtp.example.com", 587, Security::StartTls);
        let transport = SmtpTransport::new(&c, SmtpAuth::None).unwrap();
        assert!(!format!("{transport:?}").is_empty());
        drop(transport);
    }

    #[test]
    fn one_transport_serves_many_tasks() {
        // The desk shares one transport per account across its async commands, which run
        // on a multi-threaded runtime: the transport and its send future must allow that.
        fn shared<T: Send + Sync>(_: &T) {}
        fn sendable<F: Future + Send>(_: F) {}
        let c = config("smtp.example.com", 587, Security::StartTls);
        let transport = SmtpTransport::new(&c, SmtpAuth::None).unwrap();
        shared(&transport);
        let msg = Message {
            to: "a@example.org".into(),
            masked_to: "a…@example.org".into(),
            subject: "s".into(),
            text: Zeroizing::new("t".into()),
            html: Zeroizing::new("h".into()),
        };
        sendable(transport.send(&msg));
        sendable(transport.test_steps("a@example.org"));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let auth = SmtpAuth::Password(Zeroizing::new("hunter2-app".into()));
        assert!(!format!("{auth:?}").contains("hunter2"));
    }
}
