//! Where a message gets its words: the email's subject, text and HTML templates and the SMS
//! text, their built-in defaults, the admin's edits (stored in SQLite), validation, rendering
//! and preview.
//!
//! Templates are Jinja (minijinja). The HTML part is rendered with HTML auto-escaping, so a
//! customer named `<script>` arrives as text; the text part, the subject and the SMS are
//! plain text. An SMS must stay short: its sample rendering may take at most
//! `MAX_SMS_SEGMENTS` messages on the network (`segments`).
//! A template may use only the four variables in `VARIABLES`; anything else (another
//! variable, a function such as `range`, an include) is refused when it is saved.

use std::collections::BTreeSet;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use zeroize::Zeroizing;

use super::segments::{self, Encoding, Segments};
use crate::audit::{self, Event};
use crate::clock::Clock;
use crate::contact;

/// The variables a template may use, with what they hold.
pub const VARIABLES: &[(&str, &str)] = &[
    ("company_name", "the office name (setting company_name)"),
    ("customer_name", "the customer's name as on file"),
    ("code", "the one-time code"),
    ("minutes_valid", "how many minutes the code stays valid"),
];

/// Longest template an admin may store, per part (characters).
pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 10_000;
pub const MAX_HTML_CHARS: usize = 50_000;
pub const MAX_SMS_CHARS: usize = 1_000;
/// An SMS whose sample rendering needs more network messages than this is refused: each is
/// billed, and a long text hides the code.
pub const MAX_SMS_SEGMENTS: usize = 3;

/// Rendering work allowed per template: plenty for any real message, too little for a loop
/// that would stall the desk.
const RENDER_FUEL: u64 = 20_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown template part \"{0}\" (use subject, text, html or sms)")]
    UnknownPart(String),
    #[error("the {part} template is empty")]
    Empty { part: Part },
    #[error("the {part} template is too long (at most {max} characters)")]
    TooLong { part: Part, max: usize },
    #[error("the subject must be a single line (no line breaks)")]
    SubjectNotOneLine,
    #[error("the {part} template contains control or text-direction characters; remove them")]
    ControlCharacters { part: Part },
    #[error("the {part} template does not compile: {reason}")]
    Syntax { part: Part, reason: String },
    #[error("the {part} template uses {unknown}; only these can be used: company_name, customer_name, code, minutes_valid")]
    UnknownVariables { part: Part, unknown: String },
    #[error("the {part} template must show the code: add {{{{ code }}}}")]
    MissingCode { part: Part },
    #[error(
        "the subject must not show the code: subjects appear in mail lists, notifications and logs"
    )]
    CodeInSubject,
    #[error("the SMS text is too long: with sample values it is {characters} characters, {segments} text messages ({encoding}); at most {max} are allowed. Shorten it{hint}")]
    SmsTooLong {
        characters: usize,
        segments: usize,
        encoding: &'static str,
        max: usize,
        hint: &'static str,
    },
    #[error("the {part} template could not be rendered: {reason}")]
    Render { part: Part, reason: String },
    #[error("{0}")]
    Operator(String),
    #[error("the templates could not be read or saved: {0}")]
    Storage(String),
}

impl From<rusqlite::Error> for TemplateError {
    fn from(e: rusqlite::Error) -> Self {
        TemplateError::Storage(e.to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    Subject,
    Text,
    Html,
    /// The text message.
    Sms,
}

impl Part {
    /// The parts of an email.
    pub const ALL: [Part; 3] = [Part::Subject, Part::Text, Part::Html];
    /// Every part, the SMS text included.
    pub const EVERY: [Part; 4] = [Part::Subject, Part::Text, Part::Html, Part::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Text => "text",
            Part::Html => "html",
            Part::Sms => "sms",
        }
    }

    fn max_chars(self) -> usize {
        match self {
            Part::Subject => MAX_SUBJECT_CHARS,
            Part::Text => MAX_TEXT_CHARS,
            Part::Html => MAX_HTML_CHARS,
            Part::Sms => MAX_SMS_CHARS,
        }
    }

    fn default_body(self) -> &'static str {
        match self {
            Part::Subject => DEFAULT_SUBJECT,
            Part::Text => DEFAULT_TEXT,
            Part::Html => DEFAULT_HTML,
            Part::Sms => DEFAULT_SMS,
        }
    }

