//! Start-up shared by the dashboard and the CLI: paths, config, profile,
//! logging, the API client (or the demo simulator), and the engine.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use crate::api::{Client, ClientOptions, TlsError};
use crate::config::{Config, ConfigError, LoadedConfig, Paths, Profile, Source};
use crate::demo::{DEMO_KEY, DemoLock};
use crate::engine::{Clients, EngineHandle, EngineOptions, NewJob, Update};
use crate::exit::Failure;
use crate::options::GlobalArgs;
use crate::sim::Sim;
use crate::storage::{Storage, StorageError};

/// Why local files cannot be imported in this setup.
#[derive(Debug, thiserror::Error)]
pub enum StorageSetupError {
    /// The config has no `[storage]` table.
    #[error("local files need a bucket: add a [storage] table to {config} (see config.example.toml)")]
    NotConfigured {
        /// The config file.
        config: PathBuf,
    },
    /// No credentials, or bad timeouts.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The TLS roots could not be loaded.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// reqwest refused the settings.
    #[error("cannot build the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
    /// The bucket cannot be used as configured.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// No credentials for the bucket.
    #[error(transparent)]
    Settings(#[from] crate::storage::StorageConfigError),
}

/// Paths, config and profile: what read-only commands need (no logging,
/// no client, no simulator).
#[derive(Debug, Clone)]
pub struct Context {
    /// File locations (the demo's, under `--demo`).
    pub paths: Paths,
    /// The config as loaded.
    pub loaded: LoadedConfig,
    /// The selected profile, inherited values filled in.
    pub profile: Profile,
    /// Where the profile's name came from.
    pub profile_source: Source,
    /// True under `--demo`.
    pub demo: bool,
}

impl Context {
    /// Resolves paths (the demo's under `--demo`), reads the config and
    /// selects the profile.
    pub fn load(global: &GlobalArgs) -> Result<Context, Failure> {
        let mut paths = global.paths()?;
        if global.demo {
            paths = crate::demo::demo_paths(&paths);
        }
        let loaded = Config::load(&paths.config_file)?;
        let wanted = if global.demo { None } else { global.wanted_profile() };
        let (name, profile_source) =
            loaded.config.selected_profile(wanted.as_ref().map(|(n, s)| (n.as_str(), s.clone())));
        let profile = resolve(&loaded, &name, global.demo)?;
        Ok(Context { paths, loaded, profile, profile_source, demo: global.demo })
    }
}

/// Everything resolved for a run of the engine.
pub struct Setup {
    /// File locations (the demo's, under `--demo`).
    pub paths: Paths,
    /// The config as loaded.
    pub loaded: LoadedConfig,
    /// The selected profile: new jobs belong to it.
    pub profile: Profile,
    /// The API client of the selected profile.
    pub client: Client,
    /// The bucket for local files: `None` without `[storage]`, `Some(Err)`
    /// with the reason when it is configured but unusable (e.g. no
    /// credentials), so URL imports still work and local lines say why not.
    pub storage: Option<Result<Storage, Arc<StorageSetupError>>>,
    /// The in-process simulator, under `--demo`.
    pub sim: Option<Sim>,
    /// What the header shows: `simulator`, or the profile and API host.
    pub endpoint: String,
    _demo: Option<DemoLock>,
    log: Option<crate::logging::Logging>,
}

impl Setup {
    /// Resolves paths, reads the config, selects the profile, starts logging
    /// and builds the client (under `--demo`: takes the demo lock, resets
    /// the demo data and starts the simulator).
    pub async fn new(global: &GlobalArgs) -> Result<Setup, Failure> {
        let ctx = Context::load(global)?;
        let (sim, demo_lock, loaded) = if ctx.demo {
            let lock = crate::demo::lock(&ctx.paths)?;
            let sim = crate::demo::start(&ctx.paths, &lock).await?;
            let loaded = Config::load(&ctx.paths.config_file)?;
            (Some(sim), Some(lock), loaded)
        } else {
            (None, None, ctx.loaded)
        };
        let mut loaded = loaded;
        let log = match crate::logging::init(&ctx.paths.log_dir) {
            Ok(guard) => Some(guard),
            Err(e) => {
                let dir = ctx.paths.log_dir.display();
                loaded.warnings.push(format!("cannot write the log in {dir}: {e}; continuing without it"));
                None
            }
        };
        let profile = resolve(&loaded, &ctx.profile.name, ctx.demo)?;
        let client = client_for(&loaded, sim.is_some(), &profile.name).map_err(|e| {
            let mut msg = e.message;
            for w in &loaded.warnings {
                msg.push_str(&format!("\nwarning: {w}"));
            }
            Failure::new(e.code, msg)
        })?;
        let endpoint = match &sim {
            Some(_) => "simulator".to_string(),
            None => format!("{}@{}", profile.name, client.base_url().host_str().unwrap_or("?")),
        };
        tracing::info!("seedance-assets {} starting against {endpoint}", env!("CARGO_PKG_VERSION"));
        let storage = storage_for(&loaded, &profile, sim.is_some());
        Ok(Setup { paths: ctx.paths, loaded, profile, client, storage, sim, endpoint, _demo: demo_lock, log })
    }

