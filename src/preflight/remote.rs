//! URLs as a probe [`Source`]: ranged GETs of the bytes a header reader
//! asks for, each behind the probe rate limiter, each read only up to the
//! length asked (a host that ignores `Range` is read from its start and
//! dropped once enough has arrived), all of one item's requests within one
//! probe timeout.

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::DefaultDirectRateLimiter;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE};

use crate::media::Source;

/// Redirects followed before a URL is refused.
pub const MAX_REDIRECTS: usize = 5;

/// Why a URL could not be read. Every text names "the URL's host" (never
/// "the server", which reads as the API's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// The URL's host answered with an error status.
    #[error("the URL's host answers HTTP {status}")]
    Status {
        /// The status code.
        status: u16,
    },
    /// The URL's host ignores `Range`, and the bytes needed are past its start.
    #[error("the URL's host does not support range requests, and the header needed is past the first bytes")]
    NoRange,
    /// Sizes given by the URL's host disagree.
    #[error("the URL's host's sizes disagree: {0}")]
    SizeMismatch(String),
    /// The URL's host could not be reached (connection refused, DNS, a TLS
    /// failure other than its certificate).
    #[error("cannot reach the URL's host: {0}")]
    Unreachable(String),
    /// The URL's host did not answer (connect, response or body) within the
    /// probe timeout, counted over the whole item.
    #[error("the URL's host did not answer within {} s", super::limits::num(.0.as_secs_f64()))]
    Timeout(Duration),
    /// Another transport failure (reset, truncated body).
    #[error("the transfer failed: {0}")]
    Transfer(String),
    /// The URL's host's TLS certificate is not trusted (unknown issuer,
    /// expired, for another name): the rustls error.
    #[error(
        "the URL's host's TLS certificate is not trusted: {0}; the asset library will almost certainly refuse it too"
    )]
    Certificate(String),
    /// A redirect leads back to a URL already visited (the URL, sanitized).
    #[error("the URL's host redirects in a loop (back to {0}); nobody can download it")]
    RedirectLoop(String),
    /// More than [`MAX_REDIRECTS`] redirects.
    #[error(
        "the URL's host answers more than {} redirects; the asset library would not follow them either",
        MAX_REDIRECTS
    )]
    TooManyRedirects,
}

impl RemoteError {
    /// The refusal this answer means, when the asset library will not be
    /// able to download the URL either (a per-line error, not "not
    /// checked"): any 4xx but 429 (our probe being rate limited), any 5xx
    /// (it fails now, and creation would fail now), an untrusted
    /// certificate, a redirect loop or too long a chain.
    pub fn refusal(&self) -> Option<String> {
        match self {
            RemoteError::Status { status: 429 } => None,
            RemoteError::Status { status: 400..=499 } => {
                Some(format!("{self}: the asset library could not download it either"))
            }
            RemoteError::Status { status: 500..=599 } => {
                Some(format!("{self}; the asset library could not download it now either"))
            }
            RemoteError::Certificate(_) | RemoteError::RedirectLoop(_) | RemoteError::TooManyRedirects => {
                Some(self.to_string())
            }
            _ => None,
        }
    }

    /// True for answers that mean the asset library will not be able to
    /// download it either: see [`RemoteError::refusal`].
    pub fn is_definitive(&self) -> bool {
        self.refusal().is_some()
    }

    /// True when every URL on the same host would fail the same way: it
    /// cannot be reached, it does not answer at all, or its certificate is
    /// not trusted.
    pub fn is_host_wide(&self) -> bool {
        matches!(self, RemoteError::Unreachable(_) | RemoteError::Timeout(_) | RemoteError::Certificate(_))
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
    /// The client (its timeouts are the probe timeout; it follows at most
    /// [`MAX_REDIRECTS`] redirects and stops at a loop: [`redirect_policy`]).
    pub client: reqwest::Client,
    /// Probe requests per second, over all URLs.
    pub limiter: Arc<DefaultDirectRateLimiter>,
    /// The probe timeout: the most network time one item may take, all its
    /// requests together (waiting for the rate limiter is not counted).
    pub timeout: Duration,
}

/// Why the redirect policy stopped (found again in the error's source chain).
#[derive(Debug)]
enum RedirectStop {
    Loop(url::Url),
    TooMany,
}

impl std::fmt::Display for RedirectStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedirectStop::Loop(u) => write!(f, "redirect loop back to {u}"),
            RedirectStop::TooMany => write!(f, "more than {MAX_REDIRECTS} redirects"),
        }
    }
}

