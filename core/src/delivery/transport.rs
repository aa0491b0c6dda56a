//! One transport per account kind, chosen in one place. A new transport (SMTP) is one more
//! variant here and one more arm in `for_account` and `send`.

use std::path::{Path, PathBuf};

use lettre::message::Mailbox;

use super::accounts::{AccountKind, MailAccount};
use super::console::Console;
use super::outbox::Outbox;
use super::{DeliveryError, FailureClass, Message};

/// What the caller of a transport provides besides the account.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// The database file, whose folder holds the default outbox.
    pub database: Option<PathBuf>,
    pub console: Console,
}

impl Setup {
    pub fn for_database(database: Option<&Path>) -> Self {
        Self {
            database: database.map(Path::to_path_buf),
            console: Console::stderr(),
        }
    }
}

#[derive(Debug)]
pub enum Transport {
    Outbox(Outbox),
    Console(Console),
}

/// Where a message went: a file, or standard error. Shown to the clerk and recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub place: String,
    pub reply: String,
}

impl Transport {
    pub fn for_account(account: &MailAccount, setup: &Setup) -> Result<Self, DeliveryError> {
        match account.kind {
            AccountKind::Outbox => {
                let folder = account
                    .outbox_folder(setup.database.as_deref())
                    .map_err(|e| DeliveryError::new(FailureClass::Configuration, e.to_string(), &[]))?;
                Ok(Transport::Outbox(Outbox { folder }))
            }
            AccountKind::Console => Ok(Transport::Console(setup.console.clone())),
            AccountKind::Gmail | AccountKind::Microsoft365 | AccountKind::Smtp => {
                Err(DeliveryError::new(
                    FailureClass::Configuration,
                    format!(
                        "account \"{}\" is a {} account, and this version sends through outbox and console accounts only; make an outbox account the default",
                        account.name, account.kind
                    ),
                    &[],
                ))
            }
        }
    }

    /// Sends one message. `stamp` names the message where a transport needs a name (the
    /// outbox file).
    pub fn send(
        &self,
        from: &Mailbox,
        msg: &Message,
        stamp: &str,
    ) -> Result<Delivered, DeliveryError> {
        match self {
            Transport::Outbox(outbox) => {
                let path = outbox.deliver(from, msg, stamp)?;
                Ok(Delivered {
                    place: path.display().to_string(),
                    reply: "written to the outbox".into(),
                })
            }
            Transport::Console(console) => {
                console.deliver(from, msg)?;
                Ok(Delivered {
                    place: "standard error (development only)".into(),
                    reply: "printed to the console".into(),
                })
            }
        }
    }
}
