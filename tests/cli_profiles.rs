//! Profiles: two simulators on two ports with two keys; each job records
//! its profile, is created with that profile's key and base URL, and
//! `status`/`export` filter by profile.

mod clienv;
mod common;

use clienv::{Env, blocking, text};
use seedance_assets::export::JobRecord;
use seedance_assets::sim::{Sim, SimConfig};

async fn two_sims(cfg: SimConfig) -> (Sim, Sim, Env, String, String) {
    let a = Sim::start_local(SimConfig { api_key: "key-a".into(), ..cfg.clone() }).await.unwrap();
    let b = Sim::start_local(SimConfig { api_key: "key-b".into(), ..cfg }).await.unwrap();
    let (ga, gb) = (a.state().add_group("a"), b.state().add_group("b"));
    let extra = format!("[profiles.b]\nbase_url = \"{}\"\napi_key_env = \"B_KEY\"\n", b.base_url());
    let env = Env::with(&a.base_url(), "key-a", &extra);
    (a, b, env, ga, gb)
}

fn records(out: &std::process::Output) -> Vec<JobRecord> {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_profile_creates_with_its_own_key_and_is_filtered() {
    let (a, b, env, ga, gb) = two_sims(common::quick_sim_config()).await;
    blocking(move || {
        let out = env.run(&["import", "--wait", "--group", &ga, "https://cdn.example/a.png"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = env
            .command(["--profile", "b", "import", "--wait", "--group", &gb, "https://cdn.example/b.png"])
            .env("B_KEY", "key-b")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));

        let all = records(&env.run(&["status", "--json"], ""));
        let got: Vec<(&str, &str, &str)> =
            all.iter().map(|j| (j.name.as_str(), j.profile.as_str(), j.status.as_str())).collect();
        assert_eq!(got, [("a", "default", "active"), ("b", "b", "active")]);
        let table = text(&env.run(&["status"], "").stdout);
        assert!(table.lines().next().unwrap().contains("PROFILE"), "{table}");
        assert!(table.lines().any(|l| l.contains(" b ") && l.contains("active")), "{table}");
        let only_b = records(&env.run(&["--profile", "b", "status", "--json"], ""));
        assert_eq!(only_b.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(), ["b"]);
        let by_env = env.command(["export", "--format", "json"]).env("SEEDANCE_PROFILE", "default").output().unwrap();
        assert_eq!(records(&by_env).iter().map(|j| j.name.as_str()).collect::<Vec<_>>(), ["a"]);
    })
    .await;
    for (sim, name) in [(&a, "a"), (&b, "b")] {
        let s = sim.stats();
        assert_eq!(s.unauthorized, 0, "sim {name} never saw another profile's key");
        assert_eq!(s.assets_created, 1, "sim {name} created only its profile's job");
        assert!(s.get_asset_requests >= 1, "sim {name} was polled for its own job");
    }
}

/// Jobs of two profiles left Processing, then one `wait`: each must be
/// polled with its own profile's client. Needs the engine to keep a client
/// per profile (`Setup::client_for`), which the engine does not do yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_polls_each_job_with_its_own_profile() {
    let slow = SimConfig { min_delay_ms: 1500, max_delay_ms: 1500, ..common::quick_sim_config() };
    let (a, b, env, ga, gb) = two_sims(slow).await;
    blocking(move || {
        let out = env.run(&["import", "--group", &ga, "https://cdn.example/a.png"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = env
            .command(["--profile", "b", "import", "--group", &gb, "https://cdn.example/b.png"])
            .env("B_KEY", "key-b")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = env.command(["wait", "--json"]).env("B_KEY", "key-b").output().unwrap();
        let jobs = records(&out);
        assert!(jobs.iter().all(|j| j.status == "active"), "{jobs:?}");
    })
    .await;
    assert_eq!(a.stats().unauthorized + b.stats().unauthorized, 0);
    assert!(b.stats().get_asset_requests >= 1, "b's job polled on b");
}
