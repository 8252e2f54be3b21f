//! End to end in a real pseudo-terminal: the real binary runs in tmux
//! against the simulator; we type a URL, submit, watch the row become
//! Active, then send SIGHUP and check that the process exits and the
//! journal holds the job. `.ci/run` installs tmux.

use std::path::Path;
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

use seedance_assets::engine::JobState;
use seedance_assets::engine::journal::read_jobs;
use seedance_assets::sim::{Sim, SimConfig};

const BIN: &str = env!("CARGO_BIN_EXE_seedance-assets");

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux is installed (.ci/run installs it: apt-get install tmux)")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    fn wait_for(&self, what: &str, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(start.elapsed() < limit, "timed out waiting for {what}; screen:\n{screen}");
            sleep(Duration::from_millis(100));
        }
    }

    fn pane(&self, format: &str) -> String {
        String::from_utf8_lossy(&self.run(&["display-message", "-p", "-t", "e2e", format]).stdout).trim().to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn write_config(path: &Path, base_url: &str, group: &str) {
    let text = format!(
        "[api]\nbase_url = \"{base_url}\"\n\n[polling]\nfirst_secs = 0.3\nmax_interval_secs = 1.0\n\n[[presets]]\nname = \"e2e\"\ngroup_id = \"{group}\"\ndefault = true\n"
    );
    std::fs::write(path, text).unwrap();
}

#[test]
fn type_submit_see_active_then_sighup_exits_and_keeps_the_journal() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(Sim::start_local(SimConfig { min_delay_ms: 300, max_delay_ms: 800, ..SimConfig::default() }))
        .unwrap();
    let group = sim.state().add_group("e2e");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    write_config(&config, &sim.base_url(), &group);
    let data = dir.path().join("data");

    let tmux = Tmux { socket: format!("seedance-e2e-{}", std::process::id()) };
    let cmd = format!("{BIN} --config {} --data-dir {}", config.display(), data.display());
    let started = Command::new("tmux")
        .args(["-L", &tmux.socket, "-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", &cmd])
        .env("SEEDANCE_API_KEY", sim.state().api_key())
        .env_remove("NO_COLOR")
        .status()
        .expect("tmux is installed (.ci/run installs it: apt-get install tmux)");
    assert!(started.success());
    tmux.run(&["set-option", "-t", "e2e", "remain-on-exit", "on"]);

    tmux.wait_for("the dashboard", Duration::from_secs(20), |s| s.contains("Import") && s.contains("Assets 0/0"));
    tmux.run(&["send-keys", "-t", "e2e", "i"]);
    tmux.run(&["send-keys", "-t", "e2e", "-l", "https://media.example/e2e/hello.png"]);
    tmux.wait_for("the typed URL", Duration::from_secs(5), |s| s.contains("✓ 1 ready"));
    tmux.run(&["send-keys", "-t", "e2e", "Enter"]);
    let screen = tmux.wait_for("the row to become Active", Duration::from_secs(30), |s| {
        s.lines().any(|l| l.contains("✓ hello") && l.contains("asset://"))
    });
    assert!(screen.contains("✓1"), "the header counts it: {screen}");
    assert_eq!(sim.stats().assets_created, 1);

    let pid = tmux.pane("#{pane_pid}");
    assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    let start = Instant::now();
    while tmux.pane("#{pane_dead}") != "1" {
        assert!(start.elapsed() < Duration::from_secs(15), "the dashboard did not exit on SIGHUP");
        sleep(Duration::from_millis(100));
    }
    assert_eq!(tmux.pane("#{pane_dead_status}"), "0");

    let (jobs, warnings) = read_jobs(&data.join("journal.jsonl")).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].spec.name, "hello");
    assert_eq!(jobs[0].state, JobState::Active);
    assert!(jobs[0].asset_ref().unwrap().starts_with("asset://asset-"));
}
