//! The HTTP client: bearer auth, timeouts, one shared connection pool.

use std::fmt;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::envelope::decode_response;
use super::error::{ApiError, BaseUrlError, ClientError, Endpoint, LibraryError, endpoint_missing};
use super::types::{AssetInfo, CreateAssetRequest, CreateGroupRequest, CreatedAsset, CreatedGroup};

/// What a [`Client`] needs.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `https://…`, or `http://` to a loopback host only.
    pub base_url: String,
    /// The bearer key; never printed.
    pub api_key: SecretString,
    /// Limit on establishing a connection.
    pub connect_timeout: Duration,
    /// Limit on a whole request, from sending to the last byte of the body.
    pub request_timeout: Duration,
    /// Extra trusted roots.
    pub tls: super::TlsOptions,
}

/// A typed client for the three documented endpoints. Cheap to clone: clones
/// share one connection pool.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    auth: HeaderValue,
}

/// Two clients are equal when they call the same base URL with the same key.
impl PartialEq for Client {
    fn eq(&self, other: &Client) -> bool {
        self.base == other.base && self.auth == other.auth
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("base", &self.base.as_str()).field("auth", &"Bearer [REDACTED]").finish()
    }
}

/// Checks that a base URL is `https://`, or `http://` to a loopback host, and
/// normalises it to end with `/`.
pub fn check_base_url(raw: &str) -> Result<Url, BaseUrlError> {
    let mut url = Url::parse(raw.trim()).map_err(|source| BaseUrlError::NotUrl { raw: raw.to_string(), source })?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            if !loopback {
                return Err(BaseUrlError::PlainHttp { raw: raw.to_string() });
            }
        }
        other => {
            return Err(BaseUrlError::Scheme { raw: raw.to_string(), scheme: other.to_string() });
        }
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

impl Client {
    /// Builds a client; fails on a bad base URL or a key that cannot be a header.
    pub fn new(opts: ClientOptions) -> Result<Client, ClientError> {
        let base = check_base_url(&opts.base_url)?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", opts.api_key.expose_secret()))
            .map_err(|_| ClientError::KeyNotAHeader)?;
        auth.set_sensitive(true);
        let http = super::http_client_builder(&opts.tls)?
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.request_timeout)
            .build()
            .map_err(ClientError::Build)?;
        Ok(Client { http, base, auth })
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// CreateAssetGroup: makes a group and returns its id.
    pub async fn create_group(&self, req: &CreateGroupRequest) -> Result<CreatedGroup, ApiError> {
        self.call(Endpoint::CreateAssetGroup, req).await
    }

    /// CreateAsset: starts an import. Not idempotent, and billed.
    pub async fn create_asset(&self, req: &CreateAssetRequest) -> Result<CreatedAsset, ApiError> {
        self.call(Endpoint::CreateAsset, req).await
    }

    /// GetAsset (Query Asset): the current state of an import task.
    pub async fn get_asset(&self, task_id: &str) -> Result<AssetInfo, ApiError> {
        self.call(Endpoint::GetAsset, &serde_json::json!({ "task_id": task_id })).await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(&self, endpoint: Endpoint, body: &B) -> Result<T, ApiError> {
        let (status, retry_after, bytes) = self.post(endpoint, body).await?;
        decode_response(endpoint, status, retry_after, &bytes)
    }

    /// A call to an endpoint the server may not have ([`Endpoint::is_optional`]):
    /// an answer saying the path or action is unknown is [`LibraryError::Absent`].
    pub(super) async fn call_optional<B: Serialize, T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        body: &B,
    ) -> Result<T, LibraryError> {
        let (status, retry_after, bytes) = self.post(endpoint, body).await?;
        decode_response(endpoint, status, retry_after, &bytes).map_err(|e| match e {
            ApiError::Rejected { ref code, ref message, .. } if endpoint_missing(status, code, message) => {
                let answer =
                    if message.starts_with(code.as_str()) { message.clone() } else { format!("{code}: {message}") };
                LibraryError::Absent { endpoint, answer }
            }
            e => LibraryError::Api(e),
        })
    }

