//! An HTTPS file server on loopback for preflight tests: a test CA (written
//! to a PEM file for `tls_ca_file`), a certificate for 127.0.0.1 signed by
//! it, and files served with honest or broken behaviour: without range
//! support, lying about their length, refusing HEAD, 404, any status or
//! redirect. The same files can be served over plain HTTP
//! ([`Server::start_plain`]), and the certificate can be made untrustworthy
//! ([`Server::start_with`]).

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How a file is served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Behaviour {
    /// HEAD and ranged GETs, as a CDN does.
    #[default]
    Honest,
    /// `Range` ignored: every GET answers 200 with the whole file.
    NoRange,
    /// HEAD says ten times the real length (ranged answers tell the truth).
    LyingHead,
    /// GET bodies announce more bytes than they send, then the connection closes.
    ShortBody,
    /// HEAD answers 405.
    NoHead,
    /// Every request answers this status; for a 3xx, the file's bytes are
    /// the `Location`.
    Status(u16),
}

/// The certificate a server presents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TestCert {
    /// Valid for 127.0.0.1 and localhost, signed by the test CA.
    #[default]
    Good,
    /// Signed by the test CA, but expired in 2001.
    Expired,
    /// Signed by the test CA, but for another host name.
    WrongName,
}

struct File {
    bytes: Arc<Vec<u8>>,
    behaviour: Behaviour,
    content_type: &'static str,
}

/// A running server.
pub struct Server {
    /// `https://127.0.0.1:PORT`.
    pub base: String,
    /// The test CA's certificate, for `tls_ca_file`.
    pub ca_file: PathBuf,
    files: Arc<Mutex<HashMap<String, File>>>,
    /// Requests answered.
    pub requests: Arc<AtomicU64>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts a server on 127.0.0.1 with a fresh CA.
    pub async fn start() -> Server {
        Server::start_with(TestCert::Good).await
    }

    /// Starts a plain HTTP server on 127.0.0.1 (`ca_file` is still written,
    /// unused).
    pub async fn start_plain() -> Server {
        Server::start_inner(TestCert::Good, false).await
    }

    /// Starts a server on 127.0.0.1 with a fresh CA, presenting `cert`.
    pub async fn start_with(cert: TestCert) -> Server {
        Server::start_inner(cert, true).await
    }

    async fn start_inner(cert: TestCert, tls: bool) -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "seedance-assets test CA");
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let names = match cert {
            TestCert::WrongName => vec!["files.example.invalid".to_string()],
            _ => vec!["127.0.0.1".to_string(), "localhost".to_string()],
        };
        let mut leaf_params = rcgen::CertificateParams::new(names).unwrap();
        if cert == TestCert::Expired {
            leaf_params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            leaf_params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();

        let cert = rustls::pki_types::CertificateDer::from(leaf.der().to_vec());
        let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
        let config = rustls::ServerConfig::builder().with_no_client_auth().with_single_cert(vec![cert], key).unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = if tls { "https" } else { "http" };
        let base = format!("{scheme}://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let files: Arc<Mutex<HashMap<String, File>>> = Arc::default();
        let requests = Arc::new(AtomicU64::new(0));
        let (f, r) = (files.clone(), requests.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let (f, r) = (f.clone(), r.clone());
                tokio::spawn(async move {
                    if !tls {
                        let _ = serve(tcp, f, r).await;
                    } else if let Ok(tls) = acceptor.accept(tcp).await {
                        let _ = serve(tls, f, r).await;
                    }
                });
            }
        });
        Server { base, ca_file, files, requests, _dir: dir }
    }

    /// Serves `bytes` at `/path` and returns its URL.
    pub fn add(&self, path: &str, bytes: Vec<u8>, behaviour: Behaviour) -> String {
        let content_type = if path.ends_with(".png") { "image/png" } else { "application/octet-stream" };
        self.files.lock().unwrap().insert(path.to_string(), File { bytes: Arc::new(bytes), behaviour, content_type });
        format!("{}{path}", self.base)
    }
}

async fn serve<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut s: S,
    files: Arc<Mutex<HashMap<String, File>>>,
    requests: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        buf.drain(..end);
        requests.fetch_add(1, Ordering::SeqCst);
        let mut lines = head.lines();
        let mut first = lines.next().unwrap_or_default().split_whitespace();
        let (method, path) =
            (first.next().unwrap_or_default().to_string(), first.next().unwrap_or_default().to_string());
        let range = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("range"))
            .and_then(|(_, v)| v.trim().strip_prefix("bytes=").map(str::to_string))
            .and_then(|v| {
                let (a, b) = v.split_once('-')?;
                Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?))
            });
        let file = files.lock().unwrap().get(&path).map(|f| (f.bytes.clone(), f.behaviour, f.content_type));
        let Some((bytes, behaviour, ctype)) = file else {
            s.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 9\r\n\r\nnot found").await?;
            continue;
        };
        let len = bytes.len() as u64;
        if let Behaviour::Status(status) = behaviour {
            let location = if (300..400).contains(&status) {
                format!("location: {}\r\n", String::from_utf8_lossy(&bytes))
            } else {
                String::new()
            };
            let reply = format!("HTTP/1.1 {status} Test\r\n{location}content-length: 0\r\n\r\n");
            s.write_all(reply.as_bytes()).await?;
            continue;
        }
        if method == "HEAD" {
            let reply = match behaviour {
                Behaviour::NoHead => "HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n".to_string(),
                Behaviour::LyingHead => {
                    format!("HTTP/1.1 200 OK\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n\r\n", len * 10)
                }
                _ => format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {ctype}\r\ncontent-length: {len}\r\naccept-ranges: bytes\r\n\r\n"
                ),
            };
            s.write_all(reply.as_bytes()).await?;
            continue;
        }
        let (status, body, extra) = match range {
            Some((a, b)) if behaviour != Behaviour::NoRange && a < len => {
                let b = b.min(len - 1);
                (
                    "206 Partial Content",
                    &bytes[a as usize..=b as usize],
                    format!("content-range: bytes {a}-{b}/{len}\r\n"),
                )
            }
            Some(_) if behaviour != Behaviour::NoRange => {
                let reply = format!(
                    "HTTP/1.1 416 Range Not Satisfiable\r\ncontent-range: bytes */{len}\r\ncontent-length: 0\r\n\r\n"
                );
                s.write_all(reply.as_bytes()).await?;
                continue;
            }
            _ => ("200 OK", &bytes[..], String::new()),
        };
        let announced = if behaviour == Behaviour::ShortBody { body.len() * 2 + 10 } else { body.len() };
        let reply = format!("HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {announced}\r\n{extra}\r\n");
        s.write_all(reply.as_bytes()).await?;
        // Written in pieces so that a client that has enough can hang up.
        for piece in body.chunks(16 * 1024) {
            s.write_all(piece).await?;
        }
        if behaviour == Behaviour::ShortBody {
            s.shutdown().await?;
            return Ok(());
        }
    }
}
