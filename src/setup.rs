//! Start-up shared by the dashboard and the CLI: paths, config, logging,
//! the API client (or the demo simulator), and the engine.

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;
use tracing_appender::non_blocking::WorkerGuard;

use crate::api::{Client, ClientOptions};
use crate::cli::GlobalArgs;
use crate::config::{Config, LoadedConfig, Paths};
use crate::engine::{EngineHandle, EngineOptions, Update};
use crate::sim::{Sim, SimConfig};

/// The key the demo simulator accepts.
pub const DEMO_KEY: &str = "demo-key";

/// The demo simulator: realistic but quick processing, one in ten fails.
pub fn demo_sim_config() -> SimConfig {
    SimConfig {
        api_key: DEMO_KEY.into(),
        min_delay_ms: 2000,
        max_delay_ms: 8000,
        fail_rate: 0.1,
        ..SimConfig::default()
    }
}

/// Everything resolved for one run.
pub struct Setup {
    /// File locations (the demo's, under `--demo`).
    pub paths: Paths,
    /// The config as loaded.
    pub loaded: LoadedConfig,
    /// The API client.
    pub client: Client,
    /// The in-process simulator, under `--demo`.
    pub sim: Option<Sim>,
    /// What the header shows: `simulator` or the API host.
    pub endpoint: String,
    _log: Option<WorkerGuard>,
}

impl Setup {
    /// Resolves paths, reads the config, starts logging and builds the client.
    pub async fn new(global: &GlobalArgs) -> Result<Setup, String> {
        let env = |k: &str| std::env::var(k).ok();
        let mut paths = global.paths()?;
        let mut sim = None;
        if global.demo {
            let dir = paths.data_dir.join("demo");
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let s =
                Sim::start_local(demo_sim_config()).await.map_err(|e| format!("cannot start the simulator: {e}"))?;
            let group = s.state().add_group("demo");
            let config_text = format!(
                "# Demo configuration (reset at each --demo start).\n[api]\nbase_url = \"{}\"\n\n[[presets]]\nname = \"demo\"\ngroup_id = \"{group}\"\nasset_type = \"infer\"\nname_template = \"{{stem}}\"\ndescription = \"the simulator's demo group\"\ndefault = true\n",
                s.base_url()
            );
            paths = Paths { config_file: dir.join("config.toml"), log_dir: dir.join("logs"), data_dir: dir };
            crate::config::atomic_write(&paths.config_file, config_text.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", paths.config_file.display()))?;
            sim = Some(s);
        }
        let loaded = Config::load(&paths.config_file).map_err(|e| e.to_string())?;
        let log = crate::logging::init(&paths.log_dir).ok();
        let key = if global.demo {
            secrecy::SecretString::from(DEMO_KEY.to_string())
        } else {
            loaded.config.api_key(&loaded.path, env).map_err(|e| {
                let mut msg = e.to_string();
                for w in &loaded.warnings {
                    msg.push_str(&format!("\nwarning: {w}"));
                }
                msg
            })?
        };
        let cfg = &loaded.config;
        let client = Client::new(ClientOptions {
            base_url: cfg.api.base_url.clone(),
            api_key: key,
            connect_timeout: cfg.connect_timeout(&loaded.path).map_err(|e| e.to_string())?,
            request_timeout: cfg.request_timeout(&loaded.path).map_err(|e| e.to_string())?,
            tls: cfg.tls_options(&loaded.path),
        })?;
        let endpoint = match &sim {
            Some(_) => "simulator".to_string(),
            None => client.base_url().host_str().unwrap_or("?").to_string(),
        };
        tracing::info!("seedance-assets {} starting against {endpoint}", env!("CARGO_PKG_VERSION"));
        Ok(Setup { paths, loaded, client, sim, endpoint, _log: log })
    }

    /// The engine settings from the config.
    pub fn engine_options(&self) -> EngineOptions {
        EngineOptions {
            limits: self.loaded.config.limits.clone(),
            polling: self.loaded.config.polling.clone(),
            seed: None,
        }
    }

    /// Starts the engine on this setup's journal.
    pub fn start_engine(&self) -> Result<(EngineHandle, UnboundedReceiver<Update>, JoinHandle<()>), String> {
        crate::engine::start(self.client.clone(), self.engine_options(), &self.paths.journal(), &self.paths.groups())
    }
}
