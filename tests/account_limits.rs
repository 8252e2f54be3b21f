//! The engine under the account's limits, against the simulator over
//! loopback: a limit on creations processing at once (refused in each form
//! a gateway may use), the asset quota, a 429 storm on GetAsset, and a slow
//! server that must not be looked at twice for the same asset.

mod clienv;
mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use clap::ValueEnum;
use common::*;
use seedance_assets::config::{Limits, Polling};
use seedance_assets::engine::{Command, Health, Job, JobId, JobState, Update};
use seedance_assets::sim::{AccountLimits, FaultRates, LimitForm, Sim, SimConfig};
use tokio::sync::mpsc::UnboundedReceiver;

fn fast_limits() -> Limits {
    Limits { create_per_sec: 300, get_per_sec: 1000, ..Limits::default() }
}

/// What a run showed besides the jobs: the last health and every log line.
#[derive(Default)]
struct Seen {
    jobs: BTreeMap<JobId, Job>,
    health: Health,
    caps: Vec<BTreeMap<String, usize>>,
    log: Vec<String>,
}

async fn follow(rx: &mut UnboundedReceiver<Update>, seen: &mut Seen, limit: Duration, done: impl Fn(&Seen) -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !done(seen) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Update::Job(j))) => {
                seen.jobs.insert(j.id, *j);
            }
            Ok(Some(Update::Health(h))) => {
                if !h.caps.is_empty() {
                    seen.caps.push(h.caps.clone());
                }
                seen.health = h;
            }
            Ok(Some(Update::Log(l))) => seen.log.push(l.text),
            Ok(Some(_)) => {}
            Ok(None) => panic!("the engine stopped"),
            Err(_) => {
                let mut states = BTreeMap::new();
                for j in seen.jobs.values() {
                    *states.entry(j.state).or_insert(0) += 1;
                }
                panic!("timed out; states: {states:?}; log: {:?}", seen.log.iter().rev().take(5).collect::<Vec<_>>());
            }
        }
    }
}

fn all(ids: &[JobId], state: JobState) -> impl Fn(&Seen) -> bool + '_ {
    move |seen| ids.iter().all(|id| seen.jobs.get(id).is_some_and(|j| j.state == state))
}

/// 300 imports against an account that lets 30 process at once: however
/// the refusal is worded, each item is created exactly once, none is
/// Rejected or Uncertain, and the engine learns a cap near the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_processing_limit_in_every_form_creates_each_item_once() {
    // Every form the simulator knows, the mixed one included.
    for &form in LimitForm::value_variants() {
        let cfg = SimConfig {
            create_rate: 300,
            get_rate: 1000,
            min_delay_ms: 300,
            max_delay_ms: 600,
            account: AccountLimits { max_processing: 30, limit_form: form, max_assets: 0 },
            ..quick_sim_config()
        };
        let sim = Sim::start_local(cfg).await.unwrap();
        let group = sim.state().add_group("g");
        let dir = tempfile::tempdir().unwrap();
        let (engine, mut rx, task) = engine(&sim, dir.path(), fast_limits(), quick_polling(), Duration::from_secs(5));
        let result = engine.submit(images(&group, 300, "p"), false).await.unwrap();
        let mut seen = Seen::default();
        follow(&mut rx, &mut seen, Duration::from_secs(120), all(&result.accepted, JobState::Active)).await;
        engine.send(Command::Shutdown);
        task.await.unwrap();
        let stats = sim.stats();
        assert!(stats.refused_processing > 0, "{form:?}: the limit was never reached");
        assert_eq!(stats.assets_created, 300, "{form:?}: one creation per item");
        assert_eq!(stats.duplicate_creations, 0, "{form:?}");
        assert!(seen.health.paused.is_none(), "{form:?}: a limit is not a pause: {:?}", seen.health);
        let caps: Vec<usize> = seen.caps.iter().filter_map(|c| c.get("default").copied()).collect();
        assert!(!caps.is_empty(), "{form:?}: no cap was learned");
        assert!(caps.iter().all(|&c| (1..=60).contains(&c)), "{form:?}: caps {caps:?}");
        // Refused creations wasted requests, not money; they were not many.
        assert!(
            stats.refused_processing < 300,
            "{form:?}: {} refusals for 300 items: the cap does not hold",
            stats.refused_processing
        );
    }
}

/// A full asset quota pauses creation for the profile with one message;
/// the rest stay queued (not Rejected), and after assets are deleted and
/// the user resumes, they are created, each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_asset_quota_pauses_the_profile_once_and_resume_finishes() {
    let cfg = SimConfig {
        account: AccountLimits { max_assets: 8, ..Default::default() },
        create_rate: 300,
        get_rate: 1000,
        ..quick_sim_config()
    };
    let sim = Sim::start_local(cfg).await.unwrap();
    let group = sim.state().add_group("g");
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits { max_creating: 1, ..fast_limits() };
    let (engine, mut rx, task) = engine(&sim, dir.path(), limits, quick_polling(), Duration::from_secs(5));
    let result = engine.submit(images(&group, 12, "q"), false).await.unwrap();
    let mut seen = Seen::default();
    follow(&mut rx, &mut seen, Duration::from_secs(30), |s| {
        !s.health.quota.is_empty() && s.jobs.values().filter(|j| j.state == JobState::Active).count() == 8
    })
    .await;
    // Nothing more is sent while paused.
    tokio::time::sleep(Duration::from_millis(800)).await;
    while let Ok(u) = rx.try_recv() {
        if let Update::Job(j) = u {
            seen.jobs.insert(j.id, *j);
        }
    }
    let refused = sim.stats().refused_quota;
    assert_eq!(refused, 1, "one refusal pauses the profile");
    let states: Vec<JobState> = result.accepted.iter().map(|id| seen.jobs[id].state).collect();
    assert_eq!(states.iter().filter(|s| **s == JobState::Queued).count(), 4, "{states:?}");
    let said = seen.log.iter().filter(|l| l.contains("holds as many assets")).count();
    assert_eq!(said, 1, "said once: {:?}", seen.log);
    assert!(seen.health.describe().unwrap().contains("delete assets"), "{:?}", seen.health.describe());
    sim.state().delete_all_assets();
    engine.send(Command::Resume(None));
    follow(&mut rx, &mut seen, Duration::from_secs(30), all(&result.accepted, JobState::Active)).await;
    assert!(seen.health.quota.is_empty());
    engine.send(Command::Shutdown);
    task.await.unwrap();
    let stats = sim.stats();
    assert_eq!((stats.assets_created, stats.duplicate_creations), (12, 0));
}

