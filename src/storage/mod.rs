//! The user's own S3-compatible bucket, through which local files reach the
//! server: each file is hashed, uploaded once under a content-addressed key
//! (`PREFIX/sha256-HEX.EXT`, skipped when a HEAD finds it), and handed to
//! CreateAsset as a presigned GET URL.
//!
//! Requests are presigned with `rusty-s3` (SigV4, no I/O of its own) and sent
//! with the program's `reqwest` client. A file read whole when it was hashed
//! is sent from memory, so it is read once (at most 64 MiB of such files
//! are held at a time, none over 16 MiB; hashing waits a moment for that
//! room, so it runs just ahead of the uploads); any other file is streamed
//! from disk in fixed-size chunks and checked against its hash on the way.

mod client;
mod error;
mod hash;
mod held;
mod settings;
mod stream;

pub use client::{LocalFile, Progress, Storage, Uploaded};
pub use error::{BucketError, BucketUrlError, EndpointError, ErrorClass, StorageError};
pub use hash::{Sha256Hex, hash_file, sha256_hex};
pub use settings::{
    ACCESS_KEY_ENV, MAX_URL_EXPIRY_SECS, SECRET_KEY_ENV, SESSION_TOKEN_ENV, StorageConfig, StorageConfigError,
    StorageCredentials,
};

use url::Url;

/// Checks a storage endpoint: `https://`, or `http://` to a loopback host
/// (a local test server or the simulator), with a host and no query.
pub fn check_endpoint(raw: &str) -> Result<Url, EndpointError> {
    let url = Url::parse(raw.trim()).map_err(|source| EndpointError::NotUrl { raw: raw.to_string(), source })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(EndpointError::PlainHttp { raw: raw.to_string() }),
        other => return Err(EndpointError::Scheme { scheme: other.to_string() }),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(EndpointError::NoHost { raw: raw.to_string() });
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointError::Credentials);
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

/// Checks the URL of an uploaded local file (a presigned GET URL) before it
/// goes to CreateAsset: https, or plain http only to a loopback host (a
/// bucket on this machine: the simulator, a test server). Every other asset
/// URL goes through the intake's URL check and must be https.
pub fn check_uploaded_url(url: &Url) -> Result<(), BucketUrlError> {
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        _ => Err(BucketUrlError { url: url.as_str().split('?').next().unwrap_or_default().to_string() }),
    }
}

/// The `rusty-s3` bucket a `[storage]` table describes.
pub fn bucket_for(cfg: &StorageConfig) -> Result<rusty_s3::Bucket, BucketError> {
    let endpoint = check_endpoint(&cfg.endpoint)?;
    let style = if cfg.path_style { rusty_s3::UrlStyle::Path } else { rusty_s3::UrlStyle::VirtualHost };
    rusty_s3::Bucket::new(endpoint, style, cfg.bucket.trim().to_string(), cfg.region.trim().to_string()).map_err(|e| {
        match e {
            rusty_s3::BucketError::UnsupportedScheme => BucketError::UnsupportedScheme,
            rusty_s3::BucketError::MissingHost => BucketError::MissingHost,
            rusty_s3::BucketError::ParseError(source) if !cfg.path_style => {
                BucketError::NotAHostName { bucket: cfg.bucket.clone(), source }
            }
            rusty_s3::BucketError::ParseError(source) => BucketError::Url(source),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploaded_urls_may_be_http_only_on_loopback() {
        let ok = |u: &str| check_uploaded_url(&Url::parse(u).unwrap());
        assert!(ok("http://127.0.0.1:9000/b/k.png?X-Amz-Signature=x").is_ok());
        assert!(ok("https://bucket.s3.amazonaws.com/k.png").is_ok());
        let e = ok("http://bucket.example/k.png?X-Amz-Signature=secret").unwrap_err().to_string();
        assert!(e.contains("must be https") && !e.contains("secret"), "{e}");
    }

    #[test]
    fn endpoint_rules() {
        assert!(check_endpoint("https://s3.eu-west-1.amazonaws.com").is_ok());
        assert!(check_endpoint("http://127.0.0.1:9000").is_ok());
        assert!(check_endpoint("http://localhost:9000").is_ok());
        assert!(check_endpoint("http://[::1]:9000").is_ok());
        let err = |raw: &str| check_endpoint(raw).unwrap_err().to_string();
        assert!(err("http://minio.lan:9000").contains("not loopback"));
        assert_eq!(err("ftp://x"), "scheme `ftp` is not https");
        assert!(err("https://u:p@x").contains("user:password"));
        assert_eq!(err(" nope"), "`nope` is not a URL: relative URL without a base");
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
        assert!(e.starts_with("bucket `b` cannot be a host name with this endpoint ("), "{e}");
        assert!(e.contains("path_style = true"), "{e}");
        let e = StorageError::from(bucket_for(&cfg).unwrap_err()).to_string();
        assert!(e.starts_with("storage config: bucket `b`"), "{e}");
        let cfg = StorageConfig { path_style: true, ..cfg };
        assert_eq!(bucket_for(&cfg).unwrap().base_url().as_str(), "http://127.0.0.1:9000/b/");
    }
}
