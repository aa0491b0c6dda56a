//! One code email through a real SMTP server (aiosmtpd on loopback, tests/smtp/server.py)
//! with STARTTLS (or implicit TLS) and AUTH PLAIN, on a warm transport: the pooled connection is already
//! open, secured and signed in, as it is for every send after an account's first.
//!
//! Budget: median under 30 ms per send (MAIL, RCPT, DATA and the server's reply).
//!
//! Run: `scripts/setup test` once (installs the server), then
//! `cargo bench -p otp-desk-core --bench smtp`

#[path = "../tests/support/mod.rs"]
mod support;

use divan::Bencher;
use otp_desk_core::delivery::smtp::{Security, SmtpAuth, SmtpConfig, SmtpTransport};
use otp_desk_core::delivery::Message;
use support::{SmtpServer, PASSWORD, USER};
use zeroize::Zeroizing;

fn main() {
    divan::main();
}

fn code_message() -> Message {
    Message {
        to: "johanna.meier@example.org".into(),
        masked_to: "jo…@example.org".into(),
        subject: "Your verification code".into(),
        text: Zeroizing::new(
            "Hello Johanna Meier,\n\nyour code is 482913. It is valid for 10 minutes.\n".into(),
        ),
        html: Zeroizing::new(
            "<p>Hello Johanna Meier,</p><p>your code is <b>482913</b>. It is valid for 10 minutes.</p>\n"
                .into(),
        ),
    }
}

#[divan::bench(sample_count = 200)]
fn warm_starttls_send(bencher: Bencher) {
    warm_send(bencher, "starttls", Security::StartTls);
}

/// The same with implicit TLS (port 465 style); same budget.
#[divan::bench(sample_count = 200)]
fn warm_implicit_tls_send(bencher: Bencher) {
    warm_send(bencher, "implicit", Security::ImplicitTls);
}

fn warm_send(bencher: Bencher, tls: &str, security: Security) {
    let server = SmtpServer::start(tls, "none");
    let config = SmtpConfig {
        host: "localhost".into(),
        port: server.port,
        security,
        username: USER.into(),
        from_address: USER.into(),
        from_name: "Front desk".into(),
        ehlo_name: "desk.example.com".into(),
        extra_root_pem: Some(server.cert_pem.clone()),
        ..SmtpConfig::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let transport =
        SmtpTransport::new(&config, SmtpAuth::Password(Zeroizing::new(PASSWORD.into()))).unwrap();
    // The first send opens the pooled connection; the measured ones reuse it.
    rt.block_on(transport.send(&code_message())).unwrap();
    bencher
        .with_inputs(code_message)
        .bench_local_refs(|msg| rt.block_on(transport.send(msg)).unwrap());
    drop(server);
}