/// 80% of GetAsset (and CreateAsset) calls answered 429: the server
/// answers, so no job spends its retry budget and none ends Stuck.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_on_get_asset_leaves_no_job_stuck() {
    let cfg = SimConfig {
        create_rate: 1000,
        get_rate: 10_000,
        faults: FaultRates { http429: 0.8, ..Default::default() },
        ..quick_sim_config()
    };
    let sim = Sim::start_local(cfg).await.unwrap();
    let group = sim.state().add_group("g");
    let dir = tempfile::tempdir().unwrap();
    let polling = Polling { retry_budget: 3, stuck_after_secs: 600.0, ..quick_polling() };
    let (engine, mut rx, task) = engine(&sim, dir.path(), fast_limits(), polling, Duration::from_secs(5));
    let result = engine.submit(images(&group, 200, "s"), false).await.unwrap();
    let mut seen = Seen::default();
    let done = |s: &Seen| result.accepted.iter().all(|id| s.jobs.get(id).is_some_and(|j| j.state.is_final()));
    follow(&mut rx, &mut seen, Duration::from_secs(240), done).await;
    engine.send(Command::Shutdown);
    task.await.unwrap();
    let stuck: Vec<_> = seen.jobs.values().filter(|j| j.state != JobState::Active).collect();
    assert!(stuck.is_empty(), "{} not Active, e.g. {:?}", stuck.len(), stuck.first().map(|j| &j.error));
    assert_eq!(sim.stats().duplicate_creations, 0);
}

/// A server that takes a second to answer each GetAsset: no asset is
/// looked at again once it was seen final, and never twice at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_is_never_asked_twice_about_one_asset() {
    let cfg = SimConfig {
        create_rate: 1000,
        get_rate: 10_000,
        get_delay_ms: 1000,
        min_delay_ms: 500,
        max_delay_ms: 3000,
        ..quick_sim_config()
    };
    let sim = Sim::start_local(cfg).await.unwrap();
    let group = sim.state().add_group("g");
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut rx, task) = engine(&sim, dir.path(), fast_limits(), quick_polling(), Duration::from_secs(10));
    let result = engine.submit(images(&group, 300, "w"), false).await.unwrap();
    let mut seen = Seen::default();
    follow(&mut rx, &mut seen, Duration::from_secs(120), all(&result.accepted, JobState::Active)).await;
    // Looks already planned would show up now.
    tokio::time::sleep(Duration::from_secs(2)).await;
    engine.send(Command::Shutdown);
    task.await.unwrap();
    let stats = sim.stats();
    assert_eq!(stats.overlapping_looks, 0, "an asset was looked at twice at once");
    assert_eq!(stats.looks_after_final, 0, "an asset was looked at after it was seen final");
    assert!(stats.get_asset_requests >= 300);
}

/// The CLI end to end: `import --wait` against an account that lets 3
/// process at once finishes every item once (exit 0), and `status` shows the
/// cap it learned, then the fixed one from the config.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_finishes_under_a_processing_limit_and_status_shows_the_cap() {
    let cfg = SimConfig {
        min_delay_ms: 300,
        max_delay_ms: 600,
        account: AccountLimits { max_processing: 3, limit_form: LimitForm::Chinese, max_assets: 0 },
        ..quick_sim_config()
    };
    let sim = Sim::start_local(cfg).await.unwrap();
    let group = sim.state().add_group("g");
    let env = clienv::Env::new(&sim);
    let env = clienv::blocking(move || {
        let input: String = (0..12).map(|i| format!("https://cdn.example/cap/{i}.png\n")).collect();
        let out = env.run(&["import", "--group", &group, "--wait"], &input);
        assert_eq!(out.status.code(), Some(0), "{}", clienv::text(&out.stderr));
        let out = env.run(&["status"], "");
        let err = clienv::text(&out.stderr);
        assert!(err.contains("12 active"), "{err}");
        assert!(
            err.contains("processing at once, at most:") && err.contains("for profile `default` (learned"),
            "{err}"
        );
        env
    })
    .await;
    let stats = sim.stats();
    assert!(stats.refused_processing > 0, "the limit was reached");
    assert_eq!((stats.assets_created, stats.duplicate_creations), (12, 0));
    let fixed = clienv::Env::with(&sim.base_url(), sim.state().api_key(), "[limits]\nmax_processing = 2\n");
    std::fs::create_dir_all(&fixed.data).unwrap();
    std::fs::copy(env.data.join("polling.json"), fixed.data.join("polling.json")).unwrap();
    let err = clienv::blocking(move || clienv::text(&fixed.run(&["status"], "").stderr)).await;
    assert!(err.contains("2 for profile `default`") && err.contains("2 (limits.max_processing)"), "{err}");
}
