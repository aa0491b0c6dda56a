//! The message text in Settings: the email's subject, text and HTML and the SMS text, as
//! stored and as built in; a live preview with sample values (never a real code) that also
//! checks the draft; saving, which the core checks again. Every problem names the part it
//! is about, so the page shows it under that editor.

use otp_desk_core::delivery::segments::Encoding;
use otp_desk_core::delivery::template::{
    self, Part, Preview, SmsPreview, TemplateError, DEFAULT_HTML, DEFAULT_SMS, DEFAULT_SUBJECT,
    DEFAULT_TEXT, MAX_HTML_CHARS, MAX_SMS_CHARS, MAX_SMS_SEGMENTS, MAX_SUBJECT_CHARS,
    MAX_TEXT_CHARS, VARIABLES,
};
use serde::{Deserialize, Serialize};
use tauri::State;

use crate::commands::blocking;
use crate::error::{FieldProblem, ShellError};
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct Texts {
    subject: &'static str,
    text: &'static str,
    html: &'static str,
    sms: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Limits {
    subject: usize,
    text: usize,
    html: usize,
    sms: usize,
    sms_messages: usize,
}

#[derive(Debug, Serialize)]
pub struct Variable {
    name: &'static str,
    meaning: &'static str,
}

/// The tab's data: the text in force, which parts differ from the built-in text, the
/// built-in text itself (for "Reset to default"), the variables and the size limits.
#[derive(Debug, Serialize)]
pub struct MessageTexts {
    subject: String,
    text: String,
    html: String,
    sms: String,
    customized: Vec<Part>,
    defaults: Texts,
    variables: Vec<Variable>,
    limits: Limits,
}

fn default_of(part: Part) -> &'static str {
    match part {
        Part::Subject => DEFAULT_SUBJECT,
        Part::Text => DEFAULT_TEXT,
        Part::Html => DEFAULT_HTML,
        Part::Sms => DEFAULT_SMS,
    }
}

fn max_chars(part: Part) -> usize {
    match part {
        Part::Subject => MAX_SUBJECT_CHARS,
        Part::Text => MAX_TEXT_CHARS,
        Part::Html => MAX_HTML_CHARS,
        Part::Sms => MAX_SMS_CHARS,
    }
}

fn texts(t: template::Templates) -> MessageTexts {
    MessageTexts {
        subject: t.subject,
        text: t.text,
        html: t.html,
        sms: t.sms,
        customized: t.customized,
        defaults: Texts {
            subject: DEFAULT_SUBJECT,
            text: DEFAULT_TEXT,
            html: DEFAULT_HTML,
            sms: DEFAULT_SMS,
        },
        variables: VARIABLES
            .iter()
            .map(|(name, meaning)| Variable { name, meaning })
            .collect(),
        limits: Limits {
            subject: MAX_SUBJECT_CHARS,
            text: MAX_TEXT_CHARS,
            html: MAX_HTML_CHARS,
            sms: MAX_SMS_CHARS,
            sms_messages: MAX_SMS_SEGMENTS,
        },
    }
}

#[tauri::command]
pub async fn message_texts(state: State<'_, AppState>) -> Result<MessageTexts, ShellError> {
    state.require_admin()?;
    let store = state.store()?;
    blocking(move || Ok(texts(template::load(&store.conn())?))).await
}

/// A draft far over its part's limit is refused here, before the template engine sees it;
/// the core's own limit (characters) decides everything closer.
fn draft_bound(part: Part, body: &str) -> Result<(), TemplateError> {
    // Four bytes is the most a character takes in UTF-8.
    if body.len() > 4 * max_chars(part) {
        return Err(TemplateError::TooLong {
            part,
            max: max_chars(part),
        });
    }
    Ok(())
}

