//! The commands behind the desktop's admin screens: operators, the admin passphrase, the
//! Activity listing, the Dashboard, and restoring a backup.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use otp_desk_core::activity::{self, CodeFilter, CodeState};
use otp_desk_core::admin;
use otp_desk_core::clock::{format_ms, Millis};
use otp_desk_core::contact::Channel;
use otp_desk_core::dashboard::{self, DashboardRequest};
use otp_desk_core::operators::{self, Operator, OperatorError};
use otp_desk_core::store::Connection;
use serde_json::json;
use zeroize::Zeroizing;

use crate::commands::{
    create_file, find_customer, open_store, operator, parse_channel, parse_from, parse_to, Cli,
};
use crate::output::{CliError, Printer};

#[derive(Subcommand, Debug)]
pub enum OperatorsCmd {
    /// Everyone on the list, the active ones first
    List,
    /// Add a person who works the desk
    Add { name: String },
    /// Give an operator a new name (past events keep the old one)
    Rename { name: String, new_name: String },
    /// Take an operator out of the picker; the name stays in history
    Retire { name: String },
    /// Put a retired operator back in the picker
    Reactivate { name: String },
}

#[derive(Subcommand, Debug)]
pub enum AdminCmd {
    /// Whether a passphrase is set, and whether wrong tries have locked the admin area
    Status,
    /// Set the first admin passphrase, read from standard input (one line)
    SetPassphrase,
    /// Change the admin passphrase: standard input has the current one on the first line
    /// and the new one on the second
    ChangePassphrase,
}

