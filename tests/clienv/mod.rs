//! The real binary against a simulator, for the CLI convention tests: a
//! temporary config and data dir, the key in the environment.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use seedance_assets::sim::Sim;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_seedance-assets");

/// A config (quick polling) for a simulator, a data dir and its key.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub data: PathBuf,
    pub key: String,
    /// More environment for every command (bucket credentials, say).
    pub vars: Vec<(String, String)>,
}

impl Env {
    /// An environment for `sim`, with `extra` appended to the config.
    /// These tests import URLs on hosts that do not exist (`cdn.example`):
    /// preflight is off here (its checks are the subject of the preflight
    /// and front-door tests).
    pub fn with(base_url: &str, key: &str, extra: &str) -> Env {
        Env::from_config(
            &format!(
                "[api]\nbase_url = \"{base_url}\"\n[polling]\nfirst_secs = 0.2\nmax_interval_secs = 0.5\n[preflight]\nmode = \"off\"\n{extra}"
            ),
            key,
        )
    }

    /// An environment whose config file is `text`, as it is.
    pub fn from_config(text: &str, key: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, text).unwrap();
        let data = dir.path().join("data");
        Env { dir, config, data, key: key.to_string(), vars: Vec::new() }
    }

    /// Adds a variable to every command's environment.
    pub fn var(mut self, name: &str, value: &str) -> Env {
        self.vars.push((name.to_string(), value.to_string()));
        self
    }

    /// An environment whose bucket is the simulator's own (preflight on),
    /// with `extra` appended to the config.
    pub fn with_sim_bucket(sim: &Sim, extra: &str) -> Env {
        let text = format!(
            "[api]\nbase_url = \"{base}\"\n[polling]\nfirst_secs = 0.2\nmax_interval_secs = 0.5\n[storage]\nendpoint = \"{base}\"\nbucket = \"sim-bucket\"\nprefix = \"refs\"\npath_style = true\n{extra}",
            base = sim.base_url()
        );
        Env::from_config(&text, sim.state().api_key())
            .var("AWS_ACCESS_KEY_ID", "sim-access-key")
            .var("AWS_SECRET_ACCESS_KEY", "sim-secret-key")
    }

    /// An environment for `sim` and its key.
    pub fn new(sim: &Sim) -> Env {
        Env::with(&sim.base_url(), sim.state().api_key(), "")
    }

    /// The binary on this config, data dir and key, output captured, no
    /// input and no inherited profile.
    pub fn command<S: AsRef<std::ffi::OsStr>>(&self, args: impl IntoIterator<Item = S>) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--config").arg(&self.config).arg("--data-dir").arg(&self.data).args(args);
        c.env("SEEDANCE_API_KEY", &self.key).env_remove("SEEDANCE_PROFILE");
        c.envs(self.vars.iter().map(|(k, v)| (k, v)));
        c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    }

    /// Runs with `stdin` as input.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self.command(args).stdin(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
}

/// Runs a blocking closure off the async runtime (the simulator runs on it).
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

/// Output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
