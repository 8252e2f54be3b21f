//! Reconcile at scale: 1,600 imports against the simulator with faults
//! after the server acted (500, 502, 504, dropped, truncated, malformed)
//! and before it acted (503), on every endpoint (listings and GetAsset
//! too), with listings lagging creations by 2 s. Reports how many jobs
//! were ever Uncertain, how many are left, what was sent again, and
//! duplicate creations (target: 0 Uncertain whose creation the listing
//! shows or disproves, 0 duplicates).
//!
//! `cargo bench --bench reconcile`

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use seedance_assets::config::{Limits, Polling, Reconcile};
use seedance_assets::engine::{Clients, Command, EngineFiles, EngineOptions, JobState, Update};
use seedance_assets::sim::{FaultRates, Sim, SimConfig};

const JOBS: usize = 1600;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let faults = FaultRates {
        http500: 0.08,
        http502: 0.05,
        http504: 0.05,
        drop: 0.05,
        truncated: 0.05,
        malformed: 0.02,
        http503: 0.05,
        ..FaultRates::default()
    };
    let cfg = SimConfig {
        min_delay_ms: 500,
        max_delay_ms: 3000,
        listing_lag_ms: 2000,
        faults,
        seed: Some(21),
        ..SimConfig::default()
    };
    let sim = Sim::start_local(cfg).await.expect("simulator");
    let group = sim.state().add_group("bench");
    let dir = tempfile::tempdir().unwrap();
    let opts = EngineOptions {
        limits: Limits { max_creating: 30, create_per_sec: 30, get_per_sec: 100, ..Limits::default() },
        polling: Polling::default(),
        seed: Some(5),
        retry_503: false,
        storage: None,
        polling_file: None,
        reconcile: Reconcile { auto: true, every_secs: 2.0, settle_secs: 5.0, window_secs: 120.0 },
    };
    let client = support::client(&sim.base_url(), sim.state().api_key());
    let (engine, mut rx, task) =
        seedance_assets::engine::start(Clients::single(client), opts, &EngineFiles::in_data_dir(dir.path()))
            .expect("engine");
    let started = Instant::now();
    let accepted = engine.submit(support::images(&group, JOBS, "rc"), false).await.unwrap().accepted;
    let mut jobs = BTreeMap::new();
    let mut ever_uncertain = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    let settled = |jobs: &BTreeMap<u64, seedance_assets::engine::Job>| {
        accepted.iter().all(|id| {
            jobs.get(id)
                .is_some_and(|j: &seedance_assets::engine::Job| j.state.is_final() && j.state != JobState::Uncertain)
        })
    };
    while !settled(&jobs) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Update::Job(j))) => {
                if j.state == JobState::Uncertain {
                    ever_uncertain.insert(j.id);
                }
                jobs.insert(j.id, *j);
            }
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    let took = started.elapsed();
    let mut by_state: BTreeMap<String, usize> = BTreeMap::new();
    for j in jobs.values() {
        *by_state.entry(j.state.to_string()).or_default() += 1;
    }
    let stats = sim.stats();
    let mut made: BTreeMap<&str, usize> = BTreeMap::new();
    for (key, created) in &stats.create_log {
        if *created {
            *made.entry(key.as_str()).or_default() += 1;
        }
    }
    let paid_twice = made.values().filter(|n| **n > 1).count();
    let resent = jobs.values().filter(|j| ever_uncertain.contains(&j.id) && j.create_attempts > 1).count();
    let left = jobs.values().filter(|j| j.state == JobState::Uncertain).count();
    println!("reconcile: {JOBS} imports, faults on every endpoint, listings lagging 2 s, settle 5 s");
    println!(
        "  ever Uncertain: {} (creations the simulator hid: {})",
        ever_uncertain.len(),
        stats.ambiguous_creations.len()
    );
    println!("  left Uncertain: {left}");
    println!("  proven never created and sent again: {resent}");
    println!("  final states: {by_state:?}");
    println!(
        "  items created: {} of {JOBS}; created twice: {paid_twice}; duplicate creations: {}",
        made.len(),
        stats.duplicate_creations
    );
    println!("  all settled in {:.1} s; listing requests: {}", took.as_secs_f64(), stats.library_requests);
    engine.send(Command::Shutdown);
    let _ = task.await;
}