    /// The table a part is stored in.
    fn table(self) -> &'static str {
        match self {
            Part::Sms => "sms_templates",
            _ => "mail_templates",
        }
    }
}

impl Part {
    /// How the audit trail names the part.
    fn described(self) -> String {
        if self == Part::Sms {
            "sms template".into()
        } else {
            format!("mail template {self}")
        }
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Part {
    type Err = TemplateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "subject" => Ok(Part::Subject),
            "text" | "plain" => Ok(Part::Text),
            "html" => Ok(Part::Html),
            "sms" => Ok(Part::Sms),
            _ => Err(TemplateError::UnknownPart(contact::shorten(s))),
        }
    }
}

/// Short, says who sent it and how long it is valid, and starts with the code so a phone's
/// notification shows it.
pub const DEFAULT_SMS: &str = "{{ code }} is your {{ company_name }} verification code. It expires in {{ minutes_valid }} minutes.";

pub const DEFAULT_SUBJECT: &str = "Your {{ company_name }} verification code";

pub const DEFAULT_TEXT: &str = "\
Hello {{ customer_name }},

Your verification code for {{ company_name }} is:

    {{ code }}

Read it out to the clerk at the desk. It is valid for {{ minutes_valid }} minutes.

If you are not at our desk right now, you can ignore this message.

{{ company_name }}
";

/// The seed system's layout: heading, greeting, the code large and letter-spaced, the expiry
/// line, a footer. Inline styles only: mail clients ignore style sheets.
pub const DEFAULT_HTML: &str = r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ company_name }} verification code</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;color:#1f2933;">
  <div style="max-width:480px;margin:24px auto;background:#ffffff;border-radius:8px;padding:32px;">
    <h1 style="margin:0 0 24px;font-size:20px;color:#1f4e79;">{{ company_name }}</h1>
    <p style="margin:0 0 16px;font-size:16px;">Hello {{ customer_name }},</p>
    <p style="margin:0 0 16px;font-size:16px;">Your verification code is:</p>
    <p style="margin:0 0 24px;text-align:center;font-size:36px;font-weight:bold;letter-spacing:8px;font-family:'Courier New',monospace;">{{ code }}</p>
    <p style="margin:0 0 16px;font-size:14px;">Read it out to the clerk at the desk. It is valid for {{ minutes_valid }} minutes.</p>
    <p style="margin:24px 0 0;font-size:12px;color:#6b7785;">If you are not at our desk right now, you can ignore this message.<br>{{ company_name }}</p>
  </div>
</body>
</html>
"#;

/// The templates in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Templates {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub sms: String,
    /// Which parts the admin has changed from the built-in default.
    pub customized: Vec<Part>,
}

impl Default for Templates {
    fn default() -> Self {
        Self {
            subject: DEFAULT_SUBJECT.into(),
            text: DEFAULT_TEXT.into(),
            html: DEFAULT_HTML.into(),
            sms: DEFAULT_SMS.into(),
            customized: Vec::new(),
        }
    }
}

impl Templates {
    pub fn get(&self, part: Part) -> &str {
        match part {
            Part::Subject => &self.subject,
            Part::Text => &self.text,
            Part::Html => &self.html,
            Part::Sms => &self.sms,
        }
    }

    fn set(&mut self, part: Part, body: String) {
        match part {
            Part::Subject => self.subject = body,
            Part::Text => self.text = body,
            Part::Html => self.html = body,
            Part::Sms => self.sms = body,
        }
    }
}

/// What goes into a message. Borrows the code from the caller, who owns (and wipes) it.
pub struct Vars<'a> {
    pub company_name: &'a str,
    pub customer_name: &'a str,
    pub code: &'a str,
    pub minutes_valid: u32,
}

impl Vars<'_> {
    /// The values `preview` and test mails use.
    pub fn sample(company_name: &str) -> Vars<'_> {
        Vars {
            company_name,
            customer_name: "Jo Smith",
            code: "123456",
            minutes_valid: 5,
        }
    }
}

