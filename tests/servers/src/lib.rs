//! The servers OTP Desk's tests talk to, started per test on free loopback ports: the real
//! SMTP server (tests/smtp/server.py, aiosmtpd) with a certificate made for this run, the
//! stand-in for Twilio's Messages API (`twilio`) and for Microsoft's sign-in (`identity`).
//! The core, CLI and end-to-end tests all use these same ones.
//!
//! The Python interpreter comes from `OTP_DESK_SMTP_PYTHON` (set by scripts/test) or the
//! virtualenv scripts/setup creates in ~/.cache/otp-desk/venv.

pub mod identity;
pub mod twilio;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The account the server accepts.
pub const USER: &str = "desk@example.com";
pub const PASSWORD: &str = "s3cret-app-pass";
pub const TOKEN: &str = "ya29.test-access-token";

pub struct SmtpServer {
    child: Child,
    log: PathBuf,
    pub port: u16,
    /// The server's self-signed certificate, to trust as an extra root.
    pub cert_pem: String,
    pub maildir: PathBuf,
    _dir: tempfile::TempDir,
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("OTP_DESK_SMTP_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    PathBuf::from(home).join(".cache/otp-desk/venv/bin/python")
}

impl SmtpServer {
    /// `tls`: "starttls" or "implicit"; `fault`: one of server.py's fault modes or "none".
    pub fn start(tls: &str, fault: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ])
        .unwrap();
        let cert_pem = cert.cert.pem();
        let cert_path = dir.path().join("cert.pem");
        let key_path = dir.path().join("key.pem");
        std::fs::write(&cert_path, &cert_pem).unwrap();
        std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
        let maildir = dir.path().join("mail");
        std::fs::create_dir(&maildir).unwrap();

        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../smtp/server.py");
        let python = python();
        let mut child = Command::new(&python)
            .arg(&script)
            .arg("--cert")
            .arg(&cert_path)
            .arg("--key")
            .arg(&key_path)
            .arg("--maildir")
            .arg(&maildir)
            .args(["--tls", tls, "--fault", fault])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Kept, and shown only when a test fails.
            .stderr(Stdio::from(
                std::fs::File::create(dir.path().join("server.log")).unwrap(),
            ))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start the test SMTP server with {} ({e}); run scripts/setup test",
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
                panic!("the test SMTP server did not start (said {line:?}); run scripts/setup test")
            });
        Self {
            child,
            log: dir.path().join("server.log"),
            port,
            cert_pem,
            maildir,
            _dir: dir,
        }
    }

    /// Every message the server accepted, oldest first, exactly as received.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(&self.maildir)
            .unwrap()
            .filter_map(|e| {
                let path = e.ok()?.path();
                let n = path.file_stem()?.to_str()?.parse().ok()?;
                (path.extension()? == "eml").then_some((n, path))
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        // Closing stdin ends the server; kill covers a server stuck in a stall mode.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- test SMTP server log ---\n{log}");
        }
    }
}
