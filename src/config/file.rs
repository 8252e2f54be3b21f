//! The TOML config file: its shape, defaults, loading and checks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::ConfigError;
use super::preset::{Preset, validate_all};
use super::profile::{DEFAULT_PROFILE, Profiles};
use crate::preflight::PreflightConfig;
use crate::storage::StorageConfig;

/// The `[api]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ApiConfig {
    /// Where the API lives.
    pub base_url: String,
    /// The key itself (the file must then be mode 0600). Prefer `api_key_env`.
    pub api_key: Option<SecretString>,
    /// The name of an environment variable holding the key.
    pub api_key_env: Option<String>,
    /// Seconds allowed to connect.
    pub connect_timeout_secs: f64,
    /// Seconds allowed for a whole request.
    pub request_timeout_secs: f64,
    /// Treat a 503 answer to CreateAsset as "not processed" and retry it.
    /// Only for a gateway known to answer 503 before processing; off by
    /// default, because a 503 after processing would make a duplicate.
    pub retry_503: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            base_url: "https://octopusx.ai".into(),
            api_key: None,
            api_key_env: None,
            connect_timeout_secs: 10.0,
            request_timeout_secs: 30.0,
            retry_503: false,
        }
    }
}

/// The `[limits]` table: concurrency and request rates.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// CreateAsset requests in flight at once.
    pub max_creating: usize,
    /// CreateAsset (and CreateAssetGroup) requests per second.
    pub create_per_sec: u32,
    /// GetAsset requests per second.
    pub get_per_sec: u32,
    /// Creations processing at once, per profile, at most; 0: learned from
    /// the server's refusals (see README, "The account's limits").
    pub max_processing: usize,
    /// Assets the account may hold (gateways state 10,000): an import that
    /// would pass it is warned about before anything is paid.
    pub max_assets: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_creating: 30, create_per_sec: 30, get_per_sec: 100, max_processing: 0, max_assets: 10_000 }
    }
}

/// The `[polling]` table: how GetAsset is repeated.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Polling {
    /// Seconds from creation to the first look, at the earliest (exactly,
    /// with `adaptive = false`).
    pub first_secs: f64,
    /// With `adaptive = false`, each interval is the previous one times this.
    pub backoff: f64,
    /// Longest wait before a look (the first or the next), in seconds; with
    /// `adaptive`, an asset older than 99% of its kind waits up to 0.4 of
    /// its age instead.
    pub max_interval_secs: f64,
    /// Random spread: of learned looks, ±`jitter`/2 seconds; of retries and
    /// of looks with `adaptive = false`, a fraction of the interval (0.2 = ±20%).
    pub jitter: f64,
    /// Seconds of Processing after which a job is called stuck.
    pub stuck_after_secs: f64,
    /// Consecutive failed GetAsset calls tolerated before a job is stuck.
    pub retry_budget: u32,
    /// Plan looks from the processing times learned per asset type and
    /// profile (true), or at `first_secs` growing by `backoff` (false).
    pub adaptive: bool,
}

impl Default for Polling {
    fn default() -> Self {
        Polling {
            first_secs: 1.5,
            backoff: 1.6,
            max_interval_secs: 8.0,
            jitter: 0.2,
            stuck_after_secs: 900.0,
            retry_budget: 10,
            adaptive: true,
        }
    }
}

/// The `[reconcile]` table: settling Uncertain jobs from the server's
/// listing, where the server has one.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Reconcile {
    /// Settle Uncertain jobs by themselves while the engine runs (a pass
    /// every `every_secs`); `reconcile` and the dashboard key work either way.
    pub auto: bool,
    /// Seconds between automatic passes while some job is unsettled.
    pub every_secs: f64,
    /// Seconds after a creation was sent before a listing without it proves
    /// it was not made (listings lag creations by "some seconds").
    pub settle_secs: f64,
    /// Seconds either side of the sending in which a listed asset's
    /// creation time may fall to be taken for it (clocks differ).
    pub window_secs: f64,
}

impl Default for Reconcile {
    fn default() -> Self {
        Reconcile { auto: true, every_secs: 20.0, settle_secs: 60.0, window_secs: 120.0 }
    }
}

/// The whole config file. Every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Endpoint and credentials.
    pub api: ApiConfig,
    /// Concurrency and rates.
    pub limits: Limits,
    /// Polling schedule.
    pub polling: Polling,
    /// Settling Uncertain jobs from the server's listing.
    pub reconcile: Reconcile,
    /// Saved presets.
    pub presets: Vec<Preset>,
    /// The profile used when neither `--profile` nor `SEEDANCE_PROFILE` names one.
    pub default_profile: Option<String>,
    /// Other accounts or endpoints: `[profiles.NAME]`.
    pub profiles: Profiles,
    /// The user's S3-compatible bucket for local files (`None`: local files
    /// cannot be imported).
    pub storage: Option<StorageConfig>,
    /// Dashboard key overrides: command name → keys (`retry = ["r", "ctrl-r"]`).
    pub keys: std::collections::BTreeMap<String, Vec<String>>,
    /// A PEM file of extra root certificates (relative to the config file's
    /// directory), trusted by every HTTPS client besides the system's roots.
    pub tls_ca_file: Option<PathBuf>,
    /// Checks of media before creation.
    pub preflight: PreflightConfig,
    /// Making files that break the limits pass (`import --conform`).
    pub conform: crate::conform::ConformConfig,
}

