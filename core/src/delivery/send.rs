//! Issuing a code and sending it, as one operation, by email or SMS: issue, render, hand to
//! the account's transport, record the attempt and the audit event; if delivery fails,
//! cancel the code so the clerk can retry at once. Both channels share the retry rules, the
//! records and the progress reports; only the account, the words and the transport differ.
//! Also the admin's test mail.

use std::time::Instant;

use lettre::message::Mailbox;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::audit::{self, Event};
use crate::clock::{format_ms, Millis};
use crate::codes::{self, CodeError, CodeKey, IssueRequest};
use crate::contact::{self, Channel};
use crate::settings;
use crate::Store;

use super::accounts::{self, AccountError, MailAccount};
use super::progress::{Observer, Progress};
use super::sms::SmsStatus;
use super::sms_accounts::{self, SmsAccount, SmsAccountError};
use super::template::{self, TemplateError, Vars};
use super::transport::{Setup, SmsTransport, Transport};
use super::{attempts, email, DeliveryError, FailureClass, Message};

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Code(#[from] CodeError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    SmsAccount(#[from] SmsAccountError),
    #[error("SMS is not set up: no SMS account is the default. An admin adds one in Settings or with `otp-desk-cli sms accounts add`; until then, send the code by email")]
    SmsNotSetUp,
    /// The code was issued and then cancelled: the clerk may send again at once.
    #[error("the code could not be delivered and was cancelled; you can send again now. {error}")]
    Delivery {
        challenge_id: Option<i64>,
        account: String,
        error: DeliveryError,
    },
    #[error("the delivery could not be recorded: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
}

pub struct SendRequest<'a> {
    pub customer_id: i64,
    pub channel: Channel,
    pub operator: &'a str,
    /// The account to use: a mail account for email, an SMS account for SMS; `None` for the
    /// channel's default.
    pub account: Option<&'a str>,
    /// Hears each try, each pause before another, and the outcome, as they happen.
    pub progress: Option<Observer<'a>>,
}

/// What the clerk sees after a send. Never the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SendReport {
    pub challenge_id: i64,
    pub channel: Channel,
    pub sent_to: String,
    pub account: String,
    /// Where the message went: an outbox file, or "standard error".
    pub delivered_to: String,
    pub expires_at: Millis,
    pub resend_at: Millis,
    pub duration_ms: u64,
    /// SMS: what the provider said when it took the message (usually `queued`). Follow it
    /// with `delivery::sms::track`.
    pub sms_status: Option<SmsStatus>,
}

