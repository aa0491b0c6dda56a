//! The Dashboard: how the desk has been doing, day by day, and which mail or SMS accounts
//! fail. Read-only, from the audit trail and the delivery records.
//!
//! Per day, in the office's local time (the caller passes its time zone, so a day starts at
//! local midnight also across a daylight-saving change, and tests are deterministic):
//!
//! | count | what is counted |
//! |---|---|
//! | `sent` | codes delivered (`code_sent`, ok): one per code, however many tries it took |
//! | `verified` | right codes (`code_verify`, ok) |
//! | `failed_verifications` | verify attempts that did not verify: wrong, expired, used, no code (`code_verify`, failed) |
//! | `delivery_failures` | codes that could not be delivered after every try (`code_sent`, failed) |
//! | `contacts_locked` | contacts locked after too many wrong codes (`contact_locked`) |
//!
//! Per account over the same window the success rate is per *try* (a code retried after
//! a "try again later" counts one failed and one sent try), from `delivery_attempts`. Test
//! messages (the admin's "Send test mail") are counted apart and kept out of the rate: an
//! admin trying out a broken setup ten times should not make a working account look bad.
//! The recent failures are the newest failed tries in the window, test messages included
//! (marked), each with its class's hint for the admin and the server's reply.

use chrono::{Days, NaiveDate, NaiveTime, TimeZone};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use crate::clock::{to_datetime, Millis};
use crate::delivery::FailureClass;

pub const DEFAULT_DAYS: u32 = 30;
pub const MAX_DAYS: u32 = 366;
pub const DEFAULT_RECENT_FAILURES: u32 = 10;
pub const MAX_RECENT_FAILURES: u32 = 100;

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("the dashboard covers 1 to {MAX_DAYS} days, not {0}")]
    Days(u32),
    #[error("the dashboard lists 0 to {MAX_RECENT_FAILURES} recent failures, not {0}")]
    RecentFailures(u32),
    #[error("the dashboard could not be read: {0}")]
    Storage(#[from] rusqlite::Error),
}

/// What to show; `None` takes the default.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(default)]
pub struct DashboardRequest {
    /// Days ending today, 1–366; default 30.
    pub days: Option<u32>,
    /// Newest delivery failures to list, 0–100; default 10.
    pub recent_failures: Option<u32>,
}

/// One local calendar day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayCounts {
    /// YYYY-MM-DD in the office's time zone.
    pub date: String,
    /// When the day starts (local midnight), in milliseconds since the epoch.
    pub starts_at: Millis,
    pub sent: u32,
    pub verified: u32,
    pub failed_verifications: u32,
    pub delivery_failures: u32,
    pub contacts_locked: u32,
}

/// One account's delivery tries in the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountRate {
    /// "email" or "sms".
    pub channel: String,
    pub account: String,
    /// Tries that delivered a code.
    pub sent: u64,
    /// Tries that failed to deliver a code.
    pub failed: u64,
    /// sent / (sent + failed), from 0 to 1; `None` when no code went through the account.
    pub success_rate: Option<f64>,
    /// Test messages, counted apart.
    pub test_sent: u64,
    pub test_failed: u64,
}

/// A delivery try that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecentFailure {
    pub at: Millis,
    pub channel: String,
    pub account: String,
    /// Masked.
    pub recipient: String,
    pub failure_class: Option<String>,
    /// What the admin should do, for the class.
    pub hint: Option<&'static str>,
    /// What the server or transport said, secrets scrubbed.
    pub reply: String,
    /// `None` for a test message.
    pub challenge_id: Option<i64>,
    pub test: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    /// Start of the first day.
    pub from: Millis,
    /// End of today (local midnight tonight), exclusive.
    pub to: Millis,
    /// Oldest first; every day is present, with zeros when nothing happened.
    pub days: Vec<DayCounts>,
    pub totals: Totals,
    /// By channel, then account name.
    pub accounts: Vec<AccountRate>,
    /// Newest first.
    pub recent_failures: Vec<RecentFailure>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub sent: u32,
    pub verified: u32,
    pub failed_verifications: u32,
    pub delivery_failures: u32,
    pub contacts_locked: u32,
}

/// The first instant of `day` in `tz`. A midnight that does not exist (a zone that springs
/// forward at midnight) is the first instant that does.
fn day_start<Tz: TimeZone>(tz: &Tz, day: NaiveDate) -> Millis {
    let mut t = day.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(at) = tz.from_local_datetime(&t).earliest() {
            return at.timestamp_millis();
        }
        t += chrono::Duration::minutes(30);
    }
    // No zone skips two hours; fall back to midnight UTC rather than fail.
    day.and_time(NaiveTime::MIN).and_utc().timestamp_millis()
}

