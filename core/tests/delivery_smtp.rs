//! The SMTP transport against a real SMTP server (aiosmtpd) on loopback: STARTTLS and
//! implicit TLS with a certificate made for the run, AUTH PLAIN/LOGIN and XOAUTH2, and every
//! failure the server can be told to produce, each ending in its class.

mod support;

use std::time::{Duration, Instant};

use otp_desk_core::delivery::smtp::{Security, SmtpAuth, SmtpConfig, SmtpTransport, Step};
use otp_desk_core::delivery::{FailureClass, Message};
use support::{SmtpServer, PASSWORD, TOKEN, USER};
use zeroize::Zeroizing;

/// Short, so the stall cases end quickly; generous for a loaded 2-core machine otherwise.
const TIMEOUT: Duration = Duration::from_secs(3);

fn config(server: &SmtpServer, security: Security) -> SmtpConfig {
    SmtpConfig {
        host: "localhost".into(),
        port: server.port,
        security,
        username: USER.into(),
        from_address: USER.into(),
        from_name: "Stadtwerke Kasse".into(),
        ehlo_name: "desk.example.com".into(),
        extra_root_pem: Some(server.cert_pem.clone()),
        timeout: TIMEOUT,
    }
}

fn password() -> SmtpAuth {
    SmtpAuth::Password(Zeroizing::new(PASSWORD.into()))
}

fn code_message() -> Message {
    Message {
        to: "johanna.meier@example.org".into(),
        masked_to: "jo…@example.org".into(),
        subject: "Ihr Code: 482913".into(),
        text: Zeroizing::new("Your code is 482913. It is valid for 10 minutes.\n".into()),
        html: Zeroizing::new("<p>Your code is <b>482913</b>.</p>\n".into()),
    }
}

fn header<'a>(eml: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("{name}: ");
    eml.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(prefix.as_str()))
}

#[tokio::test]
async fn starttls_with_password_delivers_both_parts_and_the_headers() {
    let server = SmtpServer::start("starttls", "none");
    let transport = SmtpTransport::new(&config(&server, Security::StartTls), password()).unwrap();

    let sent = transport.send(&code_message()).await.unwrap();
    assert!(sent.reply.starts_with("250"), "{}", sent.reply);

    let mails = server.messages();
    assert_eq!(mails.len(), 1);
    let eml = &mails[0];
    assert_eq!(
        header(eml, "From"),
        Some("\"Stadtwerke Kasse\" <desk@example.com>")
    );
    assert_eq!(header(eml, "To"), Some("johanna.meier@example.org"));
    // Non-ASCII subjects travel RFC 2047-encoded.
    let subject = header(eml, "Subject").unwrap();
    assert!(subject.contains("482913"), "{subject}");
    assert!(header(eml, "Date").is_some(), "{eml}");
    let id = header(eml, "Message-ID").unwrap();
    assert!(id.starts_with('<') && id.ends_with("@example.com>"), "{id}");
    let content_type = header(eml, "Content-Type").unwrap();
    assert!(
        content_type.starts_with("multipart/alternative"),
        "{content_type}"
    );
    let text_at = eml.find("Content-Type: text/plain").expect("text part");
    let html_at = eml.find("Content-Type: text/html").expect("HTML part");
    assert!(text_at < html_at, "text first, so clients prefer the HTML");
    assert!(eml.contains("Your code is 482913."));
    assert!(eml.contains("<b>482913</b>"));

    // The second send reuses the pooled connection and still arrives.
    transport.send(&code_message()).await.unwrap();
    assert_eq!(server.messages().len(), 2);
}

