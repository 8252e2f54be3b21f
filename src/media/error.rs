//! What a header reader can say about bytes it cannot measure.

/// Why the properties of some bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The bytes are not any supported media format.
    #[error("not a supported media file ({0})")]
    NotMedia(String),
    /// The header stops before the field being read.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A header field holds an impossible value.
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// The structure that is wrong.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The file may be fine, but its properties cannot be measured from
    /// its headers (e.g. a fragmented mp4, or a header past the byte budget).
    #[error("{0}")]
    Unmeasurable(String),
}

impl MediaError {
    /// An [`MediaError::Invalid`].
    pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> MediaError {
        MediaError::Invalid { what, detail: detail.into() }
    }
}