/// A config as loaded, with where it came from.
#[derive(Clone)]
pub struct LoadedConfig {
    /// The settings.
    pub config: Config,
    /// The file (which may not exist).
    pub path: PathBuf,
    /// The file's text when loaded (`None` if it did not exist), to detect
    /// changes on disk before saving.
    pub text: Option<String>,
    /// Keys that were not understood and were ignored.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for LoadedConfig {
    /// Leaves out the file's text: it may hold the API key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedConfig")
            .field("config", &self.config)
            .field("path", &self.path)
            .field("text", &self.text.as_ref().map(|t| format!("<{} bytes>", t.len())))
            .field("warnings", &self.warnings)
            .finish()
    }
}

/// The documented range of every numeric setting (README and
/// config.example.toml list the same): `(key, low, high)`.
pub const RANGES: [(&str, f64, f64); 16] = [
    ("api.connect_timeout_secs", 0.1, 300.0),
    ("api.request_timeout_secs", 0.5, 600.0),
    ("limits.max_creating", 1.0, 1000.0),
    ("limits.create_per_sec", 1.0, 1000.0),
    ("limits.get_per_sec", 1.0, 10_000.0),
    ("limits.max_processing", 0.0, 100_000.0),
    ("limits.max_assets", 1.0, 100_000_000.0),
    ("polling.first_secs", 0.1, 600.0),
    ("polling.backoff", 1.0, 10.0),
    ("polling.max_interval_secs", 0.5, 3600.0),
    ("polling.jitter", 0.0, 0.9),
    ("polling.stuck_after_secs", 10.0, 604_800.0),
    ("polling.retry_budget", 0.0, 1000.0),
    ("reconcile.every_secs", 1.0, 86_400.0),
    ("reconcile.settle_secs", 1.0, 86_400.0),
    ("reconcile.window_secs", 1.0, 86_400.0),
];

/// Checks `value` against the documented range of `name`.
fn in_range(name: &str, value: f64, path: &Path) -> Result<(), ConfigError> {
    let (_, lo, hi) = RANGES.iter().find(|(n, ..)| *n == name).copied().unwrap_or((name, f64::MIN, f64::MAX));
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            path: path.into(),
            message: format!("{name} must be between {lo} and {hi}, not {value}"),
        })
    }
}

fn duration(name: &str, secs: f64, path: &Path) -> Result<Duration, ConfigError> {
    in_range(name, secs, path)?;
    Duration::try_from_secs_f64(secs).map_err(|_| ConfigError::Invalid {
        path: path.into(),
        message: format!("{name} must be a number of seconds, not {secs}"),
    })
}