    /// Where a failure to write the log file is told (none without a log).
    pub fn log_fault(&self) -> Option<&crate::logging::LogFault> {
        self.log.as_ref().map(|l| &l.fault)
    }

    /// The bucket for local files, or why local files cannot be imported.
    pub fn storage(&self) -> Result<&Storage, Arc<StorageSetupError>> {
        match &self.storage {
            Some(Ok(s)) => Ok(s),
            Some(Err(e)) => Err(e.clone()),
            None => Err(Arc::new(StorageSetupError::NotConfigured { config: self.paths.config_file.clone() })),
        }
    }

    /// A client for the profile `name` of this config: its base URL, key and
    /// timeouts (under `--demo`, the simulator's). The engine polls each job
    /// with the client of the profile that created it.
    pub fn client_for(&self, name: &str) -> Result<Client, Failure> {
        client_for(&self.loaded, self.sim.is_some(), name)
    }

    /// Marks new jobs as belonging to the selected profile.
    pub fn stamp_profile(&self, jobs: &mut [NewJob]) {
        for j in jobs {
            j.profile.clone_from(&self.profile.name);
        }
    }

    /// The preflight checker for these settings: under `--demo` one that
    /// makes no network look-ups.
    pub fn preflight(&self, cfg: &crate::config::PreflightConfig) -> Result<crate::preflight::Preflight, TlsError> {
        let tls = self.loaded.config.tls_options(&self.loaded.path);
        if self.is_demo() {
            crate::preflight::Preflight::without_lookups(cfg, &tls)
        } else {
            crate::preflight::Preflight::new(cfg, &tls)
        }
    }

    /// The conform step for these settings (`--conform`), caching in the
    /// data directory; under `--demo` its downloads make no look-ups.
    pub fn conformer(&self, limits: crate::preflight::MediaLimits) -> Result<crate::conform::Conformer, TlsError> {
        self.conformer_with(&self.loaded.config.conform, limits)
    }

    /// As [`Setup::conformer`], with these conform settings.
    pub fn conformer_with(
        &self,
        cfg: &crate::conform::ConformConfig,
        limits: crate::preflight::MediaLimits,
    ) -> Result<crate::conform::Conformer, TlsError> {
        let tls = self.loaded.config.tls_options(&self.loaded.path);
        let mut builder = crate::api::http_client_builder(&tls)?;
        if self.is_demo() {
            builder = builder.dns_resolver(std::sync::Arc::new(crate::preflight::NoLookups));
        }
        let http = builder.build().map_err(TlsError::Client)?;
        Ok(crate::conform::Conformer::new(cfg, limits, self.paths.data_dir.join("conform"), http))
    }

    /// True when demo data is reset at the next demo start rather than resumed.
    pub fn is_demo(&self) -> bool {
        self.sim.is_some()
    }

    /// The engine settings: the profile's limits, the config's polling.
    pub fn engine_options(&self) -> EngineOptions {
        EngineOptions {
            limits: self.profile.limits.clone(),
            polling: self.loaded.config.polling.clone(),
            seed: None,
            retry_503: self.profile.api.retry_503,
            storage: match (&self.storage, &self.loaded.config.storage) {
                (Some(Ok(s)), Some(sc)) => Some((s.clone(), sc.max_uploading)),
                _ => None,
            },
            polling_file: Some(self.paths.polling()),
            reconcile: self.loaded.config.reconcile.clone(),
        }
    }

    /// A client for every profile of the config (or the reason a profile has
    /// none), so each job is polled with its own profile's key and base URL.
    pub fn clients(&self) -> Clients {
        let mut clients = Clients::default().with(&self.profile.name, Ok(self.client.clone()));
        for name in self.loaded.config.profile_names() {
            if name != self.profile.name {
                clients = clients.with(&name, self.client_for(&name).map_err(|f| f.message));
            }
        }
        clients
    }

