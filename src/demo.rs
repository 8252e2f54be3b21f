//! `--demo`: every command on a built-in simulator, with its own data
//! directory (`DATA_DIR/demo`) and config. Commands that start the engine
//! reset the demo job store and groups (the simulator is new each time, so
//! old task ids would not exist) while holding a lock, so a second demo
//! process never deletes what a running one holds; exports and logs are
//! kept. Read-only commands (`status`, `export`, `groups list`, `presets`,
//! `config`) read the demo data as it is.

use std::fs::File;

use crate::config::Paths;
use crate::exit::{Failure, JOURNAL};
use crate::sim::{Sim, SimConfig};

/// The key the demo simulator accepts.
pub const DEMO_KEY: &str = "demo-key";
/// The demo simulator's bucket.
pub const DEMO_BUCKET: &str = "demo-bucket";
/// The access key id the demo bucket accepts.
pub const DEMO_ACCESS_KEY: &str = "demo-access-key";
/// The secret key the demo bucket accepts (not a secret: demo only).
pub const DEMO_SECRET_KEY: &str = "demo-secret-key";

/// The demo simulator: realistic but quick processing, one in ten fails.
pub fn demo_sim_config() -> SimConfig {
    SimConfig {
        api_key: DEMO_KEY.into(),
        min_delay_ms: 2000,
        max_delay_ms: 8000,
        fail_rate: 0.1,
        bucket: DEMO_BUCKET.into(),
        bucket_access_key: DEMO_ACCESS_KEY.into(),
        bucket_secret_key: DEMO_SECRET_KEY.into(),
        ..SimConfig::default()
    }
}

/// The demo's locations below the real data directory.
pub fn demo_paths(real: &Paths) -> Paths {
    let dir = real.data_dir.join("demo");
    Paths { config_file: dir.join("config.toml"), log_dir: dir.join("logs"), data_dir: dir }
}

/// Held while a demo process runs the engine; released when dropped.
#[derive(Debug)]
pub struct DemoLock {
    _file: File,
}

/// Takes the demo lock, refusing (exit 5) when another demo process holds it.
pub fn lock(paths: &Paths) -> Result<DemoLock, Failure> {
    std::fs::create_dir_all(&paths.data_dir)
        .map_err(|e| Failure::new(JOURNAL, format!("cannot create {}: {e}", paths.data_dir.display())))?;
    let path = paths.data_dir.join("demo.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Failure::new(JOURNAL, format!("cannot open {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(DemoLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(Failure::new(
            JOURNAL,
            format!(
                "another --demo process is running on {}; its demo data is left alone (quit it, or pass a different --data-dir)",
                paths.data_dir.display()
            ),
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(Failure::new(JOURNAL, format!("cannot lock {}: {e}", path.display())))
        }
    }
}

/// Starts the demo simulator and resets the demo data for it (the lock must
/// be held): the job store and groups are removed, the config rewritten for
/// the new simulator and its demo group; exports and logs are kept.
pub async fn start(paths: &Paths, _lock: &DemoLock) -> Result<Sim, Failure> {
    let store = paths.store();
    let mut files = vec![paths.legacy_journal(), paths.groups(), crate::store::lock_path(&store)];
    files.extend(["", "-wal", "-shm"].map(|s| std::path::PathBuf::from(format!("{}{s}", store.display()))));
    for file in files {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Failure::new(JOURNAL, format!("cannot reset {}: {e}", file.display()))),
        }
    }
    let sim = Sim::start_local(demo_sim_config()).await.map_err(|e| format!("cannot start the simulator: {e}"))?;
    let group = sim.state().add_group("demo");
    let config_text = format!(
        "# Demo configuration (rewritten at each --demo start that runs the engine).\n[api]\nbase_url = \"{base}\"\n\n[storage]\nendpoint = \"{base}\"\nbucket = \"{DEMO_BUCKET}\"\nregion = \"{region}\"\nprefix = \"demo\"\npath_style = true\naccess_key_id = \"{DEMO_ACCESS_KEY}\"\nsecret_access_key = \"{DEMO_SECRET_KEY}\"\n\n# The simulator processes in 2-8 s, well under the 9-30 s a real server takes\n# (what learned polling starts from): the demo looks on the classic schedule.\n[polling]\nadaptive = false\n\n[[presets]]\nname = \"demo\"\ngroup_id = \"{group}\"\nasset_type = \"infer\"\nname_template = \"{{stem}}\"\ndescription = \"the simulator's demo group\"\ndefault = true\n",
        base = sim.base_url(),
        region = crate::sim::BUCKET_REGION,
    );
    crate::config::atomic_write(&paths.config_file, config_text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", paths.config_file.display()))?;
    Ok(sim)
}
