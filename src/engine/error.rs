//! What can go wrong in the engine's own checks: a group, the remembered
//! groups file, a profile's client.

use std::path::PathBuf;

/// Why a group cannot be created, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupError {
    /// The name is blank.
    #[error("name: a group needs a name")]
    NoName,
    /// The name is longer than 64 characters.
    #[error("name: {0} characters, longer than 64")]
    NameTooLong(usize),
    /// The description is longer than 300 characters.
    #[error("description: longer than 300 characters")]
    DescriptionTooLong,
}

/// Why the remembered groups cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum GroupStoreError {
    /// The file is not a JSON list of groups.
    #[error("{path}: not a list of groups ({source}); move it away to start afresh")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The parser's reason.
        source: serde_json::Error,
    },
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Why a job's profile has no client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The profile is configured but its client could not be built.
    #[error("profile `{profile}` cannot be used: {reason}")]
    Unusable {
        /// The profile's name.
        profile: String,
        /// Why (no key, a bad base URL …).
        reason: String,
    },
    /// The profile is not in the config any more.
    #[error("profile `{profile}` is not in the config; add [profiles.{profile}] back (with its key) and resume")]
    Missing {
        /// The profile's name.
        profile: String,
    },
}
