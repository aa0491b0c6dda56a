//! The Activity and Dashboard screens (admin, read-only): codes, attempts, the audit trail,
//! and the numbers of the last weeks.
