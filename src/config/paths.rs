//! Where the config file, the job store and the logs live.

use std::path::{Path, PathBuf};

use directories::ProjectDirs;

use super::ConfigError;

/// Environment variable naming the config file (overridden by `--config`).
pub const CONFIG_ENV: &str = "SEEDANCE_ASSETS_CONFIG";
/// Environment variable naming the data directory (overridden by `--data-dir`).
pub const DATA_DIR_ENV: &str = "SEEDANCE_ASSETS_DATA_DIR";

/// The job store's file name in the data dir.
pub const STORE_FILE: &str = "jobs.db";
/// The old JSON-lines journal's file name in the data dir.
pub const LEGACY_JOURNAL_FILE: &str = "journal.jsonl";
/// The remembered groups' file name in the data dir.
pub const GROUPS_FILE: &str = "groups.json";

/// Resolved file locations.
#[derive(Debug, Clone, PartialEq)]
pub struct Paths {
    /// The TOML config file (it need not exist).
    pub config_file: PathBuf,
    /// The job store, remembered groups and learned processing times.
    pub data_dir: PathBuf,
    /// The log file.
    pub log_dir: PathBuf,
}

impl Paths {
    /// Resolves locations: explicit arguments first, then the environment
    /// variables, then the platform's directories (XDG on Linux).
    pub fn resolve(
        config: Option<&Path>,
        data_dir: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Paths, ConfigError> {
        let dirs = ProjectDirs::from("ai", "octopusx", "seedance-assets");
        let config_file = match config.map(Path::to_path_buf).or_else(|| env(CONFIG_ENV).map(PathBuf::from)) {
            Some(p) => p,
            None => dirs.as_ref().ok_or(ConfigError::NoHome)?.config_dir().join("config.toml"),
        };
        let explicit_data = data_dir.map(Path::to_path_buf).or_else(|| env(DATA_DIR_ENV).map(PathBuf::from));
        let (data_dir, log_dir) = match explicit_data {
            Some(d) => (d.clone(), d.join("logs")),
            None => {
                let dirs = dirs.as_ref().ok_or(ConfigError::NoHome)?;
                let state = dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir());
                (dirs.data_local_dir().to_path_buf(), state.join("logs"))
            }
        };
        Ok(Paths { config_file, data_dir, log_dir })
    }

    /// The job store (SQLite; see [`crate::store`]).
    pub fn store(&self) -> PathBuf {
        self.data_dir.join(STORE_FILE)
    }

    /// The JSON-lines journal of releases before the store, migrated into
    /// it at the first start (and kept as `journal.jsonl.bak`).
    pub fn legacy_journal(&self) -> PathBuf {
        self.data_dir.join(LEGACY_JOURNAL_FILE)
    }

    /// The file of groups created from this program.
    pub fn groups(&self) -> PathBuf {
        self.data_dir.join(GROUPS_FILE)
    }

    /// The processing times learned for polling.
    pub fn polling(&self) -> PathBuf {
        self.data_dir.join("polling.json")
    }

    /// What each profile's server was found to offer of the optional endpoints.
    pub fn capabilities(&self) -> PathBuf {
        self.data_dir.join("capabilities.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_beats_env_beats_default() {
        let env = |k: &str| match k {
            CONFIG_ENV => Some("/env/config.toml".to_string()),
            DATA_DIR_ENV => Some("/env/data".to_string()),
            _ => None,
        };
        let p = Paths::resolve(None, None, env).unwrap();
        assert_eq!(p.config_file, PathBuf::from("/env/config.toml"));
        assert_eq!(p.store(), PathBuf::from("/env/data/jobs.db"));
        assert_eq!(p.polling(), PathBuf::from("/env/data/polling.json"));
        let p = Paths::resolve(Some(Path::new("/arg.toml")), Some(Path::new("/argdata")), env).unwrap();
        assert_eq!(p.config_file, PathBuf::from("/arg.toml"));
        assert_eq!(p.data_dir, PathBuf::from("/argdata"));
        assert_eq!(p.log_dir, PathBuf::from("/argdata/logs"));
    }
}
