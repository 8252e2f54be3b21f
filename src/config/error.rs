//! What can go wrong reading the configuration.

use std::path::PathBuf;

use crate::text::excerpt;

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
    /// A check failed in a file that also has unknown keys (a typo may be
    /// why a key is missing): the error, then each unknown key.
    #[error("{source}\n{}", unknown.join("\n"))]
    WithUnknownKeys {
        /// The check that failed.
        source: Box<ConfigError>,
        /// `FILE: line N: unknown key … (did you mean …?)`, one each.
        unknown: Vec<String>,
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
    /// The `[storage]` table is not usable.
    #[error("{path}: {source}")]
    Storage {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: crate::storage::StorageConfigError,
    },
    /// The `[preflight]` table is out of range.
    #[error("{path}: {source}")]
    Preflight {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: crate::preflight::PreflightConfigError,
    },
    /// The `[[presets]]` are invalid.
    #[error("{path}: {source}")]
    Presets {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: PresetsError,
    },
    /// A `base_url` is not usable.
    #[error("{path}: {key}: {source}")]
    BaseUrl {
        /// The file.
        path: PathBuf,
        /// `api.base_url` or `profiles.NAME.base_url`.
        key: String,
        /// What is wrong.
        source: crate::api::BaseUrlError,
    },
    /// No usable directories for data or state.
    #[error("cannot find a home directory for data and logs; set {}", super::DATA_DIR_ENV)]
    NoHome,
}

/// Why a name template cannot be parsed (positions are 1-based characters
/// counted in bytes of the template, as the user typed it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `}` that closes nothing.
    #[error("unmatched `}}` at position {position}; write `}}}}` for a literal brace")]
    UnmatchedClose {
        /// Where the brace is.
        position: usize,
    },
    /// A `{` without its `}`.
    #[error("unclosed `{{` at position {position}")]
    Unclosed {
        /// Where the brace is.
        position: usize,
    },
    /// Nothing at all.
    #[error("the name template is empty")]
    Empty,
    /// A placeholder that is not one of the known ones.
    #[error(
        "unknown placeholder `{{{}}}`; use {{stem}}, {{ext}}, {{n}}, {{n:3}}, {{date}} or {{type}}",
        excerpt(name, 30)
    )]
    UnknownPlaceholder {
        /// The text between the braces, trimmed.
        name: String,
    },
}

/// What is wrong with one preset, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresetError {
    /// The name is blank.
    #[error("name: a preset needs a name")]
    NoName,
    /// The name is too long or holds control characters.
    #[error("name: at most 64 printable characters")]
    BadName,
    /// No group id.
    #[error("group: preset `{name}` has no group id")]
    NoGroup {
        /// The preset's name, trimmed.
        name: String,
    },
    /// The group id holds spaces or control characters.
    #[error("group: `{}` contains spaces or control characters", excerpt(group_id, 40))]
    BadGroup {
        /// The group id as given.
        group_id: String,
    },
    /// The name template does not parse.
    #[error("name template: {0}")]
    Template(#[source] TemplateError),
    /// The description is too long.
    #[error("description: at most 300 characters")]
    LongDescription,
}

/// What is wrong with a list of presets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresetsError {
    /// One preset is invalid.
    #[error("preset `{}`: {source}", excerpt(name, 40))]
    Preset {
        /// The preset's name as given.
        name: String,
        /// What is wrong with it.
        source: PresetError,
    },
    /// Two presets share a name (case-insensitively).
    #[error("preset name `{name}` is used twice")]
    Duplicate {
        /// The second preset's name, trimmed.
        name: String,
    },
    /// More than one preset has `default = true`.
    #[error("more than one preset is marked default = true")]
    TwoDefaults,
}
