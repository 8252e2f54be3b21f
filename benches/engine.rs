//! Engine benchmarks against the simulator over loopback (see BENCHMARKS.md):
//!
//! 1. 1,000 imports with limits raised to 300/s create and 1,000/s get, at
//!    the simulator's default processing delay: wall time against the bound
//!    set by the rate limits and processing delays, 429s provoked, and
//!    GetAsset calls per asset, for the default schedule and a fixed 1 s poller.
//! 2. 10,000 jobs in flight: the engine process's peak RSS (the simulator
//!    runs in a separate process).
//! 3. 300 imports against an account that lets 30 process at once, for
//!    each form of refusal: wall time against the concurrency bound.
//! 4. 5,000 in flight against a server that takes 2 s to answer each
//!    GetAsset, 60 s processing: looks at final jobs, GetAsset per asset,
//!    peak RSS and CPU time.
//!
//! 5. 300 imports, lognormal processing (median 15 s, σ 0.5), about one in
//!    200 taking 600 s instead: the most looks any asset got, detection.
//! 6. 5,000 imports at the default 30 CreateAsset/s on both sides, short
//!    processing: wall time against the rate bound, 429s.
//! 7. A cold batch (fresh data dir) of 150 videos taking 60-120 s and 150
//!    images taking 5-10 s, interleaved: detection latency.
//! 8. `import --file` of 1,000, 20,000 and 100,000 lines by the release
//!    binary: its peak RSS (the queue past the engine's window waits in the
//!    job store, the list is read as it goes).
//! 9. A normal batch (300 at median 15 s) after a 3× slower one, against
//!    one after a normal batch, each engine starting from what the one
//!    before learned (`polling.json`): detection latency.
//!
//! Run: `cargo bench --bench engine` (all), or name sections:
//! `cargo bench --bench engine -- throughput memory limits slow-get tail pace mixed import-memory regime`.

mod support;
use support::{client, images, start_sim};

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::ValueEnum;
use seedance_assets::config::{Limits, Polling};
use seedance_assets::engine::{Command as EngineCommand, EngineHandle, EngineOptions, Job, JobState, Update};
use seedance_assets::sim::{AccountLimits, LimitForm, Sim, SimConfig};

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
    let (engine, mut rx, task) = start_engine(
        &sim.base_url(),
        sim.state().api_key(),
        dir.path(),
        Limits { max_creating: 30, create_per_sec: 300, get_per_sec: 1000, ..Limits::default() },
        polling,
        2,
    );
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

