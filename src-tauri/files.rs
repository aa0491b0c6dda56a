//! Files the app writes for the admin (exports, backups) and folders it opens for them. The
//! page can neither read nor write files itself; it asks for an export and is told where the
//! file went, the way a browser's downloads work.

use std::path::{Path, PathBuf};

use chrono::Local;

use crate::error::ShellError;

/// A file name in `folder` that does not exist yet: `stem-2026-12-01.ext`, then `-2`, `-3`…
#[allow(
    dead_code,
    reason = "the Data and backups tab writes its exports and backups here"
)]
pub fn new_file_in(folder: &Path, stem: &str, ext: &str) -> Result<PathBuf, ShellError> {
    std::fs::create_dir_all(folder).map_err(|e| {
        ShellError::new(
            "file",
            format!("cannot create the folder {}: {e}", folder.display()),
        )
    })?;
    let day = Local::now().format("%Y-%m-%d");
    for n in 1..1000 {
        let name = if n == 1 {
            format!("{stem}-{day}.{ext}")
        } else {
            format!("{stem}-{day}-{n}.{ext}")
        };
        let path = folder.join(name);
        if !path.exists() {
            return Ok(path);
        }
    }
    Err(ShellError::new(
        "file",
        format!(
            "{} already holds a thousand {stem} files from today; move some away",
            folder.display()
        ),
    ))
}

/// Opens a folder in the OS file manager. When there is none (a bare desktop), the error says
/// where the folder is so the admin can go there by hand.
pub fn open_folder(folder: &Path) -> Result<(), ShellError> {
    open::that_detached(folder).map_err(|e| {
        ShellError::new(
            "open_folder",
            format!(
                "no file manager could open the folder ({e}); it is {}",
                folder.display()
            ),
        )
    })
}
