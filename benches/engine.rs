//! Engine benchmarks against the simulator over loopback (see BENCHMARKS.md):
//!
//! 1. 1,000 imports with limits raised to 300/s create and 1,000/s get, at
//!    the simulator's default processing delay: wall time against the bound
//!    set by the rate limits and processing delays, 429s provoked, and
//!    GetAsset calls per asset, for the default schedule and a fixed 1 s poller.
//! 2. 10,000 jobs in flight: the engine process's peak RSS (the simulator
//!    runs in a separate process).
//!
//! Run: `cargo bench --bench engine`

mod support;
use support::{client, images};

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use seedance_assets::config::{Limits, Polling};
use seedance_assets::engine::{Command as EngineCommand, EngineOptions, Job, JobState, Update};
use seedance_assets::sim::{Sim, SimConfig};

/// Waits until `n` jobs are final; returns them, the journal's fsync count
/// (from the engine's next stats report) and when the last became final.
async fn wait_all_final_stats(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Update>,
    n: usize,
) -> (BTreeMap<u64, Job>, u64, Instant) {
    let mut jobs = BTreeMap::new();
    let mut done = 0;
    let mut syncs = 0;
    while done < n {
        match rx.recv().await.expect("engine running") {
            Update::Stats(s) => syncs = s.journal_syncs,
            Update::Job(j) => {
                let was = jobs.get(&j.id).is_some_and(|o: &Job| o.state.is_final());
                if j.state.is_final() && !was {
                    done += 1;
                }
                jobs.insert(j.id, *j);
            }
            _ => continue,
        }
    }
    let done_at = Instant::now();
    // The engine reports its counters once a second: take the next report.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while let Ok(Some(u)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        if let Update::Stats(s) = u {
            syncs = s.journal_syncs;
            break;
        }
    }
    (jobs, syncs, done_at)
}

async fn throughput(label: &str, polling: Polling) {
    let sim = Sim::start_local(SimConfig { create_rate: 300, get_rate: 1000, seed: Some(1), ..SimConfig::default() })
        .await
        .expect("sim");
    let group = sim.state().add_group("bench");
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = EngineOptions {
        limits: Limits { max_creating: 30, create_per_sec: 300, get_per_sec: 1000, ..Limits::default() },
        polling,
        seed: Some(2),
        retry_503: false,
        storage: None,
        polling_file: None,
    };
    let (engine, mut rx, task) = seedance_assets::engine::start(
        seedance_assets::engine::Clients::single(client(&sim.base_url(), sim.state().api_key())),
        opts,
        &seedance_assets::engine::EngineFiles::in_data_dir(dir.path()),
    )
    .expect("engine");
    let start = Instant::now();
    let submitted = engine.submit(images(&group, 1000, &format!("bench/{label}")), false).await.expect("submit");
    let (finished, syncs, done_at) = wait_all_final_stats(&mut rx, submitted.accepted.len()).await;
    let wall = done_at.duration_since(start);
    let bound = sim.state().last_ready_at().expect("assets").duration_since(start);
    engine.send(EngineCommand::Shutdown);
    let _ = task.await;
    let stats = sim.stats();
    let active = finished.values().filter(|j| j.state == JobState::Active).count();
    println!(
        "  {label:<22} wall {:>6.2} s  bound {:>6.2} s  ratio {:>4.2}  GetAsset/asset {:>4.2}  429s {}  fsync/asset {:>4.2}  active {active}/1000",
        wall.as_secs_f64(),
        bound.as_secs_f64(),
        wall.as_secs_f64() / bound.as_secs_f64(),
        stats.get_asset_requests as f64 / 1000.0,
        stats.rate_limited,
        syncs as f64 / 1000.0,
    );
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn memory() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let mut sim = Command::new(env!("CARGO_BIN_EXE_seedance-assets"))
        .args(["sim", "--port", &port.to_string(), "--min-delay-ms", "120000", "--max-delay-ms", "120000"])
        .args(["--create-rate", "3000", "--get-rate", "10000", "--key", "bench-key"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("simulator binary");
    let mut group = String::new();
    {
        use std::io::BufRead;
        // The start-up line on stdout: SEEDANCE_BASE_URL=… SEEDANCE_API_KEY=… SEEDANCE_GROUP=…
        let stdout = sim.stdout.take().expect("stdout");
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.expect("line");
            if let Some(g) = line.split_whitespace().find_map(|w| w.strip_prefix("SEEDANCE_GROUP=")) {
                group = g.to_string();
                break;
            }
        }
    }
    let base = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("tempdir");
    let before = rss_kib();
    let opts = EngineOptions {
        limits: Limits { max_creating: 30, create_per_sec: 3000, get_per_sec: 10_000, ..Limits::default() },
        polling: Polling::default(),
        seed: Some(3),
        retry_503: false,
        storage: None,
        polling_file: None,
    };
    let (engine, mut rx, task) = seedance_assets::engine::start(
        seedance_assets::engine::Clients::single(client(&base, "bench-key")),
        opts,
        &seedance_assets::engine::EngineFiles::in_data_dir(dir.path()),
    )
    .expect("engine");
    let submitted = engine.submit(images(&group, 10_000, "bench/mem"), false).await.expect("submit");
    let mut processing = 0usize;
    let mut states: BTreeMap<u64, JobState> = BTreeMap::new();
    let mut peak = 0;
    let start = Instant::now();
    // Until all 10,000 are created and being polled, then 20 s more of polling.
    let mut all_in_flight_at = None;
    while all_in_flight_at.is_none_or(|t: Instant| t.elapsed() < Duration::from_secs(20)) {
        match tokio::time::timeout(Duration::from_millis(100), rx.recv()).await {
            Ok(Some(Update::Job(j))) => {
                let old = states.insert(j.id, j.state);
                if j.state == JobState::Processing && old != Some(JobState::Processing) {
                    processing += 1;
                }
            }
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => break,
        }
        peak = peak.max(rss_kib());
        if all_in_flight_at.is_none() && processing == submitted.accepted.len() {
            all_in_flight_at = Some(Instant::now());
        }
        assert!(start.elapsed() < Duration::from_secs(100), "creating 10,000 took too long");
    }
    engine.send(EngineCommand::Shutdown);
    let _ = task.await;
    let _ = sim.kill();
    let _ = sim.wait();
    println!(
        "  10,000 jobs in flight: peak RSS {:.1} MB (process before the engine: {:.1} MB; engine share {:.1} MB)",
        peak as f64 / 1024.0,
        before as f64 / 1024.0,
        (peak - before) as f64 / 1024.0
    );
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    println!("engine benchmarks (simulator on loopback, default processing delay 2-8 s)");
    rt.block_on(async {
        // Three runs: the schedule adapts to what it sees, so runs differ.
        for run in 1..=3 {
            throughput(&format!("default schedule #{run}"), Polling::default()).await;
        }
        let fixed = Polling {
            first_secs: 1.0,
            backoff: 1.0,
            max_interval_secs: 1.0,
            jitter: 0.0,
            adaptive: false,
            ..Polling::default()
        };
        throughput("fixed 1 s poller", fixed).await;
        memory().await;
    });
}
