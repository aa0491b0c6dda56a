//! Where the app's log goes: standard error (for whoever started it from a terminal) and a
//! daily file in the OS log folder, two weeks kept, for the admin who has to find out later
//! what went wrong. Neither ever receives a code or a secret: the core logs masked contacts
//! only, and the console mail backend writes to standard error directly, never through here.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// Files kept before the oldest is deleted: two weeks of daily files.
const KEEP_FILES: usize = 14;
pub const FILE_PREFIX: &str = "otp-desk";

/// `RUST_LOG` when set (e.g. `RUST_LOG=debug`), otherwise what an admin needs to see: our own
/// messages and the libraries' warnings.
fn filter() -> EnvFilter {
    let mut filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,otp_desk_app=info,otp_desk_core=info"));
    for directive in otp_desk_core::delivery::oauth::QUIET_LOG_DIRECTIVES {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

/// Starts logging. Returns the folder of the log file, or `None` when it could not be
/// created (the app then logs to standard error only, and says so there).
pub fn init(folder: Option<PathBuf>) -> Option<PathBuf> {
    let file = folder.and_then(|dir| match open_file(&dir) {
        Ok(appender) => Some((dir, appender)),
        Err(error) => {
            eprintln!(
                "OTP Desk: cannot write logs to {}: {error}; logging to standard error only",
                dir.display()
            );
            None
        }
    });
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let (dir, file_layer) = match file {
        Some((dir, appender)) => (
            Some(dir),
            Some(fmt::layer().with_ansi(false).with_writer(appender).boxed()),
        ),
        None => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(filter())
        .with(stderr)
        .with(file_layer)
        .try_init();
    dir
}

fn open_file(dir: &Path) -> Result<RollingFileAppender, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir)
        .map_err(|e| e.to_string())
}
