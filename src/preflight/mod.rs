//! Preflight: refuse what the asset library would reject, before anything is
//! created (and maybe billed). A front-end stage over a shared library: it
//! runs on parsed items before they are submitted to the engine, so a
//! refused item is never written to the job store and its line stays with the user.
//!
//! Each item is measured by [`crate::media::probe`] (headers only, within a
//! byte budget), from a local file or a URL (HEAD, then ranged GETs under
//! their own rate limit and concurrency cap, so that probing never competes
//! with creation), then held against the [`MediaLimits`] table.
//!
//! A URL is refused, not merely "not checked", when the asset library could
//! not download it either: an HTTP error status from the URL's host (any
//! 4xx but 429, any 5xx), an untrusted TLS certificate, a redirect loop or
//! more than [`MAX_REDIRECTS`] redirects, an `https` URL redirected to plain
//! `http`, or a HEAD declaring a size over the declared type's limit. A host
//! that cannot be reached, does not answer within the probe timeout, or
//! presents an untrusted certificate is given up on for the rest of the
//! batch: its other URLs get the same verdict at once.

mod limits;
mod local;
mod remote;
mod settings;
mod verdict;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{Stream, StreamExt};
use governor::{Quota, RateLimiter};

pub(crate) use limits::num;
pub use limits::{AudioLimits, ImageLimits, LimitsError, MediaLimits, VideoLimits};
pub use local::LocalFile;
pub use remote::{HeadInfo, MAX_REDIRECTS, RemoteError, UrlSource};
pub use settings::{PreflightConfig, PreflightConfigError, PreflightMode, Unprobeable};
pub use verdict::Verdict;

use crate::api::{AssetType, TlsError, TlsOptions};
use crate::media::{Budget, MediaError, ProbeError, probe};

/// What to check: a local file or a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file on this machine.
    Local(PathBuf),
    /// An http(s) URL.
    Url(url::Url),
}

impl Target {
    /// An item's location: an http(s) URL, a `file://` URL, or a path.
    pub fn parse(location: &str) -> Target {
        match url::Url::parse(location.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Target::Url(u),
            Ok(u) if u.scheme() == "file" => match u.to_file_path() {
                Ok(p) => Target::Local(p),
                Err(()) => Target::Local(PathBuf::from(location.trim())),
            },
            _ => Target::Local(PathBuf::from(location.trim())),
        }
    }
}

/// One item's verdict, and what it cost to reach.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The outcome.
    pub verdict: Verdict,
    /// Bytes of the file read (headers only).
    pub bytes_read: u64,
}

impl Checked {
    fn of(verdict: Verdict) -> Checked {
        Checked { verdict, bytes_read: 0 }
    }
}

/// The checker, shared by every item of a run. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Preflight {
    limits: MediaLimits,
    budget: Budget,
    http: remote::Http,
    concurrency: usize,
    /// Hosts given up on (unreachable, silent, an untrusted certificate),
    /// with the verdict each of their other URLs gets at once rather than
    /// each waiting for a timeout.
    down_hosts: Mutex<HashMap<String, Verdict>>,
}

impl Preflight {
    /// A checker with these settings, trusting the system roots and `tls`.
    pub fn new(cfg: &PreflightConfig, tls: &TlsOptions) -> Result<Preflight, TlsError> {
        Preflight::with(cfg, crate::api::http_client_builder(tls)?)
    }

    /// A checker that never looks a name up (`--demo`: nothing leaves this
    /// machine): URLs with a host name are "not checked", saying why; only
    /// addresses (the simulator's sample media on loopback) are probed.
    pub fn without_lookups(cfg: &PreflightConfig, tls: &TlsOptions) -> Result<Preflight, TlsError> {
        Preflight::with(cfg, crate::api::http_client_builder(tls)?.dns_resolver(Arc::new(NoLookups)))
    }

