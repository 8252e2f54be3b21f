//! A local simulator of the three OctopusX endpoints over real HTTP (axum).
//!
//! It checks the bearer key, validates input as SPEC.md says, moves each
//! asset from Processing to Active or Failed after a random delay, enforces
//! per-action rate limits (429 with `Retry-After`), injects faults at
//! configurable rates, and counts what happened (`GET /_stats`).
//! It also serves a minimal S3-compatible bucket (presigned PUT, HEAD, GET,
//! DELETE, each signature verified), and downloads every loopback
//! CreateAsset URL, failing the asset when the bytes are missing or are not
//! media of its type (`GET /_bucket_stats` lists the downloads). Sample
//! media for the demo is served at `/media/NAME` ([`library`]).
//! `seedance-assets sim` runs it standalone; tests, benchmarks and `--demo`
//! embed it with [`Sim::start`].

mod bucket;
mod catalog;
mod error;
mod faults;
mod fetch;
mod handlers;
pub mod library;
mod limits;
pub mod media;
pub mod sigv4;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use bucket::{BUCKET_REGION, BucketSim, BucketStats, Fetch};
pub use error::{FaultError, SimConfigError};
pub use faults::{Fault, FaultRates};
pub use limits::{AccountLimits, LimitForm};
pub use state::{DetectionLatency, SimState, SimStats};

/// Everything the simulator can be told.
#[derive(Debug, Clone, clap::Args)]
pub struct SimConfig {
    /// The bearer key the simulator accepts.
    #[arg(long = "key", default_value = "sim-key")]
    pub api_key: String,
    /// Shortest processing time of an asset, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub min_delay_ms: u64,
    /// Longest processing time of an asset, in milliseconds.
    #[arg(long, default_value_t = 8000)]
    pub max_delay_ms: u64,
    /// How processing times are drawn: uniform between the shortest and
    /// longest, or lognormal around a median.
    #[arg(long, value_enum, default_value_t = DelayDist::Uniform)]
    pub delay_dist: DelayDist,
    /// Median processing time with `--delay-dist lognormal`, in milliseconds.
    #[arg(long, default_value_t = 15_000)]
    pub delay_median_ms: u64,
    /// Sigma (of the log time) with `--delay-dist lognormal`.
    #[arg(long, default_value_t = 0.5)]
    pub delay_sigma: f64,
    /// Shortest processing time of a video, in milliseconds (with
    /// `--video-max-delay-ms`; 0 and 0: videos take what the others take).
    #[arg(long, default_value_t = 0)]
    pub video_min_delay_ms: u64,
    /// Longest processing time of a video, in milliseconds (0: as the others).
    #[arg(long, default_value_t = 0)]
    pub video_max_delay_ms: u64,
    /// Share of assets that take `--tail-ms` instead (a slow tail).
    #[arg(long, default_value_t = 0.0)]
    pub tail_share: f64,
    /// Processing time of the slow tail, in milliseconds.
    #[arg(long, default_value_t = 600_000)]
    pub tail_ms: u64,
    /// The account's limits on creations processing and assets held.
    #[command(flatten)]
    pub account: AccountLimits,
    /// Share of assets that fail processing at random (URLs containing `fail` always fail).
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Send `Error` of failed assets as a plain string instead of `{Code, Message}`.
    #[arg(long)]
    pub string_errors: bool,
    /// CreateAssetGroup requests allowed per second.
    #[arg(long, default_value_t = 30)]
    pub group_rate: u32,
    /// CreateAsset requests allowed per second.
    #[arg(long, default_value_t = 30)]
    pub create_rate: u32,
    /// GetAsset requests allowed per second.
    #[arg(long, default_value_t = 100)]
    pub get_rate: u32,
    /// How long each GetAsset answer takes, in milliseconds (a slow server).
    #[arg(long, default_value_t = 0)]
    pub get_delay_ms: u64,
    /// How long a "slow" fault holds its response, in milliseconds.
    #[arg(long, default_value_t = 40_000)]
    pub slow_ms: u64,
    /// Fault injection rates.
    #[command(flatten)]
    pub faults: FaultRates,
    /// Seed for the random choices (delays, faults), for repeatable runs.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Name of the S3-compatible bucket served on the same port (path-style
    /// `http://ADDR/BUCKET/KEY`, region us-east-1).
    #[arg(long, default_value = "sim-bucket")]
    pub bucket: String,
    /// Access key id the bucket accepts.
    #[arg(long, default_value = "sim-access-key")]
    pub bucket_access_key: String,
    /// Secret access key the bucket accepts.
    #[arg(long, default_value = "sim-secret-key")]
    pub bucket_secret_key: String,
    /// Do not measure downloaded media against the documented limits
    /// (sides, aspect, pixels, duration, fps, size); by default an asset
    /// whose download breaks one fails, as the real server's does.
    #[arg(long)]
    pub no_media_check: bool,
    /// How long after its creation an asset appears in listings, in
    /// milliseconds (listings may lag creations by some seconds).
    #[arg(long, default_value_t = 2000)]
    pub listing_lag_ms: u64,
    /// Answer 404 to this optional endpoint, as a gateway without it does
    /// (ListAssets, ListAssetGroups, UpdateAsset, DeleteAsset,
    /// DeleteAssetGroup; repeatable or comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = optional_endpoint)]
    pub absent: Vec<crate::api::Endpoint>,
}