#[tokio::test]
async fn implicit_tls_delivers() {
    let server = SmtpServer::start("implicit", "none");
    let transport =
        SmtpTransport::new(&config(&server, Security::ImplicitTls), password()).unwrap();
    transport.send(&code_message()).await.unwrap();
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn a_server_without_auth_plain_gets_auth_login() {
    let server = SmtpServer::start("starttls", "login-only");
    let transport = SmtpTransport::new(&config(&server, Security::StartTls), password()).unwrap();
    transport.send(&code_message()).await.unwrap();
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn xoauth2_token_delivers() {
    let server = SmtpServer::start("starttls", "none");
    let auth = SmtpAuth::OAuth2AccessToken(Zeroizing::new(TOKEN.into()));
    let transport = SmtpTransport::new(&config(&server, Security::StartTls), auth).unwrap();
    transport.send(&code_message()).await.unwrap();
    assert_eq!(server.messages().len(), 1);

    let wrong = SmtpAuth::OAuth2AccessToken(Zeroizing::new("ya29.expired-token".into()));
    let transport = SmtpTransport::new(&config(&server, Security::StartTls), wrong).unwrap();
    let err = transport.send(&code_message()).await.unwrap_err();
    assert_eq!(err.class, FailureClass::Authentication, "{}", err.detail);
    assert!(!err.to_string().contains("expired-token"), "{err}");
}

/// Sends once against a server in `fault` mode and checks the class, the time taken and that
/// the password appears nowhere in the error.
async fn fails_as(fault: &str, expected: FailureClass) {
    let server = SmtpServer::start("starttls", fault);
    let transport = SmtpTransport::new(&config(&server, Security::StartTls), password()).unwrap();
    let started = Instant::now();
    let err = transport.send(&code_message()).await.unwrap_err();
    assert_eq!(err.class, expected, "{fault}: {}", err.detail);
    assert!(
        started.elapsed() < TIMEOUT + Duration::from_secs(2),
        "{fault} took {:?}",
        started.elapsed()
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(PASSWORD), "{fault}: {shown}");
    // Servers quote the recipient; records carry only the masked form.
    assert!(!shown.contains("johanna.meier"), "{fault}: {shown}");
    assert!(server.messages().is_empty(), "{fault}");
}

#[tokio::test]
async fn a_rejected_password_is_an_authentication_failure() {
    fails_as("reject-password", FailureClass::Authentication).await;
}

#[tokio::test]
async fn microsoft_tenant_without_smtp_auth_is_recognised() {
    fails_as("tenant-disabled", FailureClass::TenantSmtpAuthDisabled).await;
}

#[tokio::test]
async fn microsoft_without_basic_auth_is_recognised() {
    fails_as("basic-removed", FailureClass::BasicAuthRemoved).await;
}

#[tokio::test]
async fn a_refused_recipient_is_permanent() {
    fails_as("permanent", FailureClass::Permanent).await;
}

#[tokio::test]
async fn a_connection_dropped_during_data_is_transient() {
    fails_as("drop-data", FailureClass::Transient).await;
}

#[tokio::test]
async fn a_server_that_never_greets_times_out() {
    fails_as("stall", FailureClass::Timeout).await;
}

#[tokio::test]
async fn a_server_that_stalls_mid_send_times_out() {
    fails_as("stall-data", FailureClass::Timeout).await;
}

#[tokio::test]
async fn transient_replies_are_transient_and_the_retry_goes_through() {
    for fault in ["transient-451", "transient-421"] {
        let server = SmtpServer::start("starttls", fault);
        let transport =
            SmtpTransport::new(&config(&server, Security::StartTls), password()).unwrap();
        let err = transport.send(&code_message()).await.unwrap_err();
        assert_eq!(
            err.class,
            FailureClass::Transient,
            "{fault}: {}",
            err.detail
        );
        assert!(err.class.is_retryable());
        transport.send(&code_message()).await.unwrap();
        assert_eq!(server.messages().len(), 1, "{fault}");
    }
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_tls_failure() {
    let server = SmtpServer::start("starttls", "none");
    let mut c = config(&server, Security::StartTls);
    c.extra_root_pem = None;
    let transport = SmtpTransport::new(&c, password()).unwrap();
    let err = transport.send(&code_message()).await.unwrap_err();
    assert_eq!(err.class, FailureClass::Tls, "{}", err.detail);
    assert!(err.detail.contains("certificate"), "{}", err.detail);
    assert!(server.messages().is_empty());

    let implicit = SmtpServer::start("implicit", "none");
    let mut c = config(&implicit, Security::ImplicitTls);
    c.extra_root_pem = None;
    let transport = SmtpTransport::new(&c, password()).unwrap();
    let err = transport.send(&code_message()).await.unwrap_err();
    assert_eq!(err.class, FailureClass::Tls, "{}", err.detail);
    assert!(err.detail.contains("certificate"), "{}", err.detail);
}

#[tokio::test]
async fn implicit_tls_against_a_starttls_server_is_a_tls_failure() {
    let server = SmtpServer::start("starttls", "none");
    let transport =
        SmtpTransport::new(&config(&server, Security::ImplicitTls), password()).unwrap();
    let err = transport.send(&code_message()).await.unwrap_err();
    assert_eq!(err.class, FailureClass::Tls, "{}", err.detail);
}

#[test]
fn the_wrong_security_for_the_port_is_refused_before_connecting() {
    // Nothing listens on these ports here: a refusal this fast is validation, not the network.
    let base = SmtpConfig {
        host: "smtp.example.com".into(),
        username: USER.into(),
        from_address: USER.into(),
        ..SmtpConfig::default()
    };
    for (port, security) in [(465, Security::StartTls), (587, Security::ImplicitTls)] {
        let c = SmtpConfig {
            port,
            security,
            ..base.clone()
        };
        let err = SmtpTransport::new(&c, password()).unwrap_err();
        assert_eq!(err.class, FailureClass::Tls);
        assert!(err.detail.contains(&port.to_string()), "{}", err.detail);
    }
    let plain = SmtpConfig {
        port: 25,
        security: Security::Plain,
        ..base
    };
    let err = SmtpTransport::new(&plain, password()).unwrap_err();
    assert_eq!(err.class, FailureClass::Configuration, "{}", err.detail);
}

#[tokio::test]
async fn nobody_listening_is_a_network_failure() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        username: USER.into(),
        from_address: USER.into(),
        timeout: TIMEOUT,
        ..SmtpConfig::default()
    };
    let transport = SmtpTransport::new(&c, password()).unwrap();
    let err = transport.send(&code_message()).await.unwrap_err();
    assert_eq!(err.class, FailureClass::Network, "{}", err.detail);
    assert!(err.class.is_retryable());
}

#[tokio::test]
async fn test_mail_reports_each_step() {
    let server = SmtpServer::start("starttls", "none");
    let transport = SmtpTransport::new(&config(&server, Security::StartTls), password()).unwrap();
    let steps = transport.test_steps("admin@example.org").await;
    let names: Vec<Step> = steps.iter().map(|s| s.step).collect();
    assert_eq!(
        names,
        [Step::Connect, Step::Tls, Step::Authenticate, Step::Send]
    );
    assert!(steps.iter().all(|s| s.ok && s.error.is_none()), "{steps:?}");
    let mails = server.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(header(&mails[0], "To"), Some("admin@example.org"));

    let implicit = SmtpServer::start("implicit", "none");
    let transport =
        SmtpTransport::new(&config(&implicit, Security::ImplicitTls), password()).unwrap();
    let steps = transport.test_steps("admin@example.org").await;
    assert_eq!(steps.len(), 4, "{steps:?}");
    assert!(steps.iter().all(|s| s.ok), "{steps:?}");
}

#[tokio::test]
async fn test_mail_stops_at_the_failing_step() {
    let server = SmtpServer::start("starttls", "tenant-disabled");
    let transport = SmtpTransport::new(&config(&server, Security::StartTls), password()).unwrap();
    let steps = transport.test_steps("admin@example.org").await;
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert!(steps[0].ok && steps[1].ok);
    let auth = &steps[2];
    assert_eq!(auth.step, Step::Authenticate);
    assert!(!auth.ok);
    let err = auth.error.as_ref().unwrap();
    assert_eq!(
        err.class,
        FailureClass::TenantSmtpAuthDisabled,
        "{}",
        err.detail
    );

    let mut c = config(&server, Security::StartTls);
    c.extra_root_pem = None;
    let steps = SmtpTransport::new(&c, password())
        .unwrap()
        .test_steps("admin@example.org")
        .await;
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert_eq!(steps[1].step, Step::Tls);
    assert_eq!(steps[1].error.as_ref().unwrap().class, FailureClass::Tls);
}
