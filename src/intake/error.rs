//! Why a line cannot be imported.

use super::parse::{MAX_NAME_CHARS, MAX_URL_CHARS};
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
        "`{}` carries a user name or password (user:password@); it would be stored in the job store and sent to the asset library: remove it",
        excerpt(shown, 60)
    )]
    Credentials {
        /// The URL without its user name and password.
        shown: String,
    },
    /// Not https.
    #[error("`{}` must be an https:// URL (the asset library downloads it itself)", excerpt(raw, 60))]
    NotHttps {
        /// The URL as given.
        raw: String,
    },
    /// Two URLs run together on one line.
    #[error("two URLs glued together: `{}` and `{}`; put one URL per line", excerpt(first, 60), excerpt(second, 60))]
    Glued {
        /// The first URL.
        first: String,
        /// Where the second starts.
        second: String,
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
        "a .{} file is not a valid {asset_type} (the asset library would fail it after creating it); fix the type, or force it with `{asset_type}!` in the type column or --force-type",
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

/// A line that cannot be imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    #[source]
    pub error: InputError,
}
