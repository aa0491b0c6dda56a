//! The test servers (SMTP, the Twilio and Microsoft stand-ins), shared with the CLI and
//! end-to-end tests, plus the set-up the core's SMS tests share.

#![allow(dead_code)]

#[allow(unused_imports)]
pub use otp_desk_test_servers::*;

pub mod twilio {
    pub use otp_desk_test_servers::twilio::*;

    /// Adds the stand-in as the office's Twilio account (sending from `FROM_NUMBER`, or through
    /// `MESSAGING_SERVICE_SID` when `service` is set), which becomes the default SMS account, and
    /// stores `token` for it in a fresh in-memory secret store.
    pub fn office_twilio(
        store: &otp_desk_core::Store,
        server: &TwilioServer,
        token: &str,
        service: bool,
    ) -> std::sync::Arc<dyn otp_desk_core::secrets::SecretStore> {
        use otp_desk_core::delivery::sms_accounts::{self, SmsAccountInput};
        let input = SmsAccountInput {
            name: "Office Twilio".into(),
            kind: "twilio".into(),
            account_sid: ACCOUNT_SID.into(),
            from_number: if service { "" } else { FROM_NUMBER }.into(),
            messaging_service_sid: if service { MESSAGING_SERVICE_SID } else { "" }.into(),
            api_base: server.base_url(),
        };
        let mut conn = store.conn();
        let account = sms_accounts::add(&mut conn, store.clock(), "admin", &input).unwrap();
        assert!(account.is_default, "the first SMS account is the default");
        let secrets: std::sync::Arc<dyn otp_desk_core::secrets::SecretStore> =
            std::sync::Arc::new(otp_desk_core::secrets::MemorySecrets::new());
        sms_accounts::set_token(
            &conn,
            store.clock(),
            secrets.as_ref(),
            "admin",
            "Office Twilio",
            token,
        )
        .unwrap();
        secrets
    }

    /// A setup whose retries, requests and status polls are quick enough for tests.
    pub fn quick_setup(
        database: &std::path::Path,
        secrets: std::sync::Arc<dyn otp_desk_core::secrets::SecretStore>,
    ) -> otp_desk_core::delivery::Setup {
        use std::time::Duration;
        otp_desk_core::delivery::Setup {
            retry_delays: vec![Duration::from_millis(10); 2],
            sms: otp_desk_core::delivery::SmsTiming {
                request_timeout: Duration::from_millis(1500),
                poll_every: Duration::from_millis(20),
                track_for: Duration::from_secs(3),
            },
            ..otp_desk_core::delivery::Setup::for_database(Some(database)).with_secrets(secrets)
        }
    }
}
