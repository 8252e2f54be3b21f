//! The `[storage]` table of the config: the user's own S3-compatible bucket, through which
//! local files reach the server (uploaded, then given to CreateAsset as a
//! presigned GET URL).

use std::path::Path;

use secrecy::SecretString;
use serde::Deserialize;

use crate::text::excerpt;

/// The environment variable read for the access key id unless
/// `access_key_env` names another.
pub const ACCESS_KEY_ENV: &str = "AWS_ACCESS_KEY_ID";
/// The environment variable read for the secret key unless `secret_key_env`
/// names another.
pub const SECRET_KEY_ENV: &str = "AWS_SECRET_ACCESS_KEY";
/// The environment variable read for a session token (temporary
/// credentials), when the access key also came from the environment.
pub const SESSION_TOKEN_ENV: &str = "AWS_SESSION_TOKEN";
/// Longest presigned URL lifetime S3 accepts (SigV4): 7 days.
pub const MAX_URL_EXPIRY_SECS: u64 = 7 * 24 * 3600;

/// The `[storage]` table. Only `endpoint` and `bucket` are required.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct StorageConfig {
    /// The S3 endpoint, e.g. `https://s3.eu-west-1.amazonaws.com` or
    /// `https://ACCOUNT.r2.cloudflarestorage.com`; https unless loopback.
    pub endpoint: String,
    /// The bucket name.
    pub bucket: String,
    /// The signing region (`auto` for R2; anything for MinIO).
    pub region: String,
    /// Folder inside the bucket for uploaded objects (no leading or trailing `/`).
    pub prefix: String,
    /// `https://ENDPOINT/BUCKET/KEY` instead of `https://BUCKET.ENDPOINT/KEY`.
    pub path_style: bool,
    /// Lifetime of the presigned GET URL given to CreateAsset, in seconds.
    pub url_expiry_secs: u64,
    /// Name of the variable holding the access key id (default `AWS_ACCESS_KEY_ID`).
    pub access_key_env: Option<String>,
    /// Name of the variable holding the secret key (default `AWS_SECRET_ACCESS_KEY`).
    pub secret_key_env: Option<String>,
    /// The access key id in the file (the file must then be mode 0600).
    pub access_key_id: Option<SecretString>,
    /// The secret key in the file (the file must then be mode 0600).
    pub secret_access_key: Option<SecretString>,
    /// Uploads in flight at once.
    pub max_uploading: usize,
    /// Seconds allowed for one upload request, body included.
    pub upload_timeout_secs: f64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            endpoint: String::new(),
            bucket: String::new(),
            region: "us-east-1".into(),
            prefix: "seedance-assets".into(),
            path_style: false,
            url_expiry_secs: 12 * 3600,
            access_key_env: None,
            secret_key_env: None,
            access_key_id: None,
            secret_access_key: None,
            max_uploading: 4,
            upload_timeout_secs: 600.0,
        }
    }
}

/// Storage credentials, resolved.
#[derive(Clone)]
pub struct StorageCredentials {
    /// The access key id.
    pub access_key_id: SecretString,
    /// The secret access key.
    pub secret_access_key: SecretString,
    /// A session token, for temporary credentials.
    pub session_token: Option<SecretString>,
}

impl std::fmt::Debug for StorageCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorageCredentials([REDACTED])")
    }
}

impl StorageConfig {
    /// Whether the file holds a storage secret (then it must be private).
    pub fn has_file_secrets(&self) -> bool {
        self.access_key_id.is_some() || self.secret_access_key.is_some()
    }

