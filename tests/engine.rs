//! The engine against the simulator over loopback: faults, duplicates,
//! retries, stuck jobs, groups, and resuming from the journal.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use common::*;
use seedance_assets::config::{Limits, Polling};
use seedance_assets::engine::{Command, EngineOptions, Job, JobState, Update};
use seedance_assets::sim::{FaultRates, Sim, SimConfig};

fn fast_limits() -> Limits {
    Limits { max_creating: 30, create_per_sec: 300, get_per_sec: 1000, ..Limits::default() }
}

/// Every fault that hides a creation, 10% each (500/502/503/504 after
/// processing, a dropped connection, a truncated body), plus a few slow,
/// malformed and task-less answers: no creation is ever repeated, and the
/// Uncertain jobs are exactly the hidden creations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_imports_under_faults_end_final_with_no_duplicates() {
    let cfg = SimConfig {
        create_rate: 300,
        get_rate: 1000,
        slow_ms: 1200,
        faults: FaultRates {
            http500: 0.10,
            http502: 0.10,
            http503_after: 0.10,
            http504: 0.10,
            drop: 0.10,
            truncated: 0.10,
            slow: 0.02,
            malformed: 0.02,
            no_task: 0.02,
            ..Default::default()
        },
        ..quick_sim_config()
    };
    let sim = Sim::start_local(cfg).await.unwrap();
    let group = sim.state().add_group("g");
    let dir = tempfile::tempdir().unwrap();
    // Faults hit two GetAsset calls in three as well: polls are free to
    // repeat, so give them the budget to get through.
    let polling = Polling { retry_budget: 60, ..quick_polling() };
    let (engine, mut rx, task) = engine(&sim, dir.path(), fast_limits(), polling, Duration::from_millis(600));
    let result = engine.submit(images(&group, 500, "f"), false).await.unwrap();
    assert_eq!(result.accepted.len(), 500);
    let mut jobs = BTreeMap::new();
    follow_until(&mut rx, &mut jobs, Duration::from_secs(120), all_final(&result.accepted)).await;
    engine.send(Command::Shutdown);
    task.await.unwrap();

    let stats = sim.stats();
    assert_eq!(stats.duplicate_creations, 0, "a creation was repeated");
    let ambiguous: HashSet<&String> = stats.ambiguous_creations.iter().collect();
    let mut counts = BTreeMap::new();
    for j in jobs.values() {
        *counts.entry(j.state).or_insert(0) += 1;
        assert!(
            matches!(j.state, JobState::Active | JobState::Failed | JobState::Rejected | JobState::Uncertain),
            "job {} ended {:?}: {:?}",
            j.id,
            j.state,
            j.error
        );
        let key = format!("{}|{}|{}", j.spec.group_id, j.spec.url, j.spec.name);
        assert_eq!(
            j.state == JobState::Uncertain,
            ambiguous.contains(&key),
            "job {} is {:?}; its creation was hidden: {}",
            j.id,
            j.state,
            ambiguous.contains(&key)
        );
        assert_eq!(j.create_attempts, 1, "job {} was sent {} times", j.id, j.create_attempts);
    }
    assert_eq!(jobs.len(), 500, "jobs lost: {counts:?}");
    assert!(counts[&JobState::Uncertain] > 200, "{counts:?}");
    assert!(counts[&JobState::Active] > 100, "{counts:?}");
    assert_eq!(stats.create_asset_requests, 500, "one CreateAsset per item");
    for fault in ["Server500", "Server502", "Server503After", "Server504", "Dropped", "Truncated"] {
        assert!(stats.faults.get(fault).copied().unwrap_or(0) > 10, "{fault} injected: {:?}", stats.faults);
    }
    // Everything is in the journal too.
    let journal = seedance_assets::store::read_jobs(&dir.path().join("jobs.db")).unwrap();
    let on_disk: BTreeMap<_, _> = journal.into_iter().map(|j| (j.id, j)).collect();
    assert_eq!(on_disk, jobs);
}

#[tokio::test]
async fn duplicates_are_skipped_unless_allowed() {
    let sim = Sim::start_local(quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("g");
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut rx, _task) = engine(&sim, dir.path(), fast_limits(), quick_polling(), Duration::from_secs(5));
    let first = engine.submit(images(&group, 3, "d"), false).await.unwrap();
    let again = engine.submit(images(&group, 4, "d"), false).await.unwrap();
    assert_eq!(again.accepted.len(), 1, "only the new one");
    assert_eq!(again.duplicates.iter().map(|(_, j)| j.id).collect::<Vec<_>>(), first.accepted);
    let offered: Vec<_> = again.duplicates.iter().map(|(spec, _)| spec.clone()).collect();
    assert_eq!(offered, images(&group, 3, "d"), "the skipped items come back with their existing jobs");
    let mut jobs = BTreeMap::new();
    let all: Vec<_> = first.accepted.iter().chain(&again.accepted).copied().collect();
    follow_until(&mut rx, &mut jobs, Duration::from_secs(20), all_in(&all, JobState::Active)).await;
    // Active ones are duplicates too; forced, they are created again.
    let forced = engine.submit(images(&group, 1, "d"), true).await.unwrap();
    assert_eq!(forced.accepted.len(), 1);
    follow_until(&mut rx, &mut jobs, Duration::from_secs(20), all_in(&forced.accepted, JobState::Active)).await;
    assert_eq!(sim.stats().duplicate_creations, 1);
}