impl std::error::Error for RedirectStop {}

/// The probe's redirect policy: a URL visited before is a loop; more than
/// [`MAX_REDIRECTS`] hops is too many. Both stop with an error that
/// [`classify`] turns into a refusal.
pub fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().iter().any(|u| u == attempt.url()) {
            let next = attempt.url().clone();
            attempt.error(RedirectStop::Loop(next))
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(RedirectStop::TooMany)
        } else {
            attempt.follow()
        }
    })
}

/// A URL for a message: sanitized and cut short.
fn shown(u: &url::Url) -> String {
    crate::text::excerpt(&crate::text::sanitize(u.as_str()), 120)
}

/// The next error in a source chain. An `std::io::Error`'s `source()`
/// skips the error it wraps (rustls errors travel inside them, sometimes
/// two deep), so it is opened with `get_ref` instead.
fn next_error<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e (dyn std::error::Error + 'static)> {
    match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
        Some(inner) => Some(inner),
        None => e.source(),
    }
}

/// Every error in `e`'s source chain, `e` excluded.
fn chain(e: &reqwest::Error) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
    std::iter::successors(e.source(), |s| next_error(*s))
}

/// The rustls certificate error somewhere in `e`'s source chain, as text.
fn certificate_error(e: &reqwest::Error) -> Option<String> {
    chain(e).find_map(|s| match s.downcast_ref::<rustls::Error>()? {
        r @ (rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented) => Some(r.to_string()),
        _ => None,
    })
}

/// Classifies a transport error: an untrusted certificate, a redirect
/// loop or chain, a timeout, unreachable, or a failed transfer.
pub fn classify(e: reqwest::Error, timeout: Duration) -> RemoteError {
    let clean = |s: &str| crate::text::excerpt(&crate::text::sanitize(s), 200);
    if let Some(cert) = certificate_error(&e) {
        return RemoteError::Certificate(clean(&cert));
    }
    match chain(&e).find_map(|s| s.downcast_ref::<RedirectStop>()) {
        Some(RedirectStop::Loop(u)) => return RemoteError::RedirectLoop(shown(u)),
        Some(RedirectStop::TooMany) => return RemoteError::TooManyRedirects,
        None => {}
    }
    if e.is_timeout() {
        return RemoteError::Timeout(timeout);
    }
    let connect = e.is_connect();
    let detail = clean(&crate::api::transport_detail(e));
    if connect { RemoteError::Unreachable(detail) } else { RemoteError::Transfer(detail) }
}

/// One URL being probed: a HEAD, then ranged GETs, all within one probe
/// timeout of network time.
#[derive(Debug)]
pub struct UrlSource<'a> {
    http: &'a Http,
    url: url::Url,
    /// The size from HEAD, checked against the first ranged answer.
    head_len: Option<u64>,
    size: Option<u64>,
    /// The URL's host answered a ranged GET with the whole file.
    no_range: bool,
    /// Network time spent so far, against [`Http::timeout`].
    spent: Duration,
    /// Where an `https` URL ended up over plain `http`, if it did.
    downgraded: Option<url::Url>,
}

