//! The file outbox: one `.eml` file per message in a folder, for offline and development
//! use. Any mail program opens the files; the desk's "open outbox" button shows the folder.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use lettre::message::Mailbox;

use super::{email, DeliveryError, FailureClass, Message};

#[derive(Debug, Clone)]
pub struct Outbox {
    pub folder: PathBuf,
}

fn unwritable(folder: &Path, e: &std::io::Error) -> DeliveryError {
    // The reason first: details are shortened, and the folder is in the account settings.
    DeliveryError::new(
        FailureClass::Configuration,
        format!("outbox: {e}: {}", folder.display()),
        &[],
    )
}

impl Outbox {
    /// Writes the message and returns the file's path. The file is written under a
    /// temporary name and renamed, so a reader never sees half a message; on Unix it is
    /// readable by its owner only, since it carries a code.
    pub fn deliver(
        &self,
        from: &Mailbox,
        msg: &Message,
        stamp: &str,
    ) -> Result<PathBuf, DeliveryError> {
        let bytes = email::formatted(from, msg)?;
        fs::create_dir_all(&self.folder).map_err(|e| unwritable(&self.folder, &e))?;
        for n in 0..1000u32 {
            let name = if n == 0 {
                format!("{stamp}.eml")
            } else {
                format!("{stamp}-{n}.eml")
            };
            let path = self.folder.join(&name);
            if path.exists() {
                continue;
            }
            let tmp = self.folder.join(format!(".{name}.tmp"));
            let mut opts = OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let written = opts.open(&tmp).and_then(|mut f| {
                f.write_all(&bytes)?;
                f.sync_all()
            });
            if let Err(e) = written {
                let _ = fs::remove_file(&tmp);
                return Err(unwritable(&self.folder, &e));
            }
            // A rename onto an existing name would replace it; check again just before.
            if path.exists() {
                let _ = fs::remove_file(&tmp);
                continue;
            }
            fs::rename(&tmp, &path).map_err(|e| {
                let _ = fs::remove_file(&tmp);
                unwritable(&self.folder, &e)
            })?;
            return Ok(path);
        }
        Err(DeliveryError::new(
            FailureClass::Configuration,
            format!(
                "the outbox folder {} has no free file name; empty it",
                self.folder.display()
            ),
            &[],
        ))
    }
}