pub(super) fn elapsed_ms(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The name of a message in the outbox: when, and for which challenge.
pub(super) fn stamp(now: Millis, challenge: Option<i64>) -> String {
    let when = format_ms(now).replace([':', '-'], "");
    match challenge {
        Some(id) => format!("{when}-code-{id}"),
        None => format!("{when}-test"),
    }
}

fn account_for(store: &Store, name: Option<&str>) -> Result<MailAccount, AccountError> {
    let conn = store.conn();
    match name {
        Some(n) => accounts::get(&conn, n),
        None => accounts::default_account(&conn),
    }
}

/// The account a code goes out through.
enum Route {
    Mail(MailAccount),
    Sms(SmsAccount),
}

impl Route {
    fn resolve(store: &Store, channel: Channel, name: Option<&str>) -> Result<Self, SendError> {
        Ok(match channel {
            Channel::Email => Route::Mail(account_for(store, name)?),
            Channel::Sms => {
                let conn = store.conn();
                Route::Sms(match name {
                    Some(n) => sms_accounts::get(&conn, n)?,
                    None => sms_accounts::default_account(&conn)?.ok_or(SendError::SmsNotSetUp)?,
                })
            }
        })
    }

    fn name(&self) -> &str {
        match self {
            Route::Mail(a) => &a.name,
            Route::Sms(a) => &a.name,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Route::Mail(a) => a.kind.as_str(),
            Route::Sms(a) => a.kind.as_str(),
        }
    }
}

/// Everything a try needs: the transport and the rendered message.
enum Prepared {
    Mail {
        transport: Transport,
        from: Mailbox,
        msg: Message,
        stamp: String,
    },
    Sms {
        transport: SmsTransport,
        msg: Message,
    },
}

/// A message handed over, as the record keeps it.
struct Handed {
    place: String,
    reply: String,
    provider_id: String,
    provider_status: String,
}

impl Prepared {
    fn send(&self) -> Result<Handed, DeliveryError> {
        match self {
            Prepared::Mail {
                transport,
                from,
                msg,
                stamp,
            } => transport.send(from, msg, stamp).map(|d| Handed {
                place: d.place,
                reply: d.reply,
                provider_id: String::new(),
                provider_status: String::new(),
            }),
            Prepared::Sms { transport, msg } => transport.send(msg).map(|d| Handed {
                place: d.place,
                reply: d.reply,
                provider_id: d.provider_id,
                provider_status: d.status,
            }),
        }
    }
}

/// Issues a code for a customer and delivers it by email or SMS through the channel's
/// default account (or the one the request names).
pub fn send_code(
    store: &Store,
    key: &CodeKey,
    setup: &Setup,
    req: &SendRequest<'_>,
) -> Result<SendReport, SendError> {
    let operator = audit::operator_name(req.operator).map_err(CodeError::from)?;
    // The account is read before the code exists: a missing account costs no code. The
    // number is checked (valid, mobile-capable) by `issue`, so a landline costs no request.
    let route = Route::resolve(store, req.channel, req.account)?;
    let issued = codes::issue(
        &mut store.conn(),
        store.clock(),
        key,
        &IssueRequest {
            customer_id: req.customer_id,
            channel: req.channel,
            destination: None,
            operator: &operator,
            revealed: false,
        },
    )?;
    let tell = |p: Progress| {
        if let Some(observer) = req.progress {
            observer(&p);
        }
    };
    let start = Instant::now();
    let prepared =
        prepare(store, setup, &route, req.customer_id, &issued).map_err(|e| e.on(issued.channel));
    let mut tries: u32 = 0;
    let (outcome, mut recorded) = loop {
        tries += 1;
        tell(Progress::Sending { attempt: tries });
        let t = Instant::now();
        let outcome = match &prepared {
            Ok(p) => p.send(),
            Err(e) => Err(e.clone()),
        };
        let (failure, reply, provider_id, provider_status) = match &outcome {
            Ok(d) => (
                None,
                d.reply.as_str(),
                d.provider_id.as_str(),
                d.provider_status.as_str(),
            ),
            Err(e) => (Some(e.class), e.detail.as_str(), "", ""),
        };
        // Every try is a delivery record of its own: the admin sees "451, then sent".
        let recorded = attempts::record(
            &store.conn(),
            store.clock(),
            &attempts::Attempt {
                code_id: Some(issued.challenge_id),
                channel: issued.channel,
                account: route.name(),
                masked_recipient: &issued.masked_destination,
                failure,
                reply,
                duration_ms: elapsed_ms(t),
                provider_id,
                provider_status,
            },
        )
        .map(|_| ())
        .map_err(SendError::from);
        // A server that asks to try again later gets another try, after a pause, while the
        // code would still reach the customer with time to read it out.
        let retry = match &outcome {
            Err(e) if e.class.is_retryable() => setup
                .retry_delays
                .get(tries as usize - 1)
                .copied()
                .filter(|d| {
                    let after =
                        store.clock().now_ms() + i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
                    after + MIN_TIME_LEFT_MS < issued.expires_at
                })
                .map(|d| (d, e)),
            _ => None,
        };
        match retry {
            Some((delay, e)) if recorded.is_ok() => {
                tell(Progress::Retrying {
                    attempt: tries,
                    delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    class: e.class,
                    hint: e.hint(),
                });
                std::thread::sleep(delay);
            }
            _ => break (outcome, recorded),
        }
    };
    let duration_ms = elapsed_ms(start);
    let failure = outcome.as_ref().err().map(|e| e.class);
    tell(match &outcome {
        Ok(_) => Progress::Sent { attempt: tries },
        Err(e) => Progress::Failed {
            attempt: tries,
            class: e.class,
            hint: e.hint(),
        },
    });

    let audited = (|| -> Result<(), SendError> {
        let mut conn = store.conn();
        let tx = conn.transaction()?;
        let customer = crate::customers::get(&tx, req.customer_id).ok().flatten();
        let mut ev = Event::new(
            audit::Kind::CodeSent,
            sent_or_failed(failure.is_some()),
            &operator,
        )
        .contact(issued.channel, &issued.destination)
        .code(issued.challenge_id)
        .detail(match failure {
            None => format!(
                "via {} ({}) in {duration_ms} ms{}",
                route.name(),
                route.kind(),
                if tries > 1 {
                    format!(", after {tries} tries")
                } else {
                    String::new()
                }
            ),
            Some(class) => format!(
                "via {} ({}) failed: {}",
                route.name(),
                route.kind(),
                class.as_str()
            ),
        });
        if let Some(c) = customer {
            ev = ev.customer(c.id, &c.account_number);
        }
        audit::record(&tx, store.clock(), &ev)?;
        tx.commit()?;
        Ok(())
    })();
    if recorded.is_ok() {
        recorded = audited;
    }

    match outcome {
        Ok(d) => {
            recorded?;
            let sms_status = match &route {
                Route::Mail(_) => None,
                Route::Sms(a) => Some(SmsStatus::on_hand_over(a, &d.provider_status)),
            };
            Ok(SendReport {
                challenge_id: issued.challenge_id,
                channel: issued.channel,
                sent_to: issued.masked_destination.clone(),
                account: route.name().to_string(),
                delivered_to: d.place,
                expires_at: issued.expires_at,
                resend_at: issued.resend_at,
                duration_ms,
                sms_status,
            })
        }
        Err(error) => {
            // Cancelled codes hold back neither the cooldown nor the send cap.
            codes::cancel(
                &mut store.conn(),
                store.clock(),
                issued.challenge_id,
                &operator,
                &format!("delivery failed: {}", error.class.as_str()),
            )?;
            // The code is cancelled before a failure to record is reported, so a broken
            // record never holds the clerk back.
            recorded?;
            Err(SendError::Delivery {
                challenge_id: Some(issued.challenge_id),
                account: route.name().to_string(),
                error,
            })
        }
    }
}

pub(super) fn render_error(e: TemplateError) -> DeliveryError {
    DeliveryError::new(FailureClass::Configuration, e.to_string(), &[])
}

fn prepare(
    store: &Store,
    setup: &Setup,
    route: &Route,
    customer_id: i64,
    issued: &codes::Issued,
) -> Result<Prepared, DeliveryError> {
    let storage = |e: String| DeliveryError::new(FailureClass::Configuration, e, &[]);
    let (templates, s, customer_name) = {
        let conn = store.conn();
        let templates = template::load(&conn).map_err(render_error)?;
        let s = settings::load(&conn).map_err(|e| storage(e.to_string()))?;
        let name = crate::customers::get(&conn, customer_id)
            .map_err(|e| storage(e.to_string()))?
            .map(|c| c.name)
            .unwrap_or_default();
        (templates, s, name)
    };
    // Whole minutes left, rounded up: a code issued a moment ago still has its full lifetime.
    let left_ms = (issued.expires_at - store.clock().now_ms()).max(0);
    let minutes_valid = u32::try_from((left_ms + 59_999) / 60_000)
        .unwrap_or(s.code_lifetime_minutes)
        .max(1);
    let vars = Vars {
        company_name: &s.company_name,
        customer_name: &customer_name,
        code: &issued.code,
        minutes_valid,
    };
    match route {
        Route::Mail(account) => {
            let rendered = template::render(&templates, &vars).map_err(render_error)?;
            let msg = Message {
                to: issued.destination.clone(),
                masked_to: issued.masked_destination.clone(),
                subject: rendered.subject,
                text: rendered.text,
                html: rendered.html,
            };
            let from = email::sender(account, &s.company_name)?;
            let transport = Transport::for_account(account, setup)?;
            let stamp = stamp(store.clock().now_ms(), Some(issued.challenge_id));
            Ok(Prepared::Mail {
                transport,
                from,
                msg,
                stamp,
            })
        }
        Route::Sms(account) => {
            let text = template::render_sms(&templates, &vars).map_err(render_error)?;
            let msg = Message {
                to: issued.destination.clone(),
                masked_to: issued.masked_destination.clone(),
                subject: String::new(),
                text,
                html: Zeroizing::new(String::new()),
            };
            let transport = SmsTransport::for_account(account, setup)?;
            Ok(Prepared::Sms { transport, msg })
        }
    }
}

/// A retry is only worth it if the customer would still have this long to read the code out.
const MIN_TIME_LEFT_MS: i64 = 60_000;

/// The audit outcome of a delivery.
pub(super) fn sent_or_failed(failed: bool) -> audit::Outcome {
    if failed {
        audit::Outcome::Failed
    } else {
        audit::Outcome::Ok
    }
}

/// One step of a test mail, with how long it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub step: &'static str,
    pub ok: bool,
    pub detail: String,
    pub duration_ms: u64,
}

