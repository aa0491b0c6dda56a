//! An admin edits the message templates: the edit is checked, stored, audited, used for the
//! next message, and a row damaged by hand never breaks sending.

mod common;

use common::Desk;
use otp_desk_core::delivery::template::{self, Part, TemplateError};

#[test]
fn an_edited_template_is_stored_audited_and_previewed() {
    let desk = Desk::new();
    let mut conn = desk.store.conn();
    let clock = desk.store.clock();
    template::save(
        &mut conn,
        clock,
        "Ann",
        Part::Subject,
        "  {{ company_name }}: your code for {{ customer_name }}  ",
    )
    .unwrap();
    let t = template::load(&conn).unwrap();
    assert_eq!(
        t.subject,
        "{{ company_name }}: your code for {{ customer_name }}"
    );
    assert_eq!(t.customized, [Part::Subject]);
    let p = template::preview(&conn, &[(Part::Text, "Code: {{ code }}")]).unwrap();
    assert_eq!(p.subject, "OTP Desk: your code for Jo Smith");
    assert_eq!(p.text, "Code: 123456");
    assert_eq!(
        template::load(&conn).unwrap().text,
        template::DEFAULT_TEXT,
        "a preview saves nothing"
    );
    let audited: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_events WHERE detail = 'mail template subject changed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);
    template::reset(&mut conn, clock, "Ann", Part::Subject).unwrap();
    assert_eq!(
        template::load(&conn).unwrap(),
        template::Templates::default()
    );
}

#[test]
fn a_refused_template_changes_nothing() {
    let desk = Desk::new();
    let mut conn = desk.store.conn();
    let e = template::save(
        &mut conn,
        desk.store.clock(),
        "Ann",
        Part::Html,
        "<p>{{ code }}</p>{{ customer_email }}",
    )
    .unwrap_err();
    assert!(matches!(e, TemplateError::UnknownVariables { .. }), "{e}");
    assert!(e.to_string().contains("customer_email"), "{e}");
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM mail_templates", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
    let e =
        template::save(&mut conn, desk.store.clock(), " ", Part::Html, "{{ code }}").unwrap_err();
    assert!(matches!(e, TemplateError::Operator(_)), "{e}");
}

#[test]
fn a_template_damaged_by_hand_falls_back_to_the_default() {
    let desk = Desk::new();
    let conn = desk.store.conn();
    conn.execute(
        "INSERT INTO mail_templates (part, body, updated_at) VALUES ('html', '{% if %}', 0)",
        [],
    )
    .unwrap();
    let t = template::load(&conn).unwrap();
    assert_eq!(t.html, template::DEFAULT_HTML);
    assert!(t.customized.is_empty());
}

#[test]
fn admin_edits_the_sms_text_and_previews_its_length() {
    use otp_desk_core::delivery::segments::Encoding;
    let desk = Desk::new();
    let p = template::preview_sms(&desk.store.conn(), None).unwrap();
    assert_eq!(
        p.text,
        "123456 is your OTP Desk verification code. It expires in 5 minutes."
    );
    assert_eq!(
        (p.segments, p.encoding, p.max_segments),
        (1, Encoding::Gsm7, 3)
    );

    let draft = "{{ company_name }}: {{ code }} (valid {{ minutes_valid }} min) ✓";
    let p = template::preview_sms(&desk.store.conn(), Some(draft)).unwrap();
    assert_eq!(
        p.encoding,
        Encoding::Ucs2,
        "the check mark is outside GSM-7"
    );
    template::save(
        &mut desk.store.conn(),
        desk.store.clock(),
        "admin",
        Part::Sms,
        draft,
    )
    .unwrap();
    let t = template::load(&desk.store.conn()).unwrap();
    assert_eq!(
        (t.sms.as_str(), t.customized.as_slice()),
        (draft, &[Part::Sms][..])
    );

    // The office's real name counts: a long one can push a text over three messages.
    let long_name = "A".repeat(100);
    otp_desk_core::settings::set(
        &mut desk.store.conn(),
        desk.store.clock(),
        "admin",
        "company_name",
        &long_name,
    )
    .unwrap();
    let err = template::save(&mut desk.store.conn(), desk.store.clock(), "admin", Part::Sms, "{{ company_name }} {{ company_name }} {{ company_name }} {{ company_name }} {{ company_name }} {{ code }}").unwrap_err();
    assert!(matches!(err, TemplateError::SmsTooLong { .. }), "{err}");
    template::reset(
        &mut desk.store.conn(),
        desk.store.clock(),
        "admin",
        Part::Sms,
    )
    .unwrap();
    assert!(template::load(&desk.store.conn())
        .unwrap()
        .customized
        .is_empty());
}
