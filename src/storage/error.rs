//! What can go wrong with a local file or the bucket, and what the engine
//! should do about it.

use std::path::{Path, PathBuf};

use crate::text::{excerpt, sanitize};

/// How the engine should treat a [`StorageError`]. Every storage request is
/// idempotent (the key is the content's hash), so retrying is always safe;
/// the class says whether it can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Transient (a timeout, a reset, 5xx, `SlowDown`): retry this upload
    /// after a backoff.
    Retry,
    /// Every upload will fail the same way until the user fixes the
    /// credentials, the bucket, the config or the network: pause all uploads,
    /// say it once, resume when asked.
    Batch,
    /// This file only (missing, unreadable, changed, refused): the job fails
    /// with the message; the others go on.
    Job,
}

/// A storage failure, with the bucket's own code and message when it sent
/// one (sanitized). Never holds a credential or a presigned URL.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// `[storage]` cannot be used as configured.
    #[error("storage config: {0}")]
    Config(#[from] super::StorageConfigError),
    /// No bucket URL can be built from the endpoint and bucket.
    #[error("storage config: {0}")]
    BucketUrl(#[from] BucketError),
    /// The local file cannot be used (missing, unreadable, not a file).
    #[error("{}: {message}", shown(path))]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong, in words.
        message: String,
    },
    /// The file changed after it was hashed (size, time or content).
    #[error(
        "{} changed while it was being uploaded ({what}); nothing was kept, try again once the file is final",
        shown(path)
    )]
    Changed {
        /// The file.
        path: PathBuf,
        /// What differed.
        what: String,
    },
    /// The bucket answered with an error status.
    #[error("bucket refused the {op} of `{key}`: HTTP {status}{}{}{}",
        code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(),
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default(),
        hint(*status, code.as_deref()))]
    Bucket {
        /// `PUT`, `HEAD`, `DELETE`.
        op: &'static str,
        /// The object key.
        key: String,
        /// The HTTP status.
        status: u16,
        /// S3's `<Code>`, sanitized.
        code: Option<String>,
        /// S3's `<Message>`, sanitized.
        message: Option<String>,
    },
    /// No connection could be made to the endpoint.
    #[error("cannot reach the storage endpoint {endpoint}: {detail}")]
    Unreachable {
        /// The configured endpoint.
        endpoint: String,
        /// The transport's reason.
        detail: String,
    },
    /// The connection failed after it was made (timeout, reset).
    #[error("the {op} of `{key}` failed: {detail}")]
    Network {
        /// `PUT`, `HEAD`, `DELETE`.
        op: &'static str,
        /// The object key.
        key: String,
        /// The transport's reason.
        detail: String,
    },
}

/// Why a storage endpoint cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// It does not parse as a URL.
    #[error("`{}` is not a URL: {source}", excerpt(raw, 80))]
    NotUrl {
        /// The endpoint as given.
        raw: String,
        /// The parser's reason.
        source: url::ParseError,
    },
    /// Plain http to a host that is not loopback.
    #[error(
        "`{}` uses plain http to a host that is not loopback; use https:// (uploads and signatures would travel in clear text)",
        excerpt(raw, 80)
    )]
    PlainHttp {
        /// The endpoint as given.
        raw: String,
    },
    /// A scheme other than http(s).
    #[error("scheme `{}` is not https", excerpt(scheme, 20))]
    Scheme {
        /// The scheme.
        scheme: String,
    },
    /// No host.
    #[error("`{}` has no host", excerpt(raw, 80))]
    NoHost {
        /// The endpoint as given.
        raw: String,
    },
    /// A query string or user:password in the URL.
    #[error("the endpoint must not carry a query string or user:password")]
    Credentials,
}

/// Why no bucket URL can be built from `[storage]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BucketError {
    /// The endpoint is not usable.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The endpoint's scheme is not http(s).
    #[error("the endpoint's scheme is not http(s)")]
    UnsupportedScheme,
    /// The endpoint has no host.
    #[error("the endpoint has no host")]
    MissingHost,
    /// The bucket cannot be put in front of the endpoint's host name.
    #[error(
        "bucket `{}` cannot be a host name with this endpoint ({source}); set path_style = true (needed for IP addresses and names with dots or capitals)",
        excerpt(bucket, 64)
    )]
    NotAHostName {
        /// The bucket as given.
        bucket: String,
        /// Why the URL does not parse.
        source: url::ParseError,
    },
    /// The path-style bucket URL does not parse.
    #[error("the bucket URL cannot be built: {0}")]
    Url(#[source] url::ParseError),
}

fn shown(path: &Path) -> String {
    sanitize(&path.display().to_string())
}

