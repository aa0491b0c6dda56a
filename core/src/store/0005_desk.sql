-- Schema version 5: the people at the desk and the admin passphrase.
-- Timestamps are INTEGER milliseconds since the Unix epoch (UTC), as in version 1.

-- Who works the desk. The clerk picks a name from the active ones; every audit event carries
-- it as text, so a renamed or retired operator's history keeps the name it was made under.
-- name_key is the name folded for comparison (NFC, lower case, single spaces), so "Ann Lee"
-- and "ann  lee" are one person; `operators` computes it.
CREATE TABLE operators (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    name_key   TEXT    NOT NULL UNIQUE,
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The admin passphrase: one row or none (none means "not set up yet"). Only the Argon2id PHC
-- string (algorithm, parameters, salt, hash) is stored, never the passphrase. The failure
-- count and the lock live beside it so they survive a restart, as the code locks do.
CREATE TABLE admin_passphrase (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    phc                  TEXT    NOT NULL,
    set_at               INTEGER NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    locked_until         INTEGER
);

-- The Dashboard and the Activity filters read a month of events by time and look only at
-- their kind, result, channel and code. With those in the time index the reads never touch
-- the table (a month of a busy office: 82,000 events, 6x faster; docs/PERFORMANCE.md). The
-- index is replaced, not added: still one index entry written per event, so issuing and
-- verifying a code writes no more pages than before.
DROP INDEX audit_by_time;
CREATE INDEX audit_by_time ON audit_events (at, kind, result, channel, code_id);

-- The same for delivery tries: the success rate per account and the newest failures.
DROP INDEX delivery_attempts_by_time;
CREATE INDEX delivery_attempts_by_time ON delivery_attempts (at, status, channel, account, code_id);
