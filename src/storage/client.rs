//! The storage client: hash a local file, find it in the bucket or upload
//! it, and presign the GET URL that CreateAsset will download.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use rusty_s3::S3Action;
use secrecy::ExposeSecret;
use url::Url;

use super::error::StorageError;
use super::hash::{hash_file, sha256_hex, stamp};
use super::held::{DEFAULT_BUDGET, Held, HeldFiles};
use super::stream::{Expected, Failure, held_body, verified_body};
use super::{StorageConfig, StorageCredentials};

/// How long the HEAD and DELETE URLs signed for our own requests live.
const SHORT_EXPIRY: Duration = Duration::from_secs(15 * 60);
/// Longest error body read from the bucket.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Bytes of one upload sent so far, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes handed to the connection.
    pub done: u64,
    /// The file's size.
    pub total: u64,
}

/// A local file, hashed and named for the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes when hashed.
    pub size: u64,
    /// Its modification time when hashed, if the system knows it.
    pub modified: Option<SystemTime>,
    /// SHA-256 of its content, 64 lowercase hex digits.
    pub sha256: String,
    /// Its lowercase extension (may be empty).
    pub ext: String,
    /// The content-addressed object key: `PREFIX/sha256-HEX.EXT`.
    pub key: String,
}

/// A file that is in the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The object key.
    pub key: String,
    /// A presigned GET URL for it, valid for `url_expiry_secs`: the
    /// CreateAsset URL.
    pub url: Url,
    /// The object was already there (a HEAD found it): nothing was sent.
    pub already_present: bool,
}

/// A client for one bucket. Cheap to clone (the HTTP client is shared).
#[derive(Clone)]
pub struct Storage {
    http: reqwest::Client,
    bucket: rusty_s3::Bucket,
    credentials: Arc<rusty_s3::Credentials>,
    prefix: String,
    endpoint: String,
    url_expiry: Duration,
    upload_timeout: Duration,
    /// Files read when hashed, waiting for their upload (shared by clones).
    held: HeldFiles,
}

