//! A minimal S3-compatible bucket on the simulator's port (path-style
//! `/BUCKET/KEY`): PUT, HEAD, GET and DELETE of presigned URLs, each
//! signature verified ([`super::sigv4`]), objects kept in memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::sigv4::{Keys, Request, percent_decode, verify};
use super::state::SimState;

/// The region the simulated bucket signs in.
pub const BUCKET_REGION: &str = "us-east-1";
/// Largest object accepted by a PUT.
const MAX_OBJECT: usize = 256 * 1024 * 1024;

/// One download the simulator made of a CreateAsset URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetch {
    /// The URL as given to CreateAsset.
    pub url: String,
    /// The HTTP status, or `None` when no answer came.
    pub status: Option<u16>,
    /// Bytes received.
    pub bytes: u64,
    /// SHA-256 (hex) of the bytes received, on a 2xx answer.
    pub sha256: Option<String>,
}

/// What the bucket has done (`GET /_bucket_stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketStats {
    /// PUT requests accepted (objects written).
    pub puts: u64,
    /// HEAD requests answered (found or not).
    pub heads: u64,
    /// GET requests answered (found or not).
    pub gets: u64,
    /// DELETE requests answered.
    pub deletes: u64,
    /// Requests refused for their signature, key or expiry.
    pub refused: u64,
    /// Objects held.
    pub objects: u64,
    /// Bytes held.
    pub bytes: u64,
    /// Downloads of CreateAsset URLs, in order.
    pub fetches: Vec<Fetch>,
}

struct Object {
    body: Bytes,
    content_type: String,
    etag: String,
}

/// The bucket's objects and counters.
#[derive(Default)]
pub struct BucketSim {
    objects: Mutex<HashMap<String, Object>>,
    stats: Mutex<BucketStats>,
}

impl BucketSim {
    fn stats_mut(&self) -> MutexGuard<'_, BucketStats> {
        self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn objects(&self) -> MutexGuard<'_, HashMap<String, Object>> {
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A snapshot of the counters and the download log.
    pub fn stats(&self) -> BucketStats {
        let mut s = self.stats_mut().clone();
        let objects = self.objects();
        s.objects = objects.len() as u64;
        s.bytes = objects.values().map(|o| o.body.len() as u64).sum();
        s
    }

    /// The bytes stored under `key`, if any.
    pub fn object(&self, key: &str) -> Option<Bytes> {
        self.objects().get(key).map(|o| o.body.clone())
    }

    pub(crate) fn record_fetch(&self, fetch: Fetch) {
        self.stats_mut().fetches.push(fetch);
    }
}

fn xml_error(status: u16, code: &str, message: &str, method: &Method) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    if method == Method::HEAD {
        return status.into_response();
    }
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message></Error>",
        message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// Every request the API routes do not take comes here.
pub(crate) async fn handle(
    State(sim): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let cfg = &sim.config;
    let path = uri.path();
    let (raw_bucket, raw_key) =
        path.trim_start_matches('/').split_once('/').unwrap_or((path.trim_start_matches('/'), ""));
    if percent_decode(raw_bucket) != cfg.bucket {
        return xml_error(404, "NoSuchBucket", "The specified bucket does not exist", &method);
    }
    let verified = {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let req =
            Request { method: method.as_str(), raw_path: path, raw_query: uri.query().unwrap_or(""), header: &header };
        let keys =
            Keys { access_key: &cfg.bucket_access_key, secret_key: &cfg.bucket_secret_key, region: BUCKET_REGION };
        verify(&req, &keys, jiff::Timestamp::now().as_second())
    };
    if let Err(r) = verified {
        sim.bucket.stats_mut().refused += 1;
        return xml_error(r.status, r.code, &r.message, &method);
    }
    let key = percent_decode(raw_key);
    if key.is_empty() {
        return xml_error(501, "NotImplemented", "Only object requests are implemented", &method);
    }
    let bucket = &sim.bucket;
    match method {
        Method::PUT => put(bucket, key, &headers, body).await,
        Method::HEAD | Method::GET => {
            let head = method == Method::HEAD;
            if head {
                bucket.stats_mut().heads += 1;
            } else {
                bucket.stats_mut().gets += 1;
            }
            let found = bucket.objects().get(&key).map(|o| (o.body.clone(), o.content_type.clone(), o.etag.clone()));
            let Some((data, content_type, etag)) = found else {
                return xml_error(404, "NoSuchKey", "The specified key does not exist.", &method);
            };
            let len = data.len();
            let body = if head { Body::empty() } else { Body::from(data) };
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_LENGTH, len)
                .header(header::CONTENT_TYPE, content_type)
                .header(header::ETAG, etag)
                .body(body)
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        Method::DELETE => {
            bucket.stats_mut().deletes += 1;
            bucket.objects().remove(&key);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => xml_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", &method),
    }
}

async fn put(bucket: &BucketSim, key: String, headers: &HeaderMap, body: Body) -> Response {
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let Some(declared) = declared else {
        return xml_error(
            411,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header.",
            &Method::PUT,
        );
    };
    if declared > MAX_OBJECT {
        return xml_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", &Method::PUT);
    }
    let data: Bytes = match axum::body::to_bytes(body, MAX_OBJECT).await {
        Ok(d) => d,
        Err(_) => {
            return xml_error(
                400,
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header",
                &Method::PUT,
            );
        }
    };
    if data.len() != declared {
        return xml_error(
            400,
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
            &Method::PUT,
        );
    }
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("binary/octet-stream").to_string();
    let digest = Sha256::digest(&data);
    let etag = format!("\"{}\"", digest[..16].iter().map(|b| format!("{b:02x}")).collect::<String>());
    bucket.stats_mut().puts += 1;
    bucket.objects().insert(key, Object { body: data, content_type, etag: etag.clone() });
    (StatusCode::OK, [(header::ETAG, etag)]).into_response()
}