/// A `kB` field (`VmRSS`, `VmHWM` …) of a process's `/proc/…/status`; 0
/// when it cannot be read (the process is gone).
fn status_kib(process: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn rss_kib() -> u64 {
    status_kib("self", "VmRSS")
}

async fn memory() {
    let sim = start_sim(&[
        "--min-delay-ms",
        "120000",
        "--max-delay-ms",
        "120000",
        "--create-rate",
        "3000",
        "--get-rate",
        "10000",
    ]);
    let (base, group) = (sim.base.clone(), sim.group.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let before = rss_kib();
    let (engine, mut rx, task) = start_engine(
        &base,
        "bench-key",
        dir.path(),
        Limits { max_creating: 30, create_per_sec: 3000, get_per_sec: 10_000, ..Limits::default() },
        Polling::default(),
        3,
    );
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
    drop(sim);
    println!(
        "  10,000 jobs in flight: peak RSS {:.1} MB (process before the engine: {:.1} MB; engine share {:.1} MB)",
        peak as f64 / 1024.0,
        before as f64 / 1024.0,
        (peak - before) as f64 / 1024.0
    );
}

/// An engine on the job store in `dir`, talking to the API at `base` with
/// `key`: its handle, its updates and its task.
fn start_engine(
    base: &str,
    key: &str,
    dir: &std::path::Path,
    limits: Limits,
    polling: Polling,
    seed: u64,
) -> (EngineHandle, tokio::sync::mpsc::UnboundedReceiver<Update>, tokio::task::JoinHandle<()>) {
    start_engine_learning(base, key, dir, limits, polling, seed, None)
}

/// [`start_engine`] keeping what it learns about processing times in
/// `polling_file` (as the program does in its data dir), so that a later
/// engine starts from it.
fn start_engine_learning(
    base: &str,
    key: &str,
    dir: &std::path::Path,
    limits: Limits,
    polling: Polling,
    seed: u64,
    polling_file: Option<std::path::PathBuf>,
) -> (EngineHandle, tokio::sync::mpsc::UnboundedReceiver<Update>, tokio::task::JoinHandle<()>) {
    let opts = EngineOptions {
        limits,
        polling,
        seed: Some(seed),
        retry_503: false,
        storage: None,
        polling_file,
        reconcile: Default::default(),
    };
    seedance_assets::engine::start(
        seedance_assets::engine::Clients::single(client(base, key)),
        opts,
        &seedance_assets::engine::EngineFiles::in_data_dir(dir),
    )
    .expect("engine")
}

/// The earliest moment any client could see every asset done under a limit
/// of `slots` processing at once and `rate` creations per second, given
/// each asset's processing time in order of creation: each creation waits
/// for its rate slot and for a free processing slot.
fn concurrency_bound(times: &[Duration], slots: usize, rate: f64) -> Duration {
    let mut free = std::collections::BinaryHeap::new();
    for _ in 0..slots {
        free.push(std::cmp::Reverse(Duration::ZERO));
    }
    let mut end = Duration::ZERO;
    for (i, d) in times.iter().enumerate() {
        let std::cmp::Reverse(slot) = free.pop().expect("slots");
        let start = slot.max(Duration::from_secs_f64(i as f64 / rate));
        end = end.max(start + *d);
        free.push(std::cmp::Reverse(start + *d));
    }
    end
}

async fn limited(form: LimitForm) {
    let account = AccountLimits { max_processing: 30, limit_form: form, max_assets: 0 };
    let cfg = SimConfig {
        create_rate: 30,
        get_rate: 100,
        min_delay_ms: 1000,
        max_delay_ms: 3000,
        account,
        seed: Some(5),
        ..SimConfig::default()
    };
    let sim = Sim::start_local(cfg).await.expect("sim");
    let group = sim.state().add_group("bench");
    let dir = tempfile::tempdir().expect("tempdir");
    let (engine, mut rx, task) =
        start_engine(&sim.base_url(), sim.state().api_key(), dir.path(), Limits::default(), Polling::default(), 2);
    let start = Instant::now();
    let submitted = engine.submit(images(&group, 300, &format!("bench/{form:?}")), false).await.expect("submit");
    let (finished, _, done_at) = wait_all_final_stats(&mut rx, submitted.accepted.len()).await;
    let wall = done_at.duration_since(start);
    engine.send(EngineCommand::Shutdown);
    let _ = task.await;
    let stats = sim.stats();
    let bound = concurrency_bound(&sim.state().processing_times(), 30, 30.0);
    let active = finished.values().filter(|j| j.state == JobState::Active).count();
    let lost = finished.values().filter(|j| matches!(j.state, JobState::Rejected | JobState::Uncertain)).count();
    println!(
        "  30 processing, {:<10} wall {:>6.2} s  bound {:>6.2} s  ratio {:>4.2}  refused {:>4}  rejected/uncertain {lost}  duplicates {}  active {active}/300",
        format!("{form:?}"),
        wall.as_secs_f64(),
        bound.as_secs_f64(),
        wall.as_secs_f64() / bound.as_secs_f64(),
        stats.refused_processing,
        stats.duplicate_creations,
    );
}

/// CPU seconds (user + system) this process has used.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 (11 and 12 after the name).
    let ticks: f64 = [11, 12].iter().filter_map(|i| fields.get(*i)?.parse::<f64>().ok()).sum();
    ticks / 100.0
}

async fn slow_get() {
    let sim = start_sim(&[
        "--min-delay-ms",
        "60000",
        "--max-delay-ms",
        "60000",
        "--create-rate",
        "300",
        "--get-rate",
        "100000",
        "--get-delay-ms",
        "2000",
    ]);
    let (base, group) = (sim.base.clone(), sim.group.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let (rss_before, cpu_before) = (rss_kib(), cpu_secs());
    let (engine, mut rx, task) = start_engine(
        &base,
        "bench-key",
        dir.path(),
        Limits { create_per_sec: 300, ..Limits::default() },
        Polling::default(),
        3,
    );
    let n = 5000;
    let submitted = engine.submit(images(&group, n, "bench/slowget"), false).await.expect("submit");
    let mut peak = 0;
    let mut done = 0;
    let mut states: BTreeMap<u64, JobState> = BTreeMap::new();
    let start = Instant::now();
    let mut sampled = Instant::now();
    while done < submitted.accepted.len() {
        match tokio::time::timeout(Duration::from_millis(100), rx.recv()).await {
            Ok(Some(Update::Job(j))) => {
                let was = states.insert(j.id, j.state);
                if j.state.is_final() && !was.is_some_and(|s| s.is_final()) {
                    done += 1;
                }
            }
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => break,
        }
        // Sampled every 100 ms: reading /proc costs CPU this bench measures.
        if sampled.elapsed() >= Duration::from_millis(100) {
            sampled = Instant::now();
            peak = peak.max(rss_kib());
        }
        assert!(start.elapsed() < Duration::from_secs(600), "5,000 imports took too long");
    }
    let wall = start.elapsed();
    // Looks planned after the last answer would show up now.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let cpu = cpu_secs() - cpu_before;
    engine.send(EngineCommand::Shutdown);
    let _ = task.await;
    let http = seedance_assets::api::http_client_builder(&Default::default()).expect("tls").build().expect("client");
    let stats: serde_json::Value =
        http.get(format!("{base}/_stats")).send().await.expect("stats").json().await.expect("json");
    drop(sim);
    let active = states.values().filter(|s| **s == JobState::Active).count();
    println!(
        "  5,000 in flight, GetAsset answered in 2 s, 60 s processing: wall {:.1} s  GetAsset/asset {:.2}  looks at final jobs {}  overlapping looks {}  peak RSS {:.1} MB (before: {:.1} MB)  CPU {:.1} s ({:.2} ms per import)  active {active}/{n}",
        wall.as_secs_f64(),
        stats["get_asset_requests"].as_f64().unwrap_or(0.0) / n as f64,
        stats["looks_after_final"],
        stats["overlapping_looks"],
        peak as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        cpu,
        cpu * 1000.0 / n as f64,
    );
}

async fn tail() {
    let cfg = SimConfig {
        delay_dist: seedance_assets::sim::DelayDist::Lognormal,
        delay_median_ms: 15_000,
        delay_sigma: 0.5,
        tail_share: 0.005,
        tail_ms: 600_000,
        seed: Some(11),
        ..SimConfig::default()
    };
    let sim = Sim::start_local(cfg).await.expect("sim");
    let group = sim.state().add_group("bench");
    let dir = tempfile::tempdir().expect("tempdir");
    let (engine, mut rx, task) =
        start_engine(&sim.base_url(), sim.state().api_key(), dir.path(), Limits::default(), Polling::default(), 2);
    let submitted = engine.submit(images(&group, 300, "bench/tail"), false).await.expect("submit");
    let (finished, _, _) = wait_all_final_stats(&mut rx, submitted.accepted.len()).await;
    engine.send(EngineCommand::Shutdown);
    let _ = task.await;
    let stats = sim.stats();
    let slow = sim.state().processing_times().iter().filter(|d| d.as_secs() >= 600).count();
    let active = finished.values().filter(|j| j.state == JobState::Active).count();
    let d = &stats.detection;
    println!(
        "  300 at median 15 s, {slow} of them 600 s: most looks at one asset {}  GetAsset/asset {:.2}  detection mean {:.2} s p99 {:.2} s max {:.1} s  active {active}/300",
        stats.most_looks,
        stats.get_asset_requests as f64 / 300.0,
        d.mean_ms / 1000.0,
        d.p99_ms / 1000.0,
        d.max_ms / 1000.0,
    );
}

async fn pace() {
    let cfg = SimConfig { min_delay_ms: 200, max_delay_ms: 500, seed: Some(13), ..SimConfig::default() };
    let sim = Sim::start_local(cfg).await.expect("sim");
    let group = sim.state().add_group("bench");
    let dir = tempfile::tempdir().expect("tempdir");
    let polling = Polling { first_secs: 0.2, max_interval_secs: 0.5, ..Polling::default() };
    let (engine, mut rx, task) =
        start_engine(&sim.base_url(), sim.state().api_key(), dir.path(), Limits::default(), polling, 2);
    let n = 5000;
    let start = Instant::now();
    let submitted = engine.submit(images(&group, n, "bench/pace"), false).await.expect("submit");
    let (finished, _, _) = wait_all_final_stats(&mut rx, submitted.accepted.len()).await;
    engine.send(EngineCommand::Shutdown);
    let _ = task.await;
    let stats = sim.stats();
    // The earliest any client pacing at 30/s could see them all ready.
    let bound = concurrency_bound(&sim.state().processing_times(), n, 30.0).as_secs_f64();
    let last_ready = sim.state().last_ready_at().expect("assets").duration_since(start).as_secs_f64();
    let active = finished.values().filter(|j| j.state == JobState::Active).count();
    println!(
        "  5,000 at 30/s: last asset ready {last_ready:.2} s  rate bound {bound:.2} s  ratio {:.4}  CreateAsset {}  429s {}  active {active}/{n}",
        last_ready / bound,
        stats.create_asset_requests,
        stats.rate_limited,
    );
}

async fn mixed() {
    let cfg = SimConfig {
        min_delay_ms: 5000,
        max_delay_ms: 10_000,
        video_min_delay_ms: 60_000,
        video_max_delay_ms: 120_000,
        seed: Some(17),
        ..SimConfig::default()
    };
    let sim = Sim::start_local(cfg).await.expect("sim");
    let group = sim.state().add_group("bench");
    let dir = tempfile::tempdir().expect("tempdir");
    let (engine, mut rx, task) =
        start_engine(&sim.base_url(), sim.state().api_key(), dir.path(), Limits::default(), Polling::default(), 2);
    let mut jobs = images(&group, 300, "bench/mixed");
    for (i, j) in jobs.iter_mut().enumerate().filter(|(i, _)| i % 2 == 1) {
        j.asset_type = seedance_assets::api::AssetType::Video;
        j.url = format!("https://media.example/bench/mixed/{i}.mp4");
    }
    let submitted = engine.submit(jobs, false).await.expect("submit");
    let mut finished: BTreeMap<u64, Job> = BTreeMap::new();
    let start = Instant::now();
    while finished.values().filter(|j| j.state.is_final()).count() < submitted.accepted.len() {
        match tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
            Ok(Some(Update::Job(j))) => {
                finished.insert(j.id, *j);
            }
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => panic!("the engine stopped"),
        }
        assert!(start.elapsed() < Duration::from_secs(400), "mixed: not all final after 400 s: {:?}", {
            let mut open: Vec<(u64, JobState, String)> = finished
                .values()
                .filter(|j| !j.state.is_final())
                .map(|j| (j.id, j.state, format!("{:?}", j.spec.asset_type)))
                .collect();
            open.truncate(10);
            (open, sim.stats().get_asset_requests)
        });
    }
    engine.send(EngineCommand::Shutdown);
    let _ = task.await;
    let stats = sim.stats();
    let active = finished.values().filter(|j| j.state == JobState::Active).count();
    let d = &stats.detection;
    println!(
        "  cold, 150 videos 60-120 s + 150 images 5-10 s: GetAsset/asset {:.2}  detection mean {:.2} s p50 {:.2} s p99 {:.2} s max {:.2} s  active {active}/300",
        stats.get_asset_requests as f64 / 300.0,
        d.mean_ms / 1000.0,
        d.p50_ms / 1000.0,
        d.p99_ms / 1000.0,
        d.max_ms / 1000.0,
    );
}

/// One batch of 300 images at a lognormal median of `median_ms` (σ 0.3),
/// run by an engine that keeps what it learns in `dir`: the detection
/// latency the simulator measured.
async fn regime_batch(dir: &std::path::Path, median_ms: u64, seed: u64, label: &str) -> (f64, f64, f64, usize) {
    let cfg = SimConfig {
        delay_dist: seedance_assets::sim::DelayDist::Lognormal,
        delay_median_ms: median_ms,
        delay_sigma: 0.3,
        seed: Some(seed),
        ..SimConfig::default()
    };
    let sim = Sim::start_local(cfg).await.expect("sim");
    let group = sim.state().add_group("bench");
    let (engine, mut rx, task) = start_engine_learning(
        &sim.base_url(),
        sim.state().api_key(),
        dir,
        Limits::default(),
        Polling::default(),
        seed,
        Some(dir.join("polling.json")),
    );
    let submitted = engine.submit(images(&group, 300, &format!("bench/regime/{label}")), false).await.expect("submit");
    let (finished, _, _) = wait_all_final_stats(&mut rx, submitted.accepted.len()).await;
    engine.send(EngineCommand::Shutdown);
    let _ = task.await;
    let active = finished.values().filter(|j| j.state == JobState::Active).count();
    let stats = sim.stats();
    let d = &stats.detection;
    (stats.get_asset_requests as f64 / 300.0, d.mean_ms / 1000.0, d.p99_ms / 1000.0, active)
}

/// A normal batch after a slow one (3× the processing time), against a
/// normal batch after a normal one: what one slow batch costs the next.
async fn regime() {
    for (first, name) in [(15_000, "after a normal batch"), (45_000, "after a 3x slower batch")] {
        let dir = tempfile::tempdir().expect("tempdir");
        regime_batch(dir.path(), first, 31, "first").await;
        let (looks, mean, p99, active) = regime_batch(dir.path(), 15_000, 37, "second").await;
        println!(
            "  300 at median 15 s {name:<24}: GetAsset/asset {looks:.2}  detection mean {mean:.2} s p99 {p99:.2} s  active {active}/300"
        );
    }
}

/// `import --file` of growing lists by the binary, at 1,000 creations/s
/// (1-3 s processing): the peak RSS of the importing process.
fn import_memory() {
    let bin = env!("CARGO_BIN_EXE_seedance-assets");
    let sim = start_sim(&[
        "--min-delay-ms",
        "1000",
        "--max-delay-ms",
        "3000",
        "--create-rate",
        "2000",
        "--get-rate",
        "10000",
    ]);
    let mut first = None;
    for lines in [1_000u64, 20_000, 100_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("config.toml");
        let limits = "[limits]\ncreate_per_sec = 1000\nmax_creating = 100\nget_per_sec = 2000\n";
        let text = format!("[api]\nbase_url = \"{}\"\n{limits}[preflight]\nmode = \"off\"\n", sim.base);
        std::fs::write(&config, text).expect("config");
        let list = dir.path().join("urls.txt");
        let urls: String = (0..lines).map(|i| format!("https://media.example/mem/{lines}/{i:07}.png\n")).collect();
        std::fs::write(&list, urls).expect("list");
        let start = Instant::now();
        let mut child = Command::new(bin)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["import", "--group", &sim.group, "--file"])
            .arg(&list)
            .env("SEEDANCE_API_KEY", "bench-key")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("import");
        let mut peak = 0;
        while child.try_wait().expect("wait").is_none() {
            peak = peak.max(status_kib(&child.id().to_string(), "VmHWM"));
            std::thread::sleep(Duration::from_millis(50));
        }
        let mb = peak as f64 / 1024.0;
        let base = *first.get_or_insert(peak);
        let per_line = (peak.saturating_sub(base) * 1024) as f64 / (lines - 1_000).max(1) as f64;
        println!(
            "  import --file of {lines:>7} lines: peak RSS {mb:.1} MB, {:.0} B per line above 1,000; {:.1} s",
            per_line,
            start.elapsed().as_secs_f64()
        );
    }
    drop(sim);
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let wanted: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let run = |section: &str| wanted.is_empty() || wanted.iter().any(|w| w == section);
    println!("engine benchmarks (simulator on loopback)");
    rt.block_on(async {
        if run("throughput") {
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
        }
        if run("memory") {
            memory().await;
        }
        if run("limits") {
            for &form in LimitForm::value_variants() {
                limited(form).await;
            }
        }
        if run("slow-get") {
            slow_get().await;
        }
        if run("tail") {
            tail().await;
        }
        if run("pace") {
            pace().await;
        }
        if run("mixed") {
            mixed().await;
        }
        if run("regime") {
            regime().await;
        }
        if run("import-memory") {
            import_memory();
        }
    });
}