/// Checks every draft on its own, so each editor shows its own problem at once. Answers
/// with the drafts as they would be stored, or one error listing every problem by part.
fn checked(drafts: Vec<(Part, String)>) -> Result<Vec<(Part, String)>, ShellError> {
    let mut good = Vec::new();
    let mut problems = Vec::new();
    for (part, body) in drafts {
        match draft_bound(part, &body).and_then(|()| template::validate(part, &body)) {
            Ok(body) => good.push((part, body)),
            Err(e) => problems.push(FieldProblem {
                field: part.as_str().to_string(),
                message: e.to_string(),
            }),
        }
    }
    match problems.first() {
        None => Ok(good),
        Some(first) => {
            let mut error = ShellError::new("invalid_template", first.message.clone());
            error.fields = problems;
            Err(error)
        }
    }
}

/// The email as it would go out with the drafts, rendered with sample values (Jo Smith,
/// code 123456): the subject, the text part, and the HTML part for a sandboxed preview.
#[tauri::command]
pub async fn message_preview(
    state: State<'_, AppState>,
    subject: String,
    text: String,
    html: String,
) -> Result<Preview, ShellError> {
    state.require_admin()?;
    let drafts = checked(vec![
        (Part::Subject, subject),
        (Part::Text, text),
        (Part::Html, html),
    ])?;
    let store = state.store()?;
    blocking(move || {
        let drafts: Vec<(Part, &str)> = drafts.iter().map(|(p, b)| (*p, b.as_str())).collect();
        Ok(template::preview(&store.conn(), &drafts)?)
    })
    .await
}

/// The SMS as it would go out with the draft: the text with sample values, its characters,
/// its encoding and how many text messages it takes.
#[derive(Debug, Serialize)]
pub struct SmsTextPreview {
    #[serde(flatten)]
    preview: SmsPreview,
    /// Characters per message for this encoding, for the sentence under the editor.
    per_message: usize,
}

#[tauri::command]
pub async fn sms_text_preview(
    state: State<'_, AppState>,
    text: String,
) -> Result<SmsTextPreview, ShellError> {
    state.require_admin()?;
    let drafts = checked(vec![(Part::Sms, text)])?;
    let store = state.store()?;
    blocking(move || {
        let draft = drafts.first().map(|(_, b)| b.as_str());
        let preview = template::preview_sms(&store.conn(), draft).map_err(|e| {
            let message = e.to_string();
            let mut error = ShellError::from(e);
            error.fields.push(FieldProblem {
                field: Part::Sms.as_str().to_string(),
                message,
            });
            error
        })?;
        let per_message = match (preview.encoding, preview.segments) {
            (Encoding::Gsm7, 1) => otp_desk_core::delivery::segments::GSM7_SINGLE,
            (Encoding::Gsm7, _) => otp_desk_core::delivery::segments::GSM7_PART,
            (Encoding::Ucs2, 1) => otp_desk_core::delivery::segments::UCS2_SINGLE,
            (Encoding::Ucs2, _) => otp_desk_core::delivery::segments::UCS2_PART,
        };
        Ok(SmsTextPreview {
            preview,
            per_message,
        })
    })
    .await
}

/// The parts to save; a part left out stays as it is.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Drafts {
    subject: Option<String>,
    text: Option<String>,
    html: Option<String>,
    sms: Option<String>,
}

impl Drafts {
    fn parts(self) -> Vec<(Part, String)> {
        [
            (Part::Subject, self.subject),
            (Part::Text, self.text),
            (Part::Html, self.html),
            (Part::Sms, self.sms),
        ]
        .into_iter()
        .filter_map(|(part, body)| body.map(|b| (part, b)))
        .collect()
    }
}

