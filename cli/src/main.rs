//! `otp-desk-cli`: the OTP Desk core from a terminal, for admins and scripts.
//!
//! Every rule lives in the core; this file parses arguments, calls the core, prints the
//! result (text or `--json`) and maps errors to exit codes:
//!
//! | code | meaning                                                           |
//! |------|-------------------------------------------------------------------|
//! | 0    | done (for `otp verify`: VERIFIED)                                 |
//! | 1    | `otp verify` ran and the customer is NOT verified                 |
//! | 2    | the command line is wrong (unknown option, missing argument)      |
//! | 3    | the input was refused (bad email, bad CSV, value out of range)    |
//! | 4    | policy said no (cooldown, send cap, contact locked) or not found  |
//! | 5    | the environment failed (database, keyring, files)                 |

mod commands;
mod desk;
mod output;

use std::process::ExitCode;

use clap::Parser;

use commands::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout with success, usage errors to stderr.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging();
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Logs go to stderr so stdout stays clean for `--json` and CSV. `OTP_DESK_LOG` sets the
/// level (error, warn, info, debug). Nothing the core logs contains a code or a secret.
fn init_logging() {
    let mut filter = tracing_subscriber::EnvFilter::try_from_env("OTP_DESK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    for directive in otp_desk_core::delivery::oauth::QUIET_LOG_DIRECTIVES {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