#[derive(Subcommand, Debug)]
pub enum ActivityCmd {
    /// Codes, newest first, with their state and last delivery
    List {
        #[command(flatten)]
        filter: CodeFilterArgs,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// One code: its delivery tries and every event about it
    Show { challenge: i64 },
    /// Write the matching codes as CSV, oldest first
    Export {
        #[command(flatten)]
        filter: CodeFilterArgs,
        /// Write to this file instead of stdout
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Args, Debug, Default)]
pub struct CodeFilterArgs {
    #[arg(long, value_parser = parse_channel)]
    channel: Option<Channel>,
    /// pending, expired, verified, dead, superseded or cancelled (repeatable)
    #[arg(long = "state", value_parser = parse_state)]
    states: Vec<CodeState>,
    /// Created from this day (YYYY-MM-DD, UTC) or instant (RFC 3339)
    #[arg(long, value_parser = parse_from)]
    from: Option<Millis>,
    /// Created up to and including this day (YYYY-MM-DD, UTC) or instant (RFC 3339)
    #[arg(long, value_parser = parse_to)]
    to: Option<Millis>,
    /// Only codes issued by this operator
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// Only this customer's codes
    #[arg(long)]
    account: Option<String>,
    /// Part of the account number, the customer's name or the masked contact
    #[arg(long)]
    text: Option<String>,
}

fn parse_state(s: &str) -> Result<CodeState, String> {
    s.parse()
        .map_err(|e: activity::ActivityError| e.to_string())
}

fn code_filter(conn: &Connection, args: &CodeFilterArgs) -> Result<CodeFilter, CliError> {
    let customer_id = match &args.account {
        Some(a) => Some(find_customer(conn, a)?.id),
        None => None,
    };
    Ok(CodeFilter {
        channel: args.channel,
        states: args.states.clone(),
        from: args.from,
        to: args.to,
        operator: args.by.clone(),
        customer_id,
        text: args.text.clone(),
        limit: None,
        offset: None,
    })
}

fn find_operator(conn: &Connection, name: &str) -> Result<Operator, CliError> {
    operators::find(conn, name)?
        .ok_or_else(|| OperatorError::NotFound(otp_desk_core::contact::shorten(name.trim())).into())
}

pub fn run_operators(cli: &Cli, cmd: &OperatorsCmd, out: &Printer) -> Result<u8, CliError> {
    let store = open_store(cli)?;
    let line = |o: &Operator| {
        format!(
            "{:<40} {}",
            o.name,
            if o.active { "active" } else { "retired" }
        )
    };
    let changed = |o: Operator, what: &str| {
        out.emit(&o, format!("{}: {what}.", o.name));
        Ok(0)
    };
    match cmd {
        OperatorsCmd::List => {
            let all = operators::list(&store.conn())?;
            let text = if all.is_empty() {
                "No operators yet; add one with `operators add NAME`.".to_string()
            } else {
                all.iter().map(line).collect::<Vec<_>>().join("\n")
            };
            out.emit(&all, text);
            Ok(0)
        }
        OperatorsCmd::Add { name } => {
            let by = operator(cli)?;
            let o = operators::add(&mut store.conn(), store.clock(), &by, name)?;
            changed(o, "added")
        }
        OperatorsCmd::Rename { name, new_name } => {
            let by = operator(cli)?;
            let mut conn = store.conn();
            let o = find_operator(&conn, name)?;
            let old = o.name.clone();
            let o = operators::rename(&mut conn, store.clock(), &by, o.id, new_name)?;
            changed(o, &format!("renamed from {old}"))
        }
        OperatorsCmd::Retire { name } => {
            let by = operator(cli)?;
            let mut conn = store.conn();
            let o = find_operator(&conn, name)?;
            let o = operators::retire(&mut conn, store.clock(), &by, o.id)?;
            changed(o, "retired (kept in history, no longer in the picker)")
        }
        OperatorsCmd::Reactivate { name } => {
            let by = operator(cli)?;
            let mut conn = store.conn();
            let o = find_operator(&conn, name)?;
            let o = operators::reactivate(&mut conn, store.clock(), &by, o.id)?;
            changed(o, "active again")
        }
    }
}

/// Longest standard input a passphrase command reads: two passphrases of the longest kind,
/// each character up to four bytes, and their line breaks.
const MAX_PASSPHRASE_INPUT: u64 = (admin::MAX_PASSPHRASE_CHARS as u64 * 4 + 2) * 2;

/// Standard input as lines, wiped on drop. From stdin only: an argument would sit in the shell
/// history and the process list.
fn passphrase_lines(want: usize) -> Result<Vec<Zeroizing<String>>, CliError> {
    let mut buf = Zeroizing::new(Vec::new());
    io::stdin()
        .lock()
        .take(MAX_PASSPHRASE_INPUT + 1)
        .read_to_end(&mut buf)
        .map_err(|source| CliError::File {
            path: "stdin".into(),
            source,
        })?;
    if buf.len() as u64 > MAX_PASSPHRASE_INPUT {
        return Err(admin::AdminError::TooLong.into());
    }
    let text = std::str::from_utf8(&buf)
        .map_err(|_| CliError::Usage("the passphrase must be UTF-8 text".into()))?;
    let lines: Vec<Zeroizing<String>> = text
        .split('\n')
        .map(|l| Zeroizing::new(l.strip_suffix('\r').unwrap_or(l).to_string()))
        .collect();
    // One line break at the very end is the Enter key.
    let lines: Vec<Zeroizing<String>> = match lines.split_last() {
        Some((last, rest)) if last.is_empty() && !rest.is_empty() => rest.to_vec(),
        _ => lines,
    };
    if lines.len() != want {
        return Err(CliError::Usage(if want == 1 {
            "give the passphrase on one line of standard input".into()
        } else {
            "give the current passphrase on the first line of standard input and the new one on the second".into()
        }));
    }
    Ok(lines)
}

pub fn run_admin(cli: &Cli, cmd: &AdminCmd, out: &Printer) -> Result<u8, CliError> {
    let store = open_store(cli)?;
    match cmd {
        AdminCmd::Status => {
            let s = admin::status(&store.conn(), store.clock().now_ms())?;
            let text = match (s.is_set, s.locked_until) {
                (false, _) => {
                    "No admin passphrase is set yet; set one with `admin set-passphrase`.".into()
                }
                (true, Some(until)) => format!(
                    "An admin passphrase is set; too many wrong tries: locked until {}.",
                    format_ms(until)
                ),
                (true, None) => format!(
                    "An admin passphrase is set; {} wrong {} left before the admin area locks.",
                    s.attempts_left,
                    if s.attempts_left == 1 { "try" } else { "tries" }
                ),
            };
            out.emit(&s, text);
            Ok(0)
        }
        AdminCmd::SetPassphrase => {
            let by = operator(cli)?;
            let lines = passphrase_lines(1)?;
            admin::set(&mut store.conn(), store.clock(), &by, &lines[0])?;
            out.emit(
                &json!({ "passphrase_set": true }),
                "The admin passphrase is set.",
            );
            Ok(0)
        }
        AdminCmd::ChangePassphrase => {
            let by = operator(cli)?;
            let lines = passphrase_lines(2)?;
            admin::change(&mut store.conn(), store.clock(), &by, &lines[0], &lines[1])?;
            out.emit(
                &json!({ "passphrase_changed": true }),
                "The admin passphrase is changed.",
            );
            Ok(0)
        }
    }
}

fn code_line(c: &activity::CodeRow) -> String {
    let delivery = match &c.last_delivery {
        Some(d) => match &d.failure_class {
            Some(class) => format!("{} ({class}) via {}", d.status, d.account),
            None => format!("{} via {}", d.status, d.account),
        },
        None => "-".into(),
    };
    format!(
        "{:>6}  {}  {:<10} {:<5} {:<18} {:<12} {:<24} {}/{}  {:<12} {}",
        c.challenge_id,
        format_ms(c.created_at),
        c.state,
        c.channel,
        c.contact,
        c.account_number.as_deref().unwrap_or("-"),
        c.customer_name.as_deref().unwrap_or("(deleted)"),
        c.attempts,
        c.max_attempts,
        c.operator,
        delivery
    )
}

pub fn run_activity(cli: &Cli, cmd: &ActivityCmd, out: &Printer) -> Result<u8, CliError> {
    let store = open_store(cli)?;
    let now = store.clock().now_ms();
    let conn = store.conn();
    match cmd {
        ActivityCmd::List {
            filter,
            limit,
            offset,
        } => {
            let mut f = code_filter(&conn, filter)?;
            f.limit = Some(*limit);
            f.offset = Some(*offset);
            let page = activity::codes(&conn, &f, now)?;
            let text = if page.rows.is_empty() {
                format!("No codes match ({} in all).", page.total)
            } else {
                let mut lines: Vec<String> = page.rows.iter().map(code_line).collect();
                lines.push(format!(
                    "{}–{} of {}",
                    page.offset as usize + 1,
                    page.offset as usize + page.rows.len(),
                    page.total
                ));
                lines.join("\n")
            };
            out.emit(&page, text);
            Ok(0)
        }
        ActivityCmd::Show { challenge } => {
            let d = activity::code_detail(&conn, *challenge, now)?;
            let mut text = vec![code_line(&d.code), "deliveries:".into()];
            for a in &d.deliveries {
                text.push(format!(
                    "  {}  {:<7} {:<16} {:<14} {} ms  {}",
                    format_ms(a.at),
                    a.status,
                    a.account,
                    a.failure_class.as_deref().unwrap_or("-"),
                    a.duration_ms,
                    a.reply
                ));
            }
            text.push("events:".into());
            for e in &d.events {
                text.push(format!(
                    "  {}  {:<14} {:<8} {:<12} {}",
                    format_ms(e.at),
                    e.kind,
                    e.result,
                    e.operator,
                    e.detail
                ));
            }
            out.emit(&d, text.join("\n"));
            Ok(0)
        }
        ActivityCmd::Export { filter, output } => {
            let f = code_filter(&conn, filter)?;
            match output {
                Some(path) => {
                    let mut w = create_file(path)?;
                    let n = activity::export_codes_csv(&conn, &f, now, &mut w)?;
                    w.flush().map_err(|source| CliError::File {
                        path: path.display().to_string(),
                        source,
                    })?;
                    out.emit(&json!({ "exported": n }), format!("Exported {n} codes."));
                }
                None => {
                    activity::export_codes_csv(&conn, &f, now, io::stdout().lock())?;
                }
            }
            Ok(0)
        }
    }
}

pub fn run_dashboard(cli: &Cli, days: u32, failures: u32, out: &Printer) -> Result<u8, CliError> {
    let store = open_store(cli)?;
    let d = dashboard::summary(
        &store.conn(),
        store.clock().now_ms(),
        &chrono::Local,
        &DashboardRequest {
            days: Some(days),
            recent_failures: Some(failures),
        },
    )?;
    let mut text = vec![format!(
        "Last {} days, {} to {} (local time)",
        d.days.len(),
        d.days.first().map(|x| x.date.as_str()).unwrap_or("-"),
        d.days.last().map(|x| x.date.as_str()).unwrap_or("-")
    )];
    text.push(format!(
        "{:<10} {:>6} {:>9} {:>7} {:>16} {:>7}",
        "day", "sent", "verified", "failed", "delivery failed", "locked"
    ));
    for x in &d.days {
        text.push(format!(
            "{:<10} {:>6} {:>9} {:>7} {:>16} {:>7}",
            x.date,
            x.sent,
            x.verified,
            x.failed_verifications,
            x.delivery_failures,
            x.contacts_locked
        ));
    }
    let t = &d.totals;
    text.push(format!(
        "{:<10} {:>6} {:>9} {:>7} {:>16} {:>7}",
        "total", t.sent, t.verified, t.failed_verifications, t.delivery_failures, t.contacts_locked
    ));
    text.push("Delivery by account:".into());
    if d.accounts.is_empty() {
        text.push("  nothing was sent".into());
    }
    for a in &d.accounts {
        text.push(format!(
            "  {:<5} {:<24} {} sent, {} failed{}; test messages: {} sent, {} failed",
            a.channel,
            a.account,
            a.sent,
            a.failed,
            a.success_rate
                .map(|r| format!(" ({:.1} % delivered)", r * 100.0))
                .unwrap_or_default(),
            a.test_sent,
            a.test_failed
        ));
    }
    text.push("Recent delivery failures:".into());
    if d.recent_failures.is_empty() {
        text.push("  none".into());
    }
    for f in &d.recent_failures {
        text.push(format!(
            "  {}  {:<20} {:<18} {}{}\n      {}\n      server said: {}",
            format_ms(f.at),
            f.account,
            f.recipient,
            f.failure_class.as_deref().unwrap_or("-"),
            if f.test { " (test message)" } else { "" },
            f.hint.unwrap_or("-"),
            f.reply
        ));
    }
    out.emit(&d, text.join("\n"));
    Ok(0)
}

pub fn run_restore(cli: &Cli, file: &Path, out: &Printer) -> Result<u8, CliError> {
    let store = open_store(cli)?;
    let by = operator(cli)?;
    let r = store.restore_from(file, &by)?;
    out.emit(
        &r,
        format!(
            "Restored from {} ({} customers; {} pending codes cancelled, send new ones).\nThe database as it was before is in {}",
            r.restored_from, r.customers, r.pending_codes_cancelled, r.safety_copy
        ),
    );
    Ok(0)
}
