-- Schema version 2: mail accounts, message templates, and one record per delivery attempt.
-- Timestamps are INTEGER milliseconds since the Unix epoch (UTC), as in version 1.

-- Where mail goes out. Never a password or token: those live in the OS keyring under
-- "smtp:<name>" (spaces as underscores) and are written through `delivery::accounts` only.
CREATE TABLE mail_accounts (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    kind         TEXT    NOT NULL CHECK (kind IN ('gmail', 'microsoft365', 'smtp', 'console', 'outbox')),
    host         TEXT    NOT NULL DEFAULT '',
    port         INTEGER NOT NULL DEFAULT 0,
    security     TEXT    NOT NULL DEFAULT 'none' CHECK (security IN ('starttls', 'tls', 'none')),
    username     TEXT    NOT NULL DEFAULT '',
    from_address TEXT    NOT NULL,
    from_name    TEXT    NOT NULL DEFAULT '',
    extra_ca_pem TEXT    NOT NULL DEFAULT '',
    outbox_dir   TEXT    NOT NULL DEFAULT '',   -- outbox kind only; '' = "outbox" next to the database
    is_default   INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
-- At most one default, enforced by the database; `delivery::accounts` keeps it at exactly one.
CREATE UNIQUE INDEX mail_accounts_one_default ON mail_accounts (is_default) WHERE is_default = 1;

-- A fresh install delivers to a folder, so the desk works before any mail account exists.
INSERT INTO mail_accounts (name, kind, from_address, is_default, created_at, updated_at)
VALUES ('Local outbox', 'outbox', 'desk@otp-desk.invalid', 1, 0, 0);

-- The admin's message templates (part: subject, text or html). A missing row means the
-- built-in default. Validated before they are stored (`delivery::template`).
CREATE TABLE mail_templates (
    part       TEXT    PRIMARY KEY CHECK (part IN ('subject', 'text', 'html')),
    body       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per attempt to deliver a message. Never the code or the full address.
-- code_id has no FOREIGN KEY: codes are cleaned up, the delivery history stays (like audit).
CREATE TABLE delivery_attempts (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    code_id       INTEGER,                -- NULL for a test mail
    channel       TEXT    NOT NULL CHECK (channel IN ('email', 'sms')),
    account       TEXT    NOT NULL,
    recipient     TEXT    NOT NULL,       -- masked
    status        TEXT    NOT NULL CHECK (status IN ('sent', 'failed')),
    failure_class TEXT,
    reply         TEXT    NOT NULL DEFAULT '',  -- what the server or transport said, secrets scrubbed
    duration_ms   INTEGER NOT NULL
);
CREATE INDEX delivery_attempts_by_time ON delivery_attempts (at);
CREATE INDEX delivery_attempts_by_code ON delivery_attempts (code_id);
