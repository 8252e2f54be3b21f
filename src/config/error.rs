//! What can go wrong reading the configuration.

use std::path::PathBuf;

/// A configuration problem, with the file and, for syntax and type errors,
/// the line and column.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or a value has the wrong type.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, naming the key where known.
        message: String,
    },
    /// The file holds an API key or storage credentials but others may read it.
    #[error(
        "{path} holds {secret} but is readable by others (mode {mode:o}); run `chmod 600 {path}` (or move it to an environment variable {hint})"
    )]
    Insecure {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// What secret it holds.
        secret: &'static str,
        /// Where that secret could live instead.
        hint: &'static str,
    },
    /// A value parses but makes no sense.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No API key anywhere.
    #[error(
        "no API key for profile `{profile}`: {} in {path}{} (or try --demo, which needs none)",
        if profile == "default" { "set SEEDANCE_API_KEY, or api_key_env / api_key under [api]".to_string() } else { format!("set api_key_env / api_key under [profiles.{profile}]") },
        env_hint.as_ref().map(|v| format!("; api_key_env names `{v}`, which is not set or empty")).unwrap_or_default()
    )]
    NoKey {
        /// The config file consulted.
        path: PathBuf,
        /// The profile.
        profile: String,
        /// The variable `api_key_env` names, when it was empty.
        env_hint: Option<String>,
    },
    /// `--profile` or `default_profile` names no profile.
    #[error("no profile named `{name}` in {path}; profiles: {known}")]
    NoProfile {
        /// The config file consulted.
        path: PathBuf,
        /// The name asked for (sanitized).
        name: String,
        /// The names that exist.
        known: String,
    },
    /// `[storage]` is configured but a credential is missing.
    #[error(
        "no storage credentials: set {missing} (or access_key_id / secret_access_key under [storage] in {path}, mode 0600)"
    )]
    NoStorageCredentials {
        /// The config file consulted.
        path: PathBuf,
        /// The environment variable that would have supplied the missing value.
        missing: String,
    },
    /// No usable directories for data or state.
    #[error("cannot find a home directory for data and logs; set {}", super::DATA_DIR_ENV)]
    NoHome,
}
