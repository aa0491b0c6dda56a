//! The one way the core speaks HTTP (Twilio's API, the Microsoft sign-in service): reqwest's
//! blocking client (the callers are synchronous) over rustls with the ring provider and the
//! OS certificate store through the platform verifier, like the SMTP side; one total timeout
//! per request; no redirects, so credentials go to the configured address only. Only this
//! module and the two that use it (`twilio`, `oauth`) name reqwest.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

pub use reqwest::blocking::{Client, RequestBuilder};
pub use reqwest::{Error, StatusCode};

/// A client whose every request, connecting included, ends within `timeout`.
pub fn client(timeout: Duration) -> Result<Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    use rustls_platform_verifier::BuilderVerifierExt;
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_platform_verifier()
        .map_err(|e| e.to_string())?
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("otp-desk/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| describe(&e))
}

/// An error and its causes on one line: reqwest's own text says only "error sending request".
pub fn describe(e: &dyn StdError) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Whether the TLS handshake is what failed (an untrusted certificate, a wrong protocol).
pub fn tls_failed(e: &Error) -> bool {
    let mut source: Option<&(dyn StdError + 'static)> = e.source();
    while let Some(s) = source {
        if s.downcast_ref::<rustls::Error>().is_some() {
            return true;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
            {
                return true;
            }
        }
        source = s.source();
    }
    false
}

/// Whether reading an answer's body stopped at the time limit.
pub fn io_timed_out(e: &std::io::Error) -> bool {
    if e.kind() == std::io::ErrorKind::TimedOut {
        return true;
    }
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Error>())
        .is_some_and(Error::is_timeout)
}
