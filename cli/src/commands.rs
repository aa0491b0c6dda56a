//! The command tree and what each command calls in the core.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use clap::{Args, Parser, Subcommand};
use otp_desk_core::audit::{self, Kind, Outcome};
use otp_desk_core::clock::{format_ms, Millis};
use otp_desk_core::codes::{self, CodeKey, IssueRequest, Target};
use otp_desk_core::contact::Channel;
use otp_desk_core::customers::{self, CustomerInput, ImportMode};
use otp_desk_core::delivery::accounts::{self as mail_accounts, AccountInput};
use otp_desk_core::delivery::sms_accounts::{self, SmsAccountInput, SmsAccountKind};
use otp_desk_core::delivery::template::{self, Part};
use otp_desk_core::delivery::{self, oauth, Progress, SendRequest, Setup, SmsState};
use otp_desk_core::store::Connection;
use otp_desk_core::{secrets, settings, store, Store};
use serde_json::json;

use crate::desk::{ActivityCmd, AdminCmd, OperatorsCmd};
use crate::output::{CliError, Printer, ENVIRONMENT_FAILED, INPUT_REFUSED, NOT_VERIFIED};

#[derive(Parser, Debug)]
#[command(
    name = "otp-desk-cli",
    version,
    about = "OTP Desk from a terminal: customers, one-time codes, audit trail, settings, backups",
    after_help = "Exit codes: 0 done, 1 not verified, 2 bad command line, 3 input refused, \
                  4 refused by policy or not found, 5 database/keyring/file failure."
)]
pub struct Cli {
    /// Database file [default: the OS app-data folder]
    #[arg(long, global = true, env = "OTP_DESK_DB", value_name = "PATH")]
    db: Option<PathBuf>,

    /// Who is acting, as the audit trail will show it [default: cli:$USER]
    #[arg(long, global = true, env = "OTP_DESK_OPERATOR", value_name = "NAME")]
    operator: Option<String>,

    /// Print results as JSON (for scripts)
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Find, add, import and export customers
    #[command(subcommand)]
    Customers(CustomersCmd),
    /// Issue, verify and inspect one-time codes
    #[command(subcommand)]
    Otp(OtpCmd),
    /// Delete codes that expired longer ago than the retention window (audit rows stay)
    #[command(name = "cleanup-otps")]
    CleanupOtps {
        /// Keep codes this many days after expiry [default: the retention_days setting]
        #[arg(long, value_name = "DAYS")]
        retention_days: Option<u32>,
    },
    /// Read and export the audit trail
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Copy the live database to a new file (safe while desks are working)
    Backup {
        /// The file to create; must not exist yet
        file: PathBuf,
    },
    /// Replace the database with a backup file (a safety copy of the current one is written
    /// next to it first; codes still pending in the backup are cancelled)
    Restore {
        /// A file made by `backup` (or "Backup now" in the app)
        file: PathBuf,
    },
    /// The people who work the desk: list, add, rename, retire, reactivate
    #[command(subcommand)]
    Operators(OperatorsCmd),
    /// The admin passphrase that guards settings, accounts, imports, exports and backups
    #[command(subcommand)]
    Admin(AdminCmd),
    /// Every code and what became of it: list, show one, export as CSV
    #[command(subcommand)]
    Activity(ActivityCmd),
    /// Codes sent, verified, failed and locked per day, delivery per account, recent failures
    Dashboard {
        /// Days ending today (1-366)
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// How many recent delivery failures to list (0-100)
        #[arg(long, default_value_t = 10)]
        failures: u32,
    },
    /// Read and change settings (policy values are checked against their allowed ranges)
    #[command(subcommand)]
    Settings(SettingsCmd),
    /// Where the database and the secrets are, and what the database holds
    Info,
    /// Mail accounts and the message templates
    #[command(subcommand)]
    Mail(MailCmd),
    /// Send a sample message through a mail account and report each step with its timing
    #[command(name = "test-mail")]
    TestMail {
        /// The mail account's name (see `mail accounts list`)
        #[arg(long)]
        account: String,
        /// Where the test message goes
        #[arg(long)]
        to: String,
    },
    /// SMS accounts (Twilio, console) and the SMS text
    #[command(subcommand)]
    Sms(SmsCmd),
    /// Send a sample text message through an SMS account and report each step with its timing
    #[command(name = "test-sms")]
    TestSms {
        /// The SMS account's name (see `sms accounts list`)
        #[arg(long)]
        account: String,
        /// The mobile number the test message goes to (with its country code, or as dialled
        /// in the default_region setting)
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand, Debug)]
enum SmsCmd {
    /// Add, change, list and remove SMS accounts; set the default and the auth token
    #[command(subcommand)]
    Accounts(SmsAccountsCmd),
    /// Show, change, preview and reset the SMS text
    #[command(subcommand)]
    Template(SmsTemplateCmd),
}

#[derive(Subcommand, Debug)]
enum SmsAccountsCmd {
    /// Every SMS account, the default first (tokens are never shown, only whether one is set)
    List,
    /// Add an account: twilio or console (the first account becomes the default)
    Add(SmsAccountArgs),
    /// Change a Twilio account's SID, sender or API address (what is not given stays)
    Update(SmsAccountUpdate),
    /// Remove an account and its auth token (removing the default turns SMS off)
    Remove { name: String },
    /// Make an account the one codes are sent through by SMS
    SetDefault { name: String },
    /// Store the Twilio auth token in the keyring, read from standard input
    SetToken {
        name: String,
        /// Delete the stored token instead
        #[arg(long)]
        delete: bool,
    },
}

#[derive(Args, Debug)]
struct SmsAccountArgs {
    #[arg(long)]
    name: String,
    /// twilio (needs --account-sid and --from or --messaging-service) or console
    #[arg(long)]
    kind: String,
    /// The Twilio account SID (AC followed by 32 hex digits)
    #[arg(long, default_value = "", hide_default_value = true)]
    account_sid: String,
    /// The Twilio number messages come from (E.164, e.g. +15017122661)
    #[arg(long = "from", default_value = "", hide_default_value = true)]
    from_number: String,
    /// Or: the Twilio Messaging Service that picks the sender (MG followed by 32 hex digits)
    #[arg(long, default_value = "", hide_default_value = true)]
    messaging_service: String,
    /// The API's base URL [default: https://api.twilio.com]; http:// only for localhost
    #[arg(long, default_value = "", hide_default_value = true)]
    api_base: String,
}

#[derive(Args, Debug)]
struct SmsAccountUpdate {
    name: String,
    #[arg(long)]
    account_sid: Option<String>,
    /// Send from this number (replaces a Messaging Service)
    #[arg(long = "from", conflicts_with = "messaging_service")]
    from_number: Option<String>,
    /// Send through this Messaging Service (replaces a From number)
    #[arg(long)]
    messaging_service: Option<String>,
    #[arg(long)]
    api_base: Option<String>,
}

