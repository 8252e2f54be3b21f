//! Configuration: file locations, the TOML config file, presets and name
//! templates, and saving presets back without losing the user's comments.

mod error;
mod file;
mod paths;
mod preflight;
mod preset;
mod save;
mod template;

pub use error::ConfigError;
pub use file::{ApiConfig, Config, Limits, LoadedConfig, Polling};
pub use paths::{CONFIG_ENV, DATA_DIR_ENV, Paths};
pub use preflight::{PreflightConfig, PreflightMode, Unprobeable};
pub use preset::{Preset, TypeChoice};
pub use save::{PresetChange, SaveError, atomic_write, save_presets, save_presets_with};
pub use template::{NameContext, Template};