#[tokio::test]
async fn ambiguous_failures_wait_for_the_user_then_retry() {
    let cfg = SimConfig { faults: FaultRates { drop: 1.0, ..Default::default() }, ..quick_sim_config() };
    let sim = Sim::start_local(cfg).await.unwrap();
    let group = sim.state().add_group("g");
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut rx, _task) = engine(&sim, dir.path(), fast_limits(), quick_polling(), Duration::from_secs(5));
    let r = engine.submit(images(&group, 2, "u"), false).await.unwrap();
    let mut jobs = BTreeMap::new();
    follow_until(&mut rx, &mut jobs, Duration::from_secs(10), all_in(&r.accepted, JobState::Uncertain)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sim.stats().create_asset_requests, 2, "an Uncertain job is never resubmitted silently");
    assert!(jobs[&r.accepted[0]].error.as_deref().unwrap().contains("outcome unknown"));
    engine.send(Command::Retry(vec![r.accepted[0]]));
    follow_until(&mut rx, &mut jobs, Duration::from_secs(10), |j| {
        j[&r.accepted[0]].state == JobState::Uncertain && j[&r.accepted[0]].create_attempts == 2
    })
    .await;
    assert_eq!(sim.stats().create_asset_requests, 3);
    engine.send(Command::Forget(vec![r.accepted[1]]));
    follow_until(&mut rx, &mut jobs, Duration::from_secs(5), |j| !j.contains_key(&r.accepted[1])).await;
}

#[tokio::test]
async fn a_503_is_uncertain_unless_the_gateway_is_declared_safe() {
    for retry_503 in [false, true] {
        let cfg = SimConfig {
            faults: FaultRates { http503: 0.6, ..Default::default() },
            seed: Some(3),
            ..quick_sim_config()
        };
        let sim = Sim::start_local(cfg).await.unwrap();
        let group = sim.state().add_group("g");
        let dir = tempfile::tempdir().unwrap();
        let mut polling = quick_polling();
        polling.max_interval_secs = 0.3;
        let opts = EngineOptions {
            limits: fast_limits(),
            polling,
            seed: Some(7),
            retry_503,
            storage: None,
            polling_file: None,
            reconcile: Default::default(),
        };
        let (engine, mut rx, _task) = engine_with(&sim, dir.path(), opts, Duration::from_secs(5));
        let r = engine.submit(images(&group, 20, "r"), false).await.unwrap();
        let mut jobs = BTreeMap::new();
        follow_until(&mut rx, &mut jobs, Duration::from_secs(60), all_final(&r.accepted)).await;
        let retried = jobs.values().filter(|j| j.create_attempts > 1).count();
        let uncertain = jobs.values().filter(|j| j.state == JobState::Uncertain).count();
        if retry_503 {
            assert!(retried > 0, "some creations met a 503 and were retried");
            assert_eq!(uncertain, 0);
        } else {
            assert_eq!(retried, 0, "a 503 is never retried by default");
            assert!(uncertain > 0, "a 503 leaves the outcome unknown");
            assert!(jobs.values().filter(|j| j.state == JobState::Uncertain).all(|j| j.may_exist));
        }
        assert_eq!(sim.stats().duplicate_creations, 0);
    }
}

#[tokio::test]
async fn stuck_jobs_can_be_polled_again() {
    // Processing takes 6 s; the job is called stuck after 0.3 s.
    let cfg = SimConfig { min_delay_ms: 6000, max_delay_ms: 6000, ..quick_sim_config() };
    let sim = Sim::start_local(cfg).await.unwrap();
    let group = sim.state().add_group("g");
    let dir = tempfile::tempdir().unwrap();
    let mut polling = quick_polling();
    polling.stuck_after_secs = 0.3;
    let (engine, mut rx, _task) = engine(&sim, dir.path(), fast_limits(), polling, Duration::from_secs(5));
    let submitted = tokio::time::Instant::now();
    let r = engine.submit(images(&group, 1, "s"), false).await.unwrap();
    let mut jobs = BTreeMap::new();
    follow_until(&mut rx, &mut jobs, Duration::from_secs(6), all_in(&r.accepted, JobState::Stuck)).await;
    assert!(jobs[&r.accepted[0]].error.as_deref().unwrap().contains("still processing"));
    // Once the server is done, polling again finds it Active.
    tokio::time::sleep_until(submitted + Duration::from_millis(6500)).await;
    engine.send(Command::Retry(r.accepted.clone()));
    follow_until(&mut rx, &mut jobs, Duration::from_secs(20), all_in(&r.accepted, JobState::Active)).await;
    assert_eq!(sim.stats().assets_created, 1, "polling again does not create again");
}