/// A test mail's report: every step up to the first failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestReport {
    pub account: String,
    pub steps: Vec<Step>,
    pub failure: Option<DeliveryError>,
}

impl TestReport {
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }
}

/// Sends a sample message (sample values, code 123456, never a real code) through an
/// account, reporting each step with its timing. The attempt is recorded with no code id.
pub fn send_test(
    store: &Store,
    setup: &Setup,
    operator: &str,
    account_name: &str,
    to: &str,
) -> Result<TestReport, SendError> {
    let operator = audit::operator_name(operator).map_err(CodeError::from)?;
    let to = contact::normalize_email(to).map_err(CodeError::from)?;
    let masked = contact::mask(Channel::Email, &to);
    let mut steps = Vec::new();
    let total = Instant::now();

    let t = Instant::now();
    let account = account_for(store, Some(account_name))?;
    steps.push(Step {
        step: "account",
        ok: true,
        detail: format!(
            "{} ({}) → {}",
            account.name,
            account.kind,
            account.destination(store.path())
        ),
        duration_ms: elapsed_ms(t),
    });

    let t = Instant::now();
    let run = (|| -> Result<(), (&'static str, DeliveryError)> {
        let (templates, s) = {
            let conn = store.conn();
            (
                template::load(&conn).map_err(|e| ("render", render_error(e)))?,
                settings::load(&conn).map_err(|e| {
                    (
                        "render",
                        DeliveryError::new(FailureClass::Configuration, e.to_string(), &[]),
                    )
                })?,
            )
        };
        let rendered = template::render(&templates, &Vars::sample(&s.company_name))
            .map_err(|e| ("render", render_error(e)))?;
        let msg = Message {
            to: to.clone(),
            masked_to: masked.clone(),
            subject: format!("[Test] {}", rendered.subject),
            text: Zeroizing::new(format!(
                "This is a test message from OTP Desk; the code below is a sample.\n\n{}",
                rendered.text.as_str()
            )),
            html: rendered.html,
        };
        let from = email::sender(&account, &s.company_name).map_err(|e| ("render", e))?;
        steps.push(Step {
            step: "render",
            ok: true,
            detail: "message rendered from the templates with sample values".into(),
            duration_ms: elapsed_ms(t),
        });
        let t = Instant::now();
        let transport = Transport::for_account(&account, setup).map_err(|e| ("connect", e))?;
        if let Transport::Smtp(smtp) = &transport {
            // A server account reports each protocol step, so the admin sees which one failed.
            for r in smtp.test_steps(&msg.to) {
                let step = r.step.as_str();
                match r.error {
                    Some(e) => return Err((step, e)),
                    None => steps.push(Step {
                        step,
                        ok: r.ok,
                        detail: "ok".into(),
                        duration_ms: r.millis,
                    }),
                }
            }
            return Ok(());
        }
        let d = transport
            .send(&from, &msg, &stamp(store.clock().now_ms(), None))
            .map_err(|e| ("deliver", e))?;
        steps.push(Step {
            step: "deliver",
            ok: true,
            detail: d.place.clone(),
            duration_ms: elapsed_ms(t),
        });
        Ok(())
    })();
    let failure = match run {
        Ok(_) => None,
        Err((step, e)) => {
            steps.push(Step {
                step,
                ok: false,
                detail: e.to_string(),
                duration_ms: elapsed_ms(t),
            });
            Some(e)
        }
    };

    let conn = store.conn();
    attempts::record(
        &conn,
        store.clock(),
        &attempts::Attempt {
            code_id: None,
            channel: Channel::Email,
            account: &account.name,
            masked_recipient: &masked,
            failure: failure.as_ref().map(|e| e.class),
            reply: failure
                .as_ref()
                .map(|e| e.detail.as_str())
                .unwrap_or("test mail delivered"),
            duration_ms: elapsed_ms(total),
            provider_id: "",
            provider_status: "",
        },
    )?;
    audit::record(
        &conn,
        store.clock(),
        &Event::new(
            audit::Kind::CodeSent,
            sent_or_failed(failure.is_some()),
            &operator,
        )
        .contact(Channel::Email, &to)
        .detail(match &failure {
            None => format!("test mail via {}", account.name),
            Some(e) => format!(
                "test mail via {} failed: {}",
                account.name,
                e.class.as_str()
            ),
        }),
    )?;
    Ok(TestReport {
        account: account.name,
        steps,
        failure,
    })
}
