//! Polling benchmark against the simulator over loopback (see BENCHMARKS.md):
//! lognormal processing times (median 15 s, σ = 0.5), default rate limits
//! (30 CreateAsset/s, 100 GetAsset/s on both sides).
//!
//! - 300 imports with the learned schedule (starting from the prior, on a
//!   fresh data dir), beside fixed 1 s, 3 s, 5 s, 6.5 s and 8 s pollers;
//! - then 20 imports on the same data dir (what the 300 taught, carried over
//!   in `polling.json`), and 20 on a fresh one (the prior), each beside the
//!   same fixed pollers.
//!
//! Reported per run: GetAsset calls per asset and the detection latency the
//! simulator recorded (from each asset's ready moment to the first GetAsset
//! answering Active). Batches of 20 are repeated over five simulator seeds
//! and pooled. Runs that do not depend on each other go at the same time,
//! each with its own simulator.
//!
//! Run: `cargo bench --bench polling`

mod support;
use support::{client, images};

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use seedance_assets::config::{Limits, Polling};
use seedance_assets::engine::{Command, EngineOptions, JobState, Update};
use seedance_assets::sim::{DelayDist, Sim, SimConfig};

/// One run's numbers.
struct Outcome {
    label: String,
    assets: usize,
    active: usize,
    calls_per_asset: f64,
    mean: f64,
    p50: f64,
    p99: f64,
    max: f64,
    wall: f64,
}

fn fixed(secs: f64) -> Polling {
    Polling {
        first_secs: secs,
        backoff: 1.0,
        max_interval_secs: secs,
        jitter: 0.0,
        adaptive: false,
        ..Polling::default()
    }
}

/// Imports `n` assets with `polling` on `data` (its journal and learned
/// file) against a fresh simulator, until all are final.
async fn run(label: String, n: usize, polling: Polling, data: &Path, seed: u64) -> Outcome {
    let sim = Sim::start_local(SimConfig {
        delay_dist: DelayDist::Lognormal,
        delay_median_ms: 15_000,
        delay_sigma: 0.5,
        seed: Some(seed),
        ..SimConfig::default()
    })
    .await
    .expect("sim");
    let group = sim.state().add_group("bench");
    let client = client(&sim.base_url(), sim.state().api_key());
    let opts = EngineOptions {
        limits: Limits::default(),
        polling,
        seed: Some(seed),
        retry_503: false,
        storage: None,
        polling_file: Some(data.join("polling.json")),
        reconcile: Default::default(),
    };
    let (engine, mut rx, task) = seedance_assets::engine::start(
        seedance_assets::engine::Clients::single(client),
        opts,
        &seedance_assets::engine::EngineFiles::in_data_dir(data),
    )
    .expect("engine");
    let start = Instant::now();
    let accepted = engine
        .submit(
            images(&group, n, &format!("polling/{}", label.replace(|c: char| !c.is_ascii_alphanumeric(), "-"))),
            false,
        )
        .await
        .expect("submit")
        .accepted;
    let mut states: BTreeMap<u64, JobState> = BTreeMap::new();
    while states.len() < accepted.len() || !states.values().all(|s| s.is_final()) {
        match rx.recv().await.expect("engine running") {
            Update::Job(j) if accepted.contains(&j.id) => {
                states.insert(j.id, j.state);
            }
            _ => {}
        }
    }
    let wall = start.elapsed().as_secs_f64();
    engine.send(Command::Shutdown);
    while rx.recv().await.is_some() {}
    let _ = task.await;
    let stats = sim.stats();
    let d = stats.detection;
    Outcome {
        label,
        assets: n,
        active: states.values().filter(|s| **s == JobState::Active).count(),
        calls_per_asset: stats.get_asset_requests as f64 / n as f64,
        mean: d.mean_ms / 1000.0,
        p50: d.p50_ms / 1000.0,
        p99: d.p99_ms / 1000.0,
        max: d.max_ms / 1000.0,
        wall,
    }
}

fn print(o: &Outcome) {
    println!(
        "  {:<26} GetAsset/asset {:>5.2}  latency mean {:>5.2} s  p50 {:>5.2} s  p99 {:>5.2} s  max {:>5.2} s  active {}/{}  wall {:>5.1} s",
        o.label, o.calls_per_asset, o.mean, o.p50, o.p99, o.max, o.active, o.assets, o.wall
    );
}

/// How the learned run compares with the fixed ones: which it beats on both
/// calls and latency, and whether it lies below the fixed pollers' frontier
/// (the latency a fixed interval would have at the same number of calls,
/// interpolated between the neighbouring fixed intervals).
fn verdict(learned: &Outcome, fixed: &[Outcome]) {
    let (beaten, not): (Vec<&Outcome>, Vec<&Outcome>) =
        fixed.iter().partition(|f| learned.calls_per_asset < f.calls_per_asset && learned.mean < f.mean);
    let names = |v: &[&Outcome]| v.iter().map(|o| o.label.as_str()).collect::<Vec<_>>().join(", ");
    println!("  => {}: fewer calls AND lower mean latency than: {}", learned.label, names(&beaten));
    if !not.is_empty() {
        println!("     not both against: {}", names(&not));
    }
    let mut points: Vec<(f64, f64)> = fixed.iter().map(|f| (f.calls_per_asset, f.mean)).collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let c = learned.calls_per_asset;
    if let Some(w) = points.windows(2).find(|w| w[0].0 <= c && c <= w[1].0) {
        let frontier = w[0].1 + (w[1].1 - w[0].1) * (c - w[0].0) / (w[1].0 - w[0].0);
        println!(
            "     a fixed interval making {c:.2} calls per asset would see {frontier:.2} s mean latency (learned: {:.2} s)",
            learned.mean
        );
    }
}

