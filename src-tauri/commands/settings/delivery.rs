//! Settings: mail and SMS accounts, their secrets (write-only), Microsoft sign-in, test
//! messages, and the message text.