/// Parses the name of an optional endpoint.
fn optional_endpoint(s: &str) -> Result<crate::api::Endpoint, String> {
    crate::api::Endpoint::named(s).filter(|e| crate::api::Endpoint::OPTIONAL.contains(e)).ok_or_else(|| {
        let names: Vec<&str> = crate::api::Endpoint::OPTIONAL.iter().map(|e| e.name()).collect();
        format!("`{}` is not an optional endpoint; expected one of {}", crate::text::excerpt(s, 30), names.join(", "))
    })
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            api_key: "sim-key".into(),
            min_delay_ms: 2000,
            max_delay_ms: 8000,
            delay_dist: DelayDist::Uniform,
            delay_median_ms: 15_000,
            delay_sigma: 0.5,
            video_min_delay_ms: 0,
            video_max_delay_ms: 0,
            tail_share: 0.0,
            tail_ms: 600_000,
            account: AccountLimits::default(),
            fail_rate: 0.0,
            string_errors: false,
            group_rate: 30,
            create_rate: 30,
            get_rate: 100,
            get_delay_ms: 0,
            slow_ms: 40_000,
            faults: FaultRates::default(),
            seed: None,
            bucket: "sim-bucket".into(),
            bucket_access_key: "sim-access-key".into(),
            bucket_secret_key: "sim-secret-key".into(),
            no_media_check: false,
            listing_lag_ms: 2000,
            absent: Vec::new(),
        }
    }
}

impl SimConfig {
    /// Checks rates and ranges, naming the first bad option.
    pub fn validate(&self) -> Result<(), SimConfigError> {
        if self.min_delay_ms > self.max_delay_ms {
            return Err(SimConfigError::Delays { min: self.min_delay_ms, max: self.max_delay_ms });
        }
        if self.video_min_delay_ms > self.video_max_delay_ms {
            return Err(SimConfigError::Delays { min: self.video_min_delay_ms, max: self.video_max_delay_ms });
        }
        if !(0.0..=5.0).contains(&self.delay_sigma) {
            return Err(SimConfigError::Sigma(self.delay_sigma));
        }
        for (action, rate) in [("group", self.group_rate), ("create", self.create_rate), ("get", self.get_rate)] {
            if rate == 0 {
                return Err(SimConfigError::ZeroRate { action });
            }
        }
        if self.bucket.is_empty() || self.bucket.contains('/') || self.bucket.starts_with('_') {
            return Err(SimConfigError::Bucket(self.bucket.clone()));
        }
        if !(0.0..=1.0).contains(&self.fail_rate) {
            return Err(SimConfigError::FailRate(self.fail_rate));
        }
        if !(0.0..=1.0).contains(&self.tail_share) {
            return Err(SimConfigError::TailShare(self.tail_share));
        }
        Ok(self.faults.validate()?)
    }
}

/// How the simulator draws processing times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DelayDist {
    /// Uniform between `--min-delay-ms` and `--max-delay-ms`.
    #[default]
    Uniform,
    /// Lognormal with median `--delay-median-ms` and `--delay-sigma`.
    Lognormal,
}

/// A running simulator. Dropping it stops the server.
pub struct Sim {
    addr: SocketAddr,
    state: Arc<SimState>,
    server: tokio::task::JoinHandle<()>,
}

impl Sim {
    /// Starts a simulator on `addr` (port 0 picks a free port).
    pub async fn start(config: SimConfig, addr: SocketAddr) -> std::io::Result<Sim> {
        config.validate().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let state = Arc::new(SimState::new(config));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = handlers::router(state.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("simulator stopped: {e}");
            }
        });
        Ok(Sim { addr, state, server })
    }

    /// Starts a simulator on a free loopback port.
    pub async fn start_local(config: SimConfig) -> std::io::Result<Sim> {
        Sim::start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/`, the base URL for a client.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The URL of a sample file it serves ([`library::FILES`]).
    pub fn media_url(&self, name: &str) -> String {
        format!("http://{}/media/{name}", self.addr)
    }

    /// The shared state: counters, groups and assets.
    pub fn state(&self) -> &Arc<SimState> {
        &self.state
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> SimStats {
        self.state.stats()
    }

    /// The S3-compatible bucket: its objects, counters and download log.
    pub fn bucket(&self) -> &BucketSim {
        &self.state.bucket
    }

    /// Waits until the server task ends (for `seedance-assets sim`).
    pub async fn serve_forever(self) {
        let _ = (&mut { self }.server).await;
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Pause used by the "slow" fault.
pub(crate) fn slow_delay(config: &SimConfig) -> Duration {
    Duration::from_millis(config.slow_ms)
}