    /// Takes a config read again (after the user fixed a key or a base URL
    /// in the file) and rebuilds every profile's client, for
    /// [`crate::engine::Command::Resume`].
    pub fn adopt(&mut self, loaded: LoadedConfig) -> Result<Clients, Failure> {
        let client = client_for(&loaded, self.sim.is_some(), &self.profile.name)?;
        self.storage = storage_for(&loaded, &self.profile, self.sim.is_some());
        self.loaded = loaded;
        self.client = client;
        Ok(self.clients())
    }

    /// The engine's files in this setup's data dir.
    pub fn engine_files(&self) -> crate::engine::EngineFiles {
        crate::engine::EngineFiles::in_data_dir(&self.paths.data_dir)
    }

    /// Starts the engine on this setup's job store.
    pub fn start_engine(&self) -> Result<(EngineHandle, UnboundedReceiver<Update>, JoinHandle<()>), Failure> {
        self.try_start_engine().map_err(|e| Failure::new(crate::exit::JOURNAL, e.to_string()))
    }

    /// Starts the engine, telling apart a store another process owns
    /// ([`crate::engine::StartError::is_busy`]: watch it instead).
    pub fn try_start_engine(
        &self,
    ) -> Result<(EngineHandle, UnboundedReceiver<Update>, JoinHandle<()>), crate::engine::StartError> {
        crate::engine::start(self.clients(), self.engine_options(), &self.engine_files())
    }

    /// Opens the job store for reading (the dashboard's list, observers).
    pub fn history(&self) -> Result<crate::store::History, crate::store::StoreError> {
        crate::store::History::open(&self.paths.store(), Some(&self.paths.legacy_journal()))
    }
}

/// The bucket of `[storage]`, if configured: `Err` with the reason when it
/// cannot be used (no credentials, a bad endpoint).
pub fn storage_for(
    loaded: &LoadedConfig,
    profile: &Profile,
    demo: bool,
) -> Option<Result<Storage, Arc<StorageSetupError>>> {
    let sc = loaded.config.storage.as_ref()?;
    let path = &loaded.path;
    Some(
        (|| {
            // The demo bucket's keys are in the demo config; the user's AWS
            // variables must not override them.
            let env = |k: &str| if demo { None } else { std::env::var(k).ok() };
            let credentials = sc.credentials(path, env)?;
            let timeouts = Config { api: profile.api.clone(), ..Config::default() };
            let http = crate::api::http_client_builder(&loaded.config.tls_options(path))?
                .connect_timeout(timeouts.connect_timeout(path)?)
                // HEADs get the API's request timeout; each PUT its own
                // `upload_timeout_secs`.
                .timeout(timeouts.request_timeout(path)?)
                .build()
                .map_err(StorageSetupError::Http)?;
            Ok(Storage::from_config(sc, &credentials, http)?)
        })()
        .map_err(Arc::new),
    )
}

/// The profile `name` of `loaded`, with `SEEDANCE_BASE_URL` over the default
/// profile's base URL (not in the demo, whose simulator is its own).
fn resolve(
    loaded: &LoadedConfig,
    name: &str,
    demo: bool,
) -> Result<crate::config::Profile, crate::config::ConfigError> {
    if demo {
        loaded.config.profile(name, &loaded.path)
    } else {
        loaded.config.profile_in_env(name, &loaded.path, |k| std::env::var(k).ok())
    }
}

/// A client for the profile `name` of `loaded` (the demo key when `demo`).
pub fn client_for(loaded: &LoadedConfig, demo: bool, name: &str) -> Result<Client, Failure> {
    let cfg = &loaded.config;
    let path = &loaded.path;
    let profile = resolve(loaded, name, demo)?;
    let key = if demo {
        secrecy::SecretString::from(DEMO_KEY.to_string())
    } else {
        cfg.profile_key(&profile, path, |k| std::env::var(k).ok())?.0
    };
    let timeouts = Config { api: profile.api.clone(), ..Config::default() };
    Ok(Client::new(ClientOptions {
        base_url: profile.api.base_url.clone(),
        api_key: key,
        connect_timeout: timeouts.connect_timeout(path)?,
        request_timeout: timeouts.request_timeout(path)?,
        tls: cfg.tls_options(path),
    })?)
}