/// The dashboard for the `days` days ending today (the local date of `now` in `tz`).
pub fn summary<Tz: TimeZone>(
    conn: &Connection,
    now: Millis,
    tz: &Tz,
    request: &DashboardRequest,
) -> Result<Dashboard, DashboardError> {
    let days = request.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(DashboardError::Days(days));
    }
    let failures = request.recent_failures.unwrap_or(DEFAULT_RECENT_FAILURES);
    if failures > MAX_RECENT_FAILURES {
        return Err(DashboardError::RecentFailures(failures));
    }
    let today = to_datetime(now).with_timezone(tz).date_naive();
    let first = today
        .checked_sub_days(Days::new(u64::from(days - 1)))
        .unwrap_or(today);
    // days + 1 boundaries: the start of each day and the end of today.
    let dates: Vec<NaiveDate> = first.iter_days().take(days as usize + 1).collect();
    let bounds: Vec<Millis> = dates.iter().map(|d| day_start(tz, *d)).collect();
    let (from, to) = (bounds[0], bounds[days as usize]);

    let mut out: Vec<DayCounts> = dates[..days as usize]
        .iter()
        .zip(&bounds)
        .map(|(d, &starts_at)| DayCounts {
            date: d.format("%Y-%m-%d").to_string(),
            starts_at,
            sent: 0,
            verified: 0,
            failed_verifications: 0,
            delivery_failures: 0,
            contacts_locked: 0,
        })
        .collect();
    let mut totals = Totals::default();

    // One pass over the window's events, read from the time index alone (it holds kind,
    // result and code). The bucketing is done here because a local day is not a fixed number
    // of milliseconds; comparing the kinds' bytes here is cheaper than a filter in SQL.
    let mut stmt = conn.prepare_cached(
        "SELECT at, kind, result, code_id IS NOT NULL FROM audit_events
          WHERE at >= ?1 AND at < ?2",
    )?;
    let mut rows = stmt.query(params![from, to])?;
    let mut day = 0usize;
    while let Some(r) = rows.next()? {
        let kind = r.get_ref(1)?.as_bytes().unwrap_or_default();
        if !matches!(kind, b"code_sent" | b"code_verify" | b"contact_locked") {
            continue;
        }
        let at: Millis = r.get(0)?;
        // Rows come in time order, so the day only ever moves forward.
        while day + 1 < out.len() && bounds[day + 1] <= at {
            day += 1;
        }
        let d = &mut out[day];
        let result = r.get_ref(2)?.as_bytes().unwrap_or_default();
        let for_a_code: bool = r.get(3)?;
        let (per_day, total) = match (kind, result) {
            // A test mail is a code_sent event without a code.
            (b"code_sent", _) if !for_a_code => continue,
            (b"code_sent", b"ok") => (&mut d.sent, &mut totals.sent),
            (b"code_sent", _) => (&mut d.delivery_failures, &mut totals.delivery_failures),
            (b"code_verify", b"ok") => (&mut d.verified, &mut totals.verified),
            (b"code_verify", b"failed") => (
                &mut d.failed_verifications,
                &mut totals.failed_verifications,
            ),
            // A refused verify is a locked contact, counted by its lock event.
            (b"code_verify", _) => continue,
            _ => (&mut d.contacts_locked, &mut totals.contacts_locked),
        };
        *per_day += 1;
        *total += 1;
    }

    Ok(Dashboard {
        from,
        to,
        days: out,
        totals,
        accounts: account_rates(conn, from, to)?,
        recent_failures: recent_failures(conn, from, to, failures)?,
    })
}

fn account_rates(
    conn: &Connection,
    from: Millis,
    to: Millis,
) -> Result<Vec<AccountRate>, DashboardError> {
    // Read from the time index alone and summed here: an office has a handful of accounts,
    // and a GROUP BY would sort every try of the month first.
    let mut stmt = conn.prepare_cached(
        "SELECT channel, account, code_id IS NULL, status FROM delivery_attempts
          WHERE at >= ?1 AND at < ?2",
    )?;
    let mut rows = stmt.query(params![from, to])?;
    let mut out: Vec<AccountRate> = Vec::new();
    while let Some(r) = rows.next()? {
        let channel = r.get_ref(0)?.as_str().unwrap_or_default();
        let account = r.get_ref(1)?.as_str().unwrap_or_default();
        let test: bool = r.get(2)?;
        let sent = r.get_ref(3)?.as_bytes().unwrap_or_default() == b"sent";
        let i = match out
            .iter()
            .position(|a| a.account == account && a.channel == channel)
        {
            Some(i) => i,
            None => {
                out.push(AccountRate {
                    channel: channel.to_string(),
                    account: account.to_string(),
                    sent: 0,
                    failed: 0,
                    success_rate: None,
                    test_sent: 0,
                    test_failed: 0,
                });
                out.len() - 1
            }
        };
        let rate = &mut out[i];
        match (test, sent) {
            (false, true) => rate.sent += 1,
            (false, false) => rate.failed += 1,
            (true, true) => rate.test_sent += 1,
            (true, false) => rate.test_failed += 1,
        }
    }
    out.sort_by(|a, b| (&a.channel, &a.account).cmp(&(&b.channel, &b.account)));
    for a in &mut out {
        let tries = a.sent + a.failed;
        a.success_rate = (tries > 0).then(|| a.sent as f64 / tries as f64);
    }
    Ok(out)
}

fn recent_failures(
    conn: &Connection,
    from: Millis,
    to: Millis,
    limit: u32,
) -> Result<Vec<RecentFailure>, DashboardError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT at, channel, account, recipient, failure_class, reply, code_id
           FROM delivery_attempts
          WHERE at >= ?1 AND at < ?2 AND status = 'failed'
          ORDER BY at DESC, id DESC
          LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![from, to, limit], |r| {
            let class: Option<String> = r.get(4)?;
            let code_id: Option<i64> = r.get(6)?;
            let channel: String = r.get(1)?;
            // The same class means another server on each channel (a mail server, Twilio).
            let on = channel.parse().unwrap_or(crate::contact::Channel::Email);
            Ok(RecentFailure {
                at: r.get(0)?,
                channel,
                account: r.get(2)?,
                recipient: r.get(3)?,
                hint: class
                    .as_deref()
                    .and_then(FailureClass::from_name)
                    .map(|c| c.hint_for(on)),
                failure_class: class,
                reply: r.get(5)?,
                challenge_id: code_id,
                test: code_id.is_none(),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn a_day_starts_at_local_midnight() {
        let tz = FixedOffset::east_opt(2 * 3600).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        // 2026-03-02T00:00+02:00 is 2026-03-01T22:00Z.
        assert_eq!(day_start(&tz, day), 1_772_402_400_000);
    }
}
