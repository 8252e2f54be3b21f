//! The API client against the real simulator over loopback HTTP: every
//! endpoint, every error variant, every envelope shape and injected fault,
//! and the documented example payloads.

mod common;

use std::time::Duration;

use common::{client_with, quick_sim_config, sim_and_client};
use seedance_assets::api::{
    ApiError, AssetInfo, AssetStatus, AssetType, CreateAssetRequest, CreateGroupRequest, CreatedAsset, CreatedGroup,
    Endpoint, decode_response,
};
use seedance_assets::sim::{Fault, FaultRates, SimConfig};

fn asset(group: &str, url: &str) -> CreateAssetRequest {
    CreateAssetRequest { group_id: group.into(), url: url.into(), asset_type: AssetType::Image, name: "child".into() }
}

async fn wait_final(client: &seedance_assets::api::Client, task: &str) -> AssetInfo {
    for _ in 0..100 {
        let info = client.get_asset(task).await.expect("GetAsset succeeds");
        if info.status != AssetStatus::Processing {
            return info;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("asset never left Processing");
}

#[tokio::test]
async fn every_endpoint_round_trips() {
    let (sim, client) = sim_and_client(quick_sim_config()).await;
    let group = client
        .create_group(&CreateGroupRequest { name: "test".into(), description: Some("this is description".into()) })
        .await
        .unwrap();
    assert!(group.id.starts_with("group-"), "{}", group.id);
    let created = client.create_asset(&asset(&group.id, "https://example.com/reference.webp")).await.unwrap();
    assert!(created.id.starts_with("asset-"));
    let first = client.get_asset(&created.task_id).await.unwrap();
    assert_eq!(first.status, AssetStatus::Processing);
    let info = wait_final(&client, &created.task_id).await;
    assert_eq!(info.status, AssetStatus::Active);
    assert_eq!(info.id.as_deref(), Some(created.id.as_str()));
    assert_eq!(info.group_id.as_deref(), Some(group.id.as_str()));
    assert_eq!(info.error, None);
    let stats = sim.stats();
    assert_eq!((stats.create_group_requests, stats.create_asset_requests, stats.assets_created), (1, 1, 1));
    assert!(stats.get_asset_requests >= 2);
}

#[tokio::test]
async fn failed_assets_carry_their_error_as_object_or_string() {
    for string_errors in [false, true] {
        let (sim, client) = sim_and_client(SimConfig { string_errors, ..quick_sim_config() }).await;
        let group = sim.state().add_group("g");
        let created = client.create_asset(&asset(&group, "https://example.com/fail.png")).await.unwrap();
        let info = wait_final(&client, &created.task_id).await;
        assert_eq!(info.status, AssetStatus::Failed);
        let err = info.error.expect("a Failed asset has an error");
        assert!(err.starts_with("InvalidParameter.DownloadFailed"), "{err}");
    }
}

#[tokio::test]
async fn wrong_key_is_unauthorized() {
    let (sim, _) = sim_and_client(quick_sim_config()).await;
    let bad = client_with(&sim, "not-the-key", Duration::from_secs(2));
    let e = bad.create_group(&CreateGroupRequest { name: "x".into(), description: None }).await.unwrap_err();
    assert!(matches!(e, ApiError::Unauthorized { .. }), "{e:?}");
    assert_eq!(sim.stats().unauthorized, 1);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let (sim, client) = sim_and_client(SimConfig { create_rate: 1, ..quick_sim_config() }).await;
    let group = sim.state().add_group("g");
    client.create_asset(&asset(&group, "https://e.com/1.png")).await.unwrap();
    let e = client.create_asset(&asset(&group, "https://e.com/2.png")).await.unwrap_err();
    assert_eq!(e, ApiError::RateLimited { retry_after: Some(Duration::from_secs(1)) });
    assert!(e.surely_not_processed());
    assert_eq!(sim.stats().rate_limited, 1);
    assert_eq!(sim.stats().assets_created, 1);
}

#[tokio::test]
async fn invalid_input_is_rejected_with_the_server_code() {
    let (sim, client) = sim_and_client(quick_sim_config()).await;
    let group = sim.state().add_group("g");
    let long = CreateGroupRequest { name: "n".repeat(65), description: None };
    assert_eq!(client.create_group(&long).await.unwrap_err().code(), Some("InvalidParameter.Name"));
    let desc = CreateGroupRequest { name: "ok".into(), description: Some("d".repeat(301)) };
    assert_eq!(client.create_group(&desc).await.unwrap_err().code(), Some("InvalidParameter.Description"));
    let e = client.create_asset(&asset("group-nope", "https://e.com/a.png")).await.unwrap_err();
    assert_eq!(e.code(), Some("NotFound.group_id"));
    assert!(!e.surely_not_processed() && !e.is_transient());
    let e = client.create_asset(&asset(&group, "http://e.com/a.png")).await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidParameter.URL"));
    let e = client.get_asset("task_missing").await.unwrap_err();
    assert_eq!(e.code(), Some("NotFound.task_id"));
    assert_eq!(sim.stats().assets_created, 0);
}

async fn with_fault(
    rates: FaultRates,
    timeout: Duration,
) -> (seedance_assets::sim::Sim, Result<CreatedAsset, ApiError>) {
    with_fault_seeded(rates, timeout, 42).await
}

async fn with_fault_seeded(
    rates: FaultRates,
    timeout: Duration,
    seed: u64,
) -> (seedance_assets::sim::Sim, Result<CreatedAsset, ApiError>) {
    let cfg = SimConfig { faults: rates, slow_ms: 1500, seed: Some(seed), ..quick_sim_config() };
    let key = cfg.api_key.clone();
    let sim = seedance_assets::sim::Sim::start_local(cfg).await.unwrap();
    let client = client_with(&sim, &key, timeout);
    let group = sim.state().add_group("g");
    let r = client.create_asset(&asset(&group, "https://e.com/a.png")).await;
    (sim, r)
}

#[tokio::test]
async fn envelope_faults_are_rejections_and_nothing_is_created() {
    for rates in [
        FaultRates { business: 1.0, ..Default::default() },
        FaultRates { framework: 1.0, ..Default::default() },
        FaultRates { gateway: 1.0, ..Default::default() },
    ] {
        let (sim, r) = with_fault(rates.clone(), Duration::from_secs(5)).await;
        let e = r.unwrap_err();
        assert!(matches!(e, ApiError::Rejected { .. }), "{rates:?}: {e:?}");
        assert_eq!(sim.stats().assets_created, 0);
    }
}

/// Each hidden-creation fault of the simulator reaches the client as an
/// error that does not claim "not processed", and the simulator counts the
/// creation it hid.
#[tokio::test]
async fn every_hidden_creation_fault_is_ambiguous_to_the_client() {
    for fault in Fault::ALL.into_iter().filter(|f| f.after_processing() && *f != Fault::Slow) {
        let mut rates = FaultRates::default();
        match fault {
            Fault::Server500 => rates.http500 = 1.0,
            Fault::Server502 => rates.http502 = 1.0,
            Fault::Server503After => rates.http503_after = 1.0,
            Fault::Server504 => rates.http504 = 1.0,
            Fault::Dropped => rates.drop = 1.0,
            Fault::Truncated => rates.truncated = 1.0,
            Fault::Malformed => rates.malformed = 1.0,
            Fault::NoTaskId => rates.no_task = 1.0,
            other => panic!("{other:?} is not a hidden-creation fault"),
        }
        let (sim, r) = with_fault(rates, Duration::from_secs(5)).await;
        match r {
            Err(e) => assert!(!e.surely_not_processed(), "{fault:?}: {e:?}"),
            Ok(c) => assert!(c.task_id.is_empty(), "{fault:?}: {c:?}"),
        }
        assert_eq!(sim.stats().ambiguous_creations.len(), 1, "{fault:?}");
        assert_eq!(sim.stats().assets_created, 1, "{fault:?}");
    }
    let (sim, r) = with_fault(FaultRates { http503: 1.0, ..Default::default() }, Duration::from_secs(5)).await;
    assert!(matches!(r, Err(ApiError::Server { status: 503, .. })), "{r:?}");
    assert_eq!(sim.stats().assets_created, 0, "a 503 before processing creates nothing");
}

#[tokio::test]
async fn dropped_connection_may_have_reached_the_server() {
    let (sim, r) = with_fault(FaultRates { drop: 1.0, ..Default::default() }, Duration::from_secs(5)).await;
    let e = r.unwrap_err();
    assert!(matches!(e, ApiError::Network { may_have_reached_server: true, .. }), "{e:?}");
    assert_eq!(sim.stats().assets_created, 1);
}

#[tokio::test]
async fn slow_response_times_out_as_maybe_reached() {
    let (sim, r) = with_fault(FaultRates { slow: 1.0, ..Default::default() }, Duration::from_millis(300)).await;
    let e = r.unwrap_err();
    assert!(matches!(e, ApiError::Network { may_have_reached_server: true, .. }), "{e:?}");
    assert!(!e.surely_not_processed());
    assert_eq!(sim.stats().ambiguous_creations.len(), 1);
}

#[tokio::test]
async fn malformed_body_is_a_decode_error_naming_the_endpoint() {
    let (_sim, r) = with_fault(FaultRates { malformed: 1.0, ..Default::default() }, Duration::from_secs(5)).await;
    match r.unwrap_err() {
        ApiError::Decode { endpoint, excerpt } => {
            assert_eq!(endpoint, Endpoint::CreateAsset);
            assert!(excerpt.contains("{\"state\":1"), "{excerpt}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn connect_failure_never_reached_the_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = seedance_assets::api::Client::new(seedance_assets::api::ClientOptions {
        base_url: format!("http://127.0.0.1:{port}"),
        api_key: "k".to_string().into(),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        tls: Default::default(),
    })
    .unwrap();
    let e = client.get_asset("t").await.unwrap_err();
    assert!(matches!(e, ApiError::Network { may_have_reached_server: false, .. }), "{e:?}");
    assert!(e.surely_not_processed());
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let e = seedance_assets::api::Client::new(seedance_assets::api::ClientOptions {
        base_url: "http://octopusx.ai".into(),
        api_key: "k".to_string().into(),
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_secs(1),
        tls: Default::default(),
    })
    .unwrap_err();
    assert!(matches!(e, seedance_assets::api::ClientError::BaseUrl(_)), "{e:?}");
    assert!(e.to_string().contains("not loopback"), "{e}");
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/api/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn documented_examples_decode() {
    let g: CreatedGroup =
        decode_response(Endpoint::CreateAssetGroup, 200, None, &fixture("create-asset-group.response.json")).unwrap();
    assert_eq!(g.id, "group-20260412163933-zwxdc");
    let a: CreatedAsset =
        decode_response(Endpoint::CreateAsset, 200, None, &fixture("create-asset.response.json")).unwrap();
    assert_eq!((a.id.as_str(), a.task_id.as_str()), ("asset-xxx", "task_xxx"));
    let info: AssetInfo = decode_response(Endpoint::GetAsset, 200, None, &fixture("get-asset.response.json")).unwrap();
    assert_eq!(info.status, AssetStatus::Active);
    assert_eq!(info.update_time.as_deref(), Some("2026-04-15T11:16:02Z"));
    assert_eq!(info.url.as_deref(), Some("https://example.com/processed.webp"));
    // Our requests serialize to exactly the documented bodies.
    let req: CreateAssetRequest = serde_json::from_slice(&fixture("create-asset.request.json")).unwrap();
    let ours: serde_json::Value = serde_json::to_value(&req).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&fixture("create-asset.request.json")).unwrap();
    assert_eq!(ours, doc);
    let greq: CreateGroupRequest = serde_json::from_slice(&fixture("create-asset-group.request.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&fixture("create-asset-group.request.json")).unwrap();
    assert_eq!(serde_json::to_value(&greq).unwrap(), doc);
}

#[test]
fn fixtures_match_the_shared_examples_when_present() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/api/examples");
    let Ok(entries) = std::fs::read_dir(&shared) else {
        return;
    };
    for e in entries {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        assert_eq!(std::fs::read(e.path()).unwrap(), fixture(&name), "{name} differs from shared/");
    }
}

#[tokio::test]
async fn the_simulator_exposes_its_counters_over_http() {
    let (sim, client) = sim_and_client(SimConfig { create_rate: 1, ..quick_sim_config() }).await;
    let group = sim.state().add_group("g");
    client.create_asset(&asset(&group, "https://e.com/1.png")).await.unwrap();
    client.create_asset(&asset(&group, "https://e.com/1.png")).await.unwrap_err();
    let body = reqwest::get(format!("{}_stats", sim.base_url())).await.unwrap().text().await.unwrap();
    let stats: seedance_assets::sim::SimStats = serde_json::from_str(&body).unwrap();
    assert_eq!(stats, sim.stats());
    assert_eq!((stats.create_asset_requests, stats.rate_limited, stats.assets_created), (2, 1, 1));
}
