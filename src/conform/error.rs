//! Why a file could not be conformed.

use std::path::Path;

/// Why a file could not be conformed (its line then stays refused, with this
/// reason beside the original one).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConformError {
    /// ffmpeg (or ffprobe) is not installed or not where the config says.
    #[error(
        "{tool} was not found ({looked}): it would have {would}; install ffmpeg (apt install ffmpeg, brew install ffmpeg) or set conform.{tool} in the config"
    )]
    NoTool {
        /// `ffmpeg` or `ffprobe`.
        tool: &'static str,
        /// Where it was looked for.
        looked: String,
        /// What it would have done.
        would: String,
    },
    /// The file does not decode as its type.
    #[error("the {what} cannot be decoded: {why}")]
    Undecodable {
        /// `image`, `video`, `audio`.
        what: String,
        /// Why.
        why: String,
    },
    /// Nothing can make it pass (a 1 s clip cannot be lengthened).
    #[error("it cannot be conformed: {0}")]
    Impossible(String),
    /// A tool failed on it.
    #[error("{tool} failed: {why}")]
    Tool {
        /// The tool.
        tool: &'static str,
        /// Its last words.
        why: String,
    },
    /// The output still breaks a limit (a bug, or limits the tools cannot reach).
    #[error("the conformed file still breaks the limits: {0}")]
    StillRefused(String),
    /// Reading, writing or downloading failed.
    #[error("{0}")]
    Io(String),
    /// A URL's media needs the bucket, and there is none.
    #[error("conforming a URL means downloading it and uploading the result to your bucket, but {0}")]
    NoStorage(String),
    /// Stopped (Ctrl-C, q) before it finished: nothing was kept.
    #[error("stopped before it finished; nothing was kept")]
    Stopped,
}

impl ConformError {
    /// An I/O error about `path`.
    pub fn io(path: &Path, e: &std::io::Error) -> ConformError {
        ConformError::Io(format!("{}: {e}", crate::text::sanitize(&path.display().to_string())))
    }
}
