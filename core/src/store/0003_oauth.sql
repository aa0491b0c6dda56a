-- Schema version 3: OAuth 2.0 sign-in for mail accounts (Microsoft 365 device-code flow).
-- Only where to sign in is stored here; the refresh token lives in the OS keyring under
-- "oauth:<secret name>" and the access token only in memory.
-- '' in oauth_client_id means the account signs in with a password.
ALTER TABLE mail_accounts ADD COLUMN oauth_tenant    TEXT NOT NULL DEFAULT '';
ALTER TABLE mail_accounts ADD COLUMN oauth_client_id TEXT NOT NULL DEFAULT '';
-- The identity platform's base URL; tests point it at a local server.
ALTER TABLE mail_accounts ADD COLUMN oauth_authority TEXT NOT NULL DEFAULT '';