    /// Sends one POST; the status, the server's `Retry-After` and the body.
    async fn post<B: Serialize>(
        &self,
        endpoint: Endpoint,
        body: &B,
    ) -> Result<(u16, Option<Duration>, bytes::Bytes), ApiError> {
        let url = self.base.join(&endpoint.path()).expect("endpoint paths are valid relative URLs");
        let resp = self
            .http
            .post(url)
            .header(AUTHORIZATION, self.auth.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .json(body)
            .send()
            .await
            .map_err(network_error)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, jiff::Timestamp::now()));
        let bytes = resp.bytes().await.map_err(network_error)?;
        Ok((status, retry_after, bytes))
    }
}

/// What [`Client::probe`] learnt.
#[derive(Debug, Clone)]
pub struct Probe {
    /// From sending to the whole answer.
    pub latency: Duration,
    /// The server's `Date` header, when it sent a valid one.
    pub server_date: Option<jiff::Timestamp>,
    /// The GetAsset answer: "not found" proves the key works; 401/403 that it does not.
    pub result: Result<AssetInfo, ApiError>,
}

impl Client {
    /// GetAsset on a task id that cannot exist (not billed): whether the
    /// server answers, how fast, whether it accepts the key, and its clock.
    pub async fn probe(&self) -> Probe {
        let start = std::time::Instant::now();
        let endpoint = Endpoint::GetAsset;
        let url = self.base.join(&endpoint.path()).expect("endpoint paths are valid relative URLs");
        let body = serde_json::json!({ "task_id": "seedance-assets-check-no-such-task" });
        let sent = self
            .http
            .post(url)
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, "application/json")
            .json(&body)
            .send()
            .await;
        let (server_date, result) = match sent {
            Err(e) => (None, Err(network_error(e))),
            Ok(resp) => {
                let status = resp.status().as_u16();
                let date = resp
                    .headers()
                    .get(reqwest::header::DATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| jiff::fmt::rfc2822::parse(v.trim()).ok())
                    .map(|z| z.timestamp());
                match resp.bytes().await {
                    Ok(bytes) => (date, decode_response(endpoint, status, None, &bytes)),
                    Err(e) => (date, Err(network_error(e))),
                }
            }
        };
        Probe { latency: start.elapsed(), server_date, result }
    }
}

/// A `Retry-After` value: seconds, or an HTTP date (RFC 9110) from which
/// the wait is counted from `now`; capped at an hour, a date in the past
/// is no wait.
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    let secs = match value.parse::<f64>() {
        Ok(s) => s,
        Err(_) => {
            let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
            at.duration_since(now).as_secs_f64().max(0.0)
        }
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

/// A transport error in words, with every cause, and without its URL (a
/// presigned URL carries a signature): shared by every HTTP client here.
pub fn transport_detail(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    detail
}

/// Classifies a transport error: only a failure to connect proves the
/// request was never sent.
fn network_error(e: reqwest::Error) -> ApiError {
    let may_have_reached_server = !e.is_connect();
    ApiError::Network { may_have_reached_server, detail: crate::text::excerpt(&transport_detail(e), 200) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_rules() {
        assert!(check_base_url("https://octopusx.ai").is_ok());
        assert_eq!(check_base_url("http://127.0.0.1:8080").unwrap().as_str(), "http://127.0.0.1:8080/");
        assert!(check_base_url("http://localhost:1/api").unwrap().as_str().ends_with("/api/"));
        assert!(check_base_url("http://[::1]:9").is_ok());
        let e = check_base_url("http://octopusx.ai").unwrap_err().to_string();
        assert!(e.contains("not loopback"), "{e}");
        let e = check_base_url("ftp://x").unwrap_err().to_string();
        assert_eq!(e, "base URL `ftp://x` has scheme `ftp`; expected https://");
        let e = check_base_url("not a url").unwrap_err().to_string();
        assert_eq!(e, "base URL `not a url` is not a URL: relative URL without a base");
    }

    #[test]
    fn retry_after_as_seconds_or_http_date() {
        let now: jiff::Timestamp = "2026-11-24T12:00:00Z".parse().unwrap();
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Tue, 24 Nov 2026 12:00:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Tue, 24 Nov 2026 11:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 25 Nov 2026 12:00:00 GMT", now), Some(Duration::from_secs(3600)));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn debug_hides_key() {
        let c = Client::new(ClientOptions {
            base_url: "https://example.com".into(),
            api_key: SecretString::from("sk-very-secret".to_string()),
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(1),
            tls: Default::default(),
        })
        .unwrap();
        let opts_dbg = format!("{c:?}");
        assert!(!opts_dbg.contains("sk-very-secret"), "{opts_dbg}");
    }
}
