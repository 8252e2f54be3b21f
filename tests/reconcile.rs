//! Reconcile against the simulator over loopback: creations whose answers
//! were lost after the server acted (500, 502, 504, a dropped connection, a
//! truncated body) and before it acted (503), listings that lag, listings
//! that fail, ambiguous names, and a server without a listing.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use seedance_assets::config::{Limits, Reconcile};
use seedance_assets::engine::{Command, EngineOptions, JobState, Update};
use seedance_assets::sim::{Fault, FaultRates, Sim, SimConfig};

fn limits() -> Limits {
    Limits { max_creating: 30, create_per_sec: 300, get_per_sec: 1000, ..Limits::default() }
}

/// Passes every second; absence proven 3 s after the answer was lost.
fn quick_reconcile() -> Reconcile {
    Reconcile { auto: true, every_secs: 1.0, settle_secs: 3.0, window_secs: 120.0 }
}

fn opts(reconcile: Reconcile) -> EngineOptions {
    EngineOptions {
        limits: limits(),
        polling: quick_polling(),
        seed: Some(3),
        retry_503: false,
        storage: None,
        polling_file: None,
        reconcile,
    }
}

fn lagging_sim() -> SimConfig {
    SimConfig { listing_lag_ms: 1500, ..quick_sim_config() }
}

