//! Options shared by both front ends (the dashboard and the CLI), below
//! both so that neither imports the other.

use std::path::PathBuf;

use clap::Args;

use crate::config::{ConfigError, Paths, Source};

/// Environment variable selecting the profile (overridden by `--profile`).
pub const PROFILE_ENV: &str = "SEEDANCE_PROFILE";

/// Options for every command.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Config file; it must exist when given [env: SEEDANCE_ASSETS_CONFIG; default: the platform config dir]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Directory of the job store, groups and logs [env: SEEDANCE_ASSETS_DATA_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Account profile: a `[profiles.NAME]` table of the config [env: SEEDANCE_PROFILE; default: `default_profile`, else `[api]`]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Every command on a built-in simulator with a demo key, group and
    /// bucket (no network, no key); demo data and config live in
    /// DATA_DIR/demo, reset when a demo command starts the engine.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Dashboard: capture the mouse (wheel scrolls, click selects); off by default so terminal selection works.
    #[arg(long)]
    pub mouse: bool,
}

impl GlobalArgs {
    /// The profile asked for, by `--profile` or `SEEDANCE_PROFILE`, with
    /// where it came from.
    pub fn wanted_profile(&self) -> Option<(String, Source)> {
        match &self.profile {
            Some(p) => Some((p.clone(), Source::Flag)),
            None => std::env::var(PROFILE_ENV)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (v, Source::Env(PROFILE_ENV.into()))),
        }
    }

    /// Where the config file's location came from.
    pub fn config_source(&self) -> Source {
        source(self.config.is_some(), crate::config::CONFIG_ENV)
    }

    /// Where the data directory's location came from.
    pub fn data_dir_source(&self) -> Source {
        source(self.data_dir.is_some(), crate::config::DATA_DIR_ENV)
    }

    /// File locations from these options and the environment (the real
    /// ones, also under `--demo`; see `crate::setup::demo` for the demo's).
    pub fn paths(&self) -> Result<Paths, PathsError> {
        let paths = self.resolve_paths()?;
        if let Some(given) = &self.config
            && !given.exists()
        {
            return Err(PathsError::NoConfigFile { path: given.clone() });
        }
        Ok(paths)
    }

    /// File locations, without checking that a `--config` file exists (for
    /// `config init`, which creates it).
    pub fn resolve_paths(&self) -> Result<Paths, ConfigError> {
        Paths::resolve(self.config.as_deref(), self.data_dir.as_deref(), |k| std::env::var(k).ok())
    }
}

/// Why the file locations cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    /// `--config` names a file that does not exist.
    #[error(
        "config file {path} does not exist (leave out --config for the default location, or create it with `seedance-assets config init --config {path}`)"
    )]
    NoConfigFile {
        /// The file given.
        path: PathBuf,
    },
    /// No home directory, or a bad environment variable.
    #[error(transparent)]
    Resolve(#[from] ConfigError),
}

fn source(flag: bool, env: &str) -> Source {
    if flag {
        Source::Flag
    } else if std::env::var_os(env).is_some() {
        Source::Env(env.into())
    } else {
        Source::Default
    }
}
