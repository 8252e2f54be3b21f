//! What can go wrong with the job store.

use std::path::PathBuf;

/// A store failure, with the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process owns the store; it may be watched (observer mode).
    #[error(
        "{path} is in use by {owner}; wait for it to finish, watch it (a second dashboard or `status --follow` attaches read-only), or use another --data-dir"
    )]
    Busy {
        /// The store.
        path: PathBuf,
        /// Who owns it (`pid 123: seedance-assets import …`).
        owner: String,
    },
    /// The database refused an operation (a full disk, an I/O error, a corrupt file).
    #[error("{path}: {source}")]
    Sql {
        /// The store.
        path: PathBuf,
        /// SQLite's reason.
        #[source]
        source: rusqlite::Error,
    },
    /// A file beside the store (the owner lock, the old journal, its backup) failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// Something other than a file (a directory, a FIFO…) is where the store
    /// should be; SQLite would say only "disk I/O error".
    #[error("{path} is {kind}, not a job store file: move it away or use --data-dir")]
    NotAFile {
        /// The store.
        path: PathBuf,
        /// What is there (`a directory`).
        kind: &'static str,
    },
    /// The file was written by a newer release of this program.
    #[error("{path} has schema version {found}; this release reads up to {supported}: upgrade seedance-assets")]
    TooNew {
        /// The store.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// Ours.
        supported: i64,
    },
}

impl StoreError {
    /// True when the disk is full or a file size limit was reached: the
    /// write may succeed later, once space is freed.
    pub fn is_full(&self) -> bool {
        match self {
            StoreError::Sql { source: rusqlite::Error::SqliteFailure(e, _), .. } => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            _ => false,
        }
    }
}

/// Refuses a store path where something other than a regular file (or a
/// symbolic link to one) is; a path with nothing there is fine.
pub(crate) fn check_file(path: &std::path::Path) -> Result<(), StoreError> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            Err(StoreError::NotAFile { path: path.to_path_buf(), kind: crate::text::file_kind(&m) })
        }
        _ => Ok(()),
    }
}

/// Adds the store's path to an SQLite error.
pub(crate) trait AtPath<T> {
    /// The error, with `path`.
    fn at(self, path: &std::path::Path) -> Result<T, StoreError>;
}

impl<T> AtPath<T> for rusqlite::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sql { path: path.to_path_buf(), source })
    }
}

impl<T> AtPath<T> for std::io::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Io { path: path.to_path_buf(), source })
    }
}

impl StoreError {
    /// The underlying reason alone (without the path), for a banner that
    /// names the file itself.
    pub fn reason(&self) -> String {
        match self {
            StoreError::Sql { source, .. } => source.to_string(),
            StoreError::Io { source, .. } => source.to_string(),
            other => other.to_string(),
        }
    }
}
