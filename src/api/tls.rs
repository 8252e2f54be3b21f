//! One place that builds HTTP clients, so every client (the API, the
//! storage bucket, preflight probes) trusts the same roots: the operating
//! system's certificate store (through `rustls-platform-verifier`) plus
//! the PEM file named by the `tls_ca_file` config key, for corporate
//! proxies and private CAs.

use std::path::{Path, PathBuf};

/// Which roots to trust beyond the operating system's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// A PEM file of extra root certificates (`tls_ca_file`).
    pub ca_file: Option<PathBuf>,
}

/// Why a client could not be given its roots.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The CA file could not be read.
    #[error("cannot read tls_ca_file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The CA file holds no usable certificate.
    #[error("tls_ca_file {path} holds no PEM certificate{detail}")]
    NoCertificate {
        /// The file.
        path: PathBuf,
        /// The parser's complaint, if any.
        detail: String,
    },
    /// The client could not be built with these settings.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

fn read_roots(path: &Path) -> Result<Vec<reqwest::Certificate>, TlsError> {
    let pem = std::fs::read(path).map_err(|source| TlsError::Read { path: path.into(), source })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| TlsError::NoCertificate { path: path.into(), detail: format!(" ({e})") })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { path: path.into(), detail: String::new() });
    }
    Ok(certs)
}

/// A client builder that trusts the system's roots and `tls.ca_file`, with
/// rustls on the `ring` provider and this program's user agent. Callers
/// add their timeouts and build.
pub fn http_client_builder(tls: &TlsOptions) -> Result<reqwest::ClientBuilder, TlsError> {
    // reqwest is built without a default provider (to keep one crypto
    // library, ring); installing it twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut b = reqwest::Client::builder()
        .tls_backend_rustls()
        .user_agent(concat!("seedance-assets/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &tls.ca_file {
        b = b.tls_certs_merge(read_roots(path)?);
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsOptions { ca_file: Some(dir.path().join("nope.pem")) };
        let e = http_client_builder(&missing).unwrap_err().to_string();
        assert!(e.contains("nope.pem"), "{e}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = http_client_builder(&TlsOptions { ca_file: Some(empty) }).unwrap_err().to_string();
        assert!(e.contains("no PEM certificate"), "{e}");
        assert!(http_client_builder(&TlsOptions::default()).unwrap().build().is_ok());
    }
}