#[tokio::test]
async fn unknown_group_is_rejected_with_a_hint() {
    let sim = Sim::start_local(quick_sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut rx, _task) = engine(&sim, dir.path(), fast_limits(), quick_polling(), Duration::from_secs(5));
    let r = engine.submit(images("group-missing", 1, "x"), false).await.unwrap();
    let mut jobs = BTreeMap::new();
    follow_until(&mut rx, &mut jobs, Duration::from_secs(10), all_in(&r.accepted, JobState::Rejected)).await;
    let err = jobs[&r.accepted[0]].error.clone().unwrap();
    assert!(err.contains("NotFound.group_id") && err.contains("create a group"), "{err}");
    assert_eq!(err.matches("NotFound.group_id").count(), 1, "said once: {err}");
}

#[tokio::test]
async fn groups_are_created_and_remembered() {
    let sim = Sim::start_local(quick_sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut rx, task) = engine(&sim, dir.path(), fast_limits(), quick_polling(), Duration::from_secs(5));
    engine.send(Command::CreateGroup { name: "refs".into(), description: Some("d".into()) });
    engine.send(Command::CreateGroup { name: "x".repeat(65), description: None });
    let (mut created, mut failed) = (None, None);
    while created.is_none() || failed.is_none() {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap() {
            Update::GroupCreated(g) => created = Some(g),
            Update::GroupFailed { error, .. } => failed = Some(error),
            _ => {}
        }
    }
    assert!(failed.unwrap().contains("64"));
    engine.send(Command::Shutdown);
    task.await.unwrap();
    let store = seedance_assets::engine::GroupStore::open(&dir.path().join("groups.json")).unwrap();
    assert_eq!(store.groups(), [created.unwrap()]);
}

#[tokio::test]
async fn processing_jobs_resume_after_a_restart_without_new_creations() {
    let cfg = SimConfig { min_delay_ms: 4000, max_delay_ms: 5000, ..quick_sim_config() };
    let sim = Sim::start_local(cfg).await.unwrap();
    let group = sim.state().add_group("g");
    let dir = tempfile::tempdir().unwrap();
    let (engine1, mut rx, task) = engine(&sim, dir.path(), fast_limits(), quick_polling(), Duration::from_secs(5));
    let r = engine1.submit(images(&group, 10, "p"), false).await.unwrap();
    let mut jobs = BTreeMap::new();
    follow_until(&mut rx, &mut jobs, Duration::from_secs(10), all_in(&r.accepted, JobState::Processing)).await;
    engine1.send(Command::Shutdown);
    task.await.unwrap();
    let mut stopped_with = None;
    while let Some(u) = rx.recv().await {
        if let Update::Stopped { in_flight } = u {
            stopped_with = Some(in_flight);
        }
    }
    assert_eq!(stopped_with, Some(10));

    let (_engine2, mut rx, _task) = engine(&sim, dir.path(), fast_limits(), quick_polling(), Duration::from_secs(5));
    let mut jobs: BTreeMap<u64, Job> = BTreeMap::new();
    follow_until(&mut rx, &mut jobs, Duration::from_secs(30), all_in(&r.accepted, JobState::Active)).await;
    assert_eq!(sim.stats().assets_created, 10);
}

#[tokio::test]
async fn a_forget_can_be_undone_and_the_journal_agrees() {
    let sim = Sim::start_local(quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("g");
    let dir = tempfile::tempdir().unwrap();
    let (engine, mut rx, task) = engine(&sim, dir.path(), fast_limits(), quick_polling(), Duration::from_secs(5));
    let r = engine.submit(images(&group, 2, "undo"), false).await.unwrap();
    let mut jobs = BTreeMap::new();
    follow_until(&mut rx, &mut jobs, Duration::from_secs(20), all_in(&r.accepted, JobState::Active)).await;
    let gone = jobs[&r.accepted[0]].clone();
    engine.send(Command::Forget(vec![gone.id]));
    follow_until(&mut rx, &mut jobs, Duration::from_secs(5), |j| !j.contains_key(&gone.id)).await;
    engine.send(Command::Restore(vec![gone.clone()]));
    follow_until(&mut rx, &mut jobs, Duration::from_secs(5), |j| j.get(&gone.id) == Some(&gone)).await;
    engine.send(Command::Shutdown);
    task.await.unwrap();
    let on_disk = seedance_assets::store::read_jobs(&dir.path().join("jobs.db")).unwrap();
    assert_eq!(on_disk.len(), 2);
    assert!(on_disk.contains(&gone));
    assert_eq!(sim.stats().assets_created, 2, "an undo creates nothing");
}
