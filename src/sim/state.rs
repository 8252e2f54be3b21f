//! The simulator's store (groups, assets) and counters.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::faults::Fault;
use super::{DelayDist, SimConfig};

/// Counters the simulator exposes at `GET /_stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SimStats {
    /// CreateAssetGroup requests received.
    pub create_group_requests: u64,
    /// CreateAsset requests received.
    pub create_asset_requests: u64,
    /// GetAsset requests received.
    pub get_asset_requests: u64,
    /// Requests answered 429.
    pub rate_limited: u64,
    /// Requests answered 401.
    pub unauthorized: u64,
    /// Faults injected, by kind.
    pub faults: HashMap<String, u64>,
    /// Assets created (each a billed creation).
    pub assets_created: u64,
    /// Creations whose GroupId+URL+Name had been created before.
    pub duplicate_creations: u64,
    /// `GroupId|URL|Name` of creations whose response was hidden by a fault
    /// (500/502/503/504 after processing, dropped, slow, truncated,
    /// malformed, empty task id): the client cannot know they happened.
    pub ambiguous_creations: Vec<String>,
    /// From each asset's ready moment to the first GetAsset that answered
    /// Active for it.
    pub detection: DetectionLatency,
    /// GetAsset requests for an asset already answered Active or Failed
    /// (looks a client did not need).
    pub looks_after_final: u64,
    /// GetAsset requests for a task that had another one under way.
    pub overlapping_looks: u64,
    /// The most GetAsset requests any one task received.
    pub most_looks: u64,
    /// CreateAsset requests refused because too many were processing.
    pub refused_processing: u64,
    /// CreateAsset requests refused because the asset quota was full.
    pub refused_quota: u64,
    /// Requests to the library endpoints (listings, rename, delete).
    pub library_requests: u64,
    /// Assets deleted through DeleteAsset.
    pub assets_deleted: u64,
    /// Every CreateAsset request in the order handled (refused ones too:
    /// 401, 429, faults before processing, invalid input): `GroupId|URL|Name`
    /// and whether it created an asset.
    pub create_log: Vec<(String, bool)>,
}

/// How late clients saw assets become Active, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DetectionLatency {
    /// Assets seen Active.
    pub count: u64,
    /// Mean latency.
    pub mean_ms: f64,
    /// Median latency.
    pub p50_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
    /// Longest latency.
    pub max_ms: f64,
}

