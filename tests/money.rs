//! Never pay twice, never pay for nothing: the engine against the simulator
//! over loopback with a wrong key, a server that is down, and any sequence of
//! fault answers.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use common::*;
use proptest::prelude::*;
use secrecy::SecretString;
use seedance_assets::api::{Client, ClientOptions};
use seedance_assets::config::Limits;
use seedance_assets::engine::{Clients, Command, EngineOptions, Health, JobState, PauseCause, Update};
use seedance_assets::sim::{Fault, Sim, SimConfig};

fn limits() -> Limits {
    Limits { max_creating: 30, create_per_sec: 300, get_per_sec: 1000, ..Limits::default() }
}

fn opts() -> EngineOptions {
    EngineOptions {
        limits: limits(),
        polling: quick_polling(),
        seed: Some(7),
        retry_503: false,
        storage: None,
        polling_file: None,
        reconcile: Default::default(),
    }
}

fn client(base_url: &str, key: &str) -> Client {
    Client::new(ClientOptions {
        base_url: base_url.into(),
        api_key: SecretString::from(key.to_string()),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        tls: Default::default(),
    })
    .unwrap()
}

/// Reads updates until the engine reports a health matching `want`,
/// keeping job snapshots.
async fn until_health(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Update>,
    jobs: &mut BTreeMap<u64, seedance_assets::engine::Job>,
    limit: Duration,
    want: impl Fn(&Health) -> bool,
) -> Health {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Update::Health(h))) if want(&h) => return h,
            Ok(Some(Update::Job(j))) => {
                jobs.insert(j.id, *j);
            }
            Ok(Some(_)) => {}
            Ok(None) => panic!("the engine stopped"),
            Err(_) => panic!("no such health report in {limit:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_pauses_the_batch_after_a_handful_and_resumes_with_the_right_one() {
    let sim = Sim::start_local(quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("g");
    let dir = tempfile::tempdir().unwrap();
    let wrong = client(&sim.base_url(), "wrong-key");
    // The default creation rate (30/s): what a user with a wrong key meets.
    let paced = EngineOptions { limits: Limits { create_per_sec: 30, ..limits() }, ..opts() };
    let (engine, mut rx, _task) = seedance_assets::engine::start(
        Clients::single(wrong),
        paced,
        &seedance_assets::engine::EngineFiles::in_data_dir(dir.path()),
    )
    .unwrap();
    let r = engine.submit(images(&group, 300, "k"), false).await.unwrap();
    assert_eq!(r.accepted.len(), 300);
    let mut jobs = BTreeMap::new();
    let h = until_health(&mut rx, &mut jobs, Duration::from_secs(5), |h| h.paused.is_some()).await;
    assert!(matches!(h.paused, Some(PauseCause::Auth(_))), "{h:?}");
    assert!(h.describe().unwrap().contains("fix the key"), "{h:?}");
    // Let anything still on its way arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Ok(u) = rx.try_recv() {
        if let Update::Job(j) = u {
            jobs.insert(j.id, *j);
        }
    }
    let stats = sim.stats();
    assert!(stats.create_asset_requests <= 3, "{} CreateAsset sent with a wrong key", stats.create_asset_requests);
    assert_eq!(stats.assets_created, 0);
    assert!(jobs.values().all(|j| j.state == JobState::Queued), "no job is Rejected for a bad key");

    engine.send(Command::Resume(Some(Clients::single(client(&sim.base_url(), sim.state().api_key())))));
    follow_until(&mut rx, &mut jobs, Duration::from_secs(60), all_in(&r.accepted, JobState::Active)).await;
    let stats = sim.stats();
    assert_eq!(stats.assets_created, 300);
    assert_eq!(stats.duplicate_creations, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_pauses_at_once_and_work_resumes_when_it_is_back() {
    // A port with nothing listening.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://{addr}/");
    let cfg = quick_sim_config();
    let (engine, mut rx, _task) = seedance_assets::engine::start(
        Clients::single(client(&base, &cfg.api_key)),
        opts(),
        &seedance_assets::engine::EngineFiles::in_data_dir(dir.path()),
    )
    .unwrap();
    let r = engine.submit(images("group-later", 20, "u"), false).await.unwrap();
    let mut jobs = BTreeMap::new();
    let h = until_health(&mut rx, &mut jobs, Duration::from_secs(5), |h| h.paused.is_some()).await;
    assert!(matches!(h.paused, Some(PauseCause::Unreachable(_))), "{h:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(u) = rx.try_recv() {
        if let Update::Job(j) = u {
            jobs.insert(j.id, *j);
        }
    }
    assert!(jobs.values().all(|j| j.state == JobState::Queued), "nothing is Rejected while the server is down");

    // The server comes up on that port; the engine's probe finds it.
    let sim = Sim::start(cfg, addr).await.unwrap();
    let group = sim.state().add_group("later");
    assert_ne!(group, "group-later");
    let _ = until_health(&mut rx, &mut jobs, Duration::from_secs(20), |h| h.is_ok()).await;
    follow_until(&mut rx, &mut jobs, Duration::from_secs(20), all_final(&r.accepted)).await;
    // The group does not exist on the new server: every item is refused by it,
    // once each — proof that each was sent exactly once after the outage.
    assert_eq!(sim.stats().create_asset_requests, 20);
    assert!(jobs.values().all(|j| j.state == JobState::Rejected && j.create_attempts >= 1));
}

fn fault_choice() -> impl Strategy<Value = Option<Fault>> {
    let faults: Vec<Option<Fault>> =
        std::iter::once(None).chain(Fault::ALL.into_iter().filter(|f| *f != Fault::Slow).map(Some)).collect();
    proptest::sample::select(faults)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// For any sequence of answers to CreateAsset, no item whose creation
    /// may have been processed is ever sent again, nothing is created twice,
    /// and every item ends in a final state that says what happened.
    #[test]
    fn no_answer_sequence_makes_a_second_creation(
        script in proptest::collection::vec(fault_choice(), 1..40),
        retry_503 in any::<bool>(),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        // Declaring 503 safe is the user's promise that 503 never comes after
        // processing; a server that breaks it is outside the guarantee.
        let script: Vec<Option<Fault>> = script
            .into_iter()
            .filter(|f| !(retry_503 && *f == Some(Fault::Server503After)))
            .collect();
        rt.block_on(async move {
            let sim = Sim::start_local(SimConfig { min_delay_ms: 20, max_delay_ms: 80, ..quick_sim_config() }).await.unwrap();
            sim.state().script_create_faults(script.clone());
            let group = sim.state().add_group("p");
            let dir = tempfile::tempdir().unwrap();
            let mut polling = quick_polling();
            polling.max_interval_secs = 0.2;
            let o = EngineOptions { limits: limits(), polling, seed: Some(1), retry_503, storage: None, polling_file: None, reconcile: Default::default() };
            let (engine, mut rx, task) = engine_with(&sim, dir.path(), o, Duration::from_secs(5));
            let r = engine.submit(images(&group, 12, "p"), false).await.unwrap();
            let mut jobs = BTreeMap::new();
            follow_until(&mut rx, &mut jobs, Duration::from_secs(60), all_final(&r.accepted)).await;
            engine.send(Command::Shutdown);
            task.await.unwrap();
            let stats = sim.stats();
            assert_eq!(stats.duplicate_creations, 0, "script {script:?}");
            // No request for an item after one that created it.
            let mut created = HashSet::new();
            for (key, made) in &stats.create_log {
                assert!(!created.contains(key), "{key} was sent again after it was created: {script:?}");
                if *made {
                    created.insert(key.clone());
                }
            }
            let hidden: HashSet<&String> = stats.ambiguous_creations.iter().collect();
            for j in jobs.values() {
                let key = format!("{}|{}|{}", j.spec.group_id, j.spec.url, j.spec.name);
                if hidden.contains(&key) {
                    assert_eq!(j.state, JobState::Uncertain, "job {}: {script:?}", j.id);
                    assert!(j.may_exist && j.retry_may_duplicate());
                }
                assert!(j.state.is_final(), "job {} is {:?}", j.id, j.state);
            }
        });
    }
}

#[tokio::test]
async fn job_ids_never_wrap() {
    let sim = Sim::start_local(quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("ids");
    let dir = tempfile::tempdir().unwrap();
    // An old journal (migrated at start) whose last job has the largest id the store holds.
    let mut old =
        seedance_assets::engine::Job::new(i64::MAX as u64, images(&group, 1, "last").remove(0), jiff::Timestamp::now());
    old.state = JobState::Active;
    let record = serde_json::json!({ "job": old });
    std::fs::write(dir.path().join("journal.jsonl"), format!("{record}\n")).unwrap();
    let (engine, mut rx, task) = engine_with(&sim, dir.path(), opts(), Duration::from_secs(5));
    let r = engine.submit(images(&group, 2, "new"), false).await.unwrap();
    assert!(r.accepted.is_empty(), "{r:?}");
    assert!(r.refused.unwrap().contains("every job id"));
    engine.send(Command::Shutdown);
    task.await.unwrap();
    while rx.recv().await.is_some() {}
    let jobs = seedance_assets::store::read_jobs(&dir.path().join("jobs.db")).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].id, i64::MAX as u64, "the largest id the store holds");
    assert_eq!(sim.stats().create_asset_requests, 0);
}
