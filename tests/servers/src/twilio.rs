//! The stand-in for Twilio's Messages API the SMS tests talk to: tests/twilio/server.py
//! (Python's standard library only), started per test on a free loopback port. It checks
//! every request as Twilio documents it and keeps each one as a JSON file, so a test reads
//! back exactly what was sent, the message body with the code included.
//!
//! The interpreter is `OTP_DESK_TWILIO_PYTHON`, else the SMTP tests' (`OTP_DESK_SMTP_PYTHON`),
//! else `python3` on the PATH.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// What the stand-in accepts (the same constants as in server.py).
pub const ACCOUNT_SID: &str = "ACa1b2c3d4e5f60718293a4b5c6d7e8f90";
pub const AUTH_TOKEN: &str = "5f2b8c1e9a7d4f3b6e0c2a8d1f9b7e4c";
pub const FROM_NUMBER: &str = "+15017122661";
pub const MESSAGING_SERVICE_SID: &str = "MG9752274e9e519418a7406176694466fa";

pub struct TwilioServer {
    child: Child,
    log: PathBuf,
    pub port: u16,
    requests: PathBuf,
    _dir: tempfile::TempDir,
}

fn python() -> PathBuf {
    for var in ["OTP_DESK_TWILIO_PYTHON", "OTP_DESK_SMTP_PYTHON"] {
        if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
            return PathBuf::from(p);
        }
    }
    PathBuf::from("python3")
}

impl TwilioServer {
    /// `fault`: one of server.py's fault modes or "none"; messages end up delivered.
    pub fn start(fault: &str) -> Self {
        Self::start_with(fault, "delivered", None)
    }

    /// `final_status`: delivered, undelivered, failed or sent (see server.py).
    pub fn start_with(fault: &str, final_status: &str, error_code: Option<u32>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let requests = dir.path().join("requests");
        std::fs::create_dir(&requests).unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../twilio/server.py");
        let python = python();
        let mut cmd = Command::new(&python);
        cmd.arg(&script).arg("--requests").arg(&requests).args([
            "--fault",
            fault,
            "--final",
            final_status,
        ]);
        if let Some(code) = error_code {
            cmd.args(["--error-code", &code.to_string()]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("server.log")).unwrap(),
            ))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start the Twilio stand-in with {} ({e})",
                    python.display()
                )
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("the Twilio stand-in did not start (said {line:?})")
            });
        Self {
            child,
            log: dir.path().join("server.log"),
            port,
            requests,
            _dir: dir,
        }
    }

    /// The API base URL to give an SMS account.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request received, oldest first.
    pub fn requests(&self) -> Vec<Value> {
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(&self.requests)
            .unwrap()
            .filter_map(|e| {
                let path = e.ok()?.path();
                let n = path.file_stem()?.to_str()?.parse().ok()?;
                (path.extension()? == "json").then_some((n, path))
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    /// The requests that asked to send a message.
    pub fn sends(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["method"] == "POST")
            .collect()
    }

    /// Every protocol violation seen, across all requests; a test asserts this stays empty.
    pub fn violations(&self) -> Vec<String> {
        self.requests()
            .iter()
            .flat_map(|r| r["violations"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// The code in the newest message sent, read as the customer reads it.
    pub fn code_in_last_message(&self) -> String {
        let sends = self.sends();
        let body = sends.last().expect("a message was sent")["form"]["Body"]
            .as_str()
            .expect("a Body field")
            .to_string();
        body.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no six-digit code in {body:?}"))
            .to_string()
    }
}

impl Drop for TwilioServer {
    fn drop(&mut self) {
        // Closing stdin ends the server; kill covers one stuck in a stall.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- Twilio stand-in log ---\n{log}");
        }
    }
}