impl DetectionLatency {
    fn of(samples: &[f64]) -> DetectionLatency {
        if samples.is_empty() {
            return DetectionLatency::default();
        }
        let mut v = samples.to_vec();
        v.sort_by(f64::total_cmp);
        // Nearest rank.
        let q = |p: f64| v[((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        DetectionLatency {
            count: v.len() as u64,
            mean_ms: v.iter().sum::<f64>() / v.len() as f64,
            p50_ms: q(0.5),
            p99_ms: q(0.99),
            max_ms: v[v.len() - 1],
        }
    }
}

/// One simulated asset.
#[derive(Debug, Clone)]
pub(crate) struct SimAsset {
    pub id: String,
    pub name: String,
    pub url: String,
    pub asset_type: String,
    pub group_id: String,
    pub created: jiff::Timestamp,
    /// When it was created, on the simulator's clock (listings lag it).
    pub created_at: Instant,
    /// Its place in the order of creation.
    pub seq: u64,
    pub ready_at: Instant,
    pub ready_time: jiff::Timestamp,
    /// `None` for success, else (code, message).
    pub failure: Option<(String, String)>,
    /// A GetAsset has answered Active for it.
    pub seen_active: bool,
}

pub(crate) struct Inner {
    rng: StdRng,
    pub(crate) groups: HashMap<String, String>,
    /// Assets by task id.
    pub(crate) assets: HashMap<String, SimAsset>,
    created_keys: HashSet<String>,
    pub(crate) stats: SimStats,
    /// Detection latencies, in milliseconds.
    detections: Vec<f64>,
    next_id: u64,
    /// Processing times of the assets created, in order.
    delays: Vec<Duration>,
    /// GetAsset requests under way, per task.
    looking: HashMap<String, u32>,
    /// GetAsset requests received, per task.
    looks: HashMap<String, u64>,
    /// Tasks answered Active or Failed.
    final_seen: HashSet<String>,
    script: std::collections::VecDeque<Option<Fault>>,
}

/// Shared state of one simulator.
pub struct SimState {
    pub(crate) config: SimConfig,
    pub(crate) bucket: super::bucket::BucketSim,
    /// Downloads CreateAsset URLs (loopback only).
    pub(crate) http: reqwest::Client,
    inner: Mutex<Inner>,
    limiters: [DefaultDirectRateLimiter; 4],
}

/// The endpoints, for counting and rate limiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    CreateGroup = 0,
    CreateAsset = 1,
    GetAsset = 2,
    /// The optional library endpoints (listings 30/s upstream).
    Library = 3,
}

fn limiter(per_sec: u32) -> DefaultDirectRateLimiter {
    let n = NonZeroU32::new(per_sec.max(1)).expect("max(1) is non-zero");
    RateLimiter::direct(Quota::per_second(n))
}

impl SimState {
    pub(crate) fn new(config: SimConfig) -> SimState {
        let rng = match config.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_os_rng(),
        };
        let limiters = [limiter(config.group_rate), limiter(config.create_rate), limiter(config.get_rate), limiter(30)];
        // The simulator's own downloads: the same TLS set-up as every client
        // (no extra roots), loopback only.
        let http = crate::api::http_client_builder(&Default::default())
            .ok()
            // Test servers on loopback use throwaway certificates; the real
            // service downloads from public hosts with real ones.
            .and_then(|b| {
                b.timeout(Duration::from_secs(60)).no_proxy().tls_danger_accept_invalid_certs(true).build().ok()
            })
            .unwrap_or_default();
        SimState {
            config,
            bucket: super::bucket::BucketSim::default(),
            http,
            inner: Mutex::new(Inner {
                rng,
                groups: HashMap::new(),
                assets: HashMap::new(),
                created_keys: HashSet::new(),
                stats: SimStats::default(),
                detections: Vec::new(),
                next_id: 1,
                delays: Vec::new(),
                looking: HashMap::new(),
                looks: HashMap::new(),
                final_seen: HashSet::new(),
                script: Default::default(),
            }),
            limiters,
        }
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the counters torn in a
        // way that matters to a simulator; keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key the simulator accepts.
    pub fn api_key(&self) -> &str {
        &self.config.api_key
    }

    /// When the last asset created so far finishes processing: with the
    /// creation times, this bounds how fast any client could see them all.
    pub fn last_ready_at(&self) -> Option<Instant> {
        self.lock().assets.values().map(|a| a.ready_at).max()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> SimStats {
        let inner = self.lock();
        SimStats { detection: DetectionLatency::of(&inner.detections), ..inner.stats.clone() }
    }

    /// Creates a group directly (no HTTP), as the demo does; returns its id.
    pub fn add_group(&self, name: &str) -> String {
        let mut inner = self.lock();
        let id = group_id(&mut inner);
        inner.groups.insert(id.clone(), name.to_string());
        id
    }

    pub(crate) fn count_request(&self, action: Action) {
        let mut inner = self.lock();
        match action {
            Action::CreateGroup => inner.stats.create_group_requests += 1,
            Action::CreateAsset => inner.stats.create_asset_requests += 1,
            Action::GetAsset => inner.stats.get_asset_requests += 1,
            Action::Library => inner.stats.library_requests += 1,
        }
    }

    /// Records one CreateAsset request and whether it created an asset.
    pub(crate) fn log_create(&self, key: String, created: bool) {
        self.lock().stats.create_log.push((key, created));
    }

    pub(crate) fn count_unauthorized(&self) {
        self.lock().stats.unauthorized += 1;
    }

    /// `Err(wait)` when the action's rate limit is exceeded.
    pub(crate) fn check_rate(&self, action: Action) -> Result<(), Duration> {
        match self.limiters[action as usize].check() {
            Ok(()) => Ok(()),
            Err(not_until) => {
                self.lock().stats.rate_limited += 1;
                Err(not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default())))
            }
        }
    }

    /// Scripts the faults of the next CreateAsset requests, one entry each
    /// (`None`: answered normally); the rates apply again after the script.
    pub fn script_create_faults(&self, faults: impl IntoIterator<Item = Option<Fault>>) {
        self.lock().script.extend(faults);
    }

    /// Draws (and counts) the fault for one request.
    pub(crate) fn roll_fault(&self, action: Action) -> Option<Fault> {
        let mut inner = self.lock();
        let scripted = if action == Action::CreateAsset { inner.script.pop_front() } else { None };
        let fault = match scripted {
            Some(f) => f?,
            None => self.config.faults.roll(&mut inner.rng)?,
        };
        *inner.stats.faults.entry(format!("{fault:?}")).or_default() += 1;
        Some(fault)
    }

    /// A uniformly random number in `0..n`.
    pub(crate) fn random_index(&self, n: usize) -> usize {
        self.lock().rng.random_range(0..n.max(1))
    }

    pub(crate) fn has_group(&self, id: &str) -> bool {
        self.lock().groups.contains_key(id)
    }

    /// Creates an asset; returns `(asset id, task id)`. `ambiguous` marks a
    /// creation whose response a fault will hide; `download_failure` is why
    /// the download of its URL failed, when the simulator made one.
    pub(crate) fn create_asset(
        &self,
        group_id: &str,
        url: &str,
        asset_type: &str,
        name: &str,
        ambiguous: bool,
        download_failure: Option<(String, String)>,
    ) -> (String, String) {
        let cfg = &self.config;
        let mut inner = self.lock();
        let n = inner.next_id;
        inner.next_id += 1;
        let key = format!("{group_id}|{url}|{name}");
        if !inner.created_keys.insert(key.clone()) {
            inner.stats.duplicate_creations += 1;
        }
        if ambiguous {
            inner.stats.ambiguous_creations.push(key);
        }
        inner.stats.assets_created += 1;
        let delay = match cfg.delay_dist {
            DelayDist::Uniform => Duration::from_millis(inner.rng.random_range(cfg.min_delay_ms..=cfg.max_delay_ms)),
            DelayDist::Lognormal => {
                // Box–Muller: one standard normal from two uniforms.
                let (u1, u2): (f64, f64) = (inner.rng.random_range(f64::EPSILON..1.0), inner.rng.random());
                let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let ms = cfg.delay_median_ms as f64 * (cfg.delay_sigma * z).exp();
                Duration::from_secs_f64((ms / 1000.0).min(86_400.0))
            }
        };
        let delay = if asset_type == "Video" && cfg.video_max_delay_ms > 0 {
            Duration::from_millis(inner.rng.random_range(cfg.video_min_delay_ms..=cfg.video_max_delay_ms))
        } else {
            delay
        };
        let delay = if cfg.tail_share > 0.0 && inner.rng.random_bool(cfg.tail_share) {
            Duration::from_millis(cfg.tail_ms)
        } else {
            delay
        };
        inner.delays.push(delay);
        let random_fail = cfg.fail_rate > 0.0 && inner.rng.random_bool(cfg.fail_rate);
        let failure = download_failure.or_else(|| failure_for(url, asset_type, random_fail));
        let now = jiff::Timestamp::now();
        let id = format!("asset-{}-{n:06}", now.strftime("%Y%m%d%H%M%S"));
        let task = format!("task_{n:08}");
        let asset = SimAsset {
            id: id.clone(),
            name: name.to_string(),
            url: url.to_string(),
            asset_type: asset_type.to_string(),
            group_id: group_id.to_string(),
            created: now,
            created_at: Instant::now(),
            seq: n,
            ready_at: Instant::now() + delay,
            ready_time: now + delay,
            failure,
            seen_active: false,
        };
        inner.assets.insert(task.clone(), asset);
        (id, task)
    }

    /// The processing time of each asset created, in order of creation.
    pub fn processing_times(&self) -> Vec<Duration> {
        self.lock().delays.clone()
    }

    /// Whether the account's limits refuse one more creation now: the
    /// refusal to send, counted.
    pub(crate) fn limit_refusal(&self) -> Option<axum::response::Response> {
        let limits = &self.config.account;
        let mut inner = self.lock();
        let held = inner.assets.len() as u64;
        if limits.max_assets > 0 && held >= limits.max_assets {
            inner.stats.refused_quota += 1;
            return Some(super::limits::quota_refusal(held));
        }
        if limits.max_processing == 0 {
            return None;
        }
        let now = Instant::now();
        let processing = inner.assets.values().filter(|a| a.ready_at > now).count();
        if processing < limits.max_processing {
            return None;
        }
        inner.stats.refused_processing += 1;
        let rng = &mut inner.rng;
        Some(limits.limit_form.refusal(limits.max_processing, |n| rng.random_range(0..n)))
    }

    pub(crate) fn get_asset(&self, task_id: &str) -> Option<SimAsset> {
        let mut inner = self.lock();
        let asset = inner.assets.get(task_id).cloned();
        if asset.as_ref().is_some_and(|a| Instant::now() >= a.ready_at) {
            inner.final_seen.insert(task_id.to_string());
        }
        asset
    }

    /// Counts a GetAsset for `task_id` beginning (a look at a task already
    /// seen final, or one already being looked at, is counted as such);
    /// the guard counts its end.
    pub(crate) fn look_begins(&self, task_id: &str) -> LookGuard<'_> {
        let mut inner = self.lock();
        if inner.final_seen.contains(task_id) {
            inner.stats.looks_after_final += 1;
        }
        let looks = inner.looks.entry(task_id.to_string()).or_default();
        *looks += 1;
        let looks = *looks;
        inner.stats.most_looks = inner.stats.most_looks.max(looks);
        let under_way = inner.looking.entry(task_id.to_string()).or_default();
        *under_way += 1;
        if *under_way > 1 {
            inner.stats.overlapping_looks += 1;
        }
        LookGuard { sim: self, task: task_id.to_string() }
    }

