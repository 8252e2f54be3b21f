//! A history of a million imports (see BENCHMARKS.md). The bench writes the
//! history itself (1,000,000 finished jobs: 90% Active, 10% Failed) into a
//! job store, then measures the release binary on it:
//!
//! 1. bytes on disk per finished job;
//! 2. `status --state failed`: wall time and peak RSS;
//! 3. the dashboard (in tmux, 80×24): start to first frame and peak RSS;
//! 4. `import --wait` of 1,000 new items on the simulator: wall time and peak RSS;
//! 5. growth of the store per state change while jobs move through their states.
//!
//! Run: `cargo bench --bench history` (3 needs tmux). `-- --jobs N` changes the
//! history size; `-- --dir D --only-reads` keeps the history in D and measures 2 and 3 only.

mod support;
use support::log_text;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use seedance_assets::api::AssetType;
use seedance_assets::engine::{Job, JobState, NewJob};
use seedance_assets::sim::{Sim, SimConfig};
use seedance_assets::store::Store;

const BIN: &str = env!("CARGO_BIN_EXE_seedance-assets");

fn job(id: u64, state: JobState) -> Job {
    let spec = NewJob {
        url: format!("https://cdn.studio.example/references/2026/{id:07}-character-sheet.png"),
        name: format!("character-sheet-{id:07}"),
        asset_type: AssetType::Image,
        group_id: "group-20260412163933-zwxdc".into(),
        profile: "default".into(),
        local: None,
        media: None,
        conform: None,
    };
    let t = Timestamp::from_second(1_790_000_000 + id as i64).unwrap();
    let mut j = Job::new(id, spec, t);
    j.state = state;
    j.updated_at = Timestamp::from_second(1_790_000_020 + id as i64).unwrap();
    j.processing_since = Some(Timestamp::from_second(1_790_000_002 + id as i64).unwrap());
    j.create_attempts = 1;
    j.asset_id = Some(format!("asset-20260412163933-{id:06}"));
    j.task_id = Some(format!("task_{id:08}"));
    if state == JobState::Failed {
        j.error = Some("InvalidParameter.DownloadFailed: the server could not download the URL".into());
    }
    j
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// The store's bytes on disk (the database and its write-ahead log).
fn store_bytes(data: &Path) -> u64 {
    ["jobs.db", "jobs.db-wal"].iter().map(|f| file_size(&data.join(f))).sum()
}

fn generate(data: &Path, n: u64) {
    let t = Instant::now();
    let mut store = Store::open(&data.join("jobs.db"), None).unwrap().store;
    let mut batch = Vec::with_capacity(10_000);
    for id in 1..=n {
        batch.push(job(id, if id % 10 == 0 { JobState::Failed } else { JobState::Active }));
        if batch.len() == 10_000 {
            store.write(&batch, &[]).unwrap();
            batch.clear();
        }
    }
    store.write(&batch, &[]).unwrap();
    drop(store);
    println!("  wrote {n} finished jobs in {:.1} s", t.elapsed().as_secs_f64());
}

/// Runs the binary to the end: wall time and peak RSS (from `wait4`).
fn run_measured(cmd: &mut Command) -> (Duration, u64, std::process::ExitStatus) {
    let t = Instant::now();
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("the binary runs");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = t.elapsed();
    std::mem::forget(child);
    use std::os::unix::process::ExitStatusExt;
    (wall, usage.ru_maxrss as u64 * 1024, std::process::ExitStatus::from_raw(status))
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn binary(config: &Path, data: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--config").arg(config).arg("--data-dir").arg(data).env("SEEDANCE_API_KEY", "bench-key");
    c
}

fn status_failed(config: &Path, data: &Path) {
    let mut runs = Vec::new();
    for _ in 0..5 {
        runs.push(run_measured(binary(config, data).args(["status", "--state", "failed"])));
    }
    runs.sort_by_key(|r| r.0);
    let (wall, rss, status) = runs[runs.len() / 2];
    assert!(status.success());
    println!(
        "  status --state failed: median {:.0} ms (min {:.0}, max {:.0}), peak RSS {:.1} MB",
        wall.as_secs_f64() * 1000.0,
        runs[0].0.as_secs_f64() * 1000.0,
        runs[runs.len() - 1].0.as_secs_f64() * 1000.0,
        mb(rss)
    );
}

fn vm_hwm(pid: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

fn dashboard(config: &Path, data: &Path) {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("  (tmux not installed: skipped the dashboard)");
        return;
    }
    let logs = data.join("logs");
    let mut frames = Vec::new();
    let mut rss = Vec::new();
    for run in 0..5 {
        let _ = std::fs::remove_dir_all(&logs);
        let socket = format!("history-bench-{}-{run}", std::process::id());
        let cmd = format!("exec {BIN} --config {} --data-dir {}", config.display(), data.display());
        let ok = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d", "-s", "b", "-x", "80", "-y", "24", &cmd])
            .env("SEEDANCE_API_KEY", "bench-key")
            .status()
            .expect("tmux");
        assert!(ok.success());
        let start = Instant::now();
        let mut ms = None;
        while start.elapsed() < Duration::from_secs(30) && ms.is_none() {
            let text = log_text(&logs);
            ms = text
                .lines()
                .rev()
                .find(|l| l.contains("first frame with"))
                .and_then(|l| l.split(" drawn ").nth(1)?.split(" ms").next()?.parse::<f64>().ok());
            std::thread::sleep(Duration::from_millis(20));
        }
        // Let it settle a moment (a few frames), then read its peak RSS.
        std::thread::sleep(Duration::from_millis(700));
        let pid = Command::new("tmux")
            .args(["-L", &socket, "display", "-p", "#{pane_pid}"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        if let Some(r) = vm_hwm(&pid) {
            rss.push(r);
        }
        let _ = Command::new("tmux").args(["-L", &socket, "send-keys", "-t", "b", "q"]).status();
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("tmux").args(["-L", &socket, "kill-server"]).status();
        if let Some(ms) = ms {
            frames.push(ms);
        }
    }
    frames.sort_by(f64::total_cmp);
    rss.sort();
    if frames.is_empty() {
        println!("  dashboard: no first frame logged");
        return;
    }
    println!(
        "  dashboard at 80x24: start to first frame median {:.1} ms (min {:.1}, max {:.1}); peak RSS median {:.1} MB ({} runs)",
        frames[frames.len() / 2],
        frames[0],
        frames[frames.len() - 1],
        rss.get(rss.len() / 2).map_or(0.0, |r| mb(*r)),
        frames.len()
    );
}

fn import(data: &Path, dir: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(Sim::start_local(SimConfig { min_delay_ms: 500, max_delay_ms: 3000, ..SimConfig::default() }))
        .unwrap();
    let group = sim.state().add_group("bench");
    let config = dir.join("sim.toml");
    std::fs::write(&config, format!("[api]\nbase_url = \"{}\"\n", sim.base_url())).unwrap();
    let urls = dir.join("urls.txt");
    let list: String = (0..1000).map(|i| format!("https://media.example/new/{i}.png\n")).collect();
    std::fs::write(&urls, list).unwrap();
    let mut c = binary(&config, data);
    c.env("SEEDANCE_API_KEY", sim.state().api_key());
    c.args(["import", "--wait", "--no-preflight", "--group", &group, "--file"]).arg(&urls);
    let (wall, rss, status) = run_measured(&mut c);
    println!(
        "  import --wait of 1,000 new items on top of the history: {:.1} s, peak RSS {:.1} MB (exit {:?}, {} created)",
        wall.as_secs_f64(),
        mb(rss),
        status.code(),
        sim.stats().assets_created
    );
    drop(sim);
}

fn growth(dir: &Path) {
    let data = dir.join("growth");
    let mut store = Store::open(&data.join("jobs.db"), None).unwrap().store;
    let base = 10_000_000u64;
    let n = 10_000u64;
    let states = [JobState::Queued, JobState::Creating, JobState::Processing, JobState::Active];
    let mut changes = 0u64;
    let mut peak = 0u64;
    for (k, state) in states.iter().enumerate() {
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let batch: Vec<Job> = chunk.iter().map(|i| job(base + i, *state)).collect();
            store.write(&batch, &[]).unwrap();
            changes += batch.len() as u64;
            peak = peak.max(store_bytes(&data));
        }
        if k == 0 {
            println!("  after {n} new jobs: {:.0} bytes per job on disk", store_bytes(&data) as f64 / n as f64);
        }
    }
    drop(store);
    let settled = store_bytes(&data);
    println!(
        "  {changes} state changes of {n} jobs (batches of 500): {:.0} bytes per job once checkpointed; peak {:.1} MB with the log, i.e. {:.0} bytes per state change at most, reclaimed by checkpoints",
        settled as f64 / n as f64,
        mb(peak),
        peak as f64 / changes as f64
    );
}

fn main() {
    let n: u64 =
        std::env::args().skip_while(|a| a != "--jobs").nth(1).and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    // `-- --dir D` keeps the history in D and reuses it on the next run.
    let kept: Option<std::path::PathBuf> = std::env::args().skip_while(|a| a != "--dir").nth(1).map(Into::into);
    println!("history benchmarks ({n} finished jobs)");
    let temp = tempfile::tempdir().unwrap();
    let root = kept.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let data = root.join("data");
    let config = root.join("config.toml");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(&config, "[api]\nbase_url = \"http://127.0.0.1:9\"\n").unwrap();
    if kept.is_none() || !data.join("jobs.db").exists() {
        generate(&data, n);
    }
    if std::env::args().any(|a| a == "--only-reads") {
        status_failed(&config, &data);
        dashboard(&config, &data);
        return;
    }
    let dir = temp;
    println!(
        "  on disk: {:.1} MB, {:.0} bytes per finished job",
        mb(store_bytes(&data)),
        store_bytes(&data) as f64 / n as f64
    );
    status_failed(&config, &data);
    dashboard(&config, &data);
    import(&data, dir.path());
    growth(dir.path());
}
