//! What can go wrong in the engine's own checks: an input line, a group, the
//! remembered groups file, a profile's client.

use std::path::PathBuf;

use super::input::{MAX_NAME_CHARS, MAX_URL_CHARS};
use crate::api::AssetType;
use crate::text::excerpt;

/// Why a URL or an input line cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The URL column is blank.
    #[error("no URL")]
    NoUrl,
    /// The URL is longer than [`MAX_URL_CHARS`].
    #[error("URL is longer than {MAX_URL_CHARS} characters")]
    UrlTooLong,
    /// It does not parse as a URL.
    #[error("`{}` is not a URL: {source}", excerpt(raw, 60))]
    NotUrl {
        /// The URL as given.
        raw: String,
        /// The parser's reason.
        source: url::ParseError,
    },
    /// It carries `user:password@` (never echoed: `shown` has it removed).
    #[error(
        "`{}` carries a user name or password (user:password@); it would be stored in the journal and sent to the server: remove it",
        excerpt(shown, 60)
    )]
    Credentials {
        /// The URL without its user name and password.
        shown: String,
    },
    /// Not https.
    #[error("`{}` must be an https:// URL (the server downloads it itself)", excerpt(raw, 60))]
    NotHttps {
        /// The URL as given.
        raw: String,
    },
    /// No host.
    #[error("`{}` has no host", excerpt(raw, 60))]
    NoHost {
        /// The URL as given.
        raw: String,
    },
    /// More than three columns.
    #[error("{0} columns; expected URL, name, type")]
    Columns(usize),
    /// The type column is not a type (the message of [`AssetType`]'s parser).
    #[error("{0}")]
    Type(String),
    /// No type given and the URL has no extension.
    #[error("cannot infer the asset type: the URL has no file extension; add a type column or choose a type")]
    NoExtension,
    /// No type given and the extension says nothing.
    #[error("cannot infer the asset type from `.{}`; add a type column or choose a type", excerpt(ext, 10))]
    UnknownExtension {
        /// The URL's extension.
        ext: String,
    },
    /// The given type contradicts the extension (and is not forced).
    #[error(
        "a .{} file is not a valid {asset_type} (the server would fail it after creating it); fix the type, or force it with `{asset_type}!` in the type column or --force-type",
        excerpt(ext, 10)
    )]
    WrongType {
        /// The URL's extension.
        ext: String,
        /// The type given.
        asset_type: AssetType,
    },
    /// The name column is longer than [`MAX_NAME_CHARS`].
    #[error("name is longer than {MAX_NAME_CHARS} characters")]
    NameTooLong,
    /// Neither a name column nor a usable name from the template.
    #[error("the name is empty (the URL has no file name); add a name column or a name template")]
    EmptyName,
}

/// A presigned bucket URL that may not go to CreateAsset: plain http to a
/// host that is not this machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the bucket's URL `{}` must be https (plain http only to a bucket on this machine)", excerpt(url, 80))]
pub struct BucketUrlError {
    /// The URL without its query (which holds the signature).
    pub url: String,
}

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
        reason: crate::exit::Failure,
    },
    /// The profile is not in the config any more.
    #[error("profile `{profile}` is not in the config; add [profiles.{profile}] back (with its key) and resume")]
    Missing {
        /// The profile's name.
        profile: String,
    },
}
