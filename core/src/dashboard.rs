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

    // One pass over the window's events through audit_by_time; the bucketing is done here
    // because a local day is not a fixed number of milliseconds.
    let mut stmt = conn.prepare_cached(
        "SELECT at,
                CASE WHEN kind = 'code_sent' AND code_id IS NOT NULL THEN 0
                     WHEN kind = 'code_verify' THEN 1
                     WHEN kind = 'contact_locked' THEN 2
                     ELSE 3 END,
                CASE result WHEN 'ok' THEN 0 WHEN 'failed' THEN 1 ELSE 2 END
           FROM audit_events
          WHERE at >= ?1 AND at < ?2
            AND kind IN ('code_sent', 'code_verify', 'contact_locked')",
    )?;
    let mut rows = stmt.query(params![from, to])?;
    while let Some(r) = rows.next()? {
        let at: Millis = r.get(0)?;
        let i = bounds.partition_point(|&b| b <= at).saturating_sub(1);
        let Some(day) = out.get_mut(i) else { continue };
        let kind: u8 = r.get(1)?;
        let result: u8 = r.get(2)?;
        // Kinds: 0 a code's delivery (a test mail has no code), 1 verify, 2 lock.
        // Results: 0 ok, 1 failed, 2 refused (a locked contact, counted by its lock event).
        let (per_day, total) = match (kind, result) {
            (0, 0) => (&mut day.sent, &mut totals.sent),
            (0, _) => (&mut day.delivery_failures, &mut totals.delivery_failures),
            (1, 0) => (&mut day.verified, &mut totals.verified),
            (1, 1) => (
                &mut day.failed_verifications,
                &mut totals.failed_verifications,
            ),
            (2, _) => (&mut day.contacts_locked, &mut totals.contacts_locked),
            _ => continue,
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
    let mut stmt = conn.prepare_cached(
        "SELECT channel, account, code_id IS NULL, status = 'sent', count(*)
           FROM delivery_attempts
          WHERE at >= ?1 AND at < ?2
          GROUP BY 1, 2, 3, 4
          ORDER BY 1, 2",
    )?;
    let mut rows = stmt.query(params![from, to])?;
    let mut out: Vec<AccountRate> = Vec::new();
    while let Some(r) = rows.next()? {
        let channel: String = r.get(0)?;
        let account: String = r.get(1)?;
        let test: bool = r.get(2)?;
        let sent: bool = r.get(3)?;
        let n: i64 = r.get(4)?;
        let n = u64::try_from(n).unwrap_or_default();
        let rate = match out.last_mut() {
            Some(a) if a.channel == channel && a.account == account => a,
            _ => {
                out.push(AccountRate {
                    channel,
                    account,
                    sent: 0,
                    failed: 0,
                    success_rate: None,
                    test_sent: 0,
                    test_failed: 0,
                });
                out.last_mut().expect("just pushed")
            }
        };
        match (test, sent) {
            (false, true) => rate.sent += n,
            (false, false) => rate.failed += n,
            (true, true) => rate.test_sent += n,
            (true, false) => rate.test_failed += n,
        }
    }
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
