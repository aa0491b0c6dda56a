//! Settings: the code policy, operators, the admin passphrase, backups, restore, the database
//! location and cleanup of old codes.
