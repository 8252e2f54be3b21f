//! `library` and `reconcile` through the real binary against the simulator:
//! listings streamed, a delete that removes exactly what its dry run listed,
//! sync into an empty data dir that a later import then creates nothing
//! against, `check`'s view of the server, the quota, and a server without
//! the optional endpoints.

mod clienv;
mod common;

use std::collections::BTreeSet;

use clienv::{Env, blocking, text};
use seedance_assets::api::Endpoint;
use seedance_assets::sim::{Fault, Sim, SimConfig};
use serde_json::Value;

/// Quick processing; listings lag by half a second.
fn sim_config() -> SimConfig {
    SimConfig { listing_lag_ms: 500, ..common::quick_sim_config() }
}

fn lines(env: &Env, args: &[&str]) -> (i32, String, String) {
    let out = env.command(args).output().unwrap();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// `name` → its asset id, from `library assets --json`.
fn listed(env: &Env, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["library", "assets", "--json"];
    all.extend_from_slice(args);
    let (code, out, err) = lines(env, &all);
    assert_eq!(code, 0, "{err}");
    out.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn import(env: &Env, group: &str, items: &[&str]) -> (i32, String, String) {
    let mut args = vec!["import", "--group", group, "--wait"];
    args.extend_from_slice(items);
    lines(env, &args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_rebuilds_a_new_machine_and_a_later_import_creates_nothing() {
    let sim = Sim::start_local(sim_config()).await.unwrap();
    let group = sim.state().add_group("shots");
    let other = sim.state().add_group("other");
    let items = [
        "https://cdn.example/s/a.png,alpha,Image",
        "https://cdn.example/s/b.mp4,beta,Video",
        "https://cdn.example/s/c.mp3,gamma,Audio",
    ];
    let (first, second) = (Env::new(&sim), Env::new(&sim));
    let (g, o) = (group.clone(), other.clone());
    let (a, b) = blocking(move || {
        (import(&first, &g, &items), import(&second, &o, &["https://cdn.example/s/z.png,zeta,Image"]))
    })
    .await;
    assert_eq!((a.0, b.0), (0, 0), "{} {}", a.2, b.2);
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(sim.stats().assets_created, 4);

    // A new machine: an empty data dir.
    let fresh = Env::new(&sim);
    let g = group.clone();
    let (sync, again, status, export, reimport) = blocking(move || {
        (
            lines(&fresh, &["library", "sync", "--group", &g]),
            lines(&fresh, &["library", "sync", "--group", &g]),
            lines(&fresh, &["status", "--json"]),
            lines(&fresh, &["export", "--format", "content"]),
            import(&fresh, &g, &items),
        )
    })
    .await;
    assert_eq!(sync.0, 0, "{}", sync.2);
    assert!(sync.2.contains("kept 3 assets as jobs; 0 were known here already"), "{}", sync.2);
    assert!(again.2.contains("kept 0 assets as jobs; 3 were known here already"), "{}", again.2);
    let jobs: Vec<Value> = serde_json::from_str(&status.1).unwrap();
    let names: BTreeSet<&str> = jobs.iter().filter_map(|j| j["name"].as_str()).collect();
    assert_eq!(names, BTreeSet::from(["alpha", "beta", "gamma"]), "only the group asked for");
    let types: BTreeSet<&str> = jobs.iter().filter_map(|j| j["type"].as_str()).collect();
    assert_eq!(types, BTreeSet::from(["Image", "Video", "Audio"]));
    for j in &jobs {
        assert_eq!(j["status"], "active", "{j}");
        assert!(j["asset_id"].as_str().is_some_and(|a| a.starts_with("asset-")), "{j}");
    }
    assert_eq!(export.1.matches("asset://").count(), 3, "{}", export.1);
    assert_eq!(reimport.0, 0, "{}", reimport.2);
    assert!(reimport.2.contains("existing 3"), "{}", reimport.2);
    assert_eq!(sim.stats().assets_created, 4, "the import after sync created nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_removes_exactly_what_its_dry_run_listed() {
    let sim = Sim::start_local(sim_config()).await.unwrap();
    let group = sim.state().add_group("clean");
    let env = Env::new(&sim);
    let g = group.clone();
    // Two fail on purpose (`fail` in the URL), three are kept.
    let items = [
        "https://cdn.example/d/fail-1.png,bad1,Image",
        "https://cdn.example/d/fail-2.png,bad2,Image",
        "https://cdn.example/d/ok-1.png,good1,Image",
        "https://cdn.example/d/ok-2.png,good2,Image",
        "https://cdn.example/d/ok-3.png,good3,Image",
    ];
    let (imported, dry, doomed_before, refused, yes, after) = blocking(move || {
        let imported = import(&env, &g, &items);
        std::thread::sleep(std::time::Duration::from_millis(700));
        let dry = lines(&env, &["library", "delete", "--group", &g, "--status", "failed", "--dry-run"]);
        let doomed = listed(&env, &["--group", &g, "--status", "failed"]);
        let refused = lines(&env, &["library", "delete", "--group", &g, "--status", "failed"]);
        let yes = lines(&env, &["library", "delete", "--group", &g, "--status", "failed", "--yes"]);
        let after = listed(&env, &["--group", &g]);
        (imported, dry, doomed, refused, yes, after)
    })
    .await;
    assert_eq!(imported.0, 1, "two failed: {}", imported.2);
    assert_eq!(dry.0, 0, "{}", dry.2);
    let dry_ids: BTreeSet<&str> = dry.1.lines().filter_map(|l| l.split('\t').next()).collect();
    let listed_ids: BTreeSet<&str> = doomed_before.iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(dry_ids, listed_ids);
    assert_eq!(dry_ids.len(), 2, "{}", dry.1);
    assert!(dry.2.contains("2 assets (2 Failed) would be deleted"), "{}", dry.2);
    // Without a terminal and without --yes, it refuses.
    assert_eq!(refused.0, 2, "{}", refused.2);
    assert!(refused.2.contains("pass --yes"), "{}", refused.2);
    assert_eq!(yes.0, 0, "{}", yes.2);
    assert!(yes.2.contains("deleted 2 of 2 assets"), "{}", yes.2);
    let left: BTreeSet<&str> = after.iter().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(left, BTreeSet::from(["good1", "good2", "good3"]));
    assert_eq!(sim.stats().assets_deleted, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_forgets_the_jobs_of_what_it_deleted_and_empty_groups_go() {
    let sim = Sim::start_local(sim_config()).await.unwrap();
    let group = sim.state().add_group("gone");
    let env = Env::new(&sim);
    let g = group.clone();
    let out = blocking(move || {
        let imported =
            import(&env, &g, &["https://cdn.example/e/one.png,one,Image", "https://cdn.example/e/two.png,two,Image"]);
        std::thread::sleep(std::time::Duration::from_millis(700));
        let nothing = lines(&env, &["library", "delete"]);
        let deleted = lines(&env, &["library", "delete", "--group", &g, "--yes", "--empty-groups"]);
        let status = lines(&env, &["status", "--json"]);
        let groups = lines(&env, &["library", "groups"]);
        let again = import(&env, &g, &["https://cdn.example/e/one.png,one,Image"]);
        (imported, nothing, deleted, status, groups, again)
    })
    .await;
    let (imported, nothing, deleted, status, groups, again) = out;
    assert_eq!(imported.0, 0, "{}", imported.2);
    assert_eq!(nothing.0, 2, "a delete without a filter is refused: {}", nothing.2);
    assert!(nothing.2.contains("name what to delete"), "{}", nothing.2);
    assert_eq!(deleted.0, 0, "{}", deleted.2);
    assert!(deleted.2.contains("forgot 2 jobs"), "{}", deleted.2);
    assert!(deleted.2.contains(&format!("deleted group {group}")), "{}", deleted.2);
    let jobs: Vec<Value> = serde_json::from_str(&status.1).unwrap();
    assert!(jobs.is_empty(), "{jobs:?}");
    assert!(!groups.1.contains(&group), "{}", groups.1);
    // The group is gone on the server: a new import there is refused by it,
    // not taken for a duplicate of a deleted asset.
    assert!(!again.2.contains("exists already"), "{}", again.2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_reconcile_on_a_server_with_and_without_the_listing() {
    let sim = Sim::start_local(SimConfig {
        account: seedance_assets::sim::AccountLimits { max_assets: 0, ..Default::default() },
        ..sim_config()
    })
    .await
    .unwrap();
    let group = sim.state().add_group("chk");
    let env =
        Env::with(&sim.base_url(), sim.state().api_key(), "[limits]\nmax_assets = 3\n[reconcile]\nsettle_secs = 1.0\n");
    sim.state().script_create_faults([Some(Fault::Server502), Some(Fault::Server503)]);
    let g = group.clone();
    let (imported, before, reconciled, check) = blocking(move || {
        let imported =
            import(&env, &g, &["https://cdn.example/k/a.png,ka,Image", "https://cdn.example/k/b.png,kb,Image"]);
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let before = lines(&env, &["status", "--state", "uncertain"]);
        let reconciled = lines(&env, &["reconcile"]);
        let check = lines(&env, &["check"]);
        (imported, before, reconciled, check)
    })
    .await;
    assert_eq!(imported.0, 1, "two Uncertain: {}", imported.2);
    assert!(imported.2.contains("seedance-assets reconcile"), "{}", imported.2);
    assert_eq!(before.1.matches("uncertain").count(), 2, "{}", before.1);
    assert_eq!(reconciled.0, 0, "{}", reconciled.2);
    assert!(reconciled.2.contains("1 found on the server, 1 proven never created"), "{}", reconciled.2);
    assert!(check.1.contains("library  ListAssets yes, ListAssetGroups yes"), "{}", check.1);
    // One created, one sent again (queued): the account holds 1 of 3.
    assert!(check.1.contains("quota    the account holds 1 of 3 assets"), "{}", check.1);

    let bare = Sim::start_local(SimConfig { absent: Endpoint::OPTIONAL.to_vec(), ..sim_config() }).await.unwrap();
    let group = bare.state().add_group("bare");
    let env = Env::new(&bare);
    bare.state().script_create_faults([Some(Fault::Dropped)]);
    let (imported, reconciled, check, list, config) = blocking(move || {
        let imported = import(&env, &group, &["https://cdn.example/k/c.png,kc,Image"]);
        let reconciled = lines(&env, &["reconcile"]);
        let check = lines(&env, &["check"]);
        let list = lines(&env, &["library", "assets"]);
        let config = lines(&env, &["config", "show"]);
        (imported, reconciled, check, list, config)
    })
    .await;
    assert_eq!(imported.0, 1, "{}", imported.2);
    assert_eq!(reconciled.0, 1, "{}", reconciled.2);
    assert!(reconciled.2.contains("has no listing"), "{}", reconciled.2);
    assert!(reconciled.1.contains("uncertain"), "the job is as it was: {}", reconciled.1);
    assert!(check.1.contains("ListAssets no"), "{}", check.1);
    assert!(check.1.contains("no listing, so Uncertain jobs cannot be settled automatically"), "{}", check.1);
    assert_eq!(list.0, 1, "{}", list.2);
    assert!(list.2.contains("has no ListAssets"), "{}", list.2);
    assert!(config.1.contains("ListAssets no"), "config show names what the server offers: {}", config.1);
    assert_eq!(bare.stats().create_asset_requests, 1, "nothing sent again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_quota_stops_new_creations_and_follows_the_created_ones_to_their_end() {
    let cfg = SimConfig {
        account: seedance_assets::sim::AccountLimits { max_assets: 5, ..Default::default() },
        min_delay_ms: 800,
        max_delay_ms: 1500,
        ..sim_config()
    };
    let sim = Sim::start_local(cfg).await.unwrap();
    let group = sim.state().add_group("full");
    let env = Env::new(&sim);
    let items: Vec<String> = (0..10).map(|i| format!("https://cdn.example/q/{i}.png,q{i},Image")).collect();
    let (imported, status) = blocking(move || {
        let refs: Vec<&str> = items.iter().map(String::as_str).collect();
        let imported = import(&env, &group, &refs);
        (imported, lines(&env, &["status", "--json"]))
    })
    .await;
    assert_eq!(imported.0, 6, "the quota's exit code: {}", imported.2);
    assert!(imported.2.contains("library delete"), "the way out is named: {}", imported.2);
    let jobs: Vec<Value> = serde_json::from_str(&status.1).unwrap();
    let active = jobs.iter().filter(|j| j["status"] == "active").count();
    let queued = jobs.iter().filter(|j| j["status"] == "queued").count();
    assert_eq!((active, queued), (5, 5), "{jobs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_whose_answer_is_lost_is_settled_as_done() {
    use seedance_assets::api::{AssetType, CreateAssetRequest};
    // Answers lost after the server acted, on every endpoint.
    let faults = seedance_assets::sim::FaultRates { http500: 0.15, drop: 0.05, ..Default::default() };
    let sim = Sim::start_local(SimConfig { faults, seed: Some(3), ..sim_config() }).await.unwrap();
    let group = sim.state().add_group("lost");
    let client = common::client_with(&sim, sim.state().api_key(), std::time::Duration::from_secs(5));
    let mut made = Vec::new();
    while made.len() < 8 {
        let req = CreateAssetRequest {
            group_id: group.clone(),
            url: format!("https://cdn.example/l/{}.png", made.len()),
            asset_type: AssetType::Image,
            name: format!("l{}", made.len()),
        };
        if let Ok(a) = client.create_asset(&req).await {
            made.push(a.id);
        }
    }
    let created = sim.stats().assets_created;
    for id in &made {
        seedance_assets::library::delete_asset(&client, id)
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}; {:?}", sim.stats()));
    }
    let lost = sim.stats().faults.values().sum::<u64>();
    assert!(lost > 0, "answers were lost");
    assert_eq!(sim.stats().assets_deleted, 8, "each deleted once, however many answers were lost");
    assert_eq!(sim.stats().assets_created, created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_listing_a_delete_by_id_still_goes() {
    use seedance_assets::api::{AssetType, CreateAssetRequest};
    let sim = Sim::start_local(SimConfig { absent: vec![Endpoint::ListAssets], ..sim_config() }).await.unwrap();
    let group = sim.state().add_group("byid");
    let client = common::client_with(&sim, sim.state().api_key(), std::time::Duration::from_secs(5));
    let req = CreateAssetRequest {
        group_id: group,
        url: "https://cdn.example/i/1.png".into(),
        asset_type: AssetType::Image,
        name: "one".into(),
    };
    let id = client.create_asset(&req).await.unwrap().id;
    let env = Env::new(&sim);
    let (by_status, by_id) = blocking(move || {
        (
            lines(&env, &["library", "delete", "--status", "failed", "--yes"]),
            lines(&env, &["library", "delete", "--id", &id, "--yes"]),
        )
    })
    .await;
    assert_eq!(by_status.0, 1, "a filter needs the listing: {}", by_status.2);
    assert!(by_status.2.contains("has no ListAssets"), "{}", by_status.2);
    assert_eq!(by_id.0, 0, "{}", by_id.2);
    assert!(by_id.2.contains("deleting the ids given") && by_id.2.contains("deleted 1 of 1 asset"), "{}", by_id.2);
    assert_eq!(sim.stats().assets_deleted, 1);
}