impl<'a> UrlSource<'a> {
    /// A source for `url`; [`UrlSource::head`] may tell its length first.
    pub fn new(http: &'a Http, url: url::Url) -> UrlSource<'a> {
        UrlSource { http, url, head_len: None, size: None, no_range: false, spent: Duration::ZERO, downgraded: None }
    }

    /// The plain `http` URL an `https` URL was redirected to, if it was.
    pub fn downgraded(&self) -> Option<&url::Url> {
        self.downgraded.as_ref()
    }

    /// Runs `fut` (one request, its body included) within what is left of
    /// the item's timeout, after waiting for the rate limiter.
    async fn timed<T>(
        http: &Http,
        spent: &mut Duration,
        fut: impl Future<Output = Result<T, RemoteError>>,
    ) -> Result<T, RemoteError> {
        http.limiter.until_ready().await;
        let left = http.timeout.saturating_sub(*spent);
        let start = Instant::now();
        let out = tokio::time::timeout(left, fut).await;
        *spent += start.elapsed();
        out.unwrap_or(Err(RemoteError::Timeout(http.timeout)))
    }

    fn note_final_url(&mut self, resp: &reqwest::Response) {
        if self.url.scheme() == "https" && resp.url().scheme() == "http" {
            self.downgraded = Some(resp.url().clone());
        }
    }

    /// HEAD the URL: its size and content type. An error status is
    /// returned as [`RemoteError::Status`]. The length is kept, to be
    /// checked against the ranged answers.
    pub async fn head(&mut self) -> Result<HeadInfo, RemoteError> {
        let http = self.http;
        let req = http.client.head(self.url.clone()).send();
        let resp =
            Self::timed(http, &mut self.spent, async { req.await.map_err(|e| classify(e, http.timeout)) }).await?;
        self.note_final_url(&resp);
        if !resp.status().is_success() {
            return Err(RemoteError::Status { status: resp.status().as_u16() });
        }
        let h = resp.headers();
        let length = h.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok());
        let content_type = h
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| crate::text::excerpt(&crate::text::sanitize(v), 60));
        self.head_len = length;
        Ok(HeadInfo { length, content_type })
    }

    async fn get(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, RemoteError> {
        if self.no_range && offset > 0 {
            return Err(RemoteError::NoRange);
        }
        let http = self.http;
        let mut spent = self.spent;
        let out = Self::timed(http, &mut spent, self.fetch(offset, len)).await;
        self.spent = spent;
        out
    }

    async fn fetch(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, RemoteError> {
        let timeout = self.http.timeout;
        let last = offset.saturating_add(len).saturating_sub(1);
        let mut resp = self
            .http
            .client
            .get(self.url.clone())
            .header(RANGE, format!("bytes={offset}-{last}"))
            .send()
            .await
            .map_err(|e| classify(e, timeout))?;
        self.note_final_url(&resp);
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
            match resp.chunk().await.map_err(|e| classify(e, timeout))? {
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

    #[test]
    fn what_is_refused_and_what_is_given_up_on() {
        let status = |status| RemoteError::Status { status };
        for s in [400, 401, 404, 405, 418, 451, 499, 500, 503, 599] {
            assert!(status(s).is_definitive(), "{s}");
        }
        for s in [429, 301, 304, 200] {
            assert!(!status(s).is_definitive(), "{s}");
        }
        assert_eq!(
            status(503).refusal().unwrap(),
            "the URL's host answers HTTP 503; the asset library could not download it now either"
        );
        let timeout = RemoteError::Timeout(Duration::from_millis(2500));
        assert_eq!(timeout.to_string(), "the URL's host did not answer within 2.5 s");
        assert!(timeout.is_host_wide() && !timeout.is_definitive());
        let cert = RemoteError::Certificate("invalid peer certificate: UnknownIssuer".into());
        assert!(cert.is_host_wide() && cert.is_definitive());
        assert!(RemoteError::TooManyRedirects.is_definitive() && !RemoteError::TooManyRedirects.is_host_wide());
        for e in [RemoteError::NoRange, RemoteError::Transfer("reset".into()), RemoteError::Unreachable("dns".into())] {
            assert!(!e.is_definitive(), "{e}");
            assert!(e.to_string().contains("the URL's host") || e.to_string().starts_with("the transfer"), "{e}");
        }
    }
}