    fn with(cfg: &PreflightConfig, builder: reqwest::ClientBuilder) -> Result<Preflight, TlsError> {
        let timeout = Duration::try_from_secs_f64(cfg.timeout_secs).unwrap_or(Duration::from_secs(10));
        let client = builder
            .connect_timeout(timeout)
            .timeout(timeout)
            .redirect(remote::redirect_policy())
            .build()
            .map_err(TlsError::Client)?;
        let rate = NonZeroU32::new(cfg.requests_per_sec).unwrap_or(NonZeroU32::MIN);
        let limiter = Arc::new(RateLimiter::direct(Quota::per_second(rate)));
        Ok(Preflight {
            limits: cfg.limits(),
            budget: cfg.budget(),
            http: remote::Http { client, limiter, timeout },
            concurrency: cfg.concurrency.max(1),
            down_hosts: Mutex::new(HashMap::new()),
        })
    }

    /// Checks one item declared as `declared`.
    pub async fn check(&self, target: &Target, declared: AssetType) -> Checked {
        let checked = match target {
            Target::Local(path) => self.check_local(path, declared).await,
            Target::Url(url) => self.check_url(url, declared).await,
        };
        Checked { verdict: sanitized(checked.verdict), ..checked }
    }

    /// Checks many items, at most `concurrency` at once, yielding each
    /// verdict as soon as it is known (not in input order) with its key
    /// (e.g. a line number). The dashboard and the CLI both use this.
    pub fn check_stream<K: Send + 'static>(
        self: &Arc<Self>,
        items: Vec<(K, Target, AssetType)>,
    ) -> impl Stream<Item = (K, Checked)> + Send + 'static {
        let me = Arc::clone(self);
        futures::stream::iter(items)
            .map(move |(key, target, declared)| {
                let me = Arc::clone(&me);
                async move { (key, me.check(&target, declared).await) }
            })
            .buffer_unordered(self.concurrency)
    }

    async fn check_local(&self, path: &std::path::Path, declared: AssetType) -> Checked {
        let mut file = match LocalFile::open(path) {
            Ok(f) => f,
            Err(e) => return Checked::of(Verdict::refused(format!("cannot read {}: {e}", path.display()))),
        };
        match probe(&mut file, &self.budget).await {
            Ok(p) => Checked { verdict: self.judge(declared, p.info), bytes_read: p.bytes_read },
            Err(ProbeError::Source(e)) => Checked::of(Verdict::refused(format!("cannot read {}: {e}", path.display()))),
            Err(ProbeError::Media(e)) => Checked::of(media_verdict(e, None)),
        }
    }

    async fn check_url(&self, url: &url::Url, declared: AssetType) -> Checked {
        let host = host_key(url);
        if let Some(v) = self.down_verdict(&host) {
            return Checked::of(v);
        }
        let mut src = UrlSource::new(&self.http, url.clone());
        let head = match src.head().await {
            Ok(h) => h,
            Err(e) if e.is_host_wide() => return Checked::of(self.host_down(host, &e)),
            // Only these statuses are believed from a HEAD alone; any other
            // (405, 501, 400, a 5xx…) lets the ranged GET answer for itself.
            Err(e @ RemoteError::Status { status: 401 | 403 | 404 | 410 }) => {
                return Checked::of(with_downgrade(http_refusal(&e), src.downgraded()));
            }
            Err(RemoteError::Status { .. }) => HeadInfo::default(),
            Err(e) if e.is_definitive() => return Checked::of(http_refusal(&e)),
            Err(_) => HeadInfo::default(),
        };
        // A declared size over the limit is a refusal whatever the body does.
        if let Some(reason) = self.limits.declared_size(declared, head.length) {
            return Checked::of(with_downgrade(Verdict::refused(reason), src.downgraded()));
        }
        // Another URL of this host may have given up on it meanwhile.
        if let Some(v) = self.down_verdict(&host) {
            return Checked::of(v);
        }
        let (verdict, bytes_read) = match probe(&mut src, &self.budget).await {
            Ok(p) => (self.judge(declared, p.info), p.bytes_read),
            Err(ProbeError::Source(e)) if e.is_host_wide() => return Checked::of(self.host_down(host, &e)),
            Err(ProbeError::Source(e)) if e.is_definitive() => (http_refusal(&e), 0),
            Err(ProbeError::Source(e)) => (Verdict::NotChecked { reason: e.to_string() }, 0),
            Err(ProbeError::Media(e)) => (media_verdict(e, head.content_type.as_deref()), 0),
        };
        Checked { verdict: with_downgrade(verdict, src.downgraded()), bytes_read }
    }

    fn down_verdict(&self, host: &str) -> Option<Verdict> {
        self.down_hosts.lock().ok()?.get(host).cloned()
    }

    /// The verdict for `e` on `host`, kept for the host's other URLs (the
    /// first verdict for a host stays).
    fn host_down(&self, host: String, e: &RemoteError) -> Verdict {
        let verdict = match e {
            RemoteError::Timeout(_) => {
                Verdict::NotChecked { reason: format!("{e}; gave up on the host for this batch") }
            }
            e => match e.refusal() {
                Some(reason) => Verdict::refused(reason),
                None => Verdict::NotChecked { reason: e.to_string() },
            },
        };
        match self.down_hosts.lock() {
            Ok(mut m) => m.entry(host).or_insert(verdict).clone(),
            Err(_) => verdict,
        }
    }

    fn judge(&self, declared: AssetType, info: crate::media::MediaInfo) -> Verdict {
        let reasons = self.limits.check(declared, &info);
        if reasons.is_empty() { Verdict::Passed(info) } else { Verdict::Refused { media: Some(info), reasons } }
    }
}