    /// Deletes every asset (as a user would in the console), making room
    /// under the asset quota.
    pub fn delete_all_assets(&self) {
        self.lock().assets.clear();
    }

    /// Records that a GetAsset is answering Active for `task_id`: the first
    /// time, how long after its ready moment.
    pub(crate) fn answered_active(&self, task_id: &str) {
        let mut inner = self.lock();
        let Some(asset) = inner.assets.get_mut(task_id).filter(|a| !a.seen_active) else {
            return;
        };
        asset.seen_active = true;
        let late = Instant::now().saturating_duration_since(asset.ready_at).as_secs_f64() * 1000.0;
        inner.detections.push(late);
    }
}

/// A GetAsset under way; counts its end when dropped.
pub(crate) struct LookGuard<'a> {
    sim: &'a SimState,
    task: String,
}

impl Drop for LookGuard<'_> {
    fn drop(&mut self) {
        let mut inner = self.sim.lock();
        if let Some(n) = inner.looking.get_mut(&self.task) {
            *n -= 1;
            if *n == 0 {
                inner.looking.remove(&self.task);
            }
        }
    }
}

fn group_id(inner: &mut Inner) -> String {
    const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let suffix: String = (0..5).map(|_| ALPHA[inner.rng.random_range(0..ALPHA.len())] as char).collect();
    format!("group-{}-{suffix}", jiff::Timestamp::now().strftime("%Y%m%d%H%M%S"))
}

/// Why an asset fails processing, if it does: URLs containing `fail` fail to
/// download; an extension that contradicts the type is unsupported.
fn failure_for(url: &str, asset_type: &str, random_fail: bool) -> Option<(String, String)> {
    if url.contains("fail") {
        return Some(("InvalidParameter.DownloadFailed".into(), "the server could not download the URL".into()));
    }
    let ext = url.rsplit('/').next().and_then(|f| f.rsplit_once('.')).map(|(_, e)| e);
    if let Some(t) = ext.and_then(crate::api::AssetType::from_extension)
        && t.to_string() != asset_type
    {
        return Some((
            "InvalidParameter.FormatUnsupported".into(),
            format!("a .{} file is not a valid {asset_type}", ext.unwrap_or_default()),
        ));
    }
    if random_fail {
        let (code, msg) = match asset_type {
            "Video" => ("InvalidParameter.FpsTooLow", "video frame rate is below 24 fps"),
            "Audio" => ("InvalidParameter.DurationTooLong", "audio is longer than 15 s"),
            _ => ("InvalidParameter.ImageSizeInvalid", "image side is outside 300-6000 px"),
        };
        return Some((code.into(), msg.into()));
    }
    None
}
