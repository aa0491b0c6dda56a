//! The Settings screen (admin): mail and SMS accounts, policy, templates, operators, the
//! admin passphrase, backups and cleanup.