/// `scheme://host:port`: what a host-wide failure is remembered by.
fn host_key(url: &url::Url) -> String {
    format!("{}://{}:{}", url.scheme(), url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(0))
}

/// A resolver that resolves nothing: the demo's probes stay on this machine.
#[derive(Debug)]
pub(crate) struct NoLookups;

/// Why the demo did not look a name up.
#[derive(Debug, thiserror::Error)]
#[error(
    "the demo makes no network look-ups (`{0}` was not resolved); only the simulator's sample files can be checked"
)]
struct NoLookup(String);

impl reqwest::dns::Resolve for NoLookups {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let why = NoLookup(crate::text::excerpt(&crate::text::sanitize(name.as_str()), 60));
        Box::pin(std::future::ready(Err(Box::new(why) as Box<dyn std::error::Error + Send + Sync>)))
    }
}

fn http_refusal(e: &RemoteError) -> Verdict {
    Verdict::refused(e.refusal().unwrap_or_else(|| format!("{e}: the asset library could not download it either")))
}

/// Why an `https` URL redirected to plain `http` is refused (see
/// docs/decisions.md): the asset library fetches over https, and many
/// fetchers refuse a downgrade.
fn downgrade_reason(to: &url::Url) -> String {
    format!(
        "the URL's host redirects https to plain http ({}); the asset library fetches over https and may refuse the downgrade",
        crate::text::excerpt(&crate::text::sanitize(to.as_str()), 120)
    )
}

/// `v`, refused for the downgrade first if an `https` URL ended up over
/// plain `http`: what was measured is kept, with any other reasons.
fn with_downgrade(v: Verdict, downgraded: Option<&url::Url>) -> Verdict {
    let Some(to) = downgraded else { return v };
    let first = downgrade_reason(to);
    match v {
        Verdict::Passed(info) => Verdict::Refused { media: Some(info), reasons: vec![first] },
        Verdict::Refused { media, reasons } => {
            Verdict::Refused { media, reasons: std::iter::once(first).chain(reasons).collect() }
        }
        Verdict::NotChecked { .. } => Verdict::refused(first),
    }
}

/// A media error as a verdict: unmeasurable is "not checked", anything else
/// (not media, truncated, corrupt) is refused.
fn media_verdict(e: MediaError, content_type: Option<&str>) -> Verdict {
    match e {
        MediaError::Unmeasurable(reason) => Verdict::NotChecked { reason },
        MediaError::NotMedia(_) if content_type.is_some() => {
            Verdict::refused(format!("{e}; the URL's host calls it {}", content_type.unwrap_or_default()))
        }
        e => Verdict::refused(e.to_string()),
    }
}

fn sanitized(v: Verdict) -> Verdict {
    let clean = |s: String| crate::text::sanitize(&s);
    match v {
        Verdict::Refused { media, reasons } => {
            Verdict::Refused { media, reasons: reasons.into_iter().map(clean).collect() }
        }
        Verdict::NotChecked { reason } => Verdict::NotChecked { reason: clean(reason) },
        passed => passed,
    }
}
