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
    assert!(
        stderr.contains(":2: refused: `https://cdn.example/secret.png` carries a user name or password"),
        "{stderr}"
    );
    assert!(stderr.contains(":3: refused: `https://cdn.example/user.png` carries a user name"), "{stderr}");
    assert!(!stderr.contains("hunter2") && !stderr.contains("alice"), "{stderr}");
    let jobs: Vec<JobRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].name, "first");
    assert_eq!(jobs[0].url, "https://cdn.example/bom/first.png", "the BOM is not part of the URL");
    assert_eq!(sim.stats().create_asset_requests, 1);
}

/// A server that answers every request 429 with `Retry-After` as an HTTP date.
async fn rate_limiting_server(retry_after: String) -> String {
    let app = axum::Router::new().fallback(move || {
        let value = retry_after.clone();
        async move { (axum::http::StatusCode::TOO_MANY_REQUESTS, [(axum::http::header::RETRY_AFTER, value)], "") }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_as_an_http_date_is_honoured() {
    use seedance_assets::api::{ApiError, Client, ClientOptions};
    let printer = jiff::fmt::rfc2822::DateTimePrinter::new();
    let now = jiff::Timestamp::now();
    // Two hours ahead: honoured, and capped at one hour. In the past: no wait.
    for (at, want) in [
        (now + jiff::SignedDuration::from_hours(2), std::time::Duration::from_secs(3600)),
        (now - jiff::SignedDuration::from_hours(1), std::time::Duration::ZERO),
    ] {
        let date = printer.timestamp_to_rfc9110_string(&at).unwrap();
        assert!(date.ends_with("GMT"), "{date}");
        let url = rate_limiting_server(date).await;
        let client = Client::new(ClientOptions {
            base_url: url,
            api_key: secrecy::SecretString::from("k".to_string()),
            connect_timeout: std::time::Duration::from_secs(5),
            request_timeout: std::time::Duration::from_secs(10),
            tls: Default::default(),
        })
        .unwrap();
        let e = client.get_asset("task").await.unwrap_err();
        assert_eq!(e, ApiError::RateLimited { retry_after: Some(want) });
    }
}