/// Every creation made, by `group|url|name`, and how often.
fn creations(sim: &Sim) -> BTreeMap<String, usize> {
    let mut made = BTreeMap::new();
    for (key, created) in sim.stats().create_log {
        if created {
            *made.entry(key).or_default() += 1;
        }
    }
    made
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_are_settled_from_a_lagging_listing_without_paying_twice() {
    let sim = Sim::start_local(lagging_sim()).await.unwrap();
    let group = sim.state().add_group("g");
    // Answers lost after the server acted, and one refused before it did
    // (a 503 leaves the outcome unknown to the client all the same).
    sim.state().script_create_faults([
        Some(Fault::Server500),
        Some(Fault::Server502),
        Some(Fault::Server504),
        Some(Fault::Dropped),
        Some(Fault::Truncated),
        Some(Fault::Malformed),
        Some(Fault::NoTaskId),
        Some(Fault::Server503),
        Some(Fault::Server503),
        Some(Fault::Server503After),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut rx, task) = engine_with(&sim, dir.path(), opts(quick_reconcile()), Duration::from_secs(5));
    // One at a time, so the scripted faults land on known jobs.
    let items = images(&group, 20, "r");
    let mut ids = Vec::new();
    for item in items {
        ids.extend(engine.submit(vec![item], false).await.unwrap().accepted);
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let mut jobs = BTreeMap::new();
    follow_until(&mut rx, &mut jobs, Duration::from_secs(60), all_in(&ids, JobState::Active)).await;
    let made = creations(&sim);
    assert_eq!(made.len(), 20, "every item created: {made:?}");
    assert!(made.values().all(|n| *n == 1), "an item was paid twice: {made:?}");
    assert_eq!(sim.stats().duplicate_creations, 0);
    // The two refused before processing were proven absent and sent again;
    // the eight the server acted on were found, and none was sent again.
    let sent_again = jobs.values().filter(|j| j.create_attempts == 2).count();
    assert_eq!(sent_again, 2, "{:?}", jobs.values().map(|j| (j.id, j.create_attempts)).collect::<Vec<_>>());
    assert!(jobs.values().all(|j| j.asset_id.as_deref().is_some_and(|a| a.starts_with("asset-"))));
    engine.send(Command::Shutdown);
    let _ = task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_random_faults_on_every_endpoint_nothing_is_paid_twice_and_nothing_stays_uncertain() {
    let faults = FaultRates {
        http500: 0.06,
        http502: 0.04,
        http504: 0.04,
        drop: 0.04,
        truncated: 0.04,
        http503: 0.04,
        ..FaultRates::default()
    };
    let cfg = SimConfig { faults, seed: Some(11), ..lagging_sim() };
    let sim = Sim::start_local(cfg).await.unwrap();
    let group = sim.state().add_group("g");
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut rx, task) = engine_with(&sim, dir.path(), opts(quick_reconcile()), Duration::from_secs(5));
    let r = engine.submit(images(&group, 150, "f"), false).await.unwrap();
    let mut jobs = BTreeMap::new();
    follow_until(&mut rx, &mut jobs, Duration::from_secs(120), all_in(&r.accepted, JobState::Active)).await;
    let made = creations(&sim);
    assert_eq!(made.len(), 150);
    assert!(
        made.values().all(|n| *n == 1),
        "paid twice: {:?}",
        made.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
    );
    assert!(!sim.stats().ambiguous_creations.is_empty(), "the faults hid some creations");
    engine.send(Command::Shutdown);
    let _ = task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_candidates_wait_for_a_pick_and_the_pick_is_followed() {
    let sim = Sim::start_local(lagging_sim()).await.unwrap();
    let group = sim.state().add_group("g");
    // Another machine made an asset of the same name just before.
    let other = client_with(&sim, sim.state().api_key(), Duration::from_secs(5));
    let elsewhere = other
        .create_asset(&seedance_assets::api::CreateAssetRequest {
            group_id: group.clone(),
            url: "https://media.example/other/cat.png".into(),
            asset_type: seedance_assets::api::AssetType::Image,
            name: "amb-0".into(),
        })
        .await
        .unwrap();
    sim.state().script_create_faults([Some(Fault::Server500)]);
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut rx, task) = engine_with(&sim, dir.path(), opts(quick_reconcile()), Duration::from_secs(5));
    let r = engine.submit(images(&group, 1, "amb"), false).await.unwrap();
    let id = r.accepted[0];
    let mut jobs = BTreeMap::new();
    follow_until(&mut rx, &mut jobs, Duration::from_secs(30), |j| {
        j.get(&id).is_some_and(|j| {
            j.state == JobState::Uncertain && j.error.as_deref().is_some_and(|e| e.contains("2 assets"))
        })
    })
    .await;
    let why = jobs[&id].error.clone().unwrap();
    assert!(why.contains(&elsewhere.id) && why.contains(&format!("--pick {id}=")), "{why}");
    // Nothing more is sent for it while it waits.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(sim.stats().assets_created, 2);
    let mine = sim.stats().create_log.iter().filter(|(k, made)| *made && k.contains("/amb/")).count();
    assert_eq!(mine, 1);
    // The user picks the other one (say it is theirs): it is followed to Active.
    engine.send(Command::Pick { job: id, asset: elsewhere.id.clone() });
    follow_until(&mut rx, &mut jobs, Duration::from_secs(30), all_in(&[id], JobState::Active)).await;
    assert_eq!(jobs[&id].asset_id.as_deref(), Some(elsewhere.id.as_str()));
    assert_eq!(sim.stats().assets_created, 2);
    engine.send(Command::Shutdown);
    let _ = task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_listing_nothing_changes_and_one_message_says_why() {
    let cfg = SimConfig { absent: vec![seedance_assets::api::Endpoint::ListAssets], ..lagging_sim() };
    let sim = Sim::start_local(cfg).await.unwrap();
    let group = sim.state().add_group("g");
    sim.state().script_create_faults([Some(Fault::Server503), Some(Fault::Dropped)]);
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut rx, task) = engine_with(&sim, dir.path(), opts(quick_reconcile()), Duration::from_secs(5));
    let r = engine.submit(images(&group, 2, "n"), false).await.unwrap();
    let mut jobs = BTreeMap::new();
    follow_until(&mut rx, &mut jobs, Duration::from_secs(20), all_in(&r.accepted, JobState::Uncertain)).await;
    // Passes run every second for five seconds: one message, no change.
    let mut said = 0;
    let mut report = None;
    engine.send(Command::Reconcile);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while let Ok(Some(u)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        match u {
            Update::Log(l) if l.text.contains("has no listing") => said += 1,
            Update::Reconciled(rep) if rep.asked => report = Some(rep),
            Update::Job(j) => {
                jobs.insert(j.id, *j);
            }
            _ => {}
        }
    }
    assert_eq!(said, 1);
    let report = report.expect("the asked pass reports");
    assert_eq!(report.no_listing, vec!["default".to_string()]);
    assert!(report.describe().contains("no listing"), "{}", report.describe());
    assert!(r.accepted.iter().all(|id| jobs[id].state == JobState::Uncertain));
    assert_eq!(sim.stats().create_asset_requests, 2);
    engine.send(Command::Shutdown);
    let _ = task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_while_sending_is_settled_at_the_next_start() {
    // A slow answer: the creation is made, then the engine is dropped
    // while it waits (as a kill would), leaving the job Creating.
    let sim = Sim::start_local(SimConfig { slow_ms: 30_000, ..lagging_sim() }).await.unwrap();
    let group = sim.state().add_group("g");
    let dir = tempfile::tempdir().unwrap();
    sim.state().script_create_faults([Some(Fault::Slow)]);
    {
        let (engine, mut rx, task) = engine_with(&sim, dir.path(), opts(quick_reconcile()), Duration::from_secs(60));
        let r = engine.submit(images(&group, 1, "c"), false).await.unwrap();
        let mut jobs = BTreeMap::new();
        follow_until(&mut rx, &mut jobs, Duration::from_secs(10), all_in(&r.accepted, JobState::Creating)).await;
        settle(&sim).await;
        task.abort();
        let _ = task.await;
    }
    assert_eq!(sim.stats().assets_created, 1);
    let (engine, mut rx, task) = engine_with(&sim, dir.path(), opts(quick_reconcile()), Duration::from_secs(5));
    let mut jobs = BTreeMap::new();
    follow_until(&mut rx, &mut jobs, Duration::from_secs(30), |j| j.values().any(|j| j.state == JobState::Active))
        .await;
    assert_eq!(sim.stats().assets_created, 1, "found, not paid again");
    engine.send(Command::Shutdown);
    let _ = task.await;
}
