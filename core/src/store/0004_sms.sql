-- Schema version 4: SMS accounts (Twilio, or the development console), the SMS text
-- template, and what Twilio said about each message.
-- Timestamps are INTEGER milliseconds since the Unix epoch (UTC), as in version 1.

-- Where text messages go out. Never the auth token: it lives in the OS keyring under
-- "twilio:<name>" (spaces as underscores) and is written through `delivery::sms_accounts` only.
-- A fresh database has no SMS account: SMS is "not set up" until an admin adds one.
CREATE TABLE sms_accounts (
    id                    INTEGER PRIMARY KEY,
    name                  TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    kind                  TEXT    NOT NULL CHECK (kind IN ('twilio', 'console')),
    account_sid           TEXT    NOT NULL DEFAULT '',   -- AC + 32 hex (twilio)
    from_number           TEXT    NOT NULL DEFAULT '',   -- E.164, or ''
    messaging_service_sid TEXT    NOT NULL DEFAULT '',   -- MG + 32 hex, or ''
    api_base              TEXT    NOT NULL DEFAULT '',   -- https://api.twilio.com unless changed
    is_default            INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    -- A Twilio account sends from a number or through a Messaging Service, never both.
    CHECK (kind <> 'twilio' OR ((from_number = '') <> (messaging_service_sid = '')))
);
-- At most one default; none means SMS is not set up.
CREATE UNIQUE INDEX sms_accounts_one_default ON sms_accounts (is_default) WHERE is_default = 1;

-- The admin's SMS text (one part). A missing row means the built-in default.
CREATE TABLE sms_templates (
    part       TEXT    PRIMARY KEY CHECK (part = 'sms'),
    body       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- What the SMS provider said: its id for the message (Twilio's SM… sid), the last status it
-- reported (queued, sent, delivered, undelivered, failed, …), its error code, and when.
ALTER TABLE delivery_attempts ADD COLUMN provider_id     TEXT NOT NULL DEFAULT '';
ALTER TABLE delivery_attempts ADD COLUMN provider_status TEXT NOT NULL DEFAULT '';
ALTER TABLE delivery_attempts ADD COLUMN provider_error  INTEGER;
ALTER TABLE delivery_attempts ADD COLUMN status_at       INTEGER;
