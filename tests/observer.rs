//! Watching what another process does: while `import --wait` owns the job
//! store, `status --follow` prints its jobs as they change, and a dashboard
//! (in tmux) attaches read-only, says who owns the store, refuses actions
//! that need the engine, and takes over when the import exits. Never two
//! writers: a second import is refused. `scripts/test.sh` installs tmux.

mod clienv;
mod tmux;

use std::process::{Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use clienv::{BIN, Env, blocking};
use seedance_assets::sim::{Sim, SimConfig};
use tmux::Tmux;

fn slow_sim() -> SimConfig {
    // Long enough processing for a second process to attach meanwhile.
    SimConfig { min_delay_ms: 2500, max_delay_ms: 4000, seed: Some(3), ..SimConfig::default() }
}

fn urls(n: usize, tag: &str) -> String {
    (0..n).map(|i| format!("https://media.example/{tag}/{i}.png\n")).collect()
}

/// Starts `import --wait` of `n` URLs in the background.
fn start_import(env: &Env, group: &str, n: usize, tag: &str) -> std::process::Child {
    let list = env.dir.path().join(format!("{tag}.txt"));
    std::fs::write(&list, urls(n, tag)).unwrap();
    let mut c = env.command(["import", "--wait", "--no-preflight", "--group", group, "--file"]);
    c.arg(&list).stdin(Stdio::null());
    c.spawn().unwrap()
}

/// Waits until the import owns the store (its owner file names it).
fn wait_owned(env: &Env, pid: u32) {
    let start = Instant::now();
    while seedance_assets::store::owner(&env.data.join("jobs.db")).is_none_or(|o| !o.contains(&format!("pid {pid}:"))) {
        assert!(start.elapsed() < Duration::from_secs(20), "the import never took the store");
        sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_follow_prints_the_owners_jobs_until_it_exits() {
    let sim = Sim::start_local(slow_sim()).await.unwrap();
    let group = sim.state().add_group("follow");
    let env = Env::new(&sim);
    blocking(move || {
        // A job that failed before: shown, but it is not what is followed.
        let failed =
            env.run(&["import", "--wait", "--no-preflight", "--group", &group, "https://media.example/fail.png"], "");
        assert_eq!(failed.status.code(), Some(1), "{}", String::from_utf8_lossy(&failed.stderr));
        let mut import = start_import(&env, &group, 8, "follow");
        wait_owned(&env, import.id());
        // Never two writers.
        let second = env.run(&["import", "--no-preflight", "--group", &group, "https://media.example/x.png"], "");
        assert_eq!(second.status.code(), Some(5));
        let err = String::from_utf8_lossy(&second.stderr);
        assert!(err.contains(&format!("pid {}", import.id())) && err.contains("status --follow"), "{err}");
        let out: Output = env.command(["status", "--follow", "--json"]).stdin(Stdio::null()).output().unwrap();
        let import_status = import.wait().unwrap();
        assert!(import_status.success(), "the import itself finished");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("following the jobs of pid {}", import.id())), "{stderr}");
        assert!(stderr.contains("the owner has exited"), "{stderr}");
        assert_eq!(out.status.code(), Some(0), "the followed jobs all ended Active: {stderr}");
        let lines: Vec<serde_json::Value> =
            String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        // Every job's Active moment was seen, each once at most as Active.
        let mut active: Vec<u64> =
            lines.iter().filter(|l| l["status"] == "active").map(|l| l["id"].as_u64().unwrap()).collect();
        active.sort();
        assert_eq!(active, (2..=9).collect::<Vec<u64>>(), "{lines:#?}");
        assert!(lines.iter().any(|l| l["id"] == 1 && l["status"] == "failed"), "the earlier job is listed: {lines:#?}");
        assert!(lines.iter().any(|l| l["status"] == "processing"), "changes were followed live: {lines:#?}");
        drop(env);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_dashboard_watches_then_takes_over() {
    let sim = Sim::start_local(slow_sim()).await.unwrap();
    let group = sim.state().add_group("watch");
    let preset = format!("[[presets]]\nname = \"w\"\ngroup_id = \"{group}\"\ndefault = true\n");
    let env = Env::with(&sim.base_url(), sim.state().api_key(), &preset);
    blocking(move || {
        let mut import = start_import(&env, &group, 6, "watch");
        wait_owned(&env, import.id());
        let tmux = Tmux::new("observer", "w");
        let cmd = format!(
            "SEEDANCE_API_KEY={} {BIN} --config {} --data-dir {}",
            env.key,
            env.config.display(),
            env.data.display()
        );
        let ok = tmux.run(&["new-session", "-d", "-s", "w", "-x", "80", "-y", "24", &cmd]);
        assert!(ok.status.success(), "{ok:?}");
        let pid = import.id();
        let screen = tmux.wait_for("the watching banner", Duration::from_secs(15), |s| {
            s.contains("watching") && s.contains(&format!("pid {pid}"))
        });
        assert!(screen.contains("Assets"), "{screen}");
        // Rows of the owner's jobs show up live.
        tmux.wait_for("the owner's jobs", Duration::from_secs(15), |s| s.contains("/6 "));
        // Actions that need the engine are refused while watching; the
        // typed line stays in the editor.
        tmux.run(&["send-keys", "-t", "w", "i", "https://media.example/typed.png", "Escape"]);
        tmux.run(&["send-keys", "-t", "w", "Enter"]);
        let screen = tmux.wait_for("the read-only refusal", Duration::from_secs(5), |s| s.contains("read-only while"));
        assert!(screen.contains("typed.png"), "the line stays: {screen}");
        assert!(import.wait().unwrap().success());
        let screen = tmux.wait_for("the take-over", Duration::from_secs(15), |s| s.contains("now runs the imports"));
        assert!(!screen.contains("read-only until it exits"), "the banner is gone: {screen}");
        // Now it is the owner: the typed line can be submitted.
        tmux.run(&["send-keys", "-t", "w", "Enter"]);
        tmux.wait_for("the new job", Duration::from_secs(15), |s| s.contains("/7 "));
        tmux.run(&["send-keys", "-t", "w", "q"]);
        drop(env);
    })
    .await;
}
