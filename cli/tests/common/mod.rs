//! The one way the CLI tests run the real binary: an environment of its own (nothing
//! inherited but PATH), the database and the opt-in file secret store in the test's folder,
//! and Ann at the desk.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub fn db(dir: &Path) -> PathBuf {
    dir.join("office.db")
}

pub fn secrets(dir: &Path) -> PathBuf {
    dir.join("secrets.json")
}

/// `otp-desk-cli` for an office kept in `dir`, logging at `log` level to stderr.
pub fn command(dir: &Path, log: &str) -> Command {
    let mut c = Command::cargo_bin("otp-desk-cli").unwrap();
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("OTP_DESK_DB", db(dir))
        .env(
            "OTP_DESK_SECRETS",
            format!("file:{}", secrets(dir).display()),
        )
        .env("OTP_DESK_OPERATOR", "Ann")
        .env("OTP_DESK_LOG", log);
    c
}

/// A finished run, as text.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Out {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}