/// Two clients are equal when they reach the same bucket, with the same
/// keys and settings (the HTTP client is not compared).
impl PartialEq for Storage {
    fn eq(&self, other: &Self) -> bool {
        self.bucket.base_url() == other.bucket.base_url()
            && self.credentials == other.credentials
            && self.prefix == other.prefix
            && self.endpoint == other.endpoint
            && self.url_expiry == other.url_expiry
            && self.upload_timeout == other.upload_timeout
    }
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("bucket", &self.bucket.base_url().as_str())
            .field("prefix", &self.prefix)
            .field("credentials", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

impl Storage {
    /// A client for the bucket `cfg` describes, signing with `credentials`
    /// and sending through `http` (any `reqwest::Client`: its connect timeout
    /// and TLS roots apply; uploads get `upload_timeout_secs` each).
    pub fn from_config(
        cfg: &StorageConfig,
        credentials: &StorageCredentials,
        http: reqwest::Client,
    ) -> Result<Storage, StorageError> {
        cfg.check()?;
        let bucket = super::bucket_for(cfg)?;
        let key = credentials.access_key_id.expose_secret();
        let secret = credentials.secret_access_key.expose_secret();
        let credentials = match &credentials.session_token {
            Some(token) => rusty_s3::Credentials::new_with_token(key, secret, token.expose_secret()),
            None => rusty_s3::Credentials::new(key, secret),
        };
        Ok(Storage {
            http,
            bucket,
            credentials: Arc::new(credentials),
            prefix: cfg.prefix.trim_matches('/').to_string(),
            endpoint: cfg.endpoint.trim().to_string(),
            url_expiry: Duration::from_secs(cfg.url_expiry_secs),
            upload_timeout: Duration::from_secs_f64(cfg.upload_timeout_secs),
            held: HeldFiles::new(DEFAULT_BUDGET),
        })
    }

    /// This client holding at most `budget` bytes of hashed files for their
    /// upload (0: every file is read again, and checked, when uploaded).
    pub fn holding(mut self, budget: usize) -> Storage {
        self.held = HeldFiles::new(budget);
        self
    }

    /// The bucket's base URL (no credentials in it).
    pub fn bucket_url(&self) -> &Url {
        self.bucket.base_url()
    }

    /// The object key for content with this hash and extension.
    pub fn key_for(&self, sha256: &str, ext: &str) -> String {
        let name = if ext.is_empty() { format!("sha256-{sha256}") } else { format!("sha256-{sha256}.{ext}") };
        if self.prefix.is_empty() { name } else { format!("{}/{name}", self.prefix) }
    }

    /// Hashes a local file (on a blocking thread) and names its object.
    /// Fails if the file is missing, unreadable, not a regular file, or
    /// changes while it is read. A file that fits the room left is kept in
    /// memory for its upload, which then sends exactly what was hashed
    /// without reading the file again.
    pub async fn prepare(&self, path: &Path) -> Result<LocalFile, StorageError> {
        let owned = path.to_path_buf();
        let room = match tokio::fs::metadata(path).await {
            Ok(m) if m.is_file() => self.held.room(m.len()).await,
            _ => None,
        };
        let keep = room.is_some();
        let (size, modified, sha256, bytes) = tokio::task::spawn_blocking(move || hash_path(&owned, keep))
            .await
            .map_err(|e| file_error(path, format!("hashing stopped: {e}")))??;
        let ext = extension(path);
        let key = self.key_for(&sha256, &ext);
        if let (Some(bytes), Some(room)) = (bytes, room) {
            self.held.keep(&key, bytes, room);
        }
        Ok(LocalFile { path: path.to_path_buf(), size, modified, sha256, ext, key })
    }

    /// A presigned GET URL for `key`, valid for `url_expiry_secs` from now.
    pub fn presigned_get(&self, key: &str) -> Url {
        rusty_s3::actions::GetObject::new(&self.bucket, Some(&self.credentials), key).sign(self.url_expiry)
    }

    /// Makes sure the file is in the bucket: a HEAD first (an object of the
    /// same size under the content-addressed key is the same content), else a
    /// PUT of the bytes kept when it was hashed, or, when none were kept, a
    /// PUT streamed from the file whose bytes are hashed on the way and must
    /// match `file.sha256`. `progress` is called as bytes go out (at most
    /// once per MiB, and at the end); it must be quick (e.g. a channel send).
    pub async fn upload<P>(&self, file: &LocalFile, progress: P) -> Result<Uploaded, StorageError>
    where
        P: Fn(Progress) + Send + Sync + 'static,
    {
        let held = self.held.take(&file.key);
        let already_present = self.head(&file.key).await? == Some(file.size);
        if already_present {
            progress(Progress { done: file.size, total: file.size });
        } else {
            self.put(file, held, Arc::new(progress)).await?;
        }
        Ok(Uploaded { key: file.key.clone(), url: self.presigned_get(&file.key), already_present })
    }

    /// The size of the object under `key`, or `None` when the bucket does
    /// not show it (404, or 403 when the credentials may not list: the PUT
    /// that follows then says what is wrong).
    pub async fn head(&self, key: &str) -> Result<Option<u64>, StorageError> {
        let url = rusty_s3::actions::HeadObject::new(&self.bucket, Some(&self.credentials), key).sign(SHORT_EXPIRY);
        let resp = self.http.head(url).send().await.map_err(|e| self.transport("HEAD", key, e))?;
        let status = resp.status().as_u16();
        match status {
            // The header, not `content_length()`: a HEAD answer has no body.
            200..=299 => Ok(Some(header_len(&resp).unwrap_or(0))),
            408 | 429 | 500..=599 => {
                Err(StorageError::Bucket { op: "HEAD", key: key.to_string(), status, code: None, message: None })
            }
            _ => Ok(None),
        }
    }

    async fn put<P>(&self, file: &LocalFile, held: Option<Held>, progress: Arc<P>) -> Result<(), StorageError>
    where
        P: Fn(Progress) + Send + Sync + 'static,
    {
        let changed = |what: String| StorageError::Changed { path: file.path.clone(), what };
        let failure = Failure::default();
        // The held bytes are what was hashed: sent as they are, whatever
        // became of the file since. Their room is freed when `held` drops,
        // after the request.
        let body = match &held {
            _ if file.size == 0 => reqwest::Body::from(Vec::new()),
            Some(h) => held_body(h.bytes.clone(), progress.clone()),
            None => {
                let (size, modified) = stamp(&file.path).map_err(|e| open_error(&file.path, &e))?;
                if size != file.size {
                    return Err(changed(format!("it is now {size} bytes, was {}", file.size)));
                }
                if file.modified.is_some() && modified != file.modified {
                    return Err(changed("its modification time changed".into()));
                }
                let handle = tokio::fs::File::open(&file.path).await.map_err(|e| open_error(&file.path, &e))?;
                let expected = Expected { size: file.size, sha256: file.sha256.clone() };
                verified_body(handle, expected, progress.clone(), failure.clone())
            }
        };
        let url =
            rusty_s3::actions::PutObject::new(&self.bucket, Some(&self.credentials), &file.key).sign(SHORT_EXPIRY);
        let sent = self
            .http
            .put(url)
            .timeout(self.upload_timeout)
            .header(CONTENT_LENGTH, file.size)
            .header(CONTENT_TYPE, content_type(&file.ext))
            .body(body)
            .send()
            .await;
        let stopped = || failure.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let resp = match sent {
            Ok(resp) => resp,
            Err(e) => {
                if let Some(why) = stopped() {
                    return Err(changed(why));
                }
                return Err(match self.transport("PUT", &file.key, e) {
                    err @ StorageError::Network { .. } => self.explain(&file.key).await.unwrap_or(err),
                    err => err,
                });
            }
        };
        if let Some(why) = stopped() {
            return Err(changed(why));
        }
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            if file.size == 0 {
                progress(Progress { done: 0, total: 0 });
            }
            return Ok(());
        }
        let body = read_limited(resp).await;
        Err(StorageError::from_response("PUT", &file.key, status, &body))
    }

    /// Checks the bucket end to end and leaves nothing behind: a PUT of a
    /// small object under the prefix (`.seedance-assets-check-…`), a HEAD
    /// that must find it, then a DELETE. The bucket's own refusal
    /// (`SignatureDoesNotMatch`, `NoSuchBucket`, `AccessDenied` …) comes back
    /// as the error. Returns the key it used.
    pub async fn probe(&self) -> Result<String, StorageError> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let name = format!(".seedance-assets-check-{}-{nanos}", std::process::id());
        let key = if self.prefix.is_empty() { name } else { format!("{}/{name}", self.prefix) };
        let body = b"seedance-assets check: a probe object, deleted at once\n".to_vec();
        let url = rusty_s3::actions::PutObject::new(&self.bucket, Some(&self.credentials), &key).sign(SHORT_EXPIRY);
        let resp = self
            .http
            .put(url)
            .header(CONTENT_LENGTH, body.len())
            .header(CONTENT_TYPE, "text/plain")
            .body(body.clone())
            .send()
            .await
            .map_err(|e| self.transport("PUT", &key, e))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(StorageError::from_response("PUT", &key, status, &read_limited(resp).await));
        }
        let found = self.head(&key).await?;
        let url = rusty_s3::actions::DeleteObject::new(&self.bucket, Some(&self.credentials), &key).sign(SHORT_EXPIRY);
        let resp = self.http.delete(url).send().await.map_err(|e| self.transport("DELETE", &key, e))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(StorageError::from_response("DELETE", &key, status, &read_limited(resp).await));
        }
        if found != Some(body.len() as u64) {
            return Err(StorageError::Bucket {
                op: "HEAD",
                key,
                status: 404,
                code: None,
                message: Some("the object just written was not found (or not whole)".into()),
            });
        }
        Ok(key)
    }

    /// Why a PUT may have been cut off: a bucket that refuses a request
    /// often answers before reading the body and closes the connection, so
    /// the client only sees a broken pipe. A one-byte GET of the same key
    /// (read-only, harmless) gets the bucket's refusal in words, if there is
    /// one (`NoSuchKey` means the credentials and bucket are fine).
    async fn explain(&self, key: &str) -> Option<StorageError> {
        let url = rusty_s3::actions::GetObject::new(&self.bucket, Some(&self.credentials), key).sign(SHORT_EXPIRY);
        let resp = self.http.get(url).header(reqwest::header::RANGE, "bytes=0-0").send().await.ok()?;
        let status = resp.status().as_u16();
        if status < 400 {
            return None;
        }
        match StorageError::from_response("PUT", key, status, &read_limited(resp).await) {
            StorageError::Bucket { code: Some(code), .. } if code == "NoSuchKey" => None,
            err @ StorageError::Bucket { code: Some(_), .. } => Some(err),
            _ => None,
        }
    }

    fn transport(&self, op: &'static str, key: &str, e: reqwest::Error) -> StorageError {
        let connect = e.is_connect();
        let detail = crate::text::excerpt(&crate::api::transport_detail(e), 300);
        if connect {
            StorageError::Unreachable { endpoint: crate::text::excerpt(&self.endpoint, 120), detail }
        } else {
            StorageError::Network { op, key: key.to_string(), detail }
        }
    }
}