#[derive(Subcommand, Debug)]
enum SmsTemplateCmd {
    /// Print the SMS text in force, its length, and the variables it may use
    Show,
    /// Replace the SMS text with the contents of FILE ("-" reads stdin); checked before saving
    Set { file: PathBuf },
    /// Put the SMS text back to the built-in default
    Reset,
    /// Render the SMS text with sample values (optionally a draft not yet saved) and count
    /// the text messages it takes
    Preview {
        #[arg(long, value_name = "FILE")]
        text: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum MailCmd {
    /// Add, list and remove mail accounts; set the default and passwords
    #[command(subcommand)]
    Accounts(AccountsCmd),
    /// Show, change and preview the message templates (subject, text, html)
    #[command(subcommand)]
    Template(TemplateCmd),
}

#[derive(Subcommand, Debug)]
enum AccountsCmd {
    /// Every account, the default first (passwords are never shown, only whether one is set)
    List,
    /// Add an account: gmail, microsoft365, smtp, console or outbox
    // Boxed: the other commands are a name or nothing, and clippy weighs enum variants.
    Add(Box<AddAccount>),
    /// Remove an account and its stored password (not the default account)
    Remove { name: String },
    /// Make an account the one codes are sent through
    SetDefault { name: String },
    /// Store the account's password in the keyring, read from standard input
    SetPassword {
        name: String,
        /// Delete the stored password instead
        #[arg(long)]
        delete: bool,
    },
    /// Sign a microsoft365 account in with a code entered at the shown web address; the
    /// refresh token goes to the keyring
    SignIn { name: String },
    /// Delete the account's Microsoft sign-in (the refresh token) from the keyring
    SignOut { name: String },
}

#[derive(Args, Debug)]
struct AddAccount {
    #[arg(long)]
    name: String,
    /// gmail and microsoft365 fill in their server; smtp needs --host, --port, --security
    #[arg(long)]
    kind: String,
    #[arg(long, default_value = "")]
    host: String,
    #[arg(long)]
    port: Option<u32>,
    /// starttls (port 587), tls (port 465) or none (localhost only)
    #[arg(long, default_value = "")]
    security: String,
    #[arg(long, default_value = "")]
    username: String,
    /// The sender's address
    #[arg(long = "from")]
    from_address: String,
    /// The sender's name [default: the company_name setting]
    #[arg(long, default_value = "")]
    from_name: String,
    /// A PEM file with the office server's own CA certificate (smtp only)
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Outbox only: the folder for the .eml files [default: outbox/ next to the database]
    #[arg(long, value_name = "DIR")]
    folder: Option<PathBuf>,
    /// microsoft365 with "Sign in with Microsoft": the directory (tenant) id, a domain, or
    /// organizations
    #[arg(long, default_value = "", hide_default_value = true)]
    tenant: String,
    /// The application (client) id of the app registered in Entra ID
    #[arg(long, default_value = "", hide_default_value = true)]
    client_id: String,
    /// The sign-in service's base URL [default: https://login.microsoftonline.com]
    #[arg(long, default_value = "", hide_default_value = true)]
    authority: String,
}

#[derive(Subcommand, Debug)]
enum TemplateCmd {
    /// Print the templates in force, and the variables they may use
    Show {
        /// Only this part: subject, text or html
        #[arg(long, value_parser = parse_part)]
        part: Option<Part>,
    },
    /// Replace one part with the contents of FILE ("-" reads stdin); checked before it is saved
    Set {
        #[arg(value_parser = parse_part)]
        part: Part,
        file: PathBuf,
    },
    /// Put one part back to the built-in default
    Reset {
        #[arg(value_parser = parse_part)]
        part: Part,
    },
    /// Render the templates with sample values (optionally with drafts not yet saved)
    Preview {
        #[arg(long, value_name = "FILE")]
        subject: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        text: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum CustomersCmd {
    /// Import customers from a CSV file with a header row (upsert by account number)
    Import {
        /// CSV file (comma or semicolon, UTF-8 with or without BOM); "-" reads stdin
        file: PathBuf,
        /// all-or-nothing: any bad row cancels the import; skip-invalid: import the good rows
        #[arg(long, default_value = "all-or-nothing", value_parser = parse_mode)]
        mode: ImportMode,
    },
    /// Write all customers as CSV (the import format)
    Export {
        /// Write to this file instead of stdout
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Find customers by any fragment of name, account number, email or phone
    Search {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Show one customer
    Show { account: String },
    /// Add a customer
    Add(CustomerFields),
    /// Change a customer (fields not given keep their value)
    Edit {
        account: String,
        #[command(flatten)]
        fields: EditFields,
    },
    /// Delete a customer (refused while a code for them is pending)
    Delete { account: String },
    /// Add sample customers (for a fresh install or a demo); running it twice is harmless
    Sample {
        #[arg(long, default_value_t = 25)]
        count: usize,
    },
}

#[derive(Args, Debug)]
struct CustomerFields {
    #[arg(long)]
    account: String,
    #[arg(long)]
    name: String,
    #[arg(long, default_value = "")]
    email: String,
    #[arg(long, default_value = "")]
    phone: String,
    #[arg(long, default_value = "")]
    address: String,
    #[arg(long, default_value = "")]
    notes: String,
}

#[derive(Args, Debug)]
struct EditFields {
    #[arg(long)]
    name: Option<String>,
    /// New email ("" removes it)
    #[arg(long)]
    email: Option<String>,
    /// New phone ("" removes it)
    #[arg(long)]
    phone: Option<String>,
    #[arg(long)]
    address: Option<String>,
    #[arg(long)]
    notes: Option<String>,
}

#[derive(Subcommand, Debug)]
enum OtpCmd {
    /// Issue a code and print it, for scripts that deliver it themselves (audited)
    Issue {
        /// The customer's account number
        #[arg(long)]
        account: String,
        #[arg(long, value_parser = parse_channel)]
        channel: Channel,
        /// The contact to use; must be the one on file [default: the one on file]
        #[arg(long)]
        to: Option<String>,
        /// Print the code on stdout; required, and recorded in the audit trail
        #[arg(long)]
        print_code: bool,
    },
    /// Check a code the customer read out; exit 0 when verified, 1 when not
    Verify {
        /// The challenge id printed by `otp issue`
        #[arg(long, conflicts_with = "to", required_unless_present = "to")]
        challenge: Option<i64>,
        /// Or: the email address or phone number the code was sent to
        #[arg(long)]
        to: Option<String>,
        /// The code; "-" reads it from stdin (keeps it out of shell history)
        code: String,
    },
    /// Show a code's state (never the code)
    Status { challenge: i64 },
    /// Issue a code and deliver it by email or SMS through the default account (the code is
    /// never shown)
    Send {
        /// The customer's account number
        #[arg(long)]
        account: String,
        #[arg(long, value_parser = parse_channel)]
        channel: Channel,
        /// Send through this account instead of the default (a mail account for email, an
        /// SMS account for SMS)
        #[arg(long, value_name = "ACCOUNT")]
        via: Option<String>,
        /// SMS: follow the message until the phone network says delivered or not (up to 30 s)
        #[arg(long)]
        track: bool,
    },
}

#[derive(Subcommand, Debug)]
enum AuditCmd {
    /// List events, newest first
    List {
        #[command(flatten)]
        filter: AuditFilterArgs,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Write matching events as CSV, oldest first
    Export {
        #[command(flatten)]
        filter: AuditFilterArgs,
        /// Write to this file instead of stdout
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Args, Debug, Default)]
struct AuditFilterArgs {
    /// Event type, e.g. code_issued, code_verify (repeatable)
    #[arg(long = "kind", value_parser = parse_kind)]
    kinds: Vec<Kind>,
    /// ok, failed or refused
    #[arg(long, value_parser = parse_outcome)]
    result: Option<Outcome>,
    #[arg(long, value_parser = parse_channel)]
    channel: Option<Channel>,
    /// Only this customer's events
    #[arg(long)]
    account: Option<String>,
    /// From this day (YYYY-MM-DD, UTC) or instant (RFC 3339)
    #[arg(long, value_parser = parse_from)]
    from: Option<Millis>,
    /// Up to and including this day (YYYY-MM-DD, UTC) or instant (RFC 3339)
    #[arg(long, value_parser = parse_to)]
    to: Option<Millis>,
    /// Only events recorded under this operator name
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// Only events about this code (challenge id)
    #[arg(long, value_name = "ID")]
    challenge: Option<i64>,
    /// Text anywhere in operator, account, contact or detail
    #[arg(long)]
    text: Option<String>,
}

#[derive(Subcommand, Debug)]
enum SettingsCmd {
    /// Every setting with its value, default and allowed range
    List,
    Get {
        key: String,
    },
    Set {
        key: String,
        value: String,
    },
}

fn parse_mode(s: &str) -> Result<ImportMode, String> {
    s.parse()
        .map_err(|e: customers::CustomerError| e.to_string())
}

pub(crate) fn parse_channel(s: &str) -> Result<Channel, String> {
    s.parse()
        .map_err(|e: otp_desk_core::contact::ContactError| e.to_string())
}

/// A part of the email template; the SMS text has commands of its own.
fn parse_part(s: &str) -> Result<Part, String> {
    match s.parse() {
        Ok(Part::Sms) => Err("the SMS text is changed with `sms template`".into()),
        Ok(p) => Ok(p),
        Err(e) => Err(format!("{e}").replace(", html or sms", " or html")),
    }
}

pub(crate) fn parse_kind(s: &str) -> Result<Kind, String> {
    s.parse().map_err(|e: audit::AuditError| {
        let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        format!("{e}; one of: {}", all.join(", "))
    })
}

pub(crate) fn parse_outcome(s: &str) -> Result<Outcome, String> {
    s.parse().map_err(|e: audit::AuditError| e.to_string())
}

fn parse_instant(s: &str, end_of_day: bool) -> Result<Millis, String> {
    let s = s.trim();
    if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let time = if end_of_day {
            NaiveTime::from_hms_milli_opt(23, 59, 59, 999)
        } else {
            NaiveTime::from_hms_opt(0, 0, 0)
        }
        .expect("valid constant time");
        return Ok(Utc
            .from_utc_datetime(&day.and_time(time))
            .timestamp_millis());
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            "expected a date like 2026-03-02 or an instant like 2026-03-02T09:00:00Z".into()
        })
}

pub(crate) fn parse_from(s: &str) -> Result<Millis, String> {
    parse_instant(s, false)
}

pub(crate) fn parse_to(s: &str) -> Result<Millis, String> {
    parse_instant(s, true)
}

pub(crate) fn open_store(cli: &Cli) -> Result<Store, CliError> {
    let path = match &cli.db {
        Some(p) if !p.as_os_str().is_empty() => p.clone(),
        _ => store::default_db_path()?,
    };
    Ok(Store::open(path)?)
}

pub(crate) fn operator(cli: &Cli) -> Result<String, CliError> {
    let name = match &cli.operator {
        Some(o) => o.clone(),
        None => format!(
            "cli:{}",
            std::env::var("USER")
                .or_else(|_| std::env::var("USERNAME"))
                .unwrap_or_else(|_| "unknown".into())
        ),
    };
    Ok(audit::operator_name(&name)?)
}

pub(crate) fn create_file(path: &Path) -> Result<BufWriter<File>, CliError> {
    File::create(path)
        .map(BufWriter::new)
        .map_err(|source| CliError::File {
            path: path.display().to_string(),
            source,
        })
}

pub(crate) fn find_customer(
    conn: &Connection,
    account: &str,
) -> Result<customers::Customer, CliError> {
    customers::by_account(conn, account)?.ok_or_else(|| {
        CliError::NotFound(format!(
            "no customer with account number \"{}\"",
            otp_desk_core::contact::shorten(account)
        ))
    })
}

pub fn run(cli: Cli) -> Result<u8, CliError> {
    let out = Printer { json: cli.json };
    match &cli.command {
        Command::Customers(cmd) => run_customers(&cli, cmd, &out),
        Command::Otp(cmd) => run_otp(&cli, cmd, &out),
        Command::CleanupOtps { retention_days } => {
            let store = open_store(&cli)?;
            let op = operator(&cli)?;
            let r = codes::cleanup(&mut store.conn(), store.clock(), &op, *retention_days)?;
            out.emit(
                &r,
                format!(
                    "Deleted {} codes that expired before {}; the audit trail is unchanged.",
                    r.deleted_codes,
                    format_ms(r.cutoff)
                ),
            );
            Ok(0)
        }
        Command::Audit(cmd) => run_audit(&cli, cmd, &out),
        Command::Backup { file } => {
            let store = open_store(&cli)?;
            let op = operator(&cli)?;
            store.backup_to(file)?;
            audit::record(
                &store.conn(),
                store.clock(),
                &audit::Event::new(Kind::BackupMade, Outcome::Ok, &op)
                    .detail(format!("to {}", file.display())),
            )?;
            out.emit(
                &json!({ "backup": file }),
                format!("Backup written to {}", file.display()),
            );
            Ok(0)
        }
        Command::Settings(cmd) => run_settings(&cli, cmd, &out),
        Command::Restore { file } => crate::desk::run_restore(&cli, file, &out),
        Command::Operators(cmd) => crate::desk::run_operators(&cli, cmd, &out),
        Command::Admin(cmd) => crate::desk::run_admin(&cli, cmd, &out),
        Command::Activity(cmd) => crate::desk::run_activity(&cli, cmd, &out),
        Command::Dashboard { days, failures } => {
            crate::desk::run_dashboard(&cli, *days, *failures, &out)
        }
        Command::Mail(MailCmd::Accounts(cmd)) => run_accounts(&cli, cmd, &out),
        Command::Mail(MailCmd::Template(cmd)) => run_template(&cli, cmd, &out),
        Command::Sms(SmsCmd::Accounts(cmd)) => run_sms_accounts(&cli, cmd, &out),
        Command::Sms(SmsCmd::Template(cmd)) => run_sms_template(&cli, cmd, &out),
        Command::TestSms { account, to } => {
            let store = open_store(&cli)?;
            let op = operator(&cli)?;
            let setup = Setup::for_database(store.path()).with_secrets(secrets::from_env()?.into());
            let report = delivery::send_test_sms(&store, &setup, &op, account, to)?;
            let mut text = format!("Test SMS through \"{}\":", report.account);
            for s in &report.steps {
                text.push_str(&format!(
                    "\n  {} {:<8} {:>5} ms  {}",
                    if s.ok { "ok  " } else { "FAIL" },
                    s.step,
                    s.duration_ms,
                    s.detail
                ));
            }
            if let Some(f) = &report.failure {
                text.push_str(&format!(
                    "\nThe test SMS failed ({}); the failed step says what to fix.",
                    f.class.as_str()
                ));
            }
            out.emit(&report, text);
            let refused_number = report
                .steps
                .last()
                .is_some_and(|s| s.step == "number" && !s.ok);
            Ok(match &report.failure {
                None => 0,
                Some(_) if refused_number => INPUT_REFUSED,
                Some(_) => ENVIRONMENT_FAILED,
            })
        }
        Command::TestMail { account, to } => {
            let store = open_store(&cli)?;
            let op = operator(&cli)?;
            let setup = Setup::for_database(store.path()).with_secrets(secrets::from_env()?.into());
            let report = delivery::send_test(&store, &setup, &op, account, to)?;
            let mut text = format!("Test mail through \"{}\":", report.account);
            for s in &report.steps {
                text.push_str(&format!(
                    "\n  {} {:<8} {:>5} ms  {}",
                    if s.ok { "ok  " } else { "FAIL" },
                    s.step,
                    s.duration_ms,
                    s.detail
                ));
            }
            if let Some(f) = &report.failure {
                text.push_str(&format!(
                    "\nThe test mail failed ({}); the failed step says what to fix.",
                    f.class.as_str()
                ));
            }
            out.emit(&report, text);
            Ok(if report.ok() { 0 } else { ENVIRONMENT_FAILED })
        }
        Command::Info => {
            let store = open_store(&cli)?;
            let secrets = secrets::from_env()?;
            let conn = store.conn();
            let path = store
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let customers = customers::count(&conn)?;
            let info = json!({
                "version": env!("CARGO_PKG_VERSION"),
                "database": path,
                "schema_version": store::schema_version(),
                "customers": customers,
                "secrets": secrets.describe(),
            });
            out.emit(
                &info,
                format!(
                    "OTP Desk {}\ndatabase   {path} (schema {})\ncustomers  {customers}\nsecrets    {}",
                    env!("CARGO_PKG_VERSION"),
                    store::schema_version(),
                    secrets.describe()
                ),
            );
            Ok(0)
        }
    }
}

fn run_customers(cli: &Cli, cmd: &CustomersCmd, out: &Printer) -> Result<u8, CliError> {
    let store = open_store(cli)?;
    match cmd {
        CustomersCmd::Import { file, mode } => {
            let op = operator(cli)?;
            let input: Box<dyn Read> = if file.as_os_str() == "-" {
                Box::new(io::stdin().lock())
            } else {
                Box::new(BufReader::new(File::open(file).map_err(|source| {
                    CliError::File {
                        path: file.display().to_string(),
                        source,
                    }
                })?))
            };
            let report = customers::import(
                &mut store.conn(),
                store.clock(),
                &op,
                input,
                *mode,
                &mut |_| {},
            )?;
            let mut text = format!(
                "{} rows read: {} added, {} updated, {} rejected.",
                report.rows,
                report.inserted,
                report.updated,
                report.rejected.len()
            );
            for r in &report.rejected {
                text.push_str(&format!(
                    "\n  line {}{}: {}",
                    r.line,
                    r.account_number
                        .as_deref()
                        .map(|a| format!(" ({a})"))
                        .unwrap_or_default(),
                    r.reason
                ));
            }
            if !report.committed {
                text.push_str("\nNothing was imported (all-or-nothing). Fix the rows above, or use --mode skip-invalid.");
            }
            out.emit(&report, text);
            Ok(if report.committed && report.rejected.is_empty() {
                0
            } else {
                3
            })
        }
        CustomersCmd::Export { output } => {
            let conn = store.conn();
            let n = match output {
                Some(path) => {
                    let mut w = create_file(path)?;
                    let n = customers::export(&conn, &mut w)?;
                    w.flush().map_err(|source| CliError::File {
                        path: path.display().to_string(),
                        source,
                    })?;
                    n
                }
                None => customers::export(&conn, io::stdout().lock())?,
            };
            if output.is_some() {
                out.emit(
                    &json!({ "exported": n }),
                    format!("Exported {n} customers."),
                );
            }
            Ok(0)
        }
        CustomersCmd::Search {
            query,
            limit,
            offset,
        } => {
            let hits = customers::search(&store.conn(), query, *limit, *offset)?;
            let text = if hits.is_empty() {
                "No customers match.".to_string()
            } else {
                hits.iter()
                    .map(customer_line)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            out.emit(&hits, text);
            Ok(0)
        }
        CustomersCmd::Show { account } => {
            let c = find_customer(&store.conn(), account)?;
            let text = format!(
                "{}\n  account   {}\n  email     {}\n  phone     {}{}\n  address   {}\n  notes     {}",
                c.name,
                c.account_number,
                c.email.as_deref().unwrap_or("-"),
                c.phone.as_deref().unwrap_or("-"),
                c.phone_e164.as_deref().map(|e| format!(" ({e})")).unwrap_or_default(),
                c.service_address,
                c.notes
            );
            out.emit(&c, text);
            Ok(0)
        }
        CustomersCmd::Add(f) => {
            let op = operator(cli)?;
            let input = CustomerInput {
                account_number: f.account.clone(),
                name: f.name.clone(),
                email: f.email.clone(),
                phone: f.phone.clone(),
                service_address: f.address.clone(),
                notes: f.notes.clone(),
            };
            let c = customers::create(&mut store.conn(), store.clock(), &op, &input)?;
            out.emit(&c, format!("Added {} ({}).", c.name, c.account_number));
            Ok(0)
        }
        CustomersCmd::Edit { account, fields } => {
            let op = operator(cli)?;
            let mut conn = store.conn();
            let c = find_customer(&conn, account)?;
            let input = CustomerInput {
                account_number: c.account_number.clone(),
                name: fields.name.clone().unwrap_or(c.name),
                email: fields.email.clone().unwrap_or(c.email.unwrap_or_default()),
                phone: fields.phone.clone().unwrap_or(c.phone.unwrap_or_default()),
                service_address: fields.address.clone().unwrap_or(c.service_address),
                notes: fields.notes.clone().unwrap_or(c.notes),
            };
            let updated = customers::update(&mut conn, store.clock(), &op, c.id, &input)?;
            out.emit(
                &updated,
                format!("Updated {} ({}).", updated.name, updated.account_number),
            );
            Ok(0)
        }
        CustomersCmd::Delete { account } => {
            let op = operator(cli)?;
            let mut conn = store.conn();
            let c = find_customer(&conn, account)?;
            customers::delete(&mut conn, store.clock(), &op, c.id)?;
            out.emit(
                &json!({ "deleted": c.account_number }),
                format!("Deleted {} ({}).", c.name, c.account_number),
            );
            Ok(0)
        }
        CustomersCmd::Sample { count } => {
            let op = operator(cli)?;
            if *count == 0 || *count > 10_000 {
                return Err(CliError::Usage(
                    "--count must be between 1 and 10000".into(),
                ));
            }
            let n = customers::load_sample(&mut store.conn(), store.clock(), &op, *count)?;
            out.emit(
                &json!({ "loaded": n }),
                format!("Loaded {n} sample customers."),
            );
            Ok(0)
        }
    }
}

fn customer_line(c: &customers::Customer) -> String {
    format!(
        "{:<14} {:<32} {:<34} {}",
        c.account_number,
        c.name,
        c.email.as_deref().unwrap_or("-"),
        c.phone.as_deref().unwrap_or("-")
    )
}

fn code_key(store: &Store) -> Result<CodeKey, CliError> {
    let secrets = secrets::from_env()?;
    Ok(CodeKey::load_or_create(&store.conn(), secrets.as_ref())?)
}

fn run_otp(cli: &Cli, cmd: &OtpCmd, out: &Printer) -> Result<u8, CliError> {
    let store = open_store(cli)?;
    match cmd {
        OtpCmd::Issue {
            account,
            channel,
            to,
            print_code,
        } => {
            if !print_code {
                return Err(CliError::Usage(
                    "`otp issue` hands the code to the caller instead of delivering it; add --print-code to confirm (this is recorded in the audit trail)".into(),
                ));
            }
            let op = operator(cli)?;
            let key = code_key(&store)?;
            let customer = find_customer(&store.conn(), account)?;
            let issued = codes::issue(
                &mut store.conn(),
                store.clock(),
                &key,
                &IssueRequest {
                    customer_id: customer.id,
                    channel: *channel,
                    destination: to.as_deref(),
                    operator: &op,
                    revealed: true,
                },
            )?;
            out.emit(
                &json!({
                    "challenge_id": issued.challenge_id,
                    "code": issued.code.as_str(),
                    "channel": issued.channel,
                    "sent_to": issued.masked_destination,
                    "expires_at": format_ms(issued.expires_at),
                    "resend_at": format_ms(issued.resend_at),
                }),
                format!(
                    "{}\nchallenge {} for {} via {}, valid until {}",
                    issued.code.as_str(),
                    issued.challenge_id,
                    issued.masked_destination,
                    issued.channel,
                    format_ms(issued.expires_at)
                ),
            );
            Ok(0)
        }
        OtpCmd::Verify {
            challenge,
            to,
            code,
        } => {
            let op = operator(cli)?;
            let typed = if code == "-" {
                let mut s = String::new();
                io::stdin()
                    .lock()
                    .take(1024)
                    .read_to_string(&mut s)
                    .map_err(|source| CliError::File {
                        path: "stdin".into(),
                        source,
                    })?;
                zeroize::Zeroizing::new(s.trim().to_string())
            } else {
                zeroize::Zeroizing::new(code.clone())
            };
            let key = code_key(&store)?;
            let target = match (challenge, to) {
                (Some(id), _) => Target::Challenge(*id),
                (None, Some(dest)) => Target::Destination(dest),
                (None, None) => {
                    return Err(CliError::Usage(
                        "give --challenge ID or --to CONTACT".into(),
                    ))
                }
            };
            let r = codes::verify(&mut store.conn(), store.clock(), &key, target, &typed, &op)?;
            out.emit(&r, r.verdict.explain());
            Ok(if r.verdict.is_verified() {
                0
            } else {
                NOT_VERIFIED
            })
        }
        OtpCmd::Send {
            account,
            channel,
            via,
            track,
        } => {
            if *track && *channel != Channel::Sms {
                return Err(CliError::Usage(
                    "--track follows a text message; it is for --channel sms".into(),
                ));
            }
            let op = operator(cli)?;
            let key = code_key(&store)?;
            let customer = find_customer(&store.conn(), account)?;
            let setup = Setup::for_database(store.path()).with_secrets(secrets::from_env()?.into());
            let progress = |p: &Progress| tracing::info!("delivery: {}", describe_progress(p));
            let r = delivery::send_code(
                &store,
                &key,
                &setup,
                &SendRequest {
                    customer_id: customer.id,
                    channel: *channel,
                    operator: &op,
                    account: via.as_deref(),
                    progress: Some(&progress),
                },
            )?;
            let mut text = format!(
                "Sent to {} via {} ({}); challenge {}, valid until {}, resend from {}",
                r.sent_to,
                r.account,
                r.delivered_to,
                r.challenge_id,
                format_ms(r.expires_at),
                format_ms(r.resend_at)
            );
            if !*track {
                out.emit(&r, text);
                return Ok(0);
            }
            let last = delivery::track(&store, &setup, r.challenge_id, &mut |s| {
                // The changes go to the terminal as they come; stdout keeps the one result.
                eprintln!("sms status: {}: {}", state_name(s.state), s.message);
            })?;
            text.push_str(&format!(
                "\nSMS status: {}: {}",
                state_name(last.state),
                last.message
            ));
            out.emit(&json!({ "sent": r, "sms_status": last }), text);
            Ok(match last.state {
                SmsState::Undelivered | SmsState::Failed => ENVIRONMENT_FAILED,
                _ => 0,
            })
        }
        OtpCmd::Status { challenge } => {
            let s = codes::status(&store.conn(), *challenge, store.clock().now_ms())?;
            let text = format!(
                "challenge {}: {} via {} to {}; expires {}; {} attempts left; resend from {}",
                s.challenge_id,
                s.state,
                s.channel,
                s.masked_destination,
                format_ms(s.expires_at),
                s.attempts_left,
                format_ms(s.resend_at)
            );
            out.emit(&s, text);
            Ok(0)
        }
    }
}

fn audit_filter(store: &Store, args: &AuditFilterArgs) -> Result<audit::Filter, CliError> {
    let customer_id = match &args.account {
        Some(a) => Some(find_customer(&store.conn(), a)?.id),
        None => None,
    };
    Ok(audit::Filter {
        kinds: args.kinds.clone(),
        outcome: args.result,
        channel: args.channel,
        customer_id,
        operator: args.by.clone(),
        code_id: args.challenge,
        from: args.from,
        to: args.to,
        text: args.text.clone(),
        limit: None,
        offset: None,
    })
}

fn run_audit(cli: &Cli, cmd: &AuditCmd, out: &Printer) -> Result<u8, CliError> {
    let store = open_store(cli)?;
    match cmd {
        AuditCmd::List {
            filter,
            limit,
            offset,
        } => {
            let mut f = audit_filter(&store, filter)?;
            f.limit = Some(*limit);
            f.offset = Some(*offset);
            let rows = audit::query(&store.conn(), &f)?;
            let text = if rows.is_empty() {
                "No events match.".to_string()
            } else {
                rows.iter()
                    .map(|e| {
                        format!(
                            "{}  {:<18} {:<8} {:<12} {:<10} {:<18} {}",
                            format_ms(e.at),
                            e.kind,
                            e.result,
                            e.operator,
                            e.account_number.as_deref().unwrap_or("-"),
                            e.destination.as_deref().unwrap_or("-"),
                            e.detail
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            out.emit(&rows, text);
            Ok(0)
        }
        AuditCmd::Export { filter, output } => {
            let f = audit_filter(&store, filter)?;
            let conn = store.conn();
            match output {
                Some(path) => {
                    let mut w = create_file(path)?;
                    let n = audit::export_csv(&conn, &f, &mut w)?;
                    w.flush().map_err(|source| CliError::File {
                        path: path.display().to_string(),
                        source,
                    })?;
                    out.emit(&json!({ "exported": n }), format!("Exported {n} events."));
                }
                None => {
                    audit::export_csv(&conn, &f, io::stdout().lock())?;
                }
            }
            Ok(0)
        }
    }
}

fn run_settings(cli: &Cli, cmd: &SettingsCmd, out: &Printer) -> Result<u8, CliError> {
    let store = open_store(cli)?;
    match cmd {
        SettingsCmd::List => {
            let all = settings::list(&store.conn())?;
            let text = all
                .iter()
                .map(|v| {
                    format!(
                        "{:<26} {:<12} (default {}, allowed {})  {}",
                        v.key, v.value, v.default, v.allowed, v.about
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.emit(&all, text);
            Ok(0)
        }
        SettingsCmd::Get { key } => {
            let v = settings::get(&store.conn(), key)?;
            out.emit(&json!({ "key": key, "value": v }), &v);
            Ok(0)
        }
        SettingsCmd::Set { key, value } => {
            let op = operator(cli)?;
            let stored = settings::set(&mut store.conn(), store.clock(), &op, key, value)?;
            out.emit(
                &json!({ "key": key, "value": stored }),
                format!("{key} = {stored}"),
            );
            Ok(0)
        }
    }
}

fn read_input(path: &Path, limit: u64) -> Result<String, CliError> {
    let shown = path.display().to_string();
    let file_err = |source| CliError::File {
        path: shown.clone(),
        source,
    };
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(file_err)?;
    } else {
        File::open(path)
            .map_err(file_err)?
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(file_err)?;
    }
    if bytes.len() as u64 > limit {
        return Err(CliError::Usage(format!(
            "{shown} is larger than {limit} bytes"
        )));
    }
    String::from_utf8(bytes).map_err(|_| CliError::Usage(format!("{shown} is not UTF-8 text")))
}

fn run_accounts(cli: &Cli, cmd: &AccountsCmd, out: &Printer) -> Result<u8, CliError> {
    let store = open_store(cli)?;
    match cmd {
        AccountsCmd::List => {
            let secrets = secrets::from_env()?;
            let conn = store.conn();
            let all = mail_accounts::list(&conn)?;
            let mut rows = Vec::new();
            let mut text = Vec::new();
            for a in &all {
                let password_set = a.kind.uses_server()
                    && mail_accounts::password_is_set(&conn, secrets.as_ref(), &a.name)?;
                let signed_in = a.oauth.is_some() && oauth::is_signed_in(a, secrets.as_ref())?;
                text.push(format!(
                    "{} {:<20} {:<12} from {:<30} {}{}",
                    if a.is_default { "*" } else { " " },
                    a.name,
                    a.kind,
                    a.from_address,
                    a.destination(store.path()),
                    match (
                        a.kind.uses_server(),
                        a.oauth.is_some(),
                        password_set,
                        signed_in
                    ) {
                        (false, ..) => "",
                        (true, true, _, true) => "  (signed in to Microsoft)",
                        (true, true, _, false) => "  (not signed in yet)",
                        (true, false, true, _) => "  (password set)",
                        (true, false, false, _) => "  (no password yet)",
                    }
                ));
                rows.push(
                    json!({ "account": a, "password_set": password_set, "signed_in": signed_in }),
                );
            }
            out.emit(&rows, text.join("\n"));
            Ok(0)
        }
        AccountsCmd::Add(add) => {
            let AddAccount {
                name,
                kind,
                host,
                port,
                security,
                username,
                from_address,
                from_name,
                ca_file,
                folder,
                tenant,
                client_id,
                authority,
            } = add.as_ref();
            let op = operator(cli)?;
            let extra_ca_pem = match ca_file {
                Some(p) => read_input(p, mail_accounts::MAX_CA_PEM_BYTES as u64)?,
                None => String::new(),
            };
            let input = AccountInput {
                name: name.clone(),
                kind: kind.clone(),
                host: host.clone(),
                port: *port,
                security: security.clone(),
                username: username.clone(),
                from_address: from_address.clone(),
                from_name: from_name.clone(),
                extra_ca_pem,
                outbox_dir: folder
                    .as_ref()
                    .map(|f| f.display().to_string())
                    .unwrap_or_default(),
                oauth_tenant: tenant.clone(),
                oauth_client_id: client_id.clone(),
                oauth_authority: authority.clone(),
            };
            let a = mail_accounts::add(&mut store.conn(), store.clock(), &op, &input)?;
            let mut text = format!(
                "Added mail account \"{}\" ({}) → {}",
                a.name,
                a.kind,
                a.destination(store.path())
            );
            if a.oauth.is_some() {
                text.push_str(&format!(
                    "\nSign it in with: mail accounts sign-in \"{}\"",
                    a.name
                ));
            } else if a.kind.uses_server() {
                text.push_str(&format!(
                    "\nStore its password with: mail accounts set-password \"{}\" (reads standard input)",
                    a.name
                ));
            }
            out.emit(&a, text);
            Ok(0)
        }
        AccountsCmd::Remove { name } => {
            let op = operator(cli)?;
            let secrets = secrets::from_env()?;
            let a = mail_accounts::remove(
                &mut store.conn(),
                store.clock(),
                secrets.as_ref(),
                &op,
                name,
            )?;
            out.emit(
                &json!({ "removed": a.name }),
                format!("Removed mail account \"{}\".", a.name),
            );
            Ok(0)
        }
        AccountsCmd::SignIn { name } => {
            let op = operator(cli)?;
            let secrets = secrets::from_env()?;
            let account = mail_accounts::get(&store.conn(), name)?;
            let code = oauth::start_sign_in(&account)?;
            let prompt = format!(
                "To sign in \"{}\", open {} in a browser and enter the code\n\n    {}\n\nWaiting for the sign-in (the code is valid for {} minutes)…",
                account.name,
                code.verification_uri,
                code.user_code,
                code.expires_in.as_secs().div_ceil(60)
            );
            // JSON output stays one document on stdout; the instructions go to the terminal.
            if out.json {
                eprintln!("{prompt}");
            } else {
                println!("{prompt}");
            }
            oauth::finish_sign_in(
                &account,
                &code,
                secrets.as_ref(),
                &oauth::TokenCache::default(),
                &std::thread::sleep,
            )?;
            mail_accounts::record_sign_in(&store.conn(), store.clock(), &op, &account, true)?;
            out.emit(
                &json!({ "signed_in": true, "account": account.name }),
                format!(
                    "Signed in. \"{}\" now sends with Microsoft 365; the sign-in is kept in {}.",
                    account.name,
                    secrets.describe()
                ),
            );
            Ok(0)
        }
        AccountsCmd::SignOut { name } => {
            let op = operator(cli)?;
            let secrets = secrets::from_env()?;
            let account = mail_accounts::get(&store.conn(), name)?;
            oauth::sign_out(&account, secrets.as_ref(), &oauth::TokenCache::default())?;
            mail_accounts::record_sign_in(&store.conn(), store.clock(), &op, &account, false)?;
            out.emit(
                &json!({ "signed_in": false, "account": account.name }),
                format!("Signed out \"{}\".", account.name),
            );
            Ok(0)
        }
        AccountsCmd::SetDefault { name } => {
            let op = operator(cli)?;
            let a = mail_accounts::set_default(&mut store.conn(), store.clock(), &op, name)?;
            out.emit(
                &json!({ "default": a.name }),
                format!("Codes now go out through \"{}\".", a.name),
            );
            Ok(0)
        }
        AccountsCmd::SetPassword { name, delete } => {
            let op = operator(cli)?;
            let secrets = secrets::from_env()?;
            let conn = store.conn();
            if *delete {
                mail_accounts::delete_password(&conn, store.clock(), secrets.as_ref(), &op, name)?;
                out.emit(
                    &json!({ "password_set": false }),
                    format!("Password for \"{}\" deleted.", name.trim()),
                );
                return Ok(0);
            }
            // From stdin only: an argument would sit in the shell history and the process list.
            let password = secret_from_stdin("password")?;
            mail_accounts::set_password(
                &conn,
                store.clock(),
                secrets.as_ref(),
                &op,
                name,
                &password,
            )?;
            out.emit(
                &json!({ "password_set": true }),
                format!(
                    "Password for \"{}\" stored in {}.",
                    name.trim(),
                    secrets.describe()
                ),
            );
            Ok(0)
        }
    }
}

fn run_template(cli: &Cli, cmd: &TemplateCmd, out: &Printer) -> Result<u8, CliError> {
    let store = open_store(cli)?;
    match cmd {
        TemplateCmd::Show { part } => {
            let t = template::load(&store.conn())?;
            let parts: Vec<Part> = match part {
                Some(p) => vec![*p],
                None => Part::ALL.to_vec(),
            };
            let mut text = Vec::new();
            for p in &parts {
                let state = if t.customized.contains(p) {
                    "customized"
                } else {
                    "default"
                };
                text.push(format!("----- {p} ({state}) -----\n{}", t.get(*p)));
            }
            let vars: Vec<String> = template::VARIABLES
                .iter()
                .map(|(n, about)| format!("  {{{{ {n} }}}}  {about}"))
                .collect();
            text.push(format!("----- variables -----\n{}", vars.join("\n")));
            out.emit(&t, text.join("\n"));
            Ok(0)
        }
        TemplateCmd::Set { part, file } => {
            let op = operator(cli)?;
            let body = read_input(file, template::MAX_HTML_CHARS as u64 * 4)?;
            template::save(&mut store.conn(), store.clock(), &op, *part, &body)?;
            out.emit(
                &json!({ "part": part, "saved": true }),
                format!("The {part} template is saved; `mail template preview` shows the result."),
            );
            Ok(0)
        }
        TemplateCmd::Reset { part } => {
            let op = operator(cli)?;
            template::reset(&mut store.conn(), store.clock(), &op, *part)?;
            out.emit(
                &json!({ "part": part, "reset": true }),
                format!("The {part} template is back to the default."),
            );
            Ok(0)
        }
        TemplateCmd::Preview {
            subject,
            text,
            html,
        } => {
            let mut drafts = Vec::new();
            for (part, file) in [
                (Part::Subject, subject),
                (Part::Text, text),
                (Part::Html, html),
            ] {
                if let Some(f) = file {
                    drafts.push((part, read_input(f, template::MAX_HTML_CHARS as u64 * 4)?));
                }
            }
            let borrowed: Vec<(Part, &str)> =
                drafts.iter().map(|(p, b)| (*p, b.as_str())).collect();
            let p = template::preview(&store.conn(), &borrowed)?;
            out.emit(
                &p,
                format!(
                    "Subject: {}\n----- text -----\n{}\n----- html -----\n{}",
                    p.subject, p.text, p.html
                ),
            );
            Ok(0)
        }
    }
}

/// One line for a delivery's progress (logged at info level; never a code or a contact).
fn describe_progress(p: &Progress) -> String {
    match p {
        Progress::Sending { attempt } => format!("sending, try {attempt}"),
        Progress::Retrying {
            attempt,
            delay_ms,
            class,
            ..
        } => format!(
            "try {attempt} failed ({}), trying again in {delay_ms} ms",
            class.as_str()
        ),
        Progress::Sent { attempt } => format!("sent on try {attempt}"),
        Progress::Failed { attempt, class, .. } => {
            format!("failed on try {attempt} ({})", class.as_str())
        }
    }
}

fn state_name(state: SmsState) -> String {
    serde_json::to_value(state)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A secret from standard input: one trailing line break is the Enter key, not part of it.
fn secret_from_stdin(what: &str) -> Result<zeroize::Zeroizing<String>, CliError> {
    let mut buf = zeroize::Zeroizing::new(Vec::new());
    io::stdin()
        .lock()
        .take(secrets::MAX_SECRET_BYTES as u64 + 2)
        .read_to_end(&mut buf)
        .map_err(|source| CliError::File {
            path: "stdin".into(),
            source,
        })?;
    let text = std::str::from_utf8(&buf)
        .map_err(|_| CliError::Usage(format!("the {what} must be UTF-8 text")))?;
    let secret = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(text);
    Ok(zeroize::Zeroizing::new(secret.to_string()))
}

fn run_sms_accounts(cli: &Cli, cmd: &SmsAccountsCmd, out: &Printer) -> Result<u8, CliError> {
    let store = open_store(cli)?;
    match cmd {
        SmsAccountsCmd::List => {
            let secrets = secrets::from_env()?;
            let conn = store.conn();
            let all = sms_accounts::list(&conn)?;
            let mut rows = Vec::new();
            let mut text = Vec::new();
            for a in &all {
                let token_set = a.kind == SmsAccountKind::Twilio
                    && sms_accounts::token_is_set(&conn, secrets.as_ref(), &a.name)?;
                text.push(format!(
                    "{} {:<20} {:<8} {}{}",
                    if a.is_default { "*" } else { " " },
                    a.name,
                    a.kind,
                    a.destination(),
                    match (a.kind, token_set) {
                        (SmsAccountKind::Console, _) => String::new(),
                        (_, true) => format!("  {} (auth token set)", a.api_base),
                        (_, false) => format!("  {} (no auth token yet)", a.api_base),
                    }
                ));
                rows.push(json!({ "account": a, "token_set": token_set }));
            }
            if all.is_empty() {
                text.push(
                    "No SMS accounts: SMS is not set up. Add one with `sms accounts add`.".into(),
                );
            }
            out.emit(&rows, text.join("\n"));
            Ok(0)
        }
        SmsAccountsCmd::Add(a) => {
            let op = operator(cli)?;
            let input = SmsAccountInput {
                name: a.name.clone(),
                kind: a.kind.clone(),
                account_sid: a.account_sid.clone(),
                from_number: a.from_number.clone(),
                messaging_service_sid: a.messaging_service.clone(),
                api_base: a.api_base.clone(),
            };
            let added = sms_accounts::add(&mut store.conn(), store.clock(), &op, &input)?;
            let mut text = format!(
                "Added SMS account \"{}\" ({}) → {}{}",
                added.name,
                added.kind,
                added.destination(),
                if added.is_default {
                    "; it is the default"
                } else {
                    ""
                }
            );
            if added.kind == SmsAccountKind::Twilio {
                text.push_str(&format!(
                    "\nStore its auth token with: sms accounts set-token \"{}\" (reads standard input)",
                    added.name
                ));
            }
            out.emit(&added, text);
            Ok(0)
        }
        SmsAccountsCmd::Update(u) => {
            let op = operator(cli)?;
            let mut conn = store.conn();
            let current = sms_accounts::get(&conn, &u.name)?;
            let (from_number, messaging_service_sid) = match (&u.from_number, &u.messaging_service)
            {
                (Some(f), _) => (f.clone(), String::new()),
                (None, Some(m)) => (String::new(), m.clone()),
                (None, None) => (
                    current.from_number.clone(),
                    current.messaging_service_sid.clone(),
                ),
            };
            let input = SmsAccountInput {
                name: current.name.clone(),
                kind: current.kind.to_string(),
                account_sid: u.account_sid.clone().unwrap_or(current.account_sid.clone()),
                from_number,
                messaging_service_sid,
                api_base: u.api_base.clone().unwrap_or(current.api_base.clone()),
            };
            let updated =
                sms_accounts::update(&mut conn, store.clock(), &op, &current.name, &input)?;
            out.emit(
                &updated,
                format!(
                    "Updated SMS account \"{}\" → {}",
                    updated.name,
                    updated.destination()
                ),
            );
            Ok(0)
        }
        SmsAccountsCmd::Remove { name } => {
            let op = operator(cli)?;
            let secrets = secrets::from_env()?;
            let a = sms_accounts::remove(
                &mut store.conn(),
                store.clock(),
                secrets.as_ref(),
                &op,
                name,
            )?;
            out.emit(
                &json!({ "removed": a.name, "was_default": a.is_default }),
                format!(
                    "Removed SMS account \"{}\".{}",
                    a.name,
                    if a.is_default {
                        " It was the default: SMS is off until another account is the default."
                    } else {
                        ""
                    }
                ),
            );
            Ok(0)
        }
        SmsAccountsCmd::SetDefault { name } => {
            let op = operator(cli)?;
            let a = sms_accounts::set_default(&mut store.conn(), store.clock(), &op, name)?;
            out.emit(
                &json!({ "default": a.name }),
                format!("Codes by SMS now go out through \"{}\".", a.name),
            );
            Ok(0)
        }
        SmsAccountsCmd::SetToken { name, delete } => {
            let op = operator(cli)?;
            let secrets = secrets::from_env()?;
            let conn = store.conn();
            if *delete {
                sms_accounts::delete_token(&conn, store.clock(), secrets.as_ref(), &op, name)?;
                out.emit(
                    &json!({ "token_set": false }),
                    format!("Auth token for \"{}\" deleted.", name.trim()),
                );
                return Ok(0);
            }
            // From stdin only: an argument would sit in the shell history and the process list.
            let token = secret_from_stdin("auth token")?;
            sms_accounts::set_token(&conn, store.clock(), secrets.as_ref(), &op, name, &token)?;
            out.emit(
                &json!({ "token_set": true }),
                format!(
                    "Auth token for \"{}\" stored in {}.",
                    name.trim(),
                    secrets.describe()
                ),
            );
            Ok(0)
        }
    }
}

fn run_sms_template(cli: &Cli, cmd: &SmsTemplateCmd, out: &Printer) -> Result<u8, CliError> {
    let store = open_store(cli)?;
    let preview_text = |p: &template::SmsPreview| {
        format!(
            "{}\n----- {} characters, {} text message(s) ({:?}; at most {}) -----",
            p.text, p.characters, p.segments, p.encoding, p.max_segments
        )
    };
    match cmd {
        SmsTemplateCmd::Show => {
            let t = template::load(&store.conn())?;
            let p = template::preview_sms(&store.conn(), None)?;
            let vars: Vec<String> = template::VARIABLES
                .iter()
                .map(|(n, about)| format!("  {{{{ {n} }}}}  {about}"))
                .collect();
            let state = if t.customized.contains(&Part::Sms) {
                "customized"
            } else {
                "default"
            };
            out.emit(
                &json!({ "sms": t.sms, "customized": state == "customized", "preview": p }),
                format!(
                    "----- sms ({state}) -----\n{}\n----- with sample values -----\n{}\n----- variables -----\n{}",
                    t.sms,
                    preview_text(&p),
                    vars.join("\n")
                ),
            );
            Ok(0)
        }
        SmsTemplateCmd::Set { file } => {
            let op = operator(cli)?;
            let body = read_input(file, template::MAX_SMS_CHARS as u64 * 4)?;
            template::save(&mut store.conn(), store.clock(), &op, Part::Sms, &body)?;
            let p = template::preview_sms(&store.conn(), None)?;
            out.emit(
                &json!({ "saved": true, "preview": p }),
                format!("The SMS text is saved:\n{}", preview_text(&p)),
            );
            Ok(0)
        }
        SmsTemplateCmd::Reset => {
            let op = operator(cli)?;
            template::reset(&mut store.conn(), store.clock(), &op, Part::Sms)?;
            out.emit(
                &json!({ "reset": true }),
                "The SMS text is back to the default.",
            );
            Ok(0)
        }
        SmsTemplateCmd::Preview { text } => {
            let draft = match text {
                Some(f) => Some(read_input(f, template::MAX_SMS_CHARS as u64 * 4)?),
                None => None,
            };
            let p = template::preview_sms(&store.conn(), draft.as_deref())?;
            out.emit(&p, preview_text(&p));
            Ok(0)
        }
    }
}
