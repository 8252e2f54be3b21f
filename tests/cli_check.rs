//! `check` against the simulator: a right key, a wrong key, no server.

mod clienv;

use clienv::{Env, blocking, text};
use seedance_assets::sim::{Sim, SimConfig};
use serde_json::Value;

/// `check --json` as (check → status), and the exit code.
fn check(env: Env, key: &str) -> (Option<i32>, Vec<(String, String)>, String) {
    let out = env.command(["check", "--json"]).env("SEEDANCE_API_KEY", key).output().unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    let rows = rows
        .iter()
        .map(|r| (r["check"].as_str().unwrap().to_string(), r["status"].as_str().unwrap().to_string()))
        .collect();
    (out.status.code(), rows, text(&out.stdout))
}

fn status<'a>(rows: &'a [(String, String)], name: &str) -> &'a str {
    &rows.iter().find(|r| r.0 == name).unwrap_or_else(|| panic!("no {name} in {rows:?}")).1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_key_wrong_key_and_no_server() {
    let sim = Sim::start_local(SimConfig::default()).await.unwrap();
    let (url, key) = (sim.base_url(), sim.state().api_key().to_string());
    let before = sim.stats();

    let (code, rows, json) = blocking({
        let (url, key) = (url.clone(), key.clone());
        move || check(Env::with(&url, &key, ""), &key)
    })
    .await;
    assert_eq!(code, Some(0), "{json}");
    for name in ["config", "key", "server", "auth", "clock"] {
        assert_eq!(status(&rows, name), "ok", "{name}: {json}");
    }
    assert_eq!(status(&rows, "storage"), "skip");
    assert!(json.contains("latency_ms"), "{json}");
    let after = sim.stats();
    assert_eq!(after.assets_created, before.assets_created, "nothing billed");
    assert_eq!(after.create_asset_requests, 0);
    assert_eq!(after.get_asset_requests, 1, "one GetAsset on a task that cannot exist");

    let (code, rows, json) = blocking({
        let url = url.clone();
        move || check(Env::with(&url, "wrong", ""), "wrong-key")
    })
    .await;
    assert_eq!(code, Some(3), "a refused key exits 3: {json}");
    assert_eq!(status(&rows, "server"), "ok");
    assert_eq!(status(&rows, "auth"), "fail");
    assert_eq!(sim.stats().unauthorized, 1);

    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (code, rows, json) =
        blocking(move || check(Env::with(&format!("http://127.0.0.1:{port}/"), "k", ""), "k")).await;
    assert_eq!(code, Some(4), "an unreachable server exits 4: {json}");
    assert_eq!(status(&rows, "server"), "fail");
    assert_eq!(status(&rows, "auth"), "skip");

    // No key at all: a usage/config failure, nothing sent.
    let (code, rows, json) = blocking(move || check(Env::with(&url, "", ""), "")).await;
    assert_eq!(code, Some(2), "{json}");
    assert_eq!(status(&rows, "key"), "fail");
    assert_eq!(status(&rows, "server"), "skip");
}

#[test]
fn plain_output_is_one_line_per_check() {
    let env = Env::with("http://127.0.0.1:9/", "k", "");
    let out = env.command(["check"]).output().unwrap();
    let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
    let names: Vec<&str> = lines.iter().filter_map(|l| l.split_whitespace().nth(1)).collect();
    assert_eq!(
        names,
        ["config", "perms", "key", "server", "auth", "clock", "storage", "conform", "terminal"],
        "{lines:?}"
    );
}

/// `check --json` with these extra environment variables: the rows and the
/// storage row's detail.
fn check_with(env: &Env, vars: &[(&str, &str)]) -> (Option<i32>, Vec<(String, String)>, String) {
    let mut c = env.command(["check", "--json"]);
    for (k, v) in vars {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    let storage = rows.iter().find(|r| r["check"] == "storage").map(|r| r["detail"].to_string()).unwrap_or_default();
    let rows = rows
        .iter()
        .map(|r| (r["check"].as_str().unwrap().to_string(), r["status"].as_str().unwrap().to_string()))
        .collect();
    (out.status.code(), rows, storage)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bucket_is_really_checked_and_nothing_is_left_in_it() {
    let sim = Sim::start_local(SimConfig::default()).await.unwrap();
    let base = sim.base_url();
    let storage = |bucket: &str| {
        format!("[storage]\nendpoint = \"{base}\"\nbucket = \"{bucket}\"\nprefix = \"refs\"\npath_style = true\n")
    };
    let good = Env::with(&base, sim.state().api_key(), &storage("sim-bucket"));
    let wrong_bucket = Env::with(&base, sim.state().api_key(), &storage("no-such-bucket"));
    let keys = [("AWS_ACCESS_KEY_ID", "sim-access-key"), ("AWS_SECRET_ACCESS_KEY", "sim-secret-key")];
    let wrong_secret = [("AWS_ACCESS_KEY_ID", "sim-access-key"), ("AWS_SECRET_ACCESS_KEY", "wrong")];
    let (ok, bad_secret, bad_bucket, demo) = blocking(move || {
        let demo = {
            let out = good.command(["--demo", "check", "--json"]).output().unwrap();
            let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
            rows.iter().find(|r| r["check"] == "storage").unwrap()["status"].as_str().unwrap().to_string()
        };
        (check_with(&good, &keys), check_with(&good, &wrong_secret), check_with(&wrong_bucket, &keys), demo)
    })
    .await;
    let (code, rows, detail) = ok;
    assert_eq!(status(&rows, "storage"), "ok", "{detail}");
    assert_eq!(code, Some(0), "{detail}");
    assert!(detail.contains("written, found and deleted"), "{detail}");
    let bucket = sim.bucket().stats();
    assert_eq!((bucket.puts, bucket.deletes, bucket.objects), (1, 1, 0), "the probe is gone: {bucket:?}");
    let (code, rows, detail) = bad_secret;
    assert_eq!(status(&rows, "storage"), "fail");
    assert_eq!(code, Some(2));
    assert!(detail.contains("SignatureDoesNotMatch"), "the bucket's own word: {detail}");
    let (_, rows, detail) = bad_bucket;
    assert_eq!(status(&rows, "storage"), "fail");
    assert!(detail.contains("NoSuchBucket"), "{detail}");
    assert_eq!(demo, "ok", "the demo's bucket is checked too");
    assert_eq!(sim.bucket().stats().objects, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_base_url_path_does_not_read_as_key_accepted() {
    let sim = Sim::start_local(SimConfig::default()).await.unwrap();
    let url = format!("{}wrong/path/", sim.base_url());
    let key = sim.state().api_key().to_string();
    let (code, rows, json) = blocking(move || check(Env::with(&url, &key, ""), &key)).await;
    assert_eq!(status(&rows, "auth"), "warn", "{json}");
    assert!(json.contains("check the path of api.base_url"), "{json}");
    assert_eq!(code, Some(1));
}
