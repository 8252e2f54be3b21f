//! URLs as a probe [`Source`]: ranged GETs of the bytes a header reader
//! asks for, each behind the probe rate limiter, each read only up to the
//! length asked (a server that ignores `Range` is read from its start and
//! dropped once enough has arrived).

use std::sync::Arc;

use governor::DefaultDirectRateLimiter;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE};

use crate::media::Source;

/// Why a URL could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// The server answered with an error status.
    #[error("the server answers HTTP {status}")]
    Status {
        /// The status code.
        status: u16,
    },
    /// The server ignores `Range`, and the bytes needed are past its start.
    #[error("the server does not support range requests, and the header needed is past the first bytes")]
    NoRange,
    /// Sizes given by the server disagree.
    #[error("the server's sizes disagree: {0}")]
    SizeMismatch(String),
    /// The server could not be reached (connection refused or timed out, DNS, TLS).
    #[error("cannot reach the server: {0}")]
    Unreachable(String),
    /// A request took longer than the probe timeout.
    #[error("the server did not answer within the probe timeout")]
    Timeout,
    /// Another transport failure (reset, truncated body).
    #[error("the transfer failed: {0}")]
    Transfer(String),
}

impl RemoteError {
    /// True for answers that mean the server will not be able to download
    /// it either (a per-line error, not "not checked").
    pub fn is_definitive(&self) -> bool {
        matches!(self, RemoteError::Status { status: 401 | 403 | 404 | 410 })
    }

    /// True when every URL on the same host would fail the same way (a slow
    /// answer is not: the next file may be quick).
    pub fn is_host_wide(&self) -> bool {
        matches!(self, RemoteError::Unreachable(_))
    }
}

/// What a HEAD told of a URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeadInfo {
    /// `Content-Length`.
    pub length: Option<u64>,
    /// `Content-Type`, sanitized.
    pub content_type: Option<String>,
}

/// Shared by every URL of a run.
#[derive(Debug)]
pub struct Http {
    /// The client (its timeout is the probe timeout).
    pub client: reqwest::Client,
    /// Probe requests per second, over all URLs.
    pub limiter: Arc<DefaultDirectRateLimiter>,
}

/// Classifies a transport error: unreachable, timeout or a failed transfer.
pub fn classify(e: reqwest::Error) -> RemoteError {
    let connect = e.is_connect();
    if e.is_timeout() && !connect {
        return RemoteError::Timeout;
    }
    let detail = crate::text::excerpt(&crate::text::sanitize(&crate::api::transport_detail(e)), 200);
    if connect { RemoteError::Unreachable(detail) } else { RemoteError::Transfer(detail) }
}

impl Http {
    /// HEAD `url`: its size and content type. An error status is returned
    /// as [`RemoteError::Status`].
    pub async fn head(&self, url: &url::Url) -> Result<HeadInfo, RemoteError> {
        self.limiter.until_ready().await;
        let resp = self.client.head(url.clone()).send().await.map_err(classify)?;
        if !resp.status().is_success() {
            return Err(RemoteError::Status { status: resp.status().as_u16() });
        }
        let h = resp.headers();
        let length = h.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
        let content_type = h
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| crate::text::excerpt(&crate::text::sanitize(v), 60));
        Ok(HeadInfo { length, content_type })
    }
}

/// One URL being probed.
#[derive(Debug)]
pub struct UrlSource<'a> {
    http: &'a Http,
    url: url::Url,
    /// The size from HEAD, checked against the first ranged answer.
    head_len: Option<u64>,
    size: Option<u64>,
    /// The server answered a ranged GET with the whole file.
    no_range: bool,
}

impl<'a> UrlSource<'a> {
    /// A source for `url`, with what HEAD said of its length.
    pub fn new(http: &'a Http, url: url::Url, head_len: Option<u64>) -> UrlSource<'a> {
        UrlSource { http, url, head_len, size: None, no_range: false }
    }

    async fn get(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, RemoteError> {
        if self.no_range && offset > 0 {
            return Err(RemoteError::NoRange);
        }
        self.http.limiter.until_ready().await;
        let last = offset.saturating_add(len).saturating_sub(1);
        let mut resp = self
            .http
            .client
            .get(self.url.clone())
            .header(RANGE, format!("bytes={offset}-{last}"))
            .send()
            .await
            .map_err(classify)?;
        let status = resp.status();
        let total = match status {
            StatusCode::PARTIAL_CONTENT => {
                let range = resp.headers().get(CONTENT_RANGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
                let (start, total) = parse_content_range(range)
                    .ok_or_else(|| RemoteError::Transfer("a 206 answer without a usable Content-Range".into()))?;
                if start != offset {
                    return Err(RemoteError::Transfer(format!("asked for byte {offset}, got byte {start}")));
                }
                total
            }
            StatusCode::OK if offset == 0 => {
                self.no_range = true;
                resp.content_length()
            }
            StatusCode::OK => return Err(RemoteError::NoRange),
            StatusCode::RANGE_NOT_SATISFIABLE => return Ok(Vec::new()),
            s => return Err(RemoteError::Status { status: s.as_u16() }),
        };
        if let (Some(head), Some(total)) = (self.head_len, total)
            && head != total
        {
            return Err(RemoteError::SizeMismatch(format!("HEAD says {head} bytes, a range answer says {total}")));
        }
        if self.size.is_none() {
            self.size = total.or(self.head_len);
        }
        let mut out = Vec::new();
        while (out.len() as u64) < len {
            match resp.chunk().await.map_err(classify)? {
                Some(chunk) => out.extend_from_slice(&chunk),
                None => break,
            }
        }
        out.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(out)
    }
}

/// `bytes START-END/TOTAL` → (START, TOTAL if not `*`).
fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start.trim().parse().ok()?, total))
}

impl Source for UrlSource<'_> {
    type Error = RemoteError;

    fn size(&self) -> Option<u64> {
        self.size
    }

    fn read_at(&mut self, offset: u64, len: u64) -> impl Future<Output = Result<Vec<u8>, Self::Error>> + Send {
        self.get(offset, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(parse_content_range("bytes 0-4095/123456"), Some((0, Some(123456))));
        assert_eq!(parse_content_range("bytes 10-20/*"), Some((10, None)));
        assert_eq!(parse_content_range("items 0-1/2"), None);
        assert_eq!(parse_content_range("bytes x-1/2"), None);
    }
}
