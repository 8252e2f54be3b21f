//! The one error type of the API client.

use std::fmt;
use std::time::Duration;

/// Which endpoint a call went to; named in decode errors and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/seedance/asset/CreateAssetGroup`
    CreateAssetGroup,
    /// `POST /v1/seedance/asset/CreateAsset`
    CreateAsset,
    /// `POST /v1/seedance/asset/GetAsset`
    GetAsset,
}

impl Endpoint {
    /// The path of the endpoint below the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::CreateAssetGroup => "v1/seedance/asset/CreateAssetGroup",
            Endpoint::CreateAsset => "v1/seedance/asset/CreateAsset",
            Endpoint::GetAsset => "v1/seedance/asset/GetAsset",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Endpoint::CreateAssetGroup => "CreateAssetGroup",
            Endpoint::CreateAsset => "CreateAsset",
            Endpoint::GetAsset => "GetAsset",
        };
        f.write_str(name)
    }
}

/// Every way a call can fail, shaped for the decision the caller must make:
/// may it be retried, and could the request have reached the server?
///
/// Messages are sanitized excerpts of what the server said; the API key is
/// never part of an error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// The key was refused (HTTP 401/403 or an `AccessDenied` code).
    #[error("the API key was refused: {message}")]
    Unauthorized {
        /// What the server said.
        message: String,
    },
    /// HTTP 429; the request was not processed.
    #[error("rate limited by the server{}", retry_after.map(|d| format!(" (retry after {:.1}s)", d.as_secs_f64())).unwrap_or_default())]
    RateLimited {
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// The server refused the input (HTTP 4xx or a business error code).
    #[error("rejected: {code}: {message}")]
    Rejected {
        /// The error code (`InvalidParameter.X`, `NotFound.group_id`, `HTTP 400`, …).
        code: String,
        /// The server's explanation.
        message: String,
        /// The answer contradicts itself (`state: 1` with a non-null
        /// `error`): the request may have been processed all the same.
        maybe_processed: bool,
    },
    /// HTTP 5xx.
    #[error("server error: HTTP {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Server {
        /// The HTTP status.
        status: u16,
        /// What the server said, if anything.
        message: String,
    },
    /// The exchange failed on the wire.
    #[error("network error ({}): {detail}", if *may_have_reached_server { "the request may have reached the server" } else { "the request never reached the server" })]
    Network {
        /// False only when the request surely was not sent (connect failure).
        may_have_reached_server: bool,
        /// What went wrong.
        detail: String,
    },
    /// The response was not JSON or not of the documented shape.
    #[error("could not decode the {endpoint} response: {excerpt}")]
    Decode {
        /// The endpoint called.
        endpoint: Endpoint,
        /// A short sanitized excerpt of the body, with the reason.
        excerpt: String,
    },
}

impl ApiError {
    /// True when the server surely did not act on the request, so that even a
    /// non-idempotent call (CreateAsset) may be sent again: a connect failure
    /// (nothing was sent) or a 429. A 5xx is not enough: nothing in the API's
    /// documentation says a 5xx means "not processed".
    pub fn surely_not_processed(&self) -> bool {
        match self {
            ApiError::RateLimited { .. } => true,
            ApiError::Network { may_have_reached_server, .. } => !may_have_reached_server,
            _ => false,
        }
    }

    /// True when the request never left this machine because the server
    /// could not be reached (connection refused, DNS failure, connect timeout).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ApiError::Network { may_have_reached_server: false, .. })
    }

    /// True when an idempotent call (GetAsset) is worth repeating.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ApiError::RateLimited { .. } | ApiError::Server { .. } | ApiError::Network { .. } | ApiError::Decode { .. }
        )
    }

    /// The server's requested wait before the next call, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// The error code when the server rejected the input.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl From<ClientError> for crate::exit::Failure {
    /// A client that cannot be built is a configuration (usage) error.
    fn from(e: ClientError) -> crate::exit::Failure {
        crate::exit::Failure::new(crate::exit::USAGE, e.to_string())
    }
}

/// Why a base URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    /// It does not parse as a URL.
    #[error("base URL `{raw}` is not a URL: {source}")]
    NotUrl {
        /// The URL as given.
        raw: String,
        /// The parser's reason.
        source: url::ParseError,
    },
    /// Plain http to a host that is not loopback.
    #[error(
        "base URL `{raw}` uses plain http to a host that is not loopback; use https:// (the API key would travel in clear text)"
    )]
    PlainHttp {
        /// The URL as given.
        raw: String,
    },
    /// A scheme other than http(s).
    #[error("base URL `{raw}` has scheme `{scheme}`; expected https://")]
    Scheme {
        /// The URL as given.
        raw: String,
        /// Its scheme.
        scheme: String,
    },
}

/// Why an API client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL is not usable.
    #[error(transparent)]
    BaseUrl(#[from] BaseUrlError),
    /// The key cannot be an HTTP header value.
    #[error("the API key contains characters that cannot be sent in a header")]
    KeyNotAHeader,
    /// The TLS roots could not be loaded.
    #[error(transparent)]
    Tls(#[from] super::TlsError),
    /// reqwest refused the settings.
    #[error("cannot build the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

/// Whether an error code (or a message carrying it) says the group does not
/// exist, however the server spells it: `NotFound.group_id`,
/// `NotFound.GroupId`, `notfound.groupID` …
pub fn is_missing_group(text: &str) -> bool {
    squeezed(text).contains("notfoundgroupid")
}

/// Whether an error code says the task (or asset) asked about does not
/// exist — what a valid key gets for a task that cannot exist — as opposed
/// to a path that does not exist (`HTTP 404`, a bare `NotFound`).
pub fn is_unknown_task(code: &str) -> bool {
    let code = squeezed(code);
    code.starts_with("notfound") && (code.contains("task") || code.contains("asset"))
}

/// An error code as servers' spellings agree on it: letters and digits
/// only, lower case (`NotFound.GroupId`, `notfound.group_id` → `notfoundgroupid`).
fn squeezed(text: &str) -> String {
    text.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_group_is_recognised_however_it_is_spelled() {
        for code in ["NotFound.group_id", "NotFound.GroupId", "notfound.groupID", "rejected: NotFound.Group_Id: x"] {
            assert!(is_missing_group(code), "{code}");
        }
        assert!(!is_missing_group("NotFound.asset_id"));
        assert!(!is_missing_group("InvalidParameter.group"));
    }

    #[test]
    fn only_an_unknown_task_says_the_key_is_accepted() {
        for code in ["NotFound.task_id", "NotFound.TaskId", "NotFound.Asset"] {
            assert!(is_unknown_task(code), "{code}");
        }
        for code in ["NotFound", "HTTP 404", "NotFound.group_id", "NotFound.ProjectName"] {
            assert!(!is_unknown_task(code), "{code}");
        }
    }
}
