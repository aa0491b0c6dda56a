-- Schema version 1. Timestamps are INTEGER milliseconds since the Unix epoch (UTC).

CREATE TABLE customers (
    id              INTEGER PRIMARY KEY,
    account_number  TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    name            TEXT    NOT NULL,
    email           TEXT,               -- normalised: trimmed, domain lower-cased
    phone           TEXT,               -- as entered
    phone_e164      TEXT,               -- when the number parses for the default region
    service_address TEXT    NOT NULL DEFAULT '',
    notes           TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- The search index: one row per searchable term of a customer. A term starts with a one-letter
-- namespace (a: account number, n: name word, e: email or email part, p: phone digits suffix)
-- so that one range scan answers one kind of prefix question. Maintained by `customers`.
CREATE TABLE customer_terms (
    term        TEXT    NOT NULL,
    customer_id INTEGER NOT NULL,
    PRIMARY KEY (term, customer_id)
) WITHOUT ROWID;

-- One row per one-time code ("challenge"). Never the code itself: only a keyed HMAC.
-- customer_id has no FOREIGN KEY on purpose: SQLite can empty a table wholesale only when it
-- takes part in no foreign key, which makes a large cleanup 20x faster (benches/codes.rs).
-- Deleting a customer deletes their codes in the same transaction (customers::delete).
CREATE TABLE codes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id   INTEGER,
    channel       TEXT    NOT NULL CHECK (channel IN ('email', 'sms')),
    destination   TEXT    NOT NULL,     -- normalised email address or E.164 number
    code_hash     BLOB    NOT NULL,
    digits        INTEGER NOT NULL,     -- the code's length when it was issued
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    status        TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'verified', 'dead', 'superseded', 'cancelled')),
    used_at       INTEGER,
    operator      TEXT    NOT NULL
);
CREATE INDEX codes_by_destination ON codes (destination, created_at);
CREATE INDEX codes_by_expiry ON codes (expires_at);
-- No index on customer_id: every index is one more page written per code issued. "Pending
-- codes for this customer" is answered through codes_by_expiry (live codes are few), and a
-- (rare) customer delete scans a table that cleanup keeps small.

-- Per-contact state that must outlive any one code: consecutive failures and the lock.
CREATE TABLE contacts (
    destination          TEXT    PRIMARY KEY,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    locked_until         INTEGER
) WITHOUT ROWID;

-- The audit trail: append-only, enforced by the triggers below.
-- Plain INTEGER PRIMARY KEY (no AUTOINCREMENT): rows are never deleted, so ids are never reused
-- anyway, and AUTOINCREMENT would write sqlite_sequence on every event.
CREATE TABLE audit_events (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    kind           TEXT    NOT NULL,
    result         TEXT    NOT NULL,
    operator       TEXT    NOT NULL,
    customer_id    INTEGER,            -- no foreign key: the trail outlives a deleted customer
    account_number TEXT,
    channel        TEXT,
    destination    TEXT,               -- masked, never the full contact
    code_id        INTEGER,
    detail         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_time ON audit_events (at);
CREATE INDEX audit_by_customer ON audit_events (customer_id, at);
-- Filters by kind or result walk audit_by_time newest-first: the common kinds are dense, so a
-- page of results is found quickly without a third index to write on every event.

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Facts about this database file itself (its random id names its key in the OS keyring).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