/// Saves the drafts once every one of them passes. A draft that is the built-in text puts
/// the part back to the default (so a later version's better default reaches it); an
/// unchanged one is left alone, so the audit trail records only real changes.
#[tauri::command]
pub async fn message_texts_save(
    state: State<'_, AppState>,
    drafts: Drafts,
) -> Result<MessageTexts, ShellError> {
    state.require_admin()?;
    let drafts = checked(drafts.parts())?;
    if drafts.is_empty() {
        return Err(ShellError::invalid_argument("there is nothing to save"));
    }
    let actor = state.session().admin_actor();
    let store = state.store()?;
    blocking(move || {
        let mut conn = store.conn();
        let now = template::load(&conn)?;
        for (part, body) in drafts {
            let result = if body == default_of(part) {
                if now.customized.contains(&part) {
                    template::reset(&mut conn, store.clock(), &actor, part)
                } else {
                    Ok(())
                }
            } else if body != now.get(part) {
                template::save(&mut conn, store.clock(), &actor, part, &body)
            } else {
                Ok(())
            };
            result.map_err(|e| {
                let message = e.to_string();
                let mut error = ShellError::from(e);
                error.fields.push(FieldProblem {
                    field: part.as_str().to_string(),
                    message,
                });
                error
            })?;
        }
        Ok(texts(template::load(&conn)?))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::super::hostile;
    use super::*;

    #[test]
    fn every_part_is_checked_on_its_own_and_named_in_the_answer() {
        let good = checked(vec![
            (Part::Subject, "  Your {{ company_name }} code ".into()),
            (Part::Text, "{{ code }}".into()),
        ])
        .unwrap();
        assert_eq!(
            good[0].1, "Your {{ company_name }} code",
            "the subject is trimmed"
        );

        let error = checked(vec![
            (Part::Subject, "Code {{ code }}".into()),
            (Part::Text, "Hello {{ customer_name }}".into()),
            (Part::Html, "{{ code }}".into()),
        ])
        .unwrap_err();
        assert_eq!(error.kind, "invalid_template");
        let fields: Vec<&str> = error.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["subject", "text"]);
        assert!(
            error.fields[1].message.contains("{{ code }}"),
            "{:?}",
            error.fields[1]
        );
    }

    #[test]
    fn empty_huge_and_hostile_drafts_are_refused_with_the_reason() {
        for (part, body, says) in [
            (Part::Subject, String::new(), "empty"),
            (Part::Text, "   ".into(), "empty"),
            (Part::Html, hostile::megabyte(), "too long"),
            (Part::Sms, hostile::megabyte(), "too long"),
            (
                Part::Subject,
                "Hi\r\nBcc: all@example.com".into(),
                "single line",
            ),
            (Part::Text, "{{ code }}\u{202E}".into(), "control"),
            (
                Part::Html,
                "{{ code }} {{ customer_name|safe }}".into(),
                "safe",
            ),
            (
                Part::Text,
                "{{ code }} {{ config.secret }}".into(),
                "config",
            ),
            (
                Part::Sms,
                "{{ code }}'; DROP TABLE sms_templates;--{% if %}".into(),
                "compile",
            ),
            (
                Part::Html,
                "<script>{{ code }}</script>{% include 'x' %}".into(),
                "render",
            ),
        ] {
            let error = checked(vec![(part, body)]).unwrap_err();
            assert_eq!(error.fields[0].field, part.as_str());
            assert!(
                error.message.contains(says),
                "{part}: {} should say {says}",
                error.message
            );
            assert!(
                error.message.len() < 400,
                "the message does not echo the draft"
            );
        }
    }

    #[test]
    fn drafts_left_out_are_not_saved() {
        let parts = Drafts {
            html: Some("{{ code }}".into()),
            sms: Some("{{ code }}".into()),
            ..Default::default()
        }
        .parts();
        let names: Vec<Part> = parts.iter().map(|(p, _)| *p).collect();
        assert_eq!(names, [Part::Html, Part::Sms]);
        assert!(Drafts::default().parts().is_empty());
    }

    #[test]
    fn the_built_in_texts_pass_their_own_checks() {
        for part in Part::EVERY {
            assert!(
                checked(vec![(part, default_of(part).to_string())]).is_ok(),
                "{part}"
            );
            draft_bound(part, &"x".repeat(4 * max_chars(part))).unwrap();
            assert!(draft_bound(part, &"x".repeat(4 * max_chars(part) + 1)).is_err());
        }
    }
}