/// The numbers of several runs of one configuration together: calls and
/// mean latency pooled (the runs have the same size), the worst p99 and max.
fn pooled(label: &str, runs: &[Outcome]) -> Outcome {
    let n = runs.len() as f64;
    let assets: usize = runs.iter().map(|r| r.assets).sum();
    Outcome {
        label: label.to_string(),
        assets,
        active: runs.iter().map(|r| r.active).sum(),
        calls_per_asset: runs.iter().map(|r| r.calls_per_asset * r.assets as f64).sum::<f64>() / assets as f64,
        mean: runs.iter().map(|r| r.mean).sum::<f64>() / n,
        p50: runs.iter().map(|r| r.p50).sum::<f64>() / n,
        p99: runs.iter().map(|r| r.p99).fold(0.0, f64::max),
        max: runs.iter().map(|r| r.max).fold(0.0, f64::max),
        wall: runs.iter().map(|r| r.wall).fold(0.0, f64::max),
    }
}

/// Batches of 20 repeated with these simulator seeds (20 assets are few:
/// one batch's numbers are mostly luck).
const SEEDS_20: [u64; 5] = [3, 4, 5, 6, 7];
/// Fixed intervals compared, in seconds.
const INTERVALS: [f64; 5] = [1.0, 3.0, 5.0, 6.5, 8.0];

/// Runs batches of 20 with `polling`, one per seed, each on its own data dir
/// (a copy of `learned` when given), at the same time.
async fn batches_of_20(label: &str, polling: Polling, learned: Option<&Path>) -> Vec<Outcome> {
    let dirs: Vec<tempfile::TempDir> = SEEDS_20.iter().map(|_| tempfile::tempdir().expect("tempdir")).collect();
    if let Some(file) = learned {
        for d in &dirs {
            std::fs::copy(file, d.path().join("polling.json")).expect("copy the learned file");
        }
    }
    futures::future::join_all(
        SEEDS_20
            .iter()
            .zip(&dirs)
            .map(|(&seed, d)| run(format!("{label} #{seed}"), 20, polling.clone(), d.path(), seed)),
    )
    .await
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    println!("polling benchmark (simulator: lognormal processing, median 15 s, sigma 0.5; 30 create/s, 100 get/s)");
    rt.block_on(async {
        // The 300s side by side, each with its own simulator (same seed:
        // the same processing times in the same order).
        let learned_dir = tempfile::tempdir().expect("tempdir");
        let fixed_dirs: Vec<tempfile::TempDir> =
            INTERVALS.iter().map(|_| tempfile::tempdir().expect("tempdir")).collect();
        let learned = run("learned, 300 (from prior)".into(), 300, Polling::default(), learned_dir.path(), 1);
        let fixed300 = futures::future::join_all(
            INTERVALS
                .iter()
                .zip(&fixed_dirs)
                .map(|(&s, d)| run(format!("fixed {s} s, 300"), 300, fixed(s), d.path(), 1)),
        );
        let (learned, fixed300) = tokio::join!(learned, fixed300);
        let file = learned_dir.path().join("polling.json");
        let saved = std::fs::read_to_string(&file).unwrap_or_default();
        let model: serde_json::Value = serde_json::from_str(&saved).unwrap_or_default();
        let kind = &model["kinds"]["Image/default"];
        println!(
            "learned after the 300: median {} s, sigma {} ({} observations in polling.json)",
            kind["median_secs"],
            kind["sigma"],
            kind["observations"].as_array().map_or(0, Vec::len)
        );
        println!("300 imports:");
        print(&learned);
        fixed300.iter().for_each(print);
        verdict(&learned, &fixed300);

        // Then batches of 20: with what the 300 taught, from the prior, and
        // fixed, all at the same time.
        let warm = batches_of_20("learned, 20 after the 300", Polling::default(), Some(&file));
        let cold = batches_of_20("learned, 20 cold (prior)", Polling::default(), None);
        let fixed20 = futures::future::join_all(INTERVALS.iter().map(|&s| async move {
            pooled(&format!("fixed {s} s, 20"), &batches_of_20(&format!("fixed {s} s"), fixed(s), None).await)
        }));
        let (warm, cold, fixed20) = tokio::join!(warm, cold, fixed20);
        println!("batches of 20 (each configuration: {} batches, simulator seeds {SEEDS_20:?}):", SEEDS_20.len());
        warm.iter().chain(&cold).for_each(print);
        println!("pooled over the batches (mean of means; worst p99 and max):");
        let (warm, cold) = (pooled("learned, 20 after the 300", &warm), pooled("learned, 20 cold (prior)", &cold));
        print(&warm);
        print(&cold);
        fixed20.iter().for_each(print);
        verdict(&warm, &fixed20);
        verdict(&cold, &fixed20);
    });
}
