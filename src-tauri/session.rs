//! Who is working the desk right now, and whether the admin area is open. Every audit event
//! a command writes names the operator, so a command that records anything asks the session
//! first; every admin command asks it whether the admin area is (still) open.

use otp_desk_core::admin::{AdminSession, SessionState};
use otp_desk_core::clock::Millis;

use crate::error::ShellError;

/// The name audit events carry for admin actions taken before anyone picked a name (the
/// unlock screen can be reached with no operator chosen).
pub const NO_OPERATOR: &str = "admin";

#[derive(Debug, Default)]
pub struct Session {
    operator: Option<String>,
    admin: AdminSession,
}

impl Session {
    /// The operator the clerk picked, or the error that tells them to pick one.
    pub fn operator(&self) -> Result<String, ShellError> {
        self.operator.clone().ok_or_else(ShellError::no_operator)
    }

    pub fn current_operator(&self) -> Option<&str> {
        self.operator.as_deref()
    }

    /// Who an admin action is recorded under.
    pub fn admin_actor(&self) -> String {
        self.operator.clone().unwrap_or_else(|| NO_OPERATOR.into())
    }

    pub fn set_operator(&mut self, name: Option<String>) {
        self.operator = name;
    }

    pub fn admin(&mut self) -> &mut AdminSession {
        &mut self.admin
    }

    /// Succeeds, and counts as activity, while the admin area is open.
    pub fn require_admin(&mut self, now: Millis) -> Result<SessionState, ShellError> {
        Ok(self.admin.check(now)?)
    }
}
