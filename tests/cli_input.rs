//! Input hygiene: credentials in URLs refused (and never echoed), a
//! byte-order mark skipped in input files and the config.

mod clienv;
mod common;

use clienv::{Env, blocking, text};
use seedance_assets::export::JobRecord;
use seedance_assets::sim::Sim;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_refused_and_a_bom_is_skipped() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("hygiene");
    let env = Env::new(&sim);
    // The config itself starts with a BOM.
    let config = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(&env.config, format!("\u{FEFF}{config}")).unwrap();
    let file = env.dir.path().join("urls.txt");
    std::fs::write(
        &file,
        "\u{FEFF}https://cdn.example/bom/first.png\nhttps://alice:hunter2@cdn.example/secret.png\nhttps://bob@cdn.example/user.png\n",
    )
    .unwrap();
    let out = blocking(move || {
        let out = env.run(&["import", "--group", &group, "--file", file.to_str().unwrap(), "--json"], "");
        (env, out)
    })
    .await;
    let (_env, out) = out;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "bad lines skipped: {stderr}");
    assert!(stderr.contains(":2: `https://cdn.example/secret.png` carries a user name or password"), "{stderr}");
    assert!(stderr.contains(":3: `https://cdn.example/user.png` carries a user name"), "{stderr}");
    assert!(!stderr.contains("hunter2") && !stderr.contains("alice"), "{stderr}");
    let jobs: Vec<JobRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].name, "first");
    assert_eq!(jobs[0].url, "https://cdn.example/bom/first.png", "the BOM is not part of the URL");
    assert_eq!(sim.stats().create_asset_requests, 1);
}
