//! The user's own S3-compatible bucket, through which local files reach the
//! server: each file is hashed, uploaded once under a content-addressed key
//! (`PREFIX/sha256-HEX.EXT`, skipped when a HEAD finds it), and handed to
//! CreateAsset as a presigned GET URL.
//!
//! Requests are presigned with `rusty-s3` (SigV4, no I/O of its own) and sent
//! with the program's `reqwest` client; bodies are streamed from the file in
//! fixed-size chunks, so memory does not grow with the file.

mod client;
mod error;
mod hash;
mod stream;

pub use client::{LocalFile, Progress, Storage, Uploaded};
pub use error::{ErrorClass, StorageError};
pub use hash::{Sha256Hex, hash_file, sha256_hex};

use url::Url;

use crate::config::StorageConfig;

/// Checks a storage endpoint: `https://`, or `http://` to a loopback host
/// (a local test server or the simulator), with a host and no query.
pub fn check_endpoint(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| format!("`{}` is not a URL: {e}", crate::text::excerpt(raw, 80)))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "`{}` uses plain http to a host that is not loopback; use https:// (uploads and signatures would travel in clear text)",
                crate::text::excerpt(raw, 80)
            ));
        }
        other => return Err(format!("scheme `{}` is not https", crate::text::excerpt(other, 20))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{}` has no host", crate::text::excerpt(raw, 80)));
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err("the endpoint must not carry a query string or user:password".into());
    }
    Ok(url)
}

/// Whether a URL's host is a loopback address (`127.0.0.0/8`, `::1`,
/// `localhost`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The `rusty-s3` bucket a `[storage]` table describes.
pub fn bucket_for(cfg: &StorageConfig) -> Result<rusty_s3::Bucket, StorageError> {
    let endpoint = check_endpoint(&cfg.endpoint).map_err(StorageError::Config)?;
    let style = if cfg.path_style { rusty_s3::UrlStyle::Path } else { rusty_s3::UrlStyle::VirtualHost };
    rusty_s3::Bucket::new(endpoint, style, cfg.bucket.trim().to_string(), cfg.region.trim().to_string()).map_err(|e| {
        let why = match e {
            rusty_s3::BucketError::UnsupportedScheme => "the endpoint's scheme is not http(s)".to_string(),
            rusty_s3::BucketError::MissingHost => "the endpoint has no host".to_string(),
            rusty_s3::BucketError::ParseError(e) if !cfg.path_style => format!(
                "bucket `{}` cannot be a host name with this endpoint ({e}); set path_style = true (needed for IP addresses and names with dots or capitals)",
                crate::text::excerpt(&cfg.bucket, 64)
            ),
            rusty_s3::BucketError::ParseError(e) => format!("the bucket URL cannot be built: {e}"),
        };
        StorageError::Config(why)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_rules() {
        assert!(check_endpoint("https://s3.eu-west-1.amazonaws.com").is_ok());
        assert!(check_endpoint("http://127.0.0.1:9000").is_ok());
        assert!(check_endpoint("http://localhost:9000").is_ok());
        assert!(check_endpoint("http://[::1]:9000").is_ok());
        assert!(check_endpoint("http://minio.lan:9000").unwrap_err().contains("not loopback"));
        assert!(check_endpoint("ftp://x").unwrap_err().contains("not https"));
        assert!(check_endpoint("https://u:p@x").unwrap_err().contains("user:password"));
        assert!(check_endpoint("nope").unwrap_err().contains("not a URL"));
    }

    #[test]
    fn virtual_host_needs_a_host_name() {
        let cfg = StorageConfig {
            endpoint: "http://127.0.0.1:9000".into(),
            bucket: "b".into(),
            path_style: false,
            ..StorageConfig::default()
        };
        let e = bucket_for(&cfg).unwrap_err().to_string();
        assert!(e.contains("path_style = true"), "{e}");
        let cfg = StorageConfig { path_style: true, ..cfg };
        assert_eq!(bucket_for(&cfg).unwrap().base_url().as_str(), "http://127.0.0.1:9000/b/");
    }
}