    /// Checks every value, naming the key at fault.
    pub fn check(&self) -> Result<(), StorageConfigError> {
        if self.endpoint.trim().is_empty() {
            return Err(StorageConfigError::NoEndpoint);
        }
        super::check_endpoint(&self.endpoint).map_err(StorageConfigError::Endpoint)?;
        if self.bucket.trim().is_empty() {
            return Err(StorageConfigError::NoBucket);
        }
        if self.bucket.chars().any(|c| c == '/' || c.is_whitespace() || c.is_control()) {
            return Err(StorageConfigError::BadBucket { bucket: self.bucket.clone() });
        }
        if self.region.trim().is_empty() || self.region.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(StorageConfigError::BadRegion);
        }
        let prefix = self.prefix.trim_matches('/');
        let bad_segment = |s: &str| s.is_empty() || s == "." || s == "..";
        if prefix.chars().any(char::is_control) || (!prefix.is_empty() && prefix.split('/').any(bad_segment)) {
            return Err(StorageConfigError::BadPrefix { prefix: self.prefix.clone() });
        }
        if !(60..=MAX_URL_EXPIRY_SECS).contains(&self.url_expiry_secs) {
            return Err(StorageConfigError::UrlExpiry { secs: self.url_expiry_secs });
        }
        if !(1..=64).contains(&self.max_uploading) {
            return Err(StorageConfigError::MaxUploading(self.max_uploading));
        }
        if !(self.upload_timeout_secs.is_finite() && (1.0..=86_400.0).contains(&self.upload_timeout_secs)) {
            return Err(StorageConfigError::UploadTimeout(self.upload_timeout_secs));
        }
        for (key, name) in [("access_key_env", &self.access_key_env), ("secret_key_env", &self.secret_key_env)] {
            if name.as_deref().is_some_and(|n| n.trim().is_empty() || n.contains('=')) {
                return Err(StorageConfigError::EnvName { key });
            }
        }
        super::bucket_for(self).map(|_| ()).map_err(StorageConfigError::Bucket)
    }

    /// The credentials: each from its environment variable (named by
    /// `access_key_env` / `secret_key_env`, default `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY`) first, else from the file.
    pub fn credentials(
        &self,
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<StorageCredentials, StorageConfigError> {
        let from_env = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let key_var = self.access_key_env.as_deref().unwrap_or(ACCESS_KEY_ENV);
        let secret_var = self.secret_key_env.as_deref().unwrap_or(SECRET_KEY_ENV);
        let key_env = from_env(key_var);
        let access = key_env.clone().map(SecretString::from).or_else(|| self.access_key_id.clone());
        let secret = from_env(secret_var).map(SecretString::from).or_else(|| self.secret_access_key.clone());
        match (access, secret) {
            (Some(access_key_id), Some(secret_access_key)) => Ok(StorageCredentials {
                access_key_id,
                secret_access_key,
                session_token: key_env.and_then(|_| from_env(SESSION_TOKEN_ENV)).map(SecretString::from),
            }),
            (access, _) => Err(StorageConfigError::NoCredentials {
                path: path.into(),
                missing: if access.is_none() { key_var.to_string() } else { secret_var.to_string() },
            }),
        }
    }
}

/// What is wrong with the `[storage]` table, naming the key.
#[derive(Debug, thiserror::Error)]
pub enum StorageConfigError {
    /// `storage.endpoint` is blank.
    #[error("storage.endpoint is required (e.g. https://s3.eu-west-1.amazonaws.com)")]
    NoEndpoint,
    /// `storage.endpoint` is not a usable endpoint.
    #[error("storage.endpoint: {0}")]
    Endpoint(#[source] super::EndpointError),
    /// `storage.bucket` is blank.
    #[error("storage.bucket is required")]
    NoBucket,
    /// `storage.bucket` is not a bucket name.
    #[error("storage.bucket `{}` is not a bucket name", excerpt(bucket, 64))]
    BadBucket {
        /// The bucket as given.
        bucket: String,
    },
    /// `storage.region` is blank or not a region name.
    #[error("storage.region must be a region name such as us-east-1 (or auto for R2)")]
    BadRegion,
    /// `storage.prefix` has empty, `.` or `..` segments or control characters.
    #[error("storage.prefix `{}` is not a usable key prefix", excerpt(prefix, 64))]
    BadPrefix {
        /// The prefix as given.
        prefix: String,
    },
    /// `storage.url_expiry_secs` is out of range.
    #[error(
        "storage.url_expiry_secs must be between 60 and {} (7 days, the S3 limit), not {secs}",
        super::MAX_URL_EXPIRY_SECS
    )]
    UrlExpiry {
        /// The value given.
        secs: u64,
    },
    /// `storage.max_uploading` is out of range.
    #[error("storage.max_uploading must be between 1 and 64, not {0}")]
    MaxUploading(usize),
    /// `storage.upload_timeout_secs` is out of range.
    #[error("storage.upload_timeout_secs must be between 1 and 86400, not {0}")]
    UploadTimeout(f64),
    /// `access_key_env` or `secret_key_env` does not name a variable.
    #[error("storage.{key} must name an environment variable")]
    EnvName {
        /// `access_key_env` or `secret_key_env`.
        key: &'static str,
    },
    /// No bucket URL can be built from the endpoint and bucket.
    #[error("storage config: {0}")]
    Bucket(#[source] super::BucketError),
    /// `[storage]` is configured but a credential is missing.
    #[error(
        "no storage credentials: set {missing} (or access_key_id / secret_access_key under [storage] in {path}, mode 0600)"
    )]
    NoCredentials {
        /// The config file consulted.
        path: std::path::PathBuf,
        /// The environment variable that would have supplied the missing value.
        missing: String,
    },
}
