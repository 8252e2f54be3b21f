//! The URL editor's unsubmitted lines, kept in the data dir across restarts.
//! Written durably (temporary file, fsync, rename, fsync of the directory).

use std::io;
use std::path::{Path, PathBuf};

/// The draft file in `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("draft.txt")
}

/// The saved draft, if there is one.
pub fn load(path: &Path) -> io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Saves `text` durably, or removes the draft when `text` holds nothing.
pub fn save(path: &Path, text: &str) -> io::Result<()> {
    if text.trim().is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    crate::config::atomic_write(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_survives_and_an_empty_one_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path());
        assert_eq!(load(&p).unwrap(), None);
        save(&p, "https://e.com/a.png\tname\tvideo\nhttp://bad").unwrap();
        assert_eq!(load(&p).unwrap().as_deref(), Some("https://e.com/a.png\tname\tvideo\nhttp://bad"));
        save(&p, "  \n").unwrap();
        assert!(!p.exists());
        save(&p, "").unwrap();
    }
}