impl Config {
    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Io { path: path.into(), source });
            }
        };
        let (config, warnings) = match &text {
            Some(t) => Config::parse(t.strip_prefix('\u{FEFF}').unwrap_or(t), path)?,
            None => (Config::default(), Vec::new()),
        };
        if config.holds_a_key() {
            check_private(path, "an API key", "named by api_key_env")?;
        }
        if config.storage.as_ref().is_some_and(StorageConfig::has_file_secrets) {
            check_private(path, "storage credentials", "such as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")?;
        }
        Ok(LoadedConfig { config, path: path.into(), text, warnings })
    }

    /// Parses and checks TOML text; `path` is for messages only. Returns the
    /// config and warnings for unknown keys.
    pub fn parse(text: &str, path: &Path) -> Result<(Config, Vec<String>), ConfigError> {
        let parse_err = |e: toml::de::Error| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            let message = e.message().trim().to_string();
            let message = match e.span().and_then(|s| key_at(text, s.start)) {
                Some(key) => format!("`{key}`: {message}"),
                None => message,
            };
            ConfigError::Parse { path: path.into(), line, column, message }
        };
        let de = toml::Deserializer::parse(text).map_err(parse_err)?;
        let mut warnings = Vec::new();
        let config: Config = serde_ignored::deserialize(de, |key| {
            warnings.push(format!("{}: {}", path.display(), super::typos::describe(text, &key.to_string())));
        })
        .map_err(parse_err)?;
        // A value found missing or wrong may be one typed under another
        // name (`bukcet`): the error names the unknown keys too.
        config.check(path).map_err(|e| match warnings.is_empty() {
            true => e,
            false => ConfigError::WithUnknownKeys { source: Box::new(e), unknown: warnings.clone() },
        })?;
        Ok((config, warnings))
    }

    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        crate::api::check_base_url(&self.api.base_url).map_err(|source| ConfigError::BaseUrl {
            path: path.into(),
            key: "api.base_url".into(),
            source,
        })?;
        self.connect_timeout(path)?;
        self.request_timeout(path)?;
        let l = &self.limits;
        in_range("limits.max_creating", l.max_creating as f64, path)?;
        in_range("limits.create_per_sec", f64::from(l.create_per_sec), path)?;
        in_range("limits.get_per_sec", f64::from(l.get_per_sec), path)?;
        in_range("limits.max_processing", l.max_processing as f64, path)?;
        let p = &self.polling;
        in_range("polling.first_secs", p.first_secs, path)?;
        in_range("polling.max_interval_secs", p.max_interval_secs, path)?;
        in_range("polling.stuck_after_secs", p.stuck_after_secs, path)?;
        in_range("polling.backoff", p.backoff, path)?;
        in_range("polling.jitter", p.jitter, path)?;
        in_range("polling.retry_budget", f64::from(p.retry_budget), path)?;
        in_range("limits.max_assets", l.max_assets as f64, path)?;
        let r = &self.reconcile;
        in_range("reconcile.every_secs", r.every_secs, path)?;
        in_range("reconcile.settle_secs", r.settle_secs, path)?;
        in_range("reconcile.window_secs", r.window_secs, path)?;
        if let Some(storage) = &self.storage {
            storage.check().map_err(|source| ConfigError::Storage { path: path.into(), source })?;
        }
        self.preflight.validate().map_err(|source| ConfigError::Preflight { path: path.into(), source })?;
        validate_all(&self.presets).map_err(|source| ConfigError::Presets { path: path.into(), source })?;
        self.check_profiles(path)
    }

    /// The TLS settings: `tls_ca_file`, relative to the config file's directory.
    pub fn tls_options(&self, path: &Path) -> crate::api::TlsOptions {
        let ca_file = self.tls_ca_file.as_ref().map(|f| match path.parent() {
            Some(dir) if f.is_relative() => dir.join(f),
            _ => f.clone(),
        });
        crate::api::TlsOptions { ca_file }
    }

    /// `api.connect_timeout_secs` as a duration.
    pub fn connect_timeout(&self, path: &Path) -> Result<Duration, ConfigError> {
        duration("api.connect_timeout_secs", self.api.connect_timeout_secs, path)
    }

    /// `api.request_timeout_secs` as a duration.
    pub fn request_timeout(&self, path: &Path) -> Result<Duration, ConfigError> {
        duration("api.request_timeout_secs", self.api.request_timeout_secs, path)
    }

    /// The default profile's API key: `SEEDANCE_API_KEY` first, then the
    /// variable named by `api_key_env`, then `api_key` in the file.
    pub fn api_key(&self, path: &Path, env: impl Fn(&str) -> Option<String>) -> Result<SecretString, ConfigError> {
        let profile = self.profile(DEFAULT_PROFILE, path)?;
        self.profile_key(&profile, path, env).map(|(key, _)| key)
    }

    /// Whether imports with `preset` are conformed when the run does not
    /// say: the preset's `conform`, else `[conform] enabled`.
    pub fn conforms(&self, preset: Option<&Preset>) -> bool {
        preset.is_some_and(|p| p.conform) || self.conform.enabled
    }

    /// The preset marked `default = true`, if one is: the only preset that
    /// applies without being named (by `import`, and in the dashboard at
    /// start). Being first in the file makes none the default.
    pub fn default_preset(&self) -> Option<&Preset> {
        self.presets.iter().find(|p| p.default)
    }

    /// The preset of this name (case-insensitive).
    pub fn preset(&self, name: &str) -> Option<&Preset> {
        self.presets.iter().find(|p| p.name.eq_ignore_ascii_case(name.trim()))
    }
}

/// Refuses a file that group or others may read, as ssh does for keys.
fn check_private(path: &Path, secret: &'static str, hint: &'static str) -> Result<(), ConfigError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|source| ConfigError::Io { path: path.into(), source })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::Insecure { path: path.into(), mode, secret, hint });
        }
    }
    Ok(())
}

/// The dotted key whose value is at byte `offset` (`table.key`), when the
/// offset is on a `key = value` line after the `=`.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[line_start..].find('\n').map_or(text.len(), |i| line_start + i);
    let line = &text[line_start..line_end];
    let eq = line.find('=')?;
    if offset < line_start + eq {
        return None;
    }
    let key = line[..eq].trim().trim_matches('"');
    if key.is_empty() || key.starts_with('#') || key.starts_with('[') {
        return None;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_start_matches('[').split(']').next().unwrap_or("").trim().to_string());
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_string(),
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
