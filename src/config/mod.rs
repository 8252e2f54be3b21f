//! Configuration: file locations, the TOML config file, presets and name
//! templates, and saving presets back without losing the user's comments.

mod error;
mod file;
mod paths;
mod preset;
mod profile;
mod save;
mod source;
mod template;
mod typos;

#[cfg(test)]
mod preflight_tests;

pub use crate::preflight::{PreflightConfig, PreflightConfigError, PreflightMode, Unprobeable};
pub use crate::storage::{
    ACCESS_KEY_ENV, MAX_URL_EXPIRY_SECS, SECRET_KEY_ENV, SESSION_TOKEN_ENV, StorageConfig, StorageConfigError,
    StorageCredentials,
};
pub use error::{ConfigError, PresetError, PresetsError, TemplateError};
pub use file::{ApiConfig, Config, Limits, LoadedConfig, Polling, RANGES, Reconcile};
pub use paths::{CONFIG_ENV, DATA_DIR_ENV, GROUPS_FILE, LEGACY_JOURNAL_FILE, Paths, STORE_FILE};
pub use preset::{Preset, TypeChoice};
pub use profile::{API_KEY_ENV, BASE_URL_ENV, DEFAULT_PROFILE, Profile, ProfileConfig, ProfileLimits, is_env_name};
pub use save::{
    InvalidChange, PresetChange, SaveError, atomic_write, atomic_write_stream, save_presets, save_presets_with,
};
pub use source::Source;
pub use template::{NameContext, Template};
