//! Learned polling against the real simulator: the simulator's lognormal
//! processing times and detection latency, and the learned processing times
//! kept in `polling.json` for the next engine start.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use seedance_assets::api::{AssetStatus, CreateAssetRequest};
use seedance_assets::config::Polling;
use seedance_assets::engine::{Command, EngineOptions, JobState, Level, NewJob, Update};
use seedance_assets::sim::{DelayDist, Sim, SimConfig, SimStats};

use seedance_assets::config::Limits;

use common::{client_with, engine_with, images, quick_sim_config};

#[tokio::test]
async fn the_simulator_draws_lognormal_times_and_records_detection_latency() {
    let cfg =
        SimConfig { delay_dist: DelayDist::Lognormal, delay_median_ms: 200, delay_sigma: 0.5, ..quick_sim_config() };
    let sim = Sim::start_local(cfg).await.unwrap();
    let client = client_with(&sim, sim.state().api_key(), Duration::from_secs(5));
    let group = sim.state().add_group("g");
    let mut tasks = Vec::new();
    for job in images(&group, 12, "sim") {
        let req =
            CreateAssetRequest { group_id: group.clone(), url: job.url, asset_type: job.asset_type, name: job.name };
        tasks.push(client.create_asset(&req).await.unwrap().task_id);
    }
    let mut calls = 0;
    for task in &tasks {
        loop {
            calls += 1;
            if client.get_asset(task).await.unwrap().status == AssetStatus::Active {
                break;
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
    // A second Active answer is not a second detection.
    client.get_asset(&tasks[0]).await.unwrap();
    let stats: SimStats = reqwest::get(format!("{}_stats", sim.base_url())).await.unwrap().json().await.unwrap();
    assert_eq!(stats.get_asset_requests, calls + 1);
    let d = &stats.detection;
    assert_eq!(d.count, 12);
    assert!(d.mean_ms >= 0.0 && d.p50_ms <= d.p99_ms && d.p99_ms <= d.max_ms, "{d:?}");
    assert!(d.mean_ms <= d.max_ms);
    // The option is checked.
    let bad = SimConfig { delay_sigma: -1.0, ..SimConfig::default() };
    assert!(bad.validate().unwrap_err().to_string().contains("--delay-sigma"));
}

/// Runs `jobs` through an engine on `dir` with the learned file, until all
/// are final; returns the log lines.
async fn run(sim: &Sim, dir: &std::path::Path, polling: Polling, jobs: Vec<NewJob>) -> Vec<(Level, String)> {
    let opts = EngineOptions {
        limits: Limits { max_creating: 30, create_per_sec: 300, get_per_sec: 1000, ..Limits::default() },
        polling,
        seed: Some(5),
        retry_503: false,
        storage: None,
        polling_file: Some(dir.join("polling.json")),
        reconcile: Default::default(),
    };
    let (engine, mut rx, task) = engine_with(sim, dir, opts, Duration::from_secs(5));
    let accepted = engine.submit(jobs, false).await.unwrap().accepted;
    let mut logs = Vec::new();
    let mut states = BTreeMap::new();
    // The journal's jobs from earlier runs are reported too: wait for these.
    while states.len() < accepted.len() || !states.values().all(|s: &JobState| s.is_final()) {
        match rx.recv().await.expect("engine running") {
            Update::Job(j) if accepted.contains(&j.id) => {
                states.insert(j.id, j.state);
            }
            Update::Log(l) => logs.push((l.level, l.text)),
            _ => {}
        }
    }
    engine.send(Command::Shutdown);
    while let Some(u) = rx.recv().await {
        if let Update::Log(l) = u {
            logs.push((l.level, l.text));
        }
    }
    task.await.unwrap();
    assert!(states.values().all(|s| *s == JobState::Active), "{states:?}");
    logs
}

#[tokio::test]
async fn learned_processing_times_are_saved_and_used_by_the_next_start() {
    let sim =
        Sim::start_local(SimConfig { min_delay_ms: 1000, max_delay_ms: 2500, ..quick_sim_config() }).await.unwrap();
    let group = sim.state().add_group("g");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("polling.json");
    // Looks at most every half second, so the test is quick.
    let polling = Polling { max_interval_secs: 0.5, first_secs: 0.1, ..Polling::default() };

    // First run: nothing known; it learns and saves at shutdown.
    let logs = run(&sim, dir.path(), polling.clone(), images(&group, 10, "a")).await;
    assert!(!logs.iter().any(|(_, t)| t.contains("learned in")), "nothing was learned before: {logs:?}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let kind = &saved["kinds"]["Image/default"];
    assert_eq!(kind["observations"].as_array().unwrap().len(), 10, "{saved}");
    let median = kind["median_secs"].as_f64().unwrap();
    // The server's times have whole seconds: 1-2.5 s reads as 0.5-3 s, and
    // the prior (median 16 s) is outweighed by ten observations.
    assert!(median > 0.5 && median < 6.0, "{saved}");
    assert!(
        !std::fs::read_dir(dir.path()).unwrap().any(|e| { e.unwrap().file_name().to_string_lossy().contains(".tmp") })
    );

    // Second run: the engine starts from what the first learned, and adds to it.
    let logs = run(&sim, dir.path(), polling.clone(), images(&group, 5, "b")).await;
    let line = logs.iter().find(|(_, t)| t.contains("learned in")).expect("the learned times are used");
    assert_eq!(line.0, Level::Info);
    assert!(line.1.contains("Image/default: median") && line.1.contains("(10 observed)"), "{line:?}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(saved["kinds"]["Image/default"]["observations"].as_array().unwrap().len(), 15, "{saved} {logs:?}");

    // A corrupt file: a warning, the prior, and the run goes on (and
    // replaces the file with what it learns).
    std::fs::write(&path, b"{ not json").unwrap();
    let logs = run(&sim, dir.path(), polling, images(&group, 3, "c")).await;
    assert!(
        logs.iter().any(|(l, t)| *l == Level::Warn && t.contains("polling.json") && t.contains("9-30 s")),
        "{logs:?}"
    );
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(saved["kinds"]["Image/default"]["observations"].as_array().unwrap().len(), 3);
}
