//! The HTTP client: bearer auth, timeouts, one shared connection pool.

use std::fmt;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::envelope::decode_response;
use super::error::{ApiError, Endpoint};
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

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("base", &self.base.as_str()).field("auth", &"Bearer [REDACTED]").finish()
    }
}

/// Checks that a base URL is `https://`, or `http://` to a loopback host, and
/// normalises it to end with `/`.
pub fn check_base_url(raw: &str) -> Result<Url, String> {
    let mut url = Url::parse(raw.trim()).map_err(|e| format!("base URL `{raw}` is not a URL: {e}"))?;
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
                return Err(format!(
                    "base URL `{raw}` uses plain http to a host that is not loopback; use https:// (the API key would travel in clear text)"
                ));
            }
        }
        other => {
            return Err(format!("base URL `{raw}` has scheme `{other}`; expected https://"));
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
    pub fn new(opts: ClientOptions) -> Result<Client, String> {
        let base = check_base_url(&opts.base_url)?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", opts.api_key.expose_secret()))
            .map_err(|_| "the API key contains characters that cannot be sent in a header".to_string())?;
        auth.set_sensitive(true);
        let http = super::http_client_builder(&opts.tls)
            .map_err(|e| e.to_string())?
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.request_timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
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
        let url = self.base.join(endpoint.path()).expect("endpoint paths are valid relative URLs");
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
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(3600.0)));
        let bytes = resp.bytes().await.map_err(network_error)?;
        decode_response(endpoint, status, retry_after, &bytes)
    }
}

/// Classifies a transport error: only a failure to connect proves the
/// request was never sent.
fn network_error(e: reqwest::Error) -> ApiError {
    let may_have_reached_server = !e.is_connect();
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    ApiError::Network { may_have_reached_server, detail: crate::text::excerpt(&detail, 200) }
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
        let e = check_base_url("http://octopusx.ai").unwrap_err();
        assert!(e.contains("not loopback"), "{e}");
        assert!(check_base_url("ftp://x").unwrap_err().contains("scheme"));
        assert!(check_base_url("not a url").unwrap_err().contains("not a URL"));
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
