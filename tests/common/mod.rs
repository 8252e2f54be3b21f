//! Helpers shared by the integration tests: a simulator on loopback and a
//! client for it.

#![allow(dead_code)]

use std::time::Duration;

use secrecy::SecretString;
use seedance_assets::api::{Client, ClientOptions};
use seedance_assets::sim::{Sim, SimConfig};

/// A simulator with quick processing and no faults.
pub fn quick_sim_config() -> SimConfig {
    SimConfig { min_delay_ms: 50, max_delay_ms: 300, seed: Some(42), ..SimConfig::default() }
}

/// A client for `sim` with the given key and request timeout.
pub fn client_with(sim: &Sim, key: &str, timeout: Duration) -> Client {
    Client::new(ClientOptions {
        base_url: sim.base_url(),
        api_key: SecretString::from(key.to_string()),
        connect_timeout: Duration::from_secs(2),
        request_timeout: timeout,
        tls: Default::default(),
    })
    .expect("client builds")
}

/// Starts a simulator and a client for it.
pub async fn sim_and_client(cfg: SimConfig) -> (Sim, Client) {
    let key = cfg.api_key.clone();
    let sim = Sim::start_local(cfg).await.expect("simulator starts");
    let client = client_with(&sim, &key, Duration::from_secs(5));
    (sim, client)
}

use seedance_assets::config::{Limits, Polling};
use seedance_assets::engine::{EngineHandle, EngineOptions, Job, JobId, JobState, NewJob, Update};
use std::collections::BTreeMap;
use tokio::sync::mpsc::UnboundedReceiver;

/// Fast polling for tests.
pub fn quick_polling() -> Polling {
    Polling {
        first_secs: 0.1,
        backoff: 1.5,
        max_interval_secs: 0.5,
        jitter: 0.2,
        stuck_after_secs: 60.0,
        retry_budget: 10,
        adaptive: true,
    }
}

/// An engine on `dir`'s journal talking to `sim`.
pub fn engine(
    sim: &Sim,
    dir: &std::path::Path,
    limits: Limits,
    polling: Polling,
    timeout: Duration,
) -> (EngineHandle, UnboundedReceiver<Update>, tokio::task::JoinHandle<()>) {
    engine_with(
        sim,
        dir,
        EngineOptions {
            limits,
            polling,
            seed: Some(7),
            retry_503: false,
            storage: None,
            polling_file: None,
            reconcile: Default::default(),
        },
        timeout,
    )
}

/// An engine on `dir`'s journal talking to `sim`, with these options.
pub fn engine_with(
    sim: &Sim,
    dir: &std::path::Path,
    opts: EngineOptions,
    timeout: Duration,
) -> (EngineHandle, UnboundedReceiver<Update>, tokio::task::JoinHandle<()>) {
    let client = client_with(sim, sim.state().api_key(), timeout);
    seedance_assets::engine::start(
        seedance_assets::engine::Clients::single(client),
        opts,
        &seedance_assets::engine::EngineFiles::in_data_dir(dir),
    )
    .expect("engine starts")
}

/// `n` image imports into `group`.
pub fn images(group: &str, n: usize, prefix: &str) -> Vec<NewJob> {
    (0..n)
        .map(|i| NewJob {
            url: format!("https://media.example/{prefix}/{i}.png"),
            name: format!("{prefix}-{i}"),
            asset_type: seedance_assets::api::AssetType::Image,
            group_id: group.to_string(),
            profile: "default".into(),
            local: None,
            media: None,
            conform: None,
        })
        .collect()
}

/// Reads updates, keeping the latest snapshot of each job, until `done`
/// holds for the jobs seen or `limit` passes (then panics).
pub async fn follow_until(
    rx: &mut UnboundedReceiver<Update>,
    jobs: &mut BTreeMap<JobId, Job>,
    limit: Duration,
    done: impl Fn(&BTreeMap<JobId, Job>) -> bool,
) {
    let deadline = tokio::time::Instant::now() + limit;
    while !done(jobs) {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Update::Job(j))) => {
                jobs.insert(j.id, *j);
            }
            Ok(Some(Update::Removed(id))) => {
                jobs.remove(&id);
            }
            Ok(Some(_)) => {}
            Ok(None) => panic!("the engine stopped"),
            Err(_) => {
                let states: Vec<_> = jobs.values().map(|j| j.state).collect();
                panic!("timed out; states: {states:?}");
            }
        }
    }
}

/// True when all of `ids` are known and final.
pub fn all_final(ids: &[JobId]) -> impl Fn(&BTreeMap<JobId, Job>) -> bool + '_ {
    move |jobs| ids.iter().all(|id| jobs.get(id).is_some_and(|j| j.state.is_final()))
}

/// True when all of `ids` are in `state`.
pub fn all_in(ids: &[JobId], state: JobState) -> impl Fn(&BTreeMap<JobId, Job>) -> bool + '_ {
    move |jobs| ids.iter().all(|id| jobs.get(id).is_some_and(|j| j.state == state))
}

/// Waits until the simulator has handled every request already sent (its
/// CreateAsset count stops moving), so "in flight at the kill" is measured
/// even on a loaded machine.
pub async fn settle(sim: &Sim) {
    let mut last = sim.stats().create_asset_requests;
    let mut still = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = sim.stats().create_asset_requests;
        still = if now == last { still + 1 } else { 0 };
        last = now;
        if still >= 5 {
            return;
        }
    }
}
