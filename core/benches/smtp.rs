//! One code email through a real SMTP server (aiosmtpd on loopback, tests/smtp/server.py)
//! with STARTTLS (or implicit TLS) and AUTH PLAIN, on a warm transport: the pooled connection is already
//! open, secured and signed in, as it is for every send after an account's first.
//!
//! Budget: median under 30 ms per send (MAIL, RCPT, DATA and the server's reply), and the
//! same for the whole clerk action `delivery::send_code` (issue the code, render the
//! templates, send through the account's cached transport, record the attempt and audit).
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

/// The clerk's "Send by email": issue + render + send + record, on a file database, through
/// an SMTP account whose transport is warm after the first send.
#[divan::bench(sample_count = 200)]
fn issue_and_send(bencher: Bencher) {
    use otp_desk_core::codes::CodeKey;
    use otp_desk_core::contact::Channel;
    use otp_desk_core::delivery::accounts::{self, AccountInput};
    use otp_desk_core::delivery::{send_code, SendRequest, Setup};
    use otp_desk_core::secrets::{MemorySecrets, SecretStore};
    use otp_desk_core::{ManualClock, Store};
    use std::sync::Arc;

    let server = SmtpServer::start("starttls", "none");
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::start();
    let store =
        Store::open_with_clock(dir.path().join("bench.db"), Arc::new(clock.clone())).unwrap();
    store
        .conn()
        .execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
             INSERT INTO customers (id, account_number, name, email, created_at, updated_at)
             SELECT i, 'WB-' || i, 'Customer ' || i, 'c' || i || '@example.com', 0, 0 FROM n;",
        )
        .unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::new());
    {
        let mut conn = store.conn();
        let input = AccountInput {
            name: "Office server".into(),
            kind: "smtp".into(),
            host: "localhost".into(),
            port: Some(u32::from(server.port)),
            security: "starttls".into(),
            username: USER.into(),
            from_address: USER.into(),
            from_name: "Front desk".into(),
            extra_ca_pem: server.cert_pem.clone(),
            outbox_dir: String::new(),
            ..Default::default()
        };
        accounts::add(&mut conn, &clock, "bench", &input).unwrap();
        accounts::set_default(&mut conn, &clock, "bench", "Office server").unwrap();
        accounts::set_password(
            &conn,
            &clock,
            secrets.as_ref(),
            "bench",
            "Office server",
            PASSWORD,
        )
        .unwrap();
    }
    let key = CodeKey::from_bytes([3; 32]);
    let setup = Setup::for_database(store.path()).with_secrets(secrets);
    let mut next = 0i64;
    bencher.bench_local(|| {
        next = next % 20_000 + 1;
        clock.advance_ms(200);
        send_code(
            &store,
            &key,
            &setup,
            &SendRequest {
                customer_id: next,
                channel: Channel::Email,
                operator: "bench",
                account: None,
                progress: None,
            },
        )
        .unwrap();
    });
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