/// A rendered message: subject, text and HTML.
pub struct Rendered {
    pub subject: String,
    pub text: Zeroizing<String>,
    pub html: Zeroizing<String>,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// A preview: what the admin sees (sample values, never a real code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn environment<'a>() -> Environment<'a> {
    let mut env = Environment::new();
    // `safe` is the one filter that switches escaping off for a value; no value a template
    // can see is markup, so it has no legitimate use here.
    env.remove_filter("safe");
    // Unknown names are errors, not empty strings: a typo shows up when saving.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(RENDER_FUEL));
    env.set_auto_escape_callback(|name| {
        if name == "html" {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env
}

/// Checks one part: size, characters, syntax, variables, and that it renders with sample
/// values. Returns the body as it will be stored.
pub fn validate(part: Part, body: &str) -> Result<String, TemplateError> {
    let body = match part {
        Part::Subject => body.trim(),
        _ => body,
    };
    if body.trim().is_empty() {
        return Err(TemplateError::Empty { part });
    }
    if body.chars().count() > part.max_chars() {
        return Err(TemplateError::TooLong {
            part,
            max: part.max_chars(),
        });
    }
    if part == Part::Subject && body.contains(['\r', '\n']) {
        return Err(TemplateError::SubjectNotOneLine);
    }
    let allowed_control = |c: char| part != Part::Subject && matches!(c, '\n' | '\r' | '\t');
    if body
        .chars()
        .any(|c| (c.is_control() && !allowed_control(c)) || contact::is_bidi_control(c))
    {
        return Err(TemplateError::ControlCharacters { part });
    }

    // `{% autoescape false %}` would switch escaping off for a whole block.
    if body.contains("autoescape") {
        return Err(TemplateError::Syntax {
            part,
            reason: "autoescape blocks are not allowed: every value is escaped".into(),
        });
    }
    let env = environment();
    let tmpl = env
        .template_from_named_str(part.as_str(), body)
        .map_err(|e| TemplateError::Syntax {
            part,
            reason: describe(&e),
        })?;
    let used = tmpl.undeclared_variables(false);
    let known: BTreeSet<&str> = VARIABLES.iter().map(|(name, _)| *name).collect();
    let unknown: BTreeSet<&str> = used
        .iter()
        .map(String::as_str)
        .filter(|v| !known.contains(v))
        .collect();
    if !unknown.is_empty() {
        let list: Vec<String> = unknown.iter().map(|v| contact::shorten(v)).collect();
        return Err(TemplateError::UnknownVariables {
            part,
            unknown: list.join(", "),
        });
    }
    match part {
        Part::Subject if used.contains("code") => return Err(TemplateError::CodeInSubject),
        Part::Text | Part::Html | Part::Sms if !used.contains("code") => {
            return Err(TemplateError::MissingCode { part })
        }
        _ => {}
    }
    render_part(&env, part, body, &Vars::sample("OTP Desk"))?;
    if part == Part::Sms {
        sms_length(body, "OTP Desk")?;
    }
    Ok(body.to_string())
}

/// The size of an SMS text rendered with sample values and `company_name`, or a refusal when
/// it takes more than `MAX_SMS_SEGMENTS` messages.
pub fn sms_length(body: &str, company_name: &str) -> Result<Segments, TemplateError> {
    let text = render_sms_body(&environment(), body, &Vars::sample(company_name))?;
    let size = segments::count(&text);
    if size.segments > MAX_SMS_SEGMENTS {
        return Err(TemplateError::SmsTooLong {
            characters: size.characters,
            segments: size.segments,
            encoding: match size.encoding {
                Encoding::Gsm7 => "GSM-7, 160 characters per message",
                Encoding::Ucs2 => "UCS-2, 70 characters per message",
            },
            max: MAX_SMS_SEGMENTS,
            hint: match size.encoding {
                Encoding::Ucs2 => {
                    "; characters outside the GSM alphabet (emoji, curly quotes, many accents) make every message hold only 70"
                }
                Encoding::Gsm7 => "",
            },
        });
    }
    Ok(size)
}

fn render_sms_body(
    env: &Environment<'_>,
    body: &str,
    vars: &Vars<'_>,
) -> Result<Zeroizing<String>, TemplateError> {
    // A value never starts a line or hides text: its control characters become spaces and
    // direction overrides go. Line breaks are the template's own.
    let fold = |v: &str| -> String {
        v.chars()
            .filter(|c| !contact::is_bidi_control(*c))
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect()
    };
    let (company_name, customer_name) = (fold(vars.company_name), fold(vars.customer_name));
    let out = render_part(
        env,
        Part::Sms,
        body,
        &Vars {
            company_name: &company_name,
            customer_name: &customer_name,
            code: vars.code,
            minutes_valid: vars.minutes_valid,
        },
    )?;
    let text = Zeroizing::new(out.replace("\r\n", "\n").replace(['\r', '\t'], " "));
    Ok(Zeroizing::new(text.trim().to_string()))
}

/// Renders the SMS text.
pub fn render_sms(
    templates: &Templates,
    vars: &Vars<'_>,
) -> Result<Zeroizing<String>, TemplateError> {
    render_sms_body(&environment(), &templates.sms, vars)
}

/// minijinja's error text plus the line, without the source dump its `Display` adds.
fn describe(e: &minijinja::Error) -> String {
    let mut s = e.detail().unwrap_or("invalid template").to_string();
    if let Some(line) = e.line() {
        s.push_str(&format!(" (line {line})"));
    }
    contact::shorten(&s)
}

fn render_part(
    env: &Environment<'_>,
    part: Part,
    body: &str,
    vars: &Vars<'_>,
) -> Result<Zeroizing<String>, TemplateError> {
    let ctx = minijinja::context! {
        company_name => vars.company_name,
        customer_name => vars.customer_name,
        code => vars.code,
        minutes_valid => vars.minutes_valid,
    };
    let err = |e: minijinja::Error| TemplateError::Render {
        part,
        reason: describe(&e),
    };
    let tmpl = env
        .template_from_named_str(part.as_str(), body)
        .map_err(err)?;
    let out = tmpl.render(ctx).map_err(err)?;
    Ok(Zeroizing::new(out))
}

/// Renders all three parts. The subject is folded to one line whatever the values hold, so
/// nothing a customer name contains can start a new header.
pub fn render(templates: &Templates, vars: &Vars<'_>) -> Result<Rendered, TemplateError> {
    let env = environment();
    let subject = render_part(&env, Part::Subject, &templates.subject, vars)?;
    let subject: String = subject
        .chars()
        .map(|c| {
            if c.is_control() || contact::is_bidi_control(c) {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let subject: String = subject.chars().take(MAX_SUBJECT_CHARS * 2).collect();
    Ok(Rendered {
        subject,
        text: render_part(&env, Part::Text, &templates.text, vars)?,
        html: render_part(&env, Part::Html, &templates.html, vars)?,
    })
}

/// The templates in force: the admin's where stored, the defaults elsewhere. A stored
/// template that no longer validates (edited by hand) falls back to the default.
pub fn load(conn: &Connection) -> Result<Templates, TemplateError> {
    let mut t = Templates::default();
    for part in Part::EVERY {
        let stored: Option<String> = conn
            .prepare_cached(&format!(
                "SELECT body FROM {} WHERE part = ?1",
                part.table()
            ))?
            .query_row([part.as_str()], |r| r.get(0))
            .optional()?;
        if let Some(body) = stored.and_then(|b| validate(part, &b).ok()) {
            if body != part.default_body() {
                t.customized.push(part);
            }
            t.set(part, body);
        }
    }
    Ok(t)
}

/// Validates and stores one part, and records the change in the audit trail.
pub fn save(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    part: Part,
    body: &str,
) -> Result<(), TemplateError> {
    let operator =
        audit::operator_name(operator).map_err(|e| TemplateError::Operator(e.to_string()))?;
    let body = validate(part, body)?;
    let tx = conn.transaction()?;
    if part == Part::Sms {
        sms_length(&body, &company_name(&tx)?)?;
    }
    tx.execute(
        &format!(
            "INSERT INTO {} (part, body, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (part) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            part.table()
        ),
        params![part.as_str(), body, clock.now_ms()],
    )?;
    audit::record(
        &tx,
        clock,
        &Event::new(audit::Kind::SettingChanged, audit::Outcome::Ok, &operator)
            .detail(format!("{} changed", part.described())),
    )
    .map_err(|e| TemplateError::Storage(e.to_string()))?;
    tx.commit()?;
    Ok(())
}

/// Puts one part back to the built-in default.
pub fn reset(
    conn: &mut Connection,
    clock: &dyn Clock,
    operator: &str,
    part: Part,
) -> Result<(), TemplateError> {
    let operator =
        audit::operator_name(operator).map_err(|e| TemplateError::Operator(e.to_string()))?;
    let tx = conn.transaction()?;
    if tx.execute(
        &format!("DELETE FROM {} WHERE part = ?1", part.table()),
        [part.as_str()],
    )? > 0
    {
        audit::record(
            &tx,
            clock,
            &Event::new(audit::Kind::SettingChanged, audit::Outcome::Ok, &operator)
                .detail(format!("{} reset to the default", part.described())),
        )
        .map_err(|e| TemplateError::Storage(e.to_string()))?;
    }
    tx.commit()?;
    Ok(())
}

/// Renders templates (the stored ones, with any part replaced by a draft) with sample
/// values, so an admin sees the result before saving. Drafts are validated first.
pub fn preview(conn: &Connection, drafts: &[(Part, &str)]) -> Result<Preview, TemplateError> {
    let mut t = load(conn)?;
    for (part, body) in drafts {
        let body = validate(*part, body)?;
        t.set(*part, body);
    }
    let company = company_name(conn)?;
    let r = render(&t, &Vars::sample(&company))?;
    Ok(Preview {
        subject: r.subject,
        text: r.text.to_string(),
        html: r.html.to_string(),
    })
}

fn company_name(conn: &Connection) -> Result<String, TemplateError> {
    Ok(crate::settings::load(conn)
        .map_err(|e| TemplateError::Storage(e.to_string()))?
        .company_name)
}

/// An SMS preview: the text with sample values (never a real code) and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsPreview {
    pub text: String,
    pub characters: usize,
    pub encoding: Encoding,
    pub segments: usize,
    pub max_segments: usize,
}

/// Renders the SMS text in force, or `draft` (validated first), with sample values and the
/// office's name, and says how many text messages it takes.
pub fn preview_sms(conn: &Connection, draft: Option<&str>) -> Result<SmsPreview, TemplateError> {
    let mut t = load(conn)?;
    if let Some(body) = draft {
        t.sms = validate(Part::Sms, body)?;
    }
    let company = company_name(conn)?;
    let size = sms_length(&t.sms, &company)?;
    let text = render_sms(&t, &Vars::sample(&company))?;
    Ok(SmsPreview {
        text: text.to_string(),
        characters: size.characters,
        encoding: size.encoding,
        segments: size.segments,
        max_segments: MAX_SMS_SEGMENTS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(name: &'a str, company: &'a str) -> Vars<'a> {
        Vars {
            company_name: company,
            customer_name: name,
            code: "048213",
            minutes_valid: 5,
        }
    }

    #[test]
    fn defaults_are_valid() {
        for part in Part::EVERY {
            validate(part, part.default_body()).unwrap();
        }
    }

    #[test]
    fn html_escapes_every_value_and_text_keeps_it_literal() {
        let r = render(
            &Templates::default(),
            &vars("<script>alert(1)</script>", "A&B <Co>"),
        )
        .unwrap();
        assert!(!r.html.contains("<script>"), "{}", r.html.as_str());
        assert!(r
            .html
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"));
        assert!(r.html.contains("A&amp;B &lt;Co&gt;"));
        assert!(r.text.contains("Hello <script>alert(1)</script>,"));
        assert!(r.text.contains("048213") && r.html.contains("048213"));
        assert_eq!(r.subject, "Your A&B <Co> verification code");
    }

    #[test]
    fn the_subject_stays_one_line_whatever_the_values_hold() {
        let t = Templates {
            subject: "Code for {{ customer_name }}".into(),
            ..Templates::default()
        };
        let r = render(&t, &vars("Jo\r\nBcc: all@example.com\u{202E}", "Acme")).unwrap();
        assert_eq!(r.subject, "Code for Jo Bcc: all@example.com");
    }

    #[test]
    fn templates_are_refused_with_the_reason() {
        use TemplateError as E;
        type Case = (Part, String, fn(&E) -> bool);
        let cases: Vec<Case> = vec![
            (Part::Subject, "".into(), |e| matches!(e, E::Empty { .. })),
            (Part::Subject, "Hi\r\nBcc: x@example.com".into(), |e| {
                matches!(e, E::SubjectNotOneLine)
            }),
            (Part::Subject, "Code {{ code }}".into(), |e| {
                matches!(e, E::CodeInSubject)
            }),
            (Part::Subject, "x".repeat(201), |e| matches!(e, E::TooLong { .. })),
            (Part::Html, "x".repeat(50_001), |e| matches!(e, E::TooLong { .. })),
            (Part::Text, "{{ code }} {% if %}".into(), |e| {
                matches!(e, E::Syntax { .. })
            }),
            (Part::Text, "{{ code }} {{ secret_key }}".into(), |e| {
                matches!(e, E::UnknownVariables { unknown, .. } if unknown == "secret_key")
            }),
            (Part::Text, "{{ code }}{% for i in range(10) %}x{% endfor %}".into(), |e| {
                matches!(e, E::UnknownVariables { .. })
            }),
            (Part::Html, "{% include 'x' %}{{ code }}".into(), |e| {
                matches!(e, E::Render { .. })
            }),
            (Part::Text, "Hello {{ customer_name }}".into(), |e| {
                matches!(e, E::MissingCode { .. })
            }),
            (Part::Text, "{{ code }}\u{202E}".into(), |e| {
                matches!(e, E::ControlCharacters { .. })
            }),
            (Part::Text, "{{ code }}{{ code|nosuchfilter }}".into(), |e| {
                matches!(e, E::Syntax { .. } | E::Render { .. })
            }),
            (
                Part::Text,
                "{{ code }}{% set x = [1,2,3,4,5,6,7,8,9,10] %}{% for a in x %}{% for b in x %}{% for c in x %}{% for d in x %}{% for e in x %}.{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}".into(),
                |e| matches!(e, E::Render { .. }),
            ),
        ];
        for (part, body, ok) in cases {
            let e = validate(part, &body).unwrap_err();
            assert!(ok(&e), "{part} {:?}: {e}", contact::shorten(&body));
        }
    }

    #[test]
    fn an_admin_may_mark_up_but_not_unescape_values() {
        let own_markup = "<b>{{ customer_name }}</b> {{ code }}";
        validate(Part::Html, own_markup).unwrap();
        let t = Templates {
            html: own_markup.into(),
            ..Templates::default()
        };
        let r = render(&t, &vars("<i>x</i>", "Acme")).unwrap();
        assert!(r.html.starts_with("<b>&lt;i&gt;"), "{}", r.html.as_str());
        for escape_hatch in [
            "{{ customer_name|safe }} {{ code }}",
            "{% autoescape false %}{{ customer_name }}{% endautoescape %} {{ code }}",
        ] {
            assert!(
                validate(Part::Html, escape_hatch).is_err(),
                "{escape_hatch}"
            );
        }
        let raw = Templates {
            html: "{{ customer_name|safe }}{{ code }}".into(),
            ..Templates::default()
        };
        assert!(render(&raw, &vars("<i>x</i>", "Acme")).is_err());
    }

    #[test]
    fn the_sms_text_is_plain_short_and_shows_the_code() {
        let t = Templates::default();
        let sms = render_sms(&t, &vars("<b>Jo</b>\r\n\u{202E}", "Acme Billing")).unwrap();
        assert_eq!(
            sms.as_str(),
            "048213 is your Acme Billing verification code. It expires in 5 minutes."
        );
        assert_eq!(sms_length(&t.sms, "Acme Billing").unwrap().segments, 1);
        let named = Templates {
            sms: "{{ customer_name }}: {{ code }}".into(),
            ..Templates::default()
        };
        let sms = render_sms(&named, &vars("<b>Jo</b>\r\n\u{202E}x", "Acme")).unwrap();
        assert_eq!(
            sms.as_str(),
            "<b>Jo</b>  x: 048213",
            "plain text, controls folded"
        );
    }

    #[test]
    fn an_sms_text_longer_than_three_messages_is_refused_with_its_size() {
        validate(Part::Sms, &format!("{{{{ code }}}} {}", "a".repeat(440))).unwrap();
        let e = validate(Part::Sms, &format!("{{{{ code }}}} {}", "a".repeat(460))).unwrap_err();
        assert!(
            matches!(e, TemplateError::SmsTooLong { segments: 4, .. }),
            "{e}"
        );
        // One emoji turns the whole text into UCS-2, 67 characters per part.
        let e = validate(Part::Sms, &format!("{{{{ code }}}} {} 😀", "a".repeat(200))).unwrap_err();
        assert!(e.to_string().contains("UCS-2"), "{e}");
        for (body, what) in [
            ("", "empty"),
            ("Hello {{ customer_name }}", "code"),
            ("{{ code }} {{ secret }}", "secret"),
            ("{{ code }}\u{202E}", "control"),
        ] {
            let e = validate(Part::Sms, body).unwrap_err().to_string();
            assert!(e.contains(what), "{body:?}: {e}");
        }
    }
}