fn header_len(resp: &reqwest::Response) -> Option<u64> {
    resp.headers().get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

async fn read_limited(mut resp: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    body
}

fn file_error(path: &Path, message: String) -> StorageError {
    StorageError::File { path: path.to_path_buf(), message }
}

fn open_error(path: &Path, e: &std::io::Error) -> StorageError {
    let message = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file (it was moved or deleted)".to_string(),
        std::io::ErrorKind::PermissionDenied => "cannot read it: permission denied".to_string(),
        _ => format!("cannot read it: {e}"),
    };
    file_error(path, message)
}

/// What hashing a file found: size, modification time, SHA-256 hex, and
/// the bytes when they were to be kept.
type Hashed = (u64, Option<SystemTime>, String, Option<bytes::Bytes>);

/// Hashes a file, checking it is a regular file that does not change while
/// it is read; `keep`: its bytes are returned too (read whole, once).
fn hash_path(path: &Path, keep: bool) -> Result<Hashed, StorageError> {
    let mut f = File::open(path).map_err(|e| open_error(path, &e))?;
    let before = f.metadata().map_err(|e| open_error(path, &e))?;
    if !before.is_file() {
        return Err(file_error(path, "not a regular file".into()));
    }
    let (n, sha, bytes) = if keep {
        let mut buf = Vec::with_capacity(usize::try_from(before.len()).unwrap_or(0));
        std::io::Read::read_to_end(&mut f, &mut buf).map_err(|e| open_error(path, &e))?;
        (buf.len() as u64, sha256_hex(&buf), Some(bytes::Bytes::from(buf)))
    } else {
        let (n, sha) = hash_file(&mut f).map_err(|e| open_error(path, &e))?;
        (n, sha, None)
    };
    let after = f.metadata().map_err(|e| open_error(path, &e))?;
    let modified = after.modified().ok();
    if n != before.len() || n != after.len() || before.modified().ok() != modified {
        return Err(StorageError::Changed { path: path.to_path_buf(), what: "it changed while it was hashed".into() });
    }
    Ok((n, modified, sha, bytes))
}

/// The file's extension, lowercase, if it is short and alphanumeric.
fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .filter(|e| !e.is_empty() && e.len() <= 10 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_ascii_lowercase)
        .unwrap_or_default()
}

/// The Content-Type stored with the object (and served with its GET).
fn content_type(ext: &str) -> &'static str {
    match ext {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "tif" | "tiff" => "image/tiff",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_extensions() {
        assert_eq!(extension(Path::new("/a/B.PNG")), "png");
        assert_eq!(extension(Path::new("/a/noext")), "");
        assert_eq!(extension(Path::new("/a/x.we ird")), "");
        assert_eq!(content_type("mov"), "video/quicktime");
    }
}
