//! Who is working the desk right now. Every audit event a command writes names this
//! operator, so a command that records anything asks the session first.

use crate::error::ShellError;

#[derive(Debug, Default)]
pub struct Session {
    operator: Option<String>,
}

impl Session {
    /// The operator the clerk picked, or the error that tells them to pick one.
    pub fn operator(&self) -> Result<String, ShellError> {
        self.operator.clone().ok_or_else(ShellError::no_operator)
    }

    pub fn current_operator(&self) -> Option<&str> {
        self.operator.as_deref()
    }

    pub fn set_operator(&mut self, name: Option<String>) {
        self.operator = name;
    }
}
