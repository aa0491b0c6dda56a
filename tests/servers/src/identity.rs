//! A stand-in for the Microsoft identity platform's v2.0 device-code and token endpoints
//! (Microsoft cannot be reached from here): a small HTTP/1.1 server on a loopback port that
//! answers as Microsoft documents, and checks every form field it is sent.
//!
//! - `POST /{tenant}/oauth2/v2.0/devicecode` (client_id, scope): device_code, user_code,
//!   verification_uri, expires_in, interval, message.
//! - `POST /{tenant}/oauth2/v2.0/token`, device-code grant (grant_type, client_id,
//!   device_code): `authorization_pending` once, then the tokens, or the error `outcome` names.
//! - the same endpoint, refresh grant (grant_type, client_id, refresh_token, scope): a new
//!   access token and a rotated refresh token, or `invalid_grant` for a token it never issued.
//!
//! The access token is always `support::TOKEN`, the one the SMTP test server accepts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use super::TOKEN;

pub const TENANT: &str = "contoso.onmicrosoft.com";
pub const CLIENT_ID: &str = "4b7c3a9e-1f2d-4e5a-9b8c-0d1e2f3a4b5c";
pub const SCOPE: &str = "https://outlook.office.com/SMTP.Send offline_access";
pub const DEVICE_CODE: &str = "DAQABAAEAAAD--device-code-for-tests-7f3a";
pub const USER_CODE: &str = "F9GH2KLMN";
pub const VERIFICATION_URI: &str = "https://microsoft.com/devicelogin";

/// How the admin answers at Microsoft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Approve,
    /// `slow_down` once before the pending answer.
    ApproveAfterSlowDown,
    Expire,
    Deny,
}

#[derive(Debug)]
pub struct State {
    pub outcome: Outcome,
    /// `expires_in` of every access token issued.
    pub token_lifetime: u64,
    pub polls: usize,
    pub refreshes: usize,
    /// Every refresh token issued, oldest first; only the newest is accepted.
    pub refresh_tokens: Vec<String>,
    /// Requests that broke the documented protocol; a test asserts this stays empty.
    pub violations: Vec<String>,
}

pub struct IdentityServer {
    pub port: u16,
    pub state: Arc<Mutex<State>>,
}

impl IdentityServer {
    pub fn start(outcome: Outcome, token_lifetime: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            outcome,
            token_lifetime,
            polls: 0,
            refreshes: 0,
            refresh_tokens: Vec::new(),
            violations: Vec::new(),
        }));
        let shared = state.clone();
        // Runs until the test process ends; each test has its own port.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Self { port, state }
    }

    pub fn authority(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        let mut content_type = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap(),
                    "content-type" => content_type = value.trim().to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let path = request_line.split(' ').nth(1).unwrap_or("").to_string();
        let (status, json) = answer(
            request_line.starts_with("POST "),
            &path,
            &content_type,
            &String::from_utf8_lossy(&body),
            &mut state.lock().unwrap(),
        );
        let reply = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: {}\r\n\r\n{json}",
            json.len()
        );
        if (&stream).write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn error(code: &str, aadsts: &str) -> (&'static str, String) {
    (
        "400 Bad Request",
        serde_json::json!({
            "error": code,
            "error_description": format!("{aadsts}\r\nTrace ID: 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\r\nTimestamp: 2026-11-24 10:00:00Z"),
            "error_codes": [70016],
            "timestamp": "2026-11-24 10:00:00Z",
            "trace_id": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "correlation_id": "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90"
        })
        .to_string(),
    )
}

fn tokens(state: &mut State) -> (&'static str, String) {
    let refresh = format!("M.C1.refresh-token-{}", state.refresh_tokens.len() + 1);
    state.refresh_tokens.push(refresh.clone());
    (
        "200 OK",
        serde_json::json!({
            "token_type": "Bearer",
            "scope": "https://outlook.office.com/SMTP.Send",
            "expires_in": state.token_lifetime,
            "ext_expires_in": state.token_lifetime,
            "access_token": TOKEN,
            "refresh_token": refresh,
        })
        .to_string(),
    )
}

fn answer(
    post: bool,
    path: &str,
    content_type: &str,
    body: &str,
    state: &mut State,
) -> (&'static str, String) {
    let fields = form(body);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut violation = |what: String| state.violations.push(what);
    if !post || content_type != "application/x-www-form-urlencoded" {
        violation(format!("{path}: not a form POST ({content_type})"));
        return error("invalid_request", "AADSTS900144: not a form POST");
    }
    if field("client_id") != Some(CLIENT_ID) {
        violation(format!("{path}: client_id {:?}", field("client_id")));
        return error("unauthorized_client", "AADSTS700016: Application not found");
    }
    let devicecode = format!("/{TENANT}/oauth2/v2.0/devicecode");
    let token = format!("/{TENANT}/oauth2/v2.0/token");
    if path == devicecode {
        if field("scope") != Some(SCOPE) {
            violation(format!("devicecode: scope {:?}", field("scope")));
            return error("invalid_scope", "AADSTS70011: invalid scope");
        }
        return (
            "200 OK",
            serde_json::json!({
                "user_code": USER_CODE,
                "device_code": DEVICE_CODE,
                "verification_uri": VERIFICATION_URI,
                "expires_in": 900,
                "interval": 1,
                "message": format!("To sign in, use a web browser to open the page {VERIFICATION_URI} and enter the code {USER_CODE} to authenticate.")
            })
            .to_string(),
        );
    }
    if path != token {
        violation(format!("unknown path {path}"));
        return ("404 Not Found", "{}".into());
    }
    match field("grant_type") {
        Some("urn:ietf:params:oauth:grant-type:device_code") => {
            if field("device_code") != Some(DEVICE_CODE) {
                violation(format!("token: device_code {:?}", field("device_code")));
                return error("bad_verification_code", "AADSTS70019: bad code");
            }
            state.polls += 1;
            match (state.outcome, state.polls) {
                (Outcome::ApproveAfterSlowDown, 1) => error("slow_down", "AADSTS70016: slow down"),
                (Outcome::ApproveAfterSlowDown, 2) | (Outcome::Approve, 1) => error(
                    "authorization_pending",
                    "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                ),
                (Outcome::Approve | Outcome::ApproveAfterSlowDown, _) => tokens(state),
                (Outcome::Expire, _) => {
                    error("expired_token", "AADSTS70020: The provided value for the input parameter 'device_code' is not valid. This device code has expired.")
                }
                (Outcome::Deny, _) => error(
                    "access_denied",
                    "AADSTS70000: The user denied the authorization request.",
                ),
            }
        }
        Some("refresh_token") => {
            if field("scope") != Some(SCOPE) {
                violation(format!("refresh: scope {:?}", field("scope")));
            }
            state.refreshes += 1;
            match field("refresh_token") {
                Some(t) if state.refresh_tokens.last().map(String::as_str) == Some(t) => {
                    tokens(state)
                }
                _ => error(
                    "invalid_grant",
                    "AADSTS70000: The provided value for the 'refresh_token' is not valid.",
                ),
            }
        }
        other => {
            violation(format!("token: grant_type {other:?}"));
            error(
                "unsupported_grant_type",
                "AADSTS70003: unsupported grant type",
            )
        }
    }
}
