//! The TOML config file: its shape, defaults, loading and checks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::ConfigError;
use super::preflight::PreflightConfig;
use super::preset::{Preset, validate_all};

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
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            base_url: "https://octopusx.ai".into(),
            api_key: None,
            api_key_env: None,
            connect_timeout_secs: 10.0,
            request_timeout_secs: 30.0,
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
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_creating: 30, create_per_sec: 30, get_per_sec: 100 }
    }
}

/// The `[polling]` table: how GetAsset is repeated.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default)]
pub struct Polling {
    /// Seconds from creation to the first look.
    pub first_secs: f64,
    /// Each interval is the previous one times this.
    pub backoff: f64,
    /// Longest interval between looks, in seconds.
    pub max_interval_secs: f64,
    /// Random spread of each interval, as a fraction (0.2 = ±20%).
    pub jitter: f64,
    /// Seconds of Processing after which a job is called stuck.
    pub stuck_after_secs: f64,
    /// Consecutive failed GetAsset calls tolerated before a job is stuck.
    pub retry_budget: u32,
}

impl Default for Polling {
    fn default() -> Self {
        Polling {
            first_secs: 1.5,
            backoff: 1.6,
            max_interval_secs: 15.0,
            jitter: 0.2,
            stuck_after_secs: 900.0,
            retry_budget: 10,
        }
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
    /// Saved presets.
    pub presets: Vec<Preset>,
    /// A PEM file of extra root certificates (relative to the config file's
    /// directory), trusted by every HTTPS client besides the system's roots.
    pub tls_ca_file: Option<PathBuf>,
    /// Checks of media before creation.
    pub preflight: PreflightConfig,
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

fn duration(name: &str, secs: f64, path: &Path) -> Result<Duration, ConfigError> {
    Duration::try_from_secs_f64(secs).ok().filter(|d| !d.is_zero()).ok_or_else(|| ConfigError::Invalid {
        path: path.into(),
        message: format!("{name} must be a positive number of seconds, not {secs}"),
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
            Some(t) => Config::parse(t, path)?,
            None => (Config::default(), Vec::new()),
        };
        if config.api.api_key.is_some() {
            check_private(path)?;
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
            warnings.push(format!("{}: unknown key `{key}` ignored", path.display()));
        })
        .map_err(parse_err)?;
        config.check(path)?;
        Ok((config, warnings))
    }

    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
        crate::api::check_base_url(&self.api.base_url).map_err(|e| invalid(format!("api.base_url: {e}")))?;
        self.connect_timeout(path)?;
        self.request_timeout(path)?;
        if self.limits.max_creating == 0 || self.limits.create_per_sec == 0 || self.limits.get_per_sec == 0 {
            return Err(invalid("limits: max_creating, create_per_sec and get_per_sec must be at least 1".into()));
        }
        let p = &self.polling;
        duration("polling.first_secs", p.first_secs, path)?;
        duration("polling.max_interval_secs", p.max_interval_secs, path)?;
        duration("polling.stuck_after_secs", p.stuck_after_secs, path)?;
        if !(1.0..=10.0).contains(&p.backoff) {
            return Err(invalid(format!("polling.backoff must be between 1 and 10, not {}", p.backoff)));
        }
        if !(0.0..1.0).contains(&p.jitter) {
            return Err(invalid(format!("polling.jitter must be at least 0 and below 1, not {}", p.jitter)));
        }
        self.preflight.validate().map_err(invalid)?;
        validate_all(&self.presets).map_err(invalid)
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

    /// The API key: `SEEDANCE_API_KEY` first, then the variable named by
    /// `api_key_env`, then `api_key` in the file.
    pub fn api_key(&self, path: &Path, env: impl Fn(&str) -> Option<String>) -> Result<SecretString, ConfigError> {
        let from_env =
            |name: &str| env(name).filter(|v| !v.trim().is_empty()).map(|v| SecretString::from(v.trim().to_string()));
        from_env("SEEDANCE_API_KEY")
            .or_else(|| self.api.api_key_env.as_deref().and_then(from_env))
            .or_else(|| self.api.api_key.clone())
            .ok_or_else(|| ConfigError::NoKey { path: path.into(), env_hint: self.api.api_key_env.clone() })
    }

    /// The preset marked default, else the first.
    pub fn default_preset(&self) -> Option<&Preset> {
        self.presets.iter().find(|p| p.default).or(self.presets.first())
    }

    /// The preset of this name (case-insensitive).
    pub fn preset(&self, name: &str) -> Option<&Preset> {
        self.presets.iter().find(|p| p.name.eq_ignore_ascii_case(name.trim()))
    }
}

/// Refuses a file that group or others may read, as ssh does for keys.
fn check_private(path: &Path) -> Result<(), ConfigError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|source| ConfigError::Io { path: path.into(), source })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::Insecure { path: path.into(), mode });
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
