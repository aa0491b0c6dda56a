//! The Twilio stand-in is only worth its tests if it refuses what Twilio would: these send it
//! raw HTTP requests that break the documented protocol, one way each, and check the refusal.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

use base64::Engine as _;
use support::twilio::{TwilioServer, ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, MESSAGING_SERVICE_SID};

/// Sends one raw request and returns the status code and the JSON body.
fn raw(
    server: &TwilioServer,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(a) = auth {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    req.push_str(&format!(
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
    let json = answer.split("\r\n\r\n").nth(1).unwrap_or("null");
    (
        status,
        serde_json::from_str(json).unwrap_or(serde_json::Value::Null),
    )
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

fn send_path() -> String {
    format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
}

#[test]
fn the_stand_in_accepts_a_documented_request() {
    let server = TwilioServer::start("none");
    let auth = basic(ACCOUNT_SID, AUTH_TOKEN);
    let body = format!(
        "To=%2B14155550132&From={}&Body=Hello",
        FROM_NUMBER.replace('+', "%2B")
    );
    let (status, json) = raw(&server, "POST", &send_path(), Some(&auth), &body);
    assert_eq!(status, 201, "{json}");
    assert_eq!(json["status"], "queued");
    let sid = json["sid"].as_str().unwrap().to_string();
    let (status, json) = raw(
        &server,
        "GET",
        &format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"),
        Some(&auth),
        "",
    );
    assert_eq!((status, json["status"].as_str()), (200, Some("sent")));
    assert!(server.violations().is_empty());
}

#[test]
fn the_stand_in_refuses_what_twilio_refuses() {
    let server = TwilioServer::start("none");
    let auth = basic(ACCOUNT_SID, AUTH_TOKEN);
    let from = FROM_NUMBER.replace('+', "%2B");
    let good = format!("To=%2B14155550132&From={from}&Body=Hi");
    // Method, path, Authorization header, form body, the HTTP status and Twilio code expected.
    type Case<'a> = (&'a str, String, Option<String>, String, u16, Option<u64>);
    let cases: Vec<Case> = vec![
        (
            "PUT",
            send_path(),
            Some(auth.clone()),
            good.clone(),
            405,
            Some(20004),
        ),
        (
            "GET",
            send_path(),
            Some(auth.clone()),
            String::new(),
            405,
            Some(20004),
        ),
        (
            "POST",
            "/2010-04-01/Accounts/Messages.json".into(),
            Some(auth.clone()),
            good.clone(),
            404,
            Some(20404),
        ),
        (
            "POST",
            format!("/2010-04-01/Accounts/{ACCOUNT_SID}/SMS/Messages.json"),
            Some(auth.clone()),
            good.clone(),
            404,
            Some(20404),
        ),
        ("POST", send_path(), None, good.clone(), 401, Some(20003)),
        (
            "POST",
            send_path(),
            Some(basic(ACCOUNT_SID, "wrong-token")),
            good.clone(),
            401,
            Some(20003),
        ),
        (
            "POST",
            send_path(),
            Some(format!("Bearer {AUTH_TOKEN}")),
            good.clone(),
            401,
            Some(20003),
        ),
        (
            "POST",
            send_path(),
            Some(auth.clone()),
            format!("From={from}&Body=Hi"),
            400,
            Some(21604),
        ),
        (
            "POST",
            send_path(),
            Some(auth.clone()),
            format!("To=%2B14155550132&From={from}"),
            400,
            Some(21602),
        ),
        (
            "POST",
            send_path(),
            Some(auth.clone()),
            "To=%2B14155550132&Body=Hi".into(),
            400,
            Some(21603),
        ),
        (
            "POST",
            send_path(),
            Some(auth.clone()),
            format!(
                "To=%2B14155550132&From={from}&MessagingServiceSid={MESSAGING_SERVICE_SID}&Body=Hi"
            ),
            400,
            None,
        ),
        (
            "POST",
            send_path(),
            Some(auth.clone()),
            format!("To=4155550132&From={from}&Body=Hi"),
            400,
            Some(21211),
        ),
        (
            "POST",
            send_path(),
            Some(auth.clone()),
            "To=%2B14155550132&From=%2B15550000000&Body=Hi".into(),
            400,
            Some(21606),
        ),
        (
            "POST",
            send_path(),
            Some(auth.clone()),
            format!("To=%2B14155550132&From={from}&Body=Hi&StatusCallback=x"),
            201,
            None,
        ),
    ];
    for (method, path, auth, body, status, code) in &cases {
        let (got, json) = raw(&server, method, path, auth.as_deref(), body);
        assert_eq!(got, *status, "{method} {path} {body}: {json}");
        assert_eq!(
            json["code"].as_u64(),
            *code,
            "{method} {path} {body}: {json}"
        );
        if *status >= 400 {
            assert_eq!(json["status"].as_u64(), Some(u64::from(*status)), "{json}");
        }
    }
    // Everything OTP Desk itself must never do is also listed as a violation.
    let violations = server.violations();
    for expected in [
        "PUT",
        "GET",
        "unknown path",
        "both From and MessagingServiceSid",
        "StatusCallback",
    ] {
        assert!(
            violations.iter().any(|v| v.contains(expected)),
            "{expected}: {violations:?}"
        );
    }
}