/// A short hint for the usual configuration mistakes.
fn hint(status: u16, code: Option<&str>) -> &'static str {
    match code {
        Some("InvalidAccessKeyId") => " (check the access key id: AWS_ACCESS_KEY_ID or access_key_env)",
        Some("SignatureDoesNotMatch") => " (check the secret key: AWS_SECRET_ACCESS_KEY or secret_key_env)",
        Some("ExpiredToken") | Some("TokenRefreshRequired") => " (the session credentials expired: renew them)",
        Some("NoSuchBucket") => " (check storage.bucket and storage.endpoint)",
        Some("RequestTimeTooSkewed") => " (this machine's clock is wrong)",
        Some("AuthorizationHeaderMalformed") | Some("PermanentRedirect") => " (check storage.region)",
        _ if status == 403 => " (check the credentials and the bucket policy: PutObject and GetObject are needed)",
        _ => "",
    }
}

impl StorageError {
    /// What the engine should do about it.
    pub fn class(&self) -> ErrorClass {
        match self {
            StorageError::Config(_) | StorageError::BucketUrl(_) | StorageError::Unreachable { .. } => {
                ErrorClass::Batch
            }
            StorageError::File { .. } | StorageError::Changed { .. } => ErrorClass::Job,
            StorageError::Network { .. } => ErrorClass::Retry,
            StorageError::Bucket { status, code, .. } => classify_status(*status, code.as_deref()),
        }
    }

    /// Whether retrying the same upload later may succeed without the user
    /// doing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self.class(), ErrorClass::Retry) || matches!(self, StorageError::Unreachable { .. })
    }

    /// A bucket error from a status and an S3 XML error body.
    pub(crate) fn from_response(op: &'static str, key: &str, status: u16, body: &[u8]) -> StorageError {
        let text = String::from_utf8_lossy(&body[..body.len().min(16 * 1024)]);
        let tag = |name: &str| xml_tag(&text, name).map(|v| excerpt(&v, 300)).filter(|v| !v.is_empty());
        StorageError::Bucket { op, key: key.to_string(), status, code: tag("Code"), message: tag("Message") }
    }
}

fn classify_status(status: u16, code: Option<&str>) -> ErrorClass {
    match code {
        Some("SlowDown" | "InternalError" | "ServiceUnavailable" | "RequestTimeout" | "OperationAborted") => {
            return ErrorClass::Retry;
        }
        Some(
            "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "TokenRefreshRequired"
            | "AccessDenied"
            | "AllAccessDisabled"
            | "AccountProblem"
            | "NoSuchBucket"
            | "RequestTimeTooSkewed"
            | "AuthorizationHeaderMalformed"
            | "PermanentRedirect"
            | "InvalidBucketName"
            | "InvalidToken",
        ) => return ErrorClass::Batch,
        _ => {}
    }
    match status {
        408 | 429 | 500..=599 => ErrorClass::Retry,
        301 | 307 | 401 | 403 => ErrorClass::Batch,
        _ => ErrorClass::Job,
    }
}

/// The text of the first `<name>…</name>` element, with the five XML
/// entities decoded.
fn xml_tag(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)? + open.len();
    let len = text[start..].find(&close)?;
    let raw = &text[start..start + len];
    Some(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
            .trim()
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_errors_carry_the_code_and_message_sanitized() {
        let body = b"<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The signature \x1b[31mwe calculated &amp; yours</Message></Error>";
        let e = StorageError::from_response("PUT", "p/sha256-ab.png", 403, body);
        let s = e.to_string();
        assert!(s.contains("HTTP 403 SignatureDoesNotMatch: The signature \u{FFFD}[31mwe calculated & yours"), "{s}");
        assert!(s.contains("AWS_SECRET_ACCESS_KEY"), "{s}");
        assert_eq!(e.class(), ErrorClass::Batch);
        let e = StorageError::from_response("PUT", "k", 503, b"<Error><Code>SlowDown</Code></Error>");
        assert_eq!(e.class(), ErrorClass::Retry);
        assert!(e.is_retryable());
        let e = StorageError::from_response("PUT", "k", 400, b"not xml");
        assert_eq!((e.class(), e.to_string().as_str()), (ErrorClass::Job, "bucket refused the PUT of `k`: HTTP 400"));
    }
}

/// A presigned bucket URL that may not go to CreateAsset: plain http to a
/// host that is not this machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the bucket's URL `{}` must be https (plain http only to a bucket on this machine)", excerpt(url, 80))]
pub struct BucketUrlError {
    /// The URL without its query (which holds the signature).
    pub url: String,
}
